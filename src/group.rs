//! Stage 7, group: verified pairs → clusters; paragraph hashes → repeated paragraphs.
//!
//! [`UnionFind`] joins the documents of verified pairs; a cluster's representative is its
//! smallest input index (the first in input order), so the result does not depend on pair
//! or thread order. [`join_buckets`] joins the documents of band buckets too large to list
//! their pairs, verifying about one pair per document where a bucket is one cluster. [`ParagraphCounter`] counts, across documents, paragraphs that are equal
//! after normalisation ([`paragraph_key_of_words`]: the same normalised words in the same
//! order): boilerplate such as navigation text, disclaimers and licence blocks.

use crate::shingle::fmix64;
use ahash::AHashMap;
use rayon::prelude::*;

/// Disjoint sets over `0..n` with path halving and union by smaller root index.
#[derive(Clone, Debug)]
pub struct UnionFind {
    parent: Vec<u32>,
}

impl UnionFind {
    /// `n` singletons.
    pub fn new(n: usize) -> Self {
        UnionFind {
            parent: (0..n as u32).collect(),
        }
    }

    /// The root of `x`: the smallest index of its set.
    pub fn find(&mut self, mut x: u32) -> u32 {
        while self.parent[x as usize] != x {
            let gp = self.parent[self.parent[x as usize] as usize];
            self.parent[x as usize] = gp;
            x = gp;
        }
        x
    }

    /// Joins the sets of `a` and `b`; the smaller root stays root.
    pub fn union(&mut self, a: u32, b: u32) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra != rb {
            let (lo, hi) = if ra < rb { (ra, rb) } else { (rb, ra) };
            self.parent[hi as usize] = lo;
        }
    }

    /// Sets of two or more members, each sorted, ordered by representative (smallest member).
    pub fn clusters(&mut self) -> Vec<Vec<u32>> {
        let n = self.parent.len();
        let mut members: AHashMap<u32, Vec<u32>> = AHashMap::new();
        for x in 0..n as u32 {
            let r = self.find(x);
            // Roots are the smallest members, so each list starts with its root, ascending.
            if r != x {
                members.entry(r).or_insert_with(|| vec![r]).push(x);
            }
        }
        let mut out: Vec<Vec<u32>> = members.into_values().collect();
        out.sort_unstable_by_key(|m| m[0]);
        out
    }
}

/// Clusters of the documents joined by `pairs`, representative first.
pub fn clusters(n: usize, pairs: impl IntoIterator<Item = (u32, u32)>) -> Vec<Vec<u32>> {
    let mut uf = UnionFind::new(n);
    for (a, b) in pairs {
        uf.union(a, b);
    }
    uf.clusters()
}

/// What [`join_buckets`] found: the verified pairs that joined two sets, and its work.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BucketJoins {
    /// `(a, b, similarity)`, `a < b`: each pair that joined two sets, in the order found.
    pub pairs: Vec<(u32, u32, f64)>,
    /// Pairs verified.
    pub verified: usize,
}

