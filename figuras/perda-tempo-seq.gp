# The time-sequence graph (Stevens / tcptrace) of captures/perda-colega.pcapng:
# each data segment the sender sent is a vertical bar from its first to its
# last byte at the time it left: blue if it arrived, grey with an x if the
# router dropped it (it was sent again later), red with a dot for a resend
# (orange with an x: a resend dropped too). The receiver's ACK number is the
# green step line; the dashed purple line is the right edge of the window it
# advertised (Ack + Win). Top: the whole transfer on a true time scale (the
# wait for the retransmission timer is the long plateau). Bottom: the two
# busy stretches enlarged, with break marks where the time axis is cut.
# Data: figuras/dados/perda-tempo-seq.dat (scripts/figuras.sh). Variables
# (gnuplot -e): data, out.
set terminal pngcairo size 1100, 820 font "DejaVu Sans,10"
set output out
set datafile separator "\t"
set encoding utf8
set decimalsign ","
is(k, v) = strcol(1) eq k ? v : NaN
acks = "< grep '^ack' ".data   # only the ACK rows: a step line breaks at every NaN
set multiplot title "captures/perda-colega.pcapng: número de sequência × tempo (no colega, quem envia; o roteador descartou 10 segmentos)" font ",11"
set grid ytics lc rgb "#dddddd"
set ylabel "número de sequência (bytes, relativo)"
set format y "%.0f"
# --- top: true time scale ---
set size 1.0, 0.46; set origin 0.0, 0.50
set xrange [0 : 209]
set yrange [0 : 240000]
set xlabel "tempo (ms), escala real"
set key top left box opaque font ",9"
set label 1 "205,5 ms parado: o temporizador (RTO) do reenvio de 54273" at 40, 80000 left font ",9"
set arrow 1 from 100, 74000 to 100, 57000 lw 1 lc rgb "#555555"
plot data using (is("dado", $2)):3:(0):($4 - $3) with vectors nohead lw 2 lc rgb "#0055aa" title "segmento que chegou", \
     data using (is("perdido", $2)):3 with points pt 2 ps 0.9 lc rgb "#777777" title "original descartado (x)", \
     data using (is("reenvio", $2)):3 with points pt 7 ps 0.9 lc rgb "#cc3311" title "reenvio que chegou", \
     data using (is("reenvio-perdido", $2)):3 with points pt 2 ps 1.2 lc rgb "#ee7733" title "reenvio descartado", \
     acks using 2:3 with steps lw 1.2 lc rgb "#229944" title "Ack da casa", \
     acks using 2:4 with steps lw 1.2 dt 2 lc rgb "#882299" title "borda da janela anunciada (Ack + Win)"
unset label 1; unset arrow 1; unset key
# --- bottom: the two busy stretches, enlarged ---
set yrange [0 : 140000]
set xlabel "tempo (ms), ampliado"
set size 0.5, 0.48; set origin 0.0, 0.0
set xrange [1.05 : 1.95]
set xtics 0.1
set label 2 "1 ms ampliado: 7 originais descartados, 7 reenvios rápidos;\no reenvio de 54273 (1,790 ms) também é descartado" at 1.08, 130000 left font ",9"
set label 3 "//" at graph 1.0, graph 0.0 center font ",16" front
plot data using (is("dado", $2)):3:(0):($4 - $3) with vectors nohead lw 2 lc rgb "#0055aa", \
     data using (is("perdido", $2)):3:(0):($4 - $3) with vectors nohead lw 2 lc rgb "#bbbbbb", \
     data using (is("perdido", $2)):3 with points pt 2 ps 1.1 lc rgb "#777777", \
     data using (is("reenvio", $2)):3:(0):($4 - $3) with vectors nohead lw 3 lc rgb "#cc3311", \
     data using (is("reenvio", $2)):3 with points pt 7 ps 1.0 lc rgb "#cc3311", \
     data using (is("reenvio-perdido", $2)):3 with points pt 2 ps 1.4 lc rgb "#ee7733", \
     acks using 2:3 with steps lw 1.2 lc rgb "#229944", \
     acks using 2:4 with steps lw 1.2 dt 2 lc rgb "#882299"
unset label 2; unset label 3
# break marks (//): the time axis is cut between 1,95 ms and 207,2 ms
set size 0.5, 0.48; set origin 0.5, 0.0
set xrange [207.2 : 208.1]
unset ylabel
set format y ""
set label 4 "depois do RTO (207,264 ms): a janela de\ncongestionamento recomeça de 1 segmento" at 207.22, 130000 left font ",9"
set label 5 "//" at graph 0.0, graph 0.0 center font ",16" front
plot data using (is("dado", $2)):3:(0):($4 - $3) with vectors nohead lw 2 lc rgb "#0055aa", \
     data using (is("perdido", $2)):3:(0):($4 - $3) with vectors nohead lw 2 lc rgb "#bbbbbb", \
     data using (is("perdido", $2)):3 with points pt 2 ps 1.1 lc rgb "#777777", \
     data using (is("reenvio", $2)):3:(0):($4 - $3) with vectors nohead lw 3 lc rgb "#cc3311", \
     data using (is("reenvio", $2)):3 with points pt 7 ps 1.0 lc rgb "#cc3311", \
     acks using 2:3 with steps lw 1.2 lc rgb "#229944", \
     acks using 2:4 with steps lw 1.2 dt 2 lc rgb "#882299"
unset multiplot
