// The classroom attacker of `make bench` (a benchmark tool, not an example):
// while it runs, one address holds its limit of idle connections and another
// drips a handshake, as one student trying things would.
//
//   classroom_attack PORT SECONDS
//
//  - from 127.0.0.2: keeps 20 connections open that never send anything,
//    opening a new one whenever the server closes one (the server keeps 16
//    and refuses the other 4, so this also exercises the refusal path, at most
//    one attempt every 5 ms);
//  - from 127.0.0.3: connections that send one byte every 200 ms and never
//    finish a handshake (ex2 closes each after 10 s in all; it reconnects).
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
    if (argc != 3) {
        std::fprintf(stderr, "usage: classroom_attack PORT SECONDS\n");
        return 2;
    }
    int port = std::atoi(argv[1]);
    double seconds = std::atof(argv[2]);
    if (seconds > 600) seconds = 600;
    auto end = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                  std::chrono::duration<double>(seconds));
    std::vector<int> idle(20, -1), drip(2, -1);
    long attempts = 0;
    auto next_drip = Clock::now();
    while (Clock::now() < end) {
        for (int& fd : idle) {  // refill what the server closed (or refused)
            if (fd >= 0 && still_open(fd)) continue;
            if (fd >= 0) close(fd);
            fd = connect_from("127.0.0.2", port);
            ++attempts;
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        if (Clock::now() >= next_drip) {
            for (int& fd : drip) {
                if (fd >= 0 && !still_open(fd)) {
                    close(fd);
                    fd = -1;
                }
                if (fd < 0) fd = connect_from("127.0.0.3", port);
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
