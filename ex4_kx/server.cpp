// Exemplo 4 - Troca de chaves: o SERVIDOR (o servidor do Exemplo 2, feito do
// jeito certo).
//
// O mesmo chat cifrado do Exemplo 2, mas a chave de sessão nunca viaja. O
// servidor envia só a sua chave PÚBLICA de longo prazo; o cliente responde
// com uma chave pública nova, e cada lado calcula as mesmas chaves de sessão
// (crypto_kx, uma troca Diffie-Hellman). Quem captura tudo vê só chaves
// públicas e texto cifrado. Cada direção é um fluxo (crypto_secretstream):
// uma mensagem repetida, fora de ordem ou que falta é detectada.
//
// O servidor decifra cada mensagem e a cifra de novo para cada cliente: ele lê
// tudo (veja o README: o que seria preciso para cifrar de ponta a ponta).
//
// Uso: ./server [IP [PORTA]]        (padrão: localhost 8000)
#include "../common/args.h"
#include "../common/line_reader.h"
#include "../common/net.h"
#include "../common/outbox.h"
#include "keys.h"  // o par de chaves do servidor, guardado em arquivo
#include "kx.h"    // libsodium e o formato das linhas

#include <algorithm>
#include <chrono>
#include <iostream>
#include <memory>
#include <mutex>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

static const char* const USAGE = "uso: server [IP [PORTA]]   (padrão: localhost 8000)";
static const char* const HELP =
    "Servidor do chat do Exemplo 4: troca de chaves (crypto_kx) com cada cliente e\n"
    "mensagens num fluxo cifrado (crypto_secretstream). O par de chaves do servidor\n"
    "fica em servidor.chave, ao lado do programa (criado na primeira execução).\n";

// Diferença do Exemplo 2: no lugar da chave única (que ia em claro para
// todos), o par de chaves de LONGO PRAZO do servidor, lido em main(). A
// pública vai para cada cliente; a secreta nunca sai do arquivo e da memória.
static unsigned char server_public_key[kx::KEY_BYTES];
static unsigned char server_secret_key[kx::SECRET_BYTES];
static std::string key_line;

// Diferença do original: um cliente tem 10 s para fazer o aperto de mão.
static const double HANDSHAKE_TIMEOUT = 10.0;

// Um cliente no chat: a fila do que vai para ele (common/outbox.h) e,
// Diferença do Exemplo 2: o fluxo cifrado com as chaves só dele.
struct Client {
    Outbox outbox;
    kx::Stream sending{};
    Client(socket_t socket, const std::string& address) : outbox(socket, address) {}
};

// Lista para armazenar os clientes conectados, protegida por um mutex.
static std::vector<Client*> clients;
static std::mutex clients_mutex;

static void say(const std::string& text) { std::cout << (text + "\n") << std::flush; }

// Função para enviar uma mensagem para todos os clientes conectados.
// Diferença do Exemplo 2: o servidor recebe o TEXTO e o cifra de novo para
// cada cliente, no fluxo dele (cada um tem chaves diferentes). Cifrar e pôr
// na fila com o mutex travado garante a mesma ordem no fluxo e na rede.
static void broadcast(const std::string& message) {
    std::lock_guard<std::mutex> lock(clients_mutex);
    for (Client* client : clients) {
        std::string line = kx::seal(client->sending, message) + "\n";
        client->outbox.send(line.data(), line.size());
    }
}

