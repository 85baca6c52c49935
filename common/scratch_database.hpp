// The mark of a scratch database of pgmig test, shared by the extension and the client.
#pragma once

#include <string_view>

namespace pgmig::common {

// pgmig test comments its scratch database with this text (COMMENT ON DATABASE). migrate_apply_tested()
// keeps the test's last run of up as the apply only in a database so marked: there down really runs, and
// what it does to data stays (a narrowing ALTER COLUMN ... TYPE, a DELETE), which only a database made
// for the test and dropped after it can accept.
inline constexpr const char* kScratchDatabaseComment =
    "pgmig test scratch database: made for one test run and dropped after it; its data does not matter";
// (written as an SQL literal between single quotes by the client)
static_assert(std::string_view(kScratchDatabaseComment).find('\'') == std::string_view::npos);

}  // namespace pgmig::common
