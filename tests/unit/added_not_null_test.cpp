// Unit tests of client/added_not_null: which NOT NULL columns are added without a value, --backfill arguments,
// and which backfills name nothing. (Row counting on a server: tests/integration/diff_not_null_test.sh.)
#include "client/diff/added_not_null.hpp"
#include "client/core/errors.hpp"

#include <gtest/gtest.h>

using nlohmann::json;
using pgmig::client::added_not_null_columns;
using pgmig::client::parse_backfill;
using pgmig::client::unused_backfills;
namespace sd = pgmig::schema_diff;

namespace {

json col(const std::string& name, bool not_null, const std::string& def = "") {
    json c = {{"name", name}, {"type", "text"}, {"not_null", not_null}};
    if (!def.empty()) c["default"] = def;
    return c;
}

json table(json columns) { return {{"kind", "r"}, {"columns", std::move(columns)}}; }

}  // namespace

TEST(AddedNotNull, OnlyNotNullColumnsWithoutAValueOfExistingTables) {
    const json from = {{"table public.t", table({col("id", true)})},
                       {"table app.\"Line Items\"", table({col("id", true)})}};
    const json to = {
        {"table public.t", table({col("id", true), col("a", true), col("b", true, "'x'::text"), col("c", false)})},
        {"table app.\"Line Items\"", table({col("id", true), col("sku", true)})},
        {"table public.fresh", table({col("id", true), col("d", true)})}};
    const auto cols = added_not_null_columns(from, to, {});
    ASSERT_EQ(cols.size(), 2U);
    EXPECT_EQ(cols[0].table, "app.\"Line Items\"");
    EXPECT_EQ(cols[0].column, "sku");
    EXPECT_EQ(cols[1].table, "public.t");
    EXPECT_EQ(cols[1].column, "a");
    // a renamed table is counted under its old name; a renamed column is not an added one
    const json renamed_from = {{"table public.old", table({col("id", true), col("x", true)})}};
    const json renamed_to = {{"table public.t", table({col("id", true), col("y", true), col("z", true)})}};
    const auto r = added_not_null_columns(
        renamed_from, renamed_to, {{"table", "public.old", "public.t"}, {"column", "public.old.x", "public.old.y"}});
    ASSERT_EQ(r.size(), 1U);
    EXPECT_EQ(r[0].from_table, "public.old");
    EXPECT_EQ(r[0].column, "z");
}

TEST(ParseBackfill, NamesAndExpression) {
    const json to = {{"table public.orders", table({})},
                     {"table app.orders", table({})},
                     {"table app.\"Line Items\"", table({})},
                     {"table app.only_here", table({})}};
    sd::Backfill b = parse_backfill("public.orders.note='a=b' || id", to);
    EXPECT_EQ(b.table, "public.orders");
    EXPECT_EQ(b.column, "note");
    EXPECT_EQ(b.expression, "'a=b' || id");
    b = parse_backfill("orders.Note=1", to);  // public's, unquoted names fold to lower case
    EXPECT_EQ(b.table, "public.orders");
    EXPECT_EQ(b.column, "note");
    b = parse_backfill("app.\"Line Items\".\"S=K\"='x'", to);
    EXPECT_EQ(b.table, "app.\"Line Items\"");
    EXPECT_EQ(b.column, "S=K");
    EXPECT_EQ(b.expression, "'x'");
    EXPECT_EQ(parse_backfill("only_here.c=1", to).table, "app.only_here");
    for (const char* bad :
         {"orders.note", "note=1", "a.b.c.d=1", "orders.note=", "orders..note=1", "nosuch.c=1", "\"orders.note=1"}) {
        EXPECT_THROW(parse_backfill(bad, to), pgmig::client::Error) << bad;
    }
    const json twice = {{"table app.t", table({})}, {"table other.t", table({})}};
    EXPECT_THROW(parse_backfill("t.c=1", twice), pgmig::client::Error);
}

TEST(UnusedBackfills, AddedOrDroppedNotNullColumnsUseThem) {
    const json from = {{"table public.t", table({col("id", true), col("gone", true)})}};
    const json to = {{"table public.t", table({col("id", true), col("added", true), col("with_default", true, "1")})}};
    const std::vector<sd::Backfill> backfills = {{"public.t", "added", "1", "t.added=1"},
                                                 {"public.t", "gone", "1", "t.gone=1"},
                                                 {"public.t", "with_default", "1", "t.with_default=1"},
                                                 {"public.t", "typo", "1", "t.typo=1"}};
    const auto unused = unused_backfills(backfills, from, to, {});
    ASSERT_EQ(unused.size(), 2U);
    EXPECT_EQ(unused[0].column, "with_default");
    EXPECT_EQ(unused[1].column, "typo");
}
