// common/args.cpp - see args.h.
#include "args.h"

#include <iostream>

#include "safe_text.h"

namespace args {

// An argument as typed, shown inside a message: an escape sequence in it is
// shown as text, never obeyed by the terminal.
static std::string shown(const std::string& word) { return safe_text::printable(word); }

int usage_error(const std::string& usage, const std::string& why) {
    std::cerr << "Erro: " << why << "\n" << usage << "\n";
    return 2;
}

int parse(int argc, char* argv[], const std::string& usage, const std::string& help,
          std::vector<std::string>& positional, std::size_t max_positional,
          const std::vector<Option>& options) {
    for (int i = 1; i < argc; ++i) {
        const std::string word = argv[i];
        if (word == "--help" || word == "-h") {
            std::cout << usage << "\n\n" << help;
            return 0;
        }
        if (word.empty() || word[0] != '-') {
            if (positional.size() == max_positional)
                return usage_error(usage, "argumento a mais: " + shown(word));
            positional.push_back(word);
            continue;
        }
        const Option* found = nullptr;
        for (const Option& option : options)
            if (word == option.name) found = &option;
        if (!found) return usage_error(usage, "opção desconhecida: " + shown(word));
        if (found->flag) *found->flag = true;
        if (found->value) {
            if (i + 1 == argc)  // "--chunk" with nothing after it
                return usage_error(usage, "falta o valor de " + word);
            *found->value = argv[++i];
        }
    }
    return -1;
}

bool number(const std::string& text, std::size_t min, std::size_t max, std::size_t& out) {
    if (text.empty() || text.size() > 9 || text.find_first_not_of("0123456789") != std::string::npos)
        return false;
    std::size_t value = std::stoul(text);
    if (value < min || value > max) return false;
    out = value;
    return true;
}

bool parse_port(const std::string& text, std::string& port) {
    std::size_t value = 0;
    if (!number(text, 1, 65535, value)) return false;
    port = std::to_string(value);
    return true;
}

std::string bad_port(const std::string& text) {
    return "porta inválida: " + shown(text) + " (use 1 a 65535)";
}

int parse_address(int argc, char* argv[], const std::string& usage, const std::string& help,
                  std::string& ip, std::string& port, const std::vector<Option>& options) {
    std::vector<std::string> words;
    int code = parse(argc, argv, usage, help, words, 2, options);
    if (code >= 0) return code;
    if (words.size() == 2 && !parse_port(words[1], port))
        return usage_error(usage, bad_port(words[1]));
    if (!words.empty()) ip = words[0];
    return -1;
}

}  // namespace args
