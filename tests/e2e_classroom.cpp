// A classroom server that one student cannot take down, spoof or confuse
// (issue 20), tested on the real programs:
//  - what arrives is shown, never executed: a raw peer sends terminal escape
//    sequences and invalid UTF-8 to the ex1 and ex2 chats, and a real client
//    shows them as \xNN text while valid UTF-8 passes unchanged;
//  - a limit per source address: with the server at 256 open files, 300 idle
//    connections from 127.0.0.2 while a client from 127.0.0.1 still chats
//    (ex1, ex2) or downloads (ex3); out of descriptors, the accept loop
//    reports once a second with a count;
//  - one deadline for the whole handshake (ex2) or request (ex3): a peer that
//    drips bytes is closed when it runs out;
//  - system errors in Portuguese, with the code's name and number.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <thread>
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

// ---- 2. a limit per source address -----------------------------------------------

TEST_CASE("ex1: 300 idle connections from one address do not lock the class out") {
    Server server = start_limited("ex1_chat/server", 256);
    std::vector<int> flood = flood_from("127.0.0.2", server.port, 300);
    REQUIRE(flood.size() == 300);  // the kernel accepts them; the server closes 284
    CHECK(server.process->wait_output(
        "Conexão recusada: 127.0.0.2 já tem 16 conexões abertas", 10000ms, 284));
    // Another PC of the class still chats.
    Process a({bin("ex1_chat/client"), "127.0.0.1", std::to_string(server.port)});
    Process b({bin("ex1_chat/client"), "127.0.0.1", std::to_string(server.port)});
    REQUIRE(a.wait_output("> ", 5000ms));
    REQUIRE(b.wait_output("> ", 5000ms));
    REQUIRE(server.process->wait_output("Cliente conectado: 127.0.0.1:", 5000ms, 2));
    CHECK(heard(a, b, "ainda funciona"));
    CHECK(server.process->err().find("Erro no accept") == std::string::npos);
    // 16 of the flood are still held, no more: descriptors stay far from 256.
    CHECK(open_fds(server.process->pid()) < 16 + 2 + 20);
    close_all(flood);
    // Their places come back: 127.0.0.2 can connect again.
    CHECK(server.process->wait_output("Cliente desconectado: 127.0.0.2", 10000ms, 16));
    int again = connect_from(server.port, "127.0.0.2");
    CHECK(server.process->wait_output("Cliente conectado: 127.0.0.2", 5000ms, 17));
    close_fd(again);
}

TEST_CASE("ex2: 300 idle connections from one address do not lock the class out") {
    Server server = start_limited("ex2_crypto/server", 256);
    std::vector<int> flood = flood_from("127.0.0.2", server.port, 300);
    CHECK(server.process->wait_output("Conexão recusada: 127.0.0.2", 10000ms, 284));
    Process a({bin("ex2_crypto/client"), "127.0.0.1", std::to_string(server.port)});
    Process b({bin("ex2_crypto/client"), "127.0.0.1", std::to_string(server.port)});
    REQUIRE(a.wait_output("> ", 5000ms));
    REQUIRE(b.wait_output("> ", 5000ms));
    CHECK(heard(a, b, "ainda funciona"));
    close_all(flood);
}

TEST_CASE("ex3: 300 idle connections from one address, another still downloads") {
    TempDir downloads;
    Server server = start_limited("ex3_files/server", 256);
    std::vector<int> flood = flood_from("127.0.0.2", server.port, 300);
    CHECK(server.process->wait_output("Conexão recusada: 127.0.0.2", 10000ms, 284));
    Process client({bin("ex3_files/client"), "127.0.0.1", std::to_string(server.port),
                    "tucano.jpg", "--dir", downloads.path.string()});
    CHECK(client.wait_exit(15000ms) == 0);
    CHECK(read_file(downloads.path / "tucano.jpg") ==
          read_file(std::string(LAB_SOURCE_DIR) + "/ex3_files/imagens/tucano.jpg"));
    close_all(flood);
}

TEST_CASE("--limite-por-ip N sets the limit; a bad value is a usage error") {
    Server server = start_server("ex1_chat/server", {"--limite-por-ip", "2"});
    std::vector<int> flood = flood_from("127.0.0.2", server.port, 5);
    CHECK(server.process->wait_output("Conexão recusada: 127.0.0.2 já tem 2 conexões", 5000ms, 3));
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
}

TEST_CASE("out of descriptors, the accept loop says so once a second, with a count") {
    // 24 files: a dozen connections use them up. The limit per address is
    // raised so that it is the descriptors that run out.
    Server server = start_limited("ex1_chat/server", 24, {"--limite-por-ip", "1000"});
    std::vector<int> flood = flood_from("127.0.0.2", server.port, 40);
    std::this_thread::sleep_for(3500ms);  // ~35 failed accept() at 10 a second
    const std::string err = server.process->err();
    const int lines = count_of(err, "Erro no accept: ");
    CHECK(lines >= 2);
    CHECK(lines <= 6);  // not one per attempt
    CHECK(err.find("arquivos abertos demais neste programa (EMFILE 24)") != std::string::npos);
    CHECK(err.find(" falhas desde a mensagem anterior)") != std::string::npos);
    close_all(flood);
    // Once the flood goes, the queued connections are served and it recovers.
    int fd = connect_to(server.port);
    CHECK(server.process->wait_output("Cliente conectado", 10000ms, 15));
    close_fd(fd);
}

// ---- 3. one deadline for the whole handshake or request ---------------------------

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

// ---- 4. system errors in Portuguese ---------------------------------------------------

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
        CHECK(client.err().find("Erro: não foi possível conectar ao servidor 127.0.0.1:" +
                                closed_port +
                                ": conexão recusada (ECONNREFUSED 111) (o servidor está "
                                "rodando?)") != std::string::npos);
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
