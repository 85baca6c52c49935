// What records DDL in this database, and the checked switch between the two recorders:
//   triggers  pgmig's ddl_command_end, sql_drop and table_rewrite event triggers (every installation's default
//             where pgmig is not in shared_preload_libraries);
//   hooks     those three disabled, pgmig's utility and object access hooks writing the same rows
//             (audit_capture.hpp), at about half the cost per statement. Only where pgmig is loaded before each
//             session's first statement: a session that loads it later has its first DDL refused (PM067).
extern "C" {
#include "postgres.h"
#include "catalog/pg_type_d.h"
#include "miscadmin.h"
}

#include <fmt/format.h>

#include <algorithm>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

#include "audit.hpp"
#include "errors.hpp"
#include "pg/boundary.hpp"
#include "pg/spi.hpp"
#include "pg/values.hpp"

namespace pgmig::audit {
namespace {

bool g_server_preloaded = false;  // this library was loaded by the postmaster (shared_preload_libraries)

// One event trigger of pgmig (one calling pgmig.audit_event()).
struct Trigger {
    std::string name;   // quoted as an identifier
    std::string event;  // ddl_command_start, ddl_command_end, sql_drop, table_rewrite
    char enabled;       // pg_event_trigger.evtenabled: O, A, R, D
};

std::vector<Trigger> pgmig_event_triggers(pg::Spi& spi) {
    std::vector<Trigger> out;
    const Oid function = audit_event_function();
    if (!OidIsValid(function)) return out;
    const pg::Rows rows = spi.query(
        "SELECT pg_catalog.quote_ident(evtname), evtevent::text, evtenabled::text FROM pg_catalog.pg_event_trigger "
        "WHERE evtfoid OPERATOR(pg_catalog.=) $1::pg_catalog.oid ORDER BY evtname",
        {{OIDOID, std::to_string(function)}}, SPI_OK_SELECT);
    std::transform(rows.rows.begin(), rows.rows.end(), std::back_inserter(out), [](const auto& r) {
        return Trigger{r[0].value_or(""), r[1].value_or(""), r[2] && !r[2]->empty() ? (*r[2])[0] : 'D'};
    });
    return out;
}

// Whether a library list (a *_preload_libraries value: 'pgmig', '$libdir/pgmig', '"pgmig", auto_explain')
// names pgmig.
bool names_pgmig(const std::string& list) {
    std::size_t pos = 0;
    while (pos <= list.size()) {
        std::size_t comma = list.find(',', pos);
        if (comma == std::string::npos) comma = list.size();
        std::string item = list.substr(pos, comma - pos);
        const auto first = item.find_first_not_of(" \t\"");
        const auto last = item.find_last_not_of(" \t\"");
        item = first == std::string::npos ? "" : item.substr(first, last - first + 1);
        if (const auto slash = item.rfind('/'); slash != std::string::npos) item = item.substr(slash + 1);
        if (item.size() > 3 && item.compare(item.size() - 3, 3, ".so") == 0) item.resize(item.size() - 3);
        if (item == "pgmig") return true;
        pos = comma + 1;
    }
    return false;
}

// How every session of this database loads pgmig before its first statement, or nullopt: the server's
// shared_preload_libraries, the configuration file's session_preload_libraries, or the database's (ALTER
// DATABASE ... SET, or ALTER ROLE ALL SET). A role's own setting covers that role only, and is not counted.
std::optional<std::string> preloaded_by(pg::Spi& spi) {
    if (g_server_preloaded) return "shared_preload_libraries";
    const pg::Rows file = spi.query(
        "SELECT setting FROM pg_catalog.pg_settings WHERE name OPERATOR(pg_catalog.=) 'session_preload_libraries' "
        "AND source OPERATOR(pg_catalog.=) 'configuration file'",
        {}, SPI_OK_SELECT);
    if (!file.rows.empty() && file.rows[0][0] && names_pgmig(*file.rows[0][0])) {
        return "session_preload_libraries (server)";
    }
    // setconfig holds 'name=value' items; the value as SET gave it.
    const pg::Rows database = spi.query(
        "SELECT pg_catalog.substr(c, 27) FROM pg_catalog.pg_db_role_setting s, pg_catalog.unnest(s.setconfig) c "
        "WHERE s.setrole OPERATOR(pg_catalog.=) 0 "
        "AND s.setdatabase OPERATOR(pg_catalog.=) ANY (ARRAY[0, $1::pg_catalog.oid]) "
        "AND c LIKE 'session\\_preload\\_libraries=%'",
        {{OIDOID, std::to_string(MyDatabaseId)}}, SPI_OK_SELECT);
    if (std::any_of(database.rows.begin(), database.rows.end(),
                    [](const auto& r) { return r[0] && names_pgmig(*r[0]); })) {
        return "session_preload_libraries (database)";
    }
    return std::nullopt;
}

bool fires(char enabled) { return enabled == 'O' || enabled == 'A'; }

struct State {
    std::string recorder;  // triggers, hooks, mixed, none (pgmig's event triggers are gone)
    std::optional<std::string> preloaded;
    bool start_fires = false;  // pgmig_ddl_start: the out-of-band policy, and PM067
    std::string detail;
};

State state(pg::Spi& spi) {
    State s;
    const std::vector<Trigger> triggers = pgmig_event_triggers(spi);
    s.preloaded = preloaded_by(spi);
    int end_firing = 0;
    int end_total = 0;
    std::vector<std::string> off;
    for (const Trigger& t : triggers) {
        if (t.event == "ddl_command_start") {
            s.start_fires = s.start_fires || fires(t.enabled);
            continue;
        }
        ++end_total;
        if (fires(t.enabled)) {
            ++end_firing;
        } else {
            off.push_back(t.name);
        }
    }
    if (end_total == 0) {
        s.recorder = "none";
        s.detail = "pgmig's event triggers are missing: ALTER EXTENSION pgmig UPDATE, or drop and create the extension";
        return s;
    }
    s.recorder = end_firing == end_total ? "triggers" : end_firing == 0 ? "hooks" : "mixed";
    if (s.recorder == "triggers") {
        s.detail = "pgmig's ddl_command_end, sql_drop and table_rewrite triggers record DDL";
    } else if (s.recorder == "hooks") {
        s.detail = s.preloaded
                       ? fmt::format("pgmig's hooks record DDL; every session preloads pgmig ({})", *s.preloaded)
                       : "pgmig's hooks record DDL, but pgmig is not preloaded for every session: each "
                         "session's first DDL statement is refused (PM067); preload pgmig, or SELECT "
                         "migrate_audit_recorder('triggers')";
    } else {
        std::string names;
        for (const std::string& n : off) names += (names.empty() ? "" : ", ") + n;
        s.detail = fmt::format(
            "some of pgmig's triggers do not fire ({}), the others do: the audit may lack rows (with only "
            "pgmig_table_rewrite off: the rewrites); choose one: SELECT migrate_audit_recorder('triggers') or "
            "migrate_audit_recorder('hooks')",
            names);
    }
    if (!s.start_fires) {
        s.detail +=
            "; pgmig_ddl_start does not fire: the out-of-band policy is applied by the hooks only, in "
            "sessions that loaded pgmig; migrate_audit_recorder(...) enables it again";
    }
    return s;
}

void return_state(FunctionCallInfo fcinfo, const State& s) {
    pg::return_rows(fcinfo, {{s.recorder, s.preloaded, std::string(s.start_fires ? "t" : "f"), s.detail}});
}

}  // namespace

void note_server_preload() { g_server_preloaded = process_shared_preload_libraries_in_progress; }

}  // namespace pgmig::audit

