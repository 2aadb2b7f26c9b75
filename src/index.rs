//! Stage 5, index: MinHash signatures → candidate pairs, by LSH banding.
//!
//! [`Banding`] picks bands × rows from the threshold, recall first (DESIGN §2): a pair exactly at
//! the threshold must become a candidate with probability ≥ `recall`; among the choices that
//! do, the one with the least expected false-candidate mass below the threshold wins.
//! [`BandTable`] collects `(band key, document)` entries and groups equal keys into buckets;
//! when its entries outgrow the memory budget they spill to sorted runs in unnamed temporary
//! files (nothing is left behind when the process is killed) and are merged back (out of
//! core). [`candidates`] turns buckets into deduplicated, sorted pairs `(a, b)`, `a < b`, in
//! input order, and hands over buckets too large to expand into pairs as they are.

use crate::error::{Error, Result};
use crate::shingle::fmix64;
use crate::spill::{read_or_end, Record, Runs};
use rayon::prelude::*;
use std::io::{self, Read, Write};

/// An LSH banding: `bands` bands of `rows` signature slots each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Banding {
    /// Number of bands b.
    pub bands: usize,
    /// Slots per band r.
    pub rows: usize,
}

impl Banding {
    /// The banding for `threshold` that catches a pair at the threshold with probability
    /// ≥ `recall`, at the least false-candidate mass ∫₀ᵗ P(s) ds, with b·r ≤ `num_perm`.
    pub fn choose(threshold: f64, num_perm: usize, recall: f64) -> Result<Banding> {
        if !(threshold > 0.0 && threshold <= 1.0) {
            return Err(Error::Option(format!(
                "--threshold must be in (0, 1], got {threshold}"
            )));
        }
        if !(recall > 0.0 && recall < 1.0) {
            return Err(Error::Option(format!(
                "--recall must be in (0, 1), got {recall}"
            )));
        }
        let mut best: Option<(f64, Banding)> = None;
        for rows in 1..=num_perm {
            for bands in 1..=num_perm / rows {
                let b = Banding { bands, rows };
                if b.probability(threshold) < recall {
                    continue;
                }
                let cost = b.false_candidate_mass(threshold);
                // Fewer bands on (near) ties: less memory for the same cost.
                if best.is_none_or(|(c, _)| cost < c - 1e-12) {
                    best = Some((cost, b));
                }
                break; // more bands of the same rows only cost more
            }
        }
        best.map(|(_, b)| b).ok_or_else(|| {
            Error::Option(format!(
                "no banding of {num_perm} permutations reaches recall {recall} at threshold \
                 {threshold}; raise --num-perm"
            ))
        })
    }

    /// A banding given by hand; `bands · rows` must not exceed `num_perm`.
    pub fn by_hand(bands: usize, rows: usize, num_perm: usize) -> Result<Banding> {
        if bands == 0 || rows == 0 || bands * rows > num_perm {
            return Err(Error::Option(format!(
                "--bands {bands} × --rows {rows} must be ≥ 1 and fit in --num-perm {num_perm}"
            )));
        }
        Ok(Banding { bands, rows })
    }

    /// P(candidate | Jaccard = s) = 1 − (1 − sʳ)ᵇ.
    pub fn probability(&self, s: f64) -> f64 {
        1.0 - (1.0 - s.powi(self.rows as i32)).powi(self.bands as i32)
    }

    /// The similarity where the S-curve is steepest, (1/b)^(1/r).
    pub fn implied_threshold(&self) -> f64 {
        (1.0 / self.bands as f64).powf(1.0 / self.rows as f64)
    }

    /// ∫₀ᵗ P(s) ds: the expected share of false candidates below the threshold.
    pub fn false_candidate_mass(&self, threshold: f64) -> f64 {
        const STEPS: usize = 400;
        let h = threshold / STEPS as f64;
        // Simpson's rule.
        let mut sum = self.probability(0.0) + self.probability(threshold);
        for i in 1..STEPS {
            let w = if i % 2 == 1 { 4.0 } else { 2.0 };
            sum += w * self.probability(i as f64 * h);
        }
        sum * h / 3.0
    }

    /// The band keys of a signature, one per band; the band number is mixed in, so keys
    /// of different bands do not meet.
    pub fn band_keys(&self, signature: &[u32], out: &mut Vec<u64>) {
        for (band, rows) in signature
            .chunks_exact(self.rows)
            .take(self.bands)
            .enumerate()
        {
            let mut h = (band as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15);
            for &slot in rows {
                h = (h.rotate_left(29) ^ slot as u64).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            }
            out.push(fmix64(h));
        }
    }
}

