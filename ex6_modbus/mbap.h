// Exemplo 6 - Modbus/TCP: o cabeçalho MBAP, que leva uma PDU (pdu.h) por uma conexão
// TCP, sem sockets. É o outro documento do padrão: "MODBUS Messaging on TCP/IP
// Implementation Guide V1.0b" (modbus.org), §3.1.3 "MBAP Header description".
//
// Uma mensagem Modbus/TCP (ADU, Application Data Unit) = MBAP (7 bytes) + PDU:
//
//   bytes 0-1  Transaction Identifier  o cliente escolhe; a resposta repete o mesmo
//   bytes 2-3  Protocol Identifier     sempre 0 (Modbus)
//   bytes 4-5  Length                  quantos bytes vêm DEPOIS deste campo:
//                                      o Unit Identifier (1) + a PDU
//   byte  6    Unit Identifier         o "escravo" atrás de um gateway serial; num
//                                      servidor TCP direto o guia recomenda 0xFF
//   bytes 7... a PDU (1 a 253 bytes)   Function code e os dados da função
//
// Os nomes dos quatro campos são os mesmos na especificação e no Wireshark.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "pdu.h"  // get16/put16 (a ordem da rede) e MAX_PDU_BYTES

namespace modbus {

constexpr std::size_t MBAP_BYTES = 7;
constexpr unsigned MIN_LENGTH = 2;                  // Unit Identifier + Function code
constexpr unsigned MAX_LENGTH = 1 + MAX_PDU_BYTES;  // 254

struct Header {
    std::uint16_t transaction = 0, protocol = 0, length = 0;
    std::uint8_t unit = 0;
};

// Lê os 7 bytes do cabeçalho (só separa os campos; check_header os confere).
inline Header read_header(const char* bytes) {
    Header h;
    h.transaction = get16(bytes);
    h.protocol = get16(bytes + 2);
    h.length = get16(bytes + 4);
    h.unit = static_cast<std::uint8_t>(bytes[6]);
    return h;
}

// "" se o cabeçalho é válido; senão o motivo, para a linha que o servidor mostra.
inline std::string check_header(const Header& h) {
    if (h.protocol != 0)
        return "Protocol Identifier " + std::to_string(h.protocol) + " (Modbus é sempre 0)";
    if (h.length < MIN_LENGTH || h.length > MAX_LENGTH)
        return "Length " + std::to_string(h.length) + " fora do padrão (" +
               std::to_string(MIN_LENGTH) + " a " + std::to_string(MAX_LENGTH) + ")";
    return "";
}

// A mensagem inteira: MBAP + PDU.
// Erro comum: Contar só a PDU no Length. Length = 1 (o Unit Identifier) + o tamanho
// da PDU. Com um a menos, o outro lado lê a mensagem sem o último byte, e esse byte
// vira o começo da mensagem seguinte: daí em diante tudo sai desalinhado.
inline std::string frame(std::uint16_t transaction, std::uint8_t unit, const std::string& pdu) {
    std::string adu;
    put16(adu, transaction);
    put16(adu, 0);               // Protocol Identifier
    put16(adu, 1 + pdu.size());  // Length: conta o Unit Identifier, não conta a si mesmo
    adu += static_cast<char>(unit);
    return adu + pdu;
}

}  // namespace modbus
