// Live monitoring of migration runs: one query over pg_stat_activity, pg_locks, pg_blocking_pids and
// pg_stat_progress_create_index, and its one-line rendering.
#include "client/ops/monitor.hpp"

#include "client/core/errors.hpp"
#include "client/ledger/file_lines.hpp"
#include "common/ledger_lock.hpp"

#include <fmt/core.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>

namespace pgmig::client {

namespace {

// The ledger lock ($2, $3: common/ledger_lock.hpp) as pg_locks shows a bigint advisory key: classid =
// high 32 bits, objid = low 32 bits, objsubid = 1.
// pgmig.redact() replaces secrets it can find from the parse tree and the scanner's tokens (the body of a DO
// block or a function that mentions one whole); text where it finds none although a secret-bearing keyword
// is there is withheld whole.
constexpr const char* kSampleQuery = R"SQL(
WITH ledger_lock AS (
    SELECT l.pid, l.granted FROM pg_catalog.pg_locks l
     WHERE l.locktype = 'advisory' AND l.classid = $2::oid AND l.objid = $3::oid AND l.objsubid = 1
       AND l.database = (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database())
), targets AS (
    SELECT a.* FROM pg_catalog.pg_stat_activity a
     WHERE a.pid <> pg_catalog.pg_backend_pid() AND a.backend_type = 'client backend'
       AND a.datname = current_database()
       AND CASE WHEN $1::int IS NOT NULL THEN a.pid = $1::int
                ELSE a.query LIKE 'pgmig migrate\_%'
                  OR (a.state <> 'idle' AND a.query ~* 'migrate_(apply|rollback|rollback_to)\s*\(')
                  OR a.pid IN (SELECT pid FROM ledger_lock) END
), progress AS (
    SELECT t.pid,
           regexp_match(t.query, '^pgmig (migrate_apply|migrate_rollback): ((?:repeatable )?migration (?:(\S+) )?"([^"]*)") \((\d+) of (\d+)\), statement (\d+) of (\d+) at line (\d+): (.*)$') AS m
      FROM targets t
), positioned AS (
    SELECT t.*, p.m, pgmig.redact(coalesce(t.query, '')) AS redacted,
           g.version AS nontx_version, g.name AS nontx_name, g.nontx_progress
      FROM targets t JOIN progress p USING (pid)
      -- named columns, not the whole row: a pgmig_reader may not read the scripts (up_sql, down_sql)
      LEFT JOIN LATERAL (SELECT m.version, m.name, m.nontx_progress FROM pgmig.migrations m
             WHERE p.m IS NULL AND m.nontx_progress IS NOT NULL AND t.pid IN (SELECT pid FROM ledger_lock WHERE granted)
             ORDER BY m.version_key LIMIT 1) g ON true
)
SELECT json_build_object(
    'pid', s.pid,
    'role', s.usename,
    'application_name', s.application_name,
    'state', s.state,
    'wait_event_type', s.wait_event_type,
    'wait_event', s.wait_event,
    'elapsed_ms', round(extract(epoch FROM clock_timestamp() - s.query_start) * 1000)::bigint,
    'xact_elapsed_ms', round(extract(epoch FROM clock_timestamp() - s.xact_start) * 1000)::bigint,
    'migration', CASE
        WHEN s.m IS NOT NULL THEN json_build_object(
            'label', s.m[2], 'version', s.m[3], 'index', s.m[5]::int, 'count', s.m[6]::int,
            'direction', CASE s.m[1] WHEN 'migrate_apply' THEN 'up' ELSE 'down' END,
            'statement', s.m[7]::int, 'statements', s.m[8]::int, 'line', s.m[9]::int, 'transactional', true)
        WHEN s.nontx_version IS NOT NULL THEN json_build_object(
            'label', format('migration %s "%s"', s.nontx_version, s.nontx_name), 'version', s.nontx_version,
            'index', NULL, 'count', NULL, 'direction', 'up', 'statement', s.nontx_progress + 1,
            'statements', NULL, 'line', NULL,
            'transactional', false)
        END,
    'statement', CASE WHEN s.m IS NOT NULL THEN s.m[10]   -- first line, redacted by the runner
                      WHEN s.query LIKE 'pgmig migrate\_%' THEN NULL
                      ELSE CASE WHEN s.redacted = coalesce(s.query, '') AND s.query ~* '(password|connection|passfile)'
                           THEN '(statement withheld: it may hold a secret)'
                           ELSE split_part(btrim(s.redacted, E' \t\r\n'), E'\n', 1) END END,
    'lock_waits', coalesce((
        SELECT json_agg(json_build_object(
                   'locktype', l.locktype,
                   'relation', CASE WHEN l.locktype = 'advisory' AND l.classid = $2::oid AND l.objid = $3::oid
                                    THEN 'pgmig ledger lock' ELSE l.relation::regclass::text END,
                   'mode', l.mode) ORDER BY l.locktype, l.relation)
          FROM pg_catalog.pg_locks l WHERE l.pid = s.pid AND NOT l.granted), '[]'::json),
    'blockers', coalesce((
        SELECT json_agg(json_build_object(
                   'pid', b.pid, 'role', b.usename, 'state', b.state, 'application_name', b.application_name,
                   'statement', CASE WHEN x.redacted = coalesce(b.query, '') AND b.query ~* '(password|connection|passfile)'
                           THEN '(statement withheld: it may hold a secret)'
                           ELSE split_part(btrim(x.redacted, E' \t\r\n'), E'\n', 1) END,
                   'xact_elapsed_ms', round(extract(epoch FROM clock_timestamp() - b.xact_start) * 1000)::bigint)
                   ORDER BY b.pid)
          FROM pg_catalog.pg_stat_activity b
               CROSS JOIN LATERAL (SELECT pgmig.redact(coalesce(b.query, '')) AS redacted) x
         WHERE b.pid = ANY (pg_catalog.pg_blocking_pids(s.pid))), '[]'::json),
    'index_build', (
        SELECT json_build_object(
                   'index', nullif(c.index_relid, 0)::regclass::text, 'relation', c.relid::regclass::text,
                   'phase', c.phase, 'blocks_done', c.blocks_done, 'blocks_total', c.blocks_total,
                   'tuples_done', c.tuples_done, 'tuples_total', c.tuples_total,
                   'percent', CASE WHEN c.blocks_total > 0 THEN round(100.0 * c.blocks_done / c.blocks_total, 1)
                                   WHEN c.tuples_total > 0 THEN round(100.0 * c.tuples_done / c.tuples_total, 1) END)
          FROM pg_catalog.pg_stat_progress_create_index c WHERE c.pid = s.pid)
)::text
  FROM positioned s
 ORDER BY s.pid
)SQL";

std::string str(const nlohmann::json& j, const char* key) {
    const auto it = j.find(key);
    if (it == j.end() || it->is_null()) return {};
    return it->is_string() ? it->get<std::string>() : it->dump();
}

std::string cut(const std::string& text, std::size_t max) {
    return text.size() <= max ? text : text.substr(0, max - 3) + "...";
}

}  // namespace

