// Exemplo 2 - de onde vem a chave do cliente: a primeira linha do servidor
// (receive_key) ou, no modo --decrypt, a linha de comando (decrypt_tokens).
// Fica fora de client.cpp para que lá a chave chegue em duas linhas, como no
// Python: UNIQUE_KEY = client_socket.recv(1024); f = Fernet(UNIQUE_KEY).
#pragma once

#include <iostream>
#include <string>

#include "../common/line_reader.h"
#include "../common/net.h"
#include "../common/safe_text.h"
#include "token.h"

// A chave: a primeira linha do servidor, base64url de 32 bytes (44
// caracteres). Devolve "", depois de explicar o erro, se ela não chegar em
// 10 s ou não for uma chave. Linhas que chegarem depois dela ficam em `reader`.
// Diferença do original: A chave tem prazo e é conferida. O Python esperaria
// para sempre (o servidor do Exemplo 1 nunca a envia) e aceitaria qualquer coisa.
inline std::string receive_key(socket_t client_socket, net::LineReader& reader) {
    net::set_timeout(client_socket, SO_RCVTIMEO, 10.0);
    std::string key;
    char data[1024];
    while (reader.next(key) != net::LineReader::Result::Line) {
        auto received = recv(client_socket, data, sizeof data, 0);
        if (received > 0) {
            reader.feed(data, static_cast<std::size_t>(received));
        } else if (received == 0 || !net::interrupted()) {
            // O texto do erro antes de escrever: no Windows, escrever muda WSAGetLastError().
            std::cerr << "Erro: o servidor não enviou a chave (" +
                             (received == 0 ? "conexão encerrada" : net::last_error()) +
                             "). É o servidor do Exemplo 2?\n";
            return "";
        }
    }
    net::set_timeout(client_socket, SO_RCVTIMEO, 0);  // daqui em diante, sem prazo
    if (token::is_key(key)) return key;
    std::cerr << "Erro: chave inválida recebida do servidor\n";
    return "";
}

// O servidor do Exemplo 4 também começa com uma chave pública (uma linha igual a
// esta), mas envia logo uma segunda, a desta conexão, que chega onde este cliente
// espera o primeiro token. Um token nunca tem o tamanho de uma chave (tem no mínimo
// 56 caracteres: nonce, MAC e texto), e o servidor do Exemplo 2 nunca envia outra
// chave: uma linha assim diz com certeza que o servidor é de outro exemplo.
inline bool is_key_line(const std::string& line) { return token::is_key(line); }
static const char* const EXAMPLE4_SERVER =
    "\nErro: isto parece o servidor do Exemplo 4 (ele envia uma segunda chave pública); "
    "este cliente é do Exemplo 2. Use o cliente do Exemplo 4 (../ex4_kx/client)";

// Modo --decrypt: decifra, com a chave dada (tirada de uma captura), cada
// token lido da entrada, um por linha. Devolve o código de saída.
inline int decrypt_tokens(const std::string& key_text) {
    if (!token::is_key(key_text)) {
        std::cerr << "Erro: a chave deve ter 44 caracteres base64url (32 bytes)\n";
        return 2;
    }
    const token::Encryptor f(key_text);
    std::string line, message;
    while (net::read_line(line)) {
        if (line.empty()) continue;
        // O texto decifrado veio da rede: \x1b e outros bytes de controle viram texto visível.
        std::cout << (f.decrypt(line, message) ? safe_text::printable(message)
                                               : "Mensagem inválida descartada") << "\n";
    }
    return 0;
}
