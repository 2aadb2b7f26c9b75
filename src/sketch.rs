//! Stage 4, sketch: a shingle-hash set → a MinHash [`Signature`].
//!
//! `num_perm` permutations of the textbook family `h_i(x) = (a_i·x + b_i) mod p` with the
//! Mersenne prime p = 2^31 − 1, all applied to the one 64-bit hash of each shingle (reduced
//! mod p; no re-hash of text). Each h_i is a true permutation of Z_p and the family is
//! 2-universal, unlike cheap multiply-add mod 2^64, which gives measurably more false
//! candidates. The 31-bit prime keeps every product in 64 bits, so the loop over
//! permutations vectorizes (AVX2 when the CPU has it, chosen at run time: ~2.4× the scalar
//! speed) and slots are `u32`: half the memory of 64-bit minima. Reducing hashes to 31 bits
//! merges two distinct shingles with probability 2^-31, which moves no Jaccard estimate.
//! Seeds are fixed: the same input always gives the same signature on every machine.

use serde::{Deserialize, Serialize};

/// The Mersenne prime 2^31 − 1.
const PRIME: u64 = (1 << 31) - 1;
/// Default seed of the permutation parameters.
pub const DEFAULT_SEED: u64 = 1;

/// A MinHash signature: slot i holds the minimum of permutation i over the set.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Signature(pub Vec<u32>);

impl Signature {
    /// Number of slots.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True for a signature with no slot.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Computes MinHash signatures with a fixed set of permutations.
#[derive(Clone, Debug)]
pub struct MinHasher {
    a: Vec<u32>,
    b: Vec<u32>,
}

impl MinHasher {
    /// `num_perm` permutations drawn from `seed` (splitmix64).
    pub fn new(num_perm: usize, seed: u64) -> Self {
        let mut state = seed;
        let mut draw = |lo: u64| loop {
            let v = splitmix64(&mut state) >> 33; // < 2^31
            if v >= lo && v < PRIME {
                return v as u32;
            }
        };
        let (a, b) = (0..num_perm).map(|_| (draw(1), draw(0))).unzip();
        MinHasher { a, b }
    }

    /// Number of permutations.
    pub fn num_perm(&self) -> usize {
        self.a.len()
    }

    /// The signature of a set of shingle hashes (repeats are harmless).
    pub fn sketch(&self, shingles: &[u64]) -> Signature {
        let mut sig = vec![u32::MAX; self.a.len()];
        self.sketch_into(shingles, &mut sig);
        Signature(sig)
    }

    /// Folds `shingles` into `sig` (slot-wise minimum); `sig` starts at `u32::MAX`.
    pub fn sketch_into(&self, shingles: &[u64], sig: &mut [u32]) {
        assert_eq!(sig.len(), self.a.len());
        #[cfg(target_arch = "x86_64")]
        if std::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2, checked just above.
            unsafe { self.fold_avx2(shingles, sig) };
            return;
        }
        self.fold(shingles, sig);
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn fold_avx2(&self, shingles: &[u64], sig: &mut [u32]) {
        self.fold(shingles, sig);
    }

    #[inline(always)]
    fn fold(&self, shingles: &[u64], sig: &mut [u32]) {
        for &x in shingles {
            let x = reduce(x);
            for ((slot, &a), &b) in sig.iter_mut().zip(&self.a).zip(&self.b) {
                *slot = (*slot).min(permute(a, b, x));
            }
        }
    }
}

/// `(a·x + b) mod p` for a, b, x < p = 2^31 − 1, in 64-bit arithmetic.
#[inline(always)]
fn permute(a: u32, b: u32, x: u64) -> u32 {
    let v = a as u64 * x + b as u64; // < 2^62
    let v = (v & PRIME) + (v >> 31); // < 2^32
    let v = (v & PRIME) + (v >> 31); // ≤ p + 1
                                     // p itself (≡ 0) can remain; it is one value of 2^31, and only order matters.
    v as u32
}

/// A 64-bit hash reduced into `[0, p)`.
#[inline(always)]
fn reduce(x: u64) -> u64 {
    x % PRIME
}

fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// One-permutation hashing (Li, Owen & Zhang 2012) with optimal densification (Shrivastava
/// 2017): each shingle is hashed once and falls into one of `slots` bins, whose minimum it
/// may lower; empty bins copy a filled bin chosen by a fixed probe sequence. P(slot equal) ≈
/// Jaccard as for MinHash, at O(1) instead of O(num_perm) work per shingle.
#[derive(Clone, Debug)]
pub struct OnePermHasher {
    slots: usize,
    seed: u64,
    /// `first_hit[i * slots + j]`: where bin `j` first comes in the probe sequence of bin `i`
    /// (up to 1,024 slots). With `m` bins filled, probing costs about `slots / m` steps per
    /// empty bin, 16 k per one-shingle document at 128 slots; the table finds the same bin
    /// in `m` steps.
    first_hit: Option<std::sync::Arc<[u32]>>,
}

impl OnePermHasher {
    /// A sketcher of `slots` bins; `seed` selects the hash.
    pub fn new(slots: usize, seed: u64) -> Self {
        let mut state = seed ^ 0x6f6e_6570_6572_6d21;
        let slots = slots.max(1);
        let seed = splitmix64(&mut state);
        let first_hit = (slots <= 1024).then(|| {
            let mut table = vec![u32::MAX; slots * slots];
            for i in 0..slots {
                let row = &mut table[i * slots..(i + 1) * slots];
                let mut state = probe_start(seed, i);
                let (mut seen, mut step) = (0, 0u32);
                // Every bin comes in the sequence; in about slots · ln(slots) steps.
                while seen < slots {
                    let j = probe_next(&mut state, slots);
                    if row[j] == u32::MAX {
                        row[j] = step;
                        seen += 1;
                    }
                    step += 1;
                }
            }
            table.into()
        });
        OnePermHasher {
            slots,
            seed,
            first_hit,
        }
    }

