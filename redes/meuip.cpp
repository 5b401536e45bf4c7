// Laboratório de redes - um serviço "Meu IP" (como os sites do guia).
//
// Para cada conexão, responde com uma linha dizendo de que endereço IP e
// porta ela veio, e fecha. É o que um site "Meu IP" faz: o servidor não
// sabe nada do seu computador além do que o accept() lhe entrega, que é o
// endereço de ORIGEM do pacote que chegou. Atrás de um NAT esse endereço é
// o do roteador (ou o do provedor, com CGNAT), não o do seu PC.
//
// Uso: ./meuip [IP [PORTA]]        (padrão: localhost 8000)
// Teste: ./meuip 0.0.0.0 8000 num terminal, ../ex1_chat/client no outro.
#include "../common/args.h"
#include "../common/net.h"
#include "../common/admission.h"  // report_accept_failure

#include <iostream>
#include <string>

static const char* const USAGE = "uso: meuip [IP [PORTA]]   (padrão: localhost 8000)";

int main(int argc, char* argv[]) {
    net::Startup startup;  // Winsock no Windows; ignora SIGPIPE no Linux/macOS

    // Endereço e porta em que o serviço escuta (como nos servidores dos exemplos).
    std::string IP = "localhost", PORT = "8000";
    int code = args::parse_address(argc, argv, USAGE,
                                   "Serviço \"Meu IP\": responde a cada conexão com o endereço IP "
                                   "e a porta de onde ela veio.\n",
                                   IP, PORT);
    if (code >= 0) return code;

    std::string error;
    net::AddrList address = net::resolve(IP, PORT, true, error);
    if (!address) {
        std::cerr << "Erro: " << error << "\n";
        return 1;
    }

    // Cria o socket TCP, vincula ao endereço e escuta, como em ex1_chat/server.
    socket_t server_socket =
        socket(address->ai_family, address->ai_socktype, address->ai_protocol);
    if (server_socket == INVALID_SOCKET) return net::fail("Erro ao criar o socket");
    net::set_reuse_address(server_socket);
    if (bind(server_socket, address->ai_addr, static_cast<socklen_t>(address->ai_addrlen)) != 0) {
        std::string why = net::last_error() + net::bind_hint();
        std::cerr << "Erro: não foi possível usar o endereço " << net::host_port(IP, PORT) << ": " << why
                  << "\n";
        net::close_socket(server_socket);
        return 1;
    }
    if (listen(server_socket, SOMAXCONN) != 0) {
        std::cerr << "Erro no listen: " << net::last_error() << "\n";
        net::close_socket(server_socket);
        return 1;
    }
    std::cout << "Serviço Meu IP em " << net::host_port(IP, PORT) << std::endl;

    while (true) {
        // accept() devolve, junto com o socket, o endereço de quem conectou:
        // o endereço de origem dos pacotes como chegaram AQUI, depois de
        // todas as traduções (NAT) do caminho.
        sockaddr_storage client_address{};
        socklen_t address_length = sizeof client_address;
        socket_t client_socket = accept(
            server_socket, reinterpret_cast<sockaddr*>(&client_address), &address_length);
        if (client_socket == INVALID_SOCKET) {
            report_accept_failure();  // no máximo uma linha por segundo, sem girar a CPU
            continue;
        }
        const sockaddr* peer = reinterpret_cast<const sockaddr*>(&client_address);
        std::string ip = net::address_of(peer);
        std::string port = std::to_string(net::port_of(peer));
        std::cout << "Consulta de " << net::host_port(ip, port) << std::endl;

        // Uma linha de resposta e fim: quem perguntou não precisa enviar nada.
        // Um cliente que não lê não prende o serviço: o envio tem prazo.
        std::string answer = "Seu IP público é " + ip + " (porta " + port + ")\n";
        net::set_timeout(client_socket, SO_SNDTIMEO, 2.0);
        net::send_all(client_socket, answer.data(), answer.size());
        net::close_socket(client_socket);
    }
}
