#!/usr/bin/env bash
# make redes [CENARIO=bind|nat|saida|cgnat|vpn|perda|congestionamento] [ALGORITMO=reno|cubic|bbr]
#
# O laboratório "Usando sockets em diferentes redes" (redes/README.md) numa
# máquina só: namespaces de rede fazem o papel dos computadores e roteadores
# (casa, roteador, provedor, internet, colega, vpn), ligados por "cabos" veth.
# Cada cenário conta o que vai acontecer, roda os programas dos exemplos,
# mostra o que cada "terminal" mostrou, grava as capturas em
# captures/redes-<cenario>-<lado>.pcapng e imprime a tabela dos pacotes com o
# filtro para abrir no Wireshark.
#
#   CENARIO=nome     um cenário só (padrão: todos, na ordem)
#   ALGORITMO=nome   o controle de congestionamento do TCP em cada namespace
#                    (padrão: reno; no cenário congestionamento, padrão: os
#                    três, reno, cubic e bbr, um de cada vez)
#   TAXA, RAJADA, FILA, DURACAO, ATRASO   o gargalo do cenário congestionamento
#                    (padrão: 20mbit, 16kb, 60kb, 4 s; ATRASO=20ms só com o netem)
#   CAPTURE_DIR=DIR  onde gravar as capturas (padrão: captures/)
#   LAB_BIN_DIR=DIR  onde estão os programas compilados (padrão: este repositório)
#
# Só endereços de documentação (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24),
# 192.168.0.0/24 para a rede da casa e 100.64.0.0/10 (CGNAT, túnel), sempre
# dentro dos namespaces criados aqui: a rede da própria máquina não é tocada.
# Tudo o que é criado (namespaces, veths, tabelas nft, wireguard-go) some na
# saída, no Ctrl+C e em caso de erro.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh  # a cola de shell comum (trap, iniciar e esperar, tcpdump)
BIN=${LAB_BIN_DIR:-$(pwd)}  # the programs (a sanitizer build keeps its own, build/make/san-*)
SRC=$(pwd)                  # the sources: ex5.lua is read from here, not from $BIN
out_dir=${CAPTURE_DIR:-captures}
CENARIO=${CENARIO:-}
todos=(bind nat saida cgnat vpn perda congestionamento)

if [ -z "$CENARIO" ]; then
    cenarios=("${todos[@]}")
else
    case " ${todos[*]} " in
        *" $CENARIO "*) cenarios=("$CENARIO") ;;
        *) echo "CENARIO deve ser um de: ${todos[*]} (ou vazio: todos)" >&2; exit 2 ;;
    esac
fi

# O controle de congestionamento (redes/README.md, "Controle de
# congestionamento"). Cada namespace novo herda o valor da máquina (aqui pode
# ser bbr, noutra cubic): por isso cada cenário fixa o seu, dentro dos seus
# namespaces. O da máquina (sysctl net.ipv4.tcp_congestion_control fora dos
# namespaces) nunca é mudado.
ALGORITMO=${ALGORITMO:-}
algoritmos_possiveis=(reno cubic bbr)
if [ -n "$ALGORITMO" ]; then
    case " ${algoritmos_possiveis[*]} " in
        *" $ALGORITMO "*) ;;
        *) echo "ALGORITMO deve ser um de: ${algoritmos_possiveis[*]} (ou vazio)" >&2; exit 2 ;;
    esac
fi
# O dos outros cenários: o reno, o da RFC 5681 e dos livros, que todo kernel
# Linux tem e deixa qualquer namespace usar (o cubic, padrão do Linux, e o bbr
# só podem ser o padrão de um namespace se forem o da máquina).
algoritmo=${ALGORITMO:-reno}

# Criar namespaces e capturar pacotes exige root. 77 = "pulado" para os testes.
if [ "$(id -u)" != 0 ]; then
    cat >&2 <<MSG
Este laboratório cria computadores e roteadores de mentira (namespaces de
rede) e captura pacotes: isso só o root pode fazer. Rode:
  sudo make redes${CENARIO:+ CENARIO=$CENARIO}
Nada foi criado e nenhuma captura foi gravada.
MSG
    exit 77
fi
lab_need redes ip tc nft tcpdump tshark editcap wg wireguard-go
for program in ex1_chat/server ex1_chat/client ex3_files/server ex3_files/client redes/meuip; do
    [ -x "$BIN/$program" ] || { echo "Falta $BIN/$program: rode make redes (ou make)" >&2; exit 1; }
done

# ---------------------------------------------------------------------------
# Nomes únicos por execução ($$ = o número deste processo): duas execuções ao
# mesmo tempo, ou restos de uma execução morta com kill -9, não colidem.
P="redes$$"
W="wg$$"              # interfaces WireGuard: o socket de controle delas,
                      # /var/run/wireguard/<nome>.sock, é visto por todos os namespaces
work=$(mktemp -d)

desmontar() {  # apaga os namespaces desta execução (e tudo dentro deles)
    local ns
    for ns in $(ip netns list 2>/dev/null | awk -v p="$P-" 'index($1, p) == 1 { print $1 }'); do
        ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null || true
    done
    for ns in $(ip netns list 2>/dev/null | awk -v p="$P-" 'index($1, p) == 1 { print $1 }'); do
        # Os processos (wireguard-go, tcpdump) terminam em milissegundos.
        for _ in $(seq 20); do [ -z "$(ip netns pids "$ns" 2>/dev/null)" ] && break; sleep 0.05; done
        ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
        ip netns del "$ns" 2>/dev/null || true  # leva junto as veths e as tabelas nft
    done
    rm -f /var/run/wireguard/"$W"-*.sock
}
# Na saída, no Ctrl+C e em caso de erro: os processos guardados e todo
# trabalho em segundo plano param, os namespaces somem, e $work também.
lab_on_exit desmontar
desmontar  # um resto com este mesmo número (processo morto há tempos)

# lab_show <título> <arquivo> (a tela de um terminal, recuada) e
# lab_type_lines <atraso> <linha>... (o que uma pessoa digita) vêm de scripts/lib.sh.
titulo() { lab_title "$1"; }
passo() { printf '\n%s>> %s%s\n' "$lab_bold" "$1" "$lab_normal"; }
em() { local ns=$1; shift; ip netns exec "$P-$ns" "$@"; }  # em <namespace> <comando>
# Cada `timeout` aqui é `timeout --foreground`: sem ele, o timeout põe o comando
# num grupo de processos à parte, o Ctrl+C não chega ao comando, e o script só
# para quando o prazo do timeout acaba (até 30 s).
# Dois terminais de chat ao mesmo tempo: o colega fala primeiro, a casa responde.
# conversa <IP que o colega usa> <fala do colega> <IP que a casa usa> <fala da casa> <arquivos>
conversa() {
    lab_type_lines 0.5 "$2" | em colega timeout --foreground 10 "$BIN/ex1_chat/client" "$1" 8000 >"$5-colega.txt" 2>&1 &
    local a=$!
    lab_type_lines 1.2 "$4" | em casa timeout --foreground 10 "$BIN/ex1_chat/client" "$3" 8000 >"$5-casa.txt" 2>&1 &
    local b=$!
    wait "$a" "$b" || true
}

