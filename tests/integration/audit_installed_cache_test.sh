# The utility hook asks before every statement it records whether pgmig is installed in the database,
# and keeps the answer until pg_event_trigger changes (CREATE and DROP EXTENSION pgmig create and drop
# pgmig's event triggers). A stale answer would fail open (a session that looked before the extension was
# created would record nothing after it) or closed (a session that looked before the extension was dropped
# would refuse DDL it can no longer record). One session that loaded the library runs shared-object DDL,
# which only the hook records, while another session creates and drops the extension, and while it does
# both itself, including a CREATE EXTENSION rolled back. Sourced by run.sh (see lib.sh).

newdb icdb noext
ic="ic_$$"
ic_out=$(psql -X -A -t -q -d "$icdb" -v ON_ERROR_STOP=1 2>&1 <<SQL
LOAD 'pgmig';
CREATE ROLE ${ic}_before;
\\! psql -X -q -d $icdb -c 'CREATE EXTENSION pgmig'
CREATE ROLE ${ic}_created_elsewhere;
SELECT 'recorded after another session created it: ' || count(*) FROM pgmig.ddl_audit
 WHERE object_identity = '${ic}_created_elsewhere';
\\! psql -X -q -d $icdb -c 'DROP EXTENSION pgmig'
CREATE ROLE ${ic}_dropped_elsewhere;
CREATE EXTENSION pgmig;
CREATE ROLE ${ic}_created_here;
SELECT 'recorded after this session created it: ' || count(*) FROM pgmig.ddl_audit
 WHERE object_identity = '${ic}_created_here';
DROP EXTENSION pgmig;
CREATE ROLE ${ic}_dropped_here;
BEGIN;
CREATE EXTENSION pgmig;
CREATE ROLE ${ic}_in_rolled_back;
ROLLBACK;
CREATE ROLE ${ic}_after_rollback;
SELECT 'done';
SQL
)
check "installed cache: DDL is recorded once another session creates pgmig, and runs once it drops it" \
    "$ic_out" "recorded after another session created it: 1
recorded after this session created it: 1
done"
# The other way round, on its own: a session that found pgmig installed, then another session drops it.
newdb icdb2
ic_out=$(psql -X -A -t -q -d "$icdb2" -v ON_ERROR_STOP=1 2>&1 <<SQL
LOAD 'pgmig';
CREATE ROLE ${ic}_installed;
\\! psql -X -q -d $icdb2 -c 'DROP EXTENSION pgmig'
CREATE ROLE ${ic}_gone;
SELECT 'ran';
SQL
)
check "installed cache: a session that found pgmig installed runs DDL once another session drops it" "$ic_out" ran
for ic_role in installed gone before created_elsewhere dropped_elsewhere created_here dropped_here after_rollback; do
    psql -X -q -d postgres -c "DROP ROLE IF EXISTS ${ic}_$ic_role" >/dev/null 2>&1
done
