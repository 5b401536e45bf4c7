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
#include <condition_variable>
#include <iostream>
#include <mutex>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

static const char* const USAGE = "uso: server [IP [PORTA]]   (padrão: localhost 8000)";

// Chave de criptografia única, gerada em main(), e a linha que a leva.
static unsigned char UNIQUE_KEY[token::KEY_BYTES];
static std::string key_line;

// Diferença do original: prazos e limites. Um cliente tem 10 s para
// responder à chave (senão a thread dele ficaria esperando para sempre). Um
// cliente que não lê o que recebe é desconectado quando a fila dele passa de
// 1 MiB ou quando um send() para ele fica 5 s sem andar; o broadcast nunca
// espera por ele, e só um cliente lento ganha uma thread de envio (veja o
// Exemplo 1).
static const double HANDSHAKE_TIMEOUT = 10.0;
static const std::size_t MAX_OUTBOX = 1 << 20;  // 1 MiB
static const double SEND_TIMEOUT = 5.0;

// Um cliente sincronizado. Diferença do original: além do socket, a fila do
// que ainda não coube no kernel (Exemplo 1). O objeto vive na pilha de
// handle_client(), que espera a thread de envio, se existir, antes de terminar.
struct Client {
    socket_t socket;
    std::string address;              // "IP:PORTA", para as mensagens
    std::string outbox;               // bytes que ainda não couberam no kernel
    std::thread sender;               // a thread de envio (só se ficou lento)
    bool sending = false;             // a thread de envio está num send()
    bool closed = false;              // o cliente saiu ou foi desconectado
    std::condition_variable wake_up;  // acorda a thread de envio
};

// Lista para armazenar os clientes conectados (e sincronizados).
// Diferença do original: protegida por um mutex, como no Exemplo 1.
static std::vector<Client*> clients;
static std::mutex clients_mutex;

// Desconecta um cliente (com clients_mutex travado); `why` vazio = sem aviso.
static void drop(Client& client, const std::string& why) {
    if (client.closed) return;
    client.closed = true;
    client.outbox.clear();
    client.wake_up.notify_one();
    shutdown(client.socket, SHUT_RDWR);  // acorda o recv() da thread dele
    if (!why.empty())
        std::cout << ("Cliente lento desconectado: " + client.address + " (" + why + ")\n")
                  << std::flush;
}

static void send_outbox(Client& client);

// Cria a thread de envio do cliente, se ainda não existe (com clients_mutex
// travado); sem recursos para ela, o cliente lento é desconectado.
static bool start_sender(Client& client) {
    if (client.sender.joinable()) return true;
    try {
        client.sender = std::thread(send_outbox, std::ref(client));
        return true;
    } catch (const std::system_error&) {
        drop(client, "sem recursos para uma thread de envio");
        return false;
    }
}

// Função para enviar uma mensagem para todos os clientes conectados.
// Diferença do original: nunca espera por um cliente (veja o Exemplo 1).
static void broadcast(const std::string& line) {
    std::lock_guard<std::mutex> lock(clients_mutex);
    for (Client* client : clients) {
        if (client->closed) continue;
        std::size_t sent = 0;
        if (client->outbox.empty() && !client->sending) {
            long n = net::try_send(client->socket, line.data(), line.size());
            if (n < 0) {  // Diferença do original: só quem caiu sai
                drop(*client, "");
                continue;
            }
            sent = static_cast<std::size_t>(n);
        }
        if (sent == line.size()) continue;
        if (client->outbox.size() + (line.size() - sent) > MAX_OUTBOX) {
            drop(*client, "mais de 1 MiB esperando para ser enviado");
            continue;
        }
        client->outbox.append(line, sent, std::string::npos);
        if (!start_sender(*client)) continue;
        client->wake_up.notify_one();
    }
}

// A thread de envio de um cliente lento: esvazia a fila dele (Exemplo 1).
static void send_outbox(Client& client) {
    std::unique_lock<std::mutex> lock(clients_mutex);
    while (true) {
        client.wake_up.wait(lock, [&] { return client.closed || !client.outbox.empty(); });
        if (client.closed) return;
        std::string pending;
        pending.swap(client.outbox);
        client.sending = true;
        lock.unlock();  // send() fora do mutex: só este cliente espera
        bool sent = net::send_all(client.socket, pending.data(), pending.size());
        bool timed_out = !sent && net::timed_out();
        lock.lock();
        client.sending = false;
        if (!sent) {
            if (timed_out) drop(client, "não lê há " + std::to_string(int(SEND_TIMEOUT)) + " s");
            return;
        }
    }
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

    Client client;
    client.socket = client_socket;
    client.address = client_address;
    if (synchronized) {
        // Então ele pode ser adicionado à lista de clientes ativos.
        say("Cliente " + client_tuple + " sincronizado");
        net::set_timeout(client_socket, SO_RCVTIMEO, 0);  // 0 = sem prazo
        std::lock_guard<std::mutex> lock(clients_mutex);
        clients.push_back(&client);
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
    // Remove o cliente da lista de clientes conectados, espera a thread de
    // envio dele terminar e fecha o socket.
    {
        std::lock_guard<std::mutex> lock(clients_mutex);
        clients.erase(std::remove(clients.begin(), clients.end(), &client), clients.end());
        client.closed = true;
        client.wake_up.notify_one();
    }
    if (client.sender.joinable()) client.sender.join();
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
        std::string why = net::last_error() + net::bind_hint();  // em uso? IP de outra máquina?
        std::cerr << "Erro: não foi possível usar o endereço " << IP << ":" << PORT << ": "
                  << why << "\n";
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
        try {
            std::thread client_thread(handle_client, client_socket, ip, port);
            client_thread.detach();
        } catch (const std::system_error& e) {
            // Diferença do original: sem recursos para mais uma thread, só
            // esta conexão é recusada (o Python morreria com um traceback).
            std::cerr << "Erro: não foi possível criar uma thread para " << ip << ":" << port
                      << ": " << e.what() << " (conexão fechada)" << std::endl;
            net::close_socket(client_socket);
        }
    }
    // (o laço acima nunca termina; a chave morre com o processo)
}
