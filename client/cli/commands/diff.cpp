// pgmig diff, generate, sync and drift: the desired schema (schema folder in a shadow database, or --to)
// against the target, through the diff engine (client/diff/schema_diff.hpp), printed or written as migrations.
#include "client/cli/commands/commands.hpp"
#include "client/diff/added_not_null.hpp"
#include "client/core/config.hpp"
#include "client/core/db.hpp"
#include "client/diff/diff_output.hpp"
#include "client/diff/orm_schema.hpp"
#include "client/core/errors.hpp"
#include "client/cli/json_output.hpp"
#include "client/ledger/ledger_lock.hpp"
#include "client/ledger/project.hpp"
#include "client/diff/schema_diff.hpp"
#include "client/diff/shadow.hpp"

#include "common/version.hpp"

#include <unistd.h>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

namespace pgmig::client {

namespace {

using nlohmann::json;
namespace fs = std::filesystem;
namespace sd = schema_diff;

struct Desired {
    json snapshot;
    std::string description;  // for messages and the generated file's header: never a password
};

ShadowSettingsResolved shadow_settings(const DiffOptions& options) {
    return resolve_shadow_settings(options.env, options.shadow_db, options.shadow_owner, options.shadow_server);
}

// Who runs the migration and which roles the target has (for owners and privileges; see sd::Options).
struct Roles {
    std::string migration_role;
    std::string desired_role;
    std::set<std::string> target_roles;
    bool known = false;
    int server_version_num = 0;  // the target's (which privileges an owner holds by default)
};

struct Snapshots {
    json from;  // the target's
    Desired desired;
    Roles roles;
};

// current_user of a connection, as an identifier (the form snapshots write role names in); "" if unreadable.
std::string current_role_of(const Connection& conn) {
    Result r = conn.exec("SELECT pg_catalog.current_user()::pg_catalog.regrole::pg_catalog.text");
    return r.ok() && r.rows() == 1 ? r.get(0, 0) : std::string();
}

// The target's role (who runs the migration) and role names. `desired_role`: who loaded the desired schema.
Roles target_roles(const Connection& target, std::string desired_role) {
    Roles roles;
    roles.migration_role = current_role_of(target);
    roles.server_version_num = PQserverVersion(target.raw());
    roles.desired_role = desired_role.empty() ? roles.migration_role : std::move(desired_role);
    Result r = target.exec("SELECT oid::pg_catalog.regrole::pg_catalog.text FROM pg_catalog.pg_roles");
    if (r.ok()) {
        for (int i = 0; i < r.rows(); ++i) roles.target_roles.insert(r.get(i, 0));
        roles.known = true;
    }
    return roles;
}

// The schema folder's files (none with --to), read before any connection is made: a file with a NUL byte
// or invalid UTF-8 is refused (exit 43) before anything connects or is created.
struct SchemaInput {
    std::string dir;
    std::vector<SchemaFile> files;
};

// --to names a database, unless it names an ORM schema (drizzle:PATH, prisma:PATH).
bool to_is_database(const DiffOptions& options) { return !options.to.empty() && !parse_orm_schema_source(options.to); }

// An ORM schema (schema = "drizzle:..." / "prisma:...", --schema or --to) is turned into SQL by the project's
// own tool here, also before anything connects; its SQL is then loaded like one schema file.
SchemaInput read_desired(const DiffOptions& options) {
    if (to_is_database(options)) return {};
    std::string dir = options.to.empty() ? resolve_schema_dir(options.schema) : options.to;
    if (const auto orm = parse_orm_schema_source(dir)) return {orm->text, {orm_schema_file(*orm)}};
    std::vector<SchemaFile> files = read_schema_folder(dir);
    return {std::move(dir), std::move(files)};
}

std::string describe_desired(const SchemaInput& input) {
    if (const auto orm = parse_orm_schema_source(input.dir)) {
        return fmt::format("{} schema {} ({} output, loaded into a shadow database)",
                           orm->tool == OrmTool::drizzle ? "Drizzle" : "Prisma", orm->path,
                           orm_tool_program(orm->tool));
    }
    return fmt::format("schema folder {} ({} file{}, loaded into a shadow database)", input.dir, input.files.size(),
                       input.files.size() == 1 ? "" : "s");
}

// The target's snapshot and the desired schema's: the --to database's, or the schema folder's loaded into a
// shadow database (dropped before this returns, also when it throws).
//
// With --to, the target's server builds its snapshot while the --to server builds the other. Not with a
// shadow: CREATE/DROP DATABASE wait until every backend of the server has absorbed a barrier, and the
// target's backend, blocked sending a result the client has not read yet, would never absorb it.
Snapshots take_snapshots(const Connection& target, const DiffOptions& options, const SchemaInput& input) {
    if (to_is_database(options)) {
        Connection to = Connection::open(options.to);
        require_extension(to);
        PendingSnapshot pending(target, "the target");
        json desired = fetch_snapshot(to, "the --to database");
        json from = pending.take();
        Roles roles = target_roles(target, current_role_of(to));
        return {std::move(from), {std::move(desired), "database " + to.target()}, std::move(roles)};
    }
    json from = fetch_snapshot(target, "the target");
    const ShadowSettingsResolved settings = shadow_settings(options);
    // the shadow is loaded by the target's role, or by the shadow server's
    Roles roles = target_roles(
        target, settings.server.empty() ? std::string() : current_role_of(Connection::open(settings.server)));
    ShadowDatabase shadow(target, settings);
    json snapshot = shadow.load(input.files);
    return {std::move(from), {std::move(snapshot), describe_desired(input)}, std::move(roles)};
}

bool on_terminal() { return isatty(STDIN_FILENO) == 1 && isatty(STDERR_FILENO) == 1; }

struct RenameChoice {
    std::vector<std::string> renames;
    bool no_rename = false;
};

// NOT NULL columns without a default added to existing tables: their tables' rows, counted on `target` (the
// database `from` was taken of) for the tables not counted yet; none without a target or the safe forms.
void count_rows_for(sd::Options& options, const json& from, const json& to, const Connection* target) {
    if (target == nullptr || !options.safe_forms) return;
    std::vector<AddedNotNull> uncounted;
    for (const auto& c : added_not_null_columns(from, to, options.renames))
        if (options.table_rows.count(c.table) == 0) uncounted.push_back(c);
    for (auto& [table, rows] : count_table_rows(*target, uncounted)) options.table_rows[table] = std::move(rows);
}

// The diff with the user's renames; on a terminal, each probable rename left is asked about, and the
// diff is made again with the answers (a "no" means: not renames, drop + add). With a target, the rows of
// the tables that get a NOT NULL column without a default are counted there (docs/diff.md).
sd::Result compute(const json& from, const json& to, bool allow_destructive, const RenameChoice& choice,
                   bool safe_forms, const Roles& roles, bool reorder_columns = false,
                   const Connection* target = nullptr, const std::vector<std::string>& backfills = {}) {
    sd::Options options;
    options.migration_role = roles.migration_role;
    options.desired_role = roles.desired_role;
    options.roles_known = roles.known;
    options.server_version_num = roles.server_version_num;
    options.target_roles = roles.target_roles;
    options.allow_destructive = allow_destructive;
    options.reorder_columns = reorder_columns;
    options.no_renames = choice.no_rename;
    options.safe_forms = safe_forms;
    for (const auto& argument : choice.renames) options.renames.push_back(parse_rename(argument, from));
    for (const auto& argument : backfills) options.backfills.push_back(parse_backfill(argument, to));
    count_rows_for(options, from, to, target);
    for (const auto& unused : unused_backfills(options.backfills, from, to, options.renames)) {
        std::fprintf(stderr,
                     "pgmig: warning: --backfill '%s' names no NOT NULL column without a default that this diff adds "
                     "to %s (or drops from it); it is not used\n",
                     sd::comment_text(unused.argument).c_str(), sd::comment_text(unused.table).c_str());
    }
    sd::Result result = sd::diff(from, to, options);
    if (result.probable_renames.empty() || options.no_renames || !on_terminal()) return result;
    bool declined = false;
    for (const auto& rename : result.probable_renames) {
        std::fprintf(stderr, "pgmig: %s %s is dropped and %s added (%s).\n  Is it a rename? [y/N] ",
                     rename.kind.c_str(), sd::comment_text(rename.from).c_str(), sd::comment_text(rename.to).c_str(),
                     sd::comment_text(one_line(rename.reason)).c_str());
        std::fflush(stderr);
        std::string answer;
        if (!std::getline(std::cin, answer)) {
            InterruptGuard::check("asking about a probable rename");
            std::cin.clear();
        }
        if (answer == "y" || answer == "Y" || answer == "yes") {
            options.renames.push_back(sd::Rename{rename.kind, rename.from, rename.to});
        } else {
            declined = true;
        }
    }
    if (declined) options.no_renames = true;
    count_rows_for(options, from, to, target);
    return sd::diff(from, to, options);
}

// ==== column order: a warning, never a blocker (docs/diff.md, "Column order") ====

std::string column_list(const std::vector<std::string>& columns) {
    std::string out;
    for (const auto& c : columns) out += (out.empty() ? "" : ", ") + c;
    return "(" + out + ")";
}

// The estimated row count of a table in the target (pg_class.reltuples), for the rebuild's warning.
std::string estimated_rows(const Connection* target, const std::string& table) {
    if (target == nullptr) return "its rows are";
    Result res = target->exec_params(
        "SELECT c.reltuples::bigint FROM pg_catalog.pg_class c WHERE c.oid = pg_catalog.to_regclass($1)", {table});
    if (!res.ok() || res.rows() == 0 || res.is_null(0, 0)) return "its rows are";
    const std::string n = res.get(0, 0);
    if (n.empty() || n[0] == '-') return "its rows (never analyzed: count unknown) are";
    return fmt::format("about {} row{} {}", n, n == "1" ? "" : "s", n == "1" ? "is" : "are");
}

// One line per table whose column order differs: rebuilt (with the lock and the rewrite), refused (why), or
// left as it is (how to rebuild it, how to compare without it).
void warn_column_order(const sd::Result& result, const Connection* target) {
    for (const auto& c : result.column_order) {
        const std::string table = sd::comment_text(c.table);
        if (c.rebuilt) {
            std::fprintf(stderr,
                         "pgmig: warning: rebuild of %s to the desired column order %s (--reorder-columns): the "
                         "table is locked (ACCESS EXCLUSIVE) while %s copied and its indexes rebuilt; the down "
                         "rebuilds it back to %s\n",
                         table.c_str(), sd::comment_text(column_list(c.desired)).c_str(),
                         estimated_rows(target, c.table).c_str(), sd::comment_text(column_list(c.live)).c_str());
        } else {
            std::fprintf(
                stderr, "pgmig: warning: column order of %s differs: live %s, desired %s; %s\n", table.c_str(),
                sd::comment_text(column_list(c.live)).c_str(), sd::comment_text(column_list(c.desired)).c_str(),
                c.refused.empty() ? "everything else is generated; --reorder-columns rebuilds the table, "
                                    "migrate_fingerprint(true) compares without column order"
                                  : ("--reorder-columns cannot rebuild it: " + sd::comment_text(c.refused)).c_str());
        }
    }
}

// The tables whose only difference is their column order, for "equal except for column order of: ...".
std::string column_order_tables(const sd::Result& result) {
    std::string out;
    for (const auto& c : result.column_order)
        if (!c.rebuilt) out += (out.empty() ? "" : ", ") + sd::comment_text(c.table);
    return out;
}

// Probable renames nobody decided about: listed with the exact arguments; refused (33) when destructive
// steps are allowed, since the drop would then really run.
void check_renames(const sd::Result& result, bool allow_destructive) {
    for (const auto& rename : result.probable_renames) {
        // Names from the database are shown escaped: a line break or a terminal escape in a name cannot
        // fake lines of output.
        std::fprintf(
            stderr, "pgmig: probable rename: %s %s -> %s (%s); pass %s if it is one, or --no-rename if it is not\n",
            rename.kind.c_str(), sd::comment_text(rename.from).c_str(), sd::comment_text(rename.to).c_str(),
            sd::comment_text(one_line(rename.reason)).c_str(), sd::comment_text(rename_argument(rename)).c_str());
    }
    if (allow_destructive && !result.probable_renames.empty()) {
        const auto& first = result.probable_renames.front();
        throw Error(ErrorKind::rename_unresolved,
                    fmt::format("{} probable rename{} not resolved (e.g. {} {} -> {})", result.probable_renames.size(),
                                result.probable_renames.size() == 1 ? "" : "s", first.kind, first.from, first.to),
                    "with --allow-destructive, which would drop the old one with its data",
                    fmt::format("pass {} (once per rename listed above), or --no-rename if they are not renames; "
                                "nothing was changed or written",
                                rename_argument(first)));
    }
}

// Objects the engine cannot write DDL for: named, exit 36.
[[noreturn]] void throw_unsupported(const sd::Result& result, const std::string& consequence) {
    for (const auto& u : result.unsupported) {
        std::fprintf(stderr, "pgmig: unsupported: %s\n", sd::comment_text(u).c_str());
    }
    throw Error(ErrorKind::diff_unsupported,
                fmt::format("the diff met {} object{} it cannot write DDL for: {}", result.unsupported.size(),
                            result.unsupported.size() == 1 ? "" : "s", result.unsupported.front()),
                "in the desired schema or the target",
                "change those objects with a hand-written migration (pgmig new); " + consequence);
}

// Unsupported objects never block the rest: each is named as a warning on stderr (and under "unsupported" in
// --json), everything else is printed or written. --strict makes them an error (exit 36) before anything is.
void report_unsupported(const sd::Result& result, bool strict, const std::string& consequence) {
    if (result.unsupported.empty()) return;
    if (strict) throw_unsupported(result, consequence);
    for (const auto& u : result.unsupported) {
        std::fprintf(stderr, "pgmig: warning: unsupported, left out: %s\n", sd::comment_text(u).c_str());
    }
    std::fprintf(stderr,
                 "pgmig: warning: %zu object%s left out of the diff: change %s with a hand-written migration (pgmig "
                 "new); --strict makes this an error (exit 36)\n",
                 result.unsupported.size(), result.unsupported.size() == 1 ? "" : "s",
                 result.unsupported.size() == 1 ? "it" : "them");
}

// Withheld steps: listed on stderr; exit 60 (a NOT NULL without a value) or 32 (destructive) once the rest is done.
void list_withheld(const sd::Result& result) {
    for (const auto& w : result.withheld) {
        std::fprintf(stderr, "pgmig: withheld (%s): %s: %s\n", w.needs_value ? "NOT NULL needs a value" : "destructive",
                     sd::comment_text(w.subject).c_str(), sd::comment_text(one_line(w.reason)).c_str());
    }
}

// With --exit-code (diff, generate) the withheld steps are differences too: exit 31 (diff_found), as for
// any other difference, so that a script's "are there differences?" does not depend on which kind they are.
[[noreturn]] void throw_withheld(const sd::Result& result, const std::string& done, bool exit_code = false) {
    // a NOT NULL column that no order can add comes first: --allow-destructive does not release it
    std::vector<const sd::Withheld*> needs_value;
    for (const auto& w : result.withheld)
        if (w.needs_value) needs_value.push_back(&w);
    if (!needs_value.empty() && !exit_code) {
        throw Error(ErrorKind::not_null_withheld,
                    fmt::format("a NOT NULL column needs a default or --backfill: {} NOT NULL{} withheld ({})",
                                needs_value.size(), needs_value.size() == 1 ? "" : "s",
                                sd::comment_text(needs_value.front()->subject)),
                    done + "; the column is added nullable",
                    "add a default to the desired schema, or backfill the column in a migration of your own and "
                    "generate again, or pass --backfill 'schema.table.column=EXPRESSION' (see the reasons above)");
    }
    throw Error(exit_code ? ErrorKind::diff_found : ErrorKind::destructive_withheld,
                fmt::format("{} destructive step{} withheld: {}", result.withheld.size(),
                            result.withheld.size() == 1 ? "" : "s", result.withheld.front().subject),
                done, "review the steps listed above; run again with --allow-destructive to include them");
}

// The target's connection: -d, else the environment's, else the libpq environment.
Connection open_target(const GlobalOptions& global, const std::string& env) {
    Connection conn = Connection::open(connection_for(global, env));
    require_extension(conn);
    return conn;
}

// The versions of the folder's files and of the ledger that are not applied: a generated migration must
// come after everything, so these are refused first.
std::vector<std::string> pending_versions(const Connection& conn, const std::vector<MigrationFile>& files) {
    Result res = conn.exec("SELECT version, state FROM migrate_status() WHERE kind = 'versioned'");
    if (!res.ok()) throw_server_error(res.error(), "reading the ledger (migrate_status())", "nothing was written");
    std::vector<std::string> applied;
    std::vector<std::string> pending;
    for (int i = 0; i < res.rows(); ++i) {
        if (res.get(i, 1) == "applied") {
            applied.push_back(res.get(i, 0));
        } else {
            pending.push_back(res.get(i, 0));
        }
    }
    for (const auto& f : files) {
        if (f.repeatable()) continue;
        bool is_applied = false;
        for (const auto& v : applied) is_applied |= common::compare_versions(v, f.version) == 0;
        bool listed = false;
        for (const auto& v : pending) listed |= common::compare_versions(v, f.version) == 0;
        if (!is_applied && !listed) pending.push_back(f.version);
    }
    return pending;
}

// The version of the migration pgmig drift --adopt writes when migrations are pending (none when nothing is):
// "<newest applied>.1", which sorts after every applied migration and before every pending one, so that
// marking it applied (migrate_baseline) marks nothing else and the pending ones stay pending, in order.
// Refused when a pending migration is older than the newest applied one (there is no such place).
std::optional<std::string> adopt_version_before_pending(const Connection& conn, const std::vector<MigrationFile>& files,
                                                        const std::string& dir, std::string& first_pending) {
    const std::vector<std::string> pending = pending_versions(conn, files);
    if (pending.empty()) return std::nullopt;
    Result res = conn.exec("SELECT version FROM migrate_status() WHERE kind = 'versioned' AND state = 'applied'");
    if (!res.ok()) throw_server_error(res.error(), "reading the ledger (migrate_status())", "nothing was written");
    std::string newest = "0";
    for (int i = 0; i < res.rows(); ++i) {
        if (common::compare_versions(res.get(i, 0), newest) > 0) newest = res.get(i, 0);
    }
    first_pending = pending.front();
    for (const auto& v : pending) {
        if (common::compare_versions(v, first_pending) < 0) first_pending = v;
    }
    if (common::compare_versions(first_pending, newest) <= 0) {
        throw Error(ErrorKind::input,
                    fmt::format("pgmig drift --adopt cannot record the drift before pending migration {}: it is older "
                                "than the newest applied one ({})",
                                first_pending, newest),
                    fmt::format("in {} and the ledger of {}", dir, conn.target()),
                    "apply it (pgmig apply, with pgmig.out_of_order = allow) or renumber it, then run it again; "
                    "nothing was written");
    }
    return newest + ".1";
}

void refuse_pending(const Connection& conn, const std::vector<MigrationFile>& files, const std::string& dir,
                    const std::string& command) {
    const std::vector<std::string> pending = pending_versions(conn, files);
    if (pending.empty()) return;
    std::string list;
    for (const auto& v : pending) list += (list.empty() ? "" : ", ") + v;
    throw Error(ErrorKind::input, fmt::format("{} needs every migration applied first; pending: {}", command, list),
                fmt::format("in {} and the ledger of {}", dir, conn.target()),
                "apply them (pgmig apply) or remove the files, then run it again; nothing was written");
}

// The migrations folder's files (none when the folder does not exist yet: it is created).
std::vector<MigrationFile> existing_files(const std::string& dir) {
    ensure_migrations_dir(dir);
    return load_files(dir, "nothing was written", true);
}

void write_file(const fs::path& path, const std::string& text) {
    std::error_code ec;
    if (fs::exists(path, ec)) {
        throw Error(ErrorKind::input, "the file exists already", "at " + path.string(), "pick another name");
    }
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
    out.close();
    if (!out)
        throw Error(ErrorKind::input, "cannot write the file", "at " + path.string(), "check the folder's permissions");
}

struct Written {
    std::vector<fs::path> paths;
    std::vector<std::string> versions;
};

// Writes main (and post, as <next+1>_<name>_concurrently.sql) into dir; each text is parsed back as a
// migration file first, so a generated file is always one pgmig apply reads.
Written write_migrations(const std::string& dir, const std::vector<MigrationFile>& files, const std::string& name,
                         const sd::Result& result, const Provenance& provenance,
                         const std::optional<std::string>& first_version = std::nullopt) {
    std::vector<std::string> versions;
    for (const auto& f : files) {
        if (!f.repeatable()) versions.push_back(f.version);
    }
    std::string version = first_version ? *first_version : next_version(versions, utc_now("%Y%m%d%H%M%S"));
    struct Part {
        std::string file_name, text;
    };
    std::vector<Part> parts;
    if (!result.main.up.empty()) {
        parts.push_back({fmt::format("{}_{}.sql", version, name),
                         migration_file_text(provenance, result.main.up, result.main.down, result.withheld, true)});
        version = version_plus_one(version);
    }
    if (!result.post.up.empty()) {
        parts.push_back({fmt::format("{}_{}_concurrently.sql", version, name),
                         migration_file_text(provenance, result.post.up, result.post.down, {}, false)});
    }
    Written written;
    for (const auto& part : parts) {
        try {
            const MigrationFile parsed = parse_migration_file(part.file_name, part.text);
            written.versions.push_back(parsed.version);
        } catch (const MigrationFileError& e) {
            throw Error(ErrorKind::internal, fmt::format("the generated migration does not parse: {}", e.reason()),
                        "in " + part.file_name, "please report this as a bug; nothing was written");
        }
    }
    for (const auto& part : parts) {
        const fs::path path = fs::path(dir) / part.file_name;
        write_file(path, part.text);
        written.paths.push_back(path);
    }
    return written;
}

void check_name(const std::string& name, const char* where) {
    if (!is_valid_name(name)) {
        throw Error(ErrorKind::usage, fmt::format("bad migration name '{}'", name), where,
                    "use letters, digits, '_' and '-' only, e.g. add_orders");
    }
}

std::string command_line(const std::string& command, const std::string& name) {
    return name.empty() ? command : command + " " + name;
}

// What generate and sync share: diff the target against the desired schema and write the files.
// Returns the files written (none when there is nothing to do); the result in `out`.
Written generate(const Connection& target, const DiffOptions& diff, const SchemaInput& input, const std::string& dir,
                 const std::vector<MigrationFile>& files, const std::string& name, const std::string& command,
                 sd::Result& out) {
    const auto [from, desired, roles] = take_snapshots(target, diff, input);
    out = compute(from, desired.snapshot, diff.allow_destructive, {diff.renames, diff.no_rename}, true, roles,
                  diff.reorder_columns, &target, diff.backfills);
    InterruptGuard::check("before writing the migration (nothing was written)");
    warn_column_order(out, &target);
    check_renames(out, diff.allow_destructive);
    report_unsupported(out, diff.strict, "nothing was written");
    if (out.empty()) return {};
    const Provenance provenance{command_line(command, name), desired.description, target.target(),
                                utc_now("%Y-%m-%dT%H:%M:%SZ")};
    return write_migrations(dir, files, name, out, provenance);
}

void print_written(const Written& written, const sd::Result& result, bool as_json) {
    if (as_json) {
        json report = result_json(result);
        json paths = json::array();
        for (const auto& p : written.paths) paths.push_back(p.string());
        report["files"] = paths;
        print_json_document(report);
        return;
    }
    for (const auto& p : written.paths) fmt::print("{}\n", p.string());
}

}  // namespace

int run_diff(const GlobalOptions& global, const DiffOptions& options) {
    const SchemaInput input = read_desired(options);
    const InterruptGuard guard;
    Connection target = open_target(global, options.env);
    const auto [from, desired, roles] = take_snapshots(target, options, input);
    const sd::Result result =
        compute(from, desired.snapshot, options.allow_destructive, {options.renames, options.no_rename}, true, roles,
                options.reorder_columns, &target, options.backfills);
    InterruptGuard::check("comparing the schemas");
    check_renames(result, options.allow_destructive);
    warn_column_order(result, &target);
    if (options.strict) report_unsupported(result, true, "nothing was printed");
    if (options.json) {
        json report = result_json(result);
        report["target"] = target.target();
        report["desired"] = desired.description;
        print_json_document(report);
    } else {
        fmt::print("{}", diff_sql_text(result));
        if (result.empty() && result.withheld.empty() && result.unsupported.empty() && !result.column_order.empty()) {
            std::fprintf(stderr, "pgmig: schemas are equal except for column order of: %s (%s, desired: %s)\n",
                         column_order_tables(result).c_str(), target.target().c_str(), desired.description.c_str());
        } else if (result.empty() && result.withheld.empty() && result.unsupported.empty()) {
            std::fprintf(stderr, "pgmig: no differences: %s matches the desired schema (%s)\n", target.target().c_str(),
                         desired.description.c_str());
        }
    }
    std::fflush(stdout);
    report_unsupported(result, false, "");
    list_withheld(result);
    if (!result.withheld.empty()) throw_withheld(result, "from the SQL printed", options.exit_code);
    return options.exit_code && !result.empty() ? exit_code(ErrorKind::diff_found) : kExitOk;
}

int run_generate(const GlobalOptions& global, const GenerateOptions& options) {
    check_name(options.name, "in NAME");
    const std::string dir = resolve_migrations_dir(options.dir);
    const std::vector<MigrationFile> files = existing_files(dir);
    const SchemaInput input = read_desired(options.diff);
    const InterruptGuard guard;
    Connection target = open_target(global, options.diff.env);
    const std::vector<std::string> pending = pending_versions(target, files);
    if (!pending.empty()) {
        std::fprintf(stderr,
                     "pgmig: warning: %zu migration%s not applied in %s (e.g. %s): the new migration is the "
                     "difference from the database as it is now, and comes after them\n",
                     pending.size(), pending.size() == 1 ? " is" : "s are", target.target().c_str(),
                     pending.front().c_str());
    }
    sd::Result result;
    const Written written = generate(target, options.diff, input, dir, files, options.name, "pgmig generate", result);
    if (written.paths.empty() && !options.diff.json && !result.column_order.empty() && result.empty()) {
        std::fprintf(stderr,
                     "pgmig: nothing to do: %s matches the desired schema except for column order of: %s; "
                     "no file written\n",
                     target.target().c_str(), column_order_tables(result).c_str());
    } else if (written.paths.empty() && !options.diff.json) {
        std::fprintf(stderr, "pgmig: nothing to do: %s matches the desired schema; no file written\n",
                     target.target().c_str());
    }
    print_written(written, result, options.diff.json);
    std::fflush(stdout);
    list_withheld(result);
    if (!result.withheld.empty())
        throw_withheld(result, written.paths.empty() ? "nothing was written" : "from the files written",
                       options.diff.exit_code);
    return options.diff.exit_code && !result.empty() ? exit_code(ErrorKind::diff_found) : kExitOk;
}

int run_sync(const GlobalOptions& global, const SyncOptions& options) {
    check_name(options.name, "in --name");
    const ProjectConfig config = load_project_config();
    const Environment& env = find_environment(config, options.diff.env);
    if (env.approval) {
        throw Error(ErrorKind::sync_refused,
                    fmt::format("sync refused: environment '{}' requires approval (approval = true)", env.name),
                    "in ./pgmig.toml",
                    fmt::format("write the migration with pgmig generate NAME --env {0}, have it approved "
                                "(pgmig approve), and deploy it (pgmig deploy --env {0}); nothing was changed",
                                env.name));
    }
    const std::string dir = resolve_migrations_dir(options.dir);
    const std::vector<MigrationFile> files = existing_files(dir);
    const SchemaInput input = read_desired(options.diff);
    GlobalOptions target_global = global;
    target_global.dbname = connection_for(global, options.diff.env);
    Written written;
    sd::Result result;
    {
        const InterruptGuard guard;
        Connection target = open_target(target_global, "");
        refuse_pending(target, files, dir, "pgmig sync");
        written =
            generate(target, options.diff, input, dir, files, options.name, "pgmig sync --env " + env.name, result);
    }
    if (written.paths.empty()) {
        fmt::print("nothing to do: the database of environment {} matches the desired schema\n", env.name);
    } else {
        for (const auto& p : written.paths) fmt::print("wrote {}\n", p.string());
        std::fflush(stdout);
        ApplyOptions apply;
        apply.dir = dir;
        const int rc = run_apply(target_global, apply);
        if (rc != kExitOk) return rc;
    }
    std::fflush(stdout);
    list_withheld(result);
    if (!result.withheld.empty()) {
        throw_withheld(result, written.paths.empty() ? "nothing was applied" : "from the migration applied");
    }
    return kExitOk;
}

namespace {

// The schema the ledger expects: migrate_expected_snapshot(), as of the newest row of pgmig.snapshots
// (pgmig_reader may read both).
json expected_snapshot(const Connection& conn) {
    Result res = conn.exec(
        "SELECT migrate_expected_snapshot()::text, id, taken_at, reason FROM pgmig.snapshots ORDER BY id DESC LIMIT 1");
    if (!res.ok()) {
        throw_server_error(res.error(), fmt::format("reading pgmig.snapshots in {}", conn.target()),
                           "the role needs pgmig_reader (GRANT pgmig_reader TO ...); nothing was written");
    }
    if (res.rows() == 0) {
        throw Error(ErrorKind::input, "the ledger has no expected snapshot", "in pgmig.snapshots of " + conn.target(),
                    "apply or baseline a migration first; nothing was written");
    }
    json snapshot = json::parse(res.get(0, 0), nullptr, false);
    if (!snapshot.is_object())
        throw Error(ErrorKind::internal, "pgmig.snapshots holds a snapshot that is not an object");
    for (auto& [key, description] : snapshot.items()) drop_default_members(description);  // as fetch_snapshot's
    return snapshot;
}

int drift_report(const Connection& conn, const DriftOptions& options) {
    // --ignore-column-order: the form with the argument (the extension's migrate_drift(boolean))
    const char* const call = options.ignore_column_order ? "migrate_drift(true)" : "migrate_drift()";
    Result res = conn.exec(
        fmt::format("SELECT object_type, identity, change, coalesce(detail, ''), coalesce(changed_at::text, ''), "
                    "coalesce(changed_by::text, ''), coalesce(statement, '') FROM {}",
                    call));
    if (!res.ok()) throw_server_error(res.error(), fmt::format("reading {} in {}", call, conn.target()), "");
    if (options.json) {
        json rows = json::array();
        for (int i = 0; i < res.rows(); ++i) {
            rows.push_back(
                {{"object_type", res.get(i, 0)},
                 {"identity", res.get(i, 1)},
                 {"change", res.get(i, 2)},
                 {"detail", res.get(i, 3)},
                 {"changed_at", res.is_null(i, 4) || res.get(i, 4).empty() ? json(nullptr) : json(res.get(i, 4))},
                 {"changed_by", res.get(i, 5).empty() ? json(nullptr) : json(res.get(i, 5))},
                 {"statement", res.get(i, 6).empty() ? json(nullptr) : json(res.get(i, 6))}});
        }
        print_json_document(rows);
    } else if (res.rows() == 0) {
        fmt::print("no drift: the schema is what the ledger expects{}\n",
                   options.ignore_column_order ? " (column order not compared)" : "");
    } else {
        for (int i = 0; i < res.rows(); ++i) {
            fmt::print("{} {} {}", res.get(i, 2), res.get(i, 0), res.get(i, 1));
            if (!res.get(i, 3).empty()) fmt::print(" ({})", res.get(i, 3));
            if (!res.get(i, 5).empty()) fmt::print(" by {} at {}", res.get(i, 5), res.get(i, 4));
            fmt::print("\n");
            if (!res.get(i, 6).empty()) fmt::print("    {}\n", one_line(res.get(i, 6)));
        }
        fmt::print("{} object{} drifted; pgmig drift --fix NAME writes the migration back, --adopt NAME records it\n",
                   res.rows(), res.rows() == 1 ? "" : "s");
    }
    return options.exit_code && res.rows() > 0 ? exit_code(ErrorKind::diff_found) : kExitOk;
}

}  // namespace

int run_drift(const GlobalOptions& global, const DriftOptions& options) {
    if (!options.fix.empty() && !options.adopt.empty()) {
        throw Error(ErrorKind::usage, "--fix and --adopt exclude each other", "on the command line", "pick one");
    }
    const std::string name = options.fix.empty() ? options.adopt : options.fix;
    if (name.empty()) {
        Connection conn = open_target(global, options.env);
        return drift_report(conn, options);
    }
    check_name(name, options.fix.empty() ? "in --adopt" : "in --fix");
    const bool adopt = !options.adopt.empty();
    const std::string dir = resolve_migrations_dir(options.dir);
    const std::vector<MigrationFile> files = existing_files(dir);
    const InterruptGuard guard;
    Connection conn = open_target(global, options.env);
    const std::string command = adopt ? "pgmig drift --adopt" : "pgmig drift --fix";
    // --adopt with pending migrations: the adopted migration goes between the applied ones and them.
    std::optional<std::string> adopt_version;
    std::string first_pending;
    if (adopt) {
        adopt_version = adopt_version_before_pending(conn, files, dir, first_pending);
    } else {
        refuse_pending(conn, files, dir, command);
    }
    const json live = fetch_snapshot(conn, "the database");
    const json expected = expected_snapshot(conn);
    // --fix: live -> expected, the safe forms, destructive steps only when allowed.
    // --adopt: expected -> live, recorded and never run: every step (nothing withheld), one transactional
    // migration, so that pgmig rollback can undo the drift.
    const RenameChoice choice{options.renames, options.no_rename};
    const Roles roles = target_roles(conn, {});
    const sd::Result result = adopt ? compute(expected, live, true, choice, false, roles)
                                    : compute(live, expected, options.allow_destructive, choice, true, roles, false,
                                              &conn, options.backfills);
    InterruptGuard::check("comparing the schemas (nothing was written)");
    check_renames(result, adopt || options.allow_destructive);
    warn_column_order(result, &conn);
    report_unsupported(result, options.strict, "nothing was written");
    if (result.empty()) {
        fmt::print("no drift: the schema is what the ledger expects; no file written\n");
        list_withheld(result);
        if (!result.withheld.empty()) throw_withheld(result, "nothing was written");
        return kExitOk;
    }
    const Provenance provenance{command_line(command, name),
                                adopt ? "the live schema of the database (the drift, adopted)"
                                      : "the ledger's expected snapshot (pgmig.snapshots)",
                                conn.target(), utc_now("%Y-%m-%dT%H:%M:%SZ")};
    const Written written = write_migrations(dir, files, name, result, provenance, adopt_version);
    if (adopt && !first_pending.empty()) {
        for (const auto& v : written.versions) {
            if (common::compare_versions(v, first_pending) < 0) continue;
            std::error_code ec;
            for (const auto& p : written.paths) fs::remove(p, ec);
            throw Error(ErrorKind::input,
                        fmt::format("pgmig drift --adopt cannot place its migration before pending migration {}",
                                    first_pending),
                        fmt::format("in {}", dir),
                        "apply the pending migrations first (pgmig apply); nothing was written");
        }
    }
    if (adopt) {
        // Register every file and mark the new ones applied without running them, in one transaction; the
        // new ones sort before every pending migration (adopt_version_before_pending), so nothing else is
        // marked applied: pending migrations stay pending.
        try {
            const std::vector<MigrationFile> all = load_files(dir, "nothing was adopted");
            LedgerLock ledger_lock(conn, "nothing was adopted");  // waited for without a snapshot (ledger_lock.hpp)
            Transaction tx(conn);
            register_files(conn, all);
            Result res = conn.exec_params("SELECT count(*) FROM migrate_baseline($1)", {written.versions.back()});
            if (!res.ok())
                throw_server_error(res.error(), "marking the adopted migration applied", "nothing was adopted");
            Result commit = tx.commit();
            if (!commit.ok()) throw_server_error(commit.error(), "committing the adoption", "nothing was adopted");
        } catch (...) {
            std::error_code ec;
            for (const auto& p : written.paths) fs::remove(p, ec);
            throw;
        }
        for (const auto& p : written.paths) fmt::print("{}\n", p.string());
        fmt::print("adopted: recorded as applied (not run); pgmig rollback --force undoes the drift\n");
    } else {
        for (const auto& p : written.paths) fmt::print("{}\n", p.string());
    }
    std::fflush(stdout);
    list_withheld(result);
    if (!result.withheld.empty()) throw_withheld(result, "from the files written");
    return kExitOk;
}

}  // namespace pgmig::client
