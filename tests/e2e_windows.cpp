// The Windows programs (built by `make windows`, run under wine) against the
// Linux ones, over loopback: each Windows server with Linux clients and each
// Linux server with a Windows client. They prove the wire is the same across
// systems. Exits 77 (CTest: "Skipped"), saying why, when wine or the .exe
// files are missing.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "../ex2_crypto/token.h"
#include "../ex4_kx/kx.h"
#include "support.h"
#include "tcp_capture.h"  // unhex

using namespace lab;
namespace fs = std::filesystem;

namespace {

const std::string WINE = "/usr/lib/wine/wine64";
const std::string OLA = "Olá turma de redes industriais";

std::string exe(const std::string& program) {
    return std::string(LAB_SOURCE_DIR) + "/build/windows/" + program + ".exe";
}

std::vector<std::string> windows(const std::string& program, std::vector<std::string> args) {
    args.insert(args.begin(), {WINE, exe(program)});
    return args;
}


// Start a server (Windows under wine, or Linux) on a free port.
Server start(const std::vector<std::string>& prefix, const std::vector<std::string>& extra = {}) {
    for (int attempt = 0; attempt < 5; ++attempt) {
        Server s;
        s.port = free_port();
        std::vector<std::string> argv = prefix;
        argv.push_back("127.0.0.1");
        argv.push_back(std::to_string(s.port));
        argv.insert(argv.end(), extra.begin(), extra.end());
        s.process = std::make_unique<Process>(argv);
        if (s.process->wait_output("Aguardando", 30000ms)) return s;
    }
    throw std::runtime_error("server did not start");
}


// Raw ex1 client registered for sure (its probe comes back).
int join_ex1(int port) {
    int fd = connect_to(port);
    REQUIRE(fd >= 0);
    REQUIRE(send_bytes(fd, "<probe>"));
    REQUIRE(recv_exactly(fd, 7, 10000ms) == "<probe>");
    return fd;
}

// Raw ex2 peer: reads the key, answers OK, registered for sure.
int join_ex2(int port, std::vector<unsigned char>& key) {
    int fd = connect_to(port);
    REQUIRE(fd >= 0);
    std::string key_line = recv_line(fd, 10000ms);
    REQUIRE(key_line.size() == 44);
    REQUIRE(token::from_base64(key_line, key));
    REQUIRE(send_bytes(fd, token::encrypt(key.data(), "OK") + "\n"));
    std::string probe = token::encrypt(key.data(), "probe") + "\n", text;
    REQUIRE(send_bytes(fd, probe));
    REQUIRE(recv_exactly(fd, probe.size(), 10000ms) == probe);
    return fd;
}

// Raw ex4 peer: the whole handshake of ex4_kx/kx.h (S and Es, Ec and the
// header, the server's header and OK, the client's OK), registered for sure
// (its probe comes back). Keeps the server's key line.
struct Ex4Peer {
    int fd = -1;
    std::string server_key;
    kx::Stream sending{}, receiving{};
};
Ex4Peer join_ex4(int port) {
    Ex4Peer p;
    p.fd = connect_to(port);
    REQUIRE(p.fd >= 0);
    p.server_key = recv_line(p.fd, 10000ms);
    unsigned char server_pk[32], connection_pk[32], rx[32], tx[32];
    REQUIRE(kx::read_key(p.server_key, server_pk));
    REQUIRE(kx::read_key(recv_line(p.fd, 10000ms), connection_pk));
    kx::Ephemeral mine;
    const std::string mine_line = mine.line();
    REQUIRE(kx::client_session_keys(rx, tx, mine, server_pk, connection_pk));
    REQUIRE(send_bytes(p.fd, mine_line + kx::start_sending(p.sending, tx) + "\n"));
    REQUIRE(kx::start_receiving(p.receiving, recv_line(p.fd, 10000ms), rx));
    std::string text;
    REQUIRE(kx::open(p.receiving, recv_line(p.fd, 10000ms), text));
    REQUIRE(text == "OK");
    REQUIRE(send_bytes(p.fd, kx::seal(p.sending, "OK") + "\n"));
    REQUIRE(send_bytes(p.fd, kx::seal(p.sending, "probe") + "\n"));
    REQUIRE(kx::open(p.receiving, recv_line(p.fd, 10000ms), text));
    REQUIRE(text == "probe");
    return p;
}

}  // namespace

