// pgmig.toml's readers and checks (config_reader.hpp).
#include "client/core/config_reader.hpp"

#include "client/core/errors.hpp"

#include <curl/curl.h>
#include <fmt/core.h>
#include <fmt/ranges.h>
#include <libpq-fe.h>

#include <algorithm>
#include <cctype>

namespace pgmig::client::toml_reader {

void TableReader::read(std::initializer_list<std::pair<std::string_view, Handler>> handlers) const {
    for (const auto& [key, value] : table_) {
        const auto it = std::find_if(handlers.begin(), handlers.end(),
                                     [&](const auto& h) { return h.first == key.str(); });
        if (it == handlers.end()) {
            std::vector<std::string_view> known;
            for (const auto& h : handlers) known.push_back(h.first);
            throw Error(ErrorKind::input, fmt::format("unknown key '{}'", key_path(key.str())), where_,
                        fmt::format("remove it; {} knows only: {}", path_.empty() ? "pgmig.toml" : "[" + path_ + "]",
                                    fmt::join(known, ", ")));
        }
        it->second(value, key_path(key.str()));
    }
}

void wrong_type(const std::string& key, const char* expected, const std::string& where,
                             const std::string& example) {
    throw Error(ErrorKind::input, fmt::format("key '{}' must be {}", key, expected), where,
                fmt::format("write {} = {}", key.substr(key.rfind('.') + 1), example));
}

std::string get_string(const toml::node& node, const std::string& key, const std::string& where,
                       bool allow_empty) {
    const auto* text = node.as_string();
    if (text == nullptr || (!allow_empty && text->get().empty())) {
        wrong_type(key, allow_empty ? "a string" : "a non-empty string", where, "\"...\"");
    }
    return text->get();
}

std::string get_choice(const toml::node& node, const std::string& key, const std::string& where,
                       std::initializer_list<std::string_view> choices) {
    std::string value = get_string(node, key, where);
    if (std::find(choices.begin(), choices.end(), value) == choices.end()) {
        throw Error(ErrorKind::input, fmt::format("key '{}' is '{}'", key, value), where,
                    fmt::format("use one of: {}", fmt::join(choices, ", ")));
    }
    return value;
}

bool get_bool(const toml::node& node, const std::string& key, const std::string& where) {
    const auto* value = node.as_boolean();
    if (value == nullptr) wrong_type(key, "true or false", where, "true");
    return value->get();
}

long long get_int(const toml::node& node, const std::string& key, const std::string& where, long long min,
                  long long max) {
    const auto* value = node.as_integer();
    if (value == nullptr || value->get() < min || value->get() > max) {
        throw Error(ErrorKind::input, fmt::format("key '{}' must be a whole number from {} to {}", key, min, max),
                    where, fmt::format("write {} = {}", key.substr(key.rfind('.') + 1), min));
    }
    return value->get();
}

long get_duration_ms(const toml::node& node, const std::string& key, const std::string& where) {
    if (node.is_integer()) return static_cast<long>(get_int(node, key, where, 0, 86'400'000));
    const std::string text = get_string(node, key, where);
    static constexpr std::pair<std::string_view, long> units[] = {{"ms", 1}, {"s", 1000}, {"min", 60'000}};
    for (const auto& [suffix, factor] : units) {
        if (text.size() > suffix.size() && text.ends_with(suffix)) {
            const std::string number = text.substr(0, text.size() - suffix.size());
            if (std::all_of(number.begin(), number.end(), [](char c) { return c >= '0' && c <= '9'; }) &&
                number.size() <= 8) {
                // "5s" must not match "ms": the digits check refuses "5m" + "s".
                return std::stol(number) * factor;
            }
        }
    }
    throw Error(ErrorKind::input, fmt::format("key '{}' is '{}', not a duration", key, text), where,
                fmt::format("write {} = \"5s\" (ms, s or min)", key.substr(key.rfind('.') + 1)));
}

std::vector<std::string> get_strings(const toml::node& node, const std::string& key, const std::string& where) {
    const auto* array = node.as_array();
    std::vector<std::string> out;
    if (array == nullptr) wrong_type(key, "an array of strings", where, "[\"...\"]");
    for (const auto& item : *array) {
        const auto* text = item.as_string();
        if (text == nullptr || text->get().empty()) wrong_type(key, "an array of non-empty strings", where, "[\"...\"]");
        out.push_back(text->get());
    }
    return out;
}

const toml::table& get_table(const toml::node& node, const std::string& key, const std::string& where) {
    const auto* table = node.as_table();
    if (table == nullptr) {
        throw Error(ErrorKind::input, fmt::format("'{}' must be a table", key), where,
                    fmt::format("write it as a section: [{}]", key));
    }
    return *table;
}

void check_env_name(const std::string& value, const std::string& key, const std::string& where) {
    const bool ok = !value.empty() && std::all_of(value.begin(), value.end(), [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    }) && !(value[0] >= '0' && value[0] <= '9');
    if (!ok) {
        throw Error(ErrorKind::input,
                    fmt::format("key '{}' must name an environment variable (letters, digits, '_'), not hold a value",
                                key),
                    where, "secrets stay out of pgmig.toml: put the value in the environment and name the variable");
    }
}

// Which secret a connection string sets inline, read by libpq's own parser (PQconninfoParse), which
// knows both forms: key=value (password=..., sslpassword=...) and URIs (postgresql://user:secret@host,
// ?password=...). Empty when none. A plain database name (no '=', not a URI) sets nothing.
std::string inline_secret(const std::string& conninfo) {
    const bool uri = conninfo.starts_with("postgresql://") || conninfo.starts_with("postgres://");
    if (!uri && conninfo.find('=') == std::string::npos) return {};
    char* parse_error = nullptr;
    PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), &parse_error);
    if (options == nullptr) {
        if (parse_error != nullptr) PQfreemem(parse_error);  // it may quote the string: never shown
        // libpq cannot read it, so cannot say: refuse what could hold one.
        std::string lower(conninfo.size(), ' ');
        std::transform(conninfo.begin(), conninfo.end(), lower.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        const bool may = lower.find("password") != std::string::npos || (uri && lower.find('@') != std::string::npos);
        return may ? "what may be a password (libpq cannot parse the string to tell)" : std::string();
    }
    std::string found;
    for (const PQconninfoOption* o = options; o->keyword != nullptr && found.empty(); ++o) {
        const std::string_view key = o->keyword;
        if ((key == "password" || key == "sslpassword") && o->val != nullptr && *o->val != '\0') {
            found = key == "password" ? "a password" : "an sslpassword";
        }
    }
    PQconninfoFree(options);
    return found;
}

// Connection strings and URLs kept in the project file: a password written in one is refused, naming the
// environment (or section) and key, never the value.
void check_no_inline_password(const std::string& conninfo, const std::string& key, const std::string& owner,
                              const std::string& where) {
    const std::string secret = inline_secret(conninfo);
    if (secret.empty()) return;
    throw Error(ErrorKind::inline_password, fmt::format("{}: key '{}' holds {} inline", owner, key, secret), where,
                "remove it from pgmig.toml (the value is not shown) and keep the connection string without it",
                "libpq finds the password by itself: in ~/.pgpass (or the file PGPASSFILE names), in the PGPASSWORD "
                "environment variable, or in a service file (service=NAME in pg_service.conf, or PGSERVICEFILE)");
}

// An alert target's URL (webhook url, smtp): a password in its user information is refused the same way.
void check_url_no_password(const std::string& url, const std::string& key, const std::string& owner,
                           const std::string& where) {
    CURLU* handle = curl_url();
    if (handle == nullptr) return;
    bool has_password = false;
    if (curl_url_set(handle, CURLUPART_URL, url.c_str(), CURLU_NON_SUPPORT_SCHEME) == CURLUE_OK) {
        char* password = nullptr;
        if (curl_url_get(handle, CURLUPART_PASSWORD, &password, 0) == CURLUE_OK && password != nullptr) {
            has_password = *password != '\0';
            curl_free(password);
        }
    }
    curl_url_cleanup(handle);
    if (!has_password) return;
    throw Error(ErrorKind::inline_password,
                fmt::format("{}: key '{}' holds a password inline (user:password@)", owner, key), where,
                "remove it from pgmig.toml (the value is not shown)",
                "name the variable that holds it instead: url_env for a webhook, username and password_env for SMTP");
}

}  // namespace pgmig::client::toml_reader
