# migrate_test() on the touched objects (pgmig.rollback_test_scope = touched) against the whole-schema
# comparison (= full), on the migrations pgmig generate writes for every pair of tests/diff_corpus (A -> B:
# partitions, publications, operator families, policies, domains, enums, grants, renames...): each
# generated migration as written, and with each of up to three statements of its down script left out (the
# first, the middle, the last), must get the same steps, verdicts, failure details and differing objects
# both ways. Sourced by run.sh (see lib.sh). PGMIG_CORPUS=NN_name,... runs only those pairs.

sc_corpus="$root/tests/diff_corpus"
sc_dir="$work/scope_corpus"
mkdir -p "$sc_dir"
chmod 755 "$sc_dir"
psql -X -q -d postgres -f "$sc_corpus/roles.sql" >/dev/null 2>&1 || true
sc_pairs=0 sc_migrations=0 sc_variants=0 sc_on_touched=0 sc_mismatches=()

for sc_pair_dir in "$sc_corpus"/[0-9][0-9]*_*/; do
    sc_pair=$(basename "$sc_pair_dir")
    if [ -n "${PGMIG_CORPUS:-}" ] && [[ ",$PGMIG_CORPUS," != *",$sc_pair,"* ]]; then continue; fi
    sc_args=()
    if [ -f "$sc_pair_dir/args" ]; then read -r -a sc_args <"$sc_pair_dir/args"; fi
    d="$sc_dir/$sc_pair"
    mkdir -p "$d/migs" "$d/schema"
    newdb scdb || continue
    if ! psql -X -q -v ON_ERROR_STOP=1 -d "$scdb" -f "$sc_pair_dir/a.sql" >"$d/load.out" 2>&1; then
        fail "scope corpus $sc_pair: load a.sql" "$(head -c 300 "$d/load.out")"; continue
    fi
    { echo "-- pgmig:up"; cat "$sc_pair_dir/a.sql"; } >"$d/migs/1_schema.sql"
    cp "$sc_pair_dir/b.sql" "$d/schema/schema.sql"
    chmod -R a+rX "$d"
    run baseline 1 --force --dir "$d/migs" -d "dbname=$scdb"
    [ "$rc" -eq 0 ] || { fail "scope corpus $sc_pair: baseline" "exit $rc: $(head -c 300 <<<"$err")"; continue; }
    run generate scope --schema "$d/schema" --dir "$d/migs" --allow-destructive "${sc_args[@]}" -d "dbname=$scdb"
    [ "$rc" -eq 0 ] || { fail "scope corpus $sc_pair: generate" "exit $rc: $(head -c 300 <<<"$err")"; continue; }
    sc_pairs=$((sc_pairs + 1))
    for f in "$d"/migs/*.sql; do
        [ "$(basename "$f")" = 1_schema.sql ] && continue
        grep -q '^-- pgmig:no-transaction' "$f" && continue  # migrate_test refuses those (PM021)
        awk '/^-- pgmig:(up|down)[[:space:]]*$/ { sec = $2; next } sec == "pgmig:up"' "$f" >"$d/up.sql"
        awk '/^-- pgmig:(up|down)[[:space:]]*$/ { sec = $2; next } sec == "pgmig:down"' "$f" >"$d/down.sql"
        sc_migrations=$((sc_migrations + 1))
        out=$(PGMIG_SC_UP="$d/up.sql" PGMIG_SC_DOWN="$d/down.sql" psql -X -A -t -q -v ON_ERROR_STOP=1 -d "$scdb" 2>&1 <<'SQL'
\set up `cat "$PGMIG_SC_UP"`
\set down `cat "$PGMIG_SC_DOWN"`
SELECT set_config('sc.up', :'up', false) IS NOT NULL AS up_set \g /dev/null
CREATE TEMP TABLE variants AS
    SELECT 0 AS left_out, :'down'::text AS down
    UNION ALL
    SELECT s.n, coalesce((SELECT string_agg(o.statement, E';\n' ORDER BY o.n) || ';'
                            FROM pgmig.split_statements(:'down') o WHERE o.n <> s.n), 'SELECT 1;')
      FROM pgmig.split_statements(:'down') s,
           (SELECT max(n) AS last FROM pgmig.split_statements(:'down')) m
     WHERE s.n IN (1, (m.last + 1) / 2, m.last);
CREATE TEMP TABLE results (left_out int, scope text, step int, check_name text, passed boolean, detail text,
                           differing text, shown text);
DO $$
DECLARE v record; scope text;
BEGIN
    FOR v IN SELECT * FROM variants ORDER BY left_out LOOP
        PERFORM migrate_register('2', 'generated', current_setting('sc.up'), v.down);
        FOREACH scope IN ARRAY ARRAY['touched', 'full'] LOOP
            PERFORM set_config('pgmig.rollback_test_scope', scope, true);
            INSERT INTO results
                SELECT v.left_out, scope, t.step, t.check_name, t.passed,
                       CASE WHEN t.passed AND t.step IN (3, 5) THEN NULL ELSE t.detail END, t.differing::text,
                       t.detail
                  FROM migrate_test('2') t;
        END LOOP;
        DELETE FROM pgmig.migrations WHERE version = '2';
    END LOOP;
END $$;
SELECT 'variants ' || count(*) FROM variants;
SELECT 'on touched ' || count(*) FROM results WHERE scope = 'touched' AND step = 3 AND shown LIKE 'after down, %';
SELECT format('left out %s: %s step %s %s passed=%s %s', left_out, scope, step, check_name, passed,
              coalesce(differing, detail))
  FROM ((SELECT left_out, 'only touched' AS scope, step, check_name, passed, detail, differing
           FROM results WHERE scope = 'touched'
         EXCEPT SELECT left_out, 'only touched', step, check_name, passed, detail, differing
           FROM results WHERE scope = 'full')
        UNION ALL
        (SELECT left_out, 'only full', step, check_name, passed, detail, differing FROM results WHERE scope = 'full'
         EXCEPT SELECT left_out, 'only full', step, check_name, passed, detail, differing
           FROM results WHERE scope = 'touched')) x;
SQL
)
        n=$(grep -oE '^variants [0-9]+' <<<"$out" | awk '{ print $2 }')
        sc_variants=$((sc_variants + ${n:-0}))
        n=$(grep -oE '^on touched [0-9]+' <<<"$out" | awk '{ print $3 }')
        sc_on_touched=$((sc_on_touched + ${n:-0}))
        rest=$(grep -E '^left out |ERROR' <<<"$out")  # (not the WARNINGs of publications without wal_level = logical)
        [ -n "$rest" ] && sc_mismatches+=("$sc_pair $(basename "$f"): $rest")
    done
    psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $scdb" >/dev/null 2>&1
done
sc_found=""
[ ${#sc_mismatches[@]} -gt 0 ] && sc_found=$(printf '%s\n' "${sc_mismatches[@]}" | head -c 3000)
check "scope corpus: touched and full agree on every generated migration and spoiled down ($sc_pairs pairs, $sc_migrations migrations, $sc_variants tests, $sc_on_touched passes decided on the touched objects)" \
    "$sc_found" ""
# (the generated migrations are correct: most of them must pass without the whole-schema comparison)
check "scope corpus: the touched objects decide most passes" \
    "$([ $((sc_on_touched * 2)) -gt "$sc_migrations" ] && echo yes)" yes
