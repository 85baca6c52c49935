#!/usr/bin/env bash
# Instructions, not seconds: the audit workload (CYCLES x create table / add column / create index /
# drop table, one statement at a time) run against a server under valgrind --tool=callgrind, in a
# database without audit, one with pgmig (NOTIFY off), one with pgmig as installed (NOTIFY on), one
# with a bare PL/pgSQL event trigger, and one with pgmig whose ddl_command_end, sql_drop and
# table_rewrite triggers are disabled (NOTIFY off): its hooks then record each statement themselves, the
# rows the triggers would have written (docs/reference.md), at no cost of PostgreSQL's own collection of
# commands and dropped objects, which any such trigger turns on.
# Callgrind counts are repeatable where wall and CPU time are not. Prints each backend's own instructions
# (connection start included) and the ratio to no audit, and the audit rows each wrote.
# Each database is connected to once before its measured session, so that every session starts with the
# database's relation cache file written (otherwise whichever session builds it pays ~12 million
# instructions, more than a third of pgmig's whole difference).
# It measures twice: with the library loaded by each session (as installed), and preloaded by the server
# (shared_preload_libraries, PRELOAD=0 skips it), each against the database without audit on the same server.
#   usage: bench/audit-instructions.sh        CYCLES=100 by default (about 90 seconds)
#   KEEP=DIR copies each backend's callgrind file to DIR/<run>/<database>.cg, for callgrind_annotate.
set -euo pipefail
CYCLES=${CYCLES:-100}
BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BIN=${PGBIN:-/usr/lib/postgresql/15/bin}
say() { printf '%s\n' "$*" >&2; }
die() { say "audit-instructions.sh: $*"; exit 1; }
# shellcheck source=bench/lib.sh
. "$BENCH/lib.sh"
command -v valgrind >/dev/null || die "valgrind not found (apt-get install valgrind)"
as_pg=(); [[ $(id -u) == 0 ]] && as_pg=(runuser -u postgres --)

TMP=$(mktemp -d /tmp/pgmig-cg.XXXXXX)
chmod 755 "$TMP"
[[ $(id -u) == 0 ]] && chown postgres "$TMP"
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export PGHOST=$TMP PGPORT=$PORT PGUSER=postgres
stop() { "${as_pg[@]}" "$BIN/pg_ctl" -D "$TMP/data" -w -m fast stop >/dev/null 2>&1 || true; }
trap 'stop; rm -rf "$TMP"' EXIT

"${as_pg[@]}" "$BIN/initdb" -D "$TMP/data" -U postgres --auth=trust --no-sync >/dev/null
opts=(-c listen_addresses= -c "unix_socket_directories=$TMP" -p "$PORT" -c jit=off)
"${as_pg[@]}" "$BIN/pg_ctl" -D "$TMP/data" -l "$TMP/log" -o "${opts[*]}" -w start >/dev/null
DBS=(none pgmig pgmig_notify plpgsql hook)
for db in "${DBS[@]}"; do psql -Xq -d postgres -c "CREATE DATABASE cg_$db"; done
psql -Xq -d cg_pgmig -c "CREATE EXTENSION pgmig" -c "ALTER DATABASE cg_pgmig SET pgmig.notify_drift = off"
psql -Xq -d cg_pgmig_notify -c "CREATE EXTENSION pgmig"
# The hooks record only in sessions that have loaded pgmig before their DDL (else pgmig refuses it): preloaded
# per session here, so that the server without shared_preload_libraries measures it too.
# (CREATE EXTENSION chooses the hooks by itself only where the server preloads pgmig; these databases are made
# before it does.)
psql -Xq -d cg_hook -c "CREATE EXTENSION pgmig" -c "ALTER DATABASE cg_hook SET pgmig.notify_drift = off" \
    -c "ALTER DATABASE cg_hook SET session_preload_libraries = 'pgmig'" -c "SELECT FROM migrate_audit_recorder('hooks')"
