# A NOT NULL column added to an existing table by pgmig diff / generate: the column exists before anything
# that references it; with a default it is one ADD COLUMN ... DEFAULT ... NOT NULL; without one, on a table
# with rows, its NOT NULL is withheld (exit 60) with the table's row count and what to write, unless
# --backfill gives the expression; on an empty table it is a plain ADD COLUMN ... NOT NULL.
# Sourced by run.sh (see lib.sh).

nn="$work/notnull"
mkdir -p "$nn"
chmod 755 "$nn"
nn_fp() { sql "$1" "SELECT migrate_fingerprint()"; }
nn_check() { if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "got '$2', expected '$3'"; fi; }
# nn_before OUT FIRST SECOND: passes when FIRST occurs in OUT on a line before the first line holding SECOND.
nn_before() {
    local a b
    a=$(grep -nF -- "$2" <<<"$out" | head -1 | cut -d: -f1)
    b=$(grep -nF -- "$3" <<<"$out" | head -1 | cut -d: -f1)
    if [ -n "$a" ] && [ -n "$b" ] && [ "$a" -lt "$b" ]; then
        pass "$1"
    else
        fail "$1" "'$2' (line ${a:-none}) is not before '$3' (line ${b:-none}): $(head -c 800 <<<"$out")"
    fi
}
# nn_target DB MIGS SQL: the target: SQL run, then recorded as migration 1 (a ledger whose expected schema is it).
nn_target() {
    sql "$1" "$3" >/dev/null
    mig "$2" 1_schema.sql "SELECT 1;"
    run baseline 1 --force --dir "$2" -d "dbname=$1"
}

# --- the target: customers (uuid keys) and orders with rows, tags empty ------------------------------
target_sql="CREATE TABLE customers (id uuid PRIMARY KEY);
CREATE TABLE orders (id bigint PRIMARY KEY, total numeric);
CREATE TABLE tags (id int PRIMARY KEY);
INSERT INTO customers VALUES ('00000000-0000-0000-0000-000000000001'), ('00000000-0000-0000-0000-000000000002');
INSERT INTO orders VALUES (1, 10), (2, 20), (3, 30);"

# --- without a default on a table with rows: the NOT NULL is withheld, exit 60 -----------------------
newdb nn_a
newdb nn_want
nn_target "$nn_a" "$nn/a_migs" "$target_sql"
sql "$nn_want" "CREATE TABLE customers (id uuid PRIMARY KEY);
CREATE TABLE orders (id bigint PRIMARY KEY, total numeric, note text NOT NULL,
                     customer_id uuid NOT NULL REFERENCES customers, comment text);
CREATE INDEX orders_customer ON orders (customer_id);
CREATE TABLE tags (id int PRIMARY KEY)" >/dev/null
run diff -d "dbname=$nn_a" --to "dbname=$nn_want"
expect "no default on a table with rows: withheld, exit 60, with the table and its row count" 60 \
    "public.orders" "3 rows" "note" "customer_id" "--backfill" "default"
if grep -q "c_not_null\|note_not_null\|SET NOT NULL" <<<"$out"; then
    fail "the withheld NOT NULL is not in the SQL printed" "$out"
else
    pass "the withheld NOT NULL is not in the SQL printed"
fi
nn_before "the new columns are added (nullable) before anything that references them" \
    "ADD COLUMN customer_id uuid;" "REFERENCES"
nn_before "the index on the new column comes after the column" "ADD COLUMN customer_id uuid;" "orders_customer"
run diff -d "dbname=$nn_a" --to "dbname=$nn_want" --allow-destructive
expect "--allow-destructive does not release a withheld NOT NULL (exit 60)" 60 "--backfill"

before=$(nn_fp "$nn_a")
run generate add_columns --dir "$nn/a_migs" -d "dbname=$nn_a" --to "dbname=$nn_want"
expect "generate: exit 60, the rest written, the error kind named" 60 \
    "a NOT NULL column needs a default or --backfill" "public.orders"
nn_check "generate changes nothing in the database" "$(nn_fp "$nn_a")" "$before"
if ls "$nn/a_migs" | grep -q "add_columns.sql"; then pass "generate wrote the other steps"; else fail "generate wrote the other steps" "$(ls "$nn/a_migs")"; fi
run apply --dir "$nn/a_migs" -d "dbname=$nn_a"
expect "the written migration applies (the columns nullable, their FK and index)" 0 "add_columns"
nn_check "the columns exist, nullable" \
    "$(sql "$nn_a" "SELECT string_agg(attname || ':' || attnotnull, ',' ORDER BY attnum) FROM pg_attribute WHERE attrelid = 'orders'::regclass AND attnum > 0")" \
    "id:true,total:false,note:false,customer_id:false,comment:false"
