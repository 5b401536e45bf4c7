#!/usr/bin/env bash
# Install whatever this project needs that the machine lacks.
#
#   scripts/deps.sh [extra ...]     extras: clang, python, capture, bench, windows, redes, modbus, figuras
#
# Debian/Ubuntu: missing packages are installed with apt-get (through sudo
# when not root). Elsewhere nothing is installed: the exact command for
# macOS (Homebrew) and Windows (MSYS2 / vcpkg) is printed instead.
set -euo pipefail

packages=(build-essential cmake pkg-config doctest-dev libsodium-dev)
for extra in "$@"; do
    case "$extra" in
        clang)   packages+=(clang) ;;
        python)  packages+=(python3 python3-nacl) ;;
        capture) packages+=(tcpdump tshark iproute2) ;;
        redes)   packages+=(nftables wireguard-go wireguard-tools tcpdump tshark iproute2 iperf3) ;;
        bench)   packages+=(netcat-openbsd iperf3 python3) ;;
        windows) packages+=(g++-mingw-w64-x86-64-posix autoconf automake libtool wine64) ;;
        # ex6's independent peers: mbpoll, pymodbus (its server imports serial,
        # which python3-serial-asyncio, a Recommends, brings) and libmodbus.
        modbus)  packages+=(mbpoll python3-pymodbus python3-serial-asyncio libmodbus-dev) ;;
        figuras) packages+=(tshark gnuplot-nox) ;;
        *) echo "deps.sh: unknown extra '$extra'" >&2; exit 2 ;;
    esac
done

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
    exit 0
fi

missing=()
for p in "${packages[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    [ "$status" = "install ok installed" ] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "Installing missing packages: ${missing[*]}"
if [ "$(id -u)" = 0 ]; then
    sudo=()
elif command -v sudo >/dev/null 2>&1; then
    sudo=(sudo)
else
    echo "Not root and no sudo: run as root:  apt-get install ${missing[*]}" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "Installed: ${missing[*]}"
