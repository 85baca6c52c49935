// The non-transactional migration guard (see nontx_guard.hpp): the registered statements of the
// migration this session runs, which top-level statement is one of them, and when it completed.
extern "C" {
#include "postgres.h"
#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/index.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_index.h"
#include "executor/executor.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/parsenodes.h"
#include "nodes/plannodes.h"
#include "storage/lock.h"
#include "tcop/pquery.h"
#include "tcop/utility.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/syscache.h"
}

#include "nontx_guard.hpp"

#include <fmt/format.h>

#include <cstring>
#include <string_view>
#include <vector>

#include "audit.hpp"
#include "errors.hpp"
#include "ledger_store.hpp"
#include "pg/boundary.hpp"
#include "script.hpp"
#include "pg/compat.hpp"

namespace pgmig::nontx_guard {

namespace detail {
bool g_armed = false;
}

namespace {

// One registered statement, as the client sends it.
struct GuardStatement {
    const char* text;  // from its first token, trailing whitespace cut
    size_t length;
    int line;  // in its script, for messages (the text itself is never quoted: it may hold a secret)
    // A CREATE INDEX CONCURRENTLY that names its index: the invalid index a failed run of it leaves
    // behind, which the client drops before running it again (else null).
    const char* index_name;
    const char* table_schema;  // null when the table is not schema-qualified
    const char* table_name;
};

// What begin armed. Lives in its own memory context under TopMemoryContext: plain data, no C++
// object, so that nothing needs a destructor when a transaction aborts.
struct Arming {
    MemoryContext context;
    const char* version;
    const char* checksum;  // of the registered migration when the run began
    bool down;
    int count;
    int completed;  // statements 1..completed are complete
    uint64 generation;
    GuardStatement* statements;
};

Arming* g_arming = nullptr;
uint64 g_generation = 0;
// The deepest transaction nesting level that changed the arming in the current transaction (0: none).
// An abort at or above it drops the arming: a change that a ROLLBACK undoes must not survive it.
int g_changed_level = 0;

// The top-level statement being run as statement `index` of the arming `generation` (0: none), at
// transaction nesting level `level`. `completes`: its end completes the statement (false for the drop
// of an invalid index, which only belongs to it).
struct Running {
    uint64 generation;
    int index;
    int level;
    bool completes;
};
Running g_running = {0, 0, 0, false};
// The executor's side: the QueryDesc of the matched DML statement, and whether it ran to completion.
QueryDesc* g_matched_query = nullptr;
bool g_matched_ran = false;
// The nesting level the audit attribution was set at (0: not set).
int g_attributed_level = 0;

// Why the last arming ended, for the message of a refused call.
char g_ended_version[256] = "";
const char* g_ended_because = nullptr;

ExecutorStart_hook_type g_previous_start = nullptr;
ExecutorRun_hook_type g_previous_run = nullptr;
ExecutorFinish_hook_type g_previous_finish = nullptr;
ExecutorEnd_hook_type g_previous_end = nullptr;

const char* const kBecauseFinished = "the run ended (migrate_nontx_finish or migrate_nontx_failed)";
const char* const kBecauseRolledBack = "a transaction that began the run or ran one of its statements was rolled back";
const char* const kBecauseUnlocked = "the session-level ledger lock was released";
const char* const kBecauseReplaced = "migrate_nontx_begin started another run";

void note_change() noexcept {
    const int level = GetCurrentTransactionNestLevel();
    if (level > g_changed_level) g_changed_level = level;
}

void attribute(int level) noexcept {
    audit::set_nontx_migration(g_arming->version);
    g_attributed_level = level;
}

void end_attribution() noexcept {
    if (g_attributed_level == 0) return;
    audit::set_nontx_migration(nullptr);
    g_attributed_level = 0;
}

void forget_running() noexcept {
    end_attribution();
    g_running = {0, 0, 0, false};
    g_matched_query = nullptr;
    g_matched_ran = false;
}

void drop(const char* because) noexcept {
    forget_running();
    if (g_arming == nullptr) return;
    strlcpy(g_ended_version, g_arming->version, sizeof(g_ended_version));
    g_ended_because = because;
    MemoryContext context = g_arming->context;
    g_arming = nullptr;
    detail::g_armed = false;
    MemoryContextDelete(context);
}

// The session-level lock the client holds for the whole run (a transaction-level one on the same key
// looks the same here; it ends with its transaction).
bool ledger_lock_held() noexcept {
    LOCKTAG tag;
    const auto key = static_cast<uint64>(kLedgerLockKey);
    SET_LOCKTAG_ADVISORY(tag, MyDatabaseId, static_cast<uint32>(key >> 32), static_cast<uint32>(key), 1);
    return pg::lock_held_by_me(&tag, ExclusiveLock);
}

// A top-level statement starts while armed: the run does not outlive the ledger lock.
bool still_armed() noexcept {
    if (g_arming != nullptr && !ledger_lock_held()) drop(kBecauseUnlocked);
    return g_arming != nullptr;
}

std::string_view trim_end(std::string_view s) {
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' || s.back() == '\r' ||
                          s.back() == '\f' || s.back() == '\v')) {
        s.remove_suffix(1);
    }
    return s;
}

