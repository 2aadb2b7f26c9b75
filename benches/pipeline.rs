//! Criterion benchmarks of the pipeline on real text (`benches/data/python-docs.txt`, ~1 MB
//! of Python documentation, see `benches/data/README.md`):
//!
//! - `sketch/*`: tokenize + shingle (k = 5) + MinHash sketch (128 permutations) of ~3 KB
//!   documents, the corpus path; reported as bytes/s.
//! - `doc/*`: `DocAnalyzer::analyze` (what `deja doc` runs per document) on one document of
//!   10 KB, 100 KB, 1 MB and 10 MB. The 10 MB "book" goes on past the fixture with its text
//!   relabelled (new words, same structure and statistics); `doc/10MB-copies` goes on with
//!   edited copies of it instead, so that most of its paragraphs are near-duplicate findings.
//!
//! Every benchmark asserts its token / paragraph / finding counts first, so it cannot quietly
//! measure nothing. Run: `cargo bench --bench pipeline -- --warm-up-time 1` (the `doc` group
//! sets its own measurement times: 5 s, 20 s at 10 MB).

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use deja::findings::{DocAnalyzer, DocOptions};
use deja::shingle::Shingler;
use deja::sketch::{MinHasher, DEFAULT_SEED};
use deja::span::Span;
use deja::tokenize::{words, Analyzer};
use serde_json::Value;
use std::time::Duration;

const TEXT: &str = include_str!("data/python-docs.txt");

/// The fixture split at blank lines into documents of about 3 KB (the corpus average).
fn documents() -> Vec<&'static str> {
    let mut docs = Vec::new();
    let mut start = 0;
    let mut search = 0;
    while let Some(i) = TEXT[search..].find("\n\n") {
        let end = search + i;
        if end - start >= 3000 {
            docs.push(&TEXT[start..end]);
            start = end + 2;
        }
        search = end + 2;
    }
    docs.push(&TEXT[start..]);
    docs
}

/// How a document past the end of the ~1 MB fixture goes on.
#[derive(Clone, Copy)]
enum Sequel {
    /// Like a long book: the fixture again with every content word relabelled per round
    /// (stopwords kept), so each round is new text with the fixture's statistics, its own
    /// headings, lists and repeats, and no copies of other rounds.
    Book,
    /// Stress for near-duplicate detection: the fixture again with every 7th word (shifted
    /// by the round) replaced, so each round is an edited copy of all earlier ones and most
    /// paragraphs are findings with several sources.
    Copies,
}

/// A document of about `size` bytes: paragraphs of the fixture in order, then `sequel`.
fn document_of(size: usize, sequel: Sequel) -> String {
    let english = Analyzer::new("english").unwrap();
    let paragraphs: Vec<&str> = TEXT.split("\n\n").collect();
    let mut out = String::with_capacity(size + 4096);
    let mut round = 0usize;
    'outer: loop {
        for p in &paragraphs {
            if out.len() >= size {
                break 'outer;
            }
            match sequel {
                _ if round == 0 => out.push_str(p),
                Sequel::Book => relabel(p, round, &english, &mut out),
                Sequel::Copies => {
                    for (i, w) in p.split(' ').enumerate() {
                        if i > 0 {
                            out.push(' ');
                        }
                        if i % 7 == round % 7 && w.chars().all(char::is_alphabetic) && !w.is_empty()
                        {
                            out.push_str("edited");
                        } else {
                            out.push_str(w);
                        }
                    }
                }
            }
            out.push_str("\n\n");
        }
        round += 1;
    }
    out
}

/// `p` with each ASCII word that is not a stopword (as `deja doc` reads them) suffixed by two
/// letters naming `round`.
fn relabel(p: &str, round: usize, english: &Analyzer, out: &mut String) {
    let suffix = [b"qwxz"[round % 4] as char, b"jvkp"[round / 4 % 4] as char];
    let mut rest = p;
    while let Some(start) = rest.find(|c: char| c.is_ascii_alphabetic()) {
        out.push_str(&rest[..start]);
        let word_len = rest[start..]
            .find(|c: char| !c.is_ascii_alphabetic())
            .unwrap_or(rest.len() - start);
        let word = &rest[start..start + word_len];
        out.push_str(word);
        if !english.is_stopword(&word.to_ascii_lowercase()) {
            out.extend(suffix);
        }
        rest = &rest[start + word_len..];
    }
    out.push_str(rest);
}

fn count_words(text: &str) -> usize {
    let mut n = 0;
    words(text, Span::new(0, text.len()), |_, _| n += 1);
    n
}

