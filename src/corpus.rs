//! Corpus mode: documents (streamed in chunks) → [`CorpusReport`] of near-duplicate pairs,
//! clusters and repeated paragraphs.
//!
//! Drives the stages of DESIGN §2 over a corpus: each chunk of documents is sketched in
//! parallel ([`Sketcher`]: shingle set, MinHash signature, paragraph hashes), then its text
//! can be dropped; only band keys ([`crate::index::BandTable`]), compact shingle sets
//! ([`crate::verify::SetStore`], for exact verification) or signatures (for `--verify
//! estimate`), ids and paragraph counts ([`ParagraphCounter`]) are kept. [`CorpusBuilder::finish`]
//! then indexes, verifies and groups. Band keys, sets, paragraph counts and candidate pairs
//! each stay within their share of [`CorpusOptions::memory`] ([`Budget`]) and spill to
//! temporary files past it ([`crate::spill`]), and so, after a spill of paragraph counts, do
//! the repeated paragraphs' document lists; what is not bounded is a few dozen bytes per
//! document (ids, the duplicate-id check, set locations, union-find), the verified pairs and,
//! with `--verify estimate`, the signatures.
//!
//! ```
//! use deja::corpus::{CorpusBuilder, CorpusOptions};
//! use deja::input::Document;
//! let text = "the quick brown fox jumps over the lazy dog near the river bank today";
//! let docs: Vec<Document> = [text, text, "something else entirely, nothing like the others"]
//!     .iter()
//!     .enumerate()
//!     .map(|(i, t)| Document { id: i.into(), text: t.to_string() })
//!     .collect();
//! let mut builder = CorpusBuilder::new(CorpusOptions::default()).unwrap();
//! builder.add_documents(&docs).unwrap();
//! let (report, _) = builder.finish().unwrap();
//! assert_eq!(report.pairs.len(), 1);
//! assert_eq!(report.clusters, vec![vec![0, 1]]);
//! ```

use crate::error::{Error, Result};
use crate::group::{self, ParagraphCounter, RepeatedParagraph};
use crate::index::{self, BandTable, Banding};
use crate::input::Document;
use crate::segment;
use crate::shingle::{Shingler, WordSplit};
use crate::sketch::{MinHasher, OnePermHasher, DEFAULT_SEED};
use crate::span::Span;
use crate::verify::{self, ScoredPair, SetStore, VerifyMode};
use ahash::AHashSet;
use rayon::prelude::*;
use serde_json::Value;

/// Which sketch fills the signature slots.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum SketchMethod {
    /// `num_perm` permutations mod 2^31 − 1 ([`MinHasher`]): O(num_perm) per shingle.
    Minhash,
    /// One-permutation hashing with densification ([`OnePermHasher`]): O(1) per shingle, the
    /// same estimates and candidate rates (tested against exact Jaccard); the default.
    #[default]
    Oph,
}

/// The parameters that make signatures comparable: shingles, permutations, seed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SketchParams {
    /// The sketch.
    pub method: SketchMethod,
    /// Words per shingle.
    pub k: usize,
    /// MinHash permutations.
    pub num_perm: usize,
    /// Seed of the hashing: shingle hashes (so also the compact sets) and permutations.
    pub seed: u64,
    /// How words are split.
    pub split: WordSplit,
}

impl Default for SketchParams {
    fn default() -> Self {
        SketchParams {
            method: SketchMethod::Oph,
            k: 5,
            num_perm: 128,
            seed: DEFAULT_SEED,
            split: WordSplit::Alnum,
        }
    }
}

/// Options of `deja corpus` / `deja dedup`.
#[derive(Clone, Debug)]
pub struct CorpusOptions {
    /// Shingling and MinHash parameters.
    pub sketch: SketchParams,
    /// Jaccard at or above which two documents are near-duplicates.
    pub threshold: f64,
    /// Wanted P(candidate | J = threshold) when the banding is chosen.
    pub recall: f64,
    /// Bands × rows given by hand.
    pub banding: Option<(usize, usize)>,
    /// How candidates are verified.
    pub verify: VerifyMode,
    /// Memory budget in bytes for what grows with the corpus: band keys, shingle sets,
    /// paragraph counts and candidate pairs (each spilled to disk past its share, see
    /// [`Budget`]).
    pub memory: usize,
    /// Documents a paragraph must appear in to be reported as repeated.
    pub min_repeat: usize,
    /// Words a paragraph needs to be counted as repeated.
    pub min_paragraph_words: usize,
    /// Count repeated paragraphs at all.
    pub paragraphs: bool,
    /// Band buckets of more documents than this are not expanded into their pairs but joined
    /// bucket by bucket, each on its own ([`group::join_each_bucket`]): the clusters are the
    /// same, and `pairs` lists, for those documents, the pairs that joined them to their
    /// clusters within each such bucket.
    /// `usize::MAX` (`--all-pairs`) lists every verified pair, at a cost quadratic in the
    /// size of the largest bucket.
    pub max_bucket: usize,
}

