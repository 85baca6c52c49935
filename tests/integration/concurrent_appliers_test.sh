# Two pgmig apply started together on a migration set with CREATE INDEX CONCURRENTLY: one applies, the
# other waits without holding a snapshot the index build would wait for, then finds nothing to do. Both
# exit 0, the index is valid, each migration is applied once. Sourced by run.sh (see lib.sh).

newdb dbc
cd_dir="$work/concurrent"
mkdir -p "$cd_dir"
sql "$dbc" "CREATE TABLE t (a int); INSERT INTO t SELECT g FROM generate_series(1, 1000) g" >/dev/null
mig "$cd_dir" 1_side.sql "CREATE TABLE side (id int);" "DROP TABLE side;"
{ echo "-- pgmig:no-transaction"
  echo "-- pgmig:up"
  echo "CREATE INDEX CONCURRENTLY t_a_idx ON t (a);"
  echo "-- pgmig:down"
  echo "DROP INDEX CONCURRENTLY IF EXISTS t_a_idx;"; } >"$cd_dir/2_index.sql"

# The index build is held at its first wait (for writers of t) by an open transaction, so that the second
# applier is already waiting for the ledger lock when the build goes on to wait for older snapshots.
psql -X -q -d "$dbc" -c "SET application_name = 'ca_holder'" \
    -c "BEGIN" -c "LOCK TABLE t IN ROW EXCLUSIVE MODE" -c "SELECT pg_sleep(120)" >/dev/null 2>&1 &
holder=$!
wait_for() { poll_sql "$dbc" "$1"; }  # polls (up to 60 s) until the query returns t
wait_for "SELECT EXISTS (SELECT FROM pg_stat_activity WHERE application_name = 'ca_holder' AND query LIKE '%pg_sleep%')" ||
    fail "concurrent appliers: setup" "the holder never started"
"$bin" apply --dir "$cd_dir" -d "dbname=$dbc application_name=ca_first" >"$work/ca_first.out" 2>&1 &
first=$!
wait_for "SELECT EXISTS (SELECT FROM pg_stat_activity WHERE application_name = 'ca_first' AND query LIKE 'CREATE INDEX CONCURRENTLY%' AND wait_event_type = 'Lock')" ||
    fail "concurrent appliers: setup" "the first applier never reached its index build"
# The second applier checks for deadlocks early (10 ms): by the time the cycle could form, only the index
# build's own check remains, as when two pods start together and the second waits longer than 1 s.
PGOPTIONS="-c deadlock_timeout=10ms" "$bin" apply --dir "$cd_dir" -d "dbname=$dbc application_name=ca_second" \
    >"$work/ca_second.out" 2>&1 &
second=$!
for i in $(seq 1 600); do
    grep -q "waiting for the ledger lock" "$work/ca_second.out" 2>/dev/null && break
    [ "$(sql "$dbc" "SELECT EXISTS (SELECT FROM pg_stat_activity WHERE application_name = 'ca_second' AND wait_event_type = 'Lock')")" = t ] && break
    sleep 0.1
done
sleep 0.5  # past the second applier's deadlock check (10 ms): ordering, not an assertion
sql "$dbc" "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'ca_holder'" >/dev/null
wait "$holder" 2>/dev/null
wait "$first"; rc_first=$?
wait "$second"; rc_second=$?
out_first=$(cat "$work/ca_first.out")
out_second=$(cat "$work/ca_second.out")
if [ "$rc_first" = 0 ] && [ "$rc_second" = 0 ]; then
    pass "two pgmig apply started together both exit 0"
else
    fail "two pgmig apply started together both exit 0" "first: $rc_first ($out_first) second: $rc_second ($out_second)"
fi
if grep -q "applied 2_index" <<<"$out_first" && grep -q "nothing to apply, database up to date at version 2" <<<"$out_second"; then
    pass "one applies, the other finds nothing to do"
else
    fail "one applies, the other finds nothing to do" "first: $out_first second: $out_second"
fi
if [ "$(sql "$dbc" "SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass('t_a_idx')")" = t ] &&
    [ "$(sql "$dbc" "SELECT count(*) FROM pg_index WHERE indrelid = 't'::regclass")" = 1 ]; then
    pass "the index is valid, and the only one"
else
    fail "the index is valid" "$(sql "$dbc" "SELECT indexrelid::regclass, indisvalid FROM pg_index WHERE indrelid = 't'::regclass")"
fi
if [ "$(sql "$dbc" "SELECT string_agg(version || '=' || state, ' ' ORDER BY version) FROM migrate_status()")" = "1=applied 2=applied" ] &&
    [ "$(sql "$dbc" "SELECT count(*) FROM pgmig.history WHERE action = 'apply'")" = 2 ] &&
    [ "$(sql "$dbc" "SELECT count(*) FROM migrate_verify()")" = 0 ]; then
    pass "ledger: each migration applied once, verify clean"
else
    fail "ledger consistent" "$(sql "$dbc" "SELECT version, action, reason FROM pgmig.history ORDER BY id")"
fi
