// pgmig deploy --fleet NAME [--resume RUN] and pgmig fleet status RUN: a rollout across many databases in
// waves (client/ops/fleet/), with its state in .pgmig/fleet/RUN.json and each target's own ledger recording which
// run applied what (pgmig.history.deploy_run).
#include "client/ops/alerts.hpp"
#include "client/ops/backup.hpp"
#include "client/core/audit_log.hpp"
#include "client/cli/commands/commands.hpp"
#include "client/core/config.hpp"
#include "client/core/errors.hpp"
#include "client/ops/fleet/executor.hpp"
#include "client/ops/fleet/fleet_config_reader.hpp"
#include "client/ops/fleet/plan.hpp"
#include "client/ops/fleet/replication.hpp"
#include "client/ops/fleet/run_state.hpp"
#include "client/ops/fleet/targets.hpp"
#include "client/cli/json_output.hpp"
#include "client/ledger/project.hpp"
#include "common/checksum.hpp"

#include <fmt/core.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <iterator>
#include <optional>
#include <set>

namespace pgmig::client {

namespace {

using namespace fleet;  // NOLINT(google-build-using-namespace): this file is the fleet's command

nlohmann::json target_event(const RunState& state, const TargetRecord& t) {
    return {{"event", "target"},     {"run", state.run_id},   {"wave", t.wave},
            {"target", t.name},      {"state", state_name(t.state)}, {"applied", t.applied},
            {"error", t.error.empty() ? nlohmann::json(nullptr) : nlohmann::json(t.error)},
            {"error_kind", t.error_kind.empty() ? nlohmann::json(nullptr) : nlohmann::json(t.error_kind)},
            {"seconds", t.seconds},
            {"backup", t.backup.empty() ? nlohmann::json(nullptr) : nlohmann::json(t.backup)}};
}

nlohmann::json counts_json(const std::map<TargetState, int>& counts) {
    nlohmann::json out = nlohmann::json::object();
    for (const auto& [s, n] : counts) out[state_name(s)] = n;
    return out;
}

std::string counts_text(const std::map<TargetState, int>& c) {
    return fmt::format("{} done, {} failed, {} unreachable, {} running, {} skipped, {} queued", c.at(TargetState::done),
                       c.at(TargetState::failed), c.at(TargetState::unreachable), c.at(TargetState::running),
                       c.at(TargetState::skipped), c.at(TargetState::pending));
}

class FleetRun {
  public:
    explicit FleetRun(const FleetDeployOptions& options)
        : options_(options), config_(load_project_config()), fleet_(find_fleet(config_, options.fleet)) {
        if (!fleet_.environment.empty()) env_ = &find_environment(config_, fleet_.environment);
        tty_ = !json_output_active() && ::isatty(STDOUT_FILENO) != 0;
    }

    int run();

  private:
    void start_new(const std::vector<MigrationFile>& files, const std::string& dir);
    void resume(const std::vector<MigrationFile>& files, const std::string& dir);
    void plan_replication(const std::vector<MigrationFile>& files);
    // Runs wave i; returns false when it halted.
    bool run_wave(std::size_t i, const std::vector<MigrationFile>& files);
    void wave_summary(const PlannedWave& wave, bool halted);
    void backup_targets(std::vector<WaveTarget>& targets, const WaveCallbacks& callbacks);
    void progress(const PlannedWave& wave, std::size_t i);
    void end_progress_line() {
        if (!progress_shown_) return;
        std::fputs("\r\033[K", stdout);
        progress_shown_ = false;
    }

