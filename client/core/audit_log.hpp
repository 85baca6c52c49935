// The client's audit log: one JSON line per pgmig command (who, where, what, outcome, how long),
// appended to logs/migration-audit.log of the project (pgmig.toml `audit_log`, or PGMIG_AUDIT_LOG; without a
// pgmig.toml, ~/.local/state/pgmig/migration-audit.log). Never a secret:
// connection strings are reduced to host/port/dbname/user, arguments that could hold one are masked.
//
// How commands feed it: client/cli/main.cpp starts the record before the command runs and writes it once
// the command ends (also on failure). Connection::open notes the target and the role; commands add
// what only they know through audit_context() (the environment of --env, the versions they touched).
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace pgmig::client {

// What the running command has told the audit log so far (one per process: pgmig runs one command).
struct AuditContext {
    std::string command;                 // the subcommand path: "apply", "audit verify", "local start"
    std::vector<std::string> arguments;  // the command line without argv[0], secrets masked
    std::string environment;             // --env NAME, when given
    std::optional<std::string> db_role;  // the role of the (first) connection
    std::optional<std::string> target;   // "host=... port=... dbname=... user=..." (never a password)
    std::vector<std::string> versions;   // versions the command applied, approved, rolled back...
    std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
};

AuditContext& audit_context();

// Called by Connection::open after a successful connection (the first one wins).
void audit_note_connection(const std::string& target, const std::string& role);
// Commands call these when they know the environment or touched versions.
void audit_note_environment(const std::string& environment);
void audit_note_version(const std::string& version);

// argv[1..] with the value of -d/--dbname replaced by "<conninfo>" and any argument that looks like it
// holds a password (password=, a URI with user:secret@) replaced by "<redacted>".
std::vector<std::string> redact_arguments(int argc, const char* const* argv);

// `message` with the secrets masked: a URI's user:secret@ becomes user:<redacted>@, and password=... or
// sslpassword=... (quoted or not) becomes password=<redacted>. For error messages, which may quote an argument.
std::string redact_message(const std::string& message);

// The file the log goes to: PGMIG_AUDIT_LOG when set (even to "", which turns it off), else, when the
// current folder holds a pgmig.toml, its audit_log (read without failing: a broken pgmig.toml leaves the
// default), relative to that folder; else (no project here) user_audit_log_path().
std::string audit_log_path();

// $XDG_STATE_HOME/pgmig/migration-audit.log, else ~/.local/state/pgmig/migration-audit.log ("" without a home).
std::string user_audit_log_path();

// The JSON line of the finished command: time (UTC ISO-8601), os_user, db_role, environment, target,
// command, arguments, versions, outcome {status: ok|error, exit_code, kind, message}, duration_ms.
nlohmann::json audit_record(const AuditContext& context, int exit_code, const std::string& error_kind,
                            const std::string& error_message);

// Appends one line (created with its folder, mode 0640; one write() with O_APPEND, so concurrent pgmig
// runs never interleave). Returns "" on success, else what went wrong (the caller warns; never fails).
std::string append_audit_line(const std::string& path, const nlohmann::json& record);

}  // namespace pgmig::client
