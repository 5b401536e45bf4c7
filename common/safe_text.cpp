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

// Invisible characters, shown as \uNNNN. A terminal draws nothing for them,
// yet they change how the text around them reads or what a program sees:
// bidi embeddings, overrides, isolates and marks ("fatura<U+202E>fdp.exe"
// shows as "faturaexe.pdf", the Trojan Source attack, CVE-2021-42574),
// zero-width characters (two names that look the same but differ), tag
// characters (a hidden copy of ASCII text, "ASCII smuggling") and blank
// fillers. The table is the union of two lists of the Unicode Character
// Database 15.0 (the version of ICU 72; Python 3.11's unicodedata is 14.0,
// which lacks U+13439-1343F):
//   Cf  general category Format (extracted/DerivedGeneralCategory.txt);
//   DI  Default_Ignorable_Code_Point (DerivedCoreProperties.txt): what a
//       font shows as nothing; includes still unassigned code points that
//       will be ignorable when assigned (U+2065, U+FFF0-FFF8, U+E0000-E0FFF);
// plus U+2028/2029, the line and paragraph separators (a line break a
// terminal may obey). tests/unit_safeguards.cpp checks every Cf and DI code
// point against its own copy of both lists, and that nothing else changes.
struct Range {
    std::uint32_t first, last;
};
constexpr Range invisible_ranges[] = {
    {0x00ad, 0x00ad},    // Cf  soft hyphen
    {0x034f, 0x034f},    // DI  combining grapheme joiner
    {0x0600, 0x0605},    // Cf  Arabic number signs
    {0x061c, 0x061c},    // Cf  Arabic letter mark (bidi)
    {0x06dd, 0x06dd},    // Cf  Arabic end of ayah
    {0x070f, 0x070f},    // Cf  Syriac abbreviation mark
    {0x0890, 0x0891},    // Cf  Arabic pound and piastre marks above
    {0x08e2, 0x08e2},    // Cf  Arabic disputed end of ayah
    {0x115f, 0x1160},    // DI  Hangul choseong and jungseong fillers (blank)
    {0x17b4, 0x17b5},    // DI  Khmer inherent vowels
    {0x180b, 0x180f},    // DI  Mongolian variation selectors; Cf vowel separator
    {0x200b, 0x200f},    // Cf  zero width space, non-joiner, joiner; LRM, RLM
    {0x2028, 0x2029},    //     line and paragraph separators
    {0x202a, 0x202e},    // Cf  bidi embeddings and overrides
    {0x2060, 0x206f},    // Cf  word joiner, invisible operators, bidi isolates,
                         //     deprecated format characters (DI: U+2065)
    {0x3164, 0x3164},    // DI  Hangul filler (blank)
    {0xfe00, 0xfe0f},    // DI  variation selectors 1-16
    {0xfeff, 0xfeff},    // Cf  zero width no-break space (byte order mark)
    {0xffa0, 0xffa0},    // DI  halfwidth Hangul filler (blank)
    {0xfff0, 0xfffb},    // DI  unassigned; Cf interlinear annotation controls
    {0x110bd, 0x110bd},  // Cf  Kaithi number sign
    {0x110cd, 0x110cd},  // Cf  Kaithi number sign above
    {0x13430, 0x1343f},  // Cf  Egyptian hieroglyph format controls
    {0x1bca0, 0x1bca3},  // Cf  shorthand format controls
    {0x1d173, 0x1d17a},  // Cf  musical symbol beam, tie, slur, phrase controls
    {0xe0000, 0xe0fff},  // Cf  tags (U+E0001, U+E0020-E007F); DI variation
                         //     selectors 17-256 (U+E0100-E01EF), unassigned
};

bool is_invisible(std::uint32_t c) {
    for (const Range& range : invisible_ranges)
        if (c >= range.first && c <= range.last) return true;
    return false;
}

// Emoji, for the exceptions below: Extended_Pictographic in a few ranges,
// which hold every character with Unicode's Emoji property (ICU 72), so every
// emoji that has a U+FE0F form.
bool is_pictograph(std::uint32_t c) {
    return c == 0xa9 || c == 0xae || c == 0x203c || c == 0x2049 || c == 0x2122 ||
           c == 0x2139 || (c >= 0x2194 && c <= 0x21aa) || (c >= 0x2300 && c <= 0x23ff) ||
           c == 0x24c2 || (c >= 0x25aa && c <= 0x25fe) || (c >= 0x2600 && c <= 0x27bf) ||
           (c >= 0x2934 && c <= 0x2935) || (c >= 0x2b05 && c <= 0x2b55) || c == 0x3030 ||
           c == 0x303d || c == 0x3297 || c == 0x3299 || (c >= 0x1f000 && c <= 0x1faff);
}

