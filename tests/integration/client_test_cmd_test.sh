# pgmig test: rollback tests on a scratch database built from the target's schema; the target is
# never changed and the scratch database is dropped. Sourced by run.sh (see lib.sh for the helpers).

# target_state DB: the target's ledger and schema, as one line.
target_state() {
    sql "$1" "SELECT md5(concat_ws('|',
        (SELECT string_agg(m::text, ',' ORDER BY version_key) FROM pgmig.migrations m),
        (SELECT string_agg(h::text, ',' ORDER BY id) FROM pgmig.history h),
        (SELECT string_agg(a::text, ',' ORDER BY id) FROM pgmig.ddl_audit a),
        (SELECT last_value FROM pgmig.ddl_audit_id_seq), migrate_fingerprint()))"
}
scratch_dbs() { sql postgres "SELECT count(*) FROM pg_database WHERE datname LIKE 'pgmig\_test\_%'"; }

newdb dbtest
test_proj="$work/testcmd/migrations"
mig "$test_proj" 1_customers.sql "CREATE TABLE customers (id int PRIMARY KEY, name text);" "DROP TABLE customers;"
run apply --dir "$test_proj" -d "dbname=$dbtest"
expect "test: setup applies 1" 0 "applied 1_customers"
mig "$test_proj" 2_orders.sql "CREATE TABLE orders (id int PRIMARY KEY, customer_id int REFERENCES customers);
CREATE INDEX orders_customer_idx ON orders (customer_id);" "DROP TABLE orders;"
# The bad one: its down script forgets the index.
mig "$test_proj" 3_name_idx.sql "CREATE INDEX customers_name_idx ON customers (name);" "SELECT 1;"
mig "$test_proj" 4_total.sql "ALTER TABLE orders ADD COLUMN total numeric DEFAULT 0;" "ALTER TABLE orders DROP COLUMN total;"

before=$(target_state "$dbtest")
scratch_before=$(scratch_dbs)
run test --dir "$test_proj" -d "dbname=$dbtest"
expect "test: a bad down script fails (exit 15)" 15 "migration" "2_orders" "3_name_idx" "4_total" \
    "3_name_idx: down_restores_schema failed" "index public.customers_name_idx left behind by down" \
    "a copy of the target's schema" "a rollback test failed"
if grep -E '^2_orders +✓ +✓ +✓ +✓ +✓' <<<"$out" >/dev/null && grep -E '^3_name_idx +✓ +✓ +✗ +✗ +-' <<<"$out" >/dev/null &&
    grep -E '^4_total +✓ +✓ +✓ +✓ +✓' <<<"$out" >/dev/null; then
    pass "test: the table marks each check"
else
    fail "test: the table marks each check" "$out"
fi
if [ "$(target_state "$dbtest")" = "$before" ] && [ "$(ledger_count "$dbtest")" = 1 ]; then
    pass "test: the target is unchanged (ledger, history, audit, fingerprint)"
else
    fail "test: the target is unchanged" "state changed or files registered ($(ledger_count "$dbtest") migrations)"
fi
if [ "$(scratch_dbs)" = "$scratch_before" ]; then pass "test: the scratch database was dropped"; else fail "test: scratch dropped" "$(scratch_dbs) scratch databases"; fi

# Fixed: every test passes, exit 0; --json.
mig "$test_proj" 3_name_idx.sql "CREATE INDEX customers_name_idx ON customers (name);" "DROP INDEX customers_name_idx;"
run test --dir "$test_proj" --json -d "dbname=$dbtest"
if [ "$rc" -eq 0 ] && python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["database"].startswith("pgmig_test_") and d["kept"] is False, d
ms = d["migrations"]
assert [m["version"] for m in ms] == ["2", "3", "4"], ms
for m in ms:
    assert m["passed"] and [c["check"] for c in m["checks"]] == ["up", "down", "down_restores_schema", "up_again", "up_again_same_schema"], m
    assert all(c["passed"] for c in m["checks"]), m
