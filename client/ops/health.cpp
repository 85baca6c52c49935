// The health checks: one connection, one bounded query per check, a status and a one-line detail for each.
#include "client/ops/health.hpp"

#include "client/core/config.hpp"
#include "client/core/counted.hpp"
#include "client/core/db.hpp"
#include "client/core/errors.hpp"
#include "client/ledger/project.hpp"

#include "common/pg_majors.hpp"
#include "common/version.hpp"

#include <fmt/core.h>
#include <libpq-fe.h>
#include <poll.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <memory>
#include <thread>

namespace pgmig::client {

namespace {

using Clock = std::chrono::steady_clock;
constexpr long long kGraceMs = 500;  // the client-side deadline's margin over statement_timeout

double ms_since(Clock::time_point start) {
    return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// What a bounded query gave: a result, or a timeout (the query was cancelled).
struct Outcome {
    std::optional<Result> result;  // nullopt: timed out
    bool ok() const { return result && result->ok(); }
};

// One connection with a deadline on every query: statement_timeout on the server, and a client-side wait
// that cancels the query when it passes (a server that does not answer at all cannot hang health either).
class Session {
  public:
    Session(const std::string& conninfo, long long timeout_ms) : timeout_ms_(timeout_ms) {
        // connect_timeout in whole seconds (libpq's minimum is 2); it comes after the expanded dbname so it wins.
        const std::string connect_timeout = std::to_string(std::max(2LL, (timeout_ms + 999) / 1000));
        const char* keywords[] = {"dbname", "fallback_application_name", "connect_timeout", nullptr};
        const char* values[] = {conninfo.c_str(), "pgmig health", connect_timeout.c_str(), nullptr};
        conn_.reset(PQconnectdbParams(keywords, values, 1));
    }

    bool connected() const { return conn_ && PQstatus(conn_.get()) == CONNECTION_OK && !broken_; }
    PGconn* raw() const { return conn_.get(); }
    void close() { broken_ = true; }  // no further query on it
    std::string error_message() const {
        return conn_ ? one_line(PQerrorMessage(conn_.get())) : std::string("libpq is out of memory");
    }
    std::string target() const { return conn_ ? describe_target(conn_.get()) : std::string("(unknown)"); }

    Outcome exec(const std::string& sql) {
        Outcome out;
        if (!connected()) {
            out.result.emplace(nullptr);
            return out;
        }
        PGconn* conn = conn_.get();
        if (PQsendQuery(conn, sql.c_str()) == 0) {
            out.result.emplace(nullptr);
            return out;
        }
        // The server's own timeouts come first (their errors say what waited); this deadline, half a second
        // later, is for a server that does not answer at all.
        if (!wait(Clock::now() + std::chrono::milliseconds(timeout_ms_ + kGraceMs))) {
            cancel();
            // Give the server a moment to acknowledge the cancel; if it does not, the connection is unusable.
            if (!wait(Clock::now() + std::chrono::seconds(1))) broken_ = true;
            drain();
            return out;
        }
        // The first failing result wins (a multi-statement string stops there); else the last one.
        PGresult* keep = nullptr;
        while (PGresult* res = PQgetResult(conn)) {
            const bool keep_failed =
                keep != nullptr && PQresultStatus(keep) != PGRES_COMMAND_OK && PQresultStatus(keep) != PGRES_TUPLES_OK;
            if (keep_failed) {
                PQclear(res);
                continue;
            }
            if (keep != nullptr) PQclear(keep);
            keep = res;
        }
        out.result.emplace(keep);
        return out;
    }

  private:
    // True when the result is ready before the deadline.
    bool wait(Clock::time_point deadline) {
        PGconn* conn = conn_.get();
        while (PQisBusy(conn) != 0) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
            if (left <= 0) return false;
            pollfd fd{PQsocket(conn), POLLIN, 0};
            const int n = poll(&fd, 1, static_cast<int>(std::min<long long>(left, 1000)));
            if (n < 0 && errno != EINTR) {
                broken_ = true;
                return true;
            }
            if (n > 0 && PQconsumeInput(conn) == 0) return true;  // the connection broke: PQgetResult says so
        }
        return true;
    }
    void cancel() {
        PGcancel* cancel = PQgetCancel(conn_.get());
        if (cancel == nullptr) return;
        // PQcancel opens a connection of its own and, before libpq 17, ignores connect_timeout: against a
        // server that has stopped answering it could block for minutes. It is sent from its own thread; the
        // caller waits only its own second (exec) and then treats the connection as broken.
        std::thread([cancel] {
            char errbuf[256];
            PQcancel(cancel, errbuf, sizeof errbuf);
            PQfreeCancel(cancel);
        }).detach();
    }
    void drain() {
        if (broken_) return;
        while (PGresult* res = PQgetResult(conn_.get())) PQclear(res);
    }

    std::unique_ptr<PGconn, PGconnDeleter> conn_;
    long long timeout_ms_;
    bool broken_ = false;
};

std::string failure(const Outcome& out, long long timeout_ms) {
    if (!out.result) return fmt::format("no answer within {} (cancelled)", format_age(timeout_ms + kGraceMs));
    const ServerError e = out.result->error();
    return e.sqlstate.empty() ? e.message : fmt::format("{} (SQLSTATE {})", e.message, e.sqlstate);
}

bool permission_denied(const Outcome& out) { return out.result && out.result->error().sqlstate == "42501"; }

// A failed call of a pgmig function: the server's error, and what to grant when it is a permission.
std::string call_failed(const char* function, const Outcome& out, long long timeout_ms) {
    return fmt::format("{} failed: {}{}", function, failure(out, timeout_ms),
                       permission_denied(out) ? "; grant pgmig_reader to the role health connects as" : "");
}

// "a, b, c and 2 more".
std::string list_some(const std::vector<std::string>& items, std::size_t max = 5) {
    std::string out;
    for (std::size_t i = 0; i < items.size() && i < max; ++i) out += (i ? ", " : "") + items[i];
    if (items.size() > max) out += fmt::format(" and {} more", items.size() - max);
    return out;
}

std::string iso_utc(std::chrono::system_clock::time_point t) {
    const std::time_t secs = std::chrono::system_clock::to_time_t(t);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

class Runner {
  public:
    Runner(const std::string& conninfo, const HealthOptions& options) : options_(options), conninfo_(conninfo) {}

    HealthReport run() {
        const auto start = Clock::now();
        report_.environment = options_.environment;
        report_.checked_at = iso_utc(std::chrono::system_clock::now());
        connection();
        if (!options_.readiness_only) server_version();
        extension();
        pending_migrations();
        if (!options_.readiness_only) checksums();
        drift();
        if (!options_.readiness_only) {
            audit_chain();
            audit_recorder();
            blocking_locks();
            long_transactions();
            replication();
            last_backup();
        }
        finish(ms_since(start));
        return std::move(report_);
    }

  private:
    void add(const std::string& name, HealthStatus status, std::string detail, Clock::time_point start) {
        report_.checks.push_back({name, status, std::move(detail), ms_since(start)});
    }
    // A check that needs what an earlier one could not give.
    bool skipped(const std::string& name, bool needs_extension) {
        if (!session_->connected()) {
            add(name, HealthStatus::fail,
                report_.reachable ? "not run: the connection was lost" : "not run: cannot connect", Clock::now());
            return true;
        }
        if (needs_extension && schema_.empty()) {
            add(name, HealthStatus::fail, "not run: the pgmig extension is not usable (see check extension)",
                Clock::now());
            return true;
        }
        return false;
    }
    std::string fn(const char* name) const { return schema_ + "." + name; }

    void connection() {
        const auto start = Clock::now();
        session_ = std::make_unique<Session>(conninfo_, options_.timeout_ms);
        report_.target = session_->target();
        if (!session_->connected()) {
            add("connection", HealthStatus::fail,
                fmt::format("cannot connect: {}; check the connection string or PG* variables and that the server "
                            "is running",
                            session_->error_message()),
                start);
            return;
        }
        const double connect_ms = ms_since(start);
        const std::string setup = fmt::format(
            "SET statement_timeout = {0}; SET lock_timeout = {0}; SET idle_in_transaction_session_timeout = {0}",
            options_.timeout_ms);
        if (Outcome out = session_->exec(setup); !out.ok()) {
            add("connection", HealthStatus::fail, "cannot set the timeouts: " + failure(out, options_.timeout_ms),
                start);
            return;
        }
        if (const std::string before = schemas_before_pg_catalog(session_->raw()); !before.empty()) {
            add("connection", HealthStatus::fail,
                fmt::format("{}; {}", unsafe_search_path_message(before), kUnsafeSearchPathHint), start);
            session_->close();
            return;
        }
        const auto ping = Clock::now();
        Outcome out = session_->exec("SELECT 1");
        if (!out.ok()) {
            add("connection", HealthStatus::fail, "SELECT 1 failed: " + failure(out, options_.timeout_ms), start);
            return;
        }
        report_.reachable = true;
        add("connection", HealthStatus::ok,
            fmt::format("connected in {:.1f} ms, SELECT 1 round trip {:.2f} ms", connect_ms, ms_since(ping)), start);
    }

    void server_version() {
        if (skipped("server_version", false)) return;
        const auto start = Clock::now();
        Outcome out = session_->exec(
            "SELECT current_setting('server_version_num')::int, current_setting('server_version'), "
            "pg_catalog.pg_is_in_recovery()");
        if (!out.ok() || out.result->rows() != 1) {
            add("server_version", HealthStatus::fail, "cannot read the version: " + failure(out, options_.timeout_ms),
                start);
            return;
        }
        in_recovery_ = out.result->get(0, 2) == "t";
        const auto [status, message] =
            judge_server_version(std::stoi(out.result->get(0, 0)), out.result->get(0, 1), in_recovery_);
        add("server_version", status, message, start);
    }

    void extension() {
        if (skipped("extension", false)) return;
        const auto start = Clock::now();
        Outcome out = session_->exec(
            "SELECT pg_catalog.quote_ident(n.nspname), e.extversion FROM pg_catalog.pg_extension e "
            "JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pgmig'");
        if (!out.ok()) {
            add("extension", HealthStatus::fail, "cannot read pg_extension: " + failure(out, options_.timeout_ms),
                start);
            return;
        }
        if (out.result->rows() == 0) {
            add("extension", HealthStatus::fail,
                "the pgmig extension is not installed; run CREATE EXTENSION pgmig; as a superuser", start);
            return;
        }
        const std::string version = out.result->get(0, 1);
        if (version != PGMIG_VERSION) {
            add("extension", HealthStatus::fail,
                fmt::format("extension {} but client {}; run ALTER EXTENSION pgmig UPDATE TO '{}'; or use a pgmig "
                            "client of version {}",
                            version, PGMIG_VERSION, PGMIG_VERSION, version),
                start);
            return;
        }
        schema_ = out.result->get(0, 0);
        add("extension", HealthStatus::ok, fmt::format("pgmig {} in schema {}", version, schema_), start);
    }

    void pending_migrations() {
        if (skipped("pending_migrations", true)) {
            report_.not_ready.emplace_back("pending migrations unknown");
            return;
        }
        const auto start = Clock::now();
        std::vector<MigrationFile> files;
        if (!options_.dir.empty()) files = load_files(options_.dir, "fix the file, or point --dir elsewhere", true);
        Outcome out = session_->exec(fmt::format("SELECT version, name, state, kind FROM {}", fn("migrate_status()")));
        if (!out.ok()) {
            add("pending_migrations", HealthStatus::fail, call_failed("migrate_status()", out, options_.timeout_ms),
                start);
            report_.not_ready.emplace_back("pending migrations unknown");
            return;
        }
        const Result& res = *out.result;
        std::vector<std::string> pending;
        std::vector<std::string> registered_versions;
        std::vector<std::string> registered_repeatables;
        for (int i = 0; i < res.rows(); ++i) {
            const std::string version = res.get(i, 0);
            const std::string name = res.get(i, 1);
            const std::string state = res.get(i, 2);
            const bool repeatable = res.get(i, 3) == "repeatable";
            (repeatable ? registered_repeatables : registered_versions).push_back(repeatable ? name : version);
            if (state == "pending" || state == "out_of_order" || state == "in_progress") {
                pending.push_back(
                    repeatable ? fmt::format("R {}", name)
                               : fmt::format("{}_{}{}", version, name, state == "pending" ? "" : " (" + state + ")"));
            }
        }
        std::size_t unregistered = 0;
        for (const auto& f : files) {
            const bool known =
                f.repeatable()
                    ? std::find(registered_repeatables.begin(), registered_repeatables.end(), f.name) !=
                          registered_repeatables.end()
                    : std::any_of(registered_versions.begin(), registered_versions.end(),
                                  [&f](const std::string& v) { return common::compare_versions(v, f.version) == 0; });
            if (!known) {
                pending.push_back(f.file_name + " (not registered)");
                ++unregistered;
            }
        }
        if (pending.empty()) {
            add("pending_migrations", HealthStatus::ok,
                fmt::format(
                    "none ({} registered{})", res.rows(),
                    options_.dir.empty() ? "" : fmt::format(", {} in {}", counted(files.size(), "file"), options_.dir)),
                start);
            return;
        }
        report_.not_ready.push_back(
            fmt::format("{} pending migration{}", pending.size(), pending.size() == 1 ? "" : "s"));
        add("pending_migrations", HealthStatus::warn,
            fmt::format("{} pending: {}; apply them with pgmig apply{}", pending.size(), list_some(pending),
                        options_.environment == "default" ? std::string() : " --env " + options_.environment),
            start);
    }

    void checksums() {
        if (skipped("checksums", true)) return;
        const auto start = Clock::now();
        Outcome out = session_->exec(fmt::format("SELECT version, name, problem FROM {}", fn("migrate_verify()")));
        if (!out.ok()) {
            add("checksums", permission_denied(out) ? HealthStatus::warn : HealthStatus::fail,
                call_failed("migrate_verify()", out, options_.timeout_ms), start);
            return;
        }
        const Result& res = *out.result;
        if (res.rows() == 0) {
            add("checksums", HealthStatus::ok, "migrate_verify() found no problem", start);
            return;
        }
        std::vector<std::string> problems;
        problems.reserve(static_cast<std::size_t>(res.rows()));
        for (int i = 0; i < res.rows(); ++i)
            problems.push_back(fmt::format("{} \"{}\": {}", res.get(i, 0), res.get(i, 1), res.get(i, 2)));
        add("checksums", HealthStatus::fail,
            fmt::format("{} ledger problem{}: {}; see SELECT * FROM migrate_verify(), then migrate_repair", res.rows(),
                        res.rows() == 1 ? "" : "s", list_some(problems)),
            start);
    }

    void drift() {
        if (skipped("drift", true)) {
            report_.not_ready.emplace_back("drift unknown");
            return;
        }
        const auto start = Clock::now();
        Outcome out = session_->exec(
            fmt::format("SELECT object_type, identity, change, changed_by FROM {}", fn("migrate_drift()")));
        if (!out.ok()) {
            add("drift", HealthStatus::fail, call_failed("migrate_drift()", out, options_.timeout_ms), start);
            report_.not_ready.emplace_back("drift unknown");
            return;
        }
        const Result& res = *out.result;
        if (res.rows() == 0) {
            add("drift", HealthStatus::ok, "the schema is the one the ledger expects", start);
            return;
        }
        std::vector<std::string> objects;
        objects.reserve(static_cast<std::size_t>(res.rows()));
        for (int i = 0; i < res.rows(); ++i) {
            const auto by = res.get_opt(i, 3);
            objects.push_back(fmt::format("{} {} {}{}", res.get(i, 0), res.get(i, 1), res.get(i, 2),
                                          by ? " by " + *by : std::string()));
        }
        report_.not_ready.push_back(
            fmt::format("drift: {} object{} changed out of band", res.rows(), res.rows() == 1 ? "" : "s"));
        add("drift", HealthStatus::fail,
            fmt::format(
                "{} object{} differ{} from the ledger's schema: {}; ship the change as a migration or revert it "
                "(SELECT * FROM migrate_drift())",
                res.rows(), res.rows() == 1 ? "" : "s", res.rows() == 1 ? "s" : "", list_some(objects)),
            start);
    }

    void audit_chain() {
        if (skipped("audit_chain", true)) return;
        const auto start = Clock::now();
        if (in_recovery_) {
            // migrate_audit_verify() seals new rows: a write, which a standby refuses. The chain is the primary's.
            add("audit_chain", HealthStatus::ok, "not checked on a standby (read-only); check the primary", start);
            return;
        }
        // The check reports a skipped seal itself: the server's WARNING would only reach stderr.
        session_->exec("SET client_min_messages = error");
        Outcome out =
            session_->exec(fmt::format("SELECT checked, sealed, first_broken_id, problem, seal_blocked_by, unsealed, "
                                       "jsonb_array_length(resealed) FROM {}",
                                       fn("migrate_audit_verify()")));
        session_->exec("RESET client_min_messages");
        if (!out.ok() || out.result->rows() < 1) {
            add("audit_chain", permission_denied(out) ? HealthStatus::warn : HealthStatus::fail,
                call_failed("migrate_audit_verify()", out, options_.timeout_ms), start);
            return;
        }
        const Result& res = *out.result;
        if (auto problem = res.get_opt(0, 3)) {
            add("audit_chain", HealthStatus::fail,
                fmt::format("broken at audit row {}: {}; run pgmig audit verify and see docs/reference.md; once "
                            "investigated, a superuser clears it with pgmig audit reseal --reason \"...\"",
                            res.get(0, 2), *problem),
                start);
            return;
        }
        // Sealing never waits: a session that holds the seal lock costs a warning, never a failed check.
        if (auto blocker = res.get_opt(0, 4)) {
            add("audit_chain", HealthStatus::warn,
                fmt::format("{} sealed rows checked, intact; {} new rows not sealed: {} holds the seal lock (they are "
                            "sealed once its transaction ends)",
                            res.get(0, 0), res.get(0, 5), *blocker),
                start);
            return;
        }
        const std::string waiting = res.get(0, 5) == "0" ? "" : fmt::format(", {} awaiting the sealer", res.get(0, 5));
        // A resealed break passes, and is said (pgmig audit verify lists who resealed it, when and why).
        const std::string resealed =
            res.is_null(0, 6) ? "" : fmt::format("; {} earlier break(s) resealed (pgmig audit verify)", res.get(0, 6));
        add("audit_chain", HealthStatus::ok,
            fmt::format("{} rows checked, {} newly sealed{}{}", res.get(0, 0), res.get(0, 1), waiting, resealed),
            start);
    }

    // What records DDL (migrate_audit_recorder()): pgmig's event triggers, or its hooks where pgmig is preloaded
    // for every session. The hooks without the preload refuse each session's first DDL (PM067); a mix of enabled
    // and disabled triggers records only part of what the triggers would.
    void audit_recorder() {
        if (skipped("audit_recorder", true)) return;
        const auto start = Clock::now();
        Outcome out = session_->exec(
            fmt::format("SELECT recorder, preloaded, start_trigger, detail FROM {}", fn("migrate_audit_recorder()")));
        if (!out.ok() || out.result->rows() < 1) {
            add("audit_recorder", permission_denied(out) ? HealthStatus::warn : HealthStatus::fail,
                call_failed("migrate_audit_recorder()", out, options_.timeout_ms), start);
            return;
        }
        const Result& res = *out.result;
        const std::string recorder = res.get(0, 0);
        // Without pgmig_ddl_start, a session that has not loaded pgmig runs DDL without the out-of-band policy.
        HealthStatus status = HealthStatus::warn;  // mixed, the hooks without the preload, no start trigger
        if ((recorder == "triggers" || (recorder == "hooks" && !res.is_null(0, 1))) && res.get(0, 2) == "t") {
            status = HealthStatus::ok;
        }
        if (recorder == "none") status = HealthStatus::fail;
        add("audit_recorder", status, fmt::format("{}: {}", recorder, res.get(0, 3)), start);
    }

    void blocking_locks() {
        if (skipped("blocking_locks", false)) return;
        const auto start = Clock::now();
        // Only pids, roles and times: a query's text may hold secrets.
        Outcome out = session_->exec(
            fmt::format("SELECT l.pid, coalesce(a.usename::text, '?'), "
                        "       round(extract(epoch FROM now() - min(l.waitstart)) * 1000)::bigint, "
                        "       array_to_string(pg_catalog.pg_blocking_pids(l.pid), ',') "
                        "  FROM pg_catalog.pg_locks l JOIN pg_catalog.pg_stat_activity a ON a.pid = l.pid "
                        " WHERE NOT l.granted AND l.waitstart < now() - interval '{} milliseconds' "
                        "   AND a.datname = current_database() "
                        " GROUP BY l.pid, a.usename ORDER BY 3 DESC",
                        options_.lock_wait_ms));
        if (!out.ok()) {
            add("blocking_locks", HealthStatus::fail, "cannot read pg_locks: " + failure(out, options_.timeout_ms),
                start);
            return;
        }
        const Result& res = *out.result;
        if (res.rows() == 0) {
            add("blocking_locks", HealthStatus::ok,
                fmt::format("no session waits for a lock longer than {}", format_age(options_.lock_wait_ms)), start);
            return;
        }
        std::vector<std::string> waits;
        waits.reserve(static_cast<std::size_t>(res.rows()));
        for (int i = 0; i < res.rows(); ++i) {
            waits.push_back(fmt::format("pid {} ({}) waiting {} blocked by {}", res.get(i, 0), res.get(i, 1),
                                        format_age(std::stoll(res.get(i, 2))),
                                        res.get(i, 3).empty() ? "?" : "pid " + res.get(i, 3)));
        }
        add("blocking_locks", HealthStatus::warn,
            fmt::format("{} session{} waiting for a lock longer than {}: {}; see pg_stat_activity and "
                        "pg_blocking_pids()",
                        res.rows(), res.rows() == 1 ? "" : "s", format_age(options_.lock_wait_ms), list_some(waits)),
            start);
    }

    void long_transactions() {
        if (skipped("long_transactions", false)) return;
        const auto start = Clock::now();
        Outcome out = session_->exec(
            fmt::format("SELECT pid, coalesce(usename::text, '?'), coalesce(state, '?'), "
                        "       round(extract(epoch FROM now() - xact_start) * 1000)::bigint "
                        "  FROM pg_catalog.pg_stat_activity "
                        " WHERE xact_start < now() - interval '{} milliseconds' AND datname = current_database() "
                        "   AND pid <> pg_catalog.pg_backend_pid() ORDER BY xact_start",
                        options_.long_transaction_ms));
        if (!out.ok()) {
            add("long_transactions", HealthStatus::fail,
                "cannot read pg_stat_activity: " + failure(out, options_.timeout_ms), start);
            return;
        }
        const Result& res = *out.result;
        if (res.rows() == 0) {
            add("long_transactions", HealthStatus::ok,
                fmt::format("no transaction open longer than {}", format_age(options_.long_transaction_ms)), start);
            return;
        }
        std::vector<std::string> txs;
        txs.reserve(static_cast<std::size_t>(res.rows()));
        for (int i = 0; i < res.rows(); ++i) {
            txs.push_back(fmt::format("pid {} ({}, {}) open {}", res.get(i, 0), res.get(i, 1), res.get(i, 2),
                                      format_age(std::stoll(res.get(i, 3)))));
        }
        add("long_transactions", HealthStatus::warn,
            fmt::format("{} transaction{} open longer than {}: {}; they hold locks a migration needs and keep "
                        "VACUUM from cleaning up",
                        res.rows(), res.rows() == 1 ? "" : "s", format_age(options_.long_transaction_ms),
                        list_some(txs)),
            start);
    }

    void replication() {
        if (skipped("replication", false)) return;
        const auto start = Clock::now();
        if (in_recovery_) {
            standby_replay(start);
            return;
        }
        Outcome out = session_->exec(
            "SELECT coalesce(nullif(application_name, ''), 'pid ' || pid), coalesce(state, '?'), "
            "       round(extract(epoch FROM replay_lag) * 1000)::bigint "
            "  FROM pg_catalog.pg_stat_replication ORDER BY 1");
        if (!out.ok()) {
            add("replication", HealthStatus::fail,
                "cannot read pg_stat_replication: " + failure(out, options_.timeout_ms), start);
            return;
        }
        const Result& res = *out.result;
        if (res.rows() == 0) {
            add("replication", HealthStatus::ok, "no standbys", start);
            return;
        }
        std::vector<std::string> standbys;
        std::vector<std::string> lagging;
        for (int i = 0; i < res.rows(); ++i) {
            const std::string name = res.get(i, 0);
            const std::string state = res.get(i, 1);
            const auto lag = res.get_opt(i, 2);
            const std::string lag_text = lag ? format_age(std::stoll(*lag)) : std::string("unknown");
            standbys.push_back(fmt::format("{} {} lag {}", name, state, lag_text));
            if (state != "streaming" || (lag && std::stoll(*lag) > options_.replication_lag_ms))
                lagging.push_back(fmt::format("{} {} lag {}", name, state, lag_text));
        }
        if (lagging.empty()) {
            add("replication", HealthStatus::ok,
                fmt::format("{} standby{}: {}", res.rows(), res.rows() == 1 ? "" : "s", list_some(standbys)), start);
            return;
        }
        add("replication", HealthStatus::warn,
            fmt::format("{} of {} standbys not streaming or behind by more than {}: {}", lagging.size(), res.rows(),
                        format_age(options_.replication_lag_ms), list_some(lagging)),
            start);
    }

    // On a standby: how far behind its primary it replays (the time since the last replayed commit is a
    // lag only while the receive position is ahead of the replay position; an idle primary sends nothing).
    void standby_replay(Clock::time_point start) {
        Outcome out = session_->exec(
            "SELECT round(extract(epoch FROM now() - pg_catalog.pg_last_xact_replay_timestamp()) * 1000)::bigint, "
            "       coalesce(pg_catalog.pg_last_wal_receive_lsn() > pg_catalog.pg_last_wal_replay_lsn(), false), "
            "       EXISTS (SELECT FROM pg_catalog.pg_stat_wal_receiver WHERE status = 'streaming')");
        if (!out.ok() || out.result->rows() != 1) {
            add("replication", HealthStatus::fail,
                "cannot read the replay position: " + failure(out, options_.timeout_ms), start);
            return;
        }
        const auto since = out.result->get_opt(0, 0);
        const bool behind = out.result->get(0, 1) == "t";
        const bool streaming = out.result->get(0, 2) == "t";
        const std::string last = since ? format_age(std::max(0LL, std::stoll(*since))) + " ago" : std::string("never");
        const bool lagging = behind && since && std::stoll(*since) > options_.replication_lag_ms;
        add("replication", !streaming || lagging ? HealthStatus::warn : HealthStatus::ok,
            fmt::format("this server is a standby, {} from its primary; last replayed commit {}{}",
                        streaming ? "streaming" : "NOT streaming", last,
                        lagging  ? fmt::format(", behind by more than {}", format_age(options_.replication_lag_ms))
                        : behind ? " (replaying)"
                                 : " (caught up)"),
            start);
    }

    void last_backup() {
        const auto start = Clock::now();
        if (options_.backup_dir.empty()) {
            add("last_backup", HealthStatus::ok, "not checked (no backup folder)", start);
            return;
        }
        namespace fs = std::filesystem;
        const fs::path folder = fs::path(options_.backup_dir) / options_.environment;
        const std::string suffix = ".pgmig-backup.manifest.json";
        std::optional<std::chrono::system_clock::time_point> newest;
        fs::path newest_manifest;
        std::vector<std::string> unreadable;
        std::error_code ec;
        for (fs::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec)) {
            const std::string name = it->path().filename().string();
            if (name.size() <= suffix.size() || name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0)
                continue;
            std::ifstream in(it->path());
            const nlohmann::json manifest = nlohmann::json::parse(in, nullptr, false);
            std::optional<std::chrono::system_clock::time_point> created;
            if (manifest.is_object() && manifest.value("format", "") == "pgmig-backup/1" &&
                manifest.contains("created_at") && manifest["created_at"].is_string())
                created = parse_utc_timestamp(manifest["created_at"].get<std::string>());
            if (!created) {
                unreadable.push_back(name);
                continue;
            }
            if (!newest || *created > *newest) {
                newest = created;
                newest_manifest = it->path();
            }
        }
        const std::string bad =
            unreadable.empty() ? "" : fmt::format("; unreadable manifests: {}", list_some(unreadable, 3));
        if (!newest) {
            add("last_backup", options_.backup_required || !unreadable.empty() ? HealthStatus::warn : HealthStatus::ok,
                fmt::format("no backups in {}{}{}", folder.string(),
                            options_.backup_required ? " (the environment requires backups: run pgmig backup)"
                                                     : " (not required)",
                            bad),
                start);
            return;
        }
        const long long age_ms =
            std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now() - *newest).count();
        std::string file = newest_manifest.filename().string();
        file.resize(file.size() - std::string(".manifest.json").size());
        const bool present = fs::exists(newest_manifest.parent_path() / file, ec);
        if (!present) {
            add("last_backup", HealthStatus::warn,
                fmt::format("the newest manifest ({}) has no backup file {} beside it{}", iso_utc(*newest), file, bad),
                start);
            return;
        }
        const bool old = age_ms > options_.backup_max_age_ms;
        add("last_backup", old || !unreadable.empty() ? HealthStatus::warn : HealthStatus::ok,
            fmt::format(
                "newest {} ({} ago){}{}", file, format_age(std::max(0LL, age_ms)),
                old ? fmt::format(", older than {}: run pgmig backup", format_age(options_.backup_max_age_ms)) : "",
                bad),
            start);
    }

