#!/usr/bin/env bash
# bench/ledger.sh: the ledger benchmark.
#
# Applies 1,000 small migrations (each CREATE TABLE with a primary key + CREATE INDEX) into a
# fresh empty database with raw psql (the floor), migrate_apply(), `pgmig apply`, sqitch and
# node-pg-migrate, in alternating order, and reports medians and ratios to the floor. Then times
# a no-op `pgmig apply` and `pgmig status` against `psql -c 'SELECT 1'`, and migrate_status()
# with 100,000 applied migrations (server-side).
#
# Self-contained: starts its own throwaway cluster (build/pgmig local start) in a temporary
# folder under /tmp and removes it at exit; installs the peers it needs (sqitch and DBD::Pg from
# Debian, node-pg-migrate and pg from npm into bench/.peers). It is a report: it exits 0 when a
# target is missed, non-zero only when something failed to run.
#
# Environment: ROUNDS (default 5), MIGRATIONS (1000), NOOP_RUNS (20), STATUS_MIGRATIONS (100000),
# STATUS_RUNS (10), PEERS=0 to skip sqitch and node-pg-migrate, PGMIG (client binary, default
# build/pgmig), KEEP=1 to keep the cluster and the generated files.
set -euo pipefail

ROUNDS=${ROUNDS:-5}
MIGRATIONS=${MIGRATIONS:-1000}
NOOP_RUNS=${NOOP_RUNS:-20}
STATUS_MIGRATIONS=${STATUS_MIGRATIONS:-100000}
STATUS_RUNS=${STATUS_RUNS:-10}
PEERS=${PEERS:-1}
KEEP=${KEEP:-0}

BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$BENCH")
PGMIG=${PGMIG:-$ROOT/build/pgmig}
PEERS_DIR=$BENCH/.peers
NPM_BIN=$PEERS_DIR/node_modules/.bin

say() { printf '%s\n' "$*" >&2; }
die() { say "ledger.sh: $*"; exit 1; }
# shellcheck source=bench/lib.sh
. "$BENCH/lib.sh"

