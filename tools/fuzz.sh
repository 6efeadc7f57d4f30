#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan+UBSan) and runs each for
# SECONDS (default 20) seconds on its committed seeds and regression inputs
# (tests/fuzz/corpus/<target>/, tests/fuzz/regressions/<target>/). New inputs
# go to a scratch copy, so the committed files stay as they are. Any crash,
# leak, sanitizer report, broken invariant or input slower than 30 s fails
# the run; the input is kept as build-fuzz/<target>-crash-* (or -timeout-,
# -leak-, -oom-): copy it to tests/fuzz/regressions/<target>/ once fixed.
# Usage: tools/fuzz.sh [SECONDS] [TARGET...]   (FUZZ_BUILD: build folder)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-20}; shift || true
build=${FUZZ_BUILD:-build-fuzz}
command -v clang >/dev/null || { echo "fuzz.sh: clang is needed (apt-get install clang libclang-rt-14-dev)" >&2; exit 1; }
CC=clang cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPOLYACT_FUZZ=ON >/dev/null
cmake --build "$build" -j "$(nproc)" >/dev/null
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for f in tests/fuzz/fuzz_*.c; do targets+=("$(basename "$f" .c)"); done
fi
for t in "${targets[@]}"; do
  t=fuzz_${t#fuzz_}
  kind=${t#fuzz_}
  work=$(mktemp -d)
  cp -r tests/fuzz/corpus/"$kind"/. "$work"/ 2>/dev/null || true
  cp -r tests/fuzz/regressions/"$kind"/. "$work"/ 2>/dev/null || true
  echo "== $t: ${secs}s on $(ls "$work" | wc -l) seeds" >&2
  status=0
  # -close_fd_mask=1: what the CLI target prints goes nowhere; stderr stays
  # open, so a broken invariant's message reaches the log with the crash
  "$build"/tests/fuzz/"$t" -max_total_time="$secs" -timeout=30 -rss_limit_mb=2048 \
      -close_fd_mask=1 -print_final_stats=1 -artifact_prefix="$build/$t-" "$work" \
      >"$build/$t.log" 2>&1 || status=$?
  grep -E 'stat::number_of_executed_units|ERROR|SUMMARY|invariant' "$build/$t.log" >&2 || true
  rm -rf "$work"
  [ "$status" -eq 0 ] || { echo "fuzz.sh: $t failed (log $build/$t.log, input in $build/)" >&2; exit 1; }
done
