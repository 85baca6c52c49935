// The order of a replication group's targets in a fleet run. PostgreSQL's logical replication sends rows,
// not DDL, and a subscriber applies a row only if its table has every column the publisher sends: a column
// added to the publisher first stops replication ("logical replication target relation ... is missing
// replicated column"), a column dropped from a subscriber first does the same. So:
//   - migrations that only add (CREATE, ALTER TABLE ... ADD, DROP NOT NULL): the subscribers first;
//   - migrations that only remove (DROP, DROP COLUMN, SET NOT NULL): the publisher first;
//   - anything else is refused with the reason: a migration that adds and removes (split it), a rename or a
//     type change (whether it widens or narrows decides the order: do it in steps), statements that change
//     rows (they would run on the publisher and again on every subscriber, which also receives them).
// The classification reads the pending migrations with the publisher's own parser and catalog: its
// migrate_lint() (drop-column, drop-table, set-not-null, rename-*, alter-column-type...) and
// pgmig.split_statements() (each statement's first keyword).
#pragma once

#include "client/core/db.hpp"
#include "client/ops/fleet/fleet_config.hpp"
#include "client/ledger/migration_files.hpp"

#include <string>
#include <vector>

namespace pgmig::client::fleet {

enum class ReplicationOrder { subscribers_first, publisher_first };
const char* order_name(ReplicationOrder order);

struct GroupOrder {
    ReplicationOrder order = ReplicationOrder::subscribers_first;
    std::string why;  // "migration 7 adds (ALTER TABLE items ADD ...)", for the run's output
};

// What one migration does, by the rules above (exposed for the unit tests).
struct MigrationEffect {
    std::vector<std::string> adds, removes, refused;  // a short description of each statement or lint finding
};
MigrationEffect classify(const std::vector<std::string>& statements, const std::vector<std::string>& lint_rules);

// Reads which of `files` are pending on the publisher and classifies them. Throws
// Error(replication_unordered) naming the publication, the migration and why, when they cannot be ordered.
GroupOrder order_group(const Connection& publisher, const ReplicationGroup& group,
                       const std::vector<MigrationFile>& files);

}  // namespace pgmig::client::fleet
