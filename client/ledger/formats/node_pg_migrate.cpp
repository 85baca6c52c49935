// node-pg-migrate SQL migrations (salsita/node-pg-migrate, its default "legacySql" loader): <number>_<name>.sql
// with -- Up Migration / -- Down Migration comments, read as src/sqlMigration.ts reads them and ordered as
// compareMigrationFileNames orders them. pgmigrations.name holds the file name without its extension.
#include "client/ledger/formats/comment_readers.hpp"
#include "client/ledger/formats/support.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>

namespace pgmig::client::formats {

namespace {

constexpr std::string_view kScriptExtensions[] = {".js", ".ts", ".cjs", ".mjs", ".cts", ".mts"};

// node-pg-migrate's /^\s*--[\s-]*<direction>\s+migration/im on one line.
bool is_marker(std::string_view line, std::string_view direction) {
    std::string_view s = trim_left(line);
    if (!s.starts_with("--")) return false;
    s.remove_prefix(2);
    while (!s.empty() &&
           (s.front() == '-' || s.front() == ' ' || s.front() == '\t' || s.front() == '\f' || s.front() == '\v')) {
        s.remove_prefix(1);
    }
    if (!starts_with_nocase(s, direction)) return false;
    s.remove_prefix(direction.size());
    const std::string_view rest = trim_left(s);
    return rest.size() < s.size() && starts_with_nocase(rest, "migration");
}

// getNumericPrefix: the number; 17 digits are a UTC time (YYYYMMDDhhmmssSSS) turned into milliseconds.
double numeric_prefix(const std::string& digits) {
    if (digits.size() == 17) {
        const auto num = [&](std::size_t at, std::size_t len) { return std::stoi(digits.substr(at, len)); };
        int y = num(0, 4);
        const int mo = num(4, 2), d = num(6, 2);
        // Days from 1970-01-01 (the civil-from-days algorithm, proleptic Gregorian).
        y -= mo <= 2 ? 1 : 0;
        const int era = (y >= 0 ? y : y - 399) / 400;
        const int yoe = y - era * 400;
        const int doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
        const int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        const double days = static_cast<double>(era) * 146097 + doe - 719468;
        return ((days * 24 + num(8, 2)) * 60 + num(10, 2)) * 60000 + num(12, 2) * 1000.0 + num(14, 3);
    }
    return std::stod(digits);
}

// localeCompare(..., {numeric: true, ignorePunctuation: true}) for the names of equal numbers, as far as
// ASCII names go: punctuation ignored, digit runs compared as numbers, letters without case first.
int natural_compare(std::string_view a, std::string_view b) {
    const auto strip = [](std::string_view s) {
        std::string out;
        for (char c : s) {
            if (std::isalnum(static_cast<unsigned char>(c)) != 0 || static_cast<unsigned char>(c) >= 0x80) out += c;
        }
        return out;
    };
    const std::string x = strip(a), y = strip(b);
    std::size_t i = 0, j = 0;
    while (i < x.size() && j < y.size()) {
        if (std::isdigit(static_cast<unsigned char>(x[i])) && std::isdigit(static_cast<unsigned char>(y[j]))) {
            std::size_t i2 = i, j2 = j;
            while (i2 < x.size() && std::isdigit(static_cast<unsigned char>(x[i2]))) ++i2;
            while (j2 < y.size() && std::isdigit(static_cast<unsigned char>(y[j2]))) ++j2;
            std::string_view u(x.data() + i, i2 - i), v(y.data() + j, j2 - j);
            while (u.size() > 1 && u.front() == '0') u.remove_prefix(1);
            while (v.size() > 1 && v.front() == '0') v.remove_prefix(1);
            if (u.size() != v.size()) return u.size() < v.size() ? -1 : 1;
            if (u != v) return u < v ? -1 : 1;
            i = i2;
            j = j2;
            continue;
        }
        const int cx = std::tolower(static_cast<unsigned char>(x[i])),
                  cy = std::tolower(static_cast<unsigned char>(y[j]));
        if (cx != cy) return cx < cy ? -1 : 1;
        ++i;
        ++j;
    }
    if (x.size() - i != y.size() - j) return x.size() - i < y.size() - j ? -1 : 1;
    return a < b ? 1 : (a > b ? -1 : 0);  // lower case before upper case, as the locale's order has it
}

bool detect(const std::filesystem::path& dir) {
    for (const auto& path : files_in(dir, ".sql")) {
        if (leading_digits(path.filename().string()).empty()) continue;
        const std::string head = read_head(path);
        for (const Line& l : split_lines(head)) {
            if (is_marker(l.text, "up")) return true;
        }
    }
    return false;
}

std::vector<MigrationFile> load(const std::filesystem::path& dir) {
    namespace fs = std::filesystem;
    std::vector<MigrationFile> out;
    for (const auto& path : files_in(dir, "")) {  // node-pg-migrate reads every file but hidden ones
        const std::string name = path.filename().string();
        const std::string ext = path.extension().string();
        if (std::find(std::begin(kScriptExtensions), std::end(kScriptExtensions), ext) != std::end(kScriptExtensions)) {
            throw MigrationFileError(path.string(),
                                     "a node-pg-migrate JavaScript/TypeScript migration: pgmig runs "
                                     "SQL migrations only",
                                     "write it as a .sql migration (-- Up Migration / -- Down Migration), or keep "
                                     "it with node-pg-migrate");
        }
        if (ext != ".sql") continue;  // README and the like: not migrations
        out.push_back(parse_node_pg_migrate_file(path, read_checked(path)));
    }
    std::vector<double> numbers;
    for (const MigrationFile& m : out) numbers.push_back(numeric_prefix(leading_digits(m.file_name)));
    std::vector<std::size_t> order(out.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
        if (numbers[a] != numbers[b]) return numbers[a] < numbers[b];
        return natural_compare(out[a].file_name, out[b].file_name) < 0;
    });
    std::vector<MigrationFile> sorted;
    std::vector<std::string> bases;
    for (const std::size_t i : order) {
        bases.push_back(leading_digits(out[i].file_name));
        sorted.push_back(std::move(out[i]));
    }
    assign_versions(sorted, bases);
    require_tool_order(sorted, "node-pg-migrate", "it sorts by the number before the first non-digit");
    return sorted;
}

}  // namespace