# ---------------------------------------------------------------------------
# A topologia. Cada "cabo" é um par veth criado já dentro dos dois
# namespaces, com o nome que faz sentido de cada lado (eth0, lan, wan...).
#
#   casa ---- roteador ---- internet ---- colega   (publico)
#                  \                \---- vpn (e o site "Meu IP")
#   casa ---- roteador ---- provedor ---- internet ...   (cgnat)
cabo() {  # cabo <ns1> <if1> <endereço1/máscara> <ns2> <if2> <endereço2/máscara>
    ip link add "$2" netns "$P-$1" type veth peer name "$5" netns "$P-$4"
    local side ns dev addr
    for side in "$1 $2 $3" "$4 $5 $6"; do
        read -r ns dev addr <<<"$side"
        ip -n "$P-$ns" addr add "$addr" dev "$dev"
        ip -n "$P-$ns" link set "$dev" up mtu 1500
        # Sem isto o kernel entrega à captura "supersegmentos" de até 64 KiB,
        # cortados no tamanho do MTU só depois (GSO): não é o que passa num
        # fio de verdade (como em scripts/capture.sh NET=veth).
        ip -n "$P-$ns" link set "$dev" gso_max_segs 1
    done
}

# fixar_algoritmo <ns> <algoritmo>: o controle de congestionamento das
# conexões TCP que o namespace abrir. O sysctl vale só dentro do namespace.
# Um namespace só pode ter como padrão um algoritmo da lista
# net.ipv4.tcp_allowed_congestion_control da máquina (o padrão dela e o reno;
# os outros dão "Operation not permitted"): aí o programa escolhe o seu por
# conexão (setsockopt TCP_CONGESTION, o iperf3 -C), e fixar_algoritmo diz isso.
fixar_algoritmo() {
    em "$1" sysctl -qw net.ipv4.tcp_congestion_control="$2" 2>/dev/null && return 0
    case " $(sysctl -n net.ipv4.tcp_available_congestion_control) " in
        *" $2 "*) return 1 ;;  # existe, mas não pode ser o padrão de um namespace
    esac
    echo "Este kernel não tem o controle de congestionamento $2" \
         "(disponíveis: $(sysctl -n net.ipv4.tcp_available_congestion_control))" >&2
    exit 1
}

montar() {  # montar publico|cgnat
    local modo=$1 ns
    local nomes=(casa roteador internet colega vpn)
    [ "$modo" = cgnat ] && nomes+=(provedor)
    for ns in "${nomes[@]}"; do
        ip netns add "$P-$ns"
        ip -n "$P-$ns" link set lo up
        # Só IPv4: sem os anúncios do IPv6, as capturas mostram só a lição.
        em "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
        # Sem "ICMP redirect": o servidor VPN devolve pacotes pela mesma
        # interface do túnel por onde chegaram, e o Linux avisaria a cada um.
        em "$ns" sysctl -qw net.ipv4.conf.all.send_redirects=0 net.ipv4.conf.default.send_redirects=0
        fixar_algoritmo "$ns" "$algoritmo" || {
            echo "O kernel não deixa um namespace usar $algoritmo como padrão" \
                 "(só os de net.ipv4.tcp_allowed_congestion_control: $(sysctl -n net.ipv4.tcp_allowed_congestion_control))." >&2
            exit 1
        }
    done
    echo "Controle de congestionamento do TCP em todos os namespaces: $algoritmo" \
         "(net.ipv4.tcp_congestion_control; o da máquina, $(sysctl -n net.ipv4.tcp_congestion_control), não muda)."
    cabo casa eth0 192.168.0.10/24 roteador lan 192.168.0.1/24
    if [ "$modo" = publico ]; then
        cabo roteador wan 203.0.113.10/24 internet roteador 203.0.113.1/24
        ip -n "$P-roteador" route add default via 203.0.113.1
    else
        # CGNAT: a "WAN" do roteador de casa recebe um endereço 100.64.x.x do
        # provedor (RFC 6598), e só o provedor tem um endereço público.
        cabo roteador wan 100.64.0.10/24 provedor clientes 100.64.0.1/24
        cabo provedor wan 203.0.113.50/24 internet provedor 203.0.113.1/24
        ip -n "$P-roteador" route add default via 100.64.0.1
        ip -n "$P-provedor" route add default via 203.0.113.1
    fi
    cabo colega eth0 198.51.100.20/24 internet colega 198.51.100.1/24
    cabo vpn eth0 192.0.2.30/24 internet vpn 192.0.2.1/24
    # O site "Meu IP" mora na própria internet, no endereço 192.0.2.80.
    ip -n "$P-internet" addr add 192.0.2.80/32 dev lo
    ip -n "$P-casa" route add default via 192.168.0.1
    ip -n "$P-colega" route add default via 198.51.100.1
    ip -n "$P-vpn" route add default via 192.0.2.1
    local roteadores=(roteador internet vpn)
    [ "$modo" = cgnat ] && roteadores+=(provedor)
    for ns in "${roteadores[@]}"; do em "$ns" sysctl -qw net.ipv4.ip_forward=1; done
    # O NAT do roteador de casa: tudo o que sai pela WAN leva o endereço da
    # WAN como origem (masquerade). "random": a porta de origem também é
    # trocada, por uma sorteada (muitos roteadores e todo CGNAT trocam).
    # A cadeia "pre" recebe, nos cenários, o redirecionamento de porta.
    em roteador nft -f - <<'NFT'
table ip nat {
  chain pre {
    type nat hook prerouting priority dstnat;
  }
  chain post {
    type nat hook postrouting priority srcnat;
    oifname "wan" masquerade random
  }
}
NFT
    if [ "$modo" = cgnat ]; then
        em provedor nft -f - <<'NFT'
table ip nat {
  chain post {
    type nat hook postrouting priority srcnat;
    oifname "wan" masquerade random
  }
}
NFT
    fi
}

# O redirecionamento de porta do guia (passo 2), no roteador de casa.
redirecionar_porta() {
    em roteador nft add rule ip nat pre iifname '"wan"' tcp dport 8000 dnat to 192.168.0.10:8000
    echo '$ nft add rule ip nat pre iifname "wan" tcp dport 8000 dnat to 192.168.0.10:8000   (no roteador)'
}

# A tabela de traduções do roteador (conntrack): cada conexão com as duas
# tuplas, a original e a da resposta, já traduzida.
traducoes() {  # traducoes <ns> <arquivo>
    em "$1" cat /proc/net/nf_conntrack |
        awk '$3 == "tcp" { s = $6; for (i = 7; i <= NF; i++) if ($i !~ /^(mark|zone|use|secctx)=/) s = s " " $i; print s }' >"$2"
}

