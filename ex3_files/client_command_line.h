// Exemplo 3 - a linha de comando do cliente: client [IP [PORTA [ARQUIVO]]]
// [--dir PASTA] e --help, e a mensagem para um nome de arquivo recusado. Não
// é parte da lição do guia (lá, tudo é fixo no código ou perguntado). O
// cliente do Exemplo 5 usa a mesma, com a ajuda e as opções dele.
#pragma once

#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "../common/args.h"
#include "../common/net.h"
#include "request.h"

// Confere o nome com request::check_name; se for recusado, diz por quê e
// devolve false.
inline bool file_name_ok(const std::string& name) {
    std::string why = request::check_name(name);
    if (!why.empty()) std::cerr << "Erro: nome de arquivo inválido: " << why << "\n";
    return why.empty();
}

// Lê os argumentos. host, port e file_name ficam como estão quando ausentes;
// dir_given diz se veio --dir PASTA (em dir). Devolve -1 para seguir, ou o
// código de saída: 0 depois de --help, 2 com um argumento inválido (também um
// nome de arquivo recusado: ele é conferido antes de conectar, e o mesmo nome
// digitado no prompt também sai com 2), 1 se a pasta de --dir não existe e não
// pode ser criada (preparada antes de conectar, não depois de pedir o arquivo).
// O Exemplo 5 passa `usage`, `help` e as opções dele (`extra`), e confere os
// valores delas depois.
inline int parse_command_line(int argc, char* argv[], std::string& host, std::string& port,
                              std::string& file_name, std::string& dir, bool& dir_given,
                              const char* usage = nullptr, const char* help = nullptr,
                              std::vector<args::Option> extra = {}) {
    static const char* const USAGE =
        "uso: client [IP [PORTA [ARQUIVO]]] [--dir PASTA]   (padrão: localhost 8000)";
    static const char* const HELP =
        "Cliente do Exemplo 3: pede um arquivo ao servidor (GET <nome>) e o grava em "
        "downloads/ (ou em --dir PASTA).\nSem ARQUIVO, pergunta o nome.\n";
    if (usage == nullptr) usage = USAGE;
    if (help == nullptr) help = HELP;
    std::vector<std::string> words;
    extra.insert(extra.begin(), {"--dir", &dir, &dir_given});
    int code = args::parse(argc, argv, usage, help, words, 3, extra);
    if (code >= 0) return code;
    if (words.size() >= 2 && !args::parse_port(words[1], port))
        return args::usage_error(usage, args::bad_port(words[1]));
    if (words.size() >= 1) host = words[0];
    if (words.size() == 3 && !file_name_ok(file_name = words[2])) return 2;
    if (dir_given) {  // criada se faltar, como o download faria depois
        const std::filesystem::path folder = std::filesystem::u8path(dir);
        std::error_code ec;
        std::filesystem::create_directories(folder, ec);
        if (ec || !std::filesystem::is_directory(folder, ec)) {
            std::cerr << "Erro: a pasta " << dir << " não existe e não pôde ser criada"
                      << (ec ? ": " + net::error_text(ec.value()) : "") << "\n";
            return 1;
        }
    }
    return -1;
}
