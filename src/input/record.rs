//! The fast path of JSONL records: the text and id fields of one JSON object, in one pass
//! that unescapes only the text.
//!
//! Corpus records are flat objects whose text is long and dense with escapes (a `\n` every
//! few dozen bytes): serde_json spends most of its time there, one call per escape. This
//! scanner reads strings by 64-byte windows, one bit mask of quotes, backslashes and control
//! bytes per window, and decodes the one-character escapes of a window from its mask. It
//! accepts a strict subset of JSON: every line it accepts, serde_json parses to the same
//! fields. Anything else (invalid JSON, escaped keys, lone surrogates, deep nesting, a text
//! that is not a string) gives `None`, and the caller parses the line with serde_json, which
//! also words the errors.

use serde_json::Value;

/// Nesting deeper than this is left to serde_json (which has its own limit).
const MAX_DEPTH: usize = 64;

/// The values of the fields `text_key` and `id_key` of the JSON object `line` (the last of
/// repeated keys wins), or `None` when serde_json must decide. The text is `Some` only as a
/// string.
pub(super) fn fields(
    line: &[u8],
    text_key: &str,
    id_key: &str,
) -> Option<(Option<String>, Option<Value>)> {
    let mut p = Parser { bytes: line, at: 0 };
    let (mut text, mut id) = (None, None);
    p.skip_ws();
    p.expect(b'{')?;
    p.skip_ws();
    if p.peek() == Some(b'}') {
        p.at += 1;
    } else {
        loop {
            p.expect(b'"')?;
            let key = p.key()?;
            p.skip_ws();
            p.expect(b':')?;
            p.skip_ws();
            if key == text_key.as_bytes() {
                p.expect(b'"')?;
                text = Some(p.string()?);
            } else if key == id_key.as_bytes() {
                let start = p.at;
                p.skip_value(0)?;
                id = Some(serde_json::from_slice(&line[start..p.at]).ok()?);
            } else {
                p.skip_value(0)?;
            }
            p.skip_ws();
            match p.next()? {
                b',' => p.skip_ws(),
                b'}' => break,
                _ => return None,
            }
        }
    }
    p.skip_ws();
    (p.at == line.len()).then_some((text, id))
}

