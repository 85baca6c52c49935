// Lines of migration files in what the client prints. The extension and the ledger count lines from the start
// of the script they were given (the up or the down script: that is what a psql user registered and sees);
// the client names lines of the FILE, as lint and validate do: it adds where the script starts in its file.
#pragma once

#include "client/core/db.hpp"
#include "client/ledger/migration_files.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace pgmig::client {

// 1-based line of the file at which `f`'s down script starts (1 when it has a file of its own, or when the
// script cannot be found in the file as written).
int down_first_line(const MigrationFile& f);

// The file holding `f`'s up (or down) script, and the file line of line `script_line` of that script.
std::string script_file(const MigrationFile& f, bool down);
int file_line(const MigrationFile& f, bool down, int script_line);

// The migration that a pgmig message names ("migration 3 "orders"", "repeatable migration "views"")
// among `files`; nullptr when it names none of them.
const MigrationFile* migration_named(std::string_view text, const std::vector<MigrationFile>& files);

// `text` with every "line N of the up script" / "line N of its down script" (and the "statement starting at
// line M" that may follow) turned into lines of f's file: "line N' of FILE (up script)...".
std::string in_file_lines(const std::string& text, const MigrationFile& f);

// A server error about a migration (migrate_apply, migrate_rollback, migrate_plan): its message, detail and
// hint in file lines, for the migration its message names. Unchanged when it names none of `files`.
ServerError in_file_lines(const ServerError& e, const std::vector<MigrationFile>& files);

// A session of sample_migrations() (client/ops/monitor.hpp) whose migration.line counts in the script: the line
// of the file instead, and migration.file, when `files` hold its version.
void session_in_file_lines(nlohmann::json& session, const std::vector<MigrationFile>& files);

// The migrations folder of the project in the current directory (pgmig.toml's, else ./migrations) for
// commands that work from the ledger (rollback): empty when there is none or it cannot be read, so that
// messages keep the script's lines then.
std::vector<MigrationFile> project_files_quietly();

}  // namespace pgmig::client
