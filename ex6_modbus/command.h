// Exemplo 6 - a linha de comando do cliente: client [IP [PORTA]] COMANDO ARGUMENTOS
// [--detalhes] [--unidade N] [--repetir N]. Cada comando vira a PDU de um pedido.
// Não é a lição (a lição é o que vai na rede: mbap.h, pdu.h e client.cpp).
#pragma once

#include <cstdint>
#include <iostream>
#include <string>
#include <vector>

#include "../common/args.h"
#include "../common/net.h"
#include "pdu.h"

static const char* const USAGE =
    "uso: client [IP [PORTA]] COMANDO ARGUMENTOS [--detalhes] [--unidade N] [--repetir N]"
    "   (padrão: localhost 1502)";

// Os comandos, numa tabela só: o --help, a busca pelo nome e a montagem do pedido
// saem dela. A função Modbus diz a forma do pedido: 1 a 4 leem, 5 e 6 escrevem um
// item, 15 e 16 vários; o comando pdu (função 0 aqui) envia bytes quaisquer.
struct CommandSpec {
    const char* name;
    const char* arguments;  // como no --help e na mensagem de erro
    std::uint8_t function;
    const char* label;  // o que cada valor é, na saída ("" no comando pdu)
    const char* help;   // a linha do --help
};
static const CommandSpec COMMANDS[] = {
    {"ler", "ENDEREÇO [QUANTIDADE]", modbus::READ_HOLDING_REGISTERS, "registrador", "registradores"},
    {"ler-entradas", "ENDEREÇO [QUANTIDADE]", modbus::READ_INPUT_REGISTERS, "registrador de entrada",
     "registradores de entrada"},
    {"ler-bobinas", "ENDEREÇO [QUANTIDADE]", modbus::READ_COILS, "bobina", "bobinas"},
    {"ler-discretas", "ENDEREÇO [QUANTIDADE]", modbus::READ_DISCRETE_INPUTS, "entrada discreta",
     "entradas discretas"},
    {"escrever", "ENDEREÇO VALOR", modbus::WRITE_SINGLE_REGISTER, "registrador", "um registrador"},
    {"escrever-varios", "ENDEREÇO VALOR...", modbus::WRITE_MULTIPLE_REGISTERS, "registrador",
     "vários registradores"},
    {"escrever-bobina", "ENDEREÇO 0|1", modbus::WRITE_SINGLE_COIL, "bobina", "uma bobina"},
    {"escrever-bobinas", "ENDEREÇO 0|1...", modbus::WRITE_MULTIPLE_COILS, "bobina", "várias bobinas"},
    {"pdu", "BYTE...", 0, "", "uma PDU qualquer, em hexadecimal (ex.: pdu 07)"},
};

// O comando de nome `word`, ou nullptr.
inline const CommandSpec* find_command(const std::string& word) {
    for (const CommandSpec& c : COMMANDS)
        if (word == c.name) return &c;
    return nullptr;
}

// O texto do --help, com uma linha por comando da tabela.
inline std::string help_text() {
    std::string text =
        "Cliente Modbus/TCP do Exemplo 6. Endereços como vão na rede: o primeiro é 0\n"
        "(no mbpoll, -r 1). Valores de 0 a 65535. Comandos:\n";
    for (const CommandSpec& c : COMMANDS) {
        std::string line = std::string("  ") + c.name + " " + c.arguments;
        std::size_t letters = 0;  // caracteres, não bytes: "Ç" são 2 bytes em UTF-8
        for (unsigned char b : line) letters += (b & 0xc0) != 0x80;
        line += std::string(letters < 40 ? 40 - letters : 1, ' ') + c.help;
        if (c.function != 0) line += " (função " + std::to_string(c.function) + ")";
        text += line + "\n";
    }
    return text +
           "  --detalhes    mostra cada campo do MBAP e da PDU enviados e recebidos\n"
           "  --unidade N   o Unit Identifier, de 0 a 255 (padrão 1)\n"
           "  --repetir N   envia o mesmo pedido N vezes, uma por segundo, na mesma conexão\n"
           "Uma resposta de exceção é explicada e o programa termina com o código 1.\n";
}

// O pedido que a linha de comando descreve.
struct Command {
    std::string pdu;          // a PDU do pedido
    std::string label;        // "registrador", "bobina", ... ("" no comando pdu)
    unsigned first = 0;       // o endereço do primeiro item
    bool write = false;       // uma escrita: a resposta confirma os valores enviados
    std::vector<std::uint16_t> values;  // os valores escritos
};

// Um número de 0 a `most`, só com dígitos decimais.
inline bool number(const std::string& text, unsigned most, unsigned& value) {
    std::size_t v = 0;
    if (!args::number(text, 0, most, v)) return false;
    value = static_cast<unsigned>(v);
    return true;
}

