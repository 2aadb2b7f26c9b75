//! Stage 1, segment: a document's text → paragraphs and sentences, each with its byte span.
//!
//! Paragraphs are separated by blank lines; a document without blank lines uses single
//! newlines. Markdown is understood well enough that headings, list items, block quotes and
//! table rows become segments of their own, while fenced or indented code blocks and front
//! matter are skipped (they are not prose). Sentences follow Unicode sentence boundaries
//! (UAX #29), re-joined after common abbreviations.
//!
//! reStructuredText and AsciiDoc are read through [`markup`], which blanks what is not prose
//! (directives, macros, block delimiters, attributes …) byte for byte and names the section
//! titles; [`prose`] is the one entry for every markup: blanked text, segments, and the
//! segments that an inline `deja-ignore` marker suppresses.
//!
//! ```
//! use deja::segment::{prose, Markup, SegmentKind};
//! let text = "Title\n=====\n\n.. code-block:: sh\n\n   make\n\n.. deja-ignore\n\nSaid before.\n";
//! let doc = prose(text, Markup::Rst);
//! let spans: Vec<&str> = doc.segments.iter().map(|s| s.span.slice(text)).collect();
//! assert_eq!(spans, ["Title", "Said before."]);
//! assert_eq!(doc.segments[0].kind, SegmentKind::Heading);
//! assert!(doc.segments[1].suppressed);
//! ```

pub mod markup;

pub use markup::{prepare, Markup, Prepared};

use crate::span::Span;
use serde::Serialize;
use std::borrow::Cow;
use unicode_segmentation::UnicodeSegmentation;

/// What a segment is, as far as Markdown structure tells.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SegmentKind {
    /// Running text.
    Paragraph,
    /// An ATX (`# Title`) or setext heading.
    Heading,
    /// One item of a bulleted or numbered list, with its continuation lines.
    ListItem,
    /// A block quote (`> ...`).
    Quote,
    /// One row of a pipe table.
    TableRow,
}

/// A paragraph-level unit of a document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Segment {
    /// Byte span in the document, trimmed of surrounding whitespace.
    pub span: Span,
    /// 1-based line of the first byte.
    pub line: usize,
    /// Structural kind.
    pub kind: SegmentKind,
    /// True when an inline suppression marker comes right before the segment: a
    /// `<!-- deja-ignore -->` line, or (read by [`prose`]) a reST `.. deja-ignore` comment or
    /// an AsciiDoc `// deja-ignore` comment.
    pub suppressed: bool,
}

/// One line of the input: its span without the line terminator, and without surrounding
/// whitespace (found once: every rule below looks at it).
#[derive(Clone, Copy, Debug)]
struct Line {
    span: Span,
    trimmed: Span,
    number: usize,
}

/// How a line reads in Markdown terms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum LineClass {
    Blank,
    Heading,
    SetextUnderline,
    ListItem,
    Quote,
    TableRow,
    TableSeparator,
    Text,
}

const IGNORE_MARKER: &str = "deja-ignore";

/// A document as the later stages read it.
#[derive(Clone, Debug)]
pub struct Prose<'a> {
    /// The text with its non-prose regions blanked ([`prepare`]): same length and line breaks
    /// as the original, so spans and line numbers hold for both. Borrowed when nothing was
    /// blanked.
    pub text: Cow<'a, str>,
    /// Paragraph-level segments, in document order.
    pub segments: Vec<Segment>,
}

/// Reads `text` written in `markup`: blanks what is not prose, splits the rest into
/// paragraph-level segments (section titles of every markup are [`SegmentKind::Heading`]
/// segments spanning the title's text) and marks the first segment after each suppression
/// marker as `suppressed`.
pub fn prose(text: &str, markup: Markup) -> Prose<'_> {
    let prepared = prepare(text, markup);
    let mut segments = segments_of(&prepared.text, &prepared.headings);
    for &m in &prepared.markers {
        let next = segments.partition_point(|s| s.span.start <= m);
        if let Some(seg) = segments.get_mut(next) {
            seg.suppressed = true;
        }
    }
    Prose {
        text: prepared.text,
        segments,
    }
}

/// The segments of `text` written in `markup`, as [`prose`] finds them.
pub fn paragraphs_in(text: &str, markup: Markup) -> Vec<Segment> {
    prose(text, markup).segments
}

/// Split `text` into paragraph-level segments, in document order, reading it as Markdown
/// (or plain text) as it is; [`prose`] reads any markup.
pub fn paragraphs(text: &str) -> Vec<Segment> {
    segments_of(text, &[])
}

