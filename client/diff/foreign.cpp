// Foreign-data wrappers, foreign servers, user mappings and foreign tables. Wrappers and servers are
// created before the foreign tables and changed with ALTER ... OPTIONS; a foreign table holds no data of
// its own, so a changed one is dropped and created again. User mappings are never written: their options
// hold passwords, which pgmig never reads (the snapshot records only that a mapping exists), and so are a
// server's options whose name says secret (password, secret, token, key, credential).
#include "client/diff/catalog_kinds.hpp"

namespace pgmig::schema_diff::kinds {

namespace {

constexpr const char* kNotRead = " (value not read)";

bool has_unread_value(const nlohmann::json& d) {
    for (const auto& o : get(d, "options"))
        if (o.get<std::string>().find(kNotRead) != std::string::npos) return true;
    return false;
}

std::map<std::string, std::string> options_of(const nlohmann::json& list) {
    std::map<std::string, std::string> out;
    if (list.is_array())
        for (const auto& o : list) {
            const std::string s = o.get<std::string>();
            const auto eq = s.find('=');
            out[s.substr(0, eq)] = eq == std::string::npos ? std::string() : s.substr(eq + 1);
        }
    return out;
}

std::string options_clause(const nlohmann::json& list) {
    std::string sql;
    for (const auto& [k, v] : options_of(list))
        sql += (sql.empty() ? "" : ", ") + quote_ident(k) + " " + quote_literal(v);
    return sql.empty() ? sql : " OPTIONS (" + sql + ")";
}

// OPTIONS (ADD/SET/DROP ...) from one list to another; empty when equal
std::string alter_options(const nlohmann::json& a, const nlohmann::json& b) {
    const auto oa = options_of(a);
    const auto ob = options_of(b);
    std::string sql;
    for (const auto& [k, v] : oa)
        if (ob.count(k) == 0) sql += (sql.empty() ? "" : ", ") + ("DROP " + quote_ident(k));
    for (const auto& [k, v] : ob) {
        auto it = oa.find(k);
        if (it == oa.end())
            sql += (sql.empty() ? "" : ", ") + ("ADD " + quote_ident(k) + " " + quote_literal(v));
        else if (it->second != v)
            sql += (sql.empty() ? "" : ", ") + ("SET " + quote_ident(k) + " " + quote_literal(v));
    }
    return sql.empty() ? sql : " OPTIONS (" + sql + ")";
}

std::vector<std::string> create_wrapper(const std::string& name, const nlohmann::json& d) {
    std::string sql = "CREATE FOREIGN DATA WRAPPER " + name;
    if (!text(d, "handler").empty()) sql += " HANDLER " + text(d, "handler");
    if (!text(d, "validator").empty()) sql += " VALIDATOR " + text(d, "validator");
    std::vector<std::string> out{sql + options_clause(get(d, "options")) + ";"};
    append_comment(out, "FOREIGN DATA WRAPPER", name, d);
    return out;
}

std::vector<std::string> alter_wrapper(const std::string& name, const nlohmann::json& a, const nlohmann::json& b) {
    std::string sql;
    if (text(a, "handler") != text(b, "handler"))
        sql += text(b, "handler").empty() ? " NO HANDLER" : " HANDLER " + text(b, "handler");
    if (text(a, "validator") != text(b, "validator"))
        sql += text(b, "validator").empty() ? " NO VALIDATOR" : " VALIDATOR " + text(b, "validator");
    sql += alter_options(get(a, "options"), get(b, "options"));
    if (sql.empty()) return {};
    return {"ALTER FOREIGN DATA WRAPPER " + name + sql + ";"};
}

std::vector<std::string> create_server(const std::string& name, const nlohmann::json& d) {
    std::string sql = "CREATE SERVER " + name;
    if (!text(d, "type").empty()) sql += " TYPE " + quote_literal(text(d, "type"));
    if (!text(d, "version").empty()) sql += " VERSION " + quote_literal(text(d, "version"));
    sql += " FOREIGN DATA WRAPPER " + quote_ident(text(d, "wrapper"));
    std::vector<std::string> out{sql + options_clause(get(d, "options")) + ";"};
    append_comment(out, "SERVER", name, d);
    return out;
}

std::vector<std::string> alter_server(const std::string& name, const nlohmann::json& a, const nlohmann::json& b) {
    std::string sql;
    if (text(a, "version") != text(b, "version"))
        sql += " VERSION " + (text(b, "version").empty() ? std::string("NULL") : quote_literal(text(b, "version")));
    sql += alter_options(get(a, "options"), get(b, "options"));
    if (sql.empty()) return {};
    return {"ALTER SERVER " + name + sql + ";"};
}

std::string column_sql(const nlohmann::json& c) {
    std::string sql = quote_ident(text(c, "name")) + " " + text(c, "type");
    sql += options_clause(get(c, "fdw_options"));
    if (!text(c, "collation").empty()) sql += " COLLATE " + quote_ident(text(c, "collation"));
    if (!text(c, "default").empty()) sql += " DEFAULT " + text(c, "default");
    const nlohmann::json& nn = get(c, "not_null");
    if (nn.is_boolean() && nn.get<bool>()) sql += " NOT NULL";
    return sql;
}

std::vector<std::string> create_foreign_table(const std::string& ident, const nlohmann::json& d) {
    std::string sql = "CREATE FOREIGN TABLE " + ident + " (";
    bool first = true;
    for (const auto& c : get(d, "columns")) {
        sql += (first ? "\n    " : ",\n    ") + column_sql(c);
        first = false;
    }
    const nlohmann::json& cons = get(d, "constraints");
    if (cons.is_object())
        for (auto it = cons.begin(); it != cons.end(); ++it) {
            sql +=
                (first ? "\n    " : ",\n    ") + ("CONSTRAINT " + quote_ident(it.key()) + " " + it->get<std::string>());
            first = false;
        }
    sql += first ? ")" : "\n)";
    sql += " SERVER " + quote_ident(text(d, "server")) + options_clause(get(d, "foreign_options")) + ";";
    std::vector<std::string> out{sql};
    append_comment(out, "FOREIGN TABLE", ident, d);
    for (const auto& c : get(d, "columns"))
        append_comment(out, "COLUMN", ident + "." + quote_ident(text(c, "name")), c);
    return out;
}

}  // namespace

void diff_foreign(const Objects& from, const Objects& to, KindsOutput& out) {
    for (const auto& [key, ab] : pairs(from, to, "foreign-data wrapper ")) {
        const auto [a, b] = ab;
        const std::string name = key.substr(std::string("foreign-data wrapper ").size());
        if (a != nullptr && b != nullptr) {
            if (*a == *b) continue;
            KindStep s;
            s.bucket = k_wrapper;
            s.subject = key;
            s.up = alter_wrapper(name, *a, *b);
            s.down = alter_wrapper(name, *b, *a);
            if (!s.up.empty()) out.steps.push_back(std::move(s));
            comment_step("FOREIGN DATA WRAPPER", name, a, b, key, out);
            continue;
        }
        create_drop(key, a, b, k_wrapper, 0, a ? create_wrapper(name, *a) : std::vector<std::string>{},
                    b ? create_wrapper(name, *b) : std::vector<std::string>{},
                    "DROP FOREIGN DATA WRAPPER " + name + ";", out);
    }
    for (const auto& [key, ab] : pairs(from, to, "server ")) {
        const auto [a, b] = ab;
        const std::string name = key.substr(std::string("server ").size());
        if (a != nullptr && b != nullptr && *a == *b) continue;
        const bool secret = (a != nullptr && has_unread_value(*a)) || (b != nullptr && has_unread_value(*b));
        if (a != nullptr && b != nullptr) {
            if (text(*a, "wrapper") != text(*b, "wrapper") || text(*a, "type") != text(*b, "type")) {
                out.unsupported.push_back(key +
                                          ": its wrapper or type changes; a server cannot be moved to another "
                                          "wrapper (drop and create it by hand with its user mappings)");
                continue;
            }
            if (get(*a, "options") != get(*b, "options") && secret) {
                out.unsupported.push_back(key +
                                          ": its options hold a secret (password, key, token), whose value "
                                          "pgmig never reads; change them by hand");
            } else {
                KindStep s;
                s.bucket = k_wrapper;
                s.sub = 1;
                s.subject = key;
                s.up = alter_server(name, *a, *b);
                s.down = alter_server(name, *b, *a);
                if (!s.up.empty()) out.steps.push_back(std::move(s));
            }
            comment_step("SERVER", name, a, b, key, out);
            continue;
        }
        if (secret) {
            out.unsupported.push_back(key +
                                      ": its options hold a secret (password, key, token), whose value pgmig "
                                      "never reads; create or drop it by hand");
            continue;
        }
        create_drop(key, a, b, k_wrapper, 1, a ? create_server(name, *a) : std::vector<std::string>{},
                    b ? create_server(name, *b) : std::vector<std::string>{}, "DROP SERVER " + name + ";", out);
    }
    for (const auto& [key, ab] : pairs(from, to, "user mapping ")) {
        const auto [a, b] = ab;
        if (a != nullptr && b != nullptr) continue;  // only that it exists is known
        out.unsupported.push_back(key + (a == nullptr ? ": added" : ": removed") +
                                  "; a user mapping's options hold passwords, which pgmig never reads or writes: "
                                  "create or drop it by hand (CREATE USER MAPPING)");
    }
    for (const auto& [key, ab] : pairs(from, to, "foreign table ")) {
        const auto [a, b] = ab;
        if (a != nullptr && b != nullptr && *a == *b) continue;
        const std::string ident = key.substr(std::string("foreign table ").size());
        if (a != nullptr && b != nullptr) {
            nlohmann::json x = *a;
            nlohmann::json y = *b;
            x.erase("comment");
            y.erase("comment");
            for (auto* d : {&x, &y})
                if (d->contains("columns"))
                    for (auto& c : (*d)["columns"]) c.erase("comment");
            if (x == y) {
                comment_step("FOREIGN TABLE", ident, a, b, key, out);
                std::map<std::string, const nlohmann::json*> ac;
                for (const auto& c : get(*a, "columns")) ac[text(c, "name")] = &c;
                for (const auto& c : get(*b, "columns"))
                    comment_step("COLUMN", ident + "." + quote_ident(text(c, "name")), ac[text(c, "name")], &c,
                                 "column " + ident + "." + text(c, "name"), out);
                continue;
            }
        }
        // (its grants are the security family's: a foreign table is granted like a table)
        create_drop(key, a, b, 30, 0, a ? create_foreign_table(ident, *a) : std::vector<std::string>{},
                    b ? create_foreign_table(ident, *b) : std::vector<std::string>{},
                    "DROP FOREIGN TABLE " + ident + ";", out);
    }
}

}  // namespace pgmig::schema_diff::kinds
