// The networks lab (redes/redes.sh, `make redes`): run each scenario in its
// network namespaces and check, from its output and from its captures read
// back with tshark, what redes/README.md says the student sees: addresses
// rewritten by NAT, the colleague's address printed by the server, the
// router's conntrack lines, only UDP on the WAN of a VPN, the tunnel's segment
// sizes, a file byte-identical across a lossy path, Reno's sawtooth behind a
// bottleneck; the host's own tcp_congestion_control unchanged after every
// scenario. Never a timing (the RTT check compares two RTTs of one run).
// Needs root, ip, nft, tcpdump, tshark, wireguard-go, wg and /dev/net/tun;
// otherwise exits 77 (CTest: "Skipped") with the reason printed.
// Port 8000 is used only inside the namespaces the script creates (the lab
// guide's port); nothing here touches the host's own network.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "support.h"

using namespace lab;
namespace fs = std::filesystem;

namespace {

const std::string SCRIPT = std::string(LAB_SOURCE_DIR) + "/redes/redes.sh";

using Row = std::vector<std::string>;

std::string unhex(const std::string& hex) {
    std::string out;
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
        out += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
    return out;
}

std::string run_text(const std::vector<std::string>& argv) {
    Process p(argv);
    p.wait_exit(10000ms);
    return p.out();
}

// What a run leaves behind: its namespaces, WireGuard sockets, processes.
// The script names all of them after its process id.
std::string leftovers(pid_t pid) {
    const std::string id = std::to_string(pid);
    std::string found;
    std::istringstream netns(run_text({"ip", "netns", "list"}));
    std::string line;
    while (std::getline(netns, line))
        if (line.rfind("redes" + id + "-", 0) == 0) found += "namespace " + line + "\n";
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator("/var/run/wireguard", ec))
        if (entry.path().filename().string().rfind("wg" + id + "-", 0) == 0)
            found += "socket " + entry.path().string() + "\n";
    for (const auto& entry : fs::directory_iterator("/proc", ec)) {
        std::string cmdline = read_file(entry.path() / "cmdline");
        std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
        if (cmdline.rfind("wireguard-go wg" + id + "-", 0) == 0) found += "process " + cmdline + "\n";
        // congestionamento: the iperf3 pair and the ss sampler (their
        // addresses exist only inside the script's namespaces).
        if (cmdline.rfind("iperf3 -s -1 -B 198.51.100.20 ", 0) == 0 ||
            cmdline.rfind("iperf3 -c 198.51.100.20 ", 0) == 0 ||
            (cmdline.rfind("bash -c ", 0) == 0 && cmdline.find("EPOCHREALTIME") != std::string::npos))
            found += "process " + cmdline + "\n";
    }
    return found;
}

// The host's own congestion control: the scripts set it only inside their
// namespaces and must never change it (the host's sysctl).
std::string host_congestion_control() {
    std::string value = read_file("/proc/sys/net/ipv4/tcp_congestion_control");
    while (!value.empty() && (value.back() == '\n' || value.back() == ' ')) value.pop_back();
    return value;
}

// One scenario of the lab, run to the end; its captures in a temporary folder.
struct Scenario {
    std::string name;
    TempDir captures;
    std::string out;

    explicit Scenario(const std::string& scenario, const std::vector<std::string>& env = {})
        : name(scenario) {
        const std::string host_cc = host_congestion_control();
        std::vector<std::string> argv = {"env", "CENARIO=" + name, "CAPTURE_DIR=" + captures.path.string()};
        argv.insert(argv.end(), env.begin(), env.end());
        argv.push_back(SCRIPT);
        Process run(argv);
        auto code = run.wait_exit(60000ms);
        if (!code) {  // a hang: let the script's trap clean up, then fail
            run.kill(SIGTERM);
            code = run.wait_exit(15000ms);
        }
        out = run.out();
        INFO(out << run.err());
        REQUIRE(code == 0);
        CHECK(leftovers(run.pid()).empty());
        CHECK(host_congestion_control() == host_cc);
        // Every namespace pins its algorithm and says which (reno by default).
        CHECK(has("Controle de congestionamento do TCP em todos os namespaces: "));
    }

