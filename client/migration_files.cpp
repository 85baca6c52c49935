// The migration file grammar (see migration_files.hpp) and the folder rules.
#include "client/migration_files.hpp"

#include "common/version.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <system_error>

namespace pgmig::client {

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v'; }

std::string_view trim(std::string_view s) {
    while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
    return s;
}

bool is_name_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

// "-- pgmig:key value" -> key, value. The caller has checked it is a comment line.
bool parse_directive(std::string_view line, std::string& key, std::string& value) {
    std::string_view s = trim(line);
    if (!s.starts_with("--")) return false;
    s = trim(s.substr(2));
    if (!s.starts_with("pgmig:")) return false;
    s.remove_prefix(6);
    std::size_t end = 0;
    while (end < s.size() && !is_space(s[end])) ++end;
    key = std::string(s.substr(0, end));
    value = std::string(trim(s.substr(end)));
    return true;
}

// A section is empty when it holds nothing but whitespace and `--` comment lines: it would run nothing.
bool has_statements(std::string_view text) {
    std::size_t pos = 0;
    while (pos < text.size()) {
        std::size_t nl = text.find('\n', pos);
        if (nl == std::string_view::npos) nl = text.size();
        std::string_view line = trim(text.substr(pos, nl - pos));
        if (!line.empty() && !line.starts_with("--")) return true;
        pos = nl + 1;
    }
    return false;
}

}  // namespace

bool is_section_marker(std::string_view line, std::string& section) {
    std::string_view s = trim(line);  // ^\s* ... \s*$ (trim also removes the CR of a CRLF line)
    if (!s.starts_with("--")) return false;
    s.remove_prefix(2);
    while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
    if (s == "pgmig:up") {
        section = "up";
        return true;
    }
    if (s == "pgmig:down") {
        section = "down";
        return true;
    }
    return false;
}

void parse_file_name(std::string_view file_name, std::string& version, std::string& name) {
    const std::string file(file_name);
    const std::string expected = "name it <version>_<name>.sql, e.g. 2_add_orders.sql";
    if (!file_name.ends_with(".sql")) throw MigrationFileError(file, "not a .sql file");
    std::string_view stem = file_name.substr(0, file_name.size() - 4);
    const std::size_t underscore = stem.find('_');
    if (underscore == std::string_view::npos) {
        throw MigrationFileError(file, "the file name has no '_' between version and name", expected);
    }
    std::string_view v = stem.substr(0, underscore);
    std::string_view n = stem.substr(underscore + 1);
    if (auto problem = common::version_problem(v)) {
        throw MigrationFileError(file, "bad version '" + std::string(v) + "': " + *problem, expected);
    }
    if (n.empty()) throw MigrationFileError(file, "the name after the version is empty", expected);
    for (char c : n) {
        if (!is_name_char(c)) {
            throw MigrationFileError(
                file, "bad name '" + std::string(n) + "': only letters, digits, '_' and '-' are allowed", expected);
        }
    }
    version = std::string(v);
    name = std::string(n);
}

