// Reading migrate_snapshot() documents (see snapshot.hpp).
#include "client/diff/snapshot.hpp"

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

// "table public.t" -> ("table", "public.t"); type names may have spaces ("materialized view").
std::pair<std::string, std::string> split_key(std::string_view key) {
    static const char* const multi[] = {"materialized view ", "foreign table ", "composite type ", "table constraint ",
                                        "domain constraint ",
                                        // the catalog kinds (catalog_kinds.hpp)
                                        "statistics object ", "event trigger ", "foreign-data wrapper ",
                                        "user mapping ", "operator class ", "operator family ", "default acl "};
    for (const char* m : multi) {
        std::string_view p(m);
        if (key.substr(0, p.size()) == p) return {std::string(p.substr(0, p.size() - 1)), std::string(key.substr(p.size()))};
    }
    auto sp = key.find(' ');
    if (sp == std::string_view::npos) return {std::string(key), {}};
    return {std::string(key.substr(0, sp)), std::string(key.substr(sp + 1))};
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

std::set<std::string> acl_set(const json& d) {
    std::set<std::string> out;
    const json& a = field(d, "acl");
    if (a.is_array())
        for (const auto& e : a) out.insert(e.get<std::string>());
    return out;
}

// The ACL PostgreSQL gives an object of this kind when nobody granted anything (acl_entries says null).
std::set<std::string> default_acl(const std::string& what, int server_version_num) {
    if (what == "TABLE") {
        std::set<std::string> table{"OWNER:DELETE",  "OWNER:INSERT",   "OWNER:REFERENCES", "OWNER:SELECT",
                                    "OWNER:TRIGGER", "OWNER:TRUNCATE", "OWNER:UPDATE"};
        if (server_version_num >= 170000) table.insert("OWNER:MAINTAIN");  // the MAINTAIN privilege, new in 17
        return table;
    }
    if (what == "SEQUENCE") return {"OWNER:SELECT", "OWNER:UPDATE", "OWNER:USAGE"};
    if (what == "FUNCTION" || what == "PROCEDURE") return {"OWNER:EXECUTE", "PUBLIC:EXECUTE"};
    if (what == "SCHEMA") return {"OWNER:CREATE", "OWNER:USAGE"};
    if (what == "TYPE" || what == "DOMAIN") return {"OWNER:USAGE", "PUBLIC:USAGE"};
    return {};
}

namespace {

// Where the schema part of "schema.name" ends (names are written as identifiers: a dot inside double quotes
// is part of the name); npos for a name without a schema.
size_t schema_dot(std::string_view identity) {
    bool quoted = false;
    for (size_t i = 0; i < identity.size(); ++i) {
        if (identity[i] == '"') quoted = !quoted;
        if (identity[i] == '.' && !quoted) return i;
    }
    return std::string_view::npos;
}

}  // namespace

std::string schema_of(std::string_view identity) {
    const size_t dot = schema_dot(identity);
    return dot == std::string_view::npos ? std::string() : std::string(identity.substr(0, dot));
}

std::string name_of(std::string_view identity) {
    const size_t dot = schema_dot(identity);
    return std::string(dot == std::string_view::npos ? identity : identity.substr(dot + 1));
}

Snapshot index_snapshot(const json& doc) {
    Snapshot s;
    if (doc.is_object())
        for (auto it = doc.begin(); it != doc.end(); ++it) s.objects.emplace(it.key(), &it.value());
    return s;
}

// The keys of both snapshots that start with one of `prefixes` ("index ", ...), sorted: a range of each map.
std::set<std::string> keys_of_kinds(const Snapshot& a, const Snapshot& b,
                                    std::initializer_list<std::string_view> prefixes) {
    std::set<std::string> keys;
    for (const Snapshot* s : {&a, &b}) {
        for (const std::string_view prefix : prefixes) {
            for (auto it = s->objects.lower_bound(prefix);
                 it != s->objects.end() && it->first.substr(0, prefix.size()) == prefix; ++it) {
                keys.insert(std::string(it->first));
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

}  // namespace pgmig::schema_diff::detail
