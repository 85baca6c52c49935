// Aggregates (CREATE AGGREGATE): created after the functions they call and before the views that call
// them; a changed one is CREATE OR REPLACE AGGREGATE (PostgreSQL 12+), so that views over it stay.
#include "client/diff/catalog_kinds.hpp"

namespace pgmig::schema_diff::kinds {

namespace {

std::string aggregate_sql(const std::string& ident, const nlohmann::json& d, bool replace) {
    const nlohmann::json& g = get(d, "aggregate");
    const std::string name = ident.substr(0, ident.find('('));
    std::string sql = std::string(replace ? "CREATE OR REPLACE AGGREGATE " : "CREATE AGGREGATE ") + name + "(" +
                      text(g, "arguments") + ") (\n    SFUNC = " + text(g, "sfunc") +
                      ",\n    STYPE = " + text(g, "stype");
    auto opt = [&](const char* key, const char* clause, bool literal) {
        if (text(g, key).empty()) return;
        sql += std::string(",\n    ") + clause + " = " + (literal ? quote_literal(text(g, key)) : text(g, key));
    };
    auto num = [&](const char* key, const char* clause) {
        if (get(g, key).is_number()) sql += std::string(",\n    ") + clause + " = " + get(g, key).dump();
    };
    auto on = [&](const char* key, const char* clause) {
        if (get(g, key).is_boolean() && get(g, key).get<bool>()) sql += std::string(",\n    ") + clause;
    };
    auto modify = [&](const char* key, const char* clause, const char* fn) {
        const std::string m = text(g, key);
        if (text(g, fn).empty() || m.empty()) return;
        const bool ordered = !text(g, "kind").empty();
        const std::string dflt = ordered ? "w" : "r";  // the defaults CREATE AGGREGATE chooses
        if (m == dflt) return;
        sql += std::string(",\n    ") + clause + " = " +
               (m == "r"   ? "READ_ONLY"
                : m == "s" ? "SHAREABLE"
                           : "READ_WRITE");
    };
    num("sspace", "SSPACE");
    opt("finalfunc", "FINALFUNC", false);
    on("finalfunc_extra", "FINALFUNC_EXTRA");
    modify("finalfunc_modify", "FINALFUNC_MODIFY", "finalfunc");
    opt("combinefunc", "COMBINEFUNC", false);
    opt("serialfunc", "SERIALFUNC", false);
    opt("deserialfunc", "DESERIALFUNC", false);
    opt("initcond", "INITCOND", true);
    opt("msfunc", "MSFUNC", false);
    opt("minvfunc", "MINVFUNC", false);
    opt("mstype", "MSTYPE", false);
    num("msspace", "MSSPACE");
    opt("mfinalfunc", "MFINALFUNC", false);
    on("mfinalfunc_extra", "MFINALFUNC_EXTRA");
    modify("mfinalfunc_modify", "MFINALFUNC_MODIFY", "mfinalfunc");
    opt("minitcond", "MINITCOND", true);
    if (!text(g, "sortop").empty()) {
        const std::string op = text(g, "sortop");
        sql += ",\n    SORTOP = OPERATOR(" + op.substr(0, op.find('(')) + ")";
    }
    const std::string parallel = text(g, "parallel");
    if (parallel == "s") sql += ",\n    PARALLEL = SAFE";
    if (parallel == "r") sql += ",\n    PARALLEL = RESTRICTED";
    if (text(g, "kind") == "h") sql += ",\n    HYPOTHETICAL";
    return sql + "\n);";
}

std::vector<std::string> create_aggregate(const std::string& ident, const nlohmann::json& d) {
    std::vector<std::string> out{aggregate_sql(ident, d, false)};
    append_comment(out, "AGGREGATE", ident, d);
    return out;
}

}  // namespace

void diff_aggregates(const Objects& from, const Objects& to, KindsOutput& out) {
    for (const auto& [key, ab] : pairs(from, to, "aggregate ")) {
        const auto [a, b] = ab;
        const std::string ident = key.substr(std::string("aggregate ").size());
        if (a != nullptr && b != nullptr) {
            if (*a == *b) continue;
            if (get(*a, "aggregate") != get(*b, "aggregate")) {
                if (text(get(*a, "aggregate"), "kind") != text(get(*b, "aggregate"), "kind")) {
                    create_drop(key, a, b, k_aggregate, 0, create_aggregate(ident, *a), create_aggregate(ident, *b),
                                "DROP AGGREGATE " + ident + ";", out);
                    continue;
                }
                KindStep s;
                s.bucket = k_aggregate;
                s.subject = key;
                s.up.push_back(aggregate_sql(ident, *b, true));
                s.down.push_back(aggregate_sql(ident, *a, true));
                out.steps.push_back(std::move(s));
            }
            comment_step("AGGREGATE", ident, a, b, key, out);
            continue;
        }
        create_drop(key, a, b, k_aggregate, 0, a ? create_aggregate(ident, *a) : std::vector<std::string>{},
                    b ? create_aggregate(ident, *b) : std::vector<std::string>{}, "DROP AGGREGATE " + ident + ";", out);
    }
}

}  // namespace pgmig::schema_diff::kinds
