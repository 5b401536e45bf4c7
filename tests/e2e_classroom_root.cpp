// Issue 30's root-only cases, in a network namespace of their own (created
// here, named c30_<pid>, removed on exit, Ctrl+C and failure):
//  - 1,100 connections from ONE IPv6 /64 (what every SLAAC host owns) under
//    ulimit -n 1024: no EMFILE, and a classmate from another /64 is served;
//  - a ghost (a client whose packets nft drops, as if its laptop had been
//    closed) frees its place within a minute, by TCP keepalive.
// Skipped (exit 77, with the reason) without root or without ip and nft.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "support.h"

using namespace lab;

namespace {

std::string netns;  // "c30_<pid>", set in main()

void remove_netns() {
    if (!netns.empty()) std::system(("ip netns delete " + netns + " 2>/dev/null").c_str());
}

void on_signal(int sig) {
    remove_netns();
    std::signal(sig, SIG_DFL);
    std::raise(sig);
}

bool sh(const std::string& command) { return std::system(command.c_str()) == 0; }

// Enters the namespace for this thread: the sockets it makes and the programs
// it starts from now on are in there.
void enter_netns() {
    int fd = open(("/var/run/netns/" + netns).c_str(), O_RDONLY | O_CLOEXEC);
    REQUIRE(fd >= 0);
    REQUIRE(setns(fd, CLONE_NEWNET) == 0);
    close(fd);
}

int connect6(const std::string& from, const std::string& to, int port) {
    int fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in6 a{}, b{};
    a.sin6_family = b.sin6_family = AF_INET6;
    inet_pton(AF_INET6, from.c_str(), &a.sin6_addr);
    inet_pton(AF_INET6, to.c_str(), &b.sin6_addr);
    b.sin6_port = htons(static_cast<uint16_t>(port));
    int on = 1;  // an address of a local route, not of an interface (AnyIP)
    if (fd >= 0) setsockopt(fd, SOL_IP, IP_FREEBIND, &on, sizeof on);
    if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        connect(fd, reinterpret_cast<sockaddr*>(&b), sizeof b) != 0) {
        if (fd >= 0) close(fd);
        return -1;
    }
    return fd;
}

Server start_in_netns(const std::vector<std::string>& program_and_args) {
    for (int attempt = 0; attempt < 5; ++attempt) {
        Server s;
        s.port = 20000 + (static_cast<int>(getpid()) * 7 + attempt * 131) % 30000;
        std::vector<std::string> argv = {"/bin/sh", "-c", "ulimit -n 1024 && exec \"$@\"", "sh"};
        argv.insert(argv.end(), program_and_args.begin(), program_and_args.end());
        argv.insert(argv.begin() + 6, std::to_string(s.port));  // after the IP
        s.process = std::make_unique<Process>(argv);
        if (s.process->wait_output("Aguardando", 5000ms)) return s;
    }
    throw std::runtime_error("server did not start");
}

}  // namespace

TEST_CASE("1,100 connections from one IPv6 /64: no EMFILE, another /64 is served") {
    enter_netns();
    // Every address of both /64s is this namespace's own (AnyIP: a local route).
    REQUIRE(sh("ip netns exec " + netns + " ip -6 route add local 2001:db8:1:2::/64 dev lo"));
    REQUIRE(sh("ip netns exec " + netns + " ip -6 route add local 2001:db8:9:9::/64 dev lo"));
    Server server = start_in_netns({bin("ex1_chat/server"), "::"});
    std::vector<int> flood;
    char address[64];
    for (int i = 0; i < 1100; ++i) {
        std::snprintf(address, sizeof address, "2001:db8:1:2:%x::%x", i % 97, i + 1);
        int fd = connect6(address, "2001:db8:1:2::1", server.port);
        if (fd >= 0) flood.push_back(fd);
    }
    REQUIRE(flood.size() == 1100);
    CHECK(server.process->wait_output("2001:db8:1:2::/64 é o grupo com mais conexões", 30000ms));
    int classmate = connect6("2001:db8:9:9::5", "2001:db8:1:2::1", server.port);
    REQUIRE(classmate >= 0);
    CHECK(send_bytes(classmate, "<sonda>"));
    CHECK(recv_exactly(classmate, 7, 10000ms) == "<sonda>");
    CHECK(server.process->err().find("Erro no accept") == std::string::npos);
    close_fd(classmate);
    for (int fd : flood) close_fd(fd);
}

TEST_CASE("a ghost (its packets dropped by nft) frees its place within a minute") {
    enter_netns();
    Server server = start_in_netns({bin("ex1_chat/server"), "127.0.0.1", "--limite-por-ip", "1"});
    int ghost = connect_to(server.port);
    REQUIRE(ghost >= 0);
    REQUIRE(server.process->wait_output("Cliente conectado", 5000ms));
    const unsigned ghost_port = local_port(ghost);
    // From now on nothing reaches the ghost: the server's keepalive probes go unanswered.
    REQUIRE(sh("ip netns exec " + netns + " nft add table inet c30"));
    REQUIRE(sh("ip netns exec " + netns +
               " nft add chain inet c30 out '{ type filter hook output priority 0; }'"));
    REQUIRE(sh("ip netns exec " + netns + " nft add rule inet c30 out tcp dport " +
               std::to_string(ghost_port) + " drop"));
    // The student comes back: refused while the ghost holds the only place.
    int back = connect_to(server.port);
    bool closed = false;
    CHECK(recv_until_close(back, 5000ms, &closed).empty());
    CHECK(closed);
    close_fd(back);
    // 30 s idle + 3 probes 5 s apart: gone in about 45 s (60 s: the limit of the test).
    CHECK(server.process->wait_output("Cliente desconectado: 127.0.0.1:" + std::to_string(ghost_port),
                                      60000ms));
    int again = connect_to(server.port);
    CHECK(send_bytes(again, "<sonda>"));
    CHECK(recv_exactly(again, 7, 5000ms) == "<sonda>");
    close_fd(again);
    close_fd(ghost);
}

int main(int argc, char** argv) {
    const std::string why = lab::first_of(
        {lab::need_root("network namespaces need root", "sudo build/make/tests/e2e_classroom_root"),
         lab::need_tools({"ip", "nft"}, "redes")});
    if (!why.empty()) return lab::skip_program(why);
    netns = "c30_" + std::to_string(getpid());
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
    if (!sh("ip netns add " + netns) ||
        !sh("ip netns exec " + netns + " ip link set lo up")) {
        remove_netns();
        return lab::skip_program("cannot create a network namespace here");
    }
    std::atexit(remove_netns);
    setenv("LAB_BIN_DIR", LAB_BIN_DIR, 0);
    doctest::Context context(argc, argv);
    int rc = context.run();
    remove_netns();
    return rc;
}
