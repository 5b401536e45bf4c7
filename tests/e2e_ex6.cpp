// End-to-end tests of Exemplo 6 (Modbus/TCP): the real ex6_modbus/server and
// ex6_modbus/client against each other, against raw sockets (requests cut byte
// by byte or many in one segment, every kind of malformed frame), against a
// fake server (replies that are split, late, from another transaction), and
// against independent peers: mbpoll and Debian's pymodbus, both ways.
#include <doctest/doctest.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <atomic>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "../ex6_modbus/details.h"  // modbus::hex
#include "../ex6_modbus/mbap.h"
#include "../ex6_modbus/pdu.h"
#include "support.h"

using namespace lab;

namespace {

const std::string PYTHON = "/usr/bin/python3";
const std::string PEER = std::string(LAB_SOURCE_DIR) + "/tests/peer_modbus.py";

std::string bytes(const std::string& hex_text) {  // "00 01 ff" -> the bytes
    std::string out;
    for (std::size_t i = 0; i + 1 < hex_text.size(); i += 3)
        out += static_cast<char>(std::stoi(hex_text.substr(i, 2), nullptr, 16));
    return out;
}
std::string hex_of(const std::string& b) { return modbus::hex(b, 0, b.size()); }

Server start(const std::vector<std::string>& extra = {}) {
    return start_server("ex6_modbus/server", extra);
}

struct Run {
    int code = -1;
    std::string out, err;
};
// Any program, to the end (-1: it did not end within `limit`).
Run run_to_end(const std::vector<std::string>& argv, Duration limit = 20000ms) {
    Process p(argv);
    Run r;
    auto code = p.wait_exit(limit);
    r.code = code ? *code : -1;
    r.out = p.out();
    r.err = p.err();
    return r;
}
// The real client against 127.0.0.1:port, to the end.
Run client(int port, std::vector<std::string> args) {
    args.insert(args.begin(), {bin("ex6_modbus/client"), "127.0.0.1", std::to_string(port)});
    return run_to_end(args);
}

// One whole reply read the way a Modbus master must: 7 bytes, then Length - 1.
std::string read_reply(int fd) {
    std::string header = recv_exactly(fd, 7, 5000ms);
    if (header.size() < 7) return header;
    return header + recv_exactly(fd, modbus::get16(header.data() + 4) - 1u, 5000ms);
}

int connect_raw(int port) {
    int fd = connect_to(port);
    REQUIRE(fd >= 0);
    return fd;
}

// A raw request and its reply on an open connection.
std::string ask(int fd, std::uint16_t transaction, const std::string& pdu) {
    REQUIRE(send_bytes(fd, modbus::frame(transaction, 1, pdu)));
    return read_reply(fd);
}

}  // namespace

TEST_CASE("ex6: the client reads the PLC's documented values and reads back what it writes") {
    Server server = start();
    Run limits = client(server.port, {"ler", "2", "3"});
    CHECK(limits.code == 0);
    CHECK(limits.out == "registrador 2 = 800\nregistrador 3 = 200\nregistrador 4 = 258\n");
    CHECK(client(server.port, {"escrever", "10", "4321"}).out == "registrador 10 = 4321 (escrito)\n");
    CHECK(client(server.port, {"ler", "10"}).out == "registrador 10 = 4321\n");
    CHECK(client(server.port, {"escrever-varios", "20", "1", "2", "65535"}).code == 0);
    CHECK(client(server.port, {"ler", "20", "3"}).out ==
          "registrador 20 = 1\nregistrador 21 = 2\nregistrador 22 = 65535\n");
    CHECK(client(server.port, {"escrever-bobina", "5", "1"}).out == "bobina 5 = 1 (escrito)\n");
    CHECK(client(server.port, {"escrever-bobinas", "40", "1", "0", "1"}).code == 0);
    CHECK(client(server.port, {"ler-bobinas", "4", "2"}).out == "bobina 4 = 0\nbobina 5 = 1\n");
    CHECK(client(server.port, {"ler-bobinas", "40", "3"}).out ==
          "bobina 40 = 1\nbobina 41 = 0\nbobina 42 = 1\n");
    Run inputs = client(server.port, {"ler-entradas", "0", "3"});
    CHECK(inputs.code == 0);
    CHECK(inputs.out.find("registrador de entrada 2 = ") != std::string::npos);
    CHECK(client(server.port, {"ler-discretas", "0", "2"}).code == 0);
    CHECK(client(server.port, {"ler", "99"}).out == "registrador 99 = 0\n");  // the last one
    // The server shows each request on one line, with its transaction id.
    CHECK(server.process->wait_output("] Write Single Register 10 = 4321: ok\n", 5000ms));
    // The server prints each request after its reply, and the test's reader
    // may be a moment behind: wait for the lines.
    CHECK(server.process->wait_output("] Write Multiple Registers 20..22: ok\n", 5000ms));
    CHECK(server.process->wait_output("] Read Coils 40..42: ok\n", 5000ms));
}

