// sql-migrate folders (rubenv/sql-migrate): every *.sql file, with -- +migrate Up / Down commands (option
// notransaction) and StatementBegin / StatementEnd, read as sqlparse/sqlparse.go reads them and ordered as
// migrate.go's byId orders them. sql-migrate records the file name in gorp_migrations.id; the versions pgmig
// needs are made from it (docs/adopting.md).
#include "client/ledger/formats/comment_readers.hpp"
#include "client/ledger/formats/support.hpp"

#include <algorithm>
#include <charconv>
#include <cstdint>

namespace pgmig::client::formats {

namespace {

constexpr std::string_view kPrefix = "-- +migrate ";

// Above every int64 sql-migrate can parse: files whose names do not start with digits come after all others.
constexpr const char* kNonNumericBase = "9223372036854775808";

struct Command {
    std::string name;
    std::vector<std::string> options;
};

// A line sql-migrate takes as a command: it starts with "-- +migrate " exactly.
std::optional<Command> parse_command(std::string_view line) {
    if (!line.starts_with(kPrefix)) return std::nullopt;
    Command c;
    std::string_view rest = line.substr(kPrefix.size());
    std::size_t pos = 0;
    std::vector<std::string> fields;
    while (pos < rest.size()) {
        while (pos < rest.size() && (rest[pos] == ' ' || rest[pos] == '\t' || rest[pos] == '\r')) ++pos;
        std::size_t end = pos;
        while (end < rest.size() && rest[end] != ' ' && rest[end] != '\t' && rest[end] != '\r') ++end;
        if (end > pos) fields.emplace_back(rest.substr(pos, end - pos));
        pos = end;
    }
    if (!fields.empty()) {
        c.name = fields.front();
        c.options.assign(fields.begin() + 1, fields.end());
    }
    return c;
}

// sql-migrate's numberPrefixRegex ^(\d+): the leading digits of the id, parsed as int64.
std::optional<std::int64_t> number_prefix(std::string_view id, std::string& digits) {
    std::size_t n = 0;
    while (n < id.size() && id[n] >= '0' && id[n] <= '9') ++n;
    if (n == 0) return std::nullopt;
    digits = std::string(id.substr(0, n));
    std::int64_t v = 0;
    const auto [end, ec] = std::from_chars(id.data(), id.data() + n, v);
    if (ec != std::errc()) return std::nullopt;  // sql-migrate panics; load refuses it
    return v;
}

bool detect(const std::filesystem::path& dir) {
    for (const auto& path : files_in(dir, ".sql")) {
        // sql-migrate keeps both directions in one file: .up.sql / .down.sql names belong to paired formats
        // (Ory's popx folders keep a few -- +migrate lines from the past).
        const std::string name = path.filename().string();
        if (name.ends_with(".up.sql") || name.ends_with(".down.sql")) continue;
        const std::string head = read_head(path);
        for (const Line& l : split_lines(head)) {
            const auto c = parse_command(l.text);
            if (c && (c->name == "Up" || c->name == "Down")) return true;
        }
    }
    return false;
}

std::vector<MigrationFile> load(const std::filesystem::path& dir) {
    std::vector<MigrationFile> out;
    for (const auto& path : files_in(dir, ".sql", true))
        out.push_back(parse_sql_migrate_file(path, read_checked(path)));
    // byId: ids with a number prefix first, by that number, then by id; the others after them, by id.
    struct Key {
        bool numeric;
        std::int64_t number;
        std::string digits;
    };
    std::vector<Key> keys;
    for (const MigrationFile& m : out) {
        Key k{false, 0, {}};
        std::string digits;
        if (const auto n = number_prefix(m.tool_id, digits)) {
            k = {true, *n, std::to_string(*n)};
        } else if (!digits.empty()) {
            throw MigrationFileError(m.path.string(),
                                     "its number prefix " + digits +
                                         " is larger than sql-migrate "
                                         "can read (int64)",
                                     "sql-migrate cannot order it either: rename it");
        }
        keys.push_back(std::move(k));
    }
    std::vector<std::size_t> order(out.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
        const Key& x = keys[a];
        const Key& y = keys[b];
        if (x.numeric && y.numeric && x.number != y.number) return x.number < y.number;
        if (x.numeric != y.numeric) return x.numeric;
        return out[a].tool_id < out[b].tool_id;
    });
    std::vector<MigrationFile> sorted;
    std::vector<std::string> bases;
    for (const std::size_t i : order) {
        sorted.push_back(std::move(out[i]));
        bases.push_back(keys[i].numeric ? keys[i].digits : std::string(kNonNumericBase));
    }
    assign_versions(sorted, bases);
    // Names without a number prefix always get an ordinal, so that adding another one after them (in name
    // order) leaves their versions as they were.
    std::size_t ordinal = 0;
    for (std::size_t i = 0; i < sorted.size(); ++i) {
        if (bases[i] == kNonNumericBase)
            sorted[i].version = std::string(kNonNumericBase) + "." + std::to_string(++ordinal);
    }
    return sorted;
}

}  // namespace

