// The readers of tools whose migration files carry their directives in SQL comments: goose, dbmate,
// sql-migrate, node-pg-migrate (SQL files), Ory popx and Liquibase formatted SQL (docs/adopting.md has one
// section per tool). Each file parser is exposed for the unit tests; load_migration_dir reaches them
// through the registry (registry.cpp).
#pragma once

#include "client/ledger/formats/formats.hpp"

#include <filesystem>
#include <string_view>

namespace pgmig::client::formats {

FolderReader goose_reader();
FolderReader dbmate_reader();
FolderReader sql_migrate_reader();
FolderReader node_pg_migrate_reader();
FolderReader popx_reader();
FolderReader liquibase_reader();

// One file's migration, read by the tool's rules (version, name and tool_id come from the name where the
// tool says so; the folder's reader sets the versions it synthesizes). `path` names the file in errors.
MigrationFile parse_goose_file(const std::filesystem::path& path, std::string_view content);
MigrationFile parse_dbmate_file(const std::filesystem::path& path, std::string_view content);
MigrationFile parse_sql_migrate_file(const std::filesystem::path& path, std::string_view content);
MigrationFile parse_node_pg_migrate_file(const std::filesystem::path& path, std::string_view content);

// The changesets of one Liquibase formatted SQL file, in file order; `logical_path` is the file name
// databasechangelog would record for it (a changeset's or the header's logicalFilePath wins), and
// `file_ordinal` the file's place in the changelog (the first group of the versions it gets).
std::vector<MigrationFile> parse_liquibase_file(const std::filesystem::path& path, std::string_view content,
                                                const std::string& logical_path, int file_ordinal);

}  // namespace pgmig::client::formats
