#!/usr/bin/env bash
# The audit benchmark of the DDL-audit issue: 2,000 DDL statements (create table, add column, create
# index, drop table cycles) run one by one in one session, in a database without any audit, with
# pgmig auditing (NOTIFY on and off, and recording with its hooks instead of its end triggers), with pgaudit (pgaudit.log = 'ddl') and with a plain PL/pgSQL
# event trigger inserting the same columns. Reports the backend's CPU time (from /proc, stable where
# wall time is not: every autocommitted DDL waits on fsync) and wall time, as medians of
# alternating rounds and ratios to no audit, and the median of each round's own wall-time ratio. Then fingerprint and drift on 10,000 tables (5
# columns, a primary key, an index and a foreign key each), with the backend's peak memory.
#   usage: bench/audit.sh            ROUNDS=5 CYCLES=500 TABLES=10000 BIG=1 by default
set -euo pipefail
ROUNDS=${ROUNDS:-5}
CYCLES=${CYCLES:-500}
TABLES=${TABLES:-10000}
BIG=${BIG:-1}

BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$BENCH")
PGMIG=${PGMIG:-$ROOT/build/pgmig}
say() { printf '%s\n' "$*" >&2; }
die() { say "audit.sh: $*"; exit 1; }
# shellcheck source=bench/lib.sh
. "$BENCH/lib.sh"
[[ -x $PGMIG ]] || die "$PGMIG not found: build it first (cmake -S . -B build && cmake --build build -j2)"

if [[ ! -f /usr/lib/postgresql/15/lib/pgaudit.so ]]; then
    say "installing postgresql-15-pgaudit (Debian package)..."
    SUDO=; [[ $(id -u) == 0 ]] || SUDO=sudo
    $SUDO apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql-15-pgaudit >/dev/null \
        || die "apt-get install postgresql-15-pgaudit failed"
fi

