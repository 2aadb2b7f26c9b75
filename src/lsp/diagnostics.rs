//! Findings of `deja check` → what the editor shows: diagnostics (kind, score and the human
//! report's wording, sources as related information), hovers (the evidence sentences) and quick
//! fixes (delete the paragraph, or suppress it with the markup's `deja-ignore` marker).

use super::position::{Encoding, LineMap};
use crate::check::CheckFinding;
use crate::report::{describe, source_verb};
use crate::segment::{removal_span, Markup};
use lsp_types::{
    CodeAction, CodeActionKind, Diagnostic, DiagnosticRelatedInformation, DiagnosticSeverity,
    Location, MarkupContent, MarkupKind, NumberOrString, TextEdit, Uri, WorkspaceEdit,
};
use std::collections::HashMap;

/// The name diagnostics carry as their `source`.
pub const SOURCE: &str = "deja";

/// A text the server holds: an open document or a file of the workspace.
pub struct Text<'a> {
    /// Its URI.
    pub uri: Uri,
    /// Its content, as analysed.
    pub text: &'a str,
    /// Its lines.
    pub lines: LineMap,
}

impl<'a> Text<'a> {
    /// `text` at `uri`.
    pub fn new(uri: Uri, text: &'a str) -> Text<'a> {
        Text {
            uri,
            lines: LineMap::new(text),
            text,
        }
    }

    fn range(&self, span: crate::Span, enc: Encoding) -> lsp_types::Range {
        self.lines.range(self.text, span.start, span.end, enc)
    }
}

/// The diagnostic of finding `f` of the document `doc`: an error when the policy fails on it,
/// a warning otherwise. `other` gives the text of another file of the workspace (by path
/// relative to the config's directory), for the related information of cross-file copies.
pub fn diagnostic<'a>(
    f: &CheckFinding,
    doc: &Text<'_>,
    other: &dyn Fn(&str) -> Option<Text<'a>>,
    enc: Encoding,
) -> Diagnostic {
    let mut cache: HashMap<&str, Option<Text<'a>>> = HashMap::new();
    let related = f
        .sources
        .iter()
        .filter_map(|s| {
            let range_uri = if s.location.path == f.location.path {
                Some((doc.range(s.location.span, enc), doc.uri.clone()))
            } else {
                cache
                    .entry(s.location.path.as_str())
                    .or_insert_with(|| other(&s.location.path))
                    .as_ref()
                    .map(|t| (t.range(s.location.span, enc), t.uri.clone()))
            };
            let (range, uri) = range_uri?;
            Some(DiagnosticRelatedInformation {
                location: Location { uri, range },
                message: format!(
                    "{} this, score {:.2}: \"{}\"",
                    related_verb(f),
                    s.score,
                    s.sentence.as_deref().unwrap_or(&s.excerpt)
                ),
            })
        })
        .collect();
    Diagnostic {
        range: doc.range(f.location.span, enc),
        severity: Some(if f.failing {
            DiagnosticSeverity::ERROR
        } else {
            DiagnosticSeverity::WARNING
        }),
        code: Some(NumberOrString::String(f.kind.to_string())),
        source: Some(SOURCE.to_string()),
        message: describe(f),
        related_information: Some(related),
        ..Diagnostic::default()
    }
}

/// The diagnostic at the original of a cross-file copy: information (the copy is the one
/// reported, in the later file), at `span` of `doc`, naming each file that copies it, with the
/// copies as related information. `copies` are the findings whose sources include `span`.
pub fn copied_in<'a>(
    span: crate::Span,
    copies: &[CheckFinding],
    doc: &Text<'_>,
    other: &dyn Fn(&str) -> Option<Text<'a>>,
    enc: Encoding,
) -> Diagnostic {
    let mut places = Vec::new();
    let mut related = Vec::new();
    for f in copies {
        let score = (f.sources.iter())
            .find(|s| s.location.span == span)
            .map_or(f.score, |s| s.score);
        places.push(format!(
            "{}:{} (score {score:.2})",
            f.location.path, f.location.line
        ));
        if let Some(t) = other(&f.location.path) {
            related.push(DiagnosticRelatedInformation {
                location: Location {
                    uri: t.uri.clone(),
                    range: t.range(f.location.span, enc),
                },
                message: format!("copy of this, score {score:.2}: \"{}\"", f.excerpt),
            });
        }
    }
    Diagnostic {
        range: doc.range(span, enc),
        severity: Some(DiagnosticSeverity::INFORMATION),
        code: Some(NumberOrString::String(
            crate::config::CheckKind::CrossFile.to_string(),
        )),
        source: Some(SOURCE.to_string()),
        message: format!(
            "cross_file: this paragraph is copied in {} (reported there)",
            places.join(", ")
        ),
        related_information: Some(related),
        ..Diagnostic::default()
    }
}

/// How a source relates to the finding, seen from the source: "restated by", "copied to", …
fn related_verb(f: &CheckFinding) -> &'static str {
    match source_verb(f.kind) {
        "copied from" => "copied to",
        "restates" => "restated by",
        _ => "repeated by",
    }
}

