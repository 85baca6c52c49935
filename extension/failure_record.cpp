// The failure recorder: a dynamic background worker and what the failing backend hands it.
extern "C" {
#include "postgres.h"
#include "access/xact.h"
#include "catalog/pg_extension_d.h"
#include "commands/extension.h"
#include "catalog/pg_type_d.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "libpq/pqsignal.h"
#include "postmaster/bgworker.h"
#include "storage/lmgr.h"
#include "storage/dsm.h"
#include "storage/latch.h"
#include "utils/wait_event.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

PGDLLEXPORT void pgmig_failure_worker(Datum arg);
}

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "failure_record.hpp"
#include "ledger_store.hpp"
#include "pg/boundary.hpp"
#include "pg/spi.hpp"
#include "pg/worker.hpp"

namespace pgmig {
namespace {

// What bgw_extra carries next to the DSM handle in bgw_main_arg.
struct WorkerTarget {
    Oid database;
    Oid role;
    // The record names a deploy run. When not (and from a 0.1.0 library, whose bgw_extra is zero past
    // `role`), the row is written without the deploy_run column: a 0.1.0 ledger has none, and a session
    // that kept 0.1.0's library until ALTER EXTENSION UPDATE still gets its failures recorded by this one.
    bool with_deploy_run;
};
static_assert(sizeof(WorkerTarget) <= BGW_EXTRALEN);

// When no worker slot is free: tries again every kSlotWaitMs, kSlotWaits times (5 s at most, no
// interrupt check while the record's segment is pinned and not yet handed over).
constexpr int kSlotWaitMs = 50;
constexpr int kSlotWaits = 100;

// The last failure handed over, so that the same failure repeated inside one transaction (a
// retry loop in PL/pgSQL, say) is recorded once rather than starting a worker each time.
TimestampTz g_last_transaction = 0;
char g_last_failure[300] = "";

bool already_recorded(const std::string& key) {
    const TimestampTz transaction = GetCurrentTransactionStartTimestamp();
    if (transaction == g_last_transaction && key == g_last_failure) return true;
    g_last_transaction = transaction;
    strlcpy(g_last_failure, key.c_str(), sizeof(g_last_failure));
    return false;
}

std::string setting(const char* name) {
    const char* value = pg::call([name] { return GetConfigOption(name, true, false); });
    return value != nullptr ? value : "";
}

}  // namespace

void record_failure_after_rollback(const LedgerStore& store, const Migration& m, int sqlstate,
                                   const std::string& message, const std::optional<std::string>& client_addr) {
    try {
        const char* state = pg::call([sqlstate] { return unpack_sql_state(sqlstate); });
        if (already_recorded(fmt::format("{}|{}|{}", m.version.value_or(""), m.name, state))) return;
        nlohmann::json record = {{"version", m.version ? nlohmann::json(*m.version) : nlohmann::json(nullptr)},
                                 {"name", m.name},
                                 {"action", "failed"},
                                 {"checksum", m.checksum},
                                 {"sqlstate", std::string(state)},
                                 {"message", message},
                                 {"current_user_name", store.caller().current_user},
                                 {"application_name", setting("application_name")},
                                 {"backend_pid", MyProcPid}};
        // The worker's own session has no deploy run: the failing call's goes by value like the rest.
        const std::optional<std::string>& run = store.caller().deploy_run;
        if (run) record["deploy_run"] = *run;
        const Oid session_user = GetSessionUserId();
        record["session_user_name"] =
            std::string(pg::call([session_user] { return GetUserNameFromId(session_user, false); }));
        if (client_addr) record["client_addr"] = *client_addr;
        const std::string text = record.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        const WorkerTarget target{MyDatabaseId, store.owner(), run.has_value()};
        const char* bytes = text.c_str();
        const size_t size = text.size() + 1;
        const bool started = pg::call([bytes, size, target] {
            // Pinned: the segment outlives this backend's mapping, so nobody waits for the worker.
            dsm_segment* seg = dsm_create(size, 0);
            memcpy(dsm_segment_address(seg), bytes, size);
            dsm_pin_segment(seg);
            const dsm_handle handle = dsm_segment_handle(seg);
            BackgroundWorker worker = pg::worker_of("pgmig_failure_worker", "pgmig failure recorder");
            worker.bgw_main_arg = UInt32GetDatum(handle);
            memcpy(worker.bgw_extra, &target, sizeof(target));
            // Every worker slot taken (other recorders, audit sealers, parallel query workers) is usually a
            // matter of milliseconds: wait for one, a bounded time, rather than lose the record.
            bool ok = RegisterDynamicBackgroundWorker(&worker, nullptr);
            for (int wait = 0; !ok && wait < kSlotWaits; ++wait) {
                (void)WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, kSlotWaitMs,
                                PG_WAIT_EXTENSION);
                ResetLatch(MyLatch);
                ok = RegisterDynamicBackgroundWorker(&worker, nullptr);
            }
            if (!ok) dsm_unpin_segment(handle);
            dsm_detach(seg);
            return ok;
        });
        if (!started) {
            pg::call([] {
                ereport(WARNING,
                        (errmsg("pgmig could not start a worker to record the failed attempt in pgmig.history"),
                         errhint("no worker slot came free within %d ms: raise max_worker_processes; the failure "
                                 "itself is reported as an error",
                                 kSlotWaits * kSlotWaitMs)));
            });
        }
    } catch (const Error& e) {
        const std::string note = fmt::format("pgmig could not record the failed attempt: {}", e.message());
        const char* text = note.c_str();
        try {
            pg::call([text] { ereport(WARNING, (errmsg_internal("%s", text))); });
        } catch (...) {  // NOLINT(bugprone-empty-catch): recording a failure must never hide the failure
        }
    }
}

}  // namespace pgmig

