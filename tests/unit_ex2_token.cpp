// Unit tests of ex2_crypto/token.h: base64url, tokens and line splitting.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "../common/line_reader.h"
#include "../ex2_crypto/token.h"

namespace {

struct Sodium {
    Sodium() { REQUIRE(sodium_init() >= 0); }
};

std::vector<unsigned char> key_of(unsigned char seed) {
    std::vector<unsigned char> key(token::KEY_BYTES);
    for (std::size_t i = 0; i < key.size(); ++i) key[i] = static_cast<unsigned char>(seed + i);
    return key;
}

}  // namespace

TEST_CASE("base64url with padding, as Python's urlsafe_b64encode") {
    Sodium sodium;
    auto key = key_of(0);  // bytes 0..31
    // base64.urlsafe_b64encode(bytes(range(32)))
    CHECK(token::to_base64(key.data(), key.size()) ==
          "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=");
    const unsigned char fb_ff[] = {0xfb, 0xff};
    CHECK(token::to_base64(fb_ff, 2) == "-_8=");  // '-' and '_', not '+' and '/'

    std::vector<unsigned char> out;
    REQUIRE(token::from_base64("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", out));
    CHECK(out == key);
    REQUIRE(token::from_base64("-_8=", out));
    CHECK(out == std::vector<unsigned char>{0xfb, 0xff});
    for (const char* bad : {"+/8=", "-_8", "-_8==", "-_8=A", "-_ 8=", "@@@@", "-_8=\n"})
        CHECK_MESSAGE(!token::from_base64(bad, out), bad);
}

TEST_CASE("token sizes: OK is 56 characters, a 19-byte message 80, 725 bytes fit a line") {
    Sodium sodium;
    auto key = key_of(7);
    CHECK(token::encrypt(key.data(), "OK").size() == 56);
    CHECK(token::encrypt(key.data(), "Olá turma de redes").size() == 80);  // 19 bytes
    CHECK(token::MAX_TEXT == 725);
    CHECK(token::encrypt(key.data(), std::string(725, 'a')).size() + 1 <= token::MAX_LINE);
    CHECK(token::encrypt(key.data(), std::string(726, 'a')).size() + 1 > token::MAX_LINE);
    CHECK(token::to_base64(key.data(), key.size()).size() == 44);
}

TEST_CASE("token layout is PyNaCl's SecretBox.encrypt: nonce, then MAC + ciphertext") {
    Sodium sodium;
    auto key = key_of(3);
    std::string t = token::encrypt(key.data(), "OK");
    std::vector<unsigned char> box;
    REQUIRE(token::from_base64(t, box));
    REQUIRE(box.size() == 24 + 16 + 2);
    unsigned char plain[2];
    REQUIRE(crypto_secretbox_open_easy(plain, box.data() + 24, box.size() - 24, box.data(),
                                       key.data()) == 0);
    CHECK(std::string(plain, plain + 2) == "OK");
}

TEST_CASE("decrypt: round trip, and every kind of bad token is refused") {
    Sodium sodium;
    auto key = key_of(1), other = key_of(2);
    const std::string text = "Olá turma de redes industriais";
    std::string t = token::encrypt(key.data(), text), out;
    REQUIRE(token::decrypt(key.data(), t, out));
    CHECK(out == text);
    CHECK(token::encrypt(key.data(), text) != t);  // a fresh nonce every time

    CHECK(!token::decrypt(other.data(), t, out));              // wrong key
    std::string tampered = t;
    tampered[30] = tampered[30] == 'A' ? 'B' : 'A';
    CHECK(!token::decrypt(key.data(), tampered, out));         // altered
    CHECK(!token::decrypt(key.data(), t.substr(0, 52), out));  // truncated
    CHECK(!token::decrypt(key.data(), "", out));               // empty
    CHECK(!token::decrypt(key.data(), "não é base64!", out));  // not base64
    CHECK(!token::decrypt(key.data(), std::string(56, 'A'), out));  // zeros: MAC fails
    std::string empty_message = token::encrypt(key.data(), "");
    CHECK(token::decrypt(key.data(), empty_message, out));
    CHECK(out.empty());
}

TEST_CASE("LineReader: lines come out whole whatever way TCP cuts them") {
    using R = net::LineReader::Result;
    std::string line;

    SUBCASE("several lines in one recv") {
        net::LineReader r;
        const std::string three = "um\ndois\ntrês\n";
        r.feed(three.data(), three.size());
        CHECK(r.next(line) == R::Line);
        CHECK(line == "um");
        CHECK(r.next(line) == R::Line);
        CHECK(line == "dois");
        CHECK(r.next(line) == R::Line);
        CHECK(line == "três");
        CHECK(r.next(line) == R::NeedMore);
    }
    SUBCASE("one line across many recv, a byte at a time") {
        net::LineReader r;
        const std::string text = "linha partida em pedaços\n";
        for (std::size_t i = 0; i + 1 < text.size(); ++i) {
            r.feed(&text[i], 1);
            CHECK(r.next(line) == R::NeedMore);
        }
        r.feed("\n", 1);
        CHECK(r.next(line) == R::Line);
        CHECK(line == "linha partida em pedaços");
    }
    SUBCASE("an empty line is a line") {
        net::LineReader r;
        r.feed("\nx\n", 3);
        CHECK(r.next(line) == R::Line);
        CHECK(line.empty());
        CHECK(r.next(line) == R::Line);
        CHECK(line == "x");
    }
    SUBCASE("1024 bytes with the newline is the limit") {
        net::LineReader r;
        std::string max(1023, 'a');
        r.feed((max + "\n").data(), 1024);
        CHECK(r.next(line) == R::Line);
        CHECK(line == max);
    }
    SUBCASE("a longer line is refused, skipped, and the next one still comes out") {
        net::LineReader r;
        std::string longer(5000, 'b');
        r.feed(longer.data(), 1000);
        CHECK(r.next(line) == R::NeedMore);
        r.feed(longer.data(), 4000);
        CHECK(r.next(line) == R::TooLong);
        CHECK(r.next(line) == R::NeedMore);  // still inside the long line
        r.feed("bbb\nseguinte\n", 13);
        CHECK(r.next(line) == R::Line);
        CHECK(line == "seguinte");
    }
    SUBCASE("1024 bytes then the newline is one byte too many") {
        net::LineReader r;
        std::string over(1024, 'c');
        r.feed((over + "\nok\n").data(), 1028);
        CHECK(r.next(line) == R::TooLong);
        CHECK(r.next(line) == R::Line);
        CHECK(line == "ok");
    }
}

TEST_CASE("base64url: only its own alphabet, so a key or token has one spelling") {
    std::vector<unsigned char> data;
    CHECK(token::from_base64("T2zDoQ==", data));
    for (int c = 0x80; c <= 0xff; ++c) {
        std::string text = "T2zDoQ==";
        text[3] = static_cast<char>(c);
        CHECK_MESSAGE(!token::from_base64(text, data), c);
    }
}
