// pgmig health: the checks of client/health as a table or JSON with exit codes, or served over HTTP
// (/health, /health/live, /health/ready) with --serve ADDR:PORT.
#include "client/cli/commands/commands.hpp"
#include "client/core/config.hpp"
#include "client/core/errors.hpp"
#include "client/cli/json_output.hpp"
#include "client/ops/health.hpp"
#include "client/ops/health_server.hpp"

#include <fmt/core.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <thread>

namespace pgmig::client {

namespace {

long long duration_option(const std::string& text, const char* option) {
    const auto ms = parse_health_duration(text);
    if (!ms) {
        throw Error(ErrorKind::usage, fmt::format("{} {} is not a duration", option, text), "on the command line",
                    "write a positive number with ms, s, min, h or d (e.g. 30s, 5min, 26h)");
    }
    return *ms;
}

struct Setup {
    std::string conninfo;
    HealthOptions options;
};

Setup prepare(const GlobalOptions& global, const HealthCommandOptions& cmd) {
    Setup setup;
    HealthOptions& o = setup.options;
    o.long_transaction_ms = duration_option(cmd.long_transaction, "--long-transaction");
    o.lock_wait_ms = duration_option(cmd.lock_wait, "--lock-wait");
    o.replication_lag_ms = duration_option(cmd.replication_lag, "--replication-lag");
    o.backup_max_age_ms = duration_option(cmd.backup_max_age, "--backup-max-age");
    o.timeout_ms = duration_option(cmd.timeout, "--timeout");

    const ProjectConfig config = load_project_config();
    const Environment* env = cmd.env.empty() ? nullptr : &find_environment(config, cmd.env);
    apply_environment(o, config, env);
    // -d wins over --env (the environment still names the backup folder).
    setup.conninfo = !global.dbname.empty() ? global.dbname : env ? environment_conninfo(*env) : std::string();

    // The folder is optional: --dir must exist, the default one is used only when it does.
    const std::string dir = resolve_migrations_dir(cmd.dir);
    std::error_code ec;
    if (!cmd.dir.empty() || std::filesystem::is_directory(dir, ec)) o.dir = dir;
    return setup;
}

void print_table(const HealthReport& report) {
    fmt::print("pgmig health of {} (environment {}) at {}\n", report.target, report.environment, report.checked_at);
    std::size_t width = 5;
    for (const auto& c : report.checks) width = std::max(width, c.name.size());
    fmt::print("{:<{}}  {:<6}  {:>9}  {}\n", "check", width, "status", "time", "detail");
    fmt::print("{}  {}  {}  {}\n", std::string(width, '-'), std::string(6, '-'), std::string(9, '-'),
               std::string(6, '-'));
    for (const auto& c : report.checks) {
        fmt::print("{:<{}}  {:<6}  {:>9}  {}\n", c.name, width, to_string(c.status),
                   fmt::format("{:.1f} ms", c.duration_ms), c.detail);
    }
    std::size_t warnings = 0;
    std::size_t failures = 0;
    for (const auto& c : report.checks) {
        warnings += c.status == HealthStatus::warn;
        failures += c.status == HealthStatus::fail;
    }
    std::string ready = report.ready ? "ready" : "not ready: ";
    for (std::size_t i = 0; i < report.not_ready.size(); ++i) ready += (i ? ", " : "") + report.not_ready[i];
    fmt::print("overall: {} ({} failed, {} warned) in {:.1f} ms; {}\n", to_string(report.status), failures, warnings,
               report.duration_ms, ready);
}

int exit_for(const HealthReport& report, bool warn_ok) {
    std::vector<std::string> names;
    for (const auto& c : report.checks) {
        if (c.status == HealthStatus::fail) names.push_back(c.name);
    }
    std::string list;
    for (std::size_t i = 0; i < names.size(); ++i) list += (i ? ", " : "") + names[i];
    if (!report.reachable) {
        const HealthCheck* conn = report.find("connection");
        return client::report(Error(ErrorKind::connect, "health: cannot reach the database",
                                    fmt::format("{}{}", report.target, conn ? " (" + conn->detail + ")" : ""),
                                    "check -d/--env or the PG* variables, and that the server is running"));
    }
    if (report.status == HealthStatus::fail) {
        return client::report(Error(ErrorKind::health_failed, fmt::format("health: failed checks: {}", list),
                                    fmt::format("in {}", report.target), "see each check's detail above"));
    }
    if (report.status == HealthStatus::warn && !warn_ok) return exit_code(ErrorKind::health_warnings);
    return kExitOk;
}

// ---- --serve -------------------------------------------------------------------------------------------

struct Listen {
    std::string host;
    int port = 0;
};

Listen parse_listen(const std::string& text) {
    const Error bad(ErrorKind::usage, fmt::format("--serve {} is not ADDR:PORT", text), "on the command line",
                    "give an IP address and a port, e.g. --serve 127.0.0.1:8080 or --serve [::1]:8080 (port 0 "
                    "picks a free one)");
    const auto colon = text.rfind(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) throw bad;
    Listen l;
    l.host = text.substr(0, colon);
    if (l.host.size() > 2 && l.host.front() == '[' && l.host.back() == ']')
        l.host = l.host.substr(1, l.host.size() - 2);
    const std::string port = text.substr(colon + 1);
    if (port.size() > 5 || !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }))
        throw bad;
    l.port = std::stoi(port);
    if (l.port > 65535) throw bad;
    in6_addr a6{};
    in_addr a4{};
    if (inet_pton(AF_INET, l.host.c_str(), &a4) != 1 && inet_pton(AF_INET6, l.host.c_str(), &a6) != 1) throw bad;
    return l;
}

