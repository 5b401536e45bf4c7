// End-to-end tests of Exemplo 1 (chat): the real ex1_chat/server and
// ex1_chat/client binaries, checked from raw sockets in the test.
#include <doctest/doctest.h>

#include <signal.h>

#include <string>
#include <vector>

#include "support.h"

using namespace lab;

namespace {

const std::string OLA = "Olá turma de redes industriais";  // 31 bytes of UTF-8

// Connect n raw clients and make sure the server has registered each one:
// client i sends a probe and waits for its own echo (the sender gets its own
// message back). Then every socket's share of the probes is drained, so all
// start clean.
std::vector<int> join_chat(int port, int n) {
    std::vector<int> fds;
    std::vector<std::string> probes;
    for (int i = 0; i < n; ++i) {
        int fd = connect_to(port);
        REQUIRE(fd >= 0);
        probes.push_back("<probe " + std::to_string(i) + ">");
        REQUIRE(send_bytes(fd, probes.back()));
        // Everything up to its own probe reaches client i, which has just
        // joined: only its own probe, since the others are sent before it.
        REQUIRE(recv_exactly(fd, probes.back().size(), 5000ms) == probes.back());
        fds.push_back(fd);
    }
    for (int i = 0; i < n; ++i) {
        std::string later;
        for (int j = i + 1; j < n; ++j) later += probes[j];
        REQUIRE(recv_exactly(fds[i], later.size(), 5000ms) == later);
    }
    return fds;
}

void close_all(const std::vector<int>& fds) {
    for (int fd : fds) close_fd(fd);
}

}  // namespace

TEST_CASE("ex1 server: prints as the original and relays to every client, sender included") {
    Server server = start_server("ex1_chat/server");
    auto fds = join_chat(server.port, 3);
    REQUIRE(send_bytes(fds[0], OLA));
    for (int fd : fds) CHECK(recv_exactly(fd, OLA.size(), 5000ms) == OLA);

    // The test's reader of the server's output may be a moment behind: wait.
    CHECK(server.process->wait_output("Cliente conectado: 127.0.0.1:", 5000ms, 3));
    std::string out = server.process->out();
    CHECK(out.rfind("Iniciando servidor em 127.0.0.1:" + std::to_string(server.port) +
                        "\nAguardando conexao...\n",
                    0) == 0);
    CHECK(count_of(out, "Cliente conectado: 127.0.0.1:") == 3);
    close_all(fds);
    CHECK(server.process->wait_output("Cliente desconectado: 127.0.0.1:", 5000ms, 3));
}

TEST_CASE("ex1 server: bytes are forwarded unchanged (UTF-8, binary, 1024 bytes)") {
    Server server = start_server("ex1_chat/server");
    auto fds = join_chat(server.port, 2);
    std::string kilobyte;
    for (int i = 0; i < 1024; ++i) kilobyte += static_cast<char>('a' + i % 26);
    static const char raw[] = "\xff\xfe\x00\x01\x80 não-UTF-8 \xc3";
    const std::string binary(raw, sizeof raw - 1);  // NUL and invalid UTF-8 included
    for (const std::string& message : {OLA, kilobyte, binary}) {
        REQUIRE(send_bytes(fds[1], message));
        for (int fd : fds) CHECK(recv_exactly(fd, message.size(), 5000ms) == message);
    }
    close_all(fds);
}

TEST_CASE("ex1 server: a client dropping mid-broadcast does not disturb the others") {
    Server server = start_server("ex1_chat/server");
    auto fds = join_chat(server.port, 4);
    // Client 3 vanishes with a RST while client 0 is sending.
    std::string expected;
    for (int i = 0; i < 200; ++i) {
        std::string message = "mensagem " + std::to_string(i) + ";";
        expected += message;
        REQUIRE(send_bytes(fds[0], message));
        if (i == 50) reset_close(fds[3]);
        if (i == 100) close_fd(fds[2]);
    }
    CHECK(recv_exactly(fds[1], expected.size(), 10000ms) == expected);
    CHECK(recv_exactly(fds[0], expected.size(), 10000ms) == expected);
    // Each departure is reported exactly once.
    CHECK(server.process->wait_output("Cliente desconectado", 5000ms, 2));
    CHECK(count_of(server.process->out(), "Cliente desconectado") == 2);
    // And the server still serves a newcomer.
    auto more = join_chat(server.port, 1);
    REQUIRE(send_bytes(more[0], OLA));
    const std::string seen = "<probe 0>" + OLA;  // the newcomer's probe, then OLA
    CHECK(recv_exactly(fds[1], seen.size(), 5000ms) == seen);
    close_fd(fds[0]);
    close_fd(fds[1]);
    close_all(more);
}

