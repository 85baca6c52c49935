// Unit tests of client/audit_log: secrets masked in arguments, the record's fields, one appended line.
#include "client/core/audit_log.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

using namespace pgmig::client;

namespace {
std::vector<std::string> redacted(std::vector<const char*> args) {
    args.insert(args.begin(), "pgmig");
    return redact_arguments(static_cast<int>(args.size()), args.data());
}
}  // namespace

TEST(AuditLog, ConnectionStringsAreNeverRecorded) {
    EXPECT_EQ(redacted({"apply", "-d", "host=db password=hunter2", "--dir", "m"}),
              (std::vector<std::string>{"apply", "-d", "<conninfo>", "--dir", "m"}));
    EXPECT_EQ(redacted({"status", "--dbname", "postgresql://u:hunter2@h/db"}),
              (std::vector<std::string>{"status", "--dbname", "<conninfo>"}));
    EXPECT_EQ(redacted({"status", "--dbname=postgresql://u:hunter2@h/db"}),
              (std::vector<std::string>{"status", "--dbname=<conninfo>"}));
    EXPECT_EQ(redacted({"status", "-dhost=x password=hunter2"}), (std::vector<std::string>{"status", "-d<conninfo>"}));
}

TEST(AuditLog, ArgumentsThatLookLikeSecretsAreMasked) {
    EXPECT_EQ(redacted({"lint", "password = 'x'", "postgres://a:b@c/d", "1_add.sql"}),
              (std::vector<std::string>{"lint", "<redacted>", "<redacted>", "1_add.sql"}));
    EXPECT_EQ(redacted({"approve", "3", "--env", "production"}),
              (std::vector<std::string>{"approve", "3", "--env", "production"}));
}

TEST(AuditLog, OutcomeMessageIsRedacted) {
    // A CLI11 usage error quotes the argument it did not expect.
    const auto record = audit_record(AuditContext{}, 2, "usage",
                                     "The following argument was not expected: postgresql://u:hunter2@h/db");
    const std::string message = record["outcome"]["message"];
    EXPECT_EQ(message, "The following argument was not expected: postgresql://u:<redacted>@h/db");
    EXPECT_EQ(redact_message("bad host=h password=hunter2 sslpassword='s3 \\'cr' port=5"),
              "bad host=h password=<redacted> sslpassword=<redacted> port=5");
    EXPECT_EQ(redact_message("PASSWORD = hunter2 and postgres://a:b/c@d/e"), "PASSWORD=<redacted> and postgres://a:<redacted>@d/e");
    EXPECT_EQ(redact_message("migration 3 failed: relation \"x\" does not exist"),
              "migration 3 failed: relation \"x\" does not exist");
}

TEST(AuditLog, RecordHasEveryField) {
    AuditContext c;
    c.command = "approve";
    c.arguments = {"approve", "3"};
    c.environment = "production";
    c.db_role = "alice";
    c.versions = {"3"};
    const auto ok = audit_record(c, 0, "", "");
    for (const char* key : {"time", "os_user", "db_role", "environment", "target", "command", "arguments", "versions",
                            "outcome", "duration_ms"})
        EXPECT_TRUE(ok.contains(key)) << key;
    EXPECT_EQ(ok["outcome"], (nlohmann::json{{"status", "ok"}, {"exit_code", 0}}));
    EXPECT_EQ(ok["db_role"], "alice");
    EXPECT_TRUE(ok["target"].is_null());
    const std::string time = ok["time"];
    EXPECT_EQ(time.size(), 24u);  // 2026-01-31T12:00:00.123Z
    EXPECT_EQ(time.back(), 'Z');
    const auto failed = audit_record(AuditContext{}, 28, "approval_missing", "2 is not approved");
    EXPECT_EQ(failed["outcome"]["status"], "error");
    EXPECT_EQ(failed["outcome"]["kind"], "approval_missing");
    EXPECT_TRUE(failed["environment"].is_null());
    EXPECT_TRUE(failed["db_role"].is_null());
}

TEST(AuditLog, AppendsOneLineWithItsFolderAndMode0640) {
    const auto dir = std::filesystem::temp_directory_path() / ("pgmig-audit-test-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    const std::string path = (dir / "logs" / "audit.log").string();
    ::umask(022);
    EXPECT_EQ(append_audit_line(path, {{"a", 1}}), "");
    EXPECT_EQ(append_audit_line(path, {{"b", "x\ny"}}), "");
    std::ifstream in(path);
    std::string l1, l2, l3;
    std::getline(in, l1);
    std::getline(in, l2);
    EXPECT_EQ(l1, R"({"a":1})");
    EXPECT_EQ(l2, R"({"b":"x\ny"})");
    EXPECT_FALSE(std::getline(in, l3));
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0640u);
    EXPECT_EQ(append_audit_line("", {{"a", 1}}), "");  // off
    EXPECT_NE(append_audit_line("/proc/pgmig-no/audit.log", {{"a", 1}}), "");
    std::filesystem::remove_all(dir);
}

TEST(AuditLog, EnvironmentOverridesTheProjectFile) {
    ::setenv("PGMIG_AUDIT_LOG", "/tmp/x.log", 1);
    EXPECT_EQ(audit_log_path(), "/tmp/x.log");
    ::setenv("PGMIG_AUDIT_LOG", "", 1);
    EXPECT_EQ(audit_log_path(), "");
    ::unsetenv("PGMIG_AUDIT_LOG");
}
