// Exemplo 1 - Chat de mensagens: o SERVIDOR (tradução de Servidor.py).
//
// Aceita conexões TCP e, para cada cliente, cria uma thread que recebe as
// mensagens dele e as repassa (broadcast) para todos os clientes conectados,
// inclusive quem enviou. Os bytes são repassados sem nenhuma alteração.
//
// Uso: ./server [IP [PORTA]]        (padrão: localhost 8000)
#include "../common/net.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

static const char* const USAGE = "uso: server [IP [PORTA]]   (padrão: localhost 8000)";

// Lista para armazenar os clientes conectados.
// Diferença do original: em Python a lista é usada por todas as threads ao
// mesmo tempo sem proteção. Aqui um mutex garante que só uma thread por vez
// lê ou altera a lista (e envia para os sockets dela).
static std::vector<socket_t> clients;
static std::mutex clients_mutex;

// Função para enviar uma mensagem para todos os clientes conectados.
static void broadcast(const char* message, std::size_t length) {
    std::lock_guard<std::mutex> lock(clients_mutex);
    for (auto it = clients.begin(); it != clients.end();) {
        // Diferença do original: client.send() do Python pode enviar só parte
        // da mensagem; send_all() repete send() até enviar todos os bytes.
        if (net::send_all(*it, message, length)) {
            ++it;
            continue;
        }
        // Diferença do original: se o envio para um cliente falha (ele caiu,
        // ou não lê há SEND_TIMEOUT segundos), o Python lança uma exceção e a
        // mensagem não chega aos demais. Aqui esse cliente sai da lista e os
        // outros continuam recebendo. shutdown() acorda o recv() da thread
        // dele, que então fecha o socket e avisa "Cliente desconectado".
        shutdown(*it, SHUT_RDWR);
        it = clients.erase(it);
    }
}

// Diferença do original: um cliente que não lê o que recebe (travado, ou de
// propósito) acabaria bloqueando o broadcast de todos para sempre, pois o
// send() espera haver espaço no buffer dele. Com este limite o send() desiste
// depois de alguns segundos e o cliente lento é desconectado.
static const double SEND_TIMEOUT = 5.0;

// Remove o cliente da lista, se ele ainda estiver nela.
static void remove_client(socket_t client_socket) {
    std::lock_guard<std::mutex> lock(clients_mutex);
    clients.erase(std::remove(clients.begin(), clients.end(), client_socket), clients.end());
}

// Função para lidar com as conexões de clientes (roda em uma thread própria).
static void handle_client(socket_t client_socket, std::string client_address) {
    // Adiciona o cliente à lista de clientes conectados.
    {
        std::lock_guard<std::mutex> lock(clients_mutex);
        clients.push_back(client_socket);
    }
    char message[1024];
    while (true) {
        // Recebe a mensagem do cliente: até 1024 bytes, o que tiver chegado.
        auto received = recv(client_socket, message, sizeof message, 0);
        if (received > 0) {
            // Envia a mensagem para todos os clientes conectados.
            broadcast(message, static_cast<std::size_t>(received));
        } else if (received < 0 && net::interrupted()) {
            continue;  // interrompido por um sinal: tenta de novo
        } else {
            // recv() devolve 0 quando o cliente fecha a conexão e -1 em caso
            // de erro (o "except" do Python): nos dois casos o cliente sai.
            break;
        }
    }
    // Remove o cliente da lista de clientes conectados e fecha o socket.
    // Diferença do original: só esta thread fecha o socket, uma única vez,
    // depois de tirá-lo da lista; e a saída do cliente é avisada.
    remove_client(client_socket);
    net::close_socket(client_socket);
    // Uma única operação de escrita, para a linha não se misturar com as de
    // outras threads.
    std::cout << ("Cliente desconectado: " + client_address + "\n") << std::flush;
}

