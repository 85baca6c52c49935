// Unit tests of client/config: pgmig.toml and the default migrations folder.
#include "client/config.hpp"

#include "client/errors.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;
using namespace pgmig::client;

namespace {

class ConfigDir : public ::testing::Test {
  protected:
    void SetUp() override {
        std::string tmpl = (fs::temp_directory_path() / "pgmig-config-XXXXXX").string();
        ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
        dir_ = tmpl;
        old_ = fs::current_path();
        fs::current_path(dir_);
    }
    void TearDown() override {
        fs::current_path(old_);
        fs::remove_all(dir_);
    }
    void write(const std::string& content) { std::ofstream(dir_ / kConfigFile) << content; }

    fs::path dir_, old_;
};

}  // namespace

TEST_F(ConfigDir, NoFileMeansMigrations) { EXPECT_EQ(resolve_migrations_dir(""), "migrations"); }

TEST_F(ConfigDir, FileSetsTheDefaultDir) {
    write("migrations = \"db/changes\"\n");
    EXPECT_EQ(resolve_migrations_dir(""), "db/changes");
    EXPECT_EQ(resolve_migrations_dir("other"), "other");  // --dir wins
}

TEST_F(ConfigDir, UnknownKeyIsNamed) {
    write("migrations = \"m\"\nenvironment = \"prod\"\n");
    try {
        resolve_migrations_dir("");
        FAIL() << "accepted";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::input);
        EXPECT_NE(e.line().find("unknown key 'environment'"), std::string::npos) << e.line();
        EXPECT_NE(e.line().find("pgmig.toml"), std::string::npos) << e.line();
    }
}

TEST_F(ConfigDir, WrongTypeAndSyntaxErrors) {
    write("migrations = 3\n");
    EXPECT_THROW(resolve_migrations_dir(""), Error);
    write("migrations = \n");
    try {
        resolve_migrations_dir("");
        FAIL() << "accepted";
    } catch (const Error& e) {
        EXPECT_NE(e.line().find("line 1"), std::string::npos) << e.line();
    }
}
