# migrate_test() on the touched objects (pgmig.rollback_test_scope = touched) against the whole-schema
# comparison (= full), on the migrations pgmig generate writes for every pair of tests/diff_corpus (A -> B:
# partitions, publications, operator families, policies, domains, enums, grants, renames...): each
# generated migration as written, and with each of up to three statements of its down script left out (the
# first, the middle, the last), must get the same steps, verdicts, failure details and differing objects
# both ways. migrate_apply_tested() must get them too, apply the migration exactly when every check passed
# (mostly by keeping the test's last run of up) and leave no drift. Sourced by run.sh (see lib.sh).
# PGMIG_CORPUS=NN_name,... runs only those pairs.

sc_corpus="$root/tests/diff_corpus"
sc_dir="$work/scope_corpus"
mkdir -p "$sc_dir"
chmod 755 "$sc_dir"
psql -X -q -d postgres -f "$sc_corpus/roles.sql" >/dev/null 2>&1 || true
sc_pairs=0 sc_migrations=0 sc_variants=0 sc_on_touched=0 sc_kept=0 sc_mismatches=()

for sc_pair_dir in "$sc_corpus"/[0-9][0-9]*_*/; do
    sc_pair=$(basename "$sc_pair_dir")
    if [ -n "${PGMIG_CORPUS:-}" ] && [[ ",$PGMIG_CORPUS," != *",$sc_pair,"* ]]; then continue; fi
    sc_args=()
    if [ -f "$sc_pair_dir/args" ]; then read -r -a sc_args <"$sc_pair_dir/args"; fi
    d="$sc_dir/$sc_pair"
    mkdir -p "$d/migs" "$d/schema"
    newdb scdb || continue
    # (the mark of pgmig test's scratch databases, common/scratch_database.hpp: migrate_apply_tested keeps the
    # last run of up only there)
    psql -X -q -d "$scdb" -c "COMMENT ON DATABASE $scdb IS 'pgmig test scratch database: made for one test run and dropped after it; its data does not matter'"
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
SELECT set_config('sc.up', :'up', false) IS NOT NULL AS up_set, set_config('sc.down', :'down', false) IS NOT NULL
    AS down_set \g /dev/null
-- (No DDL outside migrations here, not even temporary tables: it would be audited, and migrate_apply_tested
-- keeps the test's last run of up only while no DDL ran outside migrations since the newest snapshot. The
-- results are collected as jsonb in settings of the session.)
DO $$
DECLARE v record; scope text; rows jsonb; drift bigint; same_fingerprint boolean;
        results jsonb := '[]'; applied jsonb := '[]'; variants integer := 0;
BEGIN
    FOR v IN SELECT 0 AS left_out, current_setting('sc.down') AS down
             UNION ALL
             SELECT s.n, coalesce((SELECT string_agg(o.statement, E';\n' ORDER BY o.n) || ';'
                                     FROM pgmig.split_statements(current_setting('sc.down')) o WHERE o.n <> s.n),
                                  'SELECT 1;')
               FROM pgmig.split_statements(current_setting('sc.down')) s,
                    (SELECT max(n) AS last FROM pgmig.split_statements(current_setting('sc.down'))) m
              WHERE s.n IN (1, (m.last + 1) / 2, m.last)
             ORDER BY 1 LOOP
        variants := variants + 1;
        PERFORM migrate_register('2', 'generated', current_setting('sc.up'), v.down);
        FOREACH scope IN ARRAY ARRAY['touched', 'full'] LOOP
            PERFORM set_config('pgmig.rollback_test_scope', scope, true);
            SELECT results || coalesce(jsonb_agg(to_jsonb(t) || jsonb_build_object('left_out', v.left_out, 'scope', scope)),
                                       '[]')
              INTO results FROM migrate_test('2') t;
        END LOOP;
        -- migrate_apply_tested, its application undone (the next variant starts unapplied): its rows, how it
        -- applied, and whether the live schema then is the expected one.
        PERFORM set_config('pgmig.rollback_test_scope', 'touched', true);
        BEGIN
            SELECT jsonb_agg(to_jsonb(t) || jsonb_build_object('left_out', v.left_out, 'scope', 'apply_tested'))
              INTO rows FROM migrate_apply_tested('2') t;
            SELECT count(*) INTO drift FROM migrate_drift();
            same_fingerprint := migrate_fingerprint() = migrate_expected_fingerprint();
            RAISE EXCEPTION 'undo the application';
        EXCEPTION WHEN raise_exception THEN
            NULL;
        END;
        results := results || (SELECT coalesce(jsonb_agg(r), '[]') FROM jsonb_array_elements(rows) r
                                WHERE (r->>'step')::int <= 5);
        applied := applied || (SELECT coalesce(jsonb_agg(jsonb_build_object('left_out', v.left_out, 'how', r->>'detail',
                                                                          'drift', drift, 'same_fingerprint',
                                                                          same_fingerprint)), '[]')
                                 FROM jsonb_array_elements(rows) r WHERE (r->>'step')::int = 6);
        DELETE FROM pgmig.migrations WHERE version = '2';
    END LOOP;
    PERFORM set_config('sc.results', results::text, false), set_config('sc.applied', applied::text, false),
            set_config('sc.variants', variants::text, false);
