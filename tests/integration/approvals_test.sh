# Four-eyes approvals (pgmig approve / approvals), the client's audit log file,
# pgmig audit (DDL audit and history side by side) and live monitoring (pgmig monitor).
# Sourced by run.sh (see lib.sh for the helpers).

secret="Ap9r0val-S3cret-$$"   # in every connection string below; must never appear in any output or file
alice="it_alice_$$" bob="it_bob_$$"
# alice also watches other roles' sessions in pgmig monitor: pg_read_all_stats.
psql -X -q -d postgres -c "CREATE ROLE $alice LOGIN IN ROLE pgmig_admin, pgmig_approver, pg_read_all_stats" >/dev/null
psql -X -q -d postgres -c "CREATE ROLE $bob LOGIN IN ROLE pgmig_approver" >/dev/null
drop_roles() { psql -X -q -d postgres -c "DROP ROLE IF EXISTS $alice, $bob" >/dev/null 2>&1; }

newdb dba
sql "$dba" "GRANT CREATE ON SCHEMA public TO $alice" >/dev/null
aproj="$work/approvals"
mkdir -p "$aproj"
mig "$aproj/migrations" 1_accounts.sql "CREATE TABLE accounts (id int);" "DROP TABLE accounts;"
mig "$aproj/migrations" 2_orders.sql "CREATE TABLE orders (id int);" "DROP TABLE orders;"
cat >"$aproj/pgmig.toml" <<EOF
audit_log = "logs/audit.log"
[environments.production]
dbname_env = "IT_PRODUCTION_URL"
approval = true
EOF
as_alice="host=$PGHOST port=$PGPORT dbname=$dba user=$alice password=$secret"
as_bob="postgresql://$bob:$secret@/$dba?host=$PGHOST&port=$PGPORT"
alog="$aproj/logs/audit.log"
saved_audit_log=${PGMIG_AUDIT_LOG-unset}
unset PGMIG_AUDIT_LOG   # this test reads pgmig.toml's audit_log
cd "$aproj" || exit 1
export IT_PRODUCTION_URL="$as_alice"

# --- approvals: nothing approved, self-approval, another role's approval ----------------------------
# The rule (the database's, which migrate_apply() enforces): approvals count when they are by roles other
# than the migration's registrant; a file not registered yet will be registered by the deployer.
run approvals --env production
expect "approvals: files not registered yet need approval too" 28 "2 of 2 migrations to deploy are not approved" \
    "migration 1 \"accounts\"" "pgmig approve 2 --env production" "other than $alice, who registers it"
psql -X -q -d "$dba" -U "$alice" -c "SELECT migrate_register('1', 'accounts', 'CREATE TABLE accounts (id int);', 'DROP TABLE accounts;')" >/dev/null
run approvals --env production
expect "approvals: a pending migration without approval exits 28" 28 "2 of 2 migrations to deploy are not approved" \
    "migration 1 \"accounts\"" "no approval" "pgmig approve 1 --env production" "other than $alice"

run approve 1 2 --env production
expect "approve 1 2 as alice, who registered 1: refused (exit 29, PM031), nothing approved" 29 \
    "$alice registered it" "may not approve it" "nothing was approved"
run approve 2 --env production
expect "approve 2 as alice before it is registered (the file's checksum)" 0 \
    "approved 2 \"orders\" for production (checksum " "as $alice" "not registered yet"
run approvals --env production
expect "approvals: alice would register 2 herself: self_approved (exit 28)" 28 "self_approved" \
    "approved only by its registrant" "pgmig approve 2 --env production" "other than $alice"
run approvals --env production --json
if [ "$rc" -eq 28 ] && python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["environment"] == "production" and d["approved"] is False, d
assert [m["status"] for m in d["migrations"]] == ["missing", "self_approved"], d
assert all(len(m["checksum"]) == 64 and m["approvers"] == [] and m["registrant"] == sys.argv[1] for m in d["migrations"]), d
' "$alice" <<<"$out"; then pass "approvals --json: missing, self_approved"; else fail "approvals --json: missing, self_approved" "rc=$rc $(head -c 400 <<<"$out$err")"; fi
# bob deploys: he would register 2, so alice's approval of it counts; 1 is alice's own, unapproved.
run approvals --env production -d "$as_bob"
expect "approvals: deployer bob: alice's approval of 2 counts, 1 lacks one" 28 "approved for production by $alice" \
    "1 of 2 migrations to deploy is not approved"
