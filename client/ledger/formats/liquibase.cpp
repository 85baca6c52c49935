// Liquibase formatted SQL (--liquibase formatted sql, --changeset author:id ...), read as Liquibase's
// AbstractFormattedChangeLogParser reads it: one migration per changeset, in changelog order. The changelog
// is a master XML/YAML file of the folder (its include and includeAll entries), or else every formatted SQL
// file of the folder in path order (as includeAll takes them). databasechangelog knows a changeset by id,
// author and file name; pgmig's versions are made from the changeset's place (docs/adopting.md).
#include "client/ledger/formats/comment_readers.hpp"
#include "client/ledger/formats/support.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <system_error>

namespace pgmig::client::formats {

namespace {

namespace fs = std::filesystem;

constexpr const char* kDocs = "see docs/adopting.md (Liquibase formatted SQL)";

bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\f' || c == '\v' || c == '\r' || c == '\n'; }

// "--" then blanks then `word` (case-insensitive), the line's own leading blanks allowed when `indent`.
// Returns what follows the word, or nullopt.
std::optional<std::string_view> after_dashes_word(std::string_view line, std::string_view word, bool indent) {
    std::string_view s = indent ? trim_left(line) : line;
    if (!s.starts_with("--")) return std::nullopt;
    s = trim_left(s.substr(2));
    if (!starts_with_nocase(s, word)) return std::nullopt;
    return s.substr(word.size());
}

bool is_header(std::string_view line) {
    const auto rest = after_dashes_word(line, "liquibase", true);
    return rest && starts_with_nocase(trim_left(*rest), "formatted");
}

// The value of `key:` (\S*) anywhere in the line, like Liquibase's .*key:(\S*).* patterns.
std::optional<std::string> attribute(std::string_view line, std::string_view key) {
    const std::string lower = to_lower(line);
    const std::size_t at = lower.find(to_lower(key) + ":");
    if (at == std::string::npos) return std::nullopt;
    std::size_t b = at + key.size() + 1, e = b;
    while (e < line.size() && !is_ws(line[e])) ++e;
    return std::string(line.substr(b, e - b));
}

bool parse_bool(const std::string& v) { return to_lower(v) == "true"; }  // Java's Boolean.parseBoolean

// DatabaseList.definitionMatches for "postgresql".
bool dbms_matches(const std::string& definition) {
    std::vector<std::string> items;
    std::string item;
    for (const char c : definition + ",") {
        if (c == ',') {
            const std::string t(trim(item));
            if (!t.empty()) items.push_back(to_lower(t));
            item.clear();
        } else {
            item += c;
        }
    }
    if (items.empty()) return true;
    const auto has = [&](const char* s) { return std::find(items.begin(), items.end(), s) != items.end(); };
    if (has("none")) return false;
    if (has("all")) return true;
    if (has("!postgresql")) return false;
    const bool positive = std::any_of(items.begin(), items.end(), [](const std::string& s) { return s[0] != '!'; });
    return positive ? has("postgresql") : true;
}

struct ChangesetLine {
    std::string author, id, attributes;
};

// `--changeset author:id attributes...` (CHANGE_SET_REGEX); throws on the forms Liquibase refuses.
std::optional<ChangesetLine> parse_changeset_line(const fs::path& path, const Line& l) {
    const auto malformed = [&]() {
        return error_at(path, l.number, "a --changeset line without author:id",
                        "write --changeset author:id (no blank after the colon), as Liquibase requires");
    };
    const auto rest = after_dashes_word(l.text, "changeset", true);
    if (!rest) {
        std::string_view s = l.text;  // Liquibase refuses "-changeset ..." too
        if (s.starts_with("-") && !s.starts_with("--")) {
            s = trim_left(s.substr(1));
            if (starts_with_nocase(s, "changeset") && s.size() > 9 && is_ws(s[9])) throw malformed();
        }
        return std::nullopt;
    }
    std::string_view s = *rest;
    if (s.empty() || !is_ws(s.front())) throw malformed();  // "--changesetX" is an error for Liquibase too
    s = trim_left(s);
    ChangesetLine c;
    const auto quoted_or = [&](bool stop_at_colon) -> std::optional<std::string> {
        if (s.starts_with("\"")) {
            const std::size_t close = s.find('"', 1);
            if (close == std::string_view::npos || close == 1) return std::nullopt;
            std::string v(s.substr(1, close - 1));
            s.remove_prefix(close + 1);
            return v;
        }
        std::size_t e = 0;
        while (e < s.size() && (stop_at_colon ? s[e] != ':' : !is_ws(s[e]))) ++e;
        if (e == 0) return std::nullopt;
        std::string v(s.substr(0, e));
        s.remove_prefix(e);
        return v;
    };
    const auto author = quoted_or(true);
    if (!author || !s.starts_with(":")) throw malformed();
    s.remove_prefix(1);
    if (s.empty() || is_ws(s.front())) throw malformed();
    const auto id = quoted_or(false);
    if (!id || std::string(trim(*id)).find_first_not_of(": ") == std::string::npos) throw malformed();
    c.author = *author;
    c.id = *id;
    c.attributes = std::string(s);
    return c;
}

struct Attributes {
    bool transactional = true;
    bool skip = false;  // ignore:true, or a dbms that excludes PostgreSQL
    std::string logical_path;
};

// The changeset's attributes: those that only matter to other databases or to Liquibase's bookkeeping are
// accepted, runInTransaction is honoured, dbms and ignore are evaluated; the rest changes what the changeset
// means and is refused.
Attributes parse_attributes(const fs::path& path, const Line& l, std::string_view s) {
    Attributes a;
    std::size_t pos = 0;
    while (true) {
        while (pos < s.size() && is_ws(s[pos])) ++pos;
        if (pos >= s.size()) break;
        const std::size_t colon = s.find(':', pos);
        std::size_t space = pos;
        while (space < s.size() && !is_ws(s[space])) ++space;
        if (colon == std::string_view::npos || colon > space) {
            throw error_at(path, l.number,
                           "'" + std::string(s.substr(pos, space - pos)) +
                               "' on the --changeset line is not a key:value attribute",
                           "remove it; Liquibase attributes are written key:value");
        }
        const std::string key(s.substr(pos, colon - pos));
        std::size_t e = colon + 1;
        std::string value;
        if (e < s.size() && s[e] == '"') {
            const std::size_t close = s.find('"', e + 1);
            if (close == std::string_view::npos) throw error_at(path, l.number, "an unclosed quote", "close it");
            value = std::string(s.substr(e + 1, close - e - 1));
            e = close + 1;
        } else {
            while (e < s.size() && !is_ws(s[e])) ++e;
            value = std::string(s.substr(colon + 1, e - colon - 1));
        }
        pos = e;
        const std::string k = to_lower(key);
        const auto refuse = [&](const std::string& why) {
            throw error_at(path, l.number, "changeset attribute " + key + ":" + value + ": " + why,
                           "keep this changeset with Liquibase, or " + std::string(kDocs));
        };
        if (k == "runintransaction") {
            a.transactional = parse_bool(value);
        } else if (k == "dbms") {
            if (!dbms_matches(value)) a.skip = true;
        } else if (k == "ignore") {
            if (parse_bool(value)) a.skip = true;
        } else if (k == "logicalfilepath") {
            a.logical_path = value;
        } else if (k == "context" || k == "contextfilter" || k == "labels" || k == "splitstatements" ||
                   k == "stripcomments" || k == "rollbacksplitstatements" || k == "created") {
            // Contexts and labels select changesets when Liquibase is given --contexts / --labels; pgmig runs
            // every changeset, as Liquibase does without them. Statement splitting is PostgreSQL's parser's.
        } else if (k == "enddelimiter" || k == "rollbackenddelimiter") {
            if (!value.empty() && value != ";")
                refuse("pgmig splits statements at semicolons with PostgreSQL's parser");
        } else if (k == "runonchange" || k == "runalways") {
            if (parse_bool(value)) refuse("pgmig runs a migration once; it does not run it again when it changes");
        } else if (k == "failonerror") {
            if (!parse_bool(value)) refuse("pgmig stops at the first error, it never goes on past a failed statement");
        } else if (k == "runwith") {
            if (to_lower(value) != "jdbc") refuse("pgmig runs the SQL itself, not through another program");
        } else {
            refuse("not an attribute pgmig knows");
        }
    }
    return a;
}

// A ${name} changelog parameter in the line, or empty.
std::string parameter_in(std::string_view line) {
    for (std::size_t at = line.find("${"); at != std::string_view::npos; at = line.find("${", at + 2)) {
        const std::size_t close = line.find('}', at + 2);
        if (close == std::string_view::npos) return {};
        const std::string_view name = line.substr(at + 2, close - at - 2);
        if (!name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
                return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '.' || c == '-';
            })) {
            return std::string(line.substr(at, close - at + 1));
        }
    }
    return {};
}

