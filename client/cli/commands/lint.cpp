// pgmig lint: migration files through migrate_lint() on the database (the server's parser and catalog),
// findings as file:line:col, exit 14 when an unwaived finding is at or above the threshold.
#include "client/cli/commands/commands.hpp"
#include "client/core/config.hpp"
#include "client/core/counted.hpp"
#include "client/core/db.hpp"
#include "client/core/errors.hpp"
#include "client/cli/json_output.hpp"
#include "client/ledger/migration_files.hpp"
#include "client/ledger/project.hpp"

#include "common/checksum.hpp"
#include "common/version.hpp"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

namespace pgmig::client {

namespace {

int severity_rank(const std::string& severity) {
    if (severity == "error") return 2;
    if (severity == "warning") return 1;
    return 0;  // advice
}

// One script to lint: where it comes from and what its lines are offset by in the file.
struct Script {
    std::string file;
    std::string part;  // "up", "down" or "file" (a plain SQL file)
    std::string sql;
    int first_line = 1;
    nlohmann::json options = nlohmann::json::object();
};

struct LintFinding {
    std::string file, part, rule, severity, message;
    int line = 0, col = 0;
    std::optional<std::string> object;
    std::optional<long long> rows, bytes;
    bool waived = false;
};

std::string read_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw Error(ErrorKind::input, "cannot read " + path.string(), "on the command line",
                    "check the path and its permissions; nothing was linted");
    }
    std::ostringstream text;
    text << in.rdbuf();
    if (in.bad()) {
        throw Error(ErrorKind::input, "cannot read " + path.string(), "while reading it",
                    "check the file; nothing was linted");
    }
    return text.str();
}

// 1-based line of the file at which `part` (a piece of `content`) starts; 1 when it cannot be found.
int line_of(const std::string& content, const std::string& part) {
    const size_t at = part.empty() ? std::string::npos : content.find(part);
    if (at == std::string::npos) return 1;
    return 1 + static_cast<int>(std::count(content.begin(), content.begin() + static_cast<std::ptrdiff_t>(at), '\n'));
}

// The options a down script is linted with: its migration's, without the up script's waivers, and
// down_of, with which migrate_lint lets it drop what its own up script created (the one place that
// decides how a down script is linted is the extension's lint).
nlohmann::json down_options(const nlohmann::json& migration_options, const std::string& up_sql) {
    nlohmann::json options = migration_options;
    options.erase("allow");  // the up script's waivers are about the up script
    options["down_of"] = up_sql;
    return options;
}

// The up script of a migration, and its down script too when `with_down`.
void add_migration(std::vector<Script>& scripts, const MigrationFile& f, const std::string& content,
                   const std::optional<std::string>& down_content, bool with_down) {
    scripts.push_back({f.path.string(), "up", f.up_sql, f.up_first_line, lint_options(f)});
    if (with_down && f.has_down() && f.down_sql) {
        const std::string file = f.down_path ? f.down_path->string() : f.path.string();
        const std::string& text = f.down_path && down_content ? *down_content : content;
        scripts.push_back(
            {file, "down", *f.down_sql, line_of(text, *f.down_sql), down_options(lint_options(f), f.up_sql)});
    }
}

// The up script a separate down file (U<v>__x.sql, x.down.sql) undoes: its partner in the same folder.
std::optional<std::string> partner_up_sql(const std::filesystem::path& down_path) {
    const std::string name = down_path.filename().string();
    std::string up_name;
    if (name.starts_with("U")) {
        up_name = "V" + name.substr(1);
    } else if (name.ends_with(".down.sql")) {
        up_name = name.substr(0, name.size() - std::string_view(".down.sql").size()) + ".up.sql";
    }
    const std::filesystem::path up_path = down_path.parent_path() / up_name;
    std::error_code ec;
    if (up_name.empty() || !std::filesystem::is_regular_file(up_path, ec)) return std::nullopt;
    try {
        return parse_migration_file(up_name, read_file(up_path)).up_sql;
    } catch (const MigrationFileError&) {
        return std::nullopt;  // linted as a down script whose up created nothing
    }
}

