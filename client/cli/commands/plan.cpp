// pgmig plan: the dry run. Registers the files and runs migrate_plan() in one transaction that is
// always rolled back, then prints what each pending migration would do. Nothing persists.
#include "client/cli/commands/commands.hpp"
#include "client/core/config.hpp"
#include "client/core/db.hpp"
#include "client/core/errors.hpp"
#include "client/ledger/file_lines.hpp"
#include "client/ledger/impact.hpp"
#include "client/cli/json_output.hpp"
#include "client/ledger/ledger_lock.hpp"
#include "client/ledger/project.hpp"

#include "common/version.hpp"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace pgmig::client {

namespace {

using nlohmann::json;

// "public.t (AccessExclusiveLock), ..." from a jsonb array of {relation, mode}.
std::string locks_text(const json& locks) {
    std::string out;
    for (const auto& l : locks) {
        out += fmt::format("{}{} on {}", out.empty() ? "" : ", ", l.value("mode", "?"), l.value("relation", "?"));
    }
    return out.empty() ? "none on existing relations" : out;
}

std::string rewritten_text(const json& rewritten) {
    std::string out;
    for (const auto& r : rewritten) out += (out.empty() ? "" : ", ") + r.value("table", std::string("?"));
    return out.empty() ? "none" : out;
}

std::string diff_text(const json& diff) {
    std::string out;
    auto add = [&out](const json& objects, const char* sign) {
        for (const auto& o : objects) {
            out += fmt::format("{}{} {} {}", out.empty() ? "" : "; ", sign, o.value("type", "?"), o.value("identity", "?"));
            if (o.contains("keys")) {
                std::string keys;
                for (const auto& k : o["keys"]) keys += (keys.empty() ? "" : ", ") + k.get<std::string>();
                out += " (" + keys + ")";
            }
        }
    };
    add(diff.value("added", json::array()), "+");
    add(diff.value("removed", json::array()), "-");
    add(diff.value("changed", json::array()), "~");
    return out.empty() ? "no change" : out;
}

std::string lint_text(const json& lint) {
    if (lint.is_null()) return "not available (migrate_lint is not installed in this database)";
    std::string out;
    int waived = 0;
    for (const auto& f : lint) {
        if (f.value("waived", false)) {
            ++waived;
            continue;
        }
        out += fmt::format("\n    {} {} line {}: {}", f.value("severity", "?"), f.value("rule", "?"),
                           f.contains("line") && f["line"].is_number() ? f["line"].get<int>() : 0,
                           f.value("message", ""));
    }
    if (out.empty()) out = "no findings";
    if (waived > 0) out += fmt::format("{}({} waived)", out.front() == '\n' ? "\n    " : " ", waived);
    return out;
}

// migrate_plan counts lines in the up script; the user reads the file: lint findings' lines and the reason's
// become the file's (each finding gets its "file").
void plan_in_file_lines(json& m, const std::vector<MigrationFile>& files) {
    const MigrationFile* f = nullptr;
    for (const MigrationFile& file : files) {
        const bool same =
            m["version"].is_null()
                ? file.repeatable() && file.name == m["name"].get<std::string>()
                : !file.repeatable() && common::compare_versions(file.version, m["version"].get<std::string>()) == 0;
        if (same) f = &file;
    }
    if (f == nullptr) return;
    if (m["reason"].is_string()) m["reason"] = in_file_lines(m["reason"].get<std::string>(), *f);
    if (!m["lint"].is_array()) return;
    for (auto& finding : m["lint"]) {
        if (finding.contains("line") && finding["line"].is_number_integer()) {
            finding["line"] = file_line(*f, false, finding["line"].get<int>());
            finding["file"] = f->path.string();
        }
    }
}

}  // namespace

