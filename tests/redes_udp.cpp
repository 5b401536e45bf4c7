// ex5 in the networks lab: the `perda` scenario of redes/redes.sh runs ex5
// beside ex3 on the same lossy path (the home router drops 10% of what comes
// from the Internet). Checked from the script's output and its captures,
// read with ex5's Lua dissector: in plain mode the colleague sent each of
// the 98 data datagrams once and fewer reached home (the client says so and
// keeps iguana.jpg.incompleto); with --confiavel the colleague resent what
// was lost and all 98 reached home, byte-identical. Needs root,
// ip, nft, tcpdump, tshark, wireguard-go, wg (the script checks them all);
// otherwise exits 77 with the reason. Never a timing.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <set>
#include <string>

#include "../ex5_udp/datagram.h"
#include "support.h"
#include "udp_capture.h"

using namespace lab;
namespace fs = std::filesystem;

namespace {

// The data datagrams the colleague's server (port 8000) sent in a capture:
// seq -> how many times (plain mode: the payload stands for the seq).
std::map<std::string, int> data_from_server(const fs::path& file) {
    UdpCapture c;
    c.read(file);
    std::map<std::string, int> seen;
    for (const UdpFrame& f : c.frames) {
        if (!f.datagram || f.src != 8000) continue;
        if (f.type == "DADOS") {
            seen[std::to_string(f.seq)] += 1;
        } else if (f.type.empty()) {  // plain mode: everything but SIZE and OK
            std::uint64_t a, b;
            std::uint32_t crc;
            if (!datagram::parse_size(f.payload, a, b) && !datagram::parse_ok(f.payload, crc))
                seen[f.payload] += 1;
        }
    }
    return seen;
}

int total(const std::map<std::string, int>& m) {
    int n = 0;
    for (const auto& e : m) n += e.second;
    return n;
}

}  // namespace

TEST_CASE("perda: ex5 plain loses for good; ex5 --confiavel resends and arrives identical") {
    TempDir captures;
    Process run({"env", "CENARIO=perda", "CAPTURE_DIR=" + captures.path.string(),
                 std::string(LAB_SOURCE_DIR) + "/redes/redes.sh"});
    auto code = run.wait_exit(120000ms);
    const std::string out = run.out() + run.err();
    INFO(out);
    REQUIRE(code == 0);
    CHECK(out.find("AVISO") == std::string::npos);
    CHECK(out.find("ex5 --confiavel: iguana.jpg chegou idêntico ao original, apesar das perdas.") !=
          std::string::npos);
    const std::string incomplete = "Erro: download incompleto: chegaram ";
    auto at = out.find(incomplete);
    REQUIRE(at != std::string::npos);
    const int arrived = std::atoi(out.c_str() + at + incomplete.size());
    CHECK(arrived < 98);
    // "chegaram 90 de 98 datagramas", or without "de 98" when the SIZE itself was lost
    CHECK((out.find(" de 98 datagramas", at) != std::string::npos ||
           out.find("o SIZE não chegou", at) != std::string::npos));

    const fs::path dir = captures.path;
    auto sent = data_from_server(dir / "redes-perda-ex5-simples-colega.pcapng");
    auto home = data_from_server(dir / "redes-perda-ex5-simples-casa.pcapng");
    CHECK(sent.size() == 98);
    CHECK(total(sent) == 98);  // each sent once: nobody resends in plain mode
    CHECK(total(home) == arrived);
    CHECK(out.find("ex5 simples, chegaram na casa: " + std::to_string(arrived) + " datagramas") !=
          std::string::npos);

    sent = data_from_server(dir / "redes-perda-ex5-confiavel-colega.pcapng");
    home = data_from_server(dir / "redes-perda-ex5-confiavel-casa.pcapng");
    CHECK(sent.size() == 98);
    CHECK(total(sent) > 98);  // 10% of them lost on the way: resent
    CHECK(home.size() == 98);
    // Each arrived at least once; a second copy only if the colleague resent
    // one whose ACK was late (past the RTO, on a loaded machine), never more
    // copies than were sent.
    CHECK(total(home) >= 98);
    CHECK(total(home) <= total(sent));
    CHECK(out.find("ex5 confiavel, enviados pelo colega: " + std::to_string(total(sent)) +
                   " datagramas de dados, " + std::to_string(total(sent) - 98) + " deles reenvios") !=
          std::string::npos);
}

int main(int argc, char** argv) {
    const std::string why = first_of(
        {need_root("network namespaces and captures need root", "sudo make redes CENARIO=perda"),
         need_tools({"ip", "nft", "tcpdump", "tshark", "editcap", "wg", "wireguard-go"}, "redes")});
    if (!why.empty()) return skip_program(why);
    setenv("LAB_BIN_DIR", LAB_BIN_DIR, 0);  // the programs redes.sh runs
    doctest::Context context(argc, argv);
    return context.run();
}
