// Exemplo 5 - o formato dos datagramas: as mensagens de texto dos dois modos
// (SIZE no começo, OK com o CRC-32 no fim) e o cabeçalho de 8 bytes do modo
// confiável, com os números em ordem de rede. Usado pelo servidor, pelo
// cliente, pelos testes e pelo fuzzer (tests/fuzz/fuzz_ex5.cpp).
//
// Modo simples: cada datagrama é só o conteúdo, como no Exemplo 3.
//   cliente -> servidor   GET iguana.jpg
//   servidor -> cliente   SIZE 100116 98        (bytes e datagramas de dados)
//                         <1024 bytes do arquivo>   x 98 (o último com 788)
//                         OK 21b99b7a           (o CRC-32 do arquivo, em hexadecimal)
//   ou                    ERROR "O arquivo x.jpg não existe"
//
// Modo confiável: o mesmo conteúdo, depois de um cabeçalho de 8 bytes:
//   byte 0     0xE5, a marca do Exemplo 5 (um pedido do modo simples começa com 'G')
//   byte 1     o tipo: 'G' pedido, 'S' SIZE, 'D' dados, 'A' confirmação (ACK),
//              'O' OK, 'E' ERROR
//   bytes 2-3  janela, 16 bits: no pedido, quantos datagramas o servidor pode
//              enviar sem confirmação (1 = pare e espere); 0 nos outros. O bit
//              mais alto (0x8000, FIXED_WINDOW) pede uma janela fixa, sem
//              controle de congestionamento (--sem-controle)
//   bytes 4-7  número de sequência, 32 bits: o SIZE leva um número sorteado
//              pelo servidor, s; os dados s + 1 a s + n, o OK s + n + 1
//              (módulo 2^32); no ACK, o próximo número esperado (como o Ack do
//              TCP). No pedido, 0.
// Um ACK é só o cabeçalho: com s = 0, e5 41 00 00 00 00 00 63 confirmaria tudo
// até o 98 (0x63 = 99 é o próximo esperado).
// O pedido do modo confiável tem 1200 bytes: "GET <nome>", um byte 0 e zeros
// (padded_request). Antes de o cliente provar que recebeu o SIZE, o servidor
// envia no máximo 3 vezes o que recebeu dele (sender.h): um pedido grande
// deixa o SIZE ser repetido; um pequeno e forjado não rende quase nada.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <string>

#include "../common/hex_text.h"
#include "../common/net.h"  // htons, htonl, ntohs, ntohl

