// Identifier quoting for every SQL text the client writes, and a reader of the index and table names out of one CREATE
// INDEX CONCURRENTLY statement (as the server's split_statements() returned it), to find the invalid index a failed run
// left behind. No SQL splitting.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace pgmig::client {

// A SQL identifier as PostgreSQL's quote_identifier() writes it: bare when it is lower case
// ([a-z_][a-z0-9_]*) and not a keyword PostgreSQL reserves in any way, else in double quotes ("a""b").
// The one quoting rule of the client (the keyword list is the server's parser/kwlist.h).
std::string quote_identifier(const std::string& name);

struct IndexTarget {
    std::string index;  // the index name, case-folded as PostgreSQL does (unquoted: lower case)
    std::string table;  // the table as a quoted, possibly schema-qualified name: "s"."t" or "t"
};

// The named index and its table of `CREATE [UNIQUE] INDEX CONCURRENTLY [IF NOT EXISTS] name ON [ONLY] table`;
// nullopt when the statement is not one or names no index.
std::optional<IndexTarget> concurrent_index_target(std::string_view statement);

}  // namespace pgmig::client
