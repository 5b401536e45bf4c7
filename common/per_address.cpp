// common/per_address.cpp - see per_address.h.
#include "per_address.h"

#include <iostream>

#include "net.h"

PerAddressLimit::Slot::Slot(Slot&& other) noexcept
    : owner_(other.owner_), ip_(std::move(other.ip_)) {
    other.owner_ = nullptr;
}

PerAddressLimit::Slot& PerAddressLimit::Slot::operator=(Slot&& other) noexcept {
    if (this != &other) {
        if (owner_) owner_->give_back(ip_);
        owner_ = other.owner_;
        ip_ = std::move(other.ip_);
        other.owner_ = nullptr;
    }
    return *this;
}

PerAddressLimit::Slot::~Slot() {
    if (owner_) owner_->give_back(ip_);
}

PerAddressLimit::Slot PerAddressLimit::take(const std::string& ip) {
    std::lock_guard<std::mutex> lock(mutex_);
    std::size_t& open = open_[ip];
    if (open >= max_) return Slot();
    ++open;
    return Slot(this, ip);
}

void PerAddressLimit::give_back(const std::string& ip) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto found = open_.find(ip);
    if (found != open_.end() && --found->second == 0) open_.erase(found);  // no empty entries
}

std::string PerAddressLimit::refusal(const std::string& ip) const {
    return "Conexão recusada: " + ip + " já tem " + std::to_string(max_) +
           " conexões abertas (limite por IP; veja --limite-por-ip)";
}

int PerAddressLimit::check_option(const std::string& usage) {
    // option_text_ is "16" when the option was not given.
    if (args::number(option_text_, 1, 999999, max_)) return -1;
    return args::usage_error(usage, "--limite-por-ip deve ser um número de 1 a 999999");
}
