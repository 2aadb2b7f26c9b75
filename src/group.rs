//! Stage 7, group: verified pairs → clusters; paragraph hashes → repeated paragraphs.
//!
//! [`UnionFind`] joins the documents of verified pairs; a cluster's representative is its
//! smallest input index (the first in input order), so the result does not depend on pair
//! or thread order. [`join_each_bucket`] joins the documents of band buckets too large to list
//! their pairs, verifying about one pair per document where a bucket is one cluster. [`ParagraphCounter`] counts, across documents, paragraphs that are equal
//! after normalisation ([`paragraph_key_of_words`]: the same normalised words in the same
//! order): boilerplate such as navigation text, disclaimers and licence blocks.

use crate::shingle::fmix64;
use crate::spill::{read_or_end, Record, Runs};
use ahash::AHashMap;
use rayon::prelude::*;
use std::borrow::Cow;
use std::fs::File;
use std::io::{self, BufWriter, Read, Write};
use std::os::unix::fs::FileExt;
use std::sync::Arc;

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

/// What [`join_each_bucket`] found: the verified pairs that joined two sets, and its work.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BucketJoins {
    /// `(a, b, similarity)`, `a < b`: each pair that joined two sets, in the order found.
    pub pairs: Vec<(u32, u32, f64)>,
    /// Pairs verified.
    pub verified: usize,
}

/// Joins in `uf` the documents of one bucket (sorted) that `verify` finds
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
fn join_bucket(
    uf: &mut UnionFind,
    bucket: &[u32],
    key: impl Fn(u32) -> u64,
    mut verify: impl FnMut(u32, u32) -> Option<f64>,
) -> BucketJoins {
    let mut out = BucketJoins::default();
    // The bucket's documents so far, one list per set; the first member is tried first.
    let mut groups: Vec<Vec<u32>> = Vec::new();
    let mut twins: AHashMap<u64, u32> = AHashMap::new();
    let mut joined: Vec<usize> = Vec::new();
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
    out
}

/// [`join_bucket`] for each bucket on its own: a bucket's documents are joined from nothing
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
        let joins = join_bucket(
            &mut uf,
            &local,
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
/// [`join_each_bucket`]).
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
#[derive(Clone, Debug)]
pub struct RepeatedParagraph {
    /// Its text as first seen in the second document that has it (trimmed).
    pub text: String,
    /// Number of documents that contain it.
    pub count: usize,
    /// Those documents: [`RepeatedParagraph::documents`] reads them.
    list: DocumentList,
}

/// Where a repeated paragraph's documents are. Once paragraph counts went to disk, the lists
/// go to one temporary file as they are merged and are read back one by one as they are
/// printed: a report on millions of documents lists tens of them per document.
#[derive(Clone, Debug)]
enum DocumentList {
    Memory(Vec<u32>),
    /// `count` little-endian u32 at byte `offset` of `file`; `first` is the first of them.
    Disk {
        file: Arc<File>,
        offset: u64,
        first: u32,
    },
}

impl RepeatedParagraph {
    /// Its first document (input index).
    pub fn first(&self) -> u32 {
        match &self.list {
            DocumentList::Memory(docs) => docs[0],
            DocumentList::Disk { first, .. } => *first,
        }
    }

    /// The documents that contain it (input indices, ascending), read from disk when its list
    /// went there.
    pub fn documents(&self) -> io::Result<Cow<'_, [u32]>> {
        match &self.list {
            DocumentList::Memory(docs) => Ok(Cow::Borrowed(docs)),
            DocumentList::Disk { file, offset, .. } => {
                let mut bytes = vec![0u8; 4 * self.count];
                file.read_exact_at(&mut bytes, *offset)?;
                Ok(Cow::Owned(
                    bytes
                        .chunks_exact(4)
                        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                        .collect(),
                ))
            }
        }
    }

    /// True when its documents were written to disk.
    pub fn on_disk(&self) -> bool {
        matches!(self.list, DocumentList::Disk { .. })
    }
}

/// Equal text, count and documents, wherever the documents are (a list that cannot be read
/// back equals no other).
impl PartialEq for RepeatedParagraph {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
            && self.count == other.count
            && matches!((self.documents(), other.documents()), (Ok(a), Ok(b)) if a == b)
    }
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
    /// Once counts went to disk: the text of each paragraph at its first document since
    /// then, for the paragraphs that may have been seen before ([`Bloom`]): the one text a
    /// merge may need (when such a document is the paragraph's second).
    first_texts: AHashMap<u64, String>,
    /// Bytes of the texts and document lists held (for the budget).
    heap: usize,
}

