//! The features a restatement is judged on: how much of a paragraph the text before it
//! already says (as a whole, sentence by sentence, in one source or several), how much it
//! adds (new names and numbers, links, plans), and where it sits. The model in `model.rs`
//! weighs them; `deja doc --explain` prints them.

use super::boilerplate::lower_head;
use super::postings::{Postings, Weights};
use super::recap::Place;
use super::{Unit, MAX_POSTINGS};
use crate::segment::{sentences, SegmentKind};
use crate::sketch::intersection_size;
use crate::span::Span;
use ahash::AHashMap;

/// Names of the features, in the order of a [`Features`] array and of the model's weights.
pub const NAMES: [&str; 30] = [
    "said_weighted",
    "said_vs_document",
    "said_rank",
    "section_said",
    "said_words",
    "said_pairs",
    "best_source",
    "sources",
    "sentences_restated",
    "sentence_alignment",
    "sentence_match",
    "sentences_matched",
    "least_restated_sentence",
    "intro_share",
    "previous_share",
    "new_specifics",
    "source_distance",
    "position",
    "last",
    "recap_section",
    "onward_section",
    "last_section",
    "opens_section",
    "cue",
    "list_item",
    "quote",
    "sign_off",
    "onward_words",
    "link_share",
    "length",
];

/// One paragraph's features (see [`NAMES`]).
#[derive(Clone, Debug, PartialEq)]
pub struct Features(pub [f64; NAMES.len()]);

/// Everything about the document the features of one paragraph are read from.
pub(super) struct Document<'a> {
    pub text: &'a str,
    pub units: &'a [Unit],
    pub places: &'a [Place],
    pub weights: &'a Weights,
    /// Rank of each unit among the prose units (prose units only are meaningful).
    pub prose_rank: &'a [usize],
    /// Number of prose units.
    pub prose: usize,
    /// Units before this index make up the introduction (the first two prose paragraphs).
    pub intro_end: usize,
}

/// A paragraph's features and its candidate sources: earlier paragraphs ranked by the
/// weighted share of it they cover, best first (empty until [`add_sources`]).
pub(super) struct Judged {
    pub features: Features,
    pub sources: Vec<(f64, usize)>,
    /// Paragraphs from here on are its context, not evidence.
    cutoff: usize,
    /// Weighted share of its content features said before: no single source covers more.
    said_share: f64,
}

/// Share of a sentence's weight said before that counts it as restated.
const SENTENCE_RESTATED: f64 = 0.5;
/// Best sources whose sentences are matched with the paragraph's, sentence by sentence.
const SENTENCE_SOURCES: usize = 5;
/// Share of a paragraph an earlier paragraph must cover to count as one of its sources.
const SOURCE_SHARE: f64 = 0.1;

/// Words that announce plans, invitations or thanks: new business, not a restatement.
const ONWARD_WORDS: &[&str] = &[
    " will ",
    "encourage",
    "gratitude",
    "grateful",
    "appreciat",
    "follow up",
    "would like",
    "recommend",
    "please",
    "interested",
    " plan",
    " next ",
    "upcoming",
    "roadmap",
    "future",
    " try ",
    "join",
    "feedback",
    "contribut",
    "thank",
    "welcome",
    "check out",
    "learn more",
    "stay tuned",
    "reach out",
];

