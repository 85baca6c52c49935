// A migration script cut into statements by PostgreSQL's own parser, with the line of each.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

struct Node;  // PostgreSQL's parse-tree node

namespace pgmig {

struct Statement {
    std::string text;                  // the statement as written (from its first token to its end)
    int line = 1;                      // 1-based line of its first token in the script
    size_t offset = 0;                 // byte offset of its first token in the script
    bool transaction_control = false;  // BEGIN, COMMIT, SAVEPOINT...: never allowed in a migration
    int kind = 0;                      // NodeTag of its raw parse tree
    // Why it cannot run inside a transaction block (CREATE INDEX CONCURRENTLY, VACUUM, ...), or
    // empty when it can.
    std::string needs_no_transaction;
    // REINDEX TABLE/INDEX and CLUSTER of one relation need no transaction only when that relation is
    // partitioned: its name (schema empty when unqualified), checked against the catalog by
    // needs_no_transaction_now() before the statement runs.
    std::string partition_schema, partition_relation, partition_what;
};

// Why `st` cannot run inside a transaction block as the catalog stands now: needs_no_transaction, or
// partition_what when its relation is a partitioned table or index; empty when it can.
std::string needs_no_transaction_now(const Statement& st);

// Parses `script` with raw_parser. A syntax error is thrown as pg::PgError whose cursorpos is a
// 1-based character position in `script`.
// With `nodes`, also the raw parse tree of each statement (in the current memory context).
// Linear in the script's size, and cancellable: a pending cancel or timeout is thrown as pg::PgError
// (see pg::is_interrupt: a caller that turns a syntax error into a result must rethrow those).
std::vector<Statement> split_script(const std::string& script, std::vector<Node*>* nodes = nullptr);

// True when `script` holds no statement (empty, blanks, comments, lone semicolons): a no-op migration,
// a placeholder that real projects keep for another SQL dialect. It needs no down script: undoing it
// runs nothing too. Throws like split_script on a syntax error.
bool runs_nothing(const std::string& script);

// True when both scripts parse to the same statements (PostgreSQL's equal() on the raw parse
// trees, which ignores token locations): they differ only in whitespace, comments, line endings
// or keyword case. False when they differ or either does not parse.
bool same_statements(const std::string& a, const std::string& b);

// The statement at [location, location + length) of a query string (length 0: to the end), from
// its first token: what PlannedStmt's stmt_location/stmt_len and RawStmt's describe.
std::string statement_slice(const std::string& query, int location, int length);
// The same for a C string (debug_query_string, a portal's source text) without measuring all of it: only
// the last statement (length 0) reads to the terminating NUL. statement_view does not copy (for the hooks).
std::string statement_slice(const char* query, int location, int length);
std::string_view statement_view(const char* query, int location, int length);

// The position after the block comment that starts at `pos` ("/*"; they nest, as in PostgreSQL), at most
// `end` for an unterminated one.
size_t skip_block_comment(std::string_view s, size_t pos, size_t end);

// 1-based line number of a byte offset, and of a 1-based character position, in `text`. Reads the text
// from its start: for one position (an error's), not in a loop (use LineCounter there).
int line_at_byte(const std::string& text, size_t offset);
size_t byte_of_char_position(const std::string& text, size_t start_byte, int char_position);

// 1-based lines of byte offsets asked in increasing order, reading `text` once: the lines of every
// statement of a script in linear time (asking for an earlier offset starts again from the top).
class LineCounter {
  public:
    explicit LineCounter(std::string_view text) : text_(text) {}
    int at(size_t offset);

  private:
    std::string_view text_;
    size_t pos_ = 0;
    int line_ = 1;
};

}  // namespace pgmig
