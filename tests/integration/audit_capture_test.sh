# The audit captured by pgmig's hooks, when its ddl_command_end, sql_drop and table_rewrite triggers do not
# fire (audit_capture.cpp), writes the rows the triggers write. The same statements (audit_capture_corpus.sql:
# every kind of DDL, subcommands, CASCADE drops, rewrites, GRANT, nested DDL, a migration) run in a database
# with the triggers and in one without them (the library preloaded by the session); their rows must be the
# same, statement by statement (a statement's rows share its transaction id) and in the same order, in event,
# command tag, object type, schema, identity, rewrite flag and statement text. The only difference allowed: DDL nested in a DO
# block or a function, whose text the triggers cannot isolate (NULL) and the hooks can.
# Then what the capture must keep: it fails closed, forgets a failed statement, and a rolled-back savepoint's
# rows go with it. Sourced by run.sh (see lib.sh).

newdb cap_triggers
newdb cap_hooks
for cap_db in "$cap_triggers" "$cap_hooks"; do
    sql "$cap_db" "ALTER DATABASE $cap_db SET pgmig.audit_sealer = off" >/dev/null
done
sql "$cap_hooks" "ALTER EVENT TRIGGER pgmig_ddl_end DISABLE; ALTER EVENT TRIGGER pgmig_sql_drop DISABLE;
                  ALTER EVENT TRIGGER pgmig_table_rewrite DISABLE;
                  ALTER DATABASE $cap_hooks SET session_preload_libraries = 'pgmig'" >/dev/null
cap_rows() {  # DB FIRST_ID: the rows from FIRST_ID on, one per line, the transaction id first
    psql -X -A -t -F $'\t' -d "$1" -c "SELECT txid, event, command_tag, coalesce(object_type, '-'),
        coalesce(schema_name, '-'), coalesce(object_identity, '-'), table_rewrite, coalesce(statement, '-')
        FROM pgmig.ddl_audit WHERE id >= $2 ORDER BY id"
}
for cap_db in "$cap_triggers" "$cap_hooks"; do
    cap_first=$(sql "$cap_db" "SELECT coalesce(max(id), 0) + 1 FROM pgmig.ddl_audit")
    if ! psql -X -q -v ON_ERROR_STOP=1 -d "$cap_db" -f "$here/audit_capture_corpus.sql" >"$work/cap_$cap_db.out" 2>&1; then
        fail "capture: the corpus runs in $cap_db" "$(tail -3 "$work/cap_$cap_db.out")"
    fi
    cap_rows "$cap_db" "$cap_first" >"$work/cap_$cap_db.rows"
done
cap_compare=$(python3 - "$work/cap_$cap_triggers.rows" "$work/cap_$cap_hooks.rows" <<'PY'
import collections, sys

def statements(path):
    groups = collections.OrderedDict()
    for line in open(path):
        txid, row = line.rstrip("\n").split("\t", 1)
        groups.setdefault(txid, []).append(row.split("\t"))
    return list(groups.values())

triggers, hooks = statements(sys.argv[1]), statements(sys.argv[2])
differ, named = [], 0
for i in range(max(len(triggers), len(hooks))):
    t = triggers[i] if i < len(triggers) else []
    h = hooks[i] if i < len(hooks) else []
    # Text the triggers could not isolate ('-') compares equal to the hooks' text.
    unknown = {tuple(r[:6]) for r in t if r[6] == "-"}
    named += sum(1 for r in h if r[6] != "-" and tuple(r[:6]) in unknown)
    key = lambda r: tuple(r[:6]) + (("-",) if tuple(r[:6]) in unknown else (r[6],))
    if list(map(key, t)) != list(map(key, h)):
        differ.append(f"statement {i + 1}: triggers {list(map(key, t))} hooks {list(map(key, h))}")
print(f"{len(triggers)} statements, {sum(map(len, triggers))} rows, {len(differ)} differ")
print(f"nested statements named by the hooks only: {named}")
for d in differ[:5]:
    print(d)
PY
)
cap_summary=$(echo "$cap_compare" | head -1)
check "capture: the hooks write the triggers' rows for every statement of the corpus" \
    "$(echo "$cap_summary" | sed 's/.* rows, //')" "0 differ"
[[ $cap_summary =~ ^3[0-9][0-9]\ statements ]] || fail "capture: the corpus ran whole" "$cap_compare"
check "capture: and name the text of DDL nested in DO and functions" \
    "$(echo "$cap_compare" | sed -n 2p)" "nested statements named by the hooks only: 5"
echo "$cap_compare" | sed -n '3,$p'

# Fails closed: the rows are written in the statement's transaction, so a statement whose rows cannot be
# written does not happen (here another session holds the audit table locked).
psql -X -q -d "$cap_hooks" -c "BEGIN" -c "LOCK pgmig.ddl_audit IN ACCESS EXCLUSIVE MODE" \
    -c "SELECT pg_sleep(3) AS cap_lock_held" -c "COMMIT" >"$work/cap_lock.out" 2>&1 &