TEST_CASE("ex6: exceptions 01, 02 and 03 come back explained, with exit code 1") {
    Server server = start();
    struct Case {
        std::vector<std::string> args;
        std::string exception;
    };
    const std::string e01 = "Erro: o servidor respondeu com a exceção 01 (Illegal function): ";
    const std::string e02 = "Erro: o servidor respondeu com a exceção 02 (Illegal data address): ";
    const std::string e03 = "Erro: o servidor respondeu com a exceção 03 (Illegal data value): ";
    const std::vector<Case> cases = {
        {{"ler", "99", "2"}, e02},           {{"ler", "100"}, e02},
        {{"ler-bobinas", "65535", "2"}, e02}, {{"escrever", "0", "5"}, e02},  // read-only
        {{"escrever-varios", "98", "1", "2", "3"}, e02},
        {{"ler", "0", "126"}, e03},          {{"ler", "0", "0"}, e03},
        {{"ler-discretas", "0", "2001"}, e03}, {{"pdu", "05", "00", "00", "12", "34"}, e03},
        {{"pdu", "03", "00"}, e03},          {{"pdu", "07"}, e01},
        {{"escrever", "3", "900"}, e03},  // a low limit above the high one (800)
        {{"pdu", "2b", "0e", "01", "00"}, e01}, {{"pdu", "83", "00", "00", "00", "01"}, e01},
    };
    for (const Case& c : cases) {
        CAPTURE(c.args[0]);
        CAPTURE(c.args[1]);
        Run r = client(server.port, c.args);
        CHECK(r.code == 1);
        CHECK(r.out == "");
        CHECK(r.err.rfind(c.exception, 0) == 0);
    }
    // On the wire: the function code with 0x80, the exception code, same ids.
    int fd = connect_raw(server.port);
    CHECK(hex_of(ask(fd, 5, bytes("03 00 63 00 02"))) == "00 05 00 00 00 03 01 83 02");
    CHECK(hex_of(ask(fd, 6, bytes("07"))) == "00 06 00 00 00 03 01 87 01");
    CHECK(hex_of(ask(fd, 7, bytes("10 00 00 00 7c f8"))) == "00 07 00 00 00 03 01 90 03");
    CHECK(hex_of(ask(fd, 8, bytes("03 00 02 00 01"))) == "00 08 00 00 00 05 01 03 02 03 20");
    close_fd(fd);
    CHECK(server.process->wait_output("] Read Holding Registers 99..100: exceção 02 (Illegal data address)\n",
                                      5000ms));
}