# iniciar <ns> <log> <texto esperado> <programa> [args]: roda em segundo plano
# e espera (até 5 s) o programa imprimir <texto esperado>.
iniciar() {
    local ns=$1 log=$2 ready=$3; shift 3
    # Sem a função em(): o pid é então o próprio programa (ip netns exec faz
    # exec), e kill chega nele, não num subshell.
    lab_start "$log" "$ready" ip netns exec "$P-$ns" "$@" || {
        echo "não foi possível iniciar $* em $ns:" >&2
        cat "$log" >&2
        exit 1
    }
    last_pid=$lab_pid
}

# capturar <ns> <interface> <lado>: tcpdump grava $work/<lado>.pcap (as
# mensagens dele em $work/<lado>.pcap.log); lab_tcpdump_start diz por que
# --immediate-mode e -B.
capturas=()
lab_tcpdump_options=()  # opções a mais do tcpdump (o cenário congestionamento grava só os cabeçalhos)
capturar() {
    local ns=$1 dev=$2 lado=$3
    lab_tcpdump_start "$dev" "$work/$lado.pcap" ip ip netns exec "$P-$ns" || {
        echo "tcpdump não começou a capturar em $ns/$dev" >&2
        exit 1
    }
    capturas+=("$tcpdump_pid:$lado")
}
# parar_capturas <cenario>: para os tcpdump e grava captures/redes-<cenario>-<lado>.pcapng.
parar_capturas() {
    local cenario=$1 c lado
    sleep 0.3  # os últimos ACKs
    mkdir -p "$out_dir"
    for c in "${capturas[@]}"; do
        lado=${c#*:}
        lab_tcpdump_stop "${c%%:*}" "$work/$lado.pcap.log"
        if [ "$lab_captured" = 0 ]; then
            echo "ERRO: a captura $lado ficou vazia" >&2
            exit 1
        fi
        # tcpdump grava pcap; o formato do Wireshark é pcapng.
        editcap -F pcapng "$work/$lado.pcap" "$out_dir/redes-$cenario-$lado.pcapng"
    done
    capturas=()
}

# tabela <pcapng> <filtro> [linhas]: os pacotes como uma tabela.
tabela() {
    local file=$1 filter=$2 max=${3:-24}
    echo "  Arquivo: $file    Filtro do Wireshark: $filter"
    printf '%4s  %-21s  %-21s  %5s  %s\n' "No." "Origem" "Destino" "Bytes" "Info"
    tshark -r "$file" -Y "$filter" -T fields -E separator=/t \
        -e frame.number -e ip.src -e tcp.srcport -e udp.srcport -e ip.dst -e tcp.dstport \
        -e udp.dstport -e ip.len -e _ws.col.Info 2>/dev/null |
        awk -F'\t' '{ src = $2 ":" $3 $4; dst = $5 ":" $6 $7; info = $9
                      sub(/ Win=[0-9]+/, "", info); sub(/ TSval=.*/, "", info)
                      printf "%4s  %-21s  %-21s  %5s  %s\n", $1, src, dst, $8, substr(info, 1, 64) }' |
        lab_fold_rows "$max" $((max - 6)) 4
}

# ===========================================================================
cenario_bind() {
    titulo "Cenário bind: o passo 3 do guia (o servidor no IP público)"
    cat <<'TXT'
O guia manda pôr o IP público no servidor. Mas o IP público é do ROTEADOR
(203.0.113.10); o PC da casa só tem 192.168.0.10 e 127.0.0.1. bind() só
aceita um endereço que pertence à própria máquina.
TXT
    montar publico
    passo "Os endereços da casa (ip addr):"
    em casa ip -4 -br addr | sed 's/^/    /'
    passo "O gateway padrão da casa (o \"Gateway Padrão\" do ipconfig; no Linux, ip route):"
    em casa ip route | sed 's/^/    /'
    capturar casa eth0 casa

    passo "Servidor na casa com o IP público do roteador: ./server 203.0.113.10 8000"
    local rc=0
    (cd "$BIN/ex1_chat" && em casa timeout --foreground 5 ./server 203.0.113.10 8000) >"$work/bind1.txt" 2>&1 || rc=$?
    lab_show "terminal da casa (código de saída $rc)" "$work/bind1.txt"

    passo "Agora com 0.0.0.0 (todas as interfaces): ./server 0.0.0.0 8000"
    iniciar casa "$work/bind2.txt" Aguardando "$BIN/ex1_chat/server" 0.0.0.0 8000
    local server=$last_pid
    echo "O roteador (192.168.0.1) também é um computador da rede local: daqui ele faz"
    echo "o papel de outro PC da casa e conecta em 192.168.0.10:8000."
    lab_type_lines 0.3 "Olá da rede local" |
        em roteador timeout --foreground 10 "$BIN/ex1_chat/client" 192.168.0.10 8000 >"$work/bind3.txt" 2>&1 || true
    sleep 0.2
    lab_stop "$server"
    parar_capturas bind
    lab_show "terminal da casa (servidor)" "$work/bind2.txt"
    lab_show "terminal do roteador (cliente, digitou: Olá da rede local)" "$work/bind3.txt"
    tabela "$out_dir/redes-bind-casa.pcapng" "tcp.port == 8000" 14
    cat <<'TXT'
Repare: o bind falhou sem pôr nenhum pacote na rede (é uma operação local:
a captura não tem nenhum 203.0.113.10). Com 0.0.0.0 o servidor atende em
todos os endereços da máquina; quem está fora usa o IP público, e o roteador
entrega na porta certa (cenário nat). Só o CLIENTE usa o IP público.
TXT
    desmontar
}

# ===========================================================================
cenario_nat() {
    titulo "Cenário nat: redirecionamento de porta (o passo 2 do guia)"
    cat <<'TXT'
O servidor do chat roda na casa (0.0.0.0:8000). O colega, em outra rede
(198.51.100.20), conecta no IP público do roteador, 203.0.113.10:8000.
Primeiro sem a regra de redirecionamento, depois com ela. Capturas dos dois
lados do roteador: wan (internet) e lan (casa).
TXT
    montar publico
    capturar roteador wan wan
    capturar roteador lan lan
    iniciar casa "$work/nat-servidor.txt" Aguardando "$BIN/ex1_chat/server" 0.0.0.0 8000
    local server=$last_pid

    passo "Sem a regra: o colega roda ./client 203.0.113.10 8000"
    em colega timeout --foreground 10 "$BIN/ex1_chat/client" 203.0.113.10 8000 </dev/null >"$work/nat-sem.txt" 2>&1 || true
    lab_show "terminal do colega" "$work/nat-sem.txt"

    passo "A regra de encaminhamento de porta no roteador (a página \"NAT\" / \"Port forwarding\"):"
    redirecionar_porta
    passo "Com a regra: o colega e a casa conversam"
    conversa 203.0.113.10 "Olá do colega, pelo IP público!" \
             127.0.0.1 "Oi, colega! Chegou aqui na casa." "$work/nat"
    sleep 0.2
    traducoes roteador "$work/nat-conntrack.txt"
    lab_stop "$server"
    parar_capturas nat
    lab_show "terminal da casa (servidor)" "$work/nat-servidor.txt"
    lab_show "terminal do colega (digitou: Olá do colega, pelo IP público!)" "$work/nat-colega.txt"
    lab_show "terminal da casa (cliente local, digitou: Oi, colega! Chegou aqui na casa.)" "$work/nat-casa.txt"
    lab_show "tabela de traduções do roteador (/proc/net/nf_conntrack no namespace dele)" "$work/nat-conntrack.txt"
    passo "Lado wan do roteador (o que a internet vê):"
    tabela "$out_dir/redes-nat-wan.pcapng" "tcp.port == 8000" 20
    passo "Lado lan do roteador (o que chega na casa):"
    tabela "$out_dir/redes-nat-lan.pcapng" "tcp.port == 8000" 14
    cat <<'TXT'
Repare: sem a regra, o SYN do colega chegou ao roteador e o próprio roteador
respondeu RST (nada escuta na porta 8000 dele): "conexão recusada", e na
lan não passou nada. (Um roteador de verdade, com firewall, descartaria o
SYN em silêncio: o colega esperaria até "tempo esgotado".) Com a regra
(dnat), os MESMOS segmentos aparecem nas duas capturas; só o destino muda: 203.0.113.10:8000 na wan, 192.168.0.10:8000
na lan. As respostas fazem o caminho inverso. O servidor vê o endereço
público do colega, e a tabela de traduções guarda as duas tuplas.
TXT
    desmontar
}

