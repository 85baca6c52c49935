// Live monitoring of migration runs from a second connection: which migration (k of n) and statement runs,
// for how long, what it waits for (a lock from pg_locks and the sessions blocking it) and how far an index
// build is (pg_stat_progress_create_index). Used by `pgmig monitor` and by `pgmig apply` on a terminal.
//
// Where the position comes from: migrate_apply() publishes "pgmig migrate_apply: migration 3 "orders" (2 of 5),
// statement 4 of 7 at line 12: ALTER ..." as its pg_stat_activity query (extension/progress.cpp); a non-transactional
// step is its own top-level statement, with the migration's in-progress row in the ledger. The statement
// shown is redacted by the runner, or (a non-transactional step) passed through pgmig.redact(): no secret.
// The observing role needs pgmig_reader, and pg_read_all_stats to see other roles' sessions.
#pragma once

#include "client/core/db.hpp"
#include "client/ledger/migration_files.hpp"

#include <nlohmann/json.hpp>

#include <atomic>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace pgmig::client {

// The migration sessions now: `pid` given = that backend only; else every session that holds or waits for the
// ledger lock, or runs migrate_apply/migrate_rollback. One JSON object per session: pid, role,
// application_name, state, wait_event_type, wait_event, elapsed_ms (of the statement), xact_elapsed_ms,
// migration {label, version, index, count, direction, statement, statements, line} or null, statement (first
// line, redacted), lock_waits [{locktype, relation, mode}], blockers [{pid, role, state, application_name,
// statement, xact_elapsed_ms}], index_build {index, relation, phase, blocks_done, blocks_total, tuples_done,
// tuples_total, percent} or null.
nlohmann::json sample_migrations(const Connection& observer, std::optional<int> pid = std::nullopt);

// One line for a terminal: "migration 3 "orders" 2/5, statement 4/7 (line 12 of the up script) 12.3s: ALTER TABLE ... |
// waiting for AccessExclusiveLock on orders, blocked by pid 4242 (alice, idle in transaction: UPDATE orders ...)".
std::string describe_session(const nlohmann::json& session);

// `pgmig apply` on a terminal: a thread polls every 0.5 s on its own connection and rewrites one line on stdout
// (\r); stop() (or the destructor) clears it. Does nothing unless stdout is a terminal. A connection failure of
// the observer only ends the display, never the apply.
class LiveProgress {
  public:
    // `files` (may be null): the migrations being applied, so that the line shown is the file's.
    LiveProgress(std::string conninfo, int pid, const std::vector<MigrationFile>* files = nullptr);
    ~LiveProgress();
    LiveProgress(const LiveProgress&) = delete;
    LiveProgress& operator=(const LiveProgress&) = delete;
    void stop();
    static bool wanted();  // stdout is a terminal and PGMIG_NO_PROGRESS is unset

  private:
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

}  // namespace pgmig::client
