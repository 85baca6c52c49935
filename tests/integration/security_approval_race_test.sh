# Four-eyes approval enforced inside the database, as the client drives it, for a production database set up
# as docs/security.md advises: a dedicated migration owner that is no superuser applies, approvers review
# the files, and the database requires approvals itself (pgmig.require_approval, pgmig.environment).
#  - pgmig apply --env production (approval = true) refuses an unapproved migration, even where the database
#    requires nothing itself;
#  - pgmig approve, by a role that is only a pgmig_approver, approves the files before anything is registered;
#    then pgmig deploy, by the migration owner, passes;
#  - a migration registered after deploy's approval step and before its apply step is not applied; and one
#    registered while migrate_apply() waits for the ledger lock is refused by it. Both races are made
#    deterministic: a second session holds the ledger lock until the first one is seen waiting for it.
# Sourced by run.sh (see lib.sh for the helpers).

ar_owner="it_ar_owner_$$" ar_alice="it_ar_alice_$$" ar_bob="it_ar_bob_$$"
newdb ar_db
# The roles, with exactly the grants docs/security.md lists (run once, as a superuser).
psql -X -q -v ON_ERROR_STOP=1 -d "$ar_db" >/dev/null <<SQL
CREATE ROLE $ar_owner LOGIN IN ROLE pgmig_admin;
CREATE ROLE $ar_alice LOGIN IN ROLE pgmig_approver;
CREATE ROLE $ar_bob LOGIN IN ROLE pgmig_approver;
GRANT CREATE ON DATABASE $ar_db TO $ar_owner;
SQL
ar_drop() {
    psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $ar_db" >/dev/null 2>&1
    psql -X -q -d postgres -c "DROP ROLE IF EXISTS $ar_owner, $ar_alice, $ar_bob" >/dev/null 2>&1
}
ar_proj="$work/approval_race"
mkdir -p "$ar_proj/migrations"
# The owner creates the application's schema in its first migration (so it owns it, and it is no drift).
mig "$ar_proj/migrations" 1_accounts.sql "CREATE SCHEMA app; CREATE TABLE app.accounts (id bigint PRIMARY KEY);" \
    "DROP TABLE app.accounts; DROP SCHEMA app;"
mig "$ar_proj/migrations" 2_notes.sql "CREATE TABLE app.notes (id bigint PRIMARY KEY);" "DROP TABLE app.notes;"
printf 'CREATE OR REPLACE VIEW app.account_count AS SELECT count(*) AS n FROM app.accounts;\n' \
    >"$ar_proj/migrations/R__account_count.sql"
cat >"$ar_proj/pgmig.toml" <<EOF
[environments.production]
dbname = "dbname=$ar_db user=$ar_owner"
approval = true
EOF
ar_run() { (cd "$ar_proj" && "$bin" "$@") >"$work/out" 2>"$work/err"; rc=$?; out=$(cat "$work/out"); err=$(cat "$work/err"); }
ar_tables() { sql "$ar_db" "SELECT coalesce(string_agg(tablename, ',' ORDER BY tablename), '-') FROM pg_tables WHERE schemaname = 'app'"; }
as_alice="dbname=$ar_db user=$ar_alice"
as_owner="dbname=$ar_db user=$ar_owner"

# --- the client's own requirement: pgmig apply --env production refuses what is not approved ------------
ar_run apply --env production
expect "apply --env production (approval = true) refuses an unapproved migration (exit 28)" 28 \
    "migration 1 \"accounts\"" "0 of the 1 approval for production" "pgmig approve 1 --env production"
[ "$(ar_tables)" = - ] && pass "refused apply: nothing applied" || fail "refused apply: nothing applied" "$(ar_tables)"

# --- approvals from the files, before registration, by a role that may not register -------------------
ar_run approve 1 2 R__account_count --env production -d "$as_alice"
expect "a pure pgmig_approver approves the files before they are registered" 0 \
    "approved 1 \"accounts\" for production" "approved R__account_count" "as $ar_alice" \
    "not registered yet: it counts once this script is registered"