# ===========================================================================
cenario_saida() {
    titulo "Cenário saida: a casa como cliente (NAT de saída, masquerade)"
    cat <<'TXT'
Agora o servidor está na internet: o colega tem IP público (198.51.100.20) e
pode dar bind nele. A casa conecta como cliente. O roteador troca a ORIGEM
de cada pacote que sai (endereço e porta) pelo seu endereço público.
TXT
    montar publico
    capturar roteador lan lan
    capturar roteador wan wan
    iniciar colega "$work/saida-servidor.txt" Aguardando "$BIN/ex1_chat/server" 198.51.100.20 8000
    local server=$last_pid
    passo "O colega: ./server 198.51.100.20 8000    A casa: ./client 198.51.100.20 8000"
    lab_type_lines 0.5 "Olá, aqui é a casa!" |
        em casa timeout --foreground 10 "$BIN/ex1_chat/client" 198.51.100.20 8000 >"$work/saida-casa.txt" 2>&1 || true
    sleep 0.2
    traducoes roteador "$work/saida-conntrack.txt"
    lab_stop "$server"
    parar_capturas saida
    lab_show "terminal do colega (servidor)" "$work/saida-servidor.txt"
    lab_show "terminal da casa (cliente, digitou: Olá, aqui é a casa!)" "$work/saida-casa.txt"
    lab_show "tabela de traduções do roteador" "$work/saida-conntrack.txt"
    passo "Lado lan do roteador:"
    tabela "$out_dir/redes-saida-lan.pcapng" "tcp.port == 8000" 12
    passo "Lado wan do roteador:"
    tabela "$out_dir/redes-saida-wan.pcapng" "tcp.port == 8000" 12
    cat <<'TXT'
Repare: na lan a origem é 192.168.0.10 com a porta que o cliente recebeu do
sistema; na wan, 203.0.113.10 com outra porta. O servidor imprime o endereço
do roteador: ele nunca vê 192.168.0.10 (um endereço privado, que não existe
na internet). É assim que toda a casa sai por um endereço público só.
TXT
    desmontar
}

# ===========================================================================
cenario_cgnat() {
    titulo "Cenário cgnat: o provedor também faz NAT (CGNAT)"
    cat <<'TXT'
Agora a WAN do roteador de casa recebe 100.64.0.10, do bloco 100.64.0.0/10
(RFC 6598, reservado para CGNAT), e só o provedor tem um endereço público
(203.0.113.50), dividido com outros clientes. O aluno configurou o
redirecionamento da porta 8000 no roteador de casa, como no cenário nat.
TXT
    montar cgnat
    redirecionar_porta
    capturar roteador wan roteador
    capturar provedor wan provedor
    iniciar casa "$work/cgnat-servidor.txt" Aguardando "$BIN/ex1_chat/server" 0.0.0.0 8000
    local server=$last_pid
    iniciar internet "$work/cgnat-meuip.txt" "Meu IP" "$BIN/redes/meuip" 192.0.2.80 80
    local meuip=$last_pid

    passo "A WAN do roteador (a página de status dele mostra isto):"
    em roteador ip -4 -br addr show wan | sed 's/^/    /'
    passo "A casa consulta o site \"Meu IP\" (192.0.2.80, porta 80): ./client 192.0.2.80 80"
    em casa timeout --foreground 10 "$BIN/ex1_chat/client" 192.0.2.80 80 </dev/null >"$work/cgnat-casa.txt" 2>&1 || true
    lab_show "terminal da casa" "$work/cgnat-casa.txt"
    passo "O colega tenta o endereço da WAN do roteador: ./client 100.64.0.10 8000"
    em colega timeout --foreground 10 "$BIN/ex1_chat/client" 100.64.0.10 8000 </dev/null >"$work/cgnat-colega1.txt" 2>&1 || true
    lab_show "terminal do colega" "$work/cgnat-colega1.txt"
    passo "O colega tenta o IP que o \"Meu IP\" mostrou: ./client 203.0.113.50 8000"
    em colega timeout --foreground 10 "$BIN/ex1_chat/client" 203.0.113.50 8000 </dev/null >"$work/cgnat-colega2.txt" 2>&1 || true
    lab_show "terminal do colega" "$work/cgnat-colega2.txt"
    traducoes roteador "$work/cgnat-conntrack-roteador.txt"
    traducoes provedor "$work/cgnat-conntrack-provedor.txt"
    lab_stop "$server"
    lab_stop "$meuip"
    parar_capturas cgnat
    lab_show "terminal do site Meu IP" "$work/cgnat-meuip.txt"
    lab_show "traduções no roteador de casa" "$work/cgnat-conntrack-roteador.txt"
    lab_show "traduções no provedor (CGNAT)" "$work/cgnat-conntrack-provedor.txt"
    passo "WAN do roteador de casa (100.64.0.10):"
    tabela "$out_dir/redes-cgnat-roteador.pcapng" "tcp" 14
    passo "WAN do provedor (203.0.113.50, a internet):"
    tabela "$out_dir/redes-cgnat-provedor.pcapng" "tcp" 16
    cat <<'TXT'
Repare: o "Meu IP" mostra 203.0.113.50, não o 100.64.0.10 da WAN do roteador:
endereços diferentes = há um NAT do provedor no caminho (CGNAT). A consulta
foi traduzida duas vezes (192.168.0.10 -> 100.64.0.10 -> 203.0.113.50).
Ninguém na internet alcança 100.64.0.10 ("rede inalcançável"), e no
203.0.113.50 quem responde é o provedor, com RST: ele não tem regra para a
porta 8000 (e não vai ter: o endereço é de muitos clientes). Um CGNAT de
verdade nem responde: descarta o SYN, e o colega espera até desistir
("tempo esgotado"); aqui o RST vem porque o provedor simulado não tem
firewall. Nada do colega
chegou na WAN do roteador de casa: o redirecionamento de porta ali não ajuda.
TXT
    desmontar
}