// The statement at `location` of `query` is `expected`, word for word.
bool same_text(const char* query, int location, int length, const GuardStatement& expected) noexcept {
    if (query == nullptr) return false;
    const std::string_view text = trim_end(statement_view(query, location, length));
    return text.size() == expected.length && std::memcmp(text.data(), expected.text, expected.length) == 0;
}

// The statement expected next, or null when all are complete.
const GuardStatement* expected_next() noexcept {
    if (g_arming == nullptr || g_arming->completed >= g_arming->count) return nullptr;
    return &g_arming->statements[g_arming->completed];
}

void start_running(bool completes) noexcept {
    const int level = GetCurrentTransactionNestLevel();
    g_running = {g_arming->generation, g_arming->completed + 1, level, completes};
}

// The running statement ended normally: it is complete, if the arming it belongs to is still there
// and still expects it.
void complete_running() noexcept {
    const Running r = g_running;
    forget_running();
    if (!r.completes || g_arming == nullptr || g_arming->generation != r.generation) return;
    if (g_arming->completed != r.index - 1) return;
    g_arming->completed = r.index;
    note_change();
}

// `stmt` is DROP INDEX CONCURRENTLY of exactly the invalid index that a failed run of `expected`
// (a CREATE INDEX CONCURRENTLY) left: same name, on the same table. Catalog lookups only, with
// trivial locals: called through pg::call.
bool drops_left_index(Node* stmt, const GuardStatement* expected) {
    if (!IsA(stmt, DropStmt)) return false;
    const auto* drop = castNode(DropStmt, stmt);
    if (drop->removeType != OBJECT_INDEX || !drop->concurrent || drop->behavior != DROP_RESTRICT ||
        list_length(drop->objects) != 1) {
        return false;
    }
    const Oid index = RangeVarGetRelid(makeRangeVarFromNameList(castNode(List, linitial(drop->objects))), NoLock, true);
    if (!OidIsValid(index) || get_rel_relkind(index) != RELKIND_INDEX) return false;
    const char* name = get_rel_name(index);
    if (name == nullptr || strcmp(name, expected->index_name) != 0) return false;
    const Oid table = RangeVarGetRelid(
        makeRangeVar(const_cast<char*>(expected->table_schema), const_cast<char*>(expected->table_name), -1), NoLock,
        true);
    if (!OidIsValid(table) || IndexGetRelation(index, true) != table) return false;
    HeapTuple tuple = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(index));
    if (!HeapTupleIsValid(tuple)) return false;
    const bool valid = reinterpret_cast<Form_pg_index>(GETSTRUCT(tuple))->indisvalid;
    ReleaseSysCache(tuple);
    return !valid;
}

struct DropCheck {
    Node* stmt;
    const GuardStatement* expected;
    bool accepted;
};

void check_drop(void* arg) {
    auto* check = static_cast<DropCheck*>(arg);
    check->accepted = pg::call([check] { return drops_left_index(check->stmt, check->expected); });
}

