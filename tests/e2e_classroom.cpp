// A classroom server that one student cannot take down, spoof or confuse
// (issue 20), tested on the real programs:
//  - what arrives is shown, never executed: a raw peer sends terminal escape
//    sequences and invalid UTF-8 to the ex1 and ex2 chats, and a real client
//    shows them as \xNN text while valid UTF-8 passes unchanged;
//  - places shared fairly (issue 30, common/admission.h): under ulimit -n
//    1024, 1,100 connections from 69 loopback addresses of another user
//    never bring accept() to EMFILE and a classmate is still served (ex1,
//    ex2, ex3, ex4, ex6); 200 honest clients from one address are all
//    served; 16 idle sockets of one student refuse nobody;
//  - one student's share of the chat (common/rate_limit.h): a flood from one
//    socket disconnects no classmate reading at 200 kB/s in ex1 and ex2, and
//    each reads every line in order; a churn of evictions writes at most one
//    line a second;
//  - one deadline for the whole handshake (ex2) or request (ex3): a peer that
//    drips bytes is closed when it runs out;
//  - system errors in Portuguese, with the code's name and number.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "../ex2_crypto/token.h"
#include "support.h"

using namespace lab;

namespace {

const std::string ESCAPES = "\x1b[2J\x1b[H\x1b]0;titulo\x07Professor: a prova foi cancelada";
const std::string ESCAPES_SHOWN =
    "\\x1b[2J\\x1b[H\\x1b]0;titulo\\x07Professor: a prova foi cancelada";
const std::string INVALID = "ol\xe1 \xff\xfe fim";  // Latin-1 'á' and two bytes never UTF-8
const std::string INVALID_SHOWN = "ol\\xe1 \\xff\\xfe fim";
const std::string VALID = "Olá, ação, emoji \xf0\x9f\x98\x80";

// The resident memory of a process, in kB (VmRSS in /proc/PID/status).
long rss_kb(pid_t pid) {
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    for (std::string line; std::getline(status, line);)
        if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
    return -1;
}

// A server started under `ulimit -n files` (through sh), on a free port.
Server start_limited(const std::string& program, int files,
                     const std::vector<std::string>& extra = {}) {
    for (int attempt = 0; attempt < 5; ++attempt) {
        Server s;
        s.port = free_port();
        std::vector<std::string> argv = {"/bin/sh", "-c",
                                         "ulimit -n " + std::to_string(files) + " && exec \"$@\"",
                                         "sh", bin(program), "127.0.0.1", std::to_string(s.port)};
        argv.insert(argv.end(), extra.begin(), extra.end());
        s.process = std::make_unique<Process>(argv);
        if (s.process->wait_output("Aguardando", 5000ms)) return s;
    }
    throw std::runtime_error("server " + program + " did not start");
}

// Opens `n` connections from `source`; returns those still open after the
// server had time to close the refused ones (it does so at once).
std::vector<int> flood_from(const std::string& source, int port, int n) {
    std::vector<int> fds;
    for (int i = 0; i < n; ++i) {
        int fd = connect_from(port, source);
        if (fd >= 0) fds.push_back(fd);
    }
    return fds;
}

// `from` types a line until `to` shows it: the server says "Cliente conectado"
// (or "sincronizado") a moment before the client is in its list.
bool heard(Process& from, Process& to, const std::string& text) {
    for (int i = 0; i < 10; ++i) {
        from.write_stdin(text + "\n");
        if (to.wait_output(text, 2000ms)) return true;
    }
    return false;
}

void close_all(const std::vector<int>& fds) {
    for (int fd : fds) close_fd(fd);
}

// An ex2 peer on a raw socket: reads the key, answers OK; returns the key.
std::vector<unsigned char> ex2_join(int fd) {
    std::vector<unsigned char> key;
    std::string key_line = recv_line(fd, 10000ms);
    REQUIRE(token::from_base64(key_line, key));
    REQUIRE(send_bytes(fd, token::encrypt(key.data(), "OK") + "\n"));
    return key;
}

}  // namespace

// ---- 1. what arrives is shown, never executed ---------------------------------

TEST_CASE("ex1 client shows escapes and invalid UTF-8 as text, valid UTF-8 as is") {
    Server server = start_server("ex1_chat/server");
    Process client({bin("ex1_chat/client"), "127.0.0.1", std::to_string(server.port)});
    REQUIRE(client.wait_output("> ", 5000ms));
    REQUIRE(server.process->wait_output("Cliente conectado", 5000ms));
    int raw = connect_to(server.port);
    REQUIRE(raw >= 0);
    REQUIRE(server.process->wait_output("Cliente conectado", 5000ms, 2));
    REQUIRE(until_listed(client, [&] {
        REQUIRE(send_bytes(raw, "<sonda>"));
        REQUIRE(recv_exactly(raw, 7, 5000ms) == "<sonda>");  // its echo to the sender
    }));
    // One at a time: each is one recv() on the client, one line on its screen.
    for (const std::string& text : {ESCAPES, INVALID, VALID}) {
        REQUIRE(send_bytes(raw, text));
        recv_exactly(raw, text.size(), 5000ms);  // the echo: the server relayed it
    }
    CHECK(client.wait_output(VALID, 5000ms));
    const std::string out = client.out();
    CHECK(out.find(ESCAPES_SHOWN) != std::string::npos);
    CHECK(out.find(INVALID_SHOWN) != std::string::npos);
    CHECK(out.find('\x1b') == std::string::npos);  // no escape reaches the terminal
    CHECK(out.find('\x07') == std::string::npos);
    CHECK(out.find('\xff') == std::string::npos);
    // A character cut between two segments is not broken: "á" in two sends.
    REQUIRE(send_bytes(raw, "partido \xc3"));
    std::this_thread::sleep_for(200ms);  // two recv() on the client, most likely
    REQUIRE(send_bytes(raw, "\xa1 inteiro"));
    CHECK(client.wait_output("inteiro", 5000ms));
    CHECK(client.out().find("\\xc3") == std::string::npos);
    close_fd(raw);
}

