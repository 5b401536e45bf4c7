// End-to-end tests of Exemplo 2 (encrypted chat): the real ex2_crypto/server
// and ex2_crypto/client, checked from raw sockets that speak the wire protocol
// (and, where a raw socket plays the server, a fake server in the test).
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>

#include <string>
#include <vector>

#include "../ex2_crypto/token.h"
#include "support.h"

using namespace lab;

namespace {

const std::string OLA = "Olá turma de redes industriais";

struct Sodium {
    Sodium() { REQUIRE(sodium_init() >= 0); }
};

// A raw client: the key it read from the wire, and its socket.
struct Peer {
    int fd = -1;
    std::vector<unsigned char> key;
    unsigned port = 0;  // its local port, as the server prints it
};

// Connect and read the key line, without answering yet.
Peer connect_peer(int port) {
    Peer p;
    p.fd = connect_to(port);
    REQUIRE(p.fd >= 0);
    p.port = local_port(p.fd);
    std::string key_line = recv_line(p.fd, 5000ms);
    REQUIRE(key_line.size() == 44);  // 44 characters, then '\n'
    REQUIRE(token::from_base64(key_line, p.key));
    REQUIRE(p.key.size() == 32);
    return p;
}

std::string line_of(const Peer& p, const std::string& text) {
    return token::encrypt(p.key.data(), text) + "\n";
}

// Read one line and decrypt it with the peer's key.
std::string read_message(const Peer& p) {
    std::string line = recv_line(p.fd, 5000ms), text;
    if (!token::decrypt(p.key.data(), line, text)) return "<invalid: " + line + ">";
    return text;
}

// n synchronized raw clients, each registered for sure: each sends a probe
// and waits for its echo; then every socket's share of probes is drained.
std::vector<Peer> join_chat(int port, int n) {
    std::vector<Peer> peers;
    for (int i = 0; i < n; ++i) {
        Peer p = connect_peer(port);
        REQUIRE(send_bytes(p.fd, line_of(p, "OK")));
        REQUIRE(send_bytes(p.fd, line_of(p, "probe " + std::to_string(i))));
        REQUIRE(read_message(p) == "probe " + std::to_string(i));
        peers.push_back(p);
    }
    for (int i = 0; i < n; ++i)
        for (int j = i + 1; j < n; ++j) REQUIRE(read_message(peers[i]) == "probe " + std::to_string(j));
    return peers;
}

void close_all(const std::vector<Peer>& peers) {
    for (const Peer& p : peers) close_fd(p.fd);
}

// After some hostile event: the synchronized clients still talk.
void still_talking(std::vector<Peer>& peers) {
    REQUIRE(send_bytes(peers[0].fd, line_of(peers[0], OLA)));
    for (const Peer& p : peers) CHECK(read_message(p) == OLA);
}

}  // namespace

TEST_CASE("ex2: the key line, the OK handshake and the original's messages") {
    Sodium sodium;
    Server server = start_server("ex2_crypto/server");
    Peer p = connect_peer(server.port);
    REQUIRE(send_bytes(p.fd, line_of(p, "OK")));
    std::string synced = "Cliente ('127.0.0.1', " + std::to_string(p.port) + ") sincronizado";
    CHECK(server.process->wait_output(synced, 5000ms));
    std::string out = server.process->out();
    CHECK(out.find("Iniciando servidor em 127.0.0.1:" + std::to_string(server.port) +
                   "\nAguardando conexao...\nCliente conectado: 127.0.0.1:" +
                   std::to_string(p.port) + "\n") == 0);
    // Every client gets the same key.
    Peer q = connect_peer(server.port);
    CHECK(q.key == p.key);
    close_fd(p.fd);
    close_fd(q.fd);
}

