//! The GitHub Actions printer: one workflow command per finding,
//! `::error file=…,line=…,endLine=…,title=…::message` for findings the policy fails on and
//! `::warning …` for the others; GitHub shows them as annotations on the pull request.

use super::DocPrinter;
use crate::check::{from_doc_finding, CheckFinding, CheckReport};
use crate::config::CheckKind;
use crate::findings::DocReport;
use crate::span::LineIndex;
use std::io::{self, Write};

/// Escapes a workflow command's message (`%`, CR, LF).
pub fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a workflow command's property value (also `:` and `,`).
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// The annotation text of a finding: what it repeats, where, and its excerpt.
fn describe(f: &CheckFinding) -> String {
    let single = f.sources.len() == 1;
    let sources: Vec<String> = f
        .sources
        .iter()
        .map(|s| {
            let place = if s.location.path == f.location.path {
                format!("line {}", s.location.line)
            } else {
                format!("{}:{}", s.location.path, s.location.line)
            };
            if single {
                place
            } else {
                format!("{place} ({:.2})", s.score)
            }
        })
        .collect();
    let what = match f.kind {
        CheckKind::Duplicate => "Repeats the paragraph at",
        CheckKind::NearDuplicate => "Edited copy of the paragraph at",
        CheckKind::Restatement => "Restates earlier text at",
        CheckKind::CrossFile => "Copied from",
    };
    let mut msg = format!(
        "{what} {} (score {:.2}): \"{}\"",
        sources.join(", "),
        f.score,
        f.excerpt
    );
    if let Some(sent) = f.sources.first().and_then(|s| s.sentence.as_ref()) {
        msg.push_str(&format!("\nbest matching sentence: \"{sent}\""));
    }
    msg
}

/// Writes one annotation.
pub fn write_annotation(out: &mut dyn Write, f: &CheckFinding) -> io::Result<()> {
    let level = if f.failing { "error" } else { "warning" };
    let mut props = format!(
        "file={},line={},endLine={}",
        escape_property(&f.location.path),
        f.location.line,
        f.location.end_line
    );
    if f.location.line == f.location.end_line {
        props.push_str(&format!(
            ",col={},endColumn={}",
            f.location.column, f.location.end_column
        ));
    }
    props.push_str(&format!(
        ",title={}",
        escape_property(&format!("deja {}", f.kind))
    ));
    writeln!(out, "::{level} {props}::{}", escape_data(&describe(f)))
}

/// Writes the annotations of a check report's new findings.
pub fn write_check_github(out: &mut dyn Write, report: &CheckReport) -> io::Result<()> {
    for f in report.new_findings() {
        write_annotation(out, f)?;
    }
    Ok(())
}

/// GitHub annotations for `deja doc` (every finding a warning).
#[derive(Default)]
pub struct GithubDocPrinter;

impl DocPrinter for GithubDocPrinter {
    fn document(&mut self, out: &mut dyn Write, report: &DocReport, text: &str) -> io::Result<()> {
        let path = match &report.id {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let lines = LineIndex::new(text);
        for f in &report.findings {
            write_annotation(out, &from_doc_finding(&path, text, &lines, f, false))?;
        }
        Ok(())
    }

    fn finish(&mut self, _out: &mut dyn Write) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        assert_eq!(escape_data("50% a\nb"), "50%25 a%0Ab");
        assert_eq!(escape_property("a:b,c"), "a%3Ab%2Cc");
    }
}