impl Shard {
    /// Records `doc` (added in increasing order) under `key`; `seen` tells whether the key
    /// may be in counts already on disk.
    fn add(
        &mut self,
        key: u64,
        doc: u32,
        text: impl FnOnce() -> String,
        seen: impl FnOnce(u64) -> bool,
    ) {
        let e = match self.entries.entry(key) {
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(Entry {
                    first: doc,
                    repeat: NO_REPEAT,
                });
                if seen(key) {
                    let t = text();
                    self.heap += t.capacity();
                    self.first_texts.insert(key, t);
                }
                return;
            }
            std::collections::hash_map::Entry::Occupied(o) => o.into_mut(),
        };
        if e.first == doc {
            return;
        }
        if e.repeat == NO_REPEAT {
            e.repeat = self.repeats.len() as u32;
            let text = text();
            self.heap += text.capacity() + 4;
            self.repeats.push(Repeat {
                text,
                first: e.first,
                later: vec![doc],
            });
            return;
        }
        let later = &mut self.repeats[e.repeat as usize].later;
        if later.last() != Some(&doc) {
            let cap = later.capacity();
            later.push(doc);
            self.heap += 4 * (later.capacity() - cap);
        }
    }

    fn count(&self, e: &Entry) -> usize {
        match e.repeat {
            NO_REPEAT => 1,
            r => 1 + self.repeats[r as usize].later.len(),
        }
    }

    /// Bytes held, about: tables at their capacity (a slot of the hash maps costs its entry
    /// and a control byte, at up to 7/8 load) and the texts and lists.
    fn bytes(&self) -> usize {
        let slots = |cap: usize, entry: usize| cap * 8 / 7 * (entry + 1);
        slots(self.entries.capacity(), std::mem::size_of::<(u64, Entry)>())
            + slots(
                self.first_texts.capacity(),
                std::mem::size_of::<(u64, String)>(),
            )
            + self.repeats.capacity() * std::mem::size_of::<Repeat>()
            + self.heap
    }

    /// Its paragraphs as records sorted by key, emptying the shard.
    fn drain_sorted(&mut self) -> impl Iterator<Item = ParagraphRecord> {
        let mut entries: Vec<(u64, Entry)> =
            std::mem::take(&mut self.entries).into_iter().collect();
        entries.sort_unstable_by_key(|&(k, _)| k);
        let mut repeats = std::mem::take(&mut self.repeats);
        let mut first_texts = std::mem::take(&mut self.first_texts);
        self.heap = 0;
        entries.into_iter().map(move |(key, e)| {
            let (later, repeat_text) = match e.repeat {
                NO_REPEAT => (Vec::new(), None),
                r => {
                    let r = &mut repeats[r as usize];
                    (
                        std::mem::take(&mut r.later),
                        Some(std::mem::take(&mut r.text)),
                    )
                }
            };
            ParagraphRecord {
                key,
                first: e.first,
                later,
                first_text: first_texts.remove(&key),
                repeat_text,
            }
        })
    }
}

/// Shards of the paragraph counter: batches are counted shard by shard in parallel.
const SHARDS: usize = 64;

/// One paragraph's counts in a spilled run: its documents in the run, the text at the
/// second of them (when there is one) and, when the paragraph may have been seen in an
/// earlier run, the text at the first.
#[derive(Debug)]
struct ParagraphRecord {
    key: u64,
    first: u32,
    later: Vec<u32>,
    first_text: Option<String>,
    repeat_text: Option<String>,
}

// Ordered by key alone: a run has each key once, and the merge takes equal keys in run order.
impl PartialEq for ParagraphRecord {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}
impl Eq for ParagraphRecord {}
impl PartialOrd for ParagraphRecord {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for ParagraphRecord {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.key.cmp(&other.key)
    }
}

impl Record for ParagraphRecord {
    fn write_to(&self, w: &mut impl Write) -> io::Result<()> {
        let too_many = || io::Error::other("a paragraph in 2^32 documents or of 4 GiB");
        w.write_all(&self.key.to_le_bytes())?;
        w.write_all(&self.first.to_le_bytes())?;
        let n = u32::try_from(self.later.len()).map_err(|_| too_many())?;
        w.write_all(&n.to_le_bytes())?;
        for d in &self.later {
            w.write_all(&d.to_le_bytes())?;
        }
        for t in [&self.first_text, &self.repeat_text] {
            match t {
                None => w.write_all(&[0])?,
                Some(t) => {
                    let n = u32::try_from(t.len()).map_err(|_| too_many())?;
                    w.write_all(&[1])?;
                    w.write_all(&n.to_le_bytes())?;
                    w.write_all(t.as_bytes())?;
                }
            }
        }
        Ok(())
    }

