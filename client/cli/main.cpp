// pgmig's command line: the one place that declares every command and option (the --help text comes from here).
#include "client/core/audit_log.hpp"
#include "client/cli/commands/commands.hpp"
#include "client/core/config.hpp"
#include "client/core/errors.hpp"
#include "client/cli/json_output.hpp"

#include <CLI/CLI.hpp>
#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <exception>
#include <functional>
#include <optional>

using namespace pgmig::client;

namespace {

// What the audit log records about how the command ended (set where the error is reported).
struct Outcome {
    std::string kind;
    std::string message;
    bool log = true;  // false for --help and --version, which do nothing worth auditing
    std::optional<Error> error;  // for the --json document
};

int fail(Outcome& outcome, const Error& e) {
    outcome.kind = std::string(kind_name(e.kind()));
    outcome.message = e.line();
    outcome.error = e;
    return report(e);
}

// ==== the target database ====
// Declares -d/--dbname, --env, -W/--password and -w/--no-password on a command that connects, so that every
// such command names its target the same way, resolved once by resolve_target (-d, else --env's connection,
// else the PG* variables and service file; docs/reference.md, "The target database"). `command_env`, when
// given, also receives --env, for commands that use the environment for more than its connection; `env_use`
// says what else (appended to --env's help). Returns --env, for the commands that require it.
CLI::Option* add_target_options(CLI::App* cmd, GlobalOptions& global, std::string* command_env = nullptr,
                                const std::string& env_use = {}) {
    cmd->add_option("-d,--dbname", global.dbname,
                    "Connection string or URI (as with psql -d); wins over --env, which wins over the PG* variables "
                    "and the service file")
        ->type_name("CONNINFO");
    auto* env =
        cmd->add_option("--env", global.env,
                        "Environment of pgmig.toml ([environments.NAME]): its connection, unless -d is given" + env_use)
            ->type_name("NAME");
    if (command_env != nullptr) env->each([command_env](const std::string& value) { *command_env = value; });
    auto* ask = cmd->add_flag("-W,--password", global.password,
                              "Ask for the password on the terminal (no echo) before connecting");
    cmd->add_flag("-w,--no-password", global.no_password,
                  "Never ask for a password (without it pgmig asks on a terminal when the server wants one)")
        ->excludes(ask);
    return env;
}

// Subcommands inherit the footer: the exit-code table is shown once, by pgmig --help.
void point_to_exit_codes(CLI::App& app) {
    for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) {
        sub->footer("Exit codes: see pgmig --help (and docs/errors.md)");
        point_to_exit_codes(*sub);
    }
}

// The chosen command itself (the innermost subcommand).
CLI::App* chosen_command(CLI::App& app) {
    CLI::App* current = &app;
    while (!current->get_subcommands().empty()) current = current->get_subcommands().front();
    return current;
}

// --json on the chosen command (or validate --format json): one JSON document on stdout, also on failure.
bool wants_json(CLI::App& app) {
    CLI::App* command = chosen_command(app);
    const CLI::Option* json = command->get_option_no_throw("--json");
    if (json != nullptr && json->count() > 0) return true;
    const CLI::Option* format = command->get_option_no_throw("--format");
    return command->get_name() == "validate" && format != nullptr && format->count() > 0 &&
           format->as<std::string>() == "json";
}

// The chosen subcommand path, e.g. "audit verify".
std::string command_path(CLI::App& app) {
    std::string path;
    CLI::App* current = &app;
    for (;;) {
        const auto subs = current->get_subcommands();
        if (subs.empty()) break;
        current = subs.front();
        if (!path.empty()) path += ' ';
        path += current->get_name();
    }
    return path;
}

