// Validation of migration options: unknown keys and wrong types are errors, never ignored.
#include "options.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <climits>

#include "common/duration.hpp"
#include "errors.hpp"

namespace pgmig {

namespace {

[[noreturn]] void bad_option(const std::string& where, const std::string& what) {
    throw Error(sqlstate::invalid_argument, fmt::format("invalid options for {}: {}", where, what),
                "known options: transactional, repeatable, refs, allow, lock_timeout, statement_timeout, retries",
                R"(for example '{"lock_timeout": "2s", "retries": 5}')");
}

std::vector<std::string> string_list(const nlohmann::json& v, const std::string& key, const std::string& where) {
    std::vector<std::string> out;
    if (v.is_string()) {
        out.push_back(v.get<std::string>());
        return out;
    }
    if (!v.is_array()) bad_option(where, fmt::format("\"{}\" must be a string or an array of strings", key));
    for (const auto& item : v) {
        if (!item.is_string()) bad_option(where, fmt::format("\"{}\" must contain only strings", key));
        out.push_back(item.get<std::string>());
    }
    return out;
}

int duration_option(const nlohmann::json& v, const std::string& key, const std::string& where) {
    std::optional<int> ms;
    if (v.is_number_integer() && v.get<long long>() >= 0 && v.get<long long>() <= INT_MAX) {
        ms = static_cast<int>(v.get<long long>());
    } else if (v.is_string()) {
        ms = common::parse_duration_ms(v.get<std::string>());
    }
    if (!ms) {
        bad_option(where, fmt::format("\"{}\" must be milliseconds (a number) or a duration such as \"5s\"", key));
    }
    return *ms;
}

}  // namespace

MigrationOptions parse_options(const std::string& json_text, const std::string& where) {
    const nlohmann::json doc = nlohmann::json::parse(json_text, nullptr, false);
    if (doc.is_discarded() || !doc.is_object()) bad_option(where, "options must be a JSON object");
    MigrationOptions o;
    for (const auto& [key, v] : doc.items()) {
        if (key == "transactional" || key == "repeatable") {
            if (!v.is_boolean()) bad_option(where, fmt::format("\"{}\" must be true or false", key));
            (key == "transactional" ? o.transactional : o.repeatable) = v.get<bool>();
        } else if (key == "refs") {
            o.refs = string_list(v, key, where);
        } else if (key == "allow") {
            o.allow = string_list(v, key, where);
        } else if (key == "lock_timeout") {
            o.lock_timeout_ms = duration_option(v, key, where);
        } else if (key == "statement_timeout") {
            o.statement_timeout_ms = duration_option(v, key, where);
        } else if (key == "retries") {
            if (!v.is_number_integer() || v.get<long long>() < 0 || v.get<long long>() > 100) {
                bad_option(where, "\"retries\" must be a whole number from 0 to 100");
            }
            o.retries = static_cast<int>(v.get<long long>());
        } else {
            bad_option(where, fmt::format("unknown option \"{}\"", key));
        }
    }
    return o;
}

}  // namespace pgmig
