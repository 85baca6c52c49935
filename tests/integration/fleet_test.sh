# pgmig deploy --fleet: 66 databases on three clusters (this one and two `pgmig local` clusters), found by
# a database-name pattern per server, a directory query and a list; a canary wave, a share, the rest; a
# target whose migration fails (reported, left as it was, retried by --resume); a cluster stopped in the
# middle of a wave (the run halts by policy, the state file is exact, --resume finishes); the client killed
# with SIGKILL mid-wave and resumed (nothing applied twice); a pause between waves; JSON events; pgmig
# fleet drift over the same targets.
fleet_dir="$work/fleet"
mkdir -p "$fleet_dir"
fc2="$work/cluster2"
fc3="$work/cluster3"
fleet_setup_ok=1
for c in "$fc2" "$fc3"; do
    run local start --dir "$c"
    expect "fleet: local cluster $(basename "$c") starts" 0 "local cluster started" || fleet_setup_ok=0
done
# host and port of each cluster: this one, then the two local ones.
fleet_hosts=("$PGHOST")
fleet_ports=("$PGPORT")
for c in "$fc2" "$fc3"; do
    envs=$("$bin" local env --dir "$c")
    fleet_hosts+=("$(eval "$envs"; echo "$PGHOST")")
    fleet_ports+=("$(eval "$envs"; echo "$PGPORT")")
done
fconn() { echo "host=${fleet_hosts[$1]} port=${fleet_ports[$1]} user=postgres dbname=$2"; }
fsql() { psql -X -A -t -q -v ON_ERROR_STOP=1 -d "$(fconn "$1" "$2")" -c "$3" 2>&1; }

# 22 databases per cluster, made from a template that has the extension.
fleet_n=22
for i in 0 1 2; do
    fsql "$i" postgres "CREATE DATABASE fleet_tpl" >/dev/null
    fsql "$i" fleet_tpl "CREATE EXTENSION pgmig" >/dev/null || fleet_setup_ok=0
    for n in $(seq -w 1 $fleet_n); do
        fsql "$i" postgres "CREATE DATABASE fleet_t_$n TEMPLATE fleet_tpl" >/dev/null || fleet_setup_ok=0
        [ "$i" -eq 0 ] && databases+=("fleet_t_$n")
    done
    [ "$i" -eq 0 ] && databases+=(fleet_tpl)
done
check "fleet: 66 databases with the extension on three clusters" "$fleet_setup_ok" 1

# every target's value of SQL, one line per target: "cluster/db value"
fleet_each() {
    local i n
    for i in 0 1 2; do
        for n in $(seq -w 1 $fleet_n); do echo "$i/fleet_t_$n $(fsql "$i" "fleet_t_$n" "$1")"; done
    done
}

cat >"$fleet_dir/pgmig.toml" <<TOML
migrations = "migrations"
audit_log = ""

[fleets.tenants]
parallel = 4
max_failures = 0
servers = [
  { conninfo = "$(fconn 0 postgres)", databases = "fleet\\\\_t\\\\_%", labels = { server = "one" } },
  { conninfo = "$(fconn 1 postgres)", databases = "fleet\\\\_t\\\\_%", labels = { server = "two" } },
  { conninfo = "$(fconn 2 postgres)", databases = "fleet\\\\_t\\\\_%", labels = { server = "three" } },
]
[[fleets.tenants.waves]]
name = "canary"
count = 1
[[fleets.tenants.waves]]
name = "early"
percent = 30
parallel = 6
[[fleets.tenants.waves]]
name = "rest"
max_failures = 2

[fleets.slow]
parallel = 3
max_failures = 3
servers = [
  { conninfo = "$(fconn 0 postgres)", databases = "fleet\\\\_t\\\\_%" },
  { conninfo = "$(fconn 1 postgres)", databases = "fleet\\\\_t\\\\_%" },
  { conninfo = "$(fconn 2 postgres)", databases = "fleet\\\\_t\\\\_%" },
]