struct Parser<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn next(&mut self) -> Option<u8> {
        let b = self.peek()?;
        self.at += 1;
        Some(b)
    }

    fn expect(&mut self, b: u8) -> Option<()> {
        (self.next()? == b).then_some(())
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.at += 1;
        }
    }

    /// The raw bytes of a key (after its opening quote) without escapes, valid UTF-8.
    fn key(&mut self) -> Option<&'a [u8]> {
        let start = self.at;
        let (end, non_ascii) = find_special(self.bytes, start);
        if self.bytes.get(end) != Some(&b'"') {
            return None;
        }
        self.at = end + 1;
        let key = &self.bytes[start..end];
        if non_ascii {
            std::str::from_utf8(key).ok()?;
        }
        Some(key)
    }

    /// Decodes a string (after its opening quote) up to and past its closing quote.
    fn string(&mut self) -> Option<String> {
        let bytes = self.bytes;
        // At most the rest of the line, and room for a window copied whole.
        let mut out = Vec::with_capacity(bytes.len() - self.at + 64);
        let mut i = self.at;
        loop {
            i = decode_windows(bytes, i, &mut out);
            let (end, _) = find_special(bytes, i);
            out.extend_from_slice(&bytes[i..end]);
            match *bytes.get(end)? {
                b'"' => {
                    self.at = end + 1;
                    if out.capacity() > 2 * out.len() + 64 {
                        // A short text before long fields: do not keep the line's size.
                        out.shrink_to_fit();
                    }
                    return String::from_utf8(out).ok();
                }
                b'\\' => {
                    self.at = end + 1;
                    let c = self.escape()?;
                    out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
                    i = self.at;
                }
                _ => return None, // a control character
            }
        }
    }

    /// Skips a string (after its opening quote), checking it as [`Parser::string`] would.
    fn skip_string(&mut self) -> Option<()> {
        let start = self.at;
        let mut non_ascii = false;
        loop {
            let (end, high) = find_special(self.bytes, self.at);
            non_ascii |= high;
            self.at = end + 1;
            match *self.bytes.get(end)? {
                b'"' => break,
                b'\\' => {
                    self.escape()?;
                }
                _ => return None,
            }
        }
        if non_ascii {
            // Escapes are ASCII: the raw bytes are valid UTF-8 when the literal ones are.
            std::str::from_utf8(&self.bytes[start..self.at - 1]).ok()?;
        }
        Some(())
    }

    /// Decodes the escape after a backslash.
    fn escape(&mut self) -> Option<char> {
        let e = self.next()?;
        match UNESCAPE[e as usize] {
            0 if e == b'u' => self.unicode_escape(),
            0 => None,
            b => Some(b as char),
        }
    }

    /// Decodes the hex digits of a `\u` escape, and of the low half after a high surrogate
    /// (a lone half is left to serde_json).
    fn unicode_escape(&mut self) -> Option<char> {
        let unit = self.hex4()?;
        let code = match unit {
            0xd800..=0xdbff => {
                if self.next()? != b'\\' || self.next()? != b'u' {
                    return None;
                }
                let low = self.hex4()?;
                if !(0xdc00..=0xdfff).contains(&low) {
                    return None;
                }
                0x10000 + ((unit - 0xd800) << 10) + (low - 0xdc00)
            }
            _ => unit,
        };
        // A lone low half is no char either.
        char::from_u32(code)
    }

    fn hex4(&mut self) -> Option<u32> {
        let digits = self.bytes.get(self.at..self.at + 4)?;
        self.at += 4;
        digits
            .iter()
            .try_fold(0, |n, &d| Some(n << 4 | (d as char).to_digit(16)?))
    }

    /// Skips one JSON value, checking its syntax.
    fn skip_value(&mut self, depth: usize) -> Option<()> {
        match self.next()? {
            b'"' => self.skip_string(),
            b'{' => self.nested(depth, b'}', |p| {
                p.expect(b'"')?;
                p.skip_string()?;
                p.skip_ws();
                p.expect(b':')?;
                p.skip_ws();
                p.skip_value(depth + 1)
            }),
            b'[' => self.nested(depth, b']', |p| p.skip_value(depth + 1)),
            b't' => self.literal(b"rue"),
            b'f' => self.literal(b"alse"),
            b'n' => self.literal(b"ull"),
            b'-' | b'0'..=b'9' => {
                self.at -= 1;
                self.skip_number()
            }
            _ => None,
        }
    }

    /// The members of an array or object (after its opening bracket), each skipped by
    /// `member`, comma-separated, up to `close`.
    fn nested(
        &mut self,
        depth: usize,
        close: u8,
        mut member: impl FnMut(&mut Self) -> Option<()>,
    ) -> Option<()> {
        if depth >= MAX_DEPTH {
            return None;
        }
        self.skip_ws();
        if self.peek() == Some(close) {
            self.at += 1;
            return Some(());
        }
        loop {
            member(self)?;
            self.skip_ws();
            match self.next()? {
                b',' => self.skip_ws(),
                b if b == close => return Some(()),
                _ => return None,
            }
        }
    }

    fn literal(&mut self, rest: &[u8]) -> Option<()> {
        let end = self.at + rest.len();
        (self.bytes.get(self.at..end)? == rest).then(|| self.at = end)
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`
    fn skip_number(&mut self) -> Option<()> {
        let start = self.at;
        if self.peek() == Some(b'-') {
            self.at += 1;
        }
        match self.next()? {
            b'0' => {}
            b'1'..=b'9' => self.digits(0)?,
            _ => return None,
        }
        if self.peek() == Some(b'.') {
            self.at += 1;
            self.digits(1)?;
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.at += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.at += 1;
            }
            self.digits(1)?;
        }
        // serde_json refuses a number beyond f64 (`1e999`): so must this subset (found by the
        // differential fuzzer). Short integers cannot be.
        let num = &self.bytes[start..self.at];
        if num.len() <= 18 && !num.iter().any(|b| matches!(b, b'.' | b'e' | b'E')) {
            return Some(());
        }
        let v: f64 = std::str::from_utf8(num).ok()?.parse().ok()?;
        v.is_finite().then_some(())
    }

    /// Skips digits; `None` when there are fewer than `min`.
    fn digits(&mut self, min: usize) -> Option<()> {
        let start = self.at;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.at += 1;
        }
        (self.at - start >= min).then_some(())
    }
}

/// The byte each one-character escape stands for (0: none; `\u` is decoded apart).
static UNESCAPE: [u8; 256] = {
    let mut t = [0; 256];
    t[b'"' as usize] = b'"';
    t[b'\\' as usize] = b'\\';
    t[b'/' as usize] = b'/';
    t[b'b' as usize] = 0x08;
    t[b'f' as usize] = 0x0c;
    t[b'n' as usize] = b'\n';
    t[b'r' as usize] = b'\r';
    t[b't' as usize] = b'\t';
    t
};

/// The position of the first quote, backslash or control byte (< 0x20) at or after `from`
/// (`bytes.len()` if none), and whether a byte ≥ 0x80 came before it.
fn find_special(bytes: &[u8], from: usize) -> (usize, bool) {
    let mut high = false;
    let (blocks, rest) = bytes[from..].as_chunks::<16>();
    for (n, block) in blocks.iter().enumerate() {
        let (special, non_ascii) = special_mask(block);
        if special != 0 {
            let k = special.trailing_zeros();
            let high = high || non_ascii & ((1 << k) - 1) != 0;
            return (from + 16 * n + k as usize, high);
        }
        high |= non_ascii != 0;
    }
    let tail = bytes.len() - rest.len();
    for (j, &b) in rest.iter().enumerate() {
        if is_special(b) {
            return (tail + j, high);
        }
        high |= b >= 0x80;
    }
    (bytes.len(), high)
}

/// Decodes `bytes[from..]` into `out` by 64-byte windows while it can: plain bytes and the
/// one-character escapes (`\n`, `\"`, ...), all of a window's found from one bit mask (a
/// window costs one unpredictable branch, not one per escape: about twice as fast on
/// escape-dense text as stopping at each). Returns where it stopped: at a quote, control
/// byte, `\u` or bad escape, an escape split by the window's end, or where fewer than 64
/// bytes remain.
fn decode_windows(bytes: &[u8], from: usize, out: &mut Vec<u8>) -> usize {
    let mut i = from;
    // A window and 64 bytes of padding: runs are copied by fixed-size copies, cut after.
    let mut pad = [0u8; 128];
    while let Some(window) = bytes[i..].first_chunk::<64>() {
        let (blocks, _) = window.as_chunks::<16>();
        let mut special = (blocks.iter().enumerate()).fold(0u64, |m, (q, block)| {
            m | (special_mask(block).0 as u64) << (16 * q)
        });
        if special == 0 {
            out.extend_from_slice(window);
            i += 64;
            continue;
        }
        pad[..64].copy_from_slice(window);
        // Appends `window[from..to]`: a fixed-size copy (no call) cut to length.
        let copy = |out: &mut Vec<u8>, from: usize, to: usize| {
            let len = out.len() + to - from;
            out.extend_from_slice(&pad[from..from + 64]);
            out.truncate(len);
        };
        let mut run = 0; // the window offset of the plain run being copied
        while special != 0 {
            let k = special.trailing_zeros() as usize;
            copy(out, run, k);
            let unescaped = match window.get(k..k + 2) {
                Some(&[b'\\', e]) => UNESCAPE[e as usize],
                _ => 0,
            };
            if unescaped == 0 {
                return i + k;
            }
            out.push(unescaped);
            run = k + 2;
            // The escaped byte may itself be special (`\\`, `\"`): skip it too.
            special &= u64::MAX.checked_shl(run as u32).unwrap_or(0);
        }
        copy(out, run, 64);
        i += 64;
    }
    i
}

fn is_special(b: u8) -> bool {
    b == b'"' || b == b'\\' || b < 0x20
}

/// Bit masks of the special bytes of `block` and of its bytes ≥ 0x80.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[inline(always)]
fn special_mask(block: &[u8; 16]) -> (u32, u32) {
    use std::arch::x86_64::*;
    // SAFETY: SSE2 is part of x86-64; the load reads exactly the 16 bytes of `block`.
    unsafe {
        let v = _mm_loadu_si128(block.as_ptr().cast());
        let quote = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'"' as i8));
        let backslash = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\\' as i8));
        // Unsigned v <= 0x1f: max(v, 0x1f) == 0x1f.
        let limit = _mm_set1_epi8(0x1f);
        let control = _mm_cmpeq_epi8(_mm_max_epu8(v, limit), limit);
        let special = _mm_or_si128(_mm_or_si128(quote, backslash), control);
        (
            _mm_movemask_epi8(special) as u32,
            _mm_movemask_epi8(v) as u32,
        )
    }
}

