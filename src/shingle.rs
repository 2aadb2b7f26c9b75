//! Stage 3, shingle: normalized words → word k-gram hashes (`u64`).
//!
//! Each word is normalized and hashed once with a fixed-seed `ahash`; a k-gram's hash mixes
//! its k word hashes, so no shingle string is ever built. A text shorter than k words gives
//! one shingle of all its words, so short documents still have a sketch.

use crate::span::Span;
use crate::tokenize::{alnum_words, normalize, words};

/// Fixed seeds: the same text gives the same shingle hashes on every run and thread.
const SEEDS: [u64; 4] = [
    0x243f_6a88_85a3_08d3,
    0x1319_8a2e_0370_7344,
    0xa409_3822_299f_31d0,
    0x082e_fa98_ec4e_6c89,
];

/// How a text is split into words before shingling.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum WordSplit {
    /// [`crate::tokenize::words`]: UAX #29 words ("don't", "3.14" stay one word), NFKC,
    /// spaceless scripts as character bigrams. The default (doc mode).
    #[default]
    Unicode,
    /// Maximal runs of Unicode letters, digits and `_`, lowercased (Python's `\w+`, the usual
    /// convention of corpus dedup tools). The default of `deja corpus`.
    Alnum,
}

/// Hashes words and word k-grams.
#[derive(Clone)]
pub struct Shingler {
    k: usize,
    hasher: ahash::RandomState,
    split: WordSplit,
    seed: u64,
}

impl Shingler {
    /// A shingler of word `k`-grams (k ≥ 1).
    pub fn new(k: usize) -> Self {
        Shingler {
            k: k.max(1),
            hasher: ahash::RandomState::with_seeds(SEEDS[0], SEEDS[1], SEEDS[2], SEEDS[3]),
            split: WordSplit::Unicode,
            seed: 0,
        }
    }

    /// The same shingler with its k-gram hashes seeded by `seed` (k-gram hashes are then
    /// one random hash function per seed, such as one-permutation MinHash needs).
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// The same shingler splitting words by `split`.
    pub fn with_split(mut self, split: WordSplit) -> Self {
        self.split = split;
        self
    }

    /// How words are split.
    pub fn split(&self) -> WordSplit {
        self.split
    }

    /// The shingle size k.
    pub fn k(&self) -> usize {
        self.k
    }

    /// The 64-bit hash of one (already normalized) word: seeded ahash for
    /// [`WordSplit::Unicode`], a cheaper 8-bytes-at-a-time hash for [`WordSplit::Alnum`].
    pub fn hash_word(&self, word: &str) -> u64 {
        match self.split {
            WordSplit::Unicode => self.hasher.hash_one(word),
            WordSplit::Alnum => hash_bytes(SEEDS[2], word.as_bytes()),
        }
    }

    /// Appends the normalized word hashes of `text[span]` to `out`.
    pub fn word_hashes(&self, text: &str, span: Span, out: &mut Vec<u64>) {
        if self.split == WordSplit::Alnum {
            return alnum_word_hashes(SEEDS[2], span.slice(text), |_, h| out.push(h));
        }
        let mut buf = String::new();
        words(text, span, |_, w| {
            normalize(w, &mut buf);
            out.push(self.hash_word(&buf));
        });
    }

    /// As [`Shingler::word_hashes`], also appending each word's start (byte offset in `text`)
    /// to `starts`.
    pub fn word_hashes_at(
        &self,
        text: &str,
        span: Span,
        out: &mut Vec<u64>,
        starts: &mut Vec<usize>,
    ) {
        if self.split == WordSplit::Alnum {
            return alnum_word_hashes(SEEDS[2], span.slice(text), |at, h| {
                starts.push(span.start + at);
                out.push(h)
            });
        }
        let mut buf = String::new();
        words(text, span, |sp, w| {
            normalize(w, &mut buf);
            starts.push(sp.start);
            out.push(self.hash_word(&buf));
        });
    }

    /// Appends the k-gram hashes of a sequence of word hashes to `out`.
    pub fn shingles_of(&self, word_hashes: &[u64], out: &mut Vec<u64>) {
        kgrams(word_hashes, self.k, self.seed, out);
    }

