// Unit tests of client/approvals: what a refused deploy is told, and the exit codes of approvals.
#include "client/ops/approvals.hpp"
#include "client/core/errors.hpp"

#include <gtest/gtest.h>

using namespace pgmig::client;

namespace {
ApprovalItem item(const std::string& version, const std::string& status) {
    ApprovalItem i;
    i.version = version;
    i.name = "m" + version;
    i.checksum = std::string(64, 'a');
    i.status = status;
    i.registrant = "alice";
    return i;
}
}  // namespace

TEST(Approvals, AllApprovedIsOk) {
    ApprovalCheck c{"production", "alice", {item("1", "approved"), item("2", "approved")}};
    EXPECT_TRUE(c.ok());
    EXPECT_TRUE(c.missing().empty());
    EXPECT_EQ(c.describe(), "");
    EXPECT_TRUE(ApprovalCheck{}.ok());  // nothing pending
}

TEST(Approvals, DescribeSaysWhatIsMissingAndWhatToRun) {
    ApprovalItem repeatable = item("", "insufficient");
    repeatable.version.reset();
    repeatable.name = "views";
    repeatable.required = 2;
    repeatable.approvers = {"bob"};
    ApprovalCheck c{"production",
                    "alice",
                    {item("1", "approved"), item("2", "missing"), item("3", "self_approved"),
                     item("4", "checksum_changed"), repeatable}};
    EXPECT_FALSE(c.ok());
    ASSERT_EQ(c.missing().size(), 4u);
    const std::string d = c.describe();
    EXPECT_NE(d.find("4 of 5 migrations to deploy are not approved for production:"), std::string::npos) << d;
    EXPECT_NE(d.find("migration 2 \"m2\" (checksum aaaaaaaaaaaa): no approval; run `pgmig approve 2 --env production` "
                     "as a member of pgmig_approver other than alice, who registers it"),
              std::string::npos)
        << d;
    EXPECT_NE(d.find("migration 3 \"m3\" (checksum aaaaaaaaaaaa): approved only by its registrant"), std::string::npos);
    EXPECT_NE(d.find("migration 4 \"m4\" (checksum aaaaaaaaaaaa): its script changed after it was approved"),
              std::string::npos);
    EXPECT_NE(d.find("repeatable migration \"views\" (checksum aaaaaaaaaaaa): 1 of the 2 approvals required; run "
                     "`pgmig approve R__views --env production`"),
              std::string::npos)
        << d;
    EXPECT_EQ(d.find("migration 1 "), std::string::npos);
    const auto j = c.to_json();
    EXPECT_EQ(j["approved"], false);
    EXPECT_EQ(j["migrations"].size(), 5u);
    EXPECT_EQ(j["migrations"][2]["status"], "self_approved");
    EXPECT_EQ(j["migrations"][2]["registrant"], "alice");
    EXPECT_TRUE(j["migrations"][4]["version"].is_null());
}

TEST(Approvals, ExitCodesAndSqlstates) {
    EXPECT_EQ(exit_code(ErrorKind::approval_missing), 28);
    EXPECT_EQ(exit_code(ErrorKind::approval_refused), 29);
    EXPECT_EQ(kind_for_sqlstate("PM024"), ErrorKind::input);
    EXPECT_EQ(kind_for_sqlstate("PM025"), ErrorKind::approval_refused);
    EXPECT_EQ(kind_for_sqlstate("PM026"), ErrorKind::approval_refused);
    EXPECT_EQ(kind_for_sqlstate("PM031"), ErrorKind::approval_refused);
    EXPECT_EQ(kind_for_sqlstate("PM032"), ErrorKind::approval_missing);
    EXPECT_EQ(kind_name(ErrorKind::approval_missing), "approval_missing");
    EXPECT_EQ(kind_name(ErrorKind::integrity_regressed), "integrity_regressed");
}
