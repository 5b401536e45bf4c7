// Exemplo 1 - Chat de mensagens: o CLIENTE (tradução de Cliente.py).
//
// Conecta ao servidor, inicia uma thread que mostra tudo o que chega e, na
// thread principal, lê linhas do teclado e as envia ao servidor.
//
// Uso: ./client [IP [PORTA]]        (padrão: localhost 8000)
#include "../common/net.h"

#include <cstdlib>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

static const char* const USAGE = "uso: client [IP [PORTA]]   (padrão: localhost 8000)";

// Função que fica aguardando o recebimento de novas mensagens.
static void listen_server(socket_t client_socket) {
    char data[1024];
    while (true) {
        auto received = recv(client_socket, data, sizeof data, 0);
        if (received > 0) {
            // Mostra os bytes como chegaram, seguidos de "\n>" (como o
            // print(data.decode(), end='\n>') do original).
            // Diferença do original: os bytes não são decodificados aqui; o
            // terminal os mostra como UTF-8. Em Python, bytes inválidos ou um
            // "á" cortado ao meio entre dois recv() geram UnicodeDecodeError.
            std::cout.write(data, received);
            std::cout << "\n>" << std::flush;
            continue;
        }
        if (received < 0 && net::interrupted()) continue;
        // Diferença do original: recv() devolve 0 quando o servidor fecha a
        // conexão. O Python não testa isso e fica imprimindo ">" sem parar.
        // Aqui o cliente avisa e termina. _Exit encerra o programa inteiro,
        // pois a thread principal pode estar parada esperando o teclado, e
        // não há forma portátil de interromper essa leitura.
        if (received == 0)
            std::cout << "\nConexão encerrada pelo servidor" << std::endl;
        else
            std::cout << "\nErro ao receber do servidor: " << net::last_error() << std::endl;
        std::_Exit(received == 0 ? 0 : 1);
    }
}

int main(int argc, char* argv[]) {
    net::Startup startup;  // Winsock no Windows; ignora SIGPIPE no Linux/macOS

    // Define o endereço e a porta do servidor.
    // Diferença do original: podem ser passados na linha de comando.
    std::string IP = "localhost", PORTA = "8000";
    std::vector<std::string> args(argv + 1, argv + argc);
    if (!args.empty() && (args[0] == "--help" || args[0] == "-h")) {
        std::cout << USAGE << "\n\nCliente do chat do Exemplo 1: envia cada linha digitada "
                     "ao servidor e mostra o que chega.\nCtrl+D (Ctrl+Z no Windows) encerra.\n";
        return 0;
    }
    if (args.size() > 2 || (!args.empty() && args[0].rfind("-", 0) == 0) ||
        (args.size() == 2 && !net::parse_port(args[1], PORTA))) {
        std::cerr << USAGE << "\n";
        return 2;
    }
    if (!args.empty()) IP = args[0];

    // Diferença do original: getaddrinfo() pode devolver mais de um endereço
    // (127.0.0.1 e ::1 para "localhost"): tenta cada um até conectar.
    std::string error;
    net::AddrList addresses = net::resolve(IP, PORTA, false, error);
    if (!addresses) {
        std::cerr << "Erro: " << error << "\n";
        return 1;
    }
    socket_t client_socket = INVALID_SOCKET;
    for (addrinfo* a = addresses.get(); a != nullptr; a = a->ai_next) {
        // Cria um socket TCP/IP
        client_socket = socket(a->ai_family, a->ai_socktype, a->ai_protocol);
        if (client_socket == INVALID_SOCKET) continue;
        // Conecta ao servidor (aqui acontece o handshake SYN, SYN-ACK, ACK)
        if (connect(client_socket, a->ai_addr, static_cast<socklen_t>(a->ai_addrlen)) == 0) break;
        error = net::last_error();
        net::close_socket(client_socket);
        client_socket = INVALID_SOCKET;
    }
    if (client_socket == INVALID_SOCKET) {
        std::cerr << "Erro: não foi possível conectar ao servidor " << IP << ":" << PORTA << ": "
                  << error << " (o servidor está rodando?)\n";
        return 1;
    }

    // Inicia uma thread para ficar ouvindo o servidor.
    std::thread client_listen(listen_server, client_socket);

    std::string message;
    while (true) {
        // Lê a mensagem do usuário.
        std::cout << "> " << std::flush;
        if (!net::read_line(message)) {
            // Diferença do original: no fim da entrada (Ctrl+D, ou um arquivo
            // redirecionado) o Python morre com EOFError. Aqui o cliente fecha
            // só o seu lado de envio (meia conexão: o servidor recebe FIN) e
            // continua mostrando o que chega até o servidor fechar também.
            shutdown(client_socket, SHUT_WR);
            break;
        }
        // Uma linha vazia não tem bytes a enviar (em Python, send(b'') também
        // não põe nada na rede).
        if (message.empty()) continue;
        // Envia a mensagem para o servidor: os bytes UTF-8, sem o "\n".
        if (!net::send_all(client_socket, message.data(), message.size())) {
            std::cerr << "Erro ao enviar: " << net::last_error() << "\n";
            shutdown(client_socket, SHUT_WR);
            break;
        }
    }
    // A thread de escuta encerra o programa quando o servidor fechar.
    client_listen.join();
    return 0;
}
