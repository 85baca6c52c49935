// Confirmed renames (--rename): applied to the `from` snapshot before the diff, with their steps.
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

// A relation's name as --rename gives it, in schema public when it names none.
std::string qualify(const std::string& n) { return n.find('.') == std::string::npos ? "public." + n : n; }

// names PostgreSQL derived from the table's name follow it when `to` has the derived new name: this is `name`
// (derived from table `fbase`'s) as it reads once the table is `tbase`, or "" when it is not derived from it
std::string derived_name(const std::string& fbase, const std::string& tbase, const std::string& name) {
    if (name.rfind(fbase + "_", 0) != 0) return {};
    return tbase + name.substr(fbase.size());
}

}  // namespace

void Engine::apply_renames() {
    std::vector<std::pair<std::string, std::string>> tables = confirmed_table_renames();
    std::vector<ColumnRename> columns = confirmed_column_renames(tables);
    if (tables.empty() && columns.empty()) return;
    from_doc_ = *from_src_;
    int order = 0;
    for (const auto& [f, t] : tables) rename_table(f, t, order);
    for (const auto& c : columns) rename_column(c, order);
    from_ = index_snapshot(from_doc_);
}

std::vector<std::pair<std::string, std::string>> Engine::confirmed_table_renames() const {
    std::vector<std::pair<std::string, std::string>> tables;
    for (const auto& r : options_.renames) {
        if (r.kind != "table") continue;
        std::string f = qualify(r.from);
        std::string t = qualify(r.to);
        if (from_.get("table " + f) != nullptr && to_.get("table " + t) != nullptr &&
            to_.get("table " + f) == nullptr && from_.get("table " + t) == nullptr)
            tables.emplace_back(f, t);
    }
    return tables;
}

std::vector<Engine::ColumnRename> Engine::confirmed_column_renames(
    const std::vector<std::pair<std::string, std::string>>& tables) const {
    std::vector<ColumnRename> columns;
    for (const auto& r : options_.renames) {
        if (r.kind != "column") continue;
        auto d = r.from.rfind('.');
        if (d == std::string::npos) continue;
        std::string rel = qualify(r.from.substr(0, d));
        for (const auto& [f, t] : tables)
            if (f == rel) rel = t;
        columns.push_back({rel, r.from.substr(d + 1), r.to.substr(r.to.rfind('.') + 1)});  // (npos + 1: all of it)
    }
    return columns;
}

void Engine::rename_step(int& order, const std::string& subject, const std::string& up, const std::string& down) {
    Step s;
    s.bucket = b_rename;
    s.sub = order++;
    s.subject = subject;
    s.up.push_back(up);
    s.down.push_back(down);
    add(std::move(s));
}

void Engine::rename_from_key(const std::string& a, const std::string& b) {
    if (!from_doc_.contains(a) || a == b) return;
    from_doc_[b] = from_doc_[a];
    from_doc_.erase(a);
}

void Engine::rename_table(const std::string& f, const std::string& t, int& order) {
    std::string fbase = name_of(f);
    std::string tbase = name_of(t);
    std::string fschema = schema_of(f);
    std::string tschema = schema_of(t);
    std::string up = S("ALTER TABLE ") + f + " RENAME TO " + tbase + ";";
    std::string down = S("ALTER TABLE ") + fschema + "." + tbase + " RENAME TO " + fbase + ";";
    if (fschema != tschema) {
        up += S("\nALTER TABLE ") + fschema + "." + tbase + " SET SCHEMA " + tschema + ";";
        down = S("ALTER TABLE ") + t + " SET SCHEMA " + fschema + ";\n" + down;
    }
    rename_step(order, "table " + t, up, down);
    rename_from_key("table " + f, "table " + t);
    std::vector<std::string> keys;
    for (auto it = from_doc_.begin(); it != from_doc_.end(); ++it) keys.push_back(it.key());
    for (const auto& key : keys) rename_table_in_object(key, f, t, order);
    // other constraints named after the table (CHECK, FOREIGN KEY)
    rename_table_constraints(f, t, order);
}

