// Unit tests of ex6_modbus/: the MBAP header, the requests and replies of each
// function code (the examples of the Modbus Application Protocol spec V1.1b3,
// section 6, moved inside this PLC's 0..99 tables where they fall outside), every
// standard exception, the --detalhes listing, the simulated plant and the
// client's command line.
#include <doctest/doctest.h>

#include <cctype>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "../ex6_modbus/clp.h"
#include "../ex6_modbus/command.h"
#include "../ex6_modbus/details.h"
#include "../ex6_modbus/mbap.h"
#include "../ex6_modbus/pdu.h"
#include "../ex6_modbus/receive_adu.h"

namespace {

// "01 03 cd" -> the bytes.
std::string bytes(const std::string& hex_text) {
    std::string out;
    for (std::size_t i = 0; i + 1 < hex_text.size(); i += 3)
        out += static_cast<char>(std::stoi(hex_text.substr(i, 2), nullptr, 16));
    return out;
}
std::string hex_of(const std::string& b) { return modbus::hex(b, 0, b.size()); }

std::string ask(modbus::Memory& m, const std::string& request_hex) {
    return hex_of(modbus::answer(bytes(request_hex), m));
}

}  // namespace

TEST_CASE("MBAP: frame() counts the unit id in Length, and read_header() reads it back") {
    const std::string adu = modbus::frame(0x1234, 0x11, bytes("03 00 00 00 05"));
    CHECK(hex_of(adu) == "12 34 00 00 00 06 11 03 00 00 00 05");
    modbus::Header h = modbus::read_header(adu.data());
    CHECK(h.transaction == 0x1234);
    CHECK(h.protocol == 0);
    CHECK(h.length == 6);  // 1 (unit id) + 5 (PDU)
    CHECK(h.unit == 0x11);
    CHECK(modbus::check_header(h) == "");
}

TEST_CASE("MBAP: a wrong protocol id or a Length outside 2..254 is refused") {
    modbus::Header h;
    h.length = 6;
    h.protocol = 1;
    CHECK(modbus::check_header(h) == "Protocol Identifier 1 (Modbus é sempre 0)");
    h.protocol = 0;
    for (unsigned length : {0u, 1u, 255u, 260u, 65535u}) {
        h.length = static_cast<std::uint16_t>(length);
        CHECK(modbus::check_header(h) ==
              "Length " + std::to_string(length) + " fora do padrão (2 a 254)");
    }
    for (unsigned length : {2u, 254u}) {
        h.length = static_cast<std::uint16_t>(length);
        CHECK(modbus::check_header(h) == "");
    }
}

TEST_CASE("byte order: 16-bit fields go most significant byte first") {
    std::string out;
    modbus::put16(out, 0x0102);
    CHECK(hex_of(out) == "01 02");
    CHECK(modbus::get16("\x05\xde") == 1502);
}

TEST_CASE("the spec's examples: read coils, read registers, the writes") {
    modbus::Memory m;
    // 6.1 Read Coils 20-38 (address 19, 19 coils): CD 6B 05.
    const std::string status = bytes("cd 6b 05");
    for (unsigned i = 0; i < 19; ++i)
        m.coils[19 + i] = (static_cast<unsigned char>(status[i / 8]) >> (i % 8)) & 1;
    CHECK(ask(m, "01 00 13 00 13") == "01 03 cd 6b 05");
    m.discrete_inputs = m.coils;
    CHECK(ask(m, "02 00 13 00 13") == "02 03 cd 6b 05");
    // 6.3 Read Holding Registers (at address 11 here, not 107): 555, 0, 100.
    m.holding[11] = 0x022b;
    m.holding[13] = 0x0064;
    CHECK(ask(m, "03 00 0b 00 03") == "03 06 02 2b 00 00 00 64");
    m.input[8] = 10;
    CHECK(ask(m, "04 00 08 00 01") == "04 02 00 0a");
    // 6.5 Write Single Coil (address 10 here, not 172): the reply echoes the request.
    CHECK(ask(m, "05 00 0a ff 00") == "05 00 0a ff 00");
    CHECK(m.coils[10] == 1);
    CHECK(ask(m, "05 00 0a 00 00") == "05 00 0a 00 00");
    CHECK(m.coils[10] == 0);
    // 6.6 Write Single Register 2 = 3.
    CHECK(ask(m, "06 00 01 00 03") == "06 00 01 00 03");
    CHECK(m.holding[1] == 3);
    // 6.11 Write Multiple Coils 20-29: CD 01.
    m.coils = {};
    CHECK(ask(m, "0f 00 13 00 0a 02 cd 01") == "0f 00 13 00 0a");
    CHECK(ask(m, "01 00 13 00 0a") == "01 02 cd 01");
    CHECK(m.coils[29] == 0);  // the 11th bit is not written
    // 6.12 Write Multiple Registers 2-3: 000A 0102.
    CHECK(ask(m, "10 00 01 00 02 04 00 0a 01 02") == "10 00 01 00 02");
    CHECK(m.holding[1] == 10);
    CHECK(m.holding[2] == 258);
}

