// Exemplo 5 - o remetente do modo confiável, sem sockets nem relógio: quais
// datagramas podem sair, quando reenviar, e quanto pôr na rede de uma vez
// (o controle de congestionamento do TCP, feito à mão). O servidor
// (server.cpp) faz o sendto() e o recv; esta peça só decide, e os testes
// (tests/unit_ex5.cpp, os casos `sender:`) a conduzem passo a passo num relógio de mentira.
//
// As três entradas, e o que cada uma devolve:
//   next()              o próximo datagrama que pode sair agora (ou nenhum);
//                       depois do sendto(), sent() registra o envio
//   on_ack(n, agora)    chegou um ACK n (o próximo número esperado)
//   on_time(agora)      o relógio andou: esperar, reenviar ou desistir
//
// Os números: o SIZE leva um número inicial sorteado (first), os dados
// first + 1 a first + count e o OK first + count + 1, todos módulo 2^32. Por
// dentro, a peça conta a partir de first (0 é o SIZE, como antes): `number`.
//
// As regras (cada uma com o seu teste `sender:` em tests/unit_ex5.cpp):
// - Go-Back-N: no timeout, ou no terceiro ACK repetido, volta ao mais antigo
//   sem confirmação (base) e reenvia dali.
// - O timeout é o do TCP (rto.h, RFC 6298): dobra a cada tempo esgotado, e
//   amostras de datagramas reenviados não contam (Karn).
// - Controle de congestionamento (RFC 5681), a não ser que o cliente peça uma
//   janela fixa: cwnd começa em 1 e cresce 1 por ACK novo até ssthresh
//   (partida lenta: dobra a cada RTT), depois 1/cwnd por ACK novo (prevenção
//   de congestionamento: +1 por RTT). Timeout: ssthresh = max(em voo / 2, 2),
//   cwnd = 1; se o base já tinha sido reenviado por um timeout, ssthresh fica
//   (RFC 5681, 3.1). Terceiro ACK repetido: ssthresh = max(em voo / 2, 2),
//   cwnd = ssthresh. Nunca mais que min(cwnd, janela do cliente) em voo. Depois
//   de uma perda, os ACKs repetidos do que já estava em voo não disparam outra
//   retransmissão rápida até o base passar do que tinha saído (o `recover` da
//   RFC 6582): uma perda, uma redução. Do NewReno é só isso: um ACK parcial
//   (que confirma parte do que estava em voo) não reenvia o buraco seguinte;
//   esse espera os ACKs repetidos ou o timeout.
// - Antiamplificação (RFC 9000, 8.1): antes de um ACK que só quem recebeu o
//   SIZE poderia mandar (first + 1), só o SIZE sai, e no máximo 3 vezes os
//   bytes recebidos daquele endereço, contando os reenvios.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "rto.h"

class ReliableSender {
public:
    // (REPEATED, não DUPLICATE: no Windows, DUPLICATE é uma macro de windows.h.)
    enum class Ack { IGNORED, NEW, REPEATED, FAST_RESEND, DONE };
    enum class Time { WAIT, RESEND, GIVE_UP };
    struct Send {
        std::uint32_t seq;     // o número no cabeçalho (first + number)
        std::uint32_t number;  // 0 o SIZE, 1 a count os dados, count + 1 o OK
        bool again;            // já tinha saído antes: um reenvio
    };
    static constexpr double GIVE_UP_AFTER = 10.0;  // segundos sem nenhum ACK novo
    static constexpr std::uint64_t BUDGET = 3;     // antes da confirmação: 3 x o recebido

    // O arquivo tem `count` datagramas de dados; o cliente aceita no máximo
    // `window` sem confirmação; `control`: com controle de congestionamento.
    ReliableSender(std::uint32_t first, std::uint32_t count, unsigned window, bool control)
        : first_(first), last_(count + 1), window_(std::max(1u, window)), control_(control),
          cwnd_(control ? 1.0 : window_), ssthresh_(window_), sent_at_(window_) {}

    // Grande demais: os números 0 a count + 2 (o ACK do OK) precisam ser
    // todos diferentes em 32 bits.
    static bool too_big(std::uint64_t count) { return count > 0xffffffffu - 2; }