MigrationFile parse_sql_migrate_file(const std::filesystem::path& path, std::string_view content) {
    MigrationFile m;
    m.path = path;
    m.file_name = path.filename().string();
    check_file_bytes(path.string(), content);
    m.tool_id = m.file_name;  // gorp_migrations.id
    m.name = safe_name(m.file_name.substr(0, m.file_name.size() - 4));
    std::string digits;
    const auto number = number_prefix(m.file_name, digits);  // a version of its own until the folder's reader
    m.version = number ? std::to_string(*number) : std::string(kNonNumericBase);  // orders them

    const std::vector<Line> lines = split_lines(content);
    refuse_pgmig_sections(path, lines, "sql-migrate", "-- +migrate Up");
    // sql-migrate adds every Up section to the up script and every Down section to the down script, in file
    // order (real projects repeat -- +migrate Up before each statement group), and a notransaction on any of
    // them holds for its direction.
    std::optional<std::size_t> up, down;  // the first command of each direction
    bool up_tx = true, down_tx = true;
    int block_line = 0;  // the open StatementBegin, 0 when none
    enum class Dir { none, in_up, in_down } dir = Dir::none;
    std::vector<Dir> where(lines.size(), Dir::none);  // the section each line belongs to (commands: none)
    for (std::size_t i = 0; i < lines.size(); ++i) {
        const Line& l = lines[i];
        const auto c = parse_command(l.text);
        if (!c) {
            if (dir == Dir::none && !is_blank_or_comment(l.text)) {
                throw error_at(path, l.number, "SQL before -- +migrate Up",
                               "move it after -- +migrate Up, or remove it", ", which sql-migrate would skip");
            }
            where[i] = dir;
            continue;
        }
        if (c->name.empty()) {
            throw error_at(path, l.number, "an incomplete -- +migrate command", "sql-migrate refuses it too");
        }
        if (c->name == "Up" || c->name == "Down") {
            if (block_line) {
                throw error_at(
                    path, l.number,
                    "-- +migrate " + c->name + " inside the StatementBegin block of line " + std::to_string(block_line),
                    "close the block with -- +migrate StatementEnd first");
            }
            const bool is_up = c->name == "Up";
            if (!(is_up ? up : down)) (is_up ? up : down) = i;
            for (const std::string& o : c->options) {
                if (o != "notransaction") {
                    throw error_at(path, l.number, "unknown option '" + o + "' of -- +migrate " + c->name,
                                   "sql-migrate knows notransaction");
                }
                (is_up ? up_tx : down_tx) = false;
            }
            dir = is_up ? Dir::in_up : Dir::in_down;
        } else if (c->name == "StatementBegin") {
            if (dir == Dir::none) {
                throw error_at(path, l.number, "-- +migrate StatementBegin before -- +migrate Up or Down",
                               "put it inside a section");
            }
            if (block_line) {
                throw error_at(path, l.number,
                               "-- +migrate StatementBegin inside the block of line " + std::to_string(block_line),
                               "close that block with -- +migrate StatementEnd first");
            }
            block_line = l.number;
        } else if (c->name == "StatementEnd") {
            if (!block_line) {
                throw error_at(path, l.number, "-- +migrate StatementEnd without a StatementBegin",
                               "add -- +migrate StatementBegin before the statement, or remove this line");
            }
            block_line = 0;
        } else {
            throw error_at(path, l.number, "unknown command -- +migrate " + c->name,
                           "sql-migrate commands are Up, Down, StatementBegin and StatementEnd");
        }
    }
    if (block_line) {
        throw error_at(path, block_line, "-- +migrate StatementBegin without a StatementEnd",
                       "add -- +migrate StatementEnd after the statement");
    }
    if (!up && !down) {
        throw MigrationFileError(path.string(), "no -- +migrate Up or Down command",
                                 "start the migration's SQL with a -- +migrate Up line");
    }
    if (up && up_tx && !down_tx) {
        throw error_at(path, lines[*down].number,
                       "-- +migrate Down notransaction on a migration whose up runs in a transaction: pgmig runs a "
                       "migration's up and down scripts the same way",
                       "mark the Up section notransaction too, or keep this migration with sql-migrate");
    }
    // Each script is the file from its first command on, the other direction's lines emptied, so that line
    // numbers stay the file's.
    const auto script = [&](std::size_t first, Dir keep) {
        std::vector<bool> blank(lines.size());
        for (std::size_t i = 0; i < lines.size(); ++i) blank[i] = where[i] != keep;
        return slice_blanking(content, lines, first + 1, lines.size(), blank);
    };
    if (up) {
        m.up_first_line = lines[*up].number + 1;
        m.up_sql = script(*up, Dir::in_up);
        for (std::size_t i = *up + 1; i < lines.size(); ++i) {
            if (where[i] != Dir::in_up) continue;
            for (Directive& d : pgmig_directives(lines, i, i + 1)) m.directives.push_back(std::move(d));
        }
    }  // a file with only Down sections has an up script that runs nothing, as for sql-migrate
    if (down) m.down_sql = script(*down, Dir::in_down);
    down_or_noop(m, "sql-migrate");  // no Down statement: sql-migrate rolls back by running nothing
    set_options(m, up ? up_tx : down_tx);
    return m;
}

FolderReader sql_migrate_reader() { return {FolderFormat::sql_migrate, detect, load}; }

}  // namespace pgmig::client::formats
