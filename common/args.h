// common/args.h - the command line of every program: [IP [PORTA]], --help
// and a few long options. Not the lesson: each program calls it once at the
// top of main() and goes on with the values.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace args {

// A long option: a flag ("--quiet", sets *flag) or an option with a value
// ("--chunk N", stores the word after it in *value).
struct Option {
    const char* name;
    std::string* value = nullptr;
    bool* flag = nullptr;
};

// Reads argv: a word starting with '-' must be --help (or -h) or one of
// `options`; every other word is positional, at most max_positional of them.
// Returns -1 when the program should go on; otherwise the exit code for
// main(): 0 after --help (usage and help printed on stdout), 2 after a bad
// argument (usage_error(): what was wrong, then the usage line, on stderr).
int parse(int argc, char* argv[], const std::string& usage, const std::string& help,
          std::vector<std::string>& positional, std::size_t max_positional,
          const std::vector<Option>& options = {});

// What every program does with a bad argument: prints "Erro: <why>" and then
// the usage line on stderr, and returns 2, the exit code for main(). `why`
// says what was wrong, in Portuguese: "argumento a mais: extra".
int usage_error(const std::string& usage, const std::string& why);

// A whole number from min to max written in plain digits (no sign, no
// spaces, at most 9 digits): the value of an option such as "--chunk 1024".
bool number(const std::string& text, std::size_t min, std::size_t max, std::size_t& out);

// A TCP or UDP port, "1".."65535" in plain digits (number() above); `port`
// gets it without leading zeros ("08000" -> "8000"). False for anything else.
bool parse_port(const std::string& text, std::string& port);

// What to say about a port parse_port() refused, for usage_error():
// "porta inválida: 99999 (use 1 a 65535)".
std::string bad_port(const std::string& text);

// The usual "[IP [PORTA]]": ip and port keep their defaults when absent, and a
// port that is not 1..65535 is a bad argument (bad_port(), exit code 2).
int parse_address(int argc, char* argv[], const std::string& usage, const std::string& help,
                  std::string& ip, std::string& port, const std::vector<Option>& options = {});

}  // namespace args
