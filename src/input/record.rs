//! The fast path of JSONL records: the text and id fields of one JSON object, in one pass
//! that unescapes only the text.
//!
//! Corpus records are flat objects whose text is long and dense with escapes (a `\n` every
//! few dozen bytes): serde_json spends most of its time there, one call per escape. This
//! scanner finds the next quote, backslash or control byte 16 bytes at a time and decodes
//! escapes inline. It accepts a strict subset of JSON: every line it accepts, serde_json
//! parses to the same fields. Anything else (invalid JSON, escaped keys, lone surrogates,
//! deep nesting, a text that is not a string) gives `None`, and the caller parses the line
//! with serde_json, which also words the errors.

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
        // Room for the copy of a whole last block past the closing quote.
        let mut out = Vec::with_capacity(self.bytes.len() - self.at + 16);
        loop {
            let end = copy_plain(self.bytes, self.at, &mut out);
            self.at = end + 1;
            match *self.bytes.get(end)? {
                b'"' => return String::from_utf8(out).ok(),
                b'\\' => match self.escape()? {
                    Escaped::Byte(b) => out.push(b),
                    Escaped::Char(c) => {
                        out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes())
                    }
                },
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
    #[inline(always)]
    fn escape(&mut self) -> Option<Escaped> {
        let e = self.next()?;
        match UNESCAPE[e as usize] {
            0 if e == b'u' => self.unicode_escape().map(Escaped::Char),
            0 => None,
            b => Some(Escaped::Byte(b)),
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
        Some(())
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

enum Escaped {
    Byte(u8),
    Char(char),
}

fn is_special(b: u8) -> bool {
    b == b'"' || b == b'\\' || b < 0x20
}

/// The position of the first quote, backslash or control byte (< 0x20) at or after `from`
/// (`bytes.len()` if none), and whether a byte ≥ 0x80 came before it.
fn find_special(bytes: &[u8], from: usize) -> (usize, bool) {
    let mut i = from;
    let mut high = false;
    while let Some(chunk) = bytes.get(i..i + 16) {
        let (special, non_ascii) = special_mask(chunk);
        if special != 0 {
            let k = special.trailing_zeros();
            return (i + k as usize, high || non_ascii & ((1 << k) - 1) != 0);
        }
        high |= non_ascii != 0;
        i += 16;
    }
    for (j, &b) in bytes[i..].iter().enumerate() {
        if is_special(b) {
            return (i + j, high);
        }
        high |= b >= 0x80;
    }
    (bytes.len(), high)
}

/// As [`find_special`], appending the bytes before the special one to `out`: whole blocks
/// are copied (a fixed-size copy, no call) and the excess cut off.
fn copy_plain(bytes: &[u8], from: usize, out: &mut Vec<u8>) -> usize {
    let mut i = from;
    while let Some(chunk) = bytes.get(i..i + 16) {
        let (special, _) = special_mask(chunk);
        out.extend_from_slice(chunk);
        if special != 0 {
            let k = special.trailing_zeros() as usize;
            out.truncate(out.len() - 16 + k);
            return i + k;
        }
        i += 16;
    }
    for &b in &bytes[i..] {
        if is_special(b) {
            return i;
        }
        out.push(b);
        i += 1;
    }
    i
}

/// Bit masks of the special bytes of `chunk` (16 bytes) and of its bytes ≥ 0x80.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn special_mask(chunk: &[u8]) -> (u32, u32) {
    use std::arch::x86_64::*;
    assert_eq!(chunk.len(), 16);
    // SAFETY: SSE2 is part of x86-64; the load reads exactly the 16 bytes of `chunk`.
    unsafe {
        let v = _mm_loadu_si128(chunk.as_ptr().cast());
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

#[cfg(not(target_arch = "x86_64"))]
fn special_mask(chunk: &[u8]) -> (u32, u32) {
    chunk.iter().enumerate().fold((0, 0), |(s, h), (j, &b)| {
        (
            s | (is_special(b) as u32) << j,
            h | ((b >= 0x80) as u32) << j,
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// `fields` either leaves `line` to serde_json or agrees with it.
    fn agrees(line: &[u8]) -> bool {
        match fields(line, "text", "id") {
            None => true,
            Some((text, id)) => {
                let reference = super::super::serde_fields(line, "text", "id");
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

    /// JSON text for `v` with every non-ASCII character escaped as `\uXXXX` (surrogate
    /// pairs above the BMP), as Python's json.dumps writes by default.
    fn ascii_json(v: &Value) -> String {
        let mut out = String::new();
        for c in v.to_string().chars() {
            if c.is_ascii() {
                out.push(c);
            } else {
                for unit in c.encode_utf16(&mut [0; 2]) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
        }
        out
    }

    fn value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            (-1e6f64..1e6).prop_map(Value::from),
            "(\\PC|[\"\\\\\n\t\x01-\x1f])*".prop_map(Value::from),
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
            let text = if ascii { ascii_json(&object) } else { object.to_string() };
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
        }
    }
}