/// Joins in `uf` the documents of each bucket (sorted by input index) that `verify` finds
/// similar, to the same sets as verifying and joining every pair of the bucket would, but
/// with about one verification per document when the bucket is one cluster (identical or
/// near-identical documents), where every pair would cost 200 M verifications for 20 k
/// documents.
///
/// Each document `b` is compared with the sets that the bucket's earlier documents are in:
/// a set already holding `b` needs no verification; in any other, members are tried (the
/// one that verified last first) until one verifies, and `b` joins that set. A pair inside
/// one set never changes the sets, so skipping it is exact. A document with the same `key`
/// (its shingle set's hash) as an earlier one of the bucket, and similarity 1 to it, has the
/// same similarities as that twin to everything: it joins the twin's set and is compared
/// with nothing else. Documents of a bucket that fall in many different sets still cost a
/// verification per member of every other set.
pub fn join_buckets(
    uf: &mut UnionFind,
    buckets: &[Vec<u32>],
    key: impl Fn(u32) -> u64,
    mut verify: impl FnMut(u32, u32) -> Option<f64>,
) -> BucketJoins {
    let mut out = BucketJoins::default();
    // The bucket's documents so far, one list per set; the first member is tried first.
    let mut groups: Vec<Vec<u32>> = Vec::new();
    let mut twins: AHashMap<u64, u32> = AHashMap::new();
    let mut joined: Vec<usize> = Vec::new();
    for bucket in buckets {
        groups.clear();
        twins.clear();
        for &b in bucket {
            let k = key(b);
            joined.clear();
            if let Some(&t) = twins.get(&k) {
                let connected = uf.find(t) == uf.find(b);
                let twin = connected || {
                    out.verified += 1;
                    let s = verify(t, b);
                    if s.is_some_and(|s| s >= 1.0) {
                        uf.union(t, b);
                        out.pairs.push((t, b, 1.0));
                        true
                    } else {
                        if let Some(s) = s {
                            // Not a twin after all (a hash collision), but similar.
                            uf.union(t, b);
                            out.pairs.push((t, b, s));
                        }
                        false
                    }
                };
                if twin {
                    let root = uf.find(t);
                    if let Some(gi) = groups.iter().position(|g| uf.find(g[0]) == root) {
                        groups[gi].push(b);
                        continue;
                    }
                }
            }
            for (gi, g) in groups.iter_mut().enumerate() {
                if uf.find(g[0]) == uf.find(b) {
                    joined.push(gi);
                    continue;
                }
                for m in 0..g.len() {
                    out.verified += 1;
                    if let Some(s) = verify(g[m], b) {
                        uf.union(g[m], b);
                        out.pairs.push((g[m], b, s));
                        g.swap(0, m);
                        joined.push(gi);
                        break;
                    }
                }
            }
            // The sets `b` joined are one set now: one list, `b` at its end.
            match joined.first() {
                None => groups.push(vec![b]),
                Some(&target) => {
                    for &gi in joined[1..].iter().rev() {
                        let g = groups.swap_remove(gi);
                        groups[target].extend(g);
                    }
                    groups[target].push(b);
                }
            }
            twins.entry(k).or_insert(b);
        }
    }
    out
}

/// [`join_buckets`] for each bucket on its own: a bucket's documents are joined from nothing
/// known (not from the pairs of other buckets), so what a bucket yields depends only on its
/// members, its keys and `verify`, and buckets can be joined anywhere, in any order (each on
/// a different machine). Union the pairs of every bucket with the verified pairs of the
/// small buckets and the sets are those of verifying every pair of every bucket. A pair may
/// come from several buckets (and from the small buckets' pairs): deduplicate when listing.
pub fn join_each_bucket(
    buckets: &[Vec<u32>],
    key: impl Fn(u32) -> u64,
    mut verify: impl FnMut(u32, u32) -> Option<f64>,
) -> BucketJoins {
    let mut out = BucketJoins::default();
    for bucket in buckets {
        // Positions in the bucket stand for its documents: a union-find as large as the
        // bucket, and positions keep input order (the bucket is sorted).
        let mut uf = UnionFind::new(bucket.len());
        let local: Vec<u32> = (0..bucket.len() as u32).collect();
        let joins = join_buckets(
            &mut uf,
            std::slice::from_ref(&local),
            |p| key(bucket[p as usize]),
            |a, b| verify(bucket[a as usize], bucket[b as usize]),
        );
        out.verified += joins.verified;
        out.pairs.extend(
            joins
                .pairs
                .into_iter()
                .map(|(a, b, s)| (bucket[a as usize], bucket[b as usize], s)),
        );
    }
    out
}

/// A hash of a compact set or a signature, to find identical ones (the `key` of
/// [`join_buckets`]).
pub fn twin_key(v: &[u32]) -> u64 {
    v.iter().fold(v.len() as u64, |h, &x| fmix64(h ^ x as u64))
}

/// The key of a paragraph from the hashes of its words (as the shingle stage splits and
/// normalises them): the same words in the same order give the same key, whatever the case,
/// spacing or punctuation. `None` below `min_words` words.
pub fn paragraph_key_of_words(words: &[u64], min_words: usize) -> Option<u64> {
    const K: u64 = 0x9fb2_1c65_1e98_df25;
    if words.len() < min_words.max(1) {
        return None;
    }
    let h = words
        .iter()
        .fold(0u64, |h, &w| (h ^ w).wrapping_mul(K).rotate_left(29));
    let h = h.wrapping_mul(K).rotate_left(29);
    Some(fmix64(
        h ^ (words.len() as u64).wrapping_mul(0xc2b2_ae3d_27d4_eb4f),
    ))
}

