// common/safe_text.h - text that came from the network, made safe to print.
//
// A terminal obeys the control sequences in what it prints: ESC [2J clears
// the screen, ESC ]0;... sets the window title, a bare CR moves back to the
// start of the line so a fake line can overwrite a real one. Any peer on the
// network can send those bytes. So every client that shows received text
// passes it through printable() first:
//   - valid UTF-8 (Olá, ç, emoji) comes out as it is;
//   - newline and tab come out as they are;
//   - every other control character (bytes 0x00-0x1f and 0x7f, and the C1
//     controls U+0080-U+009F) and every byte that is not part of valid
//     UTF-8 come out as the four visible characters \xNN.
// The bytes on the wire do not change: only what reaches the screen.
#pragma once

#include <cstddef>
#include <string>

namespace safe_text {

// One complete message (a chat line, a file name): see above.
std::string printable(const char* data, std::size_t length);
inline std::string printable(const std::string& text) {
    return printable(text.data(), text.size());
}

// For a byte stream cut at arbitrary places (ex1 prints each recv() as it
// comes): a UTF-8 character split between two recv() calls must not be shown
// as two invalid bytes. printable() keeps an incomplete character at the end
// of one piece and completes it with the start of the next.
class Stream {
public:
    std::string printable(const char* data, std::size_t length);
    // What is still kept (an incomplete character at the end of the stream),
    // as \xNN; call it when the stream ends.
    std::string finish();

private:
    std::string pending_;  // at most 3 bytes: the start of a character
};

}  // namespace safe_text