TEST_CASE("windows ex1: same bytes on the wire in both directions") {
    SUBCASE("Windows server, Linux clients") {
        Server server = start(windows("ex1_chat/server", {}));
        int raw = join_ex1(server.port);
        Process client({bin("ex1_chat/client"), "127.0.0.1", std::to_string(server.port)});
        client.write_stdin(OLA + "\n");
        CHECK(recv_exactly(raw, 31, 10000ms) == OLA);
        CHECK(client.wait_output(OLA, 10000ms));
        close_fd(raw);
        CHECK(server.process->wait_output("Cliente desconectado: 127.0.0.1:", 10000ms));
    }
    SUBCASE("Linux server, Windows client") {
        Server server = start({bin("ex1_chat/server")});
        int raw = join_ex1(server.port);
        Process client(windows("ex1_chat/client", {"127.0.0.1", std::to_string(server.port)}));
        client.write_stdin(OLA + "\r\n");  // a Windows line ending, too
        CHECK(recv_exactly(raw, 31, 20000ms) == OLA);  // exactly the 31 bytes
        client.close_stdin();
        CHECK(client.wait_exit(20000ms) == 0);
        CHECK(client.out().find("Conexão encerrada por você (fim da entrada)") != std::string::npos);
        close_fd(raw);
    }
}

TEST_CASE("windows ex2: handshake and messages across systems") {
    REQUIRE(sodium_init() >= 0);
    SUBCASE("Windows server, Linux peers") {
        Server server = start(windows("ex2_crypto/server", {}));
        std::vector<unsigned char> key;
        int raw = join_ex2(server.port, key);
        CHECK(server.process->wait_output("sincronizado", 10000ms));
        Process client({bin("ex2_crypto/client"), "127.0.0.1", std::to_string(server.port)});
        client.write_stdin(OLA + "\n");
        std::string text;
        REQUIRE(token::decrypt(key.data(), recv_line(raw, 20000ms), text));
        CHECK(text == OLA);
        CHECK(client.wait_output(OLA, 10000ms));
        close_fd(raw);
    }
    SUBCASE("Linux server, Windows client") {
        Server server = start({bin("ex2_crypto/server")});
        std::vector<unsigned char> key;
        int raw = join_ex2(server.port, key);
        Process client(windows("ex2_crypto/client", {"127.0.0.1", std::to_string(server.port)}));
        client.write_stdin(OLA + "\n");
        std::string text;
        REQUIRE(token::decrypt(key.data(), recv_line(raw, 20000ms), text));
        CHECK(text == OLA);
        REQUIRE(send_bytes(raw, token::encrypt(key.data(), "resposta do Linux") + "\n"));
        CHECK(client.wait_output("resposta do Linux", 20000ms));
        close_fd(raw);
    }
}

