# The prompt sealer seals every committed audit row, also when the extension is dropped and created
# again while a sealer is still at work on the dropped extension's table: the commit into the new table
# asks that sealer for one more pass, and the pass must be into the new table (a sealer that kept its
# first table found it gone and left, and the new rows stayed unsealed until someone ran
# migrate_audit_verify()). Sourced by run.sh (see lib.sh).

newdb sealdb
# sealer_unsealed: the rows not sealed yet (read with the sealer off, so that reading starts none).
sealer_unsealed() {
    psql -X -A -t -q -d "$sealdb" -c "SET pgmig.audit_sealer = off" \
        -c "SELECT count(*) FROM pgmig.ddl_audit WHERE chain_seq IS NULL" 2>&1
}
lost=0
for round in 1 2 3 4 5; do
    # The first DDL starts a sealer on this table; the drop waits for its pass, which waits for the drop,
    # and the extension created again in the same transaction commits rows into a table of its own.
    out=$(psql -X -q -v ON_ERROR_STOP=1 -d "$sealdb" -c "CREATE TABLE sealer_first_$round (id int)" \
        -c "DROP EXTENSION pgmig; CREATE EXTENSION pgmig; CREATE TABLE sealer_second_$round (id int)" 2>&1) ||
        fail "sealer: round $round setup" "$out"
    left=x
    for _ in $(seq 1 100); do
        left=$(sealer_unsealed)
        [ "$left" = 0 ] && break
        sleep 0.1
    done
    [ "$left" = 0 ] || { lost=$((lost + 1)); echo "round $round: $left rows unsealed after 10 s"; }
done
check "sealer: rows committed into a re-created extension's table are sealed within 10 s (5 rounds)" "$lost" 0
chain=$(sql "$sealdb" "SELECT first_broken_id IS NULL AND sealed = 0 FROM migrate_audit_verify()")
check "sealer: the new table's chain verifies, with nothing left for verify to seal" "$chain" t
