// pgmig rollback and repair: the ledger operations that run no up script of the files (pgmig baseline: baseline.cpp).
#include "client/ops/alerts.hpp"
#include "client/core/audit_log.hpp"
#include "client/ledger/baseline_rollback.hpp"
#include "client/cli/commands/commands.hpp"
#include "client/core/config.hpp"
#include "client/core/db.hpp"
#include "client/core/errors.hpp"
#include "client/ledger/file_lines.hpp"
#include "client/ledger/ledger_lock.hpp"
#include "client/ledger/project.hpp"
#include "client/ledger/rollback_preview.hpp"

#include "common/version.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace pgmig::client {

namespace {

void check_version(const std::string& version, const char* where) {
    if (auto problem = common::version_problem(version)) {
        throw Error(ErrorKind::usage, fmt::format("bad version '{}': {}", version, *problem), where,
                    "give a version such as 3 or 1.2");
    }
}

Connection connect(const GlobalOptions& global) {
    Connection conn = Connection::open(global.dbname);
    require_extension(conn);
    return conn;
}

std::string label(const Result& res, int row) {
    return res.is_null(row, 0) ? "R__" + res.get(row, 1) : res.get(row, 0) + "_" + res.get(row, 1);
}

}  // namespace

namespace {

// With --env: the environment's alert targets hear of every rollback, done or failed.
void alert_rollback(const std::string& env_name, const std::string& conninfo, const std::vector<std::string>& versions,
                    std::chrono::steady_clock::time_point started, const std::string& error) {
    if (env_name.empty()) return;
    const ProjectConfig config = load_project_config();
    const Environment& env = find_environment(config, env_name);
    if (env.alerts.empty()) return;
    AlertEvent event;
    event.event = "rollback";
    event.environment = env.name;
    event.database = alert_database_from_conninfo(conninfo);
    event.versions = versions;
    event.duration_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    event.error = error;
    send_alerts(config, env, event);  // a failed delivery is warned about, never fails the rollback
}

void rollback(const GlobalOptions& global, const RollbackOptions& options, std::vector<std::string>& versions);

}  // namespace

int run_rollback(const GlobalOptions& global, const RollbackOptions& options) {
    if (!options.to.empty()) check_version(options.to, "in --to");
    if (options.to.empty() && options.steps < 1) {
        throw Error(ErrorKind::usage, fmt::format("bad --steps {}", options.steps), "on the command line",
                    "give 1 or more");
    }
    GlobalOptions target = global;
    target.dbname = connection_for(global, options.env);
    const auto started = std::chrono::steady_clock::now();
    std::vector<std::string> versions;
    try {
        rollback(target, options, versions);  // fills `versions` as they are committed, even when a later one fails
    } catch (const Error& e) {
        alert_rollback(options.env, target.dbname, versions, started, e.what_failed());
        throw;
    }
    alert_rollback(options.env, target.dbname, versions, started, "");
    return kExitOk;
}