// The scripts of FILES given on the command line: migration files by their names' rules, anything
// else as one plain SQL script.
std::vector<Script> scripts_of_files(const std::vector<std::string>& paths) {
    std::vector<Script> scripts;
    for (const std::string& p : paths) {
        const std::filesystem::path path(p);
        const std::string content = read_file(path);
        const std::string name = path.filename().string();
        std::optional<FileName> kind;
        try {
            kind = classify_file_name(name);
        } catch (const MigrationFileError&) {
            kind.reset();  // not a migration file name: lint it as plain SQL
        }
        try {
            if (!kind || kind->down) {
                check_file_bytes(p, content);  // plain SQL too: no NUL or invalid UTF-8 reaches the server
                nlohmann::json options = nlohmann::json::object();
                if (kind) options = down_options(options, partner_up_sql(path).value_or(""));
                scripts.push_back({p, kind ? "down" : "file", content, 1, options});
                continue;
            }
            MigrationFile f = parse_migration_file(name, content);
            f.path = path;
            add_migration(scripts, f, content, std::nullopt, true);
        } catch (const MigrationFileError& e) {
            throw Error(e.problem() == FileProblem::bad_bytes ? ErrorKind::bad_bytes : ErrorKind::input, e.reason(),
                        "in " + p, (e.advice().empty() ? std::string("fix it") : e.advice()) + "; nothing was linted");
        }
    }
    return scripts;
}

// Which migrations of the folder are pending in the database (their up scripts are what the next apply
// runs): versioned ones not applied (or applied only in part), repeatable ones new or changed. nullopt when
// the ledger cannot be read (the role may not read it): then every file counts.
std::optional<std::vector<bool>> pending_files(const Connection& conn, const std::vector<MigrationFile>& files) {
    conn.exec("SAVEPOINT pgmig_lint_ledger");
    Result res = conn.exec(
        "SELECT s.version, s.name, s.kind, s.state, m.checksum "
        "  FROM migrate_status() s "
        "  JOIN pgmig.migrations m ON m.version IS NOT DISTINCT FROM s.version AND m.name = s.name");
    if (!res.ok()) {
        conn.exec("ROLLBACK TO SAVEPOINT pgmig_lint_ledger");
        return std::nullopt;
    }
    std::vector<bool> pending;
    for (const MigrationFile& f : files) {
        bool is_pending = true;
        for (int i = 0; i < res.rows(); ++i) {
            const std::string state = res.get(i, 3);
            if (f.repeatable()) {
                if (res.get(i, 2) == "repeatable" && res.get(i, 1) == f.name)
                    is_pending = res.get(i, 4) != common::script_checksum(f.up_sql);
            } else if (res.get(i, 2) == "versioned" && common::compare_versions(res.get(i, 0), f.version) == 0) {
                is_pending = state == "pending" || state == "out_of_order" || state == "in_progress";
            }
        }
        pending.push_back(is_pending);
    }
    return pending;
}

// The scripts of the folder's migrations: every up and down script with --all, else the pending up
// scripts (all up scripts when the ledger cannot be read). `note` says which, for the summary.
std::vector<Script> scripts_of_dir(const Connection& conn, const std::vector<MigrationFile>& files, bool all,
                                   std::string& note) {
    std::optional<std::vector<bool>> pending;
    if (!all) pending = pending_files(conn, files);
    std::vector<Script> scripts;
    long skipped = 0;
    for (size_t i = 0; i < files.size(); ++i) {
        const MigrationFile& f = files[i];
        if (pending && !(*pending)[i]) {
            ++skipped;
            continue;
        }
        const std::string content = read_file(f.path);
        std::optional<std::string> down_content;
        if (all && f.down_path) down_content = read_file(*f.down_path);
        add_migration(scripts, f, content, down_content, all);
    }
    if (all) {
        note = "every migration, up and down scripts (--all)";
    } else if (!pending) {
        note = "every up script (the ledger could not be read, so none counts as applied)";
    } else {
        note = fmt::format("pending up scripts; {} applied migration{} not linted (--all lints them)", skipped,
                           skipped == 1 ? "" : "s");
    }
    return scripts;
}

std::string size_text(const LintFinding& f) {
    if (!f.bytes) return {};
    return fmt::format(" (table {}: {} rows, {} bytes)", f.object.value_or("?"),
                       f.rows ? std::to_string(*f.rows) : std::string("unknown, not analyzed"), *f.bytes);
}

}  // namespace

