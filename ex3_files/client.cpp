// Exemplo 3 - Transferência de arquivos: o CLIENTE (tradução de cliente.py).
//
// Conecta ao servidor, pede um arquivo com "GET <nome>" e grava tudo o que
// receber em downloads/<nome>, até o servidor fechar a conexão.
//
// Uso: ./client [IP [PORTA [ARQUIVO]]] [--dir PASTA]
#include "../common/net.h"
#include "request.h"  // validação do nome do arquivo

#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <string>
#include <vector>

namespace fs = std::filesystem;

static const char* const USAGE =
    "uso: client [IP [PORTA [ARQUIVO]]] [--dir PASTA]   (padrão: localhost 8000)";

// O arquivo temporário do download em andamento, para apagá-lo se o
// programa for interrompido (Ctrl+C) no meio.
static std::string partial_file;

extern "C" void on_interrupt(int) {
    if (!partial_file.empty()) std::remove(partial_file.c_str());
    std::_Exit(130);
}

// Apaga o arquivo temporário, mostra o erro e termina com código 1.
static int fail(const std::string& message) {
    if (!partial_file.empty()) std::remove(partial_file.c_str());
    std::cerr << message << "\n";
    return 1;
}

int main(int argc, char* argv[]) {
    net::Startup startup;  // Winsock no Windows; ignora SIGPIPE no Linux/macOS

    // Define o endereço e a porta do servidor (e, opcionalmente, o arquivo).
    std::string HOST = "localhost", PORT = "8000", file_name;
    // Caminho para fazer download dos arquivos: downloads/ ao lado do
    // programa, como o os.path.dirname(__file__) + '/downloads/' do original.
    fs::path download_path = fs::u8path(net::program_folder(argv[0])) / "downloads";
    std::vector<std::string> positional;
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        if (arg == "--help" || arg == "-h") {
            std::cout << USAGE << "\n\nCliente do Exemplo 3: pede um arquivo ao servidor "
                         "(GET <nome>) e o grava em downloads/ (ou em --dir PASTA).\n"
                         "Sem ARQUIVO, pergunta o nome.\n";
            return 0;
        } else if (arg == "--dir" && i + 1 < argc) {
            download_path = fs::u8path(argv[++i]);
        } else if (arg.rfind("-", 0) == 0 || positional.size() == 3) {
            std::cerr << USAGE << "\n";
            return 2;
        } else {
            positional.push_back(arg);
        }
    }
    if (positional.size() >= 2 && !net::parse_port(positional[1], PORT)) {
        std::cerr << USAGE << "\n";
        return 2;
    }
    if (!positional.empty()) HOST = positional[0];
    // Diferença do original: um nome dado na linha de comando é conferido
    // antes mesmo de conectar.
    if (positional.size() == 3) {
        file_name = positional[2];
        std::string why = request::check_name(file_name);
        if (!why.empty()) {
            std::cerr << "Erro: nome de arquivo inválido: " << why << "\n";
            return 2;
        }
    }

    std::cout << "Iniciando conexão com o servidor em " << HOST << ":" << PORT << std::endl;

    // Cria um socket TCP/IP e conecta ao servidor (tenta cada endereço).
    std::string error;
    net::AddrList addresses = net::resolve(HOST, PORT, false, error);
    if (!addresses) return fail("Erro: " + error);
    socket_t client_socket = INVALID_SOCKET;
    for (addrinfo* a = addresses.get(); a != nullptr; a = a->ai_next) {
        client_socket = socket(a->ai_family, a->ai_socktype, a->ai_protocol);
        if (client_socket == INVALID_SOCKET) continue;
        if (connect(client_socket, a->ai_addr, static_cast<socklen_t>(a->ai_addrlen)) == 0) break;
        error = net::last_error();
        net::close_socket(client_socket);
        client_socket = INVALID_SOCKET;
    }
    if (client_socket == INVALID_SOCKET)
        return fail("Erro: não foi possível conectar ao servidor " + HOST + ":" + PORT + ": " +
                    error + " (o servidor está rodando?)");

    // Pergunta o nome do arquivo (se não veio na linha de comando).
    if (file_name.empty()) {
        std::cout << "Digite o nome do arquivo para fazer download: " << std::flush;
        if (!net::read_line(file_name)) return fail("\nNenhum nome digitado");
        // Diferença do original: o nome é conferido antes de ser enviado
        // (e antes de virar um caminho no disco: "../x" gravaria fora de
        // downloads/).
        std::string why = request::check_name(file_name);
        if (!why.empty()) return fail("Erro: nome de arquivo inválido: " + why);
    }

    // Envia a mensagem para o servidor solicitar um arquivo.
    std::string get = "GET " + file_name;
    if (!net::send_all(client_socket, get.data(), get.size()))
        return fail("Erro ao enviar o pedido: " + net::last_error());

    // Diferença do original: o download vai para um arquivo temporário, que
    // só ganha o nome final quando chega inteiro. Nada pela metade fica em
    // downloads/ se a conexão cair ou se o servidor responder ERROR.
    std::error_code ec;
    fs::create_directories(download_path, ec);
    fs::path final_path = download_path / fs::u8path(file_name);
    std::random_device random;
    fs::path temp_path = download_path / fs::u8path("." + file_name + "." +
                                                    std::to_string(random()) + ".part");
    std::ofstream f(temp_path, std::ios::binary);
    if (!f) return fail("Erro: não foi possível criar " + temp_path.u8string());
    partial_file = temp_path.string();
    std::signal(SIGINT, on_interrupt);
    std::signal(SIGTERM, on_interrupt);

    // Recebe os pacotes de dados do servidor até ele fechar a conexão.
    // Diferença do original: os 2 últimos bytes recebidos ficam guardados em
    // `tail`, sem ir para o arquivo: se forem "OK", são o marcador de fim do
    // servidor, não parte da imagem (o original os grava: o arquivo baixado
    // fica 2 bytes maior que o original). `head` guarda o começo da resposta,
    // para reconhecer um ERROR "...".
    std::vector<char> data(256 * 1024);  // 256 KiB por recv(): menos chamadas
    std::string tail, head;
    std::size_t total = 0;
    const bool show_progress = net::stdout_is_terminal();
    auto start = std::chrono::steady_clock::now(), last_progress = start;
    while (true) {
        auto received = recv(client_socket, data.data(), static_cast<int>(data.size()), 0);
        if (received < 0 && net::interrupted()) continue;
        if (received < 0)
            return fail("\nErro: transferência incompleta: " + net::last_error() + " (" +
                        std::to_string(total) + " bytes recebidos)");
        if (received == 0) break;  // o servidor fechou: fim da resposta
        std::size_t n = static_cast<std::size_t>(received);
        total += n;
        if (head.size() < 1024) head.append(data.data(), std::min(n, 1024 - head.size()));
        // `tail` guarda sempre os 2 últimos bytes recebidos até agora; tudo
        // o que vem antes deles já pode ir para o arquivo.
        if (n >= 2) {
            f.write(tail.data(), static_cast<std::streamsize>(tail.size()));
            f.write(data.data(), static_cast<std::streamsize>(n - 2));
            tail.assign(data.data() + n - 2, 2);
        } else {  // chegou 1 byte só
            tail.append(data.data(), 1);
            if (tail.size() > 2) {
                f.write(tail.data(), 1);
                tail.erase(0, 1);
            }
        }
        if (show_progress && std::chrono::steady_clock::now() - last_progress >
                                 std::chrono::milliseconds(100)) {
            last_progress = std::chrono::steady_clock::now();
            std::cout << "\rRecebidos " << total << " bytes..." << std::flush;
        }
    }
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    // Fecha o socket
    net::close_socket(client_socket);
    f.close();
    if (show_progress) std::cout << "\r" << std::string(40, ' ') << "\r";

    if (tail != "OK") {
        // Sem o "OK" final: ou é um ERROR do servidor, ou a conexão caiu.
        if (head.rfind("ERROR \"", 0) == 0)
            return fail("O servidor respondeu: " + request::printable(head));
        return fail("Erro: transferência incompleta: a conexão terminou sem o OK final (" +
                    std::to_string(total) + " bytes recebidos); nenhum arquivo foi gravado");
    }
    if (!f) return fail("Erro ao gravar " + temp_path.u8string());
    fs::rename(temp_path, final_path, ec);
    if (ec) return fail("Erro ao gravar " + final_path.u8string() + ": " + ec.message());
    partial_file.clear();

    std::size_t size = total - 2;
    char summary[256];
    std::snprintf(summary, sizeof summary, "Download concluído: %s (%zu bytes em %.3f s, %.1f MB/s)",
                  final_path.u8string().c_str(), size, seconds,
                  seconds > 0 ? static_cast<double>(size) / seconds / 1e6 : 0.0);
    std::cout << summary << std::endl;
    return 0;
}
