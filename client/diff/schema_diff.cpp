// The desired-state diff engine: two migrate_snapshot() documents in, ordered up/down DDL out.
// How it works (buckets, safe forms, what is destructive) is described in docs/diff.md; the files of
// this folder are listed in README.md. Here: the entry point and the order of the passes.
#include "client/diff/engine.hpp"
#include "client/diff/catalog_kinds.hpp"

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

Result Engine::run() {
    for (const auto& [key, a] : from_.objects) {
        if (key.rfind("extension ", 0) != 0) continue;
        const json* b = to_.get(key);
        if (b != nullptr && !str(*a, "schema").empty() && !str(*b, "schema").empty() &&
            str(*a, "schema") != str(*b, "schema"))
            moved_extension_schemas_.emplace_back(qi(str(*a, "schema")) + ".", qi(str(*b, "schema")) + ".");
    }
    apply_renames();
    rename_owned_sequences();
    diff_schemas_extensions();
    diff_types();
    diff_tables();
    diff_functions();
    diff_sequences();
    diff_views();
    diff_indexes();
    diff_constraints();
    diff_policies();
    diff_triggers();
    diff_catalog_kinds();
    diff_default_acls();  // security.cpp
    report_unsupported();
    finish();
    return std::move(result_);
}

// The kinds of catalog_kinds.hpp (collations, statistics, operators, event triggers, publications, foreign
// data, aggregates, extension schemas, constraint comments), ordered with the engine's steps.
void Engine::diff_catalog_kinds() {
    kinds::KindsOutput out;
    kinds::diff_all(from_.objects, to_.objects, out);
    std::set<std::string> created;  // keys of owned kinds a step creates (their owner is set there)
    for (auto& k : out.steps) {
        Step s;
        s.bucket = k.bucket;
        s.sub = k.sub;
        s.up = std::move(k.up);
        s.down = std::move(k.down);
        s.subject = std::move(k.subject);
        s.phase = k.post ? Phase::post : Phase::main;
        s.destructive = k.destructive;
        s.allow_rule = std::move(k.allow_rule);
        s.reason = std::move(k.reason);
        catalog_kind_created_owners(s, created);  // security.cpp
        add(std::move(s));
    }
    for (auto& u : out.unsupported) result_.unsupported.push_back(std::move(u));
    catalog_kind_owner_changes(created);
}

void Engine::report_unsupported() {
    static const std::set<std::string> known = {
        "table", "foreign table", "view", "materialized view", "index", "sequence", "function", "procedure",
        "aggregate", "trigger", "type", "composite type", "policy", "schema", "extension",
        // written by the catalog kinds' family files (catalog_kinds.hpp)
        "collation", "statistics object", "operator", "operator class", "operator family", "event trigger",
        "publication", "foreign-data wrapper", "server", "user mapping", "default acl"};
    std::set<std::string_view> keys;  // views of the documents' keys, as the snapshots' are
    for (const auto& [key, d] : from_.objects) keys.insert(key);
    for (const auto& [key, d] : to_.objects) keys.insert(key);
    for (const auto& key : keys) {
        auto type = split_key(key).first;
        if (known.count(type) != 0) continue;
        const json* a = from_.get(key);
        const json* b = to_.get(key);
        if (a != nullptr && b != nullptr && *a == *b) continue;
        result_.unsupported.push_back(S(std::string(key)) + ": pgmig diff cannot write DDL for a " + type);
    }
}

}  // namespace pgmig::schema_diff::detail

namespace pgmig::schema_diff {

Result diff(const nlohmann::json& from, const nlohmann::json& to, const Options& options) {
    detail::Engine engine(from, to, options);
    return engine.run();
}

}  // namespace pgmig::schema_diff
