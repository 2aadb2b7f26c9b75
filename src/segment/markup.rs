//! Markup: reStructuredText, AsciiDoc, Markdown and plain text → text whose non-prose regions
//! are blanked, byte for byte, so that the segmenter (which knows Markdown) sees only prose.
//!
//! Input: a document's text and its [`Markup`]. Output: a [`Prepared`] text of exactly the
//! same length, with every line break where it was (spans and line numbers keep pointing at
//! the original bytes), plus the offsets of inline suppression markers
//! (`<!-- deja-ignore -->`, `.. deja-ignore`, `// deja-ignore`) and the lines that are section
//! titles. [`super::prose`] puts the three together.
//!
//! Blanked: reST literal blocks (`::`), code/include/toctree/table/math/raw directives,
//! comments, link targets, substitution definitions, simple and grid tables, doctest blocks;
//! AsciiDoc listing/literal/passthrough/comment blocks and tables, attribute lines, block titles,
//! block macros, line comments, admonition labels; Markdown HTML comments. AsciiDoc links keep
//! only their text, and a paragraph or list item of nothing but links (a link list, in reST or
//! AsciiDoc) is blanked whole. Section titles keep only their text: reST adornments and
//! AsciiDoc `=` markers and underlines are blanked. Indented prose in reST (directive bodies,
//! block quotes, definitions) would read as Markdown indented code: its first indentation byte
//! becomes a vertical tab (whitespace to every later stage).

use std::borrow::Cow;

/// The markup language of a document.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Markup {
    /// `.md`, `.markdown` (and anything unknown): the segmenter reads it as it is, HTML
    /// comments blanked.
    Markdown,
    /// `.rst`, `.rest`.
    Rst,
    /// `.adoc`, `.asciidoc`, `.asc`.
    AsciiDoc,
    /// `.txt` (when its content shows no reST or AsciiDoc): read as it is.
    Text,
}

impl Markup {
    /// The markup of a path, by its extension.
    pub fn of_path(path: &str) -> Markup {
        let ext = path
            .rsplit_once('.')
            .map(|(_, e)| e.to_ascii_lowercase())
            .unwrap_or_default();
        match ext.as_str() {
            "rst" | "rest" => Markup::Rst,
            "adoc" | "asciidoc" | "asc" => Markup::AsciiDoc,
            "txt" | "text" => Markup::Text,
            _ => Markup::Markdown,
        }
    }
}

impl Markup {
    /// The markup of a file by its extension, and for `.txt` files by their content: reST
    /// directives or targets (`.. name::`, `.. _label:`) make it reST, AsciiDoc blocks, includes
    /// and `[source]` attributes make it AsciiDoc, anything else is plain text.
    pub fn detect(path: &str, text: &str) -> Markup {
        let by_ext = Markup::of_path(path);
        if by_ext != Markup::Text {
            return by_ext;
        }
        let (mut rst, mut adoc) = (0, 0);
        for line in text.lines().take(2000) {
            let t = line.trim_end();
            if let Some(rest) = t.trim_start().strip_prefix(".. ") {
                if directive(rest).is_some() || rest.starts_with('_') {
                    rst += 1;
                }
            } else if matches!(t, "----" | "...." | "|===" | "////")
                || t.starts_with("[source")
                || (t.starts_with("include::") && t.ends_with(']'))
                || t.starts_with("linkgit:")
                || t.contains(" linkgit:")
            {
                adoc += 1;
            }
        }
        if rst > adoc {
            Markup::Rst
        } else if adoc > rst {
            Markup::AsciiDoc
        } else {
            Markup::Text
        }
    }
}

impl Markup {
    /// The text that suppresses the finding of the paragraph at `start` in `text` (an inline
    /// marker written as this markup writes comments, indented as the paragraph's line), and
    /// where it goes: the start of that line.
    ///
    /// ```
    /// use deja::segment::{prose, Markup};
    /// let text = "Intro.\n\n  Said before.\n";
    /// let (at, marker) = Markup::Rst.suppression_marker(text, 10);
    /// assert_eq!((at, marker.as_str()), (8, "  .. deja-ignore\n\n"));
    /// let fixed = format!("{}{marker}{}", &text[..at], &text[at..]);
    /// assert!(prose(&fixed, Markup::Rst).segments[1].suppressed);
    /// ```
    pub fn suppression_marker(self, text: &str, start: usize) -> (usize, String) {
        let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
        let indent: String = text[line_start..start]
            .chars()
            .take_while(|c| c.is_whitespace())
            .collect();
        let marker = match self {
            Markup::Markdown | Markup::Text => format!("{indent}<!-- {MARKER} -->\n"),
            // A reST comment takes the indented lines after it: a blank line ends it.
            Markup::Rst => format!("{indent}.. {MARKER}\n\n"),
            Markup::AsciiDoc => format!("{indent}// {MARKER}\n"),
        };
        (line_start, marker)
    }
}

/// A text ready for the segmenter: same length and line breaks as the original.
#[derive(Clone, Debug)]
pub struct Prepared<'a> {
    /// The text with non-prose regions blanked.
    pub text: Cow<'a, str>,
    /// Byte offsets of inline suppression markers: the next paragraph after each is suppressed.
    pub markers: Vec<usize>,
    /// 0-based indices, ascending, of the lines that are section titles (their adornments or
    /// markers blanked, their text kept).
    pub headings: Vec<usize>,
}

const MARKER: &str = "deja-ignore";

