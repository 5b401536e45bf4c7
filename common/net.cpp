// common/net.cpp - see net.h for what each function is for.
#include "net.h"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <iostream>
#ifdef _WIN32
#include <mstcpip.h>  // SIO_KEEPALIVE_VALS, for set_keepalive()
#endif

namespace net {

// The system's own text for an error code (used for codes not in the table
// of Portuguese texts below).
static std::string system_text(int code);

#ifdef _WIN32

Startup::Startup() {
    WSADATA wsa;
    // Ask for Winsock 2.2, the version every Windows since 98 provides.
    if (WSAStartup(MAKEWORD(2, 2), &wsa) != 0) {
        std::cerr << "Erro: WSAStartup falhou\n";
        std::exit(1);
    }
    // Console output in UTF-8, so "conexão" is not printed as "conexÃ£o".
    SetConsoleOutputCP(CP_UTF8);
}

Startup::~Startup() { WSACleanup(); }

int close_socket(socket_t s) { return closesocket(s); }

std::string last_error() { return error_text(WSAGetLastError()); }

static std::string system_text(int code) {
    wchar_t* text = nullptr;
    FormatMessageW(FORMAT_MESSAGE_ALLOCATE_BUFFER | FORMAT_MESSAGE_FROM_SYSTEM |
                       FORMAT_MESSAGE_IGNORE_INSERTS,
                   nullptr, code, 0, reinterpret_cast<wchar_t*>(&text), 0, nullptr);
    std::string out = "erro";
    if (text) {
        char utf8[512];
        int n = WideCharToMultiByte(CP_UTF8, 0, text, -1, utf8, sizeof utf8, nullptr, nullptr);
        LocalFree(text);
        if (n > 1) out = std::string(utf8, n - 1);
        while (!out.empty() && (out.back() == '\n' || out.back() == '\r' || out.back() == '.'))
            out.pop_back();
    }
    return out;
}

bool interrupted() { return WSAGetLastError() == WSAEINTR; }

bool timed_out() { return WSAGetLastError() == WSAETIMEDOUT; }

bool set_reuse_address(socket_t s) {
    BOOL on = TRUE;
    return setsockopt(s, SOL_SOCKET, SO_EXCLUSIVEADDRUSE,
                      reinterpret_cast<const char*>(&on), sizeof on) == 0;
}

bool set_timeout(socket_t s, int option, double seconds) {
    DWORD ms = static_cast<DWORD>(seconds * 1000);
    return setsockopt(s, SOL_SOCKET, option, reinterpret_cast<const char*>(&ms),
                      sizeof ms) == 0;
}

bool stdout_is_terminal() {
    DWORD mode;
    return GetConsoleMode(GetStdHandle(STD_OUTPUT_HANDLE), &mode) != 0;
}

bool read_line(std::string& line) {
    HANDLE in = GetStdHandle(STD_INPUT_HANDLE);
    DWORD mode;
    if (!GetConsoleMode(in, &mode)) {  // not a console: a pipe or a file
        if (!std::getline(std::cin, line)) return false;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        return true;
    }
    std::wstring wide;
    wchar_t ch;
    DWORD got;
    for (;;) {  // one UTF-16 unit at a time until Enter
        if (!ReadConsoleW(in, &ch, 1, &got, nullptr) || got == 0) return !wide.empty();
        if (ch == L'\n') break;
        if (ch == 26 && wide.empty()) return false;  // Ctrl+Z: end of input
        if (ch != L'\r') wide += ch;
    }
    int n = WideCharToMultiByte(CP_UTF8, 0, wide.data(), static_cast<int>(wide.size()),
                                nullptr, 0, nullptr, nullptr);
    line.assign(static_cast<std::size_t>(n), '\0');
    WideCharToMultiByte(CP_UTF8, 0, wide.data(), static_cast<int>(wide.size()), &line[0], n,
                        nullptr, nullptr);
    return true;
}

#else  // POSIX

Startup::Startup() { std::signal(SIGPIPE, SIG_IGN); }

Startup::~Startup() = default;

int close_socket(socket_t s) { return close(s); }

std::string last_error() { return error_text(errno); }

static std::string system_text(int code) { return std::strerror(code); }

bool interrupted() { return errno == EINTR; }

bool timed_out() { return errno == EAGAIN || errno == EWOULDBLOCK; }

bool set_reuse_address(socket_t s) {
    int on = 1;
    return setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) == 0;
}

