// Unit tests of client/schema_compare: snapshots compared object by object, and the dropping statements of a
// down script.
#include "client/ledger/schema_compare.hpp"

#include <gtest/gtest.h>

using namespace pgmig::client;
using nlohmann::json;
using Change = ObjectDifference::Change;

namespace {

json table(const json& columns, const json& extra = json::object()) {
    json d = {{"kind", "r"}, {"persistence", "p"}, {"columns", columns}};
    for (const auto& [k, v] : extra.items()) d[k] = v;
    return d;
}

json column(const std::string& name, const std::string& type, const json& extra = json::object()) {
    json c = {{"name", name}, {"type", type}, {"not_null", false}};
    for (const auto& [k, v] : extra.items()) c[k] = v;
    return c;
}

}  // namespace

TEST(CompareSnapshots, EqualSnapshotsHaveNoDifference) {
    const json s = {{"table public.t", table(json::array({column("id", "integer")}))}};
    EXPECT_TRUE(compare_snapshots(s, s).empty());
    EXPECT_TRUE(compare_snapshots(json::object(), json::object()).empty());
}

TEST(CompareSnapshots, MissingExtraAndChangedInKeyOrder) {
    const json expected = {{"table public.a", table(json::array({column("id", "integer")}))},
                           {"view public.v", {{"kind", "v"}, {"definition", "SELECT 1"}}}};
    const json actual = {{"table public.a", table(json::array({column("id", "bigint")}))},
                         {"index public.b", {{"kind", "i"}, {"definition", "CREATE INDEX b ..."}}}};
    const auto diffs = compare_snapshots(expected, actual);
    ASSERT_EQ(diffs.size(), 3U);
    EXPECT_EQ(diffs[0].key, "index public.b");
    EXPECT_EQ(diffs[0].change, Change::extra);
    EXPECT_EQ(diffs[1].key, "table public.a");
    EXPECT_EQ(diffs[1].change, Change::changed);
    EXPECT_EQ(diffs[1].fields, std::vector<std::string>{"column id: type"});
    EXPECT_EQ(diffs[2].key, "view public.v");
    EXPECT_EQ(diffs[2].change, Change::missing);
}

TEST(CompareSnapshots, NamesTheColumnsConstraintsAndKeysThatDiffer) {
    const json expected = {
        {"table public.t",
         table({column("id", "integer", {{"default", "7"}}), column("a", "text")},
               {{"comment", "x"}, {"constraints", {{"t_pkey", "PRIMARY KEY (id)"}, {"t_check", "CHECK (id > 0)"}}}})}};
    const json actual = {
        {"table public.t", table({column("id", "integer", {{"not_null", true}}), column("b", "text")},
                                 {{"constraints", {{"t_pkey", "PRIMARY KEY (id)"}, {"t_u", "UNIQUE (b)"}}}})}};
    const auto diffs = compare_snapshots(expected, actual);
    ASSERT_EQ(diffs.size(), 1U);
    const std::vector<std::string> want{
        "column id: default, not_null", "column a: missing",    "column b: extra", "comment",
        "constraint t_check: missing",  "constraint t_u: extra"};
    EXPECT_EQ(diffs[0].fields, want);
    EXPECT_EQ(describe_difference(diffs[0]),
              "table public.t (column id: default, not_null; column a: missing; column b: extra; comment; constraint "
              "t_check: missing; constraint t_u: extra)");
}

// Baseline's check: migration files create objects owned by whoever applies them, and default privileges are
// not carried, so neither counts; everything else about the object still does.
TEST(CompareSnapshots, OwnersAndDefaultPrivilegesAreNotCompared) {
    const json expected = {{"table public.t", {{"kind", "r"}, {"owner", "postgres"}}},
                           {"view public.v", {{"kind", "v"}, {"owner", "postgres"}, {"definition", "SELECT 1"}}}};
    json actual = expected;
    actual["table public.t"]["owner"] = "app";
    actual["view public.v"]["owner"] = "app";
    actual["view public.v"]["definition"] = "SELECT 2";
    actual["default acl for role app on tables"] = {{"role", "app"}, {"on", "TABLES"}, {"acl", {"OWNER:SELECT"}}};
    const auto d = compare_snapshots(expected, actual);
    ASSERT_EQ(d.size(), 1U);
    EXPECT_EQ(d[0].key, "view public.v");
}

TEST(CompareSnapshots, ColumnOrderCounts) {
    const json expected = {{"table public.t", table({column("a", "integer"), column("b", "integer")})}};
    const json actual = {{"table public.t", table({column("b", "integer"), column("a", "integer")})}};
    const auto diffs = compare_snapshots(expected, actual);
    ASSERT_EQ(diffs.size(), 1U);
    EXPECT_EQ(diffs[0].fields, std::vector<std::string>{"column order"});
}

TEST(CompareSnapshots, ANameWithALineBreakStaysOnOneLine) {
    const json expected = {{"table public.\"a\nb\"", table(json::array())}};
    const auto diffs = compare_snapshots(expected, json::object());
    ASSERT_EQ(diffs.size(), 1U);
    EXPECT_EQ(describe_difference(diffs[0]).find('\n'), std::string::npos);
}

TEST(DroppingStatements, KeepsDropsAlterDropsTruncateAndDelete) {
    const std::vector<std::string> statements{
        "-- the view first\nDROP VIEW public.v", "CREATE TABLE x (id int)",
        "/* data */ TRUNCATE public.t",          "ALTER TABLE public.t\n    DROP COLUMN c",
        "ALTER TABLE public.t ADD COLUMN d int", "delete from public.t where true",
        "COMMENT ON TABLE public.t IS 'drop'",
    };
    const std::vector<std::string> want{"DROP VIEW public.v", "TRUNCATE public.t", "ALTER TABLE public.t DROP COLUMN c",
                                        "delete from public.t where true"};
    EXPECT_EQ(dropping_statements(statements), want);
}

TEST(DroppingStatements, LongStatementsAreCutAndControlCharactersEscaped) {
    const std::string long_name(300, 'x');
    const auto out = dropping_statements({"DROP TABLE public." + long_name, "DROP TABLE \"a\x1b[2Jb\""});
    ASSERT_EQ(out.size(), 2U);
    EXPECT_EQ(out[0].size(), 163U);
    EXPECT_TRUE(out[0].ends_with("..."));
    EXPECT_EQ(out[1].find('\x1b'), std::string::npos);
}
