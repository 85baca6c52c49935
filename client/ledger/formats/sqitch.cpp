// A Sqitch project: sqitch.conf (engine, where the plan and the scripts are), sqitch.plan (the changes in
// deployment order, their dependencies, tags and reworks) and deploy/<change>.sql, revert/<change>.sql
// (verify/ is not run). Sqitch runs the scripts with psql. Changes get ordinal versions in plan order; the
// tool_id is the change id Sqitch stores in sqitch.changes.change_id, computed as App::Sqitch::Plan::Change
// does (a SHA-1 over the change's plan information, chained to the previous change's id).
#include "client/ledger/formats/folder_files.hpp"
#include "client/ledger/formats/formats.hpp"
#include "client/ledger/formats/sql_scan.hpp"
#include "client/ledger/formats/support.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <optional>
#include <set>
#include <system_error>

namespace pgmig::client::formats {

namespace {

namespace fs = std::filesystem;

bool detect(const fs::path& dir) { return is_file(dir / "sqitch.plan") || is_file(dir / "sqitch.conf"); }

bool is_blank(char c) { return c == ' ' || c == '\t'; }

std::string_view trim_blanks(std::string_view s) {
    while (!s.empty() && is_blank(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_blank(s.back())) s.remove_suffix(1);
    return s;
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

// Calls f(line without its line ending, 1-based number) for every line.
template <typename F>
void each_line(const std::string& text, F&& f) {
    std::size_t pos = 0;
    int no = 0;
    while (pos < text.size()) {
        std::size_t nl = text.find('\n', pos);
        if (nl == std::string::npos) nl = text.size();
        std::string_view line(text.data() + pos, nl - pos);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        f(line, ++no);
        pos = nl + 1;
    }
}

// ---- sqitch.conf (Git's config syntax) ----

struct Conf {
    std::map<std::string, std::string> values;  // "core.engine", "engine.pg.top_dir", "target.prod.plan_file"...
    std::set<std::string> variables;            // names set in any *.variables section

    const std::string* get(const std::string& key) const {
        const auto it = values.find(key);
        return it == values.end() || it->second.empty() ? nullptr : &it->second;
    }
};

std::string conf_value(std::string_view raw) {
    std::string out;
    bool quoted = false;
    for (std::size_t i = 0; i < raw.size(); ++i) {
        const char c = raw[i];
        if (c == '"') {
            quoted = !quoted;
        } else if (c == '\\' && i + 1 < raw.size()) {
            const char n = raw[++i];
            out.push_back(n == 'n' ? '\n' : n == 't' ? '\t' : n);
        } else if (!quoted && (c == '#' || c == ';')) {
            break;
        } else {
            out.push_back(c);
        }
    }
    return std::string(trim_blanks(out));
}

Conf read_conf(const fs::path& file) {
    Conf conf;
    const std::string text = read_checked(file);
    std::string section;  // "core", "engine.pg", "target.prod", "deploy.variables"...
    each_line(text, [&](std::string_view raw, int no) {
        const std::string_view line = trim_blanks(raw);
        if (line.empty() || line.front() == '#' || line.front() == ';') return;
        if (line.front() == '[') {
            const std::size_t close = line.find(']');
            if (close == std::string_view::npos) {
                refuse(file, no, "a section header without ']'", "fix the line (Git's config syntax)");
            }
            std::string_view head = trim_blanks(line.substr(1, close - 1));
            const std::size_t quote = head.find('"');
            if (quote != std::string_view::npos) {
                const std::size_t end = head.rfind('"');
                section = lower(trim_blanks(head.substr(0, quote))) + "." +
                          std::string(head.substr(quote + 1, end > quote ? end - quote - 1 : 0));
            } else {
                section = lower(head);
            }
            return;
        }
        const std::size_t eq = line.find('=');
        const std::string key = lower(trim_blanks(line.substr(0, eq)));
        const std::string value = eq == std::string_view::npos ? "true" : conf_value(line.substr(eq + 1));
        if (section.ends_with(".variables") || section == "variables") {
            conf.variables.insert(key);
            return;
        }
        conf.values[section + "." + key] = value;
    });
    return conf;
}

// Where the plan and the scripts are, looked up as Sqitch's Target does: target.<name>.key, then
// engine.pg.key, then core.key.
struct Layout {
    fs::path plan_file;
    fs::path deploy_dir, revert_dir, reworked_deploy_dir, reworked_revert_dir;
    std::string extension = "sql";
    std::set<std::string> variables;
};

Layout layout_of(const fs::path& dir) {
    Layout layout;
    Conf conf;
    const fs::path conf_file = dir / "sqitch.conf";
    if (is_file(conf_file)) conf = read_conf(conf_file);
    if (const std::string* engine = conf.get("core.engine"); engine && *engine != "pg") {
        refuse(conf_file, 0, "the project's engine is '" + *engine + "', not pg",
               "pgmig applies PostgreSQL projects only (core.engine = pg)");
    }
    std::string target;
    if (const std::string* t = conf.get("engine.pg.target"))
        target = *t;
    else if (const std::string* t2 = conf.get("core.target"))
        target = *t2;
    const auto fetch = [&](const std::string& key) -> const std::string* {
        if (!target.empty()) {
            if (const std::string* v = conf.get("target." + target + "." + key)) return v;
        }
        if (const std::string* v = conf.get("engine.pg." + key)) return v;
        return conf.get("core." + key);
    };
    const fs::path top = fetch("top_dir") ? dir / *fetch("top_dir") : dir;
    layout.plan_file = fetch("plan_file") ? dir / *fetch("plan_file") : top / "sqitch.plan";
    const fs::path reworked = fetch("reworked_dir") ? dir / *fetch("reworked_dir") : top;
    for (const char* script : {"deploy", "revert"}) {
        const std::string key = std::string(script) + "_dir";
        const fs::path plain = fetch(key) ? dir / *fetch(key) : top / script;
        fs::path rework;
        if (const std::string* r = fetch("reworked_" + key)) {
            rework = dir / *r;
        } else if (const std::string* d = fetch(key)) {
            rework = reworked / *d;
        } else {
            rework = reworked / script;
        }
        (std::string(script) == "deploy" ? layout.deploy_dir : layout.revert_dir) = plain.lexically_normal();
        (std::string(script) == "deploy" ? layout.reworked_deploy_dir : layout.reworked_revert_dir) =
            rework.lexically_normal();
    }
    if (const std::string* e = fetch("extension")) layout.extension = *e;
    layout.variables = conf.variables;
    return layout;
}

// ---- sqitch.plan ----

constexpr std::string_view kPunct = "-!\"#$%&'()*+,./:;<=>?@[\\]^`{|}~";

bool is_punct(char c) { return kPunct.find(c) != std::string_view::npos; }

// Sqitch's name rule: no blanks, ':', '@', '#' or '\', neither beginning nor ending with punctuation, not
// ending in punctuation followed by digits ("foo^2" means something else).
bool valid_name(std::string_view name) {
    if (name.empty() || is_punct(name.front()) || is_punct(name.back())) return false;
    for (char c : name) {
        if (is_blank(c) || c == ':' || c == '@' || c == '#' || c == '\\') return false;
    }
    std::size_t d = name.size();
    while (d > 0 && std::isdigit(static_cast<unsigned char>(name[d - 1])) != 0) --d;
    if (d < name.size() && d > 0 && std::string_view("~/=%^[]").find(name[d - 1]) != std::string_view::npos) {
        return false;
    }
    return true;
}

bool looks_like_sha1(std::string_view name) {
    if (name.size() < 40) return false;
    return std::all_of(name.begin(), name.begin() + 40,
                       [](char c) { return std::isdigit(c) || (c >= 'a' && c <= 'f'); });
}

struct Dep {
    bool conflicts = false;
    std::optional<std::string> project;
    std::string change, tag, id;

    std::string key_name() const {
        if (!change.empty() || !tag.empty()) return change + (tag.empty() ? "" : "@" + tag);
        return id;
    }
    // Depend->as_string: the project is named only when it is another one.
    std::string as_string(const std::string& plan_project) const {
        return project && *project != plan_project ? *project + ":" + key_name() : key_name();
    }
};

std::optional<Dep> parse_dep(std::string_view s) {
    Dep d;
    if (!s.empty() && s.front() == '!') {
        d.conflicts = true;
        s.remove_prefix(1);
    }
    if (const std::size_t colon = s.find(':'); colon != std::string_view::npos) {
        const std::string_view project = s.substr(0, colon);
        if (!valid_name(project)) return std::nullopt;
        d.project = std::string(project);
        s.remove_prefix(colon + 1);
    }
    if (s.size() == 40 && looks_like_sha1(s)) {
        d.id = std::string(s);
        return d;
    }
    const std::size_t at = s.find('@');
    d.change = std::string(s.substr(0, at));
    if (at != std::string_view::npos) d.tag = std::string(s.substr(at + 1));
    if (d.change.empty() && d.tag.empty()) return std::nullopt;
    if (!d.change.empty() && !valid_name(d.change)) return std::nullopt;
    if (at != std::string_view::npos && !valid_name(d.tag)) return std::nullopt;
    return d;
}

struct Change {
    std::string name;
    int line = 0;
    std::vector<Dep> requires_, conflicts;
    std::string timestamp, planner_name, planner_email, note;
    std::vector<std::string> tags;         // the tags that follow it in the plan
    std::vector<std::string> rework_tags;  // set when a later change of the same name reworks it
    std::string id;
};

struct Plan {
    std::string project, uri;
    std::vector<Change> changes;
};

// A line's trailing "# note", as Sqitch strips it (the first '#' starts it), unescaped and trimmed.
std::string take_note(std::string_view& line) {
    const std::size_t hash = line.find('#');
    std::string note;
    if (hash != std::string_view::npos) {
        std::string_view raw = line.substr(hash + 1);
        while (!raw.empty() && std::isspace(static_cast<unsigned char>(raw.front()))) raw.remove_prefix(1);
        while (!raw.empty() && std::isspace(static_cast<unsigned char>(raw.back()))) raw.remove_suffix(1);
        for (std::size_t i = 0; i < raw.size(); ++i) {
            if (raw[i] == '\\' && i + 1 < raw.size() &&
                (raw[i + 1] == 'n' || raw[i + 1] == 'r' || raw[i + 1] == '\\')) {
                note.push_back(raw[i + 1] == 'n' ? '\n' : raw[i + 1] == 'r' ? '\r' : '\\');
                ++i;
            } else {
                note.push_back(raw[i]);
            }
        }
        line = line.substr(0, hash);
    }
    while (!line.empty() && is_blank(line.back())) line.remove_suffix(1);
    return note;
}

// A blank line or a comment line ("# text"), which Sqitch keeps as a Blank.
bool blank_or_comment(std::string_view line, bool& has_note) {
    std::string_view s = line;
    while (!s.empty() && is_blank(s.front())) s.remove_prefix(1);
    has_note = false;
    if (s.empty()) return true;
    if (s.front() != '#' || s.size() < 2) return false;
    s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    has_note = !s.empty();
    return true;
}

bool is_timestamp(std::string_view s) {
    static constexpr std::string_view shape = "dddd-dd-ddTdd:dd:ddZ";
    if (s.size() < shape.size()) return false;
    for (std::size_t i = 0; i < shape.size(); ++i) {
        if (shape[i] == 'd' ? std::isdigit(static_cast<unsigned char>(s[i])) == 0 : s[i] != shape[i]) return false;
    }
    return true;
}

class PlanReader {
  public:
    explicit PlanReader(fs::path file) : file_(std::move(file)) {}

    Plan read() {
        const std::string text = read_checked(file_);
        bool in_header = true;
        each_line(text, [&](std::string_view raw, int no) { in_header ? header(raw, no, in_header) : body(raw, no); });
        if (plan_.project.empty()) {
            refuse(file_, 0, "no %project pragma", "Sqitch needs one too: add %project=NAME at the top");
        }
        check_section();
        return std::move(plan_);
    }

  private:
    [[noreturn]] void syntax(int line, const std::string& what, const std::string& advice = "fix the line") const {
        refuse(file_, line, what, advice + " (Sqitch refuses the plan too)");
    }

    void header(std::string_view raw, int no, bool& in_header) {
        bool note = false;
        if (blank_or_comment(raw, note)) {
            if (!note) in_header = false;  // the first blank line ends the pragmas
            return;
        }
        std::string_view line = raw;
        take_note(line);
        line = trim_blanks(line);
        if (line.empty() || line.front() != '%') {
            if (!saw_pragma_) {
                // A plan without pragmas is parsed as one without %project: Sqitch refuses it.
                syntax(no, "a change before the %syntax-version / %project pragmas and the blank line after them",
                       "start the plan with %syntax-version=1.0.0, %project=NAME and a blank line");
            }
            syntax(no, "not a pragma; a blank line must come between the pragmas and the changes");
        }
        saw_pragma_ = true;
        line.remove_prefix(1);
        line = trim_blanks(line);
        const std::size_t eq = line.find('=');
        const std::string name(trim_blanks(line.substr(0, eq)));
        const std::string value = eq == std::string_view::npos ? "" : std::string(trim_blanks(line.substr(eq + 1)));
        if (name == "project") {
            if (!valid_name(value)) syntax(no, "invalid project name '" + value + "'");
            plan_.project = value;
        } else if (name == "uri") {
            plan_.uri = value;
        }
    }

    void body(std::string_view raw, int no) {
        bool note_only = false;
        if (blank_or_comment(raw, note_only)) return;
        std::string_view line = raw;
        std::string note = take_note(line);
        std::size_t p = 0;
        const auto skip_blanks = [&] {
            while (p < line.size() && is_blank(line[p])) ++p;
        };
        skip_blanks();
        const bool tag = p < line.size() && line[p] == '@';
        if (tag) {
            ++p;
        } else if (p < line.size() && (line[p] == '+' || line[p] == '-')) {
            if (line[p] == '-') {
                syntax(no, "a change marked '-' (reverted in the plan)",
                       "pgmig replays a plan from the start and cannot take a change out of it part-way");
            }
            ++p;
            skip_blanks();
        }
        std::size_t e = p;
        while (e < line.size() && !is_blank(line[e]) && line[e] != '[') ++e;
        const std::string name(line.substr(p, e - p));
        if (!valid_name(name)) {
            syntax(no, "invalid name '" + name +
                           "': names must not begin with punctuation, contain '@', ':', '#', '\\', '[', ']' or blanks, "
                           "or end in punctuation or digits following punctuation");
        }
        if (name == "HEAD" || name == "ROOT") syntax(no, "'" + name + "' is a reserved name");
        // A name with '/' is a path under deploy/ and revert/: it must stay inside them.
        if (("/" + name + "/").find("/../") != std::string::npos || name.find("//") != std::string::npos) {
            syntax(no, "the name '" + name + "' leads out of deploy/ and revert/",
                   "give the change a name without '..'");
        }
        if (looks_like_sha1(name)) syntax(no, "'" + name + "' could be confused with a SHA-1 id");
        p = e;
        skip_blanks();
        std::string deps;
        if (p < line.size() && line[p] == '[') {
            const std::size_t close = line.find(']', p);
            if (close == std::string_view::npos) syntax(no, "dependencies without ']'");
            deps = std::string(line.substr(p + 1, close - p - 1));
            p = close + 1;
            skip_blanks();
        }
        std::string timestamp;
        if (is_timestamp(line.substr(p))) {
            timestamp = std::string(line.substr(p, 20));
            p += 20;
            skip_blanks();
        }
        // Planner: "Name <email>", the name running to the blank before the first '<'.
        const std::string_view rest = line.substr(p);
        const std::size_t lt = rest.find('<');
        std::string planner_name, planner_email;
        if (lt != std::string_view::npos && lt >= 2 && is_blank(rest[lt - 1]) && rest.back() == '>' &&
            rest.find('>') == rest.size() - 1 && rest.size() > lt + 2) {
            planner_name = std::string(rest.substr(0, lt - 1));
            planner_email = std::string(rest.substr(lt + 1, rest.size() - lt - 2));
        } else if (!rest.empty()) {
            syntax(no, "cannot read '" + std::string(rest) + "' as the planner's name and <email>");
        }
        if (timestamp.empty() && planner_name.empty()) syntax(no, "missing timestamp and planner name and email");
        if (timestamp.empty()) syntax(no, "missing timestamp");
        if (planner_name.empty()) syntax(no, "missing planner name and email");

        if (tag) {
            if (name.find('/') != std::string::npos) syntax(no, "tag '" + name + "' contains '/'");
            if (plan_.changes.empty()) syntax(no, "tag '" + name + "' declared without a preceding change");
            if (const auto it = seen_.find("@" + name); it != seen_.end()) {
                syntax(no, "tag '" + name + "' duplicates the one on line " + std::to_string(it->second));
            }
            if (!deps.empty()) syntax(no, "tags may not have dependencies");
            check_section();
            plan_.changes.back().tags.push_back(name);
            for (std::size_t i : section_) seen_[plan_.changes[i].name] = plan_.changes[i].line;
            seen_["@" + name] = no;
            section_.clear();
            return;
        }

        for (std::size_t i : section_) {
            if (plan_.changes[i].name == name) {
                syntax(no, "change '" + name + "' duplicates the one on line " + std::to_string(plan_.changes[i].line),
                       "tag the plan between a change and its rework");
            }
        }
        Change c;
        c.name = name;
        c.line = no;
        c.timestamp = timestamp;
        c.planner_name = planner_name;
        c.planner_email = planner_email;
        c.note = note;
        std::set<std::string> seen_deps;
        std::size_t q = 0;
        while (q < deps.size()) {
            while (q < deps.size() && is_blank(deps[q])) ++q;
            std::size_t r = q;
            while (r < deps.size() && !is_blank(deps[r])) ++r;
            if (r == q) break;
            const std::string spec = deps.substr(q, r - q);
            const auto dep = parse_dep(spec);
            if (!dep) syntax(no, "'" + spec + "' is not a valid dependency");
            if (!seen_deps.insert(spec).second) syntax(no, "duplicate dependency '" + spec + "'");
            (dep->conflicts ? c.conflicts : c.requires_).push_back(*dep);
            q = r;
        }
        // A change planned again after a tag reworks the earlier one, whose scripts become name@TAG.sql.
        for (std::size_t i = plan_.changes.size(); i-- > 0;) {
            if (plan_.changes[i].name != name) continue;
            std::vector<std::string> rework;
            for (std::size_t k = plan_.changes.size(); k-- > i + 1;) {
                for (const std::string& t : plan_.changes[k].tags) rework.push_back(t);
            }
            for (const std::string& t : plan_.changes[i].tags) rework.push_back(t);
            Change& old = plan_.changes[i];
            old.rework_tags.insert(old.rework_tags.end(), rework.begin(), rework.end());
            break;
        }
        section_.push_back(plan_.changes.size());
        plan_.changes.push_back(std::move(c));
    }

    // Sqitch's check of the requirements of the changes since the last tag: each must name a change planned
    // before it (change@tag: a change planned before that tag). Other projects' changes and ids are not checked.
    void check_section() const {
        std::set<std::string> earlier;
        for (std::size_t i : section_) {
            const Change& c = plan_.changes[i];
            for (const Dep& d : c.requires_) {
                if (d.project ? *d.project != plan_.project : !d.id.empty()) continue;
                const std::string key = d.key_name();
                bool ok = false;
                if (const std::size_t at = key.find('@'); at != std::string::npos && at > 0) {
                    const auto tag_at = seen_.find(key.substr(at));
                    const auto change_at = seen_.find(key.substr(0, at));
                    ok = tag_at != seen_.end() && change_at != seen_.end() && change_at->second < tag_at->second;
                } else {
                    ok = seen_.contains(key) || earlier.contains(key);
                }
                if (!ok) {
                    syntax(c.line,
                           key == c.name ? "change '" + c.name + "' requires itself"
                                         : "change '" + c.name + "' requires '" + key +
                                               "', which the plan does not have before it",
                           "plan the required change first");
                }
            }
            earlier.insert(c.name);
        }
    }

    fs::path file_;
    Plan plan_;
    bool saw_pragma_ = false;
    std::map<std::string, int> seen_;   // changes of earlier tag sections and tags -> their line
    std::vector<std::size_t> section_;  // the changes since the last tag
};

// URI->canonical for the common case: scheme and host in lower case, the default port dropped, an empty
// http(s) path written "/", %-escapes in upper case and those of unreserved characters decoded.
std::string canonical_uri(const std::string& uri) {
    const std::size_t colon = uri.find(':');
    if (colon == std::string::npos) return uri;
    const std::string scheme = lower(uri.substr(0, colon));
    std::string rest = uri.substr(colon + 1);
    std::string out = scheme + ":";
    if (rest.starts_with("//")) {
        const std::size_t path_at = rest.find_first_of("/?#", 2);
        std::string authority = rest.substr(2, path_at == std::string::npos ? std::string::npos : path_at - 2);
        std::string tail = path_at == std::string::npos ? "" : rest.substr(path_at);
        const std::size_t at = authority.rfind('@');
        const std::string userinfo = at == std::string::npos ? "" : authority.substr(0, at + 1);
        std::string hostport = at == std::string::npos ? authority : authority.substr(at + 1);
        const std::size_t port_colon = hostport.rfind(':');
        std::string host = port_colon == std::string::npos ? hostport : hostport.substr(0, port_colon);
        std::string port = port_colon == std::string::npos ? "" : hostport.substr(port_colon + 1);
        const std::map<std::string, std::string> defaults = {{"http", "80"}, {"https", "443"}, {"ftp", "21"}};
        if (const auto d = defaults.find(scheme); d != defaults.end() && (port == d->second || port.empty()))
            port.clear();
        if ((scheme == "http" || scheme == "https") && (tail.empty() || tail.front() != '/')) tail = "/" + tail;
        out += "//" + userinfo + lower(host) + (port.empty() ? "" : ":" + port);
        rest = tail;
    }
    // %-escapes: upper-case hex; decode unreserved characters.
    std::string fixed;
    for (std::size_t i = 0; i < rest.size(); ++i) {
        if (rest[i] == '%' && i + 2 < rest.size() && std::isxdigit(static_cast<unsigned char>(rest[i + 1])) &&
            std::isxdigit(static_cast<unsigned char>(rest[i + 2]))) {
            const int v = std::stoi(rest.substr(i + 1, 2), nullptr, 16);
            const char c = static_cast<char>(v);
            if (std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '.' || c == '_' || c == '~') {
                fixed.push_back(c);
            } else {
                fixed.push_back('%');
                fixed.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(rest[i + 1]))));
                fixed.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(rest[i + 2]))));
            }
            i += 2;
        } else {
            fixed.push_back(rest[i]);
        }
    }
    return out + fixed;
}