    fn read_from(r: &mut impl Read) -> io::Result<Option<Self>> {
        let mut head = [0u8; 16];
        if !read_or_end(r, &mut head)? {
            return Ok(None);
        }
        let u32_at = |b: &[u8], i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        let key = u64::from_le_bytes(head[..8].try_into().unwrap_or_default());
        let first = u32_at(&head, 8);
        let n = u32_at(&head, 12) as usize;
        let mut bytes = vec![0u8; 4 * n];
        r.read_exact(&mut bytes)?;
        let later = bytes.chunks_exact(4).map(|c| u32_at(c, 0)).collect();
        let mut text = || -> io::Result<Option<String>> {
            let mut flag = [0u8; 1];
            r.read_exact(&mut flag)?;
            if flag[0] == 0 {
                return Ok(None);
            }
            let mut len = [0u8; 4];
            r.read_exact(&mut len)?;
            let mut t = vec![0u8; u32::from_le_bytes(len) as usize];
            r.read_exact(&mut t)?;
            String::from_utf8(t)
                .map(Some)
                .map_err(|_| io::Error::other("a spilled paragraph text is not UTF-8"))
        };
        let first_text = text()?;
        let repeat_text = text()?;
        Ok(Some(ParagraphRecord {
            key,
            first,
            later,
            first_text,
            repeat_text,
        }))
    }
}

/// A Bloom filter of the paragraph keys written to disk: a key it does not hold was never
/// seen before. A false positive costs one text kept that is not needed, never a wrong count.
struct Bloom {
    bits: Vec<u64>,
}

impl Bloom {
    fn new(bytes: usize) -> Self {
        Bloom {
            bits: vec![0; (bytes / 8).max(8)],
        }
    }

    fn hashes(key: u64) -> (u64, u64) {
        (
            fmix64(key ^ 0x51_7cc1_b727_220a),
            fmix64(key ^ 0x94d0_49bb_1331_11eb) | 1,
        )
    }

    fn probes(&self, key: u64) -> impl Iterator<Item = usize> {
        let m = self.bits.len() as u64 * 64;
        let (h1, h2) = Self::hashes(key);
        (0..3u64).map(move |i| (h1.wrapping_add(i.wrapping_mul(h2)) % m) as usize)
    }

    fn insert(&mut self, key: u64) {
        let m = self.bits.len() as u64 * 64;
        let (h1, h2) = Self::hashes(key);
        for i in 0..3u64 {
            let b = (h1.wrapping_add(i.wrapping_mul(h2)) % m) as usize;
            self.bits[b / 64] |= 1 << (b % 64);
        }
    }

    fn contains(&self, key: u64) -> bool {
        self.probes(key)
            .all(|b| self.bits[b / 64] & (1 << (b % 64)) != 0)
    }
}

/// The counts of a counter whose runs were merged ([`ParagraphCounter::finish`]).
struct Sealed {
    /// `(key, first document, documents)` of the paragraphs in two or more, sorted by key.
    repeats: Vec<(u64, u32, u32)>,
    distinct: usize,
    /// Runs that were merged.
    runs: usize,
}

/// Counts normalised paragraphs across documents (each counted once per document), within
/// a memory budget: past it, the counts go to sorted runs on disk and are merged by
/// [`ParagraphCounter::finish`].
pub struct ParagraphCounter {
    shards: Vec<Shard>,
    budget: usize,
    runs: Runs<ParagraphRecord>,
    /// The keys written to disk (from the first spill on).
    bloom: Option<Bloom>,
    sealed: Option<Sealed>,
}

impl Default for ParagraphCounter {
    fn default() -> Self {
        Self::with_budget(usize::MAX)
    }
}

fn shard_of(key: u64) -> usize {
    (key >> 58) as usize % SHARDS
}

impl ParagraphCounter {
    /// An empty counter without a memory budget.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty counter that keeps about `budget_bytes` in memory (an eighth of it for the
    /// filter of the keys on disk, once there are any), the rest in sorted runs on disk.
    pub fn with_budget(budget_bytes: usize) -> Self {
        ParagraphCounter {
            shards: (0..SHARDS).map(|_| Shard::default()).collect(),
            budget: budget_bytes,
            runs: Runs::new(),
            bloom: None,
            sealed: None,
        }
    }