int main(int argc, char* argv[]) {
    net::Startup startup;  // Winsock no Windows; ignora SIGPIPE no Linux/macOS

    // Define o endereço e a porta em que o servidor vai escutar.
    // Diferença do original: podem ser passados na linha de comando.
    std::string IP = "localhost", PORT = "8000";
    std::vector<std::string> args(argv + 1, argv + argc);
    if (!args.empty() && (args[0] == "--help" || args[0] == "-h")) {
        std::cout << USAGE << "\n\nServidor do chat do Exemplo 1: repassa cada mensagem "
                     "recebida para todos os clientes conectados.\n";
        return 0;
    }
    if (args.size() > 2 || (!args.empty() && args[0].rfind("-", 0) == 0) ||
        (args.size() == 2 && !net::parse_port(args[1], PORT))) {
        std::cerr << USAGE << "\n";
        return 2;
    }
    if (!args.empty()) IP = args[0];

    // Diferença do original: em C++ o endereço é resolvido ANTES de criar o
    // socket, porque getaddrinfo() diz se ele é IPv4 (AF_INET) ou IPv6
    // (AF_INET6). "localhost" vira 127.0.0.1, como no Python.
    std::string error;
    net::AddrList address = net::resolve(IP, PORT, true, error);
    if (!address) {
        std::cerr << "Erro: " << error << "\n";
        return 1;
    }

    // Cria um socket TCP/IP (SOCK_STREAM = TCP).
    socket_t server_socket =
        socket(address->ai_family, address->ai_socktype, address->ai_protocol);
    if (server_socket == INVALID_SOCKET) {
        std::cerr << "Erro ao criar o socket: " << net::last_error() << "\n";
        return 1;
    }

    // Diferença do original: sem SO_REUSEADDR, reiniciar o servidor logo
    // depois de pará-lo falha com "Address already in use" por ~60 s, pois as
    // conexões antigas ainda estão em TIME_WAIT.
    net::set_reuse_address(server_socket);

    std::cout << "Iniciando servidor em " << IP << ":" << PORT << std::endl;
    // Vincula o socket ao endereço e à porta.
    if (bind(server_socket, address->ai_addr, static_cast<socklen_t>(address->ai_addrlen)) != 0) {
        std::cerr << "Erro: não foi possível usar o endereço " << IP << ":" << PORT << ": "
                  << net::last_error() << " (a porta já está em uso?)\n";
        net::close_socket(server_socket);
        return 1;
    }

    // Escuta as conexões.
    // Diferença do original: o guia usa listen(5) e diz que 5 é "o número de
    // clientes que podem se conectar". Não é: é o tamanho da FILA de conexões
    // que já completaram o handshake e esperam o accept(). Com a fila cheia,
    // o kernel ignora novos SYN e o cliente só tenta de novo após 1 s, 3 s...
    // (1000 clientes chegando juntos levaram minutos). SOMAXCONN é o maior
    // valor que o sistema aceita (4096 no Linux atual). Clientes conectados
    // não ocupam a fila: o número deles não tem limite aqui.
    if (listen(server_socket, SOMAXCONN) != 0) {
        std::cerr << "Erro no listen: " << net::last_error() << "\n";
        net::close_socket(server_socket);
        return 1;
    }

    while (true) {
        std::cout << "Aguardando conexao..." << std::endl;

        // Aceita a conexão do cliente. sockaddr_storage cabe IPv4 e IPv6.
        sockaddr_storage client_address{};
        socklen_t address_length = sizeof client_address;
        socket_t client_socket = accept(
            server_socket, reinterpret_cast<sockaddr*>(&client_address), &address_length);
        if (client_socket == INVALID_SOCKET) {
            if (net::interrupted()) continue;
            // Ex.: limite de arquivos abertos atingido. Espera um pouco em vez
            // de repetir o accept() sem parar (o que ocuparia 100% da CPU).
            std::cerr << "Erro no accept: " << net::last_error() << std::endl;
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
            continue;
        }
        const sockaddr* peer = reinterpret_cast<const sockaddr*>(&client_address);
        std::string client_text = net::address_of(peer) + ":" + std::to_string(net::port_of(peer));
        std::cout << "Cliente conectado: " << client_text << std::endl;

        net::set_timeout(client_socket, SO_SNDTIMEO, SEND_TIMEOUT);

        // Inicia uma thread para lidar com a conexão do cliente: cada cliente
        // é atendido em paralelo. detach(): a thread termina sozinha quando o
        // cliente sai, sem precisar de join(); nenhuma fica para trás.
        std::thread client_thread(handle_client, client_socket, client_text);
        client_thread.detach();
    }
}
