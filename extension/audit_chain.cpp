// The audit trail's hash chain: the guard that keeps rows immutable, sealing committed rows into the
// chain (migrate_audit_verify(), and the background sealer of audit_sealer.cpp), and verifying it.
extern "C" {
#include "postgres.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type_d.h"
#include "commands/trigger.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/latch.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
}

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "audit_chain.hpp"
#include "changed_pages.hpp"
#include "common/array_literal.hpp"
#include "common/checksum.hpp"
#include "ledger_store.hpp"
#include "pg/boundary.hpp"
#include "pg/spi.hpp"
#include "pg/values.hpp"

namespace pgmig::audit {
namespace {

bool g_sealing = false;  // set while this backend seals rows, which the guard then allows

// Sealing is serialised by a lock that only pgmig takes: an object lock on pgmig.ddl_audit with a
// sub-id no PostgreSQL command uses (relations are locked with relation locks, never object locks).
// No role can take it from SQL, unlike an advisory lock, so nobody can hold up sealing with it; pgmig
// takes it in the sealer's short transactions and in migrate_audit_verify() called by a role that may
// seal in its own transaction.
constexpr uint16 kSealLockSubId = 1;

// The OID of pgmig.ddl_audit, or InvalidOid when pgmig is not installed.
Oid audit_table() {
    return pg::call([] {
        const Oid schema = get_namespace_oid("pgmig", true);
        return OidIsValid(schema) ? get_relname_relid("ddl_audit", schema) : InvalidOid;
    });
}

// Sets g_sealing while alive.
class SealingNow {
  public:
    SealingNow() { g_sealing = true; }
    ~SealingNow() { g_sealing = false; }
    SealingNow(const SealingNow&) = delete;
    SealingNow& operator=(const SealingNow&) = delete;
};

// The event of the audit row that migrate_audit_reseal() writes: it starts a new sealed segment (its hash
// seals it after an empty previous hash, as the chain's first row is sealed) and lists the broken links of
// the chain before it, which verification then reports as resealed instead of broken.
constexpr const char* kResealEvent = "audit_reseal";

// Seals the committed rows not sealed yet into the chain after (previous, seq), in id order among
// them; returns how many. `previous` and `seq` become the new head.
// Plans kept for the life of the backend (the sealer runs a pass per burst of commits).
SPIPlanPtr g_plans[3] = {nullptr, nullptr, nullptr};

// The hash that seals a row: SHA-256 of the previous row's hash, a newline and the row's canonical text.
std::string chain_hash(const std::string& previous, const std::optional<std::string>& text) {
    std::string input;
    input.reserve(previous.size() + 1 + (text ? text->size() : 0));
    input.append(previous).append(1, '\n');
    if (text) input.append(*text);
    return common::sha256_hex(input);
}

// Rows are read through a cursor and sealed a batch at a time: a backlog of any length (the sealer
// stopped for a while, or rows written before the chain) is sealed in memory of one batch.
constexpr long kSealBatch = 10000;

long long seal_rows(pg::Spi& spi, std::string& previous, long long& seq) {
    long long sealed = 0;
    spi.each_batch(
        "SELECT a.id, pgmig.audit_row_text(a), a.event FROM pgmig.ddl_audit a WHERE a.chain_seq IS NULL ORDER BY a.id",
        {}, kSealBatch,
        [&](const pg::Rows& unsealed) {
            std::vector<long long> ids;
            std::vector<long long> seqs;
            std::vector<std::optional<std::string>> hashes;
            for (const auto& row : unsealed.rows) {
                if (row[2].value_or("") == kResealEvent) previous.clear();  // a new segment starts here
                previous = chain_hash(previous, row[1]);
                ids.push_back(std::stoll(*row[0]));
                seqs.push_back(++seq);
                hashes.emplace_back(previous);
                ++sealed;
            }
            // The cursor's snapshot does not see these new row versions: it reads each unsealed row once.
            SealingNow now;
            spi.query_prepared(
                g_plans[1],
                "UPDATE pgmig.ddl_audit a SET chain_seq = s.seq, row_hash = s.hash "
                "FROM ROWS FROM (pg_catalog.unnest($1::pg_catalog.int8[]), pg_catalog.unnest($2::pg_catalog.int8[]), "
                "                pg_catalog.unnest($3::pg_catalog.text[])) AS s(id, seq, hash) "
                "WHERE a.id OPERATOR(pg_catalog.=) s.id",
                {{TEXTOID, common::integer_array_literal(ids)},
                 {TEXTOID, common::integer_array_literal(seqs)},
                 {TEXTOID, common::text_array_literal(hashes)}},
                SPI_OK_UPDATE);
        },
        &g_plans[0]);
    return sealed;
}

// Who holds the seal lock of `table`, for a message: "pid 123 (role alice, application psql,
// transaction open since ...)"; empty when only pgmig's own background sealer does (it is sealing);
// nullopt when nobody does any more (the holder let go between the try and the look).
std::optional<std::string> seal_lock_holders(pg::Spi& spi, Oid table) {
    const pg::Rows rows = spi.query(
        "SELECT l.pid, a.usename, a.application_name, a.backend_type, "
        "       pg_catalog.to_char(pg_catalog.timezone('UTC', coalesce(a.xact_start, a.backend_start)), "
        "                          'YYYY-MM-DD HH24:MI:SS') "
        "FROM pg_catalog.pg_locks l LEFT JOIN pg_catalog.pg_stat_activity a ON a.pid OPERATOR(pg_catalog.=) l.pid "
        "WHERE l.locktype OPERATOR(pg_catalog.=) 'object' AND l.granted "
        "  AND l.database OPERATOR(pg_catalog.=) $1 AND l.classid OPERATOR(pg_catalog.=) $2 "
        "  AND l.objid OPERATOR(pg_catalog.=) $3 AND l.objsubid OPERATOR(pg_catalog.=) $4 "
        "ORDER BY l.pid",
        {{OIDOID, std::to_string(MyDatabaseId)},
         {OIDOID, std::to_string(RelationRelationId)},
         {OIDOID, std::to_string(table)},
         {INT4OID, std::to_string(kSealLockSubId)}},
        SPI_OK_SELECT);
    std::string out;
    bool only_sealer = !rows.rows.empty();
    for (const auto& row : rows.rows) {
        if (row[3].value_or("") == "pgmig audit sealer") continue;
        only_sealer = false;
        if (!out.empty()) out += "; ";
        if (!row[0]) {
            out += "a prepared transaction";
            continue;
        }
        out += fmt::format("pid {} (role {}", *row[0], row[1].value_or("?"));
        if (row[2] && !row[2]->empty()) out += fmt::format(", application {}", *row[2]);
        if (row[4]) out += fmt::format(", transaction open since {} UTC", *row[4]);
        out += ")";
    }
    if (only_sealer) return std::string();
    if (out.empty()) return std::nullopt;
    return out;
}

// A role that may hold up sealing only as long as its own transaction: superusers, the ledger's owner
// and pgmig_admin seal in the caller's transaction; everyone else leaves it to the background sealer,
// so that a reader who keeps a transaction open after migrate_audit_verify() blocks nobody.
bool may_seal_in_own_transaction(Oid owner) {
    return pg::call([owner] {
        if (superuser() || GetUserId() == owner) return true;
        const Oid admin = get_role_oid("pgmig_admin", true);
        return OidIsValid(admin) && has_privs_of_role(GetUserId(), admin);
    });
}

struct Break {
    long long id;
    std::string problem;
};

struct SealResult {
    long long sealed = 0;
    long long checked = 0;
    long long unsealed = 0;  // rows still unsealed when the call ends
    std::optional<long long> first_broken;
    std::string problem;
    std::string head;
    long long head_position = 0;                        // chain_seq of the head
    std::string blocked_by;                             // who held the seal lock when this call would have sealed
    std::vector<Break> open;                            // the broken links no reseal row lists, in chain order
    nlohmann::json resealed = nlohmann::json::array();  // the resealed segments, oldest first
};

// One batch of the chain, in position order, continuing from (previous, seq).
void walk_rows(const pg::Rows& chain, SealResult& result, std::string& previous, long long& seq) {
    for (const auto& row : chain.rows) {
        ++seq;
        const long long id = std::stoll(*row[0]);
        if (row[4].value_or("") == kResealEvent) {
            const nlohmann::json info = nlohmann::json::parse(row[5].value_or("{}"), nullptr, false);
            std::vector<long long> listed;
            if (info.is_object() && info.contains("broken") && info["broken"].is_array()) {
                for (const auto& b : info["broken"]) {
                    if (b.is_number_integer()) listed.push_back(b.get<long long>());
                }
            }
            long long acknowledged = 0;
            std::erase_if(result.open, [&](const Break& b) {
                const bool hit = std::find(listed.begin(), listed.end(), b.id) != listed.end();
                acknowledged += hit ? 1 : 0;
                return hit;
            });
            nlohmann::json segment = {{"reseal_id", id},
                                      {"position", std::stoll(*row[1])},
                                      {"resealed_by", row[6].value_or("")},
                                      {"resealed_at", row[7].value_or("")},
                                      {"broken_links", acknowledged}};
            if (info.is_object()) {
                for (const char* key : {"reason", "first_broken_id", "problem"}) {
                    segment[key] = info.contains(key) ? info[key] : nlohmann::json(nullptr);
                }
            }
            result.resealed.push_back(std::move(segment));
            previous.clear();  // the new segment is sealed from an empty previous hash
        }
        const std::string expected = chain_hash(previous, row[3]);
        ++result.checked;
        if (std::stoll(*row[1]) != seq) {
            result.open.push_back(
                {id,
                 fmt::format("chain position {} expected, found {}: rows were deleted or reordered", seq, *row[1])});
        } else if (row[2].value_or("") != expected) {
            result.open.push_back({id, "the row's content does not match its sealed hash: it was edited"});
        }
        previous = row[2].value_or("");
        seq = std::stoll(*row[1]);
    }
}

// Walks the whole chain by position: every broken link (a position out of sequence: rows deleted or
// reordered; a hash that does not match: an edited row), segment by segment. A reseal row ends a
// segment: the broken links it lists are reported in `resealed` with who resealed, when and why; any
// other broken link stays open, and the first open one is the chain's first_broken.
void walk_chain(pg::Spi& spi, SealResult& result, std::string& previous, long long& seq) {
    // Through a cursor, a batch at a time: the chain of a long trail never has to fit in memory.
    spi.each_batch(
        "SELECT a.id, a.chain_seq, a.row_hash, pgmig.audit_row_text(a), a.event, a.statement, a.session_user_name, "
        "       pg_catalog.to_char(pg_catalog.timezone('UTC', a.at), 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') "
        "FROM pgmig.ddl_audit a WHERE a.chain_seq IS NOT NULL ORDER BY a.chain_seq",
        {}, kSealBatch, [&](const pg::Rows& chain) { walk_rows(chain, result, previous, seq); });
    if (!result.open.empty()) {
        result.first_broken = result.open.front().id;
        result.problem = result.open.front().problem;
    }
}

// Incremental verification. A verification that found the chain intact records how far the WAL had come
// when it began (pgmig.audit_verified). Every change of a row is WAL-logged and sets the LSN of its page
// beyond that point (changed_pages.hpp), so the next verification hashes only the sealed rows of pages
// changed since, each against the row before it and the row after it against it, and checks that the
// positions run 1..head without a gap or a duplicate (count = max). Anything it cannot settle (a link that
// does not match, a reseal row, too many changed pages, another storage after VACUUM FULL or a restore)
// is left to the walk of the whole chain, whose report is the one a break gets.
//
// What may be recorded: only what this call has seen. The WAL point is read before anything else, and
// the record is written only if, just after it, no other transaction held a lock on pgmig.ddl_audit that
// a change of its rows takes (RowExclusiveLock: taken by UPDATE, DELETE and INSERT, and held until they
// end; pgmig's own audit writes give it back early, but they insert unsealed rows, which are read when
// they are sealed): a change logged before the point was then committed before the snapshots this call
// reads with, so it was verified. Under REPEATABLE READ or SERIALIZABLE the snapshot may be older than
// the point: nothing is recorded then, nor in a read-only transaction or on a standby.
constexpr uint16 kVerifiedLockSubId = 2;  // serialises writers of pgmig.audit_verified, never waited for

// Past this many line pointers of changed pages, the chain is walked whole (as the ledger's tamper check
// does: fetching them one by one would cost about as much).
constexpr size_t kMaxChangedTuples = 20000;

struct VerifiedPoint {
    XLogRecPtr wal = InvalidXLogRecPtr;  // the WAL point read before anything else
    bool recordable = false;             // no change of the table was in progress just after it
};

VerifiedPoint verified_point(Oid table) {
    VerifiedPoint point;
    point.wal = changed_pages::wal_end();
    point.recordable = pg::call([table] {
        if (XactReadOnly || RecoveryInProgress() || IsolationUsesXactSnapshot()) return false;
        if (!ConditionalLockRelationOid(table, ShareLock)) return false;
        UnlockRelationOid(table, ShareLock);  // not kept: it would hold up every audited statement
        return true;
    });
    return point;
}

struct ChainRow {
    long long position;
    std::string hash;
    std::string text;
    bool reseal;
};

// The chain verified from the pages changed since the last intact verification: true when it is intact,
// with `result.checked`, `previous` and `seq` (the head) set as a walk sets them; false: walk it whole.
bool verify_changed(pg::Spi& spi, Oid table, SealResult& result, std::string& previous, long long& seq) {
    const pg::Rows state =
        spi.query("SELECT storage, verified_through::pg_catalog.text FROM pgmig.audit_verified", {}, SPI_OK_SELECT);
    if (state.rows.empty()) return false;
    const XLogRecPtr since = changed_pages::parse_lsn(state.rows[0].at(1).value_or(""));
    if (XLogRecPtrIsInvalid(since)) return false;
    const changed_pages::Pages pages = changed_pages::since(table, since, kMaxChangedTuples);
    if (!pages.logged || pages.too_many || state.rows[0].at(0) != pages.storage) return false;

    const pg::Rows extent = spi.query(
        "SELECT pg_catalog.count(*), pg_catalog.max(a.chain_seq) FROM pgmig.ddl_audit a WHERE a.chain_seq IS NOT NULL",
        {}, SPI_OK_SELECT);
    const long long count = std::stoll(extent.rows.at(0).at(0).value_or("0"));
    const long long head = std::stoll(extent.rows.at(0).at(1).value_or("0"));
    if (count != head) return false;  // a position missing or doubled
    if (head == 0) {
        previous.clear();
        seq = 0;
        return true;
    }
    // The changed sealed rows' positions, then those rows with the ones before and after them, and the head.
    const pg::Rows changed = spi.query(
        "SELECT a.chain_seq FROM pgmig.ddl_audit a "
        "WHERE a.ctid OPERATOR(pg_catalog.=) ANY ($1::pg_catalog.tid[]) AND a.chain_seq IS NOT NULL",
        {{TIDARRAYOID, pages.tuples}}, SPI_OK_SELECT);
    std::vector<long long> positions{head};
    std::vector<long long> changed_positions;
    for (const auto& row : changed.rows) {
        const long long p = std::stoll(row.at(0).value_or("0"));
        changed_positions.push_back(p);
        for (const long long q : {p - 1, p, p + 1}) {
            if (q >= 1 && q <= head) positions.push_back(q);
        }
    }
    std::sort(positions.begin(), positions.end());
    positions.erase(std::unique(positions.begin(), positions.end()), positions.end());
    const pg::Rows near = spi.query(
        "SELECT a.chain_seq, a.row_hash, pgmig.audit_row_text(a), a.event FROM pgmig.ddl_audit a "
        "WHERE a.chain_seq OPERATOR(pg_catalog.=) ANY ($1::pg_catalog.int8[]) ORDER BY a.chain_seq",
        {{INT8ARRAYOID, common::integer_array_literal(positions)}}, SPI_OK_SELECT);
    if (near.rows.size() != positions.size()) return false;  // a position missing or doubled among them
    std::vector<ChainRow> rows;
    rows.reserve(near.rows.size());
    for (const auto& row : near.rows) {
        rows.push_back({std::stoll(row.at(0).value_or("0")), row.at(1).value_or(""), row.at(2).value_or(""),
                        row.at(3).value_or("") == kResealEvent});
        if (rows.back().reseal) return false;  // segments are the walk's to report
    }
    const auto at = [&rows](long long p) -> const ChainRow* {
        const auto it = std::lower_bound(rows.begin(), rows.end(), p,
                                         [](const ChainRow& r, long long q) { return r.position < q; });
        return it != rows.end() && it->position == p ? &*it : nullptr;
    };
    for (const long long p : changed_positions) {
        for (const long long q : {p, p + 1}) {  // the changed row against the one before, the next against it
            const ChainRow* row = at(q);
            if (row == nullptr) continue;  // past the head
            const ChainRow* before = q > 1 ? at(q - 1) : nullptr;
            if (q > 1 && before == nullptr) return false;
            if (chain_hash(before != nullptr ? before->hash : std::string(), row->text) != row->hash) return false;
        }
    }
    result.checked = count;
    previous = at(head)->hash;
    seq = head;
    return true;
}

// Records that the chain was found intact as of `point`, unless it may not be (see verified_point) or
// another session is recording.
void record_verified(pg::Spi& spi, Oid table, const VerifiedPoint& point, long long head) {
    if (!point.recordable) return;
    if (!pg::call([table] {
            return ConditionalLockDatabaseObject(RelationRelationId, table, kVerifiedLockSubId, ExclusiveLock);
        })) {
        return;
    }
    const changed_pages::Storage storage = changed_pages::storage_of(table);
    if (!storage.logged) return;
    SealingNow now;  // the guard lets pgmig's own record through, nothing else
    spi.query(
        "INSERT INTO pgmig.audit_verified AS v (storage, verified_through, head_position) VALUES ($1, $2, $3) "
        "ON CONFLICT (one) DO UPDATE SET storage = EXCLUDED.storage, verified_through = EXCLUDED.verified_through, "
        "head_position = EXCLUDED.head_position, verified_at = EXCLUDED.verified_at",
        {{TEXTOID, storage.storage}, {PG_LSNOID, changed_pages::lsn_text(point.wal)}, {INT8OID, std::to_string(head)}},
        SPI_OK_INSERT);
}

// Verifies the chain (from the pages changed since it was last found intact, else, or when `whole`, the
// whole chain) and reports its first broken link; then seals the rows committed since the last seal (in
// id order among them) when it may and the seal lock is free, without waiting for it.
SealResult seal_and_verify(bool whole) {
    SealResult result;
    pg::Spi spi;
    const Oid owner = ledger_owner(spi);
    const bool may_seal = may_seal_in_own_transaction(owner);
    AsLedgerOwner as_owner(owner);
    const Oid table = audit_table();
    bool locked = false;
    if (may_seal) {
        auto try_lock = [table] {
            return pg::call([table] {
                return ConditionalLockDatabaseObject(RelationRelationId, table, kSealLockSubId, ExclusiveLock);
            });
        };
        // A holder that let go between the try and the look (the background sealer ending its pass) is
        // not in the way: one more try. Only a holder still there is named in the WARNING ("" when it is
        // the background sealer: it is sealing them).
        std::optional<std::string> holders;
        for (int attempt = 0; attempt < 2 && !locked; ++attempt) {
            locked = try_lock();
            if (!locked) holders = seal_lock_holders(spi, table);
            if (holders.has_value()) break;
        }
        if (!locked) result.blocked_by = holders.value_or("another session, which let go of it as this call looked");
    }

    // Before anything of the table is read (see verified_point).
    const VerifiedPoint point = verified_point(table);
    std::string previous;
    long long seq = 0;
    if (whole || !verify_changed(spi, table, result, previous, seq)) {
        previous.clear();
        seq = 0;
        result.checked = 0;
        walk_chain(spi, result, previous, seq);
    }
    if (locked) result.sealed = seal_rows(spi, previous, seq);
    result.head = previous;
    result.head_position = seq;
    if (result.open.empty() && result.resealed.empty()) record_verified(spi, table, point, seq);
    const pg::Rows left =
        spi.query("SELECT pg_catalog.count(*) FROM pgmig.ddl_audit a WHERE a.chain_seq IS NULL", {}, SPI_OK_SELECT);
    result.unsealed = std::stoll(left.rows.at(0).at(0).value_or("0"));
    // The background sealer starts when this transaction ends: for a caller that does not seal, and for
    // one that held the seal lock in a transaction block, during which commits could not be sealed.
    if ((!may_seal && result.unsealed > 0) || (locked && pg::call([] { return IsTransactionBlock(); }))) {
        note_rows_written(table);
    }
    if (!result.blocked_by.empty()) {
        const std::string message =
            fmt::format("pgmig did not seal new audit rows: {} holds the seal lock; the sealed chain was verified",
                        result.blocked_by);
        const char* text = message.c_str();
        pg::call([text] {
            ereport(
                WARNING,
                (errcode(sqlstate::audit_seal_blocked), errmsg_internal("%s", text),
                 errhint(
                     "the rows are sealed once that transaction ends; end it if it is idle (pg_terminate_backend)")));
        });
    }
    return result;
}

// What migrate_audit_reseal() did.
struct ResealResult {
    long long reseal_id = 0;
    long long broken_links = 0;
    long long first_broken = 0;
    std::string problem;
    long long head_position = 0;
};

// Records the chain's open broken links in a reseal row of its own and seals it as the first row of a
// new segment; the broken rows stay as they are. Waits for the seal lock (a sealer's pass is short).
ResealResult reseal(const std::string& reason) {
    ResealResult out;
    pg::Spi spi;
    const std::string resealer = pg::call([] { return GetUserNameFromId(GetUserId(), false); });
    const Oid owner = ledger_owner(spi);
    AsLedgerOwner as_owner(owner);
    const Oid table = audit_table();
    pg::call([table] { LockDatabaseObject(RelationRelationId, table, kSealLockSubId, ExclusiveLock); });
    SealResult walked;
    std::string previous;
    long long seq = 0;
    walk_chain(spi, walked, previous, seq);
    if (walked.open.empty()) {
        throw Error(
            sqlstate::audit_reseal_refused, "the audit chain has no broken link to reseal",
            fmt::format("{} sealed rows checked{}", walked.checked,
                        walked.resealed.empty()
                            ? std::string()
                            : fmt::format("; {} earlier break(s) already resealed", walked.resealed.size())),
            "nothing to do: reseal only a chain that migrate_audit_verify() (pgmig audit verify) reports broken");
    }
    nlohmann::json broken = nlohmann::json::array();
    for (const Break& b : walked.open) broken.push_back(b.id);
    const nlohmann::json info = {{"reason", reason},
                                 {"first_broken_id", walked.open.front().id},
                                 {"problem", walked.open.front().problem},
                                 {"broken", broken},
                                 {"previous_head", previous},
                                 {"previous_position", seq}};
    // Rows committed since the last seal belong to the segment before the reseal row: sealed first.
    seal_rows(spi, previous, seq);
    const pg::Rows inserted = spi.query(
        "INSERT INTO pgmig.ddl_audit (current_user_name, event, command_tag, statement, policy) "
        "VALUES ($1, $2, 'AUDIT RESEAL', $3, 'reseal') RETURNING id",
        {{TEXTOID, resealer},
         {TEXTOID, std::string(kResealEvent)},
         {TEXTOID, info.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)}},
        SPI_OK_INSERT_RETURNING);
    out.reseal_id = std::stoll(inserted.rows.at(0).at(0).value_or("0"));
    seal_rows(spi, previous, seq);
    out.broken_links = static_cast<long long>(walked.open.size());
    out.first_broken = walked.open.front().id;
    out.problem = walked.open.front().problem;
    out.head_position = seq;
    return out;
}

}  // namespace