bool set_timeout(socket_t s, int option, double seconds) {
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(seconds);
    tv.tv_usec = static_cast<suseconds_t>((seconds - static_cast<double>(tv.tv_sec)) * 1e6);
    return setsockopt(s, SOL_SOCKET, option, &tv, sizeof tv) == 0;
}

bool stdout_is_terminal() { return isatty(STDOUT_FILENO) != 0; }

bool read_line(std::string& line) {
    if (!std::getline(std::cin, line)) return false;
    if (!line.empty() && line.back() == '\r') line.pop_back();  // typed on Windows, piped here
    return true;
}

#endif

// The errors a student meets, in Portuguese. CODE(EADDRINUSE) gives the
// number and the name: EADDRINUSE on POSIX, WSAEADDRINUSE on Windows.
#ifdef _WIN32
#define CODE(name) WSA##name, "WSA" #name
#else
#define CODE(name) name, #name
#endif
struct KnownError {
    int code;
    const char* name;
    const char* text;
};
static const KnownError KNOWN_ERRORS[] = {
    {CODE(EADDRINUSE), "endereço já em uso"},
    {CODE(EADDRNOTAVAIL), "endereço não disponível nesta máquina"},
    {CODE(ECONNREFUSED), "conexão recusada"},
    {CODE(ECONNRESET), "conexão derrubada pelo outro lado (RST)"},
    {CODE(ECONNABORTED), "conexão abortada"},
    {CODE(ETIMEDOUT), "tempo esgotado"},
    {CODE(ENETUNREACH), "rede inalcançável (sem rota)"},
    {CODE(EHOSTUNREACH), "máquina inalcançável (sem rota)"},
    {CODE(ENETDOWN), "rede fora do ar"},
    {CODE(EHOSTDOWN), "máquina fora do ar"},
    {CODE(EMFILE), "arquivos abertos demais neste programa"},
    {CODE(EACCES), "permissão negada"},
    {CODE(EMSGSIZE), "mensagem grande demais para um datagrama"},
    {CODE(ENOBUFS), "sem espaço nos buffers do sistema"},
    {CODE(ENOTCONN), "o socket não está conectado"},
    {CODE(EAFNOSUPPORT), "família de endereços não suportada (IPv6 desligado?)"},
    {CODE(EINVAL), "argumento inválido"},
    {CODE(EINTR), "interrompido por um sinal"},
#ifdef _WIN32
    {CODE(EWOULDBLOCK), "nada chegou dentro do prazo"},
    {CODE(ESHUTDOWN), "a conexão já foi fechada para envio"},
#else
    {CODE(EAGAIN), "nada chegou dentro do prazo"},  // = EWOULDBLOCK; SO_RCVTIMEO gives it
    {CODE(EPIPE), "conexão fechada pelo outro lado"},
    {CODE(ENFILE), "arquivos abertos demais no sistema"},
    {CODE(EPERM), "operação não permitida"},
    {CODE(ENOENT), "arquivo ou pasta não existe"},
    {CODE(ENOTDIR), "um dos nomes do caminho não é uma pasta"},
#endif
};
#undef CODE

std::string error_text(int code) {
    for (const KnownError& known : KNOWN_ERRORS)
        if (known.code == code)
            return std::string(known.text) + " (" + known.name + " " + std::to_string(code) + ")";
    return system_text(code) + " (" + std::to_string(code) + ")";
}

bool send_all(socket_t s, const void* data, std::size_t len) {
    const char* p = static_cast<const char*>(data);
#ifdef MSG_NOSIGNAL
    const int flags = MSG_NOSIGNAL;  // Linux: no SIGPIPE for this call either
#else
    const int flags = 0;
#endif
    while (len > 0) {
        // Winsock takes an int length; never ask for more than 1 GiB at once.
        int chunk = static_cast<int>(len < (1u << 30) ? len : (1u << 30));
        auto n = send(s, p, chunk, flags);
        if (n < 0) {
            if (interrupted()) continue;  // a signal arrived: just try again
            return false;
        }
        p += n;
        len -= static_cast<std::size_t>(n);
    }
    return true;
}

