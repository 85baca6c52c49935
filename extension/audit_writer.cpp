// Audit rows written straight into pgmig.ddl_audit (see audit_writer.hpp). Everything here runs
// under pg::call and holds no object with a destructor: PostgreSQL errors longjmp through it.
extern "C" {
#include "postgres.h"
#include "access/heaptoast.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/dependency.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/objectaddress.h"
#include "catalog/pg_class.h"
#include "catalog/pg_namespace.h"
#include "commands/async.h"
#include "commands/sequence.h"
#include "executor/executor.h"
#include "executor/tuptable.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/fmgrprotos.h"
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/resowner.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"
#include "utils/xid8.h"
}

#include <cstring>

#include "audit_writer.hpp"
#include "quiet_sequence.hpp"
#include "sql_version.hpp"
#include "pg/compat.hpp"

namespace pgmig::audit {
namespace {

enum Column {
    kId,
    kAt,
    kTxid,
    kBackendPid,
    kSessionUser,
    kCurrentUser,
    kApplicationName,
    kClientAddr,
    kEvent,
    kCommandTag,
    kObjectType,
    kSchemaName,
    kObjectIdentity,
    kTableRewrite,
    kStatement,
    kMigrationVersion,
    kPolicy,
    kColumnCount
};
constexpr const char* kColumnNames[kColumnCount] = {"id",
                                                    "at",
                                                    "txid",
                                                    "backend_pid",
                                                    "session_user_name",
                                                    "current_user_name",
                                                    "application_name",
                                                    "client_addr",
                                                    "event",
                                                    "command_tag",
                                                    "object_type",
                                                    "schema_name",
                                                    "object_identity",
                                                    "table_rewrite",
                                                    "statement",
                                                    "migration_version",
                                                    "policy"};

// The open table and one row's values. Columns are found by name, so the table's column order
// does not matter; columns not listed here (the hash chain's) are NULL until sealing.
struct Writer {
    Relation rel;
    CatalogIndexState indexes;
    AttrNumber attno[kColumnCount];
    Oid sequence;
    Datum* values;
    bool* nulls;
    bool toasted;  // a row was long enough for heap_insert to move values to the TOAST table
};

// The identity sequence of pgmig.ddl_audit.id, cached per backend by table OID: a re-created
// extension has a new table, hence a new OID. The sequence itself cannot change under the same
// table: it belongs to the extension, so PostgreSQL refuses to drop the identity.
Oid id_sequence(Oid table, AttrNumber id_attno) {
    static Oid cached_table = InvalidOid;
    static Oid cached_sequence = InvalidOid;
    if (table != cached_table) {
        cached_sequence = pg::identity_sequence(table, id_attno);
        cached_table = table;
    }
    return cached_sequence;
}

Datum name_datum(const char* s) {
    Name name = static_cast<Name>(palloc0(NAMEDATALEN));
    namestrcpy(name, s);
    return NameGetDatum(name);
}

void set_text(Writer* w, Column column, const char* value) {
    const AttrNumber a = w->attno[column];
    w->nulls[a - 1] = value == nullptr;
    w->values[a - 1] = value == nullptr ? static_cast<Datum>(0) : CStringGetTextDatum(value);
}

Datum text_or_null(const char* value) { return value != nullptr ? CStringGetTextDatum(value) : static_cast<Datum>(0); }

void set_datum(Writer* w, Column column, Datum value, bool isnull) {
    const AttrNumber a = w->attno[column];
    w->nulls[a - 1] = isnull;
    w->values[a - 1] = value;
}

// pgmig.ddl_audit as last opened, and the numbers of its columns: found by name once per version of the
// table, not on every statement (about 4,400 instructions). A relcache invalidation of the table (ALTER,
// DROP, DROP EXTENSION) forgets them; it arrives at the latest when the table is locked.
Oid g_cached_table = InvalidOid;
AttrNumber g_cached_attno[kColumnCount];

void forget_cached_table(Datum /*arg*/, Oid relid) {
    if (relid == InvalidOid || relid == g_cached_table) g_cached_table = InvalidOid;
}

// The columns of `rel` by name, into `attno`.
void map_columns(Relation rel, AttrNumber* attno) {
    const TupleDesc desc = RelationGetDescr(rel);
    for (int c = 0; c < kColumnCount; ++c) {
        attno[c] = InvalidAttrNumber;
        for (int i = 0; i < desc->natts; ++i) {
            const Form_pg_attribute attr = TupleDescAttr(desc, i);
            if (!attr->attisdropped && strcmp(NameStr(attr->attname), kColumnNames[c]) == 0) {
                attno[c] = attr->attnum;
                break;
            }
        }
        if (attno[c] == InvalidAttrNumber) {
            ereport(ERROR, (errcode(ERRCODE_UNDEFINED_COLUMN),
                            errmsg("column %s of pgmig.ddl_audit does not exist", kColumnNames[c]),
                            errhint("reinstall the extension: DROP EXTENSION pgmig; CREATE EXTENSION pgmig")));
        }
    }
}

// pgmig.ddl_audit, opened and locked: the cached table while no invalidation forgot it (checked again once
// the lock took in other sessions' invalidations), else found by name.
Relation open_audit_table() {
    const Oid cached = g_cached_table;
    if (OidIsValid(cached)) {
        Relation rel = try_table_open(cached, RowExclusiveLock);
        if (rel != nullptr && g_cached_table == cached) return rel;
        if (rel != nullptr) table_close(rel, RowExclusiveLock);
    }
    const Oid schema = get_namespace_oid("pgmig", false);
    const Oid table = get_relname_relid("ddl_audit", schema);
    if (!OidIsValid(table)) {
        sql_version::require_audit_layout();  // objects of an unknown release say so first
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE), errmsg("table pgmig.ddl_audit does not exist"),
                        errhint("reinstall the extension: DROP EXTENSION pgmig; CREATE EXTENSION pgmig")));
    }
    return table_open(table, RowExclusiveLock);
}

