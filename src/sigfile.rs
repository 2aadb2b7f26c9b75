//! Signature files: the output of `deja sketch` (one shard) and input of `deja corpus
//! --sketches` (DESIGN §6: sketch is a map over shards, banding a shuffle).
//!
//! Format (version 2, all integers little-endian; version 1 hashed k-grams differently, so
//! its signatures cannot be mixed with today's and are refused):
//!
//! ```text
//! header   magic "DEJASIG\0" (8 bytes) | format version u32 = 2 | k u32 | num_perm u32
//!          | seed u64 | word split u8 (0 unicode, 1 alnum)
//!          | flags u8 (bit 0: sets stored, bit 1: one-permutation sketch)
//!          | reserved u16 = 0
//! record   id length u32 (< 0xFFFF_FFFF) | id (JSON text, UTF-8) | words u32
//!          | num_perm × u32 MinHash slots
//!          | if sets stored: set length u32 | that many u32 compact shingle hashes (sorted)
//! trailer  0xFFFF_FFFF u32 | record count u64
//! ```
//!
//! A file without its trailer (a killed `deja sketch`) is reported as truncated. Files whose
//! k, num_perm, seed or word split differ cannot be compared and are refused.

use crate::corpus::{SketchMethod, SketchParams, SketchedDoc};
use crate::error::{Error, Result};
use crate::shingle::WordSplit;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

const MAGIC: &[u8; 8] = b"DEJASIG\0";
const VERSION: u32 = 2;
const END: u32 = u32::MAX;

/// Writes a signature file record by record.
pub struct SigWriter<W: Write> {
    out: BufWriter<W>,
    params: SketchParams,
    sets: bool,
    count: u64,
}

impl<W: Write> SigWriter<W> {
    /// Starts a file: writes the header.
    pub fn new(out: W, params: SketchParams, sets: bool) -> io::Result<Self> {
        let mut out = BufWriter::with_capacity(1 << 20, out);
        out.write_all(MAGIC)?;
        out.write_all(&VERSION.to_le_bytes())?;
        out.write_all(&(params.k as u32).to_le_bytes())?;
        out.write_all(&(params.num_perm as u32).to_le_bytes())?;
        out.write_all(&params.seed.to_le_bytes())?;
        let split = match params.split {
            WordSplit::Unicode => 0u8,
            WordSplit::Alnum => 1,
        };
        let oph = (params.method == SketchMethod::Oph) as u8;
        out.write_all(&[split, sets as u8 | oph << 1, 0, 0])?;
        Ok(SigWriter {
            out,
            params,
            sets,
            count: 0,
        })
    }

    /// Appends one document.
    pub fn write(&mut self, doc: &SketchedDoc) -> io::Result<()> {
        let bad = |m: &str| io::Error::new(io::ErrorKind::InvalidInput, m.to_string());
        if doc.signature.len() != self.params.num_perm {
            return Err(bad("signature length differs from num_perm"));
        }
        let id = doc.id.as_bytes();
        let id_len = u32::try_from(id.len())
            .ok()
            .filter(|&n| n != END)
            .ok_or_else(|| bad("id too long"))?;
        self.out.write_all(&id_len.to_le_bytes())?;
        self.out.write_all(id)?;
        self.out
            .write_all(&(doc.words.min(u32::MAX as usize) as u32).to_le_bytes())?;
        for &s in &doc.signature {
            self.out.write_all(&s.to_le_bytes())?;
        }
        if self.sets {
            let set = doc
                .set
                .as_deref()
                .ok_or_else(|| bad("this file stores sets: the document has none"))?;
            let mut set = set.to_vec();
            crate::verify::make_set(&mut set);
            self.out.write_all(&(set.len() as u32).to_le_bytes())?;
            for x in set {
                self.out.write_all(&x.to_le_bytes())?;
            }
        }
        self.count += 1;
        Ok(())
    }

    /// Writes the trailer and returns the underlying writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.out.write_all(&END.to_le_bytes())?;
        self.out.write_all(&self.count.to_le_bytes())?;
        self.out.into_inner().map_err(|e| e.into_error())
    }
}

/// Reads a signature file.
pub struct SigReader<R: Read> {
    input: BufReader<R>,
    path: PathBuf,
    /// The parameters the signatures were made with.
    pub params: SketchParams,
    /// True when compact shingle sets are stored.
    pub sets: bool,
    count: u64,
    done: bool,
}

impl SigReader<std::fs::File> {
    /// Opens a file and reads its header.
    pub fn open(path: &Path) -> Result<Self> {
        let f = std::fs::File::open(path).map_err(|e| Error::Io {
            path: path.to_path_buf(),
            source: e,
        })?;
        SigReader::new(f, path)
    }
}

impl<R: Read> SigReader<R> {
    /// Reads the header of `input` (named `path` in errors).
    pub fn new(input: R, path: &Path) -> Result<Self> {
        let mut input = BufReader::with_capacity(1 << 20, input);
        let fmt = |m: String| Error::Format {
            path: path.to_path_buf(),
            message: m,
        };
        let mut head = [0u8; 32];
        input
            .read_exact(&mut head)
            .map_err(|_| fmt("not a deja signature file (too short)".into()))?;
        if &head[..8] != MAGIC {
            return Err(fmt("not a deja signature file (bad magic)".into()));
        }
        let u32_at =
            |i: usize| u32::from_le_bytes([head[i], head[i + 1], head[i + 2], head[i + 3]]);
        let version = u32_at(8);
        if version != VERSION {
            return Err(fmt(format!(
                "signature format version {version}, expected {VERSION} (made by another \
                 deja version: sketch the shard again)"
            )));
        }
        let mut seed = [0u8; 8];
        seed.copy_from_slice(&head[20..28]);
        let split = match head[28] {
            0 => WordSplit::Unicode,
            1 => WordSplit::Alnum,
            x => return Err(fmt(format!("unknown word split {x}"))),
        };
        let params = SketchParams {
            method: if head[29] & 2 == 2 {
                SketchMethod::Oph
            } else {
                SketchMethod::Minhash
            },
            k: u32_at(12) as usize,
            num_perm: u32_at(16) as usize,
            seed: u64::from_le_bytes(seed),
            split,
        };
        if params.num_perm == 0 || params.k == 0 {
            return Err(fmt("k and num_perm must be ≥ 1".into()));
        }
        Ok(SigReader {
            input,
            path: path.to_path_buf(),
            params,
            sets: head[29] & 1 == 1,
            count: 0,
            done: false,
        })
    }

