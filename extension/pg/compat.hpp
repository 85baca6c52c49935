// Differences between the PostgreSQL major versions pgmig supports (15, 17 and 18), in one place:
// every PG_VERSION_NUM test of the extension is here, and the rest of the code uses the names below.
// Include after postgres.h (inside the extern "C" block of PostgreSQL headers is not needed: this
// file only defines macros and inline functions).
#pragma once

extern "C" {
#include "postgres.h"
#include "storage/proc.h"
}

#if PG_VERSION_NUM < 150000 || PG_VERSION_NUM >= 190000
#error "pgmig supports PostgreSQL 15, 17 and 18 (docs/install.md)"
#endif

namespace pgmig::pg {

// This backend's local transaction id (the lxid of its virtual transaction id): 17 moved it into
// PGPROC.vxid.
inline LocalTransactionId my_local_xid() {
#if PG_VERSION_NUM >= 170000
    return MyProc->vxid.lxid;
#else
    return MyProc->lxid;
#endif
}

// The first part of this backend's virtual transaction id, as pg_locks.virtualxid shows it: 17
// replaced the backend id by the proc number.
inline int my_vxid_backend() {
#if PG_VERSION_NUM >= 170000
    return MyProc->vxid.procNumber;
#else
    return MyProc->backendId;
#endif
}

}  // namespace pgmig::pg
