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
//     UTF-8 come out as the four visible characters \xNN;
//   - invisible characters come out as the visible text \uNNNN (\UNNNNNNNN
//     above U+FFFF): every format character (Unicode category Cf) and every
//     default-ignorable one - bidi embeddings, overrides, isolates and marks
//     ("fatura<U+202E>fdp.exe" would show as "faturaexe.pdf", the Trojan
//     Source attack), zero-width characters, tag characters (a hidden copy
//     of ASCII text), blank fillers, variation selectors - and the line and
//     paragraph separators U+2028/2029. The table is in safe_text.cpp.
//     Emoji stay whole: a zero-width joiner between two emoji (👨‍👩‍👧), one
//     U+FE0F after an emoji (❤️) or in a keycap (1️⃣), and the tags of the
//     flags of England, Scotland and Wales.
// The bytes on the wire do not change: only what reaches the screen.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace safe_text {

// One complete message (a chat line, a file name): see above.
std::string printable(const char* data, std::size_t length);
inline std::string printable(const std::string& text) {
    return printable(text.data(), text.size());
}

// The first invisible character of `text` (even one inside an emoji), or 0
// when it has none: a file name must not have any (ex3's check_name).
std::uint32_t first_invisible(const std::string& text);

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
