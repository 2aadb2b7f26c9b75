//! Intra-document findings (`deja doc`): each paragraph against the text before it.
//!
//! Input: a document's text. Output: a [`DocReport`] with its paragraphs and the findings:
//! - `duplicate` / `near_duplicate`: mean Jaccard of word 1-, 2- and k-gram sets with one
//!   earlier paragraph;
//! - `restatement`: a logistic model's probability, over features of what earlier prose
//!   already said of the paragraph (words, word pairs, sentence by sentence, one source or
//!   several), what it adds and where it sits, reaches the threshold.
//!
//! Only prose counts: headings, table rows, code (skipped by `segment`), link lists, bylines,
//! "Read also:"/"Source:" lines and other boilerplate are neither flagged nor used as evidence.
//! Candidate sources come from an inverted index over shingles and features, so long
//! documents stay near-linear: features common to very many paragraphs are not followed.
//!
//! Submodules: `boilerplate` (what is not prose), `recap` (where a paragraph sits),
//! `postings` (the inverted indexes and rarity weights), `features` and `model` (the
//! restatement decision; `weights` is generated), `evidence` (the best sentence of each
//! source), `shared` (the words and phrases a finding shares with a source, for frontends).

use crate::error::{Error, Result};
use crate::segment::{prose, Markup, Prose, Segment, SegmentKind};
use crate::shingle::{fmix64, kgrams, Shingler};
use crate::sketch::jaccard;
use crate::span::Span;
use crate::tokenize::{normalize, words, Analyzer};
use ahash::AHashMap;
use rayon::prelude::*;
use serde::Serialize;
use serde_json::Value;

mod boilerplate;
mod evidence;
mod features;
mod model;
mod postings;
mod recap;
pub mod shared;
mod weights;

use boilerplate::{is_boilerplate, is_emphasis_heading, is_sign_off, link_ranges, within};
use evidence::SentenceFeatures;
use features::{
    add_neighbourhood, add_sources, deferred, judge, Document, Features, Judged, SentenceSets,
};
use postings::{Postings, Weights};
use recap::places;

pub use features::NAMES as FEATURE_NAMES;
pub use shared::{shared_words, SharedWords, Words};

/// Options of the intra-document analysis.
#[derive(Clone, Debug)]
pub struct DocOptions {
    /// Word shingle size for (near-)duplicate detection.
    pub shingle_size: usize,
    /// Similarity (mean Jaccard of word 1-, 2-, k-grams) at or above which a paragraph is a
    /// `duplicate`.
    pub duplicate_threshold: f64,
    /// Similarity (mean Jaccard of word 1-, 2-, k-grams) at or above which a paragraph is a
    /// `near_duplicate`.
    pub near_duplicate_threshold: f64,
    /// Probability (of the restatement model) at or above which a paragraph is a
    /// `restatement`.
    pub restatement_threshold: f64,
    /// Distinct content words a paragraph needs before it can be judged at all.
    pub min_content_words: usize,
    /// Language of stopwords and stemming.
    pub language: String,
    /// Most sources listed per finding.
    pub max_sources: usize,
    /// Attach to each restatement the features and contributions that decided it, and list
    /// the near misses: paragraphs whose probability is at least `near_miss`.
    pub explain: bool,
    /// Probability from which a paragraph that is not a finding is a near miss (`explain`).
    pub near_miss: f64,
}

impl Default for DocOptions {
    fn default() -> Self {
        DocOptions {
            shingle_size: 3,
            duplicate_threshold: 0.9,
            near_duplicate_threshold: 0.5,
            restatement_threshold: model::THRESHOLD,
            min_content_words: 4,
            language: "english".into(),
            max_sources: 5,
            explain: false,
            near_miss: model::THRESHOLD / 2.0,
        }
    }
}

impl DocOptions {
    /// The near-miss floor when none is given: half the restatement threshold.
    pub fn default_near_miss(restatement_threshold: f64) -> f64 {
        restatement_threshold / 2.0
    }

    /// Checks that every probability and similarity is in [0, 1]; errors name the CLI flag.
    pub fn validate(&self) -> Result<()> {
        for (name, v) in [
            ("threshold", self.restatement_threshold),
            ("near-duplicate-threshold", self.near_duplicate_threshold),
            ("duplicate-threshold", self.duplicate_threshold),
            ("near-miss", self.near_miss),
        ] {
            if !(0.0..=1.0).contains(&v) {
                return Err(Error::Option(format!(
                    "--{name} must be between 0 and 1, got {v}"
                )));
            }
        }
        Ok(())
    }
}

/// Kind of redundancy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    /// Repeats an earlier paragraph.
    Duplicate,
    /// An edited copy of an earlier paragraph.
    NearDuplicate,
    /// Says again, in other words, what earlier paragraphs said.
    Restatement,
}

impl FindingKind {
    /// The snake_case name used in reports and configs.
    pub fn as_str(self) -> &'static str {
        match self {
            FindingKind::Duplicate => "duplicate",
            FindingKind::NearDuplicate => "near_duplicate",
            FindingKind::Restatement => "restatement",
        }
    }
}

/// A paragraph of the document.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Paragraph {
    /// 0-based index in the document.
    pub index: usize,
    /// Byte span.
    #[serde(flatten)]
    pub span: Span,
    /// 1-based line.
    pub line: usize,
    /// Structural kind.
    pub kind: SegmentKind,
}

/// The best-matching sentence inside a source paragraph.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SentenceRef {
    /// Byte span.
    #[serde(flatten)]
    pub span: Span,
    /// 1-based line.
    pub line: usize,
}

/// Earlier text a finding repeats.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Evidence {
    /// Index of the earlier paragraph.
    pub paragraph: usize,
    /// Its byte span.
    #[serde(flatten)]
    pub span: Span,
    /// Its 1-based line.
    pub line: usize,
    /// Share of the finding's (weighted) content this paragraph covers, or the Jaccard.
    pub score: f64,
    /// The sentence of the source that covers the most.
    pub sentence: Option<SentenceRef>,
}

