// Publishes the position of a migration run in pg_stat_activity (see progress.hpp).
#include "progress.hpp"

extern "C" {
#include "postgres.h"
#include "pgstat.h"
#include "tcop/tcopprot.h"
#include "utils/backend_status.h"
}

#include <fmt/format.h>

#include <new>

#include "pg/boundary.hpp"
#include "redact.hpp"

namespace pgmig {

namespace {
constexpr std::size_t kShown = 200;  // bytes of the statement's first line published
constexpr const char* kWithheld = "(statement withheld: it may hold a secret)";
}  // namespace

void ProgressReport::report(const std::string& label, bool up, std::size_t migration, std::size_t migrations,
                            std::size_t statement, std::size_t statements, int line, const std::string& text) {
    std::string shown;
    try {
        // Only statements that mention a secret-bearing keyword are parsed again (the hot path stays cheap).
        // When redaction changes nothing although a keyword is there (a DO block, a function body, a
        // statement that does not parse), the secret cannot be isolated: withhold the statement.
        shown = text;
        if (mentions_secret(text)) {
            shown = redact_statement(text);
            if (shown == text) shown = kWithheld;
        }
    } catch (const std::bad_alloc&) {  // anything else (a cancel) propagates; redaction handles what does not parse
        shown = kWithheld;
    }
    shown = shown.substr(0, shown.find('\n'));
    if (shown.size() > kShown) {
        size_t cut = kShown;  // do not cut a UTF-8 character in half
        while (cut > 0 && (static_cast<unsigned char>(shown[cut]) & 0xC0) == 0x80) --cut;
        shown = shown.substr(0, cut) + "...";
    }
    const std::string activity =
        fmt::format("pgmig {}: {} ({} of {}), statement {} of {} at line {}: {}", up ? "migrate_apply" : "migrate_rollback",
                    label, migration, migrations, statement, statements, line, shown);
    pg::call([&] { pgstat_report_activity(STATE_RUNNING, activity.c_str()); });
    reported_ = true;
}

ProgressReport::~ProgressReport() {
    // pgstat_report_activity only copies into this backend's shared status slot: it does not raise.
    if (reported_ && debug_query_string != nullptr) pgstat_report_activity(STATE_RUNNING, debug_query_string);
}

}  // namespace pgmig