    /// Records that document `doc` (added in increasing order) has the paragraph `key`;
    /// `text` gives its text, asked for only once it repeats.
    pub fn add(&mut self, key: u64, doc: u32, text: impl FnOnce() -> String) -> io::Result<()> {
        let bloom = self.bloom.as_ref();
        self.shards[shard_of(key)].add(key, doc, text, |k| bloom.is_some_and(|b| b.contains(k)));
        self.spill_when_full()
    }

    /// [`ParagraphCounter::add`] for a batch of `(key, doc, text)` in increasing `doc` order,
    /// the shards in parallel. The text is trimmed and copied only when it repeats.
    pub fn add_batch(&mut self, items: &[(u64, u32, &str)]) -> io::Result<()> {
        let mut by_shard: Vec<Vec<usize>> = vec![Vec::new(); SHARDS];
        for (i, &(key, _, _)) in items.iter().enumerate() {
            by_shard[shard_of(key)].push(i);
        }
        let bloom = self.bloom.as_ref();
        self.shards
            .par_iter_mut()
            .zip(by_shard)
            .for_each(|(shard, indices)| {
                for i in indices {
                    let (key, doc, text) = items[i];
                    shard.add(
                        key,
                        doc,
                        || text.trim().to_string(),
                        |k| bloom.is_some_and(|b| b.contains(k)),
                    );
                }
            });
        self.spill_when_full()
    }

    /// Bytes held in memory, about.
    pub fn bytes(&self) -> usize {
        self.shards.iter().map(Shard::bytes).sum::<usize>()
            + self.bloom.as_ref().map_or(0, |b| 8 * b.bits.len())
    }

    /// Sorted runs of counts written to disk.
    pub fn runs(&self) -> usize {
        self.sealed.as_ref().map_or(self.runs.written(), |s| s.runs)
    }

    fn spill_when_full(&mut self) -> io::Result<()> {
        if self.budget == usize::MAX || self.bytes() <= self.budget {
            return Ok(());
        }
        self.spill()
    }

    fn spill(&mut self) -> io::Result<()> {
        let bloom = self
            .bloom
            .get_or_insert_with(|| Bloom::new(self.budget / 8));
        // Shards hold increasing ranges of keys: shard by shard, the run comes sorted.
        let records = self
            .shards
            .iter_mut()
            .flat_map(Shard::drain_sorted)
            .inspect(|r| bloom.insert(r.key));
        self.runs.write_run(records)
    }

    /// Ends counting: when counts went to disk, merges them (in memory afterwards: the
    /// paragraphs in two or more documents, 16 bytes each, for [`ParagraphCounter::count`]
    /// and [`ParagraphCounter::first`]). Returns the paragraphs in at least `min_count`
    /// documents as [`ParagraphCounter::repeated`] orders them.
    pub fn finish(&mut self, min_count: usize) -> io::Result<Vec<RepeatedParagraph>> {
        if self.runs.is_empty() || self.sealed.is_some() {
            return Ok(self.repeated(min_count));
        }
        self.spill()?;
        self.bloom = None;
        let missing = || io::Error::other("spilled paragraph counts: a repeat without its text");
        let mut sealed = Sealed {
            repeats: Vec::new(),
            distinct: 0,
            runs: self.runs.written(),
        };
        // The reported paragraphs, their lists written to `lists` at `offset`.
        let mut out: Vec<(String, usize, u32, u64)> = Vec::new();
        let mut lists = BufWriter::with_capacity(1 << 20, crate::spill::temp_file()?);
        let mut offset = 0u64;
        // The paragraph being merged: its key, documents and the text at the second.
        let mut key = None;
        let mut docs: Vec<u32> = Vec::new();
        let mut text: Option<String> = None;
        let mut done = |key: u64, docs: &mut Vec<u32>, text: &mut Option<String>| {
            sealed.distinct += 1;
            if docs.len() < 2 {
                return Ok::<(), io::Error>(());
            }
            sealed.repeats.push((key, docs[0], docs.len() as u32));
            if docs.len() >= min_count.max(2) {
                let text = text.take().ok_or_else(missing)?;
                out.push((text, docs.len(), docs[0], offset));
                for d in docs.iter() {
                    lists.write_all(&d.to_le_bytes())?;
                }
                offset += 4 * docs.len() as u64;
            }
            Ok(())
        };
        std::mem::take(&mut self.runs).merge(|rec| {
            if key != Some(rec.key) {
                if let Some(k) = key {
                    done(k, &mut docs, &mut text)?;
                }
                key = Some(rec.key);
                docs.clear();
                docs.push(rec.first);
                docs.extend_from_slice(&rec.later);
                text = rec.repeat_text;
                return Ok(());
            }
            let before = docs.len();
            // A document's paragraphs can straddle two runs (when added one by one).
            let first_is_new = docs.last() != Some(&rec.first);
            if first_is_new {
                docs.push(rec.first);
            }
            docs.extend_from_slice(&rec.later);
            if before == 1 && docs.len() > 1 {
                text = if first_is_new {
                    Some(rec.first_text.ok_or_else(missing)?)
                } else {
                    Some(rec.repeat_text.ok_or_else(missing)?)
                };
            }
            Ok(())
        })?;
        if let Some(k) = key {
            done(k, &mut docs, &mut text)?;
        }
        self.sealed = Some(sealed);
        let file = Arc::new(lists.into_inner().map_err(|e| e.into_error())?);
        let mut out: Vec<RepeatedParagraph> = out
            .into_iter()
            .map(|(text, count, first, offset)| RepeatedParagraph {
                text,
                count,
                list: DocumentList::Disk {
                    file: file.clone(),
                    offset,
                    first,
                },
            })
            .collect();
        out.par_sort_unstable_by(order);
        Ok(out)
    }

