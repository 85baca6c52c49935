// The migration file grammar (see migration_files.hpp): file names, sections, directives and the folder rules.
#include "client/ledger/migration_files.hpp"

#include "client/ledger/formats/formats.hpp"
#include "client/ledger/formats/support.hpp"
#include "client/core/text_bytes.hpp"

#include "common/lint_rules.hpp"
#include "common/version.hpp"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <map>
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

// Calls f(line_without_ending, line_number) for every line of text.
template <typename F>
void for_each_line(std::string_view text, F&& f) {
    std::size_t pos = 0;
    int line_no = 0;
    while (pos < text.size()) {
        std::size_t nl = text.find('\n', pos);
        const std::size_t end = nl == std::string_view::npos ? text.size() : nl + 1;
        f(text.substr(pos, end - pos), ++line_no);
        pos = end;
    }
}

bool is_ident_start(unsigned char c) { return std::isalpha(c) != 0 || c == '_' || c >= 0x80; }
bool is_ident_cont(unsigned char c) { return is_ident_start(c) || std::isdigit(c) != 0 || c == '$'; }

// Follows PostgreSQL's lexical rules line by line, far enough to tell whether a line begins in code or
// inside a quoted string ('...', E'...'), a quoted identifier ("..."), a dollar quote ($tag$...$tag$) or a
// block comment (/* ... */, nested): only lines that begin in code can be section markers or directives.
// (standard_conforming_strings is assumed on, PostgreSQL's default: a backslash escapes only in E'...'.)
class LineLexer {
  public:
    // Where the next line begins: true in code.
    bool in_code() const { return state_ == State::code; }
    // What the next line begins inside, for messages ("a quoted string"...), and the line that opened it.
    const char* inside() const {
        switch (state_) {
            case State::code:
                return "code";
            case State::quote:
                return "a quoted string";
            case State::ident:
                return "a quoted identifier";
            case State::dollar:
                return "a dollar-quoted string";
            case State::comment:
                return "a /* comment";
        }
        return "code";
    }
    int opened_at() const { return opened_at_; }

    void feed(std::string_view line, int line_no) {
        std::size_t i = 0;
        const std::size_t n = line.size();
        const auto at = [&](std::size_t k) {
            return k < n ? static_cast<unsigned char>(line[k]) : static_cast<unsigned char>(0);
        };
        while (i < n) {
            switch (state_) {
                case State::code: {
                    const unsigned char c = at(i);
                    if (c == '-' && at(i + 1) == '-') return;  // a comment to the end of the line
                    if (c == '/' && at(i + 1) == '*') {
                        open(State::comment, line_no);
                        depth_ = 1;
                        i += 2;
                    } else if (c == '\'') {
                        // E'...' when the E is a token of its own (not the end of an identifier).
                        escapes_ = ident_length_ == 1 && i > 0 && (at(i - 1) == 'E' || at(i - 1) == 'e');
                        open(State::quote, line_no);
                        ++i;
                    } else if (c == '"') {
                        open(State::ident, line_no);
                        ++i;
                    } else if (c == '$' && ident_length_ == 0 && dollar_tag(line, i)) {
                        open(State::dollar, line_no);
                        i += tag_.size();
                    } else if (ident_length_ > 0 ? is_ident_cont(c) : is_ident_start(c)) {
                        ++ident_length_;
                        ++i;
                        continue;
                    } else {
                        ++i;
                    }
                    ident_length_ = 0;
                    break;
                }
                case State::quote: {
                    const unsigned char c = at(i);
                    if (escapes_ && c == '\\') {
                        i += 2;
                    } else if (c == '\'') {
                        if (at(i + 1) == '\'') {
                            i += 2;  // '' is a quote inside the string
                        } else {
                            state_ = State::code;
                            ++i;
                        }
                    } else {
                        ++i;
                    }
                    break;
                }
                case State::ident:
                    if (at(i) == '"') {
                        if (at(i + 1) == '"') {
                            i += 2;
                        } else {
                            state_ = State::code;
                            ++i;
                        }
                    } else {
                        ++i;
                    }
                    break;
                case State::dollar:
                    if (at(i) == '$' && line.substr(i, tag_.size()) == tag_) {
                        i += tag_.size();
                        state_ = State::code;
                    } else {
                        ++i;
                    }
                    break;
                case State::comment:
                    if (at(i) == '/' && at(i + 1) == '*') {
                        ++depth_;
                        i += 2;
                    } else if (at(i) == '*' && at(i + 1) == '/') {
                        i += 2;
                        if (--depth_ == 0) state_ = State::code;
                    } else {
                        ++i;
                    }
                    break;
            }
        }
        ident_length_ = 0;  // a token never continues on the next line
    }

