// Exemplo 3 - o pedido "GET <nome>": análise e validação do nome do arquivo.
// Usado pelo servidor (antes de abrir qualquer arquivo), pelo cliente (antes
// de enviar o pedido) e pelos testes.
//
// Tudo o que chega da rede é tratado como hostil: um nome como
// "../../etc/passwd" faria o servidor do guia ler fora da pasta de imagens se
// ele não conferisse o nome numa lista fixa. Aqui a regra é explícita.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <string>

#include "../common/safe_text.h"

namespace request {

// Devolve "" se o nome pode ser usado, ou o motivo da recusa (em português).
// Um nome aceito é só um nome de arquivo, nunca um caminho.
inline std::string check_name(const std::string& name) {
    if (name.empty()) return "pedido sem nome de arquivo";
    if (name.size() > 255) return "nome com mais de 255 bytes";
    for (unsigned char c : name) {
        if (c < 0x20 || c == 0x7f) return "o nome contém caracteres de controle";
        // '/' e '\' separam pastas; ':' indica unidade ("C:") ou fluxo
        // alternativo ("x.jpg:y") no Windows.
        if (c == '/' || c == '\\' || c == ':') return "o nome não pode conter / \\ ou :";
    }
    // Só texto que o terminal mostra como é: UTF-8 válido, sem controles C1
    // (U+0080-U+009F) - assim "Arquivo X encontrado." nunca leva um comando ao terminal.
    // Nem caracteres invisíveis (common/safe_text.h): "fatura<U+202E>fdp.exe"
    // apareceria como "faturaexe.pdf" (o ataque Trojan Source, CVE-2021-42574).
    // Aqui nem o U+200D e o U+FE0F de um emoji: "❤.jpg" e "❤️.jpg" seriam
    // dois arquivos que parecem um só.
    if (const std::uint32_t c = safe_text::first_invisible(name)) {
        char code[16];
        std::snprintf(code, sizeof code, "U+%04X", static_cast<unsigned>(c));
        return std::string("o nome tem um caractere invisível (") + code + ")";
    }
    if (safe_text::printable(name) != name) return "o nome não é texto UTF-8 válido";
    if (name.find("..") != std::string::npos) return "o nome não pode conter ..";
    if (name[0] == '.') return "o nome não pode começar com .";
    return "";
}

// O resultado de analisar o que o cliente enviou.
struct Parsed {
    std::string name;   // o nome pedido (pode ser inválido: veja error)
    std::string error;  // "" se o pedido é válido
};

// O pedido é "GET <nome>", sem terminador (como no guia); "\r" e "\n" no
// fim são tolerados (quem testa com nc tecla Enter).
// Diferença do original: O nome é tudo o que vem depois de GET. O original
// aceita qualquer coisa que comece com GET e pega só a primeira palavra depois
// dele (data.split()[1]): "GET meu arquivo.jpg" pediria "meu".
inline Parsed parse(std::string data) {
    Parsed result;
    while (!data.empty() && (data.back() == '\n' || data.back() == '\r')) data.pop_back();
    if (data == "GET" || data == "GET ") {
        result.error = "pedido sem nome de arquivo";
    } else if (data.compare(0, 4, "GET ") != 0) {
        result.error = "pedido inválido: use GET <nome do arquivo>";
    } else {
        result.name = data.substr(4);
        result.error = check_name(result.name);
    }
    return result;
}

// Um texto seguro para mostrar numa linha do terminal: bytes de controle e
// bytes que não são UTF-8 válido viram \xNN (common/safe_text.h); aqui também
// '\n' e '\t' (um nome não pode inventar uma linha a mais); um texto longo é
// cortado.
inline std::string printable(const std::string& text, std::size_t limit = 300) {
    std::string out;
    for (char c : safe_text::printable(text.data(), std::min(text.size(), limit)))
        out += c == '\n' ? "\\x0a" : c == '\t' ? "\\x09" : std::string(1, c);
    return text.size() > limit ? out + "..." : out;
}

}  // namespace request