TEST_CASE("ex2: two real clients talk; the server relays the token line unchanged") {
    Sodium sodium;
    Server server = start_server("ex2_crypto/server");
    auto peers = join_chat(server.port, 1);
    Process a({bin("ex2_crypto/client"), "127.0.0.1", std::to_string(server.port)});
    Process b({bin("ex2_crypto/client"), "localhost", std::to_string(server.port)});
    REQUIRE(server.process->wait_output("sincronizado", 5000ms, 3));
    // b's registration is certain once a message from b comes back to the raw peer.
    b.write_stdin("b chegou\n");
    CHECK(read_message(peers[0]) == "b chegou");
    a.write_stdin(OLA + "\n");
    // On the wire: one line, a token of 24+16+31 bytes in base64url.
    std::string line = recv_line(peers[0].fd, 5000ms), text;
    CHECK(line.size() == 96);
    REQUIRE(token::decrypt(peers[0].key.data(), line, text));
    CHECK(text == OLA);
    CHECK(b.wait_output(OLA + "\n>", 5000ms));
    CHECK(a.wait_output(OLA + "\n>", 5000ms));
    close_all(peers);
    a.close_stdin();
    b.close_stdin();
    CHECK(a.wait_exit(5000ms) == 0);
    CHECK(b.wait_exit(5000ms) == 0);
}

TEST_CASE("ex2: the key travels in clear, so anyone on the wire can read the chat") {
    Sodium sodium;
    Server server = start_server("ex2_crypto/server");
    // An eavesdropper who only reads: with the key line it saw, it decrypts
    // what a real client sends. This is the weakness the guide points out.
    auto spy = join_chat(server.port, 1);
    Process victim({bin("ex2_crypto/client"), "127.0.0.1", std::to_string(server.port)});
    victim.write_stdin("senha do banco: 1234\n");
    std::string line = recv_line(spy[0].fd, 5000ms), text;
    REQUIRE(token::decrypt(spy[0].key.data(), line, text));
    CHECK(text == "senha do banco: 1234");
    close_all(spy);
}

TEST_CASE("ex2: tokens merged into one segment, or cut in two, are all delivered") {
    Sodium sodium;
    Server server = start_server("ex2_crypto/server");
    auto peers = join_chat(server.port, 2);
    // Three lines in a single send(): one TCP segment on loopback.
    REQUIRE(send_bytes(peers[0].fd,
                       line_of(peers[0], "um") + line_of(peers[0], "dois") + line_of(peers[0], "três")));
    for (const Peer& p : peers)
        for (const char* expected : {"um", "dois", "três"}) CHECK(read_message(p) == expected);
    // One line in two sends, with a pause between them.
    std::string line = line_of(peers[1], OLA);
    REQUIRE(send_bytes(peers[1].fd, line.substr(0, 30)));
    std::this_thread::sleep_for(100ms);
    REQUIRE(send_bytes(peers[1].fd, line.substr(30)));
    for (const Peer& p : peers) CHECK(read_message(p) == OLA);
    close_all(peers);
}