/// [`paragraphs`], with the lines at the (sorted, 0-based) indices `headings` read as
/// section titles whatever they look like.
fn segments_of(text: &str, headings: &[usize]) -> Vec<Segment> {
    let lines = split_lines(text);
    let classes = line_classes(text, &lines, headings);
    let blank_line_mode = has_blank_line_between_text(&classes);

    let mut segments: Vec<Segment> = Vec::new();
    let mut open: Option<Segment> = None;
    let mut suppress_next = false;
    let mut previous_class = LineClass::Blank;
    for (&line, &class) in lines.iter().zip(&classes) {
        // Skipped lines (code, front matter) read as blank.
        let Some(class) = class else {
            close(&mut open, &mut segments);
            previous_class = LineClass::Blank;
            continue;
        };
        let t = line.trimmed.slice(text);
        if t.starts_with("<!--") && t.contains(IGNORE_MARKER) {
            close(&mut open, &mut segments);
            suppress_next = true;
            previous_class = LineClass::Blank;
            continue;
        }
        let continues = match (class, previous_class) {
            (LineClass::Blank, _) | (_, LineClass::Blank) => false,
            _ if !blank_line_mode => false,
            (LineClass::SetextUnderline, LineClass::Text) => {
                if let Some(seg) = open.as_mut() {
                    seg.kind = SegmentKind::Heading;
                }
                true
            }
            (LineClass::Text, LineClass::Text | LineClass::ListItem | LineClass::Quote) => true,
            (LineClass::Quote, LineClass::Quote) => true,
            _ => false,
        };
        if class == LineClass::Blank || class == LineClass::TableSeparator {
            close(&mut open, &mut segments);
            previous_class = LineClass::Blank;
            continue;
        }
        let trimmed = line.trimmed;
        if continues {
            if let Some(seg) = open.as_mut() {
                seg.span.end = trimmed.end;
            }
        } else {
            close(&mut open, &mut segments);
            if trimmed.is_empty() {
                previous_class = LineClass::Blank;
                continue;
            }
            open = Some(Segment {
                span: trimmed,
                line: line.number,
                kind: match class {
                    LineClass::Heading => SegmentKind::Heading,
                    LineClass::ListItem => SegmentKind::ListItem,
                    LineClass::Quote => SegmentKind::Quote,
                    LineClass::TableRow => SegmentKind::TableRow,
                    _ => SegmentKind::Paragraph,
                },
                suppressed: std::mem::take(&mut suppress_next),
            });
        }
        // A heading is a segment of one line; a table row too.
        previous_class = match class {
            LineClass::Heading | LineClass::TableRow | LineClass::SetextUnderline => {
                close(&mut open, &mut segments);
                LineClass::Blank
            }
            other => other,
        };
    }
    close(&mut open, &mut segments);
    segments
}

fn close(open: &mut Option<Segment>, segments: &mut Vec<Segment>) {
    if let Some(seg) = open.take() {
        segments.push(seg);
    }
}

fn split_lines(text: &str) -> Vec<Line> {
    let mut lines = Vec::new();
    let mut start = 0;
    // A byte-order mark is not text.
    if text.starts_with('\u{feff}') {
        start = '\u{feff}'.len_utf8();
    }
    let mut number = 1;
    let bytes = text.as_bytes();
    // One searcher over the whole text: a call per short line costs more than the search.
    let first = start;
    let mut newlines = memchr::memchr_iter(b'\n', &bytes[first..]).map(move |i| first + i);
    while start <= bytes.len() {
        let end = newlines.next().unwrap_or(bytes.len());
        let content_end = if end > start && bytes[end - 1] == b'\r' {
            end - 1
        } else {
            end
        };
        let span = Span::new(start, content_end);
        lines.push(Line {
            span,
            trimmed: trim_span(text, span),
            number,
        });
        number += 1;
        if end == bytes.len() {
            break;
        }
        start = end + 1;
    }
    lines
}