namespace {

// An applied versioned migration, as the ledger has it.
struct AppliedMigration {
    std::string version;
    std::string name;
    bool transactional = true;
    bool has_down = false;
    std::string label() const { return version + "_" + name; }
};

// The applied migrations that --steps / --to chooses, newest first: the order their down scripts run.
std::vector<AppliedMigration> chosen_for_rollback(const Connection& conn, const RollbackOptions& options) {
    // A non-transactional migration needs a down script (the client registers a section without a statement as
    // none; one registered as '' through migrate_register has nothing to undo), as migrate_nontx_begin checks; a
    // transactional one needs one with text in it, as migrate_rollback() checks; a migration whose up script
    // runs nothing needs none (it is rolled back as the no-op it is).
    Result res = conn.exec(
        "SELECT m.version, m.name, coalesce((m.options->>'transactional')::boolean, true) AS tx, "
        "       CASE WHEN coalesce((m.options->>'transactional')::boolean, true) "
        "            THEN coalesce(btrim(m.down_sql, E' \\t\\r\\n'), '') <> '' "
        "            ELSE m.down_sql IS NOT NULL END "
        "       OR NOT EXISTS (SELECT FROM pgmig.split_statements(m.up_sql)) "
        "  FROM pgmig.migrations m "
        " WHERE m.version IS NOT NULL AND m.applied_at IS NOT NULL ORDER BY m.version_key DESC");
    if (!res.ok()) {
        throw_server_error(res.error(), fmt::format("reading the applied migrations, in {}", conn.target()),
                           "nothing was rolled back");
    }
    std::vector<AppliedMigration> chosen;
    for (int i = 0; i < res.rows(); ++i) {
        AppliedMigration m{res.get(i, 0), res.get(i, 1), res.get(i, 2) == "t", res.get(i, 3) == "t"};
        if (options.to.empty() ? static_cast<int>(chosen.size()) >= options.steps
                               : common::compare_versions(m.version, options.to) <= 0) {
            break;
        }
        chosen.push_back(std::move(m));
    }
    return chosen;
}

// The files of the project's migrations folder whose down script is the one registered in the ledger (only
// their lines are the lines that ran), for messages in file lines; empty when there is none.
std::vector<MigrationFile> files_with_registered_downs(const Connection& conn) {
    std::vector<MigrationFile> same;
    std::vector<MigrationFile> files = project_files_quietly();
    if (files.empty()) return same;
    Result res =
        conn.exec("SELECT version, down_sql FROM pgmig.migrations WHERE version IS NOT NULL AND down_sql IS NOT NULL");
    if (!res.ok()) return same;
    for (MigrationFile& f : files) {
        if (f.repeatable() || !f.down_sql) continue;
        for (int i = 0; i < res.rows(); ++i) {
            if (common::compare_versions(res.get(i, 0), f.version) == 0 && res.get(i, 1) == *f.down_sql) {
                same.push_back(std::move(f));
                break;
            }
        }
    }
    return same;
}

// A server error of migrate_rollback in the lines of the files (when they hold the registered down scripts).
ServerError in_down_file_lines(const Connection& conn, const ServerError& e) {
    return in_file_lines(e, files_with_registered_downs(conn));
}

// All transactional: migrate_rollback / migrate_rollback_to in one transaction, all or nothing.
void rollback_in_one_transaction(const Connection& conn, const RollbackOptions& options,
                                 std::vector<std::string>& versions, const BaselineRollbackConsent& consent) {
    Transaction tx(conn);
    const std::string columns = "version, name, action, round(extract(epoch FROM duration) * 1000)::bigint";
    Result res = options.to.empty()
                     ? conn.exec_params("SELECT " + columns + " FROM migrate_rollback($1::int, trust => $2::boolean)",
                                        {std::to_string(options.steps), options.trust ? "true" : "false"})
                     : conn.exec_params("SELECT " + columns + " FROM migrate_rollback_to($1, trust => $2::boolean)",
                                        {options.to, options.trust ? "true" : "false"});
    if (!res.ok()) {
        const ServerError e = res.error();
        tx.rollback();
        if (e.sqlstate == "PM010") {
            // A non-transactional migration was applied between reading the plan and rolling back (the
            // session-level lock the caller holds rules that out for the client's own runs).
            throw Error(ErrorKind::rollback_refused, fmt::format("{} (SQLSTATE {})", e.message, e.sqlstate),
                        fmt::format("in {}", conn.target()),
                        "nothing was rolled back; a non-transactional migration was applied meanwhile: run pgmig "
                        "rollback again",
                        e.hint);
        }
        throw_server_error(in_down_file_lines(conn, e), fmt::format("rolling back, in {}", conn.target()),
                           "nothing was rolled back");
    }
    {  // what was really rolled back, in this transaction: a baseline migration only with consent
        std::vector<std::string> done;
        for (int i = 0; i < res.rows(); ++i) done.push_back(res.get(i, 0));
        consent.check(conn, done);  // throws: the destructor of tx rolls back
    }
    Result commit = tx.commit();
    if (!commit.ok()) throw_server_error(commit.error(), "committing the rollback", "nothing was rolled back");
    for (int i = 0; i < res.rows(); ++i) {
        fmt::print("rolled back {} ({} ms)\n", label(res, i), res.is_null(i, 3) ? "?" : res.get(i, 3));
        versions.push_back(res.get(i, 0));
        audit_note_version(res.get(i, 0));
    }
    fmt::print("{} rolled back\n", res.rows());
}

// A rollback that contains non-transactional migrations, walked newest first: each run of consecutive
// transactional ones in one transaction (migrate_rollback), each non-transactional one by the client,
// statement by statement. What is done stays done when a later step fails.
class MixedRollback {
  public:
    MixedRollback(const Connection& conn, const RollbackOptions& options, std::vector<std::string>& versions)
        : conn_(conn), options_(options), versions_(versions) {}

