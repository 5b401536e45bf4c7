// Unit tests of ex5's pieces: the datagram format (ex5_udp/datagram.h: byte
// order on the wire, strict SIZE/OK parsing, zlib's CRC-32), the RFC 6298
// timeout (ex5_udp/rto.h), and the in-test UDP relay (tests/udp_relay.h)
// that the end-to-end tests and the bench rely on.
#include <doctest/doctest.h>

#include <set>
#include <string>

#include "../ex5_udp/datagram.h"
#include "../ex5_udp/rto.h"
#include "udp_relay.h"

using namespace lab;
using namespace std::chrono_literals;

TEST_CASE("ex5 header: big-endian on the wire, whatever the machine") {
    std::string d = datagram::encode(datagram::DATA, 0x0102, 0x01020304, "abc");
    CHECK(d == std::string("\xe5" "D" "\x01\x02" "\x01\x02\x03\x04" "abc", 11));
    CHECK(datagram::encode(datagram::ACK, 0, 99, "") == std::string("\xe5" "A\0\0\0\0\0c", 8));
    CHECK(datagram::encode(datagram::GET, 1, 0, "GET x") ==
          std::string("\xe5" "G\0\x01\0\0\0\0" "GET x", 13));
    datagram::Datagram back;
    REQUIRE(datagram::decode(d.data(), d.size(), back));
    CHECK(back.type == datagram::DATA);
    CHECK(back.window == 0x0102);
    CHECK(back.seq == 0x01020304);
    CHECK(back.payload == "abc");
    REQUIRE(datagram::decode("\xe5" "S\0\0\xff\xff\xff\xff", 8, back));
    CHECK(back.seq == 0xffffffffu);
    CHECK(back.payload.empty());
}

TEST_CASE("ex5 header: anything else is not a reliable-mode datagram") {
    datagram::Datagram d;
    CHECK(!datagram::decode("", 0, d));
    CHECK(!datagram::decode("\xe5" "D\0\0\0\0\0", 7, d));         // 7 bytes: short
    CHECK(!datagram::decode("GET iguana.jpg", 14, d));            // plain mode
    CHECK(!datagram::decode("\xe5" "X\0\0\0\0\0\0", 8, d));       // unknown type
    CHECK(!datagram::decode("\xe5\0\0\0\0\0\0\0", 8, d));
    CHECK(!datagram::decode("\xe4" "D\0\0\0\0\0\0", 8, d));       // no mark
}

TEST_CASE("ex5 SIZE and OK: written and read back exactly, nothing else accepted") {
    CHECK(datagram::size_text(100116, 98) == "SIZE 100116 98");
    std::uint64_t bytes = 1, count = 1;
    CHECK(datagram::parse_size("SIZE 100116 98", bytes, count));
    CHECK(bytes == 100116);
    CHECK(count == 98);
    CHECK(datagram::parse_size("SIZE 0 0", bytes, count));
    CHECK(bytes == 0);
    for (const char* bad : {"SIZE", "SIZE ", "SIZE 1", "SIZE 1 ", "SIZE  1 1", "SIZE 01 1",
                            "SIZE 1 1 ", "SIZE -1 1", "SIZE 1 x", "size 1 1", "SIZE 1 1\n",
                            "SIZE 99999999999999999999 1"})
        CHECK_MESSAGE(!datagram::parse_size(bad, bytes, count), bad);
    CHECK(datagram::ok_text(0x21b99b7a) == "OK 21b99b7a");
    CHECK(datagram::ok_text(0) == "OK 00000000");
    std::uint32_t crc = 0;
    CHECK(datagram::parse_ok("OK 21b99b7a", crc));
    CHECK(crc == 0x21b99b7a);
    for (const char* bad : {"OK", "OK ", "OK 21b99b7", "OK 21B99B7A", "OK 21b99b7a ", "OK 21b99b7g"})
        CHECK_MESSAGE(!datagram::parse_ok(bad, crc), bad);
    CHECK(datagram::is_error("ERROR \"x\""));
    CHECK(!datagram::is_error("ERROR \""));
    CHECK(!datagram::is_error("ERROR x"));
}

TEST_CASE("ex5 CRC-32 is zlib's") {
    CHECK(datagram::crc32(0, "", 0) == 0);
    CHECK(datagram::crc32(0, "123456789", 9) == 0xcbf43926u);  // the standard check value
    // In pieces, as the client computes it, datagram by datagram.
    CHECK(datagram::crc32(datagram::crc32(0, "1234", 4), "56789", 5) == 0xcbf43926u);
}

TEST_CASE("ex5 RTO follows RFC 6298, within 200 ms and 3 s") {
    RetransmissionTimeout rto;
    CHECK(rto.seconds() == doctest::Approx(1.0));  // before any sample
    rto.sample(0.100);  // SRTT 100 ms, RTTVAR 50 ms: 100 + 200 = 300 ms
    CHECK(rto.seconds() == doctest::Approx(0.300));
    rto.sample(0.200);  // RTTVAR 3/4 50 + 1/4 100 = 62.5; SRTT 7/8 100 + 1/8 200 = 112.5
    CHECK(rto.seconds() == doctest::Approx(0.1125 + 4 * 0.0625));
    rto.back_off();
    CHECK(rto.seconds() == doctest::Approx(2 * 0.3625));
    for (int i = 0; i < 5; ++i) rto.back_off();
    CHECK(rto.seconds() == doctest::Approx(3.0));  // the maximum
    RetransmissionTimeout shown;  // (values away from a rounding tie: gcc and clang agree)
    shown.sample(0.100);
    shown.sample(0.130);  // RTTVAR 45 ms, SRTT 103.75 ms: 103.75 + 180 = 283.75 ms
    CHECK(shown.text(0.13) == "RTT 130.00 ms: SRTT 103.75 ms, RTTVAR 45.00 ms, timeout 284 ms");
    RetransmissionTimeout lan;
    for (int i = 0; i < 50; ++i) lan.sample(0.0001);  // 100 us on a LAN: the minimum
    CHECK(lan.seconds() == doctest::Approx(0.2));
}