// Opens pgmig.ddl_audit and fills in what every row of this event shares.
void open_writer(Writer* w, const RowValues& row) {
    w->rel = open_audit_table();
    const Oid table = RelationGetRelid(w->rel);
    // After the lock, which takes in other sessions' invalidations: an ALTER of the table committed
    // meanwhile makes this look at the release again.
    sql_version::require_audit_layout(table);
    if (g_cached_table != table) {
        map_columns(w->rel, g_cached_attno);
        g_cached_table = table;
    }
    memcpy(w->attno, g_cached_attno, sizeof(w->attno));
    const TupleDesc desc = RelationGetDescr(w->rel);
    w->indexes = CatalogOpenIndexes(w->rel);
    // The indexes are maintained without an executor: only plain column indexes can be.
    for (int i = 0; i < w->indexes->ri_NumIndices; ++i) {
        const IndexInfo* info = w->indexes->ri_IndexRelationInfo[i];
        if (info->ii_Expressions != NIL || info->ii_Predicate != NIL || info->ii_ExclusionOps != nullptr) {
            ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                            errmsg("index %s on pgmig.ddl_audit has expressions, a predicate or exclusion constraints",
                                   RelationGetRelationName(w->indexes->ri_IndexRelationDescs[i])),
                            errhint("pgmig writes audit rows without the executor: drop that index, or index plain "
                                    "columns only")));
        }
    }
    w->sequence = id_sequence(table, w->attno[kId]);
    w->toasted = false;
    w->values = static_cast<Datum*>(palloc0(sizeof(Datum) * desc->natts));
    w->nulls = static_cast<bool*>(palloc(sizeof(bool) * desc->natts));
    memset(w->nulls, true, sizeof(bool) * desc->natts);

    set_datum(w, kTxid, FullTransactionIdGetDatum(GetTopFullTransactionId()), false);
    set_datum(w, kBackendPid, Int32GetDatum(MyProcPid), false);
    set_datum(w, kSessionUser, name_datum(GetUserNameFromId(GetSessionUserId(), false)), false);
    set_datum(w, kCurrentUser, name_datum(row.current_user), false);
    set_text(w, kApplicationName, application_name);
    LOCAL_FCINFO(addr_call, 0);
    InitFunctionCallInfoData(*addr_call, nullptr, 0, InvalidOid, nullptr, nullptr);
    const Datum addr = inet_client_addr(addr_call);
    set_datum(w, kClientAddr, addr, addr_call->isnull);
    set_text(w, kEvent, row.event);
    set_text(w, kCommandTag, row.command_tag);
    set_text(w, kStatement, row.statement);
    set_text(w, kMigrationVersion, row.migration_version);
    set_text(w, kPolicy, row.policy);
    set_datum(w, kTableRewrite, BoolGetDatum(false), false);
}