/// The default [`CorpusOptions::max_bucket`]: far above the buckets of real near-duplicates
/// (the dev corpus's largest cluster has 6 documents), far below the 32 k pairs such a
/// bucket would list.
pub const MAX_BUCKET: usize = 256;

impl Default for CorpusOptions {
    fn default() -> Self {
        CorpusOptions {
            sketch: SketchParams::default(),
            threshold: 0.8,
            recall: 0.95,
            banding: None,
            verify: VerifyMode::Exact,
            memory: default_memory(),
            min_repeat: 3,
            min_paragraph_words: 2,
            paragraphs: true,
            max_bucket: MAX_BUCKET,
        }
    }
}

/// How `--memory` is shared out, in bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Budget {
    /// Band keys ([`BandTable`]): 30 %.
    pub bands: usize,
    /// Shingle sets ([`SetStore`]): 30 %.
    pub sets: usize,
    /// Paragraph counts ([`ParagraphCounter`]): 25 %.
    pub paragraphs: usize,
    /// Candidate pairs ([`index::CandidateList`]), and the block of them verified at once:
    /// 15 %.
    pub candidates: usize,
}

impl Budget {
    /// The shares of `memory` bytes.
    pub fn of(memory: usize) -> Budget {
        let share = |pct: usize| memory / 100 * pct;
        Budget {
            bands: share(30),
            sets: share(30),
            paragraphs: share(25),
            candidates: share(15),
        }
    }
}

/// A quarter of physical memory (from /proc/meminfo), or 2 GiB when unknown.
pub fn default_memory() -> usize {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            let line = s.lines().find(|l| l.starts_with("MemTotal:"))?;
            let kb: usize = line.split_whitespace().nth(1)?.parse().ok()?;
            Some(kb * 1024 / 4)
        })
        .unwrap_or(2 << 30)
}

/// Parses a byte size such as `512M`, `2G`, `64k` or `1000000`.
pub fn parse_size(s: &str) -> Result<usize> {
    let t = s.trim();
    let (num, mult) = match t.char_indices().find(|(_, c)| c.is_ascii_alphabetic()) {
        Some((i, _)) => {
            let mult: usize = match t[i..].to_ascii_lowercase().trim_end_matches(['b', 'i']) {
                "" => 1,
                "k" => 1 << 10,
                "m" => 1 << 20,
                "g" => 1 << 30,
                "t" => 1 << 40,
                _ => return Err(Error::Option(format!("--memory: bad unit in {s:?}"))),
            };
            (&t[..i], mult)
        }
        None => (t, 1),
    };
    let n: f64 = num
        .trim()
        .parse()
        .map_err(|_| Error::Option(format!("--memory: not a size: {s:?}")))?;
    if n < 0.0 {
        return Err(Error::Option(format!("--memory: negative size {s:?}")));
    }
    Ok((n * mult as f64) as usize)
}

/// One sketched document.
#[derive(Clone, Debug, PartialEq)]
pub struct SketchedDoc {
    /// The id, serialized as JSON.
    pub id: String,
    /// The MinHash signature (all `u32::MAX` for a document without words).
    pub signature: Vec<u32>,
    /// The compact shingle hashes (see [`verify::compact_hashes`]: unsorted, repeats kept).
    pub set: Option<Vec<u32>>,
    /// Words in the document.
    pub words: usize,
    /// Normalised paragraph hashes and their spans.
    pub paragraphs: Vec<(u64, Span)>,
}

#[derive(Clone)]
enum Hasher {
    MinHash(MinHasher),
    Oph(OnePermHasher),
}

/// Shingles, sketches and paragraph-hashes single documents.
#[derive(Clone)]
pub struct Sketcher {
    shingler: Shingler,
    hasher: Hasher,
    min_paragraph_words: usize,
    paragraphs: bool,
}

impl Sketcher {
    /// A sketcher for `params`; `paragraphs`: also hash paragraphs of at least
    /// `min_paragraph_words` words.
    pub fn new(params: SketchParams, paragraphs: bool, min_paragraph_words: usize) -> Self {
        Sketcher {
            shingler: Shingler::new(params.k)
                .with_split(params.split)
                .with_seed(params.seed),
            hasher: match params.method {
                SketchMethod::Minhash => {
                    Hasher::MinHash(MinHasher::new(params.num_perm, params.seed))
                }
                SketchMethod::Oph => Hasher::Oph(OnePermHasher::new(params.num_perm, params.seed)),
            },
            min_paragraph_words,
            paragraphs,
        }
    }

