# pgmig diff on schemas whose snapshots are larger than a socket buffer (about 700 KiB each): the
# --schema mode must not leave the target's snapshot unread while the shadow database is created and
# dropped (CREATE/DROP DATABASE wait for every backend to absorb a barrier; a backend blocked sending
# an unread result never does, and the command hung). --to takes both snapshots at once and must give
# the same SQL. Sourced by run.sh (see lib.sh).

dl="$work/difflarge"
mkdir -p "$dl/schema"
chmod -R 755 "$dl"

# 600 tables of 8 columns, a primary key and an index each; the desired schema has one table more.
python3 - "$dl/schema/01_tables.sql" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    for i in range(600):
        f.write(f"CREATE TABLE big_{i:04d} (id bigint PRIMARY KEY, name text NOT NULL, note varchar(200), "
                f"qty integer DEFAULT 0, price numeric(12,2), created timestamptz DEFAULT now(), "
                f"active boolean NOT NULL DEFAULT true, data jsonb);\n"
                f"CREATE INDEX big_{i:04d}_name ON big_{i:04d} (name);\n")
PY
head -n 1200 "$dl/schema/01_tables.sql" >"$dl/target.sql"
echo "CREATE TABLE big_extra (id bigint PRIMARY KEY, label text);" >>"$dl/schema/01_tables.sql"

newdb dlt
newdb dlw
psql -X -q -v ON_ERROR_STOP=1 -d "$dlt" -f "$dl/target.sql" >/dev/null 2>&1 || fail "setup" "loading the target"
psql -X -q -v ON_ERROR_STOP=1 -d "$dlw" -f "$dl/schema/01_tables.sql" >/dev/null 2>&1 || fail "setup" "loading --to"
size=$(sql "$dlt" "SELECT length(migrate_snapshot()::text)")
if [ "${size:-0}" -gt 400000 ]; then pass "the target's snapshot is larger than a socket buffer ($size bytes)"
else fail "the target's snapshot is larger than a socket buffer" "only $size bytes"; fi

# timeout (SIGKILL 10 s after SIGTERM): the hang this guards against never ends by itself, and the
# old binary hung in it ignored SIGTERM (checked: PGMIG_DIFF_TIMEOUT=60 with the binary of 1a27212)
timeout -k 10 "${PGMIG_DIFF_TIMEOUT:-300}" "$bin" -d "dbname=$dlt" diff --schema "$dl/schema" >"$work/out" 2>"$work/err"
rc=$?
out=$(cat "$work/out")
err=$(cat "$work/err")
expect "diff --schema of 600 tables finishes (no wait on an unread snapshot)" 0 "CREATE TABLE public.big_extra"
schema_sql=$out
left=$(sql postgres "SELECT count(*) FROM pg_database WHERE datname LIKE 'pgmig\_shadow\_%'")
if [ "$left" = 0 ]; then pass "diff --schema of 600 tables drops its shadow"; else fail "diff --schema of 600 tables drops its shadow" "$left left"; fi

timeout -k 10 "${PGMIG_DIFF_TIMEOUT:-300}" "$bin" -d "dbname=$dlt" diff --to "dbname=$dlw" >"$work/out" 2>"$work/err"
rc=$?
out=$(cat "$work/out")
err=$(cat "$work/err")
expect "diff --to of 600 tables (both snapshots at once)" 0 "CREATE TABLE public.big_extra"
if [ "$out" = "$schema_sql" ]; then pass "diff --to and diff --schema give the same SQL"
else fail "diff --to and diff --schema give the same SQL" "$(diff <(echo "$schema_sql") <(echo "$out") | head -5)"; fi
if grep -c "CREATE TABLE" <<<"$out" | grep -qx 1; then pass "diff of 600 equal tables writes only the new one"
else fail "diff of 600 equal tables writes only the new one" "$(head -c 300 <<<"$out")"; fi
