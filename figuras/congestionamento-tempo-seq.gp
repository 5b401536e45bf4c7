# The time-sequence graph of the Reno run of `make redes CENARIO=congestionamento`
# (captures/congestionamento-reno.pcapng.gz, on the sender), its first 800 ms:
# blue bars the segments, grey x the ones the bottleneck's queue dropped (sent
# again later), red dots the resends, green the receiver's ACK number, dashed
# purple the right edge of the window it advertised (Ack + Win). The slope is
# the bottleneck's rate; the advertised window stays far above: the receiver
# never limits, the congestion window does.
# Data: figuras/dados/congestionamento-tempo-seq.dat. Variables: data, out.
set terminal pngcairo size 1100, 520 font "DejaVu Sans,10"
set output out
set datafile separator "\t"
set encoding utf8
set decimalsign ","
is(k, v) = strcol(1) eq k ? v : NaN
acks = "< grep '^ack' ".data
set title "captures/congestionamento-reno.pcapng.gz: número de sequência × tempo (reno, gargalo de 20 Mbit/s, fila de 60 KB)" font ",11"
set grid lc rgb "#dddddd"
set xlabel "tempo (ms)"
set ylabel "número de sequência (MB, relativo)"
set format y "%.1f"
set xrange [0 : 800]
set key top left box opaque font ",9"
plot data using (is("dado", $2)):($3 / 1e6):(0):(($4 - $3) / 1e6) with vectors nohead lw 2 lc rgb "#0055aa" title "segmento enviado", \
     data using (is("perdido", $2)):($3 / 1e6) with points pt 2 ps 0.8 lc rgb "#555555" title "descartado na fila (enviado de novo depois)", \
     data using (is("reenvio", $2)):($3 / 1e6) with points pt 7 ps 0.6 lc rgb "#cc3311" title "reenvio", \
     acks using 2:($3 / 1e6) with steps lw 1.2 lc rgb "#229944" title "Ack da casa", \
     acks using 2:($4 / 1e6) with steps lw 1.2 dt 2 lc rgb "#882299" title "borda da janela anunciada (Ack + Win)"
