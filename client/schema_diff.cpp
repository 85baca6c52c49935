// The desired-state diff engine: two migrate_snapshot() documents in, ordered up/down DDL out.
// How it works (buckets, safe forms, what is destructive) is described in docs/diff.md.
#include "schema_diff.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <functional>
#include <initializer_list>
#include <map>
#include <set>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>

namespace pgmig::schema_diff {
namespace {

using json = nlohmann::json;

// SQL text built by appending in place: a chain of std::string + allocates a temporary per step.
class Sql {
  public:
    explicit Sql(std::string text) : text_(std::move(text)) {}
    Sql&& operator+(std::string_view more) && {
        text_.append(more);
        return std::move(*this);
    }
    Sql&& operator+(char c) && {
        text_.push_back(c);
        return std::move(*this);
    }
    operator std::string() && { return std::move(text_); }  // NOLINT(google-explicit-constructor)

  private:
    std::string text_;
};

Sql S(std::string text) { return Sql(std::move(text)); }

std::string replace_word(const std::string& text, const std::string& from, const std::string& to);

// Buckets: the order in which the up steps run. Creations ascend; removals of whole objects are the
// mirror (100 - bucket) so that what was created last is dropped first.
enum Bucket : int {
    b_set_guc = 1,
    b_drop_view = 8,  // (indexes of dropped materialized views: 7)
    b_rename = 10,    // after the views over renamed objects are gone, before anything names the new names
    b_drop_trigger = 11,
    b_drop_policy = 12,
    b_drop_fk = 13,
    b_drop_constraint = 14,
    b_drop_index = 15,
    b_drop_function_changed = 16,
    b_schema = 20,
    b_extension = 21,
    b_type = 22,
    b_type_alter = 23,
    b_sequence = 25,
    b_function = 27,
    b_table = 30,
    b_column = 32,
    b_owned_by = 34,
    b_constraint = 36,
    b_index = 37,
    b_fk = 38,
    b_function_late = 39,
    b_view = 40,
    b_trigger = 45,
    b_policy = 46,
    b_rls = 47,
    b_comment = 48,
    b_acl = 49,
};

struct Step {
    int bucket = 0;
    int sub = 0;  // order inside a bucket (table depth, view topological rank)
    std::vector<std::string> up;
    std::vector<std::string> down;
    std::string subject;
    Phase phase = Phase::main;
    bool destructive = false;
    std::string allow_rule;        // lint rule a destructive step trips (its -- pgmig:allow line)
    std::string reason;            // why it is destructive
    bool withhold_always = false;  // a probable rename's drop: withheld whatever allow_destructive says
    // removal of a type, sequence, function or extension: the name columns would use it by; the
    // removal is withheld too when a withheld drop keeps a column that uses it
    std::string removes;
    std::vector<std::string> uses;  // a dropped column's (or table's) types and defaults
};

const std::unordered_set<std::string>& reserved_words() {
    static const std::unordered_set<std::string> words = {"all",
                                                          "analyse",
                                                          "analyze",
                                                          "and",
                                                          "any",
                                                          "array",
                                                          "as",
                                                          "asc",
                                                          "asymmetric",
                                                          "authorization",
                                                          "between",
                                                          "bigint",
                                                          "binary",
                                                          "bit",
                                                          "boolean",
                                                          "both",
                                                          "case",
                                                          "cast",
                                                          "char",
                                                          "character",
                                                          "check",
                                                          "coalesce",
                                                          "collate",
                                                          "collation",
                                                          "column",
                                                          "concurrently",
                                                          "constraint",
                                                          "create",
                                                          "cross",
                                                          "current_catalog",
                                                          "current_date",
                                                          "current_role",
                                                          "current_schema",
                                                          "current_time",
                                                          "current_timestamp",
                                                          "current_user",
                                                          "dec",
                                                          "decimal",
                                                          "default",
                                                          "deferrable",
                                                          "desc",
                                                          "distinct",
                                                          "do",
                                                          "else",
                                                          "end",
                                                          "except",
                                                          "exists",
                                                          "extract",
                                                          "false",
                                                          "fetch",
                                                          "float",
                                                          "for",
                                                          "foreign",
                                                          "freeze",
                                                          "from",
                                                          "full",
                                                          "grant",
                                                          "greatest",
                                                          "group",
                                                          "grouping",
                                                          "having",
                                                          "ilike",
                                                          "in",
                                                          "initially",
                                                          "inner",
                                                          "inout",
                                                          "int",
                                                          "integer",
                                                          "intersect",
                                                          "interval",
                                                          "into",
                                                          "is",
                                                          "isnull",
                                                          "join",
                                                          "json_array",
                                                          "json_arrayagg",
                                                          "json_object",
                                                          "json_objectagg",
                                                          "lateral",
                                                          "leading",
                                                          "least",
                                                          "left",
                                                          "like",
                                                          "limit",
                                                          "localtime",
                                                          "localtimestamp",
                                                          "national",
                                                          "natural",
                                                          "nchar",
                                                          "none",
                                                          "normalize",
                                                          "not",
                                                          "notnull",
                                                          "null",
                                                          "nullif",
                                                          "numeric",
                                                          "offset",
                                                          "on",
                                                          "only",
                                                          "or",
                                                          "order",
                                                          "out",
                                                          "outer",
                                                          "overlaps",
                                                          "overlay",
                                                          "placing",
                                                          "position",
                                                          "precision",
                                                          "primary",
                                                          "real",
                                                          "references",
                                                          "returning",
                                                          "right",
                                                          "row",
                                                          "select",
                                                          "session_user",
                                                          "setof",
                                                          "similar",
                                                          "smallint",
                                                          "some",
                                                          "substring",
                                                          "symmetric",
                                                          "system_user",
                                                          "table",
                                                          "tablesample",
                                                          "then",
                                                          "time",
                                                          "timestamp",
                                                          "to",
                                                          "trailing",
                                                          "treat",
                                                          "trim",
                                                          "true",
                                                          "union",
                                                          "unique",
                                                          "user",
                                                          "using",
                                                          "values",
                                                          "varchar",
                                                          "variadic",
                                                          "verbose",
                                                          "when",
                                                          "where",
                                                          "window",
                                                          "with",
                                                          "xmlattributes",
                                                          "xmlconcat",
                                                          "xmlelement",
                                                          "xmlexists",
                                                          "xmlforest",
                                                          "xmlnamespaces",
                                                          "xmlparse",
                                                          "xmlpi",
                                                          "xmlroot",
                                                          "xmlserialize",
                                                          "xmltable",
                                                          "inout",
                                                          "nchar",
                                                          "between"};
    return words;
}

std::string qi(const std::string& name) {
    bool plain = !name.empty() && (std::islower(static_cast<unsigned char>(name[0])) != 0 || name[0] == '_');
    for (char c : name) {
        auto u = static_cast<unsigned char>(c);
        if (!(std::islower(u) != 0 || std::isdigit(u) != 0 || c == '_' || c == '$')) plain = false;
    }
    if (plain && reserved_words().count(name) == 0) return name;
    std::string out = "\"";
    for (char c : name) {
        if (c == '"') out += '"';
        out += c;
    }
    return out + "\"";
}

std::string literal(const std::string& text) {
    std::string out = "'";
    for (char c : text) {
        if (c == '\'') out += '\'';
        out += c;
    }
    return out + "'";
}

std::string str(const json& d, const char* key) {
    auto it = d.find(key);
    if (it == d.end() || !it->is_string()) return {};
    return it->get<std::string>();
}

bool flag(const json& d, const char* key) {
    auto it = d.find(key);
    return it != d.end() && it->is_boolean() && it->get<bool>();
}

const json& field(const json& d, const char* key) {
    static const json null_value;
    auto it = d.find(key);
    return it == d.end() ? null_value : *it;
}

std::string rtrim_semicolon(std::string s) {
    while (!s.empty() && (s.back() == ';' || s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s;
}

// "table public.t" -> ("table", "public.t"); type names may have spaces ("materialized view").
std::pair<std::string, std::string> split_key(const std::string& key) {
    static const char* const multi[] = {"materialized view ", "foreign table ", "composite type ", "table constraint ",
                                        "domain constraint "};
    for (const char* m : multi) {
        std::string_view p(m);
        if (key.compare(0, p.size(), p) == 0) return {std::string(p.substr(0, p.size() - 1)), key.substr(p.size())};
    }
    auto sp = key.find(' ');
    if (sp == std::string::npos) return {key, {}};
    return {key.substr(0, sp), key.substr(sp + 1)};
}

// "trigger trg on public.t" identity "trg on public.t" -> ("trg", "public.t")
std::pair<std::string, std::string> split_on(const std::string& identity) {
    auto p = identity.rfind(" on ");
    if (p == std::string::npos) return {identity, {}};
    return {identity.substr(0, p), identity.substr(p + 4)};
}

// The table an index definition is on: "CREATE [UNIQUE] INDEX name ON [ONLY] rel USING ..."
std::string index_table(const std::string& def) {
    auto on = def.find(" ON ");
    if (on == std::string::npos) return {};
    auto start = on + 4;
    if (def.compare(start, 5, "ONLY ") == 0) start += 5;
    auto end = def.find(" USING ", start);
    return def.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

std::string relation_of_identity_qualifier(const std::string& column_identity) {
    auto dot = column_identity.rfind('.');
    return dot == std::string::npos ? column_identity : column_identity.substr(0, dot);
}

bool is_widening(const std::string& from, const std::string& to) {
    static const std::map<std::string, int> ints = {{"smallint", 1}, {"integer", 2}, {"bigint", 3}};
    auto fi = ints.find(from);
    auto ti = ints.find(to);
    if (fi != ints.end() && ti != ints.end()) return ti->second > fi->second;
    if (fi != ints.end() && to == "numeric") return true;
    auto param = [](const std::string& t, const std::string& base, std::vector<int>& out) {
        if (t.compare(0, base.size() + 1, base + "(") != 0 || t.back() != ')') return false;
        std::string inner = t.substr(base.size() + 1, t.size() - base.size() - 2);
        out.clear();
        size_t pos = 0;
        while (pos <= inner.size()) {
            auto comma = inner.find(',', pos);
            std::string part = inner.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
            try {
                out.push_back(std::stoi(part));
            } catch (...) {
                return false;
            }
            if (comma == std::string::npos) break;
            pos = comma + 1;
        }
        return true;
    };
    std::vector<int> a;
    std::vector<int> b;
    for (const char* base : {"character varying", "character", "bit varying"}) {
        if (param(from, base, a)) {
            if (to == "text" || to == std::string(base).substr(0, std::string(base).size())) return to == "text";
            if (param(to, base, b) && a.size() == 1 && b.size() == 1) return b[0] >= a[0];
            if (std::string(base) == "character varying" && to == "character varying") return true;
            return false;
        }
    }
    if (from == "character varying" && to == "text") return true;
    if (from == "text" && to == "character varying") return true;
    if (param(from, "numeric", a)) {
        if (to == "numeric") return true;
        if (param(to, "numeric", b) && a.size() == b.size()) {
            if (a.size() == 1) return b[0] >= a[0];
            return b[1] == a[1] && b[0] >= a[0];
        }
        return false;
    }
    if (from == "real" && to == "double precision") return true;
    if (from == "timestamp without time zone" && to == "timestamp with time zone") return false;
    return false;
}

std::set<std::string> acl_set(const json& d) {
    std::set<std::string> out;
    const json& a = field(d, "acl");
    if (a.is_array())
        for (const auto& e : a) out.insert(e.get<std::string>());
    return out;
}

// The ACL PostgreSQL gives an object of this kind when nobody granted anything (acl_entries says null).
std::set<std::string> default_acl(const std::string& what) {
    if (what == "TABLE")
        return {"OWNER:DELETE",  "OWNER:INSERT",   "OWNER:REFERENCES", "OWNER:SELECT",
                "OWNER:TRIGGER", "OWNER:TRUNCATE", "OWNER:UPDATE"};
    if (what == "SEQUENCE") return {"OWNER:SELECT", "OWNER:UPDATE", "OWNER:USAGE"};
    if (what == "FUNCTION" || what == "PROCEDURE") return {"OWNER:EXECUTE", "PUBLIC:EXECUTE"};
    if (what == "SCHEMA") return {"OWNER:CREATE", "OWNER:USAGE"};
    if (what == "TYPE" || what == "DOMAIN") return {"OWNER:USAGE", "PUBLIC:USAGE"};
    return {};
}

struct Snapshot {
    std::map<std::string, const json*> objects;  // key -> description
    // relation identity -> columns using a type (for enum recreation), built lazily
    const json* get(const std::string& key) const {
        auto it = objects.find(key);
        return it == objects.end() ? nullptr : it->second;
    }
};

Snapshot index_snapshot(const json& doc) {
    Snapshot s;
    if (doc.is_object())
        for (auto it = doc.begin(); it != doc.end(); ++it) s.objects.emplace(it.key(), &it.value());
    return s;
}

// The keys of both snapshots that start with one of `prefixes` ("index ", ...), sorted: a range of each map.
std::set<std::string> keys_of_kinds(const Snapshot& a, const Snapshot& b, std::initializer_list<std::string_view> prefixes) {
    std::set<std::string> keys;
    for (const Snapshot* s : {&a, &b}) {
        for (const std::string_view prefix : prefixes) {
            for (auto it = s->objects.lower_bound(std::string(prefix));
                 it != s->objects.end() && std::string_view(it->first).substr(0, prefix.size()) == prefix; ++it) {
                keys.insert(it->first);
            }
        }
    }
    return keys;
}

std::string relation_key(const Snapshot& s, const std::string& identity) {
    for (const char* t : {"table ", "view ", "materialized view ", "foreign table "}) {
        std::string k = std::string(t) + identity;
        if (s.objects.count(k) != 0) return k;
    }
    return {};
}

class Engine {
  public:
    Engine(const json& from, const json& to, const Options& options)
        : from_src_(&from), from_(index_snapshot(from)), to_(index_snapshot(to)), options_(options) {}

    Result run();

  private:
    const json* from_src_;
    json from_doc_;  // `from` with the confirmed renames applied (only when there are some)
    Snapshot from_;
    Snapshot to_;
    const Options& options_;
    std::vector<Step> steps_;
    Result result_;
    std::set<std::string> rebuilt_views_;               // keys of views dropped and recreated
    std::set<std::string> renamed_tables_from_;         // from-keys consumed by a confirmed rename
    std::map<std::string, std::string> table_renames_;  // from identity -> to identity
    std::set<std::string> changed_tables_;              // identities whose columns change type or go away
    std::map<std::string, int> depth_memo_;
    std::set<std::string> kept_tables_;  // dropped in `to`, but the drop is withheld
    std::set<std::string> invalidated_;  // keys of objects dropped and recreated (views over them too)
    // "'label'::type" of enum values this diff adds: PostgreSQL refuses to use them in the transaction
    // that added them, so statements that do go to the post phase
    std::vector<std::string> new_enum_literals_;
    std::vector<std::string> recreated_types_;  // enums recreated now or in down: functions over them follow

    bool uses_new_enum_value(const std::string& sql) const {
        return std::any_of(new_enum_literals_.begin(), new_enum_literals_.end(),
                           [&](const std::string& l) { return sql.find(l) != std::string::npos; });
    }

    void add(Step s) { steps_.push_back(std::move(s)); }

    static Step mirror(Step s, int sub_flip = 1) {
        std::swap(s.up, s.down);
        s.bucket = 100 - s.bucket;
        s.sub = -s.sub * sub_flip;
        return s;
    }

    bool exists_in_from(const std::string& table_identity) const {
        return !relation_key(from_, table_identity).empty() || table_renames_inverse(table_identity);
    }
    bool table_renames_inverse(const std::string& to_identity) const {
        return std::any_of(table_renames_.begin(), table_renames_.end(),
                           [&](const auto& p) { return p.second == to_identity; });
    }

    int depth(const Snapshot& s, const std::string& identity, int guard = 0) {
        auto memo = depth_memo_.find(identity);
        if (memo != depth_memo_.end()) return memo->second;
        int d = 0;
        const json* t = s.get("table " + identity);
        if (t == nullptr) t = s.get("foreign table " + identity);
        if (t != nullptr && guard < 64) {
            const json& po = field(*t, "partition_of");
            if (po.is_array() && !po.empty() && po[0].is_string())
                d = std::max(d, 1 + depth(s, po[0].get<std::string>(), guard + 1));
            const json& inh = field(*t, "inherits");
            if (inh.is_array())
                for (const auto& p : inh)
                    if (p.is_string()) d = std::max(d, 1 + depth(s, p.get<std::string>(), guard + 1));
        }
        depth_memo_[identity] = d;
        return d;
    }

    // --- tables -------------------------------------------------------------------------------
    static std::string column_def(const json& c, bool with_not_null = true) {
        std::string sql = qi(str(c, "name")) + " " + str(c, "type");
        if (!str(c, "collation").empty()) sql += " COLLATE " + qi(str(c, "collation"));
        if (!str(c, "generated").empty()) sql += " GENERATED ALWAYS AS (" + str(c, "generated") + ") STORED";
        std::string ident = str(c, "identity");
        if (ident == "a") sql += " GENERATED ALWAYS AS IDENTITY";
        if (ident == "d") sql += " GENERATED BY DEFAULT AS IDENTITY";
        if (!str(c, "default").empty()) sql += " DEFAULT " + str(c, "default");
        if (with_not_null && flag(c, "not_null") && ident.empty()) sql += " NOT NULL";
        return sql;
    }

    static bool is_fk(const std::string& def) { return def.rfind("FOREIGN KEY", 0) == 0; }

    static std::set<std::string> inherited_constraints(const json& t) {
        std::set<std::string> out;
        const json& ic = field(t, "inherited_constraints");
        if (ic.is_array())
            for (const auto& n : ic) out.insert(n.get<std::string>());
        return out;
    }

    std::string create_table_sql(const std::string& identity, const json& t) {
        std::string kind = str(t, "kind");
        std::string sql = "CREATE ";
        if (str(t, "persistence") == "u") sql += "UNLOGGED ";
        sql += "TABLE " + identity;
        std::vector<std::string> parts;
        const json& cols = field(t, "columns");
        const json& po = field(t, "partition_of");
        bool partition = po.is_array() && !po.empty();
        if (cols.is_array())
            for (const auto& c : cols) {
                if (flag(c, "inherited")) continue;
                parts.push_back(column_def(c));
            }
        std::set<std::string> inh = inherited_constraints(t);
        const json& cons = field(t, "constraints");
        if (cons.is_object())
            for (auto it = cons.begin(); it != cons.end(); ++it) {
                std::string def = it->get<std::string>();
                if (inh.count(it.key()) != 0 || is_fk(def) || def.find("NOT VALID") != std::string::npos) continue;
                parts.push_back("CONSTRAINT " + qi(it.key()) + " " + def);
            }
        if (partition) {
            sql += " PARTITION OF " + po[0].get<std::string>();
            if (!parts.empty()) {
                // a partition declares only constraints (its columns come from the parent)
                std::vector<std::string> only_constraints;
                for (const auto& p : parts)
                    if (p.rfind("CONSTRAINT ", 0) == 0) only_constraints.push_back(p);
                parts = only_constraints;
            }
            if (!parts.empty()) {
                sql += " (";
                for (size_t i = 0; i < parts.size(); ++i) sql += (i ? ", " : "") + parts[i];
                sql += ")";
            }
            sql += " " + (po.size() > 1 && po[1].is_string() ? po[1].get<std::string>() : std::string("DEFAULT"));
        } else {
            sql += " (";
            for (size_t i = 0; i < parts.size(); ++i) sql += (i ? ",\n    " : "\n    ") + parts[i];
            sql += parts.empty() ? ")" : "\n)";
            const json& inhs = field(t, "inherits");
            if (inhs.is_array() && !inhs.empty()) {
                sql += " INHERITS (";
                for (size_t i = 0; i < inhs.size(); ++i) sql += (i ? ", " : "") + inhs[i].get<std::string>();
                sql += ")";
            }
        }
        if (kind == "p") sql += " PARTITION BY " + str(t, "partition_key");
        const json& opts = field(t, "options");
        if (opts.is_array() && !opts.empty()) {
            sql += " WITH (";
            for (size_t i = 0; i < opts.size(); ++i) sql += (i ? ", " : "") + opts[i].get<std::string>();
            sql += ")";
        }
        return sql + ";";
    }

    void comment_steps(const std::string& what, const std::string& name, const json* from, const json* to,
                       const std::string& subject) {
        std::string a = from ? str(*from, "comment") : "";
        std::string b = to ? str(*to, "comment") : "";
        if (a == b) return;
        Step s;
        s.bucket = b_comment;
        s.subject = subject;
        auto text = [](const std::string& c) { return c.empty() ? std::string("NULL") : literal(c); };
        s.up.push_back("COMMENT ON " + what + " " + name + " IS " + text(b) + ";");
        s.down.push_back("COMMENT ON " + what + " " + name + " IS " + text(a) + ";");
        add(std::move(s));
    }

    static std::string grantee_sql(const std::string& g) {
        if (g == "OWNER") return "CURRENT_USER";
        return g;
    }

    // GRANT/REVOKE to go from one ACL to another. `what` is "TABLE", "SEQUENCE", ...; columns pass
    // what = "TABLE" and column = the column name (privileges then read "SELECT (c)").
    void acl_steps(const std::string& what, const std::string& name, const json* from, const json* to,
                   const std::string& subject, const std::string& column = {}) {
        bool from_has = from != nullptr && field(*from, "acl").is_array();
        bool to_has = to != nullptr && field(*to, "acl").is_array();
        if (!from_has && !to_has) return;
        std::set<std::string> a =
            from_has ? acl_set(*from) : (column.empty() ? default_acl(what) : std::set<std::string>{});
        std::set<std::string> b =
            to_has ? acl_set(*to) : (column.empty() ? default_acl(what) : std::set<std::string>{});
        if (from == nullptr) a = column.empty() ? default_acl(what) : std::set<std::string>{};
        if (a == b) return;
        auto stmt = [&](bool grant, const std::string& entry) -> std::string {
            auto colon = entry.find(':');
            std::string grantee = entry.substr(0, colon);
            std::string priv = entry.substr(colon + 1);
            bool with_grant = false;
            auto wg = priv.find(" WITH GRANT OPTION");
            if (wg != std::string::npos) {
                with_grant = true;
                priv = priv.substr(0, wg);
            }
            auto by = priv.find(" BY ");
            if (by != std::string::npos) priv = priv.substr(0, by);
            if (!column.empty()) priv += " (" + qi(column) + ")";
            if (grant)
                return "GRANT " + priv + " ON " + what + " " + name + " TO " + grantee_sql(grantee) +
                       (with_grant ? " WITH GRANT OPTION" : "") + ";";
            return "REVOKE " + priv + " ON " + what + " " + name + " FROM " + grantee_sql(grantee) + ";";
        };
        Step s;
        s.bucket = b_acl;
        s.subject = subject;
        for (const auto& e : a)
            if (b.count(e) == 0) {
                s.up.push_back(stmt(false, e));
                s.down.insert(s.down.begin(), stmt(true, e));
            }
        for (const auto& e : b)
            if (a.count(e) == 0) {
                s.up.push_back(stmt(true, e));
                s.down.insert(s.down.begin(), stmt(false, e));
            }
        // down runs in reverse step order, but inside a step in the order written: grants back before revokes
        std::reverse(s.down.begin(), s.down.end());
        std::reverse(s.down.begin(), s.down.end());
        add(std::move(s));
    }

    // Everything that creates a table (without its indexes, FKs, triggers, policies: those are objects
    // of their own). Removal is the mirror of these steps.
    std::vector<Step> table_create_steps(const std::string& identity, const json& t, bool for_drop) {
        std::vector<Step> out;
        Step s;
        s.bucket = b_table;
        s.sub = depth(for_drop ? from_ : to_, identity);
        s.subject = "table " + identity;
        s.up.push_back(create_table_sql(identity, t));
        s.down.push_back("DROP TABLE " + identity + ";");
        out.push_back(std::move(s));
        // NOT VALID constraints of a new table: added after, as they are
        const json& cons = field(t, "constraints");
        std::set<std::string> inh = inherited_constraints(t);
        if (cons.is_object())
            for (auto it = cons.begin(); it != cons.end(); ++it) {
                std::string def = it->get<std::string>();
                if (inh.count(it.key()) != 0 || is_fk(def) || def.find("NOT VALID") == std::string::npos) continue;
                Step c;
                c.bucket = b_constraint;
                c.subject = "constraint " + it.key() + " on " + identity;
                c.up.push_back(S("ALTER TABLE ") + identity + " ADD CONSTRAINT " + qi(it.key()) + " " + def + ";");
                c.down.push_back("ALTER TABLE " + identity + " DROP CONSTRAINT " + qi(it.key()) + ";");
                out.push_back(std::move(c));
            }
        if (flag(t, "row_security") || flag(t, "force_row_security")) {
            Step r;
            r.bucket = b_rls;
            r.subject = "table " + identity;
            if (flag(t, "row_security")) {
                r.up.push_back("ALTER TABLE " + identity + " ENABLE ROW LEVEL SECURITY;");
                r.down.push_back("ALTER TABLE " + identity + " DISABLE ROW LEVEL SECURITY;");
            }
            if (flag(t, "force_row_security")) {
                r.up.push_back("ALTER TABLE " + identity + " FORCE ROW LEVEL SECURITY;");
                r.down.push_back("ALTER TABLE " + identity + " NO FORCE ROW LEVEL SECURITY;");
            }
            out.push_back(std::move(r));
        }
        return out;
    }

    void table_extras(const std::string& identity, const json* from, const json* to, bool foreign) {
        std::string what = foreign ? "FOREIGN TABLE" : "TABLE";
        comment_steps("TABLE", identity, from, to, "table " + identity);
        acl_steps("TABLE", identity, from, to, "table " + identity);
        // columns' comments and ACLs
        std::map<std::string, const json*> fc;
        std::map<std::string, const json*> tc;
        if (from != nullptr && field(*from, "columns").is_array())
            for (const auto& c : field(*from, "columns")) fc[str(c, "name")] = &c;
        if (to != nullptr && field(*to, "columns").is_array())
            for (const auto& c : field(*to, "columns")) tc[str(c, "name")] = &c;
        for (const auto& [name, c] : tc) {
            auto f = fc.find(name);
            const json* fcol = f == fc.end() ? nullptr : f->second;
            comment_steps("COLUMN", S(identity) + "." + qi(name), fcol, c, S("column ") + identity + "." + name);
            acl_steps("TABLE", identity, fcol, c, S("column ") + identity + "." + name, name);
        }
        (void)what;
    }

    void emit_table_created(const std::string& identity, const json& t) {
        for (auto& s : table_create_steps(identity, t, false)) add(std::move(s));
        table_extras(identity, nullptr, &t, str(t, "kind") == "f");
    }

    void emit_table_dropped(const std::string& identity, const json& t, bool probable_rename) {
        if (probable_rename || !options_.allow_destructive) kept_tables_.insert(identity);
        // the extras (comments, grants) go with the table; only the table step is mirrored by hand
        for (auto& s : table_create_steps(identity, t, true)) {
            Step m = mirror(std::move(s));
            if (m.up.size() == 1 && m.up[0].rfind("DROP TABLE", 0) == 0) {
                m.destructive = true;
                for (const auto& c : field(t, "columns")) {
                    m.uses.push_back(str(c, "type"));
                    m.uses.push_back(str(c, "default"));
                }
                m.allow_rule = "drop-table";
                m.reason = probable_rename ? "probably renamed (see probable renames): pass --rename or --no-rename"
                                           : "drops the table and its data";
                m.withhold_always = probable_rename;
                // comments and grants come back with the table in down
                const json& cols = field(t, "columns");
                if (!str(t, "comment").empty())
                    m.down.push_back("COMMENT ON TABLE " + identity + " IS " + literal(str(t, "comment")) + ";");
                if (cols.is_array())
                    for (const auto& c : cols)
                        if (!str(c, "comment").empty())
                            m.down.push_back("COMMENT ON COLUMN " + identity + "." + qi(str(c, "name")) + " IS " +
                                             literal(str(c, "comment")) + ";");
                append_acl_restore(m.down, "TABLE", identity, t);
            }
            add(std::move(m));
        }
    }

    void append_acl_restore(std::vector<std::string>& out, const std::string& what, const std::string& name,
                            const json& d) {
        if (!field(d, "acl").is_array()) return;
        std::set<std::string> want = acl_set(d);
        std::set<std::string> def = default_acl(what);
        for (const auto& e : def)
            if (want.count(e) == 0) {
                auto colon = e.find(':');
                out.push_back(S("REVOKE ") + e.substr(colon + 1) + " ON " + what + " " + name + " FROM " +
                              grantee_sql(e.substr(0, colon)) + ";");
            }
        for (const auto& e : want)
            if (def.count(e) == 0) {
                auto colon = e.find(':');
                std::string priv = e.substr(colon + 1);
                bool wg = priv.find(" WITH GRANT OPTION") != std::string::npos;
                if (wg) priv = priv.substr(0, priv.find(" WITH GRANT OPTION"));
                out.push_back(S("GRANT ") + priv + " ON " + what + " " + name + " TO " +
                              grantee_sql(e.substr(0, colon)) + (wg ? " WITH GRANT OPTION" : "") + ";");
            }
    }

    std::string not_null_check_name(const std::string& column) {
        std::string n = column + "_not_null";
        if (n.size() > 63) n = n.substr(0, 63);
        return n;
    }

    // SET NOT NULL on an existing table: CHECK NOT VALID (main), VALIDATE + SET NOT NULL + drop the check (post).
    void safe_set_not_null(const std::string& identity, const std::string& column) {
        std::string chk = qi(not_null_check_name(column));
        std::string subject = "column " + identity + "." + column;
        Step m;
        m.bucket = b_column;
        m.subject = subject;
        m.up.push_back("ALTER TABLE " + identity + " ADD CONSTRAINT " + chk + " CHECK (" + qi(column) +
                       " IS NOT NULL) NOT VALID;");
        m.down.push_back("ALTER TABLE " + identity + " DROP CONSTRAINT IF EXISTS " + chk + ";");
        add(std::move(m));
        Step p;
        p.bucket = b_column;
        p.phase = Phase::post;
        p.subject = subject;
        p.up.push_back("ALTER TABLE " + identity + " VALIDATE CONSTRAINT " + chk + ";");
        p.up.push_back("ALTER TABLE " + identity + " ALTER COLUMN " + qi(column) + " SET NOT NULL;");
        p.up.push_back("ALTER TABLE " + identity + " DROP CONSTRAINT " + chk + ";");
        p.down.push_back("ALTER TABLE " + identity + " ADD CONSTRAINT " + chk + " CHECK (" + qi(column) +
                         " IS NOT NULL) NOT VALID;");
        p.down.push_back("ALTER TABLE " + identity + " ALTER COLUMN " + qi(column) + " DROP NOT NULL;");
        // p.down runs in the listed order, which must undo the up in reverse: re-add the check, drop not null
        add(std::move(p));
    }

    bool table_is_partitioned_or_partition(const json& t) const {
        return str(t, "kind") == "p" || field(t, "partition_of").is_array();
    }

    void diff_columns(const std::string& identity, const json& a, const json& b,
                      const std::map<std::string, std::string>& col_renames);

    void apply_renames();
    void diff_tables();
    void diff_constraints();
    void diff_indexes();
    void diff_views();
    void diff_sequences();
    void diff_functions();
    void diff_types();
    void diff_triggers_policies();
    void diff_schemas_extensions();
    void report_unsupported();
    void finish();
};

void Engine::diff_columns(const std::string& identity, const json& a, const json& b,
                          const std::map<std::string, std::string>& col_renames) {
    const json& ac = field(a, "columns");
    const json& bc = field(b, "columns");
    std::vector<const json*> acols;
    std::vector<const json*> bcols;
    if (ac.is_array())
        for (const auto& c : ac) acols.push_back(&c);
    if (bc.is_array())
        for (const auto& c : bc) bcols.push_back(&c);
    std::map<std::string, size_t> apos;
    std::map<std::string, size_t> bpos;
    for (size_t i = 0; i < acols.size(); ++i) apos[str(*acols[i], "name")] = i;
    for (size_t i = 0; i < bcols.size(); ++i) bpos[str(*bcols[i], "name")] = i;
    bool existing = true;
    bool special = table_is_partitioned_or_partition(b);
    std::string subject_prefix = "column " + identity + ".";

    // confirmed column renames
    std::map<std::string, std::string> renamed;  // old -> new
    for (const auto& [old_name, new_name] : col_renames)
        if (apos.count(old_name) != 0 && bpos.count(new_name) != 0 && bpos.count(old_name) == 0 &&
            apos.count(new_name) == 0) {
            renamed[old_name] = new_name;
            Step s;
            s.bucket = b_column;
            s.subject = subject_prefix + new_name;
            s.up.push_back("ALTER TABLE " + identity + " RENAME COLUMN " + qi(old_name) + " TO " + qi(new_name) + ";");
            s.down.push_back("ALTER TABLE " + identity + " RENAME COLUMN " + qi(new_name) + " TO " + qi(old_name) +
                             ";");
            add(std::move(s));
        }
    std::set<std::string> renamed_to;
    for (const auto& [o, n] : renamed) renamed_to.insert(n);

    // probable renames: dropped and added at the same position with the same type
    std::set<std::string> probable_drop;
    if (!options_.no_renames)
        for (size_t i = 0; i < acols.size(); ++i) {
            std::string n = str(*acols[i], "name");
            if (bpos.count(n) != 0 || renamed.count(n) != 0 || flag(*acols[i], "inherited")) continue;
            if (i < bcols.size()) {
                std::string m = str(*bcols[i], "name");
                if (apos.count(m) == 0 && renamed_to.count(m) == 0 &&
                    str(*bcols[i], "type") == str(*acols[i], "type")) {
                    probable_drop.insert(n);
                    result_.probable_renames.push_back({"column", S(identity) + "." + n, S(identity) + "." + m,
                                                        S("in ") + identity + ", column " + n + " is dropped and " + m +
                                                            " added with the same type (" + str(*acols[i], "type") +
                                                            ") at the same position"});
                }
            }
        }

    // dropped columns, last first: down adds them back in their order
    for (auto rit = acols.rbegin(); rit != acols.rend(); ++rit) {
        const json* c = *rit;
        std::string n = str(*c, "name");
        if (bpos.count(n) != 0 || renamed.count(n) != 0 || flag(*c, "inherited")) continue;
        Step s;
        s.bucket = b_column;
        s.sub = 1;
        s.subject = subject_prefix + n;
        s.up.push_back("ALTER TABLE " + identity + " DROP COLUMN " + qi(n) + ";");
        s.down.push_back("ALTER TABLE " + identity + " ADD COLUMN " + column_def(*c) + ";");
        if (!str(*c, "comment").empty())
            s.down.push_back("COMMENT ON COLUMN " + identity + "." + qi(n) + " IS " + literal(str(*c, "comment")) +
                             ";");
        s.destructive = true;
        s.uses = {str(*c, "type"), str(*c, "default")};
        s.allow_rule = "drop-column";
        bool probable = probable_drop.count(n) != 0;
        s.withhold_always = probable;
        s.reason = probable ? "probably renamed (see probable renames): pass --rename or --no-rename"
                            : "drops the column and its data";
        add(std::move(s));
    }
    // added columns
    for (const json* c : bcols) {
        std::string n = str(*c, "name");
        if (apos.count(n) != 0 || renamed_to.count(n) != 0 || flag(*c, "inherited")) continue;
        bool nn = flag(*c, "not_null") && str(*c, "identity").empty();
        bool needs_safe_nn = existing && nn && str(*c, "default").empty() && str(*c, "generated").empty() &&
                             options_.safe_forms && !special;
        Step s;
        s.bucket = b_column;
        s.sub = 2;
        s.subject = subject_prefix + n;
        std::string def = column_def(*c, !needs_safe_nn);
        std::string sql = S("ALTER TABLE ") + identity + " ADD COLUMN " + def + ";";
        bool volatile_default = !str(*c, "identity").empty() || !str(*c, "generated").empty() ||
                                str(*c, "default").find("nextval(") != std::string::npos ||
                                str(*c, "default").find('(') != std::string::npos;
        if (volatile_default)
            sql =
                S("-- pgmig diff: no safe form for this step here\n-- pgmig:allow add-column-volatile-default\n") + sql;
        if (nn && !needs_safe_nn && str(*c, "default").empty() && str(*c, "generated").empty())
            sql = S("-- pgmig diff: no safe form for this step here\n-- pgmig:allow add-column-not-null-no-default\n") +
                  sql;
        s.up.push_back(sql);
        s.down.push_back("ALTER TABLE " + identity + " DROP COLUMN " + qi(n) + ";");
        if (uses_new_enum_value(sql)) s.phase = Phase::post;
        add(std::move(s));
        if (needs_safe_nn) safe_set_not_null(identity, n);
    }
    // generated columns that read a column whose type changes: PostgreSQL refuses the type change
    // while they exist, so they are dropped before and added (recomputed) after
    std::set<std::string> regenerated;
    {
        std::vector<std::string> retyped;
        for (const json* c : bcols) {
            auto ap = apos.find(str(*c, "name"));
            if (ap != apos.end() && str(*acols[ap->second], "type") != str(*c, "type"))
                retyped.push_back(str(*c, "name"));
        }
        for (const json* c : bcols) {
            auto ap = apos.find(str(*c, "name"));
            if (ap == apos.end() || retyped.empty()) continue;
            const json& o = *acols[ap->second];
            std::string expr = str(o, "generated");
            if (expr.empty() || str(*c, "generated").empty()) continue;
            bool reads = std::any_of(retyped.begin(), retyped.end(),
                                     [&](const std::string& r) { return replace_word(expr, qi(r), "\x01") != expr; });
            if (!reads) continue;
            std::string n = str(*c, "name");
            regenerated.insert(n);
            Step d;
            d.bucket = b_column;
            d.sub = -5;
            d.subject = subject_prefix + n;
            d.up.push_back(S("-- pgmig diff: a generated column over a retyped column is recomputed\n-- pgmig:allow "
                             "drop-column\nALTER TABLE ") +
                           identity + " DROP COLUMN " + qi(n) + ";");
            d.down.push_back(S("ALTER TABLE ") + identity + " ADD COLUMN " + column_def(o) + ";");
            add(std::move(d));
            Step a2;
            a2.bucket = b_column;
            a2.sub = 10;
            a2.subject = subject_prefix + n;
            a2.up.push_back(
                S("-- pgmig diff: a generated column is recomputed\n-- pgmig:allow add-column-volatile-default\n"
                  "ALTER TABLE ") +
                identity + " ADD COLUMN " + column_def(*c) + ";");
            a2.down.push_back(S("ALTER TABLE ") + identity + " DROP COLUMN " + qi(n) + ";");
            add(std::move(a2));
            if (c != bcols.back())
                result_.unsupported.push_back(S("column ") + identity + "." + n +
                                              ": recomputed after a type change, it moves to the end of the table");
        }
    }
    // changed columns
    for (const json* c : bcols) {
        std::string n = str(*c, "name");
        if (regenerated.count(n) != 0) continue;
        std::string old_name = n;
        for (const auto& [o, nn] : renamed)
            if (nn == n) old_name = o;
        auto ap = apos.find(old_name);
        if (ap == apos.end() || flag(*c, "inherited")) continue;
        const json& o = *acols[ap->second];
        std::string col = identity + " ALTER COLUMN " + qi(n);
        std::string subject = subject_prefix + n;
        std::string otype = str(o, "type");
        std::string ntype = str(*c, "type");
        if (str(o, "collation") != str(*c, "collation") && otype == ntype) ntype += "";
        bool generated_changed = str(o, "generated") != str(*c, "generated");
        if (generated_changed) {
            Step s;
            s.bucket = b_column;
            s.subject = subject;
            s.up.push_back("-- pgmig diff: a generated column is recomputed\n-- pgmig:allow drop-column\nALTER TABLE " +
                           identity + " DROP COLUMN " + qi(n) + ";");
            s.up.push_back(
                "-- pgmig diff: no safe form for this step here\n-- pgmig:allow add-column-volatile-default\nALTER "
                "TABLE " +
                identity + " ADD COLUMN " + column_def(*c) + ";");
            s.down.push_back("ALTER TABLE " + identity + " DROP COLUMN " + qi(n) + ";");
            s.down.push_back("ALTER TABLE " + identity + " ADD COLUMN " + column_def(o) + ";");
            add(std::move(s));
            result_.unsupported.push_back(S("column ") + identity + "." + n +
                                          ": its generation expression changes, so it is dropped and added again "
                                          "(it moves to the end of the table)");
            continue;
        }
        std::string odef = str(o, "default");
        std::string ndef = str(*c, "default");
        bool type_changed = otype != ntype || str(o, "collation") != str(*c, "collation");
        std::string oident = str(o, "identity");
        std::string nident = str(*c, "identity");
        if (oident != nident && !oident.empty()) {
            Step s;
            s.bucket = b_column;
            s.sub = -1;
            s.subject = subject;
            if (nident.empty()) {
                s.up.push_back("ALTER TABLE " + col + " DROP IDENTITY;");
                s.down.push_back("ALTER TABLE " + col + " ADD GENERATED " +
                                 std::string(oident == "a" ? "ALWAYS" : "BY DEFAULT") + " AS IDENTITY;");
            } else {
                s.up.push_back("ALTER TABLE " + col + " SET GENERATED " +
                               std::string(nident == "a" ? "ALWAYS" : "BY DEFAULT") + ";");
                s.down.push_back("ALTER TABLE " + col + " SET GENERATED " +
                                 std::string(oident == "a" ? "ALWAYS" : "BY DEFAULT") + ";");
            }
            add(std::move(s));
        }
        if (type_changed) {
            Step s;
            s.bucket = b_column;
            s.subject = subject;
            if (!odef.empty()) {
                s.up.push_back("ALTER TABLE " + col + " DROP DEFAULT;");
            }
            std::string coll_n = str(*c, "collation").empty() ? "" : " COLLATE " + qi(str(*c, "collation"));
            std::string coll_o = str(o, "collation").empty() ? "" : " COLLATE " + qi(str(o, "collation"));
            bool widening = is_widening(otype, ntype) && coll_n == coll_o;
            std::string using_n = " USING " + qi(n) + "::" + ntype;
            std::string using_o = " USING " + qi(n) + "::" + otype;
            // enums and other types without a cast from the old one go through text
            if (otype.find('.') != std::string::npos || ntype.find('.') != std::string::npos) {
                using_n = " USING " + qi(n) + "::text::" + ntype;
                using_o = " USING " + qi(n) + "::text::" + otype;
            }
            s.up.push_back(
                S("-- pgmig diff: no safe form for this step here\n-- pgmig:allow alter-column-type\nALTER TABLE ") +
                col + " TYPE " + ntype + coll_n + using_n + ";");
            if (!ndef.empty()) s.up.push_back(S("ALTER TABLE ") + col + " SET DEFAULT " + ndef + ";");
            if (!ndef.empty()) s.down.push_back("ALTER TABLE " + col + " DROP DEFAULT;");
            s.down.push_back(S("ALTER TABLE ") + col + " TYPE " + otype + coll_o + using_o + ";");
            if (!odef.empty()) s.down.push_back(S("ALTER TABLE ") + col + " SET DEFAULT " + odef + ";");
            if (!widening) {
                s.destructive = true;
                s.allow_rule = "alter-column-type";
                s.reason = S("changes the type from ") + otype + " to " + ntype + ", which may lose data or fail";
            }
            add(std::move(s));
        } else if (odef != ndef && odef.find('(') != std::string::npos) {
            // the old default may call a function this diff drops or overloads: it goes first
            Step e;
            e.bucket = b_drop_index;
            e.subject = subject;
            e.up.push_back(S("ALTER TABLE ") + col + " DROP DEFAULT;");
            e.down.push_back(S("ALTER TABLE ") + col + " SET DEFAULT " + odef + ";");
            add(std::move(e));
            if (!ndef.empty()) {
                Step s;
                s.bucket = b_column;
                s.subject = subject;
                s.up.push_back(S("ALTER TABLE ") + col + " SET DEFAULT " + ndef + ";");
                s.down.push_back(S("ALTER TABLE ") + col + " DROP DEFAULT;");
                if (uses_new_enum_value(ndef)) s.phase = Phase::post;
                add(std::move(s));
            }
        } else if (odef != ndef) {
            Step s;
            s.bucket = b_column;
            s.subject = subject;
            s.up.push_back("ALTER TABLE " + col + (ndef.empty() ? " DROP DEFAULT;" : " SET DEFAULT " + ndef + ";"));
            s.down.push_back("ALTER TABLE " + col + (odef.empty() ? " DROP DEFAULT;" : " SET DEFAULT " + odef + ";"));
            if (uses_new_enum_value(ndef)) s.phase = Phase::post;
            add(std::move(s));
        }
        if (oident != nident && oident.empty()) {
            Step s;
            s.bucket = b_column;
            s.sub = 3;
            s.subject = subject;
            s.up.push_back("ALTER TABLE " + col + " ADD GENERATED " +
                           std::string(nident == "a" ? "ALWAYS" : "BY DEFAULT") + " AS IDENTITY;");
            s.down.push_back("ALTER TABLE " + col + " DROP IDENTITY;");
            add(std::move(s));
        }
        bool onn = flag(o, "not_null");
        bool nnn = flag(*c, "not_null");
        if (onn != nnn && !(nnn && !nident.empty() && oident.empty())) {
            if (nnn && options_.safe_forms && !special) {
                safe_set_not_null(identity, n);
            } else {
                Step s;
                s.bucket = b_column;
                s.sub = 4;
                s.subject = subject;
                s.up.push_back("ALTER TABLE " + col + (nnn ? " SET NOT NULL;" : " DROP NOT NULL;"));
                s.down.push_back("ALTER TABLE " + col + (onn ? " SET NOT NULL;" : " DROP NOT NULL;"));
                add(std::move(s));
            }
        }
    }
    // column order: added columns land at the end
    std::vector<std::string> expected;
    for (const json* c : acols) {
        std::string n = str(*c, "name");
        if (renamed.count(n) != 0) n = renamed[n];
        if (bpos.count(n) != 0) expected.push_back(n);
    }
    for (const json* c : bcols) {
        std::string n = str(*c, "name");
        if (std::find(expected.begin(), expected.end(), n) == expected.end()) expected.push_back(n);
    }
    std::vector<std::string> wanted;
    wanted.reserve(bcols.size());
    for (const json* c : bcols) wanted.push_back(str(*c, "name"));
    if (expected != wanted && probable_drop.empty())
        result_.unsupported.push_back("table " + identity +
                                      ": the desired column order cannot be reached (added columns go to the end); "
                                      "the columns are right, their order differs");
}

void Engine::diff_tables() {
    // confirmed renames were applied to `from` by apply_renames()
    std::map<std::string, std::map<std::string, std::string>> col_renames;
    std::set<std::string> added;
    std::set<std::string> dropped;
    for (const auto& [key, d] : to_.objects) {
        const auto key_parts = split_key(key);
        const std::string& type = key_parts.first;
        const std::string& ident = key_parts.second;
        if (type != "table" && type != "foreign table") continue;
        if (from_.get(key) == nullptr) {
            bool via_rename = std::any_of(table_renames_.begin(), table_renames_.end(),
                                          [&](const auto& p) { return p.second == ident; });
            if (!via_rename) added.insert(ident);
        }
    }
    for (const auto& [key, d] : from_.objects) {
        const auto key_parts = split_key(key);
        const std::string& type = key_parts.first;
        const std::string& ident = key_parts.second;
        if (type != "table" && type != "foreign table") continue;
        if (to_.get(key) == nullptr && table_renames_.count(ident) == 0) dropped.insert(ident);
    }
    // probable table renames: same columns (names and types)
    std::set<std::string> probable;
    if (!options_.no_renames) {
        auto signature = [](const json& t) {
            std::string sig = str(t, "kind") + "|";
            for (const auto& c : field(t, "columns")) sig += str(c, "name") + ":" + str(c, "type") + ",";
            return sig;
        };
        std::multimap<std::string, std::string> added_by_sig;
        for (const auto& a : added) added_by_sig.emplace(signature(*to_.get("table " + a)), a);
        for (const auto& d : dropped) {
            const json* t = from_.get("table " + d);
            if (t == nullptr) continue;
            auto range = added_by_sig.equal_range(signature(*t));
            for (auto it = range.first; it != range.second; ++it) {
                probable.insert(d);
                result_.probable_renames.push_back(
                    {"table", d, it->second,
                     "table " + d + " is dropped and " + it->second + " added with the same columns"});
                break;
            }
        }
    }
    for (const auto& [f, t] : table_renames_) {
        Step s;
        s.bucket = b_table;
        s.sub = -100;
        s.subject = "table " + t;
        auto dot = t.rfind('.');
        std::string new_name = dot == std::string::npos ? t : t.substr(dot + 1);
        auto fdot = f.rfind('.');
        std::string old_name = fdot == std::string::npos ? f : f.substr(fdot + 1);
        std::string tschema = dot == std::string::npos ? "" : t.substr(0, dot);
        std::string fschema = fdot == std::string::npos ? "" : f.substr(0, fdot);
        s.up.push_back(S("ALTER TABLE ") + f + " RENAME TO " + new_name + ";");
        if (tschema != fschema)
            s.up.push_back(S("ALTER TABLE ") + fschema + "." + new_name + " SET SCHEMA " + tschema + ";");
        if (tschema != fschema) s.down.push_back(S("ALTER TABLE ") + t + " SET SCHEMA " + fschema + ";");
        s.down.push_back(S("ALTER TABLE ") + fschema + "." + new_name + " RENAME TO " + old_name + ";");
        add(std::move(s));
    }
    for (const auto& ident : added) {
        const json* t = to_.get("table " + ident);
        if (t == nullptr) t = to_.get("foreign table " + ident);
        if (str(*t, "kind") == "f") {
            result_.unsupported.push_back("foreign table " + ident + ": pgmig diff does not write foreign tables");
            continue;
        }
        emit_table_created(ident, *t);
    }
    for (const auto& ident : dropped) {
        const json* t = from_.get("table " + ident);
        if (t == nullptr) {
            result_.unsupported.push_back("foreign table " + ident + ": pgmig diff does not drop foreign tables");
            continue;
        }
        emit_table_dropped(ident, *t, probable.count(ident) != 0);
    }
    // tables in both (or renamed)
    std::vector<std::pair<std::string, std::string>> both;  // from identity, to identity
    for (const auto& [key, d] : to_.objects) {
        const auto key_parts = split_key(key);
        const std::string& type = key_parts.first;
        const std::string& ident = key_parts.second;
        if (type != "table") continue;
        if (from_.get(key) != nullptr) both.emplace_back(ident, ident);
    }
    for (const auto& [f, t] : table_renames_) both.emplace_back(f, t);
    for (const auto& fi_ti : both) {
        const std::string& fi = fi_ti.first;
        const std::string& ti = fi_ti.second;
        const json& a = *from_.get("table " + fi);
        const json& b = *to_.get("table " + ti);
        if (a == b && fi == ti) continue;
        auto cr = col_renames.find(ti);
        static const std::map<std::string, std::string> none;
        diff_columns(ti, a, b, cr == col_renames.end() ? none : cr->second);
        if (str(a, "kind") != str(b, "kind") || str(a, "partition_key") != str(b, "partition_key") ||
            field(a, "partition_of") != field(b, "partition_of") || field(a, "inherits") != field(b, "inherits"))
            result_.unsupported.push_back("table " + ti +
                                          ": its partitioning or inheritance changes; pgmig diff cannot write that");
        if (str(a, "persistence") != str(b, "persistence")) {
            Step s;
            s.bucket = b_column;
            s.subject = "table " + ti;
            bool unlogged = str(b, "persistence") == "u";
            s.up.push_back("ALTER TABLE " + ti + (unlogged ? " SET UNLOGGED;" : " SET LOGGED;"));
            s.down.push_back("ALTER TABLE " + ti + (unlogged ? " SET LOGGED;" : " SET UNLOGGED;"));
            add(std::move(s));
        }
        if (field(a, "options") != field(b, "options")) {
            Step s;
            s.bucket = b_column;
            s.subject = "table " + ti;
            auto opts = [](const json& d) {
                std::vector<std::string> out;
                if (field(d, "options").is_array())
                    for (const auto& o : field(d, "options")) out.push_back(o.get<std::string>());
                return out;
            };
            auto names = [](const std::vector<std::string>& o) {
                std::string s2;
                for (const auto& x : o) s2 += (s2.empty() ? "" : ", ") + x.substr(0, x.find('='));
                return s2;
            };
            auto joined = [](const std::vector<std::string>& o) {
                std::string s2;
                for (const auto& x : o) s2 += (s2.empty() ? "" : ", ") + x;
                return s2;
            };
            auto ao = opts(a);
            auto bo = opts(b);
            if (!ao.empty()) s.up.push_back("ALTER TABLE " + ti + " RESET (" + names(ao) + ");");
            if (!bo.empty()) s.up.push_back("ALTER TABLE " + ti + " SET (" + joined(bo) + ");");
            if (!bo.empty()) s.down.push_back("ALTER TABLE " + ti + " RESET (" + names(bo) + ");");
            if (!ao.empty()) s.down.push_back("ALTER TABLE " + ti + " SET (" + joined(ao) + ");");
            add(std::move(s));
        }
        auto rls = [&](const char* key, const std::string& on, const std::string& off) {
            if (flag(a, key) == flag(b, key)) return;
            Step s;
            s.bucket = b_rls;
            s.subject = S("table ") + ti;
            s.up.push_back(S("ALTER TABLE ") + ti + (flag(b, key) ? on : off));
            s.down.push_back(S("ALTER TABLE ") + ti + (flag(a, key) ? on : off));
            add(std::move(s));
        };
        rls("row_security", " ENABLE ROW LEVEL SECURITY;", " DISABLE ROW LEVEL SECURITY;");
        rls("force_row_security", " FORCE ROW LEVEL SECURITY;", " NO FORCE ROW LEVEL SECURITY;");
        table_extras(ti, &a, &b, false);
        // which tables have columns that change type or go away (their views are rebuilt)
        std::map<std::string, std::string> at;
        for (const auto& c : field(a, "columns")) at[str(c, "name")] = str(c, "type");
        for (const auto& c : field(b, "columns")) {
            auto it = at.find(str(c, "name"));
            if (it != at.end() && it->second != str(c, "type")) changed_tables_.insert(fi);
            if (it != at.end()) at.erase(it);
        }
        if (!at.empty()) changed_tables_.insert(fi);
        if (fi != ti) changed_tables_.insert(fi);
    }
}

std::string constraint_index_key(const std::string& table_identity, const std::string& name) {
    auto dot = table_identity.rfind('.');
    std::string schema = dot == std::string::npos ? "" : table_identity.substr(0, dot + 1);
    return "index " + schema + qi(name);
}

void Engine::diff_constraints() {
    // per table (to identity) and its from identity
    std::map<std::string, std::string> to_from;  // to identity -> from identity ("" when new)
    std::set<std::string> dropped_tables;
    for (const auto& [key, d] : to_.objects) {
        const auto key_parts = split_key(key);
        const std::string& type = key_parts.first;
        const std::string& ident = key_parts.second;
        if (type == "table") to_from[ident] = from_.get(key) != nullptr ? ident : "";
    }
    for (const auto& [f, t] : table_renames_) to_from[t] = f;
    for (const auto& [key, d] : from_.objects) {
        const auto key_parts = split_key(key);
        const std::string& type = key_parts.first;
        const std::string& ident = key_parts.second;
        if (type == "table" && to_.get(key) == nullptr && table_renames_.count(ident) == 0 &&
            kept_tables_.count(ident) == 0)
            dropped_tables.insert(ident);
    }
    auto constraints = [](const json* t) {
        std::map<std::string, std::string> out;
        if (t == nullptr) return out;
        std::set<std::string> inh = inherited_constraints(*t);
        const json& c = field(*t, "constraints");
        if (c.is_object())
            for (auto it = c.begin(); it != c.end(); ++it)
                if (inh.count(it.key()) == 0) out[it.key()] = it->get<std::string>();
        return out;
    };
    auto drop_step = [&](const std::string& fi, const std::string& name, const std::string& def) {
        Step s;
        s.bucket = is_fk(def) ? b_drop_fk : b_drop_constraint;
        s.subject = "constraint " + name + " on " + fi;
        s.up.push_back("ALTER TABLE " + fi + " DROP CONSTRAINT " + qi(name) + ";");
        s.down.push_back("ALTER TABLE " + fi + " ADD CONSTRAINT " + qi(name) + " " + def + ";");
        add(std::move(s));
    };
    for (const auto& ti_fi : to_from) {
        const std::string& ti = ti_fi.first;
        const std::string& fi = ti_fi.second;
        const json* b = to_.get("table " + ti);
        const json* a = fi.empty() ? nullptr : from_.get("table " + fi);
        auto bc = constraints(b);
        auto ac = constraints(a);
        bool existing = a != nullptr;
        bool partitioned = b != nullptr && (str(*b, "kind") == "p");
        for (const auto& [name, def] : ac) {
            auto it = bc.find(name);
            if (it == bc.end() || it->second != def) drop_step(fi, name, def);
        }
        for (const auto& [name, def] : bc) {
            auto it = ac.find(name);
            if (it != ac.end() && it->second == def) continue;
            bool fk = is_fk(def);
            if (!existing && !fk) continue;  // created with the table
            std::string add_sql = "ALTER TABLE " + ti + " ADD CONSTRAINT " + qi(name) + " ";
            std::string drop_sql = "ALTER TABLE " + ti + " DROP CONSTRAINT " + qi(name) + ";";
            Step s;
            s.bucket = fk ? b_fk : b_constraint;
            s.subject = S("constraint ") + name + " on " + ti;
            s.down.push_back(drop_sql);
            bool not_valid_form = (fk || def.rfind("CHECK", 0) == 0) && def.find("NOT VALID") == std::string::npos;
            bool unique_form = def.rfind("PRIMARY KEY (", 0) == 0 || def.rfind("UNIQUE (", 0) == 0;
            if (unique_form && def.back() != ')') unique_form = false;
            if (!existing || !options_.safe_forms) {
                s.up.push_back(add_sql + def + ";");
                if (existing && not_valid_form)
                    s.up.back() =
                        "-- pgmig diff: no safe form for this step here\n-- pgmig:allow "
                        "add-constraint-not-valid-missing\n" +
                        s.up.back();
                if (existing && unique_form)
                    s.up.back() =
                        "-- pgmig diff: no safe form for this step here\n-- pgmig:allow add-unique-without-index\n" +
                        s.up.back();
                add(std::move(s));
            } else if (not_valid_form && !partitioned) {
                s.up.push_back(add_sql + def + " NOT VALID;");
                add(std::move(s));
                Step v;
                v.bucket = fk ? b_fk : b_constraint;
                v.phase = Phase::post;
                v.subject = S("constraint ") + name + " on " + ti;
                v.up.push_back("ALTER TABLE " + ti + " VALIDATE CONSTRAINT " + qi(name) + ";");
                add(std::move(v));
            } else if (unique_form && !partitioned && to_.get(constraint_index_key(ti, name)) != nullptr) {
                std::string idef = str(*to_.get(constraint_index_key(ti, name)), "definition");
                auto pos = idef.find("INDEX ");
                idef.insert(pos + 6, "CONCURRENTLY ");
                s.phase = Phase::post;
                s.bucket = b_index;
                s.up.push_back(idef + ";");
                bool pk = def.rfind("PRIMARY KEY", 0) == 0;
                s.up.push_back(add_sql + (pk ? "PRIMARY KEY" : "UNIQUE") + " USING INDEX " + qi(name) + ";");
                s.down.clear();
                s.down.push_back(drop_sql);
                add(std::move(s));
            } else {
                s.up.push_back(add_sql + def + ";");
                std::string allow = not_valid_form ? "add-constraint-not-valid-missing"
                                    : unique_form  ? "add-unique-without-index"
                                                   : "";
                if (!allow.empty())
                    s.up.back() =
                        "-- pgmig diff: no safe form for this step here\n-- pgmig:allow " + allow + "\n" + s.up.back();
                add(std::move(s));
            }
        }
    }
    // dropped tables: their foreign keys go first, so tables can be dropped in any order
    for (const auto& fi : dropped_tables)
        for (const auto& [name, def] : constraints(from_.get("table " + fi)))
            if (is_fk(def)) drop_step(fi, name, def);
}

void Engine::diff_indexes() {
    const std::set<std::string> keys = keys_of_kinds(from_, to_, {"index "});
    auto skip = [](const json* d) {
        return d == nullptr || !str(*d, "constraint").empty() || field(*d, "partition_of").is_array();
    };
    auto create_sql = [](std::string def, bool concurrently) {
        auto only = def.find(" ON ONLY ");
        if (only != std::string::npos) def.erase(only + 4, 5);
        if (concurrently) def.insert(def.find("INDEX ") + 6, "CONCURRENTLY ");
        return def + ";";
    };
    for (const auto& key : keys) {
        const json* a = from_.get(key);
        const json* b = to_.get(key);
        std::string ident = split_key(key).second;
        bool a_real = !skip(a);
        bool b_real = !skip(b);
        bool on_rebuilt = a_real && rebuilt_views_.count(relation_key(from_, index_table(str(*a, "definition")))) != 0;
        if (a_real && b_real && str(*a, "definition") == str(*b, "definition") && !on_rebuilt) {
            comment_steps("INDEX", ident, a, b, key);
            continue;
        }
        if (a_real) {
            std::string def = str(*a, "definition");
            std::string table = index_table(def);
            std::string rk = relation_key(from_, table);
            bool on_view = rk.rfind("materialized view ", 0) == 0;
            bool on_rebuilt_view = on_view && (rebuilt_views_.count(rk) != 0 || to_.get(rk) == nullptr);
            bool table_gone = !on_view && to_.get(rk) == nullptr;
            if (table_gone && kept_tables_.count(table) != 0) continue;
            if (!table_gone && !on_view && table_renames_.count(table) != 0) table_gone = true;
            Step s;
            s.subject = key;
            bool concurrent = options_.safe_forms && !table_gone && !on_view && str(*a, "kind") != "I" &&
                              changed_tables_.count(table) == 0;
            s.bucket = on_rebuilt_view ? b_drop_view - 1 : b_drop_index;
            if (concurrent) {
                s.phase = Phase::post;
                s.up.push_back("DROP INDEX CONCURRENTLY IF EXISTS " + ident + ";");
            } else {
                s.up.push_back("DROP INDEX " + ident + ";");
            }
            s.down.push_back(create_sql(def, false));
            if (!str(*a, "comment").empty())
                s.down.push_back("COMMENT ON INDEX " + ident + " IS " + literal(str(*a, "comment")) + ";");
            add(std::move(s));
        }
        if (b_real) {
            std::string def = str(*b, "definition");
            std::string table = index_table(def);
            std::string rk = relation_key(to_, table);
            bool on_view = rk.rfind("materialized view ", 0) == 0;
            bool table_new = from_.get(rk) == nullptr && !table_renames_inverse(table);
            bool view_new = on_view && (from_.get(rk) == nullptr || rebuilt_views_.count(rk) != 0);
            Step s;
            s.subject = key;
            if (on_view) {
                s.bucket = b_view + 2;
                s.up.push_back(create_sql(def, false));
                s.down.push_back("DROP INDEX " + ident + ";");
                if (!view_new) {
                    s.phase = options_.safe_forms ? Phase::post : Phase::main;
                    if (options_.safe_forms) s.up.back() = create_sql(def, true);
                }
            } else if (table_new || !options_.safe_forms) {
                s.bucket = b_index;
                s.up.push_back(create_sql(def, false));
                if (!table_new)
                    s.up.back() =
                        "-- pgmig diff: no safe form for this step here\n-- pgmig:allow "
                        "create-index-not-concurrently\n" +
                        s.up.back();
                s.down.push_back("DROP INDEX " + ident + ";");
            } else if (str(*b, "kind") == "I") {
                s.bucket = b_index;
                s.up.push_back(
                    "-- pgmig diff: partitioned tables cannot build indexes concurrently\n"
                    "-- pgmig:allow create-index-not-concurrently\n" +
                    create_sql(def, false));
                s.down.push_back("DROP INDEX " + ident + ";");
            } else {
                s.bucket = b_index;
                s.phase = Phase::post;
                s.up.push_back(create_sql(def, true));
                s.down.push_back("DROP INDEX CONCURRENTLY IF EXISTS " + ident + ";");
            }
            add(std::move(s));
            comment_steps("INDEX", ident, nullptr, b, key);
        }
    }
}

void Engine::diff_views() {
    auto is_view = [](const std::string& key) {
        return key.rfind("view ", 0) == 0 || key.rfind("materialized view ", 0) == 0;
    };
    // seeds: views whose description changed, and objects whose change invalidates the views over them
    std::set<std::string> invalid = invalidated_;
    for (const auto& fi : changed_tables_) invalid.insert("table " + fi);
    for (const auto& [key, d] : from_.objects) {
        const std::string type = split_key(key).first;
        if ((type == "table" || is_view(key)) && to_.get(key) == nullptr) invalid.insert(key);
        if (is_view(key) && to_.get(key) != nullptr && *to_.get(key) != *d) {
            // only a comment or grant change: no rebuild
            json x = *d;
            json y = *to_.get(key);
            x.erase("comment");
            y.erase("comment");
            x.erase("acl");
            y.erase("acl");
            if (x.contains("columns"))
                for (auto& c : x["columns"]) c.erase("comment"), c.erase("acl");
            if (y.contains("columns"))
                for (auto& c : y["columns"]) c.erase("comment"), c.erase("acl");
            if (x != y) invalid.insert(key);
        }
    }
    std::map<std::string, std::vector<std::string>> dependents;  // object key -> views (from) that read it
    for (const auto& [key, d] : from_.objects) {
        if (!is_view(key)) continue;
        const json& deps = field(*d, "depends_on");
        if (deps.is_array())
            for (const auto& dep : deps)
                if (dep.is_string()) dependents[dep.get<std::string>()].push_back(key);
    }
    std::vector<std::string> queue(invalid.begin(), invalid.end());
    std::set<std::string> drop;
    while (!queue.empty()) {
        std::string k = queue.back();
        queue.pop_back();
        if (is_view(k) && from_.get(k) != nullptr && drop.insert(k).second) {
        }
        auto it = dependents.find(k);
        if (it == dependents.end()) continue;
        for (const auto& v : it->second)
            if (drop.count(v) == 0) {
                drop.insert(v);
                queue.push_back(v);
            }
    }
    for (const auto& k : drop)
        if (to_.get(k) != nullptr) rebuilt_views_.insert(k);
    std::set<std::string> create = rebuilt_views_;
    for (const auto& [key, d] : to_.objects)
        if (is_view(key) && from_.get(key) == nullptr) create.insert(key);

    std::map<std::string, int> rank_memo;
    std::function<int(const Snapshot&, const std::string&, int)> rank = [&](const Snapshot& s, const std::string& k,
                                                                            int guard) -> int {
        auto m = rank_memo.find(k);
        if (m != rank_memo.end()) return m->second;
        int r = 0;
        const json* d = s.get(k);
        if (d != nullptr && guard < 200) {
            const json& deps = field(*d, "depends_on");
            if (deps.is_array())
                for (const auto& dep : deps)
                    if (dep.is_string() && is_view(dep.get<std::string>()))
                        r = std::max(r, 1 + rank(s, dep.get<std::string>(), guard + 1));
        }
        rank_memo[k] = r;
        return r;
    };
    auto view_sql = [](const std::string& key, const json& d) {
        const auto key_parts = split_key(key);
        const std::string& type = key_parts.first;
        const std::string& ident = key_parts.second;
        std::string sql = type == "view" ? "CREATE VIEW " + ident : "CREATE MATERIALIZED VIEW " + ident;
        const json& opts = field(d, "options");
        if (opts.is_array() && !opts.empty()) {
            sql += " WITH (";
            for (size_t i = 0; i < opts.size(); ++i) sql += (i ? ", " : "") + opts[i].get<std::string>();
            sql += ")";
        }
        return sql + " AS\n" + rtrim_semicolon(str(d, "definition")) + ";";
    };
    auto drop_sql = [](const std::string& key) {
        const auto key_parts = split_key(key);
        const std::string& type = key_parts.first;
        const std::string& ident = key_parts.second;
        return (type == "view" ? "DROP VIEW " : "DROP MATERIALIZED VIEW ") + ident + ";";
    };
    auto extras = [&](const std::string& key, const json& d, std::vector<std::string>& out) {
        const auto key_parts = split_key(key);
        const std::string& type = key_parts.first;
        const std::string& ident = key_parts.second;
        std::string what = type == "view" ? "VIEW" : "MATERIALIZED VIEW";
        if (!str(d, "comment").empty())
            out.push_back("COMMENT ON " + what + " " + ident + " IS " + literal(str(d, "comment")) + ";");
        const json& cols = field(d, "columns");
        if (cols.is_array())
            for (const auto& c : cols)
                if (!str(c, "comment").empty())
                    out.push_back("COMMENT ON COLUMN " + ident + "." + qi(str(c, "name")) + " IS " +
                                  literal(str(c, "comment")) + ";");
        append_acl_restore(out, "TABLE", ident, d);
    };
    for (const auto& k : drop) {
        Step s;
        s.bucket = b_drop_view;
        s.sub = -rank(from_, k, 0);
        s.subject = k;
        s.up.push_back(drop_sql(k));
        s.down.push_back(view_sql(k, *from_.get(k)));
        extras(k, *from_.get(k), s.down);
        add(std::move(s));
    }
    rank_memo.clear();
    for (const auto& k : create) {
        Step s;
        s.bucket = b_view;
        s.sub = rank(to_, k, 0);
        s.subject = k;
        s.up.push_back(view_sql(k, *to_.get(k)));
        extras(k, *to_.get(k), s.up);
        s.down.push_back(drop_sql(k));
        add(std::move(s));
    }
    // comment and grant changes of views kept as they are
    for (const auto& [key, d] : to_.objects) {
        if (!is_view(key) || create.count(key) != 0 || from_.get(key) == nullptr) continue;
        const auto key_parts = split_key(key);
        const std::string& type = key_parts.first;
        const std::string& ident = key_parts.second;
        std::string what = type == "view" ? "VIEW" : "MATERIALIZED VIEW";
        comment_steps(what, ident, from_.get(key), d, key);
        acl_steps("TABLE", ident, from_.get(key), d, key);
        std::map<std::string, const json*> fc;
        for (const auto& c : field(*from_.get(key), "columns")) fc[str(c, "name")] = &c;
        for (const auto& c : field(*d, "columns")) {
            auto f = fc.find(str(c, "name"));
            comment_steps("COLUMN", ident + "." + qi(str(c, "name")), f == fc.end() ? nullptr : f->second, &c,
                          "column " + ident + "." + str(c, "name"));
        }
    }
}

bool is_identity_sequence(const Snapshot& s, const json& seq) {
    std::string owned = str(field(seq, "sequence"), "owned_by");
    if (owned.empty()) return false;
    auto dot = owned.rfind('.');
    const json* t = s.get("table " + owned.substr(0, dot));
    if (t == nullptr) return false;
    std::string col = owned.substr(dot + 1);
    for (const auto& c : field(*t, "columns"))
        if (str(c, "name") == col) return !str(c, "identity").empty();
    return false;
}

std::string sequence_options(const json& q) {
    auto num = [&](const char* k) { return field(q, k).is_number() ? field(q, k).dump() : std::string("1"); };
    return " AS " + str(q, "type") + " INCREMENT BY " + num("increment") + " MINVALUE " + num("min") + " MAXVALUE " +
           num("max") + " START WITH " + num("start") + " CACHE " + num("cache") +
           (flag(q, "cycle") ? " CYCLE" : " NO CYCLE");
}

std::string owned_by_sql(const std::string& ident, const std::string& owned) {
    if (owned.empty()) return "ALTER SEQUENCE " + ident + " OWNED BY NONE;";
    auto dot = owned.rfind('.');
    return "ALTER SEQUENCE " + ident + " OWNED BY " + owned.substr(0, dot) + "." + qi(owned.substr(dot + 1)) + ";";
}

void Engine::diff_sequences() {
    const std::set<std::string> keys = keys_of_kinds(from_, to_, {"sequence "});
    for (const auto& key : keys) {
        const json* a = from_.get(key);
        const json* b = to_.get(key);
        std::string ident = split_key(key).second;
        bool a_identity = a != nullptr && is_identity_sequence(from_, *a);
        bool b_identity = b != nullptr && is_identity_sequence(to_, *b);
        if (a_identity || b_identity) {
            // the column creates and drops it: only its options, grants and comment are ours
            auto non_default = [](const json& d) {
                const json& q = field(d, "sequence");
                std::string t = str(q, "type");
                std::string max = t == "smallint" ? "32767" : t == "integer" ? "2147483647" : "9223372036854775807";
                auto is = [&](const char* k, const std::string& v) {
                    return field(q, k).is_number() && field(q, k).dump() == v;
                };
                return !(is("start", "1") && is("increment", "1") && is("min", "1") && is("max", max) &&
                         is("cache", "1") && !flag(q, "cycle"));
            };
            if (a_identity && b_identity) {
                json qa = field(*a, "sequence");
                json qb = field(*b, "sequence");
                qa.erase("owned_by");
                qb.erase("owned_by");
                if (qa != qb) {
                    Step s;
                    s.bucket = b_owned_by + 1;
                    s.subject = key;
                    s.up.push_back("ALTER SEQUENCE " + ident + sequence_options(qb) + ";");
                    s.down.push_back("ALTER SEQUENCE " + ident + sequence_options(qa) + ";");
                    add(std::move(s));
                }
                comment_steps("SEQUENCE", ident, a, b, key);
                acl_steps("SEQUENCE", ident, a, b, key);
            } else if (b_identity) {
                if (non_default(*b)) {
                    Step s;
                    s.bucket = b_owned_by + 1;
                    s.subject = key;
                    s.up.push_back("ALTER SEQUENCE " + ident + sequence_options(field(*b, "sequence")) + ";");
                    add(std::move(s));
                }
                comment_steps("SEQUENCE", ident, nullptr, b, key);
                acl_steps("SEQUENCE", ident, nullptr, b, key);
            } else {
                Step s;
                s.bucket = 100 - (b_owned_by + 1);
                s.subject = key;
                if (non_default(*a))
                    s.down.push_back("ALTER SEQUENCE " + ident + sequence_options(field(*a, "sequence")) + ";");
                if (!str(*a, "comment").empty())
                    s.down.push_back("COMMENT ON SEQUENCE " + ident + " IS " + literal(str(*a, "comment")) + ";");
                append_acl_restore(s.down, "SEQUENCE", ident, *a);
                add(std::move(s));
            }
            continue;
        }
        auto create = [&](const json& d, bool mirrored) {
            const json& q = field(d, "sequence");
            Step s;
            s.bucket = b_sequence;
            s.subject = key;
            s.up.push_back("CREATE SEQUENCE " + ident + sequence_options(q) + ";");
            s.down.push_back("DROP SEQUENCE IF EXISTS " + ident + ";");
            if (!str(q, "owned_by").empty()) {
                Step o;
                o.bucket = b_owned_by;
                o.subject = key;
                o.up.push_back(owned_by_sql(ident, str(q, "owned_by")));
                o.down.push_back(owned_by_sql(ident, ""));
                if (mirrored) {
                    // released before any column goes (dropping the column would drop the sequence)
                    o = mirror(std::move(o));
                    o.bucket = b_drop_function_changed;
                    o.removes = ident;
                }
                add(std::move(o));
            }
            if (mirrored) s.removes = ident;
            add(mirrored ? mirror(std::move(s)) : std::move(s));
        };
        if (a == nullptr) {
            create(*b, false);
            comment_steps("SEQUENCE", ident, nullptr, b, key);
            acl_steps("SEQUENCE", ident, nullptr, b, key);
            continue;
        }
        if (b == nullptr) {
            std::string owned = str(field(*a, "sequence"), "owned_by");
            if (!owned.empty() && kept_tables_.count(relation_of_identity_qualifier(owned)) != 0) continue;
            create(*a, true);
            continue;
        }
        const json& qa = field(*a, "sequence");
        const json& qb = field(*b, "sequence");
        json qa2 = qa;
        json qb2 = qb;
        qa2.erase("owned_by");
        qb2.erase("owned_by");
        if (qa2 != qb2) {
            Step s;
            s.bucket = b_sequence;
            s.subject = key;
            s.up.push_back("ALTER SEQUENCE " + ident + sequence_options(qb) + ";");
            s.down.push_back("ALTER SEQUENCE " + ident + sequence_options(qa) + ";");
            add(std::move(s));
        }
        if (str(qa, "owned_by") != str(qb, "owned_by")) {
            Step s;
            s.bucket = str(qb, "owned_by").empty() ? b_drop_function_changed : b_owned_by;
            s.subject = key;
            s.up.push_back(owned_by_sql(ident, str(qb, "owned_by")));
            s.down.push_back(owned_by_sql(ident, str(qa, "owned_by")));
            add(std::move(s));
        }
        comment_steps("SEQUENCE", ident, a, b, key);
        acl_steps("SEQUENCE", ident, a, b, key);
    }
}

// The part of a function definition before its body: arguments, RETURNS, LANGUAGE, attributes.
std::string function_header(const std::string& def) {
    auto as = def.find("\nAS ");
    auto atomic = def.find("\nBEGIN ATOMIC");
    auto end = std::min(as, atomic);
    return end == std::string::npos ? def : def.substr(0, end);
}

std::string returns_line(const std::string& def) {
    auto r = def.find("\n RETURNS ");
    if (r == std::string::npos) return {};
    auto e = def.find('\n', r + 1);
    return def.substr(r, e == std::string::npos ? std::string::npos : e - r);
}

void Engine::diff_functions() {
    std::set<std::string> keys;
    auto is_internal = [](const json& d) {
        std::string def = str(d, "definition");
        return def.find("\n LANGUAGE internal") != std::string::npos &&
               (def.find("range_constructor") != std::string::npos);
    };
    keys = keys_of_kinds(from_, to_, {"function ", "procedure ", "aggregate "});
    std::set<std::string> added_names;  // "function public.f" of functions only `to` has
    for (const auto& key : keys)
        if (from_.get(key) == nullptr) added_names.insert(key.substr(0, key.find('(')));
    for (const auto& key : keys) {
        const json* a = from_.get(key);
        const json* b = to_.get(key);
        if ((a != nullptr && is_internal(*a)) || (b != nullptr && is_internal(*b))) continue;
        // a function whose signature names a recreated enum is dropped and created around it
        bool over_recreated = a != nullptr && b != nullptr &&
                              std::any_of(recreated_types_.begin(), recreated_types_.end(), [&](const std::string& t) {
                                  return function_header(str(*a, "definition")).find(t) != std::string::npos;
                              });
        if (a != nullptr && b != nullptr && *a == *b && !over_recreated) continue;
        const auto key_parts = split_key(key);
        const std::string& type = key_parts.first;
        const std::string& ident = key_parts.second;
        if (type == "aggregate" || (b != nullptr && !field(*b, "aggregate").is_null()) ||
            (a != nullptr && !field(*a, "aggregate").is_null())) {
            result_.unsupported.push_back(key + ": pgmig diff does not write aggregates (" +
                                          (a == nullptr   ? "added"
                                           : b == nullptr ? "removed"
                                                          : "changed") +
                                          ")");
            continue;
        }
        std::string what = type == "procedure" ? "PROCEDURE" : "FUNCTION";
        auto bucket_for = [&](const std::string& def) {
            // a signature that names a relation this diff creates must wait for it
            std::string h = function_header(def);
            std::string tok;
            for (size_t i = 0; i <= h.size(); ++i) {
                char c = i < h.size() ? h[i] : ' ';
                if (std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '.' || c == '"') {
                    tok += c;
                    continue;
                }
                if (tok.find('.') != std::string::npos) {
                    std::string rk = relation_key(to_, tok);
                    if (!rk.empty() && (from_.get(rk) == nullptr || rebuilt_views_.count(rk) != 0))
                        return static_cast<int>(b_function_late);
                    if (to_.get("composite type " + tok) != nullptr && from_.get("composite type " + tok) == nullptr)
                        return static_cast<int>(b_function);
                }
                tok.clear();
            }
            return static_cast<int>(b_function);
        };
        std::string drop = S("DROP ") + what + " " + ident + ";";
        if (a == nullptr) {
            std::string def = str(*b, "definition");
            Step s;
            s.bucket = bucket_for(def);
            s.subject = key;
            s.up.push_back(rtrim_semicolon(def) + ";");
            s.down.push_back(drop);
            add(std::move(s));
            comment_steps(what, ident, nullptr, b, key);
            acl_steps(what, ident, nullptr, b, key);
            continue;
        }
        if (b == nullptr) {
            std::string def = str(*a, "definition");
            Step s;
            // replaced by an overload of the same name: gone before the new one exists (calls would be ambiguous)
            s.bucket = added_names.count(type + " " + ident.substr(0, ident.find('('))) != 0
                           ? static_cast<int>(b_drop_function_changed)
                           : 100 - b_function;
            s.subject = key;
            s.removes = ident.substr(0, ident.find('('));
            s.up.push_back(drop);
            s.down.push_back(rtrim_semicolon(def) + ";");
            if (!str(*a, "comment").empty())
                s.down.push_back(S("COMMENT ON ") + what + " " + ident + " IS " + literal(str(*a, "comment")) + ";");
            append_acl_restore(s.down, what, ident, *a);
            add(std::move(s));
            invalidated_.insert(key);
            continue;
        }
        std::string da = str(*a, "definition");
        std::string db = str(*b, "definition");
        if (da != db || over_recreated) {
            if (returns_line(da) != returns_line(db) || over_recreated) {
                Step d;
                d.bucket = b_drop_function_changed;
                d.subject = key;
                d.up.push_back(drop);
                d.down.push_back(rtrim_semicolon(da) + ";");
                if (!str(*a, "comment").empty())
                    d.down.push_back(S("COMMENT ON ") + what + " " + ident + " IS " + literal(str(*a, "comment")) +
                                     ";");
                append_acl_restore(d.down, what, ident, *a);
                add(std::move(d));
                Step c;
                c.bucket = over_recreated ? static_cast<int>(b_function_late) : bucket_for(db);
                c.subject = key;
                c.up.push_back(rtrim_semicolon(db) + ";");
                c.down.push_back(drop);
                add(std::move(c));
                invalidated_.insert(key);
                comment_steps(what, ident, nullptr, b, key);
                acl_steps(what, ident, nullptr, b, key);
                continue;
            }
            Step s;
            s.bucket = b_function;
            s.subject = key;
            s.up.push_back(rtrim_semicolon(db) + ";");
            s.down.push_back(rtrim_semicolon(da) + ";");
            add(std::move(s));
        }
        comment_steps(what, ident, a, b, key);
        acl_steps(what, ident, a, b, key);
    }
}

std::vector<std::string> labels_of(const json& d) {
    std::vector<std::string> out;
    for (const auto& l : field(d, "labels")) out.push_back(l.get<std::string>());
    return out;
}

std::string enum_sql(const std::string& ident, const std::vector<std::string>& labels) {
    std::string sql = "CREATE TYPE " + ident + " AS ENUM (";
    for (size_t i = 0; i < labels.size(); ++i) sql += (i ? ", " : "") + literal(labels[i]);
    return sql + ");";
}

void Engine::diff_types() {
    const std::set<std::string> keys = keys_of_kinds(from_, to_, {"type ", "composite type "});
    // columns of `from` by type, for recreating an enum
    using Users = std::map<std::string, std::vector<std::pair<std::string, const json*>>>;
    auto users_of = [](const Snapshot& snap) {
        Users users;
        for (const auto& [key, d] : snap.objects) {
            const auto key_parts = split_key(key);
            const std::string& type = key_parts.first;
            const std::string& ident = key_parts.second;
            if (type != "table") continue;
            for (const auto& c : field(*d, "columns"))
                if (!flag(c, "inherited")) {
                    std::string t = str(c, "type");
                    if (t.size() > 2 && t.compare(t.size() - 2, 2, "[]") == 0) t = t.substr(0, t.size() - 2);
                    users[t].emplace_back(ident, &c);
                }
        }
        return users;
    };
    Users from_users = users_of(from_);
    Users to_users = users_of(to_);
    auto recreate = [&](const std::string& ident, const std::vector<std::string>& labels,
                        const std::vector<std::string>& old_labels, Users& users) {
        std::vector<std::string> out;
        auto dot = ident.rfind('.');
        std::string old_name = ident.substr(dot + 1);
        if (old_name.front() == '"') old_name = old_name.substr(1, old_name.size() - 2);
        std::string tmp = qi(old_name + "__pgmig_old");
        std::string schema = ident.substr(0, dot);
        out.push_back("ALTER TYPE " + ident + " RENAME TO " + tmp + ";");
        out.push_back(enum_sql(ident, labels));
        for (const auto& [table, c] : users[ident]) {
            std::string col = "ALTER TABLE " + table + " ALTER COLUMN " + qi(str(*c, "name"));
            bool array = str(*c, "type").back() == ']';
            if (!str(*c, "default").empty()) out.push_back(col + " DROP DEFAULT;");
            out.push_back(S("-- pgmig diff: the enum is recreated\n-- pgmig:allow alter-column-type\n") + col +
                          " TYPE " + ident + (array ? "[]" : "") + " USING " + qi(str(*c, "name")) +
                          (array ? "::text[]::" : "::text::") + ident + (array ? "[]" : "") + ";");
            // a default naming a value the type loses is not restored (the column's own diff sets the new one)
            std::string def = str(*c, "default");
            bool gone = std::any_of(old_labels.begin(), old_labels.end(), [&](const std::string& l) {
                return std::find(labels.begin(), labels.end(), l) == labels.end() &&
                       def.find(literal(l) + "::" + ident) != std::string::npos;
            });
            if (!def.empty() && !gone) out.push_back(S(col) + " SET DEFAULT " + def + ";");
        }
        out.push_back("DROP TYPE " + schema + "." + tmp + ";");
        return out;
    };
    for (const auto& key : keys) {
        const json* a = from_.get(key);
        const json* b = to_.get(key);
        if (a != nullptr && b != nullptr && *a == *b) continue;
        const auto key_parts = split_key(key);
        const std::string& type = key_parts.first;
        const std::string& ident = key_parts.second;
        bool composite = type == "composite type";
        std::string kind = composite ? "c" : str(b != nullptr ? *b : *a, "kind");
        std::string what = kind == "d" ? "DOMAIN" : "TYPE";
        auto create_sql = [&](const json& d) -> std::vector<std::string> {
            if (kind == "e") return {enum_sql(ident, labels_of(d))};
            if (kind == "r") return {S("CREATE TYPE ") + ident + " AS RANGE (SUBTYPE = " + str(d, "subtype") + ");"};
            if (kind == "c") {
                std::string sql = S("CREATE TYPE ") + ident + " AS (";
                bool first = true;
                for (const auto& c : field(d, "columns")) {
                    sql += (first ? "" : ", ") + qi(str(c, "name")) + " " + str(c, "type");
                    if (!str(c, "collation").empty()) sql += " COLLATE " + qi(str(c, "collation"));
                    first = false;
                }
                return {sql + ");"};
            }
            std::string sql = S("CREATE DOMAIN ") + ident + " AS " + str(d, "base");
            if (!str(d, "default").empty()) sql += " DEFAULT " + str(d, "default");
            if (flag(d, "not_null")) sql += " NOT NULL";
            const json& cons = field(d, "constraints");
            if (cons.is_object())
                for (auto it = cons.begin(); it != cons.end(); ++it)
                    sql += " CONSTRAINT " + qi(it.key()) + " " + it->get<std::string>();
            return {sql + ";"};
        };
        int sub = kind == "e" ? 0 : kind == "r" ? 1 : kind == "d" ? 2 : 3;
        if (kind != "e" && kind != "r" && kind != "c" && kind != "d") {
            result_.unsupported.push_back(S(key) + ": pgmig diff does not write types of kind " + kind);
            continue;
        }
        if (a == nullptr || b == nullptr) {
            const json& d = a == nullptr ? *b : *a;
            Step s;
            s.bucket = b_type;
            s.sub = sub;
            s.subject = key;
            s.up = create_sql(d);
            s.down.push_back(S("DROP ") + what + " " + ident + ";");
            if (a == nullptr) {
                add(std::move(s));
                comment_steps(what, ident, nullptr, b, key);
                acl_steps(what, ident, nullptr, b, key);
            } else {
                if (!str(d, "comment").empty())
                    s.up.push_back(S("COMMENT ON ") + what + " " + ident + " IS " + literal(str(d, "comment")) + ";");
                append_acl_restore(s.up, what, ident, d);
                s.removes = ident;
                add(mirror(std::move(s)));
            }
            continue;
        }
        std::string ka = composite ? "c" : str(*a, "kind");
        if (ka != kind) {
            result_.unsupported.push_back(key + ": its kind changes; pgmig diff cannot write that");
            continue;
        }
        if (kind == "e") {
            auto la = labels_of(*a);
            auto lb = labels_of(*b);
            // is la a subsequence of lb (values only added)?
            size_t i = 0;
            for (const auto& l : lb)
                if (i < la.size() && la[i] == l) ++i;
            bool only_added = i == la.size();
            if (la != lb) {
                recreated_types_.push_back(ident);
                // the type is recreated (now or in down): views over its columns must not stand in the way
                for (const auto& u : from_users[ident]) changed_tables_.insert(u.first);
                for (const auto& u : to_users[ident]) changed_tables_.insert(u.first);
            }
            if (only_added && la != lb) {
                Step s;
                s.bucket = b_type_alter;
                s.subject = key;
                std::set<std::string> old(la.begin(), la.end());
                for (size_t j = 0; j < lb.size(); ++j) {
                    if (old.count(lb[j]) != 0) continue;
                    new_enum_literals_.push_back(literal(lb[j]) + "::" + ident);
                    if (j > 0)
                        s.up.push_back("ALTER TYPE " + ident + " ADD VALUE " + literal(lb[j]) + " AFTER " +
                                       literal(lb[j - 1]) + ";");
                    else
                        s.up.push_back("ALTER TYPE " + ident + " ADD VALUE " + literal(lb[j]) +
                                       (lb.size() > 1 ? " BEFORE " + literal(lb[1]) : std::string()) + ";");
                }
                s.down = recreate(ident, la, lb, from_users);
                add(std::move(s));
            } else if (la != lb) {
                Step s;
                // after the columns changed: it converts the columns as they are then (to's)
                s.bucket = b_column + 1;
                s.subject = key;
                s.up = recreate(ident, lb, la, to_users);
                s.down = recreate(ident, la, lb, to_users);
                s.destructive = true;
                s.allow_rule = "";
                std::string removed;
                std::set<std::string> nb(lb.begin(), lb.end());
                for (const auto& l : la)
                    if (nb.count(l) == 0) removed += (removed.empty() ? "" : ", ") + l;
                s.reason = removed.empty() ? "reorders the enum's values: the type is recreated"
                                           : "removes enum value(s) " + removed +
                                                 ": the type is recreated and rows holding them fail";
                add(std::move(s));
            }
        } else if (kind == "d") {
            if (str(*a, "base") != str(*b, "base")) {
                result_.unsupported.push_back(key + ": the domain's base type changes; pgmig diff cannot write that");
                continue;
            }
            Step s;
            s.bucket = b_type_alter;
            s.subject = key;
            std::string dn = "ALTER DOMAIN " + ident;
            if (str(*a, "default") != str(*b, "default")) {
                s.up.push_back(
                    dn + (str(*b, "default").empty() ? " DROP DEFAULT;" : " SET DEFAULT " + str(*b, "default") + ";"));
                s.down.push_back(
                    dn + (str(*a, "default").empty() ? " DROP DEFAULT;" : " SET DEFAULT " + str(*a, "default") + ";"));
            }
            if (flag(*a, "not_null") != flag(*b, "not_null")) {
                s.up.push_back(dn + (flag(*b, "not_null") ? " SET NOT NULL;" : " DROP NOT NULL;"));
                s.down.push_back(dn + (flag(*a, "not_null") ? " SET NOT NULL;" : " DROP NOT NULL;"));
            }
            std::map<std::string, std::string> ca;
            std::map<std::string, std::string> cb;
            if (field(*a, "constraints").is_object())
                for (auto it = field(*a, "constraints").begin(); it != field(*a, "constraints").end(); ++it)
                    ca[it.key()] = it->get<std::string>();
            if (field(*b, "constraints").is_object())
                for (auto it = field(*b, "constraints").begin(); it != field(*b, "constraints").end(); ++it)
                    cb[it.key()] = it->get<std::string>();
            for (const auto& [n, d] : ca)
                if (cb.count(n) == 0 || cb[n] != d) {
                    s.up.push_back(dn + " DROP CONSTRAINT " + qi(n) + ";");
                    s.down.push_back(S(dn) + " ADD CONSTRAINT " + qi(n) + " " + d + ";");
                }
            for (const auto& [n, d] : cb)
                if (ca.count(n) == 0 || ca[n] != d) {
                    s.up.push_back(S(dn) + " ADD CONSTRAINT " + qi(n) + " " + d + ";");
                    s.down.insert(s.down.begin(), dn + " DROP CONSTRAINT " + qi(n) + ";");
                }
            if (!s.up.empty()) add(std::move(s));
        } else if (kind == "c") {
            std::map<std::string, std::string> ca;
            std::map<std::string, std::string> cb;
            for (const auto& c : field(*a, "columns")) ca[str(c, "name")] = str(c, "type");
            for (const auto& c : field(*b, "columns")) cb[str(c, "name")] = str(c, "type");
            Step s;
            s.bucket = b_type_alter;
            s.subject = key;
            for (const auto& c : field(*a, "columns")) {
                std::string n = str(c, "name");
                if (cb.count(n) == 0) {
                    s.up.push_back("ALTER TYPE " + ident + " DROP ATTRIBUTE " + qi(n) + ";");
                    s.down.insert(s.down.begin(),
                                  "ALTER TYPE " + ident + " ADD ATTRIBUTE " + qi(n) + " " + ca[n] + ";");
                } else if (cb[n] != ca[n]) {
                    s.up.push_back("ALTER TYPE " + ident + " ALTER ATTRIBUTE " + qi(n) + " TYPE " + cb[n] + ";");
                    s.down.insert(s.down.begin(),
                                  "ALTER TYPE " + ident + " ALTER ATTRIBUTE " + qi(n) + " TYPE " + ca[n] + ";");
                }
            }
            for (const auto& c : field(*b, "columns")) {
                std::string n = str(c, "name");
                if (ca.count(n) == 0) {
                    s.up.push_back("ALTER TYPE " + ident + " ADD ATTRIBUTE " + qi(n) + " " + cb[n] + ";");
                    s.down.insert(s.down.begin(), "ALTER TYPE " + ident + " DROP ATTRIBUTE " + qi(n) + ";");
                }
            }
            if (!s.up.empty()) add(std::move(s));
        } else if (str(*a, "subtype") != str(*b, "subtype")) {
            result_.unsupported.push_back(key + ": the range's subtype changes; pgmig diff cannot write that");
            continue;
        }
        comment_steps(what, ident, a, b, key);
        acl_steps(what, ident, a, b, key);
    }
}

std::string policy_sql(const std::string& name, const std::string& table, const json& d) {
    static const std::map<std::string, std::string> cmds = {
        {"r", "SELECT"}, {"a", "INSERT"}, {"w", "UPDATE"}, {"d", "DELETE"}, {"*", "ALL"}};
    std::string sql =
        "CREATE POLICY " + name + " ON " + table + " AS " + (flag(d, "permissive") ? "PERMISSIVE" : "RESTRICTIVE");
    auto c = cmds.find(str(d, "command"));
    sql += " FOR " + (c == cmds.end() ? std::string("ALL") : c->second);
    const json& roles = field(d, "roles");
    if (roles.is_array() && !roles.empty()) {
        sql += " TO ";
        for (size_t i = 0; i < roles.size(); ++i) sql += (i ? ", " : "") + roles[i].get<std::string>();
    }
    if (!str(d, "using").empty()) sql += " USING (" + str(d, "using") + ")";
    if (!str(d, "check").empty()) sql += " WITH CHECK (" + str(d, "check") + ")";
    return sql + ";";
}

void Engine::diff_triggers_policies() {
    const std::set<std::string> keys = keys_of_kinds(from_, to_, {"trigger ", "policy "});
    static const std::map<std::string, std::string> enable = {
        {"D", "DISABLE TRIGGER"}, {"R", "ENABLE REPLICA TRIGGER"}, {"A", "ENABLE ALWAYS TRIGGER"}};
    for (const auto& key : keys) {
        const json* a = from_.get(key);
        const json* b = to_.get(key);
        if (a != nullptr && flag(*a, "inherited")) a = nullptr;
        if (b != nullptr && flag(*b, "inherited")) b = nullptr;
        if (a == nullptr && b == nullptr) continue;
        if (a != nullptr && b != nullptr && *a == *b) continue;
        const auto key_parts = split_key(key);
        const std::string& type = key_parts.first;
        const std::string& ident = key_parts.second;
        const auto on_parts = split_on(ident);
        const std::string& name = on_parts.first;
        const std::string& table = on_parts.second;
        bool trigger = type == "trigger";
        auto create = [&](const json& d) {
            std::vector<std::string> out;
            if (trigger) {
                out.push_back(str(d, "definition") + ";");
                auto e = enable.find(str(d, "enabled"));
                if (e != enable.end()) out.push_back(S("ALTER TABLE ") + table + " " + e->second + " " + name + ";");
            } else {
                out.push_back(policy_sql(name, table, d));
            }
            return out;
        };
        std::string drop = S(trigger ? "DROP TRIGGER " : "DROP POLICY ") + name + " ON " + table + ";";
        if (a != nullptr) {
            std::string rk = relation_key(from_, table);
            bool table_gone = to_.get(rk) == nullptr;
            if (table_gone && kept_tables_.count(table) != 0) continue;
            if (!(rk.rfind("view", 0) == 0 && rebuilt_views_.count(rk) != 0)) {
                Step s;
                s.bucket = trigger ? b_drop_trigger : b_drop_policy;
                s.subject = key;
                s.up.push_back(drop);
                s.down = create(*a);
                add(std::move(s));
            }
        }
        if (b != nullptr) {
            Step s;
            s.bucket = trigger ? b_trigger : b_policy;
            s.subject = key;
            s.up = create(*b);
            s.down.push_back(drop);
            add(std::move(s));
        }
    }
}

void Engine::diff_schemas_extensions() {
    const std::set<std::string> keys = keys_of_kinds(from_, to_, {"schema ", "extension "});
    for (const auto& key : keys) {
        const json* a = from_.get(key);
        const json* b = to_.get(key);
        if (a != nullptr && b != nullptr && *a == *b) continue;
        const auto key_parts = split_key(key);
        const std::string& type = key_parts.first;
        const std::string& ident = key_parts.second;
        if (type == "schema") {
            if (a == nullptr || b == nullptr) {
                Step s;
                s.bucket = b_schema;
                s.subject = key;
                s.up.push_back("CREATE SCHEMA " + ident + ";");
                s.down.push_back("DROP SCHEMA " + ident + ";");
                if (a == nullptr) {
                    add(std::move(s));
                    comment_steps("SCHEMA", ident, nullptr, b, key);
                    acl_steps("SCHEMA", ident, nullptr, b, key);
                } else {
                    if (!str(*a, "comment").empty())
                        s.up.push_back("COMMENT ON SCHEMA " + ident + " IS " + literal(str(*a, "comment")) + ";");
                    append_acl_restore(s.up, "SCHEMA", ident, *a);
                    Step m = mirror(std::move(s));
                    m.destructive = true;
                    m.allow_rule = "drop-schema";
                    m.reason = "drops the schema";
                    add(std::move(m));
                }
                continue;
            }
            comment_steps("SCHEMA", ident, a, b, key);
            acl_steps("SCHEMA", ident, a, b, key);
            continue;
        }
        // extension
        auto create = [&](const json& d) {
            return S("CREATE EXTENSION IF NOT EXISTS ") + ident + " VERSION " + literal(str(d, "version")) + ";";
        };
        Step s;
        s.bucket = b_extension;
        s.subject = key;
        if (a == nullptr) {
            s.up.push_back(create(*b));
            s.down.push_back("DROP EXTENSION " + ident + ";");
            add(std::move(s));
        } else if (b == nullptr) {
            s.up.push_back(create(*a));
            s.down.push_back("DROP EXTENSION " + ident + ";");
            s.removes = "extension";  // which types it brings is not in the snapshot: any kept column may use it
            add(mirror(std::move(s)));
        } else {
            s.up.push_back("ALTER EXTENSION " + ident + " UPDATE TO " + literal(str(*b, "version")) + ";");
            s.down.push_back("ALTER EXTENSION " + ident + " UPDATE TO " + literal(str(*a, "version")) + ";");
            add(std::move(s));
        }
    }
}

void Engine::report_unsupported() {
    static const std::set<std::string> known = {
        "table",     "foreign table", "view", "materialized view", "index",  "sequence", "function", "procedure",
        "aggregate", "trigger",       "type", "composite type",    "policy", "schema",   "extension"};
    std::set<std::string> keys;
    for (const auto& [key, d] : from_.objects) keys.insert(key);
    for (const auto& [key, d] : to_.objects) keys.insert(key);
    for (const auto& key : keys) {
        auto type = split_key(key).first;
        if (known.count(type) != 0) continue;
        const json* a = from_.get(key);
        const json* b = to_.get(key);
        if (a != nullptr && b != nullptr && *a == *b) continue;
        result_.unsupported.push_back(S(key) + ": pgmig diff cannot write DDL for a " + type);
    }
}

void Engine::finish() {
    std::stable_sort(steps_.begin(), steps_.end(), [](const Step& x, const Step& y) {
        if (x.bucket != y.bucket) return x.bucket < y.bucket;
        return x.sub < y.sub;
    });
    // what withheld drops keep: their columns' types and defaults
    std::vector<std::string> kept_uses;
    for (const auto& s : steps_)
        if (s.destructive && (s.withhold_always || !options_.allow_destructive))
            for (const auto& u : s.uses)
                if (!u.empty()) kept_uses.push_back(u);
    std::set<std::string> still_used;  // subjects whose removal waits for the withheld drops
    for (const auto& s : steps_) {
        if (s.removes.empty() || kept_uses.empty()) continue;
        bool used = s.removes == "extension" ||
                    std::any_of(kept_uses.begin(), kept_uses.end(),
                                [&](const std::string& u) { return u.find(s.removes) != std::string::npos; });
        if (used) still_used.insert(s.subject);
    }
    std::set<std::string> reported;
    std::vector<const Step*> emitted;
    for (const auto& s : steps_) {
        if (s.up.empty() && s.down.empty()) continue;
        if (!s.removes.empty() && still_used.count(s.subject) != 0) {
            if (reported.insert(s.subject).second) {
                std::string sql;
                for (const auto& u : s.up) sql += (sql.empty() ? "" : "\n") + u;
                result_.withheld.push_back(
                    {s.subject, "still used by a column or table whose drop is withheld; it goes with them", sql});
            }
            continue;
        }
        if (s.destructive && (s.withhold_always || !options_.allow_destructive)) {
            std::string sql;
            for (const auto& u : s.up) sql += (sql.empty() ? "" : "\n") + u;
            result_.withheld.push_back({s.subject, s.reason, sql});
            continue;
        }
        emitted.push_back(&s);
    }
    bool functions = false;
    for (const Step* s : emitted) {
        Migration& m = s->phase == Phase::main ? result_.main : result_.post;
        for (size_t i = 0; i < s->up.size(); ++i) {
            std::string sql = s->up[i];
            if (i == 0 && s->destructive && !s->allow_rule.empty())
                sql = S("-- pgmig diff: ") + comment_text(s->reason) + "\n-- pgmig:allow " + s->allow_rule + "\n" + sql;
            if (s->phase == Phase::main && sql.find("CREATE OR REPLACE FUNCTION") != std::string::npos)
                functions = true;
            if (s->phase == Phase::main && sql.find("CREATE OR REPLACE PROCEDURE") != std::string::npos)
                functions = true;
            m.up.push_back({sql, s->subject, s->phase, s->destructive});
        }
    }
    for (auto it = emitted.rbegin(); it != emitted.rend(); ++it) {
        const Step* s = *it;
        Migration& m = s->phase == Phase::main ? result_.main : result_.post;
        for (const auto& d : s->down) {
            if (s->phase == Phase::main && d.find("CREATE OR REPLACE FUNCTION") != std::string::npos) functions = true;
            if (s->phase == Phase::main && d.find("CREATE OR REPLACE PROCEDURE") != std::string::npos) functions = true;
            m.down.push_back({d, s->subject, s->phase, false});
        }
    }
    if (functions) {
        // like pg_dump: function bodies are checked when they run, so their order against tables is free
        Statement guc{"SET LOCAL check_function_bodies = off;", "setting check_function_bodies", Phase::main, false};
        if (!result_.main.up.empty()) result_.main.up.insert(result_.main.up.begin(), guc);
        if (!result_.main.down.empty()) result_.main.down.insert(result_.main.down.begin(), guc);
    }
}

Result Engine::run() {
    apply_renames();
    diff_schemas_extensions();
    diff_types();
    diff_tables();
    diff_functions();
    diff_sequences();
    diff_views();
    diff_indexes();
    diff_constraints();
    diff_triggers_policies();
    report_unsupported();
    finish();
    return std::move(result_);
}

// Replace the identifier `from` by `to` where it stands as a whole word (not inside another name).
std::string replace_word(const std::string& text, const std::string& from, const std::string& to) {
    if (from.empty()) return text;
    auto ident_char = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '$'; };
    std::string out;
    size_t i = 0;
    while (i < text.size()) {
        auto p = text.find(from, i);
        if (p == std::string::npos) break;
        bool left = p == 0 || !ident_char(text[p - 1]);
        bool right = p + from.size() >= text.size() || !ident_char(text[p + from.size()]);
        out += text.substr(i, p - i);
        out += (left && right) ? to : from;
        i = p + from.size();
    }
    return out + text.substr(i);
}

std::string last_part(const std::string& identity) {
    auto d = identity.rfind('.');
    return d == std::string::npos ? identity : identity.substr(d + 1);
}

std::string schema_part(const std::string& identity) {
    auto d = identity.rfind('.');
    return d == std::string::npos ? std::string() : identity.substr(0, d);
}

void Engine::apply_renames() {
    auto qualify = [](const std::string& n) { return n.find('.') == std::string::npos ? "public." + n : n; };
    std::vector<std::pair<std::string, std::string>> tables;
    for (const auto& r : options_.renames) {
        if (r.kind != "table") continue;
        std::string f = qualify(r.from);
        std::string t = qualify(r.to);
        if (from_.get("table " + f) != nullptr && to_.get("table " + t) != nullptr &&
            to_.get("table " + f) == nullptr && from_.get("table " + t) == nullptr)
            tables.emplace_back(f, t);
    }
    struct ColumnRename {
        std::string table;  // as named in `to`
        std::string from;
        std::string to;
    };
    std::vector<ColumnRename> columns;
    for (const auto& r : options_.renames) {
        if (r.kind != "column") continue;
        auto d = r.from.rfind('.');
        if (d == std::string::npos) continue;
        std::string rel = qualify(r.from.substr(0, d));
        for (const auto& [f, t] : tables)
            if (f == rel) rel = t;
        columns.push_back({rel, r.from.substr(d + 1), last_part(r.to)});
    }
    if (tables.empty() && columns.empty()) return;
    from_doc_ = *from_src_;
    int order = 0;
    auto step = [&](const std::string& subject, const std::string& up, const std::string& down) {
        Step s;
        s.bucket = b_rename;
        s.sub = order++;
        s.subject = subject;
        s.up.push_back(up);
        s.down.push_back(down);
        add(std::move(s));
    };
    auto rename_key = [&](const std::string& a, const std::string& b) {
        if (!from_doc_.contains(a) || a == b) return;
        from_doc_[b] = from_doc_[a];
        from_doc_.erase(a);
    };
    for (const auto& [f, t] : tables) {
        std::string fbase = last_part(f);
        std::string tbase = last_part(t);
        std::string fschema = schema_part(f);
        std::string tschema = schema_part(t);
        std::string up = S("ALTER TABLE ") + f + " RENAME TO " + tbase + ";";
        std::string down = S("ALTER TABLE ") + fschema + "." + tbase + " RENAME TO " + fbase + ";";
        if (fschema != tschema) {
            up += S("\nALTER TABLE ") + fschema + "." + tbase + " SET SCHEMA " + tschema + ";";
            down = S("ALTER TABLE ") + t + " SET SCHEMA " + fschema + ";\n" + down;
        }
        step("table " + t, up, down);
        rename_key("table " + f, "table " + t);
        std::vector<std::string> keys;
        for (auto it = from_doc_.begin(); it != from_doc_.end(); ++it) keys.push_back(it.key());
        const std::string suffix = " on " + f;
        // names PostgreSQL derived from the table's name follow it when `to` has the derived new name
        auto derived = [&](const std::string& name) -> std::string {
            if (name.rfind(fbase + "_", 0) != 0) return {};
            return tbase + name.substr(fbase.size());
        };
        for (const auto& key : keys) {
            const auto key_parts = split_key(key);
            const std::string& type = key_parts.first;
            const std::string& ident = key_parts.second;
            if ((type == "trigger" || type == "policy") && ident.size() > suffix.size() &&
                ident.compare(ident.size() - suffix.size(), suffix.size(), suffix) == 0) {
                json& d = from_doc_[key];
                if (d.contains("definition")) d["definition"] = replace_word(str(d, "definition"), f, t);
                rename_key(key, S(type) + " " + ident.substr(0, ident.size() - suffix.size()) + " on " + t);
                continue;
            }
            json& d = from_doc_[key];
            if (type == "index" && index_table(str(d, "definition")) == f) {
                std::string def = str(d, "definition");
                def = replace_word(def, f, t);
                std::string iname = last_part(ident);
                std::string nname = derived(iname);
                std::string nkey = S("index ") + tschema + "." + nname;
                if (!nname.empty() && to_.get(nkey) != nullptr && !from_doc_.contains(nkey)) {
                    step(nkey, S("ALTER INDEX ") + tschema + "." + iname + " RENAME TO " + nname + ";",
                         S("ALTER INDEX ") + tschema + "." + nname + " RENAME TO " + iname + ";");
                    def = replace_word(def, iname, nname);
                    if (!str(d, "constraint").empty()) {
                        json& tc = from_doc_["table " + t]["constraints"];
                        if (tc.contains(iname)) {
                            tc[nname] = tc[iname];
                            tc.erase(iname);
                        }
                        d["constraint"] = nname;
                    }
                    d["definition"] = def;
                    rename_key(key, nkey);
                } else {
                    d["definition"] = def;
                }
                continue;
            }
            if (type == "sequence") {
                json& q = d["sequence"];
                std::string owned = str(q, "owned_by");
                if (owned.rfind(f + ".", 0) != 0) continue;
                q["owned_by"] = t + owned.substr(f.size());
                std::string sname = last_part(ident);
                std::string nname = derived(sname);
                std::string nkey = S("sequence ") + tschema + "." + nname;
                if (!nname.empty() && to_.get(nkey) != nullptr && !from_doc_.contains(nkey)) {
                    step(nkey, S("ALTER SEQUENCE ") + ident + " RENAME TO " + nname + ";",
                         S("ALTER SEQUENCE ") + tschema + "." + nname + " RENAME TO " + sname + ";");
                    json& cols = from_doc_["table " + t]["columns"];
                    for (auto& c : cols)
                        if (c.contains("default"))
                            c["default"] =
                                replace_word(c["default"].get<std::string>(), ident, S(tschema) + "." + nname);
                    rename_key(key, nkey);
                }
                continue;
            }
            if (type == "table" && d.contains("constraints") && d["constraints"].is_object())
                for (auto& [cn, cdef] : d["constraints"].items())
                    if (cdef.get<std::string>().find("REFERENCES " + f + "(") != std::string::npos)
                        cdef = replace_word(cdef.get<std::string>(), f, t);
            if ((type == "view" || type == "materialized view") && d.contains("depends_on"))
                for (auto& dep : d["depends_on"])
                    if (dep.get<std::string>() == "table " + f) dep = "table " + t;
        }
        // other constraints named after the table (CHECK, FOREIGN KEY)
        json& tbl = from_doc_["table " + t];
        const json* to_tbl = to_.get("table " + t);
        if (tbl.contains("constraints") && to_tbl != nullptr) {
            std::vector<std::string> names;
            for (auto it = tbl["constraints"].begin(); it != tbl["constraints"].end(); ++it) names.push_back(it.key());
            for (const auto& cn : names) {
                std::string nn = derived(cn);
                const json& tcons = field(*to_tbl, "constraints");
                if (nn.empty() || !tcons.is_object() || !tcons.contains(nn) || tbl["constraints"].contains(nn))
                    continue;
                if (to_.get(S("index ") + tschema + "." + nn) != nullptr) continue;  // index-backed: renamed above
                step(S("constraint ") + nn + " on " + t,
                     "ALTER TABLE " + t + " RENAME CONSTRAINT " + qi(cn) + " TO " + qi(nn) + ";",
                     "ALTER TABLE " + t + " RENAME CONSTRAINT " + qi(nn) + " TO " + qi(cn) + ";");
                tbl["constraints"][nn] = tbl["constraints"][cn];
                tbl["constraints"].erase(cn);
            }
        }
    }
    for (const auto& c : columns) {
        if (!from_doc_.contains("table " + c.table)) continue;
        json& tbl = from_doc_["table " + c.table];
        const json* to_tbl = to_.get("table " + c.table);
        if (to_tbl == nullptr) continue;
        bool has_from = false;
        bool clash = false;
        for (const auto& col : tbl["columns"]) {
            if (str(col, "name") == c.from) has_from = true;
            if (str(col, "name") == c.to) clash = true;
        }
        bool in_to = false;
        for (const auto& col : field(*to_tbl, "columns"))
            if (str(col, "name") == c.to) in_to = true;
        if (!has_from || clash || !in_to) continue;
        step("column " + c.table + "." + c.to,
             "ALTER TABLE " + c.table + " RENAME COLUMN " + qi(c.from) + " TO " + qi(c.to) + ";",
             "ALTER TABLE " + c.table + " RENAME COLUMN " + qi(c.to) + " TO " + qi(c.from) + ";");
        for (auto& col : tbl["columns"])
            if (str(col, "name") == c.from) col["name"] = c.to;
        if (tbl.contains("constraints") && tbl["constraints"].is_object())
            for (auto& [cn, cdef] : tbl["constraints"].items())
                cdef = replace_word(cdef.get<std::string>(), qi(c.from), qi(c.to));
        for (auto& [key, d] : from_doc_.items()) {
            if (key.rfind("index ", 0) == 0 && index_table(str(d, "definition")) == c.table) {
                std::string def = str(d, "definition");
                auto using_pos = def.find(" USING ");
                if (using_pos != std::string::npos)
                    d["definition"] =
                        def.substr(0, using_pos) + replace_word(def.substr(using_pos), qi(c.from), qi(c.to));
            }
            if (key.rfind("sequence ", 0) == 0 && str(field(d, "sequence"), "owned_by") == c.table + "." + c.from)
                d["sequence"]["owned_by"] = c.table + "." + c.to;
            // triggers (UPDATE OF col, WHEN) and policies of the table name the column too
            const std::string on_table = " on " + c.table;
            if ((key.rfind("trigger ", 0) == 0 || key.rfind("policy ", 0) == 0) && key.size() > on_table.size() &&
                key.compare(key.size() - on_table.size(), on_table.size(), on_table) == 0) {
                if (d.contains("definition")) {
                    std::string def = str(d, "definition");
                    auto on = def.find(" ON ");
                    if (on != std::string::npos)
                        d["definition"] = replace_word(def.substr(0, on), qi(c.from), qi(c.to)) + def.substr(on);
                }
                for (const char* k : {"using", "check"})
                    if (d.contains(k)) d[k] = replace_word(str(d, k), qi(c.from), qi(c.to));
            }
        }
        changed_tables_.insert(c.table);
    }
    from_ = index_snapshot(from_doc_);
}

}  // namespace

Result diff(const nlohmann::json& from, const nlohmann::json& to, const Options& options) {
    Engine engine(from, to, options);
    return engine.run();
}

std::string comment_text(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (const char c : text) {
        const auto u = static_cast<unsigned char>(c);
        if (c == '\n') {
            out += "\\n";
        } else if (c == '\r') {
            out += "\\r";
        } else if ((u < 0x20 && c != '\t') || u == 0x7f) {
            out += fmt::format("\\x{:02x}", u);
        } else {
            out += c;
        }
    }
    return out;
}

namespace {

bool ident_char(unsigned char c) { return std::isalnum(c) != 0 || c == '_' || c == '$' || c >= 0x80; }

// A line that pgmig (or an older pgmig, or a grep) could take for "-- pgmig:..." once it stands alone
// (after a LF or a CR).
bool has_pgmig_line(std::string_view text) {
    const auto blank = [&](std::size_t k) {
        return k < text.size() && (text[k] == ' ' || text[k] == '\t' || text[k] == '\r' || text[k] == '\f' ||
                                   text[k] == '\v' || text[k] == '\n');
    };
    for (std::size_t pos = text.find_first_of("\n\r"); pos != std::string_view::npos;
         pos = text.find_first_of("\n\r", pos + 1)) {
        std::size_t i = pos + 1;
        while (blank(i)) ++i;
        if (text.compare(i, 2, "--") != 0) continue;
        i += 2;
        while (blank(i)) ++i;
        if (text.compare(i, 6, "pgmig:") == 0) return true;
    }
    return false;
}

// The body of a string as E'...': quotes doubled, backslashes and control characters escaped.
std::string e_literal(std::string_view body) {
    std::string out = "E'";
    for (const char c : body) {
        const auto u = static_cast<unsigned char>(c);
        if (c == '\'') {
            out += "''";
        } else if (c == '\\') {
            out += "\\\\";
        } else if (c == '\n') {
            out += "\\n";
        } else if (c == '\r') {
            out += "\\r";
        } else if ((u < 0x20 && c != '\t') || u == 0x7f) {
            out += fmt::format("\\x{:02x}", u);
        } else {
            out += c;
        }
    }
    return out + "'";
}

// A quoted identifier's name as U&"...": control characters as \XXXX, backslashes doubled.
std::string u_identifier(std::string_view name) {
    std::string out = "U&\"";
    for (const char c : name) {
        const auto u = static_cast<unsigned char>(c);
        if (c == '"') {
            out += "\"\"";
        } else if (c == '\\') {
            out += "\\\\";
        } else if (u < 0x20 || u == 0x7f) {
            out += fmt::format("\\{:04X}", u);
        } else {
            out += c;
        }
    }
    return out + "\"";
}

}  // namespace

std::string file_safe_sql(std::string_view sql) {
    std::string out;
    out.reserve(sql.size());
    const std::size_t n = sql.size();
    std::size_t i = 0;
    bool in_word = false;  // inside an identifier or keyword (a quote or $ there belongs to it)
    while (i < n) {
        const char c = sql[i];
        if (c == '-' && i + 1 < n && sql[i + 1] == '-') {  // a comment to the end of the line, as it is
            const std::size_t end = std::min(sql.find('\n', i), n);
            out.append(sql, i, end - i);
            i = end;
            in_word = false;
        } else if (c == '/' && i + 1 < n && sql[i + 1] == '*') {
            int depth = 0;
            std::size_t j = i;
            do {
                if (sql.compare(j, 2, "/*") == 0) {
                    ++depth;
                    j += 2;
                } else if (sql.compare(j, 2, "*/") == 0) {
                    --depth;
                    j += 2;
                } else {
                    ++j;
                }
            } while (j < n && depth > 0);
            out.append(sql, i, std::min(j, n) - i);
            i = std::min(j, n);
            in_word = false;
        } else if (c == '"') {
            std::string name;
            std::size_t j = i + 1;
            bool control = false;
            for (; j < n; ++j) {
                if (sql[j] == '"') {
                    if (j + 1 < n && sql[j + 1] == '"') {
                        name += '"';
                        ++j;
                        continue;
                    }
                    break;
                }
                const auto u = static_cast<unsigned char>(sql[j]);
                control = control || u < 0x20 || u == 0x7f;
                name += sql[j];
            }
            const std::size_t end = std::min(j + 1, n);
            if (control && j < n && !(i > 0 && sql[i - 1] == '&')) {
                out += u_identifier(name);
            } else {
                out.append(sql, i, end - i);
            }
            i = end;
            in_word = false;
        } else if (c == '\'') {
            // E'...' when the E stands alone; any other prefix (B, X, N, U&) is left as it is.
            const bool e_string = in_word && i > 0 && (sql[i - 1] == 'E' || sql[i - 1] == 'e') &&
                                  (i < 2 || !ident_char(static_cast<unsigned char>(sql[i - 2])));
            const bool plain = !in_word && !(i > 0 && sql[i - 1] == '&');
            std::string body;  // the string's value (standard strings) or its escaped text (E strings)
            std::size_t j = i + 1;
            for (; j < n; ++j) {
                if (e_string && sql[j] == '\\' && j + 1 < n) {
                    body += sql[j];
                    body += sql[++j];
                    continue;
                }
                if (sql[j] == '\'') {
                    if (j + 1 < n && sql[j + 1] == '\'') {
                        body += e_string ? "''" : "'";
                        ++j;
                        continue;
                    }
                    break;
                }
                body += sql[j];
            }
            const std::size_t end = std::min(j + 1, n);
            if (j < n && has_pgmig_line(body) && plain) {
                out += e_literal(body);
            } else if (j < n && has_pgmig_line(body) && e_string) {
                std::string text;  // raw line breaks in an E string are its own escapes' equals
                for (const char b : body) text += b == '\n' ? "\\n" : b == '\r' ? "\\r" : std::string(1, b);
                out.pop_back();  // the E, written again below
                out += "E'" + text + "'";
            } else {
                out.append(sql, i, end - i);
            }
            i = end;
            in_word = false;
        } else if (c == '$' && !in_word) {
            // $tag$ ... $tag$ (a function body): only rewritten when a line of it could pass for a directive.
            std::size_t k = i + 1;
            if (k < n && (std::isalpha(static_cast<unsigned char>(sql[k])) != 0 || sql[k] == '_' ||
                          static_cast<unsigned char>(sql[k]) >= 0x80)) {
                while (k < n && sql[k] != '$' && ident_char(static_cast<unsigned char>(sql[k]))) ++k;
            }
            if (k < n && sql[k] == '$') {
                const std::string_view tag = sql.substr(i, k + 1 - i);
                const std::size_t close = sql.find(tag, k + 1);
                if (close != std::string_view::npos) {
                    const std::string_view body = sql.substr(k + 1, close - k - 1);
                    if (has_pgmig_line(body)) {
                        out += e_literal(body);
                    } else {
                        out.append(sql, i, close + tag.size() - i);
                    }
                    i = close + tag.size();
                    in_word = false;
                    continue;
                }
            }
            out += c;  // $1, or an unterminated quote: as it is
            ++i;
        } else {
            in_word = in_word ? ident_char(static_cast<unsigned char>(c))
                              : (std::isalpha(static_cast<unsigned char>(c)) != 0 || c == '_' ||
                                 static_cast<unsigned char>(c) >= 0x80);
            out += c;
            ++i;
        }
    }
    return out;
}

std::string render(const std::vector<Statement>& statements) {
    std::string out;
    for (const auto& s : statements) {
        if (!out.empty()) out += "\n\n";
        out += file_safe_sql(s.sql);
    }
    if (!out.empty()) out += "\n";
    return out;
}

}  // namespace pgmig::schema_diff
