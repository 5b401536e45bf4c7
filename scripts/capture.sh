#!/usr/bin/env bash
# make capture [EX=ex1|ex2|ex3|ex4|ex5|ex6] [NET=veth] [CHUNK=N]
#
# Runs an example's scripted session while tcpdump records it, writes
# captures/novas/<ex>[-veth][-chunkN][-MODO][-perdaP].pcapng (open it in
# Wireshark; each variant its own file, so one run does not overwrite
# another) and prints a table of the packets like the lab guide's, with the
# display filter to use. Run with sudo, the files and captures/novas/ are
# given to the user who ran sudo ($SUDO_UID:$SUDO_GID).
#
#   EX=ex1|...|ex6   one example (default: all of them; ex6 is Modbus/TCP,
#                    decoded with -o mbtcp.tcp.port:PORT)
#   NET=veth         two "hosts": the server and the client in two network
#                    namespaces joined by a veth pair with MTU 1500, and
#                    segmentation offload limited so that segments appear at
#                    the MTU as on a real Ethernet link (root only)
#   CHUNK=N          ex3: bytes per send() of the server (default 1024)
#   CAPTURE_DIR=DIR  where to write the captures (default: captures/novas/,
#                    ignored by git; the samples in captures/ come from make samples).
#                    With CAPTURE_DIR given, each file is plain <ex>.pcapng
#                    (the tests and make samples use one folder per run).
#   LAB_PORT=N       the server's port (default: a free one)
#   LAB_BIN_DIR=DIR  where the built programs are (default: this repository)
#   ex5 (UDP) only:
#   MODO=confiavel|janela:N   the client's mode (default: the plain one)
#   PERDA=P          NET=veth only: the client's side drops P% of the datagrams
#                    from the server (nft numgen random), and the capture is
#                    taken on the server's side, so each lost datagram and
#                    its retransmission are both in it
#   The table is decoded with ex5_udp/ex5.lua (seq, ack, type of each datagram).
# Messages for students are in Portuguese, like the programs'.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh  # the shell glue (traps, starting programs, tcpdump, the table)
given=""  # the settings as the user gave them, for the hint in no_right
for setting in EX NET CHUNK MODO PERDA; do
    [ -n "${!setting:-}" ] && given+=" $setting=${!setting}"
done
EX=${EX:-all}
NET=${NET:-lo}
CHUNK=${CHUNK:-}
out_dir=${CAPTURE_DIR:-captures/novas}

# file_name EX: the capture's name in out_dir. In the default folder each
# variant gets its own name; in a CAPTURE_DIR given by the caller, <ex>.pcapng.
file_name() {
    local name=$1
    if [ -z "${CAPTURE_DIR:-}" ]; then
        [ "$NET" = veth ] && name+=-veth
        case "$1" in ex3 | ex5) [ -n "$CHUNK" ] && name+=-chunk$CHUNK ;; esac
        if [ "$1" = ex5 ]; then
            [ -n "${MODO:-}" ] && name+=-${MODO/:/}
            [ -n "${PERDA:-}" ] && name+=-perda$PERDA
        fi
    fi
    echo "$name.pcapng"
}

# give_to_user PATH...: under sudo, the files belong to the user who ran it
# (a root-owned capture cannot be moved or deleted by the student later).
give_to_user() {
    if [ "$(id -u)" = 0 ] && [ -n "${SUDO_UID:-}" ]; then
        chown "$SUDO_UID:${SUDO_GID:-$SUDO_UID}" "$@" 2>/dev/null || true
    fi
}

# The display filter of each example, for the hint below.
filter_of() {
    case "$1" in
        ex5) echo "udp.port == 8000" ;;
        ex6) echo "tcp.port == 1502" ;;
        all) echo "tcp.port == 8000 (Exemplo 5: udp.port == 8000; Exemplo 6: tcp.port == 1502)" ;;
        *) echo "tcp.port == 8000" ;;
    esac
}

