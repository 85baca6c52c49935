# Audit rows of a transaction still open: its session holds no lock on pgmig.ddl_audit or its sequence
# (the audit write gives its locks back, as PostgreSQL does for its catalogs), and what would lose or skip
# such rows waits for the transaction instead: a rewriting ALTER TABLE, CREATE INDEX CONCURRENTLY;
# VACUUM FULL keeps them. Sourced by run.sh (see lib.sh).

newdb dbf

# if_wait_until SQL: polls (up to 60 s) until the query returns t.
if_wait_until() { poll_sql "$dbf" "$1"; }

# if_hold SQL: a session of its own (application_name if_holder) runs BEGIN and SQL, and stays in its
# transaction until if_release commits it.
if_hold() {
    rm -f "$work/if_hold.fifo"
    mkfifo "$work/if_hold.fifo"
    PGAPPNAME=if_holder psql -X -q -v ON_ERROR_STOP=1 -d "$dbf" -f "$work/if_hold.fifo" >"$work/if_hold.out" 2>&1 &
    if_holder=$!
    exec {if_hold_fd}>"$work/if_hold.fifo"
    printf 'BEGIN;\n%s\n' "$1" >&"$if_hold_fd"
    if_wait_until "SELECT EXISTS (SELECT FROM pg_stat_activity WHERE application_name = 'if_holder'
                     AND state = 'idle in transaction' AND backend_xid IS NOT NULL)" ||
        fail "audit rows in flight: setup" "the holding session never ran its DDL: $(cat "$work/if_hold.out")"
}

if_release() {
    printf 'COMMIT;\n' >&"$if_hold_fd"
    exec {if_hold_fd}>&-
    wait "$if_holder"
}

# if_beside_holder NAME SQL: runs SQL in another session while the holder's transaction is open; once it
# has finished, or waits for the holder (not for another session, say pgmig's sealer), the holder commits.
# Sets $if_rc, $if_out and $if_waited (yes: it waited for the holder).
if_beside_holder() {
    PGAPPNAME=if_other PGOPTIONS=${if_options:-} psql -X -q -v ON_ERROR_STOP=1 -d "$dbf" -c "$2" >"$work/if_other.out" 2>&1 &
    local other=$! i
    if_waited=no
    for i in $(seq 1 600); do
        kill -0 "$other" 2>/dev/null || break
        if [ "$(sql "$dbf" "SELECT EXISTS (SELECT FROM pg_stat_activity o, pg_stat_activity h
                             WHERE o.application_name = 'if_other' AND h.application_name = 'if_holder'
                               AND h.pid = ANY (pg_blocking_pids(o.pid)))")" = t ]; then
            if_waited=yes
            break
        fi
        sleep 0.1
    done
    if_release
    wait "$other"
    if_rc=$?
    if_out=$(cat "$work/if_other.out")
}