struct Changeset {
    std::size_t line = 0;  // index of the --changeset line
    ChangesetLine head;
    Attributes attributes;
    std::string rollback;
    bool has_rollback = false;
    int rollback_line = 0;
};

// ---- the changelog: which files, in which order, under which names ----

struct ChangelogFile {
    fs::path path;
    std::string logical;  // the file name databasechangelog records
};

std::string generic(const fs::path& p) { return p.lexically_normal().generic_string(); }

bool holds_changelog(const fs::path& p) {
    const std::string ext = to_lower(p.extension().string());
    if (ext != ".xml" && ext != ".yaml" && ext != ".yml") return false;
    return read_head(p, 1 << 16).find("databaseChangeLog") != std::string::npos;
}

struct Include {
    bool all = false;  // includeAll
    std::string file;  // file or path
    bool relative = false;
    int line = 0;
};

std::string strip_classpath(std::string s) {
    for (const char* prefix : {"classpath*:", "classpath:"}) {
        if (s.starts_with(prefix)) s = s.substr(std::string(prefix).size());
    }
    while (s.starts_with("/")) s.erase(0, 1);
    return s;
}

int line_at(std::string_view text, std::size_t offset) {
    return 1 + static_cast<int>(std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(offset), '\n'));
}

// <include file=".." relativeToChangelogFile=".."/> and <includeAll path=".."/> of an XML changelog.
std::vector<Include> xml_includes(const fs::path& path, const std::string& text) {
    std::vector<Include> out;
    std::size_t pos = 0;
    while ((pos = text.find('<', pos)) != std::string::npos) {
        if (text.compare(pos, 4, "<!--") == 0) {
            const std::size_t end = text.find("-->", pos);
            pos = end == std::string::npos ? text.size() : end + 3;
            continue;
        }
        const std::size_t end = text.find('>', pos);
        if (end == std::string::npos) break;
        const std::string tag = text.substr(pos + 1, end - pos - 1);
        const int line = line_at(text, pos);
        pos = end + 1;
        if (tag.empty() || tag[0] == '/' || tag[0] == '?' || tag[0] == '!') continue;
        std::size_t n = 0;
        while (n < tag.size() && !is_ws(tag[n]) && tag[n] != '/') ++n;
        std::string name = tag.substr(0, n);
        if (const std::size_t colon = name.find(':'); colon != std::string::npos) name = name.substr(colon + 1);
        if (name == "databaseChangeLog") continue;
        if (name != "include" && name != "includeAll") {
            throw error_at(path, line,
                           "<" + name +
                               "> in the changelog: pgmig reads changelogs that include "
                               "formatted SQL files (include, includeAll)",
                           "keep this changelog with Liquibase, or " + std::string(kDocs));
        }
        Include inc;
        inc.all = name == "includeAll";
        inc.line = line;
        std::size_t a = n;
        while (a < tag.size()) {
            while (a < tag.size() && (is_ws(tag[a]) || tag[a] == '/')) ++a;
            const std::size_t eq = tag.find('=', a);
            if (eq == std::string::npos) break;
            const std::string key(trim(std::string_view(tag).substr(a, eq - a)));
            std::size_t q = eq + 1;
            while (q < tag.size() && is_ws(tag[q])) ++q;
            if (q >= tag.size() || (tag[q] != '"' && tag[q] != '\'')) break;
            const std::size_t close = tag.find(tag[q], q + 1);
            if (close == std::string::npos) break;
            const std::string value = tag.substr(q + 1, close - q - 1);
            a = close + 1;
            if (key == "file" || key == "path") {
                inc.file = value;
            } else if (key == "relativeToChangelogFile") {
                inc.relative = parse_bool(value);
            } else if (key == "context" || key == "contextFilter" || key == "labels" || key == "errorIfMissing" ||
                       key == "errorIfMissingOrEmpty" || key == "created") {
            } else if (key == "ignore") {
                if (parse_bool(value)) inc.file.clear(), inc.line = -1;
            } else {
                throw error_at(path, line, "attribute " + key + " of <" + name + ">: pgmig cannot apply it",
                               "keep this changelog with Liquibase, or " + std::string(kDocs));
            }
        }
        if (inc.line == -1) continue;  // ignore="true"
        if (inc.file.empty()) {
            throw error_at(path, line, "<" + name + "> without " + (inc.all ? "path" : "file"), "add it");
        }
        out.push_back(inc);
    }
    return out;
}

