// nextval() for pgmig's own sequences that leaves the session's lastval()/currval() alone (see
// quiet_sequence.hpp). It follows PostgreSQL 15's nextval_internal() for CACHE 1 step by step: the
// sequence page is shared with every other backend's nextval(), so the protocol must be the same.
// START_CRIT_SECTION increments a volatile counter, which C++20 deprecates (the macro is C's).
#pragma GCC diagnostic ignored "-Wvolatile"
extern "C" {
#include "postgres.h"
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "access/xloginsert.h"
#include "catalog/pg_sequence.h"
#include "commands/sequence.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "utils/rel.h"
#include "utils/syscache.h"
}

#include "quiet_sequence.hpp"
#include "pg/compat.hpp"

namespace pgmig {
namespace {

constexpr uint32 kSequenceMagic = 0x1717;  // SEQ_MAGIC of sequence.c: the special space of a sequence page
constexpr int64 kLogValues = 32;           // SEQ_LOG_VALS of sequence.c: values pre-logged per WAL record

}  // namespace

int64 quiet_nextval(Oid seq) {
    // nextval() takes RowExclusiveLock on the sequence, held to the end of the transaction.
    Relation rel = relation_open(seq, RowExclusiveLock);
    if (rel->rd_rel->relkind != RELKIND_SEQUENCE) elog(ERROR, "\"%s\" is not a sequence", RelationGetRelationName(rel));
    if (!rel->rd_islocaltemp) PreventCommandIfReadOnly("nextval()");
    PreventCommandIfParallelMode("nextval()");

    // The sequence's options (increment and bounds) from pg_sequence, read under the lock.
    HeapTuple options = SearchSysCache1(SEQRELID, ObjectIdGetDatum(seq));
    if (!HeapTupleIsValid(options)) elog(ERROR, "cache lookup failed for sequence %u", seq);
    const auto* form = reinterpret_cast<Form_pg_sequence>(GETSTRUCT(options));
    const int64 incby = form->seqincrement;
    const int64 maxv = form->seqmax;
    const int64 minv = form->seqmin;
    ReleaseSysCache(options);

    Buffer buf = ReadBuffer(rel, 0);
    LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
    Page page = BufferGetPage(buf);
    if (*reinterpret_cast<uint32*>(PageGetSpecialPointer(page)) != kSequenceMagic) {
        UnlockReleaseBuffer(buf);
        elog(ERROR, "bad magic number in sequence \"%s\"", RelationGetRelationName(rel));
    }
    ItemId lp = PageGetItemId(page, FirstOffsetNumber);
    HeapTupleData tuple;
    tuple.t_data = reinterpret_cast<HeapTupleHeader>(PageGetItem(page, lp));
    tuple.t_len = ItemIdGetLength(lp);
    // As read_seq_tuple(): a stray xmax (old releases allowed SELECT FOR UPDATE) is cleared like a hint.
    if (HeapTupleHeaderGetRawXmax(tuple.t_data) != InvalidTransactionId) {
        HeapTupleHeaderSetXmax(tuple.t_data, InvalidTransactionId);
        tuple.t_data->t_infomask &= ~HEAP_XMAX_COMMITTED;
        tuple.t_data->t_infomask |= HEAP_XMAX_INVALID;
        MarkBufferDirtyHint(buf, true);
    }
    auto* data = reinterpret_cast<Form_pg_sequence_data>(GETSTRUCT(&tuple));

    int64 next = data->last_value;
    int64 result = next;
    int64 last = next;
    int64 fetch = 1;  // CACHE 1
    int64 log = data->log_cnt;
    int64 rescnt = 0;
    bool logit = false;
    if (!data->is_called) {
        rescnt++;  // the first value is last_value itself
        fetch--;
    }
    // Pre-log SEQ_LOG_VALS values when none are left, or when this is the first change after a
    // checkpoint (replay from it must advance the sequence past what we hand out).
    if (log < fetch || !data->is_called || PageGetLSN(page) <= GetRedoRecPtr()) {
        fetch = log = fetch + kLogValues;
        logit = true;
    }
    bool exhausted = false;
    while (fetch > 0) {
        if (incby > 0 ? ((maxv >= 0 && next > maxv - incby) || (maxv < 0 && next + incby > maxv))
                      : ((minv < 0 && next < minv - incby) || (minv >= 0 && next + incby < minv))) {
            if (rescnt > 0) break;  // enough for this call; pre-log less
            exhausted = true;       // pgmig's sequences do not cycle
            break;
        }
        next += incby;
        fetch--;
        if (rescnt < 1) {
            log--;
            rescnt++;
            last = next;
            result = next;
        }
    }
    if (exhausted) {
        UnlockReleaseBuffer(buf);
        ereport(ERROR, (errcode(ERRCODE_SEQUENCE_GENERATOR_LIMIT_EXCEEDED),
                        errmsg("nextval: reached the limit of sequence \"%s\"", RelationGetRelationName(rel))));
    }
    log -= fetch;

    // A WAL record must make the commit flush and wait for synchronous replication: the top-level
    // transaction needs an xid (outside the critical section; DDL has one already).
    if (logit && RelationNeedsWAL(rel)) (void)GetTopTransactionId();

    START_CRIT_SECTION();
    MarkBufferDirty(buf);
    if (logit && RelationNeedsWAL(rel)) {
        // The record holds the state after the pre-logged values, as nextval() writes it.
        XLogBeginInsert();
        XLogRegisterBuffer(0, buf, REGBUF_WILL_INIT);
        data->last_value = next;
        data->is_called = true;
        data->log_cnt = 0;
        xl_seq_rec xlrec;
        pg::set_seq_record_relation(&xlrec, rel);
        XLogRegisterData(reinterpret_cast<char*>(&xlrec), sizeof(xl_seq_rec));
        XLogRegisterData(reinterpret_cast<char*>(tuple.t_data), tuple.t_len);
        const XLogRecPtr recptr = XLogInsert(RM_SEQ_ID, XLOG_SEQ_LOG);
        PageSetLSN(page, recptr);
    }
    data->last_value = last;
    data->is_called = true;
    data->log_cnt = log;
    END_CRIT_SECTION();

    UnlockReleaseBuffer(buf);
    relation_close(rel, NoLock);
    return result;
}

}  // namespace pgmig
