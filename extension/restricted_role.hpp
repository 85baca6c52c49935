// Running a table owner's code (a CHECK, a row-level security policy, a view) as that owner inside a
// security-restricted operation, as PostgreSQL's own VACUUM, CREATE INDEX and REFRESH MATERIALIZED VIEW
// evaluate index expressions: migrate_check_integrity() and migrate_adopt() read tables this way, so that
// reading never lends the caller's rights to what the table's owner wrote.
#pragma once

extern "C" {
#include "postgres.h"
#include "miscadmin.h"
#include "utils/guc.h"
}

#include "pg/boundary.hpp"

namespace pgmig {

// While alive: the current user is `role` inside a security-restricted operation (no SET ROLE, no
// SET SESSION AUTHORIZATION, no temporary objects, nothing that outlives the operation), with
// FORCE ROW LEVEL SECURITY not applied to the owner (as PostgreSQL's foreign-key checks run), its own
// GUC nesting level (whatever the code run sets is undone at the end) and search_path pinned to
// pg_catalog, pg_temp. Everything is restored when it goes away, on errors too.
class AsRestrictedRole {
  public:
    explicit AsRestrictedRole(Oid role) {
        GetUserIdAndSecContext(&saved_user_, &saved_context_);
        SetUserIdAndSecContext(role, saved_context_ | SECURITY_RESTRICTED_OPERATION | SECURITY_NOFORCE_RLS);
        guc_level_ = NewGUCNestLevel();
        try {
            pg::call([] {
                set_config_option("search_path", "pg_catalog, pg_temp", PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
                                  true, 0, false);
            });
        } catch (...) {
            restore();
            throw;
        }
    }
    // Restores on the success path; an error restoring the GUCs is raised (the user is restored first).
    void finish() {
        finished_ = true;
        const int level = guc_level_;
        try {
            pg::call([level] { AtEOXact_GUC(false, level); });
        } catch (...) {
            SetUserIdAndSecContext(saved_user_, saved_context_);
            throw;
        }
        SetUserIdAndSecContext(saved_user_, saved_context_);
    }
    // Only while an error unwinds (finish() not called).
    ~AsRestrictedRole() {
        if (!finished_) restore();
    }
    AsRestrictedRole(const AsRestrictedRole&) = delete;
    AsRestrictedRole& operator=(const AsRestrictedRole&) = delete;

  private:
    void restore() noexcept {
        // Undoes every GUC change made at or below our level (also those of a function whose SET
        // clause an error interrupted). It practically never raises; if it did, the failing
        // transaction's abort restores the GUCs as it restores the user.
        try {
            const int level = guc_level_;
            pg::call([level] { AtEOXact_GUC(false, level); });
        } catch (...) {  // NOLINT(bugprone-empty-catch): a destructor must not throw
        }
        SetUserIdAndSecContext(saved_user_, saved_context_);
    }

    Oid saved_user_ = InvalidOid;
    int saved_context_ = 0;
    int guc_level_ = 0;
    bool finished_ = false;
};

}  // namespace pgmig
