// pgmig baseline: migrations marked applied without running them, once the database is shown to hold what
// they build. `baseline VERSION`: the files up to VERSION are built in a shadow database and compared with
// the database object by object. `baseline --from-database NAME`: the migration that recreates the live schema
// is written first (the diff engine, from an empty shadow database) and loaded into that shadow, which must
// then have the database's fingerprint.
#include "client/cli/commands/commands.hpp"
#include "client/core/config.hpp"
#include "client/core/db.hpp"
#include "client/diff/diff_output.hpp"
#include "client/core/errors.hpp"
#include "client/ledger/ledger_lock.hpp"
#include "client/ledger/project.hpp"
#include "client/ledger/schema_compare.hpp"
#include "client/diff/schema_diff.hpp"
#include "client/diff/shadow.hpp"

#include "common/version.hpp"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace pgmig::client {

namespace {

using nlohmann::json;
namespace fs = std::filesystem;
namespace sd = schema_diff;
using Change = ObjectDifference::Change;

// At most this many objects are listed one per line; the rest are counted.
constexpr std::size_t kListed = 50;

void check_version(const std::string& version, const char* where) {
    if (auto problem = common::version_problem(version)) {
        throw Error(ErrorKind::usage, fmt::format("bad version '{}': {}", version, *problem), where,
                    "give a version such as 3 or 1.2");
    }
}

ShadowSettingsResolved shadow_settings(const BaselineOptions& options) {
    return resolve_shadow_settings(options.env, options.shadow_db, options.shadow_owner, options.shadow_server);
}

Connection connect(const BaselineOptions& options, const GlobalOptions& global) {
    Connection conn = Connection::open(connection_for(global, options.env));
    require_extension(conn);
    return conn;
}

std::string fingerprint(const Connection& conn, const std::string& what) {
    Result res = conn.exec("SELECT migrate_fingerprint()");
    if (!res.ok()) {
        throw_server_error(res.error(), fmt::format("taking the fingerprint of {}, in {}", what, conn.target()),
                           "nothing was registered");
    }
    return res.get(0, 0);
}

std::size_t count(const std::vector<ObjectDifference>& diffs, Change change) {
    std::size_t n = 0;
    for (const auto& d : diffs) n += d.change == change ? 1 : 0;
    return n;
}

// Lines "pgmig: <prefix>: <object>" on stderr for the differences of one kind, at most kListed of them.
void list_on_stderr(const std::vector<ObjectDifference>& diffs, Change change, const char* prefix) {
    std::size_t shown = 0;
    std::size_t total = 0;
    for (const auto& d : diffs) {
        if (d.change != change) continue;
        ++total;
        if (shown < kListed) {
            std::fprintf(stderr, "pgmig: %s: %s\n", prefix, describe_difference(d).c_str());
            ++shown;
        }
    }
    if (total > shown) std::fprintf(stderr, "pgmig: %s: ... and %zu more\n", prefix, total - shown);
}

std::string first_of(const std::vector<ObjectDifference>& diffs, std::initializer_list<Change> changes) {
    for (const auto& d : diffs) {
        for (const Change c : changes) {
            if (d.change == c) return describe_difference(d);
        }
    }
    return "";
}

// A shadow database, or the error that says the check needs one (and how to do without it).
ShadowDatabase make_shadow(const Connection& conn, const ShadowSettingsResolved& settings, const std::string& why,
                           const std::string& alternative) {
    try {
        return ShadowDatabase(conn, settings);
    } catch (const Error& e) {
        if (e.kind() != ErrorKind::schema_load_failed) throw;
        throw Error(ErrorKind::schema_load_failed, e.what_failed(), e.where(),
                    fmt::format("{} needs a shadow database: {}; {}", why, e.next_step(), alternative), e.hint());
    }
}

// ---- pgmig baseline VERSION ----------------------------------------------------------------------------

// The files' up scripts as the shadow database loads them: a transactional one as one script, a
// non-transactional one statement by statement (as pgmig apply runs it, outside a transaction block). Each is
// padded with line breaks so that the shadow's errors give the line of the file.
std::vector<SchemaFile> as_schema_files(const Connection& conn, const std::vector<const MigrationFile*>& files) {
    std::vector<SchemaFile> out;
    for (const MigrationFile* f : files) {
        const std::string pad(static_cast<std::size_t>(std::max(0, f->up_first_line - 1)), '\n');
        if (f->transactional()) {
            out.push_back(SchemaFile{f->path.string(), pad + f->up_sql});
            continue;
        }
        Result res = conn.exec_params("SELECT line, statement FROM pgmig.split_statements($1) ORDER BY n", {f->up_sql});
        if (!res.ok()) {
            throw_server_error(res.error(), fmt::format("splitting {} into statements", f->path.string()),
                               "nothing was registered");
        }
        for (int i = 0; i < res.rows(); ++i) {
            const int line = std::stoi(res.get(i, 0));
            out.push_back(
                SchemaFile{f->path.string(),
                           pad + std::string(static_cast<std::size_t>(std::max(0, line - 1)), '\n') + res.get(i, 1)});
        }
    }
    return out;
}

// Throws Error(baseline_refused) when an object the files up to VERSION create is missing from the database or
// described differently there; objects only the database has are noted. Nothing to mark applied: no check.
void check_against_files(const Connection& conn, const std::vector<MigrationFile>& files,
                         const BaselineOptions& options, const std::string& dir) {
    Result ledger =
        conn.exec("SELECT version FROM pgmig.migrations WHERE version IS NOT NULL AND applied_at IS NOT NULL");
    if (!ledger.ok()) {
        throw_server_error(ledger.error(), fmt::format("reading the ledger, in {}", conn.target()),
                           "nothing was registered");
    }
    std::vector<std::string> applied;
    std::string upto = options.version;  // an applied migration after VERSION has changed the schema too
    for (int i = 0; i < ledger.rows(); ++i) {
        applied.push_back(ledger.get(i, 0));
        if (common::compare_versions(applied.back(), upto) > 0) upto = applied.back();
    }
    bool marks_something = false;
    std::vector<const MigrationFile*> built;
    for (const auto& f : files) {
        if (f.repeatable() || common::compare_versions(f.version, upto) > 0) continue;
        built.push_back(&f);
        bool is_applied = false;
        for (const auto& v : applied) is_applied |= common::compare_versions(v, f.version) == 0;
        marks_something |= !is_applied && common::compare_versions(f.version, options.version) <= 0;
    }
    if (!marks_something || find_versioned(files, options.version) == nullptr) return;  // migrate_baseline decides

    const json live = fetch_snapshot(conn, "the database");
    const std::vector<SchemaFile> scripts = as_schema_files(conn, built);
    json expected;
    {
        ShadowDatabase shadow = make_shadow(conn, shadow_settings(options), "pgmig baseline's check",
                                            "or pass --force to baseline without comparing the database with the "
                                            "files; nothing was registered");
        try {
            expected = shadow.load(scripts);
        } catch (const Error& e) {
            if (e.kind() != ErrorKind::schema_load_failed) throw;
            throw Error(ErrorKind::schema_load_failed,
                        fmt::format("cannot check the database: the migrations up to {} do not build in a shadow "
                                    "database: {}",
                                    upto, e.what_failed()),
                        e.where(),
                        "fix the migration (run on an empty database, it must build the schema), or pass --force to "
                        "baseline without the check; nothing was registered",
                        e.hint());
        }
    }
    const std::vector<ObjectDifference> diffs = compare_snapshots(expected, live);
    const std::size_t missing = count(diffs, Change::missing);
    const std::size_t changed = count(diffs, Change::changed);
    const std::size_t extra = count(diffs, Change::extra);
    if (missing + changed > 0) {
        list_on_stderr(diffs, Change::missing, "missing from the database (the migrations create it)");
        list_on_stderr(diffs, Change::changed, "differs from what the migrations create");
        throw Error(
            ErrorKind::baseline_refused,
            live.empty()
                ? fmt::format("the database is empty, and the migrations up to {} create {} object{} (e.g. {})", upto,
                              missing, missing == 1 ? "" : "s", first_of(diffs, {Change::missing}))
                : fmt::format("the database is not what the migrations up to {} build: {} object{} they create {} "
                              "missing and {} differ{} (e.g. {})",
                              upto, missing, missing == 1 ? "" : "s", missing == 1 ? "is" : "are", changed,
                              changed == 1 ? "s" : "", first_of(diffs, {Change::missing, Change::changed})),
            fmt::format("in {}, compared with the files of {} built in a shadow database", conn.target(), dir),
            fmt::format("nothing was registered or marked applied; if the database is not at version {0}, apply the "
                        "migrations instead (pgmig apply); if it is, pass --force to baseline it as it is (the "
                        "differences listed above then stay, unrecorded)",
                        options.version));
    }
    fmt::print(
        "checked: the database holds the {} object{} the migrations up to {} create, as they create them "
        "(built in a shadow database and compared)\n",
        expected.size(), expected.size() == 1 ? "" : "s", upto);
    if (extra > 0) {
        std::size_t shown = 0;
        for (const auto& d : diffs) {
            if (d.change != Change::extra || shown++ >= kListed) continue;
            fmt::print("note: not created by the migrations: {}\n", describe_difference(d));
        }
        if (extra > kListed) fmt::print("note: ... and {} more\n", extra - kListed);
        fmt::print(
            "note: {} object{} only the database {} (not created by the migrations): {} now part of the schema "
            "pgmig expects\n",
            extra, extra == 1 ? "" : "s", extra == 1 ? "has" : "have", extra == 1 ? "it is" : "they are");
    }
}

int baseline_version(const GlobalOptions& global, const BaselineOptions& options) {
    check_version(options.version, "in VERSION");
    const std::string dir = resolve_migrations_dir(options.dir);
    const std::vector<MigrationFile> files = load_files(dir, "nothing was changed");
    Connection conn = connect(options, global);
    if (options.force) {
        std::fprintf(stderr, "pgmig: warning: --force: the database was not checked against the migrations up to %s\n",
                     options.version.c_str());
    } else {
        const InterruptGuard guard;  // Ctrl-C drops the shadow database
        check_against_files(conn, files, options, dir);
    }
    LedgerLock ledger_lock(conn, "nothing was changed");  // waited for without a snapshot (ledger_lock.hpp)
    Transaction tx(conn);
    register_files(conn, files);
    Result res = conn.exec_params("SELECT version, name, action FROM migrate_baseline($1)", {options.version});
    if (!res.ok()) throw_server_error(res.error(), fmt::format("baseline {}", options.version), "nothing was changed");
    Result commit = tx.commit();
    if (!commit.ok()) throw_server_error(commit.error(), "committing the baseline", "nothing was changed");
    for (int i = 0; i < res.rows(); ++i) {
        fmt::print("baselined {}_{} (marked applied, not run)\n", res.get(i, 0), res.get(i, 1));
    }
    fmt::print("{} baselined, database at version {}{}\n", res.rows(), options.version,
               options.force ? " (--force: not checked against the migrations)" : "");
    return kExitOk;
}

// ---- pgmig baseline --from-database NAME ---------------------------------------------------------------

// What a migration recreated from the catalog does not carry (the docs say more: docs/adopting.md).
constexpr const char* kNotCarried =
    "roles and role memberships, object owners (the file creates objects owned by whoever applies it), default "
    "privileges, grants on the public schema, database and role settings, data (rows, sequence positions, "
    "materialized view contents), and objects pgmig's snapshot does not describe (operators, casts, collations, "
    "text search configurations, rules, event triggers, statistics objects, publications, foreign servers)";

// Refused: a ledger with applied migrations (a history exists), or migrations of the ledger or the folder at or
// before `version`, which migrate_baseline would mark applied without running (or which would run after it).
void refuse_history(const Connection& conn, const std::vector<MigrationFile>& files, const std::string& version,
                    const std::string& dir) {
    Result res = conn.exec(
        "SELECT coalesce(version, 'R__' || name), name, applied_at IS NOT NULL, version IS NULL "
        "  FROM pgmig.migrations ORDER BY version_key");
    if (!res.ok()) {
        throw_server_error(res.error(), fmt::format("reading the ledger, in {}", conn.target()), "nothing was written");
    }
    std::string applied;
    std::string before;
    int applied_count = 0;
    for (int i = 0; i < res.rows(); ++i) {
        const std::string label = res.get(i, 0);
        if (res.get(i, 2) == "t") {
            ++applied_count;
            if (applied_count <= 3) applied += (applied.empty() ? "" : ", ") + label;
        } else if (res.get(i, 3) != "t" && common::compare_versions(res.get(i, 0), version) <= 0) {
            before += (before.empty() ? "" : ", ") + label + " (registered)";
        }
    }
    if (applied_count > 0) {
        throw Error(
            ErrorKind::baseline_refused,
            fmt::format("the database has a migration history already: {} applied migration{} ({}{})", applied_count,
                        applied_count == 1 ? "" : "s", applied, applied_count > 3 ? ", ..." : ""),
            fmt::format("in the ledger of {}", conn.target()),
            "baseline --from-database starts a history; see this one with pgmig status, mark files applied "
            "with pgmig baseline VERSION, or record a drift with pgmig drift --adopt NAME; nothing was written");
    }
    for (const auto& f : files) {
        if (!f.repeatable() && common::compare_versions(f.version, version) <= 0) {
            before += (before.empty() ? "" : ", ") + f.file_name;
        }
    }
    if (!before.empty()) {
        throw Error(ErrorKind::baseline_refused,
                    fmt::format("migrations at or before version {} exist: {} (they would be marked applied without "
                                "running, or run after the baseline out of order)",
                                version, sd::comment_text(before)),
                    fmt::format("in {} and the ledger of {}", dir, conn.target()),
                    "move them out of the folder (and keep them for later), or give --version V after them if they "
                    "belong after the baseline; nothing was written");
    }
}

void write_new(const fs::path& path, const std::string& text) {
    std::error_code ec;
    if (fs::exists(path, ec)) {
        throw Error(ErrorKind::input, "the file exists already", "at " + path.string(),
                    "pick another NAME or --version; nothing was written");
    }
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
    out.close();
    if (!out) {
        fs::remove(path, ec);
        throw Error(ErrorKind::input, "cannot write the file", "at " + path.string(),
                    "check the folder's permissions; nothing was written");
    }
}

MigrationFile read_back(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    if (!in) throw Error(ErrorKind::input, "cannot read the file back", "at " + path.string(), "check the folder");
    try {
        return parse_migration_file(path.filename().string(), text.str());
    } catch (const MigrationFileError& e) {
        throw Error(ErrorKind::internal, fmt::format("the written migration does not parse: {}", e.reason()),
                    "in " + path.string(), "please report this as a bug");
    }
}

// The draft that failed the check: renamed so that no pgmig command reads it; returns the new path.
fs::path reject(const fs::path& path) {
    fs::path rejected = path;
    rejected += ".rejected";
    std::error_code ec;
    fs::rename(path, rejected, ec);
    if (ec) {
        fs::remove(path, ec);
        return {};
    }
    return rejected;
}

std::string kept_as(const fs::path& rejected, const fs::path& path, const std::string& version) {
    if (rejected.empty()) return "it was not registered, and the file was removed";
    return fmt::format(
        "it was not registered; the draft is kept as {} (no pgmig command reads it): add what it "
        "lacks, rename it to {} and run pgmig baseline {}, which checks it against the database again",
        rejected.string(), path.filename().string(), version);
}

// The up script as the shadow database runs it to check it: every materialized view created WITH NO DATA.
// Populating one runs its query, which calls functions of whoever could create objects in the database, with
// the rights of the role running pgmig (often a superuser, on the target's server): a role that may create a
// function and a materialized view must not gain those rights. The snapshot does not record whether a
// materialized view is populated, so the check compares the same thing. Throws when a statement cannot be
// found in the file, rather than run it populated.
std::string without_data(std::string up_sql, const std::vector<sd::Statement>& statements) {
    for (const auto& st : statements) {
        std::string_view body = st.sql;
        while (body.starts_with("--")) {  // "-- pgmig:allow ..." lines
            const auto eol = body.find('\n');
            body = eol == std::string_view::npos ? std::string_view{} : body.substr(eol + 1);
        }
        if (!body.starts_with("CREATE MATERIALIZED VIEW ")) continue;
        const std::string text = sd::file_safe_sql(st.sql);
        const auto at = up_sql.find(text);
        if (at == std::string::npos || text.empty() || text.back() != ';') {
            throw Error(ErrorKind::internal,
                        fmt::format("cannot find the statement of {} in the written migration", st.subject),
                        "checking the written migration", "please report this as a bug; nothing was registered");
        }
        up_sql.insert(at + text.size() - 1, " WITH NO DATA");
    }
    return up_sql;
}

std::string file_header() {
    return "-- Baseline: the schema of a database that had no migration history, recreated from its catalog by\n"
           "-- pgmig baseline --from-database, checked in a shadow database (same fingerprint) and marked applied\n"
           "-- there without running. On an empty database it builds the same schema. Not in this file: roles,\n"
           "-- object owners, default privileges, data, and objects pgmig's snapshot does not describe\n"
           "-- (docs/adopting.md, \"No migration history at all\"). Its down script drops the whole schema:\n"
           "-- pgmig rollback refuses it without --force.\n";
}

int baseline_from_database(const GlobalOptions& global, const BaselineOptions& options) {
    const std::string& name = options.from_database;
    if (!is_valid_name(name)) {
        throw Error(ErrorKind::usage, fmt::format("bad migration name '{}'", name), "in --from-database",
                    "use letters, digits, '_' and '-' only, e.g. baseline");
    }
    std::string version = options.new_version;
    if (version.empty()) {
        version = utc_now("%Y%m%d%H%M%S");
    } else {
        check_version(version, "in --version");
    }
    const std::string dir = resolve_migrations_dir(options.dir);
    ensure_migrations_dir(dir);
    std::error_code ec;
    const std::vector<MigrationFile> files = load_files(dir, "nothing was written", true);
    const fs::path path = fs::path(dir) / fmt::format("{}_{}.sql", version, name);

    const InterruptGuard guard;  // Ctrl-C drops the shadow database (and the draft is removed below)
    Connection conn = connect(options, global);
    refuse_history(conn, files, version, dir);
    const json live = fetch_snapshot(conn, "the database");
    const std::string live_fp = fingerprint(conn, "the database");
    if (live.empty()) {
        throw Error(ErrorKind::baseline_refused, "nothing to baseline: the database has no object pgmig describes",
                    fmt::format("in {}", conn.target()),
                    "start the history with pgmig new NAME (or pgmig generate NAME from a schema folder); nothing was "
                    "written");
    }

    MigrationFile written;
    std::string down_warning;
    {
        ShadowDatabase shadow = make_shadow(conn, shadow_settings(options), "baseline --from-database",
                                            "nothing was written or registered");
        const json empty = shadow.load({});
        sd::Options diff_options;
        diff_options.allow_destructive = true;
        diff_options.no_renames = true;
        diff_options.server_version_num = PQserverVersion(conn.raw());
        diff_options.safe_forms = false;  // one transactional migration: everything is new
        // default privileges are not carried (see "Not carried"); owners are not written without a migration role
        json carried = live;
        for (auto it = carried.begin(); it != carried.end();)
            it = it.key().rfind("default acl ", 0) == 0 ? carried.erase(it) : std::next(it);
        const sd::Result result = sd::diff(empty, carried, diff_options);
        if (!result.unsupported.empty()) {
            for (const auto& u : result.unsupported) {
                std::fprintf(stderr, "pgmig: unsupported: %s\n", sd::comment_text(u).c_str());
            }
            throw Error(
                ErrorKind::diff_unsupported,
                fmt::format("the schema holds {} object{} pgmig cannot write DDL for: {}", result.unsupported.size(),
                            result.unsupported.size() == 1 ? "" : "s", sd::comment_text(result.unsupported.front())),
                fmt::format("in {}", conn.target()),
                "nothing was written or registered; write the baseline migration by hand (pg_dump "
                "--schema-only is a start) and mark it applied with pgmig baseline VERSION, which checks it");
        }
        if (!result.post.up.empty() || result.main.up.empty()) {
            throw Error(ErrorKind::internal, "the diff from an empty database gave no single transactional migration",
                        fmt::format("in {}", conn.target()), "please report this as a bug; nothing was written");
        }
        const Provenance provenance{"pgmig baseline --from-database " + name,
                                    "the live schema of the database (baseline)", conn.target(),
                                    utc_now("%Y-%m-%dT%H:%M:%SZ")};
        const std::string text =
            file_header() + migration_file_text(provenance, result.main.up, result.main.down, {}, true);
        try {
            (void)parse_migration_file(path.filename().string(), text);
        } catch (const MigrationFileError& e) {
            throw Error(ErrorKind::internal, fmt::format("the generated migration does not parse: {}", e.reason()),
                        "in " + path.filename().string(), "please report this as a bug; nothing was written");
        }
        InterruptGuard::check("before writing the migration (nothing was written)");
        write_new(path, text);
        try {
            written = read_back(path);
            // The written file, loaded into the shadow (still empty), must give the database's schema.
            json built;
            try {
                const std::string pad(static_cast<std::size_t>(std::max(0, written.up_first_line - 1)), '\n');
                built = shadow.load({SchemaFile{path.string(), pad + without_data(written.up_sql, result.main.up)}});
            } catch (const Error& e) {
                if (e.kind() != ErrorKind::schema_load_failed || InterruptGuard::interrupted()) throw;
                const fs::path rejected = reject(path);
                throw Error(ErrorKind::baseline_refused,
                            fmt::format("the written migration does not rebuild the schema: it fails in a shadow "
                                        "database: {}",
                                        e.what_failed()),
                            e.where(), kept_as(rejected, path, version), e.hint());
            }
            const std::vector<ObjectDifference> diffs = compare_snapshots(live, built);
            if (!diffs.empty()) {
                list_on_stderr(diffs, Change::missing, "the file does not create");
                list_on_stderr(diffs, Change::changed, "the file creates it otherwise");
                list_on_stderr(diffs, Change::extra, "the file creates what the database lacks");
                const fs::path rejected = reject(path);
                throw Error(ErrorKind::baseline_refused,
                            fmt::format("the written migration does not rebuild the schema: {} object{} differ{} "
                                        "(e.g. {})",
                                        diffs.size(), diffs.size() == 1 ? "" : "s", diffs.size() == 1 ? "s" : "",
                                        describe_difference(diffs.front())),
                            fmt::format("loaded into a fresh shadow database, compared with {}", conn.target()),
                            kept_as(rejected, path, version));
            }
            // Its down script, from there, should leave the shadow empty: rollback --force would run it.
            if (written.down_sql) {
                try {
                    const json after = shadow.load({SchemaFile{path.string() + " (down)", *written.down_sql}});
                    if (after != empty) {
                        down_warning = fmt::format("{} object{} stay", compare_snapshots(empty, after).size(),
                                                   compare_snapshots(empty, after).size() == 1 ? "" : "s");
                    }
                } catch (const Error& e) {
                    if (e.kind() != ErrorKind::schema_load_failed || InterruptGuard::interrupted()) throw;
                    down_warning = one_line(e.what_failed());
                }
            }
        } catch (...) {
            if (fs::exists(path, ec)) fs::remove(path, ec);
            throw;
        }
    }

    // Registered and marked applied in one transaction, if the schema is still the one the file was checked for.
    // Ctrl-C cancels it (and the file is removed) rather than leave a written file unregistered.
    InterruptGuard::watch(&conn);
    try {
        LedgerLock ledger_lock(conn, "nothing was registered");  // waited for without a snapshot (ledger_lock.hpp)
        Transaction tx(conn);
        if (fingerprint(conn, "the database") != live_fp) {
            throw Error(ErrorKind::baseline_refused, "the schema changed while the baseline was written and checked",
                        fmt::format("in {}", conn.target()),
                        "nothing was registered and the file was removed; run the command again");
        }
        register_files(conn, {written});
        Result res = conn.exec_params("SELECT version FROM migrate_baseline($1)", {version});
        if (!res.ok()) {
            throw_server_error(res.error(), fmt::format("marking {} applied", written.label()),
                               "nothing was registered and the file was removed");
        }
        if (res.rows() != 1 || common::compare_versions(res.get(0, 0), version) != 0) {
            throw Error(ErrorKind::baseline_refused,
                        fmt::format("other migrations would have been marked applied with it ({} in all)", res.rows()),
                        fmt::format("in the ledger of {}", conn.target()),
                        "nothing was registered and the file was removed; see pgmig status");
        }
        InterruptGuard::check("before committing the baseline (nothing was registered and the file was removed)");
        Result commit = tx.commit();
        if (!commit.ok()) {
            throw_server_error(commit.error(), "committing the baseline",
                               "nothing was registered and the file was removed");
        }
    } catch (...) {
        InterruptGuard::watch(nullptr);
        fs::remove(path, ec);
        throw;
    }
    InterruptGuard::watch(nullptr);

    fmt::print("wrote {}\n", path.string());
    fmt::print(
        "checked: loaded into a fresh shadow database, the file gives the database's fingerprint {} ({} "
        "object{})\n",
        live_fp, live.size(), live.size() == 1 ? "" : "s");
    fmt::print("baselined {} (marked applied, not run)\n", written.label());
    std::string extensions;
    for (const auto& [key, d] : live.items()) {
        if (key.starts_with("extension ")) extensions += (extensions.empty() ? "" : ", ") + key.substr(10);
    }
    if (!extensions.empty()) {
        const bool one = extensions.find(',') == std::string::npos;
        fmt::print("note: the file creates extension{} {}: a database it is applied to needs {} files installed\n",
                   one ? "" : "s", sd::comment_text(extensions), one ? "its" : "their");
    }
    fmt::print("note: not carried by the file: {}\n", kNotCarried);
    std::fflush(stdout);
    if (!down_warning.empty()) {
        std::fprintf(stderr,
                     "pgmig: warning: the down script of %s does not undo it cleanly in the shadow database (%s); "
                     "pgmig rollback --force of it would fail or leave objects\n",
                     written.label().c_str(), sd::comment_text(down_warning).c_str());
    }
    return kExitOk;
}

}  // namespace

int run_baseline(const GlobalOptions& global, const BaselineOptions& options) {
    if (options.from_database.empty()) {
        if (options.version.empty()) {
            throw Error(ErrorKind::usage, "VERSION or --from-database NAME is required", "on the command line",
                        "pgmig baseline VERSION marks the files up to VERSION applied; pgmig baseline --from-database "
                        "NAME writes the migration of the live schema first");
        }
        if (!options.new_version.empty()) {
            throw Error(ErrorKind::usage, "--version goes with --from-database", "on the command line",
                        "give the version as VERSION: pgmig baseline VERSION");
        }
        return baseline_version(global, options);
    }
    if (!options.version.empty()) {
        throw Error(ErrorKind::usage, "VERSION and --from-database exclude each other", "on the command line",
                    "the version of the migration --from-database writes is --version V");
    }
    if (options.force) {
        throw Error(ErrorKind::usage, "--force does not go with --from-database", "on the command line",
                    "a migration that does not rebuild the schema is never registered");
    }
    return baseline_from_database(global, options);
}

}  // namespace pgmig::client
