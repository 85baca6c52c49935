// pgmig audit: the database's DDL audit trail (pgmig.ddl_audit) and migration history (pgmig.history)
// merged by time, so that a DDL statement can be read next to the migration run it belongs to (or seen
// to belong to none: out of band).
#include "client/cli/commands/commands.hpp"
#include "client/core/db.hpp"
#include "client/core/errors.hpp"
#include "client/cli/json_output.hpp"
#include "client/ledger/project.hpp"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <regex>

namespace pgmig::client {

namespace {

// "30min", "2h", "7d", "45s" as a PostgreSQL interval; nullopt when `text` is not such a duration.
std::optional<std::string> since_interval(const std::string& text) {
    static const std::regex duration(R"(^\s*(\d+)\s*(s|sec|m|min|h|d|w)\s*$)");
    std::smatch m;
    if (!std::regex_match(text, m, duration)) return std::nullopt;
    const std::string unit = m[2];
    const char* word = unit == "s" || unit == "sec" ? "seconds"
                       : unit == "m" || unit == "min" ? "minutes"
                       : unit == "h"                  ? "hours"
                       : unit == "d"                  ? "days"
                                                      : "weeks";
    return fmt::format("{} {}", m[1].str(), word);
}

// Both sources in one row shape; `source` says which. JSON built by the server: exact types, no parsing here.
constexpr const char* kTrailQuery = R"SQL(
WITH bound AS (
    SELECT CASE WHEN $1::text IS NULL THEN '-infinity'::timestamptz
                WHEN $2::boolean THEN now() - $1::interval
                ELSE $1::timestamptz END AS since
), events AS (
    SELECT a.at, 'ddl' AS source, a.id, a.session_user_name::text AS who, a.current_user_name::text AS as_role,
           a.command_tag AS what, a.object_identity AS object, a.migration_version AS version,
           a.migration_version IS NULL AS out_of_band, a.policy, a.application_name,
           a.statement AS text
      FROM pgmig.ddl_audit a, bound WHERE a.at >= bound.since
    UNION ALL
    SELECT h.at, 'history', h.id, h.session_user_name::text, h.current_user_name::text,
           h.action, h.name, h.version, false, NULL, h.application_name,
           concat_ws(': ', h.sqlstate, coalesce(h.message, h.reason))
      FROM pgmig.history h, bound WHERE h.at >= bound.since
)
SELECT to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') AS short_at, source, who,
       coalesce(version, '') AS version, what, coalesce(object, '') AS object, out_of_band,
       json_build_object('at', at, 'source', source, 'id', id, 'who', who, 'as_role', as_role, 'what', what,
                         'object', object, 'version', version, 'out_of_band', out_of_band, 'policy', policy,
                         'application_name', application_name, 'text', nullif(text, ''))::text AS json
  FROM events
 ORDER BY at, source DESC, id
)SQL";

}  // namespace

int run_audit_show(const GlobalOptions& global, const AuditShowOptions& options) {
    Connection conn = Connection::open(connection_for(global, options.env));
    require_extension(conn);
    std::optional<std::string> since;
    bool relative = false;
    if (!options.since.empty()) {
        if (auto interval = since_interval(options.since)) {
            since = *interval;
            relative = true;
        } else {
            since = options.since;
        }
    }
    Result res = conn.exec_params(kTrailQuery, {since, relative ? "true" : "false"});
    if (!res.ok()) {
        const ServerError e = res.error();
        if (e.sqlstate.rfind("22", 0) == 0) {
            throw Error(ErrorKind::usage, fmt::format("--since {} is neither a duration nor a timestamp", options.since),
                        "on the command line", "use 30min, 2h, 7d, or a timestamp like 2026-01-31T12:00:00Z");
        }
        throw_server_error(e, fmt::format("reading the audit trail of {}", conn.target()),
                           "the role needs pgmig_reader to read pgmig.ddl_audit and pgmig.history");
    }

    if (options.json) {
        nlohmann::json ddl = nlohmann::json::array();
        nlohmann::json history = nlohmann::json::array();
        nlohmann::json events = nlohmann::json::array();
        for (int i = 0; i < res.rows(); ++i) {
            nlohmann::json event = nlohmann::json::parse(res.get(i, 7));
            (res.get(i, 1) == "ddl" ? ddl : history).push_back(event);
            events.push_back(std::move(event));
        }
        const nlohmann::json out = {{"database", conn.target()},
                                    {"since", options.since.empty() ? nlohmann::json(nullptr) : nlohmann::json(options.since)},
                                    {"ddl_audit", ddl},
                                    {"history", history},
                                    {"events", events}};
        print_json_document(out);
        return kExitOk;
    }

    if (res.rows() == 0) {
        fmt::print("no audit events{} in {}\n", options.since.empty() ? "" : " since " + options.since, conn.target());
        return kExitOk;
    }
    fmt::print("{:<19}  {:<16}  {:<9}  {:<10}  {:<24}  {}\n", "TIME (UTC)", "WHO", "KIND", "VERSION", "ACTION/TAG",
               "OBJECT");
    for (int i = 0; i < res.rows(); ++i) {
        const bool ddl = res.get(i, 1) == "ddl";
        const bool out_of_band = ddl && res.get(i, 6) == "t";
        fmt::print("{:<19}  {:<16}  {:<9}  {:<10}  {:<24}  {}{}\n", res.get(i, 0), res.get(i, 2),
                   ddl ? "ddl" : "migration", res.get(i, 3), res.get(i, 4), res.get(i, 5),
                   out_of_band ? "  [OUT OF BAND]" : "");
    }
    return kExitOk;
}

}  // namespace pgmig::client