    bool has(const std::string& text) const { return out.find(text) != std::string::npos; }

    // tshark -r captures/redes-<name>-<side>.pcapng [-Y filter] -T fields -e ...
    std::vector<Row> read(const std::string& side, const std::string& filter,
                          const std::vector<std::string>& fields) const {
        fs::path file = captures.path / ("redes-" + name + "-" + side + ".pcapng");
        REQUIRE(fs::exists(file));
        std::vector<std::string> argv = {"tshark", "-r", file.string(), "-T", "fields",
                                         "-E", "separator=;", "-E", "occurrence=f"};
        if (!filter.empty()) argv.insert(argv.end(), {"-Y", filter});
        for (const std::string& f : fields) argv.insert(argv.end(), {"-e", f});
        Process p(argv);
        REQUIRE(p.wait_exit(60000ms) == 0);
        std::vector<Row> rows;
        std::istringstream lines(p.out());
        std::string line;
        while (std::getline(lines, line)) {
            Row row;
            std::stringstream cells(line);
            std::string cell;
            while (std::getline(cells, cell, ';')) row.push_back(cell);
            row.resize(fields.size());
            rows.push_back(row);
        }
        return rows;
    }
};

// The number after `prefix` in `text` (e.g. a port after "203.0.113.10:").
std::string number_after(const std::string& text, const std::string& prefix) {
    auto at = text.find(prefix);
    if (at == std::string::npos) return "";
    at += prefix.size();
    auto end = text.find_first_not_of("0123456789", at);
    return text.substr(at, end - at);
}

const std::vector<std::string> TCP = {"ip.src", "ip.dst", "tcp.srcport", "tcp.dstport",
                                      "tcp.flags.str", "tcp.payload", "tcp.stream"};
enum { SRC, DST, SPORT, DPORT, FLAGS, PAYLOAD, STREAM };

// The first row whose payload contains `text`.
const Row* with_payload(const std::vector<Row>& rows, const std::string& text) {
    for (const Row& r : rows)
        if (unhex(r[PAYLOAD]).find(text) != std::string::npos) return &r;
    return nullptr;
}

int count_with(const std::vector<Row>& rows, const std::string& value) {
    int n = 0;
    for (const Row& r : rows) n += std::find(r.begin(), r.end(), value) != r.end();
    return n;
}

}  // namespace

TEST_CASE("not root: a Portuguese message saying what to run, exit 77, nothing written") {
    if (auto why = need_tools({"setpriv"}, "redes"); !why.empty()) return skip(why);
    TempDir dir;
    Process run({"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "env",
                 "CENARIO=nat", "CAPTURE_DIR=" + dir.path.string(), SCRIPT});
    CHECK(run.wait_exit(20000ms) == 77);
    CHECK(run.err().find("sudo make redes CENARIO=nat") != std::string::npos);
    CHECK(dir.names().empty());
}

TEST_CASE("bind: the router's public address fails with the right hint; 0.0.0.0 works") {
    Scenario s("bind");
    // The system's reason is named by its code (EADDRNOTAVAIL), not by its text.
    CHECK(s.has("Erro: não foi possível usar o endereço 203.0.113.10:8000: "));
    CHECK(s.has("(EADDRNOTAVAIL 99) (este IP não pertence a esta máquina: use 0.0.0.0 ou o IP da rede local)"));
    CHECK(s.has("terminal da casa (código de saída 1)"));
    CHECK(s.has("Iniciando servidor em 0.0.0.0:8000"));
    CHECK(s.has("Cliente conectado: 192.168.0.1:"));
    auto rows = s.read("casa", "tcp", TCP);
    REQUIRE(!rows.empty());
    CHECK(rows[0][FLAGS].find('S') != std::string::npos);
    CHECK(rows[0][DST] == "192.168.0.10");
    CHECK(rows[0][DPORT] == "8000");
    CHECK(count_with(rows, "203.0.113.10") == 0);  // a failed bind sends nothing
    CHECK(with_payload(rows, "Olá da rede local") != nullptr);
    // redes/README.md: handshake, the 18-byte message, its echo, the close.
    CHECK(rows.size() == 10);
    const Row* hello = with_payload(rows, "Olá da rede local");
    REQUIRE(hello != nullptr);
    CHECK(unhex((*hello)[PAYLOAD]).size() == 18);
}