TEST_CASE("exception 01: every function code this server does not have") {
    modbus::Memory m;
    for (int code : {0, 7, 8, 17, 22, 23, 43, 127}) {
        CAPTURE(code);
        std::string request(1, static_cast<char>(code));
        request += bytes("00 00 00 01");
        std::string expected(1, static_cast<char>(code | 0x80));
        CHECK(modbus::answer(request, m) == expected + '\x01');
    }
    // A function code with the exception bit set is not a request either.
    CHECK(ask(m, "83 00 00 00 01") == "83 01");
    CHECK(ask(m, "ff") == "ff 01");
    CHECK(hex_of(modbus::answer("", m)) == "80 01");
}

TEST_CASE("exception 02: an address, or address + quantity, past the end of a table") {
    modbus::Memory m;
    CHECK(ask(m, "03 00 63 00 01") == "03 02 00 00");  // 99: the last one
    CHECK(ask(m, "03 00 63 00 02") == "83 02");        // 99..100
    CHECK(ask(m, "03 00 64 00 01") == "83 02");        // 100
    CHECK(ask(m, "03 ff ff 00 02") == "83 02");        // 65535 + 2 must not wrap to 1
    CHECK(ask(m, "04 00 00 00 7d") == "84 02");        // 125 registers: fine, but past 99
    CHECK(ask(m, "01 00 5a 00 0b") == "81 02");        // 90..100
    CHECK(ask(m, "02 ff ff 07 d0") == "82 02");
    CHECK(ask(m, "05 00 64 ff 00") == "85 02");
    CHECK(ask(m, "06 00 64 00 01") == "86 02");
    CHECK(ask(m, "0f 00 63 00 02 01 03") == "8f 02");
    CHECK(ask(m, "10 00 63 00 02 04 00 01 00 02") == "90 02");
}

TEST_CASE("exception 02 for a read-only register: nothing at all is written") {
    modbus::Memory m;
    m.holding_read_only[0] = true;
    CHECK(ask(m, "06 00 00 00 05") == "86 02");
    CHECK(ask(m, "10 00 00 00 03 06 00 01 00 02 00 03") == "90 02");
    CHECK(m.holding[0] == 0);
    CHECK(m.holding[1] == 0);  // not even the writable ones of the same request
    CHECK(m.holding[2] == 0);
    CHECK(ask(m, "03 00 00 00 01") == "03 02 00 00");  // reading it is fine
}

