// dbmate folders (amacneil/dbmate): <version>...sql files with -- migrate:up / -- migrate:down markers and
// options on the marker line, read as dbmate's pkg/dbmate/migration.go reads them and applied in file-name
// order, the version being the leading digits dbmate stores in schema_migrations.version.
#include "client/ledger/formats/comment_readers.hpp"
#include "client/ledger/formats/support.hpp"

namespace pgmig::client::formats {

namespace {

// dbmate's ^--\s*migrate:(up|down)(\s*$|\s+\S+): sets `options` to the rest of the line.
bool is_marker(std::string_view line, std::string_view direction, std::string_view& options) {
    if (!line.starts_with("--")) return false;
    std::string_view s = trim_left(line.substr(2));
    const std::string word = "migrate:" + std::string(direction);
    if (!s.starts_with(word)) return false;
    s.remove_prefix(word.size());
    if (!s.empty() && s.front() != ' ' && s.front() != '\t' && s.front() != '\f' && s.front() != '\v') return false;
    options = trim(s);
    return true;
}

// transaction:false | transaction:true; dbmate ignores anything else, pgmig refuses it (it meant something).
bool transactional_option(const std::filesystem::path& path, const Line& l, std::string_view options) {
    bool transactional = true;
    std::size_t pos = 0;
    while (pos < options.size()) {
        while (pos < options.size() && (options[pos] == ' ' || options[pos] == '\t')) ++pos;
        std::size_t end = pos;
        while (end < options.size() && options[end] != ' ' && options[end] != '\t') ++end;
        const std::string_view item = options.substr(pos, end - pos);
        pos = end;
        if (item.empty()) continue;
        if (item == "transaction:false") {
            transactional = false;
        } else if (item != "transaction:true") {
            throw error_at(path, l.number, "unknown dbmate option '" + std::string(item) + "'",
                           "dbmate knows transaction:false (and transaction:true)");
        }
    }
    return transactional;
}

bool detect(const std::filesystem::path& dir) {
    for (const auto& path : files_in(dir, ".sql")) {
        if (leading_digits(path.filename().string()).empty()) continue;
        const std::string head = read_head(path);
        for (const Line& l : split_lines(head)) {
            std::string_view options;
            if (is_marker(l.text, "up", options)) return true;
        }
    }
    return false;
}

std::vector<MigrationFile> load(const std::filesystem::path& dir) {
    std::vector<MigrationFile> out;
    for (const auto& path : files_in(dir, ".sql", true)) {               // dbmate reads every file of the folder
        if (leading_digits(path.filename().string()).empty()) continue;  // not a migration for dbmate either
        out.push_back(parse_dbmate_file(path, read_checked(path)));
    }
    // files_in sorts by file name, dbmate's order.
    require_tool_order(out, "dbmate", "dbmate sorts by file name");
    return out;
}

}  // namespace

MigrationFile parse_dbmate_file(const std::filesystem::path& path, std::string_view content) {
    MigrationFile m = digits_named_migration(path, content, "dbmate",
                                             "name it <version>_<name>.sql, e.g. 20240101120000_create_users.sql");
    m.tool_id = m.version;  // schema_migrations.version
    std::string_view rest = std::string_view(m.file_name).substr(m.version.size());
    rest.remove_suffix(4);
    if (rest.starts_with("_")) rest.remove_prefix(1);
    m.name = safe_name(rest);

    const std::vector<Line> lines = split_lines(content);
    refuse_pgmig_sections(path, lines, "dbmate", "-- migrate:up");
    std::optional<std::size_t> up, down;
    bool up_tx = true;
    bool down_tx = true;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        const Line& l = lines[i];
        std::string_view options;
        if (is_marker(l.text, "up", options)) {
            if (up) {
                throw error_at(path, l.number, "a second -- migrate:up section",
                               "split the file into two migrations, or keep it with dbmate",
                               ", after the one of line " + std::to_string(lines[*up].number) +
                                   ": pgmig reads one up and one down section per dbmate file");
            }
            up = i;
            up_tx = transactional_option(path, l, options);
        } else if (is_marker(l.text, "down", options)) {
            if (!up) {
                throw error_at(path, l.number, "-- migrate:down before -- migrate:up",
                               "dbmate requires -- migrate:up first");
            }
            if (down) {
                throw error_at(path, l.number, "a second -- migrate:down", "keep one -- migrate:down");
            }
            down = i;
            down_tx = transactional_option(path, l, options);
        } else if (!up && !is_blank_or_comment(l.text)) {
            throw error_at(path, l.number, "SQL before -- migrate:up",
                           "dbmate does not allow statements before -- migrate:up either");
        }
    }
    if (!up) {
        throw MigrationFileError(path.string(), "no -- migrate:up marker",
                                 "dbmate requires each migration to start its SQL with -- migrate:up");
    }
    if (!down) {
        throw MigrationFileError(path.string(), "no -- migrate:down marker",
                                 "dbmate requires one (it may be followed by nothing): add -- migrate:down");
    }
    if (up_tx && !down_tx) {
        throw error_at(path, lines[*down].number,
                       "-- migrate:down transaction:false on a migration whose up runs in a transaction: pgmig "
                       "runs a migration's up and down scripts the same way",
                       "mark the up section transaction:false too, or keep this migration with dbmate");
    }
    m.up_first_line = lines[*up].number + 1;
    m.up_sql = slice(content, lines, *up + 1, *down);
    m.down_sql = slice(content, lines, *down + 1, lines.size());
    down_or_noop(m, "dbmate");  // an empty -- migrate:down section rolls back by running nothing
    m.directives = pgmig_directives(lines, *up + 1, *down);
    set_options(m, up_tx);
    return m;
}

FolderReader dbmate_reader() { return {FolderFormat::dbmate, detect, load}; }

}  // namespace pgmig::client::formats
