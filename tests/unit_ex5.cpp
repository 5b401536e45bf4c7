// Unit tests of ex5's pieces: the datagram format (ex5_udp/datagram.h: byte
// order on the wire, strict SIZE/OK parsing, zlib's CRC-32), the RFC 6298
// timeout (ex5_udp/rto.h), and the in-test UDP relay (tests/udp_relay.h)
// that the end-to-end tests and the bench rely on.
#include <doctest/doctest.h>

#include <cstdio>
#include <random>
#include <set>
#include <string>

#include "../ex3_files/transfer_clock.h"
#include "../ex5_udp/datagram.h"
#include "../ex5_udp/rto.h"
#include "../ex5_udp/sender.h"
#include "../ex5_udp/transfers.h"
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

TEST_CASE("udp relay: a rate limit with a full queue drops the excess (in bytes or in datagrams)") {
    LinkSettings s;
    s.rate = 100000;  // 100 kB/s: 10 ms per datagram of 1000 bytes
    int n = 0;
    SUBCASE("10 kB may wait") {
        s.queue_bytes = 10000;  // 10 datagrams of 1000 bytes
        n = 100;
    }
    SUBCASE("16 datagrams may wait (drop-tail, the bench's bottleneck)") {
        s.queue_datagrams = 16;
        n = 60;
    }
    int sink = udp_socket();
    UdpRelay relay(udp_port(sink), s, {});
    int client = udp_socket();
    for (int i = 0; i < n; ++i) REQUIRE(udp_send(client, relay.port(), std::string(1000, 'x')));
    std::string d;
    int got = 0;
    while (udp_recv(sink, d, 500ms)) ++got;
    LinkCounts c = relay.to_server();
    CHECK(got == c.delivered);
    CHECK(got == n - c.queue_full);
    if (s.queue_datagrams == 0) {
        CHECK(c.queue_full > 50);  // a burst of 100 kB into a 10 kB queue
    } else {
        // A burst in well under 10 ms: one on the link, 16 waiting, the rest dropped
        // (a slow machine lets one or two more leave during the burst).
        CHECK(c.delivered >= 17);
        CHECK(c.delivered <= 22);
    }
    close(client);
    close(sink);
}

// ---- the reliable sender (ex5_udp/sender.h), on a virtual clock ---------------
//
// Each test is a script of steps: what may leave, an ACK, the clock moving.
// The SIZE's number is drawn at random in every run (a hard-coded number
// fails), and a failure prints every step that led to it.

namespace {

using Sender = ReliableSender;

std::string ack_name(Sender::Ack a) {
    switch (a) {
    case Sender::Ack::IGNORED: return "IGNORED";
    case Sender::Ack::NEW: return "NEW";
    case Sender::Ack::REPEATED: return "REPEATED";
    case Sender::Ack::FAST_RESEND: return "FAST_RESEND";
    case Sender::Ack::DONE: return "DONE";
    }
    return "?";
}

std::string time_name(Sender::Time t) {
    return t == Sender::Time::WAIT ? "WAIT" : t == Sender::Time::RESEND ? "RESEND" : "GIVE_UP";
}

struct Script {
    std::uint32_t first;
    Sender sender;
    double now = 0;
    std::string log;  // every step so far, printed by INFO on a failure

