#!/usr/bin/env bash
# bench/large_migration.sh: one migration of about 10 MB (STATEMENTS INSERTs, one per line) applied by
# `pgmig apply` against `psql -1 -f` of the same SQL, in the same run, rounds in alternating order,
# medians and the ratio; the server-side phases of pgmig on that script (split, lint, migrate_apply of
# the registered migration); and the audit of one out-of-band query string of OOB_STATEMENTS DDL
# statements (a database with pgmig against one without). Starts and removes its own throwaway
# cluster. A report: exits 0 whatever the numbers, non-zero only when something failed to run.
#   bench/large_migration.sh                 ROUNDS=3, STATEMENTS=50000, OOB_STATEMENTS=5000
#   STATEMENTS=10000 bench/large_migration.sh
set -euo pipefail
BENCH=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$BENCH/.." && pwd)
PGMIG=${PGMIG:-$ROOT/build/pgmig}
STATEMENTS=${STATEMENTS:-50000}
OOB_STATEMENTS=${OOB_STATEMENTS:-5000}
ROUNDS=${ROUNDS:-3}
KEEP=${KEEP:-0}

say() { printf '%s\n' "$*" >&2; }
die() { say "large_migration.sh: $*"; exit 1; }
# shellcheck source=bench/lib.sh
. "$BENCH/lib.sh"

for v in STATEMENTS OOB_STATEMENTS ROUNDS; do
    [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive integer, not '${!v}'"
done
[[ -x $PGMIG ]] || die "$PGMIG not found: build it first (cmake -S . -B build && cmake --build build -j2)"
for c in psql createdb dropdb python3; do command -v "$c" >/dev/null || die "$c not found"; done

bench_cluster large-migration-bench

# ---------------------------------------------------------------- the workload
mkdir -p "$W/migrations"
python3 - "$W/all.sql" "$W/migrations/1_large.sql" "$W/oob.sql" "$STATEMENTS" "$OOB_STATEMENTS" <<'PY'
import sys
all_sql, migration, oob, n, m = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
lines = ["CREATE TABLE large_t (id int PRIMARY KEY, v text, w text);\n"]
pad = "x" * 110
for i in range(n):
    lines.append(f"INSERT INTO large_t (id, v, w) VALUES ({i}, 'value number {i} of the large migration benchmark', '{pad}');\n")
body = "".join(lines)
open(all_sql, "w").write(body)
open(migration, "w").write("-- pgmig:up\n" + body + "-- pgmig:down\nDROP TABLE large_t;\n")
# One query string: psql sends statements separated by \; as one message.
stmts = ["CREATE TABLE oob_t (id int)"] + [f"COMMENT ON TABLE oob_t IS 'comment {i} {pad}{pad}'" for i in range(m)]
open(oob, "w").write(" \\;\n".join(stmts) + ";\n")
PY
chmod -R a+rX "$TMP"
size=$(wc -c <"$W/all.sql")
say "migration: $((STATEMENTS + 1)) statements, $size bytes; out-of-band string: $((OOB_STATEMENTS + 1)) statements, $(wc -c <"$W/oob.sql") bytes"

# ---------------------------------------------------------------- pgmig apply against psql -1 -f
run_psql() { fresh_db bench_psql pgmig; timed psql_f psql -X -q -1 -v ON_ERROR_STOP=1 -d bench_psql -f "$W/all.sql"; }
run_pgmig() { fresh_db bench_pgmig pgmig; timed pgmig_apply "$PGMIG" apply --dir "$W/migrations" -d "dbname=bench_pgmig"; }
for r in $(seq "$ROUNDS"); do
    q -d postgres -c "CHECKPOINT" >/dev/null
    if ((r % 2)); then run_psql; run_pgmig; else run_pgmig; run_psql; fi
    [[ $(q -d bench_pgmig -c "SELECT count(*) FROM large_t") == "$STATEMENTS" ]] || die "pgmig apply did not insert every row"
    [[ $(q -d bench_psql -c "SELECT count(*) FROM large_t") == "$STATEMENTS" ]] || die "psql did not insert every row"
    say "round $r: psql -1 -f $(tail -1 "$RES/psql_f") s, pgmig apply $(tail -1 "$RES/pgmig_apply") s"
done

# ---------------------------------------------------------------- server-side phases (psql \timing, ms)
fresh_db bench_phases pgmig
phases=$(q -d bench_phases <<SQL
\\set content \`cat $W/all.sql\`
CREATE TEMP TABLE src AS SELECT :'content'::text AS sql;
SELECT migrate_register('1', 'large', (SELECT sql FROM src)) IS NOT NULL;
\\timing on
SELECT count(*) FROM pgmig.split_statements((SELECT sql FROM src));
SELECT count(*) FROM migrate_lint((SELECT sql FROM src));
SELECT count(*) FROM migrate_apply();
\\timing off
SQL
)
mapfile -t ms < <(sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' <<<"$phases")
[[ ${#ms[@]} -eq 3 ]] || die "could not time the phases: $phases"

# ---------------------------------------------------------------- one out-of-band query string
for r in $(seq "$ROUNDS"); do
    fresh_db bench_oob_plain
    timed oob_plain psql -X -q -v ON_ERROR_STOP=1 -d bench_oob_plain -f "$W/oob.sql"
    fresh_db bench_oob_pgmig pgmig
    timed oob_pgmig psql -X -q -v ON_ERROR_STOP=1 -d bench_oob_pgmig -f "$W/oob.sql"
done
audited=$(q -d bench_oob_pgmig -c "SELECT count(*) || ' rows, ' || count(statement) || ' with their statement, longest ' || max(length(statement)) FROM pgmig.ddl_audit")

# ---------------------------------------------------------------- report
mp=$(median "$RES/psql_f")
ma=$(median "$RES/pgmig_apply")
op=$(median "$RES/oob_plain")
oa=$(median "$RES/oob_pgmig")
ratio() { python3 -c "print(f'{$1 / $2:.2f}')"; }
range() { sort -g "$1" | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%.2f-%.2f", lo, hi }'; }
cat <<REPORT

large migration: $((STATEMENTS + 1)) statements, $size bytes, $ROUNDS rounds, medians (min-max)
  psql -X -1 -f all.sql                   $(printf '%.2f' "$mp") s ($(range "$RES/psql_f"))
  pgmig apply (read, register, lint, apply) $(printf '%.2f' "$ma") s ($(range "$RES/pgmig_apply"))
  ratio pgmig apply / psql -1 -f          $(ratio "$ma" "$mp")
  server side, one run: split_statements ${ms[0]} ms, migrate_lint ${ms[1]} ms, migrate_apply ${ms[2]} ms
out-of-band: one query string of $((OOB_STATEMENTS + 1)) DDL statements (psql -f, statements joined by \\;)
  without pgmig                           $(printf '%.2f' "$op") s
  with pgmig (audited)                    $(printf '%.2f' "$oa") s, ratio $(ratio "$oa" "$op"); $audited
REPORT