using namespace pgmig;

// migrate_audit_recorder() -> (recorder, preloaded, start_trigger, detail): what records DDL in this database
// (triggers, hooks, mixed), how pgmig is preloaded for every session (NULL: it is not), whether pgmig_ddl_start
// fires, in a sentence.
PGMIG_FUNCTION_ANY_SQL(migrate_audit_recorder) {
    pg::Spi spi;
    audit::return_state(fcinfo, audit::state(spi));
    return static_cast<Datum>(0);
}

// migrate_audit_recorder(recorder) -> the same, after the switch: 'hooks' disables pgmig's three end
// triggers, refused unless pgmig is preloaded for every session; 'triggers' enables them (ALWAYS). Both
// enable pgmig_ddl_start, which applies the policy and refuses DDL nothing would record. Superusers only:
// ALTER EVENT TRIGGER needs the triggers' owner, and the extension's owner must not change what audits it.
PGMIG_FUNCTION_WITH(migrate_audit_recorder_set, any) {
    if (!pg::call([] { return superuser(); })) {
        throw Error(sqlstate::audit_recorder_not_superuser, "only a superuser may choose what records DDL",
                    "migrate_audit_recorder(recorder) enables or disables pgmig's event triggers",
                    "ask a superuser; migrate_audit_recorder() without an argument says what records DDL now");
    }
    const std::string wanted = pg::text_arg(fcinfo, 0).value_or("");
    if (wanted != "hooks" && wanted != "triggers") {
        throw Error(
            sqlstate::invalid_argument,
            fmt::format("unknown recorder \"{}\": pgmig records DDL with its 'triggers' or its 'hooks'", wanted), "",
            "call migrate_audit_recorder('triggers') or migrate_audit_recorder('hooks')");
    }
    pg::Spi spi;
    const std::vector<audit::Trigger> triggers = audit::pgmig_event_triggers(spi);
    if (triggers.empty()) {
        throw Error(sqlstate::invalid_argument, "pgmig's event triggers are missing in this database",
                    "migrate_audit_recorder() switches them",
                    "ALTER EXTENSION pgmig UPDATE, or recreate the extension");
    }
    if (wanted == "hooks") {
        if (const auto by = audit::preloaded_by(spi); !by) {
            throw Error(sqlstate::audit_recorder_not_preloaded,
                        "pgmig's hooks cannot record DDL here: pgmig is not preloaded for every session",
                        "a session that loads pgmig only as its first DDL statement begins has no hook in place for "
                        "it; with the triggers off, that statement would be refused (PM067)",
                        "preload pgmig: shared_preload_libraries = 'pgmig' (and a restart), or ALTER DATABASE ... SET "
                        "session_preload_libraries = 'pgmig', or ALTER SYSTEM SET session_preload_libraries = "
                        "'pgmig' (and SELECT pg_reload_conf()); then call migrate_audit_recorder('hooks') again");
        }
    }
    for (const audit::Trigger& t : triggers) {
        const bool on = t.event == "ddl_command_start" || wanted == "triggers";
        if ((on && t.enabled == 'A') || (!on && t.enabled == 'D')) continue;
        spi.query(fmt::format("ALTER EVENT TRIGGER {} {}", t.name, on ? "ENABLE ALWAYS" : "DISABLE").c_str(), {},
                  SPI_OK_UTILITY);
    }
    audit::return_state(fcinfo, audit::state(spi));
    return static_cast<Datum>(0);
}
