// Implementation of the C++ <-> PostgreSQL boundary (see boundary.hpp).
#include "pg/boundary.hpp"

extern "C" {
#include "tcop/tcopprot.h"
#include "utils/memutils.h"
}

#include <new>

#include "redact.hpp"
#include "sql_version.hpp"

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
    // Where it was raised (static strings) and the objects it names (palloc'd, or NULL).
    const char* file;
    int line;
    const char* function;
    const char* schema;
    const char* table;
    const char* column;
    const char* datatype;
    const char* constraint;
    const char* detail_log;
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

// The plain name of a C++ function from std::source_location's signature ("Datum f_body(FunctionCallInfo)"
// -> "f_body"), as PostgreSQL's own LOCATION shows a C function. ErrorData keeps the pointer past the
// end of any memory context pgmig knows of, so each name is made once, in TopMemoryContext, and
// kept for the life of the backend (there are as many as there are raising functions).
const char* plain_function_name(const char* signature) noexcept {
    if (signature == nullptr) return nullptr;
    struct Interned {
        const char* signature;
        const char* name;
    };
    constexpr int kCapacity = 512;
    static Interned* interned = nullptr;
    static int count = 0;
    for (int i = 0; i < count; ++i) {
        if (interned[i].signature == signature) return interned[i].name;
    }
    const char* end = strchr(signature, '(');
    if (end == nullptr) end = signature + strlen(signature);
    const char* begin = end;
    while (begin > signature && begin[-1] != ' ' && begin[-1] != ':' && begin[-1] != '*' && begin[-1] != '&') --begin;
    if (begin == end) return signature;
    if (interned == nullptr) {
        interned = static_cast<Interned*>(
            MemoryContextAllocExtended(TopMemoryContext, sizeof(Interned) * kCapacity, MCXT_ALLOC_NO_OOM));
        if (interned == nullptr) return signature;
    }
    if (count == kCapacity) return signature;
    const size_t len = static_cast<size_t>(end - begin);
    auto* name = static_cast<char*>(MemoryContextAllocExtended(TopMemoryContext, len + 1, MCXT_ALLOC_NO_OOM));
    if (name == nullptr) return signature;
    memcpy(name, begin, len);
    name[len] = '\0';
    interned[count++] = Interned{signature, name};
    return name;
}

// A copy of `text` in TopMemoryContext that lives as long as the backend, one per distinct text (source
// file and function names: a small, fixed set). CopyErrorData pstrdup()s an error's file and function
// names into the catching context, which is reset long before the error is reported again; nullptr
// when out of memory or out of room.
const char* interned(const char* text) noexcept {
    if (text == nullptr) return nullptr;
    constexpr int kCapacity = 512;
    static const char** texts = nullptr;
    static int count = 0;
    for (int i = 0; i < count; ++i) {
        if (strcmp(texts[i], text) == 0) return texts[i];
    }
    if (texts == nullptr) {
        texts = static_cast<const char**>(
            MemoryContextAllocExtended(TopMemoryContext, sizeof(const char*) * kCapacity, MCXT_ALLOC_NO_OOM));
        if (texts == nullptr) return nullptr;
    }
    if (count == kCapacity) return nullptr;
    const size_t len = strlen(text);
    auto* copy = static_cast<char*>(MemoryContextAllocExtended(TopMemoryContext, len + 1, MCXT_ALLOC_NO_OOM));
    if (copy == nullptr) return nullptr;
    memcpy(copy, text, len + 1);
    texts[count++] = copy;
    return copy;
}

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
    const ErrorOrigin& origin = e.origin();
    p.file = origin.file;
    p.line = origin.line;
    p.function = origin.function != nullptr ? origin.function : plain_function_name(origin.cxx_function);
    const ErrorObjects& objects = e.objects();
    p.schema = copy_out(objects.schema);
    p.table = copy_out(objects.table);
    p.column = copy_out(objects.column);
    p.datatype = copy_out(objects.datatype);
    p.constraint = copy_out(objects.constraint);
    p.detail_log = copy_out(objects.detail_log);
    if (const auto* pe = dynamic_cast<const PgError*>(&e); pe != nullptr) {
        p.cursorpos = pe->cursorpos();
        p.internalpos = shown.internalpos_valid ? pe->internalpos() : 0;
        p.internalquery = copy_out(shown.internalquery);
    }
    return p;
}