// The query is the top-level statement the client sent (not one nested in a function, a DO block or
// a utility statement): the active portal's own plan, with the portal's own text.
bool top_level_query(const QueryDesc* query) noexcept {
    const Portal portal = ActivePortal;
    return portal != nullptr && query->sourceText != nullptr && query->sourceText == portal->sourceText &&
           query->plannedstmt != nullptr && list_member_ptr(portal->stmts, query->plannedstmt);
}

void match_query(QueryDesc* query, int eflags) noexcept {
    if ((eflags & EXEC_FLAG_EXPLAIN_ONLY) != 0 || !top_level_query(query) || !still_armed()) return;
    if (g_matched_query != nullptr || g_running.generation != 0) return;  // one statement at a time
    const GuardStatement* next = expected_next();
    if (next == nullptr ||
        !same_text(query->sourceText, query->plannedstmt->stmt_location, query->plannedstmt->stmt_len, *next)) {
        return;
    }
    start_running(true);
    g_matched_query = query;
    g_matched_ran = false;
}

// The executor hooks. Like the ProcessUtility hook's frame, theirs hold no C++ object: an error in
// the statement longjmps straight through, and the transaction callbacks clean up.
void guard_executor_start(QueryDesc* query, int eflags) {
    if (g_previous_start != nullptr) {
        g_previous_start(query, eflags);
    } else {
        standard_ExecutorStart(query, eflags);
    }
    if (detail::g_armed) match_query(query, eflags);
}

void guard_executor_run(PGMIG_EXECUTOR_RUN_PARAMS) {
    const bool matched = query == g_matched_query && query != nullptr;
    if (matched) attribute(g_running.level);  // DDL its triggers run belongs to the migration
    if (g_previous_run != nullptr) {
        g_previous_run(PGMIG_EXECUTOR_RUN_ARGS);
    } else {
        standard_ExecutorRun(PGMIG_EXECUTOR_RUN_ARGS);
    }
    if (matched) {
        end_attribution();
        // Run to the end in one go (a cursor fetching part of it has not run the statement).
        if (count == 0 && ScanDirectionIsForward(direction)) g_matched_ran = true;
    }
}

void guard_executor_finish(QueryDesc* query) {
    const bool matched = query == g_matched_query && query != nullptr;
    if (matched) attribute(g_running.level);  // AFTER triggers
    if (g_previous_finish != nullptr) {
        g_previous_finish(query);
    } else {
        standard_ExecutorFinish(query);
    }
    if (matched) end_attribution();
}

void guard_executor_end(QueryDesc* query) {
    const bool matched = query == g_matched_query && query != nullptr;
    if (matched) g_matched_query = nullptr;
    if (g_previous_end != nullptr) {
        g_previous_end(query);
    } else {
        standard_ExecutorEnd(query);
    }
    if (!matched) return;
    if (g_matched_ran) {
        complete_running();
    } else {
        forget_running();
    }
}

void on_xact(XactEvent event, void* /*arg*/) {
    switch (event) {
        case XACT_EVENT_COMMIT:
        case XACT_EVENT_PARALLEL_COMMIT:
            // Also inside CREATE INDEX CONCURRENTLY, which commits internally: the running statement and
            // its attribution go on.
            g_changed_level = 0;
            break;
        case XACT_EVENT_PREPARE:
            // A prepared transaction may still be rolled back, by anybody.
            if (g_changed_level > 0) drop(kBecauseRolledBack);
            g_changed_level = 0;
            break;
        case XACT_EVENT_ABORT:
        case XACT_EVENT_PARALLEL_ABORT:
            forget_running();
            if (g_changed_level > 0) drop(kBecauseRolledBack);
            g_changed_level = 0;
            break;
        default:
            break;
    }
}

void on_subxact(SubXactEvent event, SubTransactionId /*sub*/, SubTransactionId /*parent*/, void* /*arg*/) {
    if (event != SUBXACT_EVENT_COMMIT_SUB && event != SUBXACT_EVENT_ABORT_SUB) return;
    const int level = GetCurrentTransactionNestLevel();
    if (event == SUBXACT_EVENT_COMMIT_SUB) {
        if (g_changed_level == level) g_changed_level = level - 1;  // the parent holds the change now
        return;
    }
    // A subtransaction of the running statement (an exception block in it) does not end it.
    if (g_running.generation != 0 && g_running.level >= level) forget_running();
    if (g_attributed_level >= level) end_attribution();
    if (g_changed_level >= level) {
        drop(kBecauseRolledBack);
        g_changed_level = level - 1;
    }
}

