// What pgmig rollback would do, before it does it: the down scripts' statements and what they drop, with
// rows (rehearsed by migrate_rollback(..., dry_run => true), nothing persists), and the consent a rollback
// that drops data needs (y/N on a terminal, --yes in scripts).
#pragma once

#include "client/core/db.hpp"

#include <cstdio>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace pgmig::client {

// A table, materialized view, column or schema a down script drops.
struct RollbackDrop {
    std::string type;               // table, materialized view, column, schema
    std::string identity;           // public.orders, public.orders.note, app
    std::optional<long long> rows;  // none: unknown (never analyzed, or not rehearsed)
    bool exact = false;             // false: pg_class.reltuples, an estimate
    bool from_statement = false;    // not rehearsed: found in this statement (identity), rows unknown
    bool holds_data() const;        // a table, column or schema with rows in it (or rows unknown)
    std::string describe() const;   // "table public.orders (20000 rows)"
};

// One migration of the rollback, newest first.
struct RollbackStep {
    std::string version;
    std::string name;
    std::string outcome;  // ok, not_rehearsable (non-transactional), not_rehearsed (after one that was not)
    std::string reason;   // why it is not ok
    std::vector<std::string> statements;  // the down script, one line per statement, secrets redacted
    std::vector<RollbackDrop> dropped;    // rehearsed: what it drops; else found in its statements
    std::vector<std::string> locks;       // "public.orders (AccessExclusiveLock)"
    long long rows_deleted = 0;
    std::string duration;   // the rehearsal's, interval text
    bool baseline = false;  // consented to with --force (baseline_rollback.hpp): not asked again
    std::string label() const { return version + "_" + name; }
};

struct RollbackPreview {
    std::vector<RollbackStep> steps;
    // The drops that need consent (--yes, or y on a terminal): a table, column or schema that holds rows, by a
    // migration that is not a consented baseline; one line each, "2_orders: table public.orders (3 rows)".
    std::vector<std::string> data_losses() const;
};

// Rehearses the rollback of the newest `count` applied migrations (the ones pgmig rollback chose) in a
// transaction that is rolled back. `baselines`: versions consented to with --force. `locate`, when given,
// restates a down script's own failure in the lines of its file (as the rollback itself reports it).
RollbackPreview preview_rollback(const Connection& conn, int count, bool trust,
                                 const std::vector<std::string>& baselines,
                                 const std::function<ServerError(const ServerError&)>& locate = {});

// The preview as text: per migration its statements, what it drops (rows), the locks it takes.
void print_rollback_preview(std::FILE* out, const RollbackPreview& preview);

// The consent a rollback needs before anything runs. On a terminal (stdin and stderr) the preview is shown
// and y/N asked (unless `yes`, or `asked_already`: the baseline consent had the versions typed); elsewhere a
// rollback that drops data is refused without `yes` (exit 56), listing what it would drop.
void require_rollback_consent(const RollbackPreview& preview, bool yes, bool asked_already, const std::string& target);

}  // namespace pgmig::client
