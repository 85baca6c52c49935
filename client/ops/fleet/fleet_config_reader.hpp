// Reading [fleets.NAME] tables (client/core/config.cpp calls it for its `fleets` key, after the environments).
#pragma once

#include "client/core/config.hpp"

#include <toml++/toml.h>

#include <string>

namespace pgmig::client::fleet {

// Throws Error(input) (or inline_password) naming the key and `where`; an `environment` must name one of
// config.environments.
Fleet read_fleet(const std::string& name, const toml::table& table, const ProjectConfig& config,
                 const std::string& where);

// The fleet NAME of ./pgmig.toml; Error(input) listing the known fleets when there is none.
const Fleet& find_fleet(const ProjectConfig& config, const std::string& name);

// host:port/dbname of a connection string (libpq's defaults where it names none), as a target's name.
std::string name_from_conninfo(const std::string& conninfo);
// host:port of a connection string: the server a fleet's per_server limit counts by.
std::string server_from_conninfo(const std::string& conninfo);

}  // namespace pgmig::client::fleet