nlohmann::json sample_migrations(const Connection& observer, std::optional<int> pid) {
    std::optional<std::string> pid_text;
    if (pid) pid_text = std::to_string(*pid);
    Result res = observer.exec_params(kSampleQuery, {pid_text, std::to_string(common::kLedgerLockClassid),
                                                      std::to_string(common::kLedgerLockObjid)});
    if (!res.ok()) {
        const ServerError e = res.error();
        throw Error(e.sqlstate == "42501" ? ErrorKind::input : ErrorKind::internal,
                    fmt::format("cannot read the activity of migration runs: {}", e.message),
                    fmt::format("in {}", observer.target()),
                    "the observing role needs pgmig_reader (and pg_read_all_stats to see other roles' sessions)",
                    e.hint);
    }
    nlohmann::json out = nlohmann::json::array();
    for (int i = 0; i < res.rows(); ++i) out.push_back(nlohmann::json::parse(res.get(i, 0)));
    return out;
}

std::string describe_session(const nlohmann::json& s) {
    std::string line;
    const auto& m = s["migration"];
    if (m.is_object()) {
        line = str(m, "label");
        if (!m["index"].is_null()) line += fmt::format(" {}/{}", m["index"].get<int>(), m["count"].get<int>());
        if (!m["statement"].is_null()) {
            line += fmt::format(", statement {}", str(m, "statement"));
            // Appended in two steps, not as "/" + str(...): GCC 12 at -O3 warns -Wrestrict on
            // operator+(const char*, std::string&&) (a false positive, GCC PR 105329), and the
            // two appends build no temporary string either.
            if (!m["statements"].is_null()) {
                line += '/';
                line += str(m, "statements");
            }
        }
        if (!m["line"].is_null()) {
            // The file's line when the caller knows the files (pgmig apply), else the script's, said so.
            line += m.contains("file") ? fmt::format(" (line {} of {})", str(m, "line"), str(m, "file"))
                                       : fmt::format(" (line {} of the {} script)", str(m, "line"),
                                                     str(m, "direction") == "down" ? "down" : "up");
        }
        if (m.value("transactional", true) == false) line += " [non-transactional]";
        if (str(m, "direction") == "down") line += " [rollback]";
    } else {
        line = fmt::format("pid {} ({})", str(s, "pid"), str(s, "state"));
    }
    if (!s["elapsed_ms"].is_null()) line += fmt::format(" {:.1f}s", s["elapsed_ms"].get<double>() / 1000.0);
    const std::string statement = str(s, "statement");
    if (!statement.empty()) {
        line += ": ";
        line += cut(statement, 60);
    }
    for (const auto& w : s["lock_waits"]) {
        line += fmt::format(" | waiting for {} on {}", str(w, "mode"),
                            str(w, "relation").empty() ? str(w, "locktype") : str(w, "relation"));
    }
    if (s["lock_waits"].empty() && !str(s, "wait_event").empty() && str(s, "wait_event_type") != "Client")
        line += fmt::format(" | waiting: {} {}", str(s, "wait_event_type"), str(s, "wait_event"));
    for (const auto& b : s["blockers"]) {
        line += fmt::format(", blocked by pid {} ({}, {}: {})", str(b, "pid"), str(b, "role"), str(b, "state"),
                            cut(str(b, "statement"), 40));
    }
    const auto& ix = s["index_build"];
    if (ix.is_object()) {
        line += fmt::format(" | index {} {}", str(ix, "index"), str(ix, "phase"));
        if (!ix["percent"].is_null()) line += fmt::format(" {}%", str(ix, "percent"));
    }
    return line;
}

