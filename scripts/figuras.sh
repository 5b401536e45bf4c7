#!/usr/bin/env bash
# make figuras: the pictures of the guides, drawn by gnuplot from real data.
#
#   - figuras/ladder-<ex>.png: the sequence (ladder) diagram of each example's
#     conversation, one arrow per frame of its shipped capture captures/<ex>.pcapng;
#   - figuras/perda-tempo-seq.png: the time-sequence graph of the lossy link
#     (captures/perda-colega.pcapng), lost originals and resends marked;
#   - figuras/congestionamento-{cwnd,rtt,tempo-seq}.png: the bottleneck scenario
#     (make redes CENARIO=congestionamento): cwnd/ssthresh and RTT of reno, cubic
#     and bbr from the ss samples in figuras/dados/congestionamento-*.csv, and
#     the Reno run's time-sequence graph (captures/congestionamento-reno.pcapng.gz);
#   - figuras/ex3-chunk.png, figuras/chat-clientes.png, figuras/ex5-janela.png:
#     the bench curves, from the CSVs `make bench` writes in bench/results/
#     (each skipped, with a message, while its CSV does not exist);
#   - figuras/ex5-cwnd.png (cwnd and ssthresh against time, from the server's
#     --rtt trace bench/results/ex5_cwnd.dat) and figuras/ex5-congestionamento.png
#     (time and drops against the window, fixed against controlled, from
#     bench/results/ex5_congestion.csv): ex5's congestion bench
#     (BENCH_EX5_SAVE=1 bench/ex5.sh writes both files).
#
# The data behind each capture picture is written first to figuras/dados/*.dat
# (plain text, one row per frame, read with tshark): tests/figure_data.cpp
# runs `scripts/figuras.sh --dados DIR` and fails when it differs from the
# committed figuras/dados/. Why gnuplot: one Debian package (gnuplot-nox),
# no Python stack, and the plot files (figuras/*.gp) read in minutes.
#
#   scripts/figuras.sh              data and PNGs (needs tshark and gnuplot)
#   scripts/figuras.sh --dados DIR  only the capture data, into DIR (tshark)
set -euo pipefail
cd "$(dirname "$0")/.."
out=figuras/dados
only_data=0
if [ "${1:-}" = --dados ]; then
    [ -n "${2:-}" ] || { echo "uso: scripts/figuras.sh [--dados PASTA]" >&2; exit 2; }
    out=$2 only_data=1
