# The update from release 0.1.0 to this one as a DBA meets it: the 0.1.0 release (its library and SQL,
# built from its commit by scripts/build-release) with a ledger, history, approvals, snapshots and a
# sealed audit chain; this release's library installed over it while a session keeps 0.1.0's loaded;
# the window before ALTER EXTENSION pgmig UPDATE; the update; every row, the chain and every function
# afterwards; a pg_dump of the 0.1.0 database restored into this release; and a fresh install of
# this release compared with the updated one, object by object. Releases before 0.2.0 ran on
# PostgreSQL 15 only, and so does this test (scripts/test-all runs it there). Sourced by run.sh.

up_pg_config=${PG_CONFIG:-pg_config}
up_libdir=$("$up_pg_config" --pkglibdir)
up_extdir="$("$up_pg_config" --sharedir)/extension"
up_current=$(sed -n "s/^default_version = '\(.*\)'/\1/p" "$root/extension/pgmig.control")

# The extension's own objects, one line each with their definition, to compare two installs.
up_objects_sql="
SELECT string_agg(line, E'\n' ORDER BY line) FROM (
  SELECT pg_describe_object(d.classid, d.objid, 0) || ': ' || coalesce(CASE d.classid
           WHEN 'pg_proc'::regclass THEN (SELECT CASE WHEN p.prokind = 'a' THEN 'aggregate'
                                                      ELSE pg_get_functiondef(p.oid) END
                                                 || ' acl=' || coalesce(p.proacl::text, '')
                                            FROM pg_proc p WHERE p.oid = d.objid)
           WHEN 'pg_class'::regclass THEN (SELECT c.relkind::text || ' acl=' || coalesce(c.relacl::text, '')
                  || ' cols=' || coalesce((SELECT string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
                                           || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END
                                           || coalesce(' default ' || pg_get_expr(ad.adbin, ad.adrelid), '')
                                           || coalesce(' identity ' || nullif(a.attidentity::text, ''), '')
                                           || coalesce(' comment ' || col_description(c.oid, a.attnum), ''), ', ' ORDER BY a.attnum)
                                     FROM pg_attribute a LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
                                    WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped), '')
                  || ' cons=' || coalesce((SELECT string_agg(co.conname || ' ' || pg_get_constraintdef(co.oid), ', ' ORDER BY co.conname)
                                     FROM pg_constraint co WHERE co.conrelid = c.oid), '')
                  || ' idx=' || coalesce((SELECT string_agg(pg_get_indexdef(i.indexrelid), ', ' ORDER BY 1)
                                     FROM pg_index i WHERE i.indrelid = c.oid), '')
                  || ' trg=' || coalesce((SELECT string_agg(pg_get_triggerdef(t.oid), ', ' ORDER BY t.tgname)
                                     FROM pg_trigger t WHERE t.tgrelid = c.oid AND NOT t.tgisinternal), '')
                  || ' pol=' || coalesce((SELECT string_agg(pol.polname || ' ' || pol.polcmd::text || ' '
                                           || coalesce(pg_get_expr(pol.polqual, pol.polrelid), ''), ', ' ORDER BY pol.polname)
                                     FROM pg_policy pol WHERE pol.polrelid = c.oid), '')
                                            FROM pg_class c WHERE c.oid = d.objid)
           WHEN 'pg_event_trigger'::regclass THEN (SELECT e.evtevent || ' ' || e.evtenabled::text || ' ' || e.evtfoid::regproc::text
                                                     || ' ' || coalesce(e.evttags::text, '')
                                                     FROM pg_event_trigger e WHERE e.oid = d.objid)
           ELSE '' END, '')
         || ' comment=' || coalesce(obj_description(d.objid, d.classid::regclass::name), '') AS line
    FROM pg_depend d
   WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
     AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'pgmig')
) o"
# What every row of pgmig's tables holds (ids up to those of the 0.1.0 phase), to see that none changed:
# the columns of 0.1.0 (the update adds snapshots.server_major and history.deploy_run, NULL in those rows).
up_rows_sql() {
    echo "SELECT 'migrations ' || md5(string_agg(m::text, '|' ORDER BY version_key)) FROM pgmig.migrations m
          UNION ALL SELECT 'history ' || md5(string_agg((h.id, h.version, h.name, h.action, h.at, h.duration, h.attempt,
                          h.session_user_name, h.current_user_name, h.application_name, h.client_addr, h.backend_pid,
                          h.checksum, h.previous_checksum, h.sqlstate, h.message, h.reason)::text, '|' ORDER BY id))
                      FROM pgmig.history h WHERE id <= $1
          UNION ALL SELECT 'approvals ' || md5(string_agg(a::text, '|' ORDER BY a::text)) FROM pgmig.approvals a
          UNION ALL SELECT 'snapshots ' || md5(string_agg((s.id, s.taken_at, s.reason, s.fingerprint, s.snapshot)::text, '|' ORDER BY id))
                      FROM pgmig.snapshots s WHERE id <= $2
          UNION ALL SELECT 'audit ' || md5(string_agg(au::text, '|' ORDER BY id)) FROM pgmig.ddl_audit au WHERE id <= $3"
}
# put_library FILE: installs FILE as the server's pgmig.so the way a package does (a new file renamed
# over the old one: backends that mapped the old one keep it).
put_library() { cp "$1" "$up_libdir/.pgmig.so.new" && mv -f "$up_libdir/.pgmig.so.new" "$up_libdir/pgmig.so"; }

