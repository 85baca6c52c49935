// The migration runner used by migrate_apply, migrate_rollback and migrate_rollback_to.
#include "runner.hpp"

extern "C" {
#include "postgres.h"
#include "catalog/pg_type_d.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/latch.h"
#include "utils/errcodes.h"
#include "utils/guc.h"
#include "utils/timeout.h"
#include "utils/timestamp.h"
}

#include <fmt/format.h>

#include <algorithm>
#include <optional>

#include "audit.hpp"
#include "failure_record.hpp"
#include "pg/interrupts.hpp"
#include "progress.hpp"
#include "redact.hpp"
#include "settings.hpp"
#include "touched_objects.hpp"

namespace pgmig {

namespace {

constexpr size_t kStatementShown = 400;  // bytes of a failing statement quoted in an error

// A statement as quoted in messages: secrets redacted, long ones cut.
std::string quote_statement(const std::string& statement) {
    const std::string text = redact_statement(statement);
    if (text.size() <= kStatementShown) return text;
    size_t cut = kStatementShown;  // do not cut a UTF-8 character in half
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
    return text.substr(0, cut) + "...";
}

const char* script_name(Direction d) { return d == Direction::up ? "up" : "down"; }

// PM010 for a statement that cannot run inside a transaction block (see needs_no_transaction_now).
void refuse_outside_transaction_only(const Migration& m, Direction d, const Statement& st, bool before_anything) {
    const std::string why = needs_no_transaction_now(st);
    if (why.empty()) return;
    throw Error(sqlstate::needs_no_transaction,
                fmt::format("{} uses {} at line {} of its {} script, which cannot run inside a transaction", m.label(),
                            why, st.line, script_name(d)),
                quote_statement(st.text),
                fmt::format("{}mark the migration non-transactional (-- pgmig:no-transaction in the file, or the "
                            "option {{\"transactional\": false}}) and apply it with the client: pgmig apply",
                            before_anything ? "" : "the whole call is rolled back; "));
}

const std::string& script_of(const Migration& m, Direction d) {
    return d == Direction::up ? m.up_sql : *m.down_sql;  // down scripts are checked before running
}

}  // namespace

MigrationLimits::MigrationLimits(int lock_timeout_ms, int statement_timeout_ms) {
    guc_level_ = NewGUCNestLevel();
    const std::string value = std::to_string(lock_timeout_ms);
    const char* text = value.c_str();
    pg::call([text] {
        set_config_option("lock_timeout", text, PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
    });
    if (statement_timeout_ms > 0) {
        timer_was_active_ = get_timeout_active(STATEMENT_TIMEOUT);
        timer_finish_ = timer_was_active_ ? get_timeout_finish_time(STATEMENT_TIMEOUT) : 0;
        const TimestampTz deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), statement_timeout_ms);
        if (!timer_was_active_ || deadline < timer_finish_) {  // the caller's own limit still applies
            timer_changed_ = true;
            pg::call([deadline] { enable_timeout_at(STATEMENT_TIMEOUT, deadline); });
        }
    }
}

void MigrationLimits::finish() {
    finished_ = true;
    restore();
}

MigrationLimits::~MigrationLimits() {
    if (finished_) return;
    try {
        restore();
    } catch (...) {  // NOLINT(bugprone-empty-catch): unwinding an error; the transaction's abort restores both
    }
}

void MigrationLimits::restore() {
    {
        if (timer_changed_) {
            const bool was_active = timer_was_active_;
            const TimestampTz finish = timer_finish_;
            pg::call([was_active, finish] {
                if (was_active) {
                    enable_timeout_at(STATEMENT_TIMEOUT, finish);
                } else {
                    disable_timeout(STATEMENT_TIMEOUT, false);
                }
            });
        }
        const int level = guc_level_;
        pg::call([level] { AtEOXact_GUC(true, level); });
    }
}

