// Unit tests of client/fleet: [fleets.NAME] in pgmig.toml, wave planning, the run state file, text[] literals.
#include "client/core/config.hpp"
#include "client/core/errors.hpp"
#include "client/ops/fleet/executor.hpp"
#include "client/ops/fleet/fleet_config_reader.hpp"
#include "client/ops/fleet/plan.hpp"
#include "client/ops/fleet/replication.hpp"
#include "client/ops/fleet/run_state.hpp"

#include <fmt/core.h>
#include <gtest/gtest.h>

#include "tests/unit/temp_cwd.hpp"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;
using namespace pgmig::client;
using namespace pgmig::client::fleet;

namespace {

class FleetDir : public TempCwd {
  protected:
    ProjectConfig load(const std::string& content) {
        std::ofstream(dir_ / kConfigFile) << content;
        return load_config(dir_ / kConfigFile);
    }
    // The error load() throws, as its line.
    std::string error_of(const std::string& content, ErrorKind kind = ErrorKind::input) {
        try {
            load(content);
        } catch (const Error& e) {
            EXPECT_EQ(e.kind(), kind) << e.line();
            return e.line();
        }
        ADD_FAILURE() << "no error for: " << content;
        return {};
    }
};

std::vector<FleetTarget> tenants(int n, const std::string& region = "") {
    std::vector<FleetTarget> out;
    for (int i = 0; i < n; ++i) {
        FleetTarget t;
        t.name = fmt::format("t{:03}", i);
        t.conninfo = "dbname=" + t.name;
        if (!region.empty()) t.labels["region"] = region;
        out.push_back(t);
    }
    return out;
}

}  // namespace

TEST_F(FleetDir, ReadsEveryForm) {
    const ProjectConfig config = load(R"(
[environments.production]
approval = true
[fleets.tenants]
environment = "production"
parallel = 8
per_server = 2
max_failures = "10%"
connect_timeout = "5s"
drift_check = false
targets = ["host=/tmp port=5433 dbname=a", { conninfo = "dbname=b", name = "bee", labels = { region = "eu" } }]
servers = [{ conninfo = "host=/tmp port=5434", databases = "tenant_%", labels = { shard = "2" } }]
directory = { conninfo = "dbname=dir", query = "SELECT conninfo, name FROM tenants" }
[[fleets.tenants.waves]]
name = "canary"
count = 1
max_failures = 0
then = "pause"
[[fleets.tenants.waves]]
percent = 30
labels = { region = "eu" }
)");
    const Fleet& f = find_fleet(config, "tenants");
    EXPECT_EQ(f.environment, "production");
    EXPECT_EQ(f.parallel, 8);
    EXPECT_EQ(f.per_server, 2);
    EXPECT_EQ(server_from_conninfo("host=/tmp port=5433 dbname=a"), "/tmp:5433");
    EXPECT_TRUE(f.max_failures.percent);
    EXPECT_EQ(f.max_failures.value, 10);
    EXPECT_EQ(f.connect_timeout_ms, 5000);
    EXPECT_FALSE(f.drift_check);
    ASSERT_EQ(f.targets.size(), 2U);
    EXPECT_EQ(f.targets[0].name, "/tmp:5433/a");
    EXPECT_EQ(f.targets[1].name, "bee");
    EXPECT_EQ(f.targets[1].labels.at("region"), "eu");
    ASSERT_EQ(f.servers.size(), 1U);
    EXPECT_EQ(f.servers[0].databases, "tenant_%");
    ASSERT_TRUE(f.directory);
    ASSERT_EQ(f.waves.size(), 2U);
    EXPECT_EQ(f.waves[0].then, "pause");
    EXPECT_EQ(f.waves[0].max_failures->value, 0);
    EXPECT_EQ(f.waves[1].name, "wave2");
    EXPECT_EQ(*f.waves[1].percent, 30);
}

