// Exemplo 2 - Criptografia de dados: o SERVIDOR (tradução de Servidor_seguro.py).
//
// O mesmo chat do Exemplo 1, mas o servidor gera uma chave, a envia a cada
// cliente que se conecta, e só aceita o cliente depois que ele devolve "OK"
// cifrado com essa chave. Daí em diante cada mensagem é um token cifrado.
//
// ATENÇÃO (o próprio guia aponta): a chave viaja SEM proteção no primeiro
// pacote. Quem capturar esse pacote (Wireshark) decifra toda a conversa.
// Veja o README desta pasta.
//
// Uso: ./server [IP [PORTA]]        (padrão: localhost 8000)
#include "../common/net.h"
#include "token.h"  // biblioteca p/ criptografia (libsodium) e formato das linhas

#include <algorithm>
#include <chrono>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

static const char* const USAGE = "uso: server [IP [PORTA]]   (padrão: localhost 8000)";

// Lista para armazenar os clientes conectados (e sincronizados).
// Diferença do original: protegida por um mutex, como no Exemplo 1.
static std::vector<socket_t> clients;
static std::mutex clients_mutex;

// Chave de criptografia única, gerada em main(), e a linha que a leva.
static unsigned char UNIQUE_KEY[token::KEY_BYTES];
static std::string key_line;

// Diferença do original: prazos. Um cliente tem 10 s para responder à chave
// (senão a thread dele ficaria esperando para sempre); um cliente que não lê
// o que recebe é desconectado depois de 5 s de envio bloqueado (Exemplo 1).
static const double HANDSHAKE_TIMEOUT = 10.0;
static const double SEND_TIMEOUT = 5.0;

// Função para enviar uma mensagem para todos os clientes conectados.
static void broadcast(const std::string& line) {
    std::lock_guard<std::mutex> lock(clients_mutex);
    for (auto it = clients.begin(); it != clients.end();) {
        if (net::send_all(*it, line.data(), line.size())) {
            ++it;
            continue;
        }
        // Diferença do original: um cliente com erro sai da lista e os
        // outros continuam recebendo (veja o Exemplo 1).
        shutdown(*it, SHUT_RDWR);
        it = clients.erase(it);
    }
}

// Remove o cliente da lista, se ele ainda estiver nela.
static void remove_client(socket_t client_socket) {
    std::lock_guard<std::mutex> lock(clients_mutex);
    clients.erase(std::remove(clients.begin(), clients.end(), client_socket), clients.end());
}

static void say(const std::string& text) { std::cout << (text + "\n") << std::flush; }

// Recebe a próxima linha completa do cliente. Devolve false se a conexão
// acabou, deu erro ou a linha passou de 1024 bytes (`why` diz o motivo).
// Diferença do original: o Python supõe que um recv() = uma mensagem. O TCP
// é um fluxo de bytes: um recv() pode trazer dois tokens juntos, ou metade
// de um. Por isso cada mensagem é uma linha, e as linhas são separadas aqui.
static bool receive_line(socket_t client_socket, token::LineReader& reader, std::string& line,
                         std::string& why) {
    char data[1024];
    for (;;) {
        switch (reader.next(line)) {
            case token::LineReader::Result::Line: return true;
            case token::LineReader::Result::TooLong:
                why = "enviou uma linha maior que 1024 bytes";
                return false;
            case token::LineReader::Result::NeedMore: break;
        }
        auto received = recv(client_socket, data, sizeof data, 0);
        if (received > 0) {
            reader.feed(data, static_cast<std::size_t>(received));
        } else if (received < 0 && net::interrupted()) {
            continue;
        } else {
            if (received == 0)
                why = "fechou a conexão";
            else if (net::timed_out())
                why = "não respondeu em " + std::to_string(int(HANDSHAKE_TIMEOUT)) + " s";
            else
                why = "erro: " + net::last_error();
            return false;
        }
    }
}

// Função para lidar com as conexões de clientes (uma thread por cliente).
static void handle_client(socket_t client_socket, std::string client_ip, unsigned client_port) {
    const std::string client_address = client_ip + ":" + std::to_string(client_port);
    // Como o Python mostra a tupla client_address: ('127.0.0.1', 54321)
    const std::string client_tuple = "('" + client_ip + "', " + std::to_string(client_port) + ")";
    token::LineReader reader;
    std::string line, why, message;

    // Envia a chave de criptografia para o cliente (em texto claro!).
    net::set_timeout(client_socket, SO_RCVTIMEO, HANDSHAKE_TIMEOUT);
    if (!net::send_all(client_socket, key_line.data(), key_line.size())) {
        why = "erro ao enviar a chave: " + net::last_error();
    } else if (receive_line(client_socket, reader, line, why)) {
        // Aguarda a resposta do cliente e verifica o conteúdo: se ele devolver
        // "OK" cifrado com a chave certa, os dois têm a mesma chave.
        if (!token::decrypt(UNIQUE_KEY, line, message))
            why = "a resposta não decifra com a chave (token inválido)";
        else if (message != "OK")
            why = "a resposta decifrada não é OK";
    }
    const bool synchronized = why.empty();

    if (synchronized) {
        // Então ele pode ser adicionado à lista de clientes ativos.
        say("Cliente " + client_tuple + " sincronizado");
        net::set_timeout(client_socket, SO_RCVTIMEO, 0);  // 0 = sem prazo
        std::lock_guard<std::mutex> lock(clients_mutex);
        clients.push_back(client_socket);
    } else {
        // Caso contrário, encerra a comunicação com o cliente.
        // Diferença do original: no Python, um token inválido lança uma
        // exceção que mata a thread e deixa o socket aberto. Aqui o servidor
        // explica, fecha a conexão e segue atendendo os outros.
        say("Cliente " + client_tuple + " não sincronizado: " + why);
        net::close_socket(client_socket);
        say("Cliente desconectado: " + client_address);
        return;
    }

    while (receive_line(client_socket, reader, line, why)) {
        // Diferença do original: o servidor confere cada token antes de
        // repassá-lo. Um token que não decifra (lixo, chave errada, alterado)
        // desconecta quem o enviou; os outros clientes nem o recebem.
        if (!token::decrypt(UNIQUE_KEY, line, message)) {
            why = "enviou uma mensagem inválida";
            break;
        }
        sodium_memzero(&message[0], message.size());  // o servidor não precisa do texto
        // Envia a linha, sem alteração, para todos os clientes conectados.
        broadcast(line + "\n");
    }
    // Remove o cliente da lista de clientes conectados e fecha o socket.
    remove_client(client_socket);
    net::close_socket(client_socket);
    if (why != "fechou a conexão") say("Cliente " + client_address + " " + why);
    say("Cliente desconectado: " + client_address);
}

