# The failure recorder never loses a record because every worker slot is briefly taken: a cluster with
# max_worker_processes = 2 (the logical replication launcher holds one), a first failure whose recorder is
# held on a lock of pgmig.history (so it keeps the last slot), then a second failure: its backend waits for
# the slot instead of warning that the record was lost, and both failed rows reach pgmig.history.
# Sourced by run.sh (see lib.sh).

fc="$work/cluster2"
run local start --dir "$fc"
expect "failure slots: a cluster of our own" 0
fenv=$("$bin" local env --dir "$fc")
fhost=$(eval "$fenv"; echo "$PGHOST")
fport=$(eval "$fenv"; echo "$PGPORT")
fsql() { psql -X -A -t -q -v ON_ERROR_STOP=1 -d "host=$fhost port=$fport dbname=$1 user=postgres" -c "$2" 2>&1; }
fsql postgres "ALTER SYSTEM SET max_worker_processes = 2" >/dev/null
run local stop --dir "$fc"
run local start --dir "$fc"
expect "failure slots: restarted with max_worker_processes = 2" 0
# fnewdb NAME: a database of that name with the extension, on this cluster.
fnewdb() {
    fsql postgres "DROP DATABASE IF EXISTS $1" >/dev/null
    fsql postgres "CREATE DATABASE $1" >/dev/null
    fsql "$1" "CREATE EXTENSION pgmig" >/dev/null
}
fdb="pgmig_it_slots_$$"
fnewdb "$fdb"
fsql "$fdb" "SELECT migrate_register('1', 'divides by zero', 'SELECT 1/0;') IS NOT NULL" >/dev/null

# A session holds pgmig.history in SHARE mode for 3 seconds: readers pass, the recorder's INSERT waits.
psql -X -q -d "host=$fhost port=$fport dbname=$fdb user=postgres" \
    -c "BEGIN; LOCK TABLE pgmig.history IN SHARE MODE; SELECT pg_sleep(3); COMMIT;" >/dev/null 2>&1 &
holder=$!
poll_ok=0
for _ in $(seq 1 100); do
    [ "$(fsql "$fdb" "SELECT count(*) FROM pg_catalog.pg_locks WHERE relation = 'pgmig.history'::regclass AND mode = 'ShareLock' AND granted")" = 1 ] && { poll_ok=1; break; }
    sleep 0.05
done
[ $poll_ok = 1 ] || fail "failure slots: setup" "the lock on pgmig.history was not taken"

first=$(fsql "$fdb" "SELECT * FROM migrate_apply()")
second=$(fsql "$fdb" "SELECT * FROM migrate_apply()")
wait "$holder"
if grep -q "division by zero" <<<"$first" && grep -q "division by zero" <<<"$second"; then
    pass "failure slots: both attempts fail with the migration's error"
else
    fail "failure slots: both attempts fail with the migration's error" "first: $first second: $second"
fi
if grep -q "could not start a worker" <<<"$second"; then
    fail "failure slots: the second failure waits for a worker slot" "$second"
else
    pass "failure slots: the second failure waits for a worker slot"
fi
rows=0
for _ in $(seq 1 100); do
    rows=$(fsql "$fdb" "SELECT count(*) FROM pgmig.history WHERE action = 'failed'")
    [ "$rows" = 2 ] && break
    sleep 0.1
done
if [ "$rows" = 2 ]; then pass "failure slots: both failed attempts reach pgmig.history"; else fail "failure slots: both failed attempts reach pgmig.history" "$rows rows"; fi

# The audit sealer, when no worker slot is free, says so in the server log (the rows stay unsealed until
# the next sealer or migrate_audit_verify()): a sealer of one database keeps the last slot while it waits
# for the seal lock (held by a session in migrate_audit_verify()), and DDL in another database finds none.
fdb2="pgmig_it_slots2_$$"
fnewdb "$fdb2"
psql -X -q -d "host=$fhost port=$fport dbname=$fdb user=postgres" \
    -c "BEGIN; SELECT sealed >= 0 FROM migrate_audit_verify(); SELECT pg_sleep(4); COMMIT;" >/dev/null 2>&1 &
holder=$!
for _ in $(seq 1 100); do
    [ "$(fsql "$fdb" "SELECT count(*) FROM pg_catalog.pg_locks WHERE locktype = 'object' AND objsubid = 1
                        AND objid = 'pgmig.ddl_audit'::regclass AND granted")" = 1 ] && break
    sleep 0.05
done
fsql "$fdb" "CREATE TABLE sealer_keeps_the_slot (id int)" >/dev/null
for _ in $(seq 1 100); do
    [ "$(fsql "$fdb" "SELECT count(*) FROM pg_catalog.pg_stat_activity WHERE backend_type = 'pgmig audit sealer'")" = 1 ] && break
    sleep 0.05
done
fsql "$fdb2" "CREATE TABLE sealer_finds_no_slot (id int)" >/dev/null
wait "$holder"
if grep -q "pgmig audit sealer: not started, no background worker slot is free" "$fc/server.log"; then
    pass "failure slots: a sealer that cannot start says so in the server log"
else
    fail "failure slots: a sealer that cannot start says so in the server log" "$(grep -i sealer "$fc/server.log" | tail -n 5)"
fi
unsealed=$(fsql "$fdb2" "SELECT unsealed FROM migrate_audit_verify()")
check "failure slots: migrate_audit_verify() seals what no sealer could" "$unsealed" 0
run local stop --dir "$fc"
