#!/usr/bin/env python3
"""Synthesise a larger corpus from real text (stdlib only, deterministic).

  synth.py --docs 10000 [--source corpus.jsonl] [--seed 1] [--dup-rate 0.3] > big.jsonl

Each new "original" is a run of 1-3 real documents' paragraphs (shuffled sources, so texts are
real prose, man pages, licences); a share `--dup-rate` of the output are edited copies of an
earlier output document: word substitutions / deletions (0-15 % of words), a paragraph swap,
truncation or an added header/footer line, like the dev corpus. Ids are "s<N>".
"""
import argparse
import json
import os
import random
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_SOURCE = os.path.join(HERE, "..", "..", "..", "shared", "eval", "corpus-dev", "corpus.jsonl")


def mutate(rng, text, vocab):
    paras = [p for p in text.split("\n\n") if p.strip()]
    kind = rng.random()
    if kind < 0.2 and len(paras) > 2:
        i = rng.randrange(len(paras) - 1)
        paras[i], paras[i + 1] = paras[i + 1], paras[i]
    elif kind < 0.35 and len(paras) > 3:
        paras = paras[: max(1, int(len(paras) * rng.uniform(0.8, 0.95)))]
    elif kind < 0.5:
        paras.insert(0, rng.choice(["Archived copy.", "Mirror of the original page.", "Draft."]))
        paras.append(rng.choice(["Last updated 2021.", "All rights reserved.", "See also the index."]))
    out = []
    rate = rng.uniform(0.0, 0.15)
    for p in paras:
        words = p.split(" ")
        for j in range(len(words)):
            r = rng.random()
            if r < rate / 2:
                words[j] = rng.choice(vocab)
            elif r < rate * 0.75:
                words[j] = ""
        out.append(" ".join(w for w in words if w))
    return "\n\n".join(out)


def write_zst(path, docs, source=DEFAULT_SOURCE):
    """Writes `docs` documents as `synth.py --max-parts 3 --keep-share 0.5 --copy-window 5000`
    makes them (the benchmarks' large corpora) to `path`, zstd-compressed; the file appears
    only when complete."""
    import subprocess
    synth = subprocess.Popen(
        [sys.executable, os.path.abspath(__file__), "--docs", str(docs), "--source", source,
         "--max-parts", "3", "--keep-share", "0.5", "--copy-window", "5000"],
        stdout=subprocess.PIPE)
    with open(path + ".tmp", "wb") as f:
        subprocess.run(["zstd", "-q", "-1", "-T2", "-c"], stdin=synth.stdout, stdout=f, check=True)
    if synth.wait() != 0:
        sys.exit("synth.py failed")
    os.rename(path + ".tmp", path)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--docs", type=int, default=10000)
    ap.add_argument("--source", default=DEFAULT_SOURCE)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--dup-rate", type=float, default=0.3)
    ap.add_argument("--max-parts", type=int, default=3, help="real documents per original (1..N)")
    ap.add_argument("--keep-share", type=float, default=1.0,
                    help="share of the pooled paragraphs an original keeps (a random subset)")
    ap.add_argument("--copy-window", type=int, default=0,
                    help="copies are made only of the last N originals (0: of any earlier output, "
                         "copies of copies included); N > 0 keeps cluster sizes flat as the corpus grows")
    a = ap.parse_args()
    rng = random.Random(a.seed)
    texts = [json.loads(l)["text"] for l in open(a.source, encoding="utf-8")]
    vocab = sorted({w for t in texts[:500] for w in re.findall(r"\w+", t)})
    out = sys.stdout
    made = []  # a bounded pool of earlier outputs to copy from
    window = []  # with --copy-window: the last originals
    for i in range(a.docs):
        pool = window if a.copy_window else made
        if pool and rng.random() < a.dup_rate:
            text = mutate(rng, rng.choice(pool), vocab)
        else:
            parts = [rng.choice(texts) for _ in range(rng.randint(1, a.max_parts))]
            paras = [p for t in parts for p in t.split("\n\n") if p.strip()]
            # A random window and a rotation make each original a new text.
            start = rng.randrange(len(paras))
            paras = paras[start:] + paras[:start]
            if a.keep_share < 1.0 and len(paras) > 2:
                keep = max(2, int(len(paras) * a.keep_share))
                paras = rng.sample(paras, keep)
            elif len(paras) > 3 and rng.random() < 0.5:
                rng.shuffle(paras)
            text = "\n\n".join(paras)
            if a.copy_window:
                window.append(text)
                if len(window) > a.copy_window:
                    window.pop(0)
        if not a.copy_window and len(made) < 20000:
            made.append(text)
        elif not a.copy_window:
            made[rng.randrange(len(made))] = text
        out.write(json.dumps({"id": f"s{i}", "text": text}, ensure_ascii=False))
        out.write("\n")


if __name__ == "__main__":
    main()