    // Bytes que chegaram do endereço do cliente (o pedido, um pedido repetido).
    void received(std::size_t bytes) { received_ += bytes; }

    // O próximo que pode sair agora, ou nenhum: a janela está cheia, tudo já
    // saiu, ou o cliente ainda não provou que recebeu o SIZE.
    // Diferença do Exemplo 3: Antes do ACK do SIZE, só o SIZE. E no máximo 3 vezes os bytes
    // recebidos do endereço, reenvios contados (affordable): um pedido com endereço de origem
    // falso não faz o servidor despejar o arquivo na vítima (RFC 9000, 8.1).
    std::optional<Send> next() const {
        if (next_ > last_ || next_ - base_ >= limit()) return std::nullopt;
        if (next_ > base_ && next_ - base_ + draining_ >= limit()) return std::nullopt;
        if (!verified() && next_ > 0) return std::nullopt;
        return Send{first_ + next_, next_, next_ < resent_below_};
    }

    // Cabe no orçamento antes da confirmação? (Depois dela, sempre.)
    bool affordable(std::size_t bytes) const {
        return verified() || spent_ + bytes <= BUDGET * received_;
    }

    // `s` (o que next() deu) saiu agora, com `bytes` no datagrama.
    void sent(const Send& s, std::size_t bytes, double now) {
        if (s.number == base_) timer_ = now;  // o timeout conta do envio do mais antigo
        sent_at_[s.number % sent_at_.size()] = now;
        spent_ += bytes;
        next_ = s.number + 1;
    }

    // Chegou um ACK com o número `ack` (o próximo esperado pelo cliente).
    Ack on_ack(std::uint32_t ack, double now) {
        const std::uint32_t n = ack - first_;  // módulo 2^32: o mesmo para qualquer first
        sample_.reset();
        if (n == base_ && next_ > base_) {  // repetido: o `base` não chegou, algo depois dele sim
            if (draining_ > 0) draining_ -= 1;  // mais um dos antigos saiu da rede
            if (++repeated_ != 3 || (control_ && base_ < recover_)) return Ack::REPEATED;
            lost(true);
            return Ack::FAST_RESEND;
        }
        if (n <= base_ || n > next_) return Ack::IGNORED;  // velho, ou de algo que nunca saiu
        repeated_ = 0;
        timed_out_ = false;  // um base novo: ainda não reenviado pelo timer
        draining_ = 0;  // o reenvio do base chegou: os antigos, atrás dele na fila, já saíram
        // Diferença do Exemplo 3: O timeout do TCP. RFC 6298 (rto.h): amostras só do que foi
        // enviado uma vez (Karn), e o timeout dobra a cada tempo esgotado.
        if (n - 1 >= resent_below_) {
            sample_ = now - sent_at_[(n - 1) % sent_at_.size()];
            rto_.sample(*sample_);
        }
        // Diferença do Exemplo 3: Partida lenta e prevenção de congestionamento. Abaixo de ssthresh,
        // cwnd cresce 1 por ACK novo (dobra a cada RTT); acima, 1/cwnd (1 por RTT), RFC 5681.
        // Conta por ACK, não por datagrama confirmado, como a RFC 5681 permite.
        if (control_) cwnd_ += cwnd_ < ssthresh_ ? 1.0 : 1.0 / cwnd_;
        cwnd_ = std::min(cwnd_, static_cast<double>(window_));
        base_ = n;  // confirma tudo antes de n (ACK cumulativo)
        timer_ = progress_ = now;
        return base_ > last_ ? Ack::DONE : Ack::NEW;
    }

    // Até quando esperar por um ACK (o timeout do mais antigo sem confirmação).
    double deadline() const { return timer_ + rto_.seconds(); }

    // O relógio chegou a `now`: ainda esperar, reenviar do mais antigo, ou desistir.
    Time on_time(double now) {
        if (now < deadline()) return Time::WAIT;
        if (now - progress_ > GIVE_UP_AFTER) return Time::GIVE_UP;
        rto_.back_off();
        lost(false);
        timed_out_ = true;
        timer_ = now;  // o timer recomeça (RFC 6298, 5.6), mesmo se nada puder sair agora
        return Time::RESEND;
    }

