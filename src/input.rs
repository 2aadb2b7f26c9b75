//! Input: files, directories, stdin and JSONL (plain, .gz, .zst) → [`Document`]s.
//!
//! Directories are walked with the `ignore` crate (.gitignore honoured, `--glob` filters).
//! Every problem is an [`Error`] naming the file (and line for JSONL); the caller reports it
//! and goes on with the other inputs.

use crate::error::{Error, Result};
use serde_json::Value;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

/// One document: its id (a path, `-`, or the JSONL record's own id) and its text.
#[derive(Clone, Debug)]
pub struct Document {
    /// The input's own id: a file's path as a JSON string, or a JSONL id with its JSON type.
    pub id: Value,
    /// The full text. Spans in reports are byte offsets into it.
    pub text: String,
}

/// Where documents come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// Standard input.
    Stdin,
    /// A file; `explicit` when named on the command line rather than found in a walk.
    File {
        /// The file.
        path: PathBuf,
        /// Named by the user (binary files found in a walk are skipped quietly).
        explicit: bool,
    },
}

impl Source {
    /// The name used in messages and as a document id.
    pub fn name(&self) -> String {
        match self {
            Source::Stdin => "-".to_string(),
            Source::File { path, .. } => path.display().to_string(),
        }
    }

    fn path(&self) -> PathBuf {
        PathBuf::from(self.name())
    }
}

/// How inputs are read.
#[derive(Clone, Debug)]
pub struct InputOptions {
    /// Read as JSONL: `Some(true)` always, `Some(false)` never, `None` by file extension.
    pub jsonl: Option<bool>,
    /// JSONL field holding the text.
    pub text_field: String,
    /// JSONL field holding the id (when absent: `path:line`).
    pub id_field: String,
    /// Globs a walked file must match (`!glob` excludes), as ripgrep's `--glob`.
    pub globs: Vec<String>,
}

impl Default for InputOptions {
    fn default() -> Self {
        InputOptions {
            jsonl: None,
            text_field: "text".into(),
            id_field: "id".into(),
            globs: Vec::new(),
        }
    }
}

/// Expands command-line paths into sources: files as given, directories walked in sorted
/// order, `-` as stdin. Paths that do not exist are returned as errors.
pub fn expand(paths: &[PathBuf], opts: &InputOptions) -> (Vec<Source>, Vec<Error>) {
    let mut sources = Vec::new();
    let mut errors = Vec::new();
    for path in paths {
        if path.as_os_str() == "-" {
            sources.push(Source::Stdin);
        } else if path.is_dir() {
            walk(path, opts, &mut sources, &mut errors);
        } else if path.exists() {
            sources.push(Source::File {
                path: path.clone(),
                explicit: true,
            });
        } else {
            errors.push(Error::Io {
                path: path.clone(),
                source: std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    "no such file or directory",
                ),
            });
        }
    }
    (sources, errors)
}

fn walk(dir: &Path, opts: &InputOptions, sources: &mut Vec<Source>, errors: &mut Vec<Error>) {
    let mut builder = ignore::WalkBuilder::new(dir);
    builder.sort_by_file_name(|a, b| a.cmp(b));
    if !opts.globs.is_empty() {
        let mut overrides = ignore::overrides::OverrideBuilder::new(dir);
        for g in &opts.globs {
            if let Err(e) = overrides.add(g) {
                errors.push(Error::Option(format!("--glob {g}: {e}")));
            }
        }
        match overrides.build() {
            Ok(o) => {
                builder.overrides(o);
            }
            Err(e) => errors.push(Error::Option(format!("--glob: {e}"))),
        }
    }
    for entry in builder.build() {
        match entry {
            Ok(e) if e.file_type().is_some_and(|t| t.is_file()) => sources.push(Source::File {
                path: e.into_path(),
                explicit: false,
            }),
            Ok(_) => {}
            Err(e) => errors.push(Error::Io {
                path: dir.to_path_buf(),
                source: std::io::Error::other(e.to_string()),
            }),
        }
    }
}

/// True when the source is read as JSONL under `opts`.
pub fn is_jsonl(source: &Source, opts: &InputOptions) -> bool {
    opts.jsonl.unwrap_or_else(|| {
        let name = source.name();
        [".jsonl", ".jsonl.gz", ".jsonl.zst", ".ndjson"]
            .iter()
            .any(|ext| name.ends_with(ext))
    })
}

/// Opens a source as a byte stream, decompressing `.gz` and `.zst` files.
pub fn open(source: &Source) -> Result<Box<dyn Read + Send>> {
    let path = match source {
        Source::Stdin => return Ok(Box::new(std::io::stdin())),
        Source::File { path, .. } => path,
    };
    let file = std::fs::File::open(path).map_err(|e| Error::Io {
        path: path.clone(),
        source: e,
    })?;
    let name = path.to_string_lossy();
    Ok(if name.ends_with(".gz") {
        Box::new(flate2::read::MultiGzDecoder::new(file))
    } else if name.ends_with(".zst") {
        Box::new(
            zstd::stream::read::Decoder::new(file).map_err(|e| Error::Io {
                path: path.clone(),
                source: e,
            })?,
        )
    } else {
        Box::new(file)
    })
}

