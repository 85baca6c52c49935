# The snapshot after an apply or rollback is derived from the one before and the objects the change
# touched (pgmig.snapshot_scope = touched) and must record exactly the expected schema that describing
# everything records (= full): the same random sequence of migrations, rollbacks, out-of-band DDL and
# role renames runs in two databases, one each way; after every step the drift reports must be equal,
# and after every snapshot the expected schema must be the whole live schema. A third database derives its
# snapshots from the objects pgmig's hooks capture (its end triggers off, docs/reference.md) instead of
# those its triggers report, and must say the same.
# Sourced by run.sh (see lib.sh for the helpers). IT_SNAP_SEED and IT_SNAP_STEPS replay or widen a run.

snap_seed=${IT_SNAP_SEED:-$((RANDOM * 32768 + RANDOM))}
snap_steps=${IT_SNAP_STEPS:-300}
snap_role="it_snap_role_$$"
declare -A snap_db
snap_ways=(touched full hooks)
for scope in "${snap_ways[@]}"; do
    newdb "snap_$scope" noext
    snap_db[$scope]=$(eval echo "\$snap_$scope")
    # (in a schema of its own: one of the random statements renames public)
    sql "${snap_db[$scope]}" "CREATE SCHEMA ledger; CREATE EXTENSION pgmig SCHEMA ledger;
                              ALTER DATABASE ${snap_db[$scope]} SET pgmig.snapshot_scope = ${scope/hooks/touched};
                              ALTER DATABASE ${snap_db[$scope]} SET search_path = public, pub, ledger" \
        >/dev/null
done
sql "${snap_db[hooks]}" "ALTER EVENT TRIGGER pgmig_ddl_end DISABLE; ALTER EVENT TRIGGER pgmig_sql_drop DISABLE;
                         ALTER EVENT TRIGGER pgmig_table_rewrite DISABLE;
                         ALTER DATABASE ${snap_db[hooks]} SET session_preload_libraries = 'pgmig'" >/dev/null
for scope in "${snap_ways[@]}"; do
    # Roles are shared: each database gets its own (the script creates them).
    python3 "$here/snapshot_derived_cases.py" "$snap_seed" "$snap_steps" "${snap_role}_$scope" "${snap_db[$scope]}" \
        >"$work/snap_$scope.sql"
    if psql -X -q -v ON_ERROR_STOP=1 -d "${snap_db[$scope]}" -f "$work/snap_$scope.sql" >"$work/snap_$scope.out" 2>&1; then
        pass "derived snapshots: $snap_steps random steps ran with pgmig.snapshot_scope = $scope (seed $snap_seed)"
    else
        fail "derived snapshots: the random steps ran with $scope (seed $snap_seed)" "$(tail -5 "$work/snap_$scope.out")"
    fi
done
# What each database says after each step, with its own role's name taken out.
steps_of() {
    sql "${snap_db[$1]}" "SELECT string_agg(format('%s %s ok=%s drift=%s', step, what, ok, drift), E'\n' ORDER BY step)
                            FROM steps.snap_steps" | sed "s/${snap_role}_$1/ROLE/g"
}
diff <(steps_of touched) <(steps_of full) >"$work/snap_diff" 2>&1
check "derived snapshots: every step succeeds or fails alike and reports the same drift either way (seed $snap_seed; diff in $work/snap_diff)" \
    "$(head -c 2000 "$work/snap_diff")" ""
diff <(steps_of hooks) <(steps_of full) >"$work/snap_diff_hooks" 2>&1
check "derived snapshots: the same with the objects pgmig's hooks capture (seed $snap_seed; diff in $work/snap_diff_hooks)" \
    "$(head -c 2000 "$work/snap_diff_hooks")" ""
for scope in "${snap_ways[@]}"; do
    check "derived snapshots ($scope): after every snapshot the expected schema is the whole live schema (seed $snap_seed)" \
        "$(sql "${snap_db[$scope]}" "SELECT string_agg(step || ' ' || what, '; ' ORDER BY step) FROM steps.snap_steps WHERE NOT same")" ""
done
# Each way of taking a snapshot must have been exercised: derived ones, and whole ones for each reason.
kinds=$(sql "${snap_db[touched]}" "SELECT count(*) FILTER (WHERE derived) || '/'
                                          || count(*) FILTER (WHERE full_because LIKE 'DDL ran outside%') || '/'
                                          || count(*) FILTER (WHERE full_because LIKE 'roles were%') || '/'
                                          || count(*) FILTER (WHERE NOT derived AND full_because NOT LIKE 'DDL ran outside%'
                                                                AND full_because NOT LIKE 'roles were%'
                                                                AND full_because NOT LIKE '%CREATE EXTENSION%')
                                     FROM pgmig.snapshots")
IFS=/ read -r derived after_oob after_roles other_full <<<"$kinds"
check "derived snapshots: derived ones, whole ones after out-of-band DDL and after role renames, and after undecidable DDL ($kinds)" \
    "$([ "${derived:-0}" -gt 0 ] && [ "${after_oob:-0}" -gt 0 ] && [ "${after_roles:-0}" -gt 0 ] && [ "${other_full:-0}" -gt 0 ] && echo yes)" yes
check "derived snapshots (full): every snapshot described the whole schema" \
    "$(sql "${snap_db[full]}" "SELECT count(*) FROM pgmig.snapshots WHERE derived")" "0"
check "derived snapshots (hooks): as many derived as with the triggers" \
    "$(sql "${snap_db[hooks]}" "SELECT count(*) FILTER (WHERE derived) FROM pgmig.snapshots")" "$derived"
for scope in "${snap_ways[@]}"; do
    dropdb "${snap_db[$scope]}" >/dev/null 2>&1
    psql -X -q -d postgres -c "DROP ROLE IF EXISTS ${snap_role}_$scope, ${snap_role}_${scope}_x, ${snap_role}_${scope}_y" \
        >/dev/null 2>&1
done
