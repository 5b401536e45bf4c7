// Exemplo 3 - as duas respostas do servidor que não são o arquivo: a mensagem
// de erro do guia e o fechamento da conexão depois do último byte.
#pragma once

#include <string>

#include "../common/admission.h"
#include "../common/line_reader.h"  // net::Deadline
#include "../common/net.h"

// Envia ERROR "<texto>", a resposta de erro do guia.
inline void send_error(socket_t client_socket, const std::string& text) {
    std::string data = "ERROR \"" + text + "\"";
    net::send_all(client_socket, data.data(), data.size());
}

// Fecha a conexão em duas etapas (Stevens, "half-close"): shutdown(SHUT_WR)
// envia o FIN depois do último byte; o que o cliente ainda mandar é lido e
// descartado (no máximo 2 s no total, um só net::Deadline: quem pinga um byte
// por segundo não estica o prazo) até ele fechar também; só então vem o
// close(). Um close() direto com bytes não lidos no buffer (ex.: o "\n" de
// quem testa com nc) faz o kernel enviar RST em vez de FIN, e o cliente pode
// perder o fim do arquivo, que ainda estava a caminho. O lugar da conexão no
// servidor (`ticket`, common/admission.h) volta antes do close(), nunca depois.
inline void close_after_sending(socket_t client_socket, admission::Ticket& ticket) {
    shutdown(client_socket, SHUT_WR);
    const net::Deadline deadline(2.0);
    char discard[1024];
    while (deadline.remaining() > 0 &&
           net::set_timeout(client_socket, SO_RCVTIMEO, deadline.remaining() + 0.001) &&
           recv(client_socket, discard, sizeof discard, 0) > 0) {
    }
    ticket = admission::Ticket();
    net::close_socket(client_socket);
}