namespace datagram {

const std::size_t HEADER = 8;
const unsigned char MARK = 0xE5;
// (ERR, não ERROR: no Windows, ERROR é uma macro de windows.h.)
const char GET = 'G', SIZE = 'S', DATA = 'D', ACK = 'A', OK = 'O', ERR = 'E';
const std::uint16_t FIXED_WINDOW = 0x8000;  // no campo janela do pedido: --sem-controle
// O maior pedaço do arquivo num datagrama do modo confiável: 65507 (o maior datagrama UDP no
// IPv4: 65535 - 20 do IP - 8 do UDP) menos os 8 bytes do cabeçalho.
const std::size_t MAX_RELIABLE_CHUNK = 65507 - 8;
const std::size_t REQUEST_SIZE = 1200;      // o pedido do modo confiável, com os zeros (como o QUIC)

struct Datagram {
    char type = 0;
    std::uint16_t window = 0;
    std::uint32_t seq = 0;
    std::string payload;  // o que vem depois do cabeçalho
};

// Um datagrama do modo confiável. Na memória de um PC (little-endian) o
// número 1 é 01 00 00 00; na rede vai 00 00 00 01, o byte mais significativo
// primeiro (big-endian, a "ordem de rede"): htonl ("host to network, long")
// faz a troca onde ela é preciso e nada numa máquina big-endian.
inline std::string encode(char type, std::uint16_t window, std::uint32_t seq,
                          const std::string& payload) {
    char header[HEADER];
    header[0] = static_cast<char>(MARK);
    header[1] = type;
    std::uint16_t window_n = htons(window);
    std::uint32_t seq_n = htonl(seq);
    std::memcpy(header + 2, &window_n, 2);
    std::memcpy(header + 4, &seq_n, 4);
    return std::string(header, HEADER) + payload;
}

// Lê o cabeçalho de um datagrama recebido. false se não é do modo confiável:
// curto demais, sem a marca, ou com um tipo desconhecido.
inline bool decode(const char* data, std::size_t size, Datagram& d) {
    if (size < HEADER || static_cast<unsigned char>(data[0]) != MARK) return false;
    const char type = data[1];
    if (type != GET && type != SIZE && type != DATA && type != ACK && type != OK && type != ERR)
        return false;
    std::uint16_t window_n;
    std::uint32_t seq_n;
    std::memcpy(&window_n, data + 2, 2);
    std::memcpy(&seq_n, data + 4, 4);
    d.type = type;
    d.window = ntohs(window_n);  // de volta à ordem desta máquina
    d.seq = ntohl(seq_n);
    d.payload.assign(data + HEADER, size - HEADER);
    return true;
}

// O pedido do modo confiável: "GET <nome>", e zeros até REQUEST_SIZE bytes.
inline std::string padded_request(std::uint16_t window, const std::string& text) {
    std::string d = encode(GET, window, 0, text);
    if (d.size() < REQUEST_SIZE) d.resize(REQUEST_SIZE, '\0');
    return d;
}

// O texto de um pedido, sem os zeros do fim (um nome nunca tem o byte 0).
inline std::string request_text(const std::string& payload) {
    return payload.substr(0, payload.find('\0'));
}

// "SIZE <bytes> <datagramas>": o que o cliente deve esperar.
inline std::string size_text(std::uint64_t bytes, std::uint64_t count) {
    return "SIZE " + std::to_string(bytes) + " " + std::to_string(count);
}

// Um número decimal sem zeros à esquerda, de no máximo 19 dígitos (cabe em 64 bits).
inline bool parse_number(const std::string& text, std::uint64_t& value) {
    if (text.empty() || text.size() > 19 || (text[0] == '0' && text.size() > 1)) return false;
    value = 0;
    for (char c : text) {
        if (c < '0' || c > '9') return false;
        value = value * 10 + static_cast<std::uint64_t>(c - '0');
    }
    return true;
}

// Lê "SIZE <bytes> <datagramas>" exatamente como size_text o escreve.
inline bool parse_size(const std::string& text, std::uint64_t& bytes, std::uint64_t& count) {
    if (text.compare(0, 5, "SIZE ") != 0) return false;
    std::size_t space = text.find(' ', 5);
    if (space == std::string::npos) return false;
    return parse_number(text.substr(5, space - 5), bytes) &&
           parse_number(text.substr(space + 1), count);
}

// "OK <CRC-32 em 8 dígitos hexadecimais>", o fim da transferência.
inline std::string ok_text(std::uint32_t crc) { return "OK " + hex_text::number(crc, 8); }

inline bool parse_ok(const std::string& text, std::uint32_t& crc) {
    if (text.size() != 11 || text.compare(0, 3, "OK ") != 0) return false;
    crc = 0;
    for (std::size_t i = 3; i < 11; ++i) {
        char c = text[i];
        int digit = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (digit < 0) return false;
        crc = crc << 4 | static_cast<std::uint32_t>(digit);
    }
    return true;
}

// ERROR "<texto>", a resposta de erro do guia.
inline std::string error_text(const std::string& text) { return "ERROR \"" + text + "\""; }

// Uma resposta a quem ainda não provou que recebe (nenhum ACK do SIZE) cabe em 3 x o que chegou
// dele, como no QUIC (RFC 9000, 8.1): o endereço de origem de um datagrama pode ser falso.
inline bool within_budget(std::size_t reply, std::size_t received) { return reply <= 3 * received; }

inline bool is_error(const std::string& text) {
    return text.size() >= 8 && text.compare(0, 7, "ERROR \"") == 0 && text.back() == '"';
}

// O CRC-32 do zlib (e do zip, do PNG, do Ethernet): o mesmo número que
// python3 -c "import zlib; print('%08x' % zlib.crc32(open('iguana.jpg','rb').read()))"
// mostra. Para continuar um cálculo, passe o resultado anterior em `crc`.
inline std::uint32_t crc32(std::uint32_t crc, const char* data, std::size_t size) {
    static const std::array<std::uint32_t, 256> table = [] {
        std::array<std::uint32_t, 256> t{};
        for (std::uint32_t i = 0; i < 256; ++i) {
            std::uint32_t c = i;
            for (int k = 0; k < 8; ++k) c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            t[i] = c;
        }
        return t;
    }();
    crc = ~crc;
    for (std::size_t i = 0; i < size; ++i)
        crc = table[(crc ^ static_cast<unsigned char>(data[i])) & 0xff] ^ (crc >> 8);
    return ~crc;
}

}  // namespace datagram
