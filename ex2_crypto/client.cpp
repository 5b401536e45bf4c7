// Exemplo 2 - Criptografia de dados: o CLIENTE (tradução de Cliente_seguro.py).
//
// Conecta ao servidor, recebe a chave, responde "OK" cifrado e, a partir daí,
// cifra cada mensagem digitada e decifra cada mensagem recebida.
//
// Uso: ./client [IP [PORTA]]           (padrão: localhost 8000)
//      ./client --decrypt CHAVE         decifra tokens lidos da entrada (um por
//                                       linha), com uma chave tirada de uma
//                                       captura: a demonstração de que mandar
//                                       a chave em claro não protege nada.
#include "../common/net.h"
#include "token.h"  // libsodium e o formato das linhas

#include <cstdlib>
#include <functional>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

static const char* const USAGE =
    "uso: client [IP [PORTA]]   (padrão: localhost 8000)\n"
    "     client --decrypt CHAVE < tokens.txt";

// A chave recebida do servidor (apagada da memória ao terminar).
static unsigned char UNIQUE_KEY[token::KEY_BYTES];

// Diferença do original: se o servidor não mandar a chave em 10 s (por
// exemplo, se for o servidor do Exemplo 1), o cliente desiste com uma
// mensagem em vez de esperar para sempre.
static const double KEY_TIMEOUT = 10.0;

// Apaga a chave e termina o programa inteiro (veja o Exemplo 1: a thread
// principal pode estar parada esperando o teclado).
[[noreturn]] static void finish(int code) {
    sodium_memzero(UNIQUE_KEY, sizeof UNIQUE_KEY);
    std::cout << std::flush;
    std::_Exit(code);
}

// Mostra uma linha recebida: decifra o token e imprime o texto, seguido de
// "\n>" como o print(data, end='\n>') do original.
static void show(const std::string& line) {
    std::string message;
    if (token::decrypt(UNIQUE_KEY, line, message)) {
        std::cout << message << "\n>" << std::flush;
        sodium_memzero(&message[0], message.size());
    } else {
        // Diferença do original: um token inválido lança uma exceção no
        // Python, que mata a thread de escuta. Aqui ele é descartado.
        std::cout << "Mensagem inválida descartada\n>" << std::flush;
    }
}

// Função que fica aguardando o recebimento de novas mensagens.
// Diferença do original: as mensagens são linhas; `reader` junta os pedaços
// que o TCP entregar e separa as linhas (um recv() pode trazer várias).
static void listen_server(socket_t client_socket, token::LineReader& reader) {
    char data[1024];
    std::string line;
    while (true) {
        // Entrega todas as linhas completas que já chegaram.
        for (;;) {
            auto result = reader.next(line);
            if (result == token::LineReader::Result::NeedMore) break;
            if (result == token::LineReader::Result::Line)
                show(line);
            else
                std::cout << "Mensagem inválida descartada\n>" << std::flush;  // longa demais
        }
        // Recebe os dados do servidor.
        auto received = recv(client_socket, data, sizeof data, 0);
        if (received > 0) {
            reader.feed(data, static_cast<std::size_t>(received));
            continue;
        }
        if (received < 0 && net::interrupted()) continue;
        // Diferença do original: o servidor fechou (0) ou houve erro.
        if (received == 0)
            std::cout << "\nConexão encerrada pelo servidor" << std::endl;
        else
            std::cout << "\nErro ao receber do servidor: " << net::last_error() << std::endl;
        finish(received == 0 ? 0 : 1);
    }
}

// Modo --decrypt: decifra, com a chave dada, cada token lido da entrada.
static int decrypt_tokens(const std::string& key_text) {
    std::vector<unsigned char> key;
    if (!token::from_base64(key_text, key) || key.size() != token::KEY_BYTES) {
        std::cerr << "Erro: a chave deve ter 44 caracteres base64url (32 bytes)\n";
        return 2;
    }
    std::copy(key.begin(), key.end(), UNIQUE_KEY);
    sodium_memzero(key.data(), key.size());
    std::string line, message;
    while (net::read_line(line)) {
        if (line.empty()) continue;
        if (token::decrypt(UNIQUE_KEY, line, message))
            std::cout << message << "\n";
        else
            std::cout << "Mensagem inválida descartada\n";
    }
    sodium_memzero(UNIQUE_KEY, sizeof UNIQUE_KEY);
    return 0;
}

