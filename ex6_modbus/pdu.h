// Exemplo 6 - Modbus/TCP: a PDU, sem sockets. Usado pelo servidor (o CLP), pelo
// cliente, pelos testes e pelo fuzzer. O cabeçalho que a leva pelo TCP está em mbap.h.
//
// A PDU (Protocol Data Unit) é a mesma em qualquer meio (RS-485, TCP): o documento
// "MODBUS Application Protocol Specification V1.1b3" (modbus.org). Cada função está
// na sua seção 6.x, com os nomes dos campos que aparecem aqui nos comentários:
//
//   byte  0    Function code          o que fazer (3 = ler registradores, ...)   §4.1
//   bytes 1... os dados da função     Starting Address, Quantity of Registers,  §6.x
//                                     Output Value, ... (cada seção diz quais)
//   uma exceção: Function code + 0x80 e um Exception code                        §7
//
// Todo campo de 16 bits vai com o byte mais significativo primeiro (big-endian, a
// "ordem da rede", §4.2): 1502 = 0x05de vai como 05 de. Os endereços na rede
// começam em 0 (§4.4). Tudo o que chega da rede é hostil: nada aqui confia num
// tamanho ou num índice sem conferi-lo antes (tests/fuzz/fuzz_modbus.cpp tenta o
// contrário).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace modbus {

// 253 (§4.1): a PDU da linha serial (RS-485), que tem 256 bytes menos endereço (1)
// e CRC (2). É este limite que faz de 125 o máximo de registradores num pedido.
constexpr std::size_t MAX_PDU_BYTES = 253;

// Os códigos de função deste exemplo, com a seção da especificação (os nomes são os
// que o Wireshark mostra, os mesmos da especificação).
enum Function : std::uint8_t {
    READ_COILS = 1,                 // §6.1  ler bobinas (saídas digitais, 1 bit)
    READ_DISCRETE_INPUTS = 2,       // §6.2  ler entradas discretas (1 bit, só leitura)
    READ_HOLDING_REGISTERS = 3,     // §6.3  ler registradores (16 bits)
    READ_INPUT_REGISTERS = 4,       // §6.4  ler registradores de entrada (16 bits, só leitura)
    WRITE_SINGLE_COIL = 5,          // §6.5  escrever uma bobina (ff00 = 1, 0000 = 0)
    WRITE_SINGLE_REGISTER = 6,      // §6.6  escrever um registrador
    WRITE_MULTIPLE_COILS = 15,      // §6.11 escrever várias bobinas
    WRITE_MULTIPLE_REGISTERS = 16,  // §6.12 escrever vários registradores
};
// Uma resposta de exceção (§7) repete o código de função com o bit 0x80 ligado
// (3 -> 0x83), seguido de um byte: o Exception code.
constexpr std::uint8_t EXCEPTION_BIT = 0x80;
enum Exception : std::uint8_t {
    ILLEGAL_FUNCTION = 1,       // função que este servidor não tem
    ILLEGAL_DATA_ADDRESS = 2,   // endereço (ou endereço + quantidade) fora da tabela
    ILLEGAL_DATA_VALUE = 3,     // quantidade fora do padrão, valor inválido, PDU do tamanho errado
    SERVER_DEVICE_FAILURE = 4,  // o servidor falhou ao executar (este CLP não usa)
    SERVER_DEVICE_BUSY = 6,     // ocupado: tente mais tarde (este CLP não usa)
    GATEWAY_PATH_UNAVAILABLE = 10,  // 0A: o gateway não tem caminho para a unidade
    GATEWAY_TARGET_FAILED = 11,     // 0B: o gateway enviou, a unidade não respondeu
};
// Os limites da especificação (§6.1 a §6.12): o que cabe numa PDU de 253 bytes.
constexpr unsigned MAX_READ_BITS = 2000, MAX_READ_REGISTERS = 125;
constexpr unsigned MAX_WRITE_BITS = 1968, MAX_WRITE_REGISTERS = 123;

// Erro comum: Enviar os 16 bits na ordem da máquina. Um PC (x86, ARM) guarda 258 =
// 0x0102 como 02 01; copiar a variável para a rede (memcpy) enviaria 02 01, e o
// outro lado leria 513. Aqui cada byte é montado e lido na ordem da rede, 01 02.
inline std::uint16_t get16(const char* p) {  // 2 bytes da rede -> número
    return static_cast<std::uint16_t>((static_cast<unsigned char>(p[0]) << 8) |
                                      static_cast<unsigned char>(p[1]));
}
inline void put16(std::string& out, unsigned value) {  // número -> 2 bytes na rede
    out += static_cast<char>((value >> 8) & 0xff);
    out += static_cast<char>(value & 0xff);
}

