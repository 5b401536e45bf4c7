// Exemplo 4 - Troca de chaves: o CLIENTE (o cliente do Exemplo 2, feito do
// jeito certo).
//
// Conecta ao servidor, recebe a chave PÚBLICA dele e confere se é mesmo a do
// servidor (a chave dada com --chave-servidor, ou a salva na primeira conexão,
// como o SSH faz). Envia uma chave pública nova, só desta conexão; os dois
// lados calculam as chaves de sessão sem que elas passem pela rede. A partir
// daí cifra cada mensagem digitada e decifra cada mensagem recebida, em
// fluxos que detectam mensagens repetidas, fora de ordem ou que faltam.
//
// Uso: ./client [IP [PORTA]] [--chave-servidor CHAVE]   (padrão: localhost 8000)
#include "../common/args.h"
#include "../common/line_reader.h"
#include "../common/net.h"
#include "keys.h"  // os servidores conhecidos, guardados em arquivo
#include "kx.h"    // libsodium e o formato das linhas

#include <cstdlib>
#include <functional>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

static const char* const USAGE =
    "uso: client [IP [PORTA]] [--chave-servidor CHAVE]   (padrão: localhost 8000)";
static const char* const HELP =
    "Cliente do chat do Exemplo 4. Ctrl+D (Ctrl+Z no Windows) encerra.\n"
    "--chave-servidor CHAVE: a chave pública que o servidor mostrou ao iniciar;\n"
    "  qualquer outra é recusada. Sem ela, a chave vista na primeira conexão é\n"
    "  salva em servidores_conhecidos.txt, ao lado do programa, e conferida nas\n"
    "  seguintes (como o known_hosts do SSH).\n";

// Diferença do original: se o servidor não fizer o aperto de mão em 10 s, o
// cliente desiste com uma mensagem em vez de esperar para sempre.
static const double KEY_TIMEOUT = 10.0;

// Diferença do Exemplo 2: em vez de uma chave, dois fluxos cifrados, um em
// cada direção. O de recebimento é só da thread de escuta; o de envio, só da
// thread principal. Cada thread apaga o seu antes de terminar.
static kx::Stream receiving, sending;

// Termina o programa inteiro (veja o Exemplo 1: a thread principal pode estar
// parada esperando o teclado).
[[noreturn]] static void finish(int code) {
    std::cout << std::flush;
    std::_Exit(code);
}

// Função que fica aguardando o recebimento de novas mensagens.
// Diferença do Exemplo 2: uma mensagem que não abre (alterada, repetida, fora
// de ordem, ou depois de uma que faltou) não é só descartada: a conversa
// deixou de ser confiável, e o cliente encerra a conexão.
static void listen_server(socket_t client_socket, net::LineReader& reader) {
    std::string line, why, message;
    // Recebe os dados do servidor, uma linha por mensagem.
    while (net::receive_line(client_socket, reader, line, why)) {
        // Decifra a mensagem e a mostra, seguida de "\n>" como o original.
        if (!kx::open(receiving, line, message)) {
            why = "mensagem inválida (alterada, repetida ou fora de ordem)";
            break;
        }
        std::cout << message << "\n>" << std::flush;
        sodium_memzero(&message[0], message.size());
    }
    sodium_memzero(&receiving, sizeof receiving);
    if (why == "fechou a conexão") {
        std::cout << "\nConexão encerrada pelo servidor" << std::endl;
        finish(0);
    }
    if (why.rfind("enviou ", 0) == 0) why = "mensagem inválida (linha longa demais)";
    std::cout << "\nErro: " << why << "; conexão encerrada" << std::endl;
    finish(1);
}

// Diferença do Exemplo 2: confere se a chave pública recebida é mesmo a do
// servidor. Sem isso, qualquer um no meio do caminho poderia fazer a troca de
// chaves no lugar do servidor e ler tudo (o intruso deste exemplo faz isso).
static bool trust_server_key(const std::string& received, const std::string& pinned,
                             const std::string& server, const std::string& known_path) {
    std::string expected = pinned, source = "dada com --chave-servidor";
    if (expected.empty()) {
        expected = keys::known_key(known_path, server);
        source = "salva em " + known_path;
    }
    if (expected.empty()) {  // primeira conexão: confia e guarda (TOFU)
        if (!keys::remember(known_path, server, received)) {
            std::cerr << "Erro: não foi possível gravar " << known_path << "\n";
            return false;
        }
        std::cout << "Primeira conexão com " << server << ": chave do servidor " << received
                  << "\nConfira se é a que o servidor mostrou. Ela foi salva em " << known_path
                  << " e será conferida nas próximas conexões.\n";
        return true;
    }
    if (received == expected) return true;
    std::cerr << "ATENÇÃO: a chave do servidor " << server << " não é a esperada!\n"
              << "  esperada: " << expected << " (" << source << ")\n"
              << "  recebida: " << received << "\n"
              << "Alguém pode estar no meio do caminho (ataque \"man-in-the-middle\"), lendo\n"
              << "a conversa, ou o servidor trocou de chave. Conexão encerrada; nada foi enviado.\n";
    if (pinned.empty())
        std::cerr << "Se a troca foi legítima, apague a linha de " << server << " em "
                  << known_path << ".\n";
    return false;
}

