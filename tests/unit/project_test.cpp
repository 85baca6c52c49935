// Unit tests of client/project: finding a file by version.
#include "client/project.hpp"

#include <gtest/gtest.h>

using namespace pgmig::client;

TEST(FindVersioned, NaturalEquality) {
    std::vector<MigrationFile> files(2);
    files[0].version = "1";
    files[0].name = "a";
    files[1].name = "views";
    files[1].kind = MigrationKind::repeatable;
    EXPECT_EQ(find_versioned(files, "001"), &files[0]);
    EXPECT_EQ(find_versioned(files, "2"), nullptr);
    EXPECT_EQ(find_versioned(files, ""), nullptr);
    EXPECT_EQ(find_versioned(files, "x"), nullptr);
}
