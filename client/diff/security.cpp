// Security: row-level security policies, owners (ALTER ... OWNER TO), grants and revokes (ACL steps, with their
// restore on drop; grants made by another grantor; column privileges), default privileges (ALTER DEFAULT
// PRIVILEGES), comments on objects.
#include "client/diff/engine.hpp"

#include <algorithm>
#include <map>
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

namespace {

// The keyword ALTER ... OWNER TO takes for an object; `what` is the one GRANT takes.
std::string owner_kind(const std::string& what, const json& d) {
    if (what == "TABLE" || what == "SEQUENCE" || what == "FOREIGN TABLE") {
        const std::string k = str(d, "kind");
        if (k == "v") return "VIEW";
        if (k == "m") return "MATERIALIZED VIEW";
        if (k == "S") return "SEQUENCE";
        if (k == "f") return "FOREIGN TABLE";
        if (k == "c") return "TYPE";
        return "TABLE";
    }
    if (what == "TYPE" || what == "DOMAIN") return str(d, "kind") == "d" ? "DOMAIN" : "TYPE";
    return what;
}

// A sequence owned by a column (serial, identity, OWNED BY) has its table's owner: ALTER TABLE ... OWNER TO
// moves it, and ALTER SEQUENCE ... OWNER TO is refused.
bool owner_follows_table(const json& d) { return !str(field(d, "sequence"), "owned_by").empty(); }


// One ACL entry as GRANT or REVOKE statements. A privilege granted by another role than the owner (who holds
// it WITH GRANT OPTION) is granted and revoked as that role: PostgreSQL 15 takes GRANTED BY only for the
// current user, so SET ROLE comes first (the migration's role must be a member of the grantor) and RESET
// ROLE after.
std::vector<std::string> acl_stmt(bool grant, const std::string& entry, const std::string& what,
                                  const std::string& name, const std::string& column, const std::string& owner) {
    auto colon = entry.find(':');
    std::string grantee = entry.substr(0, colon);
    std::string priv = entry.substr(colon + 1);
    std::string by;
    auto by_at = priv.find(" BY ");
    if (by_at != std::string::npos) {
        by = priv.substr(by_at + 4);
        priv = priv.substr(0, by_at);
    }
    bool with_grant = false;
    auto wg = priv.find(" WITH GRANT OPTION");
    if (wg != std::string::npos) {
        with_grant = true;
        priv = priv.substr(0, wg);
    }
    if (!column.empty()) priv += " (" + qi(column) + ")";
    if (grantee == "OWNER") grantee = owner;
    const std::string granted_by = by.empty() ? std::string() : " GRANTED BY " + by;
    std::string sql = grant ? "GRANT " + priv + " ON " + what + " " + name + " TO " + grantee +
                                  (with_grant ? " WITH GRANT OPTION" : "") + granted_by + ";"
                            : "REVOKE " + priv + " ON " + what + " " + name + " FROM " + grantee + granted_by + ";";
    if (by.empty()) return {sql};
    return {"SET ROLE " + by + ";", sql, "RESET ROLE;"};
}

bool granted_by_other(const std::string& entry) { return entry.find(" BY ") != std::string::npos; }

// A table-level REVOKE of a privilege also takes the grantee's column privileges of that kind: the ones
// `state` (the description the step leads to) keeps are granted again right after.
void regrant_columns(const std::set<std::string>& from, const std::set<std::string>& to, const json* state,
                     const std::string& what, const std::string& name, const std::string& owner,
                     std::vector<std::string>& out) {
    if (state == nullptr || !field(*state, "columns").is_array()) return;
    auto kind = [](const std::string& e) {
        std::string priv = e.substr(e.find(':') + 1);
        priv = priv.substr(0, priv.find(' '));
        return e.substr(0, e.find(':')) + ":" + priv;
    };
    std::set<std::string> gone;
    for (const auto& e : from)
        if (to.count(e) == 0) gone.insert(kind(e));
    if (gone.empty()) return;
    for (const auto& c : field(*state, "columns"))
        if (field(c, "acl").is_array())
            for (const auto& e : acl_set(c))
                if (gone.count(kind(e)) != 0)
                    for (auto& q : acl_stmt(true, e, what, name, str(c, "name"), owner)) out.push_back(std::move(q));
}

}  // namespace

