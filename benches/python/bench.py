#!/usr/bin/env python3
"""deja's Python package against rensa and datasketch, in-process, end to end.

  python3 benches/python/bench.py [--docs 10000] [--repeat 5] [--skip-datasketch]

One command: creates a venv (target/bench-python-venv) with maturin, numpy, pyarrow, rensa and
datasketch, builds and installs deja's wheel (release), synthesises a corpus of --docs
documents from the dev corpus (benches/compare/synth.py), computes the exact truth once
(benches/compare/exact.py: every pair with J >= 0.8) and times, for the dev corpus and the
synthetic one, each tool from a Python list of str to verified pairs, with the same 5-word
shingles, 128 permutations and threshold 0.8:

- deja Sketcher: Sketcher().sketch(texts) (band keys + compact sets in one pass),
  deja.near_duplicates(keys, sets, 0.8) (candidates + exact Jaccard);
- deja corpus: deja.corpus(texts, paragraphs=False) (the same, in one call, as a dict);
- rensa: Python shingles (lowercase, \\w+ words, 5-word windows: the peers tokenise nothing
  themselves), RMinHash.from_token_sets, RMinHashLSH(0.8, 128, 16 bands).insert_many and
  query_all, each candidate verified by its estimated Jaccard (rensa's batch API);
- datasketch: the same shingles, MinHash.bulk, MinHashLSH(0.8, 128) in an insertion
  session, query, estimated Jaccard.

Each run is a fresh worker process that loads the texts and imports the tool's modules, then
times only the tool (so the texts' load, imports and the interpreter's start are outside); peak RSS is the worker's peak minus its
RSS with the texts loaded. Runs are interleaved across tools; the table shows medians.
"""

import argparse
import glob
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
COMPARE = os.path.join(ROOT, "benches", "compare")
DEV = os.path.abspath(os.path.join(ROOT, "..", "shared", "eval", "corpus-dev", "corpus.jsonl"))
WORK = os.path.join(ROOT, "target", "bench-python")
VENV = os.path.join(ROOT, "target", "bench-python-venv")
TOOLS = ["deja Sketcher", "deja corpus", "rensa", "datasketch"]

# The peers' shingles, the truth's too: benches/compare/peers.py's own function.
sys.path.insert(0, COMPARE)
from peers import shingles


def rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_deja_sketcher(texts):
    import deja

    keys, sets = deja.Sketcher(128, 5, 1).sketch(texts)
    pairs, _ = deja.near_duplicates(keys, sets, 0.8)
    return [tuple(p) for p in pairs.tolist()]


def run_deja_corpus(texts):
    import deja

    r = deja.corpus(texts, paragraphs=False)
    return [(p["a"], p["b"]) for p in r["pairs"]]


def run_rensa(texts):
    from rensa import RMinHash, RMinHashLSH

    sets = [shingles(t) for t in texts]
    keep = [i for i, s in enumerate(sets) if s]
    mhs = RMinHash.from_token_sets([sets[i] for i in keep], num_perm=128, seed=42)
    lsh = RMinHashLSH(threshold=0.8, num_perm=128, num_bands=16)
    lsh.insert_many(mhs)
    pairs = []
    for k, cands in enumerate(lsh.query_all(mhs)):
        for c in cands:
            if c > k and mhs[k].jaccard(mhs[c]) >= 0.8:
                pairs.append((keep[k], keep[c]))
    return pairs


def run_datasketch(texts):
    from datasketch import MinHash, MinHashLSH

    sets = [shingles(t) for t in texts]
    keep = [i for i, s in enumerate(sets) if s]
    mhs = MinHash.bulk([[s.encode("utf-8") for s in sets[i]] for i in keep], num_perm=128, seed=1)
    lsh = MinHashLSH(threshold=0.8, num_perm=128)
    with lsh.insertion_session() as session:
        for k, m in enumerate(mhs):
            session.insert(k, m)
    pairs = []
    for k, m in enumerate(mhs):
        for c in lsh.query(m):
            if c > k and m.jaccard(mhs[c]) >= 0.8:
                pairs.append((keep[k], keep[c]))
    return pairs


IMPORTS = {
    "deja Sketcher": ["deja", "pyarrow"],
    "deja corpus": ["deja"],
    "rensa": ["rensa"],
    "datasketch": ["datasketch"],
}

RUN = {
    "deja Sketcher": run_deja_sketcher,
    "deja corpus": run_deja_corpus,
    "rensa": run_rensa,
    "datasketch": run_datasketch,
}