namespace {

// Runs one statement of m's script; a PostgreSQL error is rethrown as Error naming the migration, the line
// and the statement (the DDL it runs is audited as m's).
void run_statement(pg::Spi& spi, const Migration& m, Direction d, const Statement& st) {
    // A relation created partitioned by an earlier statement of the plan: refused before it runs (and the
    // whole call rolled back) rather than failing with PostgreSQL's 25001.
    if (!st.partition_relation.empty()) refuse_outside_transaction_only(m, d, st, false);
    try {
        const std::string& owner = m.version ? *m.version : m.name;
        const audit::InMigration in_migration(owner.c_str(), st.text.c_str(), st.kind);  // for the audit trail
        spi.execute(st.text);
    } catch (const pg::PgError& caught) {
        // Core's fields may quote the statement (SPI's context line) or a secret of it (a token in a
        // message): what reaches the client, the server log and the history is redacted.
        const Error e = safe_error(caught, st.text);
        std::string detail;
        if (caught.internalpos() > 0 && caught.internalquery() == st.text) {
            const size_t byte = byte_of_char_position(st.text, 0, caught.internalpos());
            detail = fmt::format("error at line {} of the {} script, in the statement starting at line {}: {}",
                                 st.line + line_at_byte(st.text, byte) - 1, script_name(d), st.line,
                                 quote_statement(st.text));
        } else {
            detail = fmt::format("statement at line {} of the {} script: {}", st.line, script_name(d),
                                 quote_statement(st.text));
        }
        if (!e.detail().empty()) detail += "\n" + e.detail();
        std::string hint = e.hint().empty() ? std::string() : e.hint() + "\n";
        hint +=
            "the transaction is rolled back and nothing of this call took effect; fix the migration, register "
            "it again and retry";
        Error error(e.sqlstate(),
                    fmt::format("{} failed{}: {}", m.label(), d == Direction::down ? " to roll back" : "", e.message()),
                    std::move(detail), std::move(hint));
        error.with_context(e.context());
        error.caused_by(e);
        throw error;
    }
}

// True when this transaction holds no lock on a user relation outside the ledger: then a
// migration can wait and retry without keeping anybody else waiting on us.
bool holds_no_user_locks(pg::Spi& spi) {
    const pg::Rows rows = spi.query(
        "SELECT pg_catalog.count(*) FROM pg_catalog.pg_locks l "
        "WHERE l.pid OPERATOR(pg_catalog.=) pg_catalog.pg_backend_pid() "
        "AND l.locktype OPERATOR(pg_catalog.=) 'relation' AND l.relation OPERATOR(pg_catalog.>=) 16384 "
        "AND l.database OPERATOR(pg_catalog.=) (SELECT oid FROM pg_catalog.pg_database "
        "                                       WHERE datname OPERATOR(pg_catalog.=) pg_catalog.current_database()) "
        "AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n "
        "ON n.oid OPERATOR(pg_catalog.=) c.relnamespace WHERE c.oid OPERATOR(pg_catalog.=) l.relation "
        "AND n.nspname OPERATOR(pg_catalog.=) 'pgmig')",
        {}, SPI_OK_SELECT);
    return *rows.rows.at(0).at(0) == "0";
}

// Waits on the latch, so that cancellation and postmaster death are noticed at once.
void backoff(int ms) {
    const TimestampTz until = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), ms);
    for (;;) {
        const long left = TimestampDifferenceMilliseconds(GetCurrentTimestamp(), until);
        if (left <= 0) break;
        pg::call([left] {
            (void)WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, left, PG_WAIT_EXTENSION);
            ResetLatch(MyLatch);
            CHECK_FOR_INTERRUPTS();
        });
    }
}

// The caller's address, for records written by someone else on its behalf.
std::optional<std::string> client_addr(pg::Spi& spi) {
    return spi.query("SELECT pg_catalog.host(pg_catalog.inet_client_addr())", {}, SPI_OK_SELECT).rows.at(0).at(0);
}

void notice(const std::string& message) {
    const char* text = message.c_str();
    pg::call([text] { ereport(NOTICE, (errmsg_internal("%s", text))); });
}

}  // namespace

std::string interval_text(long long microseconds) {
    return fmt::format("{:.6f} seconds", static_cast<double>(microseconds) / 1e6);
}

