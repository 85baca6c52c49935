// The calls the client makes to run a non-transactional migration statement by statement:
// split (with the server's parser), begin, progress after each statement, finish or failed.
// Progress is committed after every statement, so a crash is reported precisely and resumed.
// Only the registered statements count, seen to complete by this session's hooks (nontx_guard).
extern "C" {
#include "postgres.h"
#include "catalog/pg_type_d.h"
#include "utils/builtins.h"
}

#include <fmt/format.h>

#include <optional>
#include <string>

#include "ledger_store.hpp"
#include "lint.hpp"
#include "nontx_guard.hpp"
#include "pg/boundary.hpp"
#include "pg/spi.hpp"
#include "pg/values.hpp"
#include "redact.hpp"
#include "runner.hpp"
#include "script.hpp"
#include "trust.hpp"

namespace pgmig {
namespace {

// The client takes the session-level ledger lock before it begins and keeps it to the end. Checked
// before this call takes the transaction-level lock on the same key, which pg_locks cannot tell apart.
void require_session_lock(pg::Spi& spi, const std::string& version) {
    const pg::Rows held = spi.query(
        "SELECT pg_catalog.count(*) FROM pg_catalog.pg_locks WHERE locktype OPERATOR(pg_catalog.=) 'advisory' "
        "AND pid OPERATOR(pg_catalog.=) pg_catalog.pg_backend_pid() AND classid OPERATOR(pg_catalog.=) $1 "
        "AND objid OPERATOR(pg_catalog.=) $2 AND objsubid OPERATOR(pg_catalog.=) 1 AND granted",
        {{OIDOID, std::to_string(static_cast<unsigned long long>(kLedgerLockKey) >> 32)},
         {OIDOID, std::to_string(static_cast<unsigned long long>(kLedgerLockKey) & 0xffffffffULL)}},
        SPI_OK_SELECT);
    if (*held.rows.at(0).at(0) == "0") {
        throw Error(sqlstate::lock_not_held,
                    fmt::format("non-transactional migration {} needs the session-level ledger lock", version),
                    fmt::format("take it first on this connection: SELECT pg_advisory_lock({})", kLedgerLockKey),
                    "apply non-transactional migrations with the client: pgmig apply");
    }
}

// The registered non-transactional migration `version`.
Migration nontx_migration(LedgerStore& store, const std::string& version) {
    Migration m = store.registered(version);
    if (m.options.transactional) {
        throw Error(sqlstate::invalid_argument, fmt::format("{} is transactional", m.label()), {},
                    "apply it with migrate_apply()");
    }
    return m;
}

// Every call on a non-transactional migration: this session holds the session-level lock, the
// ledger lock is taken, and `fn(store, migration)` runs.
template <typename Fn>
void with_nontx_migration(const std::string& version, Fn&& fn) {
    pg::Spi spi;
    require_session_lock(spi, version);
    LedgerStore store(spi, current_caller());
    store.lock();
    const Migration m = nontx_migration(store, version);
    fn(store, m);
}

}  // namespace
}  // namespace pgmig

using namespace pgmig;

// pgmig.split_statements(script) -> (n, line, statement, needs_no_transaction)
PGMIG_FUNCTION(pgmig_split_statements) {
    const std::string script = pg::required_text_arg(fcinfo, 0, "script");
    const std::vector<Statement> statements = split_script(script);
    std::vector<pg::TextRow> rows;
    rows.reserve(statements.size());
    for (size_t i = 0; i < statements.size(); ++i) {
        const Statement& st = statements[i];
        rows.push_back({std::to_string(i + 1), std::to_string(st.line), st.text,
                        st.needs_no_transaction.empty() ? std::nullopt : std::optional(st.needs_no_transaction)});
    }
    pg::return_rows(fcinfo, rows);
    return static_cast<Datum>(0);
}

namespace {
// The direction argument of migrate_nontx_begin / migrate_nontx_failed (NULL: up).
std::string direction_arg(FunctionCallInfo fcinfo, int n) {
    const std::string direction = PG_ARGISNULL(n) ? "up" : pg::required_text_arg(fcinfo, n, "direction");
    if (direction != "up" && direction != "down") {
        throw Error(sqlstate::invalid_argument, fmt::format("direction must be up or down, not \"{}\"", direction), {},
                    "pass 'up' to apply, 'down' to roll back");
    }
    return direction;
}
}  // namespace

