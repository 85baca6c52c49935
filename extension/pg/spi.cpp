// SPI and subtransaction owners (see spi.hpp).
#include "pg/spi.hpp"

extern "C" {
#include "access/xact.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/resowner.h"
}

#include <fmt/format.h>

namespace pgmig::pg {

PinnedSearchPath::PinnedSearchPath() : level_(NewGUCNestLevel()) {
    try {
        call([] {
            set_config_option("search_path", kInternalSearchPath, PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0,
                              false);
        });
    } catch (...) {
        // No destructor runs for a constructor that throws: close the nest level here.
        const int level = level_;
        try {
            call([level] { AtEOXact_GUC(true, level); });
        } catch (...) {  // NOLINT(bugprone-empty-catch): the transaction's abort restores it
        }
        throw;
    }
}

void PinnedSearchPath::finish() {
    finished_ = true;
    const int level = level_;
    call([level] { AtEOXact_GUC(true, level); });
}

PinnedSearchPath::~PinnedSearchPath() {
    if (finished_) return;
    // After an error inside the scope (the query failed): the saved value is put back before the
    // caller's subtransaction, if any, rolls back. Restoring never raises in practice; if it did,
    // the transaction is failing anyway and its abort restores search_path.
    const int level = level_;
    try {
        call([level] { AtEOXact_GUC(true, level); });
    } catch (...) {  // NOLINT(bugprone-empty-catch): a destructor must not throw
    }
}

Spi::Spi() {
    const int rc = call([] { return SPI_connect(); });
    if (rc != SPI_OK_CONNECT) {
        throw Error(sqlstate::internal_error,
                    fmt::format("pgmig could not connect to SPI: {}", SPI_result_code_string(rc)));
    }
}

// SPI_finish reports a misuse through its return code, never by raising; nothing to check here.
Spi::~Spi() { SPI_finish(); }

namespace {

// Parameters as SPI wants them, built in the SPI procedure context (freed by SPI_finish).
struct SpiArgs {
    int nargs;
    Oid* types;
    Datum* values;
    char* nulls;
};

SpiArgs spi_args(const std::vector<Param>& params) {
    const int nargs = static_cast<int>(params.size());
    SpiArgs a{nargs, nullptr, nullptr, nullptr};
    a.types = static_cast<Oid*>(call([nargs] { return palloc0(sizeof(Oid) * (nargs + 1)); }));
    a.values = static_cast<Datum*>(call([nargs] { return palloc0(sizeof(Datum) * (nargs + 1)); }));
    a.nulls = static_cast<char*>(call([nargs] { return palloc0(nargs + 1); }));
    for (int i = 0; i < nargs; ++i) {
        const Param& p = params[static_cast<size_t>(i)];
        a.types[i] = p.type;
        a.nulls[i] = p.value ? ' ' : 'n';
        if (!p.value) continue;
        const char* text = p.value->c_str();
        const Oid type = p.type;
        a.values[i] = call([text, type] {
            Oid input = InvalidOid;
            Oid ioparam = InvalidOid;
            getTypeInputInfo(type, &input, &ioparam);
            return OidInputFunctionCall(input, const_cast<char*>(text), ioparam, -1);
        });
    }
    return a;
}

}  // namespace

Rows Spi::query(const char* sql, const std::vector<Param>& params, int expected) {
    PinnedSearchPath pinned;
    const SpiArgs a = spi_args(params);
    const int rc = call([&] { return SPI_execute_with_args(sql, a.nargs, a.types, a.values, a.nulls, false, 0); });
    Rows rows = collect(rc, expected, sql);
    pinned.finish();
    return rows;
}

Rows Spi::query_prepared(SPIPlanPtr& plan, const char* sql, const std::vector<Param>& params, int expected) {
    PinnedSearchPath pinned;
    const SpiArgs a = spi_args(params);
    if (plan == nullptr) {
        // Kept for the life of the backend; PostgreSQL's plan cache revalidates it after DDL.
        plan = call([&] {
            // Generic plans: these are keyed lookups and inserts, never worth planning per call.
            SPIPlanPtr prepared = SPI_prepare_cursor(sql, a.nargs, a.types, CURSOR_OPT_GENERIC_PLAN);
            if (prepared != nullptr) SPI_keepplan(prepared);
            return prepared;
        });
        if (plan == nullptr) {
            throw Error(
                sqlstate::internal_error,
                fmt::format("pgmig could not prepare an internal query: {}", SPI_result_code_string(SPI_result)), sql);
        }
    }
    SPIPlanPtr p = plan;
    const int rc = call([&] { return SPI_execute_plan(p, a.values, a.nulls, false, 0); });
    Rows rows = collect(rc, expected, sql);
    pinned.finish();
    return rows;
}

Rows Spi::collect(int rc, int expected, const char* sql) {
    if (rc != expected) {
        throw Error(sqlstate::internal_error,
                    fmt::format("pgmig internal query returned {} instead of {}", SPI_result_code_string(rc),
                                SPI_result_code_string(expected)),
                    sql);
    }
    Rows out;
    out.processed = SPI_processed;
    if (SPI_tuptable == nullptr) return out;
    const TupleDesc desc = SPI_tuptable->tupdesc;
    out.rows.reserve(SPI_processed);
    for (uint64 r = 0; r < SPI_processed; ++r) {
        const HeapTuple tuple = SPI_tuptable->vals[r];
        std::vector<std::optional<std::string>> row;
        row.reserve(static_cast<size_t>(desc->natts));
        for (int c = 1; c <= desc->natts; ++c) {
            char* v = call([tuple, desc, c] { return SPI_getvalue(tuple, desc, c); });
            if (v == nullptr) {
                row.emplace_back(std::nullopt);
            } else {
                row.emplace_back(std::string(v));
                pfree(v);  // in the SPI procedure's context, which lives until SPI_finish
            }
        }
        out.rows.push_back(std::move(row));
    }
    call([] { SPI_freetuptable(SPI_tuptable); });
    return out;
}

void Spi::each_batch(const char* sql, const std::vector<Param>& params, long batch,
                     const std::function<void(const Rows&)>& fn, SPIPlanPtr* plan) {
    PinnedSearchPath pinned;
    const SpiArgs a = spi_args(params);
    if (plan != nullptr && *plan == nullptr) {
        *plan = call([&] {
            SPIPlanPtr prepared = SPI_prepare_cursor(sql, a.nargs, a.types, 0);
            if (prepared != nullptr) SPI_keepplan(prepared);
            return prepared;
        });
        if (*plan == nullptr) {
            throw Error(
                sqlstate::internal_error,
                fmt::format("pgmig could not prepare an internal query: {}", SPI_result_code_string(SPI_result)), sql);
        }
    }
    // Not read-only: the cursor takes a fresh snapshot when it opens, as query() does.
    Portal portal = call([&] {
        return plan != nullptr ? SPI_cursor_open(nullptr, *plan, a.values, a.nulls, false)
                               : SPI_cursor_open_with_args(nullptr, sql, a.nargs, a.types, a.values, a.nulls, false, 0);
    });
    if (portal == nullptr) {
        throw Error(sqlstate::internal_error,
                    fmt::format("pgmig could not open a cursor: {}", SPI_result_code_string(SPI_result)), sql);
    }
    for (;;) {
        call([portal, batch] { SPI_cursor_fetch(portal, true, batch); });
        const Rows rows = collect(SPI_OK_FETCH, SPI_OK_FETCH, sql);
        if (rows.rows.empty()) break;
        fn(rows);
    }
    // On an error the portal is left to the (sub)transaction's abort, which drops it.
    call([portal] { SPI_cursor_close(portal); });
    pinned.finish();
}

uint64 Spi::execute(const std::string& sql) {
    const char* text = sql.c_str();
    const int rc = call([text] { return SPI_execute(text, false, 0); });
    if (rc < 0) {
        throw Error(sqlstate::internal_error,
                    fmt::format("statement could not be run through SPI: {}", SPI_result_code_string(rc)));
    }
    const uint64 processed = SPI_processed;
    call([] { SPI_freetuptable(SPI_tuptable); });
    return processed;
}

Subtransaction::Subtransaction() : context_(CurrentMemoryContext), owner_(CurrentResourceOwner) {
    call([] { BeginInternalSubTransaction(nullptr); });
    MemoryContextSwitchTo(context_);
}

void Subtransaction::commit() {
    open_ = false;
    call([] { ReleaseCurrentSubTransaction(); });
    MemoryContextSwitchTo(context_);
    CurrentResourceOwner = owner_;
}

void Subtransaction::rollback() {
    open_ = false;
    call([] { RollbackAndReleaseCurrentSubTransaction(); });
    MemoryContextSwitchTo(context_);
    CurrentResourceOwner = owner_;
}

Subtransaction::~Subtransaction() {
    if (!open_) return;
    // Rolling back may itself raise (it practically never does); a destructor must not throw, so
    // an error here is left for the enclosing transaction's abort to clean up.
    try {
        rollback();
    } catch (...) {  // NOLINT(bugprone-empty-catch): nothing more can be done from a destructor
    }
}

}  // namespace pgmig::pg