  private:
    enum class State { code, quote, ident, dollar, comment };

    void open(State state, int line_no) {
        state_ = state;
        opened_at_ = line_no;
    }

    // $$ or $tag$ at line[i]: sets tag_.
    bool dollar_tag(std::string_view line, std::size_t i) {
        std::size_t k = i + 1;
        if (k < line.size() && is_ident_start(static_cast<unsigned char>(line[k])) && line[k] != '$') {
            ++k;
            while (k < line.size() && line[k] != '$' && is_ident_cont(static_cast<unsigned char>(line[k]))) ++k;
        }
        if (k >= line.size() || line[k] != '$') return false;
        tag_ = std::string(line.substr(i, k + 1 - i));
        return true;
    }

    State state_ = State::code;
    bool escapes_ = false;
    int depth_ = 0;
    int opened_at_ = 0;
    std::size_t ident_length_ = 0;  // characters of the identifier or keyword being read, in code
    std::string tag_;
};

// Calls f(line_without_ending, line_number, begins_in_code) for every line of text. A line that looks
// like a marker or a directive but begins inside an unterminated quote or comment is refused at the end:
// the file cannot be read the way its author meant (e.g. a missing closing quote swallowed -- pgmig:down).
template <typename F>
void for_each_code_line(const std::string& file, std::string_view text, F&& f) {
    LineLexer lexer;
    int swallowed = 0;  // the first line that looked like a marker or directive inside a quote or comment
    for_each_line(text, [&](std::string_view raw, int line_no) {
        const bool code = lexer.in_code();
        std::string key;
        std::string value;
        // The first such line inside the construct that is open now (an earlier one may have been closed).
        if (!code && (swallowed == 0 || swallowed < lexer.opened_at()) && parse_directive(raw, key, value)) {
            swallowed = line_no;
        }
        f(raw, line_no, code);
        lexer.feed(raw, line_no);
    });
    if (!lexer.in_code() && swallowed > 0 && swallowed > lexer.opened_at()) {
        throw MigrationFileError(file,
                                 "line " + std::to_string(swallowed) + " looks like a -- pgmig: line, but is inside " +
                                     lexer.inside() + " that begins at line " + std::to_string(lexer.opened_at()) +
                                     " and is never closed",
                                 "close it before that line", FileProblem::grammar, swallowed);
    }
}

const char* const kSectionsAdvice = "name it <version>_<name>.sql, e.g. 2_add_orders.sql";

void check_name(const std::string& file, std::string_view n, const std::string& advice) {
    if (n.empty()) throw MigrationFileError(file, "the name after the version is empty", advice);
    if (!is_valid_name(n)) {
        throw MigrationFileError(
            file, "bad name '" + std::string(n) + "': only letters, digits, '_' and '-' are allowed", advice);
    }
}

// Flyway: V1__x, V1_1__x (version 1.1), V1.1__x, U..., R__x.
FileName classify_flyway(const std::string& file, std::string_view stem) {
    const std::string advice = "Flyway names are V<version>__<name>.sql, U<version>__<name>.sql or R__<name>.sql";
    FileName f;
    f.format = FileFormat::flyway;
    const char prefix = stem.front();
    const std::size_t sep = stem.find("__");
    std::string_view v = stem.substr(1, sep - 1);
    std::string_view n = stem.substr(sep + 2);
    if (prefix == 'R') {
        if (!v.empty()) throw MigrationFileError(file, "a repeatable migration has no version", advice);
        f.kind = MigrationKind::repeatable;
    } else {
        std::string version(v);
        std::replace(version.begin(), version.end(), '_', '.');
        if (auto problem = common::version_problem(version)) {
            throw MigrationFileError(file, "bad version '" + std::string(v) + "': " + *problem, advice);
        }
        f.version = version;
        f.down = prefix == 'U';
    }
    check_name(file, n, advice);
    f.name = std::string(n);
    return f;
}

void append_directive(std::vector<Directive>& out, std::string_view raw, int line_no) {
    std::string key;
    std::string value;
    std::string section;
    if (!is_section_marker(raw, section) && parse_directive(raw, key, value)) out.push_back({key, value, line_no});
}

