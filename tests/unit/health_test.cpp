// Unit tests of client/health's pure parts: threshold durations, ages for humans, manifest timestamps, JSON shape.
#include "client/ops/health.hpp"

#include <gtest/gtest.h>

using namespace pgmig::client;

TEST(HealthDuration, UnitsAndBareMilliseconds) {
    EXPECT_EQ(parse_health_duration("500"), 500);
    EXPECT_EQ(parse_health_duration("500ms"), 500);
    EXPECT_EQ(parse_health_duration("30s"), 30000);
    EXPECT_EQ(parse_health_duration(" 5min "), 300000);
    EXPECT_EQ(parse_health_duration("26h"), 26LL * 3600 * 1000);
    EXPECT_EQ(parse_health_duration("7d"), 7LL * 24 * 3600 * 1000);
    EXPECT_EQ(parse_health_duration("2 s"), 2000);
}

TEST(HealthDuration, RefusesNonsense) {
    EXPECT_FALSE(parse_health_duration(""));
    EXPECT_FALSE(parse_health_duration("0"));
    EXPECT_FALSE(parse_health_duration("-5s"));
    EXPECT_FALSE(parse_health_duration("5 years"));
    EXPECT_FALSE(parse_health_duration("s"));
    EXPECT_FALSE(parse_health_duration("1.5h"));
    EXPECT_FALSE(parse_health_duration("99999999999999999d"));
}

TEST(HealthAge, ReadableAtEachScale) {
    EXPECT_EQ(format_age(250), "250ms");
    EXPECT_EQ(format_age(5000), "5s");
    EXPECT_EQ(format_age(1500), "1.5s");
    EXPECT_EQ(format_age(200000), "3min 20s");
    EXPECT_EQ(format_age(26LL * 3600 * 1000), "1d 2h");
    EXPECT_EQ(format_age(3600LL * 1000 + 5LL * 60000), "1h 5min");
    EXPECT_EQ(format_age(48LL * 3600 * 1000), "2d");
}

TEST(HealthServerVersion, OkOnEveryTestedMajorWarnOnOthers) {
    for (const int num : {150020, 170011, 180006}) EXPECT_EQ(judge_server_version(num, "x", false).first, HealthStatus::ok);
    EXPECT_EQ(judge_server_version(170011, "17.11", true).second, "PostgreSQL 17.11 (a standby)");
    const auto sixteen = judge_server_version(160010, "16.10", false);
    EXPECT_EQ(sixteen.first, HealthStatus::warn);
    EXPECT_EQ(sixteen.second, "PostgreSQL 16.10: pgmig builds for it but is tested on PostgreSQL 15, 17, 18 only");
    for (const int num : {140015, 190000}) {
        const auto other = judge_server_version(num, "v", false);
        EXPECT_EQ(other.first, HealthStatus::warn);
        EXPECT_NE(other.second.find("supports PostgreSQL 15 to 18"), std::string::npos) << other.second;
    }
}

TEST(HealthTimestamp, ParsesTheManifestFormat) {
    const auto t = parse_utc_timestamp("2026-11-24T16:00:00Z");
    ASSERT_TRUE(t);
    EXPECT_EQ(std::chrono::system_clock::to_time_t(*t), 1795536000);
    const auto frac = parse_utc_timestamp("2026-11-24T16:00:00.123456Z");
    ASSERT_TRUE(frac);
    EXPECT_EQ(*frac, *t);  // fractions are dropped: ages are shown in seconds at best
    EXPECT_EQ(parse_utc_timestamp("2026-11-24T16:00:00+00:00"), t);
}

TEST(HealthTimestamp, RefusesOtherZonesAndGarbage) {
    EXPECT_FALSE(parse_utc_timestamp("2026-11-24T16:00:00+02:00"));
    EXPECT_FALSE(parse_utc_timestamp("2026-11-24T16:00:00"));
    EXPECT_FALSE(parse_utc_timestamp("2026-13-24T16:00:00Z"));
    EXPECT_FALSE(parse_utc_timestamp("20261124T160000Z"));
    EXPECT_FALSE(parse_utc_timestamp("yesterday"));
}

TEST(HealthReportJson, ShapeAndWorstStatus) {
    HealthReport report;
    report.target = "host=/tmp port=5432 dbname=app user=app";
    report.environment = "production";
    report.checked_at = "2026-11-24T16:00:00Z";
    report.checks.push_back({"connection", HealthStatus::ok, "connected", 1.234});
    report.checks.push_back({"drift", HealthStatus::fail, "1 object differs", 2.0});
    report.status = HealthStatus::fail;
    report.not_ready = {"drift: 1 object changed out of band"};
    const auto j = to_json(report);
    EXPECT_EQ(j["status"], "fail");
    EXPECT_EQ(j["ready"], false);
    EXPECT_EQ(j["environment"], "production");
    ASSERT_EQ(j["checks"].size(), 2U);
    EXPECT_EQ(j["checks"][1]["name"], "drift");
    EXPECT_EQ(j["checks"][1]["status"], "fail");
    EXPECT_DOUBLE_EQ(j["checks"][0]["duration_ms"].get<double>(), 1.23);
    EXPECT_EQ(j["not_ready"][0], "drift: 1 object changed out of band");
    ASSERT_NE(report.find("drift"), nullptr);
    EXPECT_EQ(report.find("nothing"), nullptr);
}

TEST(HealthStatusNames, AreTheDocumentedOnes) {
    EXPECT_STREQ(to_string(HealthStatus::ok), "ok");
    EXPECT_STREQ(to_string(HealthStatus::warn), "warn");
    EXPECT_STREQ(to_string(HealthStatus::fail), "fail");
}
