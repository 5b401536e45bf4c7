// common/hex_text.h - bytes and numbers as hexadecimal digits (lower case).
// The one hex encoder of the project: safe_text's "\x1b" for a byte a
// terminal must not obey, ex6's "00 01 02" in --detalhes and ex5's CRC-32 in
// "OK 1a2b3c4d".
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace hex_text {

// Appends the two digits of a byte: 0x1b -> "1b".
inline void append(std::string& out, unsigned char byte) {
    static const char digits[] = "0123456789abcdef";
    out += digits[byte >> 4];
    out += digits[byte & 15];
}

// The bytes as pairs of digits, `separator` between two pairs:
// bytes("\x00\x01\xff", 3, " ") == "00 01 ff".
inline std::string bytes(const void* data, std::size_t length, const char* separator = "") {
    const auto* p = static_cast<const unsigned char*>(data);
    std::string out;
    for (std::size_t i = 0; i < length; ++i) {
        if (i > 0) out += separator;
        append(out, p[i]);
    }
    return out;
}

// A number as exactly `digits` digits (at most 16), most significant first:
// number(0x1a2b, 8) == "00001a2b".
inline std::string number(std::uint64_t value, int digits) {
    static const char all[] = "0123456789abcdef";
    std::string out;
    for (int shift = 4 * (digits - 1); shift >= 0; shift -= 4) out += all[(value >> shift) & 15];
    return out;
}

}  // namespace hex_text
