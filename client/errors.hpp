// The client's error kinds and their exit codes: the one table (documented in docs/) and the one error line format.
#pragma once

#include <array>
#include <exception>
#include <string>
#include <string_view>
#include <utility>

namespace pgmig::client {

enum class ErrorKind {
    internal,             // a bug or an unexpected failure of the client itself
    usage,                // bad command line (CLI11)
    input,                // bad migration files or other user input
    connect,              // cannot connect to the database
    migration_failed,     // the server raised an error while registering or applying migrations
    ledger_conflict,      // the ledger disagrees with the files (PM002: an applied migration was changed)
    local_cluster,        // pgmig local could not do its work
    extension,            // the pgmig extension is missing from the database or has another version
    validation,           // pgmig validate found problems
    ledger_tampered,      // PM008: the ledger was edited outside pgmig
    out_of_order,         // PM009: pending migrations older than the newest applied one
    rollback_refused,     // PM011: a migration to roll back has no down script
    audit_broken,         // the audit hash chain is broken, or was rewritten since it was anchored
    lint_failed,          // lint found findings at or above the threshold (pgmig lint; PM017 from migrate_apply)
    rehearsal_failed,     // pgmig plan: a migration failed or would wait; pgmig test: a rollback test failed
    scratch_database,     // pgmig test: the scratch database could not be created or filled, or the run was interrupted
    integrity,            // migrate_check_integrity() found problems of severity error (check-integrity, validate)
    integrity_regressed,  // apply --check-integrity=strict: applied, but new integrity problems appeared
    // ==== backups ====
    backup_failed,     // a backup or restore could not be done (no key, pg_dump/pg_restore failed, cannot write)
    backup_wrong_key,  // the backup was encrypted with another key
    backup_corrupted,  // a backup failed authentication, its checksum, or pg_restore --list
    backup_truncated,  // a backup ends before its final chunk
    backup_manifest,   // a backup's manifest is missing or invalid
    restore_mismatch,  // the restored database's fingerprint differs from the manifest's
    alert_failed,      // an alert could not be delivered (pgmig alert test, pgmig watch)
    health_failed,     // pgmig health: a check failed (drift, ledger problems, extension, audit chain...)
    health_warnings,   // pgmig health: no check failed, but some warned (pending migrations, old backup...)
    // ==== approvals ====
    approval_missing,   // a migration lacks approvals by roles other than its registrant (four-eyes; PM032)
    approval_refused,   // PM025 (already applied) or PM031 (its registrant approves): nothing was approved
    postflight_failed,  // pgmig deploy: applied, but the post-flight health or drift check failed
    // ==== desired-state diff ====
    diff_found,            // pgmig diff/drift --exit-code: there are differences
    destructive_withheld,  // destructive steps were withheld (no --allow-destructive); the rest was written
    rename_unresolved,     // a probable rename without --rename/--no-rename, with --allow-destructive: refused
    schema_load_failed,    // the shadow database could not be made, or a schema file failed to load into it
    sync_refused,          // pgmig sync on an environment with approval = true
    diff_unsupported,      // the diff met objects it cannot write DDL for
    not_null_withheld,     // a NOT NULL column added to a table with rows has no default nor --backfill: withheld
    // Trust and approvals enforced by the database
    ledger_only,           // a pending migration is registered but no file holds it (apply/deploy refuse it)
    registrant_untrusted,  // PM030: the registrant of a script lacks rights the role running it has
    environment_mismatch,  // PM033: the database's pgmig.environment is another, or none names whose approvals count
    nontx_refused,    // PM035-PM037: the server refused a non-transactional step (statements not run as registered)
    inline_password,  // pgmig.toml holds a password inline (a connection string or an alert URL)
    // ==== bad input ====
    bad_bytes,           // a migration file, schema file or pgmig.toml holds a NUL byte or invalid UTF-8
    unsafe_search_path,  // the session's search_path names a schema before pg_catalog
    // ==== baselines ====
    baseline_refused,           // the schema is not what the migrations build, or the ledger has a history already
    baseline_rollback_refused,  // rolling back a baseline migration without --force (or its confirmation)
    // ==== pgmig adopt ====
    adopt_not_confirmed,  // the plan was shown but not applied: no --yes and no terminal, or not confirmed
    adopt_refused,  // PM062: no or several tools' history tables, a failed or dirty state, a recorded migration without
                    // a file
    adopt_ledger_differs,  // PM063: the ledger already holds another history than the tool's
    // ==== the target database ====
    bad_conninfo,  // the connection parameters name an unknown parameter, are malformed, or have a bad value
    // ==== guarded destructive commands ====
    rollback_not_confirmed,  // pgmig rollback drops data: no --yes outside a terminal, or not confirmed on one
    audit_reseal_refused,    // PM064 (not a superuser) or PM065 (nothing to reseal, no reason): nothing was changed
    // ==== status and permissions ====
    applied_edited,     // pgmig status: the file of an applied migration was edited (not only cosmetically)
    permission_denied,  // SQLSTATE 42501 on pgmig's own calls: the role lacks a pgmig role (the hint names it)
    // ==== pgmig impact ====
    impact_unknown,  // pgmig impact: the version or file names no pending migration of the folder
    // ==== the desired state from an ORM ====
    orm_schema_failed,  // drizzle:/prisma: schema: Node.js, the tool or the schema file is missing, or the tool failed
    // ==== upgrades ====
    sql_version_mismatch,  // PM066: the extension's library and this database's SQL objects are different releases
    // ==== fleet runs ====
    fleet_incomplete,  // deploy --fleet: targets failed or were not reached (a wave halted, or failures within limits)
    fleet_paused,      // deploy --fleet: the run paused after a wave (then = "pause"); --resume goes on
    replication_unordered,  // deploy --fleet: a replication group's pending migrations cannot be ordered safely
};

struct ErrorKindInfo {
    ErrorKind kind;
    int exit_code;
    std::string_view meaning;
};

inline constexpr int kExitOk = 0;

// Keep in step with docs/ (exit codes are a contract with scripts and CI).
inline constexpr std::array<ErrorKindInfo, 60> kErrorKinds{{
    {ErrorKind::internal, 1, "internal error"},
    {ErrorKind::usage, 2, "usage error (bad command line)"},
    {ErrorKind::input, 3, "bad migration files or input"},
    {ErrorKind::connect, 4, "cannot connect to the database"},
    {ErrorKind::migration_failed, 5, "a migration failed (nothing was applied)"},
    {ErrorKind::ledger_conflict, 6, "ledger conflict (an applied migration was changed)"},
    {ErrorKind::local_cluster, 7, "local cluster error"},
    {ErrorKind::extension, 8, "the pgmig extension is missing or has another version"},
    {ErrorKind::validation, 9, "pgmig validate found problems"},
    {ErrorKind::ledger_tampered, 10, "the ledger was edited outside pgmig (PM008)"},
    {ErrorKind::out_of_order, 11, "pending migrations older than the newest applied one (PM009)"},
    {ErrorKind::rollback_refused, 12, "rollback refused: a migration has no down script (nothing rolled back)"},
    {ErrorKind::audit_broken, 13, "the audit chain is broken, or was rewritten since it was anchored"},
    {ErrorKind::lint_failed, 14, "lint found findings at or above the threshold (PM017: pgmig.lint_block)"},
    {ErrorKind::rehearsal_failed, 15,
     "pgmig plan: a migration failed or would wait; pgmig test: a rollback test failed"},
    {ErrorKind::scratch_database, 16,
     "pgmig test: the scratch database could not be created or filled, or interrupted"},
    {ErrorKind::integrity, 17, "the data has integrity problems (migrate_check_integrity errors)"},
    {ErrorKind::integrity_regressed, 18, "applied, but new integrity problems appeared (--check-integrity=strict)"},
    {ErrorKind::backup_failed, 19, "a backup or restore could not be done (key, pg_dump, pg_restore, files)"},
    {ErrorKind::backup_wrong_key, 20, "the backup was encrypted with another key"},
    {ErrorKind::backup_corrupted, 21, "the backup is corrupted (authentication, checksum or pg_restore --list failed)"},
    {ErrorKind::backup_truncated, 22, "the backup is truncated"},
    {ErrorKind::backup_manifest, 23, "the backup's manifest is missing or invalid"},
    {ErrorKind::restore_mismatch, 24, "the restored database's fingerprint differs from the backup's"},
    {ErrorKind::alert_failed, 25, "an alert could not be delivered (pgmig alert test, pgmig watch)"},
    {ErrorKind::health_failed, 26, "pgmig health: a check failed"},
    {ErrorKind::health_warnings, 27, "pgmig health: no check failed, but some warned (0 with --warn-ok)"},
    {ErrorKind::approval_missing, 28, "a pending migration lacks approvals by roles other than its registrant (PM032)"},
    {ErrorKind::approval_refused, 29, "approval refused: already applied (PM025) or by its own registrant (PM031)"},
    {ErrorKind::postflight_failed, 30, "deploy: applied, but the post-flight health or drift check failed"},
    {ErrorKind::diff_found, 31, "diff/drift --exit-code: there are differences"},
    {ErrorKind::destructive_withheld, 32,
     "destructive steps withheld (pass --allow-destructive); the rest was written"},
    {ErrorKind::rename_unresolved, 33, "a probable rename is unresolved: pass --rename OLD=NEW or --no-rename"},
    {ErrorKind::schema_load_failed, 34,
     "the desired schema could not be loaded (shadow database or a schema file failed)"},
    {ErrorKind::sync_refused, 35, "sync refused: the environment requires approval (use generate + deploy)"},
    {ErrorKind::diff_unsupported, 36, "the diff met objects it cannot write DDL for"},
    {ErrorKind::not_null_withheld, 60,
     "a NOT NULL column needs a default or --backfill: its NOT NULL was withheld; the rest was written"},
    {ErrorKind::ledger_only, 37, "a pending migration is registered but no file holds it (see --allow-ledger-only)"},
    {ErrorKind::registrant_untrusted, 38, "refused: a script's registrant lacks rights of the role running it (PM030)"},
    {ErrorKind::environment_mismatch, 39,
     "the database is another environment, or names none (pgmig.environment, PM033)"},
    {ErrorKind::nontx_refused, 40, "a non-transactional step was refused: its statements did not run as registered"},
    {ErrorKind::inline_password, 42,
     "pgmig.toml holds a password inline (use ~/.pgpass, PGPASSFILE, PGPASSWORD or a service file)"},
    {ErrorKind::bad_bytes, 43, "a file holds a NUL byte or invalid UTF-8 (nothing was done)"},
    {ErrorKind::unsafe_search_path, 44, "search_path names a schema before pg_catalog (nothing was done)"},
    {ErrorKind::baseline_refused, 49,
     "baseline refused: the schema is not what the migrations build, or a history exists (nothing registered)"},
    {ErrorKind::baseline_rollback_refused, 50,
     "rollback of a baseline migration refused: pass --force (and confirm on a terminal)"},
    {ErrorKind::adopt_not_confirmed, 51,
     "adopt: the plan was shown, not applied (pass --yes, or confirm on a terminal)"},
    {ErrorKind::adopt_refused, 52,
     "adopt refused: no or several tools' history tables, a failed or dirty state, or a recorded migration without a "
     "file (PM062)"},
    {ErrorKind::adopt_ledger_differs, 53, "adopt refused: the ledger already holds another history (PM063)"},
    {ErrorKind::bad_conninfo, 54,
     "the connection string names an unknown parameter or has a bad value (nothing was done)"},
    {ErrorKind::rollback_not_confirmed, 56,
     "rollback refused: its down scripts drop data (pass --yes, or confirm on a terminal)"},
    {ErrorKind::audit_reseal_refused, 57,
     "audit reseal refused: not a superuser (PM064), or no broken link to reseal (PM065)"},
    {ErrorKind::applied_edited, 58, "status: the file of an applied migration was edited, not only cosmetically"},
    {ErrorKind::permission_denied, 59,
     "permission denied to pgmig's own functions or tables: GRANT the role the hint names"},
    {ErrorKind::impact_unknown, 61,
     "impact: the version or file names no pending migration (unknown, or already applied)"},
    {ErrorKind::orm_schema_failed, 55,
     "the ORM schema (drizzle:/prisma:) could not be turned into SQL: Node.js, the tool or the file is missing, or "
     "the tool failed"},
    {ErrorKind::sql_version_mismatch, 62,
     "the extension's library and its SQL objects are different releases: ALTER EXTENSION pgmig UPDATE, or "
     "reconnect (PM066)"},
    {ErrorKind::fleet_incomplete, 63,
     "deploy --fleet: some targets failed or were not reached (a wave halted, or the run ended with failures); "
     "--resume RUN retries them"},
    {ErrorKind::fleet_paused, 64, "deploy --fleet: the run paused after a wave; --resume RUN goes on"},
    {ErrorKind::replication_unordered, 65,
     "deploy --fleet: a publication's pending migrations cannot be ordered safely between publisher and subscribers "
     "(nothing was deployed)"},
}};

int exit_code(ErrorKind kind);

// A short name of the kind for machine-readable output (the audit log): "input", "approval_missing"...
std::string_view kind_name(ErrorKind kind);

// The error kind of a SQLSTATE raised by the server (class PM for pgmig's own errors); anything else is
// a migration's own failure (migration_failed).
ErrorKind kind_for_sqlstate(std::string_view sqlstate);

// "Exit codes:" block for the --help footer, generated from kErrorKinds.
std::string exit_codes_help();

// A failure reported to the user as one line:
//   pgmig: error: <what failed>, <where>; <what to do next>
// optionally followed by "hint: ..." (the server's hint, for server errors).
class Error : public std::exception {
  public:
    Error(ErrorKind kind, std::string what_failed, std::string where = {}, std::string next_step = {},
          std::string hint = {})
        : kind_(kind),
          what_failed_(std::move(what_failed)),
          where_(std::move(where)),
          next_step_(std::move(next_step)),
          hint_(std::move(hint)),
          line_(format_line()) {}

    const char* what() const noexcept override { return line_.c_str(); }
    ErrorKind kind() const noexcept { return kind_; }
    int exit_code() const { return client::exit_code(kind_); }
    const std::string& what_failed() const noexcept { return what_failed_; }
    const std::string& where() const noexcept { return where_; }
    const std::string& next_step() const noexcept { return next_step_; }
    const std::string& hint() const noexcept { return hint_; }
    // The error line without the "pgmig: error: " prefix.
    const std::string& line() const noexcept { return line_; }

  private:
    std::string format_line() const;

    ErrorKind kind_;
    std::string what_failed_;
    std::string where_;
    std::string next_step_;
    std::string hint_;
    std::string line_;
};

// Text on one line: every run of whitespace (newlines included) becomes one space, ends trimmed.
std::string one_line(std::string_view text);

// Prints the error to stderr and returns its exit code.
int report(const Error& error);

}  // namespace pgmig::client
