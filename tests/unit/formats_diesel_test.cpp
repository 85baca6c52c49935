// Unit tests of the diesel reader (client/ledger/formats/diesel.cpp).
#include "tests/unit/formats_test_util.hpp"

using namespace pgmig::client;
using pgmig::client::testing::contains;

namespace {

class DieselDir : public pgmig::client::testing::FormatDir {};

}  // namespace

TEST_F(DieselDir, DetectedBySubfoldersWithUpSql) {
    write("README.md", "diesel migrations\n");
    write("2024-01-31-120000_create_users/up.sql", "CREATE TABLE users (id int);\n");
    EXPECT_EQ(detect_folder_format(dir_), FolderFormat::diesel);
}

TEST_F(DieselDir, NotDetectedWithoutUpSql) {
    write("1_a.sql", "-- pgmig:up\nSELECT 1;\n");
    write("notes/readme.txt", "not a migration\n");
    write(".hidden/up.sql", "SELECT 1;\n");  // hidden folders are not diesel's
    EXPECT_EQ(detect_folder_format(dir_), FolderFormat::pgmig);
}

TEST_F(DieselDir, ReadsEveryMigrationInDieselsOrder) {
    write("00000000000000_diesel_initial_setup/up.sql",
          "CREATE FUNCTION diesel_x() RETURNS int AS $$ SELECT 1 $$ LANGUAGE sql;\n");
    write("00000000000000_diesel_initial_setup/down.sql", "DROP FUNCTION diesel_x();\n");
    write("2024-02-01-090000_add_posts/up.sql", "CREATE TABLE posts (id int);\n");
    write("2024-01-31-120000_create_users/up.sql", "CREATE TABLE users (id int);\n");
    write("2024-01-31-120000_create_users/down.sql", "DROP TABLE users;\n");
    write("2024-01-31-120000_create_users/notes.txt", "ignored, as diesel ignores it\n");
    write("README.md", "ignored\n");
    const auto files = load();
    ASSERT_EQ(files.size(), 3U);
    EXPECT_EQ(files[0].version, "00000000000000");
    EXPECT_EQ(files[0].name, "diesel_initial_setup");
    EXPECT_EQ(files[0].tool_id, "00000000000000");
    EXPECT_EQ(files[1].version, "20240131120000");  // '-' removed, as diesel's version_from_string does
    EXPECT_EQ(files[1].tool_id, "20240131120000");
    EXPECT_EQ(files[1].name, "create_users");
    EXPECT_EQ(files[1].file_name, "2024-01-31-120000_create_users/up.sql");
    EXPECT_EQ(files[1].path, dir_ / "2024-01-31-120000_create_users" / "up.sql");
    ASSERT_TRUE(files[1].down_sql.has_value());
    EXPECT_EQ(*files[1].down_sql, "DROP TABLE users;\n");
    EXPECT_EQ(files[1].down_path, dir_ / "2024-01-31-120000_create_users" / "down.sql");
    EXPECT_EQ(files[2].name, "add_posts");
    EXPECT_FALSE(files[2].down_sql.has_value());  // no down.sql: not rollbackable
    for (const auto& f : files) {
        EXPECT_EQ(f.folder_format, FolderFormat::diesel);
        EXPECT_EQ(f.format, FileFormat::tool);
        EXPECT_TRUE(f.transactional());
    }
}

TEST_F(DieselDir, DieselsNewerVersionsWithASuffix) {
    // diesel 2.2 names folders 2025-12-29-110242-0000_x: diesel's version 202512291102420000 sorts as text before
    // the older style's 20260120162913, so pgmig's version keeps the suffix as a group of its own.
    write("2024-02-12-120203_remove_index/up.sql", "SELECT 1;\n");
    write("2025-12-29-110242-0000_add_queue/up.sql", "SELECT 2;\n");
    write("2026-01-20-162913_oauth_table/up.sql", "SELECT 3;\n");
    write("2026-01-20-162913-0001_same_second/up.sql", "SELECT 4;\n");
    const auto files = load(FolderFormat::diesel);
    ASSERT_EQ(files.size(), 4U);
    EXPECT_EQ(files[0].version, "20240212120203");
    EXPECT_EQ(files[1].version, "20251229110242.0000");
    EXPECT_EQ(files[1].tool_id, "202512291102420000");
    EXPECT_EQ(files[2].version, "20260120162913");
    EXPECT_EQ(files[2].name, "oauth_table");
    EXPECT_EQ(files[3].version, "20260120162913.0001");
    EXPECT_EQ(files[3].tool_id, "202601201629130001");
}

