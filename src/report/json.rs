//! JSON and JSONL printers of `deja doc` (DESIGN §5).

use super::{DocPrinter, JSON_VERSION};
use crate::findings::DocReport;
use std::io::{self, Write};

/// `{"version": 1, "documents": [...]}`, streamed one document at a time.
#[derive(Default)]
pub struct JsonDocPrinter {
    started: bool,
}

impl DocPrinter for JsonDocPrinter {
    fn document(&mut self, out: &mut dyn Write, report: &DocReport, _text: &str) -> io::Result<()> {
        if self.started {
            out.write_all(b",\n  ")?;
        } else {
            write!(out, "{{\"version\": {JSON_VERSION},\n \"documents\": [\n  ")?;
            self.started = true;
        }
        serde_json::to_writer(&mut *out, report)?;
        Ok(())
    }

    fn finish(&mut self, out: &mut dyn Write) -> io::Result<()> {
        if self.started {
            out.write_all(b"\n ]}\n")
        } else {
            writeln!(out, "{{\"version\": {JSON_VERSION}, \"documents\": []}}")
        }
    }
}

/// One `documents[]` entry a line.
pub struct JsonlDocPrinter;

impl DocPrinter for JsonlDocPrinter {
    fn document(&mut self, out: &mut dyn Write, report: &DocReport, _text: &str) -> io::Result<()> {
        serde_json::to_writer(&mut *out, report)?;
        out.write_all(b"\n")
    }

    fn finish(&mut self, _out: &mut dyn Write) -> io::Result<()> {
        Ok(())
    }
}
