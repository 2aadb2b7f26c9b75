//! Stage 6, verify: candidate pairs → verified pairs with their similarity.
//!
//! Exact Jaccard (the default) compares compact per-document shingle sets: the high 32 bits
//! of each 64-bit shingle hash, sorted and deduplicated, kept in a [`SetStore`]. Sets live in
//! memory up to a byte budget; past it they are appended to a temporary file and read back by
//! offset for the documents in candidate pairs (no text is kept or re-read). `--verify
//! estimate` uses the share of equal MinHash slots instead.

use crate::sketch::{estimate_jaccard, Signature};
use rayon::prelude::*;
use std::io::{self, Write};

/// How candidates are verified.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum VerifyMode {
    /// Exact Jaccard of the shingle sets.
    #[default]
    Exact,
    /// Estimated Jaccard from the MinHash signatures.
    Estimate,
}

impl VerifyMode {
    /// The name used in reports.
    pub fn as_str(&self) -> &'static str {
        match self {
            VerifyMode::Exact => "exact",
            VerifyMode::Estimate => "estimate",
        }
    }
}

/// The compact hashes of a document's shingles: the high 32 bits of each, in shingle order
/// (repeats kept). Sorting waits until a document is in a candidate pair ([`SetStore`]), as
/// most documents never are.
pub fn compact_hashes(shingles: &[u64]) -> Vec<u32> {
    shingles.iter().map(|&h| (h >> 32) as u32).collect()
}

/// A compact shingle set: [`compact_hashes`] sorted, without repeats.
pub fn compact_set(shingles: &[u64]) -> Vec<u32> {
    let mut set = compact_hashes(shingles);
    make_set(&mut set);
    set
}

/// Sorts compact hashes into a set (no repeats), in place.
pub fn make_set(hashes: &mut Vec<u32>) {
    make_set_with(hashes, &mut Vec::new());
}

/// [`make_set`] with scratch space `tmp`, for callers sorting many sets.
pub fn make_set_with(hashes: &mut Vec<u32>, tmp: &mut Vec<u32>) {
    let n = sort_dedup(hashes, tmp);
    hashes.truncate(n);
}

/// Sorts `set` and moves its distinct values to the front; returns how many there are.
/// `tmp` is scratch space.
fn sort_dedup(set: &mut [u32], tmp: &mut Vec<u32>) -> usize {
    sort_hashes(set, tmp);
    let mut n = 0;
    for i in 0..set.len() {
        if n == 0 || set[i] != set[n - 1] {
            set[n] = set[i];
            n += 1;
        }
    }
    n
}

/// Sorts uniform hashes: an LSD radix sort on their high bytes (two of them up to 2^14
/// values, three up to 2^22) leaves out of order only the few values that share those, and
/// an insertion sort finishes. Half or three quarters of the passes of a full radix sort:
/// on random hashes 45 % less time than radsort at 300 values, 32 % at 1,000, 20 % at 3,000 and
/// 8 % at 10,000 (the sizes of the sets verification sorts).
fn sort_hashes(v: &mut [u32], tmp: &mut Vec<u32>) {
    let bytes = match v.len() {
        ..64 => return v.sort_unstable(),
        64..=0x4000 => 2,
        0x4001..=0x40_0000 => 3,
        _ => return radsort::sort(v),
    };
    let shifts = &[24, 16, 8][..bytes];
    let mut counts = [[0u32; 256]; 3];
    for &x in v.iter() {
        for (c, &shift) in counts.iter_mut().zip(shifts) {
            c[(x >> shift) as usize & 255] += 1;
        }
    }
    tmp.clear();
    tmp.resize(v.len(), 0);
    // The least significant of the sorted bytes first; each pass moves from `src` to `dst`.
    let (mut src, mut dst): (&mut [u32], &mut [u32]) = (v, &mut tmp[..]);
    for (c, &shift) in counts.iter_mut().zip(shifts).rev() {
        let mut sum = 0;
        for k in c.iter_mut() {
            (*k, sum) = (sum, sum + *k);
        }
        for &x in src.iter() {
            let k = &mut c[(x >> shift) as usize & 255];
            dst[*k as usize] = x;
            *k += 1;
        }
        std::mem::swap(&mut src, &mut dst);
    }
    if bytes % 2 == 1 {
        dst.copy_from_slice(src);
        src = dst;
    }
    // Hashes sharing their high bytes are few; values that are not uniform hashes could
    // make this quadratic: past a linear number of moves, a comparison sort finishes.
    let mut budget = 8 * src.len();
    for i in 1..src.len() {
        let x = src[i];
        let mut j = i;
        while j > 0 && src[j - 1] > x {
            src[j] = src[j - 1];
            j -= 1;
        }
        src[j] = x;
        budget = match budget.checked_sub(i - j) {
            Some(b) => b,
            None => return src.sort_unstable(),
        };
    }
}