MigrationFile parse_migration_file(std::string_view file_name, std::string_view content) {
    MigrationFile m;
    m.file_name = std::string(file_name);
    m.path = m.file_name;
    parse_file_name(file_name, m.version, m.name);

    enum class Where { preamble, up, down } where = Where::preamble;
    bool in_block_comment = false;  // a /* ... */ comment in the preamble
    bool seen_down = false;
    int line_no = 0;
    std::string up;
    std::string down;
    std::size_t pos = 0;
    while (pos < content.size()) {
        std::size_t nl = content.find('\n', pos);
        const std::size_t end = nl == std::string_view::npos ? content.size() : nl + 1;
        std::string_view raw = content.substr(pos, end - pos);  // with its line ending
        pos = end;
        ++line_no;
        const std::string at_line = " (line " + std::to_string(line_no) + ")";

        std::string section;
        if (is_section_marker(raw, section)) {
            if (section == "up") {
                if (where != Where::preamble) {
                    throw MigrationFileError(m.file_name, "a second -- pgmig:up section" + at_line,
                                             "keep one up and at most one down section per file");
                }
                if (in_block_comment)
                    throw MigrationFileError(m.file_name, "unterminated /* comment before -- pgmig:up");
                where = Where::up;
            } else {
                if (where == Where::preamble) {
                    throw MigrationFileError(m.file_name, "-- pgmig:down" + at_line + " comes before -- pgmig:up");
                }
                if (seen_down) {
                    throw MigrationFileError(m.file_name, "a second -- pgmig:down section" + at_line,
                                             "keep one up and at most one down section per file");
                }
                seen_down = true;
                where = Where::down;
            }
            continue;
        }

        switch (where) {
            case Where::up:
                up.append(raw);
                break;
            case Where::down:
                down.append(raw);
                break;
            case Where::preamble: {
                std::string_view line = trim(raw);
                // Block comments may span lines; anything else but blank lines and comments is a mistake.
                while (!line.empty()) {
                    if (in_block_comment) {
                        const std::size_t close = line.find("*/");
                        if (close == std::string_view::npos) {
                            line = {};
                        } else {
                            in_block_comment = false;
                            line = trim(line.substr(close + 2));
                        }
                    } else if (line.starts_with("/*")) {
                        in_block_comment = true;
                        line.remove_prefix(2);
                    } else if (line.starts_with("--")) {
                        std::string key;
                        std::string value;
                        if (parse_directive(line, key, value)) m.directives.push_back({key, value, line_no});
                        line = {};
                    } else {
                        throw MigrationFileError(m.file_name, "statements before -- pgmig:up" + at_line,
                                                 "put the migration's SQL after the -- pgmig:up line");
                    }
                }
                break;
            }
        }
    }
    if (where == Where::preamble) {
        throw MigrationFileError(m.file_name, "no -- pgmig:up section",
                                 "start the migration's SQL with a -- pgmig:up line");
    }
    if (!has_statements(up))
        throw MigrationFileError(m.file_name, "the -- pgmig:up section is empty", "put the migration's SQL in it");
    m.up_sql = std::move(up);
    if (seen_down) m.down_sql = std::move(down);
    return m;
}

std::vector<MigrationFile> load_migration_dir(const std::filesystem::path& dir) {
    namespace fs = std::filesystem;
    std::error_code ec;
    const std::string dir_text = dir.string();
    if (!fs::exists(dir, ec)) throw MigrationFileError(dir_text, "no such folder", "create it or pass --dir FOLDER");
    if (!fs::is_directory(dir, ec)) throw MigrationFileError(dir_text, "not a folder");

    std::vector<fs::path> files;
    fs::directory_iterator it(dir, ec);
    if (ec) throw MigrationFileError(dir_text, "cannot read the folder: " + ec.message());
    for (const auto& entry : it) {
        const std::string file_name = entry.path().filename().string();
        if (!file_name.ends_with(".sql") || file_name.starts_with(".")) continue;
        std::error_code type_ec;
        if (!entry.is_regular_file(type_ec)) continue;  // subfolders (and anything odd) are not migrations
        files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());  // a stable order, so that the first error reported is predictable

    std::vector<MigrationFile> migrations;
    migrations.reserve(files.size());
    for (const auto& path : files) {
        std::ifstream in(path, std::ios::binary);
        if (!in) throw MigrationFileError(path.string(), "cannot open the file");
        std::ostringstream content;
        content << in.rdbuf();
        if (in.bad()) throw MigrationFileError(path.string(), "cannot read the file");
        try {
            MigrationFile m = parse_migration_file(path.filename().string(), content.str());
            m.path = path;
            migrations.push_back(std::move(m));
        } catch (const MigrationFileError& e) {
            throw MigrationFileError(path.string(), e.reason(), e.advice());
        }
    }

    std::vector<std::string> keys;
    std::vector<std::size_t> order(migrations.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    keys.reserve(migrations.size());
    for (const auto& m : migrations) keys.push_back(common::version_sort_key(m.version));
    std::stable_sort(order.begin(), order.end(), [&keys](std::size_t a, std::size_t b) { return keys[a] < keys[b]; });
    for (std::size_t i = 1; i < order.size(); ++i) {
        if (keys[order[i]] == keys[order[i - 1]]) {
            const MigrationFile& a = migrations[order[i - 1]];
            const MigrationFile& b = migrations[order[i]];
            throw MigrationFileError(b.path.string(),
                                     "version " + b.version + " is also used by " + a.path.string() + " (versions " +
                                         a.version + " and " + b.version + " are the same)",
                                     "give one of them another version");
        }
    }
    std::vector<MigrationFile> sorted;
    sorted.reserve(migrations.size());
    for (std::size_t i : order) sorted.push_back(std::move(migrations[i]));
    return sorted;
}

}  // namespace pgmig::client