# The same PL/pgSQL trigger as bench/audit.sh.
sed -n '/^CREATE TABLE ddl_log/,/^CREATE EVENT TRIGGER log_drop/p' "$BENCH/audit.sh" | psql -Xq -d cg_plpgsql
stop
write_ddl_workload "$TMP/ddl.sql" "$CYCLES"

# measure LABEL [SERVER OPTION...]: the server started under callgrind with those options, one session per
# database, the server stopped; prints each backend's instructions and its ratio to the database without audit
# on the same server.
measure() {
    local label=$1 db n base
    shift
    say "starting the server under callgrind ($label)..."
    rm -f "$TMP"/cg.*
    "${as_pg[@]}" valgrind --tool=callgrind --trace-children=yes --callgrind-out-file="$TMP/cg.%p" \
        "$BIN/postgres" -D "$TMP/data" "${opts[@]}" "$@" >"$TMP/valgrind.log" 2>&1 &
    for _ in $(seq 1 180); do pg_isready -q && break; sleep 1; done
    pg_isready -q || die "the server did not start under valgrind (see $TMP/valgrind.log)"
    declare -A pid rows
    for db in "${DBS[@]}"; do
        before=$(audit_rows "$db")  # this session also writes the database's relation cache file
        say "  $((CYCLES * 4)) statements in cg_$db..."
        pid[$db]=$( (echo "SELECT pg_backend_pid();"; cat "$TMP/ddl.sql") | psql -X -A -t -q -v ON_ERROR_STOP=1 -d "cg_$db" | head -1)
        rows[$db]=$(( $(audit_rows "$db") - before ))
    done
    stop
    sleep 2
    if [[ -n ${KEEP:-} ]]; then
        mkdir -p "$KEEP/$label"
        for db in "${DBS[@]}"; do cp "$TMP/cg.${pid[$db]}" "$KEEP/$label/$db.cg"; done
    fi
    base=$(count "${pid[none]}")
    echo "$label: instructions of the backend for $((CYCLES * 4)) DDL statements (callgrind):"
    for db in "${DBS[@]}"; do
        n=$(count "${pid[$db]}")
        printf '  %-13s %14s  %.3fx  (%s per statement over no audit; %s rows)\n' "$db" "$n" "$(echo "$n / $base" | bc -l)" \
            "$(( (n - base) / (CYCLES * 4) ))" "${rows[$db]}"
    done
}
# audit_rows DB: the rows of its audit table, counted in a session of its own (not measured).
audit_rows() {
    case $1 in
        none) psql -X -A -t -q -d "cg_$1" -c "SELECT 0" ;;
        plpgsql) psql -X -A -t -q -d "cg_$1" -c "SELECT count(*) FROM ddl_log" ;;
        *) psql -X -A -t -q -d "cg_$1" -c "SELECT count(*) FROM pgmig.ddl_audit" ;;
    esac
}
# count PID: the instructions of that backend itself: PostgresMain and what it called. The callgrind file of a
# forked backend also holds what the postmaster ran before the fork (about 39 million instructions, more with
# preloading), the same in every session of a server; counted in, it would flatter every ratio.
count() {
    callgrind_annotate --inclusive=yes --threshold=100 "$TMP/cg.$1" 2>/dev/null |
        awk '/:PostgresMain / && n == "" {gsub(",", "", $1); n = $1} END {print n}'
}
"${as_pg[@]}" "$BIN/postgres" --version
# As installed: the library loads in each session, at its first DDL (by pgmig's ddl_command_start trigger).
measure loaded-per-session
# Preloaded (shared_preload_libraries = pgmig, as docs/reference.md recommends for the hook to cover every
# session, and as pgaudit requires): the library is loaded once by the postmaster; the database without
# audit then runs pgmig's utility hook too, which finds pgmig not installed there.
[[ ${PRELOAD:-1} == 0 ]] || measure preloaded -c shared_preload_libraries=pgmig