// ereport(), spelled out so that LOCATION names the site that raised the error (the C++ throw, or
// PostgreSQL's own ereport for a caught error), not this function.
[[noreturn]] void raise(const PendingError& p) {
    if (errstart(ERROR, TEXTDOMAIN)) {
        errcode(p.sqlstate);
        errmsg_internal("%s", p.message);
        if (p.detail != nullptr) errdetail_internal("%s", p.detail);
        if (p.detail_log != nullptr) errdetail_log("%s", p.detail_log);
        if (p.hint != nullptr) errhint("%s", p.hint);
        if (p.context != nullptr) errcontext_msg("%s", p.context);
        if (p.cursorpos > 0) errposition(p.cursorpos);
        if (p.internalquery != nullptr) internalerrquery(p.internalquery);
        if (p.internalpos > 0) internalerrposition(p.internalpos);
        if (p.hide_statement) errhidestmt(true);
        if (p.schema != nullptr) err_generic_string(PG_DIAG_SCHEMA_NAME, p.schema);
        if (p.table != nullptr) err_generic_string(PG_DIAG_TABLE_NAME, p.table);
        if (p.column != nullptr) err_generic_string(PG_DIAG_COLUMN_NAME, p.column);
        if (p.datatype != nullptr) err_generic_string(PG_DIAG_DATATYPE_NAME, p.datatype);
        if (p.constraint != nullptr) err_generic_string(PG_DIAG_CONSTRAINT_NAME, p.constraint);
        errfinish(p.file != nullptr ? p.file : __FILE__, p.file != nullptr ? p.line : __LINE__,
                  p.function != nullptr ? p.function : __func__);
    }
    pg_unreachable();
}

}  // namespace

PgError::PgError(ErrorData* edata)
    : Error(edata->sqlerrcode, or_empty(edata->message), or_empty(edata->detail), or_empty(edata->hint)),
      cursorpos_(edata->cursorpos),
      internalpos_(edata->internalpos),
      internalquery_(or_empty(edata->internalquery)) {
    with_context(or_empty(edata->context));
    // CopyErrorData copied the file and function names into the catching context: keep lasting copies.
    origin_ = ErrorOrigin{interned(edata->filename), edata->lineno, interned(edata->funcname), nullptr};
    objects_ =
        ErrorObjects{or_empty(edata->schema_name),   or_empty(edata->table_name),      or_empty(edata->column_name),
                     or_empty(edata->datatype_name), or_empty(edata->constraint_name), or_empty(edata->detail_log)};
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

namespace {
// Set by invoke() for the duration of a body, restored when it returns or raises (nested calls: a
// pgmig function called through SPI by another one).
MemoryContext g_result_context = nullptr;
}  // namespace

MemoryContext result_context() noexcept {
    return g_result_context != nullptr ? g_result_context : CurrentMemoryContext;
}

Datum invoke(Datum (*body)(FunctionCallInfo), FunctionCallInfo fcinfo, SqlObjects needs) {
    PendingError pending{};
    Datum result = 0;
    MemoryContext const saved = g_result_context;
    g_result_context = CurrentMemoryContext;
    const bool ok = catch_all(
        [&] {
            if (needs == SqlObjects::current) call([] { sql_version::require_current(); });
            result = body(fcinfo);
        },
        pending);
    g_result_context = saved;
    if (ok) return result;
    // Every C++ object of the body and every exception object is gone here.
    raise(pending);
}

void invoke_void(void (*fn)(void*), void* arg) {
    PendingError pending{};
    if (catch_all([&] { fn(arg); }, pending)) return;
    raise(pending);
}

}  // namespace pgmig::pg
