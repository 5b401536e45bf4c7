# The shell glue every script of the lab needs, written once (sourced, not run):
#   . scripts/lib.sh
# It only defines functions (all named lab_*) and the list $pids; it runs
# nothing. Portable to macOS's bash 3.2 (no wait -n, no associative arrays,
# empty arrays expanded with ${a[@]+"${a[@]}"}).
#
#   lab_on_exit [FUNCTION]        the cleanup trap: on exit, Ctrl+C or TERM
#   lab_start [-C DIR] LOG READY COMMAND...         start and wait for a line
#   lab_start_server [-C DIR] LOG READY COMMAND...  the same on a free port ({PORT})
#   lab_wait_for TEXT FILE [PID] [TRIES]            wait for a line in a file
#   lab_stop PID                  stop one program started here
#   lab_timeout SECONDS COMMAND...        a time limit that Ctrl+C still reaches
#   lab_timeout_tree SECONDS COMMAND...   a time limit on a whole process tree
#   lab_tcpdump_start DEV FILE FILTER [PREFIX...]   start a capture, wait until it listens
#   lab_tcpdump_stop              stop it; sets lab_captured and lab_dropped
#   lab_pcap_table FILE LENFIELD LENTITLE [TSHARK OPTIONS...]   the guide's packet table
#   lab_fold_rows MAX HEAD TAIL [HINT]   long listings: the first and last rows
#   lab_title TEXT / lab_show HEADING FILE / lab_type_lines DELAY LINE...   what a session shows
#   lab_need EXTRA TOOL...        stop, saying what to install, when a tool is missing
#   lab_cores / lab_parallel FUNCTION ITEM...   one job per core

# Every program a script starts in the background goes in $pids; the exit
# trap stops them all.
pids=(${pids[@]+"${pids[@]}"})

# ---- the cleanup trap ---------------------------------------------------------
# lab_on_exit [FUNCTION]: on exit, on Ctrl+C (exit 130) and on TERM: stop
# every program in $pids and every background job (a "typist" feeding a
# client ignores Ctrl+C: in a script, & makes SIGINT ignored), wait for them,
# run FUNCTION (e.g. delete namespaces), remove $work if set.
lab_on_exit() {
    lab_exit_function=${1:-}
    trap lab_exit_ EXIT
    trap 'exit 130' INT TERM
}
lab_exit_() {
    local p
    for p in ${pids[@]+"${pids[@]}"} $(jobs -p); do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    [ -n "${lab_exit_function:-}" ] && "$lab_exit_function"
    [ -n "${work:-}" ] && rm -rf "$work"
    return 0
}

# ---- start a program and wait for its line ------------------------------------
# lab_wait_for TEXT FILE [PID] [TRIES]: until FILE contains TEXT (every 0.05 s,
# TRIES times, default 100: 5 s); fails at once when PID has died.
lab_wait_for() {
    local text=$1 file=$2 pid=${3:-} tries=${4:-100} i=0
    while [ "$i" -lt "$tries" ]; do
        grep -qs -- "$text" "$file" && return 0
        [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null && { grep -qs -- "$text" "$file"; return; }
        sleep 0.05
        i=$((i + 1))
    done
    return 1
}

# lab_start [-C DIR] LOG READY COMMAND...: run COMMAND in the background (in
# DIR), its output in LOG, and wait until LOG shows READY. Its pid is
# $lab_pid and is added to $pids. COMMAND is exec'd: $lab_pid is the program
# itself (so `ip netns exec NS prog` works; a shell function would not), and
# a kill reaches it. Fails (1) when it died or never printed READY within
# 5 s ($LAB_START_TRIES times 0.05 s: 100; bench/bench.sh waits 10 s).
lab_start() {
    local dir=.
    if [ "$1" = -C ]; then dir=$2; shift 2; fi
    local log=$1 ready=$2
    shift 2
    # Empty LOG first: the redirection below truncates it only when the
    # background job gets to run, and the wait could find the READY of the
    # previous program that wrote LOG (then it is not listening yet).
    : >"$log"
    (cd "$dir" && exec "$@") >"$log" 2>&1 &
    lab_pid=$!
    pids+=("$lab_pid")
    lab_wait_for "$ready" "$log" "$lab_pid" "${LAB_START_TRIES:-100}"
}

# lab_start_server [-C DIR] LOG READY COMMAND...: lab_start on a port: each
# {PORT} in COMMAND is replaced by $LAB_PORT, or by a random port from 20000
# to 59999, tried up to 10 times (another program may hold it). Sets $port.
lab_start_server() {
    local opts=() try
    if [ "$1" = -C ]; then opts=(-C "$2"); shift 2; fi
    local log=$1 ready=$2
    shift 2
    for try in 1 2 3 4 5 6 7 8 9 10; do
        port=${LAB_PORT:-$((20000 + RANDOM % 40000))}
        lab_start ${opts[@]+"${opts[@]}"} "$log" "$ready" "${@//\{PORT\}/$port}" && return 0
        lab_stop "$lab_pid"
    done
    return 1
}

# lab_stop PID: stop a program started here and wait for it.
lab_stop() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }

