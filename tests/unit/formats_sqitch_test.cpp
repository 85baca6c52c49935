// Unit tests of the Sqitch reader (client/ledger/formats/sqitch.cpp). The change ids expected here are those
// Sqitch 1.3.1 prints for the same plan (sqitch plan --format format:'%H %n').
#include "tests/unit/formats_test_util.hpp"

using namespace pgmig::client;
using pgmig::client::testing::contains;

namespace {

class SqitchDir : public pgmig::client::testing::FormatDir {
  protected:
    void conf(const std::string& engine = "pg") { write("sqitch.conf", "[core]\n\tengine = " + engine + "\n"); }

    // Deploy and revert scripts wrapped in BEGIN/COMMIT, as `sqitch add` writes them.
    void scripts(const std::string& change, const std::string& deploy, const std::string& revert) {
        write("deploy/" + change + ".sql", "-- Deploy " + change + "\n\nBEGIN;\n\n" + deploy + "\n\nCOMMIT;\n");
        write("revert/" + change + ".sql", "-- Revert " + change + "\n\nBEGIN;\n\n" + revert + "\n\nCOMMIT;\n");
        write("verify/" + change + ".sql", "BEGIN;\nSELECT 1/0;\nROLLBACK;\n");  // never run
    }
};

// Escapes, a URI to canonicalise, requirements, a conflict, another project's change, a tag, a rework, a
// planner name ending in a blank, and a note Perl takes for false.
const char* const kPlan =
    "%syntax-version=1.0.0\n"
    "%project=flipr\n"
    "%uri=HTTPS://Example.COM:443/flipr\n"
    "\n"
    "# a comment in the header\n"
    "\n"
    "appschema 2013-12-30T23:49:00Z Marge N. O\u2019Vera <marge@example.com> # Add schema for all flipr objects.\n"
    "users [appschema] 2013-12-31T18:26:59Z Marge N. O\u2019Vera <marge@example.com> # Creates table to track our "
    "users.\\nSecond line\n"
    "flips [appschema users !oldflips] 2014-01-01T00:00:00Z Marge  <marge@example.com>\n"
    "@v1.0 2014-01-02T00:00:00Z Marge <marge@example.com> # tag one\n"
    "users [users@v1.0 other:thing] 2014-01-03T00:00:00Z Marge <marge@example.com> # Rework users.\n"
    "zero 2014-01-04T00:00:00Z Marge <marge@example.com> # 0\n";

}  // namespace

TEST_F(SqitchDir, DetectedByThePlan) {
    write("sqitch.plan", "%project=p\n\n");
    EXPECT_EQ(detect_folder_format(dir_), FolderFormat::sqitch);
}

