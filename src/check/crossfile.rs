//! Cross-file copies: paragraphs of different files whose word-shingle sets are (nearly) equal.
//!
//! Input: one shingle set per eligible paragraph. Output: groups of identical sets and the
//! verified near-duplicate pairs between groups. Identical paragraphs are grouped by hash first
//! (a boilerplate paragraph in 500 files costs 500 steps, not 500²); the distinct sets are then
//! joined with prefix filtering (AllPairs): with shingles ordered rarest first, two sets with
//! Jaccard ≥ t must share one of the first `n - ⌈t·n⌉ + 1` shingles of each, so an inverted
//! index over those prefixes finds every such pair — exactly, without all-pairs comparison —
//! and each candidate is verified with the exact Jaccard.

use crate::sketch::jaccard;
use ahash::AHashMap;

/// Groups of identical sets and similar pairs of groups.
#[derive(Debug, Default)]
pub struct Join {
    /// Each group's members (indices into the input), in input order.
    pub groups: Vec<Vec<usize>>,
    /// `(group a, group b, jaccard)` with `a < b` and jaccard ≥ the threshold (and < 1).
    pub pairs: Vec<(usize, usize, f64)>,
}

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
        };
    }
    // 2. Global order of shingles: rarest first (fewest distinct sets holding it), then by hash.
    let reps: Vec<&[u64]> = groups.iter().map(|g| sets[g[0]].as_ref()).collect();
    let total: usize = reps.iter().map(|s| s.len()).sum();
    let mut df: AHashMap<u64, u32> = AHashMap::with_capacity(total);
    for s in &reps {
        for &x in *s {
            *df.entry(x).or_default() += 1;
        }
    }
    // 3. Prefix index: per shingle, a chain through `links` of the sets whose prefix holds it
    // (the heads in a map, the links in one array: no allocation per shingle).
    let mut heads: AHashMap<u64, usize> = AHashMap::with_capacity(total / 2);
    let mut links: Vec<(u32, usize)> = Vec::with_capacity(total / 2);
    let mut stamp: Vec<u32> = vec![u32::MAX; reps.len()];
    let mut pairs = Vec::new();
    let mut ordered: Vec<(u32, u64)> = Vec::new();
    for (x, s) in reps.iter().enumerate() {
        let n = s.len();
        ordered.clear();
        ordered.extend(s.iter().map(|&h| (df[&h], h)));
        let p = prefix_len(n, threshold);
        // The p first in the global order, in any order among themselves.
        if p < n {
            ordered.select_nth_unstable(p - 1);
        }
        for &(_, h) in &ordered[..p] {
            let mut e = heads.get(&h).copied().unwrap_or(NIL);
            while e != NIL {
                let (y, next) = links[e];
                e = next;
                let y = y as usize;
                if stamp[y] == x as u32 {
                    continue;
                }
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
        for &(_, h) in &ordered[..p] {
            let head = heads.entry(h).or_insert(NIL);
            links.push((x as u32, *head));
            *head = links.len() - 1;
        }
    }
    pairs.sort_by_key(|p| (p.0, p.1));
    Join { groups, pairs }
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

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
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