// Owners: role names in snapshots are written as SQL identifiers already (regrole::text). The desired schema
// was loaded by options_.desired_role and the migration runs as options_.migration_role: an object the first
// owns is, in the target, the second's (each made it by CREATE).
std::string Engine::desired_owner(const json& d) const {
    std::string o = str(d, "owner");
    if (!o.empty() && o == options_.desired_role && !options_.migration_role.empty()) return options_.migration_role;
    return o;
}

bool Engine::role_missing(const std::string& role) const {
    if (!options_.roles_known || role.empty() || role == "PUBLIC" || role == "OWNER") return false;
    return options_.target_roles.count(role) == 0;
}

std::string Engine::owner_name(const json* d) const {
    std::string o = d != nullptr ? desired_owner(*d) : std::string();
    return o.empty() ? std::string("CURRENT_USER") : o;
}

void Engine::owner_steps(const std::string& what, const std::string& name, const json* from, const json* to,
                         const std::string& subject) {
    if (to == nullptr || owner_follows_table(*to)) return;
    const std::string want = desired_owner(*to);
    if (want.empty()) return;
    const std::string have = from != nullptr ? str(*from, "owner") : options_.migration_role;
    if (have.empty() || have == want) return;
    if (role_missing(want)) {
        result_.unsupported.push_back(subject + ": its owner " + want +
                                      " is not a role of the target; create the role (CREATE ROLE " + want +
                                      ") and diff again, or change the owner in the schema");
        return;
    }
    const std::string kind = owner_kind(what, *to);
    Step s;
    s.bucket = b_acl;  // before the grants (same bucket, added first): OWNER entries then name the new owner
    s.subject = subject;
    s.up.push_back("ALTER " + kind + " " + name + " OWNER TO " + want + ";");
    if (from != nullptr) s.down.push_back("ALTER " + kind + " " + name + " OWNER TO " + have + ";");
    add(std::move(s));
}

namespace {

// The catalog kinds (catalog_kinds.hpp) that have an owner, with the keyword ALTER ... OWNER TO takes.
const char* owned_kind_keyword(const std::string& type) {
    static const std::map<std::string, const char*, std::less<>> keywords = {
        {"aggregate", "AGGREGATE"},
        {"collation", "COLLATION"},
        {"event trigger", "EVENT TRIGGER"},
        {"foreign-data wrapper", "FOREIGN DATA WRAPPER"},
        {"operator", "OPERATOR"},
        {"operator class", "OPERATOR CLASS"},
        {"operator family", "OPERATOR FAMILY"},
        {"publication", "PUBLICATION"},
        {"server", "SERVER"},
        {"statistics object", "STATISTICS"}};
    auto it = keywords.find(type);
    return it == keywords.end() ? nullptr : it->second;
}

bool creates(const std::vector<std::string>& sql) {
    return std::any_of(sql.begin(), sql.end(), [](const std::string& q) { return q.rfind("CREATE ", 0) == 0; });
}

}  // namespace

void Engine::catalog_kind_created_owners(Step& s, std::set<std::string>& created) {
    const auto [type, ident] = split_key(s.subject);
    const char* keyword = owned_kind_keyword(type);
    if (keyword == nullptr || options_.migration_role.empty()) return;
    // up creates the desired object: its owner as the desired schema has it (the desired schema's loader maps
    // to the migration role); down creates the target's again: its owner in the target
    const json* b = creates(s.up) ? to_.get(s.subject) : nullptr;
    const json* a = creates(s.down) ? from_.get(s.subject) : nullptr;
    if (b != nullptr) {
        created.insert(s.subject);
        const std::string want = desired_owner(*b);
        if (role_missing(want)) {
            result_.unsupported.push_back(s.subject + ": its owner " + want +
                                          " is not a role of the target; create the role (CREATE ROLE " + want +
                                          ") and diff again, or change the owner in the schema");
        } else if (!want.empty() && want != options_.migration_role) {
            s.up.push_back(S("ALTER ") + keyword + " " + ident + " OWNER TO " + want + ";");
        }
    }
    const std::string have = a != nullptr ? str(*a, "owner") : std::string();
    if (!have.empty() && have != options_.migration_role)
        s.down.push_back(S("ALTER ") + keyword + " " + ident + " OWNER TO " + have + ";");
}

