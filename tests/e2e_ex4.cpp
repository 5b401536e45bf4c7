// End-to-end tests of Exemplo 4 (key exchange), the handshake and the chat:
// the real ex4_kx/server and client checked from raw sockets that speak the
// wire protocol (every line's size), two real clients talking through the
// server, what arrives shown and never executed, the server's threads and
// sockets, usage errors, and a Python peer written with PyNaCl on either end.
// The key files are in e2e_ex4_keys, the attacks of the README's "O que é
// protegido" in e2e_ex4_attacks, hostile bytes and floods in e2e_ex4_hostile.
#include <doctest/doctest.h>

#include <string>
#include <thread>
#include <vector>

#include "ex4_support.h"

using namespace lab;
namespace fs = std::filesystem;

TEST_CASE("ex4: the handshake on the wire: 45, 45, 33, 29 bytes from the server; text + 17") {
    Lab lab;
    Server server = start_server(lab);
    std::string key = printed_key(*server.process);
    Peer p = begin_handshake(server.port);  // checks every size
    CHECK(p.server_key == key);  // the key printed at start-up is the one sent
    // The server says "sincronizado" only on the client's OK, the last line.
    REQUIRE(send_bytes(p.fd, kx::seal(p.sending, "OK") + "\n"));
    CHECK(server.process->wait_output(
        "Cliente ('127.0.0.1', " + std::to_string(p.port) + ") sincronizado", 5000ms));
    CHECK(server.process->out().find("Iniciando servidor em 127.0.0.1:" +
                                      std::to_string(server.port) + "\nPar de chaves novo") == 0);
    // A 31-byte message: 31 + 17 = 48 bytes -> 64 characters of base64.
    REQUIRE(send_bytes(p.fd, line_of(p, OLA)));
    std::string line = recv_line(p.fd, 5000ms), text;
    CHECK(line.size() == 64);
    REQUIRE(kx::open(p.receiving, line, text));
    CHECK(text == OLA);
    // Every connection: the same server key, a new connection key, a new header.
    Peer q = connect_peer(server.port);
    CHECK(q.server_key == p.server_key);
    CHECK(q.connection_key != p.connection_key);
    CHECK(q.header != p.header);
    close_fd(p.fd);
    close_fd(q.fd);
}

TEST_CASE("ex4: two real clients talk; the server re-encrypts for each one") {
    Lab lab;
    Server server = start_server(lab);
    std::string key = printed_key(*server.process);
    auto peers = join_chat(server.port, 1);
    Process a(lab.client(server.port, key));
    Process b(lab.client(server.port, key, "localhost"));
    REQUIRE(server.process->wait_output("sincronizado", 5000ms, 3));
    b.write_stdin("b chegou\n");
    CHECK(read_message(peers[0]) == "b chegou");
    a.write_stdin(OLA + "\n");
    CHECK(read_message(peers[0]) == OLA);
    CHECK(b.wait_output(OLA + "\n>", 5000ms));
    CHECK(a.wait_output(OLA + "\n>", 5000ms));
    CHECK(!fs::exists(lab.known()));  // pinned: nothing saved
    close_all(peers);
    a.close_stdin();
    b.close_stdin();
    CHECK(a.wait_exit(5000ms) == 0);
    CHECK(b.wait_exit(5000ms) == 0);
    // Issue 28: after Ctrl+D the user ended it, not the server.
    CHECK(a.out().find("Conexão encerrada por você (fim da entrada)") != std::string::npos);
    CHECK(a.out().find("pelo servidor") == std::string::npos);
}

TEST_CASE("ex4 client: what arrives is shown, never executed (escapes, invalid UTF-8)") {
    Lab lab;
    Server server = start_server(lab);
    std::string key = printed_key(*server.process);
    auto peers = join_chat(server.port, 1);
    Process client(lab.client(server.port, key));
    client.write_stdin("oi\n");  // its own line comes back to the peer: it is in the chat
    REQUIRE(read_message(peers[0]) == "oi");
    // Anyone in the chat can send these bytes: clear screen, home, a window
    // title, a bare CR and a Latin-1 byte, then a fake line.
    const std::string evil = "\x1b[2J\x1b[H\x1b]0;titulo\x07\rOl\xe1 Professor: a prova foi cancelada";
    REQUIRE(send_bytes(peers[0].fd, line_of(peers[0], evil)));
    CHECK(read_message(peers[0]) == evil);  // the wire carries the bytes unchanged
    CHECK(client.wait_output("\\x1b[2J\\x1b[H\\x1b]0;titulo\\x07\\x0dOl\\xe1 Professor: a prova foi "
                             "cancelada\n>",
                             5000ms));
    CHECK(client.out().find('\x1b') == std::string::npos);
    CHECK(client.out().find('\r') == std::string::npos);
    REQUIRE(send_bytes(peers[0].fd, line_of(peers[0], "Olá ç 😀")));  // valid UTF-8 as is
    CHECK(client.wait_output("Olá ç 😀\n>", 5000ms));
    close_all(peers);
}

