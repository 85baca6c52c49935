// Unit tests of the Drizzle Kit reader (client/ledger/formats/drizzle.cpp).
#include "tests/unit/formats_test_util.hpp"

using namespace pgmig::client;
using pgmig::client::testing::contains;

namespace {

class DrizzleDir : public pgmig::client::testing::FormatDir {
  protected:
    // A journal with one entry per tag, `when` rising from 1700000000000.
    void journal(const std::vector<std::string>& tags, const std::string& dialect = "postgresql") {
        std::string entries;
        for (std::size_t i = 0; i < tags.size(); ++i) {
            entries +=
                std::string(i ? ",\n" : "") + "    {\"idx\": " + std::to_string(i) +
                ", \"version\": \"7\", \"when\": " + std::to_string(1700000000000LL + static_cast<long long>(i)) +
                ", \"tag\": \"" + tags[i] + "\", \"breakpoints\": true}";
        }
        write("meta/_journal.json", "{\n  \"version\": \"7\",\n  \"dialect\": \"" + dialect +
                                        "\",\n  \"entries\": [\n" + entries + "\n  ]\n}\n");
    }
};

const char* const kTwoStatements = "CREATE TABLE a (id int);\n--> statement-breakpoint\nCREATE INDEX a_id ON a (id);\n";

}  // namespace

TEST_F(DrizzleDir, DetectedByTheJournal) {
    journal({"0000_init"});
    write("0000_init.sql", "CREATE TABLE a (id int);\n");
    write("meta/0000_snapshot.json", "{}\n");
    EXPECT_EQ(detect_folder_format(dir_), FolderFormat::drizzle);
}

TEST_F(DrizzleDir, ReadsTheJournalsEntriesInOrder) {
    journal({"0000_init", "0001_brave_hulk"});
    write("0000_init.sql", "CREATE TABLE a (id int);\n");
    write("0001_brave_hulk.sql", kTwoStatements);
    const auto files = load();
    ASSERT_EQ(files.size(), 2U);
    EXPECT_EQ(files[0].version, "0000");
    EXPECT_EQ(files[0].name, "init");
    EXPECT_EQ(files[0].file_name, "0000_init.sql");
    // drizzle.__drizzle_migrations.hash: sha256 hex of the file's text
    EXPECT_EQ(files[0].tool_id, "c2de7559380e5ebf65caa7d59e166558e80243cf7e70006cc98d1593d94203c1");
    EXPECT_EQ(files[0].tool_info["created_at"], 1700000000000LL);  // __drizzle_migrations.created_at
    EXPECT_EQ(files[1].version, "0001");
    EXPECT_EQ(files[1].name, "brave_hulk");
    EXPECT_EQ(files[1].tool_id, "43aa8623aa0f17dd1f5d1648dadfeca26c9fa119c170aa6a60f7fb36c332bc6d");
    EXPECT_EQ(files[1].up_sql, kTwoStatements);  // the markers are comments to PostgreSQL
    EXPECT_EQ(files[1].tool_info["created_at"], 1700000000001LL);
    for (const auto& f : files) {
        EXPECT_EQ(f.folder_format, FolderFormat::drizzle);
        EXPECT_TRUE(f.transactional());
        EXPECT_FALSE(f.down_sql.has_value());
    }
}

TEST_F(DrizzleDir, HashTurnsCrlfIntoLf) {
    journal({"0000_crlf"});
    write("0000_crlf.sql", "CREATE TABLE a (id int);\r\n--> statement-breakpoint\r\nCREATE INDEX a_id ON a (id);\r\n");
    const auto files = load();
    ASSERT_EQ(files.size(), 1U);
    EXPECT_EQ(files[0].tool_id, "43aa8623aa0f17dd1f5d1648dadfeca26c9fa119c170aa6a60f7fb36c332bc6d");
    EXPECT_EQ(files[0].tool_info["hash_with_crlf"], "32f7c152eee93cd0a495bb9c488a29c02a9b844cc98182b191a8b670f76dd5f6");
}

