// The impact of a pending migration: dry-run effects, their dependents in the live catalog, related bugs.
#include "client/ledger/impact.hpp"

#include "client/core/config.hpp"
#include "client/core/errors.hpp"
#include "client/ledger/ledger_lock.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <set>
#include <sstream>

namespace pgmig::client {

namespace {

using nlohmann::json;

bool ident_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '$'; }

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
    return out;
}

std::string trim(std::string_view s) {
    size_t b = 0, e = s.size();
    while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
    while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
    return std::string(s.substr(b, e - b));
}

// "public"."Orders" -> public.Orders: the names a person writes in a bug report carry no quotes.
std::string unquote(std::string_view s) {
    std::string out;
    for (char c : s) {
        if (c != '"') out += c;
    }
    return out;
}

// The heading level of a Markdown line (number of leading '#' followed by a space), 0 if none.
int heading_level(std::string_view line) {
    size_t n = 0;
    while (n < line.size() && line[n] == '#') ++n;
    if (n == 0 || n > 6 || n >= line.size() || (line[n] != ' ' && line[n] != '\t')) return 0;
    return static_cast<int>(n);
}

bool is_relation_type(const std::string& type) {
    return type == "table" || type == "view" || type == "materialized view" || type == "foreign table" ||
           type == "sequence" || type == "index";
}

bool is_function_type(const std::string& type) {
    return type == "function" || type == "procedure" || type == "aggregate";
}

}  // namespace

