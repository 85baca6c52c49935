// pgmig deploy --env NAME: the production path. Pre-flight health, validate (files, ledger, lint at the
// environment's threshold, integrity), approvals (four-eyes) when required, an encrypted backup when
// required, apply, post-flight health and drift, and alerts at the start and the end. A failed step stops
// the deploy; the database is left as before (migrate_apply is all or nothing), and when a
// non-transactional migration stopped halfway the restore command of the backup just taken is printed.
#include "client/core/counted.hpp"
#include "client/ops/alerts.hpp"
#include "client/ops/approvals.hpp"
#include "client/ledger/impact.hpp"
#include "client/core/audit_log.hpp"
#include "client/ops/backup.hpp"
#include "client/cli/commands/commands.hpp"
#include "client/core/config.hpp"
#include "client/core/db.hpp"
#include "client/core/errors.hpp"
#include "client/ops/health.hpp"
#include "client/ledger/project.hpp"

#include "common/version.hpp"

#include <fmt/core.h>
#include <fmt/ranges.h>

#include <chrono>
#include <optional>

namespace pgmig::client {

namespace {

constexpr int kSteps = 6;

double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Versions of the registered migrations in `states` (migrate_status()), in order.
std::vector<std::string> versions_in_state(const Connection& conn, const std::string& where,
                                           std::initializer_list<const char*> states) {
    std::vector<std::optional<std::string>> params;
    std::string list;
    for (const char* state : states) {
        params.emplace_back(state);
        list += fmt::format("{}${}", list.empty() ? "" : ", ", params.size());
    }
    Result res = conn.exec_params(
        fmt::format("SELECT coalesce(version, name) FROM migrate_status() WHERE state IN ({})", list), params);
    if (!res.ok()) throw_server_error(res.error(), where, "nothing was deployed");
    std::vector<std::string> out;
    for (int i = 0; i < res.rows(); ++i) out.push_back(res.get(i, 0));
    return out;
}

// The checks a deploy may go ahead with although they do not pass: before the deploy, pending migrations
// are the point, and a missing or old backup is about to be replaced when the environment requires one.
bool blocks(const HealthCheck& check, bool before, const Environment& env) {
    if (check.status != HealthStatus::fail) return false;
    if (check.name == "pending_migrations") return false;
    if (before && check.name == "last_backup" && env.backup) return false;
    return true;
}

std::string failed_checks(const HealthReport& report, bool before, const Environment& env) {
    std::vector<std::string> out;
    for (const HealthCheck& c : report.checks) {
        if (blocks(c, before, env)) out.push_back(fmt::format("{}: {}", c.name, c.detail));
    }
    return fmt::format("{}", fmt::join(out, "; "));
}

// The commands that clear a blocking pre-flight check whose way out is a pgmig command: drift (adopt it as a
// migration, or write the migration that reverts it) and a broken audit chain (reseal it once investigated).
std::string preflight_remedies(const HealthReport& report, const Environment& env) {
    std::string out;
    for (const HealthCheck& c : report.checks) {
        if (c.status != HealthStatus::fail) continue;
        if (c.name == "drift") {
            out += fmt::format(
                "; to clear the drift, record it as a migration with pgmig drift --adopt NAME --env {0} "
                "or write the migration that reverts it with pgmig "
                "drift --fix NAME --env {0} and deploy that",
                env.name);
        } else if (c.name == "audit_chain") {
            out += fmt::format(
                "; once the broken audit chain is investigated, a superuser records the break with pgmig "
                "audit reseal --reason \"...\" --env {}",
                env.name);
        }
    }
    return out;
}

class Deploy {
  public:
    Deploy(const GlobalOptions& global, const DeployOptions& options)
        : options_(options),
          config_(load_project_config()),
          env_(find_environment(config_, options.env)),
          conninfo_(connection_for(global, options.env)),
          dir_(resolve_migrations_dir(options.dir)) {
        target_.dbname = conninfo_;
        event_base_.environment = env_.name;
        event_base_.database = alert_database_from_conninfo(conninfo_);
        require_alert_targets(config_, env_.alerts);
    }

    int run();

  private:
    // A step that stopped the deploy: reported, alerted, recorded, then thrown.
    [[noreturn]] void fail(int step, const char* what, const Error& cause);
    void alert(const char* event, const std::string& error = {});
    void record(const char* step, const std::string& message, std::optional<double> seconds = std::nullopt);
    HealthReport health();
    [[noreturn]] void backup_failed(const Error& cause);
    void step_line(int step, const char* what, const std::string& outcome) const {
        fmt::print("[{}/{}] {}: {}\n", step, kSteps, what, outcome);
        std::fflush(stdout);
    }

