//! Input: files, directories, stdin and JSONL (plain, .gz, .zst) → [`Document`]s.
//!
//! Directories are walked with the `ignore` crate (.gitignore honoured, `--glob` filters).
//! Every problem is an [`Error`] naming the file (and line for JSONL); the caller reports it
//! and goes on with the other inputs.

mod record;

use crate::error::{Error, Result};
use rayon::prelude::*;
use serde::de::DeserializeSeed;
use serde_json::Value;
use std::io::Read;
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
    /// Bytes a record (JSONL line, or plain file after decompression) may have; larger ones
    /// are skipped with an error, read past without being held in memory.
    pub max_record_bytes: usize,
}

/// The default [`InputOptions::max_record_bytes`]: 256 MiB. Sketching holds about seven
/// times a record's size (text, word and shingle hashes), so the limit keeps one record
/// (a 10 GB line out of a small .gz) from exhausting memory.
pub const DEFAULT_MAX_RECORD_BYTES: usize = 256 << 20;

impl Default for InputOptions {
    fn default() -> Self {
        InputOptions {
            jsonl: None,
            text_field: "text".into(),
            id_field: "id".into(),
            globs: Vec::new(),
            max_record_bytes: DEFAULT_MAX_RECORD_BYTES,
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
        let doc = read_limited(reader, &source.path(), opts.max_record_bytes)?.map(|bytes| {
            decode_text(&source.path(), bytes).map(|text| Document {
                id: Value::String(source.name()),
                text,
            })
        });
        f(doc.and_then(|d| d), &[]);
        Ok(())
    }
}

/// Reads all of `reader` (the file `path`) when it has at most `limit` bytes. `Ok(Err(..))`:
/// it has more (read no further); `Err`: it could not be read.
pub fn read_limited(reader: impl Read, path: &Path, limit: usize) -> Result<Result<Vec<u8>>> {
    let mut bytes = Vec::new();
    reader
        .take(limit as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::Io {
            path: path.to_path_buf(),
            source: e,
        })?;
    if bytes.len() > limit {
        return Ok(Err(Error::TooLarge {
            path: path.to_path_buf(),
            what: "file".into(),
            limit,
        }));
    }
    Ok(Ok(bytes))
}

/// Reads the file `path` as [`read_limited`] does.
pub fn read_file_limited(path: &Path, limit: usize) -> Result<Result<Vec<u8>>> {
    let file = std::fs::File::open(path).map_err(|e| Error::Io {
        path: path.to_path_buf(),
        source: e,
    })?;
    read_limited(file, path, limit)
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

/// The one-pass scanner's reading of a JSONL line: its `text_key` field (only as a string)
/// and `id_key` field, or `None` where it leaves the line to serde_json. Public for the
/// differential fuzz target (`fuzz/`), which holds it to serde_json's reading.
#[doc(hidden)]
pub fn scan_fields(
    line: &[u8],
    text_key: &str,
    id_key: &str,
) -> Option<(Option<String>, Option<Value>)> {
    record::fields(line, text_key, id_key)
}

/// Record bytes read before a batch is parsed (in parallel).
const BATCH_BYTES: usize = 2 << 20;
/// The first batch's: nothing else can run before the first documents are parsed (and
/// callers that group documents keep their first group no larger). Batches then
/// double up to [`BATCH_BYTES`], so that parsing keeps ahead of the work on the last one.
pub const FIRST_BATCH_BYTES: usize = 512 << 10;

fn read_jsonl(
    source: &Source,
    mut reader: Box<dyn Read + Send>,
    opts: &InputOptions,
    mut f: impl FnMut(Result<Document>, &[u8]),
) -> Result<()> {
    let path = source.path();
    // Blocks are read straight into `buf` (no line-by-line copy); a batch is its complete
    // lines, each as (line number, start, end); the partial last line moves to the front.
    let mut buf = Vec::new();
    let mut filled = 0;
    // `buf[..searched]` holds no line end (the partial line carried over, or read so far).
    let mut searched = 0;
    let mut want = FIRST_BATCH_BYTES;
    let mut line = 0;
    let mut lines: Vec<(usize, usize, usize)> = Vec::new();
    loop {
        let mut failure = None;
        let mut eof = false;
        if buf.len() < want {
            buf.resize(want, 0);
        }
        while filled < want {
            // No more than wanted: the first batch is small so that work starts at once.
            match reader.read(&mut buf[filled..want]) {
                Ok(0) => {
                    eof = true;
                    break;
                }
                Ok(n) => filled += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            }
        }
        // Complete lines only, but all that is left at the end; after a read error the
        // partial line is dropped and the records before it still count.
        let end = match memchr::memrchr(b'\n', &buf[searched..filled]) {
            _ if eof => filled,
            Some(i) => searched + i + 1,
            None if failure.is_some() => 0,
            None if filled > opts.max_record_bytes => {
                line += 1;
                f(Err(too_large(&path, line, opts)), &[]);
                // Read past the rest of the line in blocks, holding none of it.
                buf.truncate(BATCH_BYTES.max(1));
                loop {
                    let n = match reader.read(&mut buf) {
                        Ok(n) => n,
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                        Err(e) => {
                            return Err(Error::Io {
                                path,
                                source: std::io::Error::new(e.kind(), format!("line {line}: {e}")),
                            })
                        }
                    };
                    if n == 0 {
                        return Ok(());
                    }
                    if let Some(i) = memchr::memchr(b'\n', &buf[..n]) {
                        buf.copy_within(i + 1..n, 0);
                        filled = n - i - 1;
                        break;
                    }
                }
                searched = 0;
                want = BATCH_BYTES;
                continue;
            }
            None => {
                // One line longer than a batch: read on.
                searched = filled;
                want = filled + BATCH_BYTES;
                continue;
            }
        };
        split_lines(&buf[..end], &mut line, &mut lines);
        let docs: Vec<Result<Document>> = lines
            .par_iter()
            .map(|&(n, a, b)| match b - a > opts.max_record_bytes {
                true => Err(too_large(&path, n, opts)),
                false => parse_record(&path, n, &buf[a..b], opts),
            })
            .collect();
        for (doc, &(_, a, b)) in docs.into_iter().zip(lines.iter()) {
            f(doc, &buf[a..b]);
        }
        lines.clear();
        if let Some(e) = failure {
            return Err(Error::Io {
                path,
                source: std::io::Error::new(e.kind(), format!("line {}: {e}", line + 1)),
            });
        }
        if eof {
            return Ok(());
        }
        buf.copy_within(end..filled, 0);
        filled -= end;
        searched = filled;
        want = (2 * want).min(BATCH_BYTES);
        if buf.len() > BATCH_BYTES && filled <= BATCH_BYTES {
            // Past a very long line: give its memory back.
            buf.truncate(BATCH_BYTES);
            buf.shrink_to_fit();
        }
    }
}

/// Appends the non-blank lines of `bytes` (without their `\n` or `\r\n`) to
/// `lines` as (line number, start, end); `line` counts the lines seen so far.
fn too_large(path: &Path, line: usize, opts: &InputOptions) -> Error {
    Error::TooLarge {
        path: path.to_path_buf(),
        what: format!("line {line}: record"),
        limit: opts.max_record_bytes,
    }
}

fn split_lines(bytes: &[u8], line: &mut usize, lines: &mut Vec<(usize, usize, usize)>) {
    let mut start = 0;
    while start < bytes.len() {
        let next = memchr::memchr(b'\n', &bytes[start..]).map_or(bytes.len(), |i| start + i + 1);
        *line += 1;
        let mut end = next;
        while end > start && matches!(bytes[end - 1], b'\n' | b'\r') {
            end -= 1;
        }
        if !bytes[start..end].iter().all(u8::is_ascii_whitespace) {
            lines.push((*line, start, end));
        }
        start = next;
    }
}

/// Parses one JSONL record, keeping only its text and id fields (the others are skipped
/// without building values: real records carry much metadata).
fn parse_record(path: &Path, line: usize, bytes: &[u8], opts: &InputOptions) -> Result<Document> {
    let err = |message: String| Error::Record {
        path: path.to_path_buf(),
        line,
        message,
    };
    let json_error = |e: serde_json::Error| match std::str::from_utf8(bytes) {
        Err(u) => err(format!(
            "invalid UTF-8 at byte {} of the line",
            u.valid_up_to()
        )),
        Ok(_) => err(format!("invalid JSON: {e}")),
    };
    if bytes.trim_ascii_start().first() != Some(&b'{') {
        // Not an object: say whether it is JSON at all.
        serde_json::from_slice::<serde::de::IgnoredAny>(bytes).map_err(json_error)?;
        return Err(err("record is not a JSON object".into()));
    }
    let (text, id) = match record::fields(bytes, &opts.text_field, &opts.id_field) {
        Some((text, id)) => (text.map(Value::String), id),
        None => serde_fields(bytes, &opts.text_field, &opts.id_field).map_err(json_error)?,
    };
    let text = match text {
        Some(Value::String(s)) => s,
        Some(_) => {
            return Err(err(format!(
                "field \"{}\" is not a string",
                opts.text_field
            )))
        }
        None => return Err(err(format!("missing field \"{}\"", opts.text_field))),
    };
    let id = id.unwrap_or_else(|| Value::String(format!("{}:{line}", path.display())));
    Ok(Document { id, text })
}

/// The values of the fields `text` and `id` of the JSON object `bytes`, by serde_json: the
/// reference [`record::fields`] agrees with, and the words of every error.
fn serde_fields(
    bytes: &[u8],
    text: &str,
    id: &str,
) -> serde_json::Result<(Option<Value>, Option<Value>)> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let fields = Fields { text, id }.deserialize(&mut de)?;
    de.end()?;
    Ok(fields)
}

/// Deserializes a JSON object into the values of its `text` and `id` fields (the last of
/// repeated keys wins, as for a `serde_json::Value`).
struct Fields<'a> {
    text: &'a str,
    id: &'a str,
}

