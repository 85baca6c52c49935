# Waiting for the ledger lock while pgmig apply builds an index concurrently. pgmig rollback and pgmig
# plan wait without holding a snapshot; a psql SELECT migrate_apply(), which cannot, stops waiting with
# PM058 as soon as the index build waits for its snapshot instead of deadlocking with it. The index build
# always completes; so does any other holder that waits for a lock of the waiter's. Then:
# migrate_apply()'s wait obeys lock_timeout (55P03), statement_timeout and a cancel, shows in
# pg_stat_activity, and ends when the lock is released. Sourced by run.sh (see lib.sh).

newdb dbw
lw="$work/ledger_waiters"
mkdir -p "$lw"
sql "$dbw" "CREATE TABLE t (a int, b int); INSERT INTO t SELECT g, g FROM generate_series(1, 1000) g" >/dev/null
mig "$lw" 1_side.sql "CREATE TABLE side (id int);" "DROP TABLE side;"
{ echo "-- pgmig:no-transaction"
  echo "-- pgmig:up"
  echo "CREATE INDEX CONCURRENTLY t_b_idx ON t (b);"
  echo "-- pgmig:down"
  echo "DROP INDEX CONCURRENTLY IF EXISTS t_b_idx;"; } >"$lw/2_b_idx.sql"
run apply --dir "$lw" -d "dbname=$dbw"
expect "ledger waiters: setup applies 1 and 2" 0 "applied 2_b_idx"
{ echo "-- pgmig:no-transaction"
  echo "-- pgmig:up"
  echo "CREATE INDEX CONCURRENTLY t_a_idx ON t (a);"
  echo "-- pgmig:down"
  echo "DROP INDEX CONCURRENTLY IF EXISTS t_a_idx;"; } >"$lw/3_a_idx.sql"
mig "$lw" 4_tail.sql "CREATE TABLE tail (id int);" "DROP TABLE tail;"

lw_wait() { poll_sql "$dbw" "$1"; }  # polls (up to 60 s) until the query returns t
# The session's pid once it waits for the ledger lock: its wait event is the advisory lock's.
lw_waiting() {
    lw_wait "SELECT EXISTS (SELECT FROM pg_stat_activity WHERE application_name = '$1' AND state = 'active'
                              AND wait_event_type = 'Lock' AND wait_event = 'advisory')"
}

# The index build is held at its first wait (for writers of t) by an open transaction, so that both
# waiters below wait for the ledger lock before the build goes on to wait for older snapshots.
psql -X -q -d "$dbw" -c "SET application_name = 'lw_holder'" \
    -c "BEGIN" -c "LOCK TABLE t IN ROW EXCLUSIVE MODE" -c "SELECT pg_sleep(120)" >/dev/null 2>&1 &
holder=$!
lw_wait "SELECT EXISTS (SELECT FROM pg_stat_activity WHERE application_name = 'lw_holder' AND query LIKE '%pg_sleep%')" ||
    fail "ledger waiters: setup" "the holder never started"
"$bin" apply --dir "$lw" -d "dbname=$dbw application_name=lw_apply" >"$work/lw_apply.out" 2>&1 &
applier=$!
lw_wait "SELECT EXISTS (SELECT FROM pg_stat_activity WHERE application_name = 'lw_apply' AND query LIKE 'CREATE INDEX CONCURRENTLY%' AND wait_event_type = 'Lock')" ||
    fail "ledger waiters: setup" "the applier never reached its index build"
# (a) pgmig rollback: the newest applied migration is non-transactional when it starts. The waiters check
# for deadlocks early (10 ms), so that a cycle, if they formed one, would be found by the index build's own
# check later, which cancels the build (as when a waiter has waited longer than 1 s).
PGOPTIONS="-c deadlock_timeout=10ms" "$bin" rollback -d "dbname=$dbw application_name=lw_rollback" \
    >"$work/lw_rollback.out" 2>&1 &
rollbacker=$!
for i in $(seq 1 600); do
    grep -q "waiting for the ledger lock" "$work/lw_rollback.out" 2>/dev/null && break
    [ "$(sql "$dbw" "SELECT EXISTS (SELECT FROM pg_stat_activity WHERE application_name = 'lw_rollback' AND wait_event_type = 'Lock')")" = t ] && break
    sleep 0.1
