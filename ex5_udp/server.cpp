// Exemplo 5 - Transferência de arquivos por UDP: o SERVIDOR (o do Exemplo 3, com datagramas). A
// cada "GET <nome>", envia SIZE, o arquivo em datagramas de 1024 bytes e OK.
// Diferença do Exemplo 3: Por UDP, com um modo confiável. Sem o cabeçalho do modo confiável no
// pedido, é o Exemplo 3 com sendto(); com ele, o servidor espera as confirmações e reenvia o que
// se perdeu.
#include "../common/args.h"
#include "../common/net.h"
#include "../common/admission.h"
// Diferença do Exemplo 3: As peças do Exemplo 3, da pasta dele, e as do UDP. Sem connection.h:
// não há conexão para fechar. E o que só o UDP usa da biblioteca, logo abaixo.
#include "../ex3_files/request.h"         // o pedido "GET <nome>" e as regras do nome
#include "../ex3_files/served_file.h"     // qual arquivo da pasta um nome indica; BufferedFile
#include "../ex3_files/transfer_clock.h"  // tempo e MB/s do resumo (--quiet)
#include "datagram.h"                     // SIZE, OK e o cabeçalho do modo confiável
#include "sender.h"                       // o modo confiável: janela, timeout e reenvios
#include "transfers.h"                    // as transferências em andamento, uma por endereço
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <random>

#include <filesystem>
#include <iostream>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

namespace fs = std::filesystem;

static const char* const USAGE =
    "uso: server [IP [PORTA]] [--chunk N] [--quiet] [--dir PASTA] [--limite-por-ip N] [--rtt]";
// Diferença do Exemplo 3: A ajuda fala de datagramas, do SIZE e de --rtt.
static const char* const HELP = "Servidor de arquivos do Exemplo 5 (UDP): responde a \"GET <nome>\" "
    "com SIZE, o arquivo e OK. Padrão: localhost 8000.\n  --chunk N   bytes por datagrama (padrão "
    "1024)\n  --quiet     um resumo por arquivo em vez de uma linha por datagrama\n  --dir PASTA a "
    "pasta servida (padrão: ../ex3_files/imagens)\n  --limite-por-ip N  no máximo N transferências por IP (padrão: "
    "sem limite; o servidor tem lugar para 256)\n"
    "  --rtt       no modo confiável, a cada ACK e a cada reenvio: tempo, cwnd, ssthresh, em voo,\n"
    "              RTO e a amostra de RTT\n";

// Diferença do Exemplo 3: Transferências, não conexões. A tabela das transferências em andamento
// (transfers.h) faz o que o kernel fazia com um socket por conexão; o modo confiável é outra
// função, send_reliably(), e --rtt mostra o que ela decide. Cada pedaço do arquivo é um datagrama.
static std::size_t chunk_size = 1024;  // bytes por datagrama, como no guia (--chunk N)
static bool quiet = false;             // --quiet: um resumo em vez de uma linha por datagrama
static fs::path img_path;              // a pasta servida (a do Exemplo 3, sem --dir)
static Transfers transfers;            // quem está baixando agora, por endereço
static RefusalLines refusals;          // as linhas de datagramas recusados (limitadas)
static std::size_t limit = 0;          // --limite-por-ip N: transferências por grupo (0: nenhum)
static bool show_rtt = false;          // --rtt: as amostras de RTT e os timeouts
using Clock = std::chrono::steady_clock;
static const Clock::time_point server_start = Clock::now();
// Segundos desde o começo do servidor: o relógio do andamento das transferências (transfers.h).
static double server_seconds() { return std::chrono::duration<double>(Clock::now() - server_start).count(); }
static void receive_file(socket_t server_socket, std::shared_ptr<Transfer> client);
static void receive_datagrams(socket_t server_socket);
struct Reliable {  // o que o modo confiável enviou: datagramas de dados, reenvios e bytes
    std::size_t count = 0, resent = 0, total = 0;
    bool verified = false;  // o cliente confirmou o SIZE
};
static bool send_to(socket_t server_socket, const Transfer& client, const std::string& d);
static std::string send_reliably(socket_t server_socket, Transfer& client, BufferedFile& f, std::uint64_t size,
                                 std::uint32_t datagrams, unsigned window, bool control, Reliable& sent);
