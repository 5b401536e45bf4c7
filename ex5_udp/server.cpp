// Exemplo 5 - Transferência de arquivos por UDP: o SERVIDOR. É o servidor do Exemplo 3
// com datagramas: a cada "GET <nome>", envia SIZE, o arquivo em datagramas de 1024 bytes e
// OK. Com o cabeçalho do modo confiável, espera as confirmações e reenvia o que se perdeu.
#include "../common/args.h"
#include "../common/net.h"
#include "../common/per_address.h"
#include "../ex3_files/request.h"         // o pedido "GET <nome>" e as regras do nome
#include "../ex3_files/served_file.h"     // qual arquivo da pasta um nome indica; BufferedFile
#include "../ex3_files/transfer_clock.h"  // tempo e MB/s do resumo (--quiet)
#include "datagram.h"                     // SIZE, OK e o cabeçalho do modo confiável
#include "rto.h"                          // quanto esperar por uma confirmação (RFC 6298)
#include "transfers.h"                    // as transferências em andamento, uma por endereço

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

static const char* const USAGE =
    "uso: server [IP [PORTA]] [--chunk N] [--quiet] [--dir PASTA] [--limite-por-ip N] [--rtt]";
static const char* const HELP = "Servidor de arquivos do Exemplo 5 (UDP): responde a \"GET <nome>\" "
    "com SIZE, o arquivo e OK. Padrão: localhost 8000.\n  --chunk N   bytes por datagrama (padrão "
    "1024)\n  --quiet     um resumo por arquivo em vez de uma linha por datagrama\n  --dir PASTA a "
    "pasta servida (padrão: ../ex3_files/imagens)\n  --limite-por-ip N  transferências por IP (16)\n"
    "  --rtt       no modo confiável, cada amostra de RTT e cada timeout\n";

static std::size_t chunk_size = 1024;  // bytes por datagrama, como no guia (--chunk N)
static bool quiet = false;             // --quiet: um resumo em vez de uma linha por datagrama
static bool show_rtt = false;          // --rtt: as amostras de RTT e os timeouts
static fs::path img_path;              // a pasta servida
static PerAddressLimit per_address;    // quantas transferências cada IP tem (common/)
static Transfers transfers;            // quem está baixando agora, por endereço
static RefusalLines refusals;          // as linhas de datagramas recusados (limitadas)
static void send_file(socket_t server_socket, std::shared_ptr<Transfer> client);
static void receive_datagrams(socket_t server_socket);
// Mostra uma linha inteira de uma vez (as threads dos clientes escrevem ao mesmo tempo).
static void say(const std::string& text) { std::cout << (text + "\n") << std::flush; }

int main(int argc, char* argv[]) {
    net::Startup startup;  // Winsock no Windows; ignora SIGPIPE no Linux/macOS
    // Diferença do original: Endereço, porta e opções na linha de comando. Veja USAGE e HELP.
    std::string IP = "localhost", PORT = "8000", chunk = "1024";
    // Diferença do Exemplo 3: As imagens do Exemplo 3. Sem --dir, a pasta servida é
    // ../ex3_files/imagens, ao lado desta pasta: as mesmas quatro imagens.
    std::string dir =
        (fs::u8path(net::program_folder(argv[0])) / ".." / "ex3_files" / "imagens").u8string();
    // Diferença do Exemplo 3: --rtt mostra o RTT e o timeout. Cada amostra e cada reenvio.
    int code = args::parse_address(argc, argv, USAGE, HELP, IP, PORT, {{"--chunk", &chunk},
                                   {"--quiet", nullptr, &quiet}, {"--dir", &dir},
                                   per_address.option(), {"--rtt", nullptr, &show_rtt}});
    if (code >= 0 || (code = per_address.check_option(USAGE)) >= 0) return code;
    if (!args::number(chunk, 1, 16 * 1024 * 1024, chunk_size)) {
        std::cerr << "Erro: --chunk deve ser um número de 1 a 16777216\n" << USAGE << "\n";
        return 2;
    }
    if (std::error_code ec; !fs::is_directory(fs::u8path(dir), ec)) {
        std::cerr << "Erro: a pasta " << dir << " não existe\n";
        return 1;
    }

    // Cria um socket UDP/IP
    // Diferença do Exemplo 3: SOCK_DGRAM. Um socket de datagramas (UDP): cada sendto() é um
    // datagrama, entregue inteiro ou perdido, sem conexão, confirmação nem ordem.
    socket_t server_socket = socket(net::family_of(IP), SOCK_DGRAM, 0);
    if (server_socket == INVALID_SOCKET) return net::fail("Erro ao criar o socket");
    // Diferença do Exemplo 3: Sem SO_REUSEADDR. O UDP não deixa nada em TIME_WAIT, e no Linux a
    // opção deixaria um segundo programa se vincular à mesma porta UDP.

    // Define o endereço e a porta que o socket vai se vincular (o endereço é o mesmo do TCP)
    std::string error;
    net::AddrList address = net::resolve(IP, PORT, true, error, net::family_of(IP));
    if (!address) {
        std::cerr << "Erro: " << error << "\n";
        return 1;
    }
    std::cout << "Iniciando servidor em " << IP << ":" << PORT << " (UDP)" << std::endl;
    if (bind(server_socket, address->ai_addr, static_cast<socklen_t>(address->ai_addrlen)) != 0) {
        std::string why = net::last_error() + net::bind_hint();  // em uso? IP de outra máquina?
        std::cerr << "Erro: não foi possível usar o endereço " << IP << ":" << PORT << ": "
                  << why << "\n";
        return 1;
    }
    // Diferença do Exemplo 3: Sem listen(). Não há conexões para enfileirar: depois do bind(),
    // todo datagrama enviado a esta porta já chega ao socket.

    // Caminho absoluto para o diretório das imagens (../ex3_files/imagens, ou --dir)
    img_path = fs::u8path(dir);
    receive_datagrams(server_socket);
}

