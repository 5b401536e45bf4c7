// Unit tests of the classroom pieces of common/ (issues 20 and 30): safe_text
// (what arrives is shown, never executed), admission::Policy (who keeps a
// place when the server is full, driven step by step; ex5 uses its groups),
// rate_limit's TokenBucket (one student's share of the chat) and
// OncePerSecond (one log line a second), on a virtual clock,
// Deadline, and the Portuguese error texts. The same behaviour is tested on the real programs
// by e2e_classroom.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <iterator>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "../common/admission.h"
#include "../common/line_reader.h"
#include "../common/net.h"
#include "../common/rate_limit.h"
#include "../common/safe_text.h"
#include "../ex3_files/request.h"

using safe_text::printable;

TEST_CASE("printable: valid UTF-8, newline and tab pass unchanged") {
    for (const std::string text : {"Olá turma", "ç ã é õ", "emoji \xf0\x9f\x98\x80", "a\tb\nc",
                                   "", "\xe2\x82\xac 10", "\xf4\x8f\xbf\xbf"})
        CHECK(printable(text) == text);
}

TEST_CASE("printable: control bytes and escape sequences become visible text") {
    CHECK(printable("\x1b[2J\x1b[H\x1b]0;titulo\x07Professor") ==
          "\\x1b[2J\\x1b[H\\x1b]0;titulo\\x07Professor");
    CHECK(printable("linha\rfalsa") == "linha\\x0dfalsa");
    CHECK(printable(std::string("a\0b", 3)) == "a\\x00b");
    CHECK(printable("\x7f") == "\\x7f");
    // C1 controls: U+009B is a one-character CSI (ESC [) on some terminals.
    CHECK(printable("\xc2\x9b" "2J") == "\\xc2\\x9b2J");
    CHECK(printable("\xc2\xa0") == "\xc2\xa0");  // U+00A0 is not a control
}

TEST_CASE("printable: bytes that are not valid UTF-8 become \\xNN, one by one") {
    CHECK(printable("\xff\xfe") == "\\xff\\xfe");
    CHECK(printable("ol\xe1") == "ol\\xe1");                     // Latin-1 'á', cut
    CHECK(printable("\xc0\xaf") == "\\xc0\\xaf");                // overlong '/'
    CHECK(printable("\xed\xa0\x80") == "\\xed\\xa0\\x80");       // a surrogate
    CHECK(printable("\xf4\x90\x80\x80") == "\\xf4\\x90\\x80\\x80");  // above U+10FFFF
    CHECK(printable("\x80" "a") == "\\x80a");                    // a lone continuation
    CHECK(printable("\xe2\x82" "a") == "\\xe2\\x82a");           // cut short inside
}

TEST_CASE("printable: invisible format characters become \\uNNNN; visible text stays") {
    CHECK(printable("fatura\xe2\x80\xae" "fdp.exe") == "fatura\\u202efdp.exe");  // U+202E
    const std::pair<const char*, const char*> cases[] = {
        {"\xe2\x80\xaa", "\\u202a"}, {"\xe2\x80\xab", "\\u202b"}, {"\xe2\x80\xac", "\\u202c"},
        {"\xe2\x80\xad", "\\u202d"}, {"\xe2\x81\xa6", "\\u2066"}, {"\xe2\x81\xa7", "\\u2067"},
        {"\xe2\x81\xa8", "\\u2068"}, {"\xe2\x81\xa9", "\\u2069"}, {"\xe2\x80\x8e", "\\u200e"},
        {"\xe2\x80\x8f", "\\u200f"}, {"\xd8\x9c", "\\u061c"},     {"\xe2\x80\x8b", "\\u200b"},
        {"\xe2\x80\x8c", "\\u200c"}, {"\xe2\x80\x8d", "\\u200d"}, {"\xe2\x81\xa0", "\\u2060"},
        {"\xef\xbb\xbf", "\\ufeff"}, {"\xe2\x80\xa8", "\\u2028"}, {"\xe2\x80\xa9", "\\u2029"},
        {"\xc2\xad", "\\u00ad"},     {"\xe2\x81\xaa", "\\u206a"}, {"\xe3\x85\xa4", "\\u3164"},
        {"\xf3\xa0\x81\x81", "\\U000e0041"}};  // U+E0041 TAG LATIN CAPITAL LETTER A
    for (const auto& one : cases) {  // (a structured binding cannot be captured: clang)
        const std::string raw = one.first, shown = one.second;
        CHECK_MESSAGE(printable("a" + raw + "b") == "a" + shown + "b", shown);
        CHECK(safe_text::first_invisible("x" + raw) != 0);
    }
    // Visible text, accents and emoji stay; a joiner inside an emoji too.
    for (const std::string text : {"Olá, ação", "\xe2\x82\xac 10", "\xf0\x9f\x98\x80",
                                   "\xd8\xb3\xd9\x84\xd8\xa7\xd9\x85",  // Arabic, right to left
                                   "\xf0\x9f\x91\xa8\xe2\x80\x8d\xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x91\xa7",
                                   "\xe2\x9d\xa4\xef\xb8\x8f\xe2\x80\x8d\xf0\x9f\x94\xa5"}) {
        CHECK(printable(text) == text);
        CHECK((safe_text::first_invisible(text) != 0) ==
              (text.find("\xe2\x80\x8d") != std::string::npos));
    }
    CHECK(safe_text::first_invisible("Olá \xf0\x9f\x98\x80") == 0);
    // A joiner that joins no emoji is escaped.
    CHECK(printable("ad\xe2\x80\x8dmin") == "ad\\u200dmin");
}

