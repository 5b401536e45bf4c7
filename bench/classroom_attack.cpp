// The classroom attacker of `make bench` (a benchmark tool, not an example):
// the B1 shape of issue 30, as one student trying things on a shared machine
// would run it, as the SAME user as the class (so, for the server, the same
// group: common/admission.h).
//
//   classroom_attack PORT SECONDS [CONNECTIONS [ADDRESSES]]
//
//  - keeps CONNECTIONS (1100) idle connections open from ADDRESSES (69)
//    addresses of 127.0.0.0/8 (127.0.0.2, 127.0.0.3, ...), none of which ever
//    sends anything; whenever the server closes one (to make room, or at the
//    end of ex2's 10 s handshake), it opens it again, at most 10 every 20 ms;
//  - from the next address, 2 connections that send one byte every 200 ms
//    and never finish a handshake (reconnecting when closed).
// Bounded: stops after SECONDS (at most 600), closing everything.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

using Clock = std::chrono::steady_clock;

static int connect_from(const char* source, int port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    sockaddr_in local{}, remote{};
    local.sin_family = remote.sin_family = AF_INET;
    inet_pton(AF_INET, source, &local.sin_addr);
    inet_pton(AF_INET, "127.0.0.1", &remote.sin_addr);
    remote.sin_port = htons(static_cast<uint16_t>(port));
    if (bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0 ||
        connect(fd, reinterpret_cast<sockaddr*>(&remote), sizeof remote) != 0) {
        close(fd);
        return -1;
    }
    fcntl(fd, F_SETFL, O_NONBLOCK);
    return fd;
}

// True while the server has not closed fd (reads and throws away what came).
static bool still_open(int fd) {
    char buf[4096];
    for (;;) {
        ssize_t r = recv(fd, buf, sizeof buf, 0);
        if (r > 0) continue;
        return r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
    }
}

int main(int argc, char** argv) {
    if (argc < 3 || argc > 5) {
        std::fprintf(stderr, "usage: classroom_attack PORT SECONDS [CONNECTIONS [ADDRESSES]]\n");
        return 2;
    }
    int port = std::atoi(argv[1]);
    double seconds = std::atof(argv[2]);
    if (seconds > 600) seconds = 600;
    const int connections = argc > 3 ? std::atoi(argv[3]) : 1100;
    const int addresses = argc > 4 ? std::atoi(argv[4]) : 69;
    if (connections < 1 || connections > 5000 || addresses < 1 || addresses > 200) {
        std::fprintf(stderr, "classroom_attack: 1..5000 connections from 1..200 addresses\n");
        return 2;
    }
    auto end = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                  std::chrono::duration<double>(seconds));
    std::vector<int> idle(static_cast<std::size_t>(connections), -1), drip(2, -1);
    auto address = [](int i) {  // 127.0.0.2 + i
        static char text[32];
        std::snprintf(text, sizeof text, "127.0.%d.%d", (2 + i) / 256, (2 + i) % 256);
        return text;
    };
    for (int i = 0; i < connections; ++i)  // the first fill: as fast as it goes
        idle[static_cast<std::size_t>(i)] = connect_from(address(i % addresses), port);
    long attempts = connections;
    auto next_drip = Clock::now();
    while (Clock::now() < end) {
        int refilled = 0;
        for (std::size_t i = 0; i < idle.size() && refilled < 10; ++i) {
            int& fd = idle[i];
            if (fd >= 0 && still_open(fd)) continue;
            if (fd >= 0) close(fd);
            fd = connect_from(address(static_cast<int>(i) % addresses), port);
            ++attempts;
            ++refilled;
        }
        if (Clock::now() >= next_drip) {
            for (int& fd : drip) {
                if (fd >= 0 && !still_open(fd)) {
                    close(fd);
                    fd = -1;
                }
                if (fd < 0) fd = connect_from(address(addresses), port);
                if (fd >= 0) send(fd, "x", 1, MSG_NOSIGNAL);
            }
            next_drip = Clock::now() + std::chrono::milliseconds(200);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    for (int fd : idle) if (fd >= 0) close(fd);
    for (int fd : drip) if (fd >= 0) close(fd);
    std::printf("attempts=%ld\n", attempts);
    return 0;
}
