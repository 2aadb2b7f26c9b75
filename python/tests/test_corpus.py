"""deja.corpus / deja.dedup equal `deja corpus` / `deja dedup` on the dev corpus."""

import json
import os

import deja
import pytest
from conftest import CORPUS_DEV, DATA, DEV_SAMPLE, cli_json, read_jsonl, run_cli

pa = pytest.importorskip("pyarrow")


def test_dev_sample_equals_cli(dev_sample):
    want = cli_json("corpus", DEV_SAMPLE, "--format", "json")
    got = deja.corpus(dev_sample)
    assert got == want
    # Enough found that equality means something.
    assert got["pair_count"] >= 50 and got["cluster_count"] >= 20
    assert got["repeated_paragraph_count"] >= 1


@pytest.mark.skipif(not os.path.exists(CORPUS_DEV), reason="../shared/eval/corpus-dev not here")
def test_corpus_dev_equals_cli():
    records = read_jsonl(CORPUS_DEV)
    want = cli_json("corpus", CORPUS_DEV, "--format", "json")
    got = deja.corpus(records)
    assert got == want
    assert got["documents"] == 4864 and got["pair_count"] >= 700
    # Options reach the library as the CLI's flags do.
    args = ["--threshold", "0.5", "--no-paragraphs", "--sketch", "minhash", "--shingle-size", "3"]
    want = cli_json("corpus", CORPUS_DEV, "--format", "json", *args)
    got = deja.corpus(records, threshold=0.5, paragraphs=False, sketch="minhash", shingle_size=3)
    assert got == want


def test_input_shapes_agree(dev_sample):
    want = deja.corpus(dev_sample)
    pairs = [(r["id"], r["text"]) for r in dev_sample]
    assert deja.corpus(pairs) == want
    assert deja.corpus(iter(pairs)) == want  # any iterable, read once
    table = pa.table({"id": [r["id"] for r in dev_sample], "text": [r["text"] for r in dev_sample]})
    assert deja.corpus(table) == want
    assert deja.corpus(table.to_reader(max_chunksize=37)) == want
    renamed = [{"key": r["id"], "body": r["text"]} for r in dev_sample]
    assert deja.corpus(renamed, text_field="body", id_field="key") == want
    # Plain strings are numbered in order, as records without an id.
    texts = [r["text"] for r in dev_sample]
    by_position = deja.corpus(texts)
    assert by_position["pairs"] == [
        {
            "a": dev_sample.index(next(r for r in dev_sample if r["id"] == p["a"])),
            "b": dev_sample.index(next(r for r in dev_sample if r["id"] == p["b"])),
            "similarity": p["similarity"],
        }
        for p in want["pairs"]
    ]
    string_ids = pa.table({"id": [f"d{r['id']}" for r in dev_sample], "text": texts})
    assert deja.corpus(string_ids)["pairs"][0]["a"] == "d" + str(want["pairs"][0]["a"])


def test_dedup_equals_cli(dev_sample, tmp_path):
    out = tmp_path / "out.jsonl"
    run_cli("dedup", DEV_SAMPLE, "-o", str(out), "--quiet")
    want = [r["id"] for r in read_jsonl(out)]
    kept = deja.dedup(dev_sample)
    assert [r["id"] for r in kept] == want
    assert kept[0] is dev_sample[0]  # the records given, not copies
    assert len(want) < len(dev_sample)
    table = pa.table({"id": [r["id"] for r in dev_sample], "text": [r["text"] for r in dev_sample]})
    assert deja.dedup(table).column("id").to_pylist() == want


def test_dedup_strips_repeated_paragraphs_as_the_cli(dev_sample, tmp_path):
    out = tmp_path / "out.jsonl"
    run_cli("dedup", DEV_SAMPLE, "-o", str(out), "--quiet", "--strip-repeated-paragraphs", "3")
    want = [(r["id"], r["text"]) for r in read_jsonl(out)]
    before = [dict(r) for r in dev_sample]
    kept = deja.dedup(dev_sample, strip_repeated_paragraphs=3)
    assert [(r["id"], r["text"]) for r in kept] == want
    assert dev_sample == before  # the caller's records are not changed
    by_id = {r["id"]: r["text"] for r in dev_sample}
    stripped = [i for i, t in want if by_id[i] != t]
    assert stripped, "the sample has paragraphs repeated in 3 documents"
    pairs = deja.dedup([(r["id"], r["text"]) for r in dev_sample], strip_repeated_paragraphs=3)
    assert [tuple(p) for p in pairs] == want
    table = pa.table({"id": [r["id"] for r in dev_sample], "text": [r["text"] for r in dev_sample]})
    got = deja.dedup(table, strip_repeated_paragraphs=3)
    assert list(zip(got.column("id").to_pylist(), got.column("text").to_pylist())) == want
    assert deja.dedup(dev_sample) == deja.dedup(dev_sample, strip_repeated_paragraphs=None)


def test_bad_records_and_options():
    code, _, err = run_cli(
        "corpus", os.path.join(DATA, "corpus", "clean.jsonl"), "--threshold", "1.5", check=False
    )
    assert code == 2
    with pytest.raises(deja.DejaError) as e:
        deja.corpus(["a b c"], threshold=1.5)
    assert str(e.value) in err
    with pytest.raises(deja.DejaError, match=r'record 1: missing field "text"'):
        deja.corpus([{"text": "fine"}, {"body": "no text"}])
    with pytest.raises(deja.DejaError, match=r'record 0: field "text" is not a string'):
        deja.corpus([{"text": 3}])
    with pytest.raises(TypeError, match="record 1"):
        deja.corpus(["ok", 5])
    with pytest.raises(deja.DejaError, match="--words"):
        deja.corpus(["a"], words="letters")
    with pytest.raises(deja.DejaError, match="--memory"):
        deja.corpus(["a"], memory="lots")
    with pytest.raises(deja.DejaError, match="no column"):
        deja.corpus(pa.table({"body": ["x"]}))
    # Duplicate ids and empty documents are warnings in the CLI: counted, not errors.
    r = deja.corpus(
        [("x", "same words here and there"), ("x", ""), ("y", "same words here and there")]
    )
    assert r["documents"] == 3 and r["pairs"] == [{"a": "x", "b": "y", "similarity": 1.0}]


def test_memory_budget_spills_to_the_same_result(dev_sample):
    assert deja.corpus(dev_sample, memory="4k") == deja.corpus(dev_sample)


def test_panic_becomes_an_exception():
    from deja import _native

    with pytest.raises(RuntimeError, match="internal error"):
        _native._panic_for_tests()


def test_json_round_trip_types(dev_sample):
    got = deja.corpus(dev_sample[:5])
    json.dumps(got)  # plain dicts, lists, str, int, float


def test_dedup_refuses_a_stream(dev_sample):
    table = pa.table({"id": [r["id"] for r in dev_sample], "text": [r["text"] for r in dev_sample]})
    with pytest.raises(TypeError, match="take"):
        deja.dedup(table.to_reader())
