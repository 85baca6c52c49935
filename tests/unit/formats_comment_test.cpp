// Unit tests of the comment-directive folder readers (client/ledger/formats/: goose, dbmate, sql-migrate,
// node-pg-migrate, Ory popx, Liquibase formatted SQL): every rule each reader follows or refuses.
#include "client/ledger/formats/comment_readers.hpp"
#include "client/ledger/formats/support.hpp"
#include "client/ledger/migration_files.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace fs = std::filesystem;
using namespace pgmig::client;
using namespace pgmig::client::formats;

namespace {

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// A fresh folder per test, removed afterwards.
class Folder : public ::testing::Test {
  protected:
    void SetUp() override {
        std::string tmpl = (fs::temp_directory_path() / "pgmig-formats-XXXXXX").string();
        ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
        dir_ = tmpl;
    }
    void TearDown() override { fs::remove_all(dir_); }

    void write(const std::string& name, const std::string& content) {
        fs::create_directories((dir_ / name).parent_path());
        std::ofstream(dir_ / name, std::ios::binary) << content;
    }
    std::vector<MigrationFile> load(std::optional<FolderFormat> f = std::nullopt) {
        return load_migration_dir(dir_, f);
    }
    MigrationFileError load_error(std::optional<FolderFormat> f = std::nullopt) {
        try {
            load_migration_dir(dir_, f);
        } catch (const MigrationFileError& e) {
            return e;
        }
        ADD_FAILURE() << "the folder was accepted";
        return MigrationFileError("", "");
    }

