#!/usr/bin/env bash
# make bench, ex5: throughput of ex5's reliable mode against its window, for
# one file over a link with a 10 ms round trip (the tests' UDP relay,
# bench/ex5_relay.cpp: 5 ms each way, the server->client direction limited to
# BENCH_EX5_RATE bytes/s with a 128 KiB queue). Each point is printed beside
# its bound, min(N x chunk / RTT, the link's capacity), both measured in the
# same run; the CSV goes to bench/results/ex5_window.csv (the default size;
# other sizes to build/bench/) for the figures.
#
#   BENCH_EX5_KIB=1024        size of the file (KiB)
#   BENCH_EX5_RATE=4000000    the link's capacity, bytes/s
#   BENCH_EX5_WINDOWS="1 2 4 8 16 32 64"
#
# Goals: stop-and-wait within 1.3x of chunk / RTT; --janela 16 at least 4x
# stop-and-wait; the largest window at least 0.7x the link's capacity.
set -euo pipefail
cd "$(dirname "$0")/.."
KIB=${BENCH_EX5_KIB:-1024}
RATE=${BENCH_EX5_RATE:-4000000}
WINDOWS=${BENCH_EX5_WINDOWS:-1 2 4 8 16 32 64}
CHUNK=1024 DELAY_US=5000 QUEUE=131072

tmp=${BENCH_DIR:-$( [ -d /dev/shm ] && [ -w /dev/shm ] && echo /dev/shm || echo "${TMPDIR:-/tmp}")}
work=$(mktemp -d "$tmp/lab-bench-ex5-XXXXXX")
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

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
    for _ in $(seq 100); do grep -q Aguardando "$work/server.log" && break; kill -0 "$spid" 2>/dev/null || break; sleep 0.05; done
    grep -q Aguardando "$work/server.log" && break
done
grep -q Aguardando "$work/server.log" || { echo "could not start ex5_udp/server" >&2; exit 1; }
build/bench/ex5_relay run "$port" "$RATE" "$DELAY_US" "$QUEUE" >"$work/relay.log" 2>&1 &
rpid=$!
pids+=("$rpid")
for _ in $(seq 100); do grep -q porta "$work/relay.log" && break; sleep 0.05; done
relay=$(sed -n 's/^porta //p' "$work/relay.log")

printf '  link: capacity %s MB/s (set to %s), round trip %s ms\n' "$capacity" \
    "$(awk -v r="$RATE" 'BEGIN { printf "%.1f", r / 1e6 }')" "$rtt"
printf '  %6s %12s %12s %9s\n' window "MB/s" "bound MB/s" "of bound"
csv=""
declare -A rate
for n in $WINDOWS; do
    mode=(--janela "$n")
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
out=build/bench/ex5_window.csv
[ "$KIB" = 1024 ] && [ "$WINDOWS" = "1 2 4 8 16 32 64" ] && { mkdir -p bench/results; out=bench/results/ex5_window.csv; }
{
    echo "# ex5 (UDP, reliable mode): throughput against window; ${KIB} KiB, chunk $CHUNK, bench/ex5.sh"
    echo "# link: $DELAY_US us each way, capacity $capacity MB/s (set to $RATE B/s), round trip $rtt ms"
    echo "# $(date -u '+%Y-%m-%d %H:%M UTC'); $(uname -srm); $(nproc) CPUs; $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
    echo "window,throughput_MBps,bound_MBps"
    printf '%s' "$csv"
} >"$out"
echo "  (CSV: $out)"
