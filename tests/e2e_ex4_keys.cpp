// End-to-end tests of Exemplo 4's key files: the server's servidor.chave
// (made once, mode 0600 enforced, never printed, no temporary left by a
// kill) and the client's servidores_conhecidos.txt (trust on first use,
// --chave-servidor, a broken file is an error, a file or folder that someone
// else can change is refused), against the real programs and a fake server
// in the test.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

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

// Connect the client to a fake server that sends its key; the client must
// stop there with "Erro: <expected>...", and send nothing.
void expect_refusal(const Lab& lab, const std::string& expected) {
    FakeServer fake;
    Process client(lab.client(fake.port));
    fake.accept_client();
    kx::Ephemeral es;
    REQUIRE(send_bytes(fake.fd, fake.key() + "\n" + es.line()));
    CHECK(client.wait_exit(5000ms) == 1);
    CHECK_MESSAGE(client.err().find("Erro: " + expected) == 0, client.err());
    CHECK(client.err().find(".\nConexão encerrada; nada foi enviado.\n") != std::string::npos);
    CHECK(client.out().find("Primeira") == std::string::npos);
    bool closed = false;
    CHECK(recv_until_close(fake.fd, 5000ms, &closed).empty());
    CHECK(closed);
}

// Another user and its group, as the attacker (the tests run as root; the
// victim is root, so "another user" is nobody).
constexpr uid_t OTHER_USER = 65534;
constexpr gid_t OTHER_GROUP = 65534;

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
    SUBCASE("a folder where the file should be (cannot be read)") {
        fs::create_directory(known);
        expect_refusal(lab, known.string() + " não é um arquivo comum");
    }
    SUBCASE("a line that is not ADDRESS:PORT KEY") {
        std::ofstream(known) << "# servidores\nlocalhost:8000 "
                             << "zbDz69Uoz_hhm8p_9vnH5a3L-wVWsXvOtSdGTljfDW0=\nlixo no arquivo\n";
        expect_refusal(lab, known.string() + " está estragado: a linha 3 não é \"ENDEREÇO:PORTA CHAVE\". "
                                 "Corrija-a ou apague o arquivo (as chaves dos servidores serão "
                                 "conferidas de novo, como na primeira vez)");
    }
    SUBCASE("a key that is not 32 bytes of base64") {
        std::ofstream(known) << "localhost:8000 zbDz69Uoz_hhm8p_9vnH5a3L\n";
        expect_refusal(lab, known.string() + " está estragado: a linha 1 não é \"ENDEREÇO:PORTA CHAVE\". "
                                 "Corrija-a ou apague o arquivo (as chaves dos servidores serão "
                                 "conferidas de novo, como na primeira vez)");
    }
}