TEST_F(SqitchDir, ChangesInPlanOrderWithSqitchsChangeIds) {
    conf();
    write("sqitch.plan", kPlan);
    scripts("appschema", "CREATE SCHEMA flipr;", "DROP SCHEMA flipr;");
    scripts("users@v1.0", "CREATE TABLE flipr.users (id int);", "DROP TABLE flipr.users;");
    scripts("flips", "CREATE TABLE flipr.flips (id int);", "DROP TABLE flipr.flips;");
    scripts("users", "ALTER TABLE flipr.users ADD COLUMN name text;", "ALTER TABLE flipr.users DROP COLUMN name;");
    scripts("zero", "SELECT 0;", "SELECT 0;");
    const auto files = load();
    ASSERT_EQ(files.size(), 5U);
    const char* const ids[] = {"26c22b96a4a1982675bcb69bea85af466e5b1971", "98591b314354bc9a927c66eb6d062622bad87f6e",
                               "0a5ce351b08863389720f0db07bd71ffc2989a8b", "2827e12d1bc339e5ecb1d3842e250a38234399ca",
                               "ebe3a529fc3d3868b66a38bb818b43958bfc2c96"};
    const char* const names[] = {"appschema", "users", "flips", "users", "zero"};
    for (std::size_t i = 0; i < files.size(); ++i) {
        EXPECT_EQ(files[i].version, std::to_string(i + 1)) << i;  // ordinal versions in plan order
        EXPECT_EQ(files[i].name, names[i]) << i;
        EXPECT_EQ(files[i].tool_id, ids[i]) << names[i];
        EXPECT_EQ(files[i].tool_info["change"], names[i]);
        EXPECT_EQ(files[i].tool_info["project"], "flipr");
        EXPECT_EQ(files[i].folder_format, FolderFormat::sqitch);
        EXPECT_TRUE(files[i].transactional()) << i;  // BEGIN ... COMMIT taken off
    }
    // The reworked change's first version lives in users@v1.0.sql; the latest in users.sql.
    EXPECT_EQ(files[1].file_name, "deploy/users@v1.0.sql");
    EXPECT_EQ(files[1].down_path, dir_ / "revert" / "users@v1.0.sql");
    EXPECT_EQ(files[3].file_name, "deploy/users.sql");
    EXPECT_EQ(files[2].tool_info["tags"], nlohmann::json::array({"v1.0"}));
    EXPECT_EQ(files[0].tool_info["planned_at"], "2013-12-30T23:49:00Z");
    EXPECT_EQ(files[2].tool_info["planner_name"], "Marge ");  // up to the blank before '<', as Sqitch reads it
}

TEST_F(SqitchDir, WrapperIsBlankedOutKeepingLines) {
    write("sqitch.plan", "%project=p\n\na 2020-01-01T00:00:00Z X <x@example.com>\n");
    write("deploy/a.sql", "-- Deploy a\nBEGIN;\nCREATE TABLE a (id int);\nCOMMIT;\n");
    write("revert/a.sql", "BEGIN;\nDROP TABLE a;\nCOMMIT;\n");
    const auto files = load();
    ASSERT_EQ(files.size(), 1U);
    EXPECT_EQ(files[0].up_sql, "-- Deploy a\n      \nCREATE TABLE a (id int);\n       \n");
    EXPECT_EQ(*files[0].down_sql, "      \nDROP TABLE a;\n       \n");
    // sqitch.changes.script_hash: SHA-1 of the deploy script's bytes
    EXPECT_EQ(files[0].tool_info["script_hash"], "af71a75b37e4e54d3b7d2710694e45e1b086cc6d");
}

TEST_F(SqitchDir, ScriptWithoutWrapperRunsWithoutATransaction) {
    write("sqitch.plan",
          "%project=p\n\nidx 2020-01-01T00:00:00Z X <x@example.com>\nempty 2020-01-02T00:00:00Z X <x@example.com>\n");
    write("deploy/idx.sql", "CREATE INDEX CONCURRENTLY t_a ON t (a);\n");  // psql runs it in autocommit
    write("deploy/empty.sql", "-- nothing on PostgreSQL\n");
    const auto files = load();
    ASSERT_EQ(files.size(), 2U);
    EXPECT_FALSE(files[0].transactional());
    EXPECT_FALSE(files[0].down_sql.has_value());  // no revert script
    EXPECT_TRUE(files[1].transactional());
}

TEST_F(SqitchDir, RevertScriptThatRunsNothingRollsBackAsANoOp) {
    // Sqitch runs such a revert script with psql, which does nothing, and records the change reverted.
    write("sqitch.plan", "%project=p\n\na 2020-01-01T00:00:00Z X <x@example.com>\n");
    write("deploy/a.sql", "BEGIN;\nCREATE TABLE a (id int);\nCOMMIT;\n");
    write("revert/a.sql", "-- Revert p:a\nBEGIN;\nCOMMIT;\n");
    const auto files = load();
    ASSERT_EQ(files.size(), 1U);
    ASSERT_TRUE(files[0].down_sql.has_value());
    EXPECT_TRUE(has_statements(*files[0].down_sql));
    EXPECT_TRUE(contains(*files[0].down_sql, "SELECT; -- nothing to undo: Sqitch")) << *files[0].down_sql;
}