TEST_CASE("ex2: hostile clients are dropped with a message; the others keep talking") {
    Sodium sodium;
    Server server = start_server("ex2_crypto/server");
    auto peers = join_chat(server.port, 2);

    SUBCASE("garbage instead of the OK") {
        Peer bad = connect_peer(server.port);
        REQUIRE(send_bytes(bad.fd, "isto não é um token\n"));
        bool closed = false;
        recv_until_close(bad.fd, 5000ms, &closed);
        CHECK(closed);
        CHECK(server.process->wait_output(
            "Cliente ('127.0.0.1', " + std::to_string(bad.port) +
                ") não sincronizado: a resposta não decifra com a chave (token inválido)",
            5000ms));
        close_fd(bad.fd);
    }
    SUBCASE("an OK encrypted with the wrong key") {
        Peer bad = connect_peer(server.port);
        std::vector<unsigned char> wrong(32, 7);
        REQUIRE(send_bytes(bad.fd, token::encrypt(wrong.data(), "OK") + "\n"));
        bool closed = false;
        recv_until_close(bad.fd, 5000ms, &closed);
        CHECK(closed);
        CHECK(server.process->wait_output("não sincronizado: a resposta não decifra", 5000ms));
        close_fd(bad.fd);
    }
    SUBCASE("the right key but not OK") {
        Peer bad = connect_peer(server.port);
        REQUIRE(send_bytes(bad.fd, line_of(bad, "NO")));
        CHECK(server.process->wait_output("não sincronizado: a resposta decifrada não é OK", 5000ms));
        close_fd(bad.fd);
    }
    SUBCASE("disconnect in the middle of the handshake") {
        Peer bad = connect_peer(server.port);
        reset_close(bad.fd);
        CHECK(server.process->wait_output("não sincronizado:", 5000ms));
    }
    SUBCASE("a 5000-byte line after synchronizing") {
        Peer bad = join_chat(server.port, 1)[0];
        for (const Peer& p : peers) REQUIRE(recv_line(p.fd, 5000ms).size() > 0);  // its probe
        REQUIRE(send_bytes(bad.fd, std::string(5000, 'A') + "\n"));
        CHECK(server.process->wait_output("enviou uma linha maior que 1024 bytes", 5000ms));
        bool closed = false;
        recv_until_close(bad.fd, 5000ms, &closed);
        CHECK(closed);
        close_fd(bad.fd);
    }
    SUBCASE("garbage, binary bytes and a wrong-key token after synchronizing") {
        std::vector<unsigned char> wrong(32, 9);
        for (const std::string& junk :
             {std::string("lixo\n"), std::string("\xff\xfe\x00\x80\n", 5),
              token::encrypt(wrong.data(), "oi") + "\n"}) {
            Peer bad = join_chat(server.port, 1)[0];
            for (const Peer& p : peers) REQUIRE(recv_line(p.fd, 5000ms).size() > 0);  // probe
            REQUIRE(send_bytes(bad.fd, junk));
            bool closed = false;
            recv_until_close(bad.fd, 5000ms, &closed);
            CHECK(closed);
            close_fd(bad.fd);
        }
        CHECK(server.process->wait_output("enviou uma mensagem inválida", 5000ms, 3));
    }
    still_talking(peers);
    close_all(peers);
}

TEST_CASE("ex2: threads and sockets come back to their starting count") {
    Sodium sodium;
    Server server = start_server("ex2_crypto/server");
    pid_t pid = server.process->pid();
    close_all(join_chat(server.port, 1));  // warm-up (see the same test of ex1)
    REQUIRE(server.process->wait_output("Cliente desconectado", 5000ms));
    std::this_thread::sleep_for(200ms);
    int fds0 = open_fds(pid), threads0 = thread_count(pid);
    for (int round = 0; round < 2; ++round) {
        auto peers = join_chat(server.port, 10);
        Peer half = connect_peer(server.port);  // never answers the key
        CHECK(thread_count(pid) == threads0 + 11);
        close_all(peers);
        close_fd(half.fd);
        CHECK(wait_threads(pid, threads0, 5000ms));
    }
    CHECK(open_fds(pid) == fds0);
}

// A fake ex2 server inside the test, to check what the client does with
// what a real server never sends.
struct FakeServer {
    int listener = -1, port = 0, fd = -1;
    std::vector<unsigned char> key = std::vector<unsigned char>(32, 42);
    FakeServer() { listener = listen_local(port); }
    ~FakeServer() {
        close_fd(fd);
        close_fd(listener);
    }
    // Accept the client, send the key, check its OK.
    void handshake() {
        fd = accept_within(listener, 5000ms);
        REQUIRE(fd >= 0);
        REQUIRE(send_bytes(fd, token::to_base64(key.data(), key.size()) + "\n"));
        std::string ok;
        REQUIRE(token::decrypt(key.data(), recv_line(fd, 5000ms), ok));
        REQUIRE(ok == "OK");
    }
};