    Script(std::uint32_t count, unsigned window, bool control, std::uint32_t isn = std::random_device{}())
        : first(isn), sender(isn, count, window, control) {
        log = "\nfirst=" + std::to_string(first) + " count=" + std::to_string(count) + " window=" +
              std::to_string(window) + (control ? " control" : " fixed") + "\n";
        sender.received(datagram::REQUEST_SIZE);
    }
    void step(const std::string& what) {
        char t[32];
        std::snprintf(t, sizeof t, "t=%.3f ", now);
        log += t + what + " -> " + sender.state() + "\n";
    }
    // "send": everything that may leave now (numbers counted from the SIZE).
    std::vector<std::uint32_t> send(std::size_t bytes = 1032) {
        std::vector<std::uint32_t> out;
        while (auto s = sender.next()) {
            if (!sender.affordable(bytes)) break;
            REQUIRE(s->seq == first + s->number);
            sender.sent(*s, bytes, now);
            out.push_back(s->number);
        }
        std::string what = "send:";
        for (auto n : out) what += " " + std::to_string(n);
        step(what);
        return out;
    }
    Sender::Ack ack(std::uint32_t number) {  // the client expects `number` next
        Sender::Ack a = sender.on_ack(first + number, now);
        step("ACK " + std::to_string(number) + ": " + ack_name(a));
        return a;
    }
    // `n` round trips: all that may leave goes, and 10 ms later every one is acknowledged.
    void round_trips(int n) {
        for (int i = 0; i < n; ++i) {
            std::vector<std::uint32_t> sent = send();
            now += 0.010;
            for (std::uint32_t x : sent) ack(x + 1);
        }
    }
    Sender::Time tick(double seconds) {
        now += seconds;
        Sender::Time t = sender.on_time(now);
        step("tick " + std::to_string(static_cast<int>(seconds * 1000 + 0.5)) + " ms: " + time_name(t));
        return t;
    }
};

std::vector<std::uint32_t> range(std::uint32_t from, std::uint32_t to) {  // from..to
    std::vector<std::uint32_t> v;
    for (std::uint32_t i = from; i <= to; ++i) v.push_back(i);
    return v;
}

}  // namespace

TEST_CASE("sender: before the SIZE is acknowledged, only the SIZE, within 3x what arrived") {
    Script s(100, 256, true);
    INFO(s.log);
    CHECK(s.send() == std::vector<std::uint32_t>{0});  // the SIZE, and nothing else yet
    CHECK(s.send().empty());
    CHECK(s.tick(0.999) == Sender::Time::WAIT);  // 1 s before any RTT sample
    CHECK(s.tick(0.001) == Sender::Time::RESEND);
    CHECK(s.sender.next()->again);
    CHECK(s.send() == std::vector<std::uint32_t>{0});
    // A forged ACK (a guess without the SIZE's number) unlocks nothing.
    CHECK(s.sender.on_ack(1, s.now) == (s.first == 0 ? Sender::Ack::NEW : Sender::Ack::IGNORED));
    CHECK(!s.sender.verified() == (s.first != 0));
    // A 20-byte request from a forged address: 60 bytes of SIZE at most, resends counted.
    Sender small(s.first, 100, 256, false);
    small.received(20);
    double now = 0;
    int sizes = 0;
    for (int i = 0; i < 20; ++i, now += 3.5) {
        if (small.on_time(now) == Sender::Time::GIVE_UP) break;
        if (auto n = small.next(); n && small.affordable(25)) {
            small.sent(*n, 25, now);
            ++sizes;
        }
    }
    CHECK(sizes == 2);
    CHECK(small.spent() <= 60);
}

TEST_CASE("sender: slow start doubles what is in flight every round trip") {
    Script s(1000, 256, true);
    INFO(s.log);
    CHECK(s.send() == std::vector<std::uint32_t>{0});
    s.now += 0.010;
    CHECK(s.ack(1) == Sender::Ack::NEW);  // cwnd 2
    CHECK(s.sender.cwnd() == doctest::Approx(2));
    std::uint32_t next = 1;
    for (std::uint32_t round = 1; round <= 6; ++round) {  // 2, 4, 8, 16, 32, 64 per round trip
        std::vector<std::uint32_t> sent = s.send();
        CHECK(sent == range(next, next + (1u << round) - 1));
        s.now += 0.010;
        for (std::uint32_t n : sent) CHECK(s.ack(n + 1) == Sender::Ack::NEW);
        next += 1u << round;
    }
    CHECK(s.sender.cwnd() == doctest::Approx(128));
    CHECK(s.sender.rto().seconds() == doctest::Approx(0.2));  // 10 ms samples: the minimum
}

