// Exemplo 4 - Troca de chaves: o CLIENTE (o do Exemplo 2, feito do jeito certo).
// Recebe as chaves PÚBLICAS do servidor, confere se a de longo prazo é mesmo a dele, faz a
// troca de chaves, confere o "OK" cifrado do servidor e, daí em diante, cifra o que é
// digitado e decifra o que chega, em dois fluxos cifrados. Leia ao lado de
// ../ex2_crypto/client.cpp: só muda o que está marcado com "Diferença do Exemplo 2" (README).
#include "../common/args.h"
#include "../common/net.h"
#include "../common/safe_text.h"
#include "client_key.h"  // receive_key(), trust_server_key(), save_server_key(); line_reader.h
#include "kx.h"          // biblioteca p/ criptografia (libsodium): chaves, fluxos, linhas

#include <atomic>
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
    "  servidores_conhecidos.txt, ao lado do programa, e conferida nas seguintes; o arquivo\n"
    "  só é usado numa pasta que outros usuários não podem alterar.\n";

// Diferença do Exemplo 2: O aperto de mão é uma troca de chaves (crypto_kx). Recebe a chave
// desta conexão do servidor (Es), gera um par só seu (Ec) e calcula as chaves de sessão com
// as duas do servidor (kx.h): rx para o que vem dele, tx para o que vai para ele. Envia a
// sua chave e o cabeçalho do fluxo de envio num envio só, abre o fluxo de recebimento com o
// cabeçalho do servidor e confere o "OK" dele, que só quem tem a chave secreta consegue
// cifrar. Devolve false se falhou, e `failure` tem a frase de erro inteira.
static bool exchange_keys(socket_t client_socket, net::LineReader& reader,
                          const std::string& server_key, kx::Stream& sending,
                          kx::Stream& receiving, const net::Deadline& deadline,
                          std::string& failure) {
    unsigned char server_public_key[kx::KEY_BYTES], connection_key[kx::KEY_BYTES];
    unsigned char rx[kx::SESSION_BYTES], tx[kx::SESSION_BYTES];
    std::string why, line, ok;
    kx::read_key(server_key, server_public_key);  // já conferida por receive_key()
    kx::Ephemeral mine;  // o par desta conexão: a secreta é apagada logo após o uso
    const net::Received second = net::receive_line(client_socket, reader, line, why, &deadline);
    if (second != net::Received::Line) {
        failure = "Erro: o aperto de mão com o servidor falhou (" + why + ")";
        if (second == net::Received::TimedOut || second == net::Received::Closed)
            failure += ONLY_ONE_KEY;  // client_key.h: o servidor do Exemplo 2 envia uma só
        return false;
    }
    if (!kx::read_key(line, connection_key) ||
        !kx::client_session_keys(rx, tx, mine, server_public_key, connection_key)) {
        failure = "Erro: chave inválida recebida do servidor";
        return false;
    }
    line = mine.line() + kx::start_sending(sending, tx) + "\n";
    bool done = net::send_all(client_socket, line.data(), line.size());
    if (!done) why = "erro ao enviar: " + net::last_error();
    if (done)
        done = net::receive_line(client_socket, reader, line, why, &deadline) == net::Received::Line;
    if (done && !kx::start_receiving(receiving, line, rx)) {
        why = "cabeçalho inválido";
        done = false;
    }
    if (done)
        done = net::receive_line(client_socket, reader, line, why, &deadline) == net::Received::Line;
    // O "OK" do servidor: só quem tem as chaves secretas que ele diz ter consegue cifrá-lo.
    const bool impostor = done && (!kx::open(receiving, line, ok) || ok != kx::CONFIRMATION);
    net::set_timeout(client_socket, SO_RCVTIMEO, 0);  // daqui em diante, sem prazo
    sodium_memzero(rx, sizeof rx);
    sodium_memzero(tx, sizeof tx);
    if (impostor)
        failure = NOT_THE_SERVER;  // client_key.h: "este servidor não tem a chave que diz ter"
    else if (!done)
        failure = "Erro: o aperto de mão com o servidor falhou (" + why + ")";
    return done && !impostor;
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
    if (!pinned.empty() && !kx::read_key(pinned, check))
        return args::usage_error(USAGE, "a chave deve ter 44 caracteres base64url (32 bytes)");

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
    // Aguarda a chave PÚBLICA do servidor (nada secreto: é a que ele mostra ao iniciar)
    // Diferença do original: Cada mensagem é uma linha. O TCP não separa as mensagens
    // (um recv() pode trazer duas, ou meia); `reader` junta os pedaços e separa as linhas.
    net::LineReader reader;
    const net::Deadline deadline(10.0);  // para o aperto de mão inteiro
    std::string server_key = receive_key(client_socket, reader, deadline);  // client_key.h
    if (server_key.empty()) return 1;
    // Diferença do Exemplo 2: A chave é conferida antes de enviar qualquer coisa. Vale a dada
    // com --chave-servidor ou a salva numa conexão anterior (TOFU). Sem isso, um intruso no
    // meio do caminho faria a troca de chaves no lugar do servidor e leria tudo (intruso.cpp).
    bool first_use = false;
    if (!trust_server_key(server_key, pinned, IP, PORTA, argv[0], first_use)) return 1;

    // Responde com a troca de chaves: a chave pública desta conexão e os cabeçalhos
    kx::Stream sending{}, receiving{};  // os dois fluxos: cada um é de uma só thread
    std::string failure;
    if (!exchange_keys(client_socket, reader, server_key, sending, receiving, deadline, failure)) {
        std::cerr << failure << "\n";
        return 1;
    }
    // Diferença do Exemplo 2: Uma chave nova só é salva depois do "OK" do servidor. Como o
    // accept-new do SSH: quem não tem a chave secreta não entra em servidores_conhecidos.txt.
    if (first_use && !save_server_key(server_key, IP, PORTA, argv[0])) return 1;

    // Responde um "OK" criptografado para sinalizar
    // o recebimento da chave
    const std::string ok = kx::seal(sending, kx::CONFIRMATION) + "\n";
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
            if (received == net::Received::Line && kx::open(receiving, data, message)) {
                // Printa na tela a mensagem
                std::cout << safe_text::printable(message) << "\n>" << std::flush;
            } else {
                // Diferença do Exemplo 2: Mensagem inválida encerra a conexão. A conversa
                // deixou de ser confiável.
                finish("\nErro: mensagem inválida (alterada, repetida, fora de ordem ou longa "
                       "demais); conexão encerrada", 1);
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
        // Diferença do original: Mensagem longa demais não é enviada. Cabem 748 bytes.
        if (message.size() > kx::MAX_TEXT) {
            std::cout << "Mensagem muito longa: " << message.size() << " bytes (o máximo é "
                      << kx::MAX_TEXT << "); não enviada\n";
            continue;
        }
        // Envia a mensagem para o servidor: o token, numa linha
        const std::string line = kx::seal(sending, message) + "\n";
        if (!net::send_all(client_socket, line.data(), line.size())) {
            std::cerr << "Erro ao enviar: " + net::last_error() + "\n";
            shutdown(client_socket, SHUT_WR);
            break;
        }
    }
    client_listen.join();  // a thread de escuta encerra o programa
}