// App::Sqitch::Plan::Change's id: SHA-1 of "change <length>\0<info>" where info lists the project, the uri,
// the change's name, its parent's id, planner, date, requirements, conflicts and note.
void compute_ids(Plan& plan) {
    const std::string uri = plan.uri.empty() ? "" : canonical_uri(plan.uri);
    std::string parent;
    for (Change& c : plan.changes) {
        std::string info = "project " + plan.project + "\n";
        if (!uri.empty()) info += "uri " + uri + "\n";
        info += "change " + c.name + "\n";
        if (!parent.empty()) info += "parent " + parent + "\n";
        info += "planner " + c.planner_name + " <" + c.planner_email + ">\n";
        info += "date " + c.timestamp;
        if (!c.requires_.empty()) {
            info += "\nrequires";
            for (const Dep& d : c.requires_) info += "\n  + " + d.as_string(plan.project);
        }
        if (!c.conflicts.empty()) {
            info += "\nconflicts";
            for (const Dep& d : c.conflicts) info += "\n  - " + d.as_string(plan.project);
        }
        if (!c.note.empty() && c.note != "0") info += "\n\n" + c.note;  // Perl's truth
        c.id = sha1_hex("change " + std::to_string(info.size()) + std::string(1, '\0') + info);
        parent = c.id;
    }
}