// Appends one row with the shared values and this object.
void write_row(Writer* w, Appended* out, Datum type, bool type_null, Datum schema, bool schema_null, Datum identity,
               bool identity_null) {
    // The time first, then the id: ids are taken in order (one at a time, under the sequence's buffer
    // lock), so a row whose time is after a snapshot's has an id after the newest row that snapshot saw,
    // and migrate_drift() reads the rows since a snapshot through the primary key (06_drift.sql).
    set_datum(w, kAt, TimestampTzGetDatum(GetCurrentTimestamp()), false);
    // Not nextval(): that would make pgmig's sequence the session's lastval() (see quiet_sequence.hpp).
    const int64 id = quiet_nextval(w->sequence);
    set_datum(w, kId, Int64GetDatum(id), false);
    set_datum(w, kObjectType, type, type_null);
    set_datum(w, kSchemaName, schema, schema_null);
    set_datum(w, kObjectIdentity, identity, identity_null);
    const HeapTuple tuple = heap_form_tuple(RelationGetDescr(w->rel), w->values, w->nulls);
    if (tuple->t_len > TOAST_TUPLE_THRESHOLD) w->toasted = true;  // heap_insert's own test
    CatalogTupleInsertWithInfo(w->rel, tuple, w->indexes);
    heap_freetuple(tuple);
    if (out->count++ == 0) {
        out->first_id = id;
        if (!identity_null) strlcpy(out->first_identity, TextDatumGetCString(identity), sizeof(out->first_identity));
    }
}

// Whether an index the rows went into (of pgmig.ddl_audit, or of its TOAST table when values went
// there) is not valid yet: a concurrent build is under way (or failed). It counts on every writer
// that might have inserted without it holding its lock until commit (see audit_in_flight.hpp).
bool index_build_under_way(Writer* w) {
    for (int i = 0; i < w->indexes->ri_NumIndices; ++i) {
        if (!w->indexes->ri_IndexRelationDescs[i]->rd_index->indisvalid) return true;
    }
    const Oid toast = w->rel->rd_rel->reltoastrelid;
    if (!w->toasted || !OidIsValid(toast)) return false;
    Relation toast_rel = table_open(toast, RowExclusiveLock);  // held already, if values went there
    List* indexes = RelationGetIndexList(toast_rel);
    bool invalid = false;
    ListCell* cell = nullptr;
    foreach (cell, indexes) {
        if (!get_index_isvalid(lfirst_oid(cell))) invalid = true;
    }
    list_free(indexes);
    table_close(toast_rel, NoLock);
    return invalid;
}

// Returns whether the locks must be kept until the transaction ends (index_build_under_way).
bool close_writer(Writer* w) {
    const bool keep = index_build_under_way(w);
    CatalogCloseIndexes(w->indexes);
    table_close(w->rel, NoLock);  // the lock belongs to the write's resource owner (with_writer)
    CommandCounterIncrement();    // later statements of this transaction see the rows
    return keep;
}

struct SrfRows {
    const int (*columns)[3];
    const int (*keep)[2];
    Writer* w;
    Appended* out;
};

// One row for a row of a set-returning event trigger function: `columns` are the (1-based) positions of
// object_type, schema_name and object_identity in its result; `keep` those of two booleans of which one
// must be true (0: keep every row).
void write_srf_row(TupleTableSlot* slot, void* arg) {
    const auto* rows = static_cast<SrfRows*>(arg);
    const int(&keep)[2] = *rows->keep;
    if (keep[0] != 0) {
        bool n1 = false;
        bool n2 = false;
        const Datum k1 = slot_getattr(slot, keep[0], &n1);
        const Datum k2 = slot_getattr(slot, keep[1], &n2);
        if (!((!n1 && DatumGetBool(k1)) || (!n2 && DatumGetBool(k2)))) return;
    }
    bool nulls[3];
    Datum values[3];
    for (int i = 0; i < 3; ++i) values[i] = slot_getattr(slot, (*rows->columns)[i], &nulls[i]);
    write_row(rows->w, rows->out, values[0], nulls[0], values[1], nulls[1], values[2], nulls[2]);
}

void write_srf_rows(Writer* w, Appended* out, Oid function, const int (&columns)[3], const int (&keep)[2]) {
    SrfRows rows{&columns, &keep, w, out};
    each_event_row(function, write_srf_row, &rows);
}

