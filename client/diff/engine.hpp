// The diff engine's internal header: buckets, steps and the Engine class whose methods live in one
// file per object family (see README.md in this folder). Only the files of client/diff/ include it.
#pragma once

#include "client/diff/schema_diff.hpp"
#include "client/diff/snapshot.hpp"

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
#include <string>
#include <vector>

namespace pgmig::schema_diff::detail {

// SQL text built by appending in place: a chain of std::string + allocates a temporary per step.
class Sql {
  public:
    explicit Sql(std::string text) : text_(std::move(text)) {}
    Sql&& operator+(std::string_view more) && {
        text_.append(more);
        return std::move(*this);
    }
    Sql&& operator+(char c) && {
        text_.push_back(c);
        return std::move(*this);
    }
    operator std::string() && { return std::move(text_); }  // NOLINT(google-explicit-constructor)

  private:
    std::string text_;
};

inline Sql S(std::string text) { return Sql(std::move(text)); }

// SQL writing (sql_text.cpp)
// An identifier, quoted only when needed: client::quote_identifier (sql_names.hpp).
std::string qi(const std::string& name);
std::string literal(const std::string& text);
std::string rtrim_semicolon(std::string s);
// Replace the identifier `from` by `to` where it stands as a whole word (not inside another name).
std::string replace_word(const std::string& text, const std::string& from, const std::string& to);
// tables.cpp
bool is_widening(const std::string& from, const std::string& to);

// Buckets: the order in which the up steps run. Creations ascend; removals of whole objects are the
// mirror (100 - bucket) so that what was created last is dropped first.
enum Bucket : int {
    b_set_guc = 1,
    b_drop_view = 8,  // (indexes of dropped materialized views: 7)
    b_rename = 10,    // after the views over renamed objects are gone, before anything names the new names
    b_drop_trigger = 11,
    b_drop_policy = 12,
    b_drop_fk = 13,
    b_drop_constraint = 14,
    b_drop_index = 15,
    b_drop_function_changed = 16,
    b_drop_table_early = 19,  // a dropped table whose names a new relation takes (tables.cpp)
    b_schema = 20,
    b_extension = 21,
    b_type = 22,
    b_type_alter = 23,
    b_sequence = 25,
    b_function = 27,
    b_table = 30,
    b_column = 32,
    b_owned_by = 34,
    b_constraint = 36,
    b_index = 37,
    b_fk = 38,
    b_function_late = 39,
    b_view = 40,
    b_trigger = 45,
    b_policy = 46,
    b_rls = 47,
    b_comment = 48,
    b_acl = 49,
    b_reorder = 98,  // --reorder-columns: a table rebuilt to its column order, after everything else (column_order.cpp)
};

struct Step {
    int bucket = 0;
    int sub = 0;  // order inside a bucket (table depth, view topological rank)
    std::vector<std::string> up;
    std::vector<std::string> down;
    std::string subject;
    Phase phase = Phase::main;
    bool destructive = false;
    std::string allow_rule;        // lint rule a destructive step trips (its -- pgmig:allow line)
    std::string reason;            // why it is destructive
    bool withhold_always = false;  // a probable rename's drop: withheld whatever allow_destructive says
    bool needs_value = false;      // a NOT NULL that no order can add (rows, no default, no backfill): withheld
    // removal of a type, sequence, function or extension: the name columns would use it by; the
    // removal is withheld too when a withheld drop keeps a column that uses it
    std::string removes;
    std::vector<std::string> uses;  // a dropped column's (or table's) types and defaults
    std::string rebuilds;           // --reorder-columns: the table this step rebuilds (column_order.cpp)
};

// security.cpp, sequences.cpp: also used by the column-order rebuild (column_order.cpp)
std::string policy_sql(const std::string& name, const std::string& table, const json& d);
std::string sequence_options(const json& q);

class Engine {
  public:
    Engine(const json& from, const json& to, const Options& options)
        : from_src_(&from), from_(index_snapshot(from)), to_(index_snapshot(to)), options_(options) {}

    Result run();