    // O estado, para o --rtt: "cwnd 4.00, ssthresh 256.00, em voo 3, RTO 200 ms".
    std::string state() const {
        char line[120];
        std::snprintf(line, sizeof line, "cwnd %.2f, ssthresh %.2f, em voo %u, RTO %.0f ms", cwnd_,
                      ssthresh_, flight(), rto_.seconds() * 1e3);
        return line;
    }

    bool verified() const { return base_ >= 1; }  // o ACK do SIZE chegou
    double cwnd() const { return cwnd_; }
    double ssthresh() const { return ssthresh_; }
    std::uint32_t flight() const { return next_ - base_; }
    std::uint32_t base() const { return base_; }  // o mais antigo sem confirmação (number)
    std::uint32_t last() const { return last_; }  // o number do OK
    std::uint64_t spent() const { return spent_; }
    const RetransmissionTimeout& rto() const { return rto_; }
    // A amostra de RTT do último ACK (nenhuma se era de um reenvio: Karn).
    std::optional<double> sample() const { return sample_; }

private:
    // O que o cliente deixa e o que a rede aguenta: min(cwnd, janela).
    // Diferença do Exemplo 3: A janela do cliente é um limite. Em voo, no máximo min(cwnd,
    // janela), como a janela anunciada do TCP; com --sem-controle, cwnd fica igual à janela.
    std::uint32_t limit() const {
        return std::min(window_, std::max(1u, static_cast<std::uint32_t>(cwnd_)));
    }

    // Uma perda (timeout, ou o terceiro ACK repetido): menos na rede, e volta ao base.
    // Diferença do Exemplo 3: Uma perda reduz a janela. Timeout: ssthresh = max(em voo / 2, 2) e
    // cwnd = 1; terceiro ACK repetido: cwnd = ssthresh (a metade do Reno). Depois, Go-Back-N: o
    // base sai já, e o resto à medida que os ACKs repetidos dizem que os antigos saíram da rede.
    void lost(bool fast) {
        if (control_) {
            // O segundo timeout do mesmo base não reduz ssthresh de novo (RFC 5681, 3.1, a nota
            // da equação 4): em voo há só o reenvio dele, e max(1 / 2, 2) jogaria ssthresh em 2.
            if (fast || !timed_out_) ssthresh_ = std::max(flight() / 2.0, 2.0);
            cwnd_ = fast ? std::min(ssthresh_, static_cast<double>(window_)) : 1.0;
            // Os que estavam em voo ainda ocupam a fila do gargalo (menos os 3 que trouxeram os
            // ACKs repetidos): como na recuperação rápida do Reno, cada ACK repetido a mais
            // libera um. Sem isso, a janela inteira reenviada de uma vez cairia na fila cheia.
            draining_ = fast && flight() > 3 ? flight() - 3 : 0;
        }
        resent_below_ = std::max(resent_below_, next_);
        recover_ = next_;  // com controle: os ACKs repetidos do que já estava em voo não contam de novo
        next_ = base_;
    }

    const std::uint32_t first_, last_, window_;
    const bool control_;
    double cwnd_, ssthresh_;
    std::uint32_t base_ = 0, next_ = 0;  // o mais antigo sem confirmação; o próximo a enviar
    std::uint32_t resent_below_ = 0;     // abaixo deste, todos já foram enviados uma vez
    std::uint32_t recover_ = 0;          // até o base passar daqui, nada de outra retransmissão rápida
    int repeated_ = 0;                   // ACKs seguidos com o número base
    bool timed_out_ = false;             // o base já foi reenviado por um timeout
    std::uint32_t draining_ = 0;         // depois de 3 ACKs repetidos: os antigos ainda na rede
    std::vector<double> sent_at_;        // quando cada um dos últimos `window` saiu
    double timer_ = 0, progress_ = 0;    // o envio do base; o último ACK novo
    std::uint64_t received_ = 0, spent_ = 0;
    RetransmissionTimeout rto_;
    std::optional<double> sample_;
};