TEST_F(DieselDir, MetadataRunInTransaction) {
    write("1_off/up.sql", "CREATE INDEX CONCURRENTLY i ON t (a);\n");
    write("1_off/metadata.toml", "run_in_transaction = false\n");
    write("2_on/up.sql", "SELECT 1;\n");
    write("2_on/metadata.toml", "run_in_transaction = true\n");
    // diesel reads the key with serde's field default: a metadata.toml without it means false.
    write("3_other_keys/up.sql", "SELECT 1;\n");
    write("3_other_keys/metadata.toml", "# no key\nsomething_else = 1\n");
    write("4_no_file/up.sql", "SELECT 1;\n");
    const auto files = load();
    ASSERT_EQ(files.size(), 4U);
    EXPECT_FALSE(files[0].transactional());
    EXPECT_TRUE(files[1].transactional());
    EXPECT_FALSE(files[2].transactional());
    EXPECT_TRUE(files[3].transactional());
}

TEST_F(DieselDir, BadMetadataIsRefusedWithItsLine) {
    write("1_a/up.sql", "SELECT 1;\n");
    write("1_a/metadata.toml", "# comment\nrun_in_transaction = \n");
    auto e = load_error();
    EXPECT_TRUE(contains(e.file(), "metadata.toml")) << e.file();
    EXPECT_TRUE(contains(e.reason(), "not valid TOML")) << e.reason();
    EXPECT_EQ(e.line(), 2);
    write("1_a/metadata.toml", "\nrun_in_transaction = \"no\"\n");
    e = load_error();
    EXPECT_TRUE(contains(e.reason(), "run_in_transaction is not true or false (line 2)")) << e.reason();
}

TEST_F(DieselDir, FolderWithoutUpSqlIsRefused) {
    write("1_a/up.sql", "SELECT 1;\n");
    write("2_b/down.sql", "SELECT 1;\n");
    const auto e = load_error(FolderFormat::diesel);
    EXPECT_TRUE(contains(e.file(), "2_b")) << e.file();
    EXPECT_TRUE(contains(e.reason(), "without up.sql")) << e.reason();
}

TEST_F(DieselDir, VersionMustBeDigits) {
    write("v1_a/up.sql", "SELECT 1;\n");
    const auto e = load_error();
    EXPECT_TRUE(contains(e.reason(), "diesel's version of this folder is 'v1'")) << e.reason();
}

TEST_F(DieselDir, SameDieselVersionTwiceIsRefused) {
    write("2019-01-01-000000_a/up.sql", "SELECT 1;\n");
    write("20190101000000_b/up.sql", "SELECT 2;\n");
    const auto e = load_error();
    EXPECT_TRUE(contains(e.reason(), "diesel's version 20190101000000 is also that of")) << e.reason();
}

TEST_F(DieselDir, TextOrderDisagreeingWithNumbersIsRefused) {
    // diesel runs "10_b" before "9_a" (text); pgmig would run 9 first.
    write("9_a/up.sql", "SELECT 1;\n");
    write("10_b/up.sql", "SELECT 2;\n");
    const auto e = load_error();
    EXPECT_TRUE(contains(e.reason(), "diesel compares versions as text")) << e.reason();
}

TEST_F(DieselDir, EmptyUpScriptIsANoOp) {
    write("1_placeholder/up.sql", "");
    write("2_comments/up.sql", "-- only for MySQL\n");
    const auto files = load();
    ASSERT_EQ(files.size(), 2U);
    EXPECT_FALSE(has_statements(files[0].up_sql));
    EXPECT_FALSE(has_statements(files[1].up_sql));
}

TEST_F(DieselDir, DownScriptThatRunsNothingRollsBackAsANoOp) {
    // diesel runs such a down.sql and records the migration reverted: pgmig's rollback passes it too.
    write("1_a/up.sql", "CREATE TABLE a (id int);\n");
    write("1_a/down.sql", "-- Not reversible\n");
    write("2_b/up.sql", "CREATE TABLE b (id int);\n");
    const auto files = load();
    ASSERT_EQ(files.size(), 2U);
    ASSERT_TRUE(files[0].down_sql.has_value());
    EXPECT_TRUE(has_statements(*files[0].down_sql));
    EXPECT_TRUE(files[0].down_sql->starts_with("-- Not reversible\nSELECT; -- nothing to undo: diesel"))
        << *files[0].down_sql;
    EXPECT_FALSE(files[1].down_sql.has_value());  // no down.sql: not rollbackable
}

TEST_F(DieselDir, BadBytesAreRefusedNamingTheFile) {
    write("1_a/up.sql", std::string("SELECT 1;\n\0", 11));
    const auto e = load_error(FolderFormat::diesel);
    EXPECT_EQ(e.problem(), FileProblem::bad_bytes);
    EXPECT_TRUE(contains(e.file(), "1_a/up.sql")) << e.file();
}
