// A capture file's TCP segments as tshark reads them, and each connection's
// byte stream rebuilt from the sequence numbers, as TCP itself does: a
// retransmitted or reordered segment lands where it belongs, and a hole (a
// segment the capture missed) fails the test. Shared by capture_tcp (fresh
// captures) and shipped_captures (the files shipped in captures/).
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "support.h"

namespace lab {

struct Segment {
    int src = 0, dst = 0, stream = 0;
    std::size_t seq = 0;        // relative sequence number
    std::size_t len = 0;        // TCP payload length
    std::size_t frame_len = 0;  // the whole frame, as Wireshark's "Length"
    int mss = 0;                // the MSS option of a SYN, 0 elsewhere
    int frame = 0;              // Wireshark's "No."
    std::string flags;          // tshark's tcp.flags.str, e.g. "·······AP···"
    std::string payload;        // the bytes
    bool has(char flag) const { return flags.find(flag) != std::string::npos; }
};

inline std::string unhex(const std::string& hex) {
    std::string out;
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
        out += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
    return out;
}

// tshark's `fields` of every frame of `file`, one row per frame, each row
// exactly fields.size() strings (empty where a frame has no such field).
// `options` go before the fields (ex5 passes its Lua dissector there).
inline std::vector<std::vector<std::string>> tshark_fields(
    const std::filesystem::path& file, const std::vector<std::string>& fields,
    const std::vector<std::string>& options = {}) {
    std::vector<std::string> argv = {"tshark", "-r", file.string()};
    argv.insert(argv.end(), options.begin(), options.end());
    argv.insert(argv.end(), {"-T", "fields", "-E", "separator=;"});
    for (const std::string& field : fields) argv.insert(argv.end(), {"-e", field});
    Process tshark(argv);
    auto code = tshark.wait_exit(60000ms);
    INFO("tshark: " << tshark.err());
    REQUIRE(code == 0);
    std::vector<std::vector<std::string>> rows;
    std::istringstream lines(tshark.out());
    std::string line;
    while (std::getline(lines, line)) {
        std::vector<std::string> row;
        std::stringstream values(line);
        std::string value;
        while (std::getline(values, value, ';')) row.push_back(value);
        row.resize(fields.size());
        rows.push_back(std::move(row));
    }
    return rows;
}

struct TcpCapture {
    std::vector<Segment> segments;
    int server_port = 0;  // where the first SYN went

    void read(const std::filesystem::path& file) {
        for (const std::vector<std::string>& f :
             tshark_fields(file, {"tcp.srcport", "tcp.dstport", "tcp.len", "tcp.flags.str",
                                  "tcp.payload", "tcp.stream", "tcp.seq", "frame.len",
                                  "tcp.options.mss_val", "frame.number"})) {
            Segment s;
            s.src = std::atoi(f[0].c_str());
            s.dst = std::atoi(f[1].c_str());
            s.len = static_cast<std::size_t>(std::atol(f[2].c_str()));
            s.flags = f[3];
            s.payload = unhex(f[4]);
            s.stream = std::atoi(f[5].c_str());
            s.seq = static_cast<std::size_t>(std::atol(f[6].c_str()));
            s.frame_len = static_cast<std::size_t>(std::atol(f[7].c_str()));
            s.mss = std::atoi(f[8].c_str());
            s.frame = std::atoi(f[9].c_str());
            segments.push_back(s);
        }
        REQUIRE(segments.size() >= 3);
        server_port = segments[0].dst;
    }

    // Segments with data in one direction (to the server or from it), in
    // capture order, retransmissions included.
    std::vector<const Segment*> data(bool to_server) const {
        std::vector<const Segment*> out;
        for (const Segment& s : segments)
            if (s.len > 0 && (to_server ? s.dst : s.src) == server_port) out.push_back(&s);
        return out;
    }

    // The byte stream of each connection in one direction, in connection order.
    std::vector<std::string> streams(bool to_server) const {
        std::map<int, std::string> bytes;
        std::map<int, std::vector<bool>> seen;
        for (const Segment* s : data(to_server)) {
            std::string& b = bytes[s->stream];
            std::vector<bool>& got = seen[s->stream];
            std::size_t at = s->seq - 1, end = at + s->payload.size();
            if (b.size() < end) {
                b.resize(end);
                got.resize(end);
            }
            b.replace(at, s->payload.size(), s->payload);
            std::fill(got.begin() + static_cast<long>(at), got.begin() + static_cast<long>(end), true);
        }
        std::vector<std::string> out;
        for (const auto& entry : bytes) {
            const int stream = entry.first;
            CHECK_MESSAGE(std::count(seen[stream].begin(), seen[stream].end(), false) == 0,
                          "the capture missed part of TCP stream " << stream);
            out.push_back(entry.second);
        }
        return out;
    }
};

}  // namespace lab
