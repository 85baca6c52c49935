// Unit tests of client/errors: the exit code table and the one-line error format.
#include "client/errors.hpp"

#include <gtest/gtest.h>

#include <set>

using namespace pgmig::client;

TEST(ErrorTable, ExitCodesAreTheDocumentedOnes) {
    EXPECT_EQ(exit_code(ErrorKind::internal), 1);
    EXPECT_EQ(exit_code(ErrorKind::usage), 2);
    EXPECT_EQ(exit_code(ErrorKind::input), 3);
    EXPECT_EQ(exit_code(ErrorKind::connect), 4);
    EXPECT_EQ(exit_code(ErrorKind::migration_failed), 5);
    EXPECT_EQ(exit_code(ErrorKind::ledger_conflict), 6);
    EXPECT_EQ(exit_code(ErrorKind::local_cluster), 7);
    EXPECT_EQ(exit_code(ErrorKind::extension), 8);
}

TEST(ErrorTable, CodesAreUniqueAndNotZero) {
    std::set<int> codes;
    for (const auto& info : kErrorKinds) {
        EXPECT_NE(info.exit_code, kExitOk);
        EXPECT_TRUE(codes.insert(info.exit_code).second) << info.exit_code;
    }
}

TEST(ErrorTable, HelpListsEveryCode) {
    const std::string help = exit_codes_help();
    for (const auto& info : kErrorKinds) EXPECT_NE(help.find(std::string(info.meaning)), std::string::npos);
}

TEST(ErrorLine, WhatWhereNext) {
    Error e(ErrorKind::input, "no -- pgmig:up section", "in migrations/2_x.sql", "add one");
    EXPECT_EQ(e.line(), "no -- pgmig:up section, in migrations/2_x.sql; add one");
    EXPECT_EQ(e.exit_code(), 3);
}

TEST(ErrorLine, MultiLineTextBecomesOneLine) {
    Error e(ErrorKind::connect, "cannot connect: connection failed:\n  FATAL:  no\n", "to host=x", "check it");
    EXPECT_EQ(e.line(), "cannot connect: connection failed: FATAL: no, to host=x; check it");
    EXPECT_EQ(e.line().find('\n'), std::string::npos);
}

TEST(OneLine, CollapsesWhitespace) {
    EXPECT_EQ(one_line("  a \n\t b\r\n"), "a b");
    EXPECT_EQ(one_line(""), "");
}