  private:
    const json* from_src_;
    json from_doc_;  // `from` with the confirmed renames applied (only when there are some)
    Snapshot from_;
    Snapshot to_;
    const Options& options_;
    std::vector<Step> steps_;
    Result result_;
    std::set<std::string> rebuilt_views_;               // keys of views dropped and recreated
    std::set<std::string> renamed_tables_from_;         // from-keys consumed by a confirmed rename
    std::map<std::string, std::string> table_renames_;  // from identity -> to identity
    std::set<std::string> changed_tables_;              // identities whose columns change type or go away
    std::map<std::string, int> depth_memo_;
    std::set<std::string> kept_tables_;  // dropped in `to`, but the drop is withheld
    std::set<std::string> invalidated_;  // keys of objects dropped and recreated (views over them too)
    // "'label'::type" of enum values this diff adds: PostgreSQL refuses to use them in the transaction
    // that added them, so statements that do go to the post phase
    std::vector<std::string> new_enum_literals_;
    std::vector<std::string> recreated_types_;  // enums recreated now or in down: functions over them follow
    std::set<std::string> reordered_tables_;    // rebuilt to their column order (both identities): no safe forms

    // --- column order (column_order.cpp) ---------------------------------------------------------
    struct Rebuild {
        std::vector<std::string> sql;  // the statements, in order
        std::string refusal;           // why it cannot be rebuilt ("" when it can)
    };
    // The statements that rebuild table `identity` with its columns in `order`, everything that hangs on it
    // recreated as `snap` describes it.
    Rebuild rebuild_table(const Snapshot& snap, const std::string& identity, const std::vector<std::string>& order);
    // Reports a column order the ALTERs cannot reach and, with reorder_columns, adds its rebuild; true when
    // the table is rebuilt (its other steps then use no safe forms).
    bool column_order(const std::string& identity, const json& a, const json& b,
                      const std::map<std::string, std::string>& renamed, const std::set<std::string>& probable_drop);
    // finish(): the rebuilt tables with a withheld or a post step of their own, which the rebuild would undo
    std::set<std::string> rebuilds_to_refuse(const std::vector<const Step*>& withheld,
                                             const std::vector<const Step*>& post);
    std::vector<std::string> view_options_;  // keys of views kept whose options change (views.cpp)
    // "old_schema." -> "new_schema." of the relocatable extensions that move (ALTER EXTENSION SET SCHEMA moves
    // their types, and the columns with them)
    std::vector<std::pair<std::string, std::string>> moved_extension_schemas_;
    std::string relocated_type(const std::string& type) const {
        for (const auto& [f, t] : moved_extension_schemas_)
            if (type.compare(0, f.size(), f) == 0) return t + type.substr(f.size());
        return type;
    }
    // the --backfill of the columns of the table diff_columns is at: (quoted column, expression); one UPDATE sets
    // them all, since each column's NOT VALID check refuses an updated row whose other columns are still NULL
    std::vector<std::pair<std::string, std::string>> backfill_sets_;

    bool uses_new_enum_value(const std::string& sql) const {
        return std::any_of(new_enum_literals_.begin(), new_enum_literals_.end(),
                           [&](const std::string& l) { return sql.find(l) != std::string::npos; });
    }

    void add(Step s) { steps_.push_back(std::move(s)); }

    // Two descriptions that differ only in their comment (COMMENT ON, no drop and create).
    static bool only_comment_changes(const json& a, const json& b) {
        json x = a;
        json y = b;
        x.erase("comment");
        y.erase("comment");
        return x == y;
    }

    static Step mirror(Step s, int sub_flip = 1) {
        std::swap(s.up, s.down);
        s.bucket = 100 - s.bucket;
        s.sub = -s.sub * sub_flip;
        return s;
    }

    bool exists_in_from(const std::string& table_identity) const {
        return !relation_key(from_, table_identity).empty() || table_renames_inverse(table_identity);
    }
    bool table_renames_inverse(const std::string& to_identity) const {
        return std::any_of(table_renames_.begin(), table_renames_.end(),
                           [&](const auto& p) { return p.second == to_identity; });
    }

