#!/usr/bin/env bash
# make bench, ex5, in two parts, each over the tests' UDP relay
# (bench/ex5_relay.cpp: 5 ms each way, a 10 ms round trip).
#
# 1. Throughput of the reliable mode against a fixed window (--janela N
#    --sem-controle), the server->client direction limited to BENCH_EX5_RATE
#    bytes/s with a 128 KiB queue (nothing is dropped). Each point is printed
#    beside its bound, min(N x chunk / RTT, the link's capacity), both measured
#    in the same run.
# 2. Congestion: a bottleneck of BENCH_EX5_BOTTLENECK bytes/s (2 MB/s) with a
#    drop-tail queue of 16 datagrams. For windows 16, 64 and 256: the time and
#    the datagrams the queue dropped with a fixed window (--sem-controle) and
#    with congestion control (--janela N), each run with its own relay and
#    server; the controlled run of the largest window also keeps the server's
#    --rtt trace (cwnd and ssthresh against time) for the figures.
#
#   BENCH_EX5_KIB=1024        size of the file (KiB)
#   BENCH_EX5_RATE=4000000    part 1: the link's capacity, bytes/s
#   BENCH_EX5_WINDOWS="1 2 4 8 16 32 64"
#   BENCH_EX5_BOTTLENECK=2000000  part 2: the bottleneck, bytes/s (0: skip part 2)
#   BENCH_EX5_CC_WINDOWS="16 64 256"
#   BENCH_EX5_SAVE=1 (or BENCH_SAVE=1) also update the shipped data (bench/results/ex5_window.csv,
#                             ex5_congestion.csv, ex5_cwnd.dat); by default everything
#                             goes to build/bench/ and no tracked file changes
#
# Goals (ratios measured in the same run): stop-and-wait within 1.3x of
# chunk / RTT; --janela 16 at least 4x stop-and-wait; the largest window at
# least 0.7x the link's capacity. Congestion: with control, at most 1.3x the
# best fixed window's time and drops at most 10% of the file's datagrams; the
# largest fixed window at least 3x slower than control.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh  # the exit trap, shared with the other scripts
KIB=${BENCH_EX5_KIB:-1024}
RATE=${BENCH_EX5_RATE:-4000000}
WINDOWS=${BENCH_EX5_WINDOWS:-1 2 4 8 16 32 64}
BOTTLENECK=${BENCH_EX5_BOTTLENECK:-2000000}
CC_WINDOWS=${BENCH_EX5_CC_WINDOWS:-16 64 256}
CHUNK=1024 DELAY_US=5000 QUEUE=131072 CC_QUEUE=16

tmp=${BENCH_DIR:-$( [ -d /dev/shm ] && [ -w /dev/shm ] && echo /dev/shm || echo "${TMPDIR:-/tmp}")}
work=$(mktemp -d "$tmp/lab-bench-ex5-XXXXXX")
pids=()
lab_on_exit  # on exit, Ctrl+C or error: the servers in $pids stop, $work goes (scripts/lib.sh)

mkdir -p build/bench
[ build/bench/ex5_relay -nt bench/ex5_relay.cpp ] && [ build/bench/ex5_relay -nt tests/udp_relay.h ] ||
    ${CXX:-g++} -std=c++17 -O2 -Wall -Wextra -Werror -pthread -o build/bench/ex5_relay bench/ex5_relay.cpp

echo "== ex5: ${KIB} KiB over a link with a 10 ms round trip, by window (reliable mode, chunk $CHUNK) =="
mkdir -p "$work/srv" "$work/dl"
head -c "$((KIB * 1024))" /dev/urandom >"$work/srv/data.bin"

# The link alone: its capacity and its round trip, measured now.
read -r capacity rtt < <(build/bench/ex5_relay measure "$RATE" "$DELAY_US" "$QUEUE" $((CHUNK + 8)) |
    sed 's/capacity_MBps=\([0-9.]*\) rtt_ms=\([0-9.]*\)/\1 \2/')