TEST_CASE("nat: refused without the rule; with dnat the same segments, destination rewritten") {
    Scenario s("nat");
    CHECK(s.has("203.0.113.10:8000: conexão recusada (ECONNREFUSED 111)"));
    auto wan = s.read("wan", "tcp", TCP);
    auto lan = s.read("lan", "tcp", TCP);
    REQUIRE(wan.size() >= 2);
    // Without the rule the router itself answers the SYN with a RST...
    CHECK(wan[0][FLAGS].find('S') != std::string::npos);
    CHECK(wan[0][SRC] == "198.51.100.20");
    CHECK(wan[0][DST] == "203.0.113.10");
    CHECK(wan[1][FLAGS].find('R') != std::string::npos);
    CHECK(wan[1][SRC] == "203.0.113.10");
    // ...and nothing of that attempt reaches the LAN: one connection there.
    std::set<std::string> lan_streams;
    for (const Row& r : lan) lan_streams.insert(r[STREAM]);
    CHECK(lan_streams.size() == 1);

    // With the rule: the colleague's message, on both sides of the router.
    const Row* out = with_payload(wan, "Olá do colega, pelo IP público!");
    const Row* in = with_payload(lan, "Olá do colega, pelo IP público!");
    REQUIRE(out != nullptr);
    REQUIRE(in != nullptr);
    CHECK((*out)[SRC] == "198.51.100.20");
    CHECK((*out)[DST] == "203.0.113.10");
    CHECK((*in)[SRC] == "198.51.100.20");
    CHECK((*in)[DST] == "192.168.0.10");
    CHECK((*in)[SPORT] == (*out)[SPORT]);
    CHECK((*in)[DPORT] == "8000");
    // The same segments in the same order: the payloads of the connection
    // match one to one; only the address changed.
    std::vector<std::string> wan_payloads, lan_payloads;
    for (const Row& r : wan)
        if (r[STREAM] == (*out)[STREAM]) wan_payloads.push_back(r[PAYLOAD]);
    for (const Row& r : lan) lan_payloads.push_back(r[PAYLOAD]);
    CHECK(wan_payloads == lan_payloads);
    // The README's listing: 14 frames on the WAN (the refused SYN and its RST
    // included), 12 on the LAN; the 33-byte message is WAN 6 and LAN 4.
    REQUIRE(wan.size() == 14);
    REQUIRE(lan.size() == 12);
    CHECK(unhex(wan[5][PAYLOAD]) == "Olá do colega, pelo IP público!");
    CHECK(unhex(lan[3][PAYLOAD]) == "Olá do colega, pelo IP público!");
    CHECK(count_with(wan, "192.168.0.10") == 0);
    CHECK(count_with(lan, "203.0.113.10") == 0);

    const std::string port = (*out)[SPORT];
    CHECK(s.has("Cliente conectado: 198.51.100.20:" + port + "\n"));
    CHECK(s.has("src=198.51.100.20 dst=203.0.113.10 sport=" + port + " dport=8000 src=192.168.0.10 "
                "dst=198.51.100.20 sport=8000 dport=" + port));
}

TEST_CASE("saida: the server sees the router's public address and a translated port") {
    Scenario s("saida");
    auto wan = s.read("wan", "tcp", TCP);
    auto lan = s.read("lan", "tcp", TCP);
    const Row* out = with_payload(wan, "Olá, aqui é a casa!");
    const Row* in = with_payload(lan, "Olá, aqui é a casa!");
    REQUIRE(out != nullptr);
    REQUIRE(in != nullptr);
    CHECK((*in)[SRC] == "192.168.0.10");
    CHECK((*out)[SRC] == "203.0.113.10");
    CHECK((*out)[DST] == "198.51.100.20");
    CHECK(count_with(wan, "192.168.0.10") == 0);  // a private address never leaves
    const std::string inside = (*in)[SPORT], outside = (*out)[SPORT];
    CHECK(s.has("Cliente conectado: 203.0.113.10:" + outside + "\n"));
    CHECK(s.has("src=192.168.0.10 dst=198.51.100.20 sport=" + inside + " dport=8000 src=198.51.100.20 "
                "dst=203.0.113.10 sport=8000 dport=" + outside));
}

