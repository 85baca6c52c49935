// The HTTP server of `pgmig health --serve`: a reading thread with deadlines and limits in front of httplib's
// parser and router, and a fixed pool of workers with a bounded queue (see health_server.hpp).
#include "client/ops/health_server.hpp"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>

namespace pgmig::client {

struct HealthHttpServer::Connection {
    int fd = -1;
    std::string in;              // received, not yet answered
    std::size_t scanned = 0;     // bytes of `in` already searched for the end of the headers
    Clock::time_point since;     // when the server began waiting for the current request
    Clock::time_point deadline;  // since + read timeout
    int served = 0;              // requests answered on this connection
};

namespace {

const char* reason_phrase(int status) {
    switch (status) {
        case 400:
            return "Bad Request";
        case 408:
            return "Request Timeout";
        case 411:
            return "Length Required";
        case 413:
            return "Content Too Large";
        case 431:
            return "Request Header Fields Too Large";
        case 503:
            return "Service Unavailable";
        default:
            return "Error";
    }
}

// Log lines never carry control characters: a path is what a client sent, and %0a would forge a line.
std::string printable(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (const char c : text) out += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? '?' : c;
    return out;
}

// Sends all of data before the deadline (a deadline already past: only what the socket takes at once).
bool send_all(int fd, std::string_view data, std::chrono::steady_clock::time_point deadline) {
    std::size_t sent = 0;
    while (sent < data.size()) {
        const ssize_t n = ::send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
        if (n > 0) {
            sent += static_cast<std::size_t>(n);
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) return false;
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) return false;
        pollfd p{fd, POLLOUT, 0};
        if (poll(&p, 1, static_cast<int>(std::min<long long>(left.count(), 60000))) < 0 && errno != EINTR) return false;
    }
    return true;
}

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
           });
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

// "GET /health/live?x HTTP/1.1" -> method "GET", target "/health/live?x"
void request_line(std::string_view head, std::string_view& method, std::string_view& target) {
    const std::string_view line = head.substr(0, head.find("\r\n"));
    const auto sp1 = line.find(' ');
    method = line.substr(0, std::min(sp1, std::size_t{16}));
    if (sp1 == std::string_view::npos) {
        target = {};
        return;
    }
    const auto rest = line.substr(sp1 + 1);
    target = rest.substr(0, rest.find(' '));
}

std::string_view path_of(std::string_view target) { return target.substr(0, target.find('?')); }

// One request's bytes for httplib; what it writes is collected and sent in one piece afterwards.
class RequestStream final : public httplib::Stream {
  public:
    RequestStream(int fd, std::string_view request, std::string& out) : fd_(fd), in_(request), out_(out) {}

    bool is_readable() const override { return pos_ < in_.size(); }
    bool is_writable() const override { return true; }
    ssize_t read(char* ptr, size_t size) override {
        const std::size_t n = std::min(size, in_.size() - pos_);
        std::memcpy(ptr, in_.data() + pos_, n);
        pos_ += n;
        return static_cast<ssize_t>(n);
    }
    ssize_t write(const char* ptr, size_t size) override {
        out_.append(ptr, size);
        return static_cast<ssize_t>(size);
    }
    void get_remote_ip_and_port(std::string& ip, int& port) const override { address(true, ip, port); }
    void get_local_ip_and_port(std::string& ip, int& port) const override { address(false, ip, port); }
    socket_t socket() const override { return fd_; }

  private:
    void address(bool peer, std::string& ip, int& port) const {
        sockaddr_storage sa{};
        socklen_t len = sizeof sa;
        const int rc = peer ? getpeername(fd_, reinterpret_cast<sockaddr*>(&sa), &len)
                            : getsockname(fd_, reinterpret_cast<sockaddr*>(&sa), &len);
        if (rc != 0) return;
        char text[INET6_ADDRSTRLEN] = {0};
        if (sa.ss_family == AF_INET) {
            const auto* a = reinterpret_cast<const sockaddr_in*>(&sa);
            inet_ntop(AF_INET, &a->sin_addr, text, sizeof text);
            port = ntohs(a->sin_port);
        } else if (sa.ss_family == AF_INET6) {
            const auto* a = reinterpret_cast<const sockaddr_in6*>(&sa);
            inet_ntop(AF_INET6, &a->sin6_addr, text, sizeof text);
            port = ntohs(a->sin6_port);
        }
        ip = text;
    }