namespace {

// m's `direction` script cut into statements; throws what parse_plan refuses.
std::vector<Statement> split_checked(const Migration& m, Direction direction) {
    const std::string& script = script_of(m, direction);
    std::vector<Statement> statements;
    try {
        statements = split_script(script);
    } catch (const pg::PgError& e) {
        if (pg::is_interrupt(e)) throw;  // a cancel or timeout while splitting is not a syntax error
        std::string where;
        if (e.cursorpos() > 0) {
            const size_t byte = byte_of_char_position(script, 0, e.cursorpos());
            const size_t line_start = byte == 0 ? std::string::npos : script.rfind('\n', byte - 1);
            const size_t from = line_start == std::string::npos ? 0 : line_start + 1;
            where = fmt::format(" at line {}, column {}", line_at_byte(script, byte), byte - from + 1);
        }
        // The message may quote the token the grammar rejected: a password written without quotes.
        const Error shown = safe_error(e, script);
        Error error(e.sqlstate(),
                    fmt::format("{} has a syntax error in its {} script{}: {}", m.label(), script_name(direction),
                                where, shown.message()),
                    shown.detail(), "fix the script and register the migration again; nothing was run");
        error.caused_by(shown);
        throw error;
    }
    for (const Statement& st : statements) {
        if (st.transaction_control) {
            throw Error(sqlstate::transaction_control,
                        fmt::format("{} contains transaction control at line {} of its {} script: {}", m.label(),
                                    st.line, script_name(direction), quote_statement(st.text)),
                        "pgmig runs every migration inside the caller's transaction, in subtransactions it "
                        "manages itself",
                        "remove BEGIN/COMMIT/ROLLBACK/SAVEPOINT from the migration; nothing was run");
        }
        if (m.options.transactional) refuse_outside_transaction_only(m, direction, st, true);
    }
    return statements;
}

}  // namespace

std::vector<std::vector<Statement>> parse_plan(const std::vector<Migration>& plan, Direction direction) {
    std::vector<std::vector<Statement>> out;
    out.reserve(plan.size());
    for (const Migration& m : plan) out.push_back(split_checked(m, direction));
    return out;
}

ParsedScript parse_script(const Migration& m, Direction direction) {
    try {
        return {split_checked(m, direction), std::nullopt};
    } catch (const Error& e) {
        if (pg::is_interrupt(e)) throw;  // the user asked to stop: see run_script
        return {{}, e};
    }
}

ScriptLimits limits_of(const Migration& m) {
    return {m.options.lock_timeout_ms.value_or(settings::lock_timeout_ms()),
            m.options.statement_timeout_ms.value_or(settings::statement_timeout_ms())};
}

namespace {

// The statements of a script, one by one, under `limits`, in the caller's (sub)transaction: an error is
// thrown, and `k` says at which statement.
void run_statements(pg::Spi& spi, const Migration& m, Direction direction, const std::vector<Statement>& script,
                    const ScriptLimits& limits, const std::function<void(size_t)>& before_statement, size_t& k) {
    MigrationLimits limited(limits.lock_timeout_ms, limits.statement_timeout_ms);
    for (k = 0; k < script.size(); ++k) {
        pg::check_for_interrupts();
        if (before_statement) before_statement(k);
        run_statement(spi, m, direction, script[k]);
    }
    limited.finish();
}

}  // namespace

std::optional<ScriptFailure> run_script(pg::Spi& spi, const Migration& m, Direction direction,
                                        const std::vector<Statement>& script, const ScriptLimits& limits,
                                        const std::function<void(size_t)>& before_statement) {
    size_t k = 0;
    try {
        pg::Subtransaction sub;
        run_statements(spi, m, direction, script, limits, before_statement, k);
        sub.commit();
        return std::nullopt;
    } catch (const Error& e) {
        // The subtransaction is rolled back here, its locks released and the limits restored.
        if (pg::is_interrupt(e)) throw;  // the user asked to stop: no failure of the script, the end of the call
        return ScriptFailure{e, k};
    }
}

namespace {

// The error a lock timeout ends the call with when the transaction already holds locks on user relations.
Error no_retry_while_holding_locks(const Error& e, int retries) {
    Error error(e.sqlstate(), e.message(), e.detail(),
                fmt::format("this transaction already holds locks (earlier migrations or "
                            "statements), so waiting here would block others: retry the whole "
                            "transaction later (pgmig apply does, up to {} times)",
                            retries));
    error.with_context(e.context());
    error.caused_by(e);
    return error;
}

}  // namespace

