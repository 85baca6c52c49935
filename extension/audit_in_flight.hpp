// Audit rows of transactions still in progress. The audit write gives its locks on pgmig.ddl_audit
// back as soon as the rows are written (audit_writer.cpp), as PostgreSQL does for its catalogs, so
// such rows are not protected by a lock: the few operations on the table that would lose or skip
// them wait for their transactions instead.
#pragma once

extern "C" {
#include "postgres.h"
#include "nodes/nodes.h"
#include "utils/relcache.h"

// Installs the object access hook that makes an index build on pgmig.ddl_audit (or on its TOAST
// table) wait for the transactions with rows in progress. Called from _PG_init.
void pgmig_install_index_build_guard(void);
}

namespace pgmig::audit {

// Waits until no other transaction has uncommitted rows in `audit` (pgmig.ddl_audit). The caller
// holds a lock on it that keeps new writers out (ShareLock or stronger). Raises PostgreSQL errors
// (a cancel, lock_timeout, a deadlock with a writer that wants to write again): call under pg::call.
void wait_for_in_flight_rows(Relation audit);

// At ddl_command_start: an ALTER TABLE pgmig.ddl_audit by its owner that locks out writers (its lock
// conflicts with RowExclusiveLock: it may rewrite the table or validate it through a fresh snapshot,
// which sees only committed rows) takes that lock now and waits for the rows in progress, as it would
// have waited for their writers' locks. Raises PostgreSQL errors: call under pg::call.
void protect_in_flight_rows(Node* stmt);

}  // namespace pgmig::audit