TEST_CASE("sender: a timeout halves ssthresh, resets cwnd to 1 and goes back to base") {
    Script s(1000, 256, true);
    INFO(s.log);
    s.send();
    s.now += 0.010;
    s.ack(1);
    CHECK(s.send() == range(1, 2));
    s.now += 0.010;
    s.ack(2);
    s.ack(3);  // cwnd 4
    CHECK(s.send() == range(3, 6));
    s.now += 0.010;
    s.ack(4);                             // 3 arrived; 4, 5 and 6 were lost (nothing more comes)
    CHECK(s.send() == range(7, 8));       // cwnd 5: 4 in flight + ... window moves
    CHECK(s.sender.flight() == 5);
    CHECK(s.tick(0.199) == Sender::Time::WAIT);   // RTO 200 ms after the ACK that moved base
    CHECK(s.tick(0.001) == Sender::Time::RESEND);
    CHECK(s.sender.ssthresh() == doctest::Approx(2.5));  // max(5 / 2, 2)
    CHECK(s.sender.cwnd() == doctest::Approx(1));
    CHECK(s.sender.rto().seconds() == doctest::Approx(0.4));  // backed off
    CHECK(s.send() == std::vector<std::uint32_t>{4});          // one, from base
    CHECK(s.tick(0.399) == Sender::Time::WAIT);
    CHECK(s.tick(0.001) == Sender::Time::RESEND);
    CHECK(s.sender.ssthresh() == doctest::Approx(2.5));  // the same base again: kept (RFC 5681, 3.1)
    CHECK(s.sender.rto().seconds() == doctest::Approx(0.8));
    CHECK(s.send() == std::vector<std::uint32_t>{4});
}

TEST_CASE("sender: a second timeout of the same datagram keeps ssthresh (RFC 5681, 3.1)") {
    Script s(1000, 256, true);
    INFO(s.log);
    s.round_trips(4);  // the SIZE, then cwnd 2 -> 4 -> 8 -> 16
    const std::uint32_t base = s.sender.base();
    CHECK(s.send() == range(base, base + 15));  // 16 in flight, all lost
    CHECK(s.tick(0.200) == Sender::Time::RESEND);
    CHECK(s.sender.ssthresh() == doctest::Approx(8));  // 16 in flight / 2
    CHECK(s.sender.cwnd() == doctest::Approx(1));
    CHECK(s.send() == std::vector<std::uint32_t>{base});  // the resend is lost too
    CHECK(s.tick(0.400) == Sender::Time::RESEND);       // the timer resends the same base again
    CHECK(s.sender.ssthresh() == doctest::Approx(8));   // not max(1 / 2, 2) = 2
    CHECK(s.sender.cwnd() == doctest::Approx(1));
    CHECK(s.send() == std::vector<std::uint32_t>{base});
    s.now += 0.010;
    CHECK(s.ack(base + 1) == Sender::Ack::NEW);  // it arrived: slow start up to 8 again
    CHECK(s.sender.cwnd() == doctest::Approx(2));
    CHECK(s.send() == range(base + 1, base + 2));  // a new base: lost, timed out once
    CHECK(s.tick(0.800) == Sender::Time::RESEND);  // (the RTO stays backed off: no sample, Karn)
    CHECK(s.sender.ssthresh() == doctest::Approx(2));  // a new datagram: max(2 / 2, 2)
}