// Mostra uma linha inteira de uma vez (as threads dos clientes escrevem ao mesmo tempo).
static void say(const std::string& text) { std::cout << (text + "\n") << std::flush; }

int main(int argc, char* argv[]) {
    net::Startup startup;  // Winsock no Windows; ignora SIGPIPE no Linux/macOS
    // Diferença do original: Endereço, porta e opções na linha de comando. Veja USAGE e HELP.
    std::string IP = "localhost", PORT = "8000", chunk = "1024", per_ip = "nenhum";
    // Diferença do Exemplo 3: As imagens do Exemplo 3. Sem --dir, a pasta servida é
    // ../ex3_files/imagens, ao lado desta pasta: as mesmas quatro imagens.
    std::string dir =
        (fs::u8path(net::program_folder(argv[0])) / ".." / "ex3_files" / "imagens").u8string();
    int code = args::parse_address(argc, argv, USAGE, HELP, IP, PORT, {{"--chunk", &chunk},
                                   {"--quiet", nullptr, &quiet}, {"--dir", &dir},
                                   // Diferença do Exemplo 3: --rtt mostra o RTT, o timeout e a janela. A
                                   // cada ACK e a cada reenvio: o tempo, cwnd, ssthresh, quantos em voo
                                   // e o RTO (as figuras vêm daí).
                                   {"--limite-por-ip", &per_ip}, {"--rtt", nullptr, &show_rtt}});
    if (code < 0 && !admission::read_group_limit(per_ip, limit, USAGE)) code = 2;
    if (code >= 0) return code;
    if (!args::number(chunk, 1, 16 * 1024 * 1024, chunk_size))
        return args::usage_error(USAGE, "--chunk deve ser um número de 1 a 16777216");
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

    // Define o endereço e a porta que o socket vai se vincular
    std::string error;
    // Diferença do Exemplo 3: O endereço de um socket UDP. resolve() pede SOCK_DGRAM (o mesmo
    // IP e a mesma porta; só o tipo muda).
    net::AddrList address = net::resolve(IP, PORT, true, error, net::family_of(IP), SOCK_DGRAM);
    if (!address) {
        std::cerr << "Erro: " << error << "\n";
        return 1;
    }
    // Diferença do Exemplo 3: A capacidade na linha de início. Até 256 transferências ao mesmo
    // tempo (transfers.h), e o limite por IP, se houver: o Exemplo 3 diz a dele na linha seguinte.
    // Com --chunk acima de 65499, um aviso: o modo confiável não cabe num datagrama.
    std::cout << "Iniciando servidor em " << IP << ":" << PORT << " (UDP; até " << Transfers::CAPACITY
              << " transferências ao mesmo tempo, " << (limit > 0 ? "no máximo " +
                 std::to_string(limit) + " por IP)" : "sem limite por IP)") << std::endl;
    if (chunk_size > datagram::MAX_RELIABLE_CHUNK)
        std::cout << "Aviso: com --chunk acima de " << datagram::MAX_RELIABLE_CHUNK << ", o modo confiável não "
                     "cabe num datagrama (65507 bytes no IPv4, 8 de cabeçalho): os pedidos dele recebem ERROR" << std::endl;
    if (bind(server_socket, address->ai_addr, static_cast<socklen_t>(address->ai_addrlen)) != 0) {
        // Diferença do Exemplo 3: Sem a dica do TIME_WAIT. Uma porta UDP em uso tem um dono vivo;
        // a dica do Exemplo 3 (nada escuta: conexões antigas) é só do TCP.
        std::string why = net::last_error() + net::bind_hint();  // em uso? IP de outra máquina?
        std::cerr << "Erro: não foi possível usar o endereço " << IP << ":" << PORT << ": "
                  << why << "\n";
        return 1;
    }
    // Diferença do Exemplo 3: Sem listen(). Não há conexões para enfileirar: depois do bind(),
    // todo datagrama enviado a esta porta já chega ao socket.

    // Caminho absoluto para o diretório das imagens
    img_path = fs::u8path(dir);  // ../ex3_files/imagens, ou --dir
    // Diferença do Exemplo 3: Um laço de recvfrom() no lugar do accept(). Um socket só recebe os
    // datagramas de todos os clientes; o endereço de origem diz de qual transferência cada um é.
    receive_datagrams(server_socket);
}