/// Blanks the non-prose regions of `text` written in `markup`.
pub fn prepare(text: &str, markup: Markup) -> Prepared<'_> {
    match markup {
        Markup::Markdown => markdown(text),
        // `segment` reads Markdown's `<!-- deja-ignore -->` lines itself, outside code.
        Markup::Text => Prepared {
            text: Cow::Borrowed(text),
            markers: Vec::new(),
            headings: Vec::new(),
        },
        Markup::Rst => {
            let mut b = Blanker::new(text);
            rst(&mut b);
            blank_rst_roles(&mut b.out);
            b.finish()
        }
        Markup::AsciiDoc => {
            let mut b = Blanker::new(text);
            asciidoc(&mut b);
            blank_adoc_macros(&mut b.out);
            b.finish()
        }
    }
}

/// Lines of the original and a mutable copy of its bytes.
struct Blanker<'a> {
    text: &'a str,
    out: Vec<u8>,
    /// (start, end) of each line without its terminator.
    lines: Vec<(usize, usize)>,
    markers: Vec<usize>,
    headings: Vec<usize>,
}

impl<'a> Blanker<'a> {
    fn new(text: &'a str) -> Self {
        let mut lines = Vec::new();
        let mut start = 0;
        for (i, b) in text.bytes().enumerate() {
            if b == b'\n' {
                let end = if i > start && text.as_bytes()[i - 1] == b'\r' {
                    i - 1
                } else {
                    i
                };
                lines.push((start, end));
                start = i + 1;
            }
        }
        if start < text.len() {
            lines.push((start, text.len()));
        }
        Blanker {
            text,
            out: text.as_bytes().to_vec(),
            lines,
            markers: Vec::new(),
            headings: Vec::new(),
        }
    }

    fn line(&self, i: usize) -> &'a str {
        let (s, e) = self.lines[i];
        &self.text[s..e]
    }

    fn blank_line(&mut self, i: usize) {
        let (s, e) = self.lines[i];
        self.out[s..e].iter_mut().for_each(|b| *b = b' ');
    }

    fn blank_lines(&mut self, from: usize, to: usize) {
        (from..to.min(self.lines.len())).for_each(|i| self.blank_line(i));
    }

    /// Blanks `len` bytes of line `i` from byte `from` of the line.
    fn blank_part(&mut self, i: usize, from: usize, len: usize) {
        let (s, e) = self.lines[i];
        let a = (s + from).min(e);
        let b = (s + from + len).min(e);
        self.out[a..b].iter_mut().for_each(|b| *b = b' ');
    }

    /// Makes an indented prose line not read as indented code.
    fn unindent(&mut self, i: usize) {
        let (s, e) = self.lines[i];
        if e > s && matches!(self.out[s], b' ' | b'\t') {
            self.out[s] = 0x0b;
        }
    }

    fn marker(&mut self, i: usize) {
        self.markers.push(self.lines[i].0);
    }

    /// Line `i` is a section title.
    fn heading(&mut self, i: usize) {
        self.headings.push(i);
    }

    fn is_blank(&self, i: usize) -> bool {
        self.line(i).trim().is_empty()
    }

    fn finish(self) -> Prepared<'a> {
        // Only ASCII bytes replaced whole lines or ASCII runs, and multi-byte chars were
        // blanked whole (every byte of a line or of an ASCII label): still UTF-8.
        let text = String::from_utf8(self.out)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
        let mut headings = self.headings;
        headings.sort_unstable();
        headings.dedup();
        Prepared {
            text: Cow::Owned(text),
            markers: self.markers,
            headings,
        }
    }
}

fn indent_of(line: &str) -> usize {
    line.bytes()
        .take_while(|&b| b == b' ' || b == b'\t')
        .map(|b| if b == b'\t' { 8 } else { 1 })
        .sum()
}

/// Index of the first line at or after `from` that is non-blank and indented `<= indent`.
fn block_end(b: &Blanker, from: usize, indent: usize) -> usize {
    let mut j = from;
    while j < b.lines.len() {
        if !b.is_blank(j) && indent_of(b.line(j)) <= indent {
            break;
        }
        j += 1;
    }
    j
}

/// Directives whose body is not prose.
const RST_CODE_DIRECTIVES: &[&str] = &[
    "code-block",
    "code",
    "sourcecode",
    "literalinclude",
    "highlight",
    "toctree",
    "math",
    "raw",
    "csv-table",
    "list-table",
    "table",
    "image",
    "figure",
    "include",
    "doctest",
    "testcode",
    "testoutput",
    "testsetup",
    "testcleanup",
    "productionlist",
    "graphviz",
    "digraph",
    "graph",
    "plot",
    "mermaid",
    "uml",
    "ipython",
    "jupyter-execute",
    "parsed-literal",
    "tabularcolumns",
    "index",
    "contents",
    "meta",
    "sectionauthor",
    "moduleauthor",
    "codeauthor",
    "default-role",
    "role",
    "currentmodule",
    "program",
    "literal",
];

/// Admonitions: the text after `::` on the first line is prose too.
const RST_ADMONITIONS: &[&str] = &[
    "note",
    "warning",
    "tip",
    "hint",
    "important",
    "caution",
    "attention",
    "danger",
    "error",
    "seealso",
];