TEST_CASE("ex6 --detalhes: every MBAP field and PDU byte sent and received, Wireshark's order") {
    Server server = start();
    Run r = client(server.port, {"ler", "2", "2", "--detalhes"});
    CHECK(r.code == 0);
    const std::string expected =
        ">> pedido, 12 bytes: 00 01 00 00 00 06 01 03 00 02 00 02\n"
        "   Modbus/TCP  (MBAP: TCP/IP Implementation Guide V1.0b §3.1.3)\n"
        "     00 01       Transaction Identifier: 1  (o número deste pedido)\n"
        "     00 00       Protocol Identifier: 0  (0 = Modbus)\n"
        "     00 06       Length: 6  (bytes depois deste campo: Unit Identifier + PDU)\n"
        "     01          Unit Identifier: 1  (a unidade, o escravo)\n"
        "   Modbus  (PDU: Application Protocol V1.1b3 §6.3)\n"
        "     03          Function Code: Read Holding Registers (3)\n"
        "     00 02       Reference Number: 2  (Starting Address: o primeiro endereço)\n"
        "     00 02       Word Count: 2  (Quantity of Registers: quantos registradores)\n"
        "<< resposta, 13 bytes: 00 01 00 00 00 07 01 03 04 03 20 00 c8\n"
        "   Modbus/TCP  (MBAP: TCP/IP Implementation Guide V1.0b §3.1.3)\n"
        "     00 01       Transaction Identifier: 1  (a resposta repete o do pedido)\n"
        "     00 00       Protocol Identifier: 0  (0 = Modbus)\n"
        "     00 07       Length: 7  (bytes depois deste campo: Unit Identifier + PDU)\n"
        "     01          Unit Identifier: 1  (a unidade, o escravo)\n"
        "   Modbus  (PDU: Application Protocol V1.1b3 §6.3)\n"
        "     03          Function Code: Read Holding Registers (3)\n"
        "     04          Byte Count: 4  (bytes de dados a seguir)\n"
        "     03 20       Register 2 (UINT16): 800\n"
        "     00 c8       Register 3 (UINT16): 200\n"
        "registrador 2 = 800\n"
        "registrador 3 = 200\n";
    CHECK(r.out == expected);
    Run unit = client(server.port, {"escrever-bobina", "7", "1", "--detalhes", "--unidade", "17"});
    CHECK(unit.out.find("00 01 00 00 00 06 11 05 00 07 ff 00\n") != std::string::npos);
    CHECK(unit.out.find("     11          Unit Identifier: 17") != std::string::npos);
    CHECK(unit.out.find("     ff 00       Data: ff00  (Output Value: ff00 = ligar (1), 0000 = desligar (0))") !=
          std::string::npos);
}

TEST_CASE("ex6: the tank's level moves on its own; the pump coil decides which way") {
    Server server = start();
    // Pump on, automatic off (coils 0 and 1), then three reads one second apart
    // on one connection: transaction ids 1, 2, 3.
    REQUIRE(client(server.port, {"escrever-bobinas", "0", "1", "0"}).code == 0);
    auto levels = [&](const std::string& times) {
        Run r = client(server.port, {"ler", "0", "--repetir", times});
        REQUIRE(r.code == 0);
        std::vector<int> out;
        for (std::size_t at = r.out.find("registrador 0 = "); at != std::string::npos;
             at = r.out.find("registrador 0 = ", at + 1))
            out.push_back(std::stoi(r.out.substr(at + 16)));
        return out;
    };
    std::vector<int> rising = levels("3");
    REQUIRE(rising.size() == 3);
    CHECK(rising[0] < rising[1]);
    CHECK(rising[1] < rising[2]);
    for (int level : rising) CHECK((level >= 0 && level <= 1000));
    CHECK(server.process->wait_output("[3] Read Holding Registers 0: ok", 5000ms));  // printed after the reply
    REQUIRE(client(server.port, {"escrever-bobina", "0", "0"}).code == 0);
    std::vector<int> falling = levels("2");
    REQUIRE(falling.size() == 2);
    CHECK(falling[0] > falling[1]);
}

TEST_CASE("ex6 framing: a request byte by byte, and 100 requests in one segment") {
    Server server = start();
    int fd = connect_raw(server.port);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);  // each byte its own segment
    const std::string request = modbus::frame(0x0102, 1, bytes("03 00 02 00 01"));
    for (char c : request) {
        REQUIRE(send_bytes(fd, std::string(1, c)));
        std::this_thread::sleep_for(5ms);
    }
    CHECK(hex_of(read_reply(fd)) == "01 02 00 00 00 05 01 03 02 03 20");

    // 100 requests in a single send(): 100 replies, in order, each with its id.
    std::string burst;
    for (int i = 0; i < 100; ++i) {
        burst += modbus::frame(static_cast<std::uint16_t>(1000 + i), 1,
                               i % 2 ? modbus::write_register_request(static_cast<std::uint16_t>(50 + i % 50),
                                                                      static_cast<std::uint16_t>(i))
                                     : modbus::read_request(3, 2, 1));
    }
    REQUIRE(send_bytes(fd, burst));
    for (int i = 0; i < 100; ++i) {
        std::string reply = read_reply(fd);
        REQUIRE(reply.size() >= 8);
        CHECK(modbus::get16(reply.data()) == 1000 + i);
        if (i % 2 == 0) CHECK(hex_of(reply.substr(6)) == "01 03 02 03 20");
        else CHECK(reply.size() == 12);
    }
    close_fd(fd);
}

