// What several commands share: loading the migrations folder as user errors, registering files in the
// ledger, and turning a server error into the client's error kinds.
#pragma once

#include "client/db.hpp"
#include "client/migration_files.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pgmig::client {

// load_migration_dir with its errors as Error(input); `consequence` ends the next-step text
// (e.g. "nothing was applied"). An empty folder is an error unless allow_empty.
std::vector<MigrationFile> load_files(const std::string& dir, const std::string& consequence, bool allow_empty = false);

// A server error as the client's Error, its kind from the SQLSTATE (see kind_for_sqlstate).
[[noreturn]] void throw_server_error(const ServerError& e, const std::string& where, const std::string& next_step);

// Registers every file through migrate_register (version, name, up, down, options) in the caller's
// transaction; throws on the first refusal, naming the file.
void register_files(const Connection& conn, const std::vector<MigrationFile>& files);

// The file of a version (by natural order, so "001" finds "1"), or nullptr.
const MigrationFile* find_versioned(const std::vector<MigrationFile>& files, const std::string& version);

// "500ms", "1s", "2min" or a plain number of milliseconds (the rule of the extension's duration options).

// Milliseconds as a PostgreSQL interval literal.
std::string interval_ms(long long ms);

// The options migrate_lint takes for a migration's up script, from its file: transactional, allow and
// lock_timeout (what migrate_apply's lint gate uses for the registered migration).
nlohmann::json lint_options(const MigrationFile& f);

// The current UTC time in a strftime `format` (e.g. "%Y-%m-%dT%H:%M:%SZ").
std::string utc_now(const char* format);

}  // namespace pgmig::client