TEST_CASE("exception 03: quantities outside the standard, bad values, wrong sizes") {
    modbus::Memory m;
    CHECK(ask(m, "03 00 00 00 00") == "83 03");  // 0 registers
    CHECK(ask(m, "03 00 00 00 7e") == "83 03");  // 126 > 125
    CHECK(ask(m, "03 00 c8 00 7e") == "83 03");  // quantity is checked before address
    CHECK(ask(m, "04 00 00 00 7e") == "84 03");
    CHECK(ask(m, "01 00 00 07 d1") == "81 03");  // 2001 > 2000 bits
    CHECK(ask(m, "01 00 00 07 d0") == "81 02");  // 2000 is allowed, but not here
    CHECK(ask(m, "02 00 00 00 00") == "82 03");
    CHECK(ask(m, "03") == "83 03");                 // no data at all
    CHECK(ask(m, "03 00 00 00") == "83 03");        // one byte short
    CHECK(ask(m, "03 00 00 00 01 00") == "83 03");  // one byte too many
    CHECK(ask(m, "05 00 00 12 34") == "85 03");     // a coil is ff00 or 0000
    CHECK(ask(m, "05 00 00 00 ff") == "85 03");
    CHECK(ask(m, "06 00 00 00") == "86 03");
    CHECK(ask(m, "0f 00 00 00 0a 01 ff") == "8f 03");        // 10 bits need 2 bytes
    CHECK(ask(m, "0f 00 00 00 0a 02 ff") == "8f 03");        // byte count says 2, 1 came
    CHECK(ask(m, "0f 00 00 07 b1 f7") == "8f 03");           // 1969 > 1968
    CHECK(ask(m, "10 00 00 00 02 04 00 01") == "90 03");     // 2 registers, 2 bytes came
    CHECK(ask(m, "10 00 00 00 02 03 00 01 00") == "90 03");  // byte count 3 for 2
    CHECK(ask(m, "10 00 00 00 7c f8") == "90 03");           // 124 > 123
    CHECK(ask(m, "10 00 00") == "90 03");
}

TEST_CASE("parse_reply: values, exceptions, and replies that do not match the request") {
    const std::string read = modbus::read_request(modbus::READ_HOLDING_REGISTERS, 0, 2);
    modbus::Reply ok = modbus::parse_reply(read, bytes("03 04 01 f4 00 fa"));
    CHECK(ok.error == "");
    CHECK(ok.values == std::vector<std::uint16_t>{500, 250});
    modbus::Reply ex = modbus::parse_reply(read, bytes("83 02"));
    CHECK(ex.error == "");
    CHECK(ex.exception == 2);
    CHECK(modbus::parse_reply(read, bytes("83 02 00")).error != "");
    CHECK(modbus::parse_reply(read, bytes("83 00")).error != "");
    CHECK(modbus::parse_reply(read, bytes("04 04 01 f4 00 fa")).error ==
          "a resposta é da função 4, o pedido foi da 3");
    CHECK(modbus::parse_reply(read, bytes("03 02 01 f4")).error != "");        // 1 of 2
    CHECK(modbus::parse_reply(read, bytes("03 04 01 f4 00")).error != "");     // cut
    CHECK(modbus::parse_reply(read, bytes("03 06 01 f4 00 fa 00 00")).error != "");
    CHECK(modbus::parse_reply(read, "").error != "");

    const std::string coils = modbus::read_request(modbus::READ_COILS, 0, 10);
    modbus::Reply bits = modbus::parse_reply(coils, bytes("01 02 05 02"));
    CHECK(bits.values == std::vector<std::uint16_t>{1, 0, 1, 0, 0, 0, 0, 0, 0, 1});
    CHECK(modbus::parse_reply(coils, bytes("01 01 05")).error != "");

    const std::string write = modbus::write_register_request(9, 4321);
    CHECK(hex_of(write) == "06 00 09 10 e1");
    CHECK(modbus::parse_reply(write, write).error == "");
    CHECK(modbus::parse_reply(write, bytes("06 00 09 10 e2")).error == "a resposta não repete o pedido");
    const std::string many = modbus::write_registers_request(20, {1, 2});
    CHECK(hex_of(many) == "10 00 14 00 02 04 00 01 00 02");
    CHECK(modbus::parse_reply(many, bytes("10 00 14 00 02")).error == "");
    CHECK(modbus::parse_reply(many, bytes("10 00 14 00 03")).error != "");
    CHECK(hex_of(modbus::write_coils_request(0, {true, false, true})) == "0f 00 00 00 03 01 05");
    CHECK(hex_of(modbus::write_coil_request(3, true)) == "05 00 03 ff 00");
    // What does not fit in a 253-byte PDU is not built at all.
    CHECK(modbus::write_registers_request(0, std::vector<std::uint16_t>(123, 1)).size() == 252);
    CHECK(modbus::write_registers_request(0, std::vector<std::uint16_t>(124, 1)) == "");
    CHECK(modbus::write_registers_request(0, {}) == "");
}

