# The target database: every command that connects takes -d/--dbname and --env, resolved in one order
# (-d, else the pgmig.toml environment's connection, else the PG* variables); an unknown environment is named
# with the file and the defined ones; every such command's --help shows them (and the exit-code table only
# pgmig --help); -W asks for the password, -w never does, and pgmig asks on a terminal when the server wants
# one; a bad connection parameter is named, never its value. Sourced by run.sh (see lib.sh).

# A cluster of our own: its log says which database each connection was for (log_connections), and its
# pg_hba asks one role for a password. lib.sh stops it at exit; a test before us may have used the folder.
tg_c="$work/cluster2"
"$bin" local stop --dir "$tg_c" >/dev/null 2>&1
rm -rf "$tg_c"
run local start --dir "$tg_c"
expect "target: a cluster whose connection log we read" 0
tg_log="$tg_c/server.log"
tg_host=$(eval "$("$bin" local env --dir "$tg_c")"; echo "$PGHOST")
tg_port=$(eval "$("$bin" local env --dir "$tg_c")"; echo "$PGPORT")
tg_sql() { psql -X -A -t -q -v ON_ERROR_STOP=1 -d "host=$tg_host port=$tg_port dbname=${2:-postgres} user=postgres" -c "$1" 2>&1; }
tg_sql "ALTER SYSTEM SET log_connections = on" >/dev/null
tg_sql "SELECT pg_reload_conf()" >/dev/null
for tg_db in tg_alpha tg_beta; do
    tg_sql "CREATE DATABASE $tg_db" >/dev/null
    tg_sql "CREATE EXTENSION pgmig" "$tg_db" >/dev/null || fail "target: setup" "CREATE EXTENSION pgmig in $tg_db"
done

# A project whose two environments are two databases; PGDATABASE names the other one, so a command that
# ignores --env (or lets PG* win) touches tg_alpha.
tg_p="$work/target_project"
mkdir -p "$tg_p/schema"
mig "$tg_p/migrations" 1_t.sql "CREATE TABLE tg_t (id int PRIMARY KEY);" "DROP TABLE tg_t;"
echo "CREATE TABLE tg_t (id int PRIMARY KEY, note text);" >"$tg_p/schema/t.sql"
head -c 32 /dev/urandom >"$work/target_backup.key"
cat >"$tg_p/pgmig.toml" <<TOML
migrations = "migrations"

[alerts.hook]
type = "webhook"
url = "http://127.0.0.1:9/hook"

[environments.alpha]
dbname = "host=$tg_host port=$tg_port dbname=tg_alpha user=postgres"

[environments.beta]
dbname = "host=$tg_host port=$tg_port dbname=tg_beta user=postgres"
alerts = ["hook"]
TOML

# tg_touched NAME WANT NOT ARGS...: runs pgmig ARGS in the project with PG* naming tg_alpha, and checks from the
# server log that it connected to database WANT and never to NOT.
tg_touched() {
    local name=$1 want=$2 not=$3 from seen
    shift 3
    from=$(stat -c %s "$tg_log")
    (cd "$tg_p" && PGHOST=$tg_host PGPORT=$tg_port PGDATABASE=tg_alpha PGMIG_BACKUP_KEY_FILE="$work/target_backup.key" \
        "$bin" "$@" </dev/null >"$work/out" 2>"$work/err")
    rc=$?
    seen=$(tail -c +$((from + 1)) "$tg_log" | grep -o 'connection authorized: user=[a-z_]* database=[a-z_0-9]*' |
        sed 's/.*database=//' | sort -u | tr '\n' ' ')
    if grep -qw "$want" <<<"$seen" && ! grep -qw "$not" <<<"$seen"; then
        pass "$name"
    else
        fail "$name" "connected to: ${seen:-nothing} (exit $rc; stderr: $(head -c 300 "$work/err"))"
    fi
}

# Every command that connects, with arguments that take it as far as connecting (its outcome does not matter
# here; the order leaves something to roll back and to repair).
tg_commands=(
    "status" "validate" "lint" "plan" "check-integrity" "test" "apply" "audit" "audit verify --anchor $work/tg_anchor.jsonl"
    "monitor --once" "drift" "diff" "generate tg_gen --dir $work/tg_generated" "health" "approvals" "approve 1"
    "repair 1" "baseline 1" "adopt" "impact 1" "backup --out $work/tg_backups" "deploy" "sync" "watch --timeout 1s"
    "rollback --steps 1 --trust" "audit reseal --reason tg"
)
for tg_cmd in "${tg_commands[@]}"; do
    # shellcheck disable=SC2086
    tg_touched "target: $tg_cmd --env beta connects to beta (not PGDATABASE's alpha)" tg_beta tg_alpha $tg_cmd --env beta
