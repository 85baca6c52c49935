// Wave planning (plan.hpp).
#include "client/ops/fleet/plan.hpp"

#include "client/core/errors.hpp"

#include <fmt/core.h>

#include <algorithm>

namespace pgmig::client::fleet {

bool labels_match(const Labels& want, const Labels& have) {
    return std::all_of(want.begin(), want.end(), [&](const auto& label) {
        const auto it = have.find(label.first);
        return it != have.end() && it->second == label.second;
    });
}

std::vector<PlannedWave> plan_waves(const Fleet& fleet, std::vector<FleetTarget> targets) {
    std::sort(targets.begin(), targets.end(), [](const FleetTarget& a, const FleetTarget& b) { return a.name < b.name; });
    for (std::size_t i = 1; i < targets.size(); ++i) {
        if (targets[i].name == targets[i - 1].name) {
            throw Error(ErrorKind::input, fmt::format("fleet '{}' has two targets named '{}'", fleet.name, targets[i].name),
                        "in the fleet's targets (listed, found on its servers or returned by its directory query)",
                        "give each target its own name (a directory query returns a name column for that)");
        }
    }
    const auto total = static_cast<long long>(targets.size());
    std::vector<bool> taken(targets.size(), false);
    std::vector<PlannedWave> waves;
    for (const WaveSpec& spec : fleet.waves) {
        PlannedWave wave{spec.name, spec.parallel.value_or(fleet.parallel), spec.max_failures.value_or(fleet.max_failures),
                         spec.then, {}};
        long long limit = total;
        if (spec.count) limit = *spec.count;
        if (spec.percent) limit = (total * *spec.percent + 99) / 100;
        for (std::size_t i = 0; i < targets.size() && static_cast<long long>(wave.targets.size()) < limit; ++i) {
            if (taken[i] || !labels_match(spec.labels, targets[i].labels)) continue;
            taken[i] = true;
            wave.targets.push_back(targets[i].name);
        }
        waves.push_back(std::move(wave));
    }
    std::string rest_name = fleet.waves.empty() ? "all" : "rest";
    while (std::any_of(waves.begin(), waves.end(), [&](const PlannedWave& w) { return w.name == rest_name; })) {
        rest_name += "_";  // a wave of the file is named "rest" already
    }
    PlannedWave rest{rest_name, fleet.parallel, fleet.max_failures, "continue", {}};
    for (std::size_t i = 0; i < targets.size(); ++i) {
        if (!taken[i]) rest.targets.push_back(targets[i].name);
    }
    if (!rest.targets.empty() || waves.empty()) waves.push_back(std::move(rest));
    return waves;
}

}  // namespace pgmig::client::fleet
