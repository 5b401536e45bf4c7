#!/usr/bin/env bash
# The data behind the bench figures of `make figuras` (figuras/README.md),
# each a CSV under bench/results/ whose header comments say when, on what
# machine and with which command it was measured. Called by bench/bench.sh
# (BENCH_CURVES=0 skips it); runs alone as well: bench/curves.sh
#
#   bench/results/ex3_chunk.csv     ex3 download speed (MB/s) against the
#       chunk size (bytes per send), 16 B to 1 MiB: the C++ server
#       (--chunk N --quiet) beside the guide-shaped Python server
#       (bench/py_file_server.py with the same chunk), same C++ client.
#   bench/results/chat_clients.csv  ex1 chat: p99 delivery latency and the
#       server's memory (RSS) against the number of clients, 10 to 10,000:
#       the thread-per-client server beside bench/epoll_relay.cpp.
#
#   CURVES_FILE_MB=8     size of the file downloaded at each chunk size (MiB)
#   CURVES_CLIENTS="10 100 1000 3000 10000"
#   CURVES_MESSAGES=100  messages per chat run (each reaches every client)
#   CURVES_OUT=build/bench/results   where the CSVs go; BENCH_SAVE=1 writes the
#                        shipped ones in bench/results/ (tracked by git: a plain
#                        make bench changes nothing git tracks)
# Every loop is bounded: a fixed list of sizes, three downloads each (the
# best is kept), chat_load gives up after 120 s, each server is killed after its run.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh  # starting a server and waiting for it, the exit trap
FILE_MB=${CURVES_FILE_MB:-8}
CLIENTS=${CURVES_CLIENTS:-10 100 1000 3000 10000}
MESSAGES=${CURVES_MESSAGES:-100}
if [ "${BENCH_SAVE:-0}" = 1 ]; then OUT=${CURVES_OUT:-bench/results}; else OUT=${CURVES_OUT:-build/bench/results}; fi
mkdir -p "$OUT"
CHUNKS="16 64 256 1024 4096 16384 65536 262144 1048576"

tmp=$( [ -d /dev/shm ] && [ -w /dev/shm ] && echo /dev/shm || echo "${TMPDIR:-/tmp}")
work=$(mktemp -d "$tmp/lab-curves-XXXXXX")
spid=
lab_on_exit  # on exit, Ctrl+C or error: the server stops, $work goes
# 10,000 clients are 10,000 sockets in chat_load and 10,000 in the server
# (each process needs its own limit above that).
# As root the hard limit itself can be raised; otherwise up to it.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if [ "$(ulimit -n)" -lt 10100 ]; then
    echo "(RLIMIT_NOFILE is $(ulimit -n): the chat curve stops where it no longer fits)"
fi

mkdir -p build/bench "$OUT"
for tool in chat_load epoll_relay; do  # as bench/bench.sh builds them
    [ "build/bench/$tool" -nt "bench/$tool.cpp" ] ||
        ${CXX:-g++} -std=c++17 -O2 -Wall -Wextra -Werror $(pkg-config --cflags libsodium) \
            -o "build/bench/$tool" "bench/$tool.cpp" $(pkg-config --libs libsodium)
done
[ -x ex3_files/server ] && [ -x ex1_chat/server ] || make --no-print-directory -s all
now() { date +%s.%N; }
header() {  # header <what>: the comment lines every CSV starts with
    echo "# $1"
    echo "# measured $(date -u '+%Y-%m-%d %H:%M UTC') on $(uname -n): $(uname -srm)," \
         "$(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
    echo "# command: bench/curves.sh (make bench); loopback"
}
# start <log> <command...>: a server on a free port ({PORT}); sets port, spid.
start() {
    local log=$1; shift
    lab_start_server "$log" Aguardando "$@" || { echo "could not start: $*" >&2; exit 1; }
    spid=$lab_pid
}
stop() { lab_stop "$spid"; spid=; }

