// End-to-end tests of Exemplo 3 (file repository): the real ex3_files/server
// and ex3_files/client, raw sockets, a fake server, and the guide's own Python
// programs (tests/guide/) on the other end of the wire.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "support.h"

using namespace lab;
namespace fs = std::filesystem;

namespace {

const char* const IMAGES[] = {"cachorro.jpg", "gato.jpg", "iguana.jpg", "tucano.jpg"};



fs::path image(const std::string& name) {
    return fs::path(LAB_SOURCE_DIR) / "ex3_files" / "imagens" / name;
}

Process download(int port, const std::string& name, const TempDir& into) {
    return Process({bin("ex3_files/client"), "127.0.0.1", std::to_string(port), name, "--dir",
                    into.path.string()});
}

// Send a raw request and read the whole answer until the server closes.
std::string raw_request(int port, const std::string& request) {
    int fd = connect_to(port);
    REQUIRE(fd >= 0);
    REQUIRE(send_bytes(fd, request));
    bool closed = false;
    std::string answer = recv_until_close(fd, 10000ms, &closed);
    CHECK(closed);
    close_fd(fd);
    return answer;
}

}  // namespace

TEST_CASE("ex3: the four images are downloaded byte-identical (1024-byte chunks)") {
    Server server = start_server("ex3_files/server");
    TempDir downloads;
    for (const char* name : IMAGES) {
        Process client = download(server.port, name, downloads);
        CHECK(client.wait_exit(10000ms) == 0);
        CHECK(read_file(downloads.path / name) == read_file(image(name)));
        CHECK(client.out().find("Download concluído: ") != std::string::npos);
    }
    CHECK(downloads.names().size() == 4);  // no temporary file left behind
    CHECK(server.process->wait_output("Envio concluído", 5000ms, 4));  // the reader may lag
    std::string out = server.process->out();
    // In this order (the main thread's "Aguardando conexão..." may come in
    // between: it runs at the same time as the client's thread).
    auto asked = out.find("Cliente solicitou o arquivo iguana.jpg\n");
    auto found = out.find("Arquivo iguana.jpg encontrado.\n", asked);
    auto first = out.find("Enviado o segmento número 1\n", found);
    CHECK(asked != std::string::npos);
    CHECK(found != std::string::npos);
    CHECK(first != std::string::npos);
    CHECK(out.find("Enviado o segmento número 98\nEnvio concluído\n") != std::string::npos);
}

TEST_CASE("ex3: iguana.jpg goes out in exactly 98 segments, then OK") {
    Server server = start_server("ex3_files/server");
    std::string answer = raw_request(server.port, "GET iguana.jpg");
    CHECK(answer == read_file(image("iguana.jpg")) + "OK");
    CHECK(answer.size() == 100116 + 2);
    REQUIRE(server.process->wait_output("Envio concluído", 5000ms));
    std::string out = server.process->out();
    CHECK(count_of(out, "Enviado o segmento número ") == 98);
    CHECK(out.find("Enviado o segmento número 98\n") != std::string::npos);
    CHECK(out.find("Enviado o segmento número 99\n") == std::string::npos);
}

TEST_CASE("ex3: byte-identical with chunk sizes 1 and 65536, and a 0-byte file") {
    TempDir served, downloads;
    for (const char* name : IMAGES) fs::copy_file(image(name), served.path / name);
    std::ofstream(served.path / "vazio.bin").close();
    for (const char* chunk : {"1", "65536"}) {
        Server server = start_server("ex3_files/server",
                                     {"--chunk", chunk, "--quiet", "--dir", served.path.string()});
        for (const char* name : {"tucano.jpg", "gato.jpg", "vazio.bin"}) {
            Process client = download(server.port, name, downloads);
            CHECK(client.wait_exit(30000ms) == 0);
            CHECK(read_file(downloads.path / name) == read_file(served.path / name));
        }
        std::string segments = std::string(chunk) == "1" ? "36439" : "1";
        CHECK(server.process->wait_output(
            "Enviados " + segments + " segmentos, 36439 bytes em ", 5000ms));
        CHECK(server.process->out().find("Enviado o segmento número") == std::string::npos);
    }
    CHECK(fs::file_size(downloads.path / "vazio.bin") == 0);
}

