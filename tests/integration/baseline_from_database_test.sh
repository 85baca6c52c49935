# pgmig baseline --from-database NAME: a database with a live schema and no migration history gets one
# migration file that recreates its schema (the diff engine, from an empty shadow database), checked in a
# fresh shadow database against the database's fingerprint, then registered and marked applied in one
# transaction. Refused: a database that has a history already, migrations at or before the new version, an
# empty database, and a schema the written file cannot rebuild (real gaps of the diff engine: a partition's
# own column default, a comment on a composite type's column, a constraint trigger), which leave nothing
# registered and the draft as <file>.rejected. Sourced by run.sh (see lib.sh for the helpers).

bl_fp() { sql "$1" "SELECT migrate_fingerprint()"; }
bl_shadows() { sql postgres "SELECT count(*) FROM pg_database WHERE datname LIKE 'pgmig_shadow_%'"; }
bl_check() {  # NAME GOT WANT
    if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "got '$2', expected '$3'"; fi
}
bl_sqlfiles() { find "$1" -maxdepth 1 -name '*.sql' 2>/dev/null | wc -l | tr -d ' '; }

bl_root="$work/baseline_from_db"
mkdir -p "$bl_root" && chmod 755 "$bl_root"

run baseline --help
expect "baseline --help names --from-database, --version and --force" 0 "--from-database" "--version" "--force"

# --- a live schema with every kind of object the diff engine writes -------------------------------------
newdb blsrc
sql "$blsrc" "
CREATE TYPE order_state AS ENUM ('new', 'paid', 'shipped');
COMMENT ON TYPE order_state IS 'where an order is';
CREATE SEQUENCE invoice_no START 1000 INCREMENT 10;
CREATE SCHEMA billing;
CREATE TABLE customers (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, email text NOT NULL UNIQUE,
                        created_at timestamptz NOT NULL DEFAULT now());
COMMENT ON TABLE customers IS 'people who buy';
COMMENT ON COLUMN customers.email IS 'login, unique';
CREATE TABLE orders (id bigserial PRIMARY KEY, customer_id bigint NOT NULL REFERENCES customers ON DELETE CASCADE,
                     state order_state NOT NULL DEFAULT 'new', total numeric(10,2) CHECK (total >= 0));
CREATE INDEX orders_customer ON orders (customer_id);
CREATE INDEX orders_open ON orders (state) WHERE state <> 'shipped';
CREATE TABLE billing.invoices (no bigint PRIMARY KEY DEFAULT nextval('invoice_no'), order_id bigint NOT NULL REFERENCES orders);
CREATE FUNCTION order_total(c bigint) RETURNS numeric LANGUAGE sql STABLE
    AS \$\$ SELECT coalesce(sum(total), 0) FROM public.orders WHERE customer_id = c \$\$;
COMMENT ON FUNCTION order_total(bigint) IS 'what a customer spent';
CREATE VIEW customer_totals AS SELECT c.id, c.email, order_total(c.id) AS spent FROM customers c;
CREATE FUNCTION orders_guard() RETURNS trigger LANGUAGE plpgsql AS \$\$ BEGIN RETURN NEW; END \$\$;
CREATE TRIGGER orders_guard BEFORE UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION orders_guard();
INSERT INTO customers (email) VALUES ('a@example.com'), ('b@example.com');
INSERT INTO orders (customer_id, total) SELECT id, 10 FROM customers;
" >/dev/null
bl_before=$(bl_fp "$blsrc")
bl_dir="$bl_root/migrations"  # does not exist yet: the command makes it

run baseline --from-database baseline --dir "$bl_dir" -d "dbname=$blsrc"
expect "baseline --from-database writes, checks and baselines" 0 "_baseline.sql" "fingerprint" "baselined" \
    "not carried"
bl_file=$(find "$bl_dir" -maxdepth 1 -name '*_baseline.sql' | head -1)
if [ -n "$bl_file" ] && grep -q '^-- pgmig:up' "$bl_file" && grep -q '^-- pgmig:down' "$bl_file" &&
    grep -q 'CREATE TABLE public.orders' "$bl_file" && grep -q 'CREATE VIEW public.customer_totals' "$bl_file"; then
    pass "the baseline file exists with up and down sections"
else
    fail "the baseline file exists with up and down sections" "$(ls -la "$bl_dir" 2>&1; head -c 400 "$bl_file" 2>&1)"