TEST_F(FleetDir, RefusesWhatCannotWork) {
    EXPECT_NE(error_of("[fleets.a]\nparallel = 2\n").find("names no targets"), std::string::npos);
    EXPECT_NE(error_of("[fleets.a]\ntargets = [\"dbname=x\"]\nenvironment = \"prod\"\n").find("'prod', which is not defined"),
              std::string::npos);
    EXPECT_NE(error_of("[fleets.a]\ntargets = [\"dbname=x\", \"dbname=x\"]\n").find("twice"), std::string::npos);
    EXPECT_NE(error_of("[fleets.a]\ntargets = [\"dbname=x\"]\nmax_failures = \"ten\"\n").find("max_failures"),
              std::string::npos);
    EXPECT_NE(error_of("[fleets.a]\ntargets = [\"dbname=x\"]\n[[fleets.a.waves]]\ncount = 1\npercent = 5\n")
                  .find("both count and percent"),
              std::string::npos);
    EXPECT_NE(error_of("[fleets.a]\ntargets = [\"dbname=x\"]\nwaves = [{ then = \"approve\" }]\n").find("then"),
              std::string::npos);
    EXPECT_NE(error_of("[fleets.a]\ntargets = [\"dbname=x\"]\nwaves = [{ then = \"approval\" }]\n").find("no environment"),
              std::string::npos);
    EXPECT_NE(error_of("[fleets.a]\ntargets = [\"dbname=x\"]\nsomething = 1\n").find("unknown key 'fleets.a.something'"),
              std::string::npos);
    // A password is refused, and never shown.
    const std::string line = error_of("[fleets.a]\ntargets = [\"dbname=x password=hunter2\"]\n", ErrorKind::inline_password);
    EXPECT_EQ(line.find("hunter2"), std::string::npos);
    const std::string uri = error_of("[fleets.a]\nservers = [{ conninfo = \"postgresql://u:hunter2@h/db\" }]\n",
                                     ErrorKind::inline_password);
    EXPECT_EQ(uri.find("hunter2"), std::string::npos);
}

TEST(FleetPlan, CanaryPercentAndRest) {
    Fleet f;
    f.name = "tenants";
    f.parallel = 4;
    f.max_failures = {2, false};
    WaveSpec canary;
    canary.name = "canary";
    canary.count = 1;
    canary.max_failures = FailureLimit{0, false};
    WaveSpec share;
    share.name = "share";
    share.percent = 30;
    share.parallel = 8;
    f.waves = {canary, share};
    std::vector<FleetTarget> targets = tenants(10);
    std::reverse(targets.begin(), targets.end());  // the plan sorts by name
    const auto waves = plan_waves(f, targets);
    ASSERT_EQ(waves.size(), 3U);
    EXPECT_EQ(waves[0].targets, std::vector<std::string>{"t000"});
    EXPECT_EQ(waves[0].max_failures.value, 0);
    EXPECT_EQ(waves[1].targets, (std::vector<std::string>{"t001", "t002", "t003"}));  // 30% of 10, rounded up
    EXPECT_EQ(waves[1].parallel, 8);
    EXPECT_EQ(waves[2].name, "rest");
    EXPECT_EQ(waves[2].targets.size(), 6U);
    EXPECT_EQ(waves[2].parallel, 4);
    EXPECT_EQ(waves[2].max_failures.value, 2);
}

TEST(FleetPlan, LabelsSelectAndNoWavesMeansOne) {
    Fleet f;
    f.name = "x";
    auto targets = tenants(3, "us");
    auto eu = tenants(2, "eu");
    eu[0].name = "eu0";
    eu[1].name = "eu1";
    targets.insert(targets.end(), eu.begin(), eu.end());
    EXPECT_EQ(plan_waves(f, targets).size(), 1U);
    EXPECT_EQ(plan_waves(f, targets)[0].name, "all");
    WaveSpec w;
    w.name = "eu";
    w.labels["region"] = "eu";
    f.waves = {w};
    const auto waves = plan_waves(f, targets);
    ASSERT_EQ(waves.size(), 2U);
    EXPECT_EQ(waves[0].targets, (std::vector<std::string>{"eu0", "eu1"}));
    EXPECT_EQ(waves[1].targets.size(), 3U);
    targets.push_back(targets[0]);
    EXPECT_THROW(plan_waves(f, targets), Error);
}

TEST(FleetPlan, FailureLimits) {
    EXPECT_EQ((FailureLimit{10, true}).allowed(30), 3);
    EXPECT_EQ((FailureLimit{10, true}).allowed(5), 0);
    EXPECT_EQ((FailureLimit{2, false}).allowed(1), 2);
}

