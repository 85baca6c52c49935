// migrate_test(version): the rollback test of one pending migration. up, down and up again inside a
// subtransaction that is always rolled back, each compared with the schema it must reproduce.
// migrate_apply_tested(version): the same test, and the migration applied when every check passed.
extern "C" {
#include "postgres.h"
#include "catalog/pg_type_d.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/timestamp.h"
}

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "audit.hpp"
#include "common/checksum.hpp"
#include "common/scratch_database.hpp"
#include "ledger_store.hpp"
#include "lint.hpp"
#include "trust.hpp"
#include "pg/boundary.hpp"
#include "pg/spi.hpp"
#include "pg/values.hpp"
#include "runner.hpp"
#include "script.hpp"
#include "settings.hpp"
#include "touched_objects.hpp"

namespace pgmig {
namespace {

using nlohmann::json;

struct Check {
    int step;
    std::string name;
    std::optional<bool> passed;  // none: not run, because an earlier step failed
    std::string detail;
    std::optional<std::string> differing;  // jsonb text of pgmig.object_diff
};

// The schema at one moment: pgmig.object_map() and its fingerprint (the same SHA-256 as
// migrate_fingerprint()), from one read of pgmig.snapshot_objects().
struct Schema {
    std::string map;  // jsonb text
    std::string fingerprint;
};

Schema schema_now(pg::Spi& spi) {
    const pg::Rows rows = spi.query(
        "WITH o AS MATERIALIZED (SELECT object_key, object_type, identity, description FROM pgmig.snapshot_objects()) "
        "SELECT (SELECT coalesce(pg_catalog.jsonb_object_agg(object_key, pg_catalog.jsonb_build_object("
        "            'type', object_type, 'identity', identity, 'description', description)), "
        "            '{}'::pg_catalog.jsonb) FROM o)::pg_catalog.text, "
        "       (SELECT pg_catalog.encode(pg_catalog.sha256(pg_catalog.convert_to(coalesce("
        "            pg_catalog.jsonb_object_agg(object_key, description), '{}'::pg_catalog.jsonb)::pg_catalog.text, "
        "            'UTF8')), 'hex') FROM o)",
        {}, SPI_OK_SELECT);
    return {rows.rows.at(0).at(0).value_or("{}"), rows.rows.at(0).at(1).value_or("")};
}

// Runs one script of m as a real run would (run_script: its own subtransaction, m's timeouts); the error
// message of a script that is refused or fails, or none. A cancel or timeout ends migrate_test.
std::optional<std::string> run_step(pg::Spi& spi, const Migration& m, Direction direction) {
    auto text = [](const Error& e) { return e.message() + (e.detail().empty() ? "" : " (" + e.detail() + ")"); };
    const ParsedScript parsed = parse_script(m, direction);
    if (parsed.refused) return text(*parsed.refused);
    if (const std::optional<ScriptFailure> failure = run_script(spi, m, direction, parsed.statements, limits_of(m))) {
        return text(failure->error);
    }
    return std::nullopt;
}

// Compares the schema `now` with `expected`; `what` names the moment ("after down", ...), `than` the reference.
Check compare(pg::Spi& spi, int step, const char* name, const Schema& expected_schema, const Schema& now_schema,
              const char* what, const char* than, const char* extra_word, const char* missing_word) {
    Check c{step, name, true, {}, std::nullopt};
    const std::string& fp_expected = expected_schema.fingerprint;
    const std::string& fp_now = now_schema.fingerprint;
    const std::string& expected = expected_schema.map;
    const std::string& now = now_schema.map;
    if (fp_expected == fp_now) {
        c.detail = fmt::format("fingerprint {} {} equals {} ", fp_now.substr(0, 12), what, than);
        c.detail.pop_back();
        return c;
    }
    const std::string diff_text =
        spi.query("SELECT pgmig.object_diff($1::pg_catalog.jsonb, $2::pg_catalog.jsonb)::pg_catalog.text",
                  {{JSONBOID, expected}, {JSONBOID, now}}, SPI_OK_SELECT)
            .rows.at(0)
            .at(0)
            .value_or("{}");
    const json diff = json::parse(diff_text);
    std::string objects;
    auto add = [&objects](const json& o, const std::string& how) {
        objects += (objects.empty() ? "" : "; ") + o.at("type").get<std::string>() + " " +
                   o.at("identity").get<std::string>() + " " + how;
    };
    for (const json& o : diff.at("added")) add(o, extra_word);
    for (const json& o : diff.at("removed")) add(o, missing_word);
    for (const json& o : diff.at("changed")) {
        std::string keys;
        for (const json& k : o.at("keys")) keys += (keys.empty() ? "" : ", ") + k.get<std::string>();
        add(o, "changed (" + keys + ")");
    }
    c.passed = false;
    c.differing = diff_text;
    c.detail = fmt::format("fingerprint {} {} differs from {} {}: {}", fp_now.substr(0, 12), what, than,
                           fp_expected.substr(0, 12), objects);
    return c;
}

// The checks of steps 1 to 5.
constexpr const char* kNames[] = {"up", "down", "down_restores_schema", "up_again", "up_again_same_schema"};

// The descriptions of the objects in the scope of `seeds` (pgmig.snapshot_scope(): them, their dependents,
// and where each is described) as they are now, by object key.
using Described = std::map<std::string, std::string>;

Described describe_scope(pg::Spi& spi, const std::set<touched::Address>& seeds) {
    const touched::OidArrays arrays = touched::oid_arrays(seeds);
    // Two statements, so that the second's plan sees the scope as parameters: pgmig.snapshot_described() is
    // then inlined and starts the description of the kinds other than relations only when they are asked for.
    // (Four times per test: both plans kept for the backend's life, revalidated after DDL.)
    static SPIPlanPtr scope_plan = nullptr;
    const pg::Rows scope = spi.query_prepared(
        scope_plan,
        "SELECT pg_catalog.array_agg(classid)::pg_catalog.text, pg_catalog.array_agg(objid)::pg_catalog.text "
        "  FROM pgmig.snapshot_scope($1::pg_catalog.oid[], $2::pg_catalog.oid[])",
        {{OIDARRAYOID, arrays.classids}, {OIDARRAYOID, arrays.objids}}, SPI_OK_SELECT);
    const std::optional<std::string>& classids = scope.rows.at(0).at(0);
    const std::optional<std::string>& objids = scope.rows.at(0).at(1);
    if (!classids || !objids) return {};  // an empty scope
    static SPIPlanPtr plan = nullptr;
    const pg::Rows rows =
        spi.query_prepared(plan,
                           "SELECT s.object_key, s.description::pg_catalog.text "
                           "  FROM pgmig.snapshot_described($1::pg_catalog.oid[], $2::pg_catalog.oid[]) s",
                           {{OIDARRAYOID, *classids}, {OIDARRAYOID, *objids}}, SPI_OK_SELECT);
    Described out;
    for (const auto& row : rows.rows) out.emplace(row.at(0).value_or(""), row.at(1).value_or(""));
    return out;
}

std::set<touched::Address> joined(std::set<touched::Address> a, const std::set<touched::Address>& b) {
    a.insert(b.begin(), b.end());
    return a;
}

// The five checks of a test on the objects a migration touches that passed: `a` objects compared after down,
// `b` after up again. "nothing else was changed": every other change DDL makes is reported, and none was.
std::vector<Check> passed_on_touched_objects(size_t a, size_t b) {
    auto compared = [](size_t n, const char* moment, const char* reference, const char* touching) {
        if (n == 0) {
            return fmt::format("{}, no object {} exists, as {}; nothing else was changed", moment, touching, reference);
        }
        return fmt::format("{}, the {} object{} {} (with their dependents) {} as {}; nothing else was changed", moment,
                           n, n == 1 ? "" : "s", touching, n == 1 ? "is" : "are", reference);
    };
    return std::vector<Check>{
        {1, kNames[0], true, "up ran", std::nullopt},
        {2, kNames[1], true, "down ran", std::nullopt},
        {3, kNames[2], true, compared(a, "after down", "before up", "up and down touch"), std::nullopt},
        {4, kNames[3], true, "up ran again", std::nullopt},
        {5, kNames[4], true, compared(b, "after up again", "after the first up", "up touches"), std::nullopt},
    };
}

// The rollback test on the objects m touches (pgmig.rollback_test_scope = touched): its five checks when
// they all pass, or none when the full comparison must decide (a script failed, DDL ran that no event
// trigger reports, the two runs of up touched different objects, or the touched objects differ: the full
// comparison then finds the same differences and words them as it always has).
//
// Why comparing these objects is enough: an object whose description differs between two moments was
// created, dropped or altered (reported by ddl_command_end or sql_drop), or names or is part of one that
// was (a dependent in pg_depend, taken to where it is described by pgmig.snapshot_scope()). So the schema
// before up (A) and after down (C) differ exactly where the objects that up and down touched, with their
// dependents, differ, each set found in its own state: A is described last, after rolling everything
// back, when what up and down touch is known (objects that existed before up keep their OIDs). Once A
// and C are equal, up ran on the same schema twice: after the first up (B) and after up again (D) the
// schema differs exactly where what each run of up touched differs, and each run must touch the same objects.
std::optional<std::vector<Check>> passes_on_touched_objects(pg::Spi& spi, const Migration& m) {
    std::set<touched::Address> by_up;
    std::set<touched::Address> by_down;
    std::set<std::string> up_keys;
    Described b;
    Described c;
    bool same = false;
    {
        pg::Subtransaction run;  // rolled back: A is read after it
        std::optional<touched::Collection> watch(std::in_place);
        if (!run_step(spi, m, Direction::up) && watch->underivable().empty()) {
            by_up = watch->addresses();
            up_keys = watch->keys();
            b = describe_scope(spi, by_up);
            watch.emplace();
            if (!run_step(spi, m, Direction::down) && watch->underivable().empty()) {
                by_down = watch->addresses();
                c = describe_scope(spi, joined(by_up, by_down));
                watch.emplace();
                if (!run_step(spi, m, Direction::up) && watch->underivable().empty() &&
                    watch->keys() == up_keys) {
                    same = describe_scope(spi, watch->addresses()) == b;
                }
            }
        }
        watch.reset();
        run.rollback();
    }
    if (!same) return std::nullopt;
    const Described a = describe_scope(spi, joined(by_up, by_down));
    if (a != c) return std::nullopt;
    return passed_on_touched_objects(a.size(), b.size());
}

// Whether this database is one pgmig test made for a test run (common/scratch_database.hpp): only there may
// down's effects on data stay.
bool in_scratch_database(pg::Spi& spi) {
    const pg::Rows rows =
        spi.query("SELECT pg_catalog.shobj_description($1, 'pg_database') OPERATOR(pg_catalog.=) $2",
                  {{OIDOID, std::to_string(MyDatabaseId)}, {TEXTOID, common::kScratchDatabaseComment}}, SPI_OK_SELECT);
    return rows.rows.at(0).at(0) == std::optional<std::string>("t");
}

// migrate_apply_tested's test on the objects m touches, its last run of up kept as the apply: the five checks
// when they all pass, with m applied (recorded in the ledger, its three runs in the audit trail); none, and
// nothing persists, when the test must be made as migrate_test makes it (it then decides, and words any
// failure). Only in a scratch database of pgmig test: down's effects on data stay. As passes_on_touched_objects
// compares, but the schema before up (A) is not read after rolling up and down back: it is the expected one
// (pgmig.expected_objects), which is the live schema whenever the next snapshot can be derived from the newest one (no
// DDL outside migrations since, no role renamed, the same database and major version). So A and the schema after down
// (C) are equal exactly where the snapshot derived after up and down would leave the expected schema unchanged:
// pgmig.expected_unchanged() compares what expect_changes() would describe again, the same objects the derived snapshot
// relies on.
std::optional<std::vector<Check>> kept_on_touched_objects(pg::Spi& spi, LedgerStore& store, const Migration& m) {
    if (!in_scratch_database(spi) || store.snapshot_underivable()) return std::nullopt;
    std::set<touched::Address> by_up;
    std::set<touched::Address> by_down;
    std::set<touched::Address> by_up_again;
    std::optional<int> compared_after_down;
    Described b;
    TimestampTz started = 0;
    TimestampTz ended = 0;
    bool same = false;
    pg::Subtransaction kept;  // committed when every check passed, else rolled back
    {
        std::optional<touched::Collection> watch(std::in_place);
        if (!run_step(spi, m, Direction::up) && watch->underivable().empty()) {
            by_up = watch->addresses();
            const std::set<std::string> up_keys = watch->keys();
            b = describe_scope(spi, by_up);
            watch.emplace();
            if (!run_step(spi, m, Direction::down) && watch->underivable().empty()) {
                by_down = watch->addresses();
                compared_after_down = store.expected_unchanged(joined(by_up, by_down));
                if (compared_after_down) {
                    watch.emplace();
                    started = GetCurrentTimestamp();
                    if (!run_step(spi, m, Direction::up) && watch->underivable().empty() && watch->keys() == up_keys) {
                        ended = GetCurrentTimestamp();
                        by_up_again = watch->addresses();
                        same = describe_scope(spi, by_up_again) == b;
                    }
                }
            }
        }
    }
    if (!same) {
        kept.rollback();
        return std::nullopt;
    }
    kept.commit();
    // The last run of up is the apply: recorded as migrate_apply records one, the snapshot derived from
    // everything the three runs touched.
    store.record_runs({FinishedRun{&m, interval_text(ended - started), ended, store.next_history_id()}},
                      LedgerStore::RunAction::apply);
    {
        touched::Collection changes;
        for (const touched::Address& address : joined(joined(by_up, by_down), by_up_again)) changes.add(address, {});
        store.save_snapshot("migrate_apply_tested", &changes);
    }
    std::vector<Check> checks = passed_on_touched_objects(static_cast<size_t>(*compared_after_down), b.size());
    checks.push_back({6, "applied", true, "applied: the test's last run of up was kept", std::nullopt});
    return checks;
}

std::vector<Check> rolled_back_test(pg::Spi& spi, const Migration& m, const std::vector<Migration>& before);

// migrate_test (apply false) and migrate_apply_tested (apply true, named `function` in errors).
std::vector<Check> test_migration(pg::Spi& spi, LedgerStore& store, const std::string& version,
                                  const trust::Policy& policy, bool apply, const char* function) {
    const Migration m = store.registered(version);  // PM001, PM005
    if (m.applied) {
        throw Error(sqlstate::test_applied,
                    fmt::format("{} is already applied; {} tests pending migrations", m.label(), function),
                    "its up script would run on a schema that already contains its changes",
                    "test it before applying it, e.g. on a scratch database: pgmig test (it builds one from this "
                    "database's schema); or roll it back first");
    }
    if (!m.down_sql || common::normalize_script(*m.down_sql).find_first_not_of(" \t\n") == std::string::npos) {
        throw Error(sqlstate::test_no_down_script, fmt::format("{} has no down script to test", m.label()),
                    fmt::format("{} runs up, down and up again", function),
                    "add a -- pgmig:down section to its file (or down_sql to migrate_register) and register it again");
    }
    // Older pending migrations are applied first, inside the same rolled-back subtransaction: the
    // migration is written against the schema they produce, so testing it without them says nothing.
    std::vector<Migration> before;
    for (Migration& other : store.load_pending(m.key)) {  // the older pending ones, and m
        if (other.version && !other.applied && other.key < m.key) before.push_back(std::move(other));
    }
    for (const Migration& x : before) {
        if (x.options.transactional) continue;
        throw Error(sqlstate::test_non_transactional,
                    fmt::format("cannot test {}: the older pending {} is non-transactional", m.label(), x.label()),
                    fmt::format("{} applies older pending migrations first, inside a subtransaction that is "
                                "rolled back, and a non-transactional migration cannot run in a transaction",
                                function),
                    "apply the migrations up to it first (pgmig apply --to VERSION), or use pgmig test, which "
                    "applies them on a scratch database");
    }
    if (!m.options.transactional) {
        throw Error(sqlstate::test_non_transactional, fmt::format("cannot test {}: it is non-transactional", m.label()),
                    fmt::format("{} runs up, down and up again inside a subtransaction that is rolled back, "
                                "and its statements cannot run in a transaction",
                                function),
                    "test its down script by hand on a scratch database (pgmig local start)");
    }

    // Everything below is rolled back, but not what its SQL does outside the transaction: trust as for a real run.
    trust::require_trusted(store, before, trust::Scripts::up, policy, function);
    trust::require_trusted(store, {m}, trust::Scripts::up_and_down, policy, function);
    if (!apply) return rolled_back_test(spi, m, before);

    // What migrate_apply(version) would refuse is refused before anything runs.
    refuse_tampered(store);
    const std::vector<Migration> plan = apply_plan(store, m.key);  // the older pending ones, and m
    trust::require_approvals(store, plan, policy, function);
    lint::check_plan(plan);
    if (before.empty() && settings::rollback_test_scope() == settings::RollbackTestScope::touched) {
        if (std::optional<std::vector<Check>> kept = kept_on_touched_objects(spi, store, m)) return *kept;
    }
    std::vector<Check> checks = rolled_back_test(spi, m, before);
    const bool passed = std::all_of(checks.begin(), checks.end(), [](const Check& c) { return c.passed == true; });
    if (passed) {  // applied as migrate_apply(version) applies
        run_plan_and_snapshot(store, spi, plan, parse_plan(plan, Direction::up), Direction::up, "migrate_apply_tested");
        checks.push_back(
            {6, "applied", true, "applied: up ran once more after the test, which was rolled back", std::nullopt});
    }
    return checks;
}

// The test itself, always rolled back: its checks.
std::vector<Check> rolled_back_test(pg::Spi& spi, const Migration& m, const std::vector<Migration>& before) {
    std::vector<Check> checks;
    const audit::Rehearsal quiet;  // no audit rows
    pg::Subtransaction everything;  // never committed
    auto skip_rest = [&checks](int from, const char* const* names, int count, const std::string& why) {
        for (int i = 0; i < count; ++i) checks.push_back({from + i, names[i], std::nullopt, why, std::nullopt});
    };
    if (!before.empty()) {
        std::string list;
        for (const Migration& x : before) list += (list.empty() ? "" : ", ") + *x.version;
        Check c{0, "prerequisites", true, fmt::format("applied the older pending migrations first: {}", list),
                std::nullopt};
        for (const Migration& x : before) {
            if (auto failure = run_step(spi, x, Direction::up)) {
                c.passed = false;
                c.detail = fmt::format("older pending {} failed: {}", x.label(), *failure);
                break;
            }
        }
        checks.push_back(c);
        if (!*c.passed) {
            skip_rest(1, kNames, 5, "not run: an older pending migration failed");
            everything.rollback();
            return checks;
        }
    }
    if (settings::rollback_test_scope() == settings::RollbackTestScope::touched) {
        if (std::optional<std::vector<Check>> passed = passes_on_touched_objects(spi, m)) {
            checks.insert(checks.end(), passed->begin(), passed->end());
            everything.rollback();
            return checks;
        }
    }
    const Schema a = schema_now(spi);
    if (auto failure = run_step(spi, m, Direction::up)) {
        checks.push_back({1, kNames[0], false, *failure, std::nullopt});
        skip_rest(2, kNames + 1, 4, "not run: up failed");
        everything.rollback();
        return checks;
    }
    checks.push_back({1, kNames[0], true, "up ran", std::nullopt});
    const Schema b = schema_now(spi);
    if (auto failure = run_step(spi, m, Direction::down)) {
        checks.push_back({2, kNames[1], false, *failure, std::nullopt});
        skip_rest(3, kNames + 2, 3, "not run: down failed");
        everything.rollback();
        return checks;
    }
    checks.push_back({2, kNames[1], true, "down ran", std::nullopt});
    const Schema c = schema_now(spi);
    checks.push_back(compare(spi, 3, kNames[2], a, c, "after down", "before up", "left behind by down",
                             "missing after down"));
    if (auto failure = run_step(spi, m, Direction::up)) {
        checks.push_back({4, kNames[3], false, *failure, std::nullopt});
        skip_rest(5, kNames + 4, 1, "not run: up again failed");
        everything.rollback();
        return checks;
    }
    checks.push_back({4, kNames[3], true, "up ran again", std::nullopt});
    const Schema d = schema_now(spi);
    checks.push_back(compare(spi, 5, kNames[4], b, d, "after up again", "after the first up",
                             "only after up again", "missing after up again"));
    everything.rollback();
    return checks;
}

}  // namespace
}  // namespace pgmig

