// Exemplo 3 - Transferência de arquivos: o SERVIDOR (tradução de repositorio.py). A cada
// "GET <nome>", envia o arquivo em send()s de 1024 bytes (uma linha cada), "OK", e fecha.
#include "../common/args.h"
#include "../common/net.h"
#include "../common/admission.h"
#include "connection.h"      // send_error e close_after_sending
#include "request.h"         // o pedido "GET <nome>" e as regras do nome
#include "served_file.h"     // qual arquivo da pasta um nome indica; BufferedFile
#include "transfer_clock.h"  // tempo e MB/s do resumo (--quiet)

#include <filesystem>
#include <iostream>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

namespace fs = std::filesystem;

static const char* const USAGE =
    "uso: server [IP [PORTA]] [--chunk N] [--quiet] [--dir PASTA] [--limite-por-ip N]";
static const char* const HELP = "Servidor de arquivos do Exemplo 3: responde a \"GET <nome>\" "
    "com o arquivo e OK. Padrão: localhost 8000.\n  --chunk N   bytes por send() (padrão 1024)\n"
    "  --quiet     um resumo por arquivo em vez de uma linha por segmento\n  --dir PASTA a pasta "
    "servida (padrão: imagens/ ao lado do programa)\n  --limite-por-ip N  conexões por IP (nenhum)\n";

static std::size_t chunk_size = 1024;  // bytes por send(), como no guia (--chunk N)
static bool quiet = false;             // --quiet: um resumo em vez de uma linha por segmento
static fs::path img_path;              // a pasta servida
static admission::Gate gate;           // quantas conexões cabem, e quem cede o lugar (common/)
static void receive_file(socket_t client_socket, std::string address, admission::Ticket);
static void accept_clients(socket_t server_socket);
// Mostra uma linha inteira de uma vez (as threads dos clientes escrevem ao mesmo tempo).
static void say(const std::string& text) { std::cout << (text + "\n") << std::flush; }

int main(int argc, char* argv[]) {
    net::Startup startup;  // Winsock no Windows; ignora SIGPIPE no Linux/macOS
    // Diferença do original: Endereço, porta e opções na linha de comando. Veja USAGE e HELP.
    std::string IP = "localhost", PORT = "8000", chunk = "1024", per_ip = "nenhum";
    std::string dir = (fs::u8path(net::program_folder(argv[0])) / "imagens").u8string();
    int code = args::parse_address(argc, argv, USAGE, HELP, IP, PORT, {{"--chunk", &chunk},
                                   {"--quiet", nullptr, &quiet}, {"--dir", &dir},
                                   {"--limite-por-ip", &per_ip}});
    std::size_t limit = 0;  // 0: nenhum limite por IP enquanto houver lugar
    if (code < 0 && !admission::read_group_limit(per_ip, limit, USAGE)) code = 2;
    if (code >= 0) return code;
    if (!args::number(chunk, 1, 16 * 1024 * 1024, chunk_size))
        return args::usage_error(USAGE, "--chunk deve ser um número de 1 a 16777216");
    if (std::error_code ec; !fs::is_directory(fs::u8path(dir), ec)) {
        std::cerr << "Erro: a pasta " << dir << " não existe\n";
        return 1;
    }

    // Cria um socket TCP/IP
    socket_t server_socket = socket(net::family_of(IP), SOCK_STREAM, 0);
    if (server_socket == INVALID_SOCKET) return net::fail("Erro ao criar o socket");
    // Diferença do original: SO_REUSEADDR. Para reiniciar logo na mesma porta (TIME_WAIT).
    net::set_reuse_address(server_socket);

    // Define o endereço e a porta que o socket vai se vincular
    std::string error;
    net::AddrList address = net::resolve(IP, PORT, true, error, net::family_of(IP));
    if (!address) {
        std::cerr << "Erro: " << error << "\n";
        return 1;
    }
    std::cout << "Iniciando servidor em " << net::host_port(IP, PORT) << std::endl;
    if (bind(server_socket, address->ai_addr, static_cast<socklen_t>(address->ai_addrlen)) != 0) {
        std::string why = net::last_error() + net::bind_hint(address->ai_addr);  // e o porquê
        std::cerr << "Erro: não foi possível usar o endereço " << net::host_port(IP, PORT) << ": "
                  << why << "\n";
        return 1;
    }
    // Define o tamanho da fila de conexões ainda não aceitas (o guia diz "o número
    // máximo de clientes que podem se conectar", mas não é isso).
    // Diferença do original: listen(SOMAXCONN) em vez de listen(5). Veja o Exemplo 1.
    if (listen(server_socket, SOMAXCONN) != 0) return net::fail("Erro no listen");

    // Caminho absoluto para o diretório das imagens (imagens/ ao lado do programa, ou --dir)
    img_path = fs::u8path(dir);
    std::cerr << gate.open(limit, 2) << std::endl;  // quantas cabem (o socket e o arquivo)
    accept_clients(server_socket);
}

