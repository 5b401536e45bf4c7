// common/admission.cpp - see admission.h.
#include "admission.h"

#include <chrono>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <iterator>
#include <thread>

#include "args.h"

#ifndef _WIN32
#include <sys/resource.h>
#endif
#ifdef __linux__
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#endif

namespace admission {

// ---- the rule --------------------------------------------------------------

Policy::Policy(std::size_t capacity, std::size_t spare, std::size_t group_limit)
    : capacity_(capacity), spare_(spare), group_limit_(group_limit) {}

std::size_t Policy::held_by(const std::string& group) const {
    auto found = per_group_.find(group);
    return found == per_group_.end() ? 0 : found->second;
}

Decision Policy::admit(Id id, const std::string& group, bool settled) {
    Decision decision;
    const std::size_t mine = held_by(group);
    if (group_limit_ != 0 && mine >= group_limit_) {
        decision.outcome = Outcome::GroupLimit;
        return decision;
    }
    if (entries_.size() >= capacity_) {
        // Full. The group that gives a place: the newcomer's own, unless
        // another holds more than the newcomer's would, counting the newcomer.
        std::string from = group;
        std::size_t most = mine + 1;
        for (const auto& [other, held] : per_group_)
            if (held > most || (mine == 0 && other != group && held == most)) {
                from = other;
                most = held;
            }
        const Id victim = replaced_ < spare_ ? victim_in(from) : 0;
        if (victim == 0) {  // too many still closing (or nobody to replace)
            decision.outcome = Outcome::Full;
            return decision;
        }
        Entry& entry = entries_.at(victim);
        entry.replaced = true;
        ++replaced_;
        // What the group held before this replacement, the newcomer not counted.
        decision = {Outcome::Replacing, victim, from, per_group_[entry.group]};
        if (--per_group_[entry.group] == 0) per_group_.erase(entry.group);
    }
    entries_[id] = {group, settled, false};
    ++per_group_[group];
    return decision;
}

// Within a group: the oldest that has not settled; else the newest.
Id Policy::victim_in(const std::string& group) const {
    Id newest = 0;
    for (const auto& [id, entry] : entries_) {  // in order of arrival
        if (entry.replaced || entry.group != group) continue;
        if (!entry.settled) return id;
        newest = id;
    }
    return newest;
}

void Policy::settle(Id id) {
    auto found = entries_.find(id);
    if (found != entries_.end()) found->second.settled = true;
}

void Policy::leave(Id id) {
    auto found = entries_.find(id);
    if (found == entries_.end()) return;
    if (found->second.replaced)
        --replaced_;
    else if (--per_group_[found->second.group] == 0)
        per_group_.erase(found->second.group);
    entries_.erase(found);
}

std::size_t capacity_for(std::size_t open_files, std::size_t fds_per_connection) {
    if (fds_per_connection == 0) fds_per_connection = 1;
    if (open_files > MAX_CAPACITY * fds_per_connection + RESERVE)
        return MAX_CAPACITY;
    const std::size_t fit = open_files > RESERVE ? (open_files - RESERVE) / fds_per_connection : 0;
    return fit > SPARE ? fit - SPARE : 1;
}

// ---- groups ------------------------------------------------------------------

namespace {

// An IPv4-mapped IPv6 address (::ffff:a.b.c.d) as the IPv4 address it is.
sockaddr_storage unmapped(const sockaddr* sa) {
    sockaddr_storage out{};
    if (sa->sa_family == AF_INET) {
        std::memcpy(&out, sa, sizeof(sockaddr_in));
    } else if (sa->sa_family == AF_INET6) {
        const auto* six = reinterpret_cast<const sockaddr_in6*>(sa);
        if (IN6_IS_ADDR_V4MAPPED(&six->sin6_addr)) {
            auto* four = reinterpret_cast<sockaddr_in*>(&out);
            four->sin_family = AF_INET;
            four->sin_port = six->sin6_port;
            std::memcpy(&four->sin_addr, six->sin6_addr.s6_addr + 12, 4);
        } else {
            std::memcpy(&out, sa, sizeof(sockaddr_in6));
        }
    }
    return out;
}

bool is_loopback(const sockaddr* sa) {
    if (sa->sa_family == AF_INET)
        return reinterpret_cast<const unsigned char*>(
                   &reinterpret_cast<const sockaddr_in*>(sa)->sin_addr)[0] == 127;
    if (sa->sa_family == AF_INET6)
        return IN6_IS_ADDR_LOOPBACK(&reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr);
    return false;
}

}  // namespace

std::string group_of(const sockaddr* peer, long uid) {
    const sockaddr_storage plain = unmapped(peer);
    const sockaddr* sa = reinterpret_cast<const sockaddr*>(&plain);
    if (is_loopback(sa))
        return uid >= 0 ? "usuário " + std::to_string(uid) + " desta máquina" : "127.0.0.0/8";
    if (sa->sa_family != AF_INET6) return net::address_of(sa);
    sockaddr_in6 network = *reinterpret_cast<const sockaddr_in6*>(sa);
    std::memset(network.sin6_addr.s6_addr + 8, 0, 8);  // the /64: the first 8 bytes
    return net::address_of(reinterpret_cast<const sockaddr*>(&network)) + "/64";
}

long socket_owner(const sockaddr* client, const sockaddr* server, bool udp) {
#ifdef __linux__
    // Asks the kernel (sock_diag, the netlink interface behind `ss`) for the
    // one TCP socket client -> server: an exact lookup, however many sockets
    // the machine has (reading /proc/net/tcp would cost ~8 ms with 3,000).
    const sockaddr_storage c = unmapped(client), s = unmapped(server);
    struct {
        nlmsghdr header;
        inet_diag_req_v2 request;
    } ask{};
    ask.header.nlmsg_len = sizeof ask;
    ask.header.nlmsg_type = SOCK_DIAG_BY_FAMILY;
    ask.header.nlmsg_flags = NLM_F_REQUEST;
    ask.request.sdiag_family = static_cast<unsigned char>(c.ss_family);
    ask.request.sdiag_protocol = udp ? IPPROTO_UDP : IPPROTO_TCP;
    ask.request.idiag_states = ~0u;  // in any state
    inet_diag_sockid& id = ask.request.id;
    id.idiag_cookie[0] = id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
    // UDP's lookup is the receive path's: the socket that would get a datagram
    // from src to dst. The client's socket gets them from the server: swapped.
    const sockaddr_storage& c_or_s = udp ? s : c;
    const sockaddr_storage& s_or_c = udp ? c : s;
    if (c.ss_family == AF_INET) {
        const auto* from = reinterpret_cast<const sockaddr_in*>(&c_or_s);
        const auto* to = reinterpret_cast<const sockaddr_in*>(&s_or_c);
        id.idiag_sport = from->sin_port;
        id.idiag_dport = to->sin_port;
        std::memcpy(id.idiag_src, &from->sin_addr, 4);
        std::memcpy(id.idiag_dst, &to->sin_addr, 4);
    } else {
        const auto* from = reinterpret_cast<const sockaddr_in6*>(&c_or_s);
        const auto* to = reinterpret_cast<const sockaddr_in6*>(&s_or_c);
        id.idiag_sport = from->sin6_port;
        id.idiag_dport = to->sin6_port;
        std::memcpy(id.idiag_src, &from->sin6_addr, 16);
        std::memcpy(id.idiag_dst, &to->sin6_addr, 16);
    }
    int diag = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    if (diag < 0) return -1;
    long uid = -1;
    alignas(nlmsghdr) char answer[1024];
    if (send(diag, &ask, sizeof ask, 0) == static_cast<ssize_t>(sizeof ask)) {
        ssize_t got = recv(diag, answer, sizeof answer, 0);
        const auto* reply = reinterpret_cast<const nlmsghdr*>(answer);
        if (got > 0 && NLMSG_OK(reply, static_cast<unsigned>(got)) &&
            reply->nlmsg_type == SOCK_DIAG_BY_FAMILY)
            uid = static_cast<const inet_diag_msg*>(NLMSG_DATA(reply))->idiag_uid;
    }
    close(diag);
    return uid;
#else
    (void)client;
    (void)server;
    (void)udp;
    return -1;
#endif
}

bool read_group_limit(const std::string& text, std::size_t& limit, const std::string& usage) {
    limit = 0;
    if (text == "nenhum" || args::number(text, 1, 999999, limit)) return true;
    args::usage_error(usage, "--limite-por-ip deve ser um número de 1 a 999999 (ou nenhum)");
    return false;
}

bool read_send_rate(const std::string& text, std::size_t& kib, const std::string& usage) {
    if (args::number(text, 0, 999999, kib)) return true;
    std::cerr << "Erro: --envio-por-aluno deve ser um número de 0 a 999999 (KiB/s; 0: sem limite)\n"
              << usage << "\n";
    return false;
}

// ---- the server's side --------------------------------------------------------

namespace {

// Seconds on a clock that never goes back, for the buckets and the lines.
double seconds_now() {
    using namespace std::chrono;
    return duration<double>(steady_clock::now().time_since_epoch()).count();
}

}  // namespace

Ticket::Ticket(Ticket&& other) noexcept
    : gate_(other.gate_), id_(other.id_), settled_(other.settled_) {
    other.gate_ = nullptr;
}

Ticket& Ticket::operator=(Ticket&& other) noexcept {
    if (this != &other) {
        if (gate_) gate_->leave(id_);
        gate_ = other.gate_;
        id_ = other.id_;
        settled_ = other.settled_;
        other.gate_ = nullptr;
    }
    return *this;
}

Ticket::~Ticket() {
    if (gate_) gate_->leave(id_);
}

void Ticket::settle() {
    // Once is enough: ex6 calls it after every reply, and the Gate's mutex is
    // shared by every connection (100 masters measured 15-25 % fewer requests/s
    // when each reply took it).
    if (gate_ && !settled_) gate_->settle(id_);
    settled_ = true;
}

bool Ticket::pace(std::size_t bytes) { return gate_ && gate_->pace(id_, bytes); }

std::string Gate::open(std::size_t group_limit, std::size_t fds_per_connection) {
    std::size_t files = 4096;  // Windows: sockets are not counted against a limit
    std::string source = "padrão no Windows";
#ifndef _WIN32
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) == 0) {
        files = limit.rlim_cur == RLIM_INFINITY || limit.rlim_cur > (1u << 30)
                    ? (1u << 30)
                    : static_cast<std::size_t>(limit.rlim_cur);
        source = "ulimit -n " + std::to_string(files);
    }
