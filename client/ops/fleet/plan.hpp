// The waves of a fleet run: which targets each wave takes, in a deterministic order (by name), so that the
// plan written into a run's state file is the plan a resume follows.
#pragma once

#include "client/ops/fleet/fleet_config.hpp"

#include <string>
#include <vector>

namespace pgmig::client::fleet {

struct PlannedWave {
    std::string name;
    int parallel = 1;
    FailureLimit max_failures;
    std::string then = "continue";
    std::vector<std::string> targets;  // names, in the order they start
};

// True when `have` carries every label of `want` with the same value.
bool labels_match(const Labels& want, const Labels& have);

// Each wave of fleet.waves takes, from the targets no earlier wave took (sorted by name), those carrying its
// labels, at most `count` of them or `percent` of the whole fleet (rounded up); what no wave took forms a
// last wave named "rest" with the fleet's defaults. Without waves: one wave "all".
// Throws Error(input) when two targets have the same name.
std::vector<PlannedWave> plan_waves(const Fleet& fleet, std::vector<FleetTarget> targets);

}  // namespace pgmig::client::fleet
