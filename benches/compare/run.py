#!/usr/bin/env python3
"""deja vs datasketch vs rensa, end to end, on the same corpora, shingles and threshold.

  python3 benches/compare/run.py [--docs 10000] [--repeat 3] [--skip-datasketch]

One command: creates a venv (benches/compare/.venv) with datasketch and rensa, builds deja
(release), synthesises a larger corpus from the dev corpus (synth.py), computes the exact
truth of each corpus (exact.py: every pair with J >= 0.8, prefix-filtered all-pairs join),
runs `deja corpus --format jsonl` three ways and both peers (peers.py; 5-word \\w shingles, 128
permutations, threshold 0.8), and prints wall time, CPU time, peak RSS, pairs,
recall/precision against the exact truth, and the peers' time over deja's.

deja rows: `deja` is the default run (pairs, clusters AND repeated paragraphs across
documents, a job the peers do not do); `deja pairs` adds --no-paragraphs (pairs and clusters
only: the peers' job, the fair comparison); `deja minhash` is the pairs run with
--sketch minhash (128 permutations instead of the default one-permutation sketch).
Wall time, CPU time and peak RSS are of the whole process (wall from spawn to exit, CPU and
RSS from wait4, so no wrapper such as /usr/bin/time adds its own start-up, about a
millisecond, to a 30 ms run);
deja's are the median of --repeat runs, the peers' of one run.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
DEV = os.path.abspath(os.path.join(ROOT, "..", "shared", "eval", "corpus-dev", "corpus.jsonl"))


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


def venv_python(path):
    py = os.path.join(path, "bin", "python")
    if not os.path.exists(py):
        sh([sys.executable, "-m", "venv", path])
    ok = subprocess.run([py, "-c", "import datasketch, rensa"], capture_output=True).returncode == 0
    if not ok:
        sh([py, "-m", "pip", "install", "-q", "datasketch", "rensa"])
    return py


def timed(cmd, stdout=None):
    """Runs cmd: (wall seconds, peak RSS MB, CPU seconds), the last two from wait4."""
    with tempfile.TemporaryFile() as stderr:
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, stdout=stdout, stderr=stderr)
        _, status, usage = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
        if p.returncode not in (0, 1):
            stderr.seek(0)
            err = stderr.read().decode(errors="replace")
            sys.exit(f"failed ({p.returncode}): {' '.join(cmd)}\n{err[-2000:]}")
    return wall, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime


def load_pairs(path):
    pairs = set()
    for line in open(path):
        rec = json.loads(line)
        if "a" in rec and "b" in rec:
            a, b = str(rec["a"]), str(rec["b"])
            pairs.add((min(a, b), max(a, b)))
    return pairs


def score(got, truth):
    tp = len(got & truth)
    p = tp / len(got) if got else 1.0
    r = tp / len(truth) if truth else 1.0
    return p, r


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--docs", type=int, default=10000, help="documents of the synthesised corpus")
    ap.add_argument("--repeat", type=int, default=3, help="deja runs per corpus (median)")
    ap.add_argument("--venv", default=os.path.join(HERE, ".venv"))
    ap.add_argument("--work", default=os.path.join(HERE, "data"))
    ap.add_argument("--skip-datasketch", action="store_true")
    ap.add_argument("--threads", type=int, default=0, help="deja --threads (0: all cores)")
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    py = venv_python(a.venv)
    sh(["cargo", "build", "--release", "-q"], cwd=ROOT)
    deja = os.path.join(ROOT, "target", "release", "deja")
    big = os.path.join(a.work, f"synth-{a.docs}.jsonl")
    if not os.path.exists(big):
        with open(big + ".tmp", "w") as f:
            sh([sys.executable, os.path.join(HERE, "synth.py"), "--docs", str(a.docs), "--source", DEV], stdout=f)
        os.rename(big + ".tmp", big)
    corpora = [("dev", DEV), (f"synth-{a.docs}", big)]
    rows = []
    for name, path in corpora:
        mb = os.path.getsize(path) / 1e6
        ndocs = sum(1 for _ in open(path))
        truth_path = os.path.join(a.work, f"{name}.truth.jsonl")
        if not os.path.exists(truth_path):
            sh([py, os.path.join(HERE, "exact.py"), path, truth_path])
        truth = load_pairs(truth_path)
        for tool, extra in [("deja", []), ("deja pairs", ["--no-paragraphs"]),
                            ("deja minhash", ["--no-paragraphs", "--sketch", "minhash"])]:
            out = os.path.join(a.work, f"{name}.{tool.replace(' ', '-')}.jsonl")
            runs = []
            cmd = [deja, "corpus", path, "--threshold", "0.8", "--num-perm", "128", "--shingle-size", "5",
                   "--format", "jsonl", "-q"] + extra
            if a.threads:
                cmd += ["--threads", str(a.threads)]
            for _ in range(a.repeat):
                with open(out, "w") as f:
                    runs.append(timed(cmd, stdout=f))
            wall = statistics.median(r[0] for r in runs)
            rss = statistics.median(r[1] for r in runs)
            cpu = statistics.median(r[2] for r in runs)
            p, r = score(load_pairs(out), truth)
            rows.append((name, ndocs, mb, tool, wall, cpu, rss, len(load_pairs(out)), r, p, len(truth)))
        for peer in ["rensa", "datasketch"]:
            if peer == "datasketch" and a.skip_datasketch:
                continue
            pout = os.path.join(a.work, f"{name}.{peer}.jsonl")
            w, m, cpu = timed([py, os.path.join(HERE, "peers.py"), peer, path, pout])
            got = load_pairs(pout)
            p, r = score(got, truth)
            rows.append((name, ndocs, mb, peer, w, cpu, m, len(got), r, p, len(truth)))
    print()
    print(f"{'corpus':<14}{'docs':>7}{'MB':>7}  {'tool':<13}{'wall s':>8}{'CPU s':>7}{'RSS MB':>8}{'pairs':>8}"
          f"{'recall':>8}{'prec.':>8}  peer time / deja pairs (/ deja default)")
    for row in rows:
        name, nd, mb, tool, w, cpu, m, n, r, p, nt = row
        ratio = ""
        if not tool.startswith("deja"):
            pairs = next(x[4] for x in rows if x[0] == name and x[3] == "deja pairs")
            full = next(x[4] for x in rows if x[0] == name and x[3] == "deja")
            ratio = f"{w / pairs:.1f}x ({w / full:.1f}x)"
        print(f"{name:<14}{nd:>7}{mb:>7.1f}  {tool:<13}{w:>8.3f}{cpu:>7.2f}{m:>8.0f}{n:>8}{r:>8.4f}{p:>8.4f}  {ratio}")
    print(f"\n(truth = every pair with exact J >= 0.8; deja wall/RSS = median of {a.repeat} runs; "
          f"{os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
