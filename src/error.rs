//! The library's error type: every variant names the input it came from.

use std::path::PathBuf;

/// Result with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong, and with which input.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The input could not be opened or read.
    #[error("{path}: {source}")]
    Io {
        /// The input.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The input is not valid UTF-8.
    #[error("{path}: invalid UTF-8 at byte {offset} (line {line})")]
    InvalidUtf8 {
        /// The input.
        path: PathBuf,
        /// First invalid byte.
        offset: usize,
        /// Line of that byte.
        line: usize,
    },
    /// The input looks binary (contains NUL bytes).
    #[error("{path}: binary file (NUL byte at offset {offset}), not text")]
    Binary {
        /// The input.
        path: PathBuf,
        /// First NUL byte.
        offset: usize,
    },
    /// A JSONL record could not be used.
    #[error("{path}: line {line}: {message}")]
    Record {
        /// The input.
        path: PathBuf,
        /// 1-based line of the record.
        line: usize,
        /// What is wrong with it.
        message: String,
    },
    /// A record (a JSONL line, or a whole plain file) is larger than the limit; skipped.
    #[error("{path}: {what} larger than --max-record-bytes ({limit} bytes), skipped")]
    TooLarge {
        /// The input.
        path: PathBuf,
        /// Which record: `line 7: record` or `file`.
        what: String,
        /// The limit in bytes.
        limit: usize,
    },
    /// A file of signatures is malformed.
    #[error("{path}: {message}")]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// Temporary files (what `--memory` spills to disk) could not be written or read back:
    /// the disk of the temp dir is full, say.
    #[error("{}: temporary files of --memory (set TMPDIR to use another directory): {source}", dir.display())]
    TempFiles {
        /// The temp dir.
        dir: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// An option has an invalid value.
    #[error("invalid option: {0}")]
    Option(String),
}

impl Error {
    /// A [`Error::TempFiles`] in the temp dir.
    pub fn temp_files(source: std::io::Error) -> Self {
        Error::TempFiles {
            dir: std::env::temp_dir(),
            source,
        }
    }
}
