#!/usr/bin/env bash
# make bench: speed and memory of the examples, each figure next to a
# baseline measured in the same run, on the same machine, over loopback.
#
#   BENCH_MB=100            size of the ex3 file (MiB)
#   BENCH_REPEAT=3          ex3: best of N runs
#   BENCH_CLIENTS="10 100 1000"   ex1: clients per run
#   BENCH_MESSAGES=200      ex1: messages per run (one at a time)
#   BENCH_SLOW_S=10         ex1 slow client: seconds of sending (0: skip)
#   BENCH_PY1000=0          1: also run the Python chat with 1000 clients
#                           (its listen(5) makes the burst take minutes)
#   BENCH_DIR=/dev/shm      where the test files go (default: /dev/shm if any)
set -euo pipefail
cd "$(dirname "$0")/.."
MB=${BENCH_MB:-100}
REPEAT=${BENCH_REPEAT:-3}
CLIENTS=${BENCH_CLIENTS:-10 100 1000}
MESSAGES=${BENCH_MESSAGES:-200}
SLOW_S=${BENCH_SLOW_S:-10}
PY1000=${BENCH_PY1000:-0}

# In memory (tmpfs) when possible: the figures are then about the network
# code, not about the disk (on this machine's disk every method is capped).
tmp=${BENCH_DIR:-$( [ -d /dev/shm ] && [ -w /dev/shm ] && echo /dev/shm || echo "${TMPDIR:-/tmp}")}
work=$(mktemp -d "$tmp/lab-bench-XXXXXX")
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

mkdir -p build/bench
for tool in chat_load epoll_relay; do
    [ "build/bench/$tool" -nt "bench/$tool.cpp" ] ||
        ${CXX:-g++} -std=c++17 -O2 -Wall -Wextra -Werror -o "build/bench/$tool" "bench/$tool.cpp"
done
have() { command -v "$1" >/dev/null 2>&1; }
now() { date +%s.%N; }

# start <log> <command...>: start a server on $port (chosen here) and wait
# for "Aguardando" in its log; sets $spid. The command may use {PORT}.
start() {
    local log=$1; shift
    for _ in 1 2 3 4 5 6 7 8 9 10; do
        port=$((20000 + RANDOM % 40000))
        local args=("${@//\{PORT\}/$port}")
        "${args[@]}" >"$log" 2>&1 &
        spid=$!
        pids+=("$spid")
        for _ in $(seq 200); do
            grep -q Aguardando "$log" 2>/dev/null && return 0
            kill -0 "$spid" 2>/dev/null || break
            sleep 0.05
        done
        kill "$spid" 2>/dev/null || true
    done
    echo "could not start: $*" >&2
    exit 1
}
stop() { kill "$spid" 2>/dev/null || true; wait "$spid" 2>/dev/null || true; }

# ---------------------------------------------------------------------------
echo "== ex3: download of a ${MB} MiB file over loopback (best of $REPEAT; files in $tmp) =="
mkdir -p "$work/srv" "$work/dl"
head -c "$((MB * 1024 * 1024))" /dev/urandom >"$work/srv/data.bin"
bytes=$((MB * 1024 * 1024))
declare -A rate

# measure <name> <command that downloads>: best MB/s of REPEAT runs.
measure() {
    local name=$1; shift
    local best=0 t0 t1 mbs
    for _ in $(seq "$REPEAT"); do
        rm -f "$work/dl/"*
        t0=$(now)
        "$@"
        t1=$(now)
        mbs=$(awk -v b="$bytes" -v a="$t0" -v z="$t1" 'BEGIN { printf "%.1f", b / (z - a) / 1e6 }')
        best=$(awk -v a="$best" -v b="$mbs" 'BEGIN { print (b > a) ? b : a }')
    done
    rate[$name]=$best
}
cpp_download() { ex3_files/client 127.0.0.1 "$port" data.bin --dir "$work/dl" >/dev/null; }
for chunk in 1024 65536; do
    start "$work/s.log" ex3_files/server 127.0.0.1 {PORT} --quiet --chunk "$chunk" --dir "$work/srv"
    measure "cpp$chunk" cpp_download
    # Checked outside the timing: the last download is byte-identical.
    cmp -s "$work/dl/data.bin" "$work/srv/data.bin" || { echo "C++ download differs" >&2; exit 1; }
    stop
done
if have python3; then
    py_download() { python3 bench/py_file_client.py "$port" data.bin "$work/dl/out"; }
    start "$work/s.log" python3 bench/py_file_server.py {PORT} "$work/srv"
    measure python py_download
    stop
else
    echo "(python3 not found: the Python baseline is skipped)"
fi
if have nc; then
    nc_download() {
        port=$((20000 + RANDOM % 40000))  # a new port each time (TIME_WAIT)
        nc -N -l 127.0.0.1 "$port" <"$work/srv/data.bin" &
        local n=$!
        sleep 0.1
        nc -d 127.0.0.1 "$port" >"$work/dl/out"
        wait "$n" || true
    }
    measure nc nc_download