    /// Distinct paragraphs seen.
    pub fn distinct(&self) -> usize {
        match &self.sealed {
            Some(s) => s.distinct,
            None => self.shards.iter().map(|s| s.entries.len()).sum(),
        }
    }

    fn sealed_entry(&self, key: u64) -> Option<Option<(u32, u32)>> {
        let s = self.sealed.as_ref()?;
        Some(
            s.repeats
                .binary_search_by_key(&key, |&(k, _, _)| k)
                .ok()
                .map(|i| (s.repeats[i].1, s.repeats[i].2)),
        )
    }

    /// Number of documents that have paragraph `key` (0 when unseen; after a spilled
    /// [`ParagraphCounter::finish`], 1 also for a paragraph never seen).
    pub fn count(&self, key: u64) -> usize {
        if let Some(e) = self.sealed_entry(key) {
            return e.map_or(1, |(_, n)| n as usize);
        }
        let shard = &self.shards[shard_of(key)];
        shard.entries.get(&key).map_or(0, |e| shard.count(e))
    }

    /// The first document that has paragraph `key` (after a spilled
    /// [`ParagraphCounter::finish`], known for paragraphs in two or more documents only).
    pub fn first(&self, key: u64) -> Option<u32> {
        if let Some(e) = self.sealed_entry(key) {
            return e.map(|(first, _)| first);
        }
        self.shards[shard_of(key)]
            .entries
            .get(&key)
            .map(|e| e.first)
    }

    /// Paragraphs found in at least `min_count` documents: most documents first, then by
    /// first document and text (deterministic). Counts on disk are not read: use
    /// [`ParagraphCounter::finish`] for those.
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
                    list: DocumentList::Memory(documents),
                }
            })
            .collect();
        out.par_sort_unstable_by(order);
        out
    }
}

