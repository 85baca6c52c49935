// pgmig status: the ledger of the database (migrate_status()) as a table or as JSON, compared with the
// migrations folder when there is one (files not registered yet, applied migrations whose file is gone).
#include "client/cli/commands/commands.hpp"
#include "client/core/config.hpp"
#include "client/core/db.hpp"
#include "client/core/errors.hpp"
#include "client/cli/json_output.hpp"
#include "client/ledger/project.hpp"

#include "common/checksum.hpp"
#include "common/version.hpp"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cstdio>
#include <map>
#include <unordered_map>
#include <utility>
#include <vector>

namespace pgmig::client {

namespace {

struct Row {
    std::string version, name, state, checksum, registered_at, applied_by, kind;
    std::optional<std::string> file;  // the file in the folder; nullopt without one (or without a folder)
    bool registered = true;
    std::optional<std::string> applied_at, applied_at_short;
    std::optional<long long> duration_ms;
    std::optional<LedgerOnly> ledger_only;  // pending, registered, and no file holds it
    // Its file's up script runs nothing (a no-op placeholder); nullopt without a file.
    std::optional<bool> empty;
    std::optional<std::string> file_checksum;  // the file's up script's checksum (the ledger's rule)
    // How the file differs from the ledger: "edited" (other statements), "cosmetic" (same statements:
    // whitespace, comments, letter case of keywords) or nullopt (same checksum, or no file).
    std::optional<std::string> edit;
};

std::vector<Row> read_status(const Connection& conn) {
    Result res = conn.exec(
        "SELECT version, name, state, checksum, "
        "       to_json(registered_at) #>> '{}' AS registered_at, "
        "       to_json(applied_at) #>> '{}' AS applied_at, "
        "       to_char(applied_at, 'YYYY-MM-DD HH24:MI:SS') AS applied_at_short, "
        "       applied_by, "
        "       round(extract(epoch FROM duration) * 1000)::bigint AS duration_ms, kind "
        "  FROM migrate_status()");
    if (!res.ok()) throw_server_error(res.error(), fmt::format("reading migrate_status(), in {}", conn.target()), "");
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
        r.kind = res.get(i, res.column("kind"));
        rows.push_back(std::move(r));
    }
    return rows;
}

void print_json(const std::vector<Row>& rows) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& r : rows) {
        nlohmann::json o;
        o["version"] = r.kind == "repeatable" ? nlohmann::json(nullptr) : nlohmann::json(r.version);
        o["kind"] = r.kind;
        o["registered"] = r.registered;
        o["file"] = r.file ? nlohmann::json(*r.file) : nlohmann::json(nullptr);
        o["name"] = r.name;
        o["state"] = r.state;
        o["checksum"] = r.registered ? nlohmann::json(r.checksum) : nlohmann::json(nullptr);
        o["registered_at"] = r.registered ? nlohmann::json(r.registered_at) : nlohmann::json(nullptr);
        o["applied_at"] = r.applied_at ? nlohmann::json(*r.applied_at) : nlohmann::json(nullptr);
        o["applied_by"] = r.applied_at ? nlohmann::json(r.applied_by) : nlohmann::json(nullptr);
        o["duration_ms"] = r.duration_ms ? nlohmann::json(*r.duration_ms) : nlohmann::json(nullptr);
        o["ledger_only"] = r.ledger_only.has_value();
        o["empty"] = r.empty ? nlohmann::json(*r.empty) : nlohmann::json(nullptr);
        o["file_checksum"] = r.file_checksum ? nlohmann::json(*r.file_checksum) : nlohmann::json(nullptr);
        o["edit"] = r.edit ? nlohmann::json(*r.edit) : nlohmann::json(nullptr);
        if (r.ledger_only) o["registered_by"] = r.ledger_only->registered_by;
        out.push_back(std::move(o));
    }
    print_json_document(out);
}

constexpr std::size_t kColumns = 7;