/// One band-table entry: a band key and the document (input index) that has it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct BandEntry {
    /// The band key.
    pub key: u64,
    /// The document's input index.
    pub doc: u32,
}

/// Bytes of one entry in memory (for the budget).
pub const ENTRY_BYTES: usize = std::mem::size_of::<BandEntry>();

impl Record for BandEntry {
    fn write_to(&self, w: &mut impl Write) -> io::Result<()> {
        w.write_all(&self.key.to_le_bytes())?;
        w.write_all(&self.doc.to_le_bytes())
    }

    fn read_from(r: &mut impl Read) -> io::Result<Option<Self>> {
        let mut b = [0u8; 12];
        if !read_or_end(r, &mut b)? {
            return Ok(None);
        }
        let (key, doc) = b.split_at(8);
        Ok(Some(BandEntry {
            key: u64::from_le_bytes(key.try_into().unwrap_or_default()),
            doc: u32::from_le_bytes(doc.try_into().unwrap_or_default()),
        }))
    }
}

/// Band keys of all documents, grouped into buckets of equal keys; out of core when large.
pub struct BandTable {
    entries: Vec<BandEntry>,
    max_entries: usize,
    runs: Runs<BandEntry>,
    spilled: usize,
}

impl BandTable {
    /// A table that keeps at most `budget_bytes` of entries in memory before spilling.
    pub fn new(budget_bytes: usize) -> Self {
        BandTable {
            entries: Vec::new(),
            max_entries: (budget_bytes / ENTRY_BYTES).max(64),
            runs: Runs::new(),
            spilled: 0,
        }
    }

    /// Adds an entry; may spill a sorted run to disk.
    pub fn push(&mut self, key: u64, doc: u32) -> io::Result<()> {
        if self.entries.len() == self.entries.capacity() {
            // Doubling, but never past the budget (a doubling could take twice it).
            let room = self.max_entries.saturating_sub(self.entries.len());
            self.entries
                .reserve_exact(self.entries.len().max(1024).min(room).max(1));
        }
        self.entries.push(BandEntry { key, doc });
        if self.entries.len() >= self.max_entries {
            self.spill()?;
        }
        Ok(())
    }

    /// Number of sorted runs written to disk so far.
    pub fn runs(&self) -> usize {
        self.runs.written()
    }

    /// Entries held (in memory and on disk).
    pub fn len(&self) -> usize {
        self.entries.len() + self.spilled
    }

    /// True when no entry was pushed.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn spill(&mut self) -> io::Result<()> {
        if self.entries.is_empty() {
            return Ok(());
        }
        self.entries.par_sort_unstable();
        self.runs.write_run(self.entries.iter().copied())?;
        self.spilled += self.entries.len();
        self.entries.clear();
        Ok(())
    }

    /// Calls `f` with every bucket of two or more documents (sorted by input index), in key
    /// order. Consumes the table (and removes its runs).
    pub fn for_each_bucket(mut self, mut f: impl FnMut(&[u32])) -> io::Result<()> {
        let mut bucket: Vec<u32> = Vec::new();
        let mut current: Option<u64> = None;
        let mut emit = |e: BandEntry, bucket: &mut Vec<u32>, f: &mut dyn FnMut(&[u32])| {
            if current != Some(e.key) {
                if bucket.len() > 1 {
                    f(bucket);
                }
                bucket.clear();
                current = Some(e.key);
            }
            if bucket.last() != Some(&e.doc) {
                bucket.push(e.doc);
            }
        };
        if self.runs.is_empty() {
            self.entries.par_sort_unstable();
            for &e in &self.entries {
                emit(e, &mut bucket, &mut f);
            }
        } else {
            self.spill()?;
            self.entries = Vec::new();
            std::mem::take(&mut self.runs).merge(|e| {
                emit(e, &mut bucket, &mut f);
                Ok(())
            })?;
        }
        if bucket.len() > 1 {
            f(&bucket);
        }
        Ok(())
    }
}

/// Every pair of documents sharing a bucket, as `(a, b)` with `a < b`, sorted, without
/// repeats.
pub fn candidate_pairs(table: BandTable) -> io::Result<Vec<(u32, u32)>> {
    Ok(candidates(table, usize::MAX)?.pairs)
}

/// What the band table proposes for verification.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Candidates {
    /// Every pair sharing a bucket of at most `max_bucket` documents, as `(a, b)` with
    /// `a < b`, sorted, without repeats.
    pub pairs: Vec<(u32, u32)>,
    /// The buckets of more than `max_bucket` documents (each sorted by input index), without
    /// repeats: their pairs grow with the square of their size (20 k identical documents make
    /// 200 M), so they are joined bucket by bucket instead ([`crate::group::join_each_bucket`]).
    pub large_buckets: Vec<Vec<u32>>,
}