for v in ROUNDS MIGRATIONS NOOP_RUNS STATUS_MIGRATIONS STATUS_RUNS; do
    [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive integer, not '${!v}'"
done
[[ -x $PGMIG ]] || die "$PGMIG not found: build it first (cmake -S . -B build && cmake --build build -j2)"
for c in psql createdb dropdb python3; do
    command -v "$c" >/dev/null || die "$c not found"
done

# ---------------------------------------------------------------- peers
if [[ $PEERS == 1 ]]; then
    if ! command -v sqitch >/dev/null || ! perl -MDBD::Pg -e 1 2>/dev/null; then
        say "installing sqitch and libdbd-pg-perl (Debian packages)..."
        SUDO=; [[ $(id -u) == 0 ]] || SUDO=sudo
        $SUDO apt-get update -qq >/dev/null
        DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq sqitch libdbd-pg-perl >/dev/null \
            || die "apt-get install sqitch libdbd-pg-perl failed"
    fi
    if [[ ! -x $NPM_BIN/node-pg-migrate ]] || ! cmp -s "$BENCH/package.json" "$PEERS_DIR/package.json"; then
        command -v npm >/dev/null || die "npm not found (apt-get install npm)"
        say "installing node-pg-migrate and pg (npm) into bench/.peers..."
        mkdir -p "$PEERS_DIR"
        cp "$BENCH/package.json" "$PEERS_DIR/package.json"
        (cd "$PEERS_DIR" && npm install --no-audit --no-fund --loglevel=error >/dev/null) \
            || die "npm install in $PEERS_DIR failed"
    fi
fi

# ---------------------------------------------------------------- cluster
bench_cluster ledger-bench

# ---------------------------------------------------------------- workload
say "generating $MIGRATIONS migrations in each tool's format..."
write_ledger_workload "$W" "$MIGRATIONS"
# sqitch: no user or system configuration from this machine, a fixed identity
: >"$W/sqitch/empty.conf"
export SQITCH_USER_CONFIG=$W/sqitch/empty.conf SQITCH_SYSTEM_CONFIG=$W/sqitch/empty.conf
export SQITCH_FULLNAME="Ledger Bench" SQITCH_EMAIL=bench@example.invalid

# ---------------------------------------------------------------- helpers
check_tables() { # DB: the workload really ran
    local n
    n=$(q -d "$1" -c "SELECT count(*) FROM pg_class WHERE relkind = 'r' AND relname ~ '^t_[0-9]+$'")
    [[ $n == "$MIGRATIONS" ]] || die "$1 has $n tables after the run, expected $MIGRATIONS (see $LOG)"
}

quiet_server() { q -c CHECKPOINT >/dev/null; } # so no run pays for the previous run's checkpoint

# ---------------------------------------------------------------- 1-3: apply 1,000 into an empty database
TOOLS=(floor floor_audited migrate_apply pgmig_apply)
[[ $PEERS == 1 ]] && TOOLS+=(sqitch node_pg_migrate)

run_tool() { # TOOL ROUND
    local tool=$1 db="bench_$1_$2"
    case $tool in
    floor)
        fresh_db "$db"
        quiet_server
        timed floor psql -X -q -1 -v ON_ERROR_STOP=1 -d "$db" -f "$W/all.sql"
        ;;
    floor_audited) # the same psql run into a database where pgmig audits every DDL statement
        fresh_db "$db" pgmig
        quiet_server
        timed floor_audited psql -X -q -1 -v ON_ERROR_STOP=1 -d "$db" -f "$W/all.sql"
        ;;
    migrate_apply)
        fresh_db "$db" pgmig
        timed register q -1 -d "$db" -o /dev/null -f "$W/register.sql" # not part of 1., a component of 2.
        quiet_server
        timed migrate_apply psql -X -q -v ON_ERROR_STOP=1 -d "$db" -c "SELECT count(*) FROM migrate_apply()"
        # a component: the snapshot migrate_apply() stored of the final schema, taken again (server time)
        q -d "$db" -c "EXPLAIN (ANALYZE, TIMING OFF, COSTS OFF) SELECT pg_catalog.length(migrate_snapshot()::text)" |
            awk '/Execution Time:/ { printf "%.6f\n", $3 / 1000 }' >>"$RES/snapshot"
        ;;
    pgmig_apply)
        fresh_db "$db" pgmig
        quiet_server
        timed pgmig_apply "$PGMIG" apply --dir "$W/pgmig" -d "dbname=$db"
        ;;
    sqitch)
        fresh_db "$db"
        quiet_server
        timed sqitch sqitch --chdir "$W/sqitch" deploy --target "db:pg:$db"
        ;;
    node_pg_migrate)
        fresh_db "$db"
        quiet_server
        timed node_pg_migrate env "DATABASE_URL=postgresql:///$db?host=$PGHOST&port=$PGPORT&user=$PGUSER" \
            "$NPM_BIN/node-pg-migrate" up -m "$W/npm" --verbose false
        ;;
    esac
    check_tables "$db"
    dropdb "$db"
}

