// pgmig diff, generate, sync and drift: the desired schema (schema folder in a shadow database, or --to)
// against the target, through the diff engine (client/diff/schema_diff.hpp), printed or written as migrations.
#include "client/commands/commands.hpp"
#include "client/config.hpp"
#include "client/db.hpp"
#include "client/diff/diff_output.hpp"
#include "client/errors.hpp"
#include "client/json_output.hpp"
#include "client/ledger_lock.hpp"
#include "client/project.hpp"
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

SchemaInput read_desired(const DiffOptions& options) {
    if (!options.to.empty()) return {};
    std::string dir = resolve_schema_dir(options.schema);
    std::vector<SchemaFile> files = read_schema_folder(dir);
    return {std::move(dir), std::move(files)};
}

// The target's snapshot and the desired schema's: the --to database's, or the schema folder's loaded into a
// shadow database (dropped before this returns, also when it throws).
//
// With --to, the target's server builds its snapshot while the --to server builds the other. Not with a
// shadow: CREATE/DROP DATABASE wait until every backend of the server has absorbed a barrier, and the
// target's backend, blocked sending a result the client has not read yet, would never absorb it.
Snapshots take_snapshots(const Connection& target, const DiffOptions& options, const SchemaInput& input) {
    if (!options.to.empty()) {
        Connection to = Connection::open(options.to);
        require_extension(to);
        PendingSnapshot pending(target, "the target");
        json desired = fetch_snapshot(to, "the --to database");
        json from = pending.take();
        Roles roles = target_roles(target, current_role_of(to));
        return {std::move(from), {std::move(desired), "database " + to.target()}, std::move(roles)};
    }
    json from = fetch_snapshot(target, "the target");
    const std::string& dir = input.dir;
    const std::vector<SchemaFile>& files = input.files;
    const ShadowSettingsResolved settings = shadow_settings(options);
    // the shadow is loaded by the target's role, or by the shadow server's
    Roles roles = target_roles(
        target, settings.server.empty() ? std::string() : current_role_of(Connection::open(settings.server)));
    ShadowDatabase shadow(target, settings);
    json snapshot = shadow.load(files);
    return {std::move(from),
            {std::move(snapshot), fmt::format("schema folder {} ({} file{}, loaded into a shadow database)", dir,
                                              files.size(), files.size() == 1 ? "" : "s")},
            std::move(roles)};
}

bool on_terminal() { return isatty(STDIN_FILENO) == 1 && isatty(STDERR_FILENO) == 1; }

struct RenameChoice {
    std::vector<std::string> renames;
    bool no_rename = false;
};

// The diff with the user's renames; on a terminal, each probable rename left is asked about, and the
// diff is made again with the answers (a "no" means: not renames, drop + add).
sd::Result compute(const json& from, const json& to, bool allow_destructive, const RenameChoice& choice,
                   bool safe_forms, const Roles& roles) {
    sd::Options options;
    options.migration_role = roles.migration_role;
    options.desired_role = roles.desired_role;
    options.roles_known = roles.known;
    options.target_roles = roles.target_roles;
    options.allow_destructive = allow_destructive;
    options.no_renames = choice.no_rename;
    options.safe_forms = safe_forms;
    for (const auto& argument : choice.renames) options.renames.push_back(parse_rename(argument, from));
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
    return sd::diff(from, to, options);
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

// Withheld destructive steps: listed on stderr; exit 32 once the rest is done.
void list_withheld(const sd::Result& result) {
    for (const auto& w : result.withheld) {
        std::fprintf(stderr, "pgmig: withheld (destructive): %s: %s\n", sd::comment_text(w.subject).c_str(),
                     sd::comment_text(one_line(w.reason)).c_str());
    }
}

// With --exit-code (diff, generate) the withheld steps are differences too: exit 31 (diff_found), as for
// any other difference, so that a script's "are there differences?" does not depend on which kind they are.
[[noreturn]] void throw_withheld(const sd::Result& result, const std::string& done, bool exit_code = false) {
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
    out = compute(from, desired.snapshot, diff.allow_destructive, {diff.renames, diff.no_rename}, true, roles);
    InterruptGuard::check("before writing the migration (nothing was written)");
    check_renames(out, diff.allow_destructive);
    if (!out.unsupported.empty()) throw_unsupported(out, "nothing was written");
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
        compute(from, desired.snapshot, options.allow_destructive, {options.renames, options.no_rename}, true, roles);
    InterruptGuard::check("comparing the schemas");
    check_renames(result, options.allow_destructive);
    if (options.json) {
        json report = result_json(result);
        report["target"] = target.target();
        report["desired"] = desired.description;
        print_json_document(report);
    } else {
        fmt::print("{}", diff_sql_text(result));
        if (result.empty() && result.withheld.empty()) {
            std::fprintf(stderr, "pgmig: no differences: %s matches the desired schema (%s)\n", target.target().c_str(),
                         desired.description.c_str());
        }
    }
    std::fflush(stdout);
    if (!result.unsupported.empty()) throw_unsupported(result, "the SQL printed lacks them");
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
    if (written.paths.empty() && !options.diff.json) {
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

// The schema the ledger expects: the newest row of pgmig.snapshots (pgmig_reader may read it).
json expected_snapshot(const Connection& conn) {
    Result res = conn.exec("SELECT snapshot::text, id, taken_at, reason FROM pgmig.snapshots ORDER BY id DESC LIMIT 1");
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
    return snapshot;
}

int drift_report(const Connection& conn, const DriftOptions& options) {
    Result res = conn.exec(
        "SELECT object_type, identity, change, coalesce(detail, ''), coalesce(changed_at::text, ''), "
        "coalesce(changed_by::text, ''), coalesce(statement, '') FROM migrate_drift()");
    if (!res.ok()) throw_server_error(res.error(), fmt::format("reading migrate_drift() in {}", conn.target()), "");
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
        fmt::print("no drift: the schema is what the ledger expects\n");
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
                                    : compute(live, expected, options.allow_destructive, choice, true, roles);
    InterruptGuard::check("comparing the schemas (nothing was written)");
    check_renames(result, adopt || options.allow_destructive);
    if (!result.unsupported.empty()) throw_unsupported(result, "nothing was written");
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
