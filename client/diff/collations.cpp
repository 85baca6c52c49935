// Collations (CREATE COLLATION): created and dropped; a collation cannot be altered, so a changed one is
// named unsupported (dropping it would take the columns and indexes that use it).
#include "client/diff/catalog_kinds.hpp"

namespace pgmig::schema_diff::kinds {

namespace {

std::vector<std::string> create_collation(const std::string& ident, const nlohmann::json& d) {
    std::string sql = "CREATE COLLATION " + ident + " (";
    const std::string provider = text(d, "provider");
    if (provider == "i") {
        sql += "provider = icu, locale = " + quote_literal(text(d, "icu_locale"));
    } else {
        sql += "provider = libc, lc_collate = " + quote_literal(text(d, "lc_collate")) +
               ", lc_ctype = " + quote_literal(text(d, "lc_ctype"));
    }
    const nlohmann::json& det = get(d, "deterministic");
    if (det.is_boolean() && !det.get<bool>()) sql += ", deterministic = false";
    std::vector<std::string> out{sql + ");"};
    append_comment(out, "COLLATION", ident, d);
    return out;
}

}  // namespace

void diff_collations(const Objects& from, const Objects& to, KindsOutput& out) {
    for (const auto& [key, ab] : pairs(from, to, "collation ")) {
        const auto [a, b] = ab;
        const std::string ident = key.substr(std::string("collation ").size());
        if (a != nullptr && b != nullptr) {
            if (!only_comment_changes(*a, *b)) {
                out.unsupported.push_back(key +
                                          ": its provider or locale changes; a collation cannot be altered, and "
                                          "dropping it would take the columns and indexes that use it");
                continue;
            }
            comment_step("COLLATION", ident, a, b, key, out);
            continue;
        }
        if (a == nullptr && b == nullptr) continue;
        create_drop(key, a, b, k_collation, -1, a ? create_collation(ident, *a) : std::vector<std::string>{},
                    b ? create_collation(ident, *b) : std::vector<std::string>{}, "DROP COLLATION " + ident + ";", out);
    }
}

}  // namespace pgmig::schema_diff::kinds
