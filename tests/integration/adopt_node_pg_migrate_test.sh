# pgmig adopt from node-pg-migrate, with node-pg-migrate itself (npm): it migrates a database from the SQL
# migrations of tests/adoption/node-pg-migrate-real, pgmig adopt takes its pgmigrations over (matched by
# file name without extension), status shows every migration applied and a new one applies on top.
# node-pg-migrate has no failed state (a failed run leaves no row): a real failure stays pending.
# Sourced by run.sh.
. "$here/adopt_lib.sh"

if adopt_need node-pg-migrate; then
anp="$work/adopt_node_pg_migrate"
cp -r "$root/tests/adoption/node-pg-migrate-real" "$anp"
anp_migs="$anp/migrations"
anp_up() {  # DB
    tool_run node-pg-migrate env DATABASE_URL="$(adopt_url "$1")" "$adopt_tools/node-pg-migrate" up -m "$anp_migs"
}
anp_files='[{"version": "1704103200000", "tool_id": "1704103200000_create-users"},
            {"version": "1704189600000", "tool_id": "1704189600000_create-orders"},
            {"version": "1704276000000", "tool_id": "1704276000000_add-total"}]'

newdb anp_db
anp_up "$anp_db"
expect "node-pg-migrate migrates the database" 0 "Migrations complete"
expect_value "migrate_adopt reads pgmigrations" "$(adopt_states "$anp_db" node-pg-migrate "$anp_files")" \
    "1704103200000:adopt 1704189600000:adopt 1704276000000:pending"
printf -- '-- Up Migration\nALTER TABLE orders ADD COLUMN total numeric;\n\n-- Down Migration\nALTER TABLE orders DROP COLUMN total;\n' \
    >"$anp_migs/1704276000000_add-total.sql"
run adopt --yes --from node-pg-migrate --dir "$anp_migs" -d "dbname=$anp_db"
expect "pgmig adopt takes over node-pg-migrate's history" 0 "adopted 2 migrations from node-pg-migrate's history" "1 pending"
run status --dir "$anp_migs" -d "dbname=$anp_db"
expect "status: node-pg-migrate's migrations applied" 0 "2 applied, 1 pending"
run apply --dir "$anp_migs" -d "dbname=$anp_db"
expect "a new migration applies on top" 0 "1 applied"
run status --dir "$anp_migs" -d "dbname=$anp_db"
if grep -q "3 applied, 0 pending" <<<"$out"; then pass "node-pg-migrate: every migration applied"; else fail "node-pg-migrate: status after apply" "$out"; fi

# A real failure: node-pg-migrate rolls its run back and records nothing of it.
printf -- '-- Up Migration\nALTER TABLE orders ADD COLUMN total numeric;\nALTER TABLE no_such_table ADD COLUMN x int;\n\n-- Down Migration\nALTER TABLE orders DROP COLUMN total;\n' \
    >"$anp_migs/1704276000000_add-total.sql"
newdb anp_fail
mv "$anp_migs/1704276000000_add-total.sql" "$anp/broken.sql"
anp_up "$anp_fail"
mv "$anp/broken.sql" "$anp_migs/1704276000000_add-total.sql"
anp_up "$anp_fail"
if [ "$rc" -ne 0 ] && grep -q "no_such_table" <<<"$out"; then pass "node-pg-migrate fails the broken migration"; else fail "node-pg-migrate failure" "rc $rc: $out"; fi
expect_value "migrate_adopt after node-pg-migrate's failure" "$(adopt_states "$anp_fail" node-pg-migrate "$anp_files")" \
    "1704103200000:adopt 1704189600000:adopt 1704276000000:pending"
run adopt --yes --from node-pg-migrate --dir "$anp_migs" -d "dbname=$anp_fail"
expect "adopt after a failed node-pg-migrate run: the failed one stays pending" 0 "adopted 2 migrations" "1 pending"
fi
