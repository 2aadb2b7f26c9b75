//! The properties each fuzz target holds deja to, one function per target. Each panics when
//! a property fails. Shared by the AFL targets (`src/bin/`) and by the main crate's
//! `tests/fuzz_regressions.rs` (included there by path), which replays the seeds and every
//! input a fuzzer found (`tests/data/fuzz/<target>/`).
//!
//! Only deja's own dependencies are used here (serde_json, flate2, zstd), so that the main
//! crate's tests can include this file.

use deja::check::{Baseline, Fingerprinted};
use deja::config::Config;
use deja::corpus::{SketchMethod, SketchParams, SketchedDoc};
use deja::findings::{DocAnalyzer, DocOptions};
use deja::input::{decode_text, read_records, InputOptions, Source};
use deja::segment::{paragraphs_in, prose, sentences, Markup};
use deja::shingle::WordSplit;
use deja::sigfile::{SigReader, SigWriter};
use deja::Span;
use serde_json::Value;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// An allocator that refuses any single allocation over [`Capped::MAX`] (the process then
/// aborts: a crash to the fuzzer). No input of a few KB has a reason to ask for more, so a
/// length read from a file and trusted shows up here, even where the system would hand out
/// the (lazily zeroed) memory. Installed by every target and by the regression test.
pub struct Capped;

impl Capped {
    /// The largest allocation allowed (zstd's decoder may take a 128 MB window).
    pub const MAX: usize = 512 << 20;
}

