# Nobody can make the health check's audit-chain step fail, and so stop every deploy, by holding a lock:
# a pgmig_reader holding the old seal key (the ledger's advisory key + 1) and keeping a transaction open
# after migrate_audit_verify() blocks nothing (readers do not seal in their own transaction); an admin whose
# open transaction holds the seal lock makes sealing skip, reported as a warning that names it (27, not 26),
# and deploy's pre-flight goes ahead. Sourced by run.sh (see lib.sh).

newdb hb_db
hb_reader="pgmig_it_hb_reader_$$"
hb_admin="pgmig_it_hb_admin_$$"
sql "$hb_db" "CREATE ROLE $hb_reader LOGIN IN ROLE pgmig_reader;
              CREATE ROLE $hb_admin LOGIN IN ROLE pgmig_admin, pgmig_reader;
              CREATE TEMP TABLE hb_before (id int)" >/dev/null
hb_proj="$work/hb-project"
hb_elsewhere="$work/hb-elsewhere"
mkdir -p "$hb_proj/migrations" "$hb_elsewhere"
printf '[environments.development]\ndbname = "dbname=%s"\n' "$hb_db" >"$hb_proj/pgmig.toml"
mig "$hb_proj/migrations" 1_hb_first.sql "CREATE TABLE hb_first (id int);" "DROP TABLE hb_first;"
hb_health() { (cd "$hb_elsewhere" && "$bin" health --timeout 3s -d "dbname=$hb_db") >"$work/out" 2>"$work/err"; rc=$?; out=$(cat "$work/out"); err=$(cat "$work/err"); }
hb_deploy() { (cd "$hb_proj" && "$bin" deploy --env development) >"$work/out" 2>"$work/err"; rc=$?; out=$(cat "$work/out"); err=$(cat "$work/err"); }
hb_status() { awk '$1 == "audit_chain" {print $2}' <<<"$out"; }
# hb_wait_idle APP: until the session of application APP is idle in its transaction.
hb_wait_idle() {
    for _ in $(seq 100); do
        [ "$(sql "$hb_db" "SELECT count(*) FROM pg_stat_activity WHERE application_name = '$1' AND state = 'idle in transaction'")" = 1 ] && return
        sleep 0.1
    done
}

# --- a reader holding what used to block sealing ---------------------------------------------------------
exec 8> >(PGAPPNAME=hb_reader psql -X -q -d "dbname=$hb_db user=$hb_reader" >/dev/null 2>&1)
echo "BEGIN; SELECT pg_advisory_lock(482771560808); SELECT * FROM migrate_audit_verify();" >&8
hb_wait_idle hb_reader
sql "$hb_db" "CREATE TEMP TABLE hb_while_reader (id int)" >/dev/null
hb_health
if [ "$rc" -ne 26 ] && [ "$(hb_status)" = ok ]; then
    pass "health: a reader's open transaction and advisory lock do not touch the audit-chain step (rc $rc)"
else
    fail "health: a reader cannot fail the audit-chain step" "rc=$rc $(grep '^audit_chain' <<<"$out") $(head -c 300 <<<"$err")"
fi
hb_deploy
expect "deploy: pre-flight proceeds while the reader waits" 0 "[1/6] pre-flight health: ok" "deployed 1 migration"
echo "ROLLBACK;" >&8
exec 8>&-

# --- an admin holding the seal lock in an open transaction -------------------------------------------------
exec 9> >(PGAPPNAME=hb_admin psql -X -q -d "dbname=$hb_db user=$hb_admin" >/dev/null 2>&1)
echo "BEGIN; SELECT * FROM migrate_audit_verify();" >&9
hb_wait_idle hb_admin
hb_admin_pid=$(sql "$hb_db" "SELECT pid FROM pg_stat_activity WHERE application_name = 'hb_admin'")
sql "$hb_db" "CREATE TEMP TABLE hb_while_admin (id int)" >/dev/null
hb_health
expect "health: sealing blocked by an admin's transaction is a warning (27), naming it" 27 \
    "pid $hb_admin_pid" "$hb_admin"
[ "$(hb_status)" = warn ] && pass "health: audit_chain warns" || fail "health: audit_chain warns" "$(grep '^audit_chain' <<<"$out")"
mig "$hb_proj/migrations" 2_hb_second.sql "CREATE TABLE hb_second (id int);" "DROP TABLE hb_second;"
hb_deploy
expect "deploy: pre-flight proceeds while sealing is blocked" 0 "[1/6] pre-flight health: ok" "deployed 1 migration"
echo "COMMIT;" >&9
exec 9>&-
hb_health
expect "health: once the admin's transaction ends, the chain is sealed and intact" 0
sql "$hb_db" "DROP ROLE $hb_reader; DROP ROLE $hb_admin" >/dev/null
