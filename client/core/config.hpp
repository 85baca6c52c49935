// pgmig.toml, the project file: the migrations folder, the client's audit log, backups, alert targets, the
// environments a deploy goes through and the fleets of databases a deploy --fleet rolls out to. Secrets never
// live in it: it names the environment variables or files that hold them (key_env, key_file, secret_env,
// password_env, url_env).
#pragma once

#include "client/ops/fleet/fleet_config.hpp"
#include "client/ledger/migration_files.hpp"

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace pgmig::client {

inline constexpr const char* kConfigFile = "pgmig.toml";
inline constexpr const char* kDefaultMigrationsDir = "migrations";
inline constexpr const char* kDefaultAuditLog = "logs/migration-audit.log";
inline constexpr const char* kDefaultBackupDir = "backups";
inline constexpr const char* kDefaultSchemaDir = "schema";

// The shadow database of pgmig diff/generate/sync (top level, and per environment over it): where the
// desired schema is loaded. Empty = the default (pgmig_shadow_<pid>_<random>, the connecting role, the
// target's server).
struct ShadowSettings {
    std::string db;      // shadow_db: the shadow database's name
    std::string owner;   // shadow_owner: the role that owns it (CREATE DATABASE ... OWNER)
    std::string server;  // shadow_server: a connection string of another server to create it on (no password)
};

// [backup] (and an environment's backup_dir, backup_keep, backup_key_file, backup_key_env): where backups go, how many are kept, where the key is.
struct BackupSettings {
    std::string dir = kDefaultBackupDir;  // relative to the project folder (the current directory)
    int keep = 0;                         // newest backups kept per environment; 0 = keep all
    std::string key_file;                 // a file holding the key (32 raw bytes, 64 hex digits) or a passphrase
    std::string key_env;                  // or: the NAME of an environment variable holding the passphrase
};

// [alerts.NAME]: one alert target.
struct AlertTarget {
    enum class Kind { webhook, email };
    std::string name;
    Kind kind = Kind::webhook;
    // webhook
    std::string url;         // http(s) URL (may be empty when url_env is set)
    std::string url_env;     // or: the NAME of an environment variable holding the URL (Slack URLs are secrets)
    std::string secret_env;  // NAME of the environment variable holding the HMAC-SHA256 key (optional)
    std::string format = "json";  // "json" (pgmig's payload) or "slack" (a Slack-compatible payload)
    // email
    std::string smtp;          // smtp://host:port or smtps://host:port
    std::string from;          // envelope and header sender
    std::vector<std::string> to;
    std::string username;      // SMTP AUTH user (optional)
    std::string password_env;  // NAME of the environment variable holding the SMTP password
    std::string starttls = "auto";  // "auto" (when offered), "always" (refuse without), "never"
    // both
    long timeout_ms = 5000;        // per attempt
    int retries = 2;               // further attempts after the first, with a doubling wait
    long retry_wait_ms = 500;      // wait before the first retry
    std::vector<std::string> events;  // only these events (see kAlertEvents); empty = all
};

// The events an alert can be sent for.
inline constexpr const char* kAlertEvents[] = {
    "deploy_started", "deploy_succeeded", "deploy_failed", "rollback", "drift_detected", "backup_failed",
    "approval_requested",
};

// [environments.NAME]: a database a deploy targets and the rules for it.
struct Environment {
    std::string name;
    std::string dbname;      // connection string or URI (as -d); better without a password (use ~/.pgpass)
    std::string dbname_env;  // or: the NAME of an environment variable holding it
    bool backup = false;     // a backup must be taken (and succeed) before migrating
    bool approval = false;   // every pending migration must be approved by another role (four-eyes)
    std::string lint = "off";  // lint threshold for deploy: off | error | warning
    std::vector<std::string> alerts;  // names of [alerts.NAME] targets
    BackupSettings backup_settings;   // [backup] with this environment's backup_* keys over it
    ShadowSettings shadow;            // the top-level shadow_* keys with this environment's over them
};

struct ProjectConfig {
    std::string migrations = kDefaultMigrationsDir;  // folder of the migration files
    std::string format;  // the folder's format (a folder_format_name); empty = detected from the files
    std::string schema = kDefaultSchemaDir;          // folder of the desired schema's .sql files (pgmig diff)
    ShadowSettings shadow;                           // shadow_db, shadow_owner, shadow_server
    std::string audit_log = kDefaultAuditLog;        // the client's JSON-lines audit log ("" = off)
    std::string bugs;  // the project's bugs file (pgmig impact looks related bugs up in it); "" = none
    BackupSettings backup;                           // [backup] defaults for every environment
    std::map<std::string, AlertTarget> alerts;
    std::map<std::string, Environment> environments;
    std::map<std::string, fleet::Fleet> fleets;  // [fleets.NAME] (client/ops/fleet/fleet_config.hpp)
};

// Reads a pgmig.toml; throws Error(input) naming the file (and the key or line) when it is invalid:
// unknown keys, wrong types, an environment naming an alert target that does not exist, ...
ProjectConfig load_config(const std::filesystem::path& file);

// ./pgmig.toml when it exists, else the defaults.
ProjectConfig load_project_config();

// The migrations folder a command uses: --dir when given, else the `migrations` of ./pgmig.toml
// when that file exists, else "migrations".
std::string resolve_migrations_dir(const std::string& dir_option);

// --format of this run (empty = none given); main sets it once, before any command runs.
void set_format_option(const std::string& format);
// The format the migrations folder `dir` is read in: --format, else the `format` of ./pgmig.toml when
// `dir` is that file's `migrations` folder, else nullopt (detected from the files).
std::optional<FolderFormat> resolve_folder_format(const std::string& dir);

// The desired schema's folder of pgmig diff/generate/sync: --schema when given, else the `schema` of
// ./pgmig.toml when that file exists, else "schema".
std::string resolve_schema_dir(const std::string& schema_option);

// The environment NAME of the config; Error(input) listing the known names when there is none.
const Environment& find_environment(const ProjectConfig& config, const std::string& name);

// The connection string of an environment: dbname, else the variable dbname_env names; Error(input) when
// neither gives one.
std::string environment_conninfo(const Environment& env);

}  // namespace pgmig::client
