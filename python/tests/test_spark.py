"""deja.spark on a real Spark (local mode, pyspark from PyPI, Java 17): the same pairs, clusters
and deduplicated documents as `deja corpus` / `deja dedup` on one machine."""

import json
import os
import random
import time
from collections import defaultdict

import deja
import deja.spark
import pytest
from conftest import CORPUS_DEV, DEV_SAMPLE, cli_json, read_jsonl, run_cli
from pyspark.sql import SparkSession


@pytest.fixture(scope="module")
def spark():
    s = (
        SparkSession.builder.master("local[2]")
        .appName("deja-tests")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.default.parallelism", "2")
        # Several input partitions, so that positions span partitions.
        .config("spark.sql.files.maxPartitionBytes", str(4 << 20))
        .config("spark.ui.enabled", "false")
        .config("spark.driver.memory", "2g")
        .getOrCreate()
    )
    s.sparkContext.setLogLevel("ERROR")
    yield s
    s.stop()


def cli_result(path, *extra):
    want = cli_json("corpus", path, "--format", "json", "--no-paragraphs", *extra)
    pairs = {(p["a"], p["b"]): p["similarity"] for p in want["pairs"]}
    clusters = {c["representative"]: sorted(c["members"]) for c in want["clusters"]}
    return want, pairs, clusters


def same_pairs(got, want):
    """The same pairs, the similarities equal to the CLI's 4 decimals."""
    return got.keys() == want.keys() and all(abs(got[p] - want[p]) < 0.5e-4 + 1e-12 for p in got)


def spark_pairs(df, **options):
    rows = deja.spark.near_duplicates(df, **options).collect()
    pairs = {(r["a"], r["b"]): r["similarity"] for r in rows}
    assert len(pairs) == len(rows), "a pair listed twice"
    return pairs


def spark_clusters(df, **options):
    members = defaultdict(list)
    for r in deja.spark.clusters(df, **options).collect():
        members[r["representative"]].append(r["id"])
    return {rep: sorted(m) for rep, m in members.items()}


def spark_result(df, **options):
    return spark_pairs(df, **options), spark_clusters(df, **options)


def test_same_pairs_clusters_and_dedup_as_the_cli(spark, tmp_path):
    path = CORPUS_DEV if os.path.exists(CORPUS_DEV) else DEV_SAMPLE
    df = spark.read.json(path)
    assert df.rdd.getNumPartitions() > 1 or path == DEV_SAMPLE
    t = time.perf_counter()
    want, want_pairs, want_clusters = cli_result(path)
    got_pairs, got_clusters = spark_result(df)
    print(
        f"\n{os.path.basename(os.path.dirname(path))}: {want['documents']} documents; "
        f"CLI {len(want_pairs)} pairs, {len(want_clusters)} clusters; "
        f"Spark {len(got_pairs)} pairs, {len(got_clusters)} clusters "
        f"({time.perf_counter() - t:.1f} s)"
    )
    assert len(want_pairs) > 50 and len(want_clusters) > 20
    assert same_pairs(got_pairs, want_pairs)
    assert got_clusters == want_clusters
    out = tmp_path / "dedup.jsonl"
    run_cli("dedup", path, "-o", str(out))
    kept_cli = [r["id"] for r in read_jsonl(out)]
    kept = sorted(r["id"] for r in deja.spark.dedup(df).select("id").collect())
    assert kept == sorted(kept_cli)
    assert len(kept) == want["documents"] - want["duplicate_documents"]


def test_giant_buckets_stay_linear_and_give_the_clis_clusters(spark, tmp_path):
    """Hundreds of copies of one text (over max_bucket) among real documents: the pairs and
    clusters of `deja corpus`, and with max_bucket=None those of `--all-pairs`."""
    sample = read_jsonl(DEV_SAMPLE)
    rng = random.Random(3)
    copy = sample[0]["text"]
    edited = copy.replace("the", "a", 1)
    texts = [r["text"] for r in sample[1:]] + [copy] * 300 + [edited] * 4
    rng.shuffle(texts)
    path = tmp_path / "copies.jsonl"
    with open(path, "w", encoding="utf-8") as f:
        f.writelines(json.dumps({"id": f"d{i:04}", "text": text}) + "\n" for i, text in enumerate(texts))
    df = spark.read.json(str(path))
    want, want_pairs, want_clusters = cli_result(str(path))
    assert want["large_buckets"] >= 1
    got_pairs, got_clusters = spark_result(df)
    assert same_pairs(got_pairs, want_pairs)
    assert got_clusters == want_clusters
    # Linear: each copy is listed with one other document, not with all 300.
    assert len(got_pairs) < 2 * len(texts)
    everything, all_pairs, all_clusters = cli_result(str(path), "--all-pairs")
    assert everything["large_buckets"] == 0
    got_all = spark_pairs(df, max_bucket=None)
    assert same_pairs(got_all, all_pairs) and len(got_all) > 300 * 299 // 2
    assert all_clusters == want_clusters


def test_options_and_errors(spark):
    df = spark.read.json(DEV_SAMPLE)
    _, want_pairs, want_clusters = cli_result(DEV_SAMPLE, "--threshold", "0.5", "--sketch", "minhash")
    got_pairs, got_clusters = spark_result(df, threshold=0.5, sketch="minhash")
    assert same_pairs(got_pairs, want_pairs) and got_clusters == want_clusters
    renamed = df.withColumnRenamed("text", "body").withColumnRenamed("id", "key")
    rows = deja.spark.near_duplicates(renamed, text_col="body", id_col="key").collect()
    assert {(r["a"], r["b"]) for r in rows} == set(cli_result(DEV_SAMPLE)[1])
    with pytest.raises(deja.DejaError, match="no column"):
        deja.spark.near_duplicates(df, text_col="body")
    with pytest.raises(deja.DejaError, match="--threshold"):
        deja.spark.near_duplicates(df, threshold=0)
    with pytest.raises(deja.DejaError, match="max_bucket"):
        deja.spark.clusters(df, max_bucket=1)
    with pytest.raises(TypeError, match="unexpected"):
        deja.spark.dedup(df, num_perms=64)