// The table a table_rewrite event is about.
void write_rewritten_table(Writer* w, Appended* out) {
    LOCAL_FCINFO(fcinfo, 0);
    InitFunctionCallInfoData(*fcinfo, nullptr, 0, InvalidOid, nullptr, nullptr);
    const Oid table = DatumGetObjectId(pg_event_trigger_table_rewrite_oid(fcinfo));
    ObjectAddress address;
    ObjectAddressSet(address, RelationRelationId, table);
    const char* type = getObjectTypeDescription(&address, true);
    const char* identity = getObjectIdentity(&address, true);
    const char* schema = get_namespace_name(get_rel_namespace(table));
    set_datum(w, kTableRewrite, BoolGetDatum(true), false);
    write_row(w, out, type != nullptr ? CStringGetTextDatum(type) : 0, type == nullptr,
              schema != nullptr ? CStringGetTextDatum(schema) : 0, schema == nullptr,
              identity != nullptr ? CStringGetTextDatum(identity) : 0, identity == nullptr);
}

// Result columns of pg_event_trigger_ddl_commands() and pg_event_trigger_dropped_objects().
constexpr int kDdlCommandColumns[3] = {5, 6, 7};  // object_type, schema_name, object_identity
constexpr int kDroppedColumns[3] = {7, 8, 10};    // object_type, schema_name, object_identity
constexpr int kKeepAll[2] = {0, 0};
constexpr int kKeepOriginalOrNormal[2] = {4, 5};  // original, normal

}  // namespace

void install_writer_cache() { CacheRegisterRelcacheCallback(forget_cached_table, static_cast<Datum>(0)); }

void each_event_row(Oid function, void (*fn)(TupleTableSlot* slot, void* arg), void* arg) {
    FmgrInfo flinfo;
    fmgr_info(function, &flinfo);
    ExprContext* econtext = CreateStandaloneExprContext();
    ReturnSetInfo rsinfo;
    memset(&rsinfo, 0, sizeof(rsinfo));
    rsinfo.type = T_ReturnSetInfo;
    rsinfo.econtext = econtext;
    rsinfo.allowedModes = SFRM_Materialize;
    rsinfo.returnMode = SFRM_Materialize;
    rsinfo.isDone = ExprSingleResult;
    LOCAL_FCINFO(fcinfo, 0);
    InitFunctionCallInfoData(*fcinfo, &flinfo, 0, InvalidOid, nullptr, reinterpret_cast<Node*>(&rsinfo));
    (void)FunctionCallInvoke(fcinfo);
    if (rsinfo.setResult != nullptr) {
        TupleTableSlot* slot = MakeSingleTupleTableSlot(rsinfo.setDesc, &TTSOpsMinimalTuple);
        while (tuplestore_gettupleslot(rsinfo.setResult, true, false, slot)) fn(slot, arg);
        ExecDropSingleTupleTableSlot(slot);
        tuplestore_end(rsinfo.setResult);
    }
    FreeExprContext(econtext, true);
}