TEST_CASE("sender: the third duplicate ACK resends at once, with cwnd halved; once per loss") {
    Script s(1000, 256, true);
    INFO(s.log);
    s.send();
    s.ack(1);
    s.round_trips(3);  // cwnd 2 -> 4 -> 8 -> 16
    const std::uint32_t next = s.sender.base();
    CHECK(s.sender.cwnd() == doctest::Approx(16));
    CHECK(s.send() == range(next, next + 15));
    s.now += 0.010;
    // `next` was lost; the 15 after it arrive and each brings ACK `next` again.
    CHECK(s.ack(next) == Sender::Ack::REPEATED);
    CHECK(s.ack(next) == Sender::Ack::REPEATED);
    CHECK(s.ack(next) == Sender::Ack::FAST_RESEND);  // the third duplicate
    CHECK(s.sender.ssthresh() == doctest::Approx(8));  // 16 in flight / 2
    CHECK(s.sender.cwnd() == doctest::Approx(8));
    // Go-Back-N from base: the base at once; the rest as the old ones leave the network
    // (16 were in flight, 3 of them brought the duplicates: 13 still in the bottleneck's queue).
    CHECK(s.send() == std::vector<std::uint32_t>{next});
    std::vector<std::uint32_t> after;
    for (int i = 0; i < 12; ++i) {  // the other 12 duplicates: no new halving
        CHECK(s.ack(next) == Sender::Ack::REPEATED);
        for (std::uint32_t n : s.send()) after.push_back(n);
    }
    CHECK(after == range(next + 1, next + 6));  // 13 - 12 = 1 old one left: 1 + 6 + 1 = cwnd 8
    CHECK(s.sender.cwnd() == doctest::Approx(8));
    // The resent ones arrive: congestion avoidance now (cwnd == ssthresh): +1/cwnd per ACK.
    CHECK(s.ack(next + 1) == Sender::Ack::NEW);
    CHECK(s.sender.cwnd() == doctest::Approx(8 + 1.0 / 8));
    CHECK(s.send() == range(next + 7, next + 8));  // the old ones are gone: 8 in flight again
    for (std::uint32_t n = next + 2; n <= next + 8; ++n) s.ack(n);
    CHECK(s.sender.cwnd() == doctest::Approx(9).epsilon(0.01));  // about +1 per round trip
}

TEST_CASE("sender: Karn's rule: the ACK of a resent datagram gives no RTT sample") {
    Script s(10, 4, false);
    INFO(s.log);
    CHECK(s.send() == std::vector<std::uint32_t>{0});
    s.now += 0.050;
    s.ack(1);
    REQUIRE(s.sender.sample());
    CHECK(*s.sender.sample() == doctest::Approx(0.050));
    CHECK(s.sender.rto().seconds() == doctest::Approx(0.2));  // 50 + 4 x 25 = 150 ms: the minimum
    CHECK(s.send() == range(1, 4));
    CHECK(s.tick(s.sender.rto().seconds()) == Sender::Time::RESEND);
    CHECK(s.send() == range(1, 4));  // again: all resent
    s.now += 0.002;
    CHECK(s.ack(2) == Sender::Ack::NEW);
    CHECK(!s.sender.sample());  // 1 was sent twice: which send does this ACK answer?
    CHECK(s.send() == std::vector<std::uint32_t>{5});  // 5 never left before
    s.now += 0.030;
    s.ack(3);
    CHECK(!s.sender.sample());
    s.ack(6);  // acknowledges 5, sent once: a sample
    REQUIRE(s.sender.sample());
    CHECK(*s.sender.sample() == doctest::Approx(0.030));
}

TEST_CASE("sender: a fixed window keeps N in flight whatever is lost (--sem-controle)") {
    Script s(1000, 64, false);
    INFO(s.log);
    s.send();
    s.ack(1);
    CHECK(s.send() == range(1, 64));
    CHECK(s.tick(1.0) == Sender::Time::RESEND);
    CHECK(s.sender.cwnd() == doctest::Approx(64));
    CHECK(s.send() == range(1, 64));  // the whole window again
}

TEST_CASE("sender: old, repeated and never-sent ACKs change nothing; the OK's ACK ends it") {
    Script s(3, 8, true);
    INFO(s.log);
    s.send();
    s.ack(1);
    CHECK(s.send() == range(1, 2));
    CHECK(s.ack(7) == Sender::Ack::IGNORED);     // beyond what was sent
    CHECK(s.ack(0) == Sender::Ack::IGNORED);     // before base
    CHECK(s.sender.on_ack(s.first - 1, s.now) == Sender::Ack::IGNORED);
    CHECK(s.ack(3) == Sender::Ack::NEW);
    CHECK(s.send() == range(3, 4));  // the last datagram and the OK (number 4)
    CHECK(s.ack(5) == Sender::Ack::DONE);
    CHECK(!s.sender.next());
}