// Função para tratar cada pedido paralelamente: envia o arquivo ao endereço do cliente
static void send_file(socket_t server_socket, std::shared_ptr<Transfer> client) {
    // Diferença do Exemplo 3: O pedido já chegou. Veio no recvfrom() da thread principal; com o
    // cabeçalho do modo confiável, traz a janela (1: pare e espere).
    datagram::Datagram get;
    const bool reliable = datagram::decode(client->request.data(), client->request.size(), get);
    const std::string text = reliable ? get.payload : client->request;
    const std::uint32_t window = reliable ? get.window : 0;
    say("Pedido de " + client->text + (!reliable ? " (modo simples)" : window == 1
        ? " (modo confiável: pare e espere)" : " (modo confiável: janela " + std::to_string(window) + ")"));
    // Diferença do Exemplo 3: sendto() com o endereço do cliente. No modo confiável, cada
    // datagrama leva o cabeçalho: o tipo e o número (datagram.h).
    auto send_to_client = [&](char type, std::uint32_t seq, const std::string& payload) {
        // A última resposta (ERROR, ou o OK do modo simples): antes dela a transferência sai da
        // tabela, e um novo pedido deste endereço, logo depois, não cai na caixa desta.
        if (type == datagram::ERR || (!reliable && type == datagram::OK)) transfers.remove(client);
        std::string d = reliable ? datagram::encode(type, 0, seq, payload) : payload;
        return sendto(server_socket, d.data(), static_cast<int>(d.size()), 0,
                      reinterpret_cast<const sockaddr*>(&client->address), client->address_length) >= 0;
    };

    // Verifica se o cliente solicitou um arquivo ("GET <nome>": veja request.h)
    request::Parsed req = request::parse(text);
    if (req.name.empty()) {
        // Diferença do original: Pedido inválido tem resposta. O original derruba a thread.
        say("Pedido inválido de " + client->text + ": " + req.error);
        send_to_client(datagram::ERR, 0, datagram::error_text("Pedido inválido: use GET <nome do arquivo>"));
    } else if (reliable && (window < 1 || window > 256)) {
        say("Pedido inválido de " + client->text + ": janela " + std::to_string(window));
        send_to_client(datagram::ERR, 0, datagram::error_text("Janela inválida: use 1 a 256"));
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
            send_to_client(datagram::ERR, 0, datagram::error_text("Nome de arquivo inválido: " + req.error));
        } else if (!path.empty()) {
            say("Arquivo " + req.name + " encontrado.");
            // Abre o arquivo para leitura
            // Diferença do original: Buffer de leitura de 64 KiB. Menos leituras do disco.
            BufferedFile f(path);
            std::vector<char> data(chunk_size);
            std::error_code ec;
            const std::uint64_t size = fs::file_size(path, ec);
            // Diferença do Exemplo 3: O tamanho vai antes (SIZE). O número 0 é o SIZE, os dados
            // são 1..count e o OK é count + 1: sem isso, quem recebe não saberia o que faltou.
            const std::uint64_t count = (size + chunk_size - 1) / chunk_size;
            std::string failed = !f.is_open() || ec ? "Erro ao abrir " + req.name : "";
            if (failed.empty() && count >= 0xffffffffu) failed = "Arquivo grande demais: " + req.name;
            const std::uint32_t last = static_cast<std::uint32_t>(count + 1);  // o número do OK
            // Envia o arquivo em pacotes de 1024 em 1024 bytes (chunk_size: 1024 ou --chunk)
            // Diferença do Exemplo 3: Uma janela de datagramas sem confirmação. No modo simples,
            // tudo de uma vez; no confiável, `window` no máximo, e quando um timeout passa sem
            // confirmação, volta ao mais antigo não confirmado e reenvia dali (Go-Back-N).
            std::uint32_t base = 0, next = 0;  // o mais antigo sem confirmação; o próximo a enviar
            std::uint32_t resent_below = 0;    // abaixo deste número, todos já foram reenviados
            std::uint32_t crc = 0, crc_next = 1;  // o CRC-32 dos dados enviados até crc_next - 1
            int repeated_acks = 0;                // ACKs seguidos com o mesmo número (base)
            std::size_t count_sent = 0, resent = 0, total = 0;
            RetransmissionTimeout rto;
            std::vector<Clock::time_point> sent_at(std::max<std::uint32_t>(window, 1));
            Clock::time_point timer = Clock::now(), progress = timer;  // o timeout conta daqui
            TransferClock clock;
            while (failed.empty()) {
                while (next <= last && (!reliable || next - base < window)) {
                    std::string payload;
                    if (next == 0) {
                        payload = datagram::size_text(size, count);
                    } else if (next == last) {
                        payload = datagram::ok_text(crc);
                    } else {  // o pedaço `next` do arquivo; depois de voltar, a leitura volta junto
                        std::uint64_t offset = std::uint64_t{next - 1} * chunk_size;
                        if (static_cast<std::uint64_t>(f.tellg()) != offset) {
                            f.clear();
                            f.seekg(static_cast<std::streamoff>(offset));
                        }
                        f.read(data.data(), static_cast<std::streamsize>(chunk_size));
                        payload.assign(data.data(), static_cast<std::size_t>(f.gcount()));
                        if (next == crc_next) {
                            crc = datagram::crc32(crc, payload.data(), payload.size());
                            crc_next += 1;
                            total += payload.size();
                        }
                    }
                    char type = next == 0 ? datagram::SIZE : next == last ? datagram::OK : datagram::DATA;
                    if (!send_to_client(type, next, payload)) {
                        std::string why = net::last_error();
                        failed = "Envio interrompido no datagrama " + std::to_string(next) + ": " + why;
                        break;
                    }
                    if (next == base) timer = Clock::now();
                    sent_at[next % sent_at.size()] = Clock::now();
                    bool again = next < resent_below;
                    count_sent += !again && type == datagram::DATA;
                    resent += again;
                    if (!quiet && type == datagram::DATA)
                        say((again ? "Reenviado o datagrama número " : "Enviado o datagrama número ") +
                            std::to_string(next));
                    next += 1;
                }
                if (!reliable || !failed.empty()) break;  // no modo simples, ninguém confirma nada

                // Espera uma confirmação até o timeout do mais antigo não confirmado
                std::string answer;
                datagram::Datagram ack;
                const Clock::time_point deadline = timer + rto.duration();
                // Só um ACK de algo já enviado e ainda não confirmado conta; um ACK repetido ou
                // atrasado (seq <= base), um GET repetido, lixo: ignorados.
                bool got = client->receive(answer, deadline) &&
                           datagram::decode(answer.data(), answer.size(), ack) && ack.type == datagram::ACK;
                // O terceiro ACK repetido: o datagrama `base` se perdeu e os seguintes chegaram
                // (cada um trouxe o mesmo ACK). Reenvia já, sem esperar o timeout (como o TCP).
                if (got && ack.seq == base && next > base && ++repeated_acks == 3) {
                    if (show_rtt)
                        say(client->text + ": 3 ACKs repetidos; reenviando a partir do número " +
                            std::to_string(base) + " sem esperar o timeout");
                    resent_below = std::max(resent_below, next);
                    next = base;
                } else if (got && ack.seq > base && ack.seq <= next) {
                    repeated_acks = 0;
                    Clock::time_point now = Clock::now();
                    if (ack.seq - 1 >= resent_below) {  // Karn: só o que foi enviado uma vez
                        double r = std::chrono::duration<double>(now - sent_at[(ack.seq - 1) % sent_at.size()]).count();
                        rto.sample(r);
                        if (show_rtt) say(client->text + ": " + rto.text(r));
                    }
                    base = ack.seq;  // confirma tudo antes de ack.seq (ACK cumulativo)
                    timer = progress = now;
                    if (base > last) break;  // o OK foi confirmado: fim
                } else if (Clock::now() < deadline) {
                    continue;  // chegou algo inútil antes do timeout: continua esperando
                } else if (Clock::now() - progress > std::chrono::seconds(10)) {
                    failed = "Cliente " + client->text + (base == last ? " não confirmou o OK" :
                             " não confirma nada") + " há 10 s: transferência abandonada";
                } else {  // tempo esgotado: volta ao mais antigo não confirmado
                    rto.back_off();
                    if (show_rtt)
                        say(client->text + ": tempo esgotado; reenviando a partir do número " +
                            std::to_string(base) + ", timeout agora " +
                            std::to_string(static_cast<int>(rto.seconds() * 1000)) + " ms");
                    resent_below = std::max(resent_below, next);
                    next = base;
                }
            }

            // Envia uma mensagem final para o cliente (só se o arquivo foi inteiro)
            if (!failed.empty()) {
                say(failed);
                send_to_client(datagram::ERR, next, datagram::error_text(failed));
            } else {
                if (quiet)
                    say("Enviados " + std::to_string(count_sent) + " datagramas (" + std::to_string(resent) +
                        " reenvios), " + clock.bytes_in_time(total, " (") + ")");
                say(reliable ? "Envio concluído e confirmado" : "Envio concluído");
            }
        } else {  // Se o arquivo não existe, responde ERROR
            // Caso o arquivo não exista
            say("Arquivo " + req.name + " NÃO encontrado.");
            send_to_client(datagram::ERR, 0, datagram::error_text("O arquivo " + req.name + " não existe"));
        }
    }

    // Diferença do Exemplo 3: Não há conexão para fechar. Só a transferência sai da tabela: um
    // novo datagrama deste endereço será um pedido novo.
    transfers.remove(client);
}