void print_table(const std::vector<Row>& rows, bool with_files) {
    const std::array<std::string, kColumns> header{"version", "name",       "kind",    "state",
                                                   "file",    "applied_at", "duration"};
    std::vector<std::array<std::string, kColumns>> cells;
    cells.reserve(rows.size());
    for (const auto& r : rows) {
        cells.push_back({r.kind == "repeatable" ? std::string("R") : r.version, r.name,
                         r.empty.value_or(false) ? r.kind + " (empty)" : r.kind, r.state,
                         r.file.value_or(with_files ? "missing file" : "-"), r.applied_at_short.value_or("-"),
                         r.duration_ms ? fmt::format("{} ms", *r.duration_ms) : std::string("-")});
    }
    std::array<std::size_t, kColumns> width{};
    for (std::size_t c = 0; c < kColumns; ++c) {
        width[c] = header[c].size();
        for (const auto& row : cells) width[c] = std::max(width[c], row[c].size());
    }
    auto print_row = [&width](const std::array<std::string, kColumns>& row) {
        std::string line;
        for (std::size_t c = 0; c < kColumns; ++c) {
            line +=
                c == kColumns - 1 ? fmt::format("{:>{}}", row[c], width[c]) : fmt::format("{:<{}}  ", row[c], width[c]);
        }
        while (!line.empty() && line.back() == ' ') line.pop_back();
        fmt::print("{}\n", line);
    };
    print_row(header);
    std::array<std::string, kColumns> rule;
    for (std::size_t c = 0; c < kColumns; ++c) rule[c] = std::string(width[c], '-');
    print_row(rule);
    for (const auto& row : cells) print_row(row);
}

// Adds the folder's view: which row has which file, files not registered yet (as pending rows).
// The file a row names: its name, or its path in the folder when it lies in a subfolder (another tool's
// "20240131120000_init/migration.sql", "deploy/users.sql"), where bare names would all look alike.
std::string shown_file(const MigrationFile& f) {
    return f.folder_format == FolderFormat::pgmig || f.file_name.empty() ? f.path.filename().string() : f.file_name;
}

// The order of migrate_status(): by version (version_sort_key: "1" and "001" are one version), repeatable
// migrations last, by name.
std::string order_key(bool repeatable, const std::string& version, const std::string& name) {
    return repeatable ? std::string(1, '\xff') + name : common::version_sort_key(version);
}

void merge_files(std::vector<Row>& rows, const std::vector<MigrationFile>& files) {
    // One key per row, looked up per file: a folder and a ledger of 1,000 migrations each used to cost a
    // million version comparisons.
    std::unordered_map<std::string, std::vector<std::size_t>> by_key;
    for (std::size_t i = 0; i < rows.size(); ++i) {
        by_key[order_key(rows[i].kind == "repeatable", rows[i].version, rows[i].name)].push_back(i);
    }
    for (const auto& f : files) {
        const auto found = by_key.find(order_key(f.repeatable(), f.version, f.name));
        if (found != by_key.end()) {
            for (const std::size_t i : found->second) {
                Row& r = rows[i];
                r.file = shown_file(f);
                r.empty = !has_statements(f.up_sql);
                r.file_checksum = common::script_checksum(f.up_sql);
            }
            continue;
        }
        Row r;
        r.version = f.version;
        r.name = f.name;
        r.kind = f.repeatable() ? "repeatable" : "versioned";
        r.state = "pending (not registered)";
        r.file = shown_file(f);
        r.empty = !has_statements(f.up_sql);
        r.file_checksum = common::script_checksum(f.up_sql);
        r.registered = false;
        rows.push_back(std::move(r));
    }
    // Version order, repeatable ones last (as migrate_status() sorts); each key computed once.
    std::vector<std::pair<std::string, std::size_t>> order;
    order.reserve(rows.size());
    for (std::size_t i = 0; i < rows.size(); ++i) {
        order.emplace_back(order_key(rows[i].kind == "repeatable", rows[i].version, rows[i].name), i);
    }
    std::stable_sort(order.begin(), order.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    std::vector<Row> sorted;
    sorted.reserve(rows.size());
    for (const auto& [key, i] : order) sorted.push_back(std::move(rows[i]));
    rows = std::move(sorted);
}

// Compares each registered migration's file with the ledger, as migrate_register would at the next apply:
// the same checksum is unchanged; an applied versioned migration with other text is a cosmetic edit when
// the server parses both to the same statements (pgmig.same_statements_as_registered, which a
// pgmig_reader may call without seeing the registered script), else a real edit, which apply refuses
// (PM002). A repeatable migration whose file changed runs again at the next apply: pending.
void mark_edits(const Connection& conn, std::vector<Row>& rows, const std::vector<MigrationFile>& files) {
    for (auto& r : rows) {
        if (!r.registered || !r.file_checksum || *r.file_checksum == r.checksum) continue;
        if (r.kind == "repeatable") {
            if (r.state == "applied") r.state = "pending (edited)";
            r.edit = "edited";
            continue;
        }
        if (r.state != "applied") continue;  // a pending one is registered again as it stands
        const MigrationFile* file = nullptr;
        for (const auto& f : files) {
            if (!f.repeatable() && common::compare_versions(f.version, r.version) == 0) file = &f;
        }
        if (file == nullptr) continue;
        Result same = conn.exec_params("SELECT pgmig.same_statements_as_registered($1, $2)", {r.version, file->up_sql});
        if (!same.ok() && is_own_permission_error(same.error()))
            throw permission_denied_error(
                same.error(), fmt::format("comparing {} with the ledger, in {}", file->path.string(), conn.target()));
        // A file the server cannot parse is not the same statements: a real edit.
        const bool cosmetic = same.ok() && same.get(0, 0) == "t";
        r.edit = cosmetic ? "cosmetic" : "edited";
        r.state = cosmetic ? "edited (cosmetic)" : "edited";
    }
}

}  // namespace

