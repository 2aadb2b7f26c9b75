#!/usr/bin/env python3
"""Exact truth: EVERY pair with Jaccard >= t on the 5-word shingles of peers.py (stdlib only).

  exact.py CORPUS.jsonl TRUTH.jsonl [--threshold 0.8]

An exact all-pairs set-similarity join with prefix filtering: shingles are ordered by global
frequency (rarest first); two sets with J >= t must share a token within their first
|s| - ceil(t |s|) + 1 tokens, so only those prefixes are indexed; every candidate is then
verified exactly. No sampling, no estimate.
"""
import argparse
import json
import math
import sys
from collections import Counter, defaultdict

sys.path.insert(0, __import__("os").path.dirname(__file__))
from peers import shingles  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("corpus")
    ap.add_argument("out")
    ap.add_argument("--threshold", type=float, default=0.8)
    a = ap.parse_args()
    t = a.threshold
    ids, sets = [], []
    freq = Counter()
    for line in open(a.corpus, encoding="utf-8"):
        rec = json.loads(line)
        s = set(hash(x) for x in shingles(rec["text"]))
        if not s:
            continue
        ids.append(rec["id"])
        sets.append(s)
        freq.update(s)
    ordered = [sorted(s, key=lambda x: (freq[x], x)) for s in sets]
    index = defaultdict(list)
    pairs = []
    # Process by size so that length filtering applies: |small| >= t |large|.
    order = sorted(range(len(sets)), key=lambda i: len(sets[i]))
    for i in order:
        s = ordered[i]
        n = len(s)
        prefix = n - math.ceil(t * n) + 1
        seen = set()
        for x in s[:prefix]:
            for j in index[x]:
                if j in seen:
                    continue
                seen.add(j)
                if len(sets[j]) < t * n:
                    continue
                inter = len(sets[i] & sets[j])
                if inter / (n + len(sets[j]) - inter) >= t - 1e-12:
                    pairs.append((min(i, j), max(i, j)))
        for x in s[:prefix]:
            index[x].append(i)
    with open(a.out, "w") as f:
        for x, y in sorted(pairs):
            f.write(json.dumps({"a": ids[x], "b": ids[y]}) + "\n")
    print(f"exact: {len(pairs)} pairs with J >= {t} among {len(sets)} documents", file=sys.stderr)


if __name__ == "__main__":
    main()