namespace {
// Unicode 15.0 (ICU 72), generated with
//   python3 -c "import ctypes; u = ctypes.CDLL('libicuuc.so.72');
//     print([hex(c) for c in range(0x110000) if u.u_charType_72(c) == 16])"
// (16 is U_FORMAT_CHAR, general category Cf; u_hasBinaryProperty_72(c, 5),
// UCHAR_DEFAULT_IGNORABLE_CODE_POINT, for the second table), runs joined into
// ranges. Python 3.11's unicodedata (Unicode 14.0) gives the same Cf list but
// U+13430-13438 instead of U+13430-1343F. A copy, on purpose, independent of
// the table in safe_text.cpp: a range missing there fails here.
struct Range {
    std::uint32_t first, last;
};
constexpr Range format_characters[] = {  // general category Cf
    {0x00ad, 0x00ad},   {0x0600, 0x0605},   {0x061c, 0x061c},   {0x06dd, 0x06dd},
    {0x070f, 0x070f},   {0x0890, 0x0891},   {0x08e2, 0x08e2},   {0x180e, 0x180e},
    {0x200b, 0x200f},   {0x202a, 0x202e},   {0x2060, 0x2064},   {0x2066, 0x206f},
    {0xfeff, 0xfeff},   {0xfff9, 0xfffb},   {0x110bd, 0x110bd}, {0x110cd, 0x110cd},
    {0x13430, 0x1343f}, {0x1bca0, 0x1bca3}, {0x1d173, 0x1d17a}, {0xe0001, 0xe0001},
    {0xe0020, 0xe007f}};
constexpr Range default_ignorable[] = {  // DerivedCoreProperties: Default_Ignorable_Code_Point
    {0x00ad, 0x00ad}, {0x034f, 0x034f},   {0x061c, 0x061c}, {0x115f, 0x1160},
    {0x17b4, 0x17b5}, {0x180b, 0x180f},   {0x200b, 0x200f}, {0x202a, 0x202e},
    {0x2060, 0x206f}, {0x3164, 0x3164},   {0xfe00, 0xfe0f}, {0xfeff, 0xfeff},
    {0xffa0, 0xffa0}, {0xfff0, 0xfff8},   {0x1bca0, 0x1bca3}, {0x1d173, 0x1d17a},
    {0xe0000, 0xe0fff}};

bool in(const Range* begin, const Range* end, std::uint32_t c) {
    return std::any_of(begin, end, [c](const Range& r) { return c >= r.first && c <= r.last; });
}

bool should_escape(std::uint32_t c) {
    return in(std::begin(format_characters), std::end(format_characters), c) ||
           in(std::begin(default_ignorable), std::end(default_ignorable), c) || c == 0x2028 ||
           c == 0x2029;
}

std::string utf8(std::uint32_t c) {
    std::string s;
    if (c < 0x80) {
        s += char(c);
    } else if (c < 0x800) {
        s += {char(0xc0 | c >> 6), char(0x80 | (c & 0x3f))};
    } else if (c < 0x10000) {
        s += {char(0xe0 | c >> 12), char(0x80 | (c >> 6 & 0x3f)), char(0x80 | (c & 0x3f))};
    } else {
        s += {char(0xf0 | c >> 18), char(0x80 | (c >> 12 & 0x3f)), char(0x80 | (c >> 6 & 0x3f)),
              char(0x80 | (c & 0x3f))};
    }
    return s;
}

std::string escaped(std::uint32_t c, const char* format) {
    char text[16];
    std::snprintf(text, sizeof text, format, static_cast<unsigned>(c));
    return text;
}
}  // namespace

