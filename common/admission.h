// common/admission.h - who gets a place on the server when places run out.
//
// Every open connection holds a descriptor and a thread, and a process has a
// limited number of descriptors (`ulimit -n`, often 1024). A server that
// accepts everything reaches that limit, and from then on accept() fails for
// everyone (EMFILE). A fixed limit per address fails the other way: on a
// shared machine every student is 127.0.0.1, and behind NAT a whole class
// shares one address. So the rule, the same in every server, is:
//
//  1. Capacity. The server keeps at most C connections, C derived from
//     RLIMIT_NOFILE with room left for files and the listening socket
//     (capacity_for()). It prints C at start.
//  2. While there is room, everyone gets in: no refusal per address.
//  3. When full, a newcomer takes the place of a connection of the GROUP that
//     holds the most (max-min fairness, like OpenSSH's PerSourceNetBlockSize):
//     its own group, unless another group holds more than its own would with
//     it. A group is an IPv4 address, an IPv6 /64 (what one SLAAC host owns),
//     an IPv4-mapped address as IPv4; all of 127.0.0.0/8 and ::1 are one
//     group (any local user binds any of them), split on Linux by the uid
//     that owns the client's own socket (the uid column of /proc/net/tcp,
//     asked to the kernel with sock_diag, as `ss -e` does): students sharing a
//     machine are told apart, and an attacker's sockets count against the
//     attacker alone.
//  4. Within that group, the one that leaves is the oldest that has not
//     finished its example's handshake or first request; if none, the most
//     recently opened one. A burst of fresh sockets goes before a student
//     who has been reading the chat for an hour ("longest idle" would do the
//     opposite: a silent reader would lose to an attacker's new sockets).
//     The server prints one line saying why it closed it.
//  5. --limite-por-ip N, when given, is an explicit cap per group as well.
//  6. In the chat servers, what a group may relay is limited too: a token
//     bucket per group (common/rate_limit.h, 16 KiB/s, bursts of 64 KiB).
//     Ticket::pace() spends what a connection relayed; when its group is out
//     of budget it waits there, before its next recv(), and TCP's flow
//     control slows the sender. One student cannot flood the class out.
//
// Under an attack these lines would come by the thousand a second (a churn of
// 1,100 connections wrote 100 MB in 40 s): each kind - connection closed for
// a newcomer, refused by the cap per group, refused full - is printed at most
// once a second, with how many of that kind were not printed since.
//
// Policy is the rule alone, without sockets or clocks, so that a test can
// drive it step by step. Gate is what a server uses: it finds the group of a
// socket, applies the Policy, shuts the replaced connection down (which
// wakes its thread) and turns on TCP keepalive (net::set_keepalive) on every
// admitted connection, so a peer that vanished without a FIN frees its place
// in under a minute.
//
//   static admission::Gate gate;                  // one per server
//   std::cerr << gate.open(limit, 1) << "\n";     // at start: the capacity line
//   admission::Ticket ticket = gate.admit(client_socket, peer, settled);
//   if (!ticket) continue;                        // refused: closed, and said why
//   ... ticket.settle();                          // handshake or request done
//   ... if (!ticket.pace(bytes)) break;           // chat: after relaying `bytes`
//   ticket = admission::Ticket();                 // BEFORE closing the socket
#pragma once

#include <cstddef>
#include <cstdint>
#include <condition_variable>
#include <map>
#include <mutex>
#include <string>

#include "net.h"
#include "rate_limit.h"

namespace admission {

// ---- the rule --------------------------------------------------------------

using Id = std::uint64_t;  // connections are numbered in order of arrival

enum class Outcome {
    Admitted,       // there was room
    Replacing,      // admitted in the place of `victim`, who must be closed
    GroupLimit,     // refused: its group already holds --limite-por-ip
    Full,           // refused: full, and `spare` replaced ones are still closing
};

struct Decision {
    Outcome outcome = Outcome::Admitted;
    Id victim = 0;            // Replacing: who leaves
    std::string from_group;   // Replacing: the group it belongs to
    std::size_t held = 0;     // Replacing: how many that group held (not the newcomer)
};

class Policy {
public:
    // capacity: connections kept at once. spare: how many replaced connections
    // may still be closing (their descriptors not yet free) before newcomers
    // are refused. group_limit: the explicit cap per group; 0 = none.
    Policy(std::size_t capacity, std::size_t spare, std::size_t group_limit);

    // A newcomer `id` (greater than every id before it) from `group`; settled
    // when its example has no handshake (ex1's chat).
    Decision admit(Id id, const std::string& group, bool settled);
    void settle(Id id);  // it finished its handshake or first request
    void leave(Id id);   // it is gone (closed), replaced or not

    std::size_t capacity() const { return capacity_; }
    std::size_t group_limit() const { return group_limit_; }
    std::size_t open() const { return entries_.size(); }  // replaced ones too, until they leave
    std::size_t held_by(const std::string& group) const;  // not counting replaced ones

private:
    struct Entry {
        std::string group;
        bool settled;
        bool replaced;
    };
    Id victim_in(const std::string& group) const;

