// The DDL audit trail: what the event triggers record, and which migration a statement belongs to.
#pragma once

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

// Before it runs: the out-of-band policy (may refuse it by throwing Error).
void before_shared_ddl(Node* stmt, int command_tag);
// After it ran: one audit row, statement cut from the query string and redacted. Never throws:
// a failure to record becomes a WARNING.
void after_shared_ddl(Node* stmt, int command_tag, const char* query, int location, int length);

}  // namespace pgmig::audit