// Função para tratar a comunicação com cada cliente paralelamente
// Diferença do Exemplo 3: Um socket só, o do servidor. Não há um socket por cliente: client_socket
// é o socket do servidor, e cada resposta vai com o endereço do cliente (sendto). O endereço e o
// pedido vieram no recvfrom() da thread principal, na transferência (transfers.h).
static void receive_file(socket_t client_socket, std::shared_ptr<Transfer> client) {
    const std::string& client_address = client->text;  // "IP:porta", como no Exemplo 3
    // Recebe a mensagem do cliente
    // Diferença do Exemplo 3: O pedido já chegou. Com o cabeçalho do modo confiável, ele traz a
    // janela (1: pare e espere) e o pedido de janela fixa.
    datagram::Datagram get;
    const bool reliable = datagram::decode(client->request.data(), client->request.size(), get);
    const unsigned window = reliable ? get.window & ~datagram::FIXED_WINDOW : 0;
    const bool control = !(get.window & datagram::FIXED_WINDOW);
    say("Pedido de " + client_address + (!reliable ? " (modo simples)" : window == 1
        ? " (modo confiável: pare e espere)" : " (modo confiável: janela " + std::to_string(window) +
        (control ? ", com controle de congestionamento)" : ", fixa)")));
    // sendto() com o endereço do cliente; no modo confiável, com o cabeçalho (datagram.h)
    auto send_to_client = [&](char type, const std::string& payload) {
        // A última resposta (ERROR, ou o OK do modo simples): antes dela a transferência sai da
        // tabela, e um novo pedido deste endereço, logo depois, não cai na caixa desta.
        if (type == datagram::ERR || (!reliable && type == datagram::OK)) transfers.remove(client);
        std::string d = reliable ? datagram::encode(type, 0, 0, payload) : payload;
        // Diferença do Exemplo 3: No modo confiável, um ERROR só cabe em 3 x o pedido. Antes do ACK
        // do SIZE, nenhuma resposta passa do orçamento (sender.h); a que não cabe não sai.
        if (reliable && type == datagram::ERR && !client->progress().proven &&
            !datagram::within_budget(d.size(), client->request.size()))
            return false;
        return send_to(client_socket, *client, d);
    };
    auto send_error = [&](socket_t, const std::string& text) {  // ERROR "<texto>", num datagrama
        send_to_client(datagram::ERR, datagram::error_text(text));
    };

    // Verifica se o cliente solicitou um arquivo ("GET <nome>": veja request.h)
    // Diferença do Exemplo 3: No modo confiável, o pedido vem depois do cabeçalho. E completado
    // com zeros até 1200 bytes, que request_text() tira.
    request::Parsed req = request::parse(reliable ? datagram::request_text(get.payload) : client->request);
    if (req.name.empty()) {
        // Diferença do original: Pedido inválido tem resposta. O original derruba a thread.
        say("Pedido inválido de " + client_address + ": " + req.error);
        send_error(client_socket, "Pedido inválido: use GET <nome do arquivo>");
    } else if (reliable && chunk_size > datagram::MAX_RELIABLE_CHUNK) {
        // Diferença do Exemplo 3: O cabeçalho de 8 bytes também cabe no datagrama. Com --chunk
        // acima de 65499, um datagrama do modo confiável passaria de 65507 bytes (EMSGSIZE).
        say("Pedido recusado de " + client_address + ": --chunk " + std::to_string(chunk_size) +
            " não cabe no modo confiável (no máximo " + std::to_string(datagram::MAX_RELIABLE_CHUNK) + ")");
        send_error(client_socket, "Modo confiável indisponível: o servidor usa --chunk acima de " +
                   std::to_string(datagram::MAX_RELIABLE_CHUNK));
    } else if (reliable && (window < 1 || window > 256)) {
        // Diferença do Exemplo 3: A janela vem no pedido. De 1 a 256; fora disso, ERROR.
        say("Pedido inválido de " + client_address + ": janela " + std::to_string(window));
        send_error(client_socket, "Janela inválida: use 1 a 256");
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
            // Diferença do Exemplo 3: O tamanho vai antes (SIZE). Em bytes e em datagramas; o OK do
            // fim leva o CRC-32: sem isso, quem recebe não saberia o que faltou.
            const std::uint64_t size = f.size(), datagrams = (size + chunk_size - 1) / chunk_size;
            std::string failed = !f.is_open() ? "Erro ao abrir " + req.name
                : ReliableSender::too_big(datagrams) ? "Arquivo grande demais: " + req.name : "";
            if (failed.empty() && !reliable && !send_to_client(datagram::SIZE, datagram::size_text(size, datagrams)))
                failed = "Envio interrompido no SIZE: " + net::last_error();
            std::uint32_t crc = 0;  // o CRC-32 do que já foi enviado
            // Envia o arquivo em pacotes de 1024 em 1024 bytes (chunk_size: 1024 ou --chunk)
            std::size_t count = 0, total = 0;
            TransferClock clock;
            // Diferença do Exemplo 3: O modo confiável é uma peça sem sockets nem relógio. O remetente
            // (sender.h) decide o que sai, quando reenviar e quanto cabe na rede; send_reliably()
            // só envia, espera os ACKs e olha o relógio. O modo simples é o laço do Exemplo 3.
            Reliable sent;
            if (reliable && failed.empty())
                failed = send_reliably(client_socket, *client, f, size, static_cast<std::uint32_t>(datagrams),
                                       window, control, sent);
            while (failed.empty() && !reliable) {
                f.read(data.data(), static_cast<std::streamsize>(chunk_size));
                std::size_t got = static_cast<std::size_t>(f.gcount());
                if (got == 0) break;
                // Diferença do Exemplo 3: Um sendto() por pedaço, sem send_all. O datagrama sai
                // inteiro ou não sai; o CRC-32 soma cada pedaço.
                crc = datagram::crc32(crc, data.data(), got);
                if (!send_to_client(datagram::DATA, std::string(data.data(), got))) {
                    failed = "Envio interrompido no datagrama " + std::to_string(count + 1) + ": " +
                             net::last_error();
                    break;
                }
                count += 1;
                total += got;
                // Diferença do Exemplo 3: Datagramas, não segmentos. Cada pedaço é um datagrama
                // (no TCP, um pedaço do fluxo: um segmento); --quiet e --chunk falam deles.
                if (!quiet) say("Enviado o datagrama número " + std::to_string(count));
            }
            // Envia uma mensagem final para o cliente (só se o arquivo foi inteiro)
            // Diferença do original: Erro de leitura não termina em OK. Um arquivo lido pela
            // metade (encurtado no meio do envio, erro do disco) acaba o laço como o fim dele;
            // sem o OK, o cliente não guarda um arquivo truncado.
            if (failed.empty() && !reliable && !f.read_whole(total))
                failed = "Erro ao ler " + req.name + ": " + std::to_string(total) + " de " +
                         std::to_string(f.size()) + " bytes lidos (o arquivo mudou ou o disco falhou)";
            if (!failed.empty()) {
                say(failed);
                // Diferença do Exemplo 3: Antes do ACK do SIZE, nem o ERROR. Quem não provou que
                // recebe o que o servidor envia não recebe mais nada (sender.h).
                if (!reliable || sent.verified) send_error(client_socket, failed);
            } else {
                if (quiet && reliable)
                    say("Enviados " + std::to_string(sent.count) + " datagramas (" + std::to_string(sent.resent) +
                        " reenvios), " + clock.bytes_in_time(sent.total, " (") + ")");
                else if (quiet)
                    say("Enviados " + std::to_string(count) + " datagramas, " + clock.bytes_in_time(total, " (") + ")");
                say(reliable ? "Envio concluído e confirmado" : "Envio concluído");
                if (!reliable) send_to_client(datagram::OK, datagram::ok_text(crc));
            }
            // Se o arquivo não existe, responde ERROR e encerra a transferência
            // Diferença do Exemplo 3: O ERROR é o último datagrama. Antes dele a transferência sai da
            // tabela (send_to_client): um datagrama do mesmo endereço, depois, é um pedido novo.
        } else {
            // Caso o arquivo não exista
            say("Arquivo " + req.name + " NÃO encontrado.");
            send_error(client_socket, "O arquivo " + req.name + " não existe");
        }
    }

    // Diferença do Exemplo 3: Não há conexão para fechar. Só a transferência sai da tabela: um
    // novo datagrama deste endereço será um pedido novo.
    transfers.remove(client);
}

