#!/usr/bin/env bash
# Build and run every test: once with the plain Make build (g++, or $CXX),
# then with CMake + CTest (clang++ when present). SAN=address|thread builds
# everything with that sanitizer and runs the suite (Make build only; all but
# the capture, samples, network-lab and wine tests).
# Called by `make test`.
set -euo pipefail
cd "$(dirname "$0")/.."
SAN=${SAN:-}
jobs=$(nproc 2>/dev/null || echo 2)

echo "== Make build (${CXX:-g++}${SAN:+, SAN=$SAN}) =="
make -j"$jobs" --no-print-directory -s SAN="$SAN" all tests

# The test programs to run. Under a sanitizer, skip the ones that check the
# network, capture files and wine rather than our code: they run the same
# server code the end-to-end tests run.
tests=()
for t in build/make/tests/*; do
    case "$t" in *.o) continue ;; esac
    [ -x "$t" ] || continue
    case "$SAN:${t##*/}" in ?*:capture_tests | ?*:e2e_windows | ?*:redes_tests | ?*:sample_captures | ?*:exercise_answers | ?*:figure_data) continue ;; esac
    case "$SAN:${t##*/}" in ?*:capture_ex5 | ?*:redes_ex5) continue ;; esac  # ex5's, likewise
    tests+=("$t")
done

# Two at a time (most of a test's time is spent waiting on sockets), each
# with a time limit; a test's output is shown whole when it ends. Exit code
# 77 means skipped (the program said why).
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
run_one() {
    local t=$1 log=$2/${1##*/}.log rc=0
    timeout 900 "$t" --no-intro=true >"$log" 2>&1 || rc=$?
    { echo "-- $t (exit $rc)"; cat "$log"; } 
    [ "$rc" = 0 ] || [ "$rc" = 77 ]
}
export -f run_one
printf '%s\n' "${tests[@]}" | xargs -P "$jobs" -I{} bash -c 'run_one "$1" "$2"' _ {} "$logs"

# With a sanitizer, the Make build above has run the whole suite: done.
[ -n "$SAN" ] && exit 0

# Then the CMake/CTest build, with clang when it is there (the Make build
# above used g++, so both compilers build everything), running every test
# again except the capture, samples, network-lab and Windows ones, which test
# the network, capture files and wine rather than the compiler.
cc=clang++
command -v "$cc" >/dev/null 2>&1 || { echo "(clang++ not installed: CMake build with g++)"; cc=g++; }
dir="build/cmake-$cc"
echo "== CMake build + CTest ($cc) =="
cmake -S . -B "$dir" -DCMAKE_CXX_COMPILER="$cc" >/dev/null
cmake --build "$dir" -j "$jobs" >/dev/null
ctest --test-dir "$dir" --output-on-failure -j "$jobs" -LE 'capture|windows|redes|samples'