// The rules of `-- pgmig:allow`, read and checked as the extension's lint reads a waiver (docs/reference.md,
// Waivers): known rule ids separated by commas or blanks, a further "--" starts a free reason.
std::vector<std::string> allow_rules(const std::string& file, const Directive& d) {
    try {
        return common::waiver_list(d.value, "-- pgmig:allow at line " + std::to_string(d.line));
    } catch (const common::InvalidWaiver& e) {
        throw MigrationFileError(file, e.message(), e.detail() + "; " + e.hint(), FileProblem::grammar, d.line);
    }
}

// A down-only file must not carry directives: they describe the migration, so they belong with its up script.
// Waivers (-- pgmig:allow) are the exception: the lint of the down script reads them there.
void refuse_directives(const std::string& file, std::string_view content) {
    for_each_code_line(file, content, [&](std::string_view raw, int line_no, bool code) {
        std::string key;
        std::string value;
        if (!code || !parse_directive(raw, key, value)) return;
        if (key == "allow") {
            allow_rules(file, {key, value, line_no});  // the down script's lint reads it: checked the same way
            return;
        }
        throw MigrationFileError(
            file, "directive -- pgmig:" + key + " in a down script (line " + std::to_string(line_no) + ")",
            "put directives in the up script");
    });
}

std::vector<std::string> comma_list(const std::string& file, const Directive& d) {
    if (d.key == "allow") return allow_rules(file, d);
    std::vector<std::string> items;
    std::string_view rest = d.value;
    while (true) {
        const std::size_t comma = rest.find(',');
        std::string_view item = trim(rest.substr(0, comma));
        if (item.empty() || item.find_first_of(" \t") != std::string_view::npos) {
            throw MigrationFileError(file,
                                     "-- pgmig:" + d.key + " (line " + std::to_string(d.line) +
                                         ") needs a comma-separated list without blanks or spaces",
                                     "e.g. -- pgmig:" + d.key + (d.key == "allow" ? " drop-table" : " ISSUE-12"));
        }
        items.emplace_back(item);
        if (comma == std::string_view::npos) break;
        rest = rest.substr(comma + 1);
    }
    return items;
}

}  // namespace

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

std::string read_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw MigrationFileError(path.string(), "cannot open the file");
    std::ostringstream content;
    content << in.rdbuf();
    if (in.bad()) throw MigrationFileError(path.string(), "cannot read the file");
    return content.str();
}

namespace {

constexpr std::pair<FolderFormat, std::string_view> kFolderFormatNames[] = {
    {FolderFormat::pgmig, "pgmig"},
    {FolderFormat::goose, "goose"},
    {FolderFormat::dbmate, "dbmate"},
    {FolderFormat::sql_migrate, "sql-migrate"},
    {FolderFormat::node_pg_migrate, "node-pg-migrate"},
    {FolderFormat::diesel, "diesel"},
    {FolderFormat::prisma, "prisma"},
    {FolderFormat::drizzle, "drizzle"},
    {FolderFormat::popx, "popx"},
    {FolderFormat::liquibase, "liquibase"},
    {FolderFormat::sqitch, "sqitch"},
};

}  // namespace

std::string_view folder_format_name(FolderFormat format) {
    for (const auto& [f, name] : kFolderFormatNames) {
        if (f == format) return name;
    }
    return "pgmig";
}

std::optional<FolderFormat> folder_format_named(std::string_view name) {
    for (const auto& [f, n] : kFolderFormatNames) {
        if (n == name) return f;
    }
    return std::nullopt;
}

std::string folder_format_names() {
    std::string out;
    for (const auto& [f, n] : kFolderFormatNames) out += (out.empty() ? "" : ", ") + std::string(n);
    return out;
}

bool MigrationFile::has_down() const { return down_sql && has_statements(*down_sql); }

bool is_valid_name(std::string_view name) {
    return !name.empty() && std::all_of(name.begin(), name.end(), is_name_char);
}

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
    if (!file_name.ends_with(".sql")) throw MigrationFileError(file, "not a .sql file");
    std::string_view stem = file_name.substr(0, file_name.size() - 4);
    const std::size_t underscore = stem.find('_');
    if (underscore == std::string_view::npos) {
        throw MigrationFileError(file, "the file name has no '_' between version and name", kSectionsAdvice);
    }
    std::string_view v = stem.substr(0, underscore);
    std::string_view n = stem.substr(underscore + 1);
    if (auto problem = common::version_problem(v)) {
        throw MigrationFileError(file, "bad version '" + std::string(v) + "': " + *problem, kSectionsAdvice);
    }
    check_name(file, n, kSectionsAdvice);
    version = std::string(v);
    name = std::string(n);
}

