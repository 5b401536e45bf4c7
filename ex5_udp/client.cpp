// Exemplo 5 - Transferência de arquivos por UDP: o CLIENTE. É o cliente do Exemplo 3 com
// datagramas: pede um arquivo com "GET <nome>" e grava o que chegar em downloads/<nome>.
// Uso: ./client [IP [PORTA [ARQUIVO]]] [--dir PASTA] [--confiavel | --janela N] [--sem-controle]
// Diferença do Exemplo 3: Por UDP, com um modo confiável. Sem --confiavel nem --janela, o que se
// perder, perdeu; com eles, cada datagrama é confirmado.
#include "../common/net.h"
#include "client_command_line.h"  // [IP [PORTA [ARQUIVO]]] [--dir PASTA] e o modo, --help
#include "datagram.h"             // SIZE, OK e o cabeçalho do modo confiável
#include "received_file.h"        // o temporário, e o nome final só com tudo conferido
// Diferença do Exemplo 3: Os cabeçalhos do UDP. datagram.h lê e escreve SIZE, OK e o cabeçalho;
// received_file.h confere o arquivo; <chrono> mede os prazos da espera.
#include <chrono>
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
    // Diferença do Exemplo 3: --confiavel, --janela N e --sem-controle. Sem eles, o modo simples:
    // o que se perder, perdeu. Com eles, cada datagrama tem cabeçalho e é confirmado (window > 0).
    unsigned window = 0;
    bool fixed = false;  // --sem-controle: a janela N sempre, sem controle de congestionamento
    int code = parse_command_line(argc, argv, HOST, PORT, file_name, dir, dir_given, window, fixed);
    if (code >= 0) return code;

    const bool reliable = window > 0;  // o modo (--confiavel ou --janela N)
    // Cria um socket UDP/IP
    // Diferença do Exemplo 3: SOCK_DGRAM. Um socket de datagramas (UDP).
    socket_t client_socket = socket(net::family_of(HOST), SOCK_DGRAM, 0);
    if (client_socket == INVALID_SOCKET) return net::fail("Erro ao criar o socket");
    // Diferença do Exemplo 3: Um buffer de recepção de 4 MiB. O UDP não tem controle de fluxo:
    // o que chega com o buffer cheio é descartado. O padrão do Linux (208 KiB) guarda só 92
    // datagramas de 1024 bytes; o sistema pode dar menos que 4 MiB (net.core.rmem_max).
    int buffer = 4 * 1024 * 1024;
    setsockopt(client_socket, SOL_SOCKET, SO_RCVBUF, reinterpret_cast<const char*>(&buffer), sizeof buffer);
    // Define o endereço e a porta do servidor ao qual o socket vai enviar
    std::cout << "Iniciando o pedido ao servidor em " << HOST << ":" << PORT << " (UDP, modo "
              << (!reliable ? "simples" : window == 1 ? "confiável: pare e espere"
                  : "confiável: janela " + std::to_string(window) + (fixed ? " fixa" : "")) << ")" << std::endl;
    std::string error;
    net::AddrList address = net::resolve(HOST, PORT, false, error, net::family_of(HOST));
    if (!address) {
        std::cerr << "Erro: " << error << "\n";
        return 1;
    }
    // Conecta o socket ao endereço IP e porta do servidor
    // Diferença do Exemplo 3: connect() não envia nada. Num socket UDP ele só fixa o destino
    // de send() e faz o sistema descartar datagramas de qualquer outro endereço. Não há
    // conexão: a mensagem acima diz "pedido", não "conexão".
    if (connect(client_socket, address->ai_addr, address->ai_addrlen) != 0) {
        std::cerr << "Erro: não foi possível usar o endereço " + HOST + ":" + PORT + ": " +
                         net::last_error() + "\n";  // erro antes de escrever
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
    // Diferença do Exemplo 3: O pedido é um datagrama. No modo confiável, depois do cabeçalho
    // com a janela, e completado com zeros até 1200 bytes: antes de o cliente confirmar o SIZE,
    // o servidor envia no máximo 3 vezes o que recebeu (como o QUIC). Sem resposta, ele é
    // repetido a cada 1 s, 3 vezes no máximo.
    if (reliable)
        get = datagram::padded_request(static_cast<std::uint16_t>(window | (fixed ? datagram::FIXED_WINDOW : 0)), get);
    if (send(client_socket, get.data(), static_cast<int>(get.size()), 0) < 0)
        return net::fail("Erro ao enviar o pedido");

    // Caminho para fazer download dos arquivos: downloads/ ao lado do programa (ou --dir)
    fs::path download_path = fs::u8path(net::program_folder(argv[0])) / "downloads";
    if (dir_given) download_path = fs::u8path(dir);
    // Abre o arquivo para escrita
    // Diferença do original: Arquivo temporário. Só ganha o nome final completo (received_file.h).
    // Diferença do Exemplo 3: ReceivedFile no lugar de Download. O mesmo temporário; o fim é o OK
    // com o CRC-32 e o SIZE do começo, não os 2 últimos bytes antes de a conexão fechar.
    ReceivedFile f;
    if (!f.open(download_path, file_name)) return 1;
    // Recebe os datagramas do servidor
    // Diferença do Exemplo 3: Um recv() é um datagrama. Inteiro, nunca parte de um nem dois
    // juntos: 64 KiB cabem qualquer um (no máximo 65507 bytes).
    std::vector<char> data(65536);
    std::uint32_t expected = 0;  // modo confiável: o próximo esperado, contado do SIZE (0)
    std::uint32_t first = 0;     // modo confiável: o número do SIZE (sorteado pelo servidor)
    int requests = 1;            // modo confiável: quantas vezes o pedido foi enviado
    int finished = -1;           // modo confiável: o código de saída, depois do OK
    auto finished_at = std::chrono::steady_clock::now();
    // Modo confiável: quando chegou o último datagrama novo na sequência. Só isso é andamento: um
    // datagrama velho ou repetido a cada 8 s não segura o cliente para sempre.
    auto progress_at = std::chrono::steady_clock::now();
    while (finished < 0 || std::chrono::steady_clock::now() - finished_at < std::chrono::seconds(3)) {
        // (depois do OK, no máximo 3 s, mesmo que o servidor insista)
        // Quanto esperar: 3 s no modo simples; no confiável, 1 s pelo SIZE, 10 s pelos outros, e
        // 0,5 s depois do fim
        // Diferença do Exemplo 3: No confiável, os 10 s contam do último datagrama novo. Não do
        // último que chegou.
        double wait = !reliable ? 3 : finished >= 0 ? 0.5 : expected == 0 ? 1 : 10;
        if (reliable && finished < 0 && expected > 0)
            wait -= std::chrono::duration<double>(std::chrono::steady_clock::now() - progress_at).count();
        if (wait < 0.01) break;  // 10 s sem nada novo: acabou a espera (0 seria "sem prazo")
        net::set_timeout(client_socket, SO_RCVTIMEO, wait);
        auto received = recv(client_socket, data.data(), static_cast<int>(data.size()), 0);
        if (received < 0 && net::interrupted()) continue;
        // Diferença do Exemplo 3: Silêncio encerra a espera. Não há conexão que feche: 3 s sem
        // nada no modo simples, 10 s no confiável (0,5 s depois do fim).
        if (received < 0 && net::timed_out()) {
            if (reliable && finished < 0 && expected == 0 && requests < 3) {
                send(client_socket, get.data(), static_cast<int>(get.size()), 0);  // de novo
                requests += 1;
                continue;
            }
            break;  // silêncio: acabou a espera
        }
        // Um ICMP "porta inalcançável" em resposta ao pedido chega aqui como erro
        if (received < 0)
            return f.fail("Erro: " + net::last_error() + " (há um servidor do Exemplo 5, UDP, em " + HOST +
                          ":" + PORT + "?)");
        std::string payload(data.data(), static_cast<std::size_t>(received));
        std::uint64_t bytes = 0, count = 0;
        std::uint32_t crc = 0;

        if (!reliable) {
            // Modo simples: o conteúdo diz o que é cada datagrama, como o OK no Exemplo 3
            // Diferença do original: ERROR ou conexão cortada não viram arquivo. Sem SIZE e OK
            // conferidos, o que chegou vai para <nome>.incompleto, e o código de saída é 1.
            if (datagram::is_error(payload))
                return f.fail("O servidor respondeu: " + request::printable(payload));
            if (datagram::parse_size(payload, bytes, count)) {
                f.expect(bytes, count);
            } else if (datagram::parse_ok(payload, crc)) {
                f.end(crc);
                break;  // o fim
            } else {
                f.write(payload);
                if (f.too_much()) break;  // além do SIZE: não é o arquivo; nada mais é gravado
            }
            continue;
        }

        // Modo confiável: o cabeçalho diz o tipo e o número (datagram.h)
        // Diferença do Exemplo 3: Só o próximo número da sequência é aceito. Um repetido ou fora
        // de ordem é descartado, e todo datagrama recebe um ACK com o próximo número esperado.
        // O primeiro é o SIZE, com o número que o servidor sorteou: os outros contam dele.
        datagram::Datagram d;
        if (!datagram::decode(data.data(), payload.size(), d)) continue;  // não é do protocolo
        if (d.type == datagram::ERR)
            return f.fail("O servidor respondeu: " + request::printable(d.payload));
        if (expected == 0 && d.type == datagram::SIZE) first = d.seq;
        const std::uint32_t number = d.seq - first;  // módulo 2^32: 0 o SIZE, 1 o primeiro dado
        const std::uint32_t before = expected;
        if (finished >= 0 || number != expected) {
            if (finished < 0 && expected > 0) f.discarded(number < expected);
        } else if (d.type == datagram::SIZE && expected == 0 && datagram::parse_size(d.payload, bytes, count)) {
            f.expect(bytes, count);
            expected += 1;
        } else if (d.type == datagram::DATA && expected >= 1 && f.datagrams() < f.expected_count()) {
            f.write(d.payload);
            expected += 1;
        } else if (d.type == datagram::OK && expected == f.expected_count() + 1 &&
                   datagram::parse_ok(d.payload, crc)) {
            f.end(crc);
            expected += 1;
        } else {
            continue;  // o tipo não é o deste número: ignorado
        }
        if (expected != before) progress_at = std::chrono::steady_clock::now();  // um novo, na sequência
        // Confirma: o próximo número esperado (ACK cumulativo, como o Ack do TCP)
        std::string ack = datagram::encode(datagram::ACK, 0, first + expected, "");
        send(client_socket, ack.data(), static_cast<int>(ack.size()), 0);
        // Depois do OK: o arquivo está pronto, mas o ACK dele pode se perder. Por 0,5 s, um OK
        // repetido recebe o ACK de novo (como o TIME_WAIT do TCP).
        if (finished < 0 && expected == f.expected_count() + 2) {
            finished = f.finish();
            finished_at = std::chrono::steady_clock::now();
        }
    }
    // Fecha o socket
    net::close_socket(client_socket);
    // Diferença do Exemplo 3: Tamanho, número de datagramas e CRC-32 conferidos. Veja
    // received_file.h: faltando algo, o arquivo se chama <nome>.incompleto.
    return finished >= 0 ? finished : f.finish();
}
