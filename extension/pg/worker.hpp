// What every background worker of pgmig does right after connecting.
#pragma once

extern "C" {
#include "postgres.h"
#include "postmaster/bgworker.h"
#include "utils/guc.h"
}

#include <cstring>

#include "pg/spi.hpp"

namespace pgmig::pg {

// The connection applied the database's and the role's settings (ALTER DATABASE/ROLE ... SET), which a
// database owner may choose, while a worker runs as a superuser. Override those that decide which code
// its SQL runs and as whom: search_path (a planted type or function first on it would run with the
// worker's rights), role (SET ROLE to another role), and default_transaction_read_only (would silently
// drop what the worker writes). Raises like any SetConfigOption: call it with no C++ object alive.
// A dynamic background worker of pgmig.so that connects to a database, starts once the server accepts
// connections and is never restarted: `function` is its entry point, `name` its bgw_name and bgw_type.
inline BackgroundWorker worker_of(const char* function, const char* name) {
    BackgroundWorker worker;
    memset(&worker, 0, sizeof(worker));
    worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
    worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
    worker.bgw_restart_time = BGW_NEVER_RESTART;
    strlcpy(worker.bgw_library_name, "pgmig", BGW_MAXLEN);
    strlcpy(worker.bgw_function_name, function, BGW_MAXLEN);
    strlcpy(worker.bgw_name, name, BGW_MAXLEN);
    strlcpy(worker.bgw_type, name, BGW_MAXLEN);
    return worker;
}

inline void pin_worker_settings() {
    SetConfigOption("search_path", kInternalSearchPath, PGC_SUSET, PGC_S_OVERRIDE);
    SetConfigOption("role", "none", PGC_SUSET, PGC_S_OVERRIDE);
    SetConfigOption("default_transaction_read_only", "off", PGC_SUSET, PGC_S_OVERRIDE);
}

}  // namespace pgmig::pg