# bob approves too: now everything is approved by a role other than its registrant.
run approve 1 2 --env production -d "$as_bob"
expect "approve as bob (no right to register: approves the files' scripts)" 0 "as $bob"
run approvals --env production
expect "approvals: deployer alice, approved by bob: ok" 0 "approved for production by $bob"
run approvals --env staging -d "$as_alice"
expect "approvals are per environment" 28 "no approval for staging"

# The file changes after the approvals: they are of another script. bob approves the new file before it is
# registered; alice registers it; then the file changes once more, and the approvals stop counting.
mig "$aproj/migrations" 2_orders.sql "CREATE TABLE orders (id bigint);" "DROP TABLE orders;"
run approve 2 --env production -d "$as_bob"
expect "approve of a changed file: its checksum, counting once registered" 0 "approved 2" "not registered yet"
psql -X -q -d "$dba" -U "$alice" -c "SELECT migrate_register('2', 'orders', 'CREATE TABLE orders (id bigint);', 'DROP TABLE orders;')" >/dev/null
mig "$aproj/migrations" 2_orders.sql "CREATE TABLE orders (id bigint, note text);" "DROP TABLE orders;"
run approvals --env production
expect "approvals: changed script needs a new approval" 28 "checksum_changed" "its script changed after it was approved"
run apply --to 1 -d "$as_alice"
expect "apply 1" 0 "applied 1_accounts"
run approve 1 --env production -d "$as_bob"
expect "approve of an applied migration exits 29 (PM025)" 29 "applied already"
run approve 7 --env production
expect "approve of a version without a file exits 3" 3 "no migration file has version 7"
run approve 1 --env nosuch
expect "approve with an unknown environment exits 3" 3 "nosuch"

# --- the client's audit log -----------------------------------------------------------------------
if [ -f "$alog" ] && python3 - "$alog" "$alice" "$bob" <<'PY'; then pass "audit log: one line per command with its fields"; else fail "audit log: one line per command with its fields" "$(tail -n 3 "$alog" 2>&1)"; fi
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
alice, bob = sys.argv[2], sys.argv[3]
assert len(lines) == 16, len(lines)
for l in lines:
    for k in ("time", "os_user", "db_role", "environment", "command", "arguments", "versions", "outcome", "duration_ms"):
        assert k in l, (k, l)
    assert l["time"].endswith("Z") and "T" in l["time"], l
approve = [l for l in lines if l["command"] == "approve"]
assert approve[0]["versions"] == [] and approve[0]["outcome"]["exit_code"] == 29, approve[0]
assert approve[1]["versions"] == ["2"] and approve[1]["db_role"] == alice, approve[1]
assert approve[1]["environment"] == "production" and approve[1]["outcome"] == {"status": "ok", "exit_code": 0}, approve[1]
assert approve[2]["db_role"] == bob and "<conninfo>" in approve[2]["arguments"], approve[2]
refused = [l for l in lines if l["outcome"]["exit_code"] == 28]
assert refused and refused[0]["command"] == "approvals" and refused[0]["outcome"]["status"] == "error", refused
failed = [l for l in lines if l["outcome"]["exit_code"] == 29]
assert failed[0]["outcome"]["kind"] == "approval_refused" and "may not approve it" in failed[0]["outcome"]["message"], failed
apply = [l for l in lines if l["command"] == "apply"]
assert apply[0]["versions"] == ["1"], apply
assert all(l["target"] is None or "password" not in l["target"] for l in lines)
PY
if [ "$(stat -c %a "$alog")" = 640 ]; then pass "audit log: mode 0640"; else fail "audit log: mode 0640" "$(stat -c %a "$alog")"; fi
run status -d "dbname=$dba password=$secret" --bogus-flag
expect "a usage error is logged too" 2
if [ "$(tail -n 1 "$alog" | python3 -c 'import json,sys; l=json.load(sys.stdin); print(l["outcome"]["kind"], l["outcome"]["exit_code"], l["arguments"][2])')" = "usage 2 <conninfo>" ]; then
    pass "audit log: usage error line, conninfo masked"
else
    fail "audit log: usage error line, conninfo masked" "$(tail -n 1 "$alog")"
