// Column order: a table whose columns end in another order than desired (ALTER TABLE ... ADD COLUMN only appends)
// is reported, never a blocker; with --reorder-columns it is rebuilt (new table, copy, swap) with everything that
// hangs on it. docs/diff.md, "Column order".
#include "client/diff/engine.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace pgmig::schema_diff::detail {

namespace {

// `name` (an identifier as pg_identify_object writes it, quoted when needed) with a suffix, quoted as needed
// and cut to PostgreSQL's 63 bytes (on a character boundary).
std::string suffixed_name(const std::string& quoted, const std::string& suffix) {
    std::string raw = quoted;
    if (raw.size() >= 2 && raw.front() == '"' && raw.back() == '"') {
        std::string unquoted;
        for (size_t i = 1; i + 1 < raw.size(); ++i) {
            unquoted += raw[i];
            if (raw[i] == '"' && raw[i + 1] == '"') ++i;
        }
        raw = unquoted;
    }
    const size_t keep = 63 - suffix.size();
    if (raw.size() > keep) {
        raw.resize(keep);
        while (!raw.empty() && (static_cast<unsigned char>(raw.back()) & 0xC0) == 0x80) raw.pop_back();
        if (!raw.empty() && (static_cast<unsigned char>(raw.back()) & 0x80) != 0) raw.pop_back();
    }
    return qi(raw + suffix);
}

// "schema.name" -> {"schema", "name"}, both as written (the last dot outside double quotes)
std::pair<std::string, std::string> split_qualified(const std::string& identity) {
    bool quoted = false;
    size_t dot = std::string::npos;
    for (size_t i = 0; i < identity.size(); ++i) {
        if (identity[i] == '"') quoted = !quoted;
        if (identity[i] == '.' && !quoted) dot = i;
    }
    if (dot == std::string::npos) return {"", identity};
    return {identity.substr(0, dot), identity.substr(dot + 1)};
}

// A CREATE INDEX / CREATE TRIGGER definition made to name another table (its first " ON <table> ").
std::string retarget(const std::string& def, const std::string& table, const std::string& to) {
    for (const std::string on : {" ON ONLY ", " ON "}) {
        auto at = def.find(on + table + " ");
        if (at != std::string::npos) return def.substr(0, at) + on + to + def.substr(at + on.size() + table.size());
    }
    return def;
}

bool references(const std::string& constraint_def, const std::string& table) {
    return constraint_def.rfind("FOREIGN KEY", 0) == 0 &&
           constraint_def.find("REFERENCES " + table + "(") != std::string::npos;
}

std::string with_options(const json& d) {
    const json& opts = field(d, "options");
    if (!opts.is_array() || opts.empty()) return "";
    std::string out = " WITH (";
    for (size_t i = 0; i < opts.size(); ++i) out += (i ? ", " : "") + opts[i].get<std::string>();
    return out + ")";
}

const std::map<std::string, std::string>& trigger_enable() {
    static const std::map<std::string, std::string> enable = {
        {"D", "DISABLE TRIGGER"}, {"R", "ENABLE REPLICA TRIGGER"}, {"A", "ENABLE ALWAYS TRIGGER"}};
    return enable;
}

}  // namespace

