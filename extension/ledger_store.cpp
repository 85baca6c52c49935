// The ledger tables: loading rows, writing them as the ledger owner, appending history.
// Before PostgreSQL's headers, whose port.h redefines snprintf as a macro nlohmann-json trips over.
#include <nlohmann/json.hpp>

#include "ledger_store.hpp"
#include "plan_freshness.hpp"

extern "C" {
#include "postgres.h"
#include "access/xlog.h"
#include "catalog/dependency.h"
#include "catalog/namespace.h"
#include "catalog/pg_type_d.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/lsyscache.h"
}

#include <fmt/format.h>

#include <algorithm>
#include <utility>

#include "changed_pages.hpp"
#include "common/array_literal.hpp"
#include "common/version.hpp"
#include "ledger_wait.hpp"
#include "pg/boundary.hpp"
#include "quiet_sequence.hpp"
#include "settings.hpp"
#include "pg/compat.hpp"

namespace pgmig {

namespace {

std::string bytea_text(const std::string& bytes) {
    static constexpr char hex[] = "0123456789abcdef";
    std::string out = "\\x";
    for (const unsigned char c : bytes) {
        out.push_back(hex[c >> 4]);
        out.push_back(hex[c & 0x0f]);
    }
    return out;
}

// Every statement of the ledger is prepared once per backend and kept (they run for every
// migration registered or applied); PostgreSQL's plan cache revalidates them after DDL.
// Like all of pgmig's SQL they run with search_path pinned (pg::Spi) and also name every function,
// type and operator by its schema, so that nothing planted on a search_path can be picked up.
SPIPlanPtr g_plans[23] = {};

constexpr const char* kColumns =
    "version_key, version, name, up_sql, down_sql, options::pg_catalog.text, checksum, applied_at IS NOT NULL, "
    "applied_checksum, nontx_progress, registered_by, pg_catalog.array_to_json(vouched_by)::pg_catalog.text";

}  // namespace

std::string versioned_key(const std::string& version) { return bytea_text(common::version_sort_key(version)); }
std::string repeatable_key(const std::string& name) { return bytea_text("\xff" + name); }

void check_version(const std::string& version) {
    if (auto problem = common::version_problem(version)) {
        throw Error(sqlstate::invalid_version, fmt::format("invalid migration version \"{}\": {}", version, *problem),
                    {}, "a version is digits separated by dots, such as 3, 1.10 or 20240101120000");
    }
}

std::string Migration::label() const {
    return version ? fmt::format("migration {} \"{}\"", *version, name)
                   : fmt::format("repeatable migration \"{}\"", name);
}

Caller current_caller() {
    const Oid user = GetUserId();
    return caller_as(pg::call([user] { return GetUserNameFromId(user, false); }));
}

Caller caller_as(std::string user) {
    const char* run = settings::deploy_run();
    return Caller{std::move(user), run[0] != '\0' ? std::optional<std::string>(run) : std::nullopt};
}

namespace {

std::string role_name(Oid role) {
    return pg::call([role] { return GetUserNameFromId(role, false); });
}

// Who registers, as registered_by records it: the session's user (the role that logged in, unless a
// superuser SET SESSION AUTHORIZATION), the identity approvals are recorded by, so that SET ROLE cannot
// make an author's own approval count.
std::string author() { return role_name(GetSessionUserId()); }

// The roles a registration vouches for the script as (vouched_by): every role whose rights the session
// has. The current user and, unless SET ROLE is refused here (SECURITY DEFINER, security-restricted
// operation), the session's user and the role that logged in, which the session could switch back to.
// Three at most, padded with NULLs, as the ledger's statements take them.
std::vector<pg::Param> acting_roles() {
    std::vector<std::string> roles{role_name(GetUserId())};
    if (!InLocalUserIdChange() && !InSecurityRestrictedOperation()) {
        for (const Oid role : {GetSessionUserId(), GetAuthenticatedUserId()}) {
            std::string n = role_name(role);
            if (std::find(roles.begin(), roles.end(), n) == roles.end()) roles.push_back(std::move(n));
        }
    }
    std::vector<pg::Param> out;
    for (size_t i = 0; i < 3; ++i) {
        out.push_back({NAMEOID, i < roles.size() ? std::optional(roles[i]) : std::nullopt});
    }
    return out;
}

}  // namespace

// Without nextval(), so that the caller's lastval() is still its own after migrate_apply() and
// friends (see quiet_sequence.hpp).
std::string next_id(const char* table) {
    const int64 id = pg::call([table] {
        const Oid relid = get_relname_relid(table, get_namespace_oid("pgmig", false));
        if (!OidIsValid(relid)) elog(ERROR, "table pgmig.%s does not exist", table);
        return quiet_nextval(pg::identity_sequence(relid, get_attnum(relid, "id")));
    });
    return std::to_string(id);
}

AsLedgerOwner::AsLedgerOwner(Oid owner) : saved_user_(InvalidOid), saved_context_(0) {
    GetUserIdAndSecContext(&saved_user_, &saved_context_);
    SetUserIdAndSecContext(owner, saved_context_ | SECURITY_LOCAL_USERID_CHANGE);
}

AsLedgerOwner::~AsLedgerOwner() { SetUserIdAndSecContext(saved_user_, saved_context_); }

Oid ledger_owner(pg::Spi& spi) {
    const pg::Rows rows = spi.query_prepared(
        g_plans[0], "SELECT extowner FROM pg_catalog.pg_extension WHERE extname OPERATOR(pg_catalog.=) 'pgmig'", {},
        SPI_OK_SELECT);
    if (rows.rows.empty()) {
        throw Error(sqlstate::internal_error, "the pgmig extension is not installed in this database", {},
                    "CREATE EXTENSION pgmig, or connect to the database that has it");
    }
    return static_cast<Oid>(std::stoul(*rows.rows[0][0]));
}

LedgerStore::LedgerStore(pg::Spi& spi, Caller caller)
    : spi_(spi), caller_(std::move(caller)), owner_(ledger_owner(spi)) {}

void LedgerStore::lock(const char* function) {
    wait_for_ledger_lock(spi_, function);
    // Whatever runs next under the lock (scripts, describes, snapshots) uses plans made for today's catalogs.
    plan_freshness::replan_if_catalogs_grew();
}

Migration LedgerStore::from_row(const std::vector<std::optional<std::string>>& row) {
    Migration m;
    m.key = *row[0];
    m.version = row[1];
    m.name = *row[2];
    m.up_sql = *row[3];
    m.down_sql = row[4];
    m.checksum = *row[6];
    m.applied = *row[7] == "t";
    m.applied_checksum = row[8];
    if (row[9]) m.nontx_progress = std::stoi(*row[9]);
    m.registered_by = *row[10];
    for (const auto& role : nlohmann::json::parse(row[11].value_or("[]"))) m.vouched_by.push_back(role);
    m.options_json = *row[5];
    m.options = parse_options(m.options_json, OptionsOf::migration, m.label());
    return m;
}

std::vector<Migration> LedgerStore::load_all() {
    const pg::Rows rows = spi_.query_prepared(
        g_plans[2], fmt::format("SELECT {} FROM pgmig.migrations ORDER BY version_key", kColumns).c_str(), {},
        SPI_OK_SELECT);
    std::vector<Migration> out;
    out.reserve(rows.rows.size());
    for (const auto& row : rows.rows) out.push_back(from_row(row));
    return out;
}

std::vector<Migration> LedgerStore::load_pending(const std::optional<std::string>& up_to_key) {
    // (the first condition is the predicate of the index migrations_pending)
    const std::string pending =
        fmt::format("SELECT {} FROM pgmig.migrations WHERE (applied_at IS NULL OR version IS NULL) AND CASE WHEN "
                    "version IS NULL "
                    "THEN (applied_checksum OPERATOR(pg_catalog.=) checksum) IS NOT TRUE ELSE applied_at IS NULL END ",
                    kColumns);
    const pg::Rows rows =
        up_to_key ? spi_.query_prepared(g_plans[20],
                                        (pending + "AND version_key OPERATOR(pg_catalog.<=) $1 ORDER BY version_key")
                                            .c_str(),
                                        {{BYTEAOID, *up_to_key}}, SPI_OK_SELECT)
                  : spi_.query_prepared(g_plans[12], (pending + "ORDER BY version_key").c_str(), {}, SPI_OK_SELECT);
    std::vector<Migration> out;
    out.reserve(rows.rows.size());
    for (const auto& row : rows.rows) out.push_back(from_row(row));
    return out;
}

std::string LedgerStore::newest_applied_key() {
    const pg::Rows rows = spi_.query_prepared(
        g_plans[13],
        "SELECT version_key FROM pgmig.migrations WHERE version IS NOT NULL AND applied_at IS NOT NULL "
        "ORDER BY version_key DESC LIMIT 1",
        {}, SPI_OK_SELECT);
    if (rows.rows.empty() || !rows.rows[0][0]) return {};
    return *rows.rows[0][0];
}

std::optional<Migration> LedgerStore::find(const std::string& key) {
    const pg::Rows rows = spi_.query_prepared(
        g_plans[3],
        // No FOR UPDATE: every writer of the ledger holds the advisory lock already.
        fmt::format("SELECT {} FROM pgmig.migrations WHERE version_key OPERATOR(pg_catalog.=) $1", kColumns).c_str(),
        {{BYTEAOID, key}}, SPI_OK_SELECT);
    if (rows.rows.empty()) return std::nullopt;
    return from_row(rows.rows.front());
}

Migration LedgerStore::registered(const std::string& version) {
    check_version(version);
    auto m = find(versioned_key(version));
    if (!m || !m->version) {
        throw Error(sqlstate::unknown_version, fmt::format("version {} is not registered", version), {},
                    "see SELECT * FROM migrate_status() for the registered versions; migrate_register adds one");
    }
    return *m;
}

namespace {

// The rows of pgmig.migrations the tamper check refuses: applied, and the stored up script does not
// hash to its checksum, or (versioned) the checksum is not the one it was applied with.
constexpr const char* kTamperedRows =
    "SELECT coalesce(version, name) FROM pgmig.migrations WHERE applied_at IS NOT NULL "
    "AND (pgmig.script_checksum(up_sql) OPERATOR(pg_catalog.<>) checksum "
    // a repeatable migration's applied checksum lags behind until it runs again;
    // (IS DISTINCT FROM looks its = up on search_path: spelled out with checksum
    // NOT NULL, "not equal or NULL")
    "OR (version IS NOT NULL AND (applied_checksum OPERATOR(pg_catalog.=) checksum) IS NOT TRUE))";

// Past this many line pointers of changed pages, every row is verified: a sequential scan then costs
// about as much as fetching them one by one.
constexpr size_t kMaxChangedTuples = 20000;

}  // namespace

std::vector<std::string> LedgerStore::tampered() {
    const Oid rel = pg::call([] { return get_relname_relid("migrations", get_namespace_oid("pgmig", false)); });
    // Held, no other transaction has a change of the ledger's rows in progress (this lock waits for
    // nobody and is kept to the end of the transaction): what this check sees is all there is until
    // it commits, so it may record how far it verified. Not held, it verifies as thoroughly and
    // records nothing: an uncommitted change it could not see is on a page the next check reads.
    const bool alone = pg::call([rel] { return ConditionalLockRelationOid(rel, ShareLock); });
    std::optional<std::string> verified_storage;
    XLogRecPtr verified_through = InvalidXLogRecPtr;
    {
        AsLedgerOwner owner(owner_);
        const pg::Rows state = spi_.query_prepared(
            g_plans[17], "SELECT storage, verified_through::pg_catalog.text FROM pgmig.ledger_verified", {},
            SPI_OK_SELECT);
        if (!state.rows.empty()) {
            verified_storage = state.rows[0].at(0);
            verified_through = changed_pages::parse_lsn(state.rows[0].at(1).value_or(""));
        }
    }
    const changed_pages::Pages pages = changed_pages::since(rel, verified_through, kMaxChangedTuples);
    const bool incremental =
        pages.logged && verified_storage == pages.storage && !XLogRecPtrIsInvalid(verified_through) && !pages.too_many;
    const pg::Rows rows =
        incremental
            ? spi_.query_prepared(
                  g_plans[18],
                  fmt::format("{} AND ctid OPERATOR(pg_catalog.=) ANY ($1::pg_catalog.tid[]) ORDER BY version_key",
                              kTamperedRows)
                      .c_str(),
                  {{TIDARRAYOID, pages.tuples}}, SPI_OK_SELECT)
            : spi_.query_prepared(g_plans[4], fmt::format("{} ORDER BY version_key", kTamperedRows).c_str(), {},
                                  SPI_OK_SELECT);
    std::vector<std::string> out;
    for (const auto& row : rows.rows) out.push_back(*row[0]);
    const bool recordable = pages.logged && !pg::call([] { return RecoveryInProgress(); });
    if (out.empty() && alone && recordable && (!incremental || pages.changed > 0)) {
        AsLedgerOwner owner(owner_);
        spi_.query_prepared(g_plans[19],
                            "INSERT INTO pgmig.ledger_verified AS v (storage, verified_through) VALUES ($1, $2) "
                            "ON CONFLICT (one) DO UPDATE SET storage = EXCLUDED.storage, "
                            "verified_through = EXCLUDED.verified_through, verified_at = EXCLUDED.verified_at",
                            {{TEXTOID, pages.storage}, {PG_LSNOID, changed_pages::lsn_text(changed_pages::wal_end())}},
                            SPI_OK_INSERT);
    }
    return out;
}

void LedgerStore::save(const Migration& m, bool accept_as_applied) {
    const std::vector<pg::Param> vouchers = acting_roles();  // before the switch to the owner
    AsLedgerOwner owner(owner_);
    spi_.query_prepared(
        g_plans[5],
        "INSERT INTO pgmig.migrations AS m (version_key, version, name, up_sql, down_sql, options, checksum, "
        "registered_by, vouched_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, "
        "pg_catalog.array_remove(ARRAY[$10, $11, $12]::pg_catalog.name[], NULL)) "
        "ON CONFLICT (version_key) DO UPDATE SET version = EXCLUDED.version, name = EXCLUDED.name, "
        "up_sql = EXCLUDED.up_sql, down_sql = EXCLUDED.down_sql, options = EXCLUDED.options, "
        "checksum = EXCLUDED.checksum, "
        "applied_checksum = CASE WHEN $9 THEN EXCLUDED.checksum ELSE m.applied_checksum END, "
        // The author of an unchanged up script stays its author (who may not approve it); whoever
        // changed the definition is the only one vouching for it now.
        "registered_by = CASE WHEN m.checksum OPERATOR(pg_catalog.=) EXCLUDED.checksum THEN m.registered_by "
        "ELSE EXCLUDED.registered_by END, "
        "registered_at = pg_catalog.clock_timestamp(), vouched_by = EXCLUDED.vouched_by",
        {{BYTEAOID, m.key},
         {TEXTOID, m.version},
         {TEXTOID, m.name},
         {TEXTOID, m.up_sql},
         {TEXTOID, m.down_sql},
         {JSONBOID, m.options_json},
         {TEXTOID, m.checksum},
         {NAMEOID, author()},
         {BOOLOID, std::string(accept_as_applied ? "t" : "f")},
         vouchers[0],
         vouchers[1],
         vouchers[2]},
        SPI_OK_INSERT);
}

void LedgerStore::vouch(const Migration& m) {
    const std::vector<pg::Param> vouchers = acting_roles();  // before the switch to the owner
    AsLedgerOwner owner(owner_);
    spi_.query_prepared(
        g_plans[1],
        "UPDATE pgmig.migrations m SET vouched_by = m.vouched_by OPERATOR(pg_catalog.||) "
        "ARRAY(SELECT r FROM pg_catalog.unnest(ARRAY[$2, $3, $4]::pg_catalog.name[]) WITH ORDINALITY AS u (r, n) "
        "WHERE r IS NOT NULL AND NOT r OPERATOR(pg_catalog.=) ANY (m.vouched_by) ORDER BY n) "
        "WHERE m.version_key OPERATOR(pg_catalog.=) $1 AND NOT pg_catalog.array_remove(ARRAY[$2, $3, "
        "$4]::pg_catalog.name[], NULL) OPERATOR(pg_catalog.<@) m.vouched_by",
        {{BYTEAOID, m.key}, vouchers[0], vouchers[1], vouchers[2]}, SPI_OK_UPDATE);
}

void LedgerStore::mark_applied(const Migration& m, const std::string& duration) {
    AsLedgerOwner owner(owner_);
    spi_.query_prepared(g_plans[6],
                        "UPDATE pgmig.migrations SET applied_at = pg_catalog.clock_timestamp(), applied_by = $2, "
                        "applied_checksum = checksum, duration = $3::pg_catalog.interval, nontx_progress = NULL "
                        "WHERE version_key OPERATOR(pg_catalog.=) $1",
                        {{BYTEAOID, m.key}, {NAMEOID, caller_.current_user}, {TEXTOID, duration}}, SPI_OK_UPDATE);
}

void LedgerStore::mark_adopted(const Migration& m, const std::optional<std::string>& applied_at,
                               const std::optional<std::string>& applied_by, const std::string& duration) {
    AsLedgerOwner owner(owner_);
    spi_.query_prepared(g_plans[11],
                        "UPDATE pgmig.migrations SET applied_at = coalesce($2::pg_catalog.timestamptz, "
                        "pg_catalog.clock_timestamp()), applied_by = coalesce($3::pg_catalog.name, $4), "
                        "applied_checksum = checksum, duration = $5::pg_catalog.interval, nontx_progress = NULL "
                        "WHERE version_key OPERATOR(pg_catalog.=) $1",
                        {{BYTEAOID, m.key},
                         {TEXTOID, applied_at},
                         {TEXTOID, applied_by},
                         {NAMEOID, caller_.current_user},
                         {TEXTOID, duration}},
                        SPI_OK_UPDATE);
}

void LedgerStore::mark_unapplied(const Migration& m) {
    AsLedgerOwner owner(owner_);
    spi_.query_prepared(g_plans[7],
                        "UPDATE pgmig.migrations SET applied_at = NULL, applied_by = NULL, applied_checksum = NULL, "
                        "duration = NULL, nontx_progress = NULL WHERE version_key OPERATOR(pg_catalog.=) $1",
                        {{BYTEAOID, m.key}}, SPI_OK_UPDATE);
}

void LedgerStore::set_nontx_progress(const Migration& m, std::optional<int> done) {
    AsLedgerOwner owner(owner_);
    spi_.query_prepared(
        g_plans[8], "UPDATE pgmig.migrations SET nontx_progress = $2 WHERE version_key OPERATOR(pg_catalog.=) $1",
        {{BYTEAOID, m.key}, {INT4OID, done ? std::optional(std::to_string(*done)) : std::nullopt}}, SPI_OK_UPDATE);
}

namespace {

// This database as object OIDs are valid in it: a restore or a copy gets new OIDs (and another OID or
// system identifier), and pg_upgrade's are checked by the major version.
std::string database_identity() {
    return fmt::format("{}/{}", static_cast<unsigned long long>(GetSystemIdentifier()), MyDatabaseId);
}

}  // namespace

void LedgerStore::save_snapshot(const std::string& reason, const touched::Collection* changes) {
    AsLedgerOwner owner(owner_);
    const std::string database = database_identity();
    std::optional<std::string> full_because;
    if (changes == nullptr) {
        full_because = reason + " records the whole schema";
    } else if (!changes->underivable().empty()) {
        full_because = changes->underivable();
    } else if (settings::snapshot_scope() == settings::SnapshotScope::full) {
        full_because = "pgmig.snapshot_scope = full";
    } else {
        full_because = snapshot_underivable();
    }
    pg::Rows described;
    if (full_because) {
        described = spi_.query_prepared(g_plans[15], "SELECT pgmig.expect_whole_schema()", {}, SPI_OK_SELECT);
    } else {
        const touched::OidArrays arrays = touched::oid_arrays(changes->addresses());
        described =
            spi_.query_prepared(g_plans[16], "SELECT pgmig.expect_changes($1::pg_catalog.oid[], $2::pg_catalog.oid[])",
                                {{OIDARRAYOID, arrays.classids}, {OIDARRAYOID, arrays.objids}}, SPI_OK_SELECT);
    }
    spi_.query_prepared(
        g_plans[9],
        "INSERT INTO pgmig.snapshots (id, reason, server_major, audit_id, database_identity, roles, derived, "
        "full_because, described) OVERRIDING SYSTEM VALUE "
        "SELECT $2, $1, $3, (SELECT pg_catalog.max(id) FROM pgmig.ddl_audit), $4, pgmig.role_names(), $5, $6, $7",
        {{TEXTOID, reason},
         {INT8OID, next_id("snapshots")},
         {INT4OID, std::to_string(PG_VERSION_NUM / 10000)},
         {TEXTOID, database},
         {BOOLOID, full_because ? "false" : "true"},
         {TEXTOID, full_because},
         {INT4OID, described.rows.at(0).at(0)}},
        SPI_OK_INSERT);
}

std::optional<std::string> LedgerStore::snapshot_underivable() {
    AsLedgerOwner owner(owner_);
    return spi_
        .query_prepared(g_plans[14], "SELECT pgmig.snapshot_underivable($1)", {{TEXTOID, database_identity()}},
                        SPI_OK_SELECT)
        .rows.at(0)
        .at(0);
}

std::optional<int> LedgerStore::expected_unchanged(const std::set<touched::Address>& touched) {
    AsLedgerOwner owner(owner_);
    const touched::OidArrays arrays = touched::oid_arrays(touched);
    const std::optional<std::string> compared =
        spi_.query_prepared(g_plans[22], "SELECT pgmig.expected_unchanged($1::pg_catalog.oid[], $2::pg_catalog.oid[])",
                            {{OIDARRAYOID, arrays.classids}, {OIDARRAYOID, arrays.objids}}, SPI_OK_SELECT)
            .rows.at(0)
            .at(0);
    if (!compared) return std::nullopt;
    return std::stoi(*compared);
}

std::optional<int> LedgerStore::expected_snapshot_major() {
    const pg::Rows rows = spi_.query(
        "SELECT coalesce(server_major, 15) FROM pgmig.snapshots ORDER BY id DESC LIMIT 1", {}, SPI_OK_SELECT);
    if (rows.rows.empty() || !rows.rows[0][0]) return std::nullopt;
    return std::stoi(*rows.rows[0][0]);
}

int64 LedgerStore::next_history_id() { return std::stoll(next_id("history")); }

void LedgerStore::record_runs(const std::vector<FinishedRun>& runs, RunAction action) {
    if (runs.empty()) return;
    std::vector<std::optional<std::string>> keys, versions, names, checksums, durations, ended, ids;
    for (const FinishedRun& run : runs) {
        keys.emplace_back(run.migration->key);
        versions.emplace_back(run.migration->version);
        names.emplace_back(run.migration->name);
        checksums.emplace_back(run.migration->checksum);
        durations.emplace_back(run.duration);
        ended.emplace_back(std::to_string(run.ended));
        ids.emplace_back(std::to_string(run.history_id));
    }
    AsLedgerOwner owner(owner_);
    // Each run's time is its own (a TimestampTz: microseconds since 2000-01-01 UTC), whatever the
    // session's DateStyle or TimeZone, which the migrations themselves may have changed.
    spi_.query_prepared(
        g_plans[21],
        "WITH run AS (SELECT r.key, r.version, r.name, r.checksum, r.duration::pg_catalog.interval AS duration, "
        "'2000-01-01 00:00:00+00'::pg_catalog.timestamptz OPERATOR(pg_catalog.+) (r.ended::pg_catalog.float8 "
        "OPERATOR(pg_catalog.*) '1 microsecond'::pg_catalog.interval) AS at, r.id "
        "FROM ROWS FROM (pg_catalog.unnest($1::pg_catalog.bytea[]), pg_catalog.unnest($2::pg_catalog.text[]), "
        "pg_catalog.unnest($3::pg_catalog.text[]), pg_catalog.unnest($4::pg_catalog.text[]), "
        "pg_catalog.unnest($5::pg_catalog.text[]), pg_catalog.unnest($6::pg_catalog.int8[]), "
        "pg_catalog.unnest($7::pg_catalog.int8[])) "
        "AS r (key, version, name, checksum, duration, ended, id)), "
        "marked AS (UPDATE pgmig.migrations m SET applied_at = CASE WHEN $8 THEN run.at END, "
        "applied_by = CASE WHEN $8 THEN $9 END, applied_checksum = CASE WHEN $8 THEN m.checksum END, "
        "duration = CASE WHEN $8 THEN run.duration END, nontx_progress = NULL "
        "FROM run WHERE m.version_key OPERATOR(pg_catalog.=) run.key) "
        "INSERT INTO pgmig.history (id, version, name, action, at, duration, attempt, current_user_name, checksum, "
        "deploy_run) OVERRIDING SYSTEM VALUE "
        "SELECT run.id, run.version, run.name, $11, run.at, run.duration, 1, $9, run.checksum, $10 "
        "FROM run ORDER BY run.id",
        {{TEXTOID, common::text_array_literal(keys)},
         {TEXTOID, common::text_array_literal(versions)},
         {TEXTOID, common::text_array_literal(names)},
         {TEXTOID, common::text_array_literal(checksums)},
         {TEXTOID, common::text_array_literal(durations)},
         {TEXTOID, common::text_array_literal(ended)},
         {TEXTOID, common::text_array_literal(ids)},
         {BOOLOID, std::string(action == RunAction::rollback ? "f" : "t")},
         {NAMEOID, caller_.current_user},
         {TEXTOID, caller_.deploy_run},
         {TEXTOID, std::string(action == RunAction::apply      ? "apply"
                               : action == RunAction::baseline ? "baseline"
                                                               : "rollback")}},
        SPI_OK_INSERT);
}

int64 LedgerStore::record(const HistoryEntry& e) {
    const std::string id = next_id("history");
    AsLedgerOwner owner(owner_);
    spi_.query_prepared(
        g_plans[10],
        "INSERT INTO pgmig.history (id, version, name, action, duration, attempt, current_user_name, checksum, "
        "previous_checksum, sqlstate, message, reason, deploy_run) OVERRIDING SYSTEM VALUE "
        "VALUES ($12, $1, $2, $3, $4::pg_catalog.interval, $5, $6, $7, $8, $9, $10, $11, $13)",
        {{TEXTOID, e.version},
         {TEXTOID, e.name},
         {TEXTOID, e.action},
         {TEXTOID, e.duration},
         {INT4OID, std::to_string(e.attempt)},
         {NAMEOID, caller_.current_user},
         {TEXTOID, e.checksum},
         {TEXTOID, e.previous_checksum},
         {TEXTOID, e.sqlstate},
         {TEXTOID, e.message},
         {TEXTOID, e.reason},
         {INT8OID, id},
         {TEXTOID, caller_.deploy_run}},
        SPI_OK_INSERT);
    return std::stoll(id);
}

}  // namespace pgmig