// The dry run of the pending migrations of `files` up to `target`: registered and rehearsed by migrate_plan() in
// one transaction that is always rolled back. One JSON object per migration (as pgmig plan --json prints).
nlohmann::json rehearse_pending(const Connection& conn, const std::vector<MigrationFile>& files,
                                const std::optional<std::string>& target, const std::string& dir) {
    json migrations = json::array();
    {
        LedgerLock ledger_lock(conn, "nothing was run");  // waited for without a snapshot (ledger_lock.hpp)
        Transaction tx(conn);  // never committed: not even the registration persists
        register_files(conn, files);
        Result res = conn.exec_params(
            "SELECT version, name, rehearsable, outcome, reason, statements, "
            "       round(extract(epoch FROM duration) * 1000, 1)::float8 AS ms, locks::text, rewritten::text, "
            "       rows_touched, catalog_diff::text, lint::text "
            "  FROM migrate_plan($1)",
            {target});
        if (!res.ok()) {
            throw_server_error(in_file_lines(res.error(), files), fmt::format("rehearsing the migrations of {}", dir),
                               "nothing was persisted (dry run, rolled back)");
        }
        auto parsed = [&res](int row, int col) {
            return res.is_null(row, col) ? json(nullptr) : json::parse(res.get(row, col));
        };
        for (int i = 0; i < res.rows(); ++i) {
            migrations.push_back({
                {"version", res.is_null(i, 0) ? json(nullptr) : json(res.get(i, 0))},
                {"name", res.get(i, 1)},
                {"rehearsable", res.get(i, 2) == "t"},
                {"outcome", res.get(i, 3)},
                {"reason", res.is_null(i, 4) ? json(nullptr) : json(res.get(i, 4))},
                {"statements", std::stoi(res.get(i, 5))},
                {"duration_ms", res.is_null(i, 6) ? json(nullptr) : json(std::stod(res.get(i, 6)))},
                {"locks", parsed(i, 7)},
                {"rewritten", parsed(i, 8)},
                {"rows_touched", res.is_null(i, 9) ? json(nullptr) : json(std::stoll(res.get(i, 9)))},
                {"catalog_diff", parsed(i, 10)},
                {"lint", parsed(i, 11)},
            });
            plan_in_file_lines(migrations.back(), files);
        }
        tx.rollback();
    }

    return migrations;
}

int run_plan(const GlobalOptions& global, const PlanOptions& options) {
    if (!options.to.empty()) {
        if (auto problem = common::version_problem(options.to)) {
            throw Error(ErrorKind::input, fmt::format("bad target version '{}': {}", options.to, *problem), "in --to",
                        "give a version such as 3 or 1.2");
        }
    }
    const std::string dir = resolve_migrations_dir(options.dir);
    const std::vector<MigrationFile> files = load_files(dir, "nothing was run");
    Connection conn = Connection::open(global.dbname);
    require_extension(conn);
    std::optional<std::string> target;
    if (!options.to.empty()) target = options.to;
    const json migrations = rehearse_pending(conn, files, target, dir);

    bool blocked = false;
    for (const auto& m : migrations) {
        const std::string outcome = m["outcome"];
        if (outcome == "failed" || outcome == "would_wait") blocked = true;
    }
    if (options.json) {
        print_json_document(json{{"persisted", false}, {"migrations", migrations}});
    } else {
        for (const auto& m : migrations) {
            const std::string label = m["version"].is_null()
                                          ? "R__" + m["name"].get<std::string>()
                                          : m["version"].get<std::string>() + "_" + m["name"].get<std::string>();
            const std::string outcome = m["outcome"];
            const int statements = m["statements"];
            if (outcome == "ok") {
                fmt::print("{}: ok, {} statement{}, {:.1f} ms\n", label, statements, statements == 1 ? "" : "s",
                           m["duration_ms"].get<double>());
                fmt::print("  locks:     {}\n", locks_text(m["locks"]));
                fmt::print("  rewrites:  {}\n", rewritten_text(m["rewritten"]));
                fmt::print("  rows:      {}\n", m["rows_touched"].get<long long>());
                fmt::print("  catalog:   {}\n", diff_text(m["catalog_diff"]));
            } else {
                fmt::print("{}: {}, {} statement{}\n", label, outcome, statements, statements == 1 ? "" : "s");
                fmt::print("  reason:    {}\n", one_line(m["reason"].is_null() ? "" : m["reason"].get<std::string>()));
            }
            fmt::print("  lint:      {}\n", lint_text(m["lint"]));
        }
        if (migrations.empty()) fmt::print("nothing to apply\n");
        fmt::print("{} migration{} rehearsed; nothing was persisted (dry run, rolled back)\n", migrations.size(),
                   migrations.size() == 1 ? "" : "s");
    }
    std::fflush(stdout);
    if (blocked) {
        throw Error(ErrorKind::rehearsal_failed, "the dry run found a migration that fails or would wait for a lock",
                    fmt::format("in {}", dir),
                    "see its reason above; fix it (or retry when the lock holder is gone); nothing was persisted");
    }
    return kExitOk;
}

}  // namespace pgmig::client
