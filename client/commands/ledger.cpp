// pgmig rollback, baseline and repair: the ledger operations that run no up script of the files.
#include "client/alerts.hpp"
#include "client/audit_log.hpp"
#include "client/commands/commands.hpp"
#include "client/config.hpp"
#include "client/db.hpp"
#include "client/errors.hpp"
#include "client/project.hpp"

#include "common/version.hpp"

#include <fmt/core.h>

#include <chrono>

namespace pgmig::client {

namespace {

void check_version(const std::string& version, const char* where) {
    if (auto problem = common::version_problem(version)) {
        throw Error(ErrorKind::usage, fmt::format("bad version '{}': {}", version, *problem), where,
                    "give a version such as 3 or 1.2");
    }
}

Connection connect(const GlobalOptions& global) {
    Connection conn = Connection::open(global.dbname);
    require_extension(conn);
    return conn;
}

std::string label(const Result& res, int row) {
    return res.is_null(row, 0) ? "R__" + res.get(row, 1) : res.get(row, 0) + "_" + res.get(row, 1);
}

}  // namespace

namespace {

// With --env: the environment's alert targets hear of every rollback, done or failed.
void alert_rollback(const std::string& env_name, const std::string& conninfo, const std::vector<std::string>& versions,
                    std::chrono::steady_clock::time_point started, const std::string& error) {
    if (env_name.empty()) return;
    const ProjectConfig config = load_project_config();
    const Environment& env = find_environment(config, env_name);
    if (env.alerts.empty()) return;
    AlertEvent event;
    event.event = "rollback";
    event.environment = env.name;
    event.database = alert_database_from_conninfo(conninfo);
    event.versions = versions;
    event.duration_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    event.error = error;
    send_alerts(config, env, event);  // a failed delivery is warned about, never fails the rollback
}

std::vector<std::string> rollback(const GlobalOptions& global, const RollbackOptions& options);

}  // namespace

int run_rollback(const GlobalOptions& global, const RollbackOptions& options) {
    if (!options.to.empty()) check_version(options.to, "in --to");
    if (options.to.empty() && options.steps < 1) {
        throw Error(ErrorKind::usage, fmt::format("bad --steps {}", options.steps), "on the command line",
                    "give 1 or more");
    }
    GlobalOptions target = global;
    target.dbname = connection_for(global, options.env);
    const auto started = std::chrono::steady_clock::now();
    std::vector<std::string> versions;
    try {
        versions = rollback(target, options);
    } catch (const Error& e) {
        alert_rollback(options.env, target.dbname, versions, started, e.what_failed());
        throw;
    }
    alert_rollback(options.env, target.dbname, versions, started, "");
    return kExitOk;
}

namespace {

std::vector<std::string> rollback(const GlobalOptions& global, const RollbackOptions& options) {
    Connection conn = connect(global);
    Transaction tx(conn);
    const std::string columns = "version, name, action, round(extract(epoch FROM duration) * 1000)::bigint";
    Result res =
        options.to.empty()
            ? conn.exec_params("SELECT " + columns + " FROM migrate_rollback($1::int)", {std::to_string(options.steps)})
            : conn.exec_params("SELECT " + columns + " FROM migrate_rollback_to($1)", {options.to});
    if (!res.ok()) {
        const ServerError e = res.error();
        tx.rollback();
        if (e.sqlstate == "PM010") {
            // The down script of a non-transactional migration cannot run in migrate_rollback()'s transaction,
            // and the client does not run it statement by statement yet.
            throw Error(ErrorKind::rollback_refused, fmt::format("{} (SQLSTATE {})", e.message, e.sqlstate),
                        fmt::format("in {}", conn.target()),
                        "nothing was rolled back; pgmig cannot roll back non-transactional migrations yet: run its "
                        "down script by hand, or roll back fewer steps",
                        e.hint);
        }
        throw_server_error(e, fmt::format("rolling back, in {}", conn.target()), "nothing was rolled back");
    }
    Result commit = tx.commit();
    if (!commit.ok()) throw_server_error(commit.error(), "committing the rollback", "nothing was rolled back");
    std::vector<std::string> versions;
    for (int i = 0; i < res.rows(); ++i) {
        fmt::print("rolled back {} ({} ms)\n", label(res, i), res.is_null(i, 3) ? "?" : res.get(i, 3));
        versions.push_back(res.get(i, 0));
        audit_note_version(res.get(i, 0));
    }
    fmt::print("{} rolled back\n", res.rows());
    return versions;
}

}  // namespace

int run_baseline(const GlobalOptions& global, const BaselineOptions& options) {
    check_version(options.version, "in VERSION");
    const std::string dir = resolve_migrations_dir(options.dir);
    const std::vector<MigrationFile> files = load_files(dir, "nothing was changed");
    Connection conn = connect(global);
    Transaction tx(conn);
    register_files(conn, files);
    Result res = conn.exec_params("SELECT version, name, action FROM migrate_baseline($1)", {options.version});
    if (!res.ok()) throw_server_error(res.error(), fmt::format("baseline {}", options.version), "nothing was changed");
    Result commit = tx.commit();
    if (!commit.ok()) throw_server_error(commit.error(), "committing the baseline", "nothing was changed");
    for (int i = 0; i < res.rows(); ++i) fmt::print("baselined {} (marked applied, not run)\n", label(res, i));
    fmt::print("{} baselined, database at version {}\n", res.rows(), options.version);
    return kExitOk;
}

int run_repair(const GlobalOptions& global, const RepairOptions& options) {
    check_version(options.version, "in VERSION");
    const std::string dir = resolve_migrations_dir(options.dir);
    const std::vector<MigrationFile> files = load_files(dir, "nothing was changed");
    const MigrationFile* file = find_versioned(files, options.version);
    if (file == nullptr) {
        throw Error(ErrorKind::input, fmt::format("no file for version {}", options.version), "in " + dir,
                    "repair takes the up script from the migration's file; nothing was changed");
    }
    Connection conn = connect(global);
    Transaction tx(conn);
    Result old = conn.exec_params(
        "SELECT s.version, s.checksum FROM migrate_status() s WHERE s.kind = 'versioned' AND s.version IS NOT NULL",
        {});
    std::string old_checksum = "(not registered)";
    std::string ledger_version = options.version;
    if (old.ok()) {
        for (int i = 0; i < old.rows(); ++i) {
            if (common::compare_versions(old.get(i, 0), options.version) == 0) {
                ledger_version = old.get(i, 0);
                old_checksum = old.get(i, 1);
            }
        }
    }
    std::optional<std::string> reason;
    if (!options.reason.empty()) reason = options.reason;
    Result res = conn.exec_params("SELECT migrate_repair($1, $2, $3)", {ledger_version, file->up_sql, reason});
    if (!res.ok()) {
        throw_server_error(res.error(), fmt::format("repairing {} from {}", file->label(), file->path.string()),
                           "nothing was changed");
    }
    Result commit = tx.commit();
    if (!commit.ok()) throw_server_error(commit.error(), "committing the repair", "nothing was changed");
    fmt::print("repaired {} from {}\n", file->label(), file->path.string());
    fmt::print("  old checksum {}\n  new checksum {}\n", old_checksum, res.get(0, 0));
    return kExitOk;
}

}  // namespace pgmig::client
