# What records DDL, pgmig's event triggers or its hooks (audit_recorder.cpp), and the switch between them:
# migrate_audit_recorder() says which and how pgmig is preloaded; migrate_audit_recorder('hooks'|'triggers')
# switches, superusers only, the hooks only where every session preloads pgmig; pgmig health reports it; and
# CREATE EXTENSION on a server that preloads pgmig chooses the hooks, while an update keeps the triggers.
# Sourced by run.sh (see lib.sh).

rec_state() { sql "$1" "SELECT recorder || '|' || coalesce(preloaded, '-') FROM migrate_audit_recorder()"; }
# rec_health CONNINFO: the audit_recorder check of pgmig health, "status: detail" (the other checks may fail:
# these databases have DDL run out of band).
rec_health() {
    run health --json -d "$1"
    jq -r '.checks[] | select(.name == "audit_recorder") | .status + ": " + .detail' <<<"$out"
}
rec_enabled() { sql "$1" "SELECT string_agg(evtname || '=' || evtenabled::text, ',' ORDER BY evtname) FROM pg_event_trigger"; }

newdb rec_db
check "recorder: a fresh database on a server without the preload records with the triggers" \
    "$(rec_state "$rec_db")" "triggers|-"

# The hooks where a session may load pgmig only at its first DDL: refused, nothing switched.
rec_out=$(psql -X -A -t -q -v VERBOSITY=verbose -d "$rec_db" -c "SELECT * FROM migrate_audit_recorder('hooks')" 2>&1)
check "recorder: the hooks are refused where pgmig is not preloaded (PM069)" \
    "$(grep -c "PM069: pgmig's hooks cannot record DDL here" <<<"$rec_out")" 1
check "recorder: and the triggers stay on" "$(rec_state "$rec_db")" "triggers|-"
rec_out=$(psql -X -A -t -q -v VERBOSITY=verbose -d "$rec_db" -c "SELECT * FROM migrate_audit_recorder('bogus')" 2>&1)
check "recorder: an unknown recorder is refused (PM007)" "$(grep -c 'PM007: unknown recorder "bogus"' <<<"$rec_out")" 1

# Who may switch: not a reader, not a role that was granted EXECUTE, not the database's owner.
rec_role="pgmig_it_rec_$$"
sql "$rec_db" "CREATE ROLE $rec_role LOGIN; GRANT pgmig_reader TO $rec_role" >/dev/null
check "recorder: a reader may ask what records" \
    "$(psql -X -A -t -q -U "$rec_role" -d "$rec_db" -c "SELECT recorder FROM migrate_audit_recorder()" 2>&1)" triggers
rec_out=$(psql -X -A -t -q -U "$rec_role" -d "$rec_db" -c "SELECT * FROM migrate_audit_recorder('triggers')" 2>&1)
check "recorder: but not switch (no EXECUTE)" "$(grep -c 'permission denied for function migrate_audit_recorder' <<<"$rec_out")" 1
sql "$rec_db" "GRANT EXECUTE ON FUNCTION migrate_audit_recorder(text) TO $rec_role;
               ALTER DATABASE $rec_db SET session_preload_libraries = 'pgmig'" >/dev/null
rec_out=$(psql -X -A -t -q -v VERBOSITY=verbose -U "$rec_role" -d "$rec_db" \
    -c "SELECT * FROM migrate_audit_recorder('hooks')" 2>&1)
check "recorder: nor with EXECUTE granted: superusers only (PM068)" \
    "$(grep -c 'PM068: only a superuser may choose what records DDL' <<<"$rec_out")" 1
check "recorder: and nothing switched" "$(rec_state "$rec_db")" "triggers|session_preload_libraries (database)"

# With the database's sessions preloading pgmig: the hooks, and the switch itself is recorded.
rec_first=$(sql "$rec_db" "SELECT coalesce(max(id), 0) + 1 FROM pgmig.ddl_audit")
check "recorder: the hooks where the database preloads pgmig" \
    "$(sql "$rec_db" "SELECT recorder || '|' || preloaded FROM migrate_audit_recorder('hooks')")" \
    "hooks|session_preload_libraries (database)"
check "recorder: the three end triggers are off, the start trigger on" "$(rec_enabled "$rec_db")" \
    "pgmig_ddl_end=D,pgmig_ddl_start=A,pgmig_sql_drop=D,pgmig_table_rewrite=D"
sql "$rec_db" "CREATE TABLE rec_hooked (id int)" >/dev/null
check "recorder: the switch and the next DDL are recorded, the DDL by the hooks with its identity" \
    "$(sql "$rec_db" "SELECT string_agg(event || ' ' || command_tag || ' ' || object_identity, ', ' ORDER BY id)
                      FROM pgmig.ddl_audit WHERE id >= $rec_first")" \
    "utility ALTER EVENT TRIGGER pgmig_ddl_end, utility ALTER EVENT TRIGGER pgmig_sql_drop, utility ALTER EVENT TRIGGER pgmig_table_rewrite, ddl_command_end CREATE TABLE public.rec_hooked"