/// The candidates of `table`: pairs from buckets of at most `max_bucket` documents, and the
/// larger buckets as they are. In memory: see [`candidates_within`] for a bounded list.
pub fn candidates(table: BandTable, max_bucket: usize) -> io::Result<Candidates> {
    let mut list = candidates_within(table, max_bucket, usize::MAX)?;
    let large_buckets = std::mem::take(&mut list.large_buckets);
    Ok(Candidates {
        pairs: list.pairs.into_iter().map(split_pair).collect(),
        large_buckets,
    })
}

fn split_pair(p: u64) -> (u32, u32) {
    ((p >> 32) as u32, p as u32)
}

/// Candidate pairs of at most a byte budget in memory: past it, sorted runs of pairs on disk
/// ([`Runs`]), merged back block by block ([`CandidateList::for_each_block`]).
pub struct CandidateList {
    /// Sorted, without repeats, as `a << 32 | b`.
    pairs: Vec<u64>,
    runs: Runs<u64>,
    /// The buckets of more than `max_bucket` documents, as in [`Candidates`].
    pub large_buckets: Vec<Vec<u32>>,
}

impl CandidateList {
    /// Sorted runs of pairs written to disk.
    pub fn runs(&self) -> usize {
        self.runs.written()
    }

    /// Calls `f` with the pairs `(a, b)`, `a < b`, sorted, without repeats, in blocks of at
    /// most `block` pairs (all at once when none went to disk); returns how many there are.
    pub fn for_each_block(
        self,
        block: usize,
        mut f: impl FnMut(&[(u32, u32)]) -> io::Result<()>,
    ) -> io::Result<usize> {
        if self.runs.is_empty() {
            let pairs: Vec<(u32, u32)> = self.pairs.into_iter().map(split_pair).collect();
            f(&pairs)?;
            return Ok(pairs.len());
        }
        let block = block.max(1);
        let mut buf: Vec<(u32, u32)> = Vec::with_capacity(block.min(1 << 20));
        let mut last = None;
        let mut count = 0;
        self.runs.merge(|p| {
            if last == Some(p) {
                return Ok(());
            }
            last = Some(p);
            count += 1;
            buf.push(split_pair(p));
            if buf.len() >= block {
                f(&buf)?;
                buf.clear();
            }
            Ok(())
        })?;
        if !buf.is_empty() {
            f(&buf)?;
        }
        Ok(count)
    }
}

