# pgmig apply killed while its backend runs CREATE INDEX CONCURRENTLY: the backend finishes the index
# after its client is gone, without recording progress. The next pgmig apply waits for that backend's
# ledger lock, recognises the valid index of the statement's definition, records the statement as done
# and goes on. Sourced by run.sh (see lib.sh).

newdb dbo
od="$work/orphan"
mkdir -p "$od"
sql "$dbo" "CREATE TABLE t (a int, b int); INSERT INTO t SELECT g, g FROM generate_series(1, 1000) g" >/dev/null
mig "$od" 1_side.sql "CREATE TABLE side (id int);" "DROP TABLE side;"
{ echo "-- pgmig:no-transaction"
  echo "-- pgmig:up"
  echo "CREATE INDEX CONCURRENTLY t_a_idx ON t (a);"
  echo "CREATE INDEX CONCURRENTLY t_b_idx ON t (b);"
  echo "-- pgmig:down"
  echo "DROP INDEX CONCURRENTLY IF EXISTS t_b_idx;"
  echo "DROP INDEX CONCURRENTLY IF EXISTS t_a_idx;"; } >"$od/2_indexes.sql"
orphan_wait() { poll_sql "$dbo" "$1"; }  # polls (up to 60 s) until the query returns t
# An open transaction that writes t holds the index build at its first wait, while the client is killed.
psql -X -q -d "$dbo" -c "SET application_name = 'orphan_holder'" \
    -c "BEGIN" -c "LOCK TABLE t IN ROW EXCLUSIVE MODE" -c "SELECT pg_sleep(120)" >/dev/null 2>&1 &
holder=$!
orphan_wait "SELECT EXISTS (SELECT FROM pg_stat_activity WHERE application_name = 'orphan_holder' AND query LIKE '%pg_sleep%')" ||
    fail "orphaned index build: setup" "the holder never started"
"$bin" apply --dir "$od" -d "dbname=$dbo application_name=orphan_client" >"$work/orphan_first.out" 2>&1 &
client=$!
orphan_wait "SELECT EXISTS (SELECT FROM pg_stat_activity WHERE application_name = 'orphan_client' AND query LIKE 'CREATE INDEX CONCURRENTLY t_a_idx%' AND wait_event_type = 'Lock')" ||
    fail "orphaned index build: setup" "the client never reached its index build"
kill -9 "$client"
wait "$client" 2>/dev/null
sql "$dbo" "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'orphan_holder'" >/dev/null
wait "$holder" 2>/dev/null
run apply --dir "$od" -d "dbname=$dbo"
expect "resume after the client died during CREATE INDEX CONCURRENTLY" 0 \
    "statement 1 of 2_indexes completed after the run that sent it stopped (index t_a_idx is valid" \
    "applied 2_indexes (" "1 applied, database up to date at version 2"
if [ "$(sql "$dbo" "SELECT string_agg(indexrelid::regclass || '=' || indisvalid, ' ' ORDER BY indexrelid::regclass::text) FROM pg_index WHERE indrelid = 't'::regclass")" = "t_a_idx=true t_b_idx=true" ]; then
    pass "both indexes valid, built once"
else
    fail "both indexes valid" "$(sql "$dbo" "SELECT indexrelid::regclass, indisvalid FROM pg_index WHERE indrelid = 't'::regclass")"
fi
if [ "$(sql "$dbo" "SELECT string_agg(version || '=' || state, ' ' ORDER BY version) FROM migrate_status()")" = "1=applied 2=applied" ] &&
    [ "$(sql "$dbo" "SELECT count(*) FROM pgmig.history WHERE version = '2' AND reason LIKE 'statement 1 done: it completed after its client stopped%'")" = 1 ]; then
    pass "ledger: applied, the adopted statement recorded in the history"
else
    fail "ledger after the orphaned build" "$(sql "$dbo" "SELECT version, action, reason FROM pgmig.history ORDER BY id")"
fi
# An index of that name but another definition is not taken for the statement's.
mig "$od" 3_other.sql "CREATE TABLE other_t (a int, b int);" "DROP TABLE other_t;"
{ echo "-- pgmig:no-transaction"
  echo "-- pgmig:up"
  echo "CREATE INDEX CONCURRENTLY other_idx ON other_t (a);"; } >"$od/4_other_index.sql"
run apply --dir "$od" -d "dbname=$dbo" --to 3
sql "$dbo" "CREATE INDEX other_idx ON other_t (b)" >/dev/null
sql "$dbo" "SELECT pg_advisory_lock(482771560807); SELECT migrate_nontx_begin('4')" >/dev/null
run apply --dir "$od" -d "dbname=$dbo"
expect "an index of the same name and another definition is not adopted" 5 "relation \"other_idx\" already exists"
