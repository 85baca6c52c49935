// The migration ledger: migrate_register, migrate_apply and the checksum function migrate_status uses.
extern "C" {
#include "postgres.h"
#include "access/xact.h"
#include "catalog/pg_type_d.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"
}

#include <fmt/format.h>

#include <optional>
#include <string>
#include <vector>

#include "common/checksum.hpp"
#include "common/version.hpp"
#include "pg/boundary.hpp"
#include "pg/spi.hpp"
#include "script.hpp"

namespace pgmig {
namespace {

// Key of the transaction-level advisory lock that serialises appliers in one database: the
// bytes of "pgmig". The client takes the same key at session level for non-transactional work.
constexpr int64 kLedgerLockKey = 0x70676d6967;
constexpr size_t kStatementShown = 400;  // bytes of a failing statement quoted in an error

std::optional<std::string> text_arg(FunctionCallInfo fcinfo, int n) {
    if (PG_ARGISNULL(n)) return std::nullopt;
    const char* s = pg::call([fcinfo, n] { return text_to_cstring(PG_GETARG_TEXT_PP(n)); });
    return std::string(s);
}

std::string required_text_arg(FunctionCallInfo fcinfo, int n, const char* what) {
    auto v = text_arg(fcinfo, n);
    if (!v) {
        throw Error(sqlstate::invalid_argument, fmt::format("{} must not be NULL", what), {},
                    fmt::format("pass the {} as text", what));
    }
    return *v;
}

Datum text_datum(const std::string& s) {
    const char* p = s.c_str();
    return pg::call([p] { return CStringGetTextDatum(p); });
}

std::string hex_bytea(const std::string& bytes) {
    std::string out = "\\x";
    static constexpr char hex[] = "0123456789abcdef";
    for (const unsigned char c : bytes) {
        out.push_back(hex[c >> 4]);
        out.push_back(hex[c & 0x0f]);
    }
    return out;
}

void check_version(const std::string& version) {
    if (auto problem = common::version_problem(version)) {
        throw Error(sqlstate::invalid_version, fmt::format("invalid migration version \"{}\": {}", version, *problem),
                    {}, "a version is digits separated by dots, such as 3, 1.10 or 20240101120000");
    }
}

std::string quote_statement(const std::string& text) {
    if (text.size() <= kStatementShown) return text;
    size_t cut = kStatementShown;  // do not cut a UTF-8 character in half
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
    return text.substr(0, cut) + "...";
}

std::string seconds_interval(TimestampTz from, TimestampTz to) {
    return fmt::format("{:.6f} seconds", static_cast<double>(to - from) / 1e6);
}

void take_ledger_lock(pg::Spi& spi) {
    spi.query("SELECT pg_catalog.pg_advisory_xact_lock($1)", {{INT8OID, std::to_string(kLedgerLockKey)}},
              SPI_OK_SELECT);
}

struct Pending {
    std::string version_key;  // bytea in its text form
    std::string version;
    std::string name;
    std::string up_sql;
    std::string checksum;
};

struct Applied {
    std::string version;
    std::string name;
    std::string action;
    std::string duration;
};

// Parses every pending script before anything runs: a syntax error anywhere stops the whole
// call with nothing executed, and names the migration, line and column.
std::vector<std::vector<Statement>> parse_all(const std::vector<Pending>& pending) {
    std::vector<std::vector<Statement>> out;
    out.reserve(pending.size());
    for (const Pending& m : pending) {
        try {
            out.push_back(split_script(m.up_sql));
        } catch (const pg::PgError& e) {
            std::string where;
            if (e.cursorpos() > 0) {
                const size_t byte = byte_of_char_position(m.up_sql, 0, e.cursorpos());
                const int line = line_at_byte(m.up_sql, byte);
                const size_t line_start = m.up_sql.rfind('\n', byte == 0 ? 0 : byte - 1);
                const size_t from = (line_start == std::string::npos || byte == 0) ? 0 : line_start + 1;
                where = fmt::format(" at line {}, column {}", line, byte - from + 1);
            }
            throw Error(e.sqlstate(),
                        fmt::format("migration {} \"{}\" has a syntax error{}: {}", m.version, m.name, where,
                                    e.message()),
                        e.detail(), "fix the up script and register the migration again; nothing was applied");
        }
        for (const Statement& st : out.back()) {
            if (st.transaction_control) {
                throw Error(sqlstate::transaction_control,
                            fmt::format("migration {} \"{}\" contains transaction control at line {}: {}", m.version,
                                        m.name, st.line, quote_statement(st.text)),
                            "migrate_apply() runs every migration inside the caller's transaction, each in its own "
                            "subtransaction",
                            "remove BEGIN/COMMIT/ROLLBACK/SAVEPOINT from the migration; nothing was applied");
            }
        }
    }
    return out;
}

// Runs one statement of a migration; a PostgreSQL error is rethrown naming migration and line.
void run_statement(pg::Spi& spi, const Pending& m, const Statement& st) {
    try {
        spi.execute(st.text);
    } catch (const pg::PgError& e) {
        std::string detail;
        if (e.internalpos() > 0 && e.internalquery() == st.text) {
            const size_t byte = byte_of_char_position(st.text, 0, e.internalpos());
            detail = fmt::format("error at line {} of the up script, in the statement starting at line {}: {}",
                                 st.line + line_at_byte(st.text, byte) - 1, st.line, quote_statement(st.text));
        } else {
            detail = fmt::format("statement at line {} of the up script: {}", st.line, quote_statement(st.text));
        }
        if (!e.detail().empty()) detail += "\n" + e.detail();
        std::string hint = e.hint().empty() ? std::string() : e.hint() + "\n";
        hint += "the transaction is rolled back and no migration of this call is applied; fix the migration, "
                "register it again and rerun migrate_apply()";
        throw Error(e.sqlstate(), fmt::format("migration {} \"{}\" failed: {}", m.version, m.name, e.message()),
                    std::move(detail), std::move(hint))
            .with_context(e.context());
    }
}

void return_rows(FunctionCallInfo fcinfo, const std::vector<Applied>& rows) {
    // Filled at the end, from C++ data: the tuplestore lives in the caller's per-query context.
    pg::call([fcinfo] { InitMaterializedSRF(fcinfo, 0); });
    auto* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
    TupleDesc desc = rsinfo->setDesc;
    Tuplestorestate* store = rsinfo->setResult;
    AttInMetadata* meta = pg::call([desc] { return TupleDescGetAttInMetadata(desc); });
    for (const Applied& r : rows) {
        const char* values[] = {r.version.c_str(), r.name.c_str(), r.action.c_str(), r.duration.c_str()};
        pg::call([meta, store, &values] {
            HeapTuple tuple = BuildTupleFromCStrings(meta, const_cast<char**>(values));
            tuplestore_puttuple(store, tuple);
        });
    }
}

}  // namespace
}  // namespace pgmig