TEST_CASE("printable: every Cf and default-ignorable code point is escaped, nothing else") {
    for (const Range* table : {std::begin(format_characters), std::begin(default_ignorable)}) {
        const Range* end = table == std::begin(format_characters) ? std::end(format_characters)
                                                                  : std::end(default_ignorable);
        for (const Range* r = table; r != end; ++r)
            for (std::uint32_t c = r->first; c <= r->last; ++c) {
                const std::string shown = escaped(c, c <= 0xffff ? "\\u%04x" : "\\U%08x");
                CHECK_MESSAGE(printable("a" + utf8(c) + "b") == "a" + shown + "b", shown);
                CHECK_MESSAGE(safe_text::first_invisible("a" + utf8(c)) == c, shown);
            }
    }
    // Everything else that is not a control character stays as it is: letters,
    // accents, spaces (U+00A0, U+3000), private use, unassigned code points.
    std::size_t changed = 0;
    for (std::uint32_t c = 0xa0; c <= 0x10ffff; ++c) {
        if ((c >= 0xd800 && c <= 0xdfff) || should_escape(c)) continue;  // surrogates: not UTF-8
        const std::string text = utf8(c);
        if (printable(text) != text || safe_text::first_invisible(text) != 0) {
            if (++changed <= 10) FAIL_CHECK("changed: " << escaped(c, "U+%04X"));
        }
    }
    CHECK(changed == 0);
}

TEST_CASE("printable: emoji stay whole; nothing hides in their invisible parts") {
    const std::string zwj = "\xe2\x80\x8d", vs16 = "\xef\xb8\x8f", black_flag = "\xf0\x9f\x8f\xb4";
    auto tags = [](const std::string& ascii) {  // U+E0000 + each character, then CANCEL TAG
        std::string out;
        for (char c : ascii) out += utf8(0xe0000 + static_cast<unsigned char>(c));
        return out + utf8(0xe007f);
    };
    // Kept: ❤️, 1️⃣, #️⃣, ©️, 🏳️‍🌈, 👩🏽‍💻, and the flags of England, Scotland, Wales.
    for (const std::string& text :
         {"\xe2\x9d\xa4" + vs16, "1" + vs16 + "\xe2\x83\xa3", "#" + vs16 + "\xe2\x83\xa3",
          "\xc2\xa9" + vs16, "\xf0\x9f\x8f\xb3" + vs16 + zwj + "\xf0\x9f\x8c\x88",
          "\xf0\x9f\x91\xa9\xf0\x9f\x8f\xbd" + zwj + "\xf0\x9f\x92\xbb", black_flag + tags("gbeng"),
          black_flag + tags("gbsct"), "Gales: " + black_flag + tags("gbwls") + "!"})
        CHECK_MESSAGE(printable(text) == text, text);
    // Escaped: a U+FE0F after a letter or after another U+FE0F, a keycap
    // selector without the keycap, a joiner after an escaped selector, U+FE0E
    // and the selectors 17-256 (they can carry one byte each after an emoji).
    CHECK(printable("a" + vs16) == "a\\ufe0f");
    CHECK(printable("\xe2\x9d\xa4" + vs16 + vs16) == "\xe2\x9d\xa4" + vs16 + "\\ufe0f");
    CHECK(printable("1" + vs16) == "1\\ufe0f");
    CHECK(printable("a" + vs16 + zwj + "\xf0\x9f\x94\xa5") == "a\\ufe0f\\u200d\xf0\x9f\x94\xa5");
    CHECK(printable("\xe2\x9d\xa4\xef\xb8\x8e") == "\xe2\x9d\xa4\\ufe0e");
    CHECK(printable("\xf0\x9f\x98\x80\xf3\xa0\x84\x80") == "\xf0\x9f\x98\x80\\U000e0100");
    // Any other tag sequence is escaped, so no ASCII hides in tags ("ASCII smuggling").
    CHECK(printable(black_flag + tags("us")) ==
          black_flag + "\\U000e0075\\U000e0073\\U000e007f");
    CHECK(printable("oi" + tags("ignore")) ==
          "oi\\U000e0069\\U000e0067\\U000e006e\\U000e006f\\U000e0072\\U000e0065\\U000e007f");
    CHECK(printable(tags("gbeng")) ==
          "\\U000e0067\\U000e0062\\U000e0065\\U000e006e\\U000e0067\\U000e007f");
    CHECK(printable(black_flag + tags("gbengx")).find("\\U000e0078") != std::string::npos);
    CHECK(printable(black_flag + tags("gbeng").substr(0, 8)).find("\\U000e0067") != std::string::npos);
}