LiveProgress::LiveProgress(std::string conninfo, int pid, const std::vector<MigrationFile>* files) {
    if (!wanted()) return;
    thread_ = std::thread([this, conninfo = std::move(conninfo), pid, files] {
        try {
            Connection observer = Connection::open(conninfo);
            observer.exec("SET application_name = 'pgmig monitor'");
            while (!stop_.load()) {
                nlohmann::json sessions = sample_migrations(observer, pid);
                if (!sessions.empty() && sessions[0]["migration"].is_object()) {
                    if (files != nullptr) session_in_file_lines(sessions[0], *files);
                    std::string text = describe_session(sessions[0]);
                    std::fprintf(stdout, "\r\033[K%s\r", cut(text, 160).c_str());  // cursor back: output of apply overwrites it
                    std::fflush(stdout);
                }
                for (int i = 0; i < 5 && !stop_.load(); ++i)
                    std::this_thread::sleep_for(std::chrono::milliseconds(100));
            }
        } catch (...) {
            // The display is a courtesy: its failure never touches the apply.
        }
    });
}

void LiveProgress::stop() {
    if (!thread_.joinable()) return;
    stop_.store(true);
    thread_.join();
    std::fputs("\r\033[K", stdout);
    std::fflush(stdout);
}

LiveProgress::~LiveProgress() { stop(); }

bool LiveProgress::wanted() { return isatty(STDOUT_FILENO) != 0 && std::getenv("PGMIG_NO_PROGRESS") == nullptr; }

}  // namespace pgmig::client
