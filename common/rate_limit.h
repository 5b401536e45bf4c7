// common/rate_limit.h - a token bucket: how much a sender may send, and when.
//
// The chat servers relay every line to every client. Without a limit, one
// student who sends as fast as the loopback allows (GB/s) fills the queue of
// every classmate whose terminal reads slower, and the server drops them as
// "slow" (common/outbox.h): one student disconnects the whole class. IRC
// servers met this long ago and answer with flood control; so do we.
//
// Each sender group (common/admission.h: a student) has a bucket of BURST
// bytes that refills at RATE bytes a second. Relaying a message spends its
// length. A bucket may go below zero (a message is never cut or refused);
// the sender then waits, before reading its next message, until the bucket
// is back at zero. While it waits the server does not read its socket, so
// TCP's flow control stops the sender's own send(): nothing is dropped,
// nothing is lost, the flooder is merely slowed to RATE.
//
// The numbers (measured in tests/e2e_classroom.cpp and the README):
//   RATE = 16 KiB/s. A person types ~10 characters a second; 16 KiB/s is
//   1,600 times that. The worst flooder then adds 16 KiB/s to what each
//   classmate must read; even a class of 100 all flooding at once sends
//   1.6 MB/s, still under what the slowest reader the attack used keeps up
//   with (2 MB/s), so no honest reader falls 1 MiB behind (Outbox::MAX_QUEUED).
//   BURST = 64 KiB. Pasting a few KB (a whole source file of 64 KiB) goes at
//   once, unnoticed; 64 KiB is 1/16 of a reader's queue.
//
// OncePerSecond is the same idea for a server's own output: under an attack
// a line per event would be a line per connection (100 MB of log in 40 s),
// so one line a second of each kind is printed, with how many were not.
//
// Both are logic alone, without sockets or clocks: `now` is any clock
// in seconds that never goes back, so a test drives it on a virtual clock.
#pragma once

#include <algorithm>

namespace rate_limit {

constexpr double RATE = 16 * 1024;   // bytes a second, per group
constexpr double BURST = 64 * 1024;  // bytes at once, per group

class TokenBucket {
public:
    // A bucket created full at time `now`.
    TokenBucket(double rate, double burst, double now)
        : rate_(rate), burst_(burst), tokens_(burst), last_(now) {}

    // Spends `bytes` at time `now`; returns how many seconds the sender
    // waits before its next message: 0 while the bucket is not below zero.
    double spend(double now, double bytes) {
        refill(now);
        tokens_ -= bytes;
        return tokens_ >= 0 ? 0 : -tokens_ / rate_;
    }

    // Full again at `now`: as good as a new bucket, so it can be forgotten.
    bool full(double now) const { return tokens_ + (now - last_) * rate_ >= burst_; }

    double tokens() const { return tokens_; }  // at the last spend (for tests)

private:
    void refill(double now) {
        if (now > last_) tokens_ = std::min(burst_, tokens_ + (now - last_) * rate_);
        last_ = std::max(last_, now);
    }
    double rate_, burst_;
    double tokens_;  // below zero: a debt, repaid at rate_
    double last_;    // when tokens_ was last brought up to date
};

// At most one line a second (of one kind).
class OncePerSecond {
public:
    // Whether a line may be printed at `now` (seconds, never going back).
    // When it may, `not_printed` is how many were held back since the last
    // line printed (to say so in this one); when not, this one is counted.
    bool allow(double now, unsigned long& not_printed) {
        if (printed_ && now - last_ < 1.0) {
            ++held_back_;
            return false;
        }
        printed_ = true;
        last_ = now;
        not_printed = held_back_;
        held_back_ = 0;
        return true;
    }

private:
    bool printed_ = false;  // a line was printed, at last_
    double last_ = 0;
    unsigned long held_back_ = 0;
};

}  // namespace rate_limit
