//! Building blocks over a batch of texts, for frontends that hold their own data (the Python
//! package, a Spark executor): signatures, band keys and compact shingle sets of many texts at
//! once, candidate pairs from band keys, exact verification of given pairs.
//!
//! These are the stages of `deja corpus` called alone (DESIGN §6), with the same hashes: a
//! text's band keys and compact set here are the ones the corpus pipeline computes for it, so
//! candidates and verified pairs found from them are the corpus pipeline's. Texts are
//! borrowed; results are flat row-major buffers in input order, which a frontend hands over as
//! numpy or Arrow arrays without a copy. Work is spread over rayon's threads.
//!
//! ```
//! use deja::batch::{candidate_pairs, verify_pairs, BatchSketcher};
//! use deja::corpus::SketchParams;
//! let text = "the quick brown fox jumps over the lazy dog near the river bank today";
//! let texts = [text, "something else entirely, nothing like the others at all", text];
//! let sk = BatchSketcher::for_threshold(SketchParams::default(), 0.8, 0.95).unwrap();
//! let (keys, sets) = sk.sketch(&texts);
//! let candidates = candidate_pairs(&keys, sk.banding().bands).unwrap();
//! assert_eq!(candidates, vec![(0, 2)]);
//! let pairs = verify_pairs(&candidates, &sets.slices(), 0.8).unwrap();
//! assert_eq!(pairs[0].similarity, 1.0);
//! ```

use crate::corpus::{Scratch, SketchParams, SketchedDoc, Sketcher};
use crate::error::{Error, Result};
use crate::group;
use crate::index::{self, BandTable, Banding};
use crate::verify::{self, ScoredPair};
use rayon::prelude::*;

/// The band key given to every band of a text without words: such a text is nobody's
/// candidate ([`candidate_pairs`] skips the key; a real key is 0 with probability 2⁻⁶⁴).
pub const NO_KEY: u64 = 0;

/// Compact shingle sets of a batch: set `i` is `values[offsets[i]..offsets[i + 1]]`, sorted,
/// without repeats (the layout of an Arrow `large_list<uint32>`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CompactSets {
    /// `n + 1` offsets into `values`, starting at 0.
    pub offsets: Vec<i64>,
    /// All sets' values, one set after the other.
    pub values: Vec<u32>,
}

impl CompactSets {
    /// Number of sets.
    pub fn len(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }

    /// True when there is no set.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Set `i`.
    pub fn get(&self, i: usize) -> &[u32] {
        &self.values[self.offsets[i] as usize..self.offsets[i + 1] as usize]
    }

    /// Every set as a slice, for [`verify_pairs`].
    pub fn slices(&self) -> Vec<&[u32]> {
        (0..self.len()).map(|i| self.get(i)).collect()
    }

    fn from_sets(sets: Vec<Vec<u32>>) -> Self {
        let mut offsets = Vec::with_capacity(sets.len() + 1);
        offsets.push(0);
        let mut values = Vec::with_capacity(sets.iter().map(Vec::len).sum());
        for s in sets {
            values.extend_from_slice(&s);
            offsets.push(values.len() as i64);
        }
        CompactSets { offsets, values }
    }
}

/// Signatures, band keys and compact sets of many texts, with one set of sketch parameters and
/// one banding.
#[derive(Clone)]
pub struct BatchSketcher {
    sketcher: Sketcher,
    params: SketchParams,
    banding: Banding,
}

impl BatchSketcher {
    /// A sketcher for `params` and `banding`; fails on parameters `deja corpus` refuses.
    pub fn new(params: SketchParams, banding: Banding) -> Result<Self> {
        if params.num_perm == 0 || params.k == 0 {
            return Err(Error::Option(
                "--num-perm and --shingle-size must be ≥ 1".into(),
            ));
        }
        let banding = Banding::by_hand(banding.bands, banding.rows, params.num_perm)?;
        Ok(BatchSketcher {
            sketcher: Sketcher::new(params, false, 0),
            params,
            banding,
        })
    }

    /// A sketcher whose banding is chosen from `threshold` and `recall` as `deja corpus`
    /// chooses it ([`Banding::choose`]).
    pub fn for_threshold(params: SketchParams, threshold: f64, recall: f64) -> Result<Self> {
        if params.num_perm == 0 {
            return Self::new(params, Banding { bands: 1, rows: 1 });
        }
        Self::new(params, Banding::choose(threshold, params.num_perm, recall)?)
    }

    /// The sketch parameters.
    pub fn params(&self) -> SketchParams {
        self.params
    }