/// Escapes text for Markdown, so that a document's own markup shows as written.
fn escape_markdown(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if "\\`*_[]<>#|!~".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The hover of finding `f`: its kind and score, then for each source where it is and the
/// sentence of it that the paragraph repeats (the source's start when no sentence is known).
pub fn hover(f: &CheckFinding) -> MarkupContent {
    let mut md = format!(
        "**deja: {}** score {:.2}{}\n",
        f.kind,
        f.score,
        if f.failing { " (fails the check)" } else { "" }
    );
    for s in &f.sources {
        let place = if s.location.path == f.location.path {
            format!("line {}", s.location.line)
        } else {
            format!("{}:{}", s.location.path, s.location.line)
        };
        let (label, quote) = match &s.sentence {
            Some(sent) => ("best sentence", sent),
            None => ("paragraph", &s.excerpt),
        };
        md.push_str(&format!(
            "\n{} {} (score {:.2}), {label}:\n\n> {}\n",
            source_verb(f.kind),
            escape_markdown(&place),
            s.score,
            escape_markdown(quote)
        ));
    }
    MarkupContent {
        kind: MarkupKind::Markdown,
        value: md,
    }
}

/// The quick fixes of finding `f` in `doc` (read in `markup`): delete the paragraph, or insert
/// the suppression marker before it. `diagnostic` is the one they fix.
pub fn code_actions(
    f: &CheckFinding,
    doc: &Text<'_>,
    markup: Markup,
    diagnostic: &Diagnostic,
    enc: Encoding,
) -> Vec<CodeAction> {
    let edit = |start: usize, end: usize, new_text: String| WorkspaceEdit {
        changes: Some(HashMap::from([(
            doc.uri.clone(),
            vec![TextEdit {
                range: doc.lines.range(doc.text, start, end, enc),
                new_text,
            }],
        )])),
        ..WorkspaceEdit::default()
    };
    let cut = removal_span(doc.text, f.location.span);
    let (at, marker) = markup.suppression_marker(doc.text, f.location.span.start);
    let what = f.kind.to_string().replace('_', " ");
    vec![
        CodeAction {
            title: format!("Delete the redundant paragraph ({what})"),
            kind: Some(CodeActionKind::QUICKFIX),
            diagnostics: Some(vec![diagnostic.clone()]),
            edit: Some(edit(cut.start, cut.end, String::new())),
            is_preferred: Some(f.kind != crate::config::CheckKind::CrossFile),
            ..CodeAction::default()
        },
        CodeAction {
            title: format!("Suppress this finding ({})", marker.trim()),
            kind: Some(CodeActionKind::QUICKFIX),
            diagnostics: Some(vec![diagnostic.clone()]),
            edit: Some(edit(at, at, marker)),
            ..CodeAction::default()
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::{check_documents, CheckOptions, InputFile};
    use crate::config::Config;

    const COPY: &str = "Every release is built from a signed tag, and the maintainers publish the checksums next to the archives.";

    fn uri(s: &str) -> Uri {
        s.parse().unwrap()
    }

    #[test]
    fn cross_file_sources_point_into_the_other_file_in_utf16() {
        // The original sits after non-ASCII text on its line's paragraph start.
        let a = format!("# Ä\n\n{COPY}\n");
        let b = format!("# 😀 Über\n\nIntro of b, naïve.\n\n{COPY}\n");
        let files = vec![
            InputFile {
                path: "a.md".into(),
                text: a.clone(),
            },
            InputFile {
                path: "b.md".into(),
                text: b.clone(),
            },
        ];
        let r = check_documents(&Config::default(), &CheckOptions::default(), files).unwrap();
        assert_eq!(r.findings.len(), 1);
        let f = &r.findings[0];
        let doc = Text::new(uri("file:///w/b.md"), &b);
        let other = |p: &str| (p == "a.md").then(|| Text::new(uri("file:///w/a.md"), &a));
        let d = diagnostic(f, &doc, &other, Encoding::Utf16);
        assert_eq!(d.range.start, lsp_types::Position::new(4, 0));
        assert_eq!(d.range.end.character as usize, COPY.len());
        assert_eq!(d.severity, Some(DiagnosticSeverity::ERROR));
        assert!(d
            .message
            .starts_with("cross_file score 1.00\ncopied from a.md:3"));
        let rel = d.related_information.clone().unwrap();
        assert_eq!(rel.len(), 1);
        assert_eq!(rel[0].location.uri, uri("file:///w/a.md"));
        assert_eq!(rel[0].location.range.start, lsp_types::Position::new(2, 0));
        // Quick fixes: the delete takes the paragraph and its line; the marker goes before it.
        let actions = code_actions(f, &doc, Markup::Markdown, &d, Encoding::Utf16);
        let edits: Vec<&TextEdit> = actions
            .iter()
            .map(|a| &a.edit.as_ref().unwrap().changes.as_ref().unwrap()[&doc.uri][0])
            .collect();
        assert_eq!(edits[0].range.start, lsp_types::Position::new(4, 0));
        assert_eq!(edits[0].range.end, lsp_types::Position::new(5, 0));
        assert_eq!(edits[1].new_text, "<!-- deja-ignore -->\n");
        assert_eq!(edits[1].range.start, lsp_types::Position::new(4, 0));
        let h = hover(f);
        assert!(h.value.contains("copied from a.md:3"), "{}", h.value);
    }

    #[test]
    fn hover_escapes_markdown() {
        assert_eq!(escape_markdown("<b>*x*</b>"), "\\<b\\>\\*x\\*\\</b\\>");
    }
}
