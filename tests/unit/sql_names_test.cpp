// Unit tests of client/diff/sql_names: the index a CREATE INDEX CONCURRENTLY statement names.
#include "client/diff/sql_names.hpp"

#include <gtest/gtest.h>

using namespace pgmig::client;

TEST(ConcurrentIndexTarget, PlainAndUnique) {
    auto t = concurrent_index_target("CREATE UNIQUE INDEX CONCURRENTLY b_idx ON t (b)");
    ASSERT_TRUE(t);
    EXPECT_EQ(t->index, "b_idx");
    EXPECT_EQ(t->table, "\"t\"");
    t = concurrent_index_target("create index concurrently if not exists A_Idx on Public.T using btree (a)");
    ASSERT_TRUE(t);
    EXPECT_EQ(t->index, "a_idx");
    EXPECT_EQ(t->table, "\"public\".\"t\"");
}

TEST(ConcurrentIndexTarget, QuotedNamesAndComments) {
    auto t = concurrent_index_target("-- why\nCREATE INDEX /* c */ CONCURRENTLY \"My \"\"Idx\" ON ONLY \"S\".\"T\"(a)");
    ASSERT_TRUE(t);
    EXPECT_EQ(t->index, "My \"Idx");
    EXPECT_EQ(t->table, "\"S\".\"T\"");
}

TEST(ConcurrentIndexTarget, NotApplicable) {
    EXPECT_FALSE(concurrent_index_target("CREATE INDEX CONCURRENTLY ON t (a)"));  // no name
    EXPECT_FALSE(concurrent_index_target("CREATE INDEX i ON t (a)"));
    EXPECT_FALSE(concurrent_index_target("VACUUM t"));
}
