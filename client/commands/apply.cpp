// pgmig apply: reads the migrations folder, registers every file and applies what is pending, in one transaction.
#include "client/commands/commands.hpp"
#include "client/db.hpp"
#include "client/errors.hpp"
#include "client/migration_files.hpp"

#include "common/version.hpp"

#include <fmt/core.h>

#include <vector>

namespace pgmig::client {

namespace {

bool is_ledger_conflict(const std::string& sqlstate) {
    // PM002: an applied migration's content changed; PM003: a version is taken by another migration.
    return sqlstate == "PM002" || sqlstate == "PM003";
}

[[noreturn]] void fail(const Connection& conn, const ServerError& e, const std::string& where) {
    conn.exec("ROLLBACK");
    const std::string what = e.sqlstate.empty() ? e.message : fmt::format("{} (SQLSTATE {})", e.message, e.sqlstate);
    if (is_ledger_conflict(e.sqlstate)) {
        throw Error(ErrorKind::ledger_conflict, what, where,
                    "nothing was applied; restore the applied migration's file as it was and add a new migration "
                    "for the change",
                    e.hint);
    }
    if (e.sqlstate == "PM001" || e.sqlstate == "PM007") {
        throw Error(ErrorKind::input, what, where, "nothing was applied; fix the migration file", e.hint);
    }
    throw Error(ErrorKind::migration_failed, what, where,
                "nothing was applied (rolled back); fix the migration and run pgmig apply again", e.hint);
}

void exec_or_fail(const Connection& conn, const std::string& sql, const std::string& where) {
    Result res = conn.exec(sql);
    if (!res.ok()) fail(conn, res.error(), where);
}

}  // namespace

int run_apply(const GlobalOptions& global, const ApplyOptions& options) {
    if (!options.to.empty()) {
        if (auto problem = common::version_problem(options.to)) {
            throw Error(ErrorKind::input, fmt::format("bad target version '{}': {}", options.to, *problem), "in --to",
                        "give a version such as 3 or 1.2");
        }
    }
    // All input is checked before any connection is made: bad files never reach a database.
    std::vector<MigrationFile> files;
    try {
        files = load_migration_dir(options.dir);
    } catch (const MigrationFileError& e) {
        const std::string advice = e.advice().empty() ? std::string("fix it") : e.advice();
        throw Error(ErrorKind::input, e.reason(), "in " + e.file(), advice + "; nothing was applied");
    }
    if (files.empty()) {
        throw Error(ErrorKind::input, "no migration files (<version>_<name>.sql)", "in " + options.dir,
                    "add one (e.g. 1_create_table.sql with a -- pgmig:up section) or pass --dir");
    }

    Connection conn = Connection::open(global.dbname);
    require_extension(conn);
    const std::string where_db = fmt::format("in {}", conn.target());

    exec_or_fail(conn, "BEGIN", where_db);
    for (const auto& m : files) {
        std::optional<std::string> down;
        if (m.down_sql && m.down_sql->find_first_not_of(" \t\r\n") != std::string::npos) down = m.down_sql;
        Result res = conn.exec_params("SELECT migrate_register($1, $2, $3, $4)", {m.version, m.name, m.up_sql, down});
        if (!res.ok()) fail(conn, res.error(), fmt::format("registering {} ({})", m.label(), m.path.string()));
    }

    std::optional<std::string> target;
    if (!options.to.empty()) target = options.to;
    Result applied = conn.exec_params(
        "SELECT version, name, action, round(extract(epoch FROM duration) * 1000)::bigint AS ms "
        "FROM migrate_apply($1)",
        {target});
    if (!applied.ok()) fail(conn, applied.error(), fmt::format("applying migrations from {}", options.dir));
    exec_or_fail(conn, "COMMIT", where_db);

    int count = 0;
    for (int i = 0; i < applied.rows(); ++i) {
        const std::string label = applied.get(i, 0) + "_" + applied.get(i, 1);
        const std::string ms = applied.is_null(i, 3) ? std::string("?") : applied.get(i, 3);
        fmt::print("{} {} ({} ms)\n", applied.get(i, 2), label, ms);
        ++count;
    }

    // Where the database stands now, from the ledger itself.
    Result state = conn.exec(
        "SELECT (SELECT s.version FROM migrate_status() WITH ORDINALITY AS s "
        "         WHERE s.state <> 'pending' ORDER BY s.ordinality DESC LIMIT 1), "
        "       (SELECT count(*) FROM migrate_status() AS s WHERE s.state = 'pending')");
    std::string at = "no version";
    long long pending = 0;
    if (state.ok() && state.rows() == 1) {
        if (!state.is_null(0, 0)) at = "version " + state.get(0, 0);
        pending = std::stoll(state.get(0, 1));
    }
    const std::string head = count == 0 ? std::string("nothing to apply") : fmt::format("{} applied", count);
    if (pending == 0) {
        fmt::print("{}, database up to date at {}\n", head, at);
    } else {
        fmt::print("{}, database at {}, {} pending\n", head, at, pending);
    }
    return kExitOk;
}

}  // namespace pgmig::client