/// A redundant paragraph.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Finding {
    /// Kind of redundancy.
    pub kind: FindingKind,
    /// Index of the redundant paragraph.
    pub paragraph: usize,
    /// Its byte span.
    #[serde(flatten)]
    pub span: Span,
    /// Its 1-based line.
    pub line: usize,
    /// Similarity (duplicates) or the restatement model's probability, in [0, 1].
    pub score: f64,
    /// The earlier paragraphs it repeats, best first.
    pub sources: Vec<Evidence>,
    /// What decided a restatement (with `explain`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explain: Option<Explanation>,
}

/// The features of a paragraph judged for restatement and what each added to its score.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Explanation {
    /// The model's probability that the paragraph is a restatement.
    pub probability: f64,
    /// Every feature, in model order.
    pub features: Vec<FeatureValue>,
}

/// One feature of an [`Explanation`].
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FeatureValue {
    /// Its name (see [`FEATURE_NAMES`]).
    pub name: &'static str,
    /// Its value for this paragraph.
    pub value: f64,
    /// What it added to the model's log-odds.
    pub contribution: f64,
}

/// A paragraph judged for restatement that scored under the threshold but not far under it
/// (with `explain`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NearMiss {
    /// Index of the paragraph.
    pub paragraph: usize,
    /// Its byte span.
    #[serde(flatten)]
    pub span: Span,
    /// Its 1-based line.
    pub line: usize,
    /// Its best sources, as a finding's would be.
    pub sources: Vec<Evidence>,
    /// Its features and probability.
    pub explain: Explanation,
}

/// Everything `deja doc` reports about one document.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DocReport {
    /// The document's id (its path, `-`, or a JSONL id).
    pub id: Value,
    /// Length of the text in bytes.
    pub bytes: usize,
    /// Its paragraphs, in order.
    pub paragraphs: Vec<Paragraph>,
    /// Its redundant paragraphs, in document order.
    pub findings: Vec<Finding>,
    /// With `explain`: the paragraphs that nearly were restatements, in document order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub near_misses: Vec<NearMiss>,
}

impl DocReport {
    /// `text` (the text this report is of) without its redundant paragraphs (`--strip`):
    /// each is removed with its indentation, its line ending and the blank lines after it
    /// ([`crate::segment::removal_span`]); every other byte is kept.
    pub fn stripped(&self, text: &str) -> String {
        let mut kept = String::with_capacity(text.len());
        let mut pos = 0;
        for f in &self.findings {
            let cut = crate::segment::removal_span(text, f.span);
            kept.push_str(&text[pos.min(cut.start)..cut.start]);
            pos = cut.end.max(pos);
        }
        kept.push_str(&text[pos.min(text.len())..]);
        kept
    }
}

/// What part a segment plays in the analysis.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    /// Running text: can be flagged and can be evidence.
    Prose,
    /// Headings, table rows, link lists, credits: neither flagged nor evidence.
    Other,
}

/// A segment with the features the analysis needs.
struct Unit {
    seg: Segment,
    role: Role,
    /// Sorted, deduplicated hashes of words, word pairs and word k-grams (k = shingle size).
    words: [Vec<u64>; 3],
    /// Content-word stem hashes with the words' starts, in order, link words included (as in
    /// the paragraph's sentences, which evidence cites); empty unless prose.
    all_stems: Vec<(usize, u64)>,
    /// Sorted, deduplicated content-word unigram hashes.
    unigrams: Vec<u64>,
    /// Sorted, deduplicated content-word bigram hashes.
    bigrams: Vec<u64>,
    /// A lead-in line ("... the following:") has no content of its own.
    lead_in: bool,
    /// First item of the list this unit belongs to (its own index when not a list item).
    list_start: usize,
    /// A question or a closing formula ("We hope ...", "Thanks ..."): it asks or takes
    /// leave; it does not restate.
    sign_off: bool,
    /// Sorted, deduplicated stem hashes of its names and numbers (capitalised inside a
    /// sentence, with digits or inner capitals), links excluded.
    specifics: Vec<u64>,
    /// Content words inside links and URLs.
    link_words: usize,
}

/// Segments read by one task: a long document is read in parallel, a short one in one go
/// (documents themselves are analysed in parallel).
const PARALLEL_CHUNK: usize = 1024;

/// What became of one judged paragraph.
enum Decision {
    Finding(Finding),
    NearMiss(NearMiss),
    Neither,
}

/// Features followed in the inverted index only while this rare: common words are not
/// evidence, and skipping them keeps long documents near-linear.
const MAX_POSTINGS: usize = 64;

/// Analyses documents for intra-document redundancy.
pub struct DocAnalyzer {
    opts: DocOptions,
    analyzer: Analyzer,
    shingler: Shingler,
    /// Caches of content-word stems, kept from one document to the next (a docs tree shares
    /// its vocabulary across files): each task takes one and gives it back.
    stem_caches: std::sync::Mutex<Vec<ContentHasher>>,
}

impl DocAnalyzer {
    /// An analyzer with `opts` (fails on an unknown language or a value out of range).
    pub fn new(opts: DocOptions) -> Result<Self> {
        opts.validate()?;
        Ok(DocAnalyzer {
            analyzer: Analyzer::new(&opts.language)?,
            shingler: Shingler::new(opts.shingle_size),
            stem_caches: std::sync::Mutex::new(Vec::new()),
            opts,
        })
    }

