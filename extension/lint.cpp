// Lint of migration SQL: the server's own grammar (raw_parser) for syntax and statements, the live
// catalog for what only matters on existing data (size, columns, indexes, function volatility).
// One file of over 1,000 lines because its rules (about 900 lines, "the rules" below) share the parse
// tree walk, the text positions and the catalog lookups above them, and are read side by side.
#include "lint.hpp"

// Before PostgreSQL's headers, whose port.h redefines snprintf as a macro nlohmann-json trips over.
#include <nlohmann/json.hpp>

extern "C" {
#include "postgres.h"
#include "access/htup_details.h"
#include "catalog/index.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type_d.h"
#include "commands/dbcommands.h"
#include "commands/defrem.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "nodes/parsenodes.h"
#include "parser/parse_coerce.h"
#include "parser/parse_type.h"
#include "parser/parser.h"
#include "storage/proc.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
}

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

#include "common/lint_rules.hpp"
#include "ledger_store.hpp"
#include "pg/boundary.hpp"
#include "pg/interrupts.hpp"
#include "pg/spi.hpp"
#include "pg/values.hpp"
#include "redact.hpp"
#include "script.hpp"
#include "settings.hpp"
#include "pg/compat.hpp"

namespace pgmig::lint {

namespace {

// ---- calls into PostgreSQL: plain C inside pg::call, nothing with a destructor ----

struct RawRelation {
    bool found;
    char relkind;
    float4 reltuples;
    int64 bytes;
};

RawRelation relation_facts(Oid oid) {
    return pg::call([oid] {
        RawRelation r{false, 0, -1, 0};
        HeapTuple tup = SearchSysCache1(RELOID, ObjectIdGetDatum(oid));
        if (!HeapTupleIsValid(tup)) return r;
        const auto* form = reinterpret_cast<Form_pg_class>(GETSTRUCT(tup));
        r.found = true;
        r.relkind = form->relkind;
        r.reltuples = form->reltuples;
        ReleaseSysCache(tup);
        if (r.relkind == RELKIND_RELATION || r.relkind == RELKIND_MATVIEW || r.relkind == RELKIND_INDEX ||
            r.relkind == RELKIND_PARTITIONED_TABLE) {
            r.bytes = DatumGetInt64(DirectFunctionCall1(pg_total_relation_size, ObjectIdGetDatum(oid)));
        }
        return r;
    });
}

// True when a qualified name (a List of String) can name something of this database: at most three parts,
// and the first of three is this database. PostgreSQL raises for the others (0A000 "cross-database
// references", 42601 "too many dotted names") even where a lookup may miss; the lint treats them as
// names it does not know (running the statement fails on them anyway).
bool local_name(List* names) {
    const int parts = list_length(names);
    if (parts > 3) return false;
    if (parts < 3) return true;
    Node* first = static_cast<Node*>(linitial(names));
    return IsA(first, String) && strcmp(strVal(first), get_database_name(MyDatabaseId)) == 0;
}

// Whether a raw default expression calls a volatile function (looked up by name in the catalog:
// now() is stable, clock_timestamp(), random(), gen_random_uuid() and nextval() are volatile).
// A function the catalog does not know (created later, or misspelt) counts as volatile.
bool volatile_walker(Node* node, void* context) {
    if (node == nullptr) return false;
    if (IsA(node, FuncCall)) {
        const auto* call = reinterpret_cast<FuncCall*>(node);
        if (!local_name(call->funcname)) return true;  // unknown: counts as volatile
        FuncCandidateList candidates = FuncnameGetCandidates(call->funcname, -1, NIL, false, false, false, true);
        if (candidates == nullptr) return true;
        for (FuncCandidateList c = candidates; c != nullptr; c = c->next) {
            if (func_volatile(c->oid) == PROVOLATILE_VOLATILE) return true;
        }
    }
    if (IsA(node, SubLink)) return true;
    return raw_expression_tree_walker(node, PGMIG_TREE_WALKER(volatile_walker),
                                      context);
}

bool is_volatile_expression(Node* expr) {
    return pg::call([expr] { return volatile_walker(expr, nullptr); });
}

struct TypeChange {
    bool known;    // the column and both types were found
    bool rewrite;  // PostgreSQL 15 rewrites the table (and rebuilds its indexes)
};

bool typmod_widens(Oid type, int32 old_mod, int32 new_mod) {
    if (new_mod == old_mod || new_mod == -1) return true;
    if (old_mod == -1) return false;
    switch (type) {
        case VARCHAROID:
        case VARBITOID:
        case TIMESTAMPOID:
        case TIMESTAMPTZOID:
            return new_mod >= old_mod;  // varchar_support, varbit_support, timestamp_support
        case NUMERICOID: {              // numeric_support: same scale, more (or equal) precision
            const int32 old_prec = ((old_mod - VARHDRSZ) >> 16) & 0xffff;
            const int32 new_prec = ((new_mod - VARHDRSZ) >> 16) & 0xffff;
            const int32 old_scale = (old_mod - VARHDRSZ) & 0xffff;
            const int32 new_scale = (new_mod - VARHDRSZ) & 0xffff;
            return old_scale == new_scale && new_prec >= old_prec;
        }
        default:
            return false;
    }
}

// What ALTER COLUMN ... TYPE costs on PostgreSQL 15 (the cases its ATColumnChangeRequiresRewrite
// lets through without a rewrite: a binary-coercible type without a length, or a widened typmod).
TypeChange type_change(Oid rel, const char* column, TypeName* type_name, bool has_using) {
    return pg::call([rel, column, type_name, has_using] {
        TypeChange result{false, true};
        const AttrNumber att = get_attnum(rel, column);
        if (att == InvalidAttrNumber) return result;
        Oid old_type = InvalidOid;
        int32 old_mod = -1;
        Oid collation = InvalidOid;
        get_atttypetypmodcoll(rel, att, &old_type, &old_mod, &collation);
        int32 new_mod = -1;
        if (!local_name(type_name->names)) return result;
        Type tup = LookupTypeName(nullptr, type_name, &new_mod, true);
        if (tup == nullptr) return result;
        const Oid new_type = typeTypeId(tup);
        ReleaseSysCache(tup);
        result.known = true;
        if (has_using) return result;
        if (new_type == old_type) {
            result.rewrite = !typmod_widens(new_type, old_mod, new_mod);
        } else {
            result.rewrite = !(IsBinaryCoercible(old_type, new_type) && new_mod == -1);
        }
        return result;
    });
}

// RangeVarGetRelid with missing_ok still raises 0A000 for a name in another database (db.schema.t): such a
// name is no relation of this database, so the lint has nothing to say about it (running it fails anyway).
Oid relation_oid(const RangeVar* rv) {
    return pg::call([rv] {
        if (rv == nullptr ||
            (rv->catalogname != nullptr && strcmp(rv->catalogname, get_database_name(MyDatabaseId)) != 0)) {
            return InvalidOid;
        }
        return RangeVarGetRelid(const_cast<RangeVar*>(rv), NoLock, true);
    });
}

// ---- text positions ----

// Walks a text forward, keeping line and column (in characters) of a byte offset: positions are
// asked in increasing order, so a 5,000-statement script (even on one line) is read once.
class Cursor {
  public:
    explicit Cursor(const std::string& text) : text_(text) {}
    // 1-based line and column of byte `pos`.
    std::pair<int, int> at(size_t pos) {
        pos = std::min(pos, text_.size());
        if (pos < pos_) {  // asked backwards: start again (rare)
            pos_ = 0;
            line_ = 1;
            col_ = 1;
        }
        for (; pos_ < pos; ++pos_) {
            const auto c = static_cast<unsigned char>(text_[pos_]);
            if (c == '\n') {
                ++line_;
                col_ = 1;
            } else if ((c & 0xC0) != 0x80) {  // not a UTF-8 continuation byte: one more character
                ++col_;
            }
        }
        return {line_, col_};
    }