std::string unquote(std::string_view v) {
    v = trim(v);
    if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front()) {
        v = v.substr(1, v.size() - 2);
    }
    return std::string(v);
}

// The include / includeAll entries of a YAML changelog (block or one-line flow style).
std::vector<Include> yaml_includes(const fs::path& path, const std::string& text) {
    std::vector<Include> out;
    const std::vector<Line> lines = split_lines(text);
    std::optional<Include> current;
    std::size_t item_indent = 0;
    const auto flush = [&]() {
        if (!current) return;
        if (current->file.empty()) {
            throw error_at(path, current->line,
                           std::string(current->all ? "includeAll without path" : "include without file"), "add it");
        }
        if (current->line >= 0) out.push_back(*current);
        current.reset();
    };
    const auto set = [&](const fs::path& p, int line, const std::string& key, const std::string& value) {
        if (key == "file" || key == "path") {
            current->file = value;
        } else if (key == "relativeToChangelogFile") {
            current->relative = parse_bool(value);
        } else if (key == "ignore") {
            if (parse_bool(value)) current->line = -1;
        } else if (key != "context" && key != "contextFilter" && key != "labels" && key != "errorIfMissing" &&
                   key != "errorIfMissingOrEmpty") {
            throw error_at(p, line, "key " + key + " of an include: pgmig cannot apply it",
                           "keep this changelog with Liquibase, or " + std::string(kDocs));
        }
    };
    for (const Line& l : lines) {
        std::string_view t = l.text;
        if (const std::size_t hash = t.find(" #"); hash != std::string_view::npos) t = t.substr(0, hash);
        if (trim(t).empty() || trim(t).starts_with("#")) continue;
        const std::size_t indent = t.size() - trim_left(t).size();
        std::string_view s = trim(t);
        if (s == "databaseChangeLog:" || s == "---") continue;
        if (s.starts_with("- ")) {
            flush();
            s = trim(s.substr(2));
            const std::size_t colon = s.find(':');
            const std::string name(trim(s.substr(0, colon)));
            if (name != "include" && name != "includeAll") {
                throw error_at(path, l.number,
                               name +
                                   " in the changelog: pgmig reads changelogs that include "
                                   "formatted SQL files (include, includeAll)",
                               "keep this changelog with Liquibase, or " + std::string(kDocs));
            }
            current = Include{name == "includeAll", {}, false, l.number};
            item_indent = indent;
            std::string_view flow = colon == std::string_view::npos ? "" : trim(s.substr(colon + 1));
            if (flow.starts_with("{") && flow.ends_with("}")) {
                flow = flow.substr(1, flow.size() - 2);
                std::size_t p = 0;
                while (p <= flow.size()) {
                    std::size_t comma = flow.find(',', p);
                    if (comma == std::string_view::npos) comma = flow.size();
                    const std::string_view pair = flow.substr(p, comma - p);
                    const std::size_t c = pair.find(':');
                    if (c != std::string_view::npos) {
                        set(path, l.number, std::string(trim(pair.substr(0, c))), unquote(pair.substr(c + 1)));
                    }
                    p = comma + 1;
                }
            }
            continue;
        }
        if (current && indent > item_indent) {
            const std::size_t colon = s.find(':');
            if (colon == std::string_view::npos) continue;
            set(path, l.number, std::string(trim(s.substr(0, colon))), unquote(s.substr(colon + 1)));
            continue;
        }
        throw error_at(path, l.number,
                       "'" + std::string(s) +
                           "' in the changelog: pgmig reads include and "
                           "includeAll entries only",
                       "keep this changelog with Liquibase, or " + std::string(kDocs));
    }
    flush();
    return out;
}

