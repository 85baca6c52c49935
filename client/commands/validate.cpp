// pgmig validate: the migration files against the ledger, changing nothing (a read-only transaction).
#include "client/commands/commands.hpp"
#include "client/config.hpp"
#include "client/db.hpp"
#include "client/errors.hpp"
#include "client/migration_files.hpp"
#include "client/project.hpp"

#include "common/checksum.hpp"
#include "common/version.hpp"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <vector>

namespace pgmig::client {

namespace {

struct Finding {
    std::string severity;  // "error" or "warning"
    std::string check;  // parse, changed, cosmetic_edit, missing_file, missing_down, out_of_order, or a verify problem
    std::string version;  // may be empty
    std::string file;     // may be empty
    std::string message;
};

struct LedgerRow {
    std::string version, name, state, kind, checksum, up_sql;
    bool matched = false;
};

class Validator {
  public:
    void error(std::string check, std::string version, std::string file, std::string message) {
        findings_.push_back({"error", std::move(check), std::move(version), std::move(file), std::move(message)});
    }
    void warning(std::string check, std::string version, std::string file, std::string message) {
        findings_.push_back({"warning", std::move(check), std::move(version), std::move(file), std::move(message)});
    }
    const std::vector<Finding>& findings() const { return findings_; }
    bool has_errors() const {
        return std::any_of(findings_.begin(), findings_.end(), [](const Finding& f) { return f.severity == "error"; });
    }