    int fd_;
    std::string_view in_;
    std::size_t pos_ = 0;
    std::string& out_;
};

}  // namespace

HealthHttpServer::HealthHttpServer(HttpLimits limits) : limits_(limits) {
    limits_.workers = std::max(1, limits_.workers);
    limits_.max_connections = std::max<std::size_t>(1, limits_.max_connections);
    limits_.keep_alive_requests = std::max(1, limits_.keep_alive_requests);
    if (pipe2(wake_, O_NONBLOCK | O_CLOEXEC) != 0) wake_[0] = wake_[1] = -1;
}

HealthHttpServer::~HealthHttpServer() {
    request_stop();
    for (auto& t : workers_) {
        if (t.joinable()) t.join();
    }
    for (auto& [fd, conn] : reading_) ::close(fd);
    if (listen_fd_ >= 0) ::close(listen_fd_);
    if (wake_[0] >= 0) ::close(wake_[0]);
    if (wake_[1] >= 0) ::close(wake_[1]);
}

void HealthHttpServer::answer_directly(std::string path) { direct_paths_.push_back(std::move(path)); }

int HealthHttpServer::listen_on(const std::string& host, int port, std::string* why) {
    const bool v6 = host.find(':') != std::string::npos;
    const int fd = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        if (why) *why = std::strerror(errno);
        return -1;
    }
    // SO_REUSEADDR only: SO_REUSEPORT would let a second server share a port in use.
    int yes = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    sockaddr_storage sa{};
    socklen_t len = 0;
    if (v6) {
        auto* a = reinterpret_cast<sockaddr_in6*>(&sa);
        a->sin6_family = AF_INET6;
        a->sin6_port = htons(static_cast<uint16_t>(port));
        inet_pton(AF_INET6, host.c_str(), &a->sin6_addr);
        len = sizeof *a;
    } else {
        auto* a = reinterpret_cast<sockaddr_in*>(&sa);
        a->sin_family = AF_INET;
        a->sin_port = htons(static_cast<uint16_t>(port));
        inet_pton(AF_INET, host.c_str(), &a->sin_addr);
        len = sizeof *a;
    }
    if (bind(fd, reinterpret_cast<sockaddr*>(&sa), len) != 0 || ::listen(fd, SOMAXCONN) != 0) {
        const int err = errno;
        ::close(fd);
        if (why) {
            *why = err == EADDRINUSE      ? "the port is in use by another process"
                   : err == EADDRNOTAVAIL ? "the address is not one of this machine's"
                   : err == EACCES        ? "permission denied (ports below 1024 need privileges)"
                                          : std::strerror(err);
        }
        return -1;
    }
    len = sizeof sa;
    getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len);
    listen_fd_ = fd;
    return ntohs(v6 ? reinterpret_cast<sockaddr_in6*>(&sa)->sin6_port : reinterpret_cast<sockaddr_in*>(&sa)->sin_port);
}

void HealthHttpServer::request_stop() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stopping_ = true;
    }
    work_ready_.notify_all();
    if (wake_[1] >= 0) {
        const char c = 's';
        [[maybe_unused]] const ssize_t n = ::write(wake_[1], &c, 1);
    }
}