/// A paragraph seen in several documents.
#[derive(Clone, Debug, PartialEq)]
pub struct RepeatedParagraph {
    /// Its text as first seen in the second document that has it (trimmed).
    pub text: String,
    /// Number of documents that contain it.
    pub count: usize,
    /// Those documents (input indices, ascending).
    pub documents: Vec<u32>,
}

/// A paragraph's first document, and where its later ones are (`NO_REPEAT` until it repeats).
/// Eight bytes: most paragraphs are seen once, and there are many.
#[derive(Clone, Copy, Debug)]
struct Entry {
    first: u32,
    repeat: u32,
}

const NO_REPEAT: u32 = u32::MAX;

/// A paragraph seen in a second document: its text there, its first document and the
/// documents after the first.
#[derive(Clone, Debug)]
struct Repeat {
    text: String,
    first: u32,
    later: Vec<u32>,
}

/// One shard of the counter: the paragraphs whose keys fall in it.
#[derive(Default)]
struct Shard {
    entries: AHashMap<u64, Entry>,
    repeats: Vec<Repeat>,
}

impl Shard {
    /// Records `doc` (added in increasing order) under `key`.
    fn add(&mut self, key: u64, doc: u32, text: impl FnOnce() -> String) {
        let e = self.entries.entry(key).or_insert(Entry {
            first: doc,
            repeat: NO_REPEAT,
        });
        if e.first == doc {
            return;
        }
        if e.repeat == NO_REPEAT {
            e.repeat = self.repeats.len() as u32;
            self.repeats.push(Repeat {
                text: text(),
                first: e.first,
                later: vec![doc],
            });
            return;
        }
        let later = &mut self.repeats[e.repeat as usize].later;
        if later.last() != Some(&doc) {
            later.push(doc);
        }
    }

    fn count(&self, e: &Entry) -> usize {
        match e.repeat {
            NO_REPEAT => 1,
            r => 1 + self.repeats[r as usize].later.len(),
        }
    }
}

/// Shards of the paragraph counter: batches are counted shard by shard in parallel.
const SHARDS: usize = 64;

/// Counts normalised paragraphs across documents (each counted once per document).
pub struct ParagraphCounter {
    shards: Vec<Shard>,
}

impl Default for ParagraphCounter {
    fn default() -> Self {
        ParagraphCounter {
            shards: (0..SHARDS).map(|_| Shard::default()).collect(),
        }
    }
}

fn shard_of(key: u64) -> usize {
    (key >> 58) as usize % SHARDS
}

impl ParagraphCounter {
    /// An empty counter.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records that document `doc` (added in increasing order) has the paragraph `key`;
    /// `text` gives its text, asked for only once it repeats.
    pub fn add(&mut self, key: u64, doc: u32, text: impl FnOnce() -> String) {
        self.shards[shard_of(key)].add(key, doc, text);
    }

    /// [`ParagraphCounter::add`] for a batch of `(key, doc, text)` in increasing `doc` order,
    /// the shards in parallel. The text is trimmed and copied only when it repeats.
    pub fn add_batch(&mut self, items: &[(u64, u32, &str)]) {
        let mut by_shard: Vec<Vec<usize>> = vec![Vec::new(); SHARDS];
        for (i, &(key, _, _)) in items.iter().enumerate() {
            by_shard[shard_of(key)].push(i);
        }
        self.shards
            .par_iter_mut()
            .zip(by_shard)
            .for_each(|(shard, indices)| {
                for i in indices {
                    let (key, doc, text) = items[i];
                    shard.add(key, doc, || text.trim().to_string());
                }
            });
    }

    /// Distinct paragraphs seen.
    pub fn distinct(&self) -> usize {
        self.shards.iter().map(|s| s.entries.len()).sum()
    }

    /// Number of documents that have paragraph `key` (0 when unseen).
    pub fn count(&self, key: u64) -> usize {
        let shard = &self.shards[shard_of(key)];
        shard.entries.get(&key).map_or(0, |e| shard.count(e))
    }

    /// The first document that has paragraph `key`.
    pub fn first(&self, key: u64) -> Option<u32> {
        self.shards[shard_of(key)]
            .entries
            .get(&key)
            .map(|e| e.first)
    }

