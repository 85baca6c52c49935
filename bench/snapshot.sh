#!/usr/bin/env bash
# bench/snapshot.sh: what the ledger's snapshot of the schema costs, against the size of the schema.
#
# For a database of SMALL tables and one of TABLES tables (each `t_N (id bigint PRIMARY KEY, v text,
# w int DEFAULT 1)`: a table and its primary key index, two snapshot objects), measures:
#   - the whole schema recorded as the expected one (pgmig.expect_whole_schema(): what the first
#     snapshot, a baseline, and any snapshot after out-of-band DDL store), in a transaction rolled back;
#   - the whole schema as one jsonb document and its SHA-256 (what every snapshot stored before they
#     were kept object by object);
#   - the same objects read without storing anything (what reading the catalogs costs by itself);
#   - pgmig.snapshot_described() of one table and its dependents (what migrate_test describes per step);
#   - the snapshot step of a one-table change (pgmig.expect_changes() of one table), rolled back: first
#     in its session (which plans its statements) and second (plans cached);
#   - migrate_apply() of one new one-table migration (its snapshot derived from the one before), and
#     the same with SET pgmig.snapshot_scope = full (the whole schema described).
# Each as the median of ROUNDS runs in a fresh session, with the backend's peak anonymous memory
# (RssAnon of /proc/PID/status, sampled every 10 ms: catalog caches, sorts, the document; not the
# shared buffers). Prints the ratios TABLES / SMALL. The issue's targets: a one-table migration's
# snapshot step under 20 ms and 20 MB at 10,000 tables; a full snapshot under 100 MB at 30,000 objects.
#
# Self-contained: its own throwaway cluster (build/pgmig local start) under /tmp, removed at exit.
# Environment: TABLES (default 10000), SMALL (10), ROUNDS (3), PGMIG (client binary), KEEP=1.
set -euo pipefail

TABLES=${TABLES:-10000}
SMALL=${SMALL:-10}
ROUNDS=${ROUNDS:-3}
KEEP=${KEEP:-0}

BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$BENCH")
PGMIG=${PGMIG:-$ROOT/build/pgmig}

say() { printf '%s\n' "$*" >&2; }
die() { say "snapshot.sh: $*"; exit 1; }
# shellcheck source=bench/lib.sh
. "$BENCH/lib.sh"

for v in TABLES SMALL ROUNDS; do
    [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive integer, not '${!v}'"
done
[[ -x $PGMIG ]] || die "$PGMIG not found: build it first (cmake -S . -B build && cmake --build build -j2)"

bench_cluster snapshot-bench

make_db() { # NAME N: the extension and N tables
    fresh_db "$1" pgmig
    q -d "$1" -c "SET pgmig.out_of_band = log" -c "DO \$\$ BEGIN
        FOR i IN 1..$2 LOOP
            EXECUTE format('CREATE TABLE t_%s (id bigint PRIMARY KEY, v text, w int DEFAULT 1)', i);
            IF i % 1000 = 0 THEN COMMIT; END IF;
        END LOOP; END \$\$" >/dev/null
    q -d "$1" -c "VACUUM ANALYZE" >/dev/null
    # The first apply records the whole schema (the tables were created outside migrations).
    q -d "$1" -c "SELECT migrate_register('0', 'start', 'SELECT 1', 'SELECT 1')" -c "SELECT count(*) FROM migrate_apply()" >/dev/null
}

# measure DB NAME SQL [rollback]: runs SQL in a new session (after a warm-up statement that loads pgmig),
# records its wall time (ms, from psql's \timing; of its last statement) and the backend's peak RssAnon
# (kB) over the run; with
# "rollback", inside a transaction rolled back afterwards.
measure() {
    local db=$1 name=$2 sql=$3 out=$TMP/measure.out pidfile=$TMP/measure.pid peak=0 a pid ms begin="" end=""
    [[ ${4:-} == rollback ]] && { begin="BEGIN;"; end="ROLLBACK;"; }
    rm -f "$pidfile"
    psql -X -q -A -t -d "$db" >"$out" 2>&1 <<SQL &
SELECT pg_backend_pid() \g $pidfile
LOAD 'pgmig';
SELECT pg_sleep(0.3);
$begin
\timing on
$sql
\timing off
$end
SELECT pg_sleep(0.3);
SQL
    local client=$!
    for _ in $(seq 1 100); do [[ -s $pidfile ]] && break; sleep 0.01; done
    pid=$(cat "$pidfile")
    while kill -0 "$client" 2>/dev/null; do
        a=$(awk '/^RssAnon/ { print $2 }' "/proc/$pid/status" 2>/dev/null || echo 0)
        [[ ${a:-0} -gt $peak ]] && peak=$a
        sleep 0.01
    done
    wait "$client" || { cat "$out" >&2; die "$name failed in $db"; }
    ms=$(grep -oE '^Time: [0-9.]+ ms' "$out" | tail -1 | awk '{ print $2 }')
    echo "$ms" >>"$RES/${name}_ms_$db"
    echo "$peak" >>"$RES/${name}_kb_$db"
}

FULL="WITH s AS (SELECT coalesce(pg_catalog.jsonb_object_agg(object_key, description), '{}'::pg_catalog.jsonb) AS snapshot
        FROM pgmig.snapshot_objects())
      SELECT pg_catalog.encode(pg_catalog.sha256(pg_catalog.convert_to(snapshot::pg_catalog.text, 'UTF8')), 'hex') FROM s;"
