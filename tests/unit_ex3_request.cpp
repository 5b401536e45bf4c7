// Unit tests of ex3_files/request.h: the "GET <nome>" parser and name rules.
#include <doctest/doctest.h>

#include <string>
#include <utility>

#include "../ex3_files/request.h"

TEST_CASE("parse: GET <name>, with the trailing newline of nc tolerated") {
    for (const char* text : {"GET iguana.jpg", "GET iguana.jpg\n", "GET iguana.jpg\r\n"}) {
        request::Parsed r = request::parse(text);
        CHECK(r.error.empty());
        CHECK(r.name == "iguana.jpg");
    }
    request::Parsed spaced = request::parse("GET meu arquivo.jpg");
    CHECK(spaced.error.empty());
    CHECK(spaced.name == "meu arquivo.jpg");
}

TEST_CASE("parse: anything that is not GET <name> is refused") {
    for (const char* text : {"GET", "GET ", "GET\n", "GET \r\n"}) {
        request::Parsed r = request::parse(text);
        CHECK(r.name.empty());
        CHECK(r.error == "pedido sem nome de arquivo");
    }
    for (const char* text : {"", "get iguana.jpg", "PUT x", "GETiguana.jpg", "\n", "HELLO"}) {
        request::Parsed r = request::parse(text);
        CHECK(r.name.empty());
        CHECK(r.error == "pedido inválido: use GET <nome do arquivo>");
    }
}

TEST_CASE("check_name: only a plain file name is accepted") {
    for (const char* ok : {"iguana.jpg", "a", "foto 1.jpg", "ação.jpg", "x.y.jpg"})
        CHECK_MESSAGE(request::check_name(ok).empty(), ok);
    CHECK(request::check_name("x..jpg") == "o nome não pode conter ..");
    const std::string slash = "o nome não pode conter / \\ ou :";
    for (const char* bad : {"../../etc/passwd", "/etc/passwd", "a/b", "..\\..\\win.ini",
                            "C:x", "iguana.jpg:stream", "imagens/iguana.jpg"})
        CHECK_MESSAGE(request::check_name(bad) == slash, bad);
    CHECK(request::check_name("..") == "o nome não pode conter ..");
    CHECK(request::check_name(".hidden") == "o nome não pode começar com .");
    CHECK(request::check_name("") == "pedido sem nome de arquivo");
    CHECK(request::check_name(std::string(256, 'a')) == "nome com mais de 255 bytes");
    CHECK(request::check_name(std::string(255, 'a')).empty());
    CHECK(request::check_name(std::string("a\0b", 3)) == "o nome contém caracteres de controle");
    CHECK(request::check_name("a\x1b[2Jb") == "o nome contém caracteres de controle");
    CHECK(request::check_name("a\x7f") == "o nome contém caracteres de controle");
    CHECK(request::check_name("tab\there") == "o nome contém caracteres de controle");
}

TEST_CASE("printable: control bytes are shown escaped, long text is cut") {
    CHECK(request::printable("iguana.jpg") == "iguana.jpg");
    CHECK(request::printable(std::string("a\0\x1b\n", 4)) == "a\\x00\\x1b\\x0a");
    CHECK(request::printable(std::string(400, 'x')) == std::string(300, 'x') + "...");
    CHECK(request::printable("ação") == "ação");  // UTF-8 is left alone
}

TEST_CASE("check_name: a name must be valid UTF-8 without C1 controls (it is printed)") {
    CHECK(request::check_name("ação.jpg").empty());
    CHECK(request::check_name("\xf0\x9f\x98\x80.jpg").empty());
    for (const char* bad : {"x\xff.jpg", "ol\xe1.jpg", "\xc2\x9b" "2J.jpg", "\xc0\xae\xc0\xae"})
        CHECK_MESSAGE(request::check_name(bad) == "o nome não é texto UTF-8 válido", bad);
    CHECK(request::printable("a\tb\xff") == "a\\x09b\\xff");
}

TEST_CASE("check_name: a name with an invisible character is refused, and the message names it") {
    // Bidi override (Trojan Source), deprecated format character, soft hyphen,
    // Hangul filler (blank), a tag ("ASCII smuggling"), Egyptian format control,
    // variation selector 17, line separator: the one found first is named.
    const std::pair<const char*, const char*> cases[] = {
        {"fatura\xe2\x80\xae" "fdp.exe", "U+202E"}, {"a\xe2\x81\xaf.jpg", "U+206F"},
        {"foto\xc2\xad.jpg", "U+00AD"},           {"\xe3\x85\xa4.jpg", "U+3164"},
        {"x\xf3\xa0\x81\x81\xf3\xa0\x81\x82.jpg", "U+E0041"},
        {"x\xf0\x93\x90\xbf.jpg", "U+1343F"},      {"x\xf3\xa0\x84\x80.jpg", "U+E0100"},
        {"a\xe2\x80\xa8" "b\xe2\x80\x8b.jpg", "U+2028"}};
    for (const auto& one : cases)
        CHECK_MESSAGE(request::check_name(one.first) ==
                          std::string("o nome tem um caractere invisível (") + one.second + ")",
                      one.second);
    // The parser gives the same refusal.
    CHECK(request::parse("GET a\xe2\x81\xaa.jpg").error == "o nome tem um caractere invisível (U+206A)");
    // Visible text stays allowed: accents, Arabic, CJK, a non-breaking space, emoji.
    for (const char* ok : {"ação.jpg", "\xd8\xb3\xd9\x84\xd8\xa7\xd9\x85.jpg", "\xe5\x9b\xbe.jpg",
                           "a\xc2\xa0" "b.jpg", "\xf0\x9f\x98\x80.jpg"})
        CHECK_MESSAGE(request::check_name(ok).empty(), ok);
}
