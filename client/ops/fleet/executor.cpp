// One wave of a fleet run through libpq's asynchronous API (executor.hpp).
#include "client/ops/fleet/executor.hpp"

#include "client/core/counted.hpp"
#include "client/core/db.hpp"
#include "client/ops/fleet/fleet_config_reader.hpp"
#include "client/ledger/ledger_lock.hpp"
#include "client/ledger/project.hpp"

#include "common/version.hpp"

#include <fmt/core.h>
#include <fmt/ranges.h>
#include <libpq-fe.h>
#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <map>
#include <memory>
#include <set>

namespace pgmig::client::fleet {

namespace {

using Clock = std::chrono::steady_clock;
using ResultPtr = std::unique_ptr<PGresult, PGresultDeleter>;

// How long a target waits for its ledger lock before it fails (and a resume retries it).
constexpr int kLedgerLockWaitSeconds = 30;

// The register step's parameters, the same for every target of the run: one text[] per column.
struct RegisterBatch {
    RegisterArrays arrays;
    std::set<std::string> file_versions;
};

RegisterBatch make_batch(const std::vector<MigrationFile>& files) {
    std::vector<const MigrationFile*> all;
    RegisterBatch batch;
    for (const MigrationFile& f : files) {
        all.push_back(&f);
        if (!f.repeatable()) batch.file_versions.insert(f.version);
    }
    batch.arrays = register_arrays(all);
    return batch;
}

enum class Step { preflight, health, begin, lock, register_files, check_plan, set_run, apply, commit, postflight, drift, approve };

const char* step_name(Step step) {
    switch (step) {
    case Step::preflight: return "pre-flight";
    case Step::health: return "the pre-flight ledger, drift and audit chain checks";
    case Step::begin: return "BEGIN";
    case Step::lock: return "the ledger lock";
    case Step::register_files: return "registering the files";
    case Step::check_plan: return "reading the pending migrations";
    case Step::set_run: return "setting pgmig.deploy_run";
    case Step::apply: return "migrate_apply()";
    case Step::commit: return "COMMIT";
    case Step::postflight: return "post-flight";
    case Step::drift: return "migrate_drift()";
    case Step::approve: return "migrate_approve()";
    }
    return "?";
}

class Job {
  public:
    Job(WaveTarget target, const ExecutorSettings& settings, const RegisterBatch& batch)
        : target_(std::move(target)), settings_(settings), batch_(batch) {}
    ~Job() {
        if (conn_ != nullptr) PQfinish(conn_);  // an open transaction is rolled back by the server
    }
    Job(const Job&) = delete;
    Job& operator=(const Job&) = delete;

    void start();
    bool done() const { return phase_ == Phase::done; }
    const std::string& name() const { return target_.name; }
    const std::string& conninfo() const { return target_.conninfo; }
    const Outcome& outcome() const { return outcome_; }
    pollfd want() const;
    // Called after poll(): `revents` of this job's socket (0 when it was not ready).
    void advance(short revents, Clock::time_point now);
    // How long poll() may sleep before this job's deadline (connecting only).
    std::optional<Clock::time_point> deadline() const {
        return phase_ == Phase::connecting ? std::optional(deadline_) : std::nullopt;
    }

  private:
    enum class Phase { connecting, sending, reading, done };

    void send();
    void flush();
    void read();
    void handle();
    void next(Step step) {
        step_ = step;
        send();
    }
    void finish(TargetState state, ErrorKind kind, const std::string& error);
    // libpq's notice processor: a server's WARNING or NOTICE (a lint warning of migrate_apply(), a skipped
    // seal) reaches stderr with the target it came from, not as an anonymous line among hundreds.
    static void on_notice(void* job, const char* message) noexcept;
    void server_failed(const PGresult* res);
    void connection_lost(const char* during);

