// PostgreSQL array literals built from values, shared by the extension and the client: one parameter
// carries a whole list, so one prepared statement serves any number of rows.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace pgmig::common {

// A PostgreSQL array literal of the values, each quoted ("NULL" for nullopt): any text survives array_in,
// whatever its quotes, backslashes, braces, commas or blanks.
std::string text_array_literal(const std::vector<std::optional<std::string>>& values);

// A PostgreSQL array literal of integers ({1,2,3}), for int8[] and the like.
std::string integer_array_literal(const std::vector<long long>& values);

}  // namespace pgmig::common