    const DeployOptions& options_;
    ProjectConfig config_;
    const Environment& env_;
    std::string conninfo_;
    GlobalOptions target_;  // what validate and apply connect to: the environment's database
    std::string dir_;
    AlertEvent event_base_;
    std::vector<std::string> pending_;
    std::optional<BackupInfo> backup_;
    std::optional<Connection> conn_;
    std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
};

void Deploy::alert(const char* event, const std::string& error) {
    if (env_.alerts.empty()) return;
    AlertEvent e = event_base_;
    e.event = event;
    e.versions = pending_;
    e.error = error;
    if (std::string_view(event) != "deploy_started") e.duration_s = seconds_since(started_);
    if (backup_) e.extra["backup"] = backup_->path.filename().string();
    // Never fails the deploy: undelivered alerts are warned about on stderr by send_alerts.
    send_alerts(config_, env_, e);
}

void Deploy::record(const char* step, const std::string& message, std::optional<double> seconds) {
    if (!conn_) return;
    Result res =
        conn_->exec_params("SELECT migrate_record_deploy($1, $2, $3, make_interval(secs => $4::double precision))",
                           {env_.name, step, message,
                            seconds ? std::optional<std::string>(fmt::format("{:.3f}", *seconds)) : std::nullopt});
    if (!res.ok()) {
        fmt::print(stderr, "pgmig: warning: the deploy's {} step was not recorded in pgmig.history: {}\n", step,
                   one_line(res.error().message));
    }
}

void Deploy::fail(int step, const char* what, const Error& cause) {
    const std::string error = fmt::format("step {}/{} ({}) failed: {}", step, kSteps, what, cause.what_failed());
    record("failed", error, seconds_since(started_));
    alert("deploy_failed", error);
    std::string next = cause.next_step();
    if (step == 5 && conn_) {
        // Transactional migrations were rolled back; a non-transactional one may have stopped halfway.
        std::vector<std::string> halfway;
        try {
            halfway = versions_in_state(*conn_, "after the failed apply", {"in_progress"});
        } catch (const Error&) {
            // The connection may be gone: say what is known.
        }
        if (!halfway.empty()) {
            next += fmt::format("; non-transactional migration {} stopped halfway: run pgmig apply again to resume it",
                                fmt::join(halfway, ", "));
            if (backup_) {
                next += fmt::format(
                    ", or restore the backup taken before it (runbook: pgmig restore {} --to "
                    "{}_restored, check it, then switch to it; see docs/operations.md)",
                    backup_->path.string(), event_base_.database.dbname);
            }
        } else {
            next += "; the failed transaction was rolled back, so the schema is as it was before the deploy";
        }
    }
    throw Error(
        cause.kind(),
        fmt::format("deploy to {} stopped at step {}/{} ({}): {}", env_.name, step, kSteps, what, cause.what_failed()),
        cause.where(), next, cause.hint());
}

void Deploy::backup_failed(const Error& cause) {
    AlertEvent b = event_base_;
    b.event = "backup_failed";
    b.versions = pending_;
    b.error = cause.what_failed();
    if (!env_.alerts.empty()) send_alerts(config_, env_, b);
    fail(4, "backup", cause);
}

HealthReport Deploy::health() {
    HealthOptions h;
    apply_environment(h, config_, &env_);
    h.dir = dir_;
    return run_health_checks(conninfo_, h);
}

int Deploy::run() {
    fmt::print("deploy to {} from {}\n", env_.name, dir_);
    const std::vector<MigrationFile> files = load_files(dir_, "nothing was deployed");

    // 1. Pre-flight health: the database is reachable, the extension matches, the ledger and audit chain are
    //    intact, no drift, no blocking locks or long transactions.
    {
        const HealthReport report = health();
        // Without the extension (or with another release of it) the checks that need it fail unrun: say what
        // every command says then (exit 8, what to install), not the remedies of the checks it kept from running.
        if (const HealthCheck* ext = report.find("extension");
            report.reachable && ext != nullptr && ext->status == HealthStatus::fail) {
            try {
                require_extension(Connection::open(conninfo_));
            } catch (const Error& e) {
                fail(1, "pre-flight health", e);
            }
        }
        const std::string failed = failed_checks(report, true, env_);
        if (!failed.empty()) {
            fail(1, "pre-flight health",
                 Error(ErrorKind::health_failed, "the database is not healthy: " + failed, "in " + report.target,
                       "fix what the checks say (pgmig health --env " + env_.name + " shows all of them)" +
                           preflight_remedies(report, env_) + "; nothing was changed"));
        }
        step_line(1, "pre-flight health", fmt::format("ok ({} checks, {})", report.checks.size(), report.target));
        // Sealing skipped because a session holds the seal lock, or the hooks recording without the preload
        // (each session's first DDL refused): worth saying, never a reason to stop.
        for (const HealthCheck& c : report.checks) {
            if ((c.name == "audit_chain" || c.name == "audit_recorder") && c.status == HealthStatus::warn)
                fmt::print("      warning: {}: {}\n", c.name, c.detail);
        }
    }
    conn_.emplace(Connection::open(conninfo_));
    require_extension(*conn_);
    const std::string where = "deploying to " + env_.name + " in " + conn_->target();

    // 2. Validate: files, ledger, lint at the environment's threshold, integrity (reported, not blocking).
    //    First, what pgmig apply would refuse: a pending migration registered in the ledger that no file holds.
    {
        std::vector<LedgerOnly> ledger_only;
        for (LedgerOnly& m : ledger_only_migrations(*conn_, files)) {
            if (!options_.to.empty() && (!m.version || common::compare_versions(*m.version, options_.to) > 0)) continue;
            ledger_only.push_back(std::move(m));
        }
        try {
            refuse_ledger_only(ledger_only, options_.allow_ledger_only, where, "nothing was deployed");
        } catch (const Error& e) {
            fail(2, "validate", e);
        }
        ValidateOptions v;
        v.dir = dir_;
        v.lint_threshold = env_.lint;
        v.allow_ledger_only = options_.allow_ledger_only;
        const int rc = run_validate(target_, v);
        if (rc == exit_code(ErrorKind::validation) || rc == exit_code(ErrorKind::lint_failed)) {
            const bool lint = rc == exit_code(ErrorKind::lint_failed);
            fail(2, "validate",
                 Error(lint ? ErrorKind::lint_failed : ErrorKind::validation,
                       lint ? fmt::format("lint found findings at or above {}'s threshold ({})", env_.name, env_.lint)
                            : std::string("the files and the ledger disagree"),
                       "in " + dir_, "fix what pgmig validate printed above; nothing was changed"));
        }
        step_line(2, "validate", rc == 0 ? "ok" : "ok (integrity problems reported above do not block a deploy)");
    }

    // Register the files (what apply does first anyway) so that the pending versions are known.
    {
        Transaction tx(*conn_);
        register_files(*conn_, files);
        Result res = tx.commit();
        if (!res.ok()) throw_server_error(res.error(), where, "nothing was deployed");
    }
    pending_ = versions_in_state(*conn_, where, {"pending"});
    for (const auto& v : pending_) audit_note_version(v);
    if (pending_.empty()) {
        fmt::print("nothing to deploy: every migration of {} is applied in {}\n", dir_, env_.name);
        return kExitOk;
    }
    fmt::print("pending: {}\n", fmt::join(pending_, ", "));
    alert("deploy_started");

    // 3. Approvals: four-eyes when the environment requires them. A first look, to refuse early and alert the
    //    approvers; migrate_apply() checks again in step 5, after its ledger lock, what it actually applies.
    if (env_.approval) {
        const ApprovalCheck check = check_approvals(*conn_, env_.name, {}, &files);
        if (!check.ok()) {
            std::vector<std::string> missing;
            for (const auto& item : check.missing()) missing.push_back(item.spec());
            AlertEvent e = event_base_;
            e.event = "approval_requested";
            e.versions = missing;
            e.error = check.describe();
            // ==== impact ====
            // The approvers see which tracked bugs the change relates to (pgmig impact, from validate's dry run).
            const std::vector<std::string> bugs = related_bug_lines(last_pending_impact());
            if (!bugs.empty()) {
                e.extra["related_bugs"] = bugs;
                e.error += fmt::format("; related bugs: {}", fmt::join(bugs, ", "));
                fmt::print("related bugs: {}\n", fmt::join(bugs, ", "));
            }
            if (!env_.alerts.empty()) send_alerts(config_, env_, e);
            fail(3, "approvals",
                 Error(ErrorKind::approval_missing,
                       fmt::format("{} of {} migrations to deploy are not approved for {}", missing.size(),
                                   check.items.size(), env_.name),
                       where, check.describe() + "; nothing was changed"));
        }
        step_line(3, "approvals",
                  fmt::format("ok ({} approved by roles other than their registrants)", check.items.size()));
    } else {
        step_line(3, "approvals", "not required for " + env_.name);
    }

    // 4. Backup, when the environment requires one: nothing is applied without it.
    if (env_.backup) {
        // The key is read once, for the backup and for reading it back (a --key-file may be a pipe).
        std::optional<backup_crypto::KeyMaterial> key;
        try {
            key.emplace(resolve_key(KeyOptions{options_.key_file}, env_.backup_settings));
            backup_ = take_backup(conninfo_, env_.name, env_.backup_settings, *key);
        } catch (const Error& e) {
            backup_failed(e);
        } catch (const std::exception& e) {
            // Anything else (a file system error, say) is a failed backup too: alerted, recorded, reported.
            backup_failed(Error(ErrorKind::backup_failed, fmt::format("the backup failed: {}", e.what()),
                                "backing up " + env_.name,
                                "fix the cause (the backup folder, the key); nothing was applied"));
        }
        // Read back before anything is applied (as pgmig backup verify: size and SHA-256 of the manifest, the
        // key decrypts it, pg_restore --list accepts it): a backup that cannot be restored is no backup.
        VerifyResult verified;
        try {
            verified = verify_backup(backup_->path, *key);
        } catch (const Error& e) {
            verified.error = e;
        }
        if (verified.error) {
            backup_failed(Error(ErrorKind::backup_failed,
                                fmt::format("the backup just taken, {}, does not verify: {}", backup_->path.string(),
                                            verified.error->what_failed()),
                                "backing up " + env_.name,
                                "nothing was applied; run pgmig backup verify on it to see why, fix the cause (the "
                                "disk, the PostgreSQL client programs) and deploy again"));
        }
        const std::string message =
            fmt::format("backup {} taken at {} ({} bytes), verified", backup_->path.filename().string(),
                        backup_->manifest.value("created_at", std::string("?")), backup_->manifest.value("size", 0ULL));
        record("backup", message, backup_->seconds + verified.seconds);
        step_line(4, "backup",
                  fmt::format("{} in {:.1f} s, verified ({} archive entries) in {:.1f} s", backup_->path.string(),
                              backup_->seconds, verified.toc_entries, verified.seconds));
    } else {
        step_line(4, "backup", "not required for " + env_.name);
    }

    // 5. Apply: transactional migrations all or nothing, non-transactional ones resumably by the client.
    step_line(5, "apply", counted(pending_.size(), "migration"));
    try {
        ApplyOptions a;
        a.dir = dir_;
        a.to = options_.to;
        a.env = env_.name;  // approval = true: migrate_apply() itself refuses what lacks approvals
        a.allow_ledger_only = options_.allow_ledger_only;
        const int rc = run_apply(target_, a);
        if (rc != kExitOk) {
            fail(5, "apply",
                 Error(ErrorKind::migration_failed, fmt::format("pgmig apply ended with exit code {}", rc), where,
                       "see its output above"));
        }
    } catch (const Error& e) {
        fail(5, "apply", e);
    } catch (const std::exception& e) {
        fail(5, "apply", Error(ErrorKind::internal, e.what(), where, "please report this as a bug"));
    }
    const std::vector<std::string> still_pending = versions_in_state(*conn_, where, {"pending", "in_progress"});

    // 6. Post-flight: healthy, and the schema is what the ledger expects (no drift).
    {
        const HealthReport report = health();
        std::string failed = failed_checks(report, false, env_);
        if (options_.to.empty() && !still_pending.empty()) {
            failed += fmt::format("{}still pending after apply: {}", failed.empty() ? "" : "; ",
                                  fmt::join(still_pending, ", "));
        }
        if (!failed.empty()) {
            fail(6, "post-flight health",
                 Error(ErrorKind::postflight_failed, "after the migrations were applied: " + failed,
                       "in " + report.target,
                       "the migrations stay applied; look at pgmig health and pgmig drift --env " + env_.name +
                           ", then fix forward or roll back (pgmig rollback)"));
        }
        step_line(6, "post-flight health", "ok, no drift");
    }

    const double total = seconds_since(started_);
    record("succeeded", fmt::format("deployed {} to {}", fmt::join(pending_, ", "), env_.name), total);
    alert("deploy_succeeded");
    fmt::print("deployed {} to {} in {:.1f} s\n", counted(pending_.size(), "migration"), env_.name, total);
    return kExitOk;
}

}  // namespace

int run_deploy(const GlobalOptions& global, const DeployOptions& options) {
    Deploy deploy(global, options);
    return deploy.run();
}

}  // namespace pgmig::client