    WaveTarget target_;
    const ExecutorSettings& settings_;
    const RegisterBatch& batch_;
    PGconn* conn_ = nullptr;
    Phase phase_ = Phase::connecting;
    Step step_ = Step::preflight;
    PostgresPollingStatusType polling_ = PGRES_POLLING_WRITING;
    Clock::time_point started_;
    Clock::time_point deadline_;
    std::string schema_;  // the extension's schema, quoted
    std::vector<ResultPtr> results_;
    Outcome outcome_;
};

void Job::start() {
    started_ = Clock::now();
    deadline_ = started_ + std::chrono::milliseconds(settings_.connect_timeout_ms);
    // expand_dbname: the target's connection string (or URI) as given; the rest are defaults under it.
    const char* keywords[] = {"dbname", "fallback_application_name", nullptr};
    const char* values[] = {target_.conninfo.c_str(), "pgmig fleet", nullptr};
    conn_ = PQconnectStartParams(keywords, values, 1);
    if (conn_ == nullptr) {
        finish(TargetState::unreachable, ErrorKind::connect, "cannot start a connection: out of memory");
        return;
    }
    PQsetNoticeProcessor(conn_, &Job::on_notice, this);
    if (PQstatus(conn_) == CONNECTION_BAD) {
        // A connection string libpq cannot use fails for good; a server that refused at once (a unix socket
        // without a server) is unreachable, as one that does not answer.
        if (const auto problem = conninfo_problem(target_.conninfo)) {
            finish(TargetState::failed, ErrorKind::bad_conninfo, *problem);
        } else {
            finish(TargetState::unreachable, ErrorKind::connect,
                   fmt::format("cannot connect: {}", one_line(PQerrorMessage(conn_))));
        }
    }
}

void Job::on_notice(void* job, const char* message) noexcept {
    try {
        fmt::print(stderr, "pgmig: {}: {}", static_cast<const Job*>(job)->name(), message);
    } catch (...) {  // NOLINT(bugprone-empty-catch): a notice that cannot be written is dropped, never thrown into libpq
    }
}

pollfd Job::want() const {
    pollfd fd{PQsocket(conn_), 0, 0};
    switch (phase_) {
    case Phase::connecting: fd.events = polling_ == PGRES_POLLING_READING ? POLLIN : POLLOUT; break;
    case Phase::sending: fd.events = POLLIN | POLLOUT; break;
    case Phase::reading: fd.events = POLLIN; break;
    case Phase::done: fd.fd = -1; break;
    }
    return fd;
}

void Job::advance(short revents, Clock::time_point now) {
    if (phase_ == Phase::connecting) {
        if (revents != 0) {
            polling_ = PQconnectPoll(conn_);
            if (polling_ == PGRES_POLLING_OK) {
                // Non-blocking sends: a batch of scripts larger than the socket buffer never stalls the loop.
                PQsetnonblocking(conn_, 1);
                next(Step::preflight);
                return;
            }
            if (polling_ == PGRES_POLLING_FAILED) {
                finish(TargetState::unreachable, ErrorKind::connect,
                       fmt::format("cannot connect: {}", one_line(PQerrorMessage(conn_))));
                return;
            }
        }
        if (now >= deadline_) {
            finish(TargetState::unreachable, ErrorKind::connect,
                   fmt::format("no connection within {} s (the fleet's connect_timeout)",
                               static_cast<double>(settings_.connect_timeout_ms) / 1000.0));
        }
        return;
    }
    if (revents == 0) return;
    if ((revents & POLLIN) != 0 && PQconsumeInput(conn_) == 0) {
        connection_lost(step_name(step_));
        return;
    }
    if (phase_ == Phase::sending) flush();
    if (phase_ == Phase::reading) read();
}

void Job::send() {
    const std::string key = kLedgerLockKey;
    const std::string approvals = std::to_string(settings_.require_approvals);
    std::string sql;
    std::vector<const char*> params;
    switch (step_) {
    case Step::preflight:
        // Two statements, no parameters: the extension (its release and schema) and whether search_path puts a
        // schema before pg_catalog (names only, no operator: safe under the search_path it examines).
        sql = "SELECT e.extversion, pg_catalog.quote_ident(n.nspname) FROM pg_catalog.pg_extension e "
              "  JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) e.extnamespace "
              " WHERE e.extname OPERATOR(pg_catalog.=) 'pgmig'; "
              "SELECT s.n FROM pg_catalog.unnest(pg_catalog.current_schemas(true)) WITH ORDINALITY AS s (n, i) "
              " ORDER BY s.i";
        break;
    case Step::health:
        // The ledger as its checksums and history say (migrate_verify(): what pgmig health's "checksums" check
        // reads), the schema as the ledger expects it (drift, unless drift_check = false), and the audit chain
        // intact (migrate_audit_verify(), which seals new rows first: health's "audit_chain" check). The same
        // role needs no more than for migrate_verify(): both are granted to pgmig_reader.
        sql = fmt::format("SELECT (SELECT pg_catalog.count(*) FROM {0}.migrate_verify()), {1}, "
                          "(SELECT v.first_broken_id::pg_catalog.text OPERATOR(pg_catalog.||) ': ' "
                          "        OPERATOR(pg_catalog.||) v.problem "
                          "   FROM {0}.migrate_audit_verify() v WHERE v.problem IS NOT NULL)",
                          schema_,
                          settings_.drift_check ? fmt::format("(SELECT pg_catalog.count(*) FROM {}.migrate_drift())", schema_)
                                                : std::string("0"));
        break;
    case Step::begin: sql = "BEGIN ISOLATION LEVEL READ COMMITTED"; break;
    case Step::lock:
        // Waited for, at most kLedgerLockWait: the session of a client killed mid-run keeps the lock until its
        // server notices (its statement ends), and a resume must not fail on its own earlier run.
        sql = fmt::format("SET LOCAL lock_timeout = '{}s'; SELECT pg_catalog.pg_advisory_xact_lock({}::pg_catalog.int8); "
                          "SET LOCAL lock_timeout TO DEFAULT",
                          kLedgerLockWaitSeconds, key);
        break;
    case Step::register_files:
        sql = register_many_sql(schema_ + ".");
        params = {batch_.arrays.versions.c_str(), batch_.arrays.names.c_str(), batch_.arrays.ups.c_str(),
                  batch_.arrays.downs.c_str(), batch_.arrays.options.c_str()};
        break;
    case Step::check_plan:
        sql = fmt::format(
            "SELECT s.version, s.state, "
            "       coalesce((m.options OPERATOR(pg_catalog.->>) 'transactional')::pg_catalog.bool, true) "
            "  FROM {0}.migrate_status() s LEFT JOIN pgmig.migrations m ON m.version OPERATOR(pg_catalog.=) s.version "
            " WHERE s.kind OPERATOR(pg_catalog.=) 'versioned' "
            "   AND s.state OPERATOR(pg_catalog.=) ANY ('{{pending,out_of_order,in_progress}}'::pg_catalog.text[])",
            schema_);
        break;
    case Step::set_run:
        sql = "SELECT pg_catalog.set_config('pgmig.deploy_run', $1, true), "
              "       pg_catalog.set_config('pgmig.lint_block', "
              "         CASE WHEN $2 OPERATOR(pg_catalog.=) 'off' "
              "                OR pg_catalog.current_setting('pgmig.lint_block') OPERATOR(pg_catalog.=) 'warning' "
              "              THEN pg_catalog.current_setting('pgmig.lint_block') ELSE $2 END, true)";
        params = {settings_.run_id.c_str(), settings_.lint.c_str()};
        break;
    case Step::apply:
        sql = fmt::format("SELECT a.version, a.name, a.action FROM {}.migrate_apply(NULL, "
                          "require_approvals => $1::pg_catalog.int4, environment => $2) a",
                          schema_);
        params = {approvals.c_str(), settings_.environment ? settings_.environment->c_str() : nullptr};
        break;
    case Step::commit: sql = "COMMIT"; break;
    case Step::postflight:
        sql = fmt::format(
            "SELECT (SELECT pg_catalog.count(*) FROM {0}.migrate_status() s "
            "         WHERE s.state OPERATOR(pg_catalog.<>) 'applied'), {1}",
            schema_, settings_.drift_check ? fmt::format("(SELECT pg_catalog.count(*) FROM {}.migrate_drift())", schema_)
                                                : std::string("0"));
        break;
    case Step::drift:
        sql = fmt::format("SELECT d.object_type, d.identity, d.change, coalesce(d.detail, ''), "
                          "coalesce(d.changed_at::pg_catalog.text, ''), coalesce(d.changed_by::pg_catalog.text, '') "
                          "FROM {}.migrate_drift() d",
                          schema_);
        break;
    case Step::approve:
        // One statement: every approval of this target, or none.
        sql = fmt::format(
            "SELECT pg_catalog.count(*) FROM "
            "  (SELECT f.v, f.c, f.n FROM ROWS FROM (pg_catalog.unnest($1::pg_catalog.text[]), "
            "     pg_catalog.unnest($2::pg_catalog.text[]), pg_catalog.unnest($3::pg_catalog.text[])) AS f (v, c, n) "
            // A migration applied here already needs no approval (and migrate_approve() refuses it): approving
            // the fleet again after part of it was deployed approves what the rest still needs.
            "    WHERE f.v IS NULL OR NOT EXISTS (SELECT FROM pgmig.migrations m "
            "           WHERE m.version OPERATOR(pg_catalog.=) f.v AND m.applied_at IS NOT NULL)) AS f, "
            "  LATERAL {}.migrate_approve(f.v, $4, f.c, f.n) a",
            schema_);
        params = {settings_.approve_versions.c_str(), settings_.approve_checksums.c_str(),
                  settings_.approve_names.c_str(), settings_.environment ? settings_.environment->c_str() : nullptr};
        break;
    }
    const int sent = params.empty() && (step_ == Step::preflight || step_ == Step::lock)
                         ? PQsendQuery(conn_, sql.c_str())
                         : PQsendQueryParams(conn_, sql.c_str(), static_cast<int>(params.size()), nullptr,
                                             params.data(), nullptr, nullptr, 0);
    if (sent == 0) {
        connection_lost(step_name(step_));
        return;
    }
    phase_ = Phase::sending;
    flush();
}

void Job::flush() {
    const int rc = PQflush(conn_);
    if (rc < 0) {
        connection_lost(step_name(step_));
    } else if (rc == 0) {
        phase_ = Phase::reading;
        read();
    }
}

void Job::read() {
    while (phase_ == Phase::reading && PQisBusy(conn_) == 0) {
        PGresult* res = PQgetResult(conn_);
        if (res == nullptr) {
            handle();
            return;
        }
        results_.emplace_back(res);
    }
}

void Job::server_failed(const PGresult* res) {
    const char* state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    const char* message = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
    const char* hint = PQresultErrorField(res, PG_DIAG_MESSAGE_HINT);
    const std::string sqlstate = state != nullptr ? state : "";
    if (sqlstate.empty() && PQstatus(conn_) == CONNECTION_BAD) {
        connection_lost(step_name(step_));
        return;
    }
    if (step_ == Step::lock && sqlstate == "55P03") {
        finish(TargetState::failed, ErrorKind::migration_failed,
               fmt::format("another session held this database's ledger lock for more than {} s (a pgmig apply or "
                           "deploy running there); nothing was applied: resume the run once it is done",
                           kLedgerLockWaitSeconds));
        return;
    }
    std::string error = fmt::format("{} failed: {}{}", step_name(step_),
                                    one_line(message != nullptr ? message : PQresultErrorMessage(res)),
                                    sqlstate.empty() ? "" : " (SQLSTATE " + sqlstate + ")");
    if (hint != nullptr) error += "; hint: " + one_line(hint);
    if (sqlstate == "PM032") {
        error += fmt::format("; for every target at once: pgmig fleet approve {} VERSION... as the reviewer", settings_.fleet);
    }
    if (step_ > Step::preflight && step_ <= Step::commit) error += "; nothing was applied (rolled back)";
    if (step_ == Step::approve) error += "; nothing was approved in this database";
    finish(TargetState::failed, kind_for_sqlstate(sqlstate), error);
}

void Job::connection_lost(const char* during) {
    std::string error = fmt::format("the connection was lost during {}: {}", during, one_line(PQerrorMessage(conn_)));
    if (step_ == Step::commit) {
        error += "; whether the transaction committed is in the target's ledger (a resume applies only what is pending)";
    } else if (step_ > Step::begin && step_ < Step::commit) {
        error += "; nothing was applied (the server rolls the transaction back)";
    }
    finish(TargetState::unreachable, ErrorKind::connect, error);
}

void Job::handle() {
    std::vector<ResultPtr> results = std::move(results_);
    results_.clear();
    for (const ResultPtr& res : results) {
        const ExecStatusType status = PQresultStatus(res.get());
        if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
            server_failed(res.get());
            return;
        }
    }
    const PGresult* res = results.empty() ? nullptr : results.back().get();
    const auto value = [&](int row, int col) { return std::string(PQgetvalue(res, row, col)); };
    switch (step_) {
    case Step::preflight: {
        const PGresult* ext = results.front().get();
        if (PQntuples(ext) == 0) {
            finish(TargetState::failed, ErrorKind::extension,
                   "the pgmig extension is not installed in this database: run CREATE EXTENSION pgmig; in it as a "
                   "superuser, then resume the run");
            return;
        }
        if (std::string(PQgetvalue(ext, 0, 0)) != PGMIG_VERSION) {
            finish(TargetState::failed, ErrorKind::extension,
                   fmt::format("the database has pgmig extension {} but this client is {}: run ALTER EXTENSION "
                               "pgmig UPDATE TO '{}'; there, then resume the run",
                               PQgetvalue(ext, 0, 0), PGMIG_VERSION, PGMIG_VERSION));
            return;
        }
        schema_ = PQgetvalue(ext, 0, 1);
        std::vector<std::string> before;
        for (int i = 0; i < PQntuples(res); ++i) {
            const std::string schema = value(i, 0);
            if (schema == "pg_catalog") break;
            if (!schema.starts_with("pg_temp")) before.push_back(quote_identifier(schema));
        }
        if (!before.empty()) {
            finish(TargetState::failed, ErrorKind::unsafe_search_path,
                   unsafe_search_path_message(fmt::format("{}", fmt::join(before, ", "))) + "; " + kUnsafeSearchPathHint);
            return;
        }
        switch (settings_.task) {
        case ExecutorSettings::Task::deploy: next(Step::health); break;
        case ExecutorSettings::Task::drift: next(Step::drift); break;
        case ExecutorSettings::Task::approve: next(Step::approve); break;
        }
        return;
    }
    case Step::health: {
        // The first check that fails says what it found and what to run; nothing was applied.
        std::optional<std::string> problem;
        if (value(0, 0) != "0") {
            problem = fmt::format(
                "migrate_verify() finds {} in the ledger (an applied migration's checksum or "
                "history does not match); nothing was applied: pgmig validate -d ... on this target "
                "names them",
                counted(std::stoll(value(0, 0)), "problem"));
        } else if (value(0, 1) != "0") {
            problem = fmt::format("{} objects differ from what the ledger expects (drift); nothing was applied: pgmig "
                                  "fleet drift {} shows them; record or revert them (pgmig drift --adopt or --fix, -d "
                                  "this target)",
                                  value(0, 1), settings_.fleet);
        } else if (PQgetisnull(res, 0, 2) == 0) {
            problem = fmt::format("the audit chain is broken at audit row {}; nothing was applied: pgmig audit verify "
                                  "-d ... on this target shows it; once investigated, a superuser records the break "
                                  "with pgmig audit reseal --reason \"...\"",
                                  value(0, 2));
        }
        if (problem) {
            finish(TargetState::failed, ErrorKind::health_failed, *problem + ", then resume the run");
            return;
        }
        next(Step::begin);
        return;
    }
    case Step::begin: next(Step::lock); return;
    case Step::lock: next(Step::register_files); return;
    case Step::register_files: next(Step::check_plan); return;
    case Step::check_plan: {
        std::vector<std::string> nontx, no_file;
        for (int i = 0; i < PQntuples(res); ++i) {
            const std::string version = value(i, 0);
            if (value(i, 2) != "t") nontx.push_back(version);
            if (!batch_.file_versions.contains(version)) no_file.push_back(version);
        }
        if (!no_file.empty()) {
            finish(TargetState::failed, ErrorKind::ledger_only,
                   fmt::format("pending migration {} is registered in this database but no file holds it; nothing was "
                               "applied: deploy it with pgmig deploy --env (--allow-ledger-only) or remove it, then "
                               "resume the run",
                               fmt::join(no_file, ", ")));
            return;
        }
        if (!nontx.empty()) {
            finish(TargetState::failed, ErrorKind::input,
                   fmt::format("non-transactional migration {} is pending; a fleet run applies transactional "
                               "migrations only, so nothing was applied: apply it with pgmig apply -d ... on this "
                               "target, then resume the run",
                               fmt::join(nontx, ", ")));
            return;
        }
        next(Step::set_run);
        return;
    }
    case Step::set_run: next(Step::apply); return;
    case Step::apply:
        for (int i = 0; i < PQntuples(res); ++i) {
            outcome_.applied.push_back(PQgetisnull(res, i, 0) != 0 ? "R__" + value(i, 1) : value(i, 0));
        }
        next(Step::commit);
        return;
    case Step::commit: next(Step::postflight); return;
    case Step::postflight: {
        const std::string pending = value(0, 0);
        const std::string drift = value(0, 1);
        if (pending != "0" || drift != "0") {
            finish(TargetState::failed, ErrorKind::postflight_failed,
                   fmt::format(
                       "applied ({}), but the post-flight check found {} not applied and {}: look at pgmig "
                       "status and pgmig drift on this target",
                       outcome_.applied.empty() ? "nothing new" : fmt::format("{}", fmt::join(outcome_.applied, ", ")),
                       counted(std::stoll(pending), "migration"), counted(std::stoll(drift), "drifted object")));
            return;
        }
        finish(TargetState::done, ErrorKind::internal, "");
        return;
    }
    case Step::approve: finish(TargetState::done, ErrorKind::internal, ""); return;
    case Step::drift:
        for (int i = 0; i < PQntuples(res); ++i) {
            outcome_.drift.push_back({value(i, 0), value(i, 1), value(i, 2), value(i, 3), value(i, 4), value(i, 5)});
        }
        finish(TargetState::done, ErrorKind::internal, "");
        return;
    }
}

void Job::finish(TargetState state, ErrorKind kind, const std::string& error) {
    phase_ = Phase::done;
    outcome_.state = state;
    outcome_.kind = kind;
    outcome_.error = error;
    outcome_.seconds = std::chrono::duration<double>(Clock::now() - started_).count();
    if (state != TargetState::done && state != TargetState::failed) outcome_.applied.clear();
    if (state == TargetState::failed && step_ <= Step::commit) outcome_.applied.clear();  // rolled back
    if (conn_ != nullptr) {
        PQfinish(conn_);
        conn_ = nullptr;
    }
}

}  // namespace

