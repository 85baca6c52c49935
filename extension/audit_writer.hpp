// Audit rows written straight into pgmig.ddl_audit's heap and indexes: no SQL, no planner, no
// executor. The event triggers run for every DDL statement of every session, so the per-row cost is
// what DDL pays for being audited (bench/audit-instructions.sh measures it).
#pragma once

#include <cstddef>
#include <cstdint>

struct Node;            // PostgreSQL's parse-tree node
struct ObjectAddress;   // catalog/objectaddress.h
struct TupleTableSlot;  // executor/tuptable.h

namespace pgmig::audit {

// What every row of one event has in common. Pointers to NUL-terminated strings; nullptr = NULL.
// Trivially copyable: handed across the PostgreSQL boundary by value.
struct RowValues {
    const char* event;  // ddl_command_end, sql_drop, table_rewrite or utility
    const char* command_tag;
    const char* statement;          // redacted
    const char* migration_version;  // nullptr: out of band
    const char* current_user;
    const char* policy;
};

constexpr size_t kIdentityMax = 1000;  // the first object's identity, cut to this for a notification

struct Appended {
    uint32_t table = 0;  // the OID of pgmig.ddl_audit (the prompt sealer is told which table it seals)
    int64_t first_id = 0;
    uint64_t count = 0;
    char first_identity[kIdentityMax + 1] = "";
};

// Which objects an event trigger reports.
enum class EventObjects { ddl_commands, dropped_objects, rewritten_table };

// Appends one row per object the current event reports, or one row for the command when it reports
// none. Must run inside an event trigger of that kind. Raises PostgreSQL errors (call it under
// pg::call; after an error the transaction must abort, or roll back a subtransaction around it).
Appended append_event_rows(const RowValues& row, EventObjects objects);

// GRANT and REVOKE on tables (views, sequences...) and schemas, at ddl_command_end: one row per object it
// names, with the object's type and identity. pg_event_trigger_ddl_commands() reports such a command
// without an identity (PostgreSQL's SCT_Grant), so drift could not say who changed the privileges. The
// caller checks grant_names_objects() first.
bool grant_names_objects(const Node* parsetree);
Appended append_grant_rows(const RowValues& row, Node* parsetree);
// The address of each object such a GRANT or REVOKE names and that exists, handed to `fn` with `arg`.
void each_grant_object(Node* parsetree, void (*fn)(const ObjectAddress& address, void* arg), void* arg);

// Each row that a set-returning event trigger function (`function`: pg_event_trigger_ddl_commands(),
// pg_event_trigger_dropped_objects()) reports now, handed to `fn` with `arg`. Must run inside an event
// trigger of that kind; raises PostgreSQL errors (call it under pg::call).
void each_event_row(unsigned int function, void (*fn)(TupleTableSlot* slot, void* arg), void* arg);

// Appends the one row of a command seen by the utility hook (a role, a database, an event trigger...);
// `object_type` and `object_identity` may be null.
Appended append_shared_row(const RowValues& row, const char* object_type, const char* object_identity);

// One row of a statement captured by the hooks (audit_capture.cpp): the event it stands for
// ("ddl_command_end", "sql_drop", "table_rewrite") and its object, whose fields may be null.
struct CapturedRow {
    const char* event;
    const char* object_type;
    const char* schema_name;
    const char* object_identity;
    bool table_rewrite;
};
// Appends them, with what `row` says every row of the statement shares (its `event` is not used).
Appended append_captured_rows(const RowValues& row, const CapturedRow* rows, int count);

// Registers the relcache callback that keeps the writer's cached table and columns true (from _PG_init).
void install_writer_cache();

// Sends NOTIFY pgmig_drift with `payload`, unless the notification queue is over half full: a full
// queue would fail the commit, and the audit row is what counts.
void notify_drift(const char* payload);

}  // namespace pgmig::audit
