// The client's session-level ledger lock, tried between pauses on an idle connection (see ledger_lock.hpp).
#include "client/ledger/ledger_lock.hpp"

#include "client/ledger/project.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <thread>

namespace pgmig::client {

std::optional<std::string> ledger_lock_holders(const Connection& conn) {
    // The holders in this database (the key is the same in every database with pgmig), this session excluded.
    Result holder = conn.exec_params(
        "SELECT string_agg(pid::text, ', ') FROM pg_catalog.pg_locks WHERE locktype = 'advisory' "
        "AND granted AND classid = ($1::bigint >> 32)::oid AND objid = ($1::bigint & 4294967295)::oid "
        "AND objsubid = 1 AND pid <> pg_catalog.pg_backend_pid() "
        "AND database = (SELECT oid FROM pg_catalog.pg_database WHERE datname = pg_catalog.current_database())",
        {std::string(kLedgerLockKey)});
    if (!holder.ok() || holder.is_null(0, 0)) return std::nullopt;
    return holder.get(0, 0);
}

LedgerLock::LedgerLock(const Connection& conn, const std::string& nothing_done) : conn_(conn) {
    int pause_ms = 50;
    bool told = false;
    for (;;) {
        Result lock = conn.exec_params("SELECT pg_try_advisory_lock($1::bigint)", {std::string(kLedgerLockKey)});
        if (!lock.ok()) throw_server_error(lock.error(), "taking the ledger lock", nothing_done);
        if (lock.get(0, 0) == "t") return;
        if (!told) {
            const std::string pids = ledger_lock_holders(conn).value_or("?");
            fmt::print("waiting for the ledger lock, held by another applier (backend {})\n", pids);
            std::fflush(stdout);
            told = true;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(pause_ms));
        pause_ms = std::min(pause_ms * 2, 1000);
    }
}

LedgerLock::~LedgerLock() { release(); }

void LedgerLock::release() {
    if (!held_) return;
    held_ = false;
    conn_.exec_params("SELECT pg_advisory_unlock($1::bigint)", {std::string(kLedgerLockKey)});
}

}  // namespace pgmig::client
