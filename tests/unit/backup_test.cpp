// Unit tests of client/backup: where the key comes from, manifest checks, listing and retention on a folder.
#include "client/ops/backup.hpp"

#include <gtest/gtest.h>

#include <stdlib.h>

#include <fstream>

using namespace pgmig::client;
namespace fs = std::filesystem;

namespace {

class TempDir {
  public:
    TempDir() {
        char name[] = "/tmp/pgmig-backup-unit-XXXXXX";
        path_ = mkdtemp(name);
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const fs::path& path() const { return path_; }

  private:
    fs::path path_;
};

void write(const fs::path& p, const std::string& text) { std::ofstream(p, std::ios::binary) << text; }

nlohmann::json valid_manifest() {
    return {{"format", "pgmig-backup/1"},
            {"database", "app"},
            {"environment", "default"},
            {"server_version", "15.8"},
            {"ledger_version", "3"},
            {"fingerprint", nullptr},
            {"size", 10},
            {"sha256", std::string(64, 'a')},
            {"created_at", "2026-11-24T16:00:00Z"},
            {"pgmig_version", "0.1.0"},
            {"key_id", "0123456789abcdef"}};
}

// A backup with a valid manifest (the content does not matter here).
fs::path add_backup(const fs::path& folder, const std::string& stamp) {
    const fs::path p = folder / (stamp + "_app.pgmig-backup");
    write(p, "x");
    write(p.string() + ".manifest.json", valid_manifest().dump());
    return p;
}

}  // namespace

TEST(BackupKeySource, OrderIsOptionThenVariableThenFileThenPassphraseVariable) {
    TempDir dir;
    const std::string hex(64, 'b');
    write(dir.path() / "option.key", std::string(64, 'c') + "\n");
    write(dir.path() / "variable.key", std::string(64, 'd'));
    write(dir.path() / "toml.key", hex);
    BackupSettings settings;
    settings.key_file = (dir.path() / "toml.key").string();
    settings.key_env = "PGMIG_UNIT_PASSPHRASE";
    setenv("PGMIG_UNIT_PASSPHRASE", "a passphrase", 1);
    unsetenv("PGMIG_BACKUP_KEY_FILE");
    std::string source;

    const auto from_option = resolve_key(KeyOptions{(dir.path() / "option.key").string()}, settings, &source);
    EXPECT_NE(source.find("--key-file"), std::string::npos);
    setenv("PGMIG_BACKUP_KEY_FILE", (dir.path() / "variable.key").c_str(), 1);
    EXPECT_EQ(resolve_key(KeyOptions{(dir.path() / "option.key").string()}, settings).key_id(), from_option.key_id());
    const auto from_variable = resolve_key(KeyOptions{}, settings, &source);
    EXPECT_NE(source.find("PGMIG_BACKUP_KEY_FILE"), std::string::npos);
    EXPECT_NE(from_variable.key_id(), from_option.key_id());
    unsetenv("PGMIG_BACKUP_KEY_FILE");
    const auto from_toml = resolve_key(KeyOptions{}, settings, &source);
    EXPECT_NE(source.find("key_file of pgmig.toml"), std::string::npos);
    EXPECT_FALSE(from_toml.is_passphrase());
    settings.key_file.clear();
    const auto from_env = resolve_key(KeyOptions{}, settings, &source);
    EXPECT_TRUE(from_env.is_passphrase());
    EXPECT_NE(source.find("PGMIG_UNIT_PASSPHRASE"), std::string::npos);
    EXPECT_EQ(source.find("a passphrase"), std::string::npos);  // the name, never the value
    unsetenv("PGMIG_UNIT_PASSPHRASE");
    try {
        resolve_key(KeyOptions{}, settings);
        FAIL() << "an unset variable gave a key";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::backup_failed);
        EXPECT_NE(e.line().find("PGMIG_UNIT_PASSPHRASE is not set"), std::string::npos);
    }
    settings.key_env.clear();
    try {
        resolve_key(KeyOptions{}, settings);
        FAIL() << "no key source gave a key";
    } catch (const Error& e) {
        EXPECT_EQ(e.exit_code(), 19);
        EXPECT_NE(e.line().find("no backup key"), std::string::npos);
    }
}

