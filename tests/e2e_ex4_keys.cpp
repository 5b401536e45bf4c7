// End-to-end tests of Exemplo 4's key files: the server's servidor.chave
// (made once, mode 0600 enforced, never printed, no temporary left by a
// kill) and the client's servidores_conhecidos.txt (trust on first use,
// --chave-servidor, a broken file is an error), against the real programs
// and a fake server in the test.
#include <doctest/doctest.h>

#include <signal.h>
#include <sys/stat.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "ex4_support.h"

using namespace lab;
namespace fs = std::filesystem;

namespace {

// A first run of the server in `lab`: it makes servidor.chave; returns the
// public key it printed and, in `out`, what else it printed.
std::string first_run(const Lab& lab, std::string* out = nullptr) {
    Server server = start_server(lab);
    if (out) *out = server.process->out();
    return printed_key(*server.process);
}

}  // namespace

TEST_CASE("ex4 server: the key file is made once, mode 0600, and the secret is never printed") {
    Lab lab;
    const fs::path file = lab.dir.path / "servidor.chave";
    std::string printed;
    const std::string key = first_run(lab, &printed);
    CHECK(printed.find("Par de chaves novo criado em") != std::string::npos);
    struct stat st {};
    REQUIRE(stat(file.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    std::string content = read_file(file), secret;
    auto at = content.find("\nsecreta ");
    REQUIRE(at != std::string::npos);
    secret = content.substr(at + 9, 44);
    CHECK(content.find("\npublica " + key + "\n") != std::string::npos);
    CHECK(lab.dir.names().size() == 4);  // 3 programs + the key file; no temporary left
    {
        Server again = start_server(lab);  // the same identity on the next run
        CHECK(printed_key(*again.process) == key);
        CHECK(again.process->out().find("Par de chaves novo") == std::string::npos);
        Peer p = connect_peer(again.port);
        CHECK(p.server_key == key);
        close_fd(p.fd);
        CHECK(again.process->out().find(secret) == std::string::npos);
        CHECK(again.process->err().find(secret) == std::string::npos);
    }
    // A damaged file is refused with a clear message, never replaced.
    content[at + 12] = content[at + 12] == 'A' ? 'B' : 'A';
    std::ofstream(file, std::ios::binary | std::ios::trunc) << content;
    Process broken({lab.path("server"), "127.0.0.1", std::to_string(free_port())});
    CHECK(broken.wait_exit(5000ms) == 1);
    CHECK(broken.err().find("está corrompido") != std::string::npos);
    CHECK(read_file(file) == content);
}

TEST_CASE("ex4 server: a key file that group or others can read is refused, with the chmod") {
    Lab lab;
    const fs::path file = lab.dir.path / "servidor.chave";
    const std::string key = first_run(lab);
    const std::string content = read_file(file);
    for (mode_t mode : {0644, 0640, 0604, 0660, 0700 | 0020}) {
        char text[8];
        std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode));
        CAPTURE(text);
        REQUIRE(chmod(file.c_str(), mode) == 0);
        Process refused({lab.path("server"), "127.0.0.1", std::to_string(free_port())});
        CHECK(refused.wait_exit(5000ms) == 1);
        const std::string err = refused.err();
        CHECK(err.find("Erro: as permissões de " + file.string() + " são " + text) == 0);
        CHECK(err.find("outros usuários desta máquina podem ler a chave secreta") !=
              std::string::npos);
        CHECK(err.find("\n  chmod 600 " + file.string() + "\n") != std::string::npos);
        CHECK(refused.out().find("Chave pública") == std::string::npos);
        CHECK(read_file(file) == content);  // untouched
    }
    // The fix it gives works: the same key again.
    REQUIRE(chmod(file.c_str(), 0600) == 0);
    Server fixed = start_server(lab);
    CHECK(printed_key(*fixed.process) == key);
}

TEST_CASE("ex4 server: killed while it creates its key, it leaves no temporary file") {
    Sodium sodium;
    // The key pair is made right after listen(); kill the server at moments
    // around it. Whatever the moment, the folder holds the program and at
    // most a complete servidor.chave (one the next start accepts).
    for (int round = 0; round < 20; ++round) {
        CAPTURE(round);
        TempDir dir;
        fs::copy_file(bin("ex4_kx/server"), dir.path / "server");
        const std::string port = std::to_string(free_port());
        {
            Process server({(dir.path / "server").string(), "127.0.0.1", port});
            std::this_thread::sleep_for(std::chrono::microseconds(500 * round));
            server.kill(SIGKILL);
            server.wait_exit(5000ms);
        }
        for (const std::string& name : dir.names())
            CHECK_MESSAGE((name == "server" || name == "servidor.chave"), name);
        if (fs::exists(dir.path / "servidor.chave")) {
            Process again({(dir.path / "server").string(), "127.0.0.1", port});
            CHECK(again.wait_output("Chave pública do servidor: ", 5000ms));
            CHECK(again.out().find("Par de chaves novo") == std::string::npos);
        }
    }
}

