// The SQL API of the ledger: register, apply, rollback, repair, baseline and the progress calls the
// client makes for non-transactional migrations.
extern "C" {
#include "postgres.h"
#include "access/xact.h"
#include "catalog/pg_type_d.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"
}

#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/checksum.hpp"
#include "common/version.hpp"
#include "dry_run.hpp"
#include "ledger_store.hpp"
#include "lint.hpp"
#include "pg/boundary.hpp"
#include "pg/spi.hpp"
#include "pg/values.hpp"
#include "runner.hpp"
#include "script.hpp"
#include "settings.hpp"
#include "trust.hpp"

namespace pgmig {

void refuse_snapshot_isolation(const char* function) {
    if (IsolationUsesXactSnapshot()) {
        throw Error(sqlstate::isolation_not_supported,
                    fmt::format("{}() cannot run in a REPEATABLE READ or SERIALIZABLE transaction", function),
                    "its snapshot was taken before the ledger lock, so it could miss migrations applied meanwhile",
                    fmt::format("call {}() in a READ COMMITTED transaction (the default)", function));
    }
}

void refuse_tampered(LedgerStore& store) {
    const std::vector<std::string> bad = store.tampered();
    if (bad.empty()) return;
    std::string list;
    for (size_t i = 0; i < bad.size() && i < 10; ++i) list += (i ? ", " : "") + bad[i];
    if (bad.size() > 10) list += fmt::format(" and {} more", bad.size() - 10);
    throw Error(sqlstate::ledger_tampered,
                fmt::format("the ledger was changed outside pgmig: the stored scripts of {} no longer match the "
                            "checksums they were applied with",
                            list),
                "SELECT * FROM migrate_verify() lists every problem",
                "find out who changed the ledger; if the stored text is the truth, accept it with "
                "migrate_repair(version, reason => '...')");
}

namespace {

// migrate_apply/rollback/baseline's result rows: (version, name, action, duration), and for
// migrate_apply a fifth column, report (NULL on real runs).
void return_rows(FunctionCallInfo fcinfo, const std::vector<RunResult>& results, bool with_report = false) {
    std::vector<pg::TextRow> rows;
    rows.reserve(results.size());
    for (const RunResult& r : results) {
        rows.push_back({r.version.empty() ? std::nullopt : std::optional(r.version), r.name, r.action, r.duration});
        if (with_report) rows.back().emplace_back(std::nullopt);
    }
    pg::return_rows(fcinfo, rows);
}

std::string key_of(const std::string& version) {
    check_version(version);
    return versioned_key(version);
}

// The registered versioned migration `version`, or PM005.

}  // namespace

// The migrations migrate_apply would run, in order: pending versioned ones up to `target`, then
// (without a target) the repeatable ones whose script changed since they last ran. Read from the
// ledger's pending rows only (LedgerStore::load_pending) and the newest applied key.
// With `allow_nontransactional` (migrate_plan), non-transactional migrations stay in the plan.
std::vector<Migration> apply_plan(LedgerStore& store, const std::optional<std::string>& target_key,
                                  bool allow_nontransactional) {
    const std::vector<Migration> all = store.load_pending(target_key);
    const std::string newest_applied = store.newest_applied_key();
    std::vector<Migration> plan;
    std::vector<std::string> out_of_order;
    for (const Migration& m : all) {
        if (!m.version || m.applied) continue;
        if (target_key && m.key > *target_key) continue;
        if (m.key < newest_applied) out_of_order.push_back(*m.version);
        plan.push_back(m);
    }
    if (!out_of_order.empty() && settings::out_of_order() == settings::OutOfOrder::error) {
        std::string list;
        for (const auto& v : out_of_order) list += (list.empty() ? "" : ", ") + v;
        throw Error(sqlstate::out_of_order,
                    fmt::format("pending migrations older than the newest applied one: {}", list),
                    "they were probably merged from another branch after newer migrations had been applied",
                    "check that they do not conflict with the newer ones, then SET pgmig.out_of_order = allow for "
                    "this run (or give them new versions)");
    }
    if (!target_key) {
        for (const Migration& m : all) {
            if (!m.version && m.applied_checksum != m.checksum) plan.push_back(m);
        }
    }
    for (const Migration& m : plan) {
        if (!m.options.transactional && !allow_nontransactional) {
            throw Error(sqlstate::needs_no_transaction,
                        fmt::format("{} is non-transactional and cannot run inside migrate_apply()", m.label()),
                        m.nontx_progress ? fmt::format("an earlier run stopped after statement {}", *m.nontx_progress)
                                         : std::string(),
                        "apply it with the client (pgmig apply), which runs it statement by statement outside a "
                        "transaction; or apply up to the version before it with migrate_apply(target => ...)");
        }
    }
    return plan;
}

namespace {

// migrate_apply/rollback/rollback_to's result rows: (version, name, action, duration, report); a dry run's
// action is dry_run and its report says what the script would do (and a down script drop: dry_run.cpp).
void return_run_rows(FunctionCallInfo fcinfo, const std::vector<RunResult>& results,
                     const std::vector<DryRunReport>& reports, bool dry_run) {
    if (!dry_run) {
        return_rows(fcinfo, results, true);
        return;
    }
    // As a real run would: a script's own failure is an error (the rehearsal is rolled back already).
    for (const DryRunReport& r : reports) {
        if (r.error) throw Error(*r.error);
    }
    std::vector<pg::TextRow> rows;
    for (const DryRunReport& r : reports) {
        rows.push_back(
            {r.version, r.name, r.outcome == "ok" ? std::string("dry_run") : r.outcome, r.duration, r.report_json()});
    }
    pg::return_rows(fcinfo, rows);
}

}  // namespace
}  // namespace pgmig

