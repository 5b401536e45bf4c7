// Exemplo 6 - receber uma mensagem Modbus/TCP inteira (MBAP + PDU) de um socket: o
// mesmo laço no servidor (os pedidos) e no cliente (as respostas). Devolve o que
// aconteceu como um tipo (Received, Stop); as frases de cada programa, no fim, saem
// dele.
#pragma once

#include <cstddef>
#include <string>

#include "../common/net.h"
#include "mbap.h"

namespace modbus {

// O que receive_adu() conseguiu.
enum class Received {
    Adu,          // uma mensagem inteira: header e pdu
    Nothing,      // nenhum byte (a conexão fechou entre duas mensagens, ou o prazo acabou)
    ShortHeader,  // parte do cabeçalho: `got` de 7 bytes
    BadHeader,    // um cabeçalho que não é Modbus: `detail` diz por quê
    ShortPdu,     // o cabeçalho e parte da PDU: `got` de `wanted` bytes
};
// Por que os bytes pararam de chegar (em Nothing, ShortHeader e ShortPdu).
enum class Stop { None, PeerClosed, TimedOut, Error };

struct Receipt {
    Received what = Received::Nothing;
    Stop stop = Stop::None;
    std::size_t got = 0, wanted = 0;  // da parte que ficou incompleta
    Header header;
    std::string pdu;
    std::string detail;  // o motivo de BadHeader, ou o erro do recv()
};

// Recebe EXATAMENTE `length` bytes em `buffer`; devolve quantos chegaram (menos que
// `length` quando `stop` diz por quê).
// Erro comum: Tomar um recv() como uma mensagem inteira. O TCP entrega bytes, não
// mensagens: um recv() pode trazer meio cabeçalho, meia resposta (o resto vem no
// próximo segmento), ou três pedidos colados. Só um laço que pede o que falta até
// completar o tamanho lê cada mensagem certa.
inline std::size_t receive_exactly(socket_t s, char* buffer, std::size_t length, Receipt& r) {
    std::size_t got = 0;
    while (got < length) {
        auto received = recv(s, buffer + got, static_cast<int>(length - got), 0);
        if (received > 0) {
            got += static_cast<std::size_t>(received);
        } else if (received == 0) {  // o outro lado fechou a conexão
            r.stop = Stop::PeerClosed;
            return got;
        } else if (!net::interrupted()) {  // um sinal (EINTR) só repete o recv()
            r.stop = net::timed_out() ? Stop::TimedOut : Stop::Error;
            if (r.stop == Stop::Error) r.detail = net::last_error();
            return got;
        }
    }
    return length;
}

// Uma mensagem: o cabeçalho MBAP (7 bytes), conferido, e depois Length - 1 bytes.
inline Receipt receive_adu(socket_t s) {
    Receipt r;
    // 1. O cabeçalho MBAP: exatamente 7 bytes.
    char header_bytes[MBAP_BYTES];
    r.wanted = MBAP_BYTES;
    r.got = receive_exactly(s, header_bytes, MBAP_BYTES, r);
    if (r.got < MBAP_BYTES) {
        r.what = r.got == 0 ? Received::Nothing : Received::ShortHeader;
        return r;
    }
    // Erro comum: Confiar no cabeçalho sem conferir. Protocol Identifier diferente
    // de 0 ou Length fora de 2..254 não é Modbus: sem conferir, o programa leria uma
    // "mensagem" do tamanho que o lixo disser (até 64 KiB), ou esperaria para sempre.
    r.header = read_header(header_bytes);
    r.detail = check_header(r.header);
    if (!r.detail.empty()) {
        r.what = Received::BadHeader;
        return r;
    }
    // 2. O resto: exatamente Length - 1 bytes, a PDU.
    // Erro comum: Esquecer que Length conta o Unit Identifier. Length é o número de
    // bytes depois dele: o Unit Identifier (que já veio nos 7 do cabeçalho) + a PDU.
    // Ler Length bytes aqui "comeria" o primeiro byte da mensagem seguinte.
    char pdu_bytes[MAX_PDU_BYTES];
    r.wanted = r.header.length - 1u;
    r.got = receive_exactly(s, pdu_bytes, r.wanted, r);
    if (r.got < r.wanted) {
        r.what = Received::ShortPdu;
        return r;
    }
    r.pdu.assign(pdu_bytes, r.wanted);
    r.what = Received::Adu;
    return r;
}

// ---- as frases ----------------------------------------------------------------

// O servidor: por que a conexão acaba sem um pedido inteiro ("" quando o cliente
// fechou entre duas mensagens, o normal). `prazo`: o --prazo, em segundos.
inline std::string request_failure(const Receipt& in, double prazo) {
    std::string stop;
    switch (in.stop) {
        case Stop::PeerClosed: stop = "a conexão fechou no meio da mensagem"; break;
        case Stop::TimedOut:
            stop = "ficou " + std::to_string(static_cast<int>(prazo)) + " s sem enviar nada (--prazo)";
            break;
        case Stop::Error: stop = "erro no recv: " + in.detail; break;
        case Stop::None: break;
    }
    switch (in.what) {
        case Received::Nothing: return in.stop == Stop::PeerClosed ? "" : stop;
        case Received::ShortHeader:
            return "cabeçalho MBAP incompleto: " + std::to_string(in.got) + " de 7 bytes; " + stop;
        case Received::BadHeader: return "mensagem inválida: " + in.detail;
        case Received::ShortPdu:
            return "mensagem incompleta (Length " + std::to_string(in.header.length) + "): " + stop;
        case Received::Adu: break;
    }
    return "";
}

// O cliente: por que não há uma resposta inteira. `reply_timeout`: quanto ele espera.
inline std::string reply_failure(const Receipt& in, double reply_timeout) {
    if (in.what == Received::BadHeader) return "resposta inválida: " + in.detail;
    switch (in.stop) {
        case Stop::PeerClosed:
            return "resposta incompleta: o servidor fechou a conexão (" + std::to_string(in.got) + " de " +
                   std::to_string(in.wanted) + " bytes recebidos)";
        case Stop::TimedOut:
            return "resposta incompleta: o servidor não respondeu em " +
                   std::to_string(static_cast<int>(reply_timeout)) + " s";
        case Stop::Error: return "resposta incompleta: " + in.detail;
        case Stop::None: break;
    }
    return "";
}

}  // namespace modbus