/// Reads every document of `source`, calling `f` with each document or per-record error,
/// in input order. Returns an error only when the source cannot be read at all.
pub fn read_documents(
    source: &Source,
    opts: &InputOptions,
    mut f: impl FnMut(Result<Document>),
) -> Result<()> {
    read_records(source, opts, |doc, _| f(doc))
}

/// As [`read_documents`], also passing each JSONL record's raw line (without its line
/// ending; empty for a plain file), for writers that copy records through (`dedup`).
pub fn read_records(
    source: &Source,
    opts: &InputOptions,
    mut f: impl FnMut(Result<Document>, &[u8]),
) -> Result<()> {
    let reader = open(source)?;
    if is_jsonl(source, opts) {
        read_jsonl(source, reader, opts, f)
    } else {
        let mut bytes = Vec::new();
        let mut reader = reader;
        reader.read_to_end(&mut bytes).map_err(|e| Error::Io {
            path: source.path(),
            source: e,
        })?;
        f(
            decode_text(&source.path(), bytes).map(|text| Document {
                id: Value::String(source.name()),
                text,
            }),
            &[],
        );
        Ok(())
    }
}

/// Checks that `bytes` are text (no NUL in the first 8 KiB, valid UTF-8) and decodes them.
pub fn decode_text(path: &Path, bytes: Vec<u8>) -> Result<String> {
    let head = &bytes[..bytes.len().min(8192)];
    if let Some(offset) = head.iter().position(|&b| b == 0) {
        return Err(Error::Binary {
            path: path.to_path_buf(),
            offset,
        });
    }
    String::from_utf8(bytes).map_err(|e| {
        let offset = e.utf8_error().valid_up_to();
        let bytes = e.as_bytes();
        let line = 1 + bytes[..offset].iter().filter(|&&b| b == b'\n').count();
        Error::InvalidUtf8 {
            path: path.to_path_buf(),
            offset,
            line,
        }
    })
}

fn read_jsonl(
    source: &Source,
    reader: Box<dyn Read + Send>,
    opts: &InputOptions,
    mut f: impl FnMut(Result<Document>, &[u8]),
) -> Result<()> {
    let path = source.path();
    let mut reader = BufReader::with_capacity(1 << 20, reader);
    let mut buf = Vec::new();
    let mut line = 0;
    loop {
        buf.clear();
        line += 1;
        let n = reader.read_until(b'\n', &mut buf).map_err(|e| Error::Io {
            path: path.clone(),
            source: std::io::Error::new(e.kind(), format!("line {line}: {e}")),
        })?;
        if n == 0 {
            return Ok(());
        }
        if buf.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let mut raw = &buf[..];
        while let [rest @ .., b'\n' | b'\r'] = raw {
            raw = rest;
        }
        f(parse_record(&path, line, raw, opts), raw);
    }
}

fn parse_record(path: &Path, line: usize, bytes: &[u8], opts: &InputOptions) -> Result<Document> {
    let err = |message: String| Error::Record {
        path: path.to_path_buf(),
        line,
        message,
    };
    let mut value: Value =
        serde_json::from_slice(bytes).map_err(|e| match std::str::from_utf8(bytes) {
            Err(u) => err(format!(
                "invalid UTF-8 at byte {} of the line",
                u.valid_up_to()
            )),
            Ok(_) => err(format!("invalid JSON: {e}")),
        })?;
    let obj = value
        .as_object_mut()
        .ok_or_else(|| err("record is not a JSON object".into()))?;
    let text = match obj.remove(&opts.text_field) {
        Some(Value::String(s)) => s,
        Some(_) => {
            return Err(err(format!(
                "field \"{}\" is not a string",
                opts.text_field
            )))
        }
        None => return Err(err(format!("missing field \"{}\"", opts.text_field))),
    };
    let id = obj
        .remove(&opts.id_field)
        .unwrap_or_else(|| Value::String(format!("{}:{line}", path.display())));
    Ok(Document { id, text })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_and_invalid_utf8_are_named() {
        let p = Path::new("x.txt");
        assert!(matches!(
            decode_text(p, b"ab\0c".to_vec()),
            Err(Error::Binary { offset: 2, .. })
        ));
        let e = decode_text(p, b"ok\nbad \xff here".to_vec()).unwrap_err();
        assert_eq!(e.to_string(), "x.txt: invalid UTF-8 at byte 7 (line 2)");
        assert_eq!(decode_text(p, Vec::new()).unwrap(), "");
    }

    #[test]
    fn jsonl_records() {
        let opts = InputOptions::default();
        let p = Path::new("c.jsonl");
        let d = parse_record(p, 1, br#"{"id": 7, "text": "hi", "x": 1}"#, &opts).unwrap();
        assert_eq!(d.id, Value::from(7));
        assert_eq!(d.text, "hi");
        let e = parse_record(p, 3, br#"{"id": 7}"#, &opts).unwrap_err();
        assert_eq!(e.to_string(), "c.jsonl: line 3: missing field \"text\"");
        let e = parse_record(p, 4, b"{oops", &opts).unwrap_err();
        assert!(e.to_string().starts_with("c.jsonl: line 4: invalid JSON"));
        let d = parse_record(p, 5, br#"{"text": "t"}"#, &opts).unwrap();
        assert_eq!(d.id, Value::from("c.jsonl:5"));
    }
}
