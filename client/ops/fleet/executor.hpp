// Running one wave of a fleet run with libpq's asynchronous API: one poll() loop drives up to `parallel`
// targets at once, each through the same steps, without a thread per target.
//
// A target's steps: connect (within the fleet's connect_timeout) → pre-flight (the pgmig extension of this
// client's release, a search_path with pg_catalog first, no drift) → one transaction: the ledger lock (never waited
// for: a target whose ledger another pgmig holds fails, and a resume retries it), every migration file
// registered, the pending ones checked (non-transactional migrations and pending migrations no file holds
// are refused), pgmig.deploy_run set to the run id, migrate_apply() with the environment's approvals →
// COMMIT → post-flight (nothing pending, no drift). A failure anywhere ends the target's connection, so the
// server rolls its transaction back: a target is all or nothing.
#pragma once

#include "client/core/errors.hpp"
#include "client/ops/fleet/run_state.hpp"
#include "client/ledger/migration_files.hpp"

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace pgmig::client::fleet {

// One object of migrate_drift() on a target (pgmig fleet drift).
struct DriftedObject {
    std::string object_type, identity, change, detail, changed_at, changed_by;
};

struct Outcome {
    TargetState state = TargetState::failed;  // done, failed or unreachable
    std::string error;                         // one line: what failed, where, what to do
    ErrorKind kind = ErrorKind::internal;
    std::vector<std::string> applied;          // versions (R__name for repeatable ones) applied by this run
    double seconds = 0;
    std::vector<DriftedObject> drift;          // Task::drift: what migrate_drift() returned
};

struct WaveTarget {
    std::string name;
    std::string conninfo;
    // Targets of the same call that must be done before this one starts (a replication group's order); if
    // one of them ends otherwise, this one is not started: it ends `skipped`, naming it.
    std::vector<std::string> after;
};

struct ExecutorSettings {
    // deploy: the steps above; drift: connect, pre-flight, then only migrate_drift() (read-only); approve:
    // connect, pre-flight, then migrate_approve() of every file in `approve` for `environment`, in one statement.
    enum class Task { deploy, drift, approve } task = Task::deploy;
    // Task::approve: text[] literals (text_array_literal) of the versions (NULL for a repeatable one), the
    // up scripts' checksums and the names, in the same order.
    std::string approve_versions, approve_checksums, approve_names;
    std::string run_id;
    std::string fleet;  // its name, for the commands a target's error names
    int require_approvals = 0;               // migrate_apply's require_approvals (the environment's approval)
    std::optional<std::string> environment;  // migrate_apply's environment
    long connect_timeout_ms = 15'000;
    bool drift_check = true;  // pre- and post-flight run migrate_drift() too
    int per_server = 0;       // at most this many running targets per server (host:port); 0 = no limit
    // The environment's lint threshold (off | error | warning): pgmig.lint_block for the transaction, never
    // weaker than the database's own, so that migrate_apply() refuses findings at it with the live catalog.
    std::string lint = "off";
};

struct WaveCallbacks {
    std::function<void(const std::string& name)> started;
    std::function<void(const std::string& name, const Outcome& outcome)> finished;
    std::function<bool()> stop_starting;  // true once the wave's failures passed its max_failures
    std::function<void()> tick;           // about once a second, and after every change (progress display)
};

// Runs the targets in order, at most `parallel` at a time; returns the names never started (stop_starting).
std::vector<std::string> run_wave(const std::vector<WaveTarget>& targets, int parallel,
                                  const ExecutorSettings& settings, const std::vector<MigrationFile>& files,
                                  const WaveCallbacks& callbacks);

}  // namespace pgmig::client::fleet