case "$EX" in all) examples=(ex1 ex2 ex3 ex4 ex5 ex6) ;; ex1 | ex2 | ex3 | ex4 | ex5 | ex6) examples=("$EX") ;;
    *) echo "EX deve ser ex1, ex2, ex3, ex4, ex5 ou ex6" >&2; exit 2 ;; esac
case "$NET" in lo | veth) ;; *) echo "NET deve ser veth (ou vazio, para o loopback)" >&2; exit 2 ;; esac

lab_need capture tcpdump tshark

# Capturing needs root or CAP_NET_RAW; two namespaces need root. Say exactly
# what to do instead of writing an empty file.
no_right() {
    cat >&2 <<MSG
Capturar pacotes exige mais permissões do que este usuário tem ($1).
  Sem capturar nada: abra as capturas prontas de captures/ (ex1.pcapng, ...);
      cada guia diz qual usar no lugar da sua.
  Se o dumpcap tem as permissões ($(command -v getcap || echo /usr/sbin/getcap) /usr/bin/dumpcap mostra
      cap_net_admin,cap_net_raw=eip) e você está no grupo wireshark: capture
      no próprio Wireshark, interface "Loopback: lo", filtro $(filter_of "$EX"),
      e rode ./server e ./client à mão (captures/README.md). O grupo não vale
      para o tcpdump do 'make capture'.
  Com root: sudo make capture$given
      (ou, uma vez, sudo setcap cap_net_raw,cap_net_admin=eip $(command -v tcpdump):
      depois 'make capture' funciona sem sudo, só no loopback)
MSG
    exit 1
}
if [ "$(id -u)" != 0 ]; then
    [ "$NET" = veth ] && no_right "NET=veth cria network namespaces: só como root"
    getcap_=$(command -v getcap || echo /usr/sbin/getcap)  # not on a user's PATH in Debian
    "$getcap_" "$(command -v tcpdump)" 2>/dev/null | grep -q cap_net_raw ||
        no_right "não é root, e o tcpdump não tem CAP_NET_RAW"
fi

work=$(mktemp -d)
ns_a="" ns_b=""
# On exit, Ctrl+C or error: the programs stop, then the namespaces (if any)
# go, then $work.
delete_ns() {
    [ -z "$ns_a" ] || ip netns del "$ns_a" 2>/dev/null || true
    [ -z "$ns_b" ] || ip netns del "$ns_b" 2>/dev/null || true
}
lab_on_exit delete_ns

