# A pgmig_admin that is no superuser registers, in the ledger only, a migration that would make it superuser.
# A superuser's pgmig apply and pgmig deploy must refuse it (exit 37, naming the version and the registrant),
# pgmig status and pgmig validate must report it (and validate lints it), and only --allow-ledger-only VERSION
# applies it. Behind the client, the database itself refuses it (exit 38) to a superuser's migrate_apply().
# Sourced by run.sh (see lib.sh for the helpers).

lo_adm="it_lo_adm_$$"
psql -X -q -d postgres -c "CREATE ROLE $lo_adm LOGIN IN ROLE pgmig_admin" >/dev/null
newdb lo_db
sql "$lo_db" "GRANT CREATE ON SCHEMA public TO $lo_adm" >/dev/null
lo_proj="$work/ledger_only"
mig "$lo_proj/migrations" 1_accounts.sql "CREATE TABLE accounts (id int);" "DROP TABLE accounts;"
cat >"$lo_proj/pgmig.toml" <<EOF
[environments.production]
dbname = "dbname=$lo_db"
EOF
lo_super() { sql "$lo_db" "SELECT rolsuper FROM pg_roles WHERE rolname = '$lo_adm'"; }
lo_run() { (cd "$lo_proj" && "$bin" "$@") >"$work/out" 2>"$work/err"; rc=$?; out=$(cat "$work/out"); err=$(cat "$work/err"); }

# The attack: an innocuous name, SQL that nobody reviewed as a file, registered by the pgmig_admin itself.
psql -X -q -v ON_ERROR_STOP=1 -d "dbname=$lo_db" -U "$lo_adm" \
    -c "SELECT migrate_register('100', 'innocuous_name', 'ALTER ROLE $lo_adm SUPERUSER')" >/dev/null

lo_run apply -d "dbname=$lo_db"
expect "a superuser's apply refuses the ledger-only migration (exit 37)" 37 \
    "migration 100 \"innocuous_name\"" "registered by $lo_adm at " "no file holds" "--allow-ledger-only 100" \
    "nothing was applied"
if [ "$(lo_super)" = f ] && [ "$(sql "$lo_db" "SELECT count(*) FROM pg_tables WHERE tablename = 'accounts'")" = 0 ]; then
    pass "refused apply: the role is no superuser, and nothing of the run was applied"
else
    fail "refused apply: the role is no superuser, and nothing of the run was applied" "rolsuper=$(lo_super)"
fi
lo_run apply -d "dbname=$lo_db" --to 1
expect "apply --to below the ledger-only version applies the files" 0 "applied 1_accounts"

lo_run deploy --env production
expect "a superuser's deploy refuses it too (exit 37)" 37 "stopped at step 2/6 (validate)" \
    "migration 100 \"innocuous_name\"" "registered by $lo_adm" "--allow-ledger-only 100"
[ "$(lo_super)" = f ] && pass "refused deploy: the role is no superuser" || fail "refused deploy: the role is no superuser" "t"

lo_run status -d "dbname=$lo_db"
expect "status reports it, with who registered it and when" 0 "ledger only: migration 100 \"innocuous_name\"" \
    "registered by $lo_adm at 20" "1 ledger only"
lo_run status -d "dbname=$lo_db" --json
if [ "$rc" -eq 0 ] && python3 -c '
import json, sys
rows = {r["version"]: r for r in json.load(sys.stdin)}
assert rows["100"]["ledger_only"] is True and rows["100"]["registered_by"] == sys.argv[1], rows["100"]
assert rows["1"]["ledger_only"] is False, rows["1"]
' "$lo_adm" <<<"$out"; then pass "status --json: ledger_only and registered_by"; else fail "status --json: ledger_only and registered_by" "rc=$rc $(head -c 300 <<<"$out$err")"; fi

lo_run validate -d "dbname=$lo_db"
expect "validate reports it as an error (exit 9) and lints its script" 9 "ledger_only" \
    "migration 100 \"innocuous_name\"" "registered by $lo_adm" "lint: 1 pending migration checked"
lo_run validate -d "dbname=$lo_db" --allow-ledger-only 100
expect "validate --allow-ledger-only: a warning" 0 "warning: version 100" "ledger_only"

# Behind the client: the database refuses it to the superuser too, naming the registrant.
lo_run apply -d "dbname=$lo_db" --allow-ledger-only 99
expect "--allow-ledger-only naming another version does not help" 37 "migration 100"
lo_out=$(psql -X -q -d "dbname=$lo_db" -c "SELECT * FROM migrate_apply()" 2>&1)
if grep -q "registered by $lo_adm, who does not have every right of" <<<"$lo_out" && [ "$(lo_super)" = f ]; then
    pass "migrate_apply() in psql, as a superuser: refused, naming the registrant"
else
    fail "migrate_apply() in psql, as a superuser: refused, naming the registrant" "$lo_out"
fi

# The explicit option: the reviewed, registered script is applied as it stands.
lo_run apply -d "dbname=$lo_db" --allow-ledger-only 100
expect "apply --allow-ledger-only 100 applies it" 0 "applying ledger-only migration 100 \"innocuous_name\"" \
    "registered by $lo_adm" "applied 100_innocuous_name"
[ "$(lo_super)" = t ] && pass "the explicitly allowed migration ran" || fail "the explicitly allowed migration ran" "rolsuper f"
sql "$lo_db" "ALTER ROLE $lo_adm NOSUPERUSER" >/dev/null

# A repeatable migration registered without a file is ledger-only as well (named R__NAME).
psql -X -q -v ON_ERROR_STOP=1 -d "dbname=$lo_db" -U "$lo_adm" \
    -c "SELECT migrate_register(NULL, 'views', 'ALTER ROLE $lo_adm SUPERUSER', options => '{\"repeatable\": true}')" >/dev/null
lo_run apply -d "dbname=$lo_db"
expect "a ledger-only repeatable migration is refused (exit 37)" 37 "repeatable migration \"views\"" \
    "--allow-ledger-only R__views"
[ "$(lo_super)" = f ] && pass "refused repeatable: the role is no superuser" || fail "refused repeatable: the role is no superuser" "t"

sql "$lo_db" "DROP OWNED BY $lo_adm" >/dev/null 2>&1
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $lo_db" >/dev/null 2>&1
psql -X -q -d postgres -c "DROP ROLE IF EXISTS $lo_adm" >/dev/null 2>&1
