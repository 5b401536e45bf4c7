#!/usr/bin/env bash
# make fuzz: run each libFuzzer harness (build/fuzz/<name>) for FUZZ_SECONDS,
# two at a time, from the committed corpus (tests/fuzz/corpus/<name>); what a
# run discovers goes to build/fuzz/found-<name>, not to git, and a crash to
# build/fuzz/crash-*. Prints each harness's summary in order; exit 1 if any
# harness found something.
# Usage: scripts/fuzz.sh NAME...
set -uo pipefail
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-30}
jobs=$(nproc 2>/dev/null || echo 2)
logs=build/fuzz/logs
mkdir -p "$logs"
for f in "$@"; do
    mkdir -p "build/fuzz/found-$f"
    while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n; done
    ( build/fuzz/"$f" -max_total_time="$seconds" -timeout=5 -print_final_stats=1 \
          -artifact_prefix=build/fuzz/ "build/fuzz/found-$f" "tests/fuzz/corpus/$f" >"$logs/$f.log" 2>&1
      echo $? >"$logs/$f.rc" ) &
done
wait
status=0
for f in "$@"; do
    echo "== $f: $seconds s (exit $(cat "$logs/$f.rc")) =="
    grep -E '^(#[0-9]+[[:space:]]+DONE|stat::number_of_executed_units|==[0-9]+==ERROR|SUMMARY)' "$logs/$f.log"
    [ "$(cat "$logs/$f.rc")" = 0 ] || status=1
done
[ "$status" = 0 ] || echo "make fuzz: a harness failed; its input is in build/fuzz/ (see build/fuzz/logs/)" >&2
exit "$status"
