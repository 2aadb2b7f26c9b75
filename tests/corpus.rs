//! `deja corpus`, `deja dedup` and `deja sketch` run as a binary on `tests/data/corpus`.

use assert_cmd::Command;
use serde_json::Value;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

#[path = "util/ascii_json.rs"]
mod ascii_json;
use ascii_json::ascii_only;

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/corpus")
        .join(name)
}

fn deja() -> Command {
    Command::cargo_bin("deja").unwrap()
}

fn run(args: &[&str]) -> (i32, String, String) {
    let out = deja().args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn path_str(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Pairs of an exact all-pairs join (Python, `\w+` 5-word shingles) on clean.jsonl.
const EXPECTED_PAIRS: [(i64, i64); 5] = [(5, 721), (23, 1568), (28, 725), (40, 80), (68, 1704)];

#[test]
fn json_report_has_pairs_clusters_and_boilerplate() {
    let clean = data("clean.jsonl");
    let (code, out, err) = run(&["corpus", path_str(&clean), "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["version"], 1);
    assert_eq!(v["documents"], 28);
    assert_eq!(v["num_perm"], 128);
    assert!(v["candidate_probability"].as_f64().unwrap() >= 0.95);
    let (b, r) = (v["bands"].as_u64().unwrap(), v["rows"].as_u64().unwrap());
    assert!(b * r <= 128);
    let pairs: Vec<(i64, i64)> = v["pairs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            assert!(p["similarity"].as_f64().unwrap() >= 0.8);
            (p["a"].as_i64().unwrap(), p["b"].as_i64().unwrap())
        })
        .collect();
    let mut want: Vec<(i64, i64)> = EXPECTED_PAIRS.to_vec();
    want.sort();
    let mut got = pairs.clone();
    got.sort();
    assert_eq!(got, want);
    // Ids keep their JSON type (numbers here); representative = first in input order.
    let clusters = v["clusters"].as_array().unwrap();
    assert_eq!(clusters.len(), 5);
    for c in clusters {
        assert_eq!(c["representative"], c["members"][0]);
    }
    let reps = v["repeated_paragraphs"].as_array().unwrap();
    let boiler = reps
        .iter()
        .find(|p| p["text"].as_str().unwrap().starts_with("This page is part"))
        .expect("boilerplate paragraph reported");
    assert_eq!(boiler["count"], 10);
    assert_eq!(boiler["documents"].as_array().unwrap().len(), 10);
}

#[test]
fn jsonl_records_are_typed_and_thread_count_does_not_matter() {
    let clean = data("clean.jsonl");
    let c = path_str(&clean);
    let (code, one, _) = run(&["corpus", c, "--format", "jsonl", "--threads", "1"]);
    assert_eq!(code, 0);
    let (_, two, _) = run(&["corpus", c, "--format", "jsonl", "--threads", "2"]);
    assert_eq!(one, two, "output depends on --threads");
    let (_, j1, _) = run(&["corpus", c, "--format", "json", "--threads", "1"]);
    let (_, j2, _) = run(&["corpus", c, "--format", "json", "--threads", "2"]);
    assert_eq!(j1, j2);
    let recs: Vec<Value> = one
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(recs[0]["type"], "summary");
    assert_eq!(recs[0]["documents"], 28);
    let kinds: Vec<&str> = recs.iter().map(|r| r["type"].as_str().unwrap()).collect();
    let first = |k: &str| kinds.iter().position(|x| *x == k).unwrap();
    assert!(first("pair") < first("cluster") && first("cluster") < first("repeated_paragraph"));
    assert_eq!(kinds.iter().filter(|k| **k == "pair").count(), 5);
    // Human output names the banding.
    let (_, human, _) = run(&["corpus", c, "--format", "human"]);
    assert!(
        human.contains("bands") && human.contains("P(candidate"),
        "{human}"
    );
}

#[test]
fn fail_on_findings_exits_1_and_estimate_mode_works() {
    let clean = data("clean.jsonl");
    let c = path_str(&clean);
    let (code, _, _) = run(&["corpus", c, "--format", "json", "--fail-on-findings"]);
    assert_eq!(code, 1);
    let (code, out, _) = run(&["corpus", c, "--format", "json", "--verify", "estimate"]);
    assert_eq!(code, 0);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["verify"], "estimate");
    // Estimates near 0.8 fall on either side (standard error ≈ 0.035): most are found.
    assert!(v["pairs"].as_array().unwrap().len() >= 3);
}

#[test]
fn tiny_memory_spills_with_the_same_result() {
    let clean = data("clean.jsonl");
    let c = path_str(&clean);
    let (_, normal, _) = run(&["corpus", c, "--format", "jsonl"]);
    let (code, tiny, err) = run(&["corpus", c, "--format", "jsonl", "--memory", "2k"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("spilled"), "{err}");
    assert_eq!(normal, tiny);
}

#[test]
fn bad_records_are_reported_skipped_and_exit_2() {
    let bad = data("bad.jsonl");
    let (code, out, err) = run(&["corpus", path_str(&bad), "--format", "jsonl"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("bad.jsonl: line 2: invalid JSON"), "{err}");
    assert!(err.contains("line 3: missing field \"text\""), "{err}");
    assert!(
        err.contains("line 7: field \"text\" is not a string"),
        "{err}"
    );
    assert!(err.contains("line 8: invalid UTF-8"), "{err}");
    assert!(err.contains("duplicate id \"ok-1\""), "{err}");
    assert!(err.contains("\"empty\": empty"), "{err}");
    assert!(err.contains("\"short\": only 3 words"), "{err}");
    // The rest is processed: the two versions of ok-1 pair up.
    let recs: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(recs[0]["documents"], 5);
    assert!(recs.iter().any(|r| r["type"] == "pair" && r["a"] == "ok-1"));
}

#[test]
fn many_problems_of_one_kind_are_summarised() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("many.jsonl");
    let mut f = std::fs::File::create(&p).unwrap();
    for i in 0..30 {
        writeln!(f, "{{\"id\": {i}, \"txt\": \"x\"}}").unwrap();
    }
    writeln!(f, "{{\"id\": 99, \"text\": \"fine words here to read\"}}").unwrap();
    drop(f);
    let (code, out, err) = run(&["corpus", path_str(&p), "--format", "json"]);
    assert_eq!(code, 2);
    assert_eq!(err.matches("missing field \"text\"").count(), 20, "{err}");
    assert!(
        err.contains("30 missing field errors in all (10 not shown)"),
        "{err}"
    );
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["documents"], 1);
}

#[test]
fn truncated_compressed_streams_are_errors_after_the_good_part() {
    let dir = tempfile::tempdir().unwrap();
    let raw = std::fs::read(data("clean.jsonl")).unwrap();
    // Over 1 MiB of varied text, so that a stream cut near its end still yields records
    // (the decoder's output before the damaged block is kept).
    let mut raw = raw;
    let mut state = 1u64;
    for i in 0..3000 {
        let words: Vec<String> = (0..120)
            .map(|_| {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1);
                format!("w{}", state >> 50)
            })
            .collect();
        writeln!(
            raw,
            "{{\"id\": \"s{i}\", \"text\": \"{}\"}}",
            words.join(" ")
        )
        .unwrap();
    }
    let zst = zstd::encode_all(&raw[..], 3).unwrap();
    let zp = dir.path().join("t.jsonl.zst");
    std::fs::write(&zp, &zst[..zst.len() - 20]).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&raw).unwrap();
    let gz = gz.finish().unwrap();
    let gp = dir.path().join("t.jsonl.gz");
    std::fs::write(&gp, &gz[..gz.len() / 2]).unwrap();
    for p in [&zp, &gp] {
        let (code, out, err) = run(&["corpus", path_str(p), "--format", "json"]);
        assert_eq!(code, 2, "{err}");
        assert!(err.contains(path_str(p)), "{err}");
        let v: Value = serde_json::from_str(&out).unwrap();
        let n = v["documents"].as_u64().unwrap();
        assert!(n > 0 && n < 3028, "{n}");
    }
    // The whole compressed file reads like the plain one.
    let full = dir.path().join("full.jsonl.zst");
    std::fs::write(&full, &zst).unwrap();
    let (code, a, _) = run(&["corpus", path_str(&full), "--format", "jsonl"]);
    assert_eq!(code, 0);
    let plain = dir.path().join("full.jsonl");
    std::fs::write(&plain, &raw).unwrap();
    let (_, b, _) = run(&["corpus", path_str(&plain), "--format", "jsonl"]);
    assert_eq!(a, b);
}

