// pgmig impact VERSION|FILE: what one pending migration touches (from its dry run), what depends on those
// objects in the live catalog, and which tracked bugs relate to it. Nothing persists (the dry run is rolled back).
#include "client/cli/commands/commands.hpp"
#include "client/core/config.hpp"
#include "client/core/db.hpp"
#include "client/core/errors.hpp"
#include "client/ledger/impact.hpp"
#include "client/cli/json_output.hpp"
#include "client/ledger/project.hpp"

#include "common/version.hpp"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace pgmig::client {

namespace {

using nlohmann::json;
namespace fs = std::filesystem;

bool looks_like_file(const std::string& target) {
    std::error_code ec;
    if (fs::is_regular_file(target, ec)) return true;
    return target.find('/') != std::string::npos || (target.size() > 4 && target.ends_with(".sql"));
}

bool same_file(const fs::path& a, const fs::path& b) {
    std::error_code ec;
    if (fs::equivalent(a, b, ec)) return true;
    return fs::weakly_canonical(a, ec) == fs::weakly_canonical(b, ec);
}

// The migration the argument names, and the folder it is read from (a FILE is read with its own folder).
const MigrationFile& chosen_migration(const std::vector<MigrationFile>& files, const ImpactOptions& options,
                                      const std::string& dir) {
    const std::string& target = options.target;
    if (looks_like_file(target)) {
        for (const auto& f : files) {
            if (same_file(f.path, target) || (f.down_path && same_file(*f.down_path, target))) return f;
        }
        throw Error(ErrorKind::impact_unknown, fmt::format("{} is not a migration file of {}", target, dir),
                    "in the argument of pgmig impact",
                    "give the path of a file of the migrations folder (or --dir its folder), or a version");
    }
    if (target.rfind("R__", 0) == 0) {
        for (const auto& f : files) {
            if (f.repeatable() && "R__" + f.name == target) return f;
        }
    } else if (const MigrationFile* f = find_versioned(files, target)) {
        return *f;
    }
    throw Error(ErrorKind::impact_unknown, fmt::format("no migration {} in {}", target, dir),
                "in the argument of pgmig impact",
                "give the version of a pending migration (see pgmig status --dir " + dir +
                    "), R__NAME, or a migration file's path");
}

void print_objects(const json& diff, const char* key, const char* label) {
    if (!diff.is_object()) return;
    const json objects = diff.value(key, json::array());
    if (objects.empty()) return;
    std::string line;
    for (const auto& o : objects) {
        line += fmt::format("{}{} {}", line.empty() ? "" : ", ", o.value("type", "?"), o.value("identity", "?"));
        if (o.contains("keys") && o["keys"].is_array() && !o["keys"].empty()) {
            std::string keys;
            for (const auto& k : o["keys"]) keys += (keys.empty() ? "" : ", ") + k.get<std::string>();
            line += " (" + keys + ")";
        }
    }
    fmt::print("  {:<11} {}\n", label, line);
}

void print_report(const json& r) {
    const std::string label = r["version"].is_null()
                                  ? "R__" + r.value("name", std::string())
                                  : r["version"].get<std::string>() + "_" + r.value("name", std::string());
    const std::string outcome = r.value("outcome", std::string());
    const int statements = r["statements"].is_number() ? r["statements"].get<int>() : 0;
    fmt::print("impact of {} ({}): {}, {} statement{}\n", label, r.value("file", std::string("?")), outcome, statements,
               statements == 1 ? "" : "s");
    if (outcome == "ok") {
        const json& diff = r["touched"];
        const bool none = !diff.is_object() ||
                          (diff.value("added", json::array()).empty() && diff.value("removed", json::array()).empty() &&
                           diff.value("changed", json::array()).empty());
        if (none) fmt::print("  {:<11} no catalog change\n", "touches:");
        print_objects(diff, "added", "creates:");
        print_objects(diff, "changed", "alters:");
        print_objects(diff, "removed", "drops:");
        std::string rewrites;
        for (const auto& t : r.value("rewritten", json::array())) {
            rewrites += (rewrites.empty() ? "" : ", ") + t.value("table", std::string("?"));
        }
        fmt::print("  {:<11} {}\n", "rewrites:", rewrites.empty() ? "none" : rewrites);
        fmt::print("  {:<11} {}\n", "rows:", r["rows_touched"].is_number() ? r["rows_touched"].get<long long>() : 0);
    } else {
        fmt::print("  {:<11} unknown: {}\n",
                   "touches:", one_line(r["reason"].is_string() ? r["reason"].get<std::string>() : outcome));
    }
    const json& deps = r["dependents"];
    if (deps.empty()) {
        fmt::print("  {:<11} none in pg_depend\n", "dependents:");
    } else {
        fmt::print("  dependents: {}\n", deps.size());
        for (const auto& d : deps) {
            fmt::print("    {} {} (on {})\n", d.value("type", "?"), d.value("identity", "?"), d.value("on", "?"));
        }
    }
    const json& bugs = r["bugs"];
    if (bugs.is_object()) {
        const json& related = bugs["related"];
        if (related.empty()) {
            fmt::print("  related bugs ({}): none\n", bugs.value("file", std::string()));
        } else {
            fmt::print("  related bugs ({}): {}\n", bugs.value("file", std::string()), related.size());
            for (const auto& b : related) {
                std::string reasons;
                for (const auto& why : b["reasons"]) reasons += (reasons.empty() ? "" : ", ") + why.get<std::string>();
                fmt::print("    {}: {} (line {}; {})\n", b.value("id", "?"), b.value("title", ""), b.value("line", 0),
                           reasons);
            }
        }
    }
    fmt::print("nothing was persisted (dry run, rolled back)\n");
}

}  // namespace

