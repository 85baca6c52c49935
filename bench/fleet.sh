#!/usr/bin/env bash
# bench/fleet.sh: a fleet rollout against the shell loops it replaces.
#
# Three throwaway clusters (pgmig local start), TARGETS databases among them (default 200) made from a
# template with the extension, and 20 migrations (a table with a primary key, a column and an index
# each). For each fleet size in SIZES (default "50 100 200"), the same fresh databases are migrated by
#   - pgmig deploy --fleet (one client, libpq's asynchronous API, parallel = PARALLEL, default 8), and again
#     with drift_check = false (no migrate_drift() after each target: the same work as pgmig apply's),
#   - a shell loop of `pgmig apply -d ...` over the targets, one after the other (what teams write first),
#   - the same loop through `xargs -P PARALLEL` (the best a shell loop does),
# and it prints wall time, targets per second, the client's peak RSS (GNU time; for the loops, the largest
# of their clients) and the ratio of each loop to the fleet run. A report: exits 0 when the fleet is slower,
# non-zero only when something failed to run. KEEP=1 keeps the clusters and files.
set -euo pipefail

SIZES=${SIZES:-"50 100 200"}
PARALLEL=${PARALLEL:-8}
MIGRATIONS=${MIGRATIONS:-20}
KEEP=${KEEP:-0}
BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$BENCH")
PGMIG=${PGMIG:-$ROOT/build/pgmig}
say() { printf '%s\n' "$*" >&2; }
die() { say "fleet.sh: $*"; exit 1; }
# shellcheck source=bench/lib.sh
. "$BENCH/lib.sh"
[[ -x $PGMIG ]] || die "$PGMIG is not built (cmake --build build)"
[[ -x /usr/bin/time ]] || die "GNU time is missing (apt-get install time)"
for v in PARALLEL MIGRATIONS; do [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive integer"; done
max=0
for n in $SIZES; do
    [[ $n =~ ^[1-9][0-9]*$ ]] || die "SIZES must be positive integers, not '$n'"
    ((n > max)) && max=$n
done

TMP=$(mktemp -d /tmp/pgmig-fleet.XXXXXX)
chmod 755 "$TMP"
cleanup() {
    local rc=$?
    for c in 1 2 3; do stop_cluster "$TMP/c$c"; done
    if [[ $KEEP == 1 ]]; then say "kept $TMP"; else rm -rf "$TMP"; fi
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

declare -a HOSTS PORTS
for c in 1 2 3; do
    start_cluster "$TMP/c$c" "$TMP/c$c.log"
    HOSTS[c]=$PGHOST
    PORTS[c]=$PGPORT
    q -d postgres -c "CREATE DATABASE bench_tpl" >/dev/null
    q -d bench_tpl -c "CREATE EXTENSION pgmig" >/dev/null
done
conninfo() { echo "host=${HOSTS[$1]} port=${PORTS[$1]} user=postgres dbname=$2"; }
cluster_of() { echo $((($1 - 1) % 3 + 1)); }  # target i lives on cluster 1, 2 or 3

mkdir -p "$TMP/project/migrations"
for i in $(seq 1 "$MIGRATIONS"); do
    printf -- '-- pgmig:up\nCREATE TABLE t%d (id bigint PRIMARY KEY, v text);\nALTER TABLE t%d ADD COLUMN n int;\nCREATE INDEX t%d_v ON t%d (v);\n' \
        "$i" "$i" "$i" "$i" >"$TMP/project/migrations/${i}_t$i.sql"
done

# fresh N: the databases bench_1..N, dropped and made again from the template (no migration applied).
fresh() {
    local i c
    for i in $(seq 1 "$max"); do
        c=$(cluster_of "$i")
        psql -X -q -d "$(conninfo "$c" postgres)" -c "DROP DATABASE IF EXISTS bench_$i" >/dev/null
        if ((i <= $1)); then
            psql -X -q -d "$(conninfo "$c" postgres)" -c "CREATE DATABASE bench_$i TEMPLATE bench_tpl" >/dev/null
        fi
    done
}
targets_toml() {
    local i
    echo "["
    for i in $(seq 1 "$1"); do echo "  \"$(conninfo "$(cluster_of "$i")" "bench_$i")\","; done
    echo "]"
}
# applied N: every one of the N databases has all migrations, or the run is not counted.
check_applied() {
    local i n
    for i in $(seq 1 "$1"); do
        n=$(psql -X -A -t -q -d "$(conninfo "$(cluster_of "$i")" "bench_$i")" -c "SELECT count(*) FROM pgmig.migrations WHERE applied_at IS NOT NULL")
        [[ $n == "$MIGRATIONS" ]] || die "bench_$i has $n of $MIGRATIONS migrations applied after $2"
    done
}
div() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
# timed OUT CMD...: runs CMD under GNU time; sets WALL (s) and RSS (KiB).
timed() {
    local out=$1
    shift
    /usr/bin/time -f "%e %M" -o "$TMP/time" "$@" >"$out" 2>&1 || { tail -20 "$out" >&2; die "failed: $*"; }
    read -r WALL RSS <"$TMP/time"
}

cd "$TMP/project"
export PGOPTIONS="-c client_min_messages=warning"  # no NOTICE for every DROP DATABASE IF EXISTS
printf '%-8s %-22s %9s %12s %12s %9s\n' targets method "wall s" "targets/s" "peak RSS KiB" "x fleet"
for n in $SIZES; do
    { echo 'migrations = "migrations"'; echo 'audit_log = ""'; echo "[fleets.bench]"; echo "parallel = $PARALLEL"
      echo "targets = $(targets_toml "$n")"; } >pgmig.toml
    fresh "$n"
    timed "$TMP/fleet.out" "$PGMIG" deploy --fleet bench
    check_applied "$n" "deploy --fleet"
    fleet_wall=$WALL
    printf '%-8s %-22s %9.2f %12s %12s %9s\n' "$n" "deploy --fleet" "$WALL" "$(div "$n" "$WALL")" "$RSS" 1.00

    # The same work as pgmig apply's: no drift comparison after each target.
    echo "drift_check = false" >>pgmig.toml
    fresh "$n"
    timed "$TMP/fleet-nodrift.out" "$PGMIG" deploy --fleet bench
    check_applied "$n" "deploy --fleet (drift_check = false)"
    printf '%-8s %-22s %9.2f %12s %12s %9s\n' "$n" "--fleet, no drift check" "$WALL" "$(div "$n" "$WALL")" "$RSS" \
        "$(div "$WALL" "$fleet_wall")"

    rm -f pgmig.toml
    for i in $(seq 1 "$n"); do conninfo "$(cluster_of "$i")" "bench_$i"; done >"$TMP/targets.txt"
    fresh "$n"
    timed "$TMP/loop.out" bash -c 'while read -r t; do "$0" apply -d "$t" --dir migrations >/dev/null || exit 1; done <"$1"' \
        "$PGMIG" "$TMP/targets.txt"
    check_applied "$n" "the shell loop"
    printf '%-8s %-22s %9.2f %12s %12s %9s\n' "$n" "shell loop" "$WALL" "$(div "$n" "$WALL")" "$RSS" \
        "$(div "$WALL" "$fleet_wall")"

    fresh "$n"
    timed "$TMP/xargs.out" bash -c 'xargs -P "$2" -I{} "$0" apply -d {} --dir migrations <"$1" >/dev/null' \
        "$PGMIG" "$TMP/targets.txt" "$PARALLEL"
    check_applied "$n" "xargs -P"
    printf '%-8s %-22s %9.2f %12s %12s %9s\n' "$n" "xargs -P $PARALLEL loop" "$WALL" "$(div "$n" "$WALL")" \
        "$RSS" "$(div "$WALL" "$fleet_wall")"
done
say "(peak RSS of a loop is GNU time's for the whole loop: its largest process, one pgmig apply at a time)"