elif [ $# -gt 0 ]; then
    echo "uso: scripts/figuras.sh [--dados PASTA]" >&2
    exit 2
fi
. scripts/lib.sh
lab_need figuras tshark
mkdir -p "$out"
export LC_ALL=C.UTF-8

# ladder <ex> [port]: captures/<ex>.pcapng -> <out>/ladder-<ex>.dat, one row
# per frame:   frame  from  to  label
# from/to are columns: the server (port 8000, or [port]: ex6 uses 1502) is 1, the first client 0, the
# second client 2 (ex1, ex2: two clients). The label is what Wireshark's Info
# column says, shortened: flags, and Seq/Ack/Len (relative numbers); on ex6's
# Modbus frames, then the function (or the exception) the frame carries.
ladder() {
    local ex=$1 port=${2:-8000} decode=()
    # ex6: Wireshark decodes Modbus/TCP on 502 only; elsewhere the fields stay empty.
    [ "$ex" = ex6 ] && decode=(-o "mbtcp.tcp.port:$port")
    tshark -r "captures/$ex.pcapng" "${decode[@]}" -T fields -E separator=/t -e frame.number -e tcp.srcport \
        -e tcp.dstport -e tcp.flags.syn -e tcp.flags.ack -e tcp.flags.fin -e tcp.flags.push \
        -e tcp.flags.reset -e tcp.seq -e tcp.ack -e tcp.len -e modbus.func_code -e modbus.exception_code 2>/dev/null |
        awk -F'\t' -v OFS='\t' -v server="$port" '
        function col(port) {
            if (port == server) return 1
            if (!(port in client)) client[port] = clients++ ? 2 : 0
            return client[port]
        }
        BEGIN {
            clients = 0; print "# frame\tfrom\tto\tlabel (captures/'"$ex"'.pcapng, scripts/figuras.sh)"
            name[1] = "Read Coils"; name[2] = "Read Discrete Inputs"; name[3] = "Read Holding Registers"
            name[4] = "Read Input Registers"; name[5] = "Write Single Coil"; name[6] = "Write Single Register"
            name[15] = "Write Multiple Coils"; name[16] = "Write Multiple Registers"
            exception[1] = "Illegal function"; exception[2] = "Illegal data address"; exception[3] = "Illegal data value"
        }
        {
            f = ""
            if ($4 == 1) f = f ",SYN"
            if ($6 == 1) f = f ",FIN"
            if ($8 == 1) f = f ",RST"
            if ($7 == 1) f = f ",PSH"
            if ($5 == 1) f = f ",ACK"
            label = substr(f, 2) "  Seq=" $9 (($5 == 1) ? " Ack=" $10 : "") (($11 > 0) ? " Len=" $11 : "")
            if ($12 != "") {  # Modbus: a request to the server, or its reply
                what = ($3 == server) ? "pedido" : "resposta"
                if ($13 != "") label = label "  · " what ": exceção " sprintf("%02d", $13) " (" exception[$13 + 0] ")"
                else label = label "  · " what ": " name[$12 + 0] " (" $12 ")"
            }
            print $1, col($2), col($3), label
        }' >"$out/ladder-$ex.dat"
}

# The time-sequence graph: every data segment the sender sent, as a bar from
# its first to its last byte, and the receiver's ACKs:
#   kind  time_ms  seq  nxtseq  mark
# kind "dado" (sent once), "perdido" (an original sent again later: the
# router or the queue dropped it), "reenvio" (a resend, the last one),
# "reenvio-perdido" (a resend sent again later); "ack": seq is the ACK number
# and nxtseq the right edge of the advertised window (Ack + Win); mark is the
# name Wireshark gives the segment (Out-Of-Order, Retransmission, ...) or "-".
# tempo_seq <capture> <sender port> <display filter> <up to ms> <out>
tempo_seq() {
    tshark -r "$1" -Y "$3" -o tcp.calculate_timestamps:TRUE -T fields -E separator=/t -e tcp.time_relative \
        -e tcp.srcport -e tcp.seq -e tcp.nxtseq -e tcp.len -e tcp.ack -e tcp.window_size \
        -e tcp.analysis.fast_retransmission -e tcp.analysis.retransmission -e tcp.analysis.out_of_order 2>/dev/null |
        awk -F'\t' -v OFS='\t' -v port="$2" -v upto="$4" -v from="$1" '
        BEGIN { print "# kind\ttime_ms\tseq\tnxtseq\tmark (" from ", scripts/figuras.sh)" }
        {
            t = $1 * 1000
            if (t > upto) next
            n++; time[n] = sprintf("%.3f", t)
            if ($2 == port && $5 > 0) {
                mark = "-"
                if ($10 != "") mark = "Out-Of-Order"
                if ($9 != "") mark = "Retransmission"
                if ($8 != "") mark = "Fast-Retransmission"
                seq[n] = $3; nxt[n] = $4; what[n] = mark
                sends[$3]++; nth[n] = sends[$3]
            } else if ($2 != port && $6 > 0) {
                seq[n] = "ack"; nxt[n] = $6; what[n] = $6 + $7
            } else n--
        }
        END {
            for (i = 1; i <= n; i++) {
                if (seq[i] == "ack") { print "ack", time[i], nxt[i], what[i], "-"; continue }
                kind = nth[i] == 1 ? "dado" : "reenvio"
                if (nth[i] < sends[seq[i]]) kind = nth[i] == 1 ? "perdido" : "reenvio-perdido"
                print kind, time[i], seq[i], nxt[i], what[i]
            }
        }' >"$5"
}
for ex in ex1 ex2 ex3 ex4 ex6; do
    if [ -f "captures/$ex.pcapng" ]; then
        ladder "$ex" "$([ "$ex" = ex6 ] && echo 1502 || echo 8000)"
    else
        echo "(captures/$ex.pcapng não existe: sem a escada do $ex)" >&2
    fi
done
tempo_seq captures/perda-colega.pcapng 8000 "tcp" 1000000 "$out/perda-tempo-seq.dat"
# The bottleneck's Reno run: the data connection (iperf3's second; the first
# is its control connection), its first 800 ms.
if [ -f captures/congestionamento-reno.pcapng.gz ]; then
    tempo_seq captures/congestionamento-reno.pcapng.gz 5201 "tcp.stream == 1" 800 "$out/congestionamento-tempo-seq.dat"
fi
[ "$only_data" = 1 ] && exit 0

lab_need figuras gnuplot
draw() {  # draw <script.gp> <png> [var=value ...]: gnuplot -e sets the variables
    local gp=$1 png=$2; shift 2
    local vars="out='$png'" v
    for v in "$@"; do vars="$vars; $v"; done
    gnuplot -e "$vars" "$gp"
    echo "figuras: $png"
}
for ex in ex1 ex2 ex3 ex4 ex6; do
    [ -f "$out/ladder-$ex.dat" ] || continue
    n=$(grep -vc '^#' "$out/ladder-$ex.dat")
    cols=$(awk -F'\t' '!/^#/ && ($2 == 2 || $3 == 2) { print 3; exit } END { }' "$out/ladder-$ex.dat")
    # Connections beyond the second share the third column (ex6: three in a row).
    clients=$(tshark -r "captures/$ex.pcapng" -Y "tcp.flags.syn == 1 && tcp.flags.ack == 0" 2>/dev/null | wc -l)
    # ex6: wider, for the Modbus function on each data arrow.
    draw figuras/ladder.gp "figuras/ladder-$ex.png" "data='$out/ladder-$ex.dat'" "frames=$n" "clients=$clients" \
        "columns=${cols:-2}" "title='captures/$ex.pcapng'" "port=$([ "$ex" = ex6 ] && echo 1502 || echo 8000)" \
        $([ "$ex" = ex6 ] && echo "width=1280")
done
draw figuras/perda-tempo-seq.gp figuras/perda-tempo-seq.png "data='$out/perda-tempo-seq.dat'"
# The bottleneck scenario: the ss samples of each algorithm (CSV, from make
# samples) and the Reno run's time-sequence graph.
if [ -f "$out/congestionamento-reno.csv" ]; then
    when=$(sed -n 2p "$out/congestionamento-reno.csv" | sed 's/^# //; s/'"'"'//g')
    draw figuras/congestionamento-cwnd.gp figuras/congestionamento-cwnd.png "dir='$out'" "when='$when'"
    draw figuras/congestionamento-rtt.gp figuras/congestionamento-rtt.png "dir='$out'" "when='$when'"
fi
if [ -f "$out/congestionamento-tempo-seq.dat" ]; then
    draw figuras/congestionamento-tempo-seq.gp figuras/congestionamento-tempo-seq.png \
        "data='$out/congestionamento-tempo-seq.dat'"
fi
# The bench curves: from the CSVs, when make bench has written them.
# subtitle <csv>: when and where the CSV was measured, in Portuguese, for the
# figure's second title line. It reads the first comment line with a date
# ("# measured 2026-12-01 12:59 UTC on vm: Linux ..., 2 cores, CPU" as
# bench/curves.sh writes it, or "# 2026-12-01 12:16 UTC; Linux ...; 2 CPUs; CPU"
# as bench/ex5.sh does), so every CSV gets one.
subtitle() {
    local line
    line=$(grep -m1 -E '^#.*[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2} UTC' "$1" || true)
    [ -n "$line" ] || { echo "(sem data de medição em $1)"; return; }
    printf '%s\n' "$line" | sed -E \
        -e 's/^.*([0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2} UTC) on ([^:]+): */medido em \1 na máquina \2: /' \
        -e 't done' -e 's/^.*([0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2} UTC)[;:,]? */medido em \1: /' -e ': done' \
        -e 's/; /, /g; s/ cores/ núcleos/; s/ CPUs/ núcleos/; s/,$//' -e "s/'//g" | cut -c1-110
}
csv_or_skip() {  # csv_or_skip <csv> <what>: true when the CSV is there
    [ -f "$1" ] && return 0
    echo "($1 não existe: sem a figura $2; make bench (ou bench/curves.sh) a mede)" >&2
    return 1
}
# bench_figure <data> <name> <what>: figuras/<name>.gp draws <data> into figuras/<name>.png,
# with the data's date and machine (subtitle, in Portuguese) under the title.
bench_figure() {
    csv_or_skip "$1" "$3" || return 0
    draw "figuras/$2.gp" "figuras/$2.png" "data='$1'" "when='$(subtitle "$1")'"
}
bench_figure bench/results/ex3_chunk.csv ex3-chunk "MB/s × tamanho do pedaço"
bench_figure bench/results/chat_clients.csv chat-clientes "p99 e memória × clientes"
if [ -f bench/results/ex5_window.csv ]; then
    draw figuras/ex5-janela.gp figuras/ex5-janela.png "data='bench/results/ex5_window.csv'" \
        "when='$(subtitle bench/results/ex5_window.csv)'"
else
    echo "(bench/results/ex5_window.csv não existe: sem a figura vazão × janela do Exemplo 5)" >&2
fi
bench_figure bench/results/ex5_cwnd.dat ex5-cwnd "cwnd × tempo do Exemplo 5"
bench_figure bench/results/ex5_congestion.csv ex5-congestionamento "tempo e descartes × janela do Exemplo 5"
