//! Criterion: LSH band keys, bucket grouping and candidate pairs over synthetic signatures
//! (in memory and spilled to disk).

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use deja::index::{candidate_pairs, BandTable, Banding};

fn signatures(n: usize, num_perm: usize) -> Vec<Vec<u32>> {
    let mut state = 7u64;
    let mut next = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) as u32
    };
    let mut sigs: Vec<Vec<u32>> = Vec::with_capacity(n);
    for i in 0..n {
        if i % 10 == 9 {
            // One document in ten is a near copy of the one before: most slots equal.
            let mut s = sigs[i - 1].clone();
            for slot in s.iter_mut().step_by(9) {
                *slot = next();
            }
            sigs.push(s);
        } else {
            sigs.push((0..num_perm).map(|_| next()).collect());
        }
    }
    sigs
}

fn bench(c: &mut Criterion) {
    let banding = Banding::choose(0.8, 128, 0.95).unwrap();
    let sigs = signatures(20_000, 128);
    let mut g = c.benchmark_group("index");
    g.throughput(Throughput::Elements(sigs.len() as u64));
    g.sample_size(10);
    for (name, budget) in [("in memory", usize::MAX / 64), ("spilled", 1 << 20)] {
        g.bench_function(format!("band keys + candidates, 20k docs, {name}"), |b| {
            b.iter(|| {
                let mut table = BandTable::new(budget);
                let mut keys = Vec::new();
                for (d, s) in sigs.iter().enumerate() {
                    keys.clear();
                    banding.band_keys(s, &mut keys);
                    for &k in &keys {
                        table.push(k, d as u32).unwrap();
                    }
                }
                let pairs = candidate_pairs(table).unwrap();
                assert!(pairs.len() >= 1500, "{}", pairs.len());
                pairs
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