std::vector<Bug> parse_bugs(std::string_view content) {
    std::vector<Bug> bugs;
    std::vector<int> levels;  // heading level of each bug
    std::istringstream in{std::string(content)};
    std::string line;
    int number = 0;
    int open = -1;  // index of the bug whose text is being collected
    while (std::getline(in, line)) {
        ++number;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        const int level = heading_level(line);
        if (level > 0) {
            if (open >= 0 && level <= levels[open]) open = -1;
            const std::string heading = trim(std::string_view(line).substr(level));
            const size_t colon = heading.find(':');
            const std::string id = colon == std::string::npos ? "" : trim(std::string_view(heading).substr(0, colon));
            const bool id_like = !id.empty() && id.size() <= 40 && std::all_of(id.begin(), id.end(), [](char c) {
                return ident_char(c) || c == '-' || c == '#' || c == '.';
            }) && std::any_of(id.begin(), id.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
            if (id_like) {
                Bug b;
                b.id = id;
                b.title = trim(std::string_view(heading).substr(colon + 1));
                b.text = b.title + "\n";
                b.line = number;
                bugs.push_back(std::move(b));
                levels.push_back(level);
                open = static_cast<int>(bugs.size()) - 1;
                continue;
            }
        }
        if (open >= 0) bugs[open].text += line + "\n";
    }
    return bugs;
}

std::optional<BugsFile> load_bugs_file() {
    const ProjectConfig config = load_project_config();
    if (config.bugs.empty()) return std::nullopt;
    std::ifstream in(config.bugs, std::ios::binary);
    std::error_code ec;
    if (!in || std::filesystem::is_directory(config.bugs, ec)) {
        throw Error(ErrorKind::input, fmt::format("the bugs file {} cannot be read", config.bugs),
                    "in key 'bugs' of pgmig.toml",
                    "create it, fix its permissions, or remove the key (then no bugs are looked up)");
    }
    std::ostringstream content;
    content << in.rdbuf();
    if (in.bad()) {
        throw Error(ErrorKind::input, fmt::format("the bugs file {} cannot be read", config.bugs),
                    "in key 'bugs' of pgmig.toml", "check the file and its permissions");
    }
    return BugsFile{config.bugs, parse_bugs(content.str())};
}

std::vector<std::string> lookup_names(std::string_view identity) {
    std::vector<std::string> names;
    auto add = [&names](std::string name) {
        name = trim(name);
        if (name.empty()) return;
        if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(std::move(name));
    };
    auto add_qualified = [&](std::string_view part) {
        std::string s = unquote(part);
        if (const size_t paren = s.find('('); paren != std::string::npos) s.resize(paren);
        s = trim(s);
        add(s);
        if (const size_t dot = s.rfind('.'); dot != std::string::npos) add(s.substr(dot + 1));
    };
    const size_t on = identity.find(" on ");
    if (on == std::string_view::npos) {
        add_qualified(identity);
    } else {  // "trg on public.t", "pol on public.t": the object's own name, then its table's
        add_qualified(identity.substr(0, on));
        add_qualified(identity.substr(on + 4));
    }
    return names;
}

bool names_word(std::string_view text, std::string_view name) {
    if (name.empty()) return false;
    const std::string hay = lower(text);
    const std::string needle = lower(name);
    const bool qualified = needle.find('.') != std::string::npos;
    for (size_t at = hay.find(needle); at != std::string::npos; at = hay.find(needle, at + 1)) {
        const size_t end = at + needle.size();
        if (at > 0 && ident_char(hay[at - 1])) continue;
        if (end < hay.size() && ident_char(hay[end])) continue;
        // "other.orders" names another schema's orders; "orders.total" still names orders.
        if (!qualified && at > 0 && hay[at - 1] == '.' && at > 1 && ident_char(hay[at - 2])) continue;
        return true;
    }
    return false;
}

json related_bugs(const std::vector<Bug>& bugs, const std::vector<std::string>& refs,
                  const std::vector<std::string>& identities) {
    std::vector<std::string> names;
    for (const auto& identity : identities) {
        for (auto& n : lookup_names(identity)) {
            if (std::find(names.begin(), names.end(), n) == names.end()) names.push_back(std::move(n));
        }
    }
    json out = json::array();
    for (const Bug& b : bugs) {
        json reasons = json::array();
        for (const auto& r : refs) {
            if (lower(trim(r)) == lower(b.id)) {
                reasons.push_back("refs " + b.id);
                break;
            }
        }
        for (const auto& n : names) {
            if (names_word(b.text, n)) reasons.push_back("names " + n);
        }
        if (!reasons.empty()) {
            out.push_back({{"id", b.id}, {"title", b.title}, {"line", b.line}, {"reasons", reasons}});
        }
    }
    return out;
}

std::vector<std::string> refs_of(const MigrationFile& file) {
    std::vector<std::string> refs;
    if (file.options.contains("refs") && file.options["refs"].is_array()) {
        for (const auto& r : file.options["refs"]) {
            if (r.is_string()) refs.push_back(r.get<std::string>());
        }
    }
    return refs;
}

json dependents_of(const Connection& conn, const std::vector<std::string>& relations,
                   const std::vector<std::string>& functions) {
    if (relations.empty() && functions.empty()) return json::array();
    // Every name schema-qualified and every operator spelled OPERATOR(pg_catalog.=): this runs in the user's
    // session, whatever its search_path. A view's dependency is recorded on its _RETURN rule (pg_rewrite): it is
    // reported as the view, whose own dependents are walked in turn (a few levels). A function that takes or
    // returns a table's row type depends on the type, so the table's row type is walked with the table.
    static const char* const kDependents = R"SQL(
WITH RECURSIVE
roots AS (
    SELECT 'pg_catalog.pg_class'::pg_catalog.regclass::pg_catalog.oid AS classid, c.oid AS objid
      FROM pg_catalog.jsonb_array_elements_text($1::pg_catalog.jsonb) AS i(name)
      JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) pg_catalog.to_regclass(i.name)
    UNION
    SELECT 'pg_catalog.pg_proc'::pg_catalog.regclass::pg_catalog.oid, p.oid
      FROM pg_catalog.jsonb_array_elements_text($2::pg_catalog.jsonb) AS i(name)
      JOIN pg_catalog.pg_proc p ON p.oid OPERATOR(pg_catalog.=) pg_catalog.to_regprocedure(i.name)
),
walk(rootclass, root, classid, objid, depth) AS (
    SELECT r.classid, r.objid, r.classid, r.objid, 0 FROM roots r
    UNION
    SELECT w.rootclass, w.root, dep.classid, dep.objid, w.depth OPERATOR(pg_catalog.+) 1
      FROM walk w
      CROSS JOIN LATERAL (
          SELECT CASE WHEN rw.oid IS NULL THEN d.classid
                      ELSE 'pg_catalog.pg_class'::pg_catalog.regclass::pg_catalog.oid END AS classid,
                 CASE WHEN rw.oid IS NULL THEN d.objid ELSE rw.ev_class END AS objid
            FROM pg_catalog.pg_depend d
            LEFT JOIN pg_catalog.pg_rewrite rw
                   ON d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_rewrite'::pg_catalog.regclass
                  AND rw.oid OPERATOR(pg_catalog.=) d.objid
           WHERE d.deptype OPERATOR(pg_catalog.=) ANY ('{n,a}'::"char"[])
             AND ((d.refclassid OPERATOR(pg_catalog.=) w.classid AND d.refobjid OPERATOR(pg_catalog.=) w.objid)
                  OR (w.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass
                      AND d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_type'::pg_catalog.regclass
                      AND d.refobjid OPERATOR(pg_catalog.=) (SELECT c.reltype FROM pg_catalog.pg_class c
                                                              WHERE c.oid OPERATOR(pg_catalog.=) w.objid)))
      ) dep
     WHERE w.depth OPERATOR(pg_catalog.<) 4
       AND NOT (dep.classid OPERATOR(pg_catalog.=) w.classid AND dep.objid OPERATOR(pg_catalog.=) w.objid)
       AND (w.depth OPERATOR(pg_catalog.=) 0
            OR EXISTS (SELECT 1 FROM pg_catalog.pg_class c
                        WHERE w.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass
                          AND c.oid OPERATOR(pg_catalog.=) w.objid
                          AND c.relkind OPERATOR(pg_catalog.=) ANY ('{v,m}'::"char"[])))
),
found AS (
    SELECT DISTINCT w.rootclass, w.root, w.classid, w.objid,
           CASE
             WHEN w.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass THEN
               (SELECT CASE WHEN c.relkind OPERATOR(pg_catalog.=) 'v' THEN 'view'
                            WHEN c.relkind OPERATOR(pg_catalog.=) 'm' THEN 'materialized view' END
                  FROM pg_catalog.pg_class c WHERE c.oid OPERATOR(pg_catalog.=) w.objid)
             WHEN w.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_proc'::pg_catalog.regclass THEN
               (SELECT CASE WHEN p.prokind OPERATOR(pg_catalog.=) 'p' THEN 'procedure' ELSE 'function' END
                  FROM pg_catalog.pg_proc p WHERE p.oid OPERATOR(pg_catalog.=) w.objid)
             WHEN w.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_trigger'::pg_catalog.regclass THEN
               (SELECT 'trigger' FROM pg_catalog.pg_trigger t
                 WHERE t.oid OPERATOR(pg_catalog.=) w.objid AND NOT t.tgisinternal)
             WHEN w.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_constraint'::pg_catalog.regclass THEN
               (SELECT 'foreign key' FROM pg_catalog.pg_constraint co
                 WHERE co.oid OPERATOR(pg_catalog.=) w.objid AND co.contype OPERATOR(pg_catalog.=) 'f'
                   AND co.conrelid OPERATOR(pg_catalog.<>) w.root)
             WHEN w.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_policy'::pg_catalog.regclass THEN 'policy'
           END AS type
      FROM walk w
     WHERE w.depth OPERATOR(pg_catalog.>) 0
)
SELECT f.type, (pg_catalog.pg_identify_object(f.classid, f.objid, 0)).identity,
       (pg_catalog.pg_identify_object(f.rootclass, f.root, 0)).identity
  FROM found f
 WHERE f.type IS NOT NULL
 ORDER BY 3, 1, 2
)SQL";
    Result res = conn.exec_params(kDependents, {json(relations).dump(), json(functions).dump()});
    if (!res.ok()) {
        throw Error(ErrorKind::internal,
                    "the dependents of the touched objects could not be read: " + res.error().message,
                    "in the catalog of " + conn.target(), "please report this as a bug");
    }
    json out = json::array();
    std::set<std::pair<std::string, std::string>> seen;  // a dependent of several touched objects: listed once each
    for (int i = 0; i < res.rows(); ++i) {
        if (!seen.insert({res.get(i, 2), res.get(i, 1)}).second) continue;
        out.push_back({{"type", res.get(i, 0)}, {"identity", res.get(i, 1)}, {"on", res.get(i, 2)}});
    }
    return out;
}