using namespace pgmig;
using pg::required_text_arg;
using pg::text_arg;
using pg::text_datum;

// migrate_register(version, name, up_sql, down_sql DEFAULT NULL, options jsonb DEFAULT '{}') -> checksum
PGMIG_FUNCTION(migrate_register) {
    const std::optional<std::string> version = text_arg(fcinfo, 0);
    const std::string name = required_text_arg(fcinfo, 1, "name");
    const std::string up_sql = required_text_arg(fcinfo, 2, "up script");
    const std::optional<std::string> down_sql = text_arg(fcinfo, 3);
    std::string options_json = "{}";
    if (!PG_ARGISNULL(4)) {
        options_json =
            pg::call([fcinfo] { return DatumGetCString(DirectFunctionCall1(jsonb_out, PG_GETARG_DATUM(4))); });
    }

    Migration m;
    m.version = version;
    m.name = name;
    m.options_json = options_json;
    m.options = parse_options(options_json, OptionsOf::migration,
                              version ? fmt::format("migration {}", *version) : "migration \"" + name + "\"");
    lint::check_allow(m.options.allow);  // PM016 now, not first when the migration is linted
    if (m.options.repeatable == version.has_value()) {
        throw Error(sqlstate::invalid_argument,
                    version ? fmt::format("migration {} \"{}\" has a version but is marked repeatable", *version, name)
                            : fmt::format("migration \"{}\" has no version", name),
                    {},
                    "versioned migrations need a version; repeatable ones have none: "
                    "migrate_register(NULL, name, up_sql, options => '{\"repeatable\": true}')");
    }
    if (version) check_version(*version);
    if (name.empty() || name.size() > 200 || name.find_first_of("\n\r") != std::string::npos) {
        throw Error(sqlstate::invalid_argument,
                    fmt::format("invalid name for {}", version ? "migration " + *version : "a repeatable migration"),
                    "a name is 1 to 200 characters on one line", "give the migration a short descriptive name");
    }
    // An up script without a statement is a valid no-op migration (runs_nothing).
    const std::string normalized = common::normalize_script(up_sql);
    m.up_sql = up_sql;
    m.down_sql = down_sql;
    m.checksum = common::sha256_hex(normalized);
    m.key = version ? versioned_key(*version) : repeatable_key(name);

    pg::Spi spi;
    LedgerStore store(spi, current_caller());
    store.lock("migrate_register");
    const std::optional<Migration> old = store.find(m.key);
    if (!old) {
        store.save(m, false);
        return text_datum(m.checksum);
    }
    // Never overwrite a row that was edited behind pgmig's back: registering the file's text
    // would silently heal what migrate_verify() reports. Repair is the explicit way.
    const bool tampered = common::script_checksum(old->up_sql) != old->checksum ||
                          (old->version && old->applied && old->applied_checksum != old->checksum);
    if (tampered) {
        throw Error(sqlstate::ledger_tampered,
                    fmt::format("the ledger row of {} was changed outside pgmig", old->label()),
                    "its stored up script no longer matches the checksum it was registered or applied with; "
                    "SELECT * FROM migrate_verify() shows the details",
                    "find out who changed it; then accept the right text with migrate_repair(version, up_sql, "
                    "reason) (pgmig repair VERSION --reason ...)");
    }
    const bool same_definition =
        old->name == name && old->up_sql == up_sql && old->down_sql == down_sql && old->options_json == options_json;
    if (old->version && old->applied) {
        m.version = old->version;  // an applied version keeps its spelling ("001" stays "001")
        if (old->name != name) {
            throw Error(
                sqlstate::version_conflict,
                fmt::format("version {} is already applied as \"{}\", not \"{}\"", *old->version, old->name, name), {},
                "give the new migration a version of its own");
        }
        if (old->checksum != m.checksum) {
            if (!same_statements(old->up_sql, up_sql)) {
                throw Error(sqlstate::checksum_mismatch,
                            fmt::format("{} is already applied and its up script has changed", m.label()),
                            fmt::format("applied checksum: {}\nnew checksum:     {}\nthe statements differ, not only "
                                        "whitespace, comments or line endings",
                                        old->checksum, m.checksum),
                            "do not edit applied migrations: write a new migration for the change, or, if the new "
                            "text is what was really applied, accept it with migrate_repair(version, up_sql, reason)");
            }
            store.save(m, true);
            store.record(HistoryEntry{m.version, name, "cosmetic_edit", std::nullopt, 1, m.checksum, old->checksum,
                                      std::nullopt, std::nullopt, "only whitespace, comments or line endings changed"});
            const std::string note = fmt::format("{}: recorded as a cosmetic edit (same statements)", m.label());
            const char* text = note.c_str();
            pg::call([text] { ereport(NOTICE, (errmsg_internal("%s", text))); });
            return text_datum(m.checksum);
        }
    }
    if (!same_definition || old->version != m.version) {
        // A pending migration may still be edited; an applied one only in its down script and
        // options; a repeatable one runs again when its checksum changed.
        store.save(m, old->version.has_value() && old->applied);
    } else {
        // The same definition again: the caller vouches for it (trust.cpp lets it run with their rights).
        store.vouch(*old);
    }
    return text_datum(m.checksum);
}