TEST_CASE("ex3: an unknown name gives ERROR, exit 1, and no file") {
    Server server = start_server("ex3_files/server");
    TempDir downloads;
    Process client = download(server.port, "nao-existe.jpg", downloads);
    CHECK(client.wait_exit(5000ms) == 1);
    CHECK(client.err().find("O servidor respondeu: ERROR \"O arquivo nao-existe.jpg não existe\"") ==
          0);
    CHECK(downloads.names().empty());
    CHECK(server.process->wait_output("Arquivo nao-existe.jpg NÃO encontrado.", 5000ms));
    CHECK(raw_request(server.port, "GET nao-existe.jpg") ==
          "ERROR \"O arquivo nao-existe.jpg não existe\"");
}

TEST_CASE("ex3: every refused request gets an ERROR and touches nothing") {
    TempDir served, outside;
    fs::copy_file(image("tucano.jpg"), served.path / "tucano.jpg");
    std::ofstream(outside.path / "segredo.txt") << "não deveria sair daqui";
    std::ofstream(served.path / ".oculto") << "oculto";
    fs::create_symlink(outside.path / "segredo.txt", served.path / "fora.jpg");
    fs::create_directory(served.path / "pasta.jpg");
    Server server = start_server("ex3_files/server", {"--dir", served.path.string()});

    const std::string invalid = "ERROR \"Nome de arquivo inválido: ";
    struct Case {
        std::string request, answer_prefix;
    };
    const std::string rel = "../" + outside.path.filename().string() + "/segredo.txt";
    const std::vector<Case> cases = {
        {"GET ../../etc/passwd", invalid + "o nome não pode conter / \\ ou :\""},
        {"GET /etc/passwd", invalid + "o nome não pode conter / \\ ou :\""},
        {"GET " + rel, invalid + "o nome não pode conter / \\ ou :\""},
        {"GET ..\\..\\x", invalid + "o nome não pode conter / \\ ou :\""},
        {"GET C:x", invalid + "o nome não pode conter / \\ ou :\""},
        {"GET ..", invalid + "o nome não pode conter ..\""},
        {"GET .oculto", invalid + "o nome não pode começar com .\""},
        {std::string("GET a\0b", 7), invalid + "o nome contém caracteres de controle\""},
        {"GET a\x1b[2Jb", invalid + "o nome contém caracteres de controle\""},
        {"GET " + std::string(300, 'a'), invalid + "nome com mais de 255 bytes\""},
        {"GET", "ERROR \"Pedido inválido: use GET <nome do arquivo>\""},
        {"GET \r\n", "ERROR \"Pedido inválido: use GET <nome do arquivo>\""},
        {"PUT tucano.jpg", "ERROR \"Pedido inválido: use GET <nome do arquivo>\""},
        {"\xff\xfe\x00\x01", "ERROR \"Pedido inválido: use GET <nome do arquivo>\""},
        {"GET fora.jpg", "ERROR \"O arquivo fora.jpg não existe\""},    // symlink out
        {"GET pasta.jpg", "ERROR \"O arquivo pasta.jpg não existe\""},  // not a file
        {"GET TUCANO.JPG", "ERROR \"O arquivo TUCANO.JPG não existe\""},  // exact name only
    };
    for (const Case& c : cases) {
        CAPTURE(c.request);
        CHECK(raw_request(server.port, c.request) == c.answer_prefix);
    }
    // A hostile name is never echoed raw to the server's terminal.
    // (the server's lines first: the test's reader may be a moment behind)
    CHECK(server.process->wait_output("Cliente solicitou o arquivo a\\x1b[2Jb", 5000ms));
    CHECK(server.process->out().find('\x1b') == std::string::npos);
    // Nothing was changed anywhere, and the server still serves.
    CHECK(read_file(outside.path / "segredo.txt") == "não deveria sair daqui");
    CHECK(raw_request(server.port, "GET tucano.jpg\n") == read_file(image("tucano.jpg")) + "OK");
}