TEST_CASE("windows ex4: key exchange and streams across systems") {
    REQUIRE(sodium_init() >= 0);
    std::string text;
    SUBCASE("Windows server, Linux peers") {
        Server server = start(windows("ex4_kx/server", {}));
        Ex4Peer raw = join_ex4(server.port);
        Process client({bin("ex4_kx/client"), "127.0.0.1", std::to_string(server.port),
                        "--chave-servidor", raw.server_key});
        CHECK(server.process->wait_output("sincronizado", 10000ms, 2));
        client.write_stdin(OLA + "\n");
        REQUIRE(kx::open(raw.receiving, recv_line(raw.fd, 20000ms), text));
        CHECK(text == OLA);
        CHECK(client.wait_output(OLA, 10000ms));
        close_fd(raw.fd);
    }
    SUBCASE("Linux server, Windows client") {
        Server server = start({bin("ex4_kx/server")});
        Ex4Peer raw = join_ex4(server.port);
        Process client(windows("ex4_kx/client", {"127.0.0.1", std::to_string(server.port),
                                                 "--chave-servidor", raw.server_key}));
        CHECK(server.process->wait_output("sincronizado", 20000ms, 2));
        client.write_stdin(OLA + "\n");
        REQUIRE(kx::open(raw.receiving, recv_line(raw.fd, 20000ms), text));
        CHECK(text == OLA);
        REQUIRE(send_bytes(raw.fd, kx::seal(raw.sending, "resposta do Linux") + "\n"));
        CHECK(client.wait_output("resposta do Linux", 20000ms));
        close_fd(raw.fd);
    }
    SUBCASE("Windows client, no server: the error in Portuguese with its WSA name") {
        Process client(windows("ex4_kx/client", {"127.0.0.1", std::to_string(free_port())}));
        CHECK(client.wait_exit(30000ms) == 1);
        CHECK(client.err().find("conexão recusada (WSAECONNREFUSED 10061) (o servidor está "
                                "rodando?)") != std::string::npos);
    }
    SUBCASE("Windows client, an impostor with the server's public key: refused, nothing sent") {
        int port = 0;
        int listener = listen_local(port);
        unsigned char pk[32], sk[32], header[24] = {1, 2, 3};
        crypto_kx_keypair(pk, sk);
        const std::string key = kx::to_base64(pk, 32);
        Process client(windows("ex4_kx/client", {"127.0.0.1", std::to_string(port),
                                                 "--chave-servidor", key}));
        client.write_stdin("segredo\n");
        int fd = accept_within(listener, 30000ms);
        REQUIRE(fd >= 0);
        kx::Ephemeral es;  // S copied, its own Es, any header, an OK it cannot seal
        REQUIRE(send_bytes(fd, key + "\n" + es.line() + kx::to_base64(header, 24) + "\n" +
                                   std::string(28, 'A') + "\n"));
        CHECK(client.wait_exit(30000ms) == 1);
        CHECK(client.err().find("ATENÇÃO: este servidor não tem a chave que diz ter") !=
              std::string::npos);
        CHECK(recv_until_close(fd, 20000ms).size() == 78);  // Ec and its header, no more
        close_fd(fd);
        close_fd(listener);
    }
}

TEST_CASE("windows ex3: byte-identical downloads and the ERROR path") {
    const fs::path images = fs::path(LAB_SOURCE_DIR) / "ex3_files" / "imagens";
    TempDir downloads;
    SUBCASE("Windows server, Linux client") {
        Server server = start(windows("ex3_files/server", {"--quiet"}));
        for (const char* name : {"cachorro.jpg", "gato.jpg", "iguana.jpg", "tucano.jpg"}) {
            Process client({bin("ex3_files/client"), "127.0.0.1", std::to_string(server.port), name,
                            "--dir", downloads.path.string()});
            CHECK(client.wait_exit(20000ms) == 0);
            CHECK(read_file(downloads.path / name) == read_file(images / name));
        }
        Process missing({bin("ex3_files/client"), "127.0.0.1", std::to_string(server.port),
                         "nada.jpg", "--dir", downloads.path.string()});
        CHECK(missing.wait_exit(20000ms) == 1);
        CHECK(missing.err().find("ERROR \"O arquivo nada.jpg não existe\"") != std::string::npos);
        CHECK(!fs::exists(downloads.path / "nada.jpg"));
    }
    SUBCASE("Linux server, Windows client") {
        Server server = start({bin("ex3_files/server")}, {"--quiet"});
        Process client(windows("ex3_files/client", {"127.0.0.1", std::to_string(server.port),
                                                    "gato.jpg", "--dir", downloads.path.string()}));
        CHECK(client.wait_exit(30000ms) == 0);
        CHECK(read_file(downloads.path / "gato.jpg") == read_file(images / "gato.jpg"));
        Process missing(windows("ex3_files/client", {"127.0.0.1", std::to_string(server.port),
                                                     "nada.jpg", "--dir", downloads.path.string()}));
        CHECK(missing.wait_exit(30000ms) == 1);
        CHECK(!fs::exists(downloads.path / "nada.jpg"));
        CHECK(std::distance(fs::directory_iterator(downloads.path), fs::directory_iterator()) == 1);
    }
}