fn split_clean(dir: &Path) -> (PathBuf, PathBuf) {
    let text = std::fs::read_to_string(data("clean.jsonl")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let (a, b) = (dir.join("a.jsonl"), dir.join("b.jsonl"));
    std::fs::write(&a, lines[..13].join("\n") + "\n").unwrap();
    std::fs::write(&b, lines[13..].join("\n") + "\n").unwrap();
    (a, b)
}

fn pair_lines(out: &str) -> Vec<&str> {
    out.lines()
        .filter(|l| l.contains("\"type\": \"pair\""))
        .collect()
}

#[test]
fn sketches_give_the_same_pairs_as_one_run() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = split_clean(dir.path());
    let (sa, sb) = (dir.path().join("a.sig"), dir.path().join("b.sig"));
    for (src, sig) in [(&a, &sa), (&b, &sb)] {
        let (code, _, err) = run(&["sketch", path_str(src), "-o", path_str(sig)]);
        assert_eq!(code, 0, "{err}");
    }
    let (code, whole, _) = run(&["corpus", path_str(&a), path_str(&b), "--format", "jsonl"]);
    assert_eq!(code, 0);
    let (code, sk, err) = run(&[
        "corpus",
        "--sketches",
        path_str(&sa),
        path_str(&sb),
        "--format",
        "jsonl",
    ]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(pair_lines(&whole), pair_lines(&sk));
    assert_eq!(pair_lines(&sk).len(), 5);
    // Without sets: verified by estimate, still finds them.
    let sn = dir.path().join("n.sig");
    run(&[
        "sketch",
        path_str(&a),
        path_str(&b),
        "--no-sets",
        "-o",
        path_str(&sn),
    ]);
    let (code, est, err) = run(&["corpus", "--sketches", path_str(&sn), "--format", "jsonl"]);
    assert_eq!(code, 0, "{err}");
    assert!(est.contains("\"verify\": \"estimate\""));
    // Mismatched parameters are refused.
    let s4 = dir.path().join("k4.sig");
    run(&[
        "sketch",
        path_str(&b),
        "--shingle-size",
        "4",
        "-o",
        path_str(&s4),
    ]);
    let (code, _, err) = run(&["corpus", "--sketches", path_str(&sa), path_str(&s4)]);
    assert_eq!(code, 2);
    assert!(err.contains("k4.sig"), "{err}");
    // A truncated signature file is an error.
    let bytes = std::fs::read(&sa).unwrap();
    let st = dir.path().join("t.sig");
    std::fs::write(&st, &bytes[..bytes.len() - 100]).unwrap();
    let (code, _, err) = run(&["corpus", "--sketches", path_str(&st), "--format", "json"]);
    assert_eq!(code, 2);
    assert!(err.contains("truncated"), "{err}");
}

fn read_zst_lines(p: &Path) -> Vec<Value> {
    let mut s = String::new();
    zstd::stream::read::Decoder::new(std::fs::File::open(p).unwrap())
        .unwrap()
        .read_to_string(&mut s)
        .unwrap();
    s.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn dedup_keeps_one_per_cluster_and_all_fields() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.jsonl.zst");
    let clean = data("clean.jsonl");
    let (code, _, err) = run(&["dedup", path_str(&clean), "-o", path_str(&out)]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("removed 5 near-duplicates"), "{err}");
    let recs = read_zst_lines(&out);
    assert_eq!(recs.len(), 23);
    let ids: Vec<i64> = recs.iter().map(|r| r["id"].as_i64().unwrap()).collect();
    for (a, b) in EXPECTED_PAIRS {
        assert!(ids.contains(&a.min(b)) != ids.contains(&a.max(b)));
    }
    // Unchanged records are copied byte for byte (field order and all).
    let original = std::fs::read_to_string(&clean).unwrap();
    let first_line = original.lines().next().unwrap();
    let mut s = String::new();
    zstd::stream::read::Decoder::new(std::fs::File::open(&out).unwrap())
        .unwrap()
        .read_to_string(&mut s)
        .unwrap();
    assert_eq!(s.lines().next().unwrap(), first_line);
    // No temporary files left behind.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn dedup_strips_repeated_paragraphs_but_keeps_the_first() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.jsonl");
    let clean = data("clean.jsonl");
    let (code, _, err) = run(&[
        "dedup",
        path_str(&clean),
        "-o",
        path_str(&out),
        "--strip-repeated-paragraphs",
        "3",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("stripped"), "{err}");
    let text = std::fs::read_to_string(&out).unwrap();
    let recs: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let with = recs
        .iter()
        .filter(|r| r["text"].as_str().unwrap().contains("This page is part"))
        .count();
    assert_eq!(with, 1);
    // Other fields survive, in their order.
    assert!(text.lines().all(|l| l.starts_with("{\"id\":")));
    assert!(recs.iter().all(|r| r["source"] == "dev" && r["n"].is_i64()));
}

#[test]
fn dedup_refuses_to_overwrite_an_input() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.jsonl");
    std::fs::copy(data("clean.jsonl"), &input).unwrap();
    let before = std::fs::read(&input).unwrap();
    let (code, _, err) = run(&["dedup", path_str(&input), "-o", path_str(&input)]);
    assert_eq!(code, 2);
    assert!(err.contains("refusing to overwrite"), "{err}");
    assert_eq!(std::fs::read(&input).unwrap(), before);
    // Also through a directory walk and a hard link.
    let link = dir.path().join("link.jsonl");
    std::fs::hard_link(&input, &link).unwrap();
    let (code, _, _) = run(&["dedup", path_str(dir.path()), "-o", path_str(&link)]);
    assert_eq!(code, 2);
    assert_eq!(std::fs::read(&input).unwrap(), before);
}

#[test]
fn killed_dedup_leaves_no_partial_output() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("big.jsonl");
    let line = std::fs::read_to_string(data("clean.jsonl")).unwrap();
    let mut f = std::io::BufWriter::new(std::fs::File::create(&input).unwrap());
    for i in 0..150 {
        for (j, l) in line.lines().enumerate() {
            let mut v: Value = serde_json::from_str(l).unwrap();
            v["id"] = Value::from(i * 100 + j);
            v["text"] = Value::from(format!("{} copy {i}", v["text"].as_str().unwrap()));
            writeln!(f, "{v}").unwrap();
        }
    }
    drop(f);
    let out = dir.path().join("out.jsonl.zst");
    std::fs::write(&out, b"previous").unwrap();
    let bin = assert_cmd::cargo::cargo_bin("deja");
    let mut child = std::process::Command::new(bin)
        .args(["dedup", path_str(&input), "-o", path_str(&out), "-q"])
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(150));
    let _ = child.kill();
    let status = child.wait().unwrap();
    let now = std::fs::read(&out).unwrap();
    if status.success() {
        // Finished before the kill: a complete output.
        assert!(!read_zst_lines(&out).is_empty());
    } else {
        assert_eq!(now, b"previous");
    }
}

