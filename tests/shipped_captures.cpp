// The sample captures shipped in captures/ (recorded by `make samples`, on
// port 8000) are what students without root, or on Windows, open in
// Wireshark, and what the READMEs describe. This test keeps them true: it
// reads each file with tshark and checks it against what the programs send
// TODAY (the real clients run against a raw socket in the test), so a change
// to a program's bytes on the wire fails here until the samples are recorded
// again. It needs no root and no network beyond loopback; without tshark it
// exits 77 (CTest: "Skipped") with the reason.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <poll.h>
#include <signal.h>
#include <sys/socket.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "../ex5_udp/datagram.h"
#include "support.h"
#include "tcp_capture.h"
#include "udp_capture.h"
#include "udp_relay.h"

using namespace lab;
namespace fs = std::filesystem;

namespace {

const fs::path SAMPLES = fs::path(LAB_SOURCE_DIR) / "captures";

// One sample file read with tshark, and the byte streams rebuilt from the
// sequence numbers (a hole fails the test).
struct Sample : TcpCapture {
    explicit Sample(const std::string& name) {
        const fs::path file = SAMPLES / name;
        REQUIRE_MESSAGE(fs::exists(file), file << " is missing (make samples records it)");
        read(file);
        REQUIRE(server_port == 8000);
        // The guide's filter `tcp.port == 8000` must show every frame.
        for (const Segment& s : segments) CHECK((s.src == 8000 || s.dst == 8000));
        CHECK(segments[0].has('S'));
        CHECK(segments[0].dst == 8000);
    }
};

// What today's client `program` sends when a person types `typed` (then
// Ctrl+D, or with `args`), read by a fake server in the test; `wait_close`:
// read until the client closes its side, else for a short while.
std::string client_sends(const std::string& program, const std::string& typed,
                         std::vector<std::string> args = {}, bool wait_close = true) {
    int port = 0;
    int listener = listen_local(port);
    REQUIRE(listener >= 0);
    std::vector<std::string> argv = {bin(program), "127.0.0.1", std::to_string(port)};
    argv.insert(argv.end(), args.begin(), args.end());
    Process client(argv);
    int fd = accept_within(listener, 10000ms);
    REQUIRE(fd >= 0);
    if (!typed.empty()) client.write_stdin(typed);
    client.close_stdin();
    std::string got = wait_close ? recv_until_close(fd, 10000ms) : recv_exactly(fd, 4096, 1000ms);
    close_fd(fd);
    close_fd(listener);
    client.wait_exit(10000ms);
    return got;
}

// How many data segments of each size one side sent.
std::map<std::size_t, int> sizes(const Sample& s, bool to_server) {
    std::map<std::size_t, int> out;
    for (const Segment* seg : s.data(to_server)) out[seg->len] += 1;
    return out;
}

}  // namespace

TEST_CASE("captures/ex1.pcapng: the bytes today's ex1 client sends, relayed to both") {
    Sample s("ex1.pcapng");
    const std::string ola = client_sends("ex1_chat/client", "Olá turma de redes industriais\n");
    const std::string oi = client_sends("ex1_chat/client", "Oi! Recebi.\n");
    CHECK(ola == "Olá turma de redes industriais");  // 31 bytes: no framing
    CHECK(ola.size() == 31);
    auto to_server = s.streams(true);
    REQUIRE(to_server.size() == 2);
    CHECK(to_server[0] == ola);
    CHECK(to_server[1] == oi);
    // The server relays each chunk unchanged to every client, sender included.
    for (const std::string& relayed : s.streams(false)) CHECK(relayed == ola + oi);
    // The frame the README walks through byte by byte: 66 + 31 = 97 bytes.
    CHECK(s.data(true)[0]->frame_len == 97);
}