TEST_CASE("sender: 10 s without anything new: give up") {
    Script s(10, 4, true);
    INFO(s.log);
    s.send();
    int resends = 0;
    for (int i = 0; i < 100; ++i) {
        Sender::Time t = s.tick(0.5);
        if (t == Sender::Time::GIVE_UP) break;
        if (t == Sender::Time::RESEND) {
            ++resends;
            CHECK(s.send(30) == std::vector<std::uint32_t>{0});
        }
    }
    CHECK(s.now == doctest::Approx(12));  // the first timeout after 10 s of nothing: 9 + 3
    CHECK(resends == 4);  // at 1, 3, 6 and 9 s (RTO 1, 2, 3, 3: the maximum)
}

// The end, as ex5_udp/README.md ("O fim") tells it: with the RTO at its minimum,
// an OK whose ACK never comes is resent at +0.2, +0.6, +1.4 s... (the client
// listens 0.5 s after the last datagram it got: the gap 0.6 -> 1.4 s is the
// first it cannot bridge), and the server gives up 12 s after the OK, at the
// first timeout past 10 s without a new ACK.
TEST_CASE("sender: an OK never acknowledged: resent at +0.2 and +0.6 s, given up at +12 s") {
    Script s(2, 1, true);
    INFO(s.log);
    for (std::uint32_t n = 0; n <= 2; ++n) {  // SIZE and 2 datagrams, 1 ms round trips
        CHECK(s.send() == std::vector<std::uint32_t>{n});
        CHECK(s.tick(0.001) == Sender::Time::WAIT);
        CHECK(s.ack(n + 1) == Sender::Ack::NEW);
    }
    CHECK(s.sender.rto().seconds() == doctest::Approx(0.2));
    CHECK(s.send() == std::vector<std::uint32_t>{3});  // the OK
    const double ok_at = s.now;
    std::vector<double> resent_at;
    for (int i = 0; i < 20; ++i) {
        Sender::Time t = s.tick(s.sender.deadline() - s.now);
        if (t == Sender::Time::GIVE_UP) break;
        REQUIRE(t == Sender::Time::RESEND);
        CHECK(s.send() == std::vector<std::uint32_t>{3});
        resent_at.push_back(s.now - ok_at);
    }
    const std::vector<double> expected = {0.2, 0.6, 1.4, 3.0, 6.0, 9.0};
    REQUIRE(resent_at.size() == expected.size());
    for (std::size_t i = 0; i < expected.size(); ++i) CHECK(resent_at[i] == doctest::Approx(expected[i]));
    CHECK(s.now - ok_at == doctest::Approx(12.0));
}

TEST_CASE("sender: numbers wrap around 2^32; a file too big for 32 bits is refused") {
    Script s(5, 8, true, 0xfffffffeu);  // SIZE 0xfffffffe, data 0xffffffff, 0, 1, ...
    INFO(s.log);
    CHECK(s.send() == std::vector<std::uint32_t>{0});
    CHECK(s.sender.on_ack(0xffffffffu, 0) == Sender::Ack::NEW);
    CHECK(s.send() == range(1, 2));
    CHECK(s.sender.on_ack(1, 0) == Sender::Ack::NEW);  // 0xfffffffe + 3: acknowledges 1 and 2
    CHECK(s.sender.base() == 3);
    // The numbers 0 (SIZE) to count + 2 (the ACK of the OK) must all differ in 32 bits.
    CHECK(!Sender::too_big(0xfffffffdu));
    CHECK(Sender::too_big(0xfffffffeu));  // its OK's ACK would be the SIZE's number again
    CHECK(Sender::too_big(0xffffffffu));
}

// ---- the server's capacity (ex5_udp/transfers.h) -------------------------------

