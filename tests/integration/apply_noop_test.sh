# A no-op pgmig apply answers in one query (project.cpp up_to_date()), and falls back to the full way
# whenever anything might differ: every refusal of the full way is still given, and every change it would
# make is still made. Sourced by run.sh (see lib.sh for the helpers).

newdb dbn
np="$work/noop"
mig "$np/migrations" 1_accounts.sql "CREATE TABLE accounts (id int);" "DROP TABLE accounts;"
mig "$np/migrations" 2_orders.sql "CREATE TABLE orders (id int);"
echo "CREATE OR REPLACE VIEW v_orders AS SELECT id FROM orders;" >"$np/migrations/R__view.sql"
run apply --dir "$np/migrations" -d "dbname=$dbn"
expect "noop: the first apply applies everything" 0 "3 applied, database up to date at version 2"

# The quick answer does not wait for the ledger lock: another session holding it (an apply of other
# migrations, a pgmig lock) does not make a database that is up to date wait. The full way would wait.
psql -X -q -d "$dbn" -c "SELECT pg_advisory_lock(482771560807); SELECT pg_sleep(60)" >/dev/null 2>&1 &
holder=$!
poll_sql "$dbn" "SELECT EXISTS (SELECT FROM pg_locks WHERE locktype = 'advisory' AND granted
                   AND (classid::bigint << 32 | objid::bigint) = 482771560807)" 10 ||
    fail "noop: setup" "the session that should hold the ledger lock does not"
"$bin" apply --dir "$np/migrations" -d "dbname=$dbn" >"$work/out" 2>"$work/err" &
applier=$!
for _ in $(seq 1 100); do kill -0 "$applier" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$applier" 2>/dev/null; then
    kill "$applier"
    fail "noop: up to date, answered without waiting for the ledger lock" "still running after 10 s: $(cat "$work/out")"
else
    wait "$applier"; rc=$?; out=$(cat "$work/out"); err=$(cat "$work/err")
    expect "noop: up to date, answered without waiting for the ledger lock" 0 \
        "nothing to apply, database up to date at version 2"
    check "noop: and without the full way's wait" "$(grep -c 'waiting for the ledger lock' "$work/out")" 0
fi
kill "$holder" 2>/dev/null; wait "$holder" 2>/dev/null
sql "$dbn" "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE '%pg_advisory_lock(482771560807)%' AND pid <> pg_backend_pid()" >/dev/null

# Nothing written by the quick answer: no history row, no snapshot.
before=$(sql "$dbn" "SELECT (SELECT count(*) FROM pgmig.history) || '/' || (SELECT count(*) FROM pgmig.snapshots)")
run apply --dir "$np/migrations" -d "dbname=$dbn"
check "noop: a no-op writes no history row and no snapshot" \
    "$(sql "$dbn" "SELECT (SELECT count(*) FROM pgmig.history) || '/' || (SELECT count(*) FROM pgmig.snapshots)")" "$before"

# A cosmetic edit of an applied file is registered by the full way (a cosmetic_edit history row).
mig "$np/migrations" 1_accounts.sql "create table accounts (id int); -- same statement" "DROP TABLE accounts;"
run apply --dir "$np/migrations" -d "dbname=$dbn"
expect "noop: a cosmetic edit takes the full way" 0 "nothing to apply, database up to date at version 2"
check "noop: which records the cosmetic edit" \
    "$(sql "$dbn" "SELECT count(*) FROM pgmig.history WHERE action = 'cosmetic_edit' AND version = '1'")" 1
# So do a new down script (registered again), an edited repeatable migration (run again) and a new file.
mig "$np/migrations" 2_orders.sql "CREATE TABLE orders (id int);" "DROP TABLE orders;"
run apply --dir "$np/migrations" -d "dbname=$dbn"
check "noop: a new down script is registered" \
    "$(sql "$dbn" "SELECT down_sql IS NOT NULL FROM pgmig.migrations WHERE version = '2'")" t
echo "CREATE OR REPLACE VIEW v_orders AS SELECT id, id AS id2 FROM orders;" >"$np/migrations/R__view.sql"
run apply --dir "$np/migrations" -d "dbname=$dbn"
expect "noop: an edited repeatable migration runs again" 0 "applied R__view"
mig "$np/migrations" 3_items.sql "CREATE TABLE items (id int);"
run apply --dir "$np/migrations" -d "dbname=$dbn"
expect "noop: a new file is applied" 0 "applied 3_items" "1 applied, database up to date at version 3"

# A migration registered in the database and pending, without a file: refused (exit 37) as before.
sql "$dbn" "SELECT migrate_register('4', 'ledger_only', 'CREATE TABLE lo (id int)')" >/dev/null
run apply --dir "$np/migrations" -d "dbname=$dbn"
expect "noop: a pending ledger-only migration is still refused" 37 "no file holds"
sql "$dbn" "DELETE FROM pgmig.migrations WHERE version = '4'" >/dev/null

# Another admin role has not vouched for the files: the full way registers them in its name.
noop_admin="it_noop_admin_$$"
psql -X -q -d postgres -c "CREATE ROLE $noop_admin LOGIN IN ROLE pgmig_admin" >/dev/null
run apply --dir "$np/migrations" -d "dbname=$dbn user=$noop_admin"
expect "noop: another admin's no-op" 0 "nothing to apply, database up to date at version 3"
check "noop: which vouches for every file in its name (the full way)" \
    "$(sql "$dbn" "SELECT count(*) FROM pgmig.migrations WHERE '$noop_admin' = ANY (vouched_by)")" 4

# The session's default isolation level changes nothing: the full way begins READ COMMITTED itself, and the
# quick answer is one statement, one snapshot.
PGOPTIONS="-c default_transaction_isolation=serializable" "$bin" apply --dir "$np/migrations" -d "dbname=$dbn" \
    >"$work/out" 2>"$work/err"
rc=$?; out=$(cat "$work/out"); err=$(cat "$work/err")
expect "noop: with default_transaction_isolation = serializable" 0 "nothing to apply, database up to date at version 3"

# The refusals of migrate_apply() before its plan still come with nothing to apply: the environment, and a
# ledger row edited outside pgmig.
sql "$dbn" "ALTER DATABASE $dbn SET pgmig.environment = 'production'" >/dev/null
printf '[environments.staging]\ndbname_env = "IT_NOOP_URL"\n' >"$np/pgmig.toml"
(cd "$np" && IT_NOOP_URL="dbname=$dbn" "$bin" apply --env staging >"$work/out" 2>"$work/err"); rc=$?
out=$(cat "$work/out"); err=$(cat "$work/err")
expect "noop: an environment that is not the database's is still refused" 39 \
    "called for environment staging, but this database is production"
sql "$dbn" "ALTER DATABASE $dbn RESET pgmig.environment" >/dev/null
sql "$dbn" "UPDATE pgmig.migrations SET up_sql = 'CREATE TABLE accounts (id bigint);' WHERE version = '1'" >/dev/null
run apply --dir "$np/migrations" -d "dbname=$dbn"
expect "noop: a ledger row edited outside pgmig is still refused (PM008)" 10 "the ledger was changed outside pgmig"

psql -X -q -d postgres -c "DROP ROLE IF EXISTS $noop_admin" >/dev/null 2>&1
