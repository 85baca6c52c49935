// Triggers and row-level security policies (one pass over both kinds, which share the ON table form).
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

}  // namespace

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

}  // namespace pgmig::schema_diff::detail