TEST_CASE("--detalhes: every field, with Wireshark's names, in Wireshark's order") {
    const std::string request = modbus::read_request(modbus::READ_HOLDING_REGISTERS, 0, 2);
    const std::string listing = modbus::describe(modbus::frame(7, 1, request));
    std::size_t at = 0;
    for (const char* field : {"Modbus/TCP", "00 07       Transaction Identifier: 7",
                              "00 00       Protocol Identifier: 0", "00 06       Length: 6",
                              "01          Unit Identifier: 1", "Modbus",
                              "03          Function Code: Read Holding Registers (3)",
                              "00 00       Reference Number: 0", "00 02       Word Count: 2"}) {
        CAPTURE(field);
        at = listing.find(field, at);
        CHECK(at != std::string::npos);
    }
    const std::string reply = modbus::describe(modbus::frame(7, 1, bytes("03 04 01 f4 00 fa")), request);
    CHECK(reply.find("04          Byte Count: 4") != std::string::npos);
    CHECK(reply.find("01 f4       Register 0 (UINT16): 500") != std::string::npos);
    CHECK(reply.find("00 fa       Register 1 (UINT16): 250") != std::string::npos);
    const std::string exception = modbus::describe(modbus::frame(7, 1, bytes("83 02")), request);
    CHECK(exception.find("83          Function Code: Read Holding Registers (3)") != std::string::npos);
    CHECK(exception.find("02          Exception Code: Illegal data address (2)") != std::string::npos);
    const std::string write = modbus::describe(modbus::frame(1, 1, bytes("06 00 09 10 e1")));
    CHECK(write.find("10 e1       Data: 10e1  (Register Value: 4321)") != std::string::npos);
}

TEST_CASE("exception codes are written as the spec writes them: 01 ... 0A, 0B") {
    CHECK(modbus::exception_code_text(2) == "02");
    CHECK(modbus::exception_code_text(10) == "0A");
    const std::string request = modbus::read_request(modbus::READ_HOLDING_REGISTERS, 0, 1);
    CHECK(modbus::summary(request, bytes("83 0b")) ==
          "Read Holding Registers 0: exceção 0B (Gateway target device failed to respond)");
    CHECK(modbus::summary(request, bytes("83 04")) == "Read Holding Registers 0: exceção 04 (Slave device failure)");
}

TEST_CASE("--detalhes never prints a raw byte from the network, whatever it gets") {
    std::mt19937 gen(6);
    for (int round = 0; round < 2000; ++round) {
        std::string adu(gen() % 40, '\0');
        for (char& c : adu) c = static_cast<char>(gen());
        std::string request(gen() % 8, '\0');
        for (char& c : request) c = static_cast<char>(gen());
        int raw = 0;
        for (const std::string& text : {modbus::describe(adu), modbus::describe(adu, request),
                                        modbus::summary(request, adu)})
            for (unsigned char c : text) raw += c < 0x20 && c != '\n';
        CHECK_MESSAGE(raw == 0, "round " << round);
    }
}

TEST_CASE("the plant: the level moves on its own, and the automatic mode switches the pump") {
    Plant plant;
    CHECK(plant.memory.holding[Plant::LEVEL] == 500);
    CHECK(plant.memory.holding[Plant::HIGH_LIMIT] == 800);
    CHECK(plant.memory.holding[Plant::ORDER_EXAMPLE] == 258);
    CHECK(plant.memory.coils[Plant::AUTOMATIC] == 1);
    CHECK(plant.memory.coils[Plant::PUMP] == 0);
    plant.step();
    CHECK(plant.memory.holding[Plant::LEVEL] == 498);  // pump off: it drains
    CHECK(plant.memory.input[0] == 498);
    for (int i = 0; i < 200 && plant.memory.coils[Plant::PUMP] == 0; ++i) plant.step();
    CHECK(plant.memory.coils[Plant::PUMP] == 1);  // the low limit switched it on
    CHECK(plant.memory.holding[Plant::LEVEL] <= 204);
    for (int i = 0; i < 200 && plant.memory.discrete_inputs[0] == 0; ++i) plant.step();
    CHECK(plant.memory.holding[Plant::LEVEL] == 800);  // discrete input 0: high level
    CHECK(plant.memory.coils[Plant::PUMP] == 1);
    plant.step();
    CHECK(plant.memory.coils[Plant::PUMP] == 0);  // and the high limit switched it off
    CHECK(plant.memory.holding[Plant::LEVEL] == 798);
    // Out of automatic, the pump does what it is told, to the brim.
    CHECK(ask(plant.memory, "0f 00 00 00 02 01 01") == "0f 00 00 00 02");
    for (int i = 0; i < 300; ++i) plant.step();
    CHECK(plant.memory.holding[Plant::LEVEL] == 1000);
    CHECK(ask(plant.memory, "06 00 00 00 05") == "86 02");  // measurements are read-only
}

