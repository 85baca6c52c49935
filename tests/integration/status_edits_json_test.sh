# Status, exit codes and JSON that scripts can trust: pgmig status compares every file with the ledger
# (edited, edited (cosmetic), an edited R__ file pending; exit 58 for a real edit), a permission error on
# pgmig's own calls exits 59 naming the role to grant (a migration's own stays exit 5), --json prints one
# JSON document on stdout also on failure, diff --exit-code exits 31 also with withheld steps, local status
# exits 7 when the cluster is not running, new follows the folder's numbering, and the audit log never lands
# in whatever folder pgmig runs in. Sourced by run.sh (see lib.sh for the helpers).

# json_check NAME EXPR: the last run's stdout is exactly one JSON document d for which the Python EXPR holds.
json_check() {
    if python3 -c 'import json, sys
d = json.loads(open(sys.argv[1]).read())
sys.exit(0 if eval(sys.argv[2]) else 1)' "$work/out" "$2" 2>"$work/json-err"; then
        pass "$1"
    else
        fail "$1" "stdout: $(head -c 500 "$work/out") $(tail -n 1 "$work/json-err")"
    fi
}

# --- status notices edited files ------------------------------------------------------------------------
newdb se_db
se="$work/status_edits"
mig "$se" 1_accounts.sql "CREATE TABLE se_accounts (id int);" "DROP TABLE se_accounts;"
mig "$se" 2_notes.sql "CREATE TABLE se_notes (id int);" "DROP TABLE se_notes;"
printf -- 'CREATE OR REPLACE VIEW se_v AS SELECT 1 AS one;\n' >"$se/R__views.sql"
run apply --dir "$se" -d "dbname=$se_db"
expect "status edits: applied" 0
run status --dir "$se" -d "dbname=$se_db"
expect "status: unedited files exit 0" 0 "3 applied, 0 pending"

# A cosmetic edit (a comment, other whitespace and letter case): shown, exit 0.
printf -- '-- pgmig:up\n-- the accounts\ncreate   table se_accounts (id int);\n-- pgmig:down\nDROP TABLE se_accounts;\n' \
    >"$se/1_accounts.sql"
run status --dir "$se" -d "dbname=$se_db"
expect "status: a cosmetic edit is shown, exit 0" 0 "edited (cosmetic)" "2 applied, 0 pending, 1 edited (cosmetic)"
# A real edit of an applied migration: edited, exit 58 (the next apply would fail with PM002).
mig "$se" 2_notes.sql "CREATE TABLE se_notes (id int, body text);" "DROP TABLE se_notes;"
run status --dir "$se" -d "dbname=$se_db"
expect "status: a real edit exits 58" 58 "1 edited" "2_notes" "pgmig repair"
if grep -qE '^2 +notes +versioned +edited ' <<<"$out"; then pass "status: the edited row says edited"; else fail "status: edited row" "$out"; fi
run status --dir "$se" --json -d "dbname=$se_db"
expect "status --json: a real edit exits 58" 58
json_check "status --json: edit states" \
    '[(r["version"], r["state"], r["edit"]) for r in d if r["kind"] == "versioned"] == [("1", "edited (cosmetic)", "cosmetic"), ("2", "edited", "edited")] and all(r["file_checksum"] for r in d)'
# An edited repeatable migration runs again at the next apply: pending.
printf -- 'CREATE OR REPLACE VIEW se_v AS SELECT 2 AS one;\n' >"$se/R__views.sql"
run status --dir "$se" --json -d "dbname=$se_db"
json_check "status --json: an edited R__ file is pending" \
    '[r["state"] for r in d if r["kind"] == "repeatable"] == ["pending (edited)"]'
mig "$se" 2_notes.sql "CREATE TABLE se_notes (id int);" "DROP TABLE se_notes;"
run status --dir "$se" -d "dbname=$se_db"
expect "status: the edited R__ file is pending, exit 0 without a real edit" 0 "pending (edited)"

