// docs/errors.md made from the error table (common/errors.def) and the page around it (docs/errors.md.in).
#pragma once

#include <string>
#include <string_view>

namespace pgmig::common {

// The page with its tables filled in from common/errors.def: the template's line "@SQLSTATES@" becomes the
// table of the extension's SQLSTATEs, its line "@EXIT_CODES@" the table of the client's exit codes.
// Throws std::invalid_argument when the template lacks either line.
std::string errors_markdown(std::string_view page_template);

}  // namespace pgmig::common
