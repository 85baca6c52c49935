// pgmig apply: registers every migration file and applies what is pending. Transactional migrations go
// through migrate_apply() (whole transaction retried on a lock timeout); non-transactional ones run
// statement by statement on this connection under the session-level ledger lock, resumable.
#include "client/cli/commands/commands.hpp"
#include "client/core/counted.hpp"
#include "client/core/config.hpp"
#include "client/core/db.hpp"
#include "client/core/errors.hpp"
#include "client/ledger/file_lines.hpp"
#include "client/ledger/integrity.hpp"
#include "client/ledger/ledger_lock.hpp"
#include "client/ledger/migration_files.hpp"
#include "client/ops/monitor.hpp"
#include "client/core/audit_log.hpp"
#include "client/ledger/project.hpp"
#include "client/core/sql_names.hpp"

#include "common/duration.hpp"
#include "common/version.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <thread>
#include <vector>

namespace pgmig::client {

namespace {

using Clock = std::chrono::steady_clock;

long long ms_since(Clock::time_point start) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
}

// A server refusal inside a transactional step: the retry loop decides whether to try again.
struct StepFailure {
    ServerError error;
    std::string where;
};

struct PlanItem {
    std::string version, name, state;
    bool transactional = true;
    const MigrationFile* file = nullptr;
};

// What the database must check of every migration this run applies (migrate_apply's require_approvals and
// environment): from --env and the environment's `approval` in pgmig.toml.
struct ApprovalPolicy {
    int required = 0;
    std::optional<std::string> environment;
};

class Applier {
  public:
    Applier(const Connection& conn, const ApplyOptions& options, std::string dir, std::vector<MigrationFile> files,
            ApprovalPolicy policy)
        : conn_(conn), options_(options), dir_(std::move(dir)), files_(std::move(files)), policy_(std::move(policy)) {}

    int run();
    const std::vector<MigrationFile>& files() const { return files_; }

  private:
    // Runs step inside one transaction, retrying the whole transaction on SQLSTATE 55P03.
    void in_transaction(const std::function<void()>& step);
    void apply_up_to(const std::optional<std::string>& target);
    void check_target();
    void check_ledger_only();
    std::vector<PlanItem> read_plan();
    void run_nontransactional(const PlanItem& item);
    void drop_invalid_index(const std::string& statement, int n, const MigrationFile& file);
    const MigrationFile* file_of(const std::string& version) const { return find_versioned(files_, version); }
    std::string label_of(const std::optional<std::string>& version, const std::string& name) const {
        return version ? *version + "_" + name : "R__" + name;
    }