    /// The same sketcher computing only the first `slots` MinHash slots (the ones the
    /// banding reads), when full signatures are not kept: the slots are the same values.
    /// (One-permutation sketches always fill all their bins.)
    pub fn with_slots(mut self, slots: usize, seed: u64) -> Self {
        if let Hasher::MinHash(_) = self.hasher {
            self.hasher = Hasher::MinHash(MinHasher::new(slots, seed));
        }
        self
    }

    /// The paragraph keys of `text` with their spans: see [`group::paragraph_key_of_words`].
    pub fn paragraphs(&self, text: &str) -> Vec<(u64, Span)> {
        let (mut words, mut starts) = (Vec::new(), Vec::new());
        self.shingler
            .word_hashes_at(text, Span::new(0, text.len()), &mut words, &mut starts);
        self.paragraphs_of(text, &words, &starts)
    }

    fn paragraphs_of(&self, text: &str, words: &[u64], starts: &[usize]) -> Vec<(u64, Span)> {
        let mut out = Vec::new();
        let mut w = 0;
        for p in segment::paragraphs(text) {
            while w < starts.len() && starts[w] < p.span.start {
                w += 1;
            }
            let first = w;
            while w < starts.len() && starts[w] < p.span.end {
                w += 1;
            }
            if let Some(k) =
                group::paragraph_key_of_words(&words[first..w], self.min_paragraph_words)
            {
                out.push((k, p.span));
            }
        }
        out
    }

    /// Sketches `docs` in parallel, in order; `with_set`: keep their compact shingle sets.
    pub fn sketch_chunk(&self, docs: &[Document], with_set: bool) -> Vec<SketchedDoc> {
        docs.par_iter()
            .map_init(Scratch::default, |scratch, d| {
                self.sketch_with(scratch, d, with_set)
            })
            .collect()
    }

    /// Sketches one document; `with_set`: keep its compact shingle set.
    pub fn sketch(&self, doc: &Document, with_set: bool) -> SketchedDoc {
        self.sketch_with(&mut Scratch::default(), doc, with_set)
    }

    /// [`Sketcher::sketch`] reusing the buffers of `scratch` (one per thread: allocating
    /// them per document costs more than the hashing of a short one).
    pub fn sketch_with(
        &self,
        scratch: &mut Scratch,
        doc: &Document,
        with_set: bool,
    ) -> SketchedDoc {
        self.sketch_text(scratch, doc.id.to_string(), &doc.text, with_set)
    }

    /// [`Sketcher::sketch_with`] of a borrowed text under the id `id` (JSON text), for callers
    /// that hold texts elsewhere (an Arrow column, a Python list).
    pub fn sketch_text(
        &self,
        scratch: &mut Scratch,
        id: String,
        text: &str,
        with_set: bool,
    ) -> SketchedDoc {
        let Scratch {
            words,
            starts,
            shingles,
        } = scratch;
        words.clear();
        starts.clear();
        shingles.clear();
        let all = Span::new(0, text.len());
        let paragraphs = if self.paragraphs {
            self.shingler.word_hashes_at(text, all, words, starts);
            self.paragraphs_of(text, words, starts)
        } else {
            self.shingler.word_hashes(text, all, words);
            Vec::new()
        };
        self.shingler.shingles_of(words, shingles);
        let signature = match &self.hasher {
            Hasher::Oph(h) => h.sketch_uniform(shingles).0,
            Hasher::MinHash(h) => {
                // Each repeat would cost num_perm operations more.
                shingles.sort_unstable();
                shingles.dedup();
                h.sketch(shingles).0
            }
        };
        SketchedDoc {
            id,
            signature,
            set: with_set.then(|| verify::compact_hashes(shingles)),
            words: words.len(),
            paragraphs,
        }
    }
}

/// Buffers [`Sketcher::sketch_with`] reuses from one document to the next.
#[derive(Default)]
pub struct Scratch {
    words: Vec<u64>,
    starts: Vec<usize>,
    shingles: Vec<u64>,
}

/// Something odd about one document, reported as a warning; the document is still counted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Notice {
    /// The id was seen before (pairs name both by the same id).
    DuplicateId(String),
    /// No words at all: it cannot be near-duplicate of anything.
    Empty(String),
    /// Fewer words than one shingle: compared by one shingle of all its words.
    Short(String, usize),
}

impl Notice {
    /// A short name of the kind, for summaries.
    pub fn kind(&self) -> &'static str {
        match self {
            Notice::DuplicateId(_) => "duplicate id",
            Notice::Empty(_) => "empty document",
            Notice::Short(..) => "document shorter than one shingle",
        }
    }
}

