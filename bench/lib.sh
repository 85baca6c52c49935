# Shared by the benchmark scripts (sourced): the throwaway cluster and the DDL workload.
# Expects PGMIG (the client binary) and the functions say/die of the sourcing script; timed also
# expects RES (a folder of result files) and LOG (where a run's output goes).

q() { psql -X -q -A -t -v ON_ERROR_STOP=1 "$@"; }

# use_cluster DIR: PGHOST/PGPORT/PGUSER of the running cluster in DIR, exported.
use_cluster() {
    eval "$("$PGMIG" local env --dir "$1")"  # export lines
}

# start_cluster DIR LOG: starts a throwaway cluster in DIR (created by pgmig local start; as root it
# belongs to the postgres user) and points the environment at it.
start_cluster() {
    "$PGMIG" local start --dir "$1" >"$2" 2>&1 || { cat "$2" >&2; die "pgmig local start failed"; }
    use_cluster "$1"
    q -d postgres -c "SELECT 1" >/dev/null || die "cannot connect to the throwaway cluster"
}

stop_cluster() { "$PGMIG" local stop --dir "$1" >/dev/null 2>&1 || true; }

# bench_start NAME VAR...: for the scripts that need only the client, psql and the installed extension:
# checks that each VAR holds a positive integer and that $PGMIG and psql are there, then bench_cluster NAME.
bench_start() {
    local name=$1 v
    shift
    for v in "$@"; do
        [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive integer, not '${!v}'"
    done
    [[ -x $PGMIG ]] || die "$PGMIG not found: build it first (cmake -S . -B build && cmake --build build -j2)"
    command -v psql >/dev/null || die "psql not found"
    bench_cluster "$name"
}

# bench_cluster NAME: a throwaway folder TMP=$BENCH_DIR/pgmig-NAME.XXXXXX (BENCH_DIR: /tmp unless set; the
# cluster lives there, so it picks the file system measured) holding W (work files), RES (results)
# and LOG, and a cluster in CLUSTER=TMP/cluster, started now; both go at exit, also on INT/TERM (KEEP=1
# keeps the folder). Exports PGDATABASE=postgres and PGAPPNAME=NAME.
bench_cluster() {
    TMP=$(mktemp -d "${BENCH_DIR:-/tmp}/pgmig-$1.XXXXXX")
    chmod 755 "$TMP"
    CLUSTER=$TMP/cluster # created by pgmig local start (as root it belongs to the postgres user)
    W=$TMP/work
    RES=$TMP/results
    LOG=$TMP/last.log
    mkdir -p "$W" "$RES"
    trap bench_cleanup EXIT
    trap 'exit 130' INT TERM
    start_cluster "$CLUSTER" "$LOG"
    export PGDATABASE=postgres PGAPPNAME=$1
}

bench_cleanup() {
    local rc=$?
    stop_cluster "$CLUSTER"
    if [[ ${KEEP:-0} == 1 ]]; then say "kept $TMP"; else rm -rf "$TMP"; fi
    exit $rc
}

# write_ddl_workload FILE CYCLES: CYCLES x (create table, add column, create index, drop table),
# one statement per line: the workload of the audit benchmarks.
write_ddl_workload() {
    python3 - "$1" "$2" <<'PY'
import sys
path, n = sys.argv[1], int(sys.argv[2])
with open(path, "w") as f:
    for i in range(n):
        f.write(f"CREATE TABLE w{i} (id int PRIMARY KEY, v text);\nALTER TABLE w{i} ADD COLUMN x int;\n"
                f"CREATE INDEX w{i}_v ON w{i} (v);\nDROP TABLE w{i};\n")
PY
}

# write_ledger_workload W N: the ledger benchmarks' workload of N migrations, each
# CREATE TABLE t_NNNN (id bigint PRIMARY KEY, v text); CREATE INDEX t_NNNN_v, in each tool's format:
# W/pgmig/ (files with a down script DROP TABLE), W/all.sql, W/register.sql, W/npm/, W/sqitch/.
write_ledger_workload() {
    mkdir -p "$1/pgmig" "$1/npm" "$1/sqitch/deploy" "$1/sqitch/revert" "$1/sqitch/verify"
    python3 - "$1" "$2" <<'PY'
import os, sys
w, n = sys.argv[1], int(sys.argv[2])
def up(t):
    return f"CREATE TABLE {t} (id bigint PRIMARY KEY, v text);\nCREATE INDEX {t}_v ON {t} (v);\n"
def write(path, text):
    with open(os.path.join(w, path), "w") as f:
        f.write(text)
allsql, register, plan = [], [], ["%syntax-version=1.0.0", "%project=ledger_bench", ""]
for i in range(1, n + 1):
    t = f"t_{i:04d}"
    allsql.append(up(t))
    write(f"pgmig/{i}_{t}.sql", f"-- pgmig:up\n{up(t)}\n-- pgmig:down\nDROP TABLE {t};\n")
    register.append(f"SELECT migrate_register('{i}', '{t}', $up${up(t)}$up$, $dn$DROP TABLE {t};\n$dn$);\n")
    write(f"npm/{i}_{t}.sql", f"-- Up Migration\n{up(t)}\n-- Down Migration\nDROP TABLE {t};\n")
    write(f"sqitch/deploy/{t}.sql", f"BEGIN;\n{up(t)}COMMIT;\n")
    write(f"sqitch/revert/{t}.sql", f"BEGIN;\nDROP TABLE {t};\nCOMMIT;\n")
    write(f"sqitch/verify/{t}.sql", f"SELECT id, v FROM {t} WHERE false;\n")
    plan.append(f"{t} 2024-01-01T00:00:00Z Ledger Bench <bench@example.invalid> # table {t}")
write("all.sql", "".join(allsql))
write("register.sql", "".join(register))
write("sqitch/sqitch.plan", "\n".join(plan) + "\n")
write("sqitch/sqitch.conf", "[core]\n\tengine = pg\n\tplan_file = sqitch.plan\n\ttop_dir = .\n")
PY
}

# now_us: microseconds, no fork (bash 5 EPOCHREALTIME)
now_us() { local t=${EPOCHREALTIME/[.,]/}; echo "$t"; }

# timed KEY CMD...: runs CMD (output to $LOG), appends its wall time in seconds to $RES/KEY
timed() {
    local key=$1 s e
    shift
    s=${EPOCHREALTIME/[.,]/}
    if ! "$@" >"$LOG" 2>&1; then
        say "failed ($key): $*"
        tail -n 30 "$LOG" >&2
        exit 1
    fi
    e=${EPOCHREALTIME/[.,]/}
    echo "$(( e - s ))" | awk '{ printf "%.6f\n", $1 / 1e6 }' >>"$RES/$key"
}

median() { # FILE -> median of its numbers
    sort -g "$1" | awk '{ a[NR] = $1 } END { if (NR == 0) exit 1;
        if (NR % 2) printf "%.6f\n", a[(NR + 1) / 2]; else printf "%.6f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

fresh_db() { # NAME [pgmig]: an empty database, with the extension when asked
    dropdb --if-exists "$1" >/dev/null 2>&1 || true
    createdb "$1" || die "createdb $1 failed"
    if [[ ${2:-} == pgmig ]]; then q -d "$1" -c "CREATE EXTENSION pgmig" >/dev/null; fi
}

