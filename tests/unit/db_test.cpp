// Unit tests of client/db: connection-string problems are named by their parameter, never by a value.
#include "client/core/db.hpp"

#include <gtest/gtest.h>

using namespace pgmig::client;

TEST(ConninfoProblem, AcceptsWhatLibpqParses) {
    EXPECT_FALSE(conninfo_problem("").has_value());
    EXPECT_FALSE(conninfo_problem("host=/tmp dbname=x user=y").has_value());
    EXPECT_FALSE(conninfo_problem("postgresql://u@localhost:5432/db?sslmode=disable").has_value());
}

TEST(ConninfoProblem, NamesAnUnknownParameterNotItsValue) {
    const auto problem = conninfo_problem("dbname=x bogus=S3cret");
    ASSERT_TRUE(problem.has_value());
    EXPECT_EQ(*problem, "unknown connection parameter \"bogus\"");
    const auto uri = conninfo_problem("postgresql://u:S3cret@localhost/db?bogus=1");
    ASSERT_TRUE(uri.has_value());
    EXPECT_EQ(*uri, "unknown connection parameter \"bogus\"");
}

TEST(ConninfoProblem, NeverQuotesTheString) {
    for (const char* bad : {"postgresql://u:S3cret%zz@localhost/db", "dbname='S3cret", "S3cretword", "x", "dbname=x y",
                            "postgresql://[S3cret", "password S3cret"}) {
        const auto problem = conninfo_problem(bad);
        ASSERT_TRUE(problem.has_value()) << bad;
        EXPECT_EQ(problem->find("S3cret"), std::string::npos) << *problem;
    }
}

TEST(ParameterValueProblem, NamesTheParameterOfABadValue) {
    EXPECT_EQ(parameter_value_problem("invalid sslmode value: \"S3cret\""),
              "the connection parameter \"sslmode\" has an invalid value (not shown: a value may be a secret)");
    EXPECT_NE(parameter_value_problem("invalid port number: \"S3cret\"")->find("\"port\""), std::string::npos);
    EXPECT_NE(parameter_value_problem("invalid integer value \"S3cret\" for connection option \"keepalives\"")
                  ->find("\"keepalives\""),
              std::string::npos);
    EXPECT_NE(parameter_value_problem("invalid target_session_attrs value: \"x\"")->find("target_session_attrs"),
              std::string::npos);
    EXPECT_FALSE(parameter_value_problem("connection to server on socket \"/tmp/.s.PGSQL.5432\" failed: No such file "
                                         "or directory")
                     .has_value());
    EXPECT_FALSE(parameter_value_problem("FATAL:  password authentication failed for user \"u\"").has_value());
}