    fn err(&self, m: &str) -> Error {
        Error::Format {
            path: self.path.clone(),
            message: format!("record {}: {m}", self.count + 1),
        }
    }

    fn read_u32(&mut self) -> Result<u32> {
        let mut b = [0u8; 4];
        self.input
            .read_exact(&mut b)
            .map_err(|_| self.err("truncated file (no trailer)"))?;
        Ok(u32::from_le_bytes(b))
    }

    /// The next `n` bytes. The buffer grows as they arrive: a corrupt length in the header or
    /// a record costs what the file holds, not the gigabytes it claims.
    fn read_bytes(&mut self, n: usize) -> Result<Vec<u8>> {
        let mut b = Vec::with_capacity(n.min(1 << 16));
        (&mut self.input)
            .take(n as u64)
            .read_to_end(&mut b)
            .map_err(|_| self.err("truncated file"))?;
        if b.len() != n {
            return Err(self.err("truncated file"));
        }
        Ok(b)
    }

    /// The next document, `None` after the trailer.
    pub fn next_doc(&mut self) -> Result<Option<SketchedDoc>> {
        if self.done {
            return Ok(None);
        }
        let id_len = self.read_u32()?;
        if id_len == END {
            let mut b = [0u8; 8];
            self.input
                .read_exact(&mut b)
                .map_err(|_| self.err("truncated trailer"))?;
            let n = u64::from_le_bytes(b);
            if n != self.count {
                return Err(self.err(&format!("trailer counts {n} records, read {}", self.count)));
            }
            self.done = true;
            return Ok(None);
        }
        if id_len > 1 << 24 {
            return Err(self.err("corrupt record (id length)"));
        }
        let id = self.read_bytes(id_len as usize)?;
        let id = String::from_utf8(id).map_err(|_| self.err("id is not UTF-8"))?;
        if serde_json::from_str::<serde_json::Value>(&id).is_err() {
            return Err(self.err("id is not JSON"));
        }
        let words = self.read_u32()? as usize;
        let sig = self.read_bytes(4 * self.params.num_perm)?;
        let signature = sig
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        let set = if self.sets {
            let n = self.read_u32()? as usize;
            if n > 1 << 30 {
                return Err(self.err("corrupt record (set length)"));
            }
            let b = self.read_bytes(4 * n)?;
            Some(
                b.chunks_exact(4)
                    .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                    .collect(),
            )
        } else {
            None
        };
        self.count += 1;
        Ok(Some(SketchedDoc {
            id,
            signature,
            set,
            words,
            paragraphs: Vec::new(),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(i: u64, sets: bool) -> SketchedDoc {
        SketchedDoc {
            id: format!("\"d{i}\""),
            signature: (0..4).map(|s| (s * 1000 + i) as u32).collect(),
            set: sets.then(|| vec![1, 5, i as u32 + 9]),
            words: 7,
            paragraphs: Vec::new(),
        }
    }

    fn roundtrip(sets: bool) {
        let params = SketchParams {
            method: SketchMethod::Oph,
            k: 3,
            num_perm: 4,
            seed: 9,
            split: WordSplit::Alnum,
        };
        let mut w = SigWriter::new(Vec::new(), params, sets).unwrap();
        let docs: Vec<SketchedDoc> = (0..10).map(|i| doc(i, sets)).collect();
        for d in &docs {
            w.write(d).unwrap();
        }
        let bytes = w.finish().unwrap();
        let mut r = SigReader::new(&bytes[..], Path::new("s.bin")).unwrap();
        assert_eq!(r.params, params);
        assert_eq!(r.sets, sets);
        let mut back = Vec::new();
        while let Some(d) = r.next_doc().unwrap() {
            back.push(d);
        }
        assert_eq!(back, docs);
        // Truncated: an error, never a silent short read.
        let mut r = SigReader::new(&bytes[..bytes.len() - 5], Path::new("s.bin")).unwrap();
        let mut err = None;
        loop {
            match r.next_doc() {
                Ok(Some(_)) => {}
                Ok(None) => break,
                Err(e) => {
                    err = Some(e);
                    break;
                }
            }
        }
        assert!(err.unwrap().to_string().contains("trailer"));
        // Another format version (older k-gram hashes): refused, with what to do.
        let mut old = bytes.clone();
        old[8..12].copy_from_slice(&1u32.to_le_bytes());
        let e = SigReader::new(&old[..], Path::new("s.bin")).err().unwrap();
        assert!(e.to_string().contains("version 1, expected 2"), "{e}");
    }

    #[test]
    fn file_format_round_trip() {
        roundtrip(true);
        roundtrip(false);
        assert!(SigReader::new(&b"not a signature file at all!!!!!!"[..], Path::new("x")).is_err());
    }
}