    /// Paragraphs found in at least `min_count` documents: most documents first, then by
    /// first document and text (deterministic).
    pub fn repeated(&self, min_count: usize) -> Vec<RepeatedParagraph> {
        // Only paragraphs that repeat have a `Repeat`: far fewer than the entries.
        let mut out: Vec<RepeatedParagraph> = self
            .shards
            .par_iter()
            .flat_map_iter(|shard| &shard.repeats)
            .filter(|r| 1 + r.later.len() >= min_count.max(2))
            .map(|r| {
                let mut documents = Vec::with_capacity(1 + r.later.len());
                documents.push(r.first);
                documents.extend_from_slice(&r.later);
                RepeatedParagraph {
                    text: r.text.clone(),
                    count: documents.len(),
                    documents,
                }
            })
            .collect();
        out.par_sort_unstable_by(|a, b| {
            b.count
                .cmp(&a.count)
                .then(a.documents[0].cmp(&b.documents[0]))
                .then_with(|| a.text.cmp(&b.text))
        });
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shingle::{Shingler, WordSplit};
    use crate::span::Span;

    #[test]
    fn union_find_representative_is_first() {
        let c = clusters(8, [(5, 3), (3, 7), (1, 2), (6, 7)]);
        assert_eq!(c, vec![vec![1, 2], vec![3, 5, 6, 7]]);
        // Order of pairs does not matter.
        let c2 = clusters(8, [(6, 7), (1, 2), (3, 7), (5, 3)]);
        assert_eq!(c, c2);
        assert!(clusters(3, []).is_empty());
    }

    /// Documents as small sets of values; similar when their Jaccard is at least 0.5.
    fn similar(sets: &[Vec<u32>]) -> impl Fn(u32, u32) -> Option<f64> + '_ {
        move |a, b| {
            let j = crate::sketch::jaccard(&sets[a as usize], &sets[b as usize]);
            (j >= 0.5).then_some(j)
        }
    }