SealPass seal_pending(unsigned expected, long lock_wait_ms) {
    pg::Spi spi;
    const Oid table = audit_table();
    if (!OidIsValid(table) || table != expected) return SealPass::extension_gone;
    // Locked first, then looked up again: a DROP EXTENSION pgmig that got there first has removed it
    // by the time the lock is granted (nothing to seal, and nothing to complain about in the log).
    const bool present = pg::call([table] {
        LockRelationOid(table, AccessShareLock);
        return SearchSysCacheExists1(RELOID, ObjectIdGetDatum(table));
    });
    if (!present) return SealPass::extension_gone;
    const Oid owner = ledger_owner(spi);
    AsLedgerOwner as_owner(owner);
    // Polled rather than waited for, so that a long holder costs a line in the log, not an error.
    const bool locked = pg::call([table, lock_wait_ms] {
        for (long waited = 0;; waited += 50) {
            if (ConditionalLockDatabaseObject(RelationRelationId, table, kSealLockSubId, ExclusiveLock)) return true;
            if (waited >= lock_wait_ms) return false;
            (void)WaitLatch(MyLatch, WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, 50, PG_WAIT_EXTENSION);
            CHECK_FOR_INTERRUPTS();
        }
    });
    if (!locked) return SealPass::lock_busy;
    // The head, from the index on chain_seq: the chain is verified by migrate_audit_verify(), not here.
    const pg::Rows head = spi.query_prepared(g_plans[2],
                                             "SELECT a.chain_seq, a.row_hash FROM pgmig.ddl_audit a "
                                             "WHERE a.chain_seq IS NOT NULL ORDER BY a.chain_seq DESC LIMIT 1",
                                             {}, SPI_OK_SELECT);
    std::string previous;
    long long seq = 0;
    if (!head.rows.empty()) {
        seq = std::stoll(head.rows[0][0].value_or("0"));
        previous = head.rows[0][1].value_or("");
    }
    return seal_rows(spi, previous, seq) > 0 ? SealPass::sealed : SealPass::nothing_new;
}

}  // namespace pgmig::audit

