//! Pathological inputs (issue 15 §3), each with its bound on time and peak memory: thousands
//! of identical or near-identical documents (one giant LSH bucket), records over
//! `--max-record-bytes`, a decompression bomb, many one-word documents, a million empty lines,
//! deeply nested JSON, megabyte ids, symlink loops and unreadable directories. Inputs are
//! generated in a temporary directory; peak RSS comes from `getrusage` in a small python3
//! process that starts the binary. The full-size cases are measured by
//! `benches/pathological/run.py`.

use serde_json::{json, Value};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

/// What one run of the binary did.
struct Run {
    code: i32,
    secs: f64,
    rss_mb: f64,
    stdout: String,
    stderr: String,
}

impl Run {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).expect("stdout is JSON")
    }

    /// Asserts the run took less than `secs` and `mb` of memory.
    fn within(&self, secs: f64, mb: f64) -> &Self {
        assert!(
            self.secs < secs && self.rss_mb < mb,
            "took {:.2} s and {:.0} MB (bound {secs} s, {mb} MB); stderr: {}",
            self.secs,
            self.rss_mb,
            &self.stderr[..self.stderr.len().min(2000)]
        );
        self
    }
}

/// Starts `argv[2..]`, waits, writes its peak RSS (KiB) to `argv[1]` and exits with its code
/// (128 + the signal that killed it). A child's `ru_maxrss` starts at its parent's peak (exec
/// keeps the larger), and this test process grows while it makes inputs, so the binary is
/// started from this small process rather than from the test itself.
const MEASURE: &str = "import resource, subprocess, sys\n\
r = subprocess.run(sys.argv[2:])\n\
open(sys.argv[1], 'w').write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))\n\
sys.exit(r.returncode if r.returncode >= 0 else 128 - r.returncode)\n";

/// Runs `deja args` in `dir` (or under `prefix`, a command such as `setpriv …`), its output
/// in files (no pipe to fill), and reads its peak RSS as [`MEASURE`] reports it.
fn run_with(dir: &Path, prefix: &[&str], args: &[&str]) -> Run {
    let (out, err, rss) = (dir.join(".stdout"), dir.join(".stderr"), dir.join(".rss"));
    let deja = env!("CARGO_BIN_EXE_deja");
    let start = Instant::now();
    let status = Command::new("python3")
        .arg("-c")
        .arg(MEASURE)
        .arg(&rss)
        .args(prefix)
        .arg(deja)
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(File::create(&out).unwrap())
        .stderr(File::create(&err).unwrap())
        .status()
        .expect("python3 runs the binary and reports its peak memory");
    let secs = start.elapsed().as_secs_f64();
    let code = match status.code().expect("python3 exits") {
        c if c > 128 => -(c - 128),
        c => c,
    };
    let read = |p: &Path| String::from_utf8_lossy(&std::fs::read(p).unwrap()).into_owned();
    let kib: f64 = read(&rss).trim().parse().expect("peak RSS written");
    Run {
        code,
        secs,
        rss_mb: kib / 1024.0,
        stdout: read(&out),
        stderr: read(&err),
    }
}

fn run(dir: &Path, args: &[&str]) -> Run {
    run_with(dir, &[], args)
}

/// `n` words drawn from a vocabulary of 5,000, the same for the same `seed`.
fn words(seed: u64, n: usize) -> Vec<String> {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            format!("w{}", x % 5000)
        })
        .collect()
}

fn write_jsonl(path: &Path, texts: impl IntoIterator<Item = String>) {
    let mut w = BufWriter::new(File::create(path).unwrap());
    for (i, text) in texts.into_iter().enumerate() {
        serde_json::to_writer(&mut w, &json!({"id": i, "text": text})).unwrap();
        w.write_all(b"\n").unwrap();
    }
    w.flush().unwrap();
}

fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