TEST_CASE("cgnat: Meu IP shows the provider's address, not the router's WAN; nothing gets in") {
    Scenario s("cgnat");
    CHECK(s.has("wan@if"));
    CHECK(s.has("100.64.0.10/24"));
    const std::string port = number_after(s.out, "Seu IP público é 203.0.113.50 (porta ");
    REQUIRE(!port.empty());
    CHECK(s.has("100.64.0.10:8000: "));
    CHECK(s.has("(ENETUNREACH 101)"));
    CHECK(s.has("203.0.113.50:8000: conexão recusada (ECONNREFUSED 111)"));

    auto home = s.read("roteador", "tcp", TCP);
    auto isp = s.read("provedor", "tcp", TCP);
    // The question to Meu IP, translated twice: 100.64.0.10 on the home
    // router's WAN, 203.0.113.50 on the provider's.
    REQUIRE(!home.empty());
    CHECK(home[0][SRC] == "100.64.0.10");
    CHECK(home[0][DST] == "192.0.2.80");
    const Row* answer = with_payload(isp, "Seu IP público é 203.0.113.50");
    REQUIRE(answer != nullptr);
    CHECK((*answer)[DST] == "203.0.113.50");
    CHECK((*answer)[DPORT] == port);
    CHECK(s.has("src=100.64.0.10 dst=192.0.2.80 sport=" + home[0][SPORT] +
                " dport=80 src=192.0.2.80 dst=203.0.113.50 sport=80 dport=" + port));
    CHECK(s.has("src=192.168.0.10 dst=192.0.2.80 "));
    // The colleague: a SYN to the provider's address, answered by the
    // provider with a RST; nothing of the colleague on the home router's WAN.
    CHECK(count_with(home, "198.51.100.20") == 0);
    bool syn = false, rst = false;
    for (const Row& r : isp) {
        if (r[SRC] == "198.51.100.20" && r[DPORT] == "8000" && r[FLAGS].find('S') != std::string::npos)
            syn = true;
        if (syn && r[SRC] == "203.0.113.50" && r[SPORT] == "8000" &&
            r[FLAGS].find('R') != std::string::npos)
            rst = true;
    }
    CHECK(syn);
    CHECK(rst);
    // The README's filter tcp.port == 8000 on the provider's capture: the
    // colleague's SYN and the provider's RST, nothing else. (Their frame
    // numbers depend on how many packets Meu IP's exchange took.)
    auto frames = s.read("provedor", "tcp.port == 8000",
                         {"ip.src", "tcp.dstport", "tcp.srcport", "tcp.flags.str"});
    REQUIRE(frames.size() == 2);
    CHECK(frames[0][0] == "198.51.100.20");
    CHECK(frames[0][1] == "8000");
    CHECK(frames[0][3].find('S') != std::string::npos);
    CHECK(frames[1][0] == "203.0.113.50");
    CHECK(frames[1][2] == "8000");
    CHECK(frames[1][3].find('R') != std::string::npos);
}