std::string direction_words(bool down) { return down ? " (down script)" : ""; }

std::string next_statement_text(const Arming& a) {
    if (a.completed >= a.count) return fmt::format("every statement of it has completed ({} of {})", a.count, a.count);
    const std::string done = a.completed == 0   ? std::string("no statement has completed yet")
                             : a.completed == 1 ? std::string("statement 1 has completed")
                                                : fmt::format("statements 1 to {} have completed", a.completed);
    return fmt::format("{}; statement {} (line {} of the {} script) is expected next", done, a.completed + 1,
                       a.statements[a.completed].line, a.down ? "down" : "up");
}

const char* const kHowToRun =
    "send the migration's statements one by one, each on its own, exactly as pgmig.split_statements gives "
    "them (pgmig apply and pgmig rollback do); other statements run meanwhile are out-of-band DDL";

}  // namespace

void arm(const std::string& version, bool down, const std::string& checksum, const std::string& script, int done) {
    std::vector<Node*> nodes;
    const std::vector<Statement> statements = split_script(script, &nodes);
    const char* version_text = version.c_str();
    const char* checksum_text = checksum.c_str();
    const int count = static_cast<int>(statements.size());
    const Statement* first = statements.data();
    Node* const* trees = nodes.data();
    // Built as a child of the call's memory context, so that a failure halfway frees it; moved under
    // TopMemoryContext once complete.
    Arming* arming = pg::call([=] {
        MemoryContext context =
            AllocSetContextCreate(CurrentMemoryContext, "pgmig non-transactional migration", ALLOCSET_SMALL_SIZES);
        auto* a = static_cast<Arming*>(MemoryContextAllocZero(context, sizeof(Arming)));
        a->context = context;
        a->version = MemoryContextStrdup(context, version_text);
        a->checksum = MemoryContextStrdup(context, checksum_text);
        a->down = down;
        a->count = count;
        a->statements = count == 0 ? nullptr
                                   : static_cast<GuardStatement*>(MemoryContextAllocZero(
                                         context, sizeof(GuardStatement) * static_cast<size_t>(count)));
        for (int i = 0; i < count; ++i) {
            const Statement& st = first[i];
            const std::string_view text = trim_end(st.text);
            char* copy = static_cast<char*>(MemoryContextAlloc(context, text.size() + 1));
            std::memcpy(copy, text.data(), text.size());
            copy[text.size()] = '\0';
            GuardStatement& g = a->statements[i];
            g.text = copy;
            g.length = text.size();
            g.line = st.line;
            Node* tree = trees[i];
            if (IsA(tree, IndexStmt)) {
                const auto* index = castNode(IndexStmt, tree);
                if (index->concurrent && index->idxname != nullptr && index->relation != nullptr) {
                    g.index_name = MemoryContextStrdup(context, index->idxname);
                    g.table_schema = index->relation->schemaname == nullptr
                                         ? nullptr
                                         : MemoryContextStrdup(context, index->relation->schemaname);
                    g.table_name = MemoryContextStrdup(context, index->relation->relname);
                }
            }
        }
        MemoryContextSetParent(context, TopMemoryContext);
        return a;
    });
    drop(kBecauseReplaced);
    arming->completed = done < 0 ? 0 : (done > count ? count : done);
    arming->generation = ++g_generation;
    g_arming = arming;
    detail::g_armed = true;
    note_change();  // a rollback of this transaction undoes the begin
}

void disarm() noexcept { drop(kBecauseFinished); }