    void finish(double duration_ms) {
        report_.duration_ms = duration_ms;
        report_.status = HealthStatus::ok;
        for (const auto& c : report_.checks) report_.status = std::max(report_.status, c.status);
        if (!report_.reachable) report_.not_ready.insert(report_.not_ready.begin(), "database not reachable");
        report_.ready = report_.not_ready.empty();
    }

    const HealthOptions& options_;
    const std::string& conninfo_;
    std::unique_ptr<Session> session_;
    bool in_recovery_ = false;  // the server is a standby
    std::string schema_;        // the extension's schema, quoted; empty when the extension is not usable
    HealthReport report_;
};

}  // namespace

const char* to_string(HealthStatus status) {
    switch (status) {
        case HealthStatus::ok:
            return "ok";
        case HealthStatus::warn:
            return "warn";
        case HealthStatus::fail:
            return "fail";
    }
    return "fail";
}

const HealthCheck* HealthReport::find(std::string_view name) const {
    for (const auto& c : checks) {
        if (c.name == name) return &c;
    }
    return nullptr;
}

void apply_environment(HealthOptions& options, const ProjectConfig& config, const Environment* env) {
    options.environment = env ? env->name : "default";
    options.backup_dir = env ? env->backup_settings.dir : config.backup.dir;
    options.backup_required = env ? env->backup : false;
}

