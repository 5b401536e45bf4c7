// Exemplo 6 - Modbus/TCP: o CLIENTE (o "mestre"): envia um pedido ao CLP e mostra a
// resposta. Uso: ./client [IP [PORTA]] COMANDO ARGUMENTOS   (veja --help)
//   ./client ler 0 5                os registradores 0 a 4 (nível, temperatura, ...)
//   ./client escrever-bobina 0 1    liga a bomba
#include "../common/net.h"
#include "command.h"  // COMANDO ARGUMENTOS -> a PDU do pedido; --help
#include "details.h"  // --detalhes: cada campo, com os nomes do Wireshark e do padrão
#include "mbap.h"     // o cabeçalho MBAP: a PDU dentro do TCP
#include "pdu.h"      // a PDU: os pedidos, as respostas, as exceções
#include "receive_adu.h"  // uma mensagem inteira (MBAP + PDU) do socket

#include <chrono>
#include <iostream>
#include <string>
#include <thread>

static const double REPLY_TIMEOUT = 5.0;  // segundos para o servidor responder

// "Erro: ..." no stderr e o código 1.
static int fail(const std::string& text) {
    std::cerr << "Erro: " << text << "\n";
    return 1;
}

int main(int argc, char* argv[]) {
    net::Startup startup;  // Winsock no Windows; ignora SIGPIPE no Linux/macOS
    std::string HOST = "localhost", PORT = "1502";
    Command command;
    bool details = false;
    unsigned unit = 1, repeat = 1;
    int code = parse_command_line(argc, argv, HOST, PORT, command, details, unit, repeat);
    if (code >= 0) return code;

    // Cria um socket TCP/IP e conecta ao servidor (o CLP)
    socket_t client_socket = socket(net::family_of(HOST), SOCK_STREAM, 0);
    if (client_socket == INVALID_SOCKET) return net::fail("Erro ao criar o socket");
    std::string error;
    net::AddrList address = net::resolve(HOST, PORT, false, error, net::family_of(HOST));
    if (!address) return fail(error);
    if (connect(client_socket, address->ai_addr, static_cast<socklen_t>(address->ai_addrlen)) != 0)
        return fail("não foi possível conectar ao servidor " + net::host_port(HOST, PORT) + ": " +
                    net::last_error() + " (o servidor está rodando?)");
    net::set_timeout(client_socket, SO_RCVTIMEO, REPLY_TIMEOUT);

    for (unsigned round = 1; round <= repeat; ++round) {
        // Um pedido: MBAP (com um Transaction Identifier novo) + a PDU do comando.
        const auto transaction = static_cast<std::uint16_t>(round);
        const auto unit_id = static_cast<std::uint8_t>(unit);
        const std::string request = modbus::frame(transaction, unit_id, command.pdu);
        if (details)
            std::cout << ">> pedido, " << request.size() << " bytes: "
                      << modbus::hex(request, 0, request.size()) << "\n" << modbus::describe(request);
        if (!net::send_all(client_socket, request.data(), request.size()))
            return fail("não foi possível enviar o pedido: " + net::last_error());

        // A resposta inteira: o cabeçalho MBAP (7 bytes), conferido, e depois Length - 1
        // bytes, a PDU.
        const modbus::Receipt in = modbus::receive_adu(client_socket);
        const modbus::Header& header = in.header;
        // Erro comum: Aceitar uma resposta sem conferir de que pedido ela é. Uma resposta
        // atrasada (de um pedido anterior) seria lida como a deste: valores trocados sem
        // aviso. O Transaction Identifier e o Unit Identifier têm de ser os do pedido.
        const bool header_read = in.what == modbus::Received::Adu || in.what == modbus::Received::ShortPdu;
        if (header_read && (header.transaction != transaction || header.unit != unit_id))
            return fail("a resposta é da transação " + std::to_string(header.transaction) +
                        ", unidade " + std::to_string(header.unit) + "; o pedido foi a " +
                        std::to_string(transaction) + ", unidade " + std::to_string(unit));
        if (in.what != modbus::Received::Adu) return fail(modbus::reply_failure(in, REPLY_TIMEOUT));
        const std::string& reply = in.pdu;
        if (details) {  // a mensagem como chegou (Protocol Identifier e Length já conferidos)
            const std::string whole = modbus::frame(header.transaction, header.unit, reply);
            std::cout << "<< resposta, " << whole.size() << " bytes: "
                      << modbus::hex(whole, 0, whole.size()) << "\n"
                      << modbus::describe(whole, command.pdu);
        }

        // O que a resposta diz: uma exceção, ou os valores.
        modbus::Reply result = modbus::parse_reply(command.pdu, reply);
        if (!result.error.empty()) return fail("resposta inválida: " + result.error);
        if (result.exception)
            return fail("o servidor respondeu com a exceção " + modbus::exception_code_text(result.exception) +
                        " (" + modbus::exception_name(result.exception) + "): " +
                        modbus::exception_meaning(result.exception));
        if (round > 1) std::cout << "\n";
        if (command.label.empty())  // o comando pdu: os bytes da resposta
            std::cout << "resposta: " << modbus::hex(reply, 0, reply.size()) << "\n";
        const auto& values = command.write ? command.values : result.values;
        for (std::size_t i = 0; i < values.size() && !command.label.empty(); ++i)
            std::cout << command.label << " " << command.first + i << " = " << values[i]
                      << (command.write ? " (escrito)" : "") << "\n";
        std::cout << std::flush;
        if (round < repeat) std::this_thread::sleep_for(std::chrono::seconds(1));
    }
    // Fecha o socket (o servidor vê o FIN e encerra a thread deste cliente)
    net::close_socket(client_socket);
    return 0;
}
