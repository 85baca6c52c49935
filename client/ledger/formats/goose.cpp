// goose folders (pressly/goose): <version>_<name>.sql with -- +goose Up / Down annotations, read as goose's
// own parser reads them (internal/sqlparser) and ordered by the version goose stores in
// goose_db_version.version_id.
#include "client/ledger/formats/comment_readers.hpp"
#include "client/ledger/formats/support.hpp"

#include <charconv>
#include <cstdint>

namespace pgmig::client::formats {

namespace {

enum class Annotation { up, down, statement_begin, statement_end, no_transaction, envsub_on, envsub_off };

constexpr const char* kGooseAdvice =
    "goose annotations are -- +goose Up, Down, StatementBegin, StatementEnd, "
    "NO TRANSACTION (see docs/adopting.md)";

// goose's rule: a line whose trimmed text starts with "--" and holds "+goose" is an annotation.
bool is_annotation_line(std::string_view line) {
    return trim(line).starts_with("--") && line.find("+goose") != std::string_view::npos;
}

// The annotation of such a line as goose's extractAnnotation reads it; nullopt with `problem` set when
// goose would refuse it too.
std::optional<Annotation> parse_annotation(std::string_view line, std::string& problem) {
    if (!line.empty() && (line.front() == ' ' || line.front() == '\t')) {
        problem = "a goose annotation must start the line (goose refuses leading whitespace)";
        return std::nullopt;
    }
    std::string cmd;
    for (std::size_t i = 0; i < line.size(); ++i) {  // every "--" goes, then the first "+goose"
        if (line[i] == '-' && i + 1 < line.size() && line[i + 1] == '-') {
            ++i;
            continue;
        }
        cmd += line[i];
    }
    if (const std::size_t at = cmd.find("+goose"); at != std::string::npos) cmd.erase(at, 6);
    if (cmd.find("+goose") != std::string::npos) {
        problem = "two +goose annotations on one line";
        return std::nullopt;
    }
    const std::string word = to_lower(trim(cmd));
    if (word == "up") return Annotation::up;
    if (word == "down") return Annotation::down;
    if (word == "statementbegin") return Annotation::statement_begin;
    if (word == "statementend") return Annotation::statement_end;
    if (word == "no transaction") return Annotation::no_transaction;
    if (word == "envsub on") return Annotation::envsub_on;
    if (word == "envsub off") return Annotation::envsub_off;
    problem = word.empty() ? "an empty +goose annotation" : "unknown annotation +goose " + std::string(trim(cmd));
    return std::nullopt;
}

// "<digits>_..." -> the version goose parses (strconv.ParseInt, greater than zero).
std::optional<std::int64_t> numeric_component(std::string_view file_name) {
    const std::size_t underscore = file_name.find('_');
    if (underscore == std::string_view::npos) return std::nullopt;
    const std::string_view digits = file_name.substr(0, underscore);
    if (!is_digits(digits)) return std::nullopt;
    std::int64_t v = 0;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
    if (ec != std::errc() || end != digits.data() + digits.size() || v < 1) return std::nullopt;
    return v;
}

bool detect(const std::filesystem::path& dir) {
    for (const auto& path : files_in(dir, ".sql")) {
        if (!numeric_component(path.filename().string())) continue;
        const std::string head = read_head(path);
        for (const Line& l : split_lines(head)) {
            std::string problem;
            if (is_annotation_line(l.text) && parse_annotation(l.text, problem) == Annotation::up) return true;
        }
    }
    return false;
}

std::vector<MigrationFile> load(const std::filesystem::path& dir) {
    std::vector<MigrationFile> out;
    for (const auto& path : files_in(dir, ".go")) {
        const std::string name = path.filename().string();
        if (!name.ends_with("_test.go") && numeric_component(name)) {
            throw MigrationFileError(path.string(), "a goose Go migration: pgmig runs SQL migrations only",
                                     "write it as a .sql migration with the same version, or keep it with goose");
        }
    }
    for (const auto& path : files_in(dir, ".sql")) {
        out.push_back(parse_goose_file(path, read_checked(path)));
    }
    return out;  // load_migration_dir orders them by version, which is goose's order
}

}  // namespace

MigrationFile parse_goose_file(const std::filesystem::path& path, std::string_view content) {
    MigrationFile m;
    m.path = path;
    m.file_name = path.filename().string();
    check_file_bytes(path.string(), content);
    const auto version = numeric_component(m.file_name);
    if (!version) {
        throw MigrationFileError(path.string(),
                                 "not a goose migration name: goose needs <version>_<name>.sql with a version "
                                 "greater than zero",
                                 "rename it like 00001_create_users.sql, or move it out of the folder");
    }
    m.version = std::to_string(*version);
    m.tool_id = m.version;  // goose_db_version.version_id
    const std::string stem = m.file_name.substr(0, m.file_name.size() - 4);
    m.name = safe_name(stem.substr(stem.find('_') + 1));

    const std::vector<Line> lines = split_lines(content);
    refuse_pgmig_sections(path, lines, "goose", "-- +goose Up");
    enum class State { start, up, up_block, down, down_block } state = State::start;
    bool transactional = true;
    std::size_t up_begin = 0, up_end = lines.size(), down_begin = lines.size();
    bool has_down = false;
    int block_line = 0;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        const Line& l = lines[i];
        if (is_annotation_line(l.text)) {
            std::string problem;
            const auto a = parse_annotation(l.text, problem);
            if (!a) throw error_at(path, l.number, problem, kGooseAdvice);
            switch (*a) {
                case Annotation::up:
                    if (state != State::start) {
                        throw error_at(path, l.number, "a second -- +goose Up", "keep one Up and at most one Down");
                    }
                    state = State::up;
                    up_begin = i + 1;
                    m.up_first_line = l.number + 1;
                    break;
                case Annotation::down:
                    if (state == State::start) {
                        throw error_at(path, l.number, "-- +goose Down before -- +goose Up",
                                       "put the Up section first");
                    }
                    if (state == State::up_block || state == State::down_block) {
                        throw error_at(
                            path, l.number,
                            "-- +goose Down inside the StatementBegin block of line " + std::to_string(block_line),
                            "close the block with -- +goose StatementEnd first");
                    }
                    if (state == State::down) {
                        throw error_at(path, l.number, "a second -- +goose Down", "keep one Up and at most one Down");
                    }
                    state = State::down;
                    up_end = i;
                    down_begin = i + 1;
                    has_down = true;
                    break;
                case Annotation::statement_begin:
                    if (state == State::start) {
                        throw error_at(path, l.number, "-- +goose StatementBegin before -- +goose Up",
                                       "put it inside the Up or Down section");
                    }
                    if (state == State::up_block || state == State::down_block) {
                        throw error_at(
                            path, l.number,
                            "-- +goose StatementBegin inside the block of line " + std::to_string(block_line),
                            "close that block with -- +goose StatementEnd first");
                    }
                    state = state == State::up ? State::up_block : State::down_block;
                    block_line = l.number;
                    break;
                case Annotation::statement_end:
                    if (state != State::up_block && state != State::down_block) {
                        throw error_at(path, l.number, "-- +goose StatementEnd without a StatementBegin",
                                       "add -- +goose StatementBegin before the statement, or remove this line");
                    }
                    state = state == State::up_block ? State::up : State::down;
                    break;
                case Annotation::no_transaction:
                    transactional = false;
                    break;
                case Annotation::envsub_on:
                    throw error_at(path, l.number,
                                   "-- +goose ENVSUB ON: pgmig does not substitute environment variables into "
                                   "migrations (their checksum would change with the environment)",
                                   "put the values in the SQL, or keep this migration with goose");
                case Annotation::envsub_off:
                    break;  // the default
            }
            continue;
        }
        if (state == State::start && !is_blank_or_comment(l.text)) {
            throw error_at(path, l.number, "SQL before -- +goose Up", "put the statements after -- +goose Up");
        }
    }
    if (state == State::start) {
        throw MigrationFileError(path.string(), "no -- +goose Up annotation",
                                 "start the migration's SQL with a -- +goose Up line");
    }
    if (state == State::up_block || state == State::down_block) {
        throw error_at(path, block_line, "-- +goose StatementBegin without a StatementEnd",
                       "add -- +goose StatementEnd after the statement");
    }
    // The annotation lines stay in the scripts as the comments they are (StatementBegin/End only tell goose
    // where a statement holding semicolons ends; pgmig splits statements with PostgreSQL's parser), so that
    // line numbers in messages are the file's.
    m.up_sql = slice(content, lines, up_begin, up_end);
    if (has_down) m.down_sql = slice(content, lines, down_begin, lines.size());
    down_or_noop(m, "goose");  // goose rolls back a migration without statements in its Down by running nothing
    m.directives = pgmig_directives(lines, up_begin, up_end);
    set_options(m, transactional);
    return m;
}

FolderReader goose_reader() { return {FolderFormat::goose, detect, load}; }

}  // namespace pgmig::client::formats