namespace {

// Send `n` numbered datagrams through a relay to a sink; what arrives.
std::vector<std::string> through(LinkSettings to_server, int n, unsigned seed = 7) {
    int sink = udp_socket();
    REQUIRE(sink >= 0);
    std::vector<std::string> got;
    {
        UdpRelay relay(udp_port(sink), to_server, {}, seed);
        int client = udp_socket();
        for (int i = 1; i <= n; ++i) REQUIRE(udp_send(client, relay.port(), std::to_string(i)));
        std::string d;
        while (udp_recv(sink, d, 500ms)) got.push_back(d);
        close(client);
    }
    close(sink);
    return got;
}

}  // namespace

TEST_CASE("udp relay: clean, deterministic drops, loss, duplicates, reordering") {
    SUBCASE("a clean link delivers everything, in order") {
        auto got = through({}, 200);
        REQUIRE(got.size() == 200);
        for (int i = 0; i < 200; ++i) CHECK(got[i] == std::to_string(i + 1));
    }
    SUBCASE("drop(n): exactly the datagrams chosen") {
        LinkSettings s;
        s.drop = [](long n, const std::string&) { return n == 3 || n == 10; };
        auto got = through(s, 12);
        CHECK(got == std::vector<std::string>{"1", "2", "4", "5", "6", "7", "8", "9", "11", "12"});
    }
    SUBCASE("random loss, duplicates and reordering happen, and are counted") {
        LinkSettings s;
        s.loss = 0.1;
        s.duplicate = 0.1;
        s.reorder = 0.1;
        s.delay = 1000us;
        int sink = udp_socket();
        UdpRelay relay(udp_port(sink), s, {}, 42);
        int client = udp_socket();
        std::vector<std::string> got;
        std::string d;
        for (int i = 1; i <= 500; ++i) {
            REQUIRE(udp_send(client, relay.port(), std::to_string(i)));
            if (i % 20 == 0)  // the sink reads as it goes: its buffer never fills
                while (udp_recv(sink, d, 20ms)) got.push_back(d);
        }
        while (udp_recv(sink, d, 500ms)) got.push_back(d);
        LinkCounts c = relay.to_server();
        CHECK(c.received == 500);
        CHECK(c.lost > 20);
        CHECK(c.duplicated > 20);
        CHECK(c.reordered > 20);
        CHECK(static_cast<long>(got.size()) == c.delivered);
        CHECK(c.delivered == 500 - c.lost + c.duplicated);
        std::set<std::string> distinct(got.begin(), got.end());
        CHECK(static_cast<long>(distinct.size()) == 500 - c.lost);
        int inversions = 0;
        for (std::size_t i = 1; i < got.size(); ++i) inversions += std::stoi(got[i]) < std::stoi(got[i - 1]);
        CHECK(inversions > 0);
        close(client);
        close(sink);
    }
}

TEST_CASE("udp relay: answers go back to each client; the server sees one port per client") {
    int server = udp_socket();
    UdpRelay relay(udp_port(server), {}, {});
    int a = udp_socket(), b = udp_socket();
    REQUIRE(udp_send(a, relay.port(), "de a"));
    REQUIRE(udp_send(b, relay.port(), "de b"));
    std::string d;
    int from_1 = 0, from_2 = 0;
    REQUIRE(udp_recv(server, d, 2000ms, &from_1));
    std::string first = d;
    REQUIRE(udp_recv(server, d, 2000ms, &from_2));
    CHECK(from_1 != from_2);
    // Answer each upstream port; the answer reaches the client that used it.
    REQUIRE(udp_send(server, from_1, "para " + first.substr(3)));
    REQUIRE(udp_send(server, from_2, "para " + d.substr(3)));
    std::string at_a, at_b;
    REQUIRE(udp_recv(a, at_a, 2000ms));
    REQUIRE(udp_recv(b, at_b, 2000ms));
    CHECK(at_a == "para a");
    CHECK(at_b == "para b");
    CHECK(relay.upstream_ports().size() == 2);
    close(a);
    close(b);
    close(server);
}

TEST_CASE("udp relay: a rate limit with a full queue drops the excess") {
    LinkSettings s;
    s.rate = 100000;        // 100 kB/s
    s.queue_bytes = 10000;  // 10 datagrams of 1000 bytes may wait
    int sink = udp_socket();
    UdpRelay relay(udp_port(sink), s, {});
    int client = udp_socket();
    for (int i = 0; i < 100; ++i) REQUIRE(udp_send(client, relay.port(), std::string(1000, 'x')));
    std::string d;
    int got = 0;
    while (udp_recv(sink, d, 500ms)) ++got;
    LinkCounts c = relay.to_server();
    CHECK(c.queue_full > 50);  // a burst of 100 kB into a 10 kB queue
    CHECK(got == c.delivered);
    CHECK(got == 100 - c.queue_full);
    close(client);
    close(sink);
}
