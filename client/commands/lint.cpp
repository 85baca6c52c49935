// pgmig lint: migration files through migrate_lint() on the database (the server's parser and catalog),
// findings as file:line:col, exit 14 when an unwaived finding is at or above the threshold.
#include "client/commands/commands.hpp"
#include "client/config.hpp"
#include "client/db.hpp"
#include "client/errors.hpp"
#include "client/json_output.hpp"
#include "client/migration_files.hpp"
#include "client/project.hpp"

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

void add_migration(std::vector<Script>& scripts, const MigrationFile& f, const std::string& content,
                   const std::optional<std::string>& down_content) {
    scripts.push_back({f.path.string(), "up", f.up_sql, f.up_first_line, lint_options(f)});
    if (f.has_down() && f.down_sql) {
        const std::string file = f.down_path ? f.down_path->string() : f.path.string();
        const std::string& text = f.down_path && down_content ? *down_content : content;
        nlohmann::json options = lint_options(f);
        options.erase("allow");  // the up script's waivers are about the up script
        scripts.push_back({file, "down", *f.down_sql, line_of(text, *f.down_sql), options});
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
                scripts.push_back({p, kind ? "down" : "file", content, 1, nlohmann::json::object()});
                continue;
            }
            MigrationFile f = parse_migration_file(name, content);
            f.path = path;
            add_migration(scripts, f, content, std::nullopt);
        } catch (const MigrationFileError& e) {
            throw Error(e.problem() == FileProblem::bad_bytes ? ErrorKind::bad_bytes : ErrorKind::input, e.reason(),
                        "in " + p, (e.advice().empty() ? std::string("fix it") : e.advice()) + "; nothing was linted");
        }
    }
    return scripts;
}

std::vector<Script> scripts_of_dir(const std::string& dir) {
    std::vector<Script> scripts;
    for (const MigrationFile& f : load_files(dir, "nothing was linted")) {
        const std::string content = read_file(f.path);
        std::optional<std::string> down_content;
        if (f.down_path) down_content = read_file(*f.down_path);
        add_migration(scripts, f, content, down_content);
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
    std::vector<Script> scripts;
    if (options.files.empty()) {
        source = resolve_migrations_dir(options.dir);
        scripts = scripts_of_dir(source);
    } else {
        source = fmt::format("{} file{}", options.files.size(), options.files.size() == 1 ? "" : "s");
        scripts = scripts_of_files(options.files);
    }

    Connection conn = Connection::open(global.dbname);
    require_extension(conn);
    Transaction tx(conn, Transaction::Mode::read_only);  // lint changes nothing
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
        fmt::print("{} scripts of {} linted against {}: {} errors, {} warnings, {} advice, {} waived\n", scripts.size(),
                   source, conn.target(), errors, warnings, advice, waived);
    }
    if (blocking > 0) {
        std::fflush(stdout);
        std::fprintf(stderr,
                     "pgmig: error: lint found %ld findings at or above %s, in %s; fix them the way each message says, "
                     "or waive a reviewed one with -- pgmig:allow RULE before its statement\n",
                     blocking, options.threshold.c_str(), source.c_str());
        return exit_code(ErrorKind::lint_failed);
    }
    return kExitOk;
}

}  // namespace pgmig::client