TMP=$(mktemp -d /tmp/pgmig-audit-bench.XXXXXX)
chmod 755 "$TMP"
CLUSTER=$TMP/cluster
cleanup() {
    local rc=$?
    stop_cluster "$CLUSTER"
    rm -rf "$TMP"
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start_cluster "$CLUSTER" "$TMP/log"
export PGDATABASE=postgres PGAPPNAME=audit-bench
# pgaudit must be preloaded; it logs nothing unless a database asks (pgaudit.log defaults to none).
q -c "ALTER SYSTEM SET shared_preload_libraries = 'pgaudit'" >/dev/null
stop_cluster "$CLUSTER"
start_cluster "$CLUSTER" "$TMP/log"

say "preparing the databases..."
for db in none pgmig pgmig_quiet pgmig_hooks pgaudit plpgsql; do q -c "CREATE DATABASE bench_$db" >/dev/null; done
q -d bench_pgmig -c "CREATE EXTENSION pgmig" >/dev/null
q -d bench_pgmig_quiet -c "CREATE EXTENSION pgmig" -c "ALTER DATABASE bench_pgmig_quiet SET pgmig.notify_drift = off" >/dev/null
# Recorded by pgmig's hooks instead of its end triggers (docs/reference.md), pgmig loaded by each session.
q -d bench_pgmig_hooks -c "CREATE EXTENSION pgmig" \
    -c "ALTER DATABASE bench_pgmig_hooks SET session_preload_libraries = 'pgmig'" \
    -c "SELECT FROM migrate_audit_recorder('hooks')" >/dev/null
q -d bench_pgaudit -c "CREATE EXTENSION pgaudit" -c "ALTER DATABASE bench_pgaudit SET pgaudit.log = 'ddl'" >/dev/null
q -d bench_plpgsql >/dev/null <<'SQL'
CREATE TABLE ddl_log (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, at timestamptz DEFAULT clock_timestamp(),
    txid xid8 DEFAULT pg_current_xact_id(), backend_pid int DEFAULT pg_backend_pid(),
    session_user_name name DEFAULT session_user, current_user_name name DEFAULT current_user,
    application_name text DEFAULT current_setting('application_name'), client_addr inet DEFAULT inet_client_addr(),
    command_tag text, object_type text, schema_name text, object_identity text, statement text DEFAULT current_query());
CREATE FUNCTION log_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO ddl_log (command_tag, object_type, schema_name, object_identity)
    SELECT command_tag, object_type, schema_name, object_identity FROM pg_event_trigger_ddl_commands();
END $$;
CREATE FUNCTION log_drop() RETURNS event_trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO ddl_log (command_tag, object_type, schema_name, object_identity)
    SELECT tg_tag, object_type, schema_name, object_identity FROM pg_event_trigger_dropped_objects()
     WHERE original OR normal;
END $$;
CREATE EVENT TRIGGER log_ddl ON ddl_command_end EXECUTE FUNCTION log_ddl();
CREATE EVENT TRIGGER log_drop ON sql_drop EXECUTE FUNCTION log_drop();
SQL

write_ddl_workload "$TMP/ddl.sql" "$CYCLES"

# run DB: the workload in one session; prints "CPU_SECONDS WALL_SECONDS" for its backend.
ticks=$(getconf CLK_TCK)
run() {
    local db=$1 pidfile=$TMP/pid_$1 out=$TMP/out_$1
    rm -f "$pidfile"  # a stale one would name the previous round's backend
    { echo "\\o $pidfile"; echo "SELECT pg_backend_pid();"; echo "\\o"; cat "$TMP/ddl.sql"; echo "SELECT pg_sleep(1);"; } >"$TMP/w_$db.sql"
    local start end
    start=$(date +%s.%N)
    psql -X -q -A -t -v ON_ERROR_STOP=1 -d "bench_$db" -f "$TMP/w_$db.sql" >"$out" 2>&1 &
    local client=$! pid=
    for _ in $(seq 1 100); do pid=$(head -1 "$pidfile" 2>/dev/null | tr -dc '0-9' || true); [[ -n $pid ]] && break; sleep 0.05; done
    [[ -n $pid ]] || die "no backend pid for $db"
    local cpu=0
    # Sample the backend's utime+stime while it runs; the last sample (during the final sleep) counts.
    while kill -0 "$client" 2>/dev/null; do
        cpu=$(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null || echo "$cpu")
        sleep 0.05
    done
    wait "$client" || die "the workload failed in bench_$db: $(tail -3 "$out")"
    end=$(date +%s.%N)
    awk -v c="$cpu" -v t="$ticks" -v s="$start" -v e="$end" 'BEGIN { printf "%.3f %.3f\n", c / t, e - s - 1 }'
}

CONFIGS=(none pgmig pgmig_quiet pgmig_hooks pgaudit plpgsql)
say "running $((CYCLES * 4)) DDL statements, $ROUNDS rounds of ${#CONFIGS[@]} configurations in alternating order..."
for ((r = 0; r < ROUNDS; r++)); do
    order=("${CONFIGS[@]:r % ${#CONFIGS[@]}}" "${CONFIGS[@]:0:r % ${#CONFIGS[@]}}")
    for c in "${order[@]}"; do
        read -r cpu wall < <(run "$c")
        echo "$cpu" >>"$TMP/cpu_$c"
        echo "$wall" >>"$TMP/wall_$c"
    done
    say "  round $((r + 1))/$ROUNDS done"
done

median() { sort -g "$1" | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
echo
echo "pgmig $("$PGMIG" --version | awk '{print $2}'), $(q -c 'SHOW server_version'), $(nproc) cores; $((CYCLES * 4)) DDL statements, $ROUNDS rounds"
printf '%-36s %12s %8s %12s %8s %14s\n' "configuration" "backend CPU s" "ratio" "wall s" "ratio" "paired wall"
base_cpu=$(median "$TMP/cpu_none"); base_wall=$(median "$TMP/wall_none")
# paired C: the median over the rounds of C's wall time over no audit's in the same round. A round runs every
# configuration within seconds of the others, so what drifts between rounds (the disk, the catalogs' dead rows,
# the machine's other work) cancels out of each pair.
paired() { paste "$TMP/wall_$1" "$TMP/wall_none" | awk '{ printf "%.6f\n", $1 / $2 }' >"$TMP/pair_$1"; median "$TMP/pair_$1"; }
label() {
    case $1 in
    none) echo "no audit" ;; pgmig) echo "pgmig (NOTIFY on)" ;; pgmig_quiet) echo "pgmig (pgmig.notify_drift = off)" ;;
    pgmig_hooks) echo "pgmig recording with its hooks" ;;
    pgaudit) echo "pgaudit (pgaudit.log = ddl)" ;; plpgsql) echo "PL/pgSQL event trigger" ;;
    esac
}
for c in "${CONFIGS[@]}"; do
    cpu=$(median "$TMP/cpu_$c"); wall=$(median "$TMP/wall_$c")
    printf '%-36s %12.3f %7.2fx %12.3f %7.2fx %13.2fx\n' "$(label "$c")" "$cpu" "$(echo "$cpu / $base_cpu" | bc -l)" \
        "$wall" "$(echo "$wall / $base_wall" | bc -l)" "$(paired "$c")"
