// common/net.h - the sockets layer shared by every example, in two parts.
//
// 1. The portability shim: what differs between POSIX (Linux, macOS) and
//    Windows (Winsock), and nothing else - Startup, close_socket, last_error
//    and error_text, interrupted, timed_out, try_send, set_reuse_address,
//    set_timeout, read_line, stdout_is_terminal (and socket_t, SHUT_*).
// 2. Named conveniences, the same on every system, each one a thing the
//    examples would otherwise write again and again: send_all, resolve,
//    family_of, fail, bind_hint, address_of, port_of, program_folder.
//
// Every socket call that matters for the lesson - socket, bind, listen,
// accept, connect, send, recv, shutdown - stays visible in the examples
// themselves. (Lines, deadlines: line_reader.h; the command line: args.h.)
//
// Read this file and net.cpp top to bottom; together they are short.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#ifdef _WIN32
// Winsock. winsock2.h must come before windows.h. _WIN32_WINNT >= 0x0600
// (Vista) is needed for inet_ntop and getaddrinfo.
#ifndef _WIN32_WINNT
#define _WIN32_WINNT 0x0600
#endif
#ifndef NOMINMAX
#define NOMINMAX
#endif
#include <winsock2.h>
#include <ws2tcpip.h>
#include <windows.h>
using socket_t = SOCKET;  // an unsigned handle on Windows
// Windows names the "how" argument of shutdown() differently.
#define SHUT_RD SD_RECEIVE
#define SHUT_WR SD_SEND
#define SHUT_RDWR SD_BOTH
#else
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>
using socket_t = int;  // a plain file descriptor on POSIX
#define INVALID_SOCKET (-1)
#endif