TEST_CASE("ex2 client shows escapes and invalid UTF-8 as text, valid UTF-8 as is") {
    Server server = start_server("ex2_crypto/server");
    Process client({bin("ex2_crypto/client"), "127.0.0.1", std::to_string(server.port)});
    REQUIRE(client.wait_output("> ", 5000ms));
    REQUIRE(server.process->wait_output("sincronizado", 5000ms));
    int raw = connect_to(server.port);
    REQUIRE(raw >= 0);
    std::vector<unsigned char> key = ex2_join(raw);  // anyone with the key can send
    REQUIRE(server.process->wait_output("sincronizado", 5000ms, 2));
    REQUIRE(until_listed(
        client, [&] { REQUIRE(send_bytes(raw, token::encrypt(key.data(), "<sonda>") + "\n")); }));
    for (const std::string& text : {ESCAPES, INVALID, VALID})
        REQUIRE(send_bytes(raw, token::encrypt(key.data(), text) + "\n"));
    CHECK(client.wait_output(VALID, 5000ms));
    const std::string out = client.out();
    CHECK(out.find(ESCAPES_SHOWN) != std::string::npos);
    CHECK(out.find(INVALID_SHOWN) != std::string::npos);
    CHECK(out.find('\x1b') == std::string::npos);
    CHECK(out.find('\x07') == std::string::npos);
    close_fd(raw);
}

// ---- 2. places shared fairly (common/admission.h, issue 30) ---------------------------

// Holds `n` idle connections to 127.0.0.1:port from 127.0.0.2 .. 127.0.0.(1+addresses), in
// a child process of its own that runs as another user (uid 65534, "nobody") when
// the test runs as root: one student attacking, as a shared machine would have
// it. The connections stay open until the object is destroyed. With `churn`
// seconds, for that long it opens a new connection in the place of each one
// the server closes (at most 200,000, as issue 30's hold.py): the server is
// full, so each newcomer evicts another, and so on.
class Attacker {
public:
    Attacker(int port, int n, int addresses, double churn = 0) {
        int ready[2];
        REQUIRE(pipe(ready) == 0);
        pid_ = fork();
        REQUIRE(pid_ >= 0);
        if (pid_ == 0) {  // the child: system calls only, no allocation
            close(ready[0]);
            if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0)) _exit(1);
            static int fds[4096];  // n <= 4096
            int opened = 0;
            auto open_one = [&](int i) {
                int fd = socket(AF_INET, SOCK_STREAM, 0);
                sockaddr_in from{}, to{};
                from.sin_family = to.sin_family = AF_INET;
                from.sin_addr.s_addr = htonl(0x7f000002u + static_cast<unsigned>(i % addresses));
                to.sin_addr.s_addr = htonl(0x7f000001u);
                to.sin_port = htons(static_cast<uint16_t>(port));
                if (fd >= 0 && bind(fd, reinterpret_cast<sockaddr*>(&from), sizeof from) == 0 &&
                    connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) == 0)
                    ++opened;
                return fd;
            };
            for (int i = 0; i < n && i < 4096; ++i) fds[i] = open_one(i);
            if (write(ready[1], &opened, sizeof opened) != sizeof opened) _exit(1);
            static pollfd watch[4096];
            timespec start{}, now{};
            clock_gettime(CLOCK_MONOTONIC, &start);
            for (int next = n; churn > 0 && next < n + 200000;) {
                clock_gettime(CLOCK_MONOTONIC, &now);
                if (now.tv_sec - start.tv_sec + (now.tv_nsec - start.tv_nsec) / 1e9 > churn) break;
                for (int i = 0; i < n; ++i) watch[i] = {fds[i], POLLIN, 0};
                if (poll(watch, static_cast<nfds_t>(n), 100) <= 0) continue;
                char byte[64];
                for (int i = 0; i < n; ++i)  // closed by the server: a new one in its place
                    if (watch[i].revents != 0 && read(fds[i], byte, sizeof byte) <= 0) {
                        close(fds[i]);
                        fds[i] = open_one(next++);
                    }
            }
            pause();  // until killed
            _exit(0);
        }
        close(ready[1]);
        pollfd wait{ready[0], POLLIN, 0};
        if (poll(&wait, 1, 60000) == 1 && read(ready[0], &opened_, sizeof opened_) != sizeof opened_)
            opened_ = -1;
        close(ready[0]);
    }
    ~Attacker() {
        kill(pid_, SIGKILL);
        waitpid(pid_, nullptr, 0);
    }
    int opened() const { return opened_; }

private:
    pid_t pid_ = -1;
    int opened_ = -1;
};