TEST_F(SqitchDir, BeginInsideFunctionBodiesIsNotTheWrapper) {
    write("sqitch.plan", "%project=p\n\nf 2020-01-01T00:00:00Z X <x@example.com>\n");
    write("deploy/f.sql",
          "BEGIN;\n"
          "CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$\nBEGIN\n  RETURN 1;\nEND;\n$$;\n"
          "CREATE FUNCTION g() RETURNS int LANGUAGE sql\nBEGIN ATOMIC\n  SELECT 1;\n  SELECT CASE WHEN true THEN 2 "
          "END;\nEND;\n"
          "COMMIT;\n");
    const auto files = load();
    ASSERT_EQ(files.size(), 1U);
    EXPECT_TRUE(files[0].transactional());
    EXPECT_TRUE(contains(files[0].up_sql, "BEGIN ATOMIC"));
    EXPECT_FALSE(contains(files[0].up_sql, "COMMIT"));
}

TEST_F(SqitchDir, TransactionControlPartWayIsRefused) {
    write("sqitch.plan", "%project=p\n\na 2020-01-01T00:00:00Z X <x@example.com>\n");
    write("deploy/a.sql", "BEGIN;\nCREATE TABLE a (id int);\nCOMMIT;\nBEGIN;\nCREATE TABLE b (id int);\nCOMMIT;\n");
    auto e = load_error();
    EXPECT_TRUE(contains(e.file(), "deploy/a.sql")) << e.file();
    EXPECT_TRUE(contains(e.reason(), "transaction control (COMMIT) inside the script (line 3)")) << e.reason();
    write("deploy/a.sql", "BEGIN;\nCREATE TABLE a (id int);\n");
    e = load_error();
    EXPECT_TRUE(contains(e.reason(), "does not commit (line 1)")) << e.reason();
    write("deploy/a.sql", "BEGIN;\nSAVEPOINT s;\nCOMMIT;\n");
    EXPECT_TRUE(contains(load_error().reason(), "(SAVEPOINT) inside the script (line 2)"));
}

TEST_F(SqitchDir, PsqlCommandsAndVariablesAreRefused) {
    write("sqitch.plan", "%project=p\n\na 2020-01-01T00:00:00Z X <x@example.com>\n");
    write("deploy/a.sql", "BEGIN;\n\\set user `cat /run/secrets/user`\nCREATE ROLE :user;\nCOMMIT;\n");
    auto e = load_error();
    EXPECT_TRUE(contains(e.reason(), "psql meta-command \\set (line 2)")) << e.reason();
    write("deploy/a.sql", "SELECT 'x' || :'name';\n");
    EXPECT_TRUE(contains(load_error().reason(), "psql variable :'name' (line 1)"));
    write("deploy/a.sql", "SET search_path = :\"registry\";\n");
    EXPECT_TRUE(contains(load_error().reason(), "psql variable :\"registry\""));
    write("deploy/a.sql", "CREATE TABLE x (id int);\nGRANT SELECT ON x TO :registry;\n");
    EXPECT_TRUE(contains(load_error().reason(), "psql variable :registry (line 2)"));
    // Casts, array slices and text that only looks like it are SQL.
    write("deploy/a.sql", "SELECT '1'::int, (ARRAY[1,2,3])[1:2], ':''x''', $$ \\set $$;\n");
    EXPECT_EQ(load().size(), 1U);
}

TEST_F(SqitchDir, VariablesOfTheConfigAreRefusedWhereUsed) {
    write("sqitch.conf", "[core]\n\tengine = pg\n[deploy \"variables\"]\n\towner = app\n");
    write("sqitch.plan", "%project=p\n\na 2020-01-01T00:00:00Z X <x@example.com>\n");
    write("deploy/a.sql", "CREATE SCHEMA s AUTHORIZATION :owner;\n");
    EXPECT_TRUE(contains(load_error().reason(), "psql variable :owner"));
}

