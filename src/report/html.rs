//! The HTML printer: one self-contained page (inline CSS and JS, no network) that shows each
//! document's text as written, its redundant paragraphs marked by kind (colour and a text
//! label), and a side list of the findings. Selecting a finding marks its sources and
//! underlines the words and phrases they share ([`crate::findings::shared_words`], computed
//! here, not in the page's script); the script only adds and removes classes.
//!
//! Fed by the same result types as the other printers: [`DocReport`] (`deja doc`) and
//! [`CheckReport`] (`deja check`: every file with findings or sources, cross-file sources
//! linked to their file's section, an index of counts, baselined findings apart).
//!
//! The text is untrusted: every byte of it is escaped, the page's data is numbers only, and a
//! Content-Security-Policy meta tag lets only the page's own style and script run, by a nonce.
//! The nonce is the SHA-256 of the page body (with the style and script), so the page is
//! byte-identical from run to run and for any thread count, and a document's author cannot
//! aim at it: it depends on every byte they wrote.

use super::DocPrinter;
use crate::check::{check_kind, CheckReport};
use crate::config::CheckKind;
use crate::findings::{shared_words, DocReport, Words};
use crate::span::Span;
use crate::tokenize::Analyzer;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::io::{self, Write};

const STYLE: &str = include_str!("html/page.css");
const SCRIPT: &str = include_str!("html/page.js");

/// What the page calls each kind, beside its colour.
fn label(kind: CheckKind) -> &'static str {
    match kind {
        CheckKind::Duplicate => "duplicate",
        CheckKind::NearDuplicate => "near duplicate",
        CheckKind::Restatement => "restatement",
        CheckKind::CrossFile => "cross-file copy",
    }
}

/// A document shown on the page.
struct FileIn<'a> {
    name: &'a str,
    text: &'a str,
    analyzer: &'a Analyzer,
}

/// A finding as the page shows it; `file` indexes the slice of [`FileIn`]s rendered with it.
struct Item {
    kind: CheckKind,
    score: f64,
    file: usize,
    span: Span,
    line: usize,
    paragraph: Option<usize>,
    baselined: bool,
    failing: bool,
    sources: Vec<ItemSource>,
}

/// A source of an [`Item`].
struct ItemSource {
    file: usize,
    span: Span,
    line: usize,
    paragraph: Option<usize>,
    score: f64,
    sentence: Option<String>,
}

/// A paragraph the page marks: a finding, a source, or both.
#[derive(Default)]
struct Region {
    span: Span,
    line: usize,
    paragraph: Option<usize>,
    /// Global numbers of the findings it is (normally one).
    findings: Vec<usize>,
    kinds: Vec<CheckKind>,
    baselined: bool,
    /// Shared words and phrases of every pair it takes part in (may overlap).
    phrases: Vec<Span>,
    /// The pieces those cut the text into, each covered by some phrase, in order.
    pieces: Vec<Span>,
    /// Number of its first piece within the file.
    first_piece: usize,
}

impl Region {
    fn cut_pieces(&mut self, first: usize) -> usize {
        let mut cuts: Vec<usize> = self.phrases.iter().flat_map(|p| [p.start, p.end]).collect();
        cuts.sort_unstable();
        cuts.dedup();
        self.phrases.sort_unstable();
        let covered = |a: usize, b: usize| self.phrases.iter().any(|p| p.start <= a && b <= p.end);
        self.pieces = (cuts.windows(2))
            .filter(|w| covered(w[0], w[1]))
            .map(|w| Span::new(w[0], w[1]))
            .collect();
        self.first_piece = first;
        first + self.pieces.len()
    }

    /// Numbers of the pieces inside `phrases` (which were added to this region).
    fn pieces_of(&self, phrases: &[Span], out: &mut Vec<usize>) {
        for p in phrases {
            let from = self.pieces.partition_point(|q| q.start < p.start);
            let to = self.pieces.partition_point(|q| q.end <= p.end);
            out.extend((from..to).map(|k| self.first_piece + k));
        }
    }
}

/// The page being built: its parts are written once every document is in, because the head
/// (the nonce, the counts) depends on all of them.
#[derive(Default)]
struct Page {
    /// `<section>`s of the documents.
    sections: String,
    /// The side list.
    list: String,
    /// Each finding's data as a JSON array (numbers only), comma-separated.
    data: String,
    files: usize,
    items: usize,
    /// New findings per kind, and findings the baseline accepts.
    counts: BTreeMap<CheckKind, usize>,
    baselined: usize,
}