int run_status(const GlobalOptions& global, const StatusOptions& options) {
    // The folder is optional here: --dir must exist, the default is used only when it does.
    const std::string dir = resolve_migrations_dir(options.dir);
    std::error_code ec;
    const bool with_files = !options.dir.empty() || std::filesystem::is_directory(dir, ec);
    std::vector<MigrationFile> files;
    if (with_files) files = load_files(dir, "fix the file, or run pgmig status --dir ELSEWHERE", true);

    Connection conn = Connection::open(global.dbname);
    require_extension(conn);
    std::vector<Row> rows = read_status(conn);
    if (with_files) {
        merge_files(rows, files);
        mark_edits(conn, rows, files);
        // Registered, pending, and no file: someone registered SQL nobody reviewed as a file.
        for (LedgerOnly& m : ledger_only_migrations(conn, files)) {
            for (auto& r : rows) {
                const bool same = m.version ? r.kind == "versioned" && r.version == *m.version
                                            : r.kind == "repeatable" && r.name == m.name;
                if (same && r.registered) r.ledger_only = m;
            }
        }
    }
    std::vector<const Row*> edited;
    for (const auto& r : rows) {
        if (r.edit == "edited" && r.kind == "versioned") edited.push_back(&r);
    }
    // A real edit of an applied migration: the next apply fails (PM002), so status says so by its exit code.
    auto edited_error = [&] {
        std::string names;
        for (const Row* r : edited) names += (names.empty() ? "" : ", ") + r->version + "_" + r->name;
        return Error(
            ErrorKind::applied_edited,
            fmt::format("{} applied migration{} edited since {} applied: {}", edited.size(),
                        edited.size() == 1 ? " was" : "s were", edited.size() == 1 ? "it was" : "they were", names),
            "in " + dir,
            "pgmig apply refuses it (PM002): restore the file as it was applied and add a new migration for "
            "the change, or accept the file with pgmig repair VERSION");
    };
    if (options.json) {
        print_json(rows);
        if (!edited.empty()) throw edited_error();
        return kExitOk;
    }
    if (rows.empty()) {
        fmt::print("no migrations registered in {}\n", conn.target());
    } else {
        print_table(rows, with_files);
    }
    // Applied (or in progress) migrations whose file is gone: repair and rollback need it, validate reports it.
    std::map<std::string, int> count;
    for (const auto& r : rows) {
        ++count[r.state];
        if (with_files && r.registered && !r.file) ++count["missing file"];
        if (r.ledger_only) {
            ++count["ledger only"];
            fmt::print(
                "ledger only: {}: no file holds it; pgmig apply and deploy refuse it (exit 37) unless "
                "--allow-ledger-only {} names it, after review\n",
                r.ledger_only->describe(), r.ledger_only->version.value_or("R__" + r.name));
        }
    }
    std::string summary = fmt::format("{} applied, {} pending", count["applied"], count["pending"]);
    for (const auto& [state, n] : count) {
        if (state != "applied" && state != "pending") summary += fmt::format(", {} {}", n, state);
    }
    fmt::print("{}\n", summary);
    if (!edited.empty()) throw edited_error();
    return kExitOk;
}

}  // namespace pgmig::client