TEST_CASE("check_name (ex3): names with invisible characters are refused, naming the character") {
    CHECK(request::check_name("fatura\xe2\x80\xae" "fdp.exe") ==
          "o nome tem um caractere invisível (U+202E)");
    CHECK(request::check_name("a\xe2\x81\xaa" "b.jpg") == "o nome tem um caractere invisível (U+206A)");
    CHECK(request::check_name("\xef\xbb\xbf" "x.jpg") == "o nome tem um caractere invisível (U+FEFF)");
    CHECK(request::check_name("x\xc2\xad.jpg") == "o nome tem um caractere invisível (U+00AD)");
    CHECK(request::check_name("x\xf3\xa0\x81\x81.jpg") ==
          "o nome tem um caractere invisível (U+E0041)");
    // Every Cf and default-ignorable code point, and U+2028/2029.
    for (std::uint32_t c = 0xa0; c <= 0x10ffff; ++c) {
        if (!should_escape(c)) continue;
        const std::string expected = "o nome tem um caractere invisível (" + escaped(c, "U+%04X") + ")";
        CHECK_MESSAGE(request::check_name("x" + utf8(c) + ".jpg") == expected, expected);
    }
    // Even the invisible parts of an emoji: "❤.jpg" and "❤️.jpg" would be two
    // files that look like one.
    CHECK(request::check_name("\xe2\x9d\xa4\xef\xb8\x8f.jpg") ==
          "o nome tem um caractere invisível (U+FE0F)");
    CHECK(request::check_name("\xf0\x9f\x91\xa8\xe2\x80\x8d\xf0\x9f\x91\xa9.jpg") ==
          "o nome tem um caractere invisível (U+200D)");
    CHECK(request::check_name("açaí \xf0\x9f\x98\x80.jpg").empty());  // visible: fine
}

TEST_CASE("safe_text::Stream: a character split between two recv() is shown whole") {
    safe_text::Stream stream;
    const std::string text = "Olá \xf0\x9f\x98\x80!";
    for (std::size_t cut = 0; cut <= text.size(); ++cut) {
        std::string shown = stream.printable(text.data(), cut);
        shown += stream.printable(text.data() + cut, text.size() - cut);
        shown += stream.finish();
        CHECK_MESSAGE(shown == text, "cut at " << cut);
    }
    // An incomplete character at the very end is shown as bytes by finish().
    CHECK(stream.printable("a\xc3", 2) == "a");
    CHECK(stream.finish() == "\\xc3");
    // Escapes split anywhere are still escaped.
    CHECK(stream.printable("\x1b", 1) + stream.printable("[2J", 3) == "\\x1b[2J");
}

// ---- admission::Policy: the rule, step by step ----------------------------------

namespace {

// A Policy with a log of every step, printed when a check fails.
struct Steps {
    admission::Policy policy;
    admission::Id next = 1;
    std::ostringstream log;
    Steps(std::size_t capacity, std::size_t spare, std::size_t limit)
        : policy(capacity, spare, limit) {}
    admission::Decision admit(const std::string& group, bool settled = true) {
        const admission::Id id = next++;
        admission::Decision d = policy.admit(id, group, settled);
        log << "admit #" << id << " " << group << (settled ? " settled" : "") << " -> "
            << static_cast<int>(d.outcome) << " victim #" << d.victim << " (" << d.from_group
            << " held " << d.held << ")\n";
        return d;
    }
    void leave(admission::Id id) {
        log << "leave #" << id << "\n";
        policy.leave(id);
    }
    void settle(admission::Id id) {
        log << "settle #" << id << "\n";
        policy.settle(id);
    }
};

using admission::Outcome;

}  // namespace

TEST_CASE("admission: while there is room, no refusal, whatever the address") {
    Steps s(200, 16, 0);
    for (int i = 0; i < 200; ++i) REQUIRE_MESSAGE(s.admit("127.0.0.0/8").outcome == Outcome::Admitted, s.log.str());
    CHECK(s.policy.held_by("127.0.0.0/8") == 200);
}

