#!/usr/bin/env bash
# bench/backup.sh: the backup benchmark.
#
# Builds a database of about SIZE_MB megabytes (generate_series into a few tables, UNLOGGED while loading),
# then times `pgmig backup` (pg_dump -Fc streamed through AES-256-GCM, SHA-256 and the manifest) against
# plain `pg_dump -Fc -f FILE` in alternating rounds, and reports the medians and their ratio (target
# <= 1.1x), then the speed of `pgmig backup verify` (decrypt + SHA-256 + pg_restore --list) in MB/s of
# backup file.
#
# Self-contained: starts its own throwaway cluster (build/pgmig local start) under /tmp and removes it at
# exit. It is a report: it exits 0 when a target is missed, non-zero only when something failed to run.
#
# Environment: SIZE_MB (default 1024), ROUNDS (3), PGMIG (client binary, default build/pgmig), KEEP=1 to keep
# the cluster and the files.
set -euo pipefail

SIZE_MB=${SIZE_MB:-1024}
ROUNDS=${ROUNDS:-3}
KEEP=${KEEP:-0}

BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$BENCH")
PGMIG=${PGMIG:-$ROOT/build/pgmig}

say() { printf '%s\n' "$*" >&2; }
die() { say "backup.sh: $*"; exit 1; }
# shellcheck source=bench/lib.sh
. "$BENCH/lib.sh"

for v in SIZE_MB ROUNDS; do
    [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive integer, not '${!v}'"
done
[[ -x $PGMIG ]] || die "$PGMIG not found: build it first (cmake -S . -B build && cmake --build build -j2)"
for c in psql pg_dump python3 openssl; do
    command -v "$c" >/dev/null || die "$c not found"
done

TMP=$(mktemp -d /tmp/pgmig-backup-bench.XXXXXX)
chmod 755 "$TMP"
CLUSTER=$TMP/cluster
cleanup() {
    if [[ $KEEP == 1 ]]; then say "kept $TMP"; return; fi
    stop_cluster "$CLUSTER"
    rm -rf "$TMP"
}
trap cleanup EXIT
start_cluster "$CLUSTER" "$TMP/start.log"

say "building a database of about $SIZE_MB MB..."
q -d postgres -c "CREATE DATABASE bench"
q -d bench -c "CREATE EXTENSION pgmig"
# About 100 bytes per row on disk (tuple, md5 text, numbers): 10,000 rows per MB, over 4 tables.
rows=$((SIZE_MB * 10000 / 4))
loaders=()
for t in 1 2 3 4; do
    q -d bench -c "CREATE UNLOGGED TABLE t$t (id bigint, name text, n int, at timestamptz);
        INSERT INTO t$t SELECT g, md5((g * $t)::text), ((g::bigint * 7919) % 100000)::int, '2026-01-01'::timestamptz + g * interval '1 s'
          FROM generate_series(1, $rows) g;
        ALTER TABLE t$t SET LOGGED; ALTER TABLE t$t ADD PRIMARY KEY (id);" &
    loaders+=($!)
done
for pid in "${loaders[@]}"; do wait "$pid" || die "loading the tables failed"; done
q -d bench -c "VACUUM ANALYZE" -c "CHECKPOINT"
db_bytes=$(q -d bench -c "SELECT pg_database_size('bench')")
say "database size: $((db_bytes / 1048576)) MiB"

openssl rand -hex 32 >"$TMP/backup.key"
mkdir -p "$TMP/out"

median() { python3 -c 'import statistics,sys; print(f"{statistics.median(float(x) for x in sys.argv[1:]):.2f}")' "$@"; }
now() { date +%s.%N; }
elapsed() { python3 -c "print(f'{$2 - $1:.3f}')"; }

pgmig_times=()
dump_times=()
for ((r = 1; r <= ROUNDS; r++)); do
    order=(pgmig pg_dump)
    (( r % 2 == 0 )) && order=(pg_dump pgmig)
    for which in "${order[@]}"; do
        if [[ $which == pgmig ]]; then rm -rf "$TMP/out"/*; else rm -f "$TMP/plain.dump"; fi
        sync
        t0=$(now)
        if [[ $which == pgmig ]]; then
            "$PGMIG" backup -d "dbname=bench" --out "$TMP/out" --key-file "$TMP/backup.key" >/dev/null
            t1=$(now); pgmig_times+=("$(elapsed "$t0" "$t1")")
            pgmig_size=$(stat -c %s "$TMP"/out/default/*.pgmig-backup)
        else
            pg_dump -Fc -d bench -f "$TMP/plain.dump"
            t1=$(now); dump_times+=("$(elapsed "$t0" "$t1")")
            dump_size=$(stat -c %s "$TMP/plain.dump")
        fi
        say "round $r: $which $(elapsed "$t0" "$t1") s"
    done
done
pgmig_med=$(median "${pgmig_times[@]}")
dump_med=$(median "${dump_times[@]}")
ratio=$(python3 -c "print(f'{$pgmig_med / $dump_med:.3f}')")

# Verify speed: the last pgmig backup, ROUNDS times.
backup_file=$(ls "$TMP"/out/default/*.pgmig-backup)
verify_times=()
for ((r = 1; r <= ROUNDS; r++)); do
    t0=$(now)
    "$PGMIG" backup verify --key-file "$TMP/backup.key" "$backup_file" >/dev/null
    t1=$(now)
    verify_times+=("$(elapsed "$t0" "$t1")")
done
verify_med=$(median "${verify_times[@]}")
verify_mbs=$(python3 -c "print(f'{$pgmig_size / 1e6 / $verify_med:.0f}')")

cat <<REPORT
backup benchmark: database $((db_bytes / 1048576)) MiB (SIZE_MB=$SIZE_MB), $ROUNDS rounds, $(nproc) cores
  pg_dump -Fc -f FILE          median $dump_med s  (${dump_times[*]})  $((dump_size / 1048576)) MiB
  pgmig backup (AES-256-GCM)   median $pgmig_med s  (${pgmig_times[*]})  $((pgmig_size / 1048576)) MiB
  ratio pgmig/pg_dump          $ratio  (target <= 1.10: $(python3 -c "print('met' if $ratio <= 1.10 else 'MISSED')"))
  pgmig backup verify          median $verify_med s  (${verify_times[*]})  $verify_mbs MB/s of backup file
REPORT