# ===========================================================================
cenario_vpn() {
    titulo "Cenário vpn: um túnel WireGuard passa por cima do CGNAT"
    cat <<'TXT'
A casa continua atrás do CGNAT. Um servidor VPN com IP público (192.0.2.30)
roda o WireGuard (wireguard-go); a casa e o colega se conectam a ele e
ganham endereços do túnel: casa 100.96.0.10, colega 100.96.0.20, servidor
100.96.0.1. Quem inicia a conexão com a VPN é a casa (de dentro para fora,
como qualquer cliente), então o CGNAT deixa passar; depois o colega alcança
a casa pelo endereço do túnel.
TXT
    [ -c /dev/net/tun ] || { echo "Falta /dev/net/tun: o wireguard-go precisa dele" >&2; exit 1; }
    montar cgnat
    # A captura da WAN começa antes do túnel existir: o handshake entra nela.
    capturar roteador wan wan
    export WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD=1
    local who
    (umask 077; for who in vpn casa colega; do wg genkey >"$work/$who.key"; wg pubkey <"$work/$who.key" >"$work/$who.pub"; done)
    # O wireguard-go vira um daemon; ele morre com o namespace (desmontar).
    em vpn wireguard-go "$W-vpn" >"$work/wg-vpn.log" 2>&1
    em casa wireguard-go "$W-casa" >"$work/wg-casa.log" 2>&1
    em colega wireguard-go "$W-col" >"$work/wg-col.log" 2>&1
    em vpn wg set "$W-vpn" private-key "$work/vpn.key" listen-port 51820 \
        peer "$(cat "$work/casa.pub")" allowed-ips 100.96.0.10/32 \
        peer "$(cat "$work/colega.pub")" allowed-ips 100.96.0.20/32
    em casa wg set "$W-casa" private-key "$work/casa.key" \
        peer "$(cat "$work/vpn.pub")" endpoint 192.0.2.30:51820 allowed-ips 100.96.0.0/24 persistent-keepalive 25
    em colega wg set "$W-col" private-key "$work/colega.key" \
        peer "$(cat "$work/vpn.pub")" endpoint 192.0.2.30:51820 allowed-ips 100.96.0.0/24 persistent-keepalive 25
    ip -n "$P-vpn" addr add 100.96.0.1/24 dev "$W-vpn"
    ip -n "$P-casa" addr add 100.96.0.10/24 dev "$W-casa"
    ip -n "$P-colega" addr add 100.96.0.20/24 dev "$W-col"
    for who in "vpn $W-vpn" "casa $W-casa" "colega $W-col"; do
        ip -n "$P-${who% *}" link set "${who#* }" up
    done
    echo "Interfaces do túnel: $W-vpn (servidor VPN), $W-casa (casa), $W-col (colega)."
    capturar casa "$W-casa" tunel
    passo "A casa e o colega falam com o servidor VPN (o primeiro pacote faz o handshake):"
    for who in casa colega; do
        # Um SYN qualquer para 100.96.0.1 (nada escuta na porta 9: RST).
        em "$who" timeout --foreground 5 bash -c 'exec 3<>/dev/tcp/100.96.0.1/9' 2>/dev/null || true
    done
    em vpn wg show "$W-vpn" >"$work/wg-show.txt"
    lab_show "wg show no servidor VPN" "$work/wg-show.txt"
    passo "O MTU do túnel (ip link, na casa):"
    em casa ip link show "$W-casa" | head -1 | sed 's/^/    /'

    passo "O chat pelo túnel: casa ./server 100.96.0.10 8000; colega ./client 100.96.0.10 8000"
    iniciar casa "$work/vpn-servidor.txt" Aguardando "$BIN/ex1_chat/server" 100.96.0.10 8000
    local server=$last_pid
    conversa 100.96.0.10 "Olá pela VPN!" 100.96.0.10 "Oi! Chegou pelo túnel." "$work/vpn"
    lab_stop "$server"
    lab_show "terminal da casa (servidor)" "$work/vpn-servidor.txt"
    lab_show "terminal do colega (digitou: Olá pela VPN!)" "$work/vpn-colega.txt"
    lab_show "terminal da casa (cliente, digitou: Oi! Chegou pelo túnel.)" "$work/vpn-casa.txt"

    passo "E o ex3 pelo túnel: casa ./server 100.96.0.10 8001; colega ./client 100.96.0.10 8001 iguana.jpg"
    iniciar casa "$work/vpn-ex3.txt" Aguardando "$BIN/ex3_files/server" 100.96.0.10 8001 --quiet
    server=$last_pid
    mkdir -p "$work/vpn-downloads"
    em colega timeout --foreground 20 "$BIN/ex3_files/client" 100.96.0.10 8001 iguana.jpg --dir "$work/vpn-downloads" \
        >"$work/vpn-ex3-colega.txt" 2>&1 || true
    lab_stop "$server"
    lab_show "terminal do colega" "$work/vpn-ex3-colega.txt"
    if cmp -s "$work/vpn-downloads/iguana.jpg" "$BIN/ex3_files/imagens/iguana.jpg"; then
        echo "iguana.jpg chegou pelo túnel idêntico ao original."
    else
        echo "ERRO: iguana.jpg não chegou igual pelo túnel" >&2
        exit 1
    fi
    parar_capturas vpn
    passo "WAN do roteador de casa (o que o provedor e a internet veem):"
    tabela "$out_dir/redes-vpn-wan.pcapng" "ip" 16
    tshark -r "$out_dir/redes-vpn-wan.pcapng" -T fields -e ip.proto -e udp.length 2>/dev/null |
        awk '$1 == 6 { tcp++ } $1 == 17 { udp++; if ($2 > m) m = $2 }
             END { printf "  Na WAN: %d datagramas UDP (porta 51820), %d segmentos TCP; o maior UDP tem %d bytes (cabeçalho UDP incluído).\n", udp, tcp, m }'
    passo "Interface do túnel na casa (o que os programas veem):"
    tabela "$out_dir/redes-vpn-tunel.pcapng" "tcp.port == 8000" 16
    tshark -r "$out_dir/redes-vpn-tunel.pcapng" -Y "tcp.port == 8001" -T fields \
        -e tcp.len -e tcp.options.mss_val 2>/dev/null |
        awk '{ if ($1 > m) m = $1; if ($2 != "") mss = $2 }
             END { printf "  ex3 no túnel: MSS anunciado %s; o maior segmento leva %d bytes de dados (filtro: tcp.port == 8001).\n", mss, m }'
    cat <<'TXT'
Repare: na WAN só há UDP para a porta 51820 do servidor VPN: nenhum SYN,
nenhuma porta 8000, nenhum texto; o conteúdo vai cifrado. Na interface do
túnel a conversa aparece em claro, com os endereços 100.96.0.x. Cada pacote
do túnel ganha 32 bytes do WireGuard + 8 do UDP + 20 do IP por fora: por isso
o túnel tem MTU 1420 (1500 - 80, reservando 40 para IPv6), o TCP anuncia MSS
1380 e os segmentos do ex3 levam no máximo 1368 bytes (com timestamps).
TXT
    desmontar
}