Engine::Rebuild Engine::rebuild_table(const Snapshot& snap, const std::string& identity,
                                      const std::vector<std::string>& order) {
    Rebuild out;
    const std::string table_key = "table " + identity;
    const json* t = snap.get(table_key);
    if (t == nullptr) {
        out.refusal = "it is not a plain table";
        return out;
    }
    if (str(*t, "kind") != "r") {
        out.refusal = "a partitioned table is not rebuilt";
        return out;
    }
    const json& own_inherits = field(*t, "inherits");
    if (field(*t, "partition_of").is_array() || (own_inherits.is_array() && !own_inherits.empty())) {
        out.refusal = "a partition or inheritance child is not rebuilt (its parent decides its columns)";
        return out;
    }
    // what hangs on it or reads it, as the snapshot describes it
    std::vector<std::string> index_keys;
    std::vector<std::string> trigger_keys;
    std::vector<std::string> policy_keys;
    std::vector<std::pair<std::string, std::string>> fks_in;  // another table, its constraint that points here
    std::vector<std::string> sequence_keys;                   // sequences owned by its columns
    for (const auto& [key_view, d] : snap.objects) {
        const std::string key(key_view);
        const auto [type, ident] = split_key(key);
        if (type == "table") {
            if (ident == identity) continue;
            bool child = false;
            const json& po = field(*d, "partition_of");
            if (po.is_array() && !po.empty() && po[0].is_string() && po[0].get<std::string>() == identity) child = true;
            const json& inh = field(*d, "inherits");
            if (inh.is_array())
                for (const auto& p : inh)
                    if (p.is_string() && p.get<std::string>() == identity) child = true;
            if (child) {
                out.refusal = "table " + ident + " is its partition or inherits from it";
                return out;
            }
            const json& cons = field(*d, "constraints");
            if (cons.is_object())
                for (auto it = cons.begin(); it != cons.end(); ++it)
                    if (it->is_string() && references(it->get<std::string>(), identity))
                        fks_in.emplace_back(ident, it.key());
        } else if (type == "index") {
            if (index_table(str(*d, "definition")) == identity && str(*d, "constraint").empty())
                index_keys.push_back(key);
        } else if (type == "trigger" || type == "policy") {
            if (split_on(ident).second == identity) (type == "trigger" ? trigger_keys : policy_keys).push_back(key);
        } else if (type == "sequence") {
            if (str(field(*d, "sequence"), "owned_by").rfind(identity + ".", 0) == 0) sequence_keys.push_back(key);
        } else if (type != "view" && type != "materialized view" && type != "function" && type != "procedure" &&
                   type != "type" && type != "schema" && type != "extension" && type != "aggregate" &&
                   type != "composite type" && d->dump().find(identity) != std::string::npos) {
            // a kind the rebuild does not know (publication, statistics object...) that names the table
            out.refusal = key + " refers to it, and the rebuild cannot carry that over";
            return out;
        }
    }
    // the views over it, transitively, in the order they can be created again
    std::vector<std::string> views;
    std::map<std::string, int> rank;
    {
        std::set<std::string> reached{table_key};
        bool grew = true;
        while (grew) {
            grew = false;
            for (const auto& [key_view, d] : snap.objects) {
                const std::string key(key_view);
                const std::string type = split_key(key).first;
                if ((type != "view" && type != "materialized view") || reached.count(key) != 0) continue;
                const json& deps = field(*d, "depends_on");
                if (!deps.is_array()) continue;
                int r = -1;
                for (const auto& dep : deps)
                    if (dep.is_string() && reached.count(dep.get<std::string>()) != 0)
                        r = std::max(r, dep.get<std::string>() == table_key ? 0 : rank[dep.get<std::string>()] + 1);
                if (r < 0) continue;
                if (type == "materialized view") {
                    out.refusal = key + " reads it (its data would have to be computed again)";
                    return out;
                }
                reached.insert(key);
                views.push_back(key);
                rank[key] = r;
                grew = true;
            }
        }
        // a view read by another one found earlier: rank it again until stable
        for (size_t pass = 0; pass < views.size(); ++pass)
            for (const auto& v : views)
                for (const auto& dep : field(*snap.get(v), "depends_on"))
                    if (dep.is_string() && rank.count(dep.get<std::string>()) != 0)
                        rank[v] = std::max(rank[v], rank[dep.get<std::string>()] + 1);
        std::stable_sort(views.begin(), views.end(), [&](const auto& x, const auto& y) { return rank[x] < rank[y]; });
    }
    std::map<std::string, const json*> cols;
    for (const auto& c : field(*t, "columns")) cols[str(c, "name")] = &c;
    if (order.size() != cols.size() ||
        std::any_of(order.begin(), order.end(), [&](const std::string& n) { return cols.count(n) == 0; })) {
        out.refusal = "its columns are not the ones to order";  // the caller passes the table's own names
        return out;
    }

    const auto [schema, name] = split_qualified(identity);
    const std::string tmp = (schema.empty() ? "" : schema + ".") + suffixed_name(name, "__pgmig_reorder");
    std::vector<std::string>& sql = out.sql;

    // 1. lock; the views over it and the foreign keys that point to it go first
    sql.push_back("LOCK TABLE " + identity + " IN ACCESS EXCLUSIVE MODE;");
    for (auto it = views.rbegin(); it != views.rend(); ++it) sql.push_back("DROP VIEW " + split_key(*it).second + ";");
    for (const auto& [other, con] : fks_in) sql.push_back("ALTER TABLE " + other + " DROP CONSTRAINT " + qi(con) + ";");

    // 2. the new table, columns in order; an identity's sequence under a temporary name, with its options
    std::vector<std::string> parts;
    std::vector<std::pair<std::string, std::string>> identity_seqs;  // the old sequence, the new one
    bool any_identity = false;
    auto owned_by = [&](const std::string& seq_key) { return str(field(*snap.get(seq_key), "sequence"), "owned_by"); };
    for (const auto& n : order) {
        const json& c = *cols[n];
        const std::string ident = str(c, "identity");
        if (ident.empty()) {
            parts.push_back(column_def(c));
            continue;
        }
        any_identity = true;
        json plain = c;
        plain.erase("identity");
        std::string def =
            column_def(plain) + (ident == "a" ? " GENERATED ALWAYS AS IDENTITY" : " GENERATED BY DEFAULT AS IDENTITY");
        for (const auto& k : sequence_keys) {
            if (owned_by(k) != identity + "." + n) continue;
            const std::string old_seq = split_key(k).second;
            const auto [sschema, sname] = split_qualified(old_seq);
            const std::string new_seq =
                (sschema.empty() ? "" : sschema + ".") + suffixed_name(sname, "__pgmig_reorder");
            std::string options = sequence_options(field(*snap.get(k), "sequence"));
            if (options.rfind(" AS ", 0) == 0)
                options = options.substr(options.find(" INCREMENT BY"));  // the column's type
            def += " (SEQUENCE NAME " + new_seq + options + ")";
            identity_seqs.emplace_back(old_seq, new_seq);
        }
        parts.push_back(def);
    }
    std::string create =
        std::string("CREATE ") + (str(*t, "persistence") == "u" ? "UNLOGGED " : "") + "TABLE " + tmp + " (";
    for (size_t i = 0; i < parts.size(); ++i) create += (i ? ",\n    " : "\n    ") + parts[i];
    sql.push_back(create + "\n)" + with_options(*t) + ";");

    // 3. the rows (generated columns are computed again), the identities' positions; owned sequences let go
    std::string list;
    for (const auto& n : order)
        if (str(*cols[n], "generated").empty()) list += (list.empty() ? "" : ", ") + qi(n);
    sql.push_back("INSERT INTO " + tmp + " (" + list + ")" + (any_identity ? " OVERRIDING SYSTEM VALUE" : "") +
                  "\n    SELECT " + list + " FROM " + identity + ";");
    for (const auto& [old_seq, new_seq] : identity_seqs)
        sql.push_back("SELECT pg_catalog.setval(" + literal(new_seq) + ", last_value, is_called) FROM " + old_seq +
                      ";");
    std::vector<std::pair<std::string, std::string>> owned;  // a sequence owned by a column, the column
    for (const auto& k : sequence_keys) {
        const std::string seq = split_key(k).second;
        if (std::any_of(identity_seqs.begin(), identity_seqs.end(), [&](const auto& p) { return p.first == seq; }))
            continue;
        owned.emplace_back(seq, owned_by(k).substr(identity.size() + 1));
        sql.push_back("ALTER SEQUENCE " + seq + " OWNED BY NONE;");
    }

    // 4. the old table goes (RESTRICT: what still depends on it and is not known here stops the migration)
    sql.push_back(
        "-- pgmig diff: the old table, its rows copied above (--reorder-columns)\n-- pgmig:allow drop-table\n"
        "DROP TABLE " +
        identity + ";");

    // 5. the new one takes its place, with what hangs on it
    for (const auto& [old_seq, new_seq] : identity_seqs)
        sql.push_back("ALTER SEQUENCE " + new_seq + " RENAME TO " + split_qualified(old_seq).second + ";");
    for (const auto& [seq, col] : owned)
        sql.push_back("ALTER SEQUENCE " + seq + " OWNED BY " + tmp + "." + qi(col) + ";");
    std::vector<std::pair<std::string, std::string>> fks;  // its own foreign keys: after the rename (maybe to itself)
    const json& cons = field(*t, "constraints");
    if (cons.is_object())
        for (auto it = cons.begin(); it != cons.end(); ++it) {
            const std::string def = it->get<std::string>();
            if (is_fk(def))
                fks.emplace_back(it.key(), def);
            else
                sql.push_back("ALTER TABLE " + tmp + " ADD CONSTRAINT " + qi(it.key()) + " " + def + ";");
        }
    for (const auto& k : index_keys) sql.push_back(retarget(str(*snap.get(k), "definition"), identity, tmp) + ";");
    for (const auto& k : trigger_keys) {
        const json& d = *snap.get(k);
        sql.push_back(retarget(str(d, "definition"), identity, tmp) + ";");
        auto e = trigger_enable().find(str(d, "enabled"));
        if (e != trigger_enable().end())
            sql.push_back("ALTER TABLE " + tmp + " " + e->second + " " + split_on(split_key(k).second).first + ";");
    }
    if (flag(*t, "row_security")) sql.push_back("ALTER TABLE " + tmp + " ENABLE ROW LEVEL SECURITY;");
    if (flag(*t, "force_row_security")) sql.push_back("ALTER TABLE " + tmp + " FORCE ROW LEVEL SECURITY;");
    for (const auto& k : policy_keys) sql.push_back(policy_sql(split_on(split_key(k).second).first, tmp, *snap.get(k)));
    sql.push_back("ALTER TABLE " + tmp + " RENAME TO " + name + ";");
    // foreign keys, its own and those pointing to it: NOT VALID, then VALIDATE (the checks still run, here)
    auto add_fk = [&](const std::string& table, const std::string& con, const std::string& def) {
        const bool not_valid = def.find("NOT VALID") != std::string::npos;
        sql.push_back("ALTER TABLE " + table + " ADD CONSTRAINT " + qi(con) + " " + def +
                      (not_valid ? "" : " NOT VALID") + ";");
        if (!not_valid) sql.push_back("ALTER TABLE " + table + " VALIDATE CONSTRAINT " + qi(con) + ";");
    };
    for (const auto& [con, def] : fks) add_fk(identity, con, def);
    for (const auto& [other, con] : fks_in)
        add_fk(other, con, field(*snap.get("table " + other), "constraints")[con].get<std::string>());
    // comments and grants
    if (!str(*t, "comment").empty())
        sql.push_back("COMMENT ON TABLE " + identity + " IS " + literal(str(*t, "comment")) + ";");
    for (const auto& n : order)
        if (!str(*cols[n], "comment").empty())
            sql.push_back("COMMENT ON COLUMN " + identity + "." + qi(n) + " IS " + literal(str(*cols[n], "comment")) +
                          ";");
    for (const auto& k : index_keys)
        if (!str(*snap.get(k), "comment").empty())
            sql.push_back("COMMENT ON INDEX " + split_key(k).second + " IS " + literal(str(*snap.get(k), "comment")) +
                          ";");
    append_acl_restore(sql, "TABLE", identity, *t);  // the owner, table and column privileges
    for (const auto& [old_seq, new_seq] : identity_seqs) {
        const json& d = *snap.get("sequence " + old_seq);
        if (!str(d, "comment").empty())
            sql.push_back("COMMENT ON SEQUENCE " + old_seq + " IS " + literal(str(d, "comment")) + ";");
        append_acl_restore(sql, "SEQUENCE", old_seq, d);
    }
    // the views again, with their comments, grants and triggers
    for (const auto& k : views) {
        const json& d = *snap.get(k);
        const std::string v = split_key(k).second;
        sql.push_back("CREATE VIEW " + v + with_options(d) + " AS\n" + rtrim_semicolon(str(d, "definition")) + ";");
        if (!str(d, "comment").empty())
            sql.push_back("COMMENT ON VIEW " + v + " IS " + literal(str(d, "comment")) + ";");
        for (const auto& c : field(d, "columns"))
            if (!str(c, "comment").empty())
                sql.push_back("COMMENT ON COLUMN " + v + "." + qi(str(c, "name")) + " IS " +
                              literal(str(c, "comment")) + ";");
        append_acl_restore(sql, "TABLE", v, d);
        for (const auto& [tk_view, td] : snap.objects) {
            const std::string tk(tk_view);
            if (tk.rfind("trigger ", 0) != 0 || split_on(split_key(tk).second).second != v) continue;
            sql.push_back(str(*td, "definition") + ";");
            auto e = trigger_enable().find(str(*td, "enabled"));
            if (e != trigger_enable().end())
                sql.push_back("ALTER VIEW " + v + " " + e->second + " " + split_on(split_key(tk).second).first + ";");
        }
    }
    sql.front() = "-- pgmig diff: rebuilds " + comment_text(identity) +
                  " with its columns in the wanted order (--reorder-columns): the table is locked while every row "
                  "is copied\n" +
                  sql.front();
    return out;
}

