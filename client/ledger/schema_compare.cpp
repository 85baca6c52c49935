// Snapshots compared object by object, and the dropping statements of a script (see schema_compare.hpp).
#include "client/ledger/schema_compare.hpp"

#include "client/diff/schema_diff.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>
#include <string_view>

namespace pgmig::client {

namespace {

using nlohmann::json;

std::string text_of(const json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

// The columns of a description by name, in their order.
std::vector<std::pair<std::string, const json*>> columns_of(const json& d) {
    std::vector<std::pair<std::string, const json*>> out;
    const auto it = d.find("columns");
    if (it == d.end() || !it->is_array()) return out;
    for (const auto& c : *it) {
        if (c.is_object() && c.contains("name")) out.emplace_back(text_of(c["name"]), &c);
    }
    return out;
}

void compare_columns(const json& a, const json& b, std::vector<std::string>& fields) {
    const auto ca = columns_of(a);
    const auto cb = columns_of(b);
    std::map<std::string, const json*> by_name;
    for (const auto& [name, c] : cb) by_name[name] = c;
    std::vector<std::string> common_a;
    for (const auto& [name, c] : ca) {
        const auto it = by_name.find(name);
        if (it == by_name.end()) {
            fields.push_back("column " + name + ": missing");
            continue;
        }
        common_a.push_back(name);
        std::set<std::string> keys;
        for (const auto& [k, v] : c->items()) keys.insert(k);
        for (const auto& [k, v] : it->second->items()) keys.insert(k);
        std::string which;
        for (const auto& k : keys) {
            if (k == "name") continue;
            const json* va = c->contains(k) ? &(*c)[k] : nullptr;
            const json* vb = it->second->contains(k) ? &(*it->second)[k] : nullptr;
            if (va == nullptr || vb == nullptr || *va != *vb) which += (which.empty() ? "" : ", ") + k;
        }
        if (!which.empty()) fields.push_back("column " + name + ": " + which);
    }
    std::set<std::string> in_a;
    for (const auto& [name, c] : ca) in_a.insert(name);
    std::vector<std::string> common_b;
    for (const auto& [name, c] : cb) {
        if (in_a.count(name) == 0) {
            fields.push_back("column " + name + ": extra");
        } else {
            common_b.push_back(name);
        }
    }
    if (common_a != common_b) fields.push_back("column order");
}

// "constraints" and other name -> text objects.
void compare_named(const std::string& what, const json& a, const json& b, std::vector<std::string>& fields) {
    if (!a.is_object() || !b.is_object()) {
        fields.push_back(what + "s");
        return;
    }
    std::set<std::string> names;
    for (const auto& [k, v] : a.items()) names.insert(k);
    for (const auto& [k, v] : b.items()) names.insert(k);
    for (const auto& n : names) {
        if (!a.contains(n)) {
            fields.push_back(what + " " + n + ": extra");
        } else if (!b.contains(n)) {
            fields.push_back(what + " " + n + ": missing");
        } else if (a[n] != b[n]) {
            fields.push_back(what + " " + n);
        }
    }
}

std::vector<std::string> changed_fields(const json& a, const json& b) {
    std::vector<std::string> fields;
    if (!a.is_object() || !b.is_object()) {
        fields.emplace_back("description");
        return fields;
    }
    std::set<std::string> keys;
    for (const auto& [k, v] : a.items()) keys.insert(k);
    for (const auto& [k, v] : b.items()) keys.insert(k);
    for (const auto& k : keys) {
        const json empty_object = json::object();
        const json* va = a.contains(k) ? &a[k] : nullptr;
        const json* vb = b.contains(k) ? &b[k] : nullptr;
        if (va != nullptr && vb != nullptr && *va == *vb) continue;
        if (k == "columns") {
            compare_columns(a, b, fields);
        } else if (k == "constraints") {
            compare_named("constraint", va ? *va : empty_object, vb ? *vb : empty_object, fields);
        } else {
            fields.push_back(k);
        }
    }
    if (fields.empty()) fields.emplace_back("description");
    return fields;
}

bool is_space(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }

// The statement without its leading whitespace and comments.
std::string_view without_leading_comments(std::string_view s) {
    for (;;) {
        while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
        if (s.starts_with("--")) {
            const auto eol = s.find('\n');
            s = eol == std::string_view::npos ? std::string_view{} : s.substr(eol + 1);
        } else if (s.starts_with("/*")) {
            const auto end = s.find("*/");
            s = end == std::string_view::npos ? std::string_view{} : s.substr(end + 2);
        } else {
            return s;
        }
    }
}

std::string upper_word(std::string_view s, std::size_t& pos) {
    while (pos < s.size() && is_space(s[pos])) ++pos;
    std::string word;
    while (pos < s.size() && (std::isalpha(static_cast<unsigned char>(s[pos])) != 0 || s[pos] == '_')) {
        word += static_cast<char>(std::toupper(static_cast<unsigned char>(s[pos])));
        ++pos;
    }
    return word;
}

bool mentions_drop(std::string_view s) {
    std::size_t pos = 0;
    while (pos < s.size()) {
        const std::string w = upper_word(s, pos);
        if (w == "DROP") return true;
        if (w.empty()) ++pos;
    }
    return false;
}

}  // namespace

// Owners and default privileges are not compared: migration files create objects owned by whoever applies
// them, and the shadow that builds them is made by another role than the database's owners.
std::vector<ObjectDifference> compare_snapshots(const json& expected, const json& actual) {
    std::vector<ObjectDifference> out;
    const json empty = json::object();
    const json& e = expected.is_object() ? expected : empty;
    const json& a = actual.is_object() ? actual : empty;
    std::set<std::string> keys;
    for (const auto& [k, v] : e.items()) keys.insert(k);
    for (const auto& [k, v] : a.items()) keys.insert(k);
    auto without_owner = [](const json& d) {
        json c = d;
        if (c.is_object()) c.erase("owner");
        return c;
    };
    for (const auto& k : keys) {
        if (k.rfind("default acl ", 0) == 0) continue;
        if (!a.contains(k)) {
            out.push_back({ObjectDifference::Change::missing, k, {}});
        } else if (!e.contains(k)) {
            out.push_back({ObjectDifference::Change::extra, k, {}});
        } else if (e[k] != a[k] && without_owner(e[k]) != without_owner(a[k])) {
            out.push_back({ObjectDifference::Change::changed, k, changed_fields(e[k], a[k])});
        }
    }
    return out;
}

std::string describe_difference(const ObjectDifference& difference) {
    std::string text = difference.key;
    if (!difference.fields.empty()) {
        text += " (";
        for (std::size_t i = 0; i < difference.fields.size(); ++i) text += (i == 0 ? "" : "; ") + difference.fields[i];
        text += ")";
    }
    return schema_diff::comment_text(text);
}

std::vector<std::string> dropping_statements(const std::vector<std::string>& statements) {
    constexpr std::size_t kWidth = 160;
    std::vector<std::string> out;
    for (const auto& statement : statements) {
        const std::string_view s = without_leading_comments(statement);
        std::size_t pos = 0;
        const std::string first = upper_word(s, pos);
        const bool drops = first == "DROP" || first == "TRUNCATE" || first == "DELETE" ||
                           (first == "ALTER" && mentions_drop(s.substr(pos)));
        if (!drops) continue;
        std::string line;
        for (const char c : s) {
            if (is_space(c)) {
                if (!line.empty() && line.back() != ' ') line += ' ';
            } else {
                line += c;
            }
        }
        while (!line.empty() && line.back() == ' ') line.pop_back();
        if (line.size() > kWidth) {
            std::size_t cut = kWidth;
            while (cut > 0 && (static_cast<unsigned char>(line[cut]) & 0xC0U) == 0x80U)
                --cut;  // not inside a character
            line = line.substr(0, cut) + "...";
        }
        out.push_back(schema_diff::comment_text(line));
    }
    return out;
}

}  // namespace pgmig::client
