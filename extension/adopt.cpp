// Taking over another migration tool's history: migrate_adopt_sources() finds the history tables of
// the tools pgmig knows in this database, migrate_adopt() reads one of them (as its owner, restricted)
// and marks exactly the migrations it records as applied in the ledger, with the time and user the
// tool recorded (docs/adopting.md, "pgmig adopt").
// Before PostgreSQL's headers, whose port.h redefines snprintf as a macro nlohmann-json trips over.
#include <nlohmann/json.hpp>

extern "C" {
#include "postgres.h"
#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type_d.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rls.h"
#include "utils/syscache.h"
}

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/version.hpp"
#include "ledger_store.hpp"
#include "pg/boundary.hpp"
#include "pg/spi.hpp"
#include "pg/values.hpp"
#include "restricted_role.hpp"
#include "runner.hpp"

namespace pgmig {
namespace {

// What a column of a tool's table must hold, as PostgreSQL's built-in types only: the queries below
// compare, order and cast them, which must run no operator, cast or output function of the user's.
enum class Kind { text, integer, boolean, time };

struct Column {
    const char* name;
    Kind kind;
};

struct Shape {
    const char* table;
    std::span<const Column> columns;
    const char* absent;  // a column the table must not have (nullptr: none)
};

// One tool pgmig adopts from. `select` reads its history table ({t}) as rows of
// (key, alt, kind, applied_at timestamptz, applied_by, duration_ms), oldest first, where key is what
// the tool calls the migration (MigrationFile::tool_id on the client's side), alt another name it has
// (Flyway's description, Sqitch's change_id) and kind one of:
//   applied, failed, dirty, upto (this version and every older one: golang-migrate), baseline (every
//   version up to this one: Flyway's baseline), removed (a later row undid it), ignore, repeatable.
// The newest row of a key decides, except that a failed one stays failed.
struct Tool {
    const char* name;   // as --from / migrate_adopt take it
    const char* title;  // for messages
    Shape history;
    const Shape* sibling;  // a second table in the same schema (Sqitch's events), or nullptr
    const char* select;
    const char* last_event;  // {e}: Sqitch's newest event of each change
    bool versioned_keys;     // keys are versions, compared in natural order (1 = 001)
    const char* next_step;   // how to leave a failed or dirty state with that tool
};

constexpr Column kFlyway[] = {{"installed_rank", Kind::integer},
                              {"version", Kind::text},
                              {"description", Kind::text},
                              {"type", Kind::text},
                              {"script", Kind::text},
                              {"installed_by", Kind::text},
                              {"installed_on", Kind::time},
                              {"execution_time", Kind::integer},
                              {"success", Kind::boolean}};
constexpr Column kGolangMigrate[] = {{"version", Kind::integer}, {"dirty", Kind::boolean}};
constexpr Column kDbmate[] = {{"version", Kind::text}};
constexpr Column kGoose[] = {
    {"id", Kind::integer}, {"version_id", Kind::integer}, {"is_applied", Kind::boolean}, {"tstamp", Kind::time}};
constexpr Column kSqlMigrate[] = {{"id", Kind::text}, {"applied_at", Kind::time}};
constexpr Column kNodePgMigrate[] = {{"id", Kind::integer}, {"name", Kind::text}, {"run_on", Kind::time}};
constexpr Column kDiesel[] = {{"version", Kind::text}, {"run_on", Kind::time}};
constexpr Column kPrisma[] = {{"id", Kind::text},
                              {"migration_name", Kind::text},
                              {"started_at", Kind::time},
                              {"finished_at", Kind::time},
                              {"rolled_back_at", Kind::time}};
constexpr Column kDrizzle[] = {{"id", Kind::integer}, {"hash", Kind::text}, {"created_at", Kind::integer}};
constexpr Column kLiquibase[] = {
    {"id", Kind::text},           {"author", Kind::text},           {"filename", Kind::text},
    {"dateexecuted", Kind::time}, {"orderexecuted", Kind::integer}, {"exectype", Kind::text}};
constexpr Column kSqitchChanges[] = {{"change_id", Kind::text},
                                     {"change", Kind::text},
                                     {"project", Kind::text},
                                     {"committed_at", Kind::time},
                                     {"committer_name", Kind::text}};
constexpr Column kSqitchEvents[] = {
    {"event", Kind::text}, {"change", Kind::text}, {"committed_at", Kind::time}, {"committer_name", Kind::text}};
constexpr Shape kSqitchEventsShape{"events", kSqitchEvents, nullptr};

// Every text below runs with search_path = pg_catalog, pg_temp (AsRestrictedRole) and names every
// function, operator and type by its schema all the same.
constexpr Tool kTools[] = {
    {"flyway",
     "Flyway",
     {"flyway_schema_history", kFlyway, nullptr},
     nullptr,
     "SELECT f.version::pg_catalog.text, f.description::pg_catalog.text, "
     "CASE WHEN NOT f.success THEN 'failed' "
     "WHEN f.type OPERATOR(pg_catalog.=) 'BASELINE' THEN 'baseline' "
     "WHEN f.type OPERATOR(pg_catalog.=) 'SCHEMA' THEN 'ignore' "
     "WHEN f.type OPERATOR(pg_catalog.=) 'DELETE' OR f.type OPERATOR(pg_catalog.~~) 'UNDO%' THEN 'removed' "
     "WHEN f.version IS NULL THEN 'repeatable' ELSE 'applied' END, "
     "f.installed_on::pg_catalog.timestamptz, f.installed_by::pg_catalog.text, f.execution_time::pg_catalog.int8 "
     "FROM {t} f ORDER BY f.installed_rank",
     nullptr,
     true,
     "with Flyway: fix the migration, then flyway repair (removes the failed row) and flyway migrate, or undo "
     "what it did by hand and flyway repair"},
    {"golang-migrate",
     "golang-migrate",
     {"schema_migrations", kGolangMigrate, nullptr},
     nullptr,
     "SELECT g.version::pg_catalog.text, NULL::pg_catalog.text, "
     "CASE WHEN g.dirty THEN 'dirty' ELSE 'upto' END, NULL::pg_catalog.timestamptz, NULL::pg_catalog.text, "
     "NULL::pg_catalog.int8 FROM {t} g",
     nullptr,
     true,
     "check what the failed migration left, finish or undo it by hand, then migrate force VERSION (the version the "
     "database is really at)"},
    {"dbmate",
     "dbmate",
     {"schema_migrations", kDbmate, "dirty"},
     nullptr,
     "SELECT d.version::pg_catalog.text, NULL::pg_catalog.text, 'applied', NULL::pg_catalog.timestamptz, "
     "NULL::pg_catalog.text, NULL::pg_catalog.int8 FROM {t} d ORDER BY d.version",
     nullptr,
     false,
     "dbmate records no failed state"},
    {"goose",
     "goose",
     {"goose_db_version", kGoose, nullptr},
     nullptr,
     "SELECT g.version_id::pg_catalog.text, NULL::pg_catalog.text, "
     "CASE WHEN g.is_applied THEN 'applied' ELSE 'removed' END, g.tstamp::pg_catalog.timestamptz, "
     "NULL::pg_catalog.text, NULL::pg_catalog.int8 FROM {t} g "
     "WHERE g.version_id OPERATOR(pg_catalog.<>) 0 ORDER BY g.id",
     nullptr,
     false,
     "goose records no failed state"},
    {"sql-migrate",
     "sql-migrate",
     {"gorp_migrations", kSqlMigrate, nullptr},
     nullptr,
     "SELECT s.id::pg_catalog.text, NULL::pg_catalog.text, 'applied', s.applied_at::pg_catalog.timestamptz, "
     "NULL::pg_catalog.text, NULL::pg_catalog.int8 FROM {t} s ORDER BY s.applied_at, s.id",
     nullptr,
     false,
     "sql-migrate records no failed state"},
    {"node-pg-migrate",
     "node-pg-migrate",
     {"pgmigrations", kNodePgMigrate, nullptr},
     nullptr,
     "SELECT p.name::pg_catalog.text, NULL::pg_catalog.text, 'applied', p.run_on::pg_catalog.timestamptz, "
     "NULL::pg_catalog.text, NULL::pg_catalog.int8 FROM {t} p ORDER BY p.run_on, p.id",
     nullptr,
     false,
     "node-pg-migrate records no failed state"},
    {"diesel",
     "Diesel",
     {"__diesel_schema_migrations", kDiesel, nullptr},
     nullptr,
     "SELECT d.version::pg_catalog.text, NULL::pg_catalog.text, 'applied', d.run_on::pg_catalog.timestamptz, "
     "NULL::pg_catalog.text, NULL::pg_catalog.int8 FROM {t} d ORDER BY d.run_on, d.version",
     nullptr,
     false,
     "Diesel records no failed state"},
    {"prisma",
     "Prisma",
     {"_prisma_migrations", kPrisma, nullptr},
     nullptr,
     "SELECT p.migration_name::pg_catalog.text, NULL::pg_catalog.text, "
     "CASE WHEN p.rolled_back_at IS NOT NULL THEN 'removed' WHEN p.finished_at IS NULL THEN 'failed' "
     "ELSE 'applied' END, p.finished_at::pg_catalog.timestamptz, NULL::pg_catalog.text, NULL::pg_catalog.int8 "
     "FROM {t} p ORDER BY p.started_at, p.id",
     nullptr,
     false,
     "with Prisma: undo what the failed migration did and run prisma migrate resolve --rolled-back NAME, or finish "
     "it by hand and run prisma migrate resolve --applied NAME"},
    {"drizzle",
     "Drizzle Kit",
     {"__drizzle_migrations", kDrizzle, nullptr},
     nullptr,
     "SELECT d.hash::pg_catalog.text, NULL::pg_catalog.text, 'applied', NULL::pg_catalog.timestamptz, "
     "NULL::pg_catalog.text, NULL::pg_catalog.int8 FROM {t} d ORDER BY d.created_at, d.id",
     nullptr,
     false,
     "Drizzle records no failed state"},
    {"liquibase",
     "Liquibase",
     {"databasechangelog", kLiquibase, nullptr},
     nullptr,
     "SELECT pg_catalog.concat_ws(':', l.id, l.author, l.filename), NULL::pg_catalog.text, "
     "CASE WHEN l.exectype OPERATOR(pg_catalog.=) 'FAILED' THEN 'failed' "
     "WHEN l.exectype OPERATOR(pg_catalog.=) ANY (ARRAY['EXECUTED', 'RERAN', 'MARK_RAN']::pg_catalog.text[]) "
     "THEN 'applied' ELSE 'ignore' END, l.dateexecuted::pg_catalog.timestamptz, NULL::pg_catalog.text, "
     "NULL::pg_catalog.int8 FROM {t} l ORDER BY l.orderexecuted, l.dateexecuted",
     nullptr,
     false,
     "with Liquibase: undo what the failed changeset did, delete its FAILED row (or liquibase "
     "clear-checksums and update again)"},
    {"sqitch",
     "Sqitch",
     {"changes", kSqitchChanges, nullptr},
     &kSqitchEventsShape,
     "SELECT c.change::pg_catalog.text, c.change_id::pg_catalog.text, 'applied', "
     "c.committed_at::pg_catalog.timestamptz, c.committer_name::pg_catalog.text, NULL::pg_catalog.int8 "
     "FROM {t} c ORDER BY c.committed_at",
     "SELECT DISTINCT ON (e.change) e.event::pg_catalog.text, e.change::pg_catalog.text, "
     "e.committed_at::pg_catalog.timestamptz, e.committer_name::pg_catalog.text FROM {e} e "
     "ORDER BY e.change, e.committed_at DESC",
     false,
     "with Sqitch: check what the failed change left and undo it, fix the change and sqitch deploy it (its newest "
     "event is then a deploy)"},
};

std::string tool_names() {
    std::string out;
    for (const Tool& t : kTools) out += (out.empty() ? "" : ", ") + std::string(t.name);
    return out;
}

const Tool& tool_named(const std::string& name) {
    for (const Tool& t : kTools) {
        if (name == t.name) return t;
    }
    throw Error(sqlstate::invalid_argument, fmt::format("pgmig does not adopt from \"{}\"", name), {},
                "name one of: " + tool_names());
}

// A table found where a tool's history table could be.
struct Source {
    const Tool* tool;
    Oid rel = InvalidOid;
    Oid sibling = InvalidOid;
    std::string schema;
    std::string table;
    std::string name;                    // schema-qualified, quoted where needed
    std::optional<std::string> problem;  // why it is not that tool's table; nullopt when it fits
};

bool fits(Kind kind, Oid type) {
    switch (kind) {
        case Kind::text:
            return type == TEXTOID || type == VARCHAROID || type == BPCHAROID || type == NAMEOID;
        case Kind::integer:
            return type == INT2OID || type == INT4OID || type == INT8OID || type == NUMERICOID;
        case Kind::boolean:
            return type == BOOLOID;
        case Kind::time:
            return type == TIMESTAMPOID || type == TIMESTAMPTZOID;
    }
    return false;
}

const char* kind_name(Kind kind) {
    switch (kind) {
        case Kind::text:
            return "text or varchar";
        case Kind::integer:
            return "an integer";
        case Kind::boolean:
            return "boolean";
        case Kind::time:
            return "timestamp";
    }
    return "?";
}

// Why the relation is not a table of `shape` (its kind, a missing column, a column of another type or
// a column it must not have); nullopt when it fits.
std::optional<std::string> shape_problem(pg::Spi& spi, Oid rel, const std::string& relkind, const Shape& shape) {
    if (relkind != "r" && relkind != "p") {
        return fmt::format("it is not a table (relkind '{}'): pgmig reads history from tables only", relkind);
    }
    const pg::Rows cols = spi.query(
        "SELECT a.attname::pg_catalog.text, a.atttypid::pg_catalog.text, "
        "pg_catalog.format_type(a.atttypid, a.atttypmod) FROM pg_catalog.pg_attribute a "
        "WHERE a.attrelid OPERATOR(pg_catalog.=) $1 AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped",
        {{OIDOID, std::to_string(rel)}}, SPI_OK_SELECT);
    std::map<std::string, std::pair<Oid, std::string>> present;
    for (const auto& row : cols.rows) {
        present[*row[0]] = {static_cast<Oid>(std::stoul(*row[1])), *row[2]};
    }
    for (const Column& c : shape.columns) {
        const auto it = present.find(c.name);
        if (it == present.end()) return fmt::format("it has no column {}", c.name);
        if (!fits(c.kind, it->second.first)) {
            return fmt::format("its column {} is of type {}, not {}", c.name, it->second.second, kind_name(c.kind));
        }
    }
    if (shape.absent && present.contains(shape.absent)) {
        return fmt::format("it has a column {}", shape.absent);
    }
    return std::nullopt;
}

// The relations named like `tool`'s history table, in every schema but the system's and pgmig's own.
std::vector<Source> sources_of(pg::Spi& spi, const Tool& tool) {
    const pg::Rows found = spi.query(
        "SELECT c.oid::pg_catalog.text, n.oid::pg_catalog.text, n.nspname::pg_catalog.text, "
        "c.relname::pg_catalog.text, c.relkind::pg_catalog.text, "
        "pg_catalog.quote_ident(n.nspname) OPERATOR(pg_catalog.||) '.' OPERATOR(pg_catalog.||) "
        "pg_catalog.quote_ident(c.relname) "
        "FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace "
        "WHERE c.relname OPERATOR(pg_catalog.=) $1 AND c.relpersistence OPERATOR(pg_catalog.<>) 't' "
        "AND c.relkind OPERATOR(pg_catalog.<>) ALL (ARRAY['i', 'I', 'S', 'c', 't']::pg_catalog.\"char\"[]) "
        "AND n.nspname OPERATOR(pg_catalog.<>) ALL "
        "(ARRAY['pg_catalog', 'information_schema', 'pg_toast', 'pgmig']::pg_catalog.name[]) "
        "ORDER BY n.nspname",
        {{TEXTOID, std::string(tool.history.table)}}, SPI_OK_SELECT);
    std::vector<Source> out;
    for (const auto& row : found.rows) {
        Source s{&tool};
        s.rel = static_cast<Oid>(std::stoul(*row[0]));
        s.schema = *row[2];
        s.table = *row[3];
        s.name = *row[5];
        s.problem = shape_problem(spi, s.rel, *row[4], tool.history);
        if (!s.problem && tool.sibling) {
            const pg::Rows sib = spi.query(
                "SELECT c.oid::pg_catalog.text, c.relkind::pg_catalog.text FROM pg_catalog.pg_class c "
                "WHERE c.relnamespace OPERATOR(pg_catalog.=) $1::pg_catalog.oid AND c.relname OPERATOR(pg_catalog.=) "
                "$2",
                {{TEXTOID, *row[1]}, {TEXTOID, std::string(tool.sibling->table)}}, SPI_OK_SELECT);
            if (sib.rows.empty()) {
                s.problem = fmt::format("there is no table {} beside it", tool.sibling->table);
            } else {
                s.sibling = static_cast<Oid>(std::stoul(*sib.rows[0][0]));
                if (auto p = shape_problem(spi, s.sibling, *sib.rows[0][1], *tool.sibling)) {
                    s.problem = fmt::format("its table {}: {}", tool.sibling->table, *p);
                }
            }
        }
        out.push_back(std::move(s));
    }
    return out;
}

std::string role_name(Oid role) {
    return pg::call([role] { return static_cast<const char*>(GetUserNameFromId(role, false)); });
}

Oid owner_of(Oid rel) {
    return pg::call([rel] {
        HeapTuple tup = SearchSysCache1(RELOID, ObjectIdGetDatum(rel));
        if (!HeapTupleIsValid(tup)) elog(ERROR, "cache lookup failed for relation %u", rel);
        const Oid owner = reinterpret_cast<Form_pg_class>(GETSTRUCT(tup))->relowner;
        ReleaseSysCache(tup);
        return owner;
    });
}

// The one source of `tool` to read: `chosen` when given (schema.table), else the only one that fits.
Source choose_source(pg::Spi& spi, const Tool& tool, const std::optional<std::string>& chosen) {
    std::vector<Source> all = sources_of(spi, tool);
    if (chosen) {
        for (Source& s : all) {
            if (*chosen == s.name || *chosen == s.schema + "." + s.table) {
                if (s.problem) {
                    throw Error(sqlstate::adopt_refused,
                                fmt::format("{} is not {}'s history table: {}", s.name, tool.title, *s.problem), {},
                                "name the table the tool wrote its history to");
                }
                return s;
            }
        }
        throw Error(sqlstate::adopt_refused, fmt::format("there is no table {} named {}", tool.history.table, *chosen),
                    {}, "see SELECT * FROM migrate_adopt_sources() for the history tables of this database");
    }
    std::vector<Source> fitting;
    std::string misfits;
    for (Source& s : all) {
        if (s.problem) {
            misfits += fmt::format("{}{} ({})", misfits.empty() ? "" : "; ", s.name, *s.problem);
        } else {
            fitting.push_back(s);
        }
    }
    if (fitting.empty()) {
        throw Error(sqlstate::adopt_refused,
                    fmt::format("this database has no {} history table ({})", tool.title, tool.history.table),
                    misfits.empty() ? std::string() : "not " + std::string(tool.title) + "'s: " + misfits,
                    "connect to the database the tool migrated; without any history table, pgmig baseline VERSION "
                    "marks the files up to VERSION applied");
    }
    if (fitting.size() > 1) {
        std::string names;
        for (const Source& s : fitting) names += (names.empty() ? "" : ", ") + s.name;
        throw Error(sqlstate::adopt_refused,
                    fmt::format("this database has several {} history tables: {}", tool.title, names), {},
                    "name the one to adopt (source => 'schema.table', pgmig adopt --table SCHEMA.TABLE)");
    }
    return fitting.front();
}

// One migration as the tool's table records it, after folding its rows (the newest row decides).
struct Record {
    std::optional<std::string> key;
    std::optional<std::string> alt;
    std::string kind;
    std::optional<std::string> applied_at;
    std::optional<std::string> applied_by;
    std::optional<std::string> duration_ms;
    std::string vkey;  // version_sort_key of key, when the key is a version; else empty
    bool matched = false;
    std::string id() const { return key.value_or(alt.value_or("")); }
};

bool is_version(const std::optional<std::string>& s) { return s && !common::version_problem(*s); }

// Reads the source's rows as its owner, inside a security-restricted operation (a row-level security
// policy or a column default is the owner's code, never run with the caller's rights), after checking
// that the caller may read every row of it itself.
std::vector<Record> read_records(pg::Spi& spi, const Source& s) {
    const Oid caller = GetUserId();
    for (const Oid rel : {s.rel, s.sibling}) {
        if (!OidIsValid(rel)) continue;
        const bool may = pg::call([rel, caller] { return pg_class_aclcheck(rel, caller, ACL_SELECT) == ACLCHECK_OK; });
        if (!may) {
            throw Error(sqlstate::insufficient_privilege,
                        fmt::format("permission denied to read {}'s history table {}", s.tool->title, s.name),
                        fmt::format("{} may not SELECT from it", role_name(caller)),
                        "adopt as a role that may read it (GRANT SELECT ON it TO this role)");
        }
        const bool filtered = pg::call([rel, caller] { return check_enable_rls(rel, caller, true) == RLS_ENABLED; });
        if (filtered) {
            throw Error(sqlstate::adopt_refused,
                        fmt::format("row-level security hides rows of {} from {}", s.name, role_name(caller)),
                        "pgmig adopts only a history it can read whole",
                        "adopt as the table's owner or a role with BYPASSRLS");
        }
    }
    const auto quoted = [](Oid rel) {
        return pg::call([rel] {
            return static_cast<const char*>(
                quote_qualified_identifier(get_namespace_name(get_rel_namespace(rel)), get_rel_name(rel)));
        });
    };
    const std::string sql = fmt::format(fmt::runtime(s.tool->select), fmt::arg("t", quoted(s.rel)));
    pg::Rows rows;
    {
        AsRestrictedRole as(owner_of(s.rel));
        rows = spi.query(sql.c_str(), {}, SPI_OK_SELECT);
        as.finish();
    }
    if (s.tool->last_event) {
        const std::string events = fmt::format(fmt::runtime(s.tool->last_event), fmt::arg("e", quoted(s.sibling)));
        pg::Rows last;
        {
            AsRestrictedRole as(owner_of(s.sibling));
            last = spi.query(events.c_str(), {}, SPI_OK_SELECT);
            as.finish();
        }
        // A change whose newest event is a failed deploy: it may have left part of its work behind.
        for (const auto& e : last.rows) {
            if (e[0] != std::optional<std::string>("fail")) continue;
            rows.rows.push_back({e[1], std::nullopt, std::string("failed"), e[2], e[3], std::nullopt});
        }
    }

    std::vector<Record> out;
    std::map<std::string, size_t> index;  // folding key -> position in out
    for (const auto& row : rows.rows) {
        Record r{row[0], row[1], row[2].value_or("ignore"), row[3], row[4], row[5]};
        std::string fold;
        if (s.tool->versioned_keys) {
            if (!r.key) {
                fold = "R:" + r.alt.value_or("");  // a Flyway repeatable migration, by its description
            } else if (is_version(r.key)) {
                r.vkey = common::version_sort_key(*r.key);
                fold = "V:" + r.vkey;
            } else {
                fold = "K:" + *r.key;  // golang-migrate's -1 of a dirty, empty database
            }
        } else {
            if (is_version(r.key)) r.vkey = common::version_sort_key(*r.key);
            fold = "K:" + r.key.value_or("");
        }
        const auto it = index.find(fold);
        if (it == index.end()) {
            index.emplace(fold, out.size());
            out.push_back(std::move(r));
        } else if (out[it->second].kind != "failed") {
            out[it->second] = std::move(r);
        }
    }
    std::erase_if(
        out, [](const Record& r) { return r.kind == "removed" || r.kind == "ignore" || (r.kind == "repeatable"); });
    return out;
}

// A migration file, as the client sends it.
struct AdoptFile {
    std::string version;
    std::string name;
    std::string tool_id;
    std::optional<std::string> checksum;
    std::string vkey;
};

std::vector<AdoptFile> parse_files(const std::string& text) {
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception& e) {
        throw Error(sqlstate::invalid_argument, "files is not valid JSON", e.what(),
                    "pass a JSON array of {\"version\", \"name\", \"tool_id\", \"checksum\"} objects");
    }
    if (!j.is_array()) {
        throw Error(sqlstate::invalid_argument, "files is not a JSON array", {},
                    "pass a JSON array of {\"version\", \"name\", \"tool_id\", \"checksum\"} objects");
    }
    std::vector<AdoptFile> out;
    for (const auto& f : j) {
        const auto str = [&f](const char* key) -> std::optional<std::string> {
            if (!f.is_object() || !f.contains(key) || f[key].is_null()) return std::nullopt;
            if (!f[key].is_string()) {
                throw Error(sqlstate::invalid_argument, fmt::format("files: \"{}\" is not a string", key), f.dump(),
                            "pass strings");
            }
            return f[key].get<std::string>();
        };
        AdoptFile file;
        const auto version = str("version");
        if (!version) {
            throw Error(sqlstate::invalid_argument, "files: an entry has no \"version\"", f.dump(),
                        "give every versioned migration's version");
        }
        check_version(*version);
        file.version = *version;
        file.name = str("name").value_or("");
        file.tool_id = str("tool_id").value_or("");
        file.checksum = str("checksum");
        file.vkey = common::version_sort_key(file.version);
        out.push_back(std::move(file));
    }
    std::sort(out.begin(), out.end(), [](const AdoptFile& a, const AdoptFile& b) { return a.vkey < b.vkey; });
    return out;
}

// Liquibase names a changeset id:author:path, the path as the changelog was given to it: compare
// by the file's base name when the paths differ.
std::string liquibase_base(const std::string& id) {
    const auto colon = id.rfind(':');
    if (colon == std::string::npos) return id;
    const auto slash = id.find_last_of("/\\");
    return id.substr(0, colon + 1) +
           (slash != std::string::npos && slash > colon ? id.substr(slash + 1) : id.substr(colon + 1));
}

// One row of the plan migrate_adopt returns.
struct PlanRow {
    std::optional<std::string> version;
    std::optional<std::string> name;
    std::optional<std::string> tool_id;
    std::string state;  // adopt, applied, pending, no_file, failed, dirty, conflict
    std::optional<std::string> applied_at;
    std::optional<std::string> applied_by;
    std::string detail;
    std::optional<std::string> duration_ms;
    // Marked applied by the tool's baseline (Flyway's BASELINE row and the versions below it): never run
    // on this database, so it is recorded as a 'baseline' and rolling it back needs --force, as for
    // pgmig's own baselines.
    bool baseline = false;
};

std::vector<PlanRow> plan(const Tool& tool, std::vector<Record>& records, const std::vector<AdoptFile>& files,
                          const std::vector<Migration>& ledger) {
    std::map<std::string, size_t> by_text;  // key, alt (and Liquibase's base-name form) -> record
    std::map<std::string, size_t> by_version;
    std::vector<size_t> bounds;  // upto, baseline and golang-migrate's dirty: they cover older versions
    for (size_t i = 0; i < records.size(); ++i) {
        const Record& r = records[i];
        if (r.key) by_text.emplace(*r.key, i);
        if (r.alt) by_text.emplace(*r.alt, i);
        if (r.key && std::string(tool.name) == "liquibase") by_text.emplace(liquibase_base(*r.key), i);
        if (!r.vkey.empty()) by_version.emplace(r.vkey, i);
        if (!r.vkey.empty() &&
            (r.kind == "upto" || r.kind == "baseline" || (r.kind == "dirty" && tool.versioned_keys))) {
            bounds.push_back(i);
        }
    }
    std::map<std::string, const Migration*> applied;  // version_key (as the extension spells it) -> ledger row
    for (const Migration& m : ledger) {
        if (m.version && m.applied) applied.emplace(common::version_sort_key(*m.version), &m);
    }

    std::vector<PlanRow> out;
    std::string newest_adopted;  // vkey
    std::vector<size_t> pending_rows;
    for (const AdoptFile& f : files) {
        PlanRow row{f.version, f.name, f.tool_id.empty() ? std::nullopt : std::optional(f.tool_id)};
        std::optional<size_t> rec;
        bool covered = false;
        if (!f.tool_id.empty()) {
            auto it = by_text.find(f.tool_id);
            if (it == by_text.end() && std::string(tool.name) == "liquibase")
                it = by_text.find(liquibase_base(f.tool_id));
            if (it != by_text.end()) rec = it->second;
        } else if (auto it = by_version.find(f.vkey); it != by_version.end()) {
            rec = it->second;
        }
        if (!rec) {
            for (const size_t b : bounds) {
                if (f.vkey < records[b].vkey && (!rec || records[b].vkey < records[*rec].vkey)) rec = b;
            }
            covered = rec.has_value();
        }
        const auto ledger_it = applied.find(f.vkey);
        const Migration* in_ledger = ledger_it == applied.end() ? nullptr : ledger_it->second;
        if (rec) {
            Record& r = records[*rec];
            if (!covered) r.matched = true;
            if (!row.tool_id && r.key) row.tool_id = r.key;
            row.applied_at = r.applied_at;
            row.applied_by = r.applied_by;
            if (!covered) row.duration_ms = r.duration_ms;
            row.baseline = r.kind == "baseline";
            if (r.kind == "failed") {
                row.state = "failed";
                row.detail = fmt::format("{} recorded it as failed", tool.title);
            } else if (r.kind == "dirty" && !covered) {
                row.state = "dirty";
                row.detail = fmt::format("{} left it dirty: it failed part way", tool.title);
            } else {
                if (covered) {
                    row.tool_id = std::nullopt;
                    row.detail = r.kind == "baseline"
                                     ? fmt::format("below {}'s baseline version {}", tool.title, *r.key)
                                     : fmt::format("older than version {}, which {} records as the database's", *r.key,
                                                   tool.title);
                } else if (r.kind == "baseline") {
                    row.detail = fmt::format("{}'s baseline version", tool.title);
                }
                const std::optional<std::string> checksum =
                    f.checksum ? f.checksum : (in_ledger ? std::optional(in_ledger->checksum) : std::nullopt);
                if (in_ledger && in_ledger->applied_checksum == checksum) {
                    row.state = "applied";
                    row.detail = "already applied in the ledger";
                } else if (in_ledger) {
                    row.state = "conflict";
                    row.detail = fmt::format("applied in the ledger with checksum {}, the file's is {}",
                                             in_ledger->applied_checksum.value_or("?"), checksum.value_or("?"));
                } else {
                    row.state = "adopt";
                }
                newest_adopted = std::max(newest_adopted, f.vkey);
            }
        } else if (in_ledger) {
            row.state = "conflict";
            row.detail = fmt::format("applied in the ledger, but {}'s table does not record it", tool.title);
        } else {
            row.state = "pending";
            pending_rows.push_back(out.size());
        }
        out.push_back(std::move(row));
    }
    for (const size_t i : pending_rows) {
        if (common::version_sort_key(*out[i].version) < newest_adopted) {
            out[i].detail =
                "older than the newest adopted migration: pgmig apply runs it only with pgmig.out_of_order = allow";
        }
    }
    for (const Record& r : records) {
        if (r.matched) continue;
        if (r.kind == "baseline") continue;  // Flyway's baseline needs no file of its own
        PlanRow row{std::nullopt, std::nullopt, r.key ? r.key : r.alt};
        row.applied_at = r.applied_at;
        row.applied_by = r.applied_by;
        if (r.kind == "failed") {
            row.state = "failed";
            row.detail = fmt::format("{} recorded it as failed, and no file has it", tool.title);
        } else if (r.kind == "dirty") {
            row.state = "dirty";
            row.detail = fmt::format("{} left it dirty: it failed part way, and no file has it", tool.title);
        } else {
            row.state = "no_file";
            row.detail = fmt::format("{} recorded it as applied, but no file of the folder has it", tool.title);
        }
        out.push_back(std::move(row));
    }
    for (const auto& [vkey, m] : applied) {
        const bool has_file =
            std::any_of(files.begin(), files.end(), [&vkey](const AdoptFile& f) { return f.vkey == vkey; });
        if (has_file) continue;
        PlanRow row{m->version, m->name, std::nullopt, "conflict"};
        row.detail = fmt::format("applied in the ledger, but no file of the folder has it");
        out.push_back(std::move(row));
    }
    return out;
}

std::string list_of(const std::vector<PlanRow>& rows, const std::vector<std::string>& states) {
    std::string out;
    size_t n = 0;
    for (const PlanRow& r : rows) {
        if (std::find(states.begin(), states.end(), r.state) == states.end()) continue;
        if (++n > 10) continue;
        out += (out.empty() ? "" : "; ") + (r.version ? *r.version : r.tool_id.value_or("?")) + ": " + r.detail;
    }
    if (n > 10) out += fmt::format("; and {} more", n - 10);
    return out;
}

}  // namespace
}  // namespace pgmig

