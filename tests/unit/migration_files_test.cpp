// Unit tests of client/ledger/migration_files: the file grammar and the folder rules.
#include "client/ledger/migration_files.hpp"
#include "client/core/text_bytes.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace fs = std::filesystem;
using namespace pgmig::client;
using namespace std::string_literals;

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

TEST(MigrationFile, DirectivesBeforeAndInsideUpCaptured) {
    const auto m = parse_migration_file("1_a.sql",
                                        "-- A comment\n"
                                        "-- pgmig:no-transaction\n"
                                        "--pgmig:allow  drop-table \n"
                                        "/* a block\n comment */\n"
                                        "\n"
                                        "-- pgmig:refs ISSUE-12\n"
                                        "-- pgmig:up\n"
                                        "-- pgmig:allow rename-column,truncate\n"
                                        "CREATE INDEX CONCURRENTLY i ON t (a);\n");
    ASSERT_EQ(m.directives.size(), 4u);
    EXPECT_EQ(m.directives[0], (Directive{"no-transaction", "", 2}));
    EXPECT_EQ(m.directives[1], (Directive{"allow", "drop-table", 3}));
    EXPECT_EQ(m.directives[2], (Directive{"refs", "ISSUE-12", 7}));
    EXPECT_EQ(m.directives[3], (Directive{"allow", "rename-column,truncate", 9}));
    // Directive lines inside a section stay part of its text.
    EXPECT_EQ(m.up_sql, "-- pgmig:allow rename-column,truncate\nCREATE INDEX CONCURRENTLY i ON t (a);\n");
    EXPECT_EQ(m.up_first_line, 9);
    EXPECT_EQ(m.options, nlohmann::json::parse(
                             R"({"transactional": false, "allow": ["drop-table", "rename-column", "truncate"],
                                 "refs": ["ISSUE-12"]})"));
    EXPECT_FALSE(m.transactional());
}

// The waiver grammar of the extension's lint (docs/reference.md, Waivers): commas or spaces, then "--" and a reason.
TEST(MigrationFile, AllowTakesTheWaiverGrammar) {
    const auto m = parse_migration_file("1_a.sql",
                                        "-- pgmig:up\n"
                                        "-- pgmig:allow drop-column -- nobody reads it since release 42\n"
                                        "ALTER TABLE t DROP COLUMN c;\n"
                                        "-- pgmig:allow rename-column, drop-table  alter-column-type\n"
                                        "SELECT 1;\n");
    EXPECT_EQ(m.options, nlohmann::json::parse(
                             R"({"allow": ["drop-column", "rename-column", "drop-table", "alter-column-type"]})"));
}

// A waiver in the down section belongs to the down script's lint: kept as its text, not a migration option.
TEST(MigrationFile, DownSectionKeepsItsWaivers) {
    const auto m = parse_migration_file("1_a.sql",
                                        "-- pgmig:up\nCREATE TABLE t (id int);\n"
                                        "-- pgmig:down\n-- pgmig:allow drop-table -- generated\nDROP TABLE t;\n");
    ASSERT_TRUE(m.down_sql.has_value());
    EXPECT_EQ(*m.down_sql, "-- pgmig:allow drop-table -- generated\nDROP TABLE t;\n");
    EXPECT_EQ(m.options, nlohmann::json::object());
}

// A waiver is checked as the extension's lint checks one (common/lint_rules.hpp): a rule id it
// does not know, or syntax-error, is refused when the file is read (more cases in BadDirectivesNameFileAndLine).
TEST(MigrationFile, WaiversNameKnownRules) {
    try {
        parse_migration_file("7_x.sql", "-- pgmig:up\n-- pgmig:allow truncate add-column\nSELECT 1;\n");
        ADD_FAILURE() << "accepted";
    } catch (const MigrationFileError& e) {
        EXPECT_EQ(e.reason(), "unknown lint rule \"add-column\" (-- pgmig:allow at line 2)");
        EXPECT_TRUE(contains(e.advice(), "known rules: add-column-not-null-no-default, ")) << e.advice();
        EXPECT_EQ(e.line(), 2);
    }
}