TEST_CASE("admission: full, the newcomer takes the place of one of the group that holds most") {
    Steps s(4, 16, 0);
    s.admit("A");                 // #1
    s.admit("A");                 // #2
    s.admit("A");                 // #3
    s.admit("B");                 // #4
    admission::Decision d = s.admit("C");  // #5: A holds 3, C would hold 1
    CHECK_MESSAGE(d.outcome == Outcome::Replacing, s.log.str());
    CHECK(d.from_group == "A");
    CHECK(d.held == 3);
    CHECK_MESSAGE(d.victim == 3, s.log.str());  // A's newest: all settled
    // Replaced, #3 still counts until it leaves (its descriptor is not free yet).
    CHECK(s.policy.open() == 5);
    CHECK(s.policy.held_by("A") == 2);
    s.leave(3);
    CHECK(s.policy.open() == 4);
    // A holds 2, B 1, C 1: a second C would hold 2, as many as A: C gives.
    d = s.admit("C");  // #6
    CHECK_MESSAGE((d.outcome == Outcome::Replacing && d.from_group == "C" && d.victim == 5),
                  s.log.str());
}

TEST_CASE("admission: within the group, the oldest unsettled goes first, then the newest") {
    Steps s(5, 16, 0);
    s.admit("A");         // #1 the student reading the chat for an hour
    s.admit("A", false);  // #2 handshake not finished
    s.admit("A", false);  // #3 handshake not finished
    s.admit("A");         // #4 settled
    s.admit("A");         // #5 settled, the newest
    CHECK_MESSAGE(s.admit("B").victim == 2, s.log.str());  // #6: the oldest unsettled
    s.settle(3);
    CHECK_MESSAGE(s.admit("C").victim == 5, s.log.str());  // #7: now the newest of A
    CHECK_MESSAGE(s.admit("D").victim == 4, s.log.str());  // #8
    // #1 stays: "longest idle" would have chosen it first.
}

TEST_CASE("admission: a burst from one group only replaces that group's own") {
    Steps s(10, 16, 0);
    for (int i = 0; i < 4; ++i) s.admit("turma");  // #1-#4
    for (int i = 0; i < 6; ++i) s.admit("atacante");  // #5-#10
    for (int i = 0; i < 50; ++i) {
        admission::Decision d = s.admit("atacante", false);
        REQUIRE_MESSAGE(d.outcome == Outcome::Replacing, s.log.str());
        REQUIRE_MESSAGE(d.from_group == "atacante", s.log.str());
        REQUIRE_MESSAGE(d.held == 6, s.log.str());  // what it held, the newcomer not counted
        s.leave(d.victim);
    }
    CHECK(s.policy.held_by("turma") == 4);
    // And one more of the class gets a place from the attacker, who holds more.
    admission::Decision d = s.admit("turma");
    CHECK_MESSAGE((d.outcome == Outcome::Replacing && d.from_group == "atacante"), s.log.str());
}

// ---- rate_limit: a student's share of the chat, on a virtual clock ------------

namespace {

// A TokenBucket driven by a script of steps on a virtual clock that starts at
// a random time each run; every step is logged and printed when a check fails.
struct Bucket {
    const double start;
    double now;
    rate_limit::TokenBucket bucket;
    std::ostringstream log;
    explicit Bucket(double at)
        : start(at), now(at), bucket(rate_limit::RATE, rate_limit::BURST, at) {
        log << "start at t=" << std::fixed << start << "\n";
    }
    double spend(double bytes) {
        const double wait = bucket.spend(now, bytes);
        log << "t=+" << now - start << " spend " << bytes << " -> tokens " << bucket.tokens()
            << ", wait " << wait << "\n";
        return wait;
    }
    void advance(double seconds) { now += seconds; }
};

// A whole number of seconds (so that start + 1.0 - start is exactly 1.0).
double random_start() {
    std::random_device seed;
    return std::uniform_int_distribution<int>(0, 1000000)(seed);
}

}  // namespace

TEST_CASE("rate_limit: honest typing and a pasted file never wait") {
    Bucket b(random_start());
    for (int line = 0; line < 300; ++line) {  // a 60-byte line every 2 s, for 10 minutes
        REQUIRE_MESSAGE(b.spend(60) == 0, b.log.str());
        b.advance(2);
    }
    b.advance(10);
    for (int line = 0; line < 64; ++line)  // then 64 KiB pasted at once, 1 KiB a recv()
        REQUIRE_MESSAGE(b.spend(1024) == 0, b.log.str());
    b.advance(4);  // 4 s later (BURST / RATE) the bucket is full again
    CHECK_MESSAGE(b.bucket.full(b.now), b.log.str());
    for (int paste = 0; paste < 30; ++paste) {  // 5 KB every 10 s
        REQUIRE_MESSAGE(b.spend(5000) == 0, b.log.str());
        b.advance(10);
    }
}

