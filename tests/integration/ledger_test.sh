# The ledger under concurrency and failure, with real sessions: two appliers at once, a backend
# killed in the middle of a migration, a lock held by another session (retries, then success or a
# clean failure). Sourced by run.sh (see lib.sh for the helpers).

# psql_bg DB SQL OUTFILE: runs SQL in a background psql session, bounded to 60 s; sets $bg_pid.
psql_bg() {
    timeout 60 psql -X -A -t -q -v ON_ERROR_STOP=1 -d "$1" -c "$2" >"$3" 2>&1 &
    bg_pid=$!
}

# wait_for DB SQL: polls until SQL returns t (at most 10 s); returns non-zero on timeout.
wait_for() { poll_sql "$1" "$2" 10; }

# hold_busy DB SECONDS TEST: another session locks table busy for SECONDS; returns once it holds
# the lock (sets $holder).
hold_busy() {
    psql_bg "$1" "BEGIN; LOCK TABLE busy IN ACCESS SHARE MODE; SELECT pg_sleep($2); COMMIT;" "$work/holder_$RANDOM"
    holder=$bg_pid
    wait_for "$1" "SELECT EXISTS (SELECT 1 FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
                   WHERE c.relname = 'busy' AND l.granted AND l.pid <> pg_backend_pid())" ||
        fail "$3" "the holder never took its lock"
}

# end_holders DB: ends the sessions that sleep while holding locks in DB (killing psql alone would
# leave its backend sleeping, locks held), then reaps the background psql.
end_holders() {
    sql "$1" "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database()
              AND wait_event = 'PgSleep' AND pid <> pg_backend_pid()" >/dev/null
    wait "$holder" 2>/dev/null
}

# --- two appliers at once apply each migration exactly once -------------------------------------
newdb dbc
sql "$dbc" "SELECT migrate_register('1', 'slow', 'CREATE TABLE c1 (id int); SELECT pg_sleep(1);');
            SELECT migrate_register('2', 'c2', 'CREATE TABLE c2 (id int);');" >/dev/null
psql_bg "$dbc" "SELECT version FROM migrate_apply()" "$work/apply_a"
pid_a=$bg_pid
# B starts while A holds the ledger lock inside its first migration.
wait_for "$dbc" "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE query LIKE '%migrate_apply%'
                 AND wait_event = 'PgSleep')" || fail "concurrent apply" "the first applier never started"
psql_bg "$dbc" "SELECT version FROM migrate_apply()" "$work/apply_b"
pid_b=$bg_pid
wait "$pid_a"; rc_a=$?
wait "$pid_b"; rc_b=$?
applies=$(sql "$dbc" "SELECT string_agg(version || ':' || n, ',' ORDER BY version) FROM
                      (SELECT version, count(*) AS n FROM pgmig.history WHERE action = 'apply' GROUP BY version) h")
if [ "$rc_a" -eq 0 ] && [ "$rc_b" -eq 0 ] && [ "$(tr '\n' ' ' <"$work/apply_a")" = "1 2 " ] &&
    [ ! -s "$work/apply_b" ] && [ "$applies" = "1:1,2:1" ]; then
    pass "two appliers at once: each migration applied exactly once, the second waits and finds nothing"
else
    fail "two appliers at once" "rc=$rc_a/$rc_b a='$(cat "$work/apply_a")' b='$(cat "$work/apply_b")' applies=$applies"
fi

# --- a backend killed in the middle of a migration leaves nothing; a re-run succeeds ------------
newdb dbk
sql "$dbk" "SELECT migrate_register('1', 'k1', 'CREATE TABLE k1 (id int);');
            SELECT migrate_register('2', 'k2', 'CREATE TABLE k2 (id int); SELECT pg_sleep(30);');" >/dev/null
psql_bg "$dbk" "SELECT version FROM migrate_apply()" "$work/apply_k"
pid_k=$bg_pid
if wait_for "$dbk" "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE query LIKE '%migrate_apply%'
                    AND wait_event = 'PgSleep')"; then
    sql "$dbk" "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE '%migrate_apply%'
                AND wait_event = 'PgSleep'" >/dev/null
fi
wait "$pid_k"; rc_k=$?
state=$(sql "$dbk" "SELECT string_agg(version || ':' || state, ',' ORDER BY version) FROM migrate_status()")
if [ "$rc_k" -ne 0 ] && [ "$state" = "1:pending,2:pending" ] &&
    [ "$(sql "$dbk" "SELECT to_regclass('k1') IS NULL AND to_regclass('k2') IS NULL")" = t ]; then
    pass "killed backend: nothing applied, no table left"
else
    fail "killed backend" "rc=$rc_k state=$state output=$(head -c 200 "$work/apply_k")"
fi
sql "$dbk" "SELECT migrate_register('2', 'k2', 'CREATE TABLE k2 (id int);')" >/dev/null
if [ "$(sql "$dbk" "SELECT count(*) FROM migrate_apply()")" = 2 ] &&
    [ "$(sql "$dbk" "SELECT count(*) FROM migrate_verify()")" = 0 ]; then
    pass "killed backend: a re-run applies everything, no stale lock, ledger healthy"
