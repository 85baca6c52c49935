// Security: row-level security policies, grants and revokes (ACL steps, with their restore on drop), comments on
// objects. Owners and default privileges belong here too.
#include "client/diff/engine.hpp"

#include <set>
#include <string>
#include <vector>

namespace pgmig::schema_diff::detail {

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

void Engine::comment_steps(const std::string& what, const std::string& name, const json* from, const json* to,
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

std::string Engine::grantee_sql(const std::string& g) {
    if (g == "OWNER") return "CURRENT_USER";
    return g;
}

void Engine::acl_steps(const std::string& what, const std::string& name, const json* from, const json* to,
                       const std::string& subject, const std::string& column) {
    bool from_has = from != nullptr && field(*from, "acl").is_array();
    bool to_has = to != nullptr && field(*to, "acl").is_array();
    if (!from_has && !to_has) return;
    std::set<std::string> a =
        from_has ? acl_set(*from) : (column.empty() ? default_acl(what) : std::set<std::string>{});
    std::set<std::string> b = to_has ? acl_set(*to) : (column.empty() ? default_acl(what) : std::set<std::string>{});
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

void Engine::append_acl_restore(std::vector<std::string>& out, const std::string& what, const std::string& name,
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
            out.push_back(S("GRANT ") + priv + " ON " + what + " " + name + " TO " + grantee_sql(e.substr(0, colon)) +
                          (wg ? " WITH GRANT OPTION" : "") + ";");
        }
}

// Row-level security policies. Runs before diff_triggers(): the steps come out in the order of the one
// pass over "policy ..." then "trigger ..." keys that both kinds once shared.
void Engine::diff_policies() {
    const std::set<std::string> keys = keys_of_kinds(from_, to_, {"policy "});
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
        if (a != nullptr && b != nullptr && only_comment_changes(*a, *b)) {
            comment_steps("POLICY", name + " ON " + table, a, b, key);
            continue;
        }
        auto create = [&](const json& d) {
            std::vector<std::string> out;
            out.push_back(policy_sql(name, table, d));
            if (!str(d, "comment").empty())
                out.push_back("COMMENT ON POLICY " + name + " ON " + table + " IS " + literal(str(d, "comment")) +
                              ";");
            return out;
        };
        std::string drop = S("DROP POLICY ") + name + " ON " + table + ";";
        if (a != nullptr) {
            std::string rk = relation_key(from_, table);
            bool table_gone = to_.get(rk) == nullptr;
            if (table_gone && kept_tables_.count(table) != 0) continue;
            if (!(rk.rfind("view", 0) == 0 && rebuilt_views_.count(rk) != 0)) {
                Step s;
                s.bucket = b_drop_policy;
                s.subject = key;
                s.up.push_back(drop);
                s.down = create(*a);
                add(std::move(s));
            }
        }
        if (b != nullptr) {
            Step s;
            s.bucket = b_policy;
            s.subject = key;
            s.up = create(*b);
            s.down.push_back(drop);
            add(std::move(s));
        }
    }
}

}  // namespace pgmig::schema_diff::detail
