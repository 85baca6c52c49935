// The shadow database of pgmig diff/generate/sync: a throwaway database where the desired schema (the
// schema folder's .sql files) is loaded so that migrate_snapshot() can describe it; always dropped.
#pragma once

#include "client/core/db.hpp"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pgmig::client {

// One .sql file of the schema folder.
struct SchemaFile {
    std::string name;  // its path as the user wrote the folder: "schema/tables/01_users.sql"
    std::string sql;
};

// Every *.sql file under `dir` (subfolders too, hidden entries skipped), sorted by their path inside
// the folder (byte order, so "01_a.sql" < "02_b.sql" < "tables/x.sql"). Throws Error(schema_load_failed)
// when the folder does not exist, holds no .sql file, or a file cannot be read, and Error(bad_bytes)
// when a file holds a NUL byte or invalid UTF-8 (naming its line, column and byte offset).
std::vector<SchemaFile> read_schema_folder(const std::string& dir);

// The 1-based line of `text` that holds the 1-based character `position` (PostgreSQL's error cursor
// counts characters, not bytes: UTF-8 continuation bytes are not counted).
int line_at_character(std::string_view text, long position);

// "pgmig_shadow_<pid>_<random hex>".
std::string default_shadow_name();

// The comment pgmig puts on every shadow database it creates: a leftover database with it (a run that
// was killed with SIGKILL) may be dropped and reused; a database without it is never touched.
inline constexpr const char* kShadowComment = "pgmig shadow database: dropped when pgmig diff ends";

struct ShadowSettingsResolved {
    std::string name;    // empty: default_shadow_name()
    std::string owner;   // empty: the connecting role
    std::string server;  // connection string of another server; empty: the target's server
};

// The shadow settings of ./pgmig.toml (of environment `env` when not empty), each overridden by its
// command-line option when that is not empty (--shadow-db, --shadow-owner, --shadow-server).
ShadowSettingsResolved resolve_shadow_settings(const std::string& env, const std::string& db, const std::string& owner,
                                               const std::string& server);

// While alive, SIGINT and SIGTERM cancel the query in flight on the connection given to watch() and
// make interrupted() true, so that the command unwinds and its destructors drop the shadow database.
class InterruptGuard {
  public:
    InterruptGuard();
    ~InterruptGuard();
    InterruptGuard(const InterruptGuard&) = delete;
    InterruptGuard& operator=(const InterruptGuard&) = delete;
    static void watch(const Connection* conn);  // nullptr: no query to cancel
    static bool interrupted();
    // Throws Error(schema_load_failed) "interrupted" when a signal came.
    static void check(const std::string& where);

  private:
    struct Saved;
    Saved* saved_;
};

class ShadowDatabase {
  public:
    // Creates the shadow database (on the target's server unless settings.server is given), comments it,
    // and installs the pgmig extension in it. Throws Error(schema_load_failed) naming what failed.
    ShadowDatabase(const Connection& target, const ShadowSettingsResolved& settings);
    ~ShadowDatabase();  // drops it (DROP DATABASE ... WITH (FORCE)), also when a command fails
    ShadowDatabase(const ShadowDatabase&) = delete;
    ShadowDatabase& operator=(const ShadowDatabase&) = delete;

    const std::string& name() const { return name_; }
    std::string server() const;  // "host=... port=..." of the server it lives on, for messages

    // Runs each file as one multi-statement string, in order; the first failure throws
    // Error(schema_load_failed) with the file, the line and the server's message. Then returns the
    // shadow's migrate_snapshot().
    nlohmann::json load(const std::vector<SchemaFile>& files);

  private:
    void drop() noexcept;
    [[noreturn]] void fail_file(const SchemaFile& file, const ServerError& error, long position);

    std::optional<Connection> admin_;  // maintenance database of the shadow's server
    std::optional<Connection> conn_;   // the shadow itself
    std::string name_;
    bool created_ = false;
};

// migrate_snapshot() of a connected database that has the pgmig extension, parsed, each object's
// description as drop_default_members() leaves it.
nlohmann::json fetch_snapshot(const Connection& conn, const std::string& what);

// Removes the members of one object's description that hold the value their absence means to every reader of
// a snapshot in the client (a column's "not_null": false, a relation's "persistence": "p"): at 10,000 tables
// they are about 100,000 of the document's nodes, some 14 MB of the client's memory for `diff --to`. Every
// snapshot the client compares goes through it, so that two descriptions of the same object stay equal.
void drop_default_members(nlohmann::json& description);

// A migrate_snapshot() sent but not read yet, so that one server builds its snapshot while another server
// builds the other. The connection must not be used until take(); a snapshot never taken is cancelled and
// drained by the destructor. Never hold one across CREATE/DROP DATABASE on the same server: those wait for
// every backend to absorb a barrier, which a backend blocked sending the unread result cannot do.
class PendingSnapshot {
  public:
    PendingSnapshot(const Connection& conn, std::string what);
    ~PendingSnapshot();
    PendingSnapshot(const PendingSnapshot&) = delete;
    PendingSnapshot& operator=(const PendingSnapshot&) = delete;
    nlohmann::json take();  // waits for the result; throws as fetch_snapshot() does

  private:
    const Connection& conn_;
    std::string what_;
    bool sent_ = false;
};

}  // namespace pgmig::client