say "applying $MIGRATIONS migrations, $ROUNDS rounds of ${#TOOLS[@]} tools in alternating order..."
for ((r = 0; r < ROUNDS; r++)); do
    order=()
    for ((k = 0; k < ${#TOOLS[@]}; k++)); do order+=("${TOOLS[(r + k) % ${#TOOLS[@]}]}"); done
    say "  round $((r + 1))/$ROUNDS: ${order[*]}"
    for tool in "${order[@]}"; do run_tool "$tool" "$r"; done
done

# ---------------------------------------------------------------- 4: no-op apply and status with 1,000 applied
say "no-op pgmig apply and pgmig status with $MIGRATIONS applied, $NOOP_RUNS runs each..."
fresh_db bench_noop pgmig
"$PGMIG" apply --dir "$W/pgmig" -d "dbname=bench_noop" >"$LOG" 2>&1 || { cat "$LOG" >&2; die "pgmig apply failed"; }
check_tables bench_noop
quiet_server
NOOP=(select1 noop_apply status status_dir)
for ((r = 0; r < NOOP_RUNS; r++)); do
    for ((k = 0; k < ${#NOOP[@]}; k++)); do
        case ${NOOP[(r + k) % ${#NOOP[@]}]} in
        select1) timed select1 psql -X -d bench_noop -c 'SELECT 1' ;;
        noop_apply) timed noop_apply "$PGMIG" apply --dir "$W/pgmig" -d "dbname=bench_noop" ;;
        status) timed status "$PGMIG" status -d "dbname=bench_noop" ;;
        status_dir) timed status_dir "$PGMIG" status --dir "$W/pgmig" -d "dbname=bench_noop" ;;
        esac
    done
done
"$PGMIG" apply --dir "$W/pgmig" -d "dbname=bench_noop" | grep -q '^nothing to apply' \
    || die "the no-op pgmig apply did not say 'nothing to apply'"
dropdb bench_noop

# ---------------------------------------------------------------- 5: migrate_status() with 100,000 applied
say "migrate_status() with $STATUS_MIGRATIONS applied migrations, $STATUS_RUNS runs (server-side)..."
fresh_db bench_status pgmig
q -d bench_status -o /dev/null <<SQL
BEGIN;
SELECT count(migrate_register(g::text, 's_' || g, 'SELECT 1;')) FROM generate_series(1, $STATUS_MIGRATIONS) g;
SELECT count(*) FROM migrate_baseline('$STATUS_MIGRATIONS');
COMMIT;
SQL
n=$(q -d bench_status -c "SELECT count(*) FROM migrate_status() WHERE state = 'applied'")
[[ $n == "$STATUS_MIGRATIONS" ]] || die "bench_status has $n applied migrations, expected $STATUS_MIGRATIONS"
quiet_server
# one session: a warm-up call (loads the library, fills the caches), then STATUS_RUNS timed calls;
# "Execution Time" of EXPLAIN ANALYZE is the server's time for the whole call
{
    echo "SELECT count(*) FROM migrate_status();"
    for ((r = 0; r < STATUS_RUNS; r++)); do
        echo "EXPLAIN (ANALYZE, TIMING OFF, COSTS OFF) SELECT count(*) FROM migrate_status();"
    done
} | q -d bench_status >"$LOG" 2>&1 || { cat "$LOG" >&2; die "migrate_status() failed"; }
awk '/Execution Time:/ { printf "%.6f\n", $3 / 1000 }' "$LOG" >"$RES/status10k"
[[ $(wc -l <"$RES/status10k") == "$STATUS_RUNS" ]] || { cat "$LOG" >&2; die "could not read the EXPLAIN ANALYZE timings"; }
# for the record: the first call of a new session (library load included), and the client's view
for ((r = 0; r < STATUS_RUNS; r++)); do
    q -d bench_status -c "EXPLAIN (ANALYZE, TIMING OFF, COSTS OFF) SELECT count(*) FROM migrate_status()" \
        | awk '/Execution Time:/ { printf "%.6f\n", $3 / 1000 }' >>"$RES/status10k_cold"
    timed status10k_client "$PGMIG" status -d "dbname=bench_status"
done

# ---------------------------------------------------------------- 6: one new migration on a long history
# Registering and applying one new migration (in a transaction rolled back, so every run is the same) on
# top of STATUS_MIGRATIONS applied against on top of 10, alternating, server-side (psql \timing of the
# two calls, one warm session per database).
say "one new migration on top of $STATUS_MIGRATIONS and of 10 applied, $STATUS_RUNS runs each..."
fresh_db bench_ten pgmig
q -d bench_ten -o /dev/null -c "SELECT count(migrate_register(g::text, 's_' || g, 'SELECT 1;')) FROM generate_series(1, 10) g" \
    -c "SELECT count(*) FROM migrate_baseline('10')"
# As a long-lived ledger is: vacuumed (by autovacuum; the setup above updated every row in one go) and
# verified by its last apply (the tamper check then hashes only the scripts on pages changed since).
for db in bench_ten bench_status; do
    q -d "$db" -o /dev/null -c "VACUUM ANALYZE pgmig.migrations" -c "SELECT count(*) FROM migrate_apply()"
done
one_new() { # DB KEY
    { echo '\timing on'; for ((r = 0; r <= STATUS_RUNS; r++)); do
        echo "BEGIN;"
        echo "SELECT migrate_register('999999', 'one_new', 'CREATE TABLE one_new (id int)') IS NOT NULL;"
        echo "SELECT count(*) FROM migrate_apply();"
        echo "ROLLBACK;"
    done; } | q -d "$1" >"$LOG" 2>&1 || { cat "$LOG" >&2; die "one new migration in $1 failed"; }
    # the two timed calls of each run; the first run warms the session and is left out
    awk '/^Time:/ { t[++n] = $2 } END { for (i = 4; i <= n; i += 4) printf "%.6f\n", (t[i - 2] + t[i - 1]) / 1000 }' \
        "$LOG" | tail -n "$STATUS_RUNS" >>"$RES/$2"
}
one_new bench_ten one_new_10
one_new bench_status one_new_long

# ---------------------------------------------------------------- report
pg_server=$(q -c "SHOW server_version")
fsync=$(q -c "SELECT current_setting('fsync') || ', synchronous_commit=' || current_setting('synchronous_commit') || ', shared_buffers=' || current_setting('shared_buffers')")
ext=$(q -c "SELECT default_version FROM pg_available_extensions WHERE name = 'pgmig'")
echo
echo "== pgmig ledger benchmark (bench/ledger.sh) =="
echo "pgmig client:    $("$PGMIG" --version 2>&1 | head -n 1) ($PGMIG)"
echo "pgmig extension: $ext (installed; $(q -d bench_status -c "SELECT count(*) FROM pg_event_trigger") event triggers in a database with it)"
echo "PostgreSQL:      $pg_server (server), $(psql --version)"
echo "server:          fsync=$fsync (throwaway cluster of pgmig local start)"
if [[ $PEERS == 1 ]]; then
    echo "peers:           $(sqitch --version 2>&1 | head -n 1), node-pg-migrate $(node -p "require('$PEERS_DIR/node_modules/node-pg-migrate/package.json').version"), node $(node --version)"
fi
echo "machine:         $(nproc) cores, $(uname -sr), $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)"
echo "workload:        $MIGRATIONS migrations (CREATE TABLE t_NNNN (id bigint PRIMARY KEY, v text); CREATE INDEX), fresh database per run"
echo "rounds:          $ROUNDS (apply), $NOOP_RUNS (no-op), $STATUS_RUNS (migrate_status); medians of wall time, connection included"
echo

row() { # LABEL KEY BASEKEY TARGET_RATIO|- TARGET_SECONDS|- NOTE
    local label=$1 key=$2 base=$3 tr=$4 ts=$5 note=${6:-} m b ratio target result spread
    m=$(median "$RES/$key")
    ratio=-
    if [[ $base != - ]]; then
        b=$(median "$RES/$base")
        ratio=$(awk -v m="$m" -v b="$b" 'BEGIN { printf "%.2fx", m / b }')
    fi
    if [[ $tr != - ]]; then
        target="<= ${tr}x"
        result=$(awk -v m="$m" -v b="$b" -v t="$tr" 'BEGIN { print (m / b <= t) ? "PASS" : "MISS" }')
    elif [[ $ts != - ]]; then
        target="< ${ts} s"
        result=$(awk -v m="$m" -v t="$ts" 'BEGIN { print (m < t) ? "PASS" : "MISS" }')
    else
        target=-; result=-
    fi
    spread=$(sort -g "$RES/$key" | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%.3f-%.3f", lo, hi }')
    printf '%-44s %10s %8s %10s %6s  %-13s %s\n' "$label" "$m" "$ratio" "$target" "$result" "$spread" "$note"
}

printf '%-44s %10s %8s %10s %6s  %-13s\n' "measurement" "median s" "ratio" "target" "result" "min-max s"
printf '%-44s %10s %8s %10s %6s  %-13s\n' "--------------------------------------------" "----------" "--------" "----------" "------" "-------------"
row "floor: psql -X -q -1 -f all.sql" floor floor - - "(the floor)"
row "1. SELECT migrate_apply() (registered)" migrate_apply floor 1.05 -
row "2. pgmig apply --dir (register + apply)" pgmig_apply floor 1.10 -
row "   psql -1 -f into a database with pgmig" floor_audited floor - - "(what auditing every DDL costs)"
row "1'. migrate_apply() vs that" migrate_apply floor_audited 1.05 - "(the ledger's own overhead)"
row "2'. pgmig apply vs that" pgmig_apply floor_audited 1.10 - "(the ledger's own overhead)"
if [[ $PEERS == 1 ]]; then
    row "3. sqitch deploy" sqitch floor - - "(measured by others: 5.0x)"
    row "3. node-pg-migrate up" node_pg_migrate floor - - "(measured by others: 1.28x)"
fi
row "4. psql -X -c 'SELECT 1' (base of 4.)" select1 select1 - - "(the base)"
row "4. no-op pgmig apply, $MIGRATIONS applied" noop_apply select1 2 - "(peers: 8x to 53x)"
row "4. pgmig status, $MIGRATIONS applied" status select1 2 - "(peers: 8x to 53x)"
row "4. pgmig status --dir, $MIGRATIONS applied" status_dir select1 2 - "(the folder compared too)"
row "5. migrate_status(), $STATUS_MIGRATIONS applied (server)" status10k - - 0.200 "(EXPLAIN ANALYZE, warm session)"
row "   same, first call of a session (server)" status10k_cold - - - "(library load included; info)"
row "   pgmig status, $STATUS_MIGRATIONS applied (client)" status10k_client select1 - - "(wall, connection included; info)"
row "6. one new migration on top of 10 (server)" one_new_10 - - - "(migrate_register + migrate_apply)"
row "6. the same on top of $STATUS_MIGRATIONS (server)" one_new_long one_new_10 2 - "(ratio to on top of 10)"
echo
echo "ratios: median of the measurement / median of its base (the floor for 1-3, SELECT 1 for 4)"
echo
# Where the time of 1. and 2. goes, from the medians above (differences, so each is as noisy as the two
# measurements it comes from).
comp() { # LABEL SECONDS
    awk -v l="$1" -v s="$2" -v f="$(median "$RES/floor")" 'BEGIN { printf "  %-72s %9.3f s %7.1f%% of the floor\n", l, s, 100 * s / f }'
}
m_floor=$(median "$RES/floor"); m_aud=$(median "$RES/floor_audited"); m_apply=$(median "$RES/migrate_apply")
m_snap=$(median "$RES/snapshot"); m_reg=$(median "$RES/register"); m_client=$(median "$RES/pgmig_apply")
echo "where the time goes (medians):"
comp "the DDL itself (the floor)" "$m_floor"
comp "+ auditing every DDL statement (audited floor - floor)" "$(awk -v a="$m_aud" -v b="$m_floor" 'BEGIN { print a - b }')"
comp "+ the snapshot stored after the run (migrate_snapshot(), final schema)" "$m_snap"
comp "+ the rest of migrate_apply() (history rows, checksums, checks)" \
    "$(awk -v a="$m_apply" -v b="$m_aud" -v c="$m_snap" 'BEGIN { print a - b - c }')"
comp "registration of every file (migrate_register, one psql -1 -f)" "$m_reg"
comp "pgmig apply - migrate_apply() (files, registration, round trips)" \
    "$(awk -v a="$m_client" -v b="$m_apply" 'BEGIN { print a - b }')"
