// Unit tests of client/report_formats: GitHub workflow command escaping and the SARIF 2.1.0 shape.
#include "client/cli/report_formats.hpp"

#include <gtest/gtest.h>

using namespace pgmig::client;

TEST(GithubFormat, EscapesDataAndProperties) {
    EXPECT_EQ(github_escape_data("100% done\r\nnext: a,b"), "100%25 done%0D%0Anext: a,b");
    EXPECT_EQ(github_escape_property("a:b,c%d\ne"), "a%3Ab%2Cc%25d%0Ae");
    EXPECT_EQ(github_escape_data(""), "");
}

TEST(GithubFormat, OneCommandPerItemWithLocation) {
    const std::vector<ReportItem> items{
        {"error", "lint/drop-table", "drops table \"a,b\": 100%\nreally", "migrations/3_x.sql", 4, 7},
        {"warning", "missing_down", "no down script", "migrations/1_a.sql", 0, 0},
        {"note", "lint/advice", "consider it", "", 0, 0},
    };
    EXPECT_EQ(format_github(items),
              "::error file=migrations/3_x.sql,line=4,col=7,title=pgmig lint/drop-table::drops table \"a,b\": "
              "100%25%0Areally\n"
              "::warning file=migrations/1_a.sql,title=pgmig missing_down::no down script\n"
              "::notice title=pgmig lint/advice::consider it\n");
}

TEST(GithubFormat, FileNameWithCommaAndColonIsEscaped) {
    const std::vector<ReportItem> items{{"error", "parse", "bad", "m/1_a,b:c.sql", 2, 0}};
    EXPECT_EQ(format_github(items), "::error file=m/1_a%2Cb%3Ac.sql,line=2,title=pgmig parse::bad\n");
}

TEST(Sarif, UriIsRelativeAndEncoded) {
    EXPECT_EQ(sarif_uri("migrations/1_a.sql"), "migrations/1_a.sql");
    EXPECT_EQ(sarif_uri("./migrations/my file%.sql"), "migrations/my%20file%25.sql");
    EXPECT_EQ(sarif_uri("/tmp/x/1_a.sql"), "file:///tmp/x/1_a.sql");
}

TEST(Sarif, LogHasTheRequiredShape) {
    const std::vector<ReportItem> items{
        {"error", "changed", "the up script changed", "migrations/1_a.sql", 0, 0},
        {"warning", "lint/add-column-default", "rewrites the table", "migrations/2_b.sql", 3, 5},
        {"note", "lint/advice", "consider it", "migrations/2_b.sql", 4, 0},
        {"error", "integrity/fk-orphans", "1 orphan", "", 0, 0},
        {"error", "changed", "another one", "migrations/3_c.sql", 0, 0},
    };
    const std::vector<ReportRule> rules{{"changed", "An applied migration whose up script changed", "error"}};
    const auto log = format_sarif(items, rules, "0.1.0");
    EXPECT_EQ(log["version"], "2.1.0");
    EXPECT_NE(log["$schema"].get<std::string>().find("sarif-schema-2.1.0.json"), std::string::npos);
    ASSERT_EQ(log["runs"].size(), 1u);
    const auto& run = log["runs"][0];
    EXPECT_EQ(run["tool"]["driver"]["name"], "pgmig");
    EXPECT_EQ(run["tool"]["driver"]["version"], "0.1.0");
    EXPECT_TRUE(run["tool"]["driver"]["informationUri"].is_string());
    // One rule per rule id used, in first-use order; results point at them.
    const auto& driver_rules = run["tool"]["driver"]["rules"];
    ASSERT_EQ(driver_rules.size(), 4u);
    EXPECT_EQ(driver_rules[0]["id"], "changed");
    EXPECT_EQ(driver_rules[0]["shortDescription"]["text"], "An applied migration whose up script changed");
    EXPECT_EQ(driver_rules[0]["defaultConfiguration"]["level"], "error");
    EXPECT_EQ(driver_rules[3]["id"], "integrity/fk-orphans");
    const auto& results = run["results"];
    ASSERT_EQ(results.size(), 5u);
    EXPECT_EQ(results[4]["ruleId"], "changed");
    EXPECT_EQ(results[4]["ruleIndex"], 0);
    EXPECT_EQ(results[2]["level"], "note");
    EXPECT_EQ(results[1]["message"]["text"], "rewrites the table");
    const auto& loc = results[1]["locations"][0]["physicalLocation"];
    EXPECT_EQ(loc["artifactLocation"]["uri"], "migrations/2_b.sql");
    EXPECT_EQ(loc["region"]["startLine"], 3);
    EXPECT_EQ(loc["region"]["startColumn"], 5);
    EXPECT_FALSE(results[0]["locations"][0]["physicalLocation"].contains("region"));  // line unknown
    EXPECT_FALSE(results[2]["locations"][0]["physicalLocation"]["region"].contains("startColumn"));
    EXPECT_FALSE(results[3].contains("locations"));  // a database finding has no file
}

TEST(Sarif, DatabaseFindingsAreAnchoredWhenAnAnchorIsGiven) {
    const std::vector<ReportItem> items{{"error", "integrity/fk-orphans", "1 orphan", "", 0, 0},
                                        {"warning", "missing_down", "no down", "migrations/2_b.sql", 0, 0}};
    const auto log = format_sarif(items, {}, "0.1.0", "migrations/3_c.sql");
    const auto& results = log["runs"][0]["results"];
    EXPECT_EQ(results[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], "migrations/3_c.sql");
    EXPECT_FALSE(results[0]["locations"][0]["physicalLocation"].contains("region"));
    EXPECT_EQ(results[1]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], "migrations/2_b.sql");
}

TEST(Sarif, EmptyRunIsStillALog) {
    const auto log = format_sarif({}, {}, "0.1.0");
    EXPECT_TRUE(log["runs"][0]["results"].is_array());
    EXPECT_TRUE(log["runs"][0]["results"].empty());
    EXPECT_TRUE(log["runs"][0]["tool"]["driver"]["rules"].empty());
}
