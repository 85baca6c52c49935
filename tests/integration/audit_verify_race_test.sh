# migrate_audit_verify() hashes again only the rows of pages changed since it last found the chain
# intact, from the WAL point it records (pgmig.audit_verified). An edit made before that point by a
# transaction still open while the verification reads (so invisible to it) must not be covered by the
# record: its page would never count as changed again, and the edit, once committed, would never be found.
# A verification that finds another transaction holding a lock that changes of the table's rows take
# records nothing. Sourced by run.sh (see lib.sh).

newdb racedb
sql "$racedb" "ALTER DATABASE $racedb SET pgmig.audit_sealer = off" >/dev/null  # sealed where this test says
sql "$racedb" "ALTER TABLE pgmig.ddl_audit SET (autovacuum_enabled = false)" >/dev/null
sql "$racedb" "CREATE TABLE race_a (id int); CREATE TABLE race_b (id int); CREATE TABLE race_c (id int)" >/dev/null
# The guard switched off beforehand (audited, and sealed with the rest), so that the edit below is the
# only change of its page: nothing else that the editing session writes can make the page count as
# changed again.
sql "$racedb" "ALTER TABLE pgmig.ddl_audit DISABLE TRIGGER ddl_audit_immutable" >/dev/null
sql "$racedb" "SELECT first_broken_id FROM migrate_audit_verify()" >/dev/null  # seals
sql "$racedb" "VACUUM pgmig.ddl_audit" >/dev/null
check "verify race: the sealed chain is intact and recorded" \
    "$(sql "$racedb" "SELECT first_broken_id IS NULL FROM migrate_audit_verify()")|$(sql "$racedb" "SELECT count(*) FROM pgmig.audit_verified")" \
    "t|1"
recorded=$(sql "$racedb" "SELECT verified_through FROM pgmig.audit_verified")

# A superuser edits a sealed row, in a transaction left open for a while.
psql -X -q -d "$racedb" -v ON_ERROR_STOP=1 -c "BEGIN" \
    -c "UPDATE pgmig.ddl_audit SET statement = 'nothing happened' WHERE object_identity = 'public.race_b'" \
    -c "SELECT pg_sleep(3) AS race_edit_open" -c "COMMIT" >"$work/race_edit.out" 2>&1 &
editor=$!
if poll_sql "$racedb" "SELECT EXISTS (SELECT 1 FROM pg_stat_activity
                                       WHERE query LIKE '%race_edit_open%' AND state = 'active' AND pid <> pg_backend_pid())" 10; then
    # Meanwhile: the chain it sees is intact, and nothing is recorded.
    check "verify race: a verification during the open edit sees the chain as it was" \
        "$(sql "$racedb" "SELECT first_broken_id IS NULL FROM migrate_audit_verify()")" t
    check "verify race: and records nothing while the edit is open" \
        "$(sql "$racedb" "SELECT verified_through FROM pgmig.audit_verified")" "$recorded"
else
    fail "verify race: the editing session never got to its open transaction" "$(cat "$work/race_edit.out")"
fi
wait "$editor" || fail "verify race: the editing session failed" "$(cat "$work/race_edit.out")"
# Committed, the edit is found.
check "verify race: once committed, the edit is found" \
    "$(sql "$racedb" "SELECT o.object_identity FROM migrate_audit_verify() v JOIN pgmig.ddl_audit o ON o.id = v.first_broken_id")" \
    "public.race_b"
sql "$racedb" "ALTER TABLE pgmig.ddl_audit ENABLE ALWAYS TRIGGER ddl_audit_immutable" >/dev/null