int main(int argc, char* argv[]) {
    net::Startup startup;  // Winsock no Windows; ignora SIGPIPE no Linux/macOS

    // Define o endereço e a porta (ou os recebe na linha de comando).
    std::string IP = "localhost", PORT = "8000";
    std::vector<std::string> args(argv + 1, argv + argc);
    if (!args.empty() && (args[0] == "--help" || args[0] == "-h")) {
        std::cout << USAGE << "\n\nServidor do chat cifrado do Exemplo 2: envia a chave a "
                     "cada cliente, confere o OK cifrado e repassa as mensagens cifradas.\n";
        return 0;
    }
    if (args.size() > 2 || (!args.empty() && args[0].rfind("-", 0) == 0) ||
        (args.size() == 2 && !net::parse_port(args[1], PORT))) {
        std::cerr << USAGE << "\n";
        return 2;
    }
    if (!args.empty()) IP = args[0];

    // A libsodium precisa ser iniciada uma vez antes de qualquer uso.
    if (sodium_init() < 0) {
        std::cerr << "Erro: não foi possível iniciar a libsodium\n";
        return 1;
    }

    // Diferença do original: resolve o endereço antes de criar o socket
    // (IPv4 ou IPv6), como no Exemplo 1.
    std::string error;
    net::AddrList address = net::resolve(IP, PORT, true, error);
    if (!address) {
        std::cerr << "Erro: " << error << "\n";
        return 1;
    }

    // Cria um socket TCP/IP
    socket_t server_socket =
        socket(address->ai_family, address->ai_socktype, address->ai_protocol);
    if (server_socket == INVALID_SOCKET) {
        std::cerr << "Erro ao criar o socket: " << net::last_error() << "\n";
        return 1;
    }
    // Diferença do original: SO_REUSEADDR, para reiniciar logo na mesma porta.
    net::set_reuse_address(server_socket);

    std::cout << "Iniciando servidor em " << IP << ":" << PORT << std::endl;
    if (bind(server_socket, address->ai_addr, static_cast<socklen_t>(address->ai_addrlen)) != 0) {
        std::cerr << "Erro: não foi possível usar o endereço " << IP << ":" << PORT << ": "
                  << net::last_error() << " (a porta já está em uso?)\n";
        net::close_socket(server_socket);
        return 1;
    }

    // Escuta as conexões.
    // Diferença do original: listen(SOMAXCONN) em vez de listen(5). O número
    // é o tamanho da fila de conexões ainda não aceitas, não o número de
    // clientes (veja o Exemplo 1).
    if (listen(server_socket, SOMAXCONN) != 0) {
        std::cerr << "Erro no listen: " << net::last_error() << "\n";
        net::close_socket(server_socket);
        return 1;
    }

    // Gera uma chave de criptografia única (32 bytes aleatórios) e a linha
    // que a leva: base64url, 44 caracteres, mais '\n'.
    crypto_secretbox_keygen(UNIQUE_KEY);
    key_line = token::to_base64(UNIQUE_KEY, sizeof UNIQUE_KEY) + "\n";

    while (true) {
        std::cout << "Aguardando conexao..." << std::endl;

        // Aceita a conexão do cliente
        sockaddr_storage client_address{};
        socklen_t address_length = sizeof client_address;
        socket_t client_socket = accept(
            server_socket, reinterpret_cast<sockaddr*>(&client_address), &address_length);
        if (client_socket == INVALID_SOCKET) {
            if (net::interrupted()) continue;
            std::cerr << "Erro no accept: " << net::last_error() << std::endl;
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
            continue;
        }
        const sockaddr* peer = reinterpret_cast<const sockaddr*>(&client_address);
        std::string ip = net::address_of(peer);
        unsigned port = net::port_of(peer);
        std::cout << "Cliente conectado: " << ip << ":" << port << std::endl;

        net::set_timeout(client_socket, SO_SNDTIMEO, SEND_TIMEOUT);

        // Inicia uma thread para lidar com a conexão do cliente.
        std::thread client_thread(handle_client, client_socket, ip, port);
        client_thread.detach();
    }
    // (o laço acima nunca termina; a chave morre com o processo)
}
