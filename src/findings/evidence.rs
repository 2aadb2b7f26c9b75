//! The evidence sentence of each source: the sentence of an earlier paragraph that shares the
//! most content features with the paragraph that restates it.

use super::{pair_hashes, ContentHasher, DocAnalyzer, SentenceRef, Unit};
use crate::segment::sentences;
use crate::span::Span;
use ahash::AHashMap;

/// Content features (stem and stem-pair hashes) of each sentence of a paragraph, computed
/// once per paragraph however many findings cite it.
#[derive(Default)]
pub(super) struct SentenceFeatures {
    by_paragraph: AHashMap<usize, SentenceIndex>,
}

/// A paragraph's sentences and their features as `(feature, sentence)`, sorted, so that one
/// merge with a target's sorted features counts the hits of every sentence.
struct SentenceIndex {
    sentences: Vec<SentenceRef>,
    features: Vec<(u64, usize)>,
}

impl SentenceFeatures {
    /// The sentence of source paragraph `i` sharing the most content features with paragraph `j`.
    pub(super) fn best(
        &mut self,
        doc: &DocAnalyzer,
        content: &mut ContentHasher,
        text: &str,
        units: &[Unit],
        j: usize,
        i: usize,
    ) -> Option<SentenceRef> {
        let index = self.by_paragraph.entry(i).or_insert_with(|| {
            let source = &units[i];
            let spans = sentences(text, source.seg.span);
            let mut features = Vec::new();
            let mut hashes = Vec::new();
            for (k, &s) in spans.iter().enumerate() {
                hashes.clear();
                // The paragraph's words are hashed already; a sentence has the same ones
                // unless word splitting may cut it differently.
                if splits_alike(text, source.seg.span, s) {
                    let stems = &source.all_stems;
                    let from = stems.partition_point(|&(w, _)| w < s.start);
                    let to = stems.partition_point(|&(w, _)| w < s.end);
                    hashes.extend(stems[from..to].iter().map(|&(_, h)| h));
                } else {
                    hashes.extend(content.hashes(doc, text, s).into_iter().map(|(_, h)| h));
                }
                let pairs = pair_hashes(&hashes);
                features.extend(hashes.iter().copied().chain(pairs).map(|f| (f, k)));
            }
            features.sort_unstable();
            // Lines counted from the paragraph's own: a search of the document's line starts
            // per cited sentence costs more than the few line breaks between.
            let mut line = source.seg.line;
            let mut from = source.seg.span.start;
            let sentences = spans
                .into_iter()
                .map(|span| {
                    line += memchr::memchr_iter(b'\n', &text.as_bytes()[from..span.start]).count();
                    from = span.start;
                    SentenceRef { span, line }
                })
                .collect();
            SentenceIndex {
                sentences,
                features,
            }
        });
        let target = &units[j];
        let hits = sentence_hits(
            &index.features,
            index.sentences.len(),
            &target.unigrams,
            &target.bigrams,
        );
        index
            .sentences
            .iter()
            .zip(hits)
            .map(|(s, hits)| (hits, s))
            .max_by(|a, b| a.0.cmp(&b.0).then(b.1.span.start.cmp(&a.1.span.start)))
            .filter(|(hits, _)| *hits > 0)
            .map(|(_, s)| s.clone())
    }
}

/// True when word splitting splits `sentence` as it splits the `paragraph` around it, so
/// the sentence's words are the paragraph's words that start inside it: words are split at
/// ASCII whitespace first, and the sentence is bounded by ASCII whitespace or the paragraph's
/// ends (sentences are trimmed, so they neither start nor end with whitespace).
fn splits_alike(text: &str, paragraph: Span, sentence: Span) -> bool {
    let b = text.as_bytes();
    (sentence.start == paragraph.start || b[sentence.start - 1].is_ascii_whitespace())
        && (sentence.end == paragraph.end || b[sentence.end].is_ascii_whitespace())
}

/// For each of `n` sentences, how many of its features (`(feature, sentence)`, sorted, each
/// occurrence counted) are in sorted set `a` or sorted set `b`.
fn sentence_hits(features: &[(u64, usize)], n: usize, a: &[u64], b: &[u64]) -> Vec<usize> {
    // Skips the elements of `set` below `f` (features come in order) and tells whether `f` is next.
    fn contains(set: &[u64], at: &mut usize, f: u64) -> bool {
        while *at < set.len() && set[*at] < f {
            *at += 1;
        }
        set.get(*at) == Some(&f)
    }
    let mut hits = vec![0; n];
    let (mut at_a, mut at_b) = (0, 0);
    for &(f, k) in features {
        if contains(a, &mut at_a, f) || contains(b, &mut at_b, f) {
            hits[k] += 1;
        }
    }
    hits
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::DocOptions;

    #[test]
    fn sentence_hits_count_each_occurrence_in_either_set() {
        // Sentence 0 has features 3, 5, 5, 9; sentence 1 has 1, 5, 8.
        let mut features = vec![(3, 0), (5, 0), (5, 0), (9, 0), (1, 1), (5, 1), (8, 1)];
        features.sort_unstable();
        assert_eq!(sentence_hits(&features, 2, &[2, 5], &[8, 9]), [3, 2]);
        assert_eq!(sentence_hits(&features, 2, &[], &[]), [0, 0]);
        assert_eq!(sentence_hits(&features, 3, &[1, 3], &[1]), [1, 1, 0]);
    }

    #[test]
    fn sentences_split_alike_only_at_ascii_whitespace_or_paragraph_ends() {
        let text = "One two. Three!Four\u{a0}five.";
        let paragraph = Span::new(0, text.len());
        let at = |s: &str| {
            let start = text.find(s).unwrap();
            Span::new(start, start + s.len())
        };
        assert!(splits_alike(text, paragraph, at("One two.")));
        assert!(!splits_alike(text, paragraph, at("Three!")));
        assert!(!splits_alike(text, paragraph, at("Four")));
        assert!(!splits_alike(text, paragraph, at("five.")));
        assert!(splits_alike(text, paragraph, paragraph));
    }

    #[test]
    fn sentences_split_alike_hold_the_paragraph_words_that_start_inside_them() {
        let doc = DocAnalyzer::new(DocOptions::default()).unwrap();
        let text = "Volcanic ash (see [the map](https://x.org/a)) grounded flights. Airlines lost \
                    millions!Stranded passengers slept\u{a0}in terminals. \"Nobody expected it,\" \
                    said one. U.S. carriers e.g. Delta lost 3.5 m. Ça coûte cher… Vraiment.";
        let mut content = ContentHasher::default();
        let units = doc.units(text, &crate::segment::paragraphs(text));
        let p = &units[0];
        let mut alike = 0;
        for s in sentences(text, p.seg.span) {
            if splits_alike(text, p.seg.span, s) {
                alike += 1;
                let inside: Vec<(usize, u64)> = p
                    .all_stems
                    .iter()
                    .filter(|&&(w, _)| s.start <= w && w < s.end)
                    .copied()
                    .collect();
                let fresh: Vec<(usize, u64)> = content
                    .hashes(&doc, text, s)
                    .into_iter()
                    .map(|(w, h)| (w.start, h))
                    .collect();
                assert_eq!(inside, fresh, "{}", s.slice(text));
            }
        }
        assert!(alike >= 4, "{alike}");
    }
}
