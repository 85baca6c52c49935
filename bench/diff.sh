#!/usr/bin/env bash
# bench/diff.sh: the desired-state diff on two schemas of TABLES tables (with views, functions, indexes
# and foreign keys) that differ in CHANGED tables: `pgmig diff --to` (database to database), `pg_dump
# --schema-only` of one of the two databases (the floor: one catalog read, printed) and migra (npm
# @pgkit/migra, pinned in bench/migra/) on the same pair, in one run, rounds in rotating order, medians,
# ratios and the client's peak memory (/usr/bin/time -v); the peak memory of the backends serving pgmig's
# snapshots; then checks that pgmig's SQL round-trips (applied to a copy of A it gives B's exact
# fingerprint) and whether migra's SQL applies. Optionally `pgmig diff --schema` (B's SQL loaded into a
# shadow database). Starts and removes its own throwaway cluster. A report: exits 0 when a target is
# missed, non-zero only when something failed to run.
#   bench/diff.sh                           RUNS=3, TABLES=10000, CHANGED=500 (about 15 minutes on 2 cores)
#   TABLES=1000 CHANGED=50 RUNS=5 bench/diff.sh
#   PEERS=0 bench/diff.sh                   pgmig and pg_dump only
#   SCHEMA_MODE=1 bench/diff.sh             also time `pgmig diff --schema` (default: only up to 2,000 tables)
set -euo pipefail
BENCH=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$BENCH/.." && pwd)
PGMIG=${PGMIG:-$ROOT/build/pgmig}
TABLES=${TABLES:-10000}
CHANGED=${CHANGED:-500}
RUNS=${RUNS:-3}
PEERS=${PEERS:-1}
KEEP=${KEEP:-0}
SCHEMA_MODE=${SCHEMA_MODE:-auto}
# migra and its node_modules, cached outside the clone like scripts/install-adoption-tools does
TOOLS_DIR=${PGMIG_BENCH_TOOLS:-/var/cache/pgmig/bench-tools}/migra
MIGRA_JS=$TOOLS_DIR/node_modules/@pgkit/migra/dist/command.js
MIGRA_NODE=${MIGRA_NODE:-node} # the node that runs migra (Debian 12's is Node.js 18)
PG_DUMP=${PG_DUMP:-pg_dump}
TIME=/usr/bin/time

say() { printf '%s\n' "$*" >&2; }
die() { say "diff.sh: $*"; exit 1; }
# shellcheck source=bench/lib.sh
. "$BENCH/lib.sh"

