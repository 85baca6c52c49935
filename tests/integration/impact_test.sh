# pgmig impact: what a pending migration touches (its dry run), what depends on it in the live catalog
# (a view, a function with an SQL-standard body, a trigger, a foreign key, a policy), and the related bugs of pgmig.toml's bugs file.
# Sourced by run.sh (see lib.sh for the helpers).

newdb dbimpact
impact_proj="$work/impact"
impact_dir="$impact_proj/migrations"
mig "$impact_dir" 1_orders.sql "CREATE TABLE orders (id int PRIMARY KEY, total int NOT NULL);
CREATE TABLE order_lines (id int PRIMARY KEY, order_id int REFERENCES orders (id), amount int);
INSERT INTO orders SELECT g, g * 10 FROM generate_series(1, 5) g;
CREATE VIEW order_totals AS SELECT id, total FROM orders;
CREATE FUNCTION order_total(p_id int) RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT total FROM orders WHERE id = p_id; END;
CREATE FUNCTION orders_touch() RETURNS trigger LANGUAGE plpgsql AS \$\$BEGIN RETURN NEW; END\$\$;
CREATE TRIGGER orders_touch BEFORE UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION orders_touch();
CREATE POLICY orders_all ON orders USING (true);
CREATE TABLE customers (id int PRIMARY KEY, email text);" "DROP TABLE customers, order_lines; DROP VIEW order_totals;
DROP FUNCTION order_total(int); DROP TABLE orders; DROP FUNCTION orders_touch();"
run apply --dir "$impact_dir" -d "dbname=$dbimpact"
expect "impact: setup applies 1" 0 "applied 1_orders"
{
    echo "-- written by the integration tests"
    echo "-- pgmig:refs BUG-7"
    echo "-- pgmig:up"
    echo "ALTER TABLE orders ADD COLUMN created_at timestamptz DEFAULT clock_timestamp();"
    echo "UPDATE orders SET total = total + 1 WHERE id <= 3;"
    echo "CREATE INDEX orders_created_idx ON orders (created_at);"
    echo "-- pgmig:down"
    echo "DROP INDEX orders_created_idx; ALTER TABLE orders DROP COLUMN created_at;"
} >"$impact_dir/2_orders_created.sql"
cat >"$impact_proj/bugs.md" <<'EOF'
# Known bugs

## BUG-7: invoices round half down
Invoices lose a cent on .5 amounts.

## BUG-9: customers email not unique
Two customers may share an email.

## BUG-10: archive is slow
The table orders_archive and other.orders are slow to scan.

## BUG-12: orders total is wrong
The total shown by order_totals is off by one after a refund.
EOF
printf 'migrations = "migrations"\nbugs = "bugs.md"\n' >"$impact_proj/pgmig.toml"
impact_ledger() { sql "$dbimpact" "SELECT count(*) || ' ' || (SELECT count(*) FROM pg_attribute WHERE attrelid = 'orders'::regclass AND attname = 'created_at') || ' ' || (SELECT sum(total) FROM orders) FROM pgmig.migrations"; }
impact_before=$(impact_ledger)

cd "$impact_proj" || exit 1
run impact 2 -d "dbname=$dbimpact"
cd "$root" || exit 1
expect "impact VERSION: touched objects, dependents and related bugs" 0 \
    "impact of 2_orders_created (" "creates:    index public.orders_created_idx" "alters:     table public.orders" \
    "rewrites:   public.orders" "rows:       3" \
    "view public.order_totals (on public.orders)" "function public.order_total(integer) (on public.orders)" \
    "trigger orders_touch on public.orders (on public.orders)" \
    "foreign key order_lines_order_id_fkey on public.order_lines (on public.orders)" \
    "policy orders_all on public.orders (on public.orders)" \
    "related bugs (bugs.md): 2" "BUG-7: invoices round half down (line 3; refs BUG-7)" \
    "BUG-12: orders total is wrong (line 12; names orders" "nothing was persisted"
if grep -q "BUG-9\|BUG-10" <<<"$out"; then
    fail "impact: unrelated bugs are not listed" "$(grep "BUG-" <<<"$out")"
else
    pass "impact: unrelated bugs (customers, orders_archive, other.orders) are not listed"
fi
if [ "$(impact_ledger)" = "$impact_before" ]; then
    pass "impact persisted nothing (ledger, column, rows)"
else
    fail "impact persisted nothing" "before: $impact_before, after: $(impact_ledger)"
fi

cd "$impact_proj" || exit 1
run impact migrations/2_orders_created.sql --json -d "dbname=$dbimpact"
cd "$root" || exit 1
if [ "$rc" -eq 0 ] && python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["persisted"] is False, d
r = d["impact"]
assert set(r) >= {"version", "name", "file", "outcome", "reason", "statements", "rows_touched", "rewritten", "touched",
                  "refs", "dependents", "bugs"}, sorted(r)
assert r["version"] == "2" and r["name"] == "orders_created" and r["outcome"] == "ok", r
assert r["file"].endswith("2_orders_created.sql"), r["file"]
assert r["statements"] == 3 and r["rows_touched"] == 3, r
assert r["refs"] == ["BUG-7"], r["refs"]
assert [t["table"] for t in r["rewritten"]] == ["public.orders"], r["rewritten"]
assert {"type": "index", "identity": "public.orders_created_idx"} in r["touched"]["added"], r["touched"]
assert any(c["identity"] == "public.orders" and "columns" in c["keys"] for c in r["touched"]["changed"]), r["touched"]
deps = {(x["type"], x["identity"], x["on"]) for x in r["dependents"]}
for want in [("view", "public.order_totals", "public.orders"),
             ("function", "public.order_total(integer)", "public.orders"),
             ("trigger", "orders_touch on public.orders", "public.orders"),
             ("foreign key", "order_lines_order_id_fkey on public.order_lines", "public.orders"),
             ("policy", "orders_all on public.orders", "public.orders")]:
    assert want in deps, (want, deps)