def worker(tool, corpus):
    """Loads the texts, times the tool, prints {seconds, rss, pairs} as JSON."""
    with open(corpus, encoding="utf-8") as f:
        records = [json.loads(line) for line in f]
    texts = [r["text"] for r in records]
    ids = [r["id"] for r in records]
    # Imports happen once per session, not per corpus: outside the timing.
    for mod in IMPORTS[tool]:
        __import__(mod)
    base = rss_mb()
    t0 = time.perf_counter()
    pairs = RUN[tool](texts)
    seconds = time.perf_counter() - t0
    named = sorted({tuple(sorted((str(ids[a]), str(ids[b])))) for a, b in pairs})
    print(json.dumps({"seconds": seconds, "rss": rss_mb() - base, "pairs": named}))


def sh(cmd, **kw):
    print("+", " ".join(cmd), file=sys.stderr, flush=True)
    return subprocess.run(cmd, check=True, **kw)


def venv():
    py = os.path.join(VENV, "bin", "python")
    if not os.path.exists(py):
        sh([sys.executable, "-m", "venv", VENV])
    need = ["maturin", "numpy", "pyarrow", "rensa", "datasketch"]
    ok = subprocess.run([py, "-c", "import " + ", ".join(need)], capture_output=True, check=False)
    if ok.returncode:
        sh([py, "-m", "pip", "install", "-q", *need])
    wheels = os.path.join(WORK, "wheels")
    shutil.rmtree(wheels, ignore_errors=True)
    sh(
        [os.path.join(VENV, "bin", "maturin"), "build", "--release", "--locked", "-o", wheels],
        cwd=os.path.join(ROOT, "python"),
    )
    sh(
        [
            py,
            "-m",
            "pip",
            "install",
            "-q",
            "--force-reinstall",
            "--no-deps",
            *glob.glob(os.path.join(wheels, "*.whl")),
        ]
    )
    return py


def truth(corpus, name):
    path = os.path.join(WORK, f"truth-{name}.jsonl")
    if not os.path.exists(path):
        sh([sys.executable, os.path.join(COMPARE, "exact.py"), corpus, path])
    return {tuple(sorted((str(r["a"]), str(r["b"])))) for r in map(json.loads, open(path))}


def main():
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--docs", type=int, default=10000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--skip-datasketch", action="store_true")
    ap.add_argument("--worker", nargs=2, metavar=("TOOL", "CORPUS"), help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.worker:
        return worker(*a.worker)
    os.makedirs(WORK, exist_ok=True)
    py = venv()
    synth = os.path.join(WORK, f"synth-{a.docs}.jsonl")
    if not os.path.exists(synth):
        with open(synth, "w") as f:
            sh([sys.executable, os.path.join(COMPARE, "synth.py"), "--docs", str(a.docs)], stdout=f)
    tools = [t for t in TOOLS if not (a.skip_datasketch and t == "datasketch")]
    print(
        f"{'corpus':<14}{'docs':>7}{'MB':>7}  {'tool':<14}{'s (median)':>11}{'min':>8}{'max':>8}"
        f"{'RSS MB':>8}{'pairs':>7}{'recall':>8}{'prec.':>8}  vs deja Sketcher"
    )
    for name, corpus in [("dev", DEV), (f"synth-{a.docs}", synth)]:
        want = truth(corpus, name)
        with open(corpus) as f:
            docs = sum(1 for _ in f)
        mb = os.path.getsize(corpus) / 1e6
        runs = {t: [] for t in tools}
        for _ in range(a.repeat):
            for t in tools:
                if t == "datasketch" and runs[t]:
                    continue  # one run: it takes minutes
                out = sh([py, __file__, "--worker", t, corpus], capture_output=True, text=True)
                runs[t].append(json.loads(out.stdout))
        base = statistics.median(r["seconds"] for r in runs["deja Sketcher"])
        for t in tools:
            secs = [r["seconds"] for r in runs[t]]
            got = set(map(tuple, runs[t][0]["pairs"]))
            tp = len(got & want)
            med = statistics.median(secs)
            print(
                f"{name:<14}{docs:>7}{mb:>7.1f}  {t:<14}{med:>11.3f}{min(secs):>8.3f}{max(secs):>8.3f}"
                f"{statistics.median(r['rss'] for r in runs[t]):>8.0f}{len(got):>7}"
                f"{tp / len(want):>8.4f}{tp / max(1, len(got)):>8.4f}  {med / base:>6.1f}x",
                flush=True,
            )


if __name__ == "__main__":
    main()
