// Exemplo 6 - Modbus/TCP: o SERVIDOR, um pequeno CLP simulado (um tanque com bomba).
// Atende cada cliente numa thread (como o Exemplo 1); cada pedido é uma mensagem
// MBAP (mbap.h) + PDU (pdu.h), e a resposta vai pela mesma conexão, que continua aberta.
// Uso: ./server [IP [PORTA]]   (padrão: localhost 1502)
#include "../common/args.h"
#include "../common/net.h"
#include "../common/admission.h"  // quantas conexões cabem, e quem cede o lugar
#include "clp.h"                     // o tanque, a bomba e as quatro tabelas
#include "details.h"                 // a linha mostrada por pedido
#include "mbap.h"                    // o cabeçalho MBAP: a PDU dentro do TCP
#include "pdu.h"                     // a PDU: os pedidos, as respostas, as exceções
#include "receive_adu.h"             // uma mensagem inteira (MBAP + PDU) do socket

#include <chrono>
#include <iostream>
#include <mutex>
#include <string>
#include <system_error>
#include <thread>

static const char* const USAGE =
    "uso: server [IP [PORTA]] [--quiet] [--prazo SEGUNDOS] [--limite-por-ip N]"
    "   (padrão: localhost 1502)";
static const char* const HELP =
    "Servidor Modbus/TCP do Exemplo 6: um CLP simulado (um tanque com bomba) com\n"
    "bobinas, entradas discretas, registradores e registradores de entrada 0 a 99.\n"
    "  --quiet             não mostra uma linha por pedido\n"
    "  --prazo SEGUNDOS    fecha a conexão de quem fica esse tempo sem enviar nada (60)\n"
    "  --limite-por-ip N   conexões abertas ao mesmo tempo por IP (padrão: sem limite)\n"
    "A porta 502 (a do padrão) exige root no Linux: veja o README.\n";

static bool quiet = false;     // --quiet
static double timeout = 60.0;  // --prazo
static admission::Gate gate;
// O CLP: as tabelas e o processo. As threads dos clientes e a do processo mexem nele
// ao mesmo tempo: só uma por vez, com o mutex travado.
static Plant plant;
static std::mutex plant_mutex;

static void accept_clients(socket_t server_socket);
static void simulate_process();
static void say(const std::string& text) { std::cout << (text + "\n") << std::flush; }

int main(int argc, char* argv[]) {
    net::Startup startup;  // Winsock no Windows; ignora SIGPIPE no Linux/macOS
    std::string IP = "localhost", PORT = "1502", seconds = "60", per_ip = "nenhum";
    int code = args::parse_address(argc, argv, USAGE, HELP, IP, PORT,
                                   {{"--quiet", nullptr, &quiet}, {"--prazo", &seconds},
                                    {"--limite-por-ip", &per_ip}});
    if (code >= 0) return code;
    std::size_t limit = 0;  // 0: nenhum limite por IP enquanto houver lugar
    if (!admission::read_group_limit(per_ip, limit, USAGE)) return 2;
    std::size_t whole_seconds = 0;
    if (!args::number(seconds, 1, 99999, whole_seconds))
        return args::usage_error(USAGE, "--prazo deve ser um número de 1 a 99999");
    timeout = static_cast<double>(whole_seconds);

    // Cria um socket TCP/IP (IPv4; IPv6 se o IP tiver ':', como "::1")
    socket_t server_socket = socket(net::family_of(IP), SOCK_STREAM, 0);
    if (server_socket == INVALID_SOCKET) return net::fail("Erro ao criar o socket");
    // SO_REUSEADDR: para reiniciar logo na mesma porta (conexões antigas em TIME_WAIT).
    net::set_reuse_address(server_socket);

    // Define o endereço e a porta que o socket vai se vincular
    std::string error;
    net::AddrList address = net::resolve(IP, PORT, true, error, net::family_of(IP));
    if (!address) {
        std::cerr << "Erro: " << error << "\n";
        return 1;
    }
    std::cout << "Iniciando servidor em " << net::host_port(IP, PORT) << std::endl;
    if (bind(server_socket, address->ai_addr, static_cast<socklen_t>(address->ai_addrlen)) != 0) {
        std::string why = net::last_error() + net::bind_hint();  // em uso? 502 sem root?
        std::cerr << "Erro: não foi possível usar o endereço " << net::host_port(IP, PORT) << ": "
                  << why << "\n";
        return 1;
    }
    // A fila de conexões que esperam o accept() (não é o número de clientes).
    if (listen(server_socket, SOMAXCONN) != 0) return net::fail("Erro no listen");

    std::cout << "CLP simulado: nível do tanque no registrador 0 (décimos de %), "
                 "temperatura no 1,\nbomba na bobina 0, modo automático na bobina 1 "
                 "(mapa completo no README)" << std::endl;
    std::cerr << gate.open(limit, 1) << std::endl;  // quantas conexões cabem (common/admission.h)
    // O processo anda sozinho, numa thread própria, a cada 100 ms.
    std::thread(simulate_process).detach();
    accept_clients(server_socket);
}

