// Load generator for the ex1 chat (a benchmark tool, not an example).
//
//   chat_load PORT CLIENTS MESSAGES SERVER_PID [SECONDS]
//   CHAT_LOAD_EX2=1 chat_load ...   the same against ex2's server: each client
//                   reads the key line and answers the OK token first, and each
//                   message is a token line (all of the same length)
//
// With SECONDS, it keeps sending for that long instead of MESSAGES times
// (the slow-client run), and reports the longest wait as max_us; if a
// message has not reached everybody 2 s after the end, the run stops there
// and reports stalled=1 (the server stopped relaying).
// One thread, epoll. Opens CLIENTS connections at once (the connection
// burst), waits until a message from client 0 reaches every client (so all
// are registered), then sends MESSAGES messages of 32 bytes from client 0,
// one at a time: each is sent once the previous one has reached everybody.
// Prints one line of key=value figures: burst time, messages/s, deliveries/s,
// p50/p99 delivery latency, the server's CPU time per delivery (utime+stime
// from /proc/PID/stat) and its RSS. Bounded: gives up after 120 s.
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <poll.h>

#include "../ex2_crypto/token.h"

using Clock = std::chrono::steady_clock;
// Bytes per message: 32, or CHAT_LOAD_SIZE from the environment (16..1024).
static const std::size_t SIZE = [] {
    const char* env = std::getenv("CHAT_LOAD_SIZE");
    long v = env ? std::atol(env) : 32;
    return static_cast<std::size_t>(v < 16 ? 16 : v > 1024 ? 1024 : v);
}();

static const bool EX2 = std::getenv("CHAT_LOAD_EX2") != nullptr;
static std::vector<unsigned char> ex2_key;  // the server's one key (ex2 gives all the same)

// The bytes of message `number` on the wire: SIZE bytes for ex1, a token line for ex2.
static std::string wire_message(int number) {
    std::string m(SIZE, '.');  // "mensagem 00000042..............."
    char head[24];
    int len = std::snprintf(head, sizeof head, "mensagem %08d", number % 100000000);
    m.replace(0, static_cast<std::size_t>(len), head);
    return EX2 ? token::encrypt(ex2_key.data(), m) + "\n" : m;
}

