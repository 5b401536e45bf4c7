# The RTT the sender's kernel estimated (ss -tin "rtt:", the smoothed RTT) for
# the same three runs as congestionamento-cwnd.png: with an empty queue the
# round trip is below 0,1 ms; every millisecond above that is time spent waiting in
# the bottleneck's queue (60 KB at 20 Mbit/s: at most ~25 ms).
# Data: figuras/dados/congestionamento-<algoritmo>.csv. Variables: dir, when, out.
set terminal pngcairo size 1000, 440 font "DejaVu Sans,10"
set output out
set datafile separator ","
set encoding utf8
set decimalsign ","
# Two lines: on one, the run's description makes the title wider than the
# picture and gnuplot cuts both ends.
set title "RTT × tempo, o mesmo fluxo com cada algoritmo\n".when font ",11"
set grid lc rgb "#dddddd"
set xrange [0 : 4]
set yrange [0 : 34]
set xlabel "tempo (s)"
set ylabel "RTT suavizado do kernel (ms)"
set key top center horizontal box opaque font ",9"
plot dir."/congestionamento-reno.csv" using 1:4 with lines lw 1.5 lc rgb "#0055aa" title "reno", \
     dir."/congestionamento-cubic.csv" using 1:4 with lines lw 1.5 lc rgb "#229944" title "cubic", \
     dir."/congestionamento-bbr.csv" using 1:4 with lines lw 1.5 lc rgb "#cc3311" title "bbr", \
     61440.0 * 8 / 20e6 * 1000 with lines dt 2 lc rgb "#555555" title "fila cheia: 60 KB a 20 Mbit/s ≈ 24,6 ms"