TEST_CASE("ex2 client: an invalid line is discarded and the client goes on") {
    Sodium sodium;
    FakeServer fake;
    Process client({bin("ex2_crypto/client"), "127.0.0.1", std::to_string(fake.port)});
    fake.handshake();
    REQUIRE(send_bytes(fake.fd, "lixo\n" + std::string(3000, 'x') + "\n" +
                                    token::encrypt(fake.key.data(), "depois do lixo") + "\n"));
    CHECK(client.wait_output("depois do lixo\n>", 5000ms));
    CHECK(count_of(client.out(), "Mensagem inválida descartada\n>") == 2);
    close_fd(fake.fd);
    fake.fd = -1;
    CHECK(client.wait_exit(5000ms) == 0);
    CHECK(client.out().find("Conexão encerrada pelo servidor") != std::string::npos);
}

TEST_CASE("ex2 client: a message longer than 725 bytes is refused, 725 is sent") {
    Sodium sodium;
    FakeServer fake;
    Process client({bin("ex2_crypto/client"), "127.0.0.1", std::to_string(fake.port)});
    fake.handshake();
    client.write_stdin(std::string(726, 'a') + "\n" + std::string(725, 'b') + "\n");
    CHECK(client.wait_output("Mensagem muito longa: 726 bytes (o máximo é 725); não enviada", 5000ms));
    std::string line = recv_line(fake.fd, 5000ms), text;
    CHECK(line.size() == 1020);
    REQUIRE(token::decrypt(fake.key.data(), line, text));
    CHECK(text == std::string(725, 'b'));
    client.close_stdin();  // end of input: the client half-closes
    bool closed = false;
    CHECK(recv_until_close(fake.fd, 5000ms, &closed).empty());
    CHECK(closed);
}

TEST_CASE("ex2 client: a server that sends no valid key") {
    Sodium sodium;
    {
        FakeServer fake;
        Process client({bin("ex2_crypto/client"), "127.0.0.1", std::to_string(fake.port)});
        int fd = accept_within(fake.listener, 5000ms);
        REQUIRE(send_bytes(fd, "chave-curta\n"));
        CHECK(client.wait_exit(5000ms) == 1);
        CHECK(client.err().find("Erro: chave inválida recebida do servidor") == 0);
        close_fd(fd);
    }
    {
        FakeServer fake;
        Process client({bin("ex2_crypto/client"), "127.0.0.1", std::to_string(fake.port)});
        close_fd(accept_within(fake.listener, 5000ms));  // closes at once
        CHECK(client.wait_exit(5000ms) == 1);
        CHECK(client.err().find("Erro: o servidor não enviou a chave (conexão encerrada)") == 0);
    }
}

// Student finding 14: the ex4 server's first line looks like ex2's key; its
// second (the connection's key) arrived where a token was expected and the
// client said "Mensagem inválida descartada". A token is never key-sized.
TEST_CASE("ex2 client at the ex4 server: says it is Example 4's server, and ends") {
    TempDir lab;  // the ex4 server writes servidor.chave beside itself: a copy, here
    std::filesystem::copy_file(bin("ex4_kx/server"), lab.path / "server");
    Server ex4 = start_server((lab.path / "server").string());
    Process client({bin("ex2_crypto/client"), "127.0.0.1", std::to_string(ex4.port)});
    CHECK(client.wait_exit(5000ms) == 1);
    CHECK(client.out().find("Erro: isto parece o servidor do Exemplo 4 (ele envia uma segunda "
                            "chave pública); este cliente é do Exemplo 2") != std::string::npos);
    CHECK(client.out().find("Mensagem inválida descartada") == std::string::npos);
}