bool HealthHttpServer::serve() {
    if (listen_fd_ < 0 || wake_[0] < 0) return false;
    for (int i = 0; i < limits_.workers; ++i) workers_.emplace_back([this] { worker_loop(); });

    bool ok = true;
    std::vector<pollfd> fds;
    std::vector<int> polled;
    for (;;) {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            if (stopping_) break;
        }
        drain_returned();

        // Deadlines: the earliest one bounds the wait; those past are answered 408 and closed.
        auto now = Clock::now();
        auto next = now + std::chrono::hours(1);
        std::vector<int> expired;
        for (auto& [fd, conn] : reading_) {
            if (conn->deadline <= now) {
                expired.push_back(fd);
            } else {
                next = std::min(next, conn->deadline);
            }
        }
        for (const int fd : expired) {
            auto it = reading_.find(fd);
            std::unique_ptr<Connection> conn = std::move(it->second);
            reading_.erase(it);
            // Nothing was received on a kept-alive connection: an idle close, not a timed-out request.
            if (!conn->in.empty() || conn->served == 0) {
                refuse(*conn, 408, fmt::format("the request did not arrive within {} ms", limits_.read_timeout_ms), "-",
                       "-");
            }
            close_connection(std::move(conn));
        }

        fds.clear();
        polled.clear();
        fds.push_back({wake_[0], POLLIN, 0});
        fds.push_back({listen_fd_, POLLIN, 0});
        for (auto& [fd, conn] : reading_) {
            fds.push_back({fd, POLLIN, 0});
            polled.push_back(fd);
        }
        const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(next - Clock::now()).count() + 1;
        const int rc = poll(fds.data(), fds.size(), static_cast<int>(std::clamp<long long>(wait, 0, 60000)));
        if (rc < 0) {
            if (errno == EINTR) continue;
            ok = false;
            break;
        }
        if (fds[0].revents != 0) {
            char buf[64];
            while (::read(wake_[0], buf, sizeof buf) > 0) {
            }
        }
        for (std::size_t i = 0; i < polled.size(); ++i) {
            if (fds[i + 2].revents == 0) continue;
            auto it = reading_.find(polled[i]);
            if (it == reading_.end()) continue;
            read_from(*it->second);
            if (it->second->fd < 0) {  // closed by the client, or an error
                std::unique_ptr<Connection> conn = std::move(it->second);
                reading_.erase(it);
                close_connection(std::move(conn));
                continue;
            }
            std::unique_ptr<Connection> conn = std::move(it->second);
            reading_.erase(it);
            if (dispatch(conn)) reading_.emplace(conn->fd, std::move(conn));
        }
        if (fds[1].revents != 0) accept_new();
    }

    // Stop: no new connection, nothing more read; the workers finish what they answer and close the rest.
    ::close(listen_fd_);
    listen_fd_ = -1;
    for (auto& [fd, conn] : reading_) ::close(fd);
    reading_.clear();
    work_ready_.notify_all();
    for (auto& t : workers_) t.join();
    workers_.clear();
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& job : queue_) ::close(job.conn->fd);
    queue_.clear();
    for (auto& conn : returned_) ::close(conn->fd);
    returned_.clear();
    return ok;
}

void HealthHttpServer::accept_new() {
    for (;;) {
        const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) return;  // EAGAIN: all taken; EMFILE and the like: the next poll retries
        // A response is one send; without Nagle it leaves at once even behind an unacknowledged one.
        int yes = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof yes);
        auto conn = std::make_unique<Connection>();
        conn->fd = fd;
        conn->since = Clock::now();
        conn->deadline = conn->since + std::chrono::milliseconds(limits_.read_timeout_ms);
        bool full = false;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            full = open_ >= limits_.max_connections;
            if (!full) ++open_;
        }
        if (full) {
            // Make room by dropping the connection that has been sending its request the longest: a client
            // that is slow on purpose loses its place, a prober that sends its request at once keeps it.
            auto oldest = reading_.end();
            for (auto it = reading_.begin(); it != reading_.end(); ++it) {
                if (oldest == reading_.end() || it->second->since < oldest->second->since) oldest = it;
            }
            if (oldest != reading_.end()) {
                std::unique_ptr<Connection> evicted = std::move(oldest->second);
                reading_.erase(oldest);
                refuse(*evicted, 408,
                       fmt::format("the request was not complete when the server needed its place "
                                   "(--max-connections {})",
                                   limits_.max_connections),
                       "-", "-");
                close_connection(std::move(evicted));
                std::lock_guard<std::mutex> lock(mutex_);
                ++open_;
            } else {
                refuse(*conn, 503,
                       fmt::format("busy: {} connections are being answered (--max-connections); retry later",
                                   limits_.max_connections),
                       "-", "-");
                ::close(fd);
                continue;
            }
        }
        const int fd_key = conn->fd;
        reading_.emplace(fd_key, std::move(conn));
    }
}

