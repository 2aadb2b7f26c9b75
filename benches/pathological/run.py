#!/usr/bin/env python3
"""Time and peak RSS of deja on pathological corpora (issue 15 §3), full size.

Not part of CI (tests/pathological.rs runs smaller versions with their bounds). Each case
generates its input once under --work (default /tmp/deja-pathological), then runs the
binary under `/usr/bin/time -v`, --repeat times, and prints the median wall time, the
largest peak RSS, the exit code and what came out.

    python3 benches/pathological/run.py                       # every case, target/release/deja
    python3 benches/pathological/run.py --only identical near --repeat 3
    python3 benches/pathological/run.py --deja OLD --only identical-5k identical-10k --timeout 60
"""
import argparse
import gzip
import json
import os
import random
import re
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def words(seed, n):
    rng = random.Random(seed)
    return ["w%d" % rng.randrange(5000) for _ in range(n)]


def write_jsonl(path, texts, ids=None):
    with open(path, "w") as f:
        for i, t in enumerate(texts):
            f.write(json.dumps({"id": i if ids is None else ids(i), "text": t}) + "\n")


def identical(n):
    def make(path):
        text = " ".join(words(1, 60))
        write_jsonl(path, (text for _ in range(n)))
    return make


def near(n, base=True):
    """Edited copies of a 60-word text, one word each (after the text itself if `base`)."""
    def make(path):
        w = words(2, 60)
        rng = random.Random(n)

        def gen():
            if base:
                yield " ".join(w)
            for i in range(n - base):
                c = list(w)
                c[rng.randrange(60)] = "edit%d" % i
                yield " ".join(c)
        write_jsonl(path, gen())
    return make


def one_word(n):
    def make(path):
        write_jsonl(path, ("word%d" % (i % 1000) for i in range(n)))
    return make


def empty_lines(n):
    def make(path):
        with open(path, "w") as f:
            f.write("\n" * n)
    return make