// SAFETY: forwards to the system allocator, refusing (null) only what is over the cap.
unsafe impl std::alloc::GlobalAlloc for Capped {
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        if layout.size() > Self::MAX {
            return std::ptr::null_mut();
        }
        // SAFETY: the caller's layout, as GlobalAlloc requires.
        unsafe { std::alloc::System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: std::alloc::Layout) -> *mut u8 {
        if layout.size() > Self::MAX {
            return std::ptr::null_mut();
        }
        // SAFETY: as above.
        unsafe { std::alloc::System.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: std::alloc::Layout) {
        // SAFETY: `ptr` came from `System` with this layout.
        unsafe { std::alloc::System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: std::alloc::Layout, new: usize) -> *mut u8 {
        if new > Self::MAX {
            return std::ptr::null_mut();
        }
        // SAFETY: as above.
        unsafe { std::alloc::System.realloc(ptr, layout, new) }
    }
}

/// A target's property: panics (or aborts) when `data` breaks it.
pub type Check = fn(&[u8]);

/// Every target, by name, as `fuzz/run.sh` and the regression test know them.
pub const TARGETS: &[(&str, Check)] = &[
    ("jsonl", jsonl),
    ("stream", stream),
    ("segment", segment),
    ("config", config),
    ("baseline", baseline),
    ("sigfile", sigfile),
    ("doc", doc),
];

/// A scratch directory of this process (targets that read files write their input there).
fn scratch() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let d = std::env::temp_dir().join(format!("deja-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(&d).expect("scratch directory");
        d
    })
}

fn write_scratch(name: &str, bytes: &[u8]) -> PathBuf {
    let p = scratch().join(name);
    std::fs::write(&p, bytes).expect("writing a scratch file");
    p
}

// ---------------------------------------------------------------------------------------
// jsonl: the one-pass record scanner against serde_json.

/// serde_json's reading of a record: `Err` when it is not a JSON object, else its text and id
/// fields (the last of repeated keys wins).
fn serde_reading(line: &[u8], text: &str, id: &str) -> Result<(Option<Value>, Option<Value>), ()> {
    match serde_json::from_slice::<Value>(line) {
        Ok(Value::Object(m)) => Ok((m.get(text).cloned(), m.get(id).cloned())),
        _ => Err(()),
    }
}

/// Where the scanner accepts a line, serde_json reads the same fields from it; a text that is
/// not a string, or a line serde_json refuses, the scanner leaves to serde_json (`None`).
pub fn jsonl(data: &[u8]) {
    // The field names come from the input too (keys with escapes, empty, repeated …).
    let (keys, line) = match data.iter().position(|&b| b == b'\n') {
        Some(i) if i < 40 => (&data[..i], &data[i + 1..]),
        _ => (&b""[..], data),
    };
    let keys = String::from_utf8_lossy(keys);
    let mut parts = keys.splitn(2, '\t');
    let text_key = parts.next().filter(|k| !k.is_empty()).unwrap_or("text");
    let id_key = parts.next().unwrap_or("id");
    let scanned = deja::input::scan_fields(line, text_key, id_key);
    let reference = serde_reading(line, text_key, id_key);
    if let Some((text, id)) = scanned {
        let (want_text, want_id) = match reference {
            Ok(r) => r,
            Err(()) => panic!("the scanner accepts a line serde_json refuses: {line:?}"),
        };
        match (&text, &want_text) {
            (Some(t), Some(Value::String(w))) => assert_eq!(t, w, "text differs"),
            (None, None) => {}
            _ => panic!("text: scanner {text:?}, serde_json {want_text:?}"),
        }
        if text_key != id_key {
            assert_eq!(id, want_id, "id differs");
        }
    }
}

// ---------------------------------------------------------------------------------------
// stream: JSONL read through gzip and zstd, whole, concatenated, truncated, corrupted.

/// Decompressed bytes above which an input is a decompression bomb (issue 15 §3, tested
/// elsewhere), not this target's business.
const BOMB: usize = 8 << 20;

/// The non-blank lines of `bytes` as deja counts them (without `\n` / `\r\n`).
fn lines(bytes: &[u8]) -> Vec<&[u8]> {
    bytes
        .split(|&b| b == b'\n')
        .map(|l| {
            let mut l = l;
            while let [rest @ .., b'\r'] = l {
                l = rest;
            }
            l
        })
        .filter(|l| !l.iter().all(u8::is_ascii_whitespace))
        .collect()
}

fn compress(payload: &[u8], zst: bool) -> Vec<u8> {
    if zst {
        let mut e = zstd::stream::write::Encoder::new(Vec::new(), 1).unwrap();
        e.include_checksum(true).unwrap();
        e.write_all(payload).unwrap();
        e.finish().unwrap()
    } else {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(payload).unwrap();
        e.finish().unwrap()
    }
}

/// Decompresses with a cap: `None` past [`BOMB`] bytes, else what came out and whether the
/// stream ended cleanly.
fn decompress_capped(file: &[u8], zst: bool) -> Option<(Vec<u8>, bool)> {
    let reader: Box<dyn Read> = if zst {
        match zstd::stream::read::Decoder::new(file) {
            Ok(d) => Box::new(d),
            Err(_) => return Some((Vec::new(), false)),
        }
    } else {
        Box::new(flate2::read::MultiGzDecoder::new(file))
    };
    let mut out = Vec::new();
    let res = reader.take(BOMB as u64 + 1).read_to_end(&mut out);
    if out.len() > BOMB {
        return None;
    }
    Some((out, res.is_ok()))
}

/// The first byte picks the way: bit 0 zstd (else gzip); bit 1 compress the rest here and
/// then mangle it (bit 2: as two concatenated frames/members, bit 3: truncated, bit 4: one
/// byte flipped), else the rest is the compressed file as it is.
///
/// Properties: a stream compressed whole (one or more frames) reads without error, with one
/// record (or record error) per non-blank line; a truncated one is reported as an error and
/// what it delivered before is a prefix of its lines; nothing ever panics.
pub fn stream(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let zst = mode & 1 == 1;
    let mut truth: Option<(Vec<u8>, bool)> = None; // (payload, intact)
    let file = if mode & 2 == 0 {
        rest.to_vec()
    } else {
        let (cut, payload) = match rest {
            [a, b, p @ ..] => (u16::from_le_bytes([*a, *b]) as usize, p),
            _ => (0, rest),
        };
        let mid = payload.len() / 2;
        let mut file = if mode & 4 != 0 {
            let mut f = compress(&payload[..mid], zst);
            f.extend(compress(&payload[mid..], zst));
            f
        } else {
            compress(payload, zst)
        };
        let mut intact = true;
        if mode & 8 != 0 && !file.is_empty() {
            let at = cut % file.len();
            // Cut exactly between two frames, the first is a whole stream.
            let first = compress(&payload[..mid], zst).len();
            let whole = mode & 4 != 0 && at == first;
            file.truncate(at);
            if whole {
                truth = Some((payload[..mid].to_vec(), true));
            }
            intact = whole;
        }
        if mode & 16 != 0 && !file.is_empty() {
            let at = cut.wrapping_mul(31) % file.len();
            file[at] ^= 0x5a;
            truth = None;
            intact = false;
        }
        if truth.is_none() && mode & 16 == 0 {
            truth = Some((payload.to_vec(), intact));
        }
        file
    };
    if decompress_capped(&file, zst).is_none() {
        return;
    }
    let path = write_scratch(if zst { "in.jsonl.zst" } else { "in.jsonl.gz" }, &file);
    let source = Source::File {
        path,
        explicit: true,
    };
    let mut raws: Vec<Vec<u8>> = Vec::new();
    let read = read_records(&source, &InputOptions::default(), |_, raw| {
        raws.push(raw.to_vec())
    });
    if let Some((payload, intact)) = truth {
        let want = lines(&payload);
        if intact {
            assert!(read.is_ok(), "an intact stream gave {read:?}");
            assert_eq!(raws.len(), want.len(), "records of an intact stream");
            for (got, want) in raws.iter().zip(&want) {
                assert_eq!(got, want);
            }
        } else {
            // An empty payload truncated can still be an empty, valid-looking prefix.
            if !payload.is_empty() {
                assert!(read.is_err(), "a truncated stream read without error");
            }
            assert!(raws.len() <= want.len(), "more records than lines");
            for (got, want) in raws.iter().zip(&want) {
                assert_eq!(got, want, "records before the cut");
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// segment: spans of paragraphs and sentences in every markup.

fn check_spans(text: &str, spans: &[Span], within: Span, what: &str) {
    let mut prev_end = within.start;
    for s in spans {
        assert!(s.start <= s.end, "{what}: reversed span {s:?}");
        assert!(
            s.start >= within.start && s.end <= within.end,
            "{what}: {s:?} outside {within:?}"
        );
        assert!(
            text.is_char_boundary(s.start) && text.is_char_boundary(s.end),
            "{what}: {s:?} not on char boundaries"
        );
        assert!(
            s.start >= prev_end,
            "{what}: {s:?} overlaps or precedes the span before it"
        );
        prev_end = s.end;
    }
}

/// Paragraph spans (and their sentences') are in bounds, on char boundaries, in order and
/// apart, with the right line numbers, for Markdown, reST, AsciiDoc and plain text; the
/// blanked prose keeps the text's length and line breaks.
pub fn segment(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let text = text.as_ref();
    let all = Span {
        start: 0,
        end: text.len(),
    };
    let _ = Markup::detect("fuzz.txt", text);
    for markup in [
        Markup::Markdown,
        Markup::Rst,
        Markup::AsciiDoc,
        Markup::Text,
    ] {
        let p = prose(text, markup);
        assert_eq!(
            p.text.len(),
            text.len(),
            "{markup:?}: blanking changed the length"
        );
        let nl = |t: &str| -> Vec<usize> { t.match_indices('\n').map(|(i, _)| i).collect() };
        assert_eq!(
            nl(&p.text),
            nl(text),
            "{markup:?}: blanking moved line breaks"
        );
        let spans: Vec<Span> = p.segments.iter().map(|s| s.span).collect();
        check_spans(text, &spans, all, &format!("{markup:?} paragraphs"));
        for s in &p.segments {
            let line = 1 + text[..s.span.start].matches('\n').count();
            assert_eq!(s.line, line, "{markup:?}: line of {:?}", s.span);
            let sent = sentences(&p.text, s.span);
            check_spans(text, &sent, s.span, &format!("{markup:?} sentences"));
        }
        let plain: Vec<Span> = paragraphs_in(text, markup).iter().map(|s| s.span).collect();
        check_spans(text, &plain, all, &format!("{markup:?} paragraphs_in"));
    }
}

// ---------------------------------------------------------------------------------------
// config: deja.toml.

/// Any text gives a config or an error, never a panic; a config answers for any path.
pub fn config(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(c) = Config::parse(text, "deja.toml") {
        for p in [
            "README.md",
            "docs/a/b.rst",
            "x.adoc",
            "",
            "../up.md",
            "vendor/x.txt",
        ] {
            let _ = (c.selects(p), c.excludes(p), c.settings_for(p));
        }
        let _ = c.baseline_path();
    }
}

// ---------------------------------------------------------------------------------------
// baseline: the baseline file.

struct Entry(String, String);
impl Fingerprinted for Entry {
    fn fingerprint(&self) -> &str {
        &self.0
    }
    fn path(&self) -> &str {
        &self.1
    }
}

/// Any file gives a baseline or an error; a baseline read is written back the same, and
/// accepts the findings it records.
pub fn baseline(data: &[u8]) {
    let path = write_scratch("baseline.json", data);
    let Ok(b) = Baseline::load(&path) else {
        return;
    };
    let again = scratch().join("baseline-again.json");
    b.save(&again).expect("saving a baseline that was read");
    assert_eq!(Baseline::load(&again).expect("reading a saved baseline"), b);
    let findings: Vec<Entry> = b
        .findings
        .iter()
        .flat_map(|e| (0..e.count.min(4)).map(|_| Entry(e.fingerprint.clone(), e.path.clone())))
        .collect();
    let accepted = b.matches(&findings, &|_| true);
    assert!(
        accepted.iter().all(|&a| a),
        "a baseline refuses its own findings"
    );
}

// ---------------------------------------------------------------------------------------
// sigfile: signature files, arbitrary and made by SigWriter then damaged.

fn read_all(bytes: &[u8]) -> Result<Vec<SketchedDoc>, deja::Error> {
    let mut r = SigReader::new(bytes, Path::new("fuzz.sig"))?;
    let mut docs = Vec::new();
    while let Some(d) = r.next_doc()? {
        docs.push(d);
    }
    Ok(docs)
}

/// The first byte picks the way: bit 0 clear, the rest is a signature file as it is (it
/// reads or is refused, without panicking or allocating more than the file holds); bit 0 set,
/// the rest describes documents written by `SigWriter`, then (bit 1) truncated, (bit 2) its
/// version changed, (bit 3) its trailer count changed, (bit 4) a byte flipped. A whole file
/// reads back the same documents; a truncated one, a wrong version or a wrong count is an
/// error.
pub fn sigfile(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode & 1 == 0 {
        let _ = read_all(rest);
        return;
    }
    let (head, body) = rest.split_at(rest.len().min(4));
    let b = |i: usize| head.get(i).copied().unwrap_or(0) as usize;
    let params = SketchParams {
        method: if b(0) & 1 == 0 {
            SketchMethod::Oph
        } else {
            SketchMethod::Minhash
        },
        k: 1 + b(0) % 7,
        num_perm: 1 + b(1) % 16,
        seed: b(2) as u64,
        split: if b(0) & 2 == 0 {
            WordSplit::Alnum
        } else {
            WordSplit::Unicode
        },
    };
    let sets = b(3) & 1 == 1;
    // Documents: chunks of the body; id a JSON string of the chunk, signature and set from it.
    let docs: Vec<SketchedDoc> = body
        .chunks(12)
        .enumerate()
        .map(|(i, c)| SketchedDoc {
            id: serde_json::to_string(&String::from_utf8_lossy(c)).unwrap(),
            signature: (0..params.num_perm)
                .map(|j| u32::from(c[j % c.len()]) * 7919 + j as u32)
                .collect(),
            set: sets.then(|| c.iter().map(|&x| u32::from(x) << 3).collect()),
            words: i,
            paragraphs: Vec::new(),
        })
        .collect();
    let mut w = SigWriter::new(Vec::new(), params, sets).unwrap();
    for d in &docs {
        w.write(d).unwrap();
    }
    let mut file = w.finish().unwrap();
    let len = file.len();
    let cut = b(2) * 256 + b(1);
    let mut must_fail = false;
    if mode & 2 != 0 {
        file.truncate(cut % len);
        must_fail = true;
    }
    if mode & 4 != 0 && file.len() >= 12 {
        file[8] = file[8].wrapping_add(1 + (cut % 200) as u8);
        must_fail = true;
    }
    if mode & 8 != 0 && file.len() == len {
        file[len - 8] ^= 1 + (cut % 255) as u8;
        must_fail = true;
    }
    let flipped = mode & 16 != 0 && !file.is_empty();
    if flipped {
        let at = cut.wrapping_mul(13) % file.len();
        file[at] ^= 0xa5;
    }
    let read = read_all(&file);
    if flipped {
        return;
    }
    if must_fail {
        assert!(read.is_err(), "a damaged file read without error");
        return;
    }
    let got = read.expect("a whole file reads");
    assert_eq!(got.len(), docs.len());
    for (g, d) in got.iter().zip(&docs) {
        assert_eq!(
            (&g.id, &g.signature, g.words),
            (&d.id, &d.signature, d.words)
        );
        if sets {
            let mut want = d.set.clone().unwrap();
            deja::verify::make_set(&mut want);
            assert_eq!(g.set.as_ref(), Some(&want));
        }
    }
}

// ---------------------------------------------------------------------------------------
// doc: `deja doc` end to end on arbitrary bytes.

fn analyzer() -> &'static DocAnalyzer {
    static A: OnceLock<DocAnalyzer> = OnceLock::new();
    A.get_or_init(|| DocAnalyzer::new(DocOptions::default()).expect("default options"))
}

fn check_span(text: &str, s: Span, what: &str) {
    assert!(
        s.start <= s.end && s.end <= text.len(),
        "{what}: {s:?} out of bounds ({} bytes)",
        text.len()
    );
    assert!(
        text.is_char_boundary(s.start) && text.is_char_boundary(s.end),
        "{what}: {s:?} not on char boundaries"
    );
}

/// Bytes are refused (binary, invalid UTF-8) or analysed; every span of the report is in
/// bounds and on char boundaries, every paragraph a finding or source names exists, every
/// printer writes, and the JSON printers write JSON.
pub fn doc(data: &[u8]) {
    let Ok(text) = decode_text(Path::new("fuzz.md"), data.to_vec()) else {
        return;
    };
    let markup = match data.len() % 5 {
        0 => Markup::Markdown,
        1 => Markup::Rst,
        2 => Markup::AsciiDoc,
        3 => Markup::Text,
        _ => Markup::detect("fuzz.txt", &text),
    };
    let report = analyzer().analyze_prose(Value::from("fuzz"), &prose(&text, markup));
    assert_eq!(report.bytes, text.len());
    for (i, p) in report.paragraphs.iter().enumerate() {
        assert_eq!(p.index, i);
        check_span(&text, p.span, "paragraph");
    }
    for f in &report.findings {
        check_span(&text, f.span, "finding");
        assert!(
            f.paragraph < report.paragraphs.len(),
            "finding of a missing paragraph"
        );
        assert_eq!(report.paragraphs[f.paragraph].span, f.span);
        assert!(f.score.is_finite(), "score {}", f.score);
        for s in &f.sources {
            check_span(&text, s.span, "source");
            assert!(s.paragraph < f.paragraph, "a source after its finding");
            if let Some(sent) = &s.sentence {
                check_span(&text, sent.span, "source sentence");
            }
        }
    }
    use deja::report::{doc_printer, Format};
    for format in [
        Format::Human,
        Format::Json,
        Format::Jsonl,
        Format::Sarif,
        Format::Github,
        Format::Html,
    ] {
        let mut out = Vec::new();
        let mut printer = doc_printer(format, format == Format::Human, "english").unwrap();
        printer.document(&mut out, &report, &text).unwrap();
        printer.finish(&mut out).unwrap();
        if matches!(format, Format::Json | Format::Sarif) {
            serde_json::from_slice::<Value>(&out).expect("JSON output parses");
        }
        if format == Format::Jsonl {
            for l in out.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
                serde_json::from_slice::<Value>(l).expect("JSONL output parses");
            }
        }
    }
}
