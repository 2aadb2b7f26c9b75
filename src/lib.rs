//! # deja — find text that says the same thing twice
//!
//! A shingling + MinHash pipeline, one module per stage, data flowing one way:
//!
//! ```text
//! input → segment → tokenize → shingle ─┬→ findings (doc: paragraph vs earlier text) ─┐
//!                                        ├→ sketch → index → verify → group (corpus) ──┼→ report
//!                                        └→ check (doc findings + cross-file copies) ──┘
//! ```
//!
//! ```
//! use deja::findings::{DocAnalyzer, DocOptions};
//! let text = "Volcanic ash grounded flights across northern Europe for three days.\n\n\
//!             Airlines lost millions while stranded passengers slept in terminals.\n\n\
//!             Engineers later tested engines against ash concentration limits.\n\n\
//!             In short, volcanic ash grounded European flights, airlines lost millions \
//!             and stranded passengers slept in terminals.\n";
//! let report = DocAnalyzer::new(DocOptions::default()).unwrap().analyze("doc".into(), text);
//! assert_eq!(report.findings.len(), 1);
//! let finding = &report.findings[0];
//! assert_eq!(finding.paragraph, 3);
//! assert!(finding.sources.iter().any(|s| s.paragraph == 0));
//! ```
#![deny(missing_docs)]

pub mod batch;
pub mod check;
pub mod config;
pub mod corpus;
pub mod error;
pub mod findings;
pub mod group;
pub mod index;
pub mod input;
pub mod lsp;
pub mod output;
pub mod report;
pub mod segment;
pub mod shingle;
pub mod sigfile;
pub mod sketch;
pub mod span;
pub mod spill;
pub mod strip;
pub mod tokenize;
pub mod verify;

pub use error::{Error, Result};
pub use span::Span;