// The attacks on the known-servers file in a folder that others can write
// (issue 30, the classroom attacker's A-F). Before: a planted file or a
// symlink made the victim trust the attacker's key (A, B), a symlink was
// read through (C), a held lock ended the client with "EAGAIN" (D), and (as
// root) a planted lock file or known-servers file was used as the victim's
// own (E, F).
TEST_CASE("ex4 client: servidores_conhecidos.txt is used only if nobody else can change it") {
    Lab lab;
    const fs::path known = lab.known(), folder = fs::canonical(lab.dir.path);
    // The attacker's line (any address: the refusal comes before the lookup).
    auto plant = [](const fs::path& file) {
        std::ofstream(file) << "127.0.0.1:1 AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n";
    };
    SUBCASE("A: a folder the class group can write (2775): refused, with what to do") {
        REQUIRE(chown(folder.c_str(), 0, OTHER_GROUP) == 0);
        REQUIRE(chmod(folder.c_str(), 02775) == 0);
        plant(known);
        REQUIRE(chown(known.c_str(), OTHER_USER, OTHER_GROUP) == 0);
        expect_refusal(lab, "a pasta " + folder.string() +
                                " (modo 2775, do usuário root, grupo nogroup) pode ser alterada "
                                "por outros usuários");
    }
    SUBCASE("A: the attacker's own file (644) in the victim's folder: not the victim's") {
        plant(known);
        REQUIRE(chown(known.c_str(), OTHER_USER, OTHER_GROUP) == 0);
        expect_refusal(lab, known.string() +
                                " (modo 0644, do usuário nobody, grupo nogroup) não é seu");
    }
    SUBCASE("B: a symlink to a file of the attacker's: not followed") {
        TempDir elsewhere;
        plant(elsewhere.path / "chaves");
        fs::create_symlink(elsewhere.path / "chaves", known);
        expect_refusal(lab, known.string() + " é um link simbólico, e o cliente não segue links");
    }
    SUBCASE("C: a symlink to a private file of the victim's: not read through") {
        TempDir home;
        std::ofstream(home.path / "segredo.txt") << "segredo da turma\n";
        fs::create_symlink(home.path / "segredo.txt", known);
        expect_refusal(lab, known.string() + " é um link simbólico, e o cliente não segue links");
        CHECK(read_file(home.path / "segredo.txt") == "segredo da turma\n");
    }
    SUBCASE("a file of the user's that others can write (666): refused, with the chmod") {
        plant(known);
        REQUIRE(chmod(known.c_str(), 0666) == 0);
        expect_refusal(lab, known.string() +
                                " (modo 0666, do usuário root, grupo root) pode ser alterado por "
                                "outros usuários. Corrija com: chmod go-w " + known.string());
    }
    SUBCASE("F: a sticky folder anyone can write (1777), an empty file planted: refused") {
        REQUIRE(chmod(folder.c_str(), 01777) == 0);
        { std::ofstream planted(known); }
        REQUIRE(chown(known.c_str(), OTHER_USER, OTHER_GROUP) == 0);
        REQUIRE(chmod(known.c_str(), 0666) == 0);
        expect_refusal(lab, "a pasta " + folder.string() +
                                " (modo 1777, do usuário root, grupo root) pode ser alterada por "
                                "outros usuários");
        CHECK(read_file(known).empty());
    }
    SUBCASE("the user's private group may write the folder (umask 002 on Debian and Ubuntu)") {
        REQUIRE(chmod(folder.c_str(), 0770) == 0);  // root:root, and root is alone in group root
        FakeServer fake;
        Process client(lab.client(fake.port));
        fake.handshake();
        CHECK(client.wait_output("será conferida nas próximas conexões", 5000ms));
        CHECK(read_file(known) ==
              "127.0.0.1:" + std::to_string(fake.port) + " " + fake.key() + "\n");
    }
}

TEST_CASE("ex4 client: a lock file of someone else's is refused; a lock held for 2 s is not "
          "waited for (the session goes on, the key is not saved)") {
    Lab lab;
    const fs::path known = lab.known(), lock = known.string() + ".trava";
    Server server = start_server(lab);
    SUBCASE("E: another user's lock file (644): refused, nothing saved") {
        { std::ofstream planted(lock); }
        REQUIRE(chown(lock.c_str(), OTHER_USER, OTHER_GROUP) == 0);
        REQUIRE(chmod(lock.c_str(), 0644) == 0);
        Process client(lab.client(server.port));
        CHECK(client.wait_exit(15000ms) == 1);
        CHECK_MESSAGE(client.err().find("Erro: não foi possível travar: " + lock.string() +
                                        " (modo 0644, do usuário nobody, grupo nogroup) não é "
                                        "seu") == 0,
                      client.err());
        CHECK(!fs::exists(known));
    }
    // Waiting longer would cost the connection: the server gives the whole
    // handshake 10 s (with a 10 s wait, this test failed on its first run).
    SUBCASE("D: a lock held by another process: after 2 s, chat without saving") {
        const int fd = open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        REQUIRE(fd >= 0);
        REQUIRE(flock(fd, LOCK_EX) == 0);
        Process client(lab.client(server.port));
        REQUIRE(client.wait_output("Ela NÃO foi salva: outro processo está usando " +
                                     known.string() + " há 2 s\n",
                                 20000ms));
        CHECK(client.err().empty());
        client.write_stdin("oi da turma\n");
        // The server's echo: the client is in the chat.
        CHECK_MESSAGE(client.wait_output("oi da turma\n>", 5000ms), client.out());
        CHECK(!fs::exists(known));
        client.close_stdin();
        CHECK(client.wait_exit(5000ms) == 0);
        close(fd);
    }
}