# ===========================================================================
# analise <lado> <campo>...: quantos pacotes de captures/redes-perda-<lado>
# têm cada marca tcp.analysis.<campo> (uma contagem por campo).
analise() {
    local lado=$1; shift
    local fields=() f
    for f in "$@"; do fields+=(-e "tcp.analysis.$f"); done
    tshark -r "$out_dir/redes-perda-$lado.pcapng" -T fields "${fields[@]}" -E occurrence=f -E separator=, 2>/dev/null |
        awk -F, -v n=$# '{ for (i = 1; i <= n; i++) if ($i != "") c[i]++ }
                         END { for (i = 1; i <= n; i++) printf "%d%s", c[i], i < n ? " " : "\n" }'
}

# reenvios: na captura do colega (quem envia), quantos segmentos o Wireshark
# marcou como retransmissão, e quantos de fato repetem um número de sequência
# já enviado (os reenvios, seja qual for o nome que o Wireshark lhes dá).
reenvios() {
    tshark -r "$out_dir/redes-perda-colega.pcapng" -Y "tcp.srcport == 8000 && tcp.len > 0" -T fields \
        -e tcp.analysis.retransmission -e tcp.seq -E occurrence=f -E separator=, 2>/dev/null |
        awk -F, '$1 != "" { r++ } seen[$2]++ { s++ } END { print r + 0, s + 0 }'
}

# ---- ex5 (UDP) no cenário perda: o mesmo caminho, sem ninguém para reenviar ----
# perda_ex5: roda no fim do cenário perda, com a topologia ainda montada. O
# roteador passa a descartar também 10% dos datagramas UDP que vêm do colega;
# o ex5 baixa iguana.jpg no modo simples (o que se perde fica perdido) e com
# --confiavel (pare e espere: o ex5 reenvia). Capturas:
# redes-perda-ex5-simples-{colega,casa}.pcapng e redes-perda-ex5-confiavel-*.
perda_ex5() {
    local ex5=(-X "lua_script:$SRC/ex5_udp/ex5.lua") modo lado
    [ -x "$BIN/ex5_udp/client" ] || { echo "Falta $BIN/ex5_udp/client: rode make redes (ou make)" >&2; exit 1; }
    passo "E o ex5, por UDP, no mesmo caminho (ex5_udp/README.md): 10% dos datagramas UDP do colega também se perdem"
    em roteador nft add rule inet perda encaminhar iifname '"wan"' udp sport 8000 numgen random mod 100 '<' 10 counter drop comment '"ex5"'
    echo '$ nft add rule inet perda encaminhar iifname "wan" udp sport 8000 numgen random mod 100 \< 10 counter drop   (no roteador)'
    iniciar colega "$work/perda-ex5-servidor.txt" Aguardando "$BIN/ex5_udp/server" 198.51.100.20 8000 --quiet
    local server=$last_pid
    for modo in simples confiavel; do
        capturar colega eth0 "ex5-$modo-colega"
        capturar casa eth0 "ex5-$modo-casa"
        rm -f "$work/perda-downloads/iguana.jpg"*
        local opcao=()
        [ "$modo" = confiavel ] && opcao=(--confiavel)
        em casa timeout --foreground 30 "$BIN/ex5_udp/client" 198.51.100.20 8000 iguana.jpg --dir "$work/perda-downloads" \
            "${opcao[@]}" >"$work/perda-ex5-$modo.txt" 2>&1 || true
        parar_capturas perda
        lab_show "terminal da casa: ex5_udp/client 198.51.100.20 8000 iguana.jpg ${opcao[*]}" "$work/perda-ex5-$modo.txt"
        for lado in colega casa; do  # os datagramas de dados que o colega enviou / que chegaram na casa
            tshark -r "$out_dir/redes-perda-ex5-$modo-$lado.pcapng" "${ex5[@]}" -Y "udp.srcport == 8000" \
                -T fields -e ex5.dados -e ex5.reenvio 2>/dev/null |
                awk -F'\t' -v l="$lado" -v m="$modo" '$1 != "" { n++; if ($2 == "True" || $2 == "1") r++ }
                    END { printf "  ex5 %s, %s: %d datagramas de dados, %d deles reenvios (filtro ex5.reenvio)\n", m, l == "colega" ? "enviados pelo colega" : "chegaram na casa", n, r + 0 }'
        done
    done
    lab_stop "$server"
    if cmp -s "$work/perda-downloads/iguana.jpg" "$BIN/ex3_files/imagens/iguana.jpg"; then
        echo "ex5 --confiavel: iguana.jpg chegou idêntico ao original, apesar das perdas."
    else
        echo "ERRO: o ex5 --confiavel não trouxe iguana.jpg igual" >&2
        exit 1
    fi
    cat <<'TXT'
Repare: no modo simples o colega enviou cada datagrama uma vez; os que o
roteador descartou nunca chegaram, e o cliente guardou o que veio em
iguana.jpg.incompleto. Com --confiavel cada datagrama espera o seu ACK: o que
se perde é reenviado quando o tempo acaba (o mesmo papel do TCP acima, feito
à mão pelo programa). Para ler o cabeçalho no Wireshark: ex5_udp/ex5.lua.
TXT
}

