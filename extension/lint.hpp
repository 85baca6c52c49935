// Lint of migration SQL with the server's own grammar (raw_parser) and the live catalog: syntax
// errors, dangerous operations on existing tables (with their current size), style advice.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/lint_rules.hpp"
#include "options.hpp"

struct Node;  // PostgreSQL's parse-tree node

namespace pgmig {
struct Migration;
}

namespace pgmig::lint {

using Severity = common::LintSeverity;
const char* severity_name(Severity s);

struct Finding {
    std::string rule;  // stable kebab-case id, documented in docs/reference.md
    Severity severity = Severity::error;
    int line = 1;  // 1-based line of the statement's first token (of the error, for syntax-error)
    int col = 1;   // 1-based column (characters) of the same
    std::string statement;
    std::string message;                   // what is dangerous and the safe way to do it
    std::optional<std::string> object;     // the table, index, schema or column concerned
    std::optional<long long> table_rows;   // pg_class.reltuples of an existing table (none before ANALYZE)
    std::optional<long long> table_bytes;  // pg_total_relation_size of an existing table
    bool waived = false;
};

struct Options {
    std::vector<std::string> allow;  // rules waived for the whole script
    bool transactional = true;       // the migration runs inside one transaction (migrate_apply)
    // lock_timeout that will be in force when the script runs (ms; 0 = none). nullopt: the one
    // migrate_apply would apply (pgmig.lock_timeout).
    std::optional<int> lock_timeout_ms;
    // The script is the down script of a migration whose up script is this text: dropping what that up
    // created (a table, view, sequence, index, schema, or a column it added) is what a down script is for,
    // so the drop rules do not report it. Anything else the down drops is reported as in an up script.
    std::optional<std::string> down_of;
};

// The rule ids of an allow option: known and waivable, or PM016 (what a `-- pgmig:allow` comment is held to).
void check_allow(const std::vector<std::string>& allow);

// The lint options of parsed options (parse_options(..., OptionsOf::lint) for migrate_lint's jsonb);
// lint_script refuses unknown rule ids in allow (PM016).
Options options_for(const MigrationOptions& o);
// The options a registered migration is linted with: its own allow, transactional and lock_timeout.
Options options_for(const Migration& m);

// Lints a whole script. Never raises for a syntax error: that is a `syntax-error` finding.
// `-- pgmig:allow RULE[, RULE]` comments naming an unknown rule raise PM016.
std::vector<Finding> lint_script(const std::string& sql, const Options& options);

// Lints one statement about to run out of band (ddl_command_start): `stmt` is its raw parse tree,
// `query` the client's query string (for its text and its `-- pgmig:allow` comments; may be null).
std::vector<Finding> lint_statement(Node* stmt, const char* query);

// pgmig.lint_block for migrate_apply(): refuses (PM017) when a migration of `plan` has an unwaived
// finding at or above the threshold. Does nothing when pgmig.lint_block = off.
void check_plan(const std::vector<Migration>& plan);

// The findings as a jsonb array text, the shape of migrate_lint's rows (for reports such as the dry run's).
std::string findings_json(const std::vector<Finding>& findings);

// One line per finding, for messages: "line 3: error [drop-table] ... (table t: 1000 rows, 8192 bytes)".
std::string describe(const Finding& f);
// The same without the line (a statement run out of band): "error [drop-table] ... (table ...)".
std::string describe_out_of_band(const Finding& f);

}  // namespace pgmig::lint