// A script of steps on a virtual clock: each line says what happened; a failure prints them all.
struct CapacityScript {
    std::vector<Held> all;
    double now;
    std::string log;
    explicit CapacityScript(double start) : now(start), log("\nstart=" + std::to_string(start) + "\n") {}
    std::size_t open(const std::string& group) {
        Held h{group, {}};
        h.progress.opened = h.progress.last = h.progress.window_start = now;
        all.push_back(h);
        log += "t=" + std::to_string(now) + " open #" + std::to_string(all.size() - 1) + " from " + group + "\n";
        return all.size() - 1;
    }
    void ack(std::size_t i, std::uint32_t n, double rto) {
        all[i].progress.add(now, rto, n);
        log += "t=" + std::to_string(now) + " #" + std::to_string(i) + " acks " + std::to_string(n) + "\n";
    }
    int victim(const std::string& group) {
        int v = choose_victim(all, group, now);
        log += "t=" + std::to_string(now) + " newcomer from " + group + ": victim " + std::to_string(v) + "\n";
        return v;
    }
};

TEST_CASE("capacity: when full, the newcomer takes the place of one of the group holding the most") {
    std::mt19937 random{std::random_device{}()};
    CapacityScript s(100 + std::uniform_real_distribution<double>(0, 1000)(random));
    INFO(s.log);
    // An attacker (user 65534) holds 4 slow movers, the class (user 1000) 1 fast one.
    for (int i = 0; i < 4; ++i) s.open("usuário 65534 desta máquina");
    std::size_t fast = s.open("usuário 1000 desta máquina");
    for (int second = 1; second <= 5; ++second) {  // each attacker transfer: 1 datagram a second
        s.now += 1;
        for (std::size_t i = 0; i < 4; ++i) s.ack(i, i == 2 ? 0 : 1, 0.2);
        s.ack(fast, 500, 0.2);
    }
    s.ack(2, 1, 0.2);  // #2 moved least: 1 in the last RTOs
    // A classmate: the attacker's group holds 4 > 1 + 1: the one that moved least there goes.
    CHECK(s.victim("usuário 1000 desta máquina") == 2);
    // The attacker again: its own group is the biggest; its transfers move: refused.
    CHECK(s.victim("usuário 65534 desta máquina") == -1);
    // Another machine: same rule as the classmate.
    CHECK(s.victim("192.0.2.7") == 2);
}

TEST_CASE("capacity: within the group, one that never acknowledged its SIZE goes first, oldest first") {
    std::mt19937 random{std::random_device{}()};
    CapacityScript s(100 + std::uniform_real_distribution<double>(0, 1000)(random));
    INFO(s.log);
    std::size_t moving = s.open("127.0.0.0/8");
    s.ack(moving, 1, 0.2);
    s.now += 0.5;
    std::size_t older = s.open("127.0.0.0/8");  // never ACKs
    s.now += 0.5;
    s.open("127.0.0.0/8");  // never ACKs either
    s.ack(moving, 1, 0.2);
    // The newcomer's own group is the biggest: an unproven one goes, however young (the GET flood).
    CHECK(s.victim("127.0.0.0/8") == static_cast<int>(older));
    // From another group: the same one.
    CHECK(s.victim("198.51.100.1") == static_cast<int>(older));
}

TEST_CASE("capacity: in the newcomer's own group, one that moves stays; one stalled 3 RTOs goes") {
    std::mt19937 random{std::random_device{}()};
    CapacityScript s(100 + std::uniform_real_distribution<double>(0, 1000)(random));
    INFO(s.log);
    std::size_t a = s.open("192.0.2.1"), b = s.open("192.0.2.1");
    s.ack(a, 1, 0.25);
    s.ack(b, 1, 0.25);
    s.now += 3 * 0.25;  // exactly 3 RTOs: not yet stalled
    CHECK(s.victim("192.0.2.1") == -1);
    // Another group: 2 > 0 + 1, a second group gets its share (the one stalled longest; a tie: #0).
    CHECK(s.victim("198.51.100.1") == static_cast<int>(a));
    s.ack(a, 1, 0.25);
    s.now += 0.001;
    CHECK(s.victim("192.0.2.1") == static_cast<int>(b));  // b: 3 RTOs and a bit without progress
    CHECK(choose_victim({}, "192.0.2.1", s.now) == -1);
}

