// The targets of a fleet: those listed in pgmig.toml, every matching database of its servers, and the rows of
// its directory query, each read when a run starts (a resume uses the targets its state file recorded).
#pragma once

#include "client/ops/fleet/fleet_config.hpp"

#include <string>
#include <vector>

namespace pgmig::client::fleet {

// Throws Error (connect, bad_conninfo, input, inline_password) naming the server or the directory row. With
// `unreadable`, a server or directory that cannot be read is added to it (its error line) instead: a report
// (fleet drift) goes on with the rest, a deploy never does (it would leave that server's databases out).
std::vector<FleetTarget> resolve_targets(const Fleet& fleet, std::vector<std::string>* unreadable = nullptr);

// The connection string `conninfo` with its dbname replaced by `dbname`, in key=value form.
std::string with_dbname(const std::string& conninfo, const std::string& dbname);

}  // namespace pgmig::client::fleet
