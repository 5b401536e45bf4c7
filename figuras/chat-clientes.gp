# ex1 chat: p99 delivery latency and the server's memory against the number
# of clients, the thread-per-client server beside an epoll relay (one thread).
# Data: bench/results/chat_clients.csv (bench/curves.sh, from make bench).
# Variables (gnuplot -e): data, out, when.
set terminal pngcairo size 1100, 480 font "DejaVu Sans,10"
set output out
set datafile separator ","
set encoding utf8
set termoption noenhanced
set multiplot layout 1, 2 title "Exemplo 1: o chat com N clientes (loopback)\n" . when
set logscale x 10
set xtics ("10" 10, "100" 100, "1.000" 1000, "10.000" 10000)
set xrange [8 : 12500]
set xlabel "clientes conectados"
set grid lc rgb "#dddddd"
set key top left box opaque
set logscale y 10
set ytics ("10 µs" 1e1, "100 µs" 1e2, "1 ms" 1e3, "10 ms" 1e4, "100 ms" 1e5, "1 s" 1e6, "10 s" 1e7)
set yrange [90 : 1.2e6]
set ylabel "p99 da entrega"
set title "p99: 99% das mensagens chegam a todos em menos que isto"
plot data using 1:2 every ::1 with linespoints lw 2 pt 7 lc rgb "#0055aa" title "ex1_chat/server (uma thread por cliente)", \
     data using 1:4 every ::1 with linespoints lw 2 pt 5 lc rgb "#229944" title "bench/epoll_relay (uma thread, epoll)"
unset logscale y
set ytics autofreq
set yrange [0 : *]
set ylabel "memória do servidor, RSS (MB)"
set title "memória"
plot data using 1:3 every ::1 with linespoints lw 2 pt 7 lc rgb "#0055aa" title "ex1_chat/server", \
     data using 1:5 every ::1 with linespoints lw 2 pt 5 lc rgb "#229944" title "bench/epoll_relay"
unset multiplot
