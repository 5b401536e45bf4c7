// A capture file's UDP datagrams as tshark reads them, with ex5's Lua
// dissector (ex5_udp/ex5.lua) for the reliable mode's header: every frame,
// IP fragments included, and for each complete datagram (reassembled by
// tshark) its payload, type, seq and ack. Shared by capture_udp (fresh
// captures, root), redes_udp and shipped_captures (the files in captures/).
#pragma once

#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "support.h"
#include "tcp_capture.h"  // tshark_fields, unhex

namespace lab {

struct UdpFrame {
    int frame = 0;
    std::size_t frame_len = 0;
    bool fragment = false;      // an IP fragment (more fragments, or not the first)
    bool dont_fragment = false; // the IP header's DF bit
    bool datagram = false;      // this frame completes a UDP datagram (fields below)
    int src = 0, dst = 0;       // UDP ports
    std::string payload;        // the whole datagram's payload (reassembled)
    std::string type;           // ex5.tipo: GET, SIZE, DADOS, ACK, OK, ERROR ("" in plain mode)
    long seq = -1, ack = -1;    // ex5.seq / ex5.ack, -1 when absent
    bool resent = false;        // ex5.reenvio
};

struct UdpCapture {
    std::vector<UdpFrame> frames;
    int tcp_frames = 0;
    int server_port = 0;  // where the first datagram went

    void read(const std::filesystem::path& file) {
        const std::string lua = std::string(LAB_SOURCE_DIR) + "/ex5_udp/ex5.lua";
        for (const std::vector<std::string>& f : tshark_fields(
                 file,
                 {"frame.number", "frame.len", "ip.flags.mf", "ip.frag_offset", "udp.srcport",
                  "udp.dstport", "udp.payload", "tcp.srcport", "ex5.tipo", "ex5.seq", "ex5.ack",
                  "ex5.reenvio", "ip.flags.df"},
                 {"-X", "lua_script:" + lua})) {
            if (!f[7].empty()) {
                ++tcp_frames;
                continue;
            }
            UdpFrame u;
            u.frame = std::atoi(f[0].c_str());
            u.frame_len = static_cast<std::size_t>(std::atol(f[1].c_str()));
            u.fragment = f[2] == "1" || (!f[3].empty() && f[3] != "0");
            u.datagram = !f[4].empty();
            u.src = std::atoi(f[4].c_str());
            u.dst = std::atoi(f[5].c_str());
            u.payload = unhex(f[6]);
            u.type = f[8];
            if (!f[9].empty()) u.seq = std::atol(f[9].c_str());
            if (!f[10].empty()) u.ack = std::atol(f[10].c_str());
            u.resent = f[11] == "1" || f[11] == "True";
            u.dont_fragment = f[12] == "1" || f[12] == "True";
            frames.push_back(u);
        }
        REQUIRE(!frames.empty());
        server_port = frames[0].dst;
    }

    // Complete datagrams in one direction, in capture order.
    std::vector<const UdpFrame*> datagrams(bool to_server) const {
        std::vector<const UdpFrame*> out;
        for (const UdpFrame& u : frames)
            if (u.datagram && (to_server ? u.dst : u.src) == server_port) out.push_back(&u);
        return out;
    }
};

}  // namespace lab