// Função para lidar com as conexões de clientes (uma thread por cliente).
static void handle_client(socket_t client_socket, std::string client_ip, unsigned client_port) {
    const std::string client_address = client_ip + ":" + std::to_string(client_port);
    // Como o Python mostra a tupla client_address: ('127.0.0.1', 54321)
    const std::string client_tuple = "('" + client_ip + "', " + std::to_string(client_port) + ")";
    net::LineReader reader(kx::MAX_LINE);
    std::string line, why, message;
    auto client = std::make_unique<Client>(client_socket, client_address);

    // Diferença do Exemplo 2: o aperto de mão é uma troca de chaves.
    // 1. Envia a chave pública do servidor (pública: pode ir em claro).
    net::set_timeout(client_socket, SO_RCVTIMEO, HANDSHAKE_TIMEOUT);
    unsigned char client_public_key[kx::KEY_BYTES];
    unsigned char rx[kx::SESSION_BYTES], tx[kx::SESSION_BYTES];
    kx::Stream receiving{};
    if (!net::send_all(client_socket, key_line.data(), key_line.size()))
        why = "erro ao enviar a chave: " + net::last_error();
    // 2. Aguarda a chave pública do cliente e calcula as chaves de sessão:
    //    rx para o que vem dele, tx para o que vai para ele.
    if (why.empty() && net::receive_line(client_socket, reader, line, why) &&
        (!kx::read_key(line, client_public_key) ||
         crypto_kx_server_session_keys(rx, tx, server_public_key, server_secret_key,
                                       client_public_key) != 0))
        why = "a chave pública recebida é inválida";
    // 3. Envia o cabeçalho do fluxo para o cliente e lê o do fluxo dele.
    if (why.empty()) {
        std::string header_line = kx::start_sending(client->sending, tx) + "\n";
        if (!net::send_all(client_socket, header_line.data(), header_line.size()))
            why = "erro ao enviar o cabeçalho: " + net::last_error();
    }
    if (why.empty() && net::receive_line(client_socket, reader, line, why) &&
        !kx::start_receiving(receiving, line, rx))
        why = "o cabeçalho recebido é inválido";
    sodium_memzero(rx, sizeof rx);  // as chaves de sessão já estão nos fluxos
    sodium_memzero(tx, sizeof tx);
    const bool synchronized = why.empty();

    if (synchronized) {
        // Então ele pode ser adicionado à lista de clientes ativos.
        say("Cliente " + client_tuple + " sincronizado");
        net::set_timeout(client_socket, SO_RCVTIMEO, 0);  // 0 = sem prazo
        std::lock_guard<std::mutex> lock(clients_mutex);
        clients.push_back(client.get());
    } else {
        // Caso contrário, explica, encerra a comunicação com o cliente e
        // segue atendendo os outros.
        say("Cliente " + client_tuple + " não sincronizado: " + why);
        net::close_socket(client_socket);
        say("Cliente desconectado: " + client_address);
        return;
    }
    while (net::receive_line(client_socket, reader, line, why)) {
        // Diferença do Exemplo 2: decifra a mensagem no fluxo de quem a
        // enviou. Uma linha alterada, repetida (replay), fora de ordem ou
        // depois de uma que faltou não abre: quem a enviou é desconectado.
        if (!kx::open(receiving, line, message)) {
            why = "enviou uma mensagem inválida (alterada, repetida ou fora de ordem)";
            break;
        }
        // Envia a mensagem para todos os clientes conectados.
        broadcast(message);
        sodium_memzero(&message[0], message.size());
    }
    // Remove o cliente da lista de clientes conectados e fecha o socket.
    {
        std::lock_guard<std::mutex> lock(clients_mutex);
        clients.erase(std::remove(clients.begin(), clients.end(), client.get()), clients.end());
    }
    sodium_memzero(&receiving, sizeof receiving);
    sodium_memzero(&client->sending, sizeof client->sending);
    client.reset();  // espera a thread de envio dele, se existir
    net::close_socket(client_socket);
    if (why != "fechou a conexão") say("Cliente " + client_address + " " + why);
    say("Cliente desconectado: " + client_address);
}

int main(int argc, char* argv[]) {
    net::Startup startup;  // Winsock no Windows; ignora SIGPIPE no Linux/macOS

    // Define o endereço e a porta (ou os recebe na linha de comando).
    std::string IP = "localhost", PORT = "8000";
    int code = args::parse_address(argc, argv, USAGE, HELP, IP, PORT);
    if (code >= 0) return code;

    // A libsodium precisa ser iniciada uma vez antes de qualquer uso.
    if (sodium_init() < 0) {
        std::cerr << "Erro: não foi possível iniciar a libsodium\n";
        return 1;
    }

    // Resolve o endereço (IPv4 ou IPv6) e cria um socket TCP/IP.
    std::string error;
    net::AddrList address = net::resolve(IP, PORT, true, error);
    if (!address) {
        std::cerr << "Erro: " << error << "\n";
        return 1;
    }
    socket_t server_socket =
        socket(address->ai_family, address->ai_socktype, address->ai_protocol);
    if (server_socket == INVALID_SOCKET) return net::fail("Erro ao criar o socket");
    net::set_reuse_address(server_socket);  // para reiniciar logo na mesma porta

    std::cout << "Iniciando servidor em " << IP << ":" << PORT << std::endl;
    if (bind(server_socket, address->ai_addr, static_cast<socklen_t>(address->ai_addrlen)) != 0) {
        std::string hint = net::bind_hint();
        std::cerr << "Erro: não foi possível usar o endereço " << IP << ":" << PORT << ": "
                  << net::last_error() << hint << "\n";
        net::close_socket(server_socket);
        return 1;
    }

    // Escuta as conexões (SOMAXCONN: a fila de conexões ainda não aceitas).
    if (listen(server_socket, SOMAXCONN) != 0) return net::fail("Erro no listen");

    // Diferença do Exemplo 2: em vez de gerar uma chave única a cada
    // execução, lê o par de chaves do servidor do arquivo ao lado do programa
    // (criado na primeira execução) e mostra só a chave pública, para quem
    // quiser conferi-la no cliente (--chave-servidor).
    const std::string key_path = net::program_folder(argv[0]) + "/" + keys::SERVER_KEY_FILE;
    bool created = false;
    if (!keys::load_or_create(key_path, server_public_key, server_secret_key, created, error)) {
        std::cerr << "Erro: " << error << "\n";
        return 1;
    }
    if (created) std::cout << "Par de chaves novo criado em " << key_path << "\n";
    key_line = kx::to_base64(server_public_key, sizeof server_public_key);
    std::cout << "Chave pública do servidor: " << key_line << std::endl;
    key_line += "\n";

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

        // Inicia uma thread para lidar com a conexão do cliente.
        try {
            std::thread client_thread(handle_client, client_socket, ip, port);
            client_thread.detach();
        } catch (const std::system_error& e) {
            std::cerr << "Erro: não foi possível criar uma thread para " << ip << ":" << port
                      << ": " << e.what() << " (conexão fechada)" << std::endl;
            net::close_socket(client_socket);
        }
    }
    // (o laço acima nunca termina; a chave secreta morre com o processo)
}
