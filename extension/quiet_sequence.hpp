// Values of pgmig's own sequences taken without touching the session's sequence state: lastval(),
// currval() and the per-session sequence cache stay exactly as the user's statements left them.
#pragma once

extern "C" {
#include "postgres.h"
}

namespace pgmig {

// The next value of sequence `seq`, as nextval() would return it with CACHE 1, but without
// making it the session's last-used sequence (nextval() sets what lastval() reads, and PostgreSQL
// offers no way to put it back). Same page, lock, WAL record and pre-logging as nextval(); no
// privilege check (callers pass pgmig's own sequences). Raises PostgreSQL errors (call under pg::call).
int64 quiet_nextval(Oid seq);

}  // namespace pgmig