#[test]
fn plain_files_in_a_directory_are_documents() {
    let dir = tempfile::tempdir().unwrap();
    let text =
        "Copy this paragraph about near duplicate detection with shingles and hashes. ".repeat(5);
    std::fs::write(dir.path().join("a.txt"), &text).unwrap();
    std::fs::write(dir.path().join("b.txt"), format!("{text} extra")).unwrap();
    std::fs::write(
        dir.path().join("c.txt"),
        "Something else entirely, unrelated.",
    )
    .unwrap();
    let (code, out, err) = run(&["corpus", path_str(dir.path()), "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["documents"], 3);
    let p = &v["pairs"][0];
    assert!(p["a"].as_str().unwrap().ends_with("a.txt"));
    assert!(p["b"].as_str().unwrap().ends_with("b.txt"));
}

#[test]
fn both_sketches_find_the_same_pairs() {
    let clean = data("clean.jsonl");
    let c = path_str(&clean);
    let (code, out, err) = run(&["corpus", c, "--format", "jsonl"]);
    assert_eq!(code, 0, "{err}");
    let (_, minhash, _) = run(&["corpus", c, "--format", "jsonl", "--sketch", "minhash"]);
    assert!(!pair_lines(&out).is_empty());
    assert_eq!(pair_lines(&out), pair_lines(&minhash));
    // Signature files record the sketch; mixing sketches is refused.
    let dir = tempfile::tempdir().unwrap();
    let (so, sm) = (dir.path().join("o.sig"), dir.path().join("m.sig"));
    run(&["sketch", c, "-o", path_str(&so)]);
    run(&["sketch", c, "--sketch", "minhash", "-o", path_str(&sm)]);
    let (code, sk, _) = run(&["corpus", "--sketches", path_str(&so), "--format", "jsonl"]);
    assert_eq!(code, 0);
    assert_eq!(pair_lines(&sk), pair_lines(&out));
    let (code, _, err) = run(&["corpus", "--sketches", path_str(&so), path_str(&sm)]);
    assert_eq!(code, 2, "{err}");
}

/// A corpus of several chunks (over 4.5 MB: chunks start at 256 KB and double), with
/// copies planted across chunk boundaries: the pipeline that adds one chunk while it
/// sketches the next finds them all, the same way for any thread count.
#[test]
fn copies_across_chunks_are_found_whatever_the_threads() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.jsonl");
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut word = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        format!("w{}", state % 50_000)
    };
    let mut texts: Vec<String> = (0..1_500)
        .map(|i| {
            let body: Vec<String> = (0..550).map(|_| word()).collect();
            let mut t = body.join(" ");
            if i % 10 == 0 {
                t.push_str("\n\nThis is the shared footer of the whole site, on every tenth page.");
            }
            t
        })
        .collect();
    for i in 0..50 {
        texts[i * 10 + 700] = texts[i * 10].clone();
    }
    let mut f = std::fs::File::create(&path).unwrap();
    for (i, t) in texts.iter().enumerate() {
        writeln!(f, "{}", serde_json::json!({"id": i, "text": t})).unwrap();
    }
    drop(f);
    assert!(std::fs::metadata(&path).unwrap().len() > 5_000_000);
    let p = path_str(&path);
    let (code, one, err) = run(&["corpus", p, "--format", "jsonl", "--threads", "1"]);
    assert_eq!(code, 0, "{err}");
    let (_, two, _) = run(&["corpus", p, "--format", "jsonl", "--threads", "2"]);
    assert_eq!(one, two, "output depends on --threads");
    let recs: Vec<Value> = one
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(recs[0]["documents"], 1_500);
    let pairs: Vec<(i64, i64)> = recs
        .iter()
        .filter(|r| r["type"] == "pair")
        .map(|r| (r["a"].as_i64().unwrap(), r["b"].as_i64().unwrap()))
        .collect();
    let want: Vec<(i64, i64)> = (0..50).map(|i| (i * 10, i * 10 + 700)).collect();
    assert_eq!(pairs, want);
    let footer: Vec<&Value> = recs
        .iter()
        .filter(|r| r["type"] == "repeated_paragraph")
        .collect();
    assert_eq!(footer.len(), 1);
    assert_eq!(footer[0]["count"], 150);
}