# ---- time limits ----------------------------------------------------------------
# timeout(1) is GNU coreutils; on macOS `brew install coreutils` gives gtimeout.
lab_timeout_command() {
    if command -v timeout >/dev/null 2>&1; then echo timeout
    elif command -v gtimeout >/dev/null 2>&1; then echo gtimeout
    else return 1; fi
}

# lab_timeout SECONDS COMMAND...: COMMAND with a time limit, in the
# foreground (--foreground): without it, timeout puts the command in a
# process group of its own, Ctrl+C does not reach it, and the script only
# stops when the limit runs out. Without timeout(1): no limit.
lab_timeout() {
    local secs=$1 t
    shift
    if t=$(lab_timeout_command); then "$t" --foreground "$secs" "$@"; else "$@"; fi
}

# lab_timeout_tree SECONDS COMMAND...: for a program that starts others (a
# test): on timeout the whole process group goes, children too (plain
# timeout). Since Ctrl+C does not reach that group, an INT or TERM here is
# passed on to it.
lab_timeout_tree() {
    local secs=$1 t rc=0
    shift
    t=$(lab_timeout_command) || { "$@"; return; }
    "$t" "$secs" "$@" &
    lab_tree=$!
    trap 'kill -TERM -- "-$lab_tree" 2>/dev/null; exit 130' INT TERM
    wait "$lab_tree" || rc=$?
    trap - INT TERM
    return "$rc"
}

# ---- captures -------------------------------------------------------------------
# lab_tcpdump_start DEV FILE FILTER [PREFIX...]: tcpdump on DEV into FILE
# (pcap) in the background, e.g. with PREFIX `ip netns exec NS` (exec'd: the
# pid is tcpdump's own); its messages in FILE.log; its pid in $tcpdump_pid
# and in $pids. Returns once it listens; fails (its messages on stderr) if it
# died or did not start within 5 s. --immediate-mode: each packet is handed
# over at once (those still in the kernel's buffer when tcpdump stops would
# be lost); -B: a 64 MiB buffer, since loopback bursts 64 KiB frames faster
# than tcpdump drains them. More tcpdump options, if any, in the array
# $lab_tcpdump_options (e.g. (-s 128): headers only).
lab_tcpdump_start() {
    local dev=$1 file=$2 filter=$3
    shift 3
    "$@" tcpdump -i "$dev" --immediate-mode -B 65536 -U -n \
        ${lab_tcpdump_options[@]+"${lab_tcpdump_options[@]}"} -w "$file" "$filter" 2>"$file.log" &
    tcpdump_pid=$!
    tcpdump_log=$file.log
    pids+=("$tcpdump_pid")
    lab_wait_for "listening on" "$file.log" "$tcpdump_pid" && return 0
    cat "$file.log" >&2
    return 1
}

# lab_tcpdump_stop [PID [LOG]]: stop that capture (default: the last one
# started), let it write what it holds; sets $lab_captured and $lab_dropped
# (packets captured, and dropped by the kernel) from its messages.
lab_tcpdump_stop() {
    local pid=${1:-$tcpdump_pid} log=${2:-$tcpdump_log}
    kill -INT "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    lab_captured=$(sed -n 's/^\([0-9]*\) packets\{0,1\} captured.*/\1/p' "$log")
    lab_dropped=$(sed -n 's/^\([0-9]*\) packets\{0,1\} dropped by kernel.*/\1/p' "$log")
    lab_captured=${lab_captured:-0} lab_dropped=${lab_dropped:-0}
}

