// Waiting for the ledger lock inside a statement without deadlocking the session that holds it.
//
// A caller of migrate_apply() waits inside its SELECT, whose snapshot stays registered the whole time.
// When the session holding the ledger lock runs CREATE INDEX CONCURRENTLY (pgmig apply's non-transactional
// migrations), the index build waits for every transaction with an older snapshot (WaitForOlderSnapshots,
// a wait on the virtual transaction id): each waits for the other. Queued in the lock manager, the waiter
// is an edge of that cycle, and PostgreSQL's deadlock detector cancels whichever side checks last: often
// the index build, whose index is then left invalid. So the waiter never queues: it tries the lock
// (LockAcquire without waiting, as pg_try_advisory_xact_lock) between pauses, where PostgreSQL's deadlock
// detector cannot see it, and looks itself for the cycle it would close. When the holder waits for this
// transaction, directly (on its virtual transaction id or a lock it holds) or through other sessions, it
// stops with PM058: the index build then goes on, and the caller gets an error that says why.
#include "ledger_wait.hpp"

extern "C" {
#include "postgres.h"
#include "catalog/pg_type_d.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/latch.h"
#include "storage/lock.h"
#include "storage/proc.h"
#include "utils/timestamp.h"
}

#include <fmt/format.h>

#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "errors.hpp"
#include "ledger_store.hpp"
#include "pg/boundary.hpp"
#include "pg/compat.hpp"

