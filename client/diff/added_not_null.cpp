// NOT NULL columns added to existing tables: which, their tables' rows, --backfill arguments (added_not_null.hpp).
#include "client/diff/added_not_null.hpp"

#include "client/core/errors.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cctype>
#include <set>

namespace pgmig::client {

namespace {

using nlohmann::json;
namespace sd = schema_diff;

std::string str(const json& d, const char* key) {
    auto it = d.find(key);
    return it != d.end() && it->is_string() ? it->get<std::string>() : std::string();
}

bool flag(const json& d, const char* key) {
    auto it = d.find(key);
    return it != d.end() && it->is_boolean() && it->get<bool>();
}

// "a.b.c" -> {a, b, c} as SQL reads names: an unquoted part folds to lower case, a "quoted" one keeps its case
// and its dots, "" inside quotes is one ". `ok` is false on an unterminated quote.
std::vector<std::string> sql_name_parts(const std::string& text, bool& ok) {
    std::vector<std::string> parts(1);
    bool quoted = false;
    ok = true;
    for (size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (quoted) {
            if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
                parts.back() += '"';
                ++i;
            } else if (c == '"') {
                quoted = false;
            } else {
                parts.back() += c;
            }
        } else if (c == '"') {
            quoted = true;
        } else if (c == '.') {
            parts.emplace_back();
        } else {
            parts.back() += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        }
    }
    if (quoted) ok = false;
    return parts;
}

// A snapshot identity ("public.t", `app."Line Items"`) as its two unquoted parts.
std::vector<std::string> identity_parts(const std::string& identity) {
    bool ok = true;
    return sql_name_parts(identity, ok);
}

const json* table_of(const json& snapshot, const std::string& identity) {
    if (!snapshot.is_object()) return nullptr;
    auto it = snapshot.find("table " + identity);
    return it == snapshot.end() ? nullptr : &*it;
}

}  // namespace

std::vector<AddedNotNull> added_not_null_columns(const json& from, const json& to,
                                                 const std::vector<sd::Rename>& renames) {
    std::vector<AddedNotNull> out;
    if (!to.is_object()) return out;
    for (auto it = to.begin(); it != to.end(); ++it) {
        const std::string& key = it.key();
        if (key.rfind("table ", 0) != 0 || !it->is_object()) continue;
        const std::string identity = key.substr(6);
        std::string from_identity = identity;
        for (const auto& r : renames)
            if (r.kind == "table" && r.to == identity) from_identity = r.from;
        const json* old = table_of(from, from_identity);
        if (old == nullptr) continue;  // a new table: its columns are in CREATE TABLE
        std::set<std::string> old_columns;
        auto oc = old->find("columns");
        if (oc != old->end() && oc->is_array())
            for (const auto& c : *oc) old_columns.insert(str(c, "name"));
        for (const auto& r : renames)  // a renamed column is not an added one
            if (r.kind == "column" && r.from.rfind(from_identity + ".", 0) == 0)
                old_columns.insert(r.to.substr(r.to.rfind('.') + 1));
        auto nc = it->find("columns");
        if (nc == it->end() || !nc->is_array()) continue;
        for (const auto& c : *nc) {
            const std::string name = str(c, "name");
            if (old_columns.count(name) != 0 || flag(c, "inherited") || !flag(c, "not_null")) continue;
            if (!str(c, "default").empty() || !str(c, "identity").empty() || !str(c, "generated").empty()) continue;
            out.push_back({identity, from_identity, name});
        }
    }
    return out;
}

sd::Backfill parse_backfill(const std::string& argument, const json& to) {
    auto bad = [&](const std::string& why) {
        return Error(ErrorKind::usage, fmt::format("bad --backfill '{}': {}", argument, why), "on the command line",
                     "write --backfill 'schema.table.column=EXPRESSION' or 'table.column=EXPRESSION', e.g. "
                     "--backfill \"public.orders.status='new'\"");
    };
    // the '=' that ends the name: the first one outside double quotes
    size_t eq = std::string::npos;
    bool quoted = false;
    for (size_t i = 0; i < argument.size() && eq == std::string::npos; ++i) {
        if (argument[i] == '"') quoted = !quoted;
        if (argument[i] == '=' && !quoted) eq = i;
    }
    if (eq == std::string::npos) throw bad("no '='");
    bool ok = true;
    std::vector<std::string> parts = sql_name_parts(argument.substr(0, eq), ok);
    std::string expression = argument.substr(eq + 1);
    if (!ok) throw bad("an unterminated quoted name");
    if (parts.size() < 2 || parts.size() > 3) throw bad("the name is not table.column or schema.table.column");
    for (const auto& p : parts)
        if (p.empty()) throw bad("an empty name");
    if (std::all_of(expression.begin(), expression.end(), [](unsigned char ch) { return std::isspace(ch) != 0; }))
        throw bad("no expression after '='");
    if (expression.find('\0') != std::string::npos) throw bad("a NUL byte in the expression");
    // the desired snapshot's identity of the table
    std::vector<std::string> candidates;
    if (to.is_object())
        for (auto it = to.begin(); it != to.end(); ++it) {
            if (it.key().rfind("table ", 0) != 0) continue;
            const std::string identity = it.key().substr(6);
            std::vector<std::string> ip = identity_parts(identity);
            if (ip.size() != 2 || ip[1] != parts[parts.size() - 2]) continue;
            if (parts.size() == 3 && ip[0] != parts[0]) continue;
            if (parts.size() == 2 && ip[0] == "public") {
                candidates = {identity};
                break;
            }
            candidates.push_back(identity);
        }
    if (candidates.empty()) throw bad("the desired schema has no such table");
    if (candidates.size() > 1) throw bad("tables of that name are in several schemas: name the schema");
    return {candidates.front(), parts.back(), expression, argument};
}

std::vector<sd::Backfill> unused_backfills(const std::vector<sd::Backfill>& backfills, const json& from, const json& to,
                                           const std::vector<sd::Rename>& renames) {
    const std::vector<AddedNotNull> added = added_not_null_columns(from, to, renames);
    // a NOT NULL column (without a default) of a table in both snapshots that `to` lacks: dropped
    auto dropped = [&](const sd::Backfill& b) {
        const json* old = table_of(from, b.table);
        const json* now = table_of(to, b.table);
        if (old == nullptr || now == nullptr) return false;
        auto has = [&](const json& t, bool needs_not_null) {
            auto cols = t.find("columns");
            if (cols == t.end() || !cols->is_array()) return false;
            return std::any_of(cols->begin(), cols->end(), [&](const json& c) {
                return str(c, "name") == b.column &&
                       (!needs_not_null || (flag(c, "not_null") && str(c, "default").empty()));
            });
        };
        return has(*old, true) && !has(*now, false);
    };
    std::vector<sd::Backfill> out;
    for (const auto& b : backfills) {
        const bool used = std::any_of(added.begin(), added.end(), [&](const AddedNotNull& c) {
            return c.table == b.table && c.column == b.column;
        });
        if (!used && !dropped(b)) out.push_back(b);
    }
    return out;
}

}  // namespace pgmig::client