  private:
    const std::string& text_;
    size_t pos_ = 0;
    int line_ = 1;
    int col_ = 1;
};

// A `-- pgmig:allow` comment found between statements.
struct Waiver {
    std::vector<std::string> rules;
    int line;
};

// A waiver common/lint_rules.hpp refuses, as the extension raises it.
Error invalid_waiver(const common::InvalidWaiver& e) {
    return Error(sqlstate::lint_invalid_waiver, e.message(), e.detail(), e.hint());
}

// The rules of a waiver at `line`, from the text after "pgmig:allow" (common::waiver_rules), or PM016.
std::vector<std::string> waiver_rules(std::string_view rest, int line) {
    try {
        return common::waiver_rules(rest, fmt::format("-- pgmig:allow at line {}", line));
    } catch (const common::InvalidWaiver& e) {
        throw invalid_waiver(e);
    }
}

// Scans [pos, end) of whitespace, semicolons and comments; returns the offset of the first token
// after it, and appends the waivers found there (with their lines), and the lines that are blank.
size_t scan_gap(const std::string& s, size_t pos, size_t end, Cursor& cursor, std::vector<Waiver>& waivers,
                std::set<int>& blank_lines) {
    bool line_has_text = true;  // the gap starts in the middle of a line (after a statement)
    while (pos < end) {
        pg::check_for_interrupts();
        const char c = s[pos];
        if (c == '\n') {
            if (!line_has_text) blank_lines.insert(cursor.at(pos).first);
            line_has_text = false;
            ++pos;
        } else if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v') {
            ++pos;
        } else if (c == ';') {
            line_has_text = true;
            ++pos;
        } else if (c == '-' && pos + 1 < end && s[pos + 1] == '-') {
            line_has_text = true;
            const size_t nl = std::min(s.find('\n', pos), end);
            if (const auto rest = common::waiver_rest(std::string_view(s.data() + pos + 2, nl - pos - 2))) {
                const int line = cursor.at(pos).first;
                waivers.push_back({waiver_rules(*rest, line), line});
            }
            pos = nl;
        } else if (c == '/' && pos + 1 < end && s[pos + 1] == '*') {
            line_has_text = true;
            pos = skip_block_comment(s, pos, end);
        } else {
            break;
        }
    }
    return std::min(pos, end);
}

// ---- the rules ----

struct Relation {
    Oid oid = InvalidOid;  // valid: it exists in the catalog and this script did not create it
    std::string name;      // schema.name from the catalog, or as written
    std::optional<long long> rows;
    std::optional<long long> bytes;
    bool existing() const { return OidIsValid(oid); }
};

std::string range_var_name(const RangeVar* rv) {
    return rv->schemaname != nullptr ? std::string(rv->schemaname) + "." + rv->relname : std::string(rv->relname);
}

std::string last_name(List* names) { return names == NIL ? std::string() : strVal(llast(names)); }

std::string type_name_of(const TypeName* t) { return t == nullptr ? std::string() : last_name(t->names); }

bool is_serial(const std::string& t) {
    return t == "serial" || t == "serial4" || t == "bigserial" || t == "serial8" || t == "smallserial" ||
           t == "serial2";
}

bool is_small_integer(const std::string& t) {
    return t == "int4" || t == "int2" || t == "serial" || t == "serial4" || t == "smallserial" || t == "serial2";
}

bool has_defelem(List* options, const char* name) {
    ListCell* cell = nullptr;
    foreach (cell, options) {
        const auto* opt = static_cast<DefElem*>(lfirst(cell));
        if (strcmp(opt->defname, name) == 0) return opt->arg == nullptr || defGetBoolean(const_cast<DefElem*>(opt));
    }
    return false;
}

// What an up script creates, by name as written, for the lint of its down script (Options::down_of): each
// name maps to the schemas it was written with ("" when unqualified). A name written unqualified on either
// side matches the same name in any schema; two qualified names match when their schemas are equal.
class UpObjects {
  public:
    void collect(List* parsed) {
        ListCell* cell = nullptr;
        foreach (cell, parsed) {
            Node* stmt = castNode(RawStmt, lfirst(cell))->stmt;
            switch (nodeTag(stmt)) {
                case T_CreateStmt:
                    add(relations_, castNode(CreateStmt, stmt)->relation);
                    break;
                case T_CreateTableAsStmt:
                    add(relations_, castNode(CreateTableAsStmt, stmt)->into->rel);
                    break;
                case T_ViewStmt:
                    add(relations_, castNode(ViewStmt, stmt)->view);
                    break;
                case T_CreateSeqStmt:
                    add(relations_, castNode(CreateSeqStmt, stmt)->sequence);
                    break;
                case T_IndexStmt: {
                    const auto* index = castNode(IndexStmt, stmt);
                    // Built CONCURRENTLY (a non-transactional migration): its down can drop it the same way.
                    if (index->idxname != nullptr && !index->concurrent) {
                        add(indexes_, index->relation->schemaname, index->idxname);
                    }
                    break;
                }
                case T_CreateSchemaStmt:
                    if (castNode(CreateSchemaStmt, stmt)->schemaname != nullptr) {
                        schemas_.insert(castNode(CreateSchemaStmt, stmt)->schemaname);
                    }
                    break;
                case T_AlterTableStmt: {
                    const auto* alter = castNode(AlterTableStmt, stmt);
                    if (alter->objtype != OBJECT_TABLE) break;
                    ListCell* c = nullptr;
                    foreach (c, alter->cmds) {
                        const auto* cmd = castNode(AlterTableCmd, lfirst(c));
                        if (cmd->subtype != AT_AddColumn) continue;
                        const auto* def = castNode(ColumnDef, cmd->def);
                        add(columns_, alter->relation->schemaname, column_key(alter->relation->relname, def->colname));
                    }
                    break;
                }
                default:
                    break;
            }
        }
    }
    bool relation(const RangeVar* rv) const { return has(relations_, rv->schemaname, rv->relname); }
    bool index(const RangeVar* rv) const { return has(indexes_, rv->schemaname, rv->relname); }
    bool schema(const char* name) const { return schemas_.count(name) != 0; }
    // The column, or the whole table, came from the up script.
    bool column(const RangeVar* rv, const char* column) const {
        return relation(rv) || has(columns_, rv->schemaname, column_key(rv->relname, column));
    }

