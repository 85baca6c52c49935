// pgmig approve / pgmig approvals: four-eyes approvals of pending migrations for an environment
// (migrate_approve, migrate_approval_check); the check itself lives in client/approvals.cpp.
#include "client/approvals.hpp"
#include "client/audit_log.hpp"
#include "client/commands/commands.hpp"
#include "client/config.hpp"
#include "client/db.hpp"
#include "client/errors.hpp"
#include "client/project.hpp"

#include "common/checksum.hpp"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <cstdio>

namespace pgmig::client {

std::string connection_for(const GlobalOptions& global, const std::string& env) {
    if (!env.empty()) audit_note_environment(env);
    if (!global.dbname.empty() || env.empty()) return global.dbname;
    return environment_conninfo(find_environment(load_project_config(), env));
}

int run_approve(const GlobalOptions& global, const ApproveOptions& options) {
    const std::string dir = resolve_migrations_dir(options.dir);
    const std::vector<MigrationFile> files = load_files(dir, "nothing was approved");
    std::vector<const MigrationFile*> chosen;
    for (const auto& version : options.versions) {
        const MigrationFile* file = find_versioned(files, version);
        if (file == nullptr) {
            throw Error(ErrorKind::input, fmt::format("no migration file has version {}", version),
                        fmt::format("in {}", dir), "check the version (pgmig status --dir); nothing was approved");
        }
        chosen.push_back(file);
    }

    Connection conn = Connection::open(connection_for(global, options.env));
    require_extension(conn);
    const std::string where = fmt::format("approving for {} in {}", options.env, conn.target());
    Transaction tx(conn);
    // The approver approves the files they reviewed: register them first when the role may (a role with
    // only pgmig_approver cannot; then the registered script must already be the file's, or PM026 says so).
    Result may = conn.exec(
        "SELECT has_function_privilege('migrate_register(text, text, text, text, jsonb)', 'EXECUTE')");
    if (!may.ok()) throw_server_error(may.error(), where, "nothing was approved");
    if (may.get(0, 0) == "t") register_files(conn, files);

    struct Approved {
        std::string version, name, checksum, by;
    };
    std::vector<Approved> approved;
    for (const MigrationFile* file : chosen) {
        Result res = conn.exec_params(
            "SELECT approved_version, approved_name, approved_checksum, approved_by FROM migrate_approve($1, $2, $3)",
            {file->version, options.env, common::script_checksum(file->up_sql)});
        if (!res.ok()) {
            throw_server_error(res.error(), fmt::format("approving {} ({}) for {} in {}", file->label(),
                                                        file->path.string(), options.env, conn.target()),
                               "nothing was approved");
        }
        approved.push_back({res.get(0, 0), res.get(0, 1), res.get(0, 2), res.get(0, 3)});
    }
    Result done = tx.commit();
    if (!done.ok()) throw_server_error(done.error(), where, "nothing was approved");
    for (const auto& a : approved) {
        audit_note_version(a.version);
        fmt::print("approved {} \"{}\" for {} (checksum {}) as {}\n", a.version, a.name, options.env,
                   a.checksum.substr(0, 12), a.by);
    }
    return kExitOk;
}

int run_approvals(const GlobalOptions& global, const ApprovalsOptions& options) {
    Connection conn = Connection::open(connection_for(global, options.env));
    require_extension(conn);
    const ApprovalCheck check = check_approvals(conn, options.env, options.deployer);
    if (options.json) {
        fmt::print("{}\n", check.to_json().dump(2, ' ', false, nlohmann::json::error_handler_t::replace));
    } else if (check.items.empty()) {
        fmt::print("no pending migrations in {}: nothing needs approval for {}\n", conn.target(), options.env);
    } else {
        fmt::print("approvals for {} (deployer {}):\n", options.env, check.deployer);
        for (const auto& item : check.items) {
            fmt::print("  {:<16} {:<12} {:<24} {}\n", item.version, item.checksum.substr(0, 12), item.name,
                       item.status);
            fmt::print("  {:<16} {}\n", "", item.detail);
        }
    }
    if (check.ok()) return kExitOk;
    std::fflush(stdout);
    std::fprintf(stderr, "pgmig: %s\n", check.describe().c_str());
    return exit_code(ErrorKind::approval_missing);
}

}  // namespace pgmig::client