// One real exchange with the server on a raw socket from 127.0.0.1: true when
// this connection was served (ex1 echoes, ex2/ex4 send their keys, ex3 sends
// the file and OK, ex6 answers a Modbus request).
bool served(const std::string& program, int port) {
    int fd = connect_to(port);
    if (fd < 0) return false;
    bool ok = false;
    if (program == "ex1_chat/server") {
        ok = send_bytes(fd, "<sonda>") && recv_exactly(fd, 7, 10000ms) == "<sonda>";
    } else if (program == "ex2_crypto/server") {
        ok = recv_line(fd, 10000ms).size() == 44;
    } else if (program == "ex4_kx/server") {
        ok = recv_exactly(fd, 90, 10000ms).size() == 90;
    } else if (program == "ex3_files/server") {
        ok = send_bytes(fd, "GET tucano.jpg");
        const std::string got = recv_until_close(fd, 10000ms);
        ok = ok && got.size() > 2 && got.compare(got.size() - 2, 2, "OK") == 0;
    } else if (program == "ex6_modbus/server") {
        // Read holding register 0 (transaction 1, unit 1).
        ok = send_bytes(fd, std::string("\x00\x01\x00\x00\x00\x06\x01\x03\x00\x00\x00\x01", 12)) &&
             recv_exactly(fd, 11, 10000ms).size() == 11;
    }
    close_fd(fd);
    return ok;
}

// The server `program` under `ulimit -n files`; ex4 runs from a copy in `lab`
// (it writes servidor.chave beside itself).
Server start_program(const std::string& program, int files, const TempDir& lab,
                     const std::vector<std::string>& extra = {}) {
    if (program != "ex4_kx/server") return start_limited(program, files, extra);
    std::filesystem::copy_file(bin(program), lab.path / "server",
                               std::filesystem::copy_options::overwrite_existing);
    for (int attempt = 0; attempt < 5; ++attempt) {
        Server s;
        s.port = free_port();
        std::vector<std::string> argv = {"/bin/sh", "-c",
                                         "ulimit -n " + std::to_string(files) + " && exec \"$@\"",
                                         "sh", (lab.path / "server").string(), "127.0.0.1",
                                         std::to_string(s.port)};
        argv.insert(argv.end(), extra.begin(), extra.end());
        s.process = std::make_unique<Process>(argv);
        if (s.process->wait_output("Aguardando", 10000ms)) return s;
    }
    throw std::runtime_error("server " + program + " did not start");
}

const std::vector<std::string> SERVERS = {"ex1_chat/server", "ex2_crypto/server",
                                          "ex3_files/server", "ex4_kx/server",
                                          "ex6_modbus/server"};

TEST_CASE("1,100 connections from 69 loopback addresses: no EMFILE, a classmate is served") {
    for (const std::string& program : SERVERS) {
        CAPTURE(program);
        TempDir lab;
        Server server = start_program(program, 1024, lab);
        // The capacity it chose, printed at start, below the 1024 descriptors.
        CHECK(server.process->wait_output(program == "ex3_files/server"
                                              ? "Capacidade: 488 conexões (ulimit -n 1024); sem limite por IP."
                                              : "Capacidade: 992 conexões (ulimit -n 1024); sem limite por IP.",
                                          5000ms, 1, true));  // on stderr: stdout stays the original's
        Attacker attacker(server.port, 1100, 69);
        REQUIRE(attacker.opened() == 1100);  // the kernel queues them all
        CHECK(server.process->wait_output("fechada para dar lugar a", 30000ms));
        if (geteuid() == 0)  // the attacker ran as nobody: its sockets are its group
            CHECK(server.process->out().find("usuário 65534 desta máquina é o grupo com mais") !=
                  std::string::npos);
        CHECK(served(program, server.port));
        CHECK(server.process->err().find("Erro no accept") == std::string::npos);
        CHECK(server.process->out().find("Conexão recusada") == std::string::npos);
        CHECK(open_fds(server.process->pid()) < 1024);
    }
}

TEST_CASE("ex1: 200 honest clients from one address are all served, and 30 real ones chat") {
    Server server = start_limited("ex1_chat/server", 1024);
    std::vector<int> fds = flood_from("127.0.0.1", server.port, 200);
    REQUIRE(fds.size() == 200);
    CHECK(server.process->wait_output("Cliente conectado", 10000ms, 200));
    // Each of the 200 gets a message sent by the last one (probing until all are listed).
    std::vector<bool> got(fds.size(), false);
    for (int round = 0; round < 10; ++round) {
        REQUIRE(send_bytes(fds.back(), "<sonda>"));
        for (std::size_t i = 0; i < fds.size(); ++i)
            if (!got[i]) got[i] = recv_exactly(fds[i], 7, i == 0 ? 2000ms : 200ms) == "<sonda>";
        if (std::count(got.begin(), got.end(), true) == 200) break;
    }
    CHECK(std::count(got.begin(), got.end(), true) == 200);
    std::vector<std::unique_ptr<Process>> clients;
    for (int i = 0; i < 30; ++i)
        clients.push_back(std::make_unique<Process>(std::vector<std::string>{
            bin("ex1_chat/client"), "127.0.0.1", std::to_string(server.port)}));
    for (auto& c : clients) CHECK(c->wait_output("> ", 10000ms));
    CHECK(heard(*clients.front(), *clients.back(), "a turma toda"));
    CHECK(server.process->out().find("Conexão recusada") == std::string::npos);
    CHECK(server.process->out().find("fechada para dar lugar") == std::string::npos);
    close_all(fds);
}

TEST_CASE("one student's 16 idle sockets refuse nobody") {
    for (const std::string program : {"ex2_crypto/server", "ex6_modbus/server"}) {
        CAPTURE(program);
        TempDir lab;
        Server server = start_program(program, 1024, lab);
        std::vector<int> idle = flood_from("127.0.0.1", server.port, 16);
        REQUIRE(idle.size() == 16);
        for (int i = 0; i < 5; ++i) CHECK(served(program, server.port));
        CHECK(server.process->out().find("Conexão recusada") == std::string::npos);
        close_all(idle);
    }
}

