// Failed attempts survive their rollback: a background worker writes them to pgmig.history in its
// own transaction, from data handed over by value, and the failing backend never waits for it.
#pragma once

#include <optional>
#include <string>

namespace pgmig {

struct Migration;
class LedgerStore;

// Hands the failure of `m` (SQLSTATE and message) to a background worker that writes it as the
// ledger's owner. Never raises: if no worker can be started, a WARNING says so and the failure
// stays in the error the caller sees.
void record_failure_after_rollback(const LedgerStore& store, const Migration& m, int sqlstate,
                                   const std::string& message, const std::optional<std::string>& client_addr);

}  // namespace pgmig
