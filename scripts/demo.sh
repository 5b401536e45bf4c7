#!/usr/bin/env bash
# make demo: run each example on loopback as a short scripted session and show
# what every terminal would show. Everything started here is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/sessions.sh  # and scripts/lib.sh
work=$(mktemp -d)
lab_on_exit

# ---------------------------------------------------------------------------
lab_title "Exemplo 1 - chat (ex1_chat): um servidor, dois clientes"
start_server ex1_chat
echo "servidor: ex1_chat/server 127.0.0.1 $port; clientes: ex1_chat/client 127.0.0.1 $port"
chat_session ex1_chat "Olá turma de redes industriais" "Oi! Recebi a mensagem."
stop_server
lab_show "terminal do servidor" "$work/server.log"
lab_show "terminal do cliente 1 (digitou: Olá turma de redes industriais)" "$work/c1.txt"
lab_show "terminal do cliente 2 (digitou: Oi! Recebi a mensagem.)" "$work/c2.txt"
echo "Cada mensagem voltou para os dois clientes, inclusive para quem enviou."
echo "No fim da entrada (Ctrl+D) cada cliente fecha o envio e o servidor encerra a conexão."

# ---------------------------------------------------------------------------
lab_title "Exemplo 2 - chat cifrado (ex2_crypto): a mesma conversa, cifrada"
start_server ex2_crypto
echo "servidor: ex2_crypto/server 127.0.0.1 $port; clientes: ex2_crypto/client 127.0.0.1 $port"
chat_session ex2_crypto "Olá turma de redes" "Agora ninguém lê no Wireshark?"
# The weakness the guide points out: just connecting is enough to get the key.
exec 3<>"/dev/tcp/127.0.0.1/$port"
IFS= read -r -t 5 key <&3 || key="(não recebida)"
exec 3<&-
sleep 0.2
stop_server
lab_show "terminal do servidor" "$work/server.log"
lab_show "terminal do cliente 1 (digitou: Olá turma de redes)" "$work/c1.txt"
lab_show "terminal do cliente 2 (digitou: Agora ninguém lê no Wireshark?)" "$work/c2.txt"
echo "Na rede só passam tokens (base64url) como linhas; mas a chave vai em claro:"
echo "um 'espião' que só se conectou recebeu a chave $key"
echo "e com ela decifra tudo (ex2_crypto/client --decrypt CHAVE; veja ex2_crypto/README.md)."

# ---------------------------------------------------------------------------
lab_title "Exemplo 4 - troca de chaves (ex4_kx): a mesma conversa, sem chave na rede"
start_server ex4_kx
key=$(server_key)
echo "servidor: ex4_kx/server 127.0.0.1 $port"
echo "clientes: ex4_kx/client 127.0.0.1 $port --chave-servidor $key"
CLIENT_ARGS=(--chave-servidor "$key")
chat_session ex4_kx "Olá turma de redes" "E agora, o Wireshark lê?"
CLIENT_ARGS=()
# The same eavesdropper as in ex2: it connects and reads what the server
# sends first, twice: two lines each time (S, then Es).
spy() {
    exec 3<>"/dev/tcp/127.0.0.1/$port"
    IFS= read -r -t 5 spied_s <&3 || spied_s="(nada)"
    IFS= read -r -t 5 spied_es <&3 || spied_es="(nada)"
    exec 3<&-
}
spy; first_s=$spied_s first_es=$spied_es
spy
sleep 0.2
lab_show "terminal do servidor" "$work/server.log"
lab_show "terminal do cliente 1 (digitou: Olá turma de redes)" "$work/c1.txt"
lab_show "terminal do cliente 2 (digitou: E agora, o Wireshark lê?)" "$work/c2.txt"
echo "O 'espião' do Exemplo 2 conectou-se duas vezes. Recebeu, cada vez, duas linhas:"
echo "  1ª conexão: $first_s  $first_es"
echo "  2ª conexão: $spied_s  $spied_es"
echo "A primeira é a chave PÚBLICA que o servidor mostrou (a mesma nas duas); a segunda, uma"
echo "chave pública nova, só daquela conexão (Es). As chaves de sessão nunca passam pela rede,"
echo "e com essas chaves nada decifra (ex2_crypto/client --decrypt não abre nenhuma linha)."
echo "O servidor escreveu 'não sincronizado' para o espião: ele não fez a troca de chaves."
# A man in the middle: the intruder relays to the server with its own keys
# (kept in intruso.chave beside it: the same key every time it runs).
cp "$BIN/ex4_kx/client" "$work/client"  # its servidores_conhecidos.txt goes in $work
middle=$((port + 1))
lab_start "$work/intruso.log" Aguardando "$BIN/ex4_kx/intruso" 127.0.0.1 "$middle" 127.0.0.1 "$port" || true
lab_type_lines 0.4 "minha senha é 1234" | lab_timeout 10 "$work/client" 127.0.0.1 "$middle" \
    >"$work/c3.txt" 2>&1 || true
lab_type_lines 0.4 "minha senha é 1234" | lab_timeout 10 "$BIN/ex4_kx/client" 127.0.0.1 "$middle" \
    --chave-servidor "$key" >"$work/c4.txt" 2>&1 || true