fn esc(s: &str, out: &mut String) {
    let mut last = 0;
    for (i, b) in s.bytes().enumerate() {
        let rep = match b {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            b'\'' => "&#39;",
            _ => continue,
        };
        out.push_str(&s[last..i]);
        out.push_str(rep);
        last = i + 1;
    }
    out.push_str(&s[last..]);
}

fn escaped(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    esc(s, &mut out);
    out
}

/// Bytes of text per chunk of a section: each chunk is a block the browser lays out only
/// when it comes into view (`content-visibility: auto`), so a long document's page opens
/// without laying out all of its text first.
const CHUNK_BYTES: usize = 16 << 10;

/// Writes a document's text as chunks, broken at line starts.
struct Chunked<'a> {
    out: &'a mut String,
    /// Text bytes in the open chunk.
    since: usize,
}

impl<'a> Chunked<'a> {
    fn new(out: &'a mut String) -> Self {
        out.push_str("<div class=\"chunk\">");
        Chunked { out, since: 0 }
    }

    /// Starts a new chunk here (at a line start) when the open one is full.
    fn maybe_break(&mut self) {
        if self.since >= CHUNK_BYTES {
            self.out.push_str("</div><div class=\"chunk\">");
            self.since = 0;
        }
    }

    /// Escaped text, broken after line breaks as chunks fill.
    fn text(&mut self, mut s: &str) {
        while self.since + s.len() >= CHUNK_BYTES {
            let want = CHUNK_BYTES.saturating_sub(self.since);
            let Some(nl) = s[want.min(s.len())..].find('\n').map(|i| want + i + 1) else {
                break;
            };
            esc(&s[..nl], self.out);
            self.since += nl;
            self.maybe_break();
            s = &s[nl..];
        }
        esc(s, self.out);
        self.since += s.len();
    }

    fn finish(self) {
        self.out.push_str("</div>");
    }
}

/// Start of the line holding `at`.
fn line_start(text: &str, at: usize) -> usize {
    text[..at].rfind('\n').map_or(0, |i| i + 1)
}

/// Just past the line break ending the line of `at` (or the end of the text).
fn line_end(text: &str, at: usize) -> usize {
    text[at..].find('\n').map_or(text.len(), |i| at + i + 1)
}

