// pgmig test: the rollback test of every pending migration, on a scratch database built from the
// target's schema (never on the target itself): migrate_test, then apply, migration by migration.
#include "client/cli/commands/commands.hpp"
#include "client/core/config.hpp"
#include "client/core/db.hpp"
#include "client/core/errors.hpp"
#include "client/cli/json_output.hpp"
#include "client/ledger/ledger_lock.hpp"
#include "client/core/process.hpp"
#include "client/ledger/project.hpp"
#include "common/scratch_database.hpp"

#include <signal.h>
#include <unistd.h>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace pgmig::client {

namespace {

using nlohmann::json;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// Ctrl-C / SIGTERM: cancel the query in flight (PQcancel is safe in a signal handler), so the
// command fails at once and its cleanup drops the scratch database.
volatile std::sig_atomic_t g_interrupted = 0;
PGcancel* volatile g_cancel = nullptr;

extern "C" void on_interrupt(int) {
    g_interrupted = 1;
    if (PGcancel* cancel = g_cancel) {
        char errbuf[256];
        PQcancel(cancel, errbuf, sizeof errbuf);
    }
}

void check_interrupted() {
    if (g_interrupted) {
        throw Error(ErrorKind::scratch_database, "interrupted", "in pgmig test",
                    "the scratch database is dropped (unless --keep); run pgmig test again");
    }
}

// While alive, queries on `conn` are cancelled by Ctrl-C.
class Cancellable {
  public:
    explicit Cancellable(const Connection& conn) : cancel_(PQgetCancel(conn.raw())) { g_cancel = cancel_; }
    ~Cancellable() {
        g_cancel = nullptr;
        if (cancel_) PQfreeCancel(cancel_);
    }
    Cancellable(const Cancellable&) = delete;
    Cancellable& operator=(const Cancellable&) = delete;

  private:
    PGcancel* cancel_;
};

// The target's connection parameters with another database (see conninfo_with_database in db.hpp).
std::string conninfo_for(const Connection& conn, const std::string& dbname, bool with_password) {
    return conninfo_with_database(conn, dbname, with_password);
}

std::optional<std::string> password_of(const Connection& conn) {
    std::optional<std::string> out;
    PQconninfoOption* options = PQconninfo(conn.raw());
    for (PQconninfoOption* o = options; o && o->keyword; ++o) {
        if (std::string(o->keyword) == "password" && o->val && *o->val) out = o->val;
    }
    PQconninfoFree(options);
    return out;
}

std::string quote_ident(const std::string& name) { return quote_identifier(name); }

fs::path program(const char* name) {
    const fs::path p = pg_bindir() / name;
    if (access(p.c_str(), X_OK) != 0) {
        throw Error(ErrorKind::scratch_database, fmt::format("{} not found", p.string()),
                    "in the PostgreSQL bin folder", "install the PostgreSQL 15 client programs or set PGMIG_PG_BINDIR");
    }
    return p;
}

// The scratch database: created on the target's server, dropped when this goes away (also when an
// exception or Ctrl-C ends the run) unless kept.
class ScratchDatabase {
  public:
    ScratchDatabase(const Connection& admin, std::string name, bool keep)
        : admin_(admin), name_(std::move(name)), keep_(keep) {
        Result res = admin_.exec("CREATE DATABASE " + quote_ident(name_) + " TEMPLATE template0");
        if (!res.ok()) {
            const ServerError e = res.error();
            if (e.sqlstate == "42501") {
                throw Error(ErrorKind::scratch_database,
                            fmt::format("cannot create the scratch database {}: {}", name_, e.message),
                            fmt::format("on {}", admin_.target()),
                            "pgmig test needs a role with CREATEDB (ALTER ROLE ... CREATEDB), or run it as one "
                            "with -d; the target is never changed");
            }
            throw Error(ErrorKind::scratch_database,
                        fmt::format("cannot create the scratch database {}: {}", name_, e.message),
                        fmt::format("on {}", admin_.target()), "check the server's log; nothing was changed");
        }
        created_ = true;
    }
    ~ScratchDatabase() {
        if (!created_ || keep_) return;
        Result res = admin_.exec("DROP DATABASE IF EXISTS " + quote_ident(name_) + " WITH (FORCE)");
        if (!res.ok()) {
            std::fprintf(stderr, "pgmig: warning: could not drop the scratch database %s: %s; drop it by hand\n",
                         name_.c_str(), res.error().message.c_str());
        }
    }
    ScratchDatabase(const ScratchDatabase&) = delete;
    ScratchDatabase& operator=(const ScratchDatabase&) = delete;
    const std::string& name() const { return name_; }

