# pgmig health against a real cluster: the CLI's exit codes and JSON, each check turning warn/fail for a real
# cause (pending files, registered pending migrations, drift, no extension, another extension version, locks,
# long transactions, backup age from manifests written per the backup contract), and --serve's endpoints on a
# free loopback port. A password in the connection string must never appear anywhere.
# Sourced by run.sh (see lib.sh for the helpers).

health_secret="HealthPw-$$-s3cr3t"
health_checks='["connection", "server_version", "extension", "pending_migrations", "checksums", "drift", "audit_chain", "audit_recorder", "blocking_locks", "long_transactions", "replication", "last_backup"]'
# status_of NAME: the status of one check in the last run's table ("" when missing).
status_of() { awk -v n="$1" '$1 == n {print $2}' <<<"$out"; }
# Every output of health goes through here too, to look for the password at the end.
health_seen="$work/health-seen.txt"
: >"$health_seen"
hrun() { run "$@"; printf '%s\n%s\n' "$out" "$err" >>"$health_seen"; }

# --- healthy, then each cause -------------------------------------------------------------------------
newdb db
hproj="$work/health-project"
mkdir -p "$hproj"
health_oldpwd=$PWD
cd "$hproj" || exit 1
hrun health -d "dbname=$db password=$health_secret"
expect "health: a fresh database is healthy" 0 "overall: ok (0 failed, 0 warned)" "; ready" "dbname=$db" "no standbys"
for c in connection server_version extension pending_migrations checksums drift audit_chain audit_recorder blocking_locks \
    long_transactions replication last_backup; do
    [ "$(status_of "$c")" = ok ] || { fail "health: check $c is ok" "$(grep "^$c " <<<"$out")"; continue; }
done
pass "health: every check listed and ok"

hrun health --json -d "dbname=$db password=$health_secret"
if [ "$rc" -eq 0 ] && python3 -c '
import json, sys
want = json.loads(sys.argv[1])
d = json.load(sys.stdin)
assert d["status"] == "ok" and d["ready"] is True and d["not_ready"] == [], d
assert [c["name"] for c in d["checks"]] == want, [c["name"] for c in d["checks"]]
assert all(set(c) == {"name", "status", "detail", "duration_ms"} for c in d["checks"]), d["checks"]
assert all(c["status"] == "ok" and c["detail"] for c in d["checks"]), d["checks"]
assert d["environment"] == "default" and d["checked_at"].endswith("Z") and d["pgmig_version"], d
assert "password" not in d["target"] and d["target"].startswith("host="), d["target"]
' "$health_checks" <<<"$out"; then pass "health --json: shape"; else fail "health --json: shape" "rc=$rc $(head -c 400 <<<"$out$err")"; fi

# A migration file not registered yet is pending (warn, 27); --warn-ok makes it 0.
mig "$hproj/migrations" 1_first.sql "CREATE TABLE health_first (id int);" "DROP TABLE health_first;"
hrun health -d "dbname=$db"
expect "health: a file not registered yet is pending (27)" 27 "1_first.sql (not registered)" "not ready: 1 pending migration"
[ "$(status_of pending_migrations)" = warn ] && pass "health: pending_migrations warns" || fail "health: pending_migrations warns" "$out"
hrun health -d "dbname=$db" --warn-ok
expect "health --warn-ok: warnings exit 0" 0 "overall: warn (0 failed, 1 warned)"
hrun apply -d "dbname=$db"
hrun health -d "dbname=$db"
expect "health: applied, healthy again" 0 "none (1 registered, 1 file in migrations)"

# Out-of-band DDL is drift: fail (26), with who did it.
sql "$db" "CREATE TABLE health_oob (i int)" >/dev/null
hrun health -d "dbname=$db"
expect "health: drift fails (26)" 26 "table public.health_oob added by postgres" "pgmig: error: health: failed checks: drift"
[ "$(status_of drift)" = fail ] && pass "health: drift check fails" || fail "health: drift check fails" "$out"
sql "$db" "DROP TABLE health_oob" >/dev/null