fi
PGMIG_AUDIT_LOG="/proc/pgmig-cannot-write/audit.log" run status -d "$as_alice"
expect "an unwritable audit log is a warning, not a failure" 0 "warning: the audit log was not written"
PGMIG_AUDIT_LOG="" run status -d "$as_alice"
lines_before=$(wc -l <"$alog")
PGMIG_AUDIT_LOG="" run status -d "$as_alice"
if [ "$rc" -eq 0 ] && [ "$(wc -l <"$alog")" = "$lines_before" ] && [ -z "$err" ]; then pass "PGMIG_AUDIT_LOG= turns the log off"; else fail "PGMIG_AUDIT_LOG= turns the log off" "rc=$rc $err"; fi

# --- pgmig audit: DDL audit and history side by side ------------------------------------------------
sql "$dba" "CREATE TABLE sneaky (id int)" >/dev/null
run audit -d "$as_alice"
expect "pgmig audit: merged trail" 0 "TIME (UTC)" "migration" "apply" "CREATE TABLE" "public.accounts" "public.sneaky" "[OUT OF BAND]"
if grep "public.accounts" <<<"$out" | grep -q "OUT OF BAND"; then fail "pgmig audit: migration DDL is not out of band" "$out"; else pass "pgmig audit: migration DDL is not out of band"; fi
run audit --json --since 1h -d "$as_alice"
if [ "$rc" -eq 0 ] && python3 -c '
import json, sys
d = json.load(sys.stdin)
assert any(e["object"] == "public.sneaky" and e["out_of_band"] for e in d["ddl_audit"]), d["ddl_audit"]
assert any(e["what"] == "apply" and e["version"] == "1" for e in d["history"]), d["history"]
assert len(d["events"]) == len(d["ddl_audit"]) + len(d["history"])
ats = [e["at"] for e in d["events"]]
assert ats == sorted(ats), ats
' <<<"$out"; then pass "pgmig audit --json --since 1h"; else fail "pgmig audit --json --since 1h" "rc=$rc $(head -c 300 <<<"$out$err")"; fi
run audit --since "2999-01-01 00:00:00+00" -d "$as_alice"
expect "pgmig audit --since a future timestamp: nothing" 0 "no audit events since"
run audit --since yesterdayish -d "$as_alice"
expect "pgmig audit --since garbage is a usage error" 2 "neither a duration nor a timestamp"
run audit verify --anchor "$aproj/anchor.jsonl" -d "$as_alice"
expect "pgmig audit verify still works" 0 "audit chain intact"

# --- pgmig monitor: a migration waiting on a lock held by another session ---------------------------
run monitor --once -d "$as_alice"
expect "monitor: nothing running" 0 "no migration running"
mig "$aproj/migrations" 3_orders_note.sql "ALTER TABLE accounts ADD COLUMN note text;" "ALTER TABLE accounts DROP COLUMN note;"
sql "$dba" "GRANT SELECT ON accounts TO $bob" >/dev/null
# The blocker: a session idle in a transaction that holds a lock on accounts.
mkfifo "$work/blocker.in"
PGAPPNAME=it_blocker psql -X -q -d "$dba" <"$work/blocker.in" >/dev/null 2>&1 &
blocker_psql=$!
exec 7>"$work/blocker.in"
# Its last statement holds the test's secret in a DO block, whose body is withheld whole.
echo "BEGIN; LOCK TABLE accounts IN ACCESS SHARE MODE; DO \$\$ BEGIN PERFORM 'ALTER ROLE x PASSWORD ''$secret'''; END \$\$;" >&7
for _ in $(seq 50); do
    [ "$(sql "$dba" "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid) WHERE a.application_name = 'it_blocker' AND l.relation = 'accounts'::regclass")" = 1 ] && break
    sleep 0.1
done
blocker_pid=$(sql "$dba" "SELECT pid FROM pg_stat_activity WHERE application_name = 'it_blocker'")
PGOPTIONS="-c pgmig.lock_timeout=60s" "$bin" apply -d "$as_alice" >"$work/apply.out" 2>"$work/apply.err" &
apply_pid=$!
seen=""
for _ in $(seq 100); do
    run monitor --once --json -d "$as_alice"
    # pg_stat_activity and pg_locks are read a moment apart: wait until both show migration 3 waiting.
    if [ "$rc" -eq 0 ] && grep -q AccessExclusiveLock <<<"$out" && grep -q '"version": "3"' <<<"$out"; then seen=1; break; fi
    sleep 0.1
