//! Every input the fuzzers found a crash or hang with (issue 15 §1), replayed through the same
//! properties the fuzz targets check (`fuzz/src/checks.rs`, included here): the inputs are in
//! `tests/data/fuzz/<target>/`, one file each, named after what they broke.

#[path = "../fuzz/src/checks.rs"]
#[allow(dead_code)]
mod checks;

use std::path::Path;

/// As in the fuzz targets: an allocation far beyond what an input needs aborts.
#[global_allocator]
static ALLOC: checks::Capped = checks::Capped;

#[test]
fn fuzz_findings_stay_fixed() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/fuzz");
    let mut replayed = 0;
    let mut failures = Vec::new();
    for (target, check) in checks::TARGETS {
        let Ok(entries) = std::fs::read_dir(root.join(target)) else {
            continue;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            let data = std::fs::read(&path).unwrap();
            replayed += 1;
            if std::panic::catch_unwind(|| check(&data)).is_err() {
                failures.push(path.display().to_string());
            }
        }
    }
    assert!(failures.is_empty(), "failing again: {failures:?}");
    eprintln!("{replayed} fuzz findings replayed");
}

/// The properties hold on ordinary inputs (an empty one, a sigfile written whole, a record
/// and a Markdown text), so a failure above is the input's doing.
#[test]
fn the_checks_pass_on_ordinary_inputs() {
    for (_, check) in checks::TARGETS {
        check(b"");
        check(b"\x01\x09\x04\x01\x01Some text.\n\nSome more text, on a second line.\n");
        check("{\"id\": 1, \"text\": \"a \\u00e9 b\"}\n# Title\n\nParagraph é.\n".as_bytes());
    }
}
