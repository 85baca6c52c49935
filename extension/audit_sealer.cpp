// The prompt sealer: right after a transaction that wrote audit rows commits, a dynamic background
// worker seals them into the hash chain, so that an unsealed (silently deletable) row exists only
// briefly. The committing backend never waits for it: at commit it only flips a flag in a small
// shared-memory table and sets the sealer's latch, or registers the worker. At most one sealer runs per
// database; while it runs, later commits only ask it for one more pass, so a burst of DDL does not pile
// up workers. It stays a moment (kLingerMs) after its last pass, so that DDL run statement by
// statement is sealed by one worker rather than by a new process per commit.
extern "C" {
#include "postgres.h"
#include "access/xact.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "libpq/pqsignal.h"
#include "postmaster/bgworker.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "tcop/tcopprot.h"
#include "utils/guc.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

PGDLLEXPORT void pgmig_audit_sealer(Datum arg);
}

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "audit_chain.hpp"
#include "pg/boundary.hpp"
#include "pg/spi.hpp"
#include "pg/worker.hpp"
#include "settings.hpp"

namespace pgmig::audit {
namespace {

// One entry per database whose sealer is running (or registered). Allocated on first use from the
// small reserve PostgreSQL keeps in its main shared-memory segment, as contrib's pg_prewarm does for
// its worker, so that it works without shared_preload_libraries.
constexpr int kSlots = 32;
constexpr long kStaleMs = 60 * 1000;  // a sealer silent this long is taken for dead (never started)
constexpr long kLingerMs = 200;       // short: DROP DATABASE waits for connected workers to leave
constexpr long kBatchMs = 20;         // lets the commits of a burst gather into one pass
constexpr long kSealWaitMs = 5000;    // the longest wait for a seal lock held by another session

struct Slot {
    Oid database;
    bool active;  // a sealer is registered or running for `database`
    bool again;   // a transaction committed rows since its pass began: one more pass
    uint32 generation;
    Oid table;              // the pgmig.ddl_audit the last commit wrote to (a re-created extension's is new)
    TimestampTz heartbeat;  // when it was registered, or began its last pass
    Latch* latch;           // the running sealer's, set while it waits for more (PGPROC latches are shared)
};

struct Shared {
    slock_t mutex;
    Slot slot[kSlots];
};

// What bgw_extra carries to the worker.
struct Target {
    Oid database;
    Oid table;  // pgmig.ddl_audit of the commit that asked for this pass (taken from the slot each pass)
    uint32 generation;
    int slot;
};
static_assert(sizeof(Target) <= BGW_EXTRALEN);

Shared* g_shared = nullptr;
bool g_attach_failed = false;
bool g_callback_registered = false;
Oid g_pending_table = InvalidOid;  // rows were written in the current transaction

// Raises (out of shared memory); call under pg::call in a subtransaction, which releases the lock.
void attach() {
    LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
    bool found = false;
    auto* shared = static_cast<Shared*>(ShmemInitStruct("pgmig audit sealer", sizeof(Shared), &found));
    if (!found) {
        memset(shared, 0, sizeof(Shared));
        SpinLockInit(&shared->mutex);
    }
    LWLockRelease(AddinShmemInitLock);
    g_shared = shared;
}

// Marks the slot free, unless another sealer has taken it over since.
void release_slot(int index, uint32 generation) {
    SpinLockAcquire(&g_shared->mutex);
    Slot& s = g_shared->slot[index];
    if (s.generation == generation) {
        s.active = false;
        s.latch = nullptr;
    }
    SpinLockRelease(&g_shared->mutex);
}

// Runs after the commit record is written and the transaction is visible: it must not raise (an
// error here would abort a committed transaction). Only a spinlock, and a worker registration,
// which reports failure by its return value.
void start_sealer(Oid table) {
    if (g_shared == nullptr || !IsUnderPostmaster) return;
    const TimestampTz now = GetCurrentTimestamp();
    int index = -1;
    bool start = false;
    uint32 generation = 0;
    Latch* wake = nullptr;
    SpinLockAcquire(&g_shared->mutex);
    int free_slot = -1;
    for (int i = 0; i < kSlots; ++i) {
        const Slot& s = g_shared->slot[i];
        if (s.active && s.database == MyDatabaseId) {
            index = i;
            break;
        }
        if (!s.active && free_slot < 0) free_slot = i;
    }
    if (index >= 0 && !TimestampDifferenceExceeds(g_shared->slot[index].heartbeat, now, kStaleMs)) {
        // The running sealer makes one more pass, into this table: the extension may have been dropped
        // and created again since it started, and its own table is then gone.
        g_shared->slot[index].table = table;
        g_shared->slot[index].again = true;
        wake = g_shared->slot[index].latch;
    } else {
        if (index < 0) index = free_slot;
        if (index >= 0) {
            Slot& s = g_shared->slot[index];
            s.database = MyDatabaseId;
            s.active = true;
            s.again = false;
            s.generation += 1;
            s.table = table;
            s.heartbeat = now;
            s.latch = nullptr;
            generation = s.generation;
            start = true;
        }
    }
    SpinLockRelease(&g_shared->mutex);
    if (wake != nullptr) SetLatch(wake);  // never raises; a latch of a sealer that just left is harmless
    if (!start) {
        // ereport(LOG) does not raise; its message is formatted in the memory kept for errors.
        if (index < 0) {
            ereport(LOG, (errmsg("pgmig audit sealer: not started, %d databases already have one", kSlots),
                          errdetail("the rows just committed stay unsealed until the next sealer of this database "
                                    "or migrate_audit_verify() (pgmig audit verify) seals them")));
        }
        return;  // otherwise a sealer runs: it makes one more pass
    }

    BackgroundWorker worker = pg::worker_of("pgmig_audit_sealer", "pgmig audit sealer");
    const Target target{MyDatabaseId, table, generation, index};
    memcpy(worker.bgw_extra, &target, sizeof(target));
    if (!RegisterDynamicBackgroundWorker(&worker, nullptr)) {
        release_slot(index, generation);
        ereport(LOG, (errmsg("pgmig audit sealer: not started, no background worker slot is free"),
                      errdetail("the rows just committed stay unsealed until the next sealer of this database or "
                                "migrate_audit_verify() (pgmig audit verify) seals them"),
                      errhint("raise max_worker_processes")));
    }
}

void on_transaction_end(XactEvent event, void* /*arg*/) {
    if (event == XACT_EVENT_COMMIT) {
        const Oid table = g_pending_table;
        g_pending_table = InvalidOid;
        if (OidIsValid(table) && settings::audit_sealer()) start_sealer(table);
    } else if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PREPARE) {
        // Aborted rows are gone; prepared ones commit later, maybe elsewhere: the next sealer gets them.
        g_pending_table = InvalidOid;
    }
}

}  // namespace