TEST_CASE("--limite-por-ip N sets a cap per group; a bad value is a usage error") {
    Server server = start_server("ex1_chat/server", {"--limite-por-ip", "2"});
    CHECK(server.process->wait_output("Capacidade: ", 5000ms, 1, true));
    CHECK(server.process->err().find("; no máximo 2 por IP.") != std::string::npos);
    std::vector<int> flood = flood_from("127.0.0.2", server.port, 5);
    // 3 refused (closed at once), 2 kept; refusals print one line a second.
    CHECK(server.process->wait_output("Conexão recusada: 127.0.0.2 já tem 2 conexões", 5000ms));
    int refused = 0;
    for (int fd : flood) {
        bool closed = false;
        recv_until_close(fd, 1000ms, &closed);
        refused += closed;
    }
    CHECK(refused == 3);
    close_all(flood);
    for (const std::string program : {"ex1_chat/server", "ex2_crypto/server", "ex3_files/server"}) {
        CAPTURE(program);
        for (const std::string bad : {"0", "x", "-3", ""}) {
            Process p({bin(program), "--limite-por-ip", bad});
            CHECK(p.wait_exit(5000ms) == 2);
            CHECK(p.err().find("--limite-por-ip deve ser um número") != std::string::npos);
        }
        Process help({bin(program), "--help"});
        CHECK(help.wait_exit(5000ms) == 0);
        CHECK(help.out().find("--limite-por-ip N") != std::string::npos);
    }
    // The chats' send budget (common/rate_limit.h): KiB/s, 0 for none.
    for (const std::string program : {"ex1_chat/server", "ex2_crypto/server", "ex4_kx/server"}) {
        CAPTURE(program);
        for (const std::string bad : {"x", "-3", "", "1000000"}) {
            Process p({bin(program), "--envio-por-aluno", bad});
            CHECK(p.wait_exit(5000ms) == 2);
            CHECK(p.err().find("--envio-por-aluno deve ser um número") != std::string::npos);
        }
        Process help({bin(program), "--help"});
        CHECK(help.wait_exit(5000ms) == 0);
        CHECK(help.out().find("--envio-por-aluno KIB") != std::string::npos);
    }
}

TEST_CASE("24 descriptors: the server keeps within them, never reaching EMFILE") {
    // capacity_for(24, 1) is 1: each newcomer takes the place of the one before.
    Server server = start_limited("ex1_chat/server", 24);
    CHECK(server.process->wait_output("Capacidade: 1 conexões (ulimit -n 24)", 5000ms, 1, true));
    std::vector<int> flood = flood_from("127.0.0.2", server.port, 40);
    CHECK(server.process->wait_output("fechada para dar lugar a", 10000ms));  // one line a second
    CHECK(served("ex1_chat/server", server.port));  // the newest always gets in
    CHECK(server.process->err().find("Erro no accept") == std::string::npos);
    CHECK(open_fds(server.process->pid()) < 24);
    close_all(flood);
}

TEST_CASE("ex1: 900 clients that never read plus a flood: the server's memory stays bounded") {
    Server server = start_limited("ex1_chat/server", 1024);
    const pid_t pid = server.process->pid();
    std::vector<int> idle;
    for (int i = 0; i < 900; ++i) {  // small receive buffers: they fill at once
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        int small = 4096;
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
        sockaddr_in to{};
        to.sin_family = AF_INET;
        to.sin_port = htons(static_cast<uint16_t>(server.port));
        to.sin_addr.s_addr = htonl(0x7f000001u);
        if (connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) == 0)
            idle.push_back(fd);
        else
            close(fd);
    }
    REQUIRE(idle.size() == 900);
    REQUIRE(server.process->wait_output("Cliente conectado", 20000ms, 900));
    // A student's flood: 1,023-byte lines, 128 KiB, from a process of its own
    // that runs as user `uid` when the test runs as root (its own group, its
    // own send budget, common/rate_limit.h); it never reads.
    const bool groups = geteuid() == 0;
    std::vector<pid_t> senders;
    auto flood_as = [&](unsigned uid) {
        const pid_t child = fork();
        REQUIRE(child >= 0);
        if (child == 0) {  // system calls only
            if (groups && (setgid(uid) != 0 || setuid(uid) != 0)) _exit(1);
            int fd = socket(AF_INET, SOCK_STREAM, 0);
            sockaddr_in to{};
            to.sin_family = AF_INET;
            to.sin_port = htons(static_cast<uint16_t>(server.port));
            to.sin_addr.s_addr = htonl(0x7f000001u);
            static char line[1024];
            memset(line, 'x', sizeof line);
            line[sizeof line - 1] = '\n';
            if (connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) == 0)
                for (int n = 0; n < 128; ++n)
                    if (write(fd, line, sizeof line) != sizeof line) break;
            pause();  // until killed
            _exit(0);
        }
        senders.push_back(child);
    };
    // 1. One student: its burst of 64 KiB at once, then 16 KiB/s, for 4.5 s.
    flood_as(60000);
    long peak_kb = 0;
    for (int i = 0; i < 45; ++i) {
        peak_kb = std::max(peak_kb, rss_kb(pid));
        std::this_thread::sleep_for(100ms);
    }
    MESSAGE("server peak RSS " << peak_kb << " kB with 900 non-readers and one student's 128 KiB");
    // The queues hold at most 32 MiB together (Outbox::MAX_TOTAL); with the
    // threads' stacks in use and the program, under 64 MB (measured: 12 MB;
    // it was 210 MB with 1,000 clients before the total bound, issue 30 B6).
    // A sanitizer's own memory is not the server's: not checked there.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    MESSAGE("RSS bound not checked under a sanitizer");
#else
    CHECK(peak_kb < 64 * 1024);