HealthReport run_health_checks(const std::string& conninfo, const HealthOptions& options) {
    // Parse first: libpq's parse errors may quote the string (and with it a password).
    char* parse_error = nullptr;
    PQconninfoOption* parsed = PQconninfoParse(conninfo.c_str(), &parse_error);
    if (parsed == nullptr) {
        if (parse_error) PQfreemem(parse_error);
        HealthReport report;
        report.target = "(unparsable connection string)";
        report.environment = options.environment;
        report.checked_at = iso_utc(std::chrono::system_clock::now());
        report.checks.push_back({"connection", HealthStatus::fail,
                                 "cannot parse the connection string; use key=value pairs or a postgresql:// URI", 0});
        report.status = HealthStatus::fail;
        report.not_ready.emplace_back("database not reachable");
        return report;
    }
    PQconninfoFree(parsed);
    return Runner(conninfo, options).run();
}

nlohmann::json to_json(const HealthReport& report) {
    nlohmann::json checks = nlohmann::json::array();
    for (const auto& c : report.checks) {
        checks.push_back({{"name", c.name},
                          {"status", to_string(c.status)},
                          {"detail", c.detail},
                          {"duration_ms", std::round(c.duration_ms * 100) / 100}});
    }
    return {{"status", to_string(report.status)},
            {"ready", report.ready},
            {"not_ready", report.not_ready},
            {"target", report.target},
            {"environment", report.environment},
            {"checked_at", report.checked_at},
            {"duration_ms", std::round(report.duration_ms * 100) / 100},
            {"pgmig_version", PGMIG_VERSION},
            {"checks", checks}};
}