fn members(cluster: &Value) -> Vec<u64> {
    cluster["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_u64().unwrap())
        .collect()
}

/// The case: 20 k identical 60-word documents listed all 200 M pairs (past 120 s and
/// 10.5 GB). Now: one cluster, each member paired with the first, within 10 s and 1 GB.
#[test]
fn identical_documents_by_the_thousand() {
    let dir = tempdir();
    let text = words(1, 60).join(" ");
    let n = 20_000;
    write_jsonl(&dir.path().join("same.jsonl"), (0..n).map(|_| text.clone()));
    let r = run(dir.path(), &["corpus", "same.jsonl", "--format", "json"]);
    r.within(10.0, 1024.0);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = r.json();
    assert_eq!(v["documents"], n);
    assert_eq!(v["cluster_count"], 1);
    assert_eq!(v["clusters"][0]["representative"], 0);
    assert_eq!(
        members(&v["clusters"][0]),
        (0..n as u64).collect::<Vec<_>>()
    );
    assert_eq!(v["all_pairs"], false);
    assert!(v["large_buckets"].as_u64().unwrap() >= 1);
    // Each member paired with the representative, at similarity 1.
    assert_eq!(v["pair_count"], n - 1);
    for (i, p) in v["pairs"].as_array().unwrap().iter().enumerate() {
        assert_eq!((&p["a"], &p["b"]), (&json!(0), &json!(i + 1)));
        assert_eq!(p["similarity"], 1.0);
    }
    // dedup keeps the first.
    let d = run(
        dir.path(),
        &["dedup", "same.jsonl", "-o", "out.jsonl", "-q"],
    );
    d.within(10.0, 1024.0);
    assert_eq!(d.code, 0, "{}", d.stderr);
    let out = std::fs::read_to_string(dir.path().join("out.jsonl")).unwrap();
    assert_eq!(out.lines().count(), 1);
    assert!(out.starts_with("{\"id\":0,"), "{out}");
}

/// Signature files (`deja sketch`, the scale-out path) give the same joined pairs and
/// clusters as reading the documents; the human report says what `pairs` holds.
#[test]
fn identical_documents_through_signature_files() {
    let dir = tempdir();
    let text = words(8, 60).join(" ");
    write_jsonl(
        &dir.path().join("same.jsonl"),
        (0..600).map(|_| text.clone()),
    );
    let direct = run(
        dir.path(),
        &[
            "corpus",
            "same.jsonl",
            "--format",
            "json",
            "--no-paragraphs",
        ],
    );
    assert_eq!(direct.code, 0, "{}", direct.stderr);
    let s = run(
        dir.path(),
        &["sketch", "same.jsonl", "-o", "same.sig", "-q"],
    );
    assert_eq!(s.code, 0, "{}", s.stderr);
    let sigs = run(
        dir.path(),
        &["corpus", "--sketches", "same.sig", "--format", "json"],
    );
    assert_eq!(sigs.code, 0, "{}", sigs.stderr);
    let (d, g) = (direct.json(), sigs.json());
    assert_eq!(d["pair_count"], 599);
    assert_eq!((&d["pairs"], &d["clusters"]), (&g["pairs"], &g["clusters"]));
    let human = run(dir.path(), &["corpus", "same.jsonl", "--color", "never"]);
    assert!(
        human
            .stdout
            .contains("band buckets of more than 256 documents")
            && human.stdout.contains("--all-pairs lists every pair"),
        "{}",
        human.stdout
    );
}

/// Edited copies of one text, one word each, after the text itself. At 2,000 documents the
/// clusters equal those of `--all-pairs` (every pair of the giant bucket verified), and its
/// pairs are a subset of those; at 20,000 the run stays within the bound.
#[test]
fn near_duplicates_by_the_thousand() {
    let dir = tempdir();
    let base = words(2, 60);
    let variants = |n: usize| {
        let base = base.clone();
        std::iter::once(base.join(" ")).chain((1..n).map(move |i| {
            let mut w = base.clone();
            w[(i * 7919) % 60] = format!("edit{i}");
            w.join(" ")
        }))
    };
    write_jsonl(&dir.path().join("small.jsonl"), variants(2_000));
    let args = [
        "corpus",
        "small.jsonl",
        "--format",
        "json",
        "--no-paragraphs",
    ];
    let joined = run(dir.path(), &args);
    assert_eq!(joined.code, 0, "{}", joined.stderr);
    let all = run(dir.path(), &[&args[..], &["--all-pairs"]].concat());
    assert_eq!(all.code, 0, "{}", all.stderr);
    let (j, a) = (joined.json(), all.json());
    assert!(j["large_buckets"].as_u64().unwrap() > 0);
    assert_eq!(
        (&j["all_pairs"], &a["all_pairs"]),
        (&json!(false), &json!(true))
    );
    assert_eq!(a["large_buckets"], 0);
    assert_eq!(j["clusters"], a["clusters"]);
    let all_pairs: std::collections::HashSet<String> = a["pairs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.to_string())
        .collect();
    for p in j["pairs"].as_array().unwrap() {
        assert!(all_pairs.contains(&p.to_string()), "{p}");
    }
    assert!(j["pair_count"].as_u64().unwrap() < a["pair_count"].as_u64().unwrap());

    let n = 20_000;
    write_jsonl(&dir.path().join("large.jsonl"), variants(n));
    let r = run(dir.path(), &["corpus", "large.jsonl", "--format", "json"]);
    r.within(10.0, 1024.0);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = r.json();
    let first = &v["clusters"][0];
    assert_eq!(first["representative"], 0);
    assert!(
        members(first).len() * 100 >= n * 99,
        "{}",
        members(first).len()
    );
    // Pairs of buckets up to 256 documents (255 a document), and one join a document.
    let bands = v["bands"].as_u64().unwrap();
    assert!(v["pair_count"].as_u64().unwrap() <= (bands * 255 / 2 + 1) * n as u64);
}

/// Thousands of files holding one near-identical paragraph each (a template with one word
/// changed): every pair of paragraphs is a cross-file copy, and a join of every pair was
/// quadratic (3,000 files took 8.7 s). Each paragraph is compared with a bounded number of
/// candidates, the earliest first, so each copy still names the earliest files as its sources.
#[test]
fn near_identical_paragraphs_in_thousands_of_files() {
    let dir = tempdir();
    let docs = dir.path().join("docs");
    std::fs::create_dir_all(&docs).unwrap();
    let base = words(4, 40);
    let n = 4_000;
    for i in 0..n {
        let mut w = base.clone();
        w[(i * 7919) % 40] = format!("edit{i}");
        std::fs::write(
            docs.join(format!("f{i:05}.md")),
            format!("{}\n", w.join(" ")),
        )
        .unwrap();
    }
    let r = run(
        dir.path(),
        &[
            "check",
            "docs",
            "--format",
            "json",
            "--no-baseline",
            "--fail-on",
            "none",
        ],
    );
    r.within(20.0, 1024.0);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = r.json();
    let findings = v["findings"].as_array().unwrap();
    // Every file but the first copies an earlier one, with three sources at most.
    assert_eq!(findings.len(), n - 1);
    for f in findings {
        assert_eq!(f["kind"], "cross_file");
        let sources = f["sources"].as_array().unwrap();
        assert!(!sources.is_empty() && sources.len() <= 3, "{f}");
        for s in sources {
            assert!(s["path"].as_str() < f["path"].as_str(), "{f}");
            assert!(s["score"].as_f64().unwrap() >= 0.7, "{f}");
        }
    }
}

/// One record larger than `--max-record-bytes` is reported by file and line and skipped
/// without being held in memory; the records around it are processed. With a higher limit
/// it is processed.
#[test]
fn a_record_over_the_limit() {
    let dir = tempdir();
    let text = words(3, 80).join(" ");
    let big = words(4, 1000).join(" ").repeat(6_000); // ~36 MB
    write_jsonl(
        &dir.path().join("big.jsonl"),
        [text.clone(), big.clone(), text],
    );
    let r = run(
        dir.path(),
        &[
            "corpus",
            "big.jsonl",
            "--format",
            "json",
            "--max-record-bytes",
            "8M",
        ],
    );
    r.within(10.0, 200.0);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains(
            "big.jsonl: line 2: record larger than --max-record-bytes (8388608 bytes), skipped"
        ),
        "{}",
        r.stderr
    );
    let v = r.json();
    assert_eq!((&v["documents"], &v["pair_count"]), (&json!(2), &json!(1)));
    let ok = run(
        dir.path(),
        &[
            "corpus",
            "big.jsonl",
            "--format",
            "json",
            "--max-record-bytes",
            "64M",
        ],
    );
    assert_eq!(ok.code, 0, "{}", ok.stderr);
    assert_eq!(ok.json()["documents"], 3);
    // A plain file is one record.
    std::fs::write(dir.path().join("big.txt"), &big).unwrap();
    let d = run(
        dir.path(),
        &[
            "doc",
            "big.txt",
            "--format",
            "json",
            "--max-record-bytes",
            "8M",
        ],
    );
    d.within(10.0, 200.0);
    assert_eq!(d.code, 2);
    assert!(
        d.stderr
            .contains("big.txt: file larger than --max-record-bytes"),
        "{}",
        d.stderr
    );
    assert!(run(dir.path(), &["--help"]).code == 0);
}

/// Writes `mb` MB of `a` (one line, no newline) as concatenated gzip members of 8 MB each,
/// between two good records: a 1,000× "zip bomb".
fn write_bomb(path: &Path, mb: usize, jsonl: bool) {
    use flate2::{write::GzEncoder, Compression};
    let member = |bytes: &[u8]| {
        let mut e = GzEncoder::new(Vec::new(), Compression::best());
        e.write_all(bytes).unwrap();
        e.finish().unwrap()
    };
    let chunk = member(&vec![b'a'; 8 << 20]);
    let mut f = BufWriter::new(File::create(path).unwrap());
    let good = format!("{{\"id\": 0, \"text\": \"{}\"}}\n", words(5, 50).join(" "));
    if jsonl {
        f.write_all(&member(good.as_bytes())).unwrap();
        f.write_all(&member(b"{\"id\": 1, \"text\": \"")).unwrap();
    }
    for _ in 0..mb / 8 {
        f.write_all(&chunk).unwrap();
    }
    if jsonl {
        f.write_all(&member(
            format!("\"}}\n{}", good.replace("0,", "2,")).as_bytes(),
        ))
        .unwrap();
    }
    f.flush().unwrap();
}

/// 320 MB out of a 330 kB .gz: the line is skipped as it streams past, under the default
/// limit (256 MiB) and under a small one; the records around it are processed.
#[test]
fn a_decompression_bomb() {
    let dir = tempdir();
    write_bomb(&dir.path().join("bomb.jsonl.gz"), 320, true);
    assert!(
        std::fs::metadata(dir.path().join("bomb.jsonl.gz"))
            .unwrap()
            .len()
            < 1 << 20
    );
    for (limit, mb) in [(Some("1M"), 120.0), (None, 700.0)] {
        let mut args = vec!["corpus", "bomb.jsonl.gz", "--format", "json"];
        args.extend(
            limit
                .map(|l| ["--max-record-bytes", l])
                .into_iter()
                .flatten(),
        );
        let r = run(dir.path(), &args);
        r.within(20.0, mb);
        assert_eq!(r.code, 2, "{}", r.stderr);
        assert!(
            r.stderr
                .contains("bomb.jsonl.gz: line 2: record larger than"),
            "{}",
            r.stderr
        );
        let v = r.json();
        assert_eq!((&v["documents"], &v["pair_count"]), (&json!(2), &json!(1)));
    }
    write_bomb(&dir.path().join("bomb.txt.gz"), 64, false);
    let r = run(
        dir.path(),
        &[
            "doc",
            "bomb.txt.gz",
            "--format",
            "json",
            "--max-record-bytes",
            "1M",
        ],
    );
    r.within(10.0, 120.0);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("bomb.txt.gz: file larger than"),
        "{}",
        r.stderr
    );
}

