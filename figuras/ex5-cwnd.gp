# ex5: the congestion window against time, from the server's --rtt trace of
# one controlled transfer through the bench's bottleneck (bench/ex5.sh).
# Data: bench/results/ex5_cwnd.dat (seconds cwnd ssthresh flight rto_ms event).
# Variables (gnuplot -e): data, out, when.
set terminal pngcairo size 900, 520 font "DejaVu Sans,10"
set output out
set encoding utf8
set termoption noenhanced
set title "Exemplo 5: janela de congestionamento (cwnd) × tempo, --janela 256 com controle\n" . when
set xlabel "tempo desde o pedido (s)"
set ylabel "datagramas"
set yrange [0:70]
set grid lc rgb "#dddddd"
set key top right box opaque
plot data using 1:2 with steps lw 2 lc rgb "#0055aa" title "cwnd (a cada ACK)", \
     data using 1:($3 > 70 ? 1/0 : $3) with steps lw 1.5 dt 2 lc rgb "#cc3311" title "ssthresh (antes da primeira perda: 256, a janela do cliente)", \
     data using 1:(strcol(6) eq "timeout" ? $2 : 1/0) with points pt 7 ps 1.5 lc rgb "#000000" title "tempo esgotado: cwnd = 1", \
     data using 1:(strcol(6) eq "dupack3" ? $2 : 1/0) with points pt 9 ps 1.5 lc rgb "#228833" title "3 ACKs repetidos: cwnd = ssthresh"
