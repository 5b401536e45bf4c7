// End-to-end tests of Exemplo 4 (key exchange): the real ex4_kx/server,
// client and intruso, copied into a temporary folder per test (each keeps its
// key file or known-servers file beside it), checked from raw sockets that
// speak the wire protocol, through a relay that records or tampers with the
// lines, and against a Python peer written with PyNaCl. Each promise of the
// README's "O que é protegido" names the test case here that proves it.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <atomic>
#include <cstring>
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

// The three programs copied into a fresh folder: the key files and the
// client's known-servers file are created there, and vanish with it.
struct Lab {
    TempDir dir;
    Lab() {
        for (const char* program : {"server", "client", "intruso"})
            fs::copy_file(bin(std::string("ex4_kx/") + program), dir.path / program);
    }
    std::string path(const std::string& program) const { return (dir.path / program).string(); }
    fs::path known() const { return dir.path / "servidores_conhecidos.txt"; }
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

Server start_server(const Lab& lab, const std::vector<std::string>& options = {}) {
    return start({lab.path("server"), "127.0.0.1"}, options);
}

// The public key a server (or the intruder) printed at start-up.
std::string printed_key(Process& p) {
    std::string out = p.out();
    auto at = out.find("Chave pública d");
    REQUIRE(at != std::string::npos);
    at = out.find(": ", at) + 2;
    return out.substr(at, out.find('\n', at) - at);
}

// A first run of the server in `lab`: it makes servidor.chave; returns the
// public key it printed and, in `out`, what else it printed.
std::string first_run(const Lab& lab, std::string* out = nullptr) {
    Server server = start_server(lab);
    if (out) *out = server.process->out();
    return printed_key(*server.process);
}

// The key pair in a servidor.chave file, as a thief who copied it has it.
void stolen_keys(const fs::path& file, unsigned char pk[32], unsigned char sk[32]) {
    const std::string content = read_file(file);
    auto pub = content.find("\npublica "), sec = content.find("\nsecreta ");
    REQUIRE(pub != std::string::npos);
    REQUIRE(sec != std::string::npos);
    REQUIRE(kx::read_key(content.substr(pub + 9, 44), pk));
    REQUIRE(kx::read_exact(content.substr(sec + 9, 44), sk, 32));
}

// A raw client that speaks the protocol. It keeps its secret `ec` (a real
// client wipes it): the forward-secrecy test uses it as a control.
struct Peer {
    int fd = -1;
    unsigned port = 0;
    std::string server_key, connection_key;  // the S and Es lines, as received
    std::string header;                      // the server's header line
    unsigned char ec_public[32], ec_secret[32];
    kx::Stream sending{}, receiving{};
};

// Connect and run the handshake up to the server's key confirmation (opened
// and checked), checking each line's size: S and Es (45 + 45, one send),
// Ec and the header (45 + 33, one send), the header and the OK (33 + 29).
Peer handshake_on(int fd, const std::string& keys) {
    Peer p;
    p.fd = fd;
    REQUIRE(p.fd >= 0);
    p.port = local_port(p.fd);
    REQUIRE(keys.size() == 90);
    REQUIRE(keys[44] == '\n');
    REQUIRE(keys[89] == '\n');
    p.server_key = keys.substr(0, 44);
    p.connection_key = keys.substr(45, 44);
    unsigned char S[32], Es[32], rx[32], tx[32];
    REQUIRE(kx::read_key(p.server_key, S));
    REQUIRE(kx::read_key(p.connection_key, Es));
    kx::Ephemeral mine;
    std::memcpy(p.ec_public, mine.public_key, 32);
    std::memcpy(p.ec_secret, mine.secret_key, 32);
    REQUIRE(kx::client_session_keys(rx, tx, mine, S, Es));
    std::string hello = kx::to_base64(p.ec_public, 32) + "\n";
    hello += kx::start_sending(p.sending, tx) + "\n";
    REQUIRE(hello.size() == 45 + 33);
    REQUIRE(send_bytes(p.fd, hello));
    const std::string reply = recv_exactly(p.fd, 33 + 29, 5000ms);
    REQUIRE(reply.size() == 62);
    REQUIRE(reply[32] == '\n');
    REQUIRE(reply[61] == '\n');
    p.header = reply.substr(0, 32);
    REQUIRE(kx::start_receiving(p.receiving, p.header, rx));
    std::string ok;
    REQUIRE(kx::open(p.receiving, reply.substr(33, 28), ok));
    REQUIRE(ok == "OK");
    return p;
}

Peer begin_handshake(int port, const std::string& source = "") {
    int fd = source.empty() ? connect_to(port) : connect_from(port, source);
    REQUIRE(fd >= 0);
    return handshake_on(fd, recv_exactly(fd, 90, 5000ms));
}

// The rest of the handshake: the client's OK (29 bytes) ends it.
Peer finish_handshake(Peer p) {
    const std::string ok = kx::seal(p.sending, "OK") + "\n";
    REQUIRE(ok.size() == 29);
    REQUIRE(send_bytes(p.fd, ok));
    return p;
}

// The whole handshake.
Peer connect_peer(int port, const std::string& source = "") {
    return finish_handshake(begin_handshake(port, source));
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

// peers[0] says `text`; everyone gets exactly that as the next message (so
// nothing else reached them before it).
void still_talking(std::vector<Peer>& peers, const std::string& text = OLA) {
    REQUIRE(send_bytes(peers[0].fd, line_of(peers[0], text)));
    for (Peer& p : peers) CHECK(read_message(p) == text);
}

// Wait until the server has dropped `p` (its socket reads end of file).
bool dropped(const Peer& p) {
    bool closed = false;
    recv_until_close(p.fd, 5000ms, &closed);
    return closed;
}

std::string joined(const std::vector<std::string>& lines) {
    std::string all;
    for (const std::string& l : lines) all += l + "\n";
    return all;
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
        finish();
        close_fd(listener);
    }
    // Wait until the connection through the relay has ended.
    void finish() {
        if (thread.joinable()) thread.join();
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

// Try to open `line` as the first message of a stream with `key` and any of
// `headers`. True if it opened.
bool opens(const std::string& line, const unsigned char* key,
           const std::vector<std::vector<unsigned char>>& headers) {
    std::string text;
    for (const auto& header : headers) {
        kx::Stream s;
        if (crypto_secretstream_xchacha20poly1305_init_pull(&s, header.data(), key) == 0 &&
            kx::open(s, line, text))
            return true;
    }
    return false;
}

// Every 32-byte value and every 24-byte header in the captured lines.
void values_in(const std::vector<std::string>& captured,
               std::vector<std::vector<unsigned char>>& keys,
               std::vector<std::vector<unsigned char>>& headers) {
    for (const std::string& line : captured) {
        std::vector<unsigned char> data;
        if (!kx::from_base64(line, data)) continue;
        if (data.size() == 32) keys.push_back(data);
        if (data.size() == 24) headers.push_back(data);
    }
}

// Every way a captured line could be opened with the keys an eavesdropper
// has: as ex2 does (a secretbox key), or as a stream with any 32 bytes and
// any header seen on the wire. True if anything opened.
bool anything_opens(const std::vector<std::string>& captured) {
    std::vector<std::vector<unsigned char>> keys, headers;
    values_in(captured, keys, headers);
    CHECK(keys.size() >= 3);     // S, Es and Ec
    CHECK(headers.size() >= 2);  // both streams' headers
    for (const std::string& line : captured) {
        std::string text;
        for (const auto& key : keys)
            if (token::decrypt(key.data(), line, text) || opens(line, key.data(), headers))
                return true;
    }
    return false;
}

// BLAKE2b-256(a || b), as kx::combine() does.
std::vector<unsigned char> hash_of(const unsigned char* a, const unsigned char* b) {
    std::vector<unsigned char> out(32), both(a, a + 32);
    both.insert(both.end(), b, b + 32);
    crypto_generichash(out.data(), 32, both.data(), both.size(), nullptr, 0);
    return out;
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
    // The server's side of the whole handshake, as ex4's server does it;
    // `header` and `ok` replace its header line and its OK line.
    void handshake(const std::string& header = "", const std::string& ok = "") {
        accept_client();
        kx::Ephemeral mine;
        REQUIRE(send_bytes(fd, key() + "\n" + mine.line()));
        unsigned char client_pk[32], rx[32], tx[32];
        REQUIRE(kx::read_key(recv_line(fd, 5000ms), client_pk));
        REQUIRE(kx::server_session_keys(rx, tx, pk, sk, mine, client_pk));
        REQUIRE(kx::start_receiving(receiving, recv_line(fd, 5000ms), rx));
        std::string reply = kx::start_sending(sending, tx) + "\n";
        const std::string confirmation = kx::seal(sending, "OK") + "\n";
        if (!header.empty()) reply = header + "\n";
        reply += ok.empty() ? confirmation : ok + "\n";
        REQUIRE(send_bytes(fd, reply));
        if (!header.empty() || !ok.empty()) return;
        std::string text;
        REQUIRE(kx::open(receiving, recv_line(fd, 5000ms), text));  // the client's OK
        REQUIRE(text == "OK");
    }
};

}  // namespace

TEST_CASE("ex4: the handshake on the wire: 45, 45, 33, 29 bytes from the server; text + 17") {
    Sodium sodium;
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

TEST_CASE("ex4 server: the key file is made once, mode 0600, and the secret is never printed") {
    Sodium sodium;
    Lab lab;
    const fs::path file = lab.dir.path / "servidor.chave";
    std::string printed;
    const std::string key = first_run(lab, &printed);
    CHECK(printed.find("Par de chaves novo criado em") != std::string::npos);
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

TEST_CASE("ex4 server: a key file that group or others can read is refused, with the chmod") {
    Sodium sodium;
    Lab lab;
    const fs::path file = lab.dir.path / "servidor.chave";
    const std::string key = first_run(lab);
    const std::string content = read_file(file);
    for (mode_t mode : {0644, 0640, 0604, 0660, 0700 | 0020}) {
        char text[8];
        std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode));
        CAPTURE(text);
        REQUIRE(chmod(file.c_str(), mode) == 0);
        Process refused({lab.path("server"), "127.0.0.1", std::to_string(free_port())});
        CHECK(refused.wait_exit(5000ms) == 1);
        const std::string err = refused.err();
        CHECK(err.find("Erro: as permissões de " + file.string() + " são " + text) == 0);
        CHECK(err.find("outros usuários desta máquina podem ler a chave secreta") !=
              std::string::npos);
        CHECK(err.find("\n  chmod 600 " + file.string() + "\n") != std::string::npos);
        CHECK(refused.out().find("Chave pública") == std::string::npos);
        CHECK(read_file(file) == content);  // untouched
    }
    // The fix it gives works: the same key again.
    REQUIRE(chmod(file.c_str(), 0600) == 0);
    Server fixed = start_server(lab);
    CHECK(printed_key(*fixed.process) == key);
}

TEST_CASE("ex4 server: killed while it creates its key, it leaves no temporary file") {
    Sodium sodium;
    // The key pair is made right after listen(); kill the server at moments
    // around it. Whatever the moment, the folder holds the program and at
    // most a complete servidor.chave (one the next start accepts).
    for (int round = 0; round < 20; ++round) {
        CAPTURE(round);
        TempDir dir;
        fs::copy_file(bin("ex4_kx/server"), dir.path / "server");
        const std::string port = std::to_string(free_port());
        {
            Process server({(dir.path / "server").string(), "127.0.0.1", port});
            std::this_thread::sleep_for(std::chrono::microseconds(500 * round));
            server.kill(SIGKILL);
            server.wait_exit(5000ms);
        }
        for (const std::string& name : dir.names())
            CHECK_MESSAGE((name == "server" || name == "servidor.chave"), name);
        if (fs::exists(dir.path / "servidor.chave")) {
            Process again({(dir.path / "server").string(), "127.0.0.1", port});
            CHECK(again.wait_output("Chave pública do servidor: ", 5000ms));
            CHECK(again.out().find("Par de chaves novo") == std::string::npos);
        }
    }
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
    Sodium sodium;
    Lab lab;
    Server server = start_server(lab);
    std::string key = printed_key(*server.process);
    auto peers = join_chat(server.port, 1);
    Process client({lab.path("client"), "127.0.0.1", std::to_string(server.port),
                    "--chave-servidor", key});
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
    REQUIRE(up.size() == 4);    // the client's key, its header, its OK, the message
    REQUIRE(down.size() == 5);  // S, Es, the server's header, its OK, the message back
    captured = up;
    captured.insert(captured.end(), down.begin(), down.end());
    CHECK(joined(captured).find("senha") == std::string::npos);
    CHECK(!anything_opens(captured));
    // ex2's attack with ex2's own tool: the server's first line as the key,
    // and every line the client sent. Nothing opens.
    Process decrypt({bin("ex2_crypto/client"), "--decrypt", down[0]});
    decrypt.write_stdin(joined(up));
    decrypt.close_stdin();
    CHECK(decrypt.wait_exit(5000ms) == 0);
    CHECK(count_of(decrypt.out(), "Mensagem inválida descartada\n") == 4);
    // An eavesdropper that connects, as in ex2, gets only public keys: with
    // them, the captured message lines do not open.
    Peer spy = connect_peer(server.port);
    captured.push_back(spy.server_key);
    captured.push_back(spy.connection_key);
    CHECK(!anything_opens(captured));
    close_fd(spy.fd);
}

TEST_CASE("ex4 (a): a capture plus the stolen servidor.chave decrypts nothing (forward secrecy)") {
    Sodium sodium;
    Lab lab;
    Server server = start_server(lab);
    // Two sessions recorded whole: one of the test's own client (which keeps
    // its ec, for the control below) and one of the real client.
    std::vector<std::vector<std::string>> sessions;  // Ec, hc, OK, msg, S, Es, hs, OK, msg
    unsigned char kept_ec[32];
    for (int session = 0; session < 2; ++session) {
        Relay wire(server.port);
        if (session == 0) {
            Peer p = connect_peer(wire.port);
            std::memcpy(kept_ec, p.ec_secret, 32);
            REQUIRE(send_bytes(p.fd, line_of(p, "a prova é na sexta")));
            REQUIRE(read_message(p) == "a prova é na sexta");
            close_fd(p.fd);
        } else {
            Process victim({lab.path("client"), "127.0.0.1", std::to_string(wire.port)});
            victim.write_stdin("senha do banco: 1234\n");
            CHECK(victim.wait_output("senha do banco: 1234\n>", 5000ms));
            victim.close_stdin();
            CHECK(victim.wait_exit(5000ms) == 0);
        }
        wire.finish();
        std::vector<std::string> lines = wire.lines(true), from = wire.lines(false);
        REQUIRE(lines.size() == 4);
        REQUIRE(from.size() == 5);
        lines.insert(lines.end(), from.begin(), from.end());
        sessions.push_back(lines);
    }
    // Later, the thief copies the key file (a backup, a copied folder).
    server.process->kill(SIGTERM);
    server.process->wait_exit(5000ms);
    unsigned char S[32], s[32];
    stolen_keys(lab.dir.path / "servidor.chave", S, s);
    for (std::size_t n = 0; n < sessions.size(); ++n) {
        CAPTURE(n);
        const std::vector<std::string>& c = sessions[n];  // Ec, hc, OK, msg, S, Es, hs, OK, msg
        std::vector<std::vector<unsigned char>> values, headers;
        values_in(c, values, headers);
        REQUIRE(values.size() == 3);
        REQUIRE(headers.size() == 2);
        unsigned char Ec[32], Es[32], r1[32], t1[32];
        REQUIRE(kx::read_key(c[0], Ec));
        REQUIRE(kx::read_key(c[5], Es));
        CHECK(std::memcmp(S, values[1].data(), 32) == 0);  // the stolen key is the S on the wire
        // What the old protocol used as session keys, and what the thief can
        // compute with s: (r1, t1). With them, and every hash of them with any
        // value on the wire, no line opens: r2 and t2 need es or ec, wiped.
        REQUIRE(crypto_kx_server_session_keys(r1, t1, S, s, Ec) == 0);
        std::vector<std::vector<unsigned char>> guesses = {{r1, r1 + 32}, {t1, t1 + 32}};
        std::vector<std::vector<unsigned char>> known = values;  // Ec, S, Es
        known.push_back(guesses[0]);
        known.push_back(guesses[1]);
        for (const auto& a : known)
            for (const auto& b : known) guesses.push_back(hash_of(a.data(), b.data()));
        for (const std::string& line : {c[2], c[3], c[7], c[8]}) {
            std::string text;
            for (const auto& guess : guesses) CHECK(!opens(line, guess.data(), headers));
            for (const auto& v : values) CHECK(!token::decrypt(v.data(), line, text));
        }
        if (n == 0) {
            // Control: with the ec the test's own client kept, the same recipe
            // opens its lines. Only what both programs wipe is missing.
            unsigned char r2[32], t2[32];
            REQUIRE(crypto_kx_client_session_keys(r2, t2, Ec, kept_ec, Es) == 0);
            const auto to_server = hash_of(r1, t2);  // the server's rx = H(r1 || r2)
            CHECK(opens(c[2], to_server.data(), {headers[0]}));
        }
    }
}

TEST_CASE("ex4: a recorded client session replayed on a new connection is refused; nothing of it "
          "reaches anyone") {
    Sodium sodium;
    Lab lab;
    Server server = start_server(lab);
    const std::string key = printed_key(*server.process);
    auto peers = join_chat(server.port, 2);
    std::string recorded;  // what a capture shows the client sent: `tcp.dstport == PORT`
    {
        Relay wire(server.port);
        Process victim({lab.path("client"), "127.0.0.1", std::to_string(wire.port),
                        "--chave-servidor", key});
        victim.write_stdin("transfira 100 reais\n");
        for (Peer& p : peers) CHECK(read_message(p) == "transfira 100 reais");
        victim.write_stdin("senha 1234\n");
        for (Peer& p : peers) CHECK(read_message(p) == "senha 1234");
        victim.close_stdin();
        CHECK(victim.wait_exit(5000ms) == 0);
        wire.finish();
        recorded = joined(wire.lines(true));
    }
    REQUIRE(count_of(recorded, "\n") == 5);  // Ec, header, OK, two messages
    // `cat c2s.bin | nc 127.0.0.1 PORT`: the same bytes on a new connection.
    auto replay = [&](Server& target) {
        int fd = connect_to(target.port);
        REQUIRE(fd >= 0);
        const std::string port = std::to_string(local_port(fd));
        REQUIRE(send_bytes(fd, recorded));
        bool closed = false;
        const std::string got = recv_until_close(fd, 5000ms, &closed);
        CHECK(closed);
        CHECK(got.size() == 90 + 62);  // S, Es, then the server's header and OK: nothing else
        CHECK(target.process->wait_output("Cliente ('127.0.0.1', " + port +
                                              ") não sincronizado: o OK não abre no fluxo do "
                                              "cliente (chaves de outra conexão?)",
                                          5000ms));
        close_fd(fd);
    };
    replay(server);
    still_talking(peers, "depois da repetição");  // the next message is this: nothing came before
    CHECK(server.process->wait_output(") sincronizado", 5000ms, 3));
    CHECK(count_of(server.process->out(), ") sincronizado") == 3);
    close_all(peers);
    // After a restart, with the same servidor.chave (the same S): refused too.
    server.process->kill(SIGTERM);
    server.process->wait_exit(5000ms);
    Server again = start_server(lab);
    CHECK(printed_key(*again.process) == key);
    auto others = join_chat(again.port, 1);
    replay(again);
    still_talking(others, "depois do reinício");
    close_all(others);
}

TEST_CASE("ex4 client: a recorded server reply replayed to a new pinned client is refused; nothing "
          "of the user's is sent") {
    Sodium sodium;
    Lab lab;
    Server server = start_server(lab);
    const std::string key = printed_key(*server.process);
    std::string recorded;  // what the server sent to a client: S, Es, header, OK, ...
    {
        Relay wire(server.port);
        Process victim({lab.path("client"), "127.0.0.1", std::to_string(wire.port),
                        "--chave-servidor", key});
        victim.write_stdin("oi\n");
        CHECK(victim.wait_output("oi\n>", 5000ms));
        victim.close_stdin();
        CHECK(victim.wait_exit(5000ms) == 0);
        wire.finish();
        recorded = joined(wire.lines(false));
    }
    REQUIRE(count_of(recorded, "\n") == 5);
    // A fake server sends those bytes, byte for byte, to a new client that
    // pinned the right key (and to one that saved it on first use).
    for (bool pinned : {true, false}) {
        CAPTURE(pinned);
        int port = 0;
        int listener = listen_local(port);
        std::vector<std::string> argv = {lab.path("client"), "127.0.0.1", std::to_string(port)};
        if (pinned) argv.insert(argv.end(), {"--chave-servidor", key});
        if (!pinned) {
            std::ofstream(lab.known()) << "127.0.0.1:" << port << " " << key << "\n";
        }
        Process client(argv);
        client.write_stdin("segredo\n");  // typed at once
        int fd = accept_within(listener, 5000ms);
        REQUIRE(fd >= 0);
        REQUIRE(send_bytes(fd, recorded));
        CHECK(client.wait_exit(5000ms) == 1);
        CHECK(client.err().find("ATENÇÃO: este servidor não tem a chave que diz ter") == 0);
        CHECK(client.err().find("nada do que você digitou foi enviado") != std::string::npos);
        CHECK(client.out().find('>') == std::string::npos);  // no prompt was shown
        // What the client sent: its key and its header, 45 + 33 bytes, no more.
        const std::string sent = recv_until_close(fd, 5000ms);
        CHECK(sent.size() == 78);
        close_fd(fd);
        close_fd(listener);
    }
}

TEST_CASE("ex4 client: an impostor with the server's public key cannot confirm it; nothing is "
          "sent or saved") {
    Sodium sodium;
    Lab lab;
    Server server = start_server(lab);
    const std::string key = printed_key(*server.process);
    unsigned char S[32];
    REQUIRE(kx::read_key(key, S));
    // The impostor copied S and has its own Es; it can compute r2 and t2, not
    // r1 and t1. `confirm` builds the header and OK it sends.
    auto run = [&](bool pinned, const std::function<std::string(FakeServer&, const unsigned char*)>&
                                    confirm) {
        FakeServer impostor;
        std::vector<std::string> argv = {lab.path("client"), "127.0.0.1",
                                         std::to_string(impostor.port)};
        if (pinned) argv.insert(argv.end(), {"--chave-servidor", key});
        Process client(argv);
        client.write_stdin("segredo\n");
        impostor.accept_client();
        kx::Ephemeral es;
        REQUIRE(send_bytes(impostor.fd, key + "\n" + es.line()));
        unsigned char Ec[32];
        REQUIRE(kx::read_key(recv_line(impostor.fd, 5000ms), Ec));
        REQUIRE(recv_line(impostor.fd, 5000ms).size() == 32);  // the client's header
        REQUIRE(send_bytes(impostor.fd, confirm(impostor, Ec)));
        CHECK(client.wait_exit(5000ms) == 1);
        CHECK(client.err().find("ATENÇÃO: este servidor não tem a chave que diz ter") == 0);
        CHECK(recv_until_close(impostor.fd, 5000ms).empty());  // nothing more was sent
        CHECK(!fs::exists(lab.known()));                          // and nothing saved
    };
    for (bool pinned : {true, false}) {
        CAPTURE(pinned);
        // Any 24-byte header and any line (the old protocol's attack).
        run(pinned, [](FakeServer&, const unsigned char*) {
            unsigned char header[24] = {1, 2, 3};
            return kx::to_base64(header, 24) + "\n" + std::string(28, 'A') + "\n";
        });
        // Its best guess: a real stream, with the keys it can compute.
        run(pinned, [](FakeServer& f, const unsigned char* Ec) {
            unsigned char r2[32], t2[32], zeros[32] = {};
            kx::Ephemeral guess;
            REQUIRE(crypto_kx_server_session_keys(r2, t2, guess.public_key, guess.secret_key,
                                                  Ec) == 0);
            const auto tx = hash_of(zeros, t2);
            std::string reply = kx::start_sending(f.sending, tx.data()) + "\n";
            return reply + kx::seal(f.sending, "OK") + "\n";
        });
    }
    // An all-zero "key" (a weak point): no session keys, nothing stored.
    FakeServer zero;
    Process client({lab.path("client"), "127.0.0.1", std::to_string(zero.port)});
    zero.accept_client();
    const unsigned char zeros[32] = {};
    REQUIRE(send_bytes(zero.fd, kx::to_base64(zeros, 32) + "\n" + kx::to_base64(zeros, 32) + "\n"));
    CHECK(client.wait_exit(5000ms) == 1);
    CHECK(client.err() == "Erro: chave inválida recebida do servidor\n");
    CHECK(!fs::exists(lab.known()));
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
    SUBCASE("a client that trusts the first key it sees: the intruder reads everything, twice") {
        // Twice in a row, as demo (b) says: the intruder keeps its key in
        // intruso.chave, so the second run is the same as the first.
        const std::string intruder_key = printed_key(*intruder.process);
        for (int run = 0; run < 2; ++run) {
            CAPTURE(run);
            Process victim({lab.path("client"), "127.0.0.1", via});
            if (run == 0)
                CHECK(victim.wait_output("Primeira conexão com 127.0.0.1:" + via, 5000ms));
            victim.write_stdin("senha do banco: 1234\n");
            CHECK(intruder.process->wait_output(
                "Intruso leu (cliente -> servidor): senha do banco: 1234", 5000ms));
            CHECK(read_message(peers[0]) == "senha do banco: 1234");  // the chat works as usual
            REQUIRE(send_bytes(peers[0].fd, line_of(peers[0], "resposta")));
            CHECK(read_message(peers[0]) == "resposta");
            CHECK(victim.wait_output("resposta\n>", 5000ms));
            CHECK(intruder.process->wait_output("Intruso leu (servidor -> cliente): resposta",
                                                5000ms));
            // What it saved is the intruder's key, not the server's.
            CHECK(read_file(lab.known()) == "127.0.0.1:" + via + " " + intruder_key + "\n");
            victim.close_stdin();
            CHECK(victim.wait_exit(5000ms) == 0);
            CHECK(victim.err().empty());
            if (run == 1) break;
            intruder.process->kill(SIGTERM);  // the intruder starts again, same key
            intruder.process->wait_exit(5000ms);
            intruder.process = std::make_unique<Process>(std::vector<std::string>{
                lab.path("intruso"), "127.0.0.1", via, "127.0.0.1", std::to_string(server.port)});
            REQUIRE(intruder.process->wait_output("Aguardando", 5000ms));
            CHECK(printed_key(*intruder.process) == intruder_key);
            CHECK(intruder.process->out().find("Par de chaves novo") == std::string::npos);
        }
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
        CHECK(read_file(lab.known()) == "127.0.0.1:" + std::to_string(server.port) + " " + key + "\n");
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
    // Server lines: 0 S, 1 Es, 2 the header, 3 the OK, 4 the victim's own
    // probe coming back (then it is in the chat for sure), 5 and 6 the two
    // messages.
    struct Case {
        const char* name;
        Relay::Tamper tamper;
    };
    std::string held;
    int round = 0;
    for (const Case& c : std::vector<Case>{
             {"replay", [](std::size_t i, const std::string& l) {
                  return i == 5 ? std::vector<std::string>{l, l} : std::vector<std::string>{l};
              }},
             {"reorder", [&held](std::size_t i, const std::string& l) {
                  if (i == 5) {
                      held = l;
                      return std::vector<std::string>{};
                  }
                  return i == 6 ? std::vector<std::string>{l, held} : std::vector<std::string>{l};
              }},
             {"cut", [](std::size_t i, const std::string& l) {
                  return i == 5 ? std::vector<std::string>{} : std::vector<std::string>{l};
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

TEST_CASE("ex4 client: NOT detected: the last messages cut off together with the connection") {
    // What the README says ex4 does not protect: TCP's FIN is not
    // authenticated, so whoever is on the path can drop the last lines and
    // close; the client cannot tell that from the server closing.
    Sodium sodium;
    Lab lab;
    FakeServer fake;
    Process client({lab.path("client"), "127.0.0.1", std::to_string(fake.port),
                    "--chave-servidor", fake.key()});
    fake.handshake();
    REQUIRE(send_bytes(fake.fd, kx::seal(fake.sending, "primeira") + "\n"));
    kx::seal(fake.sending, "segunda");  // sealed, never delivered
    CHECK(client.wait_output("primeira\n>", 5000ms));
    shutdown(fake.fd, SHUT_WR);
    CHECK(client.wait_exit(5000ms) == 0);
    CHECK(client.out().find("Conexão encerrada pelo servidor") != std::string::npos);
    CHECK(client.out().find("segunda") == std::string::npos);
    CHECK(client.err().empty());
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
    // Connect, read the two key lines, send `bytes`; the server must close.
    auto refused = [&](const std::string& bytes, const std::string& why) {
        int fd = connect_to(server.port);
        REQUIRE(fd >= 0);
        unsigned port = local_port(fd);
        REQUIRE(recv_exactly(fd, 90, 5000ms).size() == 90);
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
    const std::string good_header = kx::to_base64(pk, 24) + "\n";
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
    SUBCASE("a good key and header, then garbage instead of the OK") {
        refused(good_key + good_header + "OK\n",
                "o OK não abre no fluxo do cliente (chaves de outra conexão?)");
    }
    SUBCASE("the right keys, but the confirmation is not OK") {
        Peer p = begin_handshake(server.port);
        REQUIRE(send_bytes(p.fd, line_of(p, "NÃO")));
        CHECK(dropped(p));
        CHECK(server.process->wait_output("Cliente ('127.0.0.1', " + std::to_string(p.port) +
                                              ") não sincronizado: a resposta decifrada não é OK",
                                          5000ms));
        close_fd(p.fd);
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

TEST_CASE("ex4 server: one address cannot lock the class out (idle flood, dripping handshake)") {
    Sodium sodium;
    Lab lab;
    // The server gets 64 descriptors (its own limit, lowered; nothing is
    // raised, nothing system-wide changes), so it keeps 32 connections
    // (common/admission.h): the idle connections below fill it, and each
    // newcomer then takes the place of one that has not finished its
    // handshake, never the place of the student already chatting.
    Server server = start({"/bin/sh", "-c", "ulimit -n 64 && exec \"$0\" \"$@\"",
                           lab.path("server"), "127.0.0.1"});
    const std::string key = printed_key(*server.process);
    auto peers = join_chat(server.port, 1);  // a student from 127.0.0.1, chatting
    // A handshake that drips one byte of a valid key line every 2 s, from
    // 127.0.0.3: each recv() gets a byte long before any per-recv timeout,
    // and 45 bytes would take 90 s. The deadline is for the whole handshake.
    std::atomic<bool> drip_closed{false};
    int dripper = connect_from(server.port, "127.0.0.3");
    REQUIRE(dripper >= 0);
    REQUIRE(recv_exactly(dripper, 90, 5000ms).size() == 90);
    std::thread drip([&] {
        unsigned char pk[32], sk[32];
        crypto_kx_keypair(pk, sk);
        const std::string line = kx::to_base64(pk, 32) + "\n";
        for (std::size_t i = 0; i < line.size() && !drip_closed; ++i) {
            if (!send_bytes(dripper, line.substr(i, 1))) break;
            for (int t = 0; t < 20 && !drip_closed; ++t) std::this_thread::sleep_for(100ms);
        }
    });
    // 300 idle connections from 127.0.0.2, opened as fast as possible.
    const int FLOOD = 300;
    std::vector<int> idle;
    for (int i = 0; i < FLOOD; ++i) {
        int fd = connect_from(server.port, "127.0.0.2");
        if (fd >= 0) idle.push_back(fd);
    }
    REQUIRE(idle.size() == static_cast<std::size_t>(FLOOD));
    CHECK(server.process->wait_output("fechada para dar lugar a", 10000ms));
    // Meanwhile, the class keeps chatting: the one already in, and a real
    // client from 127.0.0.1 that joins now.
    still_talking(peers, "durante a inundação");
    Process client({lab.path("client"), "127.0.0.1", std::to_string(server.port),
                    "--chave-servidor", key});
    client.write_stdin("ainda estou aqui\n");
    CHECK(read_message(peers[0]) == "ainda estou aqui");
    CHECK(client.wait_output("ainda estou aqui\n>", 5000ms));
    // The dripper is closed: by its handshake's deadline or, the server being
    // full, to make room (it is the oldest without a handshake). The 30 s only
    // stop a hang.
    bool closed = false;
    recv_until_close(dripper, 30000ms, &closed);
    CHECK(closed);
    drip_closed = true;
    drip.join();
    CHECK(server.process->err().find("Erro no accept") == std::string::npos);  // never out of fds
    for (int fd : idle) close_fd(fd);
    close_fd(dripper);
    still_talking(peers, "depois da inundação");
    client.close_stdin();
    CHECK(client.wait_exit(5000ms) == 0);
    close_all(peers);
}

TEST_CASE("ex4 server: --limite-por-ip N closes the N+1-th connection from one IP at once") {
    Sodium sodium;
    Lab lab;
    Server server = start_server(lab, {"--limite-por-ip", "2"});
    auto peers = join_chat(server.port, 2);
    int third = connect_to(server.port);
    REQUIRE(third >= 0);
    bool closed = false;
    CHECK(recv_until_close(third, 5000ms, &closed).empty());
    CHECK(closed);
    CHECK(server.process->wait_output(
        "Conexão recusada: 127.0.0.1 já tem 2 conexões abertas (limite por IP; veja "
        "--limite-por-ip)",
        5000ms));
    close_fd(third);
    // 127.0.0.2 is this same user on this same machine: the same group (issue 30).
    int same_user = connect_from(server.port, "127.0.0.2");
    CHECK(recv_until_close(same_user, 5000ms, &closed).empty());
    close_fd(same_user);
    close_fd(peers[1].fd);  // one leaves: its place comes back before the server says so
    REQUIRE(server.process->wait_output(
        "Cliente desconectado: 127.0.0.1:" + std::to_string(peers[1].port), 5000ms));
    Peer newcomer = connect_peer(server.port);
    REQUIRE(send_bytes(newcomer.fd, line_of(newcomer, "cheguei")));  // in the chat for sure
    REQUIRE(read_message(newcomer) == "cheguei");
    REQUIRE(read_message(peers[0]) == "cheguei");
    std::vector<Peer> two = {peers[0], newcomer};
    still_talking(two);
    close_all(two);
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
        int half = connect_to(server.port);  // never answers the keys
        REQUIRE(recv_exactly(half, 90, 5000ms).size() == 90);
        CHECK(thread_count(pid) == threads0 + 6);
        close_all(peers);
        close_fd(half);
        CHECK(wait_threads(pid, threads0, 5000ms));
    }
    CHECK(open_fds(pid) == fds0);
}

TEST_CASE("ex4 client: trust on first use saves the key after the confirmation; --chave-servidor "
          "checks it exactly") {
    Sodium sodium;
    Lab lab;
    const fs::path known = lab.known();
    FakeServer fake;
    const std::string port = std::to_string(fake.port);
    {
        Process client({lab.path("client"), "127.0.0.1", port});
        fake.handshake();
        CHECK(client.wait_output("Primeira conexão com 127.0.0.1:" + port +
                                     ". A chave pública do servidor é\n  " + fake.key() + "\n",
                                 5000ms));
        CHECK(client.out().find("Confira se é a mesma da linha \"Chave pública do servidor: ...\"") !=
              std::string::npos);
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
        << "# um comentário e uma linha vazia são aceitos\n\n"
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

TEST_CASE("ex4 client: an unreadable or broken servidores_conhecidos.txt is an error, never a "
          "first connection") {
    Sodium sodium;
    Lab lab;
    const fs::path known = lab.known();
    // Connect to a fake server that sends its key; the client must stop
    // there, name the file, and send nothing.
    auto refused = [&](const std::string& expected) {
        FakeServer fake;
        Process client({lab.path("client"), "127.0.0.1", std::to_string(fake.port)});
        fake.accept_client();
        kx::Ephemeral es;
        REQUIRE(send_bytes(fake.fd, fake.key() + "\n" + es.line()));
        CHECK(client.wait_exit(5000ms) == 1);
        CHECK(client.err().find("Erro: " + expected) == 0);
        CHECK(client.err().find(".\nConexão encerrada; nada foi enviado.\n") != std::string::npos);
        CHECK(client.out().find("Primeira") == std::string::npos);
        bool closed = false;
        CHECK(recv_until_close(fake.fd, 5000ms, &closed).empty());
        CHECK(closed);
    };
    SUBCASE("a folder where the file should be (cannot be read)") {
        fs::create_directory(known);
        refused("não foi possível ler " + known.string() + ": ");
    }
    SUBCASE("a line that is not ADDRESS:PORT KEY") {
        std::ofstream(known) << "# servidores\nlocalhost:8000 "
                             << "zbDz69Uoz_hhm8p_9vnH5a3L-wVWsXvOtSdGTljfDW0=\nlixo no arquivo\n";
        refused(known.string() + " está estragado: a linha 3 não é \"ENDEREÇO:PORTA CHAVE\". "
                                 "Corrija-a ou apague o arquivo (as chaves dos servidores serão "
                                 "conferidas de novo, como na primeira vez)");
    }
    SUBCASE("a key that is not 32 bytes of base64") {
        std::ofstream(known) << "localhost:8000 zbDz69Uoz_hhm8p_9vnH5a3L\n";
        refused(known.string() + " está estragado: a linha 1 não é \"ENDEREÇO:PORTA CHAVE\". "
                                 "Corrija-a ou apague o arquivo (as chaves dos servidores serão "
                                 "conferidas de novo, como na primeira vez)");
    }
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
    SUBCASE("the long-term key only, then nothing") {
        FakeServer fake;
        Process client({lab.path("client"), "127.0.0.1", std::to_string(fake.port),
                        "--chave-servidor", fake.key()});
        fake.accept_client();
        REQUIRE(send_bytes(fake.fd, fake.key() + "\n"));
        shutdown(fake.fd, SHUT_WR);
        CHECK(client.wait_exit(5000ms) == 1);
        // Which is what the ex2 server does: the client says so (student finding 14).
        CHECK(client.err() == "Erro: o aperto de mão com o servidor falhou (fechou a conexão).\n"
                              "Chegou uma chave e nada mais: isto parece o servidor do Exemplo 2; "
                              "este cliente é do Exemplo 4. Use o cliente do Exemplo 2 "
                              "(../ex2_crypto/client)\n");
    }
    SUBCASE("the real ex2 server's first line, then the close its 10 s deadline brings") {
        Server ex2 = lab::start_server("ex2_crypto/server");
        int raw = connect_to(ex2.port);
        const std::string key_line = recv_line(raw, 5000ms) + "\n";
        close_fd(raw);
        FakeServer fake;  // replays it, and closes at once instead of after 10 s
        Process client({lab.path("client"), "127.0.0.1", std::to_string(fake.port)});
        fake.accept_client();
        REQUIRE(send_bytes(fake.fd, key_line));
        shutdown(fake.fd, SHUT_WR);
        CHECK(client.wait_exit(5000ms) == 1);
        CHECK(client.err().find("isto parece o servidor do Exemplo 2; este cliente é do "
                                "Exemplo 4") != std::string::npos);
        CHECK(!fs::exists(lab.known()));  // nothing saved
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
    SUBCASE("a header and an OK sealed with other keys") {
        FakeServer fake;
        Process client({lab.path("client"), "127.0.0.1", std::to_string(fake.port),
                        "--chave-servidor", fake.key()});
        kx::Stream other;
        unsigned char key[32] = {7};
        std::string header = kx::start_sending(other, key);
        fake.handshake(header, kx::seal(other, "OK"));
        CHECK(client.wait_exit(5000ms) == 1);
        CHECK(client.err().find("ATENÇÃO: este servidor não tem a chave que diz ter") == 0);
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
                                "conexão encerrada") != std::string::npos);
    }
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
