// libFuzzer harness for ex4's handshake and message parser (ex4_kx/kx.h):
// the bytes a hostile peer sends, line by line, go through what the server
// and the client do with them (the handshake of issue 19: S, Es, Ec, two
// headers, the two "OK" confirmations, then messages). Nothing may crash, a
// key is accepted only in its one canonical spelling, and nothing a peer
// invents opens as a confirmation or a message.
//
// The first byte picks the side under attack (its value modulo 3):
//   0: the server. The peer sends Ec, its header, its OK, messages, as a
//      stranger: no OK and no message may open.
//   1: a genuine client and server do the whole handshake; the fuzzer's
//      lines are the client's texts: each must come back whole and in
//      order, and a replayed line must never open.
//   2: the client, pinned to the real S. The peer plays a server that does
//      not hold s: it sends Es, a header and an OK line; the OK must never
//      open (the client would refuse before sending anything of the user's).
#include <sodium.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "../../ex4_kx/kx.h"

namespace {

std::vector<std::string> lines_of(const uint8_t* data, std::size_t size) {
    std::vector<std::string> lines;
    std::string line;
    for (std::size_t i = 0; i < size; ++i) {
        if (data[i] == '\n') {
            lines.push_back(line);
            line.clear();
        } else if (line.size() < kx::MAX_LINE) {
            line += static_cast<char>(data[i]);
        }
    }
    return lines;
}

// A key pair from a seed: the same on every run, so a crash reproduces.
void seeded(unsigned char pk[kx::KEY_BYTES], unsigned char sk[kx::SECRET_BYTES],
            unsigned char first) {
    unsigned char seed[crypto_kx_SEEDBYTES] = {first, 2};
    crypto_kx_seed_keypair(pk, sk, seed);
}

// A per-connection pair, seeded (kx::Ephemeral makes a random one).
void seeded(kx::Ephemeral& pair, unsigned char first) {
    seeded(pair.public_key, pair.secret_key, first);
}

// The server's long-term key pair.
struct Server {
    unsigned char pk[kx::KEY_BYTES], sk[kx::SECRET_BYTES];
    Server() { seeded(pk, sk, 4); }
};

void against_server(const std::vector<std::string>& lines, const Server& server) {
    if (lines.empty()) return;
    unsigned char client_pk[kx::KEY_BYTES], rx[kx::SESSION_BYTES], tx[kx::SESSION_BYTES];
    if (!kx::read_key(lines[0], client_pk)) return;
    if (kx::to_base64(client_pk, sizeof client_pk) != lines[0]) std::abort();  // canonical only
    kx::Ephemeral mine;  // Es
    seeded(mine, 5);
    if (!kx::server_session_keys(rx, tx, server.pk, server.sk, mine, client_pk)) return;
    for (unsigned char b : mine.secret_key)
        if (b != 0) std::abort();  // es is wiped once used
    kx::Stream receiving;
    if (lines.size() < 2 || !kx::start_receiving(receiving, lines[1], rx)) return;
    std::string text;
    for (std::size_t i = 2; i < lines.size(); ++i)  // the OK, then the messages
        if (kx::open(receiving, lines[i], text)) std::abort();  // a forged line opened
}

void genuine(const std::vector<std::string>& texts, const Server& server) {
    kx::Ephemeral ec, es;
    unsigned char crx[kx::SESSION_BYTES], ctx[kx::SESSION_BYTES];
    unsigned char srx[kx::SESSION_BYTES], stx[kx::SESSION_BYTES];
    const std::string ec_line = ec.line(), es_line = es.line();
    unsigned char Ec[kx::KEY_BYTES], Es[kx::KEY_BYTES];
    if (!kx::read_key(ec_line.substr(0, kx::KEY_LINE), Ec) ||
        !kx::read_key(es_line.substr(0, kx::KEY_LINE), Es) ||
        !kx::client_session_keys(crx, ctx, ec, server.pk, Es) ||
        !kx::server_session_keys(srx, stx, server.pk, server.sk, es, Ec) ||
        std::memcmp(crx, stx, kx::SESSION_BYTES) != 0 ||
        std::memcmp(ctx, srx, kx::SESSION_BYTES) != 0)
        std::abort();
    kx::Stream client_sending, client_receiving, server_sending, server_receiving;
    std::string client_header = kx::start_sending(client_sending, ctx);
    std::string server_header = kx::start_sending(server_sending, stx);
    if (client_header.size() != kx::HEADER_LINE ||
        !kx::start_receiving(server_receiving, client_header, srx) ||
        !kx::start_receiving(client_receiving, server_header, crx))
        std::abort();
    std::string text;
    const std::string server_ok = kx::seal(server_sending, kx::CONFIRMATION);
    const std::string client_ok = kx::seal(client_sending, kx::CONFIRMATION);
    if (server_ok.size() != kx::OK_LINE || !kx::open(client_receiving, server_ok, text) ||
        text != "OK" || !kx::open(server_receiving, client_ok, text) || text != "OK")
        std::abort();
    std::vector<std::string> sent = {client_ok};
    for (const std::string& t : texts) {
        sent.push_back(kx::seal(client_sending, t));
        if (sent.back().size() != (t.size() + kx::EXTRA_BYTES + 2) / 3 * 4) std::abort();
        if (!kx::open(server_receiving, sent.back(), text) || text != t) std::abort();
    }
    for (const std::string& old : sent)  // a replay of any earlier line
        if (kx::open(server_receiving, old, text)) std::abort();
}

void against_client(const std::vector<std::string>& lines, const Server& server) {
    if (lines.empty()) return;
    unsigned char Es[kx::KEY_BYTES], rx[kx::SESSION_BYTES], tx[kx::SESSION_BYTES];
    if (!kx::read_key(lines[0], Es)) return;
    if (kx::to_base64(Es, sizeof Es) != lines[0]) std::abort();  // canonical only
    kx::Ephemeral mine;  // Ec
    seeded(mine, 6);
    if (!kx::client_session_keys(rx, tx, mine, server.pk, Es)) return;
    kx::Stream receiving;
    if (lines.size() < 2 || !kx::start_receiving(receiving, lines[1], rx)) return;
    std::string text;
    for (std::size_t i = 2; i < lines.size(); ++i)  // the OK (and anything after it)
        if (kx::open(receiving, lines[i], text)) std::abort();  // it confirmed without s
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static const bool ready = sodium_init() >= 0;
    static const Server server;
    if (!ready || size == 0) return 0;
    auto lines = lines_of(data + 1, size - 1);
    switch (data[0] % 3) {
        case 0: against_server(lines, server); break;
        case 1: genuine(lines, server); break;
        default: against_client(lines, server); break;
    }
    return 0;
}