namespace {

// The locks of an audit write are given back as soon as its rows are written, as PostgreSQL does for
// its catalogs (CatalogTupleInsert, then table_close(rel, RowExclusiveLock)): RowExclusiveLock on
// pgmig.ddl_audit, its indexes, its TOAST table and index, and its identity sequence would otherwise
// stay in the session's pg_locks until the transaction ends, and an open transaction that ran DDL
// would hold up TRUNCATE, ALTER TABLE or DROP EXTENSION of the trail for no reason of its own.
//
// Only the locks the write took: it runs under a resource owner of its own, a child of the current
// one, whose locks are then released. PostgreSQL counts a lock per resource owner, so a lock the
// session's transaction already held in the same mode (an administrator who ran LOCK TABLE
// pgmig.ddl_audit, read it, or took nextval() of its sequence) keeps its count and stays held; the
// write's own is all that goes. On an error the owner is left to the (sub)transaction's abort, which
// releases it with its parent.
//
// Why giving them back early is safe (docs/security.md, "Locks of the audit write", says the same):
// - the rows themselves stay uncommitted until the transaction ends, and nothing in a transaction
//   reads pgmig.ddl_audit after writing it except through MVCC, which does not need the lock;
// - the sequence's value is taken and WAL-logged under its buffer lock (quiet_nextval); nothing is
//   left for the lock to protect, as after nextval() in any other transaction;
// - what would have waited for the lock no longer does. VACUUM FULL, CLUSTER and plain REINDEX keep
//   rows of transactions in progress (they copy and index them as live, as for catalogs; PostgreSQL
//   logs "concurrent insert in progress"), TRUNCATE is refused by the audit guard, and DROP TABLE or
//   DROP EXTENSION removes the trail anyway (the open transaction's rows with it). Two kinds of
//   operation would lose or skip such rows, and pgmig makes them wait for the rows' transactions
//   instead (audit_in_flight.cpp): ALTER TABLE pgmig.ddl_audit that rewrites or validates the table
//   (it reads it through a fresh snapshot), and index builds on it, above all concurrent ones (CREATE
//   INDEX CONCURRENTLY, REINDEX CONCURRENTLY), which count on every writer that inserted before the
//   index was ready still holding its lock; so while an index of the table is not valid, the write
//   keeps its locks until the transaction ends, as before. (REINDEX CONCURRENTLY in a session that has
//   not loaded pgmig is not made to wait: see docs/security.md.)
// - the sealer reads committed rows only, under its own locks: it never waited for a writer.
struct OwnLocks {
    ResourceOwner saved;  // the current owner when the write began; nullptr: no owner, nothing to do
    ResourceOwner own;
};

OwnLocks begin_own_locks() {
    OwnLocks locks{CurrentResourceOwner, nullptr};
    if (locks.saved != nullptr) {
        locks.own = ResourceOwnerCreate(locks.saved, "pgmig audit write");
        CurrentResourceOwner = locks.own;
    }
    return locks;
}

// Releases what the write's owner holds: other resources as a commit would (a leak is reported), the
// locks given back, or, when `keep`, handed to the enclosing owner as a committed subtransaction does.
void end_own_locks(const OwnLocks& locks, bool keep) {
    if (locks.own == nullptr) return;
    CurrentResourceOwner = locks.saved;
    ResourceOwnerRelease(locks.own, RESOURCE_RELEASE_BEFORE_LOCKS, true, false);
    ResourceOwnerRelease(locks.own, RESOURCE_RELEASE_LOCKS, keep, false);
    ResourceOwnerRelease(locks.own, RESOURCE_RELEASE_AFTER_LOCKS, true, false);
    ResourceOwnerDelete(locks.own);
}

// Opens pgmig.ddl_audit, runs write(&writer, &appended) in a scratch memory context and under the
// write's own resource owner, closes it and gives its locks back. `write` must be trivially
// destructible, like everything else on this path.
template <typename Fn>
Appended with_writer(const RowValues& row, Fn write) {
    Appended out;
    MemoryContext scratch = AllocSetContextCreate(CurrentMemoryContext, "pgmig audit row", ALLOCSET_SMALL_SIZES);
    MemoryContext previous = MemoryContextSwitchTo(scratch);
    const OwnLocks locks = begin_own_locks();
    bool keep = false;
    PG_TRY();
    {
        Writer w;
        open_writer(&w, row);
        out.table = RelationGetRelid(w.rel);
        write(&w, &out);
        if (out.count == 0) write_row(&w, &out, 0, true, 0, true, 0, true);  // a command that names no object
        keep = close_writer(&w);
    }
    PG_CATCH();
    {
        // The abort that must follow releases the write's owner with its parent; until then the code
        // in between runs under the owner it expects.
        CurrentResourceOwner = locks.saved;
        PG_RE_THROW();
    }
    PG_END_TRY();
    end_own_locks(locks, keep);
    MemoryContextSwitchTo(previous);
    MemoryContextDelete(scratch);
    return out;
}

}  // namespace

// CREATE INDEX CONCURRENTLY (and other statements that commit on their own) reach ddl_command_end
// with no active snapshot, and heap_insert needs one (PostgreSQL 15 asserts it, for TOAST). On an
// error the transaction's abort pops it.
struct ActiveSnapshot {
    bool pushed = !ActiveSnapshotSet();
    ActiveSnapshot() {
        if (pushed) PushActiveSnapshot(GetTransactionSnapshot());
    }
    void pop() {
        if (pushed) PopActiveSnapshot();
        pushed = false;
    }
};

