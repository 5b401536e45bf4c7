// End-to-end tests of Exemplo 4 (key exchange): the real ex4_kx/server,
// client and intruso, copied into a temporary folder per test (each keeps its
// key file or known-servers file beside it), checked from raw sockets that
// speak the wire protocol, through a relay that records or tampers with the
// lines, and against a Python peer written with PyNaCl.
#include <doctest/doctest.h>

#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "../ex2_crypto/token.h"  // ex2's tokens: the attack that works there
#include "../ex4_kx/kx.h"
#include "support.h"

using namespace lab;
namespace fs = std::filesystem;

namespace {

const std::string OLA = "Olá turma de redes industriais";  // 31 bytes

struct Sodium {
    Sodium() { REQUIRE(sodium_init() >= 0); }
};

// The three programs copied into a fresh folder: the server's key file and
// the client's known-servers file are created there, and vanish with it.
struct Lab {
    TempDir dir;
    Lab() {
        for (const char* program : {"server", "client", "intruso"})
            fs::copy_file(bin(std::string("ex4_kx/") + program), dir.path / program);
    }
    std::string path(const std::string& program) const { return (dir.path / program).string(); }
};

// Start a program that prints "Aguardando" when ready, on a free port.
Server start(const std::vector<std::string>& argv_before_port,
             const std::vector<std::string>& after = {}) {
    for (int attempt = 0; attempt < 5; ++attempt) {
        Server s;
        s.port = free_port();
        std::vector<std::string> argv = argv_before_port;
        argv.push_back(std::to_string(s.port));
        argv.insert(argv.end(), after.begin(), after.end());
        s.process = std::make_unique<Process>(argv);
        if (s.process->wait_output("Aguardando", 5000ms)) return s;
    }
    throw std::runtime_error("did not start");
}

Server start_server(const Lab& lab) { return start({lab.path("server"), "127.0.0.1"}); }

// The public key a server (or the intruder) printed at start-up.
std::string printed_key(Process& p) {
    std::string out = p.out();
    auto at = out.find("Chave pública d");
    REQUIRE(at != std::string::npos);
    at = out.find(": ", at) + 2;
    return out.substr(at, out.find('\n', at) - at);
}

// A raw client that speaks the protocol: its socket and its two streams.
struct Peer {
    int fd = -1;
    unsigned port = 0;
    std::string server_key;  // the first line, as received
    std::string header;      // the server's header line, as received
    kx::Stream sending{}, receiving{};
};

// Connect and run the whole handshake, checking each line's size.
Peer connect_peer(int port) {
    Peer p;
    p.fd = connect_to(port);
    REQUIRE(p.fd >= 0);
    p.port = local_port(p.fd);
    p.server_key = recv_line(p.fd, 5000ms);
    REQUIRE(p.server_key.size() == 44);
    unsigned char server_pk[32], pk[32], sk[32], rx[32], tx[32];
    REQUIRE(kx::read_key(p.server_key, server_pk));
    crypto_kx_keypair(pk, sk);
    REQUIRE(crypto_kx_client_session_keys(rx, tx, pk, sk, server_pk) == 0);
    std::string hello = kx::to_base64(pk, 32) + "\n" + kx::start_sending(p.sending, tx) + "\n";
    REQUIRE(hello.size() == 45 + 33);
    REQUIRE(send_bytes(p.fd, hello));
    p.header = recv_line(p.fd, 5000ms);
    REQUIRE(p.header.size() == 32);
    REQUIRE(kx::start_receiving(p.receiving, p.header, rx));
    return p;
}

std::string line_of(Peer& p, const std::string& text) { return kx::seal(p.sending, text) + "\n"; }

std::string read_message(Peer& p) {
    std::string line = recv_line(p.fd, 5000ms), text;
    if (!kx::open(p.receiving, line, text)) return "<invalid: " + line + ">";
    return text;
}

// n raw clients in the chat, each registered for sure (its probe came back),
// with every probe drained.
std::vector<Peer> join_chat(int port, int n) {
    std::vector<Peer> peers;
    for (int i = 0; i < n; ++i) {
        peers.push_back(connect_peer(port));
        Peer& p = peers.back();
        REQUIRE(send_bytes(p.fd, line_of(p, "probe " + std::to_string(i))));
        REQUIRE(read_message(p) == "probe " + std::to_string(i));
    }
    for (int i = 0; i < n; ++i)
        for (int j = i + 1; j < n; ++j)
            REQUIRE(read_message(peers[i]) == "probe " + std::to_string(j));
    return peers;
}

void close_all(const std::vector<Peer>& peers) {
    for (const Peer& p : peers) close_fd(p.fd);
}

void still_talking(std::vector<Peer>& peers) {
    REQUIRE(send_bytes(peers[0].fd, line_of(peers[0], OLA)));
    for (Peer& p : peers) CHECK(read_message(p) == OLA);
}

// Wait until the server has dropped `p` (its socket reads end of file).
bool dropped(const Peer& p) {
    bool closed = false;
    recv_until_close(p.fd, 5000ms, &closed);
    return closed;
}

// A relay between a client and a server, line by line, that records every
// line in both directions and may change what the server sends: `tamper`
// gets the index and text of each server line and returns the lines to pass
// on instead (nothing = the line is cut).
struct Relay {
    using Tamper = std::function<std::vector<std::string>(std::size_t, const std::string&)>;
    int listener = -1, port = 0, server_port;
    Tamper tamper;
    std::mutex mutex;
    std::vector<std::string> up, down;  // lines to the server, from the server
    std::thread thread;