[fleets.paused]
targets = ["$(fconn 0 fleet_t_01)", { conninfo = "$(fconn 1 fleet_t_01)", name = "two-01" }]
[fleets.paused.directory]
conninfo = "$(fconn 0 postgres)"
query = "SELECT format('host=%s port=%s user=postgres dbname=fleet_t_%s', '${fleet_hosts[2]}', ${fleet_ports[2]}, n) AS conninfo, 'three-' || n AS name, CASE WHEN n < '03' THEN 'eu' ELSE 'us' END AS region FROM unnest(ARRAY['01', '02', '03']) AS n"
[[fleets.paused.waves]]
name = "eu"
labels = { region = "eu" }
then = "pause"
TOML
mig "$fleet_dir/migrations" 1_accounts.sql "CREATE TABLE accounts (id bigint PRIMARY KEY, name text NOT NULL);"
mig "$fleet_dir/migrations" 2_accounts_email.sql "ALTER TABLE accounts ADD COLUMN email text;"
pushd "$fleet_dir" >/dev/null || return

# --- a first run: canary, 30 %, the rest ----------------------------------------------------------------
run deploy --fleet tenants
expect "fleet: deploy --fleet runs three waves over 66 targets" 0 "66 targets in 3 waves" "wave 1/3 canary: 1 targets" \
    "wave 2/3 early: 20 targets" "wave 3/3 rest: 45 targets" "done: 66 targets deployed"
run1=$(sed -n 's/^fleet tenants run \([^:]*\):.*/\1/p' <<<"$out")
check "fleet: every target has both migrations, applied by the run (pgmig.history.deploy_run)" \
    "$(fleet_each "SELECT count(*) FROM pgmig.history WHERE action = 'apply' AND deploy_run = '$run1'" | awk '{print $2}' | sort | uniq -c | tr -s ' ')" \
    " 66 2"
run fleet status "$run1" --json
check "fleet: fleet status --json counts 66 done" "$(jq -r '.status + " " + (.counts.done | tostring)' <<<"$out")" "done 66"
run deploy --fleet tenants
expect "fleet: a second run finds nothing pending" 0 "done: 66 targets deployed" "nothing pending"

# --- a target whose migration fails: reported, left as it was, retried by --resume --------------------------
# (a row, not a table: a table made outside the migrations would be drift, which the pre-flight refuses)
fsql 2 fleet_t_07 "INSERT INTO accounts VALUES (7, 'block me')" >/dev/null
mig "$fleet_dir/migrations" 3_orders.sql "CREATE TABLE orders (id bigint PRIMARY KEY, account bigint REFERENCES accounts);
DO \$\$ BEGIN IF EXISTS (SELECT FROM accounts WHERE name = 'block me') THEN RAISE EXCEPTION 'orders blocked here'; END IF; END \$\$;"
run deploy --fleet tenants
expect "fleet: a failing target is reported with its error; the run ends with exit 63" 63 "failed" \
    "orders blocked here" "ended with 1 of 66 targets not deployed" "--resume"
run2=$(sed -n 's/^fleet tenants run \([^:]*\):.*/\1/p' <<<"$out")
check "fleet: the failed target is left as it was (no orders table; its transaction did not even register 3)" \
    "$(fsql 2 fleet_t_07 "SELECT to_regclass('orders') IS NULL, (SELECT count(*) FROM pgmig.migrations)")" "t|2"
check "fleet: the other 65 have the new table" \
    "$(fleet_each "SELECT to_regclass('orders') IS NOT NULL" | grep -c ' t$')" 65
run fleet status "$run2"
expect "fleet: fleet status names the failed target and its error" 0 "failed" "fleet_t_07" "orders blocked here"
fsql 2 fleet_t_07 "DELETE FROM accounts WHERE id = 7" >/dev/null
run deploy --fleet tenants --resume "$run2"
expect "fleet: --resume retries the failed target" 0 "done before)" "done: 66 targets deployed"
check "fleet: --resume ran only the failed target" "$(grep -c '^  done ' <<<"$out")" 1
check "fleet: the retried target was applied by the resumed run" \
    "$(fsql 2 fleet_t_07 "SELECT deploy_run FROM pgmig.history WHERE version = '3' AND action = 'apply'")" "$run2"

