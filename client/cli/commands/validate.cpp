// pgmig validate: the migration files against the ledger, changing nothing (a read-only transaction).
#include "client/cli/commands/commands.hpp"
#include "client/core/counted.hpp"
#include "client/core/config.hpp"
#include "client/core/db.hpp"
#include "client/core/errors.hpp"
#include "client/ledger/impact.hpp"
#include "client/cli/json_output.hpp"
#include "client/ledger/integrity.hpp"
#include "client/ledger/migration_files.hpp"
#include "client/ledger/project.hpp"
#include "client/cli/report_formats.hpp"

#include "common/checksum.hpp"
#include "common/version.hpp"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <vector>

namespace pgmig::client {

namespace {

struct Finding {
    std::string severity;  // "error" or "warning" ("note" for lint advice)
    std::string check;  // parse, changed, cosmetic_edit, missing_file, missing_down, out_of_order, or a verify problem
    std::string version;  // may be empty
    std::string file;     // may be empty
    std::string message;
    std::string source = "files";  // files, ledger, lint, integrity
    int line = 0;                  // 0: unknown
    int col = 0;
};

struct LedgerRow {
    std::string version, name, state, kind, checksum;
    bool matched = false;
};

class Validator {
  public:
    // Findings of the files and the ledger; lint and integrity ones are add()ed with their source.
    void error(std::string check, std::string version, std::string file, std::string message) {
        add({"error", std::move(check), std::move(version), std::move(file), std::move(message), source_});
    }
    void warning(std::string check, std::string version, std::string file, std::string message) {
        add({"warning", std::move(check), std::move(version), std::move(file), std::move(message), source_});
    }
    void add(Finding f) { findings_.push_back(std::move(f)); }
    void set_source(std::string source) { source_ = std::move(source); }
    const std::vector<Finding>& findings() const { return findings_; }
    long count(const std::vector<std::string>& sources, const std::string& severity) const {
        return static_cast<long>(std::count_if(findings_.begin(), findings_.end(), [&](const Finding& f) {
            return f.severity == severity && std::find(sources.begin(), sources.end(), f.source) != sources.end();
        }));
    }