int main(int argc, char* argv[]) {
    net::Startup startup;  // Winsock no Windows; ignora SIGPIPE no Linux/macOS
    if (sodium_init() < 0) {
        std::cerr << "Erro: não foi possível iniciar a libsodium\n";
        return 1;
    }

    std::string IP = "localhost", PORTA = "8000", pinned;
    int code = args::parse_address(argc, argv, USAGE, HELP, IP, PORTA,
                                   {{"--chave-servidor", &pinned}});
    if (code >= 0) return code;
    unsigned char server_public_key[kx::KEY_BYTES];
    if (!pinned.empty() && !kx::read_key(pinned, server_public_key)) {
        std::cerr << USAGE << "\nErro: a chave deve ter 44 caracteres base64url (32 bytes)\n";
        return 2;
    }

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

    // Diferença do Exemplo 2: o aperto de mão é uma troca de chaves.
    // 1. Aguarda a chave PÚBLICA do servidor: a primeira linha.
    net::set_timeout(client_socket, SO_RCVTIMEO, KEY_TIMEOUT);
    net::LineReader reader(kx::MAX_LINE);
    std::string line, why;
    if (!net::receive_line(client_socket, reader, line, why)) {
        std::cerr << "Erro: o servidor não enviou a chave (" << why
                  << "). É o servidor do Exemplo 4?\n";
        return 1;
    }
    if (!kx::read_key(line, server_public_key)) {
        std::cerr << "Erro: chave inválida recebida do servidor\n";
        return 1;
    }
    // 2. Confere se a chave é mesmo a do servidor.
    const std::string server = (IP.find(':') != std::string::npos ? "[" + IP + "]" : IP) + ":" + PORTA;
    const std::string known_path = net::program_folder(argv[0]) + "/" + keys::KNOWN_SERVERS_FILE;
    if (!trust_server_key(line, pinned, server, known_path)) return 1;

    // 3. Gera um par de chaves só para esta conexão e calcula as chaves de
    //    sessão: rx para o que vem do servidor, tx para o que vai para ele.
    unsigned char public_key[kx::KEY_BYTES], secret_key[kx::SECRET_BYTES];
    unsigned char rx[kx::SESSION_BYTES], tx[kx::SESSION_BYTES];
    crypto_kx_keypair(public_key, secret_key);
    const bool keys_ok = crypto_kx_client_session_keys(rx, tx, public_key, secret_key,
                                                       server_public_key) == 0;
    sodium_memzero(secret_key, sizeof secret_key);  // não serve para mais nada
    if (!keys_ok) {
        std::cerr << "Erro: chave inválida recebida do servidor\n";
        return 1;
    }
    // 4. Envia a chave pública desta conexão e o cabeçalho do fluxo de envio;
    //    recebe o cabeçalho do fluxo do servidor.
    std::string hello = kx::to_base64(public_key, sizeof public_key) + "\n" +
                        kx::start_sending(sending, tx) + "\n";
    bool ready = net::send_all(client_socket, hello.data(), hello.size());
    if (!ready) why = "erro ao enviar: " + net::last_error();
    if (ready && net::receive_line(client_socket, reader, line, why) &&
        !kx::start_receiving(receiving, line, rx))
        why = "cabeçalho inválido";
    sodium_memzero(rx, sizeof rx);  // as chaves de sessão já estão nos fluxos
    sodium_memzero(tx, sizeof tx);
    if (!ready || !why.empty()) {
        std::cerr << "Erro: o aperto de mão com o servidor falhou (" << why << ")\n";
        return 1;
    }
    net::set_timeout(client_socket, SO_RCVTIMEO, 0);  // daqui em diante, sem prazo

    // Se sincronizou, inicia uma thread para ficar ouvindo o servidor.
    std::thread client_listen(listen_server, client_socket, std::ref(reader));

    std::string message;
    while (true) {
        // Lê a mensagem do usuário.
        std::cout << "> " << std::flush;
        if (!net::read_line(message)) {
            // Fim da entrada: fecha o envio (FIN) e espera o servidor fechar.
            shutdown(client_socket, SHUT_WR);
            break;
        }
        if (message.empty()) continue;
        // Uma linha tem no máximo 1024 bytes; cabem 748 bytes de texto.
        if (message.size() > kx::MAX_TEXT) {
            std::cout << "Mensagem muito longa: " << message.size() << " bytes (o máximo é "
                      << kx::MAX_TEXT << "); não enviada\n";
            continue;
        }
        // Cifra a mensagem no fluxo de envio e a envia, numa linha.
        std::string encrypted = kx::seal(sending, message) + "\n";
        sodium_memzero(&message[0], message.size());
        if (!net::send_all(client_socket, encrypted.data(), encrypted.size())) {
            std::cerr << "Erro ao enviar: " << net::last_error() << "\n";
            shutdown(client_socket, SHUT_WR);
            break;
        }
    }
    sodium_memzero(&sending, sizeof sending);
    client_listen.join();  // a thread de escuta encerra o programa
    return 0;
}
