// Triggers: created, dropped, and their ENABLE/DISABLE state.
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

void Engine::diff_triggers() {
    const std::set<std::string> keys = keys_of_kinds(from_, to_, {"trigger "});
    static const std::map<std::string, std::string> enable = {
        {"D", "DISABLE TRIGGER"}, {"R", "ENABLE REPLICA TRIGGER"}, {"A", "ENABLE ALWAYS TRIGGER"}};
    for (const auto& key : keys) {
        const json* a = from_.get(key);
        const json* b = to_.get(key);
        if (a != nullptr && flag(*a, "inherited")) a = nullptr;
        if (b != nullptr && flag(*b, "inherited")) b = nullptr;
        if (a == nullptr && b == nullptr) continue;
        if (a != nullptr && b != nullptr && *a == *b) continue;
        const std::string ident = split_key(key).second;
        const auto on_parts = split_on(ident);
        const std::string& name = on_parts.first;
        const std::string& table = on_parts.second;
        if (a != nullptr && b != nullptr && only_comment_changes(*a, *b) &&
            rebuilt_views_.count(relation_key(from_, table)) == 0) {
            comment_steps("TRIGGER", name + " ON " + table, a, b, key);
            continue;
        }
        auto create = [&](const json& d) {
            std::vector<std::string> out;
            out.push_back(str(d, "definition") + ";");
            auto e = enable.find(str(d, "enabled"));
            if (e != enable.end()) out.push_back(S("ALTER TABLE ") + table + " " + e->second + " " + name + ";");
            if (!str(d, "comment").empty())
                out.push_back("COMMENT ON TRIGGER " + name + " ON " + table + " IS " + literal(str(d, "comment")) +
                              ";");
            return out;
        };
        replace_on_relation(key, table, a, b, S("DROP TRIGGER ") + name + " ON " + table + ";", create, b_drop_trigger,
                            b_trigger);
    }
}

// A trigger or policy of `table` that goes (a), comes (b) or changes (both): dropped in its drop bucket (unless its
// table is kept, or is a view rebuilt anyway, which takes it along), created in its bucket.
void Engine::replace_on_relation(const std::string& key, const std::string& table, const json* a, const json* b,
                                 const std::string& drop,
                                 const std::function<std::vector<std::string>(const json&)>& create, int drop_bucket,
                                 int bucket) {
    if (a != nullptr) {
        const std::string rk = relation_key(from_, table);
        const bool table_gone = to_.get(rk) == nullptr;
        if (table_gone && kept_tables_.count(table) != 0) return;
        if (!(rk.rfind("view", 0) == 0 && rebuilt_views_.count(rk) != 0)) {
            Step s;
            s.bucket = drop_bucket;
            s.subject = key;
            s.up.push_back(drop);
            s.down = create(*a);
            add(std::move(s));
        }
    }
    if (b != nullptr) {
        Step s;
        s.bucket = bucket;
        s.subject = key;
        s.up = create(*b);
        s.down.push_back(drop);
        add(std::move(s));
    }
}

}  // namespace pgmig::schema_diff::detail
