# pgmig plan: the dry-run report, nothing persisted (not even registration), a lock that would be
# waited for reported with the relation. Sourced by run.sh (see lib.sh for the helpers).

# ledger_state DB: everything a dry run must leave as it was, as one line.
ledger_state() {
    sql "$1" "SELECT md5(concat_ws('|',
        (SELECT string_agg(m::text, ',' ORDER BY version_key) FROM pgmig.migrations m),
        (SELECT string_agg(h::text, ',' ORDER BY id) FROM pgmig.history h),
        (SELECT string_agg(a::text, ',' ORDER BY id) FROM pgmig.ddl_audit a),
        (SELECT string_agg(s::text, ',' ORDER BY id) FROM pgmig.snapshots s),
        (SELECT string_agg(e::text, ',' ORDER BY object_key) FROM pgmig.expected_objects e),
        (SELECT string_agg(p::text, ',' ORDER BY p) FROM pgmig.expected_parts p),
        (SELECT last_value FROM pgmig.ddl_audit_id_seq), (SELECT last_value FROM pgmig.history_id_seq),
        migrate_fingerprint(), (SELECT string_agg(a::text, ',' ORDER BY id) FROM accounts a)))"
}

newdb dbplan
plan_proj="$work/plan/migrations"
mig "$plan_proj" 1_accounts.sql "CREATE TABLE accounts (id int PRIMARY KEY, email text, balance int);
INSERT INTO accounts SELECT g, 'user' || g, g FROM generate_series(1, 30) g;" "DROP TABLE accounts;"
run apply --dir "$plan_proj" -d "dbname=$dbplan"
expect "plan: setup applies 1" 0 "applied 1_accounts"
mig "$plan_proj" 2_balance.sql "ALTER TABLE accounts ALTER COLUMN balance TYPE bigint;
CREATE INDEX accounts_email_idx ON accounts (email);
UPDATE accounts SET balance = 0 WHERE id <= 4;" "DROP INDEX accounts_email_idx;
ALTER TABLE accounts ALTER COLUMN balance TYPE int;"
mig "$plan_proj" 3_report.sql "CREATE VIEW rich AS SELECT * FROM accounts WHERE balance > 10;" "DROP VIEW rich;"

before=$(ledger_state "$dbplan")
run plan --dir "$plan_proj" -d "dbname=$dbplan"
expect "plan prints the report" 0 "2_balance: ok, 3 statements" "AccessExclusiveLock on public.accounts" \
    "rewrites:  public.accounts" "rows:      4" "+ index public.accounts_email_idx" "~ table public.accounts (columns)" \
    "3_report: ok, 1 statement" "+ view public.rich" "lint:" "2 migrations rehearsed; nothing was persisted"
if [ "$(ledger_state "$dbplan")" = "$before" ] && [ "$(ledger_count "$dbplan")" = 1 ]; then
    pass "plan persisted nothing: ledger, history, audit, snapshots, catalog, rows; not even registration"
else
    fail "plan persisted nothing" "state changed, or the files were registered ($(ledger_count "$dbplan") migrations)"
fi
if [ "$(sql "$dbplan" "SELECT to_regclass('accounts_email_idx') IS NULL AND to_regclass('rich') IS NULL")" = t ]; then
    pass "plan left no object behind"
else
    fail "plan left no object behind" "index or view exists"
fi

run plan --dir "$plan_proj" --to 2 --json -d "dbname=$dbplan"
if [ "$rc" -eq 0 ] && python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["persisted"] is False, d
ms = d["migrations"]
assert [m["version"] for m in ms] == ["2"], ms
m = ms[0]
assert m["outcome"] == "ok" and m["statements"] == 3 and m["rows_touched"] == 4, m
assert {"relation": "public.accounts", "mode": "AccessExclusiveLock"} in m["locks"], m["locks"]
assert [r["table"] for r in m["rewritten"]] == ["public.accounts"], m
assert {"type": "index", "identity": "public.accounts_email_idx"} in m["catalog_diff"]["added"], m
' <<<"$out"; then pass "plan --to --json"; else fail "plan --to --json" "rc=$rc $(head -c 400 <<<"$out$err")"; fi

# Another session holds a lock on accounts: the rehearsal does not queue behind it.
timeout 60 psql -X -q -d "$dbplan" -c "BEGIN; LOCK TABLE accounts IN ACCESS SHARE MODE; SELECT pg_sleep(30); COMMIT;" \
    >/dev/null 2>&1 &
holder=$!
for _ in $(seq 1 100); do
    [ "$(sql "$dbplan" "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE relation = 'accounts'::regclass AND pid <> pg_backend_pid() AND granted)")" = t ] && break
    sleep 0.1
done
started=$(date +%s%N)
PGOPTIONS="-c pgmig.dry_run_lock_timeout=300ms" run plan --dir "$plan_proj" -d "dbname=$dbplan"
took_ms=$(( ($(date +%s%N) - started) / 1000000 ))
expect "plan reports a lock it would wait for" 15 "2_balance: would_wait" "would wait for a lock on public.accounts" \
    "AccessShareLock held by pid" "3_report: not_rehearsed" "nothing was persisted"
if [ "$took_ms" -lt 10000 ]; then pass "plan did not queue behind the lock holder (${took_ms} ms)"; else fail "plan did not queue" "${took_ms} ms"; fi
sql "$dbplan" "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE relation = 'accounts'::regclass AND pid <> pg_backend_pid()" >/dev/null
wait "$holder" 2>/dev/null
if [ "$(ledger_state "$dbplan")" = "$before" ]; then pass "a lock wait persisted nothing"; else fail "a lock wait persisted nothing" "state changed"; fi

# A migration that fails is reported, with its error; exit 15.
mig "$plan_proj" 4_broken.sql "ALTER TABLE no_such_table ADD COLUMN x int;"
run plan --dir "$plan_proj" -d "dbname=$dbplan"
expect "plan reports a failing migration" 15 "4_broken: failed" 'relation "no_such_table" does not exist' \
    "a migration that fails or would wait"
rm "$plan_proj/4_broken.sql"

# A non-transactional migration is not rehearsable, with the reason.
{ echo "-- pgmig:no-transaction"; echo "-- pgmig:up"; echo "CREATE INDEX CONCURRENTLY accounts_balance_idx ON accounts (balance);"; } \
    >"$plan_proj/5_concurrent.sql"
run plan --dir "$plan_proj" -d "dbname=$dbplan"
expect "plan: non-transactional is not rehearsable" 0 "5_concurrent: not_rehearsable" "cannot be rehearsed"
rm "$plan_proj/5_concurrent.sql"

run plan --help
expect "plan --help" 0 "--dir" "--to" "--json" "Nothing persists"
