#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan+UBSan) and runs each on its
# committed seed corpus for SECONDS (default 20) seconds. New inputs go to a
# scratch copy of the corpus, so the committed seeds stay as they are.
# Usage: tools/fuzz.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-20}; shift || true
command -v clang >/dev/null || { echo "fuzz.sh: clang is needed (apt-get install clang)" >&2; exit 1; }
CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPOLYACT_FUZZ=ON >/dev/null
cmake --build build-fuzz -j "$(nproc)" >/dev/null
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for f in tests/fuzz/fuzz_*.c; do targets+=("$(basename "$f" .c)"); done
fi
for t in "${targets[@]}"; do
  corpus=tests/fuzz/corpus/${t#fuzz_}
  work=$(mktemp -d)
  cp -r "$corpus"/. "$work"/ 2>/dev/null || true
  echo "== $t: ${secs}s on $(ls "$work" | wc -l) seeds" >&2
  status=0
  ./build-fuzz/tests/fuzz/"$t" -max_total_time="$secs" -print_final_stats=1 \
      -artifact_prefix=build-fuzz/"$t"- "$work" >build-fuzz/"$t".log 2>&1 || status=$?
  grep -E 'stat::number_of_executed_units|ERROR|SUMMARY' build-fuzz/"$t".log >&2 || true
  rm -rf "$work"
  [ "$status" -eq 0 ] || { echo "fuzz.sh: $t failed (artifact in build-fuzz/)" >&2; exit 1; }
done