done
# shellcheck disable=SC2086
tg_touched "target: audit --env beta verify also connects to beta" tg_beta tg_alpha audit --env beta verify \
    --anchor "$work/tg_anchor.jsonl"

# -d beats --env; --env beats the PG* variables (above, for every command); the PG* variables apply without
# either.
tg_touched "target: -d beats --env" tg_alpha tg_beta status -d "host=$tg_host port=$tg_port dbname=tg_alpha user=postgres" --env beta
tg_touched "target: -d before the command beats --env" tg_alpha tg_beta -d "host=$tg_host port=$tg_port dbname=tg_alpha user=postgres" status --env beta
tg_touched "target: without -d and --env, PGDATABASE applies" tg_alpha tg_beta status

# An unknown environment names itself, the file and the environments it defines; nothing connects.
tg_touched_none() {
    local from
    from=$(stat -c %s "$tg_log")
    (cd "$tg_p" && PGHOST=$tg_host PGPORT=$tg_port PGDATABASE=tg_alpha "$bin" "$@" </dev/null >"$work/out" 2>"$work/err")
    rc=$?
    out=$(cat "$work/out")
    err=$(cat "$work/err")
    ! tail -c +$((from + 1)) "$tg_log" | grep -q 'connection authorized'
}
for tg_cmd in "status" "audit verify" "apply"; do
    # shellcheck disable=SC2086
    if tg_touched_none $tg_cmd --env staging; then
        expect "target: $tg_cmd --env staging (undefined) is refused, naming it, the file and the defined ones" 3 \
            "no environment 'staging' in $tg_p/pgmig.toml" "alpha, beta"
    else
        fail "target: $tg_cmd --env staging (undefined)" "it connected (exit $rc)"
    fi
done
tg_bare="$work/target_bare"
mkdir -p "$tg_bare"
(cd "$tg_bare" && "$bin" status --env staging </dev/null >"$work/out" 2>"$work/err")
rc=$? out=$(cat "$work/out") err=$(cat "$work/err")
expect "target: --env without a pgmig.toml says there is none, and where" 3 "there is no $tg_bare/pgmig.toml"

# --help of every command that connects shows -d, --env, -W and -w, and points to pgmig --help for the exit codes,
# which only pgmig --help lists.
for tg_cmd in "${tg_commands[@]}" "audit verify" "restore"; do
    tg_name=${tg_cmd%% -*}
    tg_name=${tg_name% tg_gen}
    tg_name=${tg_name% 1}
    # shellcheck disable=SC2086
    run $tg_name --help
    if grep -q -- "-d,--dbname" <<<"$out" && grep -q -- "--env" <<<"$out" && grep -q -- "-W,--password" <<<"$out" &&
        grep -q -- "-w,--no-password" <<<"$out" && grep -q "Exit codes: see pgmig --help" <<<"$out" &&
        ! grep -q "a migration failed (nothing was applied)" <<<"$out"; then
        pass "target: $tg_name --help shows -d, --env, -W, -w and no exit-code table"
    else
        fail "target: $tg_name --help" "$(head -c 400 <<<"$out")"
    fi
done
run --help
expect "target: pgmig --help has the exit-code table" 0 "5  a migration failed (nothing was applied)" \
    "54  the connection string names an unknown parameter"

# A bad connection parameter is named, never its value (a value may be a password): exit 54.
tg_no_secret() {
    if grep -q 'S3cret' <<<"$out$err"; then fail "$1" "a value was echoed: $(grep -o 'S3cret[A-Za-z]*' <<<"$out$err" | head -1)"; else pass "$1"; fi
}
run status -d "dbname=tg_beta bogus=S3cretBOGUS"
expect "target: an unknown parameter is named (exit 54)" 54 'unknown connection parameter "bogus"'
tg_no_secret "target: ... and its value is not shown"
run status -d "postgresql://someone:S3cretURI@localhost/tg_beta?bogus=1"
expect "target: an unknown URI query parameter is named (exit 54)" 54 'unknown connection parameter "bogus"'
tg_no_secret "target: ... and the URI's password is not shown"
run status -d "postgresql://someone:S3cretPCT%zz@localhost/tg_beta"
expect "target: a malformed URI is reported (exit 54)" 54 "the connection string cannot be parsed"
tg_no_secret "target: ... without quoting the URI"
run status -d "host=$tg_host port=$tg_port dbname=tg_beta sslmode=S3cretSSL"
expect "target: a bad parameter value is named by its parameter (exit 54)" 54 'the connection parameter "sslmode" has an invalid value'
tg_no_secret "target: ... and the value is not shown"
PGSSLMODE=S3cretENV run status
expect "target: a bad PG* variable's value is named by its parameter (exit 54)" 54 '"sslmode" has an invalid value'
tg_no_secret "target: ... and the variable's value is not shown"