#[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
fn special_mask(block: &[u8; 16]) -> (u32, u32) {
    special_mask_bytes(block)
}

/// [`special_mask`] byte by byte.
#[cfg(any(test, not(all(target_arch = "x86_64", target_feature = "sse2"))))]
fn special_mask_bytes(block: &[u8; 16]) -> (u32, u32) {
    block.iter().enumerate().fold((0, 0), |(s, h), (j, &b)| {
        (
            s | (is_special(b) as u32) << j,
            h | ((b >= 0x80) as u32) << j,
        )
    })
}

#[cfg(test)]
#[path = "../../tests/util/ascii_json.rs"]
mod ascii_json;

#[cfg(test)]
mod tests {
    use super::ascii_json::ascii_only;
    use super::*;
    use proptest::prelude::*;

    /// `fields` either leaves `line` to serde_json or agrees with it.
    fn agrees(line: &[u8]) -> bool {
        agrees_on(line, "text", "id")
    }

    fn agrees_on(line: &[u8], text_key: &str, id_key: &str) -> bool {
        match fields(line, text_key, id_key) {
            None => true,
            Some((text, id)) => {
                let reference = super::super::serde_fields(line, text_key, id_key);
                reference.ok() == Some((text.map(Value::String), id))
            }
        }
    }