b = r["bugs"]
assert b["file"] == "bugs.md", b
ids = {x["id"]: x for x in b["related"]}
assert set(ids) == {"BUG-7", "BUG-12"}, ids
assert ids["BUG-7"]["reasons"] == ["refs BUG-7"] and ids["BUG-7"]["line"] == 3, ids["BUG-7"]
assert "names orders" in ids["BUG-12"]["reasons"] and ids["BUG-12"]["title"] == "orders total is wrong", ids["BUG-12"]
' <<<"$out" 2>"$work/pyerr"; then pass "impact FILE --json: the documented schema"
else fail "impact FILE --json" "rc=$rc $(tail -c 600 "$work/pyerr") $(head -c 300 <<<"$err")"; fi

cd "$impact_proj" || exit 1
run impact 99 -d "dbname=$dbimpact"
expect "impact of an unknown version: exit 61, named" 61 "no migration 99 in migrations" "pgmig status"
run impact 1 -d "dbname=$dbimpact"
expect "impact of an applied version: exit 61, not pending" 61 "1_orders is not pending: it is applied already"
run impact migrations/3_nothing.sql -d "dbname=$dbimpact"
expect "impact of a file that is no migration: exit 61" 61 "migrations/3_nothing.sql is not a migration file of migrations"

# validate and deploy print the summary; the approval request of a deploy names the related bugs.
run validate --lint-threshold off -d "dbname=$dbimpact"
expect "validate prints the impact summary" 0 "impact of the 1 pending migration " "  2_orders_created:" \
    "touches:    +index public.orders_created_idx, ~table public.orders" "view public.order_totals" \
    "bugs:       BUG-7: invoices round half down; BUG-12: orders total is wrong"
run validate --json --lint-threshold off -d "dbname=$dbimpact"
if [ "$rc" -eq 0 ] && python3 -c '
import json, sys
d = json.load(sys.stdin)
i = d["impact"]
assert i["status"] == "checked" and [m["version"] for m in i["migrations"]] == ["2"], i
assert {b["id"] for b in i["migrations"][0]["bugs"]["related"]} == {"BUG-7", "BUG-12"}, i
' <<<"$out" 2>"$work/pyerr"; then pass "validate --json: impact of each pending migration"
else fail "validate --json impact" "rc=$rc $(tail -c 400 "$work/pyerr")"; fi
run validate --no-impact --lint-threshold off -d "dbname=$dbimpact"
if [ "$rc" -eq 0 ] && grep -qF "impact: skipped (--no-impact)" <<<"$out" && ! grep -q "impact of the" <<<"$out"; then
    pass "validate --no-impact: no summary, no dry run"
else
    fail "validate --no-impact" "rc=$rc $(head -c 400 <<<"$out$err")"
fi
# While another session holds the ledger lock (an apply running), validate goes on without the impact instead
# of waiting for the lock.
im_holder_out=$(timeout 60 psql -X -q -A -t -d "$dbimpact" \
    -c "SELECT pg_advisory_lock(482771560807)" \
    -c "\\! timeout 30 $bin validate --lint-threshold off -d dbname=$dbimpact; echo validate-exit=\$?" 2>&1)
if grep -q "validate-exit=0" <<<"$im_holder_out" &&
    grep -q "impact: skipped (the ledger is locked by another applier, backend" <<<"$im_holder_out"; then
    pass "validate while the ledger lock is held: the impact is skipped, no wait"
else
    fail "validate while the ledger lock is held" "$(head -c 600 <<<"$im_holder_out")"
fi
printf 'migrations = "migrations"\nbugs = "bugs.md"\n[environments.prod]\ndbname = "dbname=%s"\napproval = true\n' \
    "$dbimpact" >pgmig.toml
run deploy --env prod
expect "deploy: the summary, and the approval request names the related bugs" 28 "impact of the 1 pending migration " \
    "related bugs: BUG-7 (invoices round half down; 2_orders_created), BUG-12 (orders total is wrong; 2_orders_created)"
printf 'migrations = "migrations"\nbugs = "bugs.md"\n' >pgmig.toml

# No bugs file configured: no bug section, no error.
printf 'migrations = "migrations"\n' >pgmig.toml
run impact 2 -d "dbname=$dbimpact"
if [ "$rc" -eq 0 ] && grep -qF "view public.order_totals" <<<"$out" && ! grep -q "bugs" <<<"$out"; then
    pass "impact without a bugs file: no bug section, no error"
else
    fail "impact without a bugs file" "rc=$rc $(head -c 400 <<<"$out$err")"
fi
run impact 2 --json -d "dbname=$dbimpact"
if [ "$rc" -eq 0 ] && python3 -c 'import json, sys; assert json.load(sys.stdin)["impact"]["bugs"] is None' <<<"$out"; then
    pass "impact --json without a bugs file: bugs is null"
else
    fail "impact --json without a bugs file" "rc=$rc $(head -c 400 <<<"$out$err")"
fi

# A bugs file that cannot be read: an error naming it, before anything runs.
printf 'migrations = "migrations"\nbugs = "tracker/bugs.md"\n' >pgmig.toml
run impact 2 -d "dbname=$dbimpact"
expect "impact with an unreadable bugs file: exit 3, names it" 3 "the bugs file tracker/bugs.md cannot be read" \
    "key 'bugs' of pgmig.toml"
printf 'migrations = "migrations"\nbugs = "bugs.md"\n' >pgmig.toml
cd "$root" || exit 1
