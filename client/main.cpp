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

    StatusOptions status;
    auto* status_cmd = app.add_subcommand("status", "Show the migrations the database knows and their state");
    status_cmd->add_flag("--json", status.json, "Print a JSON array instead of a table");
    status_cmd->add_option("--dir", status.dir, "Migrations folder (reserved: comparing files comes later)");
    status_cmd->callback([&] { action = [&] { return run_status(global, status); }; });

    ApplyOptions apply;
    auto* apply_cmd =
        app.add_subcommand("apply", "Register the migration files and apply the pending ones, all or nothing");
    apply_cmd->add_option("--dir", apply.dir, "Migrations folder: <version>_<name>.sql files")->capture_default_str();
    apply_cmd->add_option("--to", apply.to, "Apply up to this version (inclusive); default: all");
    apply_cmd->callback([&] { action = [&] { return run_apply(global, apply); }; });

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
