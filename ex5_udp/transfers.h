// Exemplo 5 - as transferências em andamento no servidor UDP, uma por
// endereço de cliente (IP:porta), e a capacidade do servidor.
//
// A capacidade: no máximo CAPACITY transferências ao mesmo tempo (uma thread
// cada). Enquanto há lugar, ninguém é recusado, nem um IP com muitas (um
// laboratório inteiro atrás de um NAT tem um IP só); --limite-por-ip N põe um
// limite por grupo de endereços, se o professor quiser. Os grupos são os dos
// servidores TCP (common/admission.h: um IPv4, um /64 do IPv6, todo o
// 127.0.0.0/8 um grupo só, dividido no Linux pelo usuário dono do socket UDP
// do cliente). Com o servidor cheio, a regra dos servidores TCP, pelo
// andamento (choose_victim(), sem relógio nem sockets: tests/unit_ex5.cpp):
//  1. O pedido novo toma o lugar de uma transferência do grupo que tem mais,
//     se esse grupo tem mais do que o do pedido teria com ele.
//  2. Dentro desse grupo sai primeiro a que ainda não provou nada (nenhum ACK
//     do SIZE), a mais antiga; depois a que menos andou nos últimos
//     STALLED_RTOS timeouts dela (datagramas confirmados).
//  3. Senão (o grupo do pedido já é dos maiores), só uma do próprio grupo
//     dele sai: uma que não provou nada, ou uma parada há mais de
//     STALLED_RTOS timeouts. Quem está andando no próprio grupo não sai por
//     causa de quem chegou depois; sem nenhuma assim, o pedido é recusado.
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
#include <cstdint>
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

// A regra da capacidade, sem relógio: o andamento de uma transferência. Os
// datagramas confirmados são contados em janelas de STALLED_RTOS timeouts:
// recent() é o que ela confirmou na janela atual e na anterior, "o quanto
// andou nos últimos timeouts".
constexpr double STALLED_RTOS = 3;
struct Progress {
    double opened = 0;        // quando o pedido chegou
    double last = 0;          // o último ACK novo (ou o pedido)
    double rto = 1.0;         // o timeout atual
    bool proven = false;      // o ACK do SIZE chegou
    double window_start = 0;  // a janela atual de contagem
    std::uint64_t this_window = 0, last_window = 0;

    void roll(double now) {  // começa outra janela, se a atual acabou
        const double span = STALLED_RTOS * rto;
        if (now - window_start < span) return;
        last_window = now - window_start < 2 * span ? this_window : 0;
        this_window = 0;
        window_start = now;
    }
    void add(double now, double timeout, std::uint32_t acked) {
        roll(now);
        rto = timeout;
        this_window += acked;
        last = now;
        proven = proven || acked > 0;
    }
    std::uint64_t recent(double now) const {
        Progress p = *this;
        p.roll(now);
        return p.this_window + p.last_window;
    }
    bool stalled(double now) const { return now - last > STALLED_RTOS * rto; }
};

struct Held {  // uma transferência em andamento, para a regra
    std::string group;
    Progress progress;
};

// Qual transferência sai para dar lugar a um pedido novo de `group` no
// instante `now` (a regra do começo deste arquivo); -1: nenhuma, o pedido é
// recusado.
inline int choose_victim(const std::vector<Held>& all, const std::string& group, double now) {
    std::map<std::string, std::size_t> per_group;
    for (const Held& h : all) per_group[h.group] += 1;
    const std::string* biggest = &group;
    std::size_t most = 0;
    for (const auto& g : per_group)
        if (g.second > most) biggest = &g.first, most = g.second;
    const bool other_group = most > per_group[group] + 1;
    const std::string& from = other_group ? *biggest : group;
    int victim = -1;
    auto better = [&](const Progress& a, const Progress& b) {  // a sai antes de b?
        if (a.proven != b.proven) return !a.proven;
        if (!a.proven) return a.opened < b.opened;  // a mais antiga
        const std::uint64_t ra = a.recent(now), rb = b.recent(now);
        return ra != rb ? ra < rb : a.last < b.last;  // a que menos andou; empate: a parada há mais tempo
    };
    for (std::size_t i = 0; i < all.size(); ++i) {
        const Held& h = all[i];
        if (h.group != from) continue;
        if (!other_group && h.progress.proven && !h.progress.stalled(now)) continue;  // andando: fica
        if (victim < 0 || better(h.progress, all[static_cast<std::size_t>(victim)].progress))
            victim = static_cast<int>(i);
    }
    return victim;
}

struct Transfer {
    sockaddr_storage address{};  // para onde o servidor envia (sendto)
    socklen_t address_length = 0;
    std::string text;     // "IP:porta", a chave da tabela e o nome nas mensagens
    std::string request;  // o primeiro datagrama: o pedido
    std::string group;    // o grupo do endereço (admission::group_of_peer): capacidade, --limite-por-ip

    // O andamento, para a capacidade: `acked` datagramas novos confirmados no
    // instante `now` (segundos do relógio do servidor), com o timeout atual.
    // O primeiro é o ACK do SIZE: a transferência provou que o cliente recebe.
    void progressed(double now, double rto, std::uint32_t acked) {
        std::lock_guard<std::mutex> lock(mutex_);
        progress_.add(now, rto, acked);
    }
    void started(double now) {
        std::lock_guard<std::mutex> lock(mutex_);
        progress_ = Progress{};
        progress_.opened = progress_.last = progress_.window_start = now;
    }
    Progress progress() {
        std::lock_guard<std::mutex> lock(mutex_);
        return progress_;
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
    Progress progress_;
    bool evicted_ = false;
};

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
    // servidor cheio, ela toma o lugar da que choose_victim() escolhe, que é
    // avisada (evict) e sai da tabela; `evicted` diz qual. Devolve YES ou o
    // motivo da recusa.
    enum class Added { YES, GROUP_LIMIT, FULL };
    Added add(const std::shared_ptr<Transfer>& t, double now, std::size_t group_limit,
              std::string& evicted) {
        std::lock_guard<std::mutex> lock(mutex_);
        evicted.clear();
        std::size_t in_group = 0;
        for (const auto& entry : by_address_) in_group += entry.second->group == t->group;
        if (group_limit > 0 && in_group >= group_limit)
            return Added::GROUP_LIMIT;
        if (by_address_.size() >= static_cast<std::size_t>(CAPACITY)) {
            std::vector<Held> all;
            std::vector<std::map<std::string, std::shared_ptr<Transfer>>::iterator> where;
            for (auto it = by_address_.begin(); it != by_address_.end(); ++it) {
                all.push_back({it->second->group, it->second->progress()});
                where.push_back(it);
            }
            int victim = choose_victim(all, t->group, now);
            if (victim < 0) return Added::FULL;
            auto it = where[static_cast<std::size_t>(victim)];
            evicted = it->first;
            it->second->evict();
            by_address_.erase(it);
        }
        t->started(now);
        by_address_[t->text] = t;
        return Added::YES;
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
