// Operators (CREATE OPERATOR): created after their functions, before the indexes and views that use them.
// ALTER OPERATOR can change only a few of an operator's properties, and an operator in use cannot be
// dropped: a changed operator is named unsupported, as are operator classes and families (their members
// are written per family, and rebuilding one means rebuilding every index that uses it).
#include "client/diff/catalog_kinds.hpp"

namespace pgmig::schema_diff::kinds {

namespace {

// "public.===(integer,integer)" -> "public.==="
std::string op_name(const std::string& signature) { return signature.substr(0, signature.find('(')); }

std::string drop_operator(const std::string& ident) {
    // "public.===(integer,integer)" -> "public.=== (integer, integer)"; a prefix operator's NONE stays
    const auto open = ident.find('(');
    std::string args = ident.substr(open);
    return "DROP OPERATOR " + ident.substr(0, open) + " " + args + ";";
}

std::vector<std::string> create_operator(const std::string& ident, const nlohmann::json& d) {
    std::string fn = text(d, "function");
    std::string sql = "CREATE OPERATOR " + op_name(ident) + " (\n    FUNCTION = " + fn.substr(0, fn.find('('));
    if (!text(d, "left").empty()) sql += ",\n    LEFTARG = " + text(d, "left");
    sql += ",\n    RIGHTARG = " + text(d, "right");
    if (!text(d, "commutator").empty()) sql += ",\n    COMMUTATOR = OPERATOR(" + op_name(text(d, "commutator")) + ")";
    if (!text(d, "negator").empty()) sql += ",\n    NEGATOR = OPERATOR(" + op_name(text(d, "negator")) + ")";
    if (!text(d, "restrict").empty()) sql += ",\n    RESTRICT = " + text(d, "restrict");
    if (!text(d, "join").empty()) sql += ",\n    JOIN = " + text(d, "join");
    if (get(d, "hashes").is_boolean()) sql += ",\n    HASHES";
    if (get(d, "merges").is_boolean()) sql += ",\n    MERGES";
    std::vector<std::string> out{sql + "\n);"};
    append_comment(out, "OPERATOR", op_name(ident) + " " + ident.substr(ident.find('(')), d);
    return out;
}

}  // namespace

void diff_operators(const Objects& from, const Objects& to, KindsOutput& out) {
    for (const auto& [key, ab] : pairs(from, to, "operator ")) {
        const auto [a, b] = ab;
        if (key.rfind("operator class ", 0) == 0 || key.rfind("operator family ", 0) == 0) {
            if (a != nullptr && b != nullptr && equal_but_owner(*a, *b)) continue;
            out.unsupported.push_back(key +
                                      (a == nullptr   ? ": added"
                                       : b == nullptr ? ": removed"
                                                      : ": changed") +
                                      "; pgmig diff does not write operator classes and families (write them, and "
                                      "the indexes that use them, in a hand-written migration)");
            continue;
        }
        const std::string ident = key.substr(std::string("operator ").size());
        const std::string comment_name = op_name(ident) + " " + ident.substr(ident.find('('));
        if (a != nullptr && b != nullptr) {
            if (!only_comment_changes(*a, *b)) {
                out.unsupported.push_back(key +
                                          ": changed; ALTER OPERATOR cannot change its function or arguments, "
                                          "and an operator in use cannot be dropped: write it by hand");
                continue;
            }
            comment_step("OPERATOR", comment_name, a, b, key, out);
            continue;
        }
        create_drop(key, a, b, k_operator, 1, a ? create_operator(ident, *a) : std::vector<std::string>{},
                    b ? create_operator(ident, *b) : std::vector<std::string>{}, drop_operator(ident), out);
    }
}

}  // namespace pgmig::schema_diff::kinds