/// The class of each line, `None` for the lines that are not prose: front matter and code
/// blocks (fences included). Lines listed in `headings` are headings.
fn line_classes(text: &str, lines: &[Line], headings: &[usize]) -> Vec<Option<LineClass>> {
    let mut classes = vec![Some(LineClass::Blank); lines.len()];
    let line_text = |i: usize| lines[i].span.slice(text);
    let mut i = 0;
    // Front matter: `---` (YAML) or `+++` (TOML) on the first line, closed by the same.
    if let Some(first) = lines.first() {
        let opener = first.span.slice(text).trim_end();
        if opener == "---" || opener == "+++" {
            if let Some(close) = (1..lines.len().min(400)).find(|&j| {
                let t = line_text(j).trim_end();
                t == opener || (opener == "---" && t == "...")
            }) {
                classes[..=close].iter_mut().for_each(|c| *c = None);
                i = close + 1;
            }
        }
    }
    let mut previous_blank = true;
    let mut in_list = false;
    while i < lines.len() {
        let raw = line_text(i);
        // reST adorns titles with `~` too: under (or over and under) a one-line title, such
        // a line is a section underline, not a code fence.
        if let Some(title) = adorned_title(&line_text, lines.len(), i) {
            classes[i] = Some(LineClass::Blank);
            classes[title] = Some(LineClass::Text);
            classes[title + 1] = Some(LineClass::SetextUnderline);
            i = title + 2;
            previous_blank = false;
            continue;
        }
        if let Some((fence_char, fence_len)) = fence_open(raw) {
            // Unclosed fences run to the end of the document, as in CommonMark.
            let mut j = i + 1;
            while j < lines.len() && !fence_closes(line_text(j), fence_char, fence_len) {
                j += 1;
            }
            let end = j.min(lines.len() - 1);
            classes[i..=end].iter_mut().for_each(|c| *c = None);
            i = end + 1;
            previous_blank = true;
            continue;
        }
        let blank = lines[i].trimmed.is_empty();
        if !blank && previous_blank && is_indented_code(raw) && !in_list {
            // An indented code block runs until a non-blank line that is not indented.
            let mut j = i;
            while j < lines.len() {
                if !lines[j].trimmed.is_empty() && !is_indented_code(line_text(j)) {
                    break;
                }
                classes[j] = None;
                j += 1;
            }
            i = j;
            previous_blank = true;
            continue;
        }
        if !blank {
            let class = if headings.binary_search(&i).is_ok() {
                LineClass::Heading
            } else {
                classify_trimmed(lines[i].trimmed.slice(text))
            };
            classes[i] = Some(class);
            if class == LineClass::ListItem {
                in_list = true;
            } else if previous_blank && !raw.starts_with([' ', '\t']) {
                in_list = false;
            }
        }
        previous_blank = blank;
        i += 1;
    }
    classes
}

fn is_indented_code(line: &str) -> bool {
    (line.starts_with("    ") || line.starts_with('\t'))
        && !matches!(classify(line), LineClass::ListItem | LineClass::Blank)
}

/// When line `i` is a reST adornment of four or more `~` (nothing else on the line) over or
/// under a one-line title, at least as long as the title, with blank lines around the whole:
/// the title's line. A Markdown fence looks like that only around one short line of code, and
/// fences are mostly three marks long. (A reST title with text right under its underline
/// still reads as a fence: Markdown writes code after a lead-in line that way.)
fn adorned_title<'a>(line: &impl Fn(usize) -> &'a str, n: usize, i: usize) -> Option<usize> {
    let adornment = |k: usize| {
        let t = line(k);
        if !t.starts_with('~') {
            return None;
        }
        let t = t.trim_end();
        (t.len() >= 4 && t.bytes().all(|b| b == b'~')).then_some(t.len())
    };
    let blank = |k: usize| k >= n || line(k).trim().is_empty();
    let len = adornment(i)?;
    let fits = |title: usize| {
        let t = line(title).trim();
        !t.is_empty() && t.chars().count() <= len && adornment(title).is_none()
    };
    // Under a title: blank (or nothing) before the title and after the underline.
    if i >= 1 && fits(i - 1) && (i == 1 || blank(i - 2)) && blank(i + 1) {
        return Some(i - 1);
    }
    // Over a title, with the same adornment under it.
    if (i == 0 || blank(i - 1))
        && i + 2 < n
        && fits(i + 1)
        && adornment(i + 2) == Some(len)
        && blank(i + 3)
    {
        return Some(i + 1);
    }
    None
}

fn fence_open(line: &str) -> Option<(char, usize)> {
    let t = strip_indent(line, 3)?;
    let c = t.chars().next()?;
    if c != '`' && c != '~' {
        return None;
    }
    let n = t.chars().take_while(|&x| x == c).count();
    // A backtick fence's info string may not contain backticks.
    if n >= 3 && !(c == '`' && t[n..].contains('`')) {
        Some((c, n))
    } else {
        None
    }
}