using namespace pgmig;

// pgmig.audit_guard(): BEFORE UPDATE OR DELETE OR TRUNCATE on pgmig.ddl_audit, and BEFORE INSERT OR
// UPDATE on pgmig.audit_verified, enabled ALWAYS (it fires in session_replication_role = replica too).
// Audit rows are immutable for everyone, the table's owner and its grantees included; only sealing may
// fill in the chain, and only a verification record how far it found it intact.
PGMIG_FUNCTION_ANY_SQL(pgmig_audit_guard) {
    if (!CALLED_AS_TRIGGER(fcinfo)) throw Error(sqlstate::invalid_argument, "pgmig.audit_guard() is a trigger");
    auto* trig = reinterpret_cast<TriggerData*>(fcinfo->context);
    if (audit::g_sealing && TRIGGER_FIRED_BY_UPDATE(trig->tg_event)) return PointerGetDatum(trig->tg_newtuple);
    if (audit::g_sealing && TRIGGER_FIRED_BY_INSERT(trig->tg_event)) return PointerGetDatum(trig->tg_trigtuple);
    const std::string table = RelationGetRelationName(trig->tg_relation);  // a field of the relcache entry
    throw Error(sqlstate::audit_immutable, fmt::format("pgmig.{} rows cannot be changed or deleted", table),
                "the audit trail is append-only and sealed into a hash chain",
                "nothing to do: pgmig writes it; read it with SELECT");
}

