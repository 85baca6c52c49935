// Reading and writing the ledger tables (pgmig.migrations, pgmig.history), shared by the SQL
// functions of ledger.cpp and the runner. Writes happen as the ledger's owner: ordinary roles,
// pgmig_admin included, can read the tables but never write them.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/ledger_lock.hpp"
#include "options.hpp"
#include "pg/spi.hpp"
#include "touched_objects.hpp"

namespace pgmig {

// Key of the advisory lock that serialises ledger writers in one database (common/ledger_lock.hpp).
// migrate_* take it at transaction level; the client takes it at session level.
using common::kLedgerLockKey;

struct Migration {
    std::string key;                     // version_key (bytea) in its text form
    std::optional<std::string> version;  // none for a repeatable migration
    std::string name;
    std::string up_sql;
    std::optional<std::string> down_sql;
    MigrationOptions options;
    std::string options_json = "{}";  // as stored (jsonb text)
    std::string checksum;
    bool applied = false;
    std::optional<std::string> applied_checksum;
    std::optional<int> nontx_progress;  // statements done of an interrupted non-transactional run
    // The session user that registered the current up script (its checksum): the author, who may not approve it.
    std::string registered_by;
    // The roles that registered exactly the current definition (up, down, options, name), the one whose
    // registration set it first: whose SQL this is, for trust.cpp's check before it runs as someone else.
    std::vector<std::string> vouched_by;

    // "migration 3 \"orders\"" or "repeatable migration \"views\"", for messages.
    std::string label() const;
};

// Who is calling, captured before any switch of user: what history rows record.
struct Caller {
    std::string current_user;
    // pgmig.deploy_run when the call began (none when ''): the fleet deploy run every row of the call
    // belongs to, whatever a migration's own SET does meanwhile.
    std::optional<std::string> deploy_run;
};
Caller current_caller();             // the current user
Caller caller_as(std::string user);  // another role (the session user, say), same deploy run

// The ledger belongs to whoever created the extension (a superuser: see the control file).
Oid ledger_owner(pg::Spi& spi);

// A migration whose script one call ran to its end: the call writes it to the ledger with the others it
// ran, when its runs are over (LedgerStore::record_runs).
struct FinishedRun {
    const Migration* migration;
    std::string duration;  // interval text
    int64 ended;           // TimestampTz: its applied_at and the time of its history row
    int64 history_id;      // taken when it ended, so that history keeps the order things happened in
};

struct HistoryEntry {
    std::optional<std::string> version;
    std::string name;
    std::string action;  // apply, rollback, repair, baseline, adopt, cosmetic_edit, retry, failed, nontx_progress
    std::optional<std::string> duration;  // interval text
    int attempt = 1;
    std::optional<std::string> checksum;
    std::optional<std::string> previous_checksum;
    std::optional<std::string> sqlstate;
    std::optional<std::string> message;
    std::optional<std::string> reason;
};

// While alive: the current user is the ledger's owner, with search_path pinned to
// pg_catalog, pg_temp so no object of the caller's can be picked up with the owner's rights.
class AsLedgerOwner {
  public:
    explicit AsLedgerOwner(Oid owner);
    ~AsLedgerOwner();
    AsLedgerOwner(const AsLedgerOwner&) = delete;
    AsLedgerOwner& operator=(const AsLedgerOwner&) = delete;

  private:
    // First member: pinned before the user is switched, restored after it is switched back.
    pg::PinnedSearchPath search_path_;
    Oid saved_user_;
    int saved_context_;
};

class LedgerStore {
  public:
    LedgerStore(pg::Spi& spi, Caller caller);