TEST_CASE("client command line: each command's request, and what is refused") {
    auto build = [](std::vector<std::string> words, Command& c) { return build_command(words, c); };
    Command c;
    CHECK(build({"ler", "0", "5"}, c) == "");
    CHECK(hex_of(c.pdu) == "03 00 00 00 05");
    CHECK(c.label == "registrador");
    Command one;
    CHECK(build({"ler-bobinas", "7"}, one) == "");
    CHECK(hex_of(one.pdu) == "01 00 07 00 01");
    Command w;
    CHECK(build({"escrever", "9", "4321"}, w) == "");
    CHECK(hex_of(w.pdu) == "06 00 09 10 e1");
    Command coil;
    CHECK(build({"escrever-bobina", "0", "1"}, coil) == "");
    CHECK(hex_of(coil.pdu) == "05 00 00 ff 00");
    Command coils;
    CHECK(build({"escrever-bobinas", "0", "1", "0", "1"}, coils) == "");
    CHECK(hex_of(coils.pdu) == "0f 00 00 00 03 01 05");
    Command regs;
    CHECK(build({"escrever-varios", "20", "1", "2"}, regs) == "");
    CHECK(hex_of(regs.pdu) == "10 00 14 00 02 04 00 01 00 02");
    Command raw;
    CHECK(build({"pdu", "07", "FF"}, raw) == "");
    CHECK(hex_of(raw.pdu) == "07 ff");
    // The server judges the protocol's limits (exception 03), so 126 is sent as is.
    Command big;
    CHECK(build({"ler", "0", "126"}, big) == "");
    Command bad;
    CHECK(build({"ler", "65536"}, bad) == "\"65536\" não é um número de 0 a 65535");
    CHECK(build({"ler", "x"}, bad) != "");
    CHECK(build({"ler"}, bad) != "");
    CHECK(build({"escrever-bobina", "0", "2"}, bad) == "uma bobina é 0 ou 1");
    CHECK(build({"escrever", "0"}, bad) != "");
    CHECK(build({"pdu"}, bad) != "");
    CHECK(build({"pdu", "0x7"}, bad) != "");
    std::vector<std::string> many = {"escrever-varios", "0"};
    many.resize(2 + 124, "1");
    CHECK(build(many, bad) == "valores demais: a PDU passaria de 253 bytes");
}

TEST_CASE("the plant refuses a high limit below the low limit (exception 03), and writes nothing") {
    Plant plant;
    // Register 3 (low limit) = 900, above the high limit's 800: refused.
    CHECK(hex_of(plant.answer(bytes("06 00 03 03 84"))) == "86 03");
    CHECK(plant.memory.holding[Plant::LOW_LIMIT] == 200);
    // Register 2 (high limit) = 100, below the low limit's 200: refused.
    CHECK(hex_of(plant.answer(bytes("06 00 02 00 64"))) == "86 03");
    CHECK(plant.memory.holding[Plant::HIGH_LIMIT] == 800);
    // Both at once (function 16), the wrong way round: nothing is written.
    CHECK(hex_of(plant.answer(bytes("10 00 02 00 02 04 00 64 03 84"))) == "90 03");
    CHECK(plant.memory.holding[Plant::HIGH_LIMIT] == 800);
    CHECK(plant.memory.holding[Plant::LOW_LIMIT] == 200);
    // The right way round, and equal limits, are accepted.
    CHECK(hex_of(plant.answer(bytes("10 00 02 00 02 04 03 84 00 64"))) == "10 00 02 00 02");
    CHECK(plant.memory.holding[Plant::HIGH_LIMIT] == 900);
    CHECK(plant.memory.holding[Plant::LOW_LIMIT] == 100);
    CHECK(hex_of(plant.answer(bytes("06 00 03 03 84"))) == "06 00 03 03 84");
    CHECK(plant.memory.holding[Plant::LOW_LIMIT] == 900);
    // Other registers are written as before.
    CHECK(hex_of(plant.answer(bytes("10 00 0a 00 02 04 00 01 00 02"))) == "10 00 0a 00 02");
}

