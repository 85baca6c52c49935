// count_table_rows(): the rows of the tables that get a NOT NULL column, counted on the target (added_not_null.hpp).
// The one part of the NOT NULL handling that talks to a server, kept apart from the engine's pure code.
#include "client/core/db.hpp"
#include "client/diff/added_not_null.hpp"
#include "client/core/errors.hpp"

#include <fmt/core.h>

#include <algorithm>

namespace pgmig::client {

namespace {

namespace sd = schema_diff;

// Rows read at most per table: enough to say "has rows" and to give a size, cheap on any table.
constexpr long long kRowBound = 10000;

}  // namespace

std::map<std::string, sd::TableRows> count_table_rows(const Connection& target,
                                                      const std::vector<AddedNotNull>& columns) {
    std::map<std::string, sd::TableRows> out;
    for (const auto& c : columns) {
        if (out.count(c.table) != 0) continue;
        sd::TableRows& rows = out[c.table];
        // The table by the target's own identity of it; its name for the count from the catalog, quoted by the
        // server, schema-qualified: no search_path and no text from the desired schema reach the statement.
        Result found = target.exec_params(
            "SELECT pg_catalog.format('%I.%I', n.nspname, c.relname), "
            "pg_catalog.has_table_privilege(c.oid, 'SELECT'), pg_catalog.row_security_active(c.oid) "
            "FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace "
            "WHERE c.oid OPERATOR(pg_catalog.=) pg_catalog.to_regclass($1)",
            {c.from_table});
        if (!found.ok() || found.rows() != 1) {
            rows.unknown = found.ok() ? "the table is not in the target's catalog"
                                      : "finding the table failed: " + one_line(found.error().message);
            continue;
        }
        if (found.get(0, 1) != "t") {
            rows.unknown = "the role may not read the table (no SELECT privilege), so pgmig cannot count its rows";
            continue;
        }
        const bool rls = found.get(0, 2) == "t";
        Transaction tx(target, Transaction::Mode::read_only);
        Result setting = target.exec("SET LOCAL lock_timeout = '5s'");
        Result count = setting.ok()
                           ? target.exec(fmt::format("SELECT pg_catalog.count(*) FROM (SELECT 1 FROM {} LIMIT {}) AS r",
                                                     found.get(0, 0), kRowBound + 1))
                           : std::move(setting);
        if (!count.ok() || count.rows() != 1) {
            rows.unknown = "pgmig cannot count its rows: " + one_line(count.error().message);
            continue;
        }
        tx.rollback();
        const long long n = std::stoll(count.get(0, 0));
        if (n == 0 && rls) {
            rows.unknown = "row-level security may hide its rows from this role, so pgmig cannot count them";
            continue;
        }
        rows.rows = std::min(n, kRowBound);
        rows.at_least = n > kRowBound;
    }
    return out;
}

}  // namespace pgmig::client