if [ "$(sql "$ar_db" "SELECT count(*) FROM pgmig.migrations")" = 0 ]; then pass "approve registered nothing"; else fail "approve registered nothing" "$(sql "$ar_db" "SELECT version, name FROM pgmig.migrations")"; fi
ar_run approvals --env production
expect "approvals lists what a deploy would need, files not registered yet and repeatable ones included" 0 \
    "R__account_count" "approved for production by $ar_alice"
ar_run approvals --env production --json
if [ "$rc" -eq 0 ] && python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["approved"] is True and len(d["migrations"]) == 3, d
assert [m["version"] for m in d["migrations"]] == ["1", "2", None], d
assert all(m["registrant"] == sys.argv[1] and m["approvers"] == [sys.argv[2]] for m in d["migrations"]), d
' "$ar_owner" "$ar_alice" <<<"$out"; then pass "approvals --json: three approved, registrant the deployer"; else fail "approvals --json" "rc=$rc $(head -c 400 <<<"$out$err")"; fi

# --- the production setup: the database requires approvals itself --------------------------------------
sql "$ar_db" "ALTER DATABASE $ar_db SET pgmig.require_approval = 1" >/dev/null
sql "$ar_db" "ALTER DATABASE $ar_db SET pgmig.environment = 'production'" >/dev/null
ar_run deploy --env production
expect "the migration owner (no superuser) deploys what alice approved from the files" 0 "[3/6] approvals: ok" \
    "deployed 3 migrations to production"
[ "$(ar_tables)" = accounts,notes ] && pass "deployed: app.accounts, app.notes" || fail "deployed: app.accounts, app.notes" "$(ar_tables)"
if [ "$(sql "$ar_db" "SELECT string_agg(DISTINCT registered_by || '/' || applied_by, ',') FROM pgmig.migrations")" = "$ar_owner/$ar_owner" ]; then
    pass "registered and applied by the migration owner"
else
    fail "registered and applied by the migration owner" "$(sql "$ar_db" "SELECT version, registered_by, applied_by FROM pgmig.migrations")"
fi
# The migration owner cannot relax the database's requirement.
ar_out=$(psql -X -q -d "$ar_db" -U "$ar_owner" -c "SELECT pgmig.script_checksum('x')" -c "SET pgmig.require_approval = 0" 2>&1)
if grep -q 'permission denied to set parameter "pgmig.require_approval"' <<<"$ar_out"; then pass "the migration owner cannot SET pgmig.require_approval = 0"; else fail "the migration owner cannot SET pgmig.require_approval = 0" "$ar_out"; fi

# --- race 1: registered after deploy's approval step, before its apply step -------------------------------
# File 3 is approved and registered by the owner (pgmig apply --to 2 registers every file), so deploy's
# steps 1-4 need no lock.
mig "$ar_proj/migrations" 3_tags.sql "CREATE TABLE app.tags (id bigint PRIMARY KEY);" "DROP TABLE app.tags;"
ar_run approve 3 --env production -d "$as_alice"
ar_run apply --to 2 --env production
expect "apply --to 2 registers file 3" 0 "nothing to apply"
# A second session (the owner's, as a second deploy or a colleague in psql would be) takes the ledger lock.
mkfifo "$work/ar_holder.in"
PGAPPNAME=it_ar_holder psql -X -q -d "$ar_db" -U "$ar_owner" <"$work/ar_holder.in" >"$work/ar_holder.out" 2>&1 &
ar_holder=$!
exec 6>"$work/ar_holder.in"
echo "SELECT pg_advisory_lock(482771560807);" >&6
for _ in $(seq 100); do
    [ "$(sql "$ar_db" "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid) WHERE a.application_name = 'it_ar_holder' AND l.locktype = 'advisory' AND l.granted")" = 1 ] && break
    sleep 0.1
done
(cd "$ar_proj" && "$bin" deploy --env production) >"$work/ar_deploy.out" 2>"$work/ar_deploy.err" &
ar_deploy=$!
# Once deploy waits for the ledger lock (its apply step), the second session registers migration 4, which
# nobody approved and no file holds, and lets go.
ar_waiting=""
for _ in $(seq 300); do
    # (pgmig apply's step waits by trying the lock between pauses, and says so once)
    if grep -q "waiting for the ledger lock" "$work/ar_deploy.out" 2>/dev/null ||
        [ "$(sql "$ar_db" "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")" = 1 ]; then ar_waiting=1; break; fi
    sleep 0.1
