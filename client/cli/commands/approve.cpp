// pgmig approve / pgmig approvals: four-eyes approvals of migration files for an environment
// (migrate_approve, migrate_approval_check); the check itself lives in client/ops/approvals.cpp.
#include "client/ops/approvals.hpp"
#include "client/core/audit_log.hpp"
#include "client/cli/commands/commands.hpp"
#include "client/core/config.hpp"
#include "client/core/db.hpp"
#include "client/core/errors.hpp"
#include "client/cli/json_output.hpp"
#include "client/ledger/project.hpp"

#include "common/checksum.hpp"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>

namespace pgmig::client {

int run_approve(const GlobalOptions& global, const ApproveOptions& options) {
    const std::string dir = resolve_migrations_dir(options.dir);
    const std::vector<MigrationFile> files = load_files(dir, "nothing was approved");
    std::vector<const MigrationFile*> chosen;
    for (const auto& spec : options.versions) {
        const MigrationFile* file = nullptr;
        if (spec.rfind("R__", 0) == 0) {
            for (const auto& f : files) {
                if (f.repeatable() && "R__" + f.name == spec) file = &f;
            }
        } else {
            file = find_versioned(files, spec);
        }
        if (file == nullptr) {
            throw Error(ErrorKind::input,
                        spec.rfind("R__", 0) == 0 ? fmt::format("no repeatable migration file is named {}", spec)
                                                  : fmt::format("no migration file has version {}", spec),
                        fmt::format("in {}", dir), "check the version (pgmig status --dir); nothing was approved");
        }
        chosen.push_back(file);
    }

    Connection conn = Connection::open(connection_for(global, options.env));
    require_extension(conn);
    const std::string where = fmt::format("approving for {} in {}", options.env, conn.target());
    Transaction tx(conn);
    // What the approver reviewed is the file: its checksum is approved, whether or not it is registered yet
    // (then the approval counts once that exact script is registered). The files are not registered here:
    // whoever registers a script is its author, and an author's approval never counts.
    struct Approved {
        std::string label, name, checksum, by;
        bool registered;
    };
    std::vector<Approved> approved;
    for (const MigrationFile* file : chosen) {
        const std::optional<std::string> version =
            file->repeatable() ? std::nullopt : std::optional<std::string>(file->version);
        const std::string checksum = common::script_checksum(file->up_sql);
        Result res = conn.exec_params(
            "SELECT approved_version, approved_name, approved_checksum, approved_by, "
            "       EXISTS (SELECT 1 FROM pgmig.migrations m "
            "                WHERE m.version_key = pgmig.migration_key($1, $4) AND m.checksum = $3) "
            "  FROM migrate_approve($1, $2, $3, $4)",
            {version, options.env, checksum, file->name});
        if (!res.ok()) {
            throw_server_error(res.error(), fmt::format("approving {} ({}) for {} in {}", file->label(),
                                                        file->path.string(), options.env, conn.target()),
                               "nothing was approved");
        }
        approved.push_back({file->repeatable() ? "R__" + file->name : file->version, file->name, res.get(0, 2),
                            res.get(0, 3), res.get(0, 4) == "t"});
    }
    Result done = tx.commit();
    if (!done.ok()) throw_server_error(done.error(), where, "nothing was approved");
    for (const auto& a : approved) {
        audit_note_version(a.label);
        fmt::print("approved {} \"{}\" for {} (checksum {}) as {}{}\n", a.label, a.name, options.env,
                   a.checksum.substr(0, 12), a.by,
                   a.registered ? "" : " (not registered yet: it counts once this script is registered)");
    }
    return kExitOk;
}

int run_approvals(const GlobalOptions& global, const ApprovalsOptions& options) {
    // The folder is optional, as for pgmig status: with it, the check is of what a deploy of its files would
    // run (files not registered yet included); without, of the ledger's pending migrations.
    const std::string dir = resolve_migrations_dir(options.dir);
    std::error_code ec;
    const bool with_files = !options.dir.empty() || std::filesystem::is_directory(dir, ec);
    std::vector<MigrationFile> files;
    if (with_files) files = load_files(dir, "nothing was checked", true);
    Connection conn = Connection::open(connection_for(global, options.env));
    require_extension(conn);
    const ApprovalCheck check = check_approvals(conn, options.env, options.deployer, with_files ? &files : nullptr);
    if (options.json) {
        print_json_document(check.to_json());
    } else if (check.items.empty()) {
        fmt::print("nothing to deploy to {} in {}: nothing needs approval for {}\n", options.env, conn.target(),
                   options.env);
    } else {
        fmt::print("approvals for {} (new and changed files registered by {}):\n", options.env, check.deployer);
        for (const auto& item : check.items) {
            fmt::print("  {:<16} {:<12} {:<24} {}{}\n", item.spec(), item.checksum.substr(0, 12), item.name,
                       item.status, item.ledger_only ? " (ledger only)" : "");
            fmt::print("  {:<16} {}\n", "", item.detail);
        }
    }
    if (check.ok()) return kExitOk;
    std::fflush(stdout);
    std::fprintf(stderr, "pgmig: %s\n", check.describe().c_str());
    return exit_code(ErrorKind::approval_missing);
}

}  // namespace pgmig::client