impl<'de> serde::de::DeserializeSeed<'de> for Fields<'_> {
    type Value = (Option<Value>, Option<Value>);

    fn deserialize<D: serde::Deserializer<'de>>(
        self,
        d: D,
    ) -> std::result::Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> serde::de::Visitor<'de> for Fields<'_> {
    type Value = (Option<Value>, Option<Value>);

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(
        self,
        mut map: A,
    ) -> std::result::Result<Self::Value, A::Error> {
        let (mut text, mut id) = (None, None);
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            if key == self.text {
                text = Some(map.next_value::<Value>()?);
            } else if key == self.id {
                id = Some(map.next_value::<Value>()?);
            } else {
                map.next_value::<serde::de::IgnoredAny>()?;
            }
        }
        Ok((text, id))
    }
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

    /// Hands out `data` a few bytes per read, then fails with `error` if given.
    struct Trickle {
        data: Vec<u8>,
        at: usize,
        step: usize,
        error: bool,
    }

    impl Read for Trickle {
        fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
            if self.at == self.data.len() && self.error {
                return Err(std::io::Error::other("disk on fire"));
            }
            let n = self.step.min(out.len()).min(self.data.len() - self.at);
            out[..n].copy_from_slice(&self.data[self.at..self.at + n]);
            self.at += n;
            Ok(n)
        }
    }

    /// (id, text length, raw line) of each record read.
    type Records = Vec<(String, usize, Vec<u8>)>;

    /// The records `read_jsonl` reads from a [`Trickle`] of `data`, and its result.
    fn read_trickled(data: &[u8], step: usize, error: bool) -> (Records, Result<()>) {
        let source = Source::File {
            path: "t.jsonl".into(),
            explicit: true,
        };
        let reader = Trickle {
            data: data.to_vec(),
            at: 0,
            step,
            error,
        };
        let mut got = Vec::new();
        let r = read_jsonl(
            &source,
            Box::new(reader),
            &InputOptions::default(),
            |d, raw| {
                let d = d.unwrap();
                got.push((
                    d.id.as_str().unwrap().to_string(),
                    d.text.len(),
                    raw.to_vec(),
                ));
            },
        );
        (got, r)
    }

    #[test]
    fn jsonl_lines_split_across_reads() {
        // CRLF, a blank and a whitespace-only line, no final newline: ids name the lines.
        let data = b"{\"text\": \"a\"}\r\n\n  \t\n{\"text\": \"bb\"}\n{\"text\": \"ccc\"}";
        for step in [1, 3, 7, data.len()] {
            let (got, r) = read_trickled(data, step, false);
            r.unwrap();
            let seen: Vec<(&str, usize)> = got.iter().map(|(id, n, _)| (id.as_str(), *n)).collect();
            assert_eq!(
                seen,
                [("t.jsonl:1", 1), ("t.jsonl:4", 2), ("t.jsonl:5", 3)],
                "step {step}"
            );
            assert_eq!(got[0].2, b"{\"text\": \"a\"}");
        }
    }

    #[test]
    fn jsonl_line_longer_than_a_batch() {
        let long = "x".repeat(BATCH_BYTES + 12_345);
        let data = format!("{{\"text\": \"s\"}}\n{{\"text\": \"{long}\"}}\n{{\"text\": \"t\"}}\n");
        let (got, r) = read_trickled(data.as_bytes(), 1 << 20, false);
        r.unwrap();
        let lens: Vec<usize> = got.iter().map(|g| g.1).collect();
        assert_eq!(lens, [1, long.len(), 1]);
    }

    #[test]
    fn first_batch_is_small_then_batches_grow() {
        use std::sync::{Arc, Mutex};
        // Records how much each read asks for.
        struct Asks(Vec<u8>, usize, Arc<Mutex<Vec<usize>>>);
        impl Read for Asks {
            fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
                self.2.lock().unwrap().push(out.len());
                let n = out.len().min(self.0.len() - self.1);
                out[..n].copy_from_slice(&self.0[self.1..self.1 + n]);
                self.1 += n;
                Ok(n)
            }
        }
        let line = format!("{{\"text\": \"{}\"}}\n", "w ".repeat(500));
        let data = line.repeat(BATCH_BYTES * 3 / line.len());
        let records = data.len() / line.len();
        let asked = Arc::new(Mutex::new(Vec::new()));
        let reader = Asks(data.into_bytes(), 0, asked.clone());
        let source = Source::File {
            path: "a.jsonl".into(),
            explicit: true,
        };
        let mut n = 0;
        read_jsonl(
            &source,
            Box::new(reader),
            &InputOptions::default(),
            |d, _| {
                d.unwrap();
                n += 1;
            },
        )
        .unwrap();
        assert_eq!(n, records);
        let asked = asked.lock().unwrap();
        assert!(asked[0] <= FIRST_BATCH_BYTES, "{:?}", &asked[..3]);
        assert!(asked.iter().max() > Some(&(BATCH_BYTES / 2)));
    }

    #[test]
    fn jsonl_read_error_keeps_the_records_before_it() {
        let data = b"{\"text\": \"a\"}\n{\"text\": \"b\"}\n{\"text\": \"cut";
        let (got, r) = read_trickled(data, 5, true);
        assert_eq!(got.len(), 2);
        let e = r.unwrap_err().to_string();
        assert!(
            e.contains("t.jsonl") && e.contains("line 3: disk on fire"),
            "{e}"
        );
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
        // Other fields of any shape are skipped; escaped keys still match; the last repeat wins.
        let rec = br#" {"meta": {"a": [1, {"text": "no"}]}, "t\u0065xt": "caf\u00e9", "id": "x", "id": [2]}"#;
        let d = parse_record(p, 6, rec, &opts).unwrap();
        assert_eq!((d.id, d.text.as_str()), (serde_json::json!([2]), "café"));
        let e = parse_record(p, 7, b"[1, 2]", &opts).unwrap_err();
        assert_eq!(
            e.to_string(),
            "c.jsonl: line 7: record is not a JSON object"
        );
        let e = parse_record(p, 8, br#"{"text": "a"} x"#, &opts).unwrap_err();
        assert!(
            e.to_string().starts_with("c.jsonl: line 8: invalid JSON"),
            "{e}"
        );
        let e = parse_record(p, 9, br#"{"text": 3}"#, &opts).unwrap_err();
        assert_eq!(
            e.to_string(),
            "c.jsonl: line 9: field \"text\" is not a string"
        );
        let e = parse_record(p, 10, b"{\"text\": \"\xff\"}", &opts).unwrap_err();
        assert!(e.to_string().contains("invalid UTF-8"), "{e}");
    }
}