# No extension: the extension fails and what needs it is not run.
newdb dbnoext noext
hrun health -d "dbname=$dbnoext"
expect "health: no extension (26)" 26 "the pgmig extension is not installed; run CREATE EXTENSION pgmig" \
    "not run: the pgmig extension is not usable"
# Another extension version than the client's: the hint says what to run.
newdb dbbad
sql "$dbbad" "UPDATE pg_extension SET extversion = '0.0.1' WHERE extname = 'pgmig'" >/dev/null
hrun health -d "dbname=$dbbad"
expect "health: another extension version (26)" 26 "extension 0.0.1 but client" "ALTER EXTENSION pgmig UPDATE TO"
# Roles: pgmig_reader is enough; a role without it is told what to grant.
sql "$db" "CREATE ROLE health_reader_$$ LOGIN IN ROLE pgmig_reader; CREATE ROLE health_nobody_$$ LOGIN" >/dev/null
hrun health -d "dbname=$db user=health_reader_$$"
expect "health as a pgmig_reader role is healthy" 0 "overall: ok"
hrun health -d "dbname=$db user=health_nobody_$$"
expect "health as a role without pgmig_reader says what to grant (26)" 26 \
    "permission denied for function migrate_status (SQLSTATE 42501); grant pgmig_reader"
sql "$db" "DROP ROLE health_reader_$$; DROP ROLE health_nobody_$$" >/dev/null
# Cannot connect: exit 4, the report still printed.
hrun health -d "dbname=pgmig_no_such_db_$$ password=$health_secret"
expect "health: unreachable (4)" 4 "cannot connect" "not run: cannot connect" "dbname=pgmig_no_such_db_$$"
hrun health -d "dbname=$db" --timeout soon
expect "health: a bad duration is a usage error" 2 "--timeout soon is not a duration"

# Locks and long transactions: a session holds a lock in a long transaction, another waits for it.
sql "$db" "CREATE TABLE health_locked (i int)" >/dev/null
psql -X -q -d "$db" -c "BEGIN; LOCK TABLE health_locked; SELECT pg_sleep(30)" >/dev/null 2>&1 &
holder=$!
sleep 0.5
psql -X -q -d "$db" -c "SELECT * FROM health_locked" >/dev/null 2>&1 &
waiter=$!
sleep 1.5
hrun health -d "dbname=$db" --lock-wait 500ms --long-transaction 1s
if [ "$(status_of blocking_locks)" = warn ] && [ "$(status_of long_transactions)" = warn ] &&
    grep -q "waiting for a lock longer than 500ms: pid [0-9]* (postgres) waiting" <<<"$out" &&
    grep -q "open longer than 1s: pid" <<<"$out" && ! grep -q "pg_sleep\|LOCK TABLE" <<<"$out$err"; then
    pass "health: blocking locks and long transactions warn, without query text"
else
    fail "health: blocking locks and long transactions warn, without query text" "$(grep -E '^(blocking_locks|long_transactions) ' <<<"$out")"
fi
# Bounded: a check whose query waits on a lock fails at --timeout instead of hanging.
psql -X -q -d "$db" -c "BEGIN; LOCK TABLE pgmig.migrations; SELECT pg_sleep(30)" >/dev/null 2>&1 &
holder2=$!
sleep 0.5
start=$(date +%s)
hrun health -d "dbname=$db" --timeout 1s
elapsed=$(($(date +%s) - start))
if [ "$rc" -eq 26 ] && [ "$(status_of pending_migrations)" = fail ] && grep -qE "(lock|statement) timeout" <<<"$out" && [ "$elapsed" -lt 20 ]; then
    pass "health: a check blocked by a lock fails at --timeout (${elapsed}s)"
else
    fail "health: a check blocked by a lock fails at --timeout" "rc=$rc elapsed=${elapsed}s $(grep -E '^pending_migrations ' <<<"$out")"
fi
# A "server" that accepts connections and never answers: connect_timeout bounds it.
python3 -c '
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(5)
print(s.getsockname()[1], flush=True)
conns = []
while True:
    c, _ = s.accept(); conns.append(c)