    int depth(const Snapshot& s, const std::string& identity, int guard = 0) {
        auto memo = depth_memo_.find(identity);
        if (memo != depth_memo_.end()) return memo->second;
        int d = 0;
        const json* t = s.get("table " + identity);
        if (t == nullptr) t = s.get("foreign table " + identity);
        if (t != nullptr && guard < 64) {
            const json& po = field(*t, "partition_of");
            if (po.is_array() && !po.empty() && po[0].is_string())
                d = std::max(d, 1 + depth(s, po[0].get<std::string>(), guard + 1));
            const json& inh = field(*t, "inherits");
            if (inh.is_array())
                for (const auto& p : inh)
                    if (p.is_string()) d = std::max(d, 1 + depth(s, p.get<std::string>(), guard + 1));
        }
        depth_memo_[identity] = d;
        return d;
    }

    // --- tables -------------------------------------------------------------------------------
    static std::string column_def(const json& c, bool with_not_null = true) {
        std::string sql = qi(str(c, "name")) + " " + str(c, "type");
        if (!str(c, "collation").empty()) sql += " COLLATE " + qi(str(c, "collation"));
        if (!str(c, "generated").empty()) sql += " GENERATED ALWAYS AS (" + str(c, "generated") + ") STORED";
        std::string ident = str(c, "identity");
        if (ident == "a") sql += " GENERATED ALWAYS AS IDENTITY";
        if (ident == "d") sql += " GENERATED BY DEFAULT AS IDENTITY";
        if (!str(c, "default").empty()) sql += " DEFAULT " + str(c, "default");
        if (with_not_null && flag(c, "not_null") && ident.empty()) sql += " NOT NULL";
        return sql;
    }

    static bool is_fk(const std::string& def) { return def.rfind("FOREIGN KEY", 0) == 0; }

    static std::set<std::string> inherited_constraints(const json& t) {
        std::set<std::string> out;
        const json& ic = field(t, "inherited_constraints");
        if (ic.is_array())
            for (const auto& n : ic) out.insert(n.get<std::string>());
        return out;
    }

    std::string create_table_sql(const std::string& identity, const json& t);

    // identity columns: " (SEQUENCE NAME ...)" when the sequence's name is not the derived one (sequences.cpp)
    std::map<const Snapshot*, std::map<std::string, std::string>> identity_sequences_;  // owned_by -> sequence
    std::string identity_sequence_option(const Snapshot& s, const std::string& table, const std::string& column);
    // column_def with that option (tables.cpp)
    std::string column_def_in(const Snapshot& s, const std::string& table, const json& c, bool with_not_null = true);

    void comment_steps(const std::string& what, const std::string& name, const json* from, const json* to,
                       const std::string& subject);

    // --- owners and privileges (security.cpp) --------------------------------------------------
    // The owner a description asks for, as the target sees it (the desired schema's loader stands for the
    // migration's role); "" when it has none.
    std::string desired_owner(const json& d) const;
    // An owner, grantee or grantor the target does not have (only when the target's roles are known).
    bool role_missing(const std::string& role) const;
    // The owner's name for "OWNER" ACL entries of an object described by d (CURRENT_USER when unknown).
    std::string owner_name(const json* d) const;
    // ALTER ... OWNER TO for an object kept or created (from == nullptr: created by the migration's role).
    void owner_steps(const std::string& what, const std::string& name, const json* from, const json* to,
                     const std::string& subject);
    // The roles the default privileges of either side may give a new object of this kind in this schema.
    std::set<std::string> default_acl_grantees(const std::string& what, const std::string& name) const;
    void report_missing_roles(const std::set<std::string>& entries, const std::string& subject);
    bool names_missing_role(const std::set<std::string>& entries) const;
    // Statements that take an ACL from `a` to `b` (entries "grantee:PRIV[ WITH GRANT OPTION][ BY grantor]"),
    // appended to out; `owner` is written for OWNER.
    static void acl_transition(const std::set<std::string>& a, const std::set<std::string>& b, const std::string& what,
                               const std::string& name, const std::string& column, const std::string& owner,
                               std::vector<std::string>& out);

