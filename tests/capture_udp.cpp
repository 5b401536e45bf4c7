// What Wireshark shows of ex5 (the file over UDP), checked from fresh
// captures made by scripts/capture.sh (make capture EX=ex5 ...): no
// handshake and no FIN; one datagram per sendto() (98 of data for
// iguana.jpg); IP fragments with --chunk 4000 on a link with MTU 1500; lost
// datagrams that never come back in plain mode; the retransmissions of
// --confiavel, read with ex5's Lua dissector. Needs root (tcpdump, network
// namespaces), tcpdump and tshark; otherwise exits 77 with the reason.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "../ex5_udp/datagram.h"
#include "support.h"
#include "udp_capture.h"

using namespace lab;
namespace fs = std::filesystem;

namespace {

const std::string IGUANA =
    read_file(fs::path(LAB_SOURCE_DIR) / "ex3_files" / "imagens" / "iguana.jpg");

struct Ex5Capture : UdpCapture {
    TempDir dir;
    std::string output;  // what capture.sh printed (the client's lines among it)

    explicit Ex5Capture(const std::vector<std::string>& settings = {}) {
        std::vector<std::string> argv = {"env", "EX=ex5", "CAPTURE_DIR=" + dir.path.string()};
        argv.insert(argv.end(), settings.begin(), settings.end());
        argv.push_back(std::string(LAB_SOURCE_DIR) + "/scripts/capture.sh");
        Process run(argv);
        auto code = run.wait_exit(120000ms);
        output = run.out() + run.err();
        INFO(output);
        REQUIRE(code == 0);
        read(dir.path / "ex5.pcapng");
    }
};

// The payloads of the data datagrams from the server, plain mode: everything
// but SIZE and OK.
std::vector<std::string> plain_data(const UdpCapture& c) {
    std::vector<std::string> out;
    for (const UdpFrame* d : c.datagrams(false)) {
        std::uint64_t a, b;
        std::uint32_t crc;
        if (datagram::parse_size(d->payload, a, b) || datagram::parse_ok(d->payload, crc)) continue;
        out.push_back(d->payload);
    }
    return out;
}

}  // namespace

TEST_CASE("capture ex5, loopback: no handshake, no FIN; GET, SIZE, 98 datagrams, OK") {
    Ex5Capture c;
    CHECK(c.tcp_frames == 0);  // no SYN, no FIN, no ACK of TCP: nothing but datagrams
    auto up = c.datagrams(true), down = c.datagrams(false);
    REQUIRE(up.size() == 1);
    CHECK(up[0]->payload == "GET iguana.jpg");
    REQUIRE(down.size() == 100);  // one datagram per sendto()
    CHECK(down.front()->payload == "SIZE 100116 98");
    CHECK(down.back()->payload == "OK 21b99b7a");
    std::vector<std::string> data = plain_data(c);
    CHECK(data.size() == 98);
    std::string joined;
    for (const std::string& d : data) joined += d;
    CHECK(joined == IGUANA);
    for (const UdpFrame& f : c.frames) CHECK(!f.fragment);  // loopback: MTU 65536
}

TEST_CASE("capture ex5, two hosts with MTU 1500 and --chunk 4000: IP fragments") {
    Ex5Capture c({"NET=veth", "CHUNK=4000"});
    CHECK(c.tcp_frames == 0);
    std::size_t fragments = 0, largest = 0;
    for (const UdpFrame& f : c.frames) {
        fragments += f.fragment;
        largest = std::max(largest, f.frame_len);
    }
    // 100116 bytes = 25 x 4000 + 116: each 4008-byte UDP datagram (4028 with
    // the IP header) goes in 3 fragments of 1480 + 1480 + 1048 bytes of data.
    CHECK(fragments == 75);
    CHECK(largest == 1514);  // 14 Ethernet + 1500
    // What fits the MTU leaves with DF (Don't Fragment) set; the fragments without it.
    for (const UdpFrame& f : c.frames) CHECK(f.dont_fragment == (!f.fragment));
    std::vector<std::string> data = plain_data(c);
    REQUIRE(data.size() == 26);
    std::string joined;
    for (const std::string& d : data) joined += d;
    CHECK(joined == IGUANA);  // tshark put the fragments back together
}

TEST_CASE("capture ex5, loopback, --chunk 65507: the largest datagram, not fragmented") {
    Ex5Capture c({"CHUNK=65507"});
    auto data = plain_data(c);
    REQUIRE(data.size() == 2);
    CHECK(data[0].size() == 65507);  // + 8 (UDP) + 20 (IP) = 65535, the IP limit
    CHECK(data[1].size() == 100116 - 65507);
    for (const UdpFrame& f : c.frames) CHECK(!f.fragment);
}

