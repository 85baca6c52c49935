// The lint rules and waivers (see lint_rules.hpp).
#include "lint_rules.hpp"

#include <algorithm>
#include <iterator>

namespace pgmig::common {

namespace {

using enum LintSeverity;

// Every rule id, with its default severity. Ids are a contract (waivers name them): never rename.
constexpr LintRule kRules[] = {
    {"syntax-error", error},
    {"add-column-not-null-no-default", error},
    {"add-column-volatile-default", error},
    {"alter-column-type", error},
    {"set-not-null", warning},
    {"add-constraint-not-valid-missing", error},
    {"add-unique-without-index", error},
    {"create-index-not-concurrently", error},
    {"drop-index-not-concurrently", warning},
    {"concurrently-in-transaction", error},
    {"rename-column", warning},
    {"rename-table", warning},
    {"drop-column", error},
    {"drop-table", error},
    {"drop-schema", error},
    {"drop-not-null", warning},
    {"truncate", error},
    {"delete-without-where", error},
    {"update-without-where", error},
    {"vacuum-full", error},
    {"cluster", error},
    {"lock-table", warning},
    {"missing-lock-timeout", warning},
    {"create-not-idempotent", advice},
    {"drop-not-idempotent", advice},
    {"prefer-jsonb", advice},
    {"prefer-timestamptz", advice},
    {"prefer-identity", advice},
    {"prefer-bigint-pk", advice},
};

std::string waivable_ids() {
    std::string out;
    for (const LintRule& r : kRules) {
        if (std::string_view(r.id) == "syntax-error") continue;
        out += (out.empty() ? "" : ", ") + std::string(r.id);
    }
    return out;
}

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

constexpr const char* kWaiverExample = "e.g. -- pgmig:allow drop-column, rename-column";

}  // namespace

const LintRule* find_lint_rule(std::string_view id) {
    const auto* found =
        std::find_if(std::begin(kRules), std::end(kRules), [id](const LintRule& r) { return id == r.id; });
    return found == std::end(kRules) ? nullptr : found;
}

void check_waivable(std::string_view id, std::string_view where) {
    const std::string at = " (" + std::string(where) + ")";
    if (id == "syntax-error") {
        throw InvalidWaiver("syntax-error cannot be waived" + at, "a script that does not parse cannot run",
                            "fix the syntax error instead");
    }
    if (find_lint_rule(id) == nullptr) {
        throw InvalidWaiver("unknown lint rule \"" + std::string(id) + "\"" + at, "known rules: " + waivable_ids(),
                            "correct the rule id (see the lint rules in docs/reference.md), or remove the waiver");
    }
}

std::optional<std::string_view> waiver_rest(std::string_view body) {
    std::size_t first = 0;
    while (first < body.size() && (body[first] == ' ' || body[first] == '\t')) ++first;
    if (body.substr(first, kWaiverMarker.size()) != kWaiverMarker) return std::nullopt;
    return body.substr(first + kWaiverMarker.size());
}

std::vector<std::string> waiver_rules(std::string_view rest, std::string_view where) {
    if (!rest.empty() && !is_blank(rest.front())) {
        throw InvalidWaiver(
            std::string(where) + ": \"pgmig:allow" + std::string(rest.substr(0, 20)) + "\" is no waiver",
            "a blank separates pgmig:allow from the rules it allows", kWaiverExample);
    }
    return waiver_list(rest, where);
}

std::vector<std::string> waiver_list(std::string_view list, std::string_view where) {
    if (const std::size_t reason = list.find("--"); reason != std::string_view::npos) list = list.substr(0, reason);
    const auto empty_item = [where] {
        return InvalidWaiver(std::string(where) + " has an empty item in its list of rules",
                             "rules are separated by commas or blanks", kWaiverExample);
    };
    std::vector<std::string> rules;
    std::string current;
    bool after_comma = true;  // true also at the start: a comma needs a rule on either side
    for (const char c : list) {
        if (c == ',' || is_blank(c)) {
            if (!current.empty()) rules.push_back(std::move(current));
            current.clear();
            if (c == ',') {
                if (after_comma) throw empty_item();
                after_comma = true;
            }
        } else {
            current += c;
            after_comma = false;
        }
    }
    if (!current.empty()) rules.push_back(std::move(current));
    if (rules.empty()) {
        throw InvalidWaiver(std::string(where) + " names no rule", "a waiver names the rules it allows",
                            kWaiverExample);
    }
    if (after_comma) throw empty_item();
    for (const std::string& r : rules) check_waivable(r, where);
    return rules;
}

}  // namespace pgmig::common

// common/ is compiled into the client too, which has no PostgreSQL server headers: none may be included here.
#ifdef PG_VERSION_NUM
#error "a PostgreSQL server header was included into common/, which the client compiles as well"
#endif
