// Running migration scripts: statement by statement, each migration in its own subtransaction,
// under its lock and statement timeouts, retried after a lock timeout when that holds no locks.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

extern "C" {
#include "postgres.h"
#include "datatype/timestamp.h"
}

#include "errors.hpp"
#include "ledger_store.hpp"
#include "pg/spi.hpp"
#include "script.hpp"

namespace pgmig {

struct RunResult {
    std::string version;  // empty for a repeatable migration
    std::string name;
    std::string action;
    std::string duration;  // interval text
};

enum class Direction { up, down };

// Parses the scripts of `plan` before anything runs; refuses transaction control and statements
// that cannot run in a transaction block, naming migration, line and statement.
std::vector<std::vector<Statement>> parse_plan(const std::vector<Migration>& plan, Direction direction);

// One script parsed as parse_plan parses it, for callers that report a refused script rather than raise
// it (a rehearsal, a rollback test): its statements, or why it is refused (a syntax error, transaction
// control, a statement that cannot run in a transaction block). A cancel or timeout is thrown, never
// returned: see run_script.
struct ParsedScript {
    std::vector<Statement> statements;
    std::optional<Error> refused;
};
ParsedScript parse_script(const Migration& m, Direction direction);

// lock_timeout and the statement timer a script runs under (statement_timeout_ms 0: only the caller's).
struct ScriptLimits {
    int lock_timeout_ms = 0;
    int statement_timeout_ms = 0;
};

// A migration's own limits: its options, else pgmig.lock_timeout and pgmig.statement_timeout.
ScriptLimits limits_of(const Migration& m);

// Why a script stopped: the error (naming the migration, the line and the statement) and the index of
// the statement it stopped at (the script's size when it stopped after the last one).
struct ScriptFailure {
    Error error;
    size_t statement = 0;
};

// The one way pgmig runs a migration's script, for migrate_apply and migrate_rollback, their rehearsals
// and migrate_test: the statements of m's `direction` script (from parse_plan or parse_script), one by
// one, under `limits`, in a subtransaction of their own. When they all ran it is committed and nothing is
// returned; when one failed it is rolled back (its locks released, the limits restored) and the failure
// is returned, for the caller to report, retry or raise. A cancel or timeout (pg::is_interrupt:
// pg_cancel_backend(), statement_timeout, the migration's own statement timer) is no failure of the
// script: the user asked to stop, so it is thrown and ends the whole call. `before_statement(k)` runs
// before statement k (progress reports); what it throws counts as that statement's failure.
std::optional<ScriptFailure> run_script(pg::Spi& spi, const Migration& m, Direction direction,
                                        const std::vector<Statement>& script, const ScriptLimits& limits,
                                        const std::function<void(size_t)>& before_statement = {});

// The refusals every function that applies or rolls back makes first: in a REPEATABLE READ or SERIALIZABLE
// transaction (its snapshot predates the ledger lock), and on a ledger whose applied migrations' stored
// scripts no longer match their checksums (changed outside pgmig).
void refuse_snapshot_isolation(const char* function);
void refuse_tampered(LedgerStore& store);

// The migrations migrate_apply would run, in order: pending versioned ones up to `target_key`, then
// (without a target) the repeatable ones whose script changed since they last ran. Refuses out-of-order
// ones under pgmig.out_of_order = error and, unless `allow_nontransactional` (migrate_plan), non-transactional ones.
std::vector<Migration> apply_plan(LedgerStore& store, const std::optional<std::string>& target_key,
                                  bool allow_nontransactional = false);

// Runs each migration of `plan` (already parsed by parse_plan) and records it in the ledger. Dry runs
// do not come here: dry_run.cpp rehearses and reports.
std::vector<RunResult> run_plan(LedgerStore& store, pg::Spi& spi, const std::vector<Migration>& plan,
                                const std::vector<std::vector<Statement>>& scripts, Direction direction);

// run_plan, then the snapshot of the schema it left (LedgerStore::save_snapshot: derived from the objects the
// migrations touched where it can be; `reason` names the function in pgmig.snapshots). What migrate_apply,
// migrate_rollback and migrate_apply_tested do once their checks have passed.
std::vector<RunResult> run_plan_and_snapshot(LedgerStore& store, pg::Spi& spi, const std::vector<Migration>& plan,
                                             const std::vector<std::vector<Statement>>& scripts, Direction direction,
                                             const std::string& reason);

// lock_timeout (a GUC, read at every lock wait) and the statement timer (armed per top-level
// statement, so a SET inside a function would do nothing) for one migration (run_script) or one query
// of a rehearsal; both restored after.
class MigrationLimits {
  public:
    MigrationLimits(int lock_timeout_ms, int statement_timeout_ms);
    // Restores both on the success path, where an error must not go unseen (it may throw). The
    // destructor restores only when finish() was not called: while an error unwinds, when the
    // transaction's abort would restore them anyway.
    void finish();
    ~MigrationLimits();
    MigrationLimits(const MigrationLimits&) = delete;
    MigrationLimits& operator=(const MigrationLimits&) = delete;

  private:
    void restore();
    bool finished_ = false;
    int guc_level_ = 0;
    bool timer_was_active_ = false;
    bool timer_changed_ = false;
    TimestampTz timer_finish_ = 0;
};

// Interval text for a duration in microseconds.
std::string interval_text(long long microseconds);

}  // namespace pgmig