fn fence_closes(line: &str, c: char, len: usize) -> bool {
    match strip_indent(line, 3) {
        Some(t) => {
            let n = t.chars().take_while(|&x| x == c).count();
            n >= len && t[n * c.len_utf8()..].trim().is_empty()
        }
        None => false,
    }
}

/// The line without up to `max` leading spaces, or None when it is indented more.
fn strip_indent(line: &str, max: usize) -> Option<&str> {
    let n = line.bytes().take_while(|&b| b == b' ').count();
    (n <= max).then(|| &line[n..])
}

fn classify(line: &str) -> LineClass {
    classify_trimmed(line.trim())
}

/// [`classify`] of a line already trimmed.
fn classify_trimmed(t: &str) -> LineClass {
    if t.is_empty() {
        return LineClass::Blank;
    }
    let hashes = t.bytes().take_while(|&b| b == b'#').count();
    if (1..=6).contains(&hashes) && (t.len() == hashes || t.as_bytes()[hashes] == b' ') {
        return LineClass::Heading;
    }
    if t.len() >= 2 && (t.bytes().all(|b| b == b'=') || t.bytes().all(|b| b == b'-')) {
        return LineClass::SetextUnderline;
    }
    if t.starts_with('>') {
        return LineClass::Quote;
    }
    if t.starts_with('|') {
        let separator = t.bytes().all(|b| matches!(b, b'|' | b'-' | b':' | b' '));
        return if separator {
            LineClass::TableSeparator
        } else {
            LineClass::TableRow
        };
    }
    if is_list_marker(t) {
        return LineClass::ListItem;
    }
    LineClass::Text
}

fn is_list_marker(t: &str) -> bool {
    let b = t.as_bytes();
    if b.len() >= 2 && matches!(b[0], b'-' | b'*' | b'+' | b'\xE2') {
        // `-`, `*`, `+`, or a bullet `•` (U+2022, E2 80 A2) followed by a space.
        if b[0] == b'\xE2' {
            return t.starts_with("• ");
        }
        return b[1] == b' ' || b[1] == b'\t';
    }
    let digits = b.iter().take_while(|c| c.is_ascii_digit()).count();
    (1..=9).contains(&digits)
        && b.len() > digits + 1
        && matches!(b[digits], b'.' | b')')
        && b[digits + 1] == b' '
}

/// True when a blank (or skipped) line sits between the first and the last line of text.
fn has_blank_line_between_text(classes: &[Option<LineClass>]) -> bool {
    let blank = |c: &Option<LineClass>| matches!(c, None | Some(LineClass::Blank));
    let first = classes.iter().position(|c| !blank(c));
    let last = classes.iter().rposition(|c| !blank(c));
    match (first, last) {
        (Some(f), Some(l)) => classes[f..l].iter().any(blank),
        _ => false,
    }
}

fn trim_span(text: &str, span: Span) -> Span {
    let s = span.slice(text);
    let start = span.start + (s.len() - s.trim_start().len());
    let end = span.start + s.trim_end().len();
    Span::new(start, end.max(start))
}

/// Abbreviations after which a period does not end a sentence.
const ABBREVIATIONS: &[&str] = &[
    "mr", "mrs", "ms", "dr", "prof", "st", "sr", "jr", "vs", "etc", "e.g", "i.e", "cf", "no",
    "fig", "inc", "ltd", "co", "corp", "gen", "col", "lt", "sgt", "capt", "gov", "sen", "rep",
    "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "approx",
    "dept", "est", "al", "z.b", "bzw", "usw", "ca", "nr", "vgl",
];

/// The bytes that removing the paragraph at `span` takes out of `text`: from the start of its
/// line (when only indentation comes before it) through its line ending and the blank lines
/// after it, so that the text around it reads as if it had never been there (`deja doc
/// --strip`, the language server's quick fix).
///
/// ```
/// use deja::segment::removal_span;
/// use deja::Span;
/// let text = "One.\n\n  Two.\n\nThree.\n";
/// let r = removal_span(text, Span::new(8, 12));
/// assert_eq!(format!("{}{}", &text[..r.start], &text[r.end..]), "One.\n\nThree.\n");
/// ```
pub fn removal_span(text: &str, span: Span) -> Span {
    let bytes = text.as_bytes();
    let line_start = text[..span.start].rfind('\n').map_or(0, |i| i + 1);
    let start = if text[line_start..span.start].trim().is_empty() {
        line_start
    } else {
        span.start
    };
    let mut end = span.end;
    while end < bytes.len() && bytes[end] != b'\n' {
        end += 1;
    }
    // Past the line break, then past the blank lines that separated the paragraph.
    loop {
        if end < bytes.len() {
            end += 1;
        }
        let line_end = bytes[end..]
            .iter()
            .position(|&b| b == b'\n')
            .map(|i| end + i);
        match line_end {
            Some(le) if text[end..le].trim().is_empty() => end = le,
            _ => break,
        }
    }
    Span::new(start, end.min(text.len()))
}