// The worker: no C++ object is alive while it calls PostgreSQL, so an error simply ends it
// (PostgreSQL logs it) after the segment was released.
extern "C" void pgmig_failure_worker(Datum arg) {
    const dsm_handle handle = DatumGetUInt32(arg);
    pgmig::WorkerTarget target;
    memcpy(&target, MyBgworkerEntry->bgw_extra, sizeof(target));
    // Terminated (DROP DATABASE ... WITH (FORCE), pg_terminate_backend) at the next interrupt check,
    // never from inside the signal handler (the default handler's FATAL there could hit a WAL insert).
    pqsignal(SIGTERM, die);
    BackgroundWorkerUnblockSignals();
    BackgroundWorkerInitializeConnectionByOid(target.database, target.role, 0);
    pgmig::pg::pin_worker_settings();

    dsm_segment* seg = dsm_attach(handle);
    if (seg == nullptr) {
        ereport(LOG, (errmsg("pgmig failure recorder: the failure record is gone")));
        return;
    }
    char* record = pstrdup(static_cast<const char*>(dsm_segment_address(seg)));
    dsm_detach(seg);
    dsm_unpin_segment(handle);

    SetCurrentStatementStartTimestamp();
    StartTransactionCommand();
    // The extension first, as DROP EXTENSION locks it before its tables: a DROP EXTENSION pgmig under
    // way is waited for, then the record is dropped with the ledger, rather than both sessions each
    // holding a table or sequence the other wants next (a deadlock that failed the DROP).
    const Oid extension = get_extension_oid("pgmig", true);
    if (OidIsValid(extension)) LockDatabaseObject(ExtensionRelationId, extension, 0, AccessShareLock);
    if (!OidIsValid(extension) || !OidIsValid(get_extension_oid("pgmig", true))) {
        ereport(LOG, (errmsg("pgmig failure recorder: the pgmig extension was dropped; the failed attempt is "
                             "not recorded")));
        CommitTransactionCommand();
        return;
    }
    SPI_connect();
    PushActiveSnapshot(GetTransactionSnapshot());
    Oid types[1] = {TEXTOID};
    Datum values[1] = {CStringGetTextDatum(record)};
    const char* const run_column = target.with_deploy_run ? ", deploy_run" : "";
    const char* const run_value = target.with_deploy_run ? ", r.deploy_run" : "";
    const char* const run_type = target.with_deploy_run ? ", deploy_run pg_catalog.text" : "";
    const char* insert = psprintf(
        "INSERT INTO pgmig.history (version, name, action, checksum, sqlstate, message, session_user_name, "
        "current_user_name, application_name, client_addr, backend_pid, reason%s) "
        "SELECT r.version, r.name, r.action, r.checksum, r.sqlstate, r.message, r.session_user_name, "
        "r.current_user_name, r.application_name, r.client_addr, r.backend_pid, "
        "'recorded after the failing transaction rolled back'%s "
        "FROM pg_catalog.jsonb_to_record($1::pg_catalog.jsonb) AS r(version pg_catalog.text, "
        "name pg_catalog.text, action pg_catalog.text, checksum pg_catalog.text, sqlstate pg_catalog.text, "
        "message pg_catalog.text, session_user_name pg_catalog.name, current_user_name pg_catalog.name, "
        "application_name pg_catalog.text, client_addr pg_catalog.inet, backend_pid pg_catalog.int4%s)",
        run_column, run_value, run_type);
    const int rc = SPI_execute_with_args(insert, 1, types, values, nullptr, false, 0);
    if (rc != SPI_OK_INSERT) {
        ereport(LOG, (errmsg("pgmig failure recorder: inserting into pgmig.history returned %s",
                             SPI_result_code_string(rc))));
    }
    SPI_finish();
    PopActiveSnapshot();
    CommitTransactionCommand();
}
