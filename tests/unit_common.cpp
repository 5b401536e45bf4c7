// Unit tests of common/ (the portability shim).
#include <doctest/doctest.h>

#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>

#include "../common/args.h"
#include "../common/hex_text.h"
#include "../common/net.h"
#include "../common/safe_text.h"
#include "support.h"

using namespace std::chrono_literals;

TEST_CASE("parse_port accepts 1..65535 and nothing else") {
    std::string port;
    CHECK(args::parse_port("8000", port));
    CHECK(port == "8000");
    CHECK(args::parse_port("1", port));
    CHECK(args::parse_port("65535", port));
    CHECK(args::parse_port("08000", port));
    CHECK(port == "8000");
    for (const char* bad : {"", "0", "65536", "99999", "-1", "80a", " 80", "1e3", "123456",
                            "0000065536"}) {
        CHECK_MESSAGE(!args::parse_port(bad, port), bad);
    }
    CHECK(args::parse_port("09000", port));
    CHECK(port == "9000");
}

TEST_CASE("hex_text: the one hex encoder (bytes, numbers, safe_text's \\xNN)") {
    const unsigned char some[] = {0x00, 0x01, 0x1b, 0xff};
    CHECK(hex_text::bytes(some, 4) == "00011bff");
    CHECK(hex_text::bytes(some, 4, " ") == "00 01 1b ff");
    CHECK(hex_text::bytes(some, 0, " ").empty());
    CHECK(hex_text::number(0x1a2b, 8) == "00001a2b");
    CHECK(hex_text::number(0xffffffffu, 8) == "ffffffff");
    CHECK(safe_text::printable("a\x1b[2J") == "a\\x1b[2J");
}

TEST_CASE("resolve: localhost gives IPv4 first, ::1 is IPv6, errors are explained") {
    net::Startup startup;
    std::string error;
    auto list = net::resolve("localhost", "8000", false, error);
    REQUIRE(list);
    CHECK(list->ai_family == AF_INET);
    CHECK(net::address_of(list->ai_addr) == "127.0.0.1");
    CHECK(net::port_of(list->ai_addr) == 8000);
    for (addrinfo* a = list.get(); a; a = a->ai_next) CHECK(a->ai_socktype == SOCK_STREAM);
    // For UDP (ex5), the socket type asked for.
    auto udp = net::resolve("localhost", "8000", false, error, AF_INET, SOCK_DGRAM);
    REQUIRE(udp);
    for (addrinfo* a = udp.get(); a; a = a->ai_next) CHECK(a->ai_socktype == SOCK_DGRAM);

    auto v6 = net::resolve("::1", "9", false, error);
    REQUIRE(v6);
    CHECK(v6->ai_family == AF_INET6);
    CHECK(net::address_of(v6->ai_addr) == "::1");
    CHECK(net::port_of(v6->ai_addr) == 9);
    // address:port in one piece: IPv6 in brackets (student finding 16).
    CHECK(net::endpoint_of(v6->ai_addr) == "[::1]:9");
    CHECK(net::endpoint_of(list->ai_addr) == "127.0.0.1:8000");
    CHECK(net::host_port("localhost", "8000") == "localhost:8000");
    CHECK(net::host_port("2001:db8::1", 502u) == "[2001:db8::1]:502");

    auto bad = net::resolve("no.such.host.invalid", "8000", false, error);
    CHECK(!bad);
    CHECK(error.find("não foi possível resolver o endereço no.such.host.invalid") == 0);
}

TEST_CASE("send_all delivers every byte even when send() writes only part") {
    net::Startup startup;
    int pair[2];
    REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, pair) == 0);
    // 8 MiB is far more than a socket buffer: send() must return short counts.
    std::string data(8 << 20, '\0');
    for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 31 + i / 977);
    std::string received;
    std::thread reader([&] { received = lab::recv_until_close(pair[1], 20000ms); });
    CHECK(net::send_all(pair[0], data.data(), data.size()));
    net::close_socket(pair[0]);
    reader.join();
    net::close_socket(pair[1]);
    CHECK(received.size() == data.size());
    CHECK(received == data);
}