// migrate_apply(target DEFAULT NULL, dry_run DEFAULT false, trust DEFAULT false, require_approvals DEFAULT 0,
//               environment DEFAULT NULL) -> SETOF (version, name, action, duration, report jsonb)
// A dry run rehearses (dry_run.cpp) and reports; nothing of it persists.
PGMIG_FUNCTION(migrate_apply) {
    const std::optional<std::string> target = text_arg(fcinfo, 0);
    const bool dry_run = !PG_ARGISNULL(1) && PG_GETARG_BOOL(1);
    refuse_snapshot_isolation("migrate_apply");
    if (target) check_version(*target);
    const trust::Policy policy = trust::policy(fcinfo, 2, 3, 4, "migrate_apply");

    std::vector<RunResult> results;
    std::vector<DryRunReport> reports;
    {
        pg::Spi spi;
        LedgerStore store(spi, current_caller());
        store.lock("migrate_apply");  // everything below reads the ledger after the lock, in fresh snapshots
        refuse_tampered(store);
        std::optional<std::string> target_key;
        if (target) target_key = store.registered(*target).key;
        const std::vector<Migration> plan = apply_plan(store, target_key);
        // After the lock, on the ledger as it is now: nothing registered meanwhile escapes the checks.
        trust::require_trusted(store, plan, trust::Scripts::up, policy, "migrate_apply");
        if (!dry_run) trust::require_approvals(store, plan, policy, "migrate_apply");
        if (dry_run) {
            reports = pgmig::dry_run(spi, plan);
        } else {
            const auto scripts = parse_plan(plan, Direction::up);
            lint::check_plan(plan);  // pgmig.lint_block: refuse before anything runs
            results = run_plan_and_snapshot(store, spi, plan, scripts, Direction::up, "migrate_apply");
        }
    }
    return_run_rows(fcinfo, results, reports, dry_run);
    return static_cast<Datum>(0);
}

