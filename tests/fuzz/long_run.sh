#!/usr/bin/env bash
# One long fuzzing run of one target (the campaign behind tests/fuzz/RUNS.md):
# niced, on a scratch corpus kept between runs in $FUZZ_WORK/<target> (seeded
# from the committed corpus and regressions on first use), with the same
# limits as tools/fuzz.sh. Appends "target executions exit-status date
# seconds" to $FUZZ_WORK/runs.tsv; the log is $FUZZ_WORK/<target>.<date>.log
# and any finding goes to $FUZZ_WORK/art/. Build first with tools/fuzz.sh 1
# (0 would mean "no time limit" to libFuzzer).
# Usage: tests/fuzz/long_run.sh TARGET SECONDS [extra libFuzzer flags]
set -uo pipefail
cd "$(dirname "$0")/../.."
kind=${1#fuzz_}; secs=$2; shift 2
build=${FUZZ_BUILD:-build-fuzz}
work=${FUZZ_WORK:-/tmp/fuzzwork}
mkdir -p "$work/$kind" "$work/art"
if [ -z "$(ls -A "$work/$kind")" ]; then
  cp tests/fuzz/corpus/"$kind"/* tests/fuzz/regressions/"$kind"/* "$work/$kind"/ 2>/dev/null
fi
stamp=$(date -u +%Y%m%dT%H%M%S)
log=$work/$kind.$stamp.log
start=$SECONDS
# -close_fd_mask=1: the CLI target's prints go nowhere, an invariant's
# message (stderr) stays in the log
nice -n 19 "$build/tests/fuzz/fuzz_$kind" -max_total_time="$secs" -timeout=30 \
    -rss_limit_mb=2048 -close_fd_mask=1 -print_final_stats=1 \
    -artifact_prefix="$work/art/$kind-" "$@" "$work/$kind" >"$log" 2>&1
rc=$?
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
printf '%s\t%s\t%s\t%s\t%s\n' "$kind" "${execs:-?}" "$rc" "$(date -u '+%F %T')" \
    "$((SECONDS - start))" >>"$work/runs.tsv"
echo "$kind: ${execs:-?} executions, exit $rc ($log)"
exit $rc