void Engine::rename_table_in_object(const std::string& key, const std::string& f, const std::string& t, int& order) {
    const std::string suffix = " on " + f;
    const auto key_parts = split_key(key);
    const std::string& type = key_parts.first;
    const std::string& ident = key_parts.second;
    if ((type == "trigger" || type == "policy") && ident.size() > suffix.size() &&
        ident.compare(ident.size() - suffix.size(), suffix.size(), suffix) == 0) {
        json& d = from_doc_[key];
        if (d.contains("definition")) d["definition"] = replace_word(str(d, "definition"), f, t);
        rename_from_key(key, S(type) + " " + ident.substr(0, ident.size() - suffix.size()) + " on " + t);
        return;
    }
    json& d = from_doc_[key];
    if (type == "index" && index_table(str(d, "definition")) == f) {
        rename_table_index(key, d, f, t, order);
        return;
    }
    if (type == "sequence") {
        rename_table_sequence(key, d, f, t, order);
        return;
    }
    if (type == "table" && d.contains("constraints") && d["constraints"].is_object())
        for (auto& [cn, cdef] : d["constraints"].items())
            if (cdef.get<std::string>().find("REFERENCES " + f + "(") != std::string::npos)
                cdef = replace_word(cdef.get<std::string>(), f, t);
    if ((type == "view" || type == "materialized view") && d.contains("depends_on"))
        for (auto& dep : d["depends_on"])
            if (dep.get<std::string>() == "table " + f) dep = "table " + t;
}

void Engine::rename_table_index(const std::string& key, json& d, const std::string& f, const std::string& t,
                                int& order) {
    const std::string ident = split_key(key).second;
    std::string tschema = schema_of(t);
    std::string def = str(d, "definition");
    def = replace_word(def, f, t);
    std::string iname = name_of(ident);
    std::string nname = derived_name(name_of(f), name_of(t), iname);
    std::string nkey = S("index ") + tschema + "." + nname;
    if (!nname.empty() && to_.get(nkey) != nullptr && !from_doc_.contains(nkey)) {
        rename_step(order, nkey, S("ALTER INDEX ") + tschema + "." + iname + " RENAME TO " + nname + ";",
                    S("ALTER INDEX ") + tschema + "." + nname + " RENAME TO " + iname + ";");
        def = replace_word(def, iname, nname);
        if (!str(d, "constraint").empty()) {
            json& tc = from_doc_["table " + t]["constraints"];
            if (tc.contains(iname)) {
                tc[nname] = tc[iname];
                tc.erase(iname);
            }
            d["constraint"] = nname;
        }
        d["definition"] = def;
        rename_from_key(key, nkey);
    } else {
        d["definition"] = def;
    }
}

void Engine::rename_table_sequence(const std::string& key, json& d, const std::string& f, const std::string& t,
                                   int& order) {
    const std::string ident = split_key(key).second;
    std::string tschema = schema_of(t);
    json& q = d["sequence"];
    std::string owned = str(q, "owned_by");
    if (owned.rfind(f + ".", 0) != 0) return;
    q["owned_by"] = t + owned.substr(f.size());
    std::string sname = name_of(ident);
    std::string nname = derived_name(name_of(f), name_of(t), sname);
    std::string nkey = S("sequence ") + tschema + "." + nname;
    if (!nname.empty() && to_.get(nkey) != nullptr && !from_doc_.contains(nkey)) {
        rename_step(order, nkey, S("ALTER SEQUENCE ") + ident + " RENAME TO " + nname + ";",
                    S("ALTER SEQUENCE ") + tschema + "." + nname + " RENAME TO " + sname + ";");
        json& cols = from_doc_["table " + t]["columns"];
        for (auto& c : cols)
            if (c.contains("default"))
                c["default"] = replace_word(c["default"].get<std::string>(), ident, S(tschema) + "." + nname);
        rename_from_key(key, nkey);
    }
}

