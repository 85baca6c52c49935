#!/usr/bin/env bash
# bench/audit_xids.sh: the transaction ids and subtransactions that auditing costs. One migration of
# STATEMENTS DDL statements applied with migrate_apply(), and the same statements run out of band in
# one transaction (psql -1), each in a database with pgmig and in one without; reports the xids each
# consumed (pg_current_xact_id() before and after, in transactions of their own) and the distinct
# xmin values of the audit rows (one per subtransaction that wrote them). More than 64 subtransactions
# in one transaction overflow the backend's subtransaction cache. Starts and removes its own
# throwaway cluster; exits 0 whatever the numbers, non-zero only when something failed to run.
#   bench/audit_xids.sh                 STATEMENTS=1000
set -euo pipefail
BENCH=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$BENCH/.." && pwd)
PGMIG=${PGMIG:-$ROOT/build/pgmig}
STATEMENTS=${STATEMENTS:-1000}
KEEP=${KEEP:-0}

say() { printf '%s\n' "$*" >&2; }
die() { say "audit_xids.sh: $*"; exit 1; }
# shellcheck source=bench/lib.sh
. "$BENCH/lib.sh"

[[ $STATEMENTS =~ ^[1-9][0-9]*$ ]] || die "STATEMENTS must be a positive integer, not '$STATEMENTS'"
[[ -x $PGMIG ]] || die "$PGMIG not found: build it first (cmake -S . -B build && cmake --build build -j2)"
for c in psql createdb dropdb python3; do command -v "$c" >/dev/null || die "$c not found"; done

bench_cluster audit-xids-bench
# Nothing else may take xids while we count: no autovacuum (autoanalyze writes pg_statistic).
q -d postgres -c "ALTER SYSTEM SET autovacuum = off" -c "SELECT pg_reload_conf()" >/dev/null
# Nor the audit sealer, which seals the rows in a transaction of its own after each commit.
export PGOPTIONS="-c pgmig.audit_sealer=off"

python3 - "$W/ddl.sql" "$STATEMENTS" <<'PY'
import sys
path, n = sys.argv[1], int(sys.argv[2])
open(path, "w").write("".join(f"CREATE TABLE xid_t{i} (id int);\n" for i in range(n)))
PY
chmod -R a+rX "$TMP"

xid() { q -d "$1" -c "SELECT pg_current_xact_id()"; }

# out_of_band DB: the statements in one transaction; prints the xids it used.
out_of_band() {
    local before after
    before=$(xid "$1")
    psql -X -q -1 -v ON_ERROR_STOP=1 -d "$1" -f "$W/ddl.sql" >"$LOG" 2>&1 || { cat "$LOG" >&2; die "psql -1 failed in $1"; }
    after=$(xid "$1")
    echo $((after - before - 1))
}

audit_xmins() { q -d "$1" -c "SELECT count(*) || ' rows, ' || count(DISTINCT xmin::text) || ' writing (sub)transactions' FROM pgmig.ddl_audit WHERE $2"; }

fresh_db bench_plain
plain=$(out_of_band bench_plain)
fresh_db bench_oob pgmig
oob=$(out_of_band bench_oob)
oob_rows=$(audit_xmins bench_oob "migration_version IS NULL")
fresh_db bench_mig pgmig
# migrate_register takes the script as text: psql reads the file into a variable.
content=$(cat "$W/ddl.sql")
echo "SELECT migrate_register('1', 'xids', :'content') IS NOT NULL" | q -d bench_mig -v "content=$content" >/dev/null
before=$(xid bench_mig)
q -d bench_mig -c "SELECT count(*) FROM migrate_apply()" >"$LOG" 2>&1 || { cat "$LOG" >&2; die "migrate_apply failed"; }
after=$(xid bench_mig)
mig=$((after - before - 1))
mig_rows=$(audit_xmins bench_mig "migration_version = '1'")

say ""
say "$STATEMENTS DDL statements (CREATE TABLE), transaction ids consumed:"
say "  without pgmig, one transaction (psql -1):  $plain"
say "  with pgmig, out of band (psql -1):         $oob   (audit: $oob_rows)"
say "  with pgmig, one migration (migrate_apply): $mig   (audit: $mig_rows)"
say "  more than 64 subtransactions in one transaction overflow the backend's subtransaction cache"
