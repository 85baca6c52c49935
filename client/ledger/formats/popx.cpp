// Ory popx folders (kratos, hydra, keto; github.com/ory/x/popx): VERSION_name[.DIALECT][.autocommit].(up|down).sql
// in the folder and its subfolders, chosen for PostgreSQL as popx chooses them (sortAndFilter: per version the
// .postgres. file wins over the dialect-less one, other dialects are ignored) and ordered by version as
// strings, the version being what popx stores in its schema_migration table.
#include "client/ledger/formats/comment_readers.hpp"
#include "client/ledger/formats/support.hpp"

#include <algorithm>
#include <map>
#include <system_error>

namespace pgmig::client::formats {

namespace {

struct PopxName {
    std::string version;
    std::string name;
    std::string dialect;  // canonical: "all" without one; "" for a dialect pop does not know
    bool autocommit = false;
    bool up = false;
};

// popx's MigrationFileRegexp ^(\d+)_([^.]+)(\.[a-z0-9]+)?(\.autocommit)?\.(up|down)\.(sql)$ with pop's
// dialect synonyms; nullopt when the name does not match.
std::optional<PopxName> parse_name(std::string_view file) {
    if (!file.ends_with(".sql")) return std::nullopt;
    std::string_view s = file.substr(0, file.size() - 4);
    PopxName n;
    if (s.ends_with(".up")) {
        n.up = true;
        s.remove_suffix(3);
    } else if (s.ends_with(".down")) {
        s.remove_suffix(5);
    } else {
        return std::nullopt;
    }
    std::size_t digits = 0;
    while (digits < s.size() && s[digits] >= '0' && s[digits] <= '9') ++digits;
    if (digits == 0 || digits >= s.size() || s[digits] != '_') return std::nullopt;
    n.version = std::string(s.substr(0, digits));
    s.remove_prefix(digits + 1);
    const std::size_t dot = s.find('.');
    n.name = std::string(s.substr(0, dot));
    if (n.name.empty()) return std::nullopt;
    std::vector<std::string> parts;
    while (dot != std::string_view::npos && !s.empty()) {
        s.remove_prefix(s.find('.') + 1);
        const std::size_t next = s.find('.');
        parts.emplace_back(s.substr(0, next));
        if (next == std::string_view::npos) break;
        s.remove_prefix(next);
    }
    const auto lower_alnum = [](const std::string& p) {
        return !p.empty() &&
               std::all_of(p.begin(), p.end(), [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); });
    };
    std::string dialect;
    if (parts.size() > 2) return std::nullopt;
    if (parts.size() == 2) {
        if (parts[1] != "autocommit" || !lower_alnum(parts[0])) return std::nullopt;
        dialect = parts[0];
        n.autocommit = true;
    } else if (parts.size() == 1) {
        if (!lower_alnum(parts[0])) return std::nullopt;
        if (parts[0] == "autocommit") {
            n.autocommit = true;
        } else {
            dialect = parts[0];
        }
    }
    if (dialect.empty()) {
        n.dialect = "all";
    } else {
        static const std::map<std::string, std::string> canonical = {
            {"postgres", "postgres"},   {"postgresql", "postgres"},   {"pg", "postgres"},    {"pgx", "postgres"},
            {"cockroach", "cockroach"}, {"cockroachdb", "cockroach"}, {"crdb", "cockroach"}, {"mysql", "mysql"},
            {"mariadb", "mariadb"},     {"sqlite3", "sqlite3"},       {"sqlite", "sqlite3"}};
        const auto it = canonical.find(dialect);
        n.dialect = it == canonical.end() ? std::string() : it->second;
    }
    return n;
}

bool detect(const std::filesystem::path& dir) {
    // A dialect or .autocommit. in a name: plain VERSION_name.up.sql pairs are pgmig's own .up/.down format.
    for (const auto& path : files_in(dir, ".sql")) {
        const auto n = parse_name(path.filename().string());
        if (n && (n->dialect != "all" || n->autocommit)) return true;
    }
    return false;
}

struct Candidate {
    std::filesystem::path path;
    PopxName name;
};

// The file popx runs on PostgreSQL among a version's files of one direction: the .postgres. one, else the
// dialect-less one; nullopt when neither exists.
std::optional<Candidate> choose(const std::vector<Candidate>& files) {
    const Candidate* best = nullptr;
    for (const Candidate& c : files) {
        if (c.name.dialect != "postgres" && c.name.dialect != "all") continue;
        if (best && best->name.dialect == c.name.dialect) {
            throw MigrationFileError(c.path.string(),
                                     "version " + c.name.version + " has two " +
                                         (c.name.dialect == "all" ? std::string("dialect-less") : c.name.dialect) +
                                         " files: also " + best->path.string(),
                                     "popx would run whichever it finds last; keep one");
        }
        if (!best || c.name.dialect == "postgres") best = &c;
    }
    if (!best) return std::nullopt;
    return *best;
}

std::vector<MigrationFile> load(const std::filesystem::path& dir) {
    namespace fs = std::filesystem;
    std::map<std::string, std::vector<Candidate>> ups, downs;  // by version (std::map: string order, popx's)
    std::vector<fs::path> paths;
    std::error_code ec;
    for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        std::error_code type_ec;
        if (it->is_regular_file(type_ec) && it->path().extension() == ".sql") paths.push_back(it->path());
    }
    if (ec) throw MigrationFileError(dir.string(), "cannot read the folder: " + ec.message());
    std::sort(paths.begin(), paths.end());
    for (const fs::path& p : paths) {
        const auto n = parse_name(p.filename().string());
        if (!n) {
            throw MigrationFileError(p.string(), "not a popx migration name",
                                     "popx names are VERSION_name[.DIALECT][.autocommit].(up|down).sql (popx refuses "
                                     "this file too)");
        }
        if (n->dialect.empty()) continue;  // a dialect pop does not know: popx ignores the file
        (n->up ? ups : downs)[n->version].push_back({p, *n});
    }
    std::vector<MigrationFile> out;
    for (const auto& [version, files] : ups) {
        const auto up = choose(files);
        if (!up) continue;  // only other dialects' files: no migration on PostgreSQL
        const auto d = downs.find(version);
        if (d == downs.end()) {
            throw MigrationFileError(up->path.string(), "migration " + version + " has no down file",
                                     "popx requires one for every up file (it may be empty)");
        }
        const auto down = choose(d->second);
        MigrationFile m;
        m.path = up->path;
        m.file_name = up->path.filename().string();
        m.version = version;
        m.tool_id = version;  // schema_migration.version
        m.name = safe_name(up->name.name);
        const std::string content = read_checked(up->path);
        const std::vector<Line> lines = split_lines(content);
        refuse_pgmig_sections(up->path, lines, "popx", "VERSION_name.postgres.up.sql");
        for (const Line& l : lines) {
            if (l.text.find("{{") != std::string_view::npos) {
                throw error_at(up->path, l.number,
                               "a Go template action ({{ ... }}): popx runs every file through text/template, "
                               "pgmig runs SQL as it is",
                               "keep this migration with popx, or write its SQL for PostgreSQL without template "
                               "actions");
            }
        }
        m.up_sql = content;
        m.directives = pgmig_directives(lines, 0, lines.size());
        if (down) {
            m.down_path = down->path;
            m.down_sql = read_checked(down->path);
            if (m.down_sql->find("{{") != std::string::npos) {
                throw MigrationFileError(down->path.string(), "a Go template action ({{ ... }}) in the down file",
                                         "keep this migration with popx");
            }
            if (down->name.autocommit && !up->name.autocommit) {
                throw MigrationFileError(down->path.string(),
                                         "an .autocommit. down file for an up file that runs in a transaction: pgmig "
                                         "runs a migration's up and down scripts the same way",
                                         "keep this migration with popx");
            }
        }
        down_or_noop(m, "popx");  // popx rolls back an empty down file (or none for PostgreSQL) by running nothing
        set_options(m, !up->name.autocommit);
        out.push_back(std::move(m));
    }
    // Down files of a version that has no up file for PostgreSQL: popx cannot roll them back either.
    for (const auto& [version, files] : downs) {
        if (ups.count(version) && choose(ups.at(version))) continue;
        if (const auto down = choose(files)) {
            throw MigrationFileError(down->path.string(),
                                     "a down file for version " + version + " without an up file for PostgreSQL",
                                     "add the up file (it may be empty), or remove this one");
        }
    }
    require_tool_order(out, "popx", "popx sorts versions as strings");
    return out;
}

}  // namespace

FolderReader popx_reader() { return {FolderFormat::popx, detect, load}; }

}  // namespace pgmig::client::formats
