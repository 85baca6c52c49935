// Which top-level statements of this session belong to the non-transactional migration it runs:
// only the registered ones, in their order, each seen to complete before the client may record it.
//
// migrate_nontx_begin(V) arms the guard with V's statements (as split_script gives them, which is
// what the client sends, one per PQexec). From then on the ProcessUtility hook and the executor
// hooks compare every top-level statement with the statement expected next: when its text is that
// statement's, the statement's DDL is attributed to V while it runs, and once it completed the next
// one is expected. Anything else is out-of-band DDL. migrate_nontx_progress(V, k) is accepted only
// after statement k completed, migrate_nontx_finish only after all of them.
//
// What the guard remembers ends with the transaction that changed it when that transaction (or
// subtransaction) aborts, and with the session-level ledger lock; the attribution ends with the
// statement, or with its (sub)transaction's abort. When nothing is armed, each hook costs one branch.
#pragma once

#include <string>

struct PlannedStmt;  // PostgreSQL's plan of a statement

namespace pgmig::nontx_guard {

namespace detail {
extern bool g_armed;
}

// True while this session runs a non-transactional migration (between begin and finish/failed).
inline bool armed() noexcept { return detail::g_armed; }

// Arms the guard for `version` (`down`: its down script), whose registered script is `script`
// (split here as pgmig.split_statements splits it), with its first `done` statements already complete
// (by an earlier, interrupted run); replaces any earlier arming.
void arm(const std::string& version, bool down, const std::string& checksum, const std::string& script, int done);
// Ends it (finish, failed).
void disarm() noexcept;

// What the SQL-callable functions check; each throws pgmig::Error when refused. This session runs
// `version` in this direction (else PM035), and its registered script is still `checksum` (else PM037).
// The next three require it (require_running first) and raise PM036.
void require_running(const std::string& version, bool down, const std::string& checksum);
// Statements 1..k completed (progress), or all of them (finish).
void require_completed(const std::string& version, int k);
void require_all_completed(const std::string& version, bool down);
// The statement that failed is the one this session was expected to run next.
void require_next(const std::string& version, int statement);
// Statement `statement`, the one expected next, was completed by another backend (the orphan of a client
// that died while it ran): counted as complete here, as if this session had run it.
void adopt_completed(const std::string& version, int statement);

// The ProcessUtility hook's calls, around the statement (and around pgmig's own audit calls, so that
// the policy and the records see the attribution). start() returns a token for end(): 0 when the
// statement is not one of the migration's. May raise a PostgreSQL error (catalog lookups).
// No C++ object lives in the hook's frame: both are plain calls.
// `context` is the hook's ProcessUtilityContext.
int utility_start(PlannedStmt* pstmt, const char* query, int context);
void utility_end(int token) noexcept;
// The statement utility_start matched raised an error: it is not complete, and nothing after it is
// attributed to the migration (an exception block may catch the error and go on).
void utility_failed(int token) noexcept;

// Installs the executor hooks and the transaction callbacks (from _PG_init).
void install();

}  // namespace pgmig::nontx_guard