/// [`crate::sketch::jaccard`] of the compact sets `a` and `b` when it is at least
/// `threshold`, else `None`. Most candidates fall short: the merge stops as soon as the
/// elements left cannot bring the intersection to the least one that reaches the threshold
/// (found with the same arithmetic as the final value, so the two always agree).
pub fn jaccard_at_least(a: &[u32], b: &[u32], threshold: f64) -> Option<f64> {
    let total = a.len() + b.len();
    let jaccard_of = |inter: usize| {
        let union = total - inter;
        if union == 0 {
            0.0
        } else {
            inter as f64 / union as f64
        }
    };
    // J grows with the intersection: the least intersection with J >= threshold.
    let mut needed = ((threshold * total as f64 / (1.0 + threshold)).floor() as usize)
        .saturating_sub(1)
        .min(a.len().min(b.len()) + 1);
    while needed <= a.len().min(b.len()) && jaccard_of(needed) < threshold {
        needed += 1;
    }
    if needed > a.len().min(b.len()) {
        return None;
    }
    let (mut i, mut j, mut inter) = (0, 0, 0usize);
    // Blocks of four against four while both sides have them: each value of one block
    // against every one of the other, then the block with the smaller last value (or both)
    // moves on. A value shared by the two sets is counted once, when its blocks meet.
    while a.len() - i >= 4 && b.len() - j >= 4 {
        // Checked every 64 advances: cheap next to the merge, and soon enough to save most
        // of it.
        let stop = i + j + 64;
        while i + j < stop {
            let (Some(x), Some(y)) = (a[i..].first_chunk::<4>(), b[j..].first_chunk::<4>()) else {
                break;
            };
            inter += block_matches(x, y);
            i += 4 * (x[3] <= y[3]) as usize;
            j += 4 * (y[3] <= x[3]) as usize;
        }
        if inter + (a.len() - i).min(b.len() - j) < needed {
            return None;
        }
    }
    while i < a.len() && j < b.len() {
        // Checked every 64 advances (32 to 64 steps), as above.
        let stop = i + j + 64;
        while i + j < stop && i < a.len() && j < b.len() {
            let (x, y) = (a[i], b[j]);
            inter += (x == y) as usize;
            i += (x <= y) as usize;
            j += (y <= x) as usize;
        }
        if inter + (a.len() - i).min(b.len() - j) < needed {
            return None;
        }
    }
    let similarity = jaccard_of(inter);
    (similarity >= threshold).then_some(similarity)
}

/// How many values of `a` are in `b` (each holding distinct values).
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[inline(always)]
fn block_matches(a: &[u32; 4], b: &[u32; 4]) -> usize {
    use std::arch::x86_64::*;
    // SAFETY: SSE2 is part of x86-64; the loads read exactly the 16 bytes of `a` and `b`.
    let mask = unsafe {
        let (va, vb) = (
            _mm_loadu_si128(a.as_ptr().cast()),
            _mm_loadu_si128(b.as_ptr().cast()),
        );
        // `b` rotated by one, two and three lanes: every pair of lanes meets once.
        let eq0 = _mm_cmpeq_epi32(va, vb);
        let eq1 = _mm_cmpeq_epi32(va, _mm_shuffle_epi32::<0b00_11_10_01>(vb));
        let eq2 = _mm_cmpeq_epi32(va, _mm_shuffle_epi32::<0b01_00_11_10>(vb));
        let eq3 = _mm_cmpeq_epi32(va, _mm_shuffle_epi32::<0b10_01_00_11>(vb));
        let any = _mm_or_si128(_mm_or_si128(eq0, eq1), _mm_or_si128(eq2, eq3));
        _mm_movemask_ps(_mm_castsi128_ps(any))
    };
    mask.count_ones() as usize
}

#[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
fn block_matches(a: &[u32; 4], b: &[u32; 4]) -> usize {
    a.iter().filter(|x| b.contains(x)).count()
}

