// pgmig.* GUCs: policy knobs read by the ledger (defined in _PG_init).
#pragma once

namespace pgmig::settings {

enum class OutOfOrder { error = 0, allow = 1 };
enum class OutOfBand { log = 0, warn = 1, block = 2 };
enum class LintBlock { off = 0, error = 1, warning = 2 };
enum class AuditFailure { error = 0, warn = 1 };
enum class RollbackTestScope { touched = 0, full = 1 };
enum class SnapshotScope { touched = 0, full = 1 };

void define();  // called once from _PG_init

OutOfOrder out_of_order();
OutOfBand out_of_band();
bool notify_drift();  // NOTIFY pgmig_drift for out-of-band DDL
const char* out_of_band_name(OutOfBand policy);
int lock_timeout_ms();       // for each migration's statements; 0 = wait forever
int statement_timeout_ms();  // for each migration as a whole; 0 = none
int retries();               // extra attempts after a lock timeout
int retry_backoff_ms();      // first backoff; doubles on every attempt
LintBlock lint_block();      // lint findings from this severity up block migrate_apply()
const char* lint_block_name(LintBlock threshold);
int dry_run_lock_timeout_ms();  // lock_timeout of a dry run's statements (migrate_plan, dry_run => true)
int require_approval();         // approvals migrate_apply() requires of each migration it runs; 0 = none
const char* environment();      // whose approvals count in this database; "" = not set
AuditFailure audit_failure();   // what a DDL statement whose audit row cannot be written does
bool audit_sealer();            // seal audit rows from a background worker right after their commit
const char* deploy_run();       // the fleet deploy run this session works for; "" = none
RollbackTestScope rollback_test_scope();  // what migrate_test() compares (the same verdicts either way)
SnapshotScope snapshot_scope();  // what the snapshot after a change describes (the same expected schema either way)

}  // namespace pgmig::settings