TEST(MigrationFile, EveryDirectiveBecomesAnOption) {
    const auto m = parse_migration_file("1_a.sql",
                                        "-- pgmig:lock-timeout 5s\n"
                                        "-- pgmig:statement-timeout 1min\n"
                                        "-- pgmig:retries 0\n"
                                        "-- pgmig:up\nSELECT 1;\n");
    EXPECT_EQ(m.options, nlohmann::json::parse(R"({"lock_timeout": "5s", "statement_timeout": "1min", "retries": 0})"));
    EXPECT_TRUE(m.transactional());
    EXPECT_EQ(parse_migration_file("2_b.sql", "-- pgmig:up\nSELECT 1;\n").options, nlohmann::json::object());
}

TEST(MigrationFile, BadDirectivesNameFileAndLine) {
    const std::pair<const char*, const char*> cases[] = {
        {"-- pgmig:up\n-- pgmig:no-transation\nSELECT 1;\n", "unknown directive -- pgmig:no-transation (line 2)"},
        {"-- pgmig:frobnicate\n-- pgmig:up\nSELECT 1;\n", "unknown directive -- pgmig:frobnicate (line 1)"},
        {"-- pgmig:retries many\n-- pgmig:up\nSELECT 1;\n", "-- pgmig:retries (line 1) needs a number"},
        {"-- pgmig:retries 101\n-- pgmig:up\nSELECT 1;\n", "from 0 to 100"},
        {"-- pgmig:lock-timeout\n-- pgmig:up\nSELECT 1;\n", "needs a value"},
        {"-- pgmig:no-transaction yes\n-- pgmig:up\nSELECT 1;\n", "takes no value"},
        {"-- pgmig:retries 1\n-- pgmig:up\n-- pgmig:retries 2\nSELECT 1;\n", "(line 3) repeats line 1"},
        {"-- pgmig:allow truncate,,drop-table\n-- pgmig:up\nSELECT 1;\n",
         "-- pgmig:allow at line 1 has an empty item in its list of rules"},
        {"-- pgmig:allow -- only a reason\n-- pgmig:up\nSELECT 1;\n", "-- pgmig:allow at line 1 names no rule"},
        {"-- pgmig:allow ,truncate\n-- pgmig:up\nSELECT 1;\n", "has an empty item in its list of rules"},
        {"-- pgmig:allow truncate, -- why\n-- pgmig:up\nSELECT 1;\n", "has an empty item in its list of rules"},
        {"-- pgmig:allow drop-colum\n-- pgmig:up\nSELECT 1;\n",
         "unknown lint rule \"drop-colum\" (-- pgmig:allow at line 1)"},
        {"-- pgmig:allow syntax-error\n-- pgmig:up\nSELECT 1;\n", "syntax-error cannot be waived"},
        {"-- pgmig:up\nCREATE TABLE t ();\n-- pgmig:down\n-- pgmig:allow drop-tabel\nDROP TABLE t;\n",
         "unknown lint rule \"drop-tabel\" (-- pgmig:allow at line 4)"},
        {"-- pgmig:up\nSELECT 1;\n-- pgmig:down\n-- pgmig:retries 2\nSELECT 2;\n", "in the down section"},
    };
    for (const auto& [content, expected] : cases) {
        try {
            parse_migration_file("7_x.sql", content);
            ADD_FAILURE() << "accepted: " << content;
        } catch (const MigrationFileError& e) {
            EXPECT_EQ(e.file(), "7_x.sql");
            EXPECT_TRUE(contains(e.reason(), expected)) << e.reason();
        }
    }
}

TEST(MigrationFile, FlywayNames) {
    FileName f = classify_file_name("V1_1__add_orders.sql");
    EXPECT_EQ(f.format, FileFormat::flyway);
    EXPECT_EQ(f.version, "1.1");
    EXPECT_EQ(f.name, "add_orders");
    EXPECT_FALSE(f.down);
    f = classify_file_name("V2.5__x.sql");
    EXPECT_EQ(f.version, "2.5");
    f = classify_file_name("U3__undo_it.sql");
    EXPECT_TRUE(f.down);
    EXPECT_EQ(f.version, "3");
    f = classify_file_name("R__views.sql");
    EXPECT_EQ(f.kind, MigrationKind::repeatable);
    EXPECT_EQ(f.name, "views");
    f = classify_file_name("4_x.up.sql");
    EXPECT_EQ(f.format, FileFormat::up_down);
    EXPECT_EQ(f.version, "4");
    EXPECT_EQ(f.name, "x");
    EXPECT_FALSE(f.down);
    EXPECT_TRUE(classify_file_name("4_x.down.sql").down);
    for (const char* bad : {"V__x.sql", "Vx__y.sql", "V1__.sql", "R1__x.sql", "V1__a b.sql", "V1_x.sql", "x.up.sql"}) {
        EXPECT_THROW(classify_file_name(bad), MigrationFileError) << bad;
    }
}