TEST_CASE("captures/ex2.pcapng: the key line, and every token decrypts with today's client") {
    Sample s("ex2.pcapng");
    auto from_server = s.streams(false);
    REQUIRE(from_server.size() == 2);
    const std::string key = from_server[0].substr(0, 44);
    for (const std::string& stream : from_server) {
        REQUIRE(stream.size() > 45);
        CHECK(stream.substr(0, 45) == key + "\n");  // one key for all clients
    }
    CHECK(key.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=") ==
          std::string::npos);
    // The key frame is the only one the README's filter finds.
    int key_frames = 0;
    for (const Segment* seg : s.data(false)) key_frames += seg->seq == 1;
    CHECK(key_frames == 2);
    for (const Segment* seg : s.data(false))
        if (seg->seq == 1) CHECK(seg->len == 45);

    // Everything the clients sent, and everything relayed after the key, one
    // token per line: today's `client --decrypt KEY` reads them.
    std::string tokens;
    for (const std::string& stream : s.streams(true)) tokens += stream;
    for (const std::string& stream : from_server) tokens += stream.substr(45);
    Process decrypt({bin("ex2_crypto/client"), "--decrypt", key});
    decrypt.write_stdin(tokens);
    decrypt.close_stdin();
    REQUIRE(decrypt.wait_exit(10000ms) == 0);
    const std::string plain = decrypt.out();
    CHECK(count_of(plain, "Mensagem inválida") == 0);
    CHECK(plain == "OK\nOlá turma de redes\nOK\nOi! Recebi.\n"
                   "Olá turma de redes\nOi! Recebi.\nOlá turma de redes\nOi! Recebi.\n");
    // Sizes the README states: 57 = OK, 81 = "Olá turma de redes" (+ '\n').
    auto to_server = s.streams(true);
    REQUIRE(to_server.size() == 2);
    CHECK(to_server[0].size() == 57 + 81);
    CHECK(to_server[1].size() == 57 + 69);
}

TEST_CASE("captures/ex3.pcapng: GET iguana.jpg as today's client sends it; the file + OK back") {
    Sample s("ex3.pcapng");
    TempDir downloads;
    const std::string get =
        client_sends("ex3_files/client", "", {"iguana.jpg", "--dir", downloads.path.string()}, false);
    CHECK(get == "GET iguana.jpg");
    auto to_server = s.streams(true);
    REQUIRE(to_server.size() == 1);
    CHECK(to_server[0] == get);
    auto from_server = s.streams(false);
    REQUIRE(from_server.size() == 1);
    const std::string image = read_file(fs::path(LAB_SOURCE_DIR) / "ex3_files/imagens/iguana.jpg");
    REQUIRE(image.size() == 100116);
    CHECK(from_server[0] == image + "OK");
    CHECK(s.segments[0].mss == 65495);  // loopback: 65535 - 20 (IP) - 20 (TCP)
}

TEST_CASE("captures/ex3-veth.pcapng: two hosts, MTU 1500: no segment above 1448 bytes") {
    Sample s("ex3-veth.pcapng");
    CHECK(s.segments[0].mss == 1460);  // 1500 - 20 (IP) - 20 (TCP)
    std::size_t largest = 0;
    for (const Segment* seg : s.data(false)) largest = std::max(largest, seg->len);
    CHECK(largest == 1448);  // 1460 - 12 (the timestamps option)
    auto from_server = s.streams(false);
    REQUIRE(from_server.size() == 1);
    const std::string image = read_file(fs::path(LAB_SOURCE_DIR) / "ex3_files/imagens/iguana.jpg");
    CHECK(from_server[0] == image + "OK");
}

// ---- ex4 (issue 19) ---------------------------------------------------------
// Nothing in ex4's sample decrypts, so it is checked by its shape: the length
// of every line, each direction, each connection, against what today's
// server and client send in the same session, recorded here through a small
// relay (a fresh copy of the server, so no key file of the repository is used).

// The length of each line of a stream; every byte must be in a line.
std::vector<std::size_t> line_lengths(const std::string& stream) {
    std::vector<std::size_t> out;
    std::size_t start = 0;
    for (auto nl = stream.find('\n'); nl != std::string::npos; nl = stream.find('\n', start)) {
        out.push_back(nl - start);
        start = nl + 1;
    }
    CHECK(start == stream.size());
    return out;
}

