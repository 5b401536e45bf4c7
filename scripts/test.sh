#!/usr/bin/env bash
# Build and run every test. Called by `make test`.
#
#   SAN=address (make test's default)  the Make build (g++, or $CXX) under
#                AddressSanitizer + UBSan runs the whole suite, then CMake
#                builds everything again with clang++ (both compilers, -Werror)
#                and CTest runs its unit tests;
#   SAN=none     the same without a sanitizer;
#   SAN=thread   ThreadSanitizer on the unit and end-to-end tests of every
#                example (ex1-ex6, the hostile and classroom peers), and
#                nothing else: not the capture, network-lab, sample-capture
#                and wine tests, which run the same server code.
set -euo pipefail
cd "$(dirname "$0")/.."
SAN=${SAN:-address}
[ "$SAN" = none ] && SAN=
jobs=$(nproc 2>/dev/null || echo 2)

# The test programs to run, slowest first (two run at a time, so the long
# ones should not be left for the end), then the rest in the Makefile's order.
slow="e2e_hostile redes_tests e2e_ex5 capture_tests e2e_classroom exercise_answers capture_ex5 e2e_ex4"
if [ "$SAN" = thread ]; then
    names="e2e_hostile e2e_ex5 e2e_classroom e2e_ex4 e2e_ex6 e2e_ex3 e2e_ex2 e2e_ex1"
    names+=" unit_ex5 unit_tests unit_classroom unit_token unit_request unit_modbus"
else
    names="$slow $(make -s --no-print-directory SAN="${SAN:-none}" print-tests)"
fi
tests=()
for name in $names; do
    case " ${tests[*]} " in *" build/make/tests/$name "*) continue ;; esac
    tests+=("build/make/tests/$name")
done

echo "== Make build (${CXX:-g++}${SAN:+, SAN=$SAN}) =="
make -j"$jobs" --no-print-directory -s SAN="${SAN:-none}" all "${tests[@]}"

# Two at a time (most of a test's time is spent waiting on sockets), each
# with a time limit; a test's output is shown whole when it ends. Exit code
# 77 means skipped (the program said why). A failed test leaves its name in
# $logs/failed, and the end of the run repeats what failed, so that the last
# lines of a long log (all a CI page may show) say which test and which check.
logs=$(mktemp -d)
cmake_pid=
trap '[ -n "$cmake_pid" ] && { kill -- "-$cmake_pid" || kill "$cmake_pid"; } 2>/dev/null; rm -rf "$logs"' EXIT

# Meanwhile CMake builds everything again with clang++ when it is there (the
# Make build above used g++, so both compilers build everything with -Werror),
# at low priority: the suite spends most of its time waiting on sockets.
cc=clang++
command -v "$cc" >/dev/null 2>&1 || { echo "(clang++ not installed: CMake build with g++)"; cc=g++; }
dir="build/cmake-$cc"
if [ "$SAN" != thread ]; then
    # In its own process group where setsid exists (Linux), so that an early
    # exit stops the whole build.
    group=()
    command -v setsid >/dev/null 2>&1 && group=(setsid)
    ${group[@]+"${group[@]}"} bash -c 'cmake -S . -B "$1" -DCMAKE_CXX_COMPILER="$2" && nice -n 19 cmake --build "$1" -j "$3"' \
        _ "$dir" "$cc" "$jobs" >"$logs/cmake.log" 2>&1 </dev/null &
    cmake_pid=$!
fi
run_one() {
    local t=$1 log=$2/${1##*/}.log rc=0 start=$SECONDS
    # timeout(1) is GNU coreutils: on macOS `brew install coreutils` gives gtimeout.
    local limit=()
    if command -v timeout >/dev/null 2>&1; then limit=(timeout "${LAB_TEST_TIMEOUT:-600}")
    elif command -v gtimeout >/dev/null 2>&1; then limit=(gtimeout "${LAB_TEST_TIMEOUT:-600}"); fi
    ${limit[@]+"${limit[@]}"} "$t" --no-intro=true >"$log" 2>&1 || rc=$?
    { echo "-- $t (exit $rc, $((SECONDS - start)) s)"; cat "$log"; }
    case "$rc" in
        0) echo "${t##*/}" >>"$2/passed" ;;
        77) echo "${t##*/}" >>"$2/skipped" ;;
        *) echo "${t##*/} (exit $rc)" >>"$2/failed" ;;
    esac
}
export -f run_one
printf '%s\n' "${tests[@]}" | xargs -P "$jobs" -I{} bash -c 'run_one "$1" "$2"' _ {} "$logs"
if [ -s "$logs/failed" ]; then
    echo "== what failed =="
    while read -r name _; do  # each failed check (doctest's ERROR lines), at most 8 per test
        grep -E 'ERROR|error:|Sanitizer|timed out|Timeout' "$logs/$name.log" | head -8 | sed "s|^|$name: |"
    done <"$logs/failed"
    echo "== FAILED (${CXX:-g++}${SAN:+, SAN=$SAN}): $(tr '\n' ' ' <"$logs/failed")=="
    exit 1
fi

count() { [ -f "$logs/$1" ] && wc -l <"$logs/$1" || echo 0; }
echo "== ${#tests[@]} test programs (${CXX:-g++}${SAN:+, SAN=$SAN}): $(count passed) passed, $(count skipped) skipped$(
    [ -f "$logs/skipped" ] && echo " ($(tr '\n' ' ' <"$logs/skipped" | sed 's/ $//'): see their output above)") =="

# ThreadSanitizer's run ends here.
[ "$SAN" = thread ] && exit 0

# The clang build, and its unit tests (the end-to-end ones ran above, against
# the same sources; `ctest --test-dir build/cmake-clang++` runs them all).
echo "== CMake build + CTest ($cc) =="
if ! wait "$cmake_pid"; then
    cmake_pid=
    tail -40 "$logs/cmake.log"
    echo "== FAILED: the CMake build with $cc (above) =="
    exit 1
fi
cmake_pid=
ctest --test-dir "$dir" --output-on-failure -j "$jobs" -L unit
