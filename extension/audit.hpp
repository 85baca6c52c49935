// The DDL audit trail: what the event triggers record, and which migration a statement belongs to.
#pragma once

#include <optional>
#include <string>

struct Node;  // PostgreSQL's parse-tree node

namespace pgmig::audit {

// While alive, DDL in this backend belongs to migration `version`, and `statement` is its exact
// text (the event triggers cannot see it otherwise: the client's query is SELECT migrate_apply()).
// Both strings must outlive the object.
class InMigration {
  public:
    // `kind` is the NodeTag of the statement's raw parse tree.
    InMigration(const char* version, const char* statement, int kind);
    ~InMigration();
    InMigration(const InMigration&) = delete;
    InMigration& operator=(const InMigration&) = delete;

  private:
    const char* saved_version_;
    const char* saved_statement_;
    int saved_kind_;
};

// While alive, the DDL of migrations run in this backend writes no audit row: a dry run or a
// rollback test is always rolled back, and the ids its rows took would leave gaps in the trail.
// The out-of-band policy still applies to everything else.
class Rehearsal {
  public:
    Rehearsal();
    ~Rehearsal();
    Rehearsal(const Rehearsal&) = delete;
    Rehearsal& operator=(const Rehearsal&) = delete;

  private:
    bool saved_;
};

// Non-transactional migrations run top-level statements from the client: while one of the
// migration's registered statements runs, DDL of this backend belongs to `version`. Set and ended
// by nontx_guard only (also when the statement's transaction aborts).
void set_nontx_migration(const char* version);  // nullptr ends it

// The utility statement PostgreSQL is executing, as the ProcessUtility hook saw it: its node, the
// query string it came from and its span. The event triggers take the statement's text from it
// when the event is about that very node, instead of parsing the query string again. Plain data
// and functions: the hook's frame must hold nothing with a destructor. If an error skips
// leave_utility, the stale value is harmless: it is only used for the very node an event fires for,
// and the hook sets it afresh for every statement.
struct UtilitySpan {
    const Node* stmt;
    const char* query;
    int location;
    int length;
};
UtilitySpan enter_utility(const UtilitySpan& current) noexcept;  // returns what to restore
void leave_utility(const UtilitySpan& saved) noexcept;

// DDL on shared objects (roles, databases, tablespaces), which fires no event trigger: seen by
// pgmig's ProcessUtility hook where the library is loaded. Null when `stmt` is not such DDL, else
// the object type recorded ("role", "database", "tablespace").
const char* shared_object_type(const Node* stmt);
// The name(s) such a statement is about, as written.
std::string shared_object_identity(Node* stmt);

// DDL that none of pgmig's event triggers will see: statements PostgreSQL fires no event trigger
// for (shared objects, event triggers, CLUSTER, REINDEX...), and any DDL while pgmig's triggers are
// disabled, set to another session_replication_role, or in single-user mode. pgmig's utility hook
// applies the out-of-band policy to it and records it before it runs (audit_unseen.cpp).
// `context` is the hook's ProcessUtilityContext. The cheap test, made for every utility statement:
// a switch on the statement's node, no catalog access.
bool unseen_candidate(const Node* stmt, int context);
// Refuses the statement (throws Error) when the policy says so or when its row cannot be recorded.
void audit_unseen(Node* stmt, const char* query, int location, int length);

// Whether pgmig's trigger that records `stmt` (ddl_command_end, sql_drop for DROP) fires for it now.
bool triggers_record(Node* stmt, int command_tag);

// The parts of the event triggers that audit_unseen reuses.
bool auditing_here();                                // pgmig is installed here and no extension script runs
// pgmig.audit_event(), the function pgmig's event triggers call; InvalidOid where pgmig is not installed.
// Kept as auditing_here()'s answer is.
unsigned int audit_event_function();
// Registers the invalidation that keeps auditing_here()'s cached answer true (from _PG_init).
void install_extension_cache();
// Remembers whether the postmaster loaded this library (shared_preload_libraries), from _PG_init: what
// migrate_audit_recorder() counts as preloaded (audit_recorder.cpp).
void note_server_preload();
bool drops_pgmig(Node* stmt);                        // DROP EXTENSION pgmig: not audited, it removes the trail
void ddl_start_checks(Node* stmt, int command_tag);  // what ddl_command_start checks: policy, audit indexes
void require_recorder(Node* stmt, int command_tag);  // refuses DDL neither the triggers nor the hooks record
// One row with event 'utility' for a statement the event triggers do not record: `statement` is its
// (redacted) text, `object_type`/`object_identity` may be null. Under pgmig.audit_failure (fails closed).
void record_utility(int command_tag, const std::string& statement, const char* object_type,
                    const char* object_identity);

// The text the event triggers record for `stmt` (redacted; none when it cannot be isolated): the
// migration's statement, else the span the hook has of it in its query string.
std::optional<std::string> captured_statement(Node* stmt, int command_tag, const char* query, int location, int length);
// Runs fn(arg) under pgmig.audit_failure, as the event triggers record: a failure refuses the statement
// (PM038), or with warn becomes a WARNING. For the capture by the hooks (audit_capture.cpp).
void under_audit_failure(int command_tag, void (*fn)(void*), void* arg);
// Writes the rows of a statement captured by the hooks, attributed as the event triggers' rows are.
struct CapturedRow;
void write_captured(int command_tag, const char* statement, const CapturedRow* rows, int count);

}  // namespace pgmig::audit
