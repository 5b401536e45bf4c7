// Exemplo 1 - Chat: o SERVIDOR. Leia ao lado de Servidor.py: os mesmos passos, na
// mesma ordem, cada um abaixo do comentário do original. Uso: ./server [IP [PORTA]]
#include "../common/args.h"
#include "../common/net.h"
#include "../common/outbox.h"
#include "../common/admission.h"

#include <algorithm>
#include <iostream>
#include <mutex>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

static const char* const USAGE =
    "uso: server [IP [PORTA]] [--limite-por-ip N] [--envio-por-aluno KIB]   (padrão: localhost 8000, sem limite)";
static const char* const HELP = "Servidor do chat do Exemplo 1: repassa cada mensagem recebida "
    "para todos os clientes conectados.\n  --limite-por-ip N  no máximo N conexões por IP (padrão: nenhum)\n"
    "  --envio-por-aluno KIB  KiB/s que cada aluno repassa (padrão: 16; 0: sem limite)\n";
static admission::Gate gate;  // quantas conexões cabem, e quem cede o lugar (common/)
static void handle_client(socket_t client_socket, std::string address, admission::Ticket);
static void accept_clients(socket_t server_socket);

int main(int argc, char* argv[]) {
    net::Startup startup;  // Winsock no Windows; ignora SIGPIPE no Linux/macOS
    // Diferença do original: Argumentos e mensagens de erro. Cada falha: mensagem e código 1.
    std::string IP = "localhost", PORT = "8000", per_ip = "nenhum", rate = "16";  // --limite-por-ip, --envio-por-aluno
    int code = args::parse_address(argc, argv, USAGE, HELP, IP, PORT,
                                   {{"--limite-por-ip", &per_ip}, {"--envio-por-aluno", &rate}});
    std::size_t limit = 0, kib = 16;  // 0: nenhum limite por IP enquanto houver lugar
    if (code < 0 && !admission::read_group_limit(per_ip, limit, USAGE)) code = 2;
    if (code < 0 && !admission::read_send_rate(rate, kib, USAGE)) code = 2;
    if (code >= 0) return code;

    // Cria um socket TCP/IP (SOCK_STREAM = TCP).
    // Diferença do original: IPv4 ou IPv6 conforme o IP. AF_INET6 se tiver ':' ("::1").
    socket_t server_socket = socket(net::family_of(IP), SOCK_STREAM, 0);
    if (server_socket == INVALID_SOCKET) return net::fail("Erro ao criar o socket");

    // Define o endereço e a porta que o socket vai se vincular (IP e PORT, acima).
    std::string error;
    // O endereço dos sockets em Python é realizado via tupla (IP, PORT); em C++ é uma
    // sockaddr, que getaddrinfo() monta em net::resolve ("localhost" vira 127.0.0.1).
    net::AddrList address = net::resolve(IP, PORT, true, error, net::family_of(IP));
    if (!address) {
        std::cerr << "Erro: " << error << "\n";
        return 1;
    }

    std::cout << "Iniciando servidor em " << net::host_port(IP, PORT) << std::endl;
    // Diferença do original: Reinício imediato (SO_REUSEADDR). Sem ela, ~60 s em TIME_WAIT.
    net::set_reuse_address(server_socket);
    if (bind(server_socket, address->ai_addr, static_cast<socklen_t>(address->ai_addrlen)) != 0) {
        std::string why = net::last_error() + net::bind_hint(address->ai_addr);  // e o porquê
        std::cerr << "Erro: não foi possível usar o endereço " << net::host_port(IP, PORT) << ": "
                  << why << "\n";
        return 1;
    }

    // Escuta as conexões. O número não é o de clientes que podem se conectar: é a
    // fila das que esperam o accept() (os clientes já aceitos não contam).
    // Diferença do original: listen(SOMAXCONN) em vez de listen(5). A maior fila possível.
    if (listen(server_socket, SOMAXCONN) != 0) return net::fail("Erro no listen");
    gate.set_send_rate(kib);  // quanto cada aluno repassa por segundo (0: sem limite)
    std::cerr << gate.open(limit, 1) << std::endl;  // quantas cabem (1 descritor cada)
    accept_clients(server_socket);
}

// Lista para armazenar os clientes conectados (a fila de envio de cada um).
// Diferença do original: Lista protegida por mutex. Uma thread por vez mexe nela.
static std::vector<Outbox*> clients;
static std::mutex clients_mutex;

