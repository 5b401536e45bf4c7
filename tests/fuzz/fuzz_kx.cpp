// libFuzzer harness for ex4's handshake and message parser (ex4_kx/kx.h):
// the bytes a hostile peer sends, line by line, go through what the server
// (and the client) does with them: the peer's public key, its stream header,
// then message lines. Nothing may crash, a key is accepted only in its one
// canonical spelling, and nothing a peer invents opens as a message.
//
// The first byte picks the side under attack:
//   even: the peer sends everything (key, header, messages), as a stranger;
//   odd:  a genuine peer does the handshake, and the fuzzer's lines are sent
//         as its texts: each must come back whole and in order, and a
//         replayed line must never open.
#include <sodium.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
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

// The server's long-term key pair, the same on every run.
struct Server {
    unsigned char pk[kx::KEY_BYTES], sk[kx::SECRET_BYTES];
    Server() {
        unsigned char seed[crypto_kx_SEEDBYTES] = {4, 2};
        crypto_kx_seed_keypair(pk, sk, seed);
    }
};

void stranger(const std::vector<std::string>& lines, const Server& server) {
    if (lines.empty()) return;
    unsigned char client_pk[kx::KEY_BYTES], rx[kx::SESSION_BYTES], tx[kx::SESSION_BYTES];
    if (!kx::read_key(lines[0], client_pk)) return;
    if (kx::to_base64(client_pk, sizeof client_pk) != lines[0]) std::abort();  // canonical only
    if (crypto_kx_server_session_keys(rx, tx, server.pk, server.sk, client_pk) != 0) return;
    kx::Stream receiving;
    if (lines.size() < 2 || !kx::start_receiving(receiving, lines[1], rx)) return;
    std::string text;
    for (std::size_t i = 2; i < lines.size(); ++i)
        if (kx::open(receiving, lines[i], text)) std::abort();  // a forged message opened
}

void genuine(const std::vector<std::string>& texts, const Server& server) {
    unsigned char pk[kx::KEY_BYTES], sk[kx::SECRET_BYTES];
    unsigned char crx[kx::SESSION_BYTES], ctx[kx::SESSION_BYTES];
    unsigned char srx[kx::SESSION_BYTES], stx[kx::SESSION_BYTES];
    crypto_kx_keypair(pk, sk);
    if (crypto_kx_client_session_keys(crx, ctx, pk, sk, server.pk) != 0 ||
        crypto_kx_server_session_keys(srx, stx, server.pk, server.sk, pk) != 0)
        std::abort();
    kx::Stream sending, receiving;
    std::string header = kx::start_sending(sending, ctx);
    if (header.size() != kx::HEADER_LINE || !kx::start_receiving(receiving, header, srx))
        std::abort();
    std::vector<std::string> sent;
    std::string text;
    for (const std::string& t : texts) {
        sent.push_back(kx::seal(sending, t));
        if (sent.back().size() != (t.size() + kx::EXTRA_BYTES + 2) / 3 * 4) std::abort();
        if (!kx::open(receiving, sent.back(), text) || text != t) std::abort();
    }
    for (const std::string& old : sent)  // a replay of any earlier line
        if (kx::open(receiving, old, text)) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static const bool ready = sodium_init() >= 0;
    static const Server server;
    if (!ready || size == 0) return 0;
    auto lines = lines_of(data + 1, size - 1);
    if (data[0] % 2 == 0)
        stranger(lines, server);
    else
        genuine(lines, server);
    return 0;
}