bool Engine::column_order(const std::string& identity, const json& a, const json& b,
                          const std::map<std::string, std::string>& renamed,
                          const std::set<std::string>& probable_drop) {
    std::vector<std::string> live;
    std::vector<std::string> wanted;
    std::set<std::string> in_b;
    for (const auto& c : field(a, "columns")) live.push_back(str(c, "name"));
    for (const auto& c : field(b, "columns")) {
        wanted.push_back(str(c, "name"));
        in_b.insert(str(c, "name"));
    }
    // what the ALTERs reach (tables.cpp, diff_columns): the live columns in their order (renamed; dropped ones
    // gone), then, as their steps are ordered: generated columns whose expression changes (dropped and added),
    // added columns, generated columns recomputed over a retyped column
    std::map<std::string, const json*> acol;
    for (const auto& c : field(a, "columns")) acol[str(c, "name")] = &c;
    std::vector<std::string> retyped;
    for (const auto& c : field(b, "columns")) {
        auto o = acol.find(str(c, "name"));
        if (o != acol.end() && str(*o->second, "type") != str(c, "type")) retyped.push_back(str(c, "name"));
    }
    std::vector<std::string> regenerated_changed;
    std::vector<std::string> regenerated_retyped;
    for (const auto& c : field(b, "columns")) {
        auto o = acol.find(str(c, "name"));
        if (o == acol.end()) continue;
        const std::string expr = str(*o->second, "generated");
        if (expr != str(c, "generated")) {
            regenerated_changed.push_back(str(c, "name"));
        } else if (!expr.empty() && std::any_of(retyped.begin(), retyped.end(), [&](const std::string& r) {
                       return replace_word(expr, qi(r), "\x01") != expr;
                   })) {
            regenerated_retyped.push_back(str(c, "name"));
        }
    }
    std::set<std::string> moved(regenerated_changed.begin(), regenerated_changed.end());
    moved.insert(regenerated_retyped.begin(), regenerated_retyped.end());
    std::vector<std::string> reached;
    for (const auto& n : live) {
        auto r = renamed.find(n);
        const std::string m = r == renamed.end() ? n : r->second;
        if (in_b.count(m) != 0 && moved.count(m) == 0) reached.push_back(m);
    }
    reached.insert(reached.end(), regenerated_changed.begin(), regenerated_changed.end());
    for (const auto& n : wanted)
        if (moved.count(n) == 0 && std::find(reached.begin(), reached.end(), n) == reached.end()) reached.push_back(n);
    reached.insert(reached.end(), regenerated_retyped.begin(), regenerated_retyped.end());
    if (reached == wanted || !probable_drop.empty()) return false;

    ColumnOrder entry{identity, live, wanted, false, ""};
    if (!options_.reorder_columns) {
        result_.column_order.push_back(std::move(entry));
        return false;
    }
    std::string from_identity = identity;
    for (const auto& [f, to] : table_renames_)
        if (to == identity) from_identity = f;
    // down: what its ALTERs reach from the rebuilt table (the desired columns, back to the live names, then
    // the dropped ones added again), and the live order when that is not it
    std::map<std::string, std::string> back;
    for (const auto& [o, n] : renamed) back[n] = o;
    std::vector<std::string> down_reached;
    for (const auto& n : wanted) {
        auto r = back.find(n);
        const std::string m = r == back.end() ? n : r->second;
        if (std::find(live.begin(), live.end(), m) != live.end()) down_reached.push_back(m);
    }
    for (const auto& n : live)
        if (std::find(down_reached.begin(), down_reached.end(), n) == down_reached.end()) down_reached.push_back(n);
    Rebuild up = rebuild_table(to_, identity, wanted);
    Rebuild down;
    // (a recomputed generated column moves in down as well)
    if (up.refusal.empty() && (down_reached != live || !moved.empty()))
        down = rebuild_table(from_, from_identity, live);
    if (!up.refusal.empty() || !down.refusal.empty()) {
        entry.refused = up.refusal.empty() ? down.refusal : up.refusal;
        result_.column_order.push_back(std::move(entry));
        return false;
    }
    Step s;
    s.bucket = b_reorder;
    s.subject = "table " + identity;
    s.rebuilds = identity;
    s.up = std::move(up.sql);
    add(std::move(s));
    if (!down.sql.empty()) {
        Step d;  // the last of the down: the table has its live columns and dependents again by then
        d.bucket = 100 - b_reorder;
        d.subject = "table " + identity;
        d.rebuilds = identity;
        d.down = std::move(down.sql);
        add(std::move(d));
    }
    entry.rebuilt = true;
    result_.column_order.push_back(std::move(entry));
    reordered_tables_.insert(identity);
    if (from_identity != identity) reordered_tables_.insert(from_identity);
    return true;
}

