//! The words and phrases a finding shares with one of its sources, as spans in both, for the
//! frontends that show them (the HTML report underlines them; an editor can mark them too).
//!
//! Input: two word sequences ([`Words`], each a paragraph's tokens). Output: [`SharedWords`].
//! A content word is shared when its stem occurs in the other paragraph; a phrase is a run of
//! words whose every adjacent pair also occurs, adjacent, in the other paragraph and that
//! holds at least two content words (stopwords inside it are part of it, those at its ends
//! are not). Stopwords are never shared on their own: "of the" says nothing.

use crate::span::Span;
use crate::tokenize::{normalize, words, Analyzer};
use ahash::AHashSet;

/// A paragraph's words, ready to be compared: each with its span, its comparison key (the
/// stem of a content word, the normalized form of a stopword) and whether it carries content.
#[derive(Clone, Debug, Default)]
pub struct Words {
    words: Vec<Word>,
}

#[derive(Clone, Debug)]
struct Word {
    span: Span,
    key: String,
    content: bool,
}

impl Words {
    /// The words of `text[span]` as `analyzer` reads them (UAX #29 words, NFKC + lowercase,
    /// the language's stopwords and Snowball stems).
    pub fn new(analyzer: &Analyzer, text: &str, span: Span) -> Self {
        let mut out = Vec::new();
        let mut buf = String::new();
        words(text, span, |s, w| {
            normalize(w, &mut buf);
            let word = match analyzer.content_stem(&buf) {
                Some(stem) => Word {
                    span: s,
                    key: stem.into_owned(),
                    content: true,
                },
                None => Word {
                    span: s,
                    key: buf.clone(),
                    content: false,
                },
            };
            out.push(word);
        });
        Words { words: out }
    }

    fn stems(&self) -> AHashSet<&str> {
        (self.words.iter())
            .filter(|w| w.content)
            .map(|w| w.key.as_str())
            .collect()
    }

    fn pairs(&self) -> AHashSet<(&str, &str)> {
        (self.words.windows(2))
            .map(|p| (p[0].key.as_str(), p[1].key.as_str()))
            .collect()
    }
}

/// What a paragraph (the target, e.g. a finding) shares with another (its source): spans of
/// shared words and phrases in each, in text order, not overlapping.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SharedWords {
    /// In the target paragraph.
    pub target: Vec<Span>,
    /// In the source paragraph.
    pub source: Vec<Span>,
}

/// The words and phrases `target` and `source` share ([module docs](self)).
pub fn shared_words(target: &Words, source: &Words) -> SharedWords {
    SharedWords {
        target: shared_in(target, source),
        source: shared_in(source, target),
    }
}

/// Spans of `a` that `b` shares: phrases first, then the content words outside them.
fn shared_in(a: &Words, b: &Words) -> Vec<Span> {
    let stems = b.stems();
    let pairs = b.pairs();
    let w = &a.words;
    // linked[i]: words i and i + 1 are adjacent in `b` too.
    let linked: Vec<bool> = (w.windows(2))
        .map(|p| pairs.contains(&(p[0].key.as_str(), p[1].key.as_str())))
        .collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < w.len() {
        // The run of linked words from i.
        let mut j = i;
        while j < linked.len() && linked[j] {
            j += 1;
        }
        let run = &w[i..=j];
        let content = run.iter().filter(|x| x.content).count();
        if content >= 2 {
            let first = run.iter().position(|x| x.content).unwrap_or(0);
            let last = run.iter().rposition(|x| x.content).unwrap_or(0);
            out.push(Span::new(run[first].span.start, run[last].span.end));
        } else {
            out.extend(
                run.iter()
                    .filter(|x| x.content && stems.contains(x.key.as_str()))
                    .map(|x| x.span),
            );
        }
        i = j + 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shared(a: &str, b: &str) -> (Vec<String>, Vec<String>) {
        let an = Analyzer::new("english").unwrap();
        let wa = Words::new(&an, a, Span::new(0, a.len()));
        let wb = Words::new(&an, b, Span::new(0, b.len()));
        let s = shared_words(&wa, &wb);
        let texts = |t: &str, v: &[Span]| v.iter().map(|s| s.slice(t).to_string()).collect();
        (texts(a, &s.target), texts(b, &s.source))
    }

    #[test]
    fn phrases_and_stemmed_words_are_shared_in_both() {
        let (a, b) = shared(
            "Putin says the safety zone near Kharkiv protects Belgorod.",
            "Russia is creating a safety zone, Putin said, because Belgorod is shelled.",
        );
        assert_eq!(a, ["Putin", "safety zone", "Belgorod"]);
        assert_eq!(b, ["safety zone", "Putin", "Belgorod"]);
    }

    #[test]
    fn stopwords_inside_a_phrase_belong_to_it_and_alone_do_not_count() {
        let (a, b) = shared(
            "The head of the National Security Council spoke of the war.",
            "He was deputy head of the National Security Council of the state.",
        );
        assert_eq!(a, ["head of the National Security Council"]);
        assert_eq!(b, ["head of the National Security Council"]);
        let (a, b) = shared("Of the many, to the few.", "To the point of the story.");
        assert!(a.is_empty() && b.is_empty(), "{a:?} {b:?}");
    }

    #[test]
    fn stems_match_across_inflections_and_case() {
        let (a, b) = shared("Soldiers advanced quickly.", "The soldier was advancing.");
        assert_eq!(a, ["Soldiers", "advanced"]);
        assert_eq!(b, ["soldier", "advancing"]);
    }

    #[test]
    fn nothing_in_common_gives_nothing() {
        let (a, b) = shared("Volcanic ash grounded flights.", "Bakers rise early.");
        assert!(a.is_empty() && b.is_empty());
    }

    #[test]
    fn spans_are_ordered_disjoint_and_inside_the_paragraph() {
        let text = "xx Alpha beta gamma. Delta alpha beta. yy";
        let an = Analyzer::new("english").unwrap();
        let a = Words::new(&an, text, Span::new(3, 20));
        let b = Words::new(&an, text, Span::new(21, 38));
        let s = shared_words(&a, &b);
        assert_eq!(s.target, [Span::new(3, 13)]);
        assert_eq!(s.source, [Span::new(27, 37)]);
        for v in [&s.target, &s.source] {
            assert!(v.windows(2).all(|p| p[0].end <= p[1].start));
        }
    }
}
