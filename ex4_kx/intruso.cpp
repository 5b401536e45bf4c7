// Exemplo 4 - o INTRUSO: um "man-in-the-middle" para a demonstração.
//
// Fica entre o cliente e o servidor: o cliente se conecta a ele pensando que
// é o servidor. Para o cliente, o intruso faz o papel do servidor, com um par
// de chaves SEU; para o servidor, faz o papel de um cliente. Cada mensagem é
// decifrada de um lado, mostrada aqui, e cifrada de novo do outro: os dois
// conversam normalmente e o intruso lê tudo.
//
// A troca de chaves sozinha não impede isso: ela garante que ninguém ESCUTA,
// não COM QUEM se fala. O que impede é o cliente conferir a chave do servidor
// (--chave-servidor, ou a salva na primeira conexão): a chave do intruso não
// é a do servidor, e o cliente desiste antes de enviar qualquer coisa.
//
// Uso: ./intruso [IP [PORTA [IP_SERVIDOR [PORTA_SERVIDOR]]]]
//      (padrão: escuta em localhost 8001 e repassa para localhost 8000)
#include "../common/args.h"
#include "../common/line_reader.h"
#include "../common/net.h"
#include "kx.h"

#include <chrono>
#include <iostream>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

static const char* const USAGE =
    "uso: intruso [IP [PORTA [IP_SERVIDOR [PORTA_SERVIDOR]]]]   (padrão: localhost 8001 "
    "localhost 8000)";
static const char* const HELP =
    "O intruso do Exemplo 4 (man-in-the-middle): escuta em IP:PORTA, repassa cada\n"
    "conexão para o servidor e mostra as mensagens decifradas. Só funciona com um\n"
    "cliente que não confere a chave do servidor.\n";

// O par de chaves do intruso, gerado ao iniciar (só na memória).
static unsigned char my_public_key[kx::KEY_BYTES], my_secret_key[kx::SECRET_BYTES];
static std::string server_ip, server_port;

static void say(const std::string& text) { std::cout << (text + "\n") << std::flush; }

// Um lado de uma conexão: o socket, as linhas que chegam e os dois fluxos.
struct Side {
    socket_t socket = INVALID_SOCKET;
    net::LineReader reader{kx::MAX_LINE};
    kx::Stream receiving{}, sending{};
};

// Faz o aperto de mão como SERVIDOR (com a vítima) ou como CLIENTE (com o
// servidor de verdade). Devolve false se o outro lado não o completou.
static bool handshake(Side& side, bool as_server) {
    unsigned char peer_key[kx::KEY_BYTES], rx[kx::SESSION_BYTES], tx[kx::SESSION_BYTES];
    unsigned char public_key[kx::KEY_BYTES], secret_key[kx::SECRET_BYTES];
    std::string line, why, mine;
    bool ok;
    if (as_server) {  // envia a chave do intruso, como se fosse o servidor
        mine = kx::to_base64(my_public_key, sizeof my_public_key) + "\n";
        ok = net::send_all(side.socket, mine.data(), mine.size()) &&
             net::receive_line(side.socket, side.reader, line, why) &&
             kx::read_key(line, peer_key) &&
             crypto_kx_server_session_keys(rx, tx, my_public_key, my_secret_key, peer_key) == 0;
        mine.clear();
    } else {  // recebe a chave do servidor e responde com uma chave nova
        crypto_kx_keypair(public_key, secret_key);
        ok = net::receive_line(side.socket, side.reader, line, why) &&
             kx::read_key(line, peer_key) &&
             crypto_kx_client_session_keys(rx, tx, public_key, secret_key, peer_key) == 0;
        sodium_memzero(secret_key, sizeof secret_key);
        mine = kx::to_base64(public_key, sizeof public_key) + "\n";
    }
    if (ok) {
        mine += kx::start_sending(side.sending, tx) + "\n";
        ok = net::send_all(side.socket, mine.data(), mine.size()) &&
             net::receive_line(side.socket, side.reader, line, why) &&
             kx::start_receiving(side.receiving, line, rx);
    }
    sodium_memzero(rx, sizeof rx);
    sodium_memzero(tx, sizeof tx);
    return ok;
}

// Repassa as mensagens de `from` para `to`, mostrando cada uma, até um dos
// lados sair; então fecha os dois.
static void relay(Side& from, Side& to, const std::string& direction) {
    std::string line, why, message;
    while (net::receive_line(from.socket, from.reader, line, why) &&
           kx::open(from.receiving, line, message)) {
        say("Intruso leu (" + direction + "): " + message);
        std::string again = kx::seal(to.sending, message) + "\n";
        if (!net::send_all(to.socket, again.data(), again.size())) break;
    }
    shutdown(from.socket, SHUT_RDWR);
    shutdown(to.socket, SHUT_RDWR);
}

