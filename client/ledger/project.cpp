// Shared steps of the ledger commands (see project.hpp).
#include "client/ledger/project.hpp"

#include "client/core/audit_log.hpp"
#include "client/core/config.hpp"
#include "client/core/errors.hpp"

#include "common/checksum.hpp"
#include "common/version.hpp"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <ctime>
#include <map>
#include <utility>

namespace pgmig::client {

std::vector<MigrationFile> load_files(const std::string& dir, const std::string& consequence, bool allow_empty) {
    std::vector<MigrationFile> files;
    try {
        files = load_migration_dir(dir, resolve_folder_format(dir));
    } catch (const MigrationFileError& e) {
        const std::string advice = e.advice().empty() ? std::string("fix it") : e.advice();
        throw Error(e.problem() == FileProblem::bad_bytes ? ErrorKind::bad_bytes : ErrorKind::input, e.reason(),
                    "in " + e.file(), advice + "; " + consequence);
    }
    if (files.empty() && !allow_empty) {
        throw Error(ErrorKind::input, "no migration files", "in " + dir,
                    "add one (pgmig new NAME, or 1_create_table.sql with a -- pgmig:up section) or pass --dir");
    }
    return files;
}

bool is_own_permission_error(const ServerError& e) {
    return e.sqlstate == "42501" && e.message.rfind("permission denied", 0) == 0;
}

std::string pgmig_role_for_command() {
    const AuditContext& context = audit_context();
    const std::string command = context.command.substr(0, context.command.find(' '));
    if (command == "approve") return "pgmig_approver";
    static constexpr std::string_view admin[] = {"apply", "rollback", "baseline", "adopt", "repair",
                                                 "plan",  "deploy",   "backup",   "sync"};
    for (const auto name : admin) {
        if (command == name) return "pgmig_admin";
    }
    const auto& args = context.arguments;
    if (command == "drift" && std::find(args.begin(), args.end(), "--adopt") != args.end()) return "pgmig_admin";
    return "pgmig_reader";
}

Error permission_denied_error(const ServerError& e, const std::string& where, const std::string& next_step) {
    const std::string role = pgmig_role_for_command();
    std::string grantee = audit_context().db_role.value_or("ROLE");
    const bool plain = !grantee.empty() && std::all_of(grantee.begin(), grantee.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    });
    if (!plain) grantee = quote_identifier(grantee);
    std::string hint = fmt::format(
        "a superuser or the extension's owner runs GRANT {} TO {}; docs/install.md (Roles) says which role each "
        "command needs",
        role, grantee);
    if (!e.hint.empty()) hint = e.hint + "; or " + hint;
    return Error(ErrorKind::permission_denied, fmt::format("{} (SQLSTATE {})", e.message, e.sqlstate), where,
                 fmt::format("this role lacks {}'s rights{}", role, next_step.empty() ? "" : "; " + next_step), hint);
}

