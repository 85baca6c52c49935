# The audit trail with real sessions: a DDL corpus whose every outcome must be the same with and
# without pgmig, and NOTIFY pgmig_drift received by a listener. Sourced by run.sh (see lib.sh).

# --- the DDL corpus: pgmig changes no statement's outcome ----------------------------------------
newdb db_plain noext
newdb db_audited
corpus="$root/tests/corpus/ddl.sql"
psql -X -v ON_ERROR_STOP=0 -d "$db_plain" -f "$corpus" >"$work/corpus_plain" 2>&1
psql -X -v ON_ERROR_STOP=0 -d "$db_audited" -f "$corpus" >"$work/corpus_audited" 2>&1
statements=$(grep -cE '^[A-Z]' "$corpus")
if ! grep -q "corpus done" "$work/corpus_plain"; then
    fail "DDL corpus" "the corpus did not run to its end: $(tail -c 300 "$work/corpus_plain")"
elif diff -u "$work/corpus_plain" "$work/corpus_audited" >"$work/corpus_diff"; then
    pass "DDL corpus: $statements statements give the same output with pgmig's triggers active"
else
    fail "DDL corpus" "outcomes differ: $(head -c 800 "$work/corpus_diff")"
fi
audited=$(sql "$db_audited" "SELECT count(DISTINCT command_tag) FROM pgmig.ddl_audit")
secret=$(sql "$db_audited" "SELECT count(*) FROM pgmig.ddl_audit WHERE statement LIKE '%corpus-pw%'")
if [ "$audited" -ge 30 ] && [ "$secret" = 0 ]; then
    pass "DDL corpus: $audited kinds of command recorded, the user mapping's password in none"
else
    fail "DDL corpus: recorded" "kinds=$audited rows_with_password=$secret"
fi

# listen_while DB SQL: runs SQL while another session listens on pgmig_drift (bounded); what the
# listener printed is in $work/listener (psql prints notifications after its next command).
listen_while() {
    { echo "LISTEN pgmig_drift;"; sleep 2; echo "SELECT 1;"; } |
        timeout 20 psql -X -q -d "$1" >"$work/listener" 2>&1 &
    local listener=$!
    sleep 0.5
    sql "$1" "$2" >/dev/null
    wait "$listener"
}

# --- NOTIFY pgmig_drift reaches a listener, with a small JSON payload ----------------------------
newdb db_notify
listen_while "$db_notify" "CREATE TABLE drifted (id int)"
payload=$(sed -n 's/.*Asynchronous notification "pgmig_drift" with payload "\(.*\)" received.*/\1/p' "$work/listener")
if [ -n "$payload" ] && python3 -c '
import json, sys
p = json.loads(sys.argv[1])
assert p["command"] == "CREATE TABLE" and p["object"] == "public.drifted" and p["user"] == "postgres", p
assert isinstance(p["audit_id"], int) and p["objects"] == 1, p
' "$payload"; then
    pass "NOTIFY pgmig_drift: $payload"
else
    fail "NOTIFY pgmig_drift" "listener saw: $(head -c 300 "$work/listener")"
fi
# In-migration DDL is not drift: no notification.
sql "$db_notify" "SELECT migrate_register('1', 'm', 'CREATE TABLE planned (id int);')" >/dev/null
listen_while "$db_notify" "SELECT count(*) FROM migrate_apply()"
if ! grep -q "Asynchronous notification" "$work/listener"; then
    pass "no NOTIFY for DDL run by a migration"
else
    fail "no NOTIFY for DDL run by a migration" "$(head -c 300 "$work/listener")"
fi

# --- the chain head anchored outside the database catches a recomputed chain --------------------
newdb db_anchor
# Sealing left to pgmig audit verify here (no background sealer), so that it reports what it sealed.
sql "$db_anchor" "ALTER DATABASE $db_anchor SET pgmig.audit_sealer = off" >/dev/null
anchor="$work/anchors/audit-chain.jsonl"
sql "$db_anchor" "CREATE TABLE a1 (id int); CREATE TABLE a2 (id int)" >/dev/null
run audit verify --anchor "$anchor" -d "dbname=$db_anchor"
expect "audit verify: intact, head anchored" 0 "audit chain intact" "anchored in $anchor"
sql "$db_anchor" "CREATE TABLE a3 (id int)" >/dev/null
run audit verify --anchor "$anchor" -d "dbname=$db_anchor"
expect "audit verify: new rows sealed and anchored" 0 "1 sealed now"
# --whole asks the server to hash every sealed row again (migrate_audit_verify(true)).
run audit verify --whole --anchor "$anchor" -d "dbname=$db_anchor"
expect "audit verify --whole: intact, head anchored" 0 "audit chain intact" "anchored in $anchor"
if [ "$(wc -l <"$anchor")" = 2 ] && python3 -c '
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
assert all(set(l) == {"database", "position", "head", "at"} and len(l["head"]) == 64 for l in lines), lines
assert lines[1]["position"] > lines[0]["position"], lines
' "$anchor"; then pass "anchor file: one JSON line per new head, nothing but positions and hashes"
else fail "anchor file" "$(cat "$anchor")"; fi

# A superuser edits a sealed row: the database's own check finds it.
sql "$db_anchor" "ALTER TABLE pgmig.ddl_audit DISABLE TRIGGER ddl_audit_immutable;
                  UPDATE pgmig.ddl_audit SET statement = 'CREATE TABLE nothing_to_see (id int)'
                   WHERE object_identity = 'public.a2';" >/dev/null
run audit verify --anchor "$anchor" -d "dbname=$db_anchor"
expect "audit verify: an edited row breaks the chain (exit 13)" 13 "the audit chain is broken at row"
# ... and recomputes every hash after it, so the database's own check passes again:
sql "$db_anchor" "DO \$\$
DECLARE prev text := ''; r record;
BEGIN
    FOR r IN SELECT a.id, pgmig.audit_row_text(a) AS t FROM pgmig.ddl_audit a WHERE chain_seq IS NOT NULL ORDER BY chain_seq LOOP
        prev := encode(sha256(convert_to(prev || E'\n' || r.t, 'UTF8')), 'hex');
        UPDATE pgmig.ddl_audit SET row_hash = prev WHERE id = r.id;
    END LOOP;
END \$\$;" >/dev/null
if [ "$(sql "$db_anchor" "SELECT first_broken_id IS NULL FROM migrate_audit_verify()")" = t ]; then
    pass "a recomputed chain looks intact from inside the database"
else fail "recomputed chain" "migrate_audit_verify still reports a break"; fi
run audit verify --anchor "$anchor" -d "dbname=$db_anchor"
expect "audit verify: the anchor catches the rewritten chain (exit 13)" 13 "the audit chain was rewritten"
