// Exemplo 5 - as transferências em andamento no servidor UDP, uma por
// endereço de cliente (IP:porta), e a capacidade do servidor.
//
// A capacidade: no máximo CAPACITY transferências ao mesmo tempo (uma thread
// cada). Enquanto há lugar, ninguém é recusado, nem um IP com muitas (um
// laboratório inteiro atrás de um NAT tem um IP só); --limite-por-ip N põe um
// limite por grupo de endereços, se o professor quiser: os grupos dos
// servidores TCP (common/admission.h: um IPv4, um /64 do IPv6, todo o
// 127.0.0.0/8 um grupo só). A divisão do loopback por usuário, que os
// servidores TCP fazem, não existe aqui: o kernel só diz o dono de um socket
// TCP. Com o servidor cheio, um pedido novo
// toma o lugar da transferência que menos andou: a que está há mais tempo sem
// nenhum ACK novo, desde que esse tempo passe de STALLED_RTOS vezes o timeout
// dela (quem está andando nunca sai por causa de quem chegou depois).
// choose_victim() é essa regra, sem relógio nem sockets (tests/unit_ex5.cpp).
//
// No TCP quem separa os clientes é o kernel: cada accept() dá um socket só
// daquela conexão. No UDP há um socket só, e o recvfrom() entrega os
// datagramas de todo mundo misturados, cada um com o endereço de quem o
// enviou. Então o servidor faz à mão o que o kernel fazia: a thread principal
// olha o endereço de origem e entrega o datagrama à "caixa de entrada" da
// transferência daquele endereço (as confirmações do modo confiável). Um
// datagrama de um endereço sem transferência só pode ser um pedido novo;
// nunca mexe na transferência de outro endereço.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "../common/net.h"
#include "../common/admission.h"

struct Transfer {
    sockaddr_storage address{};  // para onde o servidor envia (sendto)
    socklen_t address_length = 0;
    std::string text;     // "IP:porta", a chave da tabela e o nome nas mensagens
    std::string request;  // o primeiro datagrama: o pedido
    std::string group;    // o grupo do endereço (admission::group_of), para --limite-por-ip

    // O andamento, para a capacidade: quando (segundos do relógio do servidor)
    // veio o último ACK novo, e o timeout atual da transferência.
    void progressed(double now, double rto) {
        std::lock_guard<std::mutex> lock(mutex_);
        last_progress_ = now;
        rto_ = rto;
    }
    void started(double now) { progressed(now, 1.0); }
    std::pair<double, double> progress() {
        std::lock_guard<std::mutex> lock(mutex_);
        return {last_progress_, rto_};
    }
    // O servidor está cheio e esta transferência parou: ela deve terminar.
    void evict() {
        std::lock_guard<std::mutex> lock(mutex_);
        evicted_ = true;
        arrived_.notify_one();
    }
    bool evicted() {
        std::lock_guard<std::mutex> lock(mutex_);
        return evicted_;
    }

    // Chamada pela thread principal: mais um datagrama deste cliente. Com 64
    // já esperando, o novo é descartado, como a rede descartaria.
    void deliver(const char* data, std::size_t size) {
        std::lock_guard<std::mutex> lock(mutex_);
        if (inbox_.size() >= 64) return;
        inbox_.emplace_back(data, size);
        arrived_.notify_one();
    }

    // Chamada pela thread da transferência: o próximo datagrama, esperando
    // no máximo até `deadline`. false se o prazo acabou sem nada (ou se ela
    // foi tirada do servidor: evicted()).
    bool receive(std::string& datagram, std::chrono::steady_clock::time_point deadline) {
        std::unique_lock<std::mutex> lock(mutex_);
        if (!arrived_.wait_until(lock, deadline, [&] { return !inbox_.empty() || evicted_; }) || evicted_)
            return false;
        datagram = std::move(inbox_.front());
        inbox_.pop_front();
        return true;
    }

private:
    std::mutex mutex_;
    std::condition_variable arrived_;
    std::deque<std::string> inbox_;
    double last_progress_ = 0, rto_ = 1.0;
    bool evicted_ = false;
};

