// The options of a migration (migrate_register's jsonb argument) and of migrate_lint: one parser, which
// validates both.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace pgmig {

struct MigrationOptions {
    bool transactional = true;
    bool repeatable = false;
    std::vector<std::string> refs;   // issue or ticket ids
    std::vector<std::string> allow;  // lint rules waived
    std::optional<int> lock_timeout_ms;
    std::optional<int> statement_timeout_ms;
    std::optional<int> retries;
    // migrate_lint only: the up script whose down script is linted (lint::Options::down_of).
    std::optional<std::string> down_of;
};

// Whose options an object holds: which keys it may have, and how an error in it reads.
enum class OptionsOf {
    migration,  // migrate_register's (and the ledger's): PM007 naming the migration
    lint,       // migrate_lint's: allow, transactional, lock_timeout, down_of; PM016
};

// Parses the JSON text of an options object; unknown keys and wrong types throw Error (PM007 for a
// migration's, PM016 for migrate_lint's) naming the bad key. `where` names the migration in messages.
// The rule ids of "allow" are not checked here: a stored migration is read whatever it says, and
// lint::lint_script (like migrate_register) refuses an unknown one.
MigrationOptions parse_options(const std::string& json_text, OptionsOf of, const std::string& where = {});

}  // namespace pgmig