TEST_CASE("ex3 client: bad names are refused before connecting; bad arguments exit 2") {
    int listener_port = 0;
    int listener = listen_local(listener_port);  // would see a connection
    TempDir downloads;
    for (const char* bad : {"../x.jpg", "/etc/passwd", "a\\b", ".oculto", ".."}) {
        Process client = download(listener_port, bad, downloads);
        CHECK(client.wait_exit(5000ms) == 2);
        CHECK(client.err().find("Erro: nome de arquivo inválido: ") == 0);
    }
    CHECK(accept_within(listener, 100ms) == -1);  // nobody connected
    close_fd(listener);
    CHECK(downloads.names().empty());

    // Typed at the prompt: refused before the request is sent.
    Server server = start_server("ex3_files/server");
    Process typed({bin("ex3_files/client"), "127.0.0.1", std::to_string(server.port), "--dir",
                   downloads.path.string()});
    CHECK(typed.wait_output("Digite o nome do arquivo para fazer download: ", 5000ms));
    typed.write_stdin("../../etc/passwd\n");
    CHECK(typed.wait_exit(5000ms) == 2);  // as on the command line (issue 28)
    CHECK(typed.err().find("Erro: nome de arquivo inválido") != std::string::npos);
    CHECK(server.process->out().find("Cliente solicitou") == std::string::npos);

    Process extra({bin("ex3_files/client"), "a", "1", "x", "y"});
    CHECK(extra.wait_exit(5000ms) == 2);
    CHECK(extra.err().find("Erro: argumento a mais: y\nuso: client") == 0);
    Process port({bin("ex3_files/client"), "a", "porta"});
    CHECK(port.wait_exit(5000ms) == 2);
    CHECK(port.err().find("Erro: porta inválida: porta (use 1 a 65535)\nuso: client") == 0);
    Process chunk({bin("ex3_files/server"), "--chunk", "0"});
    CHECK(chunk.wait_exit(5000ms) == 2);
    Process dir({bin("ex3_files/server"), "127.0.0.1", "1", "--dir", "/nao/existe"});
    CHECK(dir.wait_exit(5000ms) == 1);
    CHECK(dir.err().find("Erro: a pasta /nao/existe não existe") == 0);
}

// Issue 28: the client checked --dir only after connecting and sending GET,
// then said only "não foi possível criar /naoexiste/.gato.jpg.NNN.part". A
// folder under a regular file cannot be created, even by root.
TEST_CASE("ex3 client: a --dir that cannot be created is refused before connecting") {
    int port = 0;
    int listener = listen_local(port);  // would see a connection
    TempDir place;
    std::ofstream(place.path / "arquivo").close();
    const std::string dir = (place.path / "arquivo" / "sub").string();
    for (bool named : {true, false}) {
        std::vector<std::string> argv = {bin("ex3_files/client"), "127.0.0.1", std::to_string(port)};
        if (named) argv.push_back("gato.jpg");
        argv.insert(argv.end(), {"--dir", dir});
        Process client(argv);
        CHECK(client.wait_exit(5000ms) == 1);
        CHECK(client.err().find("Erro: a pasta " + dir + " não existe e não pôde ser criada: ") == 0);
        CHECK(client.out().find("Digite o nome") == std::string::npos);
    }
    CHECK(accept_within(listener, 100ms) == -1);  // nobody connected
    close_fd(listener);
}

