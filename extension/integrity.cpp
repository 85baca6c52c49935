// The parts of migrate_check_integrity() that evaluate a table owner's code (a NOT VALID CHECK's
// expression, a foreign key's equality operators and implicit casts, a view or row-level security
// behind the column that owns a sequence): run as that table's owner inside a security-restricted
// operation, as PostgreSQL's own VACUUM, CREATE INDEX and REFRESH MATERIALIZED VIEW have evaluated
// index expressions since 2022, so that checking integrity never lends the caller's rights to it.
extern "C" {
#include "postgres.h"
#include "access/htup_details.h"
#include "catalog/dependency.h"
#include "catalog/pg_class.h"
#include "catalog/pg_sequence.h"
#include "catalog/pg_type_d.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/rls.h"
#include "utils/syscache.h"
}

#include <fmt/format.h>

#include <optional>
#include <string>
#include <vector>

#include "pg/boundary.hpp"
#include "pg/spi.hpp"
#include "pg/values.hpp"
#include "restricted_role.hpp"

namespace pgmig {
namespace {

Oid relation_owner(Oid rel) {
    const Oid owner = pg::call([rel] {
        Oid result = InvalidOid;
        HeapTuple tup = SearchSysCache1(RELOID, ObjectIdGetDatum(rel));
        if (HeapTupleIsValid(tup)) {
            result = reinterpret_cast<Form_pg_class>(GETSTRUCT(tup))->relowner;
            ReleaseSysCache(tup);
        }
        return result;
    });
    if (owner == InvalidOid) {
        throw Error(sqlstate::invalid_argument, fmt::format("relation {} does not exist", rel), {},
                    "it was dropped while the check ran; run migrate_check_integrity() again");
    }
    return owner;
}

bool may_select(Oid rel, Oid role) {
    return pg::call([rel, role] { return pg_class_aclcheck(rel, role, ACL_SELECT) == ACLCHECK_OK; });
}

// Whether row-level security policies filter what `role` reads from `rel` (in the current context).
bool rls_filters(Oid rel, Oid role) {
    return pg::call([rel, role] { return check_enable_rls(rel, role, true) == RLS_ENABLED; });
}

std::string role_name(Oid role) {
    return pg::call([role] { return static_cast<const char*>(GetUserNameFromId(role, false)); });
}

std::string relation_name(pg::Spi& spi, Oid rel) {
    const pg::Rows rows =
        spi.query("SELECT $1::pg_catalog.regclass::pg_catalog.text", {{OIDOID, std::to_string(rel)}}, SPI_OK_SELECT);
    return rows.rows.at(0).at(0).value_or(std::to_string(rel));
}

// What keeps the caller from reading every row of a table: nothing, no SELECT, or row-level security.
struct CallerAccess {
    bool may_select = true;
    std::optional<std::string> hidden_by;  // "row-level security on t hides rows from r"
    bool full() const { return may_select && !hidden_by; }
};

CallerAccess caller_access(pg::Spi& spi, Oid rel) {
    const Oid caller = GetUserId();
    CallerAccess a;
    if (!may_select(rel, caller)) {
        a.may_select = false;
    } else if (rls_filters(rel, caller)) {
        a.hidden_by =
            fmt::format("row-level security on {} hides rows from {}", relation_name(spi, rel), role_name(caller));
    }
    return a;
}

// Runs a one-value query built by the install script's catalog readers as `role`, restricted.
std::optional<std::string> value_as(pg::Spi& spi, Oid role, const std::string& sql) {
    AsRestrictedRole as(role);
    const pg::Rows rows = spi.query(sql.c_str(), {}, SPI_OK_SELECT);
    as.finish();
    if (rows.rows.empty()) return std::nullopt;
    return rows.rows[0].at(0);
}

// The integer column that owns a sequence (serial, identity, OWNED BY) and the query for its extreme
// value: max(), or min() for a descending sequence. Read from the catalog here, so that nothing but
// a sequence's OID comes from the caller.
struct OwningColumn {
    bool found;
    Oid rel;
    const char* sql;  // palloc'd
};

OwningColumn owning_column(Oid seq) {
    return pg::call([seq] {
        OwningColumn c{false, InvalidOid, nullptr};
        int32 col = 0;
        if (!sequenceIsOwned(seq, DEPENDENCY_AUTO, &c.rel, &col) &&
            !sequenceIsOwned(seq, DEPENDENCY_INTERNAL, &c.rel, &col)) {
            return c;
        }
        const Oid type = get_atttype(c.rel, static_cast<AttrNumber>(col));
        if (type != INT2OID && type != INT4OID && type != INT8OID && type != NUMERICOID) return c;
        HeapTuple tup = SearchSysCache1(SEQRELID, ObjectIdGetDatum(seq));
        if (!HeapTupleIsValid(tup)) return c;
        const bool ascending = reinterpret_cast<Form_pg_sequence>(GETSTRUCT(tup))->seqincrement > 0;
        ReleaseSysCache(tup);
        const char* column = get_attname(c.rel, static_cast<AttrNumber>(col), false);
        const char* table =
            quote_qualified_identifier(get_namespace_name(get_rel_namespace(c.rel)), get_rel_name(c.rel));
        // ONLY for a plain table (its inheritance children have their own sequences); a partitioned
        // table has no rows of its own.
        c.sql = psprintf("SELECT pg_catalog.%s(%s)::pg_catalog.numeric FROM %s%s", ascending ? "max" : "min",
                         quote_identifier(column), get_rel_relkind(c.rel) == RELKIND_PARTITIONED_TABLE ? "" : "ONLY ",
                         table);
        c.found = true;
        return c;
    });
}

}  // namespace
}  // namespace pgmig

