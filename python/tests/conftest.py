"""Shared helpers: the repository's paths and the `deja` binary whose output the Python
results must equal (DEJA_BIN, set by tests/python.rs; else target/release/deja)."""

import json
import os
import subprocess

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DATA = os.path.join(ROOT, "tests", "data")
SEED = os.path.join(ROOT, "data", "kharkiv.txt")
DEV_SAMPLE = os.path.join(DATA, "corpus", "dev-sample.jsonl")
# The shared evaluation corpus, beside the repository when it is there.
CORPUS_DEV = os.path.join(ROOT, "..", "shared", "eval", "corpus-dev", "corpus.jsonl")


def deja_bin():
    return os.environ.get("DEJA_BIN") or os.path.join(ROOT, "target", "release", "deja")


def run_cli(*args, check=True):
    """Runs the CLI from the repository root: (exit code, stdout, stderr)."""
    p = subprocess.run([deja_bin(), *args], cwd=ROOT, capture_output=True, text=True, check=False)
    if check and p.returncode not in (0, 1):
        raise AssertionError(f"deja {' '.join(args)} exited {p.returncode}: {p.stderr}")
    return p.returncode, p.stdout, p.stderr


def cli_json(*args):
    return json.loads(run_cli(*args)[1])


def read_text(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f]


@pytest.fixture(scope="session")
def dev_sample():
    return read_jsonl(DEV_SAMPLE)