# The server (on a free UDP port: it prints Aguardando once bound) and the relay in front of it.
for _ in 1 2 3 4 5 6 7 8 9 10; do
    port=$((20000 + RANDOM % 40000))
    ex5_udp/server 127.0.0.1 "$port" --quiet --chunk "$CHUNK" --dir "$work/srv" >"$work/server.log" 2>&1 &
    spid=$!
    pids+=("$spid")
    for _ in $(seq 100); do grep -qs Aguardando "$work/server.log" && break; kill -0 "$spid" 2>/dev/null || break; sleep 0.05; done
    grep -q Aguardando "$work/server.log" && break
done
grep -q Aguardando "$work/server.log" || { echo "could not start ex5_udp/server" >&2; exit 1; }
build/bench/ex5_relay run "$port" "$RATE" "$DELAY_US" "$QUEUE" >"$work/relay.log" 2>&1 &
rpid=$!
pids+=("$rpid")
for _ in $(seq 100); do grep -qs porta "$work/relay.log" && break; sleep 0.05; done
relay=$(sed -n 's/^porta //p' "$work/relay.log")

printf '  link: capacity %s MB/s (set to %s), round trip %s ms\n' "$capacity" \
    "$(awk -v r="$RATE" 'BEGIN { printf "%.1f", r / 1e6 }')" "$rtt"
printf '  %6s %12s %12s %9s\n' window "MB/s" "bound MB/s" "of bound"
csv=""
declare -A rate
for n in $WINDOWS; do
    mode=(--janela "$n" --sem-controle)
    [ "$n" = 1 ] && mode=(--confiavel)
    rm -f "$work/dl/"*
    line=$(ex5_udp/client 127.0.0.1 "$relay" data.bin --dir "$work/dl" "${mode[@]}" | grep "Download concluído") ||
        { echo "  window $n: the download failed" >&2; exit 1; }
    cmp -s "$work/dl/data.bin" "$work/srv/data.bin" || { echo "  window $n: the file differs" >&2; exit 1; }
    # "Download concluído: ... (B bytes em S s, M MB/s)": MB/s from B and S.
    mbs=$(sed 's/.*(\([0-9]*\) bytes em \([0-9.]*\) s.*/\1 \2/' <<<"$line" | awk '{ printf "%.3f", $1 / $2 / 1e6 }')
    bound=$(awk -v n="$n" -v c="$CHUNK" -v t="$rtt" -v cap="$capacity" \
        'BEGIN { b = n * c / (t / 1000) / 1e6; if (cap < b) b = cap; printf "%.3f", b }')
    rate[$n]=$mbs
    printf '  %6s %12s %12s %8.2fx\n' "$n" "$mbs" "$bound" "$(awk -v a="$mbs" -v b="$bound" 'BEGIN { print a / b }')"
    csv+="$n,$mbs,$bound"$'\n'
done

