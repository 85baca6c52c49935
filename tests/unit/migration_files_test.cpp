// Unit tests of client/migration_files: the file grammar and the folder rules.
#include "client/migration_files.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace fs = std::filesystem;
using namespace pgmig::client;

namespace {

// A fresh folder per test, removed afterwards.
class MigrationDir : public ::testing::Test {
  protected:
    void SetUp() override {
        std::string tmpl = (fs::temp_directory_path() / "pgmig-unit-XXXXXX").string();
        ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
        dir_ = tmpl;
    }
    void TearDown() override { fs::remove_all(dir_); }

    void write(const std::string& name, const std::string& content) {
        std::ofstream(dir_ / name, std::ios::binary) << content;
    }

    // The error raised by loading the folder; fails the test when loading succeeds.
    MigrationFileError load_error() {
        try {
            load_migration_dir(dir_);
        } catch (const MigrationFileError& e) {
            return e;
        }
        ADD_FAILURE() << "load_migration_dir accepted the folder";
        return MigrationFileError("", "");
    }

    fs::path dir_;
};

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

const char* const kGood =
    "-- Customers of a small shop.\n"
    "-- pgmig:up\n"
    "CREATE TABLE customers (id int);\n"
    "\n"
    "-- pgmig:down\n"
    "DROP TABLE customers;\n";

}  // namespace

TEST_F(MigrationDir, GoodFolderInVersionOrder) {
    write("10_ten.sql", kGood);
    write("2_two.sql", kGood);
    write("1.5_one-and-a-half.sql", kGood);
    const auto migrations = load_migration_dir(dir_);
    ASSERT_EQ(migrations.size(), 3u);
    EXPECT_EQ(migrations[0].version, "1.5");
    EXPECT_EQ(migrations[0].name, "one-and-a-half");
    EXPECT_EQ(migrations[1].label(), "2_two");
    EXPECT_EQ(migrations[2].label(), "10_ten");
    EXPECT_EQ(migrations[1].path, dir_ / "2_two.sql");
    EXPECT_EQ(migrations[1].up_sql, "CREATE TABLE customers (id int);\n\n");
    ASSERT_TRUE(migrations[1].down_sql.has_value());
    EXPECT_EQ(*migrations[1].down_sql, "DROP TABLE customers;\n");
}

TEST(MigrationFile, UpOnlyHasNoDown) {
    const auto m = parse_migration_file("1_a.sql", "-- pgmig:up\nSELECT 1;\n");
    EXPECT_EQ(m.up_sql, "SELECT 1;\n");
    EXPECT_FALSE(m.down_sql.has_value());
    EXPECT_TRUE(m.directives.empty());
}

TEST(MigrationFile, CrlfFile) {
    const auto m =
        parse_migration_file("3_crlf.sql", "-- header\r\n-- pgmig:up\r\nSELECT 1;\r\n-- pgmig:down\r\nSELECT 2;\r\n");
    EXPECT_EQ(m.up_sql, "SELECT 1;\r\n");
    ASSERT_TRUE(m.down_sql.has_value());
    EXPECT_EQ(*m.down_sql, "SELECT 2;\r\n");
}

TEST(MigrationFile, MarkerSpellings) {
    std::string section;
    EXPECT_TRUE(is_section_marker("-- pgmig:up", section));
    EXPECT_EQ(section, "up");
    EXPECT_TRUE(is_section_marker("  --pgmig:down  \r\n", section));
    EXPECT_EQ(section, "down");
    EXPECT_TRUE(is_section_marker("\t--\tpgmig:up\n", section));
    EXPECT_FALSE(is_section_marker("-- pgmig:UP", section));  // case-sensitive
    EXPECT_FALSE(is_section_marker("-- pgmig: up", section));
    EXPECT_FALSE(is_section_marker("-- pgmig:upgrade", section));
    EXPECT_FALSE(is_section_marker("SELECT 1; -- pgmig:up", section));
    EXPECT_FALSE(is_section_marker("- pgmig:up", section));
}

TEST(MigrationFile, DownSectionCaptured) {
    const auto m =
        parse_migration_file("1_a.sql", "-- pgmig:up\nCREATE TABLE t();\n-- pgmig:down\nDROP TABLE t;\n-- bye\n");
    ASSERT_TRUE(m.down_sql.has_value());
    EXPECT_EQ(*m.down_sql, "DROP TABLE t;\n-- bye\n");
    EXPECT_EQ(m.up_sql, "CREATE TABLE t();\n");
}

TEST(MigrationFile, DirectivesBeforeUpCaptured) {
    const auto m = parse_migration_file("1_a.sql",
                                        "-- A comment\n"
                                        "-- pgmig:no-transaction\n"
                                        "--pgmig:allow  drop-table \n"
                                        "/* a block\n comment */\n"
                                        "\n"
                                        "-- pgmig:refs ISSUE-12\n"
                                        "-- pgmig:up\n"
                                        "-- pgmig:allow inside-the-section\n"
                                        "CREATE INDEX CONCURRENTLY i ON t (a);\n");
    ASSERT_EQ(m.directives.size(), 3u);
    EXPECT_EQ(m.directives[0], (Directive{"no-transaction", "", 2}));
    EXPECT_EQ(m.directives[1], (Directive{"allow", "drop-table", 3}));
    EXPECT_EQ(m.directives[2], (Directive{"refs", "ISSUE-12", 7}));
    // Directive lines inside a section stay part of its text.
    EXPECT_EQ(m.up_sql, "-- pgmig:allow inside-the-section\nCREATE INDEX CONCURRENTLY i ON t (a);\n");
}

