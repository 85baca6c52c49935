// The module's identity for PostgreSQL: the magic block. _PG_init stays empty on purpose: work
// happens lazily in the functions, so loading the library costs nothing.
extern "C" {
#include "postgres.h"
#include "fmgr.h"

PG_MODULE_MAGIC;
}
