#!/usr/bin/env bash
# make fuzz: run each libFuzzer harness (build/fuzz/<name>) for FUZZ_SECONDS,
# one per core at a time (lab_parallel, as scripts/test.sh runs the tests), from
# the committed corpus (tests/fuzz/corpus/<name>); what a run discovers goes
# to build/fuzz/found-<name>, not to git, and a crash to build/fuzz/crash-*.
# Prints each harness's summary in order; exit 1 if any harness found something.
# Usage: scripts/fuzz.sh NAME...
set -uo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
export seconds=${FUZZ_SECONDS:-30} logs=build/fuzz/logs
mkdir -p "$logs"
# run_one NAME: one harness; its output in $logs/NAME.log, its exit code in $logs/NAME.rc.
run_one() {
    mkdir -p "build/fuzz/found-$1"
    build/fuzz/"$1" -max_total_time="$seconds" -timeout=5 -print_final_stats=1 \
        -artifact_prefix=build/fuzz/ "build/fuzz/found-$1" "tests/fuzz/corpus/$1" >"$logs/$1.log" 2>&1
    echo $? >"$logs/$1.rc"
}
export -f run_one
lab_parallel run_one "$@"
status=0
for f in "$@"; do
    echo "== $f: $seconds s (exit $(cat "$logs/$f.rc")) =="
    grep -E '^(#[0-9]+[[:space:]]+DONE|stat::number_of_executed_units|==[0-9]+==ERROR|SUMMARY)' "$logs/$f.log"
    [ "$(cat "$logs/$f.rc")" = 0 ] || status=1
done
[ "$status" = 0 ] || echo "make fuzz: a harness failed; its input is in build/fuzz/ (see build/fuzz/logs/)" >&2
exit "$status"