# --- bad input ------------------------------------------------------------------------------------------------
run deploy --fleet nosuch
expect "fleet: an unknown fleet exits 3 naming the known ones" 3 "no fleet 'nosuch'" "paused, slow, tenants"
run deploy --fleet tenants --env prod
expect "fleet: --fleet with --env is a usage error" 2 "excludes"
run deploy --fleet tenants --resume 20990101T000000Z-000000
expect "fleet: resuming an unknown run exits 3" 3 "no fleet run 20990101T000000Z-000000"
run deploy --fleet slow --resume "$run2"
expect "fleet: resuming another fleet's run is refused" 2 "is a run of fleet 'tenants'"

# --- a cluster stopped in the middle of a wave: the run halts by policy --------------------------------------
mig "$fleet_dir/migrations" 4_slow.sql "CREATE TABLE audit_marks (id int); SELECT pg_sleep(0.4);"
# deploy_in_background OUT N: starts deploy --fleet slow --json into OUT (pid in $bg_pid) and returns once N
# targets have ended (at most 30 s).
deploy_in_background() {
    "$bin" deploy --fleet slow --json >"$1" 2>"$1.err" &
    bg_pid=$!
    for _ in $(seq 1 300); do
        [ "$(grep -c '"event":"target"' "$1")" -ge "$2" ] && break
        sleep 0.1
    done
}
deploy_in_background "$work/slow.out" 12
slow_pid=$bg_pid
run local stop --dir "$fc3"
wait "$slow_pid"
slow_rc=$?
run3=$(jq -r 'select(.event == "run") | .run' "$work/slow.out")
check "fleet: with a cluster stopped mid-wave the run halts (exit 63)" "$slow_rc" 63
check "fleet: the halt is a wave event and the final document" \
    "$(jq -r 'select(.event == "wave") | .state' "$work/slow.out") $(tail -n 1 "$work/slow.out" | jq -r '.error.kind')" "halted fleet_incomplete"
state_file=".pgmig/fleet/$run3.json"
halted_done=$(jq -r '[.targets[] | select(.state == "done")] | length' "$state_file")
halted_failed=$(jq -r '[.targets[] | select(.state == "unreachable" or .state == "failed")] | length' "$state_file")
halted_skipped=$(jq -r '[.targets[] | select(.state == "skipped")] | length' "$state_file")
if [ "$halted_failed" -ge 4 ] && [ "$halted_skipped" -gt 0 ] && [ "$halted_done" -ge 12 ]; then
    pass "fleet: the halted run's state: $halted_done done, $halted_failed unreachable, $halted_skipped never started"
else
    fail "fleet: the halted run's state" "done $halted_done, failed $halted_failed, skipped $halted_skipped"
fi
# The state file is exact: a target it calls done has migration 4, any other reachable one does not.
mismatch=0
for name in $(jq -r '.targets | keys[]' "$state_file"); do
    conninfo=$(jq -r --arg n "$name" '.targets[$n].conninfo' "$state_file")
    st=$(jq -r --arg n "$name" '.targets[$n].state' "$state_file")
    has=$(psql -X -A -t -q -d "$conninfo" -c "SELECT to_regclass('audit_marks') IS NOT NULL" 2>/dev/null) || continue
    if { [ "$st" = done ] && [ "$has" != t ]; } || { [ "$st" != done ] && [ "$has" = t ]; }; then
        mismatch=$((mismatch + 1))
        echo "  mismatch: $name is $st, audit_marks: $has"
    fi
done
check "fleet: every reachable target is as the state file says" "$mismatch" 0
run local start --dir "$fc3"
expect "fleet: the stopped cluster starts again" 0 "started"
run deploy --fleet slow --resume "$run3"
expect "fleet: --resume finishes the halted run" 0 "done: 66 targets deployed"
check "fleet: migration 4 applied exactly once everywhere" \
    "$(fleet_each "SELECT count(*) FROM pgmig.history WHERE version = '4' AND action = 'apply'" | awk '{print $2}' | sort | uniq -c | tr -s ' ')" \
    " 66 1"

# --- the client killed with SIGKILL mid-wave, then resumed ----------------------------------------------------
mig "$fleet_dir/migrations" 5_slow_again.sql "CREATE TABLE audit_marks2 (id int); SELECT pg_sleep(0.4);"
deploy_in_background "$work/kill.out" 10
kill_pid=$bg_pid
kill -KILL "$kill_pid"
wait "$kill_pid" 2>/dev/null
run4=$(jq -r 'select(.event == "run") | .run' "$work/kill.out")
running=$(jq -r '[.targets[] | select(.state == "running")] | length' ".pgmig/fleet/$run4.json")
if [ "$running" -ge 1 ]; then pass "fleet: killed mid-wave, the state file has $running targets running"; else
    fail "fleet: killed mid-wave" "no target was running in the state file"; fi