    void run(const std::vector<AppliedMigration>& chosen) {
        for (std::size_t i = 0; i < chosen.size();) {
            if (!chosen[i].transactional) {
                rollback_nontransactional(chosen[i]);
                ++i;
                continue;
            }
            std::size_t end = i;
            while (end < chosen.size() && chosen[end].transactional) ++end;
            rollback_transactional(static_cast<int>(end - i));
            i = end;
        }
        fmt::print("{} rolled back\n", versions_.size());
    }

  private:
    // What a failure leaves: the versions already rolled back (committed), and the command that finishes the job.
    std::string committed_and_next(const std::string& failed_part) const {
        std::string text;
        if (versions_.empty()) {
            text = "nothing was rolled back before it";
        } else {
            std::string list;
            for (const auto& v : versions_) list += (list.empty() ? "" : ", ") + v;
            text = fmt::format("already rolled back and committed: {} (they stay rolled back)", list);
        }
        if (!failed_part.empty()) text += "; " + failed_part;
        const std::string again = options_.to.empty() ? fmt::format("pgmig rollback --steps {}",
                                                                    options_.steps - static_cast<int>(versions_.size()))
                                                      : fmt::format("pgmig rollback --to {}", options_.to);
        return text + fmt::format("; fix the cause, then run {} to roll back the rest", again);
    }

    Result call(const std::string& sql, const std::vector<std::optional<std::string>>& params,
                const std::string& where) const {
        Result res = conn_.exec_params(sql, params);
        if (!res.ok()) throw_server_error(res.error(), where, committed_and_next(""));
        return res;
    }

    void rollback_transactional(int count) {
        Transaction tx(conn_);
        Result res = conn_.exec_params(
            "SELECT version, name, round(extract(epoch FROM duration) * 1000)::bigint "
            "FROM migrate_rollback($1::int, trust => $2::boolean)",
            {std::to_string(count), options_.trust ? "true" : "false"});
        if (!res.ok()) {
            const ServerError e = res.error();
            tx.rollback();
            throw_server_error(in_down_file_lines(conn_, e),
                               fmt::format("rolling back {} transactional migration(s), in {}", count, conn_.target()),
                               committed_and_next("nothing of this transaction was rolled back"));
        }
        Result commit = tx.commit();
        if (!commit.ok()) {
            throw_server_error(commit.error(), "committing the rollback",
                               committed_and_next("nothing of this transaction was rolled back"));
        }
        for (int i = 0; i < res.rows(); ++i) {
            fmt::print("rolled back {} ({} ms)\n", label(res, i), res.is_null(i, 2) ? "?" : res.get(i, 2));
            versions_.push_back(res.get(i, 0));
            audit_note_version(res.get(i, 0));
        }
        std::fflush(stdout);
    }

