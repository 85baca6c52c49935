// Whose SQL may run with whose rights, and the approvals a migration needs before it runs: the checks
// every function that runs a registered script makes after the ledger lock (migrate_apply, the dry runs,
// migrate_test, migrate_rollback, migrate_nontx_begin). See docs/reference.md, "Trust and approvals".
#pragma once

extern "C" {
#include "postgres.h"
#include "fmgr.h"
}

#include <string>
#include <vector>

#include "ledger_store.hpp"
#include "pg/spi.hpp"

namespace pgmig::trust {

// Which scripts of a migration are about to run: approvals are of the up script's checksum, so they
// count only where nothing but up scripts runs.
enum class Scripts { up, down, up_and_down };

// The caller's trust, require_approvals and environment arguments, merged with the database's
// pgmig.require_approval and pgmig.environment (which a caller can only add to, never relax).
struct Policy {
    bool trust = false;       // the caller takes responsibility for every registrant's SQL
    int required = 0;         // approvals each migration needs; the larger of the setting's and the caller's
    std::string required_by;  // "pgmig.require_approval = 2" or "require_approvals => 1", for messages
    std::string environment;  // whose approvals count; "" when none is named (then none may be required)
};

// Reads the arguments at these positions (-1: the function has no such argument) and the settings;
// PM033 when approvals are required but no environment is named, or the caller names another
// environment than pgmig.environment; PM007 for a negative requirement or an empty environment.
Policy policy(FunctionCallInfo fcinfo, int trust_arg, int required_arg, int environment_arg, const char* function);

// PM030 unless, for each migration, a role that registered its exact current definition has every right
// of the caller (current user, and the session's user that the script could RESET ROLE to), or, when
// only its up script runs, such a role approved its current checksum; or policy.trust.
void require_trusted(LedgerStore& store, const std::vector<Migration>& migrations, Scripts scripts,
                     const Policy& policy, const char* function);

// PM032 unless each migration has policy.required approvals of its current checksum for
// policy.environment by distinct roles other than its registrant (pgmig.approvers, the one rule).
void require_approvals(LedgerStore& store, const std::vector<Migration>& migrations, const Policy& policy,
                       const char* function);

// Both checks for one migration about to run its up script (`up`) or its down script: for the client's
// statement-by-statement path (migrate_nontx_begin).
void check_before_running(LedgerStore& store, const Migration& m, bool up, const Policy& policy, const char* function);

}  // namespace pgmig::trust
