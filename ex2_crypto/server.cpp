// Exemplo 2 - Criptografia de dados: o SERVIDOR (tradução de Servidor_seguro.py). O chat
// do Exemplo 1, mas cada cliente recebe uma chave e só entra depois de devolver "OK" cifrado
// com ela; daí em diante cada mensagem é um token. ATENÇÃO (o guia aponta): a chave viaja SEM
// proteção. Leia ao lado do Python: mesma ordem; cada diferença explicada no README.
#include "../common/args.h"
#include "../common/line_reader.h"
#include "../common/net.h"
#include "../common/outbox.h"
#include "../common/admission.h"
#include "token.h"  // biblioteca p/ criptografia (libsodium)

#include <algorithm>
#include <iostream>
#include <mutex>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

static const char* const USAGE =
    "uso: server [IP [PORTA]] [--limite-por-ip N] [--envio-por-aluno KIB]   (padrão: localhost 8000, sem limite)";
static const char* const HELP = "Servidor do chat cifrado do Exemplo 2: envia a chave, confere "
    "o OK cifrado e repassa as mensagens.\n  --limite-por-ip N  no máximo N conexões por IP (padrão: nenhum)\n"
    "  --envio-por-aluno KIB  KiB/s que cada aluno repassa (padrão: 16; 0: sem limite)\n";
static admission::Gate gate;  // quantas conexões cabem, e quem cede o lugar (common/)
static void accept_clients(socket_t server_socket);  // o laço final do Python (no fim do arquivo)

int main(int argc, char* argv[]) {
    net::Startup startup;  // Winsock no Windows; ignora SIGPIPE no Linux/macOS
    // Diferença do original: IP e porta podem vir da linha de comando. Sem eles, localhost 8000.
    std::string IP = "localhost", PORT = "8000", per_ip = "nenhum", rate = "16";  // --limite-por-ip, --envio-por-aluno
    int code = args::parse_address(argc, argv, USAGE, HELP, IP, PORT,
                                   {{"--limite-por-ip", &per_ip}, {"--envio-por-aluno", &rate}});
    std::size_t limit = 0, kib = 16;  // 0: nenhum limite por IP enquanto houver lugar
    if (code < 0 && !admission::read_group_limit(per_ip, limit, USAGE)) code = 2;
    if (code < 0 && !admission::read_send_rate(rate, kib, USAGE)) code = 2;
    if (code >= 0) return code;

    // Cria um socket TCP/IP (IPv4; IPv6 se o IP tiver ':', como "::1")
    socket_t server_socket = socket(net::family_of(IP), SOCK_STREAM, 0);
    if (server_socket == INVALID_SOCKET) return net::fail("Erro ao criar o socket");
    // Diferença do original: SO_REUSEADDR, para reiniciar logo na mesma porta. Sem TIME_WAIT.
    net::set_reuse_address(server_socket);

    // Define o endereço e a porta que o socket vai se vincular
    std::string error;
    // O endereço dos sockets em Python é realizado via tupla (IP, PORT); em C++,
    // getaddrinfo() o monta a partir de IP e PORT ("localhost" vira 127.0.0.1).
    net::AddrList address = net::resolve(IP, PORT, true, error, net::family_of(IP));
    if (!address) {
        std::cerr << "Erro: " << error << "\n";
        return 1;
    }

    std::cout << "Iniciando servidor em " << net::host_port(IP, PORT) << std::endl;
    if (bind(server_socket, address->ai_addr, static_cast<socklen_t>(address->ai_addrlen)) != 0) {
        std::string why = net::last_error() + net::bind_hint(address->ai_addr);  // e o porquê
        std::cerr << "Erro: não foi possível usar o endereço " << net::host_port(IP, PORT) << ": "
                  << why << "\n";
        return 1;
    }
    // Escuta as conexões (o guia: "definindo o número de clientes que podem se conectar").
    // Diferença do original: listen(SOMAXCONN) em vez de listen(5). O 5 é a fila do accept().
    if (listen(server_socket, SOMAXCONN) != 0) return net::fail("Erro no listen");
    gate.set_send_rate(kib);  // quanto cada aluno repassa por segundo (0: sem limite)
    std::cerr << gate.open(limit, 1) << std::endl;  // quantas cabem (1 descritor cada)
    accept_clients(server_socket);
}

