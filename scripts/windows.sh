#!/usr/bin/env bash
# make windows: cross-build every example for Windows x86-64 with MinGW-w64,
# statically linked (each .exe runs on a bare Windows), into build/windows/.
# libsodium for MinGW is built once from Debian's own source package and
# cached outside the clone, in ~/.cache/socket-lab/mingw-sodium (or
# $LAB_CACHE/mingw-sodium), so a fresh clone on the same machine reuses it;
# build/mingw-sodium is a link to it (the CMake preset `mingw` looks there).
# Does nothing when the programs are newer than every source (make test runs
# it before e2e_windows, every time).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
root=$(pwd)
CXX=${MINGW_CXX:-x86_64-w64-mingw32-g++-posix}  # -posix: the flavour with std::thread
out=build/windows
cache=${LAB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/socket-lab}
sodium=$cache/mingw-sodium

scripts/deps.sh windows
sources=(common ex1_chat ex2_crypto ex3_files ex4_kx ex5_udp ex6_modbus scripts/windows.sh)
if [ -f "$out/.complete" ] && [ -L build/mingw-sodium ] &&
   [ -z "$(find "${sources[@]}" -newer "$out/.complete" \( -name '*.cpp' -o -name '*.h' -o -name '*.sh' \) | head -1)" ]; then
    echo "Windows programs in $out/ are up to date"
    exit 0
fi

if [ ! -f "$sodium/.complete" ]; then  # written last: a build cut short is redone
    echo "Building libsodium for MinGW (once; about 2 minutes)..."
    src=$cache/mingw-sodium-src
    rm -rf "$src"
    mkdir -p "$src/lists/partial"
    # A deb-src entry for apt, without touching the system's own lists.
    if [ -f /etc/apt/sources.list.d/debian.sources ]; then
        sed 's/^Types: deb$/Types: deb-src/' /etc/apt/sources.list.d/debian.sources >"$src/src.sources"
        list=(-o Dir::Etc::SourceList=/dev/null -o Dir::Etc::SourceParts="$src/parts")
        mkdir -p "$src/parts" && mv "$src/src.sources" "$src/parts/debian-src.sources"
    else
        sed -n 's/^deb /deb-src /p' /etc/apt/sources.list >"$src/src.list"
        list=(-o Dir::Etc::SourceList="$src/src.list" -o Dir::Etc::SourceParts=/dev/null)
    fi
    opts=("${list[@]}" -o Dir::State::Lists="$src/lists")
    apt-get "${opts[@]}" update -qq
    (cd "$src" && apt-get "${opts[@]}" source --download-only -qq libsodium 2>/dev/null)
    tar -xf "$src"/libsodium_*.orig.tar.* -C "$src"
    cd "$src"/libsodium-*/
    # The upstream tarball has no configure script: make it.
    ./autogen.sh -s >/dev/null 2>&1
    # --enable-minimal: only the core (secretbox, crypto_kx, secretstream,
    # randombytes, base64 are in it); builds in about half the time.
    ./configure -q --host=x86_64-w64-mingw32 --disable-shared --enable-static --enable-minimal \
        --prefix="$sodium" --disable-dependency-tracking >/dev/null 2>&1
    make -s -j"$(nproc 2>/dev/null || echo 2)" >/dev/null 2>&1
    rm -rf "$sodium"
    make -s install >/dev/null
    touch "$sodium/.complete"
    cd "$root"
    rm -rf "$src"
fi
mkdir -p build
ln -sfn "$sodium" build/mingw-sodium

flags=(-std=c++17 -O2 -Wall -Wextra -Werror -D_WIN32_WINNT=0x0600)
jobs=$(lab_cores)
# common/ once, into objects that every program links (two compilers at a time).
# `room` waits until fewer than $jobs compilers run; a failed one sets status.
status=0
room() { while [ "$(jobs -rp | wc -l)" -ge "${1:-$jobs}" ]; do wait -n || status=1; done; }
rm -rf "$out/obj"
mkdir -p "$out/obj"
for src in common/*.cpp; do
    "$CXX" "${flags[@]}" -c -o "$out/obj/$(basename "$src" .cpp).o" "$src" &
    room
done
room 1
[ "$status" = 0 ] || { echo "make windows: common/ did not build (see above)" >&2; exit 1; }
for ex in ex1_chat ex2_crypto ex3_files ex4_kx ex5_udp ex6_modbus; do  # ex5 serves ../ex3_files/imagens
    mkdir -p "$out/$ex"
    programs=(server client)
    [ "$ex" = ex4_kx ] && programs+=(intruso)
    for program in "${programs[@]}"; do
        extra=()
        case "$ex" in ex2_crypto | ex4_kx) extra=(-DSODIUM_STATIC -I"$sodium/include" -L"$sodium/lib" -lsodium) ;; esac
        echo "  $out/$ex/$program.exe"
        "$CXX" "${flags[@]}" -o "$out/$ex/$program.exe" "$ex/$program.cpp" "$out"/obj/*.o \
            "${extra[@]}" -static -lws2_32 &
        room
    done
done
room 1
[ "$status" = 0 ] || { echo "make windows: a program did not build (see above)" >&2; exit 1; }
rm -rf "$out/ex3_files/imagens"
cp -r ex3_files/imagens "$out/ex3_files/imagens"
touch "$out/.complete"
echo "Windows programs in $out/ (copy a folder to Windows and run server.exe / client.exe)"