#endif
    std::lock_guard<std::mutex> lock(mutex_);
    policy_ = Policy(capacity_for(files, fds_per_connection), SPARE, group_limit);
    return "Capacidade: " + std::to_string(policy_.capacity()) + " conexões (" + source + "); " +
           (group_limit ? "no máximo " + std::to_string(group_limit) : "sem limite") +
           " por IP. Cheio, quem chega fica com o lugar de uma do grupo que tem mais.";
}

std::string group_of_peer(socket_t own_socket, const sockaddr* peer, bool udp) {
    long uid = -1;
    // A loopback peer: the owner of its socket (Linux; elsewhere -1, all one group).
    if (sockaddr_storage plain = unmapped(peer);
        is_loopback(reinterpret_cast<const sockaddr*>(&plain))) {
        sockaddr_storage mine{};
        socklen_t length = sizeof mine;
        if (getsockname(own_socket, reinterpret_cast<sockaddr*>(&mine), &length) == 0)
            uid = socket_owner(peer, reinterpret_cast<const sockaddr*>(&mine), udp);
    }
    return group_of(peer, uid);
}

Ticket Gate::admit(socket_t client_socket, const sockaddr* peer, bool settled) {
    const std::string address = net::endpoint_of(peer);
    const std::string group = group_of_peer(client_socket, peer, false);
    std::unique_lock<std::mutex> lock(mutex_);
    const Id id = next_id_++;
    Decision decision = policy_.admit(id, group, settled);
    // Full with SPARE replaced ones still closing (a burst): their threads
    // are waking up; wait for them a little (at most 2 s) rather than refuse.
    for (int wait = 0; wait < 40 && decision.outcome == Outcome::Full; ++wait) {
        closed_.wait_for(lock, std::chrono::milliseconds(50));
        decision = policy_.admit(id, group, settled);
    }
    if (decision.outcome == Outcome::GroupLimit) {
        const std::string ip = net::address_of(peer);
        say(group_limit_,
            "Conexão recusada: " + ip + " já tem " + std::to_string(policy_.group_limit()) +
                " conexões abertas (limite por IP; veja --limite-por-ip)" +
                (group == ip ? "" : "; grupo: " + group),
            " conexões recusadas pelo limite por IP");
    } else if (decision.outcome == Outcome::Full) {
        say(full_,
            "Conexão recusada: " + address + ": servidor cheio (" +
                std::to_string(policy_.capacity()) + " conexões, e " + std::to_string(SPARE) +
                " ainda fechando)",
            " conexões recusadas com o servidor cheio");
    } else if (decision.outcome == Outcome::Replacing) {
        Connection& victim = connections_.at(decision.victim);
        shutdown(victim.socket, SHUT_RDWR);  // its thread wakes up, gives back, closes
        victim.replaced = true;
        replaced_.notify_all();  // if it waits in pace(), it stops waiting
        say(replacing_,
            "Conexão " + victim.address + " fechada para dar lugar a " + address +
                ": servidor cheio (" + std::to_string(policy_.capacity()) + " conexões), e " +
                decision.from_group + " é o grupo com mais conexões (" +
                std::to_string(decision.held) + ")",
            " conexões fechadas para dar lugar a outras");
    }
    if (decision.outcome == Outcome::GroupLimit || decision.outcome == Outcome::Full) {
        net::close_socket(client_socket);
        return Ticket();
    }
    net::set_keepalive(client_socket, 30, 5, 3);  // a vanished peer is gone in 45 s
    connections_[id] = {client_socket, address, group};
    return Ticket(this, id);
}

