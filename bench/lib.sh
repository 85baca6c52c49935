# Shared by the benchmark scripts (sourced): the throwaway cluster and the DDL workload.
# Expects PGMIG (the client binary) and the functions say/die of the sourcing script.

q() { psql -X -q -A -t -v ON_ERROR_STOP=1 "$@"; }

# use_cluster DIR: PGHOST/PGPORT/PGUSER of the running cluster in DIR, exported.
use_cluster() {
    set -a
    eval "$("$PGMIG" local env --dir "$1")"
    set +a
}

# start_cluster DIR LOG: starts a throwaway cluster in DIR (created by pgmig local start; as root it
# belongs to the postgres user) and points the environment at it.
start_cluster() {
    "$PGMIG" local start --dir "$1" >"$2" 2>&1 || { cat "$2" >&2; die "pgmig local start failed"; }
    use_cluster "$1"
    q -d postgres -c "SELECT 1" >/dev/null || die "cannot connect to the throwaway cluster"
}

stop_cluster() { "$PGMIG" local stop --dir "$1" >/dev/null 2>&1 || true; }

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
