// Checks that pgmig's SQL objects in this database are a release this library works with (see
// sql_version.hpp). Plain C calls and static buffers only: PostgreSQL errors longjmp through here.
extern "C" {
#include "postgres.h"
#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/indexing.h"
#include "catalog/pg_extension.h"
#include "commands/dbcommands.h"
#include "commands/extension.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/inval.h"
#include "utils/rel.h"
}

#include <cstring>

#include "errors.hpp"
#include "pg/compat.hpp"
#include "sql_version.hpp"

#ifndef PGMIG_EXTVERSION
#error "PGMIG_EXTVERSION (the control file's default_version) must be defined by the build"
#endif

namespace pgmig::sql_version {
namespace {

// The releases whose pgmig.ddl_audit this library writes: the same columns, of the same types,
// with the same constraints. A release that changes that table starts a new list.
constexpr const char* kAuditLayoutReleases[] = {"0.1.0", "0.2.0"};

// What was read in this backend's current transaction, at its current command: a CREATE, ALTER or
// DROP EXTENSION earlier in the transaction advances the command counter, so it is seen.
struct Installed {
    LocalTransactionId read_in = InvalidLocalTransactionId;
    CommandId read_at = InvalidCommandId;
    bool present = false;
    Oid oid = InvalidOid;
    char version[64] = "";
};
Installed g_installed;

// Reads pgmig's row of pg_extension (one index scan), once per transaction and command.
const Installed& installed() {
    const LocalTransactionId lxid = pg::my_local_xid();
    const CommandId cid = GetCurrentCommandId(false);
    if (g_installed.read_in == lxid && g_installed.read_at == cid && lxid != InvalidLocalTransactionId)
        return g_installed;
    g_installed.present = false;
    g_installed.oid = InvalidOid;
    g_installed.version[0] = '\0';
    Relation rel = table_open(ExtensionRelationId, AccessShareLock);
    ScanKeyData key;
    ScanKeyInit(&key, Anum_pg_extension_extname, BTEqualStrategyNumber, F_NAMEEQ, CStringGetDatum("pgmig"));
    SysScanDesc scan = systable_beginscan(rel, ExtensionNameIndexId, true, nullptr, 1, &key);
    HeapTuple tuple = systable_getnext(scan);
    if (HeapTupleIsValid(tuple)) {
        g_installed.present = true;
        g_installed.oid = reinterpret_cast<Form_pg_extension>(GETSTRUCT(tuple))->oid;
        bool isnull = true;
        const Datum v = heap_getattr(tuple, Anum_pg_extension_extversion, RelationGetDescr(rel), &isnull);
        if (!isnull) text_to_cstring_buffer(DatumGetTextPP(v), g_installed.version, sizeof(g_installed.version));
    }
    systable_endscan(scan);
    table_close(rel, AccessShareLock);
    g_installed.read_in = lxid;
    g_installed.read_at = cid;
    return g_installed;
}

// pgmig's own CREATE EXTENSION or ALTER EXTENSION ... UPDATE script is running: its statements may
// call the library with the objects half-way between two releases.
bool in_own_script(const Installed& i) {
    return creating_extension && OidIsValid(i.oid) && CurrentExtensionObject == i.oid;
}

bool known_audit_layout(const char* version) {
    for (const char* release : kAuditLayoutReleases) {
        if (strcmp(version, release) == 0) return true;
    }
    return false;
}

// Releases compare by their numeric parts (0.10.0 after 0.9.0).
bool older_than_library(const char* version) {
    const char* a = version;
    const char* b = PGMIG_EXTVERSION;
    while (*a != '\0' || *b != '\0') {
        const long x = strtol(a, const_cast<char**>(&a), 10);
        const long y = strtol(b, const_cast<char**>(&b), 10);
        if (x != y) return x < y;
        if (*a == '.') ++a;
        if (*b == '.') ++b;
        if ((*a != '\0' && !isdigit(static_cast<unsigned char>(*a))) ||
            (*b != '\0' && !isdigit(static_cast<unsigned char>(*b))))
            return strcmp(version, PGMIG_EXTVERSION) < 0;
    }
    return false;
}

[[noreturn]] void mismatch(const Installed& i, const char* what) {
    if (older_than_library(i.version)) {
        ereport(ERROR,
                (errcode(sqlstate::sql_version_mismatch),
                 errmsg("%s: pgmig's SQL objects in database \"%s\" are version %s, but the installed library is %s",
                        what, get_database_name(MyDatabaseId), i.version, PGMIG_EXTVERSION),
                 errdetail("The pgmig package (or make install) was upgraded; this database's objects were not."),
                 errhint("Run ALTER EXTENSION pgmig UPDATE; in this database (as a superuser), then call it again.")));
    }
    ereport(ERROR,
            (errcode(sqlstate::sql_version_mismatch),
             errmsg("%s: pgmig's SQL objects in database \"%s\" are version %s, but this session loaded library %s",
                    what, get_database_name(MyDatabaseId), i.version, PGMIG_EXTVERSION),
             errdetail("The session loaded pgmig's library before pgmig was updated to %s, or the library installed "
                       "on the server is older than %s.",
                       i.version, i.version),
             errhint("Reconnect: a new session loads the installed library; if this error stays, install pgmig %s "
                     "(its package or make install) first.",
                     i.version)));
}

}  // namespace

const char* library() { return PGMIG_EXTVERSION; }

void require_current() {
    const Installed& i = installed();
    if (!i.present || strcmp(i.version, PGMIG_EXTVERSION) == 0 || in_own_script(i)) return;
    mismatch(i, "pgmig refused to run");
}

void require_audit_layout() {
    const Installed& i = installed();
    if (!i.present || known_audit_layout(i.version) || in_own_script(i)) return;
    mismatch(i, "pgmig cannot write pgmig.ddl_audit");
}

namespace {
// The audit table whose layout was last found writable (require_audit_layout(table)); InvalidOid: none.
Oid g_layout_ok_table = InvalidOid;

void forget_layout(Datum /*arg*/, Oid relid) {
    if (relid == InvalidOid || relid == g_layout_ok_table) g_layout_ok_table = InvalidOid;
}
}  // namespace

void require_audit_layout(unsigned table) {
    if (OidIsValid(table) && table == g_layout_ok_table) return;
    const Installed& i = installed();
    if (!i.present || in_own_script(i)) return;  // nothing to remember: the next write looks again
    if (!known_audit_layout(i.version)) mismatch(i, "pgmig cannot write pgmig.ddl_audit");
    g_layout_ok_table = table;
}

void install_layout_cache() { CacheRegisterRelcacheCallback(forget_layout, static_cast<Datum>(0)); }

}  // namespace pgmig::sql_version
