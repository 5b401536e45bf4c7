# Scripted sessions of the examples, shared by demo.sh and capture.sh
# (sourced, not run). The caller sets $work (a temporary folder) and may set:
#   LAB_BIN_DIR   where the built programs are (default: the repository)
#   HOST          the server's address (default 127.0.0.1)
#   LAB_PORT      the server's port (default: a random free one; the shipped
#                 sample captures are recorded on 8000, in a namespace of their own)
#   IN_SERVER / IN_CLIENT   command prefixes, e.g. (ip netns exec labB)
#   CLIENT_ARGS   extra options for chat_session's clients (ex4: --chave-servidor K)
# The glue (starting a program and waiting for its line, time limits) is
# scripts/lib.sh's.
. scripts/lib.sh
BIN=${LAB_BIN_DIR:-$(pwd)}
HOST=${HOST:-127.0.0.1}
IN_SERVER=(${IN_SERVER[@]+"${IN_SERVER[@]}"})
IN_CLIENT=(${IN_CLIENT[@]+"${IN_CLIENT[@]}"})
CLIENT_ARGS=(${CLIENT_ARGS[@]+"${CLIENT_ARGS[@]}"})
pids=()

# start_server <folder> [options]: start <folder>/server on a free port;
# sets $port and $server_pid, its output in $work/server.log.
start_server() {
    local dir=$1; shift
    lab_start_server -C "$BIN/$dir" "$work/server.log" Aguardando \
        ${IN_SERVER[@]+"${IN_SERVER[@]}"} ./server "$HOST" {PORT} "$@" ||
        { echo "não foi possível iniciar $dir/server" >&2; exit 1; }
    server_pid=$lab_pid
}
# server_key: the public key the server printed at start-up (ex4).
server_key() { sed -n 's/^Chave pública do servidor: //p' "$work/server.log"; }
stop_server() { lab_stop "$server_pid"; }

# chat_session <folder> <message 1> <message 2>: two clients of a chat, each
# typing one line; screens in $work/c1.txt and $work/c2.txt.
chat_session() {
    local dir=$1
    lab_type_lines 0.4 "$2" | lab_timeout 10 ${IN_CLIENT[@]+"${IN_CLIENT[@]}"} "$BIN/$dir/client" "$HOST" "$port" \
        ${CLIENT_ARGS[@]+"${CLIENT_ARGS[@]}"} >"$work/c1.txt" 2>&1 &
    local a=$!
    lab_type_lines 0.8 "$3" | lab_timeout 10 ${IN_CLIENT[@]+"${IN_CLIENT[@]}"} "$BIN/$dir/client" "$HOST" "$port" \
        ${CLIENT_ARGS[@]+"${CLIENT_ARGS[@]}"} >"$work/c2.txt" 2>&1 &
    local b=$!
    wait "$a" "$b" || true
}

# files_session <name>...: one ex3 client per name, into $work/downloads;
# the screen of the i-th in $work/c<i>.txt.
files_session() {
    local i=0
    mkdir -p "$work/downloads"
    for name in "$@"; do
        i=$((i + 1))
        lab_timeout 30 ${IN_CLIENT[@]+"${IN_CLIENT[@]}"} "$BIN/ex3_files/client" "$HOST" "$port" "$name" \
            --dir "$work/downloads" >"$work/c$i.txt" 2>&1 || true
    done
}

# modbus_session: ex6's master asks the PLC three things, one connection each
# (a read, a write, a read past the end that gets exception 02); the screen
# of each in $work/c<i>.txt. The sample capture captures/ex6.pcapng is this.
modbus_session() {
    local i=0 args
    for args in "ler 0 5" "escrever 10 4321" "ler 99 2"; do
        i=$((i + 1))
        # shellcheck disable=SC2086  # the words of one command
        lab_timeout 10 ${IN_CLIENT[@]+"${IN_CLIENT[@]}"} "$BIN/ex6_modbus/client" "$HOST" "$port" $args \
            >"$work/c$i.txt" 2>&1 || true
        sleep 0.2
    done
}