long try_send(socket_t s, const void* data, std::size_t len) {
    int chunk = static_cast<int>(len < (1u << 30) ? len : (1u << 30));
#ifdef _WIN32
    WSAPOLLFD entry{};
    entry.fd = s;
    entry.events = POLLWRNORM;
    int ready = WSAPoll(&entry, 1, 0);  // 0 ms: only ask, never wait
    if (ready < 0) return -1;
    if (ready == 0) return 0;  // not writable: the buffer is full
    auto n = send(s, static_cast<const char*>(data), chunk, 0);
    return n < 0 ? -1 : static_cast<long>(n);
#else
#ifdef MSG_NOSIGNAL
    const int flags = MSG_DONTWAIT | MSG_NOSIGNAL;
#else
    const int flags = MSG_DONTWAIT;
#endif
    for (;;) {
        auto n = send(s, data, static_cast<std::size_t>(chunk), flags);
        if (n >= 0) return static_cast<long>(n);
        if (interrupted()) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;  // full: nothing taken
        return -1;
    }
#endif
}

AddrList resolve(const std::string& host, const std::string& port, bool passive,
                 std::string& error, int family, int socktype) {
    addrinfo hints{};
    hints.ai_family = family;      // AF_UNSPEC: IPv4 or IPv6, whatever the name gives
    hints.ai_socktype = socktype;  // SOCK_STREAM (TCP) or SOCK_DGRAM (UDP)
    hints.ai_flags = passive ? AI_PASSIVE : 0;
    addrinfo* list = nullptr;
    int rc = getaddrinfo(host.empty() ? nullptr : host.c_str(), port.c_str(), &hints, &list);
    if (rc != 0) {
        // The resolver's errors have their own codes (EAI_*), not errno.
        std::string why = rc == EAI_NONAME  ? "nome não encontrado (EAI_NONAME)"
                          : rc == EAI_AGAIN ? "o DNS não respondeu; tente de novo (EAI_AGAIN)"
                                            : std::string(gai_strerror(rc));
        error = "não foi possível resolver o endereço " + host + ": " + why;
        return AddrList(nullptr, freeaddrinfo);
    }
    // "localhost" usually gives both ::1 and 127.0.0.1. Put IPv4 first, like
    // the guide's AF_INET sockets, so captures show 127.0.0.1 as in the guide.
    addrinfo** link = &list;
    for (addrinfo** p = &list; *p;) {
        if ((*p)->ai_family == AF_INET && p != link) {
            addrinfo* found = *p;
            *p = found->ai_next;     // unlink it here...
            found->ai_next = *link;  // ...and relink it after the IPv4 ones
            *link = found;
            link = &found->ai_next;
        } else {
            if ((*p)->ai_family == AF_INET) link = &(*p)->ai_next;
            p = &(*p)->ai_next;
        }
    }
    return AddrList(list, freeaddrinfo);
}

int family_of(const std::string& host) {
    return host.find(':') != std::string::npos ? AF_INET6 : AF_INET;
}

int fail(const std::string& what) {
    std::string error = last_error();  // before the output below can change it
    std::cerr << what << ": " << error << std::endl;
    return 1;
}

// True when a TCP connection to `address` is refused: nothing listens there.
// A wildcard address (0.0.0.0, ::) is tried as loopback.
static bool nothing_listens(const sockaddr* address) {
    sockaddr_storage to{};
    socklen_t length = 0;
    if (address->sa_family == AF_INET) {
        auto* v4 = reinterpret_cast<sockaddr_in*>(&to);
        *v4 = *reinterpret_cast<const sockaddr_in*>(address);
        if (v4->sin_addr.s_addr == htonl(INADDR_ANY)) v4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        length = sizeof *v4;
    } else if (address->sa_family == AF_INET6) {
        auto* v6 = reinterpret_cast<sockaddr_in6*>(&to);
        *v6 = *reinterpret_cast<const sockaddr_in6*>(address);
        if (IN6_IS_ADDR_UNSPECIFIED(&v6->sin6_addr)) v6->sin6_addr = in6addr_loopback;
        length = sizeof *v6;
    } else {
        return false;
    }
    socket_t probe = socket(to.ss_family, SOCK_STREAM, 0);
    if (probe == INVALID_SOCKET) return false;
    set_timeout(probe, SO_SNDTIMEO, 1.0);  // Linux: a connect() that waits gives up after 1 s
    const bool refused = connect(probe, reinterpret_cast<const sockaddr*>(&to), length) != 0 &&
#ifdef _WIN32
                         WSAGetLastError() == WSAECONNREFUSED;
#else
                         errno == ECONNREFUSED;
#endif
    close_socket(probe);
    return refused;
}