run deploy --fleet slow --resume "$run4"
expect "fleet: --resume after SIGKILL finishes the run" 0 "done: 66 targets deployed"
check "fleet: after SIGKILL and resume, migration 5 applied exactly once everywhere, all by that run" \
    "$(fleet_each "SELECT count(*) || ' ' || string_agg(deploy_run, ',') FROM pgmig.history WHERE version = '5' AND action = 'apply'" | awk '{print $2, $3}' | sort | uniq -c | tr -s ' ')" \
    " 66 1 $run4"

# --- a pause between waves; a list and a directory query ----------------------------------------------------
mig "$fleet_dir/migrations" 6_notes.sql "CREATE TABLE notes (id int);"
run deploy --fleet paused
expect "fleet: a wave with then = pause stops the run (exit 64)" 64 "wave 1/2 eu: 2 targets" "paused after wave eu" "--resume"
run5=$(sed -n 's/^fleet paused run \([^:]*\):.*/\1/p' <<<"$out")
check "fleet: the eu wave (from the directory query's labels) is done, the rest untouched" \
    "$(fsql 2 fleet_t_01 "SELECT to_regclass('notes') IS NOT NULL")$(fsql 2 fleet_t_02 "SELECT to_regclass('notes') IS NOT NULL")$(fsql 2 fleet_t_03 "SELECT to_regclass('notes') IS NOT NULL")$(fsql 0 fleet_t_01 "SELECT to_regclass('notes') IS NOT NULL")" \
    "ttff"
# On a terminal, a status line under the target lines shows the wave's counts as they change.
tty_out=$(on_terminal "no prompt" - deploy --fleet paused --resume "$run5")
if grep -q $'\r\033\[Kwave 2/2 rest: [0-9] done, 0 failed, 0 unreachable, [0-9] running' <<<"$tty_out" &&
    grep -q "done: 5 targets deployed" <<<"$tty_out" && grep -q "exit=0" <<<"$tty_out"; then
    pass "fleet: --resume goes on after the pause, with a progress line on a terminal"
else
    fail "fleet: --resume after the pause, on a terminal" "$(tr '\r\033' '^~' <<<"$tty_out" | tail -c 600)"
fi

# --- pgmig fleet drift: every target, past drifted and unreachable ones ---------------------------------------
fsql 0 fleet_t_03 "CREATE TABLE drifted_here (id int)" >/dev/null
run fleet drift slow
expect "fleet: fleet drift names the drifted target and its object; exit 31" 31 "drifted" "fleet_t_03: 1 objects" \
    "drifted_here" "66 targets, 65 clean, 1 drifted, 0 not read"
run local stop --dir "$fc3"
run fleet drift slow --json
check "fleet: fleet drift goes on past a stopped cluster (exit 63, its server unlisted, the drifted one still found)" \
    "$rc $(jq -r '"\(.targets) \(.clean) \(.drifted) \(.unlisted_sources | length)"' <<<"$out") $(jq -r '[.results[] | select(.state == "drifted") | .objects[0].identity] | join(",")' <<<"$out")" \
    "63 44 43 1 1 public.drifted_here"
# A target listed by name (not found through its server) on the stopped cluster is reported unreachable.
run fleet drift paused
expect "fleet: fleet drift reports a listed target of a stopped cluster as unreachable" 63 "unreachable" "three-01"
run local start --dir "$fc3"
cat >>pgmig.toml <<TOML
[fleets.drifted]
targets = ["$(fconn 0 fleet_t_03)"]
TOML
run deploy --fleet drifted
expect "fleet: a drifted target fails its pre-flight check and is not migrated" 63 "objects differ from what the ledger expects" \
    "halted in wave all" "pgmig fleet drift drifted shows them"
check "fleet: nothing was applied to the drifted target" "$(fsql 0 fleet_t_03 "SELECT to_regclass('notes') IS NULL")" t
fsql 0 fleet_t_03 "DROP TABLE drifted_here" >/dev/null

