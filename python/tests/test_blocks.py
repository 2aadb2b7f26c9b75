"""The building blocks: shapes, dtypes, zero-copy inputs, the GIL released, and the same
pairs as `deja corpus` from band keys + candidates + verify."""

import json
import os
import tempfile
import threading
import time

import deja
import numpy as np
import pytest
from conftest import DEV_SAMPLE, cli_json

pa = pytest.importorskip("pyarrow")


@pytest.fixture(scope="module")
def texts(dev_sample):
    return [r["text"] for r in dev_sample]


def test_shapes_and_types(texts):
    sk = deja.Sketcher(128, 5, 1)
    assert (sk.bands, sk.rows) == (13, 7)  # recall-first banding at 0.8, as the CLI
    sigs = sk.signatures(texts)
    assert sigs.dtype == np.uint32 and sigs.shape == (len(texts), 128)
    assert sigs.flags.c_contiguous and sigs.flags.owndata is False  # Rust's buffer, no copy
    keys = sk.band_keys(texts)
    assert keys.dtype == np.uint64 and keys.shape == (len(texts), 13)
    sets = sk.shingle_sets(texts)
    assert isinstance(sets, pa.LargeListArray) and sets.type.value_type == pa.uint32()
    assert len(sets) == len(texts)
    s0 = sets[0].values.to_numpy()
    assert (np.diff(s0.astype(np.int64)) > 0).all()  # sorted, no repeats
    k2, sets2 = sk.sketch(texts)
    assert (k2 == keys).all() and sets2.equals(sets)
    assert "bands=13" in repr(sk)


def test_same_seed_same_signature_and_arrow_input(texts):
    sk = deja.Sketcher(64, 3, seed=7, words="unicode", sketch="minhash")
    a = sk.signatures(texts)
    assert (
        a == deja.Sketcher(64, 3, seed=7, words="unicode", sketch="minhash").signatures(texts)
    ).all()
    assert not (
        a == deja.Sketcher(64, 3, seed=8, words="unicode", sketch="minhash").signatures(texts)
    ).all()
    for arrow in (
        pa.array(texts),
        pa.array(texts, pa.large_string()),
        pa.chunked_array([texts[:50], texts[50:]]),
        pa.array(texts, pa.string_view()),
    ):
        assert (sk.signatures(arrow) == a).all()
    assert sk.signatures([]).shape == (0, 64)


def test_blocks_give_the_clis_pairs(dev_sample, texts):
    want = cli_json("corpus", DEV_SAMPLE, "--format", "json", "--no-paragraphs")
    sk = deja.Sketcher()
    keys, sets = sk.sketch(pa.array(texts))
    cand, large = deja.candidates(keys)
    assert cand.dtype == np.uint32 and cand.shape[1] == 2
    assert len(cand) == want["candidates"] and large == [] and want["large_buckets"] == 0
    pairs, sim = deja.verify(cand, sets, 0.8)
    # near_duplicates: the same in one call.
    p2, s2 = deja.near_duplicates(keys, sets, 0.8)
    assert (p2 == pairs).all() and (s2 == sim).all()
    ids = [r["id"] for r in dev_sample]
    got = [
        {"a": ids[a], "b": ids[b], "similarity": round(float(s), 4)}
        for (a, b), s in zip(pairs.tolist(), sim)
    ]
    assert got == want["pairs"]
    # The similarities are the exact Jaccard of the sets.
    a, b = pairs[0]
    assert deja.jaccard(sets[int(a)].values.to_pylist(), sets[int(b)].values.to_pylist()) == sim[0]
    # Pairs as a list of tuples, sets as a (small) list array.
    assert deja.verify([(int(a), int(b))], sets)[1][0] == sim[0]
    small = pa.array([[1, 2, 3], [2, 3, 4]], pa.list_(pa.uint32()))
    assert deja.verify([(0, 1)], small, 0.5)[1].tolist() == [0.5]


def test_empty_texts_are_nobodys_candidates():
    sk = deja.Sketcher()
    keys = sk.band_keys(["", "  ", "some words of a text here"])
    assert (keys[:2] == 0).all() and (keys[2] != 0).all()
    pairs, large = deja.candidates(keys)
    assert pairs.shape == (0, 2) and large == []


