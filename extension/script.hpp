// A migration script cut into statements by PostgreSQL's own parser, with the line of each.
#pragma once

#include <string>
#include <vector>

namespace pgmig {

struct Statement {
    std::string text;      // the statement as written (from its first token to its end)
    int line = 1;          // 1-based line of its first token in the script
    int start_offset = 0;  // byte offset of `text` in the script
    bool transaction_control = false;  // BEGIN, COMMIT, SAVEPOINT...: never allowed in a migration
};

// Parses `script` with raw_parser. A syntax error is thrown as pg::PgError whose cursorpos is a
// 1-based character position in `script`.
std::vector<Statement> split_script(const std::string& script);

// 1-based line number of a byte offset, and of a 1-based character position, in `text`.
int line_at_byte(const std::string& text, size_t offset);
size_t byte_of_char_position(const std::string& text, size_t start_byte, int char_position);

}  // namespace pgmig
