#!/usr/bin/env bash
# bench/diff.sh: the desired-state diff on two 1,000-table schemas that differ in 50 tables:
# `pgmig diff --to` (database to database), `pgmig diff --schema` (schema folder loaded into a shadow
# database) and migra (npm @pgkit/migra, pinned in bench/package.json) on the same pair, in one run,
# rounds in rotating order, medians, ratios and peak memory; then checks that pgmig's SQL round-trips
# (applied to a copy of A it gives B's exact fingerprint) and whether migra's SQL applies. Starts and
# removes its own throwaway cluster. A report: exits 0 when a target is missed, non-zero only when
# something failed to run.
#   bench/diff.sh                 RUNS=5, TABLES=1000, CHANGED=50
#   PEERS=0 bench/diff.sh         pgmig only
set -euo pipefail
BENCH=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$BENCH/.." && pwd)
PGMIG=${PGMIG:-$ROOT/build/pgmig}
TABLES=${TABLES:-1000}
CHANGED=${CHANGED:-50}
RUNS=${RUNS:-5}
PEERS=${PEERS:-1}
KEEP=${KEEP:-0}
PEERS_DIR=$BENCH/.peers
MIGRA=$PEERS_DIR/node_modules/.bin/migra

say() { printf '%s\n' "$*" >&2; }
die() { say "diff.sh: $*"; exit 1; }
# shellcheck source=bench/lib.sh
. "$BENCH/lib.sh"