// Each migration runs in a subtransaction of its own as long as a lock timeout could be retried: the
// first, and the next ones while the transaction holds no lock on a user relation. After that a
// failure ends the whole call whatever happens, so the remaining migrations run in one subtransaction
// together ("batch"): PostgreSQL's end of a subtransaction walks every relation created, lock taken and
// relation cached in the transaction so far (AtSubCommit_smgr, the lock and relcache bookkeeping), so one
// subtransaction per migration cost time quadratic in the number of migrations (14% of applying 1,000
// one-table migrations). A failure in the batch rolls all of it back before it is recorded, as the call
// then ends.
// The ledger learns what ran when every migration has run, in one statement for all of them (each
// keeps the time it ended and its place in history): a failure ends the call and rolls back all it did
// anyway, and two statements per migration were a tenth of what the call added to the migrations' own work.
// So a migration's script sees the ledger as the call found it.
std::vector<RunResult> run_plan(LedgerStore& store, pg::Spi& spi, const std::vector<Migration>& plan,
                                const std::vector<std::vector<Statement>>& scripts, Direction direction) {
    std::vector<RunResult> results;
    results.reserve(plan.size());
    ProgressReport progress;  // what pgmig monitor shows
    std::optional<pg::Subtransaction> batch;
    std::vector<FinishedRun> finished;  // written to the ledger together once every migration has run
    finished.reserve(plan.size());
    for (size_t i = 0; i < plan.size(); ++i) {
        const Migration& m = plan[i];
        const ScriptLimits limits = limits_of(m);
        const int retries = m.options.retries.value_or(settings::retries());
        const TimestampTz started = GetCurrentTimestamp();
        const auto report = [&](size_t k) {  // what pgmig monitor shows
            progress.report(m.label(), direction == Direction::up, i + 1, plan.size(), k + 1, scripts[i].size(),
                            scripts[i][k].line, scripts[i][k].text);
        };
        // (The first migration always gets its own: whether a retry is possible is asked only if it times out.)
        if (!batch && i > 0 && (retries == 0 || !holds_no_user_locks(spi))) batch.emplace();
        if (batch) {
            size_t k = 0;
            try {
                run_statements(spi, m, direction, scripts[i], limits, report, k);
            } catch (const Error& e) {
                batch.reset();  // rolled back: every migration of the batch, its locks released, the limits restored
                record_failure_after_rollback(store, m, e.sqlstate(), e.message(), client_addr(spi));
                if (pg::is_interrupt(e)) throw;  // the user asked to stop, as in run_script
                if (e.sqlstate() == make_sqlstate("55P03") && retries > 0)
                    throw no_retry_while_holding_locks(e, retries);
                throw Error(e);
            }
        } else {
            for (int attempt = 1;; ++attempt) {
                std::optional<ScriptFailure> failure;
                try {
                    failure = run_script(spi, m, direction, scripts[i], limits, report);
                } catch (const Error& e) {
                    // A cancel or timeout ends the call: the caller's transaction is about to abort, and a
                    // worker keeps the record of the failed attempt, as for any failure that ends it.
                    record_failure_after_rollback(store, m, e.sqlstate(), e.message(), client_addr(spi));
                    throw;
                }
                if (!failure) break;
                const Error& e = failure->error;  // the attempt's subtransaction is rolled back, its locks released
                const bool retry = e.sqlstate() == make_sqlstate("55P03") && attempt <= retries;
                if (!retry) {
                    record_failure_after_rollback(store, m, e.sqlstate(), e.message(), client_addr(spi));
                    throw Error(e);
                }
                if (!holds_no_user_locks(spi)) {
                    record_failure_after_rollback(store, m, e.sqlstate(), e.message(), client_addr(spi));
                    throw no_retry_while_holding_locks(e, retries);
                }
                const int wait = std::min(settings::retry_backoff_ms() << std::min(attempt - 1, 16), 600000);
                notice(fmt::format("{}: lock timeout after {} ms on attempt {} of {}; retrying in {} ms", m.label(),
                                   limits.lock_timeout_ms, attempt, retries + 1, wait));
                store.record(HistoryEntry{m.version, m.name, "retry", std::nullopt, attempt, m.checksum, std::nullopt,
                                          "55P03", e.message(), std::nullopt});
                backoff(wait);
            }
        }
        const TimestampTz ended = GetCurrentTimestamp();
        const std::string duration = interval_text(ended - started);
        finished.push_back(FinishedRun{&m, duration, ended, store.next_history_id()});
        results.push_back(RunResult{m.version.value_or(""), m.name,
                                    direction == Direction::up ? "applied" : "rolled_back", duration});
    }
    if (batch) batch->commit();
    store.record_runs(finished,
                      direction == Direction::up ? LedgerStore::RunAction::apply : LedgerStore::RunAction::rollback);
    return results;
}

std::vector<RunResult> run_plan_and_snapshot(LedgerStore& store, pg::Spi& spi, const std::vector<Migration>& plan,
                                             const std::vector<std::vector<Statement>>& scripts, Direction direction,
                                             const std::string& reason) {
    const touched::Collection changes;  // what the snapshot describes again
    std::vector<RunResult> results = run_plan(store, spi, plan, scripts, direction);
    if (!results.empty()) store.save_snapshot(reason, &changes);
    return results;
}

}  // namespace pgmig