' >"$work/mute.port" &
mute=$!
for _ in $(seq 1 50); do [ -s "$work/mute.port" ] && break; sleep 0.1; done
start=$(date +%s)
hrun health -d "host=127.0.0.1 port=$(cat "$work/mute.port") dbname=x password=$health_secret" --timeout 2s
elapsed=$(($(date +%s) - start))
if [ "$rc" -eq 4 ] && [ "$elapsed" -lt 15 ] && grep -q "timeout expired" <<<"$out"; then
    pass "health: a server that never answers is given up after --timeout (${elapsed}s)"
else
    fail "health: a server that never answers is given up" "rc=$rc elapsed=${elapsed}s $(head -c 300 <<<"$out")"
fi
kill "$mute" 2>/dev/null
wait "$mute" 2>/dev/null
kill "$holder" "$waiter" "$holder2" 2>/dev/null
wait "$holder" "$waiter" "$holder2" 2>/dev/null
sql "$db" "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '$db' AND pid <> pg_backend_pid()" >/dev/null
sql "$db" "DROP TABLE health_locked" >/dev/null

# --- a real standby: the primary lists it, the standby reports its own replay -----------------------------
hbindir=$pg_bindir_under_test
sb="$work/standby"
server_folder "$sb"
sport=$(free_port)
if "${as_pg[@]}" "$hbindir/pg_basebackup" -h "$PGHOST" -p "$PGPORT" -U "$PGUSER" -D "$sb/data" -R -X stream -c fast \
        >"$work/standby.log" 2>&1 &&
    "${as_pg[@]}" "$hbindir/pg_ctl" -D "$sb/data" -l "$sb/log" -w -t 300 \
        -o "-p $sport -k $sb/sock -c listen_addresses=''" start >>"$work/standby.log" 2>&1; then
    for _ in $(seq 1 300); do  # up to 30 s: a loaded machine starts streaming late
        [ "$(sql "$db" "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'")" = 1 ] && break
        sleep 0.1
    done
    hrun health -d "dbname=$db"
    expect "health: the primary lists its streaming standby" 0 "1 standby: walreceiver streaming lag"
    # "(caught up)" holds while no WAL is on its way: the primary's background writers (the audit sealer,
    # autovacuum) may send some at any moment, which the standby then shows as "(replaying)" for an instant.
    for _ in $(seq 1 50); do
        hrun health -d "host=$sb/sock port=$sport dbname=$db"
        grep -qF "(caught up)" <<<"$out" && break
        sleep 0.2
    done
    expect "health on the standby: streaming, caught up; audit chain left to the primary" 0 \
        "PostgreSQL 15" "(a standby)" "this server is a standby, streaming from its primary" "(caught up)" \
        "not checked on a standby"
    # A commit the standby has replayed, so that its last replayed commit has a time (a primary whose
    # audit rows are already sealed may have committed nothing since the standby started).
    sql postgres "CREATE TABLE IF NOT EXISTS health_wal (i int)" >/dev/null
    for _ in $(seq 1 50); do
        [ "$(psql -X -A -t -h "$sb/sock" -p "$sport" -d "$db" -c "SELECT pg_last_xact_replay_timestamp() IS NOT NULL")" = t ] && break
        sleep 0.1
    done
    # Replay paused while the primary commits: the standby falls behind.
    psql -X -q -h "$sb/sock" -p "$sport" -d "$db" -c "SELECT pg_wal_replay_pause()" >/dev/null
    sql postgres "CREATE TABLE IF NOT EXISTS health_wal (i int); INSERT INTO health_wal VALUES (1)" >/dev/null
    sleep 1.5
    sql postgres "INSERT INTO health_wal VALUES (2)" >/dev/null
    sleep 0.3
    hrun health -d "host=$sb/sock port=$sport dbname=$db" --replication-lag 1s
    expect "health on a standby that replays late warns (27)" 27 "behind by more than 1s"
    psql -X -q -h "$sb/sock" -p "$sport" -d "$db" -c "SELECT pg_wal_replay_resume()" >/dev/null
    "${as_pg[@]}" "$hbindir/pg_ctl" -D "$sb/data" -m immediate -w stop >>"$work/standby.log" 2>&1
    sql postgres "DROP TABLE IF EXISTS health_wal" >/dev/null
else
    fail "health: set up a standby" "$(tail -5 "$work/standby.log")"
    # pg_ctl may have given up waiting on a server that still starts: never leave it running.
    [ -f "$sb/data/postmaster.pid" ] && "${as_pg[@]}" "$hbindir/pg_ctl" -D "$sb/data" -m immediate -w stop >/dev/null 2>&1
fi

# --- backups of an environment (pgmig.toml), per the backup contract ---------------------------------------
# No password here: pgmig.toml refuses one written inline (exit 42); libpq reads it from PGPASSWORD, ~/.pgpass...
cat >"$hproj/pgmig.toml" <<EOF
[environments.prod]
dbname = "dbname=$db"
backup = true
backup_dir = "$work/health-backups"
EOF
hrun health --env prod
expect "health --env: no backup of a backup=true environment warns (27)" 27 "no backups in $work/health-backups/prod" \
    "requires backups" "(environment prod)"
# manifest NAME CREATED_AT: writes a backup file and its manifest for environment prod.
manifest() {
    mkdir -p "$work/health-backups/prod"
    echo "not really a backup" >"$work/health-backups/prod/$1.pgmig-backup"
    cat >"$work/health-backups/prod/$1.pgmig-backup.manifest.json" <<EOF
{"format": "pgmig-backup/1", "database": "$db", "environment": "prod", "server_version": "150000",
 "ledger_version": "1", "fingerprint": "00", "size": 20, "sha256": "00", "created_at": "$2",
 "pgmig_version": "0.1.0", "key_id": "k1"}
EOF
}
old_at=$(date -u -d '-30 hours' +%Y-%m-%dT%H:%M:%SZ)
manifest "$(date -u -d '-30 hours' +%Y%m%dT%H%M%SZ)_$db" "$old_at"
hrun health --env prod
expect "health: a backup older than 26h warns (27)" 27 "older than 1d 2h: run pgmig backup"
new_name="$(date -u -d '-1 hours' +%Y%m%dT%H%M%SZ)_$db"
manifest "$new_name" "$(date -u -d '-1 hours' +%Y-%m-%dT%H:%M:%SZ)"
hrun health --env prod
expect "health: a backup of an hour ago is ok (0)" 0 "newest ${new_name}.pgmig-backup (1h ago)"
hrun health --env prod --backup-max-age 30min
expect "health --backup-max-age" 27 "older than 30min"
rm "$work/health-backups/prod/$new_name.pgmig-backup"
hrun health --env prod
expect "health: a manifest without its backup file warns" 27 "has no backup file ${new_name}.pgmig-backup beside it"
hrun health --env prod -d "dbname=pgmig_no_such_db_$$"
expect "health: -d wins over --env" 4 "dbname=pgmig_no_such_db_$$"
hrun health --env nowhere
expect "health: unknown environment" 3 "nowhere"
rm -f "$hproj/pgmig.toml"

# --- --serve -------------------------------------------------------------------------------------------
hrun health -d "dbname=$db" --serve 127.0.0.1:99999
expect "health --serve: a bad port is a usage error" 2 "is not ADDR:PORT"
hrun health -d "dbname=$db" --serve localhost
expect "health --serve: no port is a usage error" 2 "is not ADDR:PORT"

"$bin" health -d "dbname=$db password=$health_secret" --serve 127.0.0.1:0 >"$work/serve.out" 2>"$work/serve.err" &
server=$!
port=""
for _ in $(seq 1 50); do
    port=$(sed -n 's|.*serving http://127.0.0.1:\([0-9]*\) .*|\1|p' "$work/serve.out" 2>/dev/null)
    [ -n "$port" ] && break
    sleep 0.1
done
# get PATH: sets $code and $body.
get() {
    code=$(curl -s -o "$work/body" -w '%{http_code}' --max-time 20 "http://127.0.0.1:$port$1")
    body=$(cat "$work/body")
    printf '%s\n' "$body" >>"$health_seen"
}
# expect_http NAME PATH CODE [TEXT...]
expect_http() {
    local name=$1 path=$2 want=$3
    shift 3
    get "$path"
    if [ "$code" != "$want" ]; then fail "$name" "GET $path: $code, expected $want: $(head -c 300 <<<"$body")"; return 1; fi
    local text
    for text in "$@"; do
        grep -qF -- "$text" <<<"$body" || { fail "$name" "GET $path lacks '$text': $(head -c 300 <<<"$body")"; return 1; }
    done
    pass "$name"
}
if [ -z "$port" ]; then
    fail "health --serve: starts" "$(cat "$work/serve.out" "$work/serve.err")"
else
    pass "health --serve: starts on a free port ($port)"
    expect_http "serve: /health/live 200" /health/live 200 '"status": "ok"'
    expect_http "serve: /health/ready 200 when up to date" /health/ready 200 '"ready": true'
    expect_http "serve: /health 200 when healthy" /health 200 '"name": "last_backup"'
    if python3 -c '
import json, sys
d = json.load(sys.stdin)
assert [c["name"] for c in d["checks"]] == json.loads(sys.argv[1]), d
assert d["status"] == "ok" and d["ready"] is True, d
' "$health_checks" <<<"$body"; then pass "serve: /health JSON shape"; else fail "serve: /health JSON shape" "$(head -c 300 <<<"$body")"; fi
    expect_http "serve: unknown path 404" /nothing 404 '"/health/ready"'

    # Concurrent requests are all answered.
    curls=()
    for i in 1 2 3 4 5 6; do
        curl -s -o /dev/null -w '%{http_code}' --max-time 20 "http://127.0.0.1:$port/health" >"$work/par.$i" &
        curls+=($!)
    done
    wait "${curls[@]}"
    if [ "$(cat "$work"/par.[1-6] | tr -d '\n')" = 200200200200200200 ]; then
        pass "serve: 6 concurrent /health requests answered 200"
    else
        fail "serve: 6 concurrent /health requests answered 200" "$(cat "$work"/par.[1-6])"
    fi

    # A registered pending migration: not ready (503), /health still 200 (pending only warns).
    sql "$db" "SELECT migrate_register('2', 'second', 'CREATE TABLE health_second (id int)')" >/dev/null
    expect_http "serve: /health/ready 503 with a pending migration" /health/ready 503 '"1 pending migration"' '"ready": false'
    expect_http "serve: /health 200 with only a pending migration" /health 200 '"status": "warn"'
    sql "$db" "SELECT count(*) FROM migrate_apply()" >/dev/null
    expect_http "serve: /health/ready 200 once applied" /health/ready 200 '"ready": true'
    # Out-of-band DDL: drift, not ready, and /health fails.
    sql "$db" "CREATE TABLE health_drifted (i int)" >/dev/null
    expect_http "serve: /health/ready 503 after out-of-band DDL" /health/ready 503 '"drift: 1 object changed out of band"'
    expect_http "serve: /health 503 on a failing check" /health 503 '"status": "fail"' 'table public.health_drifted added'

    kill -TERM "$server"
    wait "$server"
    src=$?
    if [ "$src" -eq 0 ] && grep -q "stopped (SIGTERM)" "$work/serve.out"; then pass "serve: SIGTERM stops it cleanly (exit 0)"; else fail "serve: SIGTERM stops it cleanly" "exit $src $(cat "$work/serve.out")"; fi
    grep -q "^GET /health/ready 503$" "$work/serve.err" && pass "serve: logs method, path, status" || fail "serve: logs method, path, status" "$(head -5 "$work/serve.err")"
    cat "$work/serve.out" "$work/serve.err" >>"$health_seen"

    # The port is now free again; a second server on a port in use is refused.
    "$bin" health -d "dbname=$db" --serve "127.0.0.1:$port" >"$work/serve2.out" 2>&1 &
    server2=$!
    for _ in $(seq 1 50); do grep -q serving "$work/serve2.out" && break; sleep 0.1; done
    hrun health -d "dbname=$db" --serve "127.0.0.1:$port"
    expect "serve: a port in use is refused" 2 "the port is in use"
    kill -INT "$server2"
    wait "$server2"
    [ $? -eq 0 ] && grep -q "stopped (SIGINT)" "$work/serve2.out" && pass "serve: SIGINT stops it cleanly" || fail "serve: SIGINT stops it cleanly" "$(cat "$work/serve2.out")"
fi

# --cache: two requests within the window share one report.
"$bin" health -d "dbname=$db" --serve 127.0.0.1:0 --cache 1min >"$work/serve3.out" 2>"$work/serve3.err" &
server3=$!
port=""
for _ in $(seq 1 50); do
    port=$(sed -n 's|.*serving http://127.0.0.1:\([0-9]*\) .*|\1|p' "$work/serve3.out" 2>/dev/null)
    [ -n "$port" ] && break
    sleep 0.1
done
get /health; first_at=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["checked_at"])' <<<"$body" 2>/dev/null)
sleep 1.2
get /health; second_at=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["checked_at"])' <<<"$body" 2>/dev/null)
if [ -n "$first_at" ] && [ "$first_at" = "$second_at" ]; then pass "serve --cache: reuses the report"; else fail "serve --cache: reuses the report" "'$first_at' vs '$second_at'"; fi
kill -TERM "$server3"
wait "$server3"

