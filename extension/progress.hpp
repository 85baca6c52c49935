// Progress of a migration run, published in pg_stat_activity.query so that `pgmig monitor` (another
// session) sees which migration and statement run: "pgmig migrate_apply: migration 3 "orders" (2 of 5),
// statement 4 of 7 at line 12: ALTER TABLE orders ..." (the function's name stays in the text, so that
// looking for '%migrate_apply%' in pg_stat_activity still finds the run). The statement is its first line,
// cut, with secrets redacted (the
// ledger cannot serve it: a first apply registers the migration in the same, uncommitted transaction).
#pragma once

#include <cstddef>
#include <string>

namespace pgmig {

// Restores the session's own query text in pg_stat_activity when the run ends (also on error).
class ProgressReport {
  public:
    ProgressReport() = default;
    ~ProgressReport();
    ProgressReport(const ProgressReport&) = delete;
    ProgressReport& operator=(const ProgressReport&) = delete;

    void report(const std::string& label, bool up, std::size_t migration, std::size_t migrations,
                std::size_t statement, std::size_t statements, int line, const std::string& text);

  private:
    bool reported_ = false;
};

}  // namespace pgmig