// The emoji that are written with tag characters: the flags of England,
// Scotland and Wales, U+1F3F4 followed by the tags of "gbeng", "gbsct" or
// "gbwls" and U+E007F (the only three of Unicode's recommended emoji). They
// stay; any other tag is escaped, so no text can hide in tags. (A flag cut
// between two recv() calls shows its tags escaped: safe, and rare.)
std::size_t subdivision_flag_length(const unsigned char* p, std::size_t available) {
    // U+E0000 + c, in UTF-8: f3 a0 80|81 (0x80 + c % 64).
    static const char* const flags[] = {"gbeng", "gbsct", "gbwls"};
    for (const char* flag : flags) {
        std::string tags;
        for (const char* c = flag; *c; ++c)
            tags += {'\xf3', '\xa0', char(0x80 + (*c >> 6)), char(0x80 + (*c & 0x3f))};
        tags += "\xf3\xa0\x81\xbf";  // U+E007F CANCEL TAG
        if (available >= tags.size() && tags.compare(0, tags.size(), reinterpret_cast<const char*>(p),
                                                      tags.size()) == 0)
            return tags.size();
    }
    return 0;
}

// \u202e for a character of the BMP, \U000e0041 above it (as in C and Python).
void append_code_point(std::string& out, std::uint32_t c) {
    char text[12];
    std::snprintf(text, sizeof text, c <= 0xffff ? "\\u%04x" : "\\U%08x", static_cast<unsigned>(c));
    out += text;
}

// Whether the invisible character `code` is part of an emoji and stays:
//   - U+200D ZERO WIDTH JOINER between two emoji (a family 👨‍👩‍👧, ❤️‍🔥);
//   - U+FE0F VARIATION SELECTOR-16 right after an emoji (❤️, "draw it as an
//     emoji"), or in a keycap (1️⃣: digit, U+FE0F, U+20E3).
// `previous` is the character just shown as it is (0 if it was escaped), `next`
// the one that follows (0 if none). Only one U+FE0F per emoji and a joiner only
// between emoji: nothing can hide in a run of them.
bool part_of_emoji(std::uint32_t code, std::uint32_t previous, std::uint32_t next) {
    if (code == 0x200d) return (is_pictograph(previous) || previous == 0xfe0f) && is_pictograph(next);
    const bool keycap_base = (previous >= '0' && previous <= '9') || previous == '#' || previous == '*';
    return code == 0xfe0f && (is_pictograph(previous) || (keycap_base && next == 0x20e3));
}

// Appends the safe form of data[0..length) to out. When `keep` is given, an
// incomplete character at the very end is not shown but stored there.
void convert(const unsigned char* data, std::size_t length, std::string& out, std::string* keep) {
    std::size_t i = 0;
    std::uint32_t previous = 0;  // the code point before data[i], 0 if it was escaped
    while (i < length) {
        unsigned char c = data[i];
        int n = utf8_length(data + i, length - i);
        if (n < 0 && keep) {  // the start of a character cut by the end
            keep->assign(reinterpret_cast<const char*>(data + i), length - i);
            return;
        }
        const std::uint32_t before = previous;
        previous = 0;  // unless this character is shown as it is
        if (n <= 0) {  // not valid UTF-8: show the byte itself
            append_hex(out, c);
            i += 1;
        } else if (n == 1) {
            if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f)
                append_hex(out, c);
            else
                out += static_cast<char>(c), previous = c;
            i += 1;
        } else if (n == 2 && c == 0xc2 && data[i + 1] <= 0x9f) {
            // U+0080-U+009F, the C1 controls (U+009B is a one-character ESC [).
            append_hex(out, c);
            append_hex(out, data[i + 1]);
            i += 2;
        } else {
            const std::uint32_t code = decode(data + i, n);
            std::size_t after = i + static_cast<std::size_t>(n);
            const int next_length = after < length ? utf8_length(data + after, length - after) : 0;
            const std::uint32_t next = next_length > 0 ? decode(data + after, next_length) : 0;
            if (code == 0x1f3f4)  // a black flag: maybe England's, Scotland's or Wales's
                after += subdivision_flag_length(data + after, length - after);
            if (is_invisible(code) && !part_of_emoji(code, before, next)) {
                append_code_point(out, code);  // shown as the visible text \u202e
            } else {
                out.append(reinterpret_cast<const char*>(data + i), after - i);
                previous = code;
            }
            i = after;
        }
    }
}

}  // namespace

std::uint32_t first_invisible(const std::string& text) {
    const auto* data = reinterpret_cast<const unsigned char*>(text.data());
    for (std::size_t i = 0; i < text.size();) {
        int n = utf8_length(data + i, text.size() - i);
        if (n <= 0) return 0;  // not UTF-8: printable() shows that anyway
        const std::uint32_t code = decode(data + i, n);
        if (is_invisible(code)) return code;
        i += static_cast<std::size_t>(n);
    }
    return 0;
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
