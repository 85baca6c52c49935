// The bytes pgmig accepts in the text files it reads (migrations, the schema folder, pgmig.toml): UTF-8
// as PostgreSQL's UTF8 encoding defines it, without NUL. A NUL byte cuts the text short wherever it becomes
// a C string (a libpq parameter, the server's parser), and invalid UTF-8 is refused by the server or
// breaks JSON output: both are refused when the file is read, naming where. Pure C++, unit-tested.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace pgmig::client {

// Where the first refused byte is and what it is.
struct BadBytes {
    std::size_t offset = 0;  // 0-based byte offset in the text
    int line = 1;            // 1-based
    int column = 1;          // 1-based, in characters of the line
    std::string what;        // "a NUL byte", "invalid UTF-8 (0xc3 0x28)"
};

// The first NUL byte or invalid UTF-8 sequence of `text` (overlong forms, surrogates, code points
// above U+10FFFF and truncated sequences are invalid, as for PostgreSQL), or nullopt when it is clean.
std::optional<BadBytes> find_bad_bytes(std::string_view text);

// "a NUL byte at line 2, column 25 (byte offset 36)".
std::string describe(const BadBytes& bad);

// What to do about it, for error messages.
inline constexpr const char* kBadBytesAdvice =
    "save the file as UTF-8 without NUL bytes (e.g. iconv -f LATIN1 -t UTF-8; grep -naP '\\x00' FILE finds NULs)";

}  // namespace pgmig::client
