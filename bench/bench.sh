#!/usr/bin/env bash
# make bench: speed and memory of the examples, each figure next to a
# baseline measured in the same run, on the same machine, over loopback.
#
#   BENCH_MB=100            size of the ex3 file (MiB)
#   BENCH_REPEAT=3          ex3: best of N runs
#   BENCH_CLIENTS="10 100 1000"   ex1: clients per run
#   BENCH_MESSAGES=1000     ex1: messages per run (one at a time)
#   (the chat servers run with --envio-por-aluno 0: these rows measure the server, and
#    one sender as fast as it can would measure the 16 KiB/s budget, common/rate_limit.h)
#   BENCH_ROUNDS=3          ex1: runs of C++ and of the ceiling, taking turns
#   BENCH_SLOW_S=10         ex1 slow client: seconds of sending (0: skip)
#   BENCH_PY1000=0          1: also run the Python chat with 1000 clients
#                           (its listen(5) makes the burst take minutes)
#   BENCH_DIR=/dev/shm      where the test files go (default: /dev/shm if any)
#   BENCH_EX6_SECONDS, BENCH_EX6_CLIENTS   ex6 (Modbus/TCP): see bench/ex6.sh
#   BENCH_CURVES=1          0: skip the cost curves (bench/curves.sh, CURVES_* there)
#   BENCH_EX5=1, BENCH_EX6=1   0: skip ex5's or ex6's part
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh  # the exit trap, shared with the other scripts
MB=${BENCH_MB:-100}
REPEAT=${BENCH_REPEAT:-3}
CLIENTS=${BENCH_CLIENTS:-10 100 1000}
MESSAGES=${BENCH_MESSAGES:-1000}
ROUNDS=${BENCH_ROUNDS:-3}
SLOW_S=${BENCH_SLOW_S:-10}
PY1000=${BENCH_PY1000:-0}

# In memory (tmpfs) when possible: the figures are then about the network
# code, not about the disk (on this machine's disk every method is capped).
tmp=${BENCH_DIR:-$( [ -d /dev/shm ] && [ -w /dev/shm ] && echo /dev/shm || echo "${TMPDIR:-/tmp}")}
work=$(mktemp -d "$tmp/lab-bench-XXXXXX")
pids=()
lab_on_exit  # on exit, Ctrl+C or error: the servers in $pids stop, $work goes (scripts/lib.sh)
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