#endif
    // 2. 63 more students (63 more budgets: 4 MiB of bursts at once, then
    // 1 MiB/s). On loopback the kernel takes up to 4 MB of each non-reader's
    // data (tcp_wmem); the rest queues, and the 900 queues pass the 32 MiB
    // total: the furthest behind go first. (One student alone, held to its
    // budget, would take minutes: the non-readers would go as "não lê há 5 s".)
    // Peak RSS here is reported, not checked: it varies from run to run
    // (measured 15 to 130 MB; 20 to 40 MB without the send budget), which is
    // not explained yet (glibc keeping freed queue memory is a guess).
    if (groups) {
        for (unsigned uid = 60001; uid < 60064; ++uid) flood_as(uid);
        const std::string dropped = "o mais atrasado quando as filas de todos passaram de 32 MiB";
        for (int i = 0; i < 150 && server.process->out().find(dropped) == std::string::npos; ++i) {
            peak_kb = std::max(peak_kb, rss_kb(pid));
            std::this_thread::sleep_for(100ms);
        }
        CHECK(server.process->wait_output(dropped, 20000ms));
        MESSAGE("server peak RSS " << peak_kb << " kB with 64 students flooding");
    } else {  // one uid: one budget, 16 KiB/s; the total is not reached this way
        MESSAGE("SKIPPED: the 32 MiB total needs senders of 64 uids (run as root)");
    }
    for (pid_t child : senders) {
        kill(child, SIGKILL);
        waitpid(child, nullptr, 0);
    }
    close_all(idle);
}

TEST_CASE("bidi: a file name with U+202E is refused, and bidi chat is shown escaped") {
    Server files = start_server("ex3_files/server");
    // The bidi override of Trojan Source, then characters an attacker found
    // still accepted: a deprecated format character (U+206A), a soft hyphen,
    // the Hangul filler (blank) and tags, an invisible copy of ASCII text.
    const std::pair<std::string, std::string> names[] = {
        {"fatura\xe2\x80\xae" "fdp.exe", "U+202E"},
        {"fatura\xe2\x81\xaa" "fdp.exe", "U+206A"},
        {"foto\xc2\xad.jpg", "U+00AD"},
        {"\xe3\x85\xa4.jpg", "U+3164"},
        {"x\xf3\xa0\x81\x81\xf3\xa0\x81\x82.jpg", "U+E0041"}};
    for (const auto& name : names) {
        int fd = connect_to(files.port);
        REQUIRE(send_bytes(fd, "GET " + name.first));
        const std::string reply = recv_until_close(fd, 10000ms);
        CHECK_MESSAGE(reply.rfind("ERROR", 0) == 0, name.second);
        close_fd(fd);
        CHECK_MESSAGE(files.process->wait_output(
                          "Pedido recusado: o nome tem um caractere invisível (" + name.second + ")",
                          5000ms),
                      name.second);
    }
    const std::string log = files.process->out();
    for (const char* shown : {"fatura\\u202efdp.exe", "fatura\\u206afdp.exe", "foto\\u00ad.jpg",
                              "\\u3164.jpg", "x\\U000e0041\\U000e0042.jpg"})
        CHECK_MESSAGE(log.find(std::string("Cliente solicitou o arquivo ") + shown) != std::string::npos,
                      shown);
    for (const char* raw : {"\xe2\x80\xae", "\xe2\x81\xaa", "\xc2\xad", "\xe3\x85\xa4", "\xf3\xa0"})
        CHECK(log.find(raw) == std::string::npos);

    Server chat = start_server("ex1_chat/server");
    Process client({bin("ex1_chat/client"), "127.0.0.1", std::to_string(chat.port)});
    REQUIRE(client.wait_output("> ", 5000ms));
    int raw = connect_to(chat.port);
    REQUIRE(raw >= 0);
    REQUIRE(until_listed(client, [&] {
        REQUIRE(send_bytes(raw, "<sonda>"));
        REQUIRE(recv_exactly(raw, 7, 5000ms) == "<sonda>");
    }));
    REQUIRE(send_bytes(raw, "fatura\xe2\x80\xae" "fdp.exe \xe2\x81\xa6x\xe2\x81\xa9 fim"));
    CHECK(client.wait_output("fatura\\u202efdp.exe \\u2066x\\u2069 fim", 5000ms));
    // More invisible ones; the emoji ❤️ and the flag of England stay whole.
    const std::string england = "\xf0\x9f\x8f\xb4\xf3\xa0\x81\xa7\xf3\xa0\x81\xa2\xf3\xa0\x81\xa5"
                                "\xf3\xa0\x81\xae\xf3\xa0\x81\xa7\xf3\xa0\x81\xbf";
    REQUIRE(send_bytes(raw, "a\xe2\x81\xaa" "b\xc2\xad" "c\xe3\x85\xa4" "d\xef\xb8\x80"
                            "e\xf3\xa0\x81\x81 \xe2\x9d\xa4\xef\xb8\x8f " + england + " fim2"));
    CHECK(client.wait_output("a\\u206ab\\u00adc\\u3164d\\ufe00e\\U000e0041 \xe2\x9d\xa4\xef\xb8\x8f " +
                                 england + " fim2",
                             5000ms));
    for (const char* bytes : {"\xe2\x80\xae", "\xe2\x81\xaa", "\xc2\xad", "\xe3\x85\xa4", "\xef\xb8\x80",
                              "\xf3\xa0\x81\x81"})
        CHECK(client.out().find(bytes) == std::string::npos);
    close_fd(raw);
}