// Função para tratar a comunicação com cada cliente paralelamente
static void receive_file(socket_t client_socket, std::string client_address,
                         admission::Ticket ticket) {  // o lugar dele, devolvido no close
    // Recebe a mensagem do cliente
    // Diferença do original: Prazos. 10 s para pedir, 10 s sem ler o arquivo: desconectado.
    net::set_timeout(client_socket, SO_RCVTIMEO, 10.0);
    net::set_timeout(client_socket, SO_SNDTIMEO, 10.0);
    char data[1024];
    auto received = recv(client_socket, data, sizeof data, 0);
    while (received < 0 && net::interrupted()) received = recv(client_socket, data, sizeof data, 0);
    if (received <= 0) {  // o prazo acabou, ou o cliente fechou sem pedir nada
        say("Cliente " + client_address + " não enviou pedido" +
            (received < 0 ? ": " + net::last_error() : ""));
        return close_after_sending(client_socket, ticket);
    }
    ticket.settle();  // o pedido chegou: cheio, ele cede o lugar depois dos que não pediram

    // Verifica se o cliente solicitou um arquivo ("GET <nome>": veja request.h)
    request::Parsed req = request::parse(std::string(data, static_cast<std::size_t>(received)));
    if (req.name.empty()) {
        // Diferença do original: Pedido inválido tem resposta. O original derruba a thread.
        say("Pedido inválido de " + client_address + ": " + req.error);
        send_error(client_socket, "Pedido inválido: use GET <nome do arquivo>");
    } else {
        // Obtém o nome do arquivo solicitado
        // Diferença do original: Bytes de controle nunca vão crus para o terminal. \x1b: texto.
        say("Cliente solicitou o arquivo " + request::printable(req.name));
        // Verifica se o arquivo existe
        // Diferença do original: Nomes hostis são recusados antes de tocar no disco. request.h.
        // Diferença do original: Qualquer arquivo comum da pasta. E só ele (served_file.h).
        fs::path path = req.error.empty() ? find_served_file(img_path, req.name) : fs::path();
        if (!req.error.empty()) {
            say("Pedido recusado: " + req.error);
            send_error(client_socket, "Nome de arquivo inválido: " + req.error);
        } else if (!path.empty()) {
            say("Arquivo " + req.name + " encontrado.");
            // Abre o arquivo para leitura
            // Diferença do original: Buffer de leitura de 64 KiB. Menos leituras do disco.
            BufferedFile f(path);
            std::vector<char> data(chunk_size);
            // Envia o arquivo em pacotes de 1024 em 1024 bytes (chunk_size: 1024 ou --chunk)
            std::size_t count = 0, total = 0;
            TransferClock clock;
            bool sent = true;  // false: o cliente caiu ou parou de ler (veja Prazos)
            while (f.is_open()) {  // (um arquivo que não abriu nem entra no laço)
                f.read(data.data(), static_cast<std::streamsize>(chunk_size));
                std::size_t got = static_cast<std::size_t>(f.gcount());
                if (got == 0) break;
                // Diferença do original: send_all envia o pedaço inteiro. send() envia parte.
                sent = net::send_all(client_socket, data.data(), got);
                if (!sent) {
                    say("Envio interrompido no segmento " + std::to_string(count + 1) + ": " +
                        net::last_error());
                    break;
                }
                count += 1;
                total += got;
                if (!quiet) say("Enviado o segmento número " + std::to_string(count));
            }
            // Envia uma mensagem final para o cliente (só se o arquivo foi inteiro)
            // Diferença do original: Erro de leitura não termina em OK. Um arquivo lido pela
            // metade (encurtado no meio do envio, erro do disco) acaba o laço como o fim dele;
            // sem o OK, o cliente não guarda um arquivo truncado.
            if (!f.is_open()) {
                say("Erro ao abrir " + req.name);
                send_error(client_socket, "Erro ao ler o arquivo " + req.name);
            } else if (sent && !f.read_whole(total)) {
                say("Erro ao ler " + req.name + ": " + std::to_string(total) + " de " +
                    std::to_string(f.size()) + " bytes lidos (o arquivo mudou ou o disco falhou)");
            } else if (sent) {
                if (quiet)
                    say("Enviados " + std::to_string(count) + " segmentos, " +
                        clock.bytes_in_time(total, " (") + ")");
                say("Envio concluído");
                net::send_all(client_socket, "OK", 2);
            }
            // Se o arquivo não existe, responde ERROR e encerra a conexão
        } else {
            // Caso o arquivo não exista
            say("Arquivo " + req.name + " NÃO encontrado.");
            send_error(client_socket, "O arquivo " + req.name + " não existe");
        }
    }

    // Fecha a conexão com o cliente
    // Diferença do original: Fechamento em duas etapas. FIN, descarte, close(): connection.h.
    close_after_sending(client_socket, ticket);
}

static void accept_clients(socket_t server_socket) {
    while (true) {
        // Aceita a conexão do cliente
        std::cout << "Aguardando conexão..." << std::endl;
        sockaddr_storage client_address{};
        socklen_t address_length = sizeof client_address;
        socket_t client_socket = accept(
            server_socket, reinterpret_cast<sockaddr*>(&client_address), &address_length);
        // Diferença do original: Falta de recursos não derruba o servidor. Só esta conexão cai.
        if (client_socket == INVALID_SOCKET) {
            report_accept_failure();  // EINTR: de novo; sem fds: 1 linha/s com a contagem
            continue;
        }
        const sockaddr* peer = reinterpret_cast<const sockaddr*>(&client_address);
        // Diferença do original: Lugares divididos por igual. Cheio, sai uma do grupo com mais.
        admission::Ticket ticket = gate.admit(client_socket, peer, false);  // falta o pedido; e keepalive
        if (!ticket) continue;  // recusada: já fechada, e o servidor disse por quê
        std::string client_text = net::endpoint_of(peer);
        std::cout << "Cliente conectado: " << client_text << std::endl;
        // Recebe o arquivo enviado pelo cliente: uma thread por cliente, que termina sozinha
        try {
            std::thread(receive_file, client_socket, client_text, std::move(ticket)).detach();
        } catch (const std::system_error& e) {
            say("Erro: não foi possível criar uma thread para " + client_text + ": " + e.what());
            net::close_socket(client_socket);
        }
    }
}