// migrate_plan(target DEFAULT NULL, trust DEFAULT false) -> one row per pending migration: what applying it
// would do.
PGMIG_FUNCTION(migrate_plan) {
    const std::optional<std::string> target = text_arg(fcinfo, 0);
    refuse_snapshot_isolation("migrate_plan");
    if (target) check_version(*target);
    const trust::Policy policy = trust::policy(fcinfo, 1, -1, -1, "migrate_plan");
    std::vector<DryRunReport> reports;
    {
        pg::Spi spi;
        LedgerStore store(spi, current_caller());
        store.lock("migrate_plan");
        refuse_tampered(store);
        std::optional<std::string> target_key;
        if (target) target_key = store.registered(*target).key;
        const std::vector<Migration> plan = apply_plan(store, target_key, true);
        // A rehearsal is rolled back, but what its SQL does outside the transaction (COPY ... TO PROGRAM,
        // dblink) is not: the rehearsed (transactional) migrations need trust as a real run does.
        std::vector<Migration> rehearsed;
        for (const Migration& m : plan) {
            if (m.options.transactional) rehearsed.push_back(m);
        }
        trust::require_trusted(store, rehearsed, trust::Scripts::up, policy, "migrate_plan");
        reports = pgmig::dry_run(spi, plan);
    }
    std::vector<pg::TextRow> rows;
    rows.reserve(reports.size());
    for (const DryRunReport& r : reports) {
        rows.push_back({r.version, r.name, r.rehearsable ? "true" : "false", r.outcome,
                        r.reason.empty() ? std::nullopt : std::optional(r.reason), std::to_string(r.statements),
                        r.duration, r.locks, r.rewritten,
                        r.outcome == "ok" ? std::optional(std::to_string(r.rows_touched)) : std::nullopt,
                        r.catalog_diff, r.lint, "false"});
    }
    pg::return_rows(fcinfo, rows);
    return static_cast<Datum>(0);
}

namespace pgmig {
namespace {

// Rolls back the applied versioned migrations chosen by `choose` (given them newest first); with
// `reports`, rehearses their down scripts instead (nothing persists) and fills it.
std::vector<RunResult> rollback(const std::function<size_t(const std::vector<Migration>&)>& choose,
                                const trust::Policy& policy, const char* function,
                                std::vector<DryRunReport>* reports = nullptr) {
    pg::Spi spi;
    LedgerStore store(spi, current_caller());
    store.lock(function);
    refuse_tampered(store);
    std::vector<Migration> applied;
    for (Migration& m : store.load_all()) {
        if (m.version && m.applied) applied.push_back(std::move(m));
    }
    std::reverse(applied.begin(), applied.end());
    applied.resize(choose(applied));
    trust::require_trusted(store, applied, trust::Scripts::down, policy, function);
    std::vector<std::string> missing;
    for (Migration& m : applied) {
        if (m.down_sql && common::normalize_script(*m.down_sql).find_first_not_of(" \t\n") != std::string::npos) {
            continue;
        }
        if (runs_nothing(m.up_sql)) {
            m.down_sql = m.down_sql.value_or("");  // a no-op migration is rolled back as one
        } else {
            missing.push_back(*m.version);
        }
    }
    if (!missing.empty()) {
        std::string list;
        for (const auto& v : missing) list += (list.empty() ? "" : ", ") + v;
        throw Error(sqlstate::no_down_script, fmt::format("cannot roll back: no down script for {}", list),
                    "nothing was rolled back",
                    "register the migration again with a down script (the -- pgmig:down section), or roll back "
                    "fewer steps");
    }
    if (reports) {  // non-transactional ones are reported not_rehearsable, as migrate_plan() does
        *reports = pgmig::dry_run(spi, applied, Direction::down);
        return {};
    }
    for (const Migration& m : applied) {
        if (!m.options.transactional) {
            throw Error(sqlstate::needs_no_transaction,
                        fmt::format("{} is non-transactional; its down script cannot run in a transaction", m.label()),
                        "nothing was rolled back", "roll it back with the client: pgmig rollback");
        }
    }
    const auto scripts = parse_plan(applied, Direction::down);
    return run_plan_and_snapshot(store, spi, applied, scripts, Direction::down, "migrate_rollback");
}

}  // namespace
}  // namespace pgmig