// Today's ex4 client typing `typed` into today's ex4 server, through a relay
// that records both directions (up: to the server).
void ex4_session_today(const std::string& typed, std::string& up, std::string& down) {
    TempDir dir;
    fs::copy_file(bin("ex4_kx/server"), dir.path / "server");
    Server server;
    for (int attempt = 0; attempt < 5 && !server.process; ++attempt) {
        server.port = free_port();
        auto p = std::make_unique<Process>(std::vector<std::string>{
            (dir.path / "server").string(), "127.0.0.1", std::to_string(server.port)});
        if (p->wait_output("Aguardando", 5000ms)) server.process = std::move(p);
    }
    REQUIRE(server.process);
    const std::string out = server.process->out(), label = "Chave pública do servidor: ";
    const std::string key = out.substr(out.find(label) + label.size(), 44);
    int port = 0;
    int listener = listen_local(port);
    Process client({bin("ex4_kx/client"), "127.0.0.1", std::to_string(port), "--chave-servidor", key});
    int from_client = accept_within(listener, 10000ms);
    REQUIRE(from_client >= 0);
    int to_server = connect_to(server.port);
    REQUIRE(to_server >= 0);
    client.write_stdin(typed);
    std::thread typing([&client] {
        std::this_thread::sleep_for(1000ms);  // then Ctrl+D, as a person would
        client.close_stdin();
    });
    pollfd fds[2] = {{from_client, POLLIN, 0}, {to_server, POLLIN, 0}};
    for (auto end = Clock::now() + 10s; Clock::now() < end && poll(fds, 2, 100) >= 0;) {
        bool done = false;
        for (int i = 0; i < 2 && !done; ++i) {
            if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            char buf[4096];
            ssize_t n = recv(fds[i].fd, buf, sizeof buf, 0);
            done = n <= 0;
            if (!done) (i == 0 ? up : down).append(buf, static_cast<std::size_t>(n));
            if (!done) send_bytes(fds[1 - i].fd, std::string(buf, static_cast<std::size_t>(n)));
        }
        if (done) break;
    }
    typing.join();
    close_fd(from_client);
    close_fd(to_server);
    close_fd(listener);
    client.wait_exit(10000ms);
}

TEST_CASE("captures/ex4.pcapng: every line has the length today's ex4 programs send; nothing "
          "decrypts") {
    Sample s("ex4.pcapng");
    auto to_server = s.streams(true), from_server = s.streams(false);
    REQUIRE(to_server.size() == 2);
    REQUIRE(from_server.size() == 2);
    // Client 1 typed "Olá turma de redes" (19 bytes: 48 characters), client 2
    // "Oi! Recebi." (11 bytes: 40); each gets both messages back.
    using Lengths = std::vector<std::size_t>;
    CHECK(line_lengths(to_server[0]) == Lengths{44, 32, 28, 48});   // Ec, header, OK, message
    CHECK(line_lengths(to_server[1]) == Lengths{44, 32, 28, 40});
    for (const std::string& stream : from_server)                   // S, Es, header, OK, 2 messages
        CHECK(line_lengths(stream) == Lengths{44, 44, 32, 28, 48, 40});
    CHECK(from_server[0].substr(0, 45) == from_server[1].substr(0, 45));  // the same S
    CHECK(from_server[0].substr(45, 45) != from_server[1].substr(45, 45));  // a new Es each
    // Today's programs, the same session: the same lengths (and the server's
    // first 90 bytes are its two keys).
    std::string up, down;
    ex4_session_today("Olá turma de redes\n", up, down);
    CHECK(line_lengths(up) == Lengths{44, 32, 28, 48});
    CHECK(line_lengths(down) == Lengths{44, 44, 32, 28, 48});
    // The ex2 attack on the sample (demo (a) of ex4's README): the first line
    // the server sent, as a key, opens none of the lines the clients sent.
    Process decrypt({bin("ex2_crypto/client"), "--decrypt", from_server[0].substr(0, 44)});
    decrypt.write_stdin(to_server[0] + to_server[1]);
    decrypt.close_stdin();
    REQUIRE(decrypt.wait_exit(10000ms) == 0);
    CHECK(count_of(decrypt.out(), "Mensagem inválida descartada\n") == 8);
}