  private:
    using Names = std::map<std::string, std::set<std::string>>;
    static std::string column_key(const char* table, const char* column) {
        return std::string(table) + '\0' + (column != nullptr ? column : "");
    }
    static void add(Names& names, const RangeVar* rv) { add(names, rv->schemaname, rv->relname); }
    static void add(Names& names, const char* schema, const std::string& name) {
        names[name].insert(schema != nullptr ? schema : "");
    }
    static bool has(const Names& names, const char* schema, const std::string& name) {
        const auto it = names.find(name);
        if (it == names.end()) return false;
        return schema == nullptr || it->second.count("") != 0 || it->second.count(schema) != 0;
    }

    Names relations_, indexes_, columns_;
    std::set<std::string> schemas_;
};

class Linter {
  public:
    Linter(const Options& options, int lock_timeout_ms) : options_(options), lock_timeout_ms_(lock_timeout_ms) {}
    // Linting a down script: what its up script created may be dropped without a finding.
    void undoing(UpObjects up) { up_ = std::move(up); }

    // Lints one statement: `text` as written, at `line`/`col`.
    void statement(Node* stmt, std::string text, int line, int col) {
        text_ = std::move(text);
        line_ = line;
        col_ = col;
        first_ = findings_.size();
        visit(stmt);
        if (!findings_.empty() && first_ < findings_.size() && kind_may_hold_secret(stmt)) {
            const std::string redacted = redact_statement(text_);
            for (size_t i = first_; i < findings_.size(); ++i) findings_[i].statement = redacted;
        }
    }
    // Findings of the statement linted last (for per-statement waivers).
    size_t last_statement_first() const { return first_; }
    std::vector<Finding>& findings() { return findings_; }

  private:
    void add(const char* rule, const std::string& message, const Relation* rel = nullptr,
             std::optional<std::string> object = std::nullopt, std::optional<Severity> severity = std::nullopt) {
        Finding f;
        f.rule = rule;
        f.severity = severity.value_or(common::find_lint_rule(rule)->severity);
        f.line = line_;
        f.col = col_;
        f.statement = text_;
        f.message = message;
        if (object) {
            f.object = std::move(object);
        } else if (rel != nullptr) {
            f.object = rel->name;
        }
        if (rel != nullptr && rel->existing()) {
            f.table_rows = rel->rows;
            f.table_bytes = rel->bytes;
        }
        findings_.push_back(std::move(f));
    }

    bool created(const RangeVar* rv) const {
        if (created_.count(rv->relname) != 0) return true;
        return rv->schemaname != nullptr && created_.count(range_var_name(rv)) != 0;
    }
    void remember_created(const RangeVar* rv) {
        created_.insert(rv->relname);
        if (rv->schemaname != nullptr) created_.insert(range_var_name(rv));
    }

    Relation relation(const RangeVar* rv) {
        Relation rel;
        rel.name = range_var_name(rv);
        if (created(rv)) return rel;
        Oid oid = InvalidOid;
        if (const auto alias = renamed_.find(rel.name); alias != renamed_.end()) {
            oid = alias->second;
        } else {
            oid = relation_oid(rv);
        }
        if (!OidIsValid(oid)) return rel;
        return facts(oid);
    }

    Relation facts(Oid oid) {
        if (const auto cached = cache_.find(oid); cached != cache_.end()) return cached->second;
        Relation rel;
        const RawRelation raw = relation_facts(oid);
        if (!raw.found) return rel;
        rel.oid = oid;
        const char* schema = pg::call([oid] { return get_namespace_name(get_rel_namespace(oid)); });
        const char* name = pg::call([oid] { return get_rel_name(oid); });
        rel.name = std::string(schema != nullptr ? schema : "?") + "." + (name != nullptr ? name : "?");
        if (raw.reltuples >= 0) rel.rows = static_cast<long long>(raw.reltuples);
        rel.bytes = raw.bytes;
        cache_.emplace(oid, rel);
        return rel;
    }

    // A statement that takes a lock on an existing table: the first one without lock_timeout is a finding.
    void locks(const Relation& rel) {
        if (!rel.existing() || lock_reported_ || lock_timeout_set_ || lock_timeout_ms_ > 0) return;
        lock_reported_ = true;
        add("missing-lock-timeout",
            "this statement locks an existing table with no lock_timeout in force: if it queues behind a long "
            "transaction, every query on the table queues behind it. Put SET lock_timeout = '5s' before it "
            "(or keep pgmig.lock_timeout, or the migration's lock_timeout option, above 0)",
            &rel);
    }

    // `remedy`: what to write instead (CREATE OR REPLACE VIEW for a view, which has no IF NOT EXISTS).
    void idempotency(bool guarded, const char* rule, const char* what, const char* remedy) {
        if (guarded) return;
        // A non-transactional migration resumes by running statements again: there it matters.
        add(rule,
            fmt::format("{} fails when run a second time; write {} so that a rerun or a resumed "
                        "non-transactional migration succeeds",
                        what, remedy),
            nullptr, std::nullopt, options_.transactional ? Severity::advice : Severity::warning);
    }

    // Style advice on a column's type; `primary_key`: the column is (part of) the primary key.
    void column_style(const ColumnDef* def, bool primary_key) {
        const std::string type = type_name_of(def->typeName);
        const std::string column = def->colname != nullptr ? def->colname : "";
        if (type == "json") {
            add("prefer-jsonb",
                fmt::format("column {} is json: prefer jsonb (binary, indexable, comparable; json keeps the text "
                            "as written and cannot be indexed or compared)",
                            column),
                nullptr, column);
        }
        if (type == "timestamp") {
            add("prefer-timestamptz",
                fmt::format("column {} is timestamp without time zone: prefer timestamptz, which stores an "
                            "instant and converts for each session's TimeZone",
                            column),
                nullptr, column);
        }
        if (is_serial(type)) {
            add("prefer-identity",
                fmt::format("column {} is {}: prefer {} GENERATED ALWAYS AS IDENTITY (standard SQL; the "
                            "sequence belongs to the column, with no separate grants)",
                            column, type, type == "smallserial" || type == "serial2" ? "smallint" : "bigint"),
                nullptr, column);
        }
        if (primary_key && is_small_integer(type)) {
            add("prefer-bigint-pk",
                fmt::format("primary key column {} is a 32-bit (or smaller) integer: prefer bigint, whose range "
                            "will not run out (changing it later rewrites the table and every referencing one)",
                            column),
                nullptr, column);
        }
    }

    static bool column_is_pk(const ColumnDef* def) {
        ListCell* cell = nullptr;
        foreach (cell, def->constraints) {
            if (castNode(Constraint, lfirst(cell))->contype == CONSTR_PRIMARY) return true;
        }
        return false;
    }

