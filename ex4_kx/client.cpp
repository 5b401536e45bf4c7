// Exemplo 4 - Troca de chaves: o CLIENTE (o do Exemplo 2, feito do jeito certo).
// Recebe a chave PÚBLICA do servidor, confere se é mesmo a dele, faz a troca de chaves e,
// daí em diante, cifra o que é digitado e decifra o que chega, em dois fluxos cifrados.
// Leia ao lado de ../ex2_crypto/client.cpp: só muda o que está marcado com
// "Diferença do Exemplo 2" (lista no README).
#include "../common/args.h"
#include "../common/net.h"
#include "client_key.h"  // receive_key() e trust_server_key(); inclui common/line_reader.h
#include "kx.h"          // biblioteca p/ criptografia (libsodium): chaves, fluxos, linhas

#include <cstdlib>
#include <iostream>
#include <string>
#include <thread>

static const char* const USAGE =
    "uso: client [IP [PORTA]] [--chave-servidor CHAVE]   (padrão: localhost 8000)";
static const char* const HELP =
    "Cliente do chat do Exemplo 4. Ctrl+D (Ctrl+Z no Windows) encerra.\n"
    "--chave-servidor CHAVE: a chave pública que o servidor mostrou ao iniciar; qualquer\n"
    "  outra é recusada. Sem ela, a chave vista na primeira conexão é salva em\n"
    "  servidores_conhecidos.txt, ao lado do programa, e conferida nas seguintes.\n";

// Diferença do Exemplo 2: O aperto de mão é uma troca de chaves (crypto_kx). Gera um par
// de chaves só para esta conexão e, com a chave pública do servidor, calcula as chaves de
// sessão: rx para o que vem do servidor, tx para o que vai para ele. Envia a chave pública
// e o cabeçalho do fluxo de envio (tx) num envio só; abre o de recebimento (rx) com o
// cabeçalho do servidor. Devolve o motivo da falha, ou "". Apaga as chaves secretas.
static std::string exchange_keys(socket_t client_socket, net::LineReader& reader,
                                 const std::string& server_key, kx::Stream& sending,
                                 kx::Stream& receiving) {
    unsigned char server_public_key[kx::KEY_BYTES], public_key[kx::KEY_BYTES];
    unsigned char secret_key[kx::SECRET_BYTES], rx[kx::SESSION_BYTES], tx[kx::SESSION_BYTES];
    std::string why, line;
    kx::start_sodium();
    kx::read_key(server_key, server_public_key);  // já conferida por receive_key()
    crypto_kx_keypair(public_key, secret_key);
    const bool keys_ok = crypto_kx_client_session_keys(rx, tx, public_key, secret_key,
                                                       server_public_key) == 0;
    sodium_memzero(secret_key, sizeof secret_key);  // não serve para mais nada
    if (!keys_ok) return "chave inválida recebida do servidor";
    line = kx::to_base64(public_key, sizeof public_key) + "\n";
    line += kx::start_sending(sending, tx) + "\n";
    net::set_timeout(client_socket, SO_RCVTIMEO, 10.0);
    if (!net::send_all(client_socket, line.data(), line.size()))
        why = "erro ao enviar: " + net::last_error();
    else if (net::receive_line(client_socket, reader, line, why) &&
             !kx::start_receiving(receiving, line, rx))
        why = "cabeçalho inválido";
    net::set_timeout(client_socket, SO_RCVTIMEO, 0);  // daqui em diante, sem prazo
    sodium_memzero(rx, sizeof rx);
    sodium_memzero(tx, sizeof tx);
    return why;
}

// Mostra `text` e termina o programa, de qualquer thread (a principal espera o teclado)
[[noreturn]] static void finish(const std::string& text, int code) {
    std::cout << text << std::endl;
    std::_Exit(code);
}