// migrate_audit_verify([whole]) -> (checked, sealed, first_broken_id, problem, chain_head, head_position,
//                                   unsealed, seal_blocked_by, resealed)
PGMIG_FUNCTION(migrate_audit_verify) {
    const bool whole = PG_NARGS() > 0 && !PG_ARGISNULL(0) && PG_GETARG_BOOL(0);
    const audit::SealResult r = audit::seal_and_verify(whole);
    const auto opt = [](bool present, std::string value) { return present ? std::optional(value) : std::nullopt; };
    pg::return_rows(
        fcinfo,
        {{std::to_string(r.checked), std::to_string(r.sealed),
          opt(r.first_broken.has_value(), std::to_string(r.first_broken.value_or(0))),
          opt(r.first_broken.has_value(), r.problem), opt(!r.head.empty(), r.head),
          opt(!r.head.empty(), std::to_string(r.head_position)), std::to_string(r.unsealed),
          opt(!r.blocked_by.empty(), r.blocked_by),
          opt(!r.resealed.empty(), r.resealed.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace))}});
    return static_cast<Datum>(0);
}

// migrate_audit_reseal(reason) -> (reseal_id, broken_links, first_broken_id, problem, head_position): after a
// broken chain was investigated, a superuser records the break and starts a new sealed segment (see reseal()).
// Superusers only, checked here: the function's owner (the extension's) and pgmig_admin are refused too.
PGMIG_FUNCTION(migrate_audit_reseal) {
    if (!pg::call([] { return superuser(); })) {
        throw Error(sqlstate::audit_reseal_not_superuser, "only a superuser may reseal the audit chain",
                    "a reseal accepts a broken audit trail as it is and starts a new sealed segment",
                    "ask a superuser to investigate the break and run pgmig audit reseal --reason \"...\"");
    }
    std::string reason = pg::text_arg(fcinfo, 0).value_or("");
    const auto first = reason.find_first_not_of(" \t\r\n");
    if (first == std::string::npos || reason.size() > 2000) {
        throw Error(sqlstate::audit_reseal_refused, "a reseal needs a reason (1 to 2000 characters)",
                    "the reason is kept in the reseal's audit row, with who resealed and when",
                    "say what broke the chain and how it was investigated: migrate_audit_reseal(reason => '...')");
    }
    const audit::ResealResult r = audit::reseal(reason);
    pg::return_rows(fcinfo, {{std::to_string(r.reseal_id), std::to_string(r.broken_links),
                              std::to_string(r.first_broken), r.problem, std::to_string(r.head_position)}});
    return static_cast<Datum>(0);
}
