//! JSON text as Python's `json.dumps` writes it by default: every non-ASCII character as a
//! `\uXXXX` escape (a surrogate pair above the BMP). Shared by the record scanner's unit
//! tests, the corpus tests and the input bench.

/// `json` (any JSON text) with its non-ASCII characters escaped; they can only be in strings.
pub fn ascii_only(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
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