cenario_perda() {
    titulo "Cenário perda: o ex3 num caminho que perde pacotes"
    cat <<'TXT'
O colega (198.51.100.20) serve as imagens do ex3 e a casa baixa iguana.jpg.
O roteador de casa descarta ao acaso 10% dos pacotes TCP que chegam da
internet (regra nft "numgen random"; SYNs poupados, para a demonstração não
esperar 1 s por um SYN perdido). O TCP percebe e retransmite.
TXT
    montar publico
    em roteador nft -f - <<'NFT'
table inet perda {
  chain encaminhar {
    type filter hook forward priority 0;
    iifname "wan" tcp flags & syn == 0 numgen random mod 100 < 10 counter drop
  }
}
NFT
    echo '$ nft add rule inet perda encaminhar iifname "wan" tcp flags \& syn == 0 numgen random mod 100 \< 10 counter drop   (no roteador)'
    iniciar colega "$work/perda-servidor.txt" Aguardando "$BIN/ex3_files/server" 198.51.100.20 8000 --quiet
    local server=$last_pid
    mkdir -p "$work/perda-downloads"
    # Numa tentativa pode não haver perda nenhuma (é sorteio): tenta de novo,
    # até 8 vezes, até as capturas ter retransmissão, ACK duplicado e fora de ordem.
    local tentativa counts ok=0
    for tentativa in 1 2 3 4 5 6 7 8; do
        capturar colega eth0 colega
        capturar casa eth0 casa
        rm -f "$work/perda-downloads/iguana.jpg"
        em casa timeout --foreground 20 "$BIN/ex3_files/client" 198.51.100.20 8000 iguana.jpg --dir "$work/perda-downloads" \
            >"$work/perda-casa.txt" 2>&1 || true
        parar_capturas perda
        cmp -s "$work/perda-downloads/iguana.jpg" "$BIN/ex3_files/imagens/iguana.jpg" || {
            cat "$work/perda-casa.txt" >&2
            echo "ERRO: iguana.jpg não chegou igual" >&2
            exit 1
        }
        # As retransmissões são contadas em quem envia (o colega), que viu o
        # original passar; o buraco, os ACKs duplicados e o reenvio chegando
        # "fora de ordem", em quem recebe (a casa).
        read -r retrans resent <<<"$(reenvios)"
        read -r dupack ooo <<<"$(analise casa duplicate_ack out_of_order)"
        echo "tentativa $tentativa: retransmissões (colega) $retrans, ACKs duplicados (casa) $dupack, fora de ordem (casa) $ooo"
        if [ "$retrans" -gt 0 ] && [ "$dupack" -gt 0 ] && [ "$ooo" -gt 0 ]; then ok=1; break; fi
    done
    lab_stop "$server"
    local dropped
    dropped=$(em roteador nft list chain inet perda encaminhar | sed -n 's/.*counter packets \([0-9]*\).*/\1/p')
    echo "O roteador descartou $dropped pacotes (contador da regra nft, em $tentativa download(s))."
    lab_show "terminal da casa (cliente)" "$work/perda-casa.txt"
    echo "iguana.jpg chegou idêntico ao original ($(wc -c <"$BIN/ex3_files/imagens/iguana.jpg") bytes), apesar das perdas."
    passo "Na casa (quem recebe), só os pacotes marcados pelo Wireshark:"
    # Os ACKs com SACK entram mesmo quando o Wireshark os chama de Window Update
    # (a janela cresceu): são ACKs que repetem o Ack e avisam do buraco.
    tabela "$out_dir/redes-perda-casa.pcapng" "(tcp.analysis.flags && !tcp.analysis.window_update) || tcp.options.sack_le" 22
    echo "  Contagem: ACKs duplicados $dupack, fora de ordem $ooo (filtros tcp.analysis.duplicate_ack, tcp.analysis.out_of_order)"
    passo "No colega (quem envia), as retransmissões:"
    tabela "$out_dir/redes-perda-colega.pcapng" "tcp.analysis.retransmission" 12
    echo "  Contagem: retransmissões $retrans (filtro tcp.analysis.retransmission)"
    echo "  Reenvios de fato (o mesmo número de sequência enviado de novo): $resent; os outros o"
    echo "  Wireshark chamou de outra coisa (em geral Out-Of-Order, filtro tcp.analysis.out_of_order)."
    [ "$ok" = 1 ] || echo "AVISO: em 8 tentativas o sorteio não produziu os três tipos de marca"
    cat <<'TXT'
Repare: a casa vê um buraco na sequência ("Previous segment not captured":
o segmento foi descartado antes de chegar) e responde repetindo o Ack (o
próximo byte que ela espera), com SACK dizendo o que já chegou depois do
buraco. O Linux do colega não espera três ACKs duplicados: pela detecção
RACK, reenvia quando o SACK mostra que um segmento enviado depois do que
falta já chegou (em geral no primeiro ACK com SACK; às vezes no segundo, se
os dois saíram quase juntos); se o reenvio também se perde, só o
temporizador (RTO, ~200 ms) resolve. O Wireshark não
sabe por que um segmento aparece de novo: ele decide pelos tempos, nesta
ordem: 2 ACKs duplicados antes e o reenvio até 20 ms depois? Fast
Retransmission. Chegou menos de um RTT do handshake depois do segmento mais
adiantado? Out-Of-Order. Senão, Retransmission. A aplicação não vê nada
disso: recv() entrega os bytes em ordem, e o arquivo chega idêntico.
TXT
    perda_ex5  # o ex5 (UDP) no mesmo caminho
    desmontar
}

# ===========================================================================
# O gargalo do cenário congestionamento (variáveis de ambiente, com os padrões):
TAXA=${TAXA:-20mbit}      # a velocidade do link de descida da casa
RAJADA=${RAJADA:-16kb}    # o quanto o tbf deixa passar de uma vez acima da taxa
FILA=${FILA:-60kb}        # o tamanho da fila do gargalo (bytes)
DURACAO=${DURACAO:-4}     # segundos de transferência por algoritmo
ATRASO=${ATRASO:-20ms}    # atraso de propagação (só onde o kernel tem o netem)
[[ "$DURACAO" =~ ^[1-9]$|^10$ ]] || { echo "DURACAO deve ser de 1 a 10 (segundos)" >&2; exit 2; }

# amostrar <arquivo>: no colega, "ss -tin" da conexão do iperf3 a cada 3 ms
# mais o tempo do próprio ss (10 a 13 ms entre amostras nesta máquina; o
# resumo imprime o intervalo medido), cada amostra precedida de "t <segundos>".
amostrar() {
    ip netns exec "$P-colega" bash -c 'while :; do
        echo "t $EPOCHREALTIME"; ss -tinH state established "( sport = :5201 )"; sleep 0.003
    done' >"$1" 2>/dev/null &
    pids+=("$!")
    last_pid=$!
}

# amostras_csv <saída do amostrar> <algoritmo>: a planilha, uma linha por
# amostra, da conexão de dados (a que confirmou mais bytes; a outra é a de
# controle do iperf3): tempo (s, desde a primeira amostra dela), cwnd e
# ssthresh (segmentos), rtt (ms, a média suavizada do kernel), bytes
# confirmados e retransmissões (total, desde o início).
amostras_csv() {
    awk -v alg="$2" -v onde="$(date -u +%Y-%m-%d), Linux $(uname -r)" -v gargalo="$gargalo" '
        $1 == "t" { t = $2; next }
        !/cwnd:/ { peer = $NF; next }   # a linha da conexão: ... <local> <remoto>
        {
            cwnd = ss = rtt = ""; acked = 0; retr = 0
            for (i = 1; i <= NF; i++) {
                split($i, kv, ":")
                if (kv[1] == "cwnd") cwnd = kv[2]
                else if (kv[1] == "ssthresh") ss = kv[2]
                else if (kv[1] == "rtt") { split(kv[2], r, "/"); rtt = r[1] }
                else if (kv[1] == "bytes_acked") acked = kv[2]
                else if (kv[1] == "retrans") { split(kv[2], r, "/"); retr = r[2] }
            }
            if (acked + 0 > most[peer]) most[peer] = acked + 0
            n++; who[n] = peer; when[n] = t; row[n] = cwnd "," ss "," rtt "," acked "," retr
        }
        END {
            print "# tempo_s,cwnd,ssthresh,rtt_ms,bytes_confirmados,retransmissoes (" alg "; ss -tin no colega, redes/redes.sh)"
            print "# medido em " onde "; " gargalo
            for (p in most) if (best == "" || most[p] > most[best]) best = p
            for (i = 1; i <= n; i++) if (who[i] == best) {
                if (t0 == "") t0 = when[i]
                printf "%.4f,%s\n", when[i] - t0, row[i]
            }
        }' "$1"
}