    /// The k-gram hashes of `text[span]`, sorted and without repeats (a shingle set).
    pub fn shingle_set(&self, text: &str, span: Span) -> Vec<u64> {
        let mut hashes = Vec::new();
        self.word_hashes(text, span, &mut hashes);
        let mut set = Vec::with_capacity(hashes.len());
        self.shingles_of(&hashes, &mut set);
        set.sort_unstable();
        set.dedup();
        set
    }
}

/// Appends the hashes of the word `k`-grams of `word_hashes` to `out` (one k-gram of all the
/// words when there are fewer than k), each mixed with `seed` by the finalizer.
pub fn kgrams(word_hashes: &[u64], k: usize, seed: u64, out: &mut Vec<u64>) {
    if word_hashes.is_empty() {
        return;
    }
    let k = k.clamp(1, word_hashes.len());
    // A rolling polynomial Σ w_i·R^(k−1−i) (mod 2^64) over the window: two multiplies per
    // k-gram whatever k, then the finalizer. Order matters (R^i differ); two windows that
    // differ in one word differ by (w − w')·R^j, never 0 as R is odd (invertible mod 2^64).
    let drop = (1..k).fold(1u64, |p, _| p.wrapping_mul(R));
    let mut h = word_hashes[..k]
        .iter()
        .fold(0u64, |h, &w| h.wrapping_mul(R).wrapping_add(w));
    out.reserve(word_hashes.len() - k + 1);
    out.push(fmix64(h ^ seed));
    for (&old, &new) in word_hashes.iter().zip(&word_hashes[k..]) {
        h = h
            .wrapping_sub(old.wrapping_mul(drop))
            .wrapping_mul(R)
            .wrapping_add(new);
        out.push(fmix64(h ^ seed));
    }
}

/// The base of the k-gram polynomial (odd, bits spread).
const R: u64 = 0x9e37_79b9_7f4a_7c15;

/// Byte classes for [`alnum_word_hashes`]: ASCII word characters, other ASCII, non-ASCII.
const WORD: u8 = 1;
const SEPARATOR: u8 = 0;
const NON_ASCII: u8 = 2;
static BYTE_CLASS: [u8; 256] = {
    let mut t = [NON_ASCII; 256];
    let mut b = 0;
    while b < 128 {
        let c = b as u8;
        t[b] = if c.is_ascii_alphanumeric() || c == b'_' {
            WORD
        } else {
            SEPARATOR
        };
        b += 1;
    }
    t
};

/// Calls `f(start, hash_bytes(seed, word))` for every word of [`alnum_words`] (lowercased
/// `\\w+` runs) — the same values, faster. ASCII stretches, nearly all of real text, are
/// split by bit masks (no branch per byte) and their words hashed straight from `text`, 8
/// bytes at a time, lowercased in registers. Only the runs around non-ASCII bytes (from the
/// ASCII separator before to the one after) go through `alnum_words`.
pub(crate) fn alnum_word_hashes(seed: u64, text: &str, mut f: impl FnMut(usize, u64)) {
    let bytes = text.as_bytes();
    let n = bytes.len();
    let mut buf = String::new();
    let mut at = 0;
    while at < n {
        // Up to the word that touches the first non-ASCII byte, if any.
        let a = ascii_word_hashes(seed, bytes, at, &mut f);
        if a == n {
            break;
        }
        let mut b = a;
        while b < n && BYTE_CLASS[bytes[b] as usize] != SEPARATOR {
            b += 1;
        }
        // `a` and `b` sit next to ASCII separators (or at the ends): char and word boundaries.
        alnum_words(&text[a..b], &mut buf, |i, w| {
            f(a + i, hash_bytes(seed, w.as_bytes()))
        });
        at = b;
    }
}

