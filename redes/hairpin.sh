#!/usr/bin/env bash
# sudo redes/hairpin.sh
#
# O "retorno" (hairpin NAT) de redes/README.md, medido: dois PCs da mesma
# rede de casa (192.168.0.10, o servidor do chat, e 192.168.0.11) ligados a
# um roteador por um switch (uma bridge Linux, sem passar pelo IP do
# roteador, como o switch de um roteador doméstico). O 192.168.0.11 conecta
# no IP público do roteador (203.0.113.10:8000), que redireciona para o
# 192.168.0.10 (dnat). Primeiro só com o dnat, depois com o snat também.
# Tudo dentro de namespaces com o número deste processo no nome, apagados na
# saída, no Ctrl+C e em caso de erro. Leva ~10 s.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh  # a cola de shell comum (trap, iniciar e esperar, tcpdump)
[ "$(id -u)" = 0 ] || { echo "Precisa de root (cria namespaces): sudo redes/hairpin.sh" >&2; exit 77; }
lab_need redes ip nft tcpdump tshark
BIN=${LAB_BIN_DIR:-$(pwd)}   # onde estão os programas compilados (como em redes.sh)
[ -x "$BIN/ex1_chat/server" ] && [ -x "$BIN/ex1_chat/client" ] || { echo "Falta $BIN/ex1_chat/server: rode make" >&2; exit 1; }
P="hairpin$$"
work=$(mktemp -d)
apagar_namespaces() {
    local n
    for n in roteador pc1 pc2; do
        ip netns pids "$P-$n" 2>/dev/null | xargs -r kill 2>/dev/null || true
    done
    sleep 0.2
    for n in roteador pc1 pc2; do ip netns del "$P-$n" 2>/dev/null || true; done
}
lab_on_exit apagar_namespaces  # na saída, no Ctrl+C e em caso de erro (e apaga $work)
em() { local ns=$1; shift; ip netns exec "$P-$ns" "$@"; }

for n in roteador pc1 pc2; do
    ip netns add "$P-$n"
    ip -n "$P-$n" link set lo up
    em "$n" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
    # O controle de congestionamento fixo, como em redes.sh (o da máquina não muda).
    em "$n" sysctl -qw net.ipv4.tcp_congestion_control=reno
done
# O switch da casa: uma bridge no roteador. bridge-nf-call-iptables = 0: o
# que vai de um PC a outro passa pelo switch sem passar pelo NAT do
# roteador (num roteador doméstico, o chip de switch faz isso).
ip -n "$P-roteador" link add br0 type bridge
ip -n "$P-roteador" addr add 192.168.0.1/24 dev br0
ip -n "$P-roteador" link set br0 up
em roteador sysctl -qw net.bridge.bridge-nf-call-iptables=0 2>/dev/null || true
for n in 1 2; do
    ip link add "lan$n" netns "$P-roteador" type veth peer name eth0 netns "$P-pc$n"
    ip -n "$P-roteador" link set "lan$n" master br0 up
    ip -n "$P-pc$n" addr add "192.168.0.1$((n - 1))/24" dev eth0
    ip -n "$P-pc$n" link set eth0 up
    ip -n "$P-pc$n" route add default via 192.168.0.1
done
ip -n "$P-roteador" addr add 203.0.113.10/32 dev lo   # o IP público (a WAN não importa aqui)
em roteador sysctl -qw net.ipv4.ip_forward=1
em roteador nft -f - <<'NFT'
table ip nat {
  chain pre {
    type nat hook prerouting priority dstnat;
    ip daddr 203.0.113.10 tcp dport 8000 dnat to 192.168.0.10:8000
  }
  chain post {
    type nat hook postrouting priority srcnat;
  }
}
NFT
lab_start "$work/servidor.txt" Aguardando ip netns exec "$P-pc1" "$BIN/ex1_chat/server" 0.0.0.0 8000 ||
    { echo "o servidor do chat não iniciou no 192.168.0.10:" >&2; cat "$work/servidor.txt" >&2; exit 1; }

tentar() {  # tentar <nome>: o 192.168.0.11 conecta em 203.0.113.10:8000, capturado no pc2
    lab_tcpdump_start eth0 "$work/$1.pcap" "tcp port 8000" ip netns exec "$P-pc2" || exit 1
    (sleep 0.5; echo "Olá, sou o outro PC da casa"; sleep 0.5) |
        em pc2 timeout --foreground 6 "$BIN/ex1_chat/client" 203.0.113.10 8000 >"$work/$1.txt" 2>&1 ||
        echo "(nada em 6 s: o cliente continuaria reenviando o SYN até \"tempo esgotado\")" >>"$work/$1.txt"
    sleep 0.3
    lab_tcpdump_stop
    echo "--- o cliente (192.168.0.11: ./client 203.0.113.10 8000)"
    sed 's/^/    /' "$work/$1.txt"
    echo "--- a captura no 192.168.0.11 (tshark -r ... | head -6)"
    tshark -r "$work/$1.pcap" 2>/dev/null | head -6 | cut -c1-110 | sed 's/^/    /'
}
echo "== 1. Só o redirecionamento (dnat), como no cenário nat:"
echo '$ nft add rule ip nat pre ip daddr 203.0.113.10 tcp dport 8000 dnat to 192.168.0.10:8000'
tentar so-dnat
echo
echo "== 2. Com a troca da origem também (snat: masquerade da casa para a casa):"
em roteador nft add rule ip nat post ip saddr 192.168.0.0/24 ip daddr 192.168.0.10 tcp dport 8000 masquerade
echo '$ nft add rule ip nat post ip saddr 192.168.0.0/24 ip daddr 192.168.0.10 tcp dport 8000 masquerade'
tentar dnat-snat
echo
echo "--- o servidor (192.168.0.10)"
sed 's/^/    /' "$work/servidor.txt"