TEST(MigrationFile, MissingUp) {
    try {
        parse_migration_file("1_a.sql", "-- just a comment\n\n");
        FAIL() << "accepted";
    } catch (const MigrationFileError& e) {
        EXPECT_EQ(e.file(), "1_a.sql");
        EXPECT_TRUE(contains(e.reason(), "no -- pgmig:up section")) << e.reason();
    }
}

TEST(MigrationFile, EmptyUp) {
    for (const char* content :
         {"-- pgmig:up\n", "-- pgmig:up\n  \n\n-- pgmig:down\nDROP TABLE t;\n", "-- pgmig:up\n-- only a comment\n"}) {
        try {
            parse_migration_file("1_a.sql", content);
            ADD_FAILURE() << "accepted: " << content;
        } catch (const MigrationFileError& e) {
            EXPECT_TRUE(contains(e.reason(), "section is empty")) << e.reason();
        }
    }
}

TEST(MigrationFile, StatementsBeforeUp) {
    try {
        parse_migration_file("1_a.sql", "-- fine\nCREATE TABLE t();\n-- pgmig:up\nSELECT 1;\n");
        FAIL() << "accepted";
    } catch (const MigrationFileError& e) {
        EXPECT_TRUE(contains(e.reason(), "statements before -- pgmig:up (line 2)")) << e.reason();
    }
    EXPECT_THROW(parse_migration_file("1_a.sql", "/* ok */ SELECT 1;\n-- pgmig:up\nSELECT 1;\n"), MigrationFileError);
}

TEST(MigrationFile, DuplicateSections) {
    try {
        parse_migration_file("1_a.sql", "-- pgmig:up\nSELECT 1;\n-- pgmig:up\nSELECT 2;\n");
        FAIL() << "accepted";
    } catch (const MigrationFileError& e) {
        EXPECT_TRUE(contains(e.reason(), "a second -- pgmig:up section (line 3)")) << e.reason();
    }
    try {
        parse_migration_file("1_a.sql", "-- pgmig:up\nSELECT 1;\n-- pgmig:down\nSELECT 2;\n-- pgmig:down\nSELECT 3;\n");
        FAIL() << "accepted";
    } catch (const MigrationFileError& e) {
        EXPECT_TRUE(contains(e.reason(), "a second -- pgmig:down section")) << e.reason();
    }
    EXPECT_THROW(parse_migration_file("1_a.sql", "-- pgmig:down\nSELECT 2;\n-- pgmig:up\nSELECT 1;\n"),
                 MigrationFileError);
}

TEST(MigrationFile, FileNames) {
    std::string version;
    std::string name;
    parse_file_name("20240101120000_add_orders-table.sql", version, name);
    EXPECT_EQ(version, "20240101120000");
    EXPECT_EQ(name, "add_orders-table");
    parse_file_name("1.2_x.sql", version, name);
    EXPECT_EQ(version, "1.2");
    EXPECT_EQ(name, "x");
    for (const char* bad : {"create_table.sql", "1.sql", "1_.sql", "_x.sql", "1_a b.sql", "1_a.b.sql", "v1_x.sql",
                            "1..2_x.sql", "1_é.sql"}) {
        EXPECT_THROW(parse_file_name(bad, version, name), MigrationFileError) << bad;
    }
}

TEST_F(MigrationDir, BadNameNamesTheFile) {
    write("1_ok.sql", kGood);
    write("create table.sql", kGood);
    const auto e = load_error();
    EXPECT_EQ(e.file(), (dir_ / "create table.sql").string());
    EXPECT_TRUE(contains(e.advice(), "<version>_<name>.sql")) << e.advice();
}

TEST_F(MigrationDir, BadVersionNamesTheFile) {
    write("v2_orders.sql", kGood);
    const auto e = load_error();
    EXPECT_EQ(e.file(), (dir_ / "v2_orders.sql").string());
    EXPECT_TRUE(contains(e.reason(), "bad version 'v2'")) << e.reason();
}

TEST_F(MigrationDir, DuplicateVersionSpelledDifferently) {
    write("1_a.sql", kGood);
    write("001_b.sql", kGood);
    write("2_c.sql", kGood);
    const auto e = load_error();
    const std::string text = e.what();
    EXPECT_TRUE(contains(text, "1_a.sql")) << text;
    EXPECT_TRUE(contains(text, "001_b.sql")) << text;
}

TEST_F(MigrationDir, MissingUpNamesTheFile) {
    write("1_a.sql", kGood);
    write("2_b.sql", "SELECT 1;\n");
    const auto e = load_error();
    EXPECT_EQ(e.file(), (dir_ / "2_b.sql").string());
}

TEST_F(MigrationDir, NonSqlFilesHiddenFilesAndSubfoldersIgnored) {
    write("1_a.sql", kGood);
    write("README.md", "# not a migration\n");
    write("2_b.sql.bak", "garbage");
    write(".3_hidden.sql", "garbage");
    fs::create_directory(dir_ / "old");
    std::ofstream(dir_ / "old" / "bad name.sql") << "garbage";
    fs::create_directory(dir_ / "4_folder.sql");
    const auto migrations = load_migration_dir(dir_);
    ASSERT_EQ(migrations.size(), 1u);
    EXPECT_EQ(migrations[0].label(), "1_a");
}

TEST_F(MigrationDir, EmptyFolderIsNotAnError) { EXPECT_TRUE(load_migration_dir(dir_).empty()); }

TEST(MigrationFolder, NoSuchFolder) {
    try {
        load_migration_dir("/nonexistent/pgmig/migrations");
        FAIL() << "accepted";
    } catch (const MigrationFileError& e) {
        EXPECT_EQ(e.file(), "/nonexistent/pgmig/migrations");
        EXPECT_EQ(e.reason(), "no such folder");
    }
}