TEST_CASE("the client's timeout message says REPLY_TIMEOUT's seconds, whatever they are") {
    modbus::Receipt silent;
    silent.what = modbus::Received::Nothing;
    silent.stop = modbus::Stop::TimedOut;
    silent.wanted = 7;
    CHECK(modbus::reply_failure(silent, 3.0) == "resposta incompleta: o servidor não respondeu em 3 s");
    CHECK(modbus::reply_failure(silent, 5.0) == "resposta incompleta: o servidor não respondeu em 5 s");
    // The server's --prazo line, likewise.
    CHECK(modbus::request_failure(silent, 7.0) == "ficou 7 s sem enviar nada (--prazo)");
    modbus::Receipt closed = silent;
    closed.stop = modbus::Stop::PeerClosed;
    CHECK(modbus::request_failure(closed, 7.0) == "");  // closed between two messages: normal
    CHECK(modbus::reply_failure(closed, 5.0) ==
          "resposta incompleta: o servidor fechou a conexão (0 de 7 bytes recebidos)");
}

// A function named in a comment of one of ex6's protocol headers, as "name()", is
// one that header defines (clp.h once named a describe() that Plant does not have).
TEST_CASE("every name() in the comments of clp.h, mbap.h, pdu.h and receive_adu.h is defined there") {
    int named = 0;
    for (const char* file : {"clp.h", "mbap.h", "pdu.h", "receive_adu.h"}) {
        CAPTURE(file);
        std::ifstream in(std::string(LAB_SOURCE_DIR) + "/ex6_modbus/" + file);
        REQUIRE(in);
        std::string code;  // the file without its comments
        std::vector<std::string> comments;
        for (std::string line; std::getline(in, line);) {
            const std::size_t at = line.find("//");
            code += line.substr(0, at) + "\n";
            if (at != std::string::npos) comments.push_back(line.substr(at));
        }
        for (const std::string& text : comments) {
            for (std::size_t at = text.find("()"); at != std::string::npos; at = text.find("()", at + 2)) {
                std::size_t start = at;
                while (start > 0 && (std::isalnum(static_cast<unsigned char>(text[start - 1])) || text[start - 1] == '_'))
                    --start;
                const std::string name = text.substr(start, at - start);
                if (name.empty() || name == "recv") continue;  // recv() is the system's
                ++named;
                CAPTURE(text);
                CHECK_MESSAGE(code.find(" " + name + "(") != std::string::npos, name << "() is not defined here");
            }
        }
    }
    CHECK(named >= 2);
}

// Exercise 7's answer (PROFESSOR.md): with limits 800 and 200, the automatic mode
// keeps the pump off for 300 cycles of 100 ms (30 s) and on for 150 (15 s).
TEST_CASE("the plant: 300 cycles off, 150 on, in automatic mode") {
    Plant plant;
    int steps = 0;
    for (; plant.memory.coils[Plant::PUMP] == 0 && steps < 1000; ++steps) plant.step();
    REQUIRE(plant.memory.coils[Plant::PUMP] == 1);  // the low limit switched it on
    auto run_length = [&](std::uint8_t state) {
        int n = 0;
        for (; plant.memory.coils[Plant::PUMP] == state && n < 1000; ++n) plant.step();
        return n;
    };
    CHECK(run_length(1) == 150);
    CHECK(run_length(0) == 300);
    CHECK(run_length(1) == 150);
}