using namespace pgmig;

// migrate_register(version, name, up_sql, down_sql DEFAULT NULL, options jsonb DEFAULT '{}') -> checksum
PGMIG_FUNCTION(migrate_register) {
    const std::string version = required_text_arg(fcinfo, 0, "version");
    const std::string name = required_text_arg(fcinfo, 1, "name");
    const std::string up_sql = required_text_arg(fcinfo, 2, "up script");
    const std::optional<std::string> down_sql = text_arg(fcinfo, 3);
    std::optional<std::string> options;
    if (!PG_ARGISNULL(4)) {
        options = pg::call([fcinfo] {
            return DatumGetCString(DirectFunctionCall1(jsonb_out, PG_GETARG_DATUM(4)));
        });
    }

    check_version(version);
    if (options && options->front() != '{') {
        throw Error(sqlstate::invalid_argument, fmt::format("options of migration {} must be a JSON object", version),
                    fmt::format("got: {}", *options), R"(pass options such as '{"transactional": false}' or '{}')");
    }
    if (name.empty() || name.size() > 200 || name.find_first_of("\n\r") != std::string::npos) {
        throw Error(sqlstate::invalid_argument, fmt::format("invalid name for migration {}", version),
                    "a name is 1 to 200 characters on one line", "give the migration a short descriptive name");
    }
    const std::string normalized = common::normalize_script(up_sql);
    if (normalized.find_first_not_of(" \t\n") == std::string::npos) {
        throw Error(sqlstate::invalid_argument, fmt::format("migration {} \"{}\" has an empty up script", version, name),
                    {}, "a migration must change something; write its statements in up_sql");
    }
    const std::string checksum = common::sha256_hex(normalized);
    const std::string key = hex_bytea(common::version_sort_key(version));

    pg::Spi spi;
    take_ledger_lock(spi);
    const pg::Rows existing = spi.query(
        "SELECT version, name, checksum, applied_at IS NOT NULL FROM pgmig.migrations WHERE version_key = $1 "
        "FOR UPDATE",
        {{BYTEAOID, key}}, SPI_OK_SELECT);

    if (existing.rows.empty()) {
        spi.query(
            "INSERT INTO pgmig.migrations (version, version_key, name, up_sql, down_sql, options, checksum) "
            "VALUES ($1, $2, $3, $4, $5, coalesce($6, '{}'), $7)",
            {{TEXTOID, version},
             {BYTEAOID, key},
             {TEXTOID, name},
             {TEXTOID, up_sql},
             {TEXTOID, down_sql},
             {JSONBOID, options},
             {TEXTOID, checksum}},
            SPI_OK_INSERT);
    } else {
        const auto& row = existing.rows.front();
        const std::string& old_version = *row[0];
        const std::string& old_name = *row[1];
        const std::string& old_checksum = *row[2];
        const bool applied = *row[3] == "t";
        if (applied && old_name != name) {
            throw Error(sqlstate::version_conflict,
                        fmt::format("version {} is already applied as \"{}\", not \"{}\"", old_version, old_name, name),
                        {}, "give the new migration a version of its own");
        }
        if (applied && old_checksum != checksum) {
            throw Error(sqlstate::checksum_mismatch,
                        fmt::format("migration {} \"{}\" is already applied and its up script has changed", version,
                                    name),
                        fmt::format("applied checksum: {}\nnew checksum:     {}", old_checksum, checksum),
                        "do not edit applied migrations: write a new migration for the change");
        }
        // A pending migration may still be edited; an applied one keeps its up script, but its
        // down script (not part of the checksum) may be corrected.
        spi.query(
            "UPDATE pgmig.migrations SET version = $2, name = $3, up_sql = $4, down_sql = $5, "
            "options = coalesce($6, '{}'), checksum = $7 "
            "WHERE version_key = $1 AND (version, name, up_sql, down_sql, options, checksum) IS DISTINCT FROM "
            "($2, $3, $4, $5, coalesce($6, '{}'), $7)",
            {{BYTEAOID, key},
             {TEXTOID, applied ? old_version : version},
             {TEXTOID, name},
             {TEXTOID, up_sql},
             {TEXTOID, down_sql},
             {JSONBOID, options},
             {TEXTOID, checksum}},
            SPI_OK_UPDATE);
    }
    return text_datum(checksum);
}

