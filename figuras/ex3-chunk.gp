# ex3: download speed against the bytes per send() (the server's --chunk),
# C++ beside the guide-shaped Python server. Data: bench/results/ex3_chunk.csv
# (bench/curves.sh, from make bench). Variables (gnuplot -e): data, out, when.
set terminal pngcairo size 900, 520 font "DejaVu Sans,10"
set output out
set datafile separator ","
set encoding utf8
set termoption noenhanced
set title "Exemplo 3: velocidade do download × bytes por send() (loopback)\n" . when . \
    "\ncada ponto: o melhor de 3 downloads; numa máquina ocupada, outra execução muda um ponto até 2× (veja o texto)"
set logscale x 2
set xlabel "bytes por send() (--chunk; o guia usa 1024)"
set ylabel "MB/s (melhor de 3 downloads)"
set format x "%.0f"
set xtics ("16" 16, "64" 64, "256" 256, "1 Ki" 1024, "4 Ki" 4096, "16 Ki" 16384, "64 Ki" 65536, "256 Ki" 262144, "1 Mi" 1048576)
set grid lc rgb "#dddddd"
set key top left box opaque
set yrange [0 : *]
plot data using 1:2 every ::1 with linespoints lw 2 pt 7 lc rgb "#0055aa" title "ex3_files/server (C++)", \
     data using 1:3 every ::1 with linespoints lw 2 pt 5 lc rgb "#cc7711" title "bench/py_file_server.py (Python, a forma do guia)"
