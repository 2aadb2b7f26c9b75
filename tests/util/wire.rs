//! The `deja doc --format json` wire format of DESIGN §5, decoded into typed structs.
//! Unknown fields are accepted: fields are only ever added within a `version`.

use serde::Deserialize;
use serde_json::Value;

/// `{"version": 1, "documents": [...]}`.
#[derive(Debug, Deserialize)]
pub struct DocOutput {
    pub version: u32,
    pub documents: Vec<DocEntry>,
}

/// One `documents[]` entry (also one `--format jsonl` line).
#[derive(Debug, Deserialize)]
pub struct DocEntry {
    pub id: Value,
    pub bytes: usize,
    pub paragraphs: Vec<Paragraph>,
    pub findings: Vec<Finding>,
}

#[derive(Debug, Deserialize)]
pub struct Paragraph {
    pub index: usize,
    pub start: usize,
    pub end: usize,
    pub line: usize,
    #[serde(default)]
    pub kind: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct Finding {
    pub kind: String,
    pub paragraph: usize,
    pub start: usize,
    pub end: usize,
    pub line: usize,
    pub score: f64,
    pub sources: Vec<Source>,
}

#[derive(Debug, Deserialize)]
pub struct Source {
    pub paragraph: usize,
    pub start: usize,
    pub end: usize,
    pub line: usize,
    pub score: f64,
    #[serde(default)]
    pub sentence: Option<Sentence>,
}

#[derive(Debug, Deserialize)]
pub struct Sentence {
    pub start: usize,
    pub end: usize,
    pub line: usize,
}

impl DocEntry {
    /// `(paragraph, kind)` of every finding, in order.
    pub fn flagged(&self) -> Vec<(usize, &str)> {
        self.findings
            .iter()
            .map(|f| (f.paragraph, f.kind.as_str()))
            .collect()
    }
}

impl DocOutput {
    /// The only document (panics when there is not exactly one).
    pub fn single(&self) -> &DocEntry {
        assert_eq!(self.version, 1);
        assert_eq!(self.documents.len(), 1, "{self:?}");
        &self.documents[0]
    }

    /// Ids of the documents, in order.
    pub fn ids(&self) -> Vec<&Value> {
        self.documents.iter().map(|d| &d.id).collect()
    }
}