TEST_CASE("rate_limit: a flooder gets its burst, then RATE, and waits for each debt") {
    Bucket b(random_start());
    double sent = 0, waited = 0;
    for (int line = 0; line < 64; ++line) sent += 1024, b.spend(1024);  // the burst
    CHECK_MESSAGE(b.bucket.tokens() == 0, b.log.str());
    const double wait = b.spend(1024);  // one more: 1 KiB of debt
    sent += 1024;
    CHECK_MESSAGE(wait == doctest::Approx(1024 / rate_limit::RATE), b.log.str());
    // It sends again only after each wait, for 60 virtual seconds.
    b.advance(wait);
    waited += wait;
    while (waited < 60) {
        const double w = b.spend(1024);
        sent += 1024;
        REQUIRE_MESSAGE(w > 0, b.log.str());  // always in debt from now on
        b.advance(w);
        waited += w;
    }
    // What it relayed: its burst plus RATE a second, give or take one line.
    CHECK_MESSAGE(sent <= rate_limit::BURST + rate_limit::RATE * waited + 1024, b.log.str());
    CHECK_MESSAGE(sent >= rate_limit::BURST + rate_limit::RATE * waited - 1024, b.log.str());
}

TEST_CASE("rate_limit: k connections of one group share one budget") {
    // Each of k senders charges its line when its own wait is over (the
    // earliest first), as the server's threads do; in 30 s the group relays
    // its burst plus RATE a second, plus at most one line per connection.
    std::mt19937 random(std::random_device{}());
    const int k = std::uniform_int_distribution<int>(2, 50)(random);
    Bucket b(random_start());
    b.log << k << " connections\n";
    const double end = b.now + 30;
    std::vector<double> ready(static_cast<std::size_t>(k), b.now);
    double sent = 0;
    while (true) {
        auto next = std::min_element(ready.begin(), ready.end());
        if (*next >= end) break;
        b.now = *next;
        *next = b.now + b.spend(1000);
        sent += 1000;
    }
    CHECK_MESSAGE(sent <= rate_limit::BURST + rate_limit::RATE * 30 + 1000.0 * k, b.log.str());
    CHECK_MESSAGE(sent >= rate_limit::RATE * 30, b.log.str());
}

TEST_CASE("rate_limit: a clock read out of order never creates tokens") {
    Bucket b(random_start());
    b.spend(rate_limit::BURST);  // empty
    b.advance(-5);               // an older reading (two threads, one late)
    CHECK_MESSAGE(b.spend(1024) == doctest::Approx(1024 / rate_limit::RATE), b.log.str());
    // 1 KiB of debt at the latest reading (start): full 4.0625 s after it.
    CHECK_MESSAGE(!b.bucket.full(b.start + 4), b.log.str());
    CHECK_MESSAGE(b.bucket.full(b.start + (rate_limit::BURST + 1024) / rate_limit::RATE), b.log.str());
}

TEST_CASE("OncePerSecond: one line a second, and how many were not printed") {
    rate_limit::OncePerSecond lines;
    std::ostringstream log;
    const double start = random_start();
    unsigned long not_printed = 99, printed = 0;
    std::vector<unsigned long> counts;
    for (int i = 0; i < 3000; ++i) {  // 1,000 events a second for 3 s
        const double now = start + i / 1000.0;
        if (lines.allow(now, not_printed)) {
            log << "t=+" << i / 1000.0 << " printed, " << not_printed << " not printed before\n";
            ++printed;
            counts.push_back(not_printed);
        }
    }
    CHECK_MESSAGE(printed == 3, log.str());
    CHECK_MESSAGE((counts == std::vector<unsigned long>{0, 999, 999}), log.str());
    CHECK_MESSAGE(lines.allow(start + 60, not_printed), log.str());  // much later:
    CHECK_MESSAGE(not_printed == 999, log.str());  // what the last second held back
}

TEST_CASE("admission: at most `spare` replaced connections closing; then refused, then room again") {
    Steps s(2, 2, 0);
    s.admit("A");
    s.admit("A");
    CHECK(s.admit("B").outcome == Outcome::Replacing);  // #3 replaces #2
    CHECK(s.admit("C").outcome == Outcome::Replacing);  // #4 replaces one
    CHECK_MESSAGE(s.admit("D").outcome == Outcome::Full, s.log.str());
    s.leave(2);
    CHECK_MESSAGE(s.admit("D").outcome == Outcome::Replacing, s.log.str());
}

