// pgmig adopt: takes over the history another migration tool kept in the database (its history table),
// so that switching to pgmig loses nothing: the migrations the tool recorded become applied in the
// ledger, with the tool's time and user, and the rest stay pending. The extension reads the tool's table
// and decides (migrate_adopt); this command shows its plan, asks, and carries it out in one transaction.
#include "client/core/audit_log.hpp"
#include "client/cli/commands/commands.hpp"
#include "client/core/config.hpp"
#include "client/core/db.hpp"
#include "client/core/errors.hpp"
#include "client/ledger/project.hpp"

#include "common/checksum.hpp"

#include <fmt/core.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace pgmig::client {

namespace {

struct ToolInfo {
    const char* name;
    const char* title;
    std::optional<FolderFormat> folder;  // the folder format its files are read in; nullopt: pgmig's own
};

// The tools pgmig adopts from (the extension's list, extension/adopt.cpp) and the folder each writes.
constexpr ToolInfo kTools[] = {
    {"flyway", "Flyway", std::nullopt},
    {"golang-migrate", "golang-migrate", std::nullopt},
    {"dbmate", "dbmate", FolderFormat::dbmate},
    {"goose", "goose", FolderFormat::goose},
    {"sql-migrate", "sql-migrate", FolderFormat::sql_migrate},
    {"node-pg-migrate", "node-pg-migrate", FolderFormat::node_pg_migrate},
    {"diesel", "Diesel", FolderFormat::diesel},
    {"prisma", "Prisma", FolderFormat::prisma},
    {"drizzle", "Drizzle Kit", FolderFormat::drizzle},
    {"liquibase", "Liquibase", FolderFormat::liquibase},
    {"sqitch", "Sqitch", FolderFormat::sqitch},
};

const ToolInfo& tool_info(const std::string& name) {
    for (const ToolInfo& t : kTools) {
        if (name == t.name) return t;
    }
    throw Error(ErrorKind::usage, fmt::format("pgmig does not adopt from \"{}\"", name), "in --from",
                "name one of: " + adopt_tool_names());
}

// A folder read in another tool's format than the one adopted from: its migrations cannot be the ones
// the tool's table records.
void check_folder(const ToolInfo& tool, const std::vector<MigrationFile>& files, const std::string& dir) {
    if (files.empty()) return;
    const FolderFormat format = files.front().folder_format;
    if (format == FolderFormat::pgmig || (tool.folder && *tool.folder == format)) return;
    throw Error(ErrorKind::input,
                fmt::format("the folder holds {} migrations, not {}'s", folder_format_name(format), tool.title),
                "in " + dir,
                fmt::format("point --dir at the folder {} migrated from (or choose its format with --format); nothing "
                            "was adopted",
                            tool.title));
}

// Which tool's history the database holds: --from, else the one tool whose table is found.
std::pair<std::string, std::string> find_tool(const Connection& conn, const AdoptOptions& options) {
    if (!options.from.empty()) return {tool_info(options.from).name, options.table};
    Result res = conn.exec("SELECT tool, source, problem FROM migrate_adopt_sources()");
    if (!res.ok()) {
        throw_server_error(res.error(), fmt::format("looking for another tool's history table, in {}", conn.target()),
                           "nothing was adopted");
    }
    std::map<std::string, std::vector<std::string>> found;  // tool -> tables
    std::string misfits;
    for (int i = 0; i < res.rows(); ++i) {
        if (!res.is_null(i, 2)) {
            misfits += fmt::format("{}{} is not {}'s: {}", misfits.empty() ? "" : "; ", res.get(i, 1),
                                   tool_info(res.get(i, 0)).title, res.get(i, 2));
            continue;
        }
        if (options.table.empty() || options.table == res.get(i, 1)) found[res.get(i, 0)].push_back(res.get(i, 1));
    }
    if (found.empty()) {
        throw Error(ErrorKind::adopt_refused,
                    fmt::format("no history table of another migration tool{}",
                                options.table.empty() ? std::string() : " named " + options.table),
                    "in " + conn.target(),
                    "connect to the database the tool migrated, or name the tool with --from TOOL; a database "
                    "without any history is adopted with pgmig baseline VERSION; nothing was adopted",
                    misfits);
    }
    if (found.size() > 1) {
        std::string list;
        for (const auto& [tool, tables] : found) {
            std::string t;
            for (const auto& table : tables) t += (t.empty() ? "" : ", ") + table;
            list += fmt::format("{}{} ({})", list.empty() ? "" : "; ", tool, t);
        }
        throw Error(ErrorKind::adopt_refused, "history tables of several migration tools: " + list,
                    "in " + conn.target(), "choose the one to take over with --from TOOL; nothing was adopted");
    }
    return {found.begin()->first, options.table};
}

struct Row {
    std::optional<std::string> version;
    std::string name;
    std::optional<std::string> tool_id;
    std::string state;
    std::optional<std::string> applied_at;
    std::optional<std::string> applied_by;
    std::string detail;
    std::string label() const {
        if (version) return name.empty() ? *version : *version + "_" + name;
        return tool_id.value_or("?");
    }
};

std::vector<Row> rows_of(const Result& res) {
    std::vector<Row> rows;
    for (int i = 0; i < res.rows(); ++i) {
        rows.push_back(Row{res.get_opt(i, 0), res.get(i, 1), res.get_opt(i, 2), res.get(i, 3), res.get_opt(i, 4),
                           res.get_opt(i, 5), res.get(i, 6)});
    }
    return rows;
}

const char* const kColumns = "SELECT version, name, tool_id, state, applied_at, applied_by, detail FROM migrate_adopt";

std::string files_json(const std::vector<MigrationFile>& files) {
    nlohmann::json out = nlohmann::json::array();
    for (const MigrationFile& f : files) {
        if (f.repeatable()) continue;  // repeatable migrations are registered and run again (docs/adopting.md)
        out.push_back({{"version", f.version},
                       {"name", f.name},
                       {"tool_id", f.tool_id},
                       {"checksum", common::script_checksum(f.up_sql)}});
    }
    return out.dump();
}

size_t count(const std::vector<Row>& rows, std::initializer_list<const char*> states) {
    return static_cast<size_t>(std::count_if(rows.begin(), rows.end(), [&](const Row& r) {
        return std::any_of(states.begin(), states.end(), [&](const char* s) { return r.state == s; });
    }));
}

void print_section(const std::vector<Row>& rows, std::initializer_list<const char*> states, const char* heading,
                   bool always) {
    const size_t n = count(rows, states);
    if (n == 0 && !always) return;
    fmt::print("  {} ({}){}\n", heading, n, n ? ":" : "");
    size_t width = 0;
    for (const Row& r : rows) {
        if (std::any_of(states.begin(), states.end(), [&](const char* s) { return r.state == s; })) {
            width = std::max(width, r.label().size());
        }
    }
    for (const Row& r : rows) {
        if (std::none_of(states.begin(), states.end(), [&](const char* s) { return r.state == s; })) continue;
        std::string note;
        if (r.state == "adopt" || r.state == "applied") {
            if (r.applied_at) note += "applied " + *r.applied_at;
            if (r.applied_by) note += (note.empty() ? "applied" : "") + std::string(" by ") + *r.applied_by;
        }
        if (!r.detail.empty()) note += (note.empty() ? "" : "; ") + r.detail;
        if (r.tool_id && r.version && r.state != "pending" && *r.tool_id != *r.version) {
            note += (note.empty() ? "" : "; ") + ("recorded as " + *r.tool_id);
        }
        fmt::print("    {:<{}}{}{}\n", r.label(), width, note.empty() ? "" : "  ", note);
    }
}

void print_plan(const std::vector<Row>& rows, const std::string& title, const std::string& source,
                const std::string& dir) {
    fmt::print("{}'s history{}, migrations folder {}:\n", title, source.empty() ? "" : " in " + source, dir);
    print_section(rows, {"adopt"}, "become applied, without running", true);
    print_section(rows, {"applied"}, "already applied in the ledger", false);
    print_section(rows, {"pending"}, "stay pending, for pgmig apply", true);
    print_section(rows, {"no_file"}, "recorded, but no file has them", true);
    print_section(rows, {"failed", "dirty"}, "failed or dirty", false);
    print_section(rows, {"conflict"}, "the ledger differs", false);
    std::fflush(stdout);
}

// The source table's name, as the server reports it.
std::string source_of(const Connection& conn, const std::string& tool, const std::string& table) {
    if (!table.empty()) return table;
    Result res =
        conn.exec_params("SELECT source FROM migrate_adopt_sources() WHERE tool = $1 AND problem IS NULL", {tool});
    return res.ok() && res.rows() == 1 ? res.get(0, 0) : std::string();
}

bool confirmed(size_t n, const std::string& target) {
    if (isatty(STDIN_FILENO) != 1) return false;
    std::fprintf(stderr, "pgmig: mark %zu migration%s applied in %s? [y/N] ", n, n == 1 ? "" : "s", target.c_str());
    std::fflush(stderr);
    std::string answer;
    if (!std::getline(std::cin, answer)) return false;
    return answer == "y" || answer == "Y" || answer == "yes";
}

}  // namespace

