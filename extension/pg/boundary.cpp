// Implementation of the C++ <-> PostgreSQL boundary (see boundary.hpp).
#include "pg/boundary.hpp"

extern "C" {
#include "tcop/tcopprot.h"
#include "utils/memutils.h"
}

#include <new>

#include "redact.hpp"

namespace pgmig::pg {

namespace {

std::string or_empty(const char* s) { return s != nullptr ? std::string(s) : std::string(); }

// An error on its way out of a wrapper. Trivially destructible on purpose: it lives in the
// wrapper's frame while ereport longjmps out of it. Strings are palloc'd (or static fallbacks).
struct PendingError {
    int sqlstate;
    const char* message;
    const char* detail;
    const char* hint;
    const char* context;
    const char* internalquery;
    int cursorpos;
    int internalpos;
    bool hide_statement;  // keep the client's query out of the server log (STATEMENT:)
};
static_assert(std::is_trivially_destructible_v<PendingError>);

// Copies a C++ string into the current memory context without ever raising (NULL on OOM).
const char* copy_out(const char* prefix, const char* s) noexcept {
    const size_t plen = strlen(prefix), slen = strlen(s);
    if (plen + slen == 0) return nullptr;
    auto* p = static_cast<char*>(MemoryContextAllocExtended(CurrentMemoryContext, plen + slen + 1, MCXT_ALLOC_NO_OOM));
    if (p == nullptr) return nullptr;
    memcpy(p, prefix, plen);
    memcpy(p + plen, s, slen + 1);
    return p;
}
const char* copy_out(const std::string& s) noexcept { return copy_out("", s.c_str()); }

// What an error passed on may show: every statement its context or internal query quotes is
// redacted (core's SPI adds `SQL statement "..."` lines, a function's compile error quotes its
// body), and the client's query is kept out of the server log when it mentions a secret.
struct Shown {
    std::string context;
    std::string internalquery;
    bool internalpos_valid = true;
    bool hide_statement = false;
};

Shown shown_of(const Error& e) noexcept {
    Shown s;
    try {
        s.context = redact_context(e.context());
        if (const auto* pe = dynamic_cast<const PgError*>(&e); pe != nullptr && !pe->internalquery().empty()) {
            s.internalquery = redact_statement(pe->internalquery());
            s.internalpos_valid = s.internalquery == pe->internalquery();
        }
        s.hide_statement = debug_query_string != nullptr && mentions_secret(debug_query_string);
    } catch (...) {  // cannot redact (out of memory): show neither
        s = Shown{{}, {}, false, true};
    }
    return s;
}

PendingError pending_from(const Error& e, const Shown& shown) noexcept {
    PendingError p{};
    p.sqlstate = e.sqlstate();
    p.message = copy_out(e.message());
    if (p.message == nullptr) p.message = "pgmig: out of memory while reporting an error";
    p.detail = copy_out(e.detail());
    p.hint = copy_out(e.hint());
    p.context = copy_out(shown.context);
    p.hide_statement = shown.hide_statement;
    if (const auto* pe = dynamic_cast<const PgError*>(&e); pe != nullptr) {
        p.cursorpos = pe->cursorpos();
        p.internalpos = shown.internalpos_valid ? pe->internalpos() : 0;
        p.internalquery = copy_out(shown.internalquery);
    }
    return p;
}

[[noreturn]] void raise(const PendingError& p) {
    ereport(
        ERROR,
        (errcode(p.sqlstate), errmsg_internal("%s", p.message),
         p.detail != nullptr ? errdetail_internal("%s", p.detail) : 0, p.hint != nullptr ? errhint("%s", p.hint) : 0,
         p.context != nullptr ? errcontext_msg("%s", p.context) : 0, p.cursorpos > 0 ? errposition(p.cursorpos) : 0,
         p.internalquery != nullptr ? internalerrquery(p.internalquery) : 0,
         p.internalpos > 0 ? internalerrposition(p.internalpos) : 0, p.hide_statement ? errhidestmt(true) : 0));
    pg_unreachable();
}

}  // namespace

PgError::PgError(ErrorData* edata)
    : Error(edata->sqlerrcode, or_empty(edata->message), or_empty(edata->detail), or_empty(edata->hint)),
      cursorpos_(edata->cursorpos),
      internalpos_(edata->internalpos),
      internalquery_(or_empty(edata->internalquery)) {
    with_context(or_empty(edata->context));
}

void throw_pg_error(MemoryContext caller_context) {
    // Called right after PG_CATCH: the error is still on PostgreSQL's error stack.
    MemoryContextSwitchTo(caller_context);
    ErrorData* edata = CopyErrorData();
    FlushErrorState();
    PgError error(edata);  // copies every field into C++ strings
    FreeErrorData(edata);
    throw error;
}

namespace {
// The one place where C++ exceptions are caught at the boundary: returns normally, or fills
// `pending` and returns false.
template <typename Fn>
bool catch_all(Fn&& fn, PendingError& pending) {
    try {
        fn();
        return true;
    } catch (const Error& e) {
        pending = pending_from(e, shown_of(e));
    } catch (const std::bad_alloc&) {
        pending = PendingError{
            sqlstate::out_of_memory, "pgmig: out of memory", nullptr, nullptr, nullptr, nullptr, 0, 0, false};
    } catch (const std::exception& e) {
        const char* message = copy_out("pgmig internal error: ", e.what());
        pending = PendingError{sqlstate::internal_error,
                               message != nullptr ? message : "pgmig internal error",
                               nullptr,
                               "this is a bug in pgmig; please report it with the statement that caused it",
                               nullptr,
                               nullptr,
                               0,
                               0,
                               false};
    } catch (...) {
        pending = PendingError{sqlstate::internal_error,
                               "pgmig internal error: unknown exception",
                               nullptr,
                               nullptr,
                               nullptr,
                               nullptr,
                               0,
                               0,
                               false};
    }
    return false;
}
}  // namespace

Datum invoke(Datum (*body)(FunctionCallInfo), FunctionCallInfo fcinfo) {
    PendingError pending{};
    Datum result = 0;
    if (catch_all([&] { result = body(fcinfo); }, pending)) return result;
    // Every C++ object of the body and every exception object is gone here.
    raise(pending);
}

void invoke_void(void (*fn)(void*), void* arg) {
    PendingError pending{};
    if (catch_all([&] { fn(arg); }, pending)) return;
    raise(pending);
}

}  // namespace pgmig::pg
