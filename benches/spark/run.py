#!/usr/bin/env python3
"""deja on Spark against Spark's own ways to find near-duplicate documents, in one run.

  python3 benches/spark/run.py [--sizes 10000,100000] [--peer-sizes 10000]
                               [--mllib-sizes 10000,100000] [--timeout 2400] [--work DIR]

Needs the test venv (target/python-venv, made by `cargo test` / python/run_tests.py: the deja
wheel, pyspark) and Java 17. Corpora are synthesised from the dev corpus's real text by
../compare/synth.py (seed 1); the truth is every pair with exact Jaccard >= 0.8 of the 5-word
shingles (../compare/exact.py, a prefix-filtered all-pairs join). Each job runs in its own
process (a fresh driver JVM, `local[2]`, 4 GB driver memory, 16 shuffle partitions), reads the
JSONL with spark.read.json (with its schema given: no pass over the file to infer it) and brings
the pairs to the driver for scoring:

- deja: `deja.spark.near_duplicates` (threshold 0.8, the defaults of `deja corpus`).
- mllib: RegexTokenizer(\\w+, lower case) → NGram(5) → HashingTF(2^24, binary) → MinHashLSH
  (2 hash tables: P(candidate | J = 0.8) = 0.96, the recall-first choice at 0.95) →
  approxSimilarityJoin at Jaccard distance 0.2 (exact distance of the hashed shingle sets).
- banded: Spark SQL built-ins only: the same shingles hashed with xxhash64, 91 seeded minima,
  13 bands × 7 rows (deja's banding at 0.8), band keys grouped, pairs deduplicated and verified
  by exact Jaccard (array_intersect / array_union) in SQL.

Time is wall time from spawn to exit (JVM start included), peak RSS the largest sum of the RSS
of the job's process tree (driver JVM, Python workers), sampled every 0.1 s.
"""

import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
COMPARE = os.path.join(ROOT, "benches", "compare")
VENV_PY = os.path.join(ROOT, "target", "python-venv", "bin", "python")

JOB = r'''
import json, os, sys, time
from pyspark.sql import SparkSession, functions as F

tool, corpus, out = sys.argv[1:4]
spark = (SparkSession.builder.master("local[2]").appName("deja-bench-" + tool)
         .config("spark.driver.memory", "4g")
         .config("spark.sql.shuffle.partitions", "16")
         .config("spark.ui.enabled", "false")
         .config("spark.sql.execution.arrow.pyspark.enabled", "true")
         .getOrCreate())
spark.sparkContext.setLogLevel("ERROR")
df = spark.read.schema("id STRING, text STRING").json(corpus)  # no inference pass
t = 0.8
if tool == "deja":
    import deja.spark
    pairs = deja.spark.near_duplicates(df, threshold=t).select("a", "b")
elif tool == "mllib":
    from pyspark.ml import Pipeline
    from pyspark.ml.feature import HashingTF, MinHashLSH, NGram, RegexTokenizer
    words = RegexTokenizer(inputCol="text", outputCol="words", pattern="\\w+", gaps=False,
                           toLowercase=True)
    grams = NGram(n=5, inputCol="words", outputCol="grams")
    tf = HashingTF(inputCol="grams", outputCol="features", numFeatures=1 << 24, binary=True)
    feats = Pipeline(stages=[words, grams, tf]).fit(df).transform(df)
    feats = feats.where(F.size("grams") > 0).select("id", "features").cache()
    model = MinHashLSH(inputCol="features", outputCol="hashes", numHashTables=2, seed=1).fit(feats)
    joined = model.approxSimilarityJoin(feats, feats, 1 - t, distCol="dist")
    pairs = joined.where(F.col("datasetA.id") < F.col("datasetB.id")).select(
        F.col("datasetA.id").alias("a"), F.col("datasetB.id").alias("b"))
elif tool == "banded":
    bands, rows = 13, 7
    words = F.expr("filter(split(lower(text), '[^\\\\p{L}\\\\p{N}_]+'), w -> w != '')")
    docs = df.select("id", words.alias("w"))
    docs = docs.select("id", F.expr(
        "array_distinct(CASE WHEN size(w) = 0 THEN array() WHEN size(w) < 5 "
        "THEN array(xxhash64(array_join(w, ' '))) ELSE "
        "transform(sequence(1, size(w) - 4), i -> xxhash64(array_join(slice(w, i, 5), ' '))) END)"
    ).alias("s")).where(F.size("s") > 0).cache()
    sig = F.array(*[F.expr(f"array_min(transform(s, x -> xxhash64(x, {seed})))")
                    for seed in range(bands * rows)])
    keyed = docs.select("id", sig.alias("sig")).select("id", F.posexplode(F.array(*[
        F.xxhash64(F.lit(b), F.slice("sig", b * rows + 1, rows)) for b in range(bands)
    ])).alias("band", "key"))
    buckets = keyed.groupBy("band", "key").agg(F.array_sort(F.collect_list("id")).alias("m"))
    cand = (buckets.where(F.size("m") > 1).select(F.explode("m").alias("a"), "m")
            .select("a", F.explode(F.filter("m", lambda x: x > F.col("a"))).alias("b"))
            .distinct())
    sa = docs.select(F.col("id").alias("a"), F.col("s").alias("sa"))
    sb = docs.select(F.col("id").alias("b"), F.col("s").alias("sb"))
    pairs = (cand.join(sa, "a").join(sb, "b")
             .where(F.size(F.array_intersect("sa", "sb"))
                    >= t * F.size(F.array_union("sa", "sb")) - 1e-9)
             .select("a", "b"))
rows_out = pairs.collect()
with open(out, "w") as f:
    for r in rows_out:
        f.write(json.dumps({"a": r["a"], "b": r["b"]}) + "\n")
spark.stop()
'''


