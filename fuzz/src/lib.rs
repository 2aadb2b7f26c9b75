//! deja's fuzz targets: the properties live in `checks` (shared with the main crate's
//! `tests/fuzz_regressions.rs`), the AFL entry points in `src/bin/`.

pub mod checks;
