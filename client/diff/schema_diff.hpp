// The desired-state diff engine: compares two canonical snapshots (migrate_snapshot() documents,
// the same ones drift detection uses) and writes the DDL that turns the first schema into the
// second, with the reverse (down) DDL, in dependency order. It reads no catalog of its own.
//
// Contract shared by `pgmig diff`, `generate`, `sync` and `drift --fix`.
#pragma once

#include <nlohmann/json.hpp>

#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace pgmig::schema_diff {

// A rename the user confirmed (--rename OLD=NEW or the terminal prompt).
// kind "table": from/to are "schema.table"; kind "column": from/to are "schema.table.column".
struct Rename {
    std::string kind;
    std::string from;
    std::string to;
};

// The rows of an existing table, as the client counted them on the target: rows >= 0 (at_least: the count
// stopped at a bound, there are more), or rows == -1: unknown, with the reason (no SELECT privilege, ...).
struct TableRows {
    long long rows = -1;
    bool at_least = false;
    std::string unknown;
};

// --backfill: the value, for the rows a table already has, of a NOT NULL column without a default that is
// added to it (and, in down, of one that is dropped from it). `table` is a snapshot identity ("public.t"),
// `column` the unquoted name; `argument` as the user wrote it, for messages.
struct Backfill {
    std::string table;
    std::string column;
    std::string expression;
    std::string argument;
};

struct Options {
    bool allow_destructive = false;  // emit destructive up steps instead of withholding them
    std::vector<Rename> renames;     // confirmed renames; other probable renames are reported, never guessed
    bool no_renames = false;         // the user said there are no renames: probable ones are drop + add
    bool safe_forms = true;          // CONCURRENTLY / NOT VALID + VALIDATE on existing tables (post phase)
    bool reorder_columns = false;    // rebuild a table whose column order differs (new table, copy, swap)
    // Rows of the existing tables that get a NOT NULL column without a default (identity in `to` -> rows; a
    // table missing here has unknown rows). 0 rows: a plain ADD COLUMN ... NOT NULL; rows or unknown: the
    // column is added nullable and its NOT NULL withheld (Withheld::needs_value), unless `backfills` has it.
    std::map<std::string, TableRows> table_rows;
    std::vector<Backfill> backfills;
    // Owners. Role names as SQL identifiers (regrole::text). migration_role: the role that runs the migration
    // (the target connection's current_user; it owns what the migration creates); desired_role: the role
    // that loaded the desired schema (its objects are the migration role's). Empty: unknown, no owner is
    // written for new objects.
    std::string migration_role;
    std::string desired_role;
    // The target's roles: an owner or grantee that is not among them is reported as unsupported (that object's
    // owner or privileges are left as they are). roles_known false: not checked.
    bool roles_known = false;
    std::set<std::string> target_roles;
    // The target server's version (PQserverVersion): the privileges an owner holds when nobody granted
    // anything differ by version (MAINTAIN on tables from 17). 0: unknown, taken as 15.
    int server_version_num = 0;
};

// main: the transactional migration; post: the separate `-- pgmig:no-transaction` migration that
// runs after it (CREATE INDEX CONCURRENTLY on existing tables, VALIDATE CONSTRAINT, ...).
enum class Phase { main, post };

struct Statement {
    std::string sql;      // one SQL statement ending in ';' (may start with '-- pgmig:allow RULE' lines)
    std::string subject;  // what it changes: "table public.t", "column public.t.c", "index public.i", ...
    Phase phase = Phase::main;
    bool destructive = false;  // drops data or may fail on existing data
};

// A destructive up step that was not emitted (no --allow-destructive), with the SQL it would be.
struct Withheld {
    std::string subject;
    std::string reason;
    std::string sql;
    // a NOT NULL column added to a table with rows (or unknown rows) without a default nor a backfill: no
    // order of statements can add it (the client exits 60); otherwise a destructive step (exit 32)
    bool needs_value = false;
};

// A dropped and an added object that look like one renamed; not in Options::renames.
struct ProbableRename {
    std::string kind;  // "table" | "column"
    std::string from;
    std::string to;
    std::string reason;
};

struct Migration {
    std::vector<Statement> up;
    std::vector<Statement> down;
};

// A table whose columns end in another order than desired (ADD COLUMN appends): a warning, never a blocker.
struct ColumnOrder {
    std::string table;                 // its identity (the desired one)
    std::vector<std::string> live;     // the target's columns, in their order
    std::vector<std::string> desired;  // the desired schema's, in theirs
    bool rebuilt = false;              // Options::reorder_columns: the migration rebuilds it (main part, last)
    std::string refused;               // Options::reorder_columns: why it is not rebuilt ("" otherwise)
};

struct Result {
    Migration main;                                // transactional
    Migration post;                                // non-transactional, runs after main; may be empty
    std::vector<Withheld> withheld;                // destructive up steps and NOT NULLs without a value, not emitted
    std::vector<ProbableRename> probable_renames;  // unresolved: asked on a terminal, else reported
    std::vector<std::string> unsupported;          // objects it cannot write DDL for, named with the reason
    std::vector<ColumnOrder> column_order;         // tables whose column order differs (rebuilt or not)
    [[nodiscard]] bool empty() const { return main.up.empty() && post.up.empty(); }
};

// Turn `from` into `to`. Both are migrate_snapshot() documents of the same major version.
// main.down / post.down undo exactly what main.up / post.up do (withheld steps are not undone);
// rollback runs post.down first, then main.down.
Result diff(const nlohmann::json& from, const nlohmann::json& to, const Options& options);

// SQL text of statements, one per paragraph, in order.
std::string render(const std::vector<Statement>& statements);

// Text from the database or the user (names, types, enum labels, paths) made safe to write after "-- " in a
// generated file: CR, LF and the other control characters are written as \n, \r, \xNN, so such text can
// never start a line of its own (a "-- pgmig:allow ..." or "-- pgmig:down" line that pgmig would read).
std::string comment_text(std::string_view text);

// A statement as written into a file: a quoted identifier holding a control character becomes U&"...", and
// a string literal or dollar-quoted body with a line that could pass for "-- pgmig:..." becomes E'...' (the
// same value), so that no line of a generated file starts with "-- pgmig:" unless pgmig meant it.
// render() applies it; comments are left as they are.
std::string file_safe_sql(std::string_view sql);

}  // namespace pgmig::schema_diff
