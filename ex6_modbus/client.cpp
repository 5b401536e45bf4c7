// Exemplo 6 - Modbus/TCP: o CLIENTE (o "mestre"): envia um pedido ao CLP e mostra a
// resposta. Uso: ./client [IP [PORTA]] COMANDO ARGUMENTOS   (veja --help)
//   ./client ler 0 5                os registradores 0 a 4 (nível, temperatura, ...)
//   ./client escrever-bobina 0 1    liga a bomba
#include "../common/net.h"
#include "command.h"  // COMANDO ARGUMENTOS -> a PDU do pedido; --help
#include "details.h"  // --detalhes: cada campo, como no Wireshark
#include "modbus.h"   // o formato MBAP + PDU

#include <chrono>
#include <iostream>
#include <string>
#include <thread>

static const double REPLY_TIMEOUT = 5.0;  // segundos para o servidor responder

// Recebe EXATAMENTE `length` bytes; devolve false (e diz por quê) se não chegaram.
// Erro comum: Tomar um recv() como uma mensagem inteira. Um recv(s, buf, 1024) devolve
// o que já chegou: pode ser meia resposta (o resto vem no próximo segmento). Aqui se
// lê o cabeçalho de 7 bytes inteiro e depois exatamente o que o Length diz.
static bool receive_exactly(socket_t s, char* buffer, std::size_t length, std::string& why) {
    std::size_t got = 0;
    while (got < length) {
        auto received = recv(s, buffer + got, static_cast<int>(length - got), 0);
        if (received > 0) {
            got += static_cast<std::size_t>(received);
        } else if (received == 0) {
            why = "o servidor fechou a conexão (" + std::to_string(got) + " de " +
                  std::to_string(length) + " bytes recebidos)";
            return false;
        } else if (!net::interrupted()) {  // um sinal (EINTR) só repete o recv()
            why = net::timed_out() ? "o servidor não respondeu em 5 s" : net::last_error();
            return false;
        }
    }
    return true;
}

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
        return fail("não foi possível conectar ao servidor " + HOST + ":" + PORT + ": " +
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

        // A resposta: o cabeçalho MBAP (7 bytes), conferido, e depois Length - 1 bytes.
        char header_bytes[modbus::MBAP_BYTES];
        std::string why;
        if (!receive_exactly(client_socket, header_bytes, sizeof header_bytes, why))
            return fail("resposta incompleta: " + why);
        modbus::Header header = modbus::read_header(header_bytes);
        why = modbus::check_header(header);
        if (!why.empty()) return fail("resposta inválida: " + why);
        // Erro comum: Aceitar uma resposta sem conferir de que pedido ela é. Uma resposta
        // atrasada (de um pedido anterior) seria lida como a deste: valores trocados sem
        // aviso. O Transaction Identifier e o Unit Identifier têm de ser os do pedido.
        if (header.transaction != transaction || header.unit != unit_id)
            return fail("a resposta é da transação " + std::to_string(header.transaction) +
                        ", unidade " + std::to_string(header.unit) + "; o pedido foi a " +
                        std::to_string(transaction) + ", unidade " + std::to_string(unit));
        char pdu_bytes[modbus::MAX_PDU_BYTES];
        if (!receive_exactly(client_socket, pdu_bytes, header.length - 1u, why))
            return fail("resposta incompleta: " + why);
        const std::string reply(pdu_bytes, header.length - 1u);
        if (details) {
            const std::string whole = std::string(header_bytes, sizeof header_bytes) + reply;
            std::cout << "<< resposta, " << whole.size() << " bytes: "
                      << modbus::hex(whole, 0, whole.size()) << "\n"
                      << modbus::describe(whole, command.pdu);
        }

        // O que a resposta diz: uma exceção, ou os valores.
        modbus::Reply result = modbus::parse_reply(command.pdu, reply);
        if (!result.error.empty()) return fail("resposta inválida: " + result.error);
        if (result.exception)
            return fail("o servidor respondeu com a exceção " +
                        std::string(result.exception < 10 ? "0" : "") + std::to_string(result.exception) +
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