TEST_CASE("ex3: a client that drips after the file is cut at the close phase's deadline") {
    Server server = start_server("ex3_files/server");
    int fd = connect_to(server.port);
    REQUIRE(send_bytes(fd, "GET tucano.jpg"));
    // The whole file, the OK and the server's FIN (recv() returns 0 once).
    std::string got;
    char buffer[65536];
    for (;;) {
        pollfd wait{fd, POLLIN, 0};
        if (poll(&wait, 1, 10000) != 1) break;
        ssize_t n = recv(fd, buffer, sizeof buffer, 0);
        if (n <= 0) break;
        got.append(buffer, static_cast<std::size_t>(n));
    }
    REQUIRE(got.size() > 2);
    REQUIRE(got.compare(got.size() - 2, 2, "OK") == 0);
    // Now one byte every 300 ms, for at most 15 s: the server stops reading at
    // its 2 s and closes; a byte sent after that gets a RST, and the next send fails.
    bool cut = false;
    for (int i = 0; i < 50 && !cut; ++i) {
        cut = send(fd, "x", 1, MSG_NOSIGNAL) != 1;
        std::this_thread::sleep_for(300ms);
    }
    CHECK(cut);  // before, each recv() had its own 2 s: a drip every 300 ms was never cut
    close_fd(fd);
}

// ex4's client and its known-servers file (B10, B11).
TEST_CASE("ex4: 8 first-use clients at once save 8 keys; a planted symlink is not followed") {
    TempDir lab;
    for (const char* program : {"server", "client"})
        std::filesystem::copy_file(bin(std::string("ex4_kx/") + program), lab.path / program);
    std::vector<Server> servers;  // 8 servers: 8 different "IP:PORTA" to remember
    for (int i = 0; i < 8; ++i) {
        Server s;
        s.port = free_port();
        s.process = std::make_unique<Process>(std::vector<std::string>{
            (lab.path / "server").string(), "127.0.0.1", std::to_string(s.port)});
        REQUIRE(s.process->wait_output("Aguardando", 10000ms));
        servers.push_back(std::move(s));
    }
    // The old temporary names ("...tmp<pid>") of the next pids, planted as symlinks to
    // a file of the victim's: never followed (mkstemp's names cannot be guessed).
    const std::filesystem::path victim = lab.path / "arquivo_da_vitima";
    { std::ofstream(victim) << "intacto\n"; }
    const int next = static_cast<int>(getpid());
    for (int pid = next; pid < next + 300; ++pid)
        std::filesystem::create_symlink(victim, lab.path / ("servidores_conhecidos.txt.tmp" + std::to_string(pid)));
    std::vector<std::unique_ptr<Process>> clients;
    for (const Server& s : servers)
        clients.push_back(std::make_unique<Process>(std::vector<std::string>{
            (lab.path / "client").string(), "127.0.0.1", std::to_string(s.port)}));
    for (auto& c : clients) {
        CHECK(c->wait_output("será conferida nas próximas conexões", 15000ms));
        c->close_stdin();
        CHECK(c->wait_exit(10000ms) == 0);
    }
    const std::string known = read_file(lab.path / "servidores_conhecidos.txt");
    CHECK(count_of(known, "\n") == 8);
    for (const Server& s : servers)
        CHECK(known.find("127.0.0.1:" + std::to_string(s.port) + " ") != std::string::npos);
    CHECK(read_file(victim) == "intacto\n");
    struct stat st {};
    REQUIRE(lstat((lab.path / "servidores_conhecidos.txt").c_str(), &st) == 0);
    CHECK(S_ISREG(st.st_mode));
    CHECK((st.st_mode & 0777) == 0600);
    // A symlink planted as the lock file: the client refuses it (O_NOFOLLOW) and says so.
    std::filesystem::remove(lab.path / "servidores_conhecidos.txt");
    std::filesystem::remove(lab.path / "servidores_conhecidos.txt.trava");
    std::filesystem::create_symlink(victim, lab.path / "servidores_conhecidos.txt.trava");
    Process refused({(lab.path / "client").string(), "127.0.0.1", std::to_string(servers[0].port)});
    refused.close_stdin();
    CHECK(refused.wait_exit(10000ms) == 1);
    CHECK(refused.err().find("não foi possível travar") != std::string::npos);
    CHECK(read_file(victim) == "intacto\n");
}

// ---- 3. one student's share of the chat (common/rate_limit.h, issue 30) ---------------

namespace {

// One chat seen through raw sockets: ex1 relays the bytes as they are; ex2
// relays tokens sealed with the one key its server gives every client.
struct Chat {
    bool crypto = false;
    std::vector<unsigned char> key;  // ex2
    std::string wire(const std::string& text) const {
        return (crypto ? token::encrypt(key.data(), text) : text) + "\n";
    }
    bool text_of(const std::string& line, std::string& text) const {
        if (!crypto) text = line;
        return !crypto || token::decrypt(key.data(), line, text);
    }
};

// A peer that joins `chat` and is in the server's list: it sends a probe and
// reads until its own probe comes back (every broadcast reaches its sender too).
int join(Chat& chat, int port, const std::string& probe) {
    const int fd = connect_to(port);
    REQUIRE(fd >= 0);
    if (chat.crypto) chat.key = ex2_join(fd);
    REQUIRE(send_bytes(fd, chat.wire(probe)));
    std::string text;
    for (int i = 0; i < 10 && text != probe; ++i)
        REQUIRE(chat.text_of(recv_line(fd, 10000ms), text));
    REQUIRE(text == probe);
    return fd;
}

// What an honest classmate read.
struct Reading {
    long lines = 0;          // flood lines 1, 2, 3... in order
    bool closed = false;     // the server closed the connection
    std::string wrong;       // the first line out of order or unreadable
};

// Reads at most `rate` bytes a second (rate / 100 every 10 ms, a slow
// terminal) until `target` flood lines have arrived, the server closes, or
// 20 s pass. Probes ("<sonda ...>") are skipped; every other line must be the
// flood's next number.
Reading read_slowly(int fd, const Chat& chat, long target, std::size_t rate) {
    Reading r;
    std::string pending, text;
    std::vector<char> chunk(rate / 100);
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (r.lines < target && r.wrong.empty() && std::chrono::steady_clock::now() < deadline) {
        pollfd ready{fd, POLLIN, 0};
        if (poll(&ready, 1, 100) != 1) continue;
        const ssize_t got = recv(fd, chunk.data(), chunk.size(), 0);
        if (got <= 0) {
            r.closed = true;
            break;
        }
        pending.append(chunk.data(), static_cast<std::size_t>(got));
        for (std::size_t end; r.wrong.empty() && (end = pending.find('\n')) != std::string::npos;) {
            const std::string line = pending.substr(0, end);
            pending.erase(0, end + 1);
            if (!chat.text_of(line, text))
                r.wrong = "unreadable: " + line.substr(0, 60);
            else if (text.rfind("<sonda", 0) == 0)
                continue;
            else if (std::atol(text.c_str()) == r.lines + 1)
                ++r.lines;
            else
                r.wrong = "after line " + std::to_string(r.lines) + ": " + text.substr(0, 20);
        }
        std::this_thread::sleep_for(10ms);
    }
    return r;
}

}  // namespace