TEST_CASE("admission: --limite-por-ip is a cap per group, and only that") {
    Steps s(100, 16, 2);
    CHECK(s.admit("A").outcome == Outcome::Admitted);
    CHECK(s.admit("A").outcome == Outcome::Admitted);
    CHECK(s.admit("A").outcome == Outcome::GroupLimit);
    CHECK(s.admit("B").outcome == Outcome::Admitted);
    s.leave(1);
    CHECK(s.admit("A").outcome == Outcome::Admitted);
    std::size_t limit = 7;
    CHECK(admission::read_group_limit("nenhum", limit, "uso"));
    CHECK(limit == 0);
    CHECK(admission::read_group_limit("16", limit, "uso"));
    CHECK(limit == 16);
    CHECK(admission::read_group_limit("999999", limit, "uso"));
    CHECK(limit == 999999);
    for (const char* bad : {"", "0", "-1", "abc", "1234567", "3x"})
        CHECK_MESSAGE(!admission::read_group_limit(bad, limit, "uso"), bad);
}

TEST_CASE("admission: random arrivals and departures keep the rule's promises") {
    const unsigned seed = std::random_device{}();
    std::mt19937 random(seed);
    const std::size_t capacity = 5 + random() % 40, spare = 1 + random() % 5;
    Steps s(capacity, spare, 0);
    s.log << "seed " << seed << " capacity " << capacity << " spare " << spare << "\n";
    std::vector<admission::Id> open, replaced;
    for (int step = 0; step < 3000; ++step) {
        const unsigned what = random() % 10;
        if (what < 6) {
            const std::string group = "G" + std::to_string(random() % 6);
            std::size_t most = 0;
            for (int g = 0; g < 6; ++g) most = std::max(most, s.policy.held_by("G" + std::to_string(g)));
            const std::size_t mine = s.policy.held_by(group);
            admission::Decision d = s.admit(group, random() % 2);
            if (d.outcome == Outcome::Replacing) {
                // Max-min: it took from its own group, or from one that held more than it
                // would (or as many, when its own holds nobody to take from).
                REQUIRE_MESSAGE((d.from_group == group || d.held > mine + 1 ||
                                 (mine == 0 && d.held == most)),
                                s.log.str());
                // `held`: what the group that gave held, the newcomer not counted.
                REQUIRE_MESSAGE(d.held == (d.from_group == group ? mine : most), s.log.str());
                open.erase(std::remove(open.begin(), open.end(), d.victim), open.end());
                replaced.push_back(d.victim);
            }
            REQUIRE_MESSAGE(d.outcome != Outcome::GroupLimit, s.log.str());
            if (d.outcome != Outcome::Full) open.push_back(s.next - 1);
            REQUIRE_MESSAGE((d.outcome != Outcome::Full || replaced.size() >= spare), s.log.str());
        } else if (what < 8 && !open.empty()) {
            const std::size_t i = random() % open.size();
            s.leave(open[i]);
            open.erase(open.begin() + static_cast<long>(i));
        } else if (!replaced.empty()) {  // a replaced connection's thread closes it
            s.leave(replaced.front());
            replaced.erase(replaced.begin());
        }
        REQUIRE_MESSAGE(s.policy.open() <= capacity + spare, s.log.str());
        REQUIRE_MESSAGE(s.policy.open() == open.size() + replaced.size(), s.log.str());
    }
}

TEST_CASE("admission: capacity from the descriptor limit") {
    CHECK(admission::capacity_for(1024, 1) == 1024 - 16 - 16);
    CHECK(admission::capacity_for(1024, 2) == (1024 - 16) / 2 - 16);
    CHECK(admission::capacity_for(24, 1) == 1);  // never 0
    CHECK(admission::capacity_for(1u << 30, 1) == admission::MAX_CAPACITY);
}

namespace {
sockaddr_storage endpoint(const std::string& ip, unsigned port) {
    sockaddr_storage out{};
    if (ip.find(':') == std::string::npos) {
        auto* a = reinterpret_cast<sockaddr_in*>(&out);
        a->sin_family = AF_INET;
        a->sin_port = htons(static_cast<uint16_t>(port));
        inet_pton(AF_INET, ip.c_str(), &a->sin_addr);
    } else {
        auto* a = reinterpret_cast<sockaddr_in6*>(&out);
        a->sin6_family = AF_INET6;
        a->sin6_port = htons(static_cast<uint16_t>(port));
        inet_pton(AF_INET6, ip.c_str(), &a->sin6_addr);
    }
    return out;
}
const sockaddr* sa(const sockaddr_storage& s) { return reinterpret_cast<const sockaddr*>(&s); }
}  // namespace

