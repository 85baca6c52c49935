// Unit tests of client/impact: the bugs file and how an object's names are found in a bug's text.
#include "client/ledger/impact.hpp"

#include <gtest/gtest.h>

using namespace pgmig::client;

TEST(ImpactBugs, ParsesHeadingsWithIdsAndTheirText) {
    const auto bugs = parse_bugs(
        "# Known bugs\n\nintro text\n\n## BUG-12: orders total is wrong\nThe view order_totals.\n\n"
        "### details\nmore about public.orders\n## Notes without id\nnot a bug\n## #7: GitHub style\nbody\r\n");
    ASSERT_EQ(bugs.size(), 2u);
    EXPECT_EQ(bugs[0].id, "BUG-12");
    EXPECT_EQ(bugs[0].title, "orders total is wrong");
    EXPECT_EQ(bugs[0].line, 5);
    EXPECT_NE(bugs[0].text.find("public.orders"), std::string::npos);  // a deeper heading stays in the bug
    EXPECT_EQ(bugs[0].text.find("not a bug"), std::string::npos);      // a heading of the same level ends it
    EXPECT_EQ(bugs[1].id, "#7");
}

TEST(ImpactBugs, NamesAreWordsCaseInsensitive) {
    EXPECT_TRUE(names_word("Orders total is wrong", "orders"));
    EXPECT_TRUE(names_word("see public.orders.", "public.orders"));
    EXPECT_TRUE(names_word("orders.total is off", "orders"));
    EXPECT_TRUE(names_word("in PUBLIC.ORDERS", "public.orders"));
    EXPECT_FALSE(names_word("in PUBLIC.ORDERS", "orders"));  // qualified: found by its qualified name, not the bare one
    EXPECT_FALSE(names_word("orders_archive is slow", "orders"));
    EXPECT_FALSE(names_word("the preorders", "orders"));
    EXPECT_FALSE(names_word("other.orders is slow", "orders"));
    EXPECT_FALSE(names_word("public.orders_archive", "public.orders"));
}

TEST(ImpactBugs, LookupNames) {
    EXPECT_EQ(lookup_names("public.orders"), (std::vector<std::string>{"public.orders", "orders"}));
    EXPECT_EQ(lookup_names("public.order_sum(public.orders)"),
              (std::vector<std::string>{"public.order_sum", "order_sum"}));
    EXPECT_EQ(lookup_names("orders_touch on public.orders"),
              (std::vector<std::string>{"orders_touch", "public.orders", "orders"}));
    EXPECT_EQ(lookup_names("\"Sales\".\"Orders\""), (std::vector<std::string>{"Sales.Orders", "Orders"}));
}

TEST(ImpactBugs, RelatedByRefsAndByNames) {
    const auto bugs = parse_bugs("## BUG-7: invoices\ncents\n## BUG-12: orders total\n## BUG-9: customers\n");
    const auto related = related_bugs(bugs, {"bug-7"}, {"public.orders", "public.orders_created_idx"});
    ASSERT_EQ(related.size(), 2u);
    EXPECT_EQ(related[0]["id"], "BUG-7");
    EXPECT_EQ(related[0]["reasons"], nlohmann::json::array({"refs BUG-7"}));
    EXPECT_EQ(related[1]["id"], "BUG-12");
    EXPECT_EQ(related[1]["reasons"], nlohmann::json::array({"names orders"}));
}