    /// The banding of [`BatchSketcher::band_keys`].
    pub fn banding(&self) -> Banding {
        self.banding
    }

    fn each<T, R>(&self, texts: &[T], with_set: bool, f: impl Fn(SketchedDoc) -> R + Sync) -> Vec<R>
    where
        T: AsRef<str> + Sync,
        R: Send,
    {
        texts
            .par_iter()
            .map_init(Scratch::default, |scratch, t| {
                f(self
                    .sketcher
                    .sketch_text(scratch, String::new(), t.as_ref(), with_set))
            })
            .collect()
    }

    /// The band keys of one sketched text into `row` ([`NO_KEY`] when it has no words).
    fn keys_into(&self, doc: &SketchedDoc, row: &mut Vec<u64>) {
        if doc.words == 0 {
            row.resize(self.banding.bands, NO_KEY);
        } else {
            self.banding.band_keys(&doc.signature, row);
        }
    }

    /// The signatures of `texts`, row-major: `texts.len() × num_perm` slots.
    pub fn signatures<T: AsRef<str> + Sync>(&self, texts: &[T]) -> Vec<u32> {
        let np = self.params.num_perm;
        let mut out = vec![0u32; texts.len() * np];
        out.par_chunks_mut(np).zip(texts.par_iter()).for_each_init(
            Scratch::default,
            |scratch, (row, t)| {
                let d = self
                    .sketcher
                    .sketch_text(scratch, String::new(), t.as_ref(), false);
                row.copy_from_slice(&d.signature);
            },
        );
        out
    }

    /// The band keys of `texts`, row-major: `texts.len() × bands` keys.
    pub fn band_keys<T: AsRef<str> + Sync>(&self, texts: &[T]) -> Vec<u64> {
        let rows = self.each(texts, false, |d| {
            let mut row = Vec::with_capacity(self.banding.bands);
            self.keys_into(&d, &mut row);
            row
        });
        rows.concat()
    }

    /// The compact shingle sets of `texts` (what exact verification compares).
    pub fn shingle_sets<T: AsRef<str> + Sync>(&self, texts: &[T]) -> CompactSets {
        CompactSets::from_sets(self.each(texts, true, |d| sorted_set(d.set)))
    }

    /// Band keys and compact sets in one pass over the texts.
    pub fn sketch<T: AsRef<str> + Sync>(&self, texts: &[T]) -> (Vec<u64>, CompactSets) {
        let both = self.each(texts, true, |d| {
            let mut row = Vec::with_capacity(self.banding.bands);
            self.keys_into(&d, &mut row);
            (row, sorted_set(d.set))
        });
        let (keys, sets): (Vec<Vec<u64>>, Vec<Vec<u32>>) = both.into_iter().unzip();
        (keys.concat(), CompactSets::from_sets(sets))
    }
}

fn sorted_set(set: Option<Vec<u32>>) -> Vec<u32> {
    let mut set = set.unwrap_or_default();
    verify::make_set(&mut set);
    set
}

/// Candidate pairs `(a, b)`, `a < b`, sorted and without repeats, of the documents whose band
/// keys (row-major, `bands` a row, as [`BatchSketcher::band_keys`] gives them) agree in at
/// least one band. Every bucket is expanded: a bucket of `m` documents gives `m(m−1)/2` pairs
/// (20 k identical texts: 200 M). [`candidates`] hands large buckets back whole instead.
pub fn candidate_pairs(keys: &[u64], bands: usize) -> Result<Vec<(u32, u32)>> {
    Ok(candidates(keys, bands, usize::MAX)?.pairs)
}

/// The candidates of band keys (row-major, `bands` a row): the pairs `(a, b)`, `a < b`, sorted
/// and without repeats, of buckets of at most `max_bucket` documents, and the larger buckets
/// whole (each sorted, each once), for [`join_buckets`] — as `deja corpus` splits them
/// (`--all-pairs` is `max_bucket = usize::MAX`; its default is [`crate::corpus::MAX_BUCKET`]).
pub fn candidates(keys: &[u64], bands: usize, max_bucket: usize) -> Result<index::Candidates> {
    if bands == 0 || !keys.len().is_multiple_of(bands) {
        return Err(Error::Option(format!(
            "band keys: {} keys do not make rows of {bands} bands",
            keys.len()
        )));
    }
    if keys.len() / bands > u32::MAX as usize {
        return Err(Error::Option("more than 2^32 − 1 documents".into()));
    }
    if max_bucket < 2 {
        return Err(Error::Option(format!(
            "max_bucket must be ≥ 2, got {max_bucket}"
        )));
    }
    let mut table = BandTable::new(usize::MAX);
    for (doc, row) in keys.chunks_exact(bands).enumerate() {
        for &k in row.iter().filter(|&&k| k != NO_KEY) {
            // In memory (no budget): pushing cannot spill, so cannot fail.
            table.push(k, doc as u32).map_err(temp_io)?;
        }
    }
    index::candidates(table, max_bucket).map_err(temp_io)
}

