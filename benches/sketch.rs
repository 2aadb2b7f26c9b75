//! Criterion: shingling and MinHash sketching of real text (the README), 128 permutations.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use deja::shingle::{Shingler, WordSplit};
use deja::sketch::{MinHasher, OnePermHasher};
use deja::span::Span;

const TEXT: &str = include_str!("../README.md");

fn bench(c: &mut Criterion) {
    let text = TEXT.repeat(4);
    // As `deja corpus` shingles: alnum words, k-gram hashes seeded for the one-permutation sketch.
    let sh = Shingler::new(5).with_split(WordSplit::Alnum).with_seed(1);
    let set = sh.shingle_set(&text, Span::new(0, text.len()));
    assert!(set.len() > 100, "fixture too small: {}", set.len());
    let mh = MinHasher::new(128, 1);
    let mut g = c.benchmark_group("sketch");
    g.throughput(Throughput::Bytes(text.len() as u64));
    g.bench_function("shingle_set alnum k=5", |b| {
        b.iter(|| sh.shingle_set(&text, Span::new(0, text.len())))
    });
    g.throughput(Throughput::Elements(set.len() as u64));
    g.bench_function("minhash 128 perms (per shingle)", |b| {
        b.iter(|| mh.sketch(&set))
    });
    let oph = OnePermHasher::new(128, 1);
    g.bench_function("oph 128 slots (per shingle)", |b| {
        b.iter(|| oph.sketch_uniform(&set))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