void Engine::catalog_kind_owner_changes(const std::set<std::string>& created) {
    // the ranges of the owned kinds only ("operator " holds the operator classes and families too)
    const std::set<std::string> keys =
        keys_of_kinds(from_, from_,
                      {"aggregate ", "collation ", "event trigger ", "foreign-data wrapper ", "operator ",
                       "publication ", "server ", "statistics object "});
    for (const auto& key : keys) {
        const auto [type, ident] = split_key(key);
        const char* keyword = owned_kind_keyword(type);
        const json* b = to_.get(key);
        if (keyword == nullptr || b == nullptr || created.count(key) != 0) continue;
        owner_steps(keyword, ident, from_.get(key), b, key);
    }
}

std::set<std::string> Engine::default_acl_grantees(const std::string& what, const std::string& name) const {
    const std::string on = what == "SEQUENCE"                          ? "SEQUENCES"
                           : what == "FUNCTION" || what == "PROCEDURE" ? "FUNCTIONS"
                           : what == "TYPE" || what == "DOMAIN"        ? "TYPES"
                           : what == "SCHEMA"                          ? "SCHEMAS"
                                                                       : "TABLES";
    const std::string schema = what == "SCHEMA" ? std::string() : schema_of(name);
    std::set<std::string> out;
    for (const Snapshot* snap : {&from_, &to_})
        for (auto it = snap->objects.lower_bound("default acl "); it != snap->objects.end(); ++it) {
            if (it->first.rfind("default acl ", 0) != 0) break;
            const json& d = *it->second;
            if (str(d, "on") != on || (!str(d, "schema").empty() && str(d, "schema") != schema)) continue;
            for (const auto& e : field(d, "acl")) {
                const std::string entry = e.get<std::string>();
                const std::string g = entry.substr(0, entry.find(':'));
                if (g != "OWNER") out.insert(g);
            }
        }
    return out;
}

void Engine::report_missing_roles(const std::set<std::string>& entries, const std::string& subject) {
    for (const auto& e : entries) {
        std::string grantee = e.substr(0, e.find(':'));
        auto by = e.find(" BY ");
        for (const std::string& role : {grantee, by == std::string::npos ? std::string() : e.substr(by + 4)})
            if (role_missing(role))
                result_.unsupported.push_back(subject + ": its privileges name " + role +
                                              ", which is not a role of the target; create the role (CREATE ROLE " +
                                              role + ") and diff again");
    }
}

bool Engine::names_missing_role(const std::set<std::string>& entries) const {
    return std::any_of(entries.begin(), entries.end(), [&](const std::string& e) {
        auto by = e.find(" BY ");
        return role_missing(e.substr(0, e.find(':'))) || (by != std::string::npos && role_missing(e.substr(by + 4)));
    });
}

// Revokes of grants made by other roles first (they depend on the grant options revoked next), grants made by
// other roles last (they need the grant options).
void Engine::acl_transition(const std::set<std::string>& a, const std::set<std::string>& b, const std::string& what,
                            const std::string& name, const std::string& column, const std::string& owner,
                            std::vector<std::string>& out) {
    auto emit = [&](bool grant, bool by_other, const std::set<std::string>& from, const std::set<std::string>& to) {
        for (const auto& e : from)
            if (to.count(e) == 0 && granted_by_other(e) == by_other)
                for (auto& q : acl_stmt(grant, e, what, name, column, owner)) out.push_back(std::move(q));
    };
    emit(false, true, a, b);
    emit(false, false, a, b);
    emit(true, false, b, a);
    emit(true, true, b, a);
}

