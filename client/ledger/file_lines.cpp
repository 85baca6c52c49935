// Lines of migration files in what the client prints (see file_lines.hpp).
#include "client/ledger/file_lines.hpp"

#include "client/core/config.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <functional>
#include <regex>

namespace pgmig::client {

namespace {

// 1-based line of `content` at which `part` starts, the last place it is (a down section follows its up
// section); 1 when it is not there.
int line_of(const std::string& content, const std::string& part) {
    const size_t at = part.empty() ? std::string::npos : content.rfind(part);
    if (at == std::string::npos) return 1;
    return 1 + static_cast<int>(std::count(content.begin(), content.begin() + static_cast<std::ptrdiff_t>(at), '\n'));
}

}  // namespace

int down_first_line(const MigrationFile& f) {
    if (!f.down_sql || f.down_path) return 1;
    try {
        return line_of(read_file(f.path), *f.down_sql);
    } catch (const MigrationFileError&) {
        return 1;
    }
}

std::string script_file(const MigrationFile& f, bool down) {
    return down && f.down_path ? f.down_path->string() : f.path.string();
}

int file_line(const MigrationFile& f, bool down, int script_line) {
    return (down ? down_first_line(f) : f.up_first_line) + script_line - 1;
}

const MigrationFile* migration_named(std::string_view text, const std::vector<MigrationFile>& files) {
    for (const MigrationFile& f : files) {
        const std::string label = f.repeatable() ? fmt::format("repeatable migration \"{}\"", f.name)
                                                 : fmt::format("migration {} \"{}\"", f.version, f.name);
        const size_t at = text.find(label);
        // "migration 3 ..." is not "repeatable migration ..." nor part of "migration 13 ...".
        if (at == std::string_view::npos) continue;
        if (!f.repeatable() && at >= 11 && text.substr(at - 11, 11) == "repeatable ") continue;
        if (at > 0 && text[at - 1] != ' ' && text[at - 1] != '\n' && text[at - 1] != '(' && text[at - 1] != ',') {
            continue;
        }
        return &f;
    }
    return nullptr;
}

namespace {

// Replaces every match of `re` in `text` by what `replace` makes of it.
std::string replace_all(const std::string& text, const std::regex& re,
                        const std::function<std::string(const std::smatch&)>& replace) {
    std::string out;
    auto from = text.cbegin();
    for (std::sregex_iterator it(text.begin(), text.end(), re), end; it != end; ++it) {
        out.append(from, (*it)[0].first);
        out += replace(*it);
        from = (*it)[0].second;
    }
    out.append(from, text.cend());
    return out;
}

// One line of text (no newline) about migration f.
std::string line_in_file_lines(const std::string& text, const MigrationFile& f, bool lint_block) {
    // "line 3 of the up script", "line 3, column 5 of its down script", "error at line 4 of the up script, in
    // the statement starting at line 3" (extension/runner.cpp, dry_run.cpp, nontx_guard.cpp).
    static const std::regex kOfScript(
        R"(line (\d+)(, column \d+)? of (?:the|its) (up|down) script(, in the statement starting at line (\d+))?)");
    // "has a syntax error in its up script at line 2, column 1".
    static const std::regex kInScript(R"(in its (up|down) script at line (\d+))");
    std::string out = replace_all(text, kOfScript, [&f](const std::smatch& m) {
        const bool down = m[3] == "down";
        std::string s = fmt::format("line {}{} of {} ({} script)", file_line(f, down, std::stoi(m[1])), m[2].str(),
                                    script_file(f, down), down ? "down" : "up");
        if (m[4].matched)
            s += fmt::format(", in the statement starting at line {}", file_line(f, down, std::stoi(m[5])));
        return s;
    });
    out = replace_all(out, kInScript, [&f](const std::smatch& m) {
        const bool down = m[1] == "down";
        return fmt::format("in its {} script at line {} of {}", m[1].str(), file_line(f, down, std::stoi(m[2])),
                           script_file(f, down));
    });
    if (lint_block) {
        // pgmig.lint_block (PM017) lints up scripts: "[drop-column] at line 2", "migration 2 "x", line 2: ...".
        static const std::regex kLint(R"((\] at line |", line )(\d+))");
        out = replace_all(out, kLint, [&f](const std::smatch& m) {
            return fmt::format("{}{} of {}", m[1].str(), file_line(f, false, std::stoi(m[2])), script_file(f, false));
        });
    }
    return out;
}

// Each line about the migration it names, else about `f`.
std::string lines_in_file_lines(const std::string& text, const MigrationFile* f,
                                const std::vector<MigrationFile>& files, bool lint_block) {
    std::string out;
    size_t from = 0;
    while (from <= text.size()) {
        const size_t nl = text.find('\n', from);
        const std::string line = text.substr(from, nl == std::string::npos ? std::string::npos : nl - from);
        const MigrationFile* named = migration_named(line, files);
        if (named == nullptr) named = f;
        out += named == nullptr ? line : line_in_file_lines(line, *named, lint_block);
        if (nl == std::string::npos) break;
        out += '\n';
        from = nl + 1;
    }
    return out;
}

}  // namespace

std::string in_file_lines(const std::string& text, const MigrationFile& f) {
    return lines_in_file_lines(text, &f, {}, false);
}

ServerError in_file_lines(const ServerError& e, const std::vector<MigrationFile>& files) {
    const MigrationFile* f = migration_named(e.message, files);
    const bool lint_block = e.sqlstate == "PM017";
    ServerError out = e;
    out.message = lines_in_file_lines(e.message, f, files, lint_block);
    out.detail = lines_in_file_lines(e.detail, f, files, lint_block);
    out.hint = lines_in_file_lines(e.hint, f, files, lint_block);
    return out;
}

void session_in_file_lines(nlohmann::json& session, const std::vector<MigrationFile>& files) {
    auto it = session.find("migration");
    if (it == session.end() || !it->is_object()) return;
    nlohmann::json& m = *it;
    if (!m.contains("line") || !m["line"].is_number_integer()) return;
    const std::string label = m.value("label", std::string());
    const MigrationFile* f = migration_named(label, files);
    if (f == nullptr) return;
    const bool down = m.value("direction", std::string("up")) == "down";
    m["script_line"] = m["line"];
    m["line"] = file_line(*f, down, m["line"].get<int>());
    m["file"] = script_file(*f, down);
}

std::vector<MigrationFile> project_files_quietly() {
    try {
        const std::filesystem::path dir = resolve_migrations_dir("");
        std::error_code ec;
        if (!std::filesystem::is_directory(dir, ec)) return {};
        return load_migration_dir(dir);
    } catch (...) {  // a missing or bad folder: the messages keep the script's lines
        return {};
    }
}

}  // namespace pgmig::client