/// The order of repeated paragraphs: most documents first, then by first document and text.
fn order(a: &RepeatedParagraph, b: &RepeatedParagraph) -> std::cmp::Ordering {
    b.count
        .cmp(&a.count)
        .then(a.first().cmp(&b.first()))
        .then_with(|| a.text.cmp(&b.text))
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

    /// Random numbers below `n` (xorshift64) from `seed`, the same on every run.
    fn below(mut x: u64) -> impl FnMut(u64) -> u64 {
        move |n| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % n
        }
    }

    #[test]
    fn each_bucket_alone_gives_the_clusters_of_all_pairs() {
        let mut next = below(0x2545_f491_4f6c_dd1d);
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
        let bucket: Vec<u32> = (0..n).collect();
        let joins = join_each_bucket(std::slice::from_ref(&bucket), |_| 42, similar(&sets));
        assert_eq!(joins.verified, n as usize - 1);
        let want: Vec<(u32, u32, f64)> = (1..n).map(|b| (0, b, 1.0)).collect();
        assert_eq!(joins.pairs, want);
        let got = clusters(n as usize, joins.pairs.iter().map(|&(a, b, _)| (a, b)));
        assert_eq!(got, vec![bucket]);
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
        c.add(k1, 0, || "Read also:".into()).unwrap();
        c.add(k1, 0, || unreachable!()).unwrap();
        c.add(k1, 2, || "Read also:".into()).unwrap();
        c.add(k1, 5, || unreachable!()).unwrap();
        c.add(99, 1, || unreachable!()).unwrap();
        let r = c.repeated(2);
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].count, 3);
        assert_eq!(*r[0].documents().unwrap(), [0, 2, 5]);
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
            one.add(k, d, || t.trim().to_string()).unwrap();
        }
        let mut batch = ParagraphCounter::new();
        batch.add_batch(&items[..90]).unwrap();
        batch.add_batch(&items[90..]).unwrap();
        assert_eq!(batch.repeated(2), one.repeated(2));
        assert_eq!(batch.distinct(), 37);
    }

    /// Counts that went to disk in many runs, batch by batch or one paragraph at a time (a
    /// document's paragraphs then straddle runs), merge to what the counter in memory says:
    /// the same repeated paragraphs, texts, documents, order, counts and first documents.
    #[test]
    fn spilled_counts_merge_to_the_counts_in_memory() {
        let mut next = below(0x2545_f491_4f6c_dd1d);
        // 3,000 documents of 1..8 paragraphs from 400 distinct ones (some twice in a
        // document), each written a little differently (case, spacing) in every document.
        let mut items: Vec<(u64, u32, String)> = Vec::new();
        for doc in 0..3000u32 {
            for _ in 0..1 + next(8) {
                let p = next(400);
                let key = fmix64(p + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15 | p);
                let text = if next(2) == 0 {
                    format!("  Paragraph {p} of the corpus, seen in {doc}")
                } else {
                    format!("paragraph {p} OF the corpus, seen in {doc} ")
                };
                items.push((key, doc, text));
            }
        }
        let borrowed: Vec<(u64, u32, &str)> =
            items.iter().map(|(k, d, t)| (*k, *d, t.as_str())).collect();
        let mut mem = ParagraphCounter::new();
        for chunk in borrowed.chunks(500) {
            mem.add_batch(chunk).unwrap();
        }
        let want = mem.repeated(3);
        assert!(want.len() > 100 && want.iter().any(|r| r.count > 40));
        let mut batched = ParagraphCounter::with_budget(4096);
        for chunk in borrowed.chunks(37) {
            batched.add_batch(chunk).unwrap();
        }
        let mut single = ParagraphCounter::with_budget(2048);
        for &(k, d, t) in &borrowed {
            single.add(k, d, || t.trim().to_string()).unwrap();
        }
        for spilled in [&mut batched, &mut single] {
            assert!(spilled.runs() > 20, "{}", spilled.runs());
            let runs = spilled.runs();
            let got = spilled.finish(3).unwrap();
            assert!(got.iter().all(RepeatedParagraph::on_disk));
            assert_eq!(got, want);
            assert_eq!(spilled.runs(), runs + 1);
            assert_eq!(spilled.distinct(), mem.distinct());
            for &(k, _, _) in &borrowed {
                if mem.count(k) > 1 {
                    assert_eq!(spilled.count(k), mem.count(k));
                    assert_eq!(spilled.first(k), mem.first(k));
                }
            }
        }
        // In memory, finish is `repeated`.
        assert_eq!(mem.finish(3).unwrap(), want);
    }

    #[test]
    fn paragraph_records_round_trip() {
        let rec = ParagraphRecord {
            key: 0x0123_4567_89ab_cdef,
            first: 7,
            later: vec![9, 12],
            first_text: None,
            repeat_text: Some("Read also: ünïcode".into()),
        };
        let mut bytes = Vec::new();
        rec.write_to(&mut bytes).unwrap();
        let mut r = bytes.as_slice();
        let back = ParagraphRecord::read_from(&mut r).unwrap().unwrap();
        assert_eq!(
            (
                back.key,
                back.first,
                &back.later,
                &back.first_text,
                &back.repeat_text
            ),
            (
                rec.key,
                rec.first,
                &rec.later,
                &rec.first_text,
                &rec.repeat_text
            )
        );
        assert!(ParagraphRecord::read_from(&mut r).unwrap().is_none());
        let mut cut = &bytes[..bytes.len() - 3];
        assert!(ParagraphRecord::read_from(&mut cut).is_err());
    }
}
