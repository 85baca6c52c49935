// Reads the index and table names out of one CREATE INDEX CONCURRENTLY statement (as the server's
// split_statements() returned it), to find the invalid index a failed run left behind. No SQL splitting.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace pgmig::client {

struct IndexTarget {
    std::string index;  // the index name, case-folded as PostgreSQL does (unquoted: lower case)
    std::string table;  // the table as a quoted, possibly schema-qualified name: "s"."t" or "t"
};

// The named index and its table of `CREATE [UNIQUE] INDEX CONCURRENTLY [IF NOT EXISTS] name ON [ONLY] table`;
// nullopt when the statement is not one or names no index.
std::optional<IndexTarget> concurrent_index_target(std::string_view statement);

}  // namespace pgmig::client