fn rst(b: &mut Blanker) {
    let n = b.lines.len();
    let mut i = 0;
    let mut para_indent: Option<usize> = None;
    while i < n {
        let line = b.line(i);
        let t = line.trim();
        if t.is_empty() {
            para_indent = None;
            i += 1;
            continue;
        }
        let indent = indent_of(line);
        // Explicit markup: directives, comments, targets, substitutions, footnotes.
        if t == ".." || t.starts_with(".. ") {
            let end = block_end(b, i + 1, indent);
            let rest = t.get(3..).unwrap_or("").trim();
            if let Some((name, after)) = directive(rest) {
                let name = name.rsplit(':').next().unwrap_or(name).to_ascii_lowercase();
                if RST_CODE_DIRECTIVES.contains(&name.as_str())
                    || name.starts_with("auto")
                    || rest.starts_with('|')
                {
                    b.blank_lines(i, end);
                } else {
                    // Prose body: blank the header (keeping an admonition's own text) and the
                    // option lines right after it.
                    if RST_ADMONITIONS.contains(&name.as_str()) && !after.trim().is_empty() {
                        let cut = line.len() - after.len();
                        b.blank_part(i, 0, cut);
                        b.unindent(i);
                    } else {
                        b.blank_line(i);
                    }
                    let mut j = i + 1;
                    while j < end && is_directive_option(b.line(j).trim()) {
                        b.blank_line(j);
                        j += 1;
                    }
                    while j < end {
                        b.unindent(j);
                        j += 1;
                    }
                    // The body is processed line by line (nested literal blocks, lists).
                    i += 1;
                    para_indent = None;
                    continue;
                }
            } else if rest.starts_with('[') {
                // A footnote or citation: its text is prose.
                (i + 1..end).for_each(|j| b.unindent(j));
                i += 1;
                continue;
            } else {
                // A comment or a hyperlink target.
                if rest.contains(MARKER) {
                    b.marker(i);
                }
                b.blank_lines(i, end);
            }
            para_indent = None;
            i = end;
            continue;
        }
        // Doctest blocks.
        if t.starts_with(">>>") {
            let mut j = i;
            while j < n && !b.is_blank(j) {
                j += 1;
            }
            b.blank_lines(i, j);
            i = j;
            continue;
        }
        // Grid tables.
        if t.starts_with("+-") || t.starts_with("+=") {
            let mut j = i;
            while j < n && !b.is_blank(j) {
                j += 1;
            }
            b.blank_lines(i, j);
            i = j;
            para_indent = None;
            continue;
        }
        // Simple tables: `===  ===` borders, closed by a border followed by a blank line.
        if is_simple_table_border(t) {
            let mut j = i + 1;
            while j < n {
                if is_simple_table_border(b.line(j).trim()) && (j + 1 >= n || b.is_blank(j + 1)) {
                    break;
                }
                j += 1;
            }
            b.blank_lines(i, j + 1);
            i = j + 1;
            para_indent = None;
            continue;
        }
        // Section adornments are blanked: under a line of text, that line is a section title;
        // an overline or a transition has no text before it.
        if indent == 0 && is_adornment(t) {
            if i > 0 && !b.is_blank(i - 1) && para_indent.is_some() {
                b.heading(i - 1);
            }
            b.blank_line(i);
            para_indent = None;
            i += 1;
            continue;
        }
        // A paragraph or a list item of nothing but links is not prose (a link list).
        if let Some(end) = link_block(b, i, para_indent.is_none(), rst_link_len) {
            b.blank_lines(i, end);
            para_indent = None;
            i = end;
            continue;
        }
        if indent > 0 {
            b.unindent(i);
        }
        // A line opening with a substitution (`|release| warns …`) is text, not a table row or
        // a line block (`| `).
        if t.len() > 1 && t.starts_with('|') && !t[1..].starts_with([' ', '|']) {
            let s = b.lines[i].0 + (line.len() - line.trim_start().len());
            b.out[s] = b' ';
        }
        let first_of_paragraph = para_indent.is_none();
        if first_of_paragraph {
            para_indent = Some(indent);
        }
        // A literal block follows a paragraph that ends with `::`.
        if t.ends_with("::") && !t.starts_with(':') || t == "::" {
            if t == "::" {
                b.blank_line(i);
            }
            let base = para_indent.unwrap_or(indent);
            let mut j = i + 1;
            while j < n && b.is_blank(j) {
                j += 1;
            }
            if j < n && indent_of(b.line(j)) > base {
                let end = block_end(b, j, base);
                b.blank_lines(j, end);
                i = end;
                para_indent = None;
                continue;
            }
        }
        i += 1;
    }
}

/// Blanks the names of reST roles (`:ref:`, `:prop_tgt:`, `:py:func:` before a backquote):
/// markup, not words of the text.
fn blank_rst_roles(out: &mut [u8]) {
    let mut i = 0;
    while i < out.len() {
        if out[i] == b':'
            && (i == 0 || !out[i - 1].is_ascii_alphanumeric())
            && out.get(i + 1).is_some_and(u8::is_ascii_alphabetic)
        {
            let mut j = i + 1;
            while j < out.len()
                && (out[j].is_ascii_alphanumeric()
                    || matches!(out[j], b'_' | b'-' | b':' | b'.' | b'+'))
            {
                j += 1;
            }
            // The name ends with `:` and a backquote follows.
            if j < out.len() && out[j] == b'`' && out[j - 1] == b':' && j - i > 2 {
                out[i..j].iter_mut().for_each(|b| *b = b' ');
                i = j;
                continue;
            }
        }
        i += 1;
    }
}