// migrate_nontx_begin(version, direction DEFAULT 'up', trust DEFAULT false, require_approvals DEFAULT 0,
// environment DEFAULT NULL) -> statements already done by an earlier, interrupted run (up), or 0 (down: a down
// script is always run whole, so it must be idempotent)
PGMIG_FUNCTION(migrate_nontx_begin) {
    const std::string version = pg::required_text_arg(fcinfo, 0, "version");
    const std::string direction = direction_arg(fcinfo, 1);
    const trust::Policy policy = trust::policy(fcinfo, 2, 3, 4, "migrate_nontx_begin");
    int done = 0;
    with_nontx_migration(version, [&](LedgerStore& store, const Migration& m) {
        trust::check_before_running(store, m, direction == "up", policy, "migrate_nontx_begin");
        if (direction == "down") {
            // The up run's progress column is left alone: an applied migration is never in_progress, and a
            // down run that fails leaves it applied, to be rolled back again from its first statement.
            if (!m.applied) {
                throw Error(sqlstate::invalid_argument, fmt::format("{} is not applied", m.label()), {},
                            "nothing to roll back; see migrate_status()");
            }
            // An empty -- pgmig:down section is a down script that has nothing to undo (VALIDATE
            // CONSTRAINT, say); only a missing one refuses.
            if (!m.down_sql) {
                throw Error(sqlstate::no_down_script, fmt::format("cannot roll back: no down script for {}", version),
                            "nothing was rolled back",
                            "register the migration again with a down script (the -- pgmig:down section)");
            }
            store.record(HistoryEntry{m.version, m.name, "nontx_start", std::nullopt, 1, m.checksum, std::nullopt,
                                      std::nullopt, std::nullopt, std::string("rolling back")});
            nontx_guard::arm(version, true, m.checksum, *m.down_sql, 0);  // its statements, and only they
            return;
        }
        if (m.applied) {
            throw Error(sqlstate::invalid_argument, fmt::format("{} is already applied", m.label()), {},
                        "nothing to do; see migrate_status()");
        }
        done = m.nontx_progress.value_or(0);
        if (done == 0) lint::check_plan({m});  // pgmig.lint_block, before its first statement
        store.set_nontx_progress(m, done);
        store.record(HistoryEntry{
            m.version, m.name, "nontx_start", std::nullopt, 1, m.checksum, std::nullopt, std::nullopt, std::nullopt,
            done > 0 ? std::optional(fmt::format("resuming after statement {}", done)) : std::nullopt});
        // From now on the registered statements after `done`, and only they, belong to the migration.
        nontx_guard::arm(version, false, m.checksum, m.up_sql, done);
    });
    PG_RETURN_INT32(done);
}

// migrate_nontx_progress(version, done) -> records that statements 1..done are complete
PGMIG_FUNCTION(migrate_nontx_progress) {
    const std::string version = pg::required_text_arg(fcinfo, 0, "version");
    const int done = PG_ARGISNULL(1) ? 0 : PG_GETARG_INT32(1);
    with_nontx_migration(version, [&version, done](LedgerStore& store, const Migration& m) {
        nontx_guard::require_running(version, false, m.checksum);
        nontx_guard::require_completed(version, done);  // statement `done` ran here, to its end, committed
        store.set_nontx_progress(m, done);
        store.record(HistoryEntry{m.version, m.name, "nontx_progress", std::nullopt, 1, m.checksum, std::nullopt,
                                  std::nullopt, std::nullopt, fmt::format("statement {} done", done)});
    });
    PG_RETURN_VOID();
}

// migrate_nontx_finish(version, duration, direction DEFAULT 'up') -> marks it applied (or rolled back)
PGMIG_FUNCTION(migrate_nontx_finish) {
    const std::string version = pg::required_text_arg(fcinfo, 0, "version");
    const std::optional<std::string> duration_text = pg::arg_as_text(fcinfo, 1);
    if (!duration_text) {
        throw Error(sqlstate::invalid_argument, "duration must not be NULL", {},
                    "pass how long the migration took, e.g. '1.5 seconds'");
    }
    const std::string& duration = *duration_text;
    const std::string direction = PG_ARGISNULL(2) ? "up" : pg::required_text_arg(fcinfo, 2, "direction");
    if (direction != "up" && direction != "down") {
        throw Error(sqlstate::invalid_argument, fmt::format("direction must be up or down, not \"{}\"", direction), {},
                    "pass 'up' after applying, 'down' after rolling back");
    }
    with_nontx_migration(version, [&](LedgerStore& store, const Migration& m) {
        nontx_guard::require_running(version, direction == "down", m.checksum);
        nontx_guard::require_all_completed(version, direction == "down");
        if (direction == "up") {
            store.mark_applied(m, duration);
        } else {
            store.mark_unapplied(m);
        }
        store.record(HistoryEntry{m.version, m.name, direction == "up" ? "apply" : "rollback", duration, 1, m.checksum,
                                  std::nullopt, std::nullopt, std::nullopt, std::nullopt});
        store.save_snapshot(direction == "up" ? "non-transactional apply" : "non-transactional rollback");
        nontx_guard::disarm();
    });
    PG_RETURN_VOID();
}

// migrate_nontx_failed(version, statement, sqlstate, message, direction DEFAULT 'up') -> records a failed
// statement of the up (or down) script
PGMIG_FUNCTION(migrate_nontx_failed) {
    const std::string version = pg::required_text_arg(fcinfo, 0, "version");
    const int statement = PG_ARGISNULL(1) ? 0 : PG_GETARG_INT32(1);
    const std::string state = pg::required_text_arg(fcinfo, 2, "sqlstate");
    const std::string message = pg::required_text_arg(fcinfo, 3, "message");
    const std::string direction = direction_arg(fcinfo, 4);
    with_nontx_migration(version, [&](LedgerStore& store, const Migration& m) {
        nontx_guard::require_running(version, direction == "down", m.checksum);
        nontx_guard::require_next(version, statement);  // the statement it was running
        // The server's message may quote a piece of the statement: masked with the script's secrets.
        const std::string shown =
            mask_values(message, secret_values(direction == "up" ? m.up_sql : m.down_sql.value_or("")));
        store.record(HistoryEntry{
            m.version, m.name, "failed", std::nullopt, 1, m.checksum, std::nullopt, state, shown,
            direction == "up"
                ? fmt::format("statement {} failed", statement)
                : fmt::format("statement {} of the down script failed; the migration stays applied", statement)});
        nontx_guard::disarm();
    });
    PG_RETURN_VOID();
}
