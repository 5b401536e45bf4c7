// Every tshark listing a guide shows, and every answer PROFESSOR.md gives
// from a shipped capture, is a shell session in a fenced block:
//
//     ```
//     $ tshark -r captures/perda-colega.pcapng -Y "tcp.analysis.retransmission" | wc -l
//     2
//     ```
//
// This test finds each such block in the guides (a line starting with
// "$ tshark -r captures/", "$ capinfos", or "$ awk" reading figuras/dados/ or
// ex5's shipped bench trace in bench/results/), runs the command from the
// project root (where the guides say to run them; ex6's guide runs its commands
// in ex6_modbus/, as "$ tshark -r ../captures/...") and checks that it prints exactly
// the lines below it, so a listing or an answer cannot drift from its
// capture. Commands are the guides' own text, pasted, nothing rewritten.
// It needs only tshark (exit 77, "Skipped", without it) and reads only the
// files in captures/. The listings are tshark 4.0's (Debian 12) format.
// One more case checks what the ex5 guide says of its Lua dissector, on a
// small capture this test writes in a temporary folder.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "support.h"
#include "tcp_capture.h"  // tshark_fields

using namespace lab;
namespace fs = std::filesystem;

namespace {

const fs::path ROOT = fs::path(LAB_SOURCE_DIR);

// The guides whose blocks are checked.
const std::vector<std::string> GUIDES = {"PROFESSOR.md", "ESTUDANTES.md", "captures/README.md",
                                         "ex5_udp/README.md",
                                         "ex1_chat/README.md", "ex2_crypto/README.md",
                                         "ex3_files/README.md", "ex4_kx/README.md",
                                         "redes/README.md", "ex6_modbus/README.md"};
// The folder a guide's commands run in, when it is not the root: the one the
// guide has the student working in.
std::string folder_of(const std::string& guide) { return guide == "ex6_modbus/README.md" ? "ex6_modbus" : ""; }

struct Session {
    std::string guide;
    int line = 0;          // where the command is in the guide
    std::string command;   // without the "$ "
    std::string expected;  // the lines below it, each ending in '\n'
};

bool checked_command(const std::string& command) {
    return command.rfind("tshark -r captures/", 0) == 0 || command.rfind("tshark -r ../captures/", 0) == 0 ||
           command.rfind("capinfos ", 0) == 0 ||
           // redes: the answers read from the congestionamento samples (CSV)
           (command.rfind("awk ", 0) == 0 && command.find(" figuras/dados/") != std::string::npos) ||
           // ex5: answers computed from the shipped --rtt trace of the congestion bench
           (command.rfind("awk ", 0) == 0 && command.find(" bench/results/ex5_") != std::string::npos);
}

std::string strip_indent(const std::string& line, std::size_t indent) {
    std::size_t n = 0;
    while (n < indent && n < line.size() && line[n] == ' ') ++n;
    return line.substr(n);
}

// Every "$ command" of a checked kind in the fenced blocks of `guide`.
std::vector<Session> sessions_in(const std::string& guide) {
    std::vector<Session> out;
    std::istringstream text(read_file(ROOT / guide));
    std::string line;
    bool in_block = false;
    std::size_t indent = 0;
    Session* current = nullptr;
    int number = 0;
    while (std::getline(text, line)) {
        ++number;
        const std::size_t first = line.find_first_not_of(' ');
        const bool fence = first != std::string::npos && line.compare(first, 3, "```") == 0;
        if (fence) {
            in_block = !in_block;
            indent = first;
            current = nullptr;
            continue;
        }
        if (!in_block) continue;
        const std::string body = strip_indent(line, indent);
        if (body.rfind("$ ", 0) == 0) {
            current = nullptr;
            if (checked_command(body.substr(2))) {
                out.push_back({guide, number, body.substr(2), ""});
                current = &out.back();
            }
        } else if (current != nullptr) {
            current->expected += body + "\n";
        }
    }
    return out;
}

// Trailing spaces and tabs of each line and blank lines at the end are not compared
// (a Markdown editor may drop them; tshark -x ends with a blank line).
std::string normalized(const std::string& text) {
    std::istringstream lines(text);
    std::string line, out;
    while (std::getline(lines, line)) {
        line.erase(line.find_last_not_of(" \t") + 1);
        out += line + "\n";
    }
    while (out.size() >= 2 && out.compare(out.size() - 2, 2, "\n\n") == 0) out.pop_back();
    return out == "\n" ? "" : out;
}

std::string run(const std::string& command, const std::string& folder) {
    Process shell({"bash", "-c", "cd '" + (ROOT / folder).string() + "' && export LC_ALL=C.UTF-8 && " + command});
    auto code = shell.wait_exit(60000ms);
    INFO("stderr: " << shell.err());
    CHECK(code == 0);
    return shell.out();
}

}  // namespace

TEST_CASE("every tshark session in the guides prints what the guide shows") {
    int count = 0;
    for (const std::string& guide : GUIDES) {
        for (const Session& s : sessions_in(guide)) {
            ++count;
            INFO(s.guide << ":" << s.line << ": $ " << s.command);
            CHECK(normalized(run(s.command, folder_of(s.guide))) == normalized(s.expected));
        }
    }
    // The guides have many of them: finding none means the parser broke.
    CHECK(count >= 20);
}