/// Blanks the names of AsciiDoc inline macros (`linkgit:`, `xref:`, `kbd:` …).
fn blank_adoc_macros(out: &mut [u8]) {
    const NAMES: &[&[u8]] = &[
        b"linkgit:",
        b"xref:",
        b"link:",
        b"footnote:",
        b"kbd:",
        b"btn:",
        b"menu:",
        b"image:",
        b"mailto:",
    ];
    let mut i = 0;
    while i < out.len() {
        // Cross references `<<id,label>>` keep their label; anchors `[[id]]` go.
        if out[i..].starts_with(b"<<") || out[i..].starts_with(b"[[") {
            let close: &[u8] = if out[i] == b'<' { b">>" } else { b"]]" };
            let end = out[i + 2..]
                .windows(2)
                .take(200)
                .position(|w| w == close)
                .map(|k| i + 2 + k);
            if let Some(end) = end {
                let inner = &out[i + 2..end];
                let cut = if close == b"]]" {
                    end
                } else {
                    inner
                        .iter()
                        .position(|&c| c == b',')
                        .map_or(i + 2, |k| i + 2 + k + 1)
                };
                if !inner.contains(&b'\n') {
                    out[i..cut].iter_mut().for_each(|b| *b = b' ');
                    out[end..end + 2].iter_mut().for_each(|b| *b = b' ');
                    i = end + 2;
                    continue;
                }
            }
        }
        if i == 0 || !out[i - 1].is_ascii_alphanumeric() {
            // Links keep only their text: `link:https://x[Text,window=_blank]` → `Text`.
            if let Some((from, to, end)) = adoc_link(&out[i..]) {
                out[i..i + from].iter_mut().for_each(|b| *b = b' ');
                out[i + to..i + end].iter_mut().for_each(|b| *b = b' ');
                i += end;
                continue;
            }
            if let Some(n) = NAMES.iter().find(|n| out[i..].starts_with(n)) {
                let len = n.len();
                out[i..i + len].iter_mut().for_each(|b| *b = b' ');
                i += len;
                continue;
            }
        }
        i += 1;
    }
}

/// An AsciiDoc link at the start of `s`: `link:target[text]`, `xref:target[text]`,
/// `mailto:address[text]` or a URL (`https://…[text]`, also http, ftp, irc) with a text. The
/// offsets in `s` of the text's start and end (attributes such as `,window=_blank` and a
/// trailing `^` are not text) and of the macro's end.
fn adoc_link(s: &[u8]) -> Option<(usize, usize, usize)> {
    const PREFIXES: &[&[u8]] = &[
        b"link:",
        b"xref:",
        b"mailto:",
        b"https://",
        b"http://",
        b"ftp://",
        b"irc://",
    ];
    let p = PREFIXES.iter().find(|p| s.starts_with(p))?.len();
    let open = p + s[p..]
        .iter()
        .position(|&c| c == b'[' || c.is_ascii_whitespace())?;
    if s[open] != b'[' || open == p {
        return None;
    }
    let close = open
        + 1
        + s[open + 1..]
            .iter()
            .position(|&c| c == b']' || c == b'\n')?;
    if s[close] != b']' {
        return None;
    }
    let text = &s[open + 1..close];
    let attributes = text.iter().enumerate().find_map(|(k, &c)| {
        let rest = text[k + 1..].trim_ascii_start();
        let name = rest.iter().take_while(|c| c.is_ascii_alphabetic()).count();
        (c == b',' && name > 0 && rest.get(name) == Some(&b'=')).then_some(k)
    });
    let mut to = open + 1 + attributes.unwrap_or(text.len());
    if to > open + 1 && s[to - 1] == b'^' {
        to -= 1;
    }
    Some((open + 1, to, close + 1))
}

/// The line without its AsciiDoc or reST list marker (`*`, `**`, `-`, `.`, `1.`, `#.`, `a)` …
/// and a space), or as it is.
fn strip_list_marker(t: &str) -> &str {
    let b = t.as_bytes();
    let marker = match b.first() {
        Some(b'*' | b'.') => b.iter().take_while(|&&c| c == b[0]).count(),
        Some(b'-' | b'+') => 1,
        Some(0xE2) if t.starts_with('•') => '•'.len_utf8(),
        Some(b'#') if t.starts_with("#.") => 2,
        Some(c) if c.is_ascii_alphanumeric() => {
            let n = b.iter().take_while(|c| c.is_ascii_alphanumeric()).count();
            match b.get(n) {
                Some(b'.' | b')') if n <= 3 => n + 1,
                _ => 0,
            }
        }
        _ => 0,
    };
    match t.get(marker..) {
        Some(rest) if marker > 0 && rest.starts_with([' ', '\t']) => rest.trim_start(),
        _ => t,
    }
}

/// When line `i` opens a paragraph (`opens`) or a list item, and it and its continuation lines
/// hold nothing but links: the index of the line after them.
fn link_block(
    b: &Blanker,
    i: usize,
    opens: bool,
    link: impl Fn(&[u8]) -> Option<usize> + Copy,
) -> Option<usize> {
    let t = b.line(i);
    if !(opens || is_list_item(t)) || !is_link_line(t, link) {
        return None;
    }
    let mut j = i + 1;
    while j < b.lines.len() && !b.is_blank(j) && !is_list_item(b.line(j)) {
        if !is_link_line(b.line(j), link) {
            return None;
        }
        j += 1;
    }
    Some(j)
}

/// A line that opens a list item.
fn is_list_item(t: &str) -> bool {
    let t = t.trim();
    strip_list_marker(t).len() != t.len()
}

/// A line of nothing but links, with its list marker: an item of a link list (the links of
/// the line that `link` finds at a given byte: their lengths), not prose.
fn is_link_line(t: &str, link: impl Fn(&[u8]) -> Option<usize>) -> bool {
    let s = strip_list_marker(t.trim()).as_bytes();
    let (mut i, mut links) = (0, 0);
    while i < s.len() {
        if matches!(s[i], b' ' | b'\t' | b',' | b';' | b'|') {
            i += 1;
        } else if let Some(len) = link(&s[i..]) {
            links += 1;
            i += len;
        } else {
            return false;
        }
    }
    links > 0
}

/// The length of the AsciiDoc link or cross reference (`<<id,label>>`) at the start of `s`.
fn adoc_link_len(s: &[u8]) -> Option<usize> {
    if s.starts_with(b"<<") {
        return s.windows(2).position(|w| w == b">>").map(|k| k + 2);
    }
    adoc_link(s).map(|(_, _, end)| end)
}