std::pair<HealthStatus, std::string> judge_server_version(int num, const std::string& version, bool standby) {
    const int major = num / 10000;
    const std::string what = fmt::format("PostgreSQL {}{}", version, standby ? " (a standby)" : "");
    if (common::is_tested_major(major)) return {HealthStatus::ok, what};
    std::string tested;
    for (const int m : common::kTestedMajors) tested += (tested.empty() ? "" : ", ") + std::to_string(m);
    if (common::is_supported_major(major)) {
        return {HealthStatus::warn,
                fmt::format("{}: pgmig builds for it but is tested on PostgreSQL {} only", what, tested)};
    }
    return {HealthStatus::warn, fmt::format("{}: pgmig supports PostgreSQL {} to {} (tested on {}); its extension "
                                            "does not build for this one",
                                            what, common::kOldestMajor, common::kNewestMajor, tested)};
}

std::optional<long long> parse_health_duration(std::string_view text) {
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
    long long number = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
    if (ec != std::errc() || end == text.data() || number <= 0) return std::nullopt;
    std::string_view unit(end, static_cast<std::size_t>(text.data() + text.size() - end));
    while (!unit.empty() && unit.front() == ' ') unit.remove_prefix(1);
    long long factor = 0;
    if (unit.empty() || unit == "ms")
        factor = 1;
    else if (unit == "s")
        factor = 1000;
    else if (unit == "min")
        factor = 60LL * 1000;
    else if (unit == "h")
        factor = 3600LL * 1000;
    else if (unit == "d")
        factor = 24LL * 3600 * 1000;
    else
        return std::nullopt;
    if (number > (1LL << 50) / factor) return std::nullopt;  // absurd; also keeps the product in range
    return number * factor;
}