# A target whose audit chain was edited behind the guard fails its pre-flight check (as deploy's health does).
fsql 0 fleet_t_03 "SELECT sealed >= 0 FROM migrate_audit_verify();
    ALTER TABLE pgmig.ddl_audit DISABLE TRIGGER ddl_audit_immutable;
    UPDATE pgmig.ddl_audit SET statement = statement || ' ' WHERE id = (SELECT max(id) FROM pgmig.ddl_audit WHERE chain_seq IS NOT NULL);
    ALTER TABLE pgmig.ddl_audit ENABLE ALWAYS TRIGGER ddl_audit_immutable;" >/dev/null
run deploy --fleet drifted
expect "fleet: a target with a broken audit chain fails its pre-flight check and is not migrated" 63 \
    "fleet_t_03" "the audit chain is broken at audit row" "pgmig audit reseal --reason"
check "fleet: nothing was applied to the target with the broken chain" "$(fsql 0 fleet_t_03 "SELECT to_regclass('notes') IS NULL")" t
fsql 0 fleet_t_03 "SELECT count(*) >= 0 FROM migrate_audit_reseal('fleet test: the edited row was put there by the test')" >/dev/null

# --- one approval for the whole fleet: pgmig fleet approve, then migrate_apply() in each target checks it ------
fleet_bob="it_fleet_bob_$$"
for i in 0 1 2; do fsql "$i" postgres "CREATE ROLE $fleet_bob LOGIN IN ROLE pgmig_approver" >/dev/null; done
cat >>pgmig.toml <<TOML

[environments.prodfleet]
approval = true
[fleets.approved]
environment = "prodfleet"
targets = [
  "host=${fleet_hosts[0]} port=${fleet_ports[0]} dbname=fleet_t_09",
  "host=${fleet_hosts[1]} port=${fleet_ports[1]} dbname=fleet_t_09",
  "host=${fleet_hosts[2]} port=${fleet_ports[2]} dbname=fleet_t_09",
]
TOML
mig "$fleet_dir/migrations" 7_reviewed.sql "CREATE TABLE reviewed (id int);"
run deploy --fleet approved
expect "fleet: without approvals the first target is refused and the wave halts" 63 "approval" "halted"
run6=$(sed -n 's/^fleet approved run \([^:]*\):.*/\1/p' <<<"$out")
check "fleet: nothing was applied without the approval" \
    "$(fsql 0 fleet_t_09 "SELECT to_regclass('reviewed') IS NULL")$(fsql 1 fleet_t_09 "SELECT to_regclass('reviewed') IS NULL")" tt
PGUSER=$fleet_bob run fleet approve approved 6 7
expect "fleet: fleet approve as another role records the approval in every target" 0 \
    "approved 6_notes, 7_reviewed for prodfleet in 3 of 3 targets"
PGUSER=$fleet_bob run fleet approve approved 1 7
expect "fleet: approving again approves only what is not applied (1 is, everywhere)" 0 \
    "approved 1_accounts, 7_reviewed for prodfleet in 3 of 3 targets"
run deploy --fleet approved --resume "$run6"
expect "fleet: with the fleet's approval, the resumed run deploys" 0 "done: 3 targets deployed" || echo "$out" | tail -6
# then = "approval": the canary goes without approvals, every later wave requires them.
cat >>pgmig.toml <<TOML
[environments.gate]
[fleets.gated]
environment = "gate"
targets = [
  "host=${fleet_hosts[0]} port=${fleet_ports[0]} dbname=fleet_t_13",
  "host=${fleet_hosts[1]} port=${fleet_ports[1]} dbname=fleet_t_13",
  "host=${fleet_hosts[2]} port=${fleet_ports[2]} dbname=fleet_t_13",
]
[[fleets.gated.waves]]
name = "canary"
count = 1
then = "approval"
TOML
run deploy --fleet gated
expect "fleet: then = approval stops after the canary (exit 64), saying who must approve what" 64 \
    "paused after wave canary" "pgmig fleet approve gated VERSION"