    /// A stem cache from the pool (a fresh one when none is free); it goes back when dropped.
    fn content_hasher(&self) -> PooledHasher<'_> {
        let cached = self.stem_caches.lock().ok().and_then(|mut p| p.pop());
        PooledHasher {
            pool: &self.stem_caches,
            hasher: cached.unwrap_or_default(),
        }
    }

    /// The report of one document, read as Markdown.
    pub fn analyze(&self, id: Value, text: &str) -> DocReport {
        self.analyze_prose(id, &prose(text, Markup::Markdown))
    }

    /// The report of one document as `segment` read it in its markup ([`prose`]): words come
    /// from the blanked text, spans point into the original.
    pub fn analyze_prose(&self, id: Value, doc: &Prose) -> DocReport {
        self.analyze_prose_where(id, doc, &|_, _, _| true)
    }

    /// [`DocAnalyzer::analyze_prose`], reporting only the findings that `wanted` accepts (it
    /// is given the kind, the paragraph's index and its span): the others are not looked
    /// into further — a restatement's sources, a finding's evidence sentences — which is
    /// most of the work on a long text whose short paragraphs a caller would drop anyway.
    /// Everything else (paragraphs, the other findings, near misses) is as `analyze_prose`
    /// reports it, since paragraphs are judged against the whole document either way.
    pub fn analyze_prose_where(
        &self,
        id: Value,
        doc: &Prose,
        wanted: &(dyn Fn(FindingKind, usize, Span) -> bool + Sync),
    ) -> DocReport {
        let text: &str = &doc.text;
        let units = self.units(text, &doc.segments);
        let (findings, near_misses) = self.find(text, &units, wanted);
        DocReport {
            id,
            bytes: text.len(),
            paragraphs: units
                .iter()
                .enumerate()
                .map(|(index, u)| Paragraph {
                    index,
                    span: u.seg.span,
                    line: u.seg.line,
                    kind: u.seg.kind,
                })
                .collect(),
            findings,
            near_misses,
        }
    }

    /// The units of a document: each segment read on its own (in parallel), then what runs
    /// across segments (a boilerplate lead-in's list, where each list starts).
    fn units(&self, text: &str, segments: &[Segment]) -> Vec<Unit> {
        // In chunks: each with its own cache of stems, which must see many words to pay.
        let read: Vec<(Unit, bool)> = segments
            .par_chunks(PARALLEL_CHUNK)
            .flat_map_iter(|chunk| {
                let mut content = self.content_hasher();
                chunk
                    .iter()
                    .map(|seg| self.unit(text, seg.clone(), &mut content))
                    .collect::<Vec<_>>()
            })
            .collect();
        let mut units: Vec<Unit> = Vec::with_capacity(read.len());
        let mut in_boilerplate_list = false;
        for (mut unit, boiler) in read {
            if unit.seg.kind != SegmentKind::ListItem {
                in_boilerplate_list = boiler && unit.lead_in;
            } else if in_boilerplate_list && unit.role == Role::Prose {
                unit.role = Role::Other;
                unit.words = Default::default();
                unit.all_stems = Vec::new();
            }
            unit.list_start = match units.last() {
                Some(prev)
                    if unit.seg.kind == SegmentKind::ListItem
                        && prev.seg.kind == SegmentKind::ListItem =>
                {
                    prev.list_start
                }
                _ => units.len(),
            };
            units.push(unit);
        }
        units
    }

    /// One segment's unit, and whether it is boilerplate (the items of a boilerplate lead-in
    /// are not prose either; [`DocAnalyzer::units`] decides that).
    fn unit(&self, text: &str, mut seg: Segment, content: &mut ContentHasher) -> (Unit, bool) {
        let body = seg.span.slice(text);
        if seg.kind == SegmentKind::Paragraph && is_emphasis_heading(body) {
            seg.kind = SegmentKind::Heading;
        }
        let links = link_ranges(body, seg.span.start);
        let mut word_hashes = Vec::new();
        let all_stems = content.hashes_and_words(self, text, seg.span, Some(&mut word_hashes));
        let stems: Vec<(Span, u64)> = all_stems
            .iter()
            .copied()
            .filter(|(s, _)| !within(&links, *s))
            .collect();
        let boiler = is_boilerplate(body, &seg, &stems);
        let role = match seg.kind {
            SegmentKind::Heading | SegmentKind::TableRow => Role::Other,
            _ if boiler || stems.is_empty() => Role::Other,
            _ => Role::Prose,
        };
        let hashes: Vec<u64> = stems.iter().map(|&(_, h)| h).collect();
        let mut specifics: Vec<u64> = stems
            .iter()
            .filter(|&&(s, _)| is_specific(text, seg.span.start, s))
            .map(|&(_, h)| h)
            .collect();
        specifics.sort_unstable();
        specifics.dedup();
        let link_words = all_stems.len() - stems.len();
        let mut unigrams = hashes.clone();
        unigrams.sort_unstable();
        unigrams.dedup();
        let mut bigrams: Vec<u64> = pair_hashes(&hashes).collect();
        bigrams.sort_unstable();
        bigrams.dedup();
        // Only prose is compared or cited; other units need no word sets or stems.
        let (words, all_stems) = if role == Role::Prose {
            let starts = all_stems.iter().map(|&(s, h)| (s.start, h)).collect();
            (self.word_sets(&word_hashes), starts)
        } else {
            Default::default()
        };
        let unit = Unit {
            lead_in: body.trim_end().ends_with(':'),
            specifics,
            link_words,
            list_start: 0,
            sign_off: is_sign_off(body, text, seg.span),
            seg,
            role,
            words,
            all_stems,
            unigrams,
            bigrams,
        };
        (unit, boiler)
    }

    fn find(
        &self,
        text: &str,
        units: &[Unit],
        wanted: &(dyn Fn(FindingKind, usize, Span) -> bool + Sync),
    ) -> (Vec<Finding>, Vec<NearMiss>) {
        let (mut shingle_postings, pair_ids) = Postings::new(units, |u| [&u.words[1], &[]]);
        let (mut feature_postings, feature_ids) =
            Postings::new(units, |u| [&u.unigrams, &u.bigrams]);
        let weights = Weights::new(units, &feature_postings);
        let places = places(text, units);
        let mut prose_rank = vec![0; units.len()];
        let mut prose = 0;
        let mut intro_end = units.len();
        for (k, u) in units.iter().enumerate() {
            if u.role == Role::Prose {
                prose_rank[k] = prose;
                prose += 1;
                if prose == INTRO_PARAGRAPHS + 1 {
                    intro_end = k;
                }
            }
        }
        let mut shared_pairs = SharedPairs::new(units);
        let mut prose_before: Vec<usize> = Vec::new();
        let mut findings = Vec::new();
        // Paragraphs judged for restatement: decided once all are known, since a paragraph
        // is read against the rest of its section and its document.
        let mut judged: Vec<(usize, Judged)> = Vec::new();
        let doc = Document {
            text,
            units,
            places: &places,
            weights: &weights,
            prose_rank: &prose_rank,
            prose,
            intro_end,
        };
        for (j, unit) in units.iter().enumerate() {
            if unit.role != Role::Prose {
                continue;
            }
            // A `deja-ignore` marker suppresses the paragraph's own finding, not its evidence.
            let judge_it = unit.unigrams.len() >= self.opts.min_content_words && !unit.lead_in;
            if judge_it && !unit.seg.suppressed {
                let cutoff = self.context_start(j, units, &prose_before);
                let copy = self.find_duplicate(
                    j,
                    cutoff,
                    units,
                    &shingle_postings,
                    pair_ids.of(j),
                    &mut shared_pairs,
                );
                match copy {
                    // Not judged for restatement either way.
                    Some(f) if wanted(f.kind, j, f.span) => findings.push(f),
                    Some(_) => {}
                    None => judged.push((
                        j,
                        judge(&doc, &feature_postings, j, cutoff, feature_ids.of(j)),
                    )),
                }
            }
            shingle_postings.add(pair_ids.of(j), j);
            feature_postings.add(feature_ids.of(j), j);
            prose_before.push(j);
        }
        add_neighbourhood(&mut judged, &places);
        // Sources are looked up only where they could lift a paragraph to the threshold (or to
        // a near miss): most paragraphs of a long text fall short without them.
        let floor = if self.opts.explain {
            self.opts.near_miss.min(self.opts.restatement_threshold)
        } else {
            self.opts.restatement_threshold
        };
        // Each judged paragraph is decided on its own: in parallel, each thread with its
        // own cache of sentence sets.
        let decided: Vec<Decision> = judged
            .into_par_iter()
            .with_min_len(PARALLEL_CHUNK / 16)
            .map_init(SentenceSets::default, |sentence_sets, (j, mut judged)| {
                if !wanted(FindingKind::Restatement, j, units[j].seg.span)
                    || model::probability_bound(&judged.features, &deferred(&doc, j, &judged))
                        < floor
                {
                    return Decision::Neither;
                }
                add_sources(
                    &doc,
                    &feature_postings,
                    sentence_sets,
                    j,
                    feature_ids.of(j),
                    &mut judged,
                );
                let unit = &units[j];
                let explanation = explain(&judged.features);
                let p = explanation.probability;
                let sources: Vec<Evidence> = judged
                    .sources
                    .iter()
                    .filter(|&&(c, _)| c >= MIN_EVIDENCE_COVER)
                    .take(self.opts.max_sources)
                    .map(|&(c, i)| evidence(units, i, c))
                    .collect();
                // A finding must show the earlier text it restates.
                if p >= self.opts.restatement_threshold && !sources.is_empty() {
                    let mut f = finding(FindingKind::Restatement, unit, j, p, sources);
                    f.explain = self.opts.explain.then_some(explanation);
                    Decision::Finding(f)
                } else if self.opts.explain && p >= self.opts.near_miss {
                    Decision::NearMiss(NearMiss {
                        paragraph: j,
                        span: unit.seg.span,
                        line: unit.seg.line,
                        sources,
                        explain: explanation,
                    })
                } else {
                    Decision::Neither
                }
            })
            .collect();
        let mut near_misses = Vec::new();
        for d in decided {
            match d {
                Decision::Finding(f) => findings.push(f),
                Decision::NearMiss(m) => near_misses.push(m),
                Decision::Neither => {}
            }
        }
        findings.sort_by_key(|f| f.paragraph);
        // The best sentence of each source, finding by finding.
        findings
            .par_iter_mut()
            .with_min_len(PARALLEL_CHUNK / 64)
            .for_each_init(
                || (SentenceFeatures::default(), self.content_hasher()),
                |(sentence_features, content), f| {
                    for src in &mut f.sources {
                        src.sentence = sentence_features.best(
                            self,
                            content,
                            text,
                            units,
                            f.paragraph,
                            src.paragraph,
                        );
                    }
                },
            );
        (findings, near_misses)
    }

    /// Start of paragraph j's immediate context: the prose paragraph just before it and the
    /// earlier items of its own list. Saying again what the context said is elaboration or
    /// parallel structure, not restatement, so the context is not evidence.
    fn context_start(&self, j: usize, units: &[Unit], prose_before: &[usize]) -> usize {
        prose_before
            .last()
            .copied()
            .unwrap_or(j)
            .min(units[j].list_start)
    }

    /// Word 1-gram, 2-gram and k-gram sets of a span's word hashes: edited copies keep most
    /// of all three.
    fn word_sets(&self, hashes: &[u64]) -> [Vec<u64>; 3] {
        let set = |k: usize| {
            let mut v = Vec::with_capacity(hashes.len());
            kgrams(hashes, k, 0, &mut v);
            v.sort_unstable();
            v.dedup();
            v
        };
        [set(1), set(2), set(self.opts.shingle_size)]
    }

    /// The earlier paragraphs paragraph j copies, by [`similarity`].
    fn find_duplicate(
        &self,
        j: usize,
        cutoff: usize,
        units: &[Unit],
        postings: &Postings,
        pairs: &[u32],
        shared: &mut SharedPairs,
    ) -> Option<Finding> {
        let p = &units[j];
        // Shared word pairs per earlier paragraph: edited copies keep at least a quarter of
        // their pairs, so only paragraphs sharing that many are compared in full.
        // Pairs too common to follow are left out of both counts.
        let mut followed = 0;
        for &id in pairs {
            let list = postings.so_far(id);
            if list.len() > MAX_POSTINGS {
                continue;
            }
            list.iter().for_each(|&i| shared.add(i as usize));
            followed += 1;
        }
        let unfollowed = pairs.len() - followed;
        // Within its context (a sibling list item, the paragraph before) only an exact
        // repeat counts: similar neighbours are parallel structure, not copies.
        // List items share their template with other items, so they need more.
        let near = self.opts.near_duplicate_threshold
            + if p.seg.kind == SegmentKind::ListItem {
                LIST_ITEM_MARGIN
            } else {
                0.0
            };
        let passes = |sim: f64, i: usize| {
            sim >= self.opts.duplicate_threshold || (sim >= near && i < cutoff)
        };
        let mut best: Vec<(f64, usize)> = shared
            .drain()
            .filter(|&(_, inter, pairs)| inter * 4 >= followed.min(pairs))
            // Most candidates of a much-repeated text fall short; the bound, from set sizes
            // and the pairs counted above, rules them out without merging their sets.
            .filter(|&(i, inter, _)| passes(similarity_bound(p, &units[i], inter + unfollowed), i))
            .map(|(i, ..)| (similarity(p, &units[i]), i))
            .filter(|&(sim, i)| passes(sim, i))
            .collect();
        best.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        let &(score, _) = best.first()?;
        let kind = if score >= self.opts.duplicate_threshold {
            FindingKind::Duplicate
        } else {
            FindingKind::NearDuplicate
        };
        let sources = best
            .iter()
            .take(self.opts.max_sources)
            .map(|&(s, i)| evidence(units, i, s))
            .collect();
        Some(finding(kind, p, j, score, sources))
    }
}

