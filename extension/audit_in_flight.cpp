// Operations on pgmig.ddl_audit that wait for the transactions whose audit rows are still in progress
// (see audit_in_flight.hpp). Everything here runs under pg::call or as a PostgreSQL hook and holds no
// object with a destructor: PostgreSQL errors longjmp through it.
extern "C" {
#include "postgres.h"
#include "access/genam.h"
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/objectaccess.h"
#include "catalog/pg_class.h"
#include "catalog/pg_index.h"
#include "commands/dbcommands.h"
#include "commands/tablecmds.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "storage/lmgr.h"
#include "storage/proc.h"
#include "utils/acl.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
}

#include "audit_capture.hpp"
#include "audit_in_flight.hpp"
#include "pg/compat.hpp"

namespace pgmig::audit {
namespace {

// pgmig.ddl_audit in this database, or InvalidOid.
Oid audit_table() {
    const Oid schema = get_namespace_oid("pgmig", true);
    return OidIsValid(schema) ? get_relname_relid("ddl_audit", schema) : InvalidOid;
}

// The transaction that last waited, while holding a lock that keeps writers out until it ends:
// another wait in it would find nothing new (REINDEX CONCURRENTLY makes one copy per index). Forgotten
// when a subtransaction aborts, which may have released the lock.
LocalTransactionId g_waited_in = InvalidLocalTransactionId;

void on_subtransaction(SubXactEvent event, SubTransactionId, SubTransactionId, void*) {
    if (event == SUBXACT_EVENT_ABORT_SUB) g_waited_in = InvalidLocalTransactionId;
}

// Takes `mode` on pgmig.ddl_audit and waits for the rows in progress, once per transaction.
void lock_and_wait(Oid audit, LOCKMODE mode) {
    LockRelationOid(audit, mode);
    if (g_waited_in == pg::my_local_xid()) return;
    Relation rel = table_open(audit, NoLock);
    wait_for_in_flight_rows(rel);
    table_close(rel, NoLock);
    g_waited_in = pg::my_local_xid();
}

}  // namespace

void wait_for_in_flight_rows(Relation audit) {
    // A dirty snapshot sees rows of transactions in progress and says whose (xmin) for each row it
    // returns (heap scans with a non-MVCC snapshot go tuple by tuple). Collected first, waited for
    // after the scan, so that no buffer stays pinned while waiting. A transaction's rows are usually
    // next to each other: only a change of xid is recorded (waiting again for one that ended is free).
    // The table is read whole: the operations that wait are rare, and most read it whole anyway.
    SnapshotData dirty;
    InitDirtySnapshot(dirty);
    TransactionId* xids = nullptr;
    int count = 0;
    int capacity = 0;
    TableScanDesc scan = table_beginscan(audit, &dirty, 0, nullptr);
    while (heap_getnext(scan, ForwardScanDirection) != nullptr) {
        CHECK_FOR_INTERRUPTS();
        // Own rows (this transaction's) are returned with no xmin; a row being updated could only be
        // the sealer's, which holds RowExclusiveLock to its end: the caller's lock waited for it.
        if (!TransactionIdIsValid(dirty.xmin) || (count > 0 && xids[count - 1] == dirty.xmin)) continue;
        if (count == capacity) {
            capacity = capacity == 0 ? 16 : capacity * 2;
            xids = static_cast<TransactionId*>(xids == nullptr ? palloc(sizeof(TransactionId) * capacity)
                                                               : repalloc(xids, sizeof(TransactionId) * capacity));
        }
        xids[count++] = dirty.xmin;
    }
    table_endscan(scan);
    // A lock wait: lock_timeout, statement_timeout and the deadlock detector apply (a writer in
    // progress that writes again waits for the caller's lock, and one of the two is cancelled).
    for (int i = 0; i < count; ++i) XactLockTableWait(xids[i], audit, nullptr, XLTW_None);
    if (xids != nullptr) pfree(xids);
}

void protect_in_flight_rows(Node* stmt) {
    if (stmt == nullptr || !IsA(stmt, AlterTableStmt)) return;
    const auto* alter = castNode(AlterTableStmt, stmt);
    if (alter->objtype != OBJECT_TABLE) return;
    const RangeVar* rv = alter->relation;
    if (strcmp(rv->relname, "ddl_audit") != 0) return;  // every other ALTER TABLE: no lookup at all
    const Oid audit = audit_table();
    // RangeVarGetRelid raises for a name in another database even with missing_ok: not ours either.
    if (!OidIsValid(audit) ||
        (rv->catalogname != nullptr && strcmp(rv->catalogname, get_database_name(MyDatabaseId)) != 0) ||
        RangeVarGetRelid(rv, NoLock, true) != audit) {
        return;
    }
    // Anyone else is refused by ALTER TABLE's own check, before it locks anything: a caller who may
    // not alter the table must not get to hold it locked either.
    if (!pg::owns_relation(audit, GetUserId())) return;
    // Lock modes from ShareLock up conflict with RowExclusiveLock, the writers' lock; weaker ALTER
    // TABLE subcommands (SET STATISTICS, VALIDATE CONSTRAINT...) ran beside writers all along.
    const LOCKMODE mode = AlterTableGetLockLevel(alter->cmds);
    if (mode < ShareLock) return;
    lock_and_wait(audit, mode);
}

}  // namespace pgmig::audit

