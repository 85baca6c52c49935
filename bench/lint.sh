#!/usr/bin/env bash
# bench/lint.sh: migrate_lint() on a 5,000-statement migration against a database with tables of
# real size (target: under 1 s), and squawk (npm squawk-cli, pinned in bench/package.json) on the
# same file in the same run. Starts and removes its own throwaway cluster. A report: exits 0 when a
# target is missed, non-zero only when something failed to run.
#   bench/lint.sh                 RUNS=7 by default
#   PEERS=0 bench/lint.sh         pgmig only
set -euo pipefail
BENCH=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$BENCH/.." && pwd)
PGMIG=${PGMIG:-$ROOT/build/pgmig}
STATEMENTS=${STATEMENTS:-5000}
TABLES=${TABLES:-50}
ROWS=${ROWS:-2000}
RUNS=${RUNS:-7}
PEERS=${PEERS:-1}
KEEP=${KEEP:-0}
PEERS_DIR=$BENCH/.peers
SQUAWK=$PEERS_DIR/node_modules/.bin/squawk

say() { printf '%s\n' "$*" >&2; }
die() { say "lint.sh: $*"; exit 1; }
# shellcheck source=bench/lib.sh
. "$BENCH/lib.sh"

for v in STATEMENTS TABLES ROWS RUNS; do
    [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive integer, not '${!v}'"
done
[[ -x $PGMIG ]] || die "$PGMIG not found: build it first (cmake -S . -B build && cmake --build build -j2)"
for c in psql python3; do command -v "$c" >/dev/null || die "$c not found"; done

# ---------------------------------------------------------------- peer: squawk
squawk_note=""
if [[ $PEERS == 1 ]]; then
    if [[ ! -x $SQUAWK ]] || ! cmp -s "$BENCH/package.json" "$PEERS_DIR/package.json"; then
        if command -v npm >/dev/null; then
            say "installing the npm peers (bench/package.json, squawk-cli included) into bench/.peers..."
            mkdir -p "$PEERS_DIR"
            cp "$BENCH/package.json" "$PEERS_DIR/package.json"
            (cd "$PEERS_DIR" && npm install --no-audit --no-fund --loglevel=error >/dev/null 2>&1) ||
                squawk_note="npm install in bench/.peers failed (offline, or no registry access)"
        else
            squawk_note="npm not found (apt-get install npm)"
        fi
    fi
    # squawk-cli's own binary comes from an optional platform package (@squawk-cli/linux-x64 ...).
    if [[ -z $squawk_note ]] && ! "$SQUAWK" --version >/dev/null 2>&1; then
        squawk_note="squawk-cli is installed but its binary does not run here (its platform package is missing)"
    fi
else
    squawk_note="PEERS=0"
fi

# ---------------------------------------------------------------- cluster and data
bench_cluster lint-bench
DB=lintbench
q -d postgres -c "CREATE DATABASE $DB" >/dev/null
q -d $DB -c "CREATE EXTENSION IF NOT EXISTS pgmig" >/dev/null
say "creating $TABLES tables of $ROWS rows..."
q -d $DB >/dev/null <<SQL
SELECT format('CREATE TABLE b%s (id bigint PRIMARY KEY, v varchar(100), n int)', g) FROM generate_series(0, $TABLES - 1) g
\gexec
SELECT format('INSERT INTO b%s SELECT i, md5(i::text), i FROM generate_series(1, $ROWS) i', g) FROM generate_series(0, $TABLES - 1) g
\gexec
ANALYZE;
SQL

# ---------------------------------------------------------------- the migration
FILE=$TMP/migration.sql
python3 - "$FILE" "$STATEMENTS" "$TABLES" <<'PY'
import sys
path, n, tables = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
templates = [
    "ALTER TABLE b{t} ADD COLUMN c{i} int NOT NULL;",                     # add-column-not-null-no-default
    "ALTER TABLE b{t} ADD COLUMN d{i} timestamptz DEFAULT now();",        # clean (stable default)
    "CREATE INDEX IF NOT EXISTS b{t}_i{i} ON b{t} (n);",                  # create-index-not-concurrently
    "ALTER TABLE b{t} ALTER COLUMN v TYPE varchar(200);",                 # alter-column-type (no rewrite)
    "CREATE TABLE IF NOT EXISTS n{i} (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, v text);",  # clean
    "ALTER TABLE n{j} ADD COLUMN x int NOT NULL;",                        # clean: table of the script
    "UPDATE b{t} SET n = n + 1 WHERE id = {i};",                          # clean
    "DELETE FROM b{t};",                                                  # delete-without-where
    "ALTER TABLE b{t} ADD CONSTRAINT k{i} CHECK (n > 0) NOT VALID;",      # clean
    "ALTER TABLE b{t} ADD COLUMN e{i} json;",                             # prefer-jsonb (advice)
]
with open(path, "w") as f:
    f.write("SET lock_timeout = '5s';\n")
    for k in range(n - 1):
        i = k
        f.write(templates[k % len(templates)].format(t=k % tables, i=i, j=i - 1) + "\n")
PY
chmod 644 "$FILE"
lines=$(wc -l <"$FILE")
say "migration: $lines statements, $(wc -c <"$FILE") bytes"

# ---------------------------------------------------------------- timing
median() { python3 -c 'import statistics,sys; v=[float(x) for x in sys.argv[1:]]; print(f"{statistics.median(v):.1f} {min(v):.1f} {max(v):.1f}")' "$@"; }

# migrate_lint, server side: the file is loaded once into a temporary table (not timed); psql's
# \timing then measures each call (round trip included, rows counted on the server).
pg_times=()
counts=""
out=$(q -d $DB <<SQL
\set content \`cat $FILE\`
CREATE TEMP TABLE src AS SELECT :'content'::text AS sql;
SELECT count(*) FROM migrate_lint((SELECT sql FROM src));
\timing on
$(for _ in $(seq "$RUNS"); do echo "SELECT count(*) FROM migrate_lint((SELECT sql FROM src));"; done)
\timing off
SELECT severity || ' ' || count(*) FROM migrate_lint((SELECT sql FROM src)) GROUP BY severity ORDER BY 1;
SQL
)
while read -r ms; do pg_times+=("$ms"); done < <(sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' <<<"$out")
[[ ${#pg_times[@]} -eq $RUNS ]] || die "could not time migrate_lint: $out"
findings=$(head -1 <<<"$out")
by_severity=$(grep -E '^(error|warning|advice) ' <<<"$out" | tr '\n' ',' | sed 's/,$//; s/,/, /g')
read -r pg_med pg_min pg_max <<<"$(median "${pg_times[@]}")"

# pgmig lint (the client: connect, read, migrate_lint, print), wall time.
cli_times=()
for _ in $(seq "$RUNS"); do
    t0=$(date +%s%N)
    "$PGMIG" lint "$FILE" -d "dbname=$DB" >/dev/null 2>&1 || true
    cli_times+=("$(( ($(date +%s%N) - t0) / 1000 ))e-3")
done
read -r cli_med cli_min cli_max <<<"$(median "${cli_times[@]}")"

sq_line=""
if [[ -z $squawk_note ]]; then
    sq_times=()
    sq_issues=$("$SQUAWK" --reporter gcc "$FILE" 2>/dev/null | grep -c ": warning\|: error" || true)
    for _ in $(seq "$RUNS"); do
        t0=$(date +%s%N)
        "$SQUAWK" --reporter gcc "$FILE" >/dev/null 2>&1 || true
        sq_times+=("$(( ($(date +%s%N) - t0) / 1000 ))e-3")
    done
    read -r sq_med sq_min sq_max <<<"$(median "${sq_times[@]}")"
    ratio=$(python3 -c "print(f'{$pg_med / $sq_med:.2f}')")
    sq_line="squawk $("$SQUAWK" --version 2>/dev/null | awk '{print $NF}') (--reporter gcc, wall)   $sq_med ms (min $sq_min, max $sq_max), $sq_issues issues"
fi

# ---------------------------------------------------------------- report
target="met"
python3 -c "import sys; sys.exit(0 if $pg_med < 1000 else 1)" || target="MISSED"
cat <<REPORT

lint of a $lines-statement migration, $TABLES tables of $ROWS rows, median of $RUNS runs (min-max)
  migrate_lint() (server, via psql \\timing)   $pg_med ms (min $pg_min, max $pg_max), $findings findings ($by_severity)
  target < 1000 ms: $target
  pgmig lint FILE (client, wall)            $cli_med ms (min $cli_min, max $cli_max)
REPORT
if [[ -n $sq_line ]]; then
    echo "  $sq_line"
    echo "  ratio migrate_lint / squawk: $ratio (below 1: pgmig is faster)"
else
    echo "  squawk: not measured: $squawk_note"
fi