// A regra da capacidade, sem relógio: entre as transferências em andamento
// (quando andaram pela última vez e o timeout de cada uma), qual sai para dar
// lugar a um pedido novo no instante `now`: a que está parada há mais tempo,
// se está parada há mais que STALLED_RTOS timeouts dela. -1: nenhuma (todas
// andando), e o pedido novo é recusado.
struct Stalled {
    double last_progress, rto;
};
constexpr double STALLED_RTOS = 3;
inline int choose_victim(const std::vector<Stalled>& all, double now) {
    int victim = -1;
    for (std::size_t i = 0; i < all.size(); ++i) {
        const double idle = now - all[i].last_progress;
        if (idle <= STALLED_RTOS * all[i].rto) continue;
        if (victim < 0 || all[i].last_progress < all[static_cast<std::size_t>(victim)].last_progress)
            victim = static_cast<int>(i);
    }
    return victim;
}

class Transfers {
public:
    // No máximo CAPACITY transferências ao mesmo tempo no servidor inteiro.
    static const int CAPACITY = 256;

    // A transferência em andamento de `text` ("IP:porta"), ou nenhuma.
    std::shared_ptr<Transfer> find(const std::string& text) {
        std::lock_guard<std::mutex> lock(mutex_);
        auto it = by_address_.find(text);
        return it == by_address_.end() ? nullptr : it->second;
    }

    // Registra uma transferência nova no instante `now`. Com `group_limit`
    // (--limite-por-ip; 0: nenhum), o grupo dela não passa de tantas. Com o
    // servidor cheio, ela toma o lugar da que está parada há mais tempo
    // (choose_victim), que é avisada (evict) e sai da tabela; `evicted` diz
    // qual. Devolve "" ou o motivo da recusa.
    std::string add(const std::shared_ptr<Transfer>& t, double now, std::size_t group_limit,
                    std::string& evicted) {
        std::lock_guard<std::mutex> lock(mutex_);
        evicted.clear();
        std::size_t in_group = 0;
        for (const auto& entry : by_address_) in_group += entry.second->group == t->group;
        if (group_limit > 0 && in_group >= group_limit)
            return t->group + " já tem " + std::to_string(group_limit) +
                   " transferências em andamento (veja --limite-por-ip)";
        if (by_address_.size() >= static_cast<std::size_t>(CAPACITY)) {
            std::vector<Stalled> all;
            std::vector<std::map<std::string, std::shared_ptr<Transfer>>::iterator> where;
            for (auto it = by_address_.begin(); it != by_address_.end(); ++it) {
                auto p = it->second->progress();
                all.push_back({p.first, p.second});
                where.push_back(it);
            }
            int victim = choose_victim(all, now);
            if (victim < 0)
                return "o servidor já tem " + std::to_string(CAPACITY) +
                       " transferências em andamento, todas andando";
            auto it = where[static_cast<std::size_t>(victim)];
            evicted = it->first;
            it->second->evict();
            by_address_.erase(it);
        }
        t->started(now);
        by_address_[t->text] = t;
        return "";
    }

    // Tira `t` da tabela (se ainda estiver lá: a thread chama antes do último
    // datagrama e de novo no fim). Depois disso, um datagrama do mesmo
    // endereço é um pedido novo.
    void remove(const std::shared_ptr<Transfer>& t) {
        std::lock_guard<std::mutex> lock(mutex_);
        auto it = by_address_.find(t->text);
        if (it != by_address_.end() && it->second == t) by_address_.erase(it);
    }

private:
    std::mutex mutex_;
    std::map<std::string, std::shared_ptr<Transfer>> by_address_;
};

// As linhas sobre datagramas recusados, no máximo 10 por segundo: uma
// enxurrada de lixo não enche o terminal nem ocupa o servidor escrevendo. As
// que passam do limite são contadas e a conta aparece na próxima linha.
class RefusalLines {
public:
    void say(const std::string& text) {
        std::lock_guard<std::mutex> lock(mutex_);
        auto now = std::chrono::steady_clock::now();
        if (now - second_ >= std::chrono::seconds(1)) {
            second_ = now;
            in_this_second_ = 0;
        }
        if (++in_this_second_ > 10) {
            ++hidden_;
            return;
        }
        std::string line = text;
        if (hidden_ > 0)
            line += " (e mais " + std::to_string(hidden_) + " datagramas recusados sem aviso)";
        hidden_ = 0;
        std::cout << (line + "\n") << std::flush;
    }

private:
    std::mutex mutex_;
    std::chrono::steady_clock::time_point second_{};
    int in_this_second_ = 0;
    long hidden_ = 0;
};
