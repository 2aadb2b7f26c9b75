#!/usr/bin/env python3
"""Train deja's restatement model and measure it leave-one-site-out.

The model is a logistic regression over the features `deja doc --explain` prints for every
paragraph it judges. This script
  1. runs the deja binary once over a labelled set (default ../shared/eval/doc-real-dev) and
     takes every judged paragraph's features (`--explain --near-miss 0 --threshold 1`);
  2. labels each paragraph by the set's truth (the scorer's matching rule; paragraphs under
     `ignore` are left out of training);
  3. leave-one-site-out: for each site, fits on the other sites and predicts the held-out one;
     pools the predictions, scores them with the set's own scorer (score_doc.py) over a sweep
     of thresholds and picks the default threshold: the best F1 with precision >= 0.8;
  4. fits on the whole set and writes the weights (and that threshold) as Rust code to
     src/findings/weights.rs (--write).

Pure Python (no numpy): the fit is Newton's method in a fixed order of operations, so the
same features give bit-for-bit the same weights on any machine.

    python3 benches/restatement/train.py --deja target/release/deja            # report only
    python3 benches/restatement/train.py --deja target/release/deja --write    # and write weights
"""
import argparse
import importlib.util
import json
import math
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
WEIGHTS_RS = os.path.join(ROOT, "src", "findings", "weights.rs")
MIN_PRECISION = 0.8
# L2 penalty on the standardised weights (not the bias), per training paragraph.
L2 = 0.005
NEWTON_STEPS = 30


