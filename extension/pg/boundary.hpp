// The C++ <-> PostgreSQL boundary: the wrapper for SQL-callable functions and the guard for calls
// into PostgreSQL. No C++ exception leaves a wrapper; no ereport longjmps over a live C++ object.
#pragma once

extern "C" {
#include "postgres.h"
#include "fmgr.h"
}

#include <string>
#include <type_traits>
#include <utility>

#include "errors.hpp"

namespace pgmig::pg {

// A PostgreSQL error caught by call(): its fields copied into C++ strings, so the exception owns
// plain C++ data and outlives any memory context. ErrorData is freed once copied.
class PgError : public Error {
  public:
    explicit PgError(ErrorData* edata);
    int cursorpos() const noexcept { return cursorpos_; }
    int internalpos() const noexcept { return internalpos_; }
    const std::string& internalquery() const noexcept { return internalquery_; }

  private:
    int cursorpos_ = 0;
    int internalpos_ = 0;
    std::string internalquery_;
};

[[noreturn]] void throw_pg_error(MemoryContext caller_context);

// Runs `fn`, which calls PostgreSQL, under PG_TRY. A PostgreSQL error becomes a PgError thrown
// after PG_TRY's frame is left, so C++ destructors further up run normally. `fn` itself must hold
// no object with a destructor while it calls PostgreSQL (keep it to C calls and trivial locals).
// A caught error leaves the transaction in need of abort: let PgError propagate to the wrapper,
// or use Subtransaction to roll back and continue.
template <typename Fn>
auto call(Fn&& fn) -> std::invoke_result_t<Fn&> {
    using Result = std::invoke_result_t<Fn&>;
    static_assert(std::is_void_v<Result> || std::is_trivially_copyable_v<Result>,
                  "values returned across the PostgreSQL boundary must be trivially copyable");
    MemoryContext caller_context = CurrentMemoryContext;
    volatile bool failed = false;
    if constexpr (std::is_void_v<Result>) {
        PG_TRY();
        { fn(); }
        PG_CATCH();
        { failed = true; }
        PG_END_TRY();
        // cppcheck-suppress missingReturn ; throw_pg_error is [[noreturn]]
        if (failed) throw_pg_error(caller_context);
    } else {
        // volatile: assigned between sigsetjmp and a possible longjmp (read only when none happened).
        std::conditional_t<std::is_scalar_v<Result>, volatile Result, Result> result{};
        PG_TRY();
        { result = fn(); }
        PG_CATCH();
        { failed = true; }
        PG_END_TRY();
        if (failed) throw_pg_error(caller_context);
        return result;
    }
}

// The memory context that was current when the innermost running SQL-callable function was entered
// (the executor's per-call context): where a Datum it returns must live. Inside the body, SPI (or a
// subtransaction) switches CurrentMemoryContext to memory that is freed before the function returns,
// so results are built here (values.hpp), never in whatever context happens to be current.
MemoryContext result_context() noexcept;

// Which of pgmig's SQL objects a SQL-callable function relies on (sql_version.hpp).
enum class SqlObjects {
    current,  // this library's release: PM066 (ALTER EXTENSION pgmig UPDATE is due) otherwise
    any,      // none whose layout changes between releases (pure functions, the audit path)
};

// Calls `body` and turns any C++ exception into ereport(ERROR) once the C++ frames are gone.
Datum invoke(Datum (*body)(FunctionCallInfo), FunctionCallInfo fcinfo, SqlObjects needs = SqlObjects::current);

// The same for hooks: calls fn(arg); a C++ exception becomes ereport(ERROR). Plain pointers only,
// so that nothing with a destructor lives in the caller's frame when the error is raised.
void invoke_void(void (*fn)(void*), void* arg);

}  // namespace pgmig::pg

// Declares a SQL-callable function `name`: a one-line extern "C" wrapper around the C++ body
// that follows the macro, e.g. PGMIG_FUNCTION(migrate_status) { ... return ...; }. It runs only
// when this database's SQL objects of pgmig are the library's release (SqlObjects::current).
#define PGMIG_FUNCTION(name) PGMIG_FUNCTION_WITH(name, current)
// The same for a function that works with the SQL objects of any release (SqlObjects::any).
#define PGMIG_FUNCTION_ANY_SQL(name) PGMIG_FUNCTION_WITH(name, any)
#define PGMIG_FUNCTION_WITH(name, needs)                                                                     \
    static Datum name##_body(PG_FUNCTION_ARGS);                                                              \
    extern "C" {                                                                                             \
    PG_FUNCTION_INFO_V1(name);                                                                               \
    Datum name(PG_FUNCTION_ARGS) { return pgmig::pg::invoke(name##_body, fcinfo, pgmig::pg::SqlObjects::needs); } \
    }                                                                                                        \
    static Datum name##_body(PG_FUNCTION_ARGS)