void note_rows_written(unsigned table) {
    if (!OidIsValid(table)) return;
    g_pending_table = table;
    if (!g_callback_registered) {
        pg::call([] { RegisterXactCallback(on_transaction_end, nullptr); });
        g_callback_registered = true;
    }
    if (g_shared != nullptr || g_attach_failed || !IsUnderPostmaster) return;
    // Once per backend. Prompt sealing is a promise about how soon, not a condition of the DDL: if the
    // shared table cannot be had, say so once and leave sealing to migrate_audit_verify().
    try {
        pg::Subtransaction sub;
        pg::call([] { attach(); });
        sub.commit();
    } catch (const Error& e) {
        g_attach_failed = true;
        const std::string message =
            fmt::format("pgmig cannot seal audit rows right after commit in this session: {}", e.message());
        const char* text = message.c_str();
        pg::call([text] {
            ereport(WARNING, (errmsg_internal("%s", text),
                              errhint("they are sealed by migrate_audit_verify() (pgmig audit verify) instead")));
        });
    }
}

}  // namespace pgmig::audit

namespace {

// The worker's state, plain data: nothing in the worker's frames has a destructor, so a PostgreSQL
// error may end it anywhere (it logs the error and exits; the slot is freed on the way out).
pgmig::audit::Target g_target;
pgmig::audit::SealPass g_pass = pgmig::audit::SealPass::nothing_new;

void sealer_exit(int /*code*/, Datum /*arg*/) { pgmig::audit::release_slot(g_target.slot, g_target.generation); }

void attach_in_worker(void*) { pgmig::audit::attach(); }

void one_pass(void*) { g_pass = pgmig::audit::seal_pending(g_target.table, pgmig::audit::kSealWaitMs); }

// Begins a pass: false when another sealer has taken the slot over.
bool begin_pass() {
    using pgmig::audit::g_shared;
    const TimestampTz now = GetCurrentTimestamp();
    SpinLockAcquire(&g_shared->mutex);
    pgmig::audit::Slot& s = g_shared->slot[g_target.slot];
    const bool ours = s.generation == g_target.generation;
    if (ours) {
        s.again = false;
        s.heartbeat = now;
        s.latch = MyLatch;
        g_target.table = s.table;
    }
    SpinLockRelease(&g_shared->mutex);
    return ours;
}

// After a pass: true when a transaction committed rows meanwhile or does within `linger_ms` (one more
// pass); otherwise the slot is freed, so that the next commit starts a new sealer. The flag is read and
// the slot freed under one lock, so a commit either finds the slot free (and starts a sealer) or asks
// this one for a pass; the latch is reset before the flag is read, so a commit that sets both in
// between is never missed.
bool another_pass(long linger_ms) {
    using pgmig::audit::g_shared;
    const TimestampTz until = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), linger_ms);
    for (;;) {
        ResetLatch(MyLatch);
        const TimestampTz now = GetCurrentTimestamp();
        SpinLockAcquire(&g_shared->mutex);
        pgmig::audit::Slot& s = g_shared->slot[g_target.slot];
        const bool ours = s.generation == g_target.generation;
        const bool again = ours && s.again;
        const bool done = !ours || (!again && now >= until);
        if (ours && done) {
            s.active = false;
            s.latch = nullptr;
        }
        SpinLockRelease(&g_shared->mutex);
        if (again) {
            (void)WaitLatch(MyLatch, WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, pgmig::audit::kBatchMs, PG_WAIT_EXTENSION);
            CHECK_FOR_INTERRUPTS();
            return true;
        }
        if (done) return false;
        const long wait_ms = std::max(1L, static_cast<long>((until - now) / 1000));
        (void)WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, wait_ms, PG_WAIT_EXTENSION);
        CHECK_FOR_INTERRUPTS();
    }
}

}  // namespace

