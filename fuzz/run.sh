#!/usr/bin/env bash
# fuzz/run.sh N [TARGET...]: fuzz every target (or those named) for N minutes each, one after
# another, with AFL++ through cargo-afl; `N` may also be seconds, as `20s` (the CI smoke).
# Findings stay in fuzz/out/<target>/default/{crashes,hangs}; the script ends with a table of
# executions, paths (corpus entries), crashes and hangs per target, and fails if any target
# found a crash or a hang. A second run resumes where the first stopped.
set -euo pipefail
cd "$(dirname "$0")"
all=(jsonl stream segment config baseline sigfile doc)
dur=${1:?usage: fuzz/run.sh MINUTES|SECONDSs [TARGET...]}
shift
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all[@]}")
case $dur in
  *s) secs=${dur%s} ;;
  *) secs=$((dur * 60)) ;;
esac

command -v cargo-afl >/dev/null || { echo "fuzz/run.sh: cargo-afl is missing: cargo install cargo-afl --locked" >&2; exit 2; }
# cargo-afl needs its AFL++ runtime built once per toolchain; `config --build` fails when it
# is there already, so its status is not checked (`cargo afl build` names a missing runtime).
cargo afl config --build >/dev/null 2>&1 || true
cargo afl build --release --locked --quiet
# The seed writer is built with the targets (by cargo afl, so no second build).
target/release/seed out/seeds

export AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_AUTORESUME=1
export AFL_SKIP_CRASHES=1 AFL_NO_AFFINITY=1
failed=0
summary=()
for t in "${targets[@]}"; do
  echo "== $t: ${secs}s" >&2
  # -V: stop after that many seconds; -t: an input that takes over 2 s is a hang;
  # timeout: a guard should AFL itself not stop.
  timeout --kill-after=30 $((secs + 120)) \
    cargo afl fuzz -V "$secs" -t 2000 -i "out/seeds/$t" -o "out/$t" "target/release/$t" \
    > "out/$t.log" 2>&1 || { echo "fuzz/run.sh: afl-fuzz failed for $t (out/$t.log):" >&2; tail -20 "out/$t.log" >&2; failed=1; continue; }
  stats="out/$t/default/fuzzer_stats"
  get() { awk -F' *: *' -v k="$1" '$1 == k {print $2}' "$stats"; }
  execs=$(get execs_done) paths=$(get corpus_count) crashes=$(get saved_crashes) hangs=$(get saved_hangs)
  summary+=("$(printf '%-9s %12s %7s %8s %6s' "$t" "$execs" "$paths" "$crashes" "$hangs")")
  if [ "${crashes:-0}" != 0 ] || [ "${hangs:-0}" != 0 ]; then
    echo "fuzz/run.sh: $t found $crashes crashes, $hangs hangs: out/$t/default/{crashes,hangs}" >&2
    failed=1
  fi
done
printf '%-9s %12s %7s %8s %6s\n' target execs paths crashes hangs
printf '%s\n' "${summary[@]}"
exit $failed