// ---- scripts ----

// psql's own variables (set by psql, or by Sqitch on psql's command line): a bare :NAME of these is
// replaced by psql, so a script using one cannot run as it stands.
const std::set<std::string>& psql_variables() {
    static const std::set<std::string> names = {"registry",
                                                "AUTOCOMMIT",
                                                "COMP_KEYWORD_CASE",
                                                "DBNAME",
                                                "ECHO",
                                                "ECHO_HIDDEN",
                                                "ENCODING",
                                                "ERROR",
                                                "FETCH_COUNT",
                                                "HIDE_TABLEAM",
                                                "HIDE_TOAST_COMPRESSION",
                                                "HISTCONTROL",
                                                "HISTFILE",
                                                "HISTSIZE",
                                                "HOST",
                                                "IGNOREEOF",
                                                "LASTOID",
                                                "LAST_ERROR_MESSAGE",
                                                "LAST_ERROR_SQLSTATE",
                                                "ON_ERROR_ROLLBACK",
                                                "ON_ERROR_STOP",
                                                "PORT",
                                                "PROMPT1",
                                                "PROMPT2",
                                                "PROMPT3",
                                                "QUIET",
                                                "ROW_COUNT",
                                                "SERVER_VERSION_NAME",
                                                "SERVER_VERSION_NUM",
                                                "SHOW_ALL_RESULTS",
                                                "SHOW_CONTEXT",
                                                "SINGLELINE",
                                                "SINGLESTEP",
                                                "SQLSTATE",
                                                "USER",
                                                "VERBOSITY",
                                                "VERSION",
                                                "VERSION_NAME",
                                                "VERSION_NUM"};
    return names;
}