done
cat >"$work/monitor_check.py" <<'PY'
import json, sys
d = json.load(sys.stdin)
s = [x for x in d["sessions"] if x["migration"]]
assert len(s) == 1, d
s = s[0]
m = s["migration"]
assert m["version"] == "3" and m["index"] == 2 and m["count"] == 2 and m["statement"] == 1 and m["statements"] == 1, m
assert m["direction"] == "up" and m["transactional"] is True, m
assert s["statement"].startswith("ALTER TABLE accounts ADD COLUMN note"), s["statement"]
assert s["lock_waits"] == [{"locktype": "relation", "relation": "accounts", "mode": "AccessExclusiveLock"}], s["lock_waits"]
assert [b["pid"] for b in s["blockers"]] == [int(sys.argv[1])], s["blockers"]
assert s["blockers"][0]["state"] == "idle in transaction", s["blockers"]
assert s["blockers"][0]["statement"] == "DO '********';", s["blockers"]
assert s["wait_event_type"] == "Lock" and s["elapsed_ms"] >= 0, s
PY
if [ -n "$seen" ] && python3 "$work/monitor_check.py" "$blocker_pid" <<<"$out"; then pass "monitor --json: the waiting migration, its lock and its blocker"; else fail "monitor --json: the waiting migration, its lock and its blocker" "rc=$rc $(head -c 600 <<<"$out$err")"; fi
run monitor --once -d "$as_alice"
expect "monitor (text): migration, lock and blocker" 0 "migration 3 \"orders_note\" 2/2, statement 1/1 (line 1 of the up script)" \
    "waiting for AccessExclusiveLock on accounts" "blocked by pid $blocker_pid" "idle in transaction"
echo "COMMIT;" >&7
exec 7>&-
wait "$blocker_psql"
wait "$apply_pid"
apply_rc=$?
if [ "$apply_rc" -eq 0 ] && grep -q "applied 3_orders_note" "$work/apply.out" && ! grep -q $'\r' "$work/apply.out"; then
    pass "apply waited for the lock, then applied; no progress line when stdout is not a terminal"
else
    fail "apply waited for the lock, then applied" "rc=$apply_rc $(cat "$work/apply.out" "$work/apply.err")"
fi
run monitor --once --json -d "$as_alice"
if [ "$rc" -eq 0 ] && python3 -c 'import json,sys; assert json.load(sys.stdin)["sessions"] == []' <<<"$out"; then pass "monitor --json: nothing running after the run"; else fail "monitor --json: nothing running after the run" "$out"; fi
# On a terminal (script(1) gives apply a pty), apply draws its progress line with \r and clears it.
mig "$aproj/migrations" 4_slow.sql "SELECT pg_sleep(1.5);" ""
if command -v script >/dev/null; then
    script -qec "$bin apply -d '$as_alice'" /dev/null >"$work/tty.out" 2>&1
    if grep -q "migration 4 \"slow\" 1/1, statement 1/1" "$work/tty.out" && grep -q "applied 4_slow" "$work/tty.out"; then
        pass "apply on a terminal shows the progress line"
    else
        fail "apply on a terminal shows the progress line" "$(head -c 400 "$work/tty.out" | tr '\r\033' '<^')"
    fi
    # The statement is on line 3 of the file (line 1 of its up script): the progress line names the file's line.
    if grep -q "statement 1/1 (line 3 of [^)]*4_slow.sql)" "$work/tty.out"; then
        pass "the progress line names the file's line"
    else
        fail "the progress line names the file's line" "$(head -c 400 "$work/tty.out" | tr '\r\033' '<^')"
    fi
else
    fail "apply on a terminal shows the progress line" "script(1) is missing (bsdutils)"
fi

# An index build: CREATE INDEX CONCURRENTLY (a non-transactional migration) waits for a writer's open
# transaction before it builds; that phase of pg_stat_progress_create_index is deterministic.
{ echo "-- pgmig:no-transaction"; echo "-- pgmig:up"
  echo "CREATE INDEX CONCURRENTLY accounts_note ON accounts (note);"
  echo "-- pgmig:down"; echo "DROP INDEX CONCURRENTLY accounts_note;"; } >"$aproj/migrations/5_note_index.sql"