TEST_CASE("ex6 framing: each malformed frame closes only its connection, with a line") {
    Server server = start();
    pid_t pid = server.process->pid();
    // A bystander connected the whole time, served between every attack.
    int bystander = connect_raw(server.port);
    CHECK(hex_of(ask(bystander, 1, bytes("03 00 02 00 01"))) == "00 01 00 00 00 05 01 03 02 03 20");
    std::this_thread::sleep_for(200ms);
    const int fds0 = open_fds(pid), threads0 = thread_count(pid);

    std::mt19937 gen(64);
    std::string garbage(64 * 1024, '\0');
    for (char& c : garbage) c = static_cast<char>(gen());
    REQUIRE(modbus::get16(garbage.data() + 2) != 0);  // not a protocol id 0 by chance
    struct Case {
        std::string sent;
        bool half_close;  // then shutdown(SHUT_WR): the peer says it is done
        std::string line;
    };
    const std::vector<Case> cases = {
        {bytes("00 01 00 00 00 00 01"), false, "mensagem inválida: Length 0 fora do padrão (2 a 254)"},
        {bytes("00 01 00 00 00 01 01"), false, "mensagem inválida: Length 1 fora do padrão"},
        {bytes("00 01 00 00 00 ff 01") + std::string(300, 'x'), false, "mensagem inválida: Length 255 fora"},
        {bytes("00 01 00 00 ff ff 01"), false, "mensagem inválida: Length 65535 fora"},
        {bytes("00 01 00 01 00 06 01 03 00 00 00 01"), false,
         "mensagem inválida: Protocol Identifier 1 (Modbus é sempre 0)"},
        {bytes("00 01 00"), true, "cabeçalho MBAP incompleto: 3 de 7 bytes"},
        {bytes("00 01 00 00 00 06 01 03 00"), true,
         "mensagem incompleta (Length 6): a conexão fechou no meio da mensagem"},
        {garbage, false, "mensagem inválida: Protocol Identifier "},
    };
    for (const Case& c : cases) {
        CAPTURE(hex_of(c.sent.substr(0, 12)));
        int fd = connect_raw(server.port);
        const std::string address = "127.0.0.1:" + std::to_string(local_port(fd));
        send_bytes(fd, c.sent);  // the server may close before the 64 KiB are all in
        if (c.half_close) shutdown(fd, SHUT_WR);
        bool closed = false;
        CHECK(recv_until_close(fd, 5000ms, &closed) == "");  // no reply at all
        CHECK(closed);
        close_fd(fd);
        CHECK(server.process->wait_output("Conexão com " + address + " fechada: " + c.line, 5000ms));
        CHECK(hex_of(ask(bystander, 2, bytes("03 00 03 00 01"))) == "00 02 00 00 00 05 01 03 02 00 c8");
    }
    // A valid request followed by garbage: the request is answered, then the close.
    int fd = connect_raw(server.port);
    REQUIRE(send_bytes(fd, modbus::frame(9, 1, bytes("03 00 04 00 01")) + garbage.substr(0, 100)));
    CHECK(hex_of(read_reply(fd)) == "00 09 00 00 00 05 01 03 02 01 02");
    bool closed = false;
    recv_until_close(fd, 5000ms, &closed);
    CHECK(closed);
    close_fd(fd);
    // Nothing leaked: the threads and descriptors of the attacks are gone.
    CHECK(wait_threads(pid, threads0, 5000ms));
    CHECK(open_fds(pid) == fds0);
    close_fd(bystander);
    CHECK(server.process->wait_output("Cliente desconectado: 127.0.0.1:", 5000ms));
    CHECK(server.process->out().find('\x1b') == std::string::npos);
}

