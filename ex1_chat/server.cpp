// Exemplo 1 - Chat de mensagens: o SERVIDOR (tradução de Servidor.py).
//
// Aceita conexões TCP e, para cada cliente, cria uma thread que recebe as
// mensagens dele e as repassa (broadcast) para todos os clientes conectados,
// inclusive quem enviou. Os bytes são repassados sem nenhuma alteração.
// (Diferença do original: um cliente que fica lento ganha uma segunda
// thread, que só envia o que ficou na fila dele; veja Client.)
//
// Uso: ./server [IP [PORTA]]        (padrão: localhost 8000)
#include "../common/net.h"

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

// Diferença do original: um cliente que não lê o que recebe (travado, ou de
// propósito) enche os buffers dele no kernel, e daí em diante o send() para
// ele esperaria para sempre, travando o chat de todos. Aqui o broadcast
// nunca espera por ninguém: o que não cabe no buffer do kernel vai para a
// fila (outbox) do cliente, que uma thread de envio só dele vai esvaziando.
// Essa thread só é criada se o cliente ficar lento: criar uma thread custa
// ~0,1 ms, e a maioria dos clientes nunca precisa dela.
// Um cliente lento é desconectado quando a fila passa de MAX_OUTBOX bytes
// (mil mensagens de 1 KiB: nenhum chat humano atrasa tanto) ou quando um
// send() para ele fica SEND_TIMEOUT segundos sem andar (tempo de sobra para
// uma rede lenta ou um terminal pausado; pouco para prender recursos).
// A regra vale também para quem só está atrasado: se alguém inundar o chat
// mais depressa do que um cliente lê, esse cliente fica 1 MiB para trás e é
// desconectado. Com memória limitada, a outra saída seria a do original:
// todos esperam pelo mais lento.
static const std::size_t MAX_OUTBOX = 1 << 20;  // 1 MiB
static const double SEND_TIMEOUT = 5.0;

// Um cliente conectado. Diferença do original: o Python guarda só o socket.
// Cada objeto vive na pilha de handle_client(), que só termina depois de
// tirá-lo da lista e de esperar a sua thread de envio, se ela existir.
struct Client {
    socket_t socket;
    std::string address;              // "IP:PORTA", para as mensagens
    std::string outbox;               // bytes que ainda não couberam no kernel
    std::thread sender;               // a thread de envio (só se ficou lento)
    bool sending = false;             // a thread de envio está num send()
    bool closed = false;              // o cliente saiu ou foi desconectado
    std::condition_variable wake_up;  // acorda a thread de envio
};

// Lista para armazenar os clientes conectados.
// Diferença do original: em Python a lista é usada por todas as threads ao
// mesmo tempo sem proteção. Aqui um mutex garante que só uma thread por vez
// lê ou altera a lista e os campos dos clientes.
static std::vector<Client*> clients;
static std::mutex clients_mutex;

// Desconecta um cliente (chamada com clients_mutex travado) e diz por quê,
// se `why` não for vazio. shutdown() acorda o recv() da thread dele, que tira
// o cliente da lista, fecha o socket e avisa "Cliente desconectado".
static void drop(Client& client, const std::string& why) {
    if (client.closed) return;
    client.closed = true;
    client.outbox.clear();
    client.wake_up.notify_one();
    shutdown(client.socket, SHUT_RDWR);
    if (!why.empty())
        std::cout << ("Cliente lento desconectado: " + client.address + " (" + why + ")\n")
                  << std::flush;
}

static void send_outbox(Client& client);

