//! The Python package (`python/`): builds the abi3 wheel with maturin, installs it in a venv
//! and runs its pytest suite against this build's `deja` binary (`python/run_tests.py`; the
//! Python results must equal the CLI's). Needs python3 and, on a fresh machine, PyPI.
//! `DEJA_SKIP_PYTHON=1` skips it (say so when you do: the Python frontend is then untested).

use std::process::Command;

#[test]
fn python_package() {
    if std::env::var_os("DEJA_SKIP_PYTHON").is_some() {
        eprintln!("DEJA_SKIP_PYTHON is set: the Python package is not tested");
        return;
    }
    let root = env!("CARGO_MANIFEST_DIR");
    let status = Command::new("python3")
        .arg(format!("{root}/python/run_tests.py"))
        .arg("--deja")
        .arg(env!("CARGO_BIN_EXE_deja"))
        .current_dir(root)
        .status()
        .expect("python3 is needed to test the Python package");
    assert!(status.success(), "python/run_tests.py failed: {status}");
}