/// Where a document's set is.
#[derive(Clone, Copy, Debug)]
struct Slot {
    /// In the temp file: its byte offset; in memory: its index in `mem`.
    offset: u64,
    len: u32,
    on_disk: bool,
    /// Sorted without repeats (else sorted when read, or by [`SetStore::sort_sets`]).
    sorted: bool,
}

/// The flag of a sorted set in [`SetStore`]'s offsets on disk.
const SORTED: u64 = 1 << 63;

/// Compact shingle hashes of all documents ([`compact_hashes`]), in memory up to a budget,
/// then in a temp file. They become sets (sorted, no repeats) when [`SetStore::get`] reads
/// them, in memory once [`SetStore::sort_sets`] has sorted them.
pub struct SetStore {
    /// Sets in memory, as the sketching threads made them: copying them into one buffer
    /// would make the one thread that adds documents touch all that fresh memory.
    mem: Vec<Box<[u32]>>,
    in_mem: usize,
    /// Where the sets of the first documents, those in memory, are.
    slots: Vec<Slot>,
    /// The sets of the documents after them, on disk: each one's byte offset, written one
    /// after another (a set ends where the next starts), [`SORTED`] set when it is sorted.
    /// Eight bytes a document where a [`Slot`] takes sixteen: 80 MB less at 10 M documents.
    disk: Vec<u64>,
    max_mem: usize,
    file: Option<(std::fs::File, io::BufWriter<std::fs::File>)>,
    file_len: u64,
}

impl SetStore {
    /// A store keeping at most `budget_bytes` of sets in memory.
    pub fn new(budget_bytes: usize) -> Self {
        SetStore {
            mem: Vec::new(),
            in_mem: 0,
            slots: Vec::new(),
            disk: Vec::new(),
            max_mem: budget_bytes / 4,
            file: None,
            file_len: 0,
        }
    }

    /// Adds the next document's compact hashes, in any order, repeats allowed (documents are
    /// numbered in the order they are added). Once sets go to disk, push them sorted
    /// ([`compact_set`]): a set on disk is read once per candidate pair, and sorted when read
    /// if it was not.
    pub fn push(&mut self, set: Vec<u32>) -> io::Result<()> {
        let Ok(len) = u32::try_from(set.len()) else {
            return Err(io::Error::other("a document of 2^32 shingles or more"));
        };
        let sorted = set.windows(2).all(|w| w[0] < w[1]);
        if self.file.is_none() && self.in_mem + set.len() <= self.max_mem {
            self.slots.push(Slot {
                offset: self.mem.len() as u64,
                len,
                on_disk: false,
                sorted,
            });
            self.in_mem += set.len();
            self.mem.push(set.into_boxed_slice());
            return Ok(());
        }
        if self.file.is_none() {
            let f = tempfile::tempfile()?;
            let w = io::BufWriter::with_capacity(1 << 20, f.try_clone()?);
            self.file = Some((f, w));
        }
        let Some((_, w)) = self.file.as_mut() else {
            return Err(io::Error::other("set store: no spill file"));
        };
        for x in &set {
            w.write_all(&x.to_le_bytes())?;
        }
        self.disk
            .push(self.file_len | if sorted { SORTED } else { 0 });
        self.file_len += 4 * u64::from(len);
        Ok(())
    }

    /// Number of documents.
    pub fn len(&self) -> usize {
        self.slots.len() + self.disk.len()
    }

    /// True when no set was added.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Where the set of `doc` is.
    fn slot(&self, doc: u32) -> Slot {
        let d = doc as usize;
        if d < self.slots.len() {
            return self.slots[d];
        }
        let j = d - self.slots.len();
        let start = self.disk[j] & !SORTED;
        let end = self.disk.get(j + 1).map_or(self.file_len, |&e| e & !SORTED);
        Slot {
            offset: start,
            len: ((end - start) / 4) as u32,
            on_disk: true,
            sorted: self.disk[j] & SORTED != 0,
        }
    }

    /// True when some sets went to disk.
    pub fn spilled(&self) -> bool {
        self.file.is_some()
    }

    /// Flushes sets written to disk; call before reading.
    pub fn finish_writing(&mut self) -> io::Result<()> {
        if let Some((_, w)) = self.file.as_mut() {
            w.flush()?;
        }
        Ok(())
    }