TEST_CASE("capacity: Transfers gives the place to the newcomer, and tells the one that leaves") {
    Transfers table;
    std::vector<std::shared_ptr<Transfer>> all;
    std::string evicted;
    for (int i = 0; i < Transfers::CAPACITY; ++i) {
        auto t = std::make_shared<Transfer>();
        t->text = "192.0.2.1:" + std::to_string(1000 + i);
        t->group = "192.0.2.1";
        REQUIRE(table.add(t, 10, 0, evicted) == Transfers::Added::YES);
        all.push_back(t);
    }
    for (auto& t : all) t->progressed(20, 0.2, t == all[7] ? 1 : 2);  // all moving at t = 20 s;
                                                                       // #7 moved least
    auto newcomer = std::make_shared<Transfer>();
    newcomer->text = "198.51.100.9:5000";
    newcomer->group = "198.51.100.9";
    CHECK(table.add(newcomer, 20.1, 0, evicted) == Transfers::Added::YES);
    CHECK(evicted == all[7]->text);
    CHECK(all[7]->evicted());
    CHECK(table.find(all[7]->text) == nullptr);
    CHECK(table.find(newcomer->text) == newcomer);
    std::string d;
    CHECK(!all[7]->receive(d, std::chrono::steady_clock::now() + 10s));  // woken at once
    auto another = std::make_shared<Transfer>();
    another->text = "192.0.2.1:5001";  // the biggest group itself, all moving: refused
    another->group = "192.0.2.1";
    CHECK(table.add(another, 20.2, 0, evicted) == Transfers::Added::FULL);
    CHECK(evicted.empty());
}

TEST_CASE("capacity: --limite-por-ip counts transfers per address group, not per IP") {
    Transfers table;
    std::string evicted;
    std::vector<std::shared_ptr<Transfer>> all;
    auto from = [&](const std::string& ip, int port) {
        auto t = std::make_shared<Transfer>();
        t->text = ip + ":" + std::to_string(port);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        inet_pton(AF_INET, ip.c_str(), &a.sin_addr);
        t->group = admission::group_of(reinterpret_cast<const sockaddr*>(&a));
        all.push_back(t);
        return t;
    };
    using A = Transfers::Added;
    CHECK(table.add(from("127.0.0.1", 1), 0, 2, evicted) == A::YES);
    CHECK(table.add(from("127.0.0.2", 2), 0, 2, evicted) == A::YES);  // the same group: 127.0.0.0/8
    CHECK(table.add(from("127.0.0.3", 3), 0, 2, evicted) == A::GROUP_LIMIT);
    CHECK(table.add(from("192.0.2.1", 4), 0, 2, evicted) == A::YES);  // another group
    table.remove(all[0]);
    CHECK(table.add(from("127.0.0.3", 5), 0, 2, evicted) == A::YES);  // a place came back
    CHECK(table.add(from("127.0.0.4", 6), 0, 0, evicted) == A::YES);  // 0: no cap
    CHECK(evicted.empty());
}

// The summary lines ("Download concluído: ... (B bytes em S s, R)"): a slow
// transfer (ex5 through a lossy link: 100116 bytes in 2.6 s) shows its rate,
// not "0.0 MB/s".
TEST_CASE("TransferClock::rate: MB/s, KB/s below 1 MB/s, bytes/s below 1 KB/s") {
    CHECK(TransferClock::rate(46.7e6) == "46.7 MB/s");
    CHECK(TransferClock::rate(1e6) == "1.0 MB/s");
    CHECK(TransferClock::rate(100116 / 2.6) == "38.5 KB/s");
    CHECK(TransferClock::rate(1000) == "1.0 KB/s");
    CHECK(TransferClock::rate(512) == "512 bytes/s");
    CHECK(TransferClock::rate(0) == "0 bytes/s");
}
