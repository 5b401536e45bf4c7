// A minimal single-thread epoll relay: the REFERENCE CEILING for the ex1
// benchmark, not an example. It does what ex1_chat/server does on the wire
// (every chunk received goes, unchanged, to every client, sender included)
// with one thread and no locks, so the benchmark shows how close the
// thread-per-client teaching server gets to what the kernel allows.
//
//   epoll_relay PORT
//
// Prints "Aguardando conexao..." once listening (the benchmark waits for it).
// Blocking sends to the clients keep it simple: the benchmark sends one
// small message at a time, so no client's buffer ever fills.
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <vector>

int main(int argc, char** argv) {
    if (argc != 2) return 2;
    rlimit lim{};
    getrlimit(RLIMIT_NOFILE, &lim);
    lim.rlim_cur = lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
    int listener = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(std::atoi(argv[1])));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(listener, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        listen(listener, SOMAXCONN) != 0)
        return 1;
    std::printf("Aguardando conexao...\n");
    std::fflush(stdout);
    int ep = epoll_create1(0);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = listener;
    epoll_ctl(ep, EPOLL_CTL_ADD, listener, &ev);
    std::vector<int> clients;
    std::vector<epoll_event> events(1024);
    char buf[1024];
    for (;;) {
        int k = epoll_wait(ep, events.data(), static_cast<int>(events.size()), -1);
        for (int e = 0; e < k; ++e) {
            int fd = events[static_cast<std::size_t>(e)].data.fd;
            if (fd == listener) {
                int c = accept(listener, nullptr, nullptr);
                if (c < 0) continue;
                ev.data.fd = c;
                epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev);
                clients.push_back(c);
                continue;
            }
            ssize_t r = recv(fd, buf, sizeof buf, 0);
            if (r <= 0) {
                clients.erase(std::remove(clients.begin(), clients.end(), fd), clients.end());
                close(fd);
                continue;
            }
            for (int c : clients) send(c, buf, static_cast<std::size_t>(r), MSG_NOSIGNAL);
        }
    }
}
