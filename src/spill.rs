//! Sorted runs on disk: the out-of-core half of everything `--memory` bounds.
//!
//! A structure that outgrows its share of the budget writes what it holds, sorted, as one
//! run to an unnamed temporary file ([`temp_file`]: `O_TMPFILE` or unlinked at once, so a
//! killed run leaves nothing behind) and starts again empty; [`Runs::merge`] reads the runs
//! back in one k-way merge, records of equal order coming in the order their runs were
//! written. Past [`FAN_IN`] runs, the runs are merged into one as they are written, so that
//! the merge never holds more than [`FAN_IN`] files and read buffers, whatever the budget.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Seek, Write};
use std::marker::PhantomData;

/// Runs merged at once at most (open files and read buffers of [`READ_BUFFER`] bytes).
pub const FAN_IN: usize = 64;
/// Bytes of each run's read buffer while merging.
pub const READ_BUFFER: usize = 1 << 16;

/// A record of a run: written and read back in a fixed, little-endian layout.
pub trait Record: Ord + Sized {
    /// Appends the record to `w`.
    fn write_to(&self, w: &mut impl Write) -> io::Result<()>;
    /// The next record of `r`, or `None` at the end of the run.
    fn read_from(r: &mut impl Read) -> io::Result<Option<Self>>;
}

/// An unnamed temporary file in the temp dir (`TMPDIR`, else `/tmp`).
pub fn temp_file() -> io::Result<File> {
    tempfile::tempfile()
}

/// Reads exactly `buf.len()` bytes; `Ok(false)` at a clean end of the run (no byte read).
pub fn read_or_end(r: &mut impl Read, buf: &mut [u8]) -> io::Result<bool> {
    let mut got = 0;
    while got < buf.len() {
        match r.read(&mut buf[got..]) {
            Ok(0) if got == 0 => return Ok(false),
            Ok(0) => {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "a spilled run ends inside a record",
                ))
            }
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(true)
}

/// Sorted runs of `R` in temporary files.
pub struct Runs<R> {
    files: Vec<File>,
    written: usize,
    _record: PhantomData<R>,
}

impl<R: Record> Default for Runs<R> {
    fn default() -> Self {
        Runs {
            files: Vec::new(),
            written: 0,
            _record: PhantomData,
        }
    }
}

impl<R: Record> Runs<R> {
    /// No runs yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Runs written so far (counting those since merged together).
    pub fn written(&self) -> usize {
        self.written
    }

    /// True when nothing was written.
    pub fn is_empty(&self) -> bool {
        self.written == 0
    }

    /// Writes `records`, which must come sorted, as one run.
    pub fn write_run(&mut self, records: impl IntoIterator<Item = R>) -> io::Result<()> {
        let mut w = BufWriter::with_capacity(1 << 20, temp_file()?);
        for r in records {
            r.write_to(&mut w)?;
        }
        self.push_file(w)?;
        self.written += 1;
        if self.files.len() >= FAN_IN {
            // One run of them all: the merge at the end stays within FAN_IN files.
            let mut w = BufWriter::with_capacity(1 << 20, temp_file()?);
            let files = std::mem::take(&mut self.files);
            merge_files::<R>(files, |r| r.write_to(&mut w))?;
            self.push_file(w)?;
        }
        Ok(())
    }

    fn push_file(&mut self, w: BufWriter<File>) -> io::Result<()> {
        let mut f = w.into_inner().map_err(|e| e.into_error())?;
        f.rewind()?;
        self.files.push(f);
        Ok(())
    }

    /// Calls `f` with every record of every run in order; equal records in the order their
    /// runs were written. Consumes the runs (their files go with them).
    pub fn merge(self, f: impl FnMut(R) -> io::Result<()>) -> io::Result<()> {
        merge_files(self.files, f)
    }
}

fn merge_files<R: Record>(
    files: Vec<File>,
    mut f: impl FnMut(R) -> io::Result<()>,
) -> io::Result<()> {
    let mut readers: Vec<_> = files
        .into_iter()
        .map(|f| BufReader::with_capacity(READ_BUFFER, f))
        .collect();
    let mut heap = BinaryHeap::with_capacity(readers.len());
    for (i, r) in readers.iter_mut().enumerate() {
        if let Some(rec) = R::read_from(r)? {
            heap.push(Reverse((rec, i)));
        }
    }
    while let Some(Reverse((rec, i))) = heap.pop() {
        f(rec)?;
        if let Some(next) = R::read_from(&mut readers[i])? {
            heap.push(Reverse((next, i)));
        }
    }
    Ok(())
}

impl Record for u64 {
    fn write_to(&self, w: &mut impl Write) -> io::Result<()> {
        w.write_all(&self.to_le_bytes())
    }

    fn read_from(r: &mut impl Read) -> io::Result<Option<Self>> {
        let mut b = [0u8; 8];
        Ok(read_or_end(r, &mut b)?.then(|| u64::from_le_bytes(b)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_merge_in_order_across_fan_in() {
        let mut runs: Runs<u64> = Runs::new();
        let mut all = Vec::new();
        // More runs than FAN_IN: some are merged as they are written.
        for run in 0..(FAN_IN as u64 * 2 + 5) {
            let mut v: Vec<u64> = (0..50).map(|i| (i * 7919 + run * 104_729) % 1000).collect();
            v.sort_unstable();
            runs.write_run(v.iter().copied()).unwrap();
            all.extend(v);
        }
        assert_eq!(runs.written(), FAN_IN * 2 + 5);
        assert!(runs.files.len() < FAN_IN);
        all.sort_unstable();
        let mut got = Vec::new();
        runs.merge(|x| {
            got.push(x);
            Ok(())
        })
        .unwrap();
        assert_eq!(got, all);
    }

    #[test]
    fn a_truncated_run_is_an_error() {
        let mut r: &[u8] = &[1, 2, 3];
        assert!(u64::read_from(&mut r).is_err());
        let mut empty: &[u8] = &[];
        assert!(u64::read_from(&mut empty).unwrap().is_none());
    }
}
