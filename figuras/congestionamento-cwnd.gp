# The congestion window (cwnd) and the slow-start threshold (ssthresh) of one
# TCP flow through the bottleneck of `make redes CENARIO=congestionamento`,
# sampled with `ss -tin` on the sender every ~11 ms, for reno, cubic and bbr
# side by side. The dashed line is the bottleneck's queue in segments: tbf
# counts whole packets, 1448 bytes of data + 66 of headers = 1514, so
# 60 KB / 1514 ≈ 40,6; with a round trip below 0,1 ms the path itself holds
# almost nothing, so the queue is where the window goes.
# Data: figuras/dados/congestionamento-<algoritmo>.csv (make samples).
# Variables (gnuplot -e): dir, when, out.
set terminal pngcairo size 1200, 440 font "DejaVu Sans,10"
set output out
set datafile separator ","
set encoding utf8
set decimalsign ","
# The title on two lines: with the run's description ("when") on the first
# line it is wider than the picture and gnuplot cuts both ends.
set multiplot layout 1, 3 title "cwnd e ssthresh (segmentos) × tempo, um fluxo pelo gargalo\n".when font ",11"
set grid lc rgb "#dddddd"
set xrange [0 : 4]
set yrange [0 : 90]
set xlabel "tempo (s)"
set key top right box opaque font ",9"
fila = 61440.0 / 1514
do for [alg in "reno cubic bbr"] {
    set title alg font ",11"
    # An ssthresh above the y axis (bbr keeps it high) would be in the key but
    # not in the picture: say its value in the key instead.
    stats [*:*][*:*] dir."/congestionamento-".alg.".csv" using 1:3 nooutput
    limiar = (STATS_max_y > 90 ? sprintf("ssthresh (%d, acima da escala)", STATS_max_y) : "ssthresh")
    set ylabel (alg eq "reno" ? "segmentos (de 1448 bytes)" : "")
    plot dir."/congestionamento-".alg.".csv" using 1:2 with lines lw 1.5 lc rgb "#0055aa" title "cwnd", \
         "" using 1:($3 > 0 ? $3 : NaN) with lines lw 1.5 lc rgb "#cc3311" title limiar, \
         fila with lines dt 2 lw 1.2 lc rgb "#555555" title "fila do gargalo (≈ 40,6 pacotes)"
}
unset multiplot