impl std::fmt::Display for Notice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Notice::DuplicateId(id) => write!(f, "duplicate id {id}"),
            Notice::Empty(id) => write!(f, "document {id}: empty (no words), not compared"),
            Notice::Short(id, n) => write!(
                f,
                "document {id}: only {n} words, shorter than one shingle (compared as one)"
            ),
        }
    }
}

/// Counters of the run, for the summary.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CorpusStats {
    /// Text bytes sketched.
    pub bytes: u64,
    /// Documents without words.
    pub empty: usize,
    /// Documents shorter than one shingle.
    pub short: usize,
    /// Documents whose id was seen before.
    pub duplicate_ids: usize,
    /// Candidate pairs from the band tables: those of buckets up to
    /// [`CorpusOptions::max_bucket`] documents, plus the pairs verified in larger ones.
    pub candidates: usize,
    /// Band buckets of more than [`CorpusOptions::max_bucket`] documents (each counted once).
    pub large_buckets: usize,
    /// Sorted runs of band keys spilled to disk.
    pub band_runs: usize,
    /// Sorted runs of candidate pairs spilled to disk.
    pub candidate_runs: usize,
    /// Sorted runs of paragraph counts spilled to disk.
    pub paragraph_runs: usize,
    /// True when shingle sets were spilled to disk.
    pub sets_spilled: bool,
    /// Distinct paragraphs counted.
    pub distinct_paragraphs: usize,
}

/// What `deja corpus` found. Documents are named by input index; [`CorpusReport::id`] gives
/// each one's id.
#[derive(Clone, Debug)]
pub struct CorpusReport {
    /// Ids of all documents, in input order, serialized as JSON.
    pub ids: Ids,
    /// Jaccard threshold.
    pub threshold: f64,
    /// Sketch parameters.
    pub params: SketchParams,
    /// The banding used.
    pub banding: Banding,
    /// [`CorpusOptions::max_bucket`] of the run (`usize::MAX`: every pair listed).
    pub max_bucket: usize,
    /// How pairs were verified.
    pub verify: VerifyMode,
    /// Verified pairs, sorted by (a, b), a < b: every candidate pair at or above the
    /// threshold, except among documents of buckets larger than `max_bucket`, where the pairs
    /// that joined each document to its cluster within each such bucket are listed (see
    /// `stats.large_buckets`).
    pub pairs: Vec<ScoredPair>,
    /// Clusters of two or more documents, each sorted, representative (first) first.
    pub clusters: Vec<Vec<u32>>,
    /// Paragraphs in at least `min_repeat` documents, most frequent first.
    pub repeated_paragraphs: Vec<RepeatedParagraph>,
    /// Counters.
    pub stats: CorpusStats,
}

impl CorpusReport {
    /// Number of documents.
    pub fn documents(&self) -> usize {
        self.ids.len()
    }

    /// The id of document `doc` as JSON text.
    pub fn id_json(&self, doc: u32) -> &str {
        self.ids.get(doc as usize)
    }

    /// The id of document `doc` as a JSON value.
    pub fn id(&self, doc: u32) -> Value {
        serde_json::from_str(self.id_json(doc)).unwrap_or(Value::Null)
    }

    /// For each document, whether it is a near-duplicate that `dedup` drops: a member of a
    /// cluster other than its representative.
    pub fn dropped(&self) -> Vec<bool> {
        let mut drop = vec![false; self.documents()];
        for c in &self.clusters {
            for &d in &c[1..] {
                drop[d as usize] = true;
            }
        }
        drop
    }
}

/// Document ids as JSON text, in input order, in one buffer: a `Box<str>` each would cost a
/// pointer, a length and an allocation per document (~32 bytes for a short id, against ~18).
#[derive(Clone, Debug, Default)]
pub struct Ids {
    text: String,
    /// Where each id ends in `text`.
    ends: Vec<u64>,
}

impl Ids {
    /// Appends the next document's id.
    pub fn push(&mut self, id: &str) {
        self.text.push_str(id);
        self.ends.push(self.text.len() as u64);
    }

    /// Number of ids.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The id of document `i`.
    pub fn get(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        &self.text[start..self.ends[i] as usize]
    }
}

/// Accumulates documents chunk by chunk; [`CorpusBuilder::finish`] runs index, verify and
/// group.
pub struct CorpusBuilder {
    opts: CorpusOptions,
    banding: Banding,
    sketcher: Sketcher,
    ids: Ids,
    seen_ids: AHashSet<u64>,
    bands: BandTable,
    sets: Option<SetStore>,
    signatures: Vec<u32>,
    paragraphs: ParagraphCounter,
    stats: CorpusStats,
    keys: Vec<u64>,
}

