//! The human printer: each finding with its line, kind, score, an excerpt, and its evidence.

use super::{excerpt, DocPrinter};
use crate::findings::{DocReport, Explanation};
use std::io::{self, Write};

/// Readable text; ANSI colours when `color`.
pub struct HumanDocPrinter {
    color: bool,
    documents: usize,
    findings: usize,
}

impl HumanDocPrinter {
    /// A printer, coloured or not.
    pub fn new(color: bool) -> Self {
        HumanDocPrinter {
            color,
            documents: 0,
            findings: 0,
        }
    }

    fn paint(&self, code: &str, s: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
}

/// Features listed per explanation: those that moved the log-odds most.
const EXPLAINED_FEATURES: usize = 8;

impl HumanDocPrinter {
    /// The features that moved the probability most, each with its value and contribution.
    fn explanation(&self, out: &mut dyn Write, e: &Explanation) -> io::Result<()> {
        let mut by_effect: Vec<_> = e.features.iter().collect();
        by_effect.sort_by(|a, b| b.contribution.abs().total_cmp(&a.contribution.abs()));
        let parts: Vec<String> = by_effect
            .iter()
            .take(EXPLAINED_FEATURES)
            .map(|f| format!("{} {:.2} ({:+.2})", f.name, f.value, f.contribution))
            .collect();
        writeln!(
            out,
            "    {} probability {:.3}: {}",
            self.paint("2", "why:"),
            e.probability,
            parts.join(", ")
        )
    }
}

impl DocPrinter for HumanDocPrinter {
    fn document(&mut self, out: &mut dyn Write, report: &DocReport, text: &str) -> io::Result<()> {
        self.documents += 1;
        self.findings += report.findings.len();
        let id = match &report.id {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let n = report.findings.len();
        writeln!(
            out,
            "{}: {} of {} paragraphs",
            self.paint("1", &id),
            if n == 0 {
                "nothing redundant".to_string()
            } else {
                format!("{n} redundant")
            },
            report.paragraphs.len()
        )?;
        for f in &report.findings {
            let body = text.get(f.span.start..f.span.end).unwrap_or("");
            writeln!(
                out,
                "  {}  {}  score {:.2}  paragraph {} [{}..{}]",
                self.paint("36", &format!("line {}", f.line)),
                self.paint("1;33", f.kind.as_str()),
                f.score,
                f.paragraph,
                f.span.start,
                f.span.end
            )?;
            writeln!(out, "    \"{}\"", excerpt(body, 100))?;
            for s in &f.sources {
                let src = text.get(s.span.start..s.span.end).unwrap_or("");
                writeln!(
                    out,
                    "    {} {}  paragraph {}  score {:.2}  \"{}\"",
                    self.paint("2", "repeats"),
                    self.paint("36", &format!("line {}", s.line)),
                    s.paragraph,
                    s.score,
                    excerpt(src, 70)
                )?;
                if let Some(sent) = &s.sentence {
                    let st = text.get(sent.span.start..sent.span.end).unwrap_or("");
                    writeln!(
                        out,
                        "        {} \"{}\"",
                        self.paint("2", "best sentence:"),
                        excerpt(st, 90)
                    )?;
                }
            }
            if let Some(e) = &f.explain {
                self.explanation(out, e)?;
            }
        }
        if !report.near_misses.is_empty() {
            writeln!(out, "  {}", self.paint("2", "near misses:"))?;
        }
        for m in &report.near_misses {
            let body = text.get(m.span.start..m.span.end).unwrap_or("");
            writeln!(
                out,
                "  {}  {}  probability {:.2}  paragraph {}  \"{}\"",
                self.paint("36", &format!("line {}", m.line)),
                self.paint("2", "not a restatement"),
                m.explain.probability,
                m.paragraph,
                excerpt(body, 70)
            )?;
            self.explanation(out, &m.explain)?;
        }
        Ok(())
    }

    fn finish(&mut self, out: &mut dyn Write) -> io::Result<()> {
        if self.documents > 1 {
            writeln!(
                out,
                "{} findings in {} documents",
                self.findings, self.documents
            )?;
        }
        Ok(())
    }
}