    const FleetDeployOptions& options_;
    ProjectConfig config_;
    const Fleet& fleet_;
    const Environment* env_ = nullptr;
    RunState state_;
    // The backup key, read when the first target is backed up and kept for every other one (a --key-file
    // may be a pipe that can be read only once).
    std::optional<backup_crypto::KeyMaterial> backup_key_;
    bool tty_ = false;
    bool progress_shown_ = false;
};

void FleetRun::start_new(const std::vector<MigrationFile>& files, const std::string& dir) {
    const std::vector<FleetTarget> targets = resolve_targets(fleet_);
    if (targets.empty()) {
        throw Error(ErrorKind::input, fmt::format("fleet '{}' has no targets", fleet_.name),
                    "its servers have no database matching their pattern, and its directory query returned no row",
                    "check [fleets." + fleet_.name + "] in pgmig.toml; nothing was deployed");
    }
    state_.run_id = new_run_id();
    state_.fleet = fleet_.name;
    state_.dir = dir;
    state_.files_digest = files_digest(files);
    state_.started_at = utc_now();
    state_.waves = plan_waves(fleet_, targets);
    for (const FleetTarget& t : targets) {
        TargetRecord r;
        r.name = t.name;
        r.conninfo = t.conninfo;
        r.labels = t.labels;
        state_.targets.emplace(t.name, std::move(r));
    }
    for (const PlannedWave& w : state_.waves) {
        for (const std::string& name : w.targets) state_.targets.at(name).wave = w.name;
    }
    plan_replication(files);
}

// Each replication group's members are targets of one wave; the order comes from what the pending
// migrations do on the publisher (replication.hpp). Decided once, kept in the state file for a resume.
void FleetRun::plan_replication(const std::vector<MigrationFile>& files) {
    for (const ReplicationGroup& group : fleet_.replication) {
        std::vector<std::string> members = group.subscribers;
        members.insert(members.begin(), group.publisher);
        const std::string where = fmt::format("in [[fleets.{}.replication]] of ./pgmig.toml", fleet_.name);
        for (const std::string& m : members) {
            if (!state_.targets.contains(m)) {
                throw Error(ErrorKind::replication_unordered,
                            fmt::format("publication {} names target '{}', which fleet '{}' does not have",
                                        group.publication, m, fleet_.name),
                            where, "name targets as pgmig fleet status or the run's output lists them (host:port/dbname or their name)");
            }
            if (state_.targets.at(m).wave != state_.targets.at(group.publisher).wave) {
                throw Error(ErrorKind::replication_unordered,
                            fmt::format("publication {} has its publisher {} in wave {} and its subscriber {} in wave {}",
                                        group.publication, group.publisher, state_.targets.at(group.publisher).wave, m,
                                        state_.targets.at(m).wave),
                            where,
                            "put a publication's databases in one wave (give them a label and select it in one wave): "
                            "pgmig orders them within it; nothing was deployed");
            }
        }
        const Connection publisher = Connection::open(state_.targets.at(group.publisher).conninfo);
        const GroupOrder order = order_group(publisher, group, files);
        state_.replication.push_back({group, order_name(order.order), order.why});
    }
}

void FleetRun::resume(const std::vector<MigrationFile>& files, const std::string& dir) {
    state_ = load_state(options_.resume);
    if (state_.fleet != fleet_.name) {
        throw Error(ErrorKind::usage, fmt::format("run {} is a run of fleet '{}', not '{}'", state_.run_id, state_.fleet, fleet_.name),
                    "on the command line", fmt::format("resume it with --fleet {}", state_.fleet));
    }
    if (state_.status == "done") {
        throw Error(ErrorKind::usage, fmt::format("run {} is done: every target of it was deployed", state_.run_id),
                    "on the command line", "start a new run (without --resume) to deploy newer migrations");
    }
    if (files_digest(files) != state_.files_digest) {
        throw Error(ErrorKind::input,
                    fmt::format("the migration files in {} are not those run {} started with", dir, state_.run_id),
                    "in " + dir,
                    "put back the files of that run to finish it, or start a new run: each target applies only what is "
                    "pending in its own ledger");
    }
    for (auto& [name, t] : state_.targets) {
        if (t.state != TargetState::done) t.state = TargetState::pending;
    }
    state_.status = "running";
}

void FleetRun::progress(const PlannedWave& wave, std::size_t i) {
    if (!tty_) return;
    fmt::print("\r\033[Kwave {}/{} {}: {}", i + 1, state_.waves.size(), wave.name, counts_text(state_.counts(&wave)));
    std::fflush(stdout);
    progress_shown_ = true;
}

bool FleetRun::run_wave(std::size_t i, const std::vector<MigrationFile>& files) {
    const PlannedWave& wave = state_.waves[i];
    std::vector<WaveTarget> targets;
    for (const std::string& name : wave.targets) {
        const TargetRecord& t = state_.targets.at(name);
        if (t.state != TargetState::done) targets.push_back({t.name, t.conninfo, {}});
    }
    for (const GroupPlan& g : state_.replication) {
        const bool subscribers_first = g.order == order_name(ReplicationOrder::subscribers_first);
        for (WaveTarget& t : targets) {
            const bool subscriber = std::find(g.group.subscribers.begin(), g.group.subscribers.end(), t.name) !=
                                    g.group.subscribers.end();
            if (subscribers_first && t.name == g.group.publisher) t.after = g.group.subscribers;
            if (!subscribers_first && subscriber) t.after = {g.group.publisher};
        }
        if (state_.targets.at(g.group.publisher).wave == wave.name) {
            fmt::print("publication {}: {} ({})\n", g.group.publication, g.order, g.why);
        }
    }
    const int allowed = wave.max_failures.allowed(static_cast<int>(wave.targets.size()));
    fmt::print("wave {}/{} {}: {} targets{}, {} at a time, halts after {} failures\n", i + 1, state_.waves.size(),
               wave.name, wave.targets.size(),
               targets.size() < wave.targets.size() ? fmt::format(" ({} done before)", wave.targets.size() - targets.size())
                                                     : std::string(),
               wave.parallel, allowed + 1);
    std::fflush(stdout);
    ExecutorSettings settings;
    settings.run_id = state_.run_id;
    settings.fleet = fleet_.name;
    settings.connect_timeout_ms = fleet_.connect_timeout_ms;
    settings.drift_check = fleet_.drift_check;
    settings.per_server = fleet_.per_server;
    if (env_ != nullptr) {
        // A wave after one with then = "approval" requires approvals even where the environment does not.
        const bool gated = std::any_of(state_.waves.begin(), state_.waves.begin() + static_cast<std::ptrdiff_t>(i),
                                       [](const PlannedWave& w) { return w.then == "approval"; });
        settings.require_approvals = env_->approval || gated ? 1 : 0;
        settings.environment = env_->name;
        settings.lint = env_->lint;
    }
    const auto failures = [&] {
        const auto c = state_.counts(&wave);
        return c.at(TargetState::failed) + c.at(TargetState::unreachable);
    };
    WaveCallbacks callbacks;
    callbacks.started = [&](const std::string& name) {
        TargetRecord& t = state_.targets.at(name);
        t.state = TargetState::running;
        ++t.attempts;
        t.error.clear();
        t.error_kind.clear();
        save_state(state_);
    };
    callbacks.finished = [&](const std::string& name, const Outcome& outcome) {
        TargetRecord& t = state_.targets.at(name);
        t.state = outcome.state;
        t.error = outcome.error;
        t.error_kind = outcome.state == TargetState::done ? "" : std::string(kind_name(outcome.kind));
        for (const std::string& v : outcome.applied) t.applied.push_back(v);
        t.seconds = outcome.seconds;
        t.finished_at = utc_now();
        save_state(state_);
        end_progress_line();
        if (outcome.state == TargetState::done) {
            fmt::print("  done         {}: {} ({:.1f} s)\n", name,
                       outcome.applied.empty() ? std::string("nothing pending")
                                               : fmt::format("applied {}", fmt::join(outcome.applied, ", ")),
                       outcome.seconds);
        } else {
            fmt::print("  {:<12} {}: {}\n", state_name(outcome.state), name, outcome.error);
        }
        std::fflush(stdout);
        if (json_output_active()) print_json_event(target_event(state_, t));
    };
    callbacks.stop_starting = [&] { return failures() > allowed; };
    callbacks.tick = [&] { progress(wave, i); };
    if (env_ != nullptr && env_->backup) backup_targets(targets, callbacks);
    const std::vector<std::string> never_started = fleet::run_wave(targets, wave.parallel, settings, files, callbacks);
    for (const std::string& name : never_started) {
        TargetRecord& t = state_.targets.at(name);
        t.state = TargetState::skipped;
        t.error = fmt::format("not started: wave {} halted after {} failures", wave.name, failures());
        if (json_output_active()) print_json_event(target_event(state_, t));
    }
    end_progress_line();
    const bool halted = failures() > allowed;
    wave_summary(wave, halted);
    return !halted;
}

// The environment requires a backup before migrating: each target of the wave is backed up first, one at a
// time (pg_dump, encrypted, verified as pgmig backup does), into <backup dir>/<environment>/<fleet>/<target>.
// A target whose backup fails is failed (backup_failed) and not migrated; one backed up by an earlier
// attempt of this run keeps that backup (its failed transaction changed nothing since). Stops when the
// wave's failures pass max_failures: the targets left are not migrated either.
void FleetRun::backup_targets(std::vector<WaveTarget>& targets, const WaveCallbacks& callbacks) {
    const std::string out_dir =
        (std::filesystem::path(env_->backup_settings.dir) / env_->name / fleet_.name).string();
    std::vector<WaveTarget> backed_up;  // and those not reached: run_wave() reports them never started
    for (WaveTarget& target : targets) {
        if (callbacks.stop_starting()) {
            backed_up.push_back(std::move(target));
            continue;
        }
        TargetRecord& record = state_.targets.at(target.name);
        std::error_code ec;
        if (!record.backup.empty() && std::filesystem::exists(record.backup, ec)) {
            backed_up.push_back(std::move(target));
            continue;
        }
        std::string folder;
        for (const char c : target.name) {
            const bool plain = std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '_' || c == '.';
            folder += plain ? c : '_';
        }
        try {
            if (!backup_key_) backup_key_.emplace(resolve_key(KeyOptions{options_.key_file}, env_->backup_settings));
            const BackupInfo backup = take_backup(target.conninfo, folder, env_->backup_settings, *backup_key_, out_dir);
            record.backup = backup.path.string();
            save_state(state_);
            end_progress_line();
            fmt::print("  backed up    {}: {} ({:.1f} s)\n", target.name, record.backup, backup.seconds);
            backed_up.push_back(std::move(target));
        } catch (const Error& e) {
            callbacks.started(target.name);
            Outcome failed;
            failed.state = TargetState::failed;
            failed.kind = ErrorKind::backup_failed;
            failed.error = "backup failed, nothing was migrated: " + e.line();
            callbacks.finished(target.name, failed);
        }
    }
    targets = std::move(backed_up);
}

void FleetRun::wave_summary(const PlannedWave& wave, bool halted) {
    const auto c = state_.counts(&wave);
    fmt::print("wave {}: {}{}\n", wave.name, counts_text(c), halted ? " - HALTED (max_failures passed)" : "");
    std::fflush(stdout);
    std::vector<std::string> failed, versions;
    std::set<std::string> seen;
    for (const std::string& name : wave.targets) {
        const TargetRecord& t = state_.targets.at(name);
        if (t.state == TargetState::failed || t.state == TargetState::unreachable) failed.push_back(name);
        for (const std::string& v : t.applied) {
            if (seen.insert(v).second) versions.push_back(v);
        }
    }
    if (json_output_active()) {
        print_json_event({{"event", "wave"},
                          {"run", state_.run_id},
                          {"wave", wave.name},
                          {"state", halted ? "halted" : (failed.empty() ? "done" : "done_with_failures")},
                          {"counts", counts_json(c)},
                          {"failed_targets", failed}});
    }
    if (env_ == nullptr || env_->alerts.empty()) return;
    AlertEvent e;
    e.event = failed.empty() ? "deploy_succeeded" : "deploy_failed";
    e.environment = env_->name;
    e.database.dbname = fmt::format("fleet {} wave {}", fleet_.name, wave.name);
    e.versions = versions;
    if (!failed.empty()) {
        e.error = fmt::format("{} of {} targets failed{}: {}", failed.size(), wave.targets.size(),
                              halted ? " and the run halted" : "", fmt::join(failed, ", "));
    }
    e.extra = {{"fleet", fleet_.name}, {"run", state_.run_id}, {"wave", wave.name}, {"counts", counts_json(c)},
               {"halted", halted}};
    send_alerts(config_, *env_, e);
}

int FleetRun::run() {
    const std::string dir = resolve_migrations_dir(options_.dir);
    const std::vector<MigrationFile> files = load_files(dir, "nothing was deployed");
    std::optional<RunLock> lock;
    if (options_.resume.empty()) {
        start_new(files, dir);
        lock.emplace(state_.run_id);
    } else {
        lock.emplace(options_.resume);
        resume(files, dir);
    }
    save_state(state_);
    json_result()["run"] = state_.run_id;
    json_result()["state_file"] = state_path(state_.run_id).string();
    fmt::print("fleet {} run {}: {} targets in {} waves, migrations from {}{}\n", fleet_.name, state_.run_id,
               state_.targets.size(), state_.waves.size(), dir, options_.resume.empty() ? "" : " (resumed)");
    std::fflush(stdout);
    if (json_output_active()) {
        nlohmann::json waves = nlohmann::json::array();
        for (const PlannedWave& w : state_.waves) waves.push_back({{"name", w.name}, {"targets", w.targets.size()}});
        print_json_event({{"event", "run"}, {"run", state_.run_id}, {"fleet", fleet_.name},
                          {"resumed", !options_.resume.empty()}, {"waves", waves}});
    }
    const std::string resume_with = fmt::format("pgmig deploy --fleet {} --resume {}", fleet_.name, state_.run_id);
    for (std::size_t i = 0; i < state_.waves.size(); ++i) {
        const PlannedWave& wave = state_.waves[i];
        const auto before = state_.counts(&wave);
        const bool all_done = before.at(TargetState::done) == static_cast<int>(wave.targets.size());
        if (!all_done && !run_wave(i, files)) {
            state_.status = "halted";
            save_state(state_);
            json_result()["counts"] = counts_json(state_.counts());
            throw Error(ErrorKind::fleet_incomplete,
                        fmt::format("fleet run {} halted in wave {}: more than {} of its targets failed", state_.run_id,
                                    wave.name, wave.max_failures.allowed(static_cast<int>(wave.targets.size()))),
                        "in .pgmig/fleet/" + state_.run_id + ".json",
                        fmt::format("later waves did not start; fix what failed (pgmig fleet status {}), then {}",
                                    state_.run_id, resume_with));
        }
        if (wave.then != "continue" && i + 1 < state_.waves.size() && state_.passed_pause < static_cast<int>(i)) {
            if (!all_done) {
                state_.status = "paused";
                save_state(state_);
                json_result()["counts"] = counts_json(state_.counts());
                const std::string next =
                    wave.then == "approval"
                        ? fmt::format("check the targets of wave {}; from the next wave on every target requires the "
                                      "approval of the migrations for {}: a reviewer runs pgmig fleet approve {} "
                                      "VERSION..., then {}",
                                      wave.name, env_ != nullptr ? env_->name : std::string("the environment"),
                                      fleet_.name, resume_with)
                        : fmt::format("check the targets of wave {}, then {}", wave.name, resume_with);
                throw Error(ErrorKind::fleet_paused,
                            fmt::format("fleet run {} paused after wave {} (then = \"{}\")", state_.run_id, wave.name,
                                        wave.then),
                            "in .pgmig/fleet/" + state_.run_id + ".json", next);
            }
            state_.passed_pause = static_cast<int>(i);  // resumed after the pause: go on
        }
    }
    const auto c = state_.counts();
    json_result()["counts"] = counts_json(c);
    const int not_done = static_cast<int>(state_.targets.size()) - c.at(TargetState::done);
    state_.status = not_done == 0 ? "done" : "failed";
    save_state(state_);
    if (not_done > 0) {
        throw Error(ErrorKind::fleet_incomplete,
                    fmt::format("fleet run {} ended with {} of {} targets not deployed", state_.run_id, not_done,
                                state_.targets.size()),
                    "in .pgmig/fleet/" + state_.run_id + ".json",
                    fmt::format("every wave ran within its max_failures; fix what failed (pgmig fleet status {}), then {}",
                                state_.run_id, resume_with));
    }
    fmt::print("fleet run {} done: {} targets deployed\n", state_.run_id, state_.targets.size());
    return kExitOk;
}

// Every target of the fleet, in name order (fleet drift, fleet approve).
std::vector<WaveTarget> all_targets(const Fleet& fleet, std::vector<std::string>* unreadable = nullptr) {
    std::vector<FleetTarget> found = resolve_targets(fleet, unreadable);
    std::sort(found.begin(), found.end(), [](const FleetTarget& a, const FleetTarget& b) { return a.name < b.name; });
    std::vector<WaveTarget> targets;
    targets.reserve(found.size());
    std::transform(found.begin(), found.end(), std::back_inserter(targets),
                   [](const FleetTarget& t) { return WaveTarget{t.name, t.conninfo, {}}; });
    return targets;
}

// Runs settings.task on every target, `parallel` at a time, without waves or a halt: a report or an approval
// goes on past a target that fails.
std::map<std::string, Outcome> run_on_all(const std::vector<WaveTarget>& targets, int parallel,
                                          const ExecutorSettings& settings) {
    std::map<std::string, Outcome> outcomes;
    WaveCallbacks callbacks;
    callbacks.started = [](const std::string&) {};
    callbacks.finished = [&](const std::string& name, const Outcome& outcome) { outcomes[name] = outcome; };
    callbacks.stop_starting = [] { return false; };
    callbacks.tick = [] {};
    fleet::run_wave(targets, parallel, settings, {}, callbacks);
    return outcomes;
}

}  // namespace

int run_fleet_deploy(const FleetDeployOptions& options) {
    FleetRun run(options);
    return run.run();
}

int run_fleet_approve(const FleetApproveOptions& options) {
    const ProjectConfig config = load_project_config();
    const Fleet& fleet = find_fleet(config, options.fleet);
    if (fleet.environment.empty()) {
        throw Error(ErrorKind::input, fmt::format("fleet '{}' names no environment", fleet.name), "in ./pgmig.toml",
                    fmt::format("approvals count for an environment: add environment = \"...\" to [fleets.{}] (its "
                                "approval = true makes every target require them); nothing was approved",
                                fleet.name));
    }
    const std::string dir = resolve_migrations_dir(options.dir);
    const std::vector<MigrationFile> files = load_files(dir, "nothing was approved");
    std::vector<std::optional<std::string>> versions, checksums, names;
    std::vector<std::string> labels;
    for (const std::string& spec : options.versions) {
        const MigrationFile* file = nullptr;
        for (const MigrationFile& f : files) {
            if ((f.repeatable() && "R__" + f.name == spec) || (!f.repeatable() && f.version == spec)) file = &f;
        }
        if (file == nullptr) {
            throw Error(ErrorKind::input, fmt::format("no migration file is {}", spec), "in " + dir,
                        "check the version (pgmig status --dir) or R__NAME of a repeatable one; nothing was approved");
        }
        versions.push_back(file->repeatable() ? std::nullopt : std::optional<std::string>(file->version));
        checksums.emplace_back(common::script_checksum(file->up_sql));
        names.emplace_back(file->name);
        labels.push_back(file->label());
    }
    const std::vector<WaveTarget> targets = all_targets(fleet);
    ExecutorSettings settings;
    settings.task = ExecutorSettings::Task::approve;
    settings.per_server = fleet.per_server;
    settings.environment = fleet.environment;
    settings.connect_timeout_ms = fleet.connect_timeout_ms;
    settings.approve_versions = text_array_literal(versions);
    settings.approve_checksums = text_array_literal(checksums);
    settings.approve_names = text_array_literal(names);
    const std::map<std::string, Outcome> outcomes = run_on_all(targets, fleet.parallel, settings);
    int approved = 0;
    nlohmann::json rows = nlohmann::json::array();
    for (const WaveTarget& t : targets) {
        const Outcome& o = outcomes.at(t.name);
        if (o.state == TargetState::done) ++approved;
        rows.push_back({{"target", t.name}, {"state", o.state == TargetState::done ? "approved" : state_name(o.state)},
                        {"error", o.error.empty() ? nlohmann::json(nullptr) : nlohmann::json(o.error)}});
        if (o.state != TargetState::done) fmt::print("{:<12} {}: {}\n", state_name(o.state), t.name, o.error);
    }
    for (const std::string& label : labels) audit_note_version(label);
    const int missing = static_cast<int>(targets.size()) - approved;
    if (json_output_active()) {
        print_json_document({{"fleet", fleet.name}, {"environment", fleet.environment}, {"migrations", labels},
                             {"approved", approved}, {"not_approved", missing}, {"results", rows}});
    } else {
        fmt::print("approved {} for {} in {} of {} targets of fleet {}\n", fmt::join(labels, ", "), fleet.environment,
                   approved, targets.size(), fleet.name);
    }
    if (missing > 0) {
        throw Error(ErrorKind::fleet_incomplete,
                    fmt::format("{} of {} targets of fleet {} did not record the approval", missing, targets.size(),
                                fleet.name),
                    "in the targets listed above",
                    "fix what they say and run the same pgmig fleet approve again (approving twice is harmless)");
    }
    return kExitOk;
}

int run_fleet_drift(const FleetDriftOptions& options) {
    const ProjectConfig config = load_project_config();
    const Fleet& fleet = find_fleet(config, options.fleet);
    std::vector<std::string> unreadable;
    const std::vector<WaveTarget> targets = all_targets(fleet, &unreadable);
    ExecutorSettings settings;
    settings.task = ExecutorSettings::Task::drift;
    settings.fleet = fleet.name;
    settings.per_server = fleet.per_server;
    settings.connect_timeout_ms = fleet.connect_timeout_ms;
    const std::map<std::string, Outcome> outcomes =
        run_on_all(targets, options.parallel > 0 ? options.parallel : fleet.parallel, settings);
    int drifted = 0;
    int not_read = 0;
    nlohmann::json rows = nlohmann::json::array();
    for (const WaveTarget& t : targets) {
        const Outcome& o = outcomes.at(t.name);
        const bool ok = o.state == TargetState::done;
        if (!ok) ++not_read;
        if (ok && !o.drift.empty()) ++drifted;
        nlohmann::json objects = nlohmann::json::array();
        for (const DriftedObject& d : o.drift) {
            objects.push_back({{"object_type", d.object_type}, {"identity", d.identity}, {"change", d.change},
                               {"detail", d.detail.empty() ? nlohmann::json(nullptr) : nlohmann::json(d.detail)},
                               {"changed_at", d.changed_at.empty() ? nlohmann::json(nullptr) : nlohmann::json(d.changed_at)},
                               {"changed_by", d.changed_by.empty() ? nlohmann::json(nullptr) : nlohmann::json(d.changed_by)}});
        }
        const std::string state = !ok ? state_name(o.state) : (o.drift.empty() ? "clean" : "drifted");
        rows.push_back({{"target", t.name}, {"state", state}, {"drifted", o.drift.size()}, {"objects", objects},
                        {"error", o.error.empty() ? nlohmann::json(nullptr) : nlohmann::json(o.error)}});
        if (json_output_active()) continue;
        if (!ok) {
            fmt::print("{:<12} {}: {}\n", state, t.name, o.error);
            continue;
        }
        fmt::print("{:<12} {}{}\n", state, t.name, o.drift.empty() ? "" : fmt::format(": {} objects", o.drift.size()));
        for (const DriftedObject& d : o.drift) {
            fmt::print("    {} {} {}{}{}\n", d.change, d.object_type, d.identity, d.detail.empty() ? "" : " (" + d.detail + ")",
                       d.changed_by.empty() ? "" : fmt::format(" by {} at {}", d.changed_by, d.changed_at));
        }
    }
    const int clean = static_cast<int>(targets.size()) - drifted - not_read;
    if (json_output_active()) {
        print_json_document({{"fleet", fleet.name},
                             {"targets", targets.size()},
                             {"clean", clean},
                             {"drifted", drifted},
                             {"not_read", not_read},
                             {"unlisted_sources", unreadable},
                             {"results", rows}});
    } else {
        for (const std::string& line : unreadable) fmt::print("unlisted     {}\n", line);
        fmt::print("fleet {}: {} targets, {} clean, {} drifted, {} not read{}\n", fleet.name, targets.size(), clean,
                   drifted, not_read,
                   unreadable.empty() ? std::string()
                                      : fmt::format("; {} servers or directories could not be listed", unreadable.size()));
    }
    if (not_read > 0 || !unreadable.empty()) return exit_code(ErrorKind::fleet_incomplete);
    return drifted > 0 ? exit_code(ErrorKind::diff_found) : kExitOk;
}

int run_fleet_status(const FleetStatusOptions& options) {
    const RunState state = load_state(options.run);
    if (json_output_active()) {
        nlohmann::json targets = nlohmann::json::array();
        for (const PlannedWave& w : state.waves) {
            for (const std::string& name : w.targets) targets.push_back(target_event(state, state.targets.at(name)));
        }
        nlohmann::json waves = nlohmann::json::array();
        for (const PlannedWave& w : state.waves) {
            waves.push_back({{"name", w.name}, {"then", w.then}, {"parallel", w.parallel},
                             {"max_failures", w.max_failures.text()}, {"counts", counts_json(state.counts(&w))}});
        }
        print_json_document({{"run", state.run_id},         {"fleet", state.fleet},
                             {"status", state.status},      {"started_at", state.started_at},
                             {"updated_at", state.updated_at}, {"counts", counts_json(state.counts())},
                             {"waves", waves},              {"targets", targets}});
        return kExitOk;
    }
    fmt::print("fleet {} run {}: {} (started {}, updated {})\n", state.fleet, state.run_id, state.status,
               state.started_at, state.updated_at);
    fmt::print("  {}\n", counts_text(state.counts()));
    for (const PlannedWave& w : state.waves) {
        fmt::print("wave {}: {}\n", w.name, counts_text(state.counts(&w)));
        for (const std::string& name : w.targets) {
            const TargetRecord& t = state.targets.at(name);
            fmt::print("  {:<12} {}{}{}\n", state_name(t.state), name,
                       t.applied.empty() ? std::string() : fmt::format(" (applied {})", fmt::join(t.applied, ", ")),
                       t.error.empty() ? std::string() : ": " + t.error);
        }
    }
    return kExitOk;
}

}  // namespace pgmig::client
