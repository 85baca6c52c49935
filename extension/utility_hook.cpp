// pgmig's ProcessUtility hook: DDL that none of pgmig's event triggers will see (roles, databases,
// tablespaces, event triggers, CLUSTER, REINDEX..., and any DDL while pgmig's triggers are disabled or
// skipped in replica mode) gets the out-of-band policy and its audit row from the hook, before it runs
// (audit_unseen.cpp); for all other DDL it tells the event triggers which statement of the query
// string is running. It runs wherever the library is loaded: set session_preload_libraries (or
// shared_preload_libraries) to 'pgmig' for every session.
extern "C" {
#include "postgres.h"
#include "tcop/utility.h"

void pgmig_install_utility_hook(void);
}

#include "audit.hpp"
#include "audit_capture.hpp"
#include "nontx_guard.hpp"
#include "pg/boundary.hpp"

namespace {

ProcessUtility_hook_type g_previous_hook = nullptr;

// Handed to the guarded callbacks by pointer: trivially destructible, nothing to unwind.
struct UtilityCall {
    Node* stmt;
    const char* query;
    int location;
    int length;
};

void before(void* arg) {
    const auto* call = static_cast<UtilityCall*>(arg);
    pgmig::audit::audit_unseen(call->stmt, call->query, call->location, call->length);
}

// No C++ object lives in this frame: the statement itself may raise, and its error longjmps
// through PG_FINALLY, which puts back the "inside a utility statement" state of the audit and of the
// non-transactional guard (an exception block in a DO body catches the error and goes on, and a
// stale statement pointer could later match a new parse tree at the same address).
void pgmig_process_utility(PlannedStmt* pstmt, const char* query, bool read_only_tree, ProcessUtilityContext context,
                           ParamListInfo params, QueryEnvironment* query_env, DestReceiver* dest, QueryCompletion* qc) {
    Node* stmt = pstmt->utilityStmt;
    // A registered statement of the non-transactional migration this session runs: attributed to it
    // (by the policy check and the audit records too) until it ends.
    const int nontx = pgmig::nontx_guard::armed() ? pgmig::nontx_guard::utility_start(pstmt, query, context) : 0;
    if (pgmig::audit::unseen_candidate(stmt, static_cast<int>(context))) {
        UtilityCall call{stmt, query, pstmt->stmt_location, pstmt->stmt_len};
        pgmig::pg::invoke_void(before, &call);
    }
    const int level = pgmig::audit::capture::enter(stmt, static_cast<int>(context));
    const pgmig::audit::UtilitySpan saved =
        pgmig::audit::enter_utility({stmt, query, pstmt->stmt_location, pstmt->stmt_len});
    volatile bool completed = false;
    PG_TRY();
    {
        if (g_previous_hook != nullptr) {
            g_previous_hook(pstmt, query, read_only_tree, context, params, query_env, dest, qc);
        } else {
            standard_ProcessUtility(pstmt, query, read_only_tree, context, params, query_env, dest, qc);
        }
        // The statement's objects named, and its audit rows written if the hooks capture it: still inside
        // the statement, where the migration it belongs to holds (a non-transactional one ends next), and
        // where a failure to write fails it.
        int at = level;
        pgmig::pg::invoke_void(pgmig::audit::capture::finish, &at);
        completed = true;
    }
    PG_FINALLY();
    {
        pgmig::audit::leave_utility(saved);
        if (completed) {
            pgmig::nontx_guard::utility_end(nontx);
        } else {
            pgmig::nontx_guard::utility_failed(nontx);
            pgmig::audit::capture::abandon(level);
        }
    }
    PG_END_TRY();
}

}  // namespace

extern "C" void pgmig_install_utility_hook(void) {
    g_previous_hook = ProcessUtility_hook;
    ProcessUtility_hook = pgmig_process_utility;
}