TEST_CASE("capture ex5, plain mode with 10% loss: the server sent each datagram once; never again") {
    // The capture is on the server's side: it shows what the server sent. The
    // client lost some (it says how many arrived) and nothing came back.
    for (int attempt = 0; attempt < 3; ++attempt) {  // a run may lose nothing (chance)
        Ex5Capture c({"NET=veth", "PERDA=10"});
        std::vector<std::string> data = plain_data(c);
        CHECK(data.size() == 98);
        std::string joined;
        for (const std::string& d : data) joined += d;
        CHECK(joined == IGUANA);  // each piece once, in order: no resend at all
        auto at = c.output.find("chegaram ");
        if (at == std::string::npos) continue;  // nothing lost this time
        int arrived = std::atoi(c.output.c_str() + at + std::string("chegaram ").size());
        CHECK(arrived < 98);
        // "chegaram 90 de 98 datagramas", or without "de 98" when the SIZE itself was lost
        CHECK((c.output.find(" de 98 datagramas") != std::string::npos ||
               c.output.find("o SIZE não chegou") != std::string::npos));
        CHECK(c.output.find("incompleto") != std::string::npos);
        return;
    }
    FAIL("3 runs with 10% loss and nothing lost");
}

TEST_CASE("capture ex5, --confiavel with 10% loss: retransmissions, marked by the dissector") {
    Ex5Capture c({"NET=veth", "PERDA=10", "MODO=confiavel"});
    CHECK(c.output.find("Download concluído") != std::string::npos);
    std::map<long, int> sent;
    std::map<long, std::string> piece;
    int marked = 0;
    for (const UdpFrame* d : c.datagrams(false)) {
        if (d->type != "DADOS") continue;
        marked += d->resent;
        CHECK(d->resent == (sent[d->seq] > 0));  // the dissector marks exactly the repeats
        sent[d->seq] += 1;
        piece[d->seq] = d->payload.substr(datagram::HEADER);
    }
    REQUIRE(sent.size() == 98);
    int repeats = 0;
    for (const auto& s : sent) repeats += s.second - 1;
    CHECK(repeats == marked);
    std::string joined;
    for (const auto& p : piece) joined += p.second;
    CHECK(joined == IGUANA);  // rebuilt by sequence number
    // The SIZE's number is drawn by the server; the rest count from it.
    long first = -1;
    for (const UdpFrame* d : c.datagrams(false))
        if (d->type == "SIZE") first = d->seq;
    REQUIRE(first >= 0);
    int acks = 0;
    std::uint32_t last_ack = 0;
    for (const UdpFrame* d : c.datagrams(true))
        if (d->type == "ACK") {
            ++acks;
            last_ack = std::max(last_ack, static_cast<std::uint32_t>(d->ack - first));
        }
    CHECK(acks >= 99);
    CHECK(last_ack == 100);  // SIZE is first + 0, the data + 1..98, OK + 99: the next would be + 100
    // With stop-and-wait a data loss shows as a retransmission of that seq;
    // a SIZE or OK loss as their own retransmission. 10% of ~100: some.
    int resent_any = 0;
    for (const UdpFrame* d : c.datagrams(false)) resent_any += d->resent;
    CHECK(resent_any > 0);
}

// The numbers of the guide's fragment section and of exercises 7 and 8:
// `-e ip.frag_offset` prints the field as it travels, in 8-octet units.
TEST_CASE("capture ex5, MTU 1500: fragment offsets in units of 8 bytes (--chunk 3000 and 65507)") {
    struct Case {
        const char* chunk;
        std::size_t fragments;
        std::set<long> offsets;            // ip.frag_offset of the fragments
        std::set<std::size_t> frame_lens;  // frame.len of the fragments
    };
    // 3000 + 8 = 1480 + 1480 + 48 bytes of IP data: frames of 1514, 1514 and 82;
    // 33 full datagrams x 3 fragments (the last one, 1116 bytes, fits a frame).
    // 65507 + 8 = 44 x 1480 + 395: 45 fragments, the last at 65120 / 8 = 8140
    // (frame of 429); the second datagram, 34609 + 8 = 23 x 1480 + 577: 24.
    std::set<long> big;
    for (long o = 0; o <= 8140; o += 185) big.insert(o);
    for (const Case& k : {Case{"3000", 99, {0, 185, 370}, {1514, 82}},
                          Case{"65507", 69, big, {1514, 429, 20 + 577 + 14}}}) {
        INFO("--chunk " << k.chunk);
        Ex5Capture c({"NET=veth", std::string("CHUNK=") + k.chunk});
        std::size_t fragments = 0;
        std::set<long> offsets;
        std::set<std::size_t> lens;
        for (const std::vector<std::string>& f :
             tshark_fields(c.dir.path / "ex5.pcapng", {"ip.flags.mf", "ip.frag_offset", "frame.len"})) {
            const long offset = std::atol(f[1].c_str());
            if (f[0] != "1" && offset == 0) continue;  // a whole datagram
            ++fragments;
            offsets.insert(offset);
            lens.insert(static_cast<std::size_t>(std::atol(f[2].c_str())));
        }
        CHECK(fragments == k.fragments);
        CHECK(offsets == k.offsets);
        CHECK(lens == k.frame_lens);
    }
}

int main(int argc, char** argv) {
    const std::string why =
        first_of({need_root("capturing and network namespaces need root"),
                  need_tools({"tcpdump", "tshark", "ip", "nft"}, "capture redes")});
    if (!why.empty()) return skip_program(why);
    setenv("LAB_BIN_DIR", LAB_BIN_DIR, 0);  // the programs capture.sh runs
    doctest::Context context(argc, argv);
    return context.run();
}