/// Similarity of two paragraphs' word sets: the mean Jaccard of word 1-, 2- and k-grams, so
/// word edits lower it gently and reordering strongly.
fn similarity(p: &Unit, q: &Unit) -> f64 {
    (0..3)
        .map(|n| jaccard(&p.words[n], &q.words[n]))
        .sum::<f64>()
        / 3.0
}

/// An upper bound of [`similarity`] when the paragraphs share at most `pairs` word pairs:
/// each Jaccard is at most the one of the largest intersection the set sizes allow. It is
/// summed in the same order, so rounding keeps it at or above the exact value.
fn similarity_bound(p: &Unit, q: &Unit, pairs: usize) -> f64 {
    let most = [usize::MAX, pairs, usize::MAX];
    (0..3)
        .map(|n| jaccard_bound(p.words[n].len(), q.words[n].len(), most[n]))
        .sum::<f64>()
        / 3.0
}

/// The Jaccard of sets of `a` and `b` elements sharing `at_most` of them (or as many as fit).
fn jaccard_bound(a: usize, b: usize, at_most: usize) -> f64 {
    let inter = at_most.min(a).min(b);
    let union = a + b - inter;
    if union == 0 {
        0.0
    } else {
        inter as f64 / union as f64
    }
}

/// For each earlier paragraph, the word pairs it shares with the current one, kept beside
/// its number of pairs: candidates are filtered on both, and most paragraphs touched are
/// filtered out, so side by side the two cost one cache miss instead of two. Reused from one
/// paragraph to the next; clearing only the touched entries keeps each use proportional to
/// its own work.
struct SharedPairs {
    /// `[shared, pairs]` per paragraph (far fewer than 2^32 each).
    slots: Vec<[u32; 2]>,
    touched: Vec<usize>,
}