  private:
    std::vector<Finding> findings_;
    std::string source_ = "files";
};

void check_files_alone(Validator& v, const std::vector<MigrationFile>& files) {
    for (const auto& f : files) {
        if (!f.repeatable() && !f.has_down() && has_statements(f.up_sql)) {  // a no-op needs no undo
            v.warning("missing_down", f.version, f.path.string(), "no down script: pgmig rollback cannot undo it");
        }
    }
}

// Compares the files with the ledger; returns the files that the next apply would run (versioned ones not
// applied yet, repeatable ones new or changed): those are linted.
std::vector<const MigrationFile*> check_against_ledger(Validator& v, const Connection& conn,
                                                       const std::vector<MigrationFile>& files) {
    v.set_source("ledger");
    std::vector<const MigrationFile*> pending;
    Transaction tx(conn, Transaction::Mode::read_only);
    auto query = [&](const std::string& sql, const std::vector<std::optional<std::string>>& params) {
        Result res = conn.exec_params(sql, params);
        if (!res.ok())
            throw_server_error(res.error(), fmt::format("validating, in {}", conn.target()), "nothing was changed");
        return res;
    };
    Result ledger = query(
        "SELECT s.version, s.name, s.state, s.kind, m.checksum "
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
        if (f.repeatable() ? !row || row->checksum != common::script_checksum(f.up_sql) : !applied)
            pending.push_back(&f);
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
        // Compared in the database: a pgmig_reader may not read the registered script (it may hold secrets).
        Result same = query("SELECT pgmig.same_statements_as_registered($1, $2)", {row->version, f.up_sql});
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
    return pending;
}

// What happened to an optional part of the validation, for the summary and the JSON/SARIF output.
struct PartStatus {
    std::string status = "skipped (--offline)";  // "checked", "not available: ...", "skipped (--offline)"
    int checked = 0;                              // migrations linted
};

// Lints each pending migration with migrate_lint() when this database has it (the lint is a separate part
// of pgmig that may be missing from the installed extension), in a transaction rolled back afterwards.
PartStatus lint_pending(Validator& v, const Connection& conn, const std::vector<const MigrationFile*>& pending) {
    PartStatus part;
    Result has = conn.exec("SELECT to_regprocedure('migrate_lint(text,jsonb)') IS NOT NULL");
    if (!has.ok() || has.get(0, 0) != "t") {
        part.status = "not available: this database's pgmig has no migrate_lint(text, jsonb)";
        return part;
    }
    part.status = "checked";
    Transaction tx(conn);
    for (const MigrationFile* f : pending) {
        const nlohmann::json options = lint_options(*f);
        conn.exec("SAVEPOINT pgmig_lint");
        Result res = conn.exec_params(
            "SELECT rule, severity, line, col, message, object FROM migrate_lint($1, $2::jsonb) WHERE NOT waived "
            "ORDER BY line NULLS FIRST, col NULLS FIRST",
            {f->up_sql, options.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)});
        const std::string file = f->path.string();
        if (!res.ok()) {
            const ServerError e = res.error();
            conn.exec("ROLLBACK TO SAVEPOINT pgmig_lint");
            v.add({"error", "lint-failed", f->version, file,
                   fmt::format("migrate_lint failed on this file: {}{}; lint it alone with SELECT * FROM "
                               "migrate_lint(...) to see why",
                               one_line(e.message), e.sqlstate.empty() ? "" : " (SQLSTATE " + e.sqlstate + ")"),
                   "lint"});
            continue;
        }
        ++part.checked;
        for (int i = 0; i < res.rows(); ++i) {
            const std::string severity = res.get(i, 1);
            Finding finding{severity == "advice" ? "note" : severity, res.get(i, 0), f->version, file,
                            res.get(i, 4), "lint"};
            if (!res.is_null(i, 5)) finding.message += " (" + res.get(i, 5) + ")";
            // migrate_lint counts lines in the up script it was given; the file has lines before it.
            if (!res.is_null(i, 2)) finding.line = f->up_first_line + std::stoi(res.get(i, 2)) - 1;
            if (!res.is_null(i, 3)) finding.col = std::stoi(res.get(i, 3));
            v.add(std::move(finding));
        }
    }
    tx.rollback();
    return part;
}

PartStatus check_integrity(Validator& v, const Connection& conn) {
    Transaction tx(conn, Transaction::Mode::read_only);
    for (const auto& f : read_integrity(conn, fmt::format("checking integrity, in {}", conn.target()))) {
        Finding finding{f.severity, f.problem, "", "", f.object + ": " + one_line(f.detail), "integrity"};
        v.add(std::move(finding));
    }
    tx.rollback();
    PartStatus part;
    part.status = "checked";
    return part;
}

// The path as CI tools want it: relative to the working folder when the file is below it.
std::string ci_path(const std::string& path) {
    const std::filesystem::path p(path);
    if (!p.is_absolute()) return p.lexically_normal().generic_string();
    std::error_code ec;
    const auto cwd = std::filesystem::current_path(ec);
    if (ec) return path;
    const auto rel = p.lexically_normal().lexically_relative(cwd);
    if (rel.empty() || *rel.begin() == "..") return path;
    return rel.generic_string();
}

std::vector<ReportItem> report_items(const std::vector<Finding>& findings) {
    std::vector<ReportItem> items;
    for (const auto& f : findings) {
        ReportItem item{f.severity, f.check, f.message, f.file.empty() ? "" : ci_path(f.file), f.line, f.col};
        if (f.source == "lint" || f.source == "integrity") item.rule = f.source + "/" + f.check;
        if (f.file.empty() && !f.version.empty()) item.message = "version " + f.version + ": " + item.message;
        items.push_back(std::move(item));
    }
    return items;
}

// Descriptions of the rules pgmig itself defines (lint rules are described by the lint).
const std::vector<ReportRule>& known_rules() {
    static const std::vector<ReportRule> rules{
        {"parse", "A migration file that pgmig cannot read", "error"},
        {"bad_bytes", "A migration file with a NUL byte or invalid UTF-8", "error"},
        {"changed", "An applied migration whose up script changed", "error"},
        {"cosmetic_edit", "An applied migration edited only cosmetically", "warning"},
        {"missing_file", "An applied migration without its file", "error"},
        {"missing_down", "A migration without a down script", "warning"},
        {"out_of_order", "A pending migration older than the newest applied one", "error"},
        {"renamed", "A version the ledger knows under another name", "error"},
        {"ledger_only", "A pending migration registered in the ledger that no file holds", "error"},
        {"lint/lint-failed", "migrate_lint could not lint a migration", "error"},
        {"integrity/not-valid-constraint", "A NOT VALID constraint, and whether it would validate now", "error"},
        {"integrity/fk-orphans", "Rows whose foreign key references nothing", "error"},
        {"integrity/invalid-index", "An invalid index left by a failed concurrent build", "error"},
        {"integrity/sequence-behind", "A sequence behind the maximum of its column", "error"},
        {"integrity/table-without-primary-key", "A table without a primary key", "warning"},
        {"integrity/not-checked", "An integrity check the role could not make", "warning"},
    };
    return rules;
}

}  // namespace

int run_validate(const GlobalOptions& global, const ValidateOptions& options) {
    std::string format = options.format;
    if (options.json) {
        if (format != "text" && format != "json") {
            throw Error(ErrorKind::usage, fmt::format("--json and --format={} contradict each other", format),
                        "on the command line", "give one of them");
        }
        format = "json";
    }
    const std::string dir = resolve_migrations_dir(options.dir);
    Validator v;
    std::vector<MigrationFile> files;
    bool files_ok = true;
    bool bad_bytes = false;  // a NUL byte or invalid UTF-8: reported, and nothing connects
    try {
        files = load_migration_dir(dir, resolve_folder_format(dir));
    } catch (const MigrationFileError& e) {
        files_ok = false;
        bad_bytes = e.problem() == FileProblem::bad_bytes;
        Finding finding{"error", bad_bytes ? "bad_bytes" : "parse", "", e.file(),
                        e.reason() + (e.advice().empty() ? "" : "; " + e.advice())};
        finding.line = e.line();
        v.add(std::move(finding));
    }
    if (files_ok) check_files_alone(v, files);
    std::string target = "files only (--offline)";
    std::vector<MigrationFile> ledger_only;  // stand-ins for the ledger-only migrations, for the lint
    PartStatus lint;
    PartStatus integrity;
    PendingImpact impact{"skipped (--offline)"};
    if (bad_bytes) {
        target = "nothing (a file holds bytes pgmig refuses)";
        lint.status = integrity.status = "skipped (a file holds a NUL byte or invalid UTF-8)";
    } else if (!options.offline) {
        Connection conn = Connection::open(global.dbname);
        require_extension(conn);
        target = conn.target();
        // With unreadable files, the ledger comparison would report every applied migration as missing.
        if (files_ok) {
            auto pending = check_against_ledger(v, conn, files);
            // Pending migrations that someone registered and no file holds: pgmig apply refuses them, so they
            // are errors (warnings when --allow-ledger-only names them), and their registered scripts are
            // linted like the files'.
            for (const LedgerOnly& m : ledger_only_migrations(conn, files, true)) {
                const bool allowed = ledger_only_allowed(m, options.allow_ledger_only);
                const std::string message = fmt::format(
                    "{}, but no file holds it: pgmig apply and deploy refuse it (exit 37); review the registered "
                    "script (SELECT up_sql FROM pgmig.migrations), then add its file{}",
                    m.describe(),
                    allowed ? " (--allow-ledger-only names it: it would be applied as registered)"
                            : fmt::format(" or pass --allow-ledger-only {}", m.version.value_or("R__" + m.name)));
                v.add({allowed ? "warning" : "error", "ledger_only", m.version.value_or(""), "", message, "ledger"});
                MigrationFile f;
                f.path = "ledger:" + m.label();
                f.file_name = f.path.string();
                f.kind = m.version ? MigrationKind::versioned : MigrationKind::repeatable;
                f.version = m.version.value_or("");
                f.name = m.name;
                f.up_sql = m.up_sql;
                if (m.options.is_object()) f.options = m.options;
                ledger_only.push_back(std::move(f));
            }
            for (const auto& f : ledger_only) pending.push_back(&f);
            lint = lint_pending(v, conn, pending);
        } else {
            lint.status = "skipped (the files do not parse)";
        }
        integrity = check_integrity(v, conn);
        // ==== impact ====
        // What each pending migration touches, its dependents and related bugs (pgmig impact), from one dry
        // run; only when the files and the ledger agree (otherwise registering them for the rehearsal fails).
        if (options.no_impact) {
            impact.status = "skipped (--no-impact)";
        } else if (files_ok && v.count({"files", "ledger"}, "error") == 0) {
            impact = pending_impact(conn, files, dir);
        } else {
            impact.status = "skipped (the files or the ledger have problems)";
        }
    }

    const std::vector<std::string> files_ledger{"files", "ledger"};
    const long errors = v.count(files_ledger, "error");
    const long warnings = v.count(files_ledger, "warning");
    const long lint_errors = v.count({"lint"}, "error");
    // Lint findings that fail validate: errors (the default), errors and warnings, or none (lint reported only).
    const long lint_blocking = options.lint_threshold == "off" ? 0
                               : options.lint_threshold == "warning" ? lint_errors + v.count({"lint"}, "warning")
                                                                     : lint_errors;
    const long integrity_errors = v.count({"integrity"}, "error");
    const auto n_files = static_cast<long long>(files.size());
    // Precedence (docs/errors.md): the files and ledger first (nothing else is trustworthy without them),
    // then the lint of the pending migrations (the change under review), then the data.
    int code = kExitOk;
    if (bad_bytes) {
        code = exit_code(ErrorKind::bad_bytes);
    } else if (errors > 0) {
        code = exit_code(ErrorKind::validation);
    } else if (lint_blocking > 0) {
        code = exit_code(ErrorKind::lint_failed);
    } else if (integrity_errors > 0) {
        code = exit_code(ErrorKind::integrity);
    }

    const auto& findings = v.findings();
    if (format == "json") {
        nlohmann::json out;
        out["ok"] = code == kExitOk;
        out["exit_code"] = code;
        out["dir"] = dir;
        out["files"] = files.size();
        out["offline"] = options.offline;
        out["lint"] = {{"status", lint.status}, {"migrations", lint.checked}};
        out["integrity"] = {{"status", integrity.status}};
        out["impact"] = {{"status", impact.status}, {"migrations", impact.migrations}};
        out["findings"] = nlohmann::json::array();
        for (const auto& f : findings) {
            out["findings"].push_back(
                {{"severity", f.severity},
                 {"source", f.source},
                 {"check", f.check},
                 {"version", f.version.empty() ? nlohmann::json(nullptr) : nlohmann::json(f.version)},
                 {"file", f.file.empty() ? nlohmann::json(nullptr) : nlohmann::json(f.file)},
                 {"line", f.line > 0 ? nlohmann::json(f.line) : nlohmann::json(nullptr)},
                 {"col", f.col > 0 ? nlohmann::json(f.col) : nlohmann::json(nullptr)},
                 {"message", f.message}});
        }
        print_json_document(out);
    } else if (format == "sarif") {
        // Findings of the database are anchored to the newest migration file (the state the migrations
        // lead to), else to the folder: code scanning refuses results without a location.
        std::string anchor = ci_path(dir);
        for (const auto& f : files) {
            if (!f.repeatable()) anchor = ci_path(f.path.string());  // versioned ones come in version order
        }
        nlohmann::json out = format_sarif(report_items(findings), known_rules(), PGMIG_VERSION, anchor);
        out["runs"][0]["properties"] = {{"lint", lint.status}, {"integrity", integrity.status}, {"exitCode", code}};
        print_json_document(out);
    } else if (format == "github") {
        fmt::print("{}", format_github(report_items(findings)));
        fmt::print("pgmig validate: {} in {}: {}, {}; lint: {} ({}); integrity: {} ({})\n", counted(n_files, "file"),
                   dir, counted(errors, "problem"), counted(warnings, "warning"), lint.status,
                   counted(lint_errors, "problem"), integrity.status, counted(integrity_errors, "problem"));
    } else {
        for (const auto& f : findings) {
            std::string where = !f.file.empty() ? f.file : (f.version.empty() ? dir : "version " + f.version);
            if (!f.file.empty() && f.line > 0) where += fmt::format(":{}", f.line);
            if (!f.file.empty() && f.line > 0 && f.col > 0) where += fmt::format(":{}", f.col);
            if (f.source == "integrity") where = f.check;
            const std::string tag = f.source == "lint" || f.source == "integrity" ? f.source + " " + f.check : f.check;
            fmt::print("{}: {}: {} [{}]\n", f.severity, where, f.message, tag);
        }
        if (lint.status == "checked") {
            fmt::print("lint: {} checked: {}, {}\n", counted(lint.checked, "pending migration"),
                       counted(lint_errors, "problem"), counted(v.count({"lint"}, "warning"), "warning"));
        } else {
            fmt::print("lint: {}\n", lint.status);
        }
        if (integrity.status == "checked") {
            fmt::print("integrity: {}, {}\n", counted(integrity_errors, "problem"),
                       counted(v.count({"integrity"}, "warning"), "warning"));
        } else {
            fmt::print("integrity: {}\n", integrity.status);
        }
        if (impact.status == "checked" && !impact.migrations.empty()) {
            fmt::print("impact of the {} (pgmig impact VERSION for details):\n",
                       counted(impact.migrations.size(), "pending migration"));
            for (const auto& m : impact.migrations) {
                fmt::print("  {}:\n{}",
                           m["version"].is_null()
                               ? "R__" + m.value("name", std::string())
                               : m["version"].get<std::string>() + "_" + m.value("name", std::string()),
                           impact_summary(m, "    "));
            }
        } else if (impact.status != "checked") {
            fmt::print("impact: {}\n", impact.status);
        }
        fmt::print("{} in {} checked against {}: {}, {}\n", counted(n_files, "file"), dir, target,
                   counted(errors, "problem"), counted(warnings, "warning"));
    }
    if (code != kExitOk) {
        std::vector<std::string> parts;
        if (errors > 0) parts.push_back(counted(errors, "problem") + " in the files or the ledger");
        if (lint_errors > 0) parts.push_back(counted(lint_errors, "lint error") + " in pending migrations");
        if (integrity_errors > 0) parts.push_back(counted(integrity_errors, "integrity problem") + " in the data");
        std::string what;
        for (const auto& p : parts) what += (what.empty() ? "" : ", ") + p;
        std::fflush(stdout);
        std::fprintf(stderr, "pgmig: error: validation found %s, in %s; fix them (see above), nothing was changed\n",
                     what.c_str(), dir.c_str());
    }
    return code;
}

}  // namespace pgmig::client