  private:
    const Connection& admin_;
    std::string name_;
    bool keep_;
    bool created_ = false;
};

// A temporary file removed when this goes away.
struct TempFile {
    fs::path path;
    ~TempFile() {
        std::error_code ec;
        if (!path.empty()) fs::remove(path, ec);
    }
};

// pg_dump --schema-only of the target, restored into the scratch database with psql.
void copy_schema(const Connection& target, const std::string& scratch) {
    const fs::path pg_dump = program("pg_dump");
    const fs::path psql = program("psql");
    if (auto password = password_of(target)) setenv("PGPASSWORD", password->c_str(), 1);  // not on a command line
    char tmpl[] = "/tmp/pgmig-test-schema-XXXXXX";
    const int fd = mkstemp(tmpl);
    if (fd < 0) throw Error(ErrorKind::scratch_database, "cannot create a temporary file", "in /tmp", "check /tmp");
    close(fd);
    TempFile dump{tmpl};
    const std::string target_db = PQdb(target.raw());
    ProcessResult r = run_process({pg_dump.string(), "--schema-only", "--no-password", "-f", dump.path.string(), "-d",
                                   conninfo_for(target, target_db, false)},
                                  {}, std::nullopt);
    check_interrupted();
    if (r.exit_code != 0) {
        throw Error(ErrorKind::scratch_database, fmt::format("pg_dump of the target failed: {}", one_line(r.output)),
                    fmt::format("dumping the schema of {}", target.target()),
                    "check that this role may read every object of the target; the target was not changed");
    }
    r = run_process({psql.string(), "-X", "-q", "--no-password", "-v", "ON_ERROR_STOP=1", "-f", dump.path.string(),
                     "-d", conninfo_for(target, scratch, false)},
                    {}, std::nullopt);
    check_interrupted();
    if (r.exit_code != 0) {
        throw Error(ErrorKind::scratch_database,
                    fmt::format("restoring the target's schema into {} failed: {}", scratch, one_line(r.output)),
                    "with psql",
                    "restoring needs the rights to recreate the target's objects (and their owners), and the copy "
                    "creates the pgmig extension, which needs a superuser: run pgmig test as a superuser of a test "
                    "server (pgmig local, or a restored copy of the target)");
    }
}

// A connection to the target's server in its maintenance database (postgres, else template1).
Connection admin_connection(const Connection& target) {
    try {
        return Connection::open(conninfo_for(target, "postgres", true));
    } catch (const Error&) {
        return Connection::open(conninfo_for(target, "template1", true));
    }
}

struct Outcome {
    std::string version, name;
    std::string note;  // "no down script", "non-transactional", "not applied: ..."
    json checks = json::array();
    long long ms = 0;
    bool failed = false;
};

// Applies a non-transactional migration statement by statement, as pgmig apply does (no resume:
// the scratch database is fresh).
void apply_nontransactional(const Connection& conn, const std::string& version, const std::string& up_sql) {
    auto call = [&conn](const std::string& sql, const std::vector<std::optional<std::string>>& params) {
        Result res = conn.exec_params(sql, params);
        if (!res.ok()) throw res.error();
        return res;
    };
    call("SELECT pg_advisory_lock($1::bigint)", {std::string(kLedgerLockKey)});
    call("SELECT migrate_nontx_begin($1)", {version});
    Result stmts = call("SELECT statement FROM pgmig.split_statements($1) ORDER BY n", {up_sql});
    const auto start = Clock::now();
    for (int i = 0; i < stmts.rows(); ++i) {
        Result res = conn.exec(stmts.get(i, 0));
        if (!res.ok()) throw res.error();
        call("SELECT migrate_nontx_progress($1, $2::int)", {version, std::to_string(i + 1)});
    }
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
    call("SELECT migrate_nontx_finish($1, $2::interval)", {version, interval_ms(ms)});
    call("SELECT pg_advisory_unlock($1::bigint)", {std::string(kLedgerLockKey)});
}

const char* mark(const json& check) {
    if (check.is_null() || check["passed"].is_null()) return "-";
    return check["passed"].get<bool>() ? "✓" : "✗";
}

void print_table(const std::vector<Outcome>& outcomes) {
    static const char* const kColumns[] = {"up", "down", "down_restores_schema", "up_again", "up_again_same_schema"};
    std::size_t width = 7;
    for (const auto& o : outcomes) width = std::max(width, o.version.size() + 1 + o.name.size());
    fmt::print("{:<{}}  {:^4} {:^4} {:^8} {:^8} {:^4} {:>9}\n", "migration", width, "up", "down", "restores",
               "up again", "same", "time");
    for (const auto& o : outcomes) {
        std::vector<std::string> marks;
        for (const char* column : kColumns) {
            json found;
            for (const auto& c : o.checks) {
                if (c["check"] == column) found = c;
            }
            marks.emplace_back(mark(found));
        }
        // The marks are one column wide but several bytes long: pad by hand.
        auto cell = [](const std::string& m, int w) {
            const int left = (w - 1) / 2;
            return std::string(static_cast<std::size_t>(left), ' ') + m +
                   std::string(static_cast<std::size_t>(w - 1 - left), ' ');
        };
        fmt::print("{:<{}}  {} {} {} {} {} {:>6} ms{}\n", o.version + "_" + o.name, width, cell(marks[0], 4),
                   cell(marks[1], 4), cell(marks[2], 8), cell(marks[3], 8), cell(marks[4], 4), o.ms,
                   o.note.empty() ? "" : "  (" + o.note + ")");
    }
}

}  // namespace