check "recorder: switching again changes nothing and records nothing" \
    "$(sql "$rec_db" "SELECT recorder FROM migrate_audit_recorder('hooks');
                      SELECT count(*) FROM pgmig.ddl_audit WHERE id >= $rec_first")" "hooks
4"
check "recorder: health says the hooks record, preloaded" "$(rec_health "dbname=$rec_db")" \
    "ok: hooks: pgmig's hooks record DDL; every session preloads pgmig (session_preload_libraries (database))"

# The preload gone: health warns, each session's first DDL is refused (PM067), the later ones recorded.
sql "$rec_db" "ALTER DATABASE $rec_db RESET session_preload_libraries" >/dev/null
check "recorder: health warns when the hooks record without the preload" "$(rec_health "dbname=$rec_db")" \
    "warn: hooks: pgmig's hooks record DDL, but pgmig is not preloaded for every session: each session's first DDL statement is refused (PM067); preload pgmig, or SELECT migrate_audit_recorder('triggers')"
rec_out=$(psql -X -A -t -q -v VERBOSITY=verbose -d "$rec_db" -c "CREATE TABLE rec_first (id int)" 2>&1)
check "recorder: a session's first DDL is refused" "$(grep -c 'PM067' <<<"$rec_out")" 1

# A deploy's pre-flight goes ahead, and says so.
newdb rec_dep
sql "$rec_dep" "ALTER DATABASE $rec_dep SET session_preload_libraries = 'pgmig'" >/dev/null
sql "$rec_dep" "SELECT FROM migrate_audit_recorder('hooks')" >/dev/null
sql "$rec_dep" "ALTER DATABASE $rec_dep RESET session_preload_libraries" >/dev/null
rec_proj="$work/recorder-project"
mig "$rec_proj/migrations" 1_items.sql "CREATE TABLE items (id bigint PRIMARY KEY);" "DROP TABLE items;"
printf '[environments.staging]\ndbname = "dbname=%s"\n' "$rec_dep" >"$rec_proj/pgmig.toml"
(cd "$rec_proj" && "$bin" deploy --env staging) >"$work/out" 2>"$work/err"
rc=$? out=$(cat "$work/out") err=$(cat "$work/err")
expect "recorder: a deploy's pre-flight warns that the hooks record without the preload, and goes ahead" 0 \
    "warning: audit_recorder: hooks: " "each session's first DDL statement is refused (PM067)"
check "recorder: and its migration is recorded by the hooks" \
    "$(sql "$rec_dep" "SELECT string_agg(object_identity, ',' ORDER BY id) FROM pgmig.ddl_audit
                       WHERE migration_version = '1'")" "public.items,public.items_pkey"

# A mix of firing and silent triggers is reported; 'triggers' turns every one on again.
sql "$rec_db" "ALTER EVENT TRIGGER pgmig_table_rewrite ENABLE ALWAYS; ALTER EVENT TRIGGER pgmig_ddl_start DISABLE" >/dev/null
check "recorder: mixed" "$(rec_state "$rec_db")" "mixed|-"
check "recorder: health warns on a mix" \
    "$(rec_health "dbname=$rec_db" | grep -c "^warn: mixed: some of pgmig's triggers do not fire (pgmig_ddl_end, pgmig_sql_drop)")" 1
check "recorder: and names a start trigger that does not fire" \
    "$(rec_health "dbname=$rec_db" | grep -c 'pgmig_ddl_start does not fire')" 1
check "recorder: back to the triggers" "$(sql "$rec_db" "SELECT recorder FROM migrate_audit_recorder('triggers')")" triggers
check "recorder: all four fire always" "$(rec_enabled "$rec_db")" \
    "pgmig_ddl_end=A,pgmig_ddl_start=A,pgmig_sql_drop=A,pgmig_table_rewrite=A"
check "recorder: health is ok with the triggers" "$(rec_health "dbname=$rec_db")" \
    "ok: triggers: pgmig's ddl_command_end, sql_drop and table_rewrite triggers record DDL"
# Without the start trigger, a session that has not loaded pgmig runs DDL without the out-of-band policy.
sql "$rec_db" "ALTER EVENT TRIGGER pgmig_ddl_start DISABLE" >/dev/null
check "recorder: health warns when pgmig_ddl_start does not fire" "$(rec_health "dbname=$rec_db")" \
    "warn: triggers: pgmig's ddl_command_end, sql_drop and table_rewrite triggers record DDL; pgmig_ddl_start does not fire: the out-of-band policy is applied by the hooks only, in sessions that loaded pgmig; migrate_audit_recorder(...) enables it again"