// The worker. It connects as the bootstrap superuser and seals as the ledger's owner, with
// search_path pinned to pg_catalog, pg_temp, and waits for the seal lock at most kSealWaitMs: a
// session that holds it longer is sealing itself, and a sealer starts when it commits.
extern "C" void pgmig_audit_sealer(Datum /*arg*/) {
    memcpy(&g_target, MyBgworkerEntry->bgw_extra, sizeof(g_target));
    // Terminated (DROP DATABASE ... WITH (FORCE), pg_terminate_backend) at the next interrupt check,
    // never from inside the signal handler: the default handler's FATAL in a critical section (a WAL
    // insert of the sealing UPDATE) or with the slot's spinlock held would take the server down.
    pqsignal(SIGTERM, die);
    BackgroundWorkerUnblockSignals();
    pgmig::pg::invoke_void(attach_in_worker, nullptr);
    before_shmem_exit(sealer_exit, 0);
    BackgroundWorkerInitializeConnectionByOid(g_target.database, InvalidOid, 0);
    pgmig::pg::pin_worker_settings();
    SetConfigOption("lock_timeout", "5s", PGC_SUSET, PGC_S_OVERRIDE);
    // A seal lost in a crash is redone by the next sealer (the rows are simply unsealed again): no
    // reason to wait for the WAL flush of every pass.
    SetConfigOption("synchronous_commit", "off", PGC_SUSET, PGC_S_OVERRIDE);
    SetConfigOption("application_name", "pgmig audit sealer", PGC_USERSET, PGC_S_SESSION);
    while (begin_pass()) {
        SetCurrentStatementStartTimestamp();
        StartTransactionCommand();
        PushActiveSnapshot(GetTransactionSnapshot());
        pgstat_report_activity(STATE_RUNNING, "sealing pgmig.ddl_audit");
        pgmig::pg::invoke_void(one_pass, nullptr);
        PopActiveSnapshot();
        CommitTransactionCommand();
        pgstat_report_activity(STATE_IDLE, nullptr);
        if (g_pass == pgmig::audit::SealPass::lock_busy) {
            ereport(LOG, (errmsg("pgmig audit sealer: another session has held the seal lock for %ld ms; the rows "
                                 "committed meanwhile are sealed by the next sealer or migrate_audit_verify()",
                                 pgmig::audit::kSealWaitMs)));
        }
        // A pass that could not seal (the seal lock held too long, the extension dropped) does not linger,
        // but a commit that asked for a pass meanwhile still gets it: its rows may be in a table created
        // since, or committed after the lock holder's seal.
        const bool settled =
            g_pass == pgmig::audit::SealPass::sealed || g_pass == pgmig::audit::SealPass::nothing_new;
        if (!another_pass(settled ? pgmig::audit::kLingerMs : 0)) break;
    }
}