    // GRANT/REVOKE to go from one ACL to another, after ALTER ... OWNER TO. `what` is "TABLE", "SEQUENCE", ...;
    // columns pass what = "TABLE" and column = the column name (privileges then read "SELECT (c)").
    // A column's privileges pass its table's description as `table` (whose owner its OWNER entries name).
    void acl_steps(const std::string& what, const std::string& name, const json* from, const json* to,
                   const std::string& subject, const std::string& column = {}, const json* table = nullptr);

    // Everything that creates a table (without its indexes, FKs, triggers, policies: those are objects
    // of their own). Removal is the mirror of these steps.
    std::vector<Step> table_create_steps(const std::string& identity, const json& t, bool for_drop);
    // A new partition or inheritance child takes its inherited columns' defaults and NOT NULL from its parent;
    // one made with LIKE and ATTACH PARTITION (or that changed them since) may differ: the ALTERs that follow
    // its CREATE TABLE to give it the defaults and NOT NULLs of its description in `s`.
    std::vector<std::string> inherited_column_fixes(const Snapshot& s, const std::string& identity, const json& t);
    // The column `name` of the parent table t takes it from (its partitioned table, or the first of its INHERITS
    // list that has it) in `s`; null when there is none.
    static const json* parent_column(const Snapshot& s, const json& t, const std::string& name);
    // An existing partition's or child's inherited column whose default changes: ALTER TABLE ONLY when its
    // parent's default stays; nothing when it follows its parent's change (that ALTER reaches it).
    void inherited_default_change(const std::string& identity, const json& a, const json& b, const json& o,
                                  const json& c);

    void table_extras(const std::string& identity, const json* from, const json* to, bool foreign);

    void emit_table_created(const std::string& identity, const json& t);

    void emit_table_dropped(const std::string& identity, const json& t, bool probable_rename);
    std::set<std::string> early_drops_;  // dropped tables that go before anything is created
    std::set<std::string> name_clashing_drops(const std::set<std::string>& dropped) const;

    void append_acl_restore(std::vector<std::string>& out, const std::string& what, const std::string& name,
                            const json& d);

    std::string not_null_check_name(const std::string& column) {
        std::string n = column + "_not_null";
        if (n.size() > 63) n = n.substr(0, 63);
        return n;
    }

    // SET NOT NULL on an existing table: CHECK NOT VALID (main), VALIDATE + SET NOT NULL + drop the check (post).
    // CHECK NOT VALID (main), then VALIDATE + SET NOT NULL + drop the check (post); `sub` orders it among the
    // table's column steps, `subject` defaults to "column <table>.<column>"
    void safe_set_not_null(const std::string& identity, const std::string& column, int sub = 0,
                           const std::string& subject = {});

    // NOT NULL columns added to existing tables (tables.cpp; docs/diff.md "NOT NULL columns added to tables
    // with rows"): the --backfill of a column, the rows of its table as the client counted them.
    const Backfill* backfill_for(const std::string& identity, const std::string& column) const;
    std::string rows_phrase(const std::string& identity) const;
    bool known_empty(const std::string& identity) const;
    static std::string computed_column_comment(const std::string& identity, const json& c);
    void add_column_steps(const std::string& identity, const json& c, bool special, const std::string& subject);

    bool table_is_partitioned_or_partition(const json& t) const {
        return str(t, "kind") == "p" || field(t, "partition_of").is_array();
    }