TEST_CASE("vpn: only WireGuard UDP on the WAN, the chat in clear in the tunnel, MTU 1420") {
    Scenario s("vpn");
    CHECK(s.has("mtu 1420"));
    CHECK(s.has("endpoint: 203.0.113.50:"));  // the VPN server sees the CGNAT address
    CHECK(s.has("Cliente conectado: 100.96.0.20:"));
    CHECK(s.has("iguana.jpg chegou pelo túnel idêntico ao original."));

    auto wan = s.read("wan", "", {"ip.proto", "udp.srcport", "udp.dstport", "udp.length", "wg.type"});
    REQUIRE(wan.size() > 50);
    std::size_t udp = 0, largest = 0;
    std::set<std::string> types;
    for (const Row& r : wan) {
        CHECK(r[0] == "17");  // UDP, never TCP
        udp += r[1] == "51820" || r[2] == "51820";
        largest = std::max(largest, static_cast<std::size_t>(std::atol(r[3].c_str())));
        types.insert(r[4]);
    }
    CHECK(udp == wan.size());
    // 1420 (the inner IP packet) + 16 (WireGuard header) + 16 (tag) + 8 (UDP)
    CHECK(largest == 1460);
    CHECK(types.count("1"));  // handshake initiation
    CHECK(types.count("2"));  // handshake response
    CHECK(types.count("4"));  // transport data
    CHECK(s.read("wan", "frame contains \"pela VPN\"", {"frame.number"}).empty());
    // The README's table of WireGuard sizes (IP length): initiation 176 =
    // 20 + 8 + 148, response 120 = 20 + 8 + 92, keepalive 60 = 20 + 8 + 32,
    // a 52-byte ACK 124 = 20 + 8 + 16 + 64 + 16, a full segment 1480; 72 full
    // ones measured, at most 73 = 100118 / 1368.
    std::map<std::string, std::set<std::string>> ip_lengths;
    int full = 0;
    for (const Row& r : s.read("wan", "wg", {"wg.type", "ip.len"})) {
        ip_lengths[r[0]].insert(r[1]);
        full += r[1] == "1480";
    }
    CHECK(ip_lengths["1"] == std::set<std::string>{"176"});
    CHECK(ip_lengths["2"] == std::set<std::string>{"120"});
    CHECK(ip_lengths["4"].count("60"));
    CHECK(ip_lengths["4"].count("124"));
    CHECK(full >= 1);
    CHECK(full <= 73);

    auto tunnel = s.read("tunel", "tcp", TCP);
    const Row* hello = with_payload(tunnel, "Olá pela VPN!");
    REQUIRE(hello != nullptr);
    CHECK((*hello)[SRC] == "100.96.0.20");
    CHECK((*hello)[DST] == "100.96.0.10");
    CHECK((*hello)[DPORT] == "8000");
    std::size_t mss = 0, biggest = 0;
    for (const Row& r : s.read("tunel", "tcp.port == 8001", {"tcp.options.mss_val", "tcp.len"})) {
        if (!r[0].empty()) mss = static_cast<std::size_t>(std::atol(r[0].c_str()));
        biggest = std::max(biggest, static_cast<std::size_t>(std::atol(r[1].c_str())));
    }
    CHECK(mss == 1380);      // 1420 - 20 (IP) - 20 (TCP)
    CHECK(biggest == 1368);  // 1420 - 20 (IP) - 32 (TCP with timestamps)
}

TEST_CASE("perda: iguana.jpg identical; retransmissions, duplicate ACKs, out-of-order counted") {
    Scenario s("perda");
    CHECK(s.has("iguana.jpg chegou idêntico ao original (100116 bytes), apesar das perdas."));
    CHECK(!s.has("AVISO"));
    CHECK(std::atoi(number_after(s.out, "O roteador descartou ").c_str()) > 0);
    const std::vector<std::string> marks = {
        "tcp.analysis.retransmission", "tcp.analysis.duplicate_ack", "tcp.analysis.out_of_order",
        "tcp.analysis.lost_segment", "tcp.len"};
    std::map<std::string, std::vector<int>> counts;
    for (const char* side : {"colega", "casa"}) {
        std::vector<int>& c = counts[side];
        c.assign(marks.size(), 0);
        for (const Row& r : s.read(side, "tcp", marks)) {
            for (std::size_t i = 0; i + 1 < marks.size(); ++i) c[i] += !r[i].empty();
            CHECK(std::atol(r[4].c_str()) <= 1448);  // real Ethernet segments, not GSO
        }
    }
    CHECK(counts["colega"][0] > 0);  // the sender resends what it sent before
    // Resent for real: a sequence number the sender had already sent. The
    // script prints the same count.
    std::map<std::string, int> sent;
    int resent = 0;
    for (const Row& r : s.read("colega", "tcp.srcport == 8000 && tcp.len > 0", {"tcp.seq"}))
        resent += sent[r[0]]++ > 0;
    CHECK(resent >= counts["colega"][0]);
    CHECK(s.has("Reenvios de fato (o mesmo número de sequência enviado de novo): " +
                std::to_string(resent) + ";"));
    CHECK(counts["casa"][1] > 0);    // the receiver repeats its ACK
    CHECK(counts["casa"][2] > 0);    // the resent segment fills the hole
    CHECK(counts["casa"][3] > 0);    // "previous segment not captured"
}

