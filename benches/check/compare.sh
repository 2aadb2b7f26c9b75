#!/usr/bin/env bash
# Times `deja check` against jscpd on real documentation trees, and counts what each finds.
#
#   benches/check/compare.sh            # WORK=/tmp/deja-check-bench by default
#
# Trees (Debian packages, unpacked, never installed):
#   cmake: CMake 3.25's reStructuredText help (cmake-data: ~1,900 .rst files);
#   git:   Git 2.39's AsciiDoc sources (git-doc: ~290 .txt files, copied as .adoc).
# Tools: deja (release build of this checkout), jscpd 5.3.2 (npm, pinned), hyperfine (apt).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
WORK=${WORK:-/tmp/deja-check-bench}
RUNS=${RUNS:-10}
mkdir -p "$WORK"
cd "$WORK"

need_apt() { command -v "$1" >/dev/null || { apt-get update -qq && apt-get install -y -qq "$2" >/dev/null; }; }
need_apt hyperfine hyperfine
need_apt node nodejs
need_apt npm npm

if [ ! -d cmake ]; then
    apt-get download -qq cmake-data
    dpkg -x cmake-data_*.deb pkg-cmake
    cp -r pkg-cmake/usr/share/cmake-*/Help cmake
fi
if [ ! -d git ]; then
    apt-get download -qq git-doc
    dpkg -x git-doc_*.deb pkg-git
    (cd pkg-git/usr/share/doc/git-doc && find . -name '*.txt') | while read -r f; do
        mkdir -p "git/$(dirname "$f")"
        cp "pkg-git/usr/share/doc/git-doc/$f" "git/${f%.txt}.adoc"
    done
fi
if [ ! -x node_modules/.bin/jscpd ]; then
    npm i -E jscpd@5.3.2 --no-audit --no-fund --silent
fi
JSCPD="$WORK/node_modules/.bin/jscpd"

cargo build --release --quiet --manifest-path "$ROOT/Cargo.toml"
DEJA="$ROOT/target/release/deja"

# deja with the cross-file check only: the job jscpd does.
printf 'ignore = ["duplicate", "near_duplicate", "restatement"]\n' > cross-only.toml

for tree in cmake git; do
    files=$(find "$tree" -type f \( -name '*.rst' -o -name '*.adoc' -o -name '*.txt' -o -name '*.md' \) | wc -l)
    echo "== $tree: $files documents"
    case $tree in
        cmake) fmt=(--format markdown --formats-exts "markdown:rst,txt") ;;
        git) fmt=(--format asciidoc --formats-exts "asciidoc:adoc,txt") ;;
    esac
    (cd "$tree" && "$DEJA" check --format json -q --no-baseline > "$WORK/$tree.deja.json") || true
    (cd "$tree" && "$DEJA" check --config ../cross-only.toml --format json -q --no-baseline . > "$WORK/$tree.deja-cross.json") || true
    rm -rf "$WORK/$tree.jscpd" && (cd "$tree" && "$JSCPD" "${fmt[@]}" -r json -o "$WORK/$tree.jscpd" . > /dev/null) || true
    python3 - "$WORK" "$tree" <<'PY'
import collections, json, sys
work, tree = sys.argv[1], sys.argv[2]
for name in ("deja", "deja-cross"):
    v = json.load(open(f"{work}/{tree}.{name}.json"))
    kinds = collections.Counter(f["kind"] for f in v["findings"])
    print(f"  {name:10} {v['checked']} documents, {len(v['findings'])} findings: {dict(kinds)}")
j = json.load(open(f"{work}/{tree}.jscpd/jscpd-report.json"))
print(f"  jscpd      {len(j.get('duplicates', []))} clones")
PY
    hyperfine -N -i -w 2 -r "$RUNS" --export-markdown "$WORK/$tree.times.md" \
        -n "deja check" "$DEJA check --format json -q --no-baseline $tree" \
        -n "deja check (cross_file only)" "$DEJA check --config cross-only.toml --format json -q --no-baseline $tree" \
        -n "deja check --threads 1" "$DEJA check --threads 1 --format json -q --no-baseline $tree" \
        -n "jscpd" "$JSCPD ${fmt[*]} -r silent $tree" 2>&1 | grep -vE '^\s*$'
done