done
# (b) pgmig plan, a dry run of the same folder, which also takes the lock before its transaction.
PGOPTIONS="-c deadlock_timeout=10ms" "$bin" plan --dir "$lw" -d "dbname=$dbw application_name=lw_plan" \
    >"$work/lw_plan.out" 2>&1 &
planner=$!
for i in $(seq 1 600); do
    grep -q "waiting for the ledger lock" "$work/lw_plan.out" 2>/dev/null && break
    [ "$(sql "$dbw" "SELECT EXISTS (SELECT FROM pg_stat_activity WHERE application_name = 'lw_plan' AND wait_event_type = 'Lock')")" = t ] && break
    sleep 0.1
done
# (c) SELECT migrate_apply() in psql, waiting inside its statement.
PGOPTIONS="-c deadlock_timeout=10ms" psql -X -q -v VERBOSITY=verbose -d "dbname=$dbw application_name=lw_sql" \
    -c "SELECT * FROM migrate_apply()" >"$work/lw_sql.out" 2>&1 &
sqlwaiter=$!
lw_waiting lw_sql || fail "ledger waiters: setup" "migrate_apply() never waited for the ledger lock"
# Release the index build: it goes on to wait for every older snapshot.
sql "$dbw" "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'lw_holder'" >/dev/null
wait "$holder" 2>/dev/null
wait "$applier"; rc_apply=$?
wait "$rollbacker"; rc_rollback=$?
wait "$planner"; rc_plan=$?
wait "$sqlwaiter"; rc_sql=$?
out_apply=$(cat "$work/lw_apply.out")
out_rollback=$(cat "$work/lw_rollback.out")
out_sql=$(cat "$work/lw_sql.out")
if [ "$rc_apply" = 0 ] && grep -q "applied 3_a_idx (" <<<"$out_apply" && grep -q "applied 4_tail (" <<<"$out_apply"; then
    pass "pgmig apply builds its index while pgmig rollback and migrate_apply() wait for the ledger lock"
else
    fail "pgmig apply with waiters" "exit $rc_apply: $out_apply"
fi
if [ "$(sql "$dbw" "SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass('t_a_idx')")" = t ] &&
    [ "$(sql "$dbw" "SELECT count(*) FROM pg_index WHERE NOT indisvalid")" = 0 ]; then
    pass "the index is valid; no invalid index anywhere"
else
    fail "the index is valid" "$(sql "$dbw" "SELECT indexrelid::regclass, indisvalid FROM pg_index WHERE indrelid = 't'::regclass")"
fi
if [ "$rc_rollback" = 0 ] && grep -q "waiting for the ledger lock, held by another applier (backend " <<<"$out_rollback" &&
    grep -q "rolled back 4_tail (" <<<"$out_rollback"; then
    pass "pgmig rollback waits without a snapshot, then rolls back what is newest by then"
else
    fail "pgmig rollback with a concurrent index build" "exit $rc_rollback: $out_rollback"
fi
if [ "$rc_plan" = 0 ] && grep -q "waiting for the ledger lock, held by another applier (backend " "$work/lw_plan.out" &&
    grep -q "nothing was persisted (dry run, rolled back)" "$work/lw_plan.out"; then
    pass "pgmig plan waits without a snapshot, then rehearses"
else
    fail "pgmig plan with a concurrent index build" "exit $rc_plan: $(cat "$work/lw_plan.out")"
fi
if [ "$rc_sql" != 0 ] && grep -q "PM058" <<<"$out_sql" && ! grep -q "40P01" <<<"$out_sql" &&
    grep -q "stopped waiting for the ledger lock" <<<"$out_sql" &&
    grep -q "CREATE INDEX CONCURRENTLY" <<<"$out_sql"; then
    pass "migrate_apply() stops waiting with PM058 when the index build waits for its snapshot"
else
    fail "migrate_apply() waiting during an index build" "exit $rc_sql: $out_sql"
fi
if [ "$(sql "$dbw" "SELECT string_agg(version || '=' || state, ' ' ORDER BY version) FROM migrate_status()")" = "1=applied 2=applied 3=applied 4=pending" ] &&
    [ "$(sql "$dbw" "SELECT count(*) FROM migrate_verify()")" = 0 ]; then
    pass "ledger: 1 to 3 applied, 4 rolled back, verify clean"
else
    fail "ledger after the waiters" "$(sql "$dbw" "SELECT version, action, reason FROM pgmig.history ORDER BY id")"