/// The words of `bytes[start..]` (`start` a word boundary) up to its first non-ASCII byte, by
/// 64-byte blocks: a mask of word bytes, whose changes of value are the words' starts and
/// ends. Returns where the ASCII words stop: the end, or the start of the word (or the
/// non-ASCII byte itself) at the first non-ASCII byte, which is left unhashed.
fn ascii_word_hashes(
    seed: u64,
    bytes: &[u8],
    start: usize,
    f: &mut impl FnMut(usize, u64),
) -> usize {
    let end = bytes.len();
    let mut block = start;
    let mut word_start = 0;
    let mut in_word = false;
    while block < end {
        let mut len = (end - block).min(64);
        let (mask, non_ascii) = match bytes[block..].first_chunk::<64>() {
            Some(chunk) if len == 64 => word_mask_64(chunk),
            _ => word_mask(&bytes[block..block + len]),
        };
        // Only the bytes before the first non-ASCII one (their edges are masked below).
        let stop = non_ascii != 0;
        if stop {
            len = non_ascii.trailing_zeros() as usize;
        }
        let mut edges = mask ^ ((mask << 1) | in_word as u64);
        if len < 64 {
            edges &= (1u64 << len) - 1;
        }
        while edges != 0 {
            let at = block + edges.trailing_zeros() as usize;
            edges &= edges - 1;
            if in_word {
                f(
                    word_start,
                    hash_ascii_lowercase(seed, bytes, word_start, at),
                );
            } else {
                word_start = at;
            }
            in_word = !in_word;
        }
        block += len;
        if stop {
            // A word running into the non-ASCII byte goes on past it.
            return if in_word { word_start } else { block };
        }
    }
    if in_word {
        f(
            word_start,
            hash_ascii_lowercase(seed, bytes, word_start, end),
        );
    }
    end
}

/// Bit j set when `bytes[j]` (j < 64) is an ASCII word character, and (second) when it is
/// not ASCII.
fn word_mask(bytes: &[u8]) -> (u64, u64) {
    let (mut mask, mut non_ascii) = (0u64, 0u64);
    for (j, &b) in bytes.iter().enumerate() {
        mask |= ((BYTE_CLASS[b as usize] == WORD) as u64) << j;
        non_ascii |= ((b >= 0x80) as u64) << j;
    }
    (mask, non_ascii)
}

/// [`word_mask`] of 64 bytes, 16 at a time with SSE2 (every x86-64 CPU has it).
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
fn word_mask_64(bytes: &[u8; 64]) -> (u64, u64) {
    use std::arch::x86_64::*;
    let (mut mask, mut non_ascii) = (0u64, 0u64);
    for (i, chunk) in bytes.chunks_exact(16).enumerate() {
        // SAFETY: SSE2 is part of x86-64; the load reads exactly the 16 bytes of `chunk`.
        let (bits, high) = unsafe {
            let v = _mm_loadu_si128(chunk.as_ptr().cast());
            let between = |x, lo: u8, hi: u8| {
                _mm_and_si128(
                    _mm_cmpgt_epi8(x, _mm_set1_epi8(lo as i8 - 1)),
                    _mm_cmplt_epi8(x, _mm_set1_epi8(hi as i8 + 1)),
                )
            };
            // Bytes ≥ 0x80 are negative as signed: never in a range of ASCII bytes here;
            // `| 0x20` folds capitals onto letters.
            let letter = between(_mm_or_si128(v, _mm_set1_epi8(0x20)), b'a', b'z');
            let digit = between(v, b'0', b'9');
            let underscore = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'_' as i8));
            let word = _mm_or_si128(_mm_or_si128(letter, digit), underscore);
            (_mm_movemask_epi8(word) as u16, _mm_movemask_epi8(v) as u16)
        };
        mask |= (bits as u64) << (16 * i);
        non_ascii |= (high as u64) << (16 * i);
    }
    (mask, non_ascii)
}

#[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
fn word_mask_64(bytes: &[u8; 64]) -> (u64, u64) {
    word_mask(bytes)
}

/// `hash_bytes(seed, bytes[start..end] lowercased)` for a run of ASCII word characters.
#[inline(always)]
fn hash_ascii_lowercase(seed: u64, bytes: &[u8], start: usize, end: usize) -> u64 {
    const K: u64 = 0x9fb2_1c65_1e98_df25;
    let mut h = seed ^ ((end - start) as u64).wrapping_mul(K);
    let mut at = start;
    while at < end {
        let take = (end - at).min(8);
        let w = match bytes.get(at..at + 8) {
            // Load 8 bytes and keep the word's (little-endian: the low ones).
            Some(b) => {
                u64::from_le_bytes(b.try_into().unwrap_or([0; 8])) & (u64::MAX >> (64 - 8 * take))
            }
            None => {
                let mut b = [0u8; 8];
                b[..take].copy_from_slice(&bytes[at..at + take]);
                u64::from_le_bytes(b)
            }
        };
        h = (h ^ ascii_lowercase_u64(w)).wrapping_mul(K).rotate_left(29);
        at += take;
    }
    fmix64(h)
}

