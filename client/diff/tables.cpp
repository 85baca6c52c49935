// Tables and columns: added, dropped and changed tables, column changes (types, defaults, NOT NULL).
// One file of over 1,000 lines because a column change's steps (type, default, NOT NULL, identity,
// generation) are ordered against each other and against the table's own steps in one place.
#include "client/diff/engine.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <functional>
#include <initializer_list>
#include <map>
#include <set>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>

namespace pgmig::schema_diff::detail {

bool is_widening(const std::string& from, const std::string& to) {
    static const std::map<std::string, int> ints = {{"smallint", 1}, {"integer", 2}, {"bigint", 3}};
    auto fi = ints.find(from);
    auto ti = ints.find(to);
    if (fi != ints.end() && ti != ints.end()) return ti->second > fi->second;
    if (fi != ints.end() && to == "numeric") return true;
    auto param = [](const std::string& t, const std::string& base, std::vector<int>& out) {
        if (t.compare(0, base.size() + 1, base + "(") != 0 || t.back() != ')') return false;
        std::string inner = t.substr(base.size() + 1, t.size() - base.size() - 2);
        out.clear();
        size_t pos = 0;
        while (pos <= inner.size()) {
            auto comma = inner.find(',', pos);
            std::string part = inner.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
            try {
                out.push_back(std::stoi(part));
            } catch (...) {
                return false;
            }
            if (comma == std::string::npos) break;
            pos = comma + 1;
        }
        return true;
    };
    std::vector<int> a;
    std::vector<int> b;
    for (const char* base : {"character varying", "character", "bit varying"}) {
        if (param(from, base, a)) {
            if (to == "text" || to == std::string(base).substr(0, std::string(base).size())) return to == "text";
            if (param(to, base, b) && a.size() == 1 && b.size() == 1) return b[0] >= a[0];
            if (std::string(base) == "character varying" && to == "character varying") return true;
            return false;
        }
    }
    if (from == "character varying" && to == "text") return true;
    if (from == "text" && to == "character varying") return true;
    if (param(from, "numeric", a)) {
        if (to == "numeric") return true;
        if (param(to, "numeric", b) && a.size() == b.size()) {
            if (a.size() == 1) return b[0] >= a[0];
            return b[1] == a[1] && b[0] >= a[0];
        }
        return false;
    }
    if (from == "real" && to == "double precision") return true;
    if (from == "timestamp without time zone" && to == "timestamp with time zone") return false;
    return false;
}

Engine::TableColumns::TableColumns(const std::string& table, const json& from_table, const json& to_table)
    : identity(table), a(from_table), b(to_table), subject_prefix("column " + table + ".") {
    const json& ac = field(a, "columns");
    const json& bc = field(b, "columns");
    if (ac.is_array())
        for (const auto& c : ac) acols.push_back(&c);
    if (bc.is_array())
        for (const auto& c : bc) bcols.push_back(&c);
    for (size_t i = 0; i < acols.size(); ++i) apos[str(*acols[i], "name")] = i;
    for (size_t i = 0; i < bcols.size(); ++i) bpos[str(*bcols[i], "name")] = i;
}

void Engine::diff_columns(const std::string& identity, const json& a, const json& b,
                          const std::map<std::string, std::string>& col_renames) {
    TableColumns cols(identity, a, b);
    bool special = table_is_partitioned_or_partition(b);

    // confirmed column renames
    column_rename_steps(cols, col_renames);
    // probable renames: dropped and added at the same position with the same type
    std::set<std::string> probable_drop = probable_column_renames(cols);

    // a column order the ALTERs cannot reach: reported; with --reorder-columns the table is rebuilt at the end,
    // and its other steps take no safe forms (column_order.cpp)
    if (column_order(identity, a, b, cols.renamed, probable_drop)) special = true;

    // dropped columns, last first: down adds them back in their order
    dropped_column_steps(cols, probable_drop);
    // added columns
    for (const json* c : cols.bcols) {
        std::string n = str(*c, "name");
        if (cols.apos.count(n) != 0 || cols.renamed_to.count(n) != 0 || flag(*c, "inherited")) continue;
        add_column_steps(identity, *c, special, cols.subject_prefix + n);
    }
    if (!backfill_sets_.empty()) backfill_update_step(identity, cols.subject_prefix);
    // generated columns that read a column whose type changes: PostgreSQL refuses the type change
    // while they exist, so they are dropped before and added (recomputed) after
    std::set<std::string> regenerated = regenerated_column_steps(cols);
    // changed columns
    for (const json* c : cols.bcols)
        if (regenerated.count(str(*c, "name")) == 0) changed_column_steps(cols, *c, special);
}

void Engine::column_rename_steps(TableColumns& cols, const std::map<std::string, std::string>& col_renames) {
    const std::string& identity = cols.identity;
    for (const auto& [old_name, new_name] : col_renames)
        if (cols.apos.count(old_name) != 0 && cols.bpos.count(new_name) != 0 && cols.bpos.count(old_name) == 0 &&
            cols.apos.count(new_name) == 0) {
            cols.renamed[old_name] = new_name;
            Step s;
            s.bucket = b_column;
            s.subject = cols.subject_prefix + new_name;
            s.up.push_back("ALTER TABLE " + identity + " RENAME COLUMN " + qi(old_name) + " TO " + qi(new_name) + ";");
            s.down.push_back("ALTER TABLE " + identity + " RENAME COLUMN " + qi(new_name) + " TO " + qi(old_name) +
                             ";");
            add(std::move(s));
        }
    for (const auto& [o, n] : cols.renamed) cols.renamed_to.insert(n);
}

std::set<std::string> Engine::probable_column_renames(const TableColumns& cols) {
    const std::string& identity = cols.identity;
    const auto& acols = cols.acols;
    const auto& bcols = cols.bcols;
    std::set<std::string> probable_drop;
    if (options_.no_renames) return probable_drop;
    for (size_t i = 0; i < acols.size(); ++i) {
        std::string n = str(*acols[i], "name");
        if (cols.bpos.count(n) != 0 || cols.renamed.count(n) != 0 || flag(*acols[i], "inherited")) continue;
        if (i < bcols.size()) {
            std::string m = str(*bcols[i], "name");
            if (cols.apos.count(m) == 0 && cols.renamed_to.count(m) == 0 &&
                str(*bcols[i], "type") == str(*acols[i], "type")) {
                probable_drop.insert(n);
                result_.probable_renames.push_back({"column", S(identity) + "." + n, S(identity) + "." + m,
                                                    S("in ") + identity + ", column " + n + " is dropped and " + m +
                                                        " added with the same type (" + str(*acols[i], "type") +
                                                        ") at the same position"});
            }
        }
    }
    return probable_drop;
}

void Engine::dropped_column_steps(const TableColumns& cols, const std::set<std::string>& probable_drop) {
    const std::string& identity = cols.identity;
    for (auto rit = cols.acols.rbegin(); rit != cols.acols.rend(); ++rit) {
        const json* c = *rit;
        std::string n = str(*c, "name");
        if (cols.bpos.count(n) != 0 || cols.renamed.count(n) != 0 || flag(*c, "inherited")) continue;
        Step s;
        s.bucket = b_column;
        s.sub = 1;
        s.subject = cols.subject_prefix + n;
        s.up.push_back("ALTER TABLE " + identity + " DROP COLUMN " + qi(n) + ";");
        const Backfill* refill = backfill_for(identity, n);
        if (refill != nullptr && flag(*c, "not_null") && str(*c, "default").empty() && str(*c, "identity").empty() &&
            str(*c, "generated").empty()) {
            // down adds a NOT NULL column back to a table that may have rows: with the --backfill value
            s.down.push_back("ALTER TABLE " + identity + " ADD COLUMN " + column_def_in(from_, identity, *c, false) +
                             ";");
            s.down.push_back(S("UPDATE ") + identity + " SET " + qi(n) + " = " + refill->expression + " WHERE " +
                             qi(n) + " IS NULL;");
            s.down.push_back("ALTER TABLE " + identity + " ALTER COLUMN " + qi(n) + " SET NOT NULL;");
        } else {
            s.down.push_back("ALTER TABLE " + identity + " ADD COLUMN " + column_def_in(from_, identity, *c) + ";");
        }
        if (!str(*c, "comment").empty())
            s.down.push_back("COMMENT ON COLUMN " + identity + "." + qi(n) + " IS " + literal(str(*c, "comment")) +
                             ";");
        if (field(*c, "acl").is_array() && !names_missing_role(acl_set(*c)))  // its privileges come back with it
            acl_transition({}, acl_set(*c), "TABLE", identity, n, owner_name(&cols.a), s.down);
        s.destructive = true;
        s.uses = {str(*c, "type"), str(*c, "default")};
        s.allow_rule = "drop-column";
        bool probable = probable_drop.count(n) != 0;
        s.withhold_always = probable;
        s.reason = probable ? "probably renamed (see probable renames): pass --rename or --no-rename"
                            : "drops the column and its data";
        add(std::move(s));
    }
}

void Engine::backfill_update_step(const std::string& identity, const std::string& subject_prefix) {
    // post, before the checks are validated: the rows the table had get every --backfill value at once
    Step u;
    u.bucket = b_column;
    u.sub = 2;
    u.phase = Phase::post;
    u.subject = subject_prefix + backfill_sets_.front().first;
    std::string sets;
    std::string nulls;
    std::string shown;
    for (const auto& [column, expression] : backfill_sets_) {
        sets += (sets.empty() ? "" : ", ") + column + " = COALESCE(" + column + ", " + expression + ")";
        nulls += (nulls.empty() ? "" : " OR ") + column + " IS NULL";
        shown += (shown.empty() ? "" : ", ") + column + " = " + expression;
    }
    if (shown.size() > 100) shown = shown.substr(0, 97) + "...";
    u.up.push_back(S("-- pgmig diff: the rows ") + comment_text(identity) + " has get --backfill " +
                   comment_text(shown) + "\nUPDATE " + identity + " SET " + sets + " WHERE " + nulls + ";");
    add(std::move(u));
    backfill_sets_.clear();
}

std::set<std::string> Engine::regenerated_column_steps(const TableColumns& cols) {
    const std::string& identity = cols.identity;
    std::set<std::string> regenerated;
    std::vector<std::string> retyped;
    for (const json* c : cols.bcols) {
        auto ap = cols.apos.find(str(*c, "name"));
        if (ap != cols.apos.end() && str(*cols.acols[ap->second], "type") != str(*c, "type"))
            retyped.push_back(str(*c, "name"));
    }
    for (const json* c : cols.bcols) {
        auto ap = cols.apos.find(str(*c, "name"));
        if (ap == cols.apos.end() || retyped.empty()) continue;
        const json& o = *cols.acols[ap->second];
        std::string expr = str(o, "generated");
        if (expr.empty() || str(*c, "generated").empty()) continue;
        bool reads = std::any_of(retyped.begin(), retyped.end(),
                                 [&](const std::string& r) { return replace_word(expr, qi(r), "\x01") != expr; });
        if (!reads) continue;
        std::string n = str(*c, "name");
        regenerated.insert(n);
        Step d;
        d.bucket = b_column;
        d.sub = -5;
        d.subject = cols.subject_prefix + n;
        d.up.push_back(S("-- pgmig diff: a generated column over a retyped column is recomputed\n-- pgmig:allow "
                         "drop-column\nALTER TABLE ") +
                       identity + " DROP COLUMN " + qi(n) + ";");
        d.down.push_back(S("ALTER TABLE ") + identity + " ADD COLUMN " + column_def(o) + ";");
        add(std::move(d));
        Step a2;
        a2.bucket = b_column;
        a2.sub = 10;
        a2.subject = cols.subject_prefix + n;
        a2.up.push_back(
            S("-- pgmig diff: a generated column is recomputed\n-- pgmig:allow add-column-volatile-default\n"
              "ALTER TABLE ") +
            identity + " ADD COLUMN " + column_def(*c) + ";");
        a2.down.push_back(S("ALTER TABLE ") + identity + " DROP COLUMN " + qi(n) + ";");
        add(std::move(a2));  // (it moves to the end of the table: column_order() reports that)
    }
    return regenerated;
}

void Engine::changed_column_steps(const TableColumns& cols, const json& c, bool special) {
    std::string n = str(c, "name");
    std::string old_name = n;
    for (const auto& [o, nn] : cols.renamed)
        if (nn == n) old_name = o;
    auto ap = cols.apos.find(old_name);
    if (ap == cols.apos.end()) return;
    const json& o = *cols.acols[ap->second];
    if (flag(c, "inherited")) {
        if (flag(o, "inherited")) inherited_default_change(cols.identity, cols.a, cols.b, o, c);
        return;
    }
    const KeptColumn k{cols.identity, o, c, n, cols.identity + " ALTER COLUMN " + qi(n), cols.subject_prefix + n};
    std::string otype = str(o, "type");
    std::string ntype = str(c, "type");
    if (str(o, "collation") != str(c, "collation") && otype == ntype) ntype += "";
    bool generated_changed = str(o, "generated") != str(c, "generated");
    if (generated_changed) {
        generated_expression_step(k);
        return;
    }
    bool type_changed = relocated_type(otype) != ntype || str(o, "collation") != str(c, "collation");
    identity_change_step(k);
    if (type_changed)
        column_type_step(k);
    else
        column_default_steps(k);
    identity_added_step(k);
    not_null_step(k, special);
}

void Engine::generated_expression_step(const KeptColumn& k) {
    const std::string& identity = k.table;
    Step s;
    s.bucket = b_column;
    s.subject = k.subject;
    s.up.push_back("-- pgmig diff: a generated column is recomputed\n-- pgmig:allow drop-column\nALTER TABLE " +
                   identity + " DROP COLUMN " + qi(k.name) + ";");
    s.up.push_back(
        "-- pgmig diff: no safe form for this step here\n-- pgmig:allow add-column-volatile-default\nALTER "
        "TABLE " +
        identity + " ADD COLUMN " + column_def(k.to) + ";");
    s.down.push_back("ALTER TABLE " + identity + " DROP COLUMN " + qi(k.name) + ";");
    s.down.push_back("ALTER TABLE " + identity + " ADD COLUMN " + column_def(k.from) + ";");
    add(std::move(s));  // (it moves to the end of the table: column_order() reports that)
}

void Engine::identity_change_step(const KeptColumn& k) {
    std::string oident = str(k.from, "identity");
    std::string nident = str(k.to, "identity");
    if (oident == nident || oident.empty()) return;
    const std::string& col = k.alter;
    Step s;
    s.bucket = b_column;
    s.sub = -1;
    s.subject = k.subject;
    if (nident.empty()) {
        s.up.push_back("ALTER TABLE " + col + " DROP IDENTITY;");
        s.down.push_back("ALTER TABLE " + col + " ADD GENERATED " +
                         std::string(oident == "a" ? "ALWAYS" : "BY DEFAULT") + " AS IDENTITY" +
                         identity_sequence_option(from_, k.table, k.name) + ";");
    } else {
        s.up.push_back("ALTER TABLE " + col + " SET GENERATED " + std::string(nident == "a" ? "ALWAYS" : "BY DEFAULT") +
                       ";");
        s.down.push_back("ALTER TABLE " + col + " SET GENERATED " +
                         std::string(oident == "a" ? "ALWAYS" : "BY DEFAULT") + ";");
    }
    add(std::move(s));
}

void Engine::column_type_step(const KeptColumn& k) {
    const json& o = k.from;
    const json& c = k.to;
    const std::string& n = k.name;
    const std::string& col = k.alter;
    std::string otype = str(o, "type");
    std::string ntype = str(c, "type");
    std::string odef = str(o, "default");
    std::string ndef = str(c, "default");
    Step s;
    s.bucket = b_column;
    s.subject = k.subject;
    if (!odef.empty()) {
        s.up.push_back("ALTER TABLE " + col + " DROP DEFAULT;");
    }
    std::string coll_n = str(c, "collation").empty() ? "" : " COLLATE " + qi(str(c, "collation"));
    std::string coll_o = str(o, "collation").empty() ? "" : " COLLATE " + qi(str(o, "collation"));
    bool widening = is_widening(otype, ntype) && coll_n == coll_o;
    std::string using_n = " USING " + qi(n) + "::" + ntype;
    std::string using_o = " USING " + qi(n) + "::" + otype;
    // enums and other types without a cast from the old one go through text
    if (otype.find('.') != std::string::npos || ntype.find('.') != std::string::npos) {
        using_n = " USING " + qi(n) + "::text::" + ntype;
        using_o = " USING " + qi(n) + "::text::" + otype;
    }
    s.up.push_back(S("-- pgmig diff: no safe form for this step here\n-- pgmig:allow alter-column-type\nALTER TABLE ") +
                   col + " TYPE " + ntype + coll_n + using_n + ";");
    if (!ndef.empty()) s.up.push_back(S("ALTER TABLE ") + col + " SET DEFAULT " + ndef + ";");
    if (!ndef.empty()) s.down.push_back("ALTER TABLE " + col + " DROP DEFAULT;");
    s.down.push_back(S("ALTER TABLE ") + col + " TYPE " + otype + coll_o + using_o + ";");
    if (!odef.empty()) s.down.push_back(S("ALTER TABLE ") + col + " SET DEFAULT " + odef + ";");
    if (!widening) {
        s.destructive = true;
        s.allow_rule = "alter-column-type";
        s.reason = S("changes the type from ") + otype + " to " + ntype + ", which may lose data or fail";
    }
    add(std::move(s));
}

void Engine::column_default_steps(const KeptColumn& k) {
    const std::string& col = k.alter;
    std::string odef = str(k.from, "default");
    std::string ndef = str(k.to, "default");
    if (odef != ndef && odef.find('(') != std::string::npos) {
        // the old default may call a function this diff drops or overloads: it goes first
        Step e;
        e.bucket = b_drop_index;
        e.subject = k.subject;
        e.up.push_back(S("ALTER TABLE ") + col + " DROP DEFAULT;");
        e.down.push_back(S("ALTER TABLE ") + col + " SET DEFAULT " + odef + ";");
        add(std::move(e));
        if (!ndef.empty()) {
            Step s;
            s.bucket = b_column;
            s.subject = k.subject;
            s.up.push_back(S("ALTER TABLE ") + col + " SET DEFAULT " + ndef + ";");
            s.down.push_back(S("ALTER TABLE ") + col + " DROP DEFAULT;");
            if (uses_new_enum_value(ndef)) s.phase = Phase::post;
            add(std::move(s));
        }
    } else if (odef != ndef) {
        Step s;
        s.bucket = b_column;
        s.subject = k.subject;
        s.up.push_back("ALTER TABLE " + col + (ndef.empty() ? " DROP DEFAULT;" : " SET DEFAULT " + ndef + ";"));
        s.down.push_back("ALTER TABLE " + col + (odef.empty() ? " DROP DEFAULT;" : " SET DEFAULT " + odef + ";"));
        if (uses_new_enum_value(ndef)) s.phase = Phase::post;
        add(std::move(s));
    }
}

void Engine::identity_added_step(const KeptColumn& k) {
    std::string oident = str(k.from, "identity");
    std::string nident = str(k.to, "identity");
    if (oident == nident || !oident.empty()) return;
    Step s;
    s.bucket = b_column;
    s.sub = 3;
    s.subject = k.subject;
    s.up.push_back("ALTER TABLE " + k.alter + " ADD GENERATED " + std::string(nident == "a" ? "ALWAYS" : "BY DEFAULT") +
                   " AS IDENTITY" + identity_sequence_option(to_, k.table, k.name) + ";");
    s.down.push_back("ALTER TABLE " + k.alter + " DROP IDENTITY;");
    add(std::move(s));
}

void Engine::not_null_step(const KeptColumn& k, bool special) {
    bool onn = flag(k.from, "not_null");
    bool nnn = flag(k.to, "not_null");
    if (onn == nnn || (nnn && !str(k.to, "identity").empty() && str(k.from, "identity").empty())) return;
    if (nnn && options_.safe_forms && !special) {
        safe_set_not_null(k.table, k.name);
        return;
    }
    Step s;
    s.bucket = b_column;
    s.sub = 4;
    s.subject = k.subject;
    s.up.push_back("ALTER TABLE " + k.alter + (nnn ? " SET NOT NULL;" : " DROP NOT NULL;"));
    s.down.push_back("ALTER TABLE " + k.alter + (onn ? " SET NOT NULL;" : " DROP NOT NULL;"));
    add(std::move(s));
}

const Backfill* Engine::backfill_for(const std::string& identity, const std::string& column) const {
    for (const auto& b : options_.backfills)
        if (b.table == identity && b.column == column) return &b;
    return nullptr;
}

// "public.t has 3 rows", "... more than 10000 rows", "the rows of public.t are unknown: ..."
std::string Engine::rows_phrase(const std::string& identity) const {
    auto it = options_.table_rows.find(identity);
    if (it == options_.table_rows.end()) return "the rows of " + identity + " were not counted";
    const TableRows& r = it->second;
    if (r.rows < 0) return "the rows of " + identity + " are unknown (" + r.unknown + ")";
    if (r.at_least) return fmt::format("{} has more than {} rows", identity, r.rows);
    return fmt::format("{} has {} row{}", identity, r.rows, r.rows == 1 ? "" : "s");
}

bool Engine::known_empty(const std::string& identity) const {
    auto it = options_.table_rows.find(identity);
    return it != options_.table_rows.end() && it->second.rows == 0;
}

// The comment lines above an ADD COLUMN whose values are computed when it is added: a default that calls a
// function, identity, a generated column. PostgreSQL 11+ stores a non-volatile default once; a volatile
// one (and identity, generated) gets a value per row: a rewrite of the table under ACCESS EXCLUSIVE.
// The engine reads no catalog: the functions it knows are named, any other may be volatile.
std::string Engine::computed_column_comment(const std::string& identity, const json& c) {
    static const char* const volatile_calls[] = {
        "nextval(", "gen_random_uuid(", "uuid_generate_v1(", "uuid_generate_v1mc(", "uuid_generate_v4(",
        "random(",  "clock_timestamp(", "timeofday(",        "random_normal("};
    static const char* const stable_calls[] = {"now()", "transaction_timestamp()", "statement_timestamp()"};
    const std::string def = str(c, "default");
    const std::string table = comment_text(identity);
    std::string shown = def.size() > 80 ? def.substr(0, 77) + "..." : def;
    shown = comment_text(shown);
    std::string why;
    if (!str(c, "identity").empty() || !str(c, "generated").empty()) {
        why = "warning: an identity or generated column gets a value for every row: PostgreSQL rewrites " + table +
              " under an ACCESS EXCLUSIVE lock";
    } else if (std::any_of(std::begin(volatile_calls), std::end(volatile_calls),
                           [&](const char* f) { return def.find(f) != std::string::npos; })) {
        why = "warning: DEFAULT " + shown + " is volatile: PostgreSQL rewrites " + table +
              " (every row gets its own value) under an ACCESS EXCLUSIVE lock";
    } else {
        std::string rest = def;
        for (const char* f : stable_calls)
            for (auto p = rest.find(f); p != std::string::npos; p = rest.find(f)) rest.erase(p, std::strlen(f));
        // a call is a name before '(' (a bare '(' groups): none left, nothing can be volatile
        bool calls = false;
        for (size_t i = rest.find('('); i != std::string::npos && !calls; i = rest.find('(', i + 1)) {
            size_t k = i;
            while (k > 0 && rest[k - 1] == ' ') --k;
            calls = k > 0 && (std::isalnum(static_cast<unsigned char>(rest[k - 1])) != 0 || rest[k - 1] == '_' ||
                              rest[k - 1] == '"');
        }
        if (!calls)
            why = "DEFAULT " + shown + " is stable: PostgreSQL stores it once, " + table + " is not rewritten";
        else
            why = "warning: if DEFAULT " + shown + " is volatile, PostgreSQL rewrites " + table +
                  " under an ACCESS EXCLUSIVE lock (a stable or immutable default is stored once)";
    }
    return "-- pgmig diff: " + why + "\n-- pgmig:allow add-column-volatile-default\n";
}

// An added column. A NOT NULL one without a default (nor identity, nor generation expression) on a table with rows
// cannot be added by any order: the rows have no value. With a --backfill it is added nullable, filled, and made
// NOT NULL by the safe form; on a table counted empty it is a plain ADD COLUMN ... NOT NULL; otherwise it is added
// nullable and its NOT NULL withheld (the client exits 60). See docs/diff.md.
void Engine::add_column_steps(const std::string& identity, const json& c, bool special, const std::string& subject) {
    const std::string n = str(c, "name");
    const bool nn = flag(c, "not_null") && str(c, "identity").empty();
    const bool computed =
        !str(c, "identity").empty() || !str(c, "generated").empty() || str(c, "default").find('(') != std::string::npos;
    const bool no_value = nn && str(c, "default").empty() && str(c, "generated").empty();
    Step s;
    s.bucket = b_column;
    s.sub = 2;
    s.subject = subject;
    s.down.push_back("ALTER TABLE " + identity + " DROP COLUMN " + qi(n) + ";");
    const Backfill* backfill = no_value && options_.safe_forms ? backfill_for(identity, n) : nullptr;
    if (!no_value || !options_.safe_forms || (backfill == nullptr && known_empty(identity))) {
        // one statement: with its default (PostgreSQL 11+ stores a non-volatile one without a rewrite), or on an
        // empty table, or recorded and never run (safe_forms = false: drift --adopt)
        std::string sql = S("ALTER TABLE ") + identity + " ADD COLUMN " + column_def_in(to_, identity, c) + ";";
        if (computed) sql = computed_column_comment(identity, c) + sql;
        if (no_value)
            sql = S("-- pgmig diff: ") + comment_text(identity) +
                  (options_.safe_forms ? " had no rows when this was generated (the statement fails if it has some)"
                                       : ": no safe form for this step here") +
                  "\n-- pgmig:allow add-column-not-null-no-default\n" + sql;
        if (uses_new_enum_value(sql)) s.phase = Phase::post;
        s.up.push_back(std::move(sql));
        add(std::move(s));
        return;
    }
    // nullable first: whatever names the column (constraints, indexes, views) comes after it
    std::string sql = S("ALTER TABLE ") + identity + " ADD COLUMN " + column_def_in(to_, identity, c, false) + ";";
    if (computed) sql = computed_column_comment(identity, c) + sql;
    if (uses_new_enum_value(sql)) s.phase = Phase::post;
    s.up.push_back(std::move(sql));
    add(std::move(s));
    if (backfill == nullptr) {
        Step w;
        w.bucket = b_column;
        w.sub = 3;
        w.subject = subject;
        w.needs_value = true;
        w.up.push_back("ALTER TABLE " + identity + " ALTER COLUMN " + qi(n) + " SET NOT NULL;");
        w.reason = rows_phrase(identity) + " and the new NOT NULL column " + n +
                   " has no default, so no order of statements can add it: it is added nullable and its NOT NULL "
                   "withheld. Add a default to the desired schema, or backfill the column in a migration of your own "
                   "and generate again, or pass --backfill '" +
                   identity + "." + qi(n) + "=EXPRESSION'";
        add(std::move(w));
        return;
    }
    const std::string update =
        S("-- pgmig diff: the rows ") + comment_text(identity) + " has get " +
        comment_text(backfill->expression.size() > 80 ? backfill->expression.substr(0, 77) + "..."
                                                      : backfill->expression) +
        " (--backfill)\nUPDATE " + identity + " SET " + qi(n) + " = " + backfill->expression + " WHERE " + qi(n) +
        " IS NULL;";
    if (special) {
        // partitioned tables and partitions: no NOT VALID check to lean on; all in the transaction
        Step b;
        b.bucket = b_column;
        b.sub = 3;
        b.subject = subject;
        b.up.push_back(update);
        b.up.push_back("ALTER TABLE " + identity + " ALTER COLUMN " + qi(n) + " SET NOT NULL;");
        b.down.push_back("ALTER TABLE " + identity + " ALTER COLUMN " + qi(n) + " DROP NOT NULL;");
        add(std::move(b));
        return;
    }
    // main: the check refuses new rows without a value from now on; post: the rows there were get the backfill
    // (row locks only), then VALIDATE (no ACCESS EXCLUSIVE), SET NOT NULL (which the valid check spares a scan)
    backfill_sets_.emplace_back(qi(n), backfill->expression);
    safe_set_not_null(identity, n, 3, subject);
}

void Engine::diff_tables() {
    // confirmed renames were applied to `from` by apply_renames()
    std::map<std::string, std::map<std::string, std::string>> col_renames;
    std::set<std::string> added;
    std::set<std::string> dropped;
    for (const auto& [key_view, d] : to_.objects) {
        const std::string key(key_view);
        const auto key_parts = split_key(key);
        const std::string& type = key_parts.first;
        const std::string& ident = key_parts.second;
        if (type != "table") continue;  // foreign tables: foreign.cpp
        if (from_.get(key) == nullptr) {
            bool via_rename = std::any_of(table_renames_.begin(), table_renames_.end(),
                                          [&](const auto& p) { return p.second == ident; });
            if (!via_rename) added.insert(ident);
        }
    }
    for (const auto& [key_view, d] : from_.objects) {
        const std::string key(key_view);
        const auto key_parts = split_key(key);
        const std::string& type = key_parts.first;
        const std::string& ident = key_parts.second;
        if (type != "table") continue;  // foreign tables: foreign.cpp
        if (to_.get(key) == nullptr && table_renames_.count(ident) == 0) dropped.insert(ident);
    }
    // probable table renames: same columns (names and types)
    std::set<std::string> probable;
    if (!options_.no_renames) {
        auto signature = [](const json& t) {
            std::string sig = str(t, "kind") + "|";
            for (const auto& c : field(t, "columns")) sig += str(c, "name") + ":" + str(c, "type") + ",";
            return sig;
        };
        std::multimap<std::string, std::string> added_by_sig;
        for (const auto& a : added) added_by_sig.emplace(signature(*to_.get("table " + a)), a);
        for (const auto& d : dropped) {
            const json* t = from_.get("table " + d);
            if (t == nullptr) continue;
            auto range = added_by_sig.equal_range(signature(*t));
            for (auto it = range.first; it != range.second; ++it) {
                probable.insert(d);
                result_.probable_renames.push_back(
                    {"table", d, it->second,
                     "table " + d + " is dropped and " + it->second + " added with the same columns"});
                break;
            }
        }
    }
    for (const auto& [f, t] : table_renames_) {
        Step s;
        s.bucket = b_table;
        s.sub = -100;
        s.subject = "table " + t;
        auto dot = t.rfind('.');
        std::string new_name = dot == std::string::npos ? t : t.substr(dot + 1);
        auto fdot = f.rfind('.');
        std::string old_name = fdot == std::string::npos ? f : f.substr(fdot + 1);
        std::string tschema = dot == std::string::npos ? "" : t.substr(0, dot);
        std::string fschema = fdot == std::string::npos ? "" : f.substr(0, fdot);
        s.up.push_back(S("ALTER TABLE ") + f + " RENAME TO " + new_name + ";");
        if (tschema != fschema)
            s.up.push_back(S("ALTER TABLE ") + fschema + "." + new_name + " SET SCHEMA " + tschema + ";");
        if (tschema != fschema) s.down.push_back(S("ALTER TABLE ") + t + " SET SCHEMA " + fschema + ";");
        s.down.push_back(S("ALTER TABLE ") + fschema + "." + new_name + " RENAME TO " + old_name + ";");
        add(std::move(s));
    }
    for (const auto& ident : added) {
        emit_table_created(ident, *to_.get("table " + ident));
    }
    if (options_.allow_destructive) {
        std::set<std::string> droppable;
        for (const auto& d : dropped)
            if (probable.count(d) == 0) droppable.insert(d);
        early_drops_ = name_clashing_drops(droppable);
    }
    for (const auto& ident : dropped) {
        emit_table_dropped(ident, *from_.get("table " + ident), probable.count(ident) != 0);
    }
    // tables in both (or renamed)
    std::vector<std::pair<std::string, std::string>> both;  // from identity, to identity
    for (const auto& [key_view, d] : to_.objects) {
        const std::string key(key_view);
        const auto key_parts = split_key(key);
        const std::string& type = key_parts.first;
        const std::string& ident = key_parts.second;
        if (type != "table") continue;
        if (from_.get(key) != nullptr) both.emplace_back(ident, ident);
    }
    for (const auto& [f, t] : table_renames_) both.emplace_back(f, t);
    for (const auto& fi_ti : both) {
        const std::string& fi = fi_ti.first;
        const std::string& ti = fi_ti.second;
        const json& a = *from_.get("table " + fi);
        const json& b = *to_.get("table " + ti);
        if (a == b && fi == ti) continue;
        auto cr = col_renames.find(ti);
        static const std::map<std::string, std::string> none;
        diff_columns(ti, a, b, cr == col_renames.end() ? none : cr->second);
        const json& pa = field(a, "partition_of");
        const json& pb = field(b, "partition_of");
        if (str(a, "kind") == str(b, "kind") && str(a, "partition_key") == str(b, "partition_key") &&
            field(a, "inherits") == field(b, "inherits") && pa != pb) {
            // a table attached to or detached from a partitioned table (also moved between two): the columns are
            // the same, only the link changes. Becoming partitioned, a new key or inheritance stay unsupported.
            auto bound = [](const json& p) {
                return p.size() > 1 && p[1].is_string() ? p[1].get<std::string>() : std::string("DEFAULT");
            };
            auto attached = [](const json& p) { return p.is_array() && !p.empty() && p[0].is_string(); };
            Step s;
            s.bucket = b_table;
            s.sub = 1000;  // after every table is created: the parent may be new
            s.subject = "table " + ti;
            if (attached(pa)) {
                s.up.push_back("ALTER TABLE " + pa[0].get<std::string>() + " DETACH PARTITION " + ti + ";");
                s.down.insert(s.down.begin(), "ALTER TABLE " + pa[0].get<std::string>() + " ATTACH PARTITION " + ti +
                                                  " " + bound(pa) + ";");
            }
            if (attached(pb)) {
                s.up.push_back("ALTER TABLE " + pb[0].get<std::string>() + " ATTACH PARTITION " + ti + " " + bound(pb) +
                               ";");
                s.down.insert(s.down.begin(),
                              "ALTER TABLE " + pb[0].get<std::string>() + " DETACH PARTITION " + ti + ";");
            }
            add(std::move(s));
        } else if (str(a, "kind") != str(b, "kind") || str(a, "partition_key") != str(b, "partition_key") || pa != pb ||
                   field(a, "inherits") != field(b, "inherits"))
            result_.unsupported.push_back("table " + ti +
                                          ": its partitioning or inheritance changes; pgmig diff cannot write that");
        if ((str(a, "persistence") == "u") != (str(b, "persistence") == "u")) {  // absent: p (logged)
            Step s;
            s.bucket = b_column;
            s.subject = "table " + ti;
            bool unlogged = str(b, "persistence") == "u";
            s.up.push_back("ALTER TABLE " + ti + (unlogged ? " SET UNLOGGED;" : " SET LOGGED;"));
            s.down.push_back("ALTER TABLE " + ti + (unlogged ? " SET LOGGED;" : " SET UNLOGGED;"));
            add(std::move(s));
        }
        if (field(a, "options") != field(b, "options")) {
            Step s;
            s.bucket = b_column;
            s.subject = "table " + ti;
            auto opts = [](const json& d) {
                std::vector<std::string> out;
                if (field(d, "options").is_array())
                    for (const auto& o : field(d, "options")) out.push_back(o.get<std::string>());
                return out;
            };
            auto names = [](const std::vector<std::string>& o) {
                std::string s2;
                for (const auto& x : o) s2 += (s2.empty() ? "" : ", ") + x.substr(0, x.find('='));
                return s2;
            };
            auto joined = [](const std::vector<std::string>& o) {
                std::string s2;
                for (const auto& x : o) s2 += (s2.empty() ? "" : ", ") + x;
                return s2;
            };
            auto ao = opts(a);
            auto bo = opts(b);
            if (!ao.empty()) s.up.push_back("ALTER TABLE " + ti + " RESET (" + names(ao) + ");");
            if (!bo.empty()) s.up.push_back("ALTER TABLE " + ti + " SET (" + joined(bo) + ");");
            if (!bo.empty()) s.down.push_back("ALTER TABLE " + ti + " RESET (" + names(bo) + ");");
            if (!ao.empty()) s.down.push_back("ALTER TABLE " + ti + " SET (" + joined(ao) + ");");
            add(std::move(s));
        }
        auto rls = [&](const char* key, const std::string& on, const std::string& off) {
            if (flag(a, key) == flag(b, key)) return;
            Step s;
            s.bucket = b_rls;
            s.subject = S("table ") + ti;
            s.up.push_back(S("ALTER TABLE ") + ti + (flag(b, key) ? on : off));
            s.down.push_back(S("ALTER TABLE ") + ti + (flag(a, key) ? on : off));
            add(std::move(s));
        };
        rls("row_security", " ENABLE ROW LEVEL SECURITY;", " DISABLE ROW LEVEL SECURITY;");
        rls("force_row_security", " FORCE ROW LEVEL SECURITY;", " NO FORCE ROW LEVEL SECURITY;");
        table_extras(ti, &a, &b, false);
        // which tables have columns that change type or go away (their views are rebuilt)
        std::map<std::string, std::string> at;
        for (const auto& c : field(a, "columns")) at[str(c, "name")] = str(c, "type");
        for (const auto& c : field(b, "columns")) {
            auto it = at.find(str(c, "name"));
            if (it != at.end() && it->second != str(c, "type")) changed_tables_.insert(fi);
            if (it != at.end()) at.erase(it);
        }
        if (!at.empty()) changed_tables_.insert(fi);
        if (fi != ti) changed_tables_.insert(fi);
    }
}

std::string Engine::column_def_in(const Snapshot& s, const std::string& table, const json& c, bool with_not_null) {
    std::string sql = column_def(c, with_not_null);
    if (str(c, "identity").empty()) return sql;
    std::string option = identity_sequence_option(s, table, str(c, "name"));
    auto at = sql.rfind(" AS IDENTITY");
    if (!option.empty() && at != std::string::npos) sql.insert(at + 12, option);
    return sql;
}

std::string Engine::create_table_sql(const std::string& identity, const json& t) {
    std::string kind = str(t, "kind");
    std::string sql = "CREATE ";
    if (str(t, "persistence") == "u") sql += "UNLOGGED ";
    sql += "TABLE " + identity;
    std::vector<std::string> parts;
    const json& cols = field(t, "columns");
    const json& po = field(t, "partition_of");
    bool partition = po.is_array() && !po.empty();
    if (cols.is_array())
        for (const auto& c : cols) {
            if (flag(c, "inherited")) continue;
            parts.push_back(column_def_in(to_.get("table " + identity) == &t ? to_ : from_, identity, c));
        }
    std::set<std::string> inh = inherited_constraints(t);
    const json& cons = field(t, "constraints");
    if (cons.is_object())
        for (auto it = cons.begin(); it != cons.end(); ++it) {
            std::string def = it->get<std::string>();
            if (inh.count(it.key()) != 0 || is_fk(def) || def.find("NOT VALID") != std::string::npos) continue;
            parts.push_back("CONSTRAINT " + qi(it.key()) + " " + def);
        }
    if (partition) {
        sql += " PARTITION OF " + po[0].get<std::string>();
        if (!parts.empty()) {
            // a partition declares only constraints (its columns come from the parent)
            std::vector<std::string> only_constraints;
            for (const auto& p : parts)
                if (p.rfind("CONSTRAINT ", 0) == 0) only_constraints.push_back(p);
            parts = only_constraints;
        }
        if (!parts.empty()) {
            sql += " (";
            for (size_t i = 0; i < parts.size(); ++i) sql += (i ? ", " : "") + parts[i];
            sql += ")";
        }
        sql += " " + (po.size() > 1 && po[1].is_string() ? po[1].get<std::string>() : std::string("DEFAULT"));
    } else {
        sql += " (";
        for (size_t i = 0; i < parts.size(); ++i) sql += (i ? ",\n    " : "\n    ") + parts[i];
        sql += parts.empty() ? ")" : "\n)";
        const json& inhs = field(t, "inherits");
        if (inhs.is_array() && !inhs.empty()) {
            sql += " INHERITS (";
            for (size_t i = 0; i < inhs.size(); ++i) sql += (i ? ", " : "") + inhs[i].get<std::string>();
            sql += ")";
        }
    }
    if (kind == "p") sql += " PARTITION BY " + str(t, "partition_key");
    const json& opts = field(t, "options");
    if (opts.is_array() && !opts.empty()) {
        sql += " WITH (";
        for (size_t i = 0; i < opts.size(); ++i) sql += (i ? ", " : "") + opts[i].get<std::string>();
        sql += ")";
    }
    return sql + ";";
}

const json* Engine::parent_column(const Snapshot& s, const json& t, const std::string& name) {
    // the partitioned table, or the INHERITS list in order (the first parent that has the column)
    const json& po = field(t, "partition_of");
    const json& inhs = field(t, "inherits");
    for (const json* list : {&po, &inhs}) {
        if (!list->is_array()) continue;
        for (const auto& p : *list) {
            const json* d = p.is_string() ? s.get("table " + p.get<std::string>()) : nullptr;
            if (d != nullptr)
                for (const auto& pc : field(*d, "columns"))
                    if (str(pc, "name") == name) return &pc;
            if (list == &po) break;  // its second element is the bound
        }
    }
    return nullptr;
}

std::vector<std::string> Engine::inherited_column_fixes(const Snapshot& s, const std::string& identity,
                                                       const json& t) {
    std::vector<std::string> out;
    for (const auto& c : field(t, "columns")) {
        if (!flag(c, "inherited")) continue;
        const std::string name = str(c, "name");
        const json* from_parent = parent_column(s, t, name);
        if (from_parent == nullptr) continue;
        const std::string col = S("ALTER TABLE ONLY ") + identity + " ALTER COLUMN " + qi(name);
        const std::string def = str(c, "default");
        if (def != str(*from_parent, "default"))
            out.push_back(col + (def.empty() ? " DROP DEFAULT;" : " SET DEFAULT " + def + ";"));
        if (flag(c, "not_null") && !flag(*from_parent, "not_null") && str(c, "identity").empty())
            out.push_back(S("ALTER TABLE ") + identity + " ALTER COLUMN " + qi(name) + " SET NOT NULL;");
    }
    return out;
}

void Engine::inherited_default_change(const std::string& identity, const json& a, const json& b, const json& o,
                                      const json& c) {
    const std::string name = str(c, "name");
    const std::string odef = str(o, "default");
    const std::string ndef = str(c, "default");
    const json* pa = parent_column(from_, a, name);
    const json* pb = parent_column(to_, b, name);
    const std::string pdef_a = pa != nullptr ? str(*pa, "default") : odef;
    const std::string pdef_b = pb != nullptr ? str(*pb, "default") : ndef;
    if (pdef_a != pdef_b) {
        // ALTER TABLE parent ... SET/DROP DEFAULT gives the partitions and children the parent's new default
        if (odef == pdef_a && ndef == pdef_b) return;
        result_.unsupported.push_back(S("column ") + identity + "." + name +
                                      ": its default differs from its parent's, whose default changes too; pgmig "
                                      "diff cannot write that (write the ALTER TABLE ONLY by hand)");
        return;
    }
    if (odef == ndef) return;
    Step s;
    s.bucket = b_column;
    s.sub = 5;
    s.subject = S("column ") + identity + "." + name;
    const std::string col = S("ALTER TABLE ONLY ") + identity + " ALTER COLUMN " + qi(name);
    s.up.push_back(col + (ndef.empty() ? " DROP DEFAULT;" : " SET DEFAULT " + ndef + ";"));
    s.down.push_back(col + (odef.empty() ? " DROP DEFAULT;" : " SET DEFAULT " + odef + ";"));
    add(std::move(s));
}

std::vector<Step> Engine::table_create_steps(const std::string& identity, const json& t, bool for_drop) {
    std::vector<Step> out;
    Step s;
    s.bucket = b_table;
    s.sub = depth(for_drop ? from_ : to_, identity);
    s.subject = "table " + identity;
    s.up.push_back(create_table_sql(identity, t));
    for (auto& fix : inherited_column_fixes(for_drop ? from_ : to_, identity, t)) s.up.push_back(std::move(fix));
    s.down.push_back("DROP TABLE " + identity + ";");
    out.push_back(std::move(s));
    // NOT VALID constraints of a new table: added after, as they are
    const json& cons = field(t, "constraints");
    std::set<std::string> inh = inherited_constraints(t);
    if (cons.is_object())
        for (auto it = cons.begin(); it != cons.end(); ++it) {
            std::string def = it->get<std::string>();
            if (inh.count(it.key()) != 0 || is_fk(def) || def.find("NOT VALID") == std::string::npos) continue;
            Step c;
            c.bucket = b_constraint;
            c.subject = "constraint " + it.key() + " on " + identity;
            c.up.push_back(S("ALTER TABLE ") + identity + " ADD CONSTRAINT " + qi(it.key()) + " " + def + ";");
            c.down.push_back("ALTER TABLE " + identity + " DROP CONSTRAINT " + qi(it.key()) + ";");
            out.push_back(std::move(c));
        }
    if (flag(t, "row_security") || flag(t, "force_row_security")) {
        Step r;
        r.bucket = b_rls;
        r.subject = "table " + identity;
        if (flag(t, "row_security")) {
            r.up.push_back("ALTER TABLE " + identity + " ENABLE ROW LEVEL SECURITY;");
            r.down.push_back("ALTER TABLE " + identity + " DISABLE ROW LEVEL SECURITY;");
        }
        if (flag(t, "force_row_security")) {
            r.up.push_back("ALTER TABLE " + identity + " FORCE ROW LEVEL SECURITY;");
            r.down.push_back("ALTER TABLE " + identity + " NO FORCE ROW LEVEL SECURITY;");
        }
        out.push_back(std::move(r));
    }
    return out;
}

void Engine::table_extras(const std::string& identity, const json* from, const json* to, bool foreign) {
    std::string what = foreign ? "FOREIGN TABLE" : "TABLE";
    comment_steps("TABLE", identity, from, to, "table " + identity);
    acl_steps("TABLE", identity, from, to, "table " + identity);
    // columns' comments and ACLs
    std::map<std::string, const json*> fc;
    std::map<std::string, const json*> tc;
    if (from != nullptr && field(*from, "columns").is_array())
        for (const auto& c : field(*from, "columns")) fc[str(c, "name")] = &c;
    if (to != nullptr && field(*to, "columns").is_array())
        for (const auto& c : field(*to, "columns")) tc[str(c, "name")] = &c;
    for (const auto& [name, c] : tc) {
        auto f = fc.find(name);
        const json* fcol = f == fc.end() ? nullptr : f->second;
        comment_steps("COLUMN", S(identity) + "." + qi(name), fcol, c, S("column ") + identity + "." + name);
        acl_steps("TABLE", identity, fcol, c, S("column ") + identity + "." + name, name, to);
    }
    (void)what;
}

void Engine::emit_table_created(const std::string& identity, const json& t) {
    for (auto& s : table_create_steps(identity, t, false)) add(std::move(s));
    table_extras(identity, nullptr, &t, str(t, "kind") == "f");
}

// Dropped tables whose names (their own, their indexes', their constraints' indexes) a relation of `to`
// takes: a table renamed in the desired schema's history keeps its constraints' first names, so a new table
// may create mod_feature_post with the constraint mod_sticky_post_pkey while the dropped mod_sticky_post
// still holds it. Such drops go first (b_drop_table_early), with the partitions and children of such a table.
std::set<std::string> Engine::name_clashing_drops(const std::set<std::string>& dropped) const {
    std::set<std::string> out;
    if (dropped.empty()) return out;
    std::map<std::string, std::vector<std::string>> names;  // dropped table -> schema-qualified relation names
    for (const auto& t : dropped) names[t].push_back(t);
    for (auto it = from_.objects.lower_bound("index "); it != from_.objects.end() && it->first.rfind("index ", 0) == 0;
         ++it) {
        auto n = names.find(index_table(str(*it->second, "definition")));
        if (n != names.end()) n->second.push_back(split_key(it->first).second);
    }
    for (const auto& [table, relations] : names)
        for (const auto& r : relations) {
            // (`to` has no table of the dropped table's name: it would not be dropped)
            for (const char* kind : {"table ", "foreign table ", "index ", "sequence ", "view ", "materialized view ",
                                     "type ", "composite type "})
                if (to_.get(kind + r) != nullptr) out.insert(table);
        }
    // the sequences the dropped tables own go with them: a new relation of another kind may take their names (a
    // sequence of the same name in `to` is the same sequence, kept: released before the drop, sequences.cpp)
    for (auto it = from_.objects.lower_bound("sequence "); it != from_.objects.end() && it->first.rfind("sequence ", 0) == 0;
         ++it) {
        const std::string by = str(field(*it->second, "sequence"), "owned_by");
        if (by.empty()) continue;
        const std::string table = relation_of_identity_qualifier(by);
        if (names.count(table) == 0) continue;
        const std::string r = split_key(it->first).second;
        for (const char* kind : {"table ", "foreign table ", "index ", "view ", "materialized view ", "type ",
                                 "composite type "})
            if (to_.get(kind + r) != nullptr) out.insert(table);
    }
    // partitions and children go with their parent (DROP TABLE of a partitioned table drops its partitions)
    for (bool grew = true; grew;) {
        grew = false;
        for (const auto& t : dropped) {
            if (out.count(t) != 0) continue;
            const json* d = from_.get("table " + t);
            if (d == nullptr) continue;
            std::vector<std::string> parents;
            const json& po = field(*d, "partition_of");
            if (po.is_array() && !po.empty() && po[0].is_string()) parents.push_back(po[0].get<std::string>());
            for (const auto& p : field(*d, "inherits"))
                if (p.is_string()) parents.push_back(p.get<std::string>());
            if (std::any_of(parents.begin(), parents.end(), [&](const std::string& p) { return out.count(p) != 0; })) {
                out.insert(t);
                grew = true;
            }
        }
    }
    return out;
}

void Engine::emit_table_dropped(const std::string& identity, const json& t, bool probable_rename) {
    if (probable_rename || !options_.allow_destructive) kept_tables_.insert(identity);
    // the extras (comments, grants) go with the table; only the table step is mirrored by hand
    for (auto& s : table_create_steps(identity, t, true)) {
        Step m = mirror(std::move(s));
        if (m.up.size() == 1 && m.up[0].rfind("DROP TABLE", 0) == 0) {
            m.destructive = true;
            for (const auto& c : field(t, "columns")) {
                m.uses.push_back(str(c, "type"));
                m.uses.push_back(str(c, "default"));
            }
            m.allow_rule = "drop-table";
            m.reason = probable_rename ? "probably renamed (see probable renames): pass --rename or --no-rename"
                                       : "drops the table and its data";
            m.withhold_always = probable_rename;
            // comments and grants come back with the table in down
            const json& cols = field(t, "columns");
            if (!str(t, "comment").empty())
                m.down.push_back("COMMENT ON TABLE " + identity + " IS " + literal(str(t, "comment")) + ";");
            if (cols.is_array())
                for (const auto& c : cols)
                    if (!str(c, "comment").empty())
                        m.down.push_back("COMMENT ON COLUMN " + identity + "." + qi(str(c, "name")) + " IS " +
                                         literal(str(c, "comment")) + ";");
            append_acl_restore(m.down, "TABLE", identity, t);
        }
        if (early_drops_.count(identity) != 0) {
            // a new relation takes one of its names: the table goes before anything is created, its
            // NOT VALID constraints and row security (mirrored steps of their own) just before it
            bool table_step = m.up.size() == 1 && m.up[0].rfind("DROP TABLE", 0) == 0;
            m.bucket = b_drop_table_early;
            if (!table_step) m.sub -= 1000;
        }
        add(std::move(m));
    }
}

void Engine::safe_set_not_null(const std::string& identity, const std::string& column, int sub,
                               const std::string& subject_of) {
    std::string chk = qi(not_null_check_name(column));
    const std::string subject = subject_of.empty() ? "column " + identity + "." + column : subject_of;
    Step m;
    m.bucket = b_column;
    m.sub = sub;
    m.subject = subject;
    m.up.push_back("ALTER TABLE " + identity + " ADD CONSTRAINT " + chk + " CHECK (" + qi(column) +
                   " IS NOT NULL) NOT VALID;");
    m.down.push_back("ALTER TABLE " + identity + " DROP CONSTRAINT IF EXISTS " + chk + ";");
    add(std::move(m));
    Step p;
    p.bucket = b_column;
    p.sub = sub;
    p.phase = Phase::post;
    p.subject = subject;
    p.up.push_back("ALTER TABLE " + identity + " VALIDATE CONSTRAINT " + chk + ";");
    p.up.push_back("ALTER TABLE " + identity + " ALTER COLUMN " + qi(column) + " SET NOT NULL;");
    p.up.push_back("ALTER TABLE " + identity + " DROP CONSTRAINT " + chk + ";");
    p.down.push_back("ALTER TABLE " + identity + " ADD CONSTRAINT " + chk + " CHECK (" + qi(column) +
                     " IS NOT NULL) NOT VALID;");
    p.down.push_back("ALTER TABLE " + identity + " ALTER COLUMN " + qi(column) + " DROP NOT NULL;");
    // p.down runs in the listed order, which must undo the up in reverse: re-add the check, drop not null
    add(std::move(p));
}

}  // namespace pgmig::schema_diff::detail