impl SharedPairs {
    fn new(units: &[Unit]) -> Self {
        let pairs = |u: &Unit| u32::try_from(u.words[1].len()).unwrap_or(u32::MAX);
        SharedPairs {
            slots: units.iter().map(|u| [0, pairs(u)]).collect(),
            touched: Vec::new(),
        }
    }

    /// Counts one more pair shared with paragraph `i`.
    fn add(&mut self, i: usize) {
        let shared = &mut self.slots[i][0];
        if *shared == 0 {
            self.touched.push(i);
        }
        *shared += 1;
    }

    /// `(paragraph, shared pairs, its pairs)` for every paragraph sharing any, in order of
    /// first increment; nothing is shared afterwards.
    fn drain(&mut self) -> impl Iterator<Item = (usize, usize, usize)> + '_ {
        let slots = &mut self.slots;
        self.touched.drain(..).map(|i| {
            let shared = std::mem::take(&mut slots[i][0]);
            (i, shared as usize, slots[i][1] as usize)
        })
    }
}

/// Share of a restatement an earlier paragraph must cover to be listed as evidence.
const MIN_EVIDENCE_COVER: f64 = 0.05;

/// Extra near-duplicate similarity a list item needs.
const LIST_ITEM_MARGIN: f64 = 0.1;

/// Prose paragraphs that make up a text's introduction (its thesis, which recaps repeat).
const INTRO_PARAGRAPHS: usize = 2;

/// The model's probability for `features`, with what each feature contributed.
fn explain(features: &Features) -> Explanation {
    let (probability, contributions) = model::probability(features);
    Explanation {
        probability,
        features: FEATURE_NAMES
            .iter()
            .zip(&features.0)
            .zip(contributions)
            .map(|((&name, &value), contribution)| FeatureValue {
                name,
                value,
                contribution,
            })
            .collect(),
    }
}

/// True when the word at `word` is a name or a number: it has a digit or a capital inside,
/// or starts with a capital and does not start a sentence (paragraph start, after `.!?:`).
fn is_specific(text: &str, paragraph_start: usize, word: Span) -> bool {
    let w = word.slice(text);
    let mut chars = w.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    if w.chars().any(|c| c.is_ascii_digit()) || chars.any(char::is_uppercase) {
        return true;
    }
    if !first.is_uppercase() {
        return false;
    }
    let before = text[paragraph_start..word.start].trim_end_matches(|c: char| {
        c.is_whitespace() || matches!(c, '"' | '\'' | '*' | '_' | '(' | '[' | '`' | '“' | '‘')
    });
    !(before.is_empty() || before.ends_with(['.', '!', '?', ':', '-', '#', '>', '•']))
}