// Lista para armazenar os clientes conectados (cada um é a fila de envio dele).
// Diferença do original: Lista protegida por um mutex. Uma thread por vez a usa.
static std::vector<Outbox*> clients;
static std::mutex clients_mutex;

// Gera uma chave de criptografia única: 44 caracteres base64url, como os do
// Fernet. Como as linhas do Python fora de funções, roda uma vez só (antes de main).
static const std::string UNIQUE_KEY = token::generate_key();

// Gera o encriptador (o secretbox da libsodium faz o papel do Fernet: token.h)
static const token::Encryptor f(UNIQUE_KEY);

// Mostra uma linha de uma vez só, para não se misturar com as de outras threads.
static void say(const std::string& text) { std::cout << (text + "\n") << std::flush; }

// Função para enviar uma mensagem para todos os clientes conectados.
// Diferença do original: O broadcast nunca espera por um cliente lento.
// client->send() entrega o que cabe no kernel e põe o resto na fila daquele
// cliente; quem passa de 1 MiB na fila ou de 5 s sem ler sai (common/outbox.h).
static void broadcast(const std::string& message) {
    std::lock_guard<std::mutex> lock(clients_mutex);
    for (Outbox* client : clients) client->send(message.data(), message.size());
}

// Tira um cliente da lista, como clients.remove() do Python (com o mutex).
static void remove_client(Outbox* client) {
    std::lock_guard<std::mutex> lock(clients_mutex);
    clients.erase(std::remove(clients.begin(), clients.end(), client), clients.end());
}

