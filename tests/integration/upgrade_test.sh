# ALTER EXTENSION pgmig UPDATE and DROP EXTENSION pgmig with the audit active, the out-of-band
# policy at block and a sealed chain. The update script is a test-only one (written into the
# server's extension folder and removed again) doing what real updates do: a new column on the
# audit table, a replaced function, a comment. Sourced by run.sh (see lib.sh).

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
    out=$(psql -X -q -v ON_ERROR_STOP=1 -d "$db_up" -c "SET pgmig.out_of_band = block" \
        -c "ALTER EXTENSION pgmig UPDATE TO '$next'" 2>&1)
    version=$(sql "$db_up" "SELECT extversion FROM pg_extension WHERE extname = 'pgmig'")
    # An admin's out-of-band DDL under block is let through with one WARNING; the statements of the
    # update script itself are part of ALTER EXTENSION and raise nothing.
    if [ "$version" = "$next" ] && ! grep -q ERROR <<<"$out" && [ "$(grep -c WARNING <<<"$out")" = 1 ] &&
        grep -q "WARNING:  ALTER EXTENSION outside a migration" <<<"$out"; then
        pass "ALTER EXTENSION pgmig UPDATE succeeds with the policy at block; its script's statements raise nothing"
    else
        fail "ALTER EXTENSION UPDATE" "version=$version output=$out"
    fi
    recorded=$(sql "$db_up" "SELECT string_agg(command_tag || ':' || coalesce(object_identity, ''), ',' ORDER BY id)
                             FROM pgmig.ddl_audit WHERE id > (SELECT max(id) FROM pgmig.ddl_audit) - 10
                               AND at > now() - interval '1 minute' AND command_tag <> 'CREATE TABLE'")
    if [ "$recorded" = "ALTER EXTENSION:pgmig" ] &&
        [ "$(sql "$db_up" "SELECT count(*) FROM pgmig.ddl_audit")" = $((rows_before + 1)) ]; then
        pass "the update is one audit row (ALTER EXTENSION); its script's statements are part of it"
    else
        fail "ALTER EXTENSION UPDATE: audit" "rows after the out-of-band table: $recorded"
    fi
    after=$(sql "$db_up" "CREATE TABLE after_update (id int);
        SELECT migrate_register('2', 'second', 'ALTER TABLE after_update ADD COLUMN v text') IS NOT NULL;
        SELECT string_agg(action, ',') FROM migrate_apply();
        SELECT count(*) FILTER (WHERE object_identity = 'public.after_update' AND upgrade_note IS NULL)
               || ':' || count(*) FILTER (WHERE migration_version = '2') FROM pgmig.ddl_audit;
        SELECT coalesce(first_broken_id::text, 'intact') FROM migrate_audit_verify();
        CREATE TABLE oob_after (id int);
        SELECT count(*) FROM migrate_drift() WHERE identity = 'public.oob_after'")
    if [ "$after" = "$(printf '%s\n' t applied 2:1 intact 1)" ]; then
        pass "after the update: DDL audited (new column NULL), migrations apply, chain intact, drift sees the out-of-band table"
    else
        fail "after ALTER EXTENSION UPDATE" "$(tr '\n' ' ' <<<"$after")"
    fi
    out=$(sql "$db_up" "DROP EXTENSION pgmig; CREATE TABLE after_drop (id int); DROP TABLE after_drop;
                        SELECT count(*) FROM pg_event_trigger WHERE evtname LIKE 'pgmig%';
                        SELECT count(*) FROM pg_namespace WHERE nspname = 'pgmig'")
    if [ "$out" = "$(printf '0\n0')" ]; then
        pass "DROP EXTENSION pgmig after an update leaves no trigger, no schema, and DDL works"
    else
        fail "DROP EXTENSION after update" "$out"
    fi
    rm -f "$update_script"
fi