    fs::path dir_;
};

// The error a parse throws; fails the test when it parses.
template <typename F>
MigrationFileError error_of(F&& f) {
    try {
        f();
    } catch (const MigrationFileError& e) {
        return e;
    }
    ADD_FAILURE() << "accepted";
    return MigrationFileError("", "");
}

// ---------------------------------------------------------------- goose

TEST(Goose, UpDownStatementBlocksAndVersion) {
    const std::string text =
        "-- a header comment\n"
        "-- +goose Up\n"
        "CREATE TABLE t (id int);\n"
        "-- +goose StatementBegin\n"
        "CREATE FUNCTION f() RETURNS int AS $$ BEGIN RETURN 1; END; $$ LANGUAGE plpgsql;\n"
        "-- +goose StatementEnd\n"
        "-- +goose Down\n"
        "DROP FUNCTION f();\n"
        "DROP TABLE t;\n";
    const MigrationFile m = parse_goose_file("00042_create_t.sql", text);
    EXPECT_EQ(m.version, "42");
    EXPECT_EQ(m.tool_id, "42");  // goose_db_version.version_id
    EXPECT_EQ(m.name, "create_t");
    EXPECT_EQ(m.up_first_line, 3);
    EXPECT_TRUE(contains(m.up_sql, "CREATE TABLE t"));
    EXPECT_TRUE(contains(m.up_sql, "-- +goose StatementBegin"));  // left as the comment it is
    EXPECT_FALSE(contains(m.up_sql, "DROP TABLE"));
    ASSERT_TRUE(m.down_sql.has_value());
    EXPECT_EQ(*m.down_sql, "DROP FUNCTION f();\nDROP TABLE t;\n");
    EXPECT_TRUE(m.transactional());
}

TEST(Goose, NoTransactionAnywhereAndCaseInsensitive) {
    const MigrationFile m = parse_goose_file(
        "20240101120000_idx.sql", "-- +goose NO TRANSACTION\n--+goose up\nCREATE INDEX CONCURRENTLY i ON t (a);\n");
    EXPECT_FALSE(m.transactional());
    EXPECT_EQ(m.version, "20240101120000");
    // goose rolls back a migration without a Down section by running nothing: so does pgmig.
    ASSERT_TRUE(m.down_sql.has_value());
    EXPECT_EQ(*m.down_sql, "SELECT; -- nothing to undo: goose rolls this migration back by running nothing\n");
}

TEST(Goose, Refusals) {
    const auto reason = [](const std::string& text) {
        return error_of([&] { parse_goose_file("1_a.sql", text); }).reason();
    };
    EXPECT_TRUE(contains(reason("-- only a comment\n"), "no -- +goose Up"));
    EXPECT_TRUE(contains(reason("-- +goose Up\nSELECT 1;\n-- +goose Up\n"), "a second -- +goose Up (line 3)"));
    EXPECT_TRUE(contains(reason("-- +goose Down\n"), "Down before -- +goose Up (line 1)"));
    EXPECT_TRUE(contains(reason("-- +goose Up\n-- +goose StatementBegin\nSELECT 1;\n"),
                         "StatementBegin without a StatementEnd (line 2)"));
    EXPECT_TRUE(contains(reason("-- +goose Up\n-- +goose StatementEnd\n"), "StatementEnd without a StatementBegin"));
    EXPECT_TRUE(contains(reason("-- +goose Up\n-- +goose StatementBegin\n-- +goose StatementBegin\n"),
                         "inside the block of line 2"));
    EXPECT_TRUE(contains(reason("-- +goose Up\n-- +goose StatementBegin\n-- +goose Down\n"), "inside the Statement"));
    EXPECT_TRUE(contains(reason("-- +goose Up\n-- +goose Sideways\n"), "unknown annotation +goose Sideways (line 2)"));
    EXPECT_TRUE(contains(reason("-- +goose Up\n  -- +goose StatementBegin\n"), "leading whitespace"));
    EXPECT_TRUE(contains(reason("-- +goose ENVSUB ON\n-- +goose Up\nSELECT '${X}';\n"), "ENVSUB ON"));
    EXPECT_TRUE(contains(reason("SELECT 1;\n-- +goose Up\n"), "SQL before -- +goose Up (line 1)"));
    EXPECT_TRUE(contains(reason("-- pgmig:up\n-- +goose Up\n"), "pgmig's own -- pgmig:up marker"));
    const MigrationFileError e = error_of([] { parse_goose_file("1_a.sql", "-- +goose Up\n-- +goose Bad\n"); });
    EXPECT_EQ(e.line(), 2);
    EXPECT_TRUE(contains(error_of([] { parse_goose_file("x_a.sql", "-- +goose Up\n"); }).reason(),
                         "not a goose migration name"));
    EXPECT_TRUE(
        contains(error_of([] { parse_goose_file("0_a.sql", "-- +goose Up\n"); }).reason(), "greater than zero"));
    // ENVSUB OFF is goose's default: nothing to do.
    EXPECT_NO_THROW(parse_goose_file("1_a.sql", "-- +goose ENVSUB OFF\n-- +goose Up\nSELECT 1;\n"));
}

TEST_F(Folder, GooseFolderDetectedOrderedAndChecked) {
    write("00002_b.sql", "-- +goose Up\nCREATE TABLE b ();\n-- +goose Down\nDROP TABLE b;\n");
    write("00010_c.sql", "-- +goose Up\n");  // empty: a no-op
    write("1_a.sql", "-- +goose Up\nCREATE TABLE a ();\n");
    write("README.md", "not a migration");
    EXPECT_EQ(detect_folder_format(dir_), FolderFormat::goose);
    const auto files = load();
    ASSERT_EQ(files.size(), 3U);
    EXPECT_EQ(files[0].version, "1");
    EXPECT_EQ(files[1].version, "2");
    EXPECT_EQ(files[2].version, "10");
    EXPECT_EQ(files[2].tool_id, "10");
    EXPECT_EQ(files[1].folder_format, FolderFormat::goose);
    EXPECT_EQ(files[1].format, FileFormat::tool);
    write("002_dup.sql", "-- +goose Up\nSELECT 1;\n");
    EXPECT_TRUE(contains(load_error().reason(), "version 2 is also used by"));
}

TEST_F(Folder, GooseGoMigrationIsRefused) {
    write("00001_a.sql", "-- +goose Up\nSELECT 1;\n");
    write("00002_b.go", "package migrations\n");
    write("helpers.go", "package migrations\n");  // no version: goose ignores it too
    EXPECT_TRUE(contains(load_error().reason(), "a goose Go migration"));
}

TEST_F(Folder, PgmigSectionsAndGooseMarkersInOneFolderAreRefused) {
    write("1_a.sql", "-- pgmig:up\nCREATE TABLE a ();\n");
    write("2_b.sql", "-- +goose Up\nCREATE TABLE b ();\n");
    EXPECT_EQ(detect_folder_format(dir_), FolderFormat::goose);
    const MigrationFileError e = load_error();
    EXPECT_TRUE(contains(e.reason(), "pgmig's own -- pgmig:up marker in a folder read as goose")) << e.reason();
    EXPECT_TRUE(contains(e.file(), "1_a.sql"));
}

TEST_F(Folder, PgmigFolderIsNotClaimedByAnyReader) {
    write("1_a.sql", "-- pgmig:up\nCREATE TABLE a ();\n-- pgmig:down\nDROP TABLE a;\n");
    write("2_b.up.sql", "CREATE TABLE b ();\n");
    write("2_b.down.sql", "DROP TABLE b;\n");
    write("V3__c.sql", "-- Up Migration is mentioned here, but not as a marker: SELECT 1\nSELECT 1;\n");
    EXPECT_EQ(detect_folder_format(dir_), FolderFormat::pgmig);
}

// ---------------------------------------------------------------- dbmate

TEST(Dbmate, SectionsOptionsAndVersion) {
    const MigrationFile m = parse_dbmate_file(
        "20240101120000_add_idx.sql",
        "-- migrate:up transaction:false\nCREATE INDEX CONCURRENTLY i ON t (a);\n\n-- migrate:down\nDROP INDEX i;\n");
    EXPECT_EQ(m.version, "20240101120000");
    EXPECT_EQ(m.tool_id, "20240101120000");
    EXPECT_EQ(m.name, "add_idx");
    EXPECT_FALSE(m.transactional());
    EXPECT_EQ(m.up_first_line, 2);
    EXPECT_EQ(m.up_sql, "CREATE INDEX CONCURRENTLY i ON t (a);\n\n");
    EXPECT_EQ(*m.down_sql, "DROP INDEX i;\n");
    const MigrationFile plain = parse_dbmate_file("001_x.sql", "--migrate:up\nSELECT 1;\n--migrate:down\n");
    EXPECT_TRUE(plain.transactional());
    EXPECT_EQ(plain.tool_id, "001");  // as written: dbmate stores the digits, leading zeros included
    EXPECT_EQ(*plain.down_sql, "SELECT; -- nothing to undo: dbmate rolls this migration back by running nothing\n");
}

TEST(Dbmate, Refusals) {
    const auto reason = [](const std::string& text) {
        return error_of([&] { parse_dbmate_file("1_a.sql", text); }).reason();
    };
    EXPECT_TRUE(contains(reason("-- only a comment\n"), "no -- migrate:up marker"));
    EXPECT_TRUE(contains(reason("-- migrate:up\nSELECT 1;\n"), "no -- migrate:down marker"));
    EXPECT_TRUE(contains(reason("-- migrate:down\n-- migrate:up\n"), "-- migrate:down before -- migrate:up (line 1)"));
    EXPECT_TRUE(contains(reason("-- migrate:up\n-- migrate:down\n-- migrate:up\n-- migrate:down\n"),
                         "a second -- migrate:up section"));
    EXPECT_TRUE(contains(reason("-- migrate:up\n-- migrate:down\n-- migrate:down\n"), "a second -- migrate:down"));
    EXPECT_TRUE(contains(reason("SELECT 1;\n-- migrate:up\n-- migrate:down\n"), "SQL before -- migrate:up (line 1)"));
    EXPECT_TRUE(contains(reason("-- migrate:up transaction:maybe\n-- migrate:down\n"),
                         "unknown dbmate option 'transaction:maybe'"));
    EXPECT_TRUE(contains(reason("-- migrate:up\nSELECT 1;\n-- migrate:down transaction:false\n"),
                         "-- migrate:down transaction:false on a migration whose up runs in a transaction"));
    // A marker needs its own word: -- migrate:upgrade is SQL comment text.
    EXPECT_TRUE(contains(reason("-- migrate:upgrade\n"), "no -- migrate:up marker"));
}

TEST_F(Folder, DbmateOrderIsFileNameOrder) {
    write("20240102000000_b.sql", "-- migrate:up\nCREATE TABLE b ();\n-- migrate:down\nDROP TABLE b;\n");
    write("20240101000000_a.sql", "-- migrate:up\nCREATE TABLE a ();\n-- migrate:down\nDROP TABLE a;\n");
    write("schema.sql", "CREATE TABLE dumped ();\n");  // not a migration for dbmate (no leading digits)
    EXPECT_EQ(detect_folder_format(dir_), FolderFormat::dbmate);
    const auto files = load();
    ASSERT_EQ(files.size(), 2U);
    EXPECT_EQ(files[0].name, "a");
    // 9_x sorts after 10_y by name, as dbmate applies them, but before it by number: refused.
    write("9_x.sql", "-- migrate:up\n-- migrate:down\n");
    write("10_y.sql", "-- migrate:up\n-- migrate:down\n");
    const std::string why = load_error().reason();
    EXPECT_TRUE(contains(why, "dbmate applies 20240102000000_b.sql before 9_x.sql (dbmate sorts by file name)")) << why;
}

// ---------------------------------------------------------------- sql-migrate

TEST(SqlMigrate, SectionsInEitherOrderNoTransactionBlocks) {
    const MigrationFile m = parse_sql_migrate_file(
        "3_f.sql",
        "-- +migrate Down\nDROP FUNCTION f();\n-- +migrate Up notransaction\n-- +migrate StatementBegin\n"
        "CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql;\n-- +migrate StatementEnd\n");
    EXPECT_EQ(m.tool_id, "3_f.sql");  // gorp_migrations.id
    EXPECT_FALSE(m.transactional());
    EXPECT_EQ(m.up_first_line, 4);
    EXPECT_TRUE(contains(m.up_sql, "CREATE FUNCTION"));
    EXPECT_EQ(*m.down_sql, "DROP FUNCTION f();\n\n\n\n\n");  // the Up lines emptied, the file's lines kept
    // Only a Down section: the up script runs nothing, as for sql-migrate.
    const MigrationFile d = parse_sql_migrate_file("4_x.sql", "-- +migrate Down\nSELECT 1;\n");
    EXPECT_FALSE(has_statements(d.up_sql));
    // A Down section without statements rolls back by running nothing, as sql-migrate does.
    const MigrationFile e =
        parse_sql_migrate_file("5_x.sql", "-- +migrate Up\nSELECT 1;\n-- +migrate Down\n-- nothing\n");
    EXPECT_EQ(*e.down_sql,
              "-- nothing\nSELECT; -- nothing to undo: sql-migrate rolls this migration back by running nothing\n");
}

// sql-migrate adds repeated sections to their direction's script, in file order.
TEST(SqlMigrate, RepeatedSectionsAccumulate) {
    const MigrationFile m =
        parse_sql_migrate_file("1_a.sql",
                               "-- +migrate Up\nCREATE TABLE a ();\n"
                               "-- +migrate Down\nDROP TABLE a;\n"
                               "-- +migrate Up notransaction\nCREATE INDEX CONCURRENTLY i ON a ();\n"
                               "-- +migrate Down\nDROP INDEX i;\n");
    EXPECT_EQ(m.up_sql, "CREATE TABLE a ();\n\n\n\nCREATE INDEX CONCURRENTLY i ON a ();\n\n\n");
    EXPECT_EQ(*m.down_sql, "DROP TABLE a;\n\n\n\nDROP INDEX i;\n");
    EXPECT_FALSE(m.transactional());  // one notransaction holds for the whole direction
    EXPECT_EQ(m.up_first_line, 2);
}

TEST(SqlMigrate, Refusals) {
    const auto reason = [](const std::string& text) {
        return error_of([&] { parse_sql_migrate_file("1_a.sql", text); }).reason();
    };
    EXPECT_TRUE(contains(reason("-- only a comment\n"), "no -- +migrate Up or Down command"));
    EXPECT_TRUE(contains(reason("SELECT 1;\n-- +migrate Up\n"),
                         "SQL before -- +migrate Up (line 1), which sql-migrate would skip"));
    EXPECT_TRUE(contains(reason("-- +migrate Up\n-- +migrate StatementBegin\nSELECT 1;\n"),
                         "StatementBegin without a StatementEnd (line 2)"));
    EXPECT_TRUE(
        contains(reason("-- +migrate Up\n-- +migrate StatementEnd\n"), "StatementEnd without a StatementBegin"));
    EXPECT_TRUE(contains(reason("-- +migrate Up\n-- +migrate StatementBegin\n-- +migrate Down\n"),
                         "inside the StatementBegin block"));
    EXPECT_TRUE(contains(reason("-- +migrate Up\n-- +migrate Sideways\n"), "unknown command -- +migrate Sideways"));
    EXPECT_TRUE(contains(reason("-- +migrate Up fast\n"), "unknown option 'fast'"));
    EXPECT_TRUE(contains(reason("-- +migrate Up\nSELECT 1;\n-- +migrate Down notransaction\n"),
                         "Down notransaction on a migration whose up runs in a transaction"));
    EXPECT_TRUE(contains(reason("-- +migrate \n"), "incomplete"));
}

TEST_F(Folder, SqlMigrateOrderAndSynthesizedVersions) {
    const std::string empty = "-- +migrate Up\n";
    for (const char* name : {"init.sql", "10_c.sql", "2_b.sql", "2_a.sql", "later.sql", "1_x.sql"}) write(name, empty);
    EXPECT_EQ(detect_folder_format(dir_), FolderFormat::sql_migrate);
    const auto files = load();
    std::vector<std::string> got;
    for (const auto& f : files) got.push_back(f.tool_id + "=" + f.version);
    // Numbers first by value (2_a and 2_b share 2: by name), then the other names by name.
    EXPECT_EQ(got, (std::vector<std::string>{"1_x.sql=1", "2_a.sql=2.1", "2_b.sql=2.2", "10_c.sql=10",
                                             "init.sql=9223372036854775808.1", "later.sql=9223372036854775808.2"}));
}

// ---------------------------------------------------------------- node-pg-migrate

TEST(NodePgMigrate, MarkersAndName) {
    const MigrationFile m = parse_node_pg_migrate_file(
        "1700000000000_add-users.sql", "-- Up Migration\nCREATE TABLE u ();\n-- Down Migration\nDROP TABLE u;\n");
    EXPECT_EQ(m.tool_id, "1700000000000_add-users");  // pgmigrations.name
    EXPECT_EQ(m.version, "1700000000000");
    EXPECT_EQ(m.name, "add-users");
    EXPECT_EQ(m.up_sql, "CREATE TABLE u ();\n");
    EXPECT_EQ(*m.down_sql, "DROP TABLE u;\n");
    // Markers as node-pg-migrate's regular expression takes them, Down first allowed.
    const MigrationFile d = parse_node_pg_migrate_file(
        "2_x.sql", "  --- down migration\nDROP TABLE u;\n--UP   MIGRATION\nCREATE TABLE u ();\n");
    EXPECT_EQ(d.up_sql, "CREATE TABLE u ();\n");
    EXPECT_EQ(*d.down_sql, "DROP TABLE u;\n");
    // No marker: the whole file is the up migration, and it has no down.
    const MigrationFile w = parse_node_pg_migrate_file("3_y.sql", "CREATE TABLE w ();\n");
    EXPECT_EQ(w.up_sql, "CREATE TABLE w ();\n");
    EXPECT_FALSE(w.down_sql.has_value());  // irreversible for node-pg-migrate
    const MigrationFile e = parse_node_pg_migrate_file("4_z.sql", "-- Up Migration\nSELECT 1;\n-- Down Migration\n");
    EXPECT_TRUE(contains(*e.down_sql, "SELECT; -- nothing to undo"));
}

TEST(NodePgMigrate, Refusals) {
    const auto reason = [](const std::string& text) {
        return error_of([&] { parse_node_pg_migrate_file("1_a.sql", text); }).reason();
    };
    EXPECT_TRUE(contains(reason("DROP TABLE u;\n-- Down Migration\n"), "without an -- Up Migration marker"));
    EXPECT_TRUE(contains(reason("-- Up Migration\n-- Up Migration\n"), "a second -- Up Migration marker (line 2)"));
    EXPECT_TRUE(contains(reason("-- Up Migration\n-- pgmig:down\n"), "pgmig's own"));
    EXPECT_TRUE(contains(error_of([] { parse_node_pg_migrate_file("a.sql", "-- Up Migration\n"); }).reason(),
                         "does not start with digits"));
}

TEST_F(Folder, NodePgMigrateOrderAndScripts) {
    write("1700000000001_b.sql", "-- Up Migration\nSELECT 2;\n");
    write("1700000000000_a.sql", "-- Up Migration\nSELECT 1;\n");
    write("README.md", "docs");
    EXPECT_EQ(detect_folder_format(dir_), FolderFormat::node_pg_migrate);
    auto files = load();
    ASSERT_EQ(files.size(), 2U);
    EXPECT_EQ(files[0].tool_id, "1700000000000_a");
    write("1700000000002_c.js", "exports.up = () => {};\n");
    EXPECT_TRUE(contains(load_error().reason(), "JavaScript/TypeScript migration"));
}

TEST_F(Folder, NodePgMigrateEqualNumbersGetDistinctVersions) {
    write("5_b.sql", "-- Up Migration\nSELECT 2;\n");
    write("5_a.sql", "-- Up Migration\nSELECT 1;\n");
    const auto files = load(FolderFormat::node_pg_migrate);
    ASSERT_EQ(files.size(), 2U);
    EXPECT_EQ(files[0].tool_id, "5_a");
    EXPECT_EQ(files[0].version, "5.1");
    EXPECT_EQ(files[1].version, "5.2");
}

// ---------------------------------------------------------------- popx

TEST_F(Folder, PopxChoosesPostgresThenDialectLessAndIgnoresOthers) {
    const std::string v1 = "20200101000000000001", v2 = "20200101000000000002", v3 = "20200101000000000003";
    write(v1 + "_ids.postgres.up.sql", "CREATE TABLE ids (id uuid);\n");
    write(v1 + "_ids.up.sql", "CREATE TABLE generic ();\n");
    write(v1 + "_ids.mysql.up.sql", "CREATE TABLE ids (id char(36));\n");
    write(v1 + "_ids.down.sql", "DROP TABLE ids;\n");
    write(v2 + "_mysql_only.mysql.up.sql", "ALTER TABLE ids ENGINE=InnoDB;\n");
    write(v2 + "_mysql_only.mysql.down.sql", "");
    write(v3 + "_idx.postgres.autocommit.up.sql", "CREATE INDEX CONCURRENTLY i ON ids (id);\n");
    write(v3 + "_idx.postgres.down.sql", "DROP INDEX i;\n");
    write(v3 + "_idx.sqlite3.up.sql", "");
    write(v3 + "_idx.sqlite3.down.sql", "");
    write(v3 + "_idx.oracle.up.sql", "");  // a dialect pop does not know: popx ignores it
    EXPECT_EQ(detect_folder_format(dir_), FolderFormat::popx);
    const auto files = load();
    ASSERT_EQ(files.size(), 2U);
    EXPECT_EQ(files[0].version, v1);
    EXPECT_EQ(files[0].tool_id, v1);
    EXPECT_EQ(files[0].up_sql, "CREATE TABLE ids (id uuid);\n");
    EXPECT_EQ(*files[0].down_sql, "DROP TABLE ids;\n");
    EXPECT_TRUE(files[0].transactional());
    EXPECT_EQ(files[1].version, v3);
    EXPECT_FALSE(files[1].transactional());
    EXPECT_EQ(files[1].name, "idx");
}

TEST_F(Folder, PopxFolderWithAnOldSqlMigrateLineIsPopx) {
    write("1_a.cockroach.up.sql", "-- Empty for CockroachDB\n\n-- +migrate Up\n");
    write("1_a.postgres.up.sql", "SELECT 1;\n");
    write("1_a.down.sql", "");
    EXPECT_EQ(detect_folder_format(dir_), FolderFormat::popx);
}

TEST_F(Folder, PopxEmptyFilesAreNoOps) {
    write("1_a.postgres.up.sql", "");
    write("1_a.postgres.down.sql", "-- nothing\n");
    const auto files = load();
    ASSERT_EQ(files.size(), 1U);
    EXPECT_FALSE(has_statements(files[0].up_sql));
}

TEST_F(Folder, PopxRefusals) {
    write("1_a.postgres.up.sql", "SELECT 1;\n");
    EXPECT_TRUE(contains(load_error().reason(), "has no down file"));
    write("1_a.mysql.down.sql", "");
    // A down file of another dialect satisfies popx; on PostgreSQL it rolls back by running nothing.
    EXPECT_TRUE(contains(*load().at(0).down_sql, "SELECT; -- nothing to undo: popx"));
    write("2_b.postgres.up.sql", "{{ if .IsPostgreSQL }}SELECT 1;{{ end }}\n");
    write("2_b.down.sql", "");
    EXPECT_TRUE(contains(load_error().reason(), "Go template action"));
    fs::remove(dir_ / "2_b.postgres.up.sql");
    write("2_b.up.sql", "SELECT 2;\n");
    write("2_c.up.sql", "SELECT 3;\n");
    EXPECT_TRUE(contains(load_error().reason(), "two dialect-less files"));
    fs::remove(dir_ / "2_c.up.sql");
    write("x.sql", "");
    EXPECT_TRUE(contains(load_error().reason(), "not a popx migration name"));
    fs::remove(dir_ / "x.sql");
    write("3_c.postgres.autocommit.up.sql", "SELECT 1;\n");
    write("3_c.postgres.autocommit.down.sql", "SELECT 1;\n");
    EXPECT_NO_THROW(load());
    fs::remove(dir_ / "3_c.postgres.autocommit.up.sql");
    write("3_c.postgres.up.sql", "SELECT 1;\n");
    EXPECT_TRUE(contains(load_error().reason(), ".autocommit. down file for an up file that runs in a transaction"));
}

TEST_F(Folder, PopxStringOrderMustBeNumberOrder) {
    write("9_a.postgres.up.sql", "");
    write("9_a.down.sql", "");
    write("10_b.postgres.up.sql", "");
    write("10_b.down.sql", "");
    EXPECT_TRUE(contains(load_error().reason(), "popx applies 10_b.postgres.up.sql before 9_a.postgres.up.sql"));
}

TEST_F(Folder, PlainUpDownPairsStayPgmig) {
    write("1_a.up.sql", "CREATE TABLE a ();\n");
    write("1_a.down.sql", "DROP TABLE a;\n");
    EXPECT_EQ(detect_folder_format(dir_), FolderFormat::pgmig);
}

// ---------------------------------------------------------------- Liquibase formatted SQL

const char* const kChangelog =
    "--liquibase formatted sql\n"
    "\n"
    "--changeset alice:1\n"
    "--comment: the first table\n"
    "CREATE TABLE a (id int);\n"
    "--rollback DROP TABLE a;\n"
    "\n"
    "--changeset bob:create-f splitStatements:false context:prod labels:x\n"
    "CREATE FUNCTION f() RETURNS int AS $$ BEGIN RETURN 1; END; $$ LANGUAGE plpgsql;\n"
    "/* liquibase rollback\n"
    "DROP FUNCTION f();\n"
    "*/\n"
    "\n"
    "--changeset alice:3 runInTransaction:false\n"
    "CREATE INDEX CONCURRENTLY a_id ON a (id);\n"
    "--rollback DROP INDEX CONCURRENTLY a_id;\n"
    "\n"
    "--changeset alice:4 dbms:mysql\n"
    "ALTER TABLE a ENGINE=InnoDB;\n"
    "\n"
    "--changeset alice:5 dbms:postgresql,h2\n"
    "--preconditions onFail:HALT\n"
    "--ignoreLines:start\n"
    "this is not SQL\n"
    "--ignoreLines:end\n"
    "COMMENT ON TABLE a IS 'x';\n"
    "--rollback not required\n";

TEST(Liquibase, ChangesetsInFileOrder) {
    const auto ms = parse_liquibase_file("db/changes.sql", kChangelog, "changes.sql", 2);
    ASSERT_EQ(ms.size(), 4U);  // alice:4 is for MySQL only
    EXPECT_EQ(ms[0].version, "2.1");
    EXPECT_EQ(ms[0].name, "1");
    EXPECT_EQ(ms[0].tool_id, "1:alice:changes.sql");
    EXPECT_EQ(ms[0].up_first_line, 4);
    EXPECT_TRUE(contains(ms[0].up_sql, "CREATE TABLE a"));
    EXPECT_FALSE(contains(ms[0].up_sql, "DROP TABLE"));
    EXPECT_EQ(*ms[0].down_sql, "DROP TABLE a;\n");
    EXPECT_EQ(ms[1].tool_id, "create-f:bob:changes.sql");
    EXPECT_EQ(*ms[1].down_sql, "DROP FUNCTION f();\n");
    EXPECT_FALSE(contains(ms[1].up_sql, "DROP FUNCTION"));  // the rollback block is not run on the way up
    EXPECT_FALSE(ms[2].transactional());
    EXPECT_EQ(ms[3].version, "2.5");  // its place in the file, the skipped changeset counted
    EXPECT_FALSE(contains(ms[3].up_sql, "this is not SQL"));
    EXPECT_TRUE(contains(ms[3].up_sql, "COMMENT ON TABLE"));
    EXPECT_TRUE(contains(*ms[3].down_sql, "SELECT; -- nothing to undo"));  // not required: nothing to undo
    // Line numbers stay the file's: blanked lines keep their place.
    EXPECT_EQ(std::count(ms[3].up_sql.begin(), ms[3].up_sql.end(), '\n'), 6);
}

TEST(Liquibase, LogicalFilePathAndRollbackToAnotherChangeset) {
    const auto ms = parse_liquibase_file("f.sql",
                                         "-- liquibase formatted sql logicalFilePath:db/main.sql\n"
                                         "--changeset a:1\nCREATE TABLE t ();\n--rollback DROP TABLE t;\n"
                                         "--changeset a:2\nDROP TABLE t;\n"
                                         "--rollback changesetId:1 changesetAuthor:a\n"
                                         "--changeset a:3 logicalFilePath:other.sql\nSELECT 1;\n",
                                         "f.sql", 1);
    ASSERT_EQ(ms.size(), 3U);
    EXPECT_EQ(ms[0].tool_id, "1:a:db/main.sql");
    EXPECT_EQ(*ms[1].down_sql, ms[0].up_sql);
    EXPECT_EQ(ms[2].tool_id, "3:a:other.sql");
}

TEST(Liquibase, Refusals) {
    const auto reason = [](const std::string& body) {
        return error_of([&] { parse_liquibase_file("f.sql", "--liquibase formatted sql\n" + body, "f.sql", 1); })
            .reason();
    };
    EXPECT_TRUE(contains(error_of([] { parse_liquibase_file("f.sql", "--changeset a:1\n", "f.sql", 1); }).reason(),
                         "not a Liquibase formatted SQL file"));
    EXPECT_TRUE(contains(reason("CREATE TABLE t ();\n--changeset a:1\n"), "SQL before the first --changeset (line 2)"))
        << reason("CREATE TABLE t ();\n--changeset a:1\n");
    EXPECT_TRUE(contains(reason("--changeset a:1 runOnChange:true\nSELECT 1;\n"), "runOnChange:true"));
    EXPECT_TRUE(contains(reason("--changeset a:1 runAlways:true\nSELECT 1;\n"), "runAlways:true"));
    EXPECT_TRUE(contains(reason("--changeset a:1 failOnError:false\nSELECT 1;\n"), "failOnError:false"));
    EXPECT_TRUE(contains(reason("--changeset a:1 endDelimiter:GO\nSELECT 1;\n"), "endDelimiter:GO"));
    EXPECT_TRUE(contains(reason("--changeset a:1 runWith:psql\nSELECT 1;\n"), "runWith:psql"));
    EXPECT_TRUE(contains(reason("--changeset a:1 frobnicate:yes\nSELECT 1;\n"), "not an attribute pgmig knows"));
    EXPECT_TRUE(contains(reason("--changeset a:1\n--preconditions onFail:MARK_RAN\n"
                                "--precondition-sql-check expectedResult:0 SELECT count(*) FROM t\n"),
                         "--precondition-sql-check"));
    EXPECT_TRUE(contains(reason("--changeset a:1\nSELECT '${schema}';\n"), "changelog parameter ${schema} (line 3)"));
    EXPECT_TRUE(contains(reason("--property name:x value:y\n--changeset a:1\n"), "--property"));
    EXPECT_TRUE(contains(reason("--changeset a: 1\nSELECT 1;\n"), "without author:id"));
    EXPECT_TRUE(contains(reason("--changeset a\nSELECT 1;\n"), "without author:id"));
    EXPECT_TRUE(contains(reason("--changeset a:1\n/* liquibase rollback\nDROP TABLE t;\n"), "never closed"));
    EXPECT_TRUE(contains(reason("--changeset a:1\n--ignoreLines:start\nx\n"), "without --ignoreLines:end"));
    EXPECT_TRUE(contains(reason("--changeset a:1\nBEGIN NULL; END;\n/\n"), "Oracle-style"));
    EXPECT_TRUE(contains(reason("--changeset a:2\nSELECT 1;\n--rollback changesetId:9 changesetAuthor:a\n"),
                         "a rollback that runs another changeset"));
    EXPECT_TRUE(contains(reason("--changeset a:1\n-- pgmig:up\n"), "pgmig's own"));
}

TEST_F(Folder, LiquibaseFolderWithoutMasterInPathOrder) {
    write("002_more.sql", "--liquibase formatted sql\n--changeset a:2\nCREATE TABLE b ();\n--rollback DROP TABLE b;\n");
    write("001_init.sql", "--liquibase formatted sql\n--changeset a:1\nCREATE TABLE a ();\n--rollback DROP TABLE a;\n");
    EXPECT_EQ(detect_folder_format(dir_), FolderFormat::liquibase);
    const auto files = load();
    ASSERT_EQ(files.size(), 2U);
    EXPECT_EQ(files[0].tool_id, "1:a:001_init.sql");
    EXPECT_EQ(files[0].version, "1.1");
    EXPECT_EQ(files[1].version, "2.1");
    write("003_plain.sql", "CREATE TABLE c ();\n");
    EXPECT_TRUE(contains(load_error().reason(), "not a Liquibase formatted SQL file"));
}

TEST_F(Folder, LiquibaseXmlMasterIncludes) {
    write("db.changelog-master.xml",
          "<?xml version=\"1.0\"?>\n<databaseChangeLog xmlns=\"http://www.liquibase.org/xml/ns/dbchangelog\">\n"
          "  <!-- <include file=\"commented/out.sql\"/> -->\n"
          "  <include file=\"changes/b.sql\" relativeToChangelogFile=\"true\"/>\n"
          "  <includeAll path=\"more/\" relativeToChangelogFile=\"true\"/>\n"
          "</databaseChangeLog>\n");
    write("changes/b.sql", "--liquibase formatted sql\n--changeset a:b\nCREATE TABLE b ();\n");
    write("more/2.sql", "--liquibase formatted sql\n--changeset a:m2\nCREATE TABLE m2 ();\n");
    write("more/1.sql", "--liquibase formatted sql\n--changeset a:m1\nCREATE TABLE m1 ();\n");
    EXPECT_EQ(detect_folder_format(dir_), FolderFormat::liquibase);
    const auto files = load();
    std::vector<std::string> got;
    for (const auto& f : files) got.push_back(f.version + " " + f.tool_id);
    EXPECT_EQ(got, (std::vector<std::string>{"1.1 b:a:changes/b.sql", "2.1 m1:a:more/1.sql", "3.1 m2:a:more/2.sql"}));
}

TEST_F(Folder, LiquibaseYamlMasterAndRefusals) {
    write("db.changelog-master.yaml",
          "databaseChangeLog:\n"
          "  - include:\n"
          "      file: changes/a.sql\n"
          "      relativeToChangelogFile: true\n"
          "  - include: { file: changes/b.sql, relativeToChangelogFile: true }\n");
    write("changes/a.sql", "--liquibase formatted sql\n--changeset a:1\nCREATE TABLE a ();\n");
    write("changes/b.sql", "--liquibase formatted sql\n--changeset a:2\nCREATE TABLE b ();\n");
    EXPECT_EQ(detect_folder_format(dir_), FolderFormat::liquibase);
    const auto files = load();
    ASSERT_EQ(files.size(), 2U);
    EXPECT_EQ(files[1].tool_id, "2:a:changes/b.sql");
    write("db.changelog-master.yaml", "databaseChangeLog:\n  - include:\n      file: changes/missing.sql\n");
    const std::string why = load_error().reason();
    EXPECT_TRUE(contains(why, "changes/missing.sql, which does not exist (line 2)")) << why;
    write("db.changelog-master.yaml", "databaseChangeLog:\n  - changeSet:\n      id: 1\n      author: a\n");
    EXPECT_TRUE(contains(load_error().reason(), "changeSet in the changelog"));
    write("db.changelog-master.yaml",
          "databaseChangeLog:\n  - include: { file: changes/a.sql, relativeToChangelogFile: true }\n"
          "  - include: { file: changes/a.sql, relativeToChangelogFile: true }\n");
    EXPECT_TRUE(contains(load_error().reason(), "changeset 1:a:changes/a.sql is also in"));
}

TEST_F(Folder, LiquibaseIncludeFromTheSearchPath) {
    // Spring Boot's layout: the changelog at db/changelog/ of the classpath root names files from that root.
    write("db/changelog/db.changelog-master.xml",
          "<databaseChangeLog>\n  <include file=\"classpath:db/changelog/changes/a.sql\"/>\n</databaseChangeLog>\n");
    write("db/changelog/changes/a.sql", "--liquibase formatted sql\n--changeset a:1\nCREATE TABLE a ();\n");
    const auto files = load_migration_dir(dir_ / "db" / "changelog");
    ASSERT_EQ(files.size(), 1U);
    EXPECT_EQ(files[0].tool_id, "1:a:db/changelog/changes/a.sql");
}

// ---------------------------------------------------------------- shared rules

TEST_F(Folder, DetectionIsSpecific) {
    // Each tool's marker alone claims a folder for that tool, and no other.
    const std::pair<const char*, FolderFormat> cases[] = {
        {"-- +goose Up\nSELECT 1;\n", FolderFormat::goose},
        {"-- migrate:up\nSELECT 1;\n-- migrate:down\n", FolderFormat::dbmate},
        {"-- +migrate Up\nSELECT 1;\n", FolderFormat::sql_migrate},
        {"-- Up Migration\nSELECT 1;\n", FolderFormat::node_pg_migrate},
        {"--liquibase formatted sql\n--changeset a:1\nSELECT 1;\n", FolderFormat::liquibase},
    };
    for (const auto& [text, format] : cases) {
        fs::remove_all(dir_);
        fs::create_directories(dir_);
        write("1_a.sql", text);
        EXPECT_EQ(detect_folder_format(dir_), format) << text;
        EXPECT_NO_THROW(load()) << text;
    }
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    write("1_a.sql", "-- +goose Up\nSELECT 1;\n");
    write("2_b.sql", "-- migrate:up\nSELECT 1;\n-- migrate:down\n");
    const MigrationFileError e = error_of([&] { detect_folder_format(dir_); });
    EXPECT_TRUE(contains(e.reason(), "goose and dbmate")) << e.reason();
}

TEST_F(Folder, PgmigDirectivesApplyInToolFiles) {
    write("1_a.sql", "-- +goose Up\n-- pgmig:allow drop-table -- reason\nDROP TABLE x;\n-- pgmig:lock-timeout 5s\n");
    const auto files = load();
    ASSERT_EQ(files.size(), 1U);
    EXPECT_EQ(files[0].options["allow"], nlohmann::json::array({"drop-table"}));
    EXPECT_EQ(files[0].options["lock_timeout"], "5s");
    write("1_a.sql", "-- +goose Up\n-- pgmig:frobnicate\nSELECT 1;\n");
    EXPECT_TRUE(contains(load_error().reason(), "unknown directive -- pgmig:frobnicate"));
}

TEST_F(Folder, BadBytesAreRefusedInToolFiles) {
    write("1_a.sql", std::string("-- +goose Up\nSELECT '\xff';\n"));
    const MigrationFileError e = load_error(FolderFormat::goose);
    EXPECT_EQ(e.problem(), FileProblem::bad_bytes);
}

TEST(Support, SafeNameAndVersions) {
    EXPECT_EQ(safe_name("create users.v2"), "create_users_v2");
    EXPECT_EQ(safe_name(""), "migration");
    std::vector<MigrationFile> ms(4);
    assign_versions(ms, {"1", "3", "03", "4"});
    EXPECT_EQ(ms[0].version, "1");
    EXPECT_EQ(ms[1].version, "3.1");
    EXPECT_EQ(ms[2].version, "03.2");
    EXPECT_EQ(ms[3].version, "4");
}

}  // namespace