// A script as PostgreSQL can run it: what only psql would interpret is refused; a BEGIN ... COMMIT wrapper is
// taken off (wrapped = true).
Unwrapped script_text(const fs::path& file, const Layout& layout) {
    std::string text = read_checked(file);
    const ScanResult scan = scan_sql(text);
    for (const PsqlOnly& p : scan.psql_only) {
        if (p.kind == PsqlOnly::Kind::meta_command) {
            refuse(file, p.line, "psql meta-command " + p.text,
                   "pgmig runs the SQL of a script, not psql's commands: do what it does in SQL, or apply this change "
                   "with Sqitch and adopt the database afterwards (pgmig adopt)");
        }
        if (p.quoted || psql_variables().contains(p.name) || layout.variables.contains(p.name)) {
            refuse(file, p.line, "psql variable " + p.text,
                   "pgmig does not substitute psql variables: write the value in the script");
        }
    }
    return strip_transaction_wrapper(file, std::move(text));
}

// A change's scripts' path under deploy/ and revert/: <name>.sql, or for a reworked change <name>@<tag>.sql of
// the first of its rework tags whose deploy script exists (else the first), as Sqitch decides.
fs::path script_segments(const fs::path& deploy_dir, const Change& c, const std::string& ext) {
    if (c.rework_tags.empty()) return c.name + "." + ext;
    std::optional<fs::path> first;
    for (const std::string& tag : c.rework_tags) {
        fs::path candidate = c.name + "@" + tag + "." + ext;
        if (!first) first = candidate;
        if (is_file(deploy_dir / candidate)) return candidate;
    }
    return *first;
}