sleep 0.2
stop_server
lab_show "terminal do intruso (ex4_kx/intruso 127.0.0.1 $middle 127.0.0.1 $port)" "$work/intruso.log"
lab_show "cliente SEM --chave-servidor, conectado ao intruso (confiou na primeira chave)" "$work/c3.txt"
lab_show "cliente COM --chave-servidor, conectado ao intruso" "$work/c4.txt"
echo "Quem confere a chave do servidor não é enganado; veja ex4_kx/README.md."

# ---------------------------------------------------------------------------
lab_title "Exemplo 3 - repositório de arquivos (ex3_files): download de iguana.jpg"
start_server ex3_files
echo "servidor: ex3_files/server 127.0.0.1 $port"
echo "cliente:  ex3_files/client 127.0.0.1 $port iguana.jpg   (e depois: nao-existe.jpg)"
files_session iguana.jpg nao-existe.jpg
sleep 0.2
stop_server
# The server prints one line per 1024-byte send: show the start and the end.
awk '/Enviado o segmento/ { n++; if (n <= 3) print; else if (n == 4) print "(...)"; last = $0; next }
     n > 3 && last != "" { print last; last = "" } { print }' "$work/server.log" >"$work/server-short.log"
lab_show "terminal do servidor" "$work/server-short.log"
lab_show "terminal do cliente (iguana.jpg)" "$work/c1.txt"
lab_show "terminal do cliente (nao-existe.jpg)" "$work/c2.txt"
if cmp -s "$work/downloads/iguana.jpg" ex3_files/imagens/iguana.jpg; then
    echo "downloads/iguana.jpg é idêntico a imagens/iguana.jpg ($(wc -c <ex3_files/imagens/iguana.jpg) bytes):"
    echo "98 envios de até 1024 bytes; o 'OK' final foi conferido e retirado."
else
    echo "ERRO: o arquivo baixado difere do original" >&2
    exit 1
fi
echo "Nenhum arquivo foi criado para nao-existe.jpg (downloads/ contém só: $(cd "$work/downloads" && echo *))"

# ---------------------------------------------------------------------------
lab_title "Exemplo 5 - o mesmo arquivo por UDP (ex5_udp): modo simples e --confiavel"
start_server ex5_udp --quiet
echo "servidor: ex5_udp/server 127.0.0.1 $port --quiet   (serve ../ex3_files/imagens)"
echo "clientes: ex5_udp/client 127.0.0.1 $port iguana.jpg   e   ... iguana.jpg --confiavel"
mkdir -p "$work/ex5"
for mode in "" --confiavel; do
    lab_timeout 30 "$BIN/ex5_udp/client" 127.0.0.1 "$port" iguana.jpg --dir "$work/ex5$mode" $mode \
        >>"$work/ex5.txt" 2>&1 || true
done
sleep 0.2
stop_server
lab_show "terminal do servidor" "$work/server.log"
lab_show "terminal do cliente (as duas vezes)" "$work/ex5.txt"
if cmp -s "$work/ex5/iguana.jpg" ex3_files/imagens/iguana.jpg &&
   cmp -s "$work/ex5--confiavel/iguana.jpg" ex3_files/imagens/iguana.jpg; then
    echo "Os dois downloads são idênticos a iguana.jpg: sem conexão, sem handshake, sem FIN;"
    echo "o SIZE disse quanto esperar e o OK trouxe o CRC-32. Num caminho que perde pacotes"
    echo "só o --confiavel chega inteiro (sudo make redes CENARIO=perda; ex5_udp/README.md)."
else
    echo "ERRO: um download do ex5 difere do original" >&2
    exit 1
fi
lab_title "Exemplo 6 - Modbus/TCP (ex6_modbus): um CLP simulado e um mestre"
start_server ex6_modbus
echo "servidor: ex6_modbus/server 127.0.0.1 $port; mestre: ex6_modbus/client 127.0.0.1 $port COMANDO"
modbus_session  # ler 0 5, escrever 10 4321, ler 99 2
"$BIN/ex6_modbus/client" "$HOST" "$port" ler 10 --detalhes >"$work/c4.txt" 2>&1 || true
stop_server
lab_show "terminal do servidor" "$work/server.log"
lab_show "ex6_modbus/client ler 0 5" "$work/c1.txt"
lab_show "ex6_modbus/client escrever 10 4321" "$work/c2.txt"
lab_show "ex6_modbus/client ler 99 2 (o registrador 100 não existe: exceção 02, código de saída 1)" "$work/c3.txt"
lab_show "ex6_modbus/client ler 10 --detalhes (cada byte, com os nomes do Wireshark)" "$work/c4.txt"
echo "O registrador 0 é o nível do tanque: ele muda sozinho (veja ex6_modbus/README.md)."

printf '\n%sPronto.%s Para rodar à mão, veja ESTUDANTES.md (dois terminais: ./server e ./client);\n' "$lab_bold" "$lab_normal"
echo "os pacotes de cada exemplo, para abrir no Wireshark sem root: captures/README.md."
