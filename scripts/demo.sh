#!/usr/bin/env bash
# make demo: run each example on loopback as a short scripted session and show
# what every terminal would show. Everything started here is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
work=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ -t 1 ]; then bold=$(tput bold 2>/dev/null || true); normal=$(tput sgr0 2>/dev/null || true); else bold=; normal=; fi
title() { printf '\n%s=== %s ===%s\n' "$bold" "$1" "$normal"; }
show() {  # show <heading> <file>: a terminal's screen, indented
    printf '%s--- %s%s\n' "$bold" "$1" "$normal"
    sed 's/^/    /' "$2"
    printf '\n'
}

# start_server <folder> [options]: start <folder>/server on a free port of
# 127.0.0.1; sets $port and $server_pid, log in $work/server.log.
start_server() {
    local dir=$1; shift
    for _ in 1 2 3 4 5 6 7 8 9 10; do
        port=$((20000 + RANDOM % 40000))
        (cd "$dir" && exec ./server 127.0.0.1 "$port" "$@") >"$work/server.log" 2>&1 &
        server_pid=$!
        pids+=("$server_pid")
        for _ in $(seq 100); do
            grep -q Aguardando "$work/server.log" && return 0
            kill -0 "$server_pid" 2>/dev/null || break
            sleep 0.05
        done
        kill "$server_pid" 2>/dev/null || true
    done
    echo "could not start $dir/server" >&2
    exit 1
}
stop_server() { kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; }

# type_lines <delay> <line>... : what a person types, one line every <delay> s,
# then a short pause and Ctrl+D (end of input).
type_lines() {
    local delay=$1; shift
    for line in "$@"; do sleep "$delay"; printf '%s\n' "$line"; done
    sleep 1
}

# ---------------------------------------------------------------------------
title "Exemplo 1 - chat (ex1_chat): um servidor, dois clientes"
start_server ex1_chat
echo "servidor: ex1_chat/server 127.0.0.1 $port; clientes: ex1_chat/client 127.0.0.1 $port"
type_lines 0.4 "Olá turma de redes industriais" \
    | timeout 10 ex1_chat/client 127.0.0.1 "$port" >"$work/ana.txt" 2>&1 &
a=$!
type_lines 0.8 "Oi! Recebi a mensagem." \
    | timeout 10 ex1_chat/client 127.0.0.1 "$port" >"$work/bruno.txt" 2>&1 &
b=$!
wait "$a" "$b" || true
stop_server
show "terminal do servidor" "$work/server.log"
show "terminal do cliente 1 (digitou: Olá turma de redes industriais)" "$work/ana.txt"
show "terminal do cliente 2 (digitou: Oi! Recebi a mensagem.)" "$work/bruno.txt"
echo "Cada mensagem voltou para os dois clientes, inclusive para quem enviou."
echo "No fim da entrada (Ctrl+D) cada cliente fecha o envio e o servidor encerra a conexão."

# ---------------------------------------------------------------------------
title "Exemplo 2 - chat cifrado (ex2_crypto): a mesma conversa, cifrada"
start_server ex2_crypto
echo "servidor: ex2_crypto/server 127.0.0.1 $port; clientes: ex2_crypto/client 127.0.0.1 $port"
type_lines 0.4 "Olá turma de redes" \
    | timeout 10 ex2_crypto/client 127.0.0.1 "$port" >"$work/ana.txt" 2>&1 &
a=$!
type_lines 0.8 "Agora ninguém lê no Wireshark?" \
    | timeout 10 ex2_crypto/client 127.0.0.1 "$port" >"$work/bruno.txt" 2>&1 &
b=$!
wait "$a" "$b" || true
# The weakness the guide points out: just connecting is enough to get the key.
exec 3<>"/dev/tcp/127.0.0.1/$port"
IFS= read -r -t 5 key <&3 || key="(não recebida)"
exec 3<&-
sleep 0.2
stop_server
show "terminal do servidor" "$work/server.log"
show "terminal do cliente 1 (digitou: Olá turma de redes)" "$work/ana.txt"
show "terminal do cliente 2 (digitou: Agora ninguém lê no Wireshark?)" "$work/bruno.txt"
echo "Na rede só passam tokens (base64url) como linhas; mas a chave vai em claro:"
echo "um 'espião' que só se conectou recebeu a chave $key"
echo "e com ela decifra tudo (ex2_crypto/client --decrypt CHAVE; veja ex2_crypto/README.md)."

# ---------------------------------------------------------------------------
title "Exemplo 3 - repositório de arquivos (ex3_files): download de iguana.jpg"
start_server ex3_files
mkdir -p "$work/downloads"
echo "servidor: ex3_files/server 127.0.0.1 $port"
echo "cliente:  ex3_files/client 127.0.0.1 $port iguana.jpg   (e depois: nao-existe.jpg)"
timeout 10 ex3_files/client 127.0.0.1 "$port" iguana.jpg --dir "$work/downloads" >"$work/c1.txt" 2>&1 || true
timeout 10 ex3_files/client 127.0.0.1 "$port" nao-existe.jpg --dir "$work/downloads" >"$work/c2.txt" 2>&1 || true
sleep 0.2
stop_server
# The server prints one line per 1024-byte send: show the start and the end.
awk '/Enviado o segmento/ { n++; if (n <= 3) print; else if (n == 4) print "(...)"; last = $0; next }
     n > 3 && last != "" { print last; last = "" } { print }' "$work/server.log" >"$work/server-short.log"
show "terminal do servidor" "$work/server-short.log"
show "terminal do cliente (iguana.jpg)" "$work/c1.txt"
show "terminal do cliente (nao-existe.jpg)" "$work/c2.txt"
if cmp -s "$work/downloads/iguana.jpg" ex3_files/imagens/iguana.jpg; then
    echo "downloads/iguana.jpg é idêntico a imagens/iguana.jpg ($(wc -c <ex3_files/imagens/iguana.jpg) bytes):"
    echo "98 envios de até 1024 bytes; o 'OK' final foi conferido e retirado."
else
    echo "ERRO: o arquivo baixado difere do original" >&2
    exit 1
fi
echo "Nenhum arquivo foi criado para nao-existe.jpg: $(ls "$work/downloads")"

printf '\n%sPronto.%s Para rodar à mão, veja README.md (dois terminais: ./server e ./client).\n' "$bold" "$normal"
