// Exemplo 5 - a linha de comando do cliente: a do Exemplo 3
// (client [IP [PORTA [ARQUIVO]]] [--dir PASTA], ../ex3_files/client_command_line.h)
// com o modo: nada (simples), --confiavel (pare e espere: o mesmo que --janela 1)
// ou --janela N (N datagramas sem confirmação), um ou outro, e --sem-controle (a
// janela fixa, sem controle de congestionamento) em qualquer modo confiável. A mensagem para um nome recusado é a do Exemplo 3
// (file_name_ok).
#pragma once

#include <iostream>
#include <string>

#include "../common/args.h"
#include "../ex3_files/client_command_line.h"  // parse_command_line e file_name_ok

// O parse_command_line do Exemplo 3, mais `window`: 0 no modo simples, 1 com
// --confiavel, N com --janela N (1 a 256; os dois juntos é erro); `fixed` com
// --sem-controle (só num modo confiável; com janela 1 não muda nada). Devolve -1 para seguir, ou o código de saída: 0
// depois de --help, 2 com um argumento inválido, 1 (como no Exemplo 3) se a
// pasta de --dir não pode ser criada.
inline int parse_command_line(int argc, char* argv[], std::string& host, std::string& port,
                              std::string& file_name, std::string& dir, bool& dir_given,
                              unsigned& window, bool& fixed) {
    static const char* const USAGE =
        "uso: client [IP [PORTA [ARQUIVO]]] [--dir PASTA] [--confiavel | --janela N] [--sem-controle]"
        "   (padrão: localhost 8000)";
    static const char* const HELP =
        "Cliente do Exemplo 5 (UDP): pede um arquivo ao servidor (GET <nome>) e o grava em "
        "downloads/ (ou em --dir PASTA).\nSem ARQUIVO, pergunta o nome.\n"
        "  --confiavel  cada datagrama é confirmado antes do próximo (pare e espere;\n"
        "               o mesmo que --janela 1)\n"
        "  --janela N   até N datagramas sem confirmação (1 a 256; Go-Back-N); o servidor\n"
        "               começa com 1 e aumenta enquanto nada se perde (controle de congestionamento)\n"
        "  --sem-controle  com --janela N: sempre N, sem controle de congestionamento\n"
        "               (aceito também com --confiavel, onde a janela já é sempre 1)\n"
        "--confiavel e --janela N são um ou outro, não os dois.\n"
        "Sem nenhum dos dois (modo simples), o que se perder fica perdido: o que chegou\n"
        "vai para <nome>.incompleto.\n";
    std::string janela;
    bool confiavel = false, janela_given = false;
    int code = parse_command_line(argc, argv, host, port, file_name, dir, dir_given, USAGE, HELP,
                                  {{"--confiavel", nullptr, &confiavel},
                                   {"--janela", &janela, &janela_given}, {"--sem-controle", nullptr, &fixed}});
    if (code >= 0) return code;
    if (confiavel && janela_given)
        return args::usage_error(USAGE, "use --confiavel ou --janela N, não os dois (--confiavel é --janela 1)");
    window = confiavel ? 1 : 0;
    std::size_t n = 0;
    if (janela_given && !args::number(janela, 1, 256, n))
        return args::usage_error(USAGE, "--janela deve ser um número de 1 a 256");
    if (janela_given) window = static_cast<unsigned>(n);
    if (fixed && window == 0)
        return args::usage_error(USAGE, "--sem-controle só vale num modo confiável (--janela N ou --confiavel)");
    return -1;
}