// ex6: the same Modbus/TCP bytes from a Winsock program. The Linux client is
// an independent check of the Windows server's replies, and the reverse.
TEST_CASE("windows ex6: Modbus/TCP across systems, exceptions included") {
    auto linux_client = [](int port, std::vector<std::string> args) {
        args.insert(args.begin(), {bin("ex6_modbus/client"), "127.0.0.1", std::to_string(port)});
        auto p = std::make_unique<Process>(args);
        p->wait_exit(20000ms);
        return p;
    };
    SUBCASE("Windows server, Linux client and a raw peer") {
        Server server = start(windows("ex6_modbus/server", {}));
        auto read = linux_client(server.port, {"ler", "2", "3"});
        CHECK(read->wait_exit(0ms) == 0);
        CHECK(read->out() == "registrador 2 = 800\nregistrador 3 = 200\nregistrador 4 = 258\n");
        CHECK(linux_client(server.port, {"escrever", "10", "4321"})->wait_exit(0ms) == 0);
        CHECK(linux_client(server.port, {"ler", "10"})->out() == "registrador 10 = 4321\n");
        auto exception = linux_client(server.port, {"ler", "99", "2"});
        CHECK(exception->wait_exit(0ms) == 1);
        CHECK(exception->err().rfind("Erro: o servidor respondeu com a exceção 02", 0) == 0);
        // Two requests in one segment, then a frame with protocol id 1.
        int fd = connect_to(server.port);
        REQUIRE(fd >= 0);
        const std::string two = unhex("000700000006010300020001") + unhex("000800000006010300030001");
        REQUIRE(send_bytes(fd, two + unhex("000900010006010300000001")));
        CHECK(recv_exactly(fd, 22, 20000ms) ==
              unhex("0007000000050103020320" "00080000000501030200c8"));
        bool closed = false;
        recv_until_close(fd, 20000ms, &closed);
        CHECK(closed);
        close_fd(fd);
        CHECK(server.process->wait_output("fechada: mensagem inválida: Protocol Identifier 1", 20000ms));
    }
    SUBCASE("Linux server, Windows client") {
        Server server = start({bin("ex6_modbus/server")});
        Process write(windows("ex6_modbus/client", {"127.0.0.1", std::to_string(server.port),
                                                    "escrever-bobina", "5", "1", "--detalhes"}));
        CHECK(write.wait_exit(30000ms) == 0);
        CHECK(write.out().find(">> pedido, 12 bytes: 00 01 00 00 00 06 01 05 00 05 ff 00") != std::string::npos);
        CHECK(write.out().find("bobina 5 = 1 (escrito)") != std::string::npos);
        CHECK(linux_client(server.port, {"ler-bobinas", "5"})->out() == "bobina 5 = 1\n");
        Process exception(windows("ex6_modbus/client", {"127.0.0.1", std::to_string(server.port),
                                                        "ler", "0", "126"}));
        CHECK(exception.wait_exit(30000ms) == 1);
        CHECK(exception.err().find("exceção 03 (Illegal data value)") != std::string::npos);
    }
}

// Issue 20 on Windows: Winsock's errors in Portuguese with their WSA names,
// escapes from the network shown as text, the limit per address.
TEST_CASE("windows: errors in Portuguese, escapes shown as text, a limit per address") {
    Server server = start(windows("ex1_chat/server", {}), {"--limite-por-ip", "2"});
    const std::string port = std::to_string(server.port);
    Process second(windows("ex1_chat/server", {"127.0.0.1", port}));
    CHECK(second.wait_exit(30000ms) == 1);
    CHECK(second.err().find("endereço já em uso (WSAEADDRINUSE 10048)") != std::string::npos);
    const std::string closed = std::to_string(free_port());
    Process refused(windows("ex3_files/client", {"127.0.0.1", closed, "x.jpg"}));
    CHECK(refused.wait_exit(30000ms) == 1);
    CHECK(refused.err().find("conexão recusada (WSAECONNREFUSED 10061)") != std::string::npos);

    int raw = join_ex1(server.port);
    Process client(windows("ex1_chat/client", {"127.0.0.1", port}));
    CHECK(server.process->wait_output("Cliente conectado", 30000ms, 2));
    // The server prints "Cliente conectado" a moment before the client is in
    // its list: probe until one reaches the Windows client.
    REQUIRE(until_listed(client, [&] { REQUIRE(send_bytes(raw, "<sonda>")); }));
    REQUIRE(send_bytes(raw, "\x1b[2J ol\xe1 Olá"));
    CHECK(client.wait_output("\\x1b[2J ol\\xe1 Olá", 20000ms));
    CHECK(client.out().find('\x1b') == std::string::npos);
    int third = connect_to(server.port);  // a third from 127.0.0.1: over the limit of 2
    CHECK(server.process->wait_output("Conexão recusada: 127.0.0.1 já tem 2 conexões", 20000ms));
    close_fd(third);
    client.close_stdin();
    close_fd(raw);
}

