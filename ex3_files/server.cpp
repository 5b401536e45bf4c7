// Exemplo 3 - Transferência de arquivos: o SERVIDOR (tradução de repositorio.py).
//
// Cada cliente envia "GET <nome>"; o servidor envia o arquivo em pedaços de
// 1024 bytes (um send() por pedaço, mostrando cada um), depois os 2 bytes
// "OK", e fecha a conexão. Se o arquivo não existe, envia ERROR "...".
//
// Uso: ./server [IP [PORTA]] [--chunk N] [--quiet] [--dir PASTA]
#include "../common/net.h"
#include "request.h"  // análise do pedido "GET <nome>"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

namespace fs = std::filesystem;

static const char* const USAGE =
    "uso: server [IP [PORTA]] [--chunk N] [--quiet] [--dir PASTA]   (padrão: localhost 8000)";

// Opções (iguais para todos os clientes; definidas em main()).
static std::size_t chunk_size = 1024;  // bytes por send(), como no guia
static bool quiet = false;             // --quiet: um resumo em vez de uma linha por segmento
static fs::path img_path;              // a pasta servida

// Diferença do original: prazos. Um cliente que conecta e não pede nada, ou
// que para de ler no meio do download, é desconectado (a thread dele não
// fica presa para sempre).
static const double REQUEST_TIMEOUT = 10.0;
static const double SEND_TIMEOUT = 10.0;

static void say(const std::string& text) { std::cout << (text + "\n") << std::flush; }

// Procura `name` entre os arquivos da pasta servida. Devolve o caminho, ou
// vazio se não existir um arquivo comum com esse nome exato DENTRO da pasta.
// Diferença do original: o guia confere o nome numa lista fixa de 4 imagens;
// aqui vale qualquer arquivo comum da pasta, e só ele: um link simbólico que
// aponte para fora da pasta é recusado.
static fs::path find_file(const std::string& name) {
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(img_path, ec)) {
        if (entry.path().filename().u8string() != name) continue;  // nome exato
        fs::path real = fs::canonical(entry.path(), ec);
        if (ec || !fs::is_regular_file(real, ec)) return {};
        if (real.parent_path() != fs::canonical(img_path, ec)) return {};  // fora da pasta
        return real;
    }
    return {};
}

// Envia `text` como resposta de erro: ERROR "<texto>" (o formato do guia).
static void send_error(socket_t client_socket, const std::string& text) {
    std::string data = "ERROR \"" + text + "\"";
    net::send_all(client_socket, data.data(), data.size());
}

// Envia o arquivo em pedaços de chunk_size bytes. Devolve false se a conexão
// falhar no meio (o cliente desistiu ou caiu).
static bool send_file(socket_t client_socket, const fs::path& path, const std::string& name) {
    std::ifstream f(path, std::ios::binary);
    if (!f) {
        say("Erro ao abrir " + name);
        send_error(client_socket, "Erro ao ler o arquivo " + name);
        return false;
    }
    // O arquivo é lido em blocos de ~64 KiB (menos leituras de disco) e cada
    // bloco é enviado em pedaços de chunk_size bytes: um send() por pedaço,
    // como o f.read(1024) + send() do guia.
    std::vector<char> block(chunk_size * std::max<std::size_t>(1, 65536 / chunk_size));
    std::size_t count = 0, total = 0;
    auto start = std::chrono::steady_clock::now();
    while (f) {
        f.read(block.data(), static_cast<std::streamsize>(block.size()));
        std::size_t got = static_cast<std::size_t>(f.gcount());
        for (std::size_t offset = 0; offset < got; offset += chunk_size) {
            std::size_t piece = std::min(chunk_size, got - offset);
            // Diferença do original: send() pode enviar só parte do pedaço;
            // send_all() garante que o pedaço inteiro foi entregue ao kernel.
            if (!net::send_all(client_socket, block.data() + offset, piece)) {
                say("Envio interrompido no segmento " + std::to_string(count + 1) + ": " +
                    net::last_error());
                return false;
            }
            count += 1;
            total += piece;
            if (!quiet) say("Enviado o segmento número " + std::to_string(count));
        }
    }
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (quiet) {
        char summary[160];
        std::snprintf(summary, sizeof summary,
                      "Enviados %zu segmentos, %zu bytes em %.3f s (%.1f MB/s)", count, total,
                      seconds, seconds > 0 ? total / seconds / 1e6 : 0.0);
        say(summary);
    }
    return true;
}

