// End-to-end tests of Exemplo 4 against hostile bytes and peers: handshakes
// and lines a real client never sends (dropped with a message while the
// others keep talking), what a real server never sends (the client stops
// with a clear message), an idle flood and a dripping handshake from one
// address, and --limite-por-ip.
#include <doctest/doctest.h>

#include <sys/socket.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "ex4_support.h"

using namespace lab;

TEST_CASE("ex4: hostile handshakes and lines are dropped with a message; the others keep talking") {
    Lab lab;
    Server server = start_server(lab);
    auto peers = join_chat(server.port, 2);
    // Connect, read the two key lines, send `bytes`; the server must close.
    auto refused = [&](const std::string& bytes, const std::string& why) {
        int fd = connect_to(server.port);
        REQUIRE(fd >= 0);
        unsigned port = local_port(fd);
        REQUIRE(recv_exactly(fd, 90, 5000ms).size() == 90);
        REQUIRE(send_bytes(fd, bytes));
        bool closed = false;
        recv_until_close(fd, 5000ms, &closed);
        CHECK(closed);
        CHECK(server.process->wait_output(
            "Cliente ('127.0.0.1', " + std::to_string(port) + ") não sincronizado: " + why,
            5000ms));
        close_fd(fd);
    };
    unsigned char pk[32], sk[32];
    crypto_kx_keypair(pk, sk);
    const std::string good_key = kx::to_base64(pk, 32) + "\n";
    const std::string good_header = kx::to_base64(pk, 24) + "\n";
    const std::vector<unsigned char> zeros(33, 0);
    SUBCASE("garbage instead of a key") { refused("isto não é uma chave\n", "a chave pública"); }
    SUBCASE("binary bytes") { refused(std::string("\xff\xfe\x00\x80\n", 5), "a chave pública"); }
    SUBCASE("a 31-byte key") { refused(kx::to_base64(pk, 31) + "\n", "a chave pública"); }
    SUBCASE("a 33-byte key") { refused(kx::to_base64(zeros.data(), 33) + "\n", "a chave pública"); }
    SUBCASE("a key that is a weak point (all zeros)") {
        refused(kx::to_base64(zeros.data(), 32) + "\n", "a chave pública recebida é inválida");
    }
    SUBCASE("a key line of 5000 bytes") {
        refused(std::string(5000, 'A') + "\n", "enviou uma linha maior que 1024 bytes");
    }
    SUBCASE("a good key, then a garbage header") {
        refused(good_key + "cabecalho\n", "o cabeçalho recebido é inválido");
    }
    SUBCASE("a good key, then a 23-byte header") {
        refused(good_key + kx::to_base64(zeros.data(), 23) + "\n",
                "o cabeçalho recebido é inválido");
    }
    SUBCASE("a good key and header, then garbage instead of the OK") {
        refused(good_key + good_header + "OK\n",
                "o OK não abre no fluxo do cliente (chaves de outra conexão?)");
    }
    SUBCASE("the right keys, but the confirmation is not OK") {
        Peer p = begin_handshake(server.port);
        REQUIRE(send_bytes(p.fd, line_of(p, "NÃO")));
        CHECK(dropped(p));
        CHECK(server.process->wait_output("Cliente ('127.0.0.1', " + std::to_string(p.port) +
                                              ") não sincronizado: a resposta decifrada não é OK",
                                          5000ms));
        close_fd(p.fd);
    }
    SUBCASE("half handshakes: silent, key only, cut with a reset") {
        int silent = connect_to(server.port);
        int key_only = connect_to(server.port);
        REQUIRE(send_bytes(key_only, good_key));
        int reset = connect_to(server.port);
        REQUIRE(send_bytes(reset, good_key.substr(0, 20)));
        std::this_thread::sleep_for(100ms);
        reset_close(reset);
        still_talking(peers);  // while the half-open ones wait
        close_fd(silent);
        close_fd(key_only);
        CHECK(server.process->wait_output("não sincronizado:", 5000ms, 3));
    }
    SUBCASE("after the handshake: garbage, a 5000-byte line, an empty line") {
        for (const std::string& junk : {std::string("lixo\n"), std::string(5000, 'A') + "\n",
                                        std::string("\n")}) {
            Peer bad = join_chat(server.port, 1)[0];
            for (Peer& p : peers) REQUIRE(read_message(p) == "probe 0");
            REQUIRE(send_bytes(bad.fd, junk));
            CHECK(dropped(bad));
            close_fd(bad.fd);
        }
        CHECK(server.process->wait_output("enviou uma mensagem inválida", 5000ms, 2));
        CHECK(server.process->wait_output("enviou uma linha maior que 1024 bytes", 5000ms));
    }
    sodium_memzero(sk, sizeof sk);
    still_talking(peers);
    close_all(peers);
}