check "recorder: which migrate_audit_recorder() says" \
    "$(sql "$rec_db" "SELECT start_trigger FROM migrate_audit_recorder()")|$(sql "$rec_db" "SELECT start_trigger FROM migrate_audit_recorder('triggers')")" "f|t"
sql "$rec_db" "REVOKE EXECUTE ON FUNCTION migrate_audit_recorder(text) FROM $rec_role" >/dev/null
sql "$rec_db" "REVOKE pgmig_reader FROM $rec_role" >/dev/null
psql -X -q -d postgres -c "DROP OWNED BY $rec_role" -c "DROP ROLE $rec_role" >/dev/null 2>&1

# A server that preloads pgmig (shared_preload_libraries): CREATE EXTENSION chooses the hooks; an update from
# 0.1.0 keeps the triggers it had.
rec_bindir=$pg_bindir_under_test
rec_cl="$work/preloaded"
server_folder "$rec_cl"
rec_port=$(free_port)
if "${as_pg[@]}" "$rec_bindir/initdb" -D "$rec_cl/data" -U "$PGUSER" --auth=trust --no-sync >"$rec_cl/initdb.log" 2>&1 &&
    "${as_pg[@]}" "$rec_bindir/pg_ctl" -D "$rec_cl/data" -l "$rec_cl/log" -w -t 120 \
        -o "-p $rec_port -k $rec_cl/sock -c listen_addresses='' -c shared_preload_libraries=pgmig" start \
        >>"$rec_cl/initdb.log" 2>&1; then
    rec_conn="host=$rec_cl/sock port=$rec_port"
    rec_psql() { psql -X -A -t -q -v ON_ERROR_STOP=1 -d "$rec_conn dbname=$1" -c "$2" 2>&1; }
    for rec_d in rec_fresh rec_triggers rec_updated; do rec_psql postgres "CREATE DATABASE $rec_d" >/dev/null; done
    rec_psql rec_fresh "CREATE EXTENSION pgmig" >/dev/null
    check "recorder: CREATE EXTENSION on a server that preloads pgmig chooses the hooks" \
        "$(rec_psql rec_fresh "SELECT recorder || '|' || preloaded FROM migrate_audit_recorder()")" \
        "hooks|shared_preload_libraries"
    rec_psql rec_triggers "CREATE EXTENSION pgmig; SELECT FROM migrate_audit_recorder('triggers')" >/dev/null
    # 0.1.0's SQL runs on PostgreSQL 15 only.
    if [ "$(rec_psql postgres "SHOW server_version_num")" -lt 160000 ]; then
        rec_psql rec_updated "CREATE EXTENSION pgmig VERSION '0.1.0'; ALTER EXTENSION pgmig UPDATE" >/dev/null
        check "recorder: an update keeps the triggers" \
            "$(rec_psql rec_updated "SELECT recorder || '|' || preloaded FROM migrate_audit_recorder()")" \
            "triggers|shared_preload_libraries"
    fi
    # The same statements in both: the hooks write the rows the triggers write.
    for rec_d in rec_fresh rec_triggers; do
        rec_psql "$rec_d" "CREATE TABLE rec_t (id int PRIMARY KEY); ALTER TABLE rec_t ADD COLUMN v text DEFAULT 'x';
                           ALTER TABLE rec_t ALTER COLUMN v TYPE varchar(5); DROP TABLE rec_t" >/dev/null
    done
    rec_rows() {
        rec_psql "$1" "SELECT string_agg(event || ' ' || coalesce(object_identity, '-') || ' ' || table_rewrite, ', '
                                         ORDER BY id) FROM pgmig.ddl_audit WHERE command_tag <> 'ALTER EVENT TRIGGER'"
    }
    check "recorder: and they record the triggers' rows" "$(rec_rows rec_fresh)" "$(rec_rows rec_triggers)"
    check "recorder: (which name the objects)" "$(rec_rows rec_fresh | cut -d, -f1-4)" \
        "ddl_command_end public.rec_t false, ddl_command_end public.rec_t_pkey false, ddl_command_end public.rec_t false, table_rewrite public.rec_t true"
    check "recorder: health is ok with the hooks on a preloading server" "$(rec_health "$rec_conn dbname=rec_fresh")" \
        "ok: hooks: pgmig's hooks record DDL; every session preloads pgmig (shared_preload_libraries)"
    "${as_pg[@]}" "$rec_bindir/pg_ctl" -D "$rec_cl/data" -m fast -w stop >>"$rec_cl/initdb.log" 2>&1
else
    fail "recorder: start a server that preloads pgmig" "$(tail -5 "$rec_cl/initdb.log" "$rec_cl/log" 2>/dev/null)"
    [ -f "$rec_cl/data/postmaster.pid" ] && "${as_pg[@]}" "$rec_bindir/pg_ctl" -D "$rec_cl/data" -m immediate -w stop >/dev/null 2>&1
fi
