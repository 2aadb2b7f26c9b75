//! Cross-file copies: paragraphs of different files whose word-shingle sets are (nearly) equal.
//!
//! Input: one shingle set per eligible paragraph. Output: groups of identical sets and the
//! verified near-duplicate pairs between groups. Identical paragraphs are grouped by hash first
//! (a boilerplate paragraph in 500 files costs 500 steps, not 500²); the distinct sets are then
//! joined with prefix filtering (AllPairs): with shingles ordered rarest first, two sets with
//! Jaccard ≥ t must share one of the first `n - ⌈t·n⌉ + 1` shingles of each, so an inverted
//! index over those prefixes finds every such pair — exactly, without all-pairs comparison —
//! and each candidate is verified with the exact Jaccard.
//!
//! Thousands of near-identical (not identical) paragraphs share their prefixes, and every pair
//! of them is similar: the join would be quadratic. A set therefore looks at no more than
//! [`MAX_CANDIDATES`] earlier sets (the earliest first), and [`Join::truncated`] says when
//! one did; below that bound the join is exact.
//!
//! [`SetIndex`] answers the same question for one set at a time, for a frontend that sees
//! files change one by one (the language server): insert, remove, and query the sets similar
//! to a given one, exactly, without joining everything again.

use crate::sketch::jaccard;
use ahash::AHashMap;

/// Groups of identical sets and similar pairs of groups.
#[derive(Debug, Default)]
pub struct Join {
    /// Each group's members (indices into the input), in input order.
    pub groups: Vec<Vec<usize>>,
    /// `(group a, group b, jaccard)` with `a < b` and jaccard ≥ the threshold (and < 1).
    pub pairs: Vec<(usize, usize, f64)>,
    /// Some set had more than [`MAX_CANDIDATES`] candidates, and was compared only with the
    /// earliest of them: `pairs` may miss some of its similar sets.
    pub truncated: bool,
}

/// Candidates (earlier sets sharing a prefix shingle) a set is compared with at most.
pub const MAX_CANDIDATES: usize = 1024;

/// Entries of the prefix lists a set reads at most (a candidate is met once per prefix
/// shingle it shares).
const MAX_ENTRIES: usize = 16 * MAX_CANDIDATES;