/// 200 k documents of one word from 50 words: 50 clusters of 4,000 (giant buckets), and one
/// line of warnings per kind, not 200 k.
#[test]
fn many_one_word_documents() {
    let dir = tempdir();
    let n = 200_000;
    write_jsonl(
        &dir.path().join("words.jsonl"),
        (0..n).map(|i| format!("word{}", i % 50)),
    );
    let r = run(dir.path(), &["corpus", "words.jsonl", "--format", "json"]);
    r.within(10.0, 1024.0);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = r.json();
    assert_eq!(v["documents"], n);
    assert_eq!(v["cluster_count"], 50);
    assert_eq!(v["pair_count"], n - 50);
    assert!(r.stderr.lines().count() < 50, "{}", r.stderr);
}

/// A million empty lines: no documents (JSONL), no paragraphs (a text file).
#[test]
fn a_million_empty_lines() {
    let dir = tempdir();
    let empty = "\n".repeat(1_000_000);
    std::fs::write(dir.path().join("empty.jsonl"), &empty).unwrap();
    std::fs::write(dir.path().join("empty.txt"), &empty).unwrap();
    let r = run(dir.path(), &["corpus", "empty.jsonl", "--format", "json"]);
    r.within(10.0, 300.0);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json()["documents"], 0);
    let d = run(dir.path(), &["doc", "empty.txt", "--format", "json"]);
    d.within(10.0, 300.0);
    assert_eq!(d.code, 0, "{}", d.stderr);
    assert_eq!(d.json()["documents"][0]["paragraphs"], json!([]));
}

