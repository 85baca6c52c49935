# ALTER EXTENSION pgmig UPDATE to a release whose library is not installed (only its SQL scripts are:
# a half-installed package), with the audit active, the out-of-band policy at block and a sealed chain:
# the update is refused, fail-closed, with a message that says what to install, and nothing of it stays;
# DROP EXTENSION then works. The update script is a test-only one (written into the server's extension
# folder and removed again) doing what real updates do: a new column on the audit table, a new function,
# a comment. The real update (0.1.0 -> this release) is tests/integration/upgrade_path_test.sh.
# Sourced by run.sh (see lib.sh).

extdir="$("${PG_CONFIG:-pg_config}" --sharedir)/extension"  # the PG_CONFIG the Makefile installs with
current=$(sed -n "s/^default_version = '\(.*\)'/\1/p" "$root/extension/pgmig.control")
next="$current-upgrade-test"
update_script="$extdir/pgmig--$current--$next.sql"
if ! cat >"$update_script" 2>"$work/err" <<'SQL'
-- Test-only update, written and removed by tests/integration/upgrade_test.sh.
ALTER TABLE pgmig.ddl_audit ADD COLUMN upgrade_note text;
CREATE OR REPLACE FUNCTION pgmig.upgrade_probe() RETURNS integer LANGUAGE sql AS 'SELECT 1';
COMMENT ON TABLE pgmig.migrations IS 'the migration ledger (updated)';
SQL
then
    fail "ALTER EXTENSION UPDATE: setup" "cannot write $update_script (run as the user that ran make install): $(cat "$work/err")"
else
    newdb db_up
    sql "$db_up" "SELECT migrate_register('1', 'first', 'CREATE TABLE before_update (id int)');
                  SELECT count(*) FROM migrate_apply(); CREATE TABLE oob_before (id int);
                  SELECT sealed FROM migrate_audit_verify()" >/dev/null
    rows_before=$(sql "$db_up" "SELECT count(*) FROM pgmig.ddl_audit")
    out=$(psql -X -q -v ON_ERROR_STOP=1 -v VERBOSITY=verbose -d "$db_up" -c "SET pgmig.out_of_band = block" \
        -c "ALTER EXTENSION pgmig UPDATE TO '$next'" 2>&1)
    version=$(sql "$db_up" "SELECT extversion FROM pg_extension WHERE extname = 'pgmig'")
    if [ "$version" = "$current" ] && grep -q "ERROR:  [A-Z0-9]*: ALTER EXTENSION refused" <<<"$out" &&
        grep -qF "are version $next, but this session loaded library $current" <<<"$out" &&
        grep -qF "install pgmig $next (its package or make install) first" <<<"$out"; then
        pass "ALTER EXTENSION pgmig UPDATE to a release whose library is not installed is refused and says what to install"
    else
        fail "ALTER EXTENSION UPDATE without its library" "version=$version output=$out"
    fi
    after=$(sql "$db_up" "SELECT count(*) FROM pg_attribute WHERE attrelid = 'pgmig.ddl_audit'::regclass AND attname = 'upgrade_note';
        SELECT count(*) FROM pg_proc WHERE proname = 'upgrade_probe';
        SELECT count(*) = $rows_before FROM pgmig.ddl_audit;
        CREATE TABLE after_update (id int);
        SELECT migrate_register('2', 'second', 'ALTER TABLE after_update ADD COLUMN v text') IS NOT NULL;
        SELECT string_agg(action, ',') FROM migrate_apply();
        SELECT count(*) FILTER (WHERE object_identity = 'public.after_update') || ':'
               || count(*) FILTER (WHERE migration_version = '2') FROM pgmig.ddl_audit;
        SELECT coalesce(first_broken_id::text, 'intact') FROM migrate_audit_verify();
        CREATE TABLE oob_after (id int);
        SELECT count(*) FROM migrate_drift() WHERE identity = 'public.oob_after'")
    if [ "$after" = "$(printf '%s\n' 0 0 t t applied 2:1 intact 1)" ]; then
        pass "after the refused update: nothing of its script stays, no audit row, DDL audited, migrations apply, chain intact, drift works"
    else
        fail "after the refused ALTER EXTENSION UPDATE" "$(tr '\n' ' ' <<<"$after")"
    fi
    out=$(sql "$db_up" "DROP EXTENSION pgmig; CREATE TABLE after_drop (id int); DROP TABLE after_drop;
                        SELECT count(*) FROM pg_event_trigger WHERE evtname LIKE 'pgmig%';
                        SELECT count(*) FROM pg_namespace WHERE nspname = 'pgmig'")
    if [ "$out" = "$(printf '0\n0')" ]; then
        pass "DROP EXTENSION pgmig after a refused update leaves no trigger, no schema, and DDL works"
    else
        fail "DROP EXTENSION after update" "$out"
    fi
    rm -f "$update_script"
fi

# The audit writer checks the release of pgmig's objects once per version of pgmig.ddl_audit, not per
# statement: a session that has written audit rows still refuses (PM066, fail-closed) once another session
# has changed the table as a later release would and recorded that release, without reconnecting.
newdb db_layout
out=$(psql -X -q -v ON_ERROR_STOP=0 -d "$db_layout" 2>&1 <<SQL
CREATE TABLE layout_before (id int);
\! psql -X -q -d "$db_layout" -c "BEGIN" -c "ALTER TABLE pgmig.ddl_audit ADD COLUMN later_release_note text" -c "UPDATE pg_extension SET extversion = '99.0.0' WHERE extname = 'pgmig'" -c "COMMIT"
CREATE TABLE layout_after (id int);
SELECT 'after: ' || count(*) FROM pg_class WHERE relname = 'layout_after';
SQL
)
if grep -qF "pgmig cannot write pgmig.ddl_audit: pgmig's SQL objects in database \"$db_layout\" are version 99.0.0" <<<"$out" &&
    grep -qF "after: 0" <<<"$out"; then
    pass "a session that wrote audit rows refuses DDL once another session changed pgmig.ddl_audit for a later release"
else
    fail "the audit writer's release check after another session changed the table" "$out"
fi
sql "$db_layout" "UPDATE pg_extension SET extversion = '$current' WHERE extname = 'pgmig'" >/dev/null

# The audit writer finds the table's columns by name once per version of the table, not per statement: a
# session that has written audit rows writes the right columns once another session has moved one (dropped
# and added again, as an update could: it gets a new number; the other session's own ALTERs run unaudited,
# pgmig.audit_failure = warn, since its writer no longer finds the column).
newdb db_columns
out=$(psql -X -q -A -t -v ON_ERROR_STOP=0 -d "$db_columns" 2>&1 <<SQL
CREATE TABLE columns_before (id int);
\! psql -X -q -d "$db_columns" -c "BEGIN" -c "SET LOCAL pgmig.audit_failure = warn" -c "ALTER TABLE pgmig.ddl_audit RENAME COLUMN policy TO policy_old" -c "ALTER TABLE pgmig.ddl_audit ALTER COLUMN policy_old DROP NOT NULL" -c "ALTER TABLE pgmig.ddl_audit ADD COLUMN policy text" -c "COMMIT"
CREATE TABLE columns_after (id int);
SELECT 'rows: ' || string_agg(coalesce(policy, 'NULL') || '/' || coalesce(policy_old, 'NULL'), ' ' ORDER BY id)
  FROM pgmig.ddl_audit WHERE object_identity IN ('public.columns_before', 'public.columns_after');
SQL
)
check "a session that wrote audit rows writes the columns where another session moved them" \
    "$(grep '^rows: ' <<<"$out")" "rows: NULL/log log/NULL"
