# pgmig apply and pgmig rollback with non-transactional migrations (resumed after a failed statement,
# invalid index rebuilt; rolled back statement by statement, alone or mixed with transactional ones, a
# failure halfway and its re-run) and whole-transaction retries after a lock timeout. Sourced by run.sh (see lib.sh for the helpers).

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
expect "rollback of a non-transactional migration" 0 "rolled back 2_indexes (" "ms, non-transactional)" "1 rolled back"
if [ "$(sql "$dbn" "SELECT string_agg(version || '=' || state, ' ' ORDER BY version) FROM migrate_status()")" = "1=applied 2=pending 3=pending" ]; then pass "ledger: 2 pending after its rollback"; else fail "ledger after nontx rollback" "$(sql "$dbn" "SELECT version, state FROM migrate_status()")"; fi
if [ "$(sql "$dbn" "SELECT to_regclass('b_idx') IS NULL AND to_regclass('a_idx') IS NOT NULL")" = t ]; then pass "its down script ran (b_idx dropped, a_idx kept)"; else fail "nontx down script ran" "$(sql "$dbn" "SELECT indexrelid::regclass FROM pg_index WHERE indrelid = 't'::regclass")"; fi
if [ "$(sql "$dbn" "SELECT string_agg(action || ':' || coalesce(reason, ''), ' ' ORDER BY id) FROM pgmig.history WHERE version = '2' AND id > (SELECT max(id) FROM pgmig.history WHERE version = '2' AND action = 'apply')")" = "nontx_start:rolling back rollback:" ] &&
    [ "$(sql "$dbn" "SELECT reason FROM pgmig.snapshots ORDER BY id DESC LIMIT 1")" = "non-transactional rollback" ]; then
    pass "history: nontx_start (rolling back), rollback; snapshot saved"
else
    fail "history/snapshot after nontx rollback" "$(sql "$dbn" "SELECT action, reason FROM pgmig.history WHERE version = '2' ORDER BY id")"
fi
if [ "$(sql "$dbn" "SELECT count(*) FROM migrate_drift()")" = 0 ]; then pass "no drift after the nontx rollback"; else fail "drift after nontx rollback" "$(sql "$dbn" "SELECT * FROM migrate_drift()")"; fi
{ echo "-- pgmig:no-transaction"; echo "-- pgmig:up"; echo "CREATE INDEX CONCURRENTLY IF NOT EXISTS c_idx ON t (b);"; } >"$nd/4_nodown.sql"
run apply --dir "$nd" -d "dbname=$dbn"
expect "apply again, with a nontx migration without down" 0 "applied 2_indexes (" "applied 4_nodown ("
run rollback --steps 3 -d "dbname=$dbn"
expect "mixed rollback with a nontx migration without down script is refused (exit 12)" 12 "no down script for 4" "nothing was rolled back"
if [ "$(sql "$dbn" "SELECT string_agg(version || '=' || state, ' ' ORDER BY version) FROM migrate_status()")" = "1=applied 2=applied 3=applied 4=applied" ]; then pass "nothing rolled back on exit 12"; else fail "nothing rolled back on exit 12" "$(sql "$dbn" "SELECT version, state FROM migrate_status()")"; fi

# --- a mixed rollback (tx + nontx) that fails halfway, then is run again -------------------------
newdb dbr
rd="$work/nontx_down"
mig "$rd" 1_base.sql "CREATE TABLE r (a int); CREATE TABLE s (b int);" "DROP TABLE s; DROP TABLE r;"
{ echo "-- pgmig:no-transaction"; echo "-- pgmig:lock-timeout 200ms"; echo "-- pgmig:up"
  echo "CREATE INDEX CONCURRENTLY IF NOT EXISTS r_a_idx ON r (a);"
  echo "CREATE INDEX CONCURRENTLY IF NOT EXISTS s_b_idx ON s (b);"
  echo "-- pgmig:down"
  echo "DROP INDEX CONCURRENTLY IF EXISTS r_a_idx;"
  echo ""
  echo "DROP INDEX CONCURRENTLY IF EXISTS s_b_idx;"; } >"$rd/2_idx.sql"
