// Functions and procedures: CREATE OR REPLACE where the header allows it, else drop and create.
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

// The part of a function definition before its body: arguments, RETURNS, LANGUAGE, attributes.
std::string function_header(const std::string& def) {
    auto as = def.find("\nAS ");
    auto atomic = def.find("\nBEGIN ATOMIC");
    auto end = std::min(as, atomic);
    return end == std::string::npos ? def : def.substr(0, end);
}

std::string returns_line(const std::string& def) {
    auto r = def.find("\n RETURNS ");
    if (r == std::string::npos) return {};
    auto e = def.find('\n', r + 1);
    return def.substr(r, e == std::string::npos ? std::string::npos : e - r);
}

}  // namespace

void Engine::diff_functions() {
    std::set<std::string> keys;
    auto is_internal = [](const json& d) {
        std::string def = str(d, "definition");
        return def.find("\n LANGUAGE internal") != std::string::npos &&
               (def.find("range_constructor") != std::string::npos);
    };
    keys = keys_of_kinds(from_, to_, {"function ", "procedure ", "aggregate "});
    std::set<std::string> added_names;  // "function public.f" of functions only `to` has
    for (const auto& key : keys)
        if (from_.get(key) == nullptr) added_names.insert(key.substr(0, key.find('(')));
    for (const auto& key : keys) {
        const json* a = from_.get(key);
        const json* b = to_.get(key);
        if ((a != nullptr && is_internal(*a)) || (b != nullptr && is_internal(*b))) continue;
        // a function whose signature names a recreated enum is dropped and created around it
        bool over_recreated = a != nullptr && b != nullptr &&
                              std::any_of(recreated_types_.begin(), recreated_types_.end(), [&](const std::string& t) {
                                  return function_header(str(*a, "definition")).find(t) != std::string::npos;
                              });
        if (a != nullptr && b != nullptr && *a == *b && !over_recreated) continue;
        const auto key_parts = split_key(key);
        const std::string& type = key_parts.first;
        const std::string& ident = key_parts.second;
        if (type == "aggregate" || (b != nullptr && !field(*b, "aggregate").is_null()) ||
            (a != nullptr && !field(*a, "aggregate").is_null()))
            continue;  // aggregates.cpp
        std::string what = type == "procedure" ? "PROCEDURE" : "FUNCTION";
        auto bucket_for = [&](const std::string& def) {
            // a signature that names a relation this diff creates must wait for it
            std::string h = function_header(def);
            std::string tok;
            for (size_t i = 0; i <= h.size(); ++i) {
                char c = i < h.size() ? h[i] : ' ';
                if (std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '.' || c == '"') {
                    tok += c;
                    continue;
                }
                if (tok.find('.') != std::string::npos) {
                    std::string rk = relation_key(to_, tok);
                    if (!rk.empty() && (from_.get(rk) == nullptr || rebuilt_views_.count(rk) != 0))
                        return static_cast<int>(b_function_late);
                    if (to_.get("composite type " + tok) != nullptr && from_.get("composite type " + tok) == nullptr)
                        return static_cast<int>(b_function);
                }
                tok.clear();
            }
            return static_cast<int>(b_function);
        };
        std::string drop = S("DROP ") + what + " " + ident + ";";
        if (a == nullptr) {
            std::string def = str(*b, "definition");
            Step s;
            s.bucket = bucket_for(def);
            s.subject = key;
            s.up.push_back(rtrim_semicolon(def) + ";");
            s.down.push_back(drop);
            add(std::move(s));
            comment_steps(what, ident, nullptr, b, key);
            acl_steps(what, ident, nullptr, b, key);
            continue;
        }
        if (b == nullptr) {
            std::string def = str(*a, "definition");
            Step s;
            // replaced by an overload of the same name: gone before the new one exists (calls would be ambiguous)
            s.bucket = added_names.count(type + " " + ident.substr(0, ident.find('('))) != 0
                           ? static_cast<int>(b_drop_function_changed)
                           : 100 - b_function;
            s.subject = key;
            s.removes = ident.substr(0, ident.find('('));
            s.up.push_back(drop);
            s.down.push_back(rtrim_semicolon(def) + ";");
            if (!str(*a, "comment").empty())
                s.down.push_back(S("COMMENT ON ") + what + " " + ident + " IS " + literal(str(*a, "comment")) + ";");
            append_acl_restore(s.down, what, ident, *a);
            add(std::move(s));
            invalidated_.insert(key);
            continue;
        }
        std::string da = str(*a, "definition");
        std::string db = str(*b, "definition");
        if (da != db || over_recreated) {
            if (returns_line(da) != returns_line(db) || over_recreated) {
                Step d;
                d.bucket = b_drop_function_changed;
                d.subject = key;
                d.up.push_back(drop);
                d.down.push_back(rtrim_semicolon(da) + ";");
                if (!str(*a, "comment").empty())
                    d.down.push_back(S("COMMENT ON ") + what + " " + ident + " IS " + literal(str(*a, "comment")) +
                                     ";");
                append_acl_restore(d.down, what, ident, *a);
                add(std::move(d));
                Step c;
                c.bucket = over_recreated ? static_cast<int>(b_function_late) : bucket_for(db);
                c.subject = key;
                c.up.push_back(rtrim_semicolon(db) + ";");
                c.down.push_back(drop);
                add(std::move(c));
                invalidated_.insert(key);
                comment_steps(what, ident, nullptr, b, key);
                acl_steps(what, ident, nullptr, b, key);
                continue;
            }
            Step s;
            s.bucket = b_function;
            s.subject = key;
            s.up.push_back(rtrim_semicolon(db) + ";");
            s.down.push_back(rtrim_semicolon(da) + ";");
            add(std::move(s));
        }
        comment_steps(what, ident, a, b, key);
        acl_steps(what, ident, a, b, key);
    }
}

}  // namespace pgmig::schema_diff::detail
