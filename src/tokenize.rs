//! Stage 2, tokenize: text → normalized word tokens, each with its source span.
//!
//! A chain of small steps, each separately tested:
//! [`words`] (UAX #29 word boundaries, numbers kept) → [`normalize`] (NFKC + lowercase) →
//! [`Analyzer::is_stopword`] → [`Analyzer::stem`] (Snowball). Scripts written without spaces
//! (Han, Hiragana, Katakana, Thai, Lao, Khmer, Myanmar) become overlapping character bigrams.

use crate::error::{Error, Result};
use crate::span::Span;
use rust_stemmers::{Algorithm, Stemmer};
use std::collections::HashSet;
use unicode_normalization::UnicodeNormalization;
use unicode_segmentation::UnicodeSegmentation;

/// Calls `f(span, word)` for every word of `text[span]`: UAX #29 words that hold a letter or
/// digit, with runs of spaceless-script characters split into overlapping bigrams.
pub fn words(text: &str, span: Span, mut f: impl FnMut(Span, &str)) {
    let body = span.slice(text);
    // UAX #29 splits ideographs one by one: adjacent ones are gathered into a run first.
    let mut run: Option<Span> = None;
    for (offset, word) in body.split_word_bound_indices() {
        let start = span.start + offset;
        let first = word.as_bytes()[0];
        if first.is_ascii() {
            // Fast path: ASCII words start with an ASCII letter, digit or underscore.
            if first.is_ascii_alphanumeric() || (first == b'_' && word.len() > 1) {
                flush_run(text, &mut run, &mut f);
                f(Span::new(start, start + word.len()), word);
            } else if !first.is_ascii_whitespace() {
                flush_run(text, &mut run, &mut f);
            }
            continue;
        }
        if !word.chars().any(char::is_alphanumeric) {
            flush_run(text, &mut run, &mut f);
            continue;
        }
        let end = start + word.len();
        if word.chars().any(is_spaceless_script) {
            match run.as_mut() {
                Some(r) if r.end == start => r.end = end,
                _ => {
                    flush_run(text, &mut run, &mut f);
                    run = Some(Span::new(start, end));
                }
            }
        } else {
            flush_run(text, &mut run, &mut f);
            f(Span::new(start, end), word);
        }
    }
    flush_run(text, &mut run, &mut f);
}

fn flush_run(text: &str, run: &mut Option<Span>, f: &mut impl FnMut(Span, &str)) {
    if let Some(r) = run.take() {
        char_bigrams(r.slice(text), r.start, f);
    }
}

/// Overlapping character bigrams of a spaceless-script run (a single char stays a unigram).
fn char_bigrams(word: &str, start: usize, f: &mut impl FnMut(Span, &str)) {
    let chars: Vec<(usize, char)> = word.char_indices().collect();
    if chars.len() == 1 {
        f(Span::new(start, start + word.len()), word);
        return;
    }
    for pair in chars.windows(2) {
        let (a, _) = pair[0];
        let (b, c) = pair[1];
        let end = b + c.len_utf8();
        f(Span::new(start + a, start + end), &word[a..end]);
    }
}

/// True for characters of scripts written without spaces between words.
pub fn is_spaceless_script(c: char) -> bool {
    matches!(c as u32,
        0x0E00..=0x0EFF     // Thai, Lao
        | 0x1000..=0x109F   // Myanmar
        | 0x1780..=0x17FF   // Khmer
        | 0x3040..=0x30FF   // Hiragana, Katakana
        | 0x3400..=0x4DBF   // CJK Extension A
        | 0x4E00..=0x9FFF   // CJK Unified Ideographs
        | 0xF900..=0xFAFF   // CJK Compatibility Ideographs
        | 0x20000..=0x2FA1F // CJK Extensions B-F, supplement
    )
}

/// NFKC + lowercase of `word` into `out` (cleared first). Typographic apostrophes become `'`.
pub fn normalize(word: &str, out: &mut String) {
    out.clear();
    if word.is_ascii() {
        out.push_str(word);
        out.make_ascii_lowercase();
        return;
    }
    for c in word.nfkc() {
        match c {
            '\u{2019}' | '\u{2018}' | '\u{02BC}' => out.push('\''),
            c => out.extend(c.to_lowercase()),
        }
    }
}

/// Languages with a Snowball stemmer and a stopword list.
const LANGUAGES: &[(&str, &str, Algorithm)] = &[
    ("arabic", "ar", Algorithm::Arabic),
    ("danish", "da", Algorithm::Danish),
    ("dutch", "nl", Algorithm::Dutch),
    ("english", "en", Algorithm::English),
    ("finnish", "fi", Algorithm::Finnish),
    ("french", "fr", Algorithm::French),
    ("german", "de", Algorithm::German),
    ("greek", "el", Algorithm::Greek),
    ("hungarian", "hu", Algorithm::Hungarian),
    ("italian", "it", Algorithm::Italian),
    ("norwegian", "no", Algorithm::Norwegian),
    ("portuguese", "pt", Algorithm::Portuguese),
    ("romanian", "ro", Algorithm::Romanian),
    ("russian", "ru", Algorithm::Russian),
    ("spanish", "es", Algorithm::Spanish),
    ("swedish", "sv", Algorithm::Swedish),
    ("turkish", "tr", Algorithm::Turkish),
];

