// Reading pgmig.toml's tables with toml++: every key known by name, everything else refused by name; typed
// getters whose errors name the key and say what to write; the checks that keep secrets out of the file.
// Used by client/core/config.cpp (the project, environments, alerts) and client/ops/fleet/fleet_config.cpp (fleets).
#pragma once

#include <toml++/toml.h>

#include <functional>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pgmig::client::toml_reader {

// Reads one table's keys: each known key has a reader; any other key is an error naming the table.
class TableReader {
  public:
    TableReader(const toml::table& table, std::string path, std::string where)
        : table_(table), path_(std::move(path)), where_(std::move(where)) {}

    using Handler = std::function<void(const toml::node&, const std::string& key_path)>;

    void read(std::initializer_list<std::pair<std::string_view, Handler>> handlers) const;

    std::string key_path(std::string_view key) const {
        return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
    }

  private:
    const toml::table& table_;
    std::string path_;
    std::string where_;
};

// Each getter throws Error(input) naming the key (a dotted path) and `where` (the file).
[[noreturn]] void wrong_type(const std::string& key, const char* expected, const std::string& where,
                             const std::string& example);
std::string get_string(const toml::node& node, const std::string& key, const std::string& where,
                       bool allow_empty = false);
std::string get_choice(const toml::node& node, const std::string& key, const std::string& where,
                       std::initializer_list<std::string_view> choices);
bool get_bool(const toml::node& node, const std::string& key, const std::string& where);
long long get_int(const toml::node& node, const std::string& key, const std::string& where, long long min,
                  long long max);
// "500ms", "5s", "2min" or a whole number of milliseconds.
long get_duration_ms(const toml::node& node, const std::string& key, const std::string& where);
std::vector<std::string> get_strings(const toml::node& node, const std::string& key, const std::string& where);
const toml::table& get_table(const toml::node& node, const std::string& key, const std::string& where);

// A key naming an environment variable (key_env, url_env...): letters, digits and '_', not a value.
void check_env_name(const std::string& value, const std::string& key, const std::string& where);

// Which secret a connection string sets inline ("a password", "an sslpassword"), read by libpq's own parser;
// empty when none.
std::string inline_secret(const std::string& conninfo);

// Connection strings and URLs kept in the project file: a password written in one is refused (exit 42),
// naming `owner` (the environment or section) and the key, never the value.
void check_no_inline_password(const std::string& conninfo, const std::string& key, const std::string& owner,
                              const std::string& where);
void check_url_no_password(const std::string& url, const std::string& key, const std::string& owner,
                           const std::string& where);

}  // namespace pgmig::client::toml_reader