void Engine::acl_steps(const std::string& what, const std::string& name, const json* from, const json* to,
                       const std::string& subject, const std::string& column, const json* table) {
    if (column.empty()) owner_steps(what, name, from, to, subject);
    bool from_has = from != nullptr && field(*from, "acl").is_array();
    bool to_has = to != nullptr && field(*to, "acl").is_array();
    if (!from_has && !to_has && from != nullptr) return;
    std::set<std::string> hard = column.empty() ? default_acl(what, options_.server_version_num) : std::set<std::string>{};
    std::set<std::string> a = from_has ? acl_set(*from) : hard;
    std::set<std::string> b = to_has ? acl_set(*to) : hard;
    std::set<std::string> defaults;
    if (from == nullptr) {
        a = hard;
        // a new object: the default privileges in force when it is created may give it more; those roles'
        // privileges are revoked first and every wanted entry granted (both no-ops when not needed)
        if (column.empty()) defaults = default_acl_grantees(what, name);
        if (defaults.empty() && !to_has) return;
    }
    if (a == b && defaults.empty()) return;
    if (names_missing_role(b)) {
        report_missing_roles(b, subject);
        return;
    }
    const std::string owner = owner_name(column.empty() ? to : table);
    Step s;
    s.bucket = b_acl;
    s.subject = subject;
    if (!defaults.empty()) {
        // (the down drops the object: nothing to undo)
        for (const auto& g : defaults)
            if (g != owner) s.up.push_back("REVOKE ALL ON " + what + " " + name + " FROM " + g + ";");
        std::set<std::string> revoke;
        for (const auto& e : hard)
            if (b.count(e) == 0) revoke.insert(e);
        acl_transition(revoke, {}, what, name, column, owner, s.up);
        acl_transition({}, b, what, name, column, owner, s.up);
    } else {
        acl_transition(a, b, what, name, column, owner, s.up);
        regrant_columns(a, b, to, what, name, owner, s.up);
        acl_transition(b, a, what, name, column, owner, s.down);
        regrant_columns(b, a, from, what, name, owner, s.down);
    }
    if (s.up.empty()) return;
    add(std::move(s));
}

// The owner, privileges and column privileges of an object (re)created as `d` describes it: after a CREATE
// in down (or in up for a rebuilt view), by the migration's role.
void Engine::append_acl_restore(std::vector<std::string>& out, const std::string& what, const std::string& name,
                                const json& d) {
    const std::string owner = desired_owner(d);
    if (!owner.empty() && !owner_follows_table(d) && !options_.migration_role.empty() &&
        owner != options_.migration_role && !role_missing(owner))
        out.push_back("ALTER " + owner_kind(what, d) + " " + name + " OWNER TO " + owner + ";");
    const std::string owner_sql = owner_name(&d);
    const std::set<std::string> def = default_acl(what, options_.server_version_num);
    const std::set<std::string> defaults = default_acl_grantees(what, name);
    if (field(d, "acl").is_array() || !defaults.empty()) {
        std::set<std::string> want = field(d, "acl").is_array() ? acl_set(d) : def;
        if (!names_missing_role(want)) {
            for (const auto& g : defaults)
                if (g != owner_sql) out.push_back("REVOKE ALL ON " + what + " " + name + " FROM " + g + ";");
            std::set<std::string> revoke;
            for (const auto& e : def)
                if (want.count(e) == 0) revoke.insert(e);
            acl_transition(revoke, {}, what, name, {}, owner_sql, out);
            // with default privileges about, every wanted entry (some may have been revoked just now)
            std::set<std::string> grant;
            for (const auto& e : want)
                if (def.count(e) == 0 || !defaults.empty()) grant.insert(e);
            acl_transition({}, grant, what, name, {}, owner_sql, out);
        }
    }
    if (what == "TABLE" && field(d, "columns").is_array())
        for (const auto& c : field(d, "columns"))
            if (field(c, "acl").is_array() && !names_missing_role(acl_set(c)))
                acl_transition({}, acl_set(c), what, name, str(c, "name"), owner_sql, out);
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
                out.push_back("COMMENT ON POLICY " + name + " ON " + table + " IS " + literal(str(d, "comment")) + ";");
            return out;
        };
        replace_on_relation(key, table, a, b, S("DROP POLICY ") + name + " ON " + table + ";", create, b_drop_policy,
                            b_policy);
    }
}

