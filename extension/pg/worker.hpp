// What every background worker of pgmig does right after connecting.
#pragma once

extern "C" {
#include "postgres.h"
#include "utils/guc.h"
}

#include "pg/spi.hpp"

namespace pgmig::pg {

// The connection applied the database's and the role's settings (ALTER DATABASE/ROLE ... SET), which a
// database owner may choose, while a worker runs as a superuser. Override those that decide which code
// its SQL runs and as whom: search_path (a planted type or function first on it would run with the
// worker's rights), role (SET ROLE to another role), and default_transaction_read_only (would silently
// drop what the worker writes). Raises like any SetConfigOption: call it with no C++ object alive.
inline void pin_worker_settings() {
    SetConfigOption("search_path", kInternalSearchPath, PGC_SUSET, PGC_S_OVERRIDE);
    SetConfigOption("role", "none", PGC_SUSET, PGC_S_OVERRIDE);
    SetConfigOption("default_transaction_read_only", "off", PGC_SUSET, PGC_S_OVERRIDE);
}

}  // namespace pgmig::pg