END $$;
SELECT 'variants ' || current_setting('sc.variants');
WITH raw AS (SELECT * FROM jsonb_to_recordset(current_setting('sc.results')::jsonb)
                           AS r(left_out int, scope text, step int, check_name text, passed boolean, detail text,
                                differing jsonb)),
     results AS (SELECT left_out, scope, step, check_name, passed,
                        CASE WHEN passed AND step IN (3, 5) THEN NULL ELSE detail END AS detail, differing::text,
                        detail AS shown
                   FROM raw),
     applied AS (SELECT * FROM jsonb_to_recordset(current_setting('sc.applied')::jsonb)
                               AS a(left_out int, how text, drift bigint, same_fingerprint boolean)),
     variants AS (SELECT DISTINCT left_out FROM results)
SELECT line FROM (
    SELECT 1 AS o, 'on touched ' || count(*) AS line
      FROM results WHERE scope = 'touched' AND step = 3 AND shown LIKE 'after down, %'
    UNION ALL
    SELECT 2, 'kept ' || count(*) FROM applied WHERE how LIKE '%last run of up was kept%'
    UNION ALL
    SELECT 3, format('left out %s: applied (%s) but %s drift, fingerprints equal: %s', left_out, how, drift,
                     same_fingerprint)
      FROM applied WHERE drift <> 0 OR NOT same_fingerprint
    UNION ALL
    SELECT 4, format('left out %s: applied although a check failed', left_out)
      FROM applied a WHERE EXISTS (SELECT FROM results r WHERE r.scope = 'full' AND r.left_out = a.left_out
                                                          AND r.passed IS NOT TRUE)
    UNION ALL
    SELECT 5, format('left out %s: not applied although every check passed', v.left_out)
      FROM variants v WHERE NOT EXISTS (SELECT FROM applied a WHERE a.left_out = v.left_out)
                        AND NOT EXISTS (SELECT FROM results r WHERE r.scope = 'full' AND r.left_out = v.left_out
                                                                AND r.passed IS NOT TRUE)
    UNION ALL
    SELECT 6, format('left out %s: %s step %s %s passed=%s %s', left_out, scope, step, check_name, passed,
                     coalesce(differing, detail))
      FROM ((SELECT left_out, 'only ' || scope AS scope, step, check_name, passed, detail, differing
               FROM results WHERE scope IN ('touched', 'apply_tested')
             EXCEPT SELECT left_out, 'only ' || s.scope, step, check_name, passed, detail, differing
               FROM results, (VALUES ('touched'), ('apply_tested')) s(scope) WHERE results.scope = 'full')
            UNION ALL
            (SELECT left_out, 'only full vs ' || s.scope, step, check_name, passed, detail, differing
               FROM results, (VALUES ('touched'), ('apply_tested')) s(scope) WHERE results.scope = 'full'
             EXCEPT SELECT left_out, 'only full vs ' || scope, step, check_name, passed, detail, differing
               FROM results WHERE scope IN ('touched', 'apply_tested'))) x) lines
 ORDER BY o;
SQL
)
        n=$(grep -oE '^variants [0-9]+' <<<"$out" | awk '{ print $2 }')
        sc_variants=$((sc_variants + ${n:-0}))
        n=$(grep -oE '^on touched [0-9]+' <<<"$out" | awk '{ print $3 }')
        sc_on_touched=$((sc_on_touched + ${n:-0}))
        n=$(grep -oE '^kept [0-9]+' <<<"$out" | awk '{ print $2 }')
        sc_kept=$((sc_kept + ${n:-0}))
        rest=$(grep -E '^left out |ERROR' <<<"$out")  # (not the WARNINGs of publications without wal_level = logical)
        [ -n "$rest" ] && sc_mismatches+=("$sc_pair $(basename "$f"): $rest")
    done
    psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $scdb" >/dev/null 2>&1
done
sc_found=""
[ ${#sc_mismatches[@]} -gt 0 ] && sc_found=$(printf '%s\n' "${sc_mismatches[@]}" | head -c 3000)
check "scope corpus: touched, full and migrate_apply_tested agree on every generated migration and spoiled down, which migrate_apply_tested applies exactly when every check passed, leaving no drift ($sc_pairs pairs, $sc_migrations migrations, $sc_variants tests, $sc_on_touched passes decided on the touched objects, $sc_kept applied by keeping the last run of up)" \
    "$sc_found" ""
# (the generated migrations are correct: most of them must pass without the whole-schema comparison)
check "scope corpus: the touched objects decide most passes" \
    "$([ $((sc_on_touched * 2)) -gt "$sc_migrations" ] && echo yes)" yes
# (most passes keep the test's last run of up as the apply rather than running up a fourth time)
check "scope corpus: migrate_apply_tested keeps the last run of up for most passes" \
    "$([ $((sc_kept * 2)) -gt "$sc_migrations" ] && echo yes)" yes