// The READMEs and PROFESSOR.md quote these figures of the samples: recording
// the samples again without updating them fails here.
TEST_CASE("the figures the READMEs quote from the samples") {
    Sample ex1("ex1.pcapng");
    CHECK(ex1.segments.size() == 24);
    REQUIRE(!ex1.data(true).empty());
    CHECK(ex1.data(true)[0]->frame == 7);
    CHECK(ex1.data(true)[0]->src == 56522);
    std::vector<int> from_server;
    for (const Segment* seg : ex1.data(false)) from_server.push_back(seg->frame);
    CHECK(from_server == std::vector<int>{9, 11, 15, 17});

    Sample ex2("ex2.pcapng");
    CHECK(ex2.segments.size() == 32);
    std::vector<int> keys, with_equals;
    for (const Segment* seg : ex2.data(false))
        if (seg->seq == 1) keys.push_back(seg->frame);
    for (const Segment& seg : ex2.segments)
        if (seg.payload.find('=') != std::string::npos) with_equals.push_back(seg.frame);
    CHECK(keys == std::vector<int>{7, 9});
    CHECK(with_equals == std::vector<int>{7, 9, 15, 17, 18});  // tcp contains "="
    CHECK(ex2.streams(false)[0].substr(0, 44) == "QGAp-QcS3bLT_-oXTnbE96U8xmkV8KmtI167Z8slNF0=");

    Sample ex3("ex3.pcapng");
    CHECK(ex3.segments.size() == 48);
    CHECK(ex3.data(false).size() == 22);
    CHECK(sizes(ex3, false) == std::map<std::size_t, int>{{1024, 19}, {8470, 1}, {35840, 1}, {36352, 1}});

    // ex4's README frame table ("No Wireshark") and PROFESSOR.md's answers.
    Sample ex4("ex4.pcapng");
    CHECK(ex4.segments.size() == 38);
    std::vector<int> ex4_frames;
    std::vector<std::size_t> ex4_sizes;
    for (const Segment* seg : ex4.data(false)) {
        ex4_frames.push_back(seg->frame);
        ex4_sizes.push_back(seg->len);
    }
    CHECK(ex4_frames == std::vector<int>{4, 8, 13, 17, 23, 24, 29, 31});
    CHECK(ex4_sizes == std::vector<std::size_t>{90, 62, 90, 62, 49, 49, 41, 41});
    ex4_frames.clear();
    ex4_sizes.clear();
    for (const Segment* seg : ex4.data(true)) {
        ex4_frames.push_back(seg->frame);
        ex4_sizes.push_back(seg->len);
    }
    CHECK(ex4_frames == std::vector<int>{6, 9, 15, 18, 21, 27});
    CHECK(ex4_sizes == std::vector<std::size_t>{78, 29, 78, 29, 49, 41});
    CHECK(ex4.data(true)[0]->src == 46078);
    CHECK(ex4.data(true)[2]->src == 46080);
    CHECK(ex4.streams(false)[0].substr(0, 44) == "z3yPPRu9XZuFLZBITMW5v4qSYw5Rnlsrqc7KmxaJP1E=");
    CHECK(ex4.streams(false)[0].substr(45, 44) == "GtvjcRIz1ZYl07oQIjcC-3QX6MZpLaWDuduZZqXIu3Y=");
    CHECK(ex4.streams(false)[1].substr(45, 44) == "kniFQ2csGxRQbSfkDi18GUOZGWn5eNMqpV8EEW7SplM=");

    Sample veth("ex3-veth.pcapng");
    CHECK(veth.segments.size() == 151);
    CHECK(veth.data(false).size() == 87);
    CHECK(sizes(veth, false) ==
          std::map<std::size_t, int>{{2, 1}, {592, 1}, {600, 2}, {788, 1}, {1024, 50}, {1448, 32}});
}

// ---- ex5 (UDP) ---------------------------------------------------------------

namespace {

// The first datagram today's ex5 client sends, read by a fake UDP server.
std::string ex5_client_sends(const std::vector<std::string>& mode) {
    int fake = udp_socket();
    REQUIRE(fake >= 0);
    TempDir downloads;
    std::vector<std::string> argv = {bin("ex5_udp/client"), "127.0.0.1", std::to_string(udp_port(fake)),
                                     "iguana.jpg", "--dir", downloads.path.string()};
    argv.insert(argv.end(), mode.begin(), mode.end());
    Process client(argv);
    std::string got;
    CHECK(udp_recv(fake, got, 10000ms));
    client.kill(SIGTERM);
    client.wait_exit(10000ms);
    close_fd(fake);
    return got;
}

const std::string IGUANA_FILE = "ex3_files/imagens/iguana.jpg";

}  // namespace

