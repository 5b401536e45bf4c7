# The time-sequence graph (Stevens / tcptrace) of captures/perda-colega.pcapng:
# each data segment the sender sent is a vertical bar from its first to its
# last byte at the time it left; resends in red; the receiver's ACK number
# as a green step line. Two panels, because the transfer stops for the
# retransmission timeout (RTO) in the middle. Data: figuras/dados/perda-tempo-seq.dat
# (scripts/figuras.sh). Variables (gnuplot -e): data, out.
set terminal pngcairo size 1100, 560 font "DejaVu Sans,10"
set output out
set datafile separator "\t"
set encoding utf8
set multiplot title "captures/perda-colega.pcapng: número de sequência × tempo (quem envia; o roteador descartou 9 segmentos)" font ",11"
set ylabel "número de sequência (bytes, relativo)"
set yrange [0 : 105000]
set grid ytics lc rgb "#dddddd"
set key top left box opaque
is(k, v) = strcol(1) eq k ? v : NaN
set size 0.62, 0.92; set origin 0.0, 0.0
set xrange [1.0 : 3.8]
set xlabel "tempo (ms)"
set label 1 "cada ponto vermelho: um reenvio\n(o mesmo número de sequência de novo)" at 1.1, 90000 left font ",9"
plot data using (is("dado", $2)):3:(0):($4 - $3) with vectors nohead lw 2 lc rgb "#0055aa" title "segmento enviado", \
     data using (is("reenvio", $2)):3:(0):($4 - $3) with vectors nohead lw 3 lc rgb "#cc3311" title "reenvio", \
     data using (is("reenvio", $2)):3 with points pt 7 ps 1.1 lc rgb "#cc3311" notitle, \
     "< grep '^ack' ".data using 2:3 with steps lw 1.2 lc rgb "#229944" title "Ack da casa"
unset label 1
set size 0.38, 0.92; set origin 0.62, 0.0
set xrange [215.1 : 216.45]
unset ylabel
unset key
set format y ""
set label 2 "o reenvio pelo temporizador (RTO),\n211,7 ms depois do anterior" at 215.15, 58000 left font ",9"
plot data using (is("dado", $2)):3:(0):($4 - $3) with vectors nohead lw 2 lc rgb "#0055aa" notitle, \
     data using (is("reenvio", $2)):3:(0):($4 - $3) with vectors nohead lw 3 lc rgb "#cc3311" notitle, \
     data using (is("reenvio", $2)):3 with points pt 7 ps 1.1 lc rgb "#cc3311" notitle, \
     "< grep '^ack' ".data using 2:3 with steps lw 1.2 lc rgb "#229944" notitle
unset multiplot