// The samples' column of a redes-congestionamento-<alg>.csv, as numbers.
std::vector<double> csv_column(const fs::path& csv, std::size_t column) {
    std::vector<double> values;
    std::istringstream lines(read_file(csv));
    std::string line;
    while (std::getline(lines, line)) {
        if (line.empty() || line[0] == '#') continue;
        std::stringstream cells(line);
        std::string cell;
        for (std::size_t i = 0; i <= column && std::getline(cells, cell, ','); ++i) {}
        values.push_back(std::atof(cell.c_str()));
    }
    return values;
}

TEST_CASE("congestionamento (reno, 2 s): the sawtooth in the ss samples, the RTT rising with the queue") {
    Scenario s("congestionamento", {"ALGORITMO=reno", "DURACAO=2"});
    CHECK(s.has("net.ipv4.tcp_congestion_control = reno no colega e na casa"));
    CHECK(s.has("tbf rate 20mbit burst 16kb limit 60kb"));
    // netem or not, the script says which in one line.
    CHECK((s.has("Este kernel não tem o netem") || s.has("netem delay 20ms")));
    CHECK(s.has("Mbits/sec")); // iperf3 receiver line
    const fs::path csv = s.captures.path / "redes-congestionamento-reno.csv";
    REQUIRE(fs::exists(csv));
    // The connection the samples came from used reno (ss prints the algorithm).
    CHECK(read_file(csv).find("(reno;") != std::string::npos);
    const std::vector<double> cwnd = csv_column(csv, 1), rtt = csv_column(csv, 3);
    REQUIRE(cwnd.size() >= 20);
    // The sawtooth: cwnd grows, then falls (a loss), at least twice.
    int falls = 0;
    bool grew = false;
    std::string trace;
    for (std::size_t i = 1; i < cwnd.size(); ++i) {
        trace += std::to_string(static_cast<int>(cwnd[i])) + " ";
        if (cwnd[i] > cwnd[i - 1]) grew = true;
        if (cwnd[i] < cwnd[i - 1] && grew) { ++falls; grew = false; }
    }
    INFO("cwnd: " << trace);
    CHECK(falls >= 2);
    // The RTT rises with the queue: the first data segment's RTT (capture,
    // empty queue) against the largest RTT the kernel estimated (ss). A full
    // queue (60 KB at 20 Mbit/s) adds ~24.6 ms; with netem (ATRASO=20ms) both
    // include the same propagation delay, hence a difference, not a ratio.
    auto first = s.read("reno", "tcp.srcport == 5201 && tcp.analysis.ack_rtt", {"tcp.analysis.ack_rtt"});
    REQUIRE(!first.empty());
    const double queue_empty_ms = std::atof(first.front()[0].c_str()) * 1000;
    const double most_ms = *std::max_element(rtt.begin(), rtt.end());
    INFO("first RTT " << queue_empty_ms << " ms, largest srtt " << most_ms << " ms");
    CHECK(most_ms - queue_empty_ms > 10);
    // Headers only: the capture keeps 128 bytes of each frame.
    for (const Row& r : s.read("reno", "frame.number <= 50", {"frame.cap_len"}))
        CHECK(std::atoi(r[0].c_str()) <= 128);
}

