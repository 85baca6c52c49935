// Unit tests of client/project: durations and finding a file by version.
#include "client/project.hpp"

#include <gtest/gtest.h>

using namespace pgmig::client;

TEST(Duration, Units) {
    EXPECT_EQ(parse_duration_ms("500ms"), 500);
    EXPECT_EQ(parse_duration_ms("250"), 250);
    EXPECT_EQ(parse_duration_ms("2s"), 2000);
    EXPECT_EQ(parse_duration_ms("1min"), 60000);
    for (const char* bad : {"", "s", "1h", "-1s", "1.5s", " 1s"}) EXPECT_FALSE(parse_duration_ms(bad)) << bad;
}

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
