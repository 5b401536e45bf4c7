// What the end-to-end tests of Exemplo 4 share (e2e_ex4, e2e_ex4_keys,
// e2e_ex4_attacks, e2e_ex4_hostile): the real ex4_kx programs copied into a
// temporary folder per test (each keeps its key file or known-servers file
// beside it), a raw client that speaks the wire protocol, and a fake server
// for what a real server never sends.
#pragma once

#include <doctest/doctest.h>

#include <sys/socket.h>

#include <cstring>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "../ex4_kx/kx.h"
#include "support.h"

namespace lab {

inline const std::string OLA = "Olá turma de redes industriais";  // 31 bytes

struct Sodium {
    Sodium() { REQUIRE(sodium_init() >= 0); }
};

// The three programs copied into a fresh folder: the key files and the
// client's known-servers file are created there, and vanish with it. The
// test's own keys and streams need libsodium too.
struct Lab {
    Sodium sodium;
    TempDir dir;
    Lab() {
        for (const char* program : {"server", "client", "intruso"})
            std::filesystem::copy_file(bin(std::string("ex4_kx/") + program), dir.path / program);
    }
    std::string path(const std::string& program) const { return (dir.path / program).string(); }
    std::filesystem::path known() const { return dir.path / "servidores_conhecidos.txt"; }
    // The client's command line for a server at `host`:`port`; with
    // `pinned`, the key it checks (--chave-servidor), else trust on first use.
    std::vector<std::string> client(int port, const std::string& pinned = "",
                                    const std::string& host = "127.0.0.1") const {
        std::vector<std::string> argv = {path("client"), host, std::to_string(port)};
        if (!pinned.empty()) argv.insert(argv.end(), {"--chave-servidor", pinned});
        return argv;
    }
};

// Start a program that prints "Aguardando" when ready, on a free port.
inline Server start(const std::vector<std::string>& argv_before_port,
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

inline Server start_server(const Lab& lab, const std::vector<std::string>& options = {}) {
    return start({lab.path("server"), "127.0.0.1"}, options);
}

// The public key a server (or the intruder) printed at start-up.
inline std::string printed_key(Process& p) {
    std::string out = p.out();
    auto at = out.find("Chave pública d");
    REQUIRE(at != std::string::npos);
    at = out.find(": ", at) + 2;
    return out.substr(at, out.find('\n', at) - at);
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
inline Peer handshake_on(int fd, const std::string& keys) {
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

inline Peer begin_handshake(int port, const std::string& source = "") {
    int fd = source.empty() ? connect_to(port) : connect_from(port, source);
    REQUIRE(fd >= 0);
    return handshake_on(fd, recv_exactly(fd, 90, 5000ms));
}

// The rest of the handshake: the client's OK (29 bytes) ends it.
inline Peer finish_handshake(Peer p) {
    const std::string ok = kx::seal(p.sending, "OK") + "\n";
    REQUIRE(ok.size() == 29);
    REQUIRE(send_bytes(p.fd, ok));
    return p;
}

// The whole handshake.
inline Peer connect_peer(int port, const std::string& source = "") {
    return finish_handshake(begin_handshake(port, source));
}

inline std::string line_of(Peer& p, const std::string& text) {
    return kx::seal(p.sending, text) + "\n";
}

inline std::string read_message(Peer& p) {
    std::string line = recv_line(p.fd, 5000ms), text;
    if (!kx::open(p.receiving, line, text)) return "<invalid: " + line + ">";
    return text;
}

// n raw clients in the chat, each registered for sure (its probe came back),
// with every probe drained.
inline std::vector<Peer> join_chat(int port, int n) {
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

inline void close_all(const std::vector<Peer>& peers) {
    for (const Peer& p : peers) close_fd(p.fd);
}

// peers[0] says `text`; everyone gets exactly that as the next message (so
// nothing else reached them before it).
inline void still_talking(std::vector<Peer>& peers, const std::string& text = OLA) {
    REQUIRE(send_bytes(peers[0].fd, line_of(peers[0], text)));
    for (Peer& p : peers) CHECK(read_message(p) == text);
}

// Wait until the server has dropped `p` (its socket reads end of file).
inline bool dropped(const Peer& p) {
    bool closed = false;
    recv_until_close(p.fd, 5000ms, &closed);
    return closed;
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

}  // namespace lab