kill "$rpid" 2>/dev/null || true
wait "$rpid" 2>/dev/null || true
sed -n 's/^relay: /  relay, all windows: /p' "$work/relay.log"  # what the link's queue dropped
first=${WINDOWS%% *} last=${WINDOWS##* }
goal() {  # goal <text> <value> <threshold>: met when value >= threshold
    awk -v t="$1" -v v="$2" -v g="$3" 'BEGIN { printf "  %-52s %.2f (goal >= %.2f): %s\n", t, v, g, (v >= g ? "met" : "MISSED") }'
}
if [ "$first" = 1 ]; then
    goal "stop-and-wait / (chunk / RTT)" \
        "$(awk -v a="${rate[1]}" -v c="$CHUNK" -v t="$rtt" 'BEGIN { print a / (c / (t / 1000) / 1e6) }')" \
        "$(awk 'BEGIN { print 1 / 1.3 }')"
    [ -n "${rate[16]:-}" ] && goal "--janela 16 / stop-and-wait" "$(awk -v a="${rate[16]}" -v b="${rate[1]}" 'BEGIN { print a / b }')" 4
fi
goal "--janela $last / link capacity" "$(awk -v a="${rate[$last]}" -v b="$capacity" 'BEGIN { print a / b }')" 0.7

# The CSV, with the date and the machine, for the figures.
machine="$(date -u '+%Y-%m-%d %H:%M UTC'); $(uname -srm); $(nproc) CPUs; $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
save() {  # save <file in build/bench>: into bench/results/ too, with BENCH_EX5_SAVE=1
    if [ "${BENCH_EX5_SAVE:-${BENCH_SAVE:-0}}" = 1 ]; then
        mkdir -p bench/results
        cp "build/bench/$1" "bench/results/$1"
        echo "  (saved: bench/results/$1)"
    fi
}
out=build/bench/ex5_window.csv
{
    echo "# ex5 (UDP, reliable mode, fixed window): throughput against window; ${KIB} KiB, chunk $CHUNK, bench/ex5.sh"
    echo "# link: $DELAY_US us each way, capacity $capacity MB/s (set to $RATE B/s), round trip $rtt ms"
    echo "# $machine"
    echo "window,throughput_MBps,bound_MBps"
    printf '%s' "$csv"
} >"$out"
echo "  (CSV: $out)"
[ "$KIB" = 1024 ] && [ "$WINDOWS" = "1 2 4 8 16 32 64" ] && save ex5_window.csv
[ "$BOTTLENECK" = 0 ] && exit 0

# ---- part 2: congestion through a bottleneck --------------------------------
# start_server <log> [options]: ex5's server on a free UDP port ($port), its pid in $spid.
start_server() {
    local log=$1
    shift
    for _ in 1 2 3 4 5 6 7 8 9 10; do
        port=$((20000 + RANDOM % 40000))
        ex5_udp/server 127.0.0.1 "$port" --quiet --chunk "$CHUNK" --dir "$work/srv" "$@" >"$log" 2>&1 &
        spid=$!
        pids+=("$spid")
        for _ in $(seq 100); do grep -qs Aguardando "$log" && break; kill -0 "$spid" 2>/dev/null || break; sleep 0.05; done
        grep -q Aguardando "$log" && return 0
    done
    echo "could not start ex5_udp/server" >&2
    exit 1
}
# one_run <label> <client options...>: a fresh server and relay; sets seconds, dropped, forwarded, resent.
one_run() {
    local label=$1
    shift
    start_server "$work/cc-$label.log" --rtt
    build/bench/ex5_relay run "$port" "$BOTTLENECK" "$DELAY_US" 100000000 "$CC_QUEUE" >"$work/relay-$label.log" 2>&1 &
    local relay_pid=$!
    pids+=("$relay_pid")
    for _ in $(seq 100); do grep -qs porta "$work/relay-$label.log" && break; sleep 0.05; done
    local relay_port
    relay_port=$(sed -n 's/^porta //p' "$work/relay-$label.log")
    rm -f "$work/dl/"*
    timeout 300 ex5_udp/client 127.0.0.1 "$relay_port" data.bin --dir "$work/dl" "$@" >"$work/client-$label.log" ||
        { echo "  $label: the download failed" >&2; cat "$work/client-$label.log" >&2; exit 1; }
    cmp -s "$work/dl/data.bin" "$work/srv/data.bin" || { echo "  $label: the file differs" >&2; exit 1; }
    kill "$relay_pid" "$spid" 2>/dev/null || true
    wait "$relay_pid" "$spid" 2>/dev/null || true
    seconds=$(sed -n 's/.*(\([0-9]*\) bytes em \([0-9.]*\) s.*/\2/p' "$work/client-$label.log")
    read -r forwarded dropped < <(sed -n 's/^relay: server->client \([0-9]*\) delivered, \([0-9]*\) dropped.*/\1 \2/p' \
        "$work/relay-$label.log")
    resent=$(sed -n 's/^Enviados [0-9]* datagramas (\([0-9]*\) reenvios).*/\1/p' "$work/cc-$label.log")
}

datagrams=$(( (KIB * 1024 + CHUNK - 1) / CHUNK ))
printf '\n== ex5: congestion: %s KiB through a bottleneck of %s MB/s, a %s-datagram drop-tail queue, 10 ms round trip ==\n' \
    "$KIB" "$(awk -v r="$BOTTLENECK" 'BEGIN { printf "%.1f", r / 1e6 }')" "$CC_QUEUE"
printf '  %-28s %8s %8s %10s %10s %9s\n' mode seconds "MB/s" dropped forwarded resends
cc_csv=""
declare -A took drops
for n in $CC_WINDOWS; do
    for kind in fixa controle; do
        mode=(--janela "$n")
        [ "$kind" = fixa ] && mode+=(--sem-controle)
        one_run "$kind-$n" "${mode[@]}"
        took[$kind-$n]=$seconds drops[$kind-$n]=$dropped
        printf '  %-28s %8s %8.2f %10s %10s %9s\n' "${mode[*]}" "$seconds" \
            "$(awk -v s="$seconds" -v k="$KIB" 'BEGIN { print k * 1024 / s / 1e6 }')" "$dropped" "$forwarded" "$resent"
        cc_csv+="$n,$kind,$seconds,$dropped,$forwarded,$resent"$'\n'
    done
done
first=${CC_WINDOWS%% *} last=${CC_WINDOWS##* }
best=$(for n in $CC_WINDOWS; do echo "${took[fixa-$n]}"; done | sort -g | head -1)
goal_at_most() {  # goal_at_most <text> <value> <threshold>: met when value <= threshold
    awk -v t="$1" -v v="$2" -v g="$3" 'BEGIN { printf "  %-52s %.2f (goal <= %.2f): %s\n", t, v, g, (v <= g ? "met" : "MISSED") }'
}
goal_at_most "control ($last) / best fixed window, time" "$(awk -v a="${took[controle-$last]}" -v b="$best" 'BEGIN { print a / b }')" 1.3
goal_at_most "control ($last): dropped / the file's datagrams" "$(awk -v a="${drops[controle-$last]}" -v b="$datagrams" 'BEGIN { print a / b }')" 0.10
goal "fixed $last / control ($last), time" "$(awk -v a="${took[fixa-$last]}" -v b="${took[controle-$last]}" 'BEGIN { print a / b }')" 3
{
    echo "# ex5 (UDP, reliable mode) through a bottleneck: ${KIB} KiB, chunk $CHUNK, bench/ex5.sh"
    echo "# bottleneck $BOTTLENECK B/s, drop-tail queue $CC_QUEUE datagrams, $DELAY_US us each way"
    echo "# $machine"
    echo "window,mode,seconds,dropped,forwarded,resent"
    printf '%s' "$cc_csv"
} >build/bench/ex5_congestion.csv
echo "  (CSV: build/bench/ex5_congestion.csv)"
# The server's --rtt trace of the controlled run with the largest window: one row per ACK,
# timeout and third duplicate ACK (time, cwnd, ssthresh, in flight after it, RTO).
{
    echo "# ex5: the server's --rtt trace, --janela $last with congestion control, through the bottleneck above"
    echo "# $machine"
    echo "# seconds cwnd ssthresh flight rto_ms event"
    sed -n -E 's/^[^ ]*: (ACK [0-9]+|tempo esgotado|3 ACKs repetidos) em ([0-9.]+) s.*cwnd ([0-9.]+), ssthresh ([0-9.]+), em voo ([0-9]+), RTO ([0-9]+) ms.*/\2 \3 \4 \5 \6 \1/p' \
        "$work/cc-controle-$last.log" | sed -E 's/ ACK [0-9]+$/ ack/; s/ tempo esgotado$/ timeout/; s/ 3 ACKs repetidos$/ dupack3/'
} >build/bench/ex5_cwnd.dat
echo "  (trace: build/bench/ex5_cwnd.dat, $(grep -c ' timeout$' build/bench/ex5_cwnd.dat) timeouts, $(grep -c ' dupack3$' build/bench/ex5_cwnd.dat) fast resends)"
save ex5_congestion.csv
save ex5_cwnd.dat