mkdir -p build/bench
for tool in chat_load epoll_relay classroom_attack; do
    [ "build/bench/$tool" -nt "bench/$tool.cpp" ] ||
        ${CXX:-g++} -std=c++17 -O2 -Wall -Wextra -Werror $(pkg-config --cflags libsodium) \
            -o "build/bench/$tool" "bench/$tool.cpp" $(pkg-config --libs libsodium)
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
echo "   (C++ and the ceiling take turns, $ROUNDS rounds each; each figure is the median of its rounds)"
printf '  %-6s %-24s %9s %9s %9s %12s %9s %9s\n' N server "msgs/s" "p50 us" "p99 us" "CPU us/deliv" "RSS MB" "burst s"
FIELDS="msgs_per_s p50_us p99_us cpu_us_per_delivery rss_kb burst_s"
# chat_run <N> <label> <command...>: one run; appends its figures to runs_<label>.
declare -A runs
chat_run() {
    local n=$1 label=$2; shift 2
    start "$work/s.log" "$@"
    local out
    if out=$(build/bench/chat_load "$port" "$n" "$MESSAGES" "$spid" 2>&1); then
        runs[$label]+="$out"$'\n'
    else
        runs[$label]+="failed: $out"$'\n'
    fi
    stop
}
# median <label> <field>: the median of that figure over the label's runs.
median() {
    grep -o "\b$2=[0-9.]*" <<<"${runs[$1]}" | cut -d= -f2 | sort -g |
        awk '{ v[NR] = $1 } END { if (NR) print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
chat_row() {  # chat_row <N> <label>: prints the medians
    local n=$1 label=$2
    if grep -q "never all registered" <<<"${runs[$label]}"; then
        printf '  %-6s %-24s %s\n' "$n" "$label" "clients not all registered after 120 s (listen(5): SYN retries)"
        return
    elif grep -q failed <<<"${runs[$label]}"; then
        printf '  %-6s %-24s %s\n' "$n" "$label" "$(grep -m1 failed <<<"${runs[$label]}")"
        return
    fi
    printf '  %-6s %-24s %9s %9s %9s %12s %9s %9s\n' "$n" "$label" "$(median "$label" msgs_per_s)" \
        "$(median "$label" p50_us)" "$(median "$label" p99_us)" "$(median "$label" cpu_us_per_delivery)" \
        "$(awk -v k="$(median "$label" rss_kb)" 'BEGIN { printf "%.1f", k / 1024 }')" "$(median "$label" burst_s)"
}
for n in $CLIENTS; do
    runs=()
    for _ in $(seq "$ROUNDS"); do
        chat_run "$n" "C++ ex1_chat/server" ex1_chat/server 127.0.0.1 {PORT} --limite-por-ip 100000 --envio-por-aluno 0
        chat_run "$n" "epoll relay (ceiling)" build/bench/epoll_relay {PORT}
    done
    chat_row "$n" "C++ ex1_chat/server"
    chat_row "$n" "epoll relay (ceiling)"
    if ! grep -q failed <<<"${runs[C++ ex1_chat/server]}${runs[epoll relay (ceiling)]}"; then
        awk -v m="$(median "C++ ex1_chat/server" msgs_per_s)" -v M="$(median "epoll relay (ceiling)" msgs_per_s)" \
            -v p="$(median "C++ ex1_chat/server" p99_us)" -v P="$(median "epoll relay (ceiling)" p99_us)" \
            -v c="$(median "C++ ex1_chat/server" cpu_us_per_delivery)" -v C="$(median "epoll relay (ceiling)" cpu_us_per_delivery)" \
            'BEGIN { printf "  %-6s %-24s %8.2fx %9s %8.2fx %11.2fx\n", "", "C++ / ceiling", m / M, "", p / P, c / C }'
    fi
    if have python3 && { [ "$n" -lt 1000 ] || [ "$PY1000" = 1 ]; }; then
        chat_run "$n" "Python original" python3 bench/py_chat_server.py {PORT}
        chat_row "$n" "Python original"
    elif have python3; then
        printf '  %-6s %-24s %s\n' "$n" "Python original" "skipped (listen(5): the burst takes minutes; BENCH_PY1000=1)"
    fi
done
echo "  (targets at 100 and 1000 clients: msgs/s >= 0.90x and p99 <= 1.10x the ceiling's, CPU <= 1.5x)"

# ---------------------------------------------------------------------------
if [ "$SLOW_S" != 0 ]; then
    echo
    echo "== ex1: one client sends 1 KiB messages to 10 others for ${SLOW_S} s; an 11th never reads =="
    printf '  %-34s %9s %9s %12s  %s\n' server msgs/s "p99 us" "longest us" "the slow client"
    # slow_row <label> <with slow client: 0|1> <server command...>
    slow_row() {
        local label=$1 with_slow=$2; shift 2
        start "$work/s.log" "$@"
        local fate="-"
        if [ "$with_slow" = 1 ]; then
            exec 3<>"/dev/tcp/127.0.0.1/$port"  # connects, never reads
            sleep 0.2
        fi
        # 1 KiB messages, so the slow client's buffers fill within a second.
        out=$(CHAT_LOAD_SIZE=1024 build/bench/chat_load "$port" 10 0 "$spid" "$SLOW_S")
        eval "$out"
        if [ "$with_slow" = 1 ]; then
            fate="still connected"
            why=$(grep -m1 "Cliente lento desconectado" "$work/s.log" | sed 's/.*(\(.*\))/\1/' || true)
            [ -n "$why" ] && fate="dropped: $why"
            [ "$stalled" = 1 ] && fate="$fate; everybody stalled"
            exec 3<&-
        fi
        printf '  %-34s %9s %9s %12s  %s\n' "$label" "$msgs_per_s" "$p99_us" "$max_us" "$fate"
        stop
        eval "rate_$with_slow=$msgs_per_s"
    }
    slow_row "C++, no slow client (baseline)" 0 ex1_chat/server 127.0.0.1 {PORT} --limite-por-ip 100 --envio-por-aluno 0
    slow_row "C++, with the slow client" 1 ex1_chat/server 127.0.0.1 {PORT} --limite-por-ip 100 --envio-por-aluno 0
    echo "  with/without the slow client: $(awk -v a="$rate_1" -v b="$rate_0" 'BEGIN { printf "%.2f", a / b }')x the messages/s"
    if have python3; then
        slow_row "Python original, with it" 1 python3 bench/py_chat_server.py {PORT}
    fi
    echo "  (C++: the broadcast never waits; the slow client's queue is capped at 1 MiB and a"
    echo "   send to it may make no progress for 5 s at most; see ex1_chat/README.md)"
fi

# ---------------------------------------------------------------------------
echo
echo "== classroom (issues 20, 30): ex2 chat under ulimit -n 1024 (992 places), 10 clients from 127.0.0.1, $MESSAGES messages one at a time =="
echo "   loaded: the same user holds 1100 idle connections from 69 addresses of 127/8 (refilling what the"
echo "   server closes) and drips handshakes: for the server, the class and the attacker are ONE group"
printf '  %-40s %9s %9s\n' run "msgs/s" "p99 us"
# classroom_run <label> <0|1 attacker>: runs take turns, $ROUNDS each; medians.
declare -A class_runs
classroom_run() {
    local label=$1 attack=$2 apid=
    start "$work/s.log" bash -c 'ulimit -n 1024 && exec ex2_crypto/server 127.0.0.1 "$0" --envio-por-aluno 0' {PORT}
    if [ "$attack" = 1 ]; then
        build/bench/classroom_attack "$port" 600 1100 69 >/dev/null &
        apid=$!
        pids+=("$apid")
        sleep 2  # the idle connections in place (the server full), the drip going
    fi
    local out
    out=$(CHAT_LOAD_EX2=1 build/bench/chat_load "$port" 10 "$MESSAGES" "$spid" 2>&1) || out="failed: $out"
    class_runs[$label]+="$out"$'\n'
    [ -n "$apid" ] && { kill "$apid" 2>/dev/null || true; wait "$apid" 2>/dev/null || true; }
    stop
}
class_median() {
    grep -o "\b$2=[0-9.]*" <<<"${class_runs[$1]}" | cut -d= -f2 | sort -g |
        awk '{ v[NR] = $1 } END { if (NR) print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
for _ in $(seq "$ROUNDS"); do
    classroom_run unloaded 0
    classroom_run loaded 1
done
for label in unloaded loaded; do
    if grep -q failed <<<"${class_runs[$label]}"; then
        printf '  %-40s %s\n' "$label" "$(grep -m1 failed <<<"${class_runs[$label]}")"
    else
        printf '  %-40s %9s %9s\n' "$label" "$(class_median "$label" msgs_per_s)" "$(class_median "$label" p99_us)"
    fi
done
awk -v l="$(class_median loaded msgs_per_s)" -v u="$(class_median unloaded msgs_per_s)" \
    'BEGIN { if (u > 0) printf "  loaded / unloaded: %.2fx the messages/s (goal >= 0.90x)\n", l / u }'

# ---------------------------------------------------------------------------
# ex5 (UDP): throughput against window over a 10 ms link; BENCH_EX5=0 skips it.
[ "${BENCH_EX5:-1}" = 0 ] || bench/ex5.sh
# ex6 (Modbus/TCP) against libmodbus and pymodbus: its own script; BENCH_EX6=0 skips it.
[ "${BENCH_EX6:-1}" = 0 ] || bench/ex6.sh
# The cost curves behind `make figuras` (bench/curves.sh writes build/bench/results/*.csv,
# and the shipped bench/results/*.csv with BENCH_SAVE=1);
# BENCH_CURVES=0 skips them.
[ "${BENCH_CURVES:-1}" = 0 ] || bench/curves.sh
