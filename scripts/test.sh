#!/usr/bin/env bash
# Build and run every test: once with the plain Make build (g++, or $CXX),
# then with CMake + CTest (clang++ when present). SAN=address|thread builds
# everything with that sanitizer and runs the suite (Make build only; all but
# the capture and wine tests).
# Called by `make test`.
set -euo pipefail
cd "$(dirname "$0")/.."
SAN=${SAN:-}
jobs=$(nproc 2>/dev/null || echo 2)

echo "== Make build (${CXX:-g++}${SAN:+, SAN=$SAN}) =="
make -j"$jobs" --no-print-directory -s SAN="$SAN" all tests
for t in build/make/tests/*; do
    case "$t" in *.o) continue ;; esac
    # Under a sanitizer, skip the capture, wine and redes tests: they check
    # the network and wine, and run the same server code the e2e tests run.
    case "$SAN:$t" in ?*:*/capture_tests | ?*:*/e2e_windows | ?*:*/redes_tests) continue ;; esac
    [ -x "$t" ] || continue
    echo "-- $t"
    rc=0
    timeout 900 "$t" --no-intro=true || rc=$?
    [ "$rc" = 77 ] && continue  # skipped; the program said why
    [ "$rc" = 0 ] || exit "$rc"
done

# With a sanitizer, the Make build above has run the whole suite: done.
[ -n "$SAN" ] && exit 0

# Then the CMake/CTest build, with clang when it is there (the Make build
# above used g++, so both compilers build everything), running every test
# again except the capture, Windows and redes ones, which test the network
# and wine rather than the compiler.
cc=clang++
command -v "$cc" >/dev/null 2>&1 || { echo "(clang++ not installed: CMake build with g++)"; cc=g++; }
dir="build/cmake-$cc"
echo "== CMake build + CTest ($cc) =="
cmake -S . -B "$dir" -DCMAKE_CXX_COMPILER="$cc" >/dev/null
cmake --build "$dir" -j "$jobs" >/dev/null
ctest --test-dir "$dir" --output-on-failure -j "$jobs" -LE 'capture|windows|redes'