/// Sentences of the text under `span`, as trimmed spans in document order.
pub fn sentences(text: &str, span: Span) -> Vec<Span> {
    let body = span.slice(text);
    if body.is_ascii() {
        // The same bounds as UAX #29's, read from bytes (see `ascii_sentence_bounds`).
        let mut bounds = Vec::new();
        ascii_sentence_bounds(body.as_bytes(), |b| bounds.push(b));
        let pieces = bounds.windows(2).map(|w| (w[0], &body[w[0]..w[1]]));
        sentences_of(text, span, pieces)
    } else {
        sentences_of(text, span, body.split_sentence_bound_indices())
    }
}

/// [`sentences`] from the UAX #29 sentence pieces of the text under `span`.
fn sentences_of<'a>(
    text: &str,
    span: Span,
    pieces: impl Iterator<Item = (usize, &'a str)>,
) -> Vec<Span> {
    let mut out: Vec<Span> = Vec::new();
    let mut join_next = false;
    for (offset, piece) in pieces {
        let s = trim_span(
            text,
            Span::new(span.start + offset, span.start + offset + piece.len()),
        );
        if s.is_empty() {
            continue;
        }
        match out.last_mut() {
            Some(last) if join_next => last.end = s.end,
            _ => out.push(s),
        }
        let last = out.last().map_or("", |l| l.slice(text));
        // UAX #29 breaks after every line break; a wrapped line does not end a sentence.
        join_next = ends_with_abbreviation(last)
            || (ends_with_line_break(piece) && !ends_with_terminal(last));
    }
    out
}

/// Sentence-break classes (UAX #29) of the ASCII characters; everything else in ASCII is
/// `Other`. The table of unicode-segmentation 1.13, restricted to ASCII.
#[derive(Clone, Copy, PartialEq, Eq)]
enum SentenceClass {
    Other,
    Cr,
    Lf,
    Sp,
    STerm,
    ATerm,
    Close,
    SContinue,
    Numeric,
    Upper,
    Lower,
}

fn ascii_sentence_class(b: u8) -> SentenceClass {
    use SentenceClass::*;
    match b {
        b'\t' | 0x0b | 0x0c | b' ' => Sp,
        b'\n' => Lf,
        b'\r' => Cr,
        b'!' | b'?' => STerm,
        b'.' => ATerm,
        b'"' | b'\'' | b'(' | b')' | b'[' | b']' | b'{' | b'}' => Close,
        b',' | b'-' | b':' | b';' => SContinue,
        b'0'..=b'9' => Numeric,
        b'A'..=b'Z' => Upper,
        b'a'..=b'z' => Lower,
        _ => Other,
    }
}

/// What the sentence-break state machine remembers of one character (or of a run of
/// `Close` or `Sp` characters), as unicode-segmentation's forward iterator keeps it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Part {
    Sot,
    Other,
    Cr,
    Lf,
    ATerm,
    UpperLower,
    ClosePlus,
    SpPlus,
    STerm,
}

