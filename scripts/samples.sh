#!/usr/bin/env bash
# make samples: record the sample captures shipped in captures/ (ex1, ex2,
# ex3, ex4 on loopback, ex3-veth on the two-host link; ex5 on loopback,
# ex5-confiavel-perda on the two-host link with loss, and ex5-controle through
# the bench's bottleneck), on port 8000 so that the
# guide's own filter `tcp.port == 8000` works; ex6 (Modbus/TCP) on 1502, the
# port its README tells Wireshark (-o mbtcp.tcp.port:1502). Root only.
# SAMPLES="ex6" records only the ones listed (default: all); "perda" is the
# lossy-link pair captures/perda-{colega,casa}.pcapng (make redes CENARIO=perda);
# "congestionamento" the bottleneck runs (make redes CENARIO=congestionamento).
#
# Port 8000 on this machine's loopback may be taken (a student's server, a
# colleague's), so the loopback ones are recorded inside a network namespace
# of their own: it has its own `lo`, identical to the machine's, and its own
# ports. The namespace is removed on exit, Ctrl+C or failure.
# tests/shipped_captures.cpp checks the recorded files against what the
# programs send today (it needs no root: it only reads them).
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "make samples precisa de root (sudo make samples)" >&2; exit 1; }

. scripts/lib.sh
ns="lab-samples-$$"
work=$(mktemp -d)
delete_namespace() { ip netns del "$ns" 2>/dev/null || true; }
lab_on_exit delete_namespace

want() { [ -z "${SAMPLES:-}" ] || [[ " $SAMPLES " == *" $1 "* ]]; }
ip netns add "$ns"
ip -n "$ns" link set lo up
for ex in ex1 ex2 ex3; do
    want "$ex" || continue
    ip netns exec "$ns" env EX="$ex" LAB_PORT=8000 CAPTURE_DIR="$work" scripts/capture.sh
    cp "$work/$ex.pcapng" "captures/$ex.pcapng"
done
# ex4 (the key exchange), on loopback like ex2: its server uses the
# servidor.chave beside it (made on its first run), so the sample's public
# key is that file's.
if want ex4; then
    ip netns exec "$ns" env EX=ex4 LAB_PORT=8000 CAPTURE_DIR="$work" scripts/capture.sh
    cp "$work/ex4.pcapng" captures/ex4.pcapng
fi
# The two-host one: capture.sh makes its own two namespaces.
if want ex3-veth; then
    EX=ex3 NET=veth LAB_PORT=8000 CAPTURE_DIR="$work/veth" scripts/capture.sh
    cp "$work/veth/ex3.pcapng" captures/ex3-veth.pcapng
fi
# ex5 (UDP): the plain mode on the namespace's loopback, and --confiavel on the
# two-host link with 10% of the server's datagrams dropped on the client's side.
if want ex5; then
    ip netns exec "$ns" env EX=ex5 LAB_PORT=8000 CAPTURE_DIR="$work/ex5" scripts/capture.sh
    cp "$work/ex5/ex5.pcapng" captures/ex5.pcapng
fi
if want ex5-confiavel-perda; then
    EX=ex5 NET=veth MODO=confiavel PERDA=10 LAB_PORT=8000 CAPTURE_DIR="$work/ex5-perda" scripts/capture.sh
    cp "$work/ex5-perda/ex5.pcapng" captures/ex5-confiavel-perda.pcapng
