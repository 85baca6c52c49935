// Waiting for the ledger lock inside a statement (migrate_apply() and every other ledger writer) without
// ever holding up the session that has it: tried between pauses, given up (PM058) when that session waits
// for this transaction, as CREATE INDEX CONCURRENTLY does for every older snapshot.
#pragma once

#include "pg/spi.hpp"

namespace pgmig {

// Takes the transaction-level ledger lock for `function` (a name such as "migrate_apply", for messages).
// Granted at once when it is free or this session holds it already (the client's session-level lock).
// Otherwise the lock is tried again after pauses (10 ms doubling to 500 ms; pg_stat_activity shows the
// wait event Lock / advisory meanwhile) rather than queued for: a statement holds its snapshot while it
// waits, and a queued wait is an edge PostgreSQL's deadlock detector may resolve by cancelling the index
// build that waits for that snapshot. At each pause: lock_timeout is enforced (55P03, naming the holder),
// interrupts are served (statement_timeout, cancel), and when the holder waits for this transaction,
// directly or through other sessions, the wait ends with PM058 instead of a deadlock.
void wait_for_ledger_lock(pg::Spi& spi, const char* function);

}  // namespace pgmig
