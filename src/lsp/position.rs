//! Positions: deja's byte offsets ↔ LSP `Position`s (0-based line, and a character offset in
//! the negotiated encoding: UTF-16 code units by default, bytes when the client offers
//! `utf-8`), and the edits of `textDocument/didChange` applied to a text.
//!
//! Lines end at `\n`, `\r\n` or `\r`, as the protocol says. A position past the end of its line
//! means the end of the line; one past the last line means the end of the text; one inside a
//! character (a UTF-16 surrogate pair, a UTF-8 sequence) means the start of that character.

use lsp_types::{Position, Range, TextDocumentContentChangeEvent};

/// How a `Position`'s character offset counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    /// UTF-8 code units (bytes).
    Utf8,
    /// UTF-16 code units (the protocol's default).
    Utf16,
}

/// The line starts of a text.
#[derive(Clone, Debug)]
pub struct LineMap {
    /// Byte offset of each line's first byte.
    starts: Vec<usize>,
    len: usize,
}

impl LineMap {
    /// The lines of `text`.
    pub fn new(text: &str) -> LineMap {
        let b = text.as_bytes();
        let mut starts = vec![0];
        let mut i = 0;
        while i < b.len() {
            match b[i] {
                b'\n' => starts.push(i + 1),
                b'\r' if b.get(i + 1) == Some(&b'\n') => {
                    starts.push(i + 2);
                    i += 1;
                }
                b'\r' => starts.push(i + 1),
                _ => {}
            }
            i += 1;
        }
        LineMap {
            starts,
            len: text.len(),
        }
    }

    /// The byte range of line `line` (0-based) without its terminator.
    fn line_bounds(&self, text: &str, line: usize) -> (usize, usize) {
        let start = self.starts[line];
        let mut end = self.starts.get(line + 1).copied().unwrap_or(self.len);
        let b = text.as_bytes();
        if end > start && b[end - 1] == b'\n' {
            end -= 1;
        }
        if end > start && b[end - 1] == b'\r' {
            end -= 1;
        }
        (start, end)
    }

    /// The position of the byte at `offset` (clamped to the text, floored to a char boundary).
    pub fn position(&self, text: &str, offset: usize, enc: Encoding) -> Position {
        let mut offset = offset.min(self.len);
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.starts.partition_point(|&s| s <= offset) - 1;
        let start = self.starts[line];
        let character = match enc {
            Encoding::Utf8 => offset - start,
            Encoding::Utf16 => text[start..offset].chars().map(char::len_utf16).sum(),
        };
        Position::new(line as u32, character as u32)
    }

    /// The range of the bytes `start..end`.
    pub fn range(&self, text: &str, start: usize, end: usize, enc: Encoding) -> Range {
        Range::new(
            self.position(text, start, enc),
            self.position(text, end, enc),
        )
    }

    /// The byte offset of `pos` in `text`.
    pub fn offset(&self, text: &str, pos: Position, enc: Encoding) -> usize {
        let line = pos.line as usize;
        if line >= self.starts.len() {
            return self.len;
        }
        let (start, end) = self.line_bounds(text, line);
        let want = pos.character as usize;
        match enc {
            Encoding::Utf8 => {
                let mut o = (start + want).min(end);
                while !text.is_char_boundary(o) {
                    o -= 1;
                }
                o
            }
            Encoding::Utf16 => {
                let mut units = 0;
                for (i, c) in text[start..end].char_indices() {
                    let next = units + c.len_utf16();
                    if next > want {
                        return start + i;
                    }
                    units = next;
                }
                end
            }
        }
    }
}

/// Applies the changes of one `didChange` notification to `text`, in order.
pub fn apply_changes(
    text: &mut String,
    changes: Vec<TextDocumentContentChangeEvent>,
    enc: Encoding,
) {
    for change in changes {
        match change.range {
            None => *text = change.text,
            Some(range) => {
                let lines = LineMap::new(text);
                let a = lines.offset(text, range.start, enc);
                let b = lines.offset(text, range.end, enc).max(a);
                text.replace_range(a..b, &change.text);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "aé😀b\r\n漢字 x\rlast\n";

    #[test]
    fn positions_count_utf16_units_or_bytes() {
        let m = LineMap::new(TEXT);
        let b = TEXT.find('b').unwrap(); // 1 + 2 + 4 bytes in
        assert_eq!(m.position(TEXT, b, Encoding::Utf16), Position::new(0, 4));
        assert_eq!(m.position(TEXT, b, Encoding::Utf8), Position::new(0, 7));
        let x = TEXT.find('x').unwrap();
        assert_eq!(m.position(TEXT, x, Encoding::Utf16), Position::new(1, 3));
        assert_eq!(m.position(TEXT, x, Encoding::Utf8), Position::new(1, 7));
        let l = TEXT.find("last").unwrap(); // after a lone \r
        assert_eq!(m.position(TEXT, l, Encoding::Utf16), Position::new(2, 0));
        assert_eq!(
            m.position(TEXT, TEXT.len(), Encoding::Utf16),
            Position::new(3, 0)
        );
    }

    #[test]
    fn offsets_round_trip_on_every_char_boundary() {
        let m = LineMap::new(TEXT);
        for enc in [Encoding::Utf8, Encoding::Utf16] {
            for (i, _) in TEXT.char_indices() {
                let p = m.position(TEXT, i, enc);
                // The \n of \r\n is not a position of its own: it maps back to the line end.
                let back = m.offset(TEXT, p, enc);
                if TEXT[i..].starts_with('\n') && TEXT[..i].ends_with('\r') {
                    assert_eq!(back, i - 1);
                } else {
                    assert_eq!(back, i, "{enc:?} at {i}: {p:?}");
                }
            }
        }
    }

    #[test]
    fn out_of_range_positions_clamp() {
        let m = LineMap::new(TEXT);
        // Inside the surrogate pair of 😀 (units 2..4): the start of the emoji.
        let emoji = TEXT.find('😀').unwrap();
        assert_eq!(m.offset(TEXT, Position::new(0, 3), Encoding::Utf16), emoji);
        // Inside é's two bytes: its start.
        assert_eq!(m.offset(TEXT, Position::new(0, 2), Encoding::Utf8), 1);
        // Past the line's end: before its \r\n.
        assert_eq!(
            m.offset(TEXT, Position::new(0, 99), Encoding::Utf16),
            TEXT.find('\r').unwrap()
        );
        assert_eq!(
            m.offset(TEXT, Position::new(9, 0), Encoding::Utf16),
            TEXT.len()
        );
    }

    #[test]
    fn changes_apply_in_order() {
        let mut text = String::from("héllo wörld\nsecond 😀 line\n");
        let change = |l1, c1, l2, c2, t: &str| TextDocumentContentChangeEvent {
            range: Some(Range::new(Position::new(l1, c1), Position::new(l2, c2))),
            range_length: None,
            text: t.to_string(),
        };
        // Replace "wörld" (UTF-16 columns 6..11), then delete the emoji and its space.
        apply_changes(
            &mut text,
            vec![change(0, 6, 0, 11, "world"), change(1, 7, 1, 10, "")],
            Encoding::Utf16,
        );
        assert_eq!(text, "héllo world\nsecond line\n");
        apply_changes(&mut text, vec![change(0, 0, 0, 7, "")], Encoding::Utf8);
        assert_eq!(text, "world\nsecond line\n");
        apply_changes(
            &mut text,
            vec![TextDocumentContentChangeEvent {
                range: None,
                range_length: None,
                text: "new".into(),
            }],
            Encoding::Utf16,
        );
        assert_eq!(text, "new");
    }
}
