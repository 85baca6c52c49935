// Dry runs: pending migrations rehearsed in a subtransaction that is always rolled back, with what
// each would do (locks, rewrites, rows, catalog diff, lint). Nothing of a rehearsal persists.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "errors.hpp"
#include "ledger_store.hpp"
#include "pg/spi.hpp"

namespace pgmig {

struct DryRunReport {
    std::optional<std::string> version;  // none for a repeatable migration
    std::string name;
    bool rehearsable = true;  // false for a non-transactional migration
    // ok, failed (its own error), would_wait (lock timeout), not_rehearsable (non-transactional),
    // not_rehearsed (after a migration that failed, would wait or could not be rehearsed)
    std::string outcome;
    std::string reason;                   // why it is not "ok"; empty when it is
    int statements = 0;
    std::optional<std::string> duration;  // interval text; none when nothing ran
    std::optional<std::string> locks, rewritten, catalog_diff, rows;  // jsonb text, from pgmig.rehearsal_effects
    long long rows_touched = 0;
    std::optional<std::string> lint;      // jsonb text: the findings of the migration's up script
    std::optional<Error> error;           // a failed migration's error, for migrate_apply(dry_run => true)

    std::string report_json() const;      // the whole report as one jsonb object (text)
};

// Rehearses `plan` (in order) and reports each migration. Never raises for a migration's own
// failure: that migration is reported failed, and the ones after it are not rehearsed.
std::vector<DryRunReport> dry_run(pg::Spi& spi, const std::vector<Migration>& plan);

}  // namespace pgmig