gargalo=  # a descrição do gargalo, para as planilhas
# resumo <csv> <algoritmo>: vazão, retransmissões e RTT mín/méd/máx das amostras.
resumo() {
    awk -F, -v alg="$2" '
        /^#/ { next }
        {
            if (n == 0) { t0 = $1; a0 = $5 }
            t1 = $1; a1 = $5; retr = $6; n++
            if (min == "" || $4 < min) min = $4
            if ($4 > max) max = $4
            sum += $4
        }
        END {
            if (n < 2 || t1 <= t0) { print "  " alg ": amostras insuficientes"; exit 1 }
            printf "  %-6s %5.1f Mbit/s  %4d retransmissões  RTT mín/méd/máx %.2f / %.2f / %.2f ms  (%d amostras, uma a cada %.0f ms)\n",
                alg, (a1 - a0) * 8 / (t1 - t0) / 1e6, retr, min, sum / n, max, n, (t1 - t0) * 1000 / (n - 1)
        }' "$1"
}

cenario_congestionamento() {
    titulo "Cenário congestionamento: um gargalo e o controle de congestionamento do TCP"
    local algs=(reno cubic bbr) alg server
    [ -n "$ALGORITMO" ] && algs=("$ALGORITMO")
    local algoritmo=reno  # o de montar (os roteadores); cada envio escolhe o seu abaixo
    lab_need redes iperf3
    cat <<TXT
O colega (198.51.100.20) envia para a casa, pelo roteador, por $DURACAO s
seguidos (iperf3 -R: a casa pede, o colega envia). O link de descida da casa
(o lado do provedor do cabo WAN) é um gargalo: $TAXA, com uma fila de $FILA
(tbf, rajada $RAJADA). O mesmo envio roda uma vez com cada algoritmo
(${algs[*]}); a cada 10 ms ou pouco mais (o resumo diz o intervalo medido) o script
anota, no colega, a cwnd, o ssthresh e o RTT que o kernel usa (ss -tin).
TXT
    montar publico
    em internet tc qdisc replace dev roteador root tbf rate "$TAXA" burst "$RAJADA" limit "$FILA"
    gargalo="tbf $TAXA, rajada $RAJADA, fila $FILA, sem atraso (sem netem)"
    echo "\$ tc qdisc replace dev roteador root tbf rate $TAXA burst $RAJADA limit $FILA   (na internet, o lado do provedor)"
    if em internet tc qdisc replace dev colega root netem delay "$ATRASO" limit 10000 2>/dev/null; then
        echo "\$ tc qdisc replace dev colega root netem delay $ATRASO limit 10000   (na internet: os ACKs da casa chegam ao colega $ATRASO depois)"
        gargalo="tbf $TAXA, rajada $RAJADA, fila $FILA, atraso $ATRASO (netem)"
    else
        echo "Este kernel não tem o netem (tc ... netem: \"Specified qdisc kind is unknown\"): sem ATRASO, o único atraso é o da fila."
    fi
    lab_tcpdump_options=(-s 128)  # só os cabeçalhos: 4 s a 20 Mbit/s seriam 10 MB
    for alg in "${algs[@]}"; do
        passo "$alg: casa ./iperf3 -c 198.51.100.20 -R -t $DURACAO -C $alg; colega ./iperf3 -s -1"
        if fixar_algoritmo colega "$alg" && fixar_algoritmo casa "$alg"; then
            echo "net.ipv4.tcp_congestion_control = $alg no colega e na casa (e o iperf3 -C $alg)."
        else
            echo "O kernel não deixa um namespace usar $alg como padrão (só $(sysctl -n net.ipv4.tcp_allowed_congestion_control)):" \
                 "o iperf3 -C $alg o escolhe para a sua conexão (setsockopt TCP_CONGESTION)."
        fi
        iniciar colega "$work/iperf3-servidor-$alg.txt" "listening" iperf3 -s -1 -B 198.51.100.20 -p 5201 --forceflush
        server=$last_pid
        capturar colega eth0 "$alg"
        amostrar "$work/ss-$alg.txt"
        local sampler=$last_pid
        em casa timeout --foreground $((DURACAO + 10)) iperf3 -c 198.51.100.20 -p 5201 -R -t "$DURACAO" -C "$alg" \
            --forceflush >"$work/iperf3-$alg.txt" 2>&1 || { cat "$work/iperf3-$alg.txt" >&2; echo "ERRO: o iperf3 falhou" >&2; exit 1; }
        lab_stop "$sampler"
        lab_stop "$server"
        parar_capturas congestionamento
        mkdir -p "$out_dir"
        amostras_csv "$work/ss-$alg.txt" "$alg" >"$out_dir/redes-congestionamento-$alg.csv"
        grep -q " $alg " "$work/ss-$alg.txt" ||
            { echo "ERRO: o ss não mostrou a conexão usando $alg" >&2; exit 1; }
        sed -n '/receiver/s/^/    /p' "$work/iperf3-$alg.txt"
        resumo "$out_dir/redes-congestionamento-$alg.csv" "$alg"
    done
    lab_tcpdump_options=()
    passo "Resumo (das amostras do ss; arquivos $out_dir/redes-congestionamento-<algoritmo>.{csv,pcapng}):"
    for alg in "${algs[@]}"; do resumo "$out_dir/redes-congestionamento-$alg.csv" "$alg"; done
    # O "Repare" fala só dos algoritmos que rodaram (ALGORITMO= roda um).
    local perda_sinal=() alg_
    for alg_ in "${algs[@]}"; do [ "$alg_" != bbr ] && perda_sinal+=("$alg_"); done
    if [ ${#perda_sinal[@]} -gt 0 ]; then
        cat <<TXT
Repare (${perda_sinal[*]}): a cwnd cresce até a fila transbordar (o RTT sobe de
décimos de milissegundo a dezenas: é a fila, não o caminho); vem a perda,
a cwnd é cortada e volta a crescer: o "dente de serra" (compare a cwnd com o
ssthresh na planilha).
TXT
    fi
    if [[ " ${algs[*]} " == *" bbr "* ]]; then
        cat <<'TXT'
Repare (bbr): ele mede a banda e o menor RTT e, no regime, deixa pouco na
fila: o RTT fica baixo com a mesma vazão. No começo (startup) ele enche a
fila e, como não reage à perda, retransmite muito.
TXT
    fi
    cat <<'TXT'
Figuras: make figuras (figuras/congestionamento-*.png, desenhadas das
planilhas prontas); a explicação está em redes/README.md, "Cenário
congestionamento".
TXT
    desmontar
}

for c in "${cenarios[@]}"; do "cenario_$c"; done
printf '\n%sPronto.%s Capturas em %s/redes-*.pcapng; o roteiro está em redes/README.md.\n' "$lab_bold" "$lab_normal" "$out_dir"
