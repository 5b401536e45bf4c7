# The sequence (ladder) diagram of a capture: one arrow per frame, from the
# side that sent it to the side that received it, top to bottom in capture
# order (time not to scale). Data: figuras/dados/ladder-<ex>.dat, written by
# scripts/figuras.sh from captures/<ex>.pcapng. Variables (gnuplot -e):
# data, out, frames, columns (2: client, server; 3: client 1, server,
# client 2 and any later one), title, port (the server's), clients, and
# optionally width (pixels; ex6 is wider, for the Modbus function on its arrows).
if (!exists("width")) width = (columns == 3 ? 1000 : 760)
set terminal pngcairo size width, 110 + frames * 24 font "DejaVu Sans,10"
set output out
set datafile separator "\t"
set encoding utf8
unset border; unset tics; unset key
set lmargin 0; set rmargin 0; set tmargin 0; set bmargin 0
set xrange [-0.45 : columns - 1 + 0.3]
set yrange [-(frames + 1.2) : 2.2]
server = 1
set label 1 "cliente" . (columns == 3 ? " 1" : "") at 0, 1.2 center font ",11"
if (!exists("port")) port = 8000
set label 2 sprintf("servidor :%d", port) at server, 1.2 center font ",11"
if (!exists("clients")) clients = columns - 1
# Later clients share the third column: its header takes two lines, to fit.
third = (clients > 3 ? sprintf("clientes 2 a %d\n(um depois do outro)", clients) : (clients == 3 ? "clientes 2 e 3\n(um depois do outro)" : "cliente 2"))
if (columns == 3) set label 3 third at 2, (clients > 2 ? 1.35 : 1.2) center font ",11"
set label 4 title . "  (quadros na ordem da captura; o tempo não está em escala)" at -0.42, 1.9 left font ",9" tc rgb "#555555"
do for [i = 0 : columns - 1] {
    set arrow from i, 0.6 to i, -(frames + 0.9) nohead lc rgb "#bbbbbb" lw 2 back
}
# Colours: connection (SYN/FIN/RST) red, data blue, pure ACK grey.
kind(s) = (strstrt(s, "SYN") || strstrt(s, "FIN") || strstrt(s, "RST")) ? 0xcc3311 : (strstrt(s, "Len=") ? 0x0055aa : 0x888888)
plot data using 2:(-$1):($3 - $2):(-0.55):(kind(strcol(4))) with vectors head filled size 0.04,20 lw 1.6 lc rgb variable, \
     data using (($2 + $3) / 2):(-$1 - 0.05):4 with labels font ",8" offset 0, 0.45, \
     data using (-0.4):(-$1 - 0.27):(sprintf("%d", $1)) with labels left font ",8" tc rgb "#777777"
