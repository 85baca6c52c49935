// Unit tests of client/errors: the exit code table and the one-line error format.
#include "client/core/counted.hpp"
#include "client/core/errors.hpp"

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
    EXPECT_EQ(exit_code(ErrorKind::validation), 9);
    EXPECT_EQ(exit_code(ErrorKind::ledger_tampered), 10);
    EXPECT_EQ(exit_code(ErrorKind::out_of_order), 11);
    EXPECT_EQ(exit_code(ErrorKind::rollback_refused), 12);
    EXPECT_EQ(exit_code(ErrorKind::integrity), 17);
    EXPECT_EQ(exit_code(ErrorKind::integrity_regressed), 18);
    EXPECT_EQ(exit_code(ErrorKind::health_failed), 26);
    EXPECT_EQ(exit_code(ErrorKind::health_warnings), 27);
    EXPECT_EQ(exit_code(ErrorKind::diff_found), 31);
    EXPECT_EQ(exit_code(ErrorKind::destructive_withheld), 32);
    EXPECT_EQ(exit_code(ErrorKind::rename_unresolved), 33);
    EXPECT_EQ(exit_code(ErrorKind::schema_load_failed), 34);
    EXPECT_EQ(exit_code(ErrorKind::sync_refused), 35);
    EXPECT_EQ(exit_code(ErrorKind::diff_unsupported), 36);
    EXPECT_EQ(exit_code(ErrorKind::ledger_only), 37);
    EXPECT_EQ(exit_code(ErrorKind::registrant_untrusted), 38);
    EXPECT_EQ(exit_code(ErrorKind::environment_mismatch), 39);
    EXPECT_EQ(exit_code(ErrorKind::nontx_refused), 40);
    EXPECT_EQ(exit_code(ErrorKind::inline_password), 42);
    EXPECT_EQ(exit_code(ErrorKind::bad_bytes), 43);
    EXPECT_EQ(exit_code(ErrorKind::unsafe_search_path), 44);
    EXPECT_EQ(exit_code(ErrorKind::baseline_refused), 49);
    EXPECT_EQ(exit_code(ErrorKind::baseline_rollback_refused), 50);
    EXPECT_EQ(exit_code(ErrorKind::adopt_not_confirmed), 51);
    EXPECT_EQ(exit_code(ErrorKind::adopt_refused), 52);
    EXPECT_EQ(exit_code(ErrorKind::adopt_ledger_differs), 53);
    EXPECT_EQ(exit_code(ErrorKind::bad_conninfo), 54);
    EXPECT_EQ(exit_code(ErrorKind::audit_broken), 13);
    EXPECT_EQ(exit_code(ErrorKind::backup_failed), 19);
    EXPECT_EQ(exit_code(ErrorKind::backup_wrong_key), 20);
    EXPECT_EQ(exit_code(ErrorKind::backup_corrupted), 21);
    EXPECT_EQ(exit_code(ErrorKind::backup_truncated), 22);
    EXPECT_EQ(exit_code(ErrorKind::backup_manifest), 23);
    EXPECT_EQ(exit_code(ErrorKind::restore_mismatch), 24);
    EXPECT_EQ(exit_code(ErrorKind::alert_failed), 25);
    EXPECT_EQ(exit_code(ErrorKind::approval_missing), 28);
    EXPECT_EQ(exit_code(ErrorKind::approval_refused), 29);
    EXPECT_EQ(exit_code(ErrorKind::postflight_failed), 30);
    EXPECT_EQ(exit_code(ErrorKind::orm_schema_failed), 55);
    EXPECT_EQ(exit_code(ErrorKind::rollback_not_confirmed), 56);
    EXPECT_EQ(exit_code(ErrorKind::audit_reseal_refused), 57);
    EXPECT_EQ(exit_code(ErrorKind::applied_edited), 58);
    EXPECT_EQ(exit_code(ErrorKind::permission_denied), 59);
    EXPECT_EQ(exit_code(ErrorKind::not_null_withheld), 60);
    EXPECT_EQ(exit_code(ErrorKind::impact_unknown), 61);
    EXPECT_EQ(exit_code(ErrorKind::sql_version_mismatch), 62);
    EXPECT_EQ(exit_code(ErrorKind::fleet_incomplete), 63);
    EXPECT_EQ(exit_code(ErrorKind::fleet_paused), 64);
    EXPECT_EQ(exit_code(ErrorKind::replication_unordered), 65);
}

// The kinds' names are what --json output and the audit log show: expanded from the table, they must stay the same.
TEST(ErrorTable, KindNamesAreTheTableRowNames) {
    EXPECT_EQ(kind_name(ErrorKind::internal), "internal");
    EXPECT_EQ(kind_name(ErrorKind::approval_missing), "approval_missing");
    EXPECT_EQ(kind_name(ErrorKind::replication_unordered), "replication_unordered");
    for (const auto& info : kErrorKinds) EXPECT_EQ(kind_name(info.kind), info.name);
}

