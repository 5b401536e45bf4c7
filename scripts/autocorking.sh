#!/usr/bin/env bash
# scripts/autocorking.sh [RUNS]: what makes ex3's 98 sends of 1024 bytes
# leave loopback as fewer, bigger segments? Downloads iguana.jpg RUNS times
# (default 10) in each of these settings, capturing each download, and
# prints per run the number of data segments from the server and the sizes
# of those that are not 1024 bytes:
#   1. ex3_files/server, net.ipv4.tcp_autocorking = 1 (Linux's default)
#   2. ex3_files/server, net.ipv4.tcp_autocorking = 0
#   3. the guide's repositorio.py (tests/guide/, indentation repaired), Nagle on (as printed)
#   4. the same with TCP_NODELAY on each accepted socket: Nagle off
# Root only (it captures, and creates a network namespace).
#
# Autocorking is a per-namespace setting: it is changed only inside a
# namespace made for this script, with its own loopback and its own port
# 8000, so the machine's setting and anyone else's traffic are never
# touched; the namespace (and its setting) is removed on exit, Ctrl+C or
# failure.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-10}
[ "$(id -u)" = 0 ] || { echo "precisa de root" >&2; exit 1; }
. scripts/lib.sh
lab_need capture tcpdump tshark
work=$(mktemp -d)
namespaces=()
delete_namespaces() {
    local n
    for n in ${namespaces[@]+"${namespaces[@]}"}; do ip netns del "$n" 2>/dev/null || true; done
}
lab_on_exit delete_namespaces

# run <label> <autocorking> <server command...>: RUNS downloads from that
# server on port 8000, in a fresh namespace (so no TIME_WAIT from the
# previous server keeps the guide's server, which has no SO_REUSEADDR, from
# binding 8000).
run() {
    local label=$1 cork=$2; shift 2
    local ns="lab-cork-$$-${#namespaces[@]}"
    namespaces+=("$ns")
    ip netns add "$ns"
    ip -n "$ns" link set lo up
    local in_ns=(ip netns exec "$ns")  # a prefix, not a function: $! must be the program
    "${in_ns[@]}" sysctl -qw net.ipv4.tcp_autocorking="$cork"
    echo "== $label (tcp_autocorking = $("${in_ns[@]}" sysctl -n net.ipv4.tcp_autocorking))"
    lab_start "$work/server.log" Aguardando "${in_ns[@]}" "$@" ||
        { cat "$work/server.log" >&2; echo "não foi possível iniciar: $*" >&2; exit 1; }
    local server=$lab_pid
    for i in $(seq "$RUNS"); do
        lab_tcpdump_start lo "$work/run.pcap" "tcp port 8000" "${in_ns[@]}" || exit 1
        sleep 0.2
        rm -rf "$work/down" && mkdir "$work/down"
        "${in_ns[@]}" ex3_files/client 127.0.0.1 8000 iguana.jpg --dir "$work/down" >/dev/null || true
        cmp -s "$work/down/iguana.jpg" ex3_files/imagens/iguana.jpg || echo "  ERRO: arquivo diferente"
        sleep 0.3
        lab_tcpdump_stop
        [ "$lab_dropped" = 0 ] || echo "  AVISO: tcpdump perdeu pacotes"
        tshark -r "$work/run.pcap" -Y "tcp.srcport == 8000 && tcp.len > 0 && !tcp.analysis.retransmission" -T fields -e tcp.len 2>/dev/null |
            awk -v i="$i" '{ n++; s += $1; if ($1 == 1024) k++; else other = other " " $1 }
                END { printf "  execução %2d: %2d segmentos (%2d de 1024;%s), %d bytes\n", i, n, k, other, s }'
    done
    lab_stop "$server"
}

echo "máquina: net.ipv4.tcp_autocorking = $(sysctl -n net.ipv4.tcp_autocorking) (não é alterado)"
run "1. ex3_files/server" 1 ex3_files/server 127.0.0.1 8000 --quiet
run "2. ex3_files/server" 0 ex3_files/server 127.0.0.1 8000 --quiet
run "3. repositorio.py do guia, Nagle ligado" 1 \
    python3 -u tests/guide/repositorio.py 8000 ex3_files/imagens
# TCP_NODELAY set on every accepted socket, the guide's code unchanged.
nodelay='import socket, sys, runpy
accept = socket.socket.accept
def accept_nodelay(self):
    conn, address = accept(self)
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return conn, address
socket.socket.accept = accept_nodelay
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")'
run "4. repositorio.py do guia, TCP_NODELAY (Nagle desligado)" 1 \
    python3 -u -c "$nodelay" tests/guide/repositorio.py 8000 ex3_files/imagens
