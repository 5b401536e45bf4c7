// Exemplo 4 - Troca de chaves: o SERVIDOR (o do Exemplo 2, feito do jeito certo).
//
// O chat do Exemplo 2, mas a chave não viaja: o servidor envia só a sua chave PÚBLICA,
// e com a do cliente cada lado calcula as mesmas chaves de sessão (crypto_kx). Cada
// mensagem vai num fluxo cifrado (crypto_secretstream): repetida, fora de ordem ou
// faltando, é detectada. O servidor decifra e cifra de novo para cada um: ele lê tudo.
// Leia ao lado de ../ex2_crypto/server.cpp: só muda o que está marcado com
// "Diferença do Exemplo 2" (lista no README).
#include "../common/args.h"
#include "../common/line_reader.h"
#include "../common/net.h"
#include "../common/outbox.h"
#include "kx.h"          // biblioteca p/ criptografia (libsodium): chaves, fluxos, linhas
#include "server_key.h"  // o par de chaves do servidor, guardado em arquivo

#include <algorithm>
#include <chrono>
#include <iostream>
#include <mutex>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

static const char* const USAGE = "uso: server [IP [PORTA]]   (padrão: localhost 8000)";
static const char* const HELP =
    "Servidor do chat do Exemplo 4: troca de chaves (crypto_kx) com cada cliente e\n"
    "mensagens em fluxos cifrados (crypto_secretstream). O par de chaves do servidor\n"
    "fica em servidor.chave, ao lado do programa (criado na primeira execução).\n";

static void accept_clients(socket_t server_socket);  // o laço final do Python (no fim do arquivo)

// Diferença do Exemplo 2: No lugar da chave única, o par de chaves do servidor. A pública
// vai em claro para cada cliente; a secreta nunca sai do arquivo nem da memória.
static server_key::KeyPair server_keys;

int main(int argc, char* argv[]) {
    net::Startup startup;  // Winsock no Windows; ignora SIGPIPE no Linux/macOS
    // Diferença do original: IP e porta podem vir da linha de comando. Sem eles, localhost 8000.
    std::string IP = "localhost", PORT = "8000";
    int code = args::parse_address(argc, argv, USAGE, HELP, IP, PORT);
    if (code >= 0) return code;

    // Cria um socket TCP/IP (IPv4; IPv6 se o IP tiver ':', como "::1")
    socket_t server_socket = socket(net::family_of(IP), SOCK_STREAM, 0);
    if (server_socket == INVALID_SOCKET) return net::fail("Erro ao criar o socket");
    // Diferença do original: SO_REUSEADDR, para reiniciar logo na mesma porta. Sem ele,
    // o bind() falha por ~60 s, enquanto as conexões antigas estão em TIME_WAIT.
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

    std::cout << "Iniciando servidor em " << IP << ":" << PORT << std::endl;
    if (bind(server_socket, address->ai_addr, static_cast<socklen_t>(address->ai_addrlen)) != 0) {
        std::string why = net::last_error() + net::bind_hint();  // em uso? IP de outra máquina?
        std::cerr << "Erro: não foi possível usar o endereço " << IP << ":" << PORT << ": "
                  << why << "\n";
        return 1;
    }
    // Escuta as conexões.
    // Diferença do original: listen(SOMAXCONN) em vez de listen(5). O 5 não é o número de
    // clientes que podem se conectar, e sim o da fila de conexões que esperam o accept().
    if (listen(server_socket, SOMAXCONN) != 0) return net::fail("Erro no listen");
    // Diferença do Exemplo 2: O par de chaves vem de um arquivo. É o servidor.chave, ao
    // lado do programa (criado na primeira execução); só a chave pública é mostrada.
    if (!server_key::load(argv[0], server_keys)) return 1;
    std::cout << "Chave pública do servidor: " << server_keys.public_text << std::endl;
    accept_clients(server_socket);
}

// Diferença do Exemplo 2: Cada cliente tem as suas chaves. Além da fila de envio, os dois
// fluxos cifrados da conexão dele, apagados quando ele sai.
struct Client : Outbox {
    using Outbox::Outbox;
    kx::Stream sending{}, receiving{};
    ~Client() {
        sodium_memzero(&sending, sizeof sending);
        sodium_memzero(&receiving, sizeof receiving);
    }
};

