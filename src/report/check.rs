//! Printers of `deja check`: human (each finding with its evidence), json and jsonl; SARIF and
//! GitHub annotations live in `sarif.rs` and `github.rs`, the HTML page in `html.rs`. All but
//! the page (which lists them apart) print only the findings that the baseline does not accept,
//! in path and position order.

use super::{Format, JSON_VERSION};
use crate::check::{CheckFinding, CheckReport, CheckSource};
use crate::config::CheckKind;
use std::io::{self, Write};

/// Writes `report` in `format`; `color` only affects the human format.
pub fn write_check(
    out: &mut dyn Write,
    report: &CheckReport,
    format: Format,
    color: bool,
) -> io::Result<()> {
    match format {
        Format::Human => write_human(out, report, color),
        Format::Json => {
            // Serialized as it is, field by field (no `serde_json::Value` in between).
            #[derive(serde::Serialize)]
            struct Wire<'a> {
                version: u32,
                documents: usize,
                checked: usize,
                baselined: usize,
                failing: usize,
                findings: Vec<&'a CheckFinding>,
            }
            let v = Wire {
                version: JSON_VERSION,
                documents: report.documents,
                checked: report.checked,
                baselined: report.baselined(),
                failing: report.failing(),
                findings: report.new_findings().collect(),
            };
            serde_json::to_writer_pretty(&mut *out, &v)?;
            out.write_all(b"\n")
        }
        Format::Jsonl => {
            for f in report.new_findings() {
                serde_json::to_writer(&mut *out, f)?;
                out.write_all(b"\n")?;
            }
            Ok(())
        }
        Format::Sarif => super::sarif::write_check_sarif(out, report),
        Format::Github => super::github::write_check_github(out, report),
        Format::Html => super::html::write_check_html(out, report),
    }
}

fn paint(color: bool, code: &str, s: &str) -> String {
    if color {
        format!("\x1b[{code}m{s}\x1b[0m")
    } else {
        s.to_string()
    }
}

/// The level a finding is reported at: `error` when the policy fails on it, else `warning`.
pub fn level(f: &CheckFinding) -> &'static str {
    if f.failing {
        "error"
    } else {
        "warning"
    }
}

/// What a finding does to its sources: `copied from`, `restates` or `repeats`.
pub fn source_verb(kind: CheckKind) -> &'static str {
    match kind {
        CheckKind::CrossFile => "copied from",
        CheckKind::Restatement => "restates",
        _ => "repeats",
    }
}

/// One source as the human report lists it: `restates a.md:2  score 0.41  "excerpt"`, and
/// its best sentence on the next line when known.
fn source_lines(f: &CheckFinding, s: &CheckSource, color: bool) -> String {
    let mut out = format!(
        "{} {}:{}  score {:.2}  \"{}\"",
        paint(color, "2", source_verb(f.kind)),
        paint(color, "36", &s.location.path),
        s.location.line,
        s.score,
        s.excerpt
    );
    if let Some(sent) = &s.sentence {
        out.push_str(&format!(
            "\n    {} \"{sent}\"",
            paint(color, "2", "best sentence:")
        ));
    }
    out
}

/// A finding in the words of the human report, without colour and without its place and
/// level (which an editor shows apart): `restatement score 0.74`, then each source on a line of
/// its own with its best sentence. The language server's diagnostics carry it.
pub fn describe(f: &CheckFinding) -> String {
    let mut out = format!("{} score {:.2}", f.kind, f.score);
    for s in &f.sources {
        out.push('\n');
        out.push_str(&source_lines(f, s, false));
    }
    out
}

fn write_finding(out: &mut dyn Write, f: &CheckFinding, color: bool) -> io::Result<()> {
    let code = if f.failing { "1;31" } else { "1;33" };
    writeln!(
        out,
        "{}:{}:{}: {}[{}] score {:.2}",
        paint(color, "1", &f.location.path),
        f.location.line,
        f.location.column,
        paint(color, code, level(f)),
        f.kind,
        f.score
    )?;
    writeln!(out, "    \"{}\"", f.excerpt)?;
    for s in &f.sources {
        for line in source_lines(f, s, color).lines() {
            writeln!(out, "    {line}")?;
        }
    }
    Ok(())
}

fn write_human(out: &mut dyn Write, report: &CheckReport, color: bool) -> io::Result<()> {
    let mut n = 0;
    for f in report.new_findings() {
        write_finding(out, f, color)?;
        n += 1;
    }
    let failing = report.failing();
    let baselined = report.baselined();
    let mut summary = format!(
        "{n} finding{} ({failing} failing) in {} checked document{}",
        if n == 1 { "" } else { "s" },
        report.checked,
        if report.checked == 1 { "" } else { "s" }
    );
    if report.documents > report.checked {
        summary.push_str(&format!(" ({} read)", report.documents));
    }
    if baselined > 0 {
        summary.push_str(&format!("; {baselined} accepted by the baseline"));
    }
    writeln!(out, "{summary}")
}