// ---- os pedidos do cliente ----------------------------------------------------------

// Funções 1 a 4 (§6.1 a §6.4): Starting Address (o primeiro item) e Quantity of
// Coils / Inputs / Registers / Input Registers (quantos).
inline std::string read_request(std::uint8_t function, std::uint16_t address,
                                std::uint16_t quantity) {
    std::string pdu(1, static_cast<char>(function));
    put16(pdu, address);
    put16(pdu, quantity);
    return pdu;
}
// Função 5 (§6.5): Output Address e Output Value, que vai como ff00 (ligada) ou
// 0000 (desligada).
inline std::string write_coil_request(std::uint16_t address, bool on) {
    std::string pdu(1, static_cast<char>(WRITE_SINGLE_COIL));
    put16(pdu, address);
    put16(pdu, on ? 0xff00 : 0x0000);
    return pdu;
}
// Função 6 (§6.6): Register Address e Register Value.
inline std::string write_register_request(std::uint16_t address, std::uint16_t value) {
    std::string pdu(1, static_cast<char>(WRITE_SINGLE_REGISTER));
    put16(pdu, address);
    put16(pdu, value);
    return pdu;
}
// Função 15 (§6.11): Starting Address, Quantity of Outputs, Byte Count (bytes que
// seguem) e Outputs Value (os bits). "" se não cabe numa PDU.
// Erro comum: Pôr a primeira bobina no bit mais significativo. São 8 bobinas por
// byte, e a primeira vai no bit MENOS significativo (bit 0) do primeiro byte: as
// bobinas 1, 0, 1 vão como 05 (0000 0101), não como a0 (1010 0000).
inline std::string write_coils_request(std::uint16_t address, const std::vector<bool>& bits) {
    const std::size_t count = (bits.size() + 7) / 8;
    if (bits.empty() || 6 + count > MAX_PDU_BYTES) return "";
    std::string pdu(1, static_cast<char>(WRITE_MULTIPLE_COILS));
    put16(pdu, address);
    put16(pdu, static_cast<unsigned>(bits.size()));
    pdu += static_cast<char>(count);
    std::string data(count, '\0');
    for (std::size_t i = 0; i < bits.size(); ++i)
        if (bits[i]) data[i / 8] = static_cast<char>(data[i / 8] | (1 << (i % 8)));
    return pdu + data;
}
// Função 16 (§6.12): Starting Address, Quantity of Registers, Byte Count (2 por
// registrador) e Registers Value (os valores). "" se não cabe numa PDU.
inline std::string write_registers_request(std::uint16_t address,
                                           const std::vector<std::uint16_t>& values) {
    if (values.empty() || 6 + 2 * values.size() > MAX_PDU_BYTES) return "";
    std::string pdu(1, static_cast<char>(WRITE_MULTIPLE_REGISTERS));
    put16(pdu, address);
    put16(pdu, static_cast<unsigned>(values.size()));
    pdu += static_cast<char>(2 * values.size());
    for (std::uint16_t v : values) put16(pdu, v);
    return pdu;
}

// ---- a resposta, do lado do cliente ----------------------------------------------

struct Reply {
    std::string error;                 // "" se a resposta combina com o pedido
    std::uint8_t exception = 0;        // o código de uma resposta de exceção (1, 2, 3...)
    std::vector<std::uint16_t> values;  // o que foi lido (bits como 0 e 1) ou escrito
};

