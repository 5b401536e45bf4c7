#!/usr/bin/env bash
# make figuras: the pictures of the guides, drawn by gnuplot from real data.
#
#   - figuras/ladder-<ex>.png: the sequence (ladder) diagram of each example's
#     conversation, one arrow per frame of its shipped capture captures/<ex>.pcapng;
#   - figuras/perda-tempo-seq.png: the time-sequence graph of the lossy link
#     (captures/perda-colega.pcapng), resends marked;
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
command -v tshark >/dev/null || { echo "falta o tshark: sudo apt-get install tshark" >&2; exit 1; }
mkdir -p "$out"
export LC_ALL=C.UTF-8

# ladder <ex> [port]: captures/<ex>.pcapng -> <out>/ladder-<ex>.dat, one row
# per frame:   frame  from  to  label
# from/to are columns: the server (port 8000, or [port]: ex6 uses 1502) is 1, the first client 0, the
# second client 2 (ex1, ex2: two clients). The label is what Wireshark's Info
# column says, shortened: flags, and Seq/Ack/Len (relative numbers).
ladder() {
    local ex=$1 port=${2:-8000}
    tshark -r "captures/$ex.pcapng" -T fields -E separator=/t -e frame.number -e tcp.srcport \
        -e tcp.dstport -e tcp.flags.syn -e tcp.flags.ack -e tcp.flags.fin -e tcp.flags.push \
        -e tcp.flags.reset -e tcp.seq -e tcp.ack -e tcp.len 2>/dev/null |
        awk -F'\t' -v OFS='\t' -v server="$port" '
        function col(port) {
            if (port == server) return 1
            if (!(port in client)) client[port] = clients++ ? 2 : 0
            return client[port]
        }
        BEGIN { clients = 0; print "# frame\tfrom\tto\tlabel (captures/'"$ex"'.pcapng, scripts/figuras.sh)" }
        {
            f = ""
            if ($4 == 1) f = f ",SYN"
            if ($6 == 1) f = f ",FIN"
            if ($8 == 1) f = f ",RST"
            if ($7 == 1) f = f ",PSH"
            if ($5 == 1) f = f ",ACK"
            label = substr(f, 2) "  Seq=" $9 (($5 == 1) ? " Ack=" $10 : "") (($11 > 0) ? " Len=" $11 : "")
            print $1, col($2), col($3), label
        }' >"$out/ladder-$ex.dat"
}

# The time-sequence graph: every data segment the sender (the colleague)
# sent, as a bar from its first to its last byte, and the receiver's ACKs:
#   kind  time_ms  seq  nxtseq  mark
# kind "dado" (first time this sequence number is sent), "reenvio" (sent
# before), "ack" (the ACK number, in seq; nxtseq repeats it); mark is the
# name Wireshark gives the segment (Out-Of-Order, Retransmission, ...) or "-".
tempo_seq() {
    tshark -r captures/perda-colega.pcapng -T fields -E separator=/t -e frame.time_relative \
        -e tcp.srcport -e tcp.seq -e tcp.nxtseq -e tcp.len -e tcp.ack -e tcp.analysis.fast_retransmission \
        -e tcp.analysis.retransmission -e tcp.analysis.out_of_order 2>/dev/null |
        awk -F'\t' -v OFS='\t' '
        BEGIN { print "# kind\ttime_ms\tseq\tnxtseq\tmark (captures/perda-colega.pcapng, scripts/figuras.sh)" }
        {
            t = sprintf("%.3f", $1 * 1000)
            if ($2 == 8000 && $5 > 0) {
                mark = "-"
                if ($9 != "") mark = "Out-Of-Order"
                if ($8 != "") mark = "Retransmission"
                if ($7 != "") mark = "Fast-Retransmission"
                print (sent[$3]++ ? "reenvio" : "dado"), t, $3, $4, mark
            } else if ($2 != 8000 && $6 > 0) {
                print "ack", t, $6, $6, "-"
            }
        }' >"$out/perda-tempo-seq.dat"
}

for ex in ex1 ex2 ex3 ex4 ex6; do
    if [ -f "captures/$ex.pcapng" ]; then
        ladder "$ex" "$([ "$ex" = ex6 ] && echo 1502 || echo 8000)"
    else
        echo "(captures/$ex.pcapng não existe: sem a escada do $ex)" >&2
    fi
done
tempo_seq
[ "$only_data" = 1 ] && exit 0

command -v gnuplot >/dev/null || { echo "falta o gnuplot: sudo apt-get install gnuplot-nox" >&2; exit 1; }
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
    draw figuras/ladder.gp "figuras/ladder-$ex.png" "data='$out/ladder-$ex.dat'" "frames=$n" "clients=$clients" \
        "columns=${cols:-2}" "title='captures/$ex.pcapng'" "port=$([ "$ex" = ex6 ] && echo 1502 || echo 8000)"
done
draw figuras/perda-tempo-seq.gp figuras/perda-tempo-seq.png "data='$out/perda-tempo-seq.dat'"
# The bench curves: from the CSVs, when make bench has written them.
csv_or_skip() {  # csv_or_skip <csv> <what>: true when the CSV is there
    [ -f "$1" ] && return 0
    echo "($1 não existe: sem a figura $2; make bench (ou bench/curves.sh) a mede)" >&2
    return 1
}
# bench_figure <data> <line> <name> <what>: figuras/<name>.gp draws <data> into figuras/<name>.png,
# with the data's <line>-th line (the date and the machine) under the title.
bench_figure() {
    csv_or_skip "$1" "$4" || return 0
    draw "figuras/$3.gp" "figuras/$3.png" "data='$1'" \
        "when='$(sed -n "$2p" "$1" | sed 's/^# //; s/'"'"'//g' | cut -c1-90)'"
}
bench_figure bench/results/ex3_chunk.csv 2 ex3-chunk "MB/s × tamanho do pedaço"
bench_figure bench/results/chat_clients.csv 2 chat-clientes "p99 e memória × clientes"
if [ -f bench/results/ex5_window.csv ]; then
    draw figuras/ex5-janela.gp figuras/ex5-janela.png "data='bench/results/ex5_window.csv'" \
        "when='$(grep -m1 '^# measured' bench/results/ex5_window.csv | sed 's/^# //; s/'"'"'//g' | cut -c1-90)'"
else
    echo "(bench/results/ex5_window.csv não existe: sem a figura vazão × janela do Exemplo 5)" >&2
fi
bench_figure bench/results/ex5_cwnd.dat 2 ex5-cwnd "cwnd × tempo do Exemplo 5"
bench_figure bench/results/ex5_congestion.csv 3 ex5-congestionamento "tempo e descartes × janela do Exemplo 5"
