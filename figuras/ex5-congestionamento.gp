# ex5: time and drops against the window, fixed (--sem-controle) against
# controlled (--janela N), through the bench's bottleneck (bench/ex5.sh).
# Data: bench/results/ex5_congestion.csv (window,mode,seconds,dropped,forwarded,resent).
# Variables (gnuplot -e): data, out, when.
set terminal pngcairo size 1000, 480 font "DejaVu Sans,10"
set output out
set encoding utf8
set termoption noenhanced
set datafile separator ","
set multiplot layout 1, 2 title "Exemplo 5: 1 MiB por um gargalo de 2 MB/s, fila de 16 datagramas, RTT 10 ms\n" . when
set logscale x 2
set xrange [12:340]
set xtics (16, 64, 256)
set xlabel "janela N (--janela N)"
set grid lc rgb "#dddddd"
set key top left box opaque
# The two modes side by side: fixed a little to the left of N, controlled a
# little to the right (at N = 16 they almost coincide, 0.75 s against 0.77 s).
left(n) = n / 1.08
right(n) = n * 1.08
set logscale y 10
set title "tempo da transferência"
set ylabel "segundos"
plot data using (left($1)):(strcol(2) eq "fixa" ? $3 : 1/0) with points pt 7 ps 1.5 lc rgb "#cc3311" title "janela fixa (--sem-controle)", \
     data using (right($1)):(strcol(2) eq "controle" ? $3 : 1/0) with points pt 5 ps 1.2 lc rgb "#0055aa" title "com controle de congestionamento"
set title "datagramas descartados na fila"
set ylabel "datagramas (escala log; 0 fica de fora)"
plot data using (left($1)):(strcol(2) eq "fixa" && $4 > 0 ? $4 : 1/0) with points pt 7 ps 1.5 lc rgb "#cc3311" title "janela fixa (--sem-controle)", \
     data using (right($1)):(strcol(2) eq "controle" && $4 > 0 ? $4 : 1/0) with points pt 5 ps 1.2 lc rgb "#0055aa" title "com controle de congestionamento"
unset multiplot