// Confere a PDU da resposta contra a do pedido e tira dela os valores.
inline Reply parse_reply(const std::string& request, const std::string& reply) {
    Reply r;
    if (request.empty() || reply.empty()) {
        r.error = "resposta sem código de função";
        return r;
    }
    const auto function = static_cast<std::uint8_t>(request[0]);
    const auto got = static_cast<std::uint8_t>(reply[0]);
    if (got == (function | EXCEPTION_BIT)) {
        if (reply.size() != 2 || reply[1] == 0)
            r.error = "resposta de exceção com " + std::to_string(reply.size()) + " bytes (são 2)";
        else
            r.exception = static_cast<std::uint8_t>(reply[1]);
        return r;
    }
    if (got != function) {
        r.error = "a resposta é da função " + std::to_string(got) + ", o pedido foi da " +
                  std::to_string(function);
        return r;
    }
    const std::size_t quantity = request.size() >= 5 ? get16(request.data() + 3) : 0;
    switch (function) {
        case READ_COILS:
        case READ_DISCRETE_INPUTS:
        case READ_HOLDING_REGISTERS:
        case READ_INPUT_REGISTERS: {
            const bool bits = function <= READ_DISCRETE_INPUTS;
            const std::size_t count = bits ? (quantity + 7) / 8 : 2 * quantity;
            if (reply.size() < 2 || static_cast<unsigned char>(reply[1]) != count ||
                reply.size() != 2 + count) {
                r.error = "a resposta traz " + std::to_string(reply.size() < 2 ? 0 : reply.size() - 2) +
                          " bytes de dados; para " + std::to_string(quantity) + " itens são " +
                          std::to_string(count);
                return r;
            }
            for (std::size_t i = 0; i < quantity; ++i) {
                if (bits)
                    r.values.push_back((static_cast<unsigned char>(reply[2 + i / 8]) >> (i % 8)) & 1);
                else
                    r.values.push_back(get16(reply.data() + 2 + 2 * i));
            }
            return r;
        }
        case WRITE_SINGLE_COIL:
        case WRITE_SINGLE_REGISTER:  // a resposta repete o pedido inteiro
            if (reply != request) r.error = "a resposta não repete o pedido";
            return r;
        case WRITE_MULTIPLE_COILS:
        case WRITE_MULTIPLE_REGISTERS:  // a resposta repete endereço e quantidade
            if (reply.size() != 5 || request.size() < 5 || reply.compare(0, 5, request, 0, 5) != 0)
                r.error = "a resposta não repete o endereço e a quantidade do pedido";
            return r;
        default:  // outra função (o comando pdu do cliente): os bytes, sem conferir
            for (std::size_t i = 1; i < reply.size(); ++i)
                r.values.push_back(static_cast<unsigned char>(reply[i]));
            return r;
    }
}

// O código de uma exceção como a especificação o escreve: dois dígitos
// hexadecimais (01, 02, ..., 0A, 0B).
inline std::string exception_code_text(unsigned code) {
    static const char digits[] = "0123456789ABCDEF";
    return std::string(1, digits[(code >> 4) & 15]) + digits[code & 15];
}

// O significado de uma exceção, para quem usa o cliente.
inline std::string exception_meaning(unsigned code) {
    switch (code) {
        case ILLEGAL_FUNCTION: return "função ilegal: o servidor não tem esta função";
        case ILLEGAL_DATA_ADDRESS:
            return "endereço de dados ilegal: o endereço, ou endereço + quantidade, está fora "
                   "da tabela do servidor (ou não aceita escrita)";
        case ILLEGAL_DATA_VALUE:
            return "valor de dados ilegal: quantidade fora do padrão, valor inválido ou "
                   "pedido do tamanho errado";
        case SERVER_DEVICE_FAILURE: return "falha no dispositivo servidor";
        case SERVER_DEVICE_BUSY: return "dispositivo servidor ocupado";
        case GATEWAY_PATH_UNAVAILABLE: return "gateway: caminho indisponível";
        case GATEWAY_TARGET_FAILED: return "gateway: o dispositivo de destino não respondeu";
        default: return "código de exceção desconhecido";
    }
}

// ---- o servidor: as quatro tabelas do modelo de dados Modbus (§4.3) -------------

constexpr std::size_t TABLE_SIZE = 100;  // endereços 0 a 99 em cada tabela

struct Memory {
    std::array<std::uint8_t, TABLE_SIZE> coils{};            // 0 ou 1; funções 1, 5, 15
    std::array<std::uint8_t, TABLE_SIZE> discrete_inputs{};  // 0 ou 1; função 2
    std::array<std::uint16_t, TABLE_SIZE> holding{};         // funções 3, 6, 16
    std::array<std::uint16_t, TABLE_SIZE> input{};           // função 4
    std::array<bool, TABLE_SIZE> holding_read_only{};        // escrever aqui: exceção 02
};

inline std::string exception_reply(std::uint8_t function, std::uint8_t code) {
    std::string pdu(1, static_cast<char>(function | EXCEPTION_BIT));
    return pdu + static_cast<char>(code);
}

