// common/outbox.cpp - see outbox.h.
#include "outbox.h"

#include <iostream>
#include <system_error>

Outbox::Outbox(socket_t socket, std::string address)
    : socket_(socket), address_(std::move(address)) {
    // The send thread's blocking send() gives up after SEND_TIMEOUT.
    net::set_timeout(socket_, SO_SNDTIMEO, SEND_TIMEOUT);
}

Outbox::~Outbox() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        closed_ = true;
        wake_up_.notify_one();
        // The client is leaving: a send() still waiting for it can stop now.
        if (sending_) shutdown(socket_, SHUT_RDWR);
    }
    if (sender_.joinable()) sender_.join();
}

void Outbox::send(const char* data, std::size_t length) {
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
        if (!sent) {
            drop(timed_out ? "não lê há " + std::to_string(int(SEND_TIMEOUT)) + " s" : "");
            return;
        }
    }
}

void Outbox::drop(const std::string& why) {
    if (closed_) return;
    closed_ = true;
    queued_.clear();
    wake_up_.notify_one();
    shutdown(socket_, SHUT_RDWR);  // wakes the recv() of the client's own thread
    if (!why.empty())  // one write, so the line does not mix with other threads'
        std::cout << ("Cliente lento desconectado: " + address_ + " (" + why + ")\n")
                  << std::flush;
}