    void create_table(CreateStmt* stmt) {
        idempotency(stmt->if_not_exists, "create-not-idempotent", "CREATE TABLE without IF NOT EXISTS",
                    "CREATE TABLE IF NOT EXISTS");
        std::set<std::string> pk_columns;
        ListCell* cell = nullptr;
        foreach (cell, stmt->tableElts) {
            Node* elt = static_cast<Node*>(lfirst(cell));
            if (IsA(elt, Constraint) && castNode(Constraint, elt)->contype == CONSTR_PRIMARY) {
                ListCell* key = nullptr;
                foreach (key, castNode(Constraint, elt)->keys) pk_columns.insert(strVal(lfirst(key)));
            }
        }
        foreach (cell, stmt->tableElts) {
            Node* elt = static_cast<Node*>(lfirst(cell));
            if (!IsA(elt, ColumnDef)) continue;
            const auto* def = castNode(ColumnDef, elt);
            column_style(def, column_is_pk(def) || pk_columns.count(def->colname) != 0);
        }
        remember_created(stmt->relation);
    }

    void add_column(const Relation& rel, const ColumnDef* def) {
        column_style(def, column_is_pk(def));
        if (!rel.existing()) return;
        bool not_null = def->is_not_null;
        bool fills_rows = is_serial(type_name_of(def->typeName));  // serial: a nextval() default
        bool unique = false;
        Node* default_expr = def->raw_default;
        ListCell* cell = nullptr;
        foreach (cell, def->constraints) {
            const auto* c = castNode(Constraint, lfirst(cell));
            switch (c->contype) {
                case CONSTR_NOTNULL:
                    not_null = true;
                    break;
                case CONSTR_DEFAULT:
                    default_expr = c->raw_expr;
                    break;
                case CONSTR_IDENTITY:
                case CONSTR_GENERATED:
                    fills_rows = true;
                    break;
                case CONSTR_PRIMARY:
                    not_null = true;
                    unique = true;
                    break;
                case CONSTR_UNIQUE:
                    unique = true;
                    break;
                default:
                    break;
            }
        }
        const std::string column = def->colname;
        if (not_null && default_expr == nullptr && !fills_rows) {
            add("add-column-not-null-no-default",
                fmt::format("ADD COLUMN {} NOT NULL without a default fails as soon as {} has a row. Add it "
                            "nullable (or with a constant DEFAULT, which needs no rewrite), backfill in batches, "
                            "then add CHECK ({} IS NOT NULL) NOT VALID, VALIDATE it, and SET NOT NULL",
                            column, rel.name, column),
                &rel);
        }
        if (fills_rows || (default_expr != nullptr && is_volatile_expression(default_expr))) {
            add("add-column-volatile-default",
                fmt::format("ADD COLUMN {} with a volatile default (or serial, identity, generated) computes a "
                            "value for every row: {} is rewritten under an ACCESS EXCLUSIVE lock. Add the column "
                            "without a default (or with a constant or stable one such as now()), set the default "
                            "afterwards with ALTER COLUMN ... SET DEFAULT, and backfill existing rows in batches",
                            column, rel.name),
                &rel);
        }
        if (unique) {
            add("add-unique-without-index",
                fmt::format("ADD COLUMN {} with PRIMARY KEY or UNIQUE builds an index under an ACCESS EXCLUSIVE "
                            "lock. Add the column, CREATE UNIQUE INDEX CONCURRENTLY, then ADD CONSTRAINT ... "
                            "USING INDEX",
                            column),
                &rel);
        }
        locks(rel);
    }

    void alter_type(const Relation& rel, const AlterTableCmd* cmd) {
        const auto* def = castNode(ColumnDef, cmd->def);
        column_style(def, false);
        if (!rel.existing()) return;
        const TypeChange change = type_change(rel.oid, cmd->name, def->typeName, def->raw_default != nullptr);
        if (change.known && !change.rewrite) {
            add("alter-column-type",
                fmt::format("ALTER COLUMN {} TYPE needs no rewrite here (binary-compatible or widened type), but "
                            "still takes an ACCESS EXCLUSIVE lock on {} and may rebuild indexes on the column",
                            cmd->name, rel.name),
                &rel, std::nullopt, Severity::warning);
        } else {
            add("alter-column-type",
                fmt::format("ALTER COLUMN {} TYPE rewrites {} and rebuilds its indexes under an ACCESS EXCLUSIVE "
                            "lock. Add a new column of the new type, backfill it in batches, keep both in step "
                            "(trigger) until the application uses the new one, then drop the old one",
                            cmd->name, rel.name),
                &rel);
        }
        locks(rel);
    }

    void add_constraint(const Relation& rel, const Constraint* c) {
        if (!rel.existing()) return;
        const std::string name = c->conname != nullptr ? c->conname : "";
        if ((c->contype == CONSTR_CHECK || c->contype == CONSTR_FOREIGN) && !c->skip_validation) {
            add("add-constraint-not-valid-missing",
                fmt::format("ADD CONSTRAINT {} ({}) without NOT VALID scans all of {} while holding a lock that "
                            "blocks writes{}. Add it NOT VALID, then VALIDATE CONSTRAINT in a later statement (it "
                            "takes only a SHARE UPDATE EXCLUSIVE lock)",
                            name, c->contype == CONSTR_CHECK ? "CHECK" : "FOREIGN KEY", rel.name,
                            c->contype == CONSTR_FOREIGN ? " (on both tables)" : ""),
                &rel);
        }
        if ((c->contype == CONSTR_PRIMARY || c->contype == CONSTR_UNIQUE) && c->indexname == nullptr) {
            add("add-unique-without-index",
                fmt::format("ADD {} builds its index while holding an ACCESS EXCLUSIVE lock on {}. Build it first "
                            "with CREATE UNIQUE INDEX CONCURRENTLY (in a non-transactional migration), then ADD "
                            "CONSTRAINT ... {} USING INDEX",
                            c->contype == CONSTR_PRIMARY ? "PRIMARY KEY" : "UNIQUE", rel.name,
                            c->contype == CONSTR_PRIMARY ? "PRIMARY KEY" : "UNIQUE"),
                &rel);
        }
    }