  private:
    std::vector<Finding> findings_;
};

void check_files_alone(Validator& v, const std::vector<MigrationFile>& files) {
    for (const auto& f : files) {
        if (!f.repeatable() && !f.has_down()) {
            v.warning("missing_down", f.version, f.path.string(), "no down script: pgmig rollback cannot undo it");
        }
    }
}

void check_against_ledger(Validator& v, const Connection& conn, const std::vector<MigrationFile>& files) {
    Transaction tx(conn, Transaction::Mode::read_only);
    auto query = [&](const std::string& sql, const std::vector<std::optional<std::string>>& params) {
        Result res = conn.exec_params(sql, params);
        if (!res.ok())
            throw_server_error(res.error(), fmt::format("validating, in {}", conn.target()), "nothing was changed");
        return res;
    };
    Result ledger = query(
        "SELECT s.version, s.name, s.state, s.kind, m.checksum, m.up_sql "
        "  FROM migrate_status() WITH ORDINALITY AS s "
        "  JOIN pgmig.migrations m ON m.version IS NOT DISTINCT FROM s.version AND m.name = s.name "
        " ORDER BY s.ordinality",
        {});
    std::vector<LedgerRow> rows;
    std::string newest_applied;
    for (int i = 0; i < ledger.rows(); ++i) {
        LedgerRow r{ledger.get(i, 0),
                    ledger.get(i, 1),
                    ledger.get(i, 2),
                    ledger.get(i, 3),
                    ledger.get(i, 4),
                    ledger.get(i, 5),
                    false};
        if (r.kind == "versioned" && r.state != "pending" && r.state != "out_of_order") {
            if (newest_applied.empty() || common::compare_versions(r.version, newest_applied) > 0)
                newest_applied = r.version;
        }
        rows.push_back(std::move(r));
    }

    for (const auto& f : files) {
        const std::string file = f.path.string();
        LedgerRow* row = nullptr;
        for (auto& r : rows) {
            const bool same = f.repeatable()
                                  ? r.kind == "repeatable" && r.name == f.name
                                  : r.kind == "versioned" && common::compare_versions(r.version, f.version) == 0;
            if (same) row = &r;
        }
        const bool applied = row && row->state != "pending" && row->state != "out_of_order";
        if (row) row->matched = true;
        if (!f.repeatable() && !applied && !newest_applied.empty() &&
            common::compare_versions(f.version, newest_applied) < 0) {
            v.error("out_of_order", f.version, file,
                    fmt::format("pending, but older than the newest applied version {}: pgmig apply refuses it unless "
                                "pgmig.out_of_order = allow",
                                newest_applied));
        }
        if (!row) continue;
        if (!f.repeatable() && row->name != f.name) {
            v.error("renamed", f.version, file,
                    fmt::format("the ledger has version {} as '{}', the file names it '{}'", row->version, row->name,
                                f.name));
        }
        if (!applied || f.repeatable()) continue;  // pending ones are replaced at the next apply; repeatables re-run
        const std::string checksum = common::script_checksum(f.up_sql);
        if (checksum == row->checksum) continue;
        Result same = query("SELECT pgmig.same_statements($1, $2)", {row->up_sql, f.up_sql});
        if (same.get(0, 0) == "t") {
            v.warning("cosmetic_edit", f.version, file,
                      fmt::format("edited since it was applied, but only cosmetically (same statements): checksum {} "
                                  "in the ledger, {} in the file; the next pgmig apply records it",
                                  row->checksum.substr(0, 12), checksum.substr(0, 12)));
        } else {
            v.error("changed", f.version, file,
                    fmt::format("the up script changed since it was applied (checksum {} in the ledger, {} in the "
                                "file): restore it and add a new migration, or accept it with pgmig repair {}",
                                row->checksum.substr(0, 12), checksum.substr(0, 12), f.version));
        }
    }
    for (const auto& r : rows) {
        const bool applied = r.state != "pending" && r.state != "out_of_order";
        if (!r.matched && applied && r.kind == "versioned") {
            v.error("missing_file", r.version, "",
                    fmt::format("{}_{} is applied but has no file in the folder: restore it", r.version, r.name));
        }
    }
    Result verify = query("SELECT version, name, problem, detail FROM migrate_verify()", {});
    for (int i = 0; i < verify.rows(); ++i) {
        v.error(verify.get(i, 2), verify.get(i, 0), "",
                fmt::format("{} (migrate_verify: {})", verify.get(i, 3), verify.get(i, 2)));
    }
    tx.rollback();
}

}  // namespace

int run_validate(const GlobalOptions& global, const ValidateOptions& options) {
    const std::string dir = resolve_migrations_dir(options.dir);
    Validator v;
    std::vector<MigrationFile> files;
    bool files_ok = true;
    try {
        files = load_migration_dir(dir);
    } catch (const MigrationFileError& e) {
        files_ok = false;
        v.error("parse", "", e.file(), e.reason() + (e.advice().empty() ? "" : "; " + e.advice()));
    }
    if (files_ok) check_files_alone(v, files);
    std::string target = "files only (--offline)";
    if (!options.offline) {
        Connection conn = Connection::open(global.dbname);
        require_extension(conn);
        target = conn.target();
        // With unreadable files, the ledger comparison would report every applied migration as missing.
        if (files_ok) check_against_ledger(v, conn, files);
    }

    const auto& findings = v.findings();
    const auto errors =
        std::count_if(findings.begin(), findings.end(), [](const Finding& f) { return f.severity == "error"; });
    const auto warnings = static_cast<long>(findings.size()) - errors;
    if (options.json) {
        nlohmann::json out;
        out["ok"] = !v.has_errors();
        out["dir"] = dir;
        out["files"] = files.size();
        out["offline"] = options.offline;
        out["findings"] = nlohmann::json::array();
        for (const auto& f : findings) {
            out["findings"].push_back(
                {{"severity", f.severity},
                 {"check", f.check},
                 {"version", f.version.empty() ? nlohmann::json(nullptr) : nlohmann::json(f.version)},
                 {"file", f.file.empty() ? nlohmann::json(nullptr) : nlohmann::json(f.file)},
                 {"message", f.message}});
        }
        fmt::print("{}\n", out.dump(2));
    } else {
        for (const auto& f : findings) {
            const std::string where = !f.file.empty() ? f.file : (f.version.empty() ? dir : "version " + f.version);
            fmt::print("{}: {}: {} [{}]\n", f.severity, where, f.message, f.check);
        }
        fmt::print("{} files in {} checked against {}: {} problems, {} warnings\n", files.size(), dir, target, errors,
                   warnings);
    }
    if (v.has_errors()) {
        std::fflush(stdout);
        std::fprintf(stderr,
                     "pgmig: error: validation found %ld problems, in %s; fix them (see above), nothing was changed\n",
                     static_cast<long>(errors), dir.c_str());
        return exit_code(ErrorKind::validation);
    }
    return kExitOk;
}

}  // namespace pgmig::client