// Uma vítima: conecta ao servidor de verdade, faz os dois apertos de mão e
// repassa nos dois sentidos (uma thread para cada).
static void handle_victim(socket_t victim_socket, std::string victim) {
    Side client, server;
    client.socket = victim_socket;
    std::string error;
    net::AddrList address = net::resolve(server_ip, server_port, false, error);
    if (address) {
        server.socket = socket(address->ai_family, address->ai_socktype, address->ai_protocol);
        if (server.socket != INVALID_SOCKET &&
            connect(server.socket, address->ai_addr,
                    static_cast<socklen_t>(address->ai_addrlen)) != 0) {
            error = net::last_error();
            net::close_socket(server.socket);
            server.socket = INVALID_SOCKET;
        }
    }
    if (server.socket == INVALID_SOCKET) {
        say("Intruso: não conectou ao servidor " + server_ip + ":" + server_port + ": " + error);
    } else if (!handshake(server, false)) {
        say("Intruso: o servidor não completou o aperto de mão");
    } else if (!handshake(client, true)) {
        say("Intruso: a vítima " + victim + " desistiu (conferiu a chave do servidor?)");
    } else {
        say("Intruso: no meio da conversa de " + victim + " com o servidor");
        std::thread back(relay, std::ref(server), std::ref(client), "servidor -> cliente");
        relay(client, server, "cliente -> servidor");
        back.join();
    }
    sodium_memzero(&client.sending, sizeof client.sending);
    sodium_memzero(&client.receiving, sizeof client.receiving);
    sodium_memzero(&server.sending, sizeof server.sending);
    sodium_memzero(&server.receiving, sizeof server.receiving);
    if (server.socket != INVALID_SOCKET) net::close_socket(server.socket);
    net::close_socket(victim_socket);
}

int main(int argc, char* argv[]) {
    net::Startup startup;
    std::vector<std::string> words;
    int code = args::parse(argc, argv, USAGE, HELP, words, 4);
    if (code >= 0) return code;
    words.resize(4);
    std::string ip = words[0].empty() ? "localhost" : words[0];
    std::string port = "8001";
    server_ip = words[2].empty() ? "localhost" : words[2];
    server_port = "8000";
    if ((!words[1].empty() && !net::parse_port(words[1], port)) ||
        (!words[3].empty() && !net::parse_port(words[3], server_port))) {
        std::cerr << USAGE << "\n";
        return 2;
    }
    if (sodium_init() < 0) {
        std::cerr << "Erro: não foi possível iniciar a libsodium\n";
        return 1;
    }
    crypto_kx_keypair(my_public_key, my_secret_key);

    std::string error;
    net::AddrList address = net::resolve(ip, port, true, error);
    if (!address) {
        std::cerr << "Erro: " << error << "\n";
        return 1;
    }
    socket_t listener = socket(address->ai_family, address->ai_socktype, address->ai_protocol);
    if (listener == INVALID_SOCKET) return net::fail("Erro ao criar o socket");
    net::set_reuse_address(listener);
    if (bind(listener, address->ai_addr, static_cast<socklen_t>(address->ai_addrlen)) != 0)
        return net::fail("Erro: não foi possível usar o endereço " + ip + ":" + port);
    if (listen(listener, SOMAXCONN) != 0) return net::fail("Erro no listen");
    std::cout << "Intruso em " << ip << ":" << port << ", repassando para " << server_ip << ":"
              << server_port << "\nChave pública do intruso: "
              << kx::to_base64(my_public_key, sizeof my_public_key) << std::endl;

    while (true) {
        std::cout << "Aguardando conexao..." << std::endl;
        sockaddr_storage peer{};
        socklen_t length = sizeof peer;
        socket_t victim = accept(listener, reinterpret_cast<sockaddr*>(&peer), &length);
        if (victim == INVALID_SOCKET) {  // sem girar em falso se o accept falhar
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
            continue;
        }
        const sockaddr* p = reinterpret_cast<const sockaddr*>(&peer);
        std::string name = net::address_of(p) + ":" + std::to_string(net::port_of(p));
        try {
            std::thread(handle_victim, victim, name).detach();
        } catch (const std::system_error&) {
            net::close_socket(victim);
        }
    }
}
