// Exemplo 4 - a chave do servidor, do lado do cliente: recebê-la (a primeira
// linha) e conferir se é mesmo a do servidor. Fica fora de client.cpp, como o
// client_key.h do Exemplo 2, para que lá cada passo caiba numa linha.
//
// A conferência: com --chave-servidor CHAVE, a chave recebida tem que ser
// exatamente essa. Sem a opção, a primeira chave vista para um endereço é
// guardada em servidores_conhecidos.txt, ao lado do programa, uma linha
// "ENDEREÇO:PORTA CHAVE" por servidor ("confiança no primeiro uso", TOFU, como
// o ~/.ssh/known_hosts do SSH); nas conexões seguintes tem que ser a mesma.
#pragma once

#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "../common/line_reader.h"
#include "../common/net.h"
#include "kx.h"

constexpr const char* KNOWN_SERVERS_FILE = "servidores_conhecidos.txt";

// A chave pública do servidor: a primeira linha, base64url de 32 bytes (44
// caracteres). Devolve "", depois de explicar o erro, se ela não chegar em
// 10 s ou não for uma chave. Linhas que chegarem depois dela ficam em `reader`.
inline std::string receive_key(socket_t client_socket, net::LineReader& reader) {
    net::set_timeout(client_socket, SO_RCVTIMEO, 10.0);
    std::string key, why;
    unsigned char bytes[kx::KEY_BYTES];
    if (!net::receive_line(client_socket, reader, key, why)) {
        std::cerr << "Erro: o servidor não enviou a chave (" << why
                  << "). É o servidor do Exemplo 4?\n";
        return "";
    }
    if (kx::read_key(key, bytes)) return key;
    std::cerr << "Erro: chave inválida recebida do servidor\n";
    return "";
}

// A chave guardada para `server` ("ENDEREÇO:PORTA") em `path`; "" se não há.
inline std::string known_key(const std::string& path, const std::string& server) {
    std::ifstream in(path);
    std::string line, name, key;
    while (std::getline(in, line)) {
        std::istringstream words(line);
        if (words >> name >> key && name == server) return key;
    }
    return "";
}

// true se `received` é a chave do servidor em IP:PORTA (o endereço como foi
// digitado): a de --chave-servidor (`pinned`), a guardada, ou a primeira
// vista, que então é guardada. Senão, o aviso, e false.
inline bool trust_server_key(const std::string& received, const std::string& pinned,
                             const std::string& ip, const std::string& port, const char* argv0) {
    // "localhost:8000", "127.0.0.1:8000", "[::1]:8000" (IPv6 entre colchetes, como no SSH)
    const bool ipv6 = ip.find(':') != std::string::npos;
    const std::string server = (ipv6 ? "[" + ip + "]" : ip) + ":" + port;
    const std::string path = net::program_folder(argv0) + "/" + KNOWN_SERVERS_FILE;
    std::string expected = pinned, source = "dada com --chave-servidor";
    if (expected.empty()) {
        expected = known_key(path, server);
        source = "salva em " + path;
    }
    if (expected.empty()) {  // primeira conexão: confia e guarda (numa escrita só)
        std::ofstream out(path, std::ios::app | std::ios::binary);
        if (!(out << (server + " " + received + "\n") << std::flush)) {
            std::cerr << "Erro: não foi possível gravar " << path << "\n";
            return false;
        }
        std::cout << "Primeira conexão com " << server << ": chave do servidor " << received
                  << "\nConfira se é a que o servidor mostrou. Ela foi salva em " << path
                  << " e será conferida nas próximas conexões.\n";
        return true;
    }
    if (received == expected) return true;
    std::cerr << "ATENÇÃO: a chave do servidor " << server << " não é a esperada!\n"
              << "  esperada: " << expected << " (" << source << ")\n"
              << "  recebida: " << received << "\n"
              << "Alguém pode estar no meio do caminho (ataque \"man-in-the-middle\"), lendo\n"
              << "a conversa, ou o servidor trocou de chave. "
              << "Conexão encerrada; nada foi enviado.\n";
    if (pinned.empty())
        std::cerr << "Se a troca foi legítima, apague a linha de " << server << " em " << path
                  << ".\n";
    return false;
}