// What the ex5 guide says of its Wireshark dissector (ex5_udp/ex5.lua), on a
// capture made here: a resend is the same number again in the same direction
// (a datagram that arrives late, after a newer one, is not one), and on a
// port other than 8000 only a conversation that starts with a reliable GET
// (e5 47) is EX5.
namespace ex5_dissector {

void put16(std::string& out, unsigned v) {
    out += static_cast<char>(v >> 8);
    out += static_cast<char>(v & 0xff);
}

void put32le(std::string& out, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) out += static_cast<char>((v >> (8 * i)) & 0xff);
}

// An IPv4 packet with a UDP datagram (UDP checksum 0: none, as IPv4 allows).
std::string udp_packet(int src_host, unsigned sport, int dst_host, unsigned dport, const std::string& data) {
    std::string ip = "\x45";
    ip += '\0';
    put16(ip, 20 + 8 + static_cast<unsigned>(data.size()));
    put16(ip, 1);
    put16(ip, 0x4000);
    ip += '\x40';
    ip += '\x11';
    put16(ip, 0);  // header checksum: tshark does not check it by default
    for (int host : {src_host, dst_host}) ip += std::string("\x7f\0\0", 3) + static_cast<char>(host);
    put16(ip, sport);
    put16(ip, dport);
    put16(ip, 8 + static_cast<unsigned>(data.size()));
    put16(ip, 0);
    return ip + data;
}

std::string header(char type, unsigned window, std::uint32_t seq, const std::string& rest = "") {
    std::string h = "\xe5";
    h += type;
    put16(h, window);
    put16(h, seq >> 16);
    put16(h, seq & 0xffff);
    return h + rest;
}

}  // namespace ex5_dissector

// The server draws the SIZE's number at random, so the numbers of a transfer
// may wrap around 2^32: here the SIZE is 0xfffffffe and the data go on from
// 0xffffffff to 0, 1, 2 (a rule like "a number not above the highest seen is a
// resend" would mark every datagram after the wrap).
TEST_CASE("ex5.lua: a resend is the same number seen again, across the 2^32 wrap; only a GET makes other UDP EX5") {
    using namespace ex5_dissector;
    const std::uint32_t s = 0xfffffffeu;  // the SIZE's number: relative 0
    const std::vector<std::string> packets = {
        udp_packet(1, 5000, 9, 40001, header('A', 0, 7)),  // e5 'A' with no GET before it
        udp_packet(1, 40000, 2, 9000, header('G', 1, 0, "GET iguana.jpg")),
        udp_packet(2, 9000, 1, 40000, header('S', 0, s, "SIZE 30 3")),
        udp_packet(1, 40000, 2, 9000, header('A', 0, s + 1)),
        udp_packet(2, 9000, 1, 40000, header('D', 0, s + 1, "0123456789")),  // 0xffffffff
        udp_packet(2, 9000, 1, 40000, header('D', 0, s + 3, "0123456789")),  // 1, before 0
        udp_packet(2, 9000, 1, 40000, header('D', 0, s + 2, "0123456789")),  // 0, late: not a resend
        udp_packet(2, 9000, 1, 40000, header('D', 0, s + 2, "0123456789")),  // 0 again: a resend
        udp_packet(1, 40000, 2, 9000, header('A', 0, s + 4)),
    };
    TempDir dir;
    const fs::path file = dir.path / "reordered.pcap";
    {
        std::string pcap;
        for (std::uint32_t v : {0xa1b2c3d4u, 0x00040002u, 0u, 0u, 65535u, 228u}) put32le(pcap, v);  // 228: raw IPv4
        std::uint32_t second = 0;
        for (const std::string& p : packets) {
            for (std::uint32_t v : {second++, 0u, std::uint32_t(p.size()), std::uint32_t(p.size())}) put32le(pcap, v);
            pcap += p;
        }
        std::ofstream(file, std::ios::binary) << pcap;
    }
    const auto rows = tshark_fields(file, {"frame.number", "ex5.tipo", "ex5.seq", "ex5.reenvio", "ex5.relativo"},
                                    {"-X", "lua_script:" + (ROOT / "ex5_udp" / "ex5.lua").string()});
    REQUIRE(rows.size() == packets.size());
    const std::vector<std::string> types = {"", "GET", "SIZE", "ACK", "DADOS", "DADOS", "DADOS", "DADOS", "ACK"};
    const std::vector<bool> resent = {false, false, false, false, false, false, false, true, false};
    const std::vector<std::string> relative = {"", "", "0", "1", "1", "3", "2", "2", "4"};
    for (std::size_t i = 0; i < rows.size(); ++i) {
        INFO("frame " << rows[i][0] << ": tipo '" << rows[i][1] << "' seq '" << rows[i][2] << "' reenvio '"
                      << rows[i][3] << "' relativo '" << rows[i][4] << "'");
        CHECK(rows[i][1] == types[i]);
        CHECK((rows[i][3] == "1" || rows[i][3] == "True") == resent[i]);
        CHECK(rows[i][4] == relative[i]);
    }
}

int main(int argc, char** argv) {
    if (auto why = need_tools({"tshark"}, "capture"); !why.empty()) return skip_program(why);
    doctest::Context context(argc, argv);
    return context.run();
}
