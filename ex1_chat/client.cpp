// Exemplo 1 - Chat: o CLIENTE. Leia ao lado de Cliente.py: os mesmos passos, na
// mesma ordem, cada um abaixo do comentário do original. Uso: ./client [IP [PORTA]]
#include "../common/args.h"
#include "../common/net.h"
#include "../common/safe_text.h"

#include <atomic>
#include <cstdlib>
#include <iostream>
#include <string>
#include <thread>

static const char* const USAGE = "uso: client [IP [PORTA]]   (padrão: localhost 8000)";
static const char* const HELP = "Cliente do chat do Exemplo 1: envia cada linha digitada ao "
    "servidor e mostra o que chega.\nCtrl+D (Ctrl+Z no Windows) encerra.\n";

int main(int argc, char* argv[]) {
    net::Startup startup;  // Winsock no Windows; ignora SIGPIPE no Linux/macOS
    // Diferença do original: Argumentos e mensagens de erro. Uma falha: mensagem e código 1.
    std::string IP = "localhost", PORTA = "8000";
    int code = args::parse_address(argc, argv, USAGE, HELP, IP, PORTA);
    if (code >= 0) return code;
    // Cria um socket TCP/IP (SOCK_STREAM = TCP).
    // Diferença do original: IPv4 ou IPv6 conforme o IP. AF_INET6 se tiver ':' ("::1").
    socket_t client_socket = socket(net::family_of(IP), SOCK_STREAM, 0);
    if (client_socket == INVALID_SOCKET) return net::fail("Erro ao criar o socket");
    // Define o endereço e a porta do servidor ("localhost" vira 127.0.0.1).
    std::string error;
    net::AddrList address = net::resolve(IP, PORTA, false, error, net::family_of(IP));
    if (!address) {
        std::cerr << "Erro: " << error << "\n";
        return 1;
    }
    // Conecta ao servidor (aqui acontece o handshake: SYN, SYN-ACK, ACK).
    if (connect(client_socket, address->ai_addr, static_cast<socklen_t>(address->ai_addrlen)) != 0) {
        std::cerr << "Erro: não foi possível conectar ao servidor " + net::host_port(IP, PORTA) + ": " +
                         net::last_error() + " (o servidor está rodando?)\n";  // erro antes de escrever
        return 1;
    }

    // Função que fica aguardando o recebimento de novas mensagens.
    std::atomic<bool> input_ended{false};  // o usuário encerrou a entrada (Ctrl+D)
    auto listen_server = [client_socket, &input_ended] {
        char data[1024];
        safe_text::Stream shown;  // um "á" cortado entre dois recv() continua inteiro
        while (true) {
            auto received = recv(client_socket, data, sizeof data, 0);
            if (received < 0 && net::interrupted()) continue;  // um sinal: só repete o recv()
            // Diferença do original: Servidor fechou, o cliente avisa e termina. Sem loop de ">".
            if (received <= 0) {
                std::string end = received < 0 ? "\nErro ao receber do servidor: " + net::last_error()
                                  : input_ended ? "\nConexão encerrada por você (fim da entrada)"
                                                : "\nConexão encerrada pelo servidor";
                std::cout << shown.finish() << end << std::endl;
                std::_Exit(received == 0 ? 0 : 1);  // tudo, mesmo com main() lendo o teclado
            }
            // Diferença do original: O que chega é mostrado, nunca executado. \x1b vira texto.
            // Depois, "\n>", como print(..., end='\n>').
            std::cout << shown.printable(data, std::size_t(received)) << "\n>" << std::flush;
        }
    };
    // Inicia uma Thread para ficar ouvindo o servidor.
    std::thread client_listen(listen_server);
    std::string message;
    while (true) {
        // Lê a mensagem do usuário.
        std::cout << "> " << std::flush;
        // Diferença do original: Fim da entrada fecha só o envio. Sem EOFError (veja o fim).
        input_ended = !net::read_line(message);
        if (input_ended) break;
        // Envia a mensagem para o servidor: os bytes UTF-8, sem o "\n".
        if (!net::send_all(client_socket, message.data(), message.size())) {
            net::fail("Erro ao enviar");
            break;
        }
        // Diferença do original: Sem linha vazia depois do envio. Nada do print() do Python.
    }
    shutdown(client_socket, SHUT_WR);  // meia conexão: o servidor recebe FIN
    client_listen.join();  // a thread de escuta encerra o programa quando o servidor fechar
}