/// Groups identical `sets` (sorted, deduplicated hashes) and finds the pairs of distinct sets with
/// Jaccard ≥ `threshold` (in (0, 1]). Empty sets are left out.
pub fn join<S: AsRef<[u64]>>(sets: &[S], threshold: f64) -> Join {
    let threshold = threshold.clamp(1e-6, 1.0);
    // 1. Identical sets. Groups with the same set hash are chained (`same_hash`), so that no
    // set costs an allocation of its own here.
    let mut by_hash: AHashMap<u64, usize> = AHashMap::with_capacity(sets.len());
    let mut same_hash: Vec<usize> = Vec::new();
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for (i, s) in sets.iter().enumerate() {
        let s = s.as_ref();
        if s.is_empty() {
            continue;
        }
        let head = by_hash.entry(set_hash(s)).or_insert(NIL);
        let mut g = *head;
        while g != NIL && sets[groups[g][0]].as_ref() != s {
            g = same_hash[g];
        }
        if g != NIL {
            groups[g].push(i);
        } else {
            same_hash.push(*head);
            *head = groups.len();
            groups.push(vec![i]);
        }
    }
    if threshold >= 1.0 {
        return Join {
            groups,
            pairs: Vec::new(),
            truncated: false,
        };
    }
    // 2. Global order of shingles: rarest first (fewest distinct sets holding it), then by hash.
    // Every shingle of every distinct set is sorted once by hash (a radix sort): a run of equal
    // hashes is one shingle, its length the shingle's frequency and its number a dense id in
    // hash order, so that `(frequency, id)` orders as `(frequency, hash)` and the prefix index
    // below is an array, not a hash map (the maps' cache misses were most of the join).
    let reps: Vec<&[u64]> = groups.iter().map(|g| sets[g[0]].as_ref()).collect();
    let total: usize = reps.iter().map(|s| s.len()).sum();
    let mut keyed: Vec<(u64, u32)> = Vec::with_capacity(total);
    keyed.extend(
        reps.iter()
            .flat_map(|s| s.iter())
            .zip(0u32..)
            .map(|(&h, at)| (h, at)),
    );
    radsort::sort_by_key(&mut keyed, |&(h, _)| h);
    // Per shingle of each set, in the sets' order: frequency << 32 | id.
    let mut rank: Vec<u64> = vec![0; total];
    let mut distinct = 0;
    for run in keyed.chunk_by(|a, b| a.0 == b.0) {
        for &(_, at) in run {
            rank[at as usize] = (run.len() as u64) << 32 | distinct as u64;
        }
        distinct += 1;
    }
    drop(keyed);
    // 3. Prefix index: per shingle, a chain through `links` of the sets whose prefix holds it,
    // earliest first (its first and last links by shingle id, the links in one array: no
    // allocation per shingle).
    let mut heads: Vec<(usize, usize)> = vec![(NIL, NIL); distinct];
    let mut links: Vec<(u32, usize)> = Vec::with_capacity(total / 2);
    let mut stamp: Vec<u32> = vec![u32::MAX; reps.len()];
    let mut pairs = Vec::new();
    let mut truncated = false;
    let mut ordered: Vec<u64> = Vec::new();
    let mut at = 0;
    for (x, s) in reps.iter().enumerate() {
        let n = s.len();
        ordered.clear();
        ordered.extend_from_slice(&rank[at..at + n]);
        at += n;
        let p = prefix_len(n, threshold);
        // The p first in the global order, rarest first (shortest chains first).
        if p < n {
            ordered.select_nth_unstable(p - 1);
        }
        ordered[..p].sort_unstable();
        let (mut entries, mut compared) = (0, 0);
        'prefix: for &r in &ordered[..p] {
            let mut e = heads[r as u32 as usize].0;
            while e != NIL {
                if entries == MAX_ENTRIES {
                    truncated = true;
                    break 'prefix;
                }
                entries += 1;
                let (y, next) = links[e];
                e = next;
                let y = y as usize;
                if stamp[y] == x as u32 {
                    continue;
                }
                if compared == MAX_CANDIDATES {
                    truncated = true;
                    break 'prefix;
                }
                compared += 1;
                stamp[y] = x as u32;
                let m = reps[y].len();
                if (n.min(m) as f64) < threshold * n.max(m) as f64 - 1e-9 {
                    continue;
                }
                let j = jaccard(reps[y], s);
                if j >= threshold {
                    pairs.push((y, x, j));
                }
            }
        }
        for &r in &ordered[..p] {
            links.push((x as u32, NIL));
            let new = links.len() - 1;
            let head = &mut heads[r as u32 as usize];
            if head.0 == NIL {
                *head = (new, new);
            } else {
                links[head.1].1 = new;
                head.1 = new;
            }
        }
    }
    pairs.sort_by_key(|p| (p.0, p.1));
    Join {
        groups,
        pairs,
        truncated,
    }
}

/// Shingle sets kept for similarity queries as files change: the sets whose Jaccard with a
/// given set reaches the threshold, found exactly by the same prefix filtering as [`join`].
/// The global order of shingles is their frequency when the index was made (rarest first;
/// shingles met later count as the rarest): any fixed order keeps the filter exact.
#[derive(Debug, Default)]
pub struct SetIndex {
    threshold: f64,
    frequency: AHashMap<u64, u32>,
    /// Prefix shingle → ids of the sets whose prefix holds it.
    postings: AHashMap<u64, Vec<u32>>,
    /// By id; a removed set is empty.
    sets: Vec<Vec<u64>>,
    free: Vec<u32>,
}

impl SetIndex {
    /// An index of `sets` (sorted, deduplicated) for `threshold`; their ids are their positions.
    pub fn new(sets: Vec<Vec<u64>>, threshold: f64) -> SetIndex {
        let mut frequency: AHashMap<u64, u32> = AHashMap::new();
        for s in &sets {
            for &x in s {
                *frequency.entry(x).or_default() += 1;
            }
        }
        let mut index = SetIndex {
            threshold: threshold.clamp(1e-6, 1.0),
            frequency,
            ..SetIndex::default()
        };
        for s in sets {
            index.insert(s);
        }
        index
    }