Appended append_event_rows(const RowValues& row, EventObjects objects) {
    ActiveSnapshot snapshot;
    Appended appended = with_writer(row, [objects](Writer* w, Appended* out) {
        switch (objects) {
            case EventObjects::ddl_commands:
                write_srf_rows(w, out, F_PG_EVENT_TRIGGER_DDL_COMMANDS, kDdlCommandColumns, kKeepAll);
                break;
            case EventObjects::dropped_objects:
                write_srf_rows(w, out, F_PG_EVENT_TRIGGER_DROPPED_OBJECTS, kDroppedColumns, kKeepOriginalOrNormal);
                break;
            case EventObjects::rewritten_table:
                write_rewritten_table(w, out);
                break;
        }
    });
    snapshot.pop();
    return appended;
}

bool grant_names_objects(const Node* parsetree) {
    if (parsetree == nullptr || !IsA(parsetree, GrantStmt)) return false;
    const auto* grant = castNode(GrantStmt, const_cast<Node*>(parsetree));
    return grant->targtype == ACL_TARGET_OBJECT &&
           (grant->objtype == OBJECT_TABLE || grant->objtype == OBJECT_SEQUENCE || grant->objtype == OBJECT_SCHEMA);
}

void each_grant_object(Node* parsetree, void (*fn)(const ObjectAddress& address, void* arg), void* arg) {
    GrantStmt* grant = castNode(GrantStmt, parsetree);
    ListCell* cell = nullptr;
    foreach (cell, grant->objects) {
        if (grant->objtype == OBJECT_SCHEMA) {
            const Oid nsp = get_namespace_oid(strVal(lfirst(cell)), true);
            if (OidIsValid(nsp)) fn({NamespaceRelationId, nsp, 0}, arg);
        } else {
            // The relation the GRANT just changed (and still holds locked), found as it found it.
            const Oid rel = RangeVarGetRelid(static_cast<RangeVar*>(lfirst(cell)), NoLock, true);
            if (OidIsValid(rel)) fn({RelationRelationId, rel, 0}, arg);
        }
    }
}

namespace {

struct GrantRows {
    Writer* w;
    Appended* out;
};

void write_grant_row(const ObjectAddress& address, void* arg) {
    const auto* rows = static_cast<GrantRows*>(arg);
    const char* schema =
        address.classId == RelationRelationId ? get_namespace_name(get_rel_namespace(address.objectId)) : nullptr;
    const char* type = getObjectTypeDescription(&address, true);
    const char* identity = getObjectIdentity(&address, true);
    write_row(rows->w, rows->out, type != nullptr ? CStringGetTextDatum(type) : 0, type == nullptr,
              schema != nullptr ? CStringGetTextDatum(schema) : 0, schema == nullptr,
              identity != nullptr ? CStringGetTextDatum(identity) : 0, identity == nullptr);
}

}  // namespace

Appended append_grant_rows(const RowValues& row, Node* parsetree) {
    ActiveSnapshot snapshot;
    Appended appended = with_writer(row, [parsetree](Writer* w, Appended* out) {
        GrantRows rows{w, out};
        each_grant_object(parsetree, write_grant_row, &rows);
    });
    snapshot.pop();
    return appended;
}

Appended append_shared_row(const RowValues& row, const char* object_type, const char* object_identity) {
    return with_writer(row, [object_type, object_identity](Writer* w, Appended* out) {
        write_row(w, out, object_type != nullptr ? CStringGetTextDatum(object_type) : 0, object_type == nullptr, 0,
                  true, object_identity != nullptr ? CStringGetTextDatum(object_identity) : 0,
                  object_identity == nullptr);
    });
}

Appended append_captured_rows(const RowValues& row, const CapturedRow* rows, int count) {
    ActiveSnapshot snapshot;
    Appended appended = with_writer(row, [rows, count](Writer* w, Appended* out) {
        for (int i = 0; i < count; ++i) {
            const CapturedRow& r = rows[i];
            set_text(w, kEvent, r.event);
            set_datum(w, kTableRewrite, BoolGetDatum(r.table_rewrite), false);
            write_row(w, out, text_or_null(r.object_type), r.object_type == nullptr, text_or_null(r.schema_name),
                      r.schema_name == nullptr, text_or_null(r.object_identity), r.object_identity == nullptr);
        }
    });
    snapshot.pop();
    return appended;
}

void notify_drift(const char* payload) {
    LOCAL_FCINFO(fcinfo, 0);
    InitFunctionCallInfoData(*fcinfo, nullptr, 0, InvalidOid, nullptr, nullptr);
    if (DatumGetFloat8(pg_notification_queue_usage(fcinfo)) < 0.5) Async_Notify("pgmig_drift", payload);
}

}  // namespace pgmig::audit