fn sketch(c: &mut Criterion) {
    let docs = documents();
    let bytes: usize = docs.iter().map(|d| d.len()).sum();
    assert!(
        bytes > 900_000 && docs.len() > 200,
        "{bytes} bytes, {} docs",
        docs.len()
    );
    let shingler = Shingler::new(5);
    let hasher = MinHasher::new(128, DEFAULT_SEED);

    // Counts first: the fixture has real words, shingles and full signatures.
    let n_words: usize = docs.iter().map(|d| count_words(d)).sum();
    assert!(n_words > 120_000, "{n_words} words");
    let n_shingles: usize = docs
        .iter()
        .map(|d| shingler.shingle_set(d, Span::new(0, d.len())).len())
        .sum();
    assert!(n_shingles > 100_000, "{n_shingles} shingles");

    let mut group = c.benchmark_group("sketch");
    group.throughput(Throughput::Bytes(bytes as u64));
    group.bench_function("tokenize", |b| {
        b.iter(|| {
            let mut hashes = Vec::new();
            let mut n = 0;
            for d in &docs {
                hashes.clear();
                shingler.word_hashes(d, Span::new(0, d.len()), &mut hashes);
                n += hashes.len();
            }
            assert_eq!(n, n_words);
            n
        })
    });
    group.bench_function("tokenize+shingle", |b| {
        b.iter(|| {
            let mut n = 0;
            for d in &docs {
                n += shingler.shingle_set(d, Span::new(0, d.len())).len();
            }
            assert_eq!(n, n_shingles);
            n
        })
    });
    group.bench_function("tokenize+shingle+sketch/128", |b| {
        b.iter(|| {
            let mut checksum = 0u32;
            for d in &docs {
                let set = shingler.shingle_set(d, Span::new(0, d.len()));
                let sig = hasher.sketch(&set);
                checksum ^= sig.0[0] ^ sig.0[127];
            }
            black_box(checksum)
        })
    });
    group.finish();

    // The sketch stage alone, on the precomputed shingle sets.
    let sets: Vec<Vec<u64>> = docs
        .iter()
        .map(|d| shingler.shingle_set(d, Span::new(0, d.len())))
        .collect();
    let mut group = c.benchmark_group("sketch-only");
    group.throughput(Throughput::Elements(n_shingles as u64));
    group.bench_function("minhash/128", |b| {
        b.iter(|| {
            let mut checksum = 0u32;
            for s in &sets {
                checksum ^= hasher.sketch(s).0[0];
            }
            black_box(checksum)
        })
    });
    group.finish();
}

fn doc(c: &mut Criterion) {
    let analyzer = DocAnalyzer::new(DocOptions::default()).unwrap();
    let mut group = c.benchmark_group("doc");
    group.sample_size(10);
    let mut findings_at_1mb = 0;
    for (label, size, sequel) in [
        ("10KB", 10_000, Sequel::Book),
        ("100KB", 100_000, Sequel::Book),
        ("1MB", 1_000_000, Sequel::Book),
        ("10MB", 10_000_000, Sequel::Book),
        ("10MB-copies", 10_000_000, Sequel::Copies),
    ] {
        let text = document_of(size, sequel);
        let report = analyzer.analyze(Value::from(label), &text);
        let n_words = count_words(&text);
        assert!(n_words > size / 10, "{label}: {n_words} words");
        assert!(
            report.paragraphs.len() > size / 1000,
            "{label}: {} paragraphs",
            report.paragraphs.len()
        );
        let findings = report.findings.len();
        match sequel {
            // The fixture has repeats of its own, and each round of the book has them again.
            Sequel::Book if size == 1_000_000 => findings_at_1mb = findings,
            Sequel::Book if size > 1_000_000 => assert!(
                findings >= findings_at_1mb * 5 && findings <= findings_at_1mb * 20,
                "{label}: {findings} findings, {findings_at_1mb} at 1 MB"
            ),
            Sequel::Book => {}
            // Later rounds are edited copies (every 7th word replaced): many must be found again.
            Sequel::Copies => assert!(
                findings > report.paragraphs.len() / 4,
                "{label}: {findings} findings in {} paragraphs",
                report.paragraphs.len()
            ),
        }
        eprintln!(
            "doc/{label}: {} bytes, {n_words} words, {} paragraphs, {findings} findings",
            text.len(),
            report.paragraphs.len(),
        );
        group.throughput(Throughput::Bytes(text.len() as u64));
        group.measurement_time(Duration::from_secs(if size >= 10_000_000 { 20 } else { 5 }));
        group.bench_with_input(BenchmarkId::from_parameter(label), &text, |b, text| {
            b.iter(|| {
                let r = analyzer.analyze(Value::from(0), black_box(text));
                assert_eq!(r.paragraphs.len(), report.paragraphs.len());
                r.findings.len()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, sketch, doc);
criterion_main!(benches);
