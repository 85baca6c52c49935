# pgmig lint lints what the next apply runs: by default the pending up scripts (applied migrations are history),
# with --all every script, down scripts by the rules of a down script (dropping what their own up script created
# is expected). Sourced by run.sh (see lib.sh for the helpers).

run lint --help
expect "lint --help says what is linted by default" 0 "--all" "By default the up scripts of the migrations not applied yet"

# The example project applied (what scripts/demo does), then linted: nothing to report.
newdb db
demo="$work/lint_pending/migrations"
mkdir -p "$demo"
cp "$root"/examples/migrations/*.sql "$demo/"
chmod -R a+rX "$work/lint_pending"
run apply --dir "$demo" -d "dbname=$db"
expect "the example project applies" 0 "applied 5_order_totals"
run lint --dir "$demo" -d "dbname=$db"
expect "lint right after applying the example project: nothing pending, nothing to report" 0 "0 scripts" "0 errors" \
    "5 applied migrations not linted"
# --all lints the applied up scripts too, against today's catalog: 4_index_orders_by_customer builds an index
# on orders, which exists now (the one finding); the down scripts drop what their own up scripts created.
run lint --all --dir "$demo" -d "dbname=$db"
expect "lint --all: only the applied up script's finding" 14 "10 scripts" "1 error," \
    "4_index_orders_by_customer.sql:3:1: error [create-index-not-concurrently]"
if [ "$rc" -ne 14 ] || grep -qE "(error|warning) \[drop-" <<<"$out"; then fail "lint --all: no finding in down scripts" "$out"; else pass "lint --all: no finding in down scripts"; fi

# pgmig generate writes a migration (a new table, a new column); linted pending, applied, then with --all.
schema="$work/lint_pending/schema"
mkdir -p "$schema"
for f in "$demo"/*.sql; do sed -n '/^-- pgmig:up/,/^-- pgmig:down/p' "$f" | grep -v '^-- pgmig:'; done >"$schema/1_all.sql"
cat >>"$schema/1_all.sql" <<'SQL'
CREATE TABLE IF NOT EXISTS coupons (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, code text NOT NULL);
ALTER TABLE customers ADD COLUMN phone text;
SQL
chmod -R a+rX "$schema"
run generate coupons --schema "$schema" --dir "$demo" -d "dbname=$db"
expect "pgmig generate writes the migration" 0
chmod -R a+rX "$demo"
run lint --dir "$demo" -d "dbname=$db"
expect "the generated migration's up script is linted (pending)" 0 "1 script of" "0 errors"
run apply --dir "$demo" -d "dbname=$db"
expect "the generated migration applies" 0 "applied"
run lint --all --dir "$demo" -d "dbname=$db"
expect "lint --all on the generated migration: its down drops its own table and column" 14 "12 scripts" "1 error," \
    "create-index-not-concurrently"
if [ "$rc" -ne 14 ] || grep -qE "(error|warning) \[drop-" <<<"$out"; then fail "lint --all: the generated down script has no finding" "$out"; else pass "lint --all: the generated down script has no finding"; fi

# A pending migration: its up script is linted with the file's lines; its down script only with --all, where
# DROP COLUMN of the column its up adds is fine, and DROP TABLE of a table it did not create is an error.
cat >"$demo/99_customer_note.sql" <<'SQL'
-- A note on customers.
-- pgmig:up
ALTER TABLE customers ADD COLUMN note text;
ALTER TABLE customers DROP COLUMN name;
-- pgmig:down
ALTER TABLE customers ADD COLUMN name text;
ALTER TABLE customers DROP COLUMN note;
DROP TABLE products;
SQL
chmod a+r "$demo/99_customer_note.sql"
run lint --dir "$demo" -d "dbname=$db"
expect "a pending up script is linted, with the file's line" 14 "99_customer_note.sql:4:1: error [drop-column]" \
    "1 script of" "6 applied migrations not linted"
if grep -q "99_customer_note.sql:[678]:" <<<"$out"; then fail "no down script by default" "$out"; else pass "no down script by default"; fi
run lint --all --dir "$demo" -d "dbname=$db"
expect "--all: a down that drops what its up did not create is reported" 14 \
    "99_customer_note.sql:8:1: error [drop-table] DROP TABLE public.products"
if [ "$rc" -ne 14 ] || grep -q "99_customer_note.sql:7:" <<<"$out"; then
    fail "--all: DROP COLUMN of the column its up adds is no finding" "$out"
else
    pass "--all: DROP COLUMN of the column its up adds is no finding"
fi
# FILES: the files given are linted whole, their down scripts as down scripts.
run lint "$demo/1_create_customers.sql" -d "dbname=$db"
expect "a file given: up and down scripts, the down dropping its own table" 0 "2 scripts of 1 file" "0 errors"
run lint --all "$demo/1_create_customers.sql" -d "dbname=$db"
expect "--all with FILES is a usage error" 2 "--all"
