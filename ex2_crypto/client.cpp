// Exemplo 2 - Criptografia de dados: o CLIENTE (tradução de Cliente_seguro.py).
// Recebe a chave, responde "OK" cifrado e, daí em diante, cifra o que é digitado e
// decifra o que chega. Mesma ordem do Python; diferenças: apêndice do README.
#include "../common/args.h"
#include "../common/net.h"
#include "../common/safe_text.h"
#include "client_key.h"  // receive_key() e decrypt_tokens(); inclui common/line_reader.h
#include "token.h"       // biblioteca p/ criptografia (libsodium)

#include <atomic>
#include <cstdlib>
#include <iostream>
#include <string>
#include <thread>

static const char* const USAGE =
    "uso: client [IP [PORTA]]   (padrão: localhost 8000)\n"
    "     client --decrypt CHAVE < tokens.txt";
static const char* const HELP =
    "Cliente do chat cifrado do Exemplo 2. Ctrl+D (Ctrl+Z no Windows) encerra.\n"
    "--decrypt CHAVE: decifra tokens (um por linha) com uma chave tirada de uma captura.\n";

// Mostra `text` e termina o programa, de qualquer thread (a principal espera o teclado)
[[noreturn]] static void finish(const std::string& text, int code) {
    std::cout << text << std::endl;
    std::_Exit(code);
}

int main(int argc, char* argv[]) {
    net::Startup startup;  // Winsock no Windows; ignora SIGPIPE no Linux/macOS
    // Diferença do original: IP e porta podem vir da linha de comando. Sem eles, localhost 8000.
    std::string IP = "localhost", PORTA = "8000", key_text;
    bool decrypt = false;
    int code = args::parse_address(argc, argv, USAGE, HELP, IP, PORTA,
                                   {{"--decrypt", &key_text, &decrypt}});
    if (code >= 0) return code;
    // Diferença do original: --decrypt CHAVE decifra uma captura. Não existe no original.
    if (decrypt && argc != 3)  // --decrypt CHAVE, e nada mais
        return args::usage_error(USAGE, "--decrypt CHAVE vai sozinho, sem IP nem PORTA");
    if (decrypt) return decrypt_tokens(key_text);

    // Cria um socket TCP/IP (IPv4; IPv6 se o IP tiver ':', como "::1")
    socket_t client_socket = socket(net::family_of(IP), SOCK_STREAM, 0);
    if (client_socket == INVALID_SOCKET) return net::fail("Erro ao criar o socket");
    // Conecta ao servidor, no endereço (IP, PORTA) que getaddrinfo() monta
    std::string error;
    net::AddrList address = net::resolve(IP, PORTA, false, error, net::family_of(IP));
    if (!address) {
        std::cerr << "Erro: " << error << "\n";
        return 1;
    }
    if (connect(client_socket, address->ai_addr, static_cast<socklen_t>(address->ai_addrlen)) != 0) {
        std::cerr << "Erro: não foi possível conectar ao servidor " + net::host_port(IP, PORTA) + ": " +
                         net::last_error() + " (o servidor está rodando?)\n";  // erro antes de escrever
        return 1;
    }
    // Aguarda a chave de criptografia única e gera o encriptador (secretbox: token.h)
    // Diferença do original: Cada mensagem é uma linha. O TCP não separa as mensagens
    // (um recv() pode trazer duas, ou meia); `reader` junta os pedaços e separa as linhas.
    net::LineReader reader;
    std::string UNIQUE_KEY = receive_key(client_socket, reader);  // client_key.h
    if (UNIQUE_KEY.empty()) return 1;
    const token::Encryptor f(UNIQUE_KEY);

    // Responde um "OK" criptografado para sinalizar
    // o recebimento da chave
    const std::string ok = f.encrypt("OK") + "\n";
    if (!net::send_all(client_socket, ok.data(), ok.size())) return net::fail("Erro ao enviar");

    // Função que fica aguardando o recebimento de novas mensagens (um lambda, como um def)
    std::atomic<bool> input_ended{false};  // o usuário encerrou a entrada (Ctrl+D)
    auto listen_server = [&]() {
        std::string data, message, why;
        while (true) {
            // Recebe os dados do servidor: a próxima linha inteira
            const net::Received received = net::receive_line(client_socket, reader, data, why);
            // Diferença do original: Conexão encerrada: o cliente avisa e termina. Veja o README.
            if (received == net::Received::Closed && input_ended)
                finish("\nConexão encerrada por você (fim da entrada)", 0);
            if (received == net::Received::Closed) finish("\nConexão encerrada pelo servidor", 0);
            if (received == net::Received::Error)  // why: "erro: <motivo>"; mostra só o motivo
                finish("\nErro ao receber do servidor: " + why.substr(6), 1);
            // Quebra a criptografia dos dados e transforma os bytes em texto (UTF-8)
            // Diferença do original: O que chega é mostrado, nunca executado. \x1b vira texto.
            if (received == net::Received::Line && f.decrypt(data, message)) {
                // Printa na tela a mensagem
                std::cout << safe_text::printable(message) << "\n>" << std::flush;
            } else {
                // Diferença do original: Mensagem inválida é descartada. O Python morreria.
                if (received == net::Received::Line && is_key_line(data))  // client_key.h
                    finish(EXAMPLE4_SERVER, 1);  // uma chave: o servidor é de outro exemplo
                std::cout << "Mensagem inválida descartada\n>" << std::flush;
            }
        }
    };
    // Se sincronizou, inicia uma thread para ficar ouvindo o servidor
    std::thread client_listen(listen_server);

    while (true) {
        // Lê a mensagem do usuário
        std::cout << "> " << std::flush;
        std::string message;
        if (!net::read_line(message)) {
            // Diferença do original: Fim da entrada fecha só o envio. Manda FIN; o resto chega.
            input_ended = true;
            shutdown(client_socket, SHUT_WR);
            break;
        }
        // Diferença do original: Linha vazia não é enviada. O Python enviaria um token vazio.
        if (message.empty()) continue;
        // Diferença do original: Mensagem longa demais não é enviada. Cabem 725 bytes.
        if (message.size() > token::MAX_TEXT) {
            std::cout << "Mensagem muito longa: " << message.size() << " bytes (o máximo é "
                      << token::MAX_TEXT << "); não enviada\n";
            continue;
        }
        // Envia a mensagem para o servidor: o token, numa linha
        const std::string line = f.encrypt(message) + "\n";
        if (!net::send_all(client_socket, line.data(), line.size())) {
            std::cerr << "Erro ao enviar: " + net::last_error() + "\n";
            shutdown(client_socket, SHUT_WR);
            break;
        }
    }
    client_listen.join();  // a thread de escuta encerra o programa
}
