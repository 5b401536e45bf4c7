// common/line_reader.cpp - see line_reader.h.
#include "line_reader.h"

namespace net {

LineReader::Result LineReader::next(std::string& line) {
    for (;;) {
        std::size_t newline = buffer_.find('\n');
        if (skipping_) {  // throw away the rest of a line that was too long
            if (newline == std::string::npos) {
                buffer_.clear();
                return Result::NeedMore;
            }
            buffer_.erase(0, newline + 1);
            skipping_ = false;
            continue;
        }
        if (newline != std::string::npos && newline < max_line_) {
            line.assign(buffer_, 0, newline);
            buffer_.erase(0, newline + 1);
            return Result::Line;
        }
        if (newline == std::string::npos && buffer_.size() < max_line_) return Result::NeedMore;
        skipping_ = true;  // max_line bytes or more without a '\n'
        return Result::TooLong;
    }
}

static std::string seconds_text(double seconds) {
    std::string text = std::to_string(seconds);  // "10.000000" -> "10", "2.500000" -> "2.5"
    text.erase(text.find_last_not_of('0') + 1);
    if (!text.empty() && text.back() == '.') text.pop_back();
    return text;
}

Received receive_line(socket_t s, LineReader& reader, std::string& line, std::string& why,
                      const Deadline* deadline) {
    char data[1024];
    const std::string deadline_text =
        deadline ? "não completou o handshake em " + seconds_text(deadline->seconds()) + " s" : "";
    for (;;) {
        switch (reader.next(line)) {
            case LineReader::Result::Line: return Received::Line;
            case LineReader::Result::TooLong:
                why = "enviou uma linha maior que " + std::to_string(reader.max_line()) + " bytes";
                return Received::TooLong;
            case LineReader::Result::NeedMore: break;
        }
        if (deadline) {  // wait only for what is left of the whole exchange
            double left = deadline->remaining();
            if (left <= 0 || !set_timeout(s, SO_RCVTIMEO, left < 0.001 ? 0.001 : left)) {
                why = deadline_text;
                return Received::TimedOut;
            }
        }
        auto received = recv(s, data, sizeof data, 0);
        if (received > 0) {
            reader.feed(data, static_cast<std::size_t>(received));
        } else if (received == 0) {
            why = "fechou a conexão";
            return Received::Closed;
        } else if (interrupted()) {
            continue;  // a signal arrived: just try again
        } else if (timed_out()) {
            why = deadline ? deadline_text : "não respondeu no prazo";
            return Received::TimedOut;
        } else {
            why = "erro: " + last_error();
            return Received::Error;
        }
    }
}

}  // namespace net
