#!/usr/bin/env bash
# bench/drift_trail.sh: migrate_drift() on a database with drift, on a short audit trail and on one of
# TRAIL rows more, in the same run. migrate_drift() names who made each drift from the audit rows written
# since the snapshot, and `pgmig health` runs it on every check: its cost must not grow with the trail.
# Starts and removes its own throwaway cluster. A report: exits non-zero only when something failed to run.
#   bench/drift_trail.sh          TRAIL=1000000 older audit rows, RUNS=15 calls each, by default
set -euo pipefail
BENCH=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$BENCH/.." && pwd)
PGMIG=${PGMIG:-$ROOT/build/pgmig}
TRAIL=${TRAIL:-1000000}
RUNS=${RUNS:-15}

say() { printf '%s\n' "$*" >&2; }
die() { say "drift_trail.sh: $*"; exit 1; }
# shellcheck source=bench/lib.sh
. "$BENCH/lib.sh"

bench_start drift-trail TRAIL RUNS

# setup NAME ROWS: a ledger with one migration on top of ROWS older audit rows (years of DDL, written
# directly: the same rows the trail would hold, much faster than running the DDL), then drift made
# outside it: a table added, another changed.
setup() {
    fresh_db "$1" pgmig
    if (($2 > 0)); then
        q -d "$1" >/dev/null <<SQL
INSERT INTO pgmig.ddl_audit (at, current_user_name, event, command_tag, statement, policy, object_type, object_identity)
SELECT pg_catalog.now() - interval '1 year' + g * interval '1 second', 'postgres', 'ddl_command_end', 'CREATE TABLE',
       'CREATE TABLE old_' || g || ' (id int)', 'log', 'table', 'public.old_' || g
  FROM pg_catalog.generate_series(1, $2) g;
SQL
    fi
    q -d "$1" >/dev/null <<'SQL'
SELECT migrate_register('1', 'accounts', 'CREATE TABLE accounts (id bigint PRIMARY KEY);');
SELECT count(*) FROM migrate_apply();
CREATE TABLE drifted (id int);
ALTER TABLE accounts ADD COLUMN note text;
VACUUM ANALYZE pgmig.ddl_audit;
SQL
    local found
    found=$(q -d "$1" -c "SELECT count(*) FROM migrate_drift() WHERE changed_by IS NOT NULL")
    [[ $found == 2 ]] || die "$1: expected 2 drifts with who made them, found $found"
}

# drift_ms DB: the median of RUNS calls of migrate_drift() in one session (milliseconds, psql's \timing).
drift_ms() {
    { printf '%s\n' '\timing on'; for _ in $(seq 1 "$RUNS"); do echo 'SELECT count(*) FROM migrate_drift();'; done; } |
        psql -X -q -d "$1" -v ON_ERROR_STOP=1 2>&1 | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' >"$RES/$1"
    [[ $(wc -l <"$RES/$1") == "$RUNS" ]] || die "migrate_drift() did not run $RUNS times in $1"
    median "$RES/$1"
}
rows() { q -d "$1" -c "SELECT count(*) FROM pgmig.ddl_audit"; }

setup drift_short 0
say "writing $TRAIL older audit rows..."
setup drift_long "$TRAIL"
short=$(drift_ms drift_short)
long=$(drift_ms drift_long)
short_rows=$(rows drift_short)
long_rows=$(rows drift_long)

cat <<OUT
migrate_drift() with 2 drifted objects, PostgreSQL $(q -d postgres -c "SHOW server_version" | cut -d' ' -f1), median of $RUNS calls
  trail of $(printf '%9s' "$short_rows") rows   $(printf '%9.2f' "$short") ms
  trail of $(printf '%9s' "$long_rows") rows   $(printf '%9.2f' "$long") ms   ratio $(python3 -c "print(f'{$long / $short:.2f}')")
OUT
