// Capture-verified tests: run scripts/capture.sh (tcpdump while a scripted
// session runs) and check, from the capture file alone, what the lab guide
// says the wire carries. Needs root (or CAP_NET_RAW), tcpdump and tshark;
// otherwise the program exits 77, which CTest reports as "Skipped", with
// the reason printed.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "../common/line_reader.h"
#include "../ex2_crypto/token.h"
#include "../ex4_kx/kx.h"
#include "support.h"
#include "tcp_capture.h"

using namespace lab;
namespace fs = std::filesystem;

namespace {

struct Capture : TcpCapture {
    fs::path dir;

    // Run the capture of one example, then read it back with tshark.
    Capture(const std::string& ex, const std::vector<std::string>& settings = {}) {
        std::string t = (fs::temp_directory_path() / "lab-capture-XXXXXX").string();
        REQUIRE(mkdtemp(&t[0]) != nullptr);
        dir = t;
        std::vector<std::string> argv = {"env", "EX=" + ex, "CAPTURE_DIR=" + dir.string()};
        argv.insert(argv.end(), settings.begin(), settings.end());
        argv.push_back(std::string(LAB_SOURCE_DIR) + "/scripts/capture.sh");
        Process run(argv);
        auto code = run.wait_exit(120000ms);
        INFO(run.out() << run.err());
        REQUIRE(code == 0);

        read(dir / (ex + ".pcapng"));
    }
    ~Capture() {
        std::error_code ec;
        fs::remove_all(dir, ec);
    }
};

// The first connection's three-way handshake. Two clients connect at about
// the same time, so their segments may interleave: follow the first stream.
void check_handshake(const Capture& c) {
    std::vector<const Segment*> first;
    for (const Segment& s : c.segments)
        if (s.stream == c.segments[0].stream && first.size() < 3) first.push_back(&s);
    REQUIRE(first.size() == 3);
    CHECK(first[0]->has('S'));
    CHECK(!first[0]->has('A'));
    CHECK(first[1]->has('S'));
    CHECK(first[1]->has('A'));
    CHECK(first[2]->has('A'));
    CHECK(!first[2]->has('S'));
    CHECK(first[2]->len == 0);
}

}  // namespace

TEST_CASE("capture ex1: handshake, the 31-byte message, FIN/ACK close") {
    Capture c("ex1");
    check_handshake(c);
    const std::string ola = "Olá turma de redes industriais";
    bool seen = false;
    for (const Segment* s : c.data(true))
        if (s->payload == ola) {
            CHECK(s->len == 31);
            seen = true;
        }
    CHECK(seen);
    // The server relays the same 31 bytes to both clients.
    int relayed = 0;
    for (const Segment* s : c.data(false)) relayed += s->payload == ola;
    CHECK(relayed == 2);
    int fins_to = 0, fins_from = 0;
    for (const Segment& s : c.segments)
        if (s.has('F')) (s.dst == c.server_port ? fins_to : fins_from) += 1;
    CHECK(fins_to == 2);    // each client's end of input
    CHECK(fins_from == 2);  // the server closes each connection
    CHECK(c.segments.back().has('A'));
}

TEST_CASE("capture ex2: the key is in clear; the capture alone decrypts the chat") {
    REQUIRE(sodium_init() >= 0);
    Capture c("ex2");
    check_handshake(c);
    auto from_server = c.data(false);
    REQUIRE(!from_server.empty());
    const std::string& key_line = from_server[0]->payload;
    CHECK(key_line.size() == 45);
    CHECK(key_line.back() == '\n');
    std::vector<unsigned char> key;
    REQUIRE(token::from_base64(key_line.substr(0, 44), key));
    REQUIRE(key.size() == 32);
    // Every line a client sent decrypts with that key: OK, and the messages.
    std::string line, text;
    std::vector<std::string> plain;
    for (const std::string& stream : c.streams(true)) {
        net::LineReader lines;
        lines.feed(stream.data(), stream.size());
        while (lines.next(line) == net::LineReader::Result::Line) {
            REQUIRE(token::decrypt(key.data(), line, text));
            plain.push_back(text);
        }
    }
    CHECK(std::count(plain.begin(), plain.end(), "OK") == 2);
    CHECK(std::count(plain.begin(), plain.end(), "Olá turma de redes") == 1);
    for (const Segment* s : c.data(true))
        CHECK(s->payload.find("Olá") == std::string::npos);  // never in clear
}