// Where a non-relative include points: Liquibase looks in its search path, which pgmig does not know, so it
// takes the first folder, from the changelog's own up to the root, under which the path exists.
fs::path resolve_search_path(const fs::path& changelog_dir, const std::string& file) {
    std::error_code ec;
    for (fs::path base = fs::absolute(changelog_dir, ec);; base = base.parent_path()) {
        if (fs::exists(base / file, ec)) return base / file;
        if (base == base.parent_path()) break;
    }
    return changelog_dir / file;
}

bool is_formatted_sql(const fs::path& p) {
    const std::string head = read_head(p);
    for (const Line& l : split_lines(head)) {
        if (trim(l.text).empty()) continue;
        return is_header(l.text);
    }
    return false;
}

void expand(const fs::path& changelog, const std::string& logical, std::vector<ChangelogFile>& out, int depth);

void add_file(const fs::path& file, const std::string& logical, std::vector<ChangelogFile>& out, int depth,
              const fs::path& from, int from_line) {
    std::error_code ec;
    if (!fs::is_regular_file(file, ec)) {
        throw error_at(from, from_line, "the changelog includes " + generic(file) + ", which does not exist",
                       "check the path (pgmig resolves it from the changelog's folder and its parents)");
    }
    const std::string ext = to_lower(file.extension().string());
    if (ext == ".sql") {
        if (!is_formatted_sql(file)) {
            throw MigrationFileError(file.string(),
                                     "not a Liquibase formatted SQL file (it does not start with "
                                     "--liquibase formatted sql)",
                                     "pgmig reads formatted SQL changelogs; add the header and --changeset lines, "
                                     "or keep it with Liquibase");
        }
        out.push_back({file, logical});
    } else if (ext == ".xml" || ext == ".yaml" || ext == ".yml") {
        expand(file, logical, out, depth + 1);
    } else {
        throw error_at(from, from_line, "the changelog includes " + generic(file) + ", which pgmig cannot read",
                       "pgmig reads formatted SQL files and XML/YAML changelogs of includes");
    }
}