// A resposta (PDU) a um pedido (PDU), lendo ou escrevendo `memory`. Sempre há
// resposta: um pedido que não pode ser atendido recebe a exceção do padrão, na
// ordem do padrão: função (01), depois quantidade e tamanho (03), depois endereço (02).
inline std::string answer(const std::string& request, Memory& memory) {
    if (request.empty()) return exception_reply(0, ILLEGAL_FUNCTION);
    const auto function = static_cast<std::uint8_t>(request[0]);
    const char* data = request.data() + 1;
    // Erro comum: Deixar endereço + quantidade dar a volta. Somados em 16 bits, o
    // endereço 65535 + 2 dá 1, "dentro" da tabela; lidos como índice, passam do fim
    // dela. Aqui a soma é num `unsigned long`, e o limite é conferido antes de ler.
    const unsigned long address = request.size() >= 3 ? get16(data) : 0;
    const unsigned long quantity = request.size() >= 5 ? get16(data + 2) : 0;
    std::string reply(1, static_cast<char>(function));
    switch (function) {
        case READ_COILS:
        case READ_DISCRETE_INPUTS: {
            if (request.size() != 5 || quantity < 1 || quantity > MAX_READ_BITS)
                return exception_reply(function, ILLEGAL_DATA_VALUE);
            if (address + quantity > TABLE_SIZE) return exception_reply(function, ILLEGAL_DATA_ADDRESS);
            const auto& table = function == READ_COILS ? memory.coils : memory.discrete_inputs;
            std::string bits((quantity + 7) / 8, '\0');
            for (unsigned long i = 0; i < quantity; ++i)
                if (table[address + i]) bits[i / 8] = static_cast<char>(bits[i / 8] | (1 << (i % 8)));
            reply += static_cast<char>(bits.size());
            return reply + bits;
        }
        case READ_HOLDING_REGISTERS:
        case READ_INPUT_REGISTERS: {
            if (request.size() != 5 || quantity < 1 || quantity > MAX_READ_REGISTERS)
                return exception_reply(function, ILLEGAL_DATA_VALUE);
            if (address + quantity > TABLE_SIZE) return exception_reply(function, ILLEGAL_DATA_ADDRESS);
            const auto& table = function == READ_HOLDING_REGISTERS ? memory.holding : memory.input;
            reply += static_cast<char>(2 * quantity);
            for (unsigned long i = 0; i < quantity; ++i) put16(reply, table[address + i]);
            return reply;
        }
        case WRITE_SINGLE_COIL: {
            const unsigned long value = quantity;  // o mesmo lugar da quantidade
            if (request.size() != 5 || (value != 0xff00 && value != 0x0000))
                return exception_reply(function, ILLEGAL_DATA_VALUE);
            if (address >= TABLE_SIZE) return exception_reply(function, ILLEGAL_DATA_ADDRESS);
            memory.coils[address] = value == 0xff00;
            return request;  // a resposta repete o pedido
        }
        case WRITE_SINGLE_REGISTER: {
            if (request.size() != 5) return exception_reply(function, ILLEGAL_DATA_VALUE);
            if (address >= TABLE_SIZE || memory.holding_read_only[address])
                return exception_reply(function, ILLEGAL_DATA_ADDRESS);
            memory.holding[address] = get16(data + 2);
            return request;
        }
        case WRITE_MULTIPLE_COILS:
        case WRITE_MULTIPLE_REGISTERS: {
            const bool bits = function == WRITE_MULTIPLE_COILS;
            const unsigned long most = bits ? MAX_WRITE_BITS : MAX_WRITE_REGISTERS;
            const unsigned long count = bits ? (quantity + 7) / 8 : 2 * quantity;
            // Erro comum: Confiar no Byte Count. Ele tem de bater com a quantidade E com
            // os bytes que de fato vieram; senão a escrita leria além do fim do pedido.
            if (request.size() < 6 || quantity < 1 || quantity > most ||
                static_cast<unsigned char>(request[5]) != count || request.size() != 6 + count)
                return exception_reply(function, ILLEGAL_DATA_VALUE);
            if (address + quantity > TABLE_SIZE) return exception_reply(function, ILLEGAL_DATA_ADDRESS);
            for (unsigned long i = 0; !bits && i < quantity; ++i)
                if (memory.holding_read_only[address + i])
                    return exception_reply(function, ILLEGAL_DATA_ADDRESS);  // nada é escrito
            const char* values = request.data() + 6;
            for (unsigned long i = 0; i < quantity; ++i) {
                if (bits)
                    memory.coils[address + i] = (static_cast<unsigned char>(values[i / 8]) >> (i % 8)) & 1;
                else
                    memory.holding[address + i] = get16(values + 2 * i);
            }
            return request.substr(0, 5);  // função, endereço, quantidade
        }
        default:
            return exception_reply(function, ILLEGAL_FUNCTION);
    }
}

}  // namespace modbus
