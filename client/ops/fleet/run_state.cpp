// The state file of a fleet run (run_state.hpp).
#include "client/ops/fleet/run_state.hpp"

#include "client/core/errors.hpp"
#include "common/checksum.hpp"

#include <fmt/chrono.h>
#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <random>
#include <regex>
#include <sstream>

namespace pgmig::client::fleet {

namespace {

constexpr const char* kStateDir = ".pgmig/fleet";
constexpr std::pair<TargetState, const char*> kStates[] = {
    {TargetState::pending, "pending"}, {TargetState::running, "running"},         {TargetState::done, "done"},
    {TargetState::failed, "failed"},   {TargetState::unreachable, "unreachable"}, {TargetState::skipped, "skipped"},
};

TargetState state_named(const std::string& name, const std::string& where) {
    for (const auto& [state, text] : kStates) {
        if (name == text) return state;
    }
    throw Error(ErrorKind::input, fmt::format("unknown target state '{}'", name), where,
                "the state file was edited or written by another pgmig release");
}

nlohmann::json to_json(const RunState& s) {
    nlohmann::json waves = nlohmann::json::array();
    for (const PlannedWave& w : s.waves) {
        waves.push_back({{"name", w.name},
                         {"parallel", w.parallel},
                         {"max_failures", w.max_failures.text()},
                         {"then", w.then},
                         {"targets", w.targets}});
    }
    nlohmann::json targets = nlohmann::json::object();
    for (const auto& [name, t] : s.targets) {
        targets[name] = {{"conninfo", t.conninfo}, {"labels", t.labels},     {"wave", t.wave},
                         {"state", state_name(t.state)}, {"error", t.error}, {"error_kind", t.error_kind},
                         {"applied", t.applied}, {"attempts", t.attempts},   {"seconds", t.seconds},
                         {"finished_at", t.finished_at}, {"backup", t.backup}};
    }
    nlohmann::json groups = nlohmann::json::array();
    for (const GroupPlan& g : s.replication) {
        groups.push_back({{"publication", g.group.publication},
                          {"publisher", g.group.publisher},
                          {"subscribers", g.group.subscribers},
                          {"order", g.order},
                          {"why", g.why}});
    }
    return {{"format", 1},
            {"run_id", s.run_id},
            {"fleet", s.fleet},
            {"dir", s.dir},
            {"files_digest", s.files_digest},
            {"started_at", s.started_at},
            {"updated_at", s.updated_at},
            {"status", s.status},
            {"passed_pause", s.passed_pause},
            {"waves", waves},
            {"targets", targets},
            {"replication", groups}};
}

RunState from_json(const nlohmann::json& j, const std::string& where) {
    RunState s;
    s.run_id = j.at("run_id").get<std::string>();
    s.fleet = j.at("fleet").get<std::string>();
    s.dir = j.at("dir").get<std::string>();
    s.files_digest = j.at("files_digest").get<std::string>();
    s.started_at = j.at("started_at").get<std::string>();
    s.updated_at = j.at("updated_at").get<std::string>();
    s.status = j.at("status").get<std::string>();
    s.passed_pause = j.at("passed_pause").get<int>();
    for (const auto& w : j.at("waves")) {
        PlannedWave wave;
        wave.name = w.at("name").get<std::string>();
        wave.parallel = w.at("parallel").get<int>();
        const std::string limit = w.at("max_failures").get<std::string>();
        wave.max_failures.percent = limit.ends_with('%');
        wave.max_failures.value = std::stoi(limit);
        wave.then = w.at("then").get<std::string>();
        wave.targets = w.at("targets").get<std::vector<std::string>>();
        s.waves.push_back(std::move(wave));
    }
    for (const auto& g : j.value("replication", nlohmann::json::array())) {
        GroupPlan plan;
        plan.group.publication = g.at("publication").get<std::string>();
        plan.group.publisher = g.at("publisher").get<std::string>();
        plan.group.subscribers = g.at("subscribers").get<std::vector<std::string>>();
        plan.order = g.at("order").get<std::string>();
        plan.why = g.at("why").get<std::string>();
        s.replication.push_back(std::move(plan));
    }
    for (const auto& [name, t] : j.at("targets").items()) {
        TargetRecord r;
        r.name = name;
        r.conninfo = t.at("conninfo").get<std::string>();
        r.labels = t.at("labels").get<Labels>();
        r.wave = t.at("wave").get<std::string>();
        r.state = state_named(t.at("state").get<std::string>(), where);
        r.error = t.at("error").get<std::string>();
        r.error_kind = t.at("error_kind").get<std::string>();
        r.applied = t.at("applied").get<std::vector<std::string>>();
        r.attempts = t.at("attempts").get<int>();
        r.seconds = t.at("seconds").get<double>();
        r.finished_at = t.at("finished_at").get<std::string>();
        r.backup = t.value("backup", std::string());
        s.targets.emplace(name, std::move(r));
    }
    return s;
}

}  // namespace

const char* state_name(TargetState state) {
    for (const auto& [s, text] : kStates) {
        if (s == state) return text;
    }
    return "?";
}

std::map<TargetState, int> RunState::counts(const PlannedWave* wave) const {
    std::map<TargetState, int> out;
    for (const auto& [state, text] : kStates) out[state] = 0;
    if (wave != nullptr) {
        for (const std::string& name : wave->targets) ++out[targets.at(name).state];
    } else {
        for (const auto& [name, t] : targets) ++out[t.state];
    }
    return out;
}

std::string utc_now() {
    return fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", fmt::gmtime(std::chrono::system_clock::to_time_t(std::chrono::system_clock::now())));
}

std::string new_run_id() {
    std::random_device random;
    const auto now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
    return fmt::format("{:%Y%m%dT%H%M%SZ}-{:06x}", fmt::gmtime(now), random() & 0xFFFFFFU);
}

bool valid_run_id(const std::string& id) {
    static const std::regex pattern("[A-Za-z0-9_.:-]{1,64}");
    return std::regex_match(id, pattern) && id.find("..") == std::string::npos && id[0] != '.';
}

std::string files_digest(const std::vector<MigrationFile>& files) {
    std::string all;
    for (const MigrationFile& f : files) {
        all += fmt::format("{}\x1f{}\x1f{}\x1f{}\x1f{}\x1e", f.version, f.name, common::sha256_hex(f.up_sql),
                           f.down_sql ? common::sha256_hex(*f.down_sql) : "-", f.options.dump());
    }
    return common::sha256_hex(all);
}

std::filesystem::path state_path(const std::string& run_id) {
    return std::filesystem::path(kStateDir) / (run_id + ".json");
}

RunState load_state(const std::string& run_id) {
    if (!valid_run_id(run_id)) {
        throw Error(ErrorKind::usage, fmt::format("'{}' is not a run id", run_id), "on the command line",
                    "give the id pgmig deploy --fleet printed (like 20261204T163501Z-3f9a1c); ls .pgmig/fleet lists them");
    }
    const std::filesystem::path path = state_path(run_id);
    const std::string where = "in " + std::filesystem::absolute(path).string();
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw Error(ErrorKind::input, fmt::format("no fleet run {} here", run_id), where,
                    "run it in the project folder the run was started in (ls .pgmig/fleet lists its runs)");
    }
    std::ostringstream text;
    text << in.rdbuf();
    try {
        return from_json(nlohmann::json::parse(text.str()), where);
    } catch (const nlohmann::json::exception& e) {
        throw Error(ErrorKind::input, fmt::format("the state file of run {} cannot be read: {}", run_id, e.what()), where,
                    "it was edited or cut short; the targets' ledgers still say what each has (pgmig status), so "
                    "start a new run: it applies only what is pending");
    }
}

