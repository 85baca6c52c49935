// Types: enums (values added, or the type recreated), domains, ranges, composites.
#include "client/diff/engine.hpp"

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

namespace pgmig::schema_diff::detail {

namespace {

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

// CREATE TYPE (enum, range, composite) or CREATE DOMAIN for a type of `kind` ("e", "r", "c", "d") described by d.
std::vector<std::string> create_type_sql(const std::string& kind, const std::string& ident, const json& d) {
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
}

}  // namespace

// Indexes and CHECK constraints of `tables` whose text names the enum `type` (a partial index WHERE
// status = 'X'::type, an expression index, a CHECK): ALTER COLUMN ... TYPE rebuilds them from their text,
// whose literals still have the renamed old type, and fails (operator does not exist: type = type__pgmig_old).
// They are dropped before the columns are converted and created again after. Those standing at that
// moment: in `snap` (the side whose columns are converted) and unchanged on the other side, or on a table
// the other side lacks (created or restored with its inline constraints before the recreation runs).
std::pair<std::vector<std::string>, std::vector<std::string>> Engine::enum_literal_rebuilds(
    const Snapshot& snap, const std::string& type, const std::set<std::string>& tables) {
    const Snapshot& other = &snap == &from_ ? to_ : from_;
    std::vector<std::string> before;
    std::vector<std::string> after;
    auto names_type = [&](const std::string& text) { return replace_word(text, type, "\x01") != text; };
    for (auto it = snap.objects.lower_bound("index "); it != snap.objects.end() && it->first.rfind("index ", 0) == 0;
         ++it) {
        const json& d = *it->second;
        std::string def = str(d, "definition");
        const json* o = other.get(it->first);
        if (!str(d, "constraint").empty() || field(d, "partition_of").is_array() || o == nullptr ||
            str(*o, "definition") != def || tables.count(index_table(def)) == 0 || !names_type(def))
            continue;
        std::string ident = split_key(it->first).second;
        before.push_back("DROP INDEX " + ident + ";");
        auto only = def.find(" ON ONLY ");
        if (only != std::string::npos) def.erase(only + 4, 5);
        after.push_back("-- pgmig diff: the enum is recreated\n-- pgmig:allow create-index-not-concurrently\n" + def +
                        ";");
    }
    for (const auto& table : tables) {
        const json* t = snap.get("table " + table);
        const json* ot = other.get("table " + table);
        if (t == nullptr) continue;
        const json& cons = field(*t, "constraints");
        if (!cons.is_object()) continue;
        std::set<std::string> inh = inherited_constraints(*t);
        for (auto c = cons.begin(); c != cons.end(); ++c) {
            std::string def = c->get<std::string>();
            if (inh.count(c.key()) != 0 || is_fk(def) || !names_type(def)) continue;
            const json* od = ot == nullptr ? nullptr : &field(field(*ot, "constraints"), c.key().c_str());
            // a table only `to` has gets its NOT VALID constraints after the recreation; one only `from` has
            // gets them back (in down) before it
            bool standing = ot == nullptr ? &snap == &from_ || def.find("NOT VALID") == std::string::npos
                                          : od->is_string() && od->get<std::string>() == def;
            if (!standing) continue;
            before.push_back("ALTER TABLE " + table + " DROP CONSTRAINT " + qi(c.key()) + ";");
            after.push_back(
                "-- pgmig diff: the enum is recreated\n-- pgmig:allow add-constraint-not-valid-missing\n"
                "ALTER TABLE " +
                table + " ADD CONSTRAINT " + qi(c.key()) + " " + def + ";");
        }
    }
    return {before, after};
}

void Engine::diff_types() {
    const std::set<std::string> keys = keys_of_kinds(from_, to_, {"type ", "composite type "});
    // the columns of each side's tables by type, for recreating an enum: only the columns of these types
    // (every column of every table would be megabytes on a large schema)
    std::set<std::string> type_idents;
    for (const auto& k : keys) type_idents.insert(split_key(k).second);
    TypeUsers from_users = type_users(from_, type_idents);
    TypeUsers to_users = type_users(to_, type_idents);
    for (const auto& key : keys) diff_type(key, from_users, to_users);
}

Engine::TypeUsers Engine::type_users(const Snapshot& snap, const std::set<std::string>& type_idents) {
    TypeUsers users;
    for (auto it = snap.objects.lower_bound("table "); it != snap.objects.end() && it->first.rfind("table ", 0) == 0;
         ++it) {
        for (const auto& c : field(*it->second, "columns"))
            if (!flag(c, "inherited")) {
                std::string t = str(c, "type");
                if (t.size() > 2 && t.compare(t.size() - 2, 2, "[]") == 0) t.resize(t.size() - 2);
                if (type_idents.count(t) != 0) users[t].emplace_back(split_key(it->first).second, &c);
            }
    }
    return users;
}

void Engine::diff_type(const std::string& key, TypeUsers& from_users, TypeUsers& to_users) {
    const json* a = from_.get(key);
    const json* b = to_.get(key);
    if (a != nullptr && b != nullptr && *a == *b) return;
    const auto key_parts = split_key(key);
    const std::string& type = key_parts.first;
    const std::string& ident = key_parts.second;
    bool composite = type == "composite type";
    std::string kind = composite ? "c" : str(b != nullptr ? *b : *a, "kind");
    std::string what = kind == "d" ? "DOMAIN" : "TYPE";
    if (kind != "e" && kind != "r" && kind != "c" && kind != "d") {
        result_.unsupported.push_back(S(key) + ": pgmig diff does not write types of kind " + kind);
        return;
    }
    if (a == nullptr || b == nullptr) {
        type_created_or_dropped(key, kind, what, a, b);
        return;
    }
    std::string ka = composite ? "c" : str(*a, "kind");
    if (ka != kind) {
        result_.unsupported.push_back(key + ": its kind changes; pgmig diff cannot write that");
        return;
    }
    if (kind == "e") {
        enum_change_steps(key, *a, *b, from_users, to_users);
    } else if (kind == "d") {
        if (str(*a, "base") != str(*b, "base")) {
            result_.unsupported.push_back(key + ": the domain's base type changes; pgmig diff cannot write that");
            return;
        }
        domain_change_step(key, *a, *b);
    } else if (kind == "c") {
        composite_change_step(key, *a, *b);
    } else if (str(*a, "subtype") != str(*b, "subtype")) {
        result_.unsupported.push_back(key + ": the range's subtype changes; pgmig diff cannot write that");
        return;
    }
    comment_steps(what, ident, a, b, key);
    acl_steps(what, ident, a, b, key);
}

void Engine::type_created_or_dropped(const std::string& key, const std::string& kind, const std::string& what,
                                     const json* a, const json* b) {
    const std::string ident = split_key(key).second;
    int sub = kind == "e" ? 0 : kind == "r" ? 1 : kind == "d" ? 2 : 3;
    const json& d = a == nullptr ? *b : *a;
    Step s;
    s.bucket = b_type;
    s.sub = sub;
    s.subject = key;
    s.up = create_type_sql(kind, ident, d);
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
}

void Engine::enum_change_steps(const std::string& key, const json& a, const json& b, TypeUsers& from_users,
                               TypeUsers& to_users) {
    const std::string ident = split_key(key).second;
    auto la = labels_of(a);
    auto lb = labels_of(b);
    if (la == lb) return;
    // is la a subsequence of lb (values only added)?
    size_t i = 0;
    for (const auto& l : lb)
        if (i < la.size() && la[i] == l) ++i;
    bool only_added = i == la.size();
    recreated_types_.push_back(ident);
    // the type is recreated (now or in down): views over its columns must not stand in the way
    for (const auto& u : from_users[ident]) changed_tables_.insert(u.first);
    for (const auto& u : to_users[ident]) changed_tables_.insert(u.first);
    if (only_added)
        enum_values_added_step(key, la, lb, from_users);
    else
        enum_recreated_step(key, la, lb, to_users);
}

void Engine::enum_values_added_step(const std::string& key, const std::vector<std::string>& la,
                                    const std::vector<std::string>& lb, TypeUsers& from_users) {
    const std::string ident = split_key(key).second;
    Step s;
    s.bucket = b_type_alter;
    s.subject = key;
    std::set<std::string> old(la.begin(), la.end());
    for (size_t j = 0; j < lb.size(); ++j) {
        if (old.count(lb[j]) != 0) continue;
        new_enum_literals_.push_back(literal(lb[j]) + "::" + ident);
        if (j > 0)
            s.up.push_back("ALTER TYPE " + ident + " ADD VALUE " + literal(lb[j]) + " AFTER " + literal(lb[j - 1]) +
                           ";");
        else
            s.up.push_back("ALTER TYPE " + ident + " ADD VALUE " + literal(lb[j]) +
                           (lb.size() > 1 ? " BEFORE " + literal(lb[1]) : std::string()) + ";");
    }
    s.down = recreate_enum_sql(ident, la, lb, from_users, from_);
    add(std::move(s));
}

void Engine::enum_recreated_step(const std::string& key, const std::vector<std::string>& la,
                                 const std::vector<std::string>& lb, TypeUsers& to_users) {
    const std::string ident = split_key(key).second;
    Step s;
    // after the columns changed: it converts the columns as they are then (to's)
    s.bucket = b_column + 1;
    s.subject = key;
    s.up = recreate_enum_sql(ident, lb, la, to_users, to_);
    s.down = recreate_enum_sql(ident, la, lb, to_users, to_);
    s.destructive = true;
    s.allow_rule = "";
    std::string removed;
    std::set<std::string> nb(lb.begin(), lb.end());
    for (const auto& l : la)
        if (nb.count(l) == 0) removed += (removed.empty() ? "" : ", ") + l;
    s.reason = removed.empty()
                   ? "reorders the enum's values: the type is recreated"
                   : "removes enum value(s) " + removed + ": the type is recreated and rows holding them fail";
    add(std::move(s));
}

std::vector<std::string> Engine::recreate_enum_sql(const std::string& ident, const std::vector<std::string>& labels,
                                                   const std::vector<std::string>& old_labels, TypeUsers& users,
                                                   const Snapshot& snap) {
    std::vector<std::string> out;
    // domains over the enum: a domain's base type cannot change, so each is recreated over the new enum too
    std::vector<std::pair<std::string, const json*>> domains;  // identity, description in `snap`
    for (auto it = snap.objects.lower_bound("type "); it != snap.objects.end() && it->first.rfind("type ", 0) == 0;
         ++it)
        if (str(*it->second, "kind") == "d" && str(*it->second, "base") == ident)
            domains.emplace_back(split_key(it->first).second, it->second);
    std::set<std::string> tables;
    for (const auto& u : users[ident]) tables.insert(u.first);
    for (const auto& [domain, d] : domains)
        for (const auto& u : users[domain]) tables.insert(u.first);
    auto [rebuild_before, rebuild_after] = enum_literal_rebuilds(snap, ident, tables);
    out = std::move(rebuild_before);
    auto old_of = [](const std::string& name) {  // "schema.name" -> the name it is renamed to meanwhile
        std::string base = name_of(name);
        if (base.front() == '"') base = base.substr(1, base.size() - 2);
        return qi(base + "__pgmig_old");
    };
    const std::string tmp = old_of(ident);
    const std::string schema = schema_of(ident);
    out.push_back("ALTER TYPE " + ident + " RENAME TO " + tmp + ";");
    for (const auto& [domain, d] : domains) out.push_back("ALTER DOMAIN " + domain + " RENAME TO " + old_of(domain) + ";");
    out.push_back(enum_sql(ident, labels));
    for (const auto& [domain, d] : domains) {
        for (auto& q : create_type_sql("d", domain, *d)) out.push_back(std::move(q));
        if (!str(*d, "comment").empty())
            out.push_back("COMMENT ON DOMAIN " + domain + " IS " + literal(str(*d, "comment")) + ";");
        append_acl_restore(out, "DOMAIN", domain, *d);
    }
    // the columns of the domains: through text to the new enum, then to the new domain
    for (const auto& [domain, d] : domains)
        for (const auto& [table, c] : users[domain]) {
            const std::string col = "ALTER TABLE " + table + " ALTER COLUMN " + qi(str(*c, "name"));
            const bool array = str(*c, "type").back() == ']';
            const std::string def = str(*c, "default");
            if (!def.empty()) out.push_back(col + " DROP DEFAULT;");
            out.push_back(S("-- pgmig diff: the enum under the domain is recreated\n-- pgmig:allow alter-column-type\n") +
                          col + " TYPE " + domain + (array ? "[]" : "") + " USING " + qi(str(*c, "name")) +
                          (array ? "::text[]::" + domain + "[]" : "::text::" + ident + "::" + domain) + ";");
            if (!def.empty()) out.push_back(S(col) + " SET DEFAULT " + def + ";");
        }
    for (const auto& [table, c] : users[ident]) {
        std::string col = "ALTER TABLE " + table + " ALTER COLUMN " + qi(str(*c, "name"));
        bool array = str(*c, "type").back() == ']';
        if (!str(*c, "default").empty()) out.push_back(col + " DROP DEFAULT;");
        out.push_back(S("-- pgmig diff: the enum is recreated\n-- pgmig:allow alter-column-type\n") + col + " TYPE " +
                      ident + (array ? "[]" : "") + " USING " + qi(str(*c, "name")) +
                      (array ? "::text[]::" : "::text::") + ident + (array ? "[]" : "") + ";");
        // a default naming a value the type loses is not restored (the column's own diff sets the new one)
        std::string def = str(*c, "default");
        bool gone = std::any_of(old_labels.begin(), old_labels.end(), [&](const std::string& l) {
            return std::find(labels.begin(), labels.end(), l) == labels.end() &&
                   def.find(literal(l) + "::" + ident) != std::string::npos;
        });
        if (!def.empty() && !gone) out.push_back(S(col) + " SET DEFAULT " + def + ";");
    }
    out.insert(out.end(), rebuild_after.begin(), rebuild_after.end());
    for (const auto& [domain, d] : domains) out.push_back("DROP DOMAIN " + schema_of(domain) + "." + old_of(domain) + ";");
    out.push_back("DROP TYPE " + schema + "." + tmp + ";");
    return out;
}

void Engine::domain_change_step(const std::string& key, const json& a, const json& b) {
    const std::string ident = split_key(key).second;
    Step s;
    s.bucket = b_type_alter;
    s.subject = key;
    std::string dn = "ALTER DOMAIN " + ident;
    if (str(a, "default") != str(b, "default")) {
        s.up.push_back(dn + (str(b, "default").empty() ? " DROP DEFAULT;" : " SET DEFAULT " + str(b, "default") + ";"));
        s.down.push_back(dn +
                         (str(a, "default").empty() ? " DROP DEFAULT;" : " SET DEFAULT " + str(a, "default") + ";"));
    }
    if (flag(a, "not_null") != flag(b, "not_null")) {
        s.up.push_back(dn + (flag(b, "not_null") ? " SET NOT NULL;" : " DROP NOT NULL;"));
        s.down.push_back(dn + (flag(a, "not_null") ? " SET NOT NULL;" : " DROP NOT NULL;"));
    }
    std::map<std::string, std::string> ca;
    std::map<std::string, std::string> cb;
    if (field(a, "constraints").is_object())
        for (auto it = field(a, "constraints").begin(); it != field(a, "constraints").end(); ++it)
            ca[it.key()] = it->get<std::string>();
    if (field(b, "constraints").is_object())
        for (auto it = field(b, "constraints").begin(); it != field(b, "constraints").end(); ++it)
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
}

void Engine::composite_change_step(const std::string& key, const json& a, const json& b) {
    const std::string ident = split_key(key).second;
    std::map<std::string, std::string> ca;
    std::map<std::string, std::string> cb;
    for (const auto& c : field(a, "columns")) ca[str(c, "name")] = str(c, "type");
    for (const auto& c : field(b, "columns")) cb[str(c, "name")] = str(c, "type");
    Step s;
    s.bucket = b_type_alter;
    s.subject = key;
    for (const auto& c : field(a, "columns")) {
        std::string n = str(c, "name");
        if (cb.count(n) == 0) {
            s.up.push_back("ALTER TYPE " + ident + " DROP ATTRIBUTE " + qi(n) + ";");
            s.down.insert(s.down.begin(), "ALTER TYPE " + ident + " ADD ATTRIBUTE " + qi(n) + " " + ca[n] + ";");
        } else if (cb[n] != ca[n]) {
            s.up.push_back("ALTER TYPE " + ident + " ALTER ATTRIBUTE " + qi(n) + " TYPE " + cb[n] + ";");
            s.down.insert(s.down.begin(), "ALTER TYPE " + ident + " ALTER ATTRIBUTE " + qi(n) + " TYPE " + ca[n] + ";");
        }
    }
    for (const auto& c : field(b, "columns")) {
        std::string n = str(c, "name");
        if (ca.count(n) == 0) {
            s.up.push_back("ALTER TYPE " + ident + " ADD ATTRIBUTE " + qi(n) + " " + cb[n] + ";");
            s.down.insert(s.down.begin(), "ALTER TYPE " + ident + " DROP ATTRIBUTE " + qi(n) + ";");
        }
    }
    if (!s.up.empty()) add(std::move(s));
}

}  // namespace pgmig::schema_diff::detail