TEST_CASE("hairpin (redes/hairpin.sh): DNAT alone fails with the server's own address; with SNAT it works") {
    Process run({std::string(LAB_SOURCE_DIR) + "/redes/hairpin.sh"});
    auto code = run.wait_exit(60000ms);
    const std::string out = run.out();
    INFO(out << run.err());
    REQUIRE(code == 0);
    const auto second = out.find("== 2.");
    REQUIRE(second != std::string::npos);
    const std::string only_dnat = out.substr(0, second), with_snat = out.substr(second);
    // DNAT alone: the SYN/ACK comes from 192.168.0.10 itself, the client resets it.
    CHECK(only_dnat.find("192.168.0.10 → 192.168.0.11 TCP 74 8000 → ") != std::string::npos);
    CHECK(only_dnat.find("[RST]") != std::string::npos);
    CHECK(only_dnat.find("nada em 6 s") != std::string::npos);
    // With SNAT: the answer comes from the public address; the server sees the router.
    CHECK(with_snat.find("203.0.113.10 → 192.168.0.11 TCP 74 8000 → ") != std::string::npos);
    CHECK(with_snat.find("Cliente conectado: 192.168.0.1:") != std::string::npos);
    CHECK(with_snat.find("nada em 6 s") == std::string::npos);
    // Nothing left behind.
    CHECK(run_text({"ip", "netns", "list"}).find("hairpin" + std::to_string(run.pid()) + "-") ==
          std::string::npos);
}

TEST_CASE("Ctrl+C in the middle of congestionamento: the namespaces, qdiscs and iperf3 are removed") {
    const std::string host_cc = host_congestion_control();
    TempDir dir;
    Process run({"setsid", "env", "CENARIO=congestionamento", "ALGORITMO=cubic", "DURACAO=5",
                 "CAPTURE_DIR=" + dir.path.string(), SCRIPT});
    REQUIRE(run.wait_output(">> cubic", 30000ms));
    // In the middle of the transfer: the iperf3 client is running.
    bool running = false;
    for (int i = 0; i < 100 && !running; ++i) {
        running = leftovers(run.pid()).find("process iperf3 -c") != std::string::npos;
        if (!running) std::this_thread::sleep_for(50ms);
    }
    CHECK(running);
    ::kill(-run.pid(), SIGINT);
    CHECK(run.wait_exit(20000ms) == 130);
    // The qdiscs live on the namespaces' veths: they go with them.
    CHECK(leftovers(run.pid()).empty());
    CHECK(host_congestion_control() == host_cc);
}

TEST_CASE("Ctrl+C in the middle of the VPN: everything is removed") {
    // setsid: the script leads its own process group, and SIGINT goes to the
    // whole group, as Ctrl+C in a terminal does.
    TempDir dir;
    Process run({"setsid", "env", "CENARIO=vpn", "CAPTURE_DIR=" + dir.path.string(), SCRIPT});
    REQUIRE(run.wait_output("Interfaces do túnel", 30000ms));
    CHECK(leftovers(run.pid()).find("process wireguard-go") != std::string::npos);
    ::kill(-run.pid(), SIGINT);
    // Within 20 s (a hang guard; it takes ~0.15 s): every `timeout` in the
    // script is --foreground, so Ctrl+C reaches the command it runs.
    CHECK(run.wait_exit(20000ms) == 130);
    CHECK(leftovers(run.pid()).empty());
}

int main(int argc, char** argv) {
    // The reason to skip, if any, is printed and CTest shows "Skipped".
    std::string why = first_of(
        {need_root("network namespaces and captures need root", "sudo make redes"),
         need_tools({"ip", "nft", "tcpdump", "tshark", "editcap", "wg", "wireguard-go", "iperf3", "tc"}, "redes")});
    if (why.empty() && access("/dev/net/tun", R_OK | W_OK) != 0)
        why = "no /dev/net/tun: wireguard-go cannot make its tunnel here";
    if (!why.empty()) return skip_program(why);
    setenv("LAB_BIN_DIR", LAB_BIN_DIR, 0);  // the programs redes.sh runs
    doctest::Context context(argc, argv);
    return context.run();
}
