//! What `deja dedup --strip-repeated-paragraphs N` takes out of a kept document: each paragraph
//! found in N or more documents, except in the first document (in input order) that has it,
//! like Dolma's paragraph dedup. The CLI and the Python package both strip through
//! [`RepeatStripper`], so the same corpus gives the same text in either.
//!
//! ```
//! use deja::corpus::{CorpusBuilder, CorpusOptions};
//! use deja::input::Document;
//! use deja::strip::RepeatStripper;
//! let footer = "Subscribe to our newsletter for more stories like this one every week.";
//! let texts = [
//!     format!("First story about the harbour and its old cranes.\n\n{footer}"),
//!     format!("Second story about the mountain railway in winter.\n\n{footer}"),
//!     format!("Third story about a bakery that opens at four.\n\n{footer}"),
//! ];
//! let mut builder = CorpusBuilder::new(CorpusOptions { min_repeat: 3, ..Default::default() }).unwrap();
//! let docs: Vec<Document> =
//!     texts.iter().enumerate().map(|(i, t)| Document { id: i.into(), text: t.clone() }).collect();
//! builder.add_documents(&docs).unwrap();
//! let (report, counts) = builder.finish().unwrap();
//! let stripper = RepeatStripper::new(&report, &counts, 2, 3);
//! assert!(stripper.strip(&texts[0], 0).is_none()); // the footer's first document keeps it
//! let second = stripper.strip(&texts[1], 1).unwrap();
//! assert_eq!(second.text, "Second story about the mountain railway in winter.\n\n");
//! assert_eq!(second.paragraphs, 1);
//! ```

use crate::corpus::{CorpusReport, Sketcher};
use crate::group::ParagraphCounter;

/// Strips paragraphs repeated in at least `min` documents, by the counts of a corpus run.
pub struct RepeatStripper<'a> {
    sketcher: Sketcher,
    counts: &'a ParagraphCounter,
    min: usize,
}

/// A text with repeated paragraphs taken out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stripped {
    /// What is left of the text.
    pub text: String,
    /// How many paragraphs were taken out.
    pub paragraphs: usize,
    /// How many bytes were taken out (the paragraphs, the rest of their lines and the blank
    /// lines after them).
    pub bytes: usize,
}

impl<'a> RepeatStripper<'a> {
    /// For the documents of `report`, whose paragraphs `counts` counted (a run with
    /// paragraphs on and the same `min_paragraph_words`); `min` below 1 counts as 1.
    pub fn new(
        report: &CorpusReport,
        counts: &'a ParagraphCounter,
        min_paragraph_words: usize,
        min: usize,
    ) -> Self {
        RepeatStripper {
            sketcher: Sketcher::new(report.params, true, min_paragraph_words),
            counts,
            min: min.max(1),
        }
    }

    /// Document `doc`'s `text` without the paragraphs found in at least `min` documents of
    /// which it is not the first; `None` when nothing is taken out.
    pub fn strip(&self, text: &str, doc: u32) -> Option<Stripped> {
        let bytes = text.as_bytes();
        let mut kept = String::with_capacity(text.len());
        let (mut pos, mut paragraphs, mut removed) = (0, 0, 0);
        for (key, span) in self.sketcher.paragraphs(text) {
            let repeated = self.counts.count(key) >= self.min;
            if !repeated || self.counts.first(key) == Some(doc) || span.start < pos {
                continue;
            }
            kept.push_str(&text[pos..span.start]);
            // Through the end of its line and the blank lines after it, so that no gap is left.
            let mut end = span.end;
            while end < bytes.len() && bytes[end] != b'\n' {
                end += 1;
            }
            while end < bytes.len() && bytes[end] == b'\n' {
                end += 1;
            }
            removed += end - span.start;
            pos = end;
            paragraphs += 1;
        }
        if paragraphs == 0 {
            return None;
        }
        kept.push_str(&text[pos..]);
        Some(Stripped {
            text: kept,
            paragraphs,
            bytes: removed,
        })
    }
}