fi
bl_version=$(basename "$bl_file" | cut -d_ -f1)
if [[ "$bl_version" =~ ^20[0-9]{12}$ ]]; then pass "the version is a UTC timestamp, as pgmig new writes"; else
    fail "the version is a UTC timestamp, as pgmig new writes" "$bl_version"; fi
if grep -qF "$bl_before" <<<"$out"; then pass "the output names the fingerprint the check compared"; else
    fail "the output names the fingerprint the check compared" "$out"; fi
bl_check "baselining ran nothing: the schema is unchanged" "$(bl_fp "$blsrc")" "$bl_before"
bl_check "baselining ran nothing: the data is there" "$(sql "$blsrc" "SELECT count(*) FROM orders")" "2"
bl_check "the migration is marked applied by a baseline" \
    "$(sql "$blsrc" "SELECT m.version || ' ' || (m.applied_at IS NOT NULL) || ' ' || h.action FROM pgmig.migrations m JOIN pgmig.history h USING (version)")" \
    "$bl_version true baseline"
run status --dir "$bl_dir" -d "dbname=$blsrc"
expect "status shows the baseline applied" 0 "$bl_version" "baseline" "applied"
run drift -d "dbname=$blsrc"
expect "no drift after the baseline" 0 "no drift"
bl_check "no shadow database is left behind" "$(bl_shadows)" "0"

# The file builds the same schema on an empty database.
newdb blcopy
run apply --dir "$bl_dir" -d "dbname=$blcopy"
expect "the baseline file applies to an empty database" 0 "applied ${bl_version}_baseline"
bl_check "... and gives the source's fingerprint" "$(bl_fp "$blcopy")" "$bl_before"

# A new migration applies on top.
mig "$bl_dir" 29990101000000_add_phone.sql "ALTER TABLE customers ADD COLUMN phone text;" \
    "ALTER TABLE customers DROP COLUMN phone;"
run apply --dir "$bl_dir" -d "dbname=$blsrc"
expect "a new migration applies on top of the baseline" 0 "applied 29990101000000_add_phone" "1 applied"

# A history exists now: refused, with the next step; nothing written.
bl_count=$(bl_sqlfiles "$bl_dir")
run baseline --from-database again --dir "$bl_dir" -d "dbname=$blsrc"
expect "refused when the ledger has applied migrations (exit 49)" 49 "applied" "pgmig status"
bl_check "the refusal writes no file" "$(bl_sqlfiles "$bl_dir")" "$bl_count"

# --version V; a file of the folder at or before it is refused (it would be marked applied unrun).
newdb blver
sql "$blver" "CREATE TABLE t (id int PRIMARY KEY)" >/dev/null
bl_vdir="$bl_root/versioned"
mig "$bl_vdir" 3_later.sql "CREATE TABLE u (id int);" "DROP TABLE u;"
run baseline --from-database base --version 5 --dir "$bl_vdir" -d "dbname=$blver"
expect "a file at or before the new version is refused (exit 49)" 49 "3_later" "nothing"
bl_check "... and nothing is registered" "$(ledger_count "$blver")" "0"
rm -f "$bl_vdir/3_later.sql"
mig "$bl_vdir" 7_after.sql "CREATE TABLE u (id int);" "DROP TABLE u;"
run baseline --from-database base --version 5 --dir "$bl_vdir" -d "dbname=$blver"
expect "--version 5 names the file 5_base.sql" 0 "5_base.sql" "baselined 5_base"
run apply --dir "$bl_vdir" -d "dbname=$blver"
expect "a later file applies after it" 0 "applied 7_after"
run baseline --from-database bad --version 1.x --dir "$bl_vdir" -d "dbname=$blver"
expect "a bad --version is a usage error" 2 "1.x"

# An empty database: nothing to baseline.
newdb blempty
run baseline --from-database base --dir "$bl_root/empty" -d "dbname=$blempty"
expect "an empty database is refused (exit 49)" 49 "nothing to baseline"
bl_check "... and no file is written" "$(bl_sqlfiles "$bl_root/empty")" "0"