iface=lo
if [ "$NET" = veth ]; then
    # Two hosts: lab-a-<pid> (client, 10.99.0.1) and lab-b-<pid> (server,
    # 10.99.0.2), a veth cable between them. Deleting a namespace removes
    # its end of the cable (cleanup above, also on Ctrl+C).
    ns_a="lab-a-$$" ns_b="lab-b-$$" va="lva$$" vb="lvb$$"
    ip netns add "$ns_a"
    ip netns add "$ns_b"
    ip link add "$va" type veth peer name "$vb"
    ip link set "$va" netns "$ns_a"
    ip link set "$vb" netns "$ns_b"
    ip -n "$ns_a" addr add 10.99.0.1/24 dev "$va"
    ip -n "$ns_b" addr add 10.99.0.2/24 dev "$vb"
    for side in "$ns_a:$va" "$ns_b:$vb"; do
        ns=${side%%:*} dev=${side#*:}
        ip -n "$ns" link set "$dev" up mtu 1500
        ip -n "$ns" link set lo up
        # Without this the kernel hands the capture "super-segments" of up to
        # 64 KiB that are only cut to the MTU later (GSO): not what a real
        # wire carries.
        ip -n "$ns" link set "$dev" gso_max_segs 1
    done
    HOST=10.99.0.2
    IN_SERVER=(ip netns exec "$ns_b")
    IN_CLIENT=(ip netns exec "$ns_a")
    iface=$va
fi
. scripts/sessions.sh

[ -d "$out_dir" ] || { mkdir -p "$out_dir"; give_to_user "$out_dir"; }

# finish_capture EX: the last packets (0.3 s), then tcpdump and the server
# stop; the capture goes to out_dir as pcapng (tcpdump writes pcap;
# Wireshark's own format is pcapng), given to the user. Sets $file and
# $count (its packets).
finish_capture() {
    sleep 0.3
    lab_tcpdump_stop
    stop_server
    [ "$lab_dropped" = 0 ] ||
        echo "AVISO: o kernel descartou $lab_dropped pacotes; a captura de $1 está incompleta" >&2
    file=$out_dir/$(file_name "$1")
    tshark -r "$work/$1.pcap" -F pcapng -w "$file" 2>/dev/null
    give_to_user "$file"
    count=$(tshark -r "$file" 2>/dev/null | wc -l)
    [ "$count" -gt 0 ] || { echo "a captura de $1 ficou vazia" >&2; exit 1; }
}

capture() {
    local ex=$1 dir options=()
    case "$ex" in
        ex1) dir=ex1_chat ;;
        ex2) dir=ex2_crypto ;;
        ex3) dir=ex3_files; options=(--quiet ${CHUNK:+--chunk "$CHUNK"}) ;;
        ex4) dir=ex4_kx ;;
        ex6) dir=ex6_modbus ;;
    esac
    start_server "$dir" "${options[@]}"
    # ex6: Wireshark knows Modbus/TCP only on 502; tell it the port used here.
    TSHARK_OPTIONS=()
    [ "$ex" = ex6 ] && TSHARK_OPTIONS=(-o "mbtcp.tcp.port:$port")
    lab_tcpdump_start "$iface" "$work/$ex.pcap" "tcp port $port" ${IN_CLIENT[@]+"${IN_CLIENT[@]}"} ||
        no_right "o tcpdump falhou"
    case "$ex" in
        ex1) chat_session ex1_chat "Olá turma de redes industriais" "Oi! Recebi." ;;
        ex2) chat_session ex2_crypto "Olá turma de redes" "Oi! Recebi." ;;
        ex3) files_session iguana.jpg ;;
        # The clients pin the key the server printed (nothing saved beside them).
        ex4) CLIENT_ARGS=(--chave-servidor "$(server_key)")
             chat_session ex4_kx "Olá turma de redes" "Oi! Recebi."
             CLIENT_ARGS=() ;;
        ex6) modbus_session ;;
    esac
    local file count
    finish_capture "$ex"

    echo
    echo "== $ex: $file ($count pacotes, interface $iface${CHUNK:+, --chunk $CHUNK}) =="
    lab_pcap_table "$file" tcp.len Dados ${TSHARK_OPTIONS[@]+"${TSHARK_OPTIONS[@]}"}
    tshark -r "$file" -Y "tcp.srcport == $port && tcp.len > 0 && !tcp.analysis.retransmission" -T fields \
        -e tcp.len 2>/dev/null | awk -v ex="$ex" '
        { n++; s += $1; if ($1 > m) m = $1 }
        END { printf "Servidor -> clientes: %d segmentos com dados, %d bytes, o maior com %d bytes.\n", n, s, m }'
    echo "Filtro para o Wireshark: tcp.port == $port"
    # ex4: what each segment of the new handshake is (issue 19).
    if [ "$ex" = ex4 ]; then
        echo "Exemplo 4, o aperto de mão de cada cliente (Dados):"
        echo "  90 servidor: S (a chave que ele mostra) + Es (nova, só desta conexão)"
        echo "  78 cliente:  Ec (nova, só desta conexão) + o cabeçalho do fluxo dele"
        echo "  62 servidor: o cabeçalho do fluxo dele + o \"OK\" cifrado (a confirmação da chave)"
        echo "  29 cliente:  o \"OK\" cifrado; depois, cada mensagem: texto + 17 bytes, em base64"
    fi
    [ "$ex" = ex6 ] && echo "Modbus/TCP nesta porta: tshark -r $file -o mbtcp.tcp.port:$port -O mbtcp,modbus (no Wireshark: Preferências → Protocols → Modbus/TCP → porta $port)"
    true
}