static double cpu_seconds(int pid) {  // utime + stime of a process
    std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
    std::string s((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    std::istringstream rest(s.substr(s.rfind(')') + 2));
    std::string field;
    unsigned long long utime = 0, stime = 0;
    for (int i = 3; i <= 15 && rest >> field; ++i) {
        if (i == 14) utime = std::stoull(field);
        if (i == 15) stime = std::stoull(field);
    }
    return double(utime + stime) / double(sysconf(_SC_CLK_TCK));
}

static long rss_kb(int pid) {
    std::ifstream f("/proc/" + std::to_string(pid) + "/status");
    for (std::string line; std::getline(f, line);)
        if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
    return -1;
}

[[noreturn]] static void fail(const char* what) {
    std::fprintf(stderr, "chat_load: %s\n", what);
    std::exit(1);
}

int main(int argc, char** argv) {
    if (argc != 5 && argc != 6) fail("usage: chat_load PORT CLIENTS MESSAGES SERVER_PID [SECONDS]");
    double run_for = argc == 6 ? std::atof(argv[5]) : 0;
    int port = std::atoi(argv[1]), n = std::atoi(argv[2]), messages = std::atoi(argv[3]);
    int server_pid = std::atoi(argv[4]);
    rlimit lim{};
    getrlimit(RLIMIT_NOFILE, &lim);
    lim.rlim_cur = lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
    auto give_up = Clock::now() + std::chrono::seconds(120 + static_cast<int>(run_for));

    int ep = epoll_create1(0);
    std::vector<int> fds(static_cast<std::size_t>(n));
    std::vector<std::size_t> got(static_cast<std::size_t>(n), 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

    // The burst: every connect at once, non-blocking.
    auto t0 = Clock::now();
    for (int i = 0; i < n; ++i) {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        if (fd < 0) fail("socket (raise ulimit -n)");
        connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.u32 = static_cast<uint32_t>(i);
        epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
        fds[static_cast<std::size_t>(i)] = fd;
    }

    std::vector<epoll_event> events(1024);
    char buf[65536];
    // Receive until every client has `target` bytes (or the deadline).
    auto receive_until = [&](std::size_t target, std::vector<double>* latencies,
                             Clock::time_point sent, Clock::time_point deadline) {
        int missing = 0;
        for (std::size_t g : got) missing += g < target;
        while (missing > 0) {
            if (Clock::now() > deadline || Clock::now() > give_up) return false;
            int k = epoll_wait(ep, events.data(), int(events.size()), 100);
            for (int e = 0; e < k; ++e) {
                std::size_t i = events[static_cast<std::size_t>(e)].data.u32;
                ssize_t r;
                while ((r = recv(fds[i], buf, sizeof buf, 0)) > 0) {
                    bool before = got[i] < target;
                    got[i] += static_cast<std::size_t>(r);
                    if (before && got[i] >= target) {
                        --missing;
                        if (latencies)
                            latencies->push_back(
                                std::chrono::duration<double, std::micro>(Clock::now() - sent).count());
                    }
                }
                if (r == 0) fail("the server closed a connection");
            }
        }
        return true;
    };
    // ex2: every client reads the key line and answers OK, before anything else.
    for (int i = 0; EX2 && i < n; ++i) {
        std::string line;
        char c;
        while (line.size() < 100 && (line.empty() || line.back() != '\n')) {
            pollfd p{fds[static_cast<std::size_t>(i)], POLLIN, 0};
            if (poll(&p, 1, 10000) != 1 || recv(p.fd, &c, 1, 0) != 1) fail("no key from the server");
            line += c;
        }
        line.pop_back();
        if (!token::from_base64(line, ex2_key)) fail("not an ex2 key");
        std::string ok = token::encrypt(ex2_key.data(), "OK") + "\n";
        for (std::size_t done = 0; done < ok.size();) {
            ssize_t w = send(fds[static_cast<std::size_t>(i)], ok.data() + done, ok.size() - done,
                             MSG_NOSIGNAL);
            if (w > 0) done += static_cast<std::size_t>(w);
            else if (errno != EAGAIN && errno != ENOTCONN) fail("send");
        }
    }
    const std::size_t WIRE = wire_message(0).size();  // every message the same length
    auto send_message = [&](int from, int number) {
        const std::string m = wire_message(number);
        for (std::size_t done = 0; done < WIRE;) {
            ssize_t w = send(fds[static_cast<std::size_t>(from)], m.data() + done, WIRE - done, MSG_NOSIGNAL);
            if (w > 0) done += static_cast<std::size_t>(w);
            else if (errno != EAGAIN && errno != ENOTCONN) fail("send");
        }
    };

    // Registered: a message from client 0 must reach all. Clients that were
    // not registered yet miss it; then send another, until one reaches all.
    std::size_t expected = 0;
    int number = 0;
    for (;;) {
        send_message(0, number++);
        expected += WIRE;
        // Long enough for one relay to everybody (~20 us per client), short
        // enough to measure the burst to a few tens of milliseconds.
        auto wait = Clock::now() + std::chrono::microseconds(20000 + 40 * n);
        if (receive_until(expected, nullptr, Clock::now(), wait)) break;
        // Those that missed it will be short by WIRE from now on: even out.
        for (std::size_t& g : got)
            if (g + WIRE == expected) g += WIRE;
        if (Clock::now() > give_up) fail("clients never all registered");
    }
    double burst = std::chrono::duration<double>(Clock::now() - t0).count();
    long rss = rss_kb(server_pid);

    // Throughput: one message at a time.
    std::vector<double> latencies;
    double cpu0 = cpu_seconds(server_pid);
    auto t1 = Clock::now();
    auto stop = t1 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(run_for));
    int m = 0, stalled = 0;
    for (; run_for > 0 ? Clock::now() < stop : m < messages; ++m) {
        auto sent = Clock::now();
        send_message(0, number++);
        expected += WIRE;
        if (receive_until(expected, &latencies, sent,
                          run_for > 0 ? stop + std::chrono::seconds(2) : give_up))
            continue;
        if (run_for <= 0) fail("timed out");
        stalled = 1;  // counted as one wait that lasted until now
        latencies.push_back(std::chrono::duration<double, std::micro>(Clock::now() - sent).count());
        break;
    }
    double seconds = std::chrono::duration<double>(Clock::now() - t1).count();
    double cpu = cpu_seconds(server_pid) - cpu0;
    std::sort(latencies.begin(), latencies.end());
    auto pct = [&](double p) { return latencies[std::size_t(p * double(latencies.size() - 1))]; };
    messages = m;
    std::printf("burst_s=%.3f msgs_per_s=%.1f deliveries_per_s=%.0f p50_us=%.0f p99_us=%.0f "
                "max_us=%.0f cpu_us_per_delivery=%.2f rss_kb=%ld stalled=%d\n",
                burst, messages / seconds, messages * double(n) / seconds, pct(0.5), pct(0.99),
                latencies.back(), cpu * 1e6 / (double(messages) * n), rss, stalled);
    return 0;
}