// migrate_apply(target DEFAULT NULL, dry_run DEFAULT false) -> SETOF (version, name, action, duration)
PGMIG_FUNCTION(migrate_apply) {
    const std::optional<std::string> target = text_arg(fcinfo, 0);
    const bool dry_run = !PG_ARGISNULL(1) && PG_GETARG_BOOL(1);

    if (IsolationUsesXactSnapshot()) {
        throw Error(sqlstate::isolation_not_supported,
                    "migrate_apply() cannot run in a REPEATABLE READ or SERIALIZABLE transaction",
                    "its snapshot was taken before the ledger lock, so it could miss migrations applied meanwhile",
                    "call migrate_apply() in a READ COMMITTED transaction (the default)");
    }
    if (target) check_version(*target);

    std::vector<Applied> results;
    {
        pg::Spi spi;
        take_ledger_lock(spi);
        // Read after the lock: in READ COMMITTED this statement sees every apply committed before.
        if (target) {
            const pg::Rows found =
                spi.query("SELECT 1 FROM pgmig.migrations WHERE version_key = $1",
                          {{BYTEAOID, hex_bytea(common::version_sort_key(*target))}}, SPI_OK_SELECT);
            if (found.rows.empty()) {
                throw Error(sqlstate::unknown_version, fmt::format("target version {} is not registered", *target), {},
                            "see SELECT * FROM migrate_status() for the registered versions");
            }
        }
        const pg::Rows pending_rows = spi.query(
            "SELECT version_key, version, name, up_sql, checksum FROM pgmig.migrations "
            "WHERE applied_at IS NULL AND ($1::bytea IS NULL OR version_key <= $1) ORDER BY version_key",
            {{BYTEAOID, target ? std::optional(hex_bytea(common::version_sort_key(*target))) : std::nullopt}},
            SPI_OK_SELECT);
        std::vector<Pending> pending;
        pending.reserve(pending_rows.rows.size());
        for (const auto& row : pending_rows.rows) pending.push_back(Pending{*row[0], *row[1], *row[2], *row[3], *row[4]});

        const std::vector<std::vector<Statement>> scripts = parse_all(pending);

        // A dry run wraps everything in one more subtransaction that is always rolled back.
        std::optional<pg::Subtransaction> rehearsal;
        if (dry_run) rehearsal.emplace();
        for (size_t i = 0; i < pending.size(); ++i) {
            const Pending& m = pending[i];
            const TimestampTz started = GetCurrentTimestamp();
            pg::Subtransaction sub;
            for (const Statement& st : scripts[i]) run_statement(spi, m, st);
            const TimestampTz finished = GetCurrentTimestamp();
            const std::string duration = seconds_interval(started, finished);
            if (!dry_run) {
                spi.query(
                    "UPDATE pgmig.migrations SET applied_at = pg_catalog.clock_timestamp(), "
                    "applied_by = SESSION_USER, applied_checksum = checksum, duration = $2::interval "
                    "WHERE version_key = $1",
                    {{BYTEAOID, m.version_key}, {TEXTOID, duration}}, SPI_OK_UPDATE);
            }
            sub.commit();
            results.push_back(Applied{m.version, m.name, dry_run ? "dry_run" : "applied", duration});
        }
        if (rehearsal) rehearsal->rollback();
    }
    return_rows(fcinfo, results);
    return static_cast<Datum>(0);
}

// pgmig.script_checksum(text) -> the text checksum, for SQL that needs to recompute it.
PGMIG_FUNCTION(pgmig_script_checksum) {
    const std::string text = *text_arg(fcinfo, 0);  // declared STRICT
    return text_datum(common::script_checksum(text));
}