MigrationFile parse_node_pg_migrate_file(const std::filesystem::path& path, std::string_view content) {
    MigrationFile m = digits_named_migration(path, content, "node-pg-migrate",
                                             "node-pg-migrate refuses it too; name it <number>_<name>.sql");
    m.tool_id = path.stem().string();  // pgmigrations.name
    std::string_view rest = std::string_view(m.tool_id).substr(m.version.size());
    if (rest.starts_with("_") || rest.starts_with("-")) rest.remove_prefix(1);
    m.name = safe_name(rest);

    const std::vector<Line> lines = split_lines(content);
    refuse_pgmig_sections(path, lines, "node-pg-migrate", "-- Up Migration");
    std::optional<std::size_t> up, down;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        for (const char* direction : {"up", "down"}) {
            if (!is_marker(lines[i].text, direction)) continue;
            std::optional<std::size_t>& seen = direction[0] == 'u' ? up : down;
            if (seen) {
                throw error_at(
                    path, lines[i].number,
                    std::string("a second -- ") + (direction[0] == 'u' ? "Up" : "Down") + " Migration marker",
                    "keep one Up and at most one Down section",
                    ", after the one of line " + std::to_string(lines[*seen].number) +
                        " (node-pg-migrate would run it as part of that section)");
            }
            seen = i;
        }
    }
    if (!up && down) {
        throw error_at(path, lines[*down].number,
                       "-- Down Migration without an -- Up Migration marker: node-pg-migrate would run the whole "
                       "file, down section included, as the up migration",
                       "add -- Up Migration before the up statements");
    }
    const auto section_end = [&](std::size_t begin, const std::optional<std::size_t>& other) {
        return other && *other > begin ? *other : lines.size();
    };
    std::size_t up_begin = 0, up_end = lines.size();
    if (up) {
        up_begin = *up + 1;
        up_end = section_end(*up, down);
        m.up_first_line = lines[*up].number + 1;
    }  // without markers the whole file is the up migration, and there is no down
    m.up_sql = slice(content, lines, up_begin, up_end);
    if (down) {
        m.down_sql = slice(content, lines, *down + 1, section_end(*down, up));
        down_or_noop(m, "node-pg-migrate");  // an empty Down section runs nothing; without one it is irreversible
    }
    m.directives = pgmig_directives(lines, up_begin, up_end);
    set_options(m, true);  // node-pg-migrate runs every SQL migration in a transaction
    return m;
}

FolderReader node_pg_migrate_reader() { return {FolderFormat::node_pg_migrate, detect, load}; }

}  // namespace pgmig::client::formats