    #[test]
    fn bucket_joins_give_the_clusters_of_all_pairs() {
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move |n: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % n
        };
        for case in 0..300 {
            let n = 2 + next(60) as usize;
            let universe = 2 + next(12);
            // Few distinct sets, so twins, chains and separate clusters all occur.
            let kinds: Vec<Vec<u32>> = (0..1 + next(8))
                .map(|_| {
                    let mut s: Vec<u32> = (0..1 + next(5)).map(|_| next(universe) as u32).collect();
                    s.sort_unstable();
                    s.dedup();
                    s
                })
                .collect();
            let sets: Vec<Vec<u32>> = (0..n)
                .map(|_| kinds[next(kinds.len() as u64) as usize].clone())
                .collect();
            let buckets: Vec<Vec<u32>> = (0..1 + next(4))
                .map(|_| (0..n as u32).filter(|_| next(3) > 0).collect())
                .collect();
            let verify = similar(&sets);
            let mut all = Vec::new();
            for bucket in &buckets {
                for (i, &a) in bucket.iter().enumerate() {
                    for &b in &bucket[i + 1..] {
                        if verify(a, b).is_some() {
                            all.push((a, b));
                        }
                    }
                }
            }
            let want = clusters(n, all.iter().copied());
            let mut uf = UnionFind::new(n);
            // Some pairs known beforehand, as the small buckets' pairs are.
            for &(a, b) in all.iter().step_by(3) {
                uf.union(a, b);
            }
            let key = |d: u32| {
                sets[d as usize]
                    .iter()
                    .fold(7u64, |h, &v| fmix64(h ^ v as u64))
            };
            let joins = join_buckets(&mut uf, &buckets, key, &verify);
            assert_eq!(uf.clusters(), want, "case {case}");
            for &(a, b, s) in &joins.pairs {
                assert!(a < b && verify(a, b) == Some(s), "case {case}");
            }
        }
    }

    #[test]
    fn each_bucket_alone_gives_the_clusters_of_all_pairs() {
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = move |n: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % n
        };
        for case in 0..300 {
            let n = 2 + next(60) as usize;
            let universe = 2 + next(12);
            let kinds: Vec<Vec<u32>> = (0..1 + next(8))
                .map(|_| {
                    let mut s: Vec<u32> = (0..1 + next(5)).map(|_| next(universe) as u32).collect();
                    s.sort_unstable();
                    s.dedup();
                    s
                })
                .collect();
            let sets: Vec<Vec<u32>> = (0..n)
                .map(|_| kinds[next(kinds.len() as u64) as usize].clone())
                .collect();
            let buckets: Vec<Vec<u32>> = (0..1 + next(4))
                .map(|_| (0..n as u32).filter(|_| next(3) > 0).collect())
                .collect();
            let verify = similar(&sets);
            let mut all = Vec::new();
            for bucket in &buckets {
                for (i, &a) in bucket.iter().enumerate() {
                    for &b in &bucket[i + 1..] {
                        if verify(a, b).is_some() {
                            all.push((a, b));
                        }
                    }
                }
            }
            let key = |d: u32| twin_key(&sets[d as usize]);
            let joins = join_each_bucket(&buckets, key, &verify);
            for &(a, b, s) in &joins.pairs {
                assert!(a < b && verify(a, b) == Some(s), "case {case}");
            }
            let got = clusters(n, joins.pairs.iter().map(|&(a, b, _)| (a, b)));
            assert_eq!(got, clusters(n, all.iter().copied()), "case {case}");
            // Bucket by bucket, in any order: the same pairs.
            let mut one_by_one: Vec<(u32, u32, f64)> = buckets
                .iter()
                .rev()
                .flat_map(|b| join_each_bucket(std::slice::from_ref(b), key, &verify).pairs)
                .collect();
            let mut together = joins.pairs.clone();
            for p in [&mut one_by_one, &mut together] {
                p.sort_by_key(|x| (x.0, x.1));
            }
            assert_eq!(one_by_one, together, "case {case}");
        }
    }

    #[test]
    fn identical_documents_cost_one_verification_each() {
        let n = 10_000u32;
        let sets = vec![vec![1, 2, 3]; n as usize];
        let buckets = vec![(0..n).collect::<Vec<u32>>(); 13];
        let mut uf = UnionFind::new(n as usize);
        let joins = join_buckets(&mut uf, &buckets, |_| 42, similar(&sets));
        assert_eq!(joins.verified, n as usize - 1);
        let want: Vec<(u32, u32, f64)> = (1..n).map(|b| (0, b, 1.0)).collect();
        assert_eq!(joins.pairs, want);
        assert_eq!(uf.clusters(), vec![(0..n).collect::<Vec<u32>>()]);
    }

    #[test]
    fn paragraphs_normalise_and_count_once_per_document() {
        let key = |text: &str, min: usize| {
            let mut words = Vec::new();
            Shingler::new(1).with_split(WordSplit::Alnum).word_hashes(
                text,
                Span::new(0, text.len()),
                &mut words,
            );
            paragraph_key_of_words(&words, min)
        };
        let k1 = key("Read  also:\n", 1).unwrap();
        assert_eq!(Some(k1), key("read also:", 1));
        assert_eq!(key("--", 1), None);
        assert_ne!(key("two words", 1), Some(k1));
        assert_ne!(key("two words", 1), key("two word", 1));
        assert_ne!(key("two words", 1), key("words two", 1));
        assert_eq!(key("Ünïcode  TEXT", 1), key("ünïcode text", 1));
        assert_eq!(key("one", 2), None);
        let mut c = ParagraphCounter::new();
        c.add(k1, 0, || "Read also:".into());
        c.add(k1, 0, || unreachable!());
        c.add(k1, 2, || "Read also:".into());
        c.add(k1, 5, || unreachable!());
        c.add(99, 1, || unreachable!());
        let r = c.repeated(2);
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].count, 3);
        assert_eq!(r[0].documents, vec![0, 2, 5]);
        assert!(c.repeated(4).is_empty());
        assert_eq!(c.count(99), 1);
        // A batch counts as the same adds one by one.
        let keys: Vec<u64> = (0..200u64)
            .map(|i| (i % 37).wrapping_mul(0x9e37_79b9_7f4a_7c15))
            .collect();
        let texts: Vec<String> = keys.iter().map(|k| format!(" p{k} ")).collect();
        let items: Vec<(u64, u32, &str)> = keys
            .iter()
            .zip(&texts)
            .enumerate()
            .map(|(i, (&k, t))| (k, i as u32 / 3, t.as_str()))
            .collect();
        let mut one = ParagraphCounter::new();
        for &(k, d, t) in &items {
            one.add(k, d, || t.trim().to_string());
        }
        let mut batch = ParagraphCounter::new();
        batch.add_batch(&items[..90]);
        batch.add_batch(&items[90..]);
        assert_eq!(batch.repeated(2), one.repeated(2));
        assert_eq!(batch.distinct(), 37);
    }
}