    #[test]
    fn reads_what_serde_json_reads() {
        let accepted: &[&[u8]] = &[
            br#"{"id": "s0", "text": "two\nlines, \"quoted\" \\ \/ \b\f\r\t"}"#,
            br#"{"text":"caf\u00e9 \u00E9 \ud83d\ude00 \u0000 end","id":7}"#,
            "{\"text\": \"déjà vu 日本\", \"id\": [1, {\"a\": null}]}".as_bytes(),
            br#" { "meta" : { "url" : "x", "n" : [ -0.5e+3, 0, 12, true, false, null, [] , {} ] } , "text" : "" } "#,
            br#"{"text": "first", "text": "last wins", "id": -1.25E-2}"#,
            br#"{"id": "no text"}"#,
            b"{}",
            // Long runs and escapes right at block boundaries.
            br#"{"text": "0123456789abcde\n0123456789abcdef\n0123456789abcdefghijklmnopqrstu\"v"}"#,
        ];
        for line in accepted {
            assert!(
                fields(line, "text", "id").is_some(),
                "{}",
                String::from_utf8_lossy(line)
            );
            assert!(agrees(line), "{}", String::from_utf8_lossy(line));
        }
        let (text, id) = fields(accepted[1], "text", "id").unwrap();
        assert_eq!(text.unwrap(), "café é 😀 \0 end");
        assert_eq!(id, Some(Value::from(7)));
        let (text, _) = fields(accepted[4], "text", "id").unwrap();
        assert_eq!(text.as_deref(), Some("last wins"));
    }