# ---- ex3: MB/s against the chunk size ----------------------------------------
echo "== curves: ex3 download of ${FILE_MB} MiB against the chunk size =="
mkdir -p "$work/srv" "$work/dl"
head -c "$((FILE_MB * 1024 * 1024))" /dev/urandom >"$work/srv/data.bin"
bytes=$((FILE_MB * 1024 * 1024))
rate() {  # rate: best MB/s of 3 downloads with the C++ client from $port
    local best=0 t0 t1 mbs
    for _ in 1 2 3; do
        rm -f "$work/dl/"*
        t0=$(now)
        timeout 120 ex3_files/client 127.0.0.1 "$port" data.bin --dir "$work/dl" >/dev/null 2>&1 || { echo 0; return; }
        t1=$(now)
        mbs=$(awk -v b="$bytes" -v a="$t0" -v z="$t1" 'BEGIN { printf "%.1f", b / (z - a) / 1e6 }')
        best=$(awk -v a="$best" -v b="$mbs" 'BEGIN { print (b > a) ? b : a }')
    done
    cmp -s "$work/dl/data.bin" "$work/srv/data.bin" || { echo "download differs" >&2; exit 1; }
    echo "$best"
}
out=$OUT/ex3_chunk.csv
{
    header "ex3: MB/s of a ${FILE_MB} MiB download over loopback against bytes per send(), best of 3"
    echo "chunk_bytes,cpp_MBps,python_MBps"
    for chunk in $CHUNKS; do
        start "$work/s.log" ex3_files/server 127.0.0.1 {PORT} --quiet --chunk "$chunk" --dir "$work/srv"
        cpp=$(rate); stop
        start "$work/s.log" /usr/bin/python3 bench/py_file_server.py {PORT} "$work/srv" "$chunk"
        py=$(rate); stop
        echo "$chunk,$cpp,$py"
        echo "  chunk $chunk: C++ $cpp MB/s, Python $py MB/s" >&2
    done
} >"$out.tmp"
mv "$out.tmp" "$out"

# ---- ex1: p99 and memory against the number of clients -----------------------
echo "== curves: chat p99 and memory against the number of clients =="
field() { grep -o "\b$1=[0-9.]*" <<<"$2" | head -1 | cut -d= -f2 || true; }
out=$OUT/chat_clients.csv
{
    header "ex1 chat: p99 delivery latency (us) and server RSS (MB) against clients, $MESSAGES messages of 32 bytes"
    echo "clients,threads_p99_us,threads_rss_MB,epoll_p99_us,epoll_rss_MB"
    for n in $CLIENTS; do
        if [ $((n + 100)) -gt "$(ulimit -n)" ]; then
            echo "  $n clients: skipped (RLIMIT_NOFILE $(ulimit -n))" >&2
            continue
        fi
        row="$n"
        # Every client comes from 127.0.0.1: the per-address limit (16) lifted.
        for server in "ex1_chat/server 127.0.0.1 {PORT} --limite-por-ip 100000" "build/bench/epoll_relay {PORT}"; do
            # shellcheck disable=SC2086
            start "$work/c.log" $server
            r=$(build/bench/chat_load "$port" "$n" "$MESSAGES" "$spid" 2>&1 || true)
            stop
            p99=$(field p99_us "$r"); rss=$(field rss_kb "$r")
            if [ -z "$p99" ] || [ -z "$rss" ]; then
                echo "  $n clients, $server: failed: $r" >&2
                row="$row,,"
            else
                row="$row,$p99,$(awk -v k="$rss" 'BEGIN { printf "%.1f", k / 1024 }')"
            fi
        done
        echo "$row"
        echo "  $n clients: $row" >&2
    done
} >"$out.tmp"
mv "$out.tmp" "$out"
echo "curves: wrote $OUT/ex3_chunk.csv and $OUT/chat_clients.csv (make figuras draws bench/results/)"