/// JSON nested 100,000 deep, in an ignored field and as the id: a record error (serde_json's
/// recursion limit) or the record read, never a stack overflow.
#[test]
fn deeply_nested_json() {
    let dir = tempdir();
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let text = words(6, 40).join(" ");
    let lines = [
        format!("{{\"id\": 0, \"text\": \"{text}\"}}"),
        format!("{{\"id\": 1, \"meta\": {deep}, \"text\": \"{text}\"}}"),
        format!("{{\"id\": {deep}, \"text\": \"{text}\"}}"),
        format!("{{\"id\": 3, \"text\": \"{text}\"}}"),
    ];
    std::fs::write(dir.path().join("deep.jsonl"), lines.join("\n")).unwrap();
    let r = run(dir.path(), &["corpus", "deep.jsonl", "--format", "json"]);
    r.within(10.0, 300.0);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("deep.jsonl: line 3: invalid JSON"),
        "{}",
        r.stderr
    );
    let v = r.json();
    assert!(v["documents"] == 3 || v["documents"] == 2, "{v}");
    assert_eq!(v["clusters"][0]["representative"], 0);
}

/// Ids of a megabyte each are kept and written whole.
#[test]
fn megabyte_ids() {
    let dir = tempdir();
    let text = words(7, 40).join(" ");
    let mut w = BufWriter::new(File::create(dir.path().join("ids.jsonl")).unwrap());
    for c in ['a', 'b', 'c'] {
        let id = c.to_string().repeat(1 << 20);
        serde_json::to_writer(&mut w, &json!({"id": id, "text": text})).unwrap();
        w.write_all(b"\n").unwrap();
    }
    w.flush().unwrap();
    drop(w);
    let r = run(dir.path(), &["corpus", "ids.jsonl", "--format", "json"]);
    r.within(10.0, 300.0);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = r.json();
    assert_eq!(v["pair_count"], 3);
    assert_eq!(
        v["clusters"][0]["members"][2].as_str().unwrap().len(),
        1 << 20
    );
}