// ex5 over UDP: the Windows programs against the Linux ones, plain and
// reliable (Winsock's recvfrom() also reports ICMP "port unreachable" as
// WSAECONNRESET on the server's socket: the server must carry on).
TEST_CASE("windows ex5: byte-identical over UDP, plain and reliable, both ways") {
    const fs::path images = fs::path(LAB_SOURCE_DIR) / "ex3_files" / "imagens";
    TempDir downloads;
    SUBCASE("Windows server, Linux clients") {
        Server server = start(windows("ex5_udp/server", {}), {"--quiet", "--dir", images.string()});
        for (const std::vector<std::string>& mode :
             std::vector<std::vector<std::string>>{{}, {"--confiavel"}, {"--janela", "16"}}) {
            std::vector<std::string> argv = {bin("ex5_udp/client"), "127.0.0.1",
                                             std::to_string(server.port), "iguana.jpg", "--dir",
                                             (downloads.path / std::to_string(mode.size())).string()};
            argv.insert(argv.end(), mode.begin(), mode.end());
            Process client(argv);
            CHECK(client.wait_exit(20000ms) == 0);
            CHECK(read_file(downloads.path / std::to_string(mode.size()) / "iguana.jpg") ==
                  read_file(images / "iguana.jpg"));
        }
        CHECK(server.process->wait_output("Envio concluído e confirmado", 10000ms, 2));
    }
    SUBCASE("Linux server, Windows client") {
        Server server = start({bin("ex5_udp/server")}, {"--quiet", "--dir", images.string()});
        Process client(windows("ex5_udp/client", {"127.0.0.1", std::to_string(server.port),
                                                  "gato.jpg", "--dir", downloads.path.string(),
                                                  "--janela", "8"}));
        CHECK(client.wait_exit(30000ms) == 0);
        CHECK(read_file(downloads.path / "gato.jpg") == read_file(images / "gato.jpg"));
        Process missing(windows("ex5_udp/client", {"127.0.0.1", std::to_string(server.port),
                                                   "nada.jpg", "--dir", downloads.path.string()}));
        CHECK(missing.wait_exit(30000ms) == 1);
        CHECK(missing.err().find("ERROR \"O arquivo nada.jpg não existe\"") != std::string::npos);
        CHECK(!fs::exists(downloads.path / "nada.jpg"));
    }
}

int main(int argc, char** argv) {
    std::string why;
    if (access(WINE.c_str(), X_OK) != 0)
        why = "wine64 is not installed (make test installs it on Debian/Ubuntu: scripts/deps.sh windows)";
    else
        for (const char* p : {"ex1_chat/server", "ex2_crypto/client", "ex3_files/server",
                              "ex4_kx/client", "ex5_udp/client", "ex6_modbus/server"})
            if (access(exe(p).c_str(), R_OK) != 0)
                why = "no Windows build (make test builds it when MinGW-w64 is installed: make windows)";
    if (!why.empty()) return skip_program(why);
    // One wine prefix for the project, in the build folder, and one
    // persistent wineserver: started here with its output to /dev/null, so
    // that it never holds the pipes of the programs under test.
    const std::string prefix = std::string(LAB_SOURCE_DIR) + "/build/wineprefix";
    setenv("WINEPREFIX", prefix.c_str(), 1);
    setenv("WINEDEBUG", "-all", 1);
    setenv("LAB_BIN_DIR", LAB_BIN_DIR, 0);
    std::system("/usr/lib/wine/wineserver -p >/dev/null 2>&1 </dev/null &");
    // The first program creates the prefix and starts wine's services, which
    // keep the output of whoever started them: so this one writes to a file.
    const std::string first = "timeout 300 " + WINE + " " + exe("ex1_chat/server") +
                              " --help >" + prefix + ".log 2>&1 </dev/null";
    if (std::system(first.c_str()) != 0) {
        return skip_program("wine could not run a program (see " + prefix + ".log)");
    }
    doctest::Context context(argc, argv);
    int rc = context.run();
    std::system("/usr/lib/wine/wineserver -k >/dev/null 2>&1");
    return rc;
}
