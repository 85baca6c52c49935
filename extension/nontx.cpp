// The calls the client makes to run a non-transactional migration statement by statement:
// split (with the server's parser), begin, progress after each statement, finish or failed.
// Progress is committed after every statement, so a crash is reported precisely and resumed.
// Only the registered statements count, seen to complete by this session's hooks (nontx_guard).
extern "C" {
#include "postgres.h"
#include "catalog/namespace.h"
#include "catalog/pg_index.h"
#include "catalog/pg_type_d.h"
#include "commands/defrem.h"
#include "nodes/parsenodes.h"
#include "parser/parser.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/ruleutils.h"
#include "utils/syscache.h"
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

// Every call on a non-transactional migration (`function`, for messages): this session holds the
// session-level lock, the ledger lock is taken (at once, then), and `fn(store, migration)` runs.
template <typename Fn>
void with_nontx_migration(const char* function, const std::string& version, Fn&& fn) {
    pg::Spi spi;
    require_session_lock(spi, version);
    LedgerStore store(spi, current_caller());
    store.lock(function);
    const Migration m = nontx_migration(store, version);
    fn(store, m);
}

}  // namespace
}  // namespace pgmig

using namespace pgmig;

// pgmig.split_statements(script) -> (n, line, statement, needs_no_transaction)
PGMIG_FUNCTION_ANY_SQL(pgmig_split_statements) {
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
    with_nontx_migration("migrate_nontx_begin", version, [&](LedgerStore& store, const Migration& m) {
        trust::check_before_running(store, m, direction == "up", policy, "migrate_nontx_begin");
        if (direction == "down") {
            // The up run's progress column is left alone: an applied migration is never in_progress, and a
            // down run that fails leaves it applied, to be rolled back again from its first statement.
            if (!m.applied) {
                throw Error(sqlstate::invalid_argument, fmt::format("{} is not applied", m.label()), {},
                            "nothing to roll back; see migrate_status()");
            }
            // An empty -- pgmig:down section is a down script that has nothing to undo (VALIDATE
            // CONSTRAINT, say); only a missing one refuses, unless the up script ran nothing either.
            if (!m.down_sql && !runs_nothing(m.up_sql)) {
                throw Error(sqlstate::no_down_script, fmt::format("cannot roll back: no down script for {}", version),
                            "nothing was rolled back",
                            "register the migration again with a down script (the -- pgmig:down section)");
            }
            store.record(HistoryEntry{m.version, m.name, "nontx_start", std::nullopt, 1, m.checksum, std::nullopt,
                                      std::nullopt, std::nullopt, std::string("rolling back")});
            nontx_guard::arm(version, true, m.checksum, m.down_sql.value_or(""), 0);  // its statements, and only they
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

namespace pgmig {
namespace {
// The valid index that `node` (CREATE INDEX CONCURRENTLY name ON table ...) builds, when it is already
// there with the same definition: its name on that table, and its definition as pg_get_indexdef gives it
// parsing to the same statement (equal() on the raw trees) once what does not change the index is set
// aside (CONCURRENTLY, IF NOT EXISTS, the table's spelling, the tablespace, the default access method).
// InvalidOid otherwise. Plain C with trivial locals: called through pg::call.
Oid valid_index_built_by(Node* node) {
    if (!IsA(node, IndexStmt)) return InvalidOid;
    IndexStmt* mine = static_cast<IndexStmt*>(copyObjectImpl(node));
    if (!mine->concurrent || mine->idxname == nullptr || mine->relation == nullptr) return InvalidOid;
    const Oid table = RangeVarGetRelid(mine->relation, NoLock, true);
    if (!OidIsValid(table)) return InvalidOid;
    const Oid index = get_relname_relid(mine->idxname, get_rel_namespace(table));
    if (!OidIsValid(index)) return InvalidOid;
    HeapTuple tuple = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(index));
    if (!HeapTupleIsValid(tuple)) return InvalidOid;
    const auto* form = reinterpret_cast<Form_pg_index>(GETSTRUCT(tuple));
    const bool usable = form->indrelid == table && form->indisvalid && form->indisready && form->indislive;
    ReleaseSysCache(tuple);
    if (!usable) return InvalidOid;
    List* parsed = raw_parser(pg_get_indexdef_string(index), RAW_PARSE_DEFAULT);
    if (list_length(parsed) != 1 || !IsA(linitial_node(RawStmt, parsed)->stmt, IndexStmt)) return InvalidOid;
    IndexStmt* theirs = castNode(IndexStmt, linitial_node(RawStmt, parsed)->stmt);
    for (IndexStmt* stmt : {mine, theirs}) {
        stmt->concurrent = false;
        stmt->if_not_exists = false;
        stmt->relation = nullptr;
        stmt->tableSpace = nullptr;
        if (stmt->accessMethod == nullptr) stmt->accessMethod = pstrdup("btree");  // DEFAULT_INDEX_TYPE
    }
    return equal(mine, theirs) ? index : InvalidOid;
}
}  // namespace
}  // namespace pgmig

// migrate_nontx_adopt_index(version, n) -> the index statement n built, or NULL.
// On resume, statement n (the next one, a CREATE INDEX CONCURRENTLY) may have completed after its client
// died: the backend runs on until it writes to the client, and progress was never recorded. When the valid
// index of that exact definition is there, statement n is recorded as done (and this session's guard counts
// it complete); otherwise nothing changes and the client runs it.
PGMIG_FUNCTION(migrate_nontx_adopt_index) {
    const std::string version = pg::required_text_arg(fcinfo, 0, "version");
    const int n = PG_ARGISNULL(1) ? 0 : PG_GETARG_INT32(1);
    Oid found = InvalidOid;
    with_nontx_migration("migrate_nontx_adopt_index", version, [&](LedgerStore& store, const Migration& m) {
        nontx_guard::require_running(version, false, m.checksum);
        nontx_guard::require_next(version, n);
        std::vector<Node*> nodes;
        split_script(m.up_sql, &nodes);
        if (n < 1 || static_cast<size_t>(n) > nodes.size()) return;
        Node* node = nodes[static_cast<size_t>(n) - 1];
        const Oid index = pg::call([node] { return valid_index_built_by(node); });
        if (!OidIsValid(index)) return;
        const char* relname = pg::call([index] { return static_cast<const char*>(get_rel_name(index)); });
        const std::string name = relname != nullptr ? relname : "?";
        nontx_guard::adopt_completed(version, n);
        store.set_nontx_progress(m, n);
        store.record(HistoryEntry{m.version, m.name, "nontx_progress", std::nullopt, 1, m.checksum, std::nullopt,
                                  std::nullopt, std::nullopt,
                                  fmt::format("statement {} done: it completed after its client stopped (valid index "
                                              "{} of the same definition found)",
                                              n, name)});
        found = index;
    });
    if (!OidIsValid(found)) PG_RETURN_NULL();
    PG_RETURN_OID(found);
}

// migrate_nontx_progress(version, done) -> records that statements 1..done are complete
PGMIG_FUNCTION(migrate_nontx_progress) {
    const std::string version = pg::required_text_arg(fcinfo, 0, "version");
    const int done = PG_ARGISNULL(1) ? 0 : PG_GETARG_INT32(1);
    with_nontx_migration("migrate_nontx_progress", version, [&version, done](LedgerStore& store, const Migration& m) {
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
    with_nontx_migration("migrate_nontx_finish", version, [&](LedgerStore& store, const Migration& m) {
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
    with_nontx_migration("migrate_nontx_failed", version, [&](LedgerStore& store, const Migration& m) {
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
