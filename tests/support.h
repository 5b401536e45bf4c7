// Test support: run the real programs, talk to them over raw sockets, and
// bound every wait in time so that a hang fails a test instead of blocking CI.
// POSIX only (the Windows binaries are tested from Linux, under wine).
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace lab {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using Duration = std::chrono::milliseconds;

// Path of a built program, e.g. bin("ex1_chat/server"). LAB_BIN_DIR in the
// environment overrides the build folder compiled in. An absolute path (a
// copy of a program in a TempDir) is returned as it is.
std::string bin(const std::string& relative);

// A TCP port on 127.0.0.1 that nothing listens on right now (never 8000).
int free_port();

// A child process with its stdin, stdout and stderr on pipes. A reader
// thread drains stdout/stderr continuously so the child never blocks on a
// full pipe. The destructor kills (SIGKILL) and reaps the child.
class Process {
public:
    explicit Process(const std::vector<std::string>& argv);
    ~Process();
    Process(const Process&) = delete;
    Process& operator=(const Process&) = delete;

    pid_t pid() const { return pid_; }
    void write_stdin(const std::string& text);
    void close_stdin();
    // Wait until stdout (or stderr, when `err`) contains `text` `count` times.
    bool wait_output(const std::string& text, Duration timeout, int count = 1, bool err = false);
    std::string out();
    std::string err();
    // Exit code (128 + signal number when killed), or nothing on timeout.
    std::optional<int> wait_exit(Duration timeout);
    // After wait_exit: the signal that ended it, if one did (not an exit code).
    std::optional<int> signal() const { return signal_; }
    void kill(int sig);

private:
    void read_loop();
    pid_t pid_ = -1;
    int in_ = -1, out_ = -1, err_ = -1;
    std::optional<int> status_;
    std::optional<int> signal_;
    std::mutex mutex_;
    std::condition_variable changed_;
    std::string out_text_, err_text_;
    bool eof_ = false;  // the reader has seen the end of stdout and stderr
    std::atomic<bool> stop_{false};  // tells the reader to give up
    std::thread reader_;
};

// The chat servers add a client to their list in the client's own thread, a
// moment after they print "Cliente conectado" or "sincronizado"; so a line
// sent at once may miss a client that joined just before. Calls `send_probe`
// (which sends "<sonda>", and reads back what the server echoes to the
// sender, if the test reads that socket) until `client` shows "<sonda>":
// from then on both are in the list. At most 10 tries, 2 s each; false if
// the client never showed it.
template <typename SendProbe>
bool until_listed(Process& client, SendProbe send_probe) {
    for (int i = 0; i < 10; ++i) {
        send_probe();
        if (client.wait_output("<sonda>", 2000ms)) return true;
    }
    return false;
}

// ---- What this machine cannot run, said once -------------------------------
// Each need_*() returns why something cannot run here ("" when it can), in
// words that say what to install or run instead. first_of() picks the first
// reason of several, e.g.
//   first_of({need_root("capturing needs root"), need_tools({"tcpdump"}, "capture")})
std::string need_root(const std::string& what_for, const std::string& by_hand = "");
// Every tool found with `command -v`; `extra` names the scripts/deps.sh extra
// (and so the make test install) that brings them.
std::string need_tools(const std::vector<std::string>& tools, const std::string& extra);
// /usr/bin/python3 (Debian's, where apt installs the modules) imports `module`.
std::string need_python(const std::string& module, const std::string& package);
std::string first_of(std::initializer_list<std::string> reasons);

// A test case, or a part of one, that cannot run here: reported as skipped
// with its reason, never as passed. Prints "SKIPPED: <case>: <why>"
// (scripts/test.sh collects these lines into its summary) and the program's
// doctest summary ends with the count. The caller returns (or leaves out the
// part):   if (auto why = need_python("nacl", "python3-nacl"); !why.empty()) return skip(why);
void skip(const std::string& why);
// A test program with its own main() that cannot run at all: prints
// "SKIPPED: <why>" and returns 77 (CTest's SKIP_RETURN_CODE, and scripts/test.sh's).
int skip_program(const std::string& why);

// Count of occurrences of `needle` in `haystack`.
int count_of(const std::string& haystack, const std::string& needle);

// A server program started on a free port, waiting for connections.
struct Server {
    int port = 0;
    std::unique_ptr<Process> process;
};
Server start_server(const std::string& program, const std::vector<std::string>& extra = {});

// Raw sockets (plain file descriptors; -1 on failure).
int connect_to(int port, const std::string& host = "127.0.0.1");
// A connection to 127.0.0.1:port from another loopback address `source`
// (the whole 127/8 is this machine: a second "PC" without any setup).
// SOCK_CLOEXEC: the programs a test starts do not inherit it, so closing it
// in the test really closes the connection.
int connect_from(int port, const std::string& source);
bool send_bytes(int fd, const std::string& bytes);
// The local port of an IPv4 socket (the servers print "IP:PORTA" of a client).
unsigned local_port(int fd);
// A listening socket on 127.0.0.1 (a fake server inside a test); sets port.
int listen_local(int& port);
// accept() with a time limit; -1 on timeout.
int accept_within(int listener, Duration timeout);
// Receive one line (up to and without '\n'); empty on timeout or close.
std::string recv_line(int fd, Duration timeout);
// Receive until `n` bytes arrived, the peer closed, or the timeout passed.
std::string recv_exactly(int fd, std::size_t n, Duration timeout);
// Receive everything until the peer closes (closed = true) or the timeout.
std::string recv_until_close(int fd, Duration timeout, bool* closed = nullptr);
// Close with SO_LINGER 0: the peer gets a RST instead of a FIN.
void reset_close(int fd);
void close_fd(int fd);

// The whole content of a file ("" if it cannot be read).
std::string read_file(const std::filesystem::path& path);

// A temporary folder, removed with everything in it when the test ends.
struct TempDir {
    std::filesystem::path path;
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    std::vector<std::string> names() const;  // every entry, hidden ones too
};

// From /proc/<pid>: open file descriptors and threads of a process.
int open_fds(pid_t pid);
int thread_count(pid_t pid);
// Wait until thread_count(pid) == n (the server's threads end asynchronously).
bool wait_threads(pid_t pid, int n, Duration timeout);

}  // namespace lab