void save_state(RunState& state) {
    state.updated_at = utc_now();
    std::filesystem::create_directories(kStateDir);
    const std::filesystem::path path = state_path(state.run_id);
    const std::filesystem::path temp = path.string() + ".tmp";
    const std::string text = to_json(state).dump(1) + "\n";
    const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    bool ok = fd >= 0;
    std::size_t written = 0;
    while (ok && written < text.size()) {
        const ssize_t n = ::write(fd, text.data() + written, text.size() - written);
        ok = n > 0;
        if (ok) written += static_cast<std::size_t>(n);
    }
    // No fsync: the rename keeps the file whole for a client killed at any moment, and a machine that crashes
    // may lose the last changes, which only makes a resume run those targets again: their ledgers say what
    // they have. (One fsync per target start and end cost more than the targets' own work in bench/fleet.sh.)
    if (fd >= 0) ::close(fd);
    if (!ok || std::rename(temp.c_str(), path.c_str()) != 0) {
        throw Error(ErrorKind::internal, fmt::format("cannot write the state of fleet run {}", state.run_id),
                    "in " + std::filesystem::absolute(path).string(),
                    "check the folder's space and rights; the targets' ledgers still say what each has");
    }
}

RunLock::RunLock(const std::string& run_id) {
    std::filesystem::create_directories(kStateDir);
    const std::string path = (std::filesystem::path(kStateDir) / (run_id + ".lock")).string();
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd_ < 0 || ::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
        throw Error(ErrorKind::input, fmt::format("fleet run {} is going on in another pgmig", run_id),
                    "in " + std::filesystem::absolute(path).string(),
                    "wait for it (pgmig fleet status " + run_id + " shows where it is), or stop it first");
    }
}

RunLock::~RunLock() {
    if (fd_ >= 0) ::close(fd_);
}

}  // namespace pgmig::client::fleet