std::vector<std::string> run_wave(const std::vector<WaveTarget>& targets, int parallel,
                                  const ExecutorSettings& settings, const std::vector<MigrationFile>& files,
                                  const WaveCallbacks& callbacks) {
    const RegisterBatch batch = make_batch(files);
    std::set<std::string> in_call;
    for (const WaveTarget& t : targets) in_call.insert(t.name);
    std::map<std::string, TargetState> ended;  // the targets of this call that have ended
    std::vector<std::size_t> queue;
    for (std::size_t i = 0; i < targets.size(); ++i) queue.push_back(i);
    std::vector<std::unique_ptr<Job>> active;
    std::map<std::string, int> running_on;  // running targets per server (per_server)
    auto last_tick = Clock::now();
    while (true) {
        bool changed = false;
        for (auto it = queue.begin();
             it != queue.end() && static_cast<int>(active.size()) < parallel && !callbacks.stop_starting();) {
            const WaveTarget& target = targets[*it];
            if (settings.per_server > 0 && running_on[server_from_conninfo(target.conninfo)] >= settings.per_server) {
                ++it;  // its server is busy: a later target of another server may start
                continue;
            }
            std::string blocked_by;
            bool waiting = false;
            for (const std::string& first : target.after) {
                if (!in_call.contains(first)) continue;  // done in an earlier run or wave
                const auto e = ended.find(first);
                if (e == ended.end()) {
                    waiting = true;
                } else if (e->second != TargetState::done) {
                    blocked_by = first;
                }
            }
            if (!blocked_by.empty()) {
                Outcome skipped;
                skipped.state = TargetState::skipped;
                skipped.error = fmt::format("not started: {} must be migrated first and ended {}", blocked_by,
                                            state_name(ended.at(blocked_by)));
                callbacks.finished(target.name, skipped);
                ended[target.name] = TargetState::skipped;
                it = queue.erase(it);
                changed = true;
                continue;
            }
            if (waiting) {
                ++it;
                continue;
            }
            auto job = std::make_unique<Job>(target, settings, batch);
            it = queue.erase(it);
            callbacks.started(job->name());
            job->start();
            changed = true;
            if (job->done()) {
                ended[job->name()] = job->outcome().state;
                callbacks.finished(job->name(), job->outcome());
            } else {
                ++running_on[server_from_conninfo(target.conninfo)];
                active.push_back(std::move(job));
            }
        }
        if (changed) callbacks.tick();
        if (active.empty()) break;
        std::vector<pollfd> fds;
        auto now = Clock::now();
        auto wake = now + std::chrono::seconds(1);
        for (const auto& job : active) {
            fds.push_back(job->want());
            if (const auto d = job->deadline()) wake = std::min(wake, *d);
        }
        const auto wait_ms = std::chrono::duration_cast<std::chrono::milliseconds>(wake - now).count();
        if (::poll(fds.data(), fds.size(), static_cast<int>(std::max<long long>(wait_ms, 0) + 1)) < 0 &&
            errno != EINTR) {
            throw Error(ErrorKind::internal, fmt::format("poll() failed: {}", std::strerror(errno)),
                        "waiting for the fleet's targets", "please report this as a bug");
        }
        now = Clock::now();
        changed = false;
        for (std::size_t i = 0; i < active.size(); ++i) active[i]->advance(fds[i].revents, now);
        for (auto it = active.begin(); it != active.end();) {
            if ((*it)->done()) {
                --running_on[server_from_conninfo((*it)->conninfo())];
                ended[(*it)->name()] = (*it)->outcome().state;
                callbacks.finished((*it)->name(), (*it)->outcome());
                it = active.erase(it);
                changed = true;
            } else {
                ++it;
            }
        }
        if (changed || now - last_tick >= std::chrono::seconds(1)) {
            callbacks.tick();
            last_tick = now;
        }
    }
    std::vector<std::string> never_started;
    never_started.reserve(queue.size());
    for (const std::size_t i : queue) never_started.push_back(targets[i].name);
    return never_started;
}

}  // namespace pgmig::client::fleet