/// The length of the reST hyperlink reference (`` `Text <https://x>`_ ``, `` `Text`__ ``) or
/// cross-reference role (`` :doc:`install` ``) at the start of `s`.
fn rst_link_len(s: &[u8]) -> Option<usize> {
    let open = if s.first() == Some(&b':') {
        let name = 1 + s[1..]
            .iter()
            .take_while(|&&c| c.is_ascii_alphanumeric() || matches!(c, b':' | b'-' | b'_'))
            .count();
        (name > 2 && s[name - 1] == b':' && s.get(name) == Some(&b'`')).then_some(name)?
    } else {
        (s.first() == Some(&b'`')).then_some(0)?
    };
    let close = open + 1 + s[open + 1..].iter().position(|&c| c == b'`')?;
    let underscores = s[close + 1..].iter().take_while(|&&c| c == b'_').count();
    if open == 0 && !(1..=2).contains(&underscores) {
        return None;
    }
    Some(close + 1 + underscores)
}

/// A directive option `:name: value` (not a role `:name:`text``).
fn is_directive_option(t: &str) -> bool {
    let Some(rest) = t.strip_prefix(':') else {
        return false;
    };
    match rest.find(':') {
        Some(k) if k > 0 => {
            rest[..k]
                .chars()
                .all(|c| c.is_alphanumeric() || c == '-' || c == '_' || c == ' ')
                && (rest[k + 1..].is_empty() || rest[k + 1..].starts_with(' '))
        }
        _ => false,
    }
}

/// `name:: args` → (name, args) for a directive.
fn directive(rest: &str) -> Option<(&str, &str)> {
    let k = rest.find("::")?;
    let name = &rest[..k];
    let valid = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || "-_:.+".contains(c));
    let after = &rest[k + 2..];
    (valid && (after.is_empty() || after.starts_with(' '))).then_some((name, after))
}

fn is_adornment(t: &str) -> bool {
    let mut chars = t.chars();
    let Some(c) = chars.next() else {
        return false;
    };
    t.len() >= 3 && "=-~^\"'`#*+_:.<>".contains(c) && t.chars().all(|x| x == c)
}

fn is_simple_table_border(t: &str) -> bool {
    t.starts_with('=')
        && t.contains(' ')
        && t.bytes().all(|b| b == b'=' || b == b' ')
        && t.split_whitespace().count() >= 2
}

/// AsciiDoc delimiters of blocks whose content is not prose.
fn adoc_code_delimiter(t: &str) -> bool {
    let all = |c: u8| t.len() >= 4 && t.bytes().all(|b| b == c);
    all(b'-') || all(b'.') || all(b'+') || all(b'/')
}

/// AsciiDoc delimiters of blocks whose content is prose (only the delimiter is blanked).
fn adoc_prose_delimiter(t: &str) -> bool {
    let all = |c: u8| t.len() >= 4 && t.bytes().all(|b| b == c);
    t == "--" || all(b'=') || all(b'*') || all(b'_')
}

fn adoc_table_delimiter(t: &str) -> bool {
    let b = t.as_bytes();
    b.len() >= 4 && matches!(b[0], b'|' | b',' | b':' | b'!') && b[1..].iter().all(|&c| c == b'=')
}

fn asciidoc(b: &mut Blanker) {
    let n = b.lines.len();
    let mut i = 0;
    let mut previous_blank = true;
    let mut code_next = false;
    while i < n {
        let line = b.line(i);
        let t = line.trim_end();
        if t.trim().is_empty() {
            previous_blank = true;
            i += 1;
            continue;
        }
        // A two-line section title: `Title` underlined by `=`, `-`, `~`, `^` or `+` of its length.
        if !previous_blank && i > 0 {
            let title_len = b.line(i - 1).trim_end().chars().count();
            let c = t.as_bytes()[0];
            if b"=-~^+".contains(&c)
                && t.bytes().all(|x| x == c)
                && t.len() + 2 >= title_len
                && t.len() <= title_len + 2
                && t.len() >= 2
            {
                b.heading(i - 1);
                b.blank_line(i);
                previous_blank = true;
                i += 1;
                continue;
            }
        }
        if adoc_code_delimiter(t) || adoc_table_delimiter(t) {
            let mut j = i + 1;
            while j < n && b.line(j).trim_end() != t {
                j += 1;
            }
            if t.starts_with("////") && (i..j.min(n)).any(|k| b.line(k).contains(MARKER)) {
                b.marker(i);
            }
            b.blank_lines(i, j + 1);
            i = j + 1;
            previous_blank = true;
            code_next = false;
            continue;
        }
        if adoc_prose_delimiter(t) {
            b.blank_line(i);
            previous_blank = true;
            i += 1;
            continue;
        }
        if t.starts_with("//") {
            if t.contains(MARKER) {
                b.marker(i);
            }
            b.blank_line(i);
            i += 1;
            continue;
        }
        // Block attributes and anchors: `[source,python]`, `[NOTE]`, `[[id]]`.
        if t.starts_with('[') && t.ends_with(']') {
            let lower = t.to_ascii_lowercase();
            if lower.starts_with("[source")
                || lower.starts_with("[listing")
                || lower.starts_with("[literal")
                || lower.starts_with("[subs")
                || lower.starts_with("[verse")
                || lower.starts_with("[,")
            {
                code_next = true;
            }
            b.blank_line(i);
            i += 1;
            continue;
        }
        // Block titles `.Title`, attribute entries `:name: value`, block macros `image::x[]`,
        // list continuations `+`.
        let is_title = t.starts_with('.') && t.len() > 1 && !t[1..].starts_with([' ', '.']);
        let is_attribute = t.starts_with(':')
            && t[1..]
                .find(':')
                .is_some_and(|k| k > 0 && !t[1..1 + k].contains(' '));
        let is_macro = t.contains("::")
            && t.ends_with(']')
            && t.split("::").next().is_some_and(|m| {
                !m.is_empty() && m.chars().all(|c| c.is_alphanumeric() || c == '-')
            });
        if is_title || is_attribute || is_macro || t == "+" {
            b.blank_line(i);
            i += 1;
            continue;
        }
        if code_next || (previous_blank && line.starts_with(' ')) {
            // A `[source]` paragraph or a literal (indented) paragraph.
            let mut j = i;
            while j < n && !b.is_blank(j) {
                j += 1;
            }
            b.blank_lines(i, j);
            i = j;
            code_next = false;
            continue;
        }
        // Section titles `== Title` (or `== Title ==`): the markers are blanked.
        let eq = t.bytes().take_while(|&c| c == b'=').count();
        if (1..=6).contains(&eq) && t.as_bytes().get(eq) == Some(&b' ') {
            b.blank_part(i, 0, eq);
            let closing = &t[..eq];
            if t.len() > 2 * eq + 1 && t.ends_with(closing) && t[..t.len() - eq].ends_with(' ') {
                b.blank_part(i, t.len() - eq, eq);
            }
            b.unindent(i);
            b.heading(i);
            previous_blank = true;
            i += 1;
            continue;
        }
        // A paragraph or a list item of nothing but links is not prose (a link list).
        if let Some(end) = link_block(b, i, previous_blank, adoc_link_len) {
            b.blank_lines(i, end);
            previous_blank = true;
            i = end;
            continue;
        }
        // Admonition labels.
        for label in ["NOTE: ", "TIP: ", "IMPORTANT: ", "WARNING: ", "CAUTION: "] {
            if t.starts_with(label) {
                b.blank_part(i, 0, label.len());
                b.unindent(i);
            }
        }
        previous_blank = false;
        i += 1;
    }
}