/// The features of paragraph `j`, whose content-feature ids are `ids` (unigrams first); the
/// text from `cutoff` on is its own context and not evidence. `postings` hold the paragraphs
/// before j. The features that need sources are left at 0 for [`add_sources`].
pub(super) fn judge(
    doc: &Document,
    postings: &Postings,
    j: usize,
    cutoff: usize,
    ids: &[u32],
) -> Judged {
    let p = &doc.units[j];
    let weights = doc.weights;
    // A feature's first paragraph, if before j, is all "said before" needs.
    let first = |id: u32| postings.so_far(id).first().map(|&i| i as usize);
    let said = |id: u32| first(id).is_some_and(|i| i < cutoff);
    let (unigrams, bigrams) = ids.split_at(p.unigrams.len());

    // Whole paragraph: weighted (rarity within the document) and flat shares said before.
    let said_weighted = weights.containment(unigrams, bigrams, said);
    let (said_words, said_pairs) = (flat_share(unigrams, said), flat_share(bigrams, said));
    let intro_share = if j < doc.intro_end {
        0.0
    } else {
        flat_share(unigrams, |id| first(id).is_some_and(|i| i < doc.intro_end))
    };

    // What it adds: names and numbers not seen before, links, plans and thanks.
    let new_specifics = p
        .specifics
        .iter()
        .filter(|h| match p.unigrams.binary_search(h) {
            Ok(k) => !said(unigrams[k]),
            Err(_) => false,
        })
        .count();
    // Onward words are looked for in the paragraph's head (its first 300 characters), where
    // plans and thanks are announced.
    let body = p.seg.span.slice(doc.text);
    let lower = format!(" {} ", lower_head(body));
    let onward = ONWARD_WORDS.iter().filter(|w| lower.contains(*w)).count();
    let words = p.all_stems.len().max(1) as f64;

    let previous_share = (0..j)
        .rev()
        .find(|&i| doc.units[i].role == super::Role::Prose)
        .map_or(0.0, |i| {
            intersection_size(&p.unigrams, &doc.units[i].unigrams) as f64
                / p.unigrams.len().max(1) as f64
        });
    let place = doc.places[j];
    let bit = |b: bool| if b { 1.0 } else { 0.0 };
    let rank = doc.prose_rank[j];
    Judged {
        features: Features([
            said_weighted,
            // The neighbourhood features are filled in by `add_neighbourhood`.
            0.0,
            0.0,
            0.0,
            said_words,
            said_pairs,
            0.0, // best_source
            0.0, // sources
            0.0, // sentences_restated
            0.0, // sentence_alignment
            0.0, // sentence_match
            0.0, // sentences_matched
            0.0, // least_restated_sentence
            intro_share,
            previous_share,
            (1.0 + new_specifics as f64).ln(),
            0.0, // source_distance
            rank as f64 / (doc.prose.max(2) - 1) as f64,
            bit(rank + 1 == doc.prose),
            bit(place.recap_section),
            bit(place.onward_section),
            bit(place.last_section),
            bit(place.opens_section),
            bit(place.cue || place.cued_list),
            bit(p.seg.kind == SegmentKind::ListItem),
            bit(p.seg.kind == SegmentKind::Quote),
            bit(p.sign_off),
            (onward.min(3) as f64) / 3.0,
            p.link_words as f64 / (words + p.link_words as f64),
            (1.0 + p.unigrams.len() as f64).ln(),
        ]),
        sources: Vec::new(),
        cutoff,
        said_share: {
            let said_w: f64 = ids
                .iter()
                .filter(|&&id| said(id))
                .map(|&id| weights.of(id))
                .sum();
            said_w / weights.total(ids)
        },
    }
}

/// Fills in the features that need paragraph j's sources (best source, their number and
/// distance, sentence by sentence shares and matches) and the sources themselves: the costly
/// part of judging, done only for paragraphs that could reach the threshold without them
/// (see [`DEFERRED`]). `postings` may hold paragraphs after j.
pub(super) fn add_sources(
    doc: &Document,
    postings: &Postings,
    sentence_sets: &mut SentenceSets,
    j: usize,
    ids: &[u32],
    judged: &mut Judged,
) {
    let p = &doc.units[j];
    let weights = doc.weights;
    let cutoff = judged.cutoff;
    let unigrams = &ids[..p.unigrams.len()];

    // Sources: the weighted share of the paragraph each earlier paragraph covers.
    let mut cover: AHashMap<usize, f64> = AHashMap::new();
    let total = weights.total(ids);
    add_cover(doc, postings, j, cutoff, ids, &mut cover);
    let mut sources: Vec<(f64, usize)> = cover.into_iter().map(|(i, c)| (c / total, i)).collect();
    sources.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    let best_source = sources.first().map_or(0.0, |s| s.0);
    let source_count = sources.iter().filter(|s| s.0 >= SOURCE_SHARE).count();
    let rank = doc.prose_rank[j];
    let source_distance = sources.first().map_or(1.0, |&(_, i)| {
        (rank - doc.prose_rank[i]) as f64 / doc.prose.max(1) as f64
    });

    // Sentence by sentence: at least half of a restatement's claims were said before.
    let spans = sentences(doc.text, p.seg.span);
    let sentence = sentence_shares(doc, postings, j, cutoff, unigrams, &spans);
    sentence_sets.insert(doc, j, &spans);
    let restated = sentence
        .iter()
        .filter(|s| s.said >= SENTENCE_RESTATED)
        .count();
    let n_sentences = sentence.len().max(1) as f64;
    let sources_read: Vec<usize> = sources
        .iter()
        .take(SENTENCE_SOURCES)
        .map(|&(_, i)| i)
        .collect();
    let matches = sentence_matches(doc, sentence_sets, j, &sources_read);
    let n_matches = matches.len().max(1) as f64;

    let f = &mut judged.features.0;
    f[BEST_SOURCE] = best_source;
    f[SOURCES] = (1.0 + source_count as f64).ln();
    f[SENTENCES_RESTATED] = restated as f64 / n_sentences;
    f[SENTENCE_ALIGNMENT] = sentence.iter().map(|s| s.best).sum::<f64>() / n_sentences;
    f[SENTENCE_MATCH] = matches.iter().sum::<f64>() / n_matches;
    f[SENTENCES_MATCHED] =
        matches.iter().filter(|&&m| m >= SENTENCE_RESTATED).count() as f64 / n_matches;
    f[LEAST_RESTATED_SENTENCE] = sentence.iter().map(|s| s.said).fold(1.0, f64::min);
    f[SOURCE_DISTANCE] = source_distance;
    judged.sources = sources;
}