/// The UAX #29 sentence bounds of an ASCII text (0, each break, its length; nothing when it is
/// empty), as `split_sentence_bound_indices` finds them: the same state machine (rules SB3 to
/// SB11 over the last four parts) without the Unicode table lookups, which cost most of the
/// time of sentence splitting. Tested against the crate on arbitrary ASCII.
fn ascii_sentence_bounds(s: &[u8], mut bound: impl FnMut(usize)) {
    use SentenceClass as C;
    if s.is_empty() {
        return;
    }
    // Index of the part before a trailing `SpPlus` / `ClosePlus` run, as the crate reads it.
    let skip = |p: &[Part; 4], sp: bool, close: bool| {
        let mut i = 3;
        if sp && p[i] == Part::SpPlus {
            i -= 1;
        }
        if close && p[i] == Part::ClosePlus {
            i -= 1;
        }
        i
    };
    let sterm_or_aterm = |p: Part| p == Part::STerm || p == Part::ATerm;
    let mut state = [Part::Sot; 4];
    for (pos, &b) in s.iter().enumerate() {
        let before = state;
        let class = ascii_sentence_class(b);
        state = match (state[3], class) {
            (Part::ClosePlus, C::Close) | (Part::SpPlus, C::Sp) => state,
            _ => [
                state[1],
                state[2],
                state[3],
                match class {
                    C::Cr => Part::Cr,
                    C::Lf => Part::Lf,
                    C::ATerm => Part::ATerm,
                    C::Upper | C::Lower => Part::UpperLower,
                    C::Close => Part::ClosePlus,
                    C::Sp => Part::SpPlus,
                    C::STerm => Part::STerm,
                    _ => Part::Other,
                },
            ],
        };
        let last = before[3];
        if matches!(last, Part::UpperLower | Part::Other) {
            // No rule breaks after a letter, digit or other character (SB11 needs a
            // terminator, SB8 an ATerm): most of the text.
            continue;
        }
        // SB8: ATerm Close* Sp* × (¬(OLetter | Upper | Lower | ParaSep | SATerm))* Lower.
        let sb8 = || {
            before[skip(&before, true, true)] == Part::ATerm
                && s[pos..].iter().map(|&c| ascii_sentence_class(c)).find(|c| {
                    matches!(c, C::Lower | C::Upper | C::Cr | C::Lf | C::STerm | C::ATerm)
                }) == Some(C::Lower)
        };
        let sb8a = || sterm_or_aterm(before[skip(&before, true, true)]);
        let sb9 = || sterm_or_aterm(before[skip(&before, false, true)]);
        let sb11 = || {
            let mut i = if matches!(last, Part::Cr | Part::Lf) {
                2
            } else {
                3
            };
            if before[i] == Part::SpPlus {
                i -= 1;
            }
            if before[i] == Part::ClosePlus {
                i -= 1;
            }
            sterm_or_aterm(before[i])
        };
        let breaks = if last == Part::Sot {
            true
        } else if class == C::Lf && last == Part::Cr {
            false
        } else if matches!(last, Part::Cr | Part::Lf) {
            true
        } else if (class == C::Numeric && last == Part::ATerm)
            || (class == C::Upper && last == Part::ATerm && before[2] == Part::UpperLower)
            || sb8()
            || (matches!(class, C::SContinue | C::STerm | C::ATerm) && sb8a())
            || (matches!(class, C::Close | C::Sp | C::Cr | C::Lf) && sb9())
            || (matches!(class, C::Sp | C::Cr | C::Lf) && sb8a())
        {
            false
        } else {
            sb11()
        };
        if breaks {
            bound(pos);
        }
    }
    bound(s.len());
}

fn ends_with_line_break(piece: &str) -> bool {
    piece
        .trim_end_matches([' ', '\t'])
        .ends_with(['\n', '\r', '\u{85}', '\u{2028}', '\u{2029}'])
}

/// True when `sentence` ends with sentence-final punctuation (before closing quotes/brackets).
fn ends_with_terminal(sentence: &str) -> bool {
    sentence
        .trim_end_matches(['"', '\'', ')', ']', '}', '»', '”', '’', '」', '』', '）'])
        .ends_with([
            '.', '!', '?', '…', '。', '！', '？', '‼', '⁇', '⁈', '⁉', '．',
        ])
}