TEST_CASE("ex4 client: what a real server never sends") {
    Lab lab;
    SUBCASE("an invalid key") {
        FakeServer fake;
        Process client(lab.client(fake.port));
        fake.accept_client();
        REQUIRE(send_bytes(fake.fd, "chave-curta\n"));
        CHECK(client.wait_exit(5000ms) == 1);
        CHECK(client.err() == "Erro: chave inválida recebida do servidor\n");
    }
    SUBCASE("no key at all") {
        FakeServer fake;
        Process client(lab.client(fake.port));
        fake.accept_client();
        close_fd(fake.fd);
        fake.fd = -1;
        CHECK(client.wait_exit(5000ms) == 1);
        CHECK(client.err().find("Erro: o servidor não enviou a chave (fechou a conexão)") == 0);
    }
    SUBCASE("the long-term key only, then nothing") {
        FakeServer fake;
        Process client(lab.client(fake.port, fake.key()));
        fake.accept_client();
        REQUIRE(send_bytes(fake.fd, fake.key() + "\n"));
        shutdown(fake.fd, SHUT_WR);
        CHECK(client.wait_exit(5000ms) == 1);
        // Which is what the ex2 server does: the client says so (student finding 14).
        CHECK(client.err() == "Erro: o aperto de mão com o servidor falhou (fechou a conexão).\n"
                              "Chegou uma chave e nada mais: isto parece o servidor do Exemplo 2; "
                              "este cliente é do Exemplo 4. Use o cliente do Exemplo 2 "
                              "(../ex2_crypto/client)\n");
    }
    SUBCASE("the real ex2 server's first line, then the close its 10 s deadline brings") {
        Server ex2 = lab::start_server("ex2_crypto/server");
        int raw = connect_to(ex2.port);
        const std::string key_line = recv_line(raw, 5000ms) + "\n";
        close_fd(raw);
        FakeServer fake;  // replays it, and closes at once instead of after 10 s
        Process client(lab.client(fake.port));
        fake.accept_client();
        REQUIRE(send_bytes(fake.fd, key_line));
        shutdown(fake.fd, SHUT_WR);
        CHECK(client.wait_exit(5000ms) == 1);
        CHECK(client.err().find("isto parece o servidor do Exemplo 2; este cliente é do "
                                "Exemplo 4") != std::string::npos);
        CHECK(!std::filesystem::exists(lab.known()));  // nothing saved
    }
    SUBCASE("a bad header") {
        FakeServer fake;
        Process client(lab.client(fake.port, fake.key()));
        fake.handshake("AAAA");
        CHECK(client.wait_exit(5000ms) == 1);
        CHECK(client.err().find(
                  "Erro: o aperto de mão com o servidor falhou (cabeçalho inválido)") == 0);
    }
    SUBCASE("a header and an OK sealed with other keys") {
        FakeServer fake;
        Process client(lab.client(fake.port, fake.key()));
        kx::Stream other;
        unsigned char key[32] = {7};
        std::string header = kx::start_sending(other, key);
        fake.handshake(header, kx::seal(other, "OK"));
        CHECK(client.wait_exit(5000ms) == 1);
        CHECK(client.err().find("ATENÇÃO: este servidor não tem a chave que diz ter") == 0);
    }
    SUBCASE("a line too long, then a message longer than 748 bytes is refused, 748 is sent") {
        FakeServer fake;
        Process client(lab.client(fake.port, fake.key()));
        fake.handshake();
        client.write_stdin(std::string(749, 'a') + "\n" + std::string(748, 'b') + "\n");
        CHECK(client.wait_output("Mensagem muito longa: 749 bytes (o máximo é 748); não enviada",
                                 5000ms));
        std::string line = recv_line(fake.fd, 5000ms), text;
        CHECK(line.size() == 1020);
        REQUIRE(kx::open(fake.receiving, line, text));
        CHECK(text == std::string(748, 'b'));
        REQUIRE(send_bytes(fake.fd, std::string(3000, 'x') + "\n"));
        CHECK(client.wait_exit(5000ms) == 1);
        CHECK(client.out().find("Erro: mensagem inválida (alterada, repetida, fora de ordem ou "
                                "longa demais); "
                                "conexão encerrada") != std::string::npos);
    }
}

