#!/usr/bin/env bash
# make samples: record the sample captures shipped in captures/ (ex1, ex2,
# ex3, ex4 on loopback, ex3-veth on the two-host link; ex5 on loopback and
# ex5-confiavel-perda on the two-host link with loss), on port 8000 so that the
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
# tests/sample_captures.cpp checks the recorded files against what the
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