static void receive_datagrams(socket_t server_socket) {
    // Diferença do Exemplo 3: Um buffer do tamanho do maior datagrama. Um recvfrom() lê um
    // datagrama inteiro, e o que não cabe no buffer se perde; 64 KiB cabem qualquer um.
    std::vector<char> data(65536);  // cabe qualquer datagrama (no máximo 65507 bytes no IPv4)
    std::cout << "Aguardando pedidos..." << std::endl;
    while (true) {
        // Diferença do Exemplo 3: Recebe um datagrama, de qualquer cliente. Não há conexão para
        // aceitar: cada recvfrom() traz um datagrama e o endereço de quem o enviou.
        sockaddr_storage client_address{};
        socklen_t address_length = sizeof client_address;
        // Diferença do Exemplo 3: Um recvfrom() que falha não é falta de recursos. EINTR; no
        // Windows, também WSAECONNRESET: um datagrama anterior voltou como ICMP "porta
        // inalcançável" (o cliente já tinha saído). Nada a fazer: o próximo.
        auto received = recvfrom(server_socket, data.data(), static_cast<int>(data.size()), 0,
                                 reinterpret_cast<sockaddr*>(&client_address), &address_length);
        if (received < 0) continue;
        const sockaddr* peer = reinterpret_cast<const sockaddr*>(&client_address);
        // Diferença do Exemplo 3: Um endereço, uma transferência. Um datagrama de quem já está
        // baixando vai para a transferência dele (os ACKs); só os de outros endereços são pedidos.
        const std::size_t size = static_cast<std::size_t>(received);
        std::string client_text = net::endpoint_of(peer);
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
            : size > datagram::REQUEST_SIZE ? "grande demais para um pedido"
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
        // Diferença do Exemplo 3: Capacidade do servidor, não limite por IP. Até 256 transferências;
        // cheio, a que está parada há mais tempo dá lugar (transfers.h). Um limite por IP só com
        // --limite-por-ip N: um laboratório inteiro atrás de um NAT tem um IP só.
        // Os grupos dos servidores TCP; no loopback, o usuário dono do socket UDP do cliente (Linux).
        client->group = admission::group_of_peer(server_socket, peer, true);
        std::string evicted;
        Transfers::Added added = transfers.add(client, server_seconds(), limit, evicted);
        if (!evicted.empty())
            say("Transferência de " + evicted + " encerrada para dar lugar a " + client_text + " (" +
                client->group + "): o servidor está cheio, e ela era do grupo com mais transferências "
                "e a que menos andou nele");
        if (added != Transfers::Added::YES) {
            refusals.say("Pedido de " + client_text + " recusado: " + (added == Transfers::Added::GROUP_LIMIT
                ? client->group + " já tem " + std::to_string(limit) + " transferências em andamento (veja "
                  "--limite-por-ip)" : "o servidor já tem " + std::to_string(Transfers::CAPACITY) +
                  " transferências em andamento, e as do grupo de " + client->group + " estão andando"));
            // A resposta curta, e só se couber em 3 x o pedido (nos dois modos): o endereço de
            // origem pode ser falso, e um "GET" de 3 bytes não vira 30 bytes para a vítima.
            std::string busy = datagram::error_text("Servidor ocupado");
            if (with_header) busy = datagram::encode(datagram::ERR, 0, 0, busy);
            if (datagram::within_budget(busy.size(), size))
                sendto(server_socket, busy.data(), static_cast<int>(busy.size()), 0, peer, address_length);
            continue;
        }

        // Atende o pedido: uma thread por transferência, que termina sozinha
        // Diferença do original: Falta de recursos não derruba o servidor. Só este pedido fica
        // sem resposta.
        try {
            // Diferença do Exemplo 3: A thread leva o socket do servidor e a transferência. Sem
            // ela (sem memória para mais uma thread), a transferência sai da tabela.
            std::thread(receive_file, server_socket, client).detach();
        } catch (const std::system_error& e) {
            say("Erro: não foi possível criar uma thread para " + client_text + ": " + e.what());
            transfers.remove(client);
        }
    }
}