# --- the written file cannot rebuild the schema: refused, nothing registered -------------------------------
# Real gaps of the diff engine (if it learns them, pick another): a view column's default and a comment on a
# column of a composite type are not written, so the shadow's fingerprint differs.
newdb blgap
sql "$blgap" "
CREATE TABLE events (id int, at date);
CREATE VIEW recent_events AS SELECT id, at FROM events;
ALTER VIEW recent_events ALTER COLUMN id SET DEFAULT 7;
CREATE TYPE pair AS (a int, b int);
COMMENT ON COLUMN pair.a IS 'the first';
CREATE TABLE plain (id int PRIMARY KEY);
" >/dev/null
bl_gapdir="$bl_root/gap"
run baseline --from-database baseline --dir "$bl_gapdir" -d "dbname=$blgap"
expect "a file that cannot rebuild the schema is refused (exit 49)" 49 \
    "view public.recent_events" "composite type public.pair" "not registered"
bl_check "... nothing is registered" "$(ledger_count "$blgap")" "0"
bl_check "... no migration file is left in the folder" "$(bl_sqlfiles "$bl_gapdir")" "0"
if ls "$bl_gapdir"/*_baseline.sql.rejected >/dev/null 2>&1 && grep -q "$(basename "$(ls "$bl_gapdir"/*.rejected)")" <<<"$err"; then
    pass "... the draft is kept as .sql.rejected and named"
else
    fail "... the draft is kept as .sql.rejected and named" "$(ls -la "$bl_gapdir" 2>&1) $err"
fi
if grep -q "default" <<<"$err"; then pass "... the message says what differs (the column default)"; else
    fail "... the message says what differs (the column default)" "$err"; fi
bl_check "... no shadow database is left behind" "$(bl_shadows)" "0"

# A file that does not even load (a constraint trigger is written as a table constraint).
newdb blnoload
sql "$blnoload" "
CREATE TABLE t (a int);
CREATE FUNCTION t_check() RETURNS trigger LANGUAGE plpgsql AS \$\$ BEGIN RETURN NULL; END \$\$;
CREATE CONSTRAINT TRIGGER t_later AFTER INSERT ON t DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION t_check();
" >/dev/null
run baseline --from-database baseline --dir "$bl_root/noload" -d "dbname=$blnoload"
expect "a file that fails in the shadow database is refused (exit 49)" 49 "shadow" "line" "not registered"
bl_check "... nothing is registered" "$(ledger_count "$blnoload")" "0"
bl_check "... no migration file is left in the folder" "$(bl_sqlfiles "$bl_root/noload")" "0"
bl_check "... no shadow database is left behind" "$(bl_shadows)" "0"

# --- checking the file runs none of the database's code with the rights of whoever runs pgmig -------------
# A role that may create a function and a materialized view in the database: populating the view in the shadow
# database would run its function as the role running pgmig (here a superuser). The shadow creates
# materialized views WITH NO DATA.
sql postgres "DROP ROLE IF EXISTS bl_mallory; CREATE ROLE bl_mallory NOLOGIN" >/dev/null
newdb blmv
sql "$blmv" "
CREATE SCHEMA app AUTHORIZATION bl_mallory;
SET ROLE bl_mallory;
CREATE FUNCTION app.promote() RETURNS int LANGUAGE plpgsql AS \$\$
BEGIN
    IF current_database() LIKE 'pgmig\\_shadow\\_%' THEN EXECUTE 'ALTER ROLE bl_mallory SUPERUSER'; END IF;
    RETURN 1;
END \$\$;
CREATE TABLE app.items (id int);
CREATE MATERIALIZED VIEW app.items_count AS SELECT count(*) AS n, app.promote() AS p FROM app.items;
RESET ROLE;
" >/dev/null
run baseline --from-database baseline --dir "$bl_root/matview" -d "dbname=$blmv"
expect "a schema with a materialized view is baselined" 0 "baselined"
bl_check "checking it did not run the materialized view's function as the superuser" \
    "$(sql postgres "SELECT rolsuper FROM pg_roles WHERE rolname = 'bl_mallory'")" "f"
if grep -q "CREATE MATERIALIZED VIEW app.items_count" "$bl_root"/matview/*_baseline.sql &&
    ! grep -q "WITH NO DATA" "$bl_root"/matview/*_baseline.sql; then
    pass "the file itself creates the materialized view as the diff engine writes it"
else
    fail "the file itself creates the materialized view as the diff engine writes it" "$(grep -n MATERIALIZED "$bl_root"/matview/*.sql)"
fi
sql "$blmv" "DROP SCHEMA app CASCADE" >/dev/null
sql postgres "DROP ROLE bl_mallory" >/dev/null
