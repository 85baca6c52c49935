// Durations as users write them in options, directives and flags, shared by the extension and the client.
#pragma once

#include <optional>
#include <string_view>

namespace pgmig::common {

// Milliseconds of "500", "500ms", "5s" or "2min" (blanks around the number and unit allowed);
// nullopt for anything else, or for more than INT_MAX milliseconds.
std::optional<int> parse_duration_ms(std::string_view text);

}  // namespace pgmig::common
