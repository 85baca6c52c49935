# pgmig apply with non-transactional migrations (resumed after a failed statement, invalid index rebuilt)
# and whole-transaction retries after a lock timeout. Sourced by run.sh (see lib.sh for the helpers).

# --- an interrupted non-transactional migration is resumed ----------------------------------------
newdb dbn
nd="$work/nontx"
mig "$nd" 1_table.sql "CREATE TABLE t (a int, b int); INSERT INTO t VALUES (1, 1), (2, 1), (3, 3);" "DROP TABLE t;"
{ echo "-- two indexes without blocking writes"
  echo "-- pgmig:no-transaction"
  echo "-- pgmig:up"
  echo "CREATE INDEX CONCURRENTLY IF NOT EXISTS a_idx ON t (a);"
  echo ""
  echo "CREATE UNIQUE INDEX CONCURRENTLY b_idx ON t (b);"
  echo "-- pgmig:down"
  echo "DROP INDEX CONCURRENTLY IF EXISTS b_idx;"; } >"$nd/2_indexes.sql"
mig "$nd" 3_after.sql "CREATE TABLE after_t (id int);" "DROP TABLE after_t;"
run apply --dir "$nd" -d "dbname=$dbn"
expect "non-transactional: failing statement 2 exits 5" 5 "statement 2 of non-transactional migration 2_indexes failed" \
    "2_indexes.sql (version 2) line 6" "resumes at statement 2" "23505"
if grep -q "applied 1_table" <<<"$out" && ! grep -q "applied 3_after" <<<"$out"; then pass "first segment applied, later ones not"; else fail "segments before/after the failure" "$out"; fi
if [ "$(sql "$dbn" "SELECT state FROM migrate_status() WHERE version = '2'")" = in_progress ]; then pass "ledger: in_progress after statement 1"; else fail "ledger: in_progress" "$(sql "$dbn" "SELECT version, state FROM migrate_status()")"; fi
if [ "$(sql "$dbn" "SELECT nontx_progress FROM pgmig.migrations WHERE version = '2'")" = 1 ]; then pass "ledger: progress 1"; else fail "ledger: progress 1" "$(sql "$dbn" "SELECT nontx_progress FROM pgmig.migrations WHERE version = '2'")"; fi
if [ "$(sql "$dbn" "SELECT i.indisvalid FROM pg_index i WHERE i.indexrelid = 'b_idx'::regclass")" = f ]; then pass "the failed CIC left an invalid b_idx"; else fail "invalid b_idx" "$(sql "$dbn" "SELECT indexrelid::regclass, indisvalid FROM pg_index WHERE indrelid = 't'::regclass")"; fi
a_oid=$(sql "$dbn" "SELECT 'a_idx'::regclass::oid")
sql "$dbn" "DELETE FROM t WHERE a = 2" >/dev/null
run apply --dir "$nd" -d "dbname=$dbn"
expect "non-transactional: rerun resumes" 0 "resuming 2_indexes after statement 1 of 2" "dropping invalid index public.b_idx" \
    "applied 2_indexes (" "applied 3_after (" "2 applied, database up to date at version 3"
if [ "$(sql "$dbn" "SELECT reason FROM pgmig.history WHERE version = '2' AND action = 'nontx_start' ORDER BY id DESC LIMIT 1")" = "resuming after statement 1" ]; then
    pass "history: resuming after statement 1"
else
    fail "history: resuming after statement 1" "$(sql "$dbn" "SELECT action, reason FROM pgmig.history WHERE version = '2'")"