fi

# lw_cycle TABLE: a gate session (lw_gate) holds advisory lock 4242; lw_cyc_holder takes the ledger lock,
# waits at the gate, then will LOCK TABLE; lw_cyc locks cyc and waits for the ledger lock in migrate_apply().
# Sets gate, cyc_holder and cyc_waiter (their pids).
lw_cycle() {
    psql -X -q -d "dbname=$dbw application_name=lw_gate" -c "SELECT pg_advisory_lock(4242)" -c "SELECT pg_sleep(120)" \
        >/dev/null 2>&1 &
    gate=$!
    lw_wait "SELECT EXISTS (SELECT FROM pg_stat_activity WHERE application_name = 'lw_gate' AND query LIKE '%pg_sleep%')" ||
        fail "ledger waiters: setup" "the gate never closed"
    psql -X -q -v ON_ERROR_STOP=1 -d "dbname=$dbw application_name=lw_cyc_holder" -c "BEGIN" \
        -c "SELECT pg_advisory_xact_lock(482771560807)" -c "SELECT pg_advisory_lock(4242)" \
        -c "LOCK TABLE $1 IN ACCESS EXCLUSIVE MODE" -c "COMMIT" >"$work/lw_cyc_holder.out" 2>&1 &
    cyc_holder=$!
    lw_wait "SELECT EXISTS (SELECT FROM pg_stat_activity WHERE application_name = 'lw_cyc_holder' AND query LIKE '%4242%' AND wait_event_type = 'Lock')" ||
        fail "ledger waiters: setup" "the ledger lock holder never reached the gate"
    psql -X -q -v VERBOSITY=verbose -d "dbname=$dbw application_name=lw_cyc" -c "BEGIN" \
        -c "LOCK TABLE cyc IN ACCESS EXCLUSIVE MODE" -c "SELECT * FROM migrate_apply()" >"$work/lw_cyc.out" 2>&1 &
    cyc_waiter=$!
    lw_waiting lw_cyc || fail "ledger waiters: setup" "migrate_apply() never waited for the ledger lock"
}

# --- a lock cycle without an index build: the holder waits for a lock the waiter took before ------------
# lw_cyc_holder takes the ledger lock, then (once the gate opens) LOCK TABLE cyc, which lw_cyc holds and
# keeps while it waits for the ledger lock in migrate_apply().
sql "$dbw" "CREATE TABLE cyc (id int)" >/dev/null
lw_cycle cyc
sql "$dbw" "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'lw_gate'" >/dev/null
wait "$gate" 2>/dev/null
wait "$cyc_holder"; rc_cyc_holder=$?
wait "$cyc_waiter"
if [ "$rc_cyc_holder" = 0 ] && grep -q "PM058: migrate_apply() stopped waiting for the ledger lock" "$work/lw_cyc.out" &&
    grep -q "waits for a lock this transaction holds" "$work/lw_cyc.out" && ! grep -q "40P01" "$work/lw_cyc.out"; then
    pass "migrate_apply() stops waiting with PM058 when the holder waits for one of its locks; the holder goes on"
else
    fail "lock cycle with migrate_apply()" "holder: exit $rc_cyc_holder $(cat "$work/lw_cyc_holder.out") waiter: $(cat "$work/lw_cyc.out")"
fi

# The same through a third session: the holder waits for lw_mid, which waits for lw_cyc.
sql "$dbw" "CREATE TABLE cyc2 (id int)" >/dev/null
lw_cycle cyc2
psql -X -q -v ON_ERROR_STOP=1 -d "dbname=$dbw application_name=lw_mid" -c "BEGIN" \
    -c "LOCK TABLE cyc2 IN ACCESS EXCLUSIVE MODE" -c "LOCK TABLE cyc IN ACCESS EXCLUSIVE MODE" -c "COMMIT" \
    >"$work/lw_mid.out" 2>&1 &
mid=$!
lw_wait "SELECT EXISTS (SELECT FROM pg_stat_activity WHERE application_name = 'lw_mid' AND query LIKE 'LOCK TABLE cyc IN%' AND wait_event_type = 'Lock')" ||
    fail "ledger waiters: setup" "the middle session never waited"