int run_impact(const GlobalOptions& global, const ImpactOptions& options) {
    std::string dir = options.dir;
    if (dir.empty() && looks_like_file(options.target)) {
        const fs::path parent = fs::path(options.target).parent_path();
        dir = parent.empty() ? std::string(".") : parent.string();
    }
    dir = resolve_migrations_dir(dir);
    const std::vector<MigrationFile> files = load_files(dir, "nothing was run");
    const MigrationFile& file = chosen_migration(files, options, dir);
    // Read before connecting: an unreadable bugs file is the user's to fix, whatever the database says.
    const std::optional<BugsFile> bugs = load_bugs_file();

    Connection conn = Connection::open(connection_for(global, options.env));
    require_extension(conn);
    std::optional<std::string> target;
    if (!file.repeatable()) target = file.version;
    const json plan = rehearse_pending(conn, files, target, dir);
    const json* row = nullptr;
    for (const auto& m : plan) {
        const bool match = file.repeatable()
                               ? m["version"].is_null() && m.value("name", std::string()) == file.name
                               : !m["version"].is_null() &&
                                     common::compare_versions(m["version"].get<std::string>(), file.version) == 0;
        if (match) row = &m;
    }
    if (row == nullptr) {
        throw Error(ErrorKind::impact_unknown, fmt::format("{} is not pending: it is applied already", file.label()),
                    fmt::format("in the ledger of {}", conn.target()),
                    "pgmig impact shows what a pending migration would do; see pgmig status for what was applied");
    }
    const json report = impact_report(conn, ImpactInput{*row, &file}, bugs);
    if (options.json) {
        print_json_document(json{{"persisted", false}, {"impact", report}});
    } else {
        print_report(report);
    }
    std::fflush(stdout);
    const std::string outcome = report.value("outcome", std::string());
    if (outcome == "failed" || outcome == "would_wait") {
        throw Error(
            ErrorKind::rehearsal_failed,
            fmt::format("the dry run of {} {}", file.label(), outcome == "failed" ? "failed" : "would wait for a lock"),
            fmt::format("in {}", dir),
            "see its reason above; its impact is unknown until it runs; nothing was persisted");
    }
    return kExitOk;
}

}  // namespace pgmig::client