void require_running(const std::string& version, bool down, const std::string& checksum) {
    if (g_arming != nullptr && !ledger_lock_held()) drop(kBecauseUnlocked);
    if (g_arming == nullptr || version != g_arming->version || down != g_arming->down) {
        std::string detail;
        if (g_arming != nullptr) {
            detail =
                fmt::format("this session runs migration {}{}", g_arming->version, direction_words(g_arming->down));
        } else if (g_ended_because != nullptr && version == g_ended_version) {
            detail = fmt::format("its run in this session ended: {}", g_ended_because);
        } else {
            detail = fmt::format("migrate_nontx_begin('{}'{}) was not called in this session", version,
                                 down ? ", 'down'" : "");
        }
        throw Error(
            sqlstate::nontx_not_running,
            fmt::format("this session is not running non-transactional migration {}{}", version, direction_words(down)),
            detail,
            fmt::format("hold the session-level ledger lock, call migrate_nontx_begin('{}'{}), then {}", version,
                        down ? ", 'down'" : "", kHowToRun));
    }
    if (checksum != g_arming->checksum) {
        throw Error(
            sqlstate::nontx_script_changed,
            fmt::format("non-transactional migration {} was registered again since migrate_nontx_begin", version),
            fmt::format("its checksum was {} when the run began and is {} now", g_arming->checksum, checksum),
            fmt::format("call migrate_nontx_begin('{}'{}) again and run the statements it now has", version,
                        down ? ", 'down'" : ""));
    }
}

void require_completed(const std::string& version, int k) {
    if (k <= g_arming->completed) return;
    throw Error(sqlstate::nontx_statement_not_run,
                fmt::format("statement {} of non-transactional migration {} has not run in this session", k, version),
                next_statement_text(*g_arming),
                fmt::format("only the registered text of a statement, sent on its own as a top-level statement and "
                            "committed, counts: {}",
                            kHowToRun));
}

void require_all_completed(const std::string& version, bool down) {
    if (g_arming->completed >= g_arming->count) return;
    throw Error(sqlstate::nontx_statement_not_run,
                fmt::format("non-transactional migration {}{} is not complete: {} of {} statements ran in this session",
                            version, direction_words(down), g_arming->completed, g_arming->count),
                next_statement_text(*g_arming), kHowToRun);
}

void adopt_completed(const std::string& version, int statement) {
    require_next(version, statement);
    forget_running();
    g_arming->completed = statement;
    note_change();
}

void require_next(const std::string& version, int statement) {
    if (statement == g_arming->completed + 1) return;
    throw Error(sqlstate::nontx_statement_not_run,
                fmt::format("statement {} of non-transactional migration {} is not the one this session runs next",
                            statement, version),
                next_statement_text(*g_arming), "record the failure of the statement that failed");
}

int utility_start(PlannedStmt* pstmt, const char* query, int context) {
    if (!detail::g_armed || context != PROCESS_UTILITY_TOPLEVEL || !still_armed()) return 0;
    if (g_running.generation != 0 || g_matched_query != nullptr) return 0;
    const GuardStatement* next = expected_next();
    if (next == nullptr) return 0;
    if (same_text(query, pstmt->stmt_location, pstmt->stmt_len, *next)) {
        start_running(true);
        attribute(g_running.level);
        return 1;
    }
    if (next->index_name != nullptr && pstmt->utilityStmt != nullptr && IsA(pstmt->utilityStmt, DropStmt)) {
        DropCheck check{pstmt->utilityStmt, next, false};
        pg::invoke_void(check_drop, &check);
        if (check.accepted) {
            start_running(false);
            attribute(g_running.level);
            return 2;
        }
    }
    return 0;
}

void utility_end(int token) noexcept {
    if (token == 0 || g_running.generation == 0) return;
    complete_running();
}

void utility_failed(int token) noexcept {
    if (token == 0 || g_running.generation == 0) return;
    forget_running();
    end_attribution();
}

void install() {
    g_previous_start = ExecutorStart_hook;
    ExecutorStart_hook = guard_executor_start;
    g_previous_run = ExecutorRun_hook;
    ExecutorRun_hook = guard_executor_run;
    g_previous_finish = ExecutorFinish_hook;
    ExecutorFinish_hook = guard_executor_finish;
    g_previous_end = ExecutorEnd_hook;
    ExecutorEnd_hook = guard_executor_end;
    RegisterXactCallback(on_xact, nullptr);
    RegisterSubXactCallback(on_subxact, nullptr);
}

}  // namespace pgmig::nontx_guard