READ="SELECT count(*), sum(length(description::text)) FROM pgmig.snapshot_objects();"
# As migrate_test describes: the scope of one table (it and its dependents), then its description (timed).
AMONG="SELECT pg_catalog.array_agg(classid) AS c, pg_catalog.array_agg(objid) AS o
        FROM pgmig.snapshot_scope(ARRAY['pg_class'::regclass::oid], ARRAY['t_1'::regclass::oid]) \\gset
SELECT count(*) FROM pgmig.snapshot_described(:'c'::pg_catalog.oid[], :'o'::pg_catalog.oid[]);"
WHOLE="SELECT pgmig.expect_whole_schema();"
STEP="SELECT pgmig.expect_changes(ARRAY['pg_class'::regclass::oid], ARRAY['t_1'::regclass::oid]);"
STEP_AGAIN="SELECT pgmig.expect_changes(ARRAY['pg_class'::regclass::oid], ARRAY['t_2'::regclass::oid]); $STEP"

say "creating databases of $SMALL and $TABLES tables..."
make_db small "$SMALL"
make_db big "$TABLES"
objects_small=$(q -d small -c "SELECT count(*) FROM pgmig.snapshot_objects()")
objects_big=$(q -d big -c "SELECT count(*) FROM pgmig.snapshot_objects()")

say "$ROUNDS rounds..."
for ((r = 0; r < ROUNDS; r++)); do
    for db in small big; do
        measure "$db" whole "$WHOLE" rollback
        measure "$db" full "$FULL"
        measure "$db" read "$READ"
        measure "$db" among "$AMONG"
        measure "$db" step "$STEP" rollback
        measure "$db" step_again "$STEP_AGAIN" rollback
        q -d "$db" -c "SELECT migrate_register('$((2 * r + 1))', 'one_$r', 'CREATE TABLE one_$r (id int)', 'DROP TABLE one_$r')" >/dev/null
        measure "$db" apply "SELECT count(*) FROM migrate_apply();"
        q -d "$db" -c "SELECT migrate_register('$((2 * r + 2))', 'two_$r', 'CREATE TABLE two_$r (id int)', 'DROP TABLE two_$r')" >/dev/null
        measure "$db" apply_full "SET pgmig.snapshot_scope = full; SELECT count(*) FROM migrate_apply();"
    done
done

row() { # LABEL NAME
    local s_ms b_ms s_kb b_kb
    s_ms=$(median "$RES/${2}_ms_small"); b_ms=$(median "$RES/${2}_ms_big")
    s_kb=$(median "$RES/${2}_kb_small"); b_kb=$(median "$RES/${2}_kb_big")
    printf '%-44s %9.1f %9.1f %7.1fx %9.1f %9.1f\n' "$1" "$s_ms" "$b_ms" \
        "$(awk -v a="$s_ms" -v b="$b_ms" 'BEGIN { print b / a }')" "$(awk -v k="$s_kb" 'BEGIN { print k / 1024 }')" \
        "$(awk -v k="$b_kb" 'BEGIN { print k / 1024 }')"
}
echo
echo "== pgmig snapshot benchmark (bench/snapshot.sh) =="
echo "PostgreSQL:      $(q -c "SHOW server_version") (server), throwaway cluster of pgmig local start"
echo "machine:         $(nproc) cores, $(uname -sr)"
echo "schemas:         $SMALL tables ($objects_small objects) and $TABLES tables ($objects_big objects)"
echo "rounds:          $ROUNDS; medians; memory = the backend's peak RssAnon, sampled every 10 ms"
echo
printf '%-44s %9s %9s %8s %9s %9s\n' "measurement" "small ms" "big ms" "ratio" "small MB" "big MB"
printf '%-44s %9s %9s %8s %9s %9s\n' "--------------------------------------------" "---------" "---------" "--------" "---------" "---------"
row "whole schema recorded (expect_whole_schema)" whole
row "whole schema as one document (before)" full
row "the objects read, nothing stored" read
row "snapshot_described(one table's scope)" among
row "snapshot step of a one-table change" step
row "the same, second in the session" step_again
row "migrate_apply() of a one-table migration" apply
row "the same, pgmig.snapshot_scope = full" apply_full
echo
echo "(migrate_apply derives its snapshot from the one before and the objects the migration touched;"
echo " with snapshot_scope = full it describes the whole schema, as the first row)"
derived=$(q -d big -c "SELECT count(*) FILTER (WHERE derived) || ' of ' || count(*) FROM pgmig.snapshots WHERE reason = 'migrate_apply'")
echo "snapshots derived in the big database: $derived (the first and the snapshot_scope = full ones are whole)"
