# pgmig adopt from dbmate, with dbmate itself (npm, scripts/install-adoption-tools): dbmate migrates a
# database from tests/adoption/dbmate-real, pgmig adopt takes its schema_migrations over, status shows
# every migration applied and a new dbmate-format migration applies on top. dbmate has no failed or dirty
# state (each migration runs in a transaction and leaves no row when it fails): a real failure leaves the
# failed migration pending. Sourced by run.sh.
. "$here/adopt_lib.sh"

if adopt_need dbmate; then
adm="$work/adopt_dbmate"
cp -r "$root/tests/adoption/dbmate-real" "$adm"
adm_migs="$adm/db/migrations"
adm_dbmate() {  # DB: dbmate up on that database
    tool_run dbmate "$adopt_tools/dbmate" --url "postgres://$PGUSER@/$1?socket=$PGHOST&port=$PGPORT&sslmode=disable" \
        --migrations-dir "$adm_migs" --no-dump-schema up
}
adm_files='[{"version": "20240101100000", "tool_id": "20240101100000"}, {"version": "20240102100000", "tool_id": "20240102100000"},
            {"version": "20240103100000", "tool_id": "20240103100000"}, {"version": "20240104100000", "tool_id": "20240104100000"}]'

newdb adm_db
adm_dbmate "$adm_db"
expect "dbmate migrates the database" 0 "Applied: 20240103100000_index_orders.sql"
# The table dbmate wrote, as migrate_adopt reads it (files as the dbmate reader names them).
expect_value "migrate_adopt reads dbmate's schema_migrations" "$(adopt_states "$adm_db" dbmate "$adm_files")" \
    "20240101100000:adopt 20240102100000:adopt 20240103100000:adopt 20240104100000:pending"
# A migration written after the switch, in dbmate's format, for pgmig to apply.
printf -- '-- migrate:up\nALTER TABLE orders ADD COLUMN total numeric;\n\n-- migrate:down\nALTER TABLE orders DROP COLUMN total;\n' \
    >"$adm_migs/20240104100000_add_total.sql"
run adopt --yes --from dbmate --dir "$adm_migs" -d "dbname=$adm_db"
expect "pgmig adopt takes over dbmate's history" 0 "adopted 3 migrations from dbmate's history" "1 pending"
run status --dir "$adm_migs" -d "dbname=$adm_db"
expect "status: dbmate's migrations applied" 0 "3 applied, 1 pending"
run apply --dir "$adm_migs" -d "dbname=$adm_db"
expect "a new migration applies on top" 0 "1 applied"
run status --dir "$adm_migs" -d "dbname=$adm_db"
if grep -q "4 applied, 0 pending" <<<"$out"; then pass "dbmate: every migration applied"; else fail "dbmate: status after apply" "$out"; fi

# A migration that fails for real: dbmate stops, records nothing of it; it stays pending after adoption.
rm "$adm_migs/20240104100000_add_total.sql"
printf -- '-- migrate:up\nALTER TABLE orders ADD COLUMN total numeric;\nALTER TABLE no_such_table ADD COLUMN x int;\n\n-- migrate:down\nALTER TABLE orders DROP COLUMN total;\n' \
    >"$adm_migs/20240104100000_add_total.sql"
newdb adm_fail
adm_dbmate "$adm_fail"
if [ "$rc" -ne 0 ] && grep -q "no_such_table" <<<"$out"; then pass "dbmate fails the broken migration"; else fail "dbmate failure" "rc $rc: $out"; fi
expect_value "migrate_adopt after dbmate's failure" "$(adopt_states "$adm_fail" dbmate "$adm_files")" \
    "20240101100000:adopt 20240102100000:adopt 20240103100000:adopt 20240104100000:pending"
run adopt --yes --from dbmate --dir "$adm_migs" -d "dbname=$adm_fail"
expect "adopt after a failed dbmate run: the failed one stays pending" 0 "adopted 3 migrations" "1 pending"
fi