fn finding(kind: FindingKind, p: &Unit, j: usize, score: f64, sources: Vec<Evidence>) -> Finding {
    Finding {
        kind,
        paragraph: j,
        span: p.seg.span,
        line: p.seg.line,
        score: round3(score),
        sources,
        explain: None,
    }
}

fn evidence(units: &[Unit], i: usize, score: f64) -> Evidence {
    Evidence {
        paragraph: i,
        span: units[i].seg.span,
        line: units[i].seg.line,
        score: round3(score),
        sentence: None,
    }
}

/// Content-word stem hashes of spans, memoized per normalized word: a document repeats its
/// vocabulary many times, and Snowball stemming is the costliest step per word.
#[derive(Default)]
struct ContentHasher {
    stems: AHashMap<String, Option<u64>>,
    buf: String,
}

/// Words a pooled stem cache holds at most when it goes back to the pool (~10 MB): past
/// that it starts again empty, so that a long-running process over an endless vocabulary
/// stays bounded.
const STEM_CACHE_WORDS: usize = 1 << 17;

/// A [`ContentHasher`] taken from a [`DocAnalyzer`]'s pool, returned to it on drop.
struct PooledHasher<'a> {
    pool: &'a std::sync::Mutex<Vec<ContentHasher>>,
    hasher: ContentHasher,
}

impl std::ops::Deref for PooledHasher<'_> {
    type Target = ContentHasher;
    fn deref(&self) -> &ContentHasher {
        &self.hasher
    }
}

impl std::ops::DerefMut for PooledHasher<'_> {
    fn deref_mut(&mut self) -> &mut ContentHasher {
        &mut self.hasher
    }
}

impl Drop for PooledHasher<'_> {
    fn drop(&mut self) {
        let mut hasher = std::mem::take(&mut self.hasher);
        if hasher.stems.len() > STEM_CACHE_WORDS {
            hasher.stems = AHashMap::new();
        }
        if let Ok(mut pool) = self.pool.lock() {
            pool.push(hasher);
        }
    }
}

impl ContentHasher {
    /// The content words of `text[span]` (stopwords dropped) as stem hashes, with their spans.
    fn hashes(&mut self, doc: &DocAnalyzer, text: &str, span: Span) -> Vec<(Span, u64)> {
        self.hashes_and_words(doc, text, span, None)
    }

    /// [`ContentHasher::hashes`], also appending the hash of every word to `all_words` (when
    /// given), as [`Shingler::word_hashes`] does (doc mode splits words by UAX #29): one pass
    /// for both.
    fn hashes_and_words(
        &mut self,
        doc: &DocAnalyzer,
        text: &str,
        span: Span,
        mut all_words: Option<&mut Vec<u64>>,
    ) -> Vec<(Span, u64)> {
        let mut out = Vec::new();
        words(text, span, |s, w| {
            normalize(w, &mut self.buf);
            if let Some(all) = all_words.as_deref_mut() {
                all.push(doc.shingler.hash_word(&self.buf));
            }
            let stem = match self.stems.get(self.buf.as_str()) {
                Some(&cached) => cached,
                None => {
                    let h = doc
                        .analyzer
                        .content_stem(&self.buf)
                        .map(|stem| doc.shingler.hash_word(&stem));
                    self.stems.insert(self.buf.clone(), h);
                    h
                }
            };
            if let Some(h) = stem {
                out.push((s, h));
            }
        });
        out
    }
}

