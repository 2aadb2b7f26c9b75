//! The human printer: each finding with its line, kind, score, an excerpt, and its evidence.

use super::{excerpt, DocPrinter};
use crate::findings::DocReport;
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