    const Connection& conn_;
    const ApplyOptions& options_;
    std::string dir_;
    std::vector<MigrationFile> files_;
    ApprovalPolicy policy_;
    int applied_ = 0;
    std::vector<std::string> lines_;     // "applied ..." lines of the current transaction, printed once it commits
    std::vector<std::string> versions_;  // versions of those lines, for the audit log once it commits
};

void Applier::check_target() {
    Result res = conn_.exec("SELECT version FROM migrate_status() WHERE kind = 'versioned'");
    if (!res.ok()) throw StepFailure{res.error(), "reading migrate_status()"};
    for (int i = 0; i < res.rows(); ++i) {
        if (common::compare_versions(res.get(i, 0), options_.to) == 0) return;
    }
    throw Error(ErrorKind::input, fmt::format("target version {} is not a registered migration", options_.to),
                fmt::format("in --to (files in {})", dir_), "see pgmig status for the versions; nothing was applied");
}

void Applier::in_transaction(const std::function<void()>& step) {
    long long wait_ms = options_.retry_wait_ms;
    for (int attempt = 1;; ++attempt) {
        StepFailure failure;
        {
            Transaction tx(conn_);
            lines_.clear();
            versions_.clear();
            try {
                step();
                Result res = tx.commit();
                if (res.ok()) {
                    for (const auto& line : lines_) fmt::print("{}\n", line);
                    std::fflush(stdout);
                    applied_ += static_cast<int>(lines_.size());
                    for (const auto& v : versions_) audit_note_version(v);  // committed, so logged
                    return;
                }
                failure = {res.error(), fmt::format("committing, in {}", conn_.target())};
            } catch (StepFailure& f) {
                failure = std::move(f);
            }
        }  // rolled back here unless committed
        const bool lock_timeout = failure.error.sqlstate == "55P03";
        if (lock_timeout && attempt <= options_.retries) {
            fmt::print("lock timeout (attempt {} of {}): {}; retrying the whole transaction in {} ms\n", attempt,
                       options_.retries + 1, one_line(failure.error.message), wait_ms);
            std::fflush(stdout);
            std::this_thread::sleep_for(std::chrono::milliseconds(wait_ms));
            wait_ms *= 2;
            continue;
        }
        std::string next =
            "nothing of this transaction was applied (rolled back); fix the cause and run pgmig apply again";
        if (lock_timeout) {
            next = fmt::format(
                "gave up after {} attempts, nothing of this transaction was applied; find the session holding the "
                "lock (pg_locks, pg_stat_activity) or raise --retries/--retry-wait",
                attempt);
        }
        // The extension counts lines in the script it ran; the user reads the file.
        throw_server_error(in_file_lines(failure.error, files_), failure.where, next);
    }
}

// Pending migrations that no file holds are refused (exit 37) unless --allow-ledger-only names them; those
// it names are registered again as they stand, so that this role vouches for exactly what it was shown.
// Called with the ledger lock held, so nothing registered later slips in before migrate_apply().
void Applier::check_ledger_only() {
    std::vector<LedgerOnly> found;
    for (LedgerOnly& m : ledger_only_migrations(conn_, files_)) {
        if (!options_.to.empty() && (!m.version || common::compare_versions(*m.version, options_.to) > 0)) continue;
        found.push_back(std::move(m));
    }
    refuse_ledger_only(found, options_.allow_ledger_only, fmt::format("in {} against {}", dir_, conn_.target()),
                       "nothing was applied");
    for (const LedgerOnly& m : found) {
        vouch_for(conn_, m);
        fmt::print("applying ledger-only {} as registered (--allow-ledger-only)\n", m.describe());
    }
}

void Applier::apply_up_to(const std::optional<std::string>& target) {
    // The approvals are checked by migrate_apply() itself, after its ledger lock: nothing registered or
    // changed since pgmig approvals / deploy's approval step escapes them.
    Result res = conn_.exec_params(
        "SELECT version, name, action, round(extract(epoch FROM duration) * 1000)::bigint AS ms "
        "FROM migrate_apply($1, require_approvals => $2::int, environment => $3)",
        {target, std::to_string(policy_.required), policy_.environment});
    if (!res.ok()) throw StepFailure{res.error(), fmt::format("applying migrations from {}", dir_)};
    for (int i = 0; i < res.rows(); ++i) {
        const std::string ms = res.is_null(i, 3) ? std::string("?") : res.get(i, 3);
        lines_.push_back(fmt::format("{} {} ({} ms)", res.get(i, 2), label_of(res.get_opt(i, 0), res.get(i, 1)), ms));
        if (!res.is_null(i, 0)) versions_.push_back(res.get(i, 0));
    }
}

// The pending versioned migrations up to --to, in version order, with whether each is transactional.
std::vector<PlanItem> Applier::read_plan() {
    Result res = conn_.exec(
        "SELECT s.version, s.name, s.state, coalesce((m.options->>'transactional')::boolean, true) "
        "  FROM migrate_status() WITH ORDINALITY AS s "
        "  JOIN pgmig.migrations m ON m.version = s.version "
        " WHERE s.kind = 'versioned' AND s.state IN ('pending', 'out_of_order', 'in_progress') "
        " ORDER BY s.ordinality");
    if (!res.ok()) throw StepFailure{res.error(), "reading the plan from migrate_status()"};
    std::vector<PlanItem> plan;
    for (int i = 0; i < res.rows(); ++i) {
        PlanItem item{res.get(i, 0), res.get(i, 1), res.get(i, 2), res.get(i, 3) == "t", nullptr};
        if (!options_.to.empty() && common::compare_versions(item.version, options_.to) > 0) continue;
        item.file = file_of(item.version);
        plan.push_back(std::move(item));
    }
    return plan;
}

void Applier::drop_invalid_index(const std::string& statement, int n, const MigrationFile& file) {
    const auto target = concurrent_index_target(statement);
    if (!target) return;
    Result res = conn_.exec_params(
        "SELECT format('%I.%I', ns.nspname, c.relname) FROM pg_catalog.pg_index i "
        "  JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid "
        "  JOIN pg_catalog.pg_namespace ns ON ns.oid = c.relnamespace "
        " WHERE i.indrelid = to_regclass($1) AND c.relname = $2 AND NOT i.indisvalid",
        {target->table, target->index});
    if (!res.ok() || res.rows() == 0) return;
    const std::string index = res.get(0, 0);
    fmt::print(
        "dropping invalid index {} left by an earlier failed run of statement {} of {}, before building it "
        "again\n",
        index, n, file.label());
    std::fflush(stdout);
    Result drop = conn_.exec("DROP INDEX CONCURRENTLY IF EXISTS " + index);
    if (!drop.ok()) {
        throw_server_error(drop.error(), fmt::format("dropping invalid index {} (from {})", index, file.path.string()),
                           "drop it by hand, then run pgmig apply again");
    }
}

void Applier::run_nontransactional(const PlanItem& item) {
    const MigrationFile& file = *item.file;
    const std::string where_file = fmt::format("in {} (version {})", file.path.string(), file.version);
    auto call = [&](const std::string& sql, const std::vector<std::optional<std::string>>& params) {
        Result res = conn_.exec_params(sql, params);
        if (!res.ok())
            throw_server_error(in_file_lines(res.error(), files_), where_file, "run pgmig apply again to resume");
        return res;
    };
    const auto start = Clock::now();
    const bool resumed = item.state == "in_progress";
    Result begin = call("SELECT migrate_nontx_begin($1, require_approvals => $2::int, environment => $3)",
                        {item.version, std::to_string(policy_.required), policy_.environment});
    const int done = std::stoi(begin.get(0, 0));
    Result stmts =
        call("SELECT n, line, statement, needs_no_transaction FROM pgmig.split_statements($1)", {file.up_sql});
    if (done > 0) {
        fmt::print("resuming {} after statement {} of {}\n", file.label(), done, stmts.rows());
    }
    // The migration's timeouts (else pgmig.lock_timeout / pgmig.statement_timeout) bound each statement, as
    // in migrate_apply(). Here every statement is top-level, so plain settings work.
    const auto set_timeout = [&](const char* setting, const char* fallback) {
        const std::string value =
            file.options.contains(setting) ? file.options[setting].get<std::string>() : std::string();
        call(fmt::format("SELECT set_config('{0}', coalesce($1, current_setting('pgmig.{0}', true), '{1}'), false)",
                         setting, fallback),
             {value.empty() ? std::nullopt : std::optional(value)});
    };
    set_timeout("lock_timeout", "5s");
    set_timeout("statement_timeout", "0");
    for (int i = 0; i < stmts.rows(); ++i) {
        const int n = std::stoi(stmts.get(i, 0));
        if (n <= done) continue;
        const int line = file.up_first_line + std::stoi(stmts.get(i, 1)) - 1;
        const std::string statement = stmts.get(i, 2);
        if (resumed && stmts.get(i, 3) == "CREATE INDEX CONCURRENTLY") {
            // The statement an interrupted run was in may have completed after its client died (its backend
            // goes on until it writes to the client): its valid index of the same definition counts as done.
            if (n == done + 1) {
                Result adopted =
                    call("SELECT migrate_nontx_adopt_index($1, $2::int)", {item.version, std::to_string(n)});
                if (!adopted.is_null(0, 0)) {
                    fmt::print(
                        "statement {} of {} completed after the run that sent it stopped (index {} is valid and "
                        "as the statement defines it): recorded as done\n",
                        n, file.label(), adopted.get(0, 0));
                    std::fflush(stdout);
                    continue;
                }
            }
            drop_invalid_index(statement, n, file);
        }
        Result res = conn_.exec(statement);  // one statement per PQexec: no implicit transaction block
        if (!res.ok()) {
            const ServerError e = without_secrets(conn_, statement, res.error());
            conn_.exec_params("SELECT migrate_nontx_failed($1, $2::int, $3, $4)",
                              {item.version, std::to_string(n), e.sqlstate.empty() ? "XX000" : e.sqlstate, e.message});
            conn_.exec("RESET lock_timeout; RESET statement_timeout");
            const std::string what =
                fmt::format("statement {} of non-transactional migration {} failed: {}{}", n, file.label(), e.message,
                            e.sqlstate.empty() ? "" : " (SQLSTATE " + e.sqlstate + ")");
            std::string next = n == 1 ? std::string("nothing of it is done")
                                      : fmt::format("statements 1 to {} are done and stay", n - 1);
            next += fmt::format("; fix the cause and run pgmig apply again: it resumes at statement {}", n);
            throw Error(ErrorKind::migration_failed, what, fmt::format("{} line {}", where_file, line), next, e.hint);
        }
        call("SELECT migrate_nontx_progress($1, $2::int)", {item.version, std::to_string(n)});
    }
    conn_.exec("RESET lock_timeout; RESET statement_timeout");
    const long long ms = ms_since(start);
    call("SELECT migrate_nontx_finish($1, $2::interval)", {item.version, interval_ms(ms)});
    audit_note_version(item.version);
    fmt::print("applied {} ({} ms, non-transactional)\n", file.label(), ms);
    std::fflush(stdout);
    ++applied_;
}

int Applier::run() {
    // Held for the whole run, whatever the migrations: the non-transactional steps need it, no other applier
    // may interleave, and the transaction-level lock taken below (and by migrate_apply()) is then granted at
    // once, so no statement of this run ever waits for another applier while holding a snapshot.
    LedgerLock ledger_lock(conn_, "nothing was applied");

    // First transaction: register everything, then apply up to the first non-transactional migration.
    std::vector<PlanItem> plan;
    std::size_t next = 0;
    in_transaction([&] {
        // The ledger lock first: from here to migrate_apply() nobody else registers anything.
        Result lock = conn_.exec_params("SELECT pg_advisory_xact_lock($1::bigint)", {std::string(kLedgerLockKey)});
        if (!lock.ok()) throw StepFailure{lock.error(), "taking the ledger lock"};
        register_files(conn_, files_);  // a refusal throws Error: not retried
        if (!options_.to.empty()) check_target();
        check_ledger_only();
        plan = read_plan();
        for (const auto& item : plan) {
            if (!item.transactional && item.file == nullptr) {
                throw Error(ErrorKind::input,
                            fmt::format("non-transactional migration {} is pending but has no file", item.version),
                            "in " + dir_, "restore its file; pgmig runs non-transactional migrations from files");
            }
        }
        next = 0;
        while (next < plan.size() && plan[next].transactional) ++next;
        if (next == plan.size()) {
            std::optional<std::string> target;
            if (!options_.to.empty()) target = options_.to;
            apply_up_to(target);
        } else if (next > 0) {
            apply_up_to(plan[next - 1].version);
        }
    });

    // Then alternate: a non-transactional migration on its own, the transactional ones up to the next.
    if (next < plan.size()) {
        if (std::any_of(plan.begin(), plan.end(), [](const PlanItem& p) { return p.state == "out_of_order"; })) {
            Result policy = conn_.exec("SELECT current_setting('pgmig.out_of_order', true)");
            if (!policy.ok() || policy.get(0, 0) != "allow") {
                throw Error(
                    ErrorKind::out_of_order,
                    "pending migrations older than the newest applied one, among non-transactional ones", "in " + dir_,
                    "check them, then SET pgmig.out_of_order = allow (PGOPTIONS='-c pgmig.out_of_order=allow')");
            }
        }
        while (next < plan.size()) {
            run_nontransactional(plan[next]);
            std::size_t end = next + 1;
            while (end < plan.size() && plan[end].transactional) ++end;
            std::optional<std::string> target;
            if (end < plan.size()) {
                if (end > next + 1) target = plan[end - 1].version;
            } else if (!options_.to.empty()) {
                target = options_.to;
            }
            // Without a target, migrate_apply() also runs the repeatable migrations, last.
            if (target || end == plan.size()) in_transaction([&] { apply_up_to(target); });
            next = end;
        }
    }
    ledger_lock.release();

    // Where the database stands now, from the ledger itself.
    Result state = conn_.exec(
        "SELECT (SELECT s.version FROM migrate_status() WITH ORDINALITY AS s "
        "         WHERE s.kind = 'versioned' AND s.state <> 'pending' ORDER BY s.ordinality DESC LIMIT 1), "
        "       (SELECT count(*) FROM migrate_status() AS s WHERE s.state IN ('pending', 'out_of_order', "
        "'in_progress'))");
    std::string at = "no version";
    long long pending = 0;
    if (state.ok() && state.rows() == 1) {
        if (!state.is_null(0, 0)) at = "version " + state.get(0, 0);
        pending = std::stoll(state.get(0, 1));
    }
    const std::string head = applied_ == 0 ? std::string("nothing to apply") : fmt::format("{} applied", applied_);
    if (pending == 0) {
        fmt::print("{}, database up to date at {}\n", head, at);
    } else {
        fmt::print("{}, database at {}, {} pending\n", head, at, pending);
    }
    return kExitOk;
}

// --check-integrity: what the apply changed in migrate_check_integrity()'s report. New problems are
// reported; only with "strict" do new errors change the exit code (18), since the migrations are applied
// by then either way.
int report_integrity_change(const std::vector<IntegrityFinding>& before, const std::vector<IntegrityFinding>& after,
                            bool strict, int rc) {
    const IntegrityDiff diff = diff_integrity(before, after);
    fmt::print("integrity: {} before, {} after: {} new, {} resolved, {} changed\n", counted(before.size(), "problem"),
               after.size(), diff.added.size(), diff.resolved.size(), diff.changed.size());
    for (const auto& f : diff.added) fmt::print("  new {}: {}\n", f.severity, integrity_line(f));
    for (const auto& f : diff.resolved) fmt::print("  resolved: {}\n", integrity_line(f));
    for (const auto& [old_f, new_f] : diff.changed) {
        fmt::print("  changed ({} -> {}{}): {}\n", old_f.severity, new_f.severity,
                   old_f.count != new_f.count
                       ? fmt::format(", {} -> {} rows", old_f.count ? std::to_string(*old_f.count) : "?",
                                     new_f.count ? std::to_string(*new_f.count) : "?")
                       : std::string(),
                   integrity_line(new_f));
    }
    const auto new_errors = std::count_if(diff.added.begin(), diff.added.end(),
                                          [](const IntegrityFinding& f) { return f.severity == "error"; }) +
                            std::count_if(diff.changed.begin(), diff.changed.end(), [](const auto& p) {
                                return p.first.severity != "error" && p.second.severity == "error";
                            });
    std::fflush(stdout);
    if (strict && new_errors > 0 && rc == kExitOk) {
        std::fprintf(stderr,
                     "pgmig: error: %ld new integrity problems after applying, in the database just migrated; the "
                     "migrations stay applied: fix the data (see above) or roll back with pgmig rollback\n",
                     static_cast<long>(new_errors));
        return exit_code(ErrorKind::integrity_regressed);
    }
    return rc;
}

}  // namespace