    // Its down script from the ledger, split by the server, one statement per PQexec (no implicit transaction
    // block), under the migration's own timeouts. A failure leaves it applied; the next run starts the down
    // script again from its first statement, so down scripts of non-transactional migrations must be idempotent.
    void rollback_nontransactional(const AppliedMigration& m) {
        const std::string where =
            fmt::format("rolling back non-transactional migration {}, in {}", m.label(), conn_.target());
        const auto start = std::chrono::steady_clock::now();
        call("SELECT migrate_nontx_begin($1, 'down', trust => $2::boolean)",
             {m.version, options_.trust ? "true" : "false"}, where);
        Result stmts = call(
            "SELECT s.n, s.line, s.statement FROM pgmig.migrations m, pgmig.split_statements(m.down_sql) s "
            " WHERE m.version = $1 ORDER BY s.n",
            {m.version}, where);
        for (const char* setting : {"lock_timeout", "statement_timeout"}) {
            call(fmt::format("SELECT set_config('{0}', coalesce(m.options->>'{0}', current_setting('pgmig.{0}', true), "
                             "'{1}'), false) FROM pgmig.migrations m WHERE m.version = $1",
                             setting, std::string(setting) == "lock_timeout" ? "5s" : "0"),
                 {m.version}, where);
        }
        for (int i = 0; i < stmts.rows(); ++i) {
            const std::string n = stmts.get(i, 0);
            Result res = conn_.exec(stmts.get(i, 2));
            if (!res.ok()) {
                const ServerError e = without_secrets(conn_, stmts.get(i, 2), res.error());
                conn_.exec_params("SELECT migrate_nontx_failed($1, $2::int, $3, $4, 'down')",
                                  {m.version, n, e.sqlstate.empty() ? "XX000" : e.sqlstate, e.message});
                conn_.exec("RESET lock_timeout; RESET statement_timeout");
                const int k = std::stoi(n);
                const std::string what =
                    fmt::format("statement {} of the down script of non-transactional migration {} failed: {}{}", n,
                                m.label(), e.message, e.sqlstate.empty() ? "" : " (SQLSTATE " + e.sqlstate + ")");
                const std::string stays =
                    (k == 1   ? std::string("nothing of its down script ran")
                     : k == 2 ? std::string("statement 1 of its down script ran and stays")
                              : fmt::format("statements 1 to {} of its down script ran and stay", k - 1)) +
                    fmt::format(
                        "; {} stays applied, and the next rollback runs its down script again from "
                        "statement 1 (it must be idempotent: IF EXISTS)",
                        m.label());
                std::string where_line = fmt::format("in version {}'s down script as registered in the ledger, line {}",
                                                     m.version, stmts.get(i, 1));
                for (const MigrationFile& f : files_with_registered_downs(conn_)) {
                    if (common::compare_versions(f.version, m.version) != 0) continue;
                    where_line = fmt::format("in {} line {} (down script of version {})", script_file(f, true),
                                             file_line(f, true, std::stoi(stmts.get(i, 1))), m.version);
                }
                throw Error(ErrorKind::migration_failed, what, where_line, committed_and_next(stays), e.hint);
            }
        }
        conn_.exec("RESET lock_timeout; RESET statement_timeout");
        const long long ms =
            std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
        call("SELECT migrate_nontx_finish($1, $2::interval, 'down')", {m.version, interval_ms(ms)}, where);
        fmt::print("rolled back {} ({} ms, non-transactional)\n", m.label(), ms);
        std::fflush(stdout);
        versions_.push_back(m.version);
        audit_note_version(m.version);
    }

