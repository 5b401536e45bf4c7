// Unit tests of the classroom pieces of common/ (issue 20): safe_text (what
// arrives is shown, never executed), PerAddressLimit, Deadline, and the
// Portuguese error texts. The same behaviour is tested on the real programs
// by e2e_classroom.
#include <doctest/doctest.h>

#include <sys/socket.h>

#include <cerrno>
#include <string>
#include <thread>
#include <vector>

#include "../common/line_reader.h"
#include "../common/net.h"
#include "../common/per_address.h"
#include "../common/safe_text.h"

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

TEST_CASE("PerAddressLimit: at most N per IP, places come back, other IPs unaffected") {
    PerAddressLimit limit;
    CHECK(limit.max() == PerAddressLimit::DEFAULT_MAX);
    std::vector<PerAddressLimit::Slot> slots;
    for (std::size_t i = 0; i < limit.max(); ++i) {
        slots.push_back(limit.take("127.0.0.2"));
        REQUIRE(slots.back());
    }
    CHECK(!limit.take("127.0.0.2"));
    CHECK(limit.take("127.0.0.1"));  // taken and given back at once
    slots.pop_back();                // one connection of .2 ends
    PerAddressLimit::Slot again = limit.take("127.0.0.2");
    CHECK(again);
    PerAddressLimit::Slot moved = std::move(again);  // moving keeps one place
    CHECK(moved);
    CHECK(!again);  // NOLINT: checking the moved-from state is the point
    CHECK(!limit.take("127.0.0.2"));
    CHECK(limit.refusal("127.0.0.2") ==
          "Conexão recusada: 127.0.0.2 já tem 16 conexões abertas (limite por IP; veja "
          "--limite-por-ip)");
}

TEST_CASE("PerAddressLimit: --limite-por-ip is read and checked") {
    std::string usage = "uso: server";
    for (const char* bad : {"", "0", "-1", "abc", "1234567", "3x"}) {
        PerAddressLimit limit;
        std::string ip, port;
        std::string value = bad;
        std::vector<std::string> words = {"server", "--limite-por-ip", value};
        std::vector<char*> argv;
        for (std::string& w : words) argv.push_back(&w[0]);
        int code = args::parse_address(static_cast<int>(argv.size()), argv.data(), usage, "",
                                       ip, port, {limit.option()});
        CHECK(code == -1);
        CHECK_MESSAGE(limit.check_option(usage) == 2, bad);
    }
    PerAddressLimit limit;
    std::vector<std::string> words = {"server", "--limite-por-ip", "2"};
    std::vector<char*> argv;
    for (std::string& w : words) argv.push_back(&w[0]);
    std::string ip, port;
    CHECK(args::parse_address(3, argv.data(), usage, "", ip, port, {limit.option()}) == -1);
    CHECK(limit.check_option(usage) == -1);
    CHECK(limit.max() == 2);
    auto a = limit.take("x"), b = limit.take("x");
    CHECK((a && b && !limit.take("x")));
}

TEST_CASE("PerAddressLimit: many threads taking and giving back stay consistent") {
    PerAddressLimit limit;
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t)
        threads.emplace_back([&limit] {
            for (int i = 0; i < 2000; ++i) {
                auto slot = limit.take("10.0.0.1");
            }
        });
    for (auto& t : threads) t.join();
    std::vector<PerAddressLimit::Slot> all;
    for (int i = 0; i < 16; ++i) all.push_back(limit.take("10.0.0.1"));
    for (auto& s : all) CHECK(s);
    CHECK(!limit.take("10.0.0.1"));
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