# --- permission errors: their own exit code, naming the role to grant -------------------------------------
pe_role="pgmig_it_nogrants_$$"
pe_admin="pgmig_it_admin_$$"
sql "$se_db" "CREATE ROLE $pe_role LOGIN; CREATE ROLE $pe_admin LOGIN IN ROLE pgmig_admin;
              GRANT CREATE ON SCHEMA public TO $pe_admin;
              CREATE TABLE se_private (id int); REVOKE ALL ON se_private FROM PUBLIC" >/dev/null
run status --dir "$se" -d "dbname=$se_db user=$pe_role"
expect "status without grants exits 59 naming pgmig_reader" 59 "permission denied" "GRANT pgmig_reader TO $pe_role"
pe="$work/perm_migrations"
mig "$pe" 1_x.sql "CREATE TABLE pe_x (id int);"
run apply --dir "$pe" -d "dbname=$se_db user=$pe_role"
expect "apply without grants exits 59 naming pgmig_admin" 59 "GRANT pgmig_admin TO $pe_role"
run approve 1 --env production --dir "$pe" -d "dbname=$se_db user=$pe_role"
expect "approve without grants exits 59 naming pgmig_approver" 59 "GRANT pgmig_approver TO $pe_role"
run status --json -d "dbname=$se_db user=$pe_role"
json_check "status --json without grants: the error as JSON" \
    'd["ok"] is False and d["exit_code"] == 59 and d["error"]["kind"] == "permission_denied" and "pgmig_reader" in d["error"]["hint"]'
# A migration's own statement that lacks a privilege is the migration's failure: exit 5 with its SQLSTATE.
newdb pe_db
sql "$pe_db" "CREATE TABLE se_private (id int); REVOKE ALL ON se_private FROM PUBLIC;
              GRANT CREATE ON SCHEMA public TO $pe_admin" >/dev/null
pm="$work/perm_migration_own"
mig "$pm" 1_reads_private.sql "INSERT INTO se_private VALUES (1);"
run apply --dir "$pm" -d "dbname=$pe_db user=$pe_admin"
expect "a migration's own permission error stays exit 5" 5 "42501" "reads_private" "permission denied for table se_private"

# --- --json: one document on stdout, also on failure -------------------------------------------------------
run status --json -d "host=/nonexistent-socket-dir dbname=nowhere"
expect "status --json: cannot connect exits 4" 4
json_check "status --json: the connection error as one JSON document" \
    'd["ok"] is False and d["command"] == "status" and d["exit_code"] == 4 and d["error"]["kind"] == "connect" and d["error"]["message"]'
run validate --json --dir "$se" -d "host=/nonexistent-socket-dir dbname=nowhere"
json_check "validate --json: the connection error as one JSON document" \
    'd["exit_code"] == 4 and d["error"]["kind"] == "connect"'
run status --json --no-such-option
json_check "a usage error with --json is a JSON document (exit 2)" 'd["exit_code"] == 2 and d["error"]["kind"] == "usage"'

newdb js_db
js="$work/json_migrations"
mig "$js" 1_a.sql "CREATE TABLE js_a (id int);" "DROP TABLE js_a;"
mig "$js" 2_b.sql "CREATE TABLE js_b (id int);" "DROP TABLE js_b;"
run apply --json --dir "$js" -d "dbname=$js_db"
expect "apply --json exits 0" 0 "applied 2_b"
json_check "apply --json: the result document" \
    'd["command"] == "apply" and d["ok"] is True and d["exit_code"] == 0 and d["versions"] == ["1", "2"] and d["error"] is None and "dbname=" in d["target"]'
if grep -q "applied 1_a" <<<"$err"; then pass "apply --json: the usual lines go to stderr"; else fail "apply --json lines" "$err"; fi
run rollback --json -d "dbname=$js_db"
json_check "rollback --json: what was rolled back" 'd["command"] == "rollback" and d["ok"] is True and d["versions"] == ["2"]'
mig "$js" 3_fails.sql "CREATE TABLE js_a (id int);"
run apply --json --dir "$js" -d "dbname=$js_db"
expect "apply --json: a failed migration exits 5" 5
json_check "apply --json: the failure as JSON" \
    'd["ok"] is False and d["exit_code"] == 5 and d["error"]["kind"] == "migration_failed" and "\"fails\" failed" in d["error"]["message"]'
