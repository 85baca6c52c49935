// pgmig status: the ledger of the database (migrate_status()) as a table or as JSON.
#include "client/commands/commands.hpp"
#include "client/db.hpp"
#include "client/errors.hpp"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cstdio>
#include <map>
#include <vector>

namespace pgmig::client {

namespace {

struct Row {
    std::string version, name, state, checksum, registered_at, applied_by;
    std::optional<std::string> applied_at, applied_at_short;
    std::optional<long long> duration_ms;
};

std::vector<Row> read_status(const Connection& conn) {
    Result res = conn.exec(
        "SELECT version, name, state, checksum, "
        "       to_json(registered_at) #>> '{}' AS registered_at, "
        "       to_json(applied_at) #>> '{}' AS applied_at, "
        "       to_char(applied_at, 'YYYY-MM-DD HH24:MI:SS') AS applied_at_short, "
        "       applied_by, "
        "       round(extract(epoch FROM duration) * 1000)::bigint AS duration_ms "
        "  FROM migrate_status()");
    if (!res.ok()) {
        const ServerError e = res.error();
        throw Error(ErrorKind::internal,
                    fmt::format("migrate_status() failed: {} (SQLSTATE {})", e.message, e.sqlstate),
                    fmt::format("in {}", conn.target()), "check that your role may call migrate_status()", e.hint);
    }
    std::vector<Row> rows;
    for (int i = 0; i < res.rows(); ++i) {
        Row r;
        r.version = res.get(i, res.column("version"));
        r.name = res.get(i, res.column("name"));
        r.state = res.get(i, res.column("state"));
        r.checksum = res.get(i, res.column("checksum"));
        r.registered_at = res.get(i, res.column("registered_at"));
        r.applied_at = res.get_opt(i, res.column("applied_at"));
        r.applied_at_short = res.get_opt(i, res.column("applied_at_short"));
        r.applied_by = res.get(i, res.column("applied_by"));
        if (auto ms = res.get_opt(i, res.column("duration_ms"))) r.duration_ms = std::stoll(*ms);
        rows.push_back(std::move(r));
    }
    return rows;
}

void print_json(const std::vector<Row>& rows) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& r : rows) {
        nlohmann::json o;
        o["version"] = r.version;
        o["name"] = r.name;
        o["state"] = r.state;
        o["checksum"] = r.checksum;
        o["registered_at"] = r.registered_at;
        o["applied_at"] = r.applied_at ? nlohmann::json(*r.applied_at) : nlohmann::json(nullptr);
        o["applied_by"] = r.applied_at ? nlohmann::json(r.applied_by) : nlohmann::json(nullptr);
        o["duration_ms"] = r.duration_ms ? nlohmann::json(*r.duration_ms) : nlohmann::json(nullptr);
        out.push_back(std::move(o));
    }
    fmt::print("{}\n", out.dump(2));
}

void print_table(const std::vector<Row>& rows) {
    const std::array<std::string, 5> header{"version", "name", "state", "applied_at", "duration"};
    std::vector<std::array<std::string, 5>> cells;
    cells.reserve(rows.size());
    for (const auto& r : rows) {
        cells.push_back({r.version, r.name, r.state, r.applied_at_short.value_or("-"),
                         r.duration_ms ? fmt::format("{} ms", *r.duration_ms) : std::string("-")});
    }
    std::array<std::size_t, 5> width{};
    for (std::size_t c = 0; c < 5; ++c) {
        width[c] = header[c].size();
        for (const auto& row : cells) width[c] = std::max(width[c], row[c].size());
    }
    auto print_row = [&width](const std::array<std::string, 5>& row) {
        std::string line;
        for (std::size_t c = 0; c < 5; ++c) {
            line += c == 4 ? fmt::format("{:>{}}", row[c], width[c]) : fmt::format("{:<{}}  ", row[c], width[c]);
        }
        while (!line.empty() && line.back() == ' ') line.pop_back();
        fmt::print("{}\n", line);
    };
    print_row(header);
    std::array<std::string, 5> rule;
    for (std::size_t c = 0; c < 5; ++c) rule[c] = std::string(width[c], '-');
    print_row(rule);
    for (const auto& row : cells) print_row(row);
}

}  // namespace

int run_status(const GlobalOptions& global, const StatusOptions& options) {
    Connection conn = Connection::open(global.dbname);
    require_extension(conn);
    const std::vector<Row> rows = read_status(conn);
    if (options.json) {
        print_json(rows);
        return kExitOk;
    }
    if (rows.empty()) {
        fmt::print("no migrations registered in {}\n", conn.target());
    } else {
        print_table(rows);
    }
    std::map<std::string, int> count;
    for (const auto& r : rows) ++count[r.state];
    std::string summary = fmt::format("{} applied, {} pending", count["applied"], count["pending"]);
    for (const auto& [state, n] : count) {
        if (state != "applied" && state != "pending") summary += fmt::format(", {} {}", n, state);
    }
    fmt::print("{}\n", summary);
    return kExitOk;
}

}  // namespace pgmig::client