impl CorpusBuilder {
    /// A builder; fails on invalid options.
    pub fn new(opts: CorpusOptions) -> Result<Self> {
        let p = opts.sketch;
        if p.num_perm == 0 || p.k == 0 {
            return Err(Error::Option(
                "--num-perm and --shingle-size must be ≥ 1".into(),
            ));
        }
        let banding = match opts.banding {
            Some((b, r)) => Banding::by_hand(b, r, p.num_perm)?,
            None => Banding::choose(opts.threshold, p.num_perm, opts.recall)?,
        };
        if !(0.0..=1.0).contains(&opts.threshold) {
            return Err(Error::Option(format!(
                "--threshold must be between 0 and 1, got {}",
                opts.threshold
            )));
        }
        let budget = Budget::of(opts.memory);
        let sets = (opts.verify == VerifyMode::Exact).then(|| SetStore::new(budget.sets));
        let mut sketcher = Sketcher::new(p, opts.paragraphs, opts.min_paragraph_words);
        if sets.is_some() {
            sketcher = sketcher.with_slots(banding.bands * banding.rows, p.seed);
        }
        Ok(CorpusBuilder {
            sketcher,
            bands: BandTable::new(budget.bands),
            banding,
            sets,
            ids: Ids::default(),
            seen_ids: AHashSet::new(),
            signatures: Vec::new(),
            paragraphs: ParagraphCounter::with_budget(budget.paragraphs),
            stats: CorpusStats::default(),
            keys: Vec::new(),
            opts,
        })
    }

    /// The banding in use.
    pub fn banding(&self) -> Banding {
        self.banding
    }

    /// The sketcher in use.
    pub fn sketcher(&self) -> &Sketcher {
        &self.sketcher
    }

    /// Documents added so far.
    pub fn documents(&self) -> usize {
        self.ids.len()
    }

    /// Text bytes of the documents added so far.
    pub fn bytes(&self) -> u64 {
        self.stats.bytes
    }

    /// True when verification needs shingle sets.
    pub fn wants_sets(&self) -> bool {
        self.sets.is_some()
    }

    /// Sketches a chunk of documents in parallel and adds them in order. Returns notices.
    pub fn add_documents(&mut self, docs: &[Document]) -> Result<Vec<Notice>> {
        let sketched = self.sketcher.sketch_chunk(docs, self.wants_sets());
        self.add_chunk(docs, sketched)
    }

    /// Adds `docs`, sketched by [`Sketcher::sketch_chunk`] (with sets when
    /// [`CorpusBuilder::wants_sets`]), in order. Returns notices. The next chunk can be
    /// sketched meanwhile, by a clone of [`CorpusBuilder::sketcher`].
    pub fn add_chunk(
        &mut self,
        docs: &[Document],
        mut sketched: Vec<SketchedDoc>,
    ) -> Result<Vec<Notice>> {
        if self.sets.as_ref().is_some_and(SetStore::spilled) {
            // Sets now go to disk, where they are read once per candidate pair: sort them
            // here, in parallel, rather than at every read.
            sketched.par_iter_mut().for_each_init(Vec::new, |tmp, s| {
                if let Some(set) = s.set.as_mut() {
                    verify::make_set_with(set, tmp);
                }
            });
        }
        let first = self.ids.len() as u32;
        let paragraphs: Vec<(u64, u32, &str)> = docs
            .iter()
            .zip(&sketched)
            .enumerate()
            .flat_map(|(i, (doc, s))| {
                s.paragraphs
                    .iter()
                    .map(move |&(key, span)| (key, first + i as u32, span.slice(&doc.text)))
            })
            .collect();
        self.paragraphs
            .add_batch(&paragraphs)
            .map_err(Error::temp_files)?;
        let mut notices = Vec::new();
        for (doc, s) in docs.iter().zip(sketched) {
            self.stats.bytes += doc.text.len() as u64;
            notices.extend(self.add_sketched(s)?);
        }
        Ok(notices)
    }