TEST_CASE("ex1 server: 50 clients at once all get every message") {
    // 50 clients from 127.0.0.1: above the default limit per address (16).
    Server server = start_server("ex1_chat/server", {"--limite-por-ip", "100"});
    auto fds = join_chat(server.port, 50);
    std::string expected;
    int observer = fds[1];
    for (int sender : {0, 17, 49, 25}) {
        std::string message = "de " + std::to_string(sender) + ": " + OLA + "\n";
        expected += message;
        REQUIRE(send_bytes(fds[static_cast<std::size_t>(sender)], message));
        // One message at a time, so that every client sees the same order.
        REQUIRE(recv_exactly(observer, message.size(), 5000ms) == message);
    }
    for (int fd : fds)
        if (fd != observer) CHECK(recv_exactly(fd, expected.size(), 10000ms) == expected);
    close_all(fds);
}

TEST_CASE("ex1 server: threads and sockets come back to their starting count") {
    // 20 clients from 127.0.0.1: above the default limit per address (16).
    Server server = start_server("ex1_chat/server", {"--limite-por-ip", "100"});
    pid_t pid = server.process->pid();
    // A first client, so that a sanitizer's own helper thread (started
    // lazily) is already there when the baseline is taken.
    close_all(join_chat(server.port, 1));
    REQUIRE(server.process->wait_output("Cliente desconectado", 5000ms));
    std::this_thread::sleep_for(200ms);
    int fds0 = open_fds(pid), threads0 = thread_count(pid);
    for (int round = 0; round < 3; ++round) {
        auto fds = join_chat(server.port, 20);
        CHECK(thread_count(pid) == threads0 + 20);  // one per client
        close_all(fds);
        CHECK(wait_threads(pid, threads0, 5000ms));
    }
    CHECK(open_fds(pid) == fds0);
}

TEST_CASE("ex1 server: restarting on the same port right after stopping works") {
    Server server = start_server("ex1_chat/server");
    auto fds = join_chat(server.port, 2);
    // The server dies first, so its side of each connection enters TIME_WAIT.
    server.process->kill(SIGTERM);
    REQUIRE(server.process->wait_exit(5000ms));
    for (int fd : fds) recv_until_close(fd, 2000ms);
    close_all(fds);

    Process again({bin("ex1_chat/server"), "127.0.0.1", std::to_string(server.port)});
    CHECK(again.wait_output("Aguardando conexao...", 5000ms));
    CHECK(again.err().find("Erro") == std::string::npos);  // only the capacity line
    auto more = join_chat(server.port, 1);
    close_all(more);
}

TEST_CASE("ex1 server: bad arguments, --help and a port in use") {
    Process usage({bin("ex1_chat/server"), "127.0.0.1", "porta"});
    CHECK(usage.wait_exit(5000ms) == 2);
    // What was wrong comes first, then the usage line (student finding 7).
    CHECK(usage.err().find("Erro: porta inválida: porta (use 1 a 65535)\n"
                           "uso: server [IP [PORTA]]") == 0);

    Process extra({bin("ex1_chat/server"), "a", "1", "2"});
    CHECK(extra.wait_exit(5000ms) == 2);
    CHECK(extra.err().find("Erro: argumento a mais: 2\nuso: server [IP [PORTA]]") == 0);
    Process flag({bin("ex1_chat/server"), "--bogus"});
    CHECK(flag.wait_exit(5000ms) == 2);
    CHECK(flag.err().find("Erro: opção desconhecida: --bogus\nuso: server [IP [PORTA]]") == 0);

    Process help({bin("ex1_chat/server"), "--help"});
    CHECK(help.wait_exit(5000ms) == 0);
    CHECK(help.out().find("uso: server [IP [PORTA]]") == 0);

    Server server = start_server("ex1_chat/server");
    Process second({bin("ex1_chat/server"), "127.0.0.1", std::to_string(server.port)});
    CHECK(second.wait_exit(5000ms) == 1);
    CHECK(second.err().find("Erro: não foi possível usar o endereço 127.0.0.1:" +
                            std::to_string(server.port)) == 0);
    CHECK(second.err().find("endereço já em uso (EADDRINUSE 98)") != std::string::npos);
}

TEST_CASE("ex1 client: a typed line reaches the other clients, unchanged") {
    Server server = start_server("ex1_chat/server");
    auto fds = join_chat(server.port, 1);
    Process client({bin("ex1_chat/client"), "127.0.0.1", std::to_string(server.port)});
    CHECK(client.wait_output("> ", 5000ms));
    client.write_stdin(OLA + "\n");
    // Exactly the 31 bytes: no newline, no framing.
    CHECK(recv_exactly(fds[0], OLA.size(), 5000ms) == OLA);
    // The client shows its own message back, followed by "\n>".
    CHECK(client.wait_output(OLA + "\n>", 5000ms));
    // Messages from others are shown the same way.
    REQUIRE(send_bytes(fds[0], "resposta"));
    CHECK(client.wait_output("resposta\n>", 5000ms));
    close_all(fds);
}