int run(int argc, char** argv, Outcome& outcome) {
    CLI::App app{"pgmig: PostgreSQL schema migrations, applied and audited inside the database", "pgmig"};
    app.set_version_flag("--version", "pgmig " PGMIG_VERSION, "Print the version and exit");
    app.require_subcommand(1);
    app.fallthrough();  // global options may also follow the command: pgmig status -d ...
    app.footer(exit_codes_help());

    GlobalOptions global;
    app.add_option("-d,--dbname", global.dbname,
                   "Connection string or URI (as with psql -d); without it libpq's PG* environment variables, "
                   "pg_service.conf and ~/.pgpass apply");
    app.add_option("--format", global.format,
                   "Format of the migrations folder: " + folder_format_names() +
                       " (default: `format` of ./pgmig.toml, else detected from the files; see docs/adopting.md). "
                       "For validate, whose --format is its report's, put it before the command")
        ->check([](const std::string& value) {
            return folder_format_named(value) ? std::string()
                                              : "not a format pgmig reads; use one of: " + folder_format_names();
        });

    std::function<int()> action;  // what the chosen command runs

    const char* const dir_help =
        "Migrations folder (default: `migrations` of ./pgmig.toml, else migrations): <version>_<name>.sql with "
        "sections, Flyway V/U/R files, or .up.sql/.down.sql pairs";

    InitOptions init;
    auto* init_cmd = app.add_subcommand("init", "Create pgmig.toml and an empty migrations/ folder");
    init_cmd->add_option("DIR", init.dir, "Project folder")->capture_default_str();
    init_cmd->callback([&] { action = [&] { return run_init(init); }; });

    NewOptions new_opts;
    auto* new_cmd = app.add_subcommand(
        "new",
        "Write <next version>_<NAME>.sql from an idempotent template (the folder's numbering: 6 after 5; else "
        "the UTC time YYYYMMDDHHMMSS, above every version); print its path");
    new_cmd->add_option("NAME", new_opts.name, "Name: letters, digits, '_' and '-'")->required();
    new_cmd->add_option("--dir", new_opts.dir, dir_help);
    new_cmd->callback([&] { action = [&] { return run_new(new_opts); }; });

    StatusOptions status;
    auto* status_cmd = app.add_subcommand("status", "Show the migrations the database knows and their state");
    status_cmd->add_flag("--json", status.json, "Print a JSON array instead of a table");
    status_cmd->add_option("--dir", status.dir, dir_help + std::string("; also shows files not registered yet"));
    add_target_options(status_cmd, global);
    status_cmd->callback([&] { action = [&] { return run_status(global, status); }; });

    ValidateOptions validate;
    auto* validate_cmd =
        app.add_subcommand("validate",
                           "Check the files against the ledger without changing anything (checksums, missing files and "
                           "down scripts, duplicates, out-of-order, migrate_verify()), lint the pending migrations "
                           "(migrate_lint) and check the data (migrate_check_integrity)");
    validate_cmd->add_option("--dir", validate.dir, dir_help);
    validate_cmd->add_flag("--json", validate.json, "Print the findings as JSON (same as --format=json)");
    validate_cmd
        ->add_option("--format", validate.format,
                     "text, json, github (workflow commands: annotations on a pull request) or sarif (SARIF 2.1.0, "
                     "for code scanning)")
        ->check(CLI::IsMember({"text", "json", "github", "sarif"}))
        ->capture_default_str();
    validate_cmd
        ->add_option("--lint-threshold", validate.lint_threshold,
                     "Lint findings that fail validate (exit 14): error, warning (and errors), or off (reported only)")
        ->check(CLI::IsMember({"error", "warning", "off"}))
        ->capture_default_str();
    validate_cmd->add_flag("--offline", validate.offline,
                           "Check the files only; no database (so no ledger, lint or integrity checks)");
    validate_cmd->add_flag("--no-impact", validate.no_impact,
                           "Skip the impact summary and the dry run it takes (a rehearsal of every pending "
                           "migration, as long as pgmig plan's)");
    validate_cmd->add_option("--allow-ledger-only", validate.allow_ledger_only,
                             "A pending migration registered without a file (VERSION, or R__NAME) to report as a "
                             "warning, as pgmig apply --allow-ledger-only would apply it (repeatable)");
    add_target_options(validate_cmd, global);
    validate_cmd->callback([&] { action = [&] { return run_validate(global, validate); }; });

    ApplyOptions apply;
    auto* apply_cmd = app.add_subcommand(
        "apply", "Register the migration files and apply the pending ones (non-transactional ones resumably); on a "
                 "terminal, a progress line shows the migration, statement, lock waits and index builds");
    apply_cmd->add_option("--dir", apply.dir, dir_help);
    apply_cmd->add_option("--to", apply.to, "Apply up to this version (inclusive); default: all");
    apply_cmd->add_option("--retries", apply.retries, "Retries of a whole transaction after a lock timeout (55P03)")
        ->capture_default_str();
    apply_cmd->add_option("--retry-wait", apply.retry_wait, "Wait before the first retry (500ms, 1s, 1min); doubles")
        ->capture_default_str();
    apply_cmd
        ->add_flag("--check-integrity{report}", apply.check_integrity,
                   "Run migrate_check_integrity() before and after and print what changed; "
                   "--check-integrity=strict exits 18 when new problems of severity error appeared")
        ->check(CLI::IsMember({"report", "strict"}));
    add_target_options(apply_cmd, global, &apply.env,
                       "; with approval = true, migrate_apply() itself refuses what lacks an approval for it (exit "
                       "28), and a database whose pgmig.environment is another is refused (exit 39)");
    apply_cmd->add_option("--allow-ledger-only", apply.allow_ledger_only,
                          "Apply this pending migration although no file holds it (VERSION, or R__NAME; repeatable): "
                          "its registered script, as it stands, after review; without it such a migration is "
                          "refused (exit 37)");
    apply_cmd->callback([&] { action = [&] { return run_apply(global, apply); }; });

    RollbackOptions rollback;
    auto* rollback_cmd =
        app.add_subcommand("rollback", "Run the down scripts of the newest migrations (all or nothing unless one is non-transactional)");
    auto* steps_opt =
        rollback_cmd->add_option("--steps", rollback.steps, "How many migrations to roll back")->capture_default_str();
    rollback_cmd->add_option("--to", rollback.to, "Roll back every migration newer than this version (0: all)")
        ->excludes(steps_opt);
    add_target_options(rollback_cmd, global, &rollback.env,
                       "; and its alert targets, which get a rollback alert (done or failed)");
    rollback_cmd->add_flag("--trust", rollback.trust,
                           "Run down scripts although they were registered by roles without all of your rights "
                           "(review them first: SELECT down_sql FROM pgmig.migrations); without it they are refused "
                           "(exit 38)");
    rollback_cmd->add_flag("--force", rollback.force,
                           "Also roll back baseline migrations (marked applied without running: pgmig baseline, "
                           "drift --adopt, adopt of a Flyway baseline), whose down scripts drop what was there before "
                           "pgmig; on a terminal you "
                           "then type each one's version to confirm. Without it they are refused (exit 50)");
    // Guarded rollbacks: a preview, and consent when the down scripts drop data.
    auto* rollback_yes = rollback_cmd->add_flag(
        "--yes", rollback.yes,
        "Roll back although the down scripts drop a table, a column or a schema that holds rows; without it such a "
        "rollback is refused outside a terminal (exit 56), and a terminal shows the plan and asks y/N");
    rollback_cmd
        ->add_flag("--dry-run", rollback.dry_run,
                   "Rehearse the down scripts in a transaction that is rolled back and print what they would run, "
                   "drop (with rows) and lock; nothing persists")
        ->excludes(rollback_yes);
    rollback_cmd->callback([&] { action = [&] { return run_rollback(global, rollback); }; });

    BaselineOptions baseline;
    auto* baseline_cmd = app.add_subcommand(
        "baseline",
        "Register the files and mark those up to VERSION applied without running them, once the database holds what "
        "they build (they are built in a shadow database and compared object by object; exit 49 when an object "
        "they create is missing or differs); or, with --from-database NAME, write the migration that recreates the "
        "live schema, check it in a shadow database and mark it applied");
    auto* baseline_version_opt =
        baseline_cmd->add_option("VERSION", baseline.version, "Version the existing database is at");
    baseline_cmd->add_option("--dir", baseline.dir, dir_help);
    baseline_cmd->add_flag("--force", baseline.force,
                           "VERSION: baseline without comparing the database with the files (no shadow database)");
    auto* from_database_opt = baseline_cmd->add_option(
        "--from-database", baseline.from_database,
        "For a database with no migration history: write migration NAME that recreates its schema (the diff engine, "
        "from an empty shadow database), load it into the shadow, and register it and mark it applied only if the "
        "shadow then has the database's fingerprint (exit 49 otherwise; the draft is kept as <file>.sql.rejected). Roles, "
        "owners, data and objects pgmig's snapshot does not describe are not carried");
    from_database_opt->excludes(baseline_version_opt);
    baseline_cmd
        ->add_option("--version", baseline.new_version,
                     "--from-database: the version of the migration (default: the UTC time YYYYMMDDHHMMSS, as pgmig "
                     "new writes)")
        ->needs(from_database_opt);
    add_target_options(baseline_cmd, global, &baseline.env, "; and its shadow_db, shadow_owner, shadow_server");
    baseline_cmd->add_option("--shadow-db", baseline.shadow_db,
                             "Name of the shadow database (default: shadow_db of pgmig.toml, else "
                             "pgmig_shadow_<pid>_<random>); an existing database is used only if pgmig made it");
    baseline_cmd->add_option("--shadow-owner", baseline.shadow_owner, "Role that owns the shadow database");
    baseline_cmd->add_option("--shadow-server", baseline.shadow_server,
                             "Create the shadow database on this server (a connection string to its maintenance "
                             "database) instead of the target's");
    baseline_cmd->callback([&] { action = [&] { return run_baseline(global, baseline); }; });

    AdoptOptions adopt;
    auto* adopt_cmd = app.add_subcommand(
        "adopt",
        "Take over another migration tool's history: the migrations its history table records as applied become "
        "applied in the ledger (with the tool's time and user, not run), after showing the plan");
    adopt_cmd
        ->add_option("--from", adopt.from,
                     "The tool whose history to take over: " + adopt_tool_names() +
                         " (default: the one whose history table the database holds)")
        ->check([](const std::string& value) {
            const std::string names = adopt_tool_names();
            for (size_t start = 0; start <= names.size();) {
                const size_t end = std::min(names.find(", ", start), names.size());
                if (names.substr(start, end - start) == value) return std::string();
                start = end + 2;
            }
            return "not a tool pgmig adopts from; use one of: " + names;
        });
    adopt_cmd->add_flag("--yes", adopt.yes,
                        "Apply the plan without asking (without a terminal and without --yes, adopt only prints "
                        "the plan and exits 51)");
    adopt_cmd->add_option("--dir", adopt.dir, dir_help + std::string(", or another tool's folder (see --format)"));
    adopt_cmd->add_option("--table", adopt.table,
                          "SCHEMA.TABLE: the history table to read when the database holds several of the tool's");
    add_target_options(adopt_cmd, global);
    adopt_cmd->callback([&] { action = [&] { return run_adopt(global, adopt); }; });

    RepairOptions repair;
    auto* repair_cmd =
        app.add_subcommand("repair", "Accept the file's up script of VERSION as the truth (new checksum, recorded)");
    repair_cmd->add_option("VERSION", repair.version, "Version to repair")->required();
    repair_cmd->add_option("--dir", repair.dir, dir_help);
    repair_cmd->add_option("--reason", repair.reason, "Why (kept in pgmig.history)");
    add_target_options(repair_cmd, global);
    repair_cmd->callback([&] { action = [&] { return run_repair(global, repair); }; });

    AuditVerifyOptions audit_verify;
    auto* audit_cmd = app.add_subcommand(
        "audit", "The database's DDL audit trail and migration history side by side (pgmig audit verify: the chain)");
    audit_cmd->require_subcommand(1);
    auto* audit_verify_cmd = audit_cmd->add_subcommand(
        "verify", "Check the audit hash chain and anchor its head outside the database (a rewritten chain is caught)");
    audit_verify_cmd->add_option("--anchor", audit_verify.anchor, "Anchor file (JSON lines, appended to)")
        ->capture_default_str();
    audit_verify_cmd->add_flag("--whole", audit_verify.whole,
                               "Hash every sealed row again, not only those of pages changed since the chain was last "
                               "found intact (after a restore of the data files, or on a schedule)");
    add_target_options(audit_verify_cmd, global);
    audit_verify_cmd->callback([&] { action = [&] { return run_audit_verify(global, audit_verify); }; });

    // pgmig audit reseal: the way back from a broken chain (superusers).
    AuditResealOptions audit_reseal;
    auto* audit_reseal_cmd = audit_cmd->add_subcommand(
        "reseal",
        "After investigating a broken audit chain: record the break (where, who, when, why) and start a new sealed "
        "segment; nothing is deleted. Superusers only");
    audit_reseal_cmd->add_option("--reason", audit_reseal.reason, "Why the break is accepted (kept in the audit row)")
        ->required();
    add_target_options(audit_reseal_cmd, global);
    audit_reseal_cmd->callback([&] { action = [&] { return run_audit_reseal(global, audit_reseal); }; });

    LintOptions lint;
    auto* lint_cmd = app.add_subcommand(
        "lint",
        "Lint migrations with the database's own parser and catalog (dangerous operations, table sizes). By default "
        "the up scripts of the migrations not applied yet to the database; --all: every migration, up and down "
        "scripts (a down script may drop what its own up script created)");
    lint_cmd->add_option("FILES", lint.files,
                         "Files to lint, up and down scripts (migration files by their names; any other .sql as "
                         "plain SQL); default: the pending up scripts of --dir");
    lint_cmd->add_option("--dir", lint.dir, dir_help);
    lint_cmd->add_flag("--all", lint.all,
                       "Lint every migration of --dir, applied ones too, up and down scripts (not only the pending "
                       "up scripts)");
    lint_cmd->add_option("--allow", lint.allow, "Waive this rule in every script (repeatable)");
    lint_cmd->add_option("--threshold", lint.threshold, "Exit 14 on unwaived findings of this severity or worse")
        ->check(CLI::IsMember({"error", "warning", "advice"}))
        ->capture_default_str();
    lint_cmd->add_flag("--json", lint.json, "Print the findings as JSON");
    add_target_options(lint_cmd, global);
    lint_cmd->callback([&] { action = [&] { return run_lint(global, lint); }; });

    LocalOptions local;
    auto* local_cmd = app.add_subcommand("local", "A throwaway PostgreSQL cluster on a unix socket, for development");
    local_cmd->require_subcommand(1);
    auto* local_dir = local_cmd
                          ->add_option("--dir", local.dir,
                                       "Folder of the cluster (data, socket, log); as root, when the postgres OS user "
                                       "cannot reach the default, a folder of the project's own under /var/tmp")
                          ->capture_default_str();
    struct LocalCommand {
        const char* name;
        const char* help;
        int (*run)(const LocalOptions&);
    };
    static constexpr LocalCommand local_commands[] = {
        {"start", "Create the cluster if needed, start it, create database pgmig with the extension", run_local_start},
        {"stop", "Stop the cluster (fast shutdown)", run_local_stop},
        {"status", "Say whether the cluster runs, and its URL", run_local_status},
        {"url", "Print the connection URL of the running cluster", run_local_url},
        {"env",
         "Print export lines of PGHOST, PGPORT, PGUSER and PGDATABASE for the running cluster: eval \"$(pgmig local "
         "env)\"",
         run_local_env},
    };
    for (const auto& lc : local_commands) {
        auto* sub = local_cmd->add_subcommand(lc.name, lc.help);
        sub->fallthrough();  // --dir may come after start/stop/...
        sub->callback([&action, &local, local_dir, run = lc.run] {
            local.dir_given = local_dir->count() > 0;
            action = [&local, run] { return run(local); };
        });
    }

    // ==== data integrity + CI formats ====
    CheckIntegrityOptions check_integrity;
    auto* check_integrity_cmd = app.add_subcommand(
        "check-integrity",
        "Report data integrity problems (migrate_check_integrity): NOT VALID constraints and whether they would "
        "validate, orphaned rows, invalid indexes, sequences behind their column, tables without a primary key; "
        "reads the tables, changes nothing");
    check_integrity_cmd->add_flag("--json", check_integrity.json, "Print the findings as JSON");
    add_target_options(check_integrity_cmd, global);
    check_integrity_cmd->callback([&] { action = [&] { return run_check_integrity(global, check_integrity); }; });
    // ==== dry run and rollback tests ====
    PlanOptions plan;
    auto* plan_cmd = app.add_subcommand(
        "plan", "Dry run: rehearse the pending migrations in a transaction that is rolled back; show locks, "
                "rewrites, rows, catalog diff and lint of each. Nothing persists, not even registration");
    plan_cmd->add_option("--dir", plan.dir, dir_help);
    plan_cmd->add_option("--to", plan.to, "Rehearse up to this version (inclusive); default: all");
    plan_cmd->add_flag("--json", plan.json, "Print the report as JSON");
    add_target_options(plan_cmd, global);
    plan_cmd->callback([&] { action = [&] { return run_plan(global, plan); }; });

    // ==== impact ====
    ImpactOptions impact;
    auto* impact_cmd = app.add_subcommand(
        "impact",
        "What a pending migration touches (its dry run: objects created, altered, dropped, tables rewritten, "
        "rows), what depends on those objects (views, functions, triggers, foreign keys, policies: "
        "pg_depend), and the related bugs of the bugs file of pgmig.toml (its -- pgmig:refs ids and the "
        "objects' names); nothing persists");
    impact_cmd->add_option("TARGET", impact.target, "VERSION (or R__NAME) of a pending migration, or its FILE")
        ->required();
    impact_cmd->add_option("--dir", impact.dir, dir_help + std::string(" (default for a FILE: its folder)"));
    add_target_options(impact_cmd, global, &impact.env);
    impact_cmd->add_flag("--json", impact.json, "Print the report as JSON");
    impact_cmd->callback([&] { action = [&] { return run_impact(global, impact); }; });

    TestOptions test;
    auto* test_cmd = app.add_subcommand(
        "test", "Rollback tests on a scratch database copied from the target's schema (never the target): for each "
                "pending migration up, down, up again, each compared by fingerprint; then apply it");
    test_cmd->add_option("--dir", test.dir, dir_help);
    test_cmd->add_flag("--from-empty", test.from_empty, "Start from an empty database and test every migration");
    test_cmd->add_flag("--keep", test.keep, "Keep the scratch database (pgmig_test_...) instead of dropping it");
    test_cmd->add_flag("--json", test.json, "Print the results as JSON");
    add_target_options(test_cmd, global);
    test_cmd->callback([&] { action = [&] { return run_test(global, test); }; });

    // ==== approvals, audit log, monitor ====
    ApproveOptions approve;
    auto* approve_cmd = app.add_subcommand(
        "approve",
        "Approve migration files for an environment (four-eyes): records the approving role (session user), the "
        "time and the checksum of each file's up script; a file not registered yet counts once its script is. "
        "Approvals count for roles other than the migration's registrant");
    approve_cmd->add_option("VERSION", approve.versions, "Versions to approve (R__NAME for a repeatable migration)")
        ->required();
    add_target_options(approve_cmd, global, &approve.env, "; also the name the approval is for")->required();
    approve_cmd->add_option("--dir", approve.dir, dir_help);
    approve_cmd->callback([&] { action = [&] { return run_approve(global, approve); }; });

    DeployOptions deploy;
    auto* deploy_cmd = app.add_subcommand(
        "deploy",
        "Deploy to an environment: pre-flight health, validate (lint at the environment's threshold), approvals "
        "(when required), encrypted backup (when required), apply, post-flight health and drift; alerts at start "
        "and end. Stops at the first failed step, leaving the database as it was");
    auto* deploy_env =
        add_target_options(deploy_cmd, global, &deploy.env, "; and its policy (approval, backup, lint, alerts)");
    FleetDeployOptions fleet_deploy;
    auto* deploy_fleet = deploy_cmd->add_option(
        "--fleet", fleet_deploy.fleet,
        "Roll out to the fleet NAME of pgmig.toml ([fleets.NAME]) instead of one environment: its targets in waves, "
        "each target all or nothing; the run's state is kept in .pgmig/fleet/RUN.json (docs/fleet.md)");
    deploy_fleet->excludes(deploy_env);
    deploy_cmd->add_option("--resume", fleet_deploy.resume,
                           "With --fleet: go on with run RUN where it stopped (halted, paused, interrupted, killed); "
                           "targets already deployed are not touched again")
        ->needs(deploy_fleet);
    deploy_cmd->add_option("--dir", deploy.dir, dir_help);
    deploy_cmd->add_option("--to", deploy.to, "Deploy up to this version (inclusive); default: all");
    deploy_cmd->add_option("--key-file", deploy.key_file,
                           "Backup key file (else $PGMIG_BACKUP_KEY_FILE, else the environment's key in pgmig.toml)");
    deploy_cmd->add_option("--allow-ledger-only", deploy.allow_ledger_only,
                           "As pgmig apply's: deploy this pending migration although no file holds it (repeatable)");
    deploy_cmd->callback([&] {
        if (!fleet_deploy.fleet.empty()) {
            for (const char* option : {"--to", "--allow-ledger-only", "-d"}) {
                if (deploy_cmd->count(option) > 0) {
                    throw CLI::ValidationError(option, std::string("is not an option of deploy --fleet (docs/fleet.md)"));
                }
            }
            fleet_deploy.dir = deploy.dir;
            fleet_deploy.key_file = deploy.key_file;
            action = [&] { return run_fleet_deploy(fleet_deploy); };
            return;
        }
        if (deploy.env.empty()) throw CLI::RequiredError("--env or --fleet");
        action = [&] { return run_deploy(global, deploy); };
    });

    FleetStatusOptions fleet_status;
    auto* fleet_cmd =
        app.add_subcommand("fleet", "Fleets of pgmig.toml: where a deploy --fleet run stands, drift on every target, "
                                    "one approval for every target");
    fleet_cmd->require_subcommand(1);
    auto* fleet_status_cmd = fleet_cmd->add_subcommand(
        "status", "Show a fleet run's waves and every target's state (done, failed, unreachable, skipped...), its "
                  "error and what it applied, from .pgmig/fleet/RUN.json");
    fleet_status_cmd->add_option("RUN", fleet_status.run, "The run's id, as pgmig deploy --fleet printed it")->required();
    fleet_status_cmd->add_flag("--json", fleet_status.json, "Print the run as JSON");
    fleet_status_cmd->callback([&] { action = [&] { return run_fleet_status(fleet_status); }; });
    FleetDriftOptions fleet_drift;
    auto* fleet_drift_cmd = fleet_cmd->add_subcommand(
        "drift", "Report drift (migrate_drift()) on every target of a fleet, going on past drifted and unreachable "
                 "ones; exit 0 all clean, 31 some drifted, 63 some could not be read");
    fleet_drift_cmd->add_option("NAME", fleet_drift.fleet, "The fleet ([fleets.NAME] of pgmig.toml)")->required();
    fleet_drift_cmd->add_option("--parallel", fleet_drift.parallel, "Targets read at a time (default: the fleet's parallel)")
        ->check(CLI::Range(1, 1000));
    fleet_drift_cmd->add_flag("--json", fleet_drift.json, "Print one JSON document with every target's drift");
    fleet_drift_cmd->callback([&] { action = [&] { return run_fleet_drift(fleet_drift); }; });
    FleetApproveOptions fleet_approve;
    auto* fleet_approve_cmd = fleet_cmd->add_subcommand(
        "approve", "Approve migration files for the fleet's environment in every target at once (migrate_approve() "
                   "of each file's checksum, as your role); the four-eyes rule holds in each target");
    fleet_approve_cmd->add_option("NAME", fleet_approve.fleet, "The fleet ([fleets.NAME] of pgmig.toml)")->required();
    fleet_approve_cmd->add_option("VERSION", fleet_approve.versions, "Versions to approve (R__NAME for a repeatable one)")
        ->required();
    fleet_approve_cmd->add_option("--dir", fleet_approve.dir, dir_help);
    fleet_approve_cmd->add_flag("--json", fleet_approve.json, "Print one JSON document with every target's outcome");
    fleet_approve_cmd->callback([&] { action = [&] { return run_fleet_approve(fleet_approve); }; });

    ApprovalsOptions approvals;
    auto* approvals_cmd = app.add_subcommand(
        "approvals",
        "Show what a deploy of the files would need approved for an environment: each migration it would "
        "run, approved by enough roles other than its registrant (the rule migrate_apply() enforces); "
        "exit 28 when one is not");
    add_target_options(approvals_cmd, global, &approvals.env, "; also the name approvals are for")->required();
    approvals_cmd->add_option("--deployer", approvals.deployer,
                              "The role that will register new and changed files, and so be their registrant "
                              "(default: yours)");
    approvals_cmd->add_option("--dir", approvals.dir,
                              dir_help + std::string("; without a folder, the ledger's pending "
                                                     "migrations are checked"));
    approvals_cmd->add_flag("--json", approvals.json, "Print JSON instead of a table");
    approvals_cmd->callback([&] { action = [&] { return run_approvals(global, approvals); }; });

    // `pgmig audit` alone shows the trail; `pgmig audit verify` checks the chain (declared above).
    AuditShowOptions audit_show;
    audit_cmd->require_subcommand(0, 1);
    audit_cmd->add_option("--since", audit_show.since,
                          "Only events since this long ago (30min, 2h, 7d) or since this timestamp");
    audit_cmd->add_flag("--json", audit_show.json, "Print JSON (ddl_audit and history, and the merged events)");
    add_target_options(audit_cmd, global, &audit_show.env);
    audit_cmd->callback([&] {
        if (!action) action = [&] { return run_audit_show(global, audit_show); };
    });

    MonitorOptions monitor;
    auto* monitor_cmd = app.add_subcommand(
        "monitor", "Show a migration run in progress (started anywhere): migration k of n, the statement, elapsed "
                   "time, lock waits and who blocks them, index build progress");
    add_target_options(monitor_cmd, global, &monitor.env);
    monitor_cmd->add_flag("--once", monitor.once, "Print the state once and exit (default: refresh until Ctrl-C)");
    monitor_cmd->add_flag("--json", monitor.json, "Print JSON (implies --once)");
    monitor_cmd->add_option("--interval", monitor.interval_s, "Seconds between refreshes")->capture_default_str();
    monitor_cmd->callback([&] { action = [&] { return run_monitor(global, monitor); }; });

    // ==== alerts + watch ====
    const char* const alert_env_help =
        "Environment of pgmig.toml: its alert targets, and its database (-d wins over the environment's dbname)";
    const char* const target_help =
        "Alert target ([alerts.NAME] of pgmig.toml; repeatable); default: the environment's alerts, else every target";
    AlertTestOptions alert_test;
    auto* alert_cmd = app.add_subcommand("alert", "Alerts (webhooks, email) of pgmig.toml");
    alert_cmd->require_subcommand(1);
    auto* alert_test_cmd = alert_cmd->add_subcommand(
        "test", "Send a test alert to the targets and say which were delivered (exit 25 when any was not)");
    alert_test_cmd->add_option("--env", alert_test.env, alert_env_help);
    alert_test_cmd->add_option("--target", alert_test.targets, target_help);
    std::vector<std::string> alert_event_names{"test"};
    for (const char* e : kAlertEvents) alert_event_names.emplace_back(e);
    alert_test_cmd
        ->add_option("--event", alert_test.event,
                     "Event to send: test (goes to every target) or a real event's name, which goes only to the "
                     "targets that subscribe to it")
        ->check(CLI::IsMember(alert_event_names))
        ->capture_default_str();
    alert_test_cmd->add_flag("--json", alert_test.json, "Print the deliveries as JSON");
    alert_test_cmd->callback([&] { action = [&] { return run_alert_test(global, alert_test); }; });

    WatchOptions watch;
    auto* watch_cmd = app.add_subcommand(
        "watch",
        "LISTEN pgmig_drift and send a drift_detected alert at once for each out-of-band DDL; reconnects with "
        "backoff (and catches up on DDL missed meanwhile); stops on SIGINT/SIGTERM");
    add_target_options(watch_cmd, global, &watch.env, "; and its alert targets");
    watch_cmd->add_option("--target", watch.targets, target_help);
    watch_cmd->add_flag("--once", watch.once, "Exit after the first drift alert");
    watch_cmd->add_option("--timeout", watch.timeout, "Stop watching after this long (30s, 5min); default: never");
    watch_cmd->callback([&] { action = [&] { return run_watch(global, watch); }; });

    // ==== backups ====
    const char* const key_help =
        "Backup key file: 32 raw bytes or 64 hex digits are the AES-256 key, anything else a passphrase (scrypt); "
        "default: $PGMIG_BACKUP_KEY_FILE, else key_file, else key_env of pgmig.toml";
    BackupOptions backup;
    auto* backup_cmd = app.add_subcommand(
        "backup",
        "Take an encrypted backup (pg_dump -Fc, AES-256-GCM) into <dir>/<env>/<UTC time>_<db>.pgmig-backup with a "
        "manifest beside it, then delete the oldest beyond keep; or list/verify backups");
    add_target_options(backup_cmd, global, &backup.env, "; and its backup settings");
    backup_cmd->add_option("--out", backup.out, "Backups folder instead of dir of pgmig.toml (default: backups)");
    backup_cmd->add_option("--key-file", backup.key_file, key_help);
    backup_cmd->callback([&] {
        if (backup_cmd->get_subcommands().empty()) action = [&] { return run_backup(global, backup); };
    });
    BackupListOptions backup_list;
    auto* backup_list_cmd = backup_cmd->add_subcommand("list", "List an environment's backups, newest first, with their manifests");
    backup_list_cmd->add_option("--env", backup_list.env, "Environment (default: the folder `default`)");
    backup_list_cmd->add_option("--out", backup_list.out, "Backups folder instead of dir of pgmig.toml");
    backup_list_cmd->add_flag("--json", backup_list.json, "Print JSON");
    backup_list_cmd->callback([&] { action = [&] { return run_backup_list(backup_list); }; });
    BackupVerifyOptions backup_verify;
    auto* backup_verify_cmd = backup_cmd->add_subcommand(
        "verify", "Check backups: manifest, size and SHA-256, decryption with the key, pg_restore --list; exit 20 wrong "
                  "key, 21 corrupted, 22 truncated, 23 manifest missing or invalid");
    backup_verify_cmd->add_option("FILES", backup_verify.files, "Backup files (.pgmig-backup)")->required();
    backup_verify_cmd->add_option("--env", backup_verify.env, "Environment whose key settings apply");
    backup_verify_cmd->add_option("--key-file", backup_verify.key_file, key_help);
    backup_verify_cmd->add_flag("--json", backup_verify.json, "Print JSON (one object per backup)");
    backup_verify_cmd->callback([&] { action = [&] { return run_backup_verify(backup_verify); }; });

    RestoreOptions restore;
    auto* restore_cmd = app.add_subcommand(
        "restore", "Restore a backup into a NEW database (refuses an existing one) and check that its fingerprint "
                   "equals the manifest's (exit 24 if not)");
    restore_cmd->add_option("FILE", restore.file, "Backup file (.pgmig-backup)")->required();
    restore_cmd->add_option("--to", restore.to, "Name of the database to create")->required();
    add_target_options(restore_cmd, global, &restore.env, "; and its backup settings");
    restore_cmd->add_option("--key-file", restore.key_file, key_help);
    restore_cmd->callback([&] { action = [&] { return run_restore(global, restore); }; });

    // ==== health ====
    HealthCommandOptions health;
    auto* health_cmd = app.add_subcommand(
        "health",
        "Check the database: connection and latency, server version, extension version, pending migrations, "
        "checksums, drift, audit chain, blocking locks, long transactions, replication lag, last backup; exit 0 "
        "healthy, 26 a check failed, 27 only warnings, 4 cannot connect. With --serve, answer HTTP instead");
    add_target_options(health_cmd, global, &health.env, "; and its backups");
    health_cmd->add_option("--dir", health.dir,
                           dir_help + std::string("; files not registered yet count as pending (default: the "
                                                  "folder when it exists, else registered migrations only)"));
    health_cmd->add_flag("--json", health.json, "Print the report as JSON");
    health_cmd->add_flag("--warn-ok", health.warn_ok, "Exit 0 instead of 27 when checks only warn");
    health_cmd->add_option("--serve", health.serve,
                           "Serve GET /health (all checks; 503 when one fails), /health/live (200 while running) and "
                           "/health/ready (200 iff reachable, nothing pending, no drift; else 503) on ADDR:PORT "
                           "(port 0: any free one)");
    health_cmd->add_option("--cache", health.cache, "--serve: reuse a report this long (e.g. 1s); 0: check per request")
        ->capture_default_str();
    health_cmd->add_option("--workers", health.workers,
                           "--serve: threads answering /health and /health/ready (4 more requests may wait per "
                           "thread; beyond that: 503 at once)")
        ->capture_default_str()
        ->check(CLI::Range(1, 64));
    health_cmd->add_option("--max-connections", health.max_connections,
                           "--serve: connections open at once; a new one beyond makes room by closing the one that "
                           "has been sending its request the longest")
        ->capture_default_str()
        ->check(CLI::Range(1, 4096));
    health_cmd->add_option("--read-timeout", health.read_timeout,
                           "--serve: a whole request (line, headers, body) must arrive within this; else 408 and close")
        ->capture_default_str();
    health_cmd->add_option("--long-transaction", health.long_transaction, "Warn about transactions open longer")
        ->capture_default_str();
    health_cmd->add_option("--lock-wait", health.lock_wait, "Warn about sessions waiting for a lock longer")
        ->capture_default_str();
    health_cmd->add_option("--replication-lag", health.replication_lag, "Warn about standbys replaying later")
        ->capture_default_str();
    health_cmd->add_option("--backup-max-age", health.backup_max_age, "Warn when the newest backup is older")
        ->capture_default_str();
    health_cmd->add_option("--timeout", health.timeout, "Bound of the connection and of each check's query")
        ->capture_default_str();
    health_cmd->callback([&] { action = [&] { return run_health(global, health); }; });

    // ==== desired-state diff ====
    const auto add_diff_options = [&](CLI::App* cmd, DiffOptions& d) {
        add_target_options(cmd, global, &d.env, "; and its shadow_db, shadow_owner, shadow_server");
        cmd->add_option("--schema", d.schema,
                        "Folder of the desired schema's .sql files, loaded in path order (subfolders too) into a "
                        "shadow database, or drizzle:FILE / prisma:FILE (the project's drizzle-kit or prisma "
                        "turns it into SQL) (default: `schema` of ./pgmig.toml, else schema)");
        cmd->add_option("--to", d.to,
                        "Take the desired schema from this existing database instead (it needs CREATE EXTENSION "
                        "pgmig; no shadow database), or from drizzle:FILE / prisma:FILE");
        cmd->add_flag("--allow-destructive", d.allow_destructive,
                      "Include destructive steps (drop table/column, type narrowing, enum value removal); without "
                      "it they are withheld, listed, and the exit code is 32");
        auto* rename = cmd->add_option("--rename", d.renames,
                                       "OLD=NEW: a table (schema.table) or a column (schema.table.column) was renamed; "
                                       "schema may be omitted (public), NEW may be only the new name (repeatable)");
        cmd->add_flag("--no-rename", d.no_rename,
                      "The probable renames reported are not renames: drop the old and add the new")
            ->excludes(rename);
        cmd->add_option("--backfill", d.backfills,
                        "SCHEMA.TABLE.COLUMN=EXPRESSION (or TABLE.COLUMN=...): the value of a NOT NULL column without "
                        "a default added to a table with rows: ADD COLUMN, UPDATE ... SET COLUMN = EXPRESSION WHERE "
                        "COLUMN IS NULL, SET NOT NULL (repeatable); without it such a NOT NULL is withheld (exit 60)")
            ->allow_extra_args(false);
        cmd->add_option("--shadow-db", d.shadow_db,
                        "Name of the shadow database (default: shadow_db of pgmig.toml, else "
                        "pgmig_shadow_<pid>_<random>); an existing database is used only if pgmig made it");
        cmd->add_option("--shadow-owner", d.shadow_owner, "Role that owns the shadow database (default: yours)");
        cmd->add_option("--shadow-server", d.shadow_server,
                        "Create the shadow database on this server (a connection string to its maintenance "
                        "database, e.g. the pgmig local cluster's) instead of the target's");
        cmd->add_flag("--json", d.json, "Print the statements, withheld steps and probable renames as JSON");
        cmd->add_flag("--exit-code", d.exit_code, "Exit 31 when there are differences (0 when there are none)");
        cmd->add_flag("--reorder-columns", d.reorder_columns,
                      "Rebuild each table whose column order differs from the desired one (new table, copy, swap, "
                      "under ACCESS EXCLUSIVE, at the end of the migration); without it the order is only a warning");
        cmd->add_flag("--strict", d.strict,
                      "Objects the diff cannot write DDL for are an error (exit 36, nothing printed or written); "
                      "without it they are named as warnings and everything else is done");
    };
    DiffOptions diff;
    auto* diff_cmd = app.add_subcommand(
        "diff", "Print the SQL that turns the database into the desired schema (the schema folder loaded into a "
                "shadow database, which is always dropped; or --to): up SQL on stdout, the non-transactional post "
                "part under a header comment; withheld steps and probable renames on stderr");
    add_diff_options(diff_cmd, diff);
    diff_cmd->callback([&] { action = [&] { return run_diff(global, diff); }; });

    GenerateOptions generate;
    auto* generate_cmd = app.add_subcommand(
        "generate", "Write the diff as a new migration <next version>_<NAME>.sql (up and down sections), and "
                    "<next+1>_<NAME>_concurrently.sql (-- pgmig:no-transaction) when indexes or constraints on "
                    "existing tables need it; print the paths. Writes nothing when there is nothing to do");
    generate_cmd->add_option("NAME", generate.name, "Name of the migration: letters, digits, '_' and '-'")->required();
    generate_cmd->add_option("--dir", generate.dir, dir_help);
    add_diff_options(generate_cmd, generate.diff);
    generate_cmd->callback([&] { action = [&] { return run_generate(global, generate); }; });

    SyncOptions sync;
    auto* sync_cmd = app.add_subcommand(
        "sync", "Generate and apply in one step, for development: refused (exit 35) for an environment with "
                "approval = true, and when migrations are pending");
    add_diff_options(sync_cmd, sync.diff);
    sync_cmd->get_option("--env")->required();
    sync_cmd->add_option("--name", sync.name, "Name of the generated migration")->capture_default_str();
    sync_cmd->add_option("--dir", sync.dir, dir_help);
    sync_cmd->callback([&] { action = [&] { return run_sync(global, sync); }; });

    DriftOptions drift;
    auto* drift_cmd = app.add_subcommand(
        "drift", "Show how the schema differs from what the ledger expects (migrate_drift()); --fix NAME writes the "
                 "migration that undoes the drift, --adopt NAME the one that records it (marked applied, not run)");
    add_target_options(drift_cmd, global, &drift.env);
    drift_cmd->add_flag("--json", drift.json, "Print the drifted objects as JSON");
    drift_cmd->add_flag("--exit-code", drift.exit_code, "Exit 31 when there is drift");
    auto* fix_opt = drift_cmd->add_option(
        "--fix", drift.fix,
        "Write migration NAME that brings the schema back to the ledger's expected snapshot (review, then pgmig apply)");
    drift_cmd
        ->add_option("--adopt", drift.adopt,
                     "Write migration NAME whose up is the drift (expected -> live) and down undoes it, register it "
                     "and mark it applied without running it; refused while migrations are pending")
        ->excludes(fix_opt);
    drift_cmd->add_option("--dir", drift.dir, dir_help);
    drift_cmd->add_flag("--allow-destructive", drift.allow_destructive,
                        "--fix: include destructive steps (otherwise withheld, exit 32)");
    auto* drift_rename = drift_cmd->add_option("--rename", drift.renames,
                                               "OLD=NEW: confirm a probable rename (as for pgmig diff; repeatable)");
    drift_cmd->add_flag("--no-rename", drift.no_rename, "The probable renames are not renames")->excludes(drift_rename);
    drift_cmd
        ->add_flag("--ignore-column-order", drift.ignore_column_order,
                   "Report: a table whose columns differ only in order is not drift (migrate_drift(true))")
        ->excludes(fix_opt)
        ->excludes(drift_cmd->get_option("--adopt"));
    drift_cmd->add_flag("--strict", drift.strict,
                        "--fix, --adopt: objects the diff cannot write DDL for are an error (exit 36), not warnings");
    drift_cmd
        ->add_option("--backfill", drift.backfills,
                     "--fix: SCHEMA.TABLE.COLUMN=EXPRESSION, the value of a NOT NULL column without a default added "
                     "back to a table with rows (as for pgmig diff; repeatable)")
        ->allow_extra_args(false);
    drift_cmd->callback([&] { action = [&] { return run_drift(global, drift); }; });

    // ==== --json on the commands that report a result without a document of their own ====
    // Their JSON is the envelope client/cli/json_output.cpp writes (docs/reference.md, "JSON output").
    bool json_envelope = false;  // wants_json() reads the flag's count
    for (const char* name : {"apply", "rollback", "deploy", "backup", "restore", "approve", "adopt"}) {
        app.get_subcommand(name)->add_flag("--json", json_envelope,
                                           "Print one JSON document on stdout (command, ok, exit_code, target, "
                                           "versions, result, error), also on failure; the usual lines go to stderr");
    }

    point_to_exit_codes(app);

    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        outcome.log = false;
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        outcome.log = false;
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        outcome.log = false;
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        for (int i = 1; i < argc; ++i) {
            if (std::string_view(argv[i]) == "--json") json_output_begin();  // the usage error as JSON too
        }
        // CLI11 reports an unknown command as "A subcommand is required"; name the word instead.
        if (argc > 1 && argv[1][0] != '-') {
            bool known = false;
            for (const auto* sub : app.get_subcommands([](CLI::App*) { return true; }))
                known |= sub->check_name(argv[1]);
            if (!known) {
                return fail(outcome, Error(ErrorKind::usage, fmt::format("unknown command '{}'", argv[1]),
                                    "on the command line", "see pgmig --help for the commands"));
            }
        }
        return fail(outcome, Error(ErrorKind::usage, one_line(e.what()), "on the command line", "see pgmig --help"));
    }

    audit_context().command = command_path(app);
    if (wants_json(app)) json_output_begin();
    set_format_option(global.format);
    try {
        resolve_target(global);
        return action ? action()
                      : fail(outcome,
                             Error(ErrorKind::usage, "no command given", "on the command line", "see pgmig --help"));
    } catch (const Error& e) {
        return fail(outcome, e);
    } catch (const nlohmann::json::exception&) {
        // A JSON library's own text (type_error.316 ...) means nothing to a user and may quote odd bytes.
        return fail(outcome, Error(ErrorKind::internal, "a JSON document could not be written or read", "inside pgmig",
                                   "please report this as a bug, with the command that failed"));
    } catch (const std::exception& e) {
        return fail(outcome, Error(ErrorKind::internal, e.what(), "inside pgmig", "please report this as a bug"));
    }
}

