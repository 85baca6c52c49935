// migrate_test(version): the rollback test of one pending migration. up, down and up again inside a
// subtransaction that is always rolled back, each compared with the schema it must reproduce.
extern "C" {
#include "postgres.h"
#include "catalog/pg_type_d.h"
#include "executor/spi.h"
}

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "audit.hpp"
#include "common/checksum.hpp"
#include "ledger_store.hpp"
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
    // "nothing else was changed": every other change DDL makes is reported, and none was.
    auto compared = [](size_t n, const char* moment, const char* reference, const char* touching) {
        if (n == 0) {
            return fmt::format("{}, no object {} exists, as {}; nothing else was changed", moment, touching,
                               reference);
        }
        return fmt::format("{}, the {} object{} {} (with their dependents) {} as {}; nothing else was changed",
                           moment, n, n == 1 ? "" : "s", touching, n == 1 ? "is" : "are", reference);
    };
    return std::vector<Check>{
        {1, kNames[0], true, "up ran", std::nullopt},
        {2, kNames[1], true, "down ran", std::nullopt},
        {3, kNames[2], true, compared(a.size(), "after down", "before up", "up and down touch"), std::nullopt},
        {4, kNames[3], true, "up ran again", std::nullopt},
        {5, kNames[4], true, compared(b.size(), "after up again", "after the first up", "up touches"), std::nullopt},
    };
}

std::vector<Check> test_migration(pg::Spi& spi, LedgerStore& store, const std::string& version,
                                  const trust::Policy& policy) {
    const Migration m = store.registered(version);  // PM001, PM005
    if (m.applied) {
        throw Error(sqlstate::test_applied, fmt::format("{} is already applied; migrate_test tests pending migrations",
                                                        m.label()),
                    "its up script would run on a schema that already contains its changes",
                    "test it before applying it, e.g. on a scratch database: pgmig test (it builds one from this "
                    "database's schema); or roll it back first");
    }
    if (!m.down_sql || common::normalize_script(*m.down_sql).find_first_not_of(" \t\n") == std::string::npos) {
        throw Error(sqlstate::test_no_down_script, fmt::format("{} has no down script to test", m.label()),
                    "migrate_test runs up, down and up again",
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
                    "migrate_test applies older pending migrations first, inside a subtransaction that is rolled "
                    "back, and a non-transactional migration cannot run in a transaction",
                    "apply the migrations up to it first (pgmig apply --to VERSION), or use pgmig test, which "
                    "applies them on a scratch database");
    }
    if (!m.options.transactional) {
        throw Error(sqlstate::test_non_transactional,
                    fmt::format("cannot test {}: it is non-transactional", m.label()),
                    "migrate_test runs up, down and up again inside a subtransaction that is rolled back, and its "
                    "statements cannot run in a transaction",
                    "test its down script by hand on a scratch database (pgmig local start)");
    }

    // Everything below is rolled back, but not what its SQL does outside the transaction: trust as for a real run.
    trust::require_trusted(store, before, trust::Scripts::up, policy, "migrate_test");
    trust::require_trusted(store, {m}, trust::Scripts::up_and_down, policy, "migrate_test");

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

// migrate_test(version, trust DEFAULT false) -> SETOF (step, check_name, passed, detail, differing)
PGMIG_FUNCTION(migrate_test) {
    const std::string version = pg::required_text_arg(fcinfo, 0, "version");
    const trust::Policy policy = trust::policy(fcinfo, 1, -1, -1, "migrate_test");
    std::vector<Check> checks;
    {
        pg::Spi spi;
        LedgerStore store(spi, current_caller());
        store.lock("migrate_test");  // the ledger read below cannot change under the test
        checks = test_migration(spi, store, version, policy);
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