    /// Number of slots.
    pub fn num_perm(&self) -> usize {
        self.slots
    }

    /// The densified one-permutation signature of a set of shingle hashes.
    pub fn sketch(&self, shingles: &[u64]) -> Signature {
        let seed = self.seed;
        self.sketch_hashes(shingles.iter().map(|&x| crate::shingle::fmix64(x ^ seed)))
    }

    /// The densified one-permutation signature of hashes that are already uniform and seeded
    /// (a seeded [`crate::shingle::Shingler`]'s k-grams): they are the one permutation, used
    /// as they are, unlike [`OnePermHasher::sketch`], which hashes its input first. Input that
    /// is not uniform gives a poor signature: small integers all fall in the first bin.
    pub fn sketch_uniform(&self, shingles: &[u64]) -> Signature {
        self.sketch_hashes(shingles.iter().copied())
    }

    fn sketch_hashes(&self, hashes: impl Iterator<Item = u64>) -> Signature {
        let k = self.slots;
        let mut sig = vec![u32::MAX; k];
        for h in hashes {
            let bin = ((h as u128 * k as u128) >> 64) as usize;
            // The low bits order shingles inside a bin (the high bits chose the bin).
            let v = (h as u32) >> 1;
            // A minimum without a branch: about a third of the updates lower the bin, at random.
            sig[bin] = sig[bin].min(v);
        }
        // Values are below u32::MAX (`>> 1`): a bin still at MAX is empty.
        let filled: Vec<bool> = sig.iter().map(|&v| v != u32::MAX).collect();
        if !filled.contains(&true) || !filled.contains(&false) {
            return Signature(sig);
        }
        let full: Vec<usize> = (0..k).filter(|&j| filled[j]).collect();
        for i in 0..k {
            if !filled[i] {
                sig[i] = sig[self.densify_from(i, &filled, &full)];
            }
        }
        Signature(sig)
    }

    /// The filled bin an empty bin `i` copies: the first of `full` (the filled bins) in
    /// `i`'s probe sequence.
    fn densify_from(&self, i: usize, filled: &[bool], full: &[usize]) -> usize {
        let k = self.slots;
        match &self.first_hit {
            Some(table) if full.len() * full.len() < k => {
                let row = &table[i * k..(i + 1) * k];
                full.iter().copied().min_by_key(|&j| row[j]).unwrap_or(i)
            }
            _ => self.probe(i, filled),
        }
    }