up_release=""
if [ "$("$up_pg_config" --version | sed 's/^PostgreSQL \([0-9]*\).*/\1/')" != 15 ]; then
    echo "# upgrade_path_test.sh: release 0.1.0 ran on PostgreSQL 15 only; not run on $("$up_pg_config" --version)"
elif ! up_release=$(PG_CONFIG=$up_pg_config "$root/scripts/build-release" 0.1.0 2>"$work/build-release.err"); then
    fail "upgrade path: building release 0.1.0" "$(tail -n 5 "$work/build-release.err")"
    up_release=""
elif ! cmp -s "$up_release/extension/pgmig--0.1.0.sql" "$up_extdir/pgmig--0.1.0.sql"; then
    fail "upgrade path: the shipped pgmig--0.1.0.sql" "differs from release 0.1.0's own (it must stay as released)"
    up_release=""
elif ! cp "$up_libdir/pgmig.so" "$work/pgmig-current.so" 2>"$work/err"; then
    fail "upgrade path: setup" "cannot copy $up_libdir/pgmig.so: $(cat "$work/err")"
    up_release=""
fi

if [ -n "$up_release" ]; then
    pass "upgrade path: the shipped pgmig--0.1.0.sql is release 0.1.0's, byte for byte"
    up_approver="pgmig_it_up_approver_$$"
    psql -X -q -d postgres -c "CREATE ROLE $up_approver LOGIN IN ROLE pgmig_approver" >/dev/null 2>&1
    # --- release 0.1.0: its library, its SQL, a ledger with everything in it ---------------------
    put_library "$up_release/pgmig.so" 2>"$work/err" ||
        fail "upgrade path: installing 0.1.0's library" "cannot write $up_libdir (run as the user that ran make install): $(cat "$work/err")"
    newdb db_rel noext
    fill=$(sql "$db_rel" "CREATE EXTENSION pgmig VERSION '0.1.0';
        SELECT migrate_register('1', 'customers', 'CREATE TABLE customers (id bigint PRIMARY KEY, email text)',
                                'DROP TABLE customers') IS NOT NULL;
        SELECT migrate_register('2', 'orders', 'CREATE TABLE orders (id bigint PRIMARY KEY)', 'DROP TABLE orders') IS NOT NULL;
        SELECT string_agg(action, ',') FROM migrate_apply();
        SELECT string_agg(action, ',') FROM migrate_rollback();
        SELECT string_agg(action, ',') FROM migrate_apply();
        SELECT migrate_register('3', 'orders_customer', 'ALTER TABLE orders ADD COLUMN customer_id bigint',
                                'ALTER TABLE orders DROP COLUMN customer_id') IS NOT NULL;
        CREATE TABLE out_of_band (id int);
        SELECT sealed FROM migrate_audit_verify();
        SELECT extversion FROM pg_extension WHERE extname = 'pgmig'" 2>&1)
    approve=$(psql -X -A -t -q -v ON_ERROR_STOP=1 -U "$up_approver" -d "$db_rel" \
        -c "SELECT count(*) FROM migrate_approve('3', 'production')" 2>&1)
    marks=$(sql "$db_rel" "SELECT (SELECT max(id) FROM pgmig.history) || ' ' || (SELECT max(id) FROM pgmig.snapshots)
                                  || ' ' || (SELECT max(id) FROM pgmig.ddl_audit)")
    read -r up_h up_s up_a <<<"$marks"
    rows_before=$(sql "$db_rel" "$(up_rows_sql "$up_h" "$up_s" "$up_a")")
    counts_before=$(sql "$db_rel" "SELECT (SELECT count(*) FROM pgmig.migrations) || ' ' || (SELECT count(*) FROM pgmig.history)
                                          || ' ' || (SELECT count(*) FROM pgmig.approvals) || ' ' || (SELECT count(*) FROM pgmig.snapshots)")
    pg_dump -Fc -d "$db_rel" -f "$work/release-0.1.0.dump" 2>"$work/dump.err"
    if [ "$(tail -n 1 <<<"$fill")" = "0.1.0" ] && grep -q "^applied,applied$" <<<"$fill" && [ "$approve" = 1 ] &&
        [ "$counts_before" = "3 4 1 4" ] && [ -s "$work/release-0.1.0.dump" ]; then
        pass "upgrade path: release 0.1.0 holds a ledger, a history with a rollback, an approval, snapshots and a sealed chain"
    else
        fail "upgrade path: release 0.1.0 setup" "fill: $(tr '\n' ' ' <<<"$fill") approve: $approve counts: $counts_before"
    fi
    # A session that loaded 0.1.0's library (it ran DDL) and stays connected across the upgrade.
    coproc UP_OLD { stdbuf -oL psql -X -A -t -q -d "$db_rel" 2>&1; }
    old_say() {  # old_say SQL: runs SQL in the long-lived session, prints its output
        local line out=""
        printf '%s\nSELECT %s;\n' "$1" "'--end--'" >&"${UP_OLD[1]}"
        while IFS= read -r -t 60 line <&"${UP_OLD[0]}"; do
            [ "$line" = "--end--" ] && break
            out+="$line"$'\n'
        done
        printf '%s' "$out"
    }
    old_say "CREATE TABLE held_by_old_library (id int);" >/dev/null

    # --- this release's library installed over it (the package upgrade) ---------------------------
    if ! put_library "$work/pgmig-current.so" 2>"$work/err"; then
        fail "upgrade path: reinstalling this release's library" "$(cat "$work/err"); run make install"
    fi
    window=$(psql -X -A -t -q -v VERBOSITY=verbose -d "$db_rel" -c "SELECT * FROM migrate_status()" 2>&1)
    ddl_window=$(sql "$db_rel" "CREATE TABLE during_window (id int);
        SELECT count(*) FROM pgmig.ddl_audit WHERE object_identity = 'public.during_window' AND event = 'ddl_command_end'")
    if grep -q "PM066" <<<"$window" && grep -q "are version 0.1.0, but the installed library is $up_current" <<<"$window" &&
        grep -q "HINT:  Run ALTER EXTENSION pgmig UPDATE" <<<"$window"; then
        pass "upgrade path: before ALTER EXTENSION UPDATE, migrate_status() refuses with PM066 and says what to run"
    else
        fail "upgrade path: the window before the update" "$window"
    fi
    check "upgrade path: DDL in the window runs and is audited by the new library" "$ddl_window" "1"
    # The session that kept 0.1.0's library fails a migration in the window: its failure recorder is a worker,
    # which loads the new library, and it must still write the failed row into 0.1.0's history (no deploy_run).
    old_say "BEGIN;
        SELECT migrate_register('4', 'broken', 'ALTER TABLE orders ADD COLUMN x no_such_type') IS NOT NULL;
        SELECT * FROM migrate_apply();
        ROLLBACK;" >/dev/null
    window_failed=""
    for _ in $(seq 1 100); do
        window_failed=$(sql "$db_rel" "SELECT count(*) FROM pgmig.history WHERE action = 'failed' AND version = '4'")
        [ "$window_failed" = 1 ] && break
        sleep 0.1
    done
    check "upgrade path: in the window, the new library's worker records a failed attempt of a session on 0.1.0's library" \
        "$window_failed" "1"

    # --- ALTER EXTENSION pgmig UPDATE ----------------------------------------------------------------
    # With the out-of-band policy at block: an admin's out-of-band DDL is let through with one WARNING, and
    # the statements of the update script are part of ALTER EXTENSION: they raise nothing and write no row.
    audit_before=$(sql "$db_rel" "SELECT max(id) FROM pgmig.ddl_audit")
    update_out=$(psql -X -q -v ON_ERROR_STOP=1 -d "$db_rel" -c "SET pgmig.out_of_band = block" \
        -c "ALTER EXTENSION pgmig UPDATE" 2>&1)
    update=$(sql "$db_rel" "SELECT extversion FROM pg_extension WHERE extname = 'pgmig'")
    check "upgrade path: ALTER EXTENSION pgmig UPDATE brings 0.1.0 to $up_current" "$update" "$up_current"
    if ! grep -q ERROR <<<"$update_out" && [ "$(grep -c WARNING <<<"$update_out")" = 1 ] &&
        grep -q "WARNING:  ALTER EXTENSION outside a migration" <<<"$update_out"; then
        pass "upgrade path: the update runs with the policy at block; its script's statements raise nothing"
    else
        fail "upgrade path: ALTER EXTENSION UPDATE under block" "$update_out"
    fi
    check "upgrade path: the update is one audit row (ALTER EXTENSION pgmig); its script's statements are part of it" \
        "$(sql "$db_rel" "SELECT string_agg(command_tag || ':' || coalesce(object_identity, ''), ',' ORDER BY id)
                          FROM pgmig.ddl_audit WHERE id > $audit_before")" "ALTER EXTENSION:pgmig"
    rows_after=$(sql "$db_rel" "$(up_rows_sql "$up_h" "$up_s" "$up_a")")
    check "upgrade path: every row of the ledger, history, approvals, snapshots and audit is as 0.1.0 left it" \
        "$rows_after" "$rows_before"
    check "upgrade path: 0.1.0's snapshots say no major version (taken on 15)" \
        "$(sql "$db_rel" "SELECT count(*) FILTER (WHERE server_major IS NULL) || '/' || count(*) FROM pgmig.snapshots")" "4/4"
    check "upgrade path: 0.1.0's history rows name no fleet deploy run" \
        "$(sql "$db_rel" "SELECT count(*) FILTER (WHERE deploy_run IS NULL) || '/' || count(*) FROM pgmig.history WHERE id <= $up_h")" "4/4"
    chain=$(sql "$db_rel" "SELECT coalesce(first_broken_id::text, 'intact') FROM migrate_audit_verify()")
    check "upgrade path: the audit chain verifies across the update" "$chain" "intact"

    # Every function of the SQL API works on the updated objects.
    api=$(sql "$db_rel" "SET pgmig.environment = 'production';
        SELECT count(*) > 0 FROM migrate_status();
        SELECT count(*) >= 0 FROM migrate_verify();
        SELECT count(*) > 0 FROM migrate_drift();
        SELECT migrate_fingerprint() = encode(sha256(convert_to(migrate_snapshot()::text, 'UTF8')), 'hex');
        SELECT count(*) > 0 FROM migrate_fingerprint_objects();
        SELECT count(*) >= 0 FROM migrate_check_integrity();
        SELECT count(*) > 0 FROM migrate_lint('ALTER TABLE orders ADD COLUMN c int NOT NULL');
        SELECT count(*) > 0 FROM migrate_plan();
        SELECT bool_and(passed IS NOT FALSE) FROM migrate_test('3');
        SELECT count(*) >= 0 FROM migrate_approval_check('production');
        SELECT count(*) >= 0 FROM migrate_adopt_sources();
        SELECT string_agg(action, ',') FROM migrate_apply();
        SELECT string_agg(action, ',') FROM migrate_rollback();
        SELECT string_agg(action, ',') FROM migrate_apply();
        SELECT server_major = current_setting('server_version_num')::int / 10000 FROM pgmig.snapshots ORDER BY id DESC LIMIT 1;
        SELECT coalesce(first_broken_id::text, 'intact') FROM migrate_audit_verify();" 2>&1)
    check "upgrade path: every function works after the update (status, verify, drift, fingerprints, integrity, lint, plan, test, approvals, apply, rollback)" \
        "$(tr '\n' ' ' <<<"$api")" "t t t t t t t t t t t applied rolled_back applied t intact "
    major=$(psql -X -A -t -q -d "$db_rel" -c "SELECT migrate_record_major_upgrade()" 2>&1)
    if grep -q "PM007\|already" <<<"$major"; then
        pass "upgrade path: migrate_record_major_upgrade() refuses on the major version the schema was recorded on"
    else
        fail "upgrade path: migrate_record_major_upgrade() on the same major version" "$major"
    fi

    # The session that still has 0.1.0's library: its DDL is audited correctly into 0.2.0's table.
    old=$(old_say "CREATE TABLE still_old_library (id int);
        SELECT count(*) || ' ' || bool_and(current_user_name = current_user AND statement LIKE 'CREATE TABLE still_old_library%')
          FROM pgmig.ddl_audit WHERE object_identity = 'public.still_old_library';
        SELECT coalesce(first_broken_id::text, 'intact') FROM migrate_audit_verify();")
    check "upgrade path: a session that kept 0.1.0's library audits its DDL into the updated table, chain intact" \
        "$(tr '\n' ' ' <<<"$old")" "1 true intact "
    printf '\\q\n' >&"${UP_OLD[1]}" 2>/dev/null
    wait "$UP_OLD_PID" 2>/dev/null

    # --- a fresh install of this release has the same objects as the updated one ---------------------
    newdb db_fresh
    fresh_objects=$(sql "$db_fresh" "$up_objects_sql")
    updated_objects=$(sql "$db_rel" "$up_objects_sql")
    members=$(sql "$db_fresh" "SELECT count(*) FROM pg_depend WHERE refclassid = 'pg_extension'::regclass AND deptype = 'e'
                                  AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'pgmig')")
    if [ "$members" -gt 50 ] && grep -q '^function migrate_apply(.*CREATE OR REPLACE FUNCTION' <<<"$fresh_objects" &&
        grep -q '^table pgmig.snapshots: r acl=.* server_major integer' <<<"$fresh_objects" &&
        [ "$fresh_objects" = "$updated_objects" ]; then
        pass "upgrade path: 0.1.0 + update and a fresh $up_current install have the same $members objects, definitions, privileges and comments"
    else
        diff <(echo "$fresh_objects") <(echo "$updated_objects") >"$work/objects.diff"
        fail "upgrade path: fresh install vs updated" "$(head -c 1500 "$work/objects.diff")"
    fi

    # --- pg_dump of the 0.1.0 database restores into this release ------------------------------------
    newdb db_restored noext
    restore=$(pg_restore -d "$db_restored" "$work/release-0.1.0.dump" 2>&1)
    restored=$(sql "$db_restored" "SELECT extversion FROM pg_extension WHERE extname = 'pgmig';
        SELECT (SELECT count(*) FROM pgmig.migrations) || ' ' || (SELECT count(*) FROM pgmig.history) || ' '
               || (SELECT count(*) FILTER (WHERE reason <> 'CREATE EXTENSION') FROM pgmig.snapshots);
        SELECT string_agg(version || ':' || state, ',' ORDER BY version) FROM migrate_status();
        SELECT count(*) FROM migrate_drift() WHERE change <> 'major version' AND identity <> 'public.out_of_band'" 2>&1)
    if [ "$restored" = "$(printf '%s\n' "$up_current" "3 4 3" "1:applied,2:applied,3:pending" 0)" ]; then
        pass "upgrade path: pg_dump of the 0.1.0 database restores into $up_current: ledger, history and snapshots load, no drift"
    else
        fail "upgrade path: pg_restore of 0.1.0's dump" "$(tr '\n' ' ' <<<"$restored") restore: $(head -c 600 <<<"$restore")"
    fi
    psql -X -q -d postgres -c "DROP ROLE IF EXISTS $up_approver" >/dev/null 2>&1
fi