run rollback --to 1 --yes -d "dbname=$nn_a"
expect "it rolls back" 0
nn_check "the rollback restores the schema" "$(nn_fp "$nn_a")" "$before"
rm -f "$nn"/a_migs/*add_columns*

# --- --backfill: ADD COLUMN, UPDATE, then CHECK NOT VALID / VALIDATE / SET NOT NULL ----------------
run diff -d "dbname=$nn_a" --to "dbname=$nn_want" \
    --backfill "public.orders.customer_id='00000000-0000-0000-0000-000000000001'" --backfill "orders.note='order ' || id"
expect "--backfill for both columns: exit 0" 0 "UPDATE public.orders SET note" "WHERE note IS NULL" "SET NOT NULL"
nn_before "--backfill: the column is added before its UPDATE" "ADD COLUMN note text;" "UPDATE public.orders SET note"
nn_before "--backfill: the UPDATE comes before the NOT NULL check is validated" "UPDATE public.orders SET note" \
    "VALIDATE CONSTRAINT note_not_null"
run diff -d "dbname=$nn_a" --to "dbname=$nn_want" --backfill "orders.note='x'"
expect "--backfill for one of two columns: the other is still withheld (exit 60)" 60 "customer_id" "3 rows"
run generate backfill --dir "$nn/a_migs" -d "dbname=$nn_a" --to "dbname=$nn_want" \
    --backfill "public.orders.customer_id='00000000-0000-0000-0000-000000000001'" --backfill "orders.note='order ' || id"
expect "generate --backfill writes the migrations" 0 "backfill"
run apply --dir "$nn/a_migs" -d "dbname=$nn_a"
expect "the --backfill migrations apply" 0 "backfill"
nn_check "after --backfill the target has the desired fingerprint" "$(nn_fp "$nn_a")" "$(nn_fp "$nn_want")"
nn_check "the rows were backfilled with the expression" \
    "$(sql "$nn_a" "SELECT string_agg(note || '/' || customer_id, ',' ORDER BY id) FROM orders")" \
    "order 1/00000000-0000-0000-0000-000000000001,order 2/00000000-0000-0000-0000-000000000001,order 3/00000000-0000-0000-0000-000000000001"
nn_check "no helper check constraint is left behind" \
    "$(sql "$nn_a" "SELECT count(*) FROM pg_constraint WHERE conrelid = 'orders'::regclass AND contype = 'c'")" "0"
run rollback --to 1 --yes -d "dbname=$nn_a"
expect "the --backfill migrations roll back" 0
nn_check "the rollback of --backfill restores the schema" "$(nn_fp "$nn_a")" "$before"
rm -f "$nn"/a_migs/*backfill*
run diff -d "dbname=$nn_a" --to "dbname=$nn_want" --backfill "orders.nosuch=1" --backfill "orders.note='x'" \
    --backfill "orders.customer_id='00000000-0000-0000-0000-000000000001'"
expect "a --backfill that matches no added NOT NULL column is named as unused" 0 "orders.nosuch"
run diff -d "dbname=$nn_a" --to "dbname=$nn_want" --backfill "orders.note"
expect "a --backfill without '=' is a usage error" 2 "--backfill"

# --- with a default: one ADD COLUMN ... DEFAULT ... NOT NULL ----------------------------------------
newdb nn_def
sql "$nn_def" "CREATE TABLE customers (id uuid PRIMARY KEY);
CREATE TABLE orders (id bigint PRIMARY KEY, total numeric, status text NOT NULL DEFAULT 'new',
                     token uuid NOT NULL DEFAULT gen_random_uuid());
CREATE TABLE tags (id int PRIMARY KEY)" >/dev/null
run diff -d "dbname=$nn_a" --to "dbname=$nn_def"
expect "a default: one statement, exit 0" 0 "ADD COLUMN status text DEFAULT 'new'::text NOT NULL;"
if grep -q "status_not_null\|ALTER COLUMN status SET NOT NULL" <<<"$out"; then
    fail "a default needs no CHECK / SET NOT NULL" "$out"
else
    pass "a default needs no CHECK / SET NOT NULL"
fi
expect "a volatile default is added with a warning that it rewrites the table" 0 \
    "ADD COLUMN token uuid DEFAULT gen_random_uuid() NOT NULL;" "rewrites"
# (each scenario that applies gets a target of its own: a rolled-back migration stays registered)
newdb nn_b
nn_target "$nn_b" "$nn/b_migs" "$target_sql"
run generate defaults --dir "$nn/b_migs" -d "dbname=$nn_b" --to "dbname=$nn_def"
expect "generate with defaults" 0 "defaults"
run apply --dir "$nn/b_migs" -d "dbname=$nn_b"
expect "the migration with defaults applies on a table with rows" 0 "defaults"
nn_check "the rows got the default" "$(sql "$nn_b" "SELECT count(*) FROM orders WHERE status = 'new' AND token IS NOT NULL")" "3"
run rollback --to 1 --yes -d "dbname=$nn_b"
expect "the migration with defaults rolls back" 0

# --- an empty table: plain ADD COLUMN ... NOT NULL --------------------------------------------------
newdb nn_empty
sql "$nn_empty" "CREATE TABLE customers (id uuid PRIMARY KEY);
CREATE TABLE orders (id bigint PRIMARY KEY, total numeric);
CREATE TABLE tags (id int PRIMARY KEY, label text NOT NULL, owner_id uuid NOT NULL REFERENCES customers);
CREATE INDEX tags_owner ON tags (owner_id)" >/dev/null
run diff -d "dbname=$nn_a" --to "dbname=$nn_empty"
expect "an empty table: plain ADD COLUMN ... NOT NULL, exit 0" 0 \
    "ADD COLUMN label text NOT NULL;" "ADD COLUMN owner_id uuid NOT NULL;"
nn_before "an empty table: the column is added before its FK" "ADD COLUMN owner_id uuid NOT NULL;" "REFERENCES"
newdb nn_c
nn_target "$nn_c" "$nn/c_migs" "$target_sql"
run generate empty_table --dir "$nn/c_migs" -d "dbname=$nn_c" --to "dbname=$nn_empty"
expect "generate for an empty table" 0 "empty_table"
run apply --dir "$nn/c_migs" -d "dbname=$nn_c"
expect "the migration for an empty table applies" 0 "empty_table"
nn_check "after the empty-table migration the target has the desired fingerprint" "$(nn_fp "$nn_c")" "$(nn_fp "$nn_empty")"
run rollback --to 1 --yes -d "dbname=$nn_c"
expect "the empty-table migration rolls back" 0

# --- a new table: its NOT NULL columns in CREATE TABLE, nothing withheld ------------------------------
newdb nn_new
sql "$nn_new" "CREATE TABLE customers (id uuid PRIMARY KEY);
CREATE TABLE orders (id bigint PRIMARY KEY, total numeric);
CREATE TABLE tags (id int PRIMARY KEY);
CREATE TABLE invoices (id bigint PRIMARY KEY, customer_id uuid NOT NULL REFERENCES customers, amount numeric NOT NULL)" >/dev/null
run diff -d "dbname=$nn_a" --to "dbname=$nn_new"
expect "a new table: exit 0, NOT NULL inside CREATE TABLE" 0 "customer_id uuid NOT NULL"

# --- a role that may not read the table: its rows are unknown, the NOT NULL withheld with that reason -
sql postgres "DROP ROLE IF EXISTS it_nn_reader; CREATE ROLE it_nn_reader LOGIN IN ROLE pgmig_reader" >/dev/null
sql "$nn_a" "GRANT SELECT ON customers TO it_nn_reader" >/dev/null
run diff -d "dbname=$nn_a user=it_nn_reader" --to "dbname=$nn_empty"
expect "no SELECT on the table: withheld as unknown rows (exit 60)" 60 "public.tags" "cannot count"
sql "$nn_a" "REVOKE ALL ON customers FROM it_nn_reader" >/dev/null
sql postgres "DROP ROLE it_nn_reader" >/dev/null

# --- a table whose name needs quoting and a search_path that would find another table --------------
newdb nn_q
newdb nn_qwant
sql "$nn_q" "CREATE SCHEMA app; CREATE TABLE app.\"Line Items\" (id int PRIMARY KEY);
INSERT INTO app.\"Line Items\" VALUES (1);
CREATE TABLE public.\"Line Items\" (id int PRIMARY KEY)" >/dev/null
sql "$nn_q" "ALTER DATABASE $nn_q SET search_path = public" >/dev/null
sql "$nn_qwant" "CREATE SCHEMA app; CREATE TABLE app.\"Line Items\" (id int PRIMARY KEY, sku text NOT NULL);
CREATE TABLE public.\"Line Items\" (id int PRIMARY KEY)" >/dev/null
run diff -d "dbname=$nn_q" --to "dbname=$nn_qwant"
expect "the rows of app.\"Line Items\" are counted there, not in the search_path's table" 60 \
    'app."Line Items"' "1 row"
