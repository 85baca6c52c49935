#!/usr/bin/env bash
# bench/audit_chain.sh: migrate_audit_verify() on a long audit trail (what pgmig health's audit_chain check
# runs on every check): the time to seal TRAIL rows; then, after a VACUUM of the table, a call that walks
# the whole chain (and records how far it found it intact); then RUNS calls with nothing changed since
# (median: they hash again only the rows of changed pages); each call in a session of its own, with the
# backend's peak memory (VmHWM, shared buffers it touched included); against one plain read of the same
# rows in the same run. Starts and removes its own throwaway cluster. A report: exits non-zero only when
# something failed to run.
#   bench/audit_chain.sh          TRAIL=1000000 rows, RUNS=3 by default; about a minute
set -euo pipefail
BENCH=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$BENCH/.." && pwd)
PGMIG=${PGMIG:-$ROOT/build/pgmig}
TRAIL=${TRAIL:-1000000}
RUNS=${RUNS:-3}

say() { printf '%s\n' "$*" >&2; }
die() { say "audit_chain.sh: $*"; exit 1; }
# shellcheck source=bench/lib.sh
. "$BENCH/lib.sh"

bench_start audit-chain TRAIL RUNS

fresh_db bench_chain pgmig
say "writing $TRAIL audit rows..."
q -d bench_chain >/dev/null <<SQL
INSERT INTO pgmig.ddl_audit (at, current_user_name, event, command_tag, statement, policy, object_type, object_identity)
SELECT pg_catalog.now() - interval '1 year' + g * interval '1 second', 'postgres', 'ddl_command_end', 'CREATE TABLE',
       'CREATE TABLE t_' || g || ' (id int, note text)', 'log', 'table', 'public.t_' || g
  FROM pg_catalog.generate_series(1, $TRAIL) g;
SQL

# timed_call SQL: "<ms> <peak kB>" of SQL run in a session of its own (psql's \timing; VmHWM read from
# /proc while the session waits after it).
timed_call() {
    local out="$W/call.out" pid hwm=0 line
    psql -X -A -t -q -d bench_chain -c "SELECT pg_backend_pid()" -c '\timing on' -c "$1" -c "SELECT pg_sleep(1)" \
        >"$out" 2>&1 &
    local client=$!
    for _ in $(seq 1 50); do pid=$(head -1 "$out" 2>/dev/null || true); [[ $pid =~ ^[0-9]+$ ]] && break; sleep 0.1; done
    [[ $pid =~ ^[0-9]+$ ]] || die "no backend pid for: $1"
    while kill -0 "$client" 2>/dev/null; do
        line=$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
        [[ -n $line ]] && hwm=$line
        sleep 0.2
    done
    wait "$client" || die "failed: $1 ($(cat "$out"))"
    echo "$(sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' "$out" | head -1) $hwm"
}

read -r seal_ms seal_kb <<<"$(timed_call "SELECT sealed FROM migrate_audit_verify()")"
sealed=$(q -d bench_chain -c "SELECT count(*) FROM pgmig.ddl_audit WHERE chain_seq IS NOT NULL")
[[ $sealed -ge $TRAIL ]] || die "only $sealed of $TRAIL rows sealed"
: >"$RES/verify"
: >"$RES/read"
q -d bench_chain -c "VACUUM pgmig.ddl_audit" >/dev/null
read -r walk_ms walk_kb <<<"$(timed_call "SELECT checked FROM migrate_audit_verify() WHERE first_broken_id IS NULL")"
verify_kb=0
for _ in $(seq 1 "$RUNS"); do
    read -r ms kb <<<"$(timed_call "SELECT checked FROM migrate_audit_verify() WHERE first_broken_id IS NULL")"
    echo "$ms" >>"$RES/verify"
    ((kb > verify_kb)) && verify_kb=$kb
    read -r ms _ <<<"$(timed_call "SELECT count(*), sum(length(statement)) FROM pgmig.ddl_audit")"
    echo "$ms" >>"$RES/read"
done
verify=$(median "$RES/verify")
read=$(median "$RES/read")

cat <<OUT
migrate_audit_verify() on $sealed sealed audit rows, PostgreSQL $(q -d postgres -c "SHOW server_version" | cut -d' ' -f1)
  sealing them (the first call)          $(printf '%10.0f' "$seal_ms") ms   peak $((seal_kb / 1024)) MB
  walking the whole chain (after VACUUM) $(printf '%10.0f' "$walk_ms") ms   peak $((walk_kb / 1024)) MB   $(python3 -c "print(f'{$walk_ms * 1000 / $sealed:.2f}')") us per row
  nothing changed since (median of $RUNS)     $(printf '%10.0f' "$verify") ms   peak $((verify_kb / 1024)) MB
  reading them (SELECT count, sum)       $(printf '%10.0f' "$read") ms   walk / read $(python3 -c "print(f'{$walk_ms / $read:.1f}')")x, unchanged / read $(python3 -c "print(f'{$verify / $read:.1f}')")x
OUT
