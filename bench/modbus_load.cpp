// bench/modbus_load.cpp - the load of ex6's bench: N Modbus/TCP masters, one
// connection each, each with one request in flight at a time (a master polls:
// it sends the next request only when the reply to the last one came), all
// driven by one epoll thread so that the load costs the same for every server.
// The request reads 10 holding registers from address 0 (function 3), what a
// SCADA poll looks like. After a warm-up of 0.3 s it counts for SECONDS and
// prints one line:  requests_per_s=... p50_us=... p99_us=... errors=...
// With the server's PID, also cpu_us_per_request: the server's CPU time (user +
// system, all its threads, from /proc/PID/stat) over the counted requests.
// Usage: modbus_load PORT CLIENTS SECONDS [SERVER_PID]
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

using Clock = std::chrono::steady_clock;

struct Master {
    int fd = -1;
    unsigned short transaction = 0;
    Clock::time_point sent;
    std::string in;  // reply bytes received so far
};

// utime + stime of a process, in clock ticks (fields 14 and 15 of /proc/PID/stat).
static double cpu_ticks(const std::string& pid) {
    std::ifstream in("/proc/" + pid + "/stat");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::size_t at = text.rfind(')');
    if (at == std::string::npos) return -1;
    std::vector<std::string> fields;
    std::string field;
    for (std::size_t i = at + 2; i <= text.size(); ++i) {
        if (i == text.size() || text[i] == ' ') {
            fields.push_back(field);
            field.clear();
        } else {
            field += text[i];
        }
    }
    // fields[0] is field 3 (state): utime is field 14, stime field 15.
    return fields.size() > 12 ? std::atof(fields[11].c_str()) + std::atof(fields[12].c_str()) : -1;
}

static bool send_request(Master& m) {
    ++m.transaction;
    const unsigned char request[12] = {static_cast<unsigned char>(m.transaction >> 8),
                                       static_cast<unsigned char>(m.transaction & 0xff),
                                       0, 0, 0, 6, 1, 3, 0, 0, 0, 10};
    m.sent = Clock::now();
    return send(m.fd, request, sizeof request, MSG_NOSIGNAL) == sizeof request;
}

int main(int argc, char** argv) {
    if (argc != 4 && argc != 5) {
        std::fprintf(stderr, "usage: modbus_load PORT CLIENTS SECONDS [SERVER_PID]\n");
        return 2;
    }
    const int port = std::atoi(argv[1]), clients = std::atoi(argv[2]);
    const double seconds = std::atof(argv[3]);
    const std::string pid = argc == 5 ? argv[4] : "";
    double cpu_start = -1;
    int ep = epoll_create1(0);
    std::vector<Master> masters(static_cast<std::size_t>(clients));
    for (std::size_t i = 0; i < masters.size(); ++i) {
        Master& m = masters[i];
        m.fd = socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(static_cast<unsigned short>(port));
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (connect(m.fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
            std::perror("connect");
            return 1;
        }
        int one = 1;  // what every Modbus master does: no Nagle delay on small requests
        setsockopt(m.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        epoll_event e{};
        e.events = EPOLLIN;
        e.data.u64 = i;
        epoll_ctl(ep, EPOLL_CTL_ADD, m.fd, &e);
    }
    for (Master& m : masters)
        if (!send_request(m)) return 1;
    const Clock::time_point start = Clock::now();
    const Clock::time_point counting = start + std::chrono::milliseconds(300);
    const Clock::time_point end = counting + std::chrono::microseconds(static_cast<long>(seconds * 1e6));
    std::vector<double> latencies;
    latencies.reserve(1 << 20);
    long errors = 0;
    std::vector<epoll_event> events(masters.size());
    char buf[4096];
    Clock::time_point now = start;
    while (now < end) {
        if (cpu_start < 0 && !pid.empty() && now >= counting) cpu_start = cpu_ticks(pid);
        int n = epoll_wait(ep, events.data(), static_cast<int>(events.size()), 1000);
        now = Clock::now();
        if (n == 0) {
            std::fprintf(stderr, "no reply for 1 s\n");
            return 1;
        }
        for (int k = 0; k < n; ++k) {
            Master& m = masters[events[static_cast<std::size_t>(k)].data.u64];
            ssize_t got = recv(m.fd, buf, sizeof buf, 0);
            if (got <= 0) {
                std::fprintf(stderr, "connection lost\n");
                return 1;
            }
            m.in.append(buf, static_cast<std::size_t>(got));
            if (m.in.size() < 7) continue;
            const std::size_t whole = 6 + ((static_cast<unsigned char>(m.in[4]) << 8) |
                                           static_cast<unsigned char>(m.in[5]));
            if (m.in.size() < whole) continue;
            const unsigned t = (static_cast<unsigned char>(m.in[0]) << 8) | static_cast<unsigned char>(m.in[1]);
            // 7 + function + byte count + 20 bytes of registers, same transaction id.
            if (t != m.transaction || whole != 29 || m.in[7] != 3) ++errors;
            m.in.erase(0, whole);
            if (m.sent >= counting && now <= end)
                latencies.push_back(std::chrono::duration<double, std::micro>(now - m.sent).count());
            if (!send_request(m)) return 1;
        }
    }
    const double cpu_end = pid.empty() ? -1 : cpu_ticks(pid);
    for (Master& m : masters) close(m.fd);
    if (latencies.empty()) return 1;
    std::sort(latencies.begin(), latencies.end());
    const auto at = [&](double q) { return latencies[static_cast<std::size_t>(q * (latencies.size() - 1))]; };
    std::printf("requests_per_s=%.0f p50_us=%.0f p99_us=%.0f errors=%ld",
                static_cast<double>(latencies.size()) / seconds, at(0.50), at(0.99), errors);
    if (cpu_start >= 0 && cpu_end >= cpu_start)
        std::printf(" cpu_us_per_request=%.1f",
                    (cpu_end - cpu_start) / static_cast<double>(sysconf(_SC_CLK_TCK)) * 1e6 /
                        static_cast<double>(latencies.size()));
    std::printf("\n");
    return errors ? 1 : 0;
}
