// Exemplo 3 - Transferência de arquivos: o CLIENTE (tradução de cliente.py): pede um
// arquivo com "GET <nome>" e grava a resposta em downloads/<nome>.
// Uso: ./client [IP [PORTA [ARQUIVO]]] [--dir PASTA]
#include "../common/net.h"
#include "client_command_line.h"  // [IP [PORTA [ARQUIVO]]] [--dir PASTA], --help
#include "download.h"  // o temporário, o "OK" final retido, o progresso e o resumo

#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

namespace fs = std::filesystem;

int main(int argc, char* argv[]) {
    net::Startup startup;  // Winsock no Windows; ignora SIGPIPE no Linux/macOS
    // Diferença do original: Endereço, porta, arquivo e pasta na linha de comando. Veja --help.
    std::string HOST = "localhost", PORT = "8000", file_name, dir;
    bool dir_given = false;
    int code = parse_command_line(argc, argv, HOST, PORT, file_name, dir, dir_given);
    if (code >= 0) return code;

    // Cria um socket TCP/IP
    socket_t client_socket = socket(net::family_of(HOST), SOCK_STREAM, 0);
    if (client_socket == INVALID_SOCKET) return net::fail("Erro ao criar o socket");
    // Define o endereço e a porta do servidor ao qual o socket estará conectado
    std::cout << "Iniciando conexão com o servidor em " << net::host_port(HOST, PORT) << std::endl;
    std::string error;
    net::AddrList address = net::resolve(HOST, PORT, false, error, net::family_of(HOST));
    if (!address) {
        std::cerr << "Erro: " << error << "\n";
        return 1;
    }
    // Conecta o socket ao endereço IP e porta do servidor
    if (connect(client_socket, address->ai_addr, static_cast<socklen_t>(address->ai_addrlen)) != 0) {
        std::cerr << "Erro: não foi possível conectar ao servidor " + net::host_port(HOST, PORT) + ": " +
                         net::last_error() + " (há um servidor do Exemplo 3, TCP, nessa porta?)\n";  // erro antes de escrever
        return 1;
    }

    // Envia a mensagem para o servidor solicitar um arquivo (o nome é perguntado se não veio)
    if (file_name.empty()) {
        std::cout << "Digite o nome do arquivo para fazer download: " << std::flush;
        if (!net::read_line(file_name)) {
            std::cerr << "\nNenhum nome digitado\n";
            return 1;
        }
        // Diferença do original: O nome é conferido antes de ser enviado. "../x" sairia da pasta.
        if (!file_name_ok(file_name)) return 2;  // como na linha de comando
    }
    std::string get = "GET " + file_name;
    if (!net::send_all(client_socket, get.data(), get.size()))
        return net::fail("Erro ao enviar o pedido");

    // Caminho para fazer download dos arquivos: downloads/ ao lado do programa (ou --dir)
    fs::path download_path = fs::u8path(net::program_folder(argv[0])) / "downloads";
    if (dir_given) download_path = fs::u8path(dir);
    // Abre o arquivo para escrita
    // Diferença do original: Arquivo temporário. Só ganha o nome final completo (download.h).
    Download f;
    if (!f.open(download_path, file_name)) return 1;
    // Recebe os pacotes de dados do servidor
    // Diferença do original: recv de até 256 KiB. Os mesmos bytes, com menos chamadas.
    std::vector<char> data(256 * 1024);
    while (true) {
        auto received = recv(client_socket, data.data(), static_cast<int>(data.size()), 0);
        if (received < 0 && net::interrupted()) continue;
        if (received < 0)
            return f.fail("\nErro: transferência incompleta: " + net::last_error() + " (" +
                          std::to_string(f.received()) + " bytes recebidos)");
        if (received == 0) break;  // o servidor fechou: fim da resposta
        // Diferença do original: O OK final não vai para o arquivo. Veja download.h.
        f.write(data.data(), static_cast<std::size_t>(received));
    }
    // Fecha o socket
    net::close_socket(client_socket);
    // Diferença do original: ERROR ou conexão cortada não viram arquivo. Sem o OK: código 1.
    return f.finish();
}
