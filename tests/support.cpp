#include "support.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>

extern char** environ;

namespace lab {

std::string bin(const std::string& relative) {
    if (!relative.empty() && relative[0] == '/') return relative;  // a copy, e.g. in a TempDir
    const char* dir = std::getenv("LAB_BIN_DIR");
    return std::string(dir && *dir ? dir : LAB_BIN_DIR) + "/" + relative;
}

int free_port() {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;  // the kernel picks a free one
    socklen_t len = sizeof a;
    if (bind(fd, reinterpret_cast<sockaddr*>(&a), len) != 0 ||
        getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0)
        throw std::runtime_error("free_port failed");
    close(fd);
    int port = ntohs(a.sin_port);
    return port == 8000 ? free_port() : port;
}

Process::Process(const std::vector<std::string>& argv) {
    int in[2], out[2], err[2];
    if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC))
        throw std::runtime_error("pipe failed");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, in[0], 0);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    posix_spawn_file_actions_adddup2(&actions, err[1], 2);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    int rc = posix_spawnp(&pid_, args[0], &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    close(in[0]);
    close(out[1]);
    close(err[1]);
    in_ = in[1];
    out_ = out[0];
    err_ = err[0];
    if (rc != 0) {
        close(in_);
        close(out_);
        close(err_);
        throw std::runtime_error("cannot start " + argv[0] + ": " + std::strerror(rc));
    }
    reader_ = std::thread(&Process::read_loop, this);
}

Process::~Process() {
    if (!status_) {
        ::kill(pid_, SIGKILL);
        wait_exit(5000ms);
    }
    // A grandchild (e.g. a wine service) may still hold the pipes open: the
    // reader gives up within a second instead of waiting for it forever.
    stop_ = true;
    if (reader_.joinable()) reader_.join();
    if (in_ >= 0) close(in_);
}

void Process::read_loop() {
    pollfd fds[2] = {{out_, POLLIN, 0}, {err_, POLLIN, 0}};
    int open = 2;
    char buf[65536];
    while (open > 0 && !stop_) {
        if (poll(fds, 2, 200) < 0 && errno != EINTR) break;
        for (auto& p : fds) {
            if (p.fd < 0 || !(p.revents & (POLLIN | POLLHUP | POLLERR))) continue;
            ssize_t n = read(p.fd, buf, sizeof buf);
            if (n > 0) {
                std::lock_guard<std::mutex> lock(mutex_);
                (p.fd == out_ ? out_text_ : err_text_).append(buf, static_cast<std::size_t>(n));
            } else if (n == 0 || errno != EINTR) {
                close(p.fd);
                p.fd = -1;
                --open;
            }
            changed_.notify_all();
        }
    }
    for (auto& p : fds)
        if (p.fd >= 0) close(p.fd);
    std::lock_guard<std::mutex> lock(mutex_);
    eof_ = true;
    changed_.notify_all();
}

void Process::write_stdin(const std::string& text) {
    // A child that has already exited makes write() raise SIGPIPE, which would
    // kill the whole test binary (exit 141, no report). SIGPIPE is blocked in
    // this thread for the write, and a pending one is taken back afterwards, so
    // the test sees EPIPE and goes on to its checks (the children keep the
    // default: nothing is inherited, since only this thread's mask changes).
    sigset_t pipe_only, old_mask;
    sigemptyset(&pipe_only);
    sigaddset(&pipe_only, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_only, &old_mask);
    const char* p = text.data();
    std::size_t left = text.size();
    bool broken = false;
    while (left > 0) {
        ssize_t n = write(in_, p, left);
        if (n < 0) {
            if (errno == EINTR) continue;
            broken = errno == EPIPE;
            break;
        }
        p += n;
        left -= static_cast<std::size_t>(n);
    }
    if (broken) {
        const timespec now = {0, 0};
        while (sigtimedwait(&pipe_only, nullptr, &now) == SIGPIPE) {
        }
    }
    pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
}

void Process::close_stdin() {
    if (in_ >= 0) close(in_);
    in_ = -1;
}

bool Process::wait_output(const std::string& text, Duration timeout, int count, bool err) {
    std::unique_lock<std::mutex> lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] {
        return count_of(err ? err_text_ : out_text_, text) >= count;
    });
}

std::string Process::out() {
    std::lock_guard<std::mutex> lock(mutex_);
    return out_text_;
}

std::string Process::err() {
    std::lock_guard<std::mutex> lock(mutex_);
    return err_text_;
}

