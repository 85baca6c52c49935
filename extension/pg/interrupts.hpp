// Cancellation inside pgmig's own loops: statement_timeout, pg_cancel_backend() and termination are
// noticed there as they are in PostgreSQL's own loops, and are never mistaken for a parse error.
#pragma once

extern "C" {
#include "postgres.h"
#include "miscadmin.h"
}

#include "errors.hpp"
#include "pg/boundary.hpp"

namespace pgmig::pg {

// CHECK_FOR_INTERRUPTS() through the guard: a pending cancel or timeout is thrown as PgError. Costs a
// read of one flag when nothing is pending, so it may sit in loops over statements or bytes.
inline void check_for_interrupts() {
    if (unlikely(InterruptPending)) call([] { CHECK_FOR_INTERRUPTS(); });
}

// True for an error that an interrupt raised (class 57, operator intervention: query canceled,
// statement timeout, admin shutdown...). Code that turns a caught parse error into a result must
// rethrow these: a swallowed cancel is a statement that can no longer be stopped.
inline bool is_interrupt(const Error& e) noexcept {
    constexpr int kClassMask = 0xFFF;  // the first two characters of a packed SQLSTATE
    return (e.sqlstate() & kClassMask) == (make_sqlstate("57000") & kClassMask);
}

}  // namespace pgmig::pg