using namespace pgmig;

// migrate_adopt_sources() -> (tool, source, problem): every table named like a tool's history table,
// with why it is not one (NULL when it is).
PGMIG_FUNCTION(migrate_adopt_sources) {
    std::vector<pg::TextRow> rows;
    {
        pg::Spi spi;
        for (const Tool& tool : kTools) {
            for (const Source& s : sources_of(spi, tool)) rows.push_back({std::string(tool.name), s.name, s.problem});
        }
    }
    pg::return_rows(fcinfo, rows);
    return static_cast<Datum>(0);
}

// migrate_adopt(tool, files, apply DEFAULT false, source DEFAULT NULL)
//   -> (version, name, tool_id, state, applied_at, applied_by, detail)
// The plan of taking over `tool`'s history, for the versioned migration files `files` (a JSON array of
// {version, name, tool_id, checksum}); with `apply`, it is carried out under the ledger lock: every file
// the tool recorded as applied is marked applied (the registered migration, pgmig adopt registers the
// files first) with the tool's time and user, recorded in pgmig.history as 'adopt', and the schema's
// snapshot is taken. Refused when the tool left a failed or dirty state or recorded a migration no file
// has (PM062), or the ledger holds a different history (PM063).
PGMIG_FUNCTION(migrate_adopt) {
    const std::string tool_name = pg::required_text_arg(fcinfo, 0, "tool");
    const std::optional<std::string> files_json = pg::arg_as_text(fcinfo, 1);
    const bool apply = !PG_ARGISNULL(2) && PG_GETARG_BOOL(2);
    const std::optional<std::string> chosen = pg::text_arg(fcinfo, 3);
    const Tool& tool = tool_named(tool_name);
    if (!files_json) {
        throw Error(sqlstate::invalid_argument, "files is NULL", {},
                    "pass the versioned migrations of the folder as a JSON array ('[]' for none)");
    }
    const std::vector<AdoptFile> files = parse_files(*files_json);
    if (apply && IsolationUsesXactSnapshot()) {
        throw Error(sqlstate::isolation_not_supported,
                    "migrate_adopt() cannot run in a REPEATABLE READ or SERIALIZABLE transaction",
                    "its snapshot was taken before the ledger lock, so it could miss migrations applied meanwhile",
                    "call migrate_adopt() in a READ COMMITTED transaction (the default)");
    }
    std::vector<PlanRow> rows;
    {
        pg::Spi spi;
        LedgerStore store(spi, current_caller());
        if (apply) store.lock("migrate_adopt");
        const Source source = choose_source(spi, tool, chosen);
        std::vector<Record> records = read_records(spi, source);
        const std::vector<Migration> ledger = store.load_all();
        rows = plan(tool, records, files, ledger);
        if (apply) {
            const std::string refused = list_of(rows, {"failed", "dirty", "no_file"});
            if (!refused.empty()) {
                throw Error(sqlstate::adopt_refused,
                            fmt::format("{}'s history in {} cannot be adopted as it stands", tool.title, source.name),
                            refused,
                            fmt::format("a failed or dirty state: {}; a recorded migration without a file: restore "
                                        "its file in the folder; nothing was changed",
                                        tool.next_step));
            }
            const std::string differs = list_of(rows, {"conflict"});
            if (!differs.empty()) {
                throw Error(
                    sqlstate::adopt_ledger_differs,
                    fmt::format("the ledger already holds another history than {}'s {}", tool.title, source.name),
                    differs,
                    "pgmig adopt takes over a history into a ledger that has none of its own (or the same); "
                    "see migrate_status(); nothing was changed");
            }
            const std::string owner = role_name(owner_of(source.rel));
            bool any = false;
            for (const PlanRow& r : rows) {
                if (r.state != "adopt") continue;
                const Migration m = store.registered(*r.version);
                const long long ms = r.duration_ms ? std::stoll(*r.duration_ms) : 0;
                const std::string duration = interval_text(ms * 1000);
                store.mark_adopted(m, r.applied_at, r.applied_by, duration);
                std::string recorded = r.detail.empty() ? std::string("recorded as applied") : r.detail;
                if (r.applied_at) recorded += " at " + *r.applied_at;
                if (r.applied_by) recorded += " by " + *r.applied_by;
                store.record(HistoryEntry{
                    m.version, m.name, r.baseline ? "baseline" : "adopt", duration, 1, m.checksum, std::nullopt,
                    std::nullopt,
                    fmt::format("adopted from {}'s history table {} (owner {}){}: {}", tool.title, source.name, owner,
                                r.tool_id ? " as " + *r.tool_id : std::string(), recorded),
                    std::nullopt});
                any = true;
            }
            if (any) store.save_snapshot("migrate_adopt");
        }
    }
    std::vector<pg::TextRow> out;
    out.reserve(rows.size());
    for (const PlanRow& r : rows) {
        out.push_back({r.version, r.name, r.tool_id, r.state, r.applied_at, r.applied_by,
                       r.detail.empty() ? std::nullopt : std::optional(r.detail)});
    }
    pg::return_rows(fcinfo, out);
    return static_cast<Datum>(0);
}