TEST_CASE("ex4 client: trust on first use saves the key after the confirmation; --chave-servidor "
          "checks it exactly") {
    Lab lab;
    const fs::path known = lab.known();
    FakeServer fake;
    const std::string port = std::to_string(fake.port);
    {
        Process client(lab.client(fake.port));
        fake.handshake();
        CHECK(client.wait_output("Primeira conexão com 127.0.0.1:" + port +
                                     ". A chave pública do servidor é\n  " + fake.key() + "\n",
                                 5000ms));
        CHECK(client.out().find("Confira se é a mesma da linha \"Chave pública do servidor: ...\"") !=
              std::string::npos);
        CHECK(read_file(known) == "127.0.0.1:" + port + " " + fake.key() + "\n");
        client.close_stdin();
        close_fd(fake.fd);
        fake.fd = -1;
        CHECK(client.wait_exit(5000ms) == 0);
    }
    {
        // The same server, the same key: accepted without a word.
        Process client(lab.client(fake.port));
        fake.handshake();
        REQUIRE(send_bytes(fake.fd, kx::seal(fake.sending, "oi") + "\n"));
        CHECK(client.wait_output("oi\n>", 5000ms));
        CHECK(client.out().find("Primeira") == std::string::npos);
        CHECK(count_of(read_file(known), "\n") == 1);
    }
    // Another key for a known address: warning, exit 1, and nothing sent.
    FakeServer impostor;
    std::ofstream(known, std::ios::app)
        << "# um comentário e uma linha vazia são aceitos\n\n"
        << "127.0.0.1:" << impostor.port << " " << fake.key() << "\n";
    Process client(lab.client(impostor.port));
    impostor.accept_client();
    REQUIRE(send_bytes(impostor.fd, impostor.key() + "\n"));
    CHECK(client.wait_exit(5000ms) == 1);
    CHECK(client.err().find("ATENÇÃO: a chave do servidor 127.0.0.1:" +
                            std::to_string(impostor.port) + " não é a esperada!\n  esperada: " +
                            fake.key()) == 0);
    bool closed = false;
    CHECK(recv_until_close(impostor.fd, 5000ms, &closed).empty());
    CHECK(closed);
    // --chave-servidor with a different key: the same refusal; the file is not read.
    FakeServer other;
    Process pinned(lab.client(other.port, fake.key()));
    other.accept_client();
    REQUIRE(send_bytes(other.fd, other.key() + "\n"));
    CHECK(pinned.wait_exit(5000ms) == 1);
    CHECK(pinned.err().find("(dada com --chave-servidor)") != std::string::npos);
}

TEST_CASE("ex4 client: an unreadable or broken servidores_conhecidos.txt is an error, never a "
          "first connection") {
    Lab lab;
    const fs::path known = lab.known();
    // Connect to a fake server that sends its key; the client must stop
    // there, name the file, and send nothing.
    auto refused = [&](const std::string& expected) {
        FakeServer fake;
        Process client(lab.client(fake.port));
        fake.accept_client();
        kx::Ephemeral es;
        REQUIRE(send_bytes(fake.fd, fake.key() + "\n" + es.line()));
        CHECK(client.wait_exit(5000ms) == 1);
        CHECK(client.err().find("Erro: " + expected) == 0);
        CHECK(client.err().find(".\nConexão encerrada; nada foi enviado.\n") != std::string::npos);
        CHECK(client.out().find("Primeira") == std::string::npos);
        bool closed = false;
        CHECK(recv_until_close(fake.fd, 5000ms, &closed).empty());
        CHECK(closed);
    };
    SUBCASE("a folder where the file should be (cannot be read)") {
        fs::create_directory(known);
        refused("não foi possível ler " + known.string() + ": ");
    }
    SUBCASE("a line that is not ADDRESS:PORT KEY") {
        std::ofstream(known) << "# servidores\nlocalhost:8000 "
                             << "zbDz69Uoz_hhm8p_9vnH5a3L-wVWsXvOtSdGTljfDW0=\nlixo no arquivo\n";
        refused(known.string() + " está estragado: a linha 3 não é \"ENDEREÇO:PORTA CHAVE\". "
                                 "Corrija-a ou apague o arquivo (as chaves dos servidores serão "
                                 "conferidas de novo, como na primeira vez)");
    }
    SUBCASE("a key that is not 32 bytes of base64") {
        std::ofstream(known) << "localhost:8000 zbDz69Uoz_hhm8p_9vnH5a3L\n";
        refused(known.string() + " está estragado: a linha 1 não é \"ENDEREÇO:PORTA CHAVE\". "
                                 "Corrija-a ou apague o arquivo (as chaves dos servidores serão "
                                 "conferidas de novo, como na primeira vez)");
    }
}