def load_scorer(set_dir):
    path = os.path.join(os.path.dirname(os.path.abspath(set_dir)), "score_doc.py")
    spec = importlib.util.spec_from_file_location("score_doc", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def site_of(truth):
    return str(truth.get("source", "")).split("@")[0]


def overlap(a0, a1, b0, b1):
    return max(0, min(a1, b1) - max(a0, b0))


def collect(deja, truths, extra):
    """Per document: deja's duplicate findings and every judged paragraph's features."""
    paths = [t["_path"] for t in truths]
    cmd = [deja, "doc", "--format", "json", "--explain", "--near-miss", "0", "--threshold", "1"]
    out = subprocess.run(cmd + extra + paths, check=True, capture_output=True).stdout
    docs = json.loads(out)["documents"]
    by_path = {d["id"]: d for d in docs}
    names = None
    per_doc = {}
    for t in truths:
        d = by_path[t["_path"]]
        copies, judged = [], []
        for f in d["findings"]:
            if f["kind"] == "restatement":
                judged.append(f)
            else:
                copies.append(f)
        judged += d.get("near_misses", [])
        samples = []
        for f in judged:
            ex = f["explain"]
            if names is None:
                names = [x["name"] for x in ex["features"]]
            samples.append({
                "start": f["start"], "end": f["end"], "paragraph": f["paragraph"],
                "x": [x["value"] for x in ex["features"]],
                "sources": [{"start": s["start"], "end": s["end"], "paragraph": s["paragraph"]}
                            for s in f["sources"]],
                "label": label(t, f["start"], f["end"]),
            })
        samples.sort(key=lambda s: s["start"])
        per_doc[t["document"]] = {"copies": copies, "samples": samples, "site": site_of(t)}
    return names, per_doc


def label(truth, start, end):
    """1 redundant, 0 not, None under `ignore` (the scorer's rules)."""
    plen = max(1, end - start)
    if any(overlap(start, end, g["start"], g["end"]) >= 0.5 * plen for g in truth.get("ignore", [])):
        return None
    for r in truth["redundant"]:
        if overlap(start, end, r["start"], r["end"]) >= 0.5 * max(1, r["end"] - r["start"]):
            return 1
    return 0


# ------------------------------------------------------------------ logistic regression
def standardise(rows):
    n, k = len(rows), len(rows[0])
    mean = [math.fsum(r[c] for r in rows) / n for c in range(k)]
    scale = []
    for c in range(k):
        var = math.fsum((r[c] - mean[c]) ** 2 for r in rows) / n
        scale.append(math.sqrt(var) if var > 1e-12 else 1.0)
    return mean, scale


def solve(a, b):
    """Solves a x = b for symmetric positive definite a (Cholesky)."""
    n = len(b)
    low = [[0.0] * n for _ in range(n)]
    for i in range(n):
        for j in range(i + 1):
            s = a[i][j] - math.fsum(low[i][m] * low[j][m] for m in range(j))
            low[i][j] = math.sqrt(max(s, 1e-300)) if i == j else s / low[j][j]
    y = [0.0] * n
    for i in range(n):
        y[i] = (b[i] - math.fsum(low[i][m] * y[m] for m in range(i))) / low[i][i]
    x = [0.0] * n
    for i in reversed(range(n)):
        x[i] = (y[i] - math.fsum(low[m][i] * x[m] for m in range(i + 1, n))) / low[i][i]
    return x


def sigmoid(z):
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def fit(rows, labels, l2=L2):
    """L2-penalised logistic regression by Newton's method; returns mean, scale, weights, bias."""
    mean, scale = standardise(rows)
    z = [[1.0] + [(r[c] - mean[c]) / scale[c] for c in range(len(r))] for r in rows]
    k = len(z[0])
    n = len(z)
    w = [0.0] * k
    penalty = [0.0] + [l2 * n] * (k - 1)
    for _ in range(NEWTON_STEPS):
        grad = [-penalty[c] * w[c] for c in range(k)]
        hess = [[0.0] * k for _ in range(k)]
        for row, y in zip(z, labels):
            p = sigmoid(sum(wc * xc for wc, xc in zip(w, row)))
            g = y - p
            h = max(p * (1.0 - p), 1e-12)
            for a in range(k):
                grad[a] += g * row[a]
                ha = h * row[a]
                ra = hess[a]
                for b in range(a + 1):
                    ra[b] += ha * row[b]
        for a in range(k):
            hess[a][a] += penalty[a]
            for b in range(a):
                hess[b][a] = hess[a][b]
        step = solve(hess, grad)
        w = [wc + sc for wc, sc in zip(w, step)]
        if max(abs(s) for s in step) < 1e-10:
            break
    return mean, scale, w[1:], w[0]


def predict(model, x):
    mean, scale, weight, bias = model
    return sigmoid(bias + sum(weight[c] * (x[c] - mean[c]) / scale[c] for c in range(len(x))))


def training_rows(per_doc, docs):
    rows, labels = [], []
    for d in docs:
        for s in per_doc[d]["samples"]:
            if s["label"] is not None:
                rows.append(s["x"])
                labels.append(s["label"])
    return rows, labels


# ------------------------------------------------------------------ evaluation
def predictions(per_doc, probs, threshold):
    out = {}
    for doc, d in per_doc.items():
        found = list(d["copies"])
        for s, p in zip(d["samples"], probs[doc]):
            if p >= threshold and s["sources"]:
                found.append({"kind": "restatement", "start": s["start"], "end": s["end"],
                              "paragraph": s["paragraph"], "sources": s["sources"], "score": p})
        out[doc] = found
    return out


def sweep(scorer, truths, per_doc, probs):
    """Scores at thresholds 0.025..0.975; returns (rows, best threshold by F1 with P >= 0.8)."""
    rows = []
    for i in range(1, 40):
        t = i / 40
        r = scorer.score(truths, predictions(per_doc, probs, t))
        rows.append((t, r))
    ok = [(r["f1"], t) for t, r in rows if r["precision"] >= MIN_PRECISION]
    best = max(ok)[1] if ok else max((r["f1"], t) for t, r in rows)[1]
    return rows, best


def write_weights(names, model, threshold, set_dir, summary):
    mean, scale, weight, bias = model
    fmt = lambda xs: ",\n".join("    %r" % float(x) for x in xs)
    text = (
        "//! Generated by `benches/restatement/train.py` from `%s`: do not edit.\n"
        "//! %s\n\n"
        "/// Feature names, in order (checked against the binary's in a test).\n"
        "#[cfg(test)]\n"
        "pub(super) const FEATURES: [&str; %d] = [\n%s,\n];\n"
        "/// Training mean of each feature.\n"
        "pub(super) const MEAN: [f64; %d] = [\n%s,\n];\n"
        "/// Training standard deviation of each feature.\n"
        "pub(super) const SCALE: [f64; %d] = [\n%s,\n];\n"
        "/// Weight of each standardised feature.\n"
        "pub(super) const WEIGHT: [f64; %d] = [\n%s,\n];\n"
        "/// Log-odds at the mean.\n"
        "pub(super) const BIAS: f64 = %r;\n"
        "/// Best leave-one-site-out F1 with precision >= %s.\n"
        "pub(super) const THRESHOLD: f64 = %r;\n"
    ) % (os.path.basename(os.path.normpath(set_dir)), summary,
         len(names), ",\n".join('    "%s"' % n for n in names),
         len(names), fmt(mean), len(names), fmt(scale), len(names), fmt(weight),
         float(bias), MIN_PRECISION, float(threshold))
    tmp = WEIGHTS_RS + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, WEIGHTS_RS)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--deja", default=os.path.join(ROOT, "target", "release", "deja"))
    ap.add_argument("--set", default=os.path.join(ROOT, "..", "shared", "eval", "doc-real-dev"))
    ap.add_argument("--write", action="store_true", help="write src/findings/weights.rs")
    ap.add_argument("--drop", action="append", default=[], help="leave a feature out (ablation)")
    ap.add_argument("--json", help="write the leave-one-site-out predictions and scores here")
    args = ap.parse_args()

    scorer = load_scorer(args.set)
    truths = scorer.load_truths(args.set)
    names, per_doc = collect(args.deja, truths, [])
    keep = [c for c, n in enumerate(names) if n not in args.drop]
    for d in per_doc.values():
        for s in d["samples"]:
            s["x"] = [s["x"][c] for c in keep]
    names = [names[c] for c in keep]
    sites = sorted({d["site"] for d in per_doc.values()})
    n_pos = sum(s["label"] == 1 for d in per_doc.values() for s in d["samples"])
    n_all = sum(s["label"] is not None for d in per_doc.values() for s in d["samples"])
    print("judged paragraphs: %d (%d redundant), sites: %d" % (n_all, n_pos, len(sites)))

    # Leave one site out.
    probs = {}
    for site in sites:
        train = [doc for doc, d in per_doc.items() if d["site"] != site]
        model = fit(*training_rows(per_doc, train))
        for doc, d in per_doc.items():
            if d["site"] == site:
                probs[doc] = [predict(model, s["x"]) for s in d["samples"]]
    rows, threshold = sweep(scorer, truths, per_doc, probs)
    print("leave-one-site-out, pooled:")
    for t, r in rows:
        print("  threshold %.2f  P %.3f  R %.3f  F1 %.3f%s" % (
            t, r["precision"], r["recall"], r["f1"], "   <- default" if t == threshold else ""))
    loso = scorer.score(truths, predictions(per_doc, probs, threshold))
    print("per site at %.2f:" % threshold)
    for site, v in loso["per_site"].items():
        print("  %-34s docs %2d  P %.3f  R %.3f  F1 %.3f" % (site, v["documents"], v["precision"], v["recall"], v["f1"]))
    print("negative documents with findings: %d of %d (%d findings); source accuracy %s" % (
        loso["negative_control_documents_with_fp"], loso["negative_control_documents"],
        loso["negative_control_false_positives"], loso["source_accuracy"]))

    # The shipped model: fitted on every site.
    model = fit(*training_rows(per_doc, list(per_doc)))
    full = {doc: [predict(model, s["x"]) for s in d["samples"]] for doc, d in per_doc.items()}
    fr = scorer.score(truths, predictions(per_doc, full, threshold))
    print("trained on all sites, at %.2f: P %.3f  R %.3f  F1 %.3f" % (threshold, fr["precision"], fr["recall"], fr["f1"]))
    print("weights (standardised):")
    for n, w in sorted(zip(names, model[2]), key=lambda x: -abs(x[1])):
        print("  %-26s %+.3f" % (n, w))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"threshold": threshold, "loso": {k: v for k, v in loso.items() if k != "per_document"},
                       "probabilities": probs}, f, indent=1)
    if args.write:
        if args.drop:
            sys.exit("--write with --drop would not match the binary's features")
        summary = "Leave-one-site-out at the threshold: P %.3f, R %.3f, F1 %.3f; trained on all: F1 %.3f." % (
            loso["precision"], loso["recall"], loso["f1"], fr["f1"])
        write_weights(names, model, threshold, args.set, summary)
        print("wrote", os.path.relpath(WEIGHTS_RS))


if __name__ == "__main__":
    main()
