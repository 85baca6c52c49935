// The dry-run engine behind migrate_plan() and migrate_apply(dry_run => true).
extern "C" {
#include "postgres.h"
#include "catalog/pg_type_d.h"
#include "utils/timestamp.h"
}

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "dry_run.hpp"

#include "audit.hpp"
#include "lint.hpp"
#include "pg/interrupts.hpp"
#include "redact.hpp"
#include "runner.hpp"
#include "script.hpp"
#include "settings.hpp"

namespace pgmig {
namespace {

using nlohmann::json;

std::string one_value(const pg::Rows& rows) { return rows.rows.at(0).at(0).value_or(""); }

// The lint findings of m's up script (jsonb array text), taken before it runs: table sizes are those it
// would meet, and the migration's own waivers and options apply. A failing lint is reported in the
// findings, not raised.
std::string lint_of(const Migration& m) {
    try {
        pg::Subtransaction sub;
        std::string out = lint::findings_json(lint::lint_script(m.up_sql, lint::options_for(m)));
        sub.commit();
        return out;
    } catch (const pg::PgError& e) {
        if (pg::is_interrupt(e)) throw;  // a cancel or timeout stops the dry run; it is no lint finding
        return json::array({{{"rule", "lint-failed"}, {"severity", "error"}, {"message", e.message()}}}).dump();
    }
}

int count_statements(const std::string& script) {
    try {
        return static_cast<int>(split_script(script).size());
    } catch (const pg::PgError& e) {
        if (pg::is_interrupt(e)) throw;
        return 0;
    }
}

// What a lock timeout was waiting for: locks other sessions hold on relations the statement names.
std::string lock_holders(pg::Spi& spi, const std::string& statement) {
    const pg::Rows rows = spi.query(
        "SELECT pg_catalog.string_agg(DISTINCT pg_catalog.format('%I.%I (%s held by pid %s)', "
        "           n.nspname, c.relname, l.mode, l.pid), ', ') "
        "  FROM pg_catalog.pg_locks l JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) l.relation "
        "  JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace "
        " WHERE l.locktype OPERATOR(pg_catalog.=) 'relation' AND l.granted "
        "   AND l.pid OPERATOR(pg_catalog.<>) pg_catalog.pg_backend_pid() "
        "   AND l.database OPERATOR(pg_catalog.=) (SELECT oid FROM pg_catalog.pg_database "
        "                                          WHERE datname OPERATOR(pg_catalog.=) pg_catalog.current_database()) "
        "   AND pg_catalog.strpos(pg_catalog.lower($1), pg_catalog.lower(c.relname::pg_catalog.text)) "
        "       OPERATOR(pg_catalog.>) 0",
        {{TEXTOID, statement}}, SPI_OK_SELECT);
    return rows.rows.at(0).at(0).value_or("");
}

// The rows of a relation (a table, partitioned table or materialized view a rollback drops, or whose
// column it drops): counted exactly when the caller may read it, row-level security does not filter it
// (that would run its policies' code) and it holds at most kExactLimit rows; else pg_class.reltuples,
// labelled an estimate (null when the table was never analyzed). Never waits for a lock longer than
// pgmig.dry_run_lock_timeout.
constexpr long long kExactLimit = 1000000;

struct RowCount {
    std::optional<long long> rows;
    bool exact = false;
};

RowCount count_rows(pg::Spi& spi, long long relation) {
    const std::string oid = std::to_string(relation);
    const pg::Rows info = spi.query(
        "SELECT pg_catalog.format('%I.%I', n.nspname, c.relname), c.reltuples::pg_catalog.int8, "
        "       pg_catalog.has_table_privilege(c.oid, 'SELECT') AND NOT c.relrowsecurity "
        "  FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace "
        " WHERE c.oid OPERATOR(pg_catalog.=) $1::pg_catalog.oid AND c.relkind OPERATOR(pg_catalog.=) ANY ('{r,p,m}')",
        {{TEXTOID, oid}}, SPI_OK_SELECT);
    if (info.rows.empty()) return {};
    RowCount out;
    const long long reltuples = std::stoll(info.rows[0].at(1).value_or("-1"));
    if (reltuples >= 0) out.rows = reltuples;
    if (info.rows[0].at(2).value_or("f") != "t") return out;
    try {
        MigrationLimits limits(settings::dry_run_lock_timeout_ms(), 0);
        pg::Subtransaction sub;
        const std::string sql = fmt::format("SELECT pg_catalog.count(*) FROM (SELECT FROM {} LIMIT {}) s",
                                            *info.rows[0].at(0), kExactLimit + 1);
        const pg::Rows counted = spi.query(sql.c_str(), {}, SPI_OK_SELECT);
        sub.commit();
        limits.finish();
        const long long n = std::stoll(one_value(counted));
        if (n <= kExactLimit) out = RowCount{n, true};
    } catch (const Error& e) {
        if (pg::is_interrupt(e)) throw;  // a cancel stops the dry run
    }
    return out;
}

// `dropped` (from pgmig.rehearsal_effects) with rows and rows_exact for each entry; a schema's rows are
// those of the tables dropped with it.
json with_row_counts(pg::Spi& spi, json dropped) {
    for (json& d : dropped) {
        if (!d.contains("relation")) continue;
        const RowCount c = count_rows(spi, d.at("relation").get<long long>());
        d["rows"] = c.rows ? json(*c.rows) : json(nullptr);
        d["rows_exact"] = c.exact;
        d.erase("relation");
    }
    for (json& d : dropped) {
        if (d.at("type") != "schema") continue;
        const std::string prefix = d.at("identity").get<std::string>() + ".";
        long long rows = 0;
        bool exact = true;
        bool known = true;
        for (const json& t : dropped) {
            if (t.at("type") == "column" || t.at("type") == "schema") continue;
            if (t.at("identity").get<std::string>().rfind(prefix, 0) != 0) continue;
            if (t.at("rows").is_null()) {
                known = false;
                continue;
            }
            rows += t.at("rows").get<long long>();
            exact = exact && t.at("rows_exact").get<bool>();
        }
        d["rows"] = known ? json(rows) : json(nullptr);
        d["rows_exact"] = known && exact;
    }
    return dropped;
}

}  // namespace

std::string DryRunReport::report_json() const {
    auto parsed = [](const std::optional<std::string>& text) { return text ? json::parse(*text) : json(nullptr); };
    json out = {{"version", version ? json(*version) : json(nullptr)},
                {"name", name},
                {"rehearsable", rehearsable},
                {"outcome", outcome},
                {"reason", reason.empty() ? json(nullptr) : json(reason)},
                {"statements", statements},
                {"duration", duration ? json(*duration) : json(nullptr)},
                {"locks", parsed(locks)},
                {"rewritten", parsed(rewritten)},
                {"rows", parsed(rows)},
                {"rows_touched", rows_touched},
                {"catalog_diff", parsed(catalog_diff)},
                {"lint", parsed(lint)},
                {"persisted", false}};
    if (dropped) out["dropped"] = parsed(dropped);
    return out.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::vector<DryRunReport> dry_run(pg::Spi& spi, const std::vector<Migration>& plan, Direction direction) {
    const bool down = direction == Direction::down;
    const char* script_name = down ? "down script" : "up script";
    auto script_of = [down](const Migration& m) { return down ? m.down_sql.value_or("") : m.up_sql; };
    std::vector<DryRunReport> reports;
    reports.reserve(plan.size());
    // Lint first, against the catalog as it is: what pgmig.lint_block judges in migrate_apply(), where a
    // table an earlier migration of the same run creates is new (empty), not existing. (Up scripts only:
    // a rollback's report says what its down scripts drop instead.)
    std::vector<std::optional<std::string>> lint;
    lint.reserve(plan.size());
    for (const Migration& m : plan) lint.push_back(down ? std::nullopt : std::optional(lint_of(m)));
    const audit::Rehearsal quiet;  // no audit rows, not even rolled-back ones
    pg::Subtransaction rehearsal;  // never committed: rolled back below, or by an exception
    std::string stopped_by;        // the migration after which rehearsing would not be sound
    for (size_t i = 0; i < plan.size(); ++i) {
        const Migration& m = plan[i];
        DryRunReport r;
        r.version = m.version;
        r.name = m.name;
        r.lint = std::move(lint[i]);
        if (!m.options.transactional) {
            r.rehearsable = false;
            r.outcome = "not_rehearsable";
            r.statements = count_statements(script_of(m));
            r.reason =
                "non-transactional (-- pgmig:no-transaction): its statements cannot run inside a transaction, so "
                "it cannot be rehearsed and rolled back; the client runs it statement by statement";
            if (stopped_by.empty()) stopped_by = m.label() + ", which cannot be rehearsed";
            reports.push_back(std::move(r));
            continue;
        }
        if (!stopped_by.empty()) {
            r.outcome = "not_rehearsed";
            r.statements = count_statements(script_of(m));
            r.reason = fmt::format(
                "not rehearsed: it comes after {}; without that migration's changes its rehearsal "
                "would not show what {} does",
                stopped_by, down ? "rollback" : "apply");
            reports.push_back(std::move(r));
            continue;
        }
        ParsedScript parsed = parse_script(m, direction);
        if (parsed.refused) {
            r.outcome = "failed";
            r.reason = parsed.refused->message();
            r.error = std::move(parsed.refused);
            stopped_by = m.label() + ", which failed";
            reports.push_back(std::move(r));
            continue;
        }
        const std::vector<Statement>& script = parsed.statements;
        r.statements = static_cast<int>(script.size());
        const std::string before =
            one_value(spi.query("SELECT pgmig.rehearsal_state()::pg_catalog.text", {}, SPI_OK_SELECT));
        const TimestampTz started = GetCurrentTimestamp();
        // Its own statement timer, but no waiting for locks beyond pgmig.dry_run_lock_timeout.
        ScriptLimits limits = limits_of(m);
        limits.lock_timeout_ms = settings::dry_run_lock_timeout_ms();
        if (const std::optional<ScriptFailure> failure = run_script(spi, m, direction, script, limits)) {
            const Error& e = failure->error;  // the migration's subtransaction is rolled back: its locks are gone
            r.duration = interval_text(GetCurrentTimestamp() - started);
            const Statement& st = script.at(std::min(failure->statement, script.size() - 1));
            if (e.sqlstate() == make_sqlstate("55P03")) {
                const std::string holders = lock_holders(spi, st.text);
                r.outcome = "would_wait";
                r.reason = fmt::format(
                    "would wait for a lock{} at line {} of the {} (more than pgmig.dry_run_lock_timeout, {} "
                    "ms): {}",
                    holders.empty() ? " held by another session" : " on " + holders, st.line, script_name,
                    settings::dry_run_lock_timeout_ms(), redact_statement(st.text));
                stopped_by = m.label() + ", which would wait for a lock";
            } else {
                r.outcome = "failed";
                r.reason = e.message() + (e.detail().empty() ? "" : " (" + e.detail() + ")");
                r.error = e;
                stopped_by = m.label() + ", which failed";
            }
            reports.push_back(std::move(r));
            continue;
        }
        r.duration = interval_text(GetCurrentTimestamp() - started);
        const json effects =
            json::parse(one_value(spi.query("SELECT pgmig.rehearsal_effects($1::pg_catalog.jsonb)::pg_catalog.text",
                                            {{JSONBOID, before}}, SPI_OK_SELECT)));
        r.locks = effects.at("locks").dump();
        r.rewritten = effects.at("rewritten").dump();
        r.catalog_diff = effects.at("catalog_diff").dump();
        r.rows = effects.at("rows").dump();
        const json& rows = effects.at("rows");
        r.rows_touched = rows.at("inserted").get<long long>() + rows.at("updated").get<long long>() +
                         rows.at("deleted").get<long long>();
        if (down) r.dropped = effects.at("dropped").dump();
        r.outcome = "ok";
        reports.push_back(std::move(r));
    }
    rehearsal.rollback();
    // What was dropped exists again: count its rows as they are now.
    for (DryRunReport& r : reports) {
        if (r.dropped) r.dropped = with_row_counts(spi, json::parse(*r.dropped)).dump();
    }
    return reports;
}

}  // namespace pgmig