FileName classify_file_name(std::string_view file_name) {
    const std::string file(file_name);
    if (!file_name.ends_with(".sql")) throw MigrationFileError(file, "not a .sql file");
    const std::string_view stem = file_name.substr(0, file_name.size() - 4);
    const bool flyway_prefix = !stem.empty() && (stem.front() == 'V' || stem.front() == 'U' || stem.front() == 'R');
    if (flyway_prefix && stem.find("__") != std::string_view::npos) return classify_flyway(file, stem);

    FileName f;
    std::string plain = file;
    if (stem.ends_with(".up") || stem.ends_with(".down")) {
        f.format = FileFormat::up_down;
        f.down = stem.ends_with(".down");
        plain = std::string(stem.substr(0, stem.rfind('.'))) + ".sql";
    }
    try {
        parse_file_name(plain, f.version, f.name);
    } catch (const MigrationFileError& e) {
        std::string advice = e.advice();
        if (flyway_prefix) advice += ", or V<version>__<name>.sql (two underscores) for Flyway";
        throw MigrationFileError(file, e.reason(), advice);
    }
    return f;
}

nlohmann::json directive_options(const std::string& file, const std::vector<Directive>& directives) {
    nlohmann::json options = nlohmann::json::object();
    std::map<std::string, int> seen;  // single-valued directives -> the line that set them
    for (const auto& d : directives) {
        const std::string at = " (line " + std::to_string(d.line) + ")";
        auto once = [&](const char* json_key) {
            if (auto it = seen.find(d.key); it != seen.end()) {
                throw MigrationFileError(file, "-- pgmig:" + d.key + at + " repeats line " + std::to_string(it->second),
                                         "keep one");
            }
            seen[d.key] = d.line;
            (void)json_key;
        };
        auto needs_value = [&](const char* example) {
            if (d.value.empty()) {
                throw MigrationFileError(file, "-- pgmig:" + d.key + at + " needs a value",
                                         std::string("e.g. -- pgmig:") + d.key + " " + example);
            }
        };
        if (d.key == "no-transaction") {
            once("transactional");
            if (!d.value.empty()) {
                throw MigrationFileError(file, "-- pgmig:no-transaction" + at + " takes no value",
                                         "write it alone on its line");
            }
            options["transactional"] = false;
        } else if (d.key == "allow" || d.key == "refs") {
            nlohmann::json& list = options[d.key];
            if (list.is_null()) list = nlohmann::json::array();
            for (auto& item : comma_list(file, d)) list.push_back(std::move(item));
        } else if (d.key == "lock-timeout" || d.key == "statement-timeout") {
            once(d.key.c_str());
            needs_value("5s");
            // The server checks the value (ms, s or min) when the migration is registered.
            options[d.key == "lock-timeout" ? "lock_timeout" : "statement_timeout"] = d.value;
        } else if (d.key == "retries") {
            once("retries");
            needs_value("3");
            const bool digits = d.value.size() <= 3 && std::all_of(d.value.begin(), d.value.end(),
                                                                   [](char c) { return c >= '0' && c <= '9'; });
            const int n = digits ? std::stoi(d.value) : -1;
            if (n < 0 || n > 100) {
                throw MigrationFileError(
                    file, "-- pgmig:retries" + at + " needs a number from 0 to 100, not '" + d.value + "'");
            }
            options["retries"] = n;
        } else {
            throw MigrationFileError(file, "unknown directive -- pgmig:" + d.key + at,
                                     "known: no-transaction, allow RULE[,RULE], refs ID, lock-timeout 5s, "
                                     "statement-timeout 1min, retries N (and the up/down section markers)");
        }
    }
    return options;
}

void check_file_bytes(const std::string& file, std::string_view content) {
    if (const auto bad = find_bad_bytes(content)) {
        throw MigrationFileError(file, "the file holds " + describe(*bad), kBadBytesAdvice, FileProblem::bad_bytes,
                                 bad->line);
    }
}