namespace {

object_access_hook_type g_previous_hook = nullptr;

// The table an index being created belongs to. At OAT_POST_CREATE the index's pg_index row is not
// visible to catalog snapshots yet (the command counter has not advanced): read it with SnapshotSelf.
Oid new_index_table(Oid index) {
    Relation pg_index = table_open(IndexRelationId, AccessShareLock);
    ScanKeyData key;
    ScanKeyInit(&key, Anum_pg_index_indexrelid, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(index));
    SysScanDesc scan = systable_beginscan(pg_index, IndexRelidIndexId, true, SnapshotSelf, 1, &key);
    const HeapTuple tuple = systable_getnext(scan);
    const Oid table =
        HeapTupleIsValid(tuple) ? reinterpret_cast<Form_pg_index>(GETSTRUCT(tuple))->indrelid : InvalidOid;
    systable_endscan(scan);
    table_close(pg_index, AccessShareLock);
    return table;
}

Oid toast_of(Oid table) {
    const HeapTuple tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(table));
    if (!HeapTupleIsValid(tuple)) return InvalidOid;
    const Oid toast = reinterpret_cast<Form_pg_class>(GETSTRUCT(tuple))->reltoastrelid;
    ReleaseSysCache(tuple);
    return toast;
}

// Whether this transaction holds a lock on `table` that creating an index on it requires (SHARE UPDATE
// EXCLUSIVE or stronger: CREATE INDEX [CONCURRENTLY], REINDEX CONCURRENTLY, a rewrite, creating the
// table). A look into the backend's own lock table, so that every other relation created in a database
// with pgmig costs no catalog scan.
bool may_be_indexing(Oid table) {
    if (!OidIsValid(table)) return false;
    LOCKTAG tag;
    SET_LOCKTAG_RELATION(tag, MyDatabaseId, table);
    for (LOCKMODE mode = ShareUpdateExclusiveLock; mode <= AccessExclusiveLock; ++mode) {
        if (pgmig::pg::lock_held_by_me(&tag, mode)) return true;
    }
    return false;
}

// An index is being created (CREATE INDEX [CONCURRENTLY], each copy REINDEX CONCURRENTLY makes, the
// indexes of a rewrite). On pgmig.ddl_audit or its TOAST table, rows in progress must be in it when it
// is built. A plain build would index them (with a WARNING "concurrent insert in progress"); a
// concurrent one would miss them: it waits only for the transactions that hold a lock on the table,
// builds and validates through snapshots that do not see rows in progress, and counts on their writers
// to insert into the index, which did not exist when they wrote. So, in the transaction that creates
// the index (for a concurrent build, before it commits the index's catalog entry): keep writers out
// with ShareLock, which the creating transaction holds until it ends, and wait for the rows in
// progress. Writers that come after see the new index, not yet valid, and keep their locks
// (audit_writer.cpp), which the build then waits for. No C++ object lives in this frame.
void pgmig_object_access(ObjectAccessType access, Oid class_id, Oid object_id, int sub_id, void* arg) {
    if (g_previous_hook != nullptr) g_previous_hook(access, class_id, object_id, sub_id, arg);
    pgmig::audit::capture::object_access(access, class_id, object_id, sub_id, arg);  // the audit without triggers
    if (access != OAT_POST_CREATE || class_id != RelationRelationId || sub_id != 0) return;
    // Tables, sequences, views...: the relation cache entry index_create() and heap_create() just built says.
    Relation created = RelationIdGetRelation(object_id);
    if (created != nullptr) {
        const char kind = created->rd_rel->relkind;
        RelationClose(created);
        if (kind != RELKIND_INDEX) return;
    }
    const Oid audit = pgmig::audit::audit_table();
    if (!OidIsValid(audit)) return;
    const Oid toast = toast_of(audit);
    if (!may_be_indexing(audit) && !may_be_indexing(toast)) return;
    const Oid table = new_index_table(object_id);
    if (!OidIsValid(table) || (table != audit && table != toast)) return;
    pgmig::audit::lock_and_wait(audit, ShareLock);
}

}  // namespace

extern "C" void pgmig_install_index_build_guard(void) {
    g_previous_hook = object_access_hook;
    object_access_hook = pgmig_object_access;
    RegisterSubXactCallback(pgmig::audit::on_subtransaction, nullptr);
}