    /// Adds one sketched document (from [`Sketcher::sketch`] or a signature file).
    pub fn add_sketched(&mut self, doc: SketchedDoc) -> Result<Vec<Notice>> {
        let mut notices = Vec::new();
        let io = Error::temp_files;
        let needed = if self.sets.is_some() {
            self.banding.bands * self.banding.rows
        } else {
            self.opts.sketch.num_perm
        };
        if doc.signature.len() < needed {
            return Err(Error::Option(format!(
                "signature of {} has {} slots, expected {needed}",
                doc.id,
                doc.signature.len(),
            )));
        }
        if self.ids.len() >= u32::MAX as usize {
            return Err(Error::Option("more than 2^32 − 1 documents".into()));
        }
        let n = self.ids.len() as u32;
        if !self.seen_ids.insert(ahash_one(&doc.id)) {
            self.stats.duplicate_ids += 1;
            notices.push(Notice::DuplicateId(doc.id.clone()));
        }
        if doc.words == 0 {
            self.stats.empty += 1;
            notices.push(Notice::Empty(doc.id.clone()));
        } else {
            if doc.words < self.opts.sketch.k {
                self.stats.short += 1;
                notices.push(Notice::Short(doc.id.clone(), doc.words));
            }
            self.keys.clear();
            self.banding.band_keys(&doc.signature, &mut self.keys);
            for &k in &self.keys {
                self.bands.push(k, n).map_err(io)?;
            }
        }
        if let Some(sets) = self.sets.as_mut() {
            let set = doc.set.ok_or_else(|| {
                Error::Option(
                    "exact verification needs shingle sets: sketch with sets, or use \
                     --verify estimate"
                        .into(),
                )
            })?;
            sets.push(set).map_err(io)?;
        } else {
            self.signatures.extend_from_slice(&doc.signature[..needed]);
        }
        self.ids.push(&doc.id);
        Ok(notices)
    }

    /// Indexes, verifies and groups. Returns the report and the paragraph counts (for
    /// `dedup --strip-repeated-paragraphs`).
    pub fn finish(mut self) -> Result<(CorpusReport, ParagraphCounter)> {
        let io = Error::temp_files;
        // Paragraph counts first: when they went to disk, merging them frees their memory
        // before the candidates take theirs.
        let repeated_paragraphs = if self.opts.paragraphs {
            self.paragraphs.finish(self.opts.min_repeat).map_err(io)?
        } else {
            Vec::new()
        };
        self.stats.paragraph_runs = self.paragraphs.runs();
        self.stats.distinct_paragraphs = self.paragraphs.distinct();
        self.stats.band_runs = self.bands.runs();
        let bands = std::mem::replace(&mut self.bands, BandTable::new(0));
        let budget = Budget::of(self.opts.memory);
        let mut candidates =
            index::candidates_within(bands, self.opts.max_bucket, budget.candidates).map_err(io)?;
        self.stats.candidate_runs = candidates.runs();
        let large_buckets = std::mem::take(&mut candidates.large_buckets);
        let t = self.opts.threshold;
        let n = self.ids.len();
        let np = self.opts.sketch.num_perm;
        if let Some(sets) = self.sets.as_mut() {
            sets.finish_writing().map_err(io)?;
            self.stats.sets_spilled = sets.spilled();
        }
        // Candidates verified a block at a time (all at once unless they went to disk):
        // each block's pairs come sorted, so the verified pairs do too.
        let mut pairs: Vec<ScoredPair> = Vec::new();
        let block = (budget.candidates / 8).max(1024);
        let mut sets = self.sets.as_mut();
        let sigs = &self.signatures;
        self.stats.candidates = candidates
            .for_each_block(block, |block| {
                match sets.as_deref_mut() {
                    Some(sets) => pairs.extend(verify::verify_exact(block, sets, t)?),
                    None => pairs.extend(verify::verify_estimate(
                        block,
                        |d| &sigs[d as usize * np..(d as usize + 1) * np],
                        t,
                    )),
                }
                Ok(())
            })
            .map_err(io)?;
        self.stats.large_buckets = large_buckets.len();
        let mut uf = group::UnionFind::new(n);
        for p in &pairs {
            uf.union(p.a, p.b);
        }
        if !large_buckets.is_empty() {
            // Twins (identical sets or signatures) are told apart by a hash of what
            // verification compares: `keys[i]` is that of `docs[i]` (only the documents of
            // large buckets, not 8 bytes for every document).
            let mut docs: Vec<u32> = large_buckets.iter().flatten().copied().collect();
            docs.par_sort_unstable();
            docs.dedup();
            let mut keys = vec![0u64; docs.len()];
            let key_of = |keys: &[u64], d: u32| docs.binary_search(&d).map_or(0, |i| keys[i]);
            let joins = match self.sets.as_mut() {
                Some(sets) => {
                    sets.sort_sets(docs.iter().copied());
                    let sets = &*sets;
                    let hashed: Vec<std::io::Result<u64>> = docs
                        .par_iter()
                        .map_init(verify::SetBuf::default, |buf, &d| {
                            Ok(group::twin_key(sets.get(d, buf)?))
                        })
                        .collect();
                    for (k, h) in keys.iter_mut().zip(hashed) {
                        *k = h.map_err(io)?;
                    }
                    let (mut ba, mut bb) = (verify::SetBuf::default(), verify::SetBuf::default());
                    let mut failure = None;
                    let joins = group::join_each_bucket(
                        &large_buckets,
                        |d| key_of(&keys, d),
                        |a, b| {
                            let sa = sets.get(a, &mut ba);
                            let sb = sets.get(b, &mut bb);
                            match (sa, sb) {
                                (Ok(sa), Ok(sb)) => verify::jaccard_at_least(sa, sb, t),
                                (Err(e), _) | (_, Err(e)) => {
                                    failure.get_or_insert(e);
                                    None
                                }
                            }
                        },
                    );
                    if let Some(e) = failure {
                        return Err(io(e));
                    }
                    joins
                }
                None => {
                    let sig = |d: u32| &self.signatures[d as usize * np..(d as usize + 1) * np];
                    for (k, &d) in keys.iter_mut().zip(&docs) {
                        *k = group::twin_key(sig(d));
                    }
                    group::join_each_bucket(
                        &large_buckets,
                        |d| key_of(&keys, d),
                        |a, b| verify::estimate_at_least(sig(a), sig(b), t),
                    )
                }
            };
            self.stats.candidates += joins.verified;
            // Each bucket is joined on its own (as a distributed run joins it, on whichever
            // machine holds it), so its pairs may repeat a small bucket's or another's.
            for &(a, b, _) in &joins.pairs {
                uf.union(a, b);
            }
            pairs.extend(
                joins
                    .pairs
                    .into_iter()
                    .map(|(a, b, similarity)| ScoredPair { a, b, similarity }),
            );
            pairs.par_sort_unstable_by_key(|p| (p.a, p.b));
            pairs.dedup_by_key(|p| (p.a, p.b));
        }
        let clusters = uf.clusters();
        let report = CorpusReport {
            ids: self.ids,
            threshold: t,
            params: self.opts.sketch,
            banding: self.banding,
            max_bucket: self.opts.max_bucket,
            verify: self.opts.verify,
            pairs,
            clusters,
            repeated_paragraphs,
            stats: self.stats,
        };
        Ok((report, self.paragraphs))
    }
}