static void receive_datagrams(socket_t server_socket) {
    // Diferença do Exemplo 3: Um laço de recvfrom() no lugar do accept(). Um socket só recebe os
    // datagramas de todos os clientes; o endereço de origem diz de qual transferência cada um é.
    std::cout << "Aguardando pedidos..." << std::endl;
    std::vector<char> data(65536);  // cabe qualquer datagrama (no máximo 65507 bytes no IPv4)
    while (true) {
        sockaddr_storage client_address{};
        socklen_t address_length = sizeof client_address;
        auto received = recvfrom(server_socket, data.data(), static_cast<int>(data.size()), 0,
                                 reinterpret_cast<sockaddr*>(&client_address), &address_length);
        // EINTR; no Windows, também WSAECONNRESET: um datagrama anterior voltou como ICMP
        // "porta inalcançável" (o cliente já tinha saído). Nada a fazer: o próximo.
        if (received < 0) continue;
        const std::size_t size = static_cast<std::size_t>(received);
        const sockaddr* peer = reinterpret_cast<const sockaddr*>(&client_address);
        std::string client_text = net::address_of(peer) + ":" + std::to_string(net::port_of(peer));

        // Um datagrama de quem já está baixando vai para a transferência dele (os ACKs)
        if (std::shared_ptr<Transfer> busy = transfers.find(client_text)) {
            busy->deliver(data.data(), size);
            continue;
        }
        // Diferença do Exemplo 3: Lixo não tem resposta. Só um pedido (GET, com ou sem o
        // cabeçalho) é respondido: o endereço de origem de um datagrama pode ser falso, e
        // responder a qualquer coisa faria do servidor uma arma contra esse endereço.
        datagram::Datagram d;
        bool with_header = datagram::decode(data.data(), size, d);
        std::string why = size == 0 ? "datagrama vazio"
            : size > 1024 + datagram::HEADER ? "grande demais para um pedido"
            : with_header ? (d.type == datagram::GET ? "" : "não há transferência com este endereço")
            : std::string(data.data(), std::min<std::size_t>(size, 3)) == "GET" ? ""
            : "não é um pedido (GET <nome>)";
        if (!why.empty()) {
            refusals.say("Datagrama de " + client_text + " ignorado (" + std::to_string(size) +
                         " bytes): " + why);
            continue;
        }
        auto client = std::make_shared<Transfer>();
        client->address = client_address;
        client->address_length = address_length;
        client->text = client_text;
        client->request.assign(data.data(), size);
        // Diferença do Exemplo 3: Limite de transferências por IP. O --limite-por-ip do Exemplo 3
        // (16), contado em transferências; e 256 no servidor inteiro.
        client->slot = per_address.take(net::address_of(peer));
        std::string full = !client->slot ? net::address_of(peer) + " já tem " +
            std::to_string(per_address.max()) + " transferências em andamento" : transfers.add(client);
        if (!full.empty()) {
            refusals.say("Pedido de " + client_text + " recusado: " + full + " (veja --limite-por-ip)");
            std::string busy = datagram::error_text("Servidor ocupado: " + full);
            if (with_header) busy = datagram::encode(datagram::ERR, 0, 0, busy);
            sendto(server_socket, busy.data(), static_cast<int>(busy.size()), 0, peer, address_length);
            continue;
        }

        // Atende o pedido: uma thread por transferência, que termina sozinha
        // Diferença do original: Falta de recursos não derruba o servidor. Só este pedido fica
        // sem resposta.
        try {
            std::thread(send_file, server_socket, client).detach();
        } catch (const std::system_error& e) {
            say("Erro: não foi possível criar uma thread para " + client_text + ": " + e.what());
            transfers.remove(client);
        }
    }
}