TEST_F(DrizzleDir, FileTheJournalDoesNotListIsRefused) {
    journal({"0000_init"});
    write("0000_init.sql", "SELECT 1;\n");
    write("0001_stray.sql", "SELECT 2;\n");
    const auto e = load_error();
    EXPECT_TRUE(contains(e.file(), "0001_stray.sql")) << e.file();
    EXPECT_TRUE(contains(e.reason(), "does not list: drizzle-orm never runs it")) << e.reason();
}

TEST_F(DrizzleDir, EntryWithoutItsFileIsRefused) {
    journal({"0000_init", "0001_gone"});
    write("0000_init.sql", "SELECT 1;\n");
    const auto e = load_error();
    EXPECT_TRUE(contains(e.file(), "_journal.json")) << e.file();
    EXPECT_TRUE(contains(e.reason(), "entry 0001_gone has no file 0001_gone.sql")) << e.reason();
}

TEST_F(DrizzleDir, SameTagTwiceIsRefused) {
    journal({"0000_init", "0000_init"});
    write("0000_init.sql", "SELECT 1;\n");
    EXPECT_TRUE(contains(load_error().reason(), "appears twice"));
}

TEST_F(DrizzleDir, OtherDialectsAreRefused) {
    journal({"0000_init"}, "mysql");
    write("0000_init.sql", "SELECT 1;\n");
    EXPECT_TRUE(contains(load_error().reason(), "dialect \"mysql\", not postgresql"));
}

TEST_F(DrizzleDir, BrokenJournalIsRefused) {
    write("meta/_journal.json", "{\n  \"entries\": [\n    {\"idx\": 0,,}\n");
    auto e = load_error(FolderFormat::drizzle);
    EXPECT_TRUE(contains(e.reason(), "not valid JSON (line 3)")) << e.reason();
    write("meta/_journal.json", "{\"entries\": [{\"idx\": 0, \"tag\": \"0000_a\", \"breakpoints\": true}]}");
    write("0000_a.sql", "SELECT 1;\n");
    e = load_error(FolderFormat::drizzle);
    EXPECT_TRUE(contains(e.reason(), "has no number \"when\"")) << e.reason();
}

TEST_F(DrizzleDir, BreakpointInsideAStringIsRefused) {
    journal({"0000_fn"});
    write("0000_fn.sql",
          "CREATE FUNCTION f() RETURNS text AS $$\nSELECT 'a';\n--> statement-breakpoint\nSELECT 'b';\n$$ LANGUAGE "
          "sql;\n");
    const auto e = load_error();
    EXPECT_TRUE(contains(e.reason(), "drizzle-orm would cut the statement there (line 3)")) << e.reason();
}

TEST_F(DrizzleDir, BreakpointInALineCommentIsFine) {
    journal({"0000_fn"});
    write("0000_fn.sql", "SELECT 1; -- note --> statement-breakpoint\nSELECT 2;\n");
    EXPECT_EQ(load().size(), 1U);
}

TEST_F(DrizzleDir, TagsWithoutNumbersUseTheJournalsIdx) {
    journal({"init", "add_users"});  // drizzle-kit's migrations.prefix = "none"
    write("init.sql", "SELECT 1;\n");
    write("add_users.sql", "SELECT 2;\n");
    const auto files = load();
    ASSERT_EQ(files.size(), 2U);
    EXPECT_EQ(files[0].version, "0");
    EXPECT_EQ(files[0].name, "init");
    EXPECT_EQ(files[1].version, "1");
    EXPECT_EQ(files[1].name, "add_users");
}

TEST_F(DrizzleDir, JournalOrderDisagreeingWithNumbersIsRefused) {
    journal({"0001_b", "0000_a"});
    write("0000_a.sql", "SELECT 1;\n");
    write("0001_b.sql", "SELECT 2;\n");
    EXPECT_TRUE(contains(load_error().reason(), "drizzle-orm applies 0001_b.sql before 0000_a.sql (it follows the journal's entries)"));
}
