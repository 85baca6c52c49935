# The audit fails closed: when another session holds LOCK pgmig.ddl_audit, a DDL statement whose audit
# row cannot be written before its statement_timeout or lock_timeout is cancelled with it; it never
# commits unaudited. Cancels and timeouts reach the statement whatever pgmig.audit_failure says.
# (Failures other than cancels: test/sql/security_audit_fail_closed.sql.) Sourced by run.sh (see lib.sh).

newdb fc_db
fc_user="pgmig_it_fc_$$"
sql "$fc_db" "CREATE ROLE $fc_user LOGIN; GRANT CREATE ON SCHEMA public TO $fc_user" >/dev/null
# The locker: a session idle in a transaction that holds ACCESS EXCLUSIVE on the audit table.
exec 8> >(psql -X -q -d "$fc_db" >/dev/null 2>&1)
echo "BEGIN; LOCK TABLE pgmig.ddl_audit IN ACCESS EXCLUSIVE MODE;" >&8
for _ in $(seq 100); do
    [ "$(sql "$fc_db" "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
                        WHERE c.relname = 'ddl_audit' AND l.granted AND l.mode = 'AccessExclusiveLock'")" = 1 ] && break
    sleep 0.1
done

# fc_try NAME SETTINGS DDL: runs DDL in a new session after SETTINGS (SET commands); $fc_out gets its output.
fc_try() {
    fc_out=$(psql -X -q -v ON_ERROR_STOP=1 -d "$fc_db" -c "$2" -c "$3" 2>&1)
    fc_rc=$?
}
fc_try "statement_timeout" "SET statement_timeout = '1s'" "CREATE TABLE fc_statement_timeout (id int)"
if [ "$fc_rc" -ne 0 ] && grep -q "canceling statement due to statement timeout" <<<"$fc_out"; then
    pass "audit write cancelled by statement_timeout: the CREATE TABLE is cancelled too"
else
    fail "audit write cancelled by statement_timeout" "rc=$fc_rc: $fc_out"
fi
fc_try "lock_timeout" "SET lock_timeout = '300ms'" "CREATE TABLE fc_lock_timeout (id int)"
if [ "$fc_rc" -ne 0 ] && grep -q "canceling statement due to lock timeout" <<<"$fc_out"; then
    pass "audit write stopped by lock_timeout: the CREATE TABLE fails too"
else
    fail "audit write stopped by lock_timeout" "rc=$fc_rc: $fc_out"
fi
# A superuser's pgmig.audit_failure = warn does not turn a timeout into a warning.
fc_try "warn" "SET pgmig.audit_failure = warn; SET statement_timeout = '1s'" "CREATE TABLE fc_warn (id int)"
if [ "$fc_rc" -ne 0 ] && grep -q "canceling statement due to statement timeout" <<<"$fc_out"; then
    pass "pgmig.audit_failure = warn: a timeout still cancels the statement"
else
    fail "pgmig.audit_failure = warn: a timeout still cancels the statement" "rc=$fc_rc: $fc_out"
fi
# A role's DDL seen by the utility hook (roles fire no event trigger), with the library preloaded.
fc_out=$(PGOPTIONS="-c session_preload_libraries=pgmig" psql -X -q -v ON_ERROR_STOP=1 -d "$fc_db" \
    -c "SET statement_timeout = '1s'" -c "CREATE ROLE pgmig_it_fc_role_$$" 2>&1)
fc_rc=$?
if [ "$fc_rc" -ne 0 ] && grep -q "canceling statement due to statement timeout" <<<"$fc_out"; then
    pass "utility hook: a timed-out audit write cancels CREATE ROLE"
else
    fail "utility hook: a timed-out audit write cancels CREATE ROLE" "rc=$fc_rc: $fc_out"
fi
# A non-superuser's DDL too.
fc_out=$(psql -X -q -v ON_ERROR_STOP=1 -d "dbname=$fc_db user=$fc_user" -c "SET statement_timeout = '1s'" \
    -c "CREATE TABLE fc_by_user (id int)" 2>&1)
fc_rc=$?
if [ "$fc_rc" -ne 0 ] && grep -q "canceling statement due to statement timeout" <<<"$fc_out"; then
    pass "a non-superuser's timed-out DDL is cancelled"
else
    fail "a non-superuser's timed-out DDL is cancelled" "rc=$fc_rc: $fc_out"
fi

echo "COMMIT;" >&8
exec 8>&-
fc_left=$(sql "$fc_db" "SELECT count(*) FROM pg_class WHERE relname LIKE 'fc\_%'")
fc_roles=$(sql "$fc_db" "SELECT count(*) FROM pg_roles WHERE rolname = 'pgmig_it_fc_role_$$'")
fc_rows=$(sql "$fc_db" "SELECT count(*) FROM pgmig.ddl_audit
                        WHERE object_identity LIKE 'public.fc\_%' OR object_identity = 'pgmig_it_fc_role_$$'")
if [ "$fc_left" = 0 ] && [ "$fc_roles" = 0 ] && [ "$fc_rows" = 0 ]; then
    pass "nothing was created unaudited"
else
    fail "nothing was created unaudited" "tables=$fc_left roles=$fc_roles audit_rows=$fc_rows"
fi
# Once the lock is gone, the same DDL works and is recorded.
sql "$fc_db" "SET statement_timeout = '5s'; CREATE TABLE fc_after (id int)" >/dev/null
if [ "$(sql "$fc_db" "SELECT count(*) FROM pgmig.ddl_audit WHERE object_identity = 'public.fc_after'")" = 1 ]; then
    pass "after the lock: DDL recorded"
else
    fail "after the lock: DDL recorded" "no audit row for fc_after"
fi
sql "$fc_db" "DROP TABLE fc_after; DROP OWNED BY $fc_user; DROP ROLE $fc_user; DROP ROLE IF EXISTS pgmig_it_fc_role_$$" >/dev/null