TEST_CASE("ex2 client: server shutdown and end of input both end with exit 0") {
    Sodium sodium;
    Server server = start_server("ex2_crypto/server");
    Process client({bin("ex2_crypto/client"), "127.0.0.1", std::to_string(server.port)});
    REQUIRE(server.process->wait_output("sincronizado", 5000ms));
    server.process->kill(SIGTERM);
    CHECK(client.wait_exit(3000ms) == 0);
    CHECK(client.out().find("Conexão encerrada pelo servidor") != std::string::npos);
}

TEST_CASE("ex2 client: after end of input (Ctrl+D) it says the user ended it") {
    Sodium sodium;
    Server server = start_server("ex2_crypto/server");
    Process client({bin("ex2_crypto/client"), "127.0.0.1", std::to_string(server.port)});
    REQUIRE(server.process->wait_output("sincronizado", 5000ms));
    client.close_stdin();
    CHECK(client.wait_exit(5000ms) == 0);
    CHECK(client.out().find("Conexão encerrada por você (fim da entrada)") != std::string::npos);
    CHECK(client.out().find("pelo servidor") == std::string::npos);  // issue 28
}

TEST_CASE("ex2 client --decrypt: reads tokens taken from a capture") {
    Sodium sodium;
    std::vector<unsigned char> key(32, 5);
    std::string key_text = token::to_base64(key.data(), key.size());
    Process decrypt({bin("ex2_crypto/client"), "--decrypt", key_text});
    decrypt.write_stdin(token::encrypt(key.data(), OLA) + "\nlixo\n" +
                        token::encrypt(key.data(), "OK") + "\n");
    decrypt.close_stdin();
    CHECK(decrypt.wait_exit(5000ms) == 0);
    CHECK(decrypt.out() == OLA + "\nMensagem inválida descartada\nOK\n");

    Process bad({bin("ex2_crypto/client"), "--decrypt", "curta"});
    CHECK(bad.wait_exit(5000ms) == 2);
    Process more({bin("ex2_crypto/client"), "127.0.0.1", "--decrypt", key_text});
    CHECK(more.wait_exit(5000ms) == 2);
    CHECK(more.err().find("Erro: --decrypt CHAVE vai sozinho, sem IP nem PORTA\nuso: ") == 0);
}

TEST_CASE("ex2: usage errors exit 2") {
    for (const char* program : {"ex2_crypto/server", "ex2_crypto/client"}) {
        Process p({bin(program), "127.0.0.1", "0"});
        CHECK(p.wait_exit(5000ms) == 2);
        CHECK(p.err().find("Erro: porta inválida: 0 (use 1 a 65535)\nuso: ") == 0);
        Process help({bin(program), "--help"});
        CHECK(help.wait_exit(5000ms) == 0);
    }
}

TEST_CASE("ex2: a Python peer using PyNaCl interoperates with the C++ programs") {
    // Debian's python3 with python3-nacl (installed by .ci/run); skipped otherwise.
    const std::string python = "/usr/bin/python3";
    if (auto why = need_python("nacl.secret", "python3-nacl"); !why.empty()) return skip(why);
    Server server = start_server("ex2_crypto/server");
    auto peers = join_chat(server.port, 1);
    Process py({python, std::string(LAB_SOURCE_DIR) + "/tests/peer_pynacl.py",
                std::to_string(server.port), "Olá do Python", "2"});
    // The Python peer's message, decrypted by the C++ side...
    CHECK(read_message(peers[0]) == "Olá do Python");
    // ...and the C++ client's message, decrypted by PyNaCl.
    Process client({bin("ex2_crypto/client"), "127.0.0.1", std::to_string(server.port)});
    REQUIRE(server.process->wait_output("sincronizado", 5000ms, 3));
    client.write_stdin("Olá do C++\n");
    CHECK(py.wait_exit(10000ms) == 0);
    CHECK(py.out() == "synchronized\nOlá do Python\nOlá do C++\n");
    CHECK(py.err().empty());
    close_all(peers);
}