/// Joins the documents of each large bucket (sorted input indices, as [`candidates`] gives
/// them) on its own ([`group::join_each_bucket`]): the verified pairs, `a < b`, that join each
/// document to its cluster inside the bucket, about one per document when the bucket is one
/// cluster; identical sets join without a comparison after the first. The pairs may repeat
/// across buckets and with the small buckets' pairs. With those pairs, the clusters are
/// those of verifying every pair of every bucket. `sets` as for [`verify_pairs`].
pub fn join_buckets(
    buckets: &[Vec<u32>],
    sets: &[&[u32]],
    threshold: f64,
) -> Result<Vec<ScoredPair>> {
    check_sets(sets, threshold)?;
    if let Some(&d) = buckets
        .iter()
        .flatten()
        .find(|&&d| d as usize >= sets.len())
    {
        return Err(Error::Option(format!(
            "bucket names document {d}, past the last of {} sets",
            sets.len()
        )));
    }
    if let Some(b) = buckets.iter().find(|b| b.windows(2).any(|w| w[0] >= w[1])) {
        return Err(Error::Option(format!(
            "a bucket is not sorted without repeats: {:?}…",
            &b[..b.len().min(8)]
        )));
    }
    // Buckets are independent: joined in parallel, listed in the given order.
    let per_bucket: Vec<Vec<ScoredPair>> = buckets
        .par_iter()
        .map(|bucket| {
            group::join_each_bucket(
                std::slice::from_ref(bucket),
                |d| group::twin_key(sets[d as usize]),
                |a, b| verify::jaccard_at_least(sets[a as usize], sets[b as usize], threshold),
            )
            .pairs
            .into_iter()
            .map(|(a, b, similarity)| ScoredPair { a, b, similarity })
            .collect()
        })
        .collect();
    Ok(per_bucket.concat())
}

/// The verified pairs of a batch, exactly those `deja corpus` lists for the same texts and
/// settings (`max_bucket` as its `--all-pairs`/default): [`candidates`], [`verify_pairs`] of
/// the small buckets' pairs, [`join_buckets`] of the large ones; sorted by `(a, b)`, without
/// repeats. Also returns how many buckets were over `max_bucket`.
pub fn near_duplicates(
    keys: &[u64],
    bands: usize,
    sets: &[&[u32]],
    threshold: f64,
    max_bucket: usize,
) -> Result<(Vec<ScoredPair>, usize)> {
    let c = candidates(keys, bands, max_bucket)?;
    if keys.len() / bands != sets.len() {
        return Err(Error::Option(format!(
            "{} rows of band keys but {} sets",
            keys.len() / bands,
            sets.len()
        )));
    }
    let mut pairs = verify_pairs(&c.pairs, sets, threshold)?;
    if !c.large_buckets.is_empty() {
        pairs.extend(join_buckets(&c.large_buckets, sets, threshold)?);
        pairs.par_sort_unstable_by_key(|p| (p.a, p.b));
        pairs.dedup_by_key(|p| (p.a, p.b));
    }
    Ok((pairs, c.large_buckets.len()))
}

fn temp_io(e: std::io::Error) -> Error {
    Error::Io {
        path: "(temporary files)".into(),
        source: e,
    }
}

/// The pairs whose exact Jaccard of compact sets is ≥ `threshold`, in the given order, with
/// their similarity. `sets[i]` is document `i`'s set, sorted without repeats (as
/// [`BatchSketcher::shingle_sets`] makes them); a pair naming a missing document or a set that
/// is not sorted is an error.
pub fn verify_pairs(
    pairs: &[(u32, u32)],
    sets: &[&[u32]],
    threshold: f64,
) -> Result<Vec<ScoredPair>> {
    check_sets(sets, threshold)?;
    if let Some(&(a, b)) = pairs
        .iter()
        .find(|&&(a, b)| a.max(b) as usize >= sets.len())
    {
        return Err(Error::Option(format!(
            "pair ({a}, {b}) names a document past the last of {} sets",
            sets.len()
        )));
    }
    Ok(pairs
        .par_iter()
        .filter_map(|&(a, b)| {
            let (sa, sb) = (sets[a as usize], sets[b as usize]);
            verify::jaccard_at_least(sa, sb, threshold).map(|similarity| ScoredPair {
                a,
                b,
                similarity,
            })
        })
        .collect())
}

