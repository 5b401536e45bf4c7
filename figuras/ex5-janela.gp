# ex5: throughput against the window, beside the bound min(N * 1024 / RTT, C).
# Data: bench/results/ex5_window.csv (window,throughput_MBps,bound_MBps),
# written by ex5's bench. Variables (gnuplot -e): data, out, when.
# The bound is drawn as a continuous curve, so its knee (N = C * RTT / 1024)
# shows between the measured windows. RTT and C come from the CSV's own
# comment ("capacity 3.999 MB/s ..., round trip 10.459 ms"); without it, C is
# the largest bound in the rows and RTT = 1024 / the bound of window 1.
set terminal pngcairo size 900, 520 font "DejaVu Sans,10"
set output out
set datafile separator ","
set encoding utf8
set termoption noenhanced
set decimalsign ","
stats data using 1:3 nooutput
C = STATS_max_y
rtt = 1024 / 1e6 / STATS_min_y
c_text = system(sprintf("sed -n 's/.*capacity \\([0-9.]*\\) MB\\/s.*/\\1/p' '%s' | head -1", data))
r_text = system(sprintf("sed -n 's/.*round trip \\([0-9.]*\\) ms.*/\\1/p' '%s' | head -1", data))
if (strlen(c_text) > 0) C = real(c_text)
if (strlen(r_text) > 0) rtt = real(r_text) / 1000
knee = C * 1e6 * rtt / 1024
bound(n) = (n * 1024 / rtt / 1e6 < C) ? n * 1024 / rtt / 1e6 : C
set title "Exemplo 5: vazão × janela, janela fixa (--sem-controle)\n" . when
set logscale x 2
set xrange [0.8:128]
set yrange [0:C * 1.2]
set samples 1000
set xlabel "janela N (datagramas em voo, --janela N)"
set ylabel "MB/s (10^6 bytes por segundo)"
set grid lc rgb "#dddddd"
set key top left box opaque Left reverse
set arrow from knee, 0 to knee, C nohead dt 3 lc rgb "#888888"
set label sprintf("joelho: N = C × RTT / 1024 ≈ %s", gprintf("%.1f", knee)) at knee / 1.05, C * 0.15 right tc rgb "#555555"
plot bound(x) with lines lw 1.5 dt 2 lc rgb "#cc3311" \
        title sprintf("limite: min(N × 1024 / RTT, C), RTT %s ms", gprintf("%.3f", rtt * 1000)), \
     C with lines lw 1 lc rgb "#888888" title sprintf("capacidade do relay, C = %s MB/s", gprintf("%.3f", C)), \
     data using 1:2 every ::1 with linespoints lw 2 pt 7 lc rgb "#0055aa" title "medido"