MigrationFile parse_migration_file(std::string_view file_name, std::string_view content) {
    MigrationFile m;
    m.file_name = std::string(file_name);
    m.path = m.file_name;
    check_file_bytes(m.file_name, content);
    const FileName fn = classify_file_name(file_name);
    if (fn.down) {
        throw MigrationFileError(m.file_name, "a down script without its up script",
                                 "load the folder, which pairs them");
    }
    m.format = fn.format;
    m.kind = fn.kind;
    m.version = fn.version;
    m.name = fn.name;

    if (m.format != FileFormat::sections) {
        // The whole file is the up script; directives may stand on any comment line of it.
        for_each_code_line(m.file_name, content, [&](std::string_view raw, int line_no, bool code) {
            if (!code) return;  // inside a quoted string, identifier, dollar quote or comment
            std::string section;
            if (is_section_marker(raw, section)) {
                throw MigrationFileError(m.file_name,
                                         "-- pgmig:" + section + " marker (line " + std::to_string(line_no) +
                                             ") in a file that is all up script",
                                         "remove it (this format keeps the down script in its own file)");
            }
            append_directive(m.directives, raw, line_no);
        });
        m.up_sql = std::string(content);
        if (m.repeatable()) m.options["repeatable"] = true;
        nlohmann::json from_directives = directive_options(m.file_name, m.directives);
        m.options.update(from_directives);
        return m;
    }

    enum class Where { preamble, up, down } where = Where::preamble;
    bool in_block_comment = false;  // a /* ... */ comment in the preamble
    bool seen_down = false;
    std::string up;
    std::string down;
    for_each_code_line(m.file_name, content, [&](std::string_view raw, int line_no, bool code) {
        const std::string at_line = " (line " + std::to_string(line_no) + ")";
        std::string section;
        // Markers and directives only on lines that begin in code (not inside a quote or comment).
        if (code && is_section_marker(raw, section)) {
            if (section == "up") {
                if (where != Where::preamble) {
                    throw MigrationFileError(m.file_name, "a second -- pgmig:up section" + at_line,
                                             "keep one up and at most one down section per file");
                }
                if (in_block_comment)
                    throw MigrationFileError(m.file_name, "unterminated /* comment before -- pgmig:up");
                where = Where::up;
                m.up_first_line = line_no + 1;
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
            return;
        }

        switch (where) {
            case Where::up:
                if (code) append_directive(m.directives, raw, line_no);
                up.append(raw);
                break;
            case Where::down: {
                std::string key;
                std::string value;
                // A waiver is read by the lint of the script it is in: the down script may have its own.
                if (code && parse_directive(raw, key, value)) {
                    if (key != "allow") {
                        throw MigrationFileError(m.file_name,
                                                 "directive -- pgmig:" + key + at_line + " in the down section",
                                                 "put directives before -- pgmig:up or in the up section");
                    }
                    allow_rules(m.file_name, {key, value, line_no});
                }
                down.append(raw);
                break;
            }
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
                        append_directive(m.directives, line, line_no);
                        line = {};
                    } else {
                        throw MigrationFileError(m.file_name, "statements before -- pgmig:up" + at_line,
                                                 "put the migration's SQL after the -- pgmig:up line");
                    }
                }
                break;
            }
        }
    });
    if (where == Where::preamble) {
        throw MigrationFileError(m.file_name, "no -- pgmig:up section",
                                 "start the migration's SQL with a -- pgmig:up line");
    }
    // An up section without a statement is a no-op migration (a placeholder for another SQL dialect, say).
    m.up_sql = std::move(up);
    if (seen_down) m.down_sql = std::move(down);
    m.options = directive_options(m.file_name, m.directives);
    return m;
}

void order_and_check(std::vector<MigrationFile>& migrations) {
    // Versioned first in version order, then repeatable ones by name; equal versions are a mistake.
    for (const MigrationFile& m : migrations) {
        if (m.repeatable()) continue;
        if (auto problem = common::version_problem(m.version)) {
            throw MigrationFileError(m.path.string(), "bad version '" + m.version + "': " + *problem,
                                     "a version is digits separated by dots");
        }
    }
    auto key = [](const MigrationFile& m) {
        return m.repeatable() ? std::string(1, '\xff') + m.name : common::version_sort_key(m.version);
    };
    std::stable_sort(migrations.begin(), migrations.end(),
                     [&key](const MigrationFile& a, const MigrationFile& b) { return key(a) < key(b); });
    for (std::size_t i = 1; i < migrations.size(); ++i) {
        const MigrationFile& a = migrations[i - 1];
        const MigrationFile& b = migrations[i];
        if (key(a) != key(b)) continue;
        if (b.repeatable()) {
            throw MigrationFileError(b.path.string(), "repeatable migration " + b.name + " is also " + a.path.string(),
                                     "give one of them another name");
        }
        throw MigrationFileError(b.path.string(),
                                 "version " + b.version + " is also used by " + a.path.string() + " (versions " +
                                     a.version + " and " + b.version + " are the same)",
                                 "give one of them another version");
    }
}