TEST_CASE("captures/ex5.pcapng: GET as today's client sends it; SIZE, 98 datagrams, OK; no TCP") {
    UdpCapture c;
    c.read(SAMPLES / "ex5.pcapng");
    CHECK(c.server_port == 8000);
    CHECK(c.tcp_frames == 0);
    CHECK(c.frames.size() == 101);
    auto up = c.datagrams(true), down = c.datagrams(false);
    REQUIRE(up.size() == 1);
    CHECK(up[0]->payload == ex5_client_sends({}));
    CHECK(up[0]->payload == "GET iguana.jpg");
    CHECK(up[0]->frame_len == 56);  // 14 Ethernet + 20 IP + 8 UDP + 14
    REQUIRE(down.size() == 100);
    CHECK(down[0]->payload == "SIZE 100116 98");
    CHECK(down[99]->payload == "OK 21b99b7a");
    std::string joined;
    for (int i = 1; i <= 98; ++i) {
        joined += down[i]->payload;
        CHECK(down[i]->frame_len == (i < 98 ? 1066u : 830u));  // 42 + 1024, 42 + 788
    }
    CHECK(joined == read_file(fs::path(LAB_SOURCE_DIR) / IGUANA_FILE));
}

TEST_CASE("captures/ex5-confiavel-perda.pcapng: stop-and-wait over 10% loss, the resends") {
    UdpCapture c;
    c.read(SAMPLES / "ex5-confiavel-perda.pcapng");
    CHECK(c.server_port == 8000);
    CHECK(c.tcp_frames == 0);
    CHECK(c.frames.size() == 212);
    auto up = c.datagrams(true), down = c.datagrams(false);
    REQUIRE(!up.empty());
    REQUIRE(!down.empty());
    CHECK(up[0]->payload == ex5_client_sends({"--confiavel"}));
    CHECK(up[0]->payload == datagram::padded_request(1, "GET iguana.jpg"));  // 1200 bytes
    CHECK(up[0]->frame_len == 1242);
    // The SIZE's number, drawn by the server: the README and PROFESSOR.md count from it.
    REQUIRE(down[0]->type == "SIZE");
    const long first = down[0]->seq;
    CHECK(first == 0x6c468ab9);
    std::map<long, std::string> piece;
    std::vector<long> resent;
    for (const UdpFrame* d : down) {
        if (d->resent) resent.push_back(d->seq - first);
        if (d->type == "DADOS") piece[d->seq - first] = d->payload.substr(datagram::HEADER);
    }
    // The figures the README quotes: 11 resends (8 numbers; 60, 68 and 82 twice).
    CHECK(resent == std::vector<long>{8, 15, 24, 37, 60, 60, 68, 68, 71, 82, 82});
    REQUIRE(piece.size() == 98);
    std::string joined;
    for (const auto& p : piece) joined += p.second;
    CHECK(joined == read_file(fs::path(LAB_SOURCE_DIR) / IGUANA_FILE));
    long last_ack = 0;
    for (const UdpFrame* d : up) last_ack = std::max(last_ack, d->ack - first);
    CHECK(last_ack == 100);
    CHECK(down.back()->type == "OK");
}

TEST_CASE("captures/ex5-controle.pcapng: congestion control through the bottleneck, beside its --rtt trace") {
    UdpCapture c;
    c.read(SAMPLES / "ex5-controle.pcapng");
    CHECK(c.server_port == 8000);
    CHECK(c.tcp_frames == 0);
    auto up = c.datagrams(true), down = c.datagrams(false);
    REQUIRE(!up.empty());
    REQUIRE(!down.empty());
    const std::uint16_t window = 256;
    CHECK(up[0]->payload == datagram::padded_request(window, "GET gato.jpg"));
    REQUIRE(down[0]->type == "SIZE");
    const long first = down[0]->seq;
    // Slow start: before the first ACK of data, one datagram (the SIZE); then each
    // ACK lets two more out. Count what the server sent between ACKs until the first resend.
    std::map<long, int> sent;
    long data_sent = 0, resends = 0;
    for (const UdpFrame* d : down)
        if (d->type == "DADOS") {
            resends += sent[d->seq - first]++ > 0;
            ++data_sent;
        }
    CHECK(sent.size() == 233);
    CHECK(resends == data_sent - 233);
    CHECK(resends > 0);  // the bottleneck's queue dropped some
    // The trace shipped beside it says the same: 233 sent, the same resends.
    const std::string trace = read_file(SAMPLES / "ex5-controle-rtt.txt");
    CHECK(trace.find("Enviados 233 datagramas (" + std::to_string(resends) + " reenvios)") != std::string::npos);
    CHECK(trace.find("3 ACKs repetidos em ") != std::string::npos);
    CHECK(trace.find(": cwnd 2.00, ssthresh 256.00, em voo 0, RTO ") != std::string::npos);  // the SIZE's ACK
}