def tree_rss(pid):
    """Sum of the RSS (bytes) of `pid` and its descendants."""
    children = {}
    rss = {}
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open(f"/proc/{p}/stat") as f:
                stat = f.read()
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            with open(f"/proc/{p}/statm") as f:
                rss[int(p)] = int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
            children.setdefault(ppid, []).append(int(p))
        except (OSError, ValueError, IndexError):
            continue
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        total += rss.get(p, 0)
        todo.extend(children.get(p, []))
    return total


def run_job(tool, corpus, out, timeout):
    env = dict(os.environ, PYSPARK_PYTHON=VENV_PY, PYSPARK_DRIVER_PYTHON=VENV_PY)
    t0 = time.perf_counter()
    p = subprocess.Popen([VENV_PY, "-c", JOB, tool, corpus, out], env=env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    peak = 0
    while p.poll() is None:
        peak = max(peak, tree_rss(p.pid))
        if time.perf_counter() - t0 > timeout:
            subprocess.run(["pkill", "-TERM", "-P", str(p.pid)], check=False)
            p.kill()
            p.wait()
            return None, peak
        time.sleep(0.1)
    wall = time.perf_counter() - t0
    err = p.stderr.read()
    if p.returncode != 0:
        sys.exit(f"{tool} on {corpus} failed ({p.returncode}):\n{err[-3000:]}")
    return wall, peak


def load_pairs(path):
    out = set()
    with open(path, encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            a, b = r["a"], r["b"]
            out.add((a, b) if str(a) < str(b) else (b, a))
    return out


def score(got, truth):
    tp = len(got & truth)
    return (tp / len(truth) if truth else 1.0), (tp / len(got) if got else 1.0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="10000,100000")
    ap.add_argument("--peer-sizes", default="10000", help="sizes the banded peer runs at")
    ap.add_argument("--mllib-sizes", default="10000,100000", help="sizes MLlib runs at")
    ap.add_argument("--timeout", type=float, default=2400.0, help="seconds per job")
    ap.add_argument("--work", default=os.path.join(ROOT, "target", "bench-spark"))
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    sizes = [int(s) for s in a.sizes.split(",")]
    peer_sizes = {int(s) for s in a.peer_sizes.split(",") if s}
    mllib_sizes = {int(s) for s in a.mllib_sizes.split(",") if s}
    print(f"load average at start: {os.getloadavg()}", flush=True)
    jobs = []
    for n in sizes:
        corpus = os.path.join(a.work, f"synth-{n}.jsonl")
        if not os.path.exists(corpus):
            with open(corpus + ".tmp", "w") as f:
                subprocess.run([sys.executable, os.path.join(COMPARE, "synth.py"), "--docs", str(n)],
                               stdout=f, check=True)
            os.rename(corpus + ".tmp", corpus)
        tools = ["deja"]
        tools += ["banded"] if n in peer_sizes else []
        tools += ["mllib"] if n in mllib_sizes else []
        jobs += [(n, corpus, tool) for tool in tools]
    # The jobs first, one after the other; the truth (a long single-threaded Python join) after.
    done = []
    for n, corpus, tool in jobs:
        out = os.path.join(a.work, f"synth-{n}.{tool}.jsonl")
        wall, peak = run_job(tool, corpus, out, a.timeout)
        done.append((n, corpus, tool, out, wall, peak))
        state = "stopped at the timeout" if wall is None else f"{wall:.1f} s"
        print(f"{n} {tool}: {state}, {peak / 1e6:.0f} MB (load {os.getloadavg()[0]:.1f})", flush=True)
    rows = []
    for n, corpus, tool, out, wall, peak in done:
        truth_path = os.path.join(a.work, f"synth-{n}.truth.jsonl")
        if not os.path.exists(truth_path):
            subprocess.run([sys.executable, os.path.join(COMPARE, "exact.py"), corpus, truth_path],
                           check=True)
        truth = load_pairs(truth_path)
        mb = os.path.getsize(corpus) / 1e6
        if wall is None:
            rows.append((n, mb, tool, None, peak, None, None, None, len(truth)))
            continue
        got = load_pairs(out)
        r, p = score(got, truth)
        rows.append((n, mb, tool, wall, peak, len(got), r, p, len(truth)))
    print(f"\nload average at end: {os.getloadavg()}")
    print(f"\n{'docs':>7} {'MB':>6}  {'job':<7}{'wall s':>8}{'peak RSS MB':>13}{'pairs':>8}"
          f"{'recall':>8}{'prec.':>8}  time / deja")
    deja_wall = {r[0]: r[3] for r in rows if r[2] == "deja"}
    for n, mb, tool, wall, peak, npairs, r, p, nt in rows:
        if wall is None:
            print(f"{n:>7} {mb:>6.0f}  {tool:<7}{'> timeout':>8}{peak / 1e6:>13.0f}")
            continue
        ratio = "" if tool == "deja" else f"{wall / deja_wall[n]:.1f}x"
        print(f"{n:>7} {mb:>6.0f}  {tool:<7}{wall:>8.1f}{peak / 1e6:>13.0f}{npairs:>8}"
              f"{r:>8.4f}{p:>8.4f}  {ratio}")
    print(f"(truth: every pair with exact J >= 0.8: "
          f"{', '.join(f'{r[0]}: {r[8]}' for r in rows if r[2] == 'deja')})")


if __name__ == "__main__":
    main()
