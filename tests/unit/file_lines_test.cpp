// Unit tests of client/file_lines: script lines (what the extension reports) turned into file lines.
#include "client/ledger/file_lines.hpp"
#include "client/ops/monitor.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace fs = std::filesystem;
using namespace pgmig::client;

namespace {

class FileLines : public ::testing::Test {
  protected:
    void SetUp() override {
        std::string tmpl = (fs::temp_directory_path() / "pgmig-unit-XXXXXX").string();
        ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
        dir_ = tmpl;
        // The up script starts at line 4 of the file, the down script at line 9.
        std::ofstream(dir_ / "3_orders.sql", std::ios::binary)
            << "-- Orders.\n-- more words\n-- pgmig:up\nCREATE TABLE orders (id bigint);\n\nALTER TABLE orders\n"
               "  ADD COLUMN note text;\n-- pgmig:down\nDROP TABLE orders;\n";
        std::ofstream(dir_ / "V4__flyway.sql", std::ios::binary) << "SELECT 1;\n";
        std::ofstream(dir_ / "U4__flyway.sql", std::ios::binary) << "SELECT 2;\n";
        files_ = load_migration_dir(dir_);
        ASSERT_EQ(files_.size(), 2U);
    }
    void TearDown() override { fs::remove_all(dir_); }

    fs::path dir_;
    std::vector<MigrationFile> files_;
};

TEST_F(FileLines, ScriptLinesBecomeFileLines) {
    const MigrationFile& f = files_[0];
    EXPECT_EQ(f.up_first_line, 4);
    EXPECT_EQ(down_first_line(f), 9);
    EXPECT_EQ(file_line(f, false, 3), 6);
    EXPECT_EQ(file_line(f, true, 1), 9);
    // A separate down file counts from its own first line.
    EXPECT_EQ(down_first_line(files_[1]), 1);
    EXPECT_EQ(script_file(files_[1], true), (dir_ / "U4__flyway.sql").string());
}

TEST_F(FileLines, ApplyAndRollbackErrors) {
    const std::string file = (dir_ / "3_orders.sql").string();
    ServerError e{"42P07", "migration 3 \"orders\" failed: relation \"orders\" already exists",
                  "error at line 4 of the up script, in the statement starting at line 3: ALTER TABLE orders", ""};
    ServerError out = in_file_lines(e, files_);
    EXPECT_EQ(out.message, e.message);
    EXPECT_EQ(out.detail,
              "error at line 7 of " + file + " (up script), in the statement starting at line 6: ALTER TABLE orders");
    e = {"42P01", "migration 3 \"orders\" failed to roll back: table \"orders\" does not exist",
         "statement at line 1 of the down script: DROP TABLE orders;", ""};
    EXPECT_EQ(in_file_lines(e, files_).detail, "statement at line 9 of " + file + " (down script): DROP TABLE orders;");
    // A syntax error found before anything runs, and pgmig.lint_block's findings (PM017).
    e = {"42601", "migration 3 \"orders\" has a syntax error in its up script at line 2, column 1: syntax error", "",
         ""};
    EXPECT_EQ(
        in_file_lines(e, files_).message,
        "migration 3 \"orders\" has a syntax error in its up script at line 5 of " + file + ", column 1: syntax error");
    e = {"PM017", "migration 3 \"orders\" has lint findings that block migrate_apply() here: [drop-column] at line 3",
         "migration 3 \"orders\", line 3: error [drop-column] ...", ""};
    out = in_file_lines(e, files_);
    EXPECT_EQ(out.message,
              "migration 3 \"orders\" has lint findings that block migrate_apply() here: [drop-column] at "
              "line 6 of " +
                  file);
    EXPECT_EQ(out.detail, "migration 3 \"orders\", line 6 of " + file + ": error [drop-column] ...");
    // An error about another migration (migration 13 is not migration 3) is left as it is.
    e = {"XX000", "migration 13 \"orders\" failed: x", "statement at line 1 of the up script: SELECT", ""};
    EXPECT_EQ(in_file_lines(e, files_).detail, e.detail);
}

TEST_F(FileLines, ProgressLine) {
    nlohmann::json session = nlohmann::json::parse(R"({"pid": 7, "state": "active", "elapsed_ms": 1200,
        "statement": "ALTER TABLE orders", "lock_waits": [], "blockers": [], "index_build": null,
        "wait_event": null, "wait_event_type": null,
        "migration": {"label": "migration 3 \"orders\"", "version": "3", "index": 1, "count": 1,
                      "direction": "up", "statement": 2, "statements": 2, "line": 3, "transactional": true}})");
    nlohmann::json unmapped = session;
    EXPECT_NE(describe_session(unmapped).find("(line 3 of the up script)"), std::string::npos)
        << describe_session(unmapped);
    session_in_file_lines(session, files_);
    EXPECT_EQ(session["migration"]["line"], 6);
    EXPECT_NE(describe_session(session).find("(line 6 of " + (dir_ / "3_orders.sql").string() + ")"), std::string::npos)
        << describe_session(session);
}

}  // namespace
