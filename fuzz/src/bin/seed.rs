//! `seed OUT`: writes a seed corpus per target into `OUT/<target>/`, from the main crate's
//! fixtures (`tests/data/`, `data/`) and from files deja itself writes (signature files,
//! baselines, the default deja.toml), each in the input layout its target reads.

use deja::check::Baseline;
use deja::config::{CheckKind, DEFAULT_CONFIG};
use deja::corpus::{SketchParams, Sketcher};
use deja::input::Document;
use deja::sigfile::SigWriter;
use std::io::Write;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn read(rel: &str) -> Vec<u8> {
    std::fs::read(root().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// Text fixtures, cut to 8 KB (AFL works best on small inputs).
fn texts() -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for rel in [
        "tests/data/plain.txt",
        "tests/data/clean.txt",
        "tests/data/german.txt",
        "tests/data/release.md",
        "tests/data/markup/guide.rst",
        "tests/data/markup/guide.adoc",
        "data/kharkiv.txt",
    ] {
        let mut b = read(rel);
        b.truncate(8 << 10);
        while std::str::from_utf8(&b).is_err() {
            b.pop();
        }
        let name = rel.rsplit('/').next().unwrap().to_string();
        out.push((name, b));
    }
    out
}

fn gz(b: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(b).unwrap();
    e.finish().unwrap()
}

fn zst(b: &[u8]) -> Vec<u8> {
    zstd::encode_all(b, 1).unwrap()
}

fn main() {
    let out = PathBuf::from(std::env::args().nth(1).expect("usage: seed OUT"));
    let put = |target: &str, name: &str, bytes: &[u8]| {
        let dir = out.join(target);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(name), bytes).unwrap();
    };
    let corpus = read("tests/data/corpus/clean.jsonl");
    let bad = read("tests/data/corpus/bad.jsonl");
    let lines: Vec<&[u8]> = corpus
        .split(|&b| b == b'\n')
        .chain(bad.split(|&b| b == b'\n'))
        .filter(|l| !l.is_empty() && l.len() < 4096)
        .collect();

    // jsonl: one record a seed (the target reads `KEYS\n` then the line, or the line alone).
    for (i, l) in lines.iter().enumerate().take(24) {
        put("jsonl", &format!("line{i}"), l);
    }
    put(
        "jsonl",
        "keys",
        b"body\tid\n{\"id\": 7, \"body\": \"a\\nb \\u00e9\", \"x\": [1, {}]}",
    );

    // stream: whole files (mode 0 gzip, 1 zstd) and payloads to mangle (mode ≥ 2).
    let head: Vec<u8> = lines[..6.min(lines.len())].join(&b'\n').to_vec();
    for (mode, file) in [(0u8, gz(&head)), (1, zst(&head))] {
        put(
            "stream",
            &format!("whole{mode}"),
            &[&[mode][..], &file].concat(),
        );
    }
    let mut two = gz(&head);
    two.extend(gz(&head));
    put("stream", "members", &[&[0u8][..], &two].concat());
    for mode in [2u8, 3, 6, 7, 10, 11, 14, 15, 18, 19] {
        put(
            "stream",
            &format!("mangle{mode}"),
            &[&[mode, 40, 0][..], &head].concat(),
        );
    }

    // segment and doc: texts.
    for (name, b) in texts() {
        put("segment", &name, &b);
        put("doc", &name, &b);
    }

    // config: the default deja.toml and a full one.
    put("config", "default.toml", DEFAULT_CONFIG.as_bytes());
    put(
        "config",
        "full.toml",
        br#"include = ["**/*.md", "**/*.rst"]
exclude = ["vendor/**", "CHANGELOG.md"]
fail_on = ["duplicate", "near_duplicate", "cross_file"]
ignore = []
baseline = ".deja-baseline.json"
language = "english"
min_words = 8

[thresholds]
duplicate = 0.9
near_duplicate = 0.5
restatement = 0.55
cross_file = 0.7

[[overrides]]
paths = ["docs/release-notes/**"]
fail_on = []
ignore = ["restatement"]
"#,
    );

    // baseline: as `deja check --write-baseline` writes it.
    let b = Baseline::from_findings([
        (
            "9f0c00000000000000000000000000aa",
            CheckKind::CrossFile,
            "docs/a.md",
            "docs/b.md",
            "Releases are cut",
        ),
        (
            "9f0c00000000000000000000000000aa",
            CheckKind::CrossFile,
            "docs/a.md",
            "docs/b.md",
            "Releases are cut",
        ),
        (
            "00000000000000000000000000000001",
            CheckKind::Restatement,
            "docs/é.md",
            "",
            "In short",
        ),
    ]);
    let p = out.join("baseline.tmp");
    std::fs::create_dir_all(&out).unwrap();
    b.save(&p).unwrap();
    put("baseline", "two-kinds.json", &std::fs::read(&p).unwrap());
    std::fs::remove_file(&p).unwrap();
    put(
        "baseline",
        "empty.json",
        b"{\"version\": 1, \"findings\": []}\n",
    );

    // sigfile: a file `deja sketch` would write (mode 0), and documents to write (mode 1).
    let params = SketchParams {
        num_perm: 8,
        ..SketchParams::default()
    };
    let sketcher = Sketcher::new(params, false, 1);
    let docs: Vec<Document> = lines
        .iter()
        .take(3)
        .enumerate()
        .map(|(i, l)| Document {
            id: serde_json::json!(i),
            text: String::from_utf8_lossy(l).into_owned(),
        })
        .collect();
    for sets in [false, true] {
        let mut w = SigWriter::new(Vec::new(), params, sets).unwrap();
        for d in sketcher.sketch_chunk(&docs, sets) {
            w.write(&d).unwrap();
        }
        let file = w.finish().unwrap();
        put(
            "sigfile",
            &format!("sketch-sets{sets}"),
            &[&[0u8][..], &file].concat(),
        );
    }
    for mode in [1u8, 3, 5, 9, 17] {
        put(
            "sigfile",
            &format!("write{mode}"),
            &[&[mode, 9, 4, 1, 1][..], &head[..200.min(head.len())]].concat(),
        );
    }
    eprintln!("seeds written to {}", out.display());
}
