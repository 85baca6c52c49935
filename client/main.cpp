// pgmig's command line: the one place that declares every command and option (the --help text comes from here).
#include "client/commands/commands.hpp"
#include "client/errors.hpp"

#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <cstdio>
#include <exception>
#include <functional>

using namespace pgmig::client;

namespace {

int run(int argc, char** argv) {
    CLI::App app{"pgmig: PostgreSQL schema migrations, applied and audited inside the database", "pgmig"};
    app.set_version_flag("--version", "pgmig " PGMIG_VERSION, "Print the version and exit");
    app.require_subcommand(1);
    app.fallthrough();  // global options may also follow the command: pgmig status -d ...
    app.footer(exit_codes_help());

    GlobalOptions global;
    app.add_option("-d,--dbname", global.dbname,
                   "Connection string or URI (as with psql -d); without it libpq's PG* environment variables, "
                   "pg_service.conf and ~/.pgpass apply");

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
        "new", "Write <UTC timestamp YYYYMMDDHHMMSS>_<NAME>.sql from an idempotent template; print its path");
    new_cmd->add_option("NAME", new_opts.name, "Name: letters, digits, '_' and '-'")->required();
    new_cmd->add_option("--dir", new_opts.dir, dir_help);
    new_cmd->callback([&] { action = [&] { return run_new(new_opts); }; });

    StatusOptions status;
    auto* status_cmd = app.add_subcommand("status", "Show the migrations the database knows and their state");
    status_cmd->add_flag("--json", status.json, "Print a JSON array instead of a table");
    status_cmd->add_option("--dir", status.dir, dir_help + std::string("; also shows files not registered yet"));
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
    validate_cmd->add_flag("--offline", validate.offline,
                           "Check the files only; no database (so no ledger, lint or integrity checks)");
    validate_cmd->callback([&] { action = [&] { return run_validate(global, validate); }; });

    ApplyOptions apply;
    auto* apply_cmd = app.add_subcommand(
        "apply", "Register the migration files and apply the pending ones (non-transactional ones resumably)");
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
    apply_cmd->callback([&] { action = [&] { return run_apply(global, apply); }; });

    RollbackOptions rollback;
    auto* rollback_cmd =
        app.add_subcommand("rollback", "Run the down scripts of the newest migrations, all or nothing");
    auto* steps_opt =
        rollback_cmd->add_option("--steps", rollback.steps, "How many migrations to roll back")->capture_default_str();
    rollback_cmd->add_option("--to", rollback.to, "Roll back every migration newer than this version (0: all)")
        ->excludes(steps_opt);
    rollback_cmd->callback([&] { action = [&] { return run_rollback(global, rollback); }; });

    BaselineOptions baseline;
    auto* baseline_cmd =
        app.add_subcommand("baseline", "Register the files and mark those up to VERSION applied without running them");
    baseline_cmd->add_option("VERSION", baseline.version, "Version the existing database is at")->required();
    baseline_cmd->add_option("--dir", baseline.dir, dir_help);
    baseline_cmd->callback([&] { action = [&] { return run_baseline(global, baseline); }; });

    RepairOptions repair;
    auto* repair_cmd =
        app.add_subcommand("repair", "Accept the file's up script of VERSION as the truth (new checksum, recorded)");
    repair_cmd->add_option("VERSION", repair.version, "Version to repair")->required();
    repair_cmd->add_option("--dir", repair.dir, dir_help);
    repair_cmd->add_option("--reason", repair.reason, "Why (kept in pgmig.history)");
    repair_cmd->callback([&] { action = [&] { return run_repair(global, repair); }; });

    AuditVerifyOptions audit_verify;
    auto* audit_cmd = app.add_subcommand("audit", "The database's DDL audit trail");
    audit_cmd->require_subcommand(1);
    auto* audit_verify_cmd = audit_cmd->add_subcommand(
        "verify", "Check the audit hash chain and anchor its head outside the database (a rewritten chain is caught)");
    audit_verify_cmd->add_option("--anchor", audit_verify.anchor, "Anchor file (JSON lines, appended to)")
        ->capture_default_str();
    audit_verify_cmd->callback([&] { action = [&] { return run_audit_verify(global, audit_verify); }; });

