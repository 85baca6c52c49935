# The way back from a broken audit chain: pgmig audit reseal --reason "..." (superusers only) records the break
# and starts a new sealed segment; pgmig audit verify and the health check (the deploy's pre-flight) pass
# again and still report the break as resealed; the broken rows stay. Sourced by run.sh (see lib.sh).

newdb ardb
sql "$ardb" "ALTER DATABASE $ardb SET pgmig.audit_sealer = off" >/dev/null
ar_anchor="$work/anchors/reseal-chain.jsonl"
sql "$ardb" "CREATE TABLE r1 (id int); CREATE TABLE r2 (id int)" >/dev/null
run audit verify --anchor "$ar_anchor" -d "dbname=$ardb"
expect "setup: audit verify anchors an intact chain" 0 "audit chain intact"

# An intact chain has nothing to reseal (exit 57).
run audit reseal --reason "nothing happened" -d "dbname=$ardb"
expect "audit reseal of an intact chain is refused (exit 57)" 57 "no broken link"

# A superuser edits a sealed row behind the guard: verify and the pre-flight health check fail.
sql "$ardb" "ALTER TABLE pgmig.ddl_audit DISABLE TRIGGER ddl_audit_immutable;
             UPDATE pgmig.ddl_audit SET statement = 'CREATE TABLE nothing_to_see (id int)' WHERE object_identity = 'public.r2';
             ALTER TABLE pgmig.ddl_audit ENABLE ALWAYS TRIGGER ddl_audit_immutable;" >/dev/null
run audit verify --anchor "$ar_anchor" -d "dbname=$ardb"
expect "audit verify: broken (exit 13), and says how to recover" 13 "the audit chain is broken at row" \
    "pgmig audit reseal --reason"
# ar_chain_check: the status and detail of health's audit_chain check (the deploy's pre-flight runs it).
ar_chain_check() {
    "$bin" health --json -d "dbname=$ardb" 2>/dev/null |
        python3 -c 'import json, sys; c = [c for c in json.load(sys.stdin)["checks"] if c["name"] == "audit_chain"][0]; print(c["status"], c["detail"])'
}
ar_check=$(ar_chain_check)
case "$ar_check" in
    fail*"pgmig audit reseal --reason"*) pass "health (the deploy's pre-flight): audit_chain fails and names the recovery" ;;
    *) fail "health (the deploy's pre-flight): audit_chain fails and names the recovery" "$ar_check" ;;
esac

# Who may reseal: not a pgmig_admin member (exit 57, nothing changed).
sql "$ardb" "CREATE ROLE ar_admin_$$ LOGIN IN ROLE pgmig_admin" >/dev/null
run audit reseal --reason "I say so" -d "dbname=$ardb user=ar_admin_$$"
expect "audit reseal by a pgmig_admin member is refused (exit 57)" 57 "only a superuser"
sql "$ardb" "DROP ROLE ar_admin_$$" >/dev/null
rows_before=$(sql "$ardb" "SELECT count(*) FROM pgmig.ddl_audit WHERE event = 'audit_reseal'")

# A superuser reseals: an audit row of its own, the broken row kept as it is.
run audit reseal --reason "edited by hand in the incident of today; checked against the backup" -d "dbname=$ardb"
expect "audit reseal records the break" 0 "audit chain resealed" "1 broken link(s) recorded"
if [ "$rows_before" = 0 ] &&
    [ "$(sql "$ardb" "SELECT count(*) FROM pgmig.ddl_audit WHERE event = 'audit_reseal' AND session_user_name = current_user
                        AND statement::jsonb ->> 'reason' LIKE 'edited by hand%'")" = 1 ] &&
    [ "$(sql "$ardb" "SELECT statement FROM pgmig.ddl_audit WHERE object_identity = 'public.r2'")" = \
        "CREATE TABLE nothing_to_see (id int)" ]; then
    pass "... in an audit row of its own (who, why), the edited row kept for inspection"
else
    fail "... in an audit row of its own" "$(sql "$ardb" "SELECT event, session_user_name, statement FROM pgmig.ddl_audit ORDER BY id DESC LIMIT 2")"
fi
run audit verify --anchor "$ar_anchor" -d "dbname=$ardb"
expect "audit verify passes again and reports the resealed segment" 0 "audit chain intact" "resealed segment" \
    "edited by hand in the incident of today"
ar_check=$(ar_chain_check)
case "$ar_check" in
    ok*"1 earlier break(s) resealed"*) pass "health (the deploy's pre-flight): audit_chain passes and says it was resealed" ;;
    *) fail "health (the deploy's pre-flight): audit_chain passes and says it was resealed" "$ar_check" ;;
esac