fn ends_with_abbreviation(sentence: &str) -> bool {
    let Some(stripped) = sentence.strip_suffix('.') else {
        return false;
    };
    let last_word = stripped
        .rsplit(|c: char| c.is_whitespace() || c == '(')
        .next()
        .unwrap_or("");
    if last_word.chars().count() == 1 && last_word.chars().all(|c| c.is_uppercase()) {
        return true; // an initial: "J. Smith"
    }
    let lower = last_word.to_lowercase();
    ABBREVIATIONS.contains(&lower.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts<'a>(text: &'a str, segs: &[Segment]) -> Vec<&'a str> {
        segs.iter().map(|s| s.span.slice(text)).collect()
    }

    #[test]
    fn single_newlines_make_paragraphs_without_blank_lines() {
        let text = "Title\nFirst para.\nRead also:\n- one\n- two\nLast.";
        let segs = paragraphs(text);
        assert_eq!(
            texts(text, &segs),
            [
                "Title",
                "First para.",
                "Read also:",
                "- one",
                "- two",
                "Last."
            ]
        );
        assert_eq!(segs[3].kind, SegmentKind::ListItem);
        assert_eq!(segs[5].line, 6);
    }

    #[test]
    fn blank_lines_join_wrapped_lines() {
        let text = "# Head\n\nOne line\ncontinued.\n\n- item one\n  wrapped\n- item two\n\n> quoted\n> more\n";
        let segs = paragraphs(text);
        assert_eq!(
            texts(text, &segs),
            [
                "# Head",
                "One line\ncontinued.",
                "- item one\n  wrapped",
                "- item two",
                "> quoted\n> more"
            ]
        );
        let kinds: Vec<_> = segs.iter().map(|s| s.kind).collect();
        use SegmentKind::*;
        assert_eq!(kinds, [Heading, Paragraph, ListItem, ListItem, Quote]);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(4000))]
        /// The ASCII sentence bounds are UAX #29's, as unicode-segmentation finds them, on
        /// text made of every sentence-break class (and on any ASCII at all).
        #[test]
        fn ascii_sentence_bounds_are_the_crates(
            pieces in proptest::collection::vec(proptest::sample::select(vec![
                "a", "b", "word", "Word", "A", "Z", ".", "..", "!", "?", " ", "  ", "\n", "\r",
                "\r\n", "\t", "\x0b", "\x0c", "\"", "'", "(", ")", "[", "]", "{", "}", ",", "-",
                ":", ";", "1", "42", "#", "_", "`", "*", "/", "\x00", "\x7f", "e.g.", "U.S.",
            ]), 0..30),
            any_ascii in "[\\x00-\\x7f]{0,40}",
        ) {
            for text in [pieces.concat(), any_ascii] {
                let mut ours = Vec::new();
                ascii_sentence_bounds(text.as_bytes(), |b| ours.push(b));
                let mut crates: Vec<usize> =
                    text.split_sentence_bound_indices().map(|(i, _)| i).collect();
                if !text.is_empty() {
                    crates.push(text.len());
                }
                proptest::prop_assert_eq!(ours, crates, "{:?}", text);
            }
        }
    }

    proptest::proptest! {
        /// Documents made of the lines that steer segmentation (fences, adornments, headings,
        /// lists, tables, code, front matter, blanks): segments stay ordered, disjoint,
        /// trimmed and on char boundaries, and each sentence lies inside its segment.
        #[test]
        fn line_soups_segment_cleanly(lines in proptest::collection::vec(proptest::sample::select(vec![
            "", "  ", "~~~~", "~~~~~~~~~~", "~~~", "```", "````rust", "Title", "Ünïcödé title é",
            "Some prose. More prose!", "# Heading", "- item", "1. step", "> quote", "| a | b |",
            "|---|---|", "    indented code", "---", "+++", "<!-- deja-ignore -->", "\u{a0}x\u{2003}",
        ]), 0..40), crlf in proptest::bool::ANY) {
            let text = lines.join(if crlf { "\r\n" } else { "\n" });
            let mut end = 0;
            for seg in paragraphs(&text) {
                let span = seg.span;
                proptest::prop_assert!(end <= span.start && span.start < span.end && span.end <= text.len());
                proptest::prop_assert!(text.is_char_boundary(span.start) && text.is_char_boundary(span.end));
                let body = span.slice(&text);
                proptest::prop_assert_eq!(body, body.trim());
                for sentence in sentences(&text, span) {
                    proptest::prop_assert!(span.start <= sentence.start && sentence.end <= span.end);
                }
                end = span.end;
            }
        }
    }

    #[test]
    fn lines_split_at_every_offset() {
        let spans = |text: &str| -> Vec<(usize, usize)> {
            split_lines(text)
                .iter()
                .map(|l| (l.span.start, l.span.end))
                .collect()
        };
        for len in 1..100 {
            for at in 0..len {
                let mut text = "x".repeat(len);
                text.replace_range(at..=at, "\n");
                assert_eq!(spans(&text), [(0, at), (at + 1, len)], "len {len}, at {at}");
            }
        }
        // A byte-order mark is skipped; `\r\n` ends a line too.
        assert_eq!(spans("\u{feff}ab\r\ncd"), [(3, 5), (7, 9)]);
    }

    #[test]
    fn rest_tilde_adornments_are_titles_not_fences() {
        let text = "Intro.\n\nTitle one\n~~~~~~~~~\n\nBody one.\n\n~~~~~~~~~\nTitle two\n~~~~~~~~~\n\nBody two.\n";
        let segs = paragraphs(text);
        assert_eq!(
            texts(text, &segs),
            [
                "Intro.",
                "Title one\n~~~~~~~~~",
                "Body one.",
                "Title two\n~~~~~~~~~",
                "Body two."
            ]
        );
        let kinds: Vec<SegmentKind> = segs.iter().map(|s| s.kind).collect();
        assert_eq!(kinds[1], SegmentKind::Heading);
        assert_eq!(kinds[3], SegmentKind::Heading);
        // Fences are still code: after a lead-in line (code follows them), and around one
        // short line (three marks, or backticks).
        for md in [
            "Example:\n~~~~~~~~\nlet x = 1;\n~~~~~~~~\n\nOutro.\n",
            "Example:\n\n~~~\nls\n~~~\n\nOutro.\n",
            "Example:\n\n````\nls\n````\n\nOutro.\n",
        ] {
            assert_eq!(texts(md, &paragraphs(md)), ["Example:", "Outro."], "{md:?}");
        }
    }

    #[test]
    fn code_and_front_matter_are_skipped() {
        let text = "---\ntitle: x\n---\nIntro text.\n\n```rust\nfn main() {}\n\nlet x = 1;\n```\n\n    indented code\n\nOutro.\n";
        let segs = paragraphs(text);
        assert_eq!(texts(text, &segs), ["Intro text.", "Outro."]);
    }

    #[test]
    fn tables_rows_are_segments_and_separators_dropped() {
        let text = "Intro.\n\n| a | b |\n|---|---|\n| 1 | 2 |\n";
        let segs = paragraphs(text);
        assert_eq!(texts(text, &segs), ["Intro.", "| a | b |", "| 1 | 2 |"]);
        assert!(segs[1..].iter().all(|s| s.kind == SegmentKind::TableRow));
    }

    #[test]
    fn crlf_and_bom() {
        let text = "\u{feff}One.\r\n\r\nTwo.\r\n";
        let segs = paragraphs(text);
        assert_eq!(texts(text, &segs), ["One.", "Two."]);
        assert_eq!(segs[1].line, 3);
    }

    #[test]
    fn setext_heading() {
        let text = "Title\n=====\n\nBody text.\n";
        let segs = paragraphs(text);
        assert_eq!(segs[0].kind, SegmentKind::Heading);
        assert_eq!(texts(text, &segs)[1], "Body text.");
    }

    #[test]
    fn removal_takes_the_line_and_the_blank_lines_after() {
        let cut = |text: &str, start: usize, end: usize| {
            let r = removal_span(text, Span::new(start, end));
            format!("{}{}", &text[..r.start], &text[r.end..])
        };
        assert_eq!(cut("A.\nB.\nC.\n", 3, 5), "A.\nC.\n");
        assert_eq!(cut("A.\n\nB.\n\n\nC.", 4, 6), "A.\n\nC.");
        assert_eq!(cut("A.\n\n   B.\r\n\nC.", 7, 9), "A.\n\nC.");
        assert_eq!(cut("A.\n\nB.", 4, 6), "A.\n\n");
        assert_eq!(cut("Keep: B.\nC.", 6, 8), "Keep: C.");
    }

    #[test]
    fn suppression_marker_flags_next_segment() {
        let text = "A.\n\n<!-- deja-ignore -->\nB.\n\nC.\n";
        let segs = paragraphs(text);
        assert_eq!(texts(text, &segs), ["A.", "B.", "C."]);
        assert_eq!(
            segs.iter().map(|s| s.suppressed).collect::<Vec<_>>(),
            [false, true, false]
        );
    }

    #[test]
    fn sentences_respect_abbreviations() {
        let text = "Dr. Smith arrived at 5 p.m. today. He left, e.g. at noon. Then J. Doe came!";
        let s = sentences(text, Span::new(0, text.len()));
        let got: Vec<_> = s.iter().map(|s| s.slice(text)).collect();
        assert_eq!(got[0], "Dr. Smith arrived at 5 p.m. today.");
        assert_eq!(got[1], "He left, e.g. at noon.");
        assert_eq!(got[2], "Then J. Doe came!");
    }

    #[test]
    fn wrapped_lines_do_not_end_sentences() {
        let text = "One line\ncontinued here. Next\r\none!\nLast line";
        let s = sentences(text, Span::new(0, text.len()));
        let got: Vec<_> = s.iter().map(|s| s.slice(text)).collect();
        assert_eq!(
            got,
            ["One line\ncontinued here.", "Next\r\none!", "Last line"]
        );
    }

    #[test]
    fn empty_and_whitespace_documents() {
        assert!(paragraphs("").is_empty());
        assert!(paragraphs("\n\n  \n").is_empty());
    }
}