    LintOptions lint;
    auto* lint_cmd = app.add_subcommand(
        "lint", "Lint migrations with the database's own parser and catalog (dangerous operations, table sizes)");
    lint_cmd->add_option("FILES", lint.files,
                         "Files to lint (migration files by their names; any other .sql as plain SQL); default: "
                         "every migration of --dir, up and down scripts");
    lint_cmd->add_option("--dir", lint.dir, dir_help);
    lint_cmd->add_option("--allow", lint.allow, "Waive this rule in every script (repeatable)");
    lint_cmd->add_option("--threshold", lint.threshold, "Exit 14 on unwaived findings of this severity or worse")
        ->check(CLI::IsMember({"error", "warning", "advice"}))
        ->capture_default_str();
    lint_cmd->add_flag("--json", lint.json, "Print the findings as JSON");
    lint_cmd->callback([&] { action = [&] { return run_lint(global, lint); }; });

    LocalOptions local;
    auto* local_cmd = app.add_subcommand("local", "A throwaway PostgreSQL cluster on a unix socket, for development");
    local_cmd->require_subcommand(1);
    local_cmd->add_option("--dir", local.dir, "Folder of the cluster (data, socket, log)")->capture_default_str();
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
        {"env", "Print PGHOST/PGPORT/PGUSER/PGDATABASE lines for the running cluster (for eval)", run_local_env},
    };
    for (const auto& lc : local_commands) {
        auto* sub = local_cmd->add_subcommand(lc.name, lc.help);
        sub->fallthrough();  // --dir may come after start/stop/...
        sub->callback([&action, &local, run = lc.run] { action = [&local, run] { return run(local); }; });
    }

    // ==== issue 5: data integrity + CI formats ====
    CheckIntegrityOptions check_integrity;
    auto* check_integrity_cmd = app.add_subcommand(
        "check-integrity",
        "Report data integrity problems (migrate_check_integrity): NOT VALID constraints and whether they would "
        "validate, orphaned rows, invalid indexes, sequences behind their column, tables without a primary key; "
        "reads the tables, changes nothing");
    check_integrity_cmd->add_flag("--json", check_integrity.json, "Print the findings as JSON");
    check_integrity_cmd->callback([&] { action = [&] { return run_check_integrity(global, check_integrity); }; });

    // ==== issue 6: health ====
    HealthCommandOptions health;
    auto* health_cmd = app.add_subcommand(
        "health",
        "Check the database: connection and latency, server version, extension version, pending migrations, "
        "checksums, drift, audit chain, blocking locks, long transactions, replication lag, last backup; exit 0 "
        "healthy, 26 a check failed, 27 only warnings, 4 cannot connect. With --serve, answer HTTP instead");
    health_cmd->add_option("--env", health.env, "Environment of pgmig.toml: its connection (-d wins) and backups");
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

    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        // CLI11 reports an unknown command as "A subcommand is required"; name the word instead.
        if (argc > 1 && argv[1][0] != '-') {
            bool known = false;
            for (const auto* sub : app.get_subcommands([](CLI::App*) { return true; }))
                known |= sub->check_name(argv[1]);
            if (!known) {
                return report(Error(ErrorKind::usage, fmt::format("unknown command '{}'", argv[1]),
                                    "on the command line", "see pgmig --help for the commands"));
            }
        }
        return report(Error(ErrorKind::usage, one_line(e.what()), "on the command line", "see pgmig --help"));
    }

    try {
        return action ? action()
                      : report(Error(ErrorKind::usage, "no command given", "on the command line", "see pgmig --help"));
    } catch (const Error& e) {
        return report(e);
    } catch (const std::exception& e) {
        return report(Error(ErrorKind::internal, e.what(), "inside pgmig", "please report this as a bug"));
    }
}

}  // namespace

int main(int argc, char** argv) {
    try {
        return run(argc, argv);
    } catch (...) {
        // Only reachable when declaring the command line itself fails: a bug.
        std::fputs("pgmig: error: internal error while setting up the command line, in pgmig; please report this\n",
                   stderr);
        return exit_code(ErrorKind::internal);
    }
}