void throw_server_error(const ServerError& e, const std::string& where, const std::string& next_step) {
    if (is_own_permission_error(e)) throw permission_denied_error(e, where, next_step);
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

namespace {

// What the ledger holds of a migration, enough to tell whether registering a file would change it.
struct Registered {
    std::string name;
    std::string checksum;
    std::optional<std::string> down_hash;
    nlohmann::json options;
    bool vouched = false;  // this role (current and session user) already registered this very definition
};

std::string ledger_key(const std::optional<std::string>& version, const std::string& name) {
    return version ? common::version_sort_key(*version) : "\xff" + name;  // as the extension keys them
}

// The ledger's migrations by key; empty when the caller may not read the ledger (then every file
// is registered, which is always correct, only slower).
std::map<std::string, Registered> registered_migrations(const Connection& conn) {
    std::map<std::string, Registered> out;
    Result res = conn.exec_params(
        "SELECT version, name, checksum, encode(sha256(convert_to(down_sql, 'UTF8')), 'hex'), options::text, "
        "       current_user = ANY (vouched_by) AND session_user = ANY (vouched_by) "
        "FROM pgmig.migrations",
        {});
    if (!res.ok()) {
        conn.exec("ROLLBACK TO SAVEPOINT pgmig_read_ledger");
        return out;
    }
    for (int i = 0; i < res.rows(); ++i) {
        const std::optional<std::string> options = res.get_opt(i, 4);
        out[ledger_key(res.get_opt(i, 0), res.get(i, 1))] =
            Registered{res.get(i, 1), res.get(i, 2), res.get_opt(i, 3),
                       nlohmann::json::parse(options.value_or("{}"), nullptr, false), res.get(i, 5) == "t"};
    }
    return out;
}

// A file's definition as the ledger is compared with it: register_files() here, row by row, and
// up_to_date() on the server, in one query. The ledger's side of both is its checksum column and
// encode(sha256(convert_to(down_sql, 'UTF8')), 'hex').
struct FileDefinition {
    std::optional<std::string> version;    // nullopt for a repeatable migration
    std::string checksum;                  // of the up script (common::script_checksum)
    std::optional<std::string> down_hash;  // SHA-256 (hex) of the down script; nullopt without one
};

FileDefinition definition_of(const MigrationFile& m) {
    return {m.repeatable() ? std::nullopt : std::optional(m.version), common::script_checksum(m.up_sql),
            m.has_down() ? std::optional(common::sha256_hex(*m.down_sql)) : std::nullopt};
}

bool unchanged(const Registered& r, const MigrationFile& m) {
    const FileDefinition d = definition_of(m);
    // The same checksum means the same normalised text: what is stored may differ only in line
    // endings or trailing blanks, which registering would not change either.
    return r.vouched && r.name == m.name && r.checksum == d.checksum && r.down_hash == d.down_hash &&
           r.options == m.options;
}

}  // namespace

namespace {

// A file's arguments of migrate_register: version (none for a repeatable one), name, up, down, options.
std::vector<std::optional<std::string>> register_arguments(const MigrationFile& f) {
    return {f.repeatable() ? std::nullopt : std::optional<std::string>(f.version), f.name, f.up_sql,
            f.has_down() ? f.down_sql : std::nullopt,
            f.options.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)};
}

}  // namespace

RegisterArrays register_arrays(const std::vector<const MigrationFile*>& files) {
    std::vector<std::vector<std::optional<std::string>>> columns(5);
    for (const MigrationFile* f : files) {
        std::vector<std::optional<std::string>> arguments = register_arguments(*f);
        for (size_t i = 0; i < columns.size(); ++i) columns[i].push_back(std::move(arguments[i]));
    }
    return {text_array_literal(columns[0]), text_array_literal(columns[1]), text_array_literal(columns[2]),
            text_array_literal(columns[3]), text_array_literal(columns[4])};
}

std::string register_many_sql(const std::string& qualifier) {
    return fmt::format(
        "SELECT pg_catalog.count({0}migrate_register(f.v, f.n, f.u, f.d, f.o::pg_catalog.jsonb)) "
        "  FROM ROWS FROM (pg_catalog.unnest($1::pg_catalog.text[]), pg_catalog.unnest($2::pg_catalog.text[]), "
        "                  pg_catalog.unnest($3::pg_catalog.text[]), pg_catalog.unnest($4::pg_catalog.text[]), "
        "                  pg_catalog.unnest($5::pg_catalog.text[])) AS f (v, n, u, d, o)",
        qualifier);
}