def big_record(mb):
    def make(path):
        unit = " ".join(words(4, 1000)) + " "
        text = unit * (mb * (1 << 20) // len(unit))
        small = " ".join(words(3, 80))
        write_jsonl(path, [small, text, small])
    return make


def bomb(gb):
    """One JSONL line of `gb` GB of `a` between two good records, as concatenated gzip
    members of 64 MB each (about 1,000 : 1)."""
    def make(path):
        chunk = gzip.compress(b"a" * (64 << 20), 9)
        good = json.dumps({"id": 0, "text": " ".join(words(5, 50))})
        with open(path, "wb") as f:
            f.write(gzip.compress((good + "\n" + '{"id": 1, "text": "').encode()))
            for _ in range(gb * 16):
                f.write(chunk)
            f.write(gzip.compress(('"}\n' + good.replace('"id": 0', '"id": 2') + "\n").encode()))
    return make


def nested(depth):
    def make(path):
        deep = "[" * depth + "]" * depth
        text = " ".join(words(6, 40))
        with open(path, "w") as f:
            f.write(json.dumps({"id": 0, "text": text}) + "\n")
            f.write('{"id": 1, "meta": %s, "text": "%s"}\n' % (deep, text))
            f.write('{"id": %s, "text": "%s"}\n' % (deep, text))
            f.write(json.dumps({"id": 3, "text": text}) + "\n")
    return make


def big_ids(n, mb):
    """`n` documents with ids of `mb` MB; documents 0, 1 and 2 are copies."""
    def make(path):
        texts = [" ".join(words(7 if i < 3 else 100 + i, 40)) for i in range(n)]
        write_jsonl(path, texts, ids=lambda i: ("%07d" % i) * (mb * (1 << 20) // 7))
    return make


# name: (file, generator, deja arguments)
CASES = {
    "identical-5k": ("identical-5k.jsonl", identical(5_000), ["corpus"]),
    "identical-10k": ("identical-10k.jsonl", identical(10_000), ["corpus"]),
    "identical-20k": ("identical-20k.jsonl", identical(20_000), ["corpus"]),
    "identical-100k": ("identical-100k.jsonl", identical(100_000), ["corpus"]),
    "identical-100k-dedup": ("identical-100k.jsonl", identical(100_000), ["dedup", "-o", "{work}/out.jsonl"]),
    "near-20k": ("near-20k.jsonl", near(20_000), ["corpus"]),
    "near-100k": ("near-100k.jsonl", near(100_000), ["corpus"]),
    "near-nobase-20k": ("near-nobase-20k.jsonl", near(20_000, base=False), ["corpus"]),
    "near-nobase-100k": ("near-nobase-100k.jsonl", near(100_000, base=False), ["corpus"]),
    "one-word-1m": ("one-word-1m.jsonl", one_word(1_000_000), ["corpus"]),
    "empty-lines-1m": ("empty-1m.jsonl", empty_lines(1_000_000), ["corpus"]),
    "empty-lines-1m-doc": ("empty-1m.txt", empty_lines(1_000_000), ["doc"]),
    "record-1g": ("record-1g.jsonl", big_record(1024), ["corpus"]),
    "record-200m": ("record-200m.jsonl", big_record(200), ["corpus"]),
    "bomb-10g": ("bomb-10g.jsonl.gz", bomb(10), ["corpus"]),
    "nested-1m": ("nested-1m.jsonl", nested(1_000_000), ["corpus"]),
    "ids-1mb": ("ids-1mb.jsonl", big_ids(1_000, 1), ["corpus"]),
}


def summarize(stdout):
    try:
        v = json.loads(stdout)
    except ValueError:
        return "(no JSON)"
    if isinstance(v.get("documents"), list):
        return "%d docs" % len(v["documents"])
    biggest = max((len(c["members"]) for c in v["clusters"]), default=0)
    return "%d docs, %d pairs, %d clusters (largest %d)" % (
        v["documents"], v["pair_count"], v["cluster_count"], biggest)


def measure(deja, args, timeout):
    t0 = time.monotonic()
    p = subprocess.run(["/usr/bin/time", "-v", "timeout", str(timeout), deja] + args,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    wall = time.monotonic() - t0
    err = p.stderr.decode(errors="replace")
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", err).group(1)) / 1024
    code = int(re.search(r"Exit status: (\d+)", err).group(1)) if "Exit status" in err else p.returncode
    first = next((l for l in err.splitlines() if l.startswith("deja:")), "")
    return wall, rss, code, p.stdout, first


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--deja", default=os.path.join(ROOT, "target/release/deja"))
    ap.add_argument("--work", default="/tmp/deja-pathological")
    ap.add_argument("--only", nargs="*", help="cases whose name starts with one of these")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--timeout", type=int, default=600, help="seconds per run (exit 124 past it)")
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    print("%-22s %8s %8s %10s %4s  %s" % ("case", "input MB", "wall s", "RSS MB", "exit", "result"))
    for name, (file, make, args) in CASES.items():
        if a.only and not any(name.startswith(o) for o in a.only):
            continue
        path = os.path.join(a.work, file)
        if not os.path.exists(path):
            make(path + ".tmp")
            os.rename(path + ".tmp", path)
        cmd = [x.format(work=a.work) for x in args] + [path, "--format", "json"]
        if args[0] == "dedup":
            cmd.remove("--format")
            cmd.remove("json")
        runs = [measure(a.deja, cmd, a.timeout) for _ in range(a.repeat)]
        wall = statistics.median(r[0] for r in runs)
        rss = max(r[1] for r in runs)
        _, _, code, out, first = runs[-1]
        result = summarize(out) if args[0] != "dedup" else "kept %d" % sum(1 for _ in open(os.path.join(a.work, "out.jsonl")))
        if first:
            result += "; " + first[:110]
        print("%-22s %8.1f %8.2f %10.0f %4d  %s" % (
            name, os.path.getsize(path) / 1e6, wall, rss, code, result), flush=True)


if __name__ == "__main__":
    sys.exit(main())