    void alter_table(AlterTableStmt* stmt) {
        if (stmt->objtype != OBJECT_TABLE) return;
        const Relation rel = relation(stmt->relation);
        ListCell* cell = nullptr;
        foreach (cell, stmt->cmds) {
            const auto* cmd = castNode(AlterTableCmd, lfirst(cell));
            switch (cmd->subtype) {
                case AT_AddColumn:
                    add_column(rel, castNode(ColumnDef, cmd->def));
                    break;
                case AT_AlterColumnType:
                    alter_type(rel, cmd);
                    break;
                case AT_SetNotNull:
                    if (rel.existing()) {
                        add("set-not-null",
                            fmt::format("SET NOT NULL on {} scans the whole table under an ACCESS EXCLUSIVE lock. "
                                        "First ADD CONSTRAINT ... CHECK ({} IS NOT NULL) NOT VALID and VALIDATE "
                                        "CONSTRAINT it: SET NOT NULL then uses it and skips the scan",
                                        cmd->name, cmd->name),
                            &rel);
                    }
                    break;
                case AT_DropNotNull:
                    if (rel.existing()) {
                        add("drop-not-null",
                            fmt::format("DROP NOT NULL on {}.{}: code that assumes the column is set may break, and "
                                        "once NULLs are written it cannot be undone without cleaning them. Make "
                                        "sure every reader handles NULL first",
                                        rel.name, cmd->name),
                            &rel);
                    }
                    break;
                case AT_AddConstraint:
                    add_constraint(rel, castNode(Constraint, cmd->def));
                    break;
                case AT_DropColumn:
                    if (rel.existing() && !up_.column(stmt->relation, cmd->name)) {
                        add("drop-column",
                            fmt::format("DROP COLUMN {} destroys its data and breaks running code that still "
                                        "reads or writes it. Stop using it in the application first (deploy), "
                                        "then drop it in a later migration",
                                        cmd->name),
                            &rel);
                    }
                    break;
                default:
                    break;
            }
        }
        locks(rel);
    }

    void create_index(IndexStmt* stmt) {
        const Relation rel = relation(stmt->relation);
        if (stmt->concurrent && options_.transactional) {
            add("concurrently-in-transaction",
                "CREATE INDEX CONCURRENTLY cannot run inside a transaction, and migrate_apply() runs every "
                "migration in one. Put it in a migration of its own marked non-transactional "
                "(-- pgmig:no-transaction) and apply it with pgmig apply",
                &rel);
        }
        if (!stmt->concurrent && rel.existing()) {
            add("create-index-not-concurrently",
                fmt::format("CREATE INDEX on {} blocks writes to it until the index is built. Use CREATE INDEX "
                            "CONCURRENTLY in a non-transactional migration (-- pgmig:no-transaction)",
                            rel.name),
                &rel);
            locks(rel);
        }
        idempotency(stmt->if_not_exists, "create-not-idempotent", "CREATE INDEX without IF NOT EXISTS",
                    "CREATE INDEX IF NOT EXISTS");
        if (stmt->idxname != nullptr) created_.insert(stmt->idxname);
    }

    void drop(DropStmt* stmt) {
        ListCell* cell = nullptr;
        switch (stmt->removeType) {
            case OBJECT_TABLE:
                foreach (cell, stmt->objects) {
                    if (list_length(castNode(List, lfirst(cell))) > 3) continue;  // not a name of this database
                    RangeVar* rv = pg::call([cell] { return makeRangeVarFromNameList(castNode(List, lfirst(cell))); });
                    const Relation rel = relation(rv);
                    if (!rel.existing()) continue;
                    if (up_.relation(rv)) {  // a down script dropping the table its up created
                        locks(rel);
                        continue;
                    }
                    add("drop-table",
                        fmt::format("DROP TABLE {} destroys its data and breaks running code that uses it. Stop "
                                    "using it first, keep a backup (or rename it and drop it in a later "
                                    "migration), and waive this finding once reviewed",
                                    rel.name),
                        &rel);
                    locks(rel);
                }
                break;
            case OBJECT_INDEX:
                if (stmt->concurrent && options_.transactional) {
                    add("concurrently-in-transaction",
                        "DROP INDEX CONCURRENTLY cannot run inside a transaction, and migrate_apply() runs every "
                        "migration in one. Put it in a migration of its own marked non-transactional "
                        "(-- pgmig:no-transaction) and apply it with pgmig apply");
                }
                if (!stmt->concurrent) {
                    foreach (cell, stmt->objects) {
                        if (list_length(castNode(List, lfirst(cell))) > 3) continue;  // not a name of this database
                        RangeVar* rv =
                            pg::call([cell] { return makeRangeVarFromNameList(castNode(List, lfirst(cell))); });
                        if (created(rv) || up_.index(rv)) continue;
                        const Oid index = relation_oid(rv);
                        if (!OidIsValid(index)) continue;
                        const Oid table = pg::call([index] { return IndexGetRelation(index, true); });
                        if (!OidIsValid(table)) continue;
                        const Relation rel = facts(table);
                        add("drop-index-not-concurrently",
                            fmt::format("DROP INDEX {} takes an ACCESS EXCLUSIVE lock on {}, queueing every query "
                                        "on it while it waits. Use DROP INDEX CONCURRENTLY in a non-transactional "
                                        "migration (-- pgmig:no-transaction)",
                                        range_var_name(rv), rel.name),
                            &rel);  // the object is the table: the sizes reported are its own
                        locks(rel);
                    }
                }
                break;
            case OBJECT_SCHEMA:
                foreach (cell, stmt->objects) {
                    const char* schema = strVal(lfirst(cell));
                    if (created_schemas_.count(schema) != 0 || up_.schema(schema)) continue;
                    if (!OidIsValid(pg::call([schema] { return get_namespace_oid(schema, true); }))) continue;
                    add("drop-schema",
                        fmt::format("DROP SCHEMA {}{} destroys {}. Move or drop its objects in reviewed "
                                    "migrations first",
                                    schema, stmt->behavior == DROP_CASCADE ? " CASCADE" : "",
                                    stmt->behavior == DROP_CASCADE ? "every object in it, data included"
                                                                   : "the schema (it must be empty)"),
                        nullptr, std::string(schema));
                }
                break;
            default:
                break;
        }
        idempotency(stmt->missing_ok, "drop-not-idempotent", "DROP without IF EXISTS", "DROP ... IF EXISTS");
    }

    void rename(RenameStmt* stmt) {
        if (stmt->renameType == OBJECT_TABLE) {
            const Relation rel = relation(stmt->relation);
            if (created(stmt->relation)) {
                created_.insert(stmt->newname);
                return;
            }
            if (!rel.existing()) return;
            add("rename-table",
                fmt::format("RENAME {} TO {} breaks running code that still uses the old name. Deploy code that "
                            "works with both first (e.g. create a view with the old name), or rename in steps",
                            rel.name, stmt->newname),
                &rel);
            renamed_[stmt->newname] = rel.oid;
            locks(rel);
        } else if (stmt->renameType == OBJECT_COLUMN && stmt->relationType == OBJECT_TABLE) {
            const Relation rel = relation(stmt->relation);
            if (!rel.existing()) return;
            add("rename-column",
                fmt::format("RENAME COLUMN {} TO {} on {} breaks running code that still uses the old name. Add "
                            "the new column, write both, backfill, switch readers, then drop the old one",
                            stmt->subname, stmt->newname, rel.name),
                &rel);
            locks(rel);
        } else if (stmt->renameType == OBJECT_SCHEMA) {
            created_schemas_.insert(stmt->newname);
        }
    }

    void whole_table_dml(RangeVar* rv, Node* where, const char* rule, const char* verb) {
        const Relation rel = relation(rv);
        if (where != nullptr || !rel.existing()) return;
        add(rule,
            fmt::format("{} without WHERE touches every row of {} in one transaction (locks, WAL, bloat). Say "
                        "which rows with WHERE, or work in batches; if every row is meant, waive this finding",
                        verb, rel.name),
            &rel);
    }