TEST_CASE("send_all to a closed peer fails with an error instead of SIGPIPE") {
    net::Startup startup;  // ignores SIGPIPE: without it this test would die
    int pair[2];
    REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, pair) == 0);
    net::close_socket(pair[1]);
    std::string data(1 << 16, 'x');
    CHECK(!net::send_all(pair[0], data.data(), data.size()));
    CHECK(errno == EPIPE);
    CHECK(net::last_error() == "conexão fechada pelo outro lado (EPIPE 32)");
    net::close_socket(pair[0]);
}

TEST_CASE("set_reuse_address lets a server bind again over TIME_WAIT") {
    net::Startup startup;
    int port = lab::free_port();
    std::string error;
    auto addr = net::resolve("127.0.0.1", std::to_string(port), true, error);
    REQUIRE(addr);
    // A connection closed by the server side leaves TIME_WAIT on the port.
    socket_t server = socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(net::set_reuse_address(server));
    REQUIRE(bind(server, addr->ai_addr, static_cast<socklen_t>(addr->ai_addrlen)) == 0);
    REQUIRE(listen(server, 1) == 0);
    int client = lab::connect_to(port);
    REQUIRE(client >= 0);
    socket_t accepted = accept(server, nullptr, nullptr);
    REQUIRE(accepted != INVALID_SOCKET);
    net::close_socket(accepted);  // active close: TIME_WAIT on the server side
    net::close_socket(server);
    lab::recv_until_close(client, 2000ms);
    lab::close_fd(client);

    socket_t again = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(net::set_reuse_address(again));
    CHECK(bind(again, addr->ai_addr, static_cast<socklen_t>(addr->ai_addrlen)) == 0);
    net::close_socket(again);
}

TEST_CASE("set_timeout bounds a blocking recv") {
    net::Startup startup;
    int pair[2];
    REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, pair) == 0);
    REQUIRE(net::set_timeout(pair[0], SO_RCVTIMEO, 0.05));
    char c;
    CHECK(recv(pair[0], &c, 1, 0) == -1);
    CHECK((errno == EAGAIN || errno == EWOULDBLOCK));
    net::close_socket(pair[0]);
    net::close_socket(pair[1]);
}

TEST_CASE("family_of: an address with ':' is IPv6, anything else IPv4") {
    CHECK(net::family_of("::1") == AF_INET6);
    CHECK(net::family_of("fe80::1") == AF_INET6);
    CHECK(net::family_of("127.0.0.1") == AF_INET);
    CHECK(net::family_of("localhost") == AF_INET);
    CHECK(net::family_of("") == AF_INET);
}