TEST_CASE("ex4: threads and sockets come back to their starting count") {
    Lab lab;
    Server server = start_server(lab);
    pid_t pid = server.process->pid();
    close_all(join_chat(server.port, 1));  // warm-up
    REQUIRE(server.process->wait_output("Cliente desconectado", 5000ms));
    std::this_thread::sleep_for(200ms);
    int fds0 = open_fds(pid), threads0 = thread_count(pid);
    for (int round = 0; round < 2; ++round) {
        auto peers = join_chat(server.port, 5);
        int half = connect_to(server.port);  // never answers the keys
        REQUIRE(recv_exactly(half, 90, 5000ms).size() == 90);
        CHECK(thread_count(pid) == threads0 + 6);
        close_all(peers);
        close_fd(half);
        CHECK(wait_threads(pid, threads0, 5000ms));
    }
    CHECK(open_fds(pid) == fds0);
}

TEST_CASE("ex4: usage errors exit 2; --help exits 0") {
    for (const char* program : {"server", "client", "intruso"}) {
        Process p({bin(std::string("ex4_kx/") + program), "127.0.0.1", "0"});
        CHECK(p.wait_exit(5000ms) == 2);
        CHECK(p.err().find("Erro: porta inválida: 0 (use 1 a 65535)\nuso: ") == 0);
        Process help({bin(std::string("ex4_kx/") + program), "--help"});
        CHECK(help.wait_exit(5000ms) == 0);
        CHECK(help.out().find("uso: ") == 0);
    }
    for (std::vector<std::string> bad : {std::vector<std::string>{"client", "--chave-servidor", "curta"},
                                         {"client", "--chave-servidor"},
                                         {"client", "--decrypt", "x"},
                                         {"server", "--limite-por-ip", "0"},
                                         {"server", "--limite-por-ip", "muitos"},
                                         {"intruso", "--limite-por-ip", "-1"}}) {
        bad[0] = bin("ex4_kx/" + bad[0]);
        Process p(bad);
        CHECK(p.wait_exit(5000ms) == 2);
        CHECK(p.err().find("Erro: ") == 0);
        CHECK(p.err().find("\nuso: ") != std::string::npos);
    }
    Process server_port({bin("ex4_kx/intruso"), "127.0.0.1", "8001", "127.0.0.1", "x"});
    CHECK(server_port.wait_exit(5000ms) == 2);
    CHECK(server_port.err().find("Erro: porta inválida: x (use 1 a 65535)\nuso: ") == 0);
}

TEST_CASE("ex4: a Python peer using PyNaCl interoperates with our server and our client") {
    const std::string python = "/usr/bin/python3";
    if (auto why = need_python("nacl.bindings", "python3-nacl"); !why.empty()) return skip(why);
    Lab lab;
    const std::string peer = std::string(LAB_SOURCE_DIR) + "/tests/peer_kx.py";
    SUBCASE("Python client, C++ server and clients") {
        Server server = start_server(lab);
        std::string key = printed_key(*server.process);
        auto peers = join_chat(server.port, 1);
        Process py({python, peer, "client", std::to_string(server.port), "Olá do Python", "2"});
        CHECK(read_message(peers[0]) == "Olá do Python");
        Process client(lab.client(server.port, key));
        REQUIRE(server.process->wait_output("sincronizado", 5000ms, 3));
        client.write_stdin("Olá do C++\n");
        CHECK(py.wait_exit(10000ms) == 0);
        CHECK(py.out() == "server key " + key + "\nsynchronized\nOlá do Python\nOlá do C++\n");
        CHECK(py.err().empty());
        close_all(peers);
    }
    SUBCASE("Python server, C++ client") {
        Process py({python, peer, "server", "Olá do servidor Python", "1"});
        REQUIRE(py.wait_output("server key ", 10000ms));
        std::string out = py.out();
        const int port = std::stoi(out.substr(5, out.find('\n') - 5));
        auto at = out.find("server key ") + 11;
        std::string key = out.substr(at, out.find('\n', at) - at);
        Process client(lab.client(port, key));
        CHECK(client.wait_output("Olá do servidor Python\n>", 10000ms));
        client.write_stdin("Olá do cliente C++\n");
        CHECK(py.wait_exit(10000ms) == 0);
        CHECK(py.out().find("synchronized\nOlá do cliente C++\n") != std::string::npos);
        CHECK(py.err().empty());
        CHECK(client.wait_exit(5000ms) == 0);
    }
}