// Cria a thread de envio do cliente, se ainda não existe (com clients_mutex
// travado). Se o sistema não tiver recursos para mais uma thread, o cliente
// lento é desconectado, e o servidor segue.
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
static void broadcast(const char* message, std::size_t length) {
    std::lock_guard<std::mutex> lock(clients_mutex);
    for (Client* client : clients) {
        if (client->closed) continue;
        // Caso normal: a fila está vazia e a mensagem cabe no buffer do
        // kernel; try_send() a entrega na hora, sem esperar.
        std::size_t sent = 0;
        if (client->outbox.empty() && !client->sending) {
            long n = net::try_send(client->socket, message, length);
            if (n < 0) {
                // Diferença do original: o envio para este cliente falhou (ele
                // caiu). No Python a exceção interrompe o broadcast e os
                // clientes seguintes da lista não recebem a mensagem. Aqui
                // só este cliente sai; os outros seguem recebendo.
                drop(*client, "");
                continue;
            }
            sent = static_cast<std::size_t>(n);
        }
        if (sent == length) continue;
        // Sobrou algo (o buffer dele está cheio): vai para a fila, na ordem.
        if (client->outbox.size() + (length - sent) > MAX_OUTBOX) {
            drop(*client, "mais de 1 MiB esperando para ser enviado");
            continue;
        }
        client->outbox.append(message + sent, length - sent);
        if (!start_sender(*client)) continue;
        client->wake_up.notify_one();
    }
}

// Diferença do original: a thread de envio de um cliente lento. Dorme até
// haver algo na fila dele, envia tudo (aqui pode esperar: só este cliente
// espera) e volta a dormir. Termina quando o cliente sai.
static void send_outbox(Client& client) {
    std::unique_lock<std::mutex> lock(clients_mutex);
    while (true) {
        client.wake_up.wait(lock, [&] { return client.closed || !client.outbox.empty(); });
        if (client.closed) return;
        std::string pending;
        pending.swap(client.outbox);  // pega a fila toda de uma vez
        client.sending = true;
        lock.unlock();  // send() fora do mutex: os outros seguem recebendo
        // send_all() repete send() até enviar tudo; cada send() desiste
        // depois de SEND_TIMEOUT segundos sem espaço (SO_SNDTIMEO).
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

// Função para lidar com as conexões de clientes (roda em uma thread própria).
static void handle_client(socket_t client_socket, std::string client_address) {
    Client client;
    client.socket = client_socket;
    client.address = client_address;
    // Adiciona o cliente à lista de clientes conectados.
    {
        std::lock_guard<std::mutex> lock(clients_mutex);
        clients.push_back(&client);
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
    // depois de tirá-lo da lista e de esperar a thread de envio terminar; e a
    // saída do cliente é avisada.
    {
        std::lock_guard<std::mutex> lock(clients_mutex);
        clients.erase(std::remove(clients.begin(), clients.end(), &client), clients.end());
        client.closed = true;
        client.wake_up.notify_one();
    }
    if (client.sender.joinable()) client.sender.join();
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
        std::string why = net::last_error() + net::bind_hint();  // em uso? IP de outra máquina?
        std::cerr << "Erro: não foi possível usar o endereço " << IP << ":" << PORT << ": "
                  << why << "\n";
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
        // "conexao", sem acento: é o que o Servidor.py imprime de fato (a
        // listagem do guia mostra "conexão"; veja o README).
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

        // Prazo de cada send() bloqueante para este cliente (a thread de
        // envio dele): veja SEND_TIMEOUT.
        net::set_timeout(client_socket, SO_SNDTIMEO, SEND_TIMEOUT);

        // Inicia uma thread para lidar com a conexão do cliente: cada cliente
        // é atendido em paralelo. detach(): a thread termina sozinha quando o
        // cliente sai, sem precisar de join(); nenhuma fica para trás.
        try {
            std::thread client_thread(handle_client, client_socket, client_text);
            client_thread.detach();
        } catch (const std::system_error& e) {
            // Diferença do original: se o sistema não deixa criar mais uma
            // thread, o Python morre com um traceback. Aqui só esta conexão
            // é recusada e o servidor segue atendendo os outros.
            std::cerr << "Erro: não foi possível criar uma thread para " << client_text << ": "
                      << e.what() << " (conexão fechada)" << std::endl;
            net::close_socket(client_socket);
        }
    }
}