void expand(const fs::path& changelog, const std::string& logical, std::vector<ChangelogFile>& out, int depth) {
    if (depth > 20) {
        throw MigrationFileError(changelog.string(), "changelogs include each other more than 20 levels deep",
                                 "look for an include cycle");
    }
    const std::string text = read_checked(changelog);
    const std::string ext = to_lower(changelog.extension().string());
    const std::vector<Include> includes =
        ext == ".xml" ? xml_includes(changelog, text) : yaml_includes(changelog, text);
    const fs::path dir = changelog.parent_path();
    const std::string logical_dir = generic(fs::path(logical).parent_path());
    for (const Include& inc : includes) {
        const std::string file = strip_classpath(inc.file);
        const fs::path target = inc.relative ? dir / file : resolve_search_path(dir, file);
        const std::string target_logical =
            inc.relative ? generic(fs::path(logical_dir) / file) : generic(fs::path(file));
        if (!inc.all) {
            add_file(target, target_logical, out, depth, changelog, inc.line);
            continue;
        }
        std::error_code ec;
        if (!fs::is_directory(target, ec)) {
            throw error_at(changelog, inc.line, "includeAll of " + generic(target) + ", which is not a folder",
                           "check the path");
        }
        std::vector<fs::path> found;
        for (fs::recursive_directory_iterator it(target, ec), end; !ec && it != end; it.increment(ec)) {
            std::error_code t;
            const std::string e = to_lower(it->path().extension().string());
            if (it->is_regular_file(t) && (e == ".sql" || e == ".xml" || e == ".yaml" || e == ".yml")) {
                found.push_back(it->path());
            }
        }
        std::sort(found.begin(), found.end(),
                  [](const fs::path& a, const fs::path& b) { return generic(a) < generic(b); });
        for (const fs::path& f : found) {
            add_file(f, generic(fs::path(target_logical) / f.lexically_relative(target)), out, depth, changelog,
                     inc.line);
        }
    }
}