void HealthHttpServer::read_from(Connection& conn) {
    // Never more than a request may hold (plus one byte to tell that it is too much).
    const std::size_t cap = limits_.max_head_bytes + limits_.max_body_bytes + 1;
    char buf[4096];
    for (;;) {
        if (conn.in.size() >= cap) return;
        const std::size_t want = std::min(sizeof buf, cap - conn.in.size());
        const ssize_t n = ::recv(conn.fd, buf, want, 0);
        if (n > 0) {
            conn.in.append(buf, static_cast<std::size_t>(n));
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
        // 0: the client closed its side. A complete request already received is still answered.
        if (n == 0 && !conn.in.empty()) {
            std::size_t length = 0;
            int status = 0;
            std::string reason;
            if (parse(conn, length, status, reason) == Parse::complete) return;
        }
        ::close(conn.fd);
        conn.fd = -1;
        return;
    }
}

HealthHttpServer::Parse HealthHttpServer::parse(Connection& conn, std::size_t& length, int& status,
                                                std::string& reason) const {
    const std::size_t from = conn.scanned >= 3 ? conn.scanned - 3 : 0;
    const auto end = conn.in.find("\r\n\r\n", from);
    if (end == std::string::npos) {
        conn.scanned = conn.in.size();
        if (conn.in.size() > limits_.max_head_bytes) {
            status = 431;
            reason = fmt::format("the request line and headers are larger than {} bytes", limits_.max_head_bytes);
            return Parse::refused;
        }
        return Parse::incomplete;
    }
    const std::size_t head = end + 4;
    if (head > limits_.max_head_bytes) {
        status = 431;
        reason = fmt::format("the request line and headers are larger than {} bytes", limits_.max_head_bytes);
        return Parse::refused;
    }
    // The body's length, for the framing of the request: httplib parses the same bytes again, and never reads
    // past them.
    std::size_t body = 0;
    bool have_length = false;
    std::string_view rest = std::string_view(conn.in).substr(0, end);
    rest.remove_prefix(
        std::min(rest.size(), rest.find("\r\n") == std::string_view::npos ? rest.size() : rest.find("\r\n") + 2));
    while (!rest.empty()) {
        const auto eol = rest.find("\r\n");
        const std::string_view line = rest.substr(0, eol);
        rest.remove_prefix(eol == std::string_view::npos ? rest.size() : eol + 2);
        const auto colon = line.find(':');
        if (colon == std::string_view::npos) continue;
        const std::string_view name = line.substr(0, colon);
        const std::string_view value = trim(line.substr(colon + 1));
        if (iequals(name, "Transfer-Encoding")) {
            status = 411;
            reason = "request bodies must come with a Content-Length (no Transfer-Encoding)";
            return Parse::refused;
        }
        if (iequals(name, "Content-Length")) {
            if (value.empty() || value.size() > 18 ||
                !std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
                status = 400;
                reason = "the Content-Length is not a number";
                return Parse::refused;
            }
            const std::size_t n = std::stoull(std::string(value));
            if (have_length && n != body) {
                status = 400;
                reason = "the request has two different Content-Length headers";
                return Parse::refused;
            }
            have_length = true;
            body = n;
        }
    }
    if (body > limits_.max_body_bytes) {
        status = 413;
        reason = fmt::format("the request body is larger than {} bytes", limits_.max_body_bytes);
        return Parse::refused;
    }
    if (conn.in.size() < head + body) return Parse::incomplete;
    length = head + body;
    return Parse::complete;
}

bool HealthHttpServer::dispatch(std::unique_ptr<Connection>& conn) {
    for (;;) {
        std::size_t length = 0;
        int status = 0;
        std::string reason;
        const Parse p = parse(*conn, length, status, reason);
        if (p == Parse::incomplete) return true;
        std::string_view method;
        std::string_view target;
        request_line(conn->in, method, target);
        if (p == Parse::refused) {
            refuse(*conn, status, reason, method, path_of(target));
            close_connection(std::move(conn));
            return false;
        }
        const bool direct = (method == "GET" || method == "HEAD") &&
                            std::any_of(direct_paths_.begin(), direct_paths_.end(), [&](const std::string& d) {
                                return target == d || (target.size() > d.size() && target.substr(0, d.size()) == d &&
                                                       target[d.size()] == '?');
                            });
        if (direct) {
            std::string out;
            const bool keep = answer(*conn, length, &out);
            // On this thread a client that does not take its answer at once loses it: nobody waits for it here.
            if (!send_all(conn->fd, out, Clock::now()) || !keep) {
                close_connection(std::move(conn));
                return false;
            }
            continue;  // a pipelined request may already be here
        }
        const std::string method_text(method);
        const std::string path_text(path_of(target));
        std::size_t waiting = 0;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            waiting = queue_.size();
            if (waiting < limits_.queue) {
                queue_.push_back(Job{std::move(conn), length});
                work_ready_.notify_one();
                return false;
            }
        }
        refuse(*conn, 503,
               fmt::format("busy: {} requests are waiting for the {} workers; retry later", waiting, limits_.workers),
               method_text, path_text);
        close_connection(std::move(conn));
        return false;
    }
}

