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
// O par de chaves do intruso fica em intruso.chave, ao lado do programa.
//
// Uso: ./intruso [IP [PORTA [IP_SERVIDOR [PORTA_SERVIDOR]]]] [--limite-por-ip N]
//      (padrão: escuta em localhost 8001 e repassa para localhost 8000)
#include "../common/admission.h"
#include "../common/args.h"
#include "../common/line_reader.h"
#include "../common/net.h"
#include "../common/safe_text.h"
#include "kx.h"
#include "server_key.h"  // o arquivo de chave (aqui, intruso.chave)

#include <iostream>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

static const char* const USAGE =
    "uso: intruso [IP [PORTA [IP_SERVIDOR [PORTA_SERVIDOR]]]] [--limite-por-ip N]   (padrão: "
    "localhost 8001 localhost 8000)";
static const char* const HELP =
    "O intruso do Exemplo 4 (man-in-the-middle): escuta em IP:PORTA, repassa cada\n"
    "conexão para o servidor e mostra as mensagens decifradas. Só funciona com um\n"
    "cliente que não confere a chave do servidor. O par de chaves do intruso fica em\n"
    "intruso.chave, ao lado do programa (criado na primeira execução).\n";

// O par de chaves do intruso, guardado em intruso.chave ao lado do programa (como o
// servidor.chave do servidor): a mesma chave a cada execução, para a demonstração (b)
// poder ser repetida sem apagar nada.
static server_key::KeyPair my_keys;
static std::string server_ip, server_port;
static admission::Gate gate;  // quantas conexões cabem, e quem cede o lugar (common/)

static void say(const std::string& text) { std::cout << (text + "\n") << std::flush; }

// Um lado de uma conexão: o socket, as linhas que chegam e os dois fluxos.
struct Side {
    socket_t socket = INVALID_SOCKET;
    net::LineReader reader{kx::MAX_LINE};
    kx::Stream receiving{}, sending{};
};

// Faz o aperto de mão inteiro (kx.h) como SERVIDOR (com a vítima, com as chaves
// do intruso) ou como CLIENTE (com o servidor de verdade). Devolve false se o
// outro lado não o completou em 10 s.
static bool handshake(Side& side, bool as_server) {
    unsigned char peer_key[kx::KEY_BYTES], peer_connection_key[kx::KEY_BYTES];
    unsigned char rx[kx::SESSION_BYTES] = {}, tx[kx::SESSION_BYTES] = {};
    const net::Deadline deadline(10.0);
    kx::Ephemeral mine;  // o par desta conexão
    std::string line, why, out, ok;
    auto receive = [&]() {
        return net::receive_line(side.socket, side.reader, line, why, &deadline) ==
               net::Received::Line;
    };
    auto send = [&]() { return net::send_all(side.socket, out.data(), out.size()); };
    bool good;
    if (as_server) {  // envia S e Es do intruso, como se fosse o servidor; recebe Ec
        out = my_keys.public_text + "\n" + mine.line();
        good = send() && receive() && kx::read_key(line, peer_key) &&
               kx::server_session_keys(rx, tx, my_keys.public_key, my_keys.secret_key, mine,
                                       peer_key) &&
               receive() && kx::start_receiving(side.receiving, line, rx);
        // O cabeçalho e, só então, o OK.
        if (good) out = kx::start_sending(side.sending, tx) + "\n";
        if (good) out += kx::seal(side.sending, kx::CONFIRMATION) + "\n";
        good = good && send() && receive() && kx::open(side.receiving, line, ok) &&
               ok == kx::CONFIRMATION;
    } else {  // recebe S e Es do servidor e responde com um Ec novo, como um cliente
        good = receive() && kx::read_key(line, peer_key) && receive() &&
               kx::read_key(line, peer_connection_key) &&
               kx::client_session_keys(rx, tx, mine, peer_key, peer_connection_key);
        if (good) out = mine.line() + kx::start_sending(side.sending, tx) + "\n";
        good = good && send() && receive() && kx::start_receiving(side.receiving, line, rx) &&
               receive() && kx::open(side.receiving, line, ok) && ok == kx::CONFIRMATION;
        if (good) out = kx::seal(side.sending, kx::CONFIRMATION) + "\n";
        good = good && send();
    }
    net::set_timeout(side.socket, SO_RCVTIMEO, 0);
    sodium_memzero(rx, sizeof rx);
    sodium_memzero(tx, sizeof tx);
    return good;
}

