// What the family files of the catalog kinds share (catalog_kinds.hpp).
#include "client/diff/catalog_kinds.hpp"

#include "client/core/sql_names.hpp"

#include <cctype>
#include <initializer_list>
#include <set>

namespace pgmig::schema_diff::kinds {

using json = nlohmann::json;

std::string quote_literal(const std::string& text) {
    std::string out = "'";
    for (const char c : text) {
        if (c == '\'') out += '\'';
        out += c;
    }
    return out + "'";
}

std::string quote_ident(const std::string& name) { return client::quote_identifier(name); }

namespace {

bool equal_except(const json& a, const json& b, std::initializer_list<const char*> members) {
    json x = a;
    json y = b;
    for (const char* m : members) {
        x.erase(m);
        y.erase(m);
    }
    return x == y;
}

}  // namespace

// the owner: written by the engine, for every kind
bool only_comment_changes(const json& a, const json& b) { return equal_except(a, b, {"comment", "owner"}); }

bool equal_but_owner(const json& a, const json& b) { return equal_except(a, b, {"owner"}); }

const json& get(const json& d, const char* key) {
    static const json null_value;
    auto it = d.find(key);
    return it == d.end() ? null_value : *it;
}

std::string text(const json& d, const char* key) {
    const json& v = get(d, key);
    return v.is_string() ? v.get<std::string>() : std::string();
}

std::vector<std::pair<std::string, std::pair<const json*, const json*>>> pairs(const Objects& from, const Objects& to,
                                                                               const std::string& prefix) {
    std::map<std::string_view, std::pair<const json*, const json*>> both;
    for (auto it = from.lower_bound(prefix); it != from.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it)
        both[it->first].first = it->second;
    for (auto it = to.lower_bound(prefix); it != to.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it)
        both[it->first].second = it->second;
    return {both.begin(), both.end()};
}

void comment_step(const std::string& what, const std::string& name, const json* a, const json* b,
                  const std::string& subject, KindsOutput& out) {
    const std::string ca = a != nullptr ? text(*a, "comment") : "";
    const std::string cb = b != nullptr ? text(*b, "comment") : "";
    if (ca == cb) return;
    auto value = [](const std::string& c) { return c.empty() ? std::string("NULL") : quote_literal(c); };
    KindStep s;
    s.bucket = k_comment;
    s.subject = subject;
    s.up.push_back("COMMENT ON " + what + " " + name + " IS " + value(cb) + ";");
    s.down.push_back("COMMENT ON " + what + " " + name + " IS " + value(ca) + ";");
    out.steps.push_back(std::move(s));
}

void append_comment(std::vector<std::string>& sql, const std::string& what, const std::string& name, const json& d) {
    if (!text(d, "comment").empty())
        sql.push_back("COMMENT ON " + what + " " + name + " IS " + quote_literal(text(d, "comment")) + ";");
}

void create_drop(const std::string& key, const json* a, const json* b, int bucket, int sub,
                 const std::vector<std::string>& create_a, const std::vector<std::string>& create_b,
                 const std::string& drop, KindsOutput& out) {
    if (a != nullptr) {
        KindStep s;
        // removed: the mirror of creation; changed: dropped before anything is created (the engine's drops of
        // changed objects come first too), so that the new one can take its name
        s.bucket = b != nullptr ? k_drop_changed : 100 - bucket;
        s.sub = -sub;
        s.subject = key;
        s.up.push_back(drop);
        s.down = create_a;
        out.steps.push_back(std::move(s));
    }
    if (b != nullptr) {
        KindStep s;
        s.bucket = bucket;
        s.sub = sub;
        s.subject = key;
        s.up = create_b;
        s.down.push_back(drop);
        out.steps.push_back(std::move(s));
    }
}

}  // namespace pgmig::schema_diff::kinds
