// Exemplo 6 - o que o cliente mostra com --detalhes, e a linha que o servidor mostra
// por pedido. Cada campo do MBAP e da PDU, com os seus bytes em hexadecimal, na ordem
// e com os nomes da árvore "Modbus/TCP" e "Modbus" do Wireshark (com -o
// mbtcp.tcp.port:1502): dá para conferir um a um, lado a lado com a captura.
// Só números e hexadecimal saem daqui: nenhum byte da rede vai cru para o terminal.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "modbus.h"

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
        case 4: return "Slave device failure";
        default: return "exceção " + std::to_string(code);
    }
}

inline std::string hex(const std::string& bytes, std::size_t at, std::size_t n) {
    static const char digits[] = "0123456789abcdef";
    std::string out;
    for (std::size_t i = at; i < at + n && i < bytes.size(); ++i) {
        auto b = static_cast<unsigned char>(bytes[i]);
        if (!out.empty()) out += ' ';
        out += digits[b >> 4];
        out += digits[b & 15];
    }
    return out;
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
    std::string text() const { return out_; }

private:
    const std::string& adu_;
    std::string out_;
    std::size_t at_ = 0;
};

// A listagem de uma mensagem inteira (MBAP + PDU). `request`: a PDU do pedido quando
// `adu` é a resposta a ele (o Wireshark também precisa do pedido para numerar os
// registradores de uma resposta); "" quando `adu` é o próprio pedido.
inline std::string describe(const std::string& adu, const std::string& request = "") {
    const bool is_reply = !request.empty();
    Listing l(adu);
    l.title("Modbus/TCP");
    l.u16("Transaction Identifier", is_reply ? "a resposta repete o do pedido" : "o número deste pedido");
    l.u16("Protocol Identifier", "0 = Modbus");
    l.u16("Length", "bytes depois deste campo: Unit Identifier + PDU");
    if (!l.field(1, "Unit Identifier", l.size() > 6 ? std::to_string(l.byte_at(6)) : "", "a unidade, o escravo"))
        return l.text();
    l.title("Modbus");
    if (l.at() >= l.size()) return l.text() + "     (a mensagem acabou antes do Function Code)\n";
    const unsigned code = l.byte_at(l.at());
    const unsigned function = code & 0x7f;
    if (code & EXCEPTION_BIT) {
        l.field(1, "Function Code", function_name(function) + " (" + std::to_string(function) + ")",
                "com o bit 0x80: resposta de EXCEÇÃO");
        if (l.at() < l.size())
            l.field(1, "Exception Code", exception_name(l.byte_at(l.at())) + " (" +
                    std::to_string(l.byte_at(l.at())) + ")", exception_meaning(l.byte_at(l.at())));
        l.rest();
        return l.text();
    }
    l.field(1, "Function Code", function_name(function) + " (" + std::to_string(function) + ")");
    // O endereço do primeiro item, tirado do pedido, para numerar bits e registradores.
    unsigned first = request.size() >= 3 ? get16(request.data() + 1) : 0;
    const bool bits = function == READ_COILS || function == READ_DISCRETE_INPUTS ||
                      function == WRITE_MULTIPLE_COILS;
    const char* count_name = bits ? "Bit Count" : "Word Count";
    const bool reading = function >= READ_COILS && function <= READ_INPUT_REGISTERS;
    if (function == WRITE_SINGLE_COIL || function == WRITE_SINGLE_REGISTER) {
        l.u16("Reference Number", "o endereço");
        if (l.at() + 2 <= l.size()) {
            const unsigned v = get16(adu.data() + l.at());
            l.field(2, "Data", hex(adu, l.at(), 1) + hex(adu, l.at() + 1, 1),
                    function == WRITE_SINGLE_COIL ? "ff00 = ligar (1), 0000 = desligar (0)"
                                                  : "o valor: " + std::to_string(v));
        }
    } else if (reading && !is_reply) {
        first = l.at() + 2 <= l.size() ? get16(adu.data() + l.at()) : 0;
        l.u16("Reference Number", "o primeiro endereço");
        l.u16(count_name, bits ? "quantos bits" : "quantos registradores");
    } else if (reading || (!is_reply && (function == WRITE_MULTIPLE_COILS ||
                                         function == WRITE_MULTIPLE_REGISTERS))) {
        if (!reading) {
            first = l.at() + 2 <= l.size() ? get16(adu.data() + l.at()) : 0;
            l.u16("Reference Number", "o primeiro endereço");
            l.u16(count_name, bits ? "quantos bits" : "quantos registradores");
        }
        if (l.at() < l.size()) l.field(1, "Byte Count", std::to_string(l.byte_at(l.at())), "bytes de dados a seguir");
        for (unsigned n = first; l.at() < l.size(); ) {
            if (bits) {  // 8 bits por byte; o primeiro é o bit menos significativo
                const unsigned b = l.byte_at(l.at());
                std::string values;
                for (int i = 0; i < 8; ++i) values += std::string(i ? " " : "") + ((b >> i) & 1 ? "1" : "0");
                l.field(1, "Bit " + std::to_string(n) + ".." + std::to_string(n + 7), values,
                        "o 1º valor é o bit menos significativo");
                n += 8;
            } else if (l.at() + 2 <= l.size()) {
                l.u16("Register " + std::to_string(n++) + " (UINT16)");
            } else {
                l.rest();
            }
        }
    } else if (function == WRITE_MULTIPLE_COILS || function == WRITE_MULTIPLE_REGISTERS) {
        l.u16("Reference Number", "o primeiro endereço escrito");
        l.u16(count_name, "quantos foram escritos");
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
        return text + ": exceção " + (static_cast<unsigned char>(reply[1]) < 10 ? "0" : "") +
               std::to_string(static_cast<unsigned char>(reply[1])) + " (" +
               exception_name(static_cast<unsigned char>(reply[1])) + ")";
    return text + ": ok";
}

}  // namespace modbus