rm "$js/3_fails.sql"
run approve 2 --env production --json --dir "$js" -d "dbname=$js_db"
json_check "approve --json: one document" 'd["command"] == "approve" and d["exit_code"] == '"$rc"
run adopt --json --dir "$js" -d "dbname=$js_db"
expect "adopt --json without another tool's history exits 52" 52
json_check "adopt --json: the refusal as JSON" 'd["command"] == "adopt" and d["error"]["kind"] == "adopt_refused"'
run backup --json -d "dbname=$js_db" --out "$work/json-backups"
json_check "backup --json: the refusal as JSON" 'd["command"] == "backup" and d["exit_code"] == 19 and d["error"]["kind"] == "backup_failed"'
head -c 32 /dev/urandom >"$work/json-backup.key"
run backup --json -d "dbname=$js_db" --out "$work/json-backups" --key-file "$work/json-backup.key"
json_check "backup --json: the file and manifest" 'd["ok"] is True and d["result"]["file"].endswith(".pgmig-backup") and d["result"]["manifest"]["database"]'
js_file=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["result"]["file"])' "$work/out" 2>/dev/null)
js_restored="pgmig_it_$$_restored"
databases+=("$js_restored")
run restore --json "$js_file" --to "$js_restored" -d "dbname=$js_db" --key-file "$work/json-backup.key"
json_check "restore --json: the database restored" 'd["ok"] is True and d["result"]["database"] == "'"$js_restored"'"'
run deploy --json --env nowhere --dir "$js" -d "dbname=$js_db"
json_check "deploy --json: the error as JSON" 'd["command"] == "deploy" and d["ok"] is False and d["error"]["message"]'

# --- diff --exit-code, local status, new, the audit log -----------------------------------------------------
newdb dx_db
dx="$work/diff_exit"
mkdir -p "$dx/schema"
echo "CREATE TABLE dx_keep (id int);" >"$dx/schema/01.sql"
sql "$dx_db" "CREATE TABLE dx_keep (id int); CREATE TABLE dx_legacy (id int)" >/dev/null
run diff --exit-code --schema "$dx/schema" -d "dbname=$dx_db"
expect "diff --exit-code with only withheld differences exits 31" 31 "withheld (destructive)" "dx_legacy"
run diff --schema "$dx/schema" -d "dbname=$dx_db"
expect "diff without --exit-code still exits 32 for withheld steps" 32

run local status --dir "$work/no-cluster-here"
expect "local status of a cluster that is not running exits 7" 7 "not created"

nw="$work/new_numbering"
mkdir -p "$nw"
mig "$nw" 1_a.sql "SELECT 1;"
mig "$nw" 5_y.sql "SELECT 1;"
run new x --dir "$nw"
expect "new follows the folder's numbering" 0 "$nw/6_x.sql"

al="$work/audit_log_cwd"
mkdir -p "$al/home"
(cd "$al" && env -u PGMIG_AUDIT_LOG HOME="$al/home" XDG_STATE_HOME= "$bin" status -d "host=/nonexistent-socket-dir" >/dev/null 2>&1)
if [ ! -e "$al/logs" ] && [ -s "$al/home/.local/state/pgmig/migration-audit.log" ]; then
    pass "without pgmig.toml the audit log goes to ~/.local/state/pgmig, not ./logs"
else
    fail "audit log place" "$(cd "$al" && find . | head)"
fi
sql "$se_db" "DROP OWNED BY $pe_role, $pe_admin" >/dev/null
sql "$pe_db" "DROP OWNED BY $pe_admin" >/dev/null
sql "$se_db" "DROP ROLE $pe_role, $pe_admin" >/dev/null