// Exercise 6 of the README: Length one short (5 for a 5-byte PDU).
TEST_CASE("ex6: a Length one short gets exception 03; its last byte starts a header cut short") {
    Server server = start();
    int fd = connect_raw(server.port);
    const std::string address = "127.0.0.1:" + std::to_string(local_port(fd));
    REQUIRE(send_bytes(fd, bytes("00 01 00 00 00 05 01 03 00 00 00 05")));
    CHECK(hex_of(read_reply(fd)) == "00 01 00 00 00 03 01 83 03");
    shutdown(fd, SHUT_WR);
    bool closed = false;
    recv_until_close(fd, 5000ms, &closed);
    CHECK(closed);
    close_fd(fd);
    CHECK(server.process->wait_output("[1] Read Holding Registers: exceção 03 (Illegal data value)\n", 5000ms));
    CHECK(server.process->wait_output("Conexão com " + address + " fechada: cabeçalho MBAP incompleto: "
                                      "1 de 7 bytes; a conexão fechou no meio da mensagem", 5000ms));
}

TEST_CASE("ex6: a peer silent in the middle of a header is closed after --prazo") {
    Server server = start({"--prazo", "1"});
    int fd = connect_raw(server.port);
    const std::string address = "127.0.0.1:" + std::to_string(local_port(fd));
    REQUIRE(send_bytes(fd, bytes("00 01 00")));
    bool closed = false;
    recv_until_close(fd, 10000ms, &closed);
    CHECK(closed);
    close_fd(fd);
    CHECK(server.process->wait_output("Conexão com " + address +
                                          " fechada: cabeçalho MBAP incompleto: 3 de 7 bytes; "
                                          "ficou 1 s sem enviar nada (--prazo)",
                                      5000ms));
}

TEST_CASE("ex6: one IP gets --limite-por-ip connections; the next is closed at once") {
    Server server = start({"--limite-por-ip", "3"});
    std::vector<int> fds;
    for (int i = 0; i < 3; ++i) {
        fds.push_back(connect_raw(server.port));
        CHECK(ask(fds.back(), 1, bytes("03 00 02 00 01")).size() == 11);  // accepted and served
    }
    int refused = connect_raw(server.port);
    bool closed = false;
    CHECK(recv_until_close(refused, 5000ms, &closed) == "");
    CHECK(closed);
    close_fd(refused);
    CHECK(server.process->wait_output(
        "Conexão recusada: 127.0.0.1 já tem 3 conexões abertas (limite por IP; veja --limite-por-ip)",
        5000ms));
    close_fd(fds[0]);
    CHECK(server.process->wait_output("Cliente desconectado: ", 5000ms));
    int again = connect_raw(server.port);
    CHECK(ask(again, 2, bytes("03 00 02 00 01")).size() == 11);
    close_fd(again);
    for (std::size_t i = 1; i < fds.size(); ++i) close_fd(fds[i]);
}

TEST_CASE("ex6: 20 masters at once, 200 requests each, every reply is its own") {
    // All from 127.0.0.1: more than the default 16 per IP.
    Server server = start({"--quiet", "--limite-por-ip", "20"});
    pid_t pid = server.process->pid();
    std::this_thread::sleep_for(200ms);
    const int fds0 = open_fds(pid), threads0 = thread_count(pid);
    std::atomic<int> wrong{0}, done{0};
    std::vector<std::thread> masters;
    for (int m = 0; m < 20; ++m) {
        masters.emplace_back([&, m] {
            int fd = connect_to(server.port);
            if (fd < 0) return void(++wrong);
            for (int i = 0; i < 200; ++i) {
                const auto t = static_cast<std::uint16_t>(m * 1000 + i);
                const auto value = static_cast<std::uint16_t>(m * 1000 + i);
                // Each master writes its own register, then reads it back.
                const std::string pdu = i % 2 ? modbus::read_request(3, static_cast<std::uint16_t>(30 + m), 1)
                                              : modbus::write_register_request(static_cast<std::uint16_t>(30 + m), value);
                if (!send_bytes(fd, modbus::frame(t, 1, pdu))) return void(++wrong);
                std::string reply = read_reply(fd);
                if (reply.size() < 8 || modbus::get16(reply.data()) != t) ++wrong;
                else if (i % 2 && reply != modbus::frame(t, 1, bytes("03 02") + reply.substr(9, 2))) ++wrong;
                else if (i % 2 && modbus::get16(reply.data() + 9) != m * 1000 + i - 1) ++wrong;
            }
            close_fd(fd);
            ++done;
        });
    }
    for (auto& t : masters) t.join();
    CHECK(done == 20);
    CHECK(wrong == 0);
    CHECK(wait_threads(pid, threads0, 5000ms));
    CHECK(open_fds(pid) == fds0);
}

