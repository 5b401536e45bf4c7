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
//   - a send() to it makes no progress for SEND_TIMEOUT seconds.
// Either way the server prints "Cliente lento desconectado: IP:PORTA (why)".
#pragma once

#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <string>
#include <thread>

#include "net.h"

class Outbox {
public:
    static constexpr std::size_t MAX_QUEUED = 1 << 20;  // 1 MiB
    static constexpr double SEND_TIMEOUT = 5.0;         // seconds

    // `address` ("IP:PORTA") is only for messages. Sets SO_SNDTIMEO on socket.
    Outbox(socket_t socket, std::string address);
    // Stops the send thread, if any, and waits for it. Does not close the socket.
    ~Outbox();
    Outbox(const Outbox&) = delete;
    Outbox& operator=(const Outbox&) = delete;

    // Sends `length` bytes to this client, in order, without ever waiting.
    void send(const char* data, std::size_t length);

private:
    void drain();                       // the send thread
    void drop(const std::string& why);  // with mutex_ held; "" = say nothing

    socket_t socket_;
    std::string address_;
    std::mutex mutex_;
    std::condition_variable wake_up_;  // wakes the send thread
    std::string queued_;               // bytes the kernel had no room for yet
    bool sending_ = false;             // the send thread is inside send()
    bool closed_ = false;              // dropped, or being destroyed
    std::thread sender_;               // only for a client that fell behind
};