using namespace pgmig;

namespace {

Datum test_function(FunctionCallInfo fcinfo, bool apply, const char* function) {
    const std::string version = pg::required_text_arg(fcinfo, 0, "version");
    if (apply) refuse_snapshot_isolation(function);
    const trust::Policy policy = trust::policy(fcinfo, 1, -1, -1, function);
    std::vector<Check> checks;
    {
        pg::Spi spi;
        LedgerStore store(spi, current_caller());
        store.lock(function);  // the ledger read below cannot change under the test
        checks = test_migration(spi, store, version, policy, apply, function);
    }
    std::vector<pg::TextRow> rows;
    rows.reserve(checks.size());
    for (const Check& c : checks) {
        rows.push_back({std::to_string(c.step), c.name,
                        c.passed ? std::optional(std::string(*c.passed ? "true" : "false")) : std::nullopt, c.detail,
                        c.differing});
    }
    pg::return_rows(fcinfo, rows);
    return static_cast<Datum>(0);
}

}  // namespace

// migrate_test(version, trust DEFAULT false) -> SETOF (step, check_name, passed, detail, differing)
PGMIG_FUNCTION(migrate_test) { return test_function(fcinfo, false, "migrate_test"); }

// migrate_apply_tested(version, trust DEFAULT false) -> as migrate_test, and a row (6, applied) when it applied
PGMIG_FUNCTION(migrate_apply_tested) { return test_function(fcinfo, true, "migrate_apply_tested"); }