run7=$(sed -n 's/^fleet gated run \([^:]*\):.*/\1/p' <<<"$out")
run deploy --fleet gated --resume "$run7"
expect "fleet: past the gate, a target without the approval is refused by its migrate_apply()" 63 "PM032" "halted" \
    "pgmig fleet approve gated VERSION"
PGUSER=$fleet_bob run fleet approve gated 6 7
expect "fleet: the reviewer approves the rest of the fleet at once" 0 "in 3 of 3 targets"
run deploy --fleet gated --resume "$run7"
expect "fleet: with the approval the gated run finishes" 0 "done: 3 targets deployed"
for i in 0 1 2; do fsql "$i" postgres "DROP OWNED BY $fleet_bob; DROP ROLE $fleet_bob" >/dev/null 2>&1; done

# --- an environment that requires backups: each target backed up before it is migrated ---------------------------
# (and one alert per wave, to a real webhook receiver on loopback)
openssl rand -hex 32 >"$fleet_dir/backup.key"
python3 "$root/tests/integration/alert_receivers.py" http --mode ok --record "$fleet_dir/hook.jsonl" \
    --port-file "$fleet_dir/hook.port" >"$fleet_dir/hook.log" 2>&1 &
fleet_hook_pid=$!
for _ in $(seq 100); do [ -s "$fleet_dir/hook.port" ] && break; sleep 0.1; done
cat >>pgmig.toml <<TOML

[alerts.fleethook]
type = "webhook"
url = "http://127.0.0.1:$(cat "$fleet_dir/hook.port")/fleet"
[environments.backedup]
backup = true
backup_dir = "$fleet_dir/backups"
backup_key_file = "$fleet_dir/backup.key"
alerts = ["fleethook"]
[environments.nokey]
backup = true
backup_dir = "$fleet_dir/backups"
backup_key_file = "$fleet_dir/no-such.key"
alerts = ["fleethook"]
[fleets.backedup]
environment = "backedup"
targets = ["$(fconn 0 fleet_t_11)", "$(fconn 1 fleet_t_11)"]
[fleets.nokey]
environment = "nokey"
targets = ["$(fconn 0 fleet_t_12)"]
TOML
run deploy --fleet nokey
expect "fleet: a target whose backup fails is failed and not migrated" 63 "backup failed, nothing was migrated" \
    "no-such.key"
check "fleet: nothing was applied where the backup failed" "$(fsql 0 fleet_t_12 "SELECT to_regclass('notes') IS NULL")" t
# (the key through a pipe, as from a secret store: read once, for every target)
run deploy --fleet backedup --key-file <(cat "$fleet_dir/backup.key")
expect "fleet: with backup = true every target is backed up, then migrated" 0 "backed up" "done: 2 targets deployed"
fleet_backups=$(find "$fleet_dir/backups/backedup/backedup" -name '*.pgmig-backup' | sort)
check "fleet: one backup per target, in a folder of its own" "$(wc -l <<<"$fleet_backups")" 2
run backup verify --key-file "$fleet_dir/backup.key" $fleet_backups
expect "fleet: the backups verify (manifest, key, pg_restore --list)" 0
check "fleet: one alert per wave, naming the fleet, the wave and the failed target" \
    "$(python3 -c 'import json, sys
for line in open(sys.argv[1]):
    b = json.loads(line)["body"]
    print(b["event"], b["extra"]["fleet"], b["extra"]["wave"], b["extra"]["counts"]["failed"], "fleet_t_12" in (b.get("error") or ""))' "$fleet_dir/hook.jsonl" | tr '\n' ';')" \
    "deploy_failed nokey all 1 True;deploy_succeeded backedup all 0 False;"
kill "$fleet_hook_pid" 2>/dev/null
check "fleet: the backups were taken before migrating (no notes table in them)" \
    "$(for b in $fleet_backups; do "$bin" restore "$b" --key-file "$fleet_dir/backup.key" --to "fleet_restored_$$" -d "$(fconn 0 postgres)" >/dev/null 2>&1; fsql 0 "fleet_restored_$$" "SELECT to_regclass('notes') IS NULL, to_regclass('audit_marks2') IS NOT NULL"; fsql 0 postgres "DROP DATABASE IF EXISTS fleet_restored_$$" >/dev/null; done | sort -u)" "t|t"

popd >/dev/null || true