bool HealthHttpServer::answer(Connection& conn, std::size_t length, std::string* out) {
    const std::string request = conn.in.substr(0, length);
    conn.in.erase(0, length);
    conn.scanned = 0;
    ++conn.served;
    RequestStream stream(conn.fd, request, *out);
    const bool last = conn.served >= limits_.keep_alive_requests;
    bool closed_by_client = false;
    const bool ok = process_request(stream, last, closed_by_client, nullptr);
    // The next request's deadline starts now: idle time on a kept-alive connection counts against it.
    conn.since = Clock::now();
    conn.deadline = conn.since + std::chrono::milliseconds(limits_.read_timeout_ms);
    return ok && !last && !closed_by_client;
}

void HealthHttpServer::refuse(Connection& conn, int status, const std::string& reason, std::string_view method,
                              std::string_view path) {
    const std::string body = nlohmann::json{{"status", "fail"}, {"error", reason}}.dump(2) + "\n";
    const std::string response = fmt::format(
        "HTTP/1.1 {} {}\r\nContent-Type: application/json\r\nCache-Control: no-store\r\nConnection: close\r\n"
        "{}Content-Length: {}\r\n\r\n{}",
        status, reason_phrase(status), status == 503 ? "Retry-After: 1\r\n" : "", body.size(), body);
    send_all(conn.fd, response, Clock::now());
    std::fprintf(stderr, "%s %s %d\n", printable(method.empty() ? "-" : method).c_str(),
                 printable(path.empty() ? "-" : path).c_str(), status);
}

void HealthHttpServer::close_connection(std::unique_ptr<Connection> conn) {
    if (conn->fd >= 0) ::close(conn->fd);
    conn->fd = -1;
    std::lock_guard<std::mutex> lock(mutex_);
    if (open_ > 0) --open_;
}

void HealthHttpServer::worker_loop() {
    for (;;) {
        Job job;
        {
            std::unique_lock<std::mutex> lock(mutex_);
            work_ready_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
            if (stopping_) return;
            job = std::move(queue_.front());
            queue_.pop_front();
        }
        std::string out;
        const bool keep = answer(*job.conn, job.length, &out);
        const bool sent =
            send_all(job.conn->fd, out, Clock::now() + std::chrono::milliseconds(limits_.write_timeout_ms));
        if (!sent || !keep) {
            close_connection(std::move(job.conn));
            continue;
        }
        // Back to the reading thread for the next request on this connection.
        {
            std::lock_guard<std::mutex> lock(mutex_);
            if (stopping_) {
                ::close(job.conn->fd);
                continue;
            }
            returned_.push_back(std::move(job.conn));
        }
        const char c = 'r';
        [[maybe_unused]] const ssize_t n = ::write(wake_[1], &c, 1);
    }
}

void HealthHttpServer::drain_returned() {
    std::vector<std::unique_ptr<Connection>> back;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        back.swap(returned_);
    }
    for (auto& conn : back) {
        // Bytes of a pipelined request may already be buffered: handle them before waiting for more.
        if (dispatch(conn)) reading_.emplace(conn->fd, std::move(conn));
    }
}

}  // namespace pgmig::client
