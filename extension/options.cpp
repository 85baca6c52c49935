// Validation of migration and migrate_lint options: unknown keys and wrong types are errors, never ignored.
#include "options.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <climits>

#include "common/duration.hpp"
#include "errors.hpp"

namespace pgmig {

namespace {

struct Key {
    const char* name;
    bool migration;  // a key of migrate_register's options
    bool lint;       // a key of migrate_lint's options
};

constexpr Key kKeys[] = {
    {"transactional", true, true}, {"repeatable", true, false},  {"refs", true, false},
    {"allow", true, true},         {"lock_timeout", true, true}, {"statement_timeout", true, false},
    {"retries", true, false},      {"down_of", false, true},
};

[[noreturn]] void bad_option(OptionsOf of, const std::string& where, const std::string& what) {
    if (of == OptionsOf::lint) {
        throw Error(sqlstate::lint_invalid_waiver, "invalid migrate_lint options: " + what,
                    "known options: allow (rule ids), transactional (true/false), lock_timeout (ms or \"5s\"), "
                    "down_of (the up script, when linting its down script)",
                    R"(for example '{"allow": ["drop-column"], "transactional": false}')");
    }
    throw Error(sqlstate::invalid_argument, fmt::format("invalid options for {}: {}", where, what),
                "known options: transactional, repeatable, refs, allow, lock_timeout, statement_timeout, retries",
                R"(for example '{"lock_timeout": "2s", "retries": 5}')");
}

}  // namespace

MigrationOptions parse_options(const std::string& json_text, OptionsOf of, const std::string& where) {
    const auto bad = [of, &where](const std::string& what) { bad_option(of, where, what); };
    const nlohmann::json doc = nlohmann::json::parse(json_text, nullptr, false);
    if (doc.is_discarded() || !doc.is_object()) bad("options must be a JSON object");
    // A string or an array of strings (refs, allow).
    const auto strings = [&bad](const nlohmann::json& v, const std::string& key, const char* what) {
        std::vector<std::string> out;
        if (v.is_string()) {
            out.push_back(v.get<std::string>());
            return out;
        }
        if (!v.is_array()) bad(fmt::format("\"{}\" must be a {} or an array of them", key, what));
        for (const auto& item : v) {
            if (!item.is_string()) bad(fmt::format("\"{}\" must contain only strings ({}s)", key, what));
            out.push_back(item.get<std::string>());
        }
        return out;
    };
    const auto duration = [&bad](const nlohmann::json& v, const std::string& key) {
        std::optional<int> ms;
        if (v.is_number_integer() && v.get<long long>() >= 0 && v.get<long long>() <= INT_MAX) {
            ms = static_cast<int>(v.get<long long>());
        } else if (v.is_string()) {
            ms = common::parse_duration_ms(v.get<std::string>());
        }
        if (!ms) bad(fmt::format("\"{}\" must be milliseconds (a number) or a duration such as \"5s\"", key));
        return *ms;
    };
    MigrationOptions o;
    for (const auto& [key, v] : doc.items()) {
        bool known = false;
        for (const Key& k : kKeys) known = known || (key == k.name && (of == OptionsOf::lint ? k.lint : k.migration));
        if (!known) bad(fmt::format("unknown option \"{}\"", key));
        if (key == "transactional" || key == "repeatable") {
            if (!v.is_boolean()) bad(fmt::format("\"{}\" must be true or false", key));
            (key == "transactional" ? o.transactional : o.repeatable) = v.get<bool>();
        } else if (key == "refs") {
            o.refs = strings(v, key, "issue id");
        } else if (key == "allow") {
            o.allow = strings(v, key, "rule id");
        } else if (key == "lock_timeout") {
            o.lock_timeout_ms = duration(v, key);
        } else if (key == "statement_timeout") {
            o.statement_timeout_ms = duration(v, key);
        } else if (key == "retries") {
            if (!v.is_number_integer() || v.get<long long>() < 0 || v.get<long long>() > 100) {
                bad("\"retries\" must be a whole number from 0 to 100");
            }
            o.retries = static_cast<int>(v.get<long long>());
        } else if (key == "down_of") {
            if (!v.is_string()) bad("\"down_of\" must be the text of the up script");
            o.down_of = v.get<std::string>();
        }
    }
    return o;
}

}  // namespace pgmig
