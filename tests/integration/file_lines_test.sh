# Every line the client names in a migration is a line of the FILE (the extension counts from the start of
# the script it runs): apply and rollback errors, plan, lint, validate, for a file whose up section starts
# below a header and for Flyway's separate undo files. The progress line is in tests/unit/file_lines_test.cpp.
# Sourced by run.sh (see lib.sh for the helpers).

newdb db
fl="$work/file_lines/migrations"
mkdir -p "$fl"
# The up script starts at line 5; its failing statement is on file line 8 (line 4 of the up script), and
# the down script's failing statement on file line 11.
cat >"$fl/1_orders.sql" <<'SQL'
-- Orders.
-- Three lines of header,
-- then the up script.
-- pgmig:up
CREATE TABLE IF NOT EXISTS fl_orders (id bigint PRIMARY KEY);

-- the next statement fails
INSERT INTO fl_orders VALUES (1), (1);
-- pgmig:down
DROP TABLE IF EXISTS fl_orders;
SELECT 1 / 0;
SQL
chmod -R a+rX "$work/file_lines"
run apply --dir "$fl" -d "dbname=$db"
expect "apply error names the file's line" 5 "line 8 of $fl/1_orders.sql (up script)"
if grep -q "line 4 of the up script" <<<"$out$err"; then fail "apply error: no script line" "$err"; else pass "apply error: no script line"; fi

# plan: the failing statement's line, and lint lines, are the file's.
run plan --dir "$fl" -d "dbname=$db"
expect "plan names the file's line of the failing statement" 15 "line 8 of $fl/1_orders.sql"

sed -i 's/VALUES (1), (1);/VALUES (1), (2);/' "$fl/1_orders.sql"
run apply --dir "$fl" -d "dbname=$db"
expect "fixed, it applies" 0 "applied 1_orders"
# rollback works from the ledger: it names the file's line when the project's folder (here, ./migrations)
# holds the registered down script.
( cd "$work/file_lines" && "$bin" rollback -d "dbname=$db" >"$work/out" 2>"$work/err" ); rc=$?; out=$(cat "$work/out"); err=$(cat "$work/err")
expect "rollback error names the file's line" 5 "line 11 of migrations/1_orders.sql (down script)"

# lint and validate: a finding on file line 7 (line 3 of the up script).
cat >"$fl/2_note.sql" <<'SQL'
-- A note.
--
-- pgmig:up
ALTER TABLE fl_orders ADD COLUMN note text;

-- pgmig:allow drop-table
ALTER TABLE fl_orders ALTER COLUMN note TYPE varchar(10);
SQL
chmod a+r "$fl/2_note.sql"
run lint --dir "$fl" -d "dbname=$db"
expect "lint: the file's line" 14 "2_note.sql:7:1: error [alter-column-type]"
run validate --dir "$fl" -d "dbname=$db"
expect "validate: the file's line" 14 "2_note.sql:7:1"
run plan --dir "$fl" -d "dbname=$db"
expect "plan: lint findings with the file's line" 0 "error alter-column-type line 7:"

# Flyway: a separate undo file counts its own lines.
fw="$work/file_lines/flyway"
mkdir -p "$fw"
printf 'CREATE TABLE IF NOT EXISTS fl_fw (id int);\n' >"$fw/V1__fw.sql"
printf -- '-- undo\n\nDROP TABLE IF EXISTS fl_fw;\nSELECT 1 / 0;\n' >"$fw/U1__fw.sql"
chmod -R a+rX "$fw"
newdb db2
run apply --dir "$fw" -d "dbname=$db2"
expect "flyway applies" 0 "applied"
( cd "$work/file_lines" && mv flyway migrations_fw && mkdir -p fwproj && mv migrations_fw fwproj/migrations )
chmod -R a+rX "$work/file_lines"
( cd "$work/file_lines/fwproj" && "$bin" rollback -d "dbname=$db2" >"$work/out" 2>"$work/err" ); rc=$?; out=$(cat "$work/out"); err=$(cat "$work/err")
expect "flyway rollback error names the undo file's line" 5 "line 4 of migrations/U1__fw.sql (down script)"
