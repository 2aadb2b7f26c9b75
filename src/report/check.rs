//! Printers of `deja check`: human (each finding with its evidence), json and jsonl; SARIF and
//! GitHub annotations live in `sarif.rs` and `github.rs`, the HTML page in `html.rs`. All but
//! the page (which lists them apart) print only the findings that the baseline does not accept,
//! in path and position order.

use super::{Format, JSON_VERSION};
use crate::check::{CheckFinding, CheckReport};
use serde_json::json;
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
            let v = json!({
                "version": JSON_VERSION,
                "documents": report.documents,
                "checked": report.checked,
                "baselined": report.baselined(),
                "failing": report.failing(),
                "findings": report.new_findings().collect::<Vec<_>>(),
            });
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

fn write_finding(out: &mut dyn Write, f: &CheckFinding, color: bool) -> io::Result<()> {
    let level = if f.failing {
        paint(color, "1;31", "error")
    } else {
        paint(color, "1;33", "warning")
    };
    writeln!(
        out,
        "{}:{}:{}: {level}[{}] score {:.2}",
        paint(color, "1", &f.location.path),
        f.location.line,
        f.location.column,
        f.kind,
        f.score
    )?;
    writeln!(out, "    \"{}\"", f.excerpt)?;
    let verb = match f.kind {
        crate::config::CheckKind::CrossFile => "copied from",
        crate::config::CheckKind::Restatement => "restates",
        _ => "repeats",
    };
    for s in &f.sources {
        writeln!(
            out,
            "    {} {}:{}  score {:.2}  \"{}\"",
            paint(color, "2", verb),
            paint(color, "36", &s.location.path),
            s.location.line,
            s.score,
            s.excerpt
        )?;
        if let Some(sent) = &s.sentence {
            writeln!(
                out,
                "        {} \"{sent}\"",
                paint(color, "2", "best sentence:")
            )?;
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