fi
# ex5-controle: gato.jpg with congestion control (--janela 256) through the
# bench's bottleneck (bench/ex5_relay: 2 MB/s towards the client, a drop-tail
# queue of 16 datagrams, 5 ms each way), all on the namespace's loopback. Only
# the server's port is captured: what the server sent (the relay drops some
# afterwards) and the ACKs that came back. The server's --rtt trace goes beside
# it (captures/ex5-controle-rtt.txt): cwnd, ssthresh and RTO at each ACK.
if want ex5-controle; then
    mkdir -p build/bench
    [ build/bench/ex5_relay -nt bench/ex5_relay.cpp ] && [ build/bench/ex5_relay -nt tests/udp_relay.h ] ||
        ${CXX:-g++} -std=c++17 -O2 -Wall -Wextra -Werror -pthread -o build/bench/ex5_relay bench/ex5_relay.cpp
    in_ns=(ip netns exec "$ns")
    # (ip netns exec runs the program in its own process: $! is the program's pid)
    "${in_ns[@]}" ex5_udp/server 127.0.0.1 8000 --quiet --rtt --dir ex3_files/imagens >"$work/ex5c-server.txt" 2>&1 &
    server_pid=$!
    "${in_ns[@]}" build/bench/ex5_relay run 8000 2000000 5000 100000000 16 >"$work/ex5c-relay.txt" 2>&1 &
    relay_pid=$!
    for _ in $(seq 100); do grep -qs porta "$work/ex5c-relay.txt" && grep -qs Aguardando "$work/ex5c-server.txt" && break; sleep 0.05; done
    relay_port=$(sed -n 's/^porta //p' "$work/ex5c-relay.txt")
    "${in_ns[@]}" tcpdump -i lo -U -w "$work/ex5c.pcap" "udp port 8000" 2>/dev/null &
    tcpdump_pid=$!
    sleep 1
    "${in_ns[@]}" timeout 60 ex5_udp/client 127.0.0.1 "$relay_port" gato.jpg --dir "$work/ex5c-dl" --janela 256
    cmp "$work/ex5c-dl/gato.jpg" ex3_files/imagens/gato.jpg
    sleep 0.5
    kill -INT "$tcpdump_pid"
    wait "$tcpdump_pid" || true
    kill "$relay_pid" "$server_pid" 2>/dev/null || true
    wait "$relay_pid" "$server_pid" 2>/dev/null || true
    tshark -r "$work/ex5c.pcap" -F pcapng -w captures/ex5-controle.pcapng 2>/dev/null
    grep -v '^Iniciando\|^Aguardando' "$work/ex5c-server.txt" >captures/ex5-controle-rtt.txt
    cat "$work/ex5c-relay.txt"
fi
if want ex6; then
    ip netns exec "$ns" env EX=ex6 LAB_PORT=1502 CAPTURE_DIR="$work" scripts/capture.sh
    cp "$work/ex6.pcapng" captures/ex6.pcapng
fi
if want perda; then
    # The lossy-link pair (docs): the perda scenario of the networks lab, both
    # sides of the router. Its losses are drawn at random: recording it again
    # changes the figures PROFESSOR.md quotes (exercise_answers then says which).
    # The exercises (redes/README.md, 4, 8, 9, 14) need one resend by the
    # retransmission timer: record again (up to 10 times) until the sender's
    # side has exactly one resend >= 150 ms after the previous send.
    for try in 1 2 3 4 5 6 7 8 9 10; do
        CENARIO=perda CAPTURE_DIR="$work/perda" redes/redes.sh >"$work/perda.txt"
        rto=$(tshark -r "$work/perda/redes-perda-colega.pcapng" -Y "tcp.srcport == 8000 && tcp.len > 0" \
                  -T fields -e frame.time_relative -e tcp.seq 2>/dev/null |
              awk '{ if (($2 in last) && $1 - last[$2] > 0.15) n++; last[$2] = $1 } END { print n + 0 }')
        echo "perda, tentativa $try: $rto reenvio(s) pelo temporizador"
        [ "$rto" = 1 ] && break
    done
    cp "$work/perda/redes-perda-colega.pcapng" captures/perda-colega.pcapng
    cp "$work/perda/redes-perda-casa.pcapng" captures/perda-casa.pcapng
fi
if want congestionamento; then
    # The bottleneck scenario (redes/README.md): the ss samples of each
    # algorithm's run (figuras/dados/congestionamento-*.csv, drawn by make
    # figuras) and the Reno run's capture, headers only, gzip-compressed
    # (Wireshark and tshark open it as it is).
    CENARIO=congestionamento CAPTURE_DIR="$work/cc" redes/redes.sh >"$work/cc.txt"
    for alg in reno cubic bbr; do
        cp "$work/cc/redes-congestionamento-$alg.csv" "figuras/dados/congestionamento-$alg.csv"
    done
    gzip -9n <"$work/cc/redes-congestionamento-reno.pcapng" >captures/congestionamento-reno.pcapng.gz
    sed -n '/^>> Resumo/,/^Repare/p' "$work/cc.txt"
fi
ls -l captures/*.pcapng*