// ---- ex6: Modbus/TCP on port 1502 ---------------------------------------------

// The bytes today's ex6 client sends for `args`, read by a fake PLC that
// answers nothing (the client then gives up: only its request matters here).
std::string modbus_request(const std::vector<std::string>& args) {
    int port = 0;
    int listener = listen_local(port);
    std::vector<std::string> argv = {bin("ex6_modbus/client"), "127.0.0.1", std::to_string(port)};
    argv.insert(argv.end(), args.begin(), args.end());
    Process client(argv);
    int fd = accept_within(listener, 10000ms);
    REQUIRE(fd >= 0);
    std::string got = recv_exactly(fd, 12, 10000ms);
    close_fd(fd);
    close_fd(listener);
    client.wait_exit(10000ms);
    return got;
}

// What Wireshark's Modbus/TCP dissector reads in the sample, one line per
// Modbus frame: "frame;trans_id;func_code;exception_code;registers".
std::vector<std::string> modbus_fields(const fs::path& file) {
    Process tshark({"tshark", "-r", file.string(), "-o", "mbtcp.tcp.port:1502", "-Y", "mbtcp",
                    "-T", "fields", "-E", "separator=;", "-e", "frame.number", "-e",
                    "mbtcp.trans_id", "-e", "modbus.func_code", "-e", "modbus.exception_code",
                    "-e", "modbus.regval_uint16"});
    REQUIRE(tshark.wait_exit(60000ms) == 0);
    std::vector<std::string> lines;
    std::istringstream in(tshark.out());
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
}

TEST_CASE("captures/ex6.pcapng: today's client's requests, today's server's replies, as Wireshark reads them") {
    const fs::path file = SAMPLES / "ex6.pcapng";
    REQUIRE_MESSAGE(fs::exists(file), file << " is missing (SAMPLES=ex6 make samples records it)");
    TcpCapture s;
    s.read(file);
    REQUIRE(s.server_port == 1502);
    for (const Segment& seg : s.segments) CHECK((seg.src == 1502 || seg.dst == 1502));
    CHECK(s.segments.size() == 30);
    // Three connections: a read, a write, a read past the end (exception 02).
    const std::vector<std::vector<std::string>> commands = {
        {"ler", "0", "5"}, {"escrever", "10", "4321"}, {"ler", "99", "2"}};
    auto to_server = s.streams(true);
    auto from_server = s.streams(false);
    REQUIRE(to_server.size() == 3);
    REQUIRE(from_server.size() == 3);
    for (std::size_t i = 0; i < 3; ++i) CHECK(to_server[i] == modbus_request(commands[i]));
    CHECK(unhex("000100000006010300000005") == to_server[0]);

    // Today's server gives the same replies to those requests; only the two live
    // registers of the read (the tank's level and temperature) may differ.
    Server server = start_server("ex6_modbus/server", {"--quiet"});
    for (std::size_t i = 0; i < 3; ++i) {
        CAPTURE(i);
        int fd = connect_to(server.port);
        REQUIRE(fd >= 0);
        REQUIRE(send_bytes(fd, to_server[i]));
        std::string header = recv_exactly(fd, 7, 5000ms);
        REQUIRE(header.size() == 7);
        std::string reply = header + recv_exactly(fd, static_cast<unsigned char>(header[5]) - 1u, 5000ms);
        close_fd(fd);
        REQUIRE(reply.size() == from_server[i].size());
        if (i == 0) {
            CHECK(reply.substr(0, 9) == from_server[i].substr(0, 9));  // MBAP, function, byte count
            CHECK(reply.substr(13) == from_server[i].substr(13));      // registers 2, 3, 4
        } else {
            CHECK(reply == from_server[i]);
        }
    }

    // The README's walk through the frames, as tshark's dissector shows them.
    CHECK(modbus_fields(file) == std::vector<std::string>{
                                     "4;1;3;;", "6;1;3;;494,249,800,200,258", "14;1;6;;",
                                     "16;1;6;;", "24;1;3;;", "26;1;3;2;"});
    std::vector<int> frames;
    std::vector<std::size_t> lengths;
    for (const Segment& seg : s.segments)
        if (seg.len > 0) {
            frames.push_back(seg.frame);
            lengths.push_back(seg.frame_len);
        }
    CHECK(frames == std::vector<int>{4, 6, 14, 16, 24, 26});
    CHECK(lengths == std::vector<std::size_t>{78, 85, 78, 78, 78, 75});  // 66 + 12, 66 + 19, 66 + 9
    CHECK(from_server[0] == unhex("00010000000d01030a01ee00f9032000c80102"));
    CHECK(from_server[2] == unhex("000100000003018302"));
}