/// Lowercases the ASCII capitals among 8 ASCII bytes (SWAR: no byte can carry into the next).
#[inline(always)]
fn ascii_lowercase_u64(w: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    let at_least_a = w.wrapping_add(ONES * (0x80 - b'A' as u64));
    let beyond_z = w.wrapping_add(ONES * (0x80 - b'Z' as u64 - 1));
    let upper = at_least_a & !beyond_z & (ONES * 0x80);
    w | (upper >> 2)
}

/// A fast 64-bit hash of a short byte string: 8-byte words folded by multiply-rotate, then
/// the MurmurHash3 finalizer.
#[inline(always)]
pub(crate) fn hash_bytes(seed: u64, bytes: &[u8]) -> u64 {
    const K: u64 = 0x9fb2_1c65_1e98_df25;
    let mut h = seed ^ (bytes.len() as u64).wrapping_mul(K);
    let mut chunks = bytes.chunks_exact(8);
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        h = (h ^ u64::from_le_bytes(w)).wrapping_mul(K).rotate_left(29);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        // Byte by byte: cheaper than a variable-length copy for the short tails of words.
        let mut w = 0u64;
        for (i, &b) in rest.iter().enumerate() {
            w |= (b as u64) << (8 * i);
        }
        h = (h ^ w).wrapping_mul(K).rotate_left(29);
    }
    fmix64(h)
}