TEST_CASE("ex1, ex2: one student's flood disconnects no classmate; each reads every line in order") {
    // Issue 30's attack: one socket sends 1,000-byte lines as fast as it can
    // (reading its own echo, so it is never "slow"). Before the send budget it
    // pushed 3.8 GB in 10 s and two honest readers (2 and 50 MB/s) were
    // dropped with more than 1 MiB queued. Here two classmates read at only
    // 200 kB/s each; with the budget (16 KiB/s after a 64 KiB burst) they keep up.
    for (const std::string program : {"ex1_chat/server", "ex2_crypto/server"}) {
        CAPTURE(program);
        Server server = start_limited(program, 1024);
        const pid_t pid = server.process->pid();
        Chat chat;
        chat.crypto = program == "ex2_crypto/server";
        const int first = join(chat, server.port, "<sonda 1>");
        const int second = join(chat, server.port, "<sonda 2>");
        const int flooder = join(chat, server.port, "<sonda 3>");
        // 100 lines: beyond the burst, so the budget's waits are exercised too.
        const long target = 100;
        Reading got[2];
        std::atomic<int> done{0};
        std::thread readers[2] = {
            std::thread([&] { got[0] = read_slowly(first, chat, target, 200000); ++done; }),
            std::thread([&] { got[1] = read_slowly(second, chat, target, 200000); ++done; })};
        // The flood, until both have read their lines (at most 20 s).
        std::string line;
        long lines = 0;
        double sent = 0;
        long peak_kb = 0;
        char echo[65536];
        const auto deadline = std::chrono::steady_clock::now() + 20s;
        for (int round = 0; done < 2 && std::chrono::steady_clock::now() < deadline; ++round) {
            while (recv(flooder, echo, sizeof echo, MSG_DONTWAIT) > 0) {}  // its own echo
            if (line.empty()) {
                std::string text = std::to_string(++lines) + " ";
                text.resize(chat.crypto ? 700 : 999, 'x');  // ~1,000 bytes on the wire
                line = chat.wire(text);
            }
            const ssize_t n = send(flooder, line.data(), line.size(), MSG_DONTWAIT);
            if (n > 0) {
                line.erase(0, static_cast<std::size_t>(n));
                sent += static_cast<double>(n);
            } else {
                pollfd wait{flooder, POLLOUT | POLLIN, 0};
                poll(&wait, 1, 50);  // TCP pushes back: the server is not reading
            }
            if (round % 64 == 0) peak_kb = std::max(peak_kb, rss_kb(pid));
        }
        for (std::thread& t : readers) t.join();
        peak_kb = std::max(peak_kb, rss_kb(pid));
        MESSAGE(program << ": the flooder got " << sent / 1e6 << " MB into TCP (" << lines
                        << " lines begun) while the readers read " << target
                        << " lines; server peak RSS " << peak_kb << " kB");
        for (const Reading& r : got) {
            CHECK_MESSAGE(r.wrong.empty(), r.wrong);
            CHECK(!r.closed);
            CHECK(r.lines == target);  // 1, 2, ... 100: none lost, none out of order
        }
        CHECK(server.process->out().find("Cliente lento") == std::string::npos);
        // Every queue is bounded anyway (common/outbox.h); the budget keeps
        // them short: under 32 MB (measured: see the MESSAGE above).
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
        MESSAGE("RSS bound not checked under a sanitizer");
#else
        CHECK(peak_kb < 32 * 1024);
#endif
        for (int fd : {first, second, flooder}) close_fd(fd);
    }
}

