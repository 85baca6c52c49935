# Empty migrations: an up script that is empty or holds only comments (a placeholder for another SQL
# dialect, common in real projects) is a valid no-op migration in every file format. It is registered,
# applied and recorded in the history, status says it is empty, and it is rolled back as a no-op even
# without a down script. Sourced by run.sh (see lib.sh for the helpers).

newdb dbe
e="$work/empty_migrations"
mkdir -p "$e"
mig "$e" 1_create.sql "CREATE TABLE em_t (id int);" "DROP TABLE em_t;"
printf -- '-- pgmig:up\n-- MySQL only: nothing to do on PostgreSQL\n' >"$e/2_mysql_only.sql"
printf -- '-- pgmig:up\n\n-- pgmig:down\n\n' >"$e/3_empty_both.sql"
: >"$e/V4__zero_bytes.sql"
printf -- '-- sqlite only\n' >"$e/5_placeholder.up.sql"
mig "$e" 6_after.sql "ALTER TABLE em_t ADD COLUMN b int;" "ALTER TABLE em_t DROP COLUMN b;"

run apply --dir "$e" -d "dbname=$dbe"
expect "apply accepts empty migrations" 0 "6 applied"
if [ "$(sql "$dbe" "SELECT count(*) FROM pgmig.history WHERE action = 'apply'")" = 6 ]; then
    pass "each empty migration is recorded in the history"
else
    fail "history of empty migrations" "$(sql "$dbe" "SELECT version, action FROM pgmig.history")"
fi
run status --dir "$e" -d "dbname=$dbe"
expect "status shows the empty ones" 0 "versioned (empty)"
if [ "$(grep -c '(empty)' <<<"$out")" = 4 ] && ! grep -q "1 .*create.*(empty)" <<<"$out"; then
    pass "status marks exactly the four empty migrations"
else
    fail "status marks the empty migrations" "$out"
fi
run status --dir "$e" --json -d "dbname=$dbe"
if [ "$(jq '[.[] | select(.empty == true)] | length' <<<"$out")" = 4 ]; then
    pass "status --json says empty"
else
    fail "status --json empty" "$out"
fi

# Rolled back as no-ops, also without a down script; then applied again.
run rollback --to 1 -d "dbname=$dbe"
expect "rollback over empty migrations without down scripts" 0
if [ "$(sql "$dbe" "SELECT count(*) FROM pgmig.migrations WHERE applied_at IS NOT NULL")" = 1 ] &&
   [ "$(sql "$dbe" "SELECT count(*) FROM information_schema.columns WHERE table_name = 'em_t'")" = 1 ]; then
    pass "rollback undid the real migration and passed the empty ones"
else
    fail "rollback state" "$(sql "$dbe" "SELECT version, applied_at IS NOT NULL FROM pgmig.migrations ORDER BY 1")"
fi
run apply --dir "$e" -d "dbname=$dbe"
expect "apply again" 0 "5 applied"

# The same through SQL: migrate_register accepts a comment-only script, migrate_rollback undoes it.
newdb dbe2
sql "$dbe2" "SELECT migrate_register('1', 'placeholder', '-- for another dialect')" >/dev/null
if [ "$(sql "$dbe2" "SELECT count(*) FROM migrate_apply()")" = 1 ] &&
   [ "$(sql "$dbe2" "SELECT action FROM migrate_rollback()")" = rolled_back ]; then
    pass "migrate_register / apply / rollback of a comment-only script"
else
    fail "SQL empty migration" "$(sql "$dbe2" "SELECT version, action FROM pgmig.history")"
fi
# A migration that runs something still needs its down script.
sql "$dbe2" "SELECT migrate_register('2', 'real', 'CREATE TABLE em2 (id int)')" >/dev/null
sql "$dbe2" "SELECT count(*) FROM migrate_apply()" >/dev/null
if sql "$dbe2" "SELECT * FROM migrate_rollback()" | grep -q "no down script for 2"; then
    pass "a real migration without a down script is still refused"
else
    fail "real migration rollback refusal" "$(sql "$dbe2" "SELECT * FROM migrate_rollback()")"
fi