cap_locker=$!
if poll_sql "$cap_hooks" "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE query LIKE '%cap_lock_held%'
                                          AND state = 'active' AND pid <> pg_backend_pid())" 10; then
    cap_out=$(psql -X -A -t -q -d "$cap_hooks" -c "SET lock_timeout = '200ms'" -c "CREATE TABLE cap_locked_out (id int)" 2>&1)
    check "capture: a statement whose rows cannot be written fails with the write's error" \
        "$(echo "$cap_out" | grep -c 'lock timeout')" 1
fi
wait "$cap_locker"
check "capture: and did not happen" "$(sql "$cap_hooks" "SELECT to_regclass('cap_locked_out') IS NULL")" t

# A failed statement leaves no row and no capture behind; a savepoint rolled back takes its rows with it.
cap_first=$(sql "$cap_hooks" "SELECT coalesce(max(id), 0) + 1 FROM pgmig.ddl_audit")
psql -X -q -d "$cap_hooks" >/dev/null 2>&1 <<'SQL'
CREATE TABLE cap_twice (id int, id int);
BEGIN;
SAVEPOINT s;
CREATE TABLE cap_undone (id int);
ROLLBACK TO s;
CREATE TABLE cap_kept (id int PRIMARY KEY);
COMMIT;
SQL
check "capture: only what happened is recorded" \
    "$(sql "$cap_hooks" "SELECT string_agg(event || ' ' || object_identity, ', ' ORDER BY id) FROM pgmig.ddl_audit WHERE id >= $cap_first")" \
    "ddl_command_end public.cap_kept, ddl_command_end public.cap_kept_pkey"

# Fails closed where the hooks are not in place: without preloading, pgmig's ddl_command_start trigger loads
# the library as the first DDL of a session begins, too late for the hooks to see it. With the end triggers
# disabled nothing would record that statement: it is refused (PM067). Once loaded, the hooks record.
newdb cap_unloaded
sql "$cap_unloaded" "ALTER EVENT TRIGGER pgmig_ddl_end DISABLE; ALTER EVENT TRIGGER pgmig_sql_drop DISABLE;
                     ALTER EVENT TRIGGER pgmig_table_rewrite DISABLE" >/dev/null
cap_out=$(psql -X -A -t -q -v VERBOSITY=verbose -d "$cap_unloaded" -c "CREATE TABLE cap_first (id int)" \
    -c "CREATE TABLE cap_second (id int)" 2>&1)
check "capture: the first DDL of a session that had not loaded pgmig is refused" \
    "$(echo "$cap_out" | grep -c 'PM067: CREATE TABLE refused')" 1
check "capture: and the next one, with the hooks in place, is recorded" \
    "$(sql "$cap_unloaded" "SELECT to_regclass('cap_first') IS NULL,
                                   (SELECT string_agg(object_identity, ',') FROM pgmig.ddl_audit
                                     WHERE object_identity LIKE 'public.cap_%')")" "t|public.cap_second"

# A non-transactional migration's statements run at top level, and belong to it only while each runs: the
# hooks write their rows before the statement ends, attributed to the migration as the triggers' rows are.
newdb cap_nontx_db
sql "$cap_nontx_db" "ALTER EVENT TRIGGER pgmig_ddl_end DISABLE; ALTER EVENT TRIGGER pgmig_sql_drop DISABLE;
                     ALTER EVENT TRIGGER pgmig_table_rewrite DISABLE;
                     ALTER DATABASE $cap_nontx_db SET session_preload_libraries = 'pgmig'" >/dev/null
cap_dir="$work/cap_nontx"
mkdir -p "$cap_dir"
{ echo "-- pgmig:no-transaction"
  echo "-- pgmig:up"
  echo "CREATE TABLE cap_nontx (id int);"
  echo ""
  echo "CREATE INDEX CONCURRENTLY cap_nontx_id ON cap_nontx (id);"
  echo "-- pgmig:down"
  echo "DROP TABLE cap_nontx;"; } >"$cap_dir/1_nontx.sql"
run apply --dir "$cap_dir" -d "dbname=$cap_nontx_db"
expect "capture: a non-transactional migration applies" 0 "applied 1_nontx ("
check "capture: its statements' rows are attributed to it" \
    "$(sql "$cap_nontx_db" "SELECT string_agg(event || ' ' || coalesce(object_identity, command_tag) || ' ' || coalesce(migration_version, 'out of band'), ', ' ORDER BY id)
                          FROM pgmig.ddl_audit WHERE statement LIKE '%cap_nontx%'")" \
    "ddl_command_end public.cap_nontx 1, utility CREATE INDEX 1"