TEST_CASE("ex6 client against a fake server: split, foreign and broken replies") {
    struct Case {
        std::string reply;     // what the fake server answers to "ler 2 1"
        bool byte_by_byte;
        int code;
        std::string out_or_err;
    };
    const std::vector<Case> cases = {
        {bytes("00 01 00 00 00 05 01 03 02 03 20"), true, 0, "registrador 2 = 800\n"},
        {bytes("00 09 00 00 00 05 01 03 02 03 20"), false, 1,
         "Erro: a resposta é da transação 9, unidade 1; o pedido foi a 1, unidade 1\n"},
        {bytes("00 01 00 00 00 05 02 03 02 03 20"), false, 1,
         "Erro: a resposta é da transação 1, unidade 2; o pedido foi a 1, unidade 1\n"},
        {bytes("00 01 00 07 00 05 01 03 02 03 20"), false, 1,
         "Erro: resposta inválida: Protocol Identifier 7 (Modbus é sempre 0)\n"},
        {bytes("00 01 00 00 01 2c 01"), false, 1,
         "Erro: resposta inválida: Length 300 fora do padrão (2 a 254)\n"},
        {bytes("00 01 00 00"), false, 1,
         "Erro: resposta incompleta: o servidor fechou a conexão (4 de 7 bytes recebidos)\n"},
        {bytes("00 01 00 00 00 05 01 03 02"), false, 1,
         "Erro: resposta incompleta: o servidor fechou a conexão (2 de 4 bytes recebidos)\n"},
        {bytes("00 01 00 00 00 07 01 03 04 03 20 00 00"), false, 1,
         "Erro: resposta inválida: a resposta traz 4 bytes de dados; para 1 itens são 2\n"},
        {bytes("00 01 00 00 00 03 01 04 02"), false, 1,
         "Erro: resposta inválida: a resposta é da função 4, o pedido foi da 3\n"},
        // A gateway's exception, in hex as the spec writes it.
        {bytes("00 01 00 00 00 03 01 83 0b"), false, 1,
         "Erro: o servidor respondeu com a exceção 0B (Gateway target device failed to respond): "
         "gateway: o dispositivo de destino não respondeu\n"},
    };
    for (const Case& c : cases) {
        CAPTURE(hex_of(c.reply));
        int port = 0;
        int listener = listen_local(port);
        Process p({bin("ex6_modbus/client"), "127.0.0.1", std::to_string(port), "ler", "2"});
        int fd = accept_within(listener, 5000ms);
        REQUIRE(fd >= 0);
        CHECK(hex_of(recv_exactly(fd, 12, 5000ms)) == "00 01 00 00 00 06 01 03 00 02 00 01");
        if (c.byte_by_byte) {
            int one = 1;
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            for (char b : c.reply) {
                send_bytes(fd, std::string(1, b));
                std::this_thread::sleep_for(5ms);
            }
        } else {
            send_bytes(fd, c.reply);
        }
        close_fd(fd);  // what was sent is all there is
        CHECK(p.wait_exit(10000ms) == c.code);
        CHECK((c.code == 0 ? p.out() : p.err()) == c.out_or_err);
        close_fd(listener);
    }
}

