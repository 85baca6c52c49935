// Constraints (CHECK, UNIQUE, PRIMARY KEY, FOREIGN KEY, EXCLUDE) and indexes.
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

std::string constraint_index_key(const std::string& table_identity, const std::string& name) {
    auto dot = table_identity.rfind('.');
    std::string schema = dot == std::string::npos ? "" : table_identity.substr(0, dot + 1);
    return "index " + schema + qi(name);
}

}  // namespace

void Engine::diff_constraints() {
    // per table (to identity) and its from identity
    std::map<std::string, std::string> to_from;  // to identity -> from identity ("" when new)
    std::set<std::string> dropped_tables;
    for (const auto& [key_view, d] : to_.objects) {
        const std::string key(key_view);
        const auto key_parts = split_key(key);
        const std::string& type = key_parts.first;
        const std::string& ident = key_parts.second;
        if (type == "table") to_from[ident] = from_.get(key) != nullptr ? ident : "";
    }
    for (const auto& [f, t] : table_renames_) to_from[t] = f;
    for (const auto& [key_view, d] : from_.objects) {
        const std::string key(key_view);
        const auto key_parts = split_key(key);
        const std::string& type = key_parts.first;
        const std::string& ident = key_parts.second;
        if (type == "table" && to_.get(key) == nullptr && table_renames_.count(ident) == 0 &&
            kept_tables_.count(ident) == 0)
            dropped_tables.insert(ident);
    }
    auto constraints = [](const json* t) {
        std::map<std::string, std::string> out;
        if (t == nullptr) return out;
        std::set<std::string> inh = inherited_constraints(*t);
        const json& c = field(*t, "constraints");
        if (c.is_object())
            for (auto it = c.begin(); it != c.end(); ++it)
                if (inh.count(it.key()) == 0) out[it.key()] = it->get<std::string>();
        return out;
    };
    auto drop_step = [&](const std::string& fi, const std::string& name, const std::string& def) {
        Step s;
        s.bucket = is_fk(def) ? b_drop_fk : b_drop_constraint;
        s.subject = "constraint " + name + " on " + fi;
        s.up.push_back("ALTER TABLE " + fi + " DROP CONSTRAINT " + qi(name) + ";");
        s.down.push_back("ALTER TABLE " + fi + " ADD CONSTRAINT " + qi(name) + " " + def + ";");
        add(std::move(s));
    };
    for (const auto& ti_fi : to_from) {
        const std::string& ti = ti_fi.first;
        const std::string& fi = ti_fi.second;
        const json* b = to_.get("table " + ti);
        const json* a = fi.empty() ? nullptr : from_.get("table " + fi);
        auto bc = constraints(b);
        auto ac = constraints(a);
        bool existing = a != nullptr;
        bool partitioned = b != nullptr && (str(*b, "kind") == "p");
        for (const auto& [name, def] : ac) {
            auto it = bc.find(name);
            if (it == bc.end() || it->second != def) drop_step(fi, name, def);
        }
        for (const auto& [name, def] : bc) {
            auto it = ac.find(name);
            if (it != ac.end() && it->second == def) continue;
            bool fk = is_fk(def);
            if (!existing && !fk) continue;  // created with the table
            std::string add_sql = "ALTER TABLE " + ti + " ADD CONSTRAINT " + qi(name) + " ";
            std::string drop_sql = "ALTER TABLE " + ti + " DROP CONSTRAINT " + qi(name) + ";";
            Step s;
            s.bucket = fk ? b_fk : b_constraint;
            s.subject = S("constraint ") + name + " on " + ti;
            s.down.push_back(drop_sql);
            bool not_valid_form = (fk || def.rfind("CHECK", 0) == 0) && def.find("NOT VALID") == std::string::npos;
            bool unique_form = def.rfind("PRIMARY KEY (", 0) == 0 || def.rfind("UNIQUE (", 0) == 0;
            if (unique_form && def.back() != ')') unique_form = false;
            if (!existing || !options_.safe_forms || reordered_tables_.count(ti) != 0) {
                s.up.push_back(add_sql + def + ";");
                if (existing && not_valid_form)
                    s.up.back() =
                        "-- pgmig diff: no safe form for this step here\n-- pgmig:allow "
                        "add-constraint-not-valid-missing\n" +
                        s.up.back();
                if (existing && unique_form)
                    s.up.back() =
                        "-- pgmig diff: no safe form for this step here\n-- pgmig:allow add-unique-without-index\n" +
                        s.up.back();
                add(std::move(s));
            } else if (not_valid_form && !partitioned) {
                s.up.push_back(add_sql + def + " NOT VALID;");
                add(std::move(s));
                Step v;
                v.bucket = fk ? b_fk : b_constraint;
                v.phase = Phase::post;
                v.subject = S("constraint ") + name + " on " + ti;
                v.up.push_back("ALTER TABLE " + ti + " VALIDATE CONSTRAINT " + qi(name) + ";");
                add(std::move(v));
            } else if (unique_form && !partitioned && to_.get(constraint_index_key(ti, name)) != nullptr) {
                std::string idef = str(*to_.get(constraint_index_key(ti, name)), "definition");
                auto pos = idef.find("INDEX ");
                idef.insert(pos + 6, "CONCURRENTLY ");
                s.phase = Phase::post;
                s.bucket = b_index;
                s.up.push_back(idef + ";");
                bool pk = def.rfind("PRIMARY KEY", 0) == 0;
                s.up.push_back(add_sql + (pk ? "PRIMARY KEY" : "UNIQUE") + " USING INDEX " + qi(name) + ";");
                s.down.clear();
                s.down.push_back(drop_sql);
                add(std::move(s));
            } else {
                s.up.push_back(add_sql + def + ";");
                std::string allow = not_valid_form ? "add-constraint-not-valid-missing"
                                    : unique_form  ? "add-unique-without-index"
                                                   : "";
                if (!allow.empty())
                    s.up.back() =
                        "-- pgmig diff: no safe form for this step here\n-- pgmig:allow " + allow + "\n" + s.up.back();
                add(std::move(s));
            }
        }
    }
    // dropped tables: their foreign keys go first, so tables can be dropped in any order
    for (const auto& fi : dropped_tables)
        for (const auto& [name, def] : constraints(from_.get("table " + fi)))
            if (is_fk(def)) drop_step(fi, name, def);
}

