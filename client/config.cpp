// pgmig.toml through toml++: one known key, everything else refused by name.
#include "client/config.hpp"

#include "client/errors.hpp"

#include <fmt/core.h>
#include <toml++/toml.h>

namespace pgmig::client {

ProjectConfig load_config(const std::filesystem::path& file) {
    const std::string where = "in " + file.string();
    toml::table table;
    try {
        table = toml::parse_file(file.string());
    } catch (const toml::parse_error& e) {
        const auto& begin = e.source().begin;
        throw Error(ErrorKind::input, fmt::format("cannot parse the project file: {}", e.description()),
                    fmt::format("{} line {} column {}", where, begin.line, begin.column),
                    "fix it (TOML syntax: migrations = \"migrations\")");
    }
    ProjectConfig config;
    for (const auto& [key, value] : table) {
        if (key.str() == "migrations") {
            const auto* text = value.as_string();
            if (text == nullptr || text->get().empty()) {
                throw Error(ErrorKind::input, "key 'migrations' must be a non-empty string (a folder)", where,
                            "write migrations = \"migrations\"");
            }
            config.migrations = text->get();
        } else {
            throw Error(ErrorKind::input, fmt::format("unknown key '{}'", key.str()), where,
                        "remove it; pgmig.toml knows only: migrations");
        }
    }
    return config;
}

std::string resolve_migrations_dir(const std::string& dir_option) {
    if (!dir_option.empty()) return dir_option;
    std::error_code ec;
    if (std::filesystem::exists(kConfigFile, ec)) return load_config(kConfigFile).migrations;
    return kDefaultMigrationsDir;
}

}  // namespace pgmig::client
