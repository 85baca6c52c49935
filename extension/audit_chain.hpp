// The hash chain of the audit trail: sealing rows into it (migrate_audit_verify(), and a background
// worker right after the commit of every transaction that wrote audit rows), and verifying it.
#pragma once

#include <string>

namespace pgmig::audit {

// Audit rows were appended to pgmig.ddl_audit (whose OID is `table`) in this transaction: once it
// commits, a background worker seals them (unless pgmig.audit_sealer is off). The committing
// backend never waits for it; at most one sealer per database runs at a time. Raises only when
// PostgreSQL cannot register a transaction callback (out of memory).
void note_rows_written(unsigned table);

// What one sealing pass of the background worker did.
enum class SealPass { sealed, nothing_new, extension_gone, lock_busy };

// One pass of the sealer in its own transaction: seals the committed rows not sealed yet, after the
// chain's head (read from its index, the chain is not rescanned). `table` is the OID of the
// pgmig.ddl_audit it was started for: a re-created extension's table is someone else's business.
// Waits for the seal lock at most `lock_wait_ms` (lock_busy: the session holding it seals when it
// commits; a commit during the pass gets another pass). Throws on errors.
SealPass seal_pending(unsigned table, long lock_wait_ms);

}  // namespace pgmig::audit
