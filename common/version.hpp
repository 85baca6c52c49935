// The migration version grammar and its natural order, shared by the extension and the client.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace pgmig::common {

// A version is one or more groups of ASCII digits separated by '.', e.g. "3", "1.10",
// "20240101120000". Returns a reason when `version` is not one, std::nullopt when it is.
std::optional<std::string> version_problem(std::string_view version);

// Byte string whose bytewise order is the natural order of versions: each dot-separated
// group loses its leading zeros and is written as one length byte followed by its digits.
// So "2" < "10", "1.2" < "1.10", "1" < "1.0" < "1.1", and "001" has the same key as "1".
// Precondition: version_problem(version) is empty.
std::string version_sort_key(std::string_view version);

// <0, 0, >0 like strcmp, by version_sort_key.
int compare_versions(std::string_view a, std::string_view b);

}  // namespace pgmig::common