TEST_CASE("ex6 command line: --help, bad arguments (exit 2), no server (exit 1)") {
    for (const char* program : {"ex6_modbus/server", "ex6_modbus/client"}) {
        Process help({bin(program), "--help"});
        CHECK(help.wait_exit(5000ms) == 0);
        CHECK(help.out().rfind("uso: ", 0) == 0);
    }
    const std::vector<std::vector<std::string>> bad_client = {
        {}, {"127.0.0.1"}, {"127.0.0.1", "1502"}, {"ler"}, {"ler", "x"}, {"ler", "65536"},
        {"escrever", "1"}, {"escrever-bobina", "0", "2"}, {"a", "b", "c", "ler", "0"},
        {"127.0.0.1", "porta", "ler", "0"}, {"ler", "0", "--unidade", "256"},
        {"ler", "0", "--repetir", "0"}, {"pdu", "zz"}, {"ler", "0", "--outra"}, {"ler", "-1"}};
    for (const auto& args : bad_client) {
        std::vector<std::string> argv = {bin("ex6_modbus/client")};
        argv.insert(argv.end(), args.begin(), args.end());
        Process p(argv);
        CHECK(p.wait_exit(5000ms) == 2);
        CHECK(p.err().find("uso: client [IP [PORTA]] COMANDO") != std::string::npos);
    }
    // What was wrong, before the usage line (student findings 6 and 7): a mistyped
    // command is named as such, wherever [IP [PORTA]] left it.
    const std::vector<std::pair<std::vector<std::string>, std::string>> said = {
        {{"lerr", "0"}, "comando desconhecido: lerr"},
        {{"127.0.0.1", "lerr", "0"}, "comando desconhecido: lerr"},
        {{"127.0.0.1", "1502", "lerr", "0", "5"}, "comando desconhecido: lerr"},
        {{"127.0.0.1", "1502"}, "falta o COMANDO"},
        {{"127.0.0.1", "99999", "ler", "0"}, "porta inválida: 99999 (use 1 a 65535)"},
        {{"ler", "0", "--outra"}, "opção desconhecida: --outra"}};
    for (const auto& [args, why] : said) {
        std::vector<std::string> argv = {bin("ex6_modbus/client")};
        argv.insert(argv.end(), args.begin(), args.end());
        Process p(argv);
        CHECK(p.wait_exit(5000ms) == 2);
        CHECK(p.err().find("Erro: " + why) == 0);
        CHECK(p.err().find("\nuso: client [IP [PORTA]] COMANDO") != std::string::npos);
    }
    for (const auto& args : std::vector<std::vector<std::string>>{
             {"--prazo", "0"}, {"--prazo", "x"}, {"--limite-por-ip", "0"}, {"1", "2", "3"}}) {
        std::vector<std::string> argv = {bin("ex6_modbus/server")};
        argv.insert(argv.end(), args.begin(), args.end());
        Process p(argv);
        CHECK(p.wait_exit(5000ms) == 2);
        CHECK(p.err().find("Erro: ") == 0);
    }
    Run refused = client(free_port(), {"ler", "0"});
    CHECK(refused.code == 1);
    CHECK(refused.err.find("Erro: não foi possível conectar ao servidor 127.0.0.1:") == 0);
}