mig "$rd" 3_more.sql "CREATE TABLE r3 (id int);" "DROP TABLE r3;"
run apply --dir "$rd" -d "dbname=$dbr"
expect "apply tx + nontx + tx" 0 "applied 2_idx (" "applied 3_more ("
# A SHARE lock on s blocks DROP INDEX CONCURRENTLY on it (statement 2 of 2_idx's down script, lock timeout
# 200ms), not the readers (3_more's rollback and its snapshot read the catalog of s).
timeout 20 psql -X -q -d "$dbr" -c "BEGIN; LOCK TABLE s IN SHARE MODE; SELECT pg_sleep(3); COMMIT;" >/dev/null 2>&1 &
holder=$!
for _ in $(seq 50); do
    [ "$(sql "$dbr" "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation WHERE c.relname = 's' AND l.mode = 'ShareLock' AND l.granted")" = 1 ] && break
    sleep 0.1
done
run rollback --yes --steps 3 -d "dbname=$dbr"
expect "mixed rollback fails at statement 2 of the nontx down script (exit 5)" 5 "rolled back 3_more (" \
    "statement 2 of the down script of non-transactional migration 2_idx failed" "55P03" "line 3" \
    "already rolled back and committed: 3" "statement 1 of its down script ran and stays" "2_idx stays applied" \
    "run pgmig rollback --steps 2 to roll back the rest"
if [ "$(sql "$dbr" "SELECT string_agg(version || '=' || state, ' ' ORDER BY version) FROM migrate_status()")" = "1=applied 2=applied 3=pending" ]; then pass "ledger after the failure: 3 rolled back, 2 and 1 applied"; else fail "ledger after the failed mixed rollback" "$(sql "$dbr" "SELECT version, state FROM migrate_status()")"; fi
if [ "$(sql "$dbr" "SELECT to_regclass('r3') IS NULL AND to_regclass('r_a_idx') IS NULL AND to_regclass('s_b_idx') IS NOT NULL")" = t ]; then pass "r3 and r_a_idx gone, s_b_idx still there"; else fail "schema after the failed mixed rollback" "$(sql "$dbr" "SELECT to_regclass('r3'), to_regclass('r_a_idx'), to_regclass('s_b_idx')")"; fi
if [ "$(sql "$dbr" "SELECT sqlstate || ' ' || reason FROM pgmig.history WHERE version = '2' AND action = 'failed'")" = "55P03 statement 2 of the down script failed; the migration stays applied" ]; then pass "history: the failed down statement"; else fail "history: failed down statement" "$(sql "$dbr" "SELECT action, sqlstate, reason FROM pgmig.history WHERE version = '2'")"; fi
wait "$holder" 2>/dev/null
run rollback --yes --steps 2 -d "dbname=$dbr"
expect "re-run: the whole down script again, then the transactional one" 0 "rolled back 2_idx (" "non-transactional)" \
    "rolled back 1_base (" "2 rolled back"
if grep -n "rolled back" <<<"$out" | head -1 | grep -q 2_idx; then pass "newest first: 2_idx before 1_base"; else fail "rollback order" "$out"; fi
if [ "$(sql "$dbr" "SELECT string_agg(version || '=' || state, ' ' ORDER BY version) FROM migrate_status()")" = "1=pending 2=pending 3=pending" ] &&
    [ "$(sql "$dbr" "SELECT to_regclass('r') IS NULL AND to_regclass('s') IS NULL")" = t ]; then
    pass "ledger and schema after the re-run: everything rolled back"
else
    fail "after the re-run" "$(sql "$dbr" "SELECT version, state FROM migrate_status()")"
fi
if [ "$(sql "$dbr" "SELECT count(*) FROM pgmig.history WHERE version = '2' AND action = 'rollback'")" = 1 ] &&
    [ "$(sql "$dbr" "SELECT count(*) FROM pgmig.snapshots WHERE reason = 'non-transactional rollback'")" = 1 ]; then
    pass "history: one rollback of 2, one non-transactional snapshot"
else
    fail "history after the re-run" "$(sql "$dbr" "SELECT action, reason FROM pgmig.history WHERE version = '2' ORDER BY id")"
fi
run apply --dir "$rd" -d "dbname=$dbr"
expect "apply again after the mixed rollback" 0 "applied 1_base (" "applied 2_idx (" "applied 3_more ("
run rollback --yes --to 0 -d "dbname=$dbr"
expect "rollback --to 0 across tx and nontx" 0 "rolled back 3_more (" "rolled back 2_idx (" "rolled back 1_base (" "3 rolled back"

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