mkfifo "$work/writer.in"
PGAPPNAME=it_writer psql -X -q -d "$dba" <"$work/writer.in" >/dev/null 2>&1 &
writer_psql=$!
exec 8>"$work/writer.in"
echo "BEGIN; INSERT INTO accounts (id) VALUES (1);" >&8
for _ in $(seq 50); do
    [ "$(sql "$dba" "SELECT state FROM pg_stat_activity WHERE application_name = 'it_writer'")" = "idle in transaction" ] && break
    sleep 0.1
done
writer_pid=$(sql "$dba" "SELECT pid FROM pg_stat_activity WHERE application_name = 'it_writer'")
"$bin" apply -d "$as_alice" >"$work/apply5.out" 2>"$work/apply5.err" &
apply_pid=$!
cat >"$work/index_check.py" <<'PY'
import json, sys
d = json.load(sys.stdin)
s = [x for x in d["sessions"] if x["index_build"]]
assert len(s) == 1, d
s = s[0]
m = s["migration"]
assert m["version"] == "5" and m["transactional"] is False and m["statement"] == 1, m
assert s["statement"].startswith("CREATE INDEX CONCURRENTLY accounts_note ON accounts"), s["statement"]
ix = s["index_build"]
assert ix["phase"] == "waiting for writers before build" and ix["relation"] == "accounts", ix
assert ix["index"] == "accounts_note", ix
assert [b["pid"] for b in s["blockers"]] == [int(sys.argv[1])], s["blockers"]
assert s["lock_waits"] and s["lock_waits"][0]["locktype"] == "virtualxid", s["lock_waits"]
PY
# pg_stat_activity, pg_locks and the progress view are read a moment apart: sample until one sample shows
# the whole picture (phase, lock wait and blocker together), for up to 10 s.
seen=""
for _ in $(seq 100); do
    run monitor --once --json -d "$as_alice"
    if [ "$rc" -eq 0 ] && python3 "$work/index_check.py" "$writer_pid" <<<"$out" >/dev/null 2>&1; then seen=1; break; fi
    sleep 0.1
done
if [ -n "$seen" ] && python3 "$work/index_check.py" "$writer_pid" <<<"$out"; then pass "monitor --json: index build phase of a non-transactional migration"; else fail "monitor --json: index build phase of a non-transactional migration" "rc=$rc $(head -c 800 <<<"$out$err")"; fi
run monitor --once -d "$as_alice"
expect "monitor (text): index build" 0 "migration 5 \"note_index\", statement 1 [non-transactional]" \
    "index accounts_note waiting for writers before build" "blocked by pid $writer_pid"
echo "COMMIT;" >&8
exec 8>&-
wait "$writer_psql"
wait "$apply_pid"
apply_rc=$?
if [ "$apply_rc" -eq 0 ] && grep -q "applied 5_note_index" "$work/apply5.out"; then pass "the index build went on once the writer committed"; else fail "the index build went on once the writer committed" "rc=$apply_rc $(cat "$work/apply5.out" "$work/apply5.err")"; fi

# --- no secret anywhere -----------------------------------------------------------------------------
if grep -rqF -- "$secret" "$aproj" "$work/out" "$work/err" "$work/apply.out" "$work/apply.err" "$work/tty.out" "$work/apply5.out" "$work/apply5.err"; then
    fail "approvals/audit/monitor: the password appears in no output, log or file" "$(grep -rlF -- "$secret" "$aproj" "$work" | head -3)"
else
    pass "approvals/audit/monitor: the password appears in no output, log or file"
fi
if [ "$(sql "$dba" "SELECT count(*) FROM pgmig.approvals a WHERE a::text LIKE '%$secret%'")" = 0 ]; then pass "approvals rows hold no secret"; else fail "approvals rows hold no secret" "found"; fi

cd "$root" || exit 1
unset IT_PRODUCTION_URL
if [ "$saved_audit_log" != unset ]; then export PGMIG_AUDIT_LOG="$saved_audit_log"; fi
sql "$dba" "DROP OWNED BY $alice, $bob" >/dev/null 2>&1
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $dba" >/dev/null 2>&1
drop_roles