/// Markdown: HTML comments are blanked, except suppression markers (`segment` reads them).
fn markdown(text: &str) -> Prepared<'_> {
    let markers = Vec::new();
    if !text.contains("<!--") {
        return Prepared {
            text: Cow::Borrowed(text),
            markers,
            headings: Vec::new(),
        };
    }
    let mut out = text.as_bytes().to_vec();
    let mut pos = 0;
    let mut changed = false;
    while let Some(k) = text[pos..].find("<!--") {
        let start = pos + k;
        let line_start = text[..start].rfind('\n').map_or(0, |x| x + 1);
        let Some(close) = text[start..].find("-->").map(|c| start + c + 3) else {
            break;
        };
        let at_line_start = text[line_start..start].trim().is_empty();
        if at_line_start && !text[start..close].contains(MARKER) {
            out[start..close]
                .iter_mut()
                .filter(|b| **b != b'\n' && **b != b'\r')
                .for_each(|b| *b = b' ');
            changed = true;
        }
        pos = close;
    }
    if !changed {
        return Prepared {
            text: Cow::Borrowed(text),
            markers,
            headings: Vec::new(),
        };
    }
    let text = String::from_utf8(out)
        .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
    Prepared {
        text: Cow::Owned(text),
        markers,
        headings: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::segment::{prose, SegmentKind};

    /// The segments' text in the original.
    fn texts(text: &str, markup: Markup) -> Vec<String> {
        let p = prose(text, markup);
        assert_eq!(p.text.len(), text.len());
        assert_eq!(
            p.text.matches('\n').count(),
            text.matches('\n').count(),
            "line breaks kept"
        );
        p.segments
            .iter()
            .map(|s| s.span.slice(text).to_string())
            .collect()
    }

    fn kinds(text: &str, markup: Markup) -> Vec<(String, SegmentKind, usize)> {
        prose(text, markup)
            .segments
            .iter()
            .map(|s| (s.span.slice(text).to_string(), s.kind, s.line))
            .collect()
    }

    #[test]
    fn rst_section_titles_are_headings_on_their_text() {
        use SegmentKind::*;
        let text = "=========\n Overview\n=========\n\nIntro paragraph here.\n\n\
                    1. Installation\n---------------\n\nInstall it.\n\n\
                    Conclusion\n~~~~~~~~~~\nIt works.\n\nA transition follows.\n\n----------\n\nEnd.\n";
        let got = kinds(text, Markup::Rst);
        let want = [
            ("Overview", Heading, 2),
            ("Intro paragraph here.", Paragraph, 5),
            ("1. Installation", Heading, 7),
            ("Install it.", Paragraph, 10),
            ("Conclusion", Heading, 12),
            ("It works.", Paragraph, 14),
            ("A transition follows.", Paragraph, 16),
            ("End.", Paragraph, 20),
        ];
        let want: Vec<_> = want
            .iter()
            .map(|&(t, k, l)| (t.to_string(), k, l))
            .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn asciidoc_section_titles_are_headings_and_block_titles_are_not() {
        use SegmentKind::*;
        let text = "= Guide\n:toc:\n\n== Getting started ==\n\nStart here.\n\n\
                    .Block title is not a heading\n----\ncode\n----\n\n\
                    ====== Conclusion\nIt works.\n\nOld style\n---------\n\nText.\n";
        let got = kinds(text, Markup::AsciiDoc);
        let want = [
            ("Guide", Heading, 1),
            ("Getting started", Heading, 4),
            ("Start here.", Paragraph, 6),
            ("Conclusion", Heading, 13),
            ("It works.", Paragraph, 14),
            ("Old style", Heading, 16),
            ("Text.", Paragraph, 19),
        ];
        let want: Vec<_> = want
            .iter()
            .map(|&(t, k, l)| (t.to_string(), k, l))
            .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn a_marker_inside_code_suppresses_nothing() {
        let text = "Intro.\n\n```html\n<!-- deja-ignore -->\n```\n\nKept paragraph.\n";
        let p = prose(text, Markup::Markdown);
        let kept = p
            .segments
            .iter()
            .find(|s| s.span.slice(text) == "Kept paragraph.");
        assert!(!kept.expect("the paragraph after the fence").suppressed);
    }

    #[test]
    fn inserted_markers_suppress_the_paragraph_in_every_markup() {
        let cases = [
            (
                Markup::Markdown,
                "# T\n\nFirst paragraph.\n\nSecond paragraph.\n",
            ),
            (
                Markup::Text,
                "First paragraph.\nSecond paragraph.\nThird one.\n",
            ),
            (
                Markup::Rst,
                "T\n=\n\nFirst paragraph.\n\nSecond paragraph.\n",
            ),
            (Markup::Rst, "* First item here.\n\n  Second paragraph.\n"),
            (
                Markup::AsciiDoc,
                "= T\n\nFirst paragraph.\n\nSecond paragraph.\n",
            ),
        ];
        for (markup, text) in cases {
            let start = text.find("Second").unwrap();
            let (at, marker) = markup.suppression_marker(text, start);
            let fixed = format!("{}{marker}{}", &text[..at], &text[at..]);
            let p = prose(&fixed, markup);
            let flagged: Vec<&str> = p
                .segments
                .iter()
                .filter(|s| s.suppressed)
                .map(|s| s.span.slice(&fixed))
                .collect();
            assert_eq!(flagged, ["Second paragraph."], "{markup:?}: {fixed:?}");
        }
    }

    #[test]
    fn markers_suppress_the_next_segment_in_every_markup() {
        for (markup, marker) in [
            (Markup::Markdown, "<!-- deja-ignore -->"),
            (Markup::Text, "<!-- deja-ignore -->"),
            (Markup::Rst, ".. deja-ignore"),
            (Markup::AsciiDoc, "// deja-ignore"),
        ] {
            let text = format!("One.\n\n{marker}\n\nTwo.\n\nThree.\n");
            let p = prose(&text, markup);
            let flags: Vec<(&str, bool)> = p
                .segments
                .iter()
                .map(|s| (s.span.slice(&text), s.suppressed))
                .collect();
            assert_eq!(
                flags,
                [("One.", false), ("Two.", true), ("Three.", false)],
                "{markup:?}"
            );
        }
    }

    #[test]
    fn asciidoc_links_keep_their_text_and_link_lists_go() {
        let text = "See link:https://x.org/a[the guide,window=_blank] and https://y.org[this^].\n";
        let p = prepare(text, Markup::AsciiDoc);
        assert_eq!(p.text.len(), text.len());
        let words: Vec<&str> = p.text.split_whitespace().collect();
        assert_eq!(words, ["See", "the", "guide", "and", "this", "."]);
        assert_eq!(p.text.find("the guide"), text.find("the guide"));
        // Not links: no text, or no brackets.
        for plain in ["Visit https://x.org today.\n", "See https://x.org/a [b].\n"] {
            assert_eq!(prepare(plain, Markup::AsciiDoc).text, plain);
        }
        let text =
            "Read on:\n\n* link:a.html[First guide]\n* https://x.org[Second], xref:c.adoc[Third]\n\
                    * <<install,Installing>>\n* link:d.html[Fourth] explains the rest.\n\n\
                    link:e.html[Alone on a line]\n";
        assert_eq!(
            texts(text, Markup::AsciiDoc),
            ["Read on:", "* link:d.html[Fourth] explains the rest."]
        );
    }

    #[test]
    fn rst_link_lists_go() {
        let text = "Read on:\n\n- `First guide <https://x.org/a>`_\n- :doc:`install`, :ref:`setup`\n\
                    - `Named`__\n- `Fourth <https://x.org/d>`_ explains the rest.\n\n\
                    `Alone on a line <https://x.org/e>`_\n\nA paragraph that ends\n`with a link <https://x.org/f>`_\n\n\
                    - `Item <https://x.org/g>`__\n  in the *Reference*\n";
        assert_eq!(
            texts(text, Markup::Rst),
            [
                "Read on:",
                "- `Fourth <https://x.org/d>`_ explains the rest.",
                "A paragraph that ends\n`with a link <https://x.org/f>`_",
                "- `Item <https://x.org/g>`__\n  in the *Reference*"
            ]
        );
        assert!(!is_link_line("`code`", rst_link_len));
        assert!(!is_link_line("- :doc:", rst_link_len));
    }

    #[test]
    fn markup_by_extension() {
        assert_eq!(Markup::of_path("a/b.RST"), Markup::Rst);
        assert_eq!(Markup::of_path("x.adoc"), Markup::AsciiDoc);
        assert_eq!(Markup::of_path("x.md"), Markup::Markdown);
        assert_eq!(Markup::of_path("notes.txt"), Markup::Text);
    }

    #[test]
    fn directive_options_are_not_roles() {
        assert!(is_directive_option(":noindex:"));
        assert!(is_directive_option(":caption: A title"));
        assert!(!is_directive_option(
            ":prop_tgt:`LINK_OPTIONS` target property"
        ));
        let text = "Intro.\n\n.. versionadded:: 3.13\n  :prop_tgt:`LINK_OPTIONS` target property and the\n  command.\n";
        assert_eq!(
            texts(text, Markup::Rst),
            [
                "Intro.",
                "`LINK_OPTIONS` target property and the\n  command."
            ]
        );
    }

    #[test]
    fn text_files_are_sniffed() {
        assert_eq!(
            Markup::detect("a.txt", "Intro\n\n.. code-block:: cmake\n\n  x()\n"),
            Markup::Rst
        );
        assert_eq!(
            Markup::detect("a.txt", "Intro\n\n----\ncode\n----\n"),
            Markup::AsciiDoc
        );
        assert_eq!(Markup::detect("a.txt", "Just words.\n"), Markup::Text);
        assert_eq!(
            Markup::detect("a.md", ".. code-block:: x\n"),
            Markup::Markdown
        );
    }

    #[test]
    fn rst_code_and_directives_are_blanked() {
        let text = "Title\n=====\n\nIntro text here::\n\n    x = 1\n    y = 2\n\n\
                    .. code-block:: python\n\n   print('hi')\n\n\
                    .. note:: Mind the gap.\n   Really.\n\n\
                    .. _target: https://example.com\n\n\
                    .. function:: spam(eggs)\n   :noindex:\n\n   Return spam with eggs.\n\n\
                    ======  =====\nA       B\n======  =====\nx       y\n======  =====\n\n\
                    .. deja-ignore\n\nSuppressed paragraph.\n\n>>> 1 + 1\n2\n\nEnd.\n";
        let p = texts(text, Markup::Rst);
        assert_eq!(
            p,
            [
                "Title",
                "Intro text here::",
                "Mind the gap.\n   Really.",
                "Return spam with eggs.",
                "Suppressed paragraph.",
                "End."
            ]
        );
        let prepared = prepare(text, Markup::Rst);
        assert_eq!(prepared.markers.len(), 1);
        assert!(text[prepared.markers[0]..].starts_with(".. deja-ignore"));
    }

    #[test]
    fn asciidoc_blocks_are_blanked() {
        let text = "= Doc Title\n:toc:\n\n== Section\n\nSome prose here.\n\n[source,rust]\n----\nfn main() {}\n\nlet x = 1;\n----\n\n\
                    .Example title\n====\nExample prose.\n====\n\nNOTE: Admonition prose.\n\n// deja-ignore\nHidden.\n\n\
                    |===\n| a | b\n|===\n\nimage::x.png[]\n";
        let p = texts(text, Markup::AsciiDoc);
        assert_eq!(
            p,
            [
                "Doc Title",
                "Section",
                "Some prose here.",
                "Example prose.",
                "Admonition prose.",
                "Hidden."
            ]
        );
        assert_eq!(prepare(text, Markup::AsciiDoc).markers.len(), 1);
    }

    #[test]
    fn markdown_comments_are_blanked_but_markers_kept() {
        let text = "Intro.\n\n<!--\nhidden words\n-->\n\n<!-- deja-ignore -->\nKept.\n";
        let p = prepare(text, Markup::Markdown);
        assert!(!p.text.contains("hidden"));
        assert!(p.text.contains("<!-- deja-ignore -->"));
        let kept = prose(text, Markup::Markdown).segments;
        assert!(kept
            .iter()
            .any(|s| s.span.slice(text) == "Kept." && s.suppressed));
    }

    #[test]
    fn rst_substitutions_do_not_split_paragraphs() {
        let text = "This policy was introduced in CMake version 3.14.  CMake version\n|release| warns when the policy is not set.\n\n| a line\n| block\n";
        let p = texts(text, Markup::Rst);
        assert_eq!(
            p[0],
            "This policy was introduced in CMake version 3.14.  CMake version\n|release| warns when the policy is not set."
        );
    }

    #[test]
    fn role_and_macro_names_are_blanked() {
        let text = "See :prop_tgt:`FOO` and :py:func:`bar`, not a: `b`.\n";
        let p = prepare(text, Markup::Rst);
        assert_eq!(
            p.text,
            "See           `FOO` and          `bar`, not a: `b`.\n"
        );
        let text = "See linkgit:git-config[1].\n";
        let p = prepare(text, Markup::AsciiDoc);
        assert_eq!(p.text, "See         git-config[1].\n");
        let text = "[[def_tree]]tree:: a <<def_tree_object,tree object>>.\n";
        let p = prepare(text, Markup::AsciiDoc);
        assert_eq!(
            p.text,
            "            tree:: a                   tree object  .\n"
        );
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(150))]
        /// Any text, any markup: same length, line breaks in place, valid UTF-8, no panic.
        #[test]
        fn blanking_keeps_every_offset(
            text in "([ \t\n:.=\\-~`|+/*_<>\\[\\],!#a-zé漢]|\\.\\. |::|----|<<|\\[\\[|NOTE: |<!--|-->|deja-ignore){0,80}"
        ) {
            for m in [Markup::Rst, Markup::AsciiDoc, Markup::Markdown, Markup::Text] {
                let p = prepare(&text, m);
                proptest::prop_assert_eq!(p.text.len(), text.len());
                for (a, b) in p.text.bytes().zip(text.bytes()) {
                    proptest::prop_assert_eq!(a == b'\n', b == b'\n');
                }
                for &k in &p.markers {
                    proptest::prop_assert!(k <= text.len());
                }
                let _ = prose(&text, m);
            }
            let _ = Markup::detect("x.txt", &text);
        }
    }

    #[test]
    fn multibyte_text_stays_valid() {
        let text = "Ünïcödé title\n~~~~~~~~~~~~~\n\n.. comment with é and 漢字\n\nProse é.\n";
        let p = texts(text, Markup::Rst);
        assert_eq!(p, ["Ünïcödé title", "Prose é."]);
    }
}