fn ahash_one(s: &str) -> u64 {
    ahash::RandomState::with_seeds(1, 2, 3, 4).hash_one(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(seed: usize, n: usize) -> Vec<String> {
        (0..n)
            .map(|i| format!("w{}", (i * 7919 + seed * 104729) % 100_003))
            .collect()
    }

    fn corpus() -> Vec<Document> {
        let mut docs = Vec::new();
        for base in 0..30 {
            let w = words(base, 300);
            docs.push(w.join(" "));
            for edits in [3usize, 15, 60] {
                let mut e = w.clone();
                for j in 0..edits {
                    e[(j * 31 + base) % 300] = format!("edit{j}");
                }
                docs.push(e.join(" "));
            }
        }
        docs.into_iter()
            .enumerate()
            .map(|(i, text)| Document {
                id: Value::from(i),
                text,
            })
            .collect()
    }

    fn run(opts: CorpusOptions, docs: &[Document], chunk: usize) -> CorpusReport {
        let mut b = CorpusBuilder::new(opts).unwrap();
        for c in docs.chunks(chunk) {
            b.add_documents(c).unwrap();
        }
        b.finish().unwrap().0
    }

    /// Candidates cover every pair at or above the threshold found by an exact all-pairs
    /// join, and exact verification reports exactly those pairs.
    #[test]
    fn pairs_match_exact_all_pairs_join() {
        let docs = corpus();
        let opts = CorpusOptions {
            paragraphs: false,
            ..CorpusOptions::default()
        };
        let sk = Sketcher::new(opts.sketch, false, 1);
        let sets: Vec<Vec<u32>> = docs
            .iter()
            .map(|d| {
                let shingles = sk.shingler.shingle_set(&d.text, Span::new(0, d.text.len()));
                verify::compact_set(&shingles)
            })
            .collect();
        let mut truth = Vec::new();
        for a in 0..sets.len() {
            for b in a + 1..sets.len() {
                if crate::sketch::jaccard(&sets[a], &sets[b]) >= 0.8 {
                    truth.push((a as u32, b as u32));
                }
            }
        }
        assert!(truth.len() >= 30);
        let report = run(opts.clone(), &docs, 7);
        let got: Vec<(u32, u32)> = report.pairs.iter().map(|p| (p.a, p.b)).collect();
        assert_eq!(got, truth);
        assert!(report.stats.candidates >= truth.len());
        assert!(report.stats.candidates < 4 * truth.len() + 10);
        // Estimate mode: close to the exact pairs.
        let est = run(
            CorpusOptions {
                verify: VerifyMode::Estimate,
                ..opts.clone()
            },
            &docs,
            50,
        );
        let found = est
            .pairs
            .iter()
            .filter(|p| truth.contains(&(p.a, p.b)))
            .count();
        assert!(found * 10 >= truth.len() * 8, "{found} of {}", truth.len());
        // A tiny memory budget spills band keys and sets, with the same result.
        let tiny = run(
            CorpusOptions {
                memory: 4096,
                ..opts
            },
            &docs,
            7,
        );
        assert!(tiny.stats.band_runs > 1 && tiny.stats.sets_spilled);
        assert_eq!(tiny.pairs, report.pairs);
        assert_eq!(tiny.clusters, report.clusters);
    }

    /// Joining large buckets instead of listing their pairs keeps the clusters (and their
    /// representatives) and lists a subset of the pairs, on copies, edited copies and
    /// unrelated documents, in memory and spilled, exact and estimated.
    #[test]
    fn large_buckets_keep_the_clusters() {
        let mut docs = corpus();
        let copies: Vec<Document> = docs
            .iter()
            .step_by(5)
            .map(|d| Document {
                id: Value::from(1000 + docs.len()),
                text: d.text.clone(),
            })
            .collect();
        docs.extend(copies);
        for verify in [VerifyMode::Exact, VerifyMode::Estimate] {
            for memory in [4096, usize::MAX / 4] {
                let opts = CorpusOptions {
                    paragraphs: false,
                    verify,
                    memory,
                    ..CorpusOptions::default()
                };
                let all = run(
                    CorpusOptions {
                        max_bucket: usize::MAX,
                        ..opts.clone()
                    },
                    &docs,
                    9,
                );
                assert_eq!(all.stats.large_buckets, 0);
                for max_bucket in [1, 2, 3] {
                    let joined = run(
                        CorpusOptions {
                            max_bucket,
                            ..opts.clone()
                        },
                        &docs,
                        9,
                    );
                    assert!(joined.stats.large_buckets > 0);
                    assert_eq!(joined.clusters, all.clusters, "{verify:?} {max_bucket}");
                    assert!(joined
                        .pairs
                        .windows(2)
                        .all(|w| (w[0].a, w[0].b) < (w[1].a, w[1].b)));
                    for p in &joined.pairs {
                        assert!(all.pairs.contains(p), "{p:?}");
                    }
                    let members: usize = all.clusters.iter().map(|c| c.len() - 1).sum();
                    assert!(joined.pairs.len() >= members);
                }
            }
        }
    }

    #[test]
    fn repeated_paragraphs_and_notices() {
        let texts = [
            "Read also: the news.\n\nFirst article body with its own words here.",
            "Read also: the news.\n\nSecond article, different words entirely now.",
            "read ALSO:  the news.\n\nThird one.",
            "",
            "two words",
        ];
        let mut docs: Vec<Document> = texts
            .iter()
            .enumerate()
            .map(|(i, t)| Document {
                id: Value::from(i),
                text: t.to_string(),
            })
            .collect();
        docs[4].id = Value::from(0);
        let mut b = CorpusBuilder::new(CorpusOptions::default()).unwrap();
        let notices = b.add_documents(&docs).unwrap();
        assert_eq!(
            notices,
            vec![
                Notice::Empty("3".into()),
                Notice::DuplicateId("0".into()),
                Notice::Short("0".into(), 2)
            ]
        );
        let (r, counter) = b.finish().unwrap();
        assert_eq!(
            r.repeated_paragraphs.len(),
            1,
            "{:?}",
            r.repeated_paragraphs
        );
        assert_eq!(
            r.repeated_paragraphs[0].count, 3,
            "{:?}",
            r.repeated_paragraphs
        );
        assert_eq!(*r.repeated_paragraphs[0].documents().unwrap(), [0, 1, 2]);
        assert_eq!(r.repeated_paragraphs[0].text, "Read also: the news.");
        let sk = Sketcher::new(SketchParams::default(), true, 2);
        let key = sk.paragraphs("read also the NEWS")[0].0;
        assert_eq!(counter.count(key), 3);
        assert!(r.pairs.is_empty());
    }

    #[test]
    fn sizes_parse() {
        assert_eq!(parse_size("512M").unwrap(), 512 << 20);
        assert_eq!(parse_size("2GiB").unwrap(), 2 << 30);
        assert_eq!(parse_size("1000").unwrap(), 1000);
        assert_eq!(parse_size("1.5k").unwrap(), 1536);
        assert!(parse_size("12x").is_err());
    }
}