    /// Sorts (and removes repeats from) the in-memory sets of `docs`, in parallel.
    pub fn sort_sets(&mut self, docs: impl IntoIterator<Item = u32>) {
        let mut wanted = vec![false; self.mem.len()];
        for d in docs {
            let s = self.slot(d);
            if !s.on_disk && !s.sorted {
                wanted[s.offset as usize] = true;
            }
        }
        let lens: Vec<(usize, usize)> = self
            .mem
            .par_iter_mut()
            .enumerate()
            .filter(|(k, _)| wanted[*k])
            .map_init(Vec::new, |tmp, (k, set)| (k, sort_dedup(set, tmp)))
            .collect();
        // The in-memory sets are those of the first documents, in order: set k is document k's.
        for (k, len) in lens {
            self.slots[k].len = len as u32;
            self.slots[k].sorted = true;
        }
    }

    /// The set of document `doc`: from memory if sorted there, else sorted into `buf` (from
    /// memory or the temp file) unless `buf` holds it already.
    pub fn get<'a>(&'a self, doc: u32, buf: &'a mut SetBuf) -> io::Result<&'a [u32]> {
        let s = self.slot(doc);
        if !s.on_disk && s.sorted {
            return Ok(&self.mem[s.offset as usize][..s.len as usize]);
        }
        if buf.doc != Some(doc) {
            buf.doc = None;
            buf.set.clear();
            if s.on_disk {
                let Some((f, _)) = self.file.as_ref() else {
                    return Err(io::Error::other("set store: spilled set without a file"));
                };
                buf.bytes.resize(4 * s.len as usize, 0);
                std::os::unix::fs::FileExt::read_exact_at(f, &mut buf.bytes, s.offset)?;
                buf.set.extend(
                    buf.bytes
                        .chunks_exact(4)
                        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]])),
                );
            } else {
                buf.set
                    .extend_from_slice(&self.mem[s.offset as usize][..s.len as usize]);
            }
            buf.len = if s.sorted {
                buf.set.len()
            } else {
                sort_dedup(&mut buf.set, &mut buf.tmp)
            };
            buf.doc = Some(doc);
        }
        Ok(&buf.set[..buf.len])
    }
}

/// A set [`SetStore::get`] had to read or sort, kept for the next call asking for the same
/// document: candidates come sorted by their first document, so runs of pairs share it (and
/// a set on disk is then read once per run, not once per pair).
#[derive(Default)]
pub struct SetBuf {
    doc: Option<u32>,
    set: Vec<u32>,
    len: usize,
    bytes: Vec<u8>,
    tmp: Vec<u32>,
}

/// A verified pair: input indices `a < b` and their similarity.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScoredPair {
    /// First document (input index).
    pub a: u32,
    /// Second document (input index).
    pub b: u32,
    /// Exact or estimated Jaccard similarity.
    pub similarity: f64,
}

/// Keeps the candidates whose exact Jaccard is ≥ `threshold`, in candidate order.
pub fn verify_exact(
    candidates: &[(u32, u32)],
    sets: &mut SetStore,
    threshold: f64,
) -> io::Result<Vec<ScoredPair>> {
    sets.sort_sets(candidates.iter().flat_map(|&(a, b)| [a, b]));
    let sets = &*sets;
    let scored: Vec<io::Result<Option<ScoredPair>>> = candidates
        .par_iter()
        .map_init(
            || (SetBuf::default(), SetBuf::default()),
            |(ba, bb), &(a, b)| {
                let sa = sets.get(a, ba)?;
                let sb = sets.get(b, bb)?;
                Ok(
                    jaccard_at_least(sa, sb, threshold).map(|similarity| ScoredPair {
                        a,
                        b,
                        similarity,
                    }),
                )
            },
        )
        .collect();
    scored.into_iter().filter_map(|r| r.transpose()).collect()
}

/// Keeps the candidates whose estimated Jaccard is ≥ `threshold`; `signature(doc)` gives
/// each document's signature.
pub fn verify_estimate<'a>(
    candidates: &[(u32, u32)],
    signature: impl Fn(u32) -> &'a [u32] + Sync,
    threshold: f64,
) -> Vec<ScoredPair> {
    candidates
        .par_iter()
        .filter_map(|&(a, b)| {
            estimate_at_least(signature(a), signature(b), threshold).map(|similarity| ScoredPair {
                a,
                b,
                similarity,
            })
        })
        .collect()
}

