// Reading migrate_snapshot() documents: typed field access, the key -> object index, key helpers.
#pragma once

#include <nlohmann/json.hpp>

#include <initializer_list>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>

namespace pgmig::schema_diff::detail {

using json = nlohmann::json;

std::string str(const json& d, const char* key);
bool flag(const json& d, const char* key);
const json& field(const json& d, const char* key);
// "table public.t" -> ("table", "public.t"); type names may have spaces ("materialized view").
std::pair<std::string, std::string> split_key(std::string_view key);
// "trigger trg on public.t" identity "trg on public.t" -> ("trg", "public.t")
std::pair<std::string, std::string> split_on(const std::string& identity);
// The table an index definition is on: "CREATE [UNIQUE] INDEX name ON [ONLY] rel USING ..."
std::string index_table(const std::string& def);
std::string relation_of_identity_qualifier(const std::string& column_identity);
// "schema.name" -> "schema" and "name", as written (quoted where needed); a dot inside quotes is the name's.
std::string schema_of(std::string_view identity);
std::string name_of(std::string_view identity);
std::set<std::string> acl_set(const json& d);
// The ACL PostgreSQL (server_version_num, 0 = 15) gives an object of this kind when nobody granted anything
// (acl_entries says null).
std::set<std::string> default_acl(const std::string& what, int server_version_num);

struct Snapshot {
    // key -> description. The keys are views of the parsed document's own keys (its object is a std::map,
    // whose nodes never move), so indexing a snapshot copies no key: the document must outlive the index.
    std::map<std::string_view, const json*, std::less<>> objects;
    const json* get(std::string_view key) const {
        auto it = objects.find(key);
        return it == objects.end() ? nullptr : it->second;
    }
};

Snapshot index_snapshot(const json& doc);
// The keys of both snapshots that start with one of `prefixes` ("index ", ...), sorted: a range of each map.
std::set<std::string> keys_of_kinds(const Snapshot& a, const Snapshot& b,
                                    std::initializer_list<std::string_view> prefixes);
std::string relation_key(const Snapshot& s, const std::string& identity);

}  // namespace pgmig::schema_diff::detail
