// Sequences: options, OWNED BY, identity sequences.
#include "client/diff/engine.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <functional>
#include <initializer_list>
#include <map>
#include <tuple>
#include <set>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>

namespace pgmig::schema_diff::detail {

namespace {

bool is_identity_sequence(const Snapshot& s, const json& seq) {
    std::string owned = str(field(seq, "sequence"), "owned_by");
    if (owned.empty()) return false;
    auto dot = owned.rfind('.');
    const json* t = s.get("table " + owned.substr(0, dot));
    if (t == nullptr) return false;
    std::string col = owned.substr(dot + 1);
    for (const auto& c : field(*t, "columns"))
        if (str(c, "name") == col) return !str(c, "identity").empty();
    return false;
}

}  // namespace

std::string sequence_options(const json& q) {
    auto num = [&](const char* k) { return field(q, k).is_number() ? field(q, k).dump() : std::string("1"); };
    return " AS " + str(q, "type") + " INCREMENT BY " + num("increment") + " MINVALUE " + num("min") + " MAXVALUE " +
           num("max") + " START WITH " + num("start") + " CACHE " + num("cache") +
           (flag(q, "cycle") ? " CYCLE" : " NO CYCLE");
}

namespace {

std::string owned_by_sql(const std::string& ident, const std::string& owned) {
    if (owned.empty()) return "ALTER SEQUENCE " + ident + " OWNED BY NONE;";
    auto dot = owned.rfind('.');
    return "ALTER SEQUENCE " + ident + " OWNED BY " + owned.substr(0, dot) + "." + qi(owned.substr(dot + 1)) + ";";
}

}  // namespace

// " (SEQUENCE NAME schema.name)" when the identity sequence of `table`.`column` in `s` is not the one
// PostgreSQL would name (table_column_seq in the table's schema): a table created under another name and
// renamed keeps its sequence's first name, and an identity column may name its sequence.
std::string Engine::identity_sequence_option(const Snapshot& s, const std::string& table, const std::string& column) {
    auto& owned = identity_sequences_[&s];
    if (owned.empty()) {
        owned.emplace("", "");  // built once, even when the snapshot has no sequence
        for (auto it = s.objects.lower_bound("sequence ");
             it != s.objects.end() && it->first.rfind("sequence ", 0) == 0; ++it) {
            std::string by = str(field(*it->second, "sequence"), "owned_by");
            if (!by.empty()) owned.emplace(by, split_key(it->first).second);
        }
    }
    auto it = owned.find(table + "." + column);
    if (it == owned.end()) return {};
    auto unquote = [](std::string n) {
        if (n.size() < 2 || n.front() != '"') return n;
        std::string out;
        for (size_t i = 1; i + 1 < n.size(); ++i) {
            out += n[i];
            if (n[i] == '"') ++i;
        }
        return out;
    };
    auto dot = table.rfind('.');
    std::string derived = unquote(table.substr(dot + 1)) + "_" + column + "_seq";
    if (derived.size() <= 63 && it->second == table.substr(0, dot + 1) + qi(derived)) return {};
    return " (SEQUENCE NAME " + it->second + ")";
}

void Engine::rename_owned_sequences() {
    // owned_by -> the sequence key on each side, for the sequences only one side has
    auto owned_only_here = [](const Snapshot& here, const Snapshot& there) {
        std::map<std::string, std::vector<std::string>> out;
        for (auto it = here.objects.lower_bound("sequence "); it != here.objects.end() && it->first.rfind("sequence ", 0) == 0;
             ++it) {
            const std::string by = str(field(*it->second, "sequence"), "owned_by");
            if (!by.empty() && there.get(it->first) == nullptr) out[by].emplace_back(it->first);
        }
        return out;
    };
    const auto gone = owned_only_here(from_, to_);
    const auto added = owned_only_here(to_, from_);
    // a column both sides keep (its table too): dropping or adding the column would take or make its sequence
    auto kept_column = [&](const std::string& owned_by) {
        const auto dot = owned_by.rfind('.');
        const std::string table = "table " + owned_by.substr(0, dot);
        const std::string column = owned_by.substr(dot + 1);
        auto has = [&](const Snapshot& s) {
            const json* t = s.get(table);
            if (t == nullptr) return false;
            const json& cols = field(*t, "columns");
            return std::any_of(cols.begin(), cols.end(), [&](const json& c) { return str(c, "name") == column; });
        };
        return has(from_) && has(to_);
    };
    std::vector<std::tuple<std::string, std::string, std::string>> renames;  // owned_by, old key, new key
    for (const auto& [by, old_keys] : gone) {
        auto n = added.find(by);
        if (old_keys.size() != 1 || n == added.end() || n->second.size() != 1 || !kept_column(by)) continue;
        const std::string old_ident = split_key(old_keys.front()).second;
        const std::string new_ident = split_key(n->second.front()).second;
        if (schema_of(old_ident) != schema_of(new_ident)) continue;  // moved as well: a new sequence
        renames.emplace_back(by, old_keys.front(), n->second.front());
    }
    if (renames.empty()) return;
    if (from_doc_.is_null()) from_doc_ = *from_src_;
    for (const auto& [by, old_key, new_key] : renames) {
        const std::string old_ident = split_key(old_key).second;
        const std::string new_ident = split_key(new_key).second;
        Step s;
        s.bucket = b_rename;
        s.subject = new_key;
        s.up.push_back("ALTER SEQUENCE " + old_ident + " RENAME TO " + name_of(new_ident) + ";");
        s.down.push_back("ALTER SEQUENCE " + new_ident + " RENAME TO " + name_of(old_ident) + ";");
        add(std::move(s));
        from_doc_[new_key] = std::move(from_doc_[old_key]);
        from_doc_.erase(old_key);
        // the column's default names the sequence (nextval('schema.name'::regclass)): it follows the rename
        const std::string table_key = "table " + by.substr(0, by.rfind('.'));
        for (auto& c : from_doc_[table_key]["columns"]) {
            const std::string def = str(c, "default");
            const std::string from_text = "'" + old_ident + "'::regclass";
            const auto at = def.find(from_text);
            if (at != std::string::npos)
                c["default"] = def.substr(0, at) + "'" + new_ident + "'::regclass" + def.substr(at + from_text.size());
        }
    }
    from_ = index_snapshot(from_doc_);
}

void Engine::diff_sequences() {
    const std::set<std::string> keys = keys_of_kinds(from_, to_, {"sequence "});
    for (const auto& key : keys) {
        const json* a = from_.get(key);
        const json* b = to_.get(key);
        std::string ident = split_key(key).second;
        bool a_identity = a != nullptr && is_identity_sequence(from_, *a);
        bool b_identity = b != nullptr && is_identity_sequence(to_, *b);
        if (a_identity || b_identity) {
            // the column creates and drops it: only its options, grants and comment are ours
            auto non_default = [](const json& d) {
                const json& q = field(d, "sequence");
                std::string t = str(q, "type");
                std::string max = t == "smallint" ? "32767" : t == "integer" ? "2147483647" : "9223372036854775807";
                auto is = [&](const char* k, const std::string& v) {
                    return field(q, k).is_number() && field(q, k).dump() == v;
                };
                return !(is("start", "1") && is("increment", "1") && is("min", "1") && is("max", max) &&
                         is("cache", "1") && !flag(q, "cycle"));
            };
            if (a_identity && b_identity) {
                json qa = field(*a, "sequence");
                json qb = field(*b, "sequence");
                qa.erase("owned_by");
                qb.erase("owned_by");
                if (qa != qb) {
                    Step s;
                    s.bucket = b_owned_by + 1;
                    s.subject = key;
                    s.up.push_back("ALTER SEQUENCE " + ident + sequence_options(qb) + ";");
                    s.down.push_back("ALTER SEQUENCE " + ident + sequence_options(qa) + ";");
                    add(std::move(s));
                }
                comment_steps("SEQUENCE", ident, a, b, key);
                acl_steps("SEQUENCE", ident, a, b, key);
            } else if (b_identity) {
                if (non_default(*b)) {
                    Step s;
                    s.bucket = b_owned_by + 1;
                    s.subject = key;
                    s.up.push_back("ALTER SEQUENCE " + ident + sequence_options(field(*b, "sequence")) + ";");
                    add(std::move(s));
                }
                comment_steps("SEQUENCE", ident, nullptr, b, key);
                acl_steps("SEQUENCE", ident, nullptr, b, key);
            } else {
                Step s;
                s.bucket = 100 - (b_owned_by + 1);
                const std::string table = relation_of_identity_qualifier(str(field(*a, "sequence"), "owned_by"));
                if (to_.get("table " + table) != nullptr) {
                    // the column goes (or loses its identity) from a table that stays: its down adds the column
                    // back in the column bucket, which this down must follow
                    s.bucket = b_column;
                    s.sub = -10;
                } else if (early_drops_.count(table) != 0) {
                    // the table goes first of all (a new relation takes one of its names): this down follows its
                    s.bucket = b_drop_table_early;
                    s.sub = -2000;
                }
                s.subject = key;
                if (non_default(*a))
                    s.down.push_back("ALTER SEQUENCE " + ident + sequence_options(field(*a, "sequence")) + ";");
                if (!str(*a, "comment").empty())
                    s.down.push_back("COMMENT ON SEQUENCE " + ident + " IS " + literal(str(*a, "comment")) + ";");
                append_acl_restore(s.down, "SEQUENCE", ident, *a);
                add(std::move(s));
            }
            continue;
        }
        // mirrored: the sequence is dropped; early: with its table, which goes before anything is created (a new
        // relation takes one of its names, maybe the sequence's): released first, dropped right after the table
        auto create = [&](const json& d, bool mirrored, bool early = false) {
            const json& q = field(d, "sequence");
            Step s;
            s.bucket = b_sequence;
            s.subject = key;
            s.up.push_back("CREATE SEQUENCE " + ident + sequence_options(q) + ";");
            s.down.push_back("DROP SEQUENCE IF EXISTS " + ident + ";");
            if (!str(q, "owned_by").empty()) {
                Step o;
                o.bucket = b_owned_by;
                o.subject = key;
                o.up.push_back(owned_by_sql(ident, str(q, "owned_by")));
                o.down.push_back(owned_by_sql(ident, ""));
                if (mirrored) {
                    // released before any column goes (dropping the column would drop the sequence)
                    o = mirror(std::move(o));
                    o.bucket = early ? b_drop_table_early : b_drop_function_changed;
                    if (early) o.sub = -2000;
                    o.removes = ident;
                }
                add(std::move(o));
            }
            if (!mirrored) {
                add(std::move(s));
                return;
            }
            s.removes = ident;
            Step m = mirror(std::move(s));
            if (early) {
                m.bucket = b_drop_table_early;
                m.sub = 2000;
            }
            add(std::move(m));
        };
        if (a == nullptr) {
            create(*b, false);
            comment_steps("SEQUENCE", ident, nullptr, b, key);
            acl_steps("SEQUENCE", ident, nullptr, b, key);
            continue;
        }
        if (b == nullptr) {
            std::string owned = str(field(*a, "sequence"), "owned_by");
            if (!owned.empty() && kept_tables_.count(relation_of_identity_qualifier(owned)) != 0) continue;
            create(*a, true, !owned.empty() && early_drops_.count(relation_of_identity_qualifier(owned)) != 0);
            continue;
        }
        const json& qa = field(*a, "sequence");
        const json& qb = field(*b, "sequence");
        json qa2 = qa;
        json qb2 = qb;
        qa2.erase("owned_by");
        qb2.erase("owned_by");
        if (qa2 != qb2) {
            Step s;
            s.bucket = b_sequence;
            s.subject = key;
            s.up.push_back("ALTER SEQUENCE " + ident + sequence_options(qb) + ";");
            s.down.push_back("ALTER SEQUENCE " + ident + sequence_options(qa) + ";");
            add(std::move(s));
        }
        if (str(qa, "owned_by") != str(qb, "owned_by") && !str(qb, "owned_by").empty() &&
            early_drops_.count(relation_of_identity_qualifier(str(qa, "owned_by"))) != 0) {
            // its owner is a table dropped before anything is created: released before that drop (which
            // would take the sequence with it), given to its new owner later
            Step r;
            r.bucket = b_drop_function_changed;
            r.subject = key;
            r.up.push_back(owned_by_sql(ident, ""));
            r.down.push_back(owned_by_sql(ident, str(qa, "owned_by")));
            add(std::move(r));
            Step s;
            s.bucket = b_owned_by;
            s.subject = key;
            s.up.push_back(owned_by_sql(ident, str(qb, "owned_by")));
            s.down.push_back(owned_by_sql(ident, ""));
            add(std::move(s));
        } else if (str(qa, "owned_by") != str(qb, "owned_by")) {
            Step s;
            s.bucket = str(qb, "owned_by").empty() ? b_drop_function_changed : b_owned_by;
            s.subject = key;
            s.up.push_back(owned_by_sql(ident, str(qb, "owned_by")));
            s.down.push_back(owned_by_sql(ident, str(qa, "owned_by")));
            add(std::move(s));
        }
        comment_steps("SEQUENCE", ident, a, b, key);
        acl_steps("SEQUENCE", ident, a, b, key);
    }
}

}  // namespace pgmig::schema_diff::detail