# --- the open transaction holds no lock of pgmig's --------------------------------------------------
if_hold "CREATE TABLE held_locks (id int); ALTER TABLE held_locks ADD COLUMN name text;"
held=$(sql "$dbf" "SELECT coalesce(string_agg(l.relation::regclass || ' ' || l.mode, ', '), 'none')
                     FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
                    WHERE a.application_name = 'if_holder' AND l.locktype = 'relation'
                      AND l.relation::regclass::text LIKE 'pgmig.%'")
if [ "$held" = none ]; then
    pass "a transaction that ran DDL holds no lock on pgmig.ddl_audit or its sequence"
else
    fail "a transaction that ran DDL holds no lock of pgmig's" "it holds: $held"
fi
if_release

# --- a rewrite of the audit table waits for the rows in progress, and keeps them ---------------------
if_hold "CREATE TABLE held_rewrite (id int);"
if_beside_holder rewrite "ALTER TABLE pgmig.ddl_audit ADD COLUMN probe timestamptz DEFAULT clock_timestamp()"
kept=$(sql "$dbf" "SELECT count(*) FROM pgmig.ddl_audit WHERE object_identity = 'public.held_rewrite'")
if [ "$if_rc" = 0 ] && [ "$kept" = 1 ] && [ "$if_waited" = yes ]; then
    pass "ALTER TABLE pgmig.ddl_audit that rewrites it waits for an open transaction's audit row and keeps it"
else
    fail "a rewrite of pgmig.ddl_audit keeps rows in progress" "exit $if_rc ($if_out), waited: $if_waited, rows: $kept"
fi
sql "$dbf" "ALTER TABLE pgmig.ddl_audit DROP COLUMN probe" >/dev/null

# --- only the table's owner waits: anyone else is refused before holding any lock on it -----------------
sql "$dbf" "CREATE ROLE if_reader LOGIN IN ROLE pgmig_reader" >/dev/null
if_hold "CREATE TABLE held_reader (id int);"
PGUSER=if_reader if_beside_holder reader "ALTER TABLE pgmig.ddl_audit ADD COLUMN probe int"
if [ "$if_rc" != 0 ] && grep -q "must be owner of table ddl_audit" <<<"$if_out" && [ "$if_waited" = no ]; then
    pass "ALTER TABLE pgmig.ddl_audit by a role that does not own it is refused without waiting"
else
    fail "ALTER TABLE pgmig.ddl_audit by a non-owner is refused without waiting" "exit $if_rc ($if_out), waited: $if_waited"
fi
sql "$dbf" "DROP ROLE if_reader" >/dev/null

# --- CREATE INDEX CONCURRENTLY on the audit table waits for them too: the index holds every row --------
# With the sealer off: sealing updates every row once it is committed, which would put the row into the
# new index anyway (unless the sealer misses the row because the index it searches lacks it).
sql "$dbf" "ALTER DATABASE $dbf SET pgmig.audit_sealer = off" >/dev/null
if_hold "CREATE TABLE held_index (id int);"
if_beside_holder index "CREATE INDEX CONCURRENTLY ddl_audit_txid ON pgmig.ddl_audit (txid)"
txid=$(sql "$dbf" "SELECT txid FROM pgmig.ddl_audit WHERE object_identity = 'public.held_index'")
by_index=$(psql -X -A -t -q -d "$dbf" -c "SET enable_seqscan = off" -c "SET enable_bitmapscan = off" \
    -c "SELECT count(*) FROM pgmig.ddl_audit WHERE txid = '$txid'" 2>&1)
plan=$(psql -X -A -t -q -d "$dbf" -c "SET enable_seqscan = off" -c "SET enable_bitmapscan = off" \
    -c "EXPLAIN SELECT count(*) FROM pgmig.ddl_audit WHERE txid = '$txid'" 2>&1)
valid=$(sql "$dbf" "SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass('pgmig.ddl_audit_txid')")
if [ "$if_rc" = 0 ] && [ "$valid" = t ] && [ -n "$txid" ] && [ "$by_index" = 1 ] && grep -q ddl_audit_txid <<<"$plan"; then
    pass "CREATE INDEX CONCURRENTLY on pgmig.ddl_audit indexes the audit row of a transaction open meanwhile"
else
    fail "CREATE INDEX CONCURRENTLY on pgmig.ddl_audit indexes rows in progress" \
        "exit $if_rc ($if_out), valid: $valid, waited: $if_waited, rows by index: $by_index, plan: $plan"
fi
sql "$dbf" "DROP INDEX pgmig.ddl_audit_txid" >/dev/null

# --- VACUUM FULL copies them ---------------------------------------------------------------------------
if_hold "CREATE TABLE held_vacuum (id int);"
if_beside_holder vacuum "VACUUM FULL pgmig.ddl_audit"
kept=$(sql "$dbf" "SELECT count(*) FROM pgmig.ddl_audit WHERE object_identity = 'public.held_vacuum'")
if [ "$if_rc" = 0 ] && [ "$kept" = 1 ]; then
    pass "VACUUM FULL pgmig.ddl_audit keeps the audit row of a transaction open meanwhile"
else
    fail "VACUUM FULL pgmig.ddl_audit keeps rows in progress" "exit $if_rc ($if_out), rows: $kept"
fi

# --- so does REINDEX CONCURRENTLY in a session that has loaded pgmig (preloaded, as recommended) ---------
if_hold "CREATE TABLE held_reindex (id int);"
if_options="-c session_preload_libraries=pgmig" if_beside_holder reindex \
    "REINDEX INDEX CONCURRENTLY pgmig.ddl_audit_chain_seq"
unsealed=$(psql -X -A -t -q -d "$dbf" -c "SET enable_seqscan = off" -c "SET enable_bitmapscan = off" \
    -c "SELECT count(*) FROM pgmig.ddl_audit WHERE chain_seq IS NULL AND object_identity = 'public.held_reindex'" 2>&1)
if [ "$if_rc" = 0 ] && [ "$unsealed" = 1 ]; then
    pass "REINDEX CONCURRENTLY of pgmig.ddl_audit's chain index keeps the unsealed row of a transaction open meanwhile"
else
    fail "REINDEX CONCURRENTLY of pgmig.ddl_audit keeps rows in progress" \
        "exit $if_rc ($if_out), waited: $if_waited, unsealed rows found by the index: $unsealed"
fi
sql "$dbf" "ALTER DATABASE $dbf RESET pgmig.audit_sealer" >/dev/null
