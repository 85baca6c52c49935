# A pgmig_admin cannot pass ad-hoc DDL off as a non-transactional migration: a psql session that
# replays the client's calls around other statements is audited out of band and refused, while the
# real client's non-transactional apply, its resume (dropping the invalid index a failed build left)
# and its rollback still work and are attributed to the migration. Sourced by run.sh (see lib.sh).

stealth_admin="it_nontx_admin_$$"
psql -X -q -d postgres -c "CREATE ROLE $stealth_admin LOGIN IN ROLE pgmig_admin" >/dev/null

newdb dbs
sd="$work/nontx_stealth"
mig "$sd" 1_table.sql "CREATE TABLE t (a int, b int); INSERT INTO t VALUES (1, 1), (2, 1);" "DROP TABLE t;"
{ echo "-- pgmig:no-transaction"
  echo "-- pgmig:up"
  echo "UPDATE t SET b = b + 0;"
  echo "CREATE INDEX CONCURRENTLY IF NOT EXISTS t_a_idx ON t (a);"
  echo "CREATE UNIQUE INDEX CONCURRENTLY t_b_key ON t (b);"
  echo "-- pgmig:down"
  echo "DROP INDEX CONCURRENTLY IF EXISTS t_b_key;"
  echo "DROP INDEX CONCURRENTLY IF EXISTS t_a_idx;"; } >"$sd/2_indexes.sql"

# --- the client: a failed statement, then a resume that drops the invalid index first -------------
run apply --dir "$sd" -d "dbname=$dbs"
expect "stealth: statement 3 fails (duplicate b)" 5 "statement 3 of non-transactional migration 2_indexes failed" "23505"
if [ "$(sql "$dbs" "SELECT nontx_progress FROM pgmig.migrations WHERE version = '2'")" = 2 ]; then
    pass "stealth: progress recorded after the UPDATE and the first index"
else
    fail "stealth: progress 2" "$(sql "$dbs" "SELECT nontx_progress FROM pgmig.migrations WHERE version = '2'")"
fi
sql "$dbs" "UPDATE t SET b = a" >/dev/null
run apply --dir "$sd" -d "dbname=$dbs"
expect "stealth: the resume drops the invalid index and applies" 0 "resuming 2_indexes after statement 2 of 3" \
    "dropping invalid index public.t_b_key" "applied 2_indexes ("
got=$(sql "$dbs" "SELECT string_agg(event || ':' || object_identity || ':' || coalesce(migration_version, 'NULL'), ' ' ORDER BY id)
                    FROM pgmig.ddl_audit WHERE object_identity IN ('public.t_a_idx', 'public.t_b_key')")
if [ "$got" = "ddl_command_end:public.t_a_idx:2 sql_drop:public.t_b_key:2 ddl_command_end:public.t_b_key:2" ]; then
    pass "stealth: the indexes and the drop of the invalid one are attributed to migration 2"
else
    fail "stealth: attribution of the client's statements" "$got"
fi

# --- a psql session replaying the calls around other DDL ------------------------------------------
sql "$dbs" "GRANT CREATE ON SCHEMA public TO $stealth_admin" >/dev/null
mig "$sd" 3_innocuous.sql "CREATE INDEX CONCURRENTLY IF NOT EXISTS t_ab_idx ON t (a, b);" "DROP INDEX CONCURRENTLY IF EXISTS t_ab_idx;"
sed -i '1a -- pgmig:no-transaction' "$sd/3_innocuous.sql"
psql -X -q -d "$dbs" -U "$stealth_admin" -c "SELECT migrate_register('3', 'innocuous', 'CREATE INDEX CONCURRENTLY IF NOT EXISTS t_ab_idx ON t (a, b);', 'DROP INDEX CONCURRENTLY IF EXISTS t_ab_idx;', '{\"transactional\": false}')" >/dev/null
attack=$(psql -X -q -A -t -d "$dbs" -U "$stealth_admin" 2>&1 <<'SQL'
SELECT pg_advisory_lock(482771560807);
SELECT migrate_nontx_begin('3');
CREATE TABLE stealth (id int);
SELECT migrate_nontx_progress('3', 1);
\echo progress :LAST_ERROR_SQLSTATE
SELECT migrate_nontx_finish('3', '1s');
\echo finish :LAST_ERROR_SQLSTATE
SELECT pg_advisory_unlock(482771560807);
CREATE TABLE stealth_after (id int);
SQL
)
if grep -q "progress PM036" <<<"$attack" && grep -q "finish PM036" <<<"$attack"; then
    pass "stealth: progress and finish are refused (PM036)"
else
    fail "stealth: progress/finish refused" "$attack"
fi
if [ "$(sql "$dbs" "SELECT state FROM migrate_status() WHERE version = '3'")" != applied ]; then
    pass "stealth: version 3 is not applied"
else
    fail "stealth: version 3 not applied" "applied"
fi
got=$(sql "$dbs" "SELECT string_agg(object_identity || ':' || coalesce(migration_version, 'NULL'), ' ' ORDER BY id)
                    FROM pgmig.ddl_audit WHERE object_identity LIKE 'public.stealth%'")
if [ "$got" = "public.stealth:NULL public.stealth_after:NULL" ]; then
    pass "stealth: the ad-hoc DDL is audited out of band"
else
    fail "stealth: ad-hoc DDL out of band" "$got"
fi

# --- the real client still applies it, and rolls both back -----------------------------------------
run apply --dir "$sd" -d "dbname=$dbs"
expect "stealth: the client applies version 3 afterwards" 0 "applied 3_innocuous ("
if [ "$(sql "$dbs" "SELECT migration_version FROM pgmig.ddl_audit WHERE object_identity = 'public.t_ab_idx'")" = 3 ]; then
    pass "stealth: its index is attributed to migration 3"
else
    fail "stealth: t_ab_idx attribution" "$(sql "$dbs" "SELECT event, migration_version FROM pgmig.ddl_audit WHERE object_identity = 'public.t_ab_idx'")"
fi
run rollback --steps 2 -d "dbname=$dbs"
expect "stealth: the client rolls both back" 0 "rolled back 3_innocuous (" "rolled back 2_indexes (" "2 rolled back"
got=$(sql "$dbs" "SELECT string_agg(object_identity || ':' || coalesce(migration_version, 'NULL'), ' ' ORDER BY id)
                    FROM pgmig.ddl_audit WHERE event = 'sql_drop' AND object_identity IN ('public.t_ab_idx', 'public.t_a_idx', 'public.t_b_key')
                     AND id > (SELECT max(id) FROM pgmig.ddl_audit WHERE object_identity = 'public.t_ab_idx' AND event = 'ddl_command_end')")
if [ "$got" = "public.t_ab_idx:3 public.t_b_key:2 public.t_a_idx:2" ]; then
    pass "stealth: the down scripts' drops are attributed to their migrations"
else
    fail "stealth: down attribution" "$got"
fi
if [ "$(sql "$dbs" "SELECT string_agg(version || '=' || state, ' ' ORDER BY version) FROM migrate_status()")" = "1=applied 2=pending 3=pending" ]; then
    pass "stealth: ledger after the rollback"
else
    fail "stealth: ledger after the rollback" "$(sql "$dbs" "SELECT version, state FROM migrate_status()")"
fi
sql "$dbs" "DROP TABLE stealth, stealth_after; REVOKE CREATE ON SCHEMA public FROM $stealth_admin" >/dev/null
psql -X -q -d postgres -c "DROP ROLE IF EXISTS $stealth_admin" >/dev/null
