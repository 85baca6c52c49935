// The rollback of a baseline migration: one marked applied without running (pgmig baseline, baseline
// --from-database, drift --adopt, migrate_baseline), whose down script never ran on this database and drops
// what was there before pgmig. pgmig rollback needs --force for it and, on a terminal, the version typed back.
#pragma once

#include "client/core/db.hpp"

#include <string>
#include <vector>

namespace pgmig::client {

// A migration pgmig rollback is about to roll back.
struct RollbackCandidate {
    std::string version;
    std::string name;
};

// The versions of `versions` whose newest apply-or-baseline row in pgmig.history is a baseline.
std::vector<std::string> baselined_versions(const Connection& conn, const std::vector<std::string>& versions);

class BaselineRollbackConsent {
  public:
    // Which of `chosen` are baseline migrations. None: no consent needed. Without `force`: refused (exit 50),
    // listing on stderr the statements of their down scripts that drop something. With `force` on a terminal
    // (stdin and stderr): those statements are listed and each version must be typed back, else refused.
    static BaselineRollbackConsent obtain(const Connection& conn, const std::vector<RollbackCandidate>& chosen,
                                          bool force);

    // Throws Error(baseline_rollback_refused) when one of `versions` (what is really rolled back, read again in
    // the rollback's own transaction or under the ledger lock) is a baseline migration not consented to.
    void check(const Connection& conn, const std::vector<std::string>& versions) const;

    // The baseline migrations consented to (--force), and whether their versions were typed on a terminal.
    const std::vector<std::string>& consented() const { return consented_; }
    bool typed_on_terminal() const { return typed_; }

  private:
    std::vector<std::string> consented_;
    bool typed_ = false;
};

}  // namespace pgmig::client