// Função para tratar a comunicação com cada cliente paralelamente.
static void receive_file(socket_t client_socket, std::string client_address) {
    // Recebe a mensagem do cliente (o pedido).
    // Diferença do original: o pedido não tem terminador, então não há como
    // saber se ele chegou inteiro; como o guia, usamos o que chegar no
    // primeiro recv() (um pedido de até 1024 bytes cabe num segmento).
    char data[1024];
    net::set_timeout(client_socket, SO_RCVTIMEO, REQUEST_TIMEOUT);
    net::set_timeout(client_socket, SO_SNDTIMEO, SEND_TIMEOUT);
    auto received = recv(client_socket, data, sizeof data, 0);
    while (received < 0 && net::interrupted()) received = recv(client_socket, data, sizeof data, 0);

    if (received <= 0) {
        say("Cliente " + client_address + " não enviou pedido" +
            (received < 0 ? " (" + net::last_error() + ")" : ""));
    } else {
        request::Parsed req = request::parse(std::string(data, static_cast<std::size_t>(received)));
        if (req.name.empty()) {
            // Diferença do original: "GET" sem nome derruba a thread do
            // Python (IndexError); qualquer outra coisa fica sem resposta.
            say("Pedido inválido de " + client_address + ": " + req.error);
            send_error(client_socket, "Pedido inválido: use GET <nome do arquivo>");
        } else {
            // Obtém o nome do arquivo solicitado
            say("Cliente solicitou o arquivo " + request::printable(req.name));
            fs::path path;
            if (!req.error.empty()) {
                // Diferença do original: nomes com /, \, :, .., ponto inicial
                // ou bytes de controle nunca chegam perto do disco.
                say("Pedido recusado: " + req.error);
                send_error(client_socket, "Nome de arquivo inválido: " + req.error);
            } else if (!(path = find_file(req.name)).empty()) {
                // Verifica se o arquivo existe
                say("Arquivo " + req.name + " encontrado.");
                if (send_file(client_socket, path, req.name)) {
                    // Envia uma mensagem final para o cliente
                    say("Envio concluído");
                    net::send_all(client_socket, "OK", 2);
                }
            } else {
                // Caso o arquivo não exista
                say("Arquivo " + req.name + " NÃO encontrado.");
                send_error(client_socket, "O arquivo " + req.name + " não existe");
            }
        }
    }

    // Fecha a conexão com o cliente.
    // Diferença do original: fechamento em duas etapas (Stevens, "half-close"):
    // shutdown(SHUT_WR) envia o FIN depois do último byte; o servidor então
    // descarta o que o cliente ainda mandar até ele fechar também (no máximo
    // 2 s). Um close() direto com bytes não lidos no buffer (ex.: o "\n" de
    // quem testa com nc) envia RST, e o cliente pode perder o fim do arquivo.
    shutdown(client_socket, SHUT_WR);
    net::set_timeout(client_socket, SO_RCVTIMEO, 2.0);
    while (recv(client_socket, data, sizeof data, 0) > 0) {
    }
    net::close_socket(client_socket);
}

int main(int argc, char* argv[]) {
    net::Startup startup;  // Winsock no Windows; ignora SIGPIPE no Linux/macOS

    // Define o endereço e a porta (e as opções) a partir da linha de comando.
    std::string IP = "localhost", PORT = "8000";
    // Caminho para a pasta das imagens: "imagens/" ao lado do programa, como o
    // os.path.dirname(__file__) + '/imagens/' do original.
    img_path = fs::u8path(net::program_folder(argv[0])) / "imagens";
    std::vector<std::string> positional;
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        if (arg == "--help" || arg == "-h") {
            std::cout << USAGE << "\n\nServidor de arquivos do Exemplo 3: responde a "
                         "\"GET <nome>\" com o arquivo da pasta (padrão: imagens/ ao lado do "
                         "programa) seguido de OK.\n  --chunk N   bytes por send() (padrão 1024)\n"
                         "  --quiet     um resumo por arquivo em vez de uma linha por segmento\n"
                         "  --dir PASTA a pasta servida\n";
            return 0;
        } else if (arg == "--quiet") {
            quiet = true;
        } else if (arg == "--chunk" && i + 1 < argc) {
            std::string n = argv[++i];
            if (n.empty() || n.size() > 8 || n.find_first_not_of("0123456789") != std::string::npos ||
                std::stoul(n) < 1 || std::stoul(n) > 16 * 1024 * 1024) {
                std::cerr << "Erro: --chunk deve ser um número de 1 a 16777216\n" << USAGE << "\n";
                return 2;
            }
            chunk_size = std::stoul(n);
        } else if (arg == "--dir" && i + 1 < argc) {
            img_path = fs::u8path(argv[++i]);
        } else if (arg.rfind("-", 0) == 0 || positional.size() == 2) {
            std::cerr << USAGE << "\n";
            return 2;
        } else {
            positional.push_back(arg);
        }
    }
    if (positional.size() == 2 && !net::parse_port(positional[1], PORT)) {
        std::cerr << USAGE << "\n";
        return 2;
    }
    if (!positional.empty()) IP = positional[0];
    std::error_code ec;
    if (!fs::is_directory(img_path, ec)) {
        std::cerr << "Erro: a pasta " << img_path.u8string() << " não existe\n";
        return 1;
    }

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

    // Define o endereço e a porta que o socket vai se vincular
    std::cout << "Iniciando servidor em " << IP << ":" << PORT << std::endl;
    if (bind(server_socket, address->ai_addr, static_cast<socklen_t>(address->ai_addrlen)) != 0) {
        std::string why = net::last_error() + net::bind_hint();  // em uso? IP de outra máquina?
        std::cerr << "Erro: não foi possível usar o endereço " << IP << ":" << PORT << ": "
                  << why << "\n";
        net::close_socket(server_socket);
        return 1;
    }
    // Define o tamanho da fila de conexões ainda não aceitas.
    // Diferença do original: listen(SOMAXCONN) em vez de listen(5); não é o
    // número máximo de clientes, como diz o comentário do guia (veja o
    // Exemplo 1).
    if (listen(server_socket, SOMAXCONN) != 0) {
        std::cerr << "Erro no listen: " << net::last_error() << "\n";
        net::close_socket(server_socket);
        return 1;
    }

    while (true) {
        // Aceita a conexão do cliente
        std::cout << "Aguardando conexão..." << std::endl;
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
        std::string client_text = net::address_of(peer) + ":" + std::to_string(net::port_of(peer));
        std::cout << "Cliente conectado: " << client_text << std::endl;

        // Atende o cliente numa thread própria (termina sozinha: detach).
        std::thread client(receive_file, client_socket, client_text);
        client.detach();
    }
}