TEST_CASE("ex1 client: server shutdown makes it say so and exit 0") {
    Server server = start_server("ex1_chat/server");
    Process client({bin("ex1_chat/client"), "localhost", std::to_string(server.port)});
    REQUIRE(server.process->wait_output("Cliente conectado", 5000ms));
    server.process->kill(SIGTERM);
    CHECK(client.wait_exit(3000ms) == 0);
    CHECK(client.out().find("Conexão encerrada pelo servidor") != std::string::npos);
    // It stops, rather than printing ">" in a loop as the original does.
    CHECK(client.out().size() < 200);
}

TEST_CASE("ex1 client: end of input half-closes, shows what still arrives, exits 0") {
    Server server = start_server("ex1_chat/server");
    auto fds = join_chat(server.port, 1);
    Process client({bin("ex1_chat/client"), "127.0.0.1", std::to_string(server.port)});
    client.write_stdin("primeira\nsegunda\n");
    CHECK(recv_exactly(fds[0], 15, 5000ms) == "primeirasegunda");
    client.close_stdin();
    CHECK(client.wait_exit(5000ms) == 0);
    // The user ended it (issue 28: it said "pelo servidor").
    CHECK(client.out().find("Conexão encerrada por você (fim da entrada)") != std::string::npos);
    CHECK(client.out().find("pelo servidor") == std::string::npos);
    CHECK(client.err().empty());
    CHECK(server.process->wait_output("Cliente desconectado", 5000ms));
    close_all(fds);
}

TEST_CASE("ex1 client: connection refused and bad arguments") {
    int port = free_port();
    Process refused({bin("ex1_chat/client"), "127.0.0.1", std::to_string(port)});
    CHECK(refused.wait_exit(5000ms) == 1);
    CHECK(refused.err().find("Erro: não foi possível conectar ao servidor 127.0.0.1:" +
                             std::to_string(port)) == 0);

    Process bad({bin("ex1_chat/client"), "127.0.0.1", "70000"});
    CHECK(bad.wait_exit(5000ms) == 2);
    CHECK(bad.err().find("Erro: porta inválida: 70000 (use 1 a 65535)\n"
                         "uso: client [IP [PORTA]]") == 0);
    Process help({bin("ex1_chat/client"), "--help"});
    CHECK(help.wait_exit(5000ms) == 0);
}

TEST_CASE("ex1 server and client over IPv6 (::1)") {
    int port = free_port();
    Process server({bin("ex1_chat/server"), "::1", std::to_string(port)});
    if (!server.wait_output("Aguardando", 3000ms)) {
        return skip("IPv6 loopback not available here: " + server.err());
    }
    // address:port with the IPv6 address in brackets (student finding 16).
    CHECK(server.out().find("Iniciando servidor em [::1]:" + std::to_string(port) + "\n") == 0);
    int raw = connect_to(port, "::1");
    REQUIRE(raw >= 0);
    CHECK(server.wait_output("Cliente conectado: [::1]:", 5000ms));
    REQUIRE(send_bytes(raw, OLA));
    CHECK(recv_exactly(raw, OLA.size(), 5000ms) == OLA);
    close_fd(raw);
}

// Issue 28: port 8000 after the guide's Python server (no SO_REUSEADDR) had a
// client: bind() fails for ~60 s although nothing listens, because Linux
// shares a port with TIME_WAIT connections only when both sockets set
// SO_REUSEADDR. The servers say so instead of "(a porta já está em uso?)".
TEST_CASE("ex1-ex4 servers: a port held only by TIME_WAIT is explained, with ss -tan") {
    int number = 0;
    int listener = listen_local(number);  // like Servidor.py: no SO_REUSEADDR
    const std::string port = std::to_string(number);
    int client = connect_to(number);
    REQUIRE(client >= 0);
    int accepted = accept_within(listener, 5000ms);
    REQUIRE(accepted >= 0);
    close_fd(accepted);  // the server closes first: its side goes to TIME_WAIT
    CHECK(recv_until_close(client, 5000ms).empty());
    close_fd(client);
    close_fd(listener);
    for (const char* program : {"ex1_chat/server", "ex2_crypto/server", "ex3_files/server",
                                "ex4_kx/server"}) {
        CAPTURE(program);
        Process server({bin(program), "127.0.0.1", port});
        CHECK(server.wait_exit(5000ms) == 1);
        CHECK(server.err().find("não foi possível usar o endereço 127.0.0.1:" + port +
                                ": endereço já em uso (EADDRINUSE 98) (nada escuta nesta porta: "
                                "ela está presa por conexões antigas em TIME_WAIT") !=
              std::string::npos);
        CHECK(server.err().find("Veja com: ss -tan sport = :" + port + ")") != std::string::npos);
        CHECK(server.err().find("a porta já está em uso?") == std::string::npos);
    }
}