TEST_CASE("ex6 interop: mbpoll and pymodbus read and write the C++ server, each other's values") {
    const std::string no_mbpoll = need_tools({"mbpoll"}, "modbus");
    const std::string no_pymodbus = need_python("pymodbus.client", "python3-pymodbus");
    const bool mbpoll = no_mbpoll.empty(), pymodbus = no_pymodbus.empty();
    if (!mbpoll) skip("the mbpoll part: " + no_mbpoll);
    if (!pymodbus) skip("the pymodbus part: " + no_pymodbus);
    Server server = start();
    const std::string port = std::to_string(server.port);
    // mbpoll, once, slave 1; `values` (to write) come after the host.
    auto poll = [&](std::vector<std::string> args, const std::string& values = "") {
        std::vector<std::string> argv = {"/usr/bin/mbpoll", "-m", "tcp", "-p", port, "-a", "1", "-1"};
        argv.insert(argv.end(), args.begin(), args.end());
        argv.push_back("127.0.0.1");
        if (!values.empty()) argv.push_back(values);
        return run_to_end(argv, 10000ms);
    };
    auto python = [&](std::vector<std::string> ops) {
        ops.insert(ops.begin(), {PYTHON, PEER, "client", port});
        return run_to_end(ops);
    };
    if (mbpoll) {
        // mbpoll counts from 1: its reference 3 is wire address 2.
        Run read = poll({"-r", "3", "-c", "3", "-t", "4"});
        CHECK(read.code == 0);
        CHECK(read.out.find("[3]: \t800\n[4]: \t200\n[5]: \t258\n") != std::string::npos);
        CHECK(poll({"-r", "11", "-t", "4"}, "4321").code == 0);  // wire address 10
        CHECK(poll({"-r", "9", "-t", "0"}, "1").code == 0);      // coil 8
        CHECK(client(server.port, {"ler", "10"}).out == "registrador 10 = 4321\n");
        CHECK(client(server.port, {"ler-bobinas", "8"}).out == "bobina 8 = 1\n");
        Run exception = poll({"-r", "100", "-c", "2", "-t", "4"});
        CHECK(exception.code != 0);
        CHECK(exception.err.find("Illegal data address") != std::string::npos);
        Run read_only = poll({"-r", "1", "-t", "4"}, "5");
        CHECK(read_only.code != 0);
        CHECK(read_only.err.find("Illegal data address") != std::string::npos);
    }
    if (pymodbus) {
        Run r = python({"write:20:777", "writes:30:5,6,7", "coil:12:1", "read:2:3", "read:99:2",
                        "write:0:5", "read:0:126", "coils:12:1"});
        CHECK(r.code == 0);
        CHECK(r.out ==
              "write 20 = ok\nwrites 30 = ok\ncoil 12 = ok\nread 2 3 = 800 200 258\n"
              "read 99 2 = exception 2\nwrite 0 = exception 2\nread 0 126 = exception 3\n"
              "coils 12 1 = 1\n");
        CHECK(client(server.port, {"ler", "30", "3"}).out ==
              "registrador 30 = 5\nregistrador 31 = 6\nregistrador 32 = 7\n");
    }
    if (mbpoll && pymodbus) {  // one writes, the other reads
        Run by_mbpoll = poll({"-r", "21", "-t", "4"});
        CHECK(by_mbpoll.out.find("[21]: \t777\n") != std::string::npos);
        CHECK(python({"read:10:1", "coils:8:1"}).out == "read 10 1 = 4321\ncoils 8 1 = 1\n");
        Run coil = poll({"-r", "13", "-t", "0"});
        CHECK(coil.out.find("[13]: \t1\n") != std::string::npos);
    }
}

TEST_CASE("ex6 interop: the C++ client reads and writes a pymodbus server; exceptions too") {
    if (auto why = need_python("pymodbus.server", "python3-pymodbus, python3-serial"); !why.empty())
        return skip(why);
    const int port = free_port();
    Process server({PYTHON, PEER, "server", std::to_string(port)});
    REQUIRE(server.wait_output("Aguardando", 20000ms));
    CHECK(client(port, {"ler", "0", "3"}).out ==
          "registrador 0 = 1000\nregistrador 1 = 1001\nregistrador 2 = 1002\n");
    CHECK(client(port, {"escrever", "9", "4321"}).code == 0);
    CHECK(client(port, {"ler", "9"}).out == "registrador 9 = 4321\n");
    CHECK(client(port, {"escrever-varios", "20", "1", "2"}).code == 0);
    CHECK(client(port, {"ler", "20", "2"}).out == "registrador 20 = 1\nregistrador 21 = 2\n");
    CHECK(client(port, {"escrever-bobina", "3", "1"}).code == 0);
    CHECK(client(port, {"escrever-bobinas", "5", "1", "1"}).code == 0);
    CHECK(client(port, {"ler-bobinas", "2", "5"}).out ==
          "bobina 2 = 0\nbobina 3 = 1\nbobina 4 = 0\nbobina 5 = 1\nbobina 6 = 1\n");
    CHECK(client(port, {"ler-entradas", "1"}).out == "registrador de entrada 1 = 2001\n");
    CHECK(client(port, {"ler-discretas", "0", "2"}).out == "entrada discreta 0 = 0\nentrada discreta 1 = 1\n");
    Run address = client(port, {"ler", "99", "2"});
    CHECK(address.code == 1);
    CHECK(address.err.rfind("Erro: o servidor respondeu com a exceção 02 (Illegal data address)", 0) == 0);
    Run value = client(port, {"ler", "0", "126"});
    CHECK(value.code == 1);
    CHECK(value.err.rfind("Erro: o servidor respondeu com a exceção 03 (Illegal data value)", 0) == 0);
    Run details = client(port, {"ler", "1", "--detalhes"});
    CHECK(details.out.find("     03 e9       Register 1 (UINT16): 1001\n") != std::string::npos);
}