# lab_fold_rows MAX HEAD TAIL [HINT]: the rows on stdin, all of them if at
# most MAX, else the first HEAD, a line saying how many were left out (and
# HINT, e.g. the command that shows them all) and the last TAIL.
lab_fold_rows() {
    local max=$1 head=$2 tail=$3 hint=${4:-} rows n
    rows=$(cat)
    n=$(printf '%s\n' "$rows" | grep -c . || true)
    if [ "$n" -le "$max" ]; then
        printf '%s\n' "$rows"
    else
        printf '%s\n' "$rows" | head -n "$head"
        echo "   (... $((n - head - tail)) linhas omitidas${hint:+; $hint})"
        printf '%s\n' "$rows" | tail -n "$tail"
    fi
}

# lab_pcap_table FILE LENFIELD LENTITLE [TSHARK OPTIONS...]: the packets of a
# capture as a table like the guide's (No., Tempo, Origem, Destino, Quadro,
# then LENFIELD, e.g. tcp.len "Dados" or udp.length "UDP", and Info); more
# than 60 rows: the first 30 and the last 15.
lab_pcap_table() {
    local file=$1 field=$2 title=$3
    shift 3
    printf '%4s  %9s  %-10s  %-10s  %6s  %6s  %s\n' "No." "Tempo" "Origem" "Destino" "Quadro" "$title" "Info"
    tshark -r "$file" "$@" -T fields -E separator=/t -e frame.number -e frame.time_relative \
        -e ip.src -e ip.dst -e frame.len -e "$field" -e _ws.col.Info 2>/dev/null |
        awk -F'\t' '{ printf "%4s  %9.6f  %-10s  %-10s  %6s  %6s  %s\n", $1, $2, $3, $4, $5, $6, $7 }' |
        lab_fold_rows 60 30 15 "todas: tshark -r $file${*:+ $*}"
}

# ---- what a scripted session shows --------------------------------------------
if [ -t 1 ]; then
    lab_bold=$(tput bold 2>/dev/null || true) lab_normal=$(tput sgr0 2>/dev/null || true)
else
    lab_bold= lab_normal=
fi
lab_title() { printf '\n%s=== %s ===%s\n' "$lab_bold" "$1" "$lab_normal"; }
# lab_show HEADING FILE: a terminal's screen, indented.
lab_show() {
    printf '%s--- %s%s\n' "$lab_bold" "$1" "$lab_normal"
    sed 's/^/    /' "$2"
    printf '\n'
}
# lab_type_lines DELAY LINE...: what a person types, one line every DELAY
# seconds, then a short pause and end of input (Ctrl+D).
lab_type_lines() {
    local delay=$1 line
    shift
    for line in "$@"; do sleep "$delay"; printf '%s\n' "$line"; done
    sleep 1
}

# ---- tools and cores ----------------------------------------------------------
# lab_need EXTRA TOOL...: each TOOL must be installed; if one is not, say
# which and how to get it (scripts/deps.sh EXTRA), and exit 1.
lab_need() {
    local extra=$1 tool
    shift
    for tool in "$@"; do
        command -v "$tool" >/dev/null 2>&1 && continue
        echo "falta o $tool: rode scripts/deps.sh $extra (no Debian/Ubuntu, instala o que falta)" >&2
        exit 1
    done
}

# lab_cores: how many processors (Linux and macOS).
lab_cores() { nproc 2>/dev/null || sysctl -n hw.ncpu 2>/dev/null || echo 2; }

# lab_parallel FUNCTION ITEM...: `FUNCTION ITEM` for every ITEM, one per core
# at a time (xargs -P: bash 3.2 has no `wait -n`). FUNCTION, and every
# function and variable it uses, must be exported (export -f / export).
lab_parallel() {
    local function=$1
    shift
    printf '%s\n' "$@" | xargs -P "$(lab_cores)" -I{} bash -c "$function"' "$1"' _ {}
}