namespace {

// A cancel, a timeout, a lock timeout, a deadlock or a serialization failure: running the same
// registrations again one at a time would only meet it again.
bool not_worth_repeating(const ServerError& e) {
    return e.sqlstate.empty() || e.sqlstate.starts_with("57") || e.sqlstate.starts_with("40") || e.sqlstate == "55P03";
}

// One statement for every file to register (a round trip and a plan each cost as much as the
// registration itself: 1,000 files took 0.22 s one by one, 0.08 s together, on tmpfs). true when
// they all are; false, with nothing changed, when one was refused.
bool register_together(const Connection& conn, const std::vector<const MigrationFile*>& files) {
    const RegisterArrays a = register_arrays(files);
    conn.exec("SAVEPOINT pgmig_register");
    Result res = conn.exec_params(register_many_sql(""), {a.versions, a.names, a.ups, a.downs, a.options});
    if (res.ok()) {
        conn.exec("RELEASE SAVEPOINT pgmig_register");
        return true;
    }
    conn.exec("ROLLBACK TO SAVEPOINT pgmig_register");
    conn.exec("RELEASE SAVEPOINT pgmig_register");
    if (not_worth_repeating(res.error())) {
        throw_server_error(res.error(), fmt::format("registering {} migration files", files.size()),
                           "nothing was changed");
    }
    return false;
}

}  // namespace

void register_files(const Connection& conn, const std::vector<MigrationFile>& files) {
    // One read of the ledger instead of a round trip per unchanged file: a no-op apply of a long
    // history then costs one query, not one per migration.
    conn.exec("SAVEPOINT pgmig_read_ledger");
    const std::map<std::string, Registered> known = registered_migrations(conn);
    conn.exec("RELEASE SAVEPOINT pgmig_read_ledger");
    std::vector<const MigrationFile*> changed;
    for (const auto& m : files) {
        const auto it = known.find(ledger_key(m.repeatable() ? std::nullopt : std::optional(m.version), m.name));
        if (it == known.end() || !unchanged(it->second, m)) changed.push_back(&m);
    }
    if (changed.size() > 1 && register_together(conn, changed)) return;
    // One at a time: the refusal then names its file.
    for (const MigrationFile* m : changed) {
        Result res = conn.exec_params("SELECT migrate_register($1, $2, $3, $4, $5::jsonb)", register_arguments(*m));
        if (!res.ok()) {
            throw_server_error(res.error(), fmt::format("registering {} ({})", m->label(), m->path.string()),
                               "nothing was changed");
        }
    }
}

