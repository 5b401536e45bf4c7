// common/outbox.h - a chat client's outgoing queue: send() never waits.
//
// The guide's broadcast calls client.send() for each client in turn. A client
// that stops reading (stuck, or on purpose) fills its kernel buffers, and from
// then on send() to it blocks - and with it the broadcast, for everyone.
//
// An Outbox hands what fits to the kernel at once (net::try_send) and queues
// the rest, in order. A send thread, created only for a client that falls
// behind (creating a thread costs ~0.1 ms; most clients never need one),
// drains the queue with ordinary blocking sends. A client is dropped - its
// socket is shut down, which wakes the thread reading from it - when:
//   - its queue passes MAX_QUEUED bytes (bounded memory per client; a
//     reader merely 1 MiB behind a flood is dropped too, like IRC's
//     "SendQ exceeded"), or
//   - a send() to it makes no progress for SEND_TIMEOUT seconds, or
//   - what ALL the queues of the server hold together passes MAX_TOTAL
//     bytes and this client is the furthest behind (the longest queue):
//     a thousand clients that never read would otherwise each hold their
//     MiB, a thousand MiB in all. The furthest behind goes first, until the
//     total is back under the bound.
// Either way the server prints "Cliente lento desconectado: IP:PORTA (why)".
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "net.h"

class Outbox {
public:
    static constexpr std::size_t MAX_QUEUED = 1 << 20;  // 1 MiB
    static constexpr double SEND_TIMEOUT = 5.0;         // seconds
    static constexpr std::size_t MAX_TOTAL = 32 << 20;  // 32 MiB, all queues together

    // `address` ("IP:PORTA") is only for messages. Sets SO_SNDTIMEO on socket.
    Outbox(socket_t socket, std::string address);
    // Stops the send thread, if any, and waits for it. Does not close the socket.
    ~Outbox();
    Outbox(const Outbox&) = delete;
    Outbox& operator=(const Outbox&) = delete;

    // Sends `length` bytes to this client, in order, without ever waiting.
    void send(const char* data, std::size_t length);

    // Bytes queued by every Outbox of the program together (for tests).
    static std::size_t total_queued() { return total_; }

private:
    void send_locked(const char* data, std::size_t length);
    void drain();                       // the send thread
    void drop(const std::string& why);  // with mutex_ held; "" = say nothing
    void count(long bytes);             // with mutex_ held: queued_bytes_ and total_
    static void drop_furthest_behind();  // while total_ > MAX_TOTAL

    // Every Outbox, to find the furthest behind. Lock order: all_mutex_, then
    // one Outbox's mutex_ (never two Outboxes' at once).
    static std::mutex all_mutex_;
    static std::set<Outbox*> all_;
    static std::atomic<std::size_t> total_;
    std::atomic<std::size_t> queued_bytes_{0};  // this one's share of total_

    socket_t socket_;
    std::string address_;
    std::mutex mutex_;
    std::condition_variable wake_up_;  // wakes the send thread
    std::string queued_;               // bytes the kernel had no room for yet
    bool sending_ = false;             // the send thread is inside send()
    bool closed_ = false;              // dropped, or being destroyed
    std::thread sender_;               // only for a client that fell behind
};
