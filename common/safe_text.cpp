// common/safe_text.cpp - see safe_text.h.
#include "safe_text.h"

#include "hex_text.h"
#include <cstdint>
#include <cstdio>

namespace safe_text {

namespace {

void append_hex(std::string& out, unsigned char byte) {
    out += "\\x";
    hex_text::append(out, byte);
}

// Length of the valid UTF-8 character that starts at p (1-4), 0 when the
// bytes there are not a valid character, or -1 when they are the valid start
// of one that is cut short by the end of the buffer. Follows RFC 3629: no
// overlong forms, no surrogates (U+D800-U+DFFF), nothing above U+10FFFF.
int utf8_length(const unsigned char* p, std::size_t available) {
    unsigned char c = p[0];
    int length;
    unsigned char low = 0x80, high = 0xbf;  // the allowed range of the 2nd byte
    if (c < 0x80) return 1;
    if (c >= 0xc2 && c <= 0xdf) length = 2;
    else if (c == 0xe0) length = 3, low = 0xa0;
    else if (c == 0xed) length = 3, high = 0x9f;  // not a surrogate
    else if (c >= 0xe1 && c <= 0xef) length = 3;
    else if (c == 0xf0) length = 4, low = 0x90;
    else if (c == 0xf4) length = 4, high = 0x8f;  // not above U+10FFFF
    else if (c >= 0xf1 && c <= 0xf3) length = 4;
    else return 0;  // 0x80-0xc1 or 0xf5-0xff never start a character
    for (int i = 1; i < length; ++i) {
        if (static_cast<std::size_t>(i) >= available) return -1;
        unsigned char next = p[i];
        if (i == 1 ? (next < low || next > high) : (next < 0x80 || next > 0xbf)) return 0;
    }
    return length;
}

// The code point of the valid UTF-8 character of `n` bytes at p.
std::uint32_t decode(const unsigned char* p, int n) {
    if (n == 1) return p[0];
    std::uint32_t c = p[0] & (0x7f >> n);
    for (int i = 1; i < n; ++i) c = (c << 6) | (p[i] & 0x3f);
    return c;
}

// Invisible characters that change how the text around them is shown: bidi
// embeddings, overrides, isolates and marks (U+202A-202E, U+2066-2069,
// U+200E/F, U+061C: "fatura<U+202E>fdp.exe" shows as "faturaexe.pdf", the
// Trojan Source attack, CVE-2021-42574), zero-width characters (U+200B-200D,
// U+2060-2064, U+FEFF: two names that look the same but differ) and the line
// and paragraph separators U+2028/2029 (a line break a terminal may obey).
bool is_invisible(std::uint32_t c) {
    return c == 0x061c || (c >= 0x200b && c <= 0x200f) || (c >= 0x2028 && c <= 0x202e) ||
           (c >= 0x2060 && c <= 0x2064) || (c >= 0x2066 && c <= 0x2069) || c == 0xfeff;
}

// Pictographs, for the one exception: U+200D (ZERO WIDTH JOINER) between two
// of them is part of an emoji (a family, a flag, a profession) and stays.
bool is_pictograph(std::uint32_t c) {
    return c >= 0x1f000 || (c >= 0x2600 && c <= 0x27bf) || c == 0xfe0f;
}

void append_code_point(std::string& out, std::uint32_t c) {
    char text[12];
    std::snprintf(text, sizeof text, "\\u%04x", static_cast<unsigned>(c));
    out += text;
}

// Appends the safe form of data[0..length) to out. When `keep` is given, an
// incomplete character at the very end is not shown but stored there.
void convert(const unsigned char* data, std::size_t length, std::string& out, std::string* keep) {
    std::size_t i = 0;
    std::uint32_t previous = 0;  // the code point before data[i]
    while (i < length) {
        unsigned char c = data[i];
        int n = utf8_length(data + i, length - i);
        if (n < 0 && keep) {  // the start of a character cut by the end
            keep->assign(reinterpret_cast<const char*>(data + i), length - i);
            return;
        }
        if (n <= 0) {  // not valid UTF-8: show the byte itself
            append_hex(out, c);
            i += 1;
        } else if (n == 1) {
            if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f)
                append_hex(out, c);
            else
                out += static_cast<char>(c);
            i += 1;
        } else if (n == 2 && c == 0xc2 && data[i + 1] <= 0x9f) {
            // U+0080-U+009F, the C1 controls (U+009B is a one-character ESC [).
            append_hex(out, c);
            append_hex(out, data[i + 1]);
            i += 2;
        } else {
            const std::uint32_t code = decode(data + i, n);
            const std::size_t after = i + static_cast<std::size_t>(n);
            int next = after < length ? utf8_length(data + after, length - after) : 0;
            const bool joins_emoji = code == 0x200d && is_pictograph(previous) && next > 0 &&
                                     is_pictograph(decode(data + after, next));
            if (is_invisible(code) && !joins_emoji)
                append_code_point(out, code);  // shown as the visible text \u202e
            else
                out.append(reinterpret_cast<const char*>(data + i), static_cast<std::size_t>(n));
            previous = code;
            i = after;
            continue;
        }
        previous = c;
    }
}

}  // namespace

bool has_invisible(const std::string& text) {
    const auto* data = reinterpret_cast<const unsigned char*>(text.data());
    for (std::size_t i = 0; i < text.size();) {
        int n = utf8_length(data + i, text.size() - i);
        if (n <= 0) return false;  // not UTF-8: printable() shows that anyway
        if (n > 1 && is_invisible(decode(data + i, n))) return true;
        i += static_cast<std::size_t>(n);
    }
    return false;
}

std::string printable(const char* data, std::size_t length) {
    std::string out;
    out.reserve(length);
    convert(reinterpret_cast<const unsigned char*>(data), length, out, nullptr);
    return out;
}

std::string Stream::printable(const char* data, std::size_t length) {
    std::string bytes = pending_;
    bytes.append(data, length);
    pending_.clear();
    std::string out;
    out.reserve(bytes.size());
    convert(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), out, &pending_);
    return out;
}

std::string Stream::finish() {
    std::string out;
    for (unsigned char c : pending_) append_hex(out, c);
    pending_.clear();
    return out;
}

}  // namespace safe_text