std::string adopt_tool_names() {
    std::string out;
    for (const ToolInfo& t : kTools) out += (out.empty() ? "" : ", ") + std::string(t.name);
    return out;
}

int run_adopt(const GlobalOptions& global, const AdoptOptions& options) {
    const std::string dir = resolve_migrations_dir(options.dir);
    const std::vector<MigrationFile> files = load_files(dir, "nothing was adopted");
    if (!options.from.empty()) check_folder(tool_info(options.from), files, dir);
    Connection conn = Connection::open(global.dbname);
    require_extension(conn);
    const auto [tool, table] = find_tool(conn, options);
    const ToolInfo& info = tool_info(tool);
    if (options.from.empty()) check_folder(info, files, dir);
    const std::string json = files_json(files);
    std::optional<std::string> source_param;
    if (!table.empty()) source_param = table;

    std::vector<Row> rows;
    {
        Transaction tx(conn, Transaction::Mode::read_only);  // the plan writes nothing
        Result res = conn.exec_params(std::string(kColumns) + "($1, $2::jsonb, false, $3)", {tool, json, source_param});
        if (!res.ok()) {
            throw_server_error(res.error(), fmt::format("reading {}'s history, in {}", info.title, conn.target()),
                               "nothing was adopted");
        }
        rows = rows_of(res);
    }
    print_plan(rows, info.title, source_of(conn, tool, table), dir);

    const bool refused = count(rows, {"failed", "dirty", "no_file", "conflict"}) > 0;
    const size_t n = count(rows, {"adopt"});
    if (!refused && n == 0) {
        fmt::print("nothing to adopt: {}\n",
                   count(rows, {"applied"}) > 0
                       ? "the ledger already holds this history"
                       : "the table records no applied migration (pgmig apply runs the files)");
        return kExitOk;
    }
    if (!refused && !options.yes && !confirmed(n, conn.target())) {
        throw Error(
            ErrorKind::adopt_not_confirmed,
            fmt::format("the plan above was not applied ({} migration{} to mark applied)", n, n == 1 ? "" : "s"),
            "in " + conn.target(),
            isatty(STDIN_FILENO) == 1
                ? std::string("nothing was adopted; run pgmig adopt again and answer y, or pass --yes")
                : fmt::format("nothing was adopted; check the plan, then run pgmig adopt --from {} --yes", tool));
    }

    // Registers the files and carries the plan out in one transaction; the extension reads the tool's table
    // again under the ledger lock and refuses (PM062, PM063) what the plan showed as refused.
    Transaction tx(conn);
    register_files(conn, files);
    Result res = conn.exec_params(std::string(kColumns) + "($1, $2::jsonb, true, $3)", {tool, json, source_param});
    if (!res.ok()) {
        const ServerError e = res.error();
        tx.rollback();
        throw_server_error(e, fmt::format("adopting {}'s history, in {}", info.title, conn.target()),
                           "nothing was adopted");
    }
    const std::vector<Row> done = rows_of(res);
    std::set<std::string> planned;
    std::set<std::string> adopted;
    for (const Row& r : rows) {
        if (r.state == "adopt" && r.version) planned.insert(*r.version);
    }
    for (const Row& r : done) {
        if (r.state == "adopt" && r.version) adopted.insert(*r.version);
    }
    if (planned != adopted || refused) {
        tx.rollback();
        throw Error(ErrorKind::adopt_refused, fmt::format("{}'s history changed since the plan was read", info.title),
                    "in " + conn.target(), "nothing was adopted; run pgmig adopt again to see the new plan");
    }
    Result commit = tx.commit();
    if (!commit.ok()) throw_server_error(commit.error(), "committing the adoption", "nothing was adopted");
    std::string newest;
    for (const Row& r : done) {
        if (r.state != "adopt" || !r.version) continue;
        audit_note_version(*r.version);
        newest = *r.version;
    }
    const size_t pending = count(done, {"pending"});
    fmt::print("adopted {} migration{} from {}'s history: the ledger has them applied up to {}{}\n", adopted.size(),
               adopted.size() == 1 ? "" : "s", info.title, newest,
               pending ? fmt::format("; {} pending (pgmig apply runs them)", pending) : std::string());
    return kExitOk;
}

}  // namespace pgmig::client
