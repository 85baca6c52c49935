// Unit tests of the folder readers' statement scanner (client/ledger/formats/sql_scan.cpp).
#include "client/ledger/formats/sql_scan.hpp"

#include <gtest/gtest.h>

using namespace pgmig::client::formats;

namespace {

std::vector<std::string> firsts(const ScanResult& r) {
    std::vector<std::string> out;
    for (const auto& s : r.statements) out.push_back(s.words.empty() ? "" : s.words.front());
    return out;
}

}  // namespace

TEST(SqlScan, SplitsAtTopLevelSemicolons) {
    const std::string text =
        "-- header; not a statement\n"
        "CREATE TABLE t (a text DEFAULT ';', b text DEFAULT E'\\';', \"c;\" int);\n"
        "/* a; /* nested; */ comment */ INSERT INTO t VALUES ($$;$$, $x$ ; $$ ; $x$);\n"
        "CREATE RULE r AS ON INSERT TO t DO ALSO (SELECT 1; SELECT 2);\n"
        "SELECT 1";
    const ScanResult r = scan_sql(text);
    ASSERT_EQ(r.statements.size(), 4U);
    EXPECT_EQ(firsts(r), (std::vector<std::string>{"CREATE", "INSERT", "CREATE", "SELECT"}));
    EXPECT_EQ(r.statements[0].line, 2);
    EXPECT_EQ(r.statements[1].line, 3);
    EXPECT_TRUE(r.statements[2].terminated);
    EXPECT_FALSE(r.statements[3].terminated);
    EXPECT_EQ(text.substr(r.statements[0].begin, 6), "CREATE");
    EXPECT_EQ(text[r.statements[0].end - 1], ';');
    EXPECT_TRUE(r.unterminated.empty());
    EXPECT_TRUE(r.psql_only.empty());
}

TEST(SqlScan, LeadingWords) {
    const ScanResult r =
        scan_sql("begin;\nSTART TRANSACTION;\nCommit Work;\nBEGIN ISOLATION LEVEL SERIALIZABLE;\nSELECT (1);\n");
    ASSERT_EQ(r.statements.size(), 5U);
    EXPECT_EQ(r.statements[0].words, std::vector<std::string>{"BEGIN"});
    EXPECT_TRUE(r.statements[0].only_words);
    EXPECT_EQ(r.statements[1].words, (std::vector<std::string>{"START", "TRANSACTION"}));
    EXPECT_EQ(r.statements[2].words, (std::vector<std::string>{"COMMIT", "WORK"}));
    EXPECT_EQ(r.statements[3].words.size(), 4U);
    EXPECT_EQ(r.statements[4].words, std::vector<std::string>{"SELECT"});
    EXPECT_FALSE(r.statements[4].only_words);
}

TEST(SqlScan, FunctionBodiesInBeginAtomicAreOneStatement) {
    const ScanResult r = scan_sql(
        "CREATE OR REPLACE FUNCTION f() RETURNS int LANGUAGE sql\nBEGIN ATOMIC\n  SELECT 1;\n"
        "  SELECT CASE WHEN true THEN 1 ELSE 2 END;\nEND;\nCREATE PROCEDURE p() BEGIN ATOMIC SELECT 1; END;\nSELECT "
        "3;\n");
    EXPECT_EQ(firsts(r), (std::vector<std::string>{"CREATE", "CREATE", "SELECT"}));
    EXPECT_EQ(r.statements[2].line, 7);
}

TEST(SqlScan, OpaqueRegions) {
    const std::string text = "SELECT 'a--> b', \"x\", $$ y $$; /* z */ SELECT U&'d\\0061t';";
    const ScanResult r = scan_sql(text);
    EXPECT_TRUE(r.inside_opaque(text.find("-->")));
    EXPECT_TRUE(r.inside_opaque(text.find('x')));
    EXPECT_TRUE(r.inside_opaque(text.find('y')));
    EXPECT_TRUE(r.inside_opaque(text.find('z')));
    EXPECT_FALSE(r.inside_opaque(text.find("SELECT")));
    EXPECT_EQ(r.statements.size(), 2U);
}

TEST(SqlScan, UnterminatedQuote) {
    const ScanResult r = scan_sql("SELECT 1;\nSELECT $f$ never closed;\n");
    EXPECT_EQ(r.unterminated, "a dollar-quoted string");
    EXPECT_EQ(r.unterminated_line, 2);
}

TEST(SqlScan, PsqlOnlyText) {
    const ScanResult r = scan_sql(
        "\\set x 1\nSELECT :x, :'y', :\"z\", 1::int, :{?w};\nSELECT ':v', $$ \\q $$; -- \\c db\nSELECT 1 \\gexec\n");
    ASSERT_EQ(r.psql_only.size(), 6U);
    EXPECT_EQ(r.psql_only[0].kind, PsqlOnly::Kind::meta_command);
    EXPECT_EQ(r.psql_only[0].text, "\\set");
    EXPECT_EQ(r.psql_only[0].line, 1);
    EXPECT_EQ(r.psql_only[1].name, "x");
    EXPECT_FALSE(r.psql_only[1].quoted);
    EXPECT_EQ(r.psql_only[2].text, ":'y'");
    EXPECT_TRUE(r.psql_only[2].quoted);
    EXPECT_EQ(r.psql_only[3].name, "z");
    EXPECT_EQ(r.psql_only[4].name, "w");
    EXPECT_EQ(r.psql_only[5].text, "\\gexec");
    EXPECT_EQ(r.psql_only[5].line, 4);
}

TEST(SqlScan, LineAt) {
    EXPECT_EQ(line_at("a\nb\nc", 0), 1);
    EXPECT_EQ(line_at("a\nb\nc", 2), 2);
    EXPECT_EQ(line_at("a\nb\nc", 99), 3);
}