TEST(MigrationFile, FlywayFileIsAllUpScript) {
    const auto m =
        parse_migration_file("V1_1__add.sql", "-- pgmig:no-transaction\nCREATE INDEX CONCURRENTLY i ON t (a);\n");
    EXPECT_EQ(m.version, "1.1");
    EXPECT_EQ(m.label(), "1.1_add");
    EXPECT_EQ(m.up_sql, "-- pgmig:no-transaction\nCREATE INDEX CONCURRENTLY i ON t (a);\n");
    EXPECT_EQ(m.up_first_line, 1);
    EXPECT_FALSE(m.down_sql.has_value());
    EXPECT_EQ(m.options, nlohmann::json::parse(R"({"transactional": false})"));
    EXPECT_THROW(parse_migration_file("V2__x.sql", "-- pgmig:up\nSELECT 1;\n"), MigrationFileError);
}

TEST(MigrationFile, RepeatableHasNoVersionAndTheOption) {
    const auto m = parse_migration_file("R__views.sql", "CREATE OR REPLACE VIEW v AS SELECT 1;\n");
    EXPECT_TRUE(m.repeatable());
    EXPECT_EQ(m.version, "");
    EXPECT_EQ(m.label(), "R__views");
    EXPECT_EQ(m.options, nlohmann::json::parse(R"({"repeatable": true})"));
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

// An up script without a statement is a no-op migration: real projects keep such placeholders (for another
// SQL dialect, or a step another tool needed).
TEST(MigrationFile, EmptyUpIsANoOp) {
    for (const char* content :
         {"-- pgmig:up\n", "-- pgmig:up\n  \n\n-- pgmig:down\nDROP TABLE t;\n", "-- pgmig:up\n-- only a comment\n"}) {
        const MigrationFile m = parse_migration_file("1_a.sql", content);
        EXPECT_FALSE(has_statements(m.up_sql)) << content;
    }
    for (const char* name : {"V1__a.sql", "1_a.up.sql"}) {
        EXPECT_EQ(parse_migration_file(name, "").up_sql, "") << name;
        EXPECT_EQ(parse_migration_file(name, "-- MySQL only\n").up_sql, "-- MySQL only\n") << name;
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

TEST_F(MigrationDir, FlywayAndUpDownPairsAndRepeatables) {
    write("V1__create.sql", "CREATE TABLE a (id int);\n");
    write("U1__create.sql", "DROP TABLE a;\n");
    write("V1_1__more.sql", "CREATE TABLE b (id int);\n");
    write("2_c.up.sql", "CREATE TABLE c (id int);\n");
    write("2_c.down.sql", "DROP TABLE c;\n");
    write("R__views.sql", "CREATE OR REPLACE VIEW v AS SELECT 1;\n");
    write("3_d.sql", kGood);
    const auto ms = load_migration_dir(dir_);
    ASSERT_EQ(ms.size(), 5u);
    EXPECT_EQ(ms[0].label(), "1_create");
    ASSERT_TRUE(ms[0].down_sql.has_value());
    EXPECT_EQ(*ms[0].down_sql, "DROP TABLE a;\n");
    EXPECT_EQ(ms[0].down_path, dir_ / "U1__create.sql");
    EXPECT_EQ(ms[1].label(), "1.1_more");
    EXPECT_FALSE(ms[1].has_down());
    EXPECT_EQ(ms[2].label(), "2_c");
    EXPECT_EQ(*ms[2].down_sql, "DROP TABLE c;\n");
    EXPECT_EQ(ms[3].label(), "3_d");
    EXPECT_EQ(ms[4].label(), "R__views");  // repeatable ones last
}

TEST_F(MigrationDir, DuplicateAcrossFormatsNamesBothFiles) {
    write("V1__a.sql", "SELECT 1;\n");
    write("1_b.sql", kGood);
    const std::string text = load_error().what();
    EXPECT_TRUE(contains(text, "V1__a.sql")) << text;
    EXPECT_TRUE(contains(text, "1_b.sql")) << text;
}

TEST_F(MigrationDir, DuplicateFlywayDottedAndUnderscored) {
    write("V1_1__a.sql", "SELECT 1;\n");
    write("V1.1__b.sql", "SELECT 1;\n");
    const std::string text = load_error().what();
    EXPECT_TRUE(contains(text, "V1_1__a.sql") && contains(text, "V1.1__b.sql")) << text;
}

TEST_F(MigrationDir, DownWithoutUpIsRefused) {
    write("U5__x.sql", "DROP TABLE x;\n");
    auto e = load_error();
    EXPECT_EQ(e.file(), (dir_ / "U5__x.sql").string());
    EXPECT_TRUE(contains(e.reason(), "without its up script")) << e.reason();
}

TEST_F(MigrationDir, UpDownNamesMustMatch) {
    write("6_x.up.sql", "SELECT 1;\n");
    write("6_y.down.sql", "SELECT 2;\n");
    EXPECT_TRUE(contains(load_error().reason(), "name differs")) << load_error().reason();
}

TEST_F(MigrationDir, DirectiveInSeparateDownFileIsRefused) {
    write("V7__x.sql", "SELECT 1;\n");
    write("U7__x.sql", "-- pgmig:no-transaction\nSELECT 2;\n");
    EXPECT_TRUE(contains(load_error().reason(), "in a down script (line 1)"));
}

TEST_F(MigrationDir, WaiverInSeparateDownFileIsChecked) {
    write("V7__x.sql", "CREATE TABLE x ();\n");
    write("U7__x.sql", "-- pgmig:allow drop-table\nDROP TABLE x;\n");
    EXPECT_EQ(load_migration_dir(dir_).size(), 1u);
    write("U7__x.sql", "-- pgmig:allow drop-tables\nDROP TABLE x;\n");
    const auto e = load_error();
    EXPECT_EQ(e.file(), (dir_ / "U7__x.sql").string());
    EXPECT_TRUE(contains(e.reason(), "unknown lint rule \"drop-tables\" (-- pgmig:allow at line 1)")) << e.reason();
    EXPECT_EQ(e.line(), 1);
}

TEST_F(MigrationDir, UnknownDirectiveNamesFileAndLine) {
    write("V8__x.sql", "SELECT 1;\n-- pgmig:no-transactions\nSELECT 2;\n");
    const auto e = load_error();
    EXPECT_EQ(e.file(), (dir_ / "V8__x.sql").string());
    EXPECT_TRUE(contains(e.reason(), "unknown directive -- pgmig:no-transactions (line 2)")) << e.reason();
}

// ---- bytes: NUL and invalid UTF-8 are refused, naming line, column and byte offset ----

TEST(FileBytes, NulByteIsRefusedWithItsPosition) {
    const std::string content = "-- pgmig:up\nCREATE TABLE n1 (x int);\0\nDROP TABLE ok1;\n"s;
    try {
        parse_migration_file("1_nul.sql", content);
        FAIL() << "a NUL byte was accepted";
    } catch (const MigrationFileError& e) {
        EXPECT_EQ(e.problem(), FileProblem::bad_bytes);
        EXPECT_EQ(e.line(), 2);
        EXPECT_EQ(e.file(), "1_nul.sql");
        EXPECT_TRUE(contains(e.reason(), "a NUL byte at line 2, column 25 (byte offset 36)")) << e.reason();
    }
}

TEST(FileBytes, InvalidUtf8IsRefusedInEveryFormat) {
    const std::string bad = "CREATE TABLE t (x text DEFAULT '\xff');\n";
    for (const char* name : {"1_a.sql", "V1__a.sql", "R__a.sql", "1_a.up.sql"}) {
        const std::string content = std::string(name) == "1_a.sql" ? "-- pgmig:up\n" + bad : bad;
        try {
            parse_migration_file(name, content);
            ADD_FAILURE() << name << ": invalid UTF-8 was accepted";
        } catch (const MigrationFileError& e) {
            EXPECT_EQ(e.problem(), FileProblem::bad_bytes) << name;
            EXPECT_TRUE(contains(e.reason(), "invalid UTF-8 (0xff)")) << e.reason();
        }
    }
}

TEST(FileBytes, InvalidUtf8InADirectiveLine) {
    try {
        parse_migration_file("1_a.sql", "-- pgmig:refs T\xc3\x28\n-- pgmig:up\nSELECT 1;\n");
        FAIL() << "invalid UTF-8 was accepted";
    } catch (const MigrationFileError& e) {
        EXPECT_EQ(e.problem(), FileProblem::bad_bytes);
        EXPECT_EQ(e.line(), 1);
        EXPECT_TRUE(contains(e.reason(), "invalid UTF-8 (0xc3 0x28) at line 1, column 16 (byte offset 15)"))
            << e.reason();
    }
}

TEST(FileBytes, PostgresqlRulesForUtf8) {
    // Valid: ASCII, 2-, 3- and 4-byte forms, the edges U+FFFF and U+10FFFF, other control characters.
    for (const std::string ok : {"abc\t\r\n", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\xef\xbf\xbf",
                                 "\xf4\x8f\xbf\xbf", "\x01\x1b"}) {
        EXPECT_FALSE(find_bad_bytes(ok)) << ok;
    }
    // Invalid: overlong forms, surrogates, above U+10FFFF, stray continuation bytes, cut short.
    const std::pair<std::string, std::string> bad[] = {
        {"\xc0\xaf", "(0xc0)"},          {"\xe0\x80\xaf", "(0xe0 0x80)"},
        {"\xed\xa0\x80", "(0xed 0xa0)"}, {"\xf4\x90\x80\x80", "(0xf4 0x90)"},
        {"\xf5\x80\x80\x80", "(0xf5)"},  {"a\x80", "(0x80)"},
        {"\xe2\x82", "(0xe2 0x82)"},     {"\xf0\x9f\x98", "(0xf0 0x9f 0x98)"},
    };
    for (const auto& [text, shown] : bad) {
        const auto found = find_bad_bytes(text);
        ASSERT_TRUE(found) << text;
        EXPECT_TRUE(contains(found->what, shown)) << found->what;
    }
    // Columns count characters, not bytes.
    const auto found = find_bad_bytes("\xc3\xa9\xc3\xa9\n\xe2\x82\xac x \xff");
    ASSERT_TRUE(found);
    EXPECT_EQ(describe(*found), "invalid UTF-8 (0xff) at line 2, column 5 (byte offset 11)");
}

TEST_F(MigrationDir, BadBytesInADownFileAreRefusedWithTheirPath) {
    write("1_a.up.sql", "CREATE TABLE a (id int);\n");
    write("1_a.down.sql", "DROP TABLE a;\0\n"s);
    const MigrationFileError e = load_error();
    EXPECT_EQ(e.problem(), FileProblem::bad_bytes);
    EXPECT_TRUE(contains(e.file(), "1_a.down.sql")) << e.file();
}

TEST_F(MigrationDir, BadBytesKeepTheirKindThroughTheFolder) {
    write("1_a.sql", "-- pgmig:up\nSELECT 1;\0\n"s);
    const MigrationFileError e = load_error();
    EXPECT_EQ(e.problem(), FileProblem::bad_bytes);
    EXPECT_EQ(e.file(), (dir_ / "1_a.sql").string());
    EXPECT_EQ(e.line(), 2);
}

// ---- markers and directives count only where a line begins in code ----

TEST(LexicalDirectives, InsideQuotedIdentifiersAndLiteralsTheyAreText) {
    const MigrationFile m = parse_migration_file("1_a.sql",
                                                 "-- pgmig:up\n"
                                                 "CREATE TABLE public.\"x\n"
                                                 "-- pgmig:allow drop-table --\" (id int);\n"
                                                 "COMMENT ON TABLE public.\"x\n"
                                                 "-- pgmig:allow drop-table --\" IS 'a\n"
                                                 "-- pgmig:no-transaction\n"
                                                 "-- pgmig:down\n"
                                                 "';\n"
                                                 "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $body$\n"
                                                 "-- pgmig:down\n"
                                                 "SELECT 1 $$ $b$ '\n"
                                                 "$body$;\n"
                                                 "/* -- pgmig:no-transaction\n"
                                                 "   /* nested */\n"
                                                 "-- pgmig:allow drop-table\n"
                                                 "*/\n"
                                                 "SELECT E'it\\'s\n"
                                                 "-- pgmig:retries 3\n"
                                                 "';\n"
                                                 "-- pgmig:down\n"
                                                 "DROP TABLE public.\"x\n"
                                                 "-- pgmig:allow drop-table --\";\n");
    EXPECT_TRUE(m.directives.empty()) << m.directives.front().key << " at line " << m.directives.front().line;
    EXPECT_TRUE(m.transactional());
    EXPECT_FALSE(m.options.contains("allow"));
    ASSERT_TRUE(m.down_sql);
    EXPECT_TRUE(contains(*m.down_sql, "DROP TABLE")) << *m.down_sql;
    EXPECT_TRUE(contains(m.up_sql, "SELECT 1 $$ $b$")) << m.up_sql;
}

TEST(LexicalDirectives, RealCommentsStillCount) {
    const MigrationFile m = parse_migration_file("1_a.sql",
                                                 "-- pgmig:no-transaction\n"
                                                 "-- pgmig:up\n"
                                                 "SELECT 'a''b', \"q\"\"x\", $$x$$, a$b, $1; -- pgmig:x is a comment\n"
                                                 "-- pgmig:allow drop-table\n"
                                                 "DROP TABLE t;\n"
                                                 "-- pgmig:down\n"
                                                 "CREATE TABLE t ();\n");
    ASSERT_EQ(m.directives.size(), 2U);
    EXPECT_EQ(m.directives[1].key, "allow");
    EXPECT_EQ(m.directives[1].line, 4);
    EXPECT_FALSE(m.transactional());
    ASSERT_TRUE(m.down_sql);
}

TEST(LexicalDirectives, AMarkerSwallowedByAnUnclosedQuoteIsNamed) {
    try {
        parse_migration_file("1_a.sql",
                             "-- pgmig:up\n"
                             "SELECT 'oops;\n"
                             "-- pgmig:down\n"
                             "SELECT 2;\n");
        FAIL() << "the file was accepted";
    } catch (const MigrationFileError& e) {
        EXPECT_EQ(e.problem(), FileProblem::grammar);
        EXPECT_EQ(e.line(), 3);
        EXPECT_TRUE(contains(e.reason(),
                             "line 3 looks like a -- pgmig: line, but is inside a quoted string that "
                             "begins at line 2"))
            << e.reason();
    }
}

TEST(LexicalDirectives, FlywayDirectivesInsideDollarQuotesAreText) {
    const MigrationFile m = parse_migration_file("V1__a.sql",
                                                 "DO $$\n"
                                                 "-- pgmig:no-transaction\n"
                                                 "BEGIN END $$;\n");
    EXPECT_TRUE(m.directives.empty());
    EXPECT_TRUE(m.transactional());
}

TEST(FolderFormat, NamesRoundTrip) {
    for (const char* name : {"pgmig", "goose", "dbmate", "sql-migrate", "node-pg-migrate", "diesel", "prisma",
                             "drizzle", "popx", "liquibase", "sqitch"}) {
        const auto f = folder_format_named(name);
        ASSERT_TRUE(f.has_value()) << name;
        EXPECT_EQ(folder_format_name(*f), name);
        EXPECT_TRUE(contains(folder_format_names(), name));
    }
    EXPECT_FALSE(folder_format_named("flyway").has_value());  // Flyway's names are part of pgmig's own format
    EXPECT_FALSE(folder_format_named("").has_value());
}

TEST(FolderFormat, PgmigFolderIsDetectedAsPgmig) {
    const auto dir = std::filesystem::temp_directory_path() / ("pgmig_unit_detect_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    std::ofstream(dir / "1_a.sql") << "-- pgmig:up\nSELECT 1;\n";
    std::ofstream(dir / "V2__b.sql") << "SELECT 2;\n";
    EXPECT_EQ(detect_folder_format(dir), FolderFormat::pgmig);
    const auto files = load_migration_dir(dir, FolderFormat::pgmig);
    ASSERT_EQ(files.size(), 2U);
    EXPECT_EQ(files[0].folder_format, FolderFormat::pgmig);
    EXPECT_TRUE(files[0].tool_id.empty());
    std::filesystem::remove_all(dir);
}
