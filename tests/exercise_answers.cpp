// Every tshark listing a guide shows, and every answer PROFESSOR.md gives
// from a shipped capture, is a shell session in a fenced block:
//
//     ```
//     $ tshark -r captures/perda-colega.pcapng -Y "tcp.analysis.retransmission" | wc -l
//     2
//     ```
//
// This test finds each such block in the guides (a line starting with
// "$ tshark -r captures/" or "$ capinfos"), runs the command from the project
// root (where the guides say to run them) and checks that it prints exactly
// the lines below it, so a listing or an answer cannot drift from its
// capture. Commands are the guides' own text, pasted, nothing rewritten.
// It needs only tshark (exit 77, "Skipped", without it) and reads only the
// files in captures/. The listings are tshark 4.0's (Debian 12) format.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "support.h"

using namespace lab;
namespace fs = std::filesystem;

namespace {

const fs::path ROOT = fs::path(LAB_SOURCE_DIR);

// The guides whose blocks are checked.
const std::vector<std::string> GUIDES = {"PROFESSOR.md", "ESTUDANTES.md", "captures/README.md",
                                         "ex5_udp/README.md",
                                         "ex1_chat/README.md", "ex2_crypto/README.md",
                                         "ex3_files/README.md", "redes/README.md"};

struct Session {
    std::string guide;
    int line = 0;          // where the command is in the guide
    std::string command;   // without the "$ "
    std::string expected;  // the lines below it, each ending in '\n'
};

bool checked_command(const std::string& command) {
    return command.rfind("tshark -r captures/", 0) == 0 || command.rfind("capinfos ", 0) == 0;
}

std::string strip_indent(const std::string& line, std::size_t indent) {
    std::size_t n = 0;
    while (n < indent && n < line.size() && line[n] == ' ') ++n;
    return line.substr(n);
}

// Every "$ command" of a checked kind in the fenced blocks of `guide`.
std::vector<Session> sessions_in(const std::string& guide) {
    std::vector<Session> out;
    std::istringstream text(read_file(ROOT / guide));
    std::string line;
    bool in_block = false;
    std::size_t indent = 0;
    Session* current = nullptr;
    int number = 0;
    while (std::getline(text, line)) {
        ++number;
        const std::size_t first = line.find_first_not_of(' ');
        const bool fence = first != std::string::npos && line.compare(first, 3, "```") == 0;
        if (fence) {
            in_block = !in_block;
            indent = first;
            current = nullptr;
            continue;
        }
        if (!in_block) continue;
        const std::string body = strip_indent(line, indent);
        if (body.rfind("$ ", 0) == 0) {
            current = nullptr;
            if (checked_command(body.substr(2))) {
                out.push_back({guide, number, body.substr(2), ""});
                current = &out.back();
            }
        } else if (current != nullptr) {
            current->expected += body + "\n";
        }
    }
    return out;
}

// Trailing spaces and tabs of each line and blank lines at the end are not compared
// (a Markdown editor may drop them; tshark -x ends with a blank line).
std::string normalized(const std::string& text) {
    std::istringstream lines(text);
    std::string line, out;
    while (std::getline(lines, line)) {
        line.erase(line.find_last_not_of(" \t") + 1);
        out += line + "\n";
    }
    while (out.size() >= 2 && out.compare(out.size() - 2, 2, "\n\n") == 0) out.pop_back();
    return out == "\n" ? "" : out;
}

std::string run(const std::string& command) {
    Process shell({"bash", "-c", "cd '" + ROOT.string() + "' && export LC_ALL=C.UTF-8 && " + command});
    auto code = shell.wait_exit(60000ms);
    INFO("stderr: " << shell.err());
    CHECK(code == 0);
    return shell.out();
}

}  // namespace

TEST_CASE("every tshark session in the guides prints what the guide shows") {
    int count = 0;
    for (const std::string& guide : GUIDES) {
        for (const Session& s : sessions_in(guide)) {
            ++count;
            INFO(s.guide << ":" << s.line << ": $ " << s.command);
            CHECK(normalized(run(s.command)) == normalized(s.expected));
        }
    }
    // The guides have many of them: finding none means the parser broke.
    CHECK(count >= 20);
}

int main(int argc, char** argv) {
    if (std::system("command -v tshark >/dev/null 2>&1") != 0) {
        std::cout << "exercise answers skipped: tshark is missing "
                     "(Debian: sudo apt-get install tshark)\n";
        return 77;
    }
    doctest::Context context(argc, argv);
    return context.run();
}