for v in TABLES CHANGED RUNS; do
    [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive integer, not '${!v}'"
done
((CHANGED % 10 == 0 && CHANGED * 4 <= TABLES)) || die "CHANGED must be a multiple of 10 and at most TABLES/4"
[[ $SCHEMA_MODE == auto ]] && { ((TABLES <= 2000)) && SCHEMA_MODE=1 || SCHEMA_MODE=0; }
[[ -x $PGMIG ]] || die "$PGMIG not found: build it first (cmake -S . -B build && cmake --build build -j2)"
for c in psql createdb dropdb python3 "$PG_DUMP"; do command -v "$c" >/dev/null || die "$c not found"; done
[[ -x $TIME ]] || die "$TIME not found: scripts/install-deps --tests installs it (Debian package time)"

# ---------------------------------------------------------------- peer: migra
# Installed with npm ci from bench/migra/package-lock.json into $TOOLS_DIR (PGMIG_BENCH_TOOLS); a second
# run with the same lock file reuses it.
migra_note=""
if [[ $PEERS == 1 ]]; then
    stamp=$(cat "$BENCH/migra/package.json" "$BENCH/migra/package-lock.json" | sha256sum | cut -d' ' -f1)
    if [[ ! -f $MIGRA_JS || ! -f $TOOLS_DIR/.stamp || $(cat "$TOOLS_DIR/.stamp") != "$stamp" ]]; then
        if command -v npm >/dev/null; then
            say "installing @pgkit/migra (bench/migra/package-lock.json) into $TOOLS_DIR..."
            rm -rf "$TOOLS_DIR"
            mkdir -p "$TOOLS_DIR" "$TOOLS_DIR/../npm-cache"
            cp "$BENCH/migra/package.json" "$BENCH/migra/package-lock.json" "$TOOLS_DIR/"
            if (cd "$TOOLS_DIR" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error \
                --cache "$TOOLS_DIR/../npm-cache" >/dev/null 2>&1); then
                echo "$stamp" >"$TOOLS_DIR/.stamp"
            else
                migra_note="npm ci in $TOOLS_DIR failed (offline, or no registry access)"
            fi
        else
            migra_note="npm not found (scripts/install-deps --tests installs it)"
        fi
    fi
    if [[ -z $migra_note ]] && ! $MIGRA_NODE "$MIGRA_JS" --help >/dev/null 2>&1; then
        migra_note="@pgkit/migra is installed but 'migra --help' does not run here ($MIGRA_NODE --version: $($MIGRA_NODE --version 2>&1))"
    fi
else
    migra_note="PEERS=0"
fi

# ---------------------------------------------------------------- the two schemas
bench_cluster diff-bench
# pg_dump takes a lock on every table it dumps, in one transaction: 10,000 tables need more lock slots
# than the default (max_locks_per_transaction 64 x max_connections 100 = 6,400), as on any large schema.
if ((TABLES * 2 > 6400)); then
    q -d postgres -c "ALTER SYSTEM SET max_locks_per_transaction = $((TABLES * 2 / 100 + 64))" >/dev/null
    stop_cluster "$CLUSTER"
    start_cluster "$CLUSTER" "$LOG"
fi
SCHEMA_DIR=$W/schema
mkdir -p "$SCHEMA_DIR"
python3 - "$W/a.sql" "$SCHEMA_DIR/schema.sql" "$TABLES" "$CHANGED" >"$W/changes.txt" <<'PY'
# Tables tNNNN: id bigint identity PK, 6 to 9 columns of several types, one index each, a foreign key to
# the previous table in every 5th table, a view over every 20th table (+10), a function over every 10th
# (+3; SQL and PL/pgSQL in turn). B differs from A in CHANGED tables, a tenth each: dropped, added (with
# a foreign key and an index), two columns added, last column dropped, columns retyped, index added,
# CHECK added, view changed, function changed, a new view and a new function over the table.
import sys
path_a, path_b, n, changed = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
per = changed // 10  # a tenth
width = max(4, len(str(n + per - 1)))
T = lambda i: f"t{i:0{width}d}"
types = ["text", "int", "numeric(12,2)", "timestamptz", "boolean", "jsonb", "varchar(50)", "date", "bigint"]

def columns(i):
    cols = [("id", "bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY")]
    for k in range(6 + i % 4):
        t = types[(i + k) % len(types)]
        extra = " NOT NULL DEFAULT 0" if t == "int" and k % 2 == 0 else ""
        extra = " NOT NULL DEFAULT now()" if t == "timestamptz" else extra
        cols.append((f"c{k}", t + extra))
    if i % 5 == 1 and i > 0:
        cols.append((f"{T(i-1)}_id", f"bigint REFERENCES {T(i-1)}"))
    return cols

referenced = {i - 1 for i in range(n) if i % 5 == 1 and i > 0}
viewed = [i for i in range(n) if i % 20 == 10]
functions = [i for i in range(n) if i % 10 == 3]
# nothing depends on them (no view, function or foreign key)
free = [i for i in range(n) if i not in referenced and i % 5 != 1 and i % 20 != 10 and i % 10 != 3]
spread = lambda items, k: items[::max(1, len(items) // k)][:k]
picks = spread(free, 7 * per)  # dealt in turn, so that each kind of change is spread over the schema
dropped, add_cols, drop_cols, retype, new_index, new_check, new_view_fn = (set(picks[k::7]) for k in range(7))
view_changed = set(spread(viewed, per))
fn_changed = set(spread(functions, per))
added = [n + k for k in range(per)]
assert len(dropped | add_cols | drop_cols | retype | new_index | new_check | new_view_fn) == 7 * per

def function(i, variant):
    changed = variant == "b" and i in fn_changed
    if (i // 10) % 2 == 0:
        op = ">=" if changed else ">"
        return (f"CREATE FUNCTION f{i:0{width}d}(p bigint) RETURNS bigint LANGUAGE sql STABLE\n"
                f"    AS $$ SELECT count(*) FROM {T(i)} WHERE id {op} p $$;")
    body = "RETURN coalesce(v, 0) + 1;" if changed else "RETURN coalesce(v, 0);"
    return (f"CREATE FUNCTION f{i:0{width}d}(p bigint) RETURNS bigint LANGUAGE plpgsql STABLE AS $$\n"
            f"DECLARE v bigint;\nBEGIN\n    SELECT max(id) INTO v FROM {T(i)} WHERE id < p;\n    {body}\nEND\n$$;")

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
    out = [f"CREATE TABLE {T(i)} (\n    {body}\n);", f"CREATE INDEX {T(i)}_c0 ON {T(i)} (c0);"]
    if variant == "b" and i in new_index:
        out.append(f"CREATE INDEX {T(i)}_c1_c2 ON {T(i)} (c1, c2);")
    if variant == "b" and i in new_check:
        out.append(f"ALTER TABLE {T(i)} ADD CONSTRAINT {T(i)}_id_positive CHECK (id > 0);")
    if i % 20 == 10:
        if variant == "b" and i in view_changed:
            out.append(f"CREATE VIEW v{i:0{width}d} AS SELECT id, c0, c1, c2 FROM {T(i)} WHERE id > 20;")
        else:
            out.append(f"CREATE VIEW v{i:0{width}d} AS SELECT id, c0, c1 FROM {T(i)} WHERE id > 10;")
    if i % 10 == 3:
        out.append(function(i, variant))
    if variant == "b" and i in new_view_fn:
        out.append(f"CREATE VIEW w{i:0{width}d} AS SELECT id, c0 FROM {T(i)};")
        out.append(f"CREATE FUNCTION g{i:0{width}d}() RETURNS bigint LANGUAGE sql STABLE\n"
                   f"    AS $$ SELECT max(id) FROM {T(i)} $$;")
    return "\n".join(out)

def schema(variant):
    parts = []
    for i in range(n):
        if variant == "b" and i in dropped:
            continue
        parts.append(table(i, variant))
    if variant == "b":
        for i in added:
            parts.append(f"CREATE TABLE {T(i)} (\n    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n"
                         f"    name text NOT NULL,\n    owner_id bigint REFERENCES {T(0)},\n    created date\n);\n"
                         f"CREATE INDEX {T(i)}_owner ON {T(i)} (owner_id);")
    return "\n".join(parts) + "\n"

open(path_a, "w").write(schema("a"))
open(path_b, "w").write(schema("b"))
print(f"{per} tables each dropped, added, with two columns added, with the last column dropped, "
      f"with columns retyped, with an index added, with a CHECK added, with a new view and function over them; "
      f"{per} views and {per} functions changed (A: {len(viewed)} views, {len(functions)} functions, "
      f"{len(referenced)} foreign keys)")
PY
chmod -R a+rX "$W"
changes=$(cat "$W/changes.txt")
say "schemas: $TABLES tables in A; B: $changes"

say "loading A and B (with the pgmig extension)..."
fresh_db diff_a pgmig
fresh_db diff_b pgmig
# (autocommit, one statement at a time: 10,000 tables in one transaction would exhaust the lock table)
PGOPTIONS="-c synchronous_commit=off" q -d diff_a -f "$W/a.sql" >/dev/null || die "loading A failed"
PGOPTIONS="-c synchronous_commit=off" q -d diff_b -f "$SCHEMA_DIR/schema.sql" >/dev/null || die "loading B failed"
q -d postgres -c CHECKPOINT >/dev/null
fp_a=$(q -d diff_a -c "SELECT migrate_fingerprint()")
fp_b=$(q -d diff_b -c "SELECT migrate_fingerprint()")
tables_a=$(q -d diff_a -c "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
tables_b=$(q -d diff_b -c "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
[[ $fp_a != "$fp_b" ]] || die "A and B have the same fingerprint: the generator is broken"

# The same connection for every tool: the cluster's unix socket (migra takes URLs: host= in the query).
url() { printf 'postgresql://%s@localhost:%s/%s?host=%s' "$PGUSER" "$PGPORT" "$1" "$PGHOST"; }

# measure KEY OUT CMD...: runs CMD under /usr/bin/time -v with stdout to OUT, stderr to $LOG; appends
# "seconds maxrss_kib" to $RES/KEY (wall time from here; peak resident set size of CMD as time -v reports
# it). Exit codes 0 and 32 (pgmig: destructive steps withheld, not expected here) count as success.
measure() {
    local key=$1 out=$2
    shift 2
    python3 - "$RES/$key" "$out" "$LOG" "$TIME" "$@" <<'PY' || { say "failed ($key): ${*}"; tail -n 30 "$LOG" >&2; exit 1; }
import os, re, subprocess, sys, tempfile, time
res, out, log, gnu_time, cmd = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:]
with tempfile.NamedTemporaryFile("r") as tv, open(out, "wb") as o, open(log, "wb") as e:
    t0 = time.perf_counter()
    code = subprocess.call([gnu_time, "-v", "-o", tv.name] + cmd, stdout=o, stderr=e)
    wall = time.perf_counter() - t0
    report = tv.read()
rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", report)
with open(res, "a") as r:
    r.write(f"{wall:.6f} {rss.group(1) if rss else 0}\n")
sys.exit(0 if code in (0, 32) else 1)
PY
}

PGMIG_TO=("$PGMIG" -d "dbname=diff_a" diff --to "dbname=diff_b" --allow-destructive --no-rename)
PGMIG_SCHEMA=("$PGMIG" -d "dbname=diff_a" diff --schema "$SCHEMA_DIR" --allow-destructive --no-rename)
PG_DUMP_RUN=("$PG_DUMP" --schema-only -d diff_a)
MIGRA_RUN=($MIGRA_NODE "$MIGRA_JS" run "$(url diff_a)" "$(url diff_b)" --unsafe true)
tools=(pgmig_to pg_dump)
[[ $SCHEMA_MODE == 1 ]] && tools+=(pgmig_schema)
[[ -z $migra_note ]] && tools+=(migra)

say "timing $RUNS rounds (${tools[*]}), rotating order..."
for ((r = 0; r < RUNS; r++)); do
    for ((k = 0; k < ${#tools[@]}; k++)); do
        t=${tools[(r + k) % ${#tools[@]}]}
        q -d postgres -c CHECKPOINT >/dev/null
        case $t in
            pgmig_to) measure pgmig_to "$W/pgmig_to.sql" "${PGMIG_TO[@]}" ;;
            pg_dump) measure pg_dump "$W/pg_dump.sql" "${PG_DUMP_RUN[@]}" ;;
            pgmig_schema) measure pgmig_schema "$W/pgmig_schema.sql" "${PGMIG_SCHEMA[@]}" ;;
            migra) measure migra "$W/migra.sql" "${MIGRA_RUN[@]}" ;;
        esac
        say "  round $((r + 1)): $t $(tail -n 1 "$RES/$t" | awk '{ printf "%.2f s, %d MiB", $1, $2 / 1024 }')"
    done
done

# ---------------------------------------------------------------- the backends' memory
# One more `pgmig diff --to` (not timed) while a sampler reads /proc/<pid>/status of every child of the
# postmaster whose process title names diff_a or diff_b (the two backends that serve pgmig's
# migrate_snapshot() queries) every 10 ms: VmHWM (the kernel's own peak of the resident set, shared
# buffers the backend touched included) and the largest RssAnon seen (its private memory: the
# snapshot's query and JSON; a sample, so a lower bound of the true peak).
postmaster=$(head -n 1 "$CLUSTER/data/postmaster.pid")
python3 - "$postmaster" "$RES/backends" <<'PY' &
import os, sys, time
pm, out = sys.argv[1], sys.argv[2]
seen = {}  # pid -> [title, VmHWM, max RssAnon]
stop = out + ".stop"
while not os.path.exists(stop):
    try:
        children = open(f"/proc/{pm}/task/{pm}/children").read().split()
    except OSError:
        break
    for pid in children:
        try:
            title = open(f"/proc/{pid}/cmdline", "rb").read().replace(b"\0", b" ").decode(errors="replace").strip()
            if " diff_a " not in title and " diff_b " not in title:
                continue
            status = dict(l.split(":", 1) for l in open(f"/proc/{pid}/status") if ":" in l)
        except OSError:
            continue
        hwm, anon = int(status["VmHWM"].split()[0]), int(status["RssAnon"].split()[0])
        e = seen.setdefault(pid, [title, 0, 0])
        e[1], e[2] = max(e[1], hwm), max(e[2], anon)
    time.sleep(0.01)
with open(out, "w") as f:
    for pid, (title, hwm, anon) in seen.items():
        f.write(f"{pid} {hwm} {anon} {title.split()[2] if len(title.split()) > 2 else '?'}\n")
PY
sampler=$!
sleep 0.2
measure pgmig_sampled "$W/pgmig_sampled.sql" "${PGMIG_TO[@]}"
touch "$RES/backends.stop"
wait "$sampler" || true
# (the largest backend of each database)
backends=$(sort -k2,2nr "$RES/backends" 2>/dev/null | awk '!seen[$4]++ { printf "%s%s: VmHWM %d MiB, RssAnon %d MiB", sep, $4, $2 / 1024, $3 / 1024; sep = "; " }')

# ---------------------------------------------------------------- correctness
# apply FILE DB: runs the SQL with psql, one statement at a time (autocommit: pgmig's post part holds
# CREATE INDEX CONCURRENTLY), stopping at the first error; prints the error (warnings are not errors: pgmig's
# SET LOCAL lines warn outside a transaction block).
apply_sql() { { PGOPTIONS="-c client_min_messages=error" psql -X -q -v ON_ERROR_STOP=1 -d "$2" -f "$1" 2>&1 >/dev/null || true; } | head -5; }
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
verdict_schema="" same_output="no"
if [[ $SCHEMA_MODE == 1 ]]; then
    verdict_schema=$(check_pgmig "$W/pgmig_schema.sql")
    cmp -s "$W/pgmig_to.sql" "$W/pgmig_schema.sql" && same_output="yes"
fi
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

# The snapshot query alone: migrate_snapshot() of A in a fresh psql session (\timing: server time and
# one round trip), and the size of its JSON text.
snapshot=$(q -d diff_a <<'SQL' 2>/dev/null || true
\timing on
SELECT length(migrate_snapshot()::text) AS bytes \gset
\timing off
\echo BYTES :bytes
SQL
)
snapshot_ms=$(sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' <<<"$snapshot")
snapshot_kib=$(awk '/^BYTES/ { printf "%d", $2 / 1024 }' <<<"$snapshot")

# ---------------------------------------------------------------- report
summary() {  # KEY -> "median min max maxRSS_MiB"
    python3 - "$RES/$1" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
t = [float(r[0]) for r in rows]
m = [int(r[1]) / 1024 for r in rows]
print(f"{statistics.median(t):.3f} {min(t):.3f} {max(t):.3f} {max(m):.0f}")
PY
}
verdict() { python3 -c "import sys; sys.exit(0 if $1 else 1)" && echo met || echo MISSED; }
ratio() { python3 -c "print(f'{$1 / $2:.2f}')"; }
read -r to_med to_min to_max to_rss <<<"$(summary pgmig_to)"
read -r pd_med pd_min pd_max pd_rss <<<"$(summary pg_dump)"
objects_a=$(q -d diff_a -c "SELECT count(*) FROM pgmig.snapshot_objects()")
cat <<REPORT

diff of two schemas: A $tables_a tables ($objects_a objects in pgmig's snapshot), B $tables_b tables, differing in $CHANGED tables
  ($changes)
median of $RUNS rounds, wall seconds (min-max), peak RSS of the client (/usr/bin/time -v)
  pgmig diff --to B (database to database)     $to_med s ($to_min-$to_max)  ${to_rss} MiB  $(stmts "$W/pgmig_to.sql") statements
  pg_dump --schema-only A                      $pd_med s ($pd_min-$pd_max)  ${pd_rss} MiB  $(($(wc -c <"$W/pg_dump.sql") / 1024)) KiB
REPORT
if [[ $SCHEMA_MODE == 1 ]]; then
    read -r sc_med sc_min sc_max sc_rss <<<"$(summary pgmig_schema)"
    echo "  pgmig diff --schema DIR (shadow load incl.)  $sc_med s ($sc_min-$sc_max)  ${sc_rss} MiB  $(stmts "$W/pgmig_schema.sql") statements"
fi
if [[ -z $migra_note ]]; then
    read -r mg_med mg_min mg_max mg_rss <<<"$(summary migra)"
    echo "  migra $(node -p "require('$TOOLS_DIR/node_modules/@pgkit/migra/package.json').version") --unsafe, $($MIGRA_NODE --version)     $mg_med s ($mg_min-$mg_max)  ${mg_rss} MiB  $(stmts "$W/migra.sql") statements"
fi
echo "targets"
if [[ -z $migra_note ]]; then
    echo "  migra / pgmig --to:          $(ratio "$mg_med" "$to_med")x (at least 5x: $(verdict "$mg_med / $to_med >= 5"))"
else
    echo "  migra: not measured: $migra_note"
fi
echo "  pgmig --to / pg_dump:        $(ratio "$to_med" "$pd_med")x (at most 2x: $(verdict "$to_med / $pd_med <= 2"))"
echo "  pgmig --to client peak RSS:  ${to_rss} MiB (under 200 MiB: $(verdict "$to_rss < 200"))"
cat <<REPORT
backends serving pgmig diff --to's snapshots (postmaster's children, /proc/<pid>/status sampled every 10 ms):
  ${backends:-not found}
  (VmHWM: the kernel's peak resident set, shared buffers touched included; RssAnon: largest private memory sampled)
migrate_snapshot() of A alone, fresh session: ${snapshot_ms:-?} ms, ${snapshot_kib:-?} KiB of JSON
correctness (each output applied with psql to a copy of A)
  pgmig --to:      $verdict_to
REPORT
[[ $SCHEMA_MODE == 1 ]] && echo "  pgmig --schema:  $verdict_schema (same SQL as --to: $same_output)"
[[ -z $migra_note ]] && echo "  migra:           $verdict_migra"
exit 0