    void set_variable(VariableSetStmt* stmt) {
        if (stmt->name == nullptr || strcmp(stmt->name, "lock_timeout") != 0) return;
        bool zero = stmt->kind != VAR_SET_VALUE;  // RESET / SET DEFAULT: back to the session's value
        if (stmt->kind == VAR_SET_VALUE && stmt->args != NIL) {
            const auto* value = static_cast<Node*>(linitial(stmt->args));
            if (IsA(value, A_Const)) {
                auto* c = castNode(A_Const, const_cast<Node*>(value));  // not const: intVal() under cassert takes void*
                if (!c->isnull && nodeTag(&c->val) == T_Integer) zero = intVal(&c->val) == 0;
                if (!c->isnull && nodeTag(&c->val) == T_String) zero = strcmp(strVal(&c->val), "0") == 0;
            }
        }
        lock_timeout_set_ = !zero || (stmt->kind != VAR_SET_VALUE && lock_timeout_ms_ > 0);
    }

    void visit(Node* stmt) {
        ListCell* cell = nullptr;
        switch (nodeTag(stmt)) {
            case T_CreateStmt:
                create_table(castNode(CreateStmt, stmt));
                break;
            case T_CreateTableAsStmt: {
                auto* ctas = castNode(CreateTableAsStmt, stmt);
                const bool matview = ctas->objtype == OBJECT_MATVIEW;
                idempotency(ctas->if_not_exists, "create-not-idempotent",
                            matview ? "CREATE MATERIALIZED VIEW without IF NOT EXISTS"
                                    : "CREATE TABLE AS without IF NOT EXISTS",
                            matview ? "CREATE MATERIALIZED VIEW IF NOT EXISTS" : "CREATE TABLE IF NOT EXISTS ... AS");
                remember_created(ctas->into->rel);
                break;
            }
            case T_CreateSeqStmt: {
                auto* seq = castNode(CreateSeqStmt, stmt);
                idempotency(seq->if_not_exists, "create-not-idempotent", "CREATE SEQUENCE without IF NOT EXISTS",
                            "CREATE SEQUENCE IF NOT EXISTS");
                remember_created(seq->sequence);
                break;
            }
            case T_CreateSchemaStmt: {
                auto* schema = castNode(CreateSchemaStmt, stmt);
                idempotency(schema->if_not_exists, "create-not-idempotent", "CREATE SCHEMA without IF NOT EXISTS",
                            "CREATE SCHEMA IF NOT EXISTS");
                if (schema->schemaname != nullptr) created_schemas_.insert(schema->schemaname);
                break;
            }
            case T_ViewStmt: {
                auto* view = castNode(ViewStmt, stmt);
                idempotency(view->replace, "create-not-idempotent", "CREATE VIEW without OR REPLACE",
                            "CREATE OR REPLACE VIEW");
                remember_created(view->view);
                break;
            }
            case T_CreateExtensionStmt:
                idempotency(castNode(CreateExtensionStmt, stmt)->if_not_exists, "create-not-idempotent",
                            "CREATE EXTENSION without IF NOT EXISTS", "CREATE EXTENSION IF NOT EXISTS");
                break;
            case T_CreateFunctionStmt:
                idempotency(castNode(CreateFunctionStmt, stmt)->replace, "create-not-idempotent",
                            "CREATE FUNCTION without OR REPLACE", "CREATE OR REPLACE FUNCTION");
                break;
            case T_AlterTableStmt:
                alter_table(castNode(AlterTableStmt, stmt));
                break;
            case T_IndexStmt:
                create_index(castNode(IndexStmt, stmt));
                break;
            case T_DropStmt:
                drop(castNode(DropStmt, stmt));
                break;
            case T_RenameStmt:
                rename(castNode(RenameStmt, stmt));
                break;
            case T_TruncateStmt:
                foreach (cell, castNode(TruncateStmt, stmt)->relations) {
                    const Relation rel = relation(castNode(RangeVar, lfirst(cell)));
                    if (!rel.existing()) continue;
                    add("truncate",
                        fmt::format("TRUNCATE {} deletes every row at once under an ACCESS EXCLUSIVE lock, and is "
                                    "not undone by a down script. If the data really must go, waive this finding",
                                    rel.name),
                        &rel);
                    locks(rel);
                }
                break;
            case T_DeleteStmt: {
                auto* del = castNode(DeleteStmt, stmt);
                whole_table_dml(del->relation, del->whereClause, "delete-without-where", "DELETE");
                break;
            }
            case T_UpdateStmt: {
                auto* upd = castNode(UpdateStmt, stmt);
                whole_table_dml(upd->relation, upd->whereClause, "update-without-where", "UPDATE");
                break;
            }
            case T_VacuumStmt: {
                auto* vac = castNode(VacuumStmt, stmt);
                if (!vac->is_vacuumcmd || !pg::call([vac] { return has_defelem(vac->options, "full"); })) break;
                Relation rel;
                if (vac->rels != NIL) {
                    const auto* vr = castNode(VacuumRelation, linitial(vac->rels));
                    if (vr->relation != nullptr) rel = relation(vr->relation);
                }
                add("vacuum-full",
                    "VACUUM FULL rewrites the table under an ACCESS EXCLUSIVE lock for its whole duration. Use "
                    "plain VACUUM, or pg_repack / pg_squeeze online, outside migrations",
                    rel.name.empty() ? nullptr : &rel);
                break;
            }
            case T_ClusterStmt: {
                auto* cl = castNode(ClusterStmt, stmt);
                Relation rel;
                if (cl->relation != nullptr) rel = relation(cl->relation);
                add("cluster",
                    "CLUSTER rewrites the table under an ACCESS EXCLUSIVE lock for its whole duration. Use "
                    "pg_repack online, outside migrations",
                    rel.name.empty() ? nullptr : &rel);
                break;
            }
            case T_LockStmt:
                foreach (cell, castNode(LockStmt, stmt)->relations) {
                    const Relation rel = relation(castNode(RangeVar, lfirst(cell)));
                    if (!rel.existing()) continue;
                    add("lock-table",
                        fmt::format("LOCK TABLE {} holds the lock until the migration commits, blocking others. "
                                    "Keep the migration short, and set lock_timeout so that the wait is bounded",
                                    rel.name),
                        &rel);
                    locks(rel);
                }
                break;
            case T_VariableSetStmt:
                set_variable(castNode(VariableSetStmt, stmt));
                break;
            default:
                break;
        }
    }

