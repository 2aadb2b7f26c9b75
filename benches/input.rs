//! Criterion: reading JSONL records (the text and id fields of each line) from a file, on
//! escape-dense text written two ways: as serde_json writes it, and with every non-ASCII
//! character as `\uXXXX` and a nested metadata field first (as Python's json.dumps writes
//! records of web corpora).

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use deja::input::{read_documents, InputOptions, Source};
use serde_json::json;
use std::io::Write;

#[path = "../tests/util/ascii_json.rs"]
mod ascii_json;
use ascii_json::ascii_only;

/// Documents of about 4 KB cut from the bundled text, 16 MB in all.
fn documents() -> Vec<String> {
    let text = include_str!("data/python-docs.txt");
    let mut docs = Vec::new();
    while docs.iter().map(String::len).sum::<usize>() < 16 << 20 {
        let mut start = 0;
        while start < text.len() {
            let mut end = (start + 4096).min(text.len());
            while !text.is_char_boundary(end) {
                end += 1;
            }
            docs.push(format!("{} {}", docs.len(), &text[start..end]));
            start = end;
        }
    }
    docs
}

fn bench(c: &mut Criterion) {
    let docs = documents();
    let dir = tempfile::tempdir().unwrap();
    let mut g = c.benchmark_group("input");
    g.sample_size(10);
    for (style, file) in [
        ("serde_json", "plain.jsonl"),
        ("ascii + metadata", "ascii.jsonl"),
    ] {
        let path = dir.path().join(file);
        let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
        for (i, d) in docs.iter().enumerate() {
            let line = if style == "serde_json" {
                json!({"id": i, "text": d}).to_string()
            } else {
                let meta = json!({"url": format!("https://example.org/{i}"), "lang": {"en": 0.98}});
                ascii_only(&format!(
                    r#"{{"meta": {meta}, "id": {i}, "text": {}}}"#,
                    json!(d)
                ))
            };
            writeln!(f, "{line}").unwrap();
        }
        f.flush().unwrap();
        drop(f);
        let bytes = std::fs::metadata(&path).unwrap().len();
        g.throughput(Throughput::Bytes(bytes));
        let source = Source::File {
            path: path.clone(),
            explicit: true,
        };
        g.bench_function(format!("read 16 MB of records, {style}"), |b| {
            b.iter(|| {
                let mut n = 0;
                read_documents(&source, &InputOptions::default(), |d| {
                    assert!(!d.unwrap().text.is_empty());
                    n += 1;
                })
                .unwrap();
                assert_eq!(n, docs.len());
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