done
echo "SELECT migrate_register('4', 'sneaky', 'CREATE TABLE app.sneaky (id bigint PRIMARY KEY);') IS NOT NULL AS registered;" >&6
echo "SELECT pg_advisory_unlock(482771560807);" >&6
exec 6>&-
wait "$ar_holder"
wait "$ar_deploy"
rc=$?
out=$(cat "$work/ar_deploy.out") err=$(cat "$work/ar_deploy.err")
if [ -n "$ar_waiting" ]; then pass "race 1: deploy waited for the ledger lock at its apply step"; else fail "race 1: deploy waited for the ledger lock at its apply step" "$(head -c 300 <<<"$out$err")"; fi
expect "race 1: the migration registered meanwhile is refused (exit 37)" 37 "[3/6] approvals: ok" \
    "stopped at step 5/6 (apply)" "migration 4 \"sneaky\"" "registered by $ar_owner"
[ "$(ar_tables)" = accounts,notes ] && pass "race 1: neither 3 nor 4 applied (all or nothing)" || fail "race 1: neither 3 nor 4 applied" "$(ar_tables)"

# --- race 2: changed while migrate_apply() waits for the ledger lock ----------------------------------------
# migrate_apply() (what pgmig apply calls) waits behind the second session, which registers other SQL as
# migration 3, approved until then; after the lock, migrate_apply() sees that its approval no longer counts.
mkfifo "$work/ar_holder2.in"
PGAPPNAME=it_ar_holder psql -X -q -d "$ar_db" -U "$ar_owner" <"$work/ar_holder2.in" >"$work/ar_holder2.out" 2>&1 &
ar_holder=$!
exec 6>"$work/ar_holder2.in"
echo "SELECT pg_advisory_lock(482771560807);" >&6
for _ in $(seq 100); do
    [ "$(sql "$ar_db" "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid) WHERE a.application_name = 'it_ar_holder' AND l.locktype = 'advisory' AND l.granted")" = 1 ] && break
    sleep 0.1
done
psql -X -q -d "$ar_db" -U "$ar_owner" -c "SELECT version, action FROM migrate_apply('3')" >"$work/ar_apply.out" 2>&1 &
ar_apply=$!
ar_waiting=""
for _ in $(seq 300); do
    # (pgmig apply's step waits by trying the lock between pauses, and says so once)
    if grep -q "waiting for the ledger lock" "$work/ar_deploy.out" 2>/dev/null ||
        [ "$(sql "$ar_db" "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")" = 1 ]; then ar_waiting=1; break; fi
    sleep 0.1
done
echo "SELECT migrate_register('3', 'tags', 'CREATE TABLE app.tags (id bigint PRIMARY KEY); CREATE TABLE app.extra (id bigint PRIMARY KEY);') IS NOT NULL AS registered;" >&6
echo "SELECT pg_advisory_unlock(482771560807);" >&6
exec 6>&-
wait "$ar_holder"
wait "$ar_apply"
ar_apply_out=$(cat "$work/ar_apply.out")
if [ -n "$ar_waiting" ] && grep -q 'refuses migration 3 "tags": it has 0 of the 1 approval for production' <<<"$ar_apply_out" &&
    [ "$(ar_tables)" = accounts,notes ]; then
    pass "race 2: migrate_apply() refuses, after its lock, the script changed while it waited (approved checksum no longer current)"
else
    fail "race 2: migrate_apply() refuses what changed while it waited" "waiting=$ar_waiting $ar_apply_out tables=$(ar_tables)"
fi

# --- the end: migration 4 gets a file and both are approved as files, then deployed -----------------------
mig "$ar_proj/migrations" 4_sneaky.sql "CREATE TABLE app.sneaky (id bigint PRIMARY KEY);"
ar_run approve 3 4 --env production -d "dbname=$ar_db user=$ar_bob"
expect "bob approves 3 and 4 from their files" 0 "approved 3" "approved 4"
ar_run deploy --env production
expect "deploy re-registers 3 from its file and applies 3 and 4" 0 "deployed 2 migrations to production"
[ "$(ar_tables)" = accounts,notes,sneaky,tags ] && pass "deployed: tags and sneaky, not extra" || fail "deployed: tags and sneaky, not extra" "$(ar_tables)"

ar_drop