TEST_CASE("capture ex4: S and Es (90), Ec and header (78), header and OK (62), OK (29); text + 17; "
          "nothing decrypts") {
    REQUIRE(sodium_init() >= 0);
    Capture c("ex4");
    check_handshake(c);
    // The first connection's segments: the server's two keys in one send
    // (45 + 45), the client's key and header in one send (45 + 33), the
    // server's header and OK (33 + 29), the client's OK (29), then the
    // messages: "Olá turma de redes" (19 bytes) -> 19 + 17 = 36 -> 48 + '\n'.
    std::vector<const Segment*> from_server, to_server;
    for (const Segment* s : c.data(false))
        if (s->stream == c.segments[0].stream) from_server.push_back(s);
    for (const Segment* s : c.data(true))
        if (s->stream == c.segments[0].stream) to_server.push_back(s);
    REQUIRE(from_server.size() >= 4);
    REQUIRE(to_server.size() >= 3);
    CHECK(from_server[0]->len == 90);
    CHECK(to_server[0]->len == 78);
    CHECK(from_server[1]->len == 62);
    CHECK(to_server[1]->len == 29);
    std::size_t keys = 0, headers = 0, oks = 0, ola = 0, oi = 0;
    std::vector<std::string> lines;
    for (bool up : {true, false})
        for (const std::string& stream : c.streams(up)) {
            std::size_t start = 0;
            for (auto nl = stream.find('\n'); nl != std::string::npos; nl = stream.find('\n', start)) {
                lines.push_back(stream.substr(start, nl - start));
                start = nl + 1;
            }
            CHECK(start == stream.size());  // every byte is in a line
        }
    std::vector<std::vector<unsigned char>> values;  // every key and header seen
    for (const std::string& line : lines) {
        keys += line.size() == 44;
        headers += line.size() == 32;
        oks += line.size() == 28;  // push("OK"): 2 + 17 = 19 -> 28
        ola += line.size() == 48;  // "Olá turma de redes": sent once, relayed twice
        oi += line.size() == 40;   // "Oi! Recebi." (11 bytes): 28 -> 40
        std::vector<unsigned char> data;
        REQUIRE(kx::from_base64(line, data));
        if (data.size() == 32 || data.size() == 24) values.push_back(data);
    }
    CHECK(keys == 6);     // per connection: S, Es and Ec
    CHECK(headers == 4);  // one stream each way per connection
    CHECK(oks == 4);      // the two confirmations per connection
    CHECK(ola == 3);
    CHECK(oi == 3);
    // The ex2 attack, and every other key or header from the capture: the
    // OK and message lines open with none of them.
    for (const std::string& line : lines) {
        if (line.size() != 48 && line.size() != 40 && line.size() != 28) continue;
        std::string text;
        for (const auto& key : values) {
            if (key.size() != 32) continue;
            CHECK(!token::decrypt(key.data(), line, text));
            for (const auto& header : values) {
                if (header.size() != 24) continue;
                kx::Stream s;
                REQUIRE(crypto_secretstream_xchacha20poly1305_init_pull(&s, header.data(), key.data()) == 0);
                CHECK(!kx::open(s, line, text));
            }
        }
    }
    for (const Segment& s : c.segments) {  // never in clear ('á' and '.' are not base64)
        CHECK(s.payload.find("Olá") == std::string::npos);
        CHECK(s.payload.find("Recebi.") == std::string::npos);
    }
}

TEST_CASE("capture ex3: GET is 14 bytes; file size + 2 bytes of OK come back") {
    Capture c("ex3");
    check_handshake(c);
    auto to_server = c.data(true);
    REQUIRE(!to_server.empty());
    CHECK(to_server[0]->payload == "GET iguana.jpg");
    CHECK(to_server[0]->len == 14);
    auto from_server = c.streams(false);
    REQUIRE(from_server.size() == 1);
    const std::string& received = from_server[0];
    CHECK(received.size() == 100116 + 2);
    CHECK(received.substr(received.size() - 2) == "OK");
}

TEST_CASE("capture ex6 (make capture EX=ex6): three Modbus/TCP exchanges, exception 02 last") {
    Capture c("ex6");
    check_handshake(c);
    auto to_server = c.streams(true), from_server = c.streams(false);
    REQUIRE(to_server.size() == 3);
    REQUIRE(from_server.size() == 3);
    CHECK(to_server[0] == unhex("000100000006010300000005"));  // ler 0 5
    CHECK(to_server[1] == unhex("0001000000060106000a10e1"));  // escrever 10 4321
    CHECK(to_server[2] == unhex("000100000006010300630002"));  // ler 99 2
    CHECK(from_server[0].size() == 19);
    CHECK(from_server[1] == to_server[1]);  // a write is echoed
    CHECK(from_server[2] == unhex("000100000003018302"));
}

TEST_CASE("capture ex3, two hosts (veth, MTU 1500): no segment above 1448 bytes") {
    for (const char* chunk : {"1024", "65536"}) {
        CAPTURE(chunk);
        Capture c("ex3", {"NET=veth", std::string("CHUNK=") + chunk});
        check_handshake(c);
        std::size_t largest = 0, at_mss = 0, at_1024 = 0;
        auto data = c.data(false);
        auto from_server = c.streams(false);
        REQUIRE(from_server.size() == 1);
        std::size_t total = from_server[0].size();
        for (const Segment* s : data) {
            largest = std::max(largest, s->len);
            at_mss += s->len == 1448;
            at_1024 += s->len == 1024;
        }
        CHECK(total == 100116 + 2);
        CHECK(largest <= 1448);  // 1500 - 20 (IP) - 32 (TCP with timestamps)
        if (std::string(chunk) == "65536") {
            CHECK(at_mss * 10 >= data.size() * 9);  // nearly all full-sized
        } else {
            // While nothing is queued, each 1024-byte send leaves as its own
            // segment; once sends queue up (window full), TCP fills 1448.
            CHECK(at_1024 >= 5);
            CHECK(data[0]->len == 1024);
        }
    }
}

int main(int argc, char** argv) {
    // The reason to skip, if any, is printed and CTest shows "Skipped".
    const std::string why = first_of({need_root("capturing and network namespaces need root"),
                                      need_tools({"tcpdump", "tshark", "ip"}, "capture")});
    if (!why.empty()) return skip_program(why);
    setenv("LAB_BIN_DIR", LAB_BIN_DIR, 0);  // the programs capture.sh runs
    doctest::Context context(argc, argv);
    return context.run();
}
