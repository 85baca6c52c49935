// The desired-state diff engine: two migrate_snapshot() documents in, ordered up/down DDL out.
// How it works (buckets, safe forms, what is destructive) is described in docs/diff.md; the files of
// this folder are listed in README.md. Here: the entry point and the order of the passes.
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
    diff_policies();
    diff_triggers();
    diff_default_acls();  // security.cpp
    report_unsupported();
    finish();
    return std::move(result_);
}

void Engine::report_unsupported() {
    static const std::set<std::string> known = {
        "table",     "foreign table", "view", "materialized view", "index",  "sequence", "function",  "procedure",
        "aggregate", "trigger",       "type", "composite type",    "policy", "schema",   "extension", "default acl"};
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

}  // namespace pgmig::schema_diff::detail

namespace pgmig::schema_diff {

Result diff(const nlohmann::json& from, const nlohmann::json& to, const Options& options) {
    detail::Engine engine(from, to, options);
    return engine.run();
}

}  // namespace pgmig::schema_diff
