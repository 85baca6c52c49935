// The command entry points and their options; client/cli/main.cpp declares them on the command line.
#pragma once

#include <string>
#include <vector>

namespace pgmig::client {

struct GlobalOptions {
    std::string dbname;  // -d/--dbname: connection string or URI; empty = libpq environment
    std::string format;  // --format: the migrations folder's format (folder_format_names()); empty = config/detect
    // ==== the target database (every command that connects; docs/reference.md "The target database") ====
    std::string env;           // --env NAME: the environment of pgmig.toml whose connection is used unless -d is
    bool password = false;     // -W/--password: ask for the password before connecting
    bool no_password = false;  // -w/--no-password: never ask for a password
};

// The one resolution order of the target database, run once before a command that connects: -d/--dbname,
// else the connection of --env's environment (pgmig.toml; an unknown name is an error naming the file and the
// defined environments), else "" (libpq: PG* variables, pg_service.conf, ~/.pgpass). Leaves the result in
// global.dbname and sets the password prompt (-W, -w).
void resolve_target(GlobalOptions& global);

// dir (every command that reads files): empty = the `migrations` of ./pgmig.toml, else "migrations".

struct InitOptions {
    std::string dir = ".";  // project folder: pgmig.toml and migrations/ go there
};

struct NewOptions {
    std::string name;
    std::string dir;
};

struct StatusOptions {
    bool json = false;
    std::string dir;
};

struct ValidateOptions {
    std::string dir;
    bool json = false;     // alias of format = "json"
    std::string format = "text";  // text, json, github, sarif
    bool offline = false;  // files only, no database (no lint, no integrity)
    bool no_impact = false;                // --no-impact: no dry run of the pending migrations (their impact summary)
    std::string lint_threshold = "error";  // lint findings that fail validate (exit 14): error | warning | off
    std::vector<std::string> allow_ledger_only;  // ledger-only migrations reported as warnings, not errors
};

struct ApplyOptions {
    std::string dir;
    std::string to;   // target version; empty = all
    int retries = 3;  // whole-transaction attempts after a lock timeout (SQLSTATE 55P03)
    std::string retry_wait = "1s";
    long long retry_wait_ms = 1000;  // parsed from retry_wait; doubles after each attempt
    std::string check_integrity;     // "" = no check, "report" or "strict" (--check-integrity[=strict])
    std::string env;                 // --env: the environment's connection (unless -d), its approval policy and name
    std::vector<std::string> allow_ledger_only;  // pending migrations without a file to apply anyway (VERSION, R__NAME)
};

struct RollbackOptions {
    int steps = 1;
    std::string to;  // roll back every migration newer than this version (0 = all)
    std::string env;  // --env: the environment's connection (unless -d) and its alert targets (event rollback)
    bool trust = false;  // --trust: run down scripts registered by roles with fewer rights than this one
    bool force = false;  // --force: roll back baseline migrations too (on a terminal, after typing the version)
    bool yes = false;    // --yes: roll back although the down scripts drop data (scripts; a terminal asks y/N)
    bool dry_run = false;  // --dry-run: rehearse the down scripts and print what they would do; nothing persists
};

struct BaselineOptions {
    std::string version;  // VERSION; empty with --from-database
    std::string dir;
    bool force = false;         // VERSION: baseline without comparing the database with the files
    std::string from_database;  // --from-database NAME: write the migration that recreates the live schema first
    std::string new_version;    // --version V: its version (default: the UTC time, YYYYMMDDHHMMSS, as pgmig new)
    std::string env;            // --env NAME: the connection (unless -d) and the environment's shadow_* keys
    std::string shadow_db;      // --shadow-db, --shadow-owner, --shadow-server: as for pgmig diff
    std::string shadow_owner;
    std::string shadow_server;
};

// pgmig adopt: take over another migration tool's history (docs/adopting.md).
struct AdoptOptions {
    std::string from;   // --from TOOL; empty = the one tool whose history table the database holds
    bool yes = false;   // --yes: apply the plan without asking
    std::string dir;
    std::string table;  // --table SCHEMA.TABLE: which of several history tables of the tool
};
// "flyway, golang-migrate, dbmate, ...": the names --from takes.
std::string adopt_tool_names();

struct RepairOptions {
    std::string version;
    std::string dir;
    std::string reason;
};

struct AuditVerifyOptions {
    std::string anchor = "logs/audit-chain.jsonl";  // where chain heads are anchored, outside the database
    bool whole = false;  // --whole: hash every sealed row again, not only those of pages changed since the last check
};

struct AuditResealOptions {
    std::string reason;  // --reason: why the break is accepted (kept in the reseal's audit row)
};
int run_audit_reseal(const GlobalOptions& global, const AuditResealOptions& options);

struct LintOptions {
    std::vector<std::string> files;  // empty: the migrations of dir (pending up scripts, or all with --all)
    std::string dir;
    bool all = false;                // every migration of dir, applied ones too, up and down scripts
    std::vector<std::string> allow;  // rules waived for every script
    std::string threshold = "error";  // error | warning | advice: exit 14 from this severity up
    bool json = false;
};

struct LocalOptions {
    std::string dir = ".pgmig/local";
    bool dir_given = false;  // --dir was passed: use it as given, never another folder
};

// ==== data integrity + CI formats ====
struct CheckIntegrityOptions {
    bool json = false;
};
int run_check_integrity(const GlobalOptions& global, const CheckIntegrityOptions& options);
struct PlanOptions {
    std::string dir;
    std::string to;  // rehearse up to this version; empty = all
    bool json = false;
};

struct TestOptions {
    std::string dir;
    bool from_empty = false;  // test every migration from an empty database, not from the target's schema
    bool keep = false;        // keep the scratch database
    bool json = false;
};

// ==== approvals, audit, monitor ====
// The connection string of a command with --env, by resolve_target's order: -d wins; else the environment's
// (pgmig.toml); else "" (the libpq environment). Notes the environment in the audit log.
std::string connection_for(const GlobalOptions& global, const std::string& env);

struct ApproveOptions {
    std::vector<std::string> versions;  // versions, or R__NAME for repeatable migrations
    std::string env;  // required: the environment the approval is for
    std::string dir;
};
int run_approve(const GlobalOptions& global, const ApproveOptions& options);

struct ApprovalsOptions {
    std::string env;       // required
    std::string deployer;  // who will register new and changed files (their registrant); empty = the connecting role
    std::string dir;       // the files a deploy would run; without a folder, the ledger's pending migrations
    bool json = false;
};
// Exit 28 when a migration a deploy would run lacks approvals by roles other than its registrant.
int run_approvals(const GlobalOptions& global, const ApprovalsOptions& options);

struct AuditShowOptions {
    std::string env;
    std::string since;  // a duration (30min, 2h, 7d) or a timestamp; empty = everything
    bool json = false;
};
int run_audit_show(const GlobalOptions& global, const AuditShowOptions& options);

struct MonitorOptions {
    std::string env;
    bool once = false;
    bool json = false;
    double interval_s = 0.5;
};
int run_monitor(const GlobalOptions& global, const MonitorOptions& options);

// ==== alerts + watch ====
struct AlertTestOptions {
    std::string env;                   // --env: the environment's alerts (and its database, described)
    std::vector<std::string> targets;  // --target (repeatable): these targets instead
    std::string event = "test";        // "test" (every target) or one of kAlertEvents (subscribers only)
    bool json = false;
};
int run_alert_test(const GlobalOptions& global, const AlertTestOptions& options);

struct WatchOptions {
    std::string env;
    std::vector<std::string> targets;
    bool once = false;    // exit after the first drift alert
    std::string timeout;  // stop watching after this long ("" = until SIGINT/SIGTERM)
};
int run_watch(const GlobalOptions& global, const WatchOptions& options);

// ==== backups ====
struct BackupOptions {
    std::string env;       // --env NAME: its connection (unless -d) and backup settings; "" = [backup], folder "default"
    std::string out;       // --out DIR: instead of the settings' dir
    std::string key_file;  // --key-file
};
struct BackupListOptions {
    std::string env;
    std::string out;
    bool json = false;
};
struct BackupVerifyOptions {
    std::vector<std::string> files;
    std::string env;  // for the key settings only
    std::string key_file;
    bool json = false;
};
struct RestoreOptions {
    std::string file;
    std::string to;   // the new database
    std::string env;  // its server (unless -d) and key settings
    std::string key_file;
};
int run_backup(const GlobalOptions& global, const BackupOptions& options);
int run_backup_list(const BackupListOptions& options);
int run_backup_verify(const BackupVerifyOptions& options);
int run_restore(const GlobalOptions& global, const RestoreOptions& options);
// ==== deploy ====
struct DeployOptions {
    std::string env;       // the environment of pgmig.toml (required)
    std::string dir;
    std::string to;        // apply up to this version; empty = all
    std::string key_file;  // the backup key (else $PGMIG_BACKUP_KEY_FILE, else pgmig.toml)
    std::vector<std::string> allow_ledger_only;  // as pgmig apply's
};
int run_deploy(const GlobalOptions& global, const DeployOptions& options);

// ==== fleets (docs/fleet.md) ====
struct FleetDeployOptions {
    std::string fleet;   // [fleets.NAME] of pgmig.toml
    std::string resume;  // the run to go on with; empty = a new run
    std::string dir;
    std::string key_file;  // the backup key when the environment requires backups (as deploy's --key-file)
};
int run_fleet_deploy(const FleetDeployOptions& options);
struct FleetStatusOptions {
    std::string run;
    bool json = false;
};
int run_fleet_status(const FleetStatusOptions& options);
// pgmig fleet drift NAME: migrate_drift() of every target, past drifted and unreachable ones; exit 0 all clean,
// 31 some drifted, 63 some could not be read (that one first).
struct FleetDriftOptions {
    std::string fleet;
    int parallel = 0;  // 0 = the fleet's
    bool json = false;
};
int run_fleet_drift(const FleetDriftOptions& options);
// pgmig fleet approve NAME VERSION...: migrate_approve() of each file's checksum for the fleet's environment
// in every target, as the role running it: one review approves the whole fleet run.
struct FleetApproveOptions {
    std::string fleet;
    std::vector<std::string> versions;
    std::string dir;
    bool json = false;
};
int run_fleet_approve(const FleetApproveOptions& options);

// ==== health ====
struct HealthCommandOptions {
    std::string env;                          // --env NAME of pgmig.toml (-d wins for the connection)
    std::string dir;                          // migrations folder; files not registered yet count as pending
    bool json = false;
    bool warn_ok = false;                     // warnings exit 0 instead of 27
    std::string serve;                        // ADDR:PORT: serve /health, /health/live, /health/ready instead
    std::string cache = "0";                  // --serve: reuse a report this long (0 = fresh checks per request)
    int workers = 4;                          // --serve: threads answering /health and /health/ready
    int max_connections = 128;                // --serve: connections open at once
    std::string read_timeout = "5s";          // --serve: deadline of a whole request
    std::string long_transaction = "5min";
    std::string lock_wait = "10s";
    std::string replication_lag = "1min";
    std::string backup_max_age = "26h";
    std::string timeout = "5s";               // per check query, and the connection attempt
};
int run_health(const GlobalOptions& global, const HealthCommandOptions& options);

// ==== desired-state diff ====
struct DiffOptions {
    std::string env;                   // --env NAME: the connection (unless -d) and the environment's shadow_* keys
    std::string schema;                // --schema DIR; empty = `schema` of pgmig.toml, else "schema"
    std::string to;                    // --to CONNINFO: the desired schema is this database's, no shadow
    bool allow_destructive = false;
    std::vector<std::string> renames;  // --rename OLD=NEW (repeatable)
    bool no_rename = false;            // --no-rename: probable renames are drop + add
    std::vector<std::string> backfills;  // --backfill schema.table.column=EXPRESSION (repeatable)
    std::string shadow_db;             // --shadow-db NAME (else shadow_db of pgmig.toml, else pgmig_shadow_<pid>_<random>)
    std::string shadow_owner;          // --shadow-owner ROLE
    std::string shadow_server;         // --shadow-server CONNINFO: create the shadow on this server
    bool json = false;
    bool exit_code = false;            // --exit-code: exit 31 when there are differences
    bool reorder_columns = false;      // --reorder-columns: rebuild tables whose column order differs
    bool strict = false;               // --strict: objects the diff cannot write are an error (exit 36), not warnings
};
struct GenerateOptions {
    DiffOptions diff;
    std::string name;  // the migration's name
    std::string dir;   // migrations folder
};
struct SyncOptions {
    DiffOptions diff;  // diff.env is required
    std::string name = "sync";
    std::string dir;
};
struct DriftOptions {
    std::string env;
    std::string dir;
    bool json = false;
    bool exit_code = false;  // report: exit 31 when there is drift
    std::string fix;         // --fix NAME: write the migration back to the ledger's expected schema
    std::string adopt;       // --adopt NAME: write the migration that records the drift, mark it applied
    bool allow_destructive = false;
    std::vector<std::string> renames;
    bool no_rename = false;
    bool ignore_column_order = false;    // report: migrate_drift(true), a table whose columns only moved is no drift
    bool strict = false;                 // --strict: objects the diff cannot write are an error (exit 36), not warnings
    std::vector<std::string> backfills;  // --fix: --backfill schema.table.column=EXPRESSION (repeatable)
};
int run_diff(const GlobalOptions& global, const DiffOptions& options);
int run_generate(const GlobalOptions& global, const GenerateOptions& options);
int run_sync(const GlobalOptions& global, const SyncOptions& options);
int run_drift(const GlobalOptions& global, const DriftOptions& options);

// ==== impact ====
// pgmig impact VERSION|FILE: what a pending migration touches (its dry run), what depends on that in the live
// catalog, and the related bugs of the project's bugs file.
struct ImpactOptions {
    std::string target;  // a version, R__NAME, or the path of a migration file
    std::string dir;
    std::string env;  // --env NAME: the environment's connection (unless -d)
    bool json = false;
};
int run_impact(const GlobalOptions& global, const ImpactOptions& options);

// Each returns an exit code or throws client::Error.
int run_init(const InitOptions& options);
int run_new(const NewOptions& options);
int run_status(const GlobalOptions& global, const StatusOptions& options);
int run_validate(const GlobalOptions& global, const ValidateOptions& options);
int run_apply(const GlobalOptions& global, const ApplyOptions& options);
int run_rollback(const GlobalOptions& global, const RollbackOptions& options);
int run_baseline(const GlobalOptions& global, const BaselineOptions& options);
int run_repair(const GlobalOptions& global, const RepairOptions& options);
int run_adopt(const GlobalOptions& global, const AdoptOptions& options);
int run_audit_verify(const GlobalOptions& global, const AuditVerifyOptions& options);
int run_lint(const GlobalOptions& global, const LintOptions& options);
int run_local_start(const LocalOptions& options);
int run_local_stop(const LocalOptions& options);
int run_local_status(const LocalOptions& options);
int run_local_url(const LocalOptions& options);
int run_local_env(const LocalOptions& options);
int run_plan(const GlobalOptions& global, const PlanOptions& options);
int run_test(const GlobalOptions& global, const TestOptions& options);

}  // namespace pgmig::client
