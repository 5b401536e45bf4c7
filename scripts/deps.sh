#!/usr/bin/env bash
# Install whatever this project needs that the machine lacks, saying what and why.
#
#   scripts/deps.sh [--tests] [extra ...]
#       extras: clang, python, capture, bench, windows, redes, modbus, figuras
#       --tests   the extras are for tests (make test): one that cannot be
#                 installed is reported, and the tests that need it are
#                 skipped, each saying why; without --tests it is an error
#   DEPS=0        install nothing: only report what is missing
#
# Debian/Ubuntu: missing packages are installed with apt-get (through sudo
# when not root). Elsewhere nothing is installed: the exact command for
# macOS (Homebrew) and Windows (MSYS2 / vcpkg) is printed instead.
set -euo pipefail

for_tests=0
if [ "${1:-}" = --tests ]; then for_tests=1; shift; fi

# what_for <extra>: why the project needs that extra's packages.
what_for() {
    case "$1" in
        base)    echo "the compiler, CMake, libsodium (ex2, ex4) and doctest (the tests)" ;;
        clang)   echo "the second compiler: make test's CMake half builds everything with clang; make fuzz (libFuzzer)" ;;
        python)  echo "/usr/bin/python3 with PyNaCl: the Python peers of e2e_ex2 and e2e_ex4, the guide's programs in e2e_ex3" ;;
        capture) echo "tcpdump and tshark: make capture, capture_tcp, shipped_captures, exercise_answers, figure_data" ;;
        redes)   echo "nftables, WireGuard and iperf3: the networks lab (make redes, redes_lab, redes_udp, capture_udp)" ;;
        bench)   echo "nc and iperf3: the baselines of make bench" ;;
        windows) echo "MinGW-w64, autotools and wine: make windows (the .exe files) and e2e_windows (them under wine)" ;;
        modbus)  echo "mbpoll, pymodbus and libmodbus: ex6's independent peers (e2e_ex6, make bench)" ;;
        figuras) echo "tshark and gnuplot: make figuras" ;;
    esac
}
packages_of() {
    case "$1" in
        base)    echo build-essential cmake pkg-config doctest-dev libsodium-dev ;;
        clang)   echo clang ;;
        python)  echo python3 python3-nacl ;;
        capture) echo tcpdump tshark iproute2 ;;
        redes)   echo nftables wireguard-go wireguard-tools tcpdump tshark iproute2 iperf3 ;;
        bench)   echo netcat-openbsd iperf3 python3 ;;
        windows) echo g++-mingw-w64-x86-64-posix autoconf automake libtool wine64 ;;
        # ex6's independent peers: mbpoll, pymodbus (its server imports serial,
        # which python3-serial-asyncio, a Recommends, brings) and libmodbus.
        modbus)  echo mbpoll python3-pymodbus python3-serial-asyncio libmodbus-dev ;;
        figuras) echo tshark gnuplot-nox ;;
        *) echo "deps.sh: unknown extra '$1'" >&2; exit 2 ;;
    esac
}
extras=(base)
for extra in "$@"; do packages_of "$extra" >/dev/null; extras+=("$extra"); done

if ! command -v apt-get >/dev/null 2>&1 || ! command -v dpkg-query >/dev/null 2>&1; then
    # Not Debian: check the tools, and say how to get them if one is missing.
    missing=0
    for tool in c++ cmake pkg-config; do
        command -v "$tool" >/dev/null 2>&1 || { echo "missing: $tool" >&2; missing=1; }
    done
    pkg-config --exists libsodium 2>/dev/null || { echo "missing: libsodium" >&2; missing=1; }
    if [ "$missing" = 1 ]; then
        cat >&2 <<'MSG'
This is not a Debian/Ubuntu system, so nothing was installed. Install the
dependencies with the command for your system, then run make again:
  macOS (Homebrew):  brew install cmake pkg-config libsodium doctest
  Windows (MSYS2, UCRT64 shell):
    pacman -S --needed make mingw-w64-ucrt-x86_64-gcc mingw-w64-ucrt-x86_64-cmake mingw-w64-ucrt-x86_64-pkgconf mingw-w64-ucrt-x86_64-libsodium mingw-w64-ucrt-x86_64-doctest
  Windows (Visual Studio + vcpkg): vcpkg install libsodium doctest
MSG
        exit 1
    fi
    if [ $# -gt 0 ]; then
        cat >&2 <<MSG
Not Debian/Ubuntu: nothing installed for: $*. The tests run on Linux (they
read /proc, and the capture and networks-lab tests use network namespaces);
here the ones whose tools are missing are skipped, each saying why.
  macOS (Homebrew), the tools that exist there:
    brew install llvm wireshark libmodbus gnuplot mingw-w64 iperf3
    /usr/bin/python3 -m pip install --user pynacl pymodbus
MSG
    fi
    exit 0
fi

# The missing packages of each extra, with the reason (a package shared by
# two extras is listed once).
missing=() report=()
for extra in "${extras[@]}"; do
    mine=()
    for p in $(packages_of "$extra"); do
        case " ${missing[*]-} " in *" $p "*) continue ;; esac
        status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
        [ "$status" = "install ok installed" ] || mine+=("$p")
    done
    [ ${#mine[@]} -eq 0 ] && continue
    missing+=("${mine[@]}")
    report+=("  ${mine[*]}: $(what_for "$extra")")
done
[ ${#missing[@]} -eq 0 ] && exit 0

# cannot <why>: nothing can be installed; an error unless only test extras miss.
cannot() {
    echo "Missing packages ($1):" >&2
    printf '%s\n' "${report[@]}" >&2
    echo "To install them, as root:  apt-get install ${missing[*]}" >&2
    case "${report[0]}" in "  "*": $(what_for base)") exit 1 ;; esac
    [ "$for_tests" = 1 ] && { echo "The tests that need them are skipped, each saying why." >&2; exit 0; }
    exit 1
}
[ "${DEPS:-}" = 0 ] && cannot "DEPS=0: nothing is installed"
if [ "$(id -u)" = 0 ]; then
    sudo=()
elif command -v sudo >/dev/null 2>&1; then
    sudo=(sudo)
else
    cannot "not root and no sudo"
fi
echo "Installing missing packages with apt-get${sudo[*]:+ (through sudo)}:"
printf '%s\n' "${report[@]}"
${sudo[@]+"${sudo[@]}"} apt-get update -qq
${sudo[@]+"${sudo[@]}"} env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
echo "Installed: ${missing[*]}"