// migrate_rollback(steps DEFAULT 1, trust DEFAULT false, dry_run DEFAULT false)
//   -> SETOF (version, name, action, duration, report jsonb)
PGMIG_FUNCTION(migrate_rollback) {
    const int steps = PG_ARGISNULL(0) ? 1 : PG_GETARG_INT32(0);
    const bool dry_run = !PG_ARGISNULL(2) && PG_GETARG_BOOL(2);
    refuse_snapshot_isolation("migrate_rollback");
    const trust::Policy policy = trust::policy(fcinfo, 1, -1, -1, "migrate_rollback");
    if (steps < 1) {
        throw Error(sqlstate::invalid_argument, fmt::format("steps must be 1 or more, not {}", steps), {},
                    "to roll back everything, use migrate_rollback_to('0')");
    }
    std::vector<DryRunReport> reports;
    const std::vector<RunResult> results = rollback(
        [steps](const std::vector<Migration>& newest_first) {
            return std::min(newest_first.size(), static_cast<size_t>(steps));
        },
        policy, "migrate_rollback", dry_run ? &reports : nullptr);
    return_run_rows(fcinfo, results, reports, dry_run);
    return static_cast<Datum>(0);
}

// migrate_rollback_to(version, trust DEFAULT false, dry_run DEFAULT false) -> rolls back (or rehearses the
// rollback of) every applied migration newer than `version`.
PGMIG_FUNCTION(migrate_rollback_to) {
    const std::string version = required_text_arg(fcinfo, 0, "version");
    const bool dry_run = !PG_ARGISNULL(2) && PG_GETARG_BOOL(2);
    refuse_snapshot_isolation("migrate_rollback_to");
    const trust::Policy policy = trust::policy(fcinfo, 1, -1, -1, "migrate_rollback_to");
    const std::string key = key_of(version);
    std::vector<DryRunReport> reports;
    const std::vector<RunResult> results = rollback(
        [&key](const std::vector<Migration>& newest_first) {
            size_t n = 0;
            while (n < newest_first.size() && newest_first[n].key > key) ++n;
            return n;
        },
        policy, "migrate_rollback_to", dry_run ? &reports : nullptr);
    return_run_rows(fcinfo, results, reports, dry_run);
    return static_cast<Datum>(0);
}

// migrate_repair(version, up_sql DEFAULT NULL, reason DEFAULT NULL) -> the accepted checksum
PGMIG_FUNCTION(migrate_repair) {
    const std::string version = required_text_arg(fcinfo, 0, "version");
    const std::optional<std::string> new_text = text_arg(fcinfo, 1);
    const std::optional<std::string> reason = text_arg(fcinfo, 2);
    pg::Spi spi;
    LedgerStore store(spi, current_caller());
    store.lock("migrate_repair");
    Migration m = store.registered(version);
    const std::string previous = m.applied_checksum.value_or(m.checksum);
    if (new_text) m.up_sql = *new_text;
    m.checksum = common::script_checksum(m.up_sql);
    store.save(m, m.applied);
    store.record(HistoryEntry{m.version, m.name, "repair", std::nullopt, 1, m.checksum, previous, std::nullopt,
                              std::nullopt, reason});
    return text_datum(m.checksum);
}

