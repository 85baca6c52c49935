// Health checks of a database under pgmig (connection, versions, ledger, drift, audit chain, locks, replication,
// backups): the library behind `pgmig health`, its HTTP endpoints, and the deploy's pre-flight check.
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pgmig::client {

enum class HealthStatus { ok, warn, fail };

// "ok", "warn", "fail".
const char* to_string(HealthStatus status);

struct HealthOptions {
    std::string dir;  // migrations folder: files not registered yet count as pending; "" = ledger only
    std::string environment = "default";  // the environment's name (names the backup folder <backup_dir>/<env>)
    std::string backup_dir;               // root of the backups; "" = no last_backup check
    bool backup_required = false;         // no backup at all is a warning (else ok)
    long long backup_max_age_ms = 26LL * 3600 * 1000;  // older newest backup: warning
    long long long_transaction_ms = 5LL * 60 * 1000;   // open transactions older than this: warning
    long long lock_wait_ms = 10LL * 1000;              // sessions waiting for a lock longer than this: warning
    long long replication_lag_ms = 60LL * 1000;        // standby replay lag above this: warning
    long long timeout_ms = 5000;                       // bound of the connection attempt and of every check's query
    bool readiness_only = false;                       // only connection, extension, pending_migrations, drift
};

struct HealthCheck {
    std::string name;  // connection, server_version, extension, pending_migrations, checksums, drift,
                       // audit_chain, audit_recorder, blocking_locks, long_transactions, replication, last_backup
    HealthStatus status = HealthStatus::ok;
    std::string detail;  // one line for a human; never a password, never a query's text
    double duration_ms = 0;
};

struct HealthReport {
    std::string target;  // "host=... port=... dbname=... user=..." (never the password)
    std::string environment;
    std::string checked_at;  // ISO-8601 UTC
    double duration_ms = 0;
    bool reachable = false;  // the connection check passed
    std::vector<HealthCheck> checks;
    HealthStatus status = HealthStatus::ok;  // the worst of the checks
    // Ready for traffic: reachable, no pending migrations, no drift (and the checks of those could run).
    bool ready = false;
    std::vector<std::string> not_ready;  // why not, one reason per entry

    const HealthCheck* find(std::string_view name) const;
};

struct ProjectConfig;
struct Environment;

// Fills environment, backup_dir and backup_required from pgmig.toml: the environment's backup settings, or
// [backup] and "default" when env is null.
void apply_environment(HealthOptions& options, const ProjectConfig& config, const Environment* env);

// Runs the checks in order on one connection; never throws for a database problem (that is a failing
// check), only for a bad migrations folder (Error(input)). Each check's query runs under statement_timeout
// and a client-side deadline of options.timeout_ms (cancelled when it passes), so a hung server cannot hang it.
HealthReport run_health_checks(const std::string& conninfo, const HealthOptions& options);

// {"status", "ready", "not_ready", "target", "environment", "checked_at", "duration_ms", "pgmig_version",
//  "checks": [{"name", "status", "detail", "duration_ms"}]}
nlohmann::json to_json(const HealthReport& report);

// Durations of health's thresholds: a number with ms, s, min, h or d ("500ms", "30s", "5min", "26h", "7d");
// a bare number is milliseconds. nullopt for anything else, zero or negative.
std::optional<long long> parse_health_duration(std::string_view text);

// The server_version check's verdict on server_version_num `num` (its text `version`): ok on a major
// version pgmig is tested on (common/pg_majors.hpp), warn on any other.
std::pair<HealthStatus, std::string> judge_server_version(int num, const std::string& version, bool standby);

// "45s", "3min 20s", "26h 5min", "2d 3h": an age for humans.
std::string format_age(long long ms);

// Seconds since the epoch of "YYYY-MM-DDTHH:MM:SS[.fff]Z" (or +00:00); nullopt otherwise.
std::optional<std::chrono::system_clock::time_point> parse_utc_timestamp(std::string_view text);

}  // namespace pgmig::client