    /// The shingles of `set` that a similar set must share one of.
    fn prefix(&self, set: &[u64]) -> Vec<u64> {
        let mut ordered: Vec<(u32, u64)> = set
            .iter()
            .map(|&h| (self.frequency.get(&h).copied().unwrap_or(0), h))
            .collect();
        ordered.sort_unstable();
        ordered.truncate(prefix_len(set.len(), self.threshold));
        ordered.into_iter().map(|(_, h)| h).collect()
    }

    /// Adds `set` (sorted, deduplicated); returns its id.
    pub fn insert(&mut self, set: Vec<u64>) -> u32 {
        let id = match self.free.pop() {
            Some(id) => id,
            None => {
                self.sets.push(Vec::new());
                (self.sets.len() - 1) as u32
            }
        };
        if !set.is_empty() {
            for h in self.prefix(&set) {
                self.postings.entry(h).or_default().push(id);
            }
        }
        self.sets[id as usize] = set;
        id
    }

    /// Removes the set `id`.
    pub fn remove(&mut self, id: u32) {
        let set = std::mem::take(&mut self.sets[id as usize]);
        if !set.is_empty() {
            for h in self.prefix(&set) {
                if let Some(list) = self.postings.get_mut(&h) {
                    list.retain(|&y| y != id);
                    if list.is_empty() {
                        self.postings.remove(&h);
                    }
                }
            }
        }
        self.free.push(id);
    }

    /// The set `id`.
    pub fn set(&self, id: u32) -> &[u64] {
        &self.sets[id as usize]
    }

    /// Every set (itself included, when indexed) whose Jaccard with `set` reaches the
    /// threshold, with that Jaccard, by id; `None` when more than `limit` candidates would
    /// have to be compared.
    pub fn similar(&self, set: &[u64], limit: usize) -> Option<Vec<(u32, f64)>> {
        if set.is_empty() {
            return Some(Vec::new());
        }
        let mut seen: Vec<u32> = Vec::new();
        for h in self.prefix(set) {
            if let Some(list) = self.postings.get(&h) {
                seen.extend_from_slice(list);
                if seen.len() > limit.saturating_mul(16) {
                    return None;
                }
            }
        }
        seen.sort_unstable();
        seen.dedup();
        if seen.len() > limit {
            return None;
        }
        let n = set.len();
        let t = self.threshold;
        Some(
            seen.into_iter()
                .filter_map(|y| {
                    let other = &self.sets[y as usize];
                    let m = other.len();
                    if (n.min(m) as f64) < t * n.max(m) as f64 - 1e-9 {
                        return None;
                    }
                    let j = jaccard(other, set);
                    (j >= t).then_some((y, j))
                })
                .collect(),
        )
    }
}

/// The end of a chain.
const NIL: usize = usize::MAX;

/// Shingles of a set that two sets with Jaccard ≥ t must share one of.
fn prefix_len(n: usize, t: f64) -> usize {
    let need = (t * n as f64 - 1e-9).ceil().max(0.0) as usize;
    (n + 1).saturating_sub(need).clamp(1, n)
}

