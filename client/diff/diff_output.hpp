// What pgmig diff/generate/sync/drift make of a schema_diff::Result: --rename arguments, the next
// migration versions, the generated migration files and the JSON report. Pure C++ (no libpq), unit-tested.
#pragma once

#include "client/diff/schema_diff.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace pgmig::client {

// --rename OLD=NEW. OLD is schema.table (a table) or schema.table.column (a column); the schema may be
// omitted (public). A two-part OLD is a table when `from` (the snapshot being changed) has that table,
// else a column of public. NEW may be shorter than OLD: the missing leading parts are OLD's (so
// `public.t.a=b` renames column a of public.t to b). Throws Error(usage) on a malformed argument.
schema_diff::Rename parse_rename(const std::string& argument, const nlohmann::json& from);

// The exact --rename argument that confirms a probable rename.
std::string rename_argument(const schema_diff::ProbableRename& rename);

// The version of the next migration in a folder whose versioned files have `versions`: with only whole
// numbers shorter than a timestamp (1, 2, 10), the largest + 1; otherwise the UTC time `now`
// (YYYYMMDDHHMMSS, as pgmig new writes), raised above every existing version.
std::string next_version(const std::vector<std::string>& versions, const std::string& now);

// A whole-number version plus one ("20261124203000" -> "20261124203001").
std::string version_plus_one(const std::string& version);

// Where a migration came from, for the comment at the top of a generated file.
struct Provenance {
    std::string command;  // "pgmig generate add_orders", "pgmig drift --fix undo_hotfix"...
    std::string desired;  // "schema folder schema/", "database host=... dbname=..." (never a password)
    std::string target;   // "host=... port=... dbname=... user=..."
    std::string when;     // UTC, ISO 8601
};

// The text of a migration file: header comments, `-- pgmig:no-transaction` when not transactional,
// `-- pgmig:up` with `up`, `-- pgmig:down` with `down`. Withheld steps are listed as comments.
std::string migration_file_text(const Provenance& provenance, const std::vector<schema_diff::Statement>& up,
                                const std::vector<schema_diff::Statement>& down,
                                const std::vector<schema_diff::Withheld>& withheld, bool transactional);

// The result as JSON: {"differences", "main": {"up", "down"}, "post": {...}, "withheld", "probable_renames",
// "unsupported"}; statements as {"sql", "subject", "destructive"}.
nlohmann::json result_json(const schema_diff::Result& result);

// The up SQL as pgmig diff prints it: main, then the post part under a header comment.
std::string diff_sql_text(const schema_diff::Result& result);

}  // namespace pgmig::client
