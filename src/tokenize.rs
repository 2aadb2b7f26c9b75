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
///
/// Text is taken in chunks between ASCII whitespace (where UAX #29 always breaks); an
/// all-ASCII chunk goes through [`ascii_words`], which gives the same words as the
/// Unicode rules at a fraction of the cost, and any other chunk through the full rules.
pub fn words(text: &str, span: Span, mut f: impl FnMut(Span, &str)) {
    let bytes = text.as_bytes();
    let mut i = span.start;
    while i < span.end {
        if bytes[i].is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        let mut ascii = true;
        while i < span.end && !bytes[i].is_ascii_whitespace() {
            ascii &= bytes[i].is_ascii();
            i += 1;
        }
        let chunk = Span::new(start, i);
        if ascii {
            ascii_words(text, chunk, &mut f);
        } else {
            unicode_words(text, chunk, &mut f);
        }
    }
}

/// UAX #29 words of an all-ASCII span: runs of letters, digits and `_`, joined across one
/// `.` `:` `'` between letters and one `.` `,` `;` `'` between digits (rules WB6–WB12).
pub fn ascii_words(text: &str, span: Span, f: &mut impl FnMut(Span, &str)) {
    let b = text.as_bytes();
    let is_word = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    let mut i = span.start;
    while i < span.end {
        if !is_word(b[i]) {
            i += 1;
            continue;
        }
        let start = i;
        let mut alnum = false;
        loop {
            while i < span.end && is_word(b[i]) {
                alnum |= b[i].is_ascii_alphanumeric();
                i += 1;
            }
            let joins = i + 1 < span.end && {
                let (prev, mid, next) = (b[i - 1], b[i], b[i + 1]);
                (prev.is_ascii_alphabetic()
                    && next.is_ascii_alphabetic()
                    && matches!(mid, b'.' | b':' | b'\''))
                    || (prev.is_ascii_digit()
                        && next.is_ascii_digit()
                        && matches!(mid, b'.' | b',' | b';' | b'\''))
            };
            if !joins {
                break;
            }
            i += 1;
        }
        if alnum {
            f(Span::new(start, i), &text[start..i]);
        }
    }
}

/// Words of a span by the full UAX #29 rules; spaceless-script runs become bigrams.
fn unicode_words(text: &str, span: Span, f: &mut impl FnMut(Span, &str)) {
    let body = span.slice(text);
    // UAX #29 splits ideographs one by one: adjacent ones are gathered into a run first.
    let mut run: Option<Span> = None;
    for (offset, word) in body.split_word_bound_indices() {
        let start = span.start + offset;
        let end = start + word.len();
        if !word.chars().any(char::is_alphanumeric) {
            flush_run(text, &mut run, f);
        } else if word.chars().any(is_spaceless_script) {
            match run.as_mut() {
                Some(r) if r.end == start => r.end = end,
                _ => {
                    flush_run(text, &mut run, f);
                    run = Some(Span::new(start, end));
                }
            }
        } else {
            flush_run(text, &mut run, f);
            f(Span::new(start, end), word);
        }
    }
    flush_run(text, &mut run, f);
}

fn flush_run(text: &str, run: &mut Option<Span>, f: &mut impl FnMut(Span, &str)) {
    if let Some(r) = run.take() {
        char_bigrams(r.slice(text), r.start, f);
    }
}

/// Calls `f(start, word)` with every maximal run of letters, digits and `_` of `text`,
/// lowercased (Python's `\w+`, the word split of corpus dedup tools and of `deja corpus`).
/// ASCII runs without capitals are passed as slices of `text`; others are lowercased into
/// `buf`.
pub fn alnum_words(text: &str, buf: &mut String, mut f: impl FnMut(usize, &str)) {
    let bytes = text.as_bytes();
    let is_word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b.is_ascii() && !is_word(b) {
            i += 1;
            continue;
        }
        // A run starts at i: scan its ASCII part.
        let start = i;
        let mut upper = false;
        while i < bytes.len() && is_word(bytes[i]) {
            upper |= bytes[i].is_ascii_uppercase();
            i += 1;
        }
        if i < bytes.len() && !bytes[i].is_ascii() {
            // The run goes on with non-ASCII chars (or one starts here): the slow path.
            buf.clear();
            buf.push_str(&text[start..i]);
            buf.make_ascii_lowercase();
            while i < bytes.len() {
                let b = bytes[i];
                if b.is_ascii() {
                    if !is_word(b) {
                        break;
                    }
                    buf.push(b.to_ascii_lowercase() as char);
                    i += 1;
                } else {
                    // `i` is on a char boundary: ASCII bytes are whole chars.
                    let c = text[i..].chars().next().unwrap_or(' ');
                    if !c.is_alphanumeric() {
                        break;
                    }
                    buf.extend(c.to_lowercase());
                    i += c.len_utf8();
                }
            }
            if buf.is_empty() {
                // A non-word non-ASCII char: skip it.
                let c = text[i..].chars().next().unwrap_or(' ');
                i += c.len_utf8();
            } else {
                f(start, buf);
            }
        } else if upper {
            buf.clear();
            buf.push_str(&text[start..i]);
            buf.make_ascii_lowercase();
            f(start, buf);
        } else {
            f(start, &text[start..i]);
        }
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
            if let Some(stem) = self.content_stem(&buf) {
                out.push((s, stem.into_owned()));
            }
        });
        out
    }

    /// The stem of a normalized word, or None for a stopword (quotes around it ignored).
    pub fn content_stem<'a>(&self, normalized: &'a str) -> Option<std::borrow::Cow<'a, str>> {
        let word = normalized.trim_matches('\'');
        (!self.is_stopword(word)).then(|| self.stem(word))
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

    proptest::proptest! {
        #[test]
        fn ascii_fast_path_matches_uax29(s in "[a-zA-Z0-9_.,;:'\" \n()-]{0,40}") {
            let mut fast = Vec::new();
            ascii_words(&s, Span::new(0, s.len()), &mut |sp: Span, _: &str| fast.push(sp));
            let mut full = Vec::new();
            unicode_words(&s, Span::new(0, s.len()), &mut |sp: Span, _: &str| full.push(sp));
            proptest::prop_assert_eq!(fast, full);
        }
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