impl Page {
    /// Renders `files` and the findings `items` on them; ids are numbered on from what the
    /// page holds already.
    fn add(&mut self, files: &[FileIn], items: &[Item], list_heading: Option<&str>) {
        let base_file = self.files;
        let base_item = self.items;
        let mut regions: Vec<BTreeMap<usize, Region>> =
            files.iter().map(|_| BTreeMap::new()).collect();
        let region = |regions: &mut Vec<BTreeMap<usize, Region>>,
                      file: usize,
                      span: Span,
                      line,
                      paragraph| {
            let r = regions[file].entry(span.start).or_default();
            r.span = span;
            r.line = line;
            r.paragraph = paragraph;
        };
        for (n, it) in items.iter().enumerate() {
            region(&mut regions, it.file, it.span, it.line, it.paragraph);
            let r = regions[it.file]
                .get_mut(&it.span.start)
                .expect("just added");
            r.findings.push(base_item + n);
            r.kinds.push(it.kind);
            r.baselined |= it.baselined;
            for s in &it.sources {
                region(&mut regions, s.file, s.span, s.line, s.paragraph);
            }
        }
        // Shared words of every pair, each paragraph's words read once.
        let mut words: HashMap<(usize, usize), Words> = HashMap::new();
        for it in items {
            for (file, span) in std::iter::once((it.file, it.span))
                .chain(it.sources.iter().map(|s| (s.file, s.span)))
            {
                words
                    .entry((file, span.start))
                    .or_insert_with(|| Words::new(files[file].analyzer, files[file].text, span));
            }
        }
        let mut pairs = Vec::with_capacity(items.len());
        for it in items {
            let target = &words[&(it.file, it.span.start)];
            let mut per_source = Vec::with_capacity(it.sources.len());
            for s in &it.sources {
                let shared = shared_words(target, &words[&(s.file, s.span.start)]);
                let r = regions[it.file].get_mut(&it.span.start).expect("region");
                r.phrases.extend_from_slice(&shared.target);
                let r = regions[s.file].get_mut(&s.span.start).expect("region");
                r.phrases.extend_from_slice(&shared.source);
                per_source.push(shared);
            }
            pairs.push(per_source);
        }
        for file in regions.iter_mut() {
            let mut next = 0;
            for r in file.values_mut() {
                next = r.cut_pieces(next);
            }
        }

        // Sections: the text as written, regions and shared pieces wrapped.
        for (f, file) in files.iter().enumerate() {
            let g = base_file + f;
            let n = items.iter().filter(|it| it.file == f).count();
            let _ = write!(self.sections, "<section class=\"file\" id=\"d{g}\"><h2>");
            esc(file.name, &mut self.sections);
            let _ = write!(
                self.sections,
                " <small>{}</small></h2><div class=\"text\">",
                match n {
                    0 => "source of findings elsewhere".to_string(),
                    1 => "1 finding".to_string(),
                    n => format!("{n} findings"),
                }
            );
            self.render_text(g, file.text, &regions[f], items);
            self.sections.push_str("</div></section>\n");
        }

        // The side list and the data.
        let mut current_file = usize::MAX;
        let mut current_base = None;
        if let Some(h) = list_heading {
            self.list.push_str("<h2>");
            esc(h, &mut self.list);
            self.list.push_str("</h2>");
        }
        for (n, it) in items.iter().enumerate() {
            let id = base_item + n;
            if it.file != current_file || current_base != Some(it.baselined) {
                if current_file != usize::MAX {
                    self.list.push_str("</ol>");
                }
                if it.baselined && current_base != Some(true) {
                    self.list
                        .push_str("<h2 class=\"accepted\">Accepted by the baseline</h2>");
                }
                self.list.push_str("<h3>");
                esc(files[it.file].name, &mut self.list);
                self.list.push_str("</h3><ol class=\"items\">");
                current_file = it.file;
                current_base = Some(it.baselined);
            }
            if it.baselined {
                self.baselined += 1;
            } else {
                *self.counts.entry(it.kind).or_default() += 1;
            }
            self.list_item(id, it, files, base_file);
            if !self.data.is_empty() {
                self.data.push(',');
            }
            let r = &regions[it.file][&it.span.start];
            let _ = write!(self.data, "[{},{},[", base_file + it.file, r.span.start);
            for (j, (s, shared)) in it.sources.iter().zip(&pairs[n]).enumerate() {
                let sr = &regions[s.file][&s.span.start];
                let mut a = Vec::new();
                let mut b = Vec::new();
                r.pieces_of(&shared.target, &mut a);
                sr.pieces_of(&shared.source, &mut b);
                let _ = write!(
                    self.data,
                    "{}[{},{},{:?},{:?},{:.2},{}]",
                    if j > 0 { "," } else { "" },
                    base_file + s.file,
                    s.span.start,
                    a,
                    b,
                    s.score,
                    s.line
                );
            }
            let _ = write!(self.data, "],{}]", it.line);
        }
        if current_file != usize::MAX {
            self.list.push_str("</ol>");
        }
        self.files += files.len();
        self.items += items.len();
    }

    fn render_text(
        &mut self,
        g: usize,
        text: &str,
        regions: &BTreeMap<usize, Region>,
        items: &[Item],
    ) {
        let base_item = self.items;
        let mut out = Chunked::new(&mut self.sections);
        let mut pos = 0;
        let starts: Vec<usize> = regions.keys().copied().collect();
        for (k, r) in regions.values().enumerate() {
            // A region is a block from its line's start to past its line break, so the text
            // around it keeps its lines; it never reaches into the next region.
            let start = line_start(text, r.span.start).max(pos);
            let next = starts.get(k + 1).copied().unwrap_or(text.len());
            let end = line_end(text, r.span.end).min(next).max(r.span.end);
            out.text(&text[pos..start]);
            if start == 0 || text.as_bytes()[start - 1] == b'\n' {
                out.maybe_break();
            }
            let o = &mut *out.out;
            o.push_str("<span class=\"para");
            if !r.findings.is_empty() {
                o.push_str(" fnd");
                for kind in &r.kinds {
                    let _ = write!(o, " k-{}", kind.as_str());
                }
                if r.baselined {
                    o.push_str(" base");
                }
            }
            let _ = write!(
                o,
                "\" id=\"r{g}-{}\" data-line=\"{}\"",
                r.span.start, r.line
            );
            if let Some(p) = r.paragraph {
                let _ = write!(o, " data-p=\"{p}\"");
            }
            if let Some(&first) = r.findings.first() {
                let it = &items[first - base_item];
                let mut tag = String::new();
                for (i, kind) in r.kinds.iter().enumerate() {
                    if i > 0 {
                        tag.push_str(" + ");
                    }
                    tag.push_str(label(*kind));
                }
                let _ = write!(
                    o,
                    " data-f=\"{first}\" data-tag=\"{}{tag} · {:.2}\"",
                    if r.baselined { "baselined " } else { "" },
                    it.score
                );
            }
            o.push('>');
            let mut at = start;
            for (i, p) in r.pieces.iter().enumerate() {
                // Regions never overlap (paragraphs do not); should one, its text is written
                // once, in the first.
                if p.start < at || p.end > end {
                    continue;
                }
                esc(&text[at..p.start], o);
                let _ = write!(o, "<span class=\"w\" id=\"w{g}-{}\">", r.first_piece + i);
                esc(&text[p.start..p.end], o);
                o.push_str("</span>");
                at = p.end;
            }
            esc(&text[at..end], o);
            o.push_str("</span>");
            out.since += end - start;
            pos = end;
        }
        out.text(&text[pos..]);
        out.finish();
    }