    // --- confirmed renames (renames.cpp): the parts of apply_renames() -----------------------------
    // A --rename of a column: its table (as named in `to`), its old and its new name.
    struct ColumnRename {
        std::string table;  // as named in `to`
        std::string from;
        std::string to;
    };
    // The --rename table renames both sides agree with: `from` has only the old name, `to` only the new one.
    std::vector<std::pair<std::string, std::string>> confirmed_table_renames() const;
    // The --rename column renames, their tables named as in `to` (after the confirmed table renames).
    std::vector<ColumnRename> confirmed_column_renames(
        const std::vector<std::pair<std::string, std::string>>& tables) const;
    // One b_rename step; `order` (counted up) keeps the renames in the order they are found.
    void rename_step(int& order, const std::string& subject, const std::string& up, const std::string& down);
    // Moves from_doc_'s object at key `a` to key `b`.
    void rename_from_key(const std::string& a, const std::string& b);
    // Table f renamed to t (RENAME TO, SET SCHEMA), applied to from_doc_ with the names derived from the table's.
    void rename_table(const std::string& f, const std::string& t, int& order);
    // The renamed table in another object of from_doc_ (trigger, policy, index, sequence, FK to it, view over it).
    void rename_table_in_object(const std::string& key, const std::string& f, const std::string& t, int& order);
    // An index of the renamed table: its definition, and its derived name (and its constraint's) when `to` has it.
    void rename_table_index(const std::string& key, json& d, const std::string& f, const std::string& t, int& order);
    // A sequence the renamed table owns: its OWNED BY; its derived name (and the defaults') when `to` has it.
    void rename_table_sequence(const std::string& key, json& d, const std::string& f, const std::string& t, int& order);
    // The renamed table's other constraints (CHECK, FOREIGN KEY) whose derived names `to` has: RENAME CONSTRAINT.
    void rename_table_constraints(const std::string& f, const std::string& t, int& order);
    // A confirmed column rename: RENAME COLUMN, applied to its table in from_doc_ and to the objects that name it.
    void rename_column(const ColumnRename& c, int& order);
    // The renamed column in the indexes, owned sequences, triggers and policies of its table in from_doc_.
    void rename_column_in_objects(const ColumnRename& c);

    // --- columns of a table both sides have (tables.cpp): the parts of diff_columns() ---------------
    // The columns of the table on both sides, by position and by name, and the confirmed renames among them.
    struct TableColumns {
        TableColumns(const std::string& table, const json& from_table, const json& to_table);
        std::string identity;
        const json& a;                               // the table in `from`
        const json& b;                               // the table in `to`
        std::vector<const json*> acols;              // a's columns, in order
        std::vector<const json*> bcols;              // b's columns, in order
        std::map<std::string, size_t> apos;          // column name -> position in acols
        std::map<std::string, size_t> bpos;          // column name -> position in bcols
        std::string subject_prefix;                  // "column <table>."
        std::map<std::string, std::string> renamed;  // confirmed column renames: old name -> new name
        std::set<std::string> renamed_to;            // their new names
    };
    // A column both sides have, as the methods that write its changes read it.
    struct KeptColumn {
        const std::string& table;  // its table's identity
        const json& from;
        const json& to;
        std::string name;     // its name in `to`
        std::string alter;    // "<table> ALTER COLUMN <name>"
        std::string subject;  // "column <table>.<name>"
    };
    // RENAME COLUMN for the table's confirmed column renames, which it records in cols.renamed and renamed_to.
    void column_rename_steps(TableColumns& cols, const std::map<std::string, std::string>& col_renames);
    // Dropped columns where one of the same type is added at the same position: reported; their names.
    std::set<std::string> probable_column_renames(const TableColumns& cols);
    // DROP COLUMN for each column `to` lacks (down adds it back); a probable rename's drop is always withheld.
    void dropped_column_steps(const TableColumns& cols, const std::set<std::string>& probable_drop);
    // The one post UPDATE that gives the table's rows every --backfill value of backfill_sets_ (then cleared).
    void backfill_update_step(const std::string& identity, const std::string& subject_prefix);
    // Generated columns that read a retyped column: dropped before the type change, added after; their names.
    std::set<std::string> regenerated_column_steps(const TableColumns& cols);
    // The changes of `to`'s column c that `from` has too (under its old name when renamed).
    void changed_column_steps(const TableColumns& cols, const json& c, bool special);
    // A column whose generation expression changes (or that starts or stops being generated): dropped and added.
    void generated_expression_step(const KeptColumn& k);
    // An identity column's identity dropped, or changed between ALWAYS and BY DEFAULT.
    void identity_change_step(const KeptColumn& k);
    // ALTER COLUMN ... TYPE, its default dropped before and set after; destructive unless it widens the type.
    void column_type_step(const KeptColumn& k);
    // A default that changes while the type stays (an old default that calls a function is dropped early).
    void column_default_steps(const KeptColumn& k);
    // ADD GENERATED ... AS IDENTITY for a column that becomes an identity column.
    void identity_added_step(const KeptColumn& k);
    // SET or DROP NOT NULL; SET in its safe form unless special (partitioned, partition, or rebuilt).
    void not_null_step(const KeptColumn& k, bool special);