fn set_hash(s: &[u64]) -> u64 {
    let mut h: u64 = s.len() as u64;
    for &x in s {
        h = (h.rotate_left(5) ^ x).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn brute(sets: &[Vec<u64>], t: f64) -> Vec<(Vec<u64>, Vec<u64>)> {
        let mut out = Vec::new();
        for i in 0..sets.len() {
            for j in i + 1..sets.len() {
                if !sets[i].is_empty() && sets[i] != sets[j] {
                    let jac = jaccard(&sets[i], &sets[j]);
                    if jac >= t {
                        let (a, b) = if sets[i] < sets[j] {
                            (sets[i].clone(), sets[j].clone())
                        } else {
                            (sets[j].clone(), sets[i].clone())
                        };
                        out.push((a, b));
                    }
                }
            }
        }
        out.sort();
        out.dedup();
        out
    }

    #[test]
    fn identical_sets_group_and_similar_ones_pair() {
        let a: Vec<u64> = (0..10).collect();
        let mut b = a.clone();
        b[9] = 100; // 9 shared of 11: 0.818
        b.sort_unstable();
        let c: Vec<u64> = (50..60).collect();
        let sets = vec![a.clone(), c, a, b, Vec::new()];
        let j = join(&sets, 0.8);
        assert_eq!(j.groups, vec![vec![0, 2], vec![1], vec![3]]);
        assert_eq!(j.pairs.len(), 1);
        assert_eq!((j.pairs[0].0, j.pairs[0].1), (0, 2));
        assert!((j.pairs[0].2 - 9.0 / 11.0).abs() < 1e-9);
    }

    #[test]
    fn prefix_lengths() {
        assert_eq!(prefix_len(10, 0.8), 3);
        assert_eq!(prefix_len(1, 0.8), 1);
        assert_eq!(prefix_len(10, 1.0), 1);
        assert_eq!(prefix_len(10, 0.5), 6);
    }

    #[test]
    fn near_identical_sets_by_the_thousand_are_compared_a_bounded_number_of_times() {
        // 3,000 sets of 40 shingles, each with one of its own: every pair is similar.
        let sets: Vec<Vec<u64>> = (0..3000u64)
            .map(|i| {
                let mut s: Vec<u64> = (0..39).collect();
                s.push(1000 + i);
                s
            })
            .collect();
        let j = join(&sets, 0.7);
        assert!(j.truncated);
        assert_eq!(j.groups.len(), 3000);
        assert!(j.pairs.len() <= 3000 * MAX_CANDIDATES, "{}", j.pairs.len());
        // The earliest sets are all found: each of the first ones is paired with every other.
        assert!(j.pairs.iter().filter(|p| p.0 == 0).count() >= MAX_CANDIDATES);
        // A small join is not truncated.
        assert!(!join(&sets[..100], 0.7).truncated);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// The index finds, for each set, exactly the sets the join pairs it with (or that
        /// are identical to it), after removals and re-insertions too.
        #[test]
        fn index_queries_equal_the_join(
            raw in prop::collection::vec(prop::collection::vec(0u64..40, 1..12), 2..25),
            t in 0.3f64..0.95,
            drop in prop::collection::vec(any::<bool>(), 25),
        ) {
            let sets: Vec<Vec<u64>> = raw.into_iter().map(|mut s| { s.sort_unstable(); s.dedup(); s }).collect();
            // Built from the first half, then the rest inserted, some removed and put back.
            let half = sets.len() / 2;
            let mut index = SetIndex::new(sets[..half].to_vec(), t);
            for s in &sets[half..] {
                index.insert(s.clone());
            }
            for (i, s) in sets.iter().enumerate() {
                if drop[i] {
                    index.remove(i as u32);
                    prop_assert_eq!(index.insert(s.clone()), i as u32);
                }
            }
            for (i, s) in sets.iter().enumerate() {
                let mut got: Vec<usize> = index.similar(s, usize::MAX / 4).unwrap()
                    .into_iter().map(|(y, _)| y as usize).filter(|&y| y != i).collect();
                got.sort_unstable();
                let want: Vec<usize> = (0..sets.len())
                    .filter(|&y| y != i && jaccard(&sets[y], s) >= t)
                    .collect();
                prop_assert_eq!(got, want);
            }
        }

        /// The prefix-filtered join finds exactly the pairs that all-pairs comparison finds.
        #[test]
        fn join_equals_brute_force(
            raw in prop::collection::vec(prop::collection::vec(0u64..40, 1..12), 2..25),
            t in 0.3f64..0.95,
        ) {
            let sets: Vec<Vec<u64>> = raw.into_iter().map(|mut s| { s.sort_unstable(); s.dedup(); s }).collect();
            let j = join(&sets, t);
            let mut got: Vec<(Vec<u64>, Vec<u64>)> = j.pairs.iter().map(|&(a, b, _)| {
                let (x, y) = (sets[j.groups[a][0]].clone(), sets[j.groups[b][0]].clone());
                if x < y { (x, y) } else { (y, x) }
            }).collect();
            got.sort();
            prop_assert_eq!(got, brute(&sets, t));
        }
    }
}
