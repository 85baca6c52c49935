// Definition of the pgmig.* GUCs. Plain C variables: PostgreSQL writes them directly.
#include "settings.hpp"

#include <climits>

extern "C" {
#include "postgres.h"
#include "utils/guc.h"
}

namespace pgmig::settings {
namespace {

int g_out_of_order = static_cast<int>(OutOfOrder::error);
int g_out_of_band = static_cast<int>(OutOfBand::log);
bool g_notify_drift = true;
int g_lock_timeout_ms = 5000;
int g_statement_timeout_ms = 0;
int g_retries = 3;
int g_retry_backoff_ms = 1000;
int g_lint_block = static_cast<int>(LintBlock::off);
int g_dry_run_lock_timeout_ms = 2000;
int g_require_approval = 0;
char* g_environment = nullptr;
int g_audit_failure = static_cast<int>(AuditFailure::error);
bool g_audit_sealer = true;
char* g_deploy_run = nullptr;
int g_rollback_test_scope = static_cast<int>(RollbackTestScope::touched);
int g_snapshot_scope = static_cast<int>(SnapshotScope::touched);

const struct config_enum_entry kOutOfOrderOptions[] = {
    {"error", static_cast<int>(OutOfOrder::error), false},
    {"allow", static_cast<int>(OutOfOrder::allow), false},
    {nullptr, 0, false},
};

const struct config_enum_entry kOutOfBandOptions[] = {
    {"log", static_cast<int>(OutOfBand::log), false},
    {"warn", static_cast<int>(OutOfBand::warn), false},
    {"block", static_cast<int>(OutOfBand::block), false},
    {nullptr, 0, false},
};

const struct config_enum_entry kAuditFailureOptions[] = {
    {"error", static_cast<int>(AuditFailure::error), false},
    {"warn", static_cast<int>(AuditFailure::warn), false},
    {nullptr, 0, false},
};

const struct config_enum_entry kRollbackTestScopeOptions[] = {
    {"touched", static_cast<int>(RollbackTestScope::touched), false},
    {"full", static_cast<int>(RollbackTestScope::full), false},
    {nullptr, 0, false},
};

const struct config_enum_entry kSnapshotScopeOptions[] = {
    {"touched", static_cast<int>(SnapshotScope::touched), false},
    {"full", static_cast<int>(SnapshotScope::full), false},
    {nullptr, 0, false},
};

const struct config_enum_entry kLintBlockOptions[] = {
    {"off", static_cast<int>(LintBlock::off), false},
    {"error", static_cast<int>(LintBlock::error), false},
    {"warning", static_cast<int>(LintBlock::warning), false},
    {nullptr, 0, false},
};

// The rule of a deploy run id, also written as pgmig.history's CHECK history_deploy_run_format (keep
// both alike): 1 to 64 of ASCII letters, digits and _ . : -, so that an id never needs quoting in
// a log line, a file name or a psql variable, whatever the locale.
constexpr size_t kDeployRunMax = 64;

bool deploy_run_char(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
           c == ':' || c == '-';
}

// Plain C: GUC_check_errdetail may ereport, and no C++ object is alive here.
bool check_deploy_run(char** newval, void** extra, GucSource source) {
    const char* value = *newval;
    if (value == nullptr || value[0] == '\0') return true;  // "": no deploy run
    size_t length = 0;
    for (; value[length] != '\0'; ++length) {
        if (length == kDeployRunMax || !deploy_run_char(value[length])) {
            GUC_check_errdetail(
                "A deploy run id is 1 to %d characters, each an ASCII letter, a digit or one of _ . : -",
                static_cast<int>(kDeployRunMax));
            GUC_check_errhint("Use an id like 20261204T163501Z-3f9a1c, or '' (RESET) for none.");
            return false;
        }
    }
    return true;
}

}  // namespace

void define() {
    DefineCustomEnumVariable(
        "pgmig.out_of_order", "What migrate_apply() does with a pending migration older than the newest applied one.",
        "error refuses to apply anything; allow applies it, in version order.", &g_out_of_order,
        static_cast<int>(OutOfOrder::error), kOutOfOrderOptions, PGC_USERSET, 0, nullptr, nullptr, nullptr);
    DefineCustomIntVariable("pgmig.lock_timeout",
                            "lock_timeout for the statements of a migration unless its options say otherwise.",
                            "Short, so that DDL never queues behind a long transaction while blocking everyone else. "
                            "0 waits forever.",
                            &g_lock_timeout_ms, 5000, 0, INT_MAX, PGC_USERSET, GUC_UNIT_MS, nullptr, nullptr, nullptr);
    DefineCustomIntVariable(
        "pgmig.statement_timeout", "Time limit for one migration unless its options say otherwise; 0 means none.",
        nullptr, &g_statement_timeout_ms, 0, 0, INT_MAX, PGC_USERSET, GUC_UNIT_MS, nullptr, nullptr, nullptr);
    DefineCustomIntVariable("pgmig.retries", "Attempts after the first when a migration hits its lock timeout.",
                            nullptr, &g_retries, 3, 0, 100, PGC_USERSET, 0, nullptr, nullptr, nullptr);
    DefineCustomIntVariable("pgmig.retry_backoff", "Wait before the first retry; it doubles on every retry.", nullptr,
                            &g_retry_backoff_ms, 1000, 0, 600000, PGC_USERSET, GUC_UNIT_MS, nullptr, nullptr, nullptr);
    DefineCustomIntVariable("pgmig.dry_run_lock_timeout",
                            "lock_timeout for the statements of a dry run (migrate_plan, migrate_apply(dry_run => true)).",
                            "A rehearsal must never queue behind other sessions: a migration that would wait longer "
                            "is reported as waiting for that lock. 0 waits forever.",
                            &g_dry_run_lock_timeout_ms, 2000, 0, INT_MAX, PGC_USERSET, GUC_UNIT_MS, nullptr, nullptr,
                            nullptr);
    // PGC_SUSET: only superusers, and roles granted SET on it (pgmig_admin), may relax it.
    DefineCustomEnumVariable(
        "pgmig.out_of_band", "What happens to DDL run outside migrate_apply() and migrate_rollback().",
        "log records it; warn also warns the session; block refuses it for roles that are not "
        "pgmig_admin.",
        &g_out_of_band, static_cast<int>(OutOfBand::log), kOutOfBandOptions, PGC_SUSET, 0, nullptr, nullptr, nullptr);
    // PGC_SUSET: a session must not be able to silence the alerts its own DDL raises.
    DefineCustomBoolVariable("pgmig.notify_drift", "Send NOTIFY pgmig_drift for every out-of-band DDL statement.",
                             "Each notification is written to the notification queue at commit; turn it off where "
                             "out-of-band DDL is frequent and nobody listens.",
                             &g_notify_drift, true, PGC_SUSET, 0, nullptr, nullptr, nullptr);
    // PGC_SUSET like pgmig.out_of_band: set per database (ALTER DATABASE ... SET), relaxed only by
    // superusers and pgmig_admin (GRANT SET in the install script).
    DefineCustomEnumVariable("pgmig.lint_block",
                             "Lint findings of this severity or worse block migrate_apply() unless waived.",
                             "off checks nothing; error blocks on error findings (production); warning also on "
                             "warnings.",
                             &g_lint_block, static_cast<int>(LintBlock::off), kLintBlockOptions, PGC_SUSET, 0, nullptr,
                             nullptr, nullptr);
    // PGC_SUSET and, unlike lint_block, granted to nobody: the four-eyes rule binds pgmig_admin too, so
    // only a superuser may relax it (ALTER DATABASE prod SET pgmig.require_approval = 2).
    DefineCustomIntVariable("pgmig.require_approval",
                            "Approvals by distinct roles other than its registrant that migrate_apply() requires of "
                            "each migration it runs.",
                            "0 requires none. Approvals count for the environment named by pgmig.environment.",
                            &g_require_approval, 0, 0, 100, PGC_SUSET, 0, nullptr, nullptr, nullptr);
    DefineCustomStringVariable("pgmig.environment",
                               "The environment this database is: whose approvals count in migrate_apply().",
                               "Set it per database (ALTER DATABASE prod SET pgmig.environment = 'production'); a "
                               "caller naming another environment is refused.",
                               &g_environment, "", PGC_SUSET, 0, nullptr, nullptr, nullptr);
    // PGC_SUSET: letting DDL run unaudited is a superuser's decision (no GRANT SET in the install script).
    DefineCustomEnumVariable("pgmig.audit_failure", "What a DDL statement does when its audit row cannot be written.",
                             "error refuses the statement (PM038); warn lets it run unaudited with a WARNING. "
                             "Cancels and timeouts (statement_timeout, lock_timeout) always cancel the statement.",
                             &g_audit_failure, static_cast<int>(AuditFailure::error), kAuditFailureOptions, PGC_SUSET,
                             0, nullptr, nullptr, nullptr);
    // PGC_SUSET: a session must not be able to keep its own audit rows unsealed.
    DefineCustomBoolVariable("pgmig.audit_sealer",
                             "Seal audit rows into the hash chain right after the transaction that wrote them commits.",
                             "A background worker (one per database at a time) does it; off leaves sealing to "
                             "migrate_audit_verify().",
                             &g_audit_sealer, true, PGC_SUSET, 0, nullptr, nullptr, nullptr);
    // PGC_USERSET: it labels the rows a session writes and grants nothing; the deployer sets it.
    DefineCustomStringVariable("pgmig.deploy_run",
                               "The fleet deploy run this session applies migrations for, set by pgmig deploy --fleet.",
                               "Recorded in pgmig.history.deploy_run of every row the session writes, so that a "
                               "resumed run can tell what it already applied. '' (the default) records NULL.",
                               &g_deploy_run, "", PGC_USERSET, 0, check_deploy_run, nullptr, nullptr);
    // PGC_USERSET: either value gives the same verdicts and details; full only takes longer.
    DefineCustomEnumVariable("pgmig.rollback_test_scope",
                             "What migrate_test() compares: the objects the migration touches, or the whole schema.",
                             "touched compares the objects up and down touch with their dependents, and falls back "
                             "to the whole schema when it cannot tell what changed or finds a difference; full "
                             "always compares the whole schema.",
                             &g_rollback_test_scope, static_cast<int>(RollbackTestScope::touched),
                             kRollbackTestScopeOptions, PGC_USERSET, 0, nullptr, nullptr, nullptr);
    // PGC_USERSET: either value records the same expected schema; full only takes longer.
    DefineCustomEnumVariable("pgmig.snapshot_scope",
                             "What the snapshot after an apply or rollback describes: the objects it touched, or "
                             "the whole schema.",
                             "touched describes again the objects the migrations touched with their dependents, and "
                             "the whole schema when it cannot tell what changed (DDL outside migrations since the "
                             "last snapshot, renamed roles, DDL no event trigger reports); full always describes "
                             "the whole schema.",
                             &g_snapshot_scope, static_cast<int>(SnapshotScope::touched), kSnapshotScopeOptions,
                             PGC_USERSET, 0, nullptr, nullptr, nullptr);
    MarkGUCPrefixReserved("pgmig");
}

OutOfOrder out_of_order() { return static_cast<OutOfOrder>(g_out_of_order); }
OutOfBand out_of_band() { return static_cast<OutOfBand>(g_out_of_band); }
bool notify_drift() { return g_notify_drift; }
const char* out_of_band_name(OutOfBand policy) {
    for (const auto& entry : kOutOfBandOptions) {
        if (entry.name != nullptr && entry.val == static_cast<int>(policy)) return entry.name;
    }
    return "log";
}
int lock_timeout_ms() { return g_lock_timeout_ms; }
int statement_timeout_ms() { return g_statement_timeout_ms; }
int retries() { return g_retries; }
int retry_backoff_ms() { return g_retry_backoff_ms; }
LintBlock lint_block() { return static_cast<LintBlock>(g_lint_block); }
const char* lint_block_name(LintBlock threshold) {
    for (const auto& entry : kLintBlockOptions) {
        if (entry.name != nullptr && entry.val == static_cast<int>(threshold)) return entry.name;
    }
    return "off";
}
int dry_run_lock_timeout_ms() { return g_dry_run_lock_timeout_ms; }
int require_approval() { return g_require_approval; }
const char* environment() { return g_environment != nullptr ? g_environment : ""; }
AuditFailure audit_failure() { return static_cast<AuditFailure>(g_audit_failure); }
bool audit_sealer() { return g_audit_sealer; }
const char* deploy_run() { return g_deploy_run != nullptr ? g_deploy_run : ""; }

RollbackTestScope rollback_test_scope() { return static_cast<RollbackTestScope>(g_rollback_test_scope); }
SnapshotScope snapshot_scope() { return static_cast<SnapshotScope>(g_snapshot_scope); }

}  // namespace pgmig::settings
