#!/usr/bin/env bash
# Build and run the tests of tests/tests.txt. Called by `make test` (which
# first installs what they need: scripts/deps.sh --tests).
#
#   SAN=address (make test's default)  the Make build (g++, or $CXX) under
#                AddressSanitizer + UBSan runs every test, then CMake builds
#                everything again with clang++ (both compilers, -Werror) and
#                CTest runs that build's unit and e2e tests. A sanitizer build
#                goes into build/make/san-<SAN>/, programs and tests (the
#                Makefile's BUILD); the programs next to the sources are the
#                plain build, built here too, so that after make test they
#                are still what a student runs;
#   SAN=none     the same without a sanitizer;
#   SAN=thread   ThreadSanitizer on the doctest programs (the unit and
#                end-to-end tests of every example), and nothing else: not
#                the capture, network-lab, sample-capture and wine tests,
#                which run the same server code.
#   ONLY="e2e_ex1 unit"   only the tests with these names or labels.
#   LAB_ALLOW_SKIPS=0     a skipped test fails the run (CI: .ci/run).
#
# A test that cannot run here is skipped, never passed: a program exits 77
# and a doctest case calls lab::skip(); both print "SKIPPED: <why>", and the
# last lines of the run name each skipped test and case with its reason.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
SAN=${SAN:-address}
[ "$SAN" = none ] && SAN=
jobs=$(lab_cores)
list=tests/tests.txt
# The test programs of this build: build/make/tests, or build/make/san-<SAN>/tests.
testbin=$(make -s --no-print-directory SAN="${SAN:-none}" print-testbin)

# The tests to run, in the list's order (slowest first): name, kind, labels.
# cmake_tests: those CTest runs on the clang build (labels unit or e2e).
tests=() cmake_tests=()
while read -r name kind labels _; do
    case "$name" in '' | '#'*) continue ;; esac
    [ "$SAN" = thread ] && [ "$kind" != doctest ] && continue
    if [ -n "${ONLY:-}" ]; then
        wanted=0
        for word in $ONLY; do
            case ",$name,$labels," in *",$word,"*) wanted=1 ;; esac
        done
        [ "$wanted" = 1 ] || continue
    fi
    tests+=("$testbin/$name")
    case ",$labels," in *,unit,* | *,e2e,*) cmake_tests+=("$name") ;; esac
