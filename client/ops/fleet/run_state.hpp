// A fleet run's state file, .pgmig/fleet/RUN.json in the project folder: the plan (waves and their targets),
// the digest of the migration files the run deploys, and every target's state. Written atomically (a new
// file renamed over the old one) after every change, so that a client killed at any moment leaves a file
// that `--resume RUN` can continue from (not fsynced: after a machine crash it may be a few changes old); the targets' own ledgers say what was applied (pgmig.history's
// deploy_run), so a target the file still calls "running" is simply run again: what it committed is not
// pending any more.
#pragma once

#include "client/ops/fleet/plan.hpp"
#include "client/ledger/migration_files.hpp"

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace pgmig::client::fleet {

enum class TargetState { pending, running, done, failed, unreachable, skipped };
const char* state_name(TargetState state);

struct TargetRecord {
    std::string name;
    std::string conninfo;
    Labels labels;
    std::string wave;
    TargetState state = TargetState::pending;
    std::string error;       // the last failure, one line, with what to do
    std::string error_kind;  // kind_name() of its ErrorKind
    std::vector<std::string> applied;  // versions this run applied there
    int attempts = 0;
    double seconds = 0;
    std::string finished_at;  // UTC, ISO 8601
    std::string backup;       // the backup this run took of it before migrating (environment backup = true)
};

// A replication group of the run and the order decided for it when the run started.
struct GroupPlan {
    ReplicationGroup group;
    std::string order;  // "subscribers first" or "publisher first" (order_name)
    std::string why;
};

struct RunState {
    std::string run_id;
    std::string fleet;
    std::string dir;           // the migrations folder
    std::string files_digest;  // files_digest() of the files when the run started
    std::string started_at;
    std::string updated_at;
    std::string status = "running";  // running | halted | paused | done | failed (every wave ran; some targets failed)
    int passed_pause = -1;           // the last wave whose pause a resume went past
    std::vector<PlannedWave> waves;
    std::map<std::string, TargetRecord> targets;
    std::vector<GroupPlan> replication;

    std::map<TargetState, int> counts(const PlannedWave* wave = nullptr) const;
};

// 20261204T163501Z-3f9a1c: sortable, unique enough, and what pgmig.deploy_run accepts.
std::string new_run_id();
bool valid_run_id(const std::string& id);

// A SHA-256 over every file's version, name, scripts and options: a resume refuses other files.
std::string files_digest(const std::vector<MigrationFile>& files);

std::filesystem::path state_path(const std::string& run_id);
// Error(input) when the file is missing or unreadable, naming it and the runs there are.
RunState load_state(const std::string& run_id);
void save_state(RunState& state);

// Holds an exclusive lock (flock) on .pgmig/fleet/RUN.lock while the run goes on: a second client on the
// same run is refused instead of deploying beside the first.
class RunLock {
  public:
    explicit RunLock(const std::string& run_id);
    ~RunLock();
    RunLock(const RunLock&) = delete;
    RunLock& operator=(const RunLock&) = delete;

  private:
    int fd_ = -1;
};

std::string utc_now();

}  // namespace pgmig::client::fleet
