//! Report: result types → human, json, jsonl, sarif, github and html output. One printer per
//! format, all fed by the same [`DocReport`]s, writing to any `impl Write`, in input order.

mod check;
mod corpus;
pub mod github;
mod html;
mod human;
mod json;
pub mod sarif;

pub use check::{describe, level, source_verb, write_check};
pub use corpus::write_corpus;
pub use github::GithubDocPrinter;
pub use html::{write_check_html, HtmlDocPrinter};
pub use human::HumanDocPrinter;
pub use json::{JsonDocPrinter, JsonlDocPrinter};
pub use sarif::SarifDocPrinter;

use crate::findings::DocReport;
use std::io::{self, Write};

/// Output format of a command.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Readable text with excerpts (coloured on a terminal).
    Human,
    /// One JSON document (DESIGN §5).
    Json,
    /// One JSON record per line.
    Jsonl,
    /// SARIF 2.1.0, for code-scanning upload.
    Sarif,
    /// GitHub Actions workflow commands (annotations).
    Github,
    /// One self-contained HTML page: the text with its findings marked (doc and check).
    Html,
}

/// Version of the JSON contract.
pub const JSON_VERSION: u32 = 1;

/// Prints `deja doc` reports one document at a time.
pub trait DocPrinter {
    /// Prints one document's report; `text` is the document's text (for excerpts).
    fn document(&mut self, out: &mut dyn Write, report: &DocReport, text: &str) -> io::Result<()>;
    /// Closes the output after the last document.
    fn finish(&mut self, out: &mut dyn Write) -> io::Result<()>;
}

/// A printer for `format`; `color` only affects the human format, `language` (that of the
/// analysis) the words the HTML page shows as shared.
pub fn doc_printer(
    format: Format,
    color: bool,
    language: &str,
) -> crate::Result<Box<dyn DocPrinter>> {
    Ok(match format {
        Format::Human => Box::new(HumanDocPrinter::new(color)),
        Format::Json => Box::new(JsonDocPrinter::default()),
        Format::Jsonl => Box::new(JsonlDocPrinter),
        Format::Sarif => Box::new(SarifDocPrinter::default()),
        Format::Github => Box::new(GithubDocPrinter),
        Format::Html => Box::new(HtmlDocPrinter::new(language)?),
    })
}

/// The first `max` chars of `s` on one line, with an ellipsis when cut.
pub fn excerpt(s: &str, max: usize) -> String {
    let flat: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    match flat.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", flat[..cut].trim_end()),
        None => flat,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpts_are_cut_on_chars() {
        assert_eq!(excerpt("a  b\nc", 10), "a b c");
        assert_eq!(excerpt("ééééé", 3), "ééé…");
    }
}
