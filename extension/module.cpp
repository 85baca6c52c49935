// The module's identity for PostgreSQL: the magic block and _PG_init, which only defines the
// pgmig.* settings; everything else happens lazily in the functions.
extern "C" {
#include "postgres.h"
#include "fmgr.h"

PG_MODULE_MAGIC;

void _PG_init(void);
}

#include "settings.hpp"

// _PG_init runs while the library loads, before any wrapper exists: DefineCustom*Variable raises
// only on programming errors, and nothing C++ is alive here.
extern "C" void _PG_init(void) { pgmig::settings::define(); }