/// [`candidates`] keeping at most about `budget_bytes` of pairs in memory (8 bytes each);
/// the rest goes to sorted runs on disk.
pub fn candidates_within(
    table: BandTable,
    max_bucket: usize,
    budget_bytes: usize,
) -> io::Result<CandidateList> {
    let max_pairs = (budget_bytes / 8).max(64);
    let mut pairs: Vec<u64> = Vec::new();
    let mut runs: Runs<u64> = Runs::new();
    let mut compacted = 0;
    let mut large_buckets: Vec<Vec<u32>> = Vec::new();
    // The same large bucket comes back in every band (identical documents): kept once.
    let mut seen: ahash::AHashMap<u64, Vec<usize>> = ahash::AHashMap::new();
    let mut failure = None;
    table.for_each_bucket(|docs| {
        if docs.len() > max_bucket {
            let h = docs
                .iter()
                .fold(docs.len() as u64, |h, &d| fmix64(h ^ d as u64));
            let same = seen.entry(h).or_default();
            if !same.iter().any(|&i| large_buckets[i] == docs) {
                same.push(large_buckets.len());
                large_buckets.push(docs.to_vec());
            }
            return;
        }
        let new = docs.len() * (docs.len() - 1) / 2;
        if pairs.len() + new > pairs.capacity() && max_pairs < usize::MAX / 8 {
            // Doubling, but not far past the budget.
            let grow = pairs
                .len()
                .max(1024)
                .min(max_pairs.saturating_sub(pairs.len()));
            pairs.reserve_exact(grow.max(new));
        }
        for (i, &a) in docs.iter().enumerate() {
            for &b in &docs[i + 1..] {
                pairs.push((a as u64) << 32 | b as u64);
            }
        }
        // Buckets of the same documents repeat across bands: deduplicate as we go, and past
        // the budget write the pairs out as a sorted run.
        if pairs.len() > (1 << 20).max(2 * compacted).min(max_pairs) {
            pairs.par_sort_unstable();
            pairs.dedup();
            compacted = pairs.len();
            if compacted > max_pairs / 2 && failure.is_none() {
                if let Err(e) = runs.write_run(pairs.iter().copied()) {
                    failure = Some(e);
                }
                pairs.clear();
                compacted = 0;
            }
        }
    })?;
    if let Some(e) = failure {
        return Err(e);
    }
    pairs.par_sort_unstable();
    pairs.dedup();
    if !runs.is_empty() && !pairs.is_empty() {
        runs.write_run(pairs.iter().copied())?;
        pairs = Vec::new();
    }
    Ok(CandidateList {
        pairs,
        runs,
        large_buckets,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recall_first_banding_at_0_8() {
        let b = Banding::choose(0.8, 128, 0.95).unwrap();
        assert!(b.bands * b.rows <= 128);
        assert!(b.probability(0.8) >= 0.95, "{b:?}");
        // The balanced choice of datasketch (9 × 13) misses most pairs at the threshold.
        assert!(Banding { bands: 9, rows: 13 }.probability(0.8) < 0.5);
        // Any other banding meeting the recall has at least as much false-candidate mass.
        for rows in 1..=128 {
            for bands in 1..=128 / rows {
                let o = Banding { bands, rows };
                if o.probability(0.8) >= 0.95 {
                    assert!(o.false_candidate_mass(0.8) >= b.false_candidate_mass(0.8) - 1e-12);
                }
            }
        }
        assert!(b.implied_threshold() < 0.8);
    }

    #[test]
    fn banding_math() {
        let b = Banding { bands: 20, rows: 5 };
        assert!((b.probability(1.0) - 1.0).abs() < 1e-12);
        assert_eq!(b.probability(0.0), 0.0);
        let t = b.implied_threshold();
        assert!((t - (0.05f64).powf(0.2)).abs() < 1e-12);
        assert!(Banding::by_hand(20, 7, 128).is_err());
        assert!(Banding::choose(1.5, 128, 0.95).is_err());
        // Higher thresholds allow more rows.
        let lo = Banding::choose(0.5, 128, 0.95).unwrap();
        let hi = Banding::choose(0.9, 128, 0.95).unwrap();
        assert!(lo.rows <= hi.rows);
    }

    #[test]
    fn band_keys_differ_by_band() {
        let b = Banding { bands: 4, rows: 2 };
        let mut keys = Vec::new();
        b.band_keys(&[1, 2, 1, 2, 1, 2, 1, 2], &mut keys);
        assert_eq!(keys.len(), 4);
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), 4);
    }

    fn pairs_with_budget(entries: &[(u64, u32)], budget: usize) -> (Vec<(u32, u32)>, usize) {
        let mut t = BandTable::new(budget);
        t.max_entries = budget; // tiny, for the test
        for &(k, d) in entries {
            t.push(k, d).unwrap();
        }
        let runs = t.runs();
        (candidate_pairs(t).unwrap(), runs)
    }

    #[test]
    fn spilled_runs_merge_to_the_same_pairs() {
        let mut entries = Vec::new();
        for doc in 0..500u32 {
            for band in 0..6u64 {
                entries.push((band * 1000 + (doc as u64 * 7 + band) % 37, doc));
            }
        }
        let (mem, runs0) = pairs_with_budget(&entries, usize::MAX / 32);
        let (disk, runs) = pairs_with_budget(&entries, 100);
        assert_eq!(runs0, 0);
        assert!(runs > 10);
        assert_eq!(mem, disk);
        assert!(!mem.is_empty());
        assert!(mem.windows(2).all(|w| w[0] < w[1]));
        assert!(mem.iter().all(|&(a, b)| a < b));
    }

    #[test]
    fn large_buckets_are_kept_whole_and_once() {
        // Band 1 and 2 put documents 0..5 in one bucket each; 6 and 7 share a small one.
        let mut t = BandTable::new(1 << 20);
        for band in [1u64, 2] {
            for d in 0..5 {
                t.push(band, d).unwrap();
            }
        }
        t.push(9, 6).unwrap();
        t.push(9, 7).unwrap();
        t.push(3, 0).unwrap();
        t.push(3, 2).unwrap();
        let c = candidates(t, 4).unwrap();
        assert_eq!(c.large_buckets, vec![vec![0, 1, 2, 3, 4]]);
        assert_eq!(c.pairs, vec![(0, 2), (6, 7)]);
    }

    #[test]
    fn buckets_give_all_pairs_once() {
        let entries = [(5, 0), (5, 2), (9, 1), (5, 3), (9, 2), (7, 4), (9, 0)];
        let (pairs, _) = pairs_with_budget(&entries, 1 << 20);
        assert_eq!(pairs, vec![(0, 1), (0, 2), (0, 3), (1, 2), (2, 3)]);
    }
}