namespace pgmig {

namespace {

constexpr long kFirstPauseMs = 10;
constexpr long kLongestPauseMs = 500;

// The transaction-level ledger lock, tried: true when granted (or held already by this session).
bool try_ledger_lock() {
    return pg::call([] {
        LOCKTAG tag;
        const auto key = static_cast<uint64>(kLedgerLockKey);
        SET_LOCKTAG_ADVISORY(tag, MyDatabaseId, static_cast<uint32>(key >> 32), static_cast<uint32>(key), 1);
        return LockAcquire(&tag, ExclusiveLock, false, true) != LOCKACQUIRE_NOT_AVAIL;
    });
}

// Sleeps up to `ms` on the latch, shown as a wait for an advisory lock, then serves interrupts
// (statement_timeout, cancel, termination), which throw.
void pause(long ms) {
    pg::call([ms] {
        (void)WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, ms, PG_WAIT_LOCK | LOCKTAG_ADVISORY);
        ResetLatch(MyLatch);
        CHECK_FOR_INTERRUPTS();
    });
}

long ms_since(TimestampTz start) {
    return pg::call([start] { return TimestampDifferenceMilliseconds(start, GetCurrentTimestamp()); });
}

// Who holds the ledger lock, and which sessions it waits for (pg_blocking_pids), and which they wait for,
// and so on: every edge "waiter -> blocker" reachable from the holder (the holder's own row has no waiter).
constexpr const char* kWaitsQuery =
    "WITH RECURSIVE holder AS ("
    "  SELECT l.pid FROM pg_catalog.pg_locks l"
    "   WHERE l.locktype OPERATOR(pg_catalog.=) 'advisory' AND l.granted"
    "     AND l.database OPERATOR(pg_catalog.=) $1 AND l.classid OPERATOR(pg_catalog.=) $2"
    "     AND l.objid OPERATOR(pg_catalog.=) $3 AND l.objsubid OPERATOR(pg_catalog.=) 1"
    "     AND l.pid OPERATOR(pg_catalog.<>) pg_catalog.pg_backend_pid()"
    "), edge(waiter, blocker) AS ("
    "  SELECT NULL::pg_catalog.int4, h.pid FROM holder h"
    "  UNION"
    "  SELECT e.blocker, b.pid FROM edge e, pg_catalog.unnest(pg_catalog.pg_blocking_pids(e.blocker)) AS b(pid)"
    ") SELECT waiter, blocker FROM edge";

struct Waits {
    std::optional<int> holder;
    std::vector<int> path;  // holder, ..., the session this one blocks directly; empty: no cycle
};

Waits read_waits(pg::Spi& spi) {
    const auto key = static_cast<unsigned long long>(kLedgerLockKey);
    const pg::Rows rows = spi.query(kWaitsQuery,
                                    {{OIDOID, std::to_string(MyDatabaseId)},
                                     {OIDOID, std::to_string(key >> 32)},
                                     {OIDOID, std::to_string(key & 0xffffffffULL)}},
                                    SPI_OK_SELECT);
    Waits w;
    std::map<int, std::vector<int>> blockers;  // waiter -> the sessions it waits for
    for (const auto& row : rows.rows) {
        const int blocker = std::stoi(*row[1]);
        if (!row[0]) {
            w.holder = blocker;
        } else {
            blockers[std::stoi(*row[0])].push_back(blocker);
        }
    }
    if (!w.holder) return w;
    // Breadth first from the holder, so that the path named is a shortest one.
    std::map<int, int> parent{{*w.holder, *w.holder}};
    std::deque<int> queue{*w.holder};
    while (!queue.empty() && !parent.contains(MyProcPid)) {
        const int at = queue.front();
        queue.pop_front();
        for (const int next : blockers[at]) {
            if (parent.emplace(next, at).second) queue.push_back(next);
        }
    }
    if (!parent.contains(MyProcPid)) return w;
    for (int at = parent.at(MyProcPid);; at = parent.at(at)) {
        w.path.insert(w.path.begin(), at);
        if (at == *w.holder) break;
    }
    return w;
}

std::string pid_list(const std::vector<int>& pids) {
    std::string out;
    for (const int pid : pids) out += (out.empty() ? "PID " : ", PID ") + std::to_string(pid);
    return out;
}

// PM058: the holder waits for this transaction. The detail says how: the index build it runs and the
// relation (pg_stat_progress_create_index, when the caller may see it), a wait on this transaction's
// virtual transaction id, a lock, or a chain of sessions.
[[noreturn]] void stop_waiting(pg::Spi& spi, const char* function, const std::vector<int>& path) {
    const int holder = path.front();
    std::string detail;
    if (path.size() == 1) {
        const std::string vxid = fmt::format("{}/{}", pg::my_vxid_backend(), pg::my_local_xid());
        const pg::Rows how = spi.query(
            "SELECT EXISTS (SELECT FROM pg_catalog.pg_locks w WHERE w.pid OPERATOR(pg_catalog.=) $1 AND NOT w.granted"
            "                  AND w.locktype OPERATOR(pg_catalog.=) 'virtualxid'"
            "                  AND w.virtualxid OPERATOR(pg_catalog.=) $2),"
            "       p.command OPERATOR(pg_catalog.||) ' on '"
            "           OPERATOR(pg_catalog.||) p.relid::pg_catalog.regclass::pg_catalog.text,"
            "       p.phase"
            "  FROM (SELECT) AS one"
            "  LEFT JOIN pg_catalog.pg_stat_progress_create_index p ON p.pid OPERATOR(pg_catalog.=) $1",
            {{INT4OID, std::to_string(holder)}, {TEXTOID, vxid}}, SPI_OK_SELECT);
        const bool on_vxid = how.rows.at(0).at(0) == std::optional<std::string>("t");
        const std::optional<std::string>& build = how.rows.at(0).at(1);
        const std::optional<std::string>& phase = how.rows.at(0).at(2);
        if (on_vxid && build && phase == std::optional<std::string>("waiting for old snapshots")) {
            detail = fmt::format(
                "The session holding the ledger lock (PID {}) runs {}, which waits for every transaction with an "
                "older snapshot to end; this call holds one while it waits for the lock. Waiting longer would deadlock "
                "the two, and could leave the index invalid.",
                holder, *build);
        } else if (on_vxid && build) {
            detail = fmt::format(
                "The session holding the ledger lock (PID {}) runs {}, which waits ({}) for this transaction to end. "
                "Waiting longer would deadlock the two, and could leave the index invalid.",
                holder, *build, phase.value_or("?"));
        } else if (on_vxid) {
            detail = fmt::format(
                "The session holding the ledger lock (PID {}) waits for this transaction (virtual transaction {}) to "
                "end, as CREATE INDEX CONCURRENTLY, REINDEX CONCURRENTLY and DETACH PARTITION CONCURRENTLY wait for "
                "every older snapshot; this call holds one while it waits for the lock. Waiting longer would deadlock "
                "the two.",
                holder, vxid);
        } else {
            detail = fmt::format(
                "The session holding the ledger lock (PID {}) waits for a lock this transaction holds. Waiting "
                "longer would deadlock the two.",
                holder);
        }
    } else {
        detail = fmt::format(
            "The session holding the ledger lock (PID {}) waits, through {}, for this transaction. Waiting longer "
            "would deadlock them.",
            holder, pid_list(std::vector<int>(path.begin() + 1, path.end())));
    }
    throw Error(sqlstate::ledger_wait_stopped, fmt::format("{}() stopped waiting for the ledger lock", function),
                detail,
                fmt::format("call {}() again, in a new transaction, once PID {} is done with the ledger; pgmig apply "
                            "and pgmig rollback wait for the lock without holding a snapshot",
                            function, holder));
}

[[noreturn]] void lock_timed_out(const char* function, const std::optional<int>& holder) {
    throw Error(make_sqlstate("55P03"), "canceling statement due to lock timeout",
                fmt::format("{}() waited lock_timeout ({} ms) for the ledger lock, held by {}.", function, LockTimeout,
                            holder ? "PID " + std::to_string(*holder) : std::string("another session")),
                "call it again once that session is done with the ledger (pg_stat_activity shows what it runs), or "
                "wait longer: SET lock_timeout");
}

}  // namespace

void wait_for_ledger_lock(pg::Spi& spi, const char* function) {
    if (try_ledger_lock()) return;
    const TimestampTz start = GetCurrentTimestamp();
    long pause_ms = kFirstPauseMs;
    for (;;) {
        const Waits waits = read_waits(spi);
        if (!waits.path.empty()) stop_waiting(spi, function, waits.path);
        long sleep_ms = pause_ms;
        if (LockTimeout > 0) {
            const long left = LockTimeout - ms_since(start);
            if (left <= 0) lock_timed_out(function, waits.holder);
            sleep_ms = std::min(sleep_ms, left);
        }
        pause(sleep_ms);
        if (try_ledger_lock()) return;
        pause_ms = std::min(pause_ms * 2, kLongestPauseMs);
    }
}

}  // namespace pgmig