std::optional<int> Process::wait_exit(Duration timeout) {
    auto deadline = Clock::now() + timeout;
    while (!status_) {
        int st = 0;
        pid_t r = waitpid(pid_, &st, WNOHANG);
        if (r == pid_) {
            status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
            if (WIFSIGNALED(st)) signal_ = WTERMSIG(st);
            // Let the reader collect the last output the child wrote before
            // exiting (bounded: a grandchild could keep the pipes open).
            std::unique_lock<std::mutex> lock(mutex_);
            changed_.wait_for(lock, 2000ms, [&] { return eof_; });
            break;
        }
        if (Clock::now() >= deadline) return std::nullopt;
        std::this_thread::sleep_for(5ms);
    }
    return status_;
}

void Process::kill(int sig) {
    if (!status_) ::kill(pid_, sig);
}

std::string need_root(const std::string& what_for, const std::string& by_hand) {
    if (geteuid() == 0) return "";
    return "not root: " + what_for + " (CI runs as root)" + (by_hand.empty() ? "" : "; by hand: " + by_hand);
}

std::string need_tools(const std::vector<std::string>& tools, const std::string& extra) {
    std::string missing;
    for (const auto& tool : tools)
        if (std::system(("command -v " + tool + " >/dev/null 2>&1").c_str()) != 0)
            missing += (missing.empty() ? "" : ", ") + tool;
    if (missing.empty()) return "";
    return missing + " not installed (make test installs it on Debian/Ubuntu: scripts/deps.sh " + extra + ")";
}

std::string need_python(const std::string& module, const std::string& package) {
    const std::string probe = "/usr/bin/python3 -c 'import " + module + "' >/dev/null 2>&1";
    if (std::system(probe.c_str()) == 0) return "";
    return "/usr/bin/python3 with " + module + " (" + package +
           ") is not installed (make test installs it on Debian/Ubuntu)";
}

std::string first_of(std::initializer_list<std::string> reasons) {
    for (const auto& why : reasons)
        if (!why.empty()) return why;
    return "";
}

namespace {

// Knows the running test case's name and counts the skips; at the end of the
// run it says how many cases skipped a part (after doctest's own summary).
struct SkipListener : doctest::IReporter {
    static std::string current;
    static int skipped;
    explicit SkipListener(const doctest::ContextOptions&) {}
    void report_query(const doctest::QueryData&) override {}
    void test_run_start() override {}
    void test_run_end(const doctest::TestRunStats&) override {
        if (skipped > 0)
            std::cout << "SKIPPED in this program: " << skipped
                      << " (above, each with its reason; doctest counted them as passed)\n";
    }
    void test_case_start(const doctest::TestCaseData& data) override { current = data.m_name; }
    void test_case_reenter(const doctest::TestCaseData&) override {}
    void test_case_end(const doctest::CurrentTestCaseStats&) override {}
    void test_case_exception(const doctest::TestCaseException&) override {}
    void subcase_start(const doctest::SubcaseSignature&) override {}
    void subcase_end() override {}
    void log_assert(const doctest::AssertData&) override {}
    void log_message(const doctest::MessageData&) override {}
    void test_case_skipped(const doctest::TestCaseData&) override {}
};
std::string SkipListener::current;
int SkipListener::skipped = 0;
REGISTER_LISTENER("lab_skips", 1, SkipListener);

}  // namespace

void skip(const std::string& why) {
    ++SkipListener::skipped;
    std::cout << "SKIPPED: " << SkipListener::current << ": " << why << std::endl;
}

int skip_program(const std::string& why) {
    std::cout << "SKIPPED: " << why << std::endl;
    return 77;
}

int count_of(const std::string& haystack, const std::string& needle) {
    int n = 0;
    for (auto pos = haystack.find(needle); pos != std::string::npos;
         pos = haystack.find(needle, pos + needle.size()))
        ++n;
    return n;
}

Server start_server(const std::string& program, const std::vector<std::string>& extra) {
    for (int attempt = 0; attempt < 5; ++attempt) {
        Server s;
        s.port = free_port();
        std::vector<std::string> argv = {bin(program), "127.0.0.1", std::to_string(s.port)};
        argv.insert(argv.end(), extra.begin(), extra.end());
        s.process = std::make_unique<Process>(argv);
        if (s.process->wait_output("Aguardando", 5000ms)) return s;
        // The port was taken between free_port() and bind(): try another.
    }
    throw std::runtime_error("server " + program + " did not start");
}

