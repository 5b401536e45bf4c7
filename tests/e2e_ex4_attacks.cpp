// End-to-end tests of what Exemplo 4 protects, each promise of the
// README's "O que é protegido" proven by a case here: (a) a full recording
// of the wire decrypts nothing, not even with the stolen key file; recorded
// sessions and replies replayed; an impostor with the server's public key;
// (b) the man in the middle (ex4_kx/intruso); (c) replayed, reordered or cut
// lines, from either side; what ex4 does NOT detect; and ex2's server, for
// contrast. The recordings come from a relay that records or tampers with
// the lines between a real client and the real server.
#include <doctest/doctest.h>

#include <poll.h>
#include <signal.h>
#include <sys/socket.h>

#include <cstring>
#include <fstream>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "../ex2_crypto/token.h"  // ex2's tokens: the attack that works there
#include "ex4_support.h"

using namespace lab;
namespace fs = std::filesystem;

namespace {

// The key pair in a servidor.chave file, as a thief who copied it has it.
void stolen_keys(const fs::path& file, unsigned char pk[32], unsigned char sk[32]) {
    const std::string content = read_file(file);
    auto pub = content.find("\npublica "), sec = content.find("\nsecreta ");
    REQUIRE(pub != std::string::npos);
    REQUIRE(sec != std::string::npos);
    REQUIRE(kx::read_key(content.substr(pub + 9, 44), pk));
    REQUIRE(kx::read_exact(content.substr(sec + 9, 44), sk, 32));
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

// A real client (pinned to `pinned`, when given) connects through `wire`,
// says `text`, sees it come back and leaves (Ctrl+D): the relay has then
// recorded its whole session.
void record_session(const Lab& lab, Relay& wire, const std::string& pinned,
                    const std::string& text) {
    Process victim(lab.client(wire.port, pinned));
    victim.write_stdin(text + "\n");
    CHECK(victim.wait_output(text + "\n>", 5000ms));
    victim.close_stdin();
    CHECK(victim.wait_exit(5000ms) == 0);
    wire.finish();
}

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

}  // namespace

TEST_CASE("ex4 (a): the ex2 attack fails: nothing in a full capture decrypts") {
    Lab lab;
    Server server = start_server(lab);
    std::string key = printed_key(*server.process);
    std::vector<std::string> up, down, captured;
    {
        // A relay records every byte between a real client and the server.
        Relay wire(server.port);
        record_session(lab, wire, key, "senha do banco: 1234");
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
            record_session(lab, wire, "", "senha do banco: 1234");
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
    Lab lab;
    Server server = start_server(lab);
    const std::string key = printed_key(*server.process);
    auto peers = join_chat(server.port, 2);
    std::string recorded;  // what a capture shows the client sent: `tcp.dstport == PORT`
    {
        Relay wire(server.port);
        Process victim(lab.client(wire.port, key));
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
    Lab lab;
    Server server = start_server(lab);
    const std::string key = printed_key(*server.process);
    std::string recorded;  // what the server sent to a client: S, Es, header, OK, ...
    {
        Relay wire(server.port);
        record_session(lab, wire, key, "oi");
        recorded = joined(wire.lines(false));
    }
    REQUIRE(count_of(recorded, "\n") == 5);
    // A fake server sends those bytes, byte for byte, to a new client that
    // pinned the right key (and to one that saved it on first use).
    for (bool pinned : {true, false}) {
        CAPTURE(pinned);
        int port = 0;
        int listener = listen_local(port);
        if (!pinned) std::ofstream(lab.known()) << "127.0.0.1:" << port << " " << key << "\n";
        Process client(lab.client(port, pinned ? key : ""));
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
        Process client(lab.client(impostor.port, pinned ? key : ""));
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
    Process client(lab.client(zero.port));
    zero.accept_client();
    const unsigned char zeros[32] = {};
    REQUIRE(send_bytes(zero.fd, kx::to_base64(zeros, 32) + "\n" + kx::to_base64(zeros, 32) + "\n"));
    CHECK(client.wait_exit(5000ms) == 1);
    CHECK(client.err() == "Erro: chave inválida recebida do servidor\n");
    CHECK(!fs::exists(lab.known()));
}

TEST_CASE("ex4 (b): a man in the middle reads an unpinned client and is refused by a pinned one") {
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
            Process victim(lab.client(intruder.port));
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
        Process victim(lab.client(intruder.port, key));
        victim.write_stdin("senha do banco: 1234\n");
        CHECK(victim.wait_exit(5000ms) == 1);
        CHECK(victim.err().find("ATENÇÃO: a chave do servidor 127.0.0.1:" + via +
                                " não é a esperada!") == 0);
        CHECK(intruder.process->wait_output("desistiu", 5000ms));
        CHECK(intruder.process->out().find("senha") == std::string::npos);
    }
    SUBCASE("trust on first use: a later different key aborts the connection") {
        // First contact with the real server: its key is saved.
        Process first(lab.client(server.port));
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
        Process victim(lab.client(server.port));
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
        Process victim(lab.client(wire.port, key));
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
    Lab lab;
    FakeServer fake;
    Process client(lab.client(fake.port, fake.key()));
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