/// The share of equal slots of two signatures when it is at least `threshold`, else `None`.
pub fn estimate_at_least(a: &[u32], b: &[u32], threshold: f64) -> Option<f64> {
    let equal = a.iter().zip(b).filter(|(x, y)| x == y).count();
    let similarity = if a.is_empty() {
        0.0
    } else {
        equal as f64 / a.len() as f64
    };
    (similarity >= threshold).then_some(similarity)
}

/// Same as [`estimate_jaccard`], for callers holding [`Signature`]s.
pub fn estimate(a: &Signature, b: &Signature) -> f64 {
    estimate_jaccard(a, b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shingle::Shingler;
    use crate::sketch::MinHasher;
    use crate::span::Span;

    /// Random 32-bit values (xorshift64, high half) from `seed`.
    fn xorshift(mut x: u64) -> impl FnMut() -> u32 {
        move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 32) as u32
        }
    }

    #[test]
    fn sorts_hashes_of_every_size_and_shape() {
        let mut next = xorshift(0x9e37_79b9_7f4a_7c15);
        let mut tmp = Vec::new();
        // Around each switch of method, and the largest with three bytes and beyond.
        for n in [
            0, 1, 2, 63, 64, 65, 1000, 0x4000, 0x4001, 100_000, 0x40_0000, 0x40_0001,
        ] {
            let uniform: Vec<u32> = (0..n).map(|_| next()).collect();
            // Values sharing their high bytes, all left to the insertion sort (which gives
            // way to a comparison sort).
            let shapes = [
                uniform.clone(),
                uniform.iter().map(|x| x % 7).collect(),
                (0..n as u32).rev().collect(),
                uniform.iter().map(|x| x >> 20).collect(),
            ];
            for mut v in shapes {
                let mut want = v.clone();
                want.sort_unstable();
                sort_hashes(&mut v, &mut tmp);
                assert_eq!(v, want, "n = {n}");
            }
        }
    }

    #[test]
    fn blocks_count_their_shared_values() {
        // Every arrangement of shared values: a value of `a` at each lane, in `b` at each.
        for mask in 0u32..16 {
            for shift in 0..4 {
                let a = [10, 20, 30, 40];
                let mut b = [1, 2, 3, 4];
                for lane in (0..4).filter(|l| mask >> l & 1 == 1) {
                    b[(lane + shift) % 4] = a[lane];
                }
                let want = a.iter().filter(|x| b.contains(x)).count();
                assert_eq!(block_matches(&a, &b), want, "{a:?} {b:?}");
            }
        }
    }

    #[test]
    fn jaccard_of_compact_sets() {
        assert_eq!(crate::sketch::jaccard(&[1, 2, 3], &[2, 3, 4]), 0.5);
        assert_eq!(crate::sketch::jaccard::<u32>(&[], &[]), 0.0);
        assert_eq!(crate::sketch::jaccard(&[7], &[7]), 1.0);
        assert_eq!(compact_set(&[5 << 32, 3 << 32, 5 << 32 | 1]), vec![3, 5]);
    }

    #[test]
    fn jaccard_at_least_agrees_with_the_full_merge() {
        // Sets of random hashes with controlled overlap, at thresholds around their Jaccard.
        let mut next = xorshift(0x2545_f491_4f6c_dd1d);
        for case in 0..400 {
            let shared: Vec<u32> = (0..case % 97).map(|_| next()).collect();
            let mut a: Vec<u32> = shared
                .iter()
                .copied()
                .chain((0..case % 13).map(|_| next()))
                .collect();
            let mut b: Vec<u32> = shared
                .into_iter()
                .chain((0..case % 29).map(|_| next()))
                .collect();
            make_set(&mut a);
            make_set(&mut b);
            let exact = crate::sketch::jaccard(&a, &b);
            for t in [
                0.0,
                0.3,
                0.5,
                0.8,
                0.9,
                1.0,
                exact,
                exact - 1e-12,
                exact + 1e-12,
            ] {
                let want = (exact >= t).then_some(exact);
                assert_eq!(jaccard_at_least(&a, &b, t), want, "case {case} t {t}");
                assert_eq!(jaccard_at_least(&b, &a, t), want, "case {case} t {t}");
            }
        }
    }

    #[test]
    fn spilled_sets_read_back() {
        let sets: Vec<Vec<u32>> = (0..50u32).map(|i| (i..i + 20).collect()).collect();
        let mut store = SetStore::new(400); // 100 values in memory, the rest on disk
        for (i, s) in sets.iter().enumerate() {
            // Pushed reversed and with a repeat: sets come out sorted, without it. Every
            // third comes sorted (and is kept so on disk).
            let raw: Vec<u32> = s.iter().rev().chain(&s[..1]).copied().collect();
            store
                .push(if i % 3 == 0 { s.clone() } else { raw })
                .unwrap();
        }
        // An empty set last: it ends where the file does.
        store.push(Vec::new()).unwrap();
        store.finish_writing().unwrap();
        assert!(store.spilled());
        assert_eq!(store.len(), 51);
        assert!(store.get(50, &mut SetBuf::default()).unwrap().is_empty());
        let mut buf = SetBuf::default();
        for (i, s) in sets.iter().enumerate() {
            assert_eq!(store.get(i as u32, &mut buf).unwrap(), &s[..]);
            // Asked again (kept), then after another document (read again).
            assert_eq!(store.get(i as u32, &mut buf).unwrap(), &s[..]);
            let other = (i + 7) % sets.len();
            assert_eq!(store.get(other as u32, &mut buf).unwrap(), &sets[other][..]);
            assert_eq!(store.get(i as u32, &mut buf).unwrap(), &s[..]);
        }
        store.sort_sets([1, 3, 0]);
        for (i, s) in sets.iter().enumerate() {
            assert_eq!(store.get(i as u32, &mut buf).unwrap(), &s[..]);
        }
        let cands = vec![(0, 1), (0, 49), (10, 12)];
        let pairs = verify_exact(&cands, &mut store, 0.5).unwrap();
        assert_eq!(pairs.len(), 2);
        assert!((pairs[0].similarity - 19.0 / 21.0).abs() < 1e-12);
    }

    #[test]
    fn sets_in_memory_read_back_sorted() {
        // Sets of uneven sizes, sorted some at a time.
        let sizes = [300_000usize, 1, 700_000, 250_000, 0, 90_000, 400_000];
        let sets: Vec<Vec<u32>> = sizes
            .iter()
            .enumerate()
            .map(|(i, &n)| {
                (0..n as u32)
                    .map(|x| x.wrapping_mul(2_654_435_761) ^ i as u32)
                    .collect()
            })
            .collect();
        let mut store = SetStore::new(usize::MAX);
        for s in &sets {
            store.push(s.clone()).unwrap();
        }
        assert!(!store.spilled());
        let sorted: Vec<Vec<u32>> = sets.iter().map(|s| compact_set_of(s)).collect();
        let mut buf = SetBuf::default();
        let check = |store: &SetStore, buf: &mut SetBuf| {
            for (i, want) in sorted.iter().enumerate() {
                assert_eq!(store.get(i as u32, buf).unwrap(), &want[..], "set {i}");
            }
        };
        check(&store, &mut buf);
        store.sort_sets([5, 2, 3]);
        check(&store, &mut buf);
        store.sort_sets(0..sets.len() as u32);
        check(&store, &mut buf);
    }

    fn compact_set_of(s: &[u32]) -> Vec<u32> {
        let mut v = s.to_vec();
        make_set(&mut v);
        v
    }

    /// On a small corpus of edited copies, the estimate stays near the exact value.
    #[test]
    fn estimate_tracks_exact_jaccard() {
        let base: Vec<String> = (0..400).map(|i| format!("w{}", i * 7919 % 1009)).collect();
        let sh = Shingler::new(5);
        let mh = MinHasher::new(128, 1);
        let set_of = |words: &[String]| {
            let t = words.join(" ");
            sh.shingle_set(&t, Span::new(0, t.len()))
        };
        let a = set_of(&base);
        let sa = mh.sketch(&a);
        let mut worst: f64 = 0.0;
        for edits in [5usize, 20, 40, 80] {
            let mut w = base.clone();
            for e in 0..edits {
                w[(e * 37) % 400] = format!("x{e}");
            }
            let b = set_of(&w);
            let exact = crate::sketch::jaccard(&compact_set(&a), &compact_set(&b));
            let est = estimate(&sa, &mh.sketch(&b));
            worst = worst.max((exact - est).abs());
        }
        assert!(worst < 0.12, "estimate off by {worst}");
    }
}
