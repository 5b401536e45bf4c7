// common/per_address.h - one address cannot take the whole server.
//
// Used by ex5's transfers and ex4's intruso only: the TCP servers (ex1-ex4,
// ex6) use common/admission.h, which keeps no per-address limit while there
// is room and shares the places fairly when full.
//
// A server has a limited number of descriptors (often 1024; `ulimit -n`)
// and every open connection holds one, plus a thread. A single machine that
// opens hundreds of connections and sends nothing would use them all, and
// from then on accept() fails for everyone else. So each server admits at
// most N connections at a time from one source IP (--limite-por-ip N,
// default 16, far more than one student ever opens); the next one from that
// IP is closed at once and the server prints one line saying why.
//
//   auto slot = per_address.take(ip);      // in the accept loop
//   if (!slot) { print per_address.refusal(ip); close the socket; continue; }
//   std::thread(handle_client, ..., std::move(slot)).detach();
//
// The Slot gives its place back when it is destroyed, i.e. when the thread
// that handles the connection ends, however it ends.
#pragma once

#include <cstddef>
#include <map>
#include <mutex>
#include <string>

#include "admission.h"  // report_accept_failure(), which lived here before
#include "args.h"

class PerAddressLimit {
public:
    static constexpr std::size_t DEFAULT_MAX = 16;

    // A place taken by one connection; move-only.
    class Slot {
    public:
        Slot() = default;
        Slot(Slot&& other) noexcept;
        Slot& operator=(Slot&& other) noexcept;
        ~Slot();
        Slot(const Slot&) = delete;
        Slot& operator=(const Slot&) = delete;
        explicit operator bool() const { return owner_ != nullptr; }

    private:
        friend class PerAddressLimit;
        Slot(PerAddressLimit* owner, std::string ip) : owner_(owner), ip_(std::move(ip)) {}
        PerAddressLimit* owner_ = nullptr;
        std::string ip_;
    };

    // A place for one more connection from `ip`, or an empty Slot when `ip`
    // already holds the maximum.
    Slot take(const std::string& ip);

    // The line a server prints when it refuses a connection from `ip`.
    std::string refusal(const std::string& ip) const;

    // The long option "--limite-por-ip N", for args::parse_address().
    args::Option option() { return {"--limite-por-ip", &option_text_}; }
    // Reads the option's value after args::parse_address(): returns -1 when it
    // is fine (or absent); otherwise prints the error and `usage` on stderr
    // and returns 2, the exit code for a bad argument.
    int check_option(const std::string& usage);

    std::size_t max() const { return max_; }

private:
    void give_back(const std::string& ip);

    mutable std::mutex mutex_;
    std::map<std::string, std::size_t> open_;  // open connections per IP
    std::size_t max_ = DEFAULT_MAX;
    std::string option_text_ = std::to_string(DEFAULT_MAX);
};