// Função para lidar com as conexões de clientes (roda numa thread para cada um)
static void handle_client(socket_t client_socket, std::string ip, unsigned port,
                          admission::Ticket ticket) {  // o lugar dele no servidor
    const std::string address = net::host_port(ip, port);
    const std::string client_address = "('" + ip + "', " + std::to_string(port) + ")";  // tupla
    const net::Deadline deadline(10.0);  // para o handshake inteiro, contado desde o accept
    {  // `client` (a fila de envio dele) só existe neste bloco: veja o fim da função
        Outbox client(client_socket, address);
        net::LineReader reader;  // junta o que o TCP entregar e separa as linhas
        std::string recv_data, message, why;

        // Envia a chave de criptografia para o cliente (em claro: a fraqueza que o guia aponta)
        // Diferença do original: Cada mensagem é uma linha. Chave e tokens terminam em '\n'
        // (a chave ocupa 45 bytes): o TCP não separa as mensagens, um recv() traz 2 ou ½.
        const std::string key_line = UNIQUE_KEY + "\n";
        const bool sent = net::send_all(client_socket, key_line.data(), key_line.size());
        if (!sent) why = "erro ao enviar a chave: " + net::last_error();

        // Aguarda a resposta do cliente
        // Diferença do original: Prazo de 10 s para o handshake inteiro. Sem ele, quem nunca
        // responde, ou manda um byte a cada poucos segundos, prenderia esta thread.
        bool answered = false;
        if (sent)
            answered = net::receive_line(client_socket, reader, recv_data, why, &deadline) ==
                       net::Received::Line;
        net::set_timeout(client_socket, SO_RCVTIMEO, 0);  // daqui em diante, sem prazo
        // Verifica o conteúdo retornado
        const bool decrypted = answered && f.decrypt(recv_data, message);
        const bool synchronized = decrypted && message == "OK";
        if (answered && !decrypted) why = "a resposta não decifra com a chave (token inválido)";
        if (decrypted && !synchronized) why = "a resposta decifrada não é OK";
        if (synchronized) {
            // Se o cliente retornar a mensagem "OK" com a criptografia certa,
            // então eles possuem a mesma chave e ele pode ser adicionado à
            // lista de clientes ativos
            say("Cliente " + client_address + " sincronizado");
            // Handshake feito: com o servidor cheio, esta conexão
            // cede o lugar depois das que ainda não o fizeram (common/admission.h).
            ticket.settle();
            std::lock_guard<std::mutex> lock(clients_mutex);
            clients.push_back(&client);
        } else {
            // Caso contrário, encerra a comunicação com o cliente.
            // Diferença do original: Token inválido não derruba a thread. No Python, a
            // exceção de f.decrypt() a mata; aqui o servidor diz o motivo e fecha a conexão.
            say("Cliente " + client_address + " não sincronizado: " + why);
        }

        // Diferença do original: O laço de mensagens fica dentro de handle_client. No guia, fora.
        while (synchronized) {
            // Recebe a mensagem do cliente: uma linha inteira, um token
            const net::Received received = net::receive_line(client_socket, reader, recv_data, why);
            // Diferença do original: Cada token é conferido antes do repasse. Inválido: sai.
            const bool valid = received == net::Received::Line && f.decrypt(recv_data, message);
            if (received == net::Received::Line && !valid) why = "enviou uma mensagem inválida";
            if (valid) {
                // Envia a mensagem para todos os clientes conectados (a linha, sem alteração)
                broadcast(recv_data + "\n");
                // Diferença do original: Cada aluno repassa até 16 KiB/s. Passou, espera antes do recv().
                if (ticket.pace(recv_data.size() + 1)) continue;
                remove_client(&client);  // esperando, perdeu o lugar para outra conexão: sai
                break;
            } else if (received == net::Received::Closed) {
                // Remove o cliente da lista de clientes conectados
                remove_client(&client);
                break;
            } else {
                // Remove o cliente da lista de clientes conectados caso
                // ocorra algum erro (e o servidor diz qual)
                remove_client(&client);
                say("Cliente " + address + " " + why);
                break;
            }
        }
    }  // aqui `client` some: espera a thread de envio dele, se ele ganhou uma
    // Diferença do original: O socket é fechado uma vez, e a saída avisada. Só depois
    // da thread de envio dele, que senão poderia enviar para um socket já fechado.
    ticket = admission::Ticket();  // o lugar volta antes do close() e do aviso (admission.h)
    net::close_socket(client_socket);
    say("Cliente desconectado: " + address);
}

static void accept_clients(socket_t server_socket) {
    while (true) {
        std::cout << "Aguardando conexao..." << std::endl;
        // Aceita a conexão do cliente
        sockaddr_storage client_address{};  // cabe IPv4 e IPv6
        socklen_t length = sizeof client_address;
        socket_t client_socket =
            accept(server_socket, reinterpret_cast<sockaddr*>(&client_address), &length);
        if (client_socket == INVALID_SOCKET) {
            report_accept_failure();  // EINTR: de novo; sem fds: 1 linha/s com a contagem
            continue;
        }
        const sockaddr* peer = reinterpret_cast<const sockaddr*>(&client_address);
        const std::string ip = net::address_of(peer);
        // Diferença do original: Lugares divididos por igual. Cheio, sai uma do grupo com mais.
        admission::Ticket ticket = gate.admit(client_socket, peer, false);  // falta o handshake; e keepalive
        if (!ticket) continue;  // recusada: já fechada, e o servidor disse por quê
        const unsigned port = net::port_of(peer);
        std::cout << "Cliente conectado: " << net::host_port(ip, port) << std::endl;

        // Inicia uma thread para lidar com a conexão do cliente
        // Roda cada solicitação paralelamente: detach() deixa a thread seguir sozinha
        try {
            std::thread(handle_client, client_socket, ip, port, std::move(ticket)).detach();
        } catch (const std::system_error& e) {
            // Diferença do original: Sem recursos para uma thread, só esta conexão é recusada.
            std::cerr << "Erro: não foi possível criar uma thread para " << net::host_port(ip, port)
                      << ": " << e.what() << " (conexão fechada)" << std::endl;
            net::close_socket(client_socket);
        }
    }
}