void Engine::rename_table_constraints(const std::string& f, const std::string& t, int& order) {
    std::string tschema = schema_of(t);
    json& tbl = from_doc_["table " + t];
    const json* to_tbl = to_.get("table " + t);
    if (!tbl.contains("constraints") || to_tbl == nullptr) return;
    std::vector<std::string> names;
    for (auto it = tbl["constraints"].begin(); it != tbl["constraints"].end(); ++it) names.push_back(it.key());
    for (const auto& cn : names) {
        std::string nn = derived_name(name_of(f), name_of(t), cn);
        const json& tcons = field(*to_tbl, "constraints");
        if (nn.empty() || !tcons.is_object() || !tcons.contains(nn) || tbl["constraints"].contains(nn)) continue;
        if (to_.get(std::string(S("index ") + tschema + "." + nn)) != nullptr) continue;  // index-backed: renamed above
        rename_step(order, S("constraint ") + nn + " on " + t,
                    "ALTER TABLE " + t + " RENAME CONSTRAINT " + qi(cn) + " TO " + qi(nn) + ";",
                    "ALTER TABLE " + t + " RENAME CONSTRAINT " + qi(nn) + " TO " + qi(cn) + ";");
        tbl["constraints"][nn] = tbl["constraints"][cn];
        tbl["constraints"].erase(cn);
    }
}

void Engine::rename_column(const ColumnRename& c, int& order) {
    if (!from_doc_.contains("table " + c.table)) return;
    json& tbl = from_doc_["table " + c.table];
    const json* to_tbl = to_.get("table " + c.table);
    if (to_tbl == nullptr) return;
    bool has_from = false;
    bool clash = false;
    for (const auto& col : tbl["columns"]) {
        if (str(col, "name") == c.from) has_from = true;
        if (str(col, "name") == c.to) clash = true;
    }
    bool in_to = false;
    for (const auto& col : field(*to_tbl, "columns"))
        if (str(col, "name") == c.to) in_to = true;
    if (!has_from || clash || !in_to) return;
    rename_step(order, "column " + c.table + "." + c.to,
                "ALTER TABLE " + c.table + " RENAME COLUMN " + qi(c.from) + " TO " + qi(c.to) + ";",
                "ALTER TABLE " + c.table + " RENAME COLUMN " + qi(c.to) + " TO " + qi(c.from) + ";");
    for (auto& col : tbl["columns"])
        if (str(col, "name") == c.from) col["name"] = c.to;
    if (tbl.contains("constraints") && tbl["constraints"].is_object())
        for (auto& [cn, cdef] : tbl["constraints"].items())
            cdef = replace_word(cdef.get<std::string>(), qi(c.from), qi(c.to));
    rename_column_in_objects(c);
    changed_tables_.insert(c.table);
}

void Engine::rename_column_in_objects(const ColumnRename& c) {
    for (auto& [key, d] : from_doc_.items()) {
        if (key.rfind("index ", 0) == 0 && index_table(str(d, "definition")) == c.table) {
            std::string def = str(d, "definition");
            auto using_pos = def.find(" USING ");
            if (using_pos != std::string::npos)
                d["definition"] = def.substr(0, using_pos) + replace_word(def.substr(using_pos), qi(c.from), qi(c.to));
        }
        if (key.rfind("sequence ", 0) == 0 && str(field(d, "sequence"), "owned_by") == c.table + "." + c.from)
            d["sequence"]["owned_by"] = c.table + "." + c.to;
        // triggers (UPDATE OF col, WHEN) and policies of the table name the column too
        const std::string on_table = " on " + c.table;
        if ((key.rfind("trigger ", 0) == 0 || key.rfind("policy ", 0) == 0) && key.size() > on_table.size() &&
            key.compare(key.size() - on_table.size(), on_table.size(), on_table) == 0) {
            if (d.contains("definition")) {
                std::string def = str(d, "definition");
                auto on = def.find(" ON ");
                if (on != std::string::npos)
                    d["definition"] = replace_word(def.substr(0, on), qi(c.from), qi(c.to)) + def.substr(on);
            }
            for (const char* k : {"using", "check"})
                if (d.contains(k)) d[k] = replace_word(str(d, k), qi(c.from), qi(c.to));
        }
    }
}

}  // namespace pgmig::schema_diff::detail