for v in TABLES CHANGED RUNS; do
    [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive integer, not '${!v}'"
done
((CHANGED % 10 == 0 && CHANGED * 4 <= TABLES)) || die "CHANGED must be a multiple of 10 and at most TABLES/4"
[[ -x $PGMIG ]] || die "$PGMIG not found: build it first (cmake -S . -B build && cmake --build build -j2)"
for c in psql createdb dropdb python3; do command -v "$c" >/dev/null || die "$c not found"; done

# ---------------------------------------------------------------- peer: migra
migra_note=""
if [[ $PEERS == 1 ]]; then
    if [[ ! -x $MIGRA ]] || ! cmp -s "$BENCH/package.json" "$PEERS_DIR/package.json"; then
        if command -v npm >/dev/null; then
            say "installing the npm peers (bench/package.json, @pgkit/migra included) into bench/.peers..."
            mkdir -p "$PEERS_DIR"
            cp "$BENCH/package.json" "$PEERS_DIR/package.json"
            (cd "$PEERS_DIR" && npm install --no-audit --no-fund --loglevel=error >/dev/null 2>&1) ||
                migra_note="npm install in bench/.peers failed (offline, or no registry access)"
        else
            migra_note="npm not found (apt-get install npm)"
        fi
    fi
    if [[ -z $migra_note ]] && ! "$MIGRA" --help >/dev/null 2>&1; then
        migra_note="@pgkit/migra is installed but 'migra --help' does not run here (node too old? node --version: $(node --version 2>&1))"
    fi
else
    migra_note="PEERS=0"
fi

# ---------------------------------------------------------------- the two schemas
bench_cluster diff-bench
SCHEMA_DIR=$W/schema
mkdir -p "$SCHEMA_DIR"
python3 - "$W/a.sql" "$SCHEMA_DIR/schema.sql" "$TABLES" "$CHANGED" >"$W/changes.txt" <<'PY'
# Tables t0000..: id bigint identity PK, 6 to 9 columns of several types, one index each, a foreign key to
# the previous table in every 5th table, a view over every 100th table (+50). B differs from A in CHANGED
# tables, in six ways (fifths of the tenth: drop, add, columns added / dropped / retyped, index, constraint).
import sys
path_a, path_b, n, changed = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
types = ["text", "int", "numeric(12,2)", "timestamptz", "boolean", "jsonb", "varchar(50)", "date", "bigint"]

def columns(i):
    cols = [("id", "bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY")]
    for k in range(6 + i % 4):
        t = types[(i + k) % len(types)]
        extra = " NOT NULL DEFAULT 0" if t == "int" and k % 2 == 0 else ""
        extra = " NOT NULL DEFAULT now()" if t == "timestamptz" else extra
        cols.append((f"c{k}", t + extra))
    if i % 5 == 1 and i > 0:
        cols.append((f"t{i-1:04d}_id", f"bigint REFERENCES t{i-1:04d}"))
    return cols

referenced = {i - 1 for i in range(n) if i % 5 == 1 and i > 0}
viewed = {i for i in range(n) if i % 100 == 50}
free = [i for i in range(n) if i not in referenced and i not in viewed and i % 5 != 1]  # nothing depends on them
per = changed // 10  # a tenth
pick = iter(free[::max(1, len(free) // changed)])
dropped = [next(pick) for _ in range(2 * per)]
add_cols = [next(pick) for _ in range(2 * per)]
drop_cols = [next(pick) for _ in range(per)]
retype = [next(pick) for _ in range(per)]
new_index = [next(pick) for _ in range(per)]
new_check = [next(pick) for _ in range(per)]
added = [n + k for k in range(2 * per)]
# 2 + 2 + 2 + 1 + 1 + 1 + 1 tenths = 10 tenths = CHANGED tables

def table(i, variant):
    cols = columns(i)
    if variant == "b":
        if i in add_cols:
            cols += [("note", "text"), ("updated_at", "timestamptz")]
        if i in drop_cols:
            cols = cols[:-1]
        if i in retype:
            cols = [(c, "bigint NOT NULL DEFAULT 0" if t == "int NOT NULL DEFAULT 0" else
                     "varchar(200)" if t == "varchar(50)" else t) for c, t in cols]
    body = ",\n    ".join(f"{c} {t}" for c, t in cols)
    out = [f"CREATE TABLE t{i:04d} (\n    {body}\n);",
           f"CREATE INDEX t{i:04d}_c0 ON t{i:04d} (c0);"]
    if variant == "b" and i in new_index:
        out.append(f"CREATE INDEX t{i:04d}_c1_c2 ON t{i:04d} (c1, c2);")
    if variant == "b" and i in new_check:
        out.append(f"ALTER TABLE t{i:04d} ADD CONSTRAINT t{i:04d}_id_positive CHECK (id > 0);")
    if i in viewed:
        out.append(f"CREATE VIEW v{i:04d} AS SELECT id, c0, c1 FROM t{i:04d} WHERE id > 10;")
    return "\n".join(out)

def schema(variant):
    parts = []
    for i in range(n):
        if variant == "b" and i in dropped:
            continue
        parts.append(table(i, variant))
    if variant == "b":
        for i in added:
            parts.append(f"CREATE TABLE t{i:04d} (\n    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n"
                         f"    name text NOT NULL,\n    owner_id bigint REFERENCES t0000,\n    created date\n);\n"
                         f"CREATE INDEX t{i:04d}_owner ON t{i:04d} (owner_id);")
    return "\n".join(parts) + "\n"

open(path_a, "w").write(schema("a"))
open(path_b, "w").write(schema("b"))
print(f"dropped tables {len(dropped)}, added tables {len(added)}, columns added in {len(add_cols)}, "
      f"last column dropped in {len(drop_cols)}, columns retyped in {len(retype)}, index added in {len(new_index)}, "
      f"check added in {len(new_check)}")
PY
chmod -R a+rX "$W"
changes=$(cat "$W/changes.txt")
say "schemas: $TABLES tables in A; B: $changes"

say "loading A and B (with the pgmig extension)..."
fresh_db diff_a pgmig
fresh_db diff_b pgmig
q -d diff_a -f "$W/a.sql" >/dev/null || die "loading A failed"
q -d diff_b -f "$SCHEMA_DIR/schema.sql" >/dev/null || die "loading B failed"
fp_a=$(q -d diff_a -c "SELECT migrate_fingerprint()")
fp_b=$(q -d diff_b -c "SELECT migrate_fingerprint()")
tables_a=$(q -d diff_a -c "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
tables_b=$(q -d diff_b -c "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
[[ $fp_a != "$fp_b" ]] || die "A and B have the same fingerprint: the generator is broken"

# The same connection for every tool: the cluster's unix socket (migra takes URLs: host= in the query).
url() { printf 'postgresql://%s@localhost:%s/%s?host=%s' "$PGUSER" "$PGPORT" "$1" "$PGHOST"; }

# measure KEY OUT CMD...: runs CMD with stdout to OUT, stderr to $LOG; appends "seconds maxrss_kib" to
# $RES/KEY (the peak resident memory of CMD's own process tree, from wait4). Exit codes 0 and 32 (pgmig:
# destructive steps withheld, not expected here) count as success.
measure() {
    local key=$1 out=$2
    shift 2
    python3 - "$RES/$key" "$out" "$LOG" "$@" <<'PY' || { say "failed ($key): ${*}"; tail -n 30 "$LOG" >&2; exit 1; }
import os, subprocess, sys, time
res, out, log, cmd = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
with open(out, "wb") as o, open(log, "wb") as e:
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=o, stderr=e)
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
code = os.waitstatus_to_exitcode(status)
with open(res, "a") as r:
    r.write(f"{wall:.6f} {usage.ru_maxrss}\n")
sys.exit(0 if code in (0, 32) else 1)
PY
}

PGMIG_TO=("$PGMIG" -d "dbname=diff_a" diff --to "dbname=diff_b" --allow-destructive --no-rename)
PGMIG_SCHEMA=("$PGMIG" -d "dbname=diff_a" diff --schema "$SCHEMA_DIR" --allow-destructive --no-rename)
MIGRA_RUN=("$MIGRA" run "$(url diff_a)" "$(url diff_b)" --unsafe true)
tools=(pgmig_to pgmig_schema)
[[ -z $migra_note ]] && tools+=(migra)

say "timing $RUNS rounds (${tools[*]}), rotating order..."
for ((r = 0; r < RUNS; r++)); do
    for ((k = 0; k < ${#tools[@]}; k++)); do
        t=${tools[(r + k) % ${#tools[@]}]}
        q -d postgres -c CHECKPOINT >/dev/null
        case $t in
            pgmig_to) measure pgmig_to "$W/pgmig_to.sql" "${PGMIG_TO[@]}" ;;
            pgmig_schema) measure pgmig_schema "$W/pgmig_schema.sql" "${PGMIG_SCHEMA[@]}" ;;
            migra) measure migra "$W/migra.sql" "${MIGRA_RUN[@]}" ;;
        esac
    done
done

# ---------------------------------------------------------------- correctness
# apply FILE DB: runs the SQL with psql, one statement at a time (autocommit: pgmig's post part holds
# CREATE INDEX CONCURRENTLY), stopping at the first error; prints the error.
apply_sql() { { PGOPTIONS="-c client_min_messages=warning" psql -X -q -v ON_ERROR_STOP=1 -d "$2" -f "$1" 2>&1 >/dev/null || true; } | head -5; }
copy_of_a() { dropdb --if-exists "$1" >/dev/null 2>&1; createdb -T diff_a "$1" || die "createdb -T diff_a $1 failed"; }

check_pgmig() {  # FILE -> verdict
    copy_of_a diff_check
    local e
    e=$(apply_sql "$1" diff_check)
    if [[ -n $e ]]; then echo "does NOT apply: $e"; return; fi
    if [[ $(q -d diff_check -c "SELECT migrate_fingerprint()") == "$fp_b" ]]; then
        echo "applies; fingerprint = B's (exact round trip)"
    else
        echo "applies, but the fingerprint differs from B's: $(q -d diff_check -c "SELECT count(*) FROM migrate_fingerprint_objects()") objects"
    fi
}
verdict_to=$(check_pgmig "$W/pgmig_to.sql")
verdict_schema=$(check_pgmig "$W/pgmig_schema.sql")
same_output="no"
cmp -s "$W/pgmig_to.sql" "$W/pgmig_schema.sql" && same_output="yes"
stmts() { grep -cE ';[[:space:]]*$' "$1" || true; }
verdict_migra=""
if [[ -z $migra_note ]]; then
    # migra 0.6.1 prints a warning with a stack trace on stdout, before the SQL: not part of the migration
    sed -i '/^WARNING: Creating a duplicate database object/,/^$/d' "$W/migra.sql"
    copy_of_a diff_check
    e=$(apply_sql "$W/migra.sql" diff_check)
    if [[ -n $e ]]; then
        verdict_migra="does NOT apply: $e"
    elif [[ $(q -d diff_check -c "SELECT migrate_fingerprint()") == "$fp_b" ]]; then
        verdict_migra="applies; fingerprint = B's"
    else
        verdict_migra="applies; fingerprint differs from B's (pgmig's canonical snapshot)"
    fi
fi
dropdb --if-exists diff_check >/dev/null 2>&1 || true

# The server side of pgmig's work: one backend taking migrate_snapshot() of A (what `diff --to` asks of
# each database), its peak RSS from /proc (VmHWM: includes the shared buffers it touched). As root the
# server runs as postgres, but /proc is readable.
# Also the time of that call (psql \timing, a fresh session) and the snapshot's size as text.
backend=$(q -d diff_a <<'SQL' 2>/dev/null || true
SELECT pg_backend_pid() AS pid \gset
\timing on
SELECT length(migrate_snapshot()::text) AS bytes \gset
\timing off
\setenv BACKEND_PID :pid
\! awk '/^VmHWM/ { print "VmHWM", $2 }' /proc/$BACKEND_PID/status
\echo BYTES :bytes
SQL
)
backend_kib=$(awk '/^VmHWM/ { print $2 }' <<<"$backend")
backend_mib="?"
[[ $backend_kib =~ ^[0-9]+$ ]] && backend_mib=$((backend_kib / 1024))
snapshot_ms=$(sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' <<<"$backend")
snapshot_kib=$(awk '/^BYTES/ { printf "%d", $2 / 1024 }' <<<"$backend")

# ---------------------------------------------------------------- report
summary() {  # KEY -> "median min max medianRSS_MiB"
    python3 - "$RES/$1" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
t = [float(r[0]) for r in rows]
m = [int(r[1]) / 1024 for r in rows]
print(f"{statistics.median(t):.3f} {min(t):.3f} {max(t):.3f} {max(m):.0f}")
PY
}
read -r to_med to_min to_max to_rss <<<"$(summary pgmig_to)"
read -r sc_med sc_min sc_max sc_rss <<<"$(summary pgmig_schema)"
cat <<REPORT

diff of two schemas: A $tables_a tables, B $tables_b tables, differing in $CHANGED tables
  ($changes)
median of $RUNS rounds, wall seconds (min-max), peak RSS of the client process tree
  pgmig diff --to B (database to database)     $to_med s ($to_min-$to_max)  ${to_rss} MiB  $(stmts "$W/pgmig_to.sql") statements
  pgmig diff --schema DIR (shadow load incl.)  $sc_med s ($sc_min-$sc_max)  ${sc_rss} MiB  $(stmts "$W/pgmig_schema.sql") statements
REPORT
if [[ -z $migra_note ]]; then
    read -r mg_med mg_min mg_max mg_rss <<<"$(summary migra)"
    ratio=$(python3 -c "print(f'{$mg_med / $to_med:.1f}')")
    ratio_schema=$(python3 -c "print(f'{$mg_med / $sc_med:.1f}')")
    target=met
    python3 -c "import sys; sys.exit(0 if $mg_med / $to_med >= 5 else 1)" || target=MISSED
    cat <<REPORT
  migra $(node -e "console.log(require('$PEERS_DIR/node_modules/@pgkit/migra/package.json').version)") --unsafe (database to database)  $mg_med s ($mg_min-$mg_max)  ${mg_rss} MiB  $(stmts "$W/migra.sql") statements
  speed-up migra / pgmig --to: ${ratio}x (target >= 5x: $target); migra / pgmig --schema: ${ratio_schema}x
REPORT
else
    echo "  migra: not measured: $migra_note"
fi
cat <<REPORT
correctness (each output applied with psql to a copy of A)
  pgmig --to:      $verdict_to
  pgmig --schema:  $verdict_schema (same SQL as --to: $same_output)
REPORT
[[ -z $migra_note ]] && echo "  migra:           $verdict_migra"
echo "peak RSS is the client's (pgmig or node); pgmig's snapshots are built in the server: one backend taking"
echo "migrate_snapshot() of A peaked at $backend_mib MiB (VmHWM, shared buffers it touched included); that call"
echo "took ${snapshot_ms:-?} ms in a fresh session for ${snapshot_kib:-?} KiB of JSON (pgmig diff --to takes two)"
