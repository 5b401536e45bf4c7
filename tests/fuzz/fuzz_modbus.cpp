// libFuzzer harness for ex6's Modbus/TCP parser (ex6_modbus/mbap.h, pdu.h, details.h):
// the input is what a client sends, cut into frames exactly as the server does
// (7 bytes of MBAP, checked, then Length - 1 bytes of PDU). For every frame:
// answer() must not crash or read out of bounds, its reply must be a standard
// one (the same function code, or it with 0x80 and an exception 01-03, at most
// 253 bytes), our own client must accept the reply as matching the request,
// and the --detalhes listing and the server's line must hold no raw byte.
// The input is also fed to the client's side as if a server had sent it.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "../../ex6_modbus/clp.h"
#include "../../ex6_modbus/details.h"
#include "../../ex6_modbus/mbap.h"
#include "../../ex6_modbus/pdu.h"

static void no_raw_bytes(const std::string& text) {
    for (unsigned char c : text)
        if (c < 0x20 && c != '\n') std::abort();
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string input(reinterpret_cast<const char*>(data), size);
    Plant plant;  // a fresh PLC per input, with its read-only registers
    std::size_t at = 0, frames = 0;
    while (input.size() - at >= modbus::MBAP_BYTES) {
        modbus::Header h = modbus::read_header(input.data() + at);
        if (!modbus::check_header(h).empty()) break;  // the server closes here
        if (h.length < modbus::MIN_LENGTH || h.length > modbus::MAX_LENGTH) std::abort();
        const std::size_t pdu_length = h.length - 1u;
        if (input.size() - at - modbus::MBAP_BYTES < pdu_length) break;  // cut short
        const std::string request = input.substr(at + modbus::MBAP_BYTES, pdu_length);
        at += modbus::MBAP_BYTES + pdu_length;

        const std::string reply = plant.answer(request);  // as the server answers
        plant.step();
        if (reply.empty() || reply.size() > modbus::MAX_PDU_BYTES) std::abort();
        const auto function = static_cast<unsigned char>(request[0]);
        const auto code = static_cast<unsigned char>(reply[0]);
        if (code == (function | modbus::EXCEPTION_BIT) && reply.size() == 2) {
            if (reply[1] < 1 || reply[1] > 3) std::abort();
        } else if (code != function || (function & modbus::EXCEPTION_BIT)) {
            std::abort();
        }
        // Our client accepts every reply our server gives.
        modbus::Reply parsed = modbus::parse_reply(request, reply);
        if (!parsed.error.empty()) std::abort();
        const std::string adu = modbus::frame(h.transaction, h.unit, reply);
        if (modbus::read_header(adu.data()).length != 1 + reply.size()) std::abort();
        if (++frames > 8) continue;  // the listings of the first frames only: speed
        no_raw_bytes(modbus::describe(modbus::frame(h.transaction, h.unit, request)));
        no_raw_bytes(modbus::describe(adu, request));
        no_raw_bytes(modbus::summary(request, reply));
    }
    // The same bytes as a server's reply to a few requests: never a crash.
    for (const std::string& request :
         {modbus::read_request(3, 0, 5), modbus::read_request(1, 3, 10),
          modbus::write_register_request(9, 4321), modbus::write_registers_request(0, {1, 2})}) {
        std::string pdu = input.size() > 7 ? input.substr(7) : input;
        modbus::parse_reply(request, pdu);
        no_raw_bytes(modbus::describe(input, request));
    }
    no_raw_bytes(modbus::describe(input));
    return 0;
}