/// A threshold in [0, 1] and sets sorted without repeats.
fn check_sets(sets: &[&[u32]], threshold: f64) -> Result<()> {
    if !(0.0..=1.0).contains(&threshold) {
        return Err(Error::Option(format!(
            "--threshold must be between 0 and 1, got {threshold}"
        )));
    }
    if let Some(i) = sets
        .par_iter()
        .position_first(|s| s.windows(2).any(|w| w[0] >= w[1]))
    {
        return Err(Error::Option(format!(
            "set {i} is not sorted without repeats (compact sets as shingle_sets makes them)"
        )));
    }
    Ok(())
}

/// Exact Jaccard of two sets of compact hashes (sorted and deduplicated here first).
pub fn jaccard(mut a: Vec<u32>, mut b: Vec<u32>) -> f64 {
    verify::make_set(&mut a);
    verify::make_set(&mut b);
    crate::sketch::jaccard(&a, &b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::corpus::{CorpusBuilder, CorpusOptions, SketchMethod};
    use crate::input::Document;

    fn texts() -> Vec<String> {
        let base: Vec<String> = (0..200).map(|i| format!("w{}", i * 7919 % 1009)).collect();
        let mut out = vec![base.join(" ")];
        for edits in [2usize, 10, 40, 120] {
            let mut e = base.clone();
            for j in 0..edits {
                e[(j * 37) % 200] = format!("x{j}");
            }
            out.push(e.join(" "));
        }
        out.push(String::new());
        out.push("   ...  ".into());
        out.push("short text".into());
        out.push(base.join(" "));
        out
    }

    /// The building blocks give the corpus pipeline's pairs, for both sketches.
    /// What `deja corpus` reports for `texts` (ids 0, 1, …) with `opts`.
    fn corpus_report(texts: &[String], opts: CorpusOptions) -> crate::corpus::CorpusReport {
        let mut b = CorpusBuilder::new(opts).unwrap();
        let docs: Vec<Document> = texts
            .iter()
            .enumerate()
            .map(|(i, t)| Document {
                id: i.into(),
                text: t.clone(),
            })
            .collect();
        b.add_documents(&docs).unwrap();
        b.finish().unwrap().0
    }

    #[test]
    fn blocks_equal_the_corpus_pipeline() {
        let texts = texts();
        for method in [SketchMethod::Oph, SketchMethod::Minhash] {
            let params = SketchParams {
                method,
                ..SketchParams::default()
            };
            let opts = CorpusOptions {
                sketch: params,
                paragraphs: false,
                ..CorpusOptions::default()
            };
            let report = corpus_report(&texts, opts);
            assert!(report.pairs.len() >= 3, "{:?}", report.pairs);

            let sk = BatchSketcher::for_threshold(params, 0.8, 0.95).unwrap();
            assert_eq!(sk.banding(), report.banding);
            let (keys, sets) = sk.sketch(&texts);
            assert_eq!(keys, sk.band_keys(&texts));
            assert_eq!(sets, sk.shingle_sets(&texts));
            assert_eq!(keys.len(), texts.len() * sk.banding().bands);
            assert!(keys[5 * sk.banding().bands..7 * sk.banding().bands]
                .iter()
                .all(|&k| k == NO_KEY));
            let candidates = candidate_pairs(&keys, sk.banding().bands).unwrap();
            assert_eq!(candidates.len(), report.stats.candidates);
            let pairs = verify_pairs(&candidates, &sets.slices(), 0.8).unwrap();
            assert_eq!(pairs, report.pairs);
            // The signatures' banded slots give the same keys.
            let sigs = sk.signatures(&texts);
            let np = params.num_perm;
            let mut row = Vec::new();
            sk.banding().band_keys(&sigs[..np], &mut row);
            assert_eq!(row, keys[..sk.banding().bands]);
        }
    }

    /// With buckets over `max_bucket`, the batch's pairs are still the corpus pipeline's.
    #[test]
    fn large_buckets_give_the_corpus_pipelines_pairs() {
        let mut texts = texts();
        // Copies and edited copies: buckets of many documents.
        let base = texts[0].clone();
        for i in 0..12 {
            texts.push(if i % 3 == 0 {
                base.replacen("w0", &format!("edit{i}"), 1)
            } else {
                base.clone()
            });
        }
        texts.push(texts[4].clone());
        for max_bucket in [2, 3, 5, usize::MAX] {
            let opts = CorpusOptions {
                paragraphs: false,
                max_bucket,
                ..CorpusOptions::default()
            };
            let report = corpus_report(&texts, opts);
            let sk = BatchSketcher::for_threshold(SketchParams::default(), 0.8, 0.95).unwrap();
            let (keys, sets) = sk.sketch(&texts);
            let bands = sk.banding().bands;
            let (pairs, large) =
                near_duplicates(&keys, bands, &sets.slices(), 0.8, max_bucket).unwrap();
            assert_eq!(large, report.stats.large_buckets, "{max_bucket}");
            assert_eq!(pairs, report.pairs, "{max_bucket}");
            assert_eq!(large > 0, max_bucket != usize::MAX, "{max_bucket}");
            let c = candidates(&keys, bands, max_bucket).unwrap();
            assert_eq!(c.large_buckets.len(), large);
            assert!(c.large_buckets.iter().all(|b| b.len() > max_bucket));
        }
    }

    /// 20 k identical texts: one bucket handed back whole (not 200 M pairs), joined with one
    /// comparison per document.
    #[test]
    fn identical_texts_by_the_thousand_stay_linear() {
        let text = texts()[0].clone();
        let texts = vec![text.as_str(); 20_000];
        let sk = BatchSketcher::for_threshold(SketchParams::default(), 0.8, 0.95).unwrap();
        let (keys, sets) = sk.sketch(&texts);
        let bands = sk.banding().bands;
        let c = candidates(&keys, bands, crate::corpus::MAX_BUCKET).unwrap();
        assert!(c.pairs.is_empty());
        assert_eq!(c.large_buckets, vec![(0..20_000).collect::<Vec<u32>>()]);
        let (pairs, large) =
            near_duplicates(&keys, bands, &sets.slices(), 0.8, crate::corpus::MAX_BUCKET).unwrap();
        assert_eq!(large, 1);
        let want: Vec<(u32, u32)> = (1..20_000).map(|b| (0, b)).collect();
        let got: Vec<(u32, u32)> = pairs.iter().map(|p| (p.a, p.b)).collect();
        assert_eq!(got, want);
        assert!(pairs.iter().all(|p| p.similarity == 1.0));
        // Linear: one comparison per document after the first (twins join by their key).
        let sets = sets.slices();
        let joins = group::join_each_bucket(
            &c.large_buckets,
            |d| group::twin_key(sets[d as usize]),
            |a, b| verify::jaccard_at_least(sets[a as usize], sets[b as usize], 0.8),
        );
        assert_eq!(joins.verified, 19_999);
    }

    #[test]
    fn bad_input_is_an_error() {
        let sets = CompactSets::from_sets(vec![vec![1, 2], vec![3, 3]]);
        assert!(verify_pairs(&[(0, 2)], &sets.slices(), 0.5).is_err());
        let err = verify_pairs(&[(0, 1)], &sets.slices(), 0.5).unwrap_err();
        assert!(err.to_string().contains("set 1 is not sorted"), "{err}");
        assert!(verify_pairs(&[], &[], 1.5).is_err());
        assert!(candidate_pairs(&[1, 2, 3], 2).is_err());
        assert!(candidates(&[1, 2], 2, 1).is_err());
        assert!(join_buckets(&[vec![0, 2]], &sets.slices()[..1], 0.5).is_err());
        let ok = CompactSets::from_sets(vec![vec![1, 2], vec![1, 2], vec![3]]);
        assert!(join_buckets(&[vec![1, 0]], &ok.slices(), 0.5).is_err());
        assert_eq!(
            join_buckets(&[vec![0, 1, 2]], &ok.slices(), 0.5).unwrap(),
            vec![ScoredPair {
                a: 0,
                b: 1,
                similarity: 1.0
            }]
        );
        assert!(near_duplicates(&[1, 2], 1, &ok.slices(), 0.5, 2).is_err());
        let p = SketchParams {
            num_perm: 0,
            ..SketchParams::default()
        };
        assert!(BatchSketcher::for_threshold(p, 0.8, 0.95).is_err());
        assert!(
            BatchSketcher::new(SketchParams::default(), Banding { bands: 20, rows: 7 }).is_err()
        );
        assert_eq!(jaccard(vec![3, 1, 2, 2], vec![2, 3, 4]), 0.5);
    }
}