    #[test]
    fn escapes_at_every_offset_of_a_window() {
        for escape in [
            r"\n",
            r"\\",
            r#"\""#,
            r"\/",
            r"\u00e9",
            r"\ud83d\ude00",
            r"\\\n",
        ] {
            for at in 0..140 {
                for tail in [0, 1, 63, 64, 65, 130] {
                    let line = format!(
                        r#"{{"text": "{}{escape}{}{escape}"}}"#,
                        "a".repeat(at),
                        "é".repeat(tail)
                    );
                    assert!(fields(line.as_bytes(), "text", "id").is_some(), "{line}");
                    assert!(agrees(line.as_bytes()), "{line}");
                }
            }
        }
        // Bytes a window must stop at, at every offset.
        for bad in ["\x01", "\\q", "\\u12x", "\\ ", "\\ud83d\\n"] {
            for at in 0..140 {
                let line = format!(r#"{{"text": "{}{bad}{}"}}"#, "a".repeat(at), "b".repeat(70));
                assert_eq!(fields(line.as_bytes(), "text", "id"), None, "{line}");
            }
        }
    }

    #[test]
    fn any_field_names() {
        let line = "{\"\": \"empty\", \"é\": \"accent\", \"k\": \"both\"}".as_bytes();
        for (text_key, id_key, text) in
            [("", "k", "empty"), ("é", "", "accent"), ("k", "k", "both")]
        {
            let (got, _) = fields(line, text_key, id_key).unwrap();
            assert_eq!(got.as_deref(), Some(text));
            assert!(agrees_on(line, text_key, id_key));
        }
    }

    #[test]
    fn nesting_up_to_the_limit() {
        let nested = |n: usize| {
            format!(
                r#"{{"a": {}{}, "text": "x"}}"#,
                "[".repeat(n),
                "]".repeat(n)
            )
        };
        assert!(fields(nested(MAX_DEPTH).as_bytes(), "text", "id").is_some());
        assert!(agrees(nested(MAX_DEPTH).as_bytes()));
        assert_eq!(fields(nested(MAX_DEPTH + 1).as_bytes(), "text", "id"), None);
    }

    #[test]
    fn a_short_text_does_not_keep_the_line_size() {
        let line = format!(r#"{{"text": "short", "html": "{}"}}"#, "x".repeat(100_000));
        let (text, _) = fields(line.as_bytes(), "text", "id").unwrap();
        assert!(text.unwrap().capacity() < 1000);
    }

    #[test]
    fn the_mask_matches_the_bytes() {
        let all: Vec<u8> = (0u8..=255).chain((0u8..=255).rev()).collect();
        for block in all.windows(16) {
            let block: &[u8; 16] = block.try_into().unwrap();
            assert_eq!(special_mask(block), special_mask_bytes(block));
        }
    }

    #[test]
    fn leaves_the_rest_to_serde_json() {
        let deep = format!(
            "{{\"a\": {}1{}, \"text\": \"x\"}}",
            "[".repeat(70),
            "]".repeat(70)
        );
        let refused: &[&[u8]] = &[
            br#"{"te\u0078t": "escaped key"}"#,
            br#"{"text": "lone \ud83d high"}"#,
            br#"{"text": "lone \ude00 low"}"#,
            br#"{"text": "\ud83d\u0041 high then not low"}"#,
            br#"{"text": "bad \x escape"}"#,
            br#"{"text": "short \u12"}"#,
            b"{\"text\": \"raw \x01 control\"}",
            b"{\"text\": \"tab\tinside\"}",
            b"{\"text\": \"bad utf-8 \xff\"}",
            b"{\"other\": \"bad utf-8 \xc3\", \"text\": \"x\"}",
            b"{\"k\xff\": 1}",
            br#"{"text": 5}"#,
            br#"{"text": "x",}"#,
            br#"{"text": "x"} trailing"#,
            br#"{"text" "x"}"#,
            br#"{"n": 01}"#,
            br#"{"n": 1.}"#,
            br#"{"n": -}"#,
            br#"{"n": .5}"#,
            br#"{"n": 1e}"#,
            br#"{"n": +1}"#,
            br#"{"n": tru}"#,
            br#"{"text": "unterminated"#,
            br#"{"id": 1e999, "text": "id out of range"}"#,
            br#"["not", "an object"]"#,
            deep.as_bytes(),
        ];
        for line in refused {
            assert_eq!(
                fields(line, "text", "id"),
                None,
                "{}",
                String::from_utf8_lossy(line)
            );
        }
    }

    fn value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            (-1e6f64..1e6).prop_map(Value::from),
            "(\\PC|[\"\\\\\n\t\x01-\x1f]){0,200}".prop_map(Value::from),
        ];
        leaf.prop_recursive(4, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
                prop::collection::vec(("(text|id|[a-zé\"\\\\]{0,3})", inner), 0..4)
                    .prop_map(|kv| Value::Object(kv.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

        /// On JSON objects of every shape, written either way, with one byte changed or not:
        /// `fields` agrees with serde_json whenever it answers, and it answers on all the
        /// valid objects with a string text.
        #[test]
        fn agrees_with_serde_json(
            record in prop::collection::vec(("(text|id|meta|[a-z]{1,3})", value()), 0..5),
            ascii in any::<bool>(),
            edit in prop::option::of((any::<prop::sample::Index>(), prop::sample::select(
                &b"\"\\{}[],:u0123456789eE.-+ \x01\x7f\xff\xc3tfn"[..]), 0..3usize)),
        ) {
            let object = Value::Object(record.into_iter().collect());
            let text = if ascii { ascii_only(&object.to_string()) } else { object.to_string() };
            let mut line = text.into_bytes();
            if let Some((at, byte, how)) = edit {
                let i = at.index(line.len() + 1);
                match how {
                    0 => line.insert(i, byte),
                    1 if i < line.len() => line[i] = byte,
                    _ if i < line.len() => { line.remove(i); }
                    _ => {}
                }
            } else if object.get("text").is_none_or(Value::is_string) {
                prop_assert!(fields(&line, "text", "id").is_some());
            }
            prop_assert!(agrees(&line), "{}", String::from_utf8_lossy(&line));
            prop_assert!(agrees_on(&line, "meta", "meta"), "{}", String::from_utf8_lossy(&line));
        }
    }
}
