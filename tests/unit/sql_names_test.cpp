// Unit tests of client/diff/sql_names: the index a CREATE INDEX CONCURRENTLY statement names.
#include "client/core/sql_names.hpp"

#include <gtest/gtest.h>

using namespace pgmig::client;

TEST(ConcurrentIndexTarget, PlainAndUnique) {
    auto t = concurrent_index_target("CREATE UNIQUE INDEX CONCURRENTLY b_idx ON t (b)");
    ASSERT_TRUE(t);
    EXPECT_EQ(t->index, "b_idx");
    EXPECT_EQ(t->table, "t");  // quoted only when needed
    t = concurrent_index_target("create index concurrently if not exists A_Idx on Public.T using btree (a)");
    ASSERT_TRUE(t);
    EXPECT_EQ(t->index, "a_idx");
    EXPECT_EQ(t->table, "public.t");
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

// PostgreSQL's quote_identifier(): bare only for lower-case names that no keyword category but
// UNRESERVED_KEYWORD claims (the list is the server's parser/kwlist.h).
TEST(QuoteIdentifier, KeywordsThatPostgresReservesAreQuoted) {
    EXPECT_EQ(quote_identifier("user"), "\"user\"");      // reserved
    EXPECT_EQ(quote_identifier("select"), "\"select\"");  // reserved
    EXPECT_EQ(quote_identifier("order"), "\"order\"");    // reserved
    EXPECT_EQ(quote_identifier("int"), "\"int\"");        // column-name keyword
    EXPECT_EQ(quote_identifier("left"), "\"left\"");      // type/function-name keyword
}

TEST(QuoteIdentifier, PlainNamesAndUnreservedKeywordsStayBare) {
    EXPECT_EQ(quote_identifier("name"), "name");    // unreserved keyword
    EXPECT_EQ(quote_identifier("value"), "value");  // unreserved keyword
    EXPECT_EQ(quote_identifier("abc_1"), "abc_1");
    EXPECT_EQ(quote_identifier("_x1"), "_x1");
}

TEST(QuoteIdentifier, UpperCaseDollarFirstSpecialAndEmptyAreQuoted) {
    EXPECT_EQ(quote_identifier("Users"), "\"Users\"");
    EXPECT_EQ(quote_identifier("$a"), "\"$a\"");
    EXPECT_EQ(quote_identifier("_x$y"), "\"_x$y\"");  // PostgreSQL quotes a $ too
    EXPECT_EQ(quote_identifier("1a"), "\"1a\"");
    EXPECT_EQ(quote_identifier("a b"), "\"a b\"");
    EXPECT_EQ(quote_identifier("a\"b"), "\"a\"\"b\"");
    EXPECT_EQ(quote_identifier(""), "\"\"");
}
