// A bad link for UDP without root: a relay on 127.0.0.1 that sits between
// clients and a server and loses, duplicates, reorders, delays and
// rate-limits datagrams, each direction on its own (netem is not available
// here, see /work/shared/notes/modbus-and-udp.md). Used by the ex5 tests
// and by the bench (bench/ex5_relay.cpp). Header-only, POSIX, no
// dependency on the rest of the test support.
//
// A client sends to relay.port(); for each client address the relay opens
// its own socket towards the server (so the server sees one address per
// client, as behind a NAT) and sends the server's answers back to that
// client. One thread does everything: poll() on the sockets, and a queue of
// datagrams waiting for their time to leave.
//
// The link model, per direction: a datagram is dropped with probability
// `loss`, or by `drop(n, bytes)` (n = 1 for the first datagram of that
// direction: deterministic drops for tests); it then waits for the link
// (`rate` bytes per second, 0 = unlimited; when more than `queue_bytes` are
// already waiting, or `queue_datagrams` datagrams (when not 0), it is dropped,
// as a router's full drop-tail queue would), travels
// `delay`, and arrives. With probability `duplicate` a copy follows 0.2 ms
// later; with probability `reorder` it is held back until the next datagram
// of that direction has left, and then follows it (or leaves anyway after
// `reorder_delay`): two neighbours swapped, whatever the timing.
// `twice(n, bytes)` and `later(n, bytes)` do the same for chosen datagrams.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <time.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <queue>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace lab {

// ---- small UDP helpers (IPv4, 127.0.0.1 by default) -----------------------

// A UDP socket bound to host:port (port 0: any free one); -1 on failure.
// Its receive buffer is asked for `buffer` bytes (0: the system's default),
// so that a test reading a burst a little late loses nothing.
inline int udp_socket(const std::string& host = "127.0.0.1", int port = 0, int buffer = 4 << 20) {
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    if (buffer > 0) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buffer, sizeof buffer);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    inet_pton(AF_INET, host.c_str(), &a.sin_addr);
    if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

inline sockaddr_in udp_address(int port, const std::string& host = "127.0.0.1") {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    inet_pton(AF_INET, host.c_str(), &a.sin_addr);
    return a;
}

inline int udp_port(int fd) {
    sockaddr_in a{};
    socklen_t len = sizeof a;
    getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    return ntohs(a.sin_port);
}

inline bool udp_send(int fd, int port, const std::string& bytes, const std::string& host = "127.0.0.1") {
    sockaddr_in a = udp_address(port, host);
    return sendto(fd, bytes.data(), bytes.size(), 0, reinterpret_cast<sockaddr*>(&a), sizeof a) ==
           static_cast<ssize_t>(bytes.size());
}

// One datagram, waiting at most `timeout`; false on timeout. `from_port`
// (when given) is the sender's port.
inline bool udp_recv(int fd, std::string& out, std::chrono::milliseconds timeout,
                     int* from_port = nullptr) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                        deadline - std::chrono::steady_clock::now()).count();
        if (left < 0) return false;
        pollfd p{fd, POLLIN, 0};
        int r = poll(&p, 1, static_cast<int>(left));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return false;
        char buf[65536];
        sockaddr_in from{};
        socklen_t len = sizeof from;
        ssize_t n = recvfrom(fd, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &len);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return false;
        out.assign(buf, static_cast<std::size_t>(n));
        if (from_port) *from_port = ntohs(from.sin_port);
        return true;
    }
}

// ---- the relay --------------------------------------------------------------

struct LinkSettings {
    double loss = 0, duplicate = 0, reorder = 0;  // probabilities, 0 to 1
    std::chrono::microseconds delay{0};           // one way
    std::chrono::microseconds reorder_delay{50000};
    double rate = 0;                               // bytes per second; 0: no limit
    std::size_t queue_bytes = 256 * 1024;          // waiting for the link (with a rate)
    std::size_t queue_datagrams = 0;               // the same in datagrams; 0: no such limit
    // Deterministic versions, for tests: n = 1 is the first datagram of the direction.
    std::function<bool(long n, const std::string& datagram)> drop, twice, later;
};

struct LinkCounts {
    long received = 0, delivered = 0, lost = 0, queue_full = 0, duplicated = 0, reordered = 0;
};