std::vector<ChangelogFile> changelog_files(const fs::path& dir) {
    std::vector<fs::path> masters;
    for (const char* ext : {".xml", ".yaml", ".yml"}) {
        for (const fs::path& p : files_in(dir, ext)) {
            if (holds_changelog(p)) masters.push_back(p);
        }
    }
    std::vector<ChangelogFile> out;
    if (masters.size() > 1) {
        // The master is the one whose name no other changelog mentions (includes name the files they include).
        std::vector<fs::path> roots;
        for (const fs::path& m : masters) {
            bool included = false;
            for (const fs::path& other : masters) {
                if (other != m && read_checked(other).find(m.filename().string()) != std::string::npos) included = true;
            }
            if (!included) roots.push_back(m);
        }
        if (roots.size() != 1) {
            std::string names;
            for (const fs::path& m : masters) names += (names.empty() ? "" : ", ") + m.filename().string();
            throw MigrationFileError(dir.string(), "several changelogs and no single master among them: " + names,
                                     "keep one master changelog in the folder, or point --dir at its folder");
        }
        masters = roots;
    }
    if (masters.size() == 1) {
        expand(masters.front(), masters.front().filename().string(), out, 0);
        return out;
    }
    // No master: every formatted SQL file, in path order (what includeAll of the folder would take).
    std::vector<fs::path> found;
    std::error_code ec;
    for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        std::error_code t;
        if (it->is_regular_file(t) && it->path().extension() == ".sql") found.push_back(it->path());
    }
    std::sort(found.begin(), found.end(), [](const fs::path& a, const fs::path& b) { return generic(a) < generic(b); });
    for (const fs::path& f : found) add_file(f, generic(f.lexically_relative(dir)), out, 0, dir, 0);
    return out;
}

bool detect(const fs::path& dir) {
    for (const fs::path& p : files_in(dir, ".sql")) {
        if (is_formatted_sql(p)) return true;
    }
    for (const char* ext : {".xml", ".yaml", ".yml"}) {
        for (const fs::path& p : files_in(dir, ext)) {
            if (holds_changelog(p)) return true;
        }
    }
    return false;
}

std::vector<MigrationFile> load(const fs::path& dir) {
    std::vector<MigrationFile> out;
    std::map<std::string, std::string> seen;  // tool_id -> file
    int ordinal = 0;
    for (const ChangelogFile& f : changelog_files(dir)) {
        for (MigrationFile& m : parse_liquibase_file(f.path, read_checked(f.path), f.logical, ++ordinal)) {
            if (const auto it = seen.find(m.tool_id); it != seen.end()) {
                throw error_at(m.path, m.up_first_line - 1, "changeset " + m.tool_id + " is also in " + it->second,
                               "Liquibase refuses duplicate changesets too: give one another id");
            }
            seen[m.tool_id] = m.path.string();
            out.push_back(std::move(m));
        }
    }
    return out;  // versions FILE.CHANGESET: their order is the changelog's
}

}  // namespace