fi
if have iperf3; then
    start "$work/s.log" sh -c 'echo Aguardando; exec iperf3 -s -p {PORT}'
    best=0
    for _ in $(seq "$REPEAT"); do
        mbs=$(iperf3 -c 127.0.0.1 -p "$port" -n "${MB}M" -J | python3 -c \
            'import json,sys; print("%.1f" % (json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"] / 8e6))' \
            2>/dev/null || echo 0)
        best=$(awk -v a="$best" -v b="$mbs" 'BEGIN { print (b > a) ? b : a }')
    done
    rate[iperf3]=$best
    stop
fi
py=${rate[python]:-0} nc=${rate[nc]:-0}
row() {  # row <label> <key> <note>
    local r=${rate[$2]:-}
    [ -n "$r" ] || { printf '  %-44s %10s\n' "$1" "skipped"; return; }
    printf '  %-44s %8s MB/s  %6s x Python  %6s x nc  %s\n' "$1" "$r" \
        "$(awk -v a="$r" -v b="$py" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }')" \
        "$(awk -v a="$r" -v b="$nc" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }')" "$3"
}
target() {  # target <key> <baseline key> <factor>
    awk -v a="${rate[$1]:-0}" -v b="${rate[$2]:-0}" -v f="$3" \
        'BEGIN { if (b == 0) print "(no baseline)"; else if (a >= f * b) printf "target >= %sx %s: met", f, "'"$2"'"; else printf "target >= %sx %s: MISSED", f, "'"$2"'" }'
}
row "C++ server+client, --chunk 1024 (default)" cpp1024 "$(target cpp1024 python 1.8)"
row "C++ server+client, --chunk 65536" cpp65536 "$(target cpp65536 nc 1.5)"
row "Python, guide's shape (1024-byte send/recv)" python "baseline"
row "nc -l -N / nc -d (netcat-openbsd)" nc "baseline"
row "iperf3 (memory only: the ceiling)" iperf3 ""

# ---------------------------------------------------------------------------
echo
echo "== ex1: fan-out, one message at a time from one client to N ($MESSAGES messages) =="
printf '  %-6s %-24s %9s %9s %9s %12s %9s %9s\n' N server "msgs/s" "p50 us" "p99 us" "CPU us/deliv" "RSS MB" "burst s"
chat_row() {  # chat_row <N> <label> <command...>
    local n=$1 label=$2; shift 2
    start "$work/s.log" "$@"
    local out
    if out=$(build/bench/chat_load "$port" "$n" "$MESSAGES" "$spid" 2>&1); then
        eval "$out"
        printf '  %-6s %-24s %9s %9s %9s %12s %9s %9s\n' "$n" "$label" "$msgs_per_s" "$p50_us" \
            "$p99_us" "$cpu_us_per_delivery" "$(awk -v k="$rss_kb" 'BEGIN { printf "%.1f", k / 1024 }')" "$burst_s"
    else
        printf '  %-6s %-24s %s\n' "$n" "$label" "failed: $out"
    fi
    stop
}
for n in $CLIENTS; do
    chat_row "$n" "C++ ex1_chat/server" ex1_chat/server 127.0.0.1 {PORT}
    chat_row "$n" "epoll relay (ceiling)" build/bench/epoll_relay {PORT}
    if have python3 && { [ "$n" -lt 1000 ] || [ "$PY1000" = 1 ]; }; then
        chat_row "$n" "Python original" python3 bench/py_chat_server.py {PORT}
    elif have python3; then
        printf '  %-6s %-24s %s\n' "$n" "Python original" "skipped (listen(5): the burst takes minutes; BENCH_PY1000=1)"
    fi
done

# ---------------------------------------------------------------------------
if [ "$SLOW_S" != 0 ]; then
    echo
    echo "== ex1: a slow client (never reads) while one client sends to 10 others for ${SLOW_S} s =="
    start "$work/s.log" ex1_chat/server 127.0.0.1 {PORT}
    exec 3<>"/dev/tcp/127.0.0.1/$port"  # connects, never reads
    sleep 0.2
    slow=$(grep -m1 "Cliente conectado" "$work/s.log" | cut -d' ' -f3)
    # 1 KiB messages, so the slow client's buffers fill within a second.
    out=$(CHAT_LOAD_SIZE=1024 build/bench/chat_load "$port" 10 0 "$spid" "$SLOW_S")
    eval "$out"
    dropped=no
    grep -q "Cliente desconectado: $slow" "$work/s.log" && dropped=yes
    exec 3<&-
    echo "  C++: $msgs_per_s msgs/s (1 KiB) to the 10 others; p99 wait ${p99_us} us; longest ${max_us} us; slow client dropped: $dropped"
    echo "  (a send blocked for 5 s on the slow client drops it: SEND_TIMEOUT in"
    echo "   ex1_chat/server.cpp; until then the others wait, which the longest wait shows)"
    stop
fi