void Engine::diff_indexes() {
    const std::set<std::string> keys = keys_of_kinds(from_, to_, {"index "});
    auto skip = [](const json* d) {
        return d == nullptr || !str(*d, "constraint").empty() || field(*d, "partition_of").is_array();
    };
    auto create_sql = [](std::string def, bool concurrently) {
        auto only = def.find(" ON ONLY ");
        if (only != std::string::npos) def.erase(only + 4, 5);
        if (concurrently) def.insert(def.find("INDEX ") + 6, "CONCURRENTLY ");
        return def + ";";
    };
    for (const auto& key : keys) {
        const json* a = from_.get(key);
        const json* b = to_.get(key);
        std::string ident = split_key(key).second;
        bool a_real = !skip(a);
        bool b_real = !skip(b);
        bool on_rebuilt = a_real && rebuilt_views_.count(relation_key(from_, index_table(str(*a, "definition")))) != 0;
        if (a_real && b_real && str(*a, "definition") == str(*b, "definition") && !on_rebuilt) {
            comment_steps("INDEX", ident, a, b, key);
            continue;
        }
        if (a_real) {
            std::string def = str(*a, "definition");
            std::string table = index_table(def);
            std::string rk = relation_key(from_, table);
            bool on_view = rk.rfind("materialized view ", 0) == 0;
            bool on_rebuilt_view = on_view && (rebuilt_views_.count(rk) != 0 || to_.get(rk) == nullptr);
            bool table_gone = !on_view && to_.get(rk) == nullptr;
            if (table_gone && kept_tables_.count(table) != 0) continue;
            if (!table_gone && !on_view && table_renames_.count(table) != 0) table_gone = true;
            Step s;
            s.subject = key;
            bool concurrent = options_.safe_forms && !table_gone && !on_view && str(*a, "kind") != "I" &&
                              changed_tables_.count(table) == 0 && reordered_tables_.count(table) == 0;
            s.bucket = on_rebuilt_view ? b_drop_view - 1 : b_drop_index;
            if (concurrent) {
                s.phase = Phase::post;
                s.up.push_back("DROP INDEX CONCURRENTLY IF EXISTS " + ident + ";");
            } else {
                s.up.push_back("DROP INDEX " + ident + ";");
            }
            s.down.push_back(create_sql(def, false));
            if (!str(*a, "comment").empty())
                s.down.push_back("COMMENT ON INDEX " + ident + " IS " + literal(str(*a, "comment")) + ";");
            add(std::move(s));
        }
        if (b_real) {
            std::string def = str(*b, "definition");
            std::string table = index_table(def);
            std::string rk = relation_key(to_, table);
            bool on_view = rk.rfind("materialized view ", 0) == 0;
            bool table_new = from_.get(rk) == nullptr && !table_renames_inverse(table);
            bool view_new = on_view && (from_.get(rk) == nullptr || rebuilt_views_.count(rk) != 0);
            Step s;
            s.subject = key;
            if (on_view) {
                s.bucket = b_view + 2;
                s.up.push_back(create_sql(def, false));
                s.down.push_back("DROP INDEX " + ident + ";");
                if (!view_new) {
                    s.phase = options_.safe_forms ? Phase::post : Phase::main;
                    if (options_.safe_forms) s.up.back() = create_sql(def, true);
                }
            } else if (table_new || !options_.safe_forms || reordered_tables_.count(table) != 0) {
                s.bucket = b_index;
                s.up.push_back(create_sql(def, false));
                if (!table_new)
                    s.up.back() =
                        "-- pgmig diff: no safe form for this step here\n-- pgmig:allow "
                        "create-index-not-concurrently\n" +
                        s.up.back();
                s.down.push_back("DROP INDEX " + ident + ";");
            } else if (str(*b, "kind") == "I") {
                s.bucket = b_index;
                s.up.push_back(
                    "-- pgmig diff: partitioned tables cannot build indexes concurrently\n"
                    "-- pgmig:allow create-index-not-concurrently\n" +
                    create_sql(def, false));
                s.down.push_back("DROP INDEX " + ident + ";");
            } else {
                s.bucket = b_index;
                s.phase = Phase::post;
                s.up.push_back(create_sql(def, true));
                s.down.push_back("DROP INDEX CONCURRENTLY IF EXISTS " + ident + ";");
            }
            add(std::move(s));
            comment_steps("INDEX", ident, nullptr, b, key);
        }
    }
}

}  // namespace pgmig::schema_diff::detail