TEST_CASE("ex3 client: a transfer cut before the final OK leaves no file") {
    TempDir downloads;
    SUBCASE("a fake server that stops halfway") {
        int port = 0;
        int listener = listen_local(port);
        Process client = download(port, "iguana.jpg", downloads);
        int fd = accept_within(listener, 5000ms);
        REQUIRE(fd >= 0);
        CHECK(recv_exactly(fd, 14, 5000ms) == "GET iguana.jpg");
        REQUIRE(send_bytes(fd, read_file(image("iguana.jpg")).substr(0, 50000)));
        close_fd(fd);
        close_fd(listener);
        CHECK(client.wait_exit(5000ms) == 1);
        CHECK(client.err().find("Erro: transferência incompleta: a conexão terminou sem o OK "
                                "final (50000 bytes recebidos); nenhum arquivo foi gravado") == 0);
    }
    SUBCASE("the real server killed mid-transfer") {
        TempDir served;
        std::string big(8 << 20, 'x');
        std::ofstream(served.path / "grande.bin", std::ios::binary) << big;
        // 1-byte chunks with a line printed for each: slow enough to kill.
        Server server = start_server("ex3_files/server", {"--chunk", "1", "--dir", served.path.string()});
        Process client = download(server.port, "grande.bin", downloads);
        REQUIRE(server.process->wait_output("Enviado o segmento número 1000\n", 10000ms));
        server.process->kill(SIGKILL);
        CHECK(client.wait_exit(5000ms) == 1);
        CHECK(client.err().find("Erro: transferência incompleta") == 0);
    }
    CHECK(downloads.names().empty());
}

// Student finding 14: the chat servers of ex2 and ex4 start with their key
// line(s) (45 and 90 bytes, read here from the real servers) and close after
// their 10 s handshake deadline; the ex3 client says which server that was.
// A fake replays the greeting and closes at once, without the 10 s.
TEST_CASE("ex3 client at the ex2 or ex4 chat server: says which example's server it is") {
    TempDir downloads, lab;
    // The ex4 server writes servidor.chave beside itself: a copy runs in `lab`.
    fs::copy_file(bin("ex4_kx/server"), lab.path / "server");
    struct Chat {
        std::string program;
        int lines;  // the key lines it sends first
        std::string example;
    };
    for (const Chat& chat : {Chat{bin("ex2_crypto/server"), 1, "2"},
                             Chat{(lab.path / "server").string(), 2, "4"}}) {
        const std::string program = chat.program, example = chat.example;
        CAPTURE(program);
        Server server = start_server(program);
        int raw = connect_to(server.port);
        std::string greeting;
        for (int i = 0; i < chat.lines; ++i) greeting += recv_line(raw, 5000ms) + "\n";
        close_fd(raw);
        int port = 0;
        int listener = listen_local(port);
        Process client = download(port, "iguana.jpg", downloads);
        int fd = accept_within(listener, 5000ms);
        REQUIRE(fd >= 0);
        CHECK(recv_exactly(fd, 14, 5000ms) == "GET iguana.jpg");  // read: a FIN, not a RST
        REQUIRE(send_bytes(fd, greeting));
        close_fd(fd);
        close_fd(listener);
        CHECK(client.wait_exit(5000ms) == 1);
        CHECK(client.err() == "Erro: isto parece o servidor do Exemplo " + example +
                                  " (ele começa enviando uma chave); este cliente é do Exemplo 3\n");
    }
    CHECK(downloads.names().empty());
}

// Issue 29 item 8: a file read only in part (here: shortened while it is being
// sent; a disk error ends the C++ read loop the same way) must not end in OK,
// or the client keeps a truncated file as if it were whole.
TEST_CASE("ex3: a file shortened while it is being sent ends without OK") {
    TempDir served;
    const std::size_t size = 32u << 20;  // more than the socket buffers can hold
    {
        std::ofstream out(served.path / "encolhe.bin", std::ios::binary);
        out << std::string(size, 'x');
    }
    Server server = start_server("ex3_files/server",
                                 {"--chunk", "65536", "--quiet", "--dir", served.path.string()});
    // A small receive buffer, and nothing read yet: the server stops in send()
    // long before the end of the file.
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd >= 0);
    int small = 16 * 1024;
    REQUIRE(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small) == 0);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(static_cast<uint16_t>(server.port));
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) == 0);
    REQUIRE(send_bytes(fd, "GET encolhe.bin"));
    // The first bytes arrived: the server has the file open and is in its loop.
    std::string answer = recv_exactly(fd, 1024, 10000ms);
    REQUIRE(answer.size() == 1024);
    fs::resize_file(served.path / "encolhe.bin", 0);
    bool closed = false;
    answer += recv_until_close(fd, 20000ms, &closed);
    close_fd(fd);
    CHECK(closed);
    CHECK(answer.size() < size);
    CHECK(answer.find("OK") == std::string::npos);  // only 'x' bytes: no final OK
    CHECK(server.process->wait_output("Erro ao ler encolhe.bin: ", 5000ms));
    CHECK(server.process->out().find("Envio concluído") == std::string::npos);
}

