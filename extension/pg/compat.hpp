// Differences between the PostgreSQL major versions pgmig supports (15, 17 and 18), in one place:
// every PG_VERSION_NUM test of the extension is here, and the rest of the code uses the names below.
// Include after postgres.h (inside the extern "C" block of PostgreSQL headers is not needed: this
// file only defines macros and inline functions).
#pragma once

extern "C" {
#include "postgres.h"
#include "access/table.h"
#include "access/xlog.h"
#include "catalog/dependency.h"
#include "catalog/objectaddress.h"
#include "catalog/pg_class.h"
#include "commands/event_trigger.h"
#include "commands/sequence.h"
#include "executor/executor.h"
#include "storage/lock.h"
#include "storage/proc.h"
#include "utils/acl.h"
#include "utils/rel.h"
}

#include "common/pg_majors.hpp"

static_assert(pgmig::common::is_supported_major(PG_VERSION_NUM / 10000),
              "pgmig supports PostgreSQL 15 to 18, tested on 15, 17 and 18 (common/pg_majors.hpp, docs/install.md)");

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

// REINDEX fires event triggers (ddl_command_start/end) from 17 on; before, only the utility hook
// sees it.
inline constexpr bool kReindexFiresEventTriggers = PG_VERSION_NUM >= 170000;

// Whether PostgreSQL reports a dropped object of this kind to sql_drop event triggers (no shared objects,
// no event triggers): 17 replaced the object class by the address.
inline bool event_trigger_supports_object(const ObjectAddress& address) {
#if PG_VERSION_NUM >= 170000
    return EventTriggerSupportsObject(&address);
#else
    return EventTriggerSupportsObjectClass(getObjectClass(&address));
#endif
}

// Whether `role` owns the relation: 16 replaced pg_class_ownercheck by object_ownercheck.
inline bool owns_relation(Oid relid, Oid role) {
#if PG_VERSION_NUM >= 160000
    return object_ownercheck(RelationRelationId, relid, role);
#else
    return pg_class_ownercheck(relid, role);
#endif
}

// Whether this backend holds exactly `mode` on the lock (17 added "or stronger").
inline bool lock_held_by_me(const LOCKTAG* tag, LOCKMODE mode) {
#if PG_VERSION_NUM >= 170000
    return LockHeldByMe(tag, mode, false);
#else
    return LockHeldByMe(tag, mode);
#endif
}

// The sequence of an identity column: 17 takes the relation instead of its OID. The relation is
// opened with AccessShareLock, held to the end of the transaction as PostgreSQL's callers do.
inline Oid identity_sequence(Oid relid, AttrNumber attnum) {
#if PG_VERSION_NUM >= 170000
    Relation rel = table_open(relid, AccessShareLock);
    const Oid seq = getIdentitySequence(rel, attnum, false);
    table_close(rel, NoLock);
    return seq;
#else
    return getIdentitySequence(relid, attnum, false);
#endif
}

// The sequence WAL record names the relation's storage: 16 renamed RelFileNode to RelFileLocator.
inline void set_seq_record_relation(xl_seq_rec* rec, Relation rel) {
#if PG_VERSION_NUM >= 160000
    rec->locator = rel->rd_locator;
#else
    rec->node = rel->rd_node;
#endif
}

}  // namespace pgmig::pg

// ExecutorRun_hook's parameters: 18 dropped execute_once. A hook is declared
// `void hook(PGMIG_EXECUTOR_RUN_PARAMS)` and passes PGMIG_EXECUTOR_RUN_ARGS on.
#if PG_VERSION_NUM >= 180000
#define PGMIG_EXECUTOR_RUN_PARAMS QueryDesc *query, ScanDirection direction, uint64 count
#define PGMIG_EXECUTOR_RUN_ARGS query, direction, count
#else
#define PGMIG_EXECUTOR_RUN_PARAMS QueryDesc *query, ScanDirection direction, uint64 count, bool execute_once
#define PGMIG_EXECUTOR_RUN_ARGS query, direction, count, execute_once
#endif

// A walker passed to raw_expression_tree_walker: 15 declares the parameter as bool (*)(), from 16 a
// macro casts the walker itself.
#if PG_VERSION_NUM >= 160000
#define PGMIG_TREE_WALKER(fn) (fn)
#else
#define PGMIG_TREE_WALKER(fn) reinterpret_cast<bool (*)()>(reinterpret_cast<void (*)()>(fn))
#endif
