// common/line_reader.h - one message per line over TCP (ex2 and ex4).
//
// TCP is a stream of bytes: it keeps their order, not the boundaries of the
// send() calls. One recv() may bring two lines, or half of one. So each
// message travels as one line ending in '\n', and a LineReader collects what
// recv() returns and hands out whole lines, one at a time.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

#include "net.h"

namespace net {

class LineReader {
public:
    enum class Result { Line, NeedMore, TooLong };

    // A line may have at most max_line bytes, counting its '\n'.
    explicit LineReader(std::size_t max_line = 1024) : max_line_(max_line) {}

    // Bytes just received.
    void feed(const char* data, std::size_t length) { buffer_.append(data, length); }

    // Line: `line` gets the next line, without its '\n'. NeedMore: the rest
    // has not arrived yet. TooLong: max_line bytes went by without a '\n';
    // they are thrown away up to the next '\n'.
    Result next(std::string& line);

    std::size_t max_line() const { return max_line_; }

private:
    std::size_t max_line_;
    std::string buffer_;
    bool skipping_ = false;  // inside a line that was too long
};

// A time limit for a whole exchange (a handshake), counted from when the
// Deadline is made. SO_RCVTIMEO alone limits each recv(): a peer that sends
// one byte every few seconds would never run out of it.
class Deadline {
public:
    explicit Deadline(double seconds)
        : seconds_(seconds),
          end_(std::chrono::steady_clock::now() +
               std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                   std::chrono::duration<double>(seconds))) {}
    double seconds() const { return seconds_; }  // the whole limit
    double remaining() const {                   // what is left, >= 0
        std::chrono::duration<double> left = end_ - std::chrono::steady_clock::now();
        return left.count() > 0 ? left.count() : 0;
    }

private:
    double seconds_;
    std::chrono::steady_clock::time_point end_;
};

// How receive_line() ended. Callers branch on this, never on the text.
enum class Received {
    Line,      // `line` holds the next line
    Closed,    // the peer closed the connection (recv() returned 0)
    TooLong,   // max_line bytes went by without a '\n'
    TimedOut,  // the deadline, or the caller's SO_RCVTIMEO, ran out
    Error,     // recv() failed (a reset, ...)
};

// Receives the next whole line from `s` into `line`, calling recv() only when
// `reader` holds no whole line yet. For every outcome but Line, `why` says
// what happened, in Portuguese, for display only: "fechou a conexão",
// "enviou uma linha maior que N bytes", "não respondeu no prazo",
// "erro: <last_error()>".
// With a `deadline`, each recv() waits only for what is left of it (it sets
// SO_RCVTIMEO), and when it runs out (TimedOut) `why` is "não completou o
// handshake em N s"; the caller sets SO_RCVTIMEO back afterwards.
Received receive_line(socket_t s, LineReader& reader, std::string& line, std::string& why,
                      const Deadline* deadline = nullptr);

}  // namespace net
