// Unit tests of client/process: running programs with captured output, and the access walk.
#include "client/core/process.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>

using namespace pgmig::client;

TEST(RunProcess, CapturesOutputAndExitCode) {
    const ProcessResult r = run_process({"/bin/sh", "-c", "echo out; echo err >&2; exit 3"}, "/", std::nullopt);
    EXPECT_EQ(r.exit_code, 3);
    EXPECT_EQ(r.output, "out\nerr\n");
}

TEST(RunProcess, RunsInTheGivenFolder) {
    const ProcessResult r = run_process({"/bin/pwd"}, "/tmp", std::nullopt);
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_EQ(r.output, "/tmp\n");
}

TEST(RunProcess, MissingProgramFails) {
    const ProcessResult r = run_process({"/nonexistent/program"}, "/", std::nullopt);
    EXPECT_EQ(r.exit_code, 127);
    EXPECT_NE(r.output.find("cannot execute"), std::string::npos);
}

TEST(FindOsUser, RootExistsAndNonsenseDoesNot) {
    const auto root = find_os_user("root");
    ASSERT_TRUE(root.has_value());
    EXPECT_EQ(root->uid, 0u);
    EXPECT_FALSE(find_os_user("no-such-user-pgmig").has_value());
}

// Needs root (to switch users) and an unprivileged account (nobody).
TEST(FirstUnreachableFolder, NamesThePrivateAncestor) {
    if (geteuid() != 0) GTEST_SKIP() << "needs root";
    const auto nobody = find_os_user("nobody");
    if (!nobody) GTEST_SKIP() << "no OS user nobody";
    std::string tmpl = "/tmp/pgmig-unit-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);  // mode 0700, owned by root
    const std::filesystem::path base = tmpl;
    EXPECT_EQ(first_unreachable_folder((base / "a" / "b").string(), *nobody),
              std::optional<std::string>(base.string()));
    std::filesystem::permissions(base, std::filesystem::perms(0755));
    // Reachable, but base itself is not writable by nobody.
    EXPECT_EQ(first_unreachable_folder(base.string(), *nobody), std::optional<std::string>(base.string()));
    EXPECT_EQ(first_unreachable_folder((base / "not-yet").string(), *nobody), std::nullopt);
    EXPECT_EQ(first_unreachable_folder("/tmp", *nobody), std::nullopt);
    std::filesystem::remove_all(base);
}