    void diff_columns(const std::string& identity, const json& a, const json& b,
                      const std::map<std::string, std::string>& col_renames);

    void apply_renames();
    // A sequence owned by a column that both sides keep, under another name in `to` (a serial's sequence
    // renamed, an identity column's SEQUENCE NAME): ALTER SEQUENCE ... RENAME, which keeps its value, instead
    // of a new sequence; applied to `from` like the confirmed renames (sequences.cpp).
    void rename_owned_sequences();
    void diff_tables();
    void diff_constraints();
    void diff_indexes();
    void diff_views();
    void diff_sequences();
    void diff_functions();
    void diff_types();
    // types.cpp: the indexes and CHECKs to drop and create again around an enum's recreation
    std::pair<std::vector<std::string>, std::vector<std::string>> enum_literal_rebuilds(
        const Snapshot& snap, const std::string& type, const std::set<std::string>& tables);
    // --- the parts of diff_types() (types.cpp) ------------------------------------------------------
    // A side's table columns of the diffed types (or arrays of them): type -> (table, column).
    using TypeUsers = std::map<std::string, std::vector<std::pair<std::string, const json*>>>;
    static TypeUsers type_users(const Snapshot& snap, const std::set<std::string>& type_idents);
    // One type's key: its creation, drop or change by kind, then its comment and privileges.
    void diff_type(const std::string& key, TypeUsers& from_users, TypeUsers& to_users);
    // A type only one side has: CREATE TYPE or DOMAIN with its comment and privileges, or the mirror (a drop).
    void type_created_or_dropped(const std::string& key, const std::string& kind, const std::string& what,
                                 const json* a, const json* b);
    // An enum whose values change: values only added, or the type recreated.
    void enum_change_steps(const std::string& key, const json& a, const json& b, TypeUsers& from_users,
                           TypeUsers& to_users);
    // ALTER TYPE ... ADD VALUE for values only added; down recreates the type without them.
    void enum_values_added_step(const std::string& key, const std::vector<std::string>& la,
                                const std::vector<std::string>& lb, TypeUsers& from_users);
    // Values removed or reordered: the type recreated after the columns change (destructive).
    void enum_recreated_step(const std::string& key, const std::vector<std::string>& la,
                             const std::vector<std::string>& lb, TypeUsers& to_users);
    // The statements that recreate enum `ident` with `labels` and convert its columns (`users` in `snap`).
    std::vector<std::string> recreate_enum_sql(const std::string& ident, const std::vector<std::string>& labels,
                                               const std::vector<std::string>& old_labels, TypeUsers& users,
                                               const Snapshot& snap);
    // ALTER DOMAIN for a domain's default, NOT NULL and constraints (its base type stays).
    void domain_change_step(const std::string& key, const json& a, const json& b);
    // ALTER TYPE ... ADD, DROP or ALTER ATTRIBUTE for a composite type's attributes.
    void composite_change_step(const std::string& key, const json& a, const json& b);
    void diff_policies();      // security.cpp
    void diff_default_acls();  // security.cpp
    void diff_triggers();
    void replace_on_relation(const std::string& key, const std::string& table, const json* a, const json* b,
                             const std::string& drop,
                             const std::function<std::vector<std::string>(const json&)>& create, int drop_bucket,
                             int bucket);  // triggers.cpp
    void diff_schemas_extensions();
    void diff_catalog_kinds();  // schema_diff.cpp: the kinds of catalog_kinds.hpp
    // Owners of the catalog kinds that have one (security.cpp): after each CREATE a step of theirs runs (up: the
    // desired owner, down: the target's), and ALTER ... OWNER TO for the others whose owner changes.
    void catalog_kind_created_owners(Step& s, std::set<std::string>& created);
    void catalog_kind_owner_changes(const std::set<std::string>& created);
    void report_unsupported();
    void move_new_enum_users_to_post();  // order.cpp
    void finish();
};

}  // namespace pgmig::schema_diff::detail
