# pgmig deploy: the whole production path with real parts: approvals by two roles (four-eyes), an encrypted
# backup recorded in the history, alerts to a loopback HTTP receiver that checks the HMAC, a failing deploy
# that leaves the schema as it was, post-flight health; and no secret in any output or file.
# Sourced by run.sh (see lib.sh for the helpers).

dp_dir="$work/deploy"
dp_proj="$dp_dir/project"
mkdir -p "$dp_proj/migrations"
dp_pids=()
dp_old_pwd=$PWD
trap 'for p in "${dp_pids[@]}"; do kill "$p" 2>/dev/null; done; cleanup' EXIT

dp_secret="dpsec-$$-$RANDOM-Hq3"
dp_password="dp-pw-$$-$RANDOM-Zr8"
head -c 32 /dev/urandom >"$dp_proj/backup.key"
dp_key_hex=$(od -An -tx1 "$dp_proj/backup.key" | tr -d ' \n')

RECEIVER_SECRET=$dp_secret python3 "$root/tests/integration/alert_receivers.py" http --mode ok \
    --record "$dp_dir/hook.jsonl" --port-file "$dp_dir/hook.port" >"$dp_dir/hook.log" 2>&1 &
dp_pids+=($!)
for _ in $(seq 100); do [ -s "$dp_dir/hook.port" ] && break; sleep 0.1; done
touch "$dp_dir/hook.jsonl"
dp_port=$(cat "$dp_dir/hook.port" 2>/dev/null)
# events: the events the receiver got, in order, comma-separated.
dp_events() { python3 -c 'import json,sys; print(",".join(json.loads(l)["body"]["event"] for l in open(sys.argv[1])))' "$dp_dir/hook.jsonl"; }
dp_all_signed() { python3 -c 'import json,sys; rs=[json.loads(l) for l in open(sys.argv[1])]; print(all(r["signature_ok"] for r in rs) and len(rs) > 0)' "$dp_dir/hook.jsonl"; }

newdb dp_db
dp_role="pgmig_it_approver_$$"
sql "$dp_db" "CREATE ROLE $dp_role LOGIN PASSWORD '$dp_password' IN ROLE pgmig_approver" >/dev/null
cat >"$dp_proj/pgmig.toml" <<EOF
[backup]
dir = "backups"
keep = 2
key_file = "backup.key"

[environments.development]
dbname = "dbname=$dp_db"

[environments.production]
dbname_env = "DP_PRODUCTION_URL"
backup = true
approval = true
lint = "error"
alerts = ["ops"]

[alerts.ops]
type = "webhook"
url = "http://127.0.0.1:$dp_port/hook"
secret_env = "DP_HOOK_SECRET"
timeout = "3s"
retries = 1
EOF
export DP_HOOK_SECRET=$dp_secret
# The production connection string holds a password (ignored by the cluster's trust authentication): it
# comes from the environment, as docs/operations.md advises, and must never be printed or stored.
export DP_PRODUCTION_URL="dbname=$dp_db password=$dp_password"
mig "$dp_proj/migrations" 1_accounts.sql "CREATE TABLE accounts (id bigint PRIMARY KEY, email text);" "DROP TABLE accounts;"
mig "$dp_proj/migrations" 2_notes.sql "CREATE TABLE notes (id bigint PRIMARY KEY, body text);" "DROP TABLE notes;"
dp_run() { (cd "$dp_proj" && "$bin" "$@") >"$work/out" 2>"$work/err"; rc=$?; out=$(cat "$work/out"); err=$(cat "$work/err"); cat "$work/out" "$work/err" >>"$dp_dir/pgmig-output.log"; }
dp_fp() { sql "$dp_db" "SELECT migrate_fingerprint()"; }

# --- production without any approval: refused before anything changes ---------------------------------
fp0=$(dp_fp)
dp_run deploy --env production
expect "deploy to production without approval is refused (exit 28)" 28 "[1/6] pre-flight health: ok" \
    "[2/6] validate" "stopped at step 3/6 (approvals)" "pgmig approve 1 --env production"
if [ "$(dp_fp)" = "$fp0" ] && [ -z "$(ls "$dp_proj/backups/production" 2>/dev/null)" ]; then
    pass "refused deploy: schema unchanged, no backup taken"
else
    fail "refused deploy: schema unchanged, no backup taken" "$(ls -R "$dp_proj/backups" 2>&1)"
fi
if [ "$(dp_events)" = "deploy_started,approval_requested,deploy_failed" ]; then
    pass "refused deploy alerts: started, approval requested, failed"
else
    fail "refused deploy alerts" "$(dp_events)"
fi

# --- self-approval does not count ------------------------------------------------------------------------
# The refused deploy registered the files: the deployer is their registrant and may not approve them.
dp_run approve 1 2 --env production
expect "the deployer cannot approve what it registered (exit 29, PM031)" 29 "registered it" "may not approve it"
dp_run deploy --env production
expect "a self-approved deploy is refused (four-eyes)" 28 "stopped at step 3/6 (approvals)" "other than"
[ "$(dp_fp)" = "$fp0" ] && pass "self-approved deploy: schema unchanged" || fail "self-approved deploy: schema unchanged" "changed"