// A rebuild builds the table as the snapshot describes it: when a step of the same table is withheld (a dropped
// column or a narrowed type kept) or runs later in the post part, the rebuild would do it or undo it. Those
// rebuilds are not written; their tables are reported as refused, with the reason.
std::set<std::string> Engine::rebuilds_to_refuse(const std::vector<const Step*>& withheld,
                                                 const std::vector<const Step*>& post) {
    std::set<std::string> refused;
    auto concerns = [](const std::string& subject, const std::string& table) {
        return subject == "table " + table || subject.rfind("column " + table + ".", 0) == 0 ||
               (subject.size() > table.size() + 4 &&
                subject.compare(subject.size() - table.size() - 4, std::string::npos, " on " + table) == 0);
    };
    for (const auto& table : reordered_tables_) {
        std::string why;
        for (const Step* s : withheld)
            if (s->rebuilds.empty() && concerns(s->subject, table))
                why = "a step of it is withheld (" + s->subject + ")";
        for (const Step* s : post)
            if (why.empty() && s->rebuilds.empty() && concerns(s->subject, table))
                why = "a step of it runs in the post part (" + s->subject + ")";
        if (why.empty()) continue;
        refused.insert(table);
        for (auto& c : result_.column_order)
            if (c.table == table && c.rebuilt) {
                c.rebuilt = false;
                c.refused = why;
            }
    }
    return refused;
}

}  // namespace pgmig::schema_diff::detail
