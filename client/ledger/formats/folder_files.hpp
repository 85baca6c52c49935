// Helpers of the readers of folder-per-migration and plan-driven formats (diesel, Prisma, Drizzle Kit, Sqitch),
// beside those all readers share (support.hpp: reading a file with its bytes checked, the tool's order against
// pgmig's): listing a folder, naming files by their path in it, and scripts that wrap themselves in a transaction.
#pragma once

#include "client/ledger/formats/support.hpp"
#include "client/ledger/migration_files.hpp"

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace pgmig::client::formats {

// The entries of `dir` that are folders (dirs = true) or regular files (false), hidden ones (".x") left out,
// sorted by name (byte order). MigrationFileError when the folder cannot be read.
std::vector<std::filesystem::path> folder_entries(const std::filesystem::path& dir, bool dirs);

// A regular file (false when it cannot be checked).
bool is_file(const std::filesystem::path& p);
// `dir` has a subfolder, not hidden, that holds a file named `file` (the detection of folder-per-migration
// formats: diesel's up.sql, Prisma's migration.sql).
bool has_subfolder_holding(const std::filesystem::path& dir, const char* file);

// `path` relative to `dir`, with '/' separators ("20240101_init/up.sql"): a migration's file_name.
std::string relative_name(const std::filesystem::path& dir, const std::filesystem::path& path);

// "reason (line N)" with the line when there is one.
std::string at_line(const std::string& reason, int line);

// A refusal naming the file and the line (0: none).
[[noreturn]] void refuse(const std::filesystem::path& file, int line, const std::string& reason,
                         const std::string& advice);

// The leading digits of `name` with the characters of `dropped` removed before the first '_' (diesel drops
// '-'), or "" when what stands before the first '_' is not made of digits and those characters.
std::string version_before_underscore(std::string_view name, std::string_view dropped = {});

// A script that wraps itself in a transaction (its first statement BEGIN, BEGIN WORK / TRANSACTION or START
// TRANSACTION, its last COMMIT or END), as scripts run by psql or sent as one query string do: pgmig runs a
// migration in its own transaction, so `text` comes back with those two statements blanked out (lines kept)
// and wrapped = true. Any other transaction control at the top level (a COMMIT in the middle, a SAVEPOINT,
// ROLLBACK, BEGIN without COMMIT, BEGIN ISOLATION LEVEL ...) is refused naming the file and the line.
struct Unwrapped {
    std::string text;
    bool wrapped = false;
};
Unwrapped strip_transaction_wrapper(const std::filesystem::path& file, std::string text);

// Lower-case hex SHA-1 of the bytes (Sqitch's ids and script hashes).
std::string sha1_hex(std::string_view bytes);

}  // namespace pgmig::client::formats