int run_lint(const GlobalOptions& global, const LintOptions& options) {
    const int threshold = severity_rank(options.threshold);
    std::string source;
    std::string note;
    std::vector<Script> scripts;
    std::vector<MigrationFile> files;
    // All input is read and checked before any connection is made.
    if (options.files.empty()) {
        source = resolve_migrations_dir(options.dir);
        files = load_files(source, "nothing was linted");
    } else {
        if (options.all) {
            throw Error(ErrorKind::usage, "--all with FILES", "on the command line",
                        "give FILES (linted whole, up and down scripts) or --all (every migration of --dir)");
        }
        source = fmt::format("{} file{}", options.files.size(), options.files.size() == 1 ? "" : "s");
        scripts = scripts_of_files(options.files);
        note = "up and down scripts of the files given";
    }

    Connection conn = Connection::open(global.dbname);
    require_extension(conn);
    Transaction tx(conn, Transaction::Mode::read_only);  // lint changes nothing
    if (options.files.empty()) scripts = scripts_of_dir(conn, files, options.all, note);
    std::vector<LintFinding> findings;
    for (const Script& s : scripts) {
        nlohmann::json o = s.options;
        for (const std::string& rule : options.allow) o["allow"].push_back(rule);
        Result res = conn.exec_params(
            "SELECT rule, severity, line, col, message, object, table_rows, table_bytes, waived "
            "FROM migrate_lint($1, $2::jsonb)",
            {s.sql, o.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)});
        if (!res.ok()) {
            throw_server_error(res.error(), fmt::format("linting {} ({} script), in {}", s.file, s.part, conn.target()),
                               "nothing was changed");
        }
        for (int i = 0; i < res.rows(); ++i) {
            LintFinding f;
            f.file = s.file;
            f.part = s.part;
            f.rule = res.get(i, 0);
            f.severity = res.get(i, 1);
            f.line = std::stoi(res.get(i, 2)) + s.first_line - 1;
            f.col = std::stoi(res.get(i, 3));
            f.message = res.get(i, 4);
            f.object = res.get_opt(i, 5);
            if (!res.is_null(i, 6)) f.rows = std::stoll(res.get(i, 6));
            if (!res.is_null(i, 7)) f.bytes = std::stoll(res.get(i, 7));
            f.waived = res.get(i, 8) == "t";
            findings.push_back(std::move(f));
        }
    }
    tx.rollback();

    long blocking = 0, errors = 0, warnings = 0, advice = 0, waived = 0;
    for (const auto& f : findings) {
        if (f.waived) {
            ++waived;
            continue;
        }
        if (f.severity == "error") ++errors;
        if (f.severity == "warning") ++warnings;
        if (f.severity == "advice") ++advice;
        if (severity_rank(f.severity) >= threshold) ++blocking;
    }
    if (options.json) {
        nlohmann::json out;
        out["ok"] = blocking == 0;
        out["threshold"] = options.threshold;
        out["scripts"] = scripts.size();
        out["linted"] = note;
        out["findings"] = nlohmann::json::array();
        for (const auto& f : findings) {
            out["findings"].push_back({{"file", f.file},
                                       {"script", f.part},
                                       {"line", f.line},
                                       {"col", f.col},
                                       {"severity", f.severity},
                                       {"rule", f.rule},
                                       {"message", f.message},
                                       {"object", f.object ? nlohmann::json(*f.object) : nlohmann::json(nullptr)},
                                       {"table_rows", f.rows ? nlohmann::json(*f.rows) : nlohmann::json(nullptr)},
                                       {"table_bytes", f.bytes ? nlohmann::json(*f.bytes) : nlohmann::json(nullptr)},
                                       {"waived", f.waived}});
        }
        print_json_document(out);
    } else {
        for (const auto& f : findings) {
            fmt::print("{}:{}:{}: {} [{}]{} {}{}\n", f.file, f.line, f.col, f.severity, f.rule,
                       f.waived ? " (waived)" : "", f.message, size_text(f));
        }
        fmt::print("{} of {} linted against {} ({}): {}, {}, {} advice, {} waived\n", counted(scripts.size(), "script"),
                   source, conn.target(), note, counted(errors, "error"), counted(warnings, "warning"), advice, waived);
    }
    if (blocking > 0) {
        std::fflush(stdout);
        std::fprintf(stderr,
                     "pgmig: error: lint found %s at or above %s, in %s; fix them the way each message says, "
                     "or waive a reviewed one with -- pgmig:allow RULE before its statement\n",
                     counted(blocking, "finding").c_str(), options.threshold.c_str(), source.c_str());
        return exit_code(ErrorKind::lint_failed);
    }
    return kExitOk;
}

}  // namespace pgmig::client