TEST_F(FleetDir, StateRoundTripsAndRunIdsAreSafe) {
    RunState s;
    s.run_id = new_run_id();
    EXPECT_TRUE(valid_run_id(s.run_id)) << s.run_id;
    EXPECT_FALSE(valid_run_id("../x"));
    EXPECT_FALSE(valid_run_id("a b"));
    s.fleet = "tenants";
    s.dir = "migrations";
    s.files_digest = "abc";
    s.started_at = utc_now();
    PlannedWave w{"canary", 1, {10, true}, "pause", {"t1"}};
    s.waves = {w};
    TargetRecord r;
    r.name = "t1";
    r.conninfo = "dbname=t1";
    r.wave = "canary";
    r.state = TargetState::failed;
    r.error = "boom \"quoted\"";
    r.applied = {"1", "R__views"};
    s.targets.emplace("t1", r);
    save_state(s);
    const RunState back = load_state(s.run_id);
    EXPECT_EQ(back.waves[0].max_failures.text(), "10%");
    EXPECT_EQ(back.waves[0].then, "pause");
    EXPECT_EQ(back.targets.at("t1").state, TargetState::failed);
    EXPECT_EQ(back.targets.at("t1").error, r.error);
    EXPECT_EQ(back.targets.at("t1").applied, r.applied);
    EXPECT_EQ(back.counts().at(TargetState::failed), 1);
    EXPECT_THROW(load_state("20990101T000000Z-000000"), Error);
    {
        RunLock lock(s.run_id);
        EXPECT_THROW(RunLock again(s.run_id), Error);
    }
    RunLock after(s.run_id);  // released with the first
}

TEST(FleetExecutor, TextArrayLiteralQuotes) {
    EXPECT_EQ(text_array_literal({std::string("a"), std::nullopt, std::string("b\"c\\d"), std::string("")}),
              "{\"a\",NULL,\"b\\\"c\\\\d\",\"\"}");
}

TEST(FleetExecutor, IntegerArrayLiteral) {
    EXPECT_EQ(pgmig::common::integer_array_literal({}), "{}");
    EXPECT_EQ(pgmig::common::integer_array_literal({1, -2, 9223372036854775807LL}), "{1,-2,9223372036854775807}");
}


TEST(FleetReplication, ClassifiesWhatReachesWhomFirst) {
    const auto adds = classify({"-- a comment\nCREATE TABLE t (id int)", "alter table t add column x int"}, {});
    EXPECT_EQ(adds.adds.size(), 2U);
    EXPECT_TRUE(adds.removes.empty());
    EXPECT_TRUE(adds.refused.empty());
    const auto removes = classify({"ALTER TABLE t DROP COLUMN x", "DROP INDEX i"}, {"drop-column"});
    EXPECT_EQ(removes.removes.size(), 2U);  // DROP INDEX by its keyword, DROP COLUMN by the lint rule
    EXPECT_TRUE(removes.adds.empty());
    EXPECT_EQ(classify({"ALTER TABLE t ALTER COLUMN x DROP NOT NULL"}, {"drop-not-null"}).adds.size(), 1U);
    EXPECT_EQ(classify({"ALTER TABLE t ALTER COLUMN x SET NOT NULL"}, {"set-not-null"}).removes.size(), 1U);
    EXPECT_EQ(classify({"ALTER TABLE t RENAME COLUMN a TO b"}, {"rename-column"}).refused.size(), 1U);
    EXPECT_EQ(classify({"ALTER TABLE t ALTER COLUMN a TYPE bigint"}, {"alter-column-type"}).refused.size(), 1U);
    for (const char* dml : {"INSERT INTO t VALUES (1)", "  update t set x = 1 where id = 2", "DELETE FROM t WHERE id = 1",
                            "/* c */ TRUNCATE t"}) {
        EXPECT_EQ(classify({dml}, {}).refused.size(), 1U) << dml;
    }
    EXPECT_TRUE(classify({"COMMENT ON TABLE t IS 'x'", "GRANT SELECT ON t TO r"}, {}).adds.empty());
}

TEST_F(FleetDir, ReplicationGroupsAreRead) {
    const ProjectConfig config = load(R"(
[fleets.r]
targets = [{ conninfo = "dbname=a", name = "pub" }, { conninfo = "dbname=b", name = "sub" }]
replication = [{ publication = "p", publisher = "pub", subscribers = ["sub"] }]
)");
    ASSERT_EQ(find_fleet(config, "r").replication.size(), 1U);
    EXPECT_EQ(find_fleet(config, "r").replication[0].subscribers, std::vector<std::string>{"sub"});
    EXPECT_NE(error_of(R"(
[fleets.r]
targets = ["dbname=a"]
replication = [{ publication = "p", publisher = "a", subscribers = ["b"] },
               { publication = "q", publisher = "a", subscribers = ["c"] }]
)").find("in replication twice"),
              std::string::npos);
}