    const Options& options_;
    int lock_timeout_ms_;
    std::string text_;
    int line_ = 1;
    int col_ = 1;
    size_t first_ = 0;
    std::vector<Finding> findings_;
    std::set<std::string> created_;  // relations and indexes created by the script: name and schema.name
    std::set<std::string> created_schemas_;
    std::map<std::string, Oid> renamed_;  // new name -> existing relation renamed by the script
    std::map<Oid, Relation> cache_;
    UpObjects up_;  // linting a down script: what its up script created
    bool lock_timeout_set_ = false;
    bool lock_reported_ = false;
};

bool waived_by(const std::vector<std::string>& rules, const std::string& rule) {
    return std::find(rules.begin(), rules.end(), rule) != rules.end();
}

Finding syntax_error(const std::string& sql, const pg::PgError& e) {
    Finding f;
    f.rule = "syntax-error";
    f.severity = Severity::error;
    size_t byte = 0;
    if (e.cursorpos() > 0) byte = byte_of_char_position(sql, 0, e.cursorpos());
    Cursor cursor(sql);
    std::tie(f.line, f.col) = cursor.at(byte);
    const size_t line_start = byte == 0 ? 0 : sql.rfind('\n', byte - 1);
    const size_t from = line_start == std::string::npos || byte == 0 ? 0 : line_start + 1;
    const size_t to = std::min(sql.find('\n', from), sql.size());
    // The line and the message (which quotes the token the grammar rejected) may hold a secret of the script.
    const std::vector<std::string> secrets = secret_values(sql);
    f.statement = mask_values(redact_statement(sql.substr(from, to - from)), secrets);
    f.message = e.message();
    if (!e.detail().empty()) f.message += " (" + e.detail() + ")";
    f.message = mask_values(f.message, secrets);
    return f;
}

}  // namespace

void check_allow(const std::vector<std::string>& allow) {
    try {
        for (const std::string& rule : allow) common::check_waivable(rule, "in the allow option");
    } catch (const common::InvalidWaiver& e) {
        throw invalid_waiver(e);
    }
}

const char* severity_name(Severity s) {
    switch (s) {
        case Severity::advice:
            return "advice";
        case Severity::warning:
            return "warning";
        case Severity::error:
            return "error";
    }
    return "error";
}

std::vector<Finding> lint_script(const std::string& sql, const Options& options) {
    check_allow(options.allow);
    const char* source = sql.c_str();
    List* parsed = nullptr;
    try {
        // In a subtransaction, rolled back when the script does not parse.
        parsed = pg::call_isolated([source] { return raw_parser(source, RAW_PARSE_DEFAULT); });
    } catch (const pg::PgError& e) {
        if (pg::is_interrupt(e)) throw;  // a cancel or timeout is no syntax error
        return {syntax_error(sql, e)};
    }

    Linter linter(options, options.lock_timeout_ms.value_or(settings::lock_timeout_ms()));
    if (options.down_of) {
        // An up script that does not parse created nothing the down may drop (its own lint reports it).
        const char* up_source = options.down_of->c_str();
        UpObjects up;
        try {
            up.collect(pg::call_isolated([up_source] { return raw_parser(up_source, RAW_PARSE_DEFAULT); }));
        } catch (const pg::PgError& e) {
            if (pg::is_interrupt(e)) throw;
        }
        linter.undoing(std::move(up));
    }
    Cursor cursor(sql);
    std::vector<Waiver> script_waivers;
    size_t prev_end = 0;
    int prev_end_line = 0;
    std::vector<std::pair<size_t, size_t>> statement_findings;  // [first, end) of each statement's findings
    ListCell* cell = nullptr;
    foreach (cell, parsed) {
        pg::check_for_interrupts();
        const auto* raw = static_cast<RawStmt*>(lfirst(cell));
        const size_t location = std::max(0, raw->stmt_location);
        const size_t end =
            raw->stmt_len <= 0 ? sql.size() : std::min(sql.size(), location + static_cast<size_t>(raw->stmt_len));
        std::vector<Waiver> waivers;
        std::set<int> blank_lines;
        const size_t first = scan_gap(sql, prev_end, end, cursor, waivers, blank_lines);
        const std::pair<int, int> position = cursor.at(first);
        const int line = position.first;
        const int col = position.second;
        std::vector<std::string> statement_waivers;
        for (const Waiver& w : waivers) {
            if (w.line == prev_end_line && !statement_findings.empty()) {
                // A comment on the line where the previous statement ends: that statement's.
                auto& findings = linter.findings();
                for (size_t i = statement_findings.back().first; i < statement_findings.back().second; ++i) {
                    if (waived_by(w.rules, findings[i].rule)) findings[i].waived = true;
                }
                continue;
            }
            const bool adjacent =
                std::none_of(blank_lines.begin(), blank_lines.end(), [&](int b) { return b > w.line && b < line; });
            if (adjacent) {
                statement_waivers.insert(statement_waivers.end(), w.rules.begin(), w.rules.end());
            } else {
                script_waivers.push_back(w);
            }
        }
        linter.statement(raw->stmt, sql.substr(first, end - first), line, col);
        auto& findings = linter.findings();
        for (size_t i = linter.last_statement_first(); i < findings.size(); ++i) {
            if (waived_by(statement_waivers, findings[i].rule)) findings[i].waived = true;
        }
        statement_findings.emplace_back(linter.last_statement_first(), findings.size());
        prev_end = end;
        prev_end_line = cursor.at(end == 0 ? 0 : end - 1).first;
    }
    // After the last statement: a comment on its line is its own, the rest waive for the whole script.
    {
        std::vector<Waiver> waivers;
        std::set<int> blank_lines;
        scan_gap(sql, prev_end, sql.size(), cursor, waivers, blank_lines);
        for (const Waiver& w : waivers) {
            if (w.line == prev_end_line && !statement_findings.empty()) {
                auto& findings = linter.findings();
                for (size_t i = statement_findings.back().first; i < statement_findings.back().second; ++i) {
                    if (waived_by(w.rules, findings[i].rule)) findings[i].waived = true;
                }
            } else {
                script_waivers.push_back(w);
            }
        }
    }
    std::vector<Finding> findings = std::move(linter.findings());
    for (Finding& f : findings) {
        if (waived_by(options.allow, f.rule)) f.waived = true;
        for (const Waiver& w : script_waivers) {
            if (waived_by(w.rules, f.rule)) f.waived = true;
        }
    }
    return findings;
}

