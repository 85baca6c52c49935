// Unit tests of client/project: finding a file by version.
#include "client/ledger/project.hpp"

#include "client/core/errors.hpp"

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

TEST(LedgerOnly, AllowedByVersionOrRepeatableName) {
    LedgerOnly versioned{
        std::string("100"), "innocuous", std::string(64, 'c'), "adm", "2024-05-01 12:00:00 UTC", "", {}};
    EXPECT_TRUE(ledger_only_allowed(versioned, {"100"}));
    EXPECT_TRUE(ledger_only_allowed(versioned, {"7", "0100"}));  // natural order: 0100 is 100
    EXPECT_FALSE(ledger_only_allowed(versioned, {"10"}));
    EXPECT_FALSE(ledger_only_allowed(versioned, {"R__innocuous", "x"}));
    EXPECT_FALSE(ledger_only_allowed(versioned, {}));
    LedgerOnly repeatable{std::nullopt, "views", std::string(64, 'c'), "adm", "2024-05-01 12:00:00 UTC", "", {}};
    EXPECT_TRUE(ledger_only_allowed(repeatable, {"R__views"}));
    EXPECT_FALSE(ledger_only_allowed(repeatable, {"views"}));
    EXPECT_EQ(versioned.label(), "100_innocuous");
    EXPECT_EQ(repeatable.label(), "R__views");
    EXPECT_EQ(versioned.describe(),
              "migration 100 \"innocuous\" (checksum cccccccccccc), registered by adm at 2024-05-01 12:00:00 UTC");
    EXPECT_EQ(repeatable.describe().rfind("repeatable migration \"views\"", 0), 0u);
}

TEST(LedgerOnly, RefusalNamesEachAndTheOptionThatAllowsIt) {
    const std::vector<LedgerOnly> found{
        {std::string("100"), "innocuous", std::string(64, 'c'), "adm", "2024-05-01 12:00:00 UTC", "", {}},
        {std::nullopt, "views", std::string(64, 'd'), "adm", "2024-05-01 12:00:00 UTC", "", {}}};
    EXPECT_NO_THROW(refuse_ledger_only(found, {"100", "R__views"}, "in migrations", "nothing was applied"));
    try {
        refuse_ledger_only(found, {"100"}, "in migrations", "nothing was applied");
        FAIL() << "not refused";
    } catch (const Error& e) {
        EXPECT_EQ(e.exit_code(), 37);
        EXPECT_NE(e.line().find("repeatable migration \"views\""), std::string::npos) << e.line();
        EXPECT_EQ(e.line().find("migration 100"), std::string::npos) << e.line();
        EXPECT_NE(e.line().find("--allow-ledger-only R__views"), std::string::npos) << e.line();
    }
}
