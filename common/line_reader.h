// common/line_reader.h - one message per line over TCP (ex2 and ex4).
//
// TCP is a stream of bytes: it keeps their order, not the boundaries of the
// send() calls. One recv() may bring two lines, or half of one. So each
// message travels as one line ending in '\n', and a LineReader collects what
// recv() returns and hands out whole lines, one at a time.
#pragma once

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

// Receives the next whole line from `s` into `line`, calling recv() only when
// `reader` holds no whole line yet. Returns false when the peer closed the
// connection, on an error or a timeout (SO_RCVTIMEO), or when a line is too
// long; `why` then says which, in Portuguese: "fechou a conexão",
// "não respondeu em 10 s", "enviou uma linha maior que N bytes", "erro: ...".
bool receive_line(socket_t s, LineReader& reader, std::string& line, std::string& why);

}  // namespace net