class UdpRelay {
public:
    UdpRelay(int server_port, LinkSettings to_server, LinkSettings to_client, unsigned seed = 1)
        : server_port_(server_port), random_(seed) {
        link_[0].settings = std::move(to_server);
        link_[1].settings = std::move(to_client);
        front_ = udp_socket();  // with room for bursts (capped by net.core.rmem_max)
        if (front_ < 0) throw std::runtime_error("udp relay: socket failed");
        if (pipe2(wake_, O_CLOEXEC) != 0) throw std::runtime_error("udp relay: pipe failed");
        thread_ = std::thread(&UdpRelay::run, this);
    }
    ~UdpRelay() {
        stop_ = true;
        char c = 0;
        if (write(wake_[1], &c, 1) < 0) {
        }
        thread_.join();
        close(front_);
        for (auto& entry : clients_) close(entry.second.fd);
        close(wake_[0]);
        close(wake_[1]);
    }
    UdpRelay(const UdpRelay&) = delete;
    UdpRelay& operator=(const UdpRelay&) = delete;

    int port() const { return udp_port(front_); }
    LinkCounts to_server() { return counts(0); }
    LinkCounts to_client() { return counts(1); }
    // The ports the relay uses towards the server, one per client seen so far,
    // and each client's own port (the server prints the first kind).
    std::vector<int> upstream_ports() {
        std::lock_guard<std::mutex> lock(mutex_);
        std::vector<int> ports;
        for (auto& entry : clients_) ports.push_back(udp_port(entry.second.fd));
        return ports;
    }
    std::vector<int> client_ports() {
        std::lock_guard<std::mutex> lock(mutex_);
        std::vector<int> ports;
        for (auto& entry : clients_) ports.push_back(ntohs(entry.second.address.sin_port));
        return ports;
    }

private:
    using Clock = std::chrono::steady_clock;
    struct Link {
        LinkSettings settings;
        LinkCounts counts;
        Clock::time_point free_at{};  // when the link finishes what it is sending
        std::deque<Clock::time_point> starts;  // when each queued datagram starts on the link
    };
    struct Client {
        sockaddr_in address{};
        int fd = -1;  // towards the server
    };
    struct Pending {
        Clock::time_point due;
        long order;
        int fd;
        sockaddr_in to;
        std::string bytes;
        bool operator<(const Pending& o) const {  // earliest first in a max-heap
            return due != o.due ? due > o.due : order > o.order;
        }
    };

    LinkCounts counts(int direction) {
        std::lock_guard<std::mutex> lock(mutex_);
        return link_[direction].counts;
    }

    bool chance(double p) {
        return p > 0 && std::uniform_real_distribution<double>(0, 1)(random_) < p;
    }

    // A datagram arrived for `direction` (0: to the server, 1: to a client).
    void carry(int direction, int fd, const sockaddr_in& to, std::string bytes) {
        std::lock_guard<std::mutex> lock(mutex_);
        Link& link = link_[direction];
        const LinkSettings& s = link.settings;
        long n = ++link.counts.received;
        if ((s.drop && s.drop(n, bytes)) || chance(s.loss)) {
            ++link.counts.lost;
            return;
        }
        Clock::time_point now = Clock::now(), start = std::max(now, link.free_at);
        if (s.rate > 0) {
            double waiting = std::chrono::duration<double>(start - now).count() * s.rate;
            while (!link.starts.empty() && link.starts.front() <= now) link.starts.pop_front();
            if (waiting > static_cast<double>(s.queue_bytes) ||
                (s.queue_datagrams > 0 && link.starts.size() >= s.queue_datagrams)) {
                ++link.counts.queue_full;
                return;
            }
            if (start > now) link.starts.push_back(start);
            link.free_at = start + std::chrono::duration_cast<Clock::duration>(
                                       std::chrono::duration<double>(bytes.size() / s.rate));
            start = link.free_at;
        }
        Clock::time_point due = start + s.delay;
        const bool hold = (s.later && s.later(n, bytes)) || chance(s.reorder);
        if ((s.twice && s.twice(n, bytes)) || chance(s.duplicate)) {
            ++link.counts.duplicated;
            pending_.push({due + std::chrono::microseconds(200), ++order_, fd, to, bytes});
        }
        Pending p{due, ++order_, fd, to, std::move(bytes)};
        std::optional<Pending>& held = held_[direction];
        if (held) {  // the one held back leaves right after this one
            held->due = due + std::chrono::microseconds(1);
            held->order = ++order_;
            pending_.push(std::move(*held));
            held.reset();
        }
        if (hold) {
            ++link.counts.reordered;
            p.due = due + s.reorder_delay;  // if nothing follows in time, it leaves anyway
            held = std::move(p);
        } else {
            pending_.push(std::move(p));
        }
    }