// Default privileges (ALTER DEFAULT PRIVILEGES FOR ROLE r [IN SCHEMA s] GRANT/REVOKE ... ON TABLES ...). A global
// entry holds the whole ACL new objects get (its absence: PostgreSQL's built-in one); a per-schema entry what
// they get in addition (its absence: nothing). Changed after the schemas exist and before any object is
// created, so that the new objects get them as the desired schema's did.
void Engine::diff_default_acls() {
    const std::set<std::string> keys = keys_of_kinds(from_, to_, {"default acl "});
    for (const auto& key : keys) {
        const json* a = from_.get(key);
        const json* b = to_.get(key);
        if (a != nullptr && b != nullptr && *a == *b) continue;
        const json& d = b != nullptr ? *b : *a;
        const std::string role = str(d, "role");
        const std::string schema = str(d, "schema");
        const std::string on = str(d, "on");
        static const std::map<std::string, std::string> grant_what = {{"TABLES", "TABLE"},
                                                                      {"SEQUENCES", "SEQUENCE"},
                                                                      {"FUNCTIONS", "FUNCTION"},
                                                                      {"TYPES", "TYPE"},
                                                                      {"SCHEMAS", "SCHEMA"}};
        auto w = grant_what.find(on);
        if (role.empty() || w == grant_what.end()) {
            result_.unsupported.push_back(key + ": pgmig diff does not know default privileges on " + on);
            continue;
        }
        const std::set<std::string> base = schema.empty() ? default_acl(w->second, options_.server_version_num) : std::set<std::string>{};
        const std::set<std::string> from_acl = a != nullptr ? acl_set(*a) : base;
        const std::set<std::string> to_acl = b != nullptr ? acl_set(*b) : base;
        if (from_acl == to_acl) continue;
        if (role_missing(role)) {
            result_.unsupported.push_back(key + ": " + role +
                                          " is not a role of the target; create the role (CREATE ROLE " + role +
                                          ") and diff again");
            continue;
        }
        if (names_missing_role(to_acl)) {
            report_missing_roles(to_acl, key);
            continue;
        }
        const std::string prefix = "ALTER DEFAULT PRIVILEGES FOR ROLE " + role +
                                   (schema.empty() ? std::string() : " IN SCHEMA " + schema) + " ";
        auto stmt = [&](bool grant, const std::string& entry) {
            auto colon = entry.find(':');
            std::string grantee = entry.substr(0, colon);
            if (grantee == "OWNER") grantee = role;
            std::string priv = entry.substr(colon + 1);
            bool with_grant = false;
            auto wg = priv.find(" WITH GRANT OPTION");
            if (wg != std::string::npos) {
                with_grant = true;
                priv = priv.substr(0, wg);
            }
            return grant ? prefix + "GRANT " + priv + " ON " + on + " TO " + grantee +
                               (with_grant ? " WITH GRANT OPTION" : "") + ";"
                         : prefix + "REVOKE " + priv + " ON " + on + " FROM " + grantee + ";";
        };
        Step s;
        s.bucket = b_schema;
        s.sub = 1;  // after CREATE SCHEMA, before the objects
        s.subject = key;
        // (down undoes the grants before it restores what up revoked: a GRANT over a grant with more options
        // would be a no-op that the revoke then takes away)
        for (const auto& e : from_acl)
            if (to_acl.count(e) == 0) s.up.push_back(stmt(false, e));
        for (const auto& e : to_acl)
            if (from_acl.count(e) == 0) s.up.push_back(stmt(true, e)), s.down.push_back(stmt(false, e));
        for (const auto& e : from_acl)
            if (to_acl.count(e) == 0) s.down.push_back(stmt(true, e));
        add(std::move(s));
    }
}

}  // namespace pgmig::schema_diff::detail
