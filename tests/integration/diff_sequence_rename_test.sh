# A sequence owned by a column both sides keep, under another name in the desired schema (a serial's
# sequence renamed, an identity column's SEQUENCE NAME): the diff renames it, so the next value continues
# where the rows are, instead of a new sequence that starts again at 1 (duplicate keys on the next insert).
# Sourced by run.sh (see lib.sh for the helpers).

dsr="$work/diff_sequence_rename"
mkdir -p "$dsr/schema" && chmod -R 755 "$dsr"
newdb dsrdb || return 0
sql "$dsrdb" "
CREATE TABLE items (id serial PRIMARY KEY, label text);
CREATE TABLE orders (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, note text);
INSERT INTO items (label) SELECT 'i' || g FROM generate_series(1, 5) g;
INSERT INTO orders (note) SELECT 'o' || g FROM generate_series(1, 7) g;
" >/dev/null
cat >"$dsr/schema/schema.sql" <<'SQL'
CREATE TABLE items (id serial PRIMARY KEY, label text);
ALTER SEQUENCE items_id_seq RENAME TO item_numbers;
CREATE TABLE orders (id bigint GENERATED ALWAYS AS IDENTITY (SEQUENCE NAME order_numbers) PRIMARY KEY, note text);
SQL
chmod 644 "$dsr/schema/schema.sql"

run generate renumber --dir "$dsr/migs" --schema "$dsr/schema" -d "dbname=$dsrdb"
expect "generate: the owned sequences' new names" 0
f=$(ls "$dsr/migs"/*_renumber.sql 2>/dev/null | head -1)
if [ -n "$f" ] && grep -q "ALTER SEQUENCE public.items_id_seq RENAME TO item_numbers;" "$f" &&
    grep -q "ALTER SEQUENCE public.orders_id_seq RENAME TO order_numbers;" "$f" && ! grep -q "CREATE SEQUENCE" "$f"; then
    pass "... are renames, not new sequences"
else
    fail "... are renames, not new sequences" "$(cat "$f" 2>/dev/null | head -c 1200)"
fi
run apply --dir "$dsr/migs" -d "dbname=$dsrdb"
expect "the generated migration applies" 0
check "the serial continues after its rows" "$(sql "$dsrdb" "INSERT INTO items (label) VALUES ('new') RETURNING id")" "6"
check "the identity continues after its rows" "$(sql "$dsrdb" "INSERT INTO orders (note) VALUES ('new') RETURNING id")" "8"
run rollback -d "dbname=$dsrdb"
expect "its rollback applies" 0
check "after rollback, the sequences have their first names" \
    "$(sql "$dsrdb" "SELECT string_agg(relname, ',' ORDER BY relname) FROM pg_class WHERE relkind = 'S' AND relnamespace = 'public'::regnamespace")" \
    "items_id_seq,orders_id_seq"
check "... and keep their values" "$(sql "$dsrdb" "INSERT INTO items (label) VALUES ('again') RETURNING id")" "7"
