# Scripted sessions of the examples, shared by demo.sh and capture.sh
# (sourced, not run). The caller sets $work (a temporary folder) and may set:
#   LAB_BIN_DIR   where the built programs are (default: the repository)
#   HOST          the server's address (default 127.0.0.1)
#   LAB_PORT      the server's port (default: a random free one; the shipped
#                 sample captures are recorded on 8000, in a namespace of their own)
#   IN_SERVER / IN_CLIENT   command prefixes, e.g. (ip netns exec labB)
#   CLIENT_ARGS   extra options for chat_session's clients (ex4: --chave-servidor K)
BIN=${LAB_BIN_DIR:-$(pwd)}
HOST=${HOST:-127.0.0.1}
IN_SERVER=("${IN_SERVER[@]}")
IN_CLIENT=("${IN_CLIENT[@]}")
CLIENT_ARGS=("${CLIENT_ARGS[@]}")
pids=()

# start_server <folder> [options]: start <folder>/server on a free port;
# sets $port and $server_pid, its output in $work/server.log.
start_server() {
    local dir=$1; shift
    for _ in 1 2 3 4 5 6 7 8 9 10; do
        port=${LAB_PORT:-$((20000 + RANDOM % 40000))}
        (cd "$BIN/$dir" && exec "${IN_SERVER[@]}" ./server "$HOST" "$port" "$@") \
            >"$work/server.log" 2>&1 &
        server_pid=$!
        pids+=("$server_pid")
        for _ in $(seq 100); do
            grep -q Aguardando "$work/server.log" && return 0
            kill -0 "$server_pid" 2>/dev/null || break
            sleep 0.05
        done
        kill "$server_pid" 2>/dev/null || true
    done
    echo "não foi possível iniciar $dir/server" >&2
    exit 1
}
# server_key: the public key the server printed at start-up (ex4).
server_key() { sed -n 's/^Chave pública do servidor: //p' "$work/server.log"; }
stop_server() { kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; }

# type_lines <delay> <line>... : what a person types, one line every <delay>
# seconds, then a short pause and end of input (Ctrl+D).
type_lines() {
    local delay=$1; shift
    for line in "$@"; do sleep "$delay"; printf '%s\n' "$line"; done
    sleep 1
}

# chat_session <folder> <message 1> <message 2>: two clients of a chat, each
# typing one line; screens in $work/c1.txt and $work/c2.txt.
chat_session() {
    local dir=$1
    type_lines 0.4 "$2" | timeout --foreground 10 "${IN_CLIENT[@]}" "$BIN/$dir/client" "$HOST" "$port" \
        "${CLIENT_ARGS[@]}" >"$work/c1.txt" 2>&1 &
    local a=$!
    type_lines 0.8 "$3" | timeout --foreground 10 "${IN_CLIENT[@]}" "$BIN/$dir/client" "$HOST" "$port" \
        "${CLIENT_ARGS[@]}" >"$work/c2.txt" 2>&1 &
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
        timeout --foreground 30 "${IN_CLIENT[@]}" "$BIN/ex3_files/client" "$HOST" "$port" "$name" \
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
        timeout --foreground 10 "${IN_CLIENT[@]}" "$BIN/ex6_modbus/client" "$HOST" "$port" $args \
            >"$work/c$i.txt" 2>&1 || true
        sleep 0.2
    done
}