// migrate_baseline(version) -> marks every registered migration up to `version` as applied,
// without running it: for a database that already has that schema.
PGMIG_FUNCTION(migrate_baseline) {
    const std::string version = required_text_arg(fcinfo, 0, "version");
    refuse_snapshot_isolation("migrate_baseline");
    std::vector<RunResult> results;
    {
        pg::Spi spi;
        LedgerStore store(spi, current_caller());
        store.lock("migrate_baseline");
        const std::string key = store.registered(version).key;
        const std::vector<Migration> all = store.load_all();
        const std::string zero = interval_text(0);
        std::vector<FinishedRun> marked;  // written in one statement, as an apply writes its runs
        for (const Migration& m : all) {
            if (!m.version || m.applied || m.key > key) continue;
            marked.push_back(FinishedRun{&m, zero, GetCurrentTimestamp(), store.next_history_id()});
            results.push_back(RunResult{*m.version, m.name, "baselined", zero});
        }
        store.record_runs(marked, LedgerStore::RunAction::baseline);
        if (!results.empty()) store.save_snapshot("migrate_baseline");
    }
    return_rows(fcinfo, results);
    return static_cast<Datum>(0);
}

// migrate_record_major_upgrade() -> after pg_upgrade (or a restore into a newer major version), records
// the live schema as the one the ledger expects: the catalogs of another major version describe the
// same objects differently, so migrate_drift() does not compare across them. Only then: on the same
// major version this would silently accept drift.
PGMIG_FUNCTION(migrate_record_major_upgrade) {
    refuse_snapshot_isolation("migrate_record_major_upgrade");
    constexpr int live = PG_VERSION_NUM / 10000;
    int expected = live;
    {
        pg::Spi spi;
        LedgerStore store(spi, current_caller());
        store.lock("migrate_record_major_upgrade");
        expected = store.expected_snapshot_major().value_or(live);
        if (expected != live) store.save_snapshot(fmt::format("major version upgrade from {}", expected));
    }
    if (expected == live) {
        throw Error(sqlstate::invalid_argument,
                    fmt::format("migrate_record_major_upgrade(): the expected schema was recorded on this major "
                                "version (PostgreSQL {}) already",
                                live),
                    "nothing was recorded: on one major version, a difference from the expected schema is drift",
                    "see migrate_drift(); record a change with a migration (pgmig drift --fix or --adopt)");
    }
    return text_datum(fmt::format("recorded the schema on PostgreSQL {} (the previous snapshot was taken on {})",
                                  live, expected));
}

// pgmig.script_checksum(text) -> the text checksum, for SQL that needs to recompute it.
PGMIG_FUNCTION_ANY_SQL(pgmig_script_checksum) {
    const std::string text = *text_arg(fcinfo, 0);  // declared STRICT
    return text_datum(common::script_checksum(text));
}

// The functions below act as the ledger's owner for one fixed query each, so that roles that may not
// read the scripts (pgmig_reader) or write the ledger (pgmig_admin) get exactly one answer or one row:
// SECURITY INVOKER in the catalog, the switch of user made here (AsLedgerOwner) the way PostgreSQL's
// own functions check and act in C. Who may call each is its EXECUTE grant in the install script.

// pgmig.stored_script_checksums(only_key DEFAULT NULL) -> (version_key, stored_checksum): the checksum
// of every registered up script as it is stored. A row edited outside pgmig hashes to something else
// than its checksum column; readers see that (migrate_status, migrate_verify) without seeing the script.
PGMIG_FUNCTION(pgmig_stored_script_checksums) {
    const std::optional<std::string> only_key = pg::arg_as_text(fcinfo, 0);
    std::vector<pg::TextRow> rows;
    {
        pg::Spi spi;
        AsLedgerOwner owner(ledger_owner(spi));
        pg::Rows stored = spi.query(
            "SELECT m.version_key, pgmig.script_checksum(m.up_sql) FROM pgmig.migrations m "
            "WHERE $1::pg_catalog.bytea IS NULL OR m.version_key OPERATOR(pg_catalog.=) $1",
            {{BYTEAOID, only_key}}, SPI_OK_SELECT);
        rows = std::move(stored.rows);
    }
    pg::return_rows(fcinfo, rows);
    return static_cast<Datum>(0);
}