fi
if [ "$(sql "$dbn" "SELECT 'a_idx'::regclass::oid")" = "$a_oid" ]; then pass "statement 1 was not rerun (a_idx is the same index)"; else fail "statement 1 not rerun" "a_idx changed"; fi
if [ "$(sql "$dbn" "SELECT indisvalid AND indisunique FROM pg_index WHERE indexrelid = 'b_idx'::regclass")" = t ]; then pass "b_idx rebuilt valid"; else fail "b_idx rebuilt valid" "not valid"; fi
if [ "$(sql "$dbn" "SELECT string_agg(version || '=' || state, ' ' ORDER BY version) FROM migrate_status()")" = "1=applied 2=applied 3=applied" ]; then pass "all applied"; else fail "all applied" "$(sql "$dbn" "SELECT version, state FROM migrate_status()")"; fi
n=$(sql "$dbn" "SELECT count(*) FROM pgmig.history WHERE version = '2' AND action = 'failed' AND sqlstate = '23505'")
if [ "$n" = 1 ]; then pass "history: the failed statement recorded"; else fail "history: failed statement" "count=$n"; fi
run validate --dir "$nd" -d "dbname=$dbn"
expect "validate after resume" 0 "0 problems"
run rollback -d "dbname=$dbn"
expect "rollback of a transactional one works" 0 "rolled back 3_after"
run rollback -d "dbname=$dbn"
expect "rollback of a non-transactional migration is refused (exit 12)" 12 "non-transactional" "by hand"

# --- a lock timeout retries the whole transaction -------------------------------------------------
newdb dbl
ld="$work/locks"
mig "$ld" 1_t.sql "CREATE TABLE lt (id int);"
run apply --dir "$ld" -d "dbname=$dbl"
{ echo "-- pgmig:lock-timeout 200ms"; echo "-- pgmig:retries 0"; echo "-- pgmig:up"; echo "ALTER TABLE lt ADD COLUMN note text;"; } >"$ld/2_alter.sql"
hold_lock() {  # SECONDS: holds ACCESS EXCLUSIVE on lt in a background psql, bounded by timeout
    timeout 20 psql -X -q -d "$dbl" -c "BEGIN; LOCK TABLE lt; SELECT pg_sleep($1); COMMIT;" >/dev/null 2>&1 &
    holder=$!
    for _ in $(seq 50); do
        [ "$(sql "$dbl" "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation WHERE c.relname = 'lt' AND l.mode = 'AccessExclusiveLock' AND l.granted")" = 1 ] && return 0
        sleep 0.1
    done
}
hold_lock 2
run apply --dir "$ld" --retries 0 -d "dbname=$dbl"
expect "lock timeout without retries exits 5" 5 "lock timeout" "55P03" "gave up after 1 attempts"
if [ "$(sql "$dbl" "SELECT count(*) FROM information_schema.columns WHERE table_name = 'lt' AND column_name = 'note'")" = 0 ]; then pass "nothing applied after the lock timeout"; else fail "nothing applied after lock timeout" "column exists"; fi
wait "$holder" 2>/dev/null
hold_lock 2
run apply --dir "$ld" --retries 5 --retry-wait 500ms -d "dbname=$dbl"
expect "lock timeout retried until it succeeds" 0 "lock timeout (attempt 1 of 6)" "retrying the whole transaction in 500 ms" \
    "retrying the whole transaction in 1000 ms" "applied 2_alter ("
wait "$holder" 2>/dev/null
if [ "$(sql "$dbl" "SELECT count(*) FROM information_schema.columns WHERE table_name = 'lt' AND column_name = 'note'")" = 1 ]; then pass "applied after retries"; else fail "applied after retries" "column missing"; fi
run apply --dir "$ld" --retry-wait soon -d "dbname=$dbl"
expect "bad --retry-wait is a usage error" 2 "bad --retry-wait"

# --- a non-transactional migration's statement timeout bounds each of its statements ------------
newdb dbst
sd="$work/nontx_timeout"
mkdir -p "$sd"
printf '%s\n' "-- pgmig:no-transaction" "-- pgmig:statement-timeout 200ms" "-- pgmig:up" \
    "CREATE TABLE IF NOT EXISTS st (id int);" "SELECT pg_sleep(3);" >"$sd/1_slow.sql"
run apply --dir "$sd" -d "dbname=$dbst"
expect "non-transactional statement timeout" 5 "statement 2 of non-transactional migration" "57014"
if [ "$(sql "$dbst" "SELECT to_regclass('st') IS NOT NULL")" = t ] &&
    [ "$(sql "$dbst" "SELECT state FROM migrate_status()")" = in_progress ]; then
    pass "after the statement timeout, statement 1 stays done and the migration is in progress"
else
    fail "after the statement timeout" "$(sql "$dbst" "SELECT state FROM migrate_status()")"
fi
