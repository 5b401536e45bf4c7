// common/line_reader.cpp - see line_reader.h.
#include "line_reader.h"

namespace net {

// How long SO_RCVTIMEO lets recv() wait on s, in whole seconds (for messages).
static int receive_timeout_seconds(socket_t s) {
#ifdef _WIN32
    DWORD ms = 0;
    int length = sizeof ms;
    getsockopt(s, SOL_SOCKET, SO_RCVTIMEO, reinterpret_cast<char*>(&ms), &length);
    return static_cast<int>(ms / 1000);
#else
    timeval tv{};
    socklen_t length = sizeof tv;
    getsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, &length);
    return static_cast<int>(tv.tv_sec);
#endif
}

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

bool receive_line(socket_t s, LineReader& reader, std::string& line, std::string& why,
                  const Deadline* deadline) {
    char data[1024];
    for (;;) {
        switch (reader.next(line)) {
            case LineReader::Result::Line: return true;
            case LineReader::Result::TooLong:
                why = "enviou uma linha maior que " + std::to_string(reader.max_line()) + " bytes";
                return false;
            case LineReader::Result::NeedMore: break;
        }
        if (deadline) {  // wait only for what is left of the whole exchange
            double left = deadline->remaining();
            if (left <= 0 || !set_timeout(s, SO_RCVTIMEO, left < 0.001 ? 0.001 : left)) {
                why = "não completou o handshake em " + seconds_text(deadline->seconds()) + " s";
                return false;
            }
        }
        auto received = recv(s, data, sizeof data, 0);
        if (received > 0) {
            reader.feed(data, static_cast<std::size_t>(received));
        } else if (received < 0 && interrupted()) {
            continue;  // a signal arrived: just try again
        } else {
            if (received == 0)
                why = "fechou a conexão";
            else if (timed_out() && deadline)
                why = "não completou o handshake em " + seconds_text(deadline->seconds()) + " s";
            else if (timed_out())
                why = "não respondeu em " + std::to_string(receive_timeout_seconds(s)) + " s";
            else
                why = "erro: " + last_error();
            return false;
        }
    }
}

}  // namespace net
