// The options of a migration (migrate_register's jsonb argument), parsed and validated.
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
};

// Parses the JSON text of an options object; throws Error (PM007) naming the bad key.
// `where` names the migration in messages.
MigrationOptions parse_options(const std::string& json_text, const std::string& where);

}  // namespace pgmig
