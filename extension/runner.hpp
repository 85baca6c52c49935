// Running migration scripts: statement by statement, each migration in its own subtransaction,
// under its lock and statement timeouts, retried after a lock timeout when that holds no locks.
#pragma once

#include <string>
#include <vector>

extern "C" {
#include "postgres.h"
#include "datatype/timestamp.h"
}

#include "ledger_store.hpp"
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

// Runs each migration of `plan` (already parsed by parse_plan) and records it in the ledger. Dry runs
// do not come here: dry_run.cpp rehearses and reports.
std::vector<RunResult> run_plan(LedgerStore& store, pg::Spi& spi, const std::vector<Migration>& plan,
                                const std::vector<std::vector<Statement>>& scripts, Direction direction);

// lock_timeout (a GUC, read at every lock wait) and the statement timer (armed per top-level
// statement, so a SET inside a function would do nothing) for one migration; both restored after.
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

// Runs one statement of m's script; a PostgreSQL error is rethrown as Error naming the migration,
// the line and the statement (the DDL it runs is audited as m's).
void run_statement(pg::Spi& spi, const Migration& m, Direction direction, const Statement& st);

// Interval text for a duration in microseconds.
std::string interval_text(long long microseconds);

}  // namespace pgmig
