# The integration-test harness, sourced by run.sh: setup checks, a work folder removed on exit,
# pass/fail counters and helpers to run pgmig, query databases and write migration files.

root=$(cd "$(dirname "$0")/../.." && pwd)
bin=${PGMIG_BIN:-build/pgmig}
case "$bin" in /*) ;; *) bin="$PWD/$bin" ;; esac
if [ ! -x "$bin" ]; then
    echo "FAIL: setup: $bin is not built (cmake -S . -B build && cmake --build build)"
    echo "integration: 0 passed, 1 failed"
    exit 1
fi
if [ -z "${PGHOST:-}" ] || [ -z "${PGPORT:-}" ]; then
    echo "FAIL: setup: PGHOST and PGPORT must name a running cluster (see scripts/with-cluster)"
    echo "integration: 0 passed, 1 failed"
    exit 1
fi
export PGUSER=${PGUSER:-postgres}
unset PGDATABASE PGPASSWORD

passed=0
failed=0
databases=()
# Under /tmp and world-readable, so that the postgres OS user (the server's, when we are root) can reach it.
work=$(mktemp -d /tmp/pgmig-it.XXXXXX)
chmod 755 "$work"
cleanup() {
    local cluster
    for cluster in "$work"/cluster*; do [ -d "$cluster" ] && "$bin" local stop --dir "$cluster" >/dev/null 2>&1; done
    for db in "${databases[@]}"; do psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1; done
    rm -rf "$work"
}
trap cleanup EXIT
# The client's audit log of every command the tests run goes here, not into the checkout (approvals_test.sh
# also greps it for the suite's passwords).
export PGMIG_AUDIT_LOG="$work/migration-audit.log"

pass() { passed=$((passed + 1)); echo "ok: $1"; }
fail() { failed=$((failed + 1)); echo "FAIL: $1: $2"; }
# check NAME GOT WANT: passes when GOT is WANT
check() { if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "got '$2', expected '$3'"; fi; }

# run ARGS...: runs pgmig; sets $rc, $out (stdout), $err (stderr).
run() {
    "$bin" "$@" >"$work/out" 2>"$work/err"
    rc=$?
    out=$(cat "$work/out")
    err=$(cat "$work/err")
}

# expect NAME CODE [TEXT_IN_OUTPUT...]: checks the last run's exit code and that stdout+stderr hold each text.
expect() {
    local name=$1 code=$2
    shift 2
    if [ "$rc" -ne "$code" ]; then
        fail "$name" "exit code $rc, expected $code (stderr: $(head -c 300 <<<"$err"))"
        return 1
    fi
    local text
    for text in "$@"; do
        if ! grep -qF -- "$text" <<<"$out$err"; then
            fail "$name" "output lacks '$text' (stdout: $(head -c 300 <<<"$out") stderr: $(head -c 300 <<<"$err"))"
            return 1
        fi
    done
    pass "$name"
}

sql() { psql -X -A -t -q -v ON_ERROR_STOP=1 -d "$1" -c "$2" 2>&1; }

# poll_sql DB SQL [SECONDS]: polls every 0.1 s until SQL returns t (at most SECONDS, default 60); returns
# non-zero on timeout. For states another session reaches (a lock wait, a phase), never a fixed sleep.
poll_sql() {
    local i
    for i in $(seq 1 $((${3:-60} * 10))); do
        [ "$(sql "$1" "$2")" = t ] && return 0
        sleep 0.1
    done
    return 1
}

db="" db_to="" dbbad="" dbfail="" dbnoext=""  # set by newdb
# newdb VAR [noext]: creates a fresh database (with the extension unless "noext") and stores its name in VAR.
newdb() {
    local name="pgmig_it_$$_$((${#databases[@]} + 1))"
    printf -v "$1" "%s" "$name"
    databases+=("$name")
    psql -X -q -d postgres -c "CREATE DATABASE $name" >/dev/null || { fail "setup" "cannot create database $name"; return 1; }
    if [ "${2:-}" != noext ]; then
        sql "$name" "CREATE EXTENSION pgmig" >/dev/null ||
            { fail "setup" "CREATE EXTENSION pgmig failed in $name (is the extension installed? make install)"; return 1; }
    fi
}

# Servers a test starts beside the suite's cluster (a standby, one with other settings): the PostgreSQL
# programs of the cluster under test, run as the postgres OS user when we are root.
pg_bindir_under_test=${PGMIG_PG_BINDIR:-/usr/lib/postgresql/15/bin}
as_pg=()
[ "$(id -u)" = 0 ] && as_pg=(runuser -u postgres --)
# server_folder DIR: DIR and DIR/sock, owned by the server's OS user.
server_folder() { mkdir -p "$1/sock"; [ "$(id -u)" = 0 ] && chown -R postgres "$1"; }
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# mig DIR FILE UP [DOWN]: writes a migration file.
mig() {
    mkdir -p "$1"
    { echo "-- written by the integration tests"; echo "-- pgmig:up"; echo "$3"
      if [ -n "${4:-}" ]; then echo "-- pgmig:down"; echo "$4"; fi; } >"$1/$2"
}

ledger_count() { sql "$1" "SELECT count(*) FROM pgmig.migrations"; }

# on_terminal PROMPT ANSWER ARGS...: runs pgmig ARGS on a pseudo-terminal and, once it has written PROMPT,
# answers ANSWER ("-" closes the input instead: Ctrl-D); prints what it wrote, then "exit=N asked=True|False".
on_terminal() {
    python3 - "$bin" "$@" <<'PY'
import os, pty, sys
prompt, answer, argv = sys.argv[2].encode(), sys.argv[3], [sys.argv[1]] + sys.argv[4:]
pid, fd = pty.fork()
if pid == 0:
    os.execv(argv[0], argv)
out, sent = b"", False
while True:
    try:
        chunk = os.read(fd, 4096)
    except OSError:
        break
    if not chunk:
        break
    out += chunk
    if not sent and prompt in out:
        os.write(fd, (answer + "\n").encode() if answer != "-" else b"\x04")
        sent = True
_, status = os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors="replace"))
sys.stdout.write("\nexit=%d asked=%s\n" % (os.waitstatus_to_exitcode(status), sent))
PY
}