// Monta o pedido a partir de `words` (o nome do comando e os seus argumentos).
// Devolve "" ou o motivo da recusa.
// Erro comum: Somar 1 ao endereço, ou esquecer de subtrair. Na rede o primeiro item
// de cada tabela é o 0. O mbpoll e muitos manuais de CLP contam a partir de 1 (ou
// 40001): "registrador 1" deles é o endereço 0 daqui, e vai na rede como 00 00.
inline std::string build_command(const std::vector<std::string>& words, Command& c) {
    const std::string& name = words[0];
    const CommandSpec* spec = find_command(name);
    if (spec == nullptr) return "comando desconhecido: " + name;
    const std::string usage = name + " " + spec->arguments;
    const std::uint8_t function = spec->function;
    c.label = spec->label;
    if (function == 0) {  // pdu: bytes em hexadecimal, como "03 00 00 00 7e"
        for (std::size_t i = 1; i < words.size(); ++i) {
            const std::string& w = words[i];
            if (w.size() != 2 || w.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos)
                return "\"" + w + "\" não é um byte em hexadecimal (de 00 a ff)";
            c.pdu += static_cast<char>(std::stoi(w, nullptr, 16));
        }
        if (c.pdu.empty() || c.pdu.size() > modbus::MAX_PDU_BYTES) return "pdu BYTE... (de 1 a 253 bytes)";
        return "";
    }
    std::vector<unsigned> n;  // os argumentos como números
    for (std::size_t i = 1; i < words.size(); ++i) {
        unsigned v = 0;
        if (!number(words[i], 65535, v)) return "\"" + words[i] + "\" não é um número de 0 a 65535";
        n.push_back(v);
    }
    const auto u16 = [](unsigned v) { return static_cast<std::uint16_t>(v); };
    const bool bits = function == modbus::WRITE_SINGLE_COIL || function == modbus::WRITE_MULTIPLE_COILS;
    switch (function) {
        case modbus::READ_COILS:
        case modbus::READ_DISCRETE_INPUTS:
        case modbus::READ_HOLDING_REGISTERS:
        case modbus::READ_INPUT_REGISTERS:
            if (n.empty() || n.size() > 2) return usage;
            c.first = n[0];
            // A quantidade vai como foi digitada: quem confere o limite (125, 2000) é o
            // servidor, que responde com a exceção 03 (o exercício 3 do README).
            c.pdu = modbus::read_request(function, u16(n[0]), u16(n.size() == 2 ? n[1] : 1));
            return "";
        case modbus::WRITE_SINGLE_COIL:
        case modbus::WRITE_SINGLE_REGISTER:
            if (n.size() != 2) return usage;
            if (bits && n[1] > 1) return "uma bobina é 0 ou 1";
            c.write = true;
            c.first = n[0];
            c.values = {u16(n[1])};
            c.pdu = bits ? modbus::write_coil_request(u16(n[0]), n[1] == 1)
                         : modbus::write_register_request(u16(n[0]), u16(n[1]));
            return "";
        default: {  // WRITE_MULTIPLE_COILS, WRITE_MULTIPLE_REGISTERS
            if (n.size() < 2) return usage;
            c.write = true;
            c.first = n[0];
            std::vector<bool> on;
            for (std::size_t i = 1; i < n.size(); ++i) {
                if (bits && n[i] > 1) return "uma bobina é 0 ou 1";
                c.values.push_back(u16(n[i]));
                on.push_back(n[i] == 1);
            }
            c.pdu = bits ? modbus::write_coils_request(u16(n[0]), on)
                         : modbus::write_registers_request(u16(n[0]), c.values);
            if (c.pdu.empty()) return "valores demais: a PDU passaria de 253 bytes";
            return "";
        }
    }
}

// Lê os argumentos. Devolve -1 para seguir, ou o código de saída: 0 depois de
// --help, 2 com um argumento inválido (a linha de uso, e o motivo, no stderr).
inline int parse_command_line(int argc, char* argv[], std::string& host, std::string& port,
                              Command& command, bool& details, unsigned& unit, unsigned& repeat) {
    std::vector<std::string> words;
    std::string unit_text = "1", repeat_text = "1";
    int code = args::parse(argc, argv, USAGE, help_text(), words, 300,
                           {{"--detalhes", nullptr, &details}, {"--unidade", &unit_text},
                            {"--repetir", &repeat_text}});
    if (code >= 0) return code;
    // [IP [PORTA]] vêm antes do comando: o comando é a primeira palavra conhecida.
    std::size_t at = 0;
    while (at < words.size() && at < 3 && find_command(words[at]) == nullptr) ++at;
    std::string why;
    if (at == words.size() || at > 2)
        why = "falta o COMANDO (ler, escrever, ler-bobinas, escrever-bobina, ...)";
    else if (at == 2 && !args::parse_port(words[1], port))
        why = "a porta deve ser um número de 1 a 65535";
    else if (!number(unit_text, 255, unit))
        why = "--unidade deve ser um número de 0 a 255";
    else if (!number(repeat_text, 99999, repeat) || repeat < 1)
        why = "--repetir deve ser um número de 1 a 99999";
    else
        why = build_command(std::vector<std::string>(words.begin() + static_cast<long>(at), words.end()),
                            command);
    if (!why.empty()) {
        std::cerr << "Erro: " << why << "\n" << USAGE << "\n";
        return 2;
    }
    if (at >= 1) host = words[0];
    return -1;
}
