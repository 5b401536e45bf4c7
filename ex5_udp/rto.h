// Exemplo 5 - quanto esperar por uma confirmação antes de reenviar: o timeout
// de retransmissão (RTO), calculado como o TCP calcula (RFC 6298).
//
// Cada confirmação de um datagrama enviado uma vez só dá uma amostra R do
// tempo de ida e volta (RTT). O RTO acompanha a média e a variação delas:
//   primeira amostra:  SRTT = R, RTTVAR = R / 2
//   depois:            RTTVAR = 3/4 RTTVAR + 1/4 |SRTT - R|
//                      SRTT   = 7/8 SRTT   + 1/8 R
//   RTO = SRTT + max(1 ms, 4 RTTVAR), no mínimo 200 ms e no máximo 3 s
// Antes da primeira amostra o RTO é 1 s. A cada tempo esgotado ele dobra
// (até o máximo), e só volta a ser calculado com a próxima amostra.
// Amostras de datagramas reenviados não contam (algoritmo de Karn): não se
// sabe se a confirmação é do primeiro envio ou do reenvio.
// O mínimo de 200 ms é o do Linux (a RFC sugere 1 s); o máximo de 3 s é
// deste exemplo (a RFC pede pelo menos 60 s; o servidor desiste depois de
// 10 s sem nenhuma confirmação).
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <string>

class RetransmissionTimeout {
public:
    static constexpr double MIN = 0.2, MAX = 3.0, INITIAL = 1.0, GRANULARITY = 0.001;

    // O RTO atual, para esperar com wait_until(envio + duration()).
    std::chrono::steady_clock::duration duration() const {
        return std::chrono::duration_cast<std::chrono::steady_clock::duration>(
            std::chrono::duration<double>(rto_));
    }
    double seconds() const { return rto_; }

    // Uma nova amostra de RTT, em segundos.
    void sample(double r) {
        if (samples_++ == 0) {
            srtt_ = r;
            rttvar_ = r / 2;
        } else {
            rttvar_ = 0.75 * rttvar_ + 0.25 * std::fabs(srtt_ - r);
            srtt_ = 0.875 * srtt_ + 0.125 * r;
        }
        rto_ = std::clamp(srtt_ + std::max(GRANULARITY, 4 * rttvar_), MIN, MAX);
    }

    // O tempo acabou sem confirmação: espera o dobro da próxima vez.
    void back_off() { rto_ = std::min(2 * rto_, MAX); }

    // "RTT 10.31 ms: SRTT 10.40 ms, RTTVAR 1.20 ms, timeout 200 ms" (--rtt).
    std::string text(double r) const {
        char line[160];
        std::snprintf(line, sizeof line, "RTT %.2f ms: SRTT %.2f ms, RTTVAR %.2f ms, timeout %.0f ms",
                      r * 1e3, srtt_ * 1e3, rttvar_ * 1e3, rto_ * 1e3);
        return line;
    }

private:
    double srtt_ = 0, rttvar_ = 0, rto_ = INITIAL;
    long samples_ = 0;
};
