// Unit tests of common/ (the portability shim).
#include <doctest/doctest.h>

#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <thread>

#include "../common/net.h"
#include "support.h"

using namespace std::chrono_literals;

TEST_CASE("parse_port accepts 1..65535 and nothing else") {
    std::string port;
    CHECK(net::parse_port("8000", port));
    CHECK(port == "8000");
    CHECK(net::parse_port("1", port));
    CHECK(net::parse_port("65535", port));
    CHECK(net::parse_port("08000", port));
    CHECK(port == "8000");
    for (const char* bad : {"", "0", "65536", "99999", "-1", "80a", " 80", "1e3", "123456"})
        CHECK_MESSAGE(!net::parse_port(bad, port), bad);
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

    auto v6 = net::resolve("::1", "9", false, error);
    REQUIRE(v6);
    CHECK(v6->ai_family == AF_INET6);
    CHECK(net::address_of(v6->ai_addr) == "::1");
    CHECK(net::port_of(v6->ai_addr) == 9);

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
    CHECK(net::last_error() == std::string(std::strerror(EPIPE)));
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