' <<<"$out"; then pass "test --json: every check passes"; else fail "test --json" "rc=$rc $(head -c 400 <<<"$out$err")"; fi

# --from-empty tests every migration, 1 included; --keep keeps the scratch database.
run test --dir "$test_proj" --from-empty --keep -d "dbname=$dbtest"
kept=$(grep -o "pgmig_test_[0-9_]*" <<<"$out" | head -1)
expect "test --from-empty --keep" 0 "1_customers" "from an empty database" "kept: drop it with DROP DATABASE"
if [ -n "$kept" ] && [ "$(sql "$kept" "SELECT string_agg(version, ',' ORDER BY version) FROM migrate_status() WHERE state = 'applied'")" = "1,2,3,4" ]; then
    pass "test --keep: the scratch database stays, with every migration applied"
else
    fail "test --keep" "scratch '$kept' missing or not applied"
fi
# The scratch database is marked as one (common/scratch_database.hpp), so migrate_apply_tested kept the last run
# of up as the apply: the down scripts ran for real and are in its audit trail; the first migration, after
# the snapshot of CREATE EXTENSION, was applied by running up once more.
kept_runs=$([ -n "$kept" ] && sql "$kept" "SELECT string_agg(DISTINCT a.migration_version, ',' ORDER BY a.migration_version)
                                       FROM pgmig.ddl_audit a JOIN pgmig.migrations m ON m.version = a.migration_version
                                      WHERE position(rtrim(a.statement, ';') IN m.down_sql) > 0")
if [ "$kept_runs" = "2,3,4" ] &&
    [ "$(sql "$kept" "SELECT shobj_description(oid, 'pg_database') LIKE 'pgmig test scratch database:%' FROM pg_database WHERE datname = current_database()")" = t ]; then
    pass "test --keep: marked as a scratch database, the last run of up kept as the apply of 2, 3 and 4"
else
    fail "test --keep: the last run of up kept" "migrations whose down ran for real: '$kept_runs'"
fi
[ -n "$kept" ] && psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $kept" >/dev/null

# A role without CREATEDB: exit 16 with a hint; nothing left behind.
psql -X -q -d postgres -c "SET client_min_messages = warning" -c "DROP ROLE IF EXISTS pgmig_it_nocreatedb" -c "CREATE ROLE pgmig_it_nocreatedb LOGIN" >/dev/null
sql "$dbtest" "GRANT pgmig_reader TO pgmig_it_nocreatedb" >/dev/null
run test --dir "$test_proj" -d "dbname=$dbtest user=pgmig_it_nocreatedb"
expect "test without CREATEDB" 16 "cannot create the scratch database" "CREATEDB"
psql -X -q -d postgres -c "DROP ROLE pgmig_it_nocreatedb" >/dev/null
if [ "$(target_state "$dbtest")" = "$before" ] && [ "$(scratch_dbs)" = "$scratch_before" ]; then
    pass "test: still nothing changed on the target, no scratch database left"
else
    fail "test: nothing changed" "target changed or scratch left"
fi

# Ctrl-C: the scratch database is dropped.
mig "$test_proj" 5_slow.sql "SELECT pg_sleep(20); CREATE TABLE slow (id int);" "DROP TABLE slow;"
"$bin" test --dir "$test_proj" -d "dbname=$dbtest" >"$work/out" 2>"$work/err" &
tester=$!
for _ in $(seq 1 100); do
    [ "$(sql postgres "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE datname LIKE 'pgmig\_test\_%' AND query LIKE '%migrate_test%')")" = t ] && break
    sleep 0.1
done
kill -INT "$tester"
wait "$tester"; rc=$?
out=$(cat "$work/out"); err=$(cat "$work/err")
expect "test interrupted: exit 16" 16 "interrupted"
if [ "$(scratch_dbs)" = "$scratch_before" ]; then pass "test interrupted: scratch database dropped"; else fail "test interrupted: scratch dropped" "$(scratch_dbs) left"; fi
rm "$test_proj/5_slow.sql"

run test --help
expect "test --help" 0 "--from-empty" "--keep" "--json" "scratch"