// Reports computed fresh, or reused for --cache (one computation at a time then; the others wait for it).
class ReportSource {
  public:
    ReportSource(Setup setup, long long cache_ms) : setup_(std::move(setup)), cache_ms_(cache_ms) {}

    HealthReport get(bool readiness_only) {
        HealthOptions options = setup_.options;
        options.readiness_only = readiness_only;
        if (cache_ms_ <= 0) return run_health_checks(setup_.conninfo, options);
        std::lock_guard<std::mutex> lock(mutex_);
        Cached& c = readiness_only ? ready_ : full_;
        const auto now = std::chrono::steady_clock::now();
        if (!c.report || now - c.at >= std::chrono::milliseconds(cache_ms_)) {
            c.report = run_health_checks(setup_.conninfo, options);
            c.at = now;
        }
        return *c.report;
    }

  private:
    struct Cached {
        std::optional<HealthReport> report;
        std::chrono::steady_clock::time_point at;
    };
    Setup setup_;
    long long cache_ms_;
    std::mutex mutex_;
    Cached full_, ready_;
};

void send_json(httplib::Response& res, int status, const nlohmann::json& body) {
    res.status = status;
    res.set_header("Cache-Control", "no-store");
    res.set_content(body.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n", "application/json");
}

int serve(const Setup& setup, const HealthCommandOptions& cmd) {
    const Listen listen = parse_listen(cmd.serve);
    const long long cache_ms = cmd.cache.empty() || cmd.cache == "0" ? 0 : duration_option(cmd.cache, "--cache");
    const long long read_timeout_ms = duration_option(cmd.read_timeout, "--read-timeout");
    // One readiness check first: a broken --dir fails here (exit 3) rather than on every request, and the
    // banner names the target (host, port, database, user: never the password).
    const HealthReport first = ReportSource(setup, 0).get(true);

    // SIGINT and SIGTERM go to one thread that stops the server: blocked here, before the server starts its
    // workers, so that every thread inherits the mask.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);

    HttpLimits limits;
    limits.workers = cmd.workers;
    limits.queue = static_cast<std::size_t>(cmd.workers) * 4;
    limits.max_connections = static_cast<std::size_t>(cmd.max_connections);
    limits.read_timeout_ms = read_timeout_ms;
    limits.write_timeout_ms = limits.read_timeout_ms;
    HealthHttpServer server(limits);
    ReportSource source(setup, cache_ms);
    const auto started = std::chrono::steady_clock::now();

    // A failure of health itself (a migrations folder that became unreadable...) is a 500 with the error line.
    auto checked = [&source](bool readiness_only, httplib::Response& res) {
        try {
            const HealthReport report = source.get(readiness_only);
            const bool good = readiness_only ? report.ready : report.status != HealthStatus::fail;
            send_json(res, good ? 200 : 503, to_json(report));
        } catch (const Error& e) {
            send_json(res, 500, {{"status", "fail"}, {"error", e.line()}});
        } catch (const std::exception& e) {
            send_json(res, 500, {{"status", "fail"}, {"error", e.what()}});
        }
    };
    server.Get("/health", [&checked](const httplib::Request&, httplib::Response& res) { checked(false, res); });
    server.Get("/health/ready", [&checked](const httplib::Request&, httplib::Response& res) { checked(true, res); });
    server.Get("/health/live", [started](const httplib::Request&, httplib::Response& res) {
        const auto up = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started);
        send_json(res, 200, {{"status", "ok"}, {"pgmig_version", PGMIG_VERSION}, {"uptime_s", up.count()}});
    });
    // The liveness probe never touches the database: answered by the reading thread itself, so that it answers
    // while every worker is busy (a hung database, a flood of /health requests).
    server.answer_directly("/health/live");
    server.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
        if (res.status == 404) {
            send_json(res, 404,
                      {{"error", fmt::format("no such path: {}", req.path)},
                       {"paths", {"/health", "/health/live", "/health/ready"}}});
        }
    });
    server.set_logger([](const httplib::Request& req, const httplib::Response& res) {
        // The path only: never a query string or a header (they could carry credentials); no control
        // character either (a decoded %0a would forge a log line).
        std::string path = req.path;
        for (char& c : path) {
            if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
        }
        std::fprintf(stderr, "%s %s %d\n", req.method.c_str(), path.c_str(), res.status);
    });

    std::string why;
    const int port = server.listen_on(listen.host, listen.port, &why);
    if (port < 0) {
        pthread_sigmask(SIG_UNBLOCK, &signals, nullptr);
        throw Error(ErrorKind::usage, fmt::format("cannot listen on {}: {}", cmd.serve, why), "for --serve",
                    "choose another ADDR:PORT");
    }

    std::atomic<int> stopped_by{0};
    std::atomic<bool> waking{false};  // the waiter is woken by us, not by an operator's signal
    std::thread waiter([&server, &signals, &stopped_by, &waking] {
        int sig = 0;
        if (sigwait(&signals, &sig) == 0 && !waking) stopped_by = sig;
        server.request_stop();
    });

    const std::string shown_host = listen.host.find(':') != std::string::npos ? "[" + listen.host + "]" : listen.host;
    fmt::print(
        "pgmig health: serving http://{}:{} (/health, /health/live, /health/ready) for {}, {}; SIGINT or "
        "SIGTERM stops\n",
        shown_host, port, first.target, first.ready ? "ready now" : "not ready now");
    std::fflush(stdout);

    const bool ok = server.serve();
    if (stopped_by == 0) {
        waking = true;
        kill(getpid(), SIGTERM);  // wake the waiter (the signal is blocked everywhere: sigwait takes it)
    }
    waiter.join();
    pthread_sigmask(SIG_UNBLOCK, &signals, nullptr);
    if (stopped_by != 0) {
        fmt::print("pgmig health: stopped ({})\n", stopped_by == SIGINT ? "SIGINT" : "SIGTERM");
        return kExitOk;
    }
    if (!ok) throw Error(ErrorKind::internal, "the HTTP server stopped unexpectedly", "for --serve", "start it again");
    return kExitOk;
}

}  // namespace

int run_health(const GlobalOptions& global, const HealthCommandOptions& options) {
    const Setup setup = prepare(global, options);
    if (!options.serve.empty()) return serve(setup, options);
    const HealthReport report = run_health_checks(setup.conninfo, setup.options);
    if (options.json) {
        nlohmann::json out = to_json(report);
        print_json_document(out);
    } else {
        print_table(report);
    }
    std::fflush(stdout);
    return exit_for(report, options.warn_ok);
}

}  // namespace pgmig::client
