// The bad link of ex5's bench (bench/ex5.sh): the tests' UDP relay
// (tests/udp_relay.h) as a program.
//
//   ex5_relay run SERVER_PORT RATE DELAY_US QUEUE_BYTES [QUEUE_DATAGRAMS]
//       relay 127.0.0.1:<port it prints> <-> 127.0.0.1:SERVER_PORT: DELAY_US
//       each way, and the server->client direction limited to RATE bytes/s
//       with a drop-tail queue of QUEUE_BYTES, or of QUEUE_DATAGRAMS
//       datagrams when given (what a slow link with a router's buffer does:
//       the bottleneck). Prints "porta N", runs until SIGTERM/SIGINT, then
//       prints what it forwarded and dropped on stderr:
//       "relay: server->client F delivered, D dropped (queue full)".
//   ex5_relay measure RATE DELAY_US QUEUE_BYTES DATAGRAM_BYTES
//       the same link, measured: its capacity (datagrams of DATAGRAM_BYTES
//       offered at twice RATE for 1 s; bytes delivered per second) and its
//       round trip (20 small datagrams through and back, the median).
//       Prints "capacity_MBps=X rtt_ms=Y".
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "../tests/udp_relay.h"

using namespace lab;
using Clock = std::chrono::steady_clock;

static int run(int server_port, double rate, long delay_us, long queue, long queue_datagrams) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);  // before the relay's thread starts
    LinkSettings up, down;
    up.delay = down.delay = std::chrono::microseconds(delay_us);
    down.rate = rate;
    down.queue_bytes = static_cast<std::size_t>(queue);
    down.queue_datagrams = static_cast<std::size_t>(queue_datagrams);
    UdpRelay relay(server_port, up, down);
    std::cout << "porta " << relay.port() << std::endl;
    int sig = 0;
    sigwait(&set, &sig);
    LinkCounts c = relay.to_client();
    std::cerr << "relay: server->client " << c.delivered << " delivered, " << c.queue_full
              << " dropped (queue full)\n";
    return 0;
}

static int measure(double rate, long delay_us, long queue, std::size_t size) {
    // Capacity: a sink behind the relay counts what arrives.
    int sink = udp_socket();
    LinkSettings link;
    link.delay = std::chrono::microseconds(delay_us);
    link.rate = rate;
    link.queue_bytes = static_cast<std::size_t>(queue);
    double capacity = 0;
    {
        UdpRelay relay(udp_port(sink), link, {});
        std::atomic<bool> done{false};
        std::thread sender([&] {
            int fd = udp_socket();
            const std::string datagram(size, 'x');
            const double interval = static_cast<double>(size) / (2 * rate);  // twice the rate
            auto start = Clock::now();
            for (long i = 0; Clock::now() - start < std::chrono::seconds(1); ++i) {
                udp_send(fd, relay.port(), datagram);
                std::this_thread::sleep_until(start + std::chrono::duration_cast<Clock::duration>(
                                                          std::chrono::duration<double>(i * interval)));
            }
            close(fd);
            done = true;
        });
        std::string d;
        std::size_t bytes = 0;
        Clock::time_point first{}, last{};
        while (udp_recv(sink, d, std::chrono::milliseconds(500))) {
            last = Clock::now();
            if (bytes == 0) first = last;
            bytes += d.size();
        }
        sender.join();
        double seconds = std::chrono::duration<double>(last - first).count();
        if (seconds > 0) capacity = static_cast<double>(bytes - size) / seconds;
    }
    close(sink);
    // Round trip: an echo behind a relay with the delay both ways.
    int echo = udp_socket();
    std::atomic<bool> stop{false};
    std::thread echoer([&] {
        std::string d;
        int from = 0;
        while (!stop)
            if (udp_recv(echo, d, std::chrono::milliseconds(100), &from)) udp_send(echo, from, d);
    });
    std::vector<double> rtts;
    {
        LinkSettings one_way;
        one_way.delay = std::chrono::microseconds(delay_us);
        UdpRelay relay(udp_port(echo), one_way, one_way);
        int fd = udp_socket();
        std::string d;
        for (int i = 0; i < 20; ++i) {
            auto t0 = Clock::now();
            udp_send(fd, relay.port(), "ping");
            if (udp_recv(fd, d, std::chrono::milliseconds(1000)))
                rtts.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
        }
        close(fd);
    }
    stop = true;
    echoer.join();
    close(echo);
    if (rtts.empty()) return 1;
    std::sort(rtts.begin(), rtts.end());
    std::printf("capacity_MBps=%.3f rtt_ms=%.3f\n", capacity / 1e6, rtts[rtts.size() / 2] * 1e3);
    return 0;
}

int main(int argc, char** argv) {
    std::vector<std::string> a(argv + 1, argv + argc);
    if ((a.size() == 5 || a.size() == 6) && a[0] == "run")
        return run(std::atoi(a[1].c_str()), std::atof(a[2].c_str()), std::atol(a[3].c_str()),
                   std::atol(a[4].c_str()), a.size() == 6 ? std::atol(a[5].c_str()) : 0);
    if (a.size() == 5 && a[0] == "measure")
        return measure(std::atof(a[1].c_str()), std::atol(a[2].c_str()), std::atol(a[3].c_str()),
                       static_cast<std::size_t>(std::atol(a[4].c_str())));
    std::cerr << "usage: ex5_relay run SERVER_PORT RATE DELAY_US QUEUE_BYTES [QUEUE_DATAGRAMS]\n"
                 "       ex5_relay measure RATE DELAY_US QUEUE_BYTES DATAGRAM_BYTES\n";
    return 2;
}
