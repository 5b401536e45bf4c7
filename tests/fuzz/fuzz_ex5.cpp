// libFuzzer harness for ex5's datagram parser (ex5_udp/datagram.h): whatever
// bytes arrive, decode() and the SIZE/OK readers must not crash; what they
// accept must be exactly what the writers produce (so two different
// datagrams never mean the same thing); a reliable-mode GET's name obeys
// ex3's rules; the CRC-32 of the pieces is the CRC-32 of the whole. The same
// bytes also drive the reliable sender (ex5_udp/sender.h) as a script of
// hostile events (ACKs of any number, the clock, more bytes received): it
// never has more than the client's window in flight, never sends anything
// but the SIZE before the SIZE's ACK, and never more than 3x what arrived
// before it.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "../../ex3_files/request.h"
#include "../../ex5_udp/datagram.h"
#include "../../ex5_udp/sender.h"

namespace {

void drive_sender(const uint8_t* data, size_t size) {
    if (size < 8) return;
    const std::uint32_t first = static_cast<std::uint32_t>(data[0]) << 24 | data[1] << 16 | data[2] << 8 | data[3];
    const unsigned window = 1 + data[4] % 256;
    const bool control = data[5] & 1;
    const std::uint32_t count = static_cast<std::uint32_t>(data[6] | data[7] << 8);
    ReliableSender s(first, count, window, control);
    std::uint64_t received = 20;
    s.received(20);
    double now = 0;
    for (size_t i = 8; i + 3 <= size; i += 3) {
        while (auto n = s.next()) {
            if (!s.affordable(30)) break;
            if (!s.verified() && n->number != 0) std::abort();  // data before the SIZE's ACK
            if (n->seq != first + n->number || n->number > count + 1) std::abort();
            s.sent(*n, 30, now);
            if (s.flight() > window) std::abort();
        }
        if (!s.verified() && s.spent() > 3 * received) std::abort();
        const std::uint32_t v = static_cast<std::uint32_t>(data[i + 1] | data[i + 2] << 8);
        switch (data[i] % 4) {
        case 0: s.on_ack(first + v % (count + 3), now); break;  // near the window
        case 1: s.on_ack(v << 16 | v, now); break;               // a guess
        case 2: now += v / 1000.0; s.on_time(now); break;
        case 3: s.received(v % 100); received += v % 100; break;
        }
        if (s.cwnd() < 1 || s.cwnd() > window || s.ssthresh() < 1) std::abort();
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const char* bytes = reinterpret_cast<const char*>(data);
    const std::string text(bytes, size);
    datagram::Datagram d;
    if (datagram::decode(bytes, size, d)) {
        if (datagram::encode(d.type, d.window, d.seq, d.payload) != text) std::abort();
        if (d.type == datagram::GET) {
            request::Parsed r = request::parse(datagram::request_text(d.payload));
            if (r.error.empty() && !request::check_name(r.name).empty()) std::abort();
        }
    } else if (size >= datagram::HEADER && static_cast<unsigned char>(bytes[0]) == datagram::MARK &&
               std::string("GSDAOE").find(bytes[1]) != std::string::npos && bytes[1] != '\0') {
        std::abort();  // a valid header refused
    }
    std::uint64_t n = 0, count = 0;
    if (datagram::parse_size(text, n, count) && datagram::size_text(n, count) != text) std::abort();
    std::uint32_t crc = 0;
    if (datagram::parse_ok(text, crc) && datagram::ok_text(crc) != text) std::abort();
    if (datagram::is_error(text) && (text.rfind("ERROR \"", 0) != 0 || text.back() != '"')) std::abort();
    std::size_t cut = size / 3;
    if (datagram::crc32(datagram::crc32(0, bytes, cut), bytes + cut, size - cut) !=
        datagram::crc32(0, bytes, size))
        std::abort();
    drive_sender(data, size);
    return 0;
}
