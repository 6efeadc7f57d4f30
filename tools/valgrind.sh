#!/usr/bin/env bash
# Runs a representative set of test programs (and every fuzz target's
# regression replay) of a release build under valgrind's memcheck: any
# invalid access, use of uninitialised memory or leak (definite, indirect or
# possible) fails. Complements the ASan+UBSan+LSan build, which runs them all.
# Bounded for CI: each program gets at most VALGRIND_TIMEOUT seconds (default
# 120; a timeout fails), and the set takes about 20 s of CPU (1 min wall on a
# busy 2-core machine).
# Usage: tools/valgrind.sh [BUILD_DIR] [TEST...]   (default build, the set below)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}; shift || true
command -v valgrind >/dev/null || { echo "valgrind.sh: valgrind is needed (apt-get install valgrind)" >&2; exit 1; }
tests=("$@")
[ ${#tests[@]} -gt 0 ] || tests=(test_func test_bsgs test_cheb test_sha256 test_plan test_calib_file
                                 test_safetensors test_cifar test_numeric_edges test_pann test_export
                                 test_lsq)
# the data the tests use, found as CMake does (tests/CMakeLists.txt)
if [ -z "${POLYACT_DATA:-}" ]; then
  if [ -d data/models ]; then POLYACT_DATA=$PWD/data; else POLYACT_DATA=$(cd .. && pwd)/shared; fi
fi
export POLYACT_DATA
export POLYACT_CLI=$PWD/$build/polyact POLYACT_SOURCE=$PWD
limit=${VALGRIND_TIMEOUT:-120}
vg=(timeout "$limit" valgrind --quiet --error-exitcode=99 --leak-check=full
    --errors-for-leak-kinds=definite,indirect,possible)
fail=0
run() {
  local name=$1; shift
  local start=$SECONDS rc=0
  "${vg[@]}" "$@" >"$build/valgrind-$name.log" 2>&1 || rc=$?
  if [ "$rc" -eq 0 ]; then
    echo "valgrind: $name clean ($((SECONDS - start)) s)"
  elif [ "$rc" -eq 124 ]; then
    echo "valgrind: $name took more than $limit s (see $build/valgrind-$name.log)" >&2
    fail=1
  else
    echo "valgrind: $name FAILED (see $build/valgrind-$name.log)" >&2
    fail=1
  fi
}
for t in "${tests[@]}"; do
  run "$t" "$build/tests/$t"
done
for f in tests/fuzz/fuzz_*.c; do
  k=$(basename "$f" .c); k=${k#fuzz_}
  run "fuzz_replay_$k" "$build/tests/fuzz_replay_$k" "tests/fuzz/corpus/$k" "tests/fuzz/regressions/$k"
done
echo "valgrind: $SECONDS s in all"
exit $fail