    fn list_item(&mut self, id: usize, it: &Item, files: &[FileIn], base_file: usize) {
        let out = &mut self.list;
        let text = files[it.file].text;
        let _ = write!(
            out,
            "<li class=\"item k-{}{}\" id=\"f{id}\" data-f=\"{id}\"><button type=\"button\" data-f=\"{id}\">\
             <span class=\"kind\">{}</span> <span class=\"score\">{:.2}</span> \
             <span class=\"line\">line {}</span>{}<span class=\"ex\">",
            it.kind.as_str(),
            if it.baselined { " base" } else { "" },
            label(it.kind),
            it.score,
            it.line,
            if it.failing && !it.baselined {
                " <span class=\"fails\">fails</span>"
            } else {
                ""
            },
        );
        esc(&super::excerpt(it.span.slice(text), 90), out);
        out.push_str("</span></button><ol class=\"srcs\">");
        for s in &it.sources {
            let _ = write!(
                out,
                "<li><a href=\"#r{}-{}\">",
                base_file + s.file,
                s.span.start
            );
            if s.file != it.file {
                esc(files[s.file].name, out);
                out.push(' ');
            }
            let _ = write!(
                out,
                "line {}</a> <span class=\"score\">{:.2}</span>",
                s.line, s.score
            );
            if let Some(sent) = &s.sentence {
                out.push_str(" <q>");
                esc(sent, out);
                out.push_str("</q>");
            }
            out.push_str("</li>");
        }
        out.push_str("</ol></li>");
    }

