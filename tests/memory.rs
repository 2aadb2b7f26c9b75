//! `--memory` (issue 15 §4): with a budget of a few kilobytes every structure that grows with
//! the corpus goes to disk — band keys, shingle sets, paragraph counts, candidate pairs — and
//! the output is byte for byte that of a run without a cap, whatever the thread count.

use assert_cmd::Command;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn deja() -> Command {
    Command::cargo_bin("deja").unwrap()
}

/// Runs deja; returns exit code, stdout and stderr.
fn run(args: &[&str], tmpdir: Option<&Path>) -> (i32, Vec<u8>, String) {
    let mut cmd = deja();
    cmd.args(args);
    if let Some(t) = tmpdir {
        cmd.env("TMPDIR", t);
    }
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        out.stdout,
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// About 900 documents from the dev sample: the originals, an edited copy of each (pairs and
/// clusters), boilerplate paragraphs shared by many (repeated paragraphs, some within one
/// document twice) and 300 copies of one document (a band bucket too large to list pairs).
fn corpus(dir: &Path) -> PathBuf {
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/corpus/dev-sample.jsonl");
    let texts: Vec<String> = std::fs::read_to_string(sample)
        .unwrap()
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            v["text"].as_str().unwrap().to_string()
        })
        .collect();
    assert!(texts.len() >= 200);
    let mut docs: Vec<String> = Vec::new();
    for (i, t) in texts.iter().enumerate() {
        let footer = format!(
            "Read also: part {} of the series on topic {}.",
            i % 17,
            i % 5
        );
        let mut doc = format!("{t}\n\n{footer}");
        if i % 3 == 0 {
            doc.push_str("\n\nSubscribe to our newsletter for weekly updates.");
        }
        if i % 11 == 0 {
            doc.push_str(&format!("\n\n{footer}"));
        }
        docs.push(doc);
        // An edited copy: every 40th word replaced.
        let edited: Vec<String> = t
            .split(' ')
            .enumerate()
            .map(|(j, w)| {
                if j % 40 == 7 {
                    format!("edited{j}")
                } else {
                    w.to_string()
                }
            })
            .collect();
        docs.push(format!("{}\n\n{footer}", edited.join(" ")));
    }
    for _ in 0..300 {
        docs.push(texts[3].clone());
    }
    let path = dir.join("corpus.jsonl");
    let lines: Vec<String> = docs
        .iter()
        .enumerate()
        .map(|(i, t)| serde_json::json!({"id": format!("d{i}"), "text": t}).to_string())
        .collect();
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    path
}

#[test]
fn a_tiny_budget_spills_everything_with_the_same_output() {
    let dir = tempfile::tempdir().unwrap();
    let c = corpus(dir.path());
    let c = c.to_str().unwrap();
    for extra in [
        &["--format", "jsonl"][..],
        &["--format", "json"],
        &["--format", "jsonl", "--verify", "estimate"],
    ] {
        let args = |more: &[&'static str]| {
            let mut a = vec!["corpus", c];
            a.extend_from_slice(extra);
            a.extend_from_slice(more);
            a
        };
        let (code, free, err) = run(&args(&["--memory", "64G"]), None);
        assert_eq!(code, 0, "{err}");
        assert!(!err.contains("spilled"), "{err}");
        let text = String::from_utf8(free.clone()).unwrap();
        // The corpus has what every spill path holds.
        assert!(!text.contains("\"pair_count\": 0"), "{text}");
        assert!(text.contains("Read also: part 3 of the series"), "{text}");
        assert!(!text.contains("\"large_buckets\": 0"), "{text}");
        for threads in ["1", "2"] {
            let (code, tiny, err) = run(&args(&["--memory", "6k", "--threads", threads]), None);
            assert_eq!(code, 0, "{err}");
            for what in [
                "band keys",
                "paragraph counts",
                "candidate pairs",
                "document lists",
            ] {
                assert!(err.contains(what), "{what} not spilled: {err}");
            }
            if !extra.contains(&"estimate") {
                assert!(err.contains("shingle sets"), "{err}");
            }
            assert!(
                tiny == free,
                "{extra:?}, {threads} threads: output differs under --memory 6k"
            );
        }
    }
}

#[test]
fn dedup_under_a_tiny_budget_writes_the_same_corpus() {
    let dir = tempfile::tempdir().unwrap();
    let c = corpus(dir.path());
    let c = c.to_str().unwrap();
    let free = dir.path().join("free.jsonl");
    let tiny = dir.path().join("tiny.jsonl");
    for (out, memory) in [(&free, "64G"), (&tiny, "6k")] {
        let o = out.to_str().unwrap();
        let (code, _, err) = run(
            &[
                "dedup",
                c,
                "-o",
                o,
                "--strip-repeated-paragraphs",
                "3",
                "--memory",
                memory,
            ],
            None,
        );
        assert_eq!(code, 0, "{err}");
        assert!(err.contains("stripped"), "{err}");
    }
    let (a, b) = (std::fs::read(&free).unwrap(), std::fs::read(&tiny).unwrap());
    assert!(a.len() > 100_000);
    assert!(a == b, "dedup output differs under --memory 6k");
}

/// Temporary files that cannot be made (here: the temp dir does not exist; a full disk
/// fails the same way) stop the run with a message naming the temp dir and exit code 2 (DESIGN §4: an error).
#[test]
fn temp_files_failing_exit_2_naming_the_temp_dir() {
    let dir = tempfile::tempdir().unwrap();
    let c = corpus(dir.path());
    let missing = dir.path().join("no-such-tmp");
    let (code, out, err) = run(
        &["corpus", c.to_str().unwrap(), "--memory", "6k"],
        Some(&missing),
    );
    assert_eq!(code, 2, "{err}");
    assert!(out.is_empty());
    assert!(err.contains(missing.to_str().unwrap()), "{err}");
    assert!(err.contains("temporary files of --memory"), "{err}");
    // Without a spill the temp dir is never used.
    let (code, _, err) = run(
        &["corpus", c.to_str().unwrap(), "--memory", "64G"],
        Some(&missing),
    );
    assert_eq!(code, 0, "{err}");
}