std::vector<MigrationFile> load(const fs::path& dir) {
    const Layout layout = layout_of(dir);
    if (!is_file(layout.plan_file)) {
        refuse(layout.plan_file, 0, "no such plan file",
               "point --dir at the Sqitch project (the folder of sqitch.plan)");
    }
    Plan plan = PlanReader(layout.plan_file).read();
    compute_ids(plan);
    std::vector<MigrationFile> out;
    for (std::size_t i = 0; i < plan.changes.size(); ++i) {
        const Change& c = plan.changes[i];
        const bool reworked = !c.rework_tags.empty();
        const fs::path deploy_dir = reworked ? layout.reworked_deploy_dir : layout.deploy_dir;
        const fs::path segments = script_segments(deploy_dir, c, layout.extension);
        const fs::path deploy = deploy_dir / segments;
        const fs::path revert = (reworked ? layout.reworked_revert_dir : layout.revert_dir) / segments;
        if (!is_file(deploy)) {
            refuse(layout.plan_file, c.line,
                   "change '" + c.name + "' has no deploy script " + relative_name(dir, deploy),
                   "Sqitch could not deploy it either: restore the script");
        }
        MigrationFile m;
        m.version = std::to_string(i + 1);
        m.name = c.name;
        m.path = deploy;
        m.file_name = relative_name(dir, deploy);
        const Unwrapped up = script_text(deploy, layout);
        m.up_sql = up.text;
        // psql runs a script that does not wrap itself in a transaction statement by statement (autocommit).
        if (!up.wrapped && has_statements(m.up_sql)) m.options["transactional"] = false;
        if (is_file(revert)) {
            m.down_path = revert;
            m.down_sql = script_text(revert, layout).text;
            down_or_noop(m, "Sqitch");  // psql runs a revert script with no statements as a no-op
        }
        m.tool_id = c.id;
        m.tool_info["change"] = c.name;
        m.tool_info["project"] = plan.project;
        m.tool_info["script_hash"] = sha1_hex(read_file(deploy));
        m.tool_info["planned_at"] = c.timestamp;
        m.tool_info["planner_name"] = c.planner_name;
        m.tool_info["planner_email"] = c.planner_email;
        m.tool_info["tags"] = c.tags;
        out.push_back(std::move(m));
    }
    return out;
}

}  // namespace

FolderReader sqitch_reader() { return {FolderFormat::sqitch, detect, load}; }

}  // namespace pgmig::client::formats
