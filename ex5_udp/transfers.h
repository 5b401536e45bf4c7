// Exemplo 5 - as transferências em andamento no servidor UDP, uma por
// endereço de cliente (IP:porta), e os limites que impedem um só cliente de
// ocupar o servidor.
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

#include "../common/net.h"
#include "../common/per_address.h"

struct Transfer {
    sockaddr_storage address{};  // para onde o servidor envia (sendto)
    socklen_t address_length = 0;
    std::string text;     // "IP:porta", a chave da tabela e o nome nas mensagens
    std::string request;  // o primeiro datagrama: o pedido
    PerAddressLimit::Slot slot;  // a vaga do IP (--limite-por-ip), devolvida no fim

    // Chamada pela thread principal: mais um datagrama deste cliente. Com 64
    // já esperando, o novo é descartado, como a rede descartaria.
    void deliver(const char* data, std::size_t size) {
        std::lock_guard<std::mutex> lock(mutex_);
        if (inbox_.size() >= 64) return;
        inbox_.emplace_back(data, size);
        arrived_.notify_one();
    }

    // Chamada pela thread da transferência: o próximo datagrama, esperando
    // no máximo até `deadline`. false se o prazo acabou sem nada.
    bool receive(std::string& datagram, std::chrono::steady_clock::time_point deadline) {
        std::unique_lock<std::mutex> lock(mutex_);
        if (!arrived_.wait_until(lock, deadline, [&] { return !inbox_.empty(); })) return false;
        datagram = std::move(inbox_.front());
        inbox_.pop_front();
        return true;
    }

private:
    std::mutex mutex_;
    std::condition_variable arrived_;
    std::deque<std::string> inbox_;
};

class Transfers {
public:
    // No máximo TOTAL transferências ao mesmo tempo no servidor inteiro (o
    // limite de cada IP é o --limite-por-ip, com as vagas de PerAddressLimit).
    static const int TOTAL = 256;

    // A transferência em andamento de `text` ("IP:porta"), ou nenhuma.
    std::shared_ptr<Transfer> find(const std::string& text) {
        std::lock_guard<std::mutex> lock(mutex_);
        auto it = by_address_.find(text);
        return it == by_address_.end() ? nullptr : it->second;
    }

    // Registra uma transferência nova. Devolve "" ou o motivo da recusa.
    std::string add(const std::shared_ptr<Transfer>& t) {
        std::lock_guard<std::mutex> lock(mutex_);
        if (by_address_.size() >= static_cast<std::size_t>(TOTAL))
            return "o servidor já tem " + std::to_string(TOTAL) + " transferências em andamento";
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