TEST_CASE("ex3: 20 clients downloading at once all get identical files") {
    Server server = start_server("ex3_files/server", {"--quiet"});
    TempDir downloads;
    std::vector<std::unique_ptr<Process>> clients;
    for (int i = 0; i < 20; ++i)
        clients.push_back(std::make_unique<Process>(std::vector<std::string>{
            bin("ex3_files/client"), "127.0.0.1", std::to_string(server.port), IMAGES[i % 4],
            "--dir", (downloads.path / std::to_string(i)).string()}));
    for (int i = 0; i < 20; ++i) {
        CHECK(clients[i]->wait_exit(20000ms) == 0);
        CHECK(read_file(downloads.path / std::to_string(i) / IMAGES[i % 4]) ==
              read_file(image(IMAGES[i % 4])));
    }
}

TEST_CASE("ex3: threads and sockets come back to their starting count") {
    Server server = start_server("ex3_files/server", {"--quiet"});
    pid_t pid = server.process->pid();
    raw_request(server.port, "GET tucano.jpg");  // warm-up (see the same test of ex1)
    std::this_thread::sleep_for(200ms);
    int fds0 = open_fds(pid), threads0 = thread_count(pid);
    for (int i = 0; i < 10; ++i) raw_request(server.port, i % 2 ? "GET gato.jpg" : "lixo");
    CHECK(wait_threads(pid, threads0, 5000ms));
    CHECK(open_fds(pid) == fds0);
}

TEST_CASE("ex3: the guide's Python programs on the other end of the wire") {
    if (auto why = need_tools({"python3"}, "python"); !why.empty()) return skip(why);
    const std::string guide = std::string(LAB_SOURCE_DIR) + "/tests/guide/";
    TempDir downloads;

    SUBCASE("the guide's client against our server: it works, with the original's bug") {
        Server server = start_server("ex3_files/server");
        Process py({"python3", guide + "cliente.py", std::to_string(server.port),
                    downloads.path.string()});
        py.write_stdin("iguana.jpg\n");
        CHECK(py.wait_exit(10000ms) == 0);
        // The original client keeps the final OK: 2 bytes more than the image.
        CHECK(read_file(downloads.path / "iguana.jpg") == read_file(image("iguana.jpg")) + "OK");
    }
    SUBCASE("our client against the guide's server: byte-identical") {
        int port = free_port();
        Process py({"python3", guide + "repositorio.py", std::to_string(port),
                    (fs::path(LAB_SOURCE_DIR) / "ex3_files" / "imagens").string()});
        REQUIRE(py.wait_output("Aguardando", 10000ms));
        Process client = download(port, "gato.jpg", downloads);
        CHECK(client.wait_exit(10000ms) == 0);
        CHECK(read_file(downloads.path / "gato.jpg") == read_file(image("gato.jpg")));
        Process missing = download(port, "nada.jpg", downloads);
        CHECK(missing.wait_exit(10000ms) == 1);
        INFO("client: " << missing.out() << missing.err() << "server: " << py.out() << py.err());
        CHECK(missing.err().find("ERROR \"O arquivo nada.jpg não existe\"") != std::string::npos);
        CHECK(downloads.names().size() == 1);
    }
}