// Repassa as mensagens de `from` para `to`, mostrando cada uma, até um dos
// lados sair; então fecha os dois.
static void relay(Side& from, Side& to, const std::string& direction) {
    std::string line, why, message;
    while (net::receive_line(from.socket, from.reader, line, why) == net::Received::Line &&
           kx::open(from.receiving, line, message)) {
        say("Intruso leu (" + direction + "): " + safe_text::printable(message));
        std::string again = kx::seal(to.sending, message) + "\n";
        if (!net::send_all(to.socket, again.data(), again.size())) break;
    }
    shutdown(from.socket, SHUT_RDWR);
    shutdown(to.socket, SHUT_RDWR);
}

// Uma vítima: conecta ao servidor de verdade, faz os dois apertos de mão e
// repassa nos dois sentidos (uma thread para cada).
static void handle_victim(socket_t victim_socket, std::string victim, admission::Ticket ticket) {
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
        say("Intruso: não conectou ao servidor " + net::host_port(server_ip, server_port) + ": " +
            error);
    } else if (!handshake(server, false)) {
        say("Intruso: o servidor não completou o aperto de mão");
    } else if (!handshake(client, true)) {
        say("Intruso: a vítima " + victim + " desistiu (conferiu a chave do servidor?)");
    } else {
        ticket.settle();  // o aperto de mão acabou: cheio, ela sai depois das que não o fizeram
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
    ticket = admission::Ticket();  // o lugar volta ANTES do close (admission.h)
    net::close_socket(victim_socket);
}

int main(int argc, char* argv[]) {
    net::Startup startup;
    std::vector<std::string> words;
    std::string per_ip = "nenhum";
    int code = args::parse(argc, argv, USAGE, HELP, words, 4, {{"--limite-por-ip", &per_ip}});
    std::size_t limit = 0;  // 0: nenhum limite por IP enquanto houver lugar
    if (code < 0 && !admission::read_group_limit(per_ip, limit, USAGE)) code = 2;
    if (code >= 0) return code;
    words.resize(4);
    std::string ip = words[0].empty() ? "localhost" : words[0];
    std::string port = "8001";
    server_ip = words[2].empty() ? "localhost" : words[2];
    server_port = "8000";
    if (!words[1].empty() && !args::parse_port(words[1], port))
        return args::usage_error(USAGE, args::bad_port(words[1]));
    if (!words[3].empty() && !args::parse_port(words[3], server_port))
        return args::usage_error(USAGE, args::bad_port(words[3]));

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
        return net::fail("Erro: não foi possível usar o endereço " + net::host_port(ip, port));
    if (listen(listener, SOMAXCONN) != 0) return net::fail("Erro no listen");
    if (!server_key::load(argv[0], my_keys, "intruso.chave")) return 1;
    std::cout << "Intruso em " << net::host_port(ip, port) << ", repassando para "
              << net::host_port(server_ip, server_port)
              << "\nChave pública do intruso: " << my_keys.public_text << std::endl;
    std::cerr << gate.open(limit, 2) << std::endl;  // quantas cabem (a vítima e o servidor)

    while (true) {
        std::cout << "Aguardando conexao..." << std::endl;
        sockaddr_storage peer{};
        socklen_t length = sizeof peer;
        socket_t victim = accept(listener, reinterpret_cast<sockaddr*>(&peer), &length);
        if (victim == INVALID_SOCKET) {
            report_accept_failure();  // sem girar em falso se o accept falhar
            continue;
        }
        const sockaddr* p = reinterpret_cast<const sockaddr*>(&peer);
        admission::Ticket ticket = gate.admit(victim, p, false);  // falta o aperto de mão
        if (!ticket) continue;  // recusada: já fechada, e o intruso disse por quê
        std::string name = net::endpoint_of(p);
        try {
            std::thread(handle_victim, victim, name, std::move(ticket)).detach();
        } catch (const std::system_error&) {
            ticket = admission::Ticket();
            net::close_socket(victim);
        }
    }
}