using namespace pgmig;

// pgmig.constraint_violations(con oid) -> (count bigint, sample text, not_checked text)
// Who runs the queries of pgmig.constraint_check_queries:
// - nobody, when the caller may not SELECT a table involved or row-level security hides rows of one
//   from the caller (counting as the owner would reveal them);
// - a CHECK: the table's owner;
// - a foreign key: the referencing table's owner (whose constraint chose the operators and casts),
//   when that owner may read the referenced table unfiltered by another owner's row-level security;
//   else the caller, but only when every operator and type involved is built in (no user code at all);
//   else nobody.
PGMIG_FUNCTION(pgmig_constraint_violations) {
    const Oid con = PG_GETARG_OID(0);
    std::vector<pg::TextRow> out;
    {
        pg::Spi spi;
        static SPIPlanPtr builder = nullptr;  // kept for the backend's life; revalidated after DDL
        const pg::Rows plan = spi.query_prepared(
            builder,
            "SELECT relid, refrelid, count_sql, sample_sql, builtin_only FROM pgmig.constraint_check_queries($1)",
            {{OIDOID, std::to_string(con)}}, SPI_OK_SELECT);
        if (plan.rows.empty()) {
            throw Error(sqlstate::invalid_argument,
                        fmt::format("constraint {} is not a CHECK or FOREIGN KEY constraint of a table", con), {},
                        "pass the OID of a CHECK or FOREIGN KEY constraint (pg_constraint.oid)");
        }
        const auto& p = plan.rows[0];
        const Oid rel = static_cast<Oid>(std::stoul(*p[0]));
        const Oid ref = p[1] ? static_cast<Oid>(std::stoul(*p[1])) : InvalidOid;  // none for a CHECK
        const bool builtin_only = p[4].value_or("f") == "t";

        auto not_checked = [&](const std::string& why) { out.push_back({std::nullopt, std::nullopt, why}); };
        CallerAccess access = caller_access(spi, rel);
        if (access.full() && OidIsValid(ref)) access = caller_access(spi, ref);
        if (!access.may_select) {
            not_checked(
                fmt::format("permission denied: SELECT on the table{} is needed to check this constraint; "
                            "run migrate_check_integrity() as its owner",
                            OidIsValid(ref) ? "s" : ""));
        } else if (access.hidden_by) {
            not_checked(*access.hidden_by +
                        ": counting as the table's owner would reveal them; run migrate_check_integrity() as the "
                        "table's owner or a role with BYPASSRLS");
        } else {
            const Oid owner = relation_owner(rel);
            std::optional<Oid> run_as;
            if (!may_select(rel, owner)) {
                not_checked(
                    fmt::format("{}, the owner of {}, may not SELECT from it, and the check runs as the "
                                "owner: GRANT SELECT ON {} TO {}",
                                role_name(owner), relation_name(spi, rel), relation_name(spi, rel), role_name(owner)));
            } else if (!OidIsValid(ref) ||
                       (may_select(ref, owner) && (relation_owner(ref) == owner || !rls_filters(ref, owner)))) {
                run_as = owner;
            } else if (builtin_only) {
                run_as = GetUserId();  // built-in operators on built-in types: no user code runs
            } else {
                not_checked(fmt::format(
                    "the foreign key compares with operators or casts that are not built in, which pgmig evaluates "
                    "only as {} (the owner of {}), and {} cannot read every row of {}: GRANT SELECT ON {} TO {} "
                    "(and mind its row-level security) to have it checked",
                    role_name(owner), relation_name(spi, rel), role_name(owner), relation_name(spi, ref),
                    relation_name(spi, ref), role_name(owner)));
            }
            if (run_as) {
                const std::optional<std::string> count = value_as(spi, *run_as, *p[2]);
                std::optional<std::string> sample;
                if (count && *count != "0") sample = value_as(spi, *run_as, *p[3]);
                out.push_back({count, sample, std::nullopt});
            }
        }
    }
    pg::return_rows(fcinfo, out);
    return static_cast<Datum>(0);
}