/// Names accepted by [`Analyzer::new`].
pub fn language_names() -> impl Iterator<Item = &'static str> {
    LANGUAGES.iter().map(|(name, _, _)| *name)
}

/// Turns text into content words: stopwords removed, Snowball stems, for one language.
pub struct Analyzer {
    stemmer: Stemmer,
    stopwords: HashSet<String>,
}

impl Analyzer {
    /// An analyzer for `language` (English name or ISO 639-1 code, e.g. `english`, `de`).
    pub fn new(language: &str) -> Result<Self> {
        let lang = language.to_ascii_lowercase();
        let (_, iso, algorithm) = LANGUAGES
            .iter()
            .find(|(name, iso, _)| *name == lang || *iso == lang)
            .ok_or_else(|| {
                Error::Option(format!(
                    "unknown language '{language}' (one of: {})",
                    language_names().collect::<Vec<_>>().join(", ")
                ))
            })?;
        let mut stopwords = HashSet::new();
        let mut buf = String::new();
        for w in stop_words::get(iso) {
            normalize(w, &mut buf);
            stopwords.insert(buf.clone());
        }
        Ok(Analyzer {
            stemmer: Stemmer::create(*algorithm),
            stopwords,
        })
    }

    /// True when the normalized `word` carries no content (a stopword, or a lone letter).
    pub fn is_stopword(&self, word: &str) -> bool {
        let mut chars = word.chars();
        let single =
            chars.next().is_some_and(|c| !is_spaceless_script(c)) && chars.next().is_none();
        single || self.stopwords.contains(word)
    }

    /// The Snowball stem of a normalized word.
    pub fn stem<'a>(&self, word: &'a str) -> std::borrow::Cow<'a, str> {
        self.stemmer.stem(word)
    }

    /// Content-word stems of `text[span]` with their spans, in order.
    pub fn content_words(&self, text: &str, span: Span) -> Vec<(Span, String)> {
        let mut out = Vec::new();
        let mut buf = String::new();
        words(text, span, |s, w| {
            normalize(w, &mut buf);
            let word = buf.trim_matches('\'');
            if !self.is_stopword(word) {
                out.push((s, self.stem(word).into_owned()));
            }
        });
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_words(text: &str) -> Vec<&str> {
        let mut v = Vec::new();
        words(text, Span::new(0, text.len()), |s, _| v.push(s.slice(text)));
        v
    }

    #[test]
    fn words_keep_numbers_and_drop_punctuation() {
        assert_eq!(
            all_words("Hello, world! 30,000 soldiers — don't stop_me."),
            ["Hello", "world", "30,000", "soldiers", "don't", "stop_me"]
        );
    }

    #[test]
    fn spaceless_scripts_become_bigrams() {
        assert_eq!(all_words("東京都 abc"), ["東京", "京都", "abc"]);
        assert_eq!(all_words("ภาษาไทย"), ["ภา", "าษ", "ษา", "าไ", "ไท", "ทย"]);
    }

    #[test]
    fn normalize_folds_case_and_compatibility_forms() {
        let mut out = String::new();
        normalize("ＡＢＣ", &mut out);
        assert_eq!(out, "abc");
        normalize("Straße", &mut out);
        assert_eq!(out, "straße");
        normalize("ﬁle", &mut out);
        assert_eq!(out, "file");
        normalize("Scala’s", &mut out);
        assert_eq!(out, "scala's");
    }

    #[test]
    fn content_words_are_stemmed_without_stopwords() {
        let a = Analyzer::new("english").unwrap();
        let text = "The soldiers were advancing in the regions";
        let got: Vec<_> = a
            .content_words(text, Span::new(0, text.len()))
            .into_iter()
            .map(|(_, w)| w)
            .collect();
        assert_eq!(got, ["soldier", "advanc", "region"]);
    }

    #[test]
    fn german_works() {
        let a = Analyzer::new("de").unwrap();
        let text = "Die Soldaten sind in der Region vorgerückt";
        let got: Vec<_> = a
            .content_words(text, Span::new(0, text.len()))
            .into_iter()
            .map(|(_, w)| w)
            .collect();
        assert_eq!(got, ["soldat", "region", "vorgeruckt"]);
    }

    #[test]
    fn unknown_language_is_an_error() {
        assert!(Analyzer::new("klingon").is_err());
    }
}
