//! The SARIF 2.1.0 printer: one result per finding, for code-scanning upload.
//!
//! Each kind has a rule (`deja/duplicate`, `deja/near-duplicate`, `deja/restatement`,
//! `deja/cross-file`); a result has the paragraph's region (line and column, columns counted in
//! Unicode code points), its sources as `relatedLocations` linked from the message text
//! (`[text](id)`, the only way GitHub shows them), and a `partialFingerprints` entry so that a
//! finding keeps its identity across runs. Failing findings are `error`, the others `warning`.

use super::DocPrinter;
use crate::check::{from_doc_finding, CheckFinding, CheckReport, Location};
use crate::config::CheckKind;
use crate::findings::DocReport;
use crate::span::LineIndex;
use serde_json::{json, Value};
use std::io::{self, Write};

/// Schema URI written in `$schema`.
pub const SARIF_SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// The key of deja's fingerprint in `partialFingerprints`.
pub const FINGERPRINT_KEY: &str = "dejaFingerprint/v1";

/// The SARIF rule id of a kind.
pub fn rule_id(kind: CheckKind) -> &'static str {
    match kind {
        CheckKind::Duplicate => "deja/duplicate",
        CheckKind::NearDuplicate => "deja/near-duplicate",
        CheckKind::Restatement => "deja/restatement",
        CheckKind::CrossFile => "deja/cross-file",
    }
}

fn rule(kind: CheckKind) -> Value {
    let (name, short, full) = match kind {
        CheckKind::Duplicate => (
            "Duplicate",
            "Paragraph repeats an earlier paragraph",
            "The paragraph repeats an earlier paragraph of the same document word for word (mean Jaccard of its word 1-, 2- and 3-grams at or above the duplicate threshold).",
        ),
        CheckKind::NearDuplicate => (
            "NearDuplicate",
            "Paragraph is an edited copy of an earlier paragraph",
            "The paragraph is an edited copy of an earlier paragraph of the same document (mean Jaccard of its word 1-, 2- and 3-grams at or above the near-duplicate threshold).",
        ),
        CheckKind::Restatement => (
            "Restatement",
            "Paragraph restates earlier text",
            "Most of the paragraph's content words and word pairs, weighted by rarity, were already said earlier in the document, in one or several paragraphs.",
        ),
        CheckKind::CrossFile => (
            "CrossFile",
            "Paragraph copied from another document",
            "The paragraph is a copy or an edited copy of a paragraph of another document of the repository (shingle Jaccard at or above the cross-file threshold).",
        ),
    };
    json!({
        "id": rule_id(kind),
        "name": name,
        "shortDescription": {"text": short},
        "fullDescription": {"text": full},
        "help": {
            "text": format!("{full} Remove or rewrite the paragraph, link to the other text instead of repeating it, accept it in the baseline (`deja check --write-baseline`), or put `<!-- deja-ignore -->` (reST `.. deja-ignore`, AsciiDoc `// deja-ignore`) on the line before it."),
        },
        "defaultConfiguration": {"level": "error"},
        "properties": {"tags": ["documentation", "redundancy"]},
    })
}

fn physical(loc: &Location) -> Value {
    json!({
        "artifactLocation": {"uri": uri(&loc.path), "uriBaseId": "%SRCROOT%"},
        "region": {
            "startLine": loc.line,
            "startColumn": loc.column,
            "endLine": loc.end_line,
            "endColumn": loc.end_column,
        },
    })
}

/// A relative path as a URI reference: `/`-separated, with reserved characters escaped.
fn uri(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Escapes `[` and `]` for SARIF message text, where `[text](id)` is a link.
fn escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('[', "\\[")
        .replace(']', "\\]")
}

/// The message of a finding, its sources linked to their related locations (ids from 1).
pub fn message(f: &CheckFinding) -> String {
    let links: Vec<String> = f
        .sources
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let name = if s.location.path == f.location.path {
                format!("line {}", s.location.line)
            } else {
                format!("{}:{}", s.location.path, s.location.line)
            };
            format!("[{}]({})", escape(&name), i + 1)
        })
        .collect();
    let list = links.join(", ");
    let score = format!("{:.2}", f.score);
    match f.kind {
        CheckKind::Duplicate => {
            format!("This paragraph repeats the paragraph at {list} (similarity {score}).")
        }
        CheckKind::NearDuplicate => format!(
            "This paragraph is an edited copy of the paragraph at {list} (similarity {score})."
        ),
        CheckKind::Restatement => {
            format!("This paragraph restates earlier text ({score} of its content): {list}.")
        }
        CheckKind::CrossFile => {
            format!("This paragraph is copied from {list} (similarity {score}).")
        }
    }
}

/// The SARIF log of `findings`.
pub fn sarif_log<'a>(findings: impl IntoIterator<Item = &'a CheckFinding>) -> Value {
    let results: Vec<Value> = findings
        .into_iter()
        .map(|f| {
            let related: Vec<Value> = f
                .sources
                .iter()
                .enumerate()
                .map(|(i, s)| {
                    let mut v = physical(&s.location);
                    let text = match &s.sentence {
                        Some(sent) => format!("Source (score {:.2}): {}", s.score, sent),
                        None => format!("Source (score {:.2}): {}", s.score, s.excerpt),
                    };
                    json!({"id": i + 1, "physicalLocation": v.take(), "message": {"text": text}})
                })
                .collect();
            json!({
                "ruleId": rule_id(f.kind),
                "ruleIndex": CheckKind::ALL.iter().position(|k| *k == f.kind).unwrap_or(0),
                "level": if f.failing { "error" } else { "warning" },
                "message": {"text": message(f)},
                "locations": [{"physicalLocation": physical(&f.location)}],
                "relatedLocations": related,
                "partialFingerprints": {FINGERPRINT_KEY: f.fingerprint},
                "properties": {"score": f.score, "kind": f.kind.as_str()},
            })
        })
        .collect();
    json!({
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "deja",
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "version": env!("CARGO_PKG_VERSION"),
                "rules": CheckKind::ALL.iter().map(|k| rule(*k)).collect::<Vec<_>>(),
            }},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    })
}

/// Writes the SARIF log of a check report's new findings.
pub fn write_check_sarif(out: &mut dyn Write, report: &CheckReport) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &sarif_log(report.new_findings()))?;
    out.write_all(b"\n")
}

/// SARIF for `deja doc`: every finding is a warning; written when the last document is done.
#[derive(Default)]
pub struct SarifDocPrinter {
    findings: Vec<CheckFinding>,
}

impl DocPrinter for SarifDocPrinter {
    fn document(&mut self, _out: &mut dyn Write, report: &DocReport, text: &str) -> io::Result<()> {
        let path = match &report.id {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let lines = LineIndex::new(text);
        self.findings.extend(
            report
                .findings
                .iter()
                .map(|f| from_doc_finding(&path, text, &lines, f, false)),
        );
        Ok(())
    }

    fn finish(&mut self, out: &mut dyn Write) -> io::Result<()> {
        serde_json::to_writer_pretty(&mut *out, &sarif_log(&self.findings))?;
        out.write_all(b"\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_and_escapes() {
        assert_eq!(uri("docs/a b.md"), "docs/a%20b.md");
        assert_eq!(uri("docs/é.md"), "docs/%C3%A9.md");
        assert_eq!(escape("a[1]"), "a\\[1\\]");
    }
}