# --- the environment's lint threshold, enforced in each target by migrate_apply() (pgmig.lint_block) ------------
fsql 0 postgres "CREATE DATABASE fleet_lint TEMPLATE fleet_tpl" >/dev/null
databases+=(fleet_lint)
lint_dir="$work/lintproj"
mkdir -p "$lint_dir"
cat >"$lint_dir/pgmig.toml" <<TOML
audit_log = ""
[environments.strict]
lint = "error"
[fleets.linted]
environment = "strict"
targets = ["$(fconn 0 fleet_lint)"]
TOML
mig "$lint_dir/migrations" 1_things.sql "CREATE TABLE things (id int PRIMARY KEY);"
pushd "$lint_dir" >/dev/null || return
run deploy --fleet linted
expect "fleet: a clean migration passes the environment's lint threshold" 0 "done: 1 targets deployed"
mig "$lint_dir/migrations" 2_things_x.sql "ALTER TABLE things ADD COLUMN x int NOT NULL;"
run deploy --fleet linted
expect "fleet: a lint error at the environment's threshold fails the target (PM017), nothing applied" 63 \
    "add-column-not-null-no-default" "PM017"
check "fleet: the refused migration was not applied" "$(fsql 0 fleet_lint "SELECT count(*) FROM pgmig.migrations")" 1

# per_server: two targets of one server, parallel = 2, one at a time there.
for db in fleet_p1 fleet_p2; do fsql 0 postgres "CREATE DATABASE $db TEMPLATE fleet_tpl" >/dev/null; databases+=("$db"); done
cat >>pgmig.toml <<TOML
[fleets.oneper]
parallel = 2
per_server = 1
targets = ["$(fconn 0 fleet_p1)", "$(fconn 0 fleet_p2)"]
TOML
mig "$lint_dir/migrations" 3_wait.sql "SELECT pg_sleep(0.6);"
run deploy --fleet oneper
expect "fleet: per_server = 1 deploys two targets of one server" 0 "done: 2 targets deployed"
check "fleet: per_server = 1: the second target started after the first committed" \
    "$(psql -X -A -t -q -d "$(fconn 0 fleet_p1)" -c "SELECT extract(epoch FROM at) FROM pgmig.history WHERE version = '3' AND action = 'apply'" |
       awk -v other="$(fsql 0 fleet_p2 "SELECT extract(epoch FROM at) FROM pgmig.history WHERE version = '3' AND action = 'apply'")" \
           '{ d = $1 - other; if (d < 0) d = -d; print (d >= 0.5) ? "yes" : "no " d }')" yes
# A ledger edited behind pgmig's back fails the pre-flight (migrate_verify()), before anything runs.
fsql 0 fleet_p2 "UPDATE pgmig.migrations SET up_sql = 'SELECT 1' WHERE version = '1'" >/dev/null
mig "$lint_dir/migrations" 4_more.sql "CREATE TABLE more (id int);"
run deploy --fleet oneper
expect "fleet: a tampered ledger fails its target's pre-flight" 63 "migrate_verify() finds 1 problem in"
check "fleet: nothing was applied to the tampered target" "$(fsql 0 fleet_p2 "SELECT to_regclass('more') IS NULL")" t
popd >/dev/null || true

# --- logical replication: a publisher (cluster 2) and its subscriber (cluster 3), rows flowing all along -------
fsql 1 postgres "ALTER SYSTEM SET wal_level = logical" >/dev/null
run local stop --dir "$fc2"
run local start --dir "$fc2"
check "fleet: the publisher's cluster runs with wal_level = logical" "$(fsql 1 postgres "SHOW wal_level")" logical
for i in 1 2; do
    fsql "$i" postgres "CREATE DATABASE repl_$i TEMPLATE fleet_tpl" >/dev/null
done
repl_dir="$work/repl"
mkdir -p "$repl_dir"
cat >"$repl_dir/pgmig.toml" <<TOML
audit_log = ""
[fleets.repl]
targets = [{ conninfo = "$(fconn 1 repl_1)", name = "pub" }, { conninfo = "$(fconn 2 repl_2)", name = "sub" }]
[[fleets.repl.replication]]
publication = "items_pub"
publisher = "pub"
subscribers = ["sub"]
TOML
mig "$repl_dir/migrations" 1_items.sql "CREATE TABLE items (id bigint PRIMARY KEY, v text);
CREATE PUBLICATION items_pub FOR TABLE items;"
pushd "$repl_dir" >/dev/null || return
run deploy --fleet repl
expect "fleet: replication: the table and publication reach both (additions: subscribers first)" 0 \
    "publication items_pub: subscribers first" "done: 2 targets deployed"
