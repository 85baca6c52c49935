// Extended statistics (CREATE STATISTICS): created after the columns they read, dropped before; a changed
// definition is dropped and created again (statistics hold no data: ANALYZE fills them), a changed target
// is ALTER STATISTICS ... SET STATISTICS.
#include "client/diff/catalog_kinds.hpp"

namespace pgmig::schema_diff::kinds {

namespace {

std::vector<std::string> create_statistics(const std::string& ident, const nlohmann::json& d) {
    std::vector<std::string> out{text(d, "definition") + ";"};
    if (get(d, "target").is_number())
        out.push_back("ALTER STATISTICS " + ident + " SET STATISTICS " + get(d, "target").dump() + ";");
    append_comment(out, "STATISTICS", ident, d);
    return out;
}

}  // namespace

void diff_statistics(const Objects& from, const Objects& to, KindsOutput& out) {
    for (const auto& [key, ab] : pairs(from, to, "statistics object ")) {
        const auto [a, b] = ab;
        const std::string ident = key.substr(std::string("statistics object ").size());
        if (a != nullptr && b != nullptr) {
            if (*a == *b) continue;
            if (text(*a, "definition") == text(*b, "definition")) {
                if (get(*a, "target") != get(*b, "target")) {
                    auto target = [](const nlohmann::json& d) {
                        return get(d, "target").is_number() ? get(d, "target").dump() : std::string("-1");
                    };
                    KindStep s;
                    s.bucket = k_statistics;
                    s.subject = key;
                    s.up.push_back("ALTER STATISTICS " + ident + " SET STATISTICS " + target(*b) + ";");
                    s.down.push_back("ALTER STATISTICS " + ident + " SET STATISTICS " + target(*a) + ";");
                    out.steps.push_back(std::move(s));
                }
                comment_step("STATISTICS", ident, a, b, key, out);
                continue;
            }
        }
        create_drop(key, a, b, k_statistics, 0, a ? create_statistics(ident, *a) : std::vector<std::string>{},
                    b ? create_statistics(ident, *b) : std::vector<std::string>{}, "DROP STATISTICS " + ident + ";",
                    out);
    }
}

}  // namespace pgmig::schema_diff::kinds