TEST_F(SqitchDir, OtherEnginesAreRefused) {
    conf("mysql");
    write("sqitch.plan", "%project=p\n\n");
    const auto e = load_error();
    EXPECT_TRUE(contains(e.file(), "sqitch.conf")) << e.file();
    EXPECT_TRUE(contains(e.reason(), "engine is 'mysql', not pg")) << e.reason();
}

TEST_F(SqitchDir, TopDirOfTheConfigIsHonoured) {
    write("sqitch.conf", "[core]\n\tengine = pg\n\ttop_dir = db\n");
    write("db/sqitch.plan", "%project=p\n\na 2020-01-01T00:00:00Z X <x@example.com>\n");
    write("db/deploy/a.sql", "CREATE TABLE a (id int);\n");
    EXPECT_EQ(detect_folder_format(dir_), FolderFormat::sqitch);
    const auto files = load();
    ASSERT_EQ(files.size(), 1U);
    EXPECT_EQ(files[0].file_name, "db/deploy/a.sql");
}

TEST_F(SqitchDir, PlanErrorsAreRefusedWithTheirLine) {
    const auto refused = [&](const std::string& plan, const std::string& reason) {
        write("sqitch.plan", plan);
        const auto e = load_error(FolderFormat::sqitch);
        EXPECT_TRUE(contains(e.reason(), reason)) << e.reason() << " / expected: " << reason;
        EXPECT_TRUE(contains(e.file(), "sqitch.plan")) << e.file();
    };
    write("deploy/a.sql", "SELECT 1;\n");
    write("deploy/b.sql", "SELECT 1;\n");
    refused("%syntax-version=1.0.0\n\na 2020-01-01T00:00:00Z X <x@example.com>\n", "no %project pragma");
    refused("%project=p\na 2020-01-01T00:00:00Z X <x@example.com>\n", "not a pragma; a blank line must come");
    refused("%project=p\n\na X <x@example.com>\n", "missing timestamp (line 3)");
    refused("%project=p\n\na 2020-01-01T00:00:00Z\n", "missing planner name and email (line 3)");
    refused("%project=p\n\na [b] 2020-01-01T00:00:00Z X <x@example.com>\nb 2020-01-01T00:00:00Z X <x@example.com>\n",
            "requires 'b', which the plan does not have before it (line 3)");
    refused("%project=p\n\na 2020-01-01T00:00:00Z X <x@example.com>\na 2020-01-02T00:00:00Z X <x@example.com>\n",
            "duplicates the one on line 3 (line 4)");
    refused("%project=p\n\n-a 2020-01-01T00:00:00Z X <x@example.com>\n", "a change marked '-'");
    refused("%project=p\n\n@t 2020-01-01T00:00:00Z X <x@example.com>\n", "declared without a preceding change");
    refused("%project=p\n\nfoo^2 2020-01-01T00:00:00Z X <x@example.com>\n", "invalid name 'foo^2'");
    refused("%project=p\n\na/../../x 2020-01-01T00:00:00Z X <x@example.com>\n", "leads out of deploy/ and revert/");
}

TEST_F(SqitchDir, DependencyOnATaggedChange) {
    write("sqitch.plan",
          "%project=p\n\na 2020-01-01T00:00:00Z X <x@example.com>\n@t 2020-01-01T00:00:00Z X <x@example.com>\n"
          "b [a@t @t other:x 0123456789abcdef0123456789abcdef01234567] 2020-01-02T00:00:00Z X <x@example.com>\n");
    write("deploy/a.sql", "SELECT 1;\n");
    write("deploy/b.sql", "SELECT 2;\n");
    EXPECT_EQ(load().size(), 2U);
}

TEST_F(SqitchDir, MissingDeployScriptIsRefused) {
    write("sqitch.plan", "%project=p\n\na 2020-01-01T00:00:00Z X <x@example.com>\n");
    const auto e = load_error();
    EXPECT_TRUE(contains(e.reason(), "change 'a' has no deploy script deploy/a.sql (line 3)")) << e.reason();
}