TEST(ErrorTable, ServerSqlstatesMapToKinds) {
    EXPECT_EQ(kind_for_sqlstate("PM001"), ErrorKind::input);
    EXPECT_EQ(kind_for_sqlstate("PM007"), ErrorKind::input);
    EXPECT_EQ(kind_for_sqlstate("PM005"), ErrorKind::input);
    EXPECT_EQ(kind_for_sqlstate("PM002"), ErrorKind::ledger_conflict);
    EXPECT_EQ(kind_for_sqlstate("PM003"), ErrorKind::ledger_conflict);
    EXPECT_EQ(kind_for_sqlstate("PM008"), ErrorKind::ledger_tampered);
    EXPECT_EQ(kind_for_sqlstate("PM009"), ErrorKind::out_of_order);
    EXPECT_EQ(kind_for_sqlstate("PM011"), ErrorKind::rollback_refused);
    EXPECT_EQ(kind_for_sqlstate("PM012"), ErrorKind::internal);
    EXPECT_EQ(kind_for_sqlstate("PM030"), ErrorKind::registrant_untrusted);
    EXPECT_EQ(kind_for_sqlstate("PM031"), ErrorKind::approval_refused);
    EXPECT_EQ(kind_for_sqlstate("PM032"), ErrorKind::approval_missing);
    EXPECT_EQ(kind_for_sqlstate("PM033"), ErrorKind::environment_mismatch);
    EXPECT_EQ(kind_for_sqlstate("PM035"), ErrorKind::nontx_refused);
    EXPECT_EQ(kind_for_sqlstate("PM036"), ErrorKind::nontx_refused);
    EXPECT_EQ(kind_for_sqlstate("PM037"), ErrorKind::nontx_refused);
    EXPECT_EQ(kind_for_sqlstate("PM062"), ErrorKind::adopt_refused);
    EXPECT_EQ(kind_for_sqlstate("PM063"), ErrorKind::adopt_ledger_differs);
    EXPECT_EQ(kind_for_sqlstate("PM004"), ErrorKind::internal);
    EXPECT_EQ(kind_for_sqlstate("PM006"), ErrorKind::input);
    EXPECT_EQ(kind_for_sqlstate("PM010"), ErrorKind::input);
    EXPECT_EQ(kind_for_sqlstate("PM024"), ErrorKind::input);
    EXPECT_EQ(kind_for_sqlstate("PM025"), ErrorKind::approval_refused);
    EXPECT_EQ(kind_for_sqlstate("PM026"), ErrorKind::approval_refused);
    EXPECT_EQ(kind_for_sqlstate("PM064"), ErrorKind::audit_reseal_refused);
    EXPECT_EQ(kind_for_sqlstate("PM065"), ErrorKind::audit_reseal_refused);
    EXPECT_EQ(kind_for_sqlstate("PM066"), ErrorKind::sql_version_mismatch);
    // Raised by the extension, never by the client's own calls: a migration's (or the session's) failure.
    EXPECT_EQ(kind_for_sqlstate("PM013"), ErrorKind::migration_failed);
    EXPECT_EQ(kind_for_sqlstate("PM058"), ErrorKind::migration_failed);
    // A code of class PM that the table does not have (spelt in two parts: error_table_test scans for codes in use).
    EXPECT_EQ(kind_for_sqlstate(std::string("PM") + "999"), ErrorKind::migration_failed);
    EXPECT_EQ(kind_for_sqlstate("55P03"), ErrorKind::migration_failed);
    EXPECT_EQ(kind_for_sqlstate("42P01"), ErrorKind::migration_failed);
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

TEST(ErrorTable, LintHasItsOwnExitCode) {
    EXPECT_EQ(exit_code(ErrorKind::lint_failed), 14);
    EXPECT_EQ(kind_for_sqlstate("PM017"), ErrorKind::lint_failed);  // migrate_apply refused by pgmig.lint_block
    EXPECT_EQ(kind_for_sqlstate("PM016"), ErrorKind::input);        // unknown rule in a waiver
}

// Dry run and rollback tests.
TEST(ErrorTable, RehearsalCodes) {
    EXPECT_EQ(exit_code(ErrorKind::rehearsal_failed), 15);
    EXPECT_EQ(exit_code(ErrorKind::scratch_database), 16);
    EXPECT_EQ(kind_for_sqlstate("PM019"), ErrorKind::rehearsal_failed);
    EXPECT_EQ(kind_for_sqlstate("PM020"), ErrorKind::rehearsal_failed);
    EXPECT_EQ(kind_for_sqlstate("PM021"), ErrorKind::rehearsal_failed);
}

TEST(Counted, SingularForExactlyOne) {
    EXPECT_EQ(counted(1, "script"), "1 script");
    EXPECT_EQ(counted(0, "script"), "0 scripts");
    EXPECT_EQ(counted(2, "pending migration"), "2 pending migrations");
    EXPECT_EQ(counted(3, "advice", "advice"), "3 advice");
}