TEST_CASE("admission: groups are /32, /64, IPv4-mapped as IPv4, and all of loopback") {
    CHECK(admission::group_of(sa(endpoint("192.0.2.7", 1))) == "192.0.2.7");
    CHECK(admission::group_of(sa(endpoint("2001:db8:1:2:aaaa::1", 1))) == "2001:db8:1:2::/64");
    CHECK(admission::group_of(sa(endpoint("2001:db8:1:2:bbbb::9", 1))) == "2001:db8:1:2::/64");
    CHECK(admission::group_of(sa(endpoint("::ffff:198.51.100.3", 1))) == "198.51.100.3");
    for (const char* loop : {"127.0.0.1", "127.0.0.2", "127.200.3.4", "::1", "::ffff:127.0.0.9"})
        CHECK_MESSAGE(admission::group_of(sa(endpoint(loop, 1))) == "127.0.0.0/8", loop);
    CHECK(admission::group_of(sa(endpoint("127.0.0.2", 1)), 1000) == "usuário 1000 desta máquina");
    CHECK(admission::group_of(sa(endpoint("192.0.2.7", 1)), 1000) == "192.0.2.7");  // not loopback
}

TEST_CASE("admission: the owner of the client's own socket, asked to the kernel") {
    // A connection over loopback made here: its client socket is this test's.
    int listener = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_storage any = endpoint("127.0.0.1", 0);
    REQUIRE(bind(listener, sa(any), sizeof(sockaddr_in)) == 0);
    REQUIRE(listen(listener, 1) == 0);
    sockaddr_storage server{}, client{};
    socklen_t length = sizeof server;
    getsockname(listener, reinterpret_cast<sockaddr*>(&server), &length);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(connect(fd, sa(server), sizeof(sockaddr_in)) == 0);
    length = sizeof client;
    getsockname(fd, reinterpret_cast<sockaddr*>(&client), &length);
    CHECK(admission::socket_owner(sa(client), sa(server)) == static_cast<long>(geteuid()));
    sockaddr_storage other = endpoint("127.0.0.1", net::port_of(sa(client)) ^ 1);
    CHECK(admission::socket_owner(sa(other), sa(server)) == -1);  // no such socket
    close(fd);
    close(listener);
}

TEST_CASE("error texts are Portuguese, with the code's name and number") {
    CHECK(net::error_text(EADDRINUSE) == "endereço já em uso (EADDRINUSE 98)");
    CHECK(net::error_text(ECONNREFUSED) == "conexão recusada (ECONNREFUSED 111)");
    CHECK(net::error_text(ECONNRESET) == "conexão derrubada pelo outro lado (RST) (ECONNRESET 104)");
    CHECK(net::error_text(EAGAIN) == "nada chegou dentro do prazo (EAGAIN 11)");
    CHECK(net::error_text(EMFILE) == "arquivos abertos demais neste programa (EMFILE 24)");
    CHECK(net::error_text(EACCES) == "permissão negada (EACCES 13)");
    CHECK(net::error_text(EMSGSIZE) ==
          "mensagem grande demais para um datagrama (EMSGSIZE 90)");
    // Anything else: the system's text and the number.
    CHECK(net::error_text(EDOM).find("(33)") != std::string::npos);
}

TEST_CASE("Deadline: receive_line gives up when the whole exchange runs out, however it drips") {
    net::Startup startup;
    int pair[2];
    REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, pair) == 0);
    std::thread dripper([fd = pair[1]] {
        for (int i = 0; i < 8; ++i) {  // one byte every 150 ms, never a '\n'
            if (send(fd, "x", 1, MSG_NOSIGNAL) != 1) break;
            std::this_thread::sleep_for(std::chrono::milliseconds(150));
        }
    });
    net::LineReader reader;
    std::string line, why;
    net::Deadline deadline(0.5);
    CHECK(net::receive_line(pair[0], reader, line, why, &deadline) == net::Received::TimedOut);
    CHECK(why == "não completou o handshake em 0.5 s");
    dripper.join();
    net::close_socket(pair[0]);
    net::close_socket(pair[1]);
}
