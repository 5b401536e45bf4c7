// libFuzzer harness for ex5's datagram parser (ex5_udp/datagram.h): whatever
// bytes arrive, decode() and the SIZE/OK readers must not crash; what they
// accept must be exactly what the writers produce (so two different
// datagrams never mean the same thing); a reliable-mode GET's name obeys
// ex3's rules; the CRC-32 of the pieces is the CRC-32 of the whole.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "../../ex3_files/request.h"
#include "../../ex5_udp/datagram.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const char* bytes = reinterpret_cast<const char*>(data);
    const std::string text(bytes, size);
    datagram::Datagram d;
    if (datagram::decode(bytes, size, d)) {
        if (datagram::encode(d.type, d.window, d.seq, d.payload) != text) std::abort();
        if (d.type == datagram::GET) {
            request::Parsed r = request::parse(d.payload);
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
    return 0;
}