TEST(BackupManifest, MissingInvalidAndValid) {
    TempDir dir;
    const fs::path backup = dir.path() / "20261124T160000Z_app.pgmig-backup";
    write(backup, "x");
    try {
        read_manifest(backup);
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.exit_code(), 23);
        EXPECT_NE(e.line().find("is missing"), std::string::npos);
    }
    write(backup.string() + ".manifest.json", "{not json");
    EXPECT_THROW(read_manifest(backup), Error);
    for (const char* key : {"format", "sha256", "size", "key_id", "fingerprint"}) {
        auto m = valid_manifest();
        m.erase(key);
        write(backup.string() + ".manifest.json", m.dump());
        try {
            read_manifest(backup);
            FAIL() << key;
        } catch (const Error& e) {
            EXPECT_EQ(e.kind(), ErrorKind::backup_manifest);
            EXPECT_NE(e.line().find(key), std::string::npos) << e.line();
        }
    }
    write(backup.string() + ".manifest.json", valid_manifest().dump());
    EXPECT_EQ(read_manifest(backup)["database"], "app");
}

TEST(BackupFolder, ListNewestFirstAndRetentionOnlyTouchesValidBackups) {
    TempDir dir;
    EXPECT_EQ(backup_folder(BackupSettings{}, ""), fs::path("backups/default"));
    EXPECT_EQ(backup_folder(BackupSettings{}, "prod", "/x"), fs::path("/x/prod"));
    add_backup(dir.path(), "20261124T100000Z");
    add_backup(dir.path(), "20261124T120000Z");
    add_backup(dir.path(), "20261124T110000Z");
    const fs::path no_manifest = dir.path() / "20261124T090000Z_app.pgmig-backup";
    write(no_manifest, "x");
    write(dir.path() / "notes.txt", "keep me");
    write(dir.path() / "20261124T130000Z_app.pgmig-backup.partial", "in progress");

    const auto list = list_backups(dir.path());
    ASSERT_EQ(list.size(), 4U);
    EXPECT_EQ(list[0].path.filename(), "20261124T120000Z_app.pgmig-backup");
    EXPECT_EQ(list[3].path, no_manifest);
    EXPECT_FALSE(list[3].manifest);
    EXPECT_NE(list[3].manifest_problem.find("missing"), std::string::npos);

    EXPECT_TRUE(apply_retention(dir.path(), 0).empty());
    const auto removed = apply_retention(dir.path(), 2);
    ASSERT_EQ(removed.size(), 1U);
    EXPECT_EQ(removed[0].filename(), "20261124T100000Z_app.pgmig-backup");
    EXPECT_FALSE(fs::exists(removed[0].string() + ".manifest.json"));
    EXPECT_TRUE(fs::exists(no_manifest));
    EXPECT_TRUE(fs::exists(dir.path() / "notes.txt"));
    EXPECT_TRUE(fs::exists(dir.path() / "20261124T130000Z_app.pgmig-backup.partial"));
    EXPECT_EQ(list_backups(dir.path()).size(), 3U);
}

TEST(BackupFolder, UnreadableFolderOrEntryIsABackupErrorNamingIt) {
    TempDir dir;
    const fs::path loop = dir.path() / "loop";
    fs::create_symlink(loop, loop);  // stat fails with ELOOP, also for root
    try {
        list_backups(loop);
        ADD_FAILURE() << "listing a folder that cannot be read succeeded";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::backup_failed);
        EXPECT_NE(e.what_failed().find(loop.string()), std::string::npos) << e.what_failed();
    }
    EXPECT_THROW(apply_retention(loop, 2), Error);

    const fs::path folder = dir.path() / "env";
    fs::create_directories(folder);
    const fs::path entry = folder / "20260101T000000Z_db.pgmig-backup";
    fs::create_symlink(entry, entry);
    try {
        list_backups(folder);
        ADD_FAILURE() << "listing a folder with an unreadable entry succeeded";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::backup_failed);
        EXPECT_NE(e.what_failed().find(entry.string()), std::string::npos) << e.what_failed();
        EXPECT_NE(e.where().find(folder.string()), std::string::npos) << e.where();
    }
}