// One line of a kind, unless one was printed less than a second ago; then it
// is only counted, and the next line printed says how many were not:
// "... (e mais 372 conexões fechadas para dar lugar a outras desde a linha anterior)".
void Gate::say(rate_limit::OncePerSecond& kind, const std::string& line,
               const std::string& more) {
    unsigned long not_printed = 0;
    if (!kind.allow(seconds_now(), not_printed)) return;
    const std::string count = not_printed == 0 ? "" : " (e mais " + std::to_string(not_printed) +
                                                          more + " desde a linha anterior)";
    std::cout << (line + count + "\n") << std::flush;  // one write
}

// The group's bucket is spent; out of budget, the thread waits here until
// the debt is repaid, or until its connection loses its place.
bool Gate::pace(Id id, std::size_t bytes) {
    std::unique_lock<std::mutex> lock(mutex_);
    const Connection& connection = connections_.at(id);  // it leaves only by its own Ticket
    if (send_rate_ <= 0) return !connection.replaced;  // --envio-por-aluno 0
    const double now = seconds_now();
    auto budget = budgets_.find(connection.group);
    if (budget == budgets_.end()) {
        // A full bucket is as good as a new one: forget those, so the map
        // holds only the groups that sent in the last few seconds.
        for (auto it = budgets_.begin(); it != budgets_.end();)
            it = it->second.full(now) ? budgets_.erase(it) : std::next(it);
        budget = budgets_
                     .emplace(connection.group,
                              rate_limit::TokenBucket(send_rate_, rate_limit::BURST, now))
                     .first;
    }
    const double wait = budget->second.spend(now, static_cast<double>(bytes));
    if (wait > 0)
        replaced_.wait_for(lock, std::chrono::duration<double>(wait),
                           [&connection] { return connection.replaced; });
    return !connection.replaced;
}

void Gate::settle(Id id) {
    std::lock_guard<std::mutex> lock(mutex_);
    policy_.settle(id);
}

void Gate::leave(Id id) {
    std::lock_guard<std::mutex> lock(mutex_);
    policy_.leave(id);
    connections_.erase(id);
    closed_.notify_all();
}

}  // namespace admission

void report_accept_failure() {
    if (net::interrupted()) return;  // a signal: just call accept() again
    const std::string error = net::last_error();
    using Clock = std::chrono::steady_clock;
    static std::mutex mutex;
    static Clock::time_point last_report;
    static unsigned failures = 0;  // since the last line printed
    {
        std::lock_guard<std::mutex> lock(mutex);
        ++failures;
        const Clock::time_point now = Clock::now();
        if (last_report == Clock::time_point() || now - last_report >= std::chrono::seconds(1)) {
            std::string count = failures == 1 ? "" : " (" + std::to_string(failures) +
                                                         " falhas desde a mensagem anterior)";
            std::cerr << ("Erro no accept: " + error + count + "\n") << std::flush;
            last_report = now;
            failures = 0;
        }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // never spin
}
