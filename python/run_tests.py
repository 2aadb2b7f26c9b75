#!/usr/bin/env python3
"""Builds the Python package and runs its tests: what `cargo test` runs (tests/python.rs).

  python3 python/run_tests.py [--deja PATH] [PYTEST ARGS...]

On a machine with only cargo and python3: creates a venv (target/python-venv) with maturin,
numpy, pyarrow, pyspark and pytest from PyPI when they are missing, installs Java 17
(Debian's openjdk-17-jre-headless, via apt-get) when there is no `java` (Spark runs on it),
builds the abi3 wheel with maturin (release, into target/wheels-python), installs it into the
venv as a user would, and runs pytest on python/tests against the `deja` binary (--deja,
default target/release/deja), whose output the Python results must equal; the Spark tests
run a real Spark in local mode.
"""

import argparse
import glob
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
VENV = os.path.join(ROOT, "target", "python-venv")
WHEELS = os.path.join(ROOT, "target", "wheels-python")
NEEDS = {
    "maturin": "maturin>=1.5,<2",
    "numpy": "numpy",
    "pyarrow": "pyarrow>=14",
    "pandas": "pandas>=2.2,<3",  # pyspark needs it for mapInArrow/applyInArrow (and warns on 3)
    "pyspark": "pyspark>=4.0",
    "pytest": "pytest",
    "ruff": "ruff",
}


def sh(cmd, **kw):
    print("+", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True, **kw)


def venv():
    py = os.path.join(VENV, "bin", "python")
    if not os.path.exists(py):
        sh([sys.executable, "-m", "venv", VENV])
    missing = [
        spec
        for mod, spec in NEEDS.items()
        if subprocess.run([py, "-c", f"import {mod}"], capture_output=True, check=False).returncode
    ]
    if missing:
        sh([py, "-m", "pip", "install", "-q", "--disable-pip-version-check", *missing])
    return py


def java():
    """Installs Java 17 for Spark when there is no `java` (Debian/Ubuntu, as root or sudo)."""
    if shutil.which("java"):
        return
    sudo = [] if os.geteuid() == 0 else ["sudo", "-n"]
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    sh([*sudo, "apt-get", "update", "-q"], env=env)
    sh([*sudo, "apt-get", "install", "-y", "-q", "openjdk-17-jre-headless"], env=env)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--deja", default=os.path.join(ROOT, "target", "release", "deja"))
    args, pytest_args = ap.parse_known_args()
    py = venv()
    java()
    bindir = os.path.dirname(py)
    # Lint the Python side (the Rust side has cargo clippy).
    sh(
        [
            os.path.join(bindir, "ruff"),
            "check",
            "--no-cache",
            "--config",
            os.path.join(HERE, "pyproject.toml"),
            HERE,
            os.path.join(ROOT, "benches", "python"),
            os.path.join(ROOT, "benches", "spark"),
        ]
    )
    shutil.rmtree(WHEELS, ignore_errors=True)
    sh(
        [os.path.join(bindir, "maturin"), "build", "--release", "--locked", "-o", WHEELS],
        cwd=HERE,
    )
    wheels = glob.glob(os.path.join(WHEELS, "deja-*-abi3-*.whl"))
    if len(wheels) != 1:
        sys.exit(f"expected one abi3 wheel in {WHEELS}, found {wheels}")
    sh(
        [
            py,
            "-m",
            "pip",
            "install",
            "-q",
            "--disable-pip-version-check",
            "--force-reinstall",
            "--no-deps",
            wheels[0],
        ]
    )
    # Spark's Python workers run the venv's Python (with the wheel), not the system's.
    env = dict(
        os.environ, DEJA_BIN=os.path.abspath(args.deja), PYSPARK_PYTHON=py, PYSPARK_DRIVER_PYTHON=py
    )
    # From the tests folder, so that `import deja` is the installed wheel, not the source tree.
    tests = os.path.join(HERE, "tests")
    rc = subprocess.run(
        [py, "-m", "pytest", "-q", "-p", "no:cacheprovider", tests, *pytest_args],
        cwd=tests,
        env=env,
        check=False,
    ).returncode
    sys.exit(rc)


if __name__ == "__main__":
    main()