    void run() {
        char buf[65536];
        while (!stop_) {
            std::vector<pollfd> fds = {{wake_[0], POLLIN, 0}, {front_, POLLIN, 0}};
            std::vector<Client*> owners = {nullptr, nullptr};
            long long wait_us = 100000;  // nothing due: look again in 100 ms
            {
                std::lock_guard<std::mutex> lock(mutex_);
                for (auto& entry : clients_) {
                    fds.push_back({entry.second.fd, POLLIN, 0});
                    owners.push_back(&entry.second);
                }
                auto until = [&](Clock::time_point due) {
                    auto left = std::chrono::duration_cast<std::chrono::microseconds>(
                                    due - Clock::now()).count();
                    wait_us = std::max<long long>(0, std::min<long long>(left, wait_us));
                };
                if (!pending_.empty()) until(pending_.top().due);
                for (auto& held : held_)
                    if (held) until(held->due);
            }
            // ppoll: a timeout in nanoseconds (poll's milliseconds are too coarse for a link).
            timespec ts{static_cast<time_t>(wait_us / 1000000), static_cast<long>(wait_us % 1000000) * 1000};
            if (ppoll(fds.data(), fds.size(), &ts, nullptr) < 0 && errno != EINTR) break;
            for (std::size_t i = 1; i < fds.size(); ++i) {
                if (!(fds[i].revents & POLLIN)) continue;
                sockaddr_in from{};
                socklen_t len = sizeof from;
                ssize_t n = recvfrom(fds[i].fd, buf, sizeof buf, MSG_DONTWAIT,
                                     reinterpret_cast<sockaddr*>(&from), &len);
                if (n < 0) continue;
                std::string bytes(buf, static_cast<std::size_t>(n));
                if (i == 1) {  // from a client: towards the server, on that client's socket
                    int fd = upstream_for(from);
                    if (fd >= 0) carry(0, fd, udp_address(server_port_), std::move(bytes));
                } else {       // from the server: back to that client
                    carry(1, front_, owners[i]->address, std::move(bytes));
                }
            }
            send_due();
        }
    }

    int upstream_for(const sockaddr_in& from) {
        std::lock_guard<std::mutex> lock(mutex_);
        std::uint64_t key = std::uint64_t{from.sin_addr.s_addr} << 16 | from.sin_port;
        auto it = clients_.find(key);
        if (it != clients_.end()) return it->second.fd;
        if (clients_.size() >= 256) return -1;
        Client c;
        c.address = from;
        c.fd = udp_socket();
        if (c.fd < 0) return -1;
        clients_[key] = c;
        return c.fd;
    }

    void send_due() {
        for (;;) {
            Pending p;
            {
                std::lock_guard<std::mutex> lock(mutex_);
                for (auto& held : held_)  // held back, and nothing came after it in time
                    if (held && held->due <= Clock::now()) {
                        pending_.push(std::move(*held));
                        held.reset();
                    }
                if (pending_.empty() || pending_.top().due > Clock::now()) return;
                p = pending_.top();
                pending_.pop();
                link_[p.fd == front_ ? 1 : 0].counts.delivered += 1;
            }
            sendto(p.fd, p.bytes.data(), p.bytes.size(), 0, reinterpret_cast<sockaddr*>(&p.to),
                   sizeof p.to);
        }
    }

    const int server_port_;
    int front_ = -1;
    int wake_[2] = {-1, -1};
    std::mt19937 random_;
    std::mutex mutex_;
    Link link_[2];
    std::map<std::uint64_t, Client> clients_;
    std::priority_queue<Pending> pending_;
    std::optional<Pending> held_[2];  // per direction: the one waiting to be overtaken
    long order_ = 0;
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

}  // namespace lab