/// Files a `doc` or `check` run read (`documents` of its JSON).
fn read_files(r: &Run) -> usize {
    match &r.json()["documents"] {
        Value::Array(docs) => docs.len(),
        n => n.as_u64().unwrap() as usize,
    }
}

/// Symlinks that loop back up the tree are not followed: the walk ends.
#[test]
fn symlink_loops_end() {
    let dir = tempdir();
    let docs = dir.path().join("docs");
    std::fs::create_dir_all(docs.join("sub")).unwrap();
    std::fs::write(
        docs.join("sub/a.md"),
        "A paragraph with enough words to be judged by the check here.\n",
    )
    .unwrap();
    std::os::unix::fs::symlink("..", docs.join("sub/up")).unwrap();
    std::os::unix::fs::symlink(".", docs.join("self")).unwrap();
    std::os::unix::fs::symlink("docs", dir.path().join("link")).unwrap();
    for args in [
        &["doc", "docs", "--format", "json"][..],
        &["doc", "link", "--format", "json"],
        &["check", "docs", "--format", "json", "--no-baseline"],
    ] {
        let r = run(dir.path(), args);
        r.within(10.0, 300.0);
        assert_eq!(r.code, 0, "{args:?}: {}", r.stderr);
        assert_eq!(read_files(&r), 1, "{args:?}: {}", r.stdout);
    }
}

/// A directory that cannot be read is reported by its path (exit 2), the rest is checked.
/// Root reads anything, so as root the binary runs as `nobody` (setpriv, util-linux).
#[test]
fn unreadable_directories_are_reported() {
    let dir = tempdir();
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &Path, m: u32| std::fs::set_permissions(p, std::fs::Permissions::from_mode(m));
    mode(dir.path(), 0o755).unwrap();
    let docs = dir.path().join("docs");
    std::fs::create_dir_all(docs.join("locked")).unwrap();
    std::fs::write(
        docs.join("open.md"),
        "A paragraph with enough words to be judged by the check here.\n",
    )
    .unwrap();
    std::fs::write(docs.join("locked/hidden.md"), "Hidden words.\n").unwrap();
    mode(&docs.join("locked"), 0o000).unwrap();
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    let prefix: &[&str] = if root {
        &[
            "setpriv",
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
        ]
    } else {
        &[]
    };
    // The outputs go to files the unprivileged run can write.
    mode(dir.path(), 0o777).unwrap();
    for args in [
        &["doc", "docs", "--format", "json"][..],
        &["check", "docs", "--format", "json", "--no-baseline"],
    ] {
        let r = run_with(dir.path(), prefix, args);
        r.within(10.0, 300.0);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert!(
            r.stderr.contains("docs/locked") && r.stderr.contains("Permission denied"),
            "{args:?}: {}",
            r.stderr
        );
        assert_eq!(read_files(&r), 1, "{args:?}: {}", r.stdout);
    }
    mode(&docs.join("locked"), 0o755).unwrap();
}