    // The transaction-level advisory lock, waited for as ledger_wait.hpp says; `function` names the
    // SQL function that takes it ("migrate_apply") in the errors of the wait.
    void lock(const char* function);
    std::vector<Migration> load_all();  // in version order; repeatables last
    // What an apply chooses from, in version order: versioned migrations not applied, and repeatable
    // ones whose script changed since they last ran. Read through the partial index of pending rows,
    // whatever the length of the history. With `up_to_key`, only the versioned ones up to that key
    // (repeatable keys sort after every version).
    std::vector<Migration> load_pending(const std::optional<std::string>& up_to_key = std::nullopt);
    // The key of the newest applied versioned migration; "" when none is applied.
    std::string newest_applied_key();
    std::optional<Migration> find(const std::string& key);
    // The registered versioned migration `version`; PM001 for a malformed version, PM005 if none.
    Migration registered(const std::string& version);
    // Applied migrations whose stored text, checksum and applied checksum disagree.
    std::vector<std::string> tampered();

    // Stores m's definition, new or replacing the registered one; with `accept_as_applied`, its
    // checksum also becomes the applied one (a cosmetic edit or a repair of an applied migration).
    void save(const Migration& m, bool accept_as_applied);
    // The caller registered m's current definition again, unchanged: it vouches for it (trust.cpp).
    void vouch(const Migration& m);
    void mark_applied(const Migration& m, const std::string& duration);
    // Marks m applied as another tool recorded it (migrate_adopt): at `applied_at` by `applied_by` (the
    // tool's words, for display), each defaulting to now and the caller when the tool's table has none.
    void mark_adopted(const Migration& m, const std::optional<std::string>& applied_at,
                      const std::optional<std::string>& applied_by, const std::string& duration);
    void mark_unapplied(const Migration& m);
    void set_nontx_progress(const Migration& m, std::optional<int> done);
    // Appends e to pgmig.history; returns the row's id.
    int64 record(const HistoryEntry& e);
    // The id of a history row to be written later (record_runs), in the order of the others.
    int64 next_history_id();
    // What record_runs writes: each run marked applied with an "apply" or a "baseline" history row, or
    // marked not applied with a "rollback" row.
    enum class RunAction { apply, baseline, rollback };
    // Marks `runs` applied or not and appends their history rows, in one statement: as mark_applied or
    // mark_unapplied and record for each would.
    void record_runs(const std::vector<FinishedRun>& runs, RunAction action);
    // Records the live schema as the one the ledger now expects (migrate_drift's baseline): derived
    // from the newest snapshot and the objects `changes` collected while the change ran, where it can
    // be (pgmig.snapshot_underivable()); else, and without `changes`, the whole schema described.
    void save_snapshot(const std::string& reason, const touched::Collection* changes = nullptr);
    // Why the next snapshot cannot be derived from the newest one (pgmig.snapshot_underivable()); none when
    // it can, which is when pgmig.expected_objects describes the live schema.
    std::optional<std::string> snapshot_underivable();
    // Whether the live schema is what pgmig.expected_objects says wherever a change that touched `touched`
    // could have changed it (the objects expect_changes() would describe again): the number of live objects
    // compared, or none when one differs.
    std::optional<int> expected_unchanged(const std::set<touched::Address>& touched);
    // The PostgreSQL major version the latest snapshot was taken on (15 for pgmig 0.1.0's, which
    // ran on 15 only); none when there is no snapshot.
    std::optional<int> expected_snapshot_major();

    const Caller& caller() const { return caller_; }
    pg::Spi& spi() { return spi_; }
    Oid owner() const { return owner_; }

  private:
    Migration from_row(const std::vector<std::optional<std::string>>& row);

    pg::Spi& spi_;
    Caller caller_;
    Oid owner_;  // of the extension, hence of the ledger tables
};

// The key of a migration: version_sort_key of its version, or 0xff + name for a repeatable one
// (no version group is 255 digits long, so no versioned key starts with 0xff), as bytea text.
std::string versioned_key(const std::string& version);

// The next id of pgmig.<table>'s identity column, taken without touching the session's lastval() (an
// internal insert passes it with OVERRIDING SYSTEM VALUE).
std::string next_id(const char* table);

// PM001 unless `version` is digits separated by dots.
void check_version(const std::string& version);
std::string repeatable_key(const std::string& name);

}  // namespace pgmig