    explicit Relay(int server, Tamper t = nullptr) : server_port(server), tamper(std::move(t)) {
        listener = listen_local(port);
        thread = std::thread([this] { run(); });
    }
    ~Relay() {
        thread.join();
        close_fd(listener);
    }
    std::vector<std::string> lines(bool to_server) {
        std::lock_guard<std::mutex> lock(mutex);
        return to_server ? up : down;
    }

private:
    void run() {
        int client = accept_within(listener, 10000ms);
        if (client < 0) return;
        int server = connect_to(server_port);
        std::string pending[2];  // bytes of an unfinished line, per direction
        pollfd fds[2] = {{client, POLLIN, 0}, {server, POLLIN, 0}};
        auto deadline = Clock::now() + 15s;
        while (Clock::now() < deadline && poll(fds, 2, 100) >= 0) {
            bool done = false;
            for (int i = 0; i < 2; ++i) {
                if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
                char buf[4096];
                ssize_t n = recv(fds[i].fd, buf, sizeof buf, 0);
                if (n <= 0) {
                    done = true;
                    break;
                }
                pending[i].append(buf, static_cast<std::size_t>(n));
                for (auto nl = pending[i].find('\n'); nl != std::string::npos;
                     nl = pending[i].find('\n')) {
                    std::string line = pending[i].substr(0, nl);
                    pending[i].erase(0, nl + 1);
                    std::vector<std::string> out = {line};
                    {
                        std::lock_guard<std::mutex> lock(mutex);
                        (i == 0 ? up : down).push_back(line);
                        if (i == 1 && tamper) out = tamper(down.size() - 1, line);
                    }
                    for (const std::string& l : out) send_bytes(fds[1 - i].fd, l + "\n");
                }
            }
            if (done) break;
        }
        shutdown(client, SHUT_RDWR);
        shutdown(server, SHUT_RDWR);
        close_fd(client);
        close_fd(server);
    }
};

// Every way a captured line could be opened with the keys an eavesdropper
// has: as ex2 does (a secretbox key), or as a stream with any 32 bytes and
// any header seen on the wire. True if anything opened.
bool anything_opens(const std::vector<std::string>& captured) {
    std::vector<std::vector<unsigned char>> keys, headers;
    for (const std::string& line : captured) {
        std::vector<unsigned char> data;
        if (!kx::from_base64(line, data)) continue;
        if (data.size() == 32) keys.push_back(data);
        if (data.size() == 24) headers.push_back(data);
    }
    CHECK(keys.size() >= 2);     // the server's and the client's public keys
    CHECK(headers.size() >= 2);  // both streams' headers
    for (const std::string& line : captured) {
        std::string text;
        for (const auto& key : keys) {
            if (token::decrypt(key.data(), line, text)) return true;
            for (const auto& header : headers) {
                kx::Stream s;
                if (crypto_secretstream_xchacha20poly1305_init_pull(&s, header.data(),
                                                                    key.data()) == 0 &&
                    kx::open(s, line, text))
                    return true;
            }
        }
    }
    return false;
}

}  // namespace

TEST_CASE("ex4: the handshake on the wire: 45-byte keys, 33-byte headers, text + 17 bytes") {
    Sodium sodium;
    Lab lab;
    Server server = start_server(lab);
    std::string key = printed_key(*server.process);
    Peer p = connect_peer(server.port);
    CHECK(p.server_key == key);  // the key printed at start-up is the one sent
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
    // Every connection: the same server key, a new header (new session keys).
    Peer q = connect_peer(server.port);
    CHECK(q.server_key == p.server_key);
    CHECK(q.header != p.header);
    close_fd(p.fd);
    close_fd(q.fd);
}