std::string format_age(long long ms) {
    if (ms < 1000) return fmt::format("{}ms", ms);
    const long long s = ms / 1000;
    if (s < 60) return ms % 1000 == 0 ? fmt::format("{}s", s) : fmt::format("{:.1f}s", static_cast<double>(ms) / 1000);
    const long long min = s / 60;
    if (min < 60) return s % 60 ? fmt::format("{}min {}s", min, s % 60) : fmt::format("{}min", min);
    const long long h = min / 60;
    if (h < 24) return min % 60 ? fmt::format("{}h {}min", h, min % 60) : fmt::format("{}h", h);
    const long long d = h / 24;
    return h % 24 ? fmt::format("{}d {}h", d, h % 24) : fmt::format("{}d", d);
}

std::optional<std::chrono::system_clock::time_point> parse_utc_timestamp(std::string_view text) {
    // YYYY-MM-DDTHH:MM:SS, then optional .fraction, then Z or +00:00 (UTC only, as the contract says).
    if (text.size() < 20) return std::nullopt;
    auto digits = [&text](std::size_t pos, std::size_t n, int& out) {
        if (pos + n > text.size()) return false;
        out = 0;
        for (std::size_t i = pos; i < pos + n; ++i) {
            if (!std::isdigit(static_cast<unsigned char>(text[i]))) return false;
            out = out * 10 + (text[i] - '0');
        }
        return true;
    };
    int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
    if (!digits(0, 4, year) || text[4] != '-' || !digits(5, 2, month) || text[7] != '-' || !digits(8, 2, day) ||
        (text[10] != 'T' && text[10] != ' ') || !digits(11, 2, hour) || text[13] != ':' || !digits(14, 2, minute) ||
        text[16] != ':' || !digits(17, 2, second))
        return std::nullopt;
    if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return std::nullopt;
    std::size_t pos = 19;
    if (pos < text.size() && text[pos] == '.') {
        ++pos;
        const std::size_t digits_start = pos;
        while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos]))) ++pos;
        if (pos == digits_start) return std::nullopt;
    }
    const std::string_view zone = text.substr(pos);
    if (zone != "Z" && zone != "+00:00" && zone != "+00") return std::nullopt;
    std::tm tm{};
    tm.tm_year = year - 1900;
    tm.tm_mon = month - 1;
    tm.tm_mday = day;
    tm.tm_hour = hour;
    tm.tm_min = minute;
    tm.tm_sec = second;
    const std::time_t t = timegm(&tm);
    if (t == static_cast<std::time_t>(-1)) return std::nullopt;
    return std::chrono::system_clock::from_time_t(t);
}

}  // namespace pgmig::client