// pgmig.tampered_scripts() -> (version_key, stored_checksum): the rows of stored_script_checksums() whose
// stored up script does not hash to the row's checksum, the ones edited outside pgmig; none in a healthy
// ledger. migrate_status() and migrate_verify() read this instead of every checksum: the scripts are
// hashed here as before (so a tampered row is still found), but no row per migration is copied out of
// SPI, returned and joined back to pgmig.migrations.
PGMIG_FUNCTION(pgmig_tampered_scripts) {
    std::vector<pg::TextRow> rows;
    {
        pg::Spi spi;
        AsLedgerOwner owner(ledger_owner(spi));
        // OFFSET 0: the checksum is computed once per row, not again in the WHERE clause.
        pg::Rows stored = spi.query(
            "SELECT s.version_key, s.stored FROM (SELECT m.version_key, m.checksum, "
            "pgmig.script_checksum(m.up_sql) AS stored FROM pgmig.migrations m OFFSET 0) s "
            "WHERE s.stored OPERATOR(pg_catalog.<>) s.checksum",
            {}, SPI_OK_SELECT);
        rows = std::move(stored.rows);
    }
    pg::return_rows(fcinfo, rows);
    return static_cast<Datum>(0);
}

// pgmig.same_statements_as_registered(version, script) -> whether script has the same statements as
// the registered up script of version (NULL when version is not registered), without showing it.
PGMIG_FUNCTION(pgmig_same_statements_as_registered) {
    const std::string version = *text_arg(fcinfo, 0);  // declared STRICT
    const std::string script = *text_arg(fcinfo, 1);
    std::optional<std::string> registered;
    {
        pg::Spi spi;
        AsLedgerOwner owner(ledger_owner(spi));
        const pg::Rows rows =
            spi.query("SELECT m.up_sql FROM pgmig.migrations m WHERE m.version OPERATOR(pg_catalog.=) $1",
                      {{TEXTOID, version}}, SPI_OK_SELECT);
        if (!rows.rows.empty()) registered = rows.rows.front().at(0);
    }
    if (!registered) PG_RETURN_NULL();
    return BoolGetDatum(same_statements(*registered, script));  // parsed as the caller again
}

// migrate_record_deploy(environment, step, message, duration DEFAULT NULL) -> the history row's id:
// pgmig deploy records a step (backup, succeeded, failed) of a deploy beside the migrations' own rows,
// by the session's role (the deployer who logged in, whatever role it has set).
PGMIG_FUNCTION(migrate_record_deploy) {
    const std::optional<std::string> environment = text_arg(fcinfo, 0);
    const std::optional<std::string> step = text_arg(fcinfo, 1);
    if (environment.value_or("").empty() || !step || (*step != "backup" && *step != "succeeded" && *step != "failed")) {
        throw Error(sqlstate::invalid_argument,
                    fmt::format("cannot record deploy step {} for environment {}", step.value_or("NULL"),
                                environment.value_or("NULL")),
                    {}, "step is backup, succeeded or failed; environment is not empty");
    }
    const char* deployer = pg::call([] { return GetUserNameFromId(GetSessionUserId(), false); });
    pg::Spi spi;
    LedgerStore store(spi, caller_as(deployer));
    return Int64GetDatum(
        store.record(HistoryEntry{std::nullopt, "deploy " + *environment, "deploy", pg::arg_as_text(fcinfo, 3), 1,
                                  std::nullopt, std::nullopt, std::nullopt, text_arg(fcinfo, 2), step}));
}

// pgmig.same_statements(a, b) -> whether two scripts differ only cosmetically.
PGMIG_FUNCTION_ANY_SQL(pgmig_same_statements) {
    const std::string a = *text_arg(fcinfo, 0);  // declared STRICT
    const std::string b = *text_arg(fcinfo, 1);
    return BoolGetDatum(same_statements(a, b));
}
