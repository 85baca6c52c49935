// Unit tests of client/integrity: the difference between two integrity reports.
#include "client/ledger/integrity.hpp"

#include <gtest/gtest.h>

using namespace pgmig::client;

namespace {
IntegrityFinding finding(std::string problem, std::string severity, std::string object,
                         std::optional<long long> count = std::nullopt) {
    return {std::move(problem), std::move(severity), std::move(object), "detail", count, std::nullopt};
}
}  // namespace

TEST(IntegrityDiff, NewResolvedAndChanged) {
    const std::vector<IntegrityFinding> before{
        finding("table-without-primary-key", "warning", "public.a"),
        finding("fk-orphans", "error", "fk on public.b", 2),
        finding("not-valid-constraint", "warning", "c on public.c", 0),
    };
    const std::vector<IntegrityFinding> after{
        finding("fk-orphans", "error", "fk on public.b", 5),
        finding("not-valid-constraint", "error", "c on public.c", 3),
        finding("invalid-index", "error", "i on public.d"),
        finding("table-without-primary-key", "warning", "public.a"),
    };
    const auto diff = diff_integrity(before, after);
    ASSERT_EQ(diff.added.size(), 1u);
    EXPECT_EQ(diff.added[0].problem, "invalid-index");
    EXPECT_TRUE(diff.resolved.empty());
    ASSERT_EQ(diff.changed.size(), 2u);
    EXPECT_EQ(diff.changed[0].first.count, 2);
    EXPECT_EQ(diff.changed[0].second.count, 5);
    EXPECT_EQ(diff.changed[1].second.severity, "error");
}

TEST(IntegrityDiff, SameReportIsNoChangeAndEmptyAfterResolvesAll) {
    const std::vector<IntegrityFinding> report{finding("fk-orphans", "error", "fk on public.b", 2)};
    const auto same = diff_integrity(report, report);
    EXPECT_TRUE(same.added.empty() && same.resolved.empty() && same.changed.empty());
    const auto fixed = diff_integrity(report, {});
    ASSERT_EQ(fixed.resolved.size(), 1u);
    EXPECT_EQ(fixed.resolved[0].object, "fk on public.b");
}

TEST(IntegrityDiff, SameObjectOtherProblemIsNew) {
    const auto diff = diff_integrity({finding("fk-orphans", "error", "x")}, {finding("not-valid-constraint", "error", "x")});
    EXPECT_EQ(diff.added.size(), 1u);
    EXPECT_EQ(diff.resolved.size(), 1u);
}

TEST(IntegrityErrors, OnlyErrorsCount) {
    EXPECT_FALSE(has_integrity_errors({finding("table-without-primary-key", "warning", "t")}));
    EXPECT_TRUE(has_integrity_errors({finding("table-without-primary-key", "warning", "t"),
                                      finding("invalid-index", "error", "i")}));
    EXPECT_FALSE(has_integrity_errors({}));
}
