# migrate_test() compares only the objects a migration touches (pgmig.rollback_test_scope = touched) and
# must give exactly the verdicts, failure details and differing objects of the whole-schema comparison
# (= full): random migrations, many with down scripts made wrong on purpose, each tested both ways, and by
# migrate_apply_tested(), which must also apply exactly the migrations that passed, without drift.
# The same cases run again in a database whose DDL pgmig records with its hooks instead of its end triggers
# (docs/reference.md), where the touched objects come from what the hooks capture.
# Sourced by run.sh (see lib.sh for the helpers). IT_SCOPE_SEED and IT_SCOPE_CASES replay or widen a run.

scope_seed=${IT_SCOPE_SEED:-$((RANDOM * 32768 + RANDOM))}
scope_cases=${IT_SCOPE_CASES:-120}
for scope_way in triggers hooks; do
newdb dbs
scope_role="it_scope_role_${scope_way}_$$"
if [ "$scope_way" = hooks ]; then
    sql "$dbs" "ALTER EVENT TRIGGER pgmig_ddl_end DISABLE; ALTER EVENT TRIGGER pgmig_sql_drop DISABLE;
                ALTER EVENT TRIGGER pgmig_table_rewrite DISABLE;
                ALTER DATABASE $dbs SET session_preload_libraries = 'pgmig'" >/dev/null
fi
python3 "$here/rollback_scope_cases.py" "$scope_seed" "$scope_cases" "$scope_role" >"$work/scope_cases.sql"
if psql -X -q -v ON_ERROR_STOP=1 -d "$dbs" -f "$work/scope_cases.sql" >"$work/scope_out" 2>&1; then
    pass "rollback scope ($scope_way): $scope_cases random cases ran (seed $scope_seed)"
else
    fail "rollback scope ($scope_way): the random cases ran (seed $scope_seed)" "$(tail -5 "$work/scope_out")"
fi
mismatch=$(sql "$dbs" "SELECT string_agg(format('case %s (%s): step %s %s passed=%s %s %s', n, scope, step, check_name,
                                                 passed, detail, differing), E'\n' ORDER BY n, scope, step)
                         FROM scope_mismatch")
check "rollback scope ($scope_way): touched, full and migrate_apply_tested agree on every case, which migrate_apply_tested applies exactly when every check passed, leaving no drift (seed $scope_seed, cases in $work/scope_cases.sql)" \
    "$mismatch" ""
# Both ways of deciding must have been exercised: passes decided on the touched objects, failures (which
# the full comparison words), and passes that fell back to the full comparison (a GRANT on a function).
# migrate_apply_tested must have kept the test's last run of up as the apply, and applied by running up once
# more (the passes decided on the whole schema).
decided=$(sql "$dbs" "SELECT count(*) FILTER (WHERE touched_passed AND touched_detail LIKE 'after down, %')
                          || '/' || count(*) FILTER (WHERE touched_passed IS FALSE)
                          || '/' || count(*) FILTER (WHERE touched_passed AND touched_detail LIKE 'fingerprint%')
                          || '/' || count(*) FILTER (WHERE applied LIKE '%last run of up was kept%')
                          || '/' || count(*) FILTER (WHERE applied LIKE '%up ran once more%')
                     FROM scope_decided")
IFS=/ read -r on_touched failed_cases on_full kept ran_again <<<"$decided"
check "rollback scope ($scope_way): passes decided on the touched objects, failures, passes decided on the whole schema, applications that kept the last up and that ran up again ($decided)" \
    "$([ "${on_touched:-0}" -gt 0 ] && [ "${failed_cases:-0}" -gt 0 ] && [ "${on_full:-0}" -gt 0 ] \
        && [ "${kept:-0}" -gt 0 ] && [ "${ran_again:-0}" -gt 0 ] && echo yes)" yes
sql "$dbs" "DROP OWNED BY $scope_role" >/dev/null
dropdb "$dbs" >/dev/null 2>&1
psql -X -q -d postgres -c "DROP ROLE IF EXISTS $scope_role" >/dev/null 2>&1
done
