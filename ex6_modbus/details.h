// Exemplo 6 - o que o cliente mostra com --detalhes, e a linha que o servidor mostra
// por pedido. Cada campo do MBAP e da PDU, com os seus bytes em hexadecimal, na ordem
// e com os nomes da árvore "Modbus/TCP" e "Modbus" do Wireshark (com -o
// mbtcp.tcp.port:1502): dá para conferir um a um, lado a lado com a captura. Entre
// parênteses, o nome do campo na especificação quando é outro (Starting Address,
// Quantity of Registers, Output Value...), e cada título diz a seção: o MBAP no
// guia de TCP/IP, a PDU na seção 6.x da função (pdu.h, mbap.h).
// Só números e hexadecimal saem daqui: nenhum byte da rede vai cru para o terminal.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>

#include "../common/hex_text.h"

#include "mbap.h"
#include "pdu.h"

namespace modbus {

// O nome do Wireshark para cada código de função.
inline std::string function_name(unsigned code) {
    switch (code & 0x7f) {
        case READ_COILS: return "Read Coils";
        case READ_DISCRETE_INPUTS: return "Read Discrete Inputs";
        case READ_HOLDING_REGISTERS: return "Read Holding Registers";
        case READ_INPUT_REGISTERS: return "Read Input Registers";
        case WRITE_SINGLE_COIL: return "Write Single Coil";
        case WRITE_SINGLE_REGISTER: return "Write Single Register";
        case WRITE_MULTIPLE_COILS: return "Write Multiple Coils";
        case WRITE_MULTIPLE_REGISTERS: return "Write Multiple Registers";
        default: return "função " + std::to_string(code & 0x7f);
    }
}

// ... e para cada código de exceção.
inline std::string exception_name(unsigned code) {
    switch (code) {
        case ILLEGAL_FUNCTION: return "Illegal function";
        case ILLEGAL_DATA_ADDRESS: return "Illegal data address";
        case ILLEGAL_DATA_VALUE: return "Illegal data value";
        case SERVER_DEVICE_FAILURE: return "Slave device failure";
        case SERVER_DEVICE_BUSY: return "Slave device busy";
        case GATEWAY_PATH_UNAVAILABLE: return "Gateway path unavailable";
        case GATEWAY_TARGET_FAILED: return "Gateway target device failed to respond";
        default: return "exceção " + std::to_string(code);
    }
}

// Os bytes de `bytes` de `at` a `at + n` (os que existem), em hexadecimal: "00 01 ff".
inline std::string hex(const std::string& bytes, std::size_t at, std::size_t n) {
    if (at >= bytes.size()) return "";
    return hex_text::bytes(bytes.data() + at, std::min(n, bytes.size() - at), " ");
}

// A listagem de uma mensagem: uma linha por campo, "bytes   Campo: valor  (explicação)".
class Listing {
public:
    explicit Listing(const std::string& adu) : adu_(adu) {}