namespace {

// The waivers of a query string, cached: an out-of-band query string of 50,000 DDL statements fires as
// many events, and searching all of it at each one would be quadratic. The cache is keyed by the
// string's address and statement_timestamp() (the arrival of the client's message, the same for every
// statement of that string), and holds the rules as "rule\0rule\0\0" in TopMemoryContext.
struct WaiverCache {
    const char* query;
    TimestampTz received;
    char* rules;  // nullptr: nothing cached
};
WaiverCache g_waivers = {nullptr, 0, nullptr};

// `-- pgmig:allow` comments anywhere in `text`: one pass, linear in its size.
std::vector<std::string> find_waivers(std::string_view text) {
    constexpr std::string_view kAllow = common::kWaiverMarker;
    std::vector<std::string> allow;
    LineCounter lines(text);
    for (size_t pos = text.find(kAllow); pos != std::string_view::npos; pos = text.find(kAllow, pos + 1)) {
        pg::check_for_interrupts();
        size_t before = pos;  // "--", blanks, then pgmig:allow (the blanks walked belong to this one only)
        while (before > 0 && (text[before - 1] == ' ' || text[before - 1] == '\t')) --before;
        if (before < 2 || text.compare(before - 2, 2, "--") != 0) continue;
        const size_t nl = std::min(text.find('\n', pos), text.size());
        for (std::string& r : waiver_rules(text.substr(pos + kAllow.size(), nl - pos - kAllow.size()), lines.at(pos))) {
            allow.push_back(std::move(r));
        }
    }
    return allow;
}

std::vector<std::string> query_waivers(const char* query) {
    if (query == nullptr) return {};
    const TimestampTz received = GetCurrentStatementStartTimestamp();
    if (g_waivers.rules == nullptr || g_waivers.query != query || g_waivers.received != received) {
        const std::vector<std::string> found = find_waivers(query);  // throws on a bad waiver: nothing cached
        size_t size = 1;
        for (const std::string& r : found) size += r.size() + 1;
        char* rules = static_cast<char*>(pg::call([size] { return MemoryContextAlloc(TopMemoryContext, size); }));
        char* out = rules;
        for (const std::string& r : found) {
            memcpy(out, r.c_str(), r.size() + 1);
            out += r.size() + 1;
        }
        *out = '\0';
        if (g_waivers.rules != nullptr) pfree(g_waivers.rules);
        g_waivers = {query, received, rules};
    }
    std::vector<std::string> allow;
    for (const char* r = g_waivers.rules; *r != '\0'; r += strlen(r) + 1) allow.emplace_back(r);
    return allow;
}

}  // namespace

std::vector<Finding> lint_statement(Node* stmt, const char* query) {
    if (stmt == nullptr) return {};
    Options options;
    options.transactional = false;  // out of band: PostgreSQL itself refuses CONCURRENTLY in a block
    // The waivers: `-- pgmig:allow` comments anywhere in the client's query string.
    const std::vector<std::string> allow = query_waivers(query);
    Linter linter(options, LockTimeout);
    linter.statement(stmt, {}, 1, 1);
    std::vector<Finding> findings;
    for (Finding& f : linter.findings()) {
        // Whether a statement typed by hand can run twice is nobody's concern.
        if (f.rule == "create-not-idempotent" || f.rule == "drop-not-idempotent") continue;
        f.waived = waived_by(allow, f.rule);
        findings.push_back(std::move(f));
    }
    return findings;
}

std::string describe_out_of_band(const Finding& f) {
    std::string out = fmt::format("{} [{}] {}", severity_name(f.severity), f.rule, f.message);
    if (f.table_bytes) {
        out += fmt::format(" (table {}: {} rows, {} bytes)", f.object.value_or("?"),
                           f.table_rows ? std::to_string(*f.table_rows) : std::string("unknown (not analyzed)"),
                           *f.table_bytes);
    }
    return out;
}

std::string describe(const Finding& f) {
    std::string out = fmt::format("line {}: {} [{}] {}", f.line, severity_name(f.severity), f.rule, f.message);
    if (f.table_bytes) {
        out += fmt::format(" (table {}: {} rows, {} bytes)", f.object.value_or("?"),
                           f.table_rows ? std::to_string(*f.table_rows) : std::string("unknown (not analyzed)"),
                           *f.table_bytes);
    }
    return out;
}

Options options_for(const MigrationOptions& o) {
    Options options;
    options.allow = o.allow;
    options.transactional = o.transactional;
    options.lock_timeout_ms = o.lock_timeout_ms;
    options.down_of = o.down_of;
    return options;
}

Options options_for(const Migration& m) { return options_for(m.options); }

std::string findings_json(const std::vector<Finding>& findings) {
    nlohmann::json out = nlohmann::json::array();
    auto optional = [](const auto& value) { return value ? nlohmann::json(*value) : nlohmann::json(nullptr); };
    for (const Finding& f : findings) {
        out.push_back({{"rule", f.rule},
                       {"severity", severity_name(f.severity)},
                       {"line", f.line},
                       {"col", f.col},
                       {"statement", f.statement},
                       {"message", f.message},
                       {"object", optional(f.object)},
                       {"table_rows", optional(f.table_rows)},
                       {"table_bytes", optional(f.table_bytes)},
                       {"waived", f.waived}});
    }
    return out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void check_plan(const std::vector<Migration>& plan) {
    const settings::LintBlock block = settings::lint_block();
    if (block == settings::LintBlock::off) return;
    const Severity threshold = block == settings::LintBlock::warning ? Severity::warning : Severity::error;
    std::string first_label;
    std::string first_finding;
    std::string detail;
    int count = 0;
    for (const Migration& m : plan) {
        for (const Finding& f : lint_script(m.up_sql, options_for(m))) {
            if (f.waived || f.severity < threshold) continue;
            if (count == 0) {
                first_label = m.label();
                first_finding = fmt::format("[{}] at line {}", f.rule, f.line);
            }
            if (count < 20) detail += fmt::format("{}{}, {}", detail.empty() ? "" : "\n", m.label(), describe(f));
            ++count;
        }
    }
    if (count == 0) return;
    if (count > 20) detail += fmt::format("\n... and {} more", count - 20);
    throw Error(sqlstate::lint_blocked,
                fmt::format("{} has lint findings that block migrate_apply() here (pgmig.lint_block = {}): {}{}",
                            first_label, settings::lint_block_name(block), first_finding,
                            count > 1 ? fmt::format(" and {} more", count - 1) : std::string()),
                detail,
                "nothing was run. Fix the migration the way each finding says, or, once a reviewer has accepted the "
                "risk, waive it: -- pgmig:allow RULE on the line before the statement (or the migration's allow "
                "option), register it again and apply. SELECT * FROM migrate_lint(up_sql) shows every finding");
}

}  // namespace pgmig::lint

using namespace pgmig;

// migrate_lint(sql text, options jsonb DEFAULT '{}') -> SETOF (rule, severity, line, col, statement,
// message, object, table_rows, table_bytes, waived)
PGMIG_FUNCTION(migrate_lint) {
    const std::string sql = pg::required_text_arg(fcinfo, 0, "sql");
    std::string options_json = "{}";
    if (!PG_ARGISNULL(1)) {
        options_json =
            pg::call([fcinfo] { return DatumGetCString(DirectFunctionCall1(jsonb_out, PG_GETARG_DATUM(1))); });
    }
    const lint::Options options = lint::options_for(parse_options(options_json, OptionsOf::lint));
    const std::vector<lint::Finding> findings = lint::lint_script(sql, options);
    std::vector<pg::TextRow> rows;
    rows.reserve(findings.size());
    const auto number = [](const std::optional<long long>& v) {
        return v ? std::optional(std::to_string(*v)) : std::nullopt;
    };
    for (const lint::Finding& f : findings) {
        rows.push_back({f.rule, lint::severity_name(f.severity), std::to_string(f.line), std::to_string(f.col),
                        f.statement, f.message, f.object, number(f.table_rows), number(f.table_bytes),
                        f.waived ? "true" : "false"});
    }
    pg::return_rows(fcinfo, rows);
    return static_cast<Datum>(0);
}