    const Connection& conn_;
    const RollbackOptions& options_;
    std::vector<std::string>& versions_;
};

void rollback(const GlobalOptions& global, const RollbackOptions& options, std::vector<std::string>& versions) {
    Connection conn = connect(global);
    // Held for the whole rollback, as pgmig apply holds it, and taken before the ledger is read: waited for
    // without a snapshot, so that a CREATE INDEX CONCURRENTLY of the applier holding it never waits for
    // this run (waiting inside SELECT pg_advisory_lock or migrate_rollback() would deadlock with it). The
    // non-transactional steps need it, no applier may interleave, and migrate_rollback()'s own lock is
    // then granted at once.
    LedgerLock ledger_lock(conn, "nothing was rolled back");
    const std::vector<AppliedMigration> chosen = chosen_for_rollback(conn, options);
    // A down script's failure in the rehearsal is reported in its file's lines, as the rollback's would be.
    const auto in_files = [&conn](const ServerError& e) { return in_down_file_lines(conn, e); };
    if (options.dry_run) {  // rehearsed, printed; nothing persists and nothing needs consent
        const RollbackPreview preview =
            preview_rollback(conn, static_cast<int>(chosen.size()), options.trust, {}, in_files);
        print_rollback_preview(stdout, preview);
        fmt::print("dry run: nothing was rolled back\n");
        return;
    }
    std::vector<RollbackCandidate> candidates;
    for (const auto& m : chosen) candidates.push_back({m.version, m.name});
    const BaselineRollbackConsent consent = BaselineRollbackConsent::obtain(conn, candidates, options.force);
    // What the down scripts would run and drop, rehearsed; shown and asked on a terminal, --yes in scripts.
    require_rollback_consent(
        preview_rollback(conn, static_cast<int>(chosen.size()), options.trust, consent.consented(), in_files),
        options.yes, consent.typed_on_terminal(), conn.target());
    if (std::all_of(chosen.begin(), chosen.end(), [](const AppliedMigration& m) { return m.transactional; })) {
        rollback_in_one_transaction(conn, options, versions, consent);
        return;
    }
    std::vector<std::string> chosen_versions;
    for (const auto& m : chosen) chosen_versions.push_back(m.version);
    consent.check(conn, chosen_versions);
    std::string missing;
    for (const auto& m : chosen) {
        if (!m.has_down) missing += (missing.empty() ? "" : ", ") + m.version;
    }
    if (!missing.empty()) {
        throw Error(ErrorKind::rollback_refused, fmt::format("cannot roll back: no down script for {}", missing),
                    fmt::format("in {}", conn.target()),
                    "nothing was rolled back; register the migration again with a down script (the -- pgmig:down "
                    "section), or roll back fewer steps");
    }
    MixedRollback(conn, options, versions).run(chosen);
}

}  // namespace

int run_repair(const GlobalOptions& global, const RepairOptions& options) {
    check_version(options.version, "in VERSION");
    const std::string dir = resolve_migrations_dir(options.dir);
    const std::vector<MigrationFile> files = load_files(dir, "nothing was changed");
    const MigrationFile* file = find_versioned(files, options.version);
    if (file == nullptr) {
        throw Error(ErrorKind::input, fmt::format("no file for version {}", options.version), "in " + dir,
                    "repair takes the up script from the migration's file; nothing was changed");
    }
    Connection conn = connect(global);
    LedgerLock ledger_lock(conn, "nothing was changed");  // waited for without a snapshot (ledger_lock.hpp)
    Transaction tx(conn);
    Result old = conn.exec_params(
        "SELECT s.version, s.checksum FROM migrate_status() s WHERE s.kind = 'versioned' AND s.version IS NOT NULL",
        {});
    std::string old_checksum = "(not registered)";
    std::string ledger_version = options.version;
    if (old.ok()) {
        for (int i = 0; i < old.rows(); ++i) {
            if (common::compare_versions(old.get(i, 0), options.version) == 0) {
                ledger_version = old.get(i, 0);
                old_checksum = old.get(i, 1);
            }
        }
    }
    std::optional<std::string> reason;
    if (!options.reason.empty()) reason = options.reason;
    Result res = conn.exec_params("SELECT migrate_repair($1, $2, $3)", {ledger_version, file->up_sql, reason});
    if (!res.ok()) {
        throw_server_error(res.error(), fmt::format("repairing {} from {}", file->label(), file->path.string()),
                           "nothing was changed");
    }
    Result commit = tx.commit();
    if (!commit.ok()) throw_server_error(commit.error(), "committing the repair", "nothing was changed");
    fmt::print("repaired {} from {}\n", file->label(), file->path.string());
    fmt::print("  old checksum {}\n  new checksum {}\n", old_checksum, res.get(0, 0));
    return kExitOk;
}

}  // namespace pgmig::client