// ---- redes: the lossy link and the bottleneck (make redes) ---------------------

// One tshark field per line, for the frames `filter` shows.
std::vector<std::string> tshark_field(const fs::path& file, const std::string& filter,
                                      const std::string& field) {
    Process tshark({"tshark", "-r", file.string(), "-Y", filter, "-T", "fields", "-e", field});
    REQUIRE(tshark.wait_exit(60000ms) == 0);
    std::vector<std::string> lines;
    std::istringstream in(tshark.out());
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
}

TEST_CASE("captures/perda-*.pcapng: the figures redes/README.md quotes outside tshark sessions") {
    // 93 data segments left the colleague, 83 reached home: 10 dropped, 10 resent.
    const auto sent = tshark_field(SAMPLES / "perda-colega.pcapng", "tcp.srcport == 8000 && tcp.len > 0", "tcp.seq");
    const auto got = tshark_field(SAMPLES / "perda-casa.pcapng", "tcp.srcport == 8000 && tcp.len > 0", "tcp.seq");
    CHECK(sent.size() == 93);
    CHECK(got.size() == 83);
    std::map<std::string, int> times;
    int resent = 0;
    for (const std::string& seq : sent) resent += times[seq]++ > 0;
    CHECK(resent == 10);
    // The timer's resend (frame 95) 205.5 ms after the resend before it (frame 94).
    const auto t = tshark_field(SAMPLES / "perda-colega.pcapng", "frame.number in {94, 95}", "frame.time_relative");
    REQUIRE(t.size() == 2);
    CHECK(std::lround((std::stod(t[1]) - std::stod(t[0])) * 1e4) == 2055);
}

TEST_CASE("captures/congestionamento-reno.pcapng.gz and its ss samples: the figures redes/README.md quotes") {
    const fs::path file = SAMPLES / "congestionamento-reno.pcapng.gz";
    REQUIRE_MESSAGE(fs::exists(file), file << " is missing (make samples records it)");
    // The receiver advertised 64,240 to 608,256 bytes; at most 117,288 in flight.
    std::vector<long> win, flight;
    for (const std::string& v : tshark_field(file, "tcp.stream == 1 && tcp.dstport == 5201", "tcp.window_size"))
        win.push_back(std::stol(v));
    for (const std::string& v : tshark_field(file, "tcp.stream == 1 && tcp.srcport == 5201", "tcp.analysis.bytes_in_flight"))
        if (!v.empty()) flight.push_back(std::stol(v));
    REQUIRE(!win.empty());
    REQUIRE(!flight.empty());
    CHECK(*std::min_element(win.begin(), win.end()) == 64240);
    CHECK(*std::max_element(win.begin(), win.end()) == 608256);
    CHECK(*std::max_element(flight.begin(), flight.end()) == 117288);
    // The summary's retransmissions (the last sample of each CSV) and Reno's slow start.
    const fs::path data = fs::path(LAB_SOURCE_DIR) / "figuras/dados";
    auto rows = [&](const std::string& alg) {
        std::vector<std::vector<std::string>> out;
        std::istringstream in(read_file(data / ("congestionamento-" + alg + ".csv")));
        for (std::string line; std::getline(in, line);) {
            if (line.empty() || line[0] == '#') continue;
            std::vector<std::string> cells;
            std::stringstream cs(line);
            for (std::string c; std::getline(cs, c, ',');) cells.push_back(c);
            out.push_back(cells);
        }
        return out;
    };
    const auto reno = rows("reno"), cubic = rows("cubic"), bbr = rows("bbr");
    REQUIRE(reno.size() > 4);
    CHECK(reno.back()[5] == "59");
    CHECK(cubic.back()[5] == "9");
    CHECK(bbr.back()[5] == "546");
    CHECK((std::vector<std::string>{reno[0][1], reno[1][1], reno[2][1], reno[3][1]} ==
           std::vector<std::string>{"23", "43", "64", "80"}));
}

int main(int argc, char** argv) {
    if (auto why = need_tools({"tshark"}, "capture"); !why.empty()) return skip_program(why);
    doctest::Context context(argc, argv);
    return context.run();
}