const BEST_SOURCE: usize = 6;
const SOURCES: usize = 7;
const SENTENCES_RESTATED: usize = 8;
const SENTENCE_ALIGNMENT: usize = 9;
const SENTENCE_MATCH: usize = 10;
const SENTENCES_MATCHED: usize = 11;
const LEAST_RESTATED_SENTENCE: usize = 12;
const SOURCE_DISTANCE: usize = 16;

/// The features [`add_sources`] fills in, each with the least and the most it can be for
/// paragraph `j`: with them a paragraph's probability can be bounded before they are known.
pub(super) fn deferred(doc: &Document, j: usize, judged: &Judged) -> [(usize, f64, f64); 8] {
    let most_sources = (1.0 + doc.prose_rank[j] as f64).ln();
    [
        // (A hair above: the two sums add in different orders.)
        (BEST_SOURCE, 0.0, judged.said_share + 1e-9),
        (SOURCES, 0.0, most_sources),
        (SENTENCES_RESTATED, 0.0, 1.0),
        (SENTENCE_ALIGNMENT, 0.0, 1.0),
        (SENTENCE_MATCH, 0.0, 1.0),
        (SENTENCES_MATCHED, 0.0, 1.0),
        (LEAST_RESTATED_SENTENCE, 0.0, 1.0),
        (SOURCE_DISTANCE, 0.0, 1.0),
    ]
}

/// The content-stem sets (sorted, deduplicated) of each sentence of a paragraph with two or
/// more content words, computed once per paragraph however often it is read.
#[derive(Default)]
pub(super) struct SentenceSets {
    by_paragraph: AHashMap<usize, Vec<Vec<u64>>>,
}

impl SentenceSets {
    fn of(&mut self, doc: &Document, i: usize) -> &[Vec<u64>] {
        if !self.by_paragraph.contains_key(&i) {
            let spans = sentences(doc.text, doc.units[i].seg.span);
            self.insert(doc, i, &spans);
        }
        &self.by_paragraph[&i]
    }

    /// Paragraph i's sets, from its sentence `spans`.
    fn insert(&mut self, doc: &Document, i: usize, spans: &[Span]) {
        if self.by_paragraph.contains_key(&i) {
            return;
        }
        let u = &doc.units[i];
        let sets = spans
            .iter()
            .filter_map(|s| {
                let from = u.all_stems.partition_point(|&(w, _)| w < s.start);
                let to = u.all_stems.partition_point(|&(w, _)| w < s.end);
                let mut set: Vec<u64> = u.all_stems[from..to].iter().map(|&(_, h)| h).collect();
                set.sort_unstable();
                set.dedup();
                (set.len() >= 2).then_some(set)
            })
            .collect();
        self.by_paragraph.insert(i, sets);
    }
}

/// For each sentence of paragraph `j`, the largest share of its content stems that one
/// sentence of the `sources` holds: a restated claim usually goes back to one sentence,
/// while a paragraph that continues the topic shares words with many.
fn sentence_matches(
    doc: &Document,
    sets: &mut SentenceSets,
    j: usize,
    sources: &[usize],
) -> Vec<f64> {
    let own: Vec<Vec<u64>> = sets.of(doc, j).to_vec();
    let mut best = vec![0.0f64; own.len()];
    for &i in sources {
        for t in sets.of(doc, i) {
            for (b, s) in best.iter_mut().zip(&own) {
                *b = b.max(intersection_size(s, t) as f64 / s.len() as f64);
            }
        }
    }
    best
}