TEST_CASE("ex4 server: the key file is made once, mode 0600, and the secret is never printed") {
    Sodium sodium;
    Lab lab;
    const fs::path file = lab.dir.path / "servidor.chave";
    std::string key;
    {
        Server server = start_server(lab);
        key = printed_key(*server.process);
        CHECK(server.process->out().find("Par de chaves novo criado em") != std::string::npos);
    }
    struct stat st {};
    REQUIRE(stat(file.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    std::string content = read_file(file), secret;
    auto at = content.find("\nsecreta ");
    REQUIRE(at != std::string::npos);
    secret = content.substr(at + 9, 44);
    CHECK(content.find("\npublica " + key + "\n") != std::string::npos);
    CHECK(lab.dir.names().size() == 4);  // 3 programs + the key file; no temporary left
    {
        Server again = start_server(lab);  // the same identity on the next run
        CHECK(printed_key(*again.process) == key);
        CHECK(again.process->out().find("Par de chaves novo") == std::string::npos);
        Peer p = connect_peer(again.port);
        CHECK(p.server_key == key);
        close_fd(p.fd);
        CHECK(again.process->out().find(secret) == std::string::npos);
        CHECK(again.process->err().find(secret) == std::string::npos);
    }
    // A damaged file is refused with a clear message, never replaced.
    content[at + 12] = content[at + 12] == 'A' ? 'B' : 'A';
    std::ofstream(file, std::ios::binary | std::ios::trunc) << content;
    Process broken({lab.path("server"), "127.0.0.1", std::to_string(free_port())});
    CHECK(broken.wait_exit(5000ms) == 1);
    CHECK(broken.err().find("está corrompido") != std::string::npos);
    CHECK(read_file(file) == content);
}

TEST_CASE("ex4: two real clients talk; the server re-encrypts for each one") {
    Sodium sodium;
    Lab lab;
    Server server = start_server(lab);
    std::string key = printed_key(*server.process);
    auto peers = join_chat(server.port, 1);
    const std::string port = std::to_string(server.port);
    Process a({lab.path("client"), "127.0.0.1", port, "--chave-servidor", key});
    Process b({lab.path("client"), "localhost", port, "--chave-servidor", key});
    REQUIRE(server.process->wait_output("sincronizado", 5000ms, 3));
    b.write_stdin("b chegou\n");
    CHECK(read_message(peers[0]) == "b chegou");
    a.write_stdin(OLA + "\n");
    CHECK(read_message(peers[0]) == OLA);
    CHECK(b.wait_output(OLA + "\n>", 5000ms));
    CHECK(a.wait_output(OLA + "\n>", 5000ms));
    CHECK(!fs::exists(lab.dir.path / "servidores_conhecidos.txt"));  // pinned: nothing saved
    close_all(peers);
    a.close_stdin();
    b.close_stdin();
    CHECK(a.wait_exit(5000ms) == 0);
    CHECK(b.wait_exit(5000ms) == 0);
    CHECK(a.out().find("Conexão encerrada pelo servidor") != std::string::npos);
}

TEST_CASE("ex4 (a): the ex2 attack fails: nothing in a full capture decrypts") {
    Sodium sodium;
    Lab lab;
    Server server = start_server(lab);
    std::string key = printed_key(*server.process);
    std::vector<std::string> up, down, captured;
    {
        // A relay records every byte between a real client and the server.
        Relay wire(server.port);
        Process victim({lab.path("client"), "127.0.0.1", std::to_string(wire.port),
                        "--chave-servidor", key});
        victim.write_stdin("senha do banco: 1234\n");
        CHECK(victim.wait_output("senha do banco: 1234\n>", 5000ms));
        victim.close_stdin();
        CHECK(victim.wait_exit(5000ms) == 0);
        up = wire.lines(true);
        down = wire.lines(false);
    }
    REQUIRE(up.size() == 3);    // the client's key, its header, the message
    REQUIRE(down.size() == 3);  // the server's key, its header, the message back
    captured = up;
    captured.insert(captured.end(), down.begin(), down.end());
    std::string all;
    for (const std::string& l : captured) all += l + "\n";
    CHECK(all.find("senha") == std::string::npos);
    CHECK(!anything_opens(captured));
    // ex2's attack with ex2's own tool: the server's first line as the key,
    // and every line the client sent. Nothing opens.
    Process decrypt({bin("ex2_crypto/client"), "--decrypt", down[0]});
    decrypt.write_stdin(up[0] + "\n" + up[1] + "\n" + up[2] + "\n");
    decrypt.close_stdin();
    CHECK(decrypt.wait_exit(5000ms) == 0);
    CHECK(count_of(decrypt.out(), "Mensagem inválida descartada\n") == 3);
    // An eavesdropper that connects, as in ex2, gets only the public key:
    // with it, the captured message lines do not open.
    Peer spy = connect_peer(server.port);
    captured.push_back(spy.server_key);
    CHECK(!anything_opens(captured));
    close_fd(spy.fd);
}

TEST_CASE("ex4 (b): a man in the middle reads an unpinned client and is refused by a pinned one") {
    Sodium sodium;
    Lab lab;
    Server server = start_server(lab);
    std::string key = printed_key(*server.process);
    auto peers = join_chat(server.port, 1);
    Server intruder = start({lab.path("intruso"), "127.0.0.1"},
                            {"127.0.0.1", std::to_string(server.port)});
    const std::string via = std::to_string(intruder.port);
    SUBCASE("a client that trusts the first key it sees: the intruder reads everything") {
        Process victim({lab.path("client"), "127.0.0.1", via});
        CHECK(victim.wait_output("Primeira conexão com 127.0.0.1:" + via, 5000ms));
        victim.write_stdin("senha do banco: 1234\n");
        CHECK(intruder.process->wait_output(
            "Intruso leu (cliente -> servidor): senha do banco: 1234",
                                            5000ms));
        CHECK(read_message(peers[0]) == "senha do banco: 1234");  // the chat works as usual
        REQUIRE(send_bytes(peers[0].fd, line_of(peers[0], "resposta")));
        CHECK(victim.wait_output("resposta\n>", 5000ms));
        CHECK(intruder.process->wait_output("Intruso leu (servidor -> cliente): resposta", 5000ms));
        // What it saved is the intruder's key, not the server's.
        CHECK(read_file(lab.dir.path / "servidores_conhecidos.txt") ==
              "127.0.0.1:" + via + " " + printed_key(*intruder.process) + "\n");
    }
    SUBCASE("a client that pinned the server's key: refused before sending anything") {
        Process victim({lab.path("client"), "127.0.0.1", via, "--chave-servidor", key});
        victim.write_stdin("senha do banco: 1234\n");
        CHECK(victim.wait_exit(5000ms) == 1);
        CHECK(victim.err().find("ATENÇÃO: a chave do servidor 127.0.0.1:" + via +
                                " não é a esperada!") == 0);
        CHECK(intruder.process->wait_output("desistiu", 5000ms));
        CHECK(intruder.process->out().find("senha") == std::string::npos);
    }
    SUBCASE("trust on first use: a later different key aborts the connection") {
        // First contact with the real server: its key is saved.
        Process first({lab.path("client"), "127.0.0.1", std::to_string(server.port)});
        CHECK(first.wait_output("Primeira conexão", 5000ms));
        first.close_stdin();
        CHECK(first.wait_exit(5000ms) == 0);
        CHECK(read_file(lab.dir.path / "servidores_conhecidos.txt") ==
              "127.0.0.1:" + std::to_string(server.port) + " " + key + "\n");
        // The same address later answers with another key (the server was
        // replaced by the intruder, who relays to the real one elsewhere).
        Server real = start_server(lab);
        server.process->kill(SIGTERM);
        server.process->wait_exit(5000ms);
        Process intruder2({lab.path("intruso"), "127.0.0.1", std::to_string(server.port),
                           "127.0.0.1", std::to_string(real.port)});
        REQUIRE(intruder2.wait_output("Aguardando", 5000ms));
        Process victim({lab.path("client"), "127.0.0.1", std::to_string(server.port)});
        CHECK(victim.wait_exit(5000ms) == 1);
        CHECK(victim.err().find("ATENÇÃO: a chave do servidor") == 0);
        CHECK(victim.err().find("(salva em ") != std::string::npos);
        CHECK(victim.err().find("apague a linha de 127.0.0.1:" + std::to_string(server.port)) !=
              std::string::npos);
        CHECK(intruder2.wait_output("desistiu", 5000ms));
    }
    close_all(peers);
}

TEST_CASE("ex4 (c): a replayed, reordered or cut line is detected; the sender is dropped") {
    Sodium sodium;
    Lab lab;
    Server server = start_server(lab);
    auto peers = join_chat(server.port, 2);
    Peer bad = join_chat(server.port, 1)[0];
    for (Peer& p : peers) REQUIRE(read_message(p) == "probe 0");  // bad's probe
    const std::string um = line_of(bad, "um"), dois = line_of(bad, "dois");
    bool bad_is_dropped = true;
    SUBCASE("replay") {
        REQUIRE(send_bytes(bad.fd, um));
        for (Peer& p : peers) CHECK(read_message(p) == "um");
        REQUIRE(send_bytes(bad.fd, um));  // the same line again
    }
    SUBCASE("reorder") { REQUIRE(send_bytes(bad.fd, dois + um)); }
    SUBCASE("cut: the second line without the first") { REQUIRE(send_bytes(bad.fd, dois)); }
    SUBCASE("a line of another connection") {
        Peer other = connect_peer(server.port);
        REQUIRE(send_bytes(other.fd, um));
        CHECK(dropped(other));
        close_fd(other.fd);
        bad_is_dropped = false;
    }
    SUBCASE("a valid line with another tag (FINAL)") {
        std::vector<unsigned char> box(2 + kx::EXTRA_BYTES);
        crypto_secretstream_xchacha20poly1305_push(
            &bad.sending, box.data(), nullptr, reinterpret_cast<const unsigned char*>("oi"), 2,
            nullptr, 0, crypto_secretstream_xchacha20poly1305_TAG_FINAL);
        REQUIRE(send_bytes(bad.fd, kx::to_base64(box.data(), box.size()) + "\n"));
    }
    if (bad_is_dropped) CHECK(dropped(bad));
    CHECK(server.process->wait_output(
        "enviou uma mensagem inválida (alterada, repetida ou fora de ordem)", 5000ms));
    close_fd(bad.fd);
    still_talking(peers);
    close_all(peers);
}

TEST_CASE("ex4 (c) client: a replayed, reordered or cut line from the server ends the connection") {
    Sodium sodium;
    Lab lab;
    Server server = start_server(lab);
    std::string key = printed_key(*server.process);
    auto peers = join_chat(server.port, 1);
    // Server lines: 0 the key, 1 the header, 2 the victim's own probe coming
    // back (then it is in the chat for sure), 3 and 4 the two messages.
    struct Case {
        const char* name;
        Relay::Tamper tamper;
    };
    std::string held;
    int round = 0;
    for (const Case& c : std::vector<Case>{
             {"replay", [](std::size_t i, const std::string& l) {
                  return i == 3 ? std::vector<std::string>{l, l} : std::vector<std::string>{l};
              }},
             {"reorder", [&held](std::size_t i, const std::string& l) {
                  if (i == 3) {
                      held = l;
                      return std::vector<std::string>{};
                  }
                  return i == 4 ? std::vector<std::string>{l, held} : std::vector<std::string>{l};
              }},
             {"cut", [](std::size_t i, const std::string& l) {
                  return i == 3 ? std::vector<std::string>{} : std::vector<std::string>{l};
              }}}) {
        const std::string name = c.name;
        CAPTURE(name);
        ++round;
        Relay wire(server.port, c.tamper);
        Process victim({lab.path("client"), "127.0.0.1", std::to_string(wire.port),
                        "--chave-servidor", key});
        REQUIRE(server.process->wait_output("sincronizado", 5000ms, 1 + round));
        victim.write_stdin("probe\n");  // its own line comes back: it is in the chat
        CHECK(read_message(peers[0]) == "probe");
        REQUIRE(victim.wait_output("probe\n>", 5000ms));
        REQUIRE(send_bytes(peers[0].fd, line_of(peers[0], "primeira")));
        REQUIRE(send_bytes(peers[0].fd, line_of(peers[0], "segunda")));
        CHECK(read_message(peers[0]) == "primeira");
        CHECK(read_message(peers[0]) == "segunda");
        CHECK(victim.wait_exit(5000ms) == 1);
        CHECK(victim.out().find(
                  "Erro: mensagem inválida (alterada, repetida, fora de ordem ou longa demais); "
                  "conexão encerrada") !=
              std::string::npos);
        CHECK(victim.out().find("segunda") == std::string::npos);
        // Wait until the server has seen this victim leave.
        CHECK(server.process->wait_output("Cliente desconectado", 5000ms, round));
    }
    close_all(peers);
}

TEST_CASE("ex2, for contrast: its server relays a replayed token") {
    Sodium sodium;
    Server server = lab::start_server("ex2_crypto/server");
    int fd[2];
    std::vector<unsigned char> key;
    for (int i = 0; i < 2; ++i) {  // each in the chat for sure: its probe comes back
        fd[i] = connect_to(server.port);
        REQUIRE(token::from_base64(recv_line(fd[i], 5000ms), key));
        REQUIRE(send_bytes(fd[i], token::encrypt(key.data(), "OK") + "\n"));
        std::string probe = token::encrypt(key.data(), "probe") + "\n";
        REQUIRE(send_bytes(fd[i], probe));
        REQUIRE(recv_line(fd[i], 5000ms) + "\n" == probe);
        if (i == 1) REQUIRE(recv_line(fd[0], 5000ms) + "\n" == probe);
    }
    std::string line = token::encrypt(key.data(), "transfira 100 reais") + "\n";
    REQUIRE(send_bytes(fd[0], line));
    CHECK(recv_line(fd[1], 5000ms) + "\n" == line);
    REQUIRE(send_bytes(fd[0], line));  // a replay: accepted and delivered again
    CHECK(recv_line(fd[1], 5000ms) + "\n" == line);
    close_fd(fd[0]);
    close_fd(fd[1]);
}

TEST_CASE("ex4: hostile handshakes and lines are dropped with a message; the others keep talking") {
    Sodium sodium;
    Lab lab;
    Server server = start_server(lab);
    auto peers = join_chat(server.port, 2);
    // Connect, read the key line, send `bytes`; the server must close.
    auto refused = [&](const std::string& bytes, const std::string& why) {
        int fd = connect_to(server.port);
        REQUIRE(fd >= 0);
        unsigned port = local_port(fd);
        REQUIRE(recv_line(fd, 5000ms).size() == 44);
        REQUIRE(send_bytes(fd, bytes));
        bool closed = false;
        recv_until_close(fd, 5000ms, &closed);
        CHECK(closed);
        CHECK(server.process->wait_output(
            "Cliente ('127.0.0.1', " + std::to_string(port) + ") não sincronizado: " + why,
            5000ms));
        close_fd(fd);
    };
    unsigned char pk[32], sk[32];
    crypto_kx_keypair(pk, sk);
    const std::string good_key = kx::to_base64(pk, 32) + "\n";
    const std::vector<unsigned char> zeros(33, 0);
    SUBCASE("garbage instead of a key") { refused("isto não é uma chave\n", "a chave pública"); }
    SUBCASE("binary bytes") { refused(std::string("\xff\xfe\x00\x80\n", 5), "a chave pública"); }
    SUBCASE("a 31-byte key") { refused(kx::to_base64(pk, 31) + "\n", "a chave pública"); }
    SUBCASE("a 33-byte key") { refused(kx::to_base64(zeros.data(), 33) + "\n", "a chave pública"); }
    SUBCASE("a key that is a weak point (all zeros)") {
        refused(kx::to_base64(zeros.data(), 32) + "\n", "a chave pública recebida é inválida");
    }
    SUBCASE("a key line of 5000 bytes") {
        refused(std::string(5000, 'A') + "\n", "enviou uma linha maior que 1024 bytes");
    }
    SUBCASE("a good key, then a garbage header") {
        refused(good_key + "cabecalho\n", "o cabeçalho recebido é inválido");
    }
    SUBCASE("a good key, then a 23-byte header") {
        refused(good_key + kx::to_base64(zeros.data(), 23) + "\n",
                "o cabeçalho recebido é inválido");
    }
    SUBCASE("half handshakes: silent, key only, cut with a reset") {
        int silent = connect_to(server.port);
        int key_only = connect_to(server.port);
        REQUIRE(send_bytes(key_only, good_key));
        int reset = connect_to(server.port);
        REQUIRE(send_bytes(reset, good_key.substr(0, 20)));
        std::this_thread::sleep_for(100ms);
        reset_close(reset);
        still_talking(peers);  // while the half-open ones wait
        close_fd(silent);
        close_fd(key_only);
        CHECK(server.process->wait_output("não sincronizado:", 5000ms, 3));
    }
    SUBCASE("after the handshake: garbage, a 5000-byte line, an empty line") {
        for (const std::string& junk : {std::string("lixo\n"), std::string(5000, 'A') + "\n",
                                        std::string("\n")}) {
            Peer bad = join_chat(server.port, 1)[0];
            for (Peer& p : peers) REQUIRE(read_message(p) == "probe 0");
            REQUIRE(send_bytes(bad.fd, junk));
            CHECK(dropped(bad));
            close_fd(bad.fd);
        }
        CHECK(server.process->wait_output("enviou uma mensagem inválida", 5000ms, 2));
        CHECK(server.process->wait_output("enviou uma linha maior que 1024 bytes", 5000ms));
    }
    sodium_memzero(sk, sizeof sk);
    still_talking(peers);
    close_all(peers);
}

TEST_CASE("ex4: threads and sockets come back to their starting count") {
    Sodium sodium;
    Lab lab;
    Server server = start_server(lab);
    pid_t pid = server.process->pid();
    close_all(join_chat(server.port, 1));  // warm-up
    REQUIRE(server.process->wait_output("Cliente desconectado", 5000ms));
    std::this_thread::sleep_for(200ms);
    int fds0 = open_fds(pid), threads0 = thread_count(pid);
    for (int round = 0; round < 2; ++round) {
        auto peers = join_chat(server.port, 5);
        int half = connect_to(server.port);  // never answers the key
        REQUIRE(recv_line(half, 5000ms).size() == 44);
        CHECK(thread_count(pid) == threads0 + 6);
        close_all(peers);
        close_fd(half);
        CHECK(wait_threads(pid, threads0, 5000ms));
    }
    CHECK(open_fds(pid) == fds0);
}

// A fake ex4 server inside the test, for what a real server never sends.
struct FakeServer {
    int listener = -1, port = 0, fd = -1;
    unsigned char pk[32], sk[32];
    kx::Stream sending{}, receiving{};
    FakeServer() {
        listener = listen_local(port);
        crypto_kx_keypair(pk, sk);
    }
    ~FakeServer() {
        close_fd(fd);
        close_fd(listener);
    }
    std::string key() const { return kx::to_base64(pk, 32); }
    void accept_client() {
        fd = accept_within(listener, 5000ms);
        REQUIRE(fd >= 0);
    }
    // The server's side of the handshake; `header` replaces the real one.
    void handshake(const std::string& header = "") {
        accept_client();
        REQUIRE(send_bytes(fd, key() + "\n"));
        unsigned char client_pk[32], rx[32], tx[32];
        REQUIRE(kx::read_key(recv_line(fd, 5000ms), client_pk));
        REQUIRE(crypto_kx_server_session_keys(rx, tx, pk, sk, client_pk) == 0);
        REQUIRE(kx::start_receiving(receiving, recv_line(fd, 5000ms), rx));
        std::string mine = kx::start_sending(sending, tx);
        REQUIRE(send_bytes(fd, (header.empty() ? mine : header) + "\n"));
    }
};

TEST_CASE("ex4 client: trust on first use saves the key; --chave-servidor checks it exactly") {
    Sodium sodium;
    Lab lab;
    const fs::path known = lab.dir.path / "servidores_conhecidos.txt";
    FakeServer fake;
    const std::string port = std::to_string(fake.port);
    {
        Process client({lab.path("client"), "127.0.0.1", port});
        fake.handshake();
        CHECK(client.wait_output("Primeira conexão com 127.0.0.1:" + port + ": chave do servidor " +
                                     fake.key(), 5000ms));
        CHECK(read_file(known) == "127.0.0.1:" + port + " " + fake.key() + "\n");
        client.close_stdin();
        close_fd(fake.fd);
        fake.fd = -1;
        CHECK(client.wait_exit(5000ms) == 0);
    }
    {
        // The same server, the same key: accepted without a word.
        Process client({lab.path("client"), "127.0.0.1", port});
        fake.handshake();
        REQUIRE(send_bytes(fake.fd, kx::seal(fake.sending, "oi") + "\n"));
        CHECK(client.wait_output("oi\n>", 5000ms));
        CHECK(client.out().find("Primeira") == std::string::npos);
        CHECK(count_of(read_file(known), "\n") == 1);
    }
    // Another key for a known address: warning, exit 1, and nothing sent.
    FakeServer impostor;
    std::ofstream(known, std::ios::app)
        << "127.0.0.1:" << impostor.port << " " << fake.key() << "\n";
    Process client({lab.path("client"), "127.0.0.1", std::to_string(impostor.port)});
    impostor.accept_client();
    REQUIRE(send_bytes(impostor.fd, impostor.key() + "\n"));
    CHECK(client.wait_exit(5000ms) == 1);
    CHECK(client.err().find("ATENÇÃO: a chave do servidor 127.0.0.1:" +
                            std::to_string(impostor.port) + " não é a esperada!\n  esperada: " +
                            fake.key()) == 0);
    bool closed = false;
    CHECK(recv_until_close(impostor.fd, 5000ms, &closed).empty());
    CHECK(closed);
    // --chave-servidor with a different key: the same refusal; the file is not read.
    FakeServer other;
    Process pinned({lab.path("client"), "127.0.0.1", std::to_string(other.port),
                    "--chave-servidor", fake.key()});
    other.accept_client();
    REQUIRE(send_bytes(other.fd, other.key() + "\n"));
    CHECK(pinned.wait_exit(5000ms) == 1);
    CHECK(pinned.err().find("(dada com --chave-servidor)") != std::string::npos);
}

TEST_CASE("ex4 client: what a real server never sends") {
    Sodium sodium;
    Lab lab;
    SUBCASE("an invalid key") {
        FakeServer fake;
        Process client({lab.path("client"), "127.0.0.1", std::to_string(fake.port)});
        fake.accept_client();
        REQUIRE(send_bytes(fake.fd, "chave-curta\n"));
        CHECK(client.wait_exit(5000ms) == 1);
        CHECK(client.err() == "Erro: chave inválida recebida do servidor\n");
    }
    SUBCASE("no key at all") {
        FakeServer fake;
        Process client({lab.path("client"), "127.0.0.1", std::to_string(fake.port)});
        fake.accept_client();
        close_fd(fake.fd);
        fake.fd = -1;
        CHECK(client.wait_exit(5000ms) == 1);
        CHECK(client.err().find("Erro: o servidor não enviou a chave (fechou a conexão)") == 0);
    }
    SUBCASE("a bad header") {
        FakeServer fake;
        Process client({lab.path("client"), "127.0.0.1", std::to_string(fake.port),
                        "--chave-servidor", fake.key()});
        fake.handshake("AAAA");
        CHECK(client.wait_exit(5000ms) == 1);
        CHECK(client.err().find(
                  "Erro: o aperto de mão com o servidor falhou (cabeçalho inválido)") == 0);
    }
    SUBCASE("a line too long, then a message longer than 748 bytes is refused, 748 is sent") {
        FakeServer fake;
        Process client({lab.path("client"), "127.0.0.1", std::to_string(fake.port),
                        "--chave-servidor", fake.key()});
        fake.handshake();
        client.write_stdin(std::string(749, 'a') + "\n" + std::string(748, 'b') + "\n");
        CHECK(client.wait_output("Mensagem muito longa: 749 bytes (o máximo é 748); não enviada",
                                 5000ms));
        std::string line = recv_line(fake.fd, 5000ms), text;
        CHECK(line.size() == 1020);
        REQUIRE(kx::open(fake.receiving, line, text));
        CHECK(text == std::string(748, 'b'));
        REQUIRE(send_bytes(fake.fd, std::string(3000, 'x') + "\n"));
        CHECK(client.wait_exit(5000ms) == 1);
        CHECK(client.out().find("Erro: mensagem inválida (alterada, repetida, fora de ordem ou "
                                "longa demais); "
                  "conexão encerrada") !=
              std::string::npos);
    }
}

TEST_CASE("ex4: usage errors exit 2; --help exits 0") {
    for (const char* program : {"server", "client", "intruso"}) {
        Process p({bin(std::string("ex4_kx/") + program), "127.0.0.1", "0"});
        CHECK(p.wait_exit(5000ms) == 2);
        CHECK(p.err().find("uso: ") == 0);
        Process help({bin(std::string("ex4_kx/") + program), "--help"});
        CHECK(help.wait_exit(5000ms) == 0);
        CHECK(help.out().find("uso: ") == 0);
    }
    for (std::vector<std::string> bad : {std::vector<std::string>{"--chave-servidor", "curta"},
                                         {"--chave-servidor"},
                                         {"--decrypt", "x"}}) {
        bad.insert(bad.begin(), bin("ex4_kx/client"));
        Process p(bad);
        CHECK(p.wait_exit(5000ms) == 2);
        CHECK(p.err().find("uso: ") == 0);
    }
}

TEST_CASE("ex4: a Python peer using PyNaCl interoperates with our server and our client") {
    const std::string python = "/usr/bin/python3";
    Process probe({python, "-c", "import nacl.bindings"});
    if (probe.wait_exit(10000ms) != 0) {
        MESSAGE("skipped: /usr/bin/python3 with PyNaCl (python3-nacl) is not installed");
        return;
    }
    Sodium sodium;
    Lab lab;
    const std::string peer = std::string(LAB_SOURCE_DIR) + "/tests/peer_kx.py";
    SUBCASE("Python client, C++ server and clients") {
        Server server = start_server(lab);
        std::string key = printed_key(*server.process);
        auto peers = join_chat(server.port, 1);
        Process py({python, peer, "client", std::to_string(server.port), "Olá do Python", "2"});
        CHECK(read_message(peers[0]) == "Olá do Python");
        Process client({lab.path("client"), "127.0.0.1", std::to_string(server.port),
                        "--chave-servidor", key});
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
        std::string port = out.substr(5, out.find('\n') - 5);
        auto at = out.find("server key ") + 11;
        std::string key = out.substr(at, out.find('\n', at) - at);
        Process client({lab.path("client"), "127.0.0.1", port, "--chave-servidor", key});
        CHECK(client.wait_output("Olá do servidor Python\n>", 10000ms));
        client.write_stdin("Olá do cliente C++\n");
        CHECK(py.wait_exit(10000ms) == 0);
        CHECK(py.out().find("synchronized\nOlá do cliente C++\n") != std::string::npos);
        CHECK(py.err().empty());
        CHECK(client.wait_exit(5000ms) == 0);
    }
}