/// Hashes of adjacent content-word pairs, given the content words' hashes in order.
fn pair_hashes(hashes: &[u64]) -> impl Iterator<Item = u64> + '_ {
    hashes
        .windows(2)
        .map(|w| fmix64(w[0].rotate_left(17) ^ w[1]))
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn analyze(text: &str) -> DocReport {
        DocAnalyzer::new(DocOptions::default())
            .unwrap()
            .analyze(Value::from("t"), text)
    }

    #[test]
    fn exact_repeat_is_a_duplicate_with_its_source() {
        let p =
            "The committee approved the new budget for the harbour district after a long debate.";
        let text = format!(
            "{p}\n\nSomething else entirely happened in the mountains yesterday evening.\n\n{p}\n"
        );
        let r = analyze(&text);
        assert_eq!(r.findings.len(), 1);
        let f = &r.findings[0];
        assert_eq!(
            (f.kind, f.paragraph, f.score),
            (FindingKind::Duplicate, 2, 1.0)
        );
        assert_eq!(f.sources[0].paragraph, 0);
        assert_eq!(f.span.slice(&text), p);
    }

    #[test]
    fn edited_copy_is_a_near_duplicate() {
        let text = "The committee approved the new budget for the harbour district after a long debate on Monday.\n\n\
                    Unrelated words about gardening, roses and tulips in spring.\n\n\
                    The committee approved the new budget for the harbour district after a long debate on Tuesday.\n";
        let r = analyze(text);
        assert_eq!(r.findings.len(), 1);
        assert_eq!(r.findings[0].kind, FindingKind::NearDuplicate);
    }

    /// Three paragraphs of news and a closing recap of the first two.
    const VOLCANO_RECAP: &str = "Volcanic ash grounded flights across northern Europe for three days.\n\n\
        Airlines lost millions while stranded passengers slept in terminals.\n\n\
        Engineers later tested engines against ash concentration limits.\n\n\
        In short, volcanic ash grounded European flights, airlines lost millions and stranded passengers slept in terminals.\n";

    #[test]
    fn recap_is_a_restatement_and_new_text_is_not() {
        let text = VOLCANO_RECAP;
        let r = analyze(text);
        assert_eq!(r.findings.len(), 1, "{:?}", r.findings);
        let f = &r.findings[0];
        assert_eq!((f.kind, f.paragraph), (FindingKind::Restatement, 3));
        let sources: Vec<_> = f.sources.iter().map(|s| s.paragraph).collect();
        assert!(sources.contains(&0) && sources.contains(&1), "{sources:?}");
        assert!(f.sources[0].sentence.is_some());
    }

    /// The restatement probability of every judged paragraph, by index.
    fn probabilities(text: &str) -> Vec<(usize, f64)> {
        let r = explained(text);
        let mut all: Vec<(usize, f64)> = r
            .findings
            .iter()
            .filter_map(|f| Some((f.paragraph, f.explain.as_ref()?.probability)))
            .chain(
                r.near_misses
                    .iter()
                    .map(|m| (m.paragraph, m.explain.probability)),
            )
            .collect();
        all.sort_by_key(|a| a.0);
        all
    }

    /// The report with every judged paragraph explained.
    fn explained(text: &str) -> DocReport {
        let opts = DocOptions {
            explain: true,
            near_miss: 0.0,
            ..DocOptions::default()
        };
        DocAnalyzer::new(opts)
            .unwrap()
            .analyze(Value::from("t"), text)
    }

    #[test]
    fn a_summary_heading_is_evidence_and_a_topical_one_is_not() {
        let body = "Volcanic ash grounded flights across northern Europe for three days.\n\n\
                    Airlines lost millions while stranded passengers slept in terminals.\n\n\
                    Engineers later tested engines against ash concentration limits.\n\n\
                    Regulators published new rules for flying near eruptions.\n\n";
        let closing = "Volcanic ash grounded flights, so passengers slept in terminals and airlines lost millions.\n";
        let last = |heading: &str| {
            let p = probabilities(&format!("{body}## {heading}\n\n{closing}"));
            p.last().unwrap().1
        };
        assert!(
            last("Summary") > last("Release timing") + 0.05,
            "{} {}",
            last("Summary"),
            last("Release timing")
        );
        // A heading alone decides nothing: the same heading over new content scores low.
        let new = "Ferry operators in Norway ordered three electric ships from a Finnish yard.\n";
        let p = probabilities(&format!("{body}## Summary\n\n{new}"));
        assert!(p.last().unwrap().1 < DocOptions::default().restatement_threshold);
    }

    #[test]
    fn explanations_add_up_and_near_misses_are_listed() {
        let text = VOLCANO_RECAP;
        let r = explained(text);
        assert_eq!(r.findings.len(), 1);
        let e = r.findings[0].explain.as_ref().unwrap();
        assert_eq!(e.features.len(), FEATURE_NAMES.len());
        let z: f64 = weights::BIAS + e.features.iter().map(|f| f.contribution).sum::<f64>();
        assert!((e.probability - 1.0 / (1.0 + (-z).exp())).abs() < 1e-9);
        assert_eq!(r.findings[0].score, round3(e.probability));
        // Every other judged paragraph is a near miss at a floor of 0, each explained.
        let missed: Vec<usize> = r.near_misses.iter().map(|m| m.paragraph).collect();
        assert_eq!(missed, [0, 1, 2]);
        // Without explain nothing of it is kept.
        let plain = analyze(text);
        assert!(plain.near_misses.is_empty() && plain.findings[0].explain.is_none());
    }

    #[test]
    fn sign_offs_and_questions_are_not_restatements() {
        let text = "Volcanic ash grounded flights across northern Europe for three days.\n\n\
                    Airlines lost millions while stranded passengers slept in terminals.\n\n\
                    Engineers later tested engines against ash concentration limits.\n\n\
                    We hope volcanic ash never again grounds European flights and strands passengers.\n\n\
                    Did volcanic ash ground European flights while airlines lost millions?\n";
        assert!(
            analyze(text).findings.is_empty(),
            "{:?}",
            analyze(text).findings
        );
    }

    #[test]
    fn parallel_list_items_are_not_near_duplicates() {
        let text = "Intro about the versioning rules of the package manager.\n\n\
                    - `strict` requires all dependees to depend on the exact selected version of the library\n\
                    - `strict` requires all dependees to depend on the same major version of the library\n";
        assert!(analyze(text).findings.is_empty());
    }

    #[test]
    fn boilerplate_is_never_flagged() {
        let text = "Read also:\n- Storms hit the coast\n- Storms hit the coast\nSource: www.example.com\nSource: www.example.com\n";
        assert!(analyze(text).findings.is_empty());
    }

    #[test]
    fn link_list_items_are_boilerplate() {
        let text = "Intro about release tooling and packaging.\n\n- [Release notes for version one](https://a.org/1)\n- [Release notes for version one](https://a.org/2)\n";
        assert!(analyze(text).findings.is_empty());
    }

    fn prose_unit(words: [Vec<u64>; 3]) -> Unit {
        Unit {
            seg: Segment {
                span: Span::new(0, 0),
                line: 1,
                kind: SegmentKind::Paragraph,
                suppressed: false,
            },
            role: Role::Prose,
            words,
            all_stems: Vec::new(),
            unigrams: Vec::new(),
            bigrams: Vec::new(),
            lead_in: false,
            list_start: 0,
            sign_off: false,
            specifics: Vec::new(),
            link_words: 0,
        }
    }

    #[test]
    fn one_pass_gives_the_shinglers_word_hashes() {
        let doc = DocAnalyzer::new(DocOptions::default()).unwrap();
        let text = "Ünïcödé Words, can't e.g. 3.5 m — 漢字かな and Straße STRASSE x_y.";
        let span = Span::new(0, text.len());
        let mut words = Vec::new();
        let stems = ContentHasher::default().hashes_and_words(&doc, text, span, Some(&mut words));
        let mut want = Vec::new();
        doc.shingler.word_hashes(text, span, &mut want);
        assert_eq!(words, want);
        assert!(!stems.is_empty() && stems.len() < words.len());
    }

    #[test]
    fn postings_hold_the_earlier_paragraphs_of_each_feature() {
        let mut units = vec![
            prose_unit([vec![], vec![10, 20], vec![]]),
            prose_unit([vec![], vec![20, 30], vec![]]),
            prose_unit([vec![], vec![20], vec![]]),
        ];
        // A heading between them has no features of its own.
        units.insert(1, prose_unit([vec![], vec![10, 99], vec![]]));
        units[1].role = Role::Other;
        let (mut postings, ids) = Postings::new(&units, |u| [&u.words[1], &[]]);
        assert_eq!(postings.len(), 3);
        assert!(ids.of(1).is_empty());
        let id = |j: usize, k: usize| ids.of(j)[k];
        let (ten, twenty, thirty) = (id(0, 0), id(0, 1), id(2, 1));
        assert_eq!([id(2, 0), id(3, 0)], [twenty, twenty]);
        let frequencies = [ten, twenty, thirty].map(|f| postings.document_frequency(f));
        assert_eq!(frequencies, [1, 3, 1]);
        for j in [0, 2] {
            postings.add(ids.of(j), j);
        }
        assert_eq!(postings.so_far(twenty), [0, 2]);
        assert_eq!(postings.so_far(ten), [0]);
        postings.add(ids.of(3), 3);
        assert_eq!(postings.so_far(twenty), [0, 2, 3]);
        assert_eq!(postings.so_far(thirty), [2]);
    }

    proptest::proptest! {
        #[test]
        fn similarity_bound_is_never_below_similarity(
            p in proptest::array::uniform3(proptest::collection::btree_set(0u64..40, 0..30)),
            q in proptest::array::uniform3(proptest::collection::btree_set(0u64..40, 0..30)),
            slack in 0usize..3,
        ) {
            let (p, q) = (p.map(|s| s.into_iter().collect()), q.map(|s| s.into_iter().collect()));
            let (p, q) = (prose_unit(p), prose_unit(q));
            let pairs = crate::sketch::intersection_size(&p.words[1], &q.words[1]);
            proptest::prop_assert!(similarity_bound(&p, &q, pairs + slack) >= similarity(&p, &q));
        }
    }

    #[test]
    fn similarity_bound_is_reached_by_a_copy() {
        let p = prose_unit([vec![1, 2, 3], vec![4, 5], vec![6]]);
        assert_eq!(similarity_bound(&p, &p, 2), 1.0);
        assert_eq!(similarity(&p, &p), 1.0);
        assert_eq!(jaccard_bound(4, 6, 2), 0.25);
        assert_eq!(jaccard_bound(4, 6, usize::MAX), 4.0 / 6.0);
        assert_eq!(jaccard_bound(0, 0, 0), 0.0);
    }

    #[test]
    fn shared_pairs_count_and_empty() {
        let units: Vec<Unit> = [0, 3, 1, 2, 5]
            .map(|n| prose_unit([Vec::new(), (0..n).collect(), Vec::new()]))
            .into();
        let mut shared = SharedPairs::new(&units);
        for i in [3, 1, 3, 3, 4] {
            shared.add(i);
        }
        assert_eq!(
            shared.drain().collect::<Vec<_>>(),
            [(3, 3, 2), (1, 1, 3), (4, 1, 5)]
        );
        shared.add(1);
        assert_eq!(shared.drain().collect::<Vec<_>>(), [(1, 1, 3)]);
    }

    #[test]
    fn evidence_sentences_are_those_of_a_fresh_split() {
        // The first sentence takes its features from the paragraph's words, the others (not
        // bounded by ASCII whitespace) from splitting them afresh.
        let doc = DocAnalyzer::new(DocOptions::default()).unwrap();
        let source = "Volcanic ash grounded flights across northern Europe. Airlines lost millions!Stranded passengers slept in terminals\u{a0}for three days.";
        let text = format!("{source}\n\nUnrelated words about gardening, roses and tulips in spring.\n\nStranded passengers slept in terminals for three days while airlines lost millions.\n");
        let mut content = ContentHasher::default();
        let units = doc.units(&text, &crate::segment::paragraphs(&text));
        let best = SentenceFeatures::default()
            .best(&doc, &mut content, &text, &units, 2, 0)
            .unwrap();
        assert_eq!(
            best.span.slice(&text),
            "Stranded passengers slept in terminals\u{a0}for three days."
        );
    }

    #[test]
    fn evidence_sentence_lines_are_the_document_lines() {
        // A byte-order mark, CRLF line ends, and a source paragraph wrapped over four lines.
        let text = "\u{feff}# Title\r\n\r\nIntro line about something else entirely.\r\n\r\n\
                    Ash fell.\r\nEngineers tested engines for days. Airlines lost millions while\r\n\
                    stranded passengers slept in crowded terminals across northern Europe.\r\n\r\n\
                    Gardeners planted roses and tulips in spring.\r\n\r\n\
                    Ash fell. Engineers tested engines for weeks. Airlines lost millions while \
                    stranded passengers slept in crowded terminals across northern Europe.\r\n";
        let r = analyze(text);
        let lines = crate::span::LineIndex::new(text);
        let sentences: Vec<&SentenceRef> = r
            .findings
            .iter()
            .flat_map(|f| &f.sources)
            .filter_map(|s| s.sentence.as_ref())
            .collect();
        assert_eq!(sentences.len(), 1, "{:?}", r.findings);
        assert!(sentences[0].span.slice(text).starts_with("Airlines"));
        for s in sentences {
            assert_eq!(s.line, lines.line(s.span.start), "{:?}", s.span.slice(text));
        }
    }

    #[test]
    fn names_and_numbers_are_specific_and_sentence_starts_are_not() {
        let text = "Kubernetes 1.34 ships. Then the Scheduler runs, e.g. MinHashLSH in `v2`.";
        let specific = |w: &str| {
            let start = text.find(w).unwrap();
            is_specific(text, 0, Span::new(start, start + w.len()))
        };
        assert!(specific("1.34") && specific("Scheduler") && specific("MinHashLSH"));
        assert!(specific("v2"));
        assert!(!specific("Kubernetes") && !specific("Then") && !specific("ships"));
    }

    #[test]
    fn empty_document() {
        let r = analyze("");
        assert!(r.paragraphs.is_empty() && r.findings.is_empty());
    }
}
