#!/usr/bin/env python3
"""Near-duplicate pairs with a Python peer, on the same shingles as deja corpus.

  peers.py {datasketch|rensa} CORPUS.jsonl OUT_PAIRS.jsonl [--threshold 0.8] [--num-perm 128]

Shingles: text lowercased, words = runs of \\w (Python's re), the set of 5-word windows (fewer
than 5 words: one shingle of all). Each document is sketched with 128 permutations, inserted
into the peer's own MinHash LSH, queried, and every candidate is verified by the peer's
estimated Jaccard >= threshold (the usual way these libraries are used).
datasketch: MinHash.update_batch + MinHashLSH(threshold) (its balanced banding, 9 x 13 at 0.8).
rensa: RMinHash.update + RMinHashLSH(threshold, num_perm, num_bands=16) (8 rows: P(0.8) = 0.947).
"""
import argparse
import json
import re

WORD = re.compile(r"\w+")


def shingles(text, k=5):
    w = WORD.findall(text.lower())
    if not w:
        return []
    if len(w) < k:
        return [" ".join(w)]
    return list({" ".join(w[i : i + k]) for i in range(len(w) - k + 1)})


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("peer", choices=["datasketch", "rensa"])
    ap.add_argument("corpus")
    ap.add_argument("out")
    ap.add_argument("--threshold", type=float, default=0.8)
    ap.add_argument("--num-perm", type=int, default=128)
    a = ap.parse_args()
    ids, sketches = [], []
    if a.peer == "datasketch":
        from datasketch import MinHash, MinHashLSH

        lsh = MinHashLSH(threshold=a.threshold, num_perm=a.num_perm)
        for n, line in enumerate(open(a.corpus, encoding="utf-8")):
            rec = json.loads(line)
            m = MinHash(num_perm=a.num_perm, seed=1)
            sh = shingles(rec["text"])
            if not sh:
                continue
            m.update_batch([s.encode("utf-8") for s in sh])
            lsh.insert(n, m)
            ids.append(rec["id"])
            sketches.append((n, m))
        index = {n: i for i, (n, _) in enumerate(sketches)}
        get = dict(sketches)
        pairs = set()
        for n, m in sketches:
            for c in lsh.query(m):
                if c > n and m.jaccard(get[c]) >= a.threshold:
                    pairs.add((index[n], index[c]))
    else:
        from rensa import RMinHash, RMinHashLSH

        lsh = RMinHashLSH(threshold=a.threshold, num_perm=a.num_perm, num_bands=16)
        for n, line in enumerate(open(a.corpus, encoding="utf-8")):
            rec = json.loads(line)
            sh = shingles(rec["text"])
            if not sh:
                continue
            m = RMinHash(num_perm=a.num_perm, seed=42)
            m.update(sh)
            k = len(sketches)
            lsh.insert(k, m)
            ids.append(rec["id"])
            sketches.append(m)
        pairs = set()
        for k, m in enumerate(sketches):
            for c in lsh.query(m):
                if c > k and m.jaccard(sketches[c]) >= a.threshold:
                    pairs.add((k, c))
    with open(a.out, "w") as f:
        for x, y in sorted(pairs):
            f.write(json.dumps({"a": ids[x], "b": ids[y]}) + "\n")


if __name__ == "__main__":
    main()