/// Fills in the features that read a paragraph against the others judged in its document:
/// how much more of it was said before than of the document's average paragraph, and the
/// share of paragraphs that repeat less (writers differ in how much vocabulary they
/// repeat), and how much its section's other paragraphs
/// repeat (recaps and timelines come in runs). `judged` is in document order.
pub(super) fn add_neighbourhood(judged: &mut [(usize, Judged)], places: &[Place]) {
    const SAID: usize = 0;
    const VS_DOCUMENT: usize = 1;
    const RANK: usize = 2;
    const SECTION: usize = 3;
    if judged.is_empty() {
        return;
    }
    let said = |j: &Judged| j.features.0[SAID];
    let mean = judged.iter().map(|(_, j)| said(j)).sum::<f64>() / judged.len() as f64;
    let mut sorted: Vec<f64> = judged.iter().map(|(_, j)| said(j)).collect();
    sorted.sort_by(f64::total_cmp);
    let below = |x: f64| sorted.partition_point(|&y| y < x) as f64;
    let n = judged.len() as f64;
    let mut from = 0;
    while from < judged.len() {
        let section = places[judged[from].0].section;
        let to = from
            + judged[from..]
                .iter()
                .take_while(|(k, _)| places[*k].section == section)
                .count();
        let sum: f64 = judged[from..to].iter().map(|(_, j)| said(j)).sum();
        let others = (to - from - 1) as f64;
        for (_, j) in &mut judged[from..to] {
            let own = said(j);
            j.features.0[VS_DOCUMENT] = own - mean;
            j.features.0[RANK] = below(own) / n;
            j.features.0[SECTION] = if others > 0.0 {
                (sum - own) / others
            } else {
                own
            };
        }
        from = to;
    }
}

/// Share of the features `ids` for which `known` holds.
fn flat_share(ids: &[u32], known: impl Fn(u32) -> bool) -> f64 {
    if ids.is_empty() {
        0.0
    } else {
        ids.iter().filter(|&&id| known(id)).count() as f64 / ids.len() as f64
    }
}

/// Adds the weight of each feature of `ids` to every paragraph before `cutoff` that has it,
/// in `cover`. Features of more than [`MAX_POSTINGS`] paragraphs before j are the topic's
/// vocabulary, not evidence of a source (and following them would make long texts quadratic).
fn add_cover(
    doc: &Document,
    postings: &Postings,
    j: usize,
    cutoff: usize,
    ids: &[u32],
    cover: &mut AHashMap<usize, f64>,
) {
    for &id in ids {
        let list = postings.before(id, j);
        if list.len() <= MAX_POSTINGS {
            let w = doc.weights.of(id);
            for &i in list.iter().take_while(|&&i| (i as usize) < cutoff) {
                *cover.entry(i as usize).or_default() += w;
            }
        }
    }
}

/// How much of one sentence was said before: in all (`said`) and by its best single source
/// paragraph (`best`), both weighted by rarity.
struct SentenceShare {
    said: f64,
    best: f64,
}

/// The [`SentenceShare`] of every sentence of paragraph `j` with two or more content words.
fn sentence_shares(
    doc: &Document,
    postings: &Postings,
    j: usize,
    cutoff: usize,
    unigrams: &[u32],
    spans: &[Span],
) -> Vec<SentenceShare> {
    let p = &doc.units[j];
    let mut out = Vec::new();
    let mut ids: Vec<u32> = Vec::new();
    let mut cover: AHashMap<usize, f64> = AHashMap::new();
    for &s in spans {
        ids.clear();
        let from = p.all_stems.partition_point(|&(w, _)| w < s.start);
        let to = p.all_stems.partition_point(|&(w, _)| w < s.end);
        for &(_, h) in &p.all_stems[from..to] {
            // Link words are not among the unigrams: not prose.
            if let Ok(k) = p.unigrams.binary_search(&h) {
                ids.push(unigrams[k]);
            }
        }
        ids.sort_unstable();
        ids.dedup();
        if ids.len() < 2 {
            continue;
        }
        let (mut all, mut said) = (0.0, 0.0);
        for &id in &ids {
            let w = doc.weights.of(id);
            all += w;
            if postings
                .so_far(id)
                .first()
                .is_some_and(|&i| (i as usize) < cutoff)
            {
                said += w;
            }
        }
        cover.clear();
        add_cover(doc, postings, j, cutoff, &ids, &mut cover);
        let best = cover.values().copied().fold(0.0, f64::max);
        let all = all.max(f64::MIN_POSITIVE);
        out.push(SentenceShare {
            said: said / all,
            best: best / all,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feature_indexes_name_their_features() {
        let named = [
            (BEST_SOURCE, "best_source"),
            (SOURCES, "sources"),
            (SENTENCES_RESTATED, "sentences_restated"),
            (SENTENCE_ALIGNMENT, "sentence_alignment"),
            (SENTENCE_MATCH, "sentence_match"),
            (SENTENCES_MATCHED, "sentences_matched"),
            (LEAST_RESTATED_SENTENCE, "least_restated_sentence"),
            (SOURCE_DISTANCE, "source_distance"),
        ];
        for (k, name) in named {
            assert_eq!(NAMES[k], name);
        }
        assert_eq!(
            &NAMES[..4],
            [
                "said_weighted",
                "said_vs_document",
                "said_rank",
                "section_said"
            ]
        );
    }
}
