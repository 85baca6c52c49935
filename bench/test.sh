#!/usr/bin/env bash
# bench/test.sh: the rollback-test benchmark.
#
# `pgmig test --from-empty` over the 1,000-migration workload of bench/ledger.sh (each migration
# CREATE TABLE + CREATE INDEX, its down script DROP TABLE), alongside `pgmig apply` of the same
# files into a fresh database, in alternating order; reports medians, the time per migration and
# the ratio test/apply. pgmig test runs, for every migration, migrate_test (up, down and up again,
# compared on the objects they touch: pgmig.rollback_test_scope = touched, the default) and then applies
# it, on a scratch database. FULL=1 (the default) also runs pgmig test with
# pgmig.rollback_test_scope = full (the whole schema compared at every step, as before the touched scope),
# in the same rounds.
#
# Self-contained: starts its own throwaway cluster (build/pgmig local start) in a temporary folder
# under /tmp and removes it at exit. A report: exits non-zero only when something failed to run.
#
# Environment: ROUNDS (default 3), MIGRATIONS (1000), PGMIG (client binary, default build/pgmig),
# FULL (1: also measure the whole-schema comparison; 0: not), KEEP=1 to keep the cluster and the
# generated files.
set -euo pipefail

ROUNDS=${ROUNDS:-3}
MIGRATIONS=${MIGRATIONS:-1000}
KEEP=${KEEP:-0}
FULL=${FULL:-1}

BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$BENCH")
PGMIG=${PGMIG:-$ROOT/build/pgmig}

say() { printf '%s\n' "$*" >&2; }
die() { say "test.sh: $*"; exit 1; }
# shellcheck source=bench/lib.sh
. "$BENCH/lib.sh"

for v in ROUNDS MIGRATIONS; do
    [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive integer, not '${!v}'"
done
[[ -x $PGMIG ]] || die "$PGMIG not found: build it first (cmake -S . -B build && cmake --build build -j2)"
for c in psql createdb dropdb python3; do
    command -v "$c" >/dev/null || die "$c not found"
done

bench_cluster test-bench

say "generating $MIGRATIONS migrations..."
write_ledger_workload "$W" "$MIGRATIONS"

quiet_server() { q -c CHECKPOINT >/dev/null; }

run_tool() { # TOOL ROUND
    local db="bench_$1_$2" n
    case $1 in
    pgmig_apply)
        fresh_db "$db" pgmig
        quiet_server
        timed pgmig_apply "$PGMIG" apply --dir "$W/pgmig" -d "dbname=$db"
        n=$(q -d "$db" -c "SELECT count(*) FROM pg_class WHERE relkind = 'r' AND relname ~ '^t_[0-9]+$'")
        [[ $n == "$MIGRATIONS" ]] || die "$db has $n tables after pgmig apply, expected $MIGRATIONS"
        dropdb "$db"
        ;;
    pgmig_test | pgmig_test_full)
        local scope=touched
        [[ $1 == pgmig_test_full ]] && scope=full
        fresh_db "$db" # the target: --from-empty only needs its server
        quiet_server
        PGOPTIONS="-c pgmig.rollback_test_scope=$scope" \
            timed "$1" "$PGMIG" test --from-empty --dir "$W/pgmig" -d "dbname=$db"
        n=$(grep -cE '^[0-9]+_t_[0-9]+ +✓ +✓ +✓ +✓ +✓' "$LOG" || true)
        [[ $n == "$MIGRATIONS" ]] || die "pgmig test passed $n of $MIGRATIONS migrations (see $LOG)"
        [[ $(q -c "SELECT count(*) FROM pg_database WHERE datname LIKE 'pgmig\_test\_%'") == 0 ]] \
            || die "pgmig test left its scratch database behind"
        # per-migration times as pgmig test printed them (migrate_test + apply, in ms)
        awk '/^[0-9]+_t_[0-9]+ / { for (i = 1; i <= NF; i++) if ($i == "ms") print $(i - 1) }' "$LOG" \
            >"$RES/per_migration_$1_$2"
        dropdb "$db"
        ;;
    esac
}

