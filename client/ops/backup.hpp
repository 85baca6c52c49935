// Encrypted backups (docs/operations.md, Backups): take one (pg_dump -Fc streamed through the container of
// client/ops/backup_crypto.hpp into <dir>/<env>/<UTC YYYYMMDDTHHMMSSZ>_<dbname>.pgmig-backup plus its
// .manifest.json), list them, verify them, restore one into a new database, and apply retention.
// The deploy command calls take_backup() and records BackupInfo in pgmig.history.
#pragma once

#include "client/ops/backup_crypto.hpp"
#include "client/core/config.hpp"
#include "client/core/errors.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace pgmig::client {

inline constexpr const char* kBackupFormat = "pgmig-backup/1";
inline constexpr const char* kBackupSuffix = ".pgmig-backup";
inline constexpr const char* kManifestSuffix = ".manifest.json";
inline constexpr const char* kDefaultEnvironmentName = "default";  // <env> of backups taken without --env

// Where the key comes from: --key-file, else $PGMIG_BACKUP_KEY_FILE, else the settings' key_file, else the
// passphrase in the variable the settings' key_env names.
struct KeyOptions {
    std::string key_file;  // --key-file
};

// The key; Error(backup_failed) naming the source when there is none, or it cannot be read. `source` (when
// given) receives a description such as "--key-file /etc/k" (never the key).
backup_crypto::KeyMaterial resolve_key(const KeyOptions& options, const BackupSettings& settings,
                                       std::string* source = nullptr);

// The folder of an environment's backups: <out or settings.dir>/<env_name>.
std::filesystem::path backup_folder(const BackupSettings& settings, const std::string& env_name,
                                    const std::string& out_dir = {});

// nlohmann::json's move constructor is noexcept; clang-tidy follows its JSON_ASSERT invariant checks.
// NOLINTNEXTLINE(bugprone-exception-escape)
struct BackupInfo {
    std::filesystem::path path;                  // the .pgmig-backup file
    nlohmann::json manifest;                     // what its manifest holds
    double seconds = 0;                          // how long the backup took
    std::vector<std::filesystem::path> removed;  // older backups deleted by retention (keep)
};

// Takes a backup of the database `conninfo` names ("" = libpq environment) into backup_folder(settings, env_name,
// out_dir), encrypted with `key` (from resolve_key: read once, so that a caller verifying the backup afterwards
// uses the very key it was written with, even from a --key-file that can be read only once, such as a pipe),
// then applies settings.keep. The password of conninfo reaches pg_dump through its environment only.
// Throws Error(backup_failed) saying what failed; nothing partial is left behind.
BackupInfo take_backup(const std::string& conninfo, const std::string& env_name, const BackupSettings& settings,
                       const backup_crypto::KeyMaterial& key, const std::string& out_dir = {});

// One backup file of a folder, with its manifest (or why there is none usable).
struct BackupEntry {
    std::filesystem::path path;
    std::optional<nlohmann::json> manifest;
    std::string manifest_problem;  // "" when the manifest is valid
    std::uintmax_t file_size = 0;
};

// The backups of a folder, newest first (by the UTC time in their names).
std::vector<BackupEntry> list_backups(const std::filesystem::path& folder);

// Reads and checks <backup>.manifest.json; Error(backup_manifest) when it is missing or invalid.
nlohmann::json read_manifest(const std::filesystem::path& backup);

struct VerifyResult {
    std::filesystem::path path;
    std::optional<Error> error;     // nullopt: the backup is good
    std::uint64_t bytes = 0;        // ciphertext bytes read
    std::uint64_t plain_bytes = 0;  // pg_dump archive bytes
    std::uint64_t toc_entries = 0;  // lines of pg_restore --list
    double seconds = 0;
};

// Manifest present and valid, size and SHA-256 as recorded, decrypts with the key, pg_restore --list accepts it.
VerifyResult verify_backup(const std::filesystem::path& backup, const backup_crypto::KeyMaterial& key);

struct RestoreResult {
    std::string database;
    std::optional<std::string> fingerprint;           // migrate_fingerprint() of the new database
    std::optional<std::string> manifest_fingerprint;  // the manifest's
    // Set when the fingerprints were not compared: the backup was taken on another PostgreSQL major
    // version (its catalogs describe the same schema differently); says which two.
    std::optional<std::string> not_compared;
    double seconds = 0;
};

// Creates database `dbname` (refused when it exists) on the server of `conninfo` and restores the backup
// into it (decrypt | pg_restore), then compares the fingerprints: Error(restore_mismatch) when they differ.
// A backup taken on another PostgreSQL major version is restored, its fingerprint not compared (not_compared).
RestoreResult restore_backup(const std::filesystem::path& backup, const std::string& conninfo,
                             const std::string& dbname, const backup_crypto::KeyMaterial& key);

// Deletes the oldest backups of the folder beyond `keep` (0 = keep all); only files with a valid name and a
// valid manifest count and are deleted. Returns what was deleted.
std::vector<std::filesystem::path> apply_retention(const std::filesystem::path& folder, int keep);

// pg_dump, pg_restore: in $PGMIG_PG_BINDIR, else the folder `pg_config --bindir` names, else PATH.
std::filesystem::path pg_program(const char* name);

}  // namespace pgmig::client
