// The HTTP server of `pgmig health --serve`, made so that slow or hostile clients cannot stall it: one thread
// reads every connection (non-blocking, a deadline for the whole request, size limits) and answers the paths
// that never block itself; a fixed pool of workers answers the others from a bounded queue.
#pragma once

#include <httplib.h>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

namespace pgmig::client {

struct HttpLimits {
    int workers = 4;                    // threads answering the requests that are not answered directly
    std::size_t queue = 16;             // requests waiting for a worker; one more is answered 503 at once
    std::size_t max_connections = 128;  // connections open at once (reading, queued or being answered)
    long long read_timeout_ms = 5000;   // the whole request (line, headers, body) must arrive within this
    long long write_timeout_ms = 5000;  // a response must be taken by the client within this
    std::size_t max_head_bytes = 8192;  // request line and headers together; more: 431
    std::size_t max_body_bytes = 1024;  // a request body (Content-Length); more: 413; chunked bodies: 411
    int keep_alive_requests = 100;      // requests on one connection; the last one is answered Connection: close
};

// Routes, handlers, the logger and the error handler are httplib's (Get, set_logger...); only the connection
// handling is replaced: httplib 0.11's own server gives each connection a thread and restarts its read timeout
// at every byte, so a client trickling its headers holds a thread for as long as it likes.
class HealthHttpServer : public httplib::Server {
  public:
    explicit HealthHttpServer(HttpLimits limits);
    ~HealthHttpServer() override;
    HealthHttpServer(const HealthHttpServer&) = delete;
    HealthHttpServer& operator=(const HealthHttpServer&) = delete;

    // A path answered on the reading thread itself: its handler must never block (no database, no lock held
    // long). Only "GET/HEAD <path>" and "<path>?query" exactly as the client wrote them qualify; anything else
    // (an encoded form of the path included) goes to the workers.
    void answer_directly(std::string path);

    // Listens on host:port (port 0: any free one). Returns the port, or -1 with *why set from the system.
    int listen_on(const std::string& host, int port, std::string* why);

    // Serves until request_stop(); false when the reading loop failed (poll or accept errors it cannot go on with).
    bool serve();

    // From any thread: serve() stops accepting, closes what it reads, lets the workers finish the requests they
    // are answering, and returns.
    void request_stop();

  private:
    using Clock = std::chrono::steady_clock;
    struct Connection;
    struct Job {
        std::unique_ptr<Connection> conn;
        std::size_t length = 0;  // bytes of conn->in that are this request
    };
    enum class Parse { incomplete, complete, refused };

    void accept_new();
    void read_from(Connection& conn);
    // Handles every complete request in conn->in; false when the connection left the reading set (closed or
    // given to a worker).
    bool dispatch(std::unique_ptr<Connection>& conn);
    Parse parse(Connection& conn, std::size_t& length, int& status, std::string& reason) const;
    // Runs httplib's parser and router on one complete request; the response is appended to *out.
    // Returns true when the connection stays open for another request.
    bool answer(Connection& conn, std::size_t length, std::string* out);
    void refuse(Connection& conn, int status, const std::string& reason, std::string_view method,
                std::string_view path);
    void close_connection(std::unique_ptr<Connection> conn);
    void worker_loop();
    void drain_returned();

    HttpLimits limits_;
    std::vector<std::string> direct_paths_;
    int listen_fd_ = -1;
    int wake_[2] = {-1, -1};  // a pipe: request_stop() and the workers wake the reading loop through it
    std::unordered_map<int, std::unique_ptr<Connection>> reading_;
    std::size_t open_ = 0;  // every open connection, wherever it is (updated under mutex_)

    std::mutex mutex_;
    std::condition_variable work_ready_;
    std::deque<Job> queue_;
    std::vector<std::unique_ptr<Connection>> returned_;  // kept-alive connections handed back by workers
    bool stopping_ = false;
    std::vector<std::thread> workers_;
};

}  // namespace pgmig::client