/// The MurmurHash3 finalizer: spreads every input bit over the whole word.
#[inline]
pub(crate) fn fmix64(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(k: usize, text: &str) -> Vec<u64> {
        Shingler::new(k).shingle_set(text, Span::new(0, text.len()))
    }

    #[test]
    fn rolling_kgrams_equal_each_window_hashed_afresh() {
        let words: Vec<u64> = (0..40u64).map(|i| fmix64(i % 13)).collect();
        let afresh = |w: &[u64], seed: u64| {
            fmix64(
                w.iter()
                    .fold(0u64, |h, &x| h.wrapping_mul(R).wrapping_add(x))
                    ^ seed,
            )
        };
        for seed in [0, 7] {
            for k in 1..=8 {
                let mut rolled = Vec::new();
                kgrams(&words, k, seed, &mut rolled);
                let want: Vec<u64> = words.windows(k).map(|w| afresh(w, seed)).collect();
                assert_eq!(rolled, want, "k = {k}, seed = {seed}");
            }
        }
        // Fewer words than k: one k-gram of them all.
        let mut one = Vec::new();
        kgrams(&words[..3], 5, 0, &mut one);
        assert_eq!(one, [afresh(&words[..3], 0)]);
        // Seeds give other hashes.
        let (mut a, mut b) = (Vec::new(), Vec::new());
        kgrams(&words, 5, 1, &mut a);
        kgrams(&words, 5, 2, &mut b);
        assert!(a.iter().zip(&b).all(|(x, y)| x != y));
    }

    #[test]
    fn counts_kgrams() {
        assert_eq!(set(3, "a b c d e").len(), 3);
        assert_eq!(set(1, "a b a").len(), 2);
    }

    #[test]
    fn normalization_and_punctuation_do_not_matter() {
        assert_eq!(
            set(3, "The quick, brown fox!"),
            set(3, "the QUICK brown\nfox")
        );
    }

    #[test]
    fn order_matters() {
        assert_ne!(set(2, "a b"), set(2, "b a"));
    }

    #[test]
    fn short_texts_have_one_shingle_and_empty_none() {
        assert_eq!(set(5, "two words").len(), 1);
        assert!(set(5, " ... ").is_empty());
    }

    #[test]
    fn alnum_split_matches_python_w_runs() {
        let sh = Shingler::new(1).with_split(WordSplit::Alnum);
        let words = |t: &str| {
            let mut v = Vec::new();
            sh.word_hashes(t, Span::new(0, t.len()), &mut v);
            v
        };
        let h = |w: &str| sh.hash_word(w);
        assert_eq!(
            words("Don't pi=3.14 ÉTÉ_x"),
            vec![h("don"), h("t"), h("pi"), h("3"), h("14"), h("été_x")]
        );
        assert!(words(" -- ").is_empty());
        let unicode = Shingler::new(1);
        let mut v = Vec::new();
        unicode.word_hashes("don't", Span::new(0, 5), &mut v);
        assert_eq!(v, vec![unicode.hash_word("don't")]);
    }

    proptest::proptest! {
        /// The fast ASCII paths split and lowercase like the plain char-by-char definition.
        #[test]
        fn alnum_words_match_reference(t in "[a-zA-Z0-9_ .,'\n-]{0,40}|[aÉé_ -ßİ日本x.Z9]{0,20}") {
            let mut got = Vec::new();
            alnum_words(&t, &mut String::new(), |at, w| {
                assert!(t.is_char_boundary(at));
                got.push(w.to_string())
            });
            let mut want = Vec::new();
            let mut cur = String::new();
            for c in t.chars() {
                if c.is_alphanumeric() || c == '_' {
                    cur.extend(c.to_lowercase());
                } else if !cur.is_empty() {
                    want.push(std::mem::take(&mut cur));
                }
            }
            if !cur.is_empty() {
                want.push(cur);
            }
            proptest::prop_assert_eq!(got, want);
        }
    }

    /// (offset, hash) of each word of `t` by [`alnum_word_hashes`], and by [`alnum_words`]
    /// hashed one by one: the reference the fast path must equal.
    fn fast_and_reference_words(t: &str) -> [Vec<(usize, u64)>; 2] {
        let mut want = Vec::new();
        alnum_words(t, &mut String::new(), |at, w| {
            want.push((at, hash_bytes(7, w.as_bytes())))
        });
        let mut got = Vec::new();
        alnum_word_hashes(7, t, |at, h| got.push((at, h)));
        [got, want]
    }

    proptest::proptest! {
        /// The fused fast path hashes exactly the words of `alnum_words`, at the same offsets.
        #[test]
        fn alnum_word_hashes_equal_hashed_alnum_words(
            t in "[a-zA-Z0-9_ .,'\n-]{0,200}|[aÉé_ -ßİ日本x.Z9—]{0,30}|[A-Za-z_]{0,80}|[a-z é—.]{0,150}"
        ) {
            let [got, want] = fast_and_reference_words(&t);
            proptest::prop_assert_eq!(got, want);
        }
    }

    #[test]
    fn non_ascii_at_every_offset_of_a_block() {
        // ASCII runs longer than a block, then a non-ASCII byte inside, after or between
        // words: the SSE2 path stops there and the reference words go on.
        for filler in ["ab ", "x", " ", "A_1."] {
            for pre in 0..130 {
                for tail in ["é", "aé b", " 日本 x", "é".repeat(40).as_str()] {
                    let t = format!("{}{tail} {}", filler.repeat(pre), filler.repeat(30));
                    let [got, want] = fast_and_reference_words(&t);
                    assert_eq!(got, want, "{t:?}");
                }
            }
        }
    }

    #[test]
    fn word_mask_64_equals_the_byte_table() {
        let all: Vec<u8> = (0u8..=255).chain((0u8..=255).rev()).collect();
        for c in all.windows(64).step_by(7) {
            let chunk: &[u8; 64] = c.try_into().unwrap();
            assert_eq!(word_mask_64(chunk), word_mask(c));
        }
    }

    #[test]
    fn ascii_lowercase_u64_lowercases_only_capitals() {
        let all: Vec<u8> = (0u8..128).collect();
        for c in all.chunks(8) {
            let w = u64::from_le_bytes(c.try_into().unwrap());
            let want: Vec<u8> = c.iter().map(|b| b.to_ascii_lowercase()).collect();
            assert_eq!(ascii_lowercase_u64(w).to_le_bytes().to_vec(), want);
        }
    }

    #[test]
    fn same_input_same_hashes() {
        assert_eq!(
            set(5, "one two three four five six"),
            set(5, "one two three four five six")
        );
    }
}