int run_apply(const GlobalOptions& global, const ApplyOptions& options_given) {
    ApplyOptions options = options_given;
    const auto wait = common::parse_duration_ms(options.retry_wait);
    if (!wait || *wait <= 0) {
        throw Error(ErrorKind::usage, fmt::format("bad --retry-wait '{}'", options.retry_wait), "on the command line",
                    "give a duration such as 500ms, 1s or 1min");
    }
    options.retry_wait_ms = *wait;
    if (options.retries < 0 || options.retries > 100) {
        throw Error(ErrorKind::usage, fmt::format("bad --retries {}", options.retries), "on the command line",
                    "give a number from 0 to 100");
    }
    if (!options.to.empty()) {
        if (auto problem = common::version_problem(options.to)) {
            throw Error(ErrorKind::input, fmt::format("bad target version '{}': {}", options.to, *problem), "in --to",
                        "give a version such as 3 or 1.2");
        }
    }
    // All input is checked before any connection is made: bad files never reach a database.
    const std::string dir = resolve_migrations_dir(options.dir);
    std::vector<MigrationFile> files = load_files(dir, "nothing was applied");

    ApprovalPolicy policy;
    if (!options.env.empty()) {
        // The environment's approval = true becomes a requirement migrate_apply() checks itself; its name is
        // checked against the database's pgmig.environment (a staging entry pointing at production is refused).
        const ProjectConfig config = load_project_config();
        const Environment& env = find_environment(config, options.env);
        policy.required = env.approval ? 1 : 0;
        policy.environment = env.name;
    }
    const std::string conninfo = connection_for(global, options.env);
    Connection conn = Connection::open(conninfo);
    // Nothing to do is the common case of a deploy script's run: one query says so (see up_to_date()).
    if (options.to.empty() && options.check_integrity.empty()) {
        if (const auto at = up_to_date(conn, files, policy.environment, policy.required)) {
            fmt::print("nothing to apply, database up to date at {}\n", *at);
            return kExitOk;
        }
    }
    require_extension(conn);
    // On a terminal, a second connection shows the progress of this connection's backend.
    const auto run_with_progress = [&](Applier& applier) {
        LiveProgress live(conninfo, PQbackendPID(conn.raw()), &applier.files());
        const int rc = applier.run();
        live.stop();
        return rc;
    };
    if (options.check_integrity.empty()) {
        Applier applier(conn, options, dir, std::move(files), policy);
        return run_with_progress(applier);
    }
    const auto before = read_integrity(conn, "checking integrity before applying (nothing was applied)");
    Applier applier(conn, options, dir, std::move(files), policy);
    const int rc = run_with_progress(applier);
    const auto after = read_integrity(conn, "checking integrity after applying (the migrations stay applied)");
    return report_integrity_change(before, after, options.check_integrity == "strict", rc);
}

}  // namespace pgmig::client