TOOLS=(pgmig_apply pgmig_test)
[[ $FULL == 1 ]] && TOOLS+=(pgmig_test_full)
say "$ROUNDS rounds of pgmig apply and pgmig test --from-empty over $MIGRATIONS migrations, alternating..."
for ((r = 0; r < ROUNDS; r++)); do
    order=()
    for ((k = 0; k < ${#TOOLS[@]}; k++)); do order+=("${TOOLS[(r + k) % ${#TOOLS[@]}]}"); done
    say "  round $((r + 1))/$ROUNDS: ${order[*]}"
    for tool in "${order[@]}"; do run_tool "$tool" "$r"; done
done

# ---------------------------------------------------------------- report
apply=$(median "$RES/pgmig_apply")
test=$(median "$RES/pgmig_test")
cat "$RES"/per_migration_pgmig_test_[0-9]* >"$RES/per_migration_all"
pct() { # FILE P -> the P-th percentile (nearest rank)
    sort -g "$1" | awk -v p="$2" '{ a[NR] = $1 } END { i = int(NR * p / 100 + 0.999); if (i < 1) i = 1; print a[i] }'
}
first100=$(head -n 100 "$RES/per_migration_pgmig_test_0" | awk '{ s += $1 } END { printf "%.1f", s / NR }')
last100=$(tail -n 100 "$RES/per_migration_pgmig_test_0" | awk '{ s += $1 } END { printf "%.1f", s / NR }')
echo
echo "== pgmig rollback-test benchmark (bench/test.sh) =="
echo "pgmig client:    $("$PGMIG" --version 2>&1 | head -n 1) ($PGMIG)"
echo "PostgreSQL:      $(q -c "SHOW server_version") (server), throwaway cluster of pgmig local start"
echo "machine:         $(nproc) cores, $(uname -sr)"
echo "workload:        $MIGRATIONS migrations (CREATE TABLE t_NNNN (id bigint PRIMARY KEY, v text); CREATE INDEX; down: DROP TABLE)"
echo "rounds:          $ROUNDS, alternating; medians of wall time, connection and process start included"
echo
printf '%-52s %10s %14s %8s\n' "measurement" "median s" "per migration" "ratio"
printf '%-52s %10s %14s %8s\n' "----------------------------------------------------" "----------" "--------------" "--------"
printf '%-52s %10.2f %11.1f ms %8s\n' "pgmig apply (register + apply, fresh database)" "$apply" \
    "$(awk -v t="$apply" -v n="$MIGRATIONS" 'BEGIN { print t * 1000 / n }')" "1.00x"
printf '%-52s %10.2f %11.1f ms %7.1fx\n' "pgmig test --from-empty (scratch db, test + apply)" "$test" \
    "$(awk -v t="$test" -v n="$MIGRATIONS" 'BEGIN { print t * 1000 / n }')" \
    "$(awk -v a="$apply" -v t="$test" 'BEGIN { print t / a }')"
if [[ $FULL == 1 ]]; then
    full=$(median "$RES/pgmig_test_full")
    printf '%-52s %10.2f %11.1f ms %7.1fx\n' "pgmig test, rollback_test_scope = full (whole schema)" "$full" \
        "$(awk -v t="$full" -v n="$MIGRATIONS" 'BEGIN { print t * 1000 / n }')" \
        "$(awk -v a="$apply" -v t="$full" 'BEGIN { print t / a }')"
fi
echo
echo "per migration, as pgmig test reports it (migrate_test + apply, ms; all rounds): median $(pct "$RES/per_migration_all" 50), p90 $(pct "$RES/per_migration_all" 90), max $(pct "$RES/per_migration_all" 100)"
echo "growth with the schema (round 1): first 100 migrations ${first100} ms each, last 100 ${last100} ms each"
if [[ $FULL == 1 ]]; then
    f100=$(head -n 100 "$RES/per_migration_pgmig_test_full_0" | awk '{ s += $1 } END { printf "%.1f", s / NR }')
    l100=$(tail -n 100 "$RES/per_migration_pgmig_test_full_0" | awk '{ s += $1 } END { printf "%.1f", s / NR }')
    echo "  the same with rollback_test_scope = full: first 100 ${f100} ms each, last 100 ${l100} ms each"
fi
echo "(migrate_test compares the objects each migration touches, and the apply after it derives its snapshot"
echo " from the objects it touched; pgmig apply takes one snapshot for all the migrations)"
