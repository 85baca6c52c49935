# Drift on a database with pending migrations: an out-of-band GRANT is attributed (who, when) in pgmig drift;
# the deploy's pre-flight names the commands that clear drift; pgmig drift --adopt records the drift while a
# migration file is pending (the adopted migration goes between the applied and the pending ones, which stay
# pending), and the deploy then goes through. Sourced by run.sh (see lib.sh).

dap_proj="$work/drift_adopt_pending"
mkdir -p "$dap_proj/migrations"
newdb dapdb
dap_role="dap_grantee_$$"
sql "$dapdb" "CREATE ROLE $dap_role" >/dev/null
printf '[environments.staging]\ndbname = "dbname=%s"\n' "$dapdb" >"$dap_proj/pgmig.toml"
mig "$dap_proj/migrations" 1_t.sql "CREATE TABLE t (id int); CREATE MATERIALIZED VIEW m AS SELECT id FROM t;" \
    "DROP MATERIALIZED VIEW m; DROP TABLE t;"
chmod -R a+rX "$dap_proj"
dap_run() { (cd "$dap_proj" && "$bin" "$@") >"$work/out" 2>"$work/err"; rc=$?; out=$(cat "$work/out"); err=$(cat "$work/err"); }
dap_run apply --env staging
expect "setup: apply 1" 0 "applied 1_t"
mig "$dap_proj/migrations" 2_pending.sql "CREATE TABLE p (id int);" "DROP TABLE p;"
chmod -R a+rX "$dap_proj"

# Out of band: a GRANT on production, and a materialized view changed.
sql "$dapdb" "GRANT SELECT ON t TO $dap_role; COMMENT ON MATERIALIZED VIEW m IS 'by hand'" >/dev/null
dap_run drift --json --env staging
if [ "$rc" -eq 0 ] && python3 -c '
import json, sys
rows = {(r["object_type"], r["identity"]): r for r in json.load(sys.stdin)}
t = rows[("table", "public.t")]
assert t["changed_by"] and t["changed_at"] and "GRANT" in (t["statement"] or ""), t
m = rows[("materialized view", "public.m")]
assert m["changed_by"] and m["changed_at"], m
' <<<"$out"; then pass "drift: a GRANT carries who and when; a materialized view is 'materialized view' public.m"
else fail "drift: GRANT attribution and materialized view naming" "rc=$rc $(head -c 600 <<<"$out$err")"; fi

# The deploy's drift gate says which command clears it.
dap_run deploy --env staging
expect "deploy with drift stops at the pre-flight (exit 26) and names the commands that clear it" 26 "drift" \
    "pgmig drift --adopt NAME --env staging" "pgmig drift --fix NAME --env staging"

# --adopt while 2_pending is pending: recorded between them, 2 stays pending.
dap_run drift --adopt record_grant --env staging
expect "drift --adopt works while a migration is pending" 0 "1.1_record_grant.sql" "adopted"
dap_run status -d "dbname=$dapdb"
expect "... the pending migration stays pending" 0 "1 pending"
if [ "$(sql "$dapdb" "SELECT string_agg(version || ':' || (applied_at IS NOT NULL), ',' ORDER BY version_key) FROM pgmig.migrations")" = "1:true,1.1:true,2:false" ] &&
    [ "$(sql "$dapdb" "SELECT count(*) FROM migrate_drift()")" = 0 ]; then
    pass "... the adoption is applied, 2 is not, and there is no drift left"
else
    fail "... ledger after --adopt" "$(sql "$dapdb" "SELECT version, applied_at IS NOT NULL FROM pgmig.migrations ORDER BY version_key")"
fi
dap_run deploy --env staging
expect "the deploy then goes through and applies the pending migration" 0 "2_pending"
sql "$dapdb" "DROP OWNED BY $dap_role; DROP ROLE $dap_role" >/dev/null
