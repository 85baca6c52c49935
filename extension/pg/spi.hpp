// SPI and subtransactions for C++: RAII owners whose destructors never raise.
#pragma once

extern "C" {
#include "postgres.h"
#include "access/xact.h"
#include "executor/spi.h"
}

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "pg/boundary.hpp"

namespace pgmig::pg {

// A query parameter: its type OID and its text form (nullopt = SQL NULL). Values are passed in
// text form and converted by the type's input function, so C++ never builds Datums by hand.
struct Param {
    Oid type;
    std::optional<std::string> value;
};

// Rows copied out of SPI into C++ strings (nullopt = SQL NULL), so they survive SPI_finish.
struct Rows {
    std::vector<std::vector<std::optional<std::string>>> rows;
    uint64 processed = 0;
};

// search_path = pg_catalog, pg_temp from construction to destruction (also when an exception
// leaves the scope), as a GUC nest level of its own, like a function's SET clause. Internal SQL runs
// under it so that no name it uses can be captured by a schema the caller or the database put first
// on search_path (ALTER DATABASE/ROLE ... SET search_path is open to a database owner).
class PinnedSearchPath {
  public:
    PinnedSearchPath();
    // Restores search_path on the success path (may throw: an error there must not go unseen). The
    // destructor restores it only when finish() was not called, i.e. while an error unwinds.
    void finish();
    ~PinnedSearchPath();
    PinnedSearchPath(const PinnedSearchPath&) = delete;
    PinnedSearchPath& operator=(const PinnedSearchPath&) = delete;

  private:
    int level_;
    bool finished_ = false;
};

// The search_path of pgmig's own SQL: pg_temp last, so that a temporary object never shadows one.
inline constexpr const char* kInternalSearchPath = "pg_catalog, pg_temp";

// One SPI connection for the lifetime of the object.
class Spi {
  public:
    Spi();
    ~Spi();
    Spi(const Spi&) = delete;
    Spi& operator=(const Spi&) = delete;

    // Runs a parameterised internal statement; `expected` is the SPI_OK_* code it must return.
    // Never read-only: in READ COMMITTED every statement takes a fresh snapshot, so what was
    // committed before a lock was granted is seen after it. Parsed and run under PinnedSearchPath.
    Rows query(const char* sql, const std::vector<Param>& params, int expected);
    // The same with a plan prepared at the first call and kept in `plan` (a static of the caller),
    // for statements on hot paths such as the event triggers. Prepared and run under PinnedSearchPath
    // (the plan cache revalidates a plan whose search_path differs, so it always sees the pinned one).
    Rows query_prepared(SPIPlanPtr& plan, const char* sql, const std::vector<Param>& params, int expected);
    // Runs an internal query through a cursor and hands its rows to `fn` `batch` at a time, so that a
    // query over a table of any length holds one batch in memory (Rows copies each value). One snapshot,
    // taken when the cursor opens, for all batches: the result is the one query() would return. Parsed
    // and run under PinnedSearchPath. With `plan`, the query is prepared at the first call and kept there
    // (as query_prepared does).
    void each_batch(const char* sql, const std::vector<Param>& params, long batch,
                    const std::function<void(const Rows&)>& fn, SPIPlanPtr* plan = nullptr);
    // Runs a migration's statement text as it stands, with the caller's search_path (a migration
    // names things the way its author does); returns the number of rows it processed.
    uint64 execute(const std::string& sql);

  private:
    static Rows collect(int rc, int expected, const char* sql);  // checks rc, copies SPI_tuptable out
};

// An internal subtransaction: commit() releases it; leaving the scope without commit(), or an
// exception, rolls it back. Memory context and resource owner are restored either way.
class Subtransaction {
  public:
    Subtransaction();
    ~Subtransaction();
    Subtransaction(const Subtransaction&) = delete;
    Subtransaction& operator=(const Subtransaction&) = delete;
    void commit();
    void rollback();

  private:
    MemoryContext context_;
    ResourceOwner owner_;
    bool open_ = true;
};

// Runs `fn` (as call() does) inside an internal subtransaction, released when `fn` returns. When `fn`
// raises, the subtransaction is rolled back before the PgError leaves: PostgreSQL's rule is that code
// which catches an error and goes on must roll back a subtransaction (FlushErrorState alone leaves
// memory, locks, buffer pins and interrupt holdoff as the error found them). Use it for calls whose
// error the caller handles (a script that does not parse); a cancel or timeout (is_interrupt) must
// still be rethrown by the caller. In parallel mode no subtransaction can start: the error is then
// thrown as a plain Error, which no `catch (const PgError&)` handler swallows.
template <typename Fn>
auto call_isolated(Fn&& fn) -> std::invoke_result_t<Fn&> {
    if (IsInParallelMode()) {
        try {
            return call(fn);
        } catch (const PgError& e) {
            throw static_cast<const Error&>(e);  // NOLINT(cert-err09-cpp,cert-err61-cpp): sliced on purpose
        }
    }
    Subtransaction sub;  // rolled back by its destructor when call() throws
    if constexpr (std::is_void_v<std::invoke_result_t<Fn&>>) {
        call(fn);
        sub.commit();
    } else {
        auto result = call(fn);
        sub.commit();
        return result;
    }
}

}  // namespace pgmig::pg
