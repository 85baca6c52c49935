// Comments of constraints (of tables and domains): COMMENT ON CONSTRAINT after the constraint exists.
// The comments of the other kinds are written by their own family, with the object.
#include "client/diff/catalog_kinds.hpp"

namespace pgmig::schema_diff::kinds {

void diff_kind_comments(const Objects& from, const Objects& to, KindsOutput& out) {
    for (const char* prefix : {"table ", "type "}) {
        for (const auto& [key, ab] : pairs(from, to, prefix)) {
            const auto [a, b] = ab;
            if (b == nullptr) continue;  // a dropped table's constraints go with it
            const nlohmann::json& cb = get(*b, "constraint_comments");
            const nlohmann::json& ca = a != nullptr ? get(*a, "constraint_comments") : cb;
            if (a != nullptr && ca == cb && get(*a, "constraints") == get(*b, "constraints")) continue;
            const std::string ident = key.substr(std::string(prefix).size());
            const bool domain = std::string(prefix) == "type ";
            auto def_of = [](const nlohmann::json* d, const std::string& name) {
                if (d == nullptr) return std::string();
                const nlohmann::json& cons = get(*d, "constraints");
                return cons.is_object() && cons.contains(name) ? cons[name].get<std::string>() : std::string();
            };
            std::map<std::string, std::pair<std::string, std::string>> comments;  // name -> (from, to)
            if (a != nullptr && ca.is_object())
                for (auto it = ca.begin(); it != ca.end(); ++it) comments[it.key()].first = it->get<std::string>();
            if (cb.is_object())
                for (auto it = cb.begin(); it != cb.end(); ++it) comments[it.key()].second = it->get<std::string>();
            for (const auto& [name, fc] : comments) {
                const std::string def_a = def_of(a, name);
                const std::string def_b = def_of(b, name);
                if (def_b.empty()) continue;  // the constraint goes: its comment with it
                // a new or recreated constraint has no comment yet
                const std::string before = def_a == def_b ? fc.first : std::string();
                if (before == fc.second) continue;
                auto value = [](const std::string& c) { return c.empty() ? std::string("NULL") : quote_literal(c); };
                KindStep s;
                s.bucket = k_comment;
                s.subject = "constraint " + name + " on " + ident;
                const std::string on =
                    "COMMENT ON CONSTRAINT " + quote_ident(name) + " ON " + (domain ? "DOMAIN " : "") + ident + " IS ";
                s.up.push_back(on + value(fc.second) + ";");
                s.down.push_back(on + value(before) + ";");
                out.steps.push_back(std::move(s));
            }
        }
    }
}

}  // namespace pgmig::schema_diff::kinds
