//! Helpers for the `deja` integration tests (as ripgrep's `tests/util.rs`): a command
//! builder for the binary, a temp dir with files, fixtures, and the JSON wire types.

#![allow(dead_code)]

pub mod wire;

use std::borrow::BorrowMut;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

pub use wire::{DocEntry, DocOutput};

/// The `deja` binary built by cargo for this test run.
pub fn deja() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::new(env!("CARGO_BIN_EXE_deja"));
    // Nothing the tests check may depend on the environment.
    cmd.env_remove("NO_COLOR").timeout(Duration::from_secs(120));
    cmd
}

/// `deja doc ARGS...` in `dir`.
pub fn doc(dir: &Path, args: &[&str]) -> assert_cmd::Command {
    let mut cmd = deja();
    cmd.current_dir(dir).arg("doc").args(args);
    cmd
}

/// Path of a fixture under `tests/data/`.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

/// Text of a fixture under `tests/data/`.
pub fn fixture_text(name: &str) -> String {
    std::fs::read_to_string(fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The repository root (for `data/kharkiv.txt`).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A temporary directory that files are written into; removed when dropped.
pub struct Dir {
    tmp: tempfile::TempDir,
}

impl Dir {
    /// A new, empty temporary directory.
    pub fn new() -> Self {
        Dir {
            tmp: tempfile::Builder::new()
                .prefix("deja-test-")
                .tempdir()
                .expect("temp dir"),
        }
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        self.tmp.path()
    }

    /// Writes `contents` to `name` (parent directories created), returns the full path.
    pub fn create(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let p = self.tmp.path().join(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(&p, contents).unwrap();
        p
    }

    /// Copies a fixture from `tests/data/` into the directory under `name`.
    pub fn copy_fixture(&self, fixture_name: &str, name: &str) -> PathBuf {
        self.create(name, std::fs::read(fixture(fixture_name)).unwrap())
    }

    /// `deja doc ARGS...` run in this directory.
    pub fn doc(&self, args: &[&str]) -> assert_cmd::Command {
        doc(self.path(), args)
    }
}

/// Runs the command and returns its output, whatever the exit code.
pub fn run(mut cmd: impl BorrowMut<assert_cmd::Command>) -> Output {
    cmd.borrow_mut().output().expect("deja runs")
}

/// The exit code (panics when killed by a signal).
pub fn code(out: &Output) -> i32 {
    out.status.code().unwrap_or_else(|| {
        panic!(
            "deja was killed (timed out or crashed); stderr: {}",
            stderr(out)
        )
    })
}

/// Stdout as UTF-8.
pub fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).expect("stdout is UTF-8")
}

/// Stderr as UTF-8 (lossy).
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Runs the command, expects exit code `want`, and returns the output.
pub fn run_expect(cmd: impl BorrowMut<assert_cmd::Command>, want: i32) -> Output {
    let out = run(cmd);
    assert_eq!(
        code(&out),
        want,
        "exit code; stderr:\n{}\nstdout:\n{}",
        stderr(&out),
        String::from_utf8_lossy(&out.stdout)
    );
    out
}

/// Parses `--format json` output.
pub fn parse_json(out: &Output) -> DocOutput {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "invalid JSON ({e}):\n{}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

/// Runs `deja doc --format json ARGS` in `dir`, expects exit `want`, returns the parsed output.
pub fn doc_json(dir: &Path, args: &[&str], want: i32) -> DocOutput {
    let mut cmd = doc(dir, args);
    cmd.args(["--format", "json"]);
    let out = run_expect(cmd, want);
    parse_json(&out)
}

/// Checks every span of a document entry against its text: in bounds, on char boundaries,
/// findings pointing at their paragraph, sources before it, sentences inside their source.
pub fn check_spans(entry: &DocEntry, text: &str) {
    assert_eq!(entry.bytes, text.len(), "bytes of {}", entry.id);
    let ok = |start: usize, end: usize, what: &str| {
        assert!(
            start <= end && text.get(start..end).is_some(),
            "{what} {start}..{end} is not a char-boundary span of {} bytes",
            text.len()
        );
    };
    let mut previous_end = 0;
    for (i, p) in entry.paragraphs.iter().enumerate() {
        assert_eq!(p.index, i);
        ok(p.start, p.end, "paragraph");
        assert!(p.start >= previous_end, "paragraphs overlap at {i}");
        assert!(p.start < p.end, "empty paragraph {i}");
        let body = &text[p.start..p.end];
        assert_eq!(body.trim(), body, "paragraph {i} is not trimmed");
        assert!(!body.starts_with('\u{feff}'), "paragraph {i} holds the BOM");
        assert_eq!(p.line, line_of(text, p.start), "line of paragraph {i}");
        previous_end = p.end;
    }
    let mut previous = None;
    for f in &entry.findings {
        ok(f.start, f.end, "finding");
        let p = &entry.paragraphs[f.paragraph];
        assert_eq!((f.start, f.end, f.line), (p.start, p.end, p.line));
        assert!(previous < Some(f.paragraph), "findings out of order");
        previous = Some(f.paragraph);
        assert!((0.0..=1.0).contains(&f.score), "score {}", f.score);
        assert!(!f.sources.is_empty(), "finding without sources");
        for s in &f.sources {
            ok(s.start, s.end, "source");
            assert!(s.paragraph < f.paragraph, "source after its finding");
            let sp = &entry.paragraphs[s.paragraph];
            assert_eq!((s.start, s.end, s.line), (sp.start, sp.end, sp.line));
            assert!((0.0..=1.0).contains(&s.score));
            if let Some(sent) = &s.sentence {
                ok(sent.start, sent.end, "sentence");
                assert!(s.start <= sent.start && sent.end <= s.end);
                assert_eq!(sent.line, line_of(text, sent.start));
            }
        }
    }
}

/// 1-based line of byte `offset`.
pub fn line_of(text: &str, offset: usize) -> usize {
    1 + text.as_bytes()[..offset]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
}

/// The text of every paragraph of `entry`.
pub fn paragraph_texts<'a>(entry: &DocEntry, text: &'a str) -> Vec<&'a str> {
    entry
        .paragraphs
        .iter()
        .map(|p| &text[p.start..p.end])
        .collect()
}
