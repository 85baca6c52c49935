// The ledger lock as the client takes it: session-level, for a whole run, waited for without holding a
// snapshot (shared by pgmig apply and pgmig rollback).
#pragma once

#include "client/core/db.hpp"
#include "common/ledger_lock.hpp"

#include <optional>
#include <string>

namespace pgmig::client {

// The ledger lock key (common/ledger_lock.hpp) as the text of a bigint parameter.
inline const std::string kLedgerLockKey = std::to_string(common::kLedgerLockKey);

// The session-level ledger lock on `conn`, from construction to release() or destruction. Every command
// that writes the ledger (or rehearses against it) takes it before its transaction, so that the
// ledger functions' own transaction-level lock is then granted at once.
//
// Taken on an idle connection (no transaction open). A waiter inside a statement (SELECT
// pg_advisory_lock, or migrate_apply() itself) holds a snapshot the whole time it waits, and CREATE INDEX
// CONCURRENTLY waits for every older snapshot: a second applier started while the first builds an index
// would deadlock with it (and the index be left invalid), or, since the extension checks for that, stop
// with PM058. So the lock is only ever tried (pg_try_advisory_lock, a statement that ends at once) with
// pauses of 50 ms doubling to 1 s on the idle connection, which a concurrent index build never waits for.
// Prints "waiting for the ledger lock, held by another applier (backend N)" once when it has to wait.
// The backends (pids, comma-separated) of this database that hold the ledger lock, other than this session's;
// nullopt when none does (or pg_locks cannot be read). For commands that would rather not wait for it.
std::optional<std::string> ledger_lock_holders(const Connection& conn);

class LedgerLock {
  public:
    // Waits for the lock; `nothing_done` ends the error's next step when the server refuses ("nothing was
    // applied").
    LedgerLock(const Connection& conn, const std::string& nothing_done);
    // Releases it unless release() did (the end of the session releases it too). Never throws.
    ~LedgerLock();
    LedgerLock(const LedgerLock&) = delete;
    LedgerLock& operator=(const LedgerLock&) = delete;
    void release();

  private:
    const Connection& conn_;
    bool held_ = true;
};

}  // namespace pgmig::client