def test_identical_texts_by_the_thousand_stay_linear(dev_sample):
    """20 k copies of one text: one bucket handed back whole, not 200 M pairs."""
    n = 20_000
    texts = [dev_sample[0]["text"]] * n + [r["text"] for r in dev_sample[1:50]]
    keys, sets = deja.Sketcher().sketch(texts)
    t = time.perf_counter()
    pairs, large = deja.candidates(keys)
    assert len(large) == 1 and large[0].dtype == np.uint32 and (pairs >= n).all()
    assert (large[0] == np.arange(n)).all()
    joined, sim = deja.join_buckets(large, sets, 0.8)
    assert (joined[:, 0] == 0).all() and (joined[:, 1] == np.arange(1, n)).all()
    assert (sim == 1.0).all()
    near, _ = deja.near_duplicates(keys, sets, 0.8)
    assert len(near) == len(np.unique(near, axis=0)) and len(near) >= n - 1
    assert time.perf_counter() - t < 10, time.perf_counter() - t
    # The CLI lists the same pairs for the same texts.
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "copies.jsonl")
        with open(path, "w", encoding="utf-8") as f:
            f.writelines(json.dumps({"id": i, "text": text}) + "\n" for i, text in enumerate(texts))
        want = cli_json("corpus", path, "--format", "json", "--no-paragraphs")
    assert want["large_buckets"] == 1
    assert [[p["a"], p["b"]] for p in want["pairs"]] == near.tolist()
    # max_bucket=None expands every bucket (small inputs only: quadratic).
    few_keys, few_sets = deja.Sketcher().sketch(texts[:300])
    all_pairs, none = deja.candidates(few_keys, max_bucket=None)
    assert none == [] and len(all_pairs) == 300 * 299 // 2
    assert len(deja.near_duplicates(few_keys, few_sets, max_bucket=None)[0]) == 300 * 299 // 2
    with pytest.raises(deja.DejaError, match="max_bucket"):
        deja.candidates(keys, max_bucket=1)


def test_errors():
    with pytest.raises(deja.DejaError, match="--num-perm"):
        deja.Sketcher(0)
    with pytest.raises(deja.DejaError, match="--bands"):
        deja.Sketcher(128, bands=20, rows=7)
    with pytest.raises(deja.DejaError, match="--threshold"):
        deja.Sketcher(threshold=0)
    sk = deja.Sketcher()
    with pytest.raises(TypeError, match=r"texts\[1\]"):
        sk.signatures(["ok", 3])
    with pytest.raises(TypeError, match="one str"):
        sk.signatures("a str is not a batch")
    with pytest.raises(TypeError, match="string array"):
        sk.signatures(pa.array([1, 2]))
    sets = sk.shingle_sets(["a b c d e f", "a b c d e g"])
    with pytest.raises(deja.DejaError, match="past the last"):
        deja.verify([(0, 5)], sets)
    unsorted = pa.array([[3, 1], [1, 3]], pa.list_(pa.uint32()))
    with pytest.raises(deja.DejaError, match="not sorted"):
        deja.verify([(0, 1)], unsorted)
    with pytest.raises(TypeError):
        deja.verify([(0, 1)], pa.array([["x"]]))
    assert deja.jaccard([3, 1, 2, 2], [2, 3, 4]) == 0.5


def test_gil_is_released(texts):
    """Another Python thread runs while a batch is sketched."""
    big = texts * 40
    sk = deja.Sketcher(sketch="minhash")
    ticks = 0
    running = True

    def count():
        nonlocal ticks
        while running:
            ticks += 1

    t = threading.Thread(target=count)
    t.start()
    time.sleep(0.05)
    try:
        before = ticks
        start = time.perf_counter()
        sk.signatures(big)
        elapsed = time.perf_counter() - start
        during = ticks - before
    finally:
        running = False
        t.join()
    # With the GIL held for the whole call, the counter could only move at its edges.
    assert elapsed > 0.05, elapsed
    assert during > 10_000, (during, elapsed)


def test_str_inputs_in_place_and_copied_agree(texts):
    """str are read in place (Python >= 3.10) or copied (3.9): same results as Arrow."""
    sk = deja.Sketcher()
    np_str = np.array(texts[:20])  # numpy.str_ items are str subclasses
    want = sk.signatures(pa.array(texts[:20]))
    assert (sk.signatures(np_str) == want).all()
    assert (sk.signatures(tuple(texts[:20])) == want).all()
    with pytest.raises(UnicodeEncodeError):
        sk.signatures(["fine", "lone surrogate \ud800"])