int main(int argc, char* argv[]) {
    net::Startup startup;  // Winsock no Windows; ignora SIGPIPE no Linux/macOS
    // Diferença do original: IP e porta podem vir da linha de comando. Sem eles, localhost 8000.
    std::string IP = "localhost", PORTA = "8000", pinned;
    int code = args::parse_address(argc, argv, USAGE, HELP, IP, PORTA,
                                   {{"--chave-servidor", &pinned}});
    if (code >= 0) return code;
    // Diferença do Exemplo 2: --chave-servidor CHAVE fixa a chave do servidor. Entra no
    // lugar do --decrypt, que não teria o que decifrar; uma chave malformada é erro de uso.
    unsigned char check[kx::KEY_BYTES];
    if (!pinned.empty() && !kx::read_key(pinned, check)) {
        std::cerr << USAGE << "\nErro: a chave deve ter 44 caracteres base64url (32 bytes)\n";
        return 2;
    }

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
    if (connect(client_socket, address->ai_addr, static_cast<socklen_t>(address->ai_addrlen))) {
        std::cerr << "Erro: não foi possível conectar ao servidor " << IP << ":" << PORTA << ": "
                  << net::last_error() << " (o servidor está rodando?)\n";
        return 1;
    }

    // Aguarda a chave PÚBLICA do servidor (nada secreto: é a que ele mostra ao iniciar)
    // Diferença do original: Cada mensagem é uma linha. O TCP não separa as mensagens
    // (um recv() pode trazer duas, ou meia); `reader` junta os pedaços e separa as linhas.
    net::LineReader reader;
    std::string server_key = receive_key(client_socket, reader);  // client_key.h
    if (server_key.empty()) return 1;
    // Diferença do Exemplo 2: A chave é conferida antes de enviar qualquer coisa. Vale a dada
    // com --chave-servidor ou a salva na primeira conexão (TOFU). Sem isso, um intruso no meio
    // do caminho faria a troca de chaves no lugar do servidor e leria tudo (intruso.cpp).
    if (!trust_server_key(server_key, pinned, IP, PORTA, argv[0])) return 1;

    // Responde com a troca de chaves: a chave pública desta conexão e os cabeçalhos
    kx::Stream sending{}, receiving{};  // os dois fluxos: cada um é de uma só thread
    std::string why = exchange_keys(client_socket, reader, server_key, sending, receiving);
    if (!why.empty()) {
        std::cerr << "Erro: o aperto de mão com o servidor falhou (" << why << ")\n";
        return 1;
    }

    // Função que fica aguardando o recebimento de novas mensagens (um lambda, como um def)
    auto listen_server = [&]() {
        std::string data, message, why;
        while (true) {
            // Recebe os dados do servidor: a próxima linha inteira
            bool received = net::receive_line(client_socket, reader, data, why);
            // Diferença do original: Conexão encerrada: o cliente avisa e termina. Veja o README.
            if (!received && why == "fechou a conexão")
                finish("\nConexão encerrada pelo servidor", 0);
            if (!received && why.rfind("erro: ", 0) == 0)
                finish("\nErro ao receber do servidor: " + why.substr(6), 1);  // sem "erro: "
            // Quebra a criptografia dos dados e transforma os bytes em texto (UTF-8)
            if (received && kx::open(receiving, data, message))
                std::cout << message << "\n>" << std::flush;  // Printa na tela a mensagem
            else  // Diferença do Exemplo 2: Mensagem inválida encerra a conexão. A conversa
                finish("\nErro: mensagem inválida (alterada, repetida, fora de ordem ou longa "
                       "demais); conexão encerrada", 1);  // deixou de ser confiável
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
            shutdown(client_socket, SHUT_WR);
            break;
        }
        // Diferença do original: Linha vazia não é enviada. O Python enviaria um token vazio.
        if (message.empty()) continue;
        // Diferença do original: Mensagem longa demais não é enviada. Cabem 748 bytes.
        if (message.size() > kx::MAX_TEXT) {
            std::cout << "Mensagem muito longa: " << message.size() << " bytes (o máximo é "
                      << kx::MAX_TEXT << "); não enviada\n";
            continue;
        }
        // Envia a mensagem para o servidor: o token, numa linha
        const std::string line = kx::seal(sending, message) + "\n";
        if (!net::send_all(client_socket, line.data(), line.size())) {
            std::cerr << "Erro ao enviar: " << net::last_error() << "\n";
            shutdown(client_socket, SHUT_WR);
            break;
        }
    }
    client_listen.join();  // a thread de escuta encerra o programa
}