mid_pid=$(sql "$dbw" "SELECT pid FROM pg_stat_activity WHERE application_name = 'lw_mid'")
sql "$dbw" "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'lw_gate'" >/dev/null
wait "$gate" 2>/dev/null
wait "$cyc_holder"; rc_cyc_holder=$?
wait "$mid"; rc_mid=$?
wait "$cyc_waiter"
if [ "$rc_cyc_holder" = 0 ] && [ "$rc_mid" = 0 ] &&
    grep -q "PM058: migrate_apply() stopped waiting for the ledger lock" "$work/lw_cyc.out" &&
    grep -q "waits, through PID $mid_pid, for this transaction" "$work/lw_cyc.out"; then
    pass "migrate_apply() stops waiting with PM058 when the holder waits for it through another session"
else
    fail "lock chain with migrate_apply()" "holder: exit $rc_cyc_holder, middle: exit $rc_mid $(cat "$work/lw_mid.out"), waiter: $(cat "$work/lw_cyc.out")"
fi

# --- migrate_apply()'s wait: lock_timeout, statement_timeout, cancel, release -------------------------
psql -X -q -d "dbname=$dbw application_name=lw_locker" -c "SELECT pg_advisory_lock(482771560807)" \
    -c "SELECT pg_sleep(120)" >/dev/null 2>&1 &
locker=$!
lw_wait "SELECT EXISTS (SELECT FROM pg_stat_activity WHERE application_name = 'lw_locker' AND query LIKE '%pg_sleep%')" ||
    fail "ledger waiters: setup" "the lock holder never started"
locker_pid=$(sql "$dbw" "SELECT pid FROM pg_stat_activity WHERE application_name = 'lw_locker'")
out=$(psql -X -q -v VERBOSITY=verbose -d "$dbw" -c "SET lock_timeout = '200ms'" -c "SELECT * FROM migrate_apply()" 2>&1)
if grep -q "ERROR:  55P03: canceling statement due to lock timeout" <<<"$out" &&
    grep -q "migrate_apply() waited lock_timeout (200 ms) for the ledger lock, held by PID $locker_pid" <<<"$out"; then
    pass "migrate_apply() obeys lock_timeout while it waits for the ledger lock (55P03, naming the holder)"
else
    fail "migrate_apply() and lock_timeout" "$out"
fi
out=$(psql -X -q -v VERBOSITY=verbose -d "$dbw" -c "SET statement_timeout = '200ms'" -c "SELECT * FROM migrate_register('5', 'five', 'SELECT 5')" 2>&1)
if grep -q "ERROR:  57014: canceling statement due to statement timeout" <<<"$out"; then
    pass "migrate_register() obeys statement_timeout while it waits for the ledger lock"
else
    fail "migrate_register() and statement_timeout" "$out"
fi
psql -X -q -d "dbname=$dbw application_name=lw_cancel" -c "SELECT * FROM migrate_apply()" >"$work/lw_cancel.out" 2>&1 &
canceled=$!
lw_waiting lw_cancel || fail "ledger waiters: setup" "migrate_apply() never waited for the ledger lock"
sql "$dbw" "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name = 'lw_cancel'" >/dev/null
wait "$canceled"; rc_cancel=$?
if [ "$rc_cancel" != 0 ] && grep -q "canceling statement due to user request" "$work/lw_cancel.out"; then
    pass "a cancel stops migrate_apply()'s wait for the ledger lock"
else
    fail "cancel of migrate_apply()'s wait" "exit $rc_cancel: $(cat "$work/lw_cancel.out")"
fi
psql -X -q -A -t -d "dbname=$dbw application_name=lw_later" -c "SELECT count(*) FROM migrate_apply()" \
    >"$work/lw_later.out" 2>&1 &
later=$!
lw_waiting lw_later || fail "ledger waiters: setup" "migrate_apply() never waited for the ledger lock"
sql "$dbw" "SELECT pg_terminate_backend($locker_pid)" >/dev/null
wait "$locker" 2>/dev/null
wait "$later"; rc_later=$?
if [ "$rc_later" = 0 ] && [ "$(cat "$work/lw_later.out")" = 1 ] &&
    [ "$(sql "$dbw" "SELECT state FROM migrate_status() WHERE version = '4'")" = applied ]; then
    pass "a waiting migrate_apply() applies once the holder lets go of the ledger lock"
else
    fail "migrate_apply() after the wait" "exit $rc_later: $(cat "$work/lw_later.out")"
fi