// Diferença do Exemplo 3: O envio ao endereço do cliente e o modo confiável. send_to() é um sendto()
// com o endereço do cliente; send_reliably() conduz o remetente de sender.h com o relógio e os ACKs.

// Um datagrama para o cliente (sendto com o endereço dele: não há um socket por cliente).
static bool send_to(socket_t server_socket, const Transfer& client, const std::string& d) {
    return sendto(server_socket, d.data(), static_cast<int>(d.size()), 0,
                  reinterpret_cast<const sockaddr*>(&client.address), client.address_length) >= 0;
}

// O modo confiável: envia o que o remetente (sender.h) deixa, espera os ACKs e conta o tempo.
// Devolve "" quando o OK foi confirmado, ou o motivo de ter parado.
static std::string send_reliably(socket_t server_socket, Transfer& client, BufferedFile& f, std::uint64_t size,
                                 std::uint32_t datagrams, unsigned window, bool control, Reliable& sent) {
    // Diferença do Exemplo 3: O número do SIZE é sorteado. Como o número inicial do TCP: quem não
    // recebeu o SIZE não acerta o ACK (1 chance em 2^32), nem para forjar uma confirmação.
    std::random_device random;
    ReliableSender sender(static_cast<std::uint32_t>(random()), datagrams, window, control);
    sender.received(client.request.size());
    const Clock::time_point start = Clock::now();
    auto now = [&] { return std::chrono::duration<double>(Clock::now() - start).count(); };
    auto at = [&](double t) {  // "em 0.012345 s", o tempo desde o pedido (--rtt)
        char text[40];
        std::snprintf(text, sizeof text, " em %.6f s", t);
        return std::string(text);
    };
    std::vector<char> data(chunk_size);
    std::uint32_t crc = 0, crc_next = 1;  // o CRC-32 dos dados enviados até crc_next - 1
    while (true) {
        // Envia o que a janela deixa (min(cwnd, janela do cliente), e o orçamento antes do ACK do SIZE)
        while (std::optional<ReliableSender::Send> s = sender.next()) {
            std::string payload;
            char type = s->number == 0 ? datagram::SIZE : s->number == sender.last() ? datagram::OK : datagram::DATA;
            if (type == datagram::SIZE) {
                payload = datagram::size_text(size, datagrams);
            } else if (type == datagram::OK) {
                payload = datagram::ok_text(crc);
            } else {  // o pedaço `number` do arquivo; depois de voltar, a leitura volta junto
                std::uint64_t offset = std::uint64_t{s->number - 1} * chunk_size;
                if (static_cast<std::uint64_t>(f.tellg()) != offset) {
                    f.clear();
                    f.seekg(static_cast<std::streamoff>(offset));
                }
                f.read(data.data(), static_cast<std::streamsize>(chunk_size));
                payload.assign(data.data(), static_cast<std::size_t>(f.gcount()));
                // Um pedaço mais curto que o esperado: o arquivo mudou ou o disco falhou. Sem OK.
                const std::uint64_t expected = std::min<std::uint64_t>(chunk_size, size - offset);
                if (payload.size() != expected)
                    return "Erro ao ler o datagrama " + std::to_string(s->number) + ": " +
                           std::to_string(payload.size()) + " de " + std::to_string(expected) +
                           " bytes lidos (o arquivo mudou ou o disco falhou)";
                if (s->number == crc_next) {
                    crc = datagram::crc32(crc, payload.data(), payload.size());
                    crc_next += 1;
                    sent.total += payload.size();
                }
            }
            std::string d = datagram::encode(type, 0, s->seq, payload);
            if (!sender.affordable(d.size())) break;  // antes do ACK do SIZE: 3 x o recebido
            if (!send_to(server_socket, client, d))
                return "Envio interrompido no datagrama " + std::to_string(s->number) + ": " + net::last_error();
            sender.sent(*s, d.size(), now());
            sent.count += !s->again && type == datagram::DATA;
            sent.resent += s->again;
            if (!quiet && type == datagram::DATA)
                say((s->again ? "Reenviado o datagrama número " : "Enviado o datagrama número ") +
                    std::to_string(s->number));
        }

        // Espera uma confirmação até o timeout do mais antigo não confirmado
        std::string answer;
        datagram::Datagram ack;
        const auto deadline = start + std::chrono::duration_cast<Clock::duration>(
                                          std::chrono::duration<double>(sender.deadline()));
        if (client.receive(answer, deadline)) {
            // Só um ACK de algo já enviado e ainda não confirmado conta; um ACK repetido ou
            // atrasado, um GET repetido, lixo: ignorados (mas contam no orçamento).
            sender.received(answer.size());
            if (!datagram::decode(answer.data(), answer.size(), ack) || ack.type != datagram::ACK) continue;
            const double t = now();
            const std::uint32_t base = sender.base();
            ReliableSender::Ack result = sender.on_ack(ack.seq, t);
            sent.verified = sender.verified();
            if (show_rtt && (result == ReliableSender::Ack::NEW || result == ReliableSender::Ack::DONE))
                say(client.text + ": ACK " + std::to_string(sender.base()) + at(t) + ": " + sender.state() +
                    (sender.sample() ? "; " + sender.rto().text(*sender.sample()) : ""));
            // O terceiro ACK repetido: o datagrama `base` se perdeu e os seguintes chegaram
            // (cada um trouxe o mesmo ACK). Reenvia já, sem esperar o timeout (como o TCP).
            if (show_rtt && result == ReliableSender::Ack::FAST_RESEND)
                say(client.text + ": 3 ACKs repetidos" + at(t) + "; reenviando a partir do número " +
                    std::to_string(sender.base()) + " sem esperar o timeout: " + sender.state());
            if (result == ReliableSender::Ack::DONE) return "";  // o OK foi confirmado: fim
            if (sender.base() != base)  // datagramas novos confirmados: o andamento (transfers.h)
                client.progressed(server_seconds(), sender.rto().seconds(), sender.base() - base);
            continue;
        }
        if (client.evicted())
            return "Transferência de " + client.text + " encerrada: o servidor ficou cheio e ela deu lugar a outra";
        const double t = now();
        switch (sender.on_time(t)) {
        case ReliableSender::Time::WAIT:
            break;
        case ReliableSender::Time::GIVE_UP:
            return "Cliente " + client.text + (sender.base() == sender.last() ? " não confirmou o OK" :
                   " não confirma nada") + " há 10 s: transferência abandonada";
        case ReliableSender::Time::RESEND:  // tempo esgotado: volta ao mais antigo não confirmado
            if (show_rtt)
                say(client.text + ": tempo esgotado" + at(t) + "; reenviando a partir do número " +
                    std::to_string(sender.base()) + ": " + sender.state());
            break;
        }
    }
}
