#!/usr/bin/env bash
# Build and run every test: once with the plain Make build, then with CMake +
# CTest for each compiler present (g++, clang++). SAN=address|thread builds
# everything with that sanitizer and runs the whole suite (Make build only).
# Called by `make test`.
set -euo pipefail
cd "$(dirname "$0")/.."
SAN=${SAN:-}
jobs=$(nproc 2>/dev/null || echo 2)

echo "== Make build (${CXX:-g++}${SAN:+, SAN=$SAN}) =="
make -j"$jobs" --no-print-directory -s SAN="$SAN" all tests
for t in build/make/tests/*; do
    case "$t" in *.o) continue ;; esac
    [ -x "$t" ] || continue
    echo "-- $t"
    rc=0
    timeout 900 "$t" --no-intro=true || rc=$?
    [ "$rc" = 77 ] && continue  # skipped; the program said why
    [ "$rc" = 0 ] || exit "$rc"
done

# With a sanitizer, the Make build above has run the whole suite: done.
[ -n "$SAN" ] && exit 0

# The CMake builds (gcc, clang) run every test again except the capture and
# Windows ones, which test the network and wine rather than the compiler.
ran=0
for cc in g++ clang++; do
    if ! command -v "$cc" >/dev/null 2>&1; then
        echo "== CMake build with $cc: skipped ($cc is not installed) =="
        continue
    fi
    dir="build/cmake-$cc${SAN:+-$SAN}"
    echo "== CMake build + CTest ($cc${SAN:+, SAN=$SAN}) =="
    cmake -S . -B "$dir" -DCMAKE_CXX_COMPILER="$cc" -DLAB_SANITIZE="$SAN" >/dev/null
    cmake --build "$dir" -j "$jobs" >/dev/null
    ctest --test-dir "$dir" --output-on-failure -LE 'capture|windows' 
    ran=1
done
[ "$ran" = 1 ] || { echo "no C++ compiler found for the CMake build" >&2; exit 1; }
