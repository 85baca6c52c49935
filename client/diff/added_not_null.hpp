// NOT NULL columns the desired schema adds to tables the target already has: which they are (from the two
// snapshots), how many rows their tables hold (counted on the target, for the diff engine's choice between
// a plain ADD COLUMN ... NOT NULL, a --backfill and withholding the NOT NULL), and the --backfill arguments.
#pragma once

#include "client/diff/schema_diff.hpp"

#include <nlohmann/json.hpp>

#include <map>
#include <string>
#include <vector>

namespace pgmig::client {

class Connection;

// A column NOT NULL in `to`, without a default, identity or generation expression, that `to` adds to a table
// `from` has (under its own name or, through a confirmed --rename, an old one). `table` is the desired
// snapshot's identity ("public.orders", `app."Line Items"`), `from_table` the target's; `column` unquoted.
struct AddedNotNull {
    std::string table;
    std::string from_table;
    std::string column;
};
std::vector<AddedNotNull> added_not_null_columns(const nlohmann::json& from, const nlohmann::json& to,
                                                 const std::vector<schema_diff::Rename>& renames);

// The rows of each table (the desired snapshot's identity -> rows) that gets such a column, counted on the
// target without reading more than a bound: a table of the target's catalog found by its qualified name
// (never by the search_path), counted in a read-only transaction with a short lock_timeout. A table the
// role may not read, one whose rows row-level security hides from it, or a count that fails: unknown rows,
// with the reason.
std::map<std::string, schema_diff::TableRows> count_table_rows(const Connection& target,
                                                               const std::vector<AddedNotNull>& columns);

// --backfill 'schema.table.column=EXPRESSION' or 'table.column=EXPRESSION' (the table is public's, else the
// only table of that name in the desired snapshot `to`); names as in SQL (unquoted ones fold to lower case,
// "Quoted" ones keep their case). Throws Error(usage) on a malformed argument.
schema_diff::Backfill parse_backfill(const std::string& argument, const nlohmann::json& to);

// The backfills that name neither a column of added_not_null_columns() nor a NOT NULL column that `to` drops
// from a table (whose down adds it back): a typo, or a column that has a default. For a warning.
std::vector<schema_diff::Backfill> unused_backfills(const std::vector<schema_diff::Backfill>& backfills,
                                                    const nlohmann::json& from, const nlohmann::json& to,
                                                    const std::vector<schema_diff::Rename>& renames);

}  // namespace pgmig::client
