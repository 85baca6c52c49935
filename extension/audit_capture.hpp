// The DDL audit without pgmig's ddl_command_end, sql_drop and table_rewrite triggers: what those triggers
// record, captured by the utility hook and the object access hook instead. The statement's objects are
// named the way PostgreSQL's pg_event_trigger_ddl_commands(), pg_event_trigger_dropped_objects() and
// table_rewrite name them (one row per command, its subcommands included; every dropped object that was
// named or reached through a normal dependency; every table an ALTER TABLE rewrote), and the rows are
// written once the statement completed, in its transaction. Any enabled trigger of those events makes
// PostgreSQL collect the commands and the dropped objects of every DDL statement in every session, and
// that collection costs more than the whole capture (bench/audit-instructions.sh).
//
// Used when the triggers will not fire for a statement (audit_unseen.cpp decides). Everything here runs
// in PostgreSQL's context and holds no object with a destructor, but capture::finish(), which the hook
// runs through pg::invoke_void.
#pragma once

struct Node;  // PostgreSQL's parse-tree node

namespace pgmig::audit::capture {

// The statement the utility hook is about to run is recorded by the capture: `stmt` (its parse tree),
// its command tag and its text (redacted; null when it cannot be isolated). From audit_unseen(), before
// the hook enters the statement.
void begin(const Node* stmt, int command_tag, const char* statement);

// The utility hook, around every utility statement it passes on: enter() before it runs (`context` is
// the hook's ProcessUtilityContext) returns the statement's level; once it completed, finish(&level)
// (through pg::invoke_void: it writes the rows when the level began a capture); if it failed,
// abandon(level), which forgets the level, any above it and their captures. finish() abandons on error.
int enter(Node* stmt, int context);
void finish(void* level);
void abandon(int level);

// Whether pgmig's utility hook is running the statement being executed (false when the library was loaded
// only while it ran: by pgmig's ddl_command_start trigger).
bool hook_active();

// From pgmig's object access hook: an object created, altered or dropped by the statement being captured.
void object_access(int access, unsigned int class_id, unsigned int object_id, int sub_id, void* arg);

}  // namespace pgmig::audit::capture