namespace {

class ScanFolder : public Folder {};

std::vector<std::string> names_of(const std::vector<fs::path>& paths) {
    std::vector<std::string> out;
    for (const auto& p : paths) out.push_back(p.filename().string());
    return out;
}

// files_in() with a FolderScan gives what it gives without one (sorted by name, only regular files with the
// suffix, hidden ones on request), lists the folder once and reads each head once: a file written or
// changed during the scan is not seen until the scan ends.
TEST_F(ScanFolder, ListsAndReadsOnceWithTheSameResults) {
    write("2_b.sql", "-- +goose Up\nSELECT 2;\n");
    write("10_c.sql", "SELECT 10;\n");
    write("1_a.sql", "SELECT 1;\n");
    write(".hidden.sql", "SELECT 0;\n");
    write("notes.txt", "no\n");
    fs::create_directories(dir_ / "sub.sql");
    const std::vector<std::string> expected = {"10_c.sql", "1_a.sql", "2_b.sql"};
    EXPECT_EQ(names_of(files_in(dir_, ".sql")), expected);
    EXPECT_EQ(names_of(files_in(dir_, ".sql", true)).front(), ".hidden.sql");
    {
        const FolderScan scan;
        EXPECT_EQ(names_of(files_in(dir_, ".sql")), expected);
        EXPECT_EQ(read_head(dir_ / "1_a.sql"), "SELECT 1;\n");
        write("3_d.sql", "SELECT 3;\n");
        write("1_a.sql", "SELECT 111;\n");
        EXPECT_EQ(names_of(files_in(dir_, ".sql")), expected) << "listed once per scan";
        EXPECT_EQ(names_of(files_in(dir_, ".txt")), std::vector<std::string>{"notes.txt"});
        EXPECT_EQ(read_head(dir_ / "1_a.sql"), "SELECT 1;\n") << "read once per scan";
        EXPECT_EQ(read_head(dir_ / "1_a.sql", 4), "SELE") << "another length is another read";
    }
    EXPECT_EQ(names_of(files_in(dir_, ".sql")).size(), 4U);
    EXPECT_EQ(read_head(dir_ / "1_a.sql"), "SELECT 111;\n");
}

}  // namespace
