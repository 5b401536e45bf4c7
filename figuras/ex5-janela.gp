# ex5: throughput against the window, beside the bound window / RTT.
# Data: bench/results/ex5_window.csv (window,throughput_MBps,bound_MBps),
# written by ex5's bench. Variables (gnuplot -e): data, out, when.
set terminal pngcairo size 900, 520 font "DejaVu Sans,10"
set output out
set datafile separator ","
set encoding utf8
set termoption noenhanced
set title "Exemplo 5: vazão × janela\n" . when
set logscale x 2
set xlabel "janela N (datagramas em voo, --janela N)"
set ylabel "MB/s"
set grid lc rgb "#dddddd"
set key top left box opaque
plot data using 1:2 every ::1 with linespoints lw 2 pt 7 lc rgb "#0055aa" title "medido", \
     data using 1:3 every ::1 with lines lw 1.5 dt 2 lc rgb "#cc3311" title "limite: min(N × 1024 / RTT, capacidade do relay)"