// pgmig.sequence_column_extreme(seq oid) -> (extreme numeric, not_checked text)
// max() (min() for a descending sequence) of the integer column that owns `seq`, read as that
// column's table's owner, restricted: the "table" may be a view that calls functions, a foreign
// table, or have row-level security. Nothing is read when the caller may not SELECT the table and
// the sequence, or row-level security hides rows of the table from the caller.
PGMIG_FUNCTION(pgmig_sequence_column_extreme) {
    const Oid seq = PG_GETARG_OID(0);
    std::vector<pg::TextRow> out;
    {
        pg::Spi spi;
        const OwningColumn column = owning_column(seq);
        if (!column.found) {
            throw Error(sqlstate::invalid_argument,
                        fmt::format("sequence {} is not owned by an integer column of a table", seq), {},
                        "pass the OID of a sequence owned by a column (serial, identity, OWNED BY)");
        }
        const Oid rel = column.rel;
        const std::string sql = column.sql;
        const CallerAccess access = caller_access(spi, rel);
        const Oid owner = relation_owner(rel);
        if (!access.may_select || !may_select(seq, GetUserId())) {
            out.push_back({std::nullopt,
                           "permission denied: SELECT on the table and the sequence is needed to "
                           "compare them"});
        } else if (access.hidden_by) {
            out.push_back(
                {std::nullopt, *access.hidden_by +
                                   ": reading as the table's owner would reveal them; run "
                                   "migrate_check_integrity() as the table's owner or a role with BYPASSRLS"});
        } else if (!may_select(rel, owner)) {
            out.push_back({std::nullopt, fmt::format("{}, the owner of {}, may not SELECT from it, and the column "
                                                     "is read as the owner: GRANT SELECT ON {} TO {}",
                                                     role_name(owner), relation_name(spi, rel), relation_name(spi, rel),
                                                     role_name(owner))});
        } else {
            out.push_back({value_as(spi, owner, sql), std::nullopt});
        }
    }
    pg::return_rows(fcinfo, out);
    return static_cast<Datum>(0);
}
