// Views and materialized views: changed ones are dropped and recreated with the views over them.
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

void Engine::diff_views() {
    auto is_view = [](std::string_view key) {
        return key.rfind("view ", 0) == 0 || key.rfind("materialized view ", 0) == 0;
    };
    // seeds: views whose description changed, and objects whose change invalidates the views over them
    std::set<std::string> invalid = invalidated_;
    for (const auto& fi : changed_tables_) invalid.insert("table " + fi);
    for (const auto& [key_view, d] : from_.objects) {
        const std::string key(key_view);
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
            x.erase("owner");  // an owner change is ALTER ... OWNER TO, not a rebuild
            y.erase("owner");
            if (x.contains("columns"))
                for (auto& c : x["columns"]) c.erase("comment"), c.erase("acl");
            if (y.contains("columns"))
                for (auto& c : y["columns"]) c.erase("comment"), c.erase("acl");
            // only its options (security_invoker, security_barrier, check_option): ALTER VIEW .. SET / RESET
            const json xo = x.contains("options") ? x["options"] : json();
            const json yo = y.contains("options") ? y["options"] : json();
            x.erase("options");
            y.erase("options");
            if (x == y && xo != yo && key.rfind("view ", 0) == 0) {
                view_options_.push_back(key);
                continue;
            }
            if (x != y || xo != yo) invalid.insert(key);
        }
    }
    std::map<std::string, std::vector<std::string>> dependents;  // object key -> views (from) that read it
    for (const auto& [key_view, d] : from_.objects) {
        const std::string key(key_view);
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
        if (is_view(key) && from_.get(key) == nullptr) create.emplace(key);

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
    // options of views kept as they are: ALTER VIEW .. RESET (the old names), then SET (the new values)
    for (const auto& key : view_options_) {
        if (drop.count(key) != 0) continue;  // rebuilt anyway, with the new options
        const std::string ident = split_key(key).second;
        auto opts = [](const json& d) {
            std::vector<std::string> out;
            if (field(d, "options").is_array())
                for (const auto& o : field(d, "options")) out.push_back(o.get<std::string>());
            return out;
        };
        auto alter = [&](const std::vector<std::string>& from, const std::vector<std::string>& to) {
            std::vector<std::string> out;
            std::string names;
            for (const auto& o : from) names += (names.empty() ? "" : ", ") + o.substr(0, o.find('='));
            std::string values;
            for (const auto& o : to) values += (values.empty() ? "" : ", ") + o;
            if (!names.empty()) out.push_back("ALTER VIEW " + ident + " RESET (" + names + ");");
            if (!values.empty()) out.push_back("ALTER VIEW " + ident + " SET (" + values + ");");
            return out;
        };
        Step s;
        s.bucket = b_view;
        s.subject = key;
        s.up = alter(opts(*from_.get(key)), opts(*to_.get(key)));
        s.down = alter(opts(*to_.get(key)), opts(*from_.get(key)));
        add(std::move(s));
    }
    // comment and grant changes of views kept as they are
    for (const auto& [key_view, d] : to_.objects) {
        const std::string key(key_view);
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

}  // namespace pgmig::schema_diff::detail