std::vector<std::string> touched_identities(const json& plan) {
    std::vector<std::string> ids;
    auto add = [&ids](const std::string& id) {
        if (!id.empty() && std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(id);
    };
    const json diff = plan.value("catalog_diff", json());
    if (diff.is_object()) {
        for (const char* k : {"added", "removed", "changed"}) {
            for (const auto& o : diff.value(k, json::array())) add(o.value("identity", ""));
        }
    }
    const json rewritten = plan.value("rewritten", json());
    if (rewritten.is_array()) {
        for (const auto& r : rewritten) add(r.value("table", ""));
    }
    return ids;
}

json impact_report(const Connection& conn, const ImpactInput& input, const std::optional<BugsFile>& bugs) {
    const json& plan = input.plan;
    json report = {
        {"version", plan.value("version", json())},
        {"name", plan.value("name", json())},
        {"file", input.file ? json(input.file->path.string()) : json(nullptr)},
        {"outcome", plan.value("outcome", json())},
        {"reason", plan.value("reason", json())},
        {"statements", plan.value("statements", json())},
        {"rows_touched", plan.value("rows_touched", json())},
        {"rewritten", plan.value("rewritten", json())},
        {"touched", plan.value("catalog_diff", json())},
        {"refs", input.file ? json(refs_of(*input.file)) : json::array()},
    };
    // Dependents exist for what existed before: objects the migration changes, drops or rewrites.
    std::vector<std::string> relations, functions;
    auto add = [](std::vector<std::string>& v, const std::string& s) {
        if (!s.empty() && std::find(v.begin(), v.end(), s) == v.end()) v.push_back(s);
    };
    const json diff = plan.value("catalog_diff", json());
    if (diff.is_object()) {
        for (const char* k : {"removed", "changed"}) {
            for (const auto& o : diff.value(k, json::array())) {
                const std::string type = o.value("type", "");
                if (is_relation_type(type)) add(relations, o.value("identity", ""));
                if (is_function_type(type)) add(functions, o.value("identity", ""));
            }
        }
    }
    const json rewritten = plan.value("rewritten", json());
    if (rewritten.is_array()) {
        for (const auto& r : rewritten) add(relations, r.value("table", ""));
    }
    report["dependents"] = dependents_of(conn, relations, functions);
    if (bugs) {
        report["bugs"] = {{"file", bugs->path},
                          {"related", related_bugs(bugs->bugs, report["refs"].get<std::vector<std::string>>(),
                                                   touched_identities(plan))}};
    } else {
        report["bugs"] = nullptr;
    }
    return report;
}

std::string impact_summary(const json& report, const std::string& indent) {
    std::string out;
    std::string touched;
    const json diff = report.value("touched", json());
    if (diff.is_object()) {
        for (const auto& [k, sign] : {std::pair{"added", "+"}, std::pair{"removed", "-"}, std::pair{"changed", "~"}}) {
            for (const auto& o : diff.value(k, json::array())) {
                touched += fmt::format("{}{}{} {}", touched.empty() ? "" : ", ", sign, o.value("type", "?"),
                                       o.value("identity", "?"));
            }
        }
    }
    const std::string outcome = report.value("outcome", std::string());
    if (outcome != "ok") {
        out += fmt::format("{}touches:    unknown (dry run: {})\n", indent, outcome.empty() ? "?" : outcome);
    } else {
        out += fmt::format("{}touches:    {}\n", indent, touched.empty() ? "no catalog change" : touched);
        std::string rewrites;
        for (const auto& r : report.value("rewritten", json::array())) {
            rewrites += (rewrites.empty() ? "" : ", ") + r.value("table", std::string("?"));
        }
        const json rows = report.value("rows_touched", json());
        if (!rewrites.empty() || (rows.is_number() && rows.get<long long>() > 0)) {
            out += fmt::format("{}rewrites:   {}; rows touched: {}\n", indent, rewrites.empty() ? "none" : rewrites,
                               rows.is_number() ? rows.get<long long>() : 0);
        }
    }
    std::string deps;
    for (const auto& d : report.value("dependents", json::array())) {
        deps += fmt::format("{}{} {}", deps.empty() ? "" : ", ", d.value("type", "?"), d.value("identity", "?"));
    }
    out += fmt::format("{}dependents: {}\n", indent, deps.empty() ? "none" : deps);
    const json bugs = report.value("bugs", json());
    if (bugs.is_object()) {
        std::string related;
        for (const auto& b : bugs.value("related", json::array())) {
            related += fmt::format("{}{}: {}", related.empty() ? "" : "; ", b.value("id", "?"), b.value("title", ""));
        }
        out += fmt::format("{}bugs:       {}\n", indent, related.empty() ? "none related" : related);
    }
    return out;
}

namespace {
PendingImpact& last_impact() {
    static PendingImpact last;  // one command per process: written once by validate, read by deploy
    return last;
}
}  // namespace

PendingImpact pending_impact(const Connection& conn, const std::vector<MigrationFile>& files, const std::string& dir) {
    PendingImpact out;
    try {
        // The dry run registers the files and rehearses them: a role that may only read (pgmig_reader) gets no
        // impact, and no privilege error either (validate is a reader's command).
        Result may = conn.exec(
            "SELECT pg_catalog.count(DISTINCT p.proname) OPERATOR(pg_catalog.=) 2 AND "
            "pg_catalog.bool_and(pg_catalog.has_function_"
            "privilege(p.oid, 'EXECUTE')) FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_depend d ON d.objid "
            "OPERATOR(pg_catalog.=) p.oid AND d.classid OPERATOR(pg_catalog.=) "
            "'pg_catalog.pg_proc'::pg_catalog.regclass "
            "AND d.deptype OPERATOR(pg_catalog.=) 'e' JOIN pg_catalog.pg_extension x ON x.oid OPERATOR(pg_catalog.=) "
            "d.refobjid AND x.extname OPERATOR(pg_catalog.=) 'pgmig' WHERE p.proname OPERATOR(pg_catalog.=) "
            "ANY ('{migrate_plan,migrate_register}'::pg_catalog.name[])");
        if (!may.ok() || may.get(0, 0) != "t") {
            out.status =
                "skipped (this role may not rehearse migrations: that takes migrate_register and migrate_plan, "
                "as for pgmig plan)";
            last_impact() = out;
            return out;
        }
        // The rehearsal needs the ledger lock: while an apply, a rollback or a deploy holds it, validate and
        // deploy's pre-flight go on without the impact rather than wait (a deploy then waits at its apply step).
        if (const std::optional<std::string> holders = ledger_lock_holders(conn)) {
            out.status = fmt::format(
                "skipped (the ledger is locked by another applier, backend {}: pgmig impact VERSION shows it once "
                "the lock is free)",
                *holders);
            last_impact() = out;
            return out;
        }
        const std::optional<BugsFile> bugs = load_bugs_file();
        const json plan = rehearse_pending(conn, files, std::nullopt, dir);
        for (const auto& row : plan) {
            const MigrationFile* file = nullptr;
            for (const auto& f : files) {
                const bool match = row["version"].is_null()
                                       ? f.repeatable() && f.name == row.value("name", std::string())
                                       : !f.repeatable() && f.version == row["version"].get<std::string>();
                if (match) file = &f;
            }
            out.migrations.push_back(impact_report(conn, ImpactInput{row, file}, bugs));
        }
        out.status = "checked";
    } catch (const Error& e) {
        out.status = "skipped (" + e.line() + ")";
        out.migrations = json::array();
    }
    last_impact() = out;
    return out;
}

const PendingImpact& last_pending_impact() { return last_impact(); }

std::vector<std::string> related_bug_lines(const PendingImpact& impact) {
    std::vector<std::pair<std::string, std::string>> bugs;  // id -> title
    std::vector<std::vector<std::string>> labels;
    for (const auto& m : impact.migrations) {
        const json b = m.value("bugs", json());
        if (!b.is_object()) continue;
        const std::string label = m["version"].is_null()
                                      ? "R__" + m.value("name", std::string())
                                      : m["version"].get<std::string>() + "_" + m.value("name", std::string());
        for (const auto& r : b.value("related", json::array())) {
            const std::string id = r.value("id", std::string());
            size_t i = 0;
            while (i < bugs.size() && bugs[i].first != id) ++i;
            if (i == bugs.size()) {
                bugs.emplace_back(id, r.value("title", std::string()));
                labels.emplace_back();
            }
            labels[i].push_back(label);
        }
    }
    std::vector<std::string> out;
    for (size_t i = 0; i < bugs.size(); ++i) {
        std::string which;
        for (const auto& l : labels[i]) which += (which.empty() ? "" : ", ") + l;
        out.push_back(fmt::format("{} ({}; {})", bugs[i].first, bugs[i].second, which));
    }
    return out;
}

}  // namespace pgmig::client
