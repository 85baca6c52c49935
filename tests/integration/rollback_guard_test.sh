# Guarded rollbacks: pgmig rollback --dry-run rehearses the down scripts (nothing persists) and prints their
# statements and what they drop, with rows; a rollback whose down scripts drop a table, a column or a schema
# that holds rows needs --yes outside a terminal (exit 56, listing it), and a terminal shows the plan and asks
# y/N. A rollback that drops no data runs as before. Sourced by run.sh (see lib.sh for the helpers).

rg_applied() { sql "$1" "SELECT count(*) FROM pgmig.migrations WHERE applied_at IS NOT NULL"; }
rg_check() {  # NAME GOT WANT
    if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "got '$2', expected '$3'"; fi
}

rg_dir="$work/rollback_guard"
mig "$rg_dir" 1_orders.sql "CREATE SCHEMA app; CREATE TABLE app.orders (id int PRIMARY KEY);" "DROP SCHEMA app CASCADE;"
mig "$rg_dir" 2_note.sql "ALTER TABLE app.orders ADD COLUMN note text;" "ALTER TABLE app.orders DROP COLUMN note;"
mig "$rg_dir" 3_idx.sql "CREATE INDEX orders_note_idx ON app.orders (note);" "DROP INDEX app.orders_note_idx;"
chmod -R a+rX "$rg_dir"

newdb rgdb
run apply --dir "$rg_dir" -d "dbname=$rgdb"
expect "setup: apply" 0 "applied 3_idx"
sql "$rgdb" "INSERT INTO app.orders SELECT g, 'n' || g FROM generate_series(1, 3) g" >/dev/null

# --dry-run: the statements, what they drop with rows, the locks; nothing rolled back.
run rollback --dry-run --to 0 -d "dbname=$rgdb" </dev/null
expect "rollback --dry-run shows statements, drops with rows and locks" 0 "DROP SCHEMA app CASCADE" \
    "ALTER TABLE app.orders DROP COLUMN note" "column app.orders.note (3 rows)" "table app.orders (3 rows)" \
    "schema app (3 rows)" "AccessExclusiveLock" "dry run: nothing was rolled back"
rg_check "... nothing was rolled back" "$(rg_applied "$rgdb") $(sql "$rgdb" "SELECT count(note) FROM app.orders")" "3 3"

# A down script that drops no data rolls back without --yes, as before.
run rollback -d "dbname=$rgdb" </dev/null
expect "a rollback that drops no data needs no --yes" 0 "rolled back 3_idx"

# Dropping a column with rows, without a terminal: refused (exit 56), naming it; nothing rolled back.
run rollback -d "dbname=$rgdb" </dev/null
expect "a rollback that drops a column with rows is refused without --yes (exit 56)" 56 \
    "column app.orders.note (3 rows)" "--yes" "nothing was rolled back"
rg_check "... nothing was rolled back" "$(rg_applied "$rgdb")" "2"
run rollback --yes -d "dbname=$rgdb" </dev/null
expect "rollback --yes drops it" 0 "rolled back 2_note"

# On a terminal: the plan, then y/N; anything but y refuses.
term=$(on_terminal '[y/N]' n rollback -d "dbname=$rgdb")
if grep -q "asked=True" <<<"$term" && grep -q "DROP SCHEMA app CASCADE" <<<"$term" &&
    grep -q "table app.orders (3 rows)" <<<"$term" && grep -q "exit=56" <<<"$term"; then
    pass "on a terminal, rollback shows the plan and asks; n refuses"
else
    fail "on a terminal, rollback shows the plan and asks; n refuses" "$(head -c 800 <<<"$term")"
fi
rg_check "... nothing was rolled back" "$(rg_applied "$rgdb")" "1"
term=$(on_terminal '[y/N]' y rollback -d "dbname=$rgdb")
if grep -q "asked=True" <<<"$term" && grep -q "rolled back 1_orders" <<<"$term" && grep -q "exit=0" <<<"$term"; then
    pass "on a terminal, y rolls back"
else
    fail "on a terminal, y rolls back" "$(head -c 800 <<<"$term")"
fi
rg_check "... the schema is gone" "$(sql "$rgdb" "SELECT to_regnamespace('app') IS NULL")" "t"

# Empty tables: nothing to lose, no --yes needed.
run apply --dir "$rg_dir" -d "dbname=$rgdb"
run rollback --to 0 -d "dbname=$rgdb" </dev/null
expect "a rollback that drops only empty tables needs no --yes" 0 "rolled back 1_orders"

# A non-transactional down script cannot be rehearsed: a DROP TABLE in it needs --yes (rows unknown).
rg_nt="$work/rollback_guard_nontx"
mig "$rg_nt" 1_t.sql "CREATE TABLE nt (id int);" "DROP TABLE nt;"
{ echo "-- pgmig:no-transaction"; echo "-- pgmig:up"; echo "CREATE INDEX CONCURRENTLY IF NOT EXISTS nt_idx ON nt (id);"
  echo "-- pgmig:down"; echo "DROP TABLE IF EXISTS nt_copy; DROP INDEX CONCURRENTLY IF EXISTS nt_idx;"; } >"$rg_nt/2_idx.sql"
chmod -R a+rX "$rg_nt"
newdb rgnt
run apply --dir "$rg_nt" -d "dbname=$rgnt"
expect "setup: apply non-transactional" 0 "2_idx"
run rollback -d "dbname=$rgnt" </dev/null
expect "a non-transactional down script with DROP TABLE needs --yes (exit 56)" 56 "rows unknown" "--yes"
run rollback --yes -d "dbname=$rgnt" </dev/null
expect "... with --yes it rolls back" 0 "rolled back 2_idx"