namespace {

void check_folder(const std::filesystem::path& dir) {
    std::error_code ec;
    const std::string dir_text = dir.string();
    if (!std::filesystem::exists(dir, ec)) {
        throw MigrationFileError(dir_text, "no such folder", "create it or pass --dir FOLDER");
    }
    if (!std::filesystem::is_directory(dir, ec)) throw MigrationFileError(dir_text, "not a folder");
}

// pgmig's own layout: sections, Flyway names and .up/.down pairs.
std::vector<MigrationFile> load_pgmig_dir(const std::filesystem::path& dir) {
    namespace fs = std::filesystem;
    std::error_code ec;
    const std::string dir_text = dir.string();

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
    struct Down {
        fs::path path;
        FileName name;
        std::string content;
    };
    std::vector<Down> downs;
    for (const auto& path : files) {
        const std::string file_name = path.filename().string();
        try {
            const FileName fn = classify_file_name(file_name);
            std::string content = read_file(path);
            if (fn.down) {
                check_file_bytes(file_name, content);
                refuse_directives(file_name, content);
                downs.push_back({path, fn, std::move(content)});
                continue;
            }
            MigrationFile m = parse_migration_file(file_name, content);
            m.path = path;
            migrations.push_back(std::move(m));
        } catch (const MigrationFileError& e) {
            throw e.in_file(path.string());
        }
    }

    order_and_check(migrations);

    // Pair each separate down script with the up script of its version and format.
    for (auto& d : downs) {
        const std::string d_key = common::version_sort_key(d.name.version);
        auto up = std::find_if(migrations.begin(), migrations.end(), [&](const MigrationFile& m) {
            return !m.repeatable() && common::version_sort_key(m.version) == d_key;
        });
        const char* expected =
            d.name.format == FileFormat::flyway ? "V<version>__<name>.sql" : "<version>_<name>.up.sql";
        if (up == migrations.end() || up->format != d.name.format) {
            throw MigrationFileError(d.path.string(),
                                     "a down script for version " + d.name.version + " without its up script",
                                     std::string("add the ") + expected + " file, or remove this one");
        }
        if (up->down_path) {
            throw MigrationFileError(
                d.path.string(),
                "a second down script for version " + d.name.version + " (also " + up->down_path->string() + ")",
                "keep one");
        }
        if (d.name.format == FileFormat::up_down && d.name.name != up->name) {
            throw MigrationFileError(d.path.string(), "its name differs from its up script " + up->path.string(),
                                     "name both <version>_<name>.up.sql / .down.sql with the same name");
        }
        up->down_path = d.path;
        up->down_sql = std::move(d.content);
    }
    return migrations;
}

}  // namespace

FolderFormat detect_folder_format(const std::filesystem::path& dir) {
    check_folder(dir);
    const formats::FolderScan scan;  // every reader looks at the same listing and heads
    std::vector<FolderFormat> found;
    for (const formats::FolderReader& reader : formats::folder_readers()) {
        if (reader.detect(dir)) found.push_back(reader.format);
    }
    if (found.size() > 1) {
        std::string names;
        for (FolderFormat f : found) names += (names.empty() ? "" : " and ") + std::string(folder_format_name(f));
        throw MigrationFileError(
            dir.string(), "its files fit the formats of " + names,
            "say which with format = \"...\" in pgmig.toml or --format (one of: " + folder_format_names() + ")");
    }
    return found.empty() ? FolderFormat::pgmig : found.front();
}

std::vector<MigrationFile> load_migration_dir(const std::filesystem::path& dir, std::optional<FolderFormat> format) {
    check_folder(dir);
    const FolderFormat chosen = format ? *format : detect_folder_format(dir);
    if (chosen == FolderFormat::pgmig) return load_pgmig_dir(dir);
    for (const formats::FolderReader& reader : formats::folder_readers()) {
        if (reader.format != chosen) continue;
        std::vector<MigrationFile> migrations = reader.load(dir);
        for (MigrationFile& m : migrations) {
            m.format = FileFormat::tool;
            m.folder_format = chosen;
        }
        // The reader gave versions in the tool's order: pgmig applies by version, so both orders agree.
        order_and_check(migrations);
        return migrations;
    }
    throw MigrationFileError(dir.string(),
                             "pgmig cannot read the " + std::string(folder_format_name(chosen)) + " format yet",
                             "choose another format with format = \"...\" in pgmig.toml or --format");
}

}  // namespace pgmig::client
