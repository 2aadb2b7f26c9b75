#!/usr/bin/env python3
"""Soak test of `--memory` (issue 15 §4; not in CI): millions of synthetic documents made from
real text, `deja corpus` and `deja dedup` under `--memory 1G` and without a cap, wall time and
peak RSS of each run, and whether the outputs are byte-identical.

  python3 benches/soak/run.py [--docs 10000000] [--memory 1G] [--reference 1T] [--keep]

The corpus comes from ../compare/synth.py over the dev corpus (../../../shared/eval/corpus-dev,
as benches/scale/run.py makes it: each original a random half of the paragraphs of 1-3 real
documents, 30 % edited copies of one of the last 5,000 originals), zstd-compressed in
--work (default benches/soak/data, made once and kept). Each run's peak RSS is read by a small
python3 parent (a child's ru_maxrss starts at its parent's peak; see tests/pathological.rs),
its output goes to a file and is compared by SHA-256 with a reference run at --reference
(default 1T: nothing spills, "uncapped"). Uncapped, the shingle sets alone take ~2.4 KB per
document of this corpus (4.8 GB at 2 M): on a shared machine pass a second cap as the
reference at millions of documents (e.g. --reference 2G), and compare with an uncapped run on
fewer documents.
"""
import argparse
import hashlib
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

# Runs argv[2:], writes its peak RSS (KiB) to argv[1], exits with its code.
MEASURE = (
    "import resource, subprocess, sys\n"
    "r = subprocess.run(sys.argv[2:])\n"
    "open(sys.argv[1], 'w').write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))\n"
    "sys.exit(r.returncode if r.returncode >= 0 else 128 - r.returncode)\n"
)


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def measure(cmd, out_path, work):
    """Runs cmd with stdout to out_path; returns (wall s, peak RSS MB, stderr)."""
    rss, err = os.path.join(work, ".rss"), os.path.join(work, ".stderr")
    t0 = time.time()
    with open(out_path, "wb") as out, open(err, "wb") as e:
        p = subprocess.run([sys.executable, "-c", MEASURE, rss] + cmd, stdout=out, stderr=e)
    wall = time.time() - t0
    with open(err, encoding="utf-8", errors="replace") as f:
        stderr = f.read()
    if p.returncode not in (0, 1):
        sys.exit(f"{' '.join(cmd)}: exit {p.returncode}\n{stderr[-3000:]}")
    with open(rss) as f:
        return wall, int(f.read()) / 1024, stderr


def corpus_path(work, n):
    path = os.path.join(work, f"soak-{n}.jsonl.zst")
    if not os.path.exists(path):
        print(f"synthesising {n} documents into {path}", file=sys.stderr)
        synth.write_zst(path, n, DEV)
    return path


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--docs", type=int, default=10_000_000)
    ap.add_argument("--memory", default="1G")
    ap.add_argument("--reference", default="1T", help="--memory of the reference run (1T: uncapped)")
    ap.add_argument("--no-dedup", action="store_true")
    ap.add_argument("--work", default=os.path.join(HERE, "data"))
    ap.add_argument("--keep", action="store_true", help="keep the outputs (the corpus is always kept)")
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    subprocess.run(["cargo", "build", "--release", "-q"], cwd=ROOT, check=True)
    deja = os.path.join(ROOT, "target", "release", "deja")
    src = corpus_path(a.work, a.docs)
    other = a.reference
    rows = []
    for what in ["corpus"] + ([] if a.no_dedup else ["dedup"]):
        digests = {}
        for memory in [a.memory, other]:
            out = os.path.join(a.work, f"out-{what}-{memory}")
            if what == "corpus":
                cmd = [deja, "corpus", src, "--format", "jsonl", "--memory", memory]
                wall, rss, err = measure(cmd, out, a.work)
                result = out
                with open(out) as f:
                    summary = json.loads(f.readline())
            else:
                result = out + ".jsonl.zst"
                cmd = [deja, "dedup", src, "-o", result, "--strip-repeated-paragraphs", "3",
                       "--memory", memory]
                wall, rss, err = measure(cmd, os.devnull, a.work)
            digests[memory] = sha256(result)
            spilled = next((l for l in err.splitlines() if "spilled" in l), "nothing spilled")
            rows.append((what, memory, summary["documents"], wall, rss, digests[memory][:12], spilled))
            print(f"{what} --memory {memory}: {wall:.1f} s, {rss:.0f} MB; {spilled}", file=sys.stderr)
            if not a.keep:
                os.remove(result)
        same = digests[a.memory] == digests[other]
        rows.append((what, "identical", same))
    load = os.getloadavg()
    print(f"{'command':<8}{'--memory':>10}{'docs':>11}{'wall s':>9}{'µs/doc':>8}{'peak RSS MB':>13}  sha256")
    for r in rows:
        if r[1] == "identical":
            print(f"{r[0]:<8}{'':>10}  output identical: {'yes' if r[2] else 'NO'}")
            continue
        what, memory, docs, wall, rss, digest, spilled = r
        print(f"{what:<8}{memory:>10}{docs:>11}{wall:>9.1f}{wall / docs * 1e6:>8.1f}{rss:>13.0f}  {digest}")
    for r in rows:
        if r[1] != "identical":
            print(f"  {r[0]} --memory {r[1]}: {r[6]}")
    print(f"({os.cpu_count()} cores; load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} at the end)")
    if not all(r[2] for r in rows if r[1] == "identical"):
        sys.exit(1)


if __name__ == "__main__":
    main()