TEST_CASE("ex1: a churn of connections writes at most one eviction line a second") {
    // Issue 30's attack (6): 1,100 connections from 69 addresses, each one the
    // server closes replaced by a new one. One line per eviction wrote 372,105
    // lines (~100 MB) in 40 s; now one a second, counting the rest.
    Server server = start_limited("ex1_chat/server", 1024);
    const auto start = std::chrono::steady_clock::now();
    {
        Attacker attacker(server.port, 1100, 69, 3.0);  // then 3 s of churn
        REQUIRE(attacker.opened() == 1100);
        std::this_thread::sleep_for(3500ms);
    }
    const std::string out = server.process->out();
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const std::string evicted = "fechada para dar lugar a";
    const int lines = count_of(out, evicted);
    // The evictions the lines stand for: each line, plus the "(e mais N ...)" it counts.
    long total = lines;
    const std::string more = "(e mais ";
    for (std::size_t at = out.find(more); at != std::string::npos; at = out.find(more, at + 1))
        total += std::atol(out.c_str() + at + more.size());
    MESSAGE(lines << " eviction lines in " << seconds << " s standing for " << total
                  << " evictions; server output " << out.size() << " bytes");
    if (const std::size_t at = out.find(more); at != std::string::npos)
        MESSAGE("e.g. " << out.substr(out.rfind('\n', at) + 1, out.find('\n', at) - out.rfind('\n', at) - 1));
    CHECK(lines >= 1);
    CHECK(lines <= static_cast<int>(seconds) + 1);  // at most one a second
    CHECK(total > lines);  // the churn happened, and was counted
    // The group's count is what it held (at most the capacity, 992), not 993.
    CHECK(out.find("conexões (993)") == std::string::npos);
    CHECK(out.find("Conexão recusada") == std::string::npos);
}

// ---- 4. one deadline for the whole handshake or request ---------------------------

TEST_CASE("ex2: a handshake that drips a byte every 3 s is closed after 10 s in all") {
    Server server = start_server("ex2_crypto/server");
    int fd = connect_to(server.port);
    REQUIRE(fd >= 0);
    REQUIRE(recv_line(fd, 5000ms).size() == 44);  // the key
    std::atomic<bool> stop{false};
    std::thread dripper([&] {  // "x" every 3 s, never a '\n': each recv() gets something
        for (int i = 0; i < 8 && !stop; ++i) {
            if (!send_bytes(fd, "x")) break;
            for (int t = 0; t < 30 && !stop; ++t) std::this_thread::sleep_for(100ms);
        }
    });
    bool closed = false;
    recv_until_close(fd, 20000ms, &closed);
    stop = true;
    dripper.join();
    CHECK(closed);
    CHECK(server.process->wait_output("não sincronizado: não completou o handshake em 10 s",
                                      5000ms));
    close_fd(fd);
    // Everyone else is served meanwhile and after.
    Process client({bin("ex2_crypto/client"), "127.0.0.1", std::to_string(server.port)});
    CHECK(client.wait_output("> ", 5000ms));
}

TEST_CASE("ex3: a request that drips is answered from its first segment and closed") {
    Server server = start_server("ex3_files/server");
    int fd = connect_to(server.port);
    REQUIRE(fd >= 0);
    REQUIRE(send_bytes(fd, "G"));
    bool closed = false;
    std::string reply = recv_until_close(fd, 15000ms, &closed);
    CHECK(closed);
    CHECK(reply.rfind("ERROR", 0) == 0);
    CHECK(server.process->wait_output("Pedido inválido de 127.0.0.1", 5000ms));
    close_fd(fd);
    // Silence: closed when the 10 s for the request run out.
    int silent = connect_to(server.port);
    REQUIRE(silent >= 0);
    closed = false;
    recv_until_close(silent, 20000ms, &closed);
    CHECK(closed);
    CHECK(server.process->wait_output(
        "não enviou pedido: nada chegou dentro do prazo (EAGAIN 11)", 5000ms));
    close_fd(silent);
}

// ---- 5. system errors in Portuguese ---------------------------------------------------

TEST_CASE("a port in use and a refused connection are explained in Portuguese") {
    for (const std::string ex : {"ex1_chat", "ex2_crypto", "ex3_files"}) {
        CAPTURE(ex);
        Server server = start_server(ex + "/server");
        const std::string port = std::to_string(server.port);
        Process second({bin(ex + "/server"), "127.0.0.1", port});
        CHECK(second.wait_exit(5000ms) == 1);
        CHECK(second.err() == "Erro: não foi possível usar o endereço 127.0.0.1:" + port +
                                  ": endereço já em uso (EADDRINUSE 98) (a porta já está em "
                                  "uso?)\n");
        const std::string closed_port = std::to_string(free_port());
        Process client({bin(ex + "/client"), "127.0.0.1", closed_port});
        client.close_stdin();
        CHECK(client.wait_exit(5000ms) == 1);
        // ex3 names its own kind of server (a UDP ex5 server on that port would not answer).
        const std::string hint = ex == "ex3_files" ? " (há um servidor do Exemplo 3, TCP, nessa porta?)"
                                                   : " (o servidor está rodando?)";
        CHECK(client.err().find("Erro: não foi possível conectar ao servidor 127.0.0.1:" +
                                closed_port + ": conexão recusada (ECONNREFUSED 111)" + hint) !=
              std::string::npos);
    }
}

TEST_CASE("a port below 1024 without root is explained") {
    // Root may bind any port: as root, the server runs as nobody (setpriv).
    std::vector<std::string> argv = {bin("ex1_chat/server"), "127.0.0.1", "502"};
    if (geteuid() == 0) {
        const std::vector<std::string> nobody = {"setpriv", "--reuid=65534", "--regid=65534",
                                                 "--clear-groups"};
        const std::string probe = "setpriv --reuid=65534 --regid=65534 --clear-groups test -x " +
                                  argv[0] + " 2>/dev/null";
        if (std::system(probe.c_str()) != 0)
            return skip("root, and user nobody cannot run " + argv[0] +
                        " (setpriv missing, or the clone is in a folder only root can read)");
        argv.insert(argv.begin(), nobody.begin(), nobody.end());
    }
    Process server(argv);
    CHECK(server.wait_exit(5000ms) == 1);
    CHECK(server.err().find("permissão negada (EACCES 13) (portas abaixo de 1024 exigem root") !=
          std::string::npos);
}
