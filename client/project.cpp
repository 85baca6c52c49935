// Shared steps of the ledger commands (see project.hpp).
#include "client/project.hpp"

#include "client/errors.hpp"

#include "common/version.hpp"

#include <fmt/core.h>

namespace pgmig::client {

std::vector<MigrationFile> load_files(const std::string& dir, const std::string& consequence, bool allow_empty) {
    std::vector<MigrationFile> files;
    try {
        files = load_migration_dir(dir);
    } catch (const MigrationFileError& e) {
        const std::string advice = e.advice().empty() ? std::string("fix it") : e.advice();
        throw Error(ErrorKind::input, e.reason(), "in " + e.file(), advice + "; " + consequence);
    }
    if (files.empty() && !allow_empty) {
        throw Error(ErrorKind::input, "no migration files", "in " + dir,
                    "add one (pgmig new NAME, or 1_create_table.sql with a -- pgmig:up section) or pass --dir");
    }
    return files;
}

void throw_server_error(const ServerError& e, const std::string& where, const std::string& next_step) {
    const std::string what = e.sqlstate.empty() ? e.message : fmt::format("{} (SQLSTATE {})", e.message, e.sqlstate);
    const ErrorKind kind = kind_for_sqlstate(e.sqlstate);
    std::string next = next_step;
    if (kind == ErrorKind::ledger_conflict) {
        next += "; restore the applied migration's file as it was and add a new migration for the change";
    } else if (kind == ErrorKind::ledger_tampered) {
        next += "; see pgmig validate (migrate_verify()), then pgmig repair VERSION";
    } else if (kind == ErrorKind::out_of_order) {
        next += "; check them, then SET pgmig.out_of_order = allow (e.g. PGOPTIONS='-c pgmig.out_of_order=allow')";
    }
    std::string hint = e.hint;
    if (!e.detail.empty()) hint = hint.empty() ? e.detail : e.detail + "; " + hint;
    throw Error(kind, what, where, next, hint);
}

void register_files(const Connection& conn, const std::vector<MigrationFile>& files) {
    for (const auto& m : files) {
        std::optional<std::string> version;
        if (!m.repeatable()) version = m.version;
        std::optional<std::string> down;
        if (m.has_down()) down = m.down_sql;
        Result res = conn.exec_params("SELECT migrate_register($1, $2, $3, $4, $5::jsonb)",
                                      {version, m.name, m.up_sql, down, m.options.dump()});
        if (!res.ok()) {
            throw_server_error(res.error(), fmt::format("registering {} ({})", m.label(), m.path.string()),
                               "nothing was changed");
        }
    }
}

const MigrationFile* find_versioned(const std::vector<MigrationFile>& files, const std::string& version) {
    if (common::version_problem(version)) return nullptr;
    for (const auto& m : files) {
        if (!m.repeatable() && common::compare_versions(m.version, version) == 0) return &m;
    }
    return nullptr;
}

std::string interval_ms(long long ms) { return fmt::format("{} milliseconds", ms); }

}  // namespace pgmig::client