# ---- ex5: the same file over UDP -------------------------------------------
MODO=${MODO:-}
PERDA=${PERDA:-}
case "$MODO" in "" | simples) mode=() ;; confiavel) mode=(--confiavel) ;;
    janela:[0-9]*) mode=(--janela "${MODO#janela:}") ;;
    *) echo "MODO deve ser confiavel ou janela:N (ou vazio, o modo simples)" >&2; exit 2 ;; esac
if [ -n "$PERDA" ]; then
    [ "$NET" = veth ] || { echo "PERDA=$PERDA precisa de NET=veth (a perda é feita num namespace)" >&2; exit 2; }
    case "$PERDA" in [0-9] | [1-9][0-9]) ;; *) echo "PERDA deve ser de 0 a 99 (%)" >&2; exit 2 ;; esac
fi
ex5_tshark=(-X lua_script:ex5_udp/ex5.lua)
capture_udp() {
    start_server ex5_udp --quiet ${CHUNK:+--chunk "$CHUNK"} --dir "$BIN/ex3_files/imagens"
    ex5_tshark+=(-d "udp.port==$port,ex5")
    local where=(${IN_CLIENT[@]+"${IN_CLIENT[@]}"}) dev=$iface
    if [ -n "$PERDA" ]; then
        # The client's host drops datagrams from the server as they come in
        # (prerouting); the capture is on the server's host, which saw them leave.
        "${IN_CLIENT[@]}" nft -f - <<NFT
table inet perda {
  chain entrada {
    type filter hook prerouting priority -300;
    udp sport $port numgen random mod 100 < $PERDA counter drop
  }
}
NFT
        where=("${IN_SERVER[@]}") dev=$vb
    fi
    # UDP to or from the port, and the IP fragments that carry no UDP header.
    lab_tcpdump_start "$dev" "$work/ex5.pcap" "udp port $port or (ip[6:2] & 0x1fff != 0)" ${where[@]+"${where[@]}"} ||
        no_right "o tcpdump falhou"
    mkdir -p "$work/downloads"
    lab_timeout 60 ${IN_CLIENT[@]+"${IN_CLIENT[@]}"} "$BIN/ex5_udp/client" "$HOST" "$port" iguana.jpg --dir "$work/downloads" \
        ${mode[@]+"${mode[@]}"} >"$work/c1.txt" 2>&1 || true
    local file count
    finish_capture ex5
    echo
    echo "== ex5: $file ($count pacotes, interface $dev, modo ${MODO:-simples}${CHUNK:+, --chunk $CHUNK}${PERDA:+, perda de $PERDA% no cliente}) =="
    sed 's/^/  cliente: /' "$work/c1.txt"
    [ -n "$PERDA" ] && "${IN_CLIENT[@]}" nft list chain inet perda entrada | sed -n 's/.*counter packets \([0-9]*\).*/  descartados no cliente: \1 datagramas/p'
    lab_pcap_table "$file" udp.length UDP "${ex5_tshark[@]}"
    tshark -r "$file" -T fields -e udp.srcport -e ip.flags.mf -e ip.frag_offset 2>/dev/null |
        awk -F'\t' -v p="$port" '$1 == p { d++ } $2 == 1 || $3 > 0 { f++ }
            END { printf "Servidor -> cliente: %d datagramas; %d quadros são fragmentos IP. Nenhum SYN, nenhum FIN: não há conexão.\n", d, f }'
    echo "Filtro para o Wireshark: udp.port == $port (com o dissector: ex5; Decode As... UDP $port -> EX5)"
}

for ex in "${examples[@]}"; do
    if [ "$ex" = ex5 ]; then capture_udp; else capture "$ex"; fi
done