// Função para enviar uma mensagem para todos os clientes conectados.
// Diferença do original: Um cliente lento não trava os outros. client->send() nunca
// espera: o que não cabe agora vai para a fila dele; 1 MiB ou 5 s atrasado, ele sai.
// Diferença do original: Um cliente que caiu não atrapalha os outros. Só ele é desconectado.
static void broadcast(const char* message, std::size_t length) {
    std::lock_guard<std::mutex> lock(clients_mutex);
    for (Outbox* client : clients) client->send(message, length);
}

// Função para lidar com as conexões de clientes (roda numa thread própria).
static void handle_client(socket_t client_socket, std::string client_address,
                          admission::Ticket ticket) {  // o lugar dele no servidor
    {  // o Outbox vive só neste bloco: termina antes de o socket ser fechado
        Outbox client(client_socket, client_address);  // o cliente, com a sua fila
        // Adiciona o cliente à lista de clientes conectados.
        std::unique_lock<std::mutex> lock(clients_mutex);
        clients.push_back(&client);
        lock.unlock();
        char message[1024];
        while (true) {
            // Recebe a mensagem do cliente: até 1024 bytes, o que tiver chegado.
            auto received = recv(client_socket, message, sizeof message, 0);
            if (received > 0) {
                // Envia a mensagem para todos os clientes conectados.
                broadcast(message, static_cast<std::size_t>(received));
                // Diferença do original: Cada aluno repassa até 16 KiB/s. Passou, espera antes do recv().
                if (!ticket.pace(static_cast<std::size_t>(received))) break;  // perdeu o lugar
            } else if (received == 0) {
                // Remove o cliente da lista de clientes conectados (após o laço):
                // recv() devolveu 0, o cliente fechou a conexão.
                break;
            } else if (net::interrupted()) {
                continue;  // um sinal (EINTR) interrompeu o recv(): só repete
            } else {
                // Remove o cliente da lista de clientes conectados (após o laço)
                // caso ocorra algum erro: recv() devolveu -1 (o except do Python).
                break;
            }
        }
        // Diferença do original: Quem sai é removido uma única vez e avisado. Veja o fim do bloco.
        lock.lock();
        clients.erase(std::remove(clients.begin(), clients.end(), &client), clients.end());
    }
    ticket = admission::Ticket();  // o lugar volta antes do close() e do aviso (admission.h)
    net::close_socket(client_socket);
    std::cout << ("Cliente desconectado: " + client_address + "\n") << std::flush;  // uma escrita
}

static void accept_clients(socket_t server_socket) {
    while (true) {
        // "conexao" sem acento: é o que o Servidor.py imprime (veja as saídas no guia).
        std::cout << "Aguardando conexao..." << std::endl;
        // Aceita a conexão do cliente (sockaddr_storage cabe IPv4 e IPv6).
        sockaddr_storage client_address{};
        socklen_t length = sizeof client_address;
        socket_t client_socket =
            accept(server_socket, reinterpret_cast<sockaddr*>(&client_address), &length);
        // Diferença do original: Falta de recursos não derruba o servidor. Sem descritores
        // ou sem thread, o Python morre; aqui só aquela conexão fica sem atender.
        if (client_socket == INVALID_SOCKET) {
            report_accept_failure();  // EINTR: de novo; sem fds: 1 linha/s com a contagem
            continue;
        }
        const sockaddr* peer = reinterpret_cast<const sockaddr*>(&client_address);
        // Diferença do original: Lugares divididos por igual. Cheio, sai uma do grupo com mais.
        admission::Ticket ticket = gate.admit(client_socket, peer, true);  // sem handshake; e keepalive
        if (!ticket) continue;  // recusada: já fechada, e o servidor disse por quê
        std::string client_text = net::endpoint_of(peer);
        std::cout << "Cliente conectado: " << client_text << std::endl;
        // Inicia uma thread para lidar com a conexão do cliente.
        // Roda cada solicitação paralelamente (detach: a thread termina sozinha).
        try {
            std::thread(handle_client, client_socket, client_text, std::move(ticket)).detach();
        } catch (const std::system_error& e) {
            std::cerr << "Erro: não foi possível criar uma thread para " << client_text << ": "
                      << e.what() << " (conexão fechada)" << std::endl;
            net::close_socket(client_socket);
        }
    }
}
