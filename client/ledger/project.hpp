// What several commands share: loading the migrations folder as user errors, registering files in the
// ledger, and turning a server error into the client's error kinds.
#pragma once

#include "client/core/db.hpp"
#include "client/core/errors.hpp"
#include "client/ledger/migration_files.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pgmig::client {

// load_migration_dir with its errors as Error(input); `consequence` ends the next-step text
// (e.g. "nothing was applied"). An empty folder is an error unless allow_empty.
std::vector<MigrationFile> load_files(const std::string& dir, const std::string& consequence, bool allow_empty = false);

// A server error as the client's Error, its kind from the SQLSTATE (see kind_for_sqlstate); a permission
// error on pgmig's own functions and tables becomes permission_denied_error's.
[[noreturn]] void throw_server_error(const ServerError& e, const std::string& where, const std::string& next_step);

// Whether a server error is SQLSTATE 42501 raised by pgmig's own call itself (permission denied for
// function migrate_status, for schema pgmig, ...), not by a statement of a migration (the extension
// reports those as "<migration> failed: ...", and they stay migration_failed with their SQLSTATE).
bool is_own_permission_error(const ServerError& e);

// The pgmig role the running command needs (docs/install.md, Roles): pgmig_approver for approve,
// pgmig_admin for the commands that change the ledger or take backups, else pgmig_reader.
std::string pgmig_role_for_command();

// Error(permission_denied) for is_own_permission_error's errors: the hint names the role to GRANT.
Error permission_denied_error(const ServerError& e, const std::string& where, const std::string& next_step = {});

// Registers every file through migrate_register (version, name, up, down, options) in the caller's
// transaction; throws on the first refusal, naming the file. Registering a file whose definition the
// ledger already holds vouches for it (the database then lets it run with this role's rights), so a
// file is skipped only when it is unchanged and this role already vouched for it. The files to register
// go in one statement (register_many_sql); when it fails, they go again one at a time, so that the
// refusal names its file.
void register_files(const Connection& conn, const std::vector<MigrationFile>& files);

// The definitions of `files`, in their order, as one text[] literal per argument of migrate_register.
struct RegisterArrays {
    std::string versions, names, ups, downs, options;
};
RegisterArrays register_arrays(const std::vector<const MigrationFile*>& files);

// One statement that calls migrate_register for each element of RegisterArrays ($1 to $5), in order;
// `qualifier` is the extension's schema with its dot ("public."), or empty for the session's search_path.
std::string register_many_sql(const std::string& qualifier);

// A no-op `pgmig apply` in one query. Returns where the database stands ("version 12", "no version") when
// the ledger already holds every file exactly as register_files() would leave it (same name, up checksum,
// down script, options, vouched for by this role), every migration in it is applied and unchanged since
// (none pending, none interrupted, no stored script edited), the extension is this client's release, and
// migrate_apply() would raise nothing for the session's environment and approval settings. nullopt whenever anything might differ, or the query fails (a role that may not read the
// scripts): then the caller takes the full way, which locks, registers, and raises every error itself.
std::optional<std::string> up_to_date(const Connection& conn, const std::vector<MigrationFile>& files,
                                      const std::optional<std::string>& environment, int required_approvals);

// A pending migration that is registered but that no file of the folder holds: someone registered it
// (migrate_register) and nobody reviewed it as a file. pgmig apply and deploy refuse it unless
// --allow-ledger-only names it; status and validate report it.
struct LedgerOnly {
    std::optional<std::string> version;  // nullopt for a repeatable migration
    std::string name;
    std::string checksum;
    std::string registered_by;
    std::string registered_at;  // UTC, "2024-05-01 12:00:00 UTC"
    std::string up_sql;  // empty unless asked for; its redacted copy (what a pgmig_reader may read)
    nlohmann::json options;
    std::string label() const { return version ? *version + "_" + name : "R__" + name; }
    // migration 100 "x" (or repeatable migration "x"), registered by adm at 2024-05-01 12:00:00 UTC
    std::string describe() const;
};

// The ledger's pending migrations without a file in `files` (versioned ones not applied, repeatable
// ones whose checksum changed), in version order; their up scripts only `with_scripts` (pgmig validate
// lints them; the rest need no more than a reader may see). Throws Error naming the target when the
// ledger cannot be read.
std::vector<LedgerOnly> ledger_only_migrations(const Connection& conn, const std::vector<MigrationFile>& files,
                                               bool with_scripts = false);

// Whether --allow-ledger-only's values name m: its version (1 and 001 are one) or, for a repeatable
// migration, R__NAME.
bool ledger_only_allowed(const LedgerOnly& m, const std::vector<std::string>& allowed);

// "pgmig apply refuses ..." for the migrations not allowed, as an Error(ledger_only); nothing when all are.
void refuse_ledger_only(const std::vector<LedgerOnly>& found, const std::vector<std::string>& allowed,
                        const std::string& where, const std::string& consequence);

// Registers m's stored definition again, as this role: it vouches for exactly that checksum (the
// explicit consent --allow-ledger-only gives); throws when the ledger changed since m was read.
void vouch_for(const Connection& conn, const LedgerOnly& m);

// The file of a version (by natural order, so "001" finds "1"), or nullptr.
const MigrationFile* find_versioned(const std::vector<MigrationFile>& files, const std::string& version);

// "500ms", "1s", "2min" or a plain number of milliseconds (the rule of the extension's duration options).

// Milliseconds as a PostgreSQL interval literal.
std::string interval_ms(long long ms);

// The options migrate_lint takes for a migration's up script, from its file: transactional, allow and
// lock_timeout (what migrate_apply's lint gate uses for the registered migration).
nlohmann::json lint_options(const MigrationFile& f);

// Creates the migrations folder `dir` when it does not exist; Error(input) naming it when it cannot.
void ensure_migrations_dir(const std::string& dir);

// The current UTC time in a strftime `format` (e.g. "%Y-%m-%dT%H:%M:%SZ").
std::string utc_now(const char* format);

}  // namespace pgmig::client