std::vector<MigrationFile> parse_liquibase_file(const fs::path& path, std::string_view content,
                                                const std::string& logical_path, int file_ordinal) {
    check_file_bytes(path.string(), content);
    const std::vector<Line> lines = split_lines(content);
    std::size_t first = 0;
    while (first < lines.size() && trim(lines[first].text).empty()) ++first;
    if (first == lines.size() || !is_header(lines[first].text)) {
        throw MigrationFileError(path.string(),
                                 "not a Liquibase formatted SQL file: its first line is not "
                                 "--liquibase formatted sql",
                                 "add that line, or move the file out of the folder");
    }
    refuse_pgmig_sections(path, lines, "Liquibase formatted SQL", "--changeset");
    const std::string header_logical = attribute(lines[first].text, "logicalFilePath").value_or("");

    std::vector<bool> blank(lines.size(), false);  // lines Liquibase does not run as the changeset's SQL
    std::vector<Changeset> sets;
    for (std::size_t i = first + 1; i < lines.size(); ++i) {
        const Line& l = lines[i];
        const std::string_view t = l.text;
        if (const auto p = after_dashes_word(t, "property", true); p && !p->empty() && is_ws(p->front())) {
            throw error_at(path, l.number, "a --property line: pgmig does not substitute changelog parameters",
                           "put the values in the SQL, or keep this changelog with Liquibase");
        }
        if (const auto ig = after_dashes_word(t, "ignoreLines:", false)) {
            const std::string arg(trim(*ig));
            blank[i] = true;
            if (to_lower(arg) == "start") {
                std::size_t j = i + 1;
                for (; j < lines.size(); ++j) {
                    blank[j] = true;
                    const auto e = after_dashes_word(lines[j].text, "ignoreLines:", false);
                    if (e && to_lower(trim(*e)) == "end") break;
                }
                if (j == lines.size()) {
                    throw error_at(path, l.number, "--ignoreLines:start without --ignoreLines:end", "add the end line");
                }
                i = j;
            } else if (is_digits(arg) && arg.size() < 7) {
                const std::size_t n = std::stoul(arg);
                for (std::size_t j = i + 1; j <= i + n && j < lines.size(); ++j) blank[j] = true;
                i += n;
            } else {
                throw error_at(path, l.number, "unknown --ignoreLines:" + arg,
                               "use --ignoreLines:start / end or a count");
            }
            continue;
        }
        if (const auto cs = parse_changeset_line(path, l)) {
            Changeset c;
            c.line = i;
            c.head = *cs;
            c.attributes = parse_attributes(path, l, cs->attributes);
            sets.push_back(std::move(c));
            blank[i] = true;
            continue;
        }
        if (sets.empty()) {
            if (after_dashes_word(t, "comment", false)) {
                throw error_at(path, l.number, "a --comment line before the first --changeset",
                               "Liquibase refuses it too: move it into a changeset");
            }
            if (!is_blank_or_comment(t)) {
                throw error_at(path, l.number, "SQL before the first --changeset",
                               "move it into a changeset, or remove it", ", which Liquibase would skip");
            }
            continue;
        }
        Changeset& c = sets.back();
        const auto comment = after_dashes_word(t, "comment", false);
        if (comment && (comment->starts_with(": ") || comment->starts_with(" "))) {
            blank[i] = true;
        } else if (const auto v = after_dashes_word(t, "validCheckSum", false);
                   v && (v->starts_with(": ") || v->starts_with(" "))) {
            blank[i] = true;
        } else if (const auto r = after_dashes_word(t, "rollback", true); r && r->starts_with(" ")) {
            blank[i] = true;
            if (const std::string p = parameter_in(*r); !p.empty()) {
                throw error_at(path, l.number, "a changelog parameter " + p + " in the rollback",
                               "pgmig does not substitute Liquibase parameters: put the value in the SQL");
            }
            c.rollback += std::string(r->substr(1)) + "\n";
            c.has_rollback = true;
            if (!c.rollback_line) c.rollback_line = l.number;
        } else if (const std::string_view s = trim(t); s.starts_with("/*") && [&] {
                       const auto w = trim_left(s.substr(2));
                       return starts_with_nocase(w, "liquibase") &&
                              to_lower(trim(trim_left(w.substr(9)))) == "rollback";
                   }()) {
            blank[i] = true;
            if (!c.rollback_line) c.rollback_line = l.number;
            std::size_t j = i + 1;
            for (; j < lines.size(); ++j) {
                blank[j] = true;
                const std::string_view e = trim(lines[j].text);
                if (e.ends_with("*/")) {
                    const std::string_view last = trim(e.substr(0, e.size() - 2));
                    if (!last.empty()) c.rollback += std::string(last) + "\n";
                    break;
                }
                c.rollback += std::string(lines[j].text) + "\n";
            }
            if (j == lines.size()) {
                throw error_at(path, l.number, "a /* liquibase rollback block that is never closed",
                               "close it with */");
            }
            c.has_rollback = true;
            i = j;
        } else if (after_dashes_word(t, "preconditions", true)) {
            blank[i] = true;  // with no --precondition-* line of its own it checks nothing
        } else if (const auto pc = after_dashes_word(t, "precondition-", true)) {
            throw error_at(path, l.number,
                           "a --precondition-" + std::string(trim(*pc)).substr(0, 40) +
                               " check: pgmig runs every changeset it applies",
                           "keep this changeset with Liquibase, or remove the precondition if it always holds "
                           "on the databases you migrate");
        } else if (const std::string param = parameter_in(t); !param.empty() && !is_blank_or_comment(t)) {
            throw error_at(path, l.number, "a changelog parameter " + param,
                           "pgmig does not substitute Liquibase parameters: put the value in the SQL, or keep "
                           "this changelog with Liquibase");
        }
    }

    std::vector<MigrationFile> out;
    for (std::size_t k = 0; k < sets.size(); ++k) {
        const Changeset& c = sets[k];
        const std::size_t begin = c.line + 1;
        const std::size_t end = k + 1 < sets.size() ? sets[k + 1].line : lines.size();
        if (c.attributes.skip) continue;  // ignore:true, or dbms without PostgreSQL: Liquibase skips it
        // Liquibase's Oracle-style delimiter: a last line "/" ends the statement.
        for (std::size_t j = end; j > begin; --j) {
            if (blank[j - 1] || trim(lines[j - 1].text).empty()) continue;
            if (trim(lines[j - 1].text) == "/") {
                throw error_at(path, lines[j - 1].number,
                               "a line '/' ending the changeset (Liquibase's Oracle-style "
                               "delimiter)",
                               "PostgreSQL does not know it: keep this changeset with Liquibase");
            }
            break;
        }
        MigrationFile m;
        m.path = path;
        m.file_name = path.filename().string();
        m.version = std::to_string(file_ordinal) + "." + std::to_string(k + 1);
        m.name = safe_name(c.head.id);
        const std::string file = !c.attributes.logical_path.empty() ? c.attributes.logical_path
                                 : !header_logical.empty()          ? header_logical
                                                                    : logical_path;
        m.tool_id = c.head.id + ":" + c.head.author + ":" + file;  // databasechangelog id, author, filename
        m.up_first_line = lines[c.line].number + 1;
        m.up_sql = slice_blanking(content, lines, begin, end, blank);
        m.directives = pgmig_directives(lines, begin, end);
        if (c.has_rollback) {
            const std::string r = to_lower(trim(c.rollback));
            if (r.starts_with("not required") || r.starts_with("empty")) {
                m.down_sql = noop_down("Liquibase", std::nullopt);  // nothing to undo
            } else if (r.find("changesetid") != std::string::npos) {
                const auto id = attribute(c.rollback, "changesetId");
                const auto author = attribute(c.rollback, "changesetAuthor");
                const auto changeset_path = attribute(c.rollback, "changesetPath");
                const MigrationFile* target = nullptr;
                for (const MigrationFile& prev : out) {
                    if (id && author && prev.tool_id == *id + ":" + *author + ":" + changeset_path.value_or(file)) {
                        target = &prev;
                    }
                }
                if (!target) {
                    throw error_at(path, c.rollback_line,
                                   "a rollback that runs another changeset, not found earlier in this file",
                                   "pgmig resolves changesetId/changesetAuthor within the same file only");
                }
                m.down_sql = target->up_sql;
            } else {
                m.down_sql = c.rollback;
            }
        }
        set_options(m, c.attributes.transactional);
        out.push_back(std::move(m));
    }
    return out;
}

FolderReader liquibase_reader() { return {FolderFormat::liquibase, detect, load}; }

}  // namespace pgmig::client::formats