    /// Writes the page: head (CSP with the nonce), header with legend and filters, `index`
    /// (check), the sections, the list, the data and the script.
    fn write(&self, out: &mut dyn Write, title: &str, intro: &str, index: &str) -> io::Result<()> {
        let kinds: Vec<CheckKind> = CheckKind::ALL
            .into_iter()
            .filter(|k| !index.is_empty() || *k != CheckKind::CrossFile)
            .collect();
        let mut header = String::new();
        header.push_str("<header><h1>");
        esc(title, &mut header);
        header.push_str("</h1><p class=\"intro\">");
        esc(intro, &mut header);
        header.push_str("</p><div class=\"filters\" role=\"group\" aria-label=\"Show kinds\">");
        for k in &kinds {
            let _ = write!(
                header,
                "<label class=\"k-{0}\"><input type=\"checkbox\" data-kind=\"{0}\" checked> \
                 <span class=\"swatch\"></span> {1} <span class=\"count\">{2}</span></label>",
                k.as_str(),
                label(*k),
                self.counts.get(k).copied().unwrap_or(0)
            );
        }
        if self.baselined > 0 {
            let _ = write!(
                header,
                "<label class=\"base\"><input type=\"checkbox\" data-kind=\"baselined\" checked> \
                 <span class=\"swatch\"></span> accepted by the baseline <span class=\"count\">{}</span></label>",
                self.baselined
            );
        }
        header.push_str(
            "</div><p class=\"help\">Click a finding to mark its sources and the words they share. \
             <kbd>j</kbd>/<kbd>k</kbd> next/previous finding, <kbd>b</kbd> back to the finding \
             (again: to its source), <kbd>Esc</kbd> clear.</p></header>",
        );
        let body_start = "<div class=\"layout\"><main>";
        let mut tail = String::new();
        tail.push_str("</main><aside><nav id=\"list\" aria-label=\"Findings\">");
        if self.items == 0 {
            tail.push_str("<p class=\"none\">Nothing redundant.</p>");
        }
        tail.push_str(&self.list);
        tail.push_str(
            "</nav></aside></div>\n<script type=\"application/json\" id=\"deja-data\">{\"f\":[",
        );
        tail.push_str(&self.data);
        tail.push_str("]}</script>\n");

        let mut hash = Sha256::new();
        for part in [STYLE, SCRIPT, &header, index, &self.sections, &tail] {
            hash.update(part.as_bytes());
            hash.update([0]);
        }
        let digest = hash.finalize();
        let nonce: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();

        write!(
            out,
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n\
             <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
             script-src 'nonce-{nonce}'; style-src 'nonce-{nonce}'; img-src 'none'; \
             base-uri 'none'; form-action 'none'\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             <meta name=\"color-scheme\" content=\"light dark\">\n<title>"
        )?;
        out.write_all(escaped(title).as_bytes())?;
        write!(
            out,
            "</title>\n<style nonce=\"{nonce}\">\n{STYLE}</style></head>\n<body>"
        )?;
        out.write_all(header.as_bytes())?;
        out.write_all(body_start.as_bytes())?;
        out.write_all(index.as_bytes())?;
        out.write_all(self.sections.as_bytes())?;
        out.write_all(tail.as_bytes())?;
        write!(
            out,
            "<script nonce=\"{nonce}\">\n{SCRIPT}</script>\n</body></html>\n"
        )
    }
}

