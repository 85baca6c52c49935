// The module's identity for PostgreSQL: the magic block and _PG_init, which defines the pgmig.*
// settings and installs the hooks; everything else happens lazily in the functions.
extern "C" {
#include "postgres.h"
#include "fmgr.h"

PG_MODULE_MAGIC;

void _PG_init(void);
void pgmig_install_utility_hook(void);
void pgmig_install_index_build_guard(void);
}

#include "audit.hpp"
#include "audit_writer.hpp"
#include "nontx_guard.hpp"
#include "settings.hpp"
#include "sql_version.hpp"

// _PG_init runs while the library loads, before any wrapper exists: DefineCustom*Variable raises
// only on programming errors, and nothing C++ is alive here. The utility hook audits DDL on shared
// objects in every session that loads the library (preload it to cover all sessions).
extern "C" void _PG_init(void) {
    pgmig::settings::define();
    pgmig_install_utility_hook();
    pgmig_install_index_build_guard();  // index builds on pgmig.ddl_audit wait for rows in progress
    pgmig::nontx_guard::install();      // executor hooks and transaction callbacks
    pgmig::sql_version::install_layout_cache();  // the audit writer's release check, per table version
    pgmig::audit::install_writer_cache();        // and its table and columns
    pgmig::audit::install_extension_cache();     // whether pgmig is installed here
    pgmig::audit::note_server_preload();         // for migrate_audit_recorder()
}