else
    fail "killed backend: re-run" "$(sql "$dbk" "SELECT * FROM migrate_status()")"
fi

# --- a lock held by another session: retry, then a clean failure after the retries -------------
newdb dbl
sql "$dbl" "CREATE TABLE busy (id int);
            SELECT migrate_register('1', 'alter_busy', 'ALTER TABLE busy ADD COLUMN note text;', NULL,
                                    '{\"lock_timeout\": \"100ms\", \"retries\": 2}');" >/dev/null
hold_busy "$dbl" 8 "lock retry"
PGOPTIONS="-c pgmig.retry_backoff=100ms" psql -X -q -d "$dbl" -c "SELECT * FROM migrate_apply()" \
    >"$work/retry_out" 2>"$work/retry_err"
rc_l=$?
notices=$(grep -c "lock timeout after 100 ms on attempt" "$work/retry_err")
if [ "$rc_l" -ne 0 ] && [ "$notices" = 2 ] && grep -q "55P03\|canceling statement due to lock timeout" "$work/retry_err" &&
    grep -q 'migration 1 "alter_busy" failed' "$work/retry_err" &&
    [ "$(sql "$dbl" "SELECT state FROM migrate_status()")" = pending ]; then
    pass "lock held elsewhere: 2 retries reported, then a clean failure naming the migration"
else
    fail "lock held elsewhere" "rc=$rc_l notices=$notices err=$(head -c 400 "$work/retry_err")"
fi
end_holders "$dbl"

# --- ... and success when the lock goes away while the migration waits between attempts -------
# The holder lets go only once the migration's first attempt has waited for the lock longer than its
# lock_timeout (a fixed hold raced with a slow start of migrate_apply on a busy machine).
psql_bg "$dbl" "BEGIN; LOCK TABLE busy IN ACCESS SHARE MODE;
    DO \$\$ BEGIN
        FOR i IN 1..3000 LOOP
            EXIT WHEN EXISTS (SELECT FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
                              WHERE c.relname = 'busy' AND NOT l.granted);
            PERFORM pg_sleep(0.01);
        END LOOP;
    END \$\$;
    SELECT pg_sleep(0.3); COMMIT;" "$work/holder_$RANDOM"
holder=$bg_pid
wait_for "$dbl" "SELECT EXISTS (SELECT 1 FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
               WHERE c.relname = 'busy' AND l.granted AND l.pid <> pg_backend_pid())" ||
    fail "lock retry, then success" "the holder never took its lock"
sql "$dbl" "SELECT migrate_register('1', 'alter_busy', 'ALTER TABLE busy ADD COLUMN note text;', NULL,
                                    '{\"lock_timeout\": \"100ms\", \"retries\": 5}')" >/dev/null
PGOPTIONS="-c pgmig.retry_backoff=200ms" psql -X -q -d "$dbl" -c "SELECT version, action FROM migrate_apply()" \
    >"$work/retry_out" 2>"$work/retry_err"
rc_l=$?
wait "$holder" 2>/dev/null
retries=$(sql "$dbl" "SELECT count(*) FROM pgmig.history WHERE action = 'retry' AND sqlstate = '55P03'")
if [ "$rc_l" -eq 0 ] && [ "$retries" -ge 1 ] && grep -q applied "$work/retry_out" &&
    [ "$(sql "$dbl" "SELECT count(*) FROM information_schema.columns WHERE table_name = 'busy' AND column_name = 'note'")" = 1 ]; then
    pass "lock released while waiting: applied after $retries retries, each in pgmig.history"
else
    fail "lock released while waiting" "rc=$rc_l retries=$retries out=$(head -c 300 "$work/retry_out") err=$(head -c 300 "$work/retry_err")"
fi

# --- a retry never waits while holding locks from an earlier migration of the same call --------
newdb dbh
sql "$dbh" "CREATE TABLE busy (id int);
            SELECT migrate_register('1', 'first', 'CREATE TABLE first_one (id int);');
            SELECT migrate_register('2', 'alter_busy', 'ALTER TABLE busy ADD COLUMN note text;', NULL,
                                    '{\"lock_timeout\": \"100ms\", \"retries\": 5}');" >/dev/null
hold_busy "$dbh" 5 "no retry while holding locks"
psql -X -q -d "$dbh" -c "SELECT * FROM migrate_apply()" >"$work/retry_out" 2>"$work/retry_err"
rc_l=$?
if [ "$rc_l" -ne 0 ] && ! grep -q "retrying in" "$work/retry_err" && grep -q "already holds locks" "$work/retry_err"; then
    pass "no retry in place while earlier migrations' locks are held: fails at once with a hint"
else
    fail "no retry while holding locks" "rc=$rc_l err=$(head -c 400 "$work/retry_err")"
fi
end_holders "$dbh"