// Lista para armazenar os clientes conectados (cada um é a fila de envio dele).
// Diferença do original: Lista protegida por um mutex. Uma thread por vez a usa.
static std::vector<Client*> clients;
static std::mutex clients_mutex;

// Mostra uma linha de uma vez só, para não se misturar com as de outras threads.
static void say(const std::string& text) { std::cout << (text + "\n") << std::flush; }

// Função para enviar uma mensagem para todos os clientes conectados.
// Diferença do original: O broadcast nunca espera por um cliente lento.
// client->send() entrega o que cabe no kernel e põe o resto na fila daquele
// cliente; quem passa de 1 MiB na fila ou de 5 s sem ler sai (common/outbox.h).
// Diferença do Exemplo 2: O broadcast cifra o texto de novo para cada cliente. Cada um
// no fluxo dele; com o mutex travado, a ordem no fluxo é a mesma da fila.
static void broadcast(const std::string& message) {
    std::lock_guard<std::mutex> lock(clients_mutex);
    for (Client* client : clients) {
        const std::string line = kx::seal(client->sending, message) + "\n";
        client->send(line.data(), line.size());
    }
}

// Tira um cliente da lista, como clients.remove() do Python (com o mutex).
static void remove_client(Client* client) {
    std::lock_guard<std::mutex> lock(clients_mutex);
    clients.erase(std::remove(clients.begin(), clients.end(), client), clients.end());
}

// Diferença do Exemplo 2: O aperto de mão é uma troca de chaves (crypto_kx). Com a chave
// pública do cliente (`client_key`) e o par do servidor, calcula as chaves de sessão: rx
// para o que vem dele, tx para o que vai para ele. Abre o fluxo de envio (tx), envia o
// cabeçalho dele, e abre o de recebimento com o cabeçalho do cliente (rx). Devolve o
// motivo da falha, ou "" se deu certo. As chaves de sessão são apagadas no fim.
static std::string exchange_keys(socket_t client_socket, net::LineReader& reader,
                                 const std::string& client_key, Client& client) {
    unsigned char client_public_key[kx::KEY_BYTES], rx[kx::SESSION_BYTES], tx[kx::SESSION_BYTES];
    std::string why, header;
    if (!kx::read_key(client_key, client_public_key) ||
        crypto_kx_server_session_keys(rx, tx, server_keys.public_key, server_keys.secret_key,
                                      client_public_key) != 0)
        return "a chave pública recebida é inválida";
    header = kx::start_sending(client.sending, tx) + "\n";
    if (!net::send_all(client_socket, header.data(), header.size()))
        why = "erro ao enviar o cabeçalho: " + net::last_error();
    else if (net::receive_line(client_socket, reader, header, why) &&
             !kx::start_receiving(client.receiving, header, rx))
        why = "o cabeçalho recebido é inválido";
    sodium_memzero(rx, sizeof rx);
    sodium_memzero(tx, sizeof tx);
    return why;
}