done <"$list"
[ ${#tests[@]} -gt 0 ] || { echo "no test in $list matches ONLY='${ONLY:-}'" >&2; exit 2; }

echo "== Make build (${CXX:-g++}${SAN:+, SAN=$SAN}) =="
make -j"$jobs" --no-print-directory -s SAN="${SAN:-none}" all "${tests[@]}"
# The programs a student runs (ex1_chat/server, ...) without a sanitizer: up
# to date, not left behind an older source. (Nothing to do with SAN=none.)
[ -n "$SAN" ] && make -j"$jobs" --no-print-directory -s all

# The Windows programs, for e2e_windows (under wine): built when MinGW-w64 and
# wine are there (scripts/windows.sh does nothing when they are up to date);
# without them, e2e_windows is skipped and says why.
case " ${tests[*]} " in *" $testbin/e2e_windows "*)
    if command -v "${MINGW_CXX:-x86_64-w64-mingw32-g++-posix}" >/dev/null 2>&1 && [ -x /usr/lib/wine/wine64 ]; then
        echo "== Windows build (MinGW-w64, for e2e_windows) =="
        scripts/windows.sh
    fi ;;
esac

# Two at a time (most of a test's time is spent waiting on sockets), each
# with a time limit; a test's output is shown whole when it ends. Exit code
# 77 means skipped (the program said why). A failed test leaves its name in
# $logs/failed, and the end of the run repeats what failed, so that the last
# lines of a long log (all a CI page may show) say which test and which check.
logs=$(mktemp -d)
work=$logs  # removed on exit
cmake_pid=
stop_cmake() { [ -n "$cmake_pid" ] && { kill -- "-$cmake_pid" || kill "$cmake_pid"; } 2>/dev/null; return 0; }
lab_on_exit stop_cmake

# Meanwhile CMake builds everything again with clang++ when it is there (the
# Make build above used g++, so both compilers build everything with -Werror),
# at low priority: the suite spends most of its time waiting on sockets.
cc=clang++
command -v "$cc" >/dev/null 2>&1 || { echo "(clang++ not installed: CMake build with g++)"; cc=g++; }
dir="build/cmake-$cc"
if [ "$SAN" != thread ] && [ ${#cmake_tests[@]} -gt 0 ]; then
    targets=(lab_programs "${cmake_tests[@]}")
    [ -z "${ONLY:-}" ] && targets=(all)  # the whole suite: everything, own-main tests too
    # In its own process group where setsid exists (Linux), so that an early
    # exit stops the whole build.
    group=()
    command -v setsid >/dev/null 2>&1 && group=(setsid)
    ${group[@]+"${group[@]}"} bash -c 'd=$1 c=$2 j=$3; shift 3
        cmake -S . -B "$d" -DCMAKE_CXX_COMPILER="$c" && nice -n 19 cmake --build "$d" -j "$j" --target "$@"' \
        _ "$dir" "$cc" "$jobs" "${targets[@]}" >"$logs/cmake.log" 2>&1 </dev/null &
    cmake_pid=$!
fi
export logs
run_one() {
    local t=$1 log=$logs/${1##*/}.log rc=0 start=$SECONDS
    # On timeout the test goes with every program it started; Ctrl+C too.
    lab_timeout_tree "${LAB_TEST_TIMEOUT:-600}" "$t" --no-intro=true >"$log" 2>&1 || rc=$?
    { echo "-- $t (exit $rc, $((SECONDS - start)) s)"; cat "$log"; }
    case "$rc" in
        0) echo "${t##*/}" >>"$logs/passed" ;;
        77) echo "${t##*/}" >>"$logs/skipped" ;;
        *) echo "${t##*/} (exit $rc)" >>"$logs/failed" ;;
    esac
}
export -f run_one lab_timeout_tree lab_timeout_command
lab_parallel run_one "${tests[@]}"
if [ -s "$logs/failed" ]; then
    echo "== what failed =="
    while read -r name _; do  # each failed check (doctest's ERROR lines), at most 8 per test
        grep -E 'ERROR|error:|Sanitizer|timed out|Timeout' "$logs/$name.log" | head -8 | sed "s|^|$name: |"
    done <"$logs/failed"
    echo "== FAILED (${CXX:-g++}${SAN:+, SAN=$SAN}): $(tr '\n' ' ' <"$logs/failed")=="
    exit 1
fi

# The skips, for the summary: "<test>: <why>" for a program that exited 77,
# "<test>: <case>: <why>" for a doctest case (lab::skip).
count() { [ -f "$logs/$1" ] && wc -l <"$logs/$1" | tr -d ' ' || echo 0; }
for t in "${tests[@]}"; do
    sed -n "s|^SKIPPED: |${t##*/}: |p" "$logs/${t##*/}.log"
done >"$logs/skips"
made="${#tests[@]} test programs (${CXX:-g++}${SAN:+, SAN=$SAN}): $(count passed) passed, $(count skipped) skipped"

# summary: the last lines of the run, naming every skip with its reason.
summary() {
    echo "== summary =="
    echo "Make build: $made"
    [ -n "${1:-}" ] && echo "CMake build: $1"
    if [ -s "$logs/skips" ]; then
        echo "skipped (a test program, or a case or part of one), each with its reason:"
        sed 's/^/  /' "$logs/skips"
        echo "== $(wc -l <"$logs/skips" | tr -d ' ') skipped (above) =="
        # CI (.ci/run) runs as root with everything installed: a skip there is a bug.
        [ "${LAB_ALLOW_SKIPS:-1}" = 0 ] && { echo "== FAILED: LAB_ALLOW_SKIPS=0, and tests were skipped =="; exit 1; }
    else
        echo "== 0 skipped =="
    fi
}

# ThreadSanitizer's run ends here, and so does one without a CMake half.
[ -z "$cmake_pid" ] && { summary; exit 0; }

# The clang build, and its unit and end-to-end tests (not the slow hostile
# ones, nor those needing root or tools: they test the same sources, and ran
# above; `ctest --test-dir build/cmake-clang++` runs them all).
echo "== CMake build + CTest ($cc) =="
if ! wait "$cmake_pid"; then
    cmake_pid=
    tail -40 "$logs/cmake.log"
    echo "== FAILED: the CMake build with $cc (above) =="
    exit 1
fi
cmake_pid=
pattern="^($(IFS='|'; echo "${cmake_tests[*]}"))\$"
rc=0
ctest --test-dir "$dir" --output-on-failure -j "$jobs" -R "$pattern" || rc=$?
# CTest shows only a failed test's output: its skipped cases are read from
# the log of the run, where each test's output follows "<i>/<n> Test: <name>".
awk -v cc="$cc" '/^[0-9]+\/[0-9]+ Test: / { name = $3 }
    /^SKIPPED: / { sub(/^SKIPPED: /, ""); print name " (" cc "): " $0 }' \
    "$dir/Testing/Temporary/LastTest.log" >>"$logs/skips" 2>/dev/null || true
[ "$rc" = 0 ] || { echo "== FAILED: CTest on the $cc build (above) =="; exit 1; }
summary "${#cmake_tests[@]} test programs ($cc, CTest -R): passed"