# --- a server that stops answering mid-check: health still ends -------------------------------------------
# The health backend waits for a lock, then it and the postmaster are stopped (SIGSTOP): the query never
# answers and a cancel request is never served. Health must give up on its own deadline (its cancel is
# sent from a thread of its own) instead of hanging until the server comes back.
exec 7> >(psql -X -q -d "$db" >/dev/null 2>&1)
hs_locker=$!
echo "BEGIN; LOCK TABLE pgmig.migrations IN ACCESS EXCLUSIVE MODE;" >&7
for _ in $(seq 50); do
    [ "$(sql "$db" "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation WHERE c.relname = 'migrations' AND l.granted AND l.mode = 'AccessExclusiveLock'")" = 1 ] && break
    sleep 0.1
done
"$bin" health --timeout 3s -d "dbname=$db" >"$work/hs.out" 2>&1 &
hs_health=$!
hs_backend=""
for _ in $(seq 100); do
    hs_backend=$(sql "$db" "SELECT a.pid FROM pg_stat_activity a JOIN pg_locks l ON l.pid = a.pid AND NOT l.granted WHERE a.application_name LIKE 'pgmig%'" | head -1)
    [ -n "$hs_backend" ] && break
    sleep 0.05
done
hs_postmaster=$(ps -o ppid= -p "$hs_backend" 2>/dev/null | tr -d ' ')
if [ -n "$hs_backend" ] && [ -n "$hs_postmaster" ]; then
    kill -STOP "$hs_backend" "$hs_postmaster"
    hs_ended=""
    for _ in $(seq 200); do  # up to 20 s with the server stopped
        if ! kill -0 "$hs_health" 2>/dev/null; then hs_ended=1; break; fi
        sleep 0.1
    done
    kill -CONT "$hs_postmaster" "$hs_backend"
    wait "$hs_health"
    hs_rc=$?
    if [ -n "$hs_ended" ] && [ "$hs_rc" -eq 26 ] && grep -q "no answer within" "$work/hs.out"; then
        pass "health gives up on a server that stopped answering (exit 26) while the server is still stopped"
    else
        fail "health gives up on a stopped server" "ended=${hs_ended:-no} rc=$hs_rc $(head -c 400 "$work/hs.out")"
    fi
else
    kill "$hs_health" 2>/dev/null
    fail "health gives up on a stopped server" "the health backend was not seen waiting for the lock"
fi
echo "COMMIT;" >&7
exec 7>&-

# --- the password never appears -----------------------------------------------------------------------
if grep -qF -- "$health_secret" "$health_seen"; then
    fail "health: the password never appears" "$(grep -F -- "$health_secret" "$health_seen" | head -3)"
else
    pass "health: the password never appears in output, responses or logs"
fi
cd "$health_oldpwd" || exit 1
