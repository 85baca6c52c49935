// Dry runs: pending migrations (or the down scripts of applied ones) rehearsed in a subtransaction that
// is always rolled back, with what each would do (locks, rewrites, rows, catalog diff, lint, what it
// drops). Nothing of a rehearsal persists.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "errors.hpp"
#include "ledger_store.hpp"
#include "pg/spi.hpp"
#include "runner.hpp"

namespace pgmig {

struct DryRunReport {
    std::optional<std::string> version;  // none for a repeatable migration
    std::string name;
    bool rehearsable = true;  // false for a non-transactional migration
    // ok, failed (its own error), would_wait (lock timeout), not_rehearsable (non-transactional),
    // not_rehearsed (after a migration that failed, would wait or could not be rehearsed)
    std::string outcome;
    std::string reason;  // why it is not "ok"; empty when it is
    int statements = 0;
    std::optional<std::string> duration;                              // interval text; none when nothing ran
    std::optional<std::string> locks, rewritten, catalog_diff, rows;  // jsonb text, from pgmig.rehearsal_effects
    long long rows_touched = 0;
    std::optional<std::string> lint;  // jsonb text: the findings of the migration's up script
    // jsonb text, down scripts only: the tables, materialized views, columns and schemas the script drops, each
    // with rows (exact when the caller may read the table and it is small, else pg_class.reltuples, labelled
    // rows_exact false; null when unknown)
    std::optional<std::string> dropped;
    std::optional<Error> error;  // a failed migration's error, for migrate_apply(dry_run => true)

    std::string report_json() const;  // the whole report as one jsonb object (text)
};

// Rehearses `plan` (in order; with Direction::down, the down scripts of applied migrations, newest first)
// and reports each migration. Never raises for a migration's own failure: that migration is reported
// failed, and the ones after it are not rehearsed.
std::vector<DryRunReport> dry_run(pg::Spi& spi, const std::vector<Migration>& plan,
                                  Direction direction = Direction::up);

}  // namespace pgmig