    std::size_t capacity_, spare_, group_limit_;
    std::map<Id, Entry> entries_;                   // in order of arrival
    std::map<std::string, std::size_t> per_group_;  // entries not replaced
    std::size_t replaced_ = 0;                      // entries replaced, still open
};

// How many connections fit in `open_files` descriptors (RLIMIT_NOFILE) when
// each takes `fds_per_connection` (ex3: the socket and the file it sends):
// RESERVE descriptors stay for the program itself (stdin/out/err, the
// listening socket, /proc reads, a refused connection while it is closed),
// and SPARE connections for the replaced ones while they close. At most
// MAX_CAPACITY (every connection is also a thread).
constexpr std::size_t RESERVE = 16, SPARE = 16, MAX_CAPACITY = 16384;
std::size_t capacity_for(std::size_t open_files, std::size_t fds_per_connection);

// The group of a peer, as text: "192.0.2.7", "2001:db8:1:2::/64",
// "127.0.0.0/8" (every loopback address, ::1 and ::ffff:127.x too), or
// "usuário 1000 desta máquina" for a loopback peer whose socket's owner is
// known (uid >= 0).
std::string group_of(const sockaddr* peer, long uid = -1);

// The uid that owns the TCP socket `client` -> `server` on this machine
// (Linux: asked to the kernel, the uid column of /proc/net/tcp); -1 if
// unknown. For a connection accepted from loopback, with `client` its peer and
// `server` its own address, that is the CLIENT's socket, so its user. With
// `udp`, the UDP socket bound to `client` that receives from `server` (the
// uid column of /proc/net/udp): ex5's client.
long socket_owner(const sockaddr* client, const sockaddr* server, bool udp = false);

// group_of(peer, uid) with the uid of the peer's socket when it is on
// loopback: `own_socket` is the server's socket that talks to it (accepted,
// or ex5's one UDP socket with `udp`).
std::string group_of_peer(socket_t own_socket, const sockaddr* peer, bool udp);

// The value of --limite-por-ip: "nenhum" (the default) is 0, no cap;
// otherwise a number from 1 to 999999. false (after printing the error and `usage` on
// stderr) for anything else.
bool read_group_limit(const std::string& text, std::size_t& limit, const std::string& usage);

// The value of --envio-por-aluno (chat servers): KiB a second each group may
// relay, from 0 (no limit: the original's behaviour, for tests of the slow-
// client rules, common/outbox.h) to 999999; the default is 16
// (rate_limit::RATE). false (after printing the error and `usage`) otherwise.
bool read_send_rate(const std::string& text, std::size_t& kib, const std::string& usage);

// ---- the server's side --------------------------------------------------------

class Gate;

// The place of one admitted connection, given back when the Ticket is
// destroyed or reset. Give it back BEFORE closing the socket: until then the
// Gate may shut the socket down to make room, and a closed descriptor number
// can already belong to another connection. Move-only.
class Ticket {
public:
    Ticket() = default;
    Ticket(Ticket&& other) noexcept;
    Ticket& operator=(Ticket&& other) noexcept;
    ~Ticket();
    Ticket(const Ticket&) = delete;
    Ticket& operator=(const Ticket&) = delete;
    explicit operator bool() const { return gate_ != nullptr; }
    void settle();  // the handshake or first request is done (only the first call locks)
    // This connection relayed `bytes` to the chat: they are spent from its
    // group's budget; out of budget, waits until the group's debt is repaid.
    // false (at once) if the Gate gave this connection's place to a
    // newcomer: the caller stops relaying (its socket is shut down already).
    bool pace(std::size_t bytes);

private:
    friend class Gate;
    Ticket(Gate* gate, Id id) : gate_(gate), id_(id) {}
    Gate* gate_ = nullptr;
    Id id_ = 0;
    bool settled_ = false;  // settle() told the Gate already: a server may call it per request
};

class Gate {
public:
    // Reads RLIMIT_NOFILE, sets the capacity (capacity_for) and the cap per
    // group (0 = none) and returns the line the server prints at start.
    std::string open(std::size_t group_limit, std::size_t fds_per_connection);
    // The chat's send budget per group, in KiB a second (0: none); the
    // default is rate_limit::RATE. Call it before the first connection.
    void set_send_rate(std::size_t kib) { send_rate_ = 1024.0 * static_cast<double>(kib); }

    // Decides on a socket just accepted from `peer`. Admitted: a Ticket, with
    // TCP keepalive on; a connection it replaces is shut down and one line
    // says why. Refused: the socket is closed, one line says why, and the
    // Ticket is empty. When SPARE replaced connections are still closing, it
    // waits for them (up to 2 s) before refusing.
    Ticket admit(socket_t client_socket, const sockaddr* peer, bool settled);

private:
    friend class Ticket;
    void settle(Id id);
    bool pace(Id id, std::size_t bytes);
    void leave(Id id);
    void say(rate_limit::OncePerSecond& kind, const std::string& line, const std::string& more);
    struct Connection {
        socket_t socket;
        std::string address;    // "IP:PORTA", for messages
        std::string group;      // whose send budget it spends
        bool replaced = false;  // its place went to a newcomer
    };
    std::mutex mutex_;
    std::condition_variable closed_;    // a connection gave its place back
    std::condition_variable replaced_;  // a connection lost its place (wakes pace())
    Policy policy_{capacity_for(1024, 1), SPARE, 0};
    std::map<Id, Connection> connections_;
    std::map<std::string, rate_limit::TokenBucket> budgets_;  // per group; full ones forgotten
    double send_rate_ = rate_limit::RATE;                      // bytes a second; 0: no budget
    rate_limit::OncePerSecond replacing_, group_limit_, full_;  // one line a second of each
    Id next_id_ = 1;
};

}  // namespace admission

// Call it when accept() fails. A signal (EINTR): returns at once, the loop
// simply calls accept() again. Anything else - typically "too many open
// files" (EMFILE), when the connection stays in the queue and every accept()
// fails again at once - is printed at most once a second, with how many
// times it happened, and the loop pauses 100 ms so it never spins.
void report_accept_failure();