TEST_CASE("bind_hint tells a port in use from an address that is not this machine's") {
    net::Startup startup;
    int first = socket(AF_INET, SOCK_STREAM, 0);
    int second = socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(first >= 0);
    REQUIRE(second >= 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(bind(first, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    REQUIRE(listen(first, 1) == 0);
    socklen_t length = sizeof address;
    REQUIRE(getsockname(first, reinterpret_cast<sockaddr*>(&address), &length) == 0);
    CHECK(bind(second, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0);
    CHECK(net::bind_hint() == " (a porta já está em uso?)");
    // 203.0.113.10 (a documentation address) is on no interface here.
    inet_pton(AF_INET, "203.0.113.10", &address.sin_addr);
    CHECK(bind(second, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0);
    CHECK(net::bind_hint().find("este IP não pertence a esta máquina") != std::string::npos);
    close(first);
    close(second);
}

// Old connections in TIME_WAIT of a socket without SO_REUSEADDR (the guide's
// Python server; lab::listen_local does not set it either) hold the port, and
// nothing listens. Returns the port (on 127.0.0.1).
static int port_in_time_wait() {
    int port = 0;
    int listener = lab::listen_local(port);
    int client = lab::connect_to(port);
    int accepted = lab::accept_within(listener, 5000ms);
    REQUIRE(accepted >= 0);
    close(accepted);  // the server side closes first: its end goes to TIME_WAIT
    CHECK(lab::recv_until_close(client, 5000ms).empty());  // the FIN arrived
    close(client);
    close(listener);
    return port;
}

TEST_CASE("bind_hint: a port held only by TIME_WAIT says so (issue 28), not 'em uso?'") {
    net::Startup startup;
    const int port = port_in_time_wait();
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(static_cast<uint16_t>(port));
    int server = socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(net::set_reuse_address(server));  // as the C++ servers: it does not help here
    REQUIRE(bind(server, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0);
    REQUIRE(errno == EADDRINUSE);
    const std::string hint = net::bind_hint(reinterpret_cast<sockaddr*>(&address));
    CHECK(errno == EADDRINUSE);  // left as bind() set it, for last_error()
    CHECK(hint.find("conexões antigas em TIME_WAIT") != std::string::npos);
    CHECK(hint.find("ss -tan sport = :" + std::to_string(port)) != std::string::npos);
    close(server);

    // A port where something listens keeps the old hint, with the address too.
    int first = socket(AF_INET, SOCK_STREAM, 0), second = socket(AF_INET, SOCK_STREAM, 0);
    address.sin_port = 0;
    socklen_t length = sizeof address;
    REQUIRE(bind(first, reinterpret_cast<sockaddr*>(&address), length) == 0);
    REQUIRE(listen(first, 1) == 0);
    REQUIRE(getsockname(first, reinterpret_cast<sockaddr*>(&address), &length) == 0);
    REQUIRE(bind(second, reinterpret_cast<sockaddr*>(&address), length) != 0);
    CHECK(net::bind_hint(reinterpret_cast<sockaddr*>(&address)) == " (a porta já está em uso?)");
    close(first);
    close(second);
}

// ---- common/args.h ----------------------------------------------------------
#include "../common/args.h"

namespace {
// Runs args::parse_address on a command line given as words; `err` gets what
// it printed on stderr.
int parse_words(std::vector<std::string> words, std::string& ip, std::string& port,
                const std::vector<args::Option>& options = {}, std::string* err = nullptr) {
    std::vector<char*> argv;
    words.insert(words.begin(), "program");
    for (auto& w : words) argv.push_back(&w[0]);
    std::ostringstream captured;
    std::streambuf* old = std::cerr.rdbuf(captured.rdbuf());
    int code = args::parse_address(static_cast<int>(argv.size()), argv.data(), "uso: program",
                                   "ajuda\n", ip, port, options);
    std::cerr.rdbuf(old);
    if (err) *err = captured.str();
    return code;
}
}  // namespace

TEST_CASE("args: [IP [PORTA]], --help, long options; anything else is exit code 2") {
    std::string ip = "localhost", port = "8000";
    CHECK(parse_words({}, ip, port) == -1);
    CHECK((ip == "localhost" && port == "8000"));
    CHECK(parse_words({"0.0.0.0", "09000"}, ip, port) == -1);
    CHECK((ip == "0.0.0.0" && port == "9000"));
    CHECK(parse_words({"--help"}, ip, port) == 0);
    CHECK(parse_words({"::1", "-h"}, ip, port) == 0);
    for (std::vector<std::string> bad : std::vector<std::vector<std::string>>{
             {"-x"}, {"1.2.3.4", "0"}, {"1.2.3.4", "http"}, {"a", "1", "c"}, {"--chunk"}})
        CHECK(parse_words(bad, ip, port) == 2);
    std::string chunk;
    bool quiet = false;
    std::vector<args::Option> options = {{"--chunk", &chunk}, {"--quiet", nullptr, &quiet}};
    CHECK(parse_words({"--quiet", "127.0.0.1", "--chunk", "65536", "8001"}, ip, port, options) == -1);
    CHECK((quiet && chunk == "65536" && ip == "127.0.0.1" && port == "8001"));
    CHECK(parse_words({"--chunk"}, ip, port, options) == 2);  // the value is missing
}

TEST_CASE("args: a bad argument says what was wrong before the usage line (student finding 7)") {
    std::string ip, port, chunk, err;
    const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
        {{"localhost", "99999"}, "porta inválida: 99999 (use 1 a 65535)"},
        {{"localhost", "abc"}, "porta inválida: abc (use 1 a 65535)"},
        {{"localhost", "8000", "extra"}, "argumento a mais: extra"},
        {{"--x"}, "opção desconhecida: --x"},
        {{"--chunk"}, "falta o valor de --chunk"},
        // What the user typed comes back as text: an escape sequence is not obeyed.
        {{"a", "1", "\x1b[2J"}, "argumento a mais: \\x1b[2J"}};
    for (const auto& [words, why] : cases) {
        CHECK(parse_words(words, ip, port, {{"--chunk", &chunk}}, &err) == 2);
        CHECK(err == "Erro: " + why + "\nuso: program\n");
    }
}

// ---- common/line_reader.h ---------------------------------------------------
#include "../common/line_reader.h"

TEST_CASE("LineReader: whole lines whatever way TCP cuts them; long lines are skipped") {
    using R = net::LineReader::Result;
    net::LineReader reader(8);
    std::string line;
    reader.feed("ab\ncd", 5);
    CHECK(reader.next(line) == R::Line);
    CHECK(line == "ab");
    CHECK(reader.next(line) == R::NeedMore);
    reader.feed("\n0123456789xyz\nok\n", 18);
    CHECK(reader.next(line) == R::Line);
    CHECK(line == "cd");
    CHECK(reader.next(line) == R::TooLong);
    CHECK(reader.next(line) == R::Line);
    CHECK(line == "ok");
}

TEST_CASE("receive_line: lines from a socket, and how it stopped (an outcome, not a text)") {
    using R = net::Received;
    int pair[2];
    REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, pair) == 0);
    net::LineReader reader(16);
    std::string line, why;
    REQUIRE(send(pair[1], "um\ndois\n", 8, 0) == 8);
    CHECK(net::receive_line(pair[0], reader, line, why) == R::Line);
    CHECK(line == "um");
    CHECK(net::receive_line(pair[0], reader, line, why) == R::Line);
    CHECK(line == "dois");
    REQUIRE(send(pair[1], "0123456789abcdefgh\n", 19, 0) == 19);
    CHECK(net::receive_line(pair[0], reader, line, why) == R::TooLong);
    CHECK(why == "enviou uma linha maior que 16 bytes");  // the text is for display
    REQUIRE(net::set_timeout(pair[0], SO_RCVTIMEO, 0.2));
    CHECK(net::receive_line(pair[0], reader, line, why) == R::TimedOut);
    CHECK(why == "não respondeu no prazo");
    REQUIRE(send(pair[1], "tres\n", 5, 0) == 5);  // a line after a timeout still arrives
    CHECK(net::receive_line(pair[0], reader, line, why) == R::Line);
    CHECK(line == "tres");
    close(pair[1]);
    CHECK(net::receive_line(pair[0], reader, line, why) == R::Closed);
    CHECK(why == "fechou a conexão");
    close(pair[0]);
    // A socket that does not exist (EBADF): Error, with the system's reason.
    CHECK(net::receive_line(-1, reader, line, why) == R::Error);
    CHECK(why.rfind("erro: ", 0) == 0);
}

TEST_CASE("receive_line: a reset (RST) is an Error, not Closed") {
    int port = 0;
    int listener = lab::listen_local(port);
    int client = lab::connect_to(port);
    int server = lab::accept_within(listener, 5000ms);
    REQUIRE(server >= 0);
    lab::reset_close(server);  // SO_LINGER 0: the client gets a RST instead of a FIN
    net::LineReader reader;
    std::string line, why;
    CHECK(net::receive_line(client, reader, line, why) == net::Received::Error);
    CHECK(why.find("ECONNRESET") != std::string::npos);
    close(client);
    close(listener);
}

// ---- common/outbox.h ----------------------------------------------------------
#include "../common/outbox.h"

TEST_CASE("Outbox: in order, never waits, and drops a client more than 1 MiB behind") {
    net::Startup startup;
    int pair[2];
    REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, pair) == 0);
    std::size_t total = 0;
    {
        Outbox outbox(pair[0], "teste");
        std::string block(64 * 1024, '\0');
        // Nobody reads pair[1]: the kernel buffer fills, then the queue, and
        // once it passes 1 MiB the client is dropped. No call waits.
        for (int i = 0; i < 200; ++i) {
            for (std::size_t j = 0; j < block.size(); ++j)
                block[j] = static_cast<char>((total + j) % 251);
            outbox.send(block.data(), block.size());
            total += block.size();
        }
        // The reader now sees the bytes in order, then the end (shut down).
        std::string received;
        char data[65536];
        for (;;) {
            auto n = recv(pair[1], data, sizeof data, 0);
            if (n <= 0) break;
            received.append(data, static_cast<std::size_t>(n));
        }
        CHECK(received.size() < total);
        bool in_order = true;
        for (std::size_t j = 0; j < received.size(); ++j)
            if (received[j] != static_cast<char>(j % 251)) in_order = false;
        CHECK(in_order);
    }
    close(pair[0]);
    close(pair[1]);
}
