// The checksum rule shared by the extension and the client: one implementation, compiled into both.
#pragma once

#include <string>
#include <string_view>

namespace pgmig::common {

// Line endings to LF (CRLF and lone CR), trailing spaces/tabs stripped from every line,
// trailing blank lines removed. Leading content is kept as written.
std::string normalize_script(std::string_view text);

// Lower-case hex SHA-256 of the bytes given.
std::string sha256_hex(std::string_view bytes);

// sha256_hex(normalize_script(text)): the text checksum of a migration's up script.
std::string script_checksum(std::string_view text);

}  // namespace pgmig::common
