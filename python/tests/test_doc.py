"""deja.doc / deja.strip equal `deja doc` on the seed and the fixtures."""

import glob
import json
import os
import subprocess

import deja
import pytest
from conftest import DATA, ROOT, SEED, cli_json, deja_bin, read_text, run_cli


def rel(path):
    return os.path.relpath(path, ROOT)


def test_seed_equals_cli():
    text = read_text(SEED)
    want = cli_json("doc", rel(SEED), "--format", "json")["documents"][0]
    got = deja.doc(text, id=rel(SEED))
    assert got == want
    kinds = [f["kind"] for f in got["findings"]]
    assert kinds.count("restatement") >= 2, kinds  # the seed's two recap paragraphs
    assert {"paragraph", "start", "end", "line", "score", "sources"} <= set(got["findings"][0])


@pytest.mark.parametrize(
    "path",
    sorted(glob.glob(os.path.join(DATA, "*.txt")) + glob.glob(os.path.join(DATA, "*.md")))
    + sorted(glob.glob(os.path.join(DATA, "markup", "*"))),
)
def test_fixtures_equal_cli(path):
    text = read_text(path)
    want = cli_json("doc", rel(path), "--format", "json")["documents"][0]
    assert deja.doc(text, id=rel(path)) == want


def test_options_and_explain_equal_cli():
    text = read_text(SEED)
    args = [
        "--threshold",
        "0.4",
        "--near-duplicate-threshold",
        "0.6",
        "--explain",
        "--near-miss",
        "0.01",
    ]
    want = cli_json("doc", rel(SEED), "--format", "json", *args)["documents"][0]
    got = deja.doc(
        text,
        id=rel(SEED),
        threshold=0.4,
        near_duplicate_threshold=0.6,
        explain=True,
        near_miss=0.01,
    )
    assert got == want
    assert got["near_misses"] and "explain" in got["findings"][-1]


def test_no_id_reads_markdown_as_stdin():
    text = read_text(SEED)
    p = subprocess.run(
        [deja_bin(), "doc", "-", "--format", "json"],
        input=text,
        check=True,
        capture_output=True,
        text=True,
    )
    want = json.loads(p.stdout)["documents"][0]
    assert deja.doc(text) == want
    assert want["id"] == "-"


def test_strip_equals_cli():
    text = read_text(SEED)
    _, want, _ = run_cli("doc", rel(SEED), "--strip")
    got = deja.strip(text, id=rel(SEED))
    assert got == want
    assert len(got) < len(text)
    assert deja.strip("One paragraph only.\n") == "One paragraph only.\n"


def test_errors_are_the_clis():
    code, _, err = run_cli("doc", rel(SEED), "--threshold", "1.5", check=False)
    assert code == 2
    with pytest.raises(deja.DejaError) as e:
        deja.doc("text", threshold=1.5)
    assert str(e.value) in err
    assert str(e.value) == "invalid option: --threshold must be between 0 and 1, got 1.5"
    with pytest.raises(deja.DejaError, match="--markup"):
        deja.doc("text", markup="latex")
    with pytest.raises(deja.DejaError):
        deja.doc("text", lang="klingon")
    with pytest.raises(TypeError):
        deja.doc(b"bytes are not text")
