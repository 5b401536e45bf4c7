// common/outbox.cpp - see outbox.h.
#include "outbox.h"

#include <iostream>
#include <system_error>

std::mutex Outbox::all_mutex_;
std::set<Outbox*> Outbox::all_;
std::atomic<std::size_t> Outbox::total_{0};

Outbox::Outbox(socket_t socket, std::string address)
    : socket_(socket), address_(std::move(address)) {
    // The send thread's blocking send() gives up after SEND_TIMEOUT.
    net::set_timeout(socket_, SO_SNDTIMEO, SEND_TIMEOUT);
    std::lock_guard<std::mutex> lock(all_mutex_);
    all_.insert(this);
}

Outbox::~Outbox() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        closed_ = true;
        count(-static_cast<long>(queued_.size()));
        queued_.clear();
        wake_up_.notify_one();
        // The client is leaving: a send() still waiting for it can stop now.
        if (sending_) shutdown(socket_, SHUT_RDWR);
    }
    if (sender_.joinable()) sender_.join();
    std::lock_guard<std::mutex> lock(all_mutex_);
    all_.erase(this);
}

void Outbox::count(long bytes) {
    queued_bytes_ += static_cast<std::size_t>(bytes);  // wraps back for a negative
    total_ += static_cast<std::size_t>(bytes);
}

void Outbox::drop_furthest_behind() {
    std::lock_guard<std::mutex> lock(all_mutex_);
    while (total_ > MAX_TOTAL) {
        Outbox* furthest = nullptr;
        for (Outbox* box : all_)
            if (!furthest || box->queued_bytes_ > furthest->queued_bytes_) furthest = box;
        if (!furthest || furthest->queued_bytes_ == 0) return;
        std::lock_guard<std::mutex> its(furthest->mutex_);
        if (furthest->closed_) return;  // its bytes are on their way out
        furthest->drop("o mais atrasado quando as filas de todos passaram de " +
                       std::to_string(MAX_TOTAL >> 20) + " MiB");
    }
}

void Outbox::send(const char* data, std::size_t length) {
    send_locked(data, length);
    if (total_ > MAX_TOTAL) drop_furthest_behind();  // after mutex_ is released
}

void Outbox::send_locked(const char* data, std::size_t length) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (closed_) return;
    std::size_t sent = 0;
    if (queued_.empty() && !sending_) {
        // The usual case: nothing is waiting ahead of this message, and it
        // fits in the kernel's buffer; try_send() delivers it now.
        long n = net::try_send(socket_, data, length);
        if (n < 0) {  // the client is gone; its own thread will say so
            drop("");
            return;
        }
        sent = static_cast<std::size_t>(n);
    }
    if (sent == length) return;
    // The rest waits in the queue, behind what is already there.
    if (queued_.size() + (length - sent) > MAX_QUEUED) {
        drop("mais de 1 MiB esperando para ser enviado");
        return;
    }
    queued_.append(data + sent, length - sent);
    count(static_cast<long>(length - sent));
    if (!sender_.joinable()) {
        try {
            sender_ = std::thread(&Outbox::drain, this);
        } catch (const std::system_error&) {
            drop("sem recursos para uma thread de envio");
            return;
        }
    }
    wake_up_.notify_one();
}

void Outbox::drain() {
    std::unique_lock<std::mutex> lock(mutex_);
    while (true) {
        wake_up_.wait(lock, [&] { return closed_ || !queued_.empty(); });
        if (closed_) return;
        std::string pending;
        pending.swap(queued_);  // take the whole queue at once
        sending_ = true;
        lock.unlock();  // send() outside the lock: new messages keep queueing
        bool sent = net::send_all(socket_, pending.data(), pending.size());
        bool timed_out = !sent && net::timed_out();
        lock.lock();
        sending_ = false;
        count(-static_cast<long>(pending.size()));  // sent, or given up
        if (!sent) {
            drop(timed_out ? "não lê há " + std::to_string(int(SEND_TIMEOUT)) + " s" : "");
            return;
        }
    }
}

void Outbox::drop(const std::string& why) {
    if (closed_) return;
    closed_ = true;
    count(-static_cast<long>(queued_.size()));
    queued_.clear();
    wake_up_.notify_one();
    shutdown(socket_, SHUT_RDWR);  // wakes the recv() of the client's own thread
    if (!why.empty())  // one write, so the line does not mix with other threads'
        std::cout << ("Cliente lento desconectado: " + address_ + " (" + why + ")\n")
                  << std::flush;
}