int connect_to(int port, const std::string& host) {
    int fd = socket(host.find(':') != std::string::npos ? AF_INET6 : AF_INET,
                    SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    int rc;
    if (host.find(':') != std::string::npos) {
        sockaddr_in6 a{};
        a.sin6_family = AF_INET6;
        a.sin6_port = htons(static_cast<uint16_t>(port));
        inet_pton(AF_INET6, host.c_str(), &a.sin6_addr);
        rc = connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    } else {
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(static_cast<uint16_t>(port));
        inet_pton(AF_INET, host.c_str(), &a.sin_addr);
        rc = connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    }
    if (rc != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

unsigned local_port(int fd) {
    sockaddr_in a{};
    socklen_t len = sizeof a;
    getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    return ntohs(a.sin_port);
}

bool send_bytes(int fd, const std::string& bytes) {
    std::size_t done = 0;
    while (done < bytes.size()) {
        ssize_t n = send(fd, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        done += static_cast<std::size_t>(n);
    }
    return true;
}

// Wait up to `deadline` for fd to be readable; false on timeout.
static bool readable(int fd, Clock::time_point deadline) {
    for (;;) {
        auto left = std::chrono::duration_cast<Duration>(deadline - Clock::now()).count();
        if (left <= 0) return false;
        pollfd p{fd, POLLIN, 0};
        int r = poll(&p, 1, static_cast<int>(left));
        if (r > 0) return true;
        if (r < 0 && errno != EINTR) return false;
    }
}

std::string recv_exactly(int fd, std::size_t n, Duration timeout) {
    std::string data;
    auto deadline = Clock::now() + timeout;
    char buf[65536];
    while (data.size() < n && readable(fd, deadline)) {
        std::size_t want = std::min(sizeof buf, n - data.size());
        ssize_t got = recv(fd, buf, want, 0);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) break;
        data.append(buf, static_cast<std::size_t>(got));
    }
    return data;
}

std::string recv_until_close(int fd, Duration timeout, bool* closed) {
    std::string data;
    auto deadline = Clock::now() + timeout;
    char buf[65536];
    if (closed) *closed = false;
    while (readable(fd, deadline)) {
        ssize_t got = recv(fd, buf, sizeof buf, 0);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) {
            if (closed) *closed = true;
            break;
        }
        data.append(buf, static_cast<std::size_t>(got));
    }
    return data;
}

int listen_local(int& port) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (bind(fd, reinterpret_cast<sockaddr*>(&a), len) != 0 || listen(fd, 16) != 0 ||
        getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0)
        throw std::runtime_error("listen_local failed");
    port = ntohs(a.sin_port);
    return fd;
}

int accept_within(int listener, Duration timeout) {
    if (!readable(listener, Clock::now() + timeout)) return -1;
    return accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
}

std::string recv_line(int fd, Duration timeout) {
    std::string line;
    auto deadline = Clock::now() + timeout;
    char c;
    // One byte at a time: slow, but never reads past the line.
    while (readable(fd, deadline)) {
        ssize_t got = recv(fd, &c, 1, 0);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) return "";
        if (c == '\n') return line;
        line += c;
    }
    return "";
}

void reset_close(int fd) {
    linger l{1, 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    close(fd);
}

int connect_from(int port, const std::string& source) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    sockaddr_in from{};
    from.sin_family = AF_INET;
    inet_pton(AF_INET, source.c_str(), &from.sin_addr);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(static_cast<uint16_t>(port));
    inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
    if (bind(fd, reinterpret_cast<sockaddr*>(&from), sizeof from) != 0 ||
        connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

void close_fd(int fd) {
    if (fd >= 0) close(fd);
}

std::string read_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

TempDir::TempDir() {
    std::string t = (std::filesystem::temp_directory_path() / "lab-test-XXXXXX").string();
    if (!mkdtemp(&t[0])) throw std::runtime_error("mkdtemp failed");
    path = t;
}

TempDir::~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
}

std::vector<std::string> TempDir::names() const {
    std::vector<std::string> out;
    for (const auto& e : std::filesystem::directory_iterator(path))
        out.push_back(e.path().filename().string());
    return out;
}

int open_fds(pid_t pid) {
    int n = 0;
    DIR* d = opendir(("/proc/" + std::to_string(pid) + "/fd").c_str());
    if (!d) return -1;
    while (dirent* e = readdir(d))
        if (e->d_name[0] != '.') ++n;
    closedir(d);
    return n;
}

int thread_count(pid_t pid) {
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(status, line))
        if (line.rfind("Threads:", 0) == 0) return std::atoi(line.c_str() + 8);
    return -1;
}

bool wait_threads(pid_t pid, int n, Duration timeout) {
    auto deadline = Clock::now() + timeout;
    while (thread_count(pid) != n) {
        if (Clock::now() >= deadline) return false;
        std::this_thread::sleep_for(10ms);
    }
    return true;
}

}  // namespace lab