namespace net {

// Create one of these at the top of main(). On Windows its constructor calls
// WSAStartup (no socket call works before it) and switches the console to
// UTF-8; its destructor calls WSACleanup. On POSIX it ignores SIGPIPE, so a
// send() to a peer that has gone away returns an error (EPIPE) instead of
// silently killing the whole process.
class Startup {
public:
    Startup();
    ~Startup();
    Startup(const Startup&) = delete;
    Startup& operator=(const Startup&) = delete;
};

// close() on POSIX, closesocket() on Windows (where close() is for files).
int close_socket(socket_t s);

// The last socket error as readable text, in Portuguese for the errors a
// student meets, followed by the code's name and number so it can be looked
// up: "endereço já em uso (EADDRINUSE 98)"; on Windows, from
// WSAGetLastError(), "endereço já em uso (WSAEADDRINUSE 10048)". Any other
// code: the system's own text (strerror / FormatMessage) and the number.
// Call it right after the call that failed, before anything else can
// overwrite the error.
std::string last_error();

// The same text for a given code (errno on POSIX, a WSA code on Windows).
std::string error_text(int code);

// True when the last socket call failed only because it was interrupted by a
// signal (EINTR) and should simply be repeated.
bool interrupted();

// True when the last socket call failed because a timeout set with
// set_timeout() ran out (EAGAIN/EWOULDBLOCK on POSIX, WSAETIMEDOUT on Windows).
bool timed_out();

// send() may write only part of the buffer (Stevens, UNP 3.9): keep calling
// it until every byte has been handed to the kernel. Retries on EINTR. Returns
// false on error (peer gone, timeout); last_error() then says why.
bool send_all(socket_t s, const void* data, std::size_t len);

// Send what fits in the kernel's send buffer right now, without waiting:
// returns the number of bytes taken (0 when the buffer is full) or -1 on
// error. POSIX: send() with MSG_DONTWAIT. Winsock has no such flag: there a
// zero-timeout WSAPoll() asks whether the socket is writable first (a
// blocking send() of a small buffer on a writable socket does not wait).
long try_send(socket_t s, const void* data, std::size_t len);

// The result of getaddrinfo(), freed automatically with freeaddrinfo().
using AddrList = std::unique_ptr<addrinfo, void (*)(addrinfo*)>;

// Resolve a host name or address ("localhost", "127.0.0.1", "::1") and a port
// into the list of addresses to try, for sockets of type `socktype`
// (SOCK_STREAM: TCP; SOCK_DGRAM: UDP). passive = true for a server (an empty
// host then means "every interface"). family: AF_INET or AF_INET6 to get only
// that kind (the family of a socket already created, from family_of()),
// AF_UNSPEC for both. Either way the rule is the guide's, "localhost" is
// 127.0.0.1: family_of() gives AF_INET for every name, and with AF_UNSPEC the
// IPv4 addresses come first in the list. On failure the list is empty and
// error says why, in Portuguese (shown to the user).
AddrList resolve(const std::string& host, const std::string& port, bool passive,
                 std::string& error, int family = AF_UNSPEC, int socktype = SOCK_STREAM);

// The address family to create a socket for, before the address is resolved:
// AF_INET6 when the text is an IPv6 address (it has a ':'), else AF_INET,
// like the guide's AF_INET sockets ("localhost" -> 127.0.0.1).
int family_of(const std::string& host);

// Print "<what>: <last socket error>" on stderr and return 1, the exit code
// of a program that cannot go on: `return net::fail("Erro no listen");`.
int fail(const std::string& what);

// A hint to print after a failed bind(), from its error code:
// " (a porta já está em uso?)" when the port is taken, a different hint when
// the address is not one of this machine's (e.g. the router's public IP) or
// when a port below 1024 needs root, "" otherwise. Call it right after bind().
// With `tcp_address` (the address a TCP server tried to bind), a port "in use"
// where nothing listens (a connection to it is refused) is explained instead:
// old connections in TIME_WAIT, left by a server without SO_REUSEADDR (the
// guide's Python server), hold it for up to 60 s, and SO_REUSEADDR on this
// side does not help (Linux lets the port be shared only when both sides set
// it). The socket error (last_error()) is left as bind() set it.
std::string bind_hint(const sockaddr* tcp_address = nullptr);

// Let a server bind its port again right after it stops, while connections of
// the previous run still sit in TIME_WAIT. POSIX: SO_REUSEADDR. Windows:
// SO_EXCLUSIVEADDRUSE - there SO_REUSEADDR would let a second program steal a
// port that is in use, so the two must never be combined.
bool set_reuse_address(socket_t s);

// Give up a blocking send() or recv() on s after `seconds` (SO_SNDTIMEO /
// SO_RCVTIMEO; a timeval on POSIX, milliseconds in a DWORD on Windows).
bool set_timeout(socket_t s, int option, double seconds);

// TCP keepalive on a connection: after `idle` seconds without traffic the
// system sends a probe every `interval` seconds, and after `count` probes
// without an answer it drops the connection (recv() then fails with
// ETIMEDOUT). A peer that vanished without a FIN (a Wi-Fi drop, a closed lid)
// is then gone in idle + interval * count seconds, while a silent but present
// peer answers the probes and stays. Linux: SO_KEEPALIVE, TCP_KEEPIDLE,
// TCP_KEEPINTVL, TCP_KEEPCNT, and TCP_USER_TIMEOUT so that data waiting for an
// ACK gives up as soon; macOS: TCP_KEEPALIVE is the idle time; Windows:
// SIO_KEEPALIVE_VALS (the count is the system's, 10 since Vista).
bool set_keepalive(socket_t s, int idle, int interval, int count);

// The numeric address and the port of a sockaddr. IPv6 addresses come out
// as "::1".
std::string address_of(const sockaddr* sa);
unsigned port_of(const sockaddr* sa);

// An address and a port in one piece, for messages: "127.0.0.1:54321",
// "localhost:8000", and an IPv6 address in brackets, "[::1]:54321" (as in
// URLs, RFC 3986): in "::1:54321" the port would read as part of the address.
std::string host_port(const std::string& host, const std::string& port);
std::string host_port(const std::string& host, unsigned port);
// host_port() of a sockaddr: "Cliente conectado: [::1]:54321".
std::string endpoint_of(const sockaddr* sa);

// Read one line of user input as UTF-8, without the line ending. On a Windows
// console it reads UTF-16 (ReadConsoleW) and converts, so "Olá" typed there is
// the same bytes as on Linux. Returns false at end of input (Ctrl+D / Ctrl+Z).
bool read_line(std::string& line);

// The folder the program was started from, taken from argv[0] ("." when it
// was found through PATH): like os.path.dirname(__file__) in Python.
std::string program_folder(const char* argv0);

// True when standard output is a terminal (not a pipe or a file).
bool stdout_is_terminal();

}  // namespace net