#[test]
fn records_of_any_json_style_read_the_same() {
    // Escapes of every kind, non-ASCII text and an emoji, across many 64-byte windows.
    let text = "Line one says \"hello\" to the café crowd.\n\tThen a back\\slash, a \
                slash / and an emoji 😀 in the middle of a sentence that goes on and on.\r\n\
                Déjà vu: the same words, written in another JSON style, must read the same.\n"
        .repeat(3);
    let plain = serde_json::to_string(&text).unwrap();
    let records = [
        format!(r#"{{"id":1,"text":{plain}}}"#),
        format!(r#"{{"id": 2, "text": {}}}"#, ascii_only(&plain)),
        format!(r#"{{"meta": {{"a": [1, {{"b": null}}, -2.5e3], "u": "x\"y"}}, "text": {plain}, "id": 3}}"#),
        // An escaped key: serde_json reads this one.
        format!(r#"{{"te\u0078t": {plain}, "id": 4}}"#),
        format!(r#"{{"text": "something else entirely", "id": 5, "text": {plain}}}"#),
        format!("  {{ \"id\" : 6 ,\t\"text\" :  {plain}  }}  "),
        r#"{"id": 7, "text": "An unrelated document with words of its own, nothing like the rest."}"#.to_string(),
    ];
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("styles.jsonl");
    std::fs::write(&path, records.join("\n")).unwrap();
    let (code, out, err) = run(&["corpus", path_str(&path), "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let pairs = v["pairs"].as_array().unwrap();
    assert_eq!(pairs.len(), 15, "{out}");
    assert!(pairs.iter().all(|p| p["similarity"] == 1.0), "{out}");
    assert_eq!(v["clusters"][0]["representative"], 1);
    assert_eq!(
        v["clusters"][0]["members"],
        serde_json::json!([1, 2, 3, 4, 5, 6])
    );
}