// O processo físico simulado: um ciclo a cada 100 ms, com o mutex travado.
static void simulate_process() {
    while (true) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        std::lock_guard<std::mutex> lock(plant_mutex);
        plant.step();
    }
}

// Atende um cliente (numa thread só dele) até ele fechar a conexão ou enviar uma
// mensagem malformada. `ticket` é o lugar dele no servidor: volta ao sair.
static void handle_client(socket_t client_socket, std::string client_address,
                          admission::Ticket ticket) {
    net::set_timeout(client_socket, SO_RCVTIMEO, timeout);
    net::set_timeout(client_socket, SO_SNDTIMEO, 10.0);  // quem não lê as respostas sai
    // Erro comum: Deixar o algoritmo de Nagle segurar uma resposta. Com uma resposta
    // ainda sem ACK, o TCP guarda a seguinte (pequena) até o ACK chegar, e o cliente
    // pode atrasar o ACK em dezenas de ms: um mestre que envia vários pedidos seguidos
    // esperaria à toa. TCP_NODELAY envia cada resposta assim que ela fica pronta.
    int no_delay = 1;
    setsockopt(client_socket, IPPROTO_TCP, TCP_NODELAY, reinterpret_cast<const char*>(&no_delay),
               sizeof no_delay);
    std::string why;
    while (true) {
        // 1. Um pedido inteiro: o cabeçalho MBAP (7 bytes), conferido, e a PDU.
        const modbus::Receipt in = modbus::receive_adu(client_socket);
        if (in.what != modbus::Received::Adu) {
            why = modbus::request_failure(in, timeout);  // "": fechou entre duas mensagens
            break;
        }
        const modbus::Header& header = in.header;
        const std::string& request = in.pdu;

        // 2. A resposta, com as tabelas travadas só durante a leitura ou a escrita.
        // Erro comum: Ficar em silêncio diante de um pedido que não dá para atender.
        // O cliente esperaria até desistir; o padrão manda responder com uma exceção
        // (01 função, 02 endereço, 03 valor): modbus::answer sempre responde.
        std::string reply;
        {
            std::lock_guard<std::mutex> lock(plant_mutex);
            reply = plant.answer(request);
        }
        // Erro comum: Responder com outro Transaction Identifier. A resposta repete o
        // Transaction e o Unit Identifier do pedido: é assim que o cliente a reconhece.
        const std::string message = modbus::frame(header.transaction, header.unit, reply);
        if (!net::send_all(client_socket, message.data(), message.size())) {
            why = "erro ao enviar a resposta: " + net::last_error();
            break;
        }
        ticket.settle();  // atendido: cheio, ele cede o lugar depois dos que nada pediram
        if (!quiet)
            say(client_address + " [" + std::to_string(header.transaction) + "] " +
                modbus::summary(request, reply));
    }
    // Devolve o lugar dele no servidor (antes do close(): admission.h; e antes da
    // mensagem: quem a lê pode conectar de novo em seguida) e fecha a conexão.
    ticket = admission::Ticket();
    net::close_socket(client_socket);
    say(why.empty() ? "Cliente desconectado: " + client_address
                    : "Conexão com " + client_address + " fechada: " + why);
}

static void accept_clients(socket_t server_socket) {
    while (true) {
        std::cout << "Aguardando conexão..." << std::endl;
        sockaddr_storage client_address{};
        socklen_t length = sizeof client_address;
        socket_t client_socket =
            accept(server_socket, reinterpret_cast<sockaddr*>(&client_address), &length);
        if (client_socket == INVALID_SOCKET) {  // ex.: arquivos abertos demais
            report_accept_failure();  // uma linha por segundo no máximo, e uma pausa
            continue;
        }
        const sockaddr* peer = reinterpret_cast<const sockaddr*>(&client_address);
        const std::string ip = net::address_of(peer);
        const std::string client_text = net::host_port(ip, net::port_of(peer));
        // Cheio, quem chega fica com o lugar de uma conexão do grupo (IP) que tem mais;
        // recusada, já está fechada e o servidor disse por quê. Liga também o keepalive.
        admission::Ticket ticket = gate.admit(client_socket, peer, false);
        if (!ticket) continue;
        std::cout << "Cliente conectado: " << client_text << std::endl;

        // Uma thread por cliente, que termina sozinha (detach).
        try {
            std::thread(handle_client, client_socket, client_text, std::move(ticket)).detach();
        } catch (const std::system_error& e) {
            say("Erro: não foi possível criar uma thread para " + client_text + ": " + e.what() +
                " (conexão fechada)");
            net::close_socket(client_socket);
        }
    }
}