    /// The first filled bin in `i`'s probe sequence.
    fn probe(&self, i: usize, filled: &[bool]) -> usize {
        let mut state = probe_start(self.seed, i);
        loop {
            let j = probe_next(&mut state, self.slots);
            if filled[j] {
                return j;
            }
        }
    }
}

fn probe_start(seed: u64, bin: usize) -> u64 {
    seed ^ (bin as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

fn probe_next(state: &mut u64, slots: usize) -> usize {
    ((splitmix64(state) as u128 * slots as u128) >> 64) as usize
}

/// Share of equal slots: an unbiased estimate of the Jaccard similarity of the two sets.
pub fn estimate_jaccard(a: &Signature, b: &Signature) -> f64 {
    if a.is_empty() {
        return 0.0;
    }
    let equal = a.0.iter().zip(&b.0).filter(|(x, y)| x == y).count();
    equal as f64 / a.len() as f64
}

/// Exact Jaccard similarity of two sorted, deduplicated hash sets.
pub fn jaccard<T: Ord + Copy>(a: &[T], b: &[T]) -> f64 {
    let inter = intersection_size(a, b);
    let union = a.len() + b.len() - inter;
    if union == 0 {
        0.0
    } else {
        inter as f64 / union as f64
    }
}

/// Size of the intersection of two sorted, deduplicated slices.
pub fn intersection_size<T: Ord + Copy>(a: &[T], b: &[T]) -> usize {
    // Branch-free steps: which side advances is a coin toss on similar sets.
    let (mut i, mut j, mut n) = (0, 0, 0);
    while i < a.len() && j < b.len() {
        let (x, y) = (a[i], b[j]);
        n += (x == y) as usize;
        i += (x <= y) as usize;
        j += (y <= x) as usize;
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permute_matches_reference_mod_p() {
        let mh = MinHasher::new(64, 7);
        for x in [0u64, 1, PRIME - 1, PRIME, 12345678901234567, u64::MAX] {
            let xr = reduce(x);
            for i in 0..64 {
                let want = (mh.a[i] as u64 * xr + mh.b[i] as u64) % PRIME;
                let got = permute(mh.a[i], mh.b[i], xr) as u64;
                assert_eq!(got % PRIME, want, "x={x} i={i}");
            }
        }
    }

    /// The first-hit table picks the bin that probing picks, for every empty bin, however
    /// few bins are filled.
    #[test]
    fn densification_by_table_equals_probing() {
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        for k in [1usize, 2, 3, 5, 64, 128, 200] {
            let h = OnePermHasher::new(k, DEFAULT_SEED);
            assert!(h.first_hit.is_some());
            for _ in 0..50 {
                x = splitmix64(&mut x);
                let m = 1 + (x as usize) % (k.isqrt() + 2).min(k);
                let mut filled = vec![false; k];
                for _ in 0..m {
                    filled[splitmix64(&mut x) as usize % k] = true;
                }
                let full: Vec<usize> = (0..k).filter(|&j| filled[j]).collect();
                for i in (0..k).filter(|&i| !filled[i]) {
                    assert_eq!(
                        h.densify_from(i, &filled, &full),
                        h.probe(i, &filled),
                        "k {k}"
                    );
                }
            }
        }
        // One shingle fills one bin, which every other bin copies.
        let sig = OnePermHasher::new(128, 1).sketch(&[42]);
        assert!(sig.0.iter().all(|&v| v == sig.0[0]));
    }

    #[test]
    fn vectorized_and_scalar_paths_agree() {
        let mh = MinHasher::new(128, 3);
        let set: Vec<u64> = (0..1000u64)
            .map(|i| i.wrapping_mul(0x9e37_79b9_7f4a_7c15))
            .collect();
        let mut scalar = vec![u32::MAX; 128];
        mh.fold(&set, &mut scalar);
        assert_eq!(mh.sketch(&set).0, scalar);
    }

    #[test]
    fn estimates_track_exact_jaccard() {
        // Two sets sharing 600 of 1400 elements.
        let mh = MinHasher::new(512, DEFAULT_SEED);
        let a: Vec<u64> = (0..1000u64).map(crate::shingle::fmix64).collect();
        let b: Vec<u64> = (400..1400u64).map(crate::shingle::fmix64).collect();
        let exact = 600.0 / 1400.0;
        let est = estimate_jaccard(&mh.sketch(&a), &mh.sketch(&b));
        let se = (exact * (1.0 - exact) / 512.0f64).sqrt();
        assert!(
            (est - exact).abs() < 4.0 * se,
            "estimate {est} vs exact {exact}"
        );
    }

    #[test]
    fn same_seed_same_signature() {
        let set: Vec<u64> = (0..100).map(|i| i * 7919).collect();
        assert_eq!(
            MinHasher::new(128, 1).sketch(&set),
            MinHasher::new(128, 1).sketch(&set)
        );
        assert_ne!(
            MinHasher::new(128, 1).sketch(&set),
            MinHasher::new(128, 2).sketch(&set)
        );
    }

    #[test]
    fn identical_sets_estimate_one_disjoint_zero() {
        let mh = MinHasher::new(128, DEFAULT_SEED);
        let a: Vec<u64> = (0..500).collect();
        let b: Vec<u64> = (1000..1500).collect();
        assert_eq!(estimate_jaccard(&mh.sketch(&a), &mh.sketch(&a)), 1.0);
        assert!(estimate_jaccard(&mh.sketch(&a), &mh.sketch(&b)) < 0.05);
    }

    #[test]
    fn one_permutation_estimates_jaccard() {
        let oph = OnePermHasher::new(128, DEFAULT_SEED);
        let a: Vec<u64> = (0..1000).map(|i| i * 0x9e37_79b9).collect();
        let b: Vec<u64> = (200..1200).map(|i| i * 0x9e37_79b9).collect(); // J = 800/1200
        let est = estimate_jaccard(&oph.sketch(&a), &oph.sketch(&b));
        assert!((est - 2.0 / 3.0).abs() < 0.12, "{est}");
        assert_eq!(oph.sketch(&a), oph.sketch(&a));
        // Small sets are densified: every slot filled, identical sets identical.
        let s = oph.sketch(&[1, 2, 3]);
        assert!(s.0.iter().all(|&v| v != u32::MAX));
        assert!(oph.sketch(&[]).0.iter().all(|&v| v == u32::MAX));
        assert_eq!(estimate_jaccard(&s, &oph.sketch(&[3, 2, 1])), 1.0);
    }

    #[test]
    fn exact_jaccard() {
        assert_eq!(jaccard(&[1, 2, 3], &[2, 3, 4]), 0.5);
        assert_eq!(jaccard::<u64>(&[], &[]), 0.0);
    }
}