// Appends the command's line to the audit log; a log that cannot be written is only a warning.
void write_audit_log(int exit_code, const Outcome& outcome) {
    if (!outcome.log) return;
    try {
        const std::string path = audit_log_path();
        const std::string problem =
            append_audit_line(path, audit_record(audit_context(), exit_code, outcome.kind, outcome.message));
        if (!problem.empty()) {
            std::fprintf(stderr,
                         "pgmig: warning: the audit log was not written: %s; check the folder's permissions, or "
                         "set audit_log in pgmig.toml (or PGMIG_AUDIT_LOG)\n",
                         problem.c_str());
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "pgmig: warning: the audit log was not written: %s\n", e.what());
    }
}

}  // namespace

int main(int argc, char** argv) {
    try {
        audit_context().arguments = redact_arguments(argc, argv);
        Outcome outcome;
        const int code = run(argc, argv, outcome);
        json_output_end(audit_context().command, code, outcome.error ? &*outcome.error : nullptr);
        write_audit_log(code, outcome);
        return code;
    } catch (...) {
        // Only reachable when declaring the command line itself fails: a bug.
        std::fputs("pgmig: error: internal error while setting up the command line, in pgmig; please report this\n",
                   stderr);
        return exit_code(ErrorKind::internal);
    }
}