std::optional<std::string> up_to_date(const Connection& conn, const std::vector<MigrationFile>& files,
                                      const std::optional<std::string>& environment, int required_approvals) {
    std::vector<std::optional<std::string>> versions, names, checksums, downs, options;
    for (const auto& m : files) {
        FileDefinition d = definition_of(m);
        versions.push_back(std::move(d.version));
        names.emplace_back(m.name);
        checksums.emplace_back(std::move(d.checksum));
        downs.push_back(std::move(d.down_hash));
        options.emplace_back(m.options.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    }
    // The conditions of register_files() (unchanged(), written here in SQL against the same definition),
    // of migrate_status() (applied) and of migrate_apply()'s refusals before its plan (trust::policy,
    // refuse_tampered), each written to fail towards the full way.
    // One statement sees one snapshot under any isolation level (the full way begins READ COMMITTED itself).
    Result res = conn.exec_params(
        "WITH f AS (SELECT * FROM ROWS FROM (pg_catalog.unnest($1::pg_catalog.text[]), "
        "           pg_catalog.unnest($2::pg_catalog.text[]), pg_catalog.unnest($3::pg_catalog.text[]), "
        "           pg_catalog.unnest($4::pg_catalog.text[]), pg_catalog.unnest($5::pg_catalog.text[])) "
        "           AS f (version, name, checksum, down_hash, options)), "
        "     s AS (SELECT coalesce(pg_catalog.current_setting('pgmig.environment', true), '') AS environment, "
        "                  coalesce(NULLIF(pg_catalog.current_setting('pgmig.require_approval', true), "
        "                           '')::pg_catalog.int4, 0) AS required) "
        "SELECT (SELECT e.extversion FROM pg_catalog.pg_extension e WHERE e.extname OPERATOR(pg_catalog.=) 'pgmig'), "
        "       ($6::pg_catalog.text IS NULL OR s.environment OPERATOR(pg_catalog.=) '' "
        "        OR s.environment OPERATOR(pg_catalog.=) $6) "
        "   AND (GREATEST(s.required, $7::pg_catalog.int4) OPERATOR(pg_catalog.=) 0 "
        "        OR s.environment OPERATOR(pg_catalog.<>) '' OR $6 IS NOT NULL) "
        // counted, not NOT EXISTS: planned for all rows (a hash join), not for the first one (a nested loop)
        "   AND (SELECT pg_catalog.count(*) FROM f LEFT JOIN pgmig.migrations m "
        // one key (hashed): a version, or a repeatable migration's name
        "                     ON coalesce('V' OPERATOR(pg_catalog.||) m.version, 'R' OPERATOR(pg_catalog.||) m.name) "
        "                        OPERATOR(pg_catalog.=) "
        "                        coalesce('V' OPERATOR(pg_catalog.||) f.version, 'R' OPERATOR(pg_catalog.||) f.name) "
        "                   WHERE m.version_key IS NULL OR m.name OPERATOR(pg_catalog.<>) f.name "
        "                      OR m.checksum OPERATOR(pg_catalog.<>) f.checksum "
        "                      OR (m.down_sql IS NULL) OPERATOR(pg_catalog.<>) (f.down_hash IS NULL) "
        "                      OR pg_catalog.encode(pg_catalog.sha256(pg_catalog.convert_to(m.down_sql, 'UTF8')), "
        "                                           'hex') OPERATOR(pg_catalog.<>) f.down_hash "
        "                      OR m.options OPERATOR(pg_catalog.<>) f.options::pg_catalog.jsonb "
        "                      OR NOT (CURRENT_USER OPERATOR(pg_catalog.=) ANY (m.vouched_by) "
        "                              AND SESSION_USER OPERATOR(pg_catalog.=) ANY (m.vouched_by))) "
        "       OPERATOR(pg_catalog.=) 0 "
        "   AND NOT EXISTS (SELECT FROM pgmig.migrations m "
        "                   WHERE m.applied_at IS NULL OR m.nontx_progress IS NOT NULL "
        "                      OR m.applied_checksum OPERATOR(pg_catalog.<>) m.checksum "
        "                      OR pgmig.script_checksum(m.up_sql) OPERATOR(pg_catalog.<>) m.checksum), "
        "       (SELECT m.version FROM pgmig.migrations m WHERE m.version IS NOT NULL "
        "         ORDER BY m.version_key DESC LIMIT 1) "
        "  FROM s",
        {text_array_literal(versions), text_array_literal(names), text_array_literal(checksums),
         text_array_literal(downs), text_array_literal(options), environment, std::to_string(required_approvals)});
    if (!res.ok() || res.rows() != 1 || res.get_opt(0, 0) != std::optional<std::string>(PGMIG_VERSION) ||
        res.get(0, 1) != "t") {
        return std::nullopt;
    }
    return res.is_null(0, 2) ? std::string("no version") : "version " + res.get(0, 2);
}

std::string LedgerOnly::describe() const {
    return fmt::format("{} \"{}\" (checksum {}), registered by {} at {}",
                       version ? "migration " + *version : std::string("repeatable migration"), name,
                       checksum.substr(0, 12), registered_by, registered_at);
}

std::vector<LedgerOnly> ledger_only_migrations(const Connection& conn, const std::vector<MigrationFile>& files,
                                               bool with_scripts) {
    Result res = conn.exec(fmt::format(
        "SELECT version, name, checksum, registered_by, "
        "       to_char(registered_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS \"UTC\"'), {}, options::text "
        "  FROM pgmig.migrations "
        " WHERE (version IS NOT NULL AND applied_at IS NULL) "
        "    OR (version IS NULL AND applied_checksum IS DISTINCT FROM checksum) "
        " ORDER BY version_key",
        with_scripts ? "up_sql_redacted" : "''"));
    if (!res.ok()) {
        throw_server_error(res.error(), fmt::format("reading the pending migrations, in {}", conn.target()),
                           "the role needs pgmig_reader (or pgmig_admin) to read the ledger");
    }
    std::vector<LedgerOnly> out;
    for (int i = 0; i < res.rows(); ++i) {
        LedgerOnly m{res.get_opt(i, 0),
                     res.get(i, 1),
                     res.get(i, 2),
                     res.get(i, 3),
                     res.get(i, 4),
                     res.get(i, 5),
                     nlohmann::json::parse(res.get(i, 6), nullptr, false)};
        const bool has_file = std::any_of(files.begin(), files.end(), [&m](const MigrationFile& f) {
            return m.version ? !f.repeatable() && common::compare_versions(f.version, *m.version) == 0
                             : f.repeatable() && f.name == m.name;
        });
        if (!has_file) out.push_back(std::move(m));
    }
    return out;
}

bool ledger_only_allowed(const LedgerOnly& m, const std::vector<std::string>& allowed) {
    return std::any_of(allowed.begin(), allowed.end(), [&m](const std::string& a) {
        if (!m.version) return a == "R__" + m.name;
        return !common::version_problem(a) && common::compare_versions(a, *m.version) == 0;
    });
}

void refuse_ledger_only(const std::vector<LedgerOnly>& found, const std::vector<std::string>& allowed,
                        const std::string& where, const std::string& consequence) {
    std::vector<const LedgerOnly*> refused;
    for (const auto& m : found) {
        if (!ledger_only_allowed(m, allowed)) refused.push_back(&m);
    }
    if (refused.empty()) return;
    std::string list;
    std::string names;
    for (const LedgerOnly* m : refused) {
        list += fmt::format("{}{}", list.empty() ? "" : "; ", m->describe());
        names += fmt::format(" --allow-ledger-only {}", m->version ? *m->version : "R__" + m->name);
    }
    throw Error(
        ErrorKind::ledger_only,
        fmt::format("{} pending migration{} no file holds: {}", refused.size(),
                    refused.size() == 1 ? " is registered in the ledger, but" : "s are registered in the ledger, but",
                    list),
        where,
        fmt::format("{}; pgmig applies only migrations whose file it read: review the registered script "
                    "(SELECT up_sql, down_sql FROM pgmig.migrations), then add its file, or pass{} to apply "
                    "it as registered",
                    consequence, names));
}

void vouch_for(const Connection& conn, const LedgerOnly& m) {
    Result res = conn.exec_params(
        "SELECT migrate_register(version, name, up_sql, down_sql, options) FROM pgmig.migrations "
        " WHERE version IS NOT DISTINCT FROM $1 AND (version IS NOT NULL OR name = $2) AND checksum = $3",
        {m.version, m.name, m.checksum});
    if (!res.ok()) {
        throw_server_error(res.error(), fmt::format("accepting ledger-only {}", m.describe()), "nothing was applied");
    }
    if (res.rows() != 1) {
        throw Error(ErrorKind::ledger_only,
                    fmt::format("ledger-only {} changed while it was being accepted", m.describe()),
                    "in " + conn.target(), "nothing was applied; look at it again (pgmig status) and rerun");
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

std::string utc_now(const char* format) {
    const std::time_t now = std::time(nullptr);
    std::tm utc{};
    gmtime_r(&now, &utc);
    char buf[64];
    return std::string(buf, std::strftime(buf, sizeof buf, format, &utc));
}

nlohmann::json lint_options(const MigrationFile& f) {
    nlohmann::json o = nlohmann::json::object();
    o["transactional"] = f.transactional();
    if (f.options.contains("allow")) o["allow"] = f.options["allow"];
    if (f.options.contains("lock_timeout")) o["lock_timeout"] = f.options["lock_timeout"];
    return o;
}

void ensure_migrations_dir(const std::string& dir) {
    std::error_code ec;
    if (std::filesystem::exists(dir, ec)) return;
    std::filesystem::create_directories(dir, ec);
    if (ec) {
        throw Error(ErrorKind::input, fmt::format("cannot create the migrations folder: {}", ec.message()),
                    "at " + dir, "create it, or pass --dir");
    }
}

}  // namespace pgmig::client
