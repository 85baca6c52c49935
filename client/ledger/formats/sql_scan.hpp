// A statement scanner for the folder readers (client/ledger/formats/): splits SQL text into top-level statements the
// way psql does (PostgreSQL's lexical rules for quotes, quoted identifiers, dollar quotes and nested block
// comments; semicolons inside parentheses or inside the BEGIN ... END of a CREATE FUNCTION / PROCEDURE body
// end nothing), and notes what only psql would interpret: backslash meta-commands and :variables. Readers use
// it to recognise a script's own BEGIN / COMMIT, a lone statement, or a marker that would cut a string.
// Pure C++: the statements still reach PostgreSQL's own parser when they are applied.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace pgmig::client::formats {

struct ScannedStatement {
    std::size_t begin = 0;  // offset of its first token (leading comments and blanks are not part of it)
    std::size_t end = 0;    // offset just after its terminating ';', or the end of the text
    int line = 1;           // 1-based line of its first token
    // Its leading keywords, upper-cased: the unquoted words before any other token (at most 8).
    std::vector<std::string> words;
    bool only_words = true;   // nothing but those words (and the ';')
    bool terminated = false;  // ends with ';'
};

// Something in the text that psql, not PostgreSQL, would interpret.
struct PsqlOnly {
    enum class Kind { meta_command, variable } kind = Kind::meta_command;
    int line = 1;
    std::string text;     // e.g. "\\set", ":'name'", ":name"
    std::string name;     // a variable's name
    bool quoted = false;  // :'name' or :"name" (always psql's), not a bare :name
};

struct ScanResult {
    std::vector<ScannedStatement> statements;  // statements holding at least one token, in order
    // [begin, end) of every quoted string, quoted identifier, dollar quote and block comment: text there is
    // data or comment, never a statement boundary or a marker.
    std::vector<std::pair<std::size_t, std::size_t>> opaque;
    std::vector<PsqlOnly> psql_only;
    // What the text ends inside, when it ends inside a quote or comment ("a quoted string", ...), else empty;
    // and the line where that began.
    std::string unterminated;
    int unterminated_line = 0;

    // True when offset `at` lies inside a quoted string, identifier, dollar quote or block comment.
    bool inside_opaque(std::size_t at) const;
};

// Splits `text`; psql_only lists every backslash in code (a psql meta-command) and every :name, :'name' and
// :"name" in code (a psql variable when psql knows the name; `::` casts are not).
ScanResult scan_sql(std::string_view text);

// The 1-based line of offset `at` in `text`.
int line_at(std::string_view text, std::size_t at);

}  // namespace pgmig::client::formats