    // Um campo de n bytes: `text` depois de ": ", seguido da explicação (ou nada).
    // Devolve false (e diz quantos faltam) quando a mensagem acabou antes do campo.
    bool field(std::size_t n, const std::string& name, const std::string& value,
               const std::string& note = "") {
        if (at_ + n > adu_.size()) {
            if (at_ < adu_.size()) rest();
            out_ += "     (a mensagem acabou: faltam bytes para " + name + ")\n";
            at_ = adu_.size();
            return false;
        }
        std::string bytes = hex(adu_, at_, n);
        bytes.resize(bytes.size() < 10 ? 10 : bytes.size(), ' ');
        out_ += "     " + bytes + "  " + name + ": " + value + (note.empty() ? "" : "  (" + note + ")") + "\n";
        at_ += n;
        return true;
    }
    bool u16(const std::string& name, const std::string& note = "") {
        return field(2, name, at_ + 2 <= adu_.size() ? std::to_string(get16(adu_.data() + at_)) : "", note);
    }
    void title(const std::string& text) { out_ += "   " + text + "\n"; }
    void rest() {  // bytes que sobram e não são de nenhum campo conhecido
        if (at_ < adu_.size()) field(adu_.size() - at_, "Data", hex(adu_, at_, adu_.size() - at_), "bytes sem campo");
    }
    std::size_t at() const { return at_; }
    unsigned byte_at(std::size_t i) const { return static_cast<unsigned char>(adu_[i]); }
    std::size_t size() const { return adu_.size(); }
    const std::string& adu() const { return adu_; }
    std::string text() const { return out_; }

private:
    const std::string& adu_;
    std::string out_;
    std::size_t at_ = 0;
};

// ---- os campos de cada função, com o nome do Wireshark e, entre parênteses, o da
// especificação (MODBUS Application Protocol V1.1b3, a seção de cada função) --------

// A seção da especificação que descreve cada função (§7: as exceções).
inline std::string spec_section(unsigned function) {
    switch (function) {
        case READ_COILS: return "§6.1";
        case READ_DISCRETE_INPUTS: return "§6.2";
        case READ_HOLDING_REGISTERS: return "§6.3";
        case READ_INPUT_REGISTERS: return "§6.4";
        case WRITE_SINGLE_COIL: return "§6.5";
        case WRITE_SINGLE_REGISTER: return "§6.6";
        case WRITE_MULTIPLE_COILS: return "§6.11";
        case WRITE_MULTIPLE_REGISTERS: return "§6.12";
        default: return "";
    }
}

// Os valores depois do Byte Count, numerados a partir de `first`: 8 bits por byte
// (o primeiro é o bit menos significativo) ou um registrador a cada 2 bytes.
inline void list_values(Listing& l, bool bits, unsigned first, const std::string& spec_name) {
    for (unsigned n = first; l.at() < l.size();) {
        if (bits) {
            const unsigned b = l.byte_at(l.at());
            std::string values;
            for (int i = 0; i < 8; ++i) values += std::string(i ? " " : "") + ((b >> i) & 1 ? "1" : "0");
            l.field(1, "Bit " + std::to_string(n) + ".." + std::to_string(n + 7), values,
                    spec_name + ": o 1º valor é o bit menos significativo");
            n += 8;
        } else if (l.at() + 2 <= l.size()) {
            l.u16("Register " + std::to_string(n++) + " (UINT16)");
        } else {
            l.rest();
        }
    }
}

// Funções de bits (1, 2, 15): 8 por byte. As outras contam registradores de 16 bits.
inline bool counts_bits(unsigned function) {
    return function == READ_COILS || function == READ_DISCRETE_INPUTS || function == WRITE_MULTIPLE_COILS;
}

// O nome da quantidade na especificação (o Wireshark diz Bit Count ou Word Count).
inline std::string quantity_name(unsigned function) {
    switch (function) {
        case READ_COILS: return "Quantity of Coils";
        case READ_DISCRETE_INPUTS: return "Quantity of Inputs";
        case READ_INPUT_REGISTERS: return "Quantity of Input Registers";
        case WRITE_MULTIPLE_COILS: return "Quantity of Outputs";
        default: return "Quantity of Registers";  // 3 e 16
    }
}

// Starting Address e Quantity of ... (funções 1 a 4, 15 e 16). `written`: na
// resposta de 15 e 16, que repete os dois do pedido.
inline void list_range(Listing& l, unsigned function, bool written) {
    const bool bits = counts_bits(function);
    l.u16("Reference Number", written ? "Starting Address: o primeiro endereço escrito"
                                      : "Starting Address: o primeiro endereço");
    l.u16(bits ? "Bit Count" : "Word Count",
          quantity_name(function) + ": " +
              (written ? "quantos foram escritos" : bits ? "quantos bits" : "quantos registradores"));
}

// O Byte Count e os valores que ele conta, numerados a partir de `first`.
inline void list_data(Listing& l, unsigned function, unsigned first, const std::string& spec_name) {
    if (l.at() < l.size()) l.field(1, "Byte Count", std::to_string(l.byte_at(l.at())), "bytes de dados a seguir");
    list_values(l, counts_bits(function), first, spec_name);
}

// Os campos da PDU de um pedido, depois do Function code.
inline void list_request(Listing& l, unsigned function, const std::string& pdu) {
    const unsigned first = pdu.size() >= 3 ? get16(pdu.data() + 1) : 0;
    switch (function) {
        case READ_COILS:  // §6.1 a §6.4: Starting Address, Quantity of ...
        case READ_DISCRETE_INPUTS:
        case READ_HOLDING_REGISTERS:
        case READ_INPUT_REGISTERS:
            list_range(l, function, false);
            break;
        case WRITE_SINGLE_COIL:  // §6.5: Output Address, Output Value
            l.u16("Reference Number", "Output Address: o endereço");
            if (l.at() + 2 <= l.size())
                l.field(2, "Data", hex(l.adu(), l.at(), 1) + hex(l.adu(), l.at() + 1, 1),
                        "Output Value: ff00 = ligar (1), 0000 = desligar (0)");
            break;
        case WRITE_SINGLE_REGISTER:  // §6.6: Register Address, Register Value
            l.u16("Reference Number", "Register Address: o endereço");
            if (l.at() + 2 <= l.size())
                l.field(2, "Data", hex(l.adu(), l.at(), 1) + hex(l.adu(), l.at() + 1, 1),
                        "Register Value: " + std::to_string(get16(l.adu().data() + l.at())));
            break;
        case WRITE_MULTIPLE_COILS:  // §6.11: ..., Byte Count, Outputs Value
            list_range(l, function, false);
            list_data(l, function, first, "Outputs Value");
            break;
        case WRITE_MULTIPLE_REGISTERS:  // §6.12: ..., Byte Count, Registers Value
            list_range(l, function, false);
            list_data(l, function, first, "Registers Value");
            break;
        default:  // uma função que este exemplo não conhece: os bytes, em rest()
            break;
    }
}

// Os campos da PDU de uma resposta (não de exceção), depois do Function code.
// `request`: a PDU do pedido, que dá o endereço do primeiro valor lido.
inline void list_response(Listing& l, unsigned function, const std::string& request) {
    const unsigned first = request.size() >= 3 ? get16(request.data() + 1) : 0;
    switch (function) {
        case READ_COILS:  // Byte count e Coil Status / Input Status / Register value
            list_data(l, function, first, "Coil Status");
            break;
        case READ_DISCRETE_INPUTS:
            list_data(l, function, first, "Input Status");
            break;
        case READ_HOLDING_REGISTERS:
        case READ_INPUT_REGISTERS:
            list_data(l, function, first, "Register value");
            break;
        case WRITE_SINGLE_COIL:
        case WRITE_SINGLE_REGISTER:  // a resposta repete o pedido
            list_request(l, function, request);
            break;
        case WRITE_MULTIPLE_COILS:
        case WRITE_MULTIPLE_REGISTERS:  // o endereço e a quantidade do pedido
            list_range(l, function, true);
            break;
        default:
            break;
    }
}

// A listagem de uma mensagem inteira (MBAP + PDU). `request`: a PDU do pedido quando
// `adu` é a resposta a ele (o Wireshark também precisa do pedido para numerar os
// registradores de uma resposta); "" quando `adu` é o próprio pedido.
inline std::string describe(const std::string& adu, const std::string& request = "") {
    const bool is_reply = !request.empty();
    Listing l(adu);
    l.title("Modbus/TCP  (MBAP: TCP/IP Implementation Guide V1.0b §3.1.3)");
    l.u16("Transaction Identifier", is_reply ? "a resposta repete o do pedido" : "o número deste pedido");
    l.u16("Protocol Identifier", "0 = Modbus");
    l.u16("Length", "bytes depois deste campo: Unit Identifier + PDU");
    if (!l.field(1, "Unit Identifier", l.size() > 6 ? std::to_string(l.byte_at(6)) : "", "a unidade, o escravo"))
        return l.text();
    if (l.at() >= l.size()) {
        l.title("Modbus");
        return l.text() + "     (a mensagem acabou antes do Function Code)\n";
    }
    const unsigned code = l.byte_at(l.at());
    const unsigned function = code & 0x7f;
    const std::string name = function_name(function) + " (" + std::to_string(function) + ")";
    if (code & EXCEPTION_BIT) {  // §7: Function code + 0x80, Exception code
        l.title("Modbus  (PDU: Application Protocol V1.1b3 §7, exceção)");
        l.field(1, "Function Code", name, "com o bit 0x80: resposta de EXCEÇÃO");
        if (l.at() < l.size())
            l.field(1, "Exception Code", exception_name(l.byte_at(l.at())) + " (" +
                    std::to_string(l.byte_at(l.at())) + ")", exception_meaning(l.byte_at(l.at())));
    } else {
        const std::string section = spec_section(function);
        l.title(section.empty() ? "Modbus" : "Modbus  (PDU: Application Protocol V1.1b3 " + section + ")");
        const std::string pdu = adu.substr(l.at());  // a PDU deste pedido, do Function code em diante
        l.field(1, "Function Code", name);
        if (is_reply)
            list_response(l, function, request);
        else
            list_request(l, function, pdu);
    }
    l.rest();
    return l.text();
}

// A linha do servidor para cada pedido: "Read Holding Registers 0..4: ok".
inline std::string summary(const std::string& request, const std::string& reply) {
    std::string text = request.empty() ? "PDU vazia" : function_name(static_cast<unsigned char>(request[0]));
    if (request.size() >= 5) {
        const unsigned first = get16(request.data() + 1), second = get16(request.data() + 3);
        const auto f = static_cast<unsigned char>(request[0]);
        if (f == WRITE_SINGLE_COIL || f == WRITE_SINGLE_REGISTER)
            text += " " + std::to_string(first) + " = " +
                    std::to_string(f == WRITE_SINGLE_COIL ? second == 0xff00 : second);
        else if (second == 1)
            text += " " + std::to_string(first);
        else if (second > 1)
            text += " " + std::to_string(first) + ".." + std::to_string(first + second - 1);
    }
    if (reply.size() == 2 && (static_cast<unsigned char>(reply[0]) & EXCEPTION_BIT))
        return text + ": exceção " + exception_code_text(static_cast<unsigned char>(reply[1])) + " (" +
               exception_name(static_cast<unsigned char>(reply[1])) + ")";
    return text + ": ok";
}

}  // namespace modbus
