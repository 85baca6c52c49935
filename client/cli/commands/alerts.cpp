// pgmig alert test (check the alert targets) and pgmig watch (LISTEN pgmig_drift, alert drift at once).
#include "client/ops/alerts.hpp"
#include "client/cli/commands/commands.hpp"
#include "client/core/config.hpp"
#include "client/core/db.hpp"
#include "client/core/errors.hpp"
#include "client/cli/json_output.hpp"

#include "common/duration.hpp"

#include <fmt/core.h>
#include <nlohmann/json.hpp>
#include <poll.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <thread>

namespace pgmig::client {

namespace {

volatile std::sig_atomic_t g_stop_signal = 0;

extern "C" void on_stop_signal(int signal_number) { g_stop_signal = signal_number; }

// SIGINT/SIGTERM set a flag (no SA_RESTART, so a waiting poll() returns at once).
void install_stop_handlers() {
    struct sigaction action {};
    action.sa_handler = on_stop_signal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = 0;
    sigaction(SIGINT, &action, nullptr);
    sigaction(SIGTERM, &action, nullptr);
}

// The targets a command alerts: --target when given, else the environment's `alerts`, else every target.
std::vector<std::string> choose_targets(const ProjectConfig& config, const Environment* env,
                                        const std::vector<std::string>& named) {
    if (!named.empty()) return named;
    std::vector<std::string> out;
    if (env != nullptr) {
        out = env->alerts;
        if (out.empty()) {
            throw Error(ErrorKind::input, fmt::format("environment '{}' has no alert targets", env->name),
                        "in pgmig.toml", "list some in its alerts = [...], or name them with --target");
        }
        return out;
    }
    for (const auto& [name, target] : config.alerts) out.push_back(name);
    if (out.empty()) {
        throw Error(ErrorKind::input, "no alert targets are defined", "in pgmig.toml (or there is no pgmig.toml here)",
                    "define [alerts.NAME] sections (docs/operations.md)");
    }
    return out;
}

long long parse_timeout(const std::string& text, const char* option) {
    if (text.empty()) return 0;
    const auto ms = common::parse_duration_ms(text);
    if (!ms || *ms <= 0) {
        throw Error(ErrorKind::usage, fmt::format("bad {} '{}'", option, text), "on the command line",
                    "write a duration such as 30s, 500ms or 5min");
    }
    return *ms;
}

void print_deliveries(const std::vector<Delivery>& deliveries, const std::string& event) {
    for (const auto& d : deliveries) {
        if (d.skipped) {
            fmt::print("alert '{}' ({}): skipped, it does not subscribe to {}\n", d.target, d.kind, event);
        } else if (d.delivered) {
            fmt::print("alert '{}' ({}): delivered on attempt {}, {:.2f}s\n", d.target, d.kind, d.attempts, d.seconds);
        } else {
            fmt::print("alert '{}' ({}): NOT delivered after {} attempt{}, {:.2f}s: {}\n", d.target, d.kind, d.attempts,
                       d.attempts == 1 ? "" : "s", d.seconds, d.error);
        }
    }
}

// LISTEN, then the newest audit id (where catching up after a reconnect starts). Returns nullopt, with the
// reason in `error`, when the connection cannot do it.
std::optional<long long> start_listening(const Connection& conn, std::string& error) {
    Result listen = conn.exec("LISTEN pgmig_drift");
    if (!listen.ok()) {
        error = listen.error().message;
        return std::nullopt;
    }
    Result newest = conn.exec("SELECT coalesce(max(id), 0) FROM pgmig.ddl_audit");
    if (!newest.ok() || newest.rows() != 1) {
        error = newest.error().message;
        return std::nullopt;
    }
    return std::stoll(newest.get(0, 0));
}

// The out-of-band audit rows after `last_id`, all of them (read 1000 at a time), in id order. On success
// `last_id` moves past every row read, migration rows included; on failure it stays, so the next read retries.
// Only these rows make an alert: a NOTIFY pgmig_drift is just a wake-up, since any role may send one.
std::optional<nlohmann::json> drift_after(const Connection& conn, long long& last_id, std::string& error) {
    constexpr int kPage = 1000;
    long long after = last_id;
    nlohmann::json out = nlohmann::json::array();
    for (;;) {
        Result rows = conn.exec_params(
            "SELECT id, command_tag, object_identity, current_user_name, migration_version IS NULL "
            "FROM pgmig.ddl_audit WHERE id > $1::bigint ORDER BY id LIMIT " + std::to_string(kPage),
            {std::to_string(after)});
        if (!rows.ok()) {
            error = rows.error().message;
            return std::nullopt;
        }
        for (int i = 0; i < rows.rows(); ++i) {
            after = std::stoll(rows.get(i, 0));
            if (rows.get(i, 4) != "t") continue;  // written by a migration: not drift
            out.push_back({{"audit_id", after},
                           {"command", rows.get(i, 1)},
                           {"object", rows.is_null(i, 2) ? nlohmann::json(nullptr) : nlohmann::json(rows.get(i, 2))},
                           {"user", rows.get(i, 3)}});
        }
        if (rows.rows() < kPage) break;
    }
    last_id = after;
    return out;
}

std::string drift_line(const nlohmann::json& object) {
    auto text = [&](const char* key) {
        auto it = object.find(key);
        if (it == object.end() || it->is_null()) return std::string();
        return it->is_string() ? it->get<std::string>() : it->dump();
    };
    if (!object.is_object()) return object.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    std::string line = text("command");
    if (!text("object").empty()) line += " " + text("object");
    if (!text("user").empty()) line += " by " + text("user");
    if (!text("audit_id").empty()) line += " (audit id " + text("audit_id") + ")";
    return line;
}

}  // namespace

int run_alert_test(const GlobalOptions& global, const AlertTestOptions& options) {
    const ProjectConfig config = load_project_config();
    const Environment* env = options.env.empty() ? nullptr : &find_environment(config, options.env);
    const std::vector<std::string> targets = choose_targets(config, env, options.targets);

    AlertEvent event;
    event.event = options.event;
    event.environment = env != nullptr ? env->name : std::string();
    std::string conninfo = global.dbname;
    if (conninfo.empty() && env != nullptr) {
        try {
            conninfo = environment_conninfo(*env);
        } catch (const Error&) {
            conninfo.clear();  // a test alert describes the database when it can; it does not need it
        }
    }
    event.database = alert_database_from_conninfo(conninfo);
    event.extra = {{"test", true}, {"sent_by", "pgmig alert test"}};
    if (event.event.ends_with("_failed")) event.error = "this is a test alert (pgmig alert test): nothing failed";

    const std::vector<Delivery> deliveries = send_alerts(config, targets, event);
    const auto failed = std::count_if(deliveries.begin(), deliveries.end(),
                                      [](const Delivery& d) { return !d.delivered && !d.skipped; });
    if (options.json) {
        print_json_document(
            nlohmann::json{{"event", event.event}, {"ok", failed == 0}, {"deliveries", deliveries_json(deliveries)}});
    } else {
        print_deliveries(deliveries, event.event);
        fmt::print("{} of {} alert targets delivered the {} event\n",
                   std::count_if(deliveries.begin(), deliveries.end(), [](const Delivery& d) { return d.delivered; }),
                   deliveries.size(), event.event);
    }
    if (failed > 0) {
        std::fflush(stdout);
        std::fprintf(stderr,
                     "pgmig: error: %ld alert target%s could not be reached, in pgmig alert test; check the reasons "
                     "above (URL, secret and password variables, SMTP server) and try again\n",
                     static_cast<long>(failed), failed == 1 ? "" : "s");
        return exit_code(ErrorKind::alert_failed);
    }
    return kExitOk;
}

int run_watch(const GlobalOptions& global, const WatchOptions& options) {
    const long long timeout_ms = parse_timeout(options.timeout, "--timeout");
    const ProjectConfig config = load_project_config();
    const Environment* env = options.env.empty() ? nullptr : &find_environment(config, options.env);
    const std::vector<std::string> targets = choose_targets(config, env, options.targets);
    require_alert_targets(config, targets);  // refused now, not at the first drift
    const std::string conninfo = !global.dbname.empty() ? global.dbname : env != nullptr ? environment_conninfo(*env) : "";

    using Clock = std::chrono::steady_clock;
    const auto deadline = timeout_ms > 0 ? Clock::now() + std::chrono::milliseconds(timeout_ms) : Clock::time_point::max();
    auto remaining_ms = [&]() -> long long {
        if (timeout_ms <= 0) return 1000;
        return std::max<long long>(0, std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count());
    };
    auto over = [&] { return g_stop_signal != 0 || (timeout_ms > 0 && Clock::now() >= deadline); };

    std::optional<Connection> conn(Connection::open(conninfo));
    require_extension(*conn);
    std::string target = conn->target();
    std::string why;
    std::optional<long long> last_id = start_listening(*conn, why);
    if (!last_id) {
        throw Error(ErrorKind::connect, fmt::format("cannot LISTEN pgmig_drift: {}", one_line(why)),
                    fmt::format("in {}", target), "check that the role may read pgmig.ddl_audit");
    }
    install_stop_handlers();
    std::string target_list;
    for (const auto& t : targets) target_list += (target_list.empty() ? "" : ", ") + t;
    fmt::print("watching {} for drift (LISTEN pgmig_drift); alerts go to: {}\n", target, target_list);
    std::fflush(stdout);

    long notifications = 0;
    long alerts = 0;
    long undelivered = 0;
    auto alert = [&](nlohmann::json drift, const char* source) {
        AlertEvent event;
        event.event = "drift_detected";
        event.environment = env != nullptr ? env->name : std::string();
        event.database = alert_database_from_connection(conn->raw());
        event.drift = std::move(drift);
        event.extra = {{"source", source}};
        for (const auto& object : event.drift) fmt::print("drift: {}\n", drift_line(object));
        std::fflush(stdout);
        const std::vector<Delivery> deliveries = send_alerts(config, targets, event);
        ++alerts;
        for (const auto& d : deliveries) undelivered += (!d.delivered && !d.skipped) ? 1 : 0;
        print_deliveries(deliveries, event.event);
        std::fflush(stdout);
    };

    long backoff_ms = 1000;
    while (!over()) {
        if (!conn) {
            // Reconnect with a doubling wait (at most 30s), then catch up on DDL missed in between.
            fmt::print(stderr, "pgmig: warning: lost the connection to {}: {}; reconnecting in {}s\n", target,
                       one_line(why), backoff_ms / 1000);
            const auto wake = Clock::now() + std::chrono::milliseconds(backoff_ms);
            while (!over() && Clock::now() < wake) std::this_thread::sleep_for(std::chrono::milliseconds(100));
            if (over()) break;
            backoff_ms = std::min(backoff_ms * 2, 30000L);
            try {
                conn.emplace(Connection::open(conninfo));
            } catch (const Error& e) {
                why = e.what_failed();
                conn.reset();
                continue;
            }
            if (!start_listening(*conn, why)) {
                conn.reset();
                continue;
            }
            std::optional<nlohmann::json> missed = drift_after(*conn, *last_id, why);
            if (!missed) {
                conn.reset();
                continue;
            }
            fmt::print(stderr, "pgmig: note: reconnected to {}; listening again\n", target);
            backoff_ms = 1000;
            if (!missed->empty()) {
                ++notifications;
                alert(std::move(*missed), "catch-up after reconnect");
                if (options.once) break;
            }
            continue;
        }

        pollfd fd{PQsocket(conn->raw()), POLLIN, 0};
        const int ready = poll(&fd, 1, static_cast<int>(std::min<long long>(remaining_ms(), 1000)));
        if (ready < 0) continue;  // EINTR: a signal; over() decides
        if (PQconsumeInput(conn->raw()) == 0 || PQstatus(conn->raw()) != CONNECTION_OK) {
            why = PQerrorMessage(conn->raw());
            conn.reset();
            continue;
        }
        // The payload is not trusted (any role may NOTIFY pgmig_drift): a notification only says "read
        // pgmig.ddl_audit now", and the alert is made from the out-of-band rows found there.
        bool woken = false;
        while (PGnotify* n = PQnotifies(conn->raw())) {
            woken = true;
            PQfreemem(n);
        }
        if (!woken) continue;
        std::optional<nlohmann::json> found = drift_after(*conn, *last_id, why);
        if (!found) {
            conn.reset();  // reconnect; the catch-up reads from the same last_id
            continue;
        }
        nlohmann::json drift = std::move(*found);
        if (!drift.empty()) {
            ++notifications;
            alert(std::move(drift), "notify");
            if (options.once) break;
        }
    }

    const char* why_stopped = g_stop_signal == SIGINT    ? "interrupted"
                              : g_stop_signal == SIGTERM ? "terminated"
                              : options.once && notifications > 0 ? "--once"
                                                                  : "--timeout reached";
    fmt::print("stopped watching ({}): {} drift alert{} sent, {} delivery failure{}\n", why_stopped, alerts,
               alerts == 1 ? "" : "s", undelivered, undelivered == 1 ? "" : "s");
    if (undelivered > 0) {
        std::fflush(stdout);
        std::fprintf(stderr,
                     "pgmig: error: %ld drift alert deliver%s failed, in pgmig watch of %s; the warnings above say why "
                     "(drift itself stays in pgmig.ddl_audit)\n",
                     undelivered, undelivered == 1 ? "y" : "ies", target.c_str());
        return exit_code(ErrorKind::alert_failed);
    }
    return kExitOk;
}

}  // namespace pgmig::client