int main(int argc, char* argv[]) {
    net::Startup startup;  // Winsock no Windows; ignora SIGPIPE no Linux/macOS
    if (sodium_init() < 0) {
        std::cerr << "Erro: não foi possível iniciar a libsodium\n";
        return 1;
    }

    std::string IP = "localhost", PORTA = "8000";
    std::vector<std::string> args(argv + 1, argv + argc);
    if (!args.empty() && (args[0] == "--help" || args[0] == "-h")) {
        std::cout << USAGE << "\n\nCliente do chat cifrado do Exemplo 2. Ctrl+D (Ctrl+Z no "
                     "Windows) encerra.\n--decrypt CHAVE: decifra tokens (um por linha) com "
                     "uma chave tirada de uma captura.\n";
        return 0;
    }
    if (args.size() == 2 && args[0] == "--decrypt") return decrypt_tokens(args[1]);
    if (args.size() > 2 || (!args.empty() && args[0].rfind("-", 0) == 0) ||
        (args.size() == 2 && !net::parse_port(args[1], PORTA))) {
        std::cerr << USAGE << "\n";
        return 2;
    }
    if (!args.empty()) IP = args[0];

    // Cria um socket TCP/IP e conecta ao servidor (tenta cada endereço).
    std::string error;
    net::AddrList addresses = net::resolve(IP, PORTA, false, error);
    if (!addresses) {
        std::cerr << "Erro: " << error << "\n";
        return 1;
    }
    socket_t client_socket = INVALID_SOCKET;
    for (addrinfo* a = addresses.get(); a != nullptr; a = a->ai_next) {
        client_socket = socket(a->ai_family, a->ai_socktype, a->ai_protocol);
        if (client_socket == INVALID_SOCKET) continue;
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

    // Aguarda a chave de criptografia única: a primeira linha do servidor.
    net::set_timeout(client_socket, SO_RCVTIMEO, KEY_TIMEOUT);
    token::LineReader reader;
    std::string key_text;
    char data[1024];
    while (reader.next(key_text) != token::LineReader::Result::Line) {
        auto received = recv(client_socket, data, sizeof data, 0);
        if (received > 0) {
            reader.feed(data, static_cast<std::size_t>(received));
            continue;
        }
        if (received < 0 && net::interrupted()) continue;
        std::cerr << "Erro: o servidor não enviou a chave ("
                  << (received == 0 ? "conexão encerrada" : net::last_error())
                  << "). É o servidor do Exemplo 2?\n";
        net::close_socket(client_socket);
        return 1;
    }
    net::set_timeout(client_socket, SO_RCVTIMEO, 0);  // daqui em diante, sem prazo
    std::vector<unsigned char> key;
    if (!token::from_base64(key_text, key) || key.size() != token::KEY_BYTES) {
        std::cerr << "Erro: chave inválida recebida do servidor\n";
        net::close_socket(client_socket);
        return 1;
    }
    std::copy(key.begin(), key.end(), UNIQUE_KEY);
    sodium_memzero(key.data(), key.size());

    // Responde um "OK" cifrado para sinalizar o recebimento da chave.
    std::string ok = token::encrypt(UNIQUE_KEY, "OK") + "\n";
    if (!net::send_all(client_socket, ok.data(), ok.size())) {
        std::cerr << "Erro ao enviar: " << net::last_error() << "\n";
        finish(1);
    }

    // Se sincronizou, inicia uma thread para ficar ouvindo o servidor.
    std::thread client_listen(listen_server, client_socket, std::ref(reader));

    std::string message;
    while (true) {
        // Lê a mensagem do usuário.
        std::cout << "> " << std::flush;
        if (!net::read_line(message)) {
            // Diferença do original: fim da entrada → fecha o envio (FIN) e
            // espera o servidor fechar, como no Exemplo 1.
            shutdown(client_socket, SHUT_WR);
            break;
        }
        if (message.empty()) continue;
        // Diferença do original: uma linha tem no máximo 1024 bytes; cabem
        // 725 bytes de texto. O que passar disso não é enviado.
        if (message.size() > token::MAX_TEXT) {
            std::cout << "Mensagem muito longa: " << message.size() << " bytes (o máximo é "
                      << token::MAX_TEXT << "); não enviada\n";
            continue;
        }
        // Cifra a mensagem e envia o token, numa linha, para o servidor.
        std::string line = token::encrypt(UNIQUE_KEY, message) + "\n";
        sodium_memzero(&message[0], message.size());
        if (!net::send_all(client_socket, line.data(), line.size())) {
            std::cerr << "Erro ao enviar: " << net::last_error() << "\n";
            shutdown(client_socket, SHUT_WR);
            break;
        }
    }
    client_listen.join();  // a thread de escuta encerra o programa
    return 0;
}