TEST_CASE("ex4 server: one address cannot lock the class out (idle flood, dripping handshake)") {
    Lab lab;
    // The server gets 64 descriptors (its own limit, lowered; nothing is
    // raised, nothing system-wide changes), so it keeps 32 connections
    // (common/admission.h): the idle connections below fill it, and each
    // newcomer then takes the place of one that has not finished its
    // handshake, never the place of the student already chatting.
    Server server = start({"/bin/sh", "-c", "ulimit -n 64 && exec \"$0\" \"$@\"",
                           lab.path("server"), "127.0.0.1"});
    const std::string key = printed_key(*server.process);
    auto peers = join_chat(server.port, 1);  // a student from 127.0.0.1, chatting
    // A handshake that drips one byte of a valid key line every 2 s, from
    // 127.0.0.3: each recv() gets a byte long before any per-recv timeout,
    // and 45 bytes would take 90 s. The deadline is for the whole handshake.
    std::atomic<bool> drip_closed{false};
    int dripper = connect_from(server.port, "127.0.0.3");
    REQUIRE(dripper >= 0);
    REQUIRE(recv_exactly(dripper, 90, 5000ms).size() == 90);
    std::thread drip([&] {
        unsigned char pk[32], sk[32];
        crypto_kx_keypair(pk, sk);
        const std::string line = kx::to_base64(pk, 32) + "\n";
        for (std::size_t i = 0; i < line.size() && !drip_closed; ++i) {
            if (!send_bytes(dripper, line.substr(i, 1))) break;
            for (int t = 0; t < 20 && !drip_closed; ++t) std::this_thread::sleep_for(100ms);
        }
    });
    // 300 idle connections from 127.0.0.2, opened as fast as possible.
    const int FLOOD = 300;
    std::vector<int> idle;
    for (int i = 0; i < FLOOD; ++i) {
        int fd = connect_from(server.port, "127.0.0.2");
        if (fd >= 0) idle.push_back(fd);
    }
    REQUIRE(idle.size() == static_cast<std::size_t>(FLOOD));
    CHECK(server.process->wait_output("fechada para dar lugar a", 10000ms));
    // Meanwhile, the class keeps chatting: the one already in, and a real
    // client from 127.0.0.1 that joins now.
    still_talking(peers, "durante a inundação");
    Process client(lab.client(server.port, key));
    client.write_stdin("ainda estou aqui\n");
    CHECK(read_message(peers[0]) == "ainda estou aqui");
    CHECK(client.wait_output("ainda estou aqui\n>", 5000ms));
    // The dripper is closed: by its handshake's deadline or, the server being
    // full, to make room (it is the oldest without a handshake). The 30 s only
    // stop a hang.
    bool closed = false;
    recv_until_close(dripper, 30000ms, &closed);
    CHECK(closed);
    drip_closed = true;
    drip.join();
    CHECK(server.process->err().find("Erro no accept") == std::string::npos);  // never out of fds
    for (int fd : idle) close_fd(fd);
    close_fd(dripper);
    still_talking(peers, "depois da inundação");
    client.close_stdin();
    CHECK(client.wait_exit(5000ms) == 0);
    close_all(peers);
}

TEST_CASE("ex4 server: --limite-por-ip N closes the N+1-th connection from one IP at once") {
    Lab lab;
    Server server = start_server(lab, {"--limite-por-ip", "2"});
    auto peers = join_chat(server.port, 2);
    int third = connect_to(server.port);
    REQUIRE(third >= 0);
    bool closed = false;
    CHECK(recv_until_close(third, 5000ms, &closed).empty());
    CHECK(closed);
    CHECK(server.process->wait_output(
        "Conexão recusada: 127.0.0.1 já tem 2 conexões abertas (limite por IP; veja "
        "--limite-por-ip)",
        5000ms));
    close_fd(third);
    // 127.0.0.2 is this same user on this same machine: the same group (issue 30).
    int same_user = connect_from(server.port, "127.0.0.2");
    CHECK(recv_until_close(same_user, 5000ms, &closed).empty());
    close_fd(same_user);
    close_fd(peers[1].fd);  // one leaves: its place comes back before the server says so
    REQUIRE(server.process->wait_output(
        "Cliente desconectado: 127.0.0.1:" + std::to_string(peers[1].port), 5000ms));
    Peer newcomer = connect_peer(server.port);
    REQUIRE(send_bytes(newcomer.fd, line_of(newcomer, "cheguei")));  // in the chat for sure
    REQUIRE(read_message(newcomer) == "cheguei");
    REQUIRE(read_message(peers[0]) == "cheguei");
    std::vector<Peer> two = {peers[0], newcomer};
    still_talking(two);
    close_all(two);
}
