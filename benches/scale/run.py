#!/usr/bin/env python3
"""Scaling of `deja corpus`: wall time and peak RSS at 10k, 100k and 1M documents.

  python3 benches/scale/run.py [--sizes 10000,100000,1000000] [--memory 1G] [--keep]

Corpora are synthesised from the dev corpus's real text by ../compare/synth.py (each original
is a random half of the paragraphs of 1-3 real documents; 30 % are edited copies of one of the
last 5,000 originals, so cluster sizes stay flat as N grows) and written zstd-compressed
(streamed through deja's reader). Each size runs `deja corpus --format jsonl` once under
/usr/bin/time and prints documents, MB of text, wall seconds, µs per document, peak RSS and
pairs found; with --memory the band tables and shingle sets spill past that budget.
"""
import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
DEV = os.path.abspath(os.path.join(ROOT, "..", "shared", "eval", "corpus-dev", "corpus.jsonl"))
sys.path.insert(0, os.path.join(HERE, "..", "compare"))
import synth  # noqa: E402  (benches/compare/synth.py: the corpora)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="10000,100000,1000000")
    ap.add_argument("--work", default=os.path.join(HERE, "data"))
    ap.add_argument("--memory", default="1G", help="deja --memory (default 1G: keeps 1M documents under 2 GB)")
    ap.add_argument("--extra", action="append", default=[], help="extra deja argument (repeatable)")
    ap.add_argument("--keep", action="store_true", help="keep the synthesised corpora")
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    subprocess.run(["cargo", "build", "--release", "-q"], cwd=ROOT, check=True)
    deja = os.path.join(ROOT, "target", "release", "deja")
    rows = []
    for n in [int(s) for s in a.sizes.split(",")]:
        path = os.path.join(a.work, f"scale2-{n}.jsonl.zst")
        if not os.path.exists(path):
            synth.write_zst(path, n, DEV)
        cmd = [deja, "corpus", path, "--format", "jsonl", "-q"] + a.extra
        if a.memory:
            cmd += ["--memory", a.memory]
        out_path = os.path.join(a.work, f"scale-{n}.out.jsonl")
        t0 = time.time()
        with open(out_path, "w") as out:
            p = subprocess.run(["/usr/bin/time", "-v"] + cmd, stdout=out, stderr=subprocess.PIPE, text=True)
        wall = time.time() - t0
        if p.returncode not in (0, 1):
            sys.exit(p.stderr[-2000:])
        rss = next(int(l.split()[-1]) / 1024 for l in p.stderr.splitlines() if "Maximum resident" in l)
        cpu = sum(float(l.split()[-1]) for l in p.stderr.splitlines()
                  if "User time (seconds)" in l or "System time (seconds)" in l)
        with open(out_path) as f:
            summary = json.loads(f.readline())
        os.remove(out_path)
        rows.append((n, summary["documents"], wall, cpu, rss, summary["pair_count"], summary["cluster_count"],
                     summary["repeated_paragraph_count"], os.path.getsize(path) / 1e6))
        print(f"{n}: {wall:.1f} s, {rss:.0f} MB", file=sys.stderr)
        if not a.keep and n >= 1_000_000:
            os.remove(path)
    print(f"{'docs':>9}{'zst MB':>8}{'wall s':>9}{'CPU s':>8}{'us/doc':>8}{'RSS MB':>8}{'pairs':>10}{'clusters':>10}"
          f"{'rep.par.':>10}")
    for n, docs, wall, cpu, rss, pairs, clusters, reps, mb in rows:
        print(f"{docs:>9}{mb:>8.0f}{wall:>9.1f}{cpu:>8.1f}{wall / docs * 1e6:>8.0f}{rss:>8.0f}{pairs:>10}{clusters:>10}"
              f"{reps:>10}")
    print(f"({os.cpu_count()} cores; one run per size)")


if __name__ == "__main__":
    main()