fsql 2 repl_2 "CREATE SUBSCRIPTION items_sub CONNECTION '$(fconn 1 repl_1)' PUBLICATION items_pub" >/dev/null 2>&1
# Rows keep coming on the publisher while the rollouts run.
( for i in $(seq 1 100000); do
      fsql 1 repl_1 "INSERT INTO items (id, v) VALUES ($i, 'row $i')" >/dev/null 2>&1 || true
      [ -f "$work/repl.stop" ] && break
      sleep 0.02
  done ) &
inserter=$!
poll_sql "$(fconn 2 repl_2)" "SELECT count(*) > 20 FROM items" 60 || fail "fleet: replication" "no row reached the subscriber"
applied_at() { fsql "$1" "$2" "SELECT extract(epoch FROM at) FROM pgmig.history WHERE version = '$3' AND action = 'apply'"; }
mig "$repl_dir/migrations" 2_items_note.sql "ALTER TABLE items ADD COLUMN note text;"
run deploy --fleet repl
expect "fleet: replication: an added column is ordered subscribers first" 0 "publication items_pub: subscribers first (2_items_note adds)"
check "fleet: replication: the subscriber got the column before the publisher" \
    "$(awk -v s="$(applied_at 2 repl_2 2)" -v p="$(applied_at 1 repl_1 2)" 'BEGIN { print (s < p) ? "yes" : "no" }')" yes
mig "$repl_dir/migrations" 3_items_drop_note.sql "ALTER TABLE items DROP COLUMN note;"
run deploy --fleet repl
expect "fleet: replication: a dropped column is ordered publisher first" 0 "publication items_pub: publisher first (3_items_drop_note removes)"
check "fleet: replication: the publisher dropped the column before the subscriber" \
    "$(awk -v s="$(applied_at 2 repl_2 3)" -v p="$(applied_at 1 repl_1 3)" 'BEGIN { print (p < s) ? "yes" : "no" }')" yes
mig "$repl_dir/migrations" 4_items_mixed.sql "ALTER TABLE items ADD COLUMN w int;
ALTER TABLE items DROP COLUMN v;"
run deploy --fleet repl
expect "fleet: replication: a migration that adds and removes is refused, saying why (exit 65)" 65 \
    "4_items_mixed both adds" "split it into two migrations"
check "fleet: replication: the refused plan touched nothing" \
    "$(fsql 1 repl_1 "SELECT count(*) FROM pgmig.migrations WHERE version = '4'")$(fsql 2 repl_2 "SELECT count(*) FROM pgmig.migrations WHERE version = '4'")" 00
rm "$repl_dir/migrations/4_items_mixed.sql"
mig "$repl_dir/migrations" 4_items_rows.sql "UPDATE items SET v = upper(v) WHERE id < 5;"
run deploy --fleet repl
expect "fleet: replication: a migration that changes rows is refused (it would run twice on the subscriber)" 65 \
    "changes rows"
rm "$repl_dir/migrations/4_items_rows.sql"
touch "$work/repl.stop"
wait "$inserter"
pub_rows=$(fsql 1 repl_1 "SELECT count(*) FROM items")
if poll_sql "$(fconn 2 repl_2)" "SELECT count(*) = $pub_rows FROM items" 60; then
    pass "fleet: replication: all $pub_rows rows reached the subscriber during and after the rollouts"
else
    fail "fleet: replication: rows after the rollouts" "publisher $pub_rows, subscriber $(fsql 2 repl_2 "SELECT count(*) FROM items")"
fi
check "fleet: replication: the subscriber's apply worker never failed on a missing column" \
    "$(grep -c "missing replicated column\|logical replication.*ERROR\|ERROR:.*logical replication" "$fc3/server.log")" 0
fsql 2 repl_2 "DROP SUBSCRIPTION items_sub" >/dev/null
popd >/dev/null || true
