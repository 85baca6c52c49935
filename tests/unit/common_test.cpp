// Unit tests of common/ (checksum rule and version order) as the client uses them.
#include "common/checksum.hpp"
#include "common/duration.hpp"
#include "common/version.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

using pgmig::common::compare_versions;
using pgmig::common::normalize_script;
using pgmig::common::script_checksum;
using pgmig::common::sha256_hex;
using pgmig::common::version_problem;
using pgmig::common::version_sort_key;

TEST(NormalizeScript, CrlfAndLoneCrBecomeLf) {
    EXPECT_EQ(normalize_script("a\r\nb\r\n"), "a\nb\n");
    EXPECT_EQ(normalize_script("a\rb\r"), "a\nb\n");
    EXPECT_EQ(normalize_script("a\r\n\rb"), "a\n\nb\n");
}

TEST(NormalizeScript, TrailingSpacesAndTabsStripped) {
    EXPECT_EQ(normalize_script("SELECT 1;  \t\nSELECT 2; \n"), "SELECT 1;\nSELECT 2;\n");
}

TEST(NormalizeScript, LeadingSpacesKept) { EXPECT_EQ(normalize_script("  SELECT 1;\n"), "  SELECT 1;\n"); }

TEST(NormalizeScript, TrailingBlankLinesRemoved) {
    EXPECT_EQ(normalize_script("SELECT 1;\n\n\n   \n\t\n"), "SELECT 1;\n");
    EXPECT_EQ(normalize_script("SELECT 1;"), "SELECT 1;\n");
    EXPECT_EQ(normalize_script("\n\n  \n"), "");
    EXPECT_EQ(normalize_script(""), "");
}

TEST(NormalizeScript, InnerBlankLinesKept) { EXPECT_EQ(normalize_script("a\n\n\nb\n"), "a\n\n\nb\n"); }

// Expected digests computed with sha256sum(1), not with this code:
//   printf 'SELECT 1;\n' | sha256sum
TEST(Checksum, KnownSha256) {
    EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_EQ(script_checksum("SELECT 1;\n"), "b4e0497804e46e0a0b0b8c31975b062152d551bac49c3c2e80932567b4085dcd");
}

TEST(Checksum, CosmeticWhitespaceDoesNotChangeIt) {
    const std::string expected = "64f75b3f9ee0d78dd5c0c2833b920dedbff259355dd44445e68084c0f38e2795";
    EXPECT_EQ(script_checksum("CREATE TABLE t (id int);\nSELECT 1;\n"), expected);
    EXPECT_EQ(script_checksum("CREATE TABLE t (id int);  \r\nSELECT 1;\r\n\r\n\r\n"), expected);
    EXPECT_EQ(script_checksum("CREATE TABLE t (id int);\rSELECT 1;"), expected);
}

TEST(Checksum, RealChangesChangeIt) {
    EXPECT_NE(script_checksum("SELECT 1;\n"), script_checksum("SELECT 2;\n"));
    EXPECT_NE(script_checksum("SELECT 1;\n"), script_checksum(" SELECT 1;\n"));
}

TEST(Version, NaturalOrder) {
    EXPECT_LT(compare_versions("2", "10"), 0);
    EXPECT_LT(compare_versions("1.2", "1.10"), 0);
    EXPECT_LT(compare_versions("1", "1.0"), 0);
    EXPECT_LT(compare_versions("1.0", "1.1"), 0);
    EXPECT_LT(compare_versions("9.9", "10"), 0);
    EXPECT_GT(compare_versions("10", "9"), 0);
}

TEST(Version, LeadingZerosAreTheSameVersion) {
    EXPECT_EQ(compare_versions("001", "1"), 0);
    EXPECT_EQ(version_sort_key("001"), version_sort_key("1"));
    EXPECT_EQ(compare_versions("1.02", "1.2"), 0);
    EXPECT_EQ(compare_versions("0", "000"), 0);
}

TEST(Version, Timestamps) {
    EXPECT_LT(compare_versions("20240101120000", "20240102000000"), 0);
    EXPECT_LT(compare_versions("99", "20240101120000"), 0);
    EXPECT_LT(compare_versions("20231231235959", "20240101000000"), 0);
}

TEST(Version, SortingAList) {
    std::vector<std::string> v{"10", "1.10", "2", "1.2", "1", "1.0", "1.1", "20240101120000"};
    std::sort(v.begin(), v.end(),
              [](const std::string& a, const std::string& b) { return compare_versions(a, b) < 0; });
    EXPECT_EQ(v, (std::vector<std::string>{"1", "1.0", "1.1", "1.2", "1.10", "2", "10", "20240101120000"}));
}

TEST(VersionProblem, GoodVersions) {
    for (const char* good : {"1", "001", "1.2", "1.10.3", "20240101120000", "0"}) {
        EXPECT_FALSE(version_problem(good).has_value()) << good;
    }
}

TEST(VersionProblem, BadVersions) {
    for (const char* bad : {"", "v1", "1.", ".1", "1..2", "1-2", "1a", " 1", "1_2", "１"}) {
        EXPECT_TRUE(version_problem(bad).has_value()) << "'" << bad << "'";
    }
    EXPECT_TRUE(version_problem(std::string(201, '1')).has_value());
    EXPECT_TRUE(version_problem(std::string(256, '1')).has_value());
    EXPECT_FALSE(version_problem(std::string(200, '1')).has_value());
}

TEST(Duration, Units) {
    using pgmig::common::parse_duration_ms;
    EXPECT_EQ(parse_duration_ms("500ms"), 500);
    EXPECT_EQ(parse_duration_ms("250"), 250);
    EXPECT_EQ(parse_duration_ms("2s"), 2000);
    EXPECT_EQ(parse_duration_ms(" 2 s "), 2000);
    EXPECT_EQ(parse_duration_ms("1min"), 60000);
    EXPECT_EQ(parse_duration_ms("2147483647ms"), 2147483647);
    for (const char* bad : {"", "s", "1h", "-1s", "1.5s", "2147483648", "36000000min", "soon"}) {
        EXPECT_FALSE(parse_duration_ms(bad)) << bad;
    }
}