# Passwords, as psql asks for them. The role tg_pw must give one (scram-sha-256 on the socket).
tg_sql "CREATE ROLE tg_pw LOGIN SUPERUSER PASSWORD 'S3cretTG'" >/dev/null
tg_hba=$(tg_sql "SHOW hba_file")
{ echo "local all tg_pw scram-sha-256"; cat "$tg_hba"; } >"$tg_hba.new" && cat "$tg_hba.new" >"$tg_hba"
tg_sql "SELECT pg_reload_conf()" >/dev/null
tg_pwconn="host=$tg_host port=$tg_port dbname=tg_beta user=tg_pw"
tg_tty() {  # INPUT ARGS...: runs pgmig on a terminal (script(1)) typing INPUT
    local input=$1
    shift
    printf '%s\n' "$input" | script -q -e -c "$bin $*" /dev/null >"$work/out" 2>&1
    rc=$?
    out=$(cat "$work/out")
    err=""
}
run status -d "$tg_pwconn" </dev/null
expect "target: without a terminal nobody is asked; the hint says where a password goes" 4 \
    "password" "~/.pgpass"
tg_tty S3cretTG status -W -d "'$tg_pwconn'"
expect "target: -W asks for the password on the terminal, then connects" 0 "Password for user tg_pw:" "applied,"
tg_tty S3cretTG status --password -d "'$tg_pwconn'"
expect "target: --password too" 0 "Password for user tg_pw:"
tg_tty S3cretTG status -d "'$tg_pwconn'"
expect "target: on a terminal, pgmig asks when the server wants a password" 0 "Password for user tg_pw:" "applied,"
tg_tty S3cretTG status -w -d "'$tg_pwconn'"
if [ "$rc" -eq 4 ] && ! grep -q "Password for" <<<"$out"; then
    pass "target: -w never asks (exit 4)"
else
    fail "target: -w never asks" "exit $rc: $(head -c 300 <<<"$out")"
fi
# Ctrl-C at the prompt ends pgmig (by SIGINT, as the key means) and leaves the terminal echoing again.
tg_ctrl_c=$(python3 - "$bin" status -W -d "$tg_pwconn" <<'PY'
import os, pty, select, signal, sys, termios, time
pid, fd = pty.fork()
if pid == 0:
    # As on a user's terminal: a test started as a background job (a shard of scripts/test-sanitize, a run
    # in a chroot) inherits SIGINT ignored, and exec keeps it ignored.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    os.execv(sys.argv[1], sys.argv[1:])
out = b""
deadline = time.time() + 30
while b"Password for" not in out and time.time() < deadline:
    if select.select([fd], [], [], 1)[0]:
        try:
            out += os.read(fd, 4096)
        except OSError:
            break
os.write(fd, b"S3cr")
time.sleep(0.3)
os.write(fd, b"\x03")
for _ in range(300):  # 30 s at most, then it is killed (and the test fails)
    done, status = os.waitpid(pid, os.WNOHANG)
    if done:
        break
    time.sleep(0.1)
else:
    os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
echo = bool(termios.tcgetattr(fd)[3] & termios.ECHO)
print("asked=%s signal=%s echo=%s" % (b"Password for" in out, os.WIFSIGNALED(status) and os.WTERMSIG(status), echo))
PY
)
if [ "$tg_ctrl_c" = "asked=True signal=2 echo=True" ]; then
    pass "target: Ctrl-C at the password prompt stops pgmig and turns the echo back on"
else
    fail "target: Ctrl-C at the password prompt" "$tg_ctrl_c"
fi
tg_tty wrong status -d "'$tg_pwconn'"
if [ "$rc" -eq 4 ] && [ "$(grep -c "Password for" <<<"$out")" -eq 1 ] && grep -q "password authentication failed" <<<"$out"; then
    pass "target: a wrong password is asked for once, then exit 4"
else
    fail "target: a wrong password" "exit $rc: $(head -c 300 <<<"$out")"
fi
run status -W -w -d "$tg_pwconn"
expect "target: -W and -w exclude each other" 2
if grep -q 'S3cretTG' "$PGMIG_AUDIT_LOG"; then
    fail "target: no typed password in the client's audit log" "found"
else
    pass "target: no typed password in the client's audit log"
fi

"$bin" local stop --dir "$tg_c" >/dev/null 2>&1