done

[[ $BIG == 1 ]] || exit 0
echo
say "building $TABLES tables (5 columns, primary key, index, foreign key each)..."
q -c "CREATE DATABASE bench_big" >/dev/null
q -d bench_big -c "CREATE EXTENSION pgmig" -c "ALTER DATABASE bench_big SET pgmig.notify_drift = off" >/dev/null
python3 - "$TMP/big.sql" "$TABLES" <<'PY'
import sys
path, n = sys.argv[1], int(sys.argv[2])
with open(path, "w") as f:
    for i in range(n):
        parent = f"REFERENCES t_{i - 1:05d}" if i else ""
        f.write(f"CREATE TABLE t_{i:05d} (id bigint PRIMARY KEY, a text, b int, c timestamptz, parent bigint {parent});\n"
                f"CREATE INDEX t_{i:05d}_a ON t_{i:05d} (a);\n")
PY
q -d bench_big -f "$TMP/big.sql" >/dev/null
# Each measurement in a fresh session, so the backend's peak memory (VmHWM) is that of the call.
measure_big() { # LABEL SQL
    local pidfile=$TMP/pid_big
    { echo "\\o $pidfile"; echo "SELECT pg_backend_pid();"; echo "\\o"; echo "\\timing on"; echo "$2"; echo "SELECT pg_sleep(0.5);"; } \
        >"$TMP/big_q.sql"
    q -d bench_big -f "$TMP/big_q.sql" >"$TMP/big_out" 2>&1 &
    local client=$! pid= hwm=0
    for _ in $(seq 1 100); do pid=$(head -1 "$pidfile" 2>/dev/null | tr -dc '0-9' || true); [[ -n $pid ]] && break; sleep 0.05; done
    while kill -0 "$client" 2>/dev/null; do
        hwm=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo "$hwm")
        sleep 0.05
    done
    wait "$client"
    local ms
    ms=$(grep -m1 '^Time:' "$TMP/big_out" | awk '{print $2}')
    printf '%-48s %10.0f ms   backend peak memory %6.0f MB\n' "$1" "$ms" "$(echo "${hwm:-0} / 1024" | bc -l)"
    rm -f "$pidfile"
}
echo "on $TABLES tables ($(q -d bench_big -c 'SELECT count(*) FROM pgmig.snapshot_objects()') objects):"
measure_big "migrate_fingerprint()" "SELECT migrate_fingerprint();"
measure_big "migrate_snapshot() (size)" "SELECT length(migrate_snapshot()::text);"
q -d bench_big -c "SELECT migrate_register('1', 'baseline', 'SELECT 1')" -c "SELECT count(*) FROM migrate_apply()" >/dev/null
q -d bench_big -c "ALTER TABLE t_05000 ADD COLUMN changed int" >/dev/null
measure_big "migrate_drift(), one table changed" "SELECT count(*) FROM migrate_drift();"