fn id_name(id: &serde_json::Value) -> String {
    match id {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `deja doc --format html`: one page for every document read, those with findings shown.
pub struct HtmlDocPrinter {
    analyzer: Analyzer,
    page: Page,
    documents: usize,
    /// Names of the documents shown, and of those with nothing redundant.
    shown: Vec<String>,
    clean: Vec<String>,
}

impl HtmlDocPrinter {
    /// A printer whose shared words are read in `language` (that of the analysis).
    pub fn new(language: &str) -> crate::Result<Self> {
        Ok(HtmlDocPrinter {
            analyzer: Analyzer::new(language)?,
            page: Page::default(),
            documents: 0,
            shown: Vec::new(),
            clean: Vec::new(),
        })
    }
}

impl DocPrinter for HtmlDocPrinter {
    fn document(&mut self, _out: &mut dyn Write, report: &DocReport, text: &str) -> io::Result<()> {
        self.documents += 1;
        let name = id_name(&report.id);
        if report.findings.is_empty() {
            self.clean.push(name);
            return Ok(());
        }
        let items: Vec<Item> = (report.findings.iter())
            .map(|f| Item {
                kind: check_kind(f.kind),
                score: f.score,
                file: 0,
                span: f.span,
                line: f.line,
                paragraph: Some(f.paragraph),
                baselined: false,
                failing: false,
                sources: (f.sources.iter())
                    .map(|s| ItemSource {
                        file: 0,
                        span: s.span,
                        line: s.line,
                        paragraph: Some(s.paragraph),
                        score: s.score,
                        sentence: (s.sentence.as_ref())
                            .map(|st| super::excerpt(st.span.slice(text), 120)),
                    })
                    .collect(),
            })
            .collect();
        let file = FileIn {
            name: name.as_str(),
            text,
            analyzer: &self.analyzer,
        };
        self.page.add(&[file], &items, None);
        self.shown.push(name);
        Ok(())
    }

    fn finish(&mut self, out: &mut dyn Write) -> io::Result<()> {
        let with = self.documents - self.clean.len();
        let title = match (self.shown.first(), self.clean.first()) {
            _ if self.documents > 1 => format!("deja: {} documents", self.documents),
            (Some(name), _) | (None, Some(name)) => format!("deja: {name}"),
            (None, None) => "deja: no documents".to_string(),
        };
        let mut intro = format!(
            "{} redundant paragraph{} in {with} of {} document{}.",
            self.page.items,
            if self.page.items == 1 { "" } else { "s" },
            self.documents,
            if self.documents == 1 { "" } else { "s" },
        );
        if !self.clean.is_empty() {
            let names: Vec<&str> = self.clean.iter().take(20).map(String::as_str).collect();
            let _ = write!(
                intro,
                " Nothing redundant in {}{}.",
                names.join(", "),
                if self.clean.len() > 20 { ", …" } else { "" }
            );
        }
        self.page.write(out, &title, &intro, "")
    }
}

/// `deja check --format html`: every file with findings (and every file a finding copies
/// from), an index of counts per file and kind, baselined findings listed apart.
pub fn write_check_html(out: &mut dyn Write, report: &CheckReport) -> io::Result<()> {
    let paths: Vec<&String> = report.texts.keys().collect();
    let file_of: HashMap<&str, usize> = paths
        .iter()
        .enumerate()
        .map(|(i, p)| (p.as_str(), i))
        .collect();
    let mut analyzers: HashMap<&str, Analyzer> = HashMap::new();
    for t in report.texts.values() {
        if !analyzers.contains_key(t.language.as_str()) {
            let a = Analyzer::new(&t.language).map_err(io::Error::other)?;
            analyzers.insert(&t.language, a);
        }
    }
    let files: Vec<FileIn> = (report.texts.iter())
        .map(|(path, t)| FileIn {
            name: path,
            text: &t.text,
            analyzer: &analyzers[t.language.as_str()],
        })
        .collect();
    let item = |f: &crate::check::CheckFinding| -> Option<Item> {
        Some(Item {
            kind: f.kind,
            score: f.score,
            file: *file_of.get(f.location.path.as_str())?,
            span: f.location.span,
            line: f.location.line,
            paragraph: None,
            baselined: f.baselined,
            failing: f.failing,
            sources: (f.sources.iter())
                .filter_map(|s| {
                    Some(ItemSource {
                        file: *file_of.get(s.location.path.as_str())?,
                        span: s.location.span,
                        line: s.location.line,
                        paragraph: None,
                        score: s.score,
                        sentence: s.sentence.clone(),
                    })
                })
                .collect(),
        })
    };
    // New findings first, then the accepted ones: the list shows them apart.
    let items: Vec<Item> = (report.findings.iter().filter(|f| !f.baselined))
        .chain(report.findings.iter().filter(|f| f.baselined))
        .filter_map(item)
        .collect();
    let mut page = Page::default();
    page.add(&files, &items, (!items.is_empty()).then_some("Findings"));

    let mut index = String::from("<table class=\"index\"><thead><tr><th scope=\"col\">file</th>");
    for k in CheckKind::ALL {
        let _ = write!(
            index,
            "<th scope=\"col\" class=\"k-{}\">{}</th>",
            k.as_str(),
            label(k)
        );
    }
    index.push_str("<th scope=\"col\">baselined</th></tr></thead><tbody>");
    let mut totals = [0usize; 5];
    for (i, path) in paths.iter().enumerate() {
        let mut row = [0usize; 5];
        for it in items.iter().filter(|it| it.file == i) {
            let col = if it.baselined {
                4
            } else {
                CheckKind::ALL
                    .iter()
                    .position(|k| *k == it.kind)
                    .unwrap_or(0)
            };
            row[col] += 1;
        }
        let _ = write!(index, "<tr><td><a href=\"#d{i}\">");
        esc(path, &mut index);
        index.push_str("</a></td>");
        for (t, v) in totals.iter_mut().zip(row) {
            *t += v;
            let _ = write!(
                index,
                "<td>{}</td>",
                if v == 0 { String::new() } else { v.to_string() }
            );
        }
        index.push_str("</tr>");
    }
    index.push_str("</tbody><tfoot><tr><th scope=\"row\">total</th>");
    for t in totals {
        let _ = write!(index, "<td>{t}</td>");
    }
    index.push_str("</tr></tfoot></table>\n");

    let new_count = report.new_findings().count();
    let title = format!(
        "deja check: {new_count} finding{}",
        if new_count == 1 { "" } else { "s" }
    );
    let mut intro = format!(
        "{new_count} finding{} ({} failing) in {} checked document{}",
        if new_count == 1 { "" } else { "s" },
        report.failing(),
        report.checked,
        if report.checked == 1 { "" } else { "s" },
    );
    if report.baselined() > 0 {
        let _ = write!(intro, "; {} accepted by the baseline", report.baselined());
    }
    intro.push('.');
    page.write(out, &title, &intro, &index)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::{DocAnalyzer, DocOptions};

    /// The text of `html` as a browser reads it: tags dropped, entities decoded.
    fn text_of(html: &str) -> String {
        let mut out = String::new();
        let mut in_tag = false;
        for c in html.chars() {
            match c {
                '<' => in_tag = true,
                '>' if in_tag => in_tag = false,
                c if !in_tag => out.push(c),
                _ => {}
            }
        }
        out.replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&#39;", "'")
            .replace("&amp;", "&")
    }

    #[test]
    fn escapes_what_html_would_read() {
        assert_eq!(
            escaped("<a href='x'>\"&amp;\"</a>"),
            "&lt;a href=&#39;x&#39;&gt;&quot;&amp;amp;&quot;&lt;/a&gt;"
        );
        assert_eq!(escaped("é\u{2028}ok"), "é\u{2028}ok");
    }

    #[test]
    fn chunks_keep_every_byte_and_break_at_line_starts() {
        let line = "a <b> & c\n";
        let text = line.repeat(5000);
        let mut out = String::new();
        let mut c = Chunked::new(&mut out);
        c.text(&text[..20_000]);
        c.maybe_break();
        c.text(&text[20_000..]);
        c.finish();
        assert_eq!(text_of(&out), text);
        let chunks: Vec<&str> = out.split("<div class=\"chunk\">").skip(1).collect();
        assert!(chunks.len() >= 3, "{} chunks", chunks.len());
        for ch in &chunks {
            assert!(ch.starts_with("a &lt;b&gt;"), "{}", &ch[..20]);
            assert!(ch.ends_with("\n</div>"));
            assert!(text_of(ch).len() < CHUNK_BYTES + line.len() + 1);
        }
    }

    #[test]
    fn overlapping_phrases_become_pieces() {
        let mut r = Region {
            phrases: vec![Span::new(5, 15), Span::new(0, 10), Span::new(20, 25)],
            ..Region::default()
        };
        assert_eq!(r.cut_pieces(7), 11);
        assert_eq!(
            r.pieces,
            [
                Span::new(0, 5),
                Span::new(5, 10),
                Span::new(10, 15),
                Span::new(20, 25)
            ]
        );
        let mut ids = Vec::new();
        r.pieces_of(&[Span::new(5, 15)], &mut ids);
        assert_eq!(ids, [8, 9]);
    }

    #[test]
    fn doc_page_marks_the_finding_its_source_and_their_shared_words() {
        let text = "Volcanic ash grounded flights across northern Europe for three days.\n\n\
                    Airlines lost millions while stranded passengers slept in terminals.\n\n\
                    Engineers later tested engines against ash concentration limits.\n\n\
                    In short, volcanic ash grounded European flights, airlines lost millions \
                    and stranded passengers slept in terminals.\n";
        let report = DocAnalyzer::new(DocOptions::default())
            .unwrap()
            .analyze("a <doc>".into(), text);
        let mut printer = HtmlDocPrinter::new("english").unwrap();
        let mut out = Vec::new();
        printer.document(&mut out, &report, text).unwrap();
        printer.finish(&mut out).unwrap();
        let page = String::from_utf8(out).unwrap();
        assert!(page.contains("<title>deja: a &lt;doc&gt;</title>"));
        let f = &report.findings[0];
        assert!(page.contains(&format!(
            "<span class=\"para fnd k-restatement\" id=\"r0-{}\" data-line=\"7\" data-p=\"3\" data-f=\"0\"",
            f.span.start
        )));
        assert!(page.contains("<span class=\"para\" id=\"r0-0\" data-line=\"1\" data-p=\"0\">"));
        // "volcanic ash grounded" is shared by the recap and paragraph 0: one piece in the
        // source (a source of this finding alone), pieces in the recap.
        assert!(page.contains(">Volcanic ash grounded</span>"), "{page}");
        let recap = &page[page.find("data-p=\"3\"").unwrap()..];
        let recap = &recap[..recap.find("\n</span>").unwrap()];
        assert!(recap.contains("<span class=\"w\" id=\"w0-"), "{recap}");
        let data = &page[page.find("{\"f\":").unwrap()..];
        assert!(data.starts_with(&format!("{{\"f\":[[0,{},[[0,", f.span.start)));
        assert!(data.contains("[0,0,["), "paragraph 0 is a source: {data}");
        // The text is all there, once.
        let body = &page[page.find("<div class=\"text\">").unwrap()..];
        let body = &body[..body.find("</section>").unwrap()];
        assert_eq!(text_of(body), text);
    }
}