int run_test(const GlobalOptions& global, const TestOptions& options) {
    const std::string dir = resolve_migrations_dir(options.dir);
    const std::vector<MigrationFile> files = load_files(dir, "nothing was tested");
    Connection target = Connection::open(global.dbname);

    // What the target has applied (read only): the scratch database is baselined to it.
    std::optional<std::string> baseline;
    if (!options.from_empty) {
        require_extension(target);
        Transaction read(target, Transaction::Mode::read_only);
        Result res = target.exec(
            "SELECT s.version FROM migrate_status() WITH ORDINALITY AS s "
            " WHERE s.kind = 'versioned' AND s.state = 'applied' ORDER BY s.ordinality DESC LIMIT 1");
        if (!res.ok()) throw_server_error(res.error(), "reading the target's ledger", "nothing was tested");
        if (res.rows() == 1) baseline = res.get(0, 0);
    }

    struct sigaction action {};
    action.sa_handler = on_interrupt;
    sigemptyset(&action.sa_mask);
    struct sigaction old_int {}, old_term {};
    sigaction(SIGINT, &action, &old_int);
    sigaction(SIGTERM, &action, &old_term);
    struct RestoreSignals {
        struct sigaction int_, term_;
        ~RestoreSignals() {
            sigaction(SIGINT, &int_, nullptr);
            sigaction(SIGTERM, &term_, nullptr);
        }
    } restore{old_int, old_term};

    const std::string name = fmt::format("pgmig_test_{}_{}", getpid(), static_cast<long long>(std::time(nullptr)));
    std::vector<Outcome> outcomes;
    {
        // CREATE/DROP DATABASE from a maintenance database, not the target: on the target's own
        // connection they would be recorded in its audit trail (pgmig's utility hook), changing it.
        Connection admin = admin_connection(target);
        const Cancellable cancel_admin(admin);
        ScratchDatabase scratch(admin, name, options.keep);
        if (!options.from_empty) copy_schema(target, name);
        Connection conn = Connection::open(conninfo_for(target, name, true));
        const Cancellable cancel_scratch(conn);
        // The scratch database is dropped at the end: its commits (one per tested migration) need not wait
        // for their WAL to reach the disk.
        if (Result sc = conn.exec("SET synchronous_commit = off"); !sc.ok()) {
            throw_server_error(sc.error(),
                               fmt::format("setting synchronous_commit, in scratch database {}", conn.target()),
                               "the target was not changed");
        }
        // The mark that lets migrate_apply_tested keep the test's last run of up as the apply (down's effects on
        // data then stay, which only a database made for the test can accept). From the scratch database's own
        // connection, before the extension's first snapshot there: the maintenance database's audit trail, if
        // pgmig audits it, does not record it.
        if (Result mark =
                conn.exec("COMMENT ON DATABASE " + quote_ident(name) + " IS '" + common::kScratchDatabaseComment + "'");
            !mark.ok()) {
            throw_server_error(mark.error(), fmt::format("marking scratch database {}", conn.target()),
                               "the target was not changed");
        }
        auto exec = [&conn](const std::string& sql, const std::vector<std::optional<std::string>>& params,
                            const std::string& where) {
            Result res = conn.exec_params(sql, params);
            if (!res.ok()) {
                check_interrupted();
                throw_server_error(res.error(), fmt::format("{}, in scratch database {}", where, conn.target()),
                                   "the target was not changed");
            }
            return res;
        };
        if (!installed_extension_version(conn)) {
            // The scratch database compares schemas with the extension's functions: a server that cannot create
            // it (no files, as on managed services; no superuser) cannot host the test, whatever the migrations.
            Result ext = conn.exec("CREATE EXTENSION pgmig");
            if (!ext.ok()) {
                check_interrupted();
                const ServerError e = ext.error();
                throw Error(ErrorKind::scratch_database,
                            fmt::format("cannot create the pgmig extension in the scratch database: {}", e.message),
                            fmt::format("in {}", conn.target()),
                            "pgmig test needs a server where CREATE EXTENSION pgmig works (the extension's files "
                            "installed, and a superuser): run it against a test server such as pgmig local's (pgmig "
                            "test --from-empty -d \"$(pgmig local url)\"); the target was not changed",
                            e.hint);
            }
        }
        require_extension(conn);
        {
            Transaction tx(conn);
            register_files(conn, files);
            if (baseline) exec("SELECT count(*) FROM migrate_baseline($1)", {*baseline}, "baselining to " + *baseline);
            Result res = tx.commit();
            if (!res.ok()) throw_server_error(res.error(), "registering the files", "the target was not changed");
        }
        Result pending = exec(
            "SELECT s.version, s.name, m.down_sql IS NOT NULL AND btrim(m.down_sql, E' \\t\\r\\n') <> '', "
            "       coalesce((m.options->>'transactional')::boolean, true), m.up_sql "
            "  FROM migrate_status() WITH ORDINALITY AS s JOIN pgmig.migrations m ON m.version = s.version "
            " WHERE s.kind = 'versioned' AND s.state IN ('pending', 'out_of_order') ORDER BY s.ordinality",
            {}, "reading the pending migrations");
        // The checks of migrate_test's rows (step 6 of migrate_apply_tested's, "applied", is no check): whether
        // the migration was applied.
        auto read_checks = [](const Result& res, Outcome& o) {
            bool applied = false;
            for (int r = 0; r < res.rows(); ++r) {
                if (res.get(r, 0) == "6" && res.get(r, 1) == "applied") {
                    applied = res.get(r, 2) == "t";
                    continue;
                }
                json check = {{"step", std::stoi(res.get(r, 0))},
                              {"check", res.get(r, 1)},
                              {"passed", res.is_null(r, 2) ? json(nullptr) : json(res.get(r, 2) == "t")},
                              {"detail", res.get(r, 3)},
                              {"differing", res.is_null(r, 4) ? json(nullptr) : json::parse(res.get(r, 4))}};
                if (check["passed"] == false) o.failed = true;
                o.checks.push_back(std::move(check));
            }
            return applied;
        };
        // migrate_apply_tested (0.2.0 on): the test, and the migration applied when every check passed, mostly by
        // keeping the test's last run of up (one run of the scripts less than migrate_test, then migrate_apply).
        // A failed check applies nothing: the migration is then applied as before, after the same checks. An
        // error (a refusal before the test: approvals, lint, order) leaves it to migrate_test and migrate_apply,
        // which report it as they always have. Whether it was done.
        const bool apply_tested = installed_extension_version(conn) != std::optional<std::string>("0.1.0");
        auto test_and_apply = [&conn, &read_checks](Outcome& o) {
            // (one statement, one round trip: its own transaction, committed when it applied)
            Result res = conn.exec_params(
                "SELECT step, check_name, passed, detail, differing::text FROM migrate_apply_tested($1)", {o.version});
            if (!res.ok()) {
                check_interrupted();
                return false;  // nothing of it persists
            }
            if (!read_checks(res, o)) {
                Result applied = conn.exec_params("SELECT count(*) FROM migrate_apply($1)", {o.version});
                if (!applied.ok()) throw applied.error();
            }
            return true;
        };
        std::string stopped;
        for (int i = 0; i < pending.rows(); ++i) {
            check_interrupted();
            Outcome o{pending.get(i, 0), pending.get(i, 1), {}, json::array(), 0, false};
            const bool has_down = pending.get(i, 2) == "t";
            const bool transactional = pending.get(i, 3) == "t";
            if (!stopped.empty()) {
                o.note = "not tested: " + stopped + " could not be applied";
                o.failed = true;
                outcomes.push_back(std::move(o));
                continue;
            }
            const auto start = Clock::now();
            try {
                if (!transactional) {
                    o.note = "non-transactional: not testable in a transaction; applied";
                    apply_nontransactional(conn, o.version, pending.get(i, 4));
                } else if (!(has_down && apply_tested && test_and_apply(o))) {
                    Transaction tx(conn);
                    if (has_down) {
                        Result res = conn.exec_params(
                            "SELECT step, check_name, passed, detail, differing::text FROM migrate_test($1)",
                            {o.version});
                        if (!res.ok()) throw res.error();
                        read_checks(res, o);
                    } else {
                        o.note = "no down script; applied";
                    }
                    Result applied = conn.exec_params("SELECT count(*) FROM migrate_apply($1)", {o.version});
                    if (!applied.ok()) throw applied.error();
                    Result committed = tx.commit();
                    if (!committed.ok()) throw committed.error();
                }
            } catch (const ServerError& e) {
                check_interrupted();
                o.failed = true;
                o.note = fmt::format("could not be applied: {}", one_line(e.message));
                stopped = o.version;
            }
            check_interrupted();
            o.ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
            outcomes.push_back(std::move(o));
        }
    }  // the scratch database is dropped here (unless --keep), after its connection closed

    const bool any_failed = std::any_of(outcomes.begin(), outcomes.end(), [](const Outcome& o) { return o.failed; });
    if (options.json) {
        json out = json::array();
        for (const auto& o : outcomes) {
            out.push_back({{"version", o.version},
                           {"name", o.name},
                           {"checks", o.checks},
                           {"note", o.note.empty() ? json(nullptr) : json(o.note)},
                           {"passed", !o.failed},
                           {"ms", o.ms}});
        }
        print_json_document(json{{"database", name}, {"kept", options.keep}, {"migrations", out}});
    } else {
        if (outcomes.empty()) {
            fmt::print("no pending migration to test\n");
        } else {
            print_table(outcomes);
        }
        for (const auto& o : outcomes) {
            for (const auto& c : o.checks) {
                if (c["passed"] == false) {
                    fmt::print("\n{}_{}: {} failed: {}\n", o.version, o.name, c["check"].get<std::string>(),
                               c["detail"].get<std::string>());
                }
            }
        }
        fmt::print("\n{} tested on scratch database {} ({}); {}\n", outcomes.size(), name,
                   options.from_empty ? "from an empty database" : "a copy of the target's schema",
                   options.keep ? "kept: drop it with DROP DATABASE " + quote_ident(name) : std::string("dropped"));
    }
    std::fflush(stdout);
    if (any_failed) {
        throw Error(ErrorKind::rehearsal_failed, "a rollback test failed", fmt::format("in {}", dir),
                    "fix the down scripts named above (the target was not changed)");
    }
    return kExitOk;
}

}  // namespace pgmig::client