# --- another role's approval: the deploy goes through ---------------------------------------------------
dp_run -d "dbname=$dp_db user=$dp_role password=$dp_password" approve 1 2 --env production
expect "another role approves" 0 "approved 2"
: >"$dp_dir/hook.jsonl"
dp_run deploy --env production
expect "deploy to production with another role's approval" 0 "[3/6] approvals: ok" "[4/6] backup:" "verified (" \
    "[5/6] apply" "[6/6] post-flight health: ok, no drift" "deployed 2 migrations to production"
dp_backup=$(ls "$dp_proj"/backups/production/*.pgmig-backup 2>/dev/null | head -1)
if [ -n "$dp_backup" ] && [ -f "$dp_backup.manifest.json" ]; then pass "the deploy took a backup with its manifest"; else fail "backup taken" "$(ls -R "$dp_proj/backups" 2>&1)"; fi
dp_hist=$(sql "$dp_db" "SELECT reason || ': ' || message FROM pgmig.history WHERE action = 'deploy' ORDER BY id")
if grep -q "^backup: backup $(basename "$dp_backup") taken at 20.*, verified$" <<<"$dp_hist" && grep -q "^succeeded: deployed 1, 2 to production" <<<"$dp_hist"; then
    pass "the history records the backup (name and time) and the deploy"
else
    fail "history of the deploy" "$dp_hist"
fi
if [ "$(dp_events)" = "deploy_started,deploy_succeeded" ] && [ "$(dp_all_signed)" = True ]; then
    pass "successful deploy alerts: started and succeeded, HMAC-signed"
else
    fail "successful deploy alerts" "$(dp_events) signed=$(dp_all_signed)"
fi
dp_run backup verify "$dp_backup" --env production
expect "the deploy's backup verifies" 0

dp_run deploy --env production
expect "nothing left to deploy" 0 "nothing to deploy"

# --- lint threshold of the environment; development has no gates ------------------------------------------
mig "$dp_proj/migrations" 3_drop.sql "ALTER TABLE accounts DROP COLUMN email;"
dp_run deploy --env production
expect "lint errors stop a production deploy (lint = error)" 14 "stopped at step 2/6 (validate)" "drop-column"
rm "$dp_proj/migrations/3_drop.sql"
newdb dp_dev
sed -i "s/^dbname = \"dbname=$dp_db\"$/dbname = \"dbname=$dp_dev\"/" "$dp_proj/pgmig.toml"
dp_run deploy --env development
expect "development has no approval, backup or lint gate" 0 "[3/6] approvals: not required for development" \
    "[4/6] backup: not required for development" "deployed 2 migrations to development"

# --- a failing migration: nothing changes, the failure is alerted ---------------------------------------
mig "$dp_proj/migrations" 3_broken.sql "ALTER TABLE accounts ADD COLUMN age int; ALTER TABLE no_such_table ADD COLUMN x int;" \
    "ALTER TABLE accounts DROP COLUMN age;"
dp_run deploy --env production   # registers 3, refused for want of approval
dp_run -d "dbname=$dp_db user=$dp_role password=$dp_password" approve 3 --env production
fp1=$(dp_fp)
# Without its key the backup fails, and so does the deploy, before anything is applied.
mv "$dp_proj/backup.key" "$dp_dir/backup.key.away"
: >"$dp_dir/hook.jsonl"
dp_run deploy --env production
expect "a backup that cannot be taken stops the deploy (exit 19)" 19 "stopped at step 4/6 (backup)"
if [ "$(dp_events)" = "deploy_started,backup_failed,deploy_failed" ] && [ "$(dp_fp)" = "$fp1" ]; then
    pass "failed backup: alerted (backup_failed, deploy_failed), schema unchanged"
else
    fail "failed backup alerts" "$(dp_events)"
fi
mv "$dp_dir/backup.key.away" "$dp_proj/backup.key"
# A backup taken but not readable back (here pg_restore rejects every archive) stops the deploy too.
dp_badbin="$dp_dir/bad-bin"
mkdir -p "$dp_badbin"
ln -sf "${PGMIG_PG_BINDIR:-/usr/lib/postgresql/15/bin}/pg_dump" "$dp_badbin/pg_dump"
# (it closes its input at once, as a pg_restore that gives up early does: pgmig's writes then meet a closed
# pipe, which must not kill it with SIGPIPE)
printf '#!/bin/sh\nexec 0<&-\necho "pg_restore: error: input file does not appear to be a valid archive" >&2\nsleep 0.3\nexit 1\n' >"$dp_badbin/pg_restore"
chmod +x "$dp_badbin/pg_restore"
# (rows enough that the archive outgrows the pipe's buffer: pgmig is still writing when pg_restore is gone)
sql "$dp_db" "INSERT INTO accounts SELECT g, md5(g::text) || md5((g * 7)::text) FROM generate_series(1, 20000) g" >/dev/null
: >"$dp_dir/hook.jsonl"
PGMIG_PG_BINDIR=$dp_badbin dp_run deploy --env production
expect "a backup that does not verify stops the deploy (exit 19)" 19 "stopped at step 4/6 (backup)" \
    "does not verify" "pg_restore --list rejects the archive" "nothing was applied"
if [ "$(dp_events)" = "deploy_started,backup_failed,deploy_failed" ] && [ "$(dp_fp)" = "$fp1" ]; then
    pass "unverified backup: alerted (backup_failed, deploy_failed), schema unchanged"
else
    fail "unverified backup alerts" "$(dp_events)"
fi
sql "$dp_db" "DELETE FROM accounts" >/dev/null
: >"$dp_dir/hook.jsonl"
dp_run deploy --env production
expect "a failing migration stops the deploy (exit 5)" 5 "stopped at step 5/6 (apply)" "no_such_table" "the schema is as it was before the deploy"
if [ "$(dp_fp)" = "$fp1" ]; then pass "failed deploy: schema fingerprint unchanged"; else fail "failed deploy: schema unchanged" "changed"; fi
if [ "$(dp_events)" = "deploy_started,deploy_failed" ] &&
    python3 -c 'import json,sys; r=[json.loads(l) for l in open(sys.argv[1])][-1]["body"]; assert "step 5/6 (apply)" in r["error"] and r["versions"] == ["3"], r' "$dp_dir/hook.jsonl"; then
    pass "failed deploy alert says what failed where"
else
    fail "failed deploy alert" "$(tail -c 600 "$dp_dir/hook.jsonl")"
fi

# --- a non-transactional migration that stops halfway: the error says how to resume -------------------
dp_nt="$dp_dir/nontx"
mkdir -p "$dp_nt"
cp "$dp_proj/migrations/1_accounts.sql" "$dp_proj/migrations/2_notes.sql" "$dp_nt/"
printf '%s\n' "-- pgmig:no-transaction" "-- pgmig:up" "CREATE INDEX CONCURRENTLY IF NOT EXISTS notes_body ON notes (body);" \
    "CREATE INDEX CONCURRENTLY IF NOT EXISTS nothing_x ON no_such_table (x);" >"$dp_nt/3_indexes.sql"
dp_run deploy --env development --dir "$dp_nt"
expect "a non-transactional migration stopped halfway: the deploy says how to resume" 5 \
    "stopped at step 5/6 (apply)" "non-transactional migration 3 stopped halfway: run pgmig apply again to resume it"

# --- a rollback in an environment is alerted ---------------------------------------------------------------
: >"$dp_dir/hook.jsonl"
dp_run rollback --env production
expect "rollback --env production" 0 "rolled back 2_notes"
if [ "$(dp_events)" = "rollback" ] &&
    python3 -c 'import json,sys; r=[json.loads(l) for l in open(sys.argv[1])][-1]["body"]; assert r["versions"] == ["2"] and not r["error"], r' "$dp_dir/hook.jsonl"; then
    pass "a rollback alert names the rolled-back version"
else
    fail "rollback alert" "$(tail -c 600 "$dp_dir/hook.jsonl")"
fi

# --- the backup key is read once: a key handed over through a pipe encrypts and verifies the backup ----------
# (--key-file <(...), as from a secret store: a second read of the pipe finds it empty)
dp_run deploy --env production --key-file <(cat "$dp_proj/backup.key")
expect "deploy --key-file from a pipe: the one key read takes and verifies the backup" 5 "[4/6] backup:" "verified (" \
    "stopped at step 5/6 (apply)" "no_such_table"

# --- unknown environment, and no secret anywhere ----------------------------------------------------------
dp_run deploy --env staging
expect "an unknown environment names the known ones" 3 "no environment 'staging'" "development, production"
leaks=$(grep -rlF -e "$dp_secret" -e "$dp_password" -e "$dp_key_hex" "$dp_dir" "$dp_proj/logs" "$dp_proj/backups" 2>/dev/null)
hist_leak=$(sql "$dp_db" "SELECT count(*) FROM pgmig.history WHERE message LIKE '%$dp_password%' OR message LIKE '%$dp_secret%'")
if [ -s "$dp_dir/pgmig-output.log" ] && [ -z "$leaks" ] && [ "$hist_leak" = 0 ]; then
    pass "deploy: no password, webhook secret or backup key in any output, log, backup, manifest or history row"
else
    fail "deploy: no secret anywhere" "found in: $leaks (history: $hist_leak)"
fi

for p in "${dp_pids[@]}"; do kill "$p" 2>/dev/null; done
dp_pids=()
trap cleanup EXIT
sql "$dp_db" "DROP OWNED BY $dp_role" >/dev/null
sql postgres "DROP ROLE $dp_role" >/dev/null
unset DP_HOOK_SECRET DP_PRODUCTION_URL
cd "$dp_old_pwd" || true