std::string bind_hint(const sockaddr* tcp_address) {
#ifdef _WIN32
    int code = WSAGetLastError();
    const bool in_use = code == WSAEADDRINUSE || code == WSAEACCES;
    const bool not_here = code == WSAEADDRNOTAVAIL;
    const bool needs_root = false;
    const char* const list_command = "netstat -an | findstr :";
#else
    int code = errno;
    const bool in_use = errno == EADDRINUSE;
    const bool not_here = errno == EADDRNOTAVAIL;
    const bool needs_root = errno == EACCES;  // Linux: ports below 1024 need root
    const char* const list_command = "ss -tan sport = :";
#endif
    const bool time_wait = in_use && tcp_address && nothing_listens(tcp_address);
#ifdef _WIN32
    WSASetLastError(code);  // as bind() left it (the probe changed it), for last_error()
#else
    errno = code;
#endif
    if (time_wait)
        return " (nada escuta nesta porta: ela está presa por conexões antigas em TIME_WAIT, "
               "de um servidor sem SO_REUSEADDR, como o Servidor.py; fica livre em até 60 s. "
               "Veja com: " + std::string(list_command) + std::to_string(port_of(tcp_address)) + ")";
    if (in_use) return " (a porta já está em uso?)";
    if (needs_root) return " (portas abaixo de 1024 exigem root: use uma porta acima de 1023)";
    // The guide's "put your public IP in the server": that IP is the router's.
    if (not_here) return " (este IP não pertence a esta máquina: use 0.0.0.0 ou o IP da rede local)";
    return "";
}

// ---- TCP keepalive (see net.h) ----

bool set_keepalive(socket_t s, int idle, int interval, int count) {
#ifdef _WIN32
    (void)count;  // the system's: 10 probes
    tcp_keepalive values{};
    values.onoff = 1;
    values.keepalivetime = static_cast<ULONG>(idle) * 1000;  // milliseconds
    values.keepaliveinterval = static_cast<ULONG>(interval) * 1000;
    DWORD returned = 0;
    return WSAIoctl(s, SIO_KEEPALIVE_VALS, &values, sizeof values, nullptr, 0, &returned,
                    nullptr, nullptr) == 0;
#else
    int on = 1;
    bool ok = setsockopt(s, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on) == 0;
#if defined(TCP_KEEPIDLE)
    ok = ok && setsockopt(s, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle) == 0;
#elif defined(TCP_KEEPALIVE)  // macOS
    ok = ok && setsockopt(s, IPPROTO_TCP, TCP_KEEPALIVE, &idle, sizeof idle) == 0;
#endif
#if defined(TCP_KEEPINTVL) && defined(TCP_KEEPCNT)
    ok = ok && setsockopt(s, IPPROTO_TCP, TCP_KEEPINTVL, &interval, sizeof interval) == 0;
    ok = ok && setsockopt(s, IPPROTO_TCP, TCP_KEEPCNT, &count, sizeof count) == 0;
#endif
#ifdef TCP_USER_TIMEOUT  // Linux: unacknowledged data gives up in the same time
    unsigned timeout_ms = static_cast<unsigned>(idle + interval * count) * 1000u;
    ok = ok && setsockopt(s, IPPROTO_TCP, TCP_USER_TIMEOUT, &timeout_ms, sizeof timeout_ms) == 0;
#endif
    return ok;
#endif
}

std::string address_of(const sockaddr* sa) {
    char text[INET6_ADDRSTRLEN] = "?";
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(sa)->sin_addr, text, sizeof text);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr, text,
                  sizeof text);
    return text;
}

unsigned port_of(const sockaddr* sa) {
    if (sa->sa_family == AF_INET)
        return ntohs(reinterpret_cast<const sockaddr_in*>(sa)->sin_port);
    if (sa->sa_family == AF_INET6)
        return ntohs(reinterpret_cast<const sockaddr_in6*>(sa)->sin6_port);
    return 0;
}

std::string host_port(const std::string& host, const std::string& port) {
    const bool ipv6 = host.find(':') != std::string::npos;
    return (ipv6 ? "[" + host + "]" : host) + ":" + port;
}

std::string host_port(const std::string& host, unsigned port) {
    return host_port(host, std::to_string(port));
}

std::string endpoint_of(const sockaddr* sa) { return host_port(address_of(sa), port_of(sa)); }

std::string program_folder(const char* argv0) {
    std::string path = argv0 ? argv0 : "";
    auto slash = path.find_last_of("/\\");
    if (slash == std::string::npos) return ".";
    return slash == 0 ? path.substr(0, 1) : path.substr(0, slash);
}

}  // namespace net