// Função para lidar com as conexões de clientes (roda numa thread para cada um)
static void handle_client(socket_t client_socket, std::string ip, unsigned port) {
    const std::string address = ip + ":" + std::to_string(port);
    const std::string client_address = "('" + ip + "', " + std::to_string(port) + ")";  // tupla
    {  // `client` (a fila de envio dele) só existe neste bloco: veja o fim da função
        Client client(client_socket, address);
        net::LineReader reader;  // junta o que o TCP entregar e separa as linhas
        std::string recv_data, message, why;

        // Envia a chave PÚBLICA do servidor para o cliente (pública: pode ir em claro)
        // Diferença do original: Cada mensagem é uma linha. Chave e tokens terminam em '\n'
        // (a chave ocupa 45 bytes): o TCP não separa as mensagens, um recv() traz 2 ou ½.
        const std::string key_line = server_keys.public_text + "\n";
        if (!net::send_all(client_socket, key_line.data(), key_line.size()))
            why = "erro ao enviar a chave: " + net::last_error();

        // Aguarda a resposta do cliente
        // Diferença do original: Prazo de 10 s para o handshake inteiro. Sem ele, um
        // cliente que nunca responde prenderia esta thread para sempre.
        net::set_timeout(client_socket, SO_RCVTIMEO, 10.0);
        if (why.empty()) net::receive_line(client_socket, reader, recv_data, why);
        // Diferença do Exemplo 2: A resposta é a chave pública do cliente. Não é mais um
        // "OK" cifrado; o aperto de mão segue com a troca de chaves e dos cabeçalhos.
        if (why.empty()) why = exchange_keys(client_socket, reader, recv_data, client);
        net::set_timeout(client_socket, SO_RCVTIMEO, 0);  // daqui em diante, sem prazo
        const bool synchronized = why.empty();
        if (synchronized) {
            // Se o cliente completou a troca de chaves,
            say("Cliente " + client_address + " sincronizado");  // então possuem as mesmas chaves
            // e ele pode ser adicionado à lista de clientes ativos
            std::lock_guard<std::mutex> lock(clients_mutex);
            clients.push_back(&client);
        } else {
            // Caso contrário, encerra a comunicação com o cliente.
            // Diferença do original: Token inválido não derruba a thread. No Python, a
            // exceção de f.decrypt() a mata; aqui o servidor diz o motivo e fecha a conexão.
            say("Cliente " + client_address + " não sincronizado: " + why);
        }

        // Diferença do original: O laço de mensagens fica dentro de handle_client.
        // Na listagem do guia ele perdeu a indentação e ficou fora da função.
        while (synchronized) {
            // Recebe a mensagem do cliente: uma linha inteira, um token
            bool received = net::receive_line(client_socket, reader, recv_data, why);
            // Diferença do original: Cada token é conferido antes do repasse. Um
            // token que não decifra desconecta quem o enviou; os outros nem o recebem.
            // Diferença do Exemplo 2: A mensagem é decifrada no fluxo de quem a enviou. Uma
            // linha alterada, repetida, fora de ordem ou depois de uma que faltou não abre.
            if (received && !kx::open(client.receiving, recv_data, message)) {
                received = false;
                why = "enviou uma mensagem inválida (alterada, repetida ou fora de ordem)";
            }
            if (received) {
                // Envia a mensagem para todos os clientes conectados (cifrada para cada um)
                broadcast(message);
                sodium_memzero(&message[0], message.size());
            } else if (why == "fechou a conexão") {
                // Remove o cliente da lista de clientes conectados
                remove_client(&client);
                break;
            } else {
                // Remove o cliente da lista de clientes conectados caso
                remove_client(&client);  // ocorra algum erro; e o servidor diz qual:
                say("Cliente " + address + " " + why);
                break;
            }
        }
    }  // aqui `client` some: espera a thread de envio dele, se ele ganhou uma
    // Diferença do original: O socket é fechado uma vez, e a saída avisada. Só depois
    // da thread de envio dele, que senão poderia enviar para um socket já fechado.
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
            if (net::interrupted()) continue;
            std::cerr << "Erro no accept: " << net::last_error() << std::endl;  // ex.: sem fds
            std::this_thread::sleep_for(std::chrono::milliseconds(100));  // não gira a 100% da CPU
            continue;
        }
        const sockaddr* peer = reinterpret_cast<const sockaddr*>(&client_address);
        const std::string ip = net::address_of(peer);
        const unsigned port = net::port_of(peer);
        std::cout << "Cliente conectado: " << ip << ":" << port << std::endl;

        // Inicia uma thread para lidar com a conexão do cliente
        try {
            // Roda cada solicitação paralelamente: detach() deixa a thread seguir sozinha
            std::thread(handle_client, client_socket, ip, port).detach();
        } catch (const std::system_error& e) {
            // Diferença do original: Sem recursos para uma thread, só esta conexão é recusada.
            std::cerr << "Erro: não foi possível criar uma thread para " << ip << ":" << port
                      << ": " << e.what() << " (conexão fechada)" << std::endl;
            net::close_socket(client_socket);
        }
    }
}
