// pgmig.toml, the project file: for now only `migrations = "..."`, the default migrations folder.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace pgmig::client {

inline constexpr const char* kConfigFile = "pgmig.toml";
inline constexpr const char* kDefaultMigrationsDir = "migrations";

struct ProjectConfig {
    std::string migrations = kDefaultMigrationsDir;  // folder of the migration files
};

// Reads a pgmig.toml; throws Error(input) naming the file (and the key or line) when it is invalid.
ProjectConfig load_config(const std::filesystem::path& file);

// The migrations folder a command uses: --dir when given, else the `migrations` of ./pgmig.toml
// when that file exists, else "migrations".
std::string resolve_migrations_dir(const std::string& dir_option);

}  // namespace pgmig::client
