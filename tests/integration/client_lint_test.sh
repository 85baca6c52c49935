# pgmig lint against a real cluster: findings with file:line:col and table sizes, waivers, thresholds,
# exit 14, --json, bad input. Sourced by run.sh (see lib.sh for the helpers).

run lint --help
expect "lint --help" 0 "--dir" "--allow" "--threshold" "--json" "FILES"

newdb db
sql "$db" "CREATE TABLE accounts (id bigint PRIMARY KEY, email text, age int);
INSERT INTO accounts SELECT g, 'a' || g, g FROM generate_series(1, 2000) g;" >/dev/null
# Vacuumed now, so that its free space and visibility maps exist before the size is read (autovacuum making
# them later changed the size lint reports).
sql "$db" "VACUUM ANALYZE accounts" >/dev/null
bytes=$(sql "$db" "SELECT pg_total_relation_size('accounts')")
lintdir="$work/lint/migrations"
mkdir -p "$lintdir"
cat >"$lintdir/1_accounts.sql" <<'SQL'
-- pgmig:up
CREATE TABLE IF NOT EXISTS audit_log (id bigint);
ALTER TABLE audit_log ADD COLUMN at int NOT NULL;
ALTER TABLE accounts ADD COLUMN plan text NOT NULL;
-- pgmig:allow drop-column
ALTER TABLE accounts DROP COLUMN age;
-- pgmig:down
ALTER TABLE accounts DROP COLUMN plan;
SQL
cat >"$lintdir/2_index.sql" <<'SQL'
-- pgmig:no-transaction
-- pgmig:up
CREATE INDEX CONCURRENTLY IF NOT EXISTS accounts_email ON accounts (email);
SQL
chmod -R a+rX "$work/lint"

# Error findings: exit 14, file:line:col, the table's size; the waived one is marked; the new table is not flagged.
# By default the pending up scripts only: the down script's DROP COLUMN (of the column its up adds) is not linted.
run lint --dir "$lintdir" -d "dbname=$db"
expect "lint finds an error (exit 14)" 14 \
    "1_accounts.sql:4:1: error [add-column-not-null-no-default]" "(table public.accounts: 2000 rows, $bytes bytes)" \
    "1_accounts.sql:6:1: error [drop-column] (waived)" \
    "pgmig: error: lint found 1 finding at or above error"
if grep -q ":3:1:" <<<"$out"; then fail "a table created earlier in the script is not flagged" "$out"; else pass "a table created earlier in the script is not flagged"; fi
if grep -q "2_index.sql" <<<"$out"; then fail "CONCURRENTLY in a no-transaction migration is fine" "$out"; else pass "CONCURRENTLY in a no-transaction migration is fine"; fi

# --allow waives everywhere; warnings and advice do not fail under the default threshold.
run lint --dir "$lintdir" --allow add-column-not-null-no-default --allow drop-column -d "dbname=$db"
expect "--allow waives, exit 0" 0 "0 errors" "2 waived"
echo "CREATE TABLE IF NOT EXISTS docs (id bigint, body json);" >"$work/lint/style.sql"
chmod a+r "$work/lint/style.sql"
run lint "$work/lint/style.sql" -d "dbname=$db"
expect "advice alone exits 0" 0 "style.sql:1:1: advice [prefer-jsonb]" "1 advice"
run lint "$work/lint/style.sql" --threshold advice -d "dbname=$db"
expect "--threshold advice fails on advice" 14 "advice [prefer-jsonb]"

# One file given on the command line (a no-transaction migration), and plain SQL.
run lint "$lintdir/2_index.sql" -d "dbname=$db"
expect "lint one file" 0 "1 script of 1 file linted" "0 errors"
echo "TRUNCATE accounts; DELETE FROM accounts WHERE id < 0;" >"$work/lint/adhoc.sql"
chmod a+r "$work/lint/adhoc.sql"
run lint "$work/lint/adhoc.sql" -d "dbname=$db"
expect "plain SQL file" 14 "adhoc.sql:1:1: error [truncate]"
if grep -q "delete-without-where" <<<"$out"; then fail "DELETE with WHERE is fine" "$out"; else pass "DELETE with WHERE is fine"; fi

# Syntax errors come from the server's parser, with line and column.
printf -- '-- pgmig:up\nCREATE TABLE IF NOT EXISTS x (id int);\nALTER TABLE accounts ADD COLUMN;\n' >"$work/lint/3_bad.sql"
chmod a+r "$work/lint/3_bad.sql"
run lint "$work/lint/3_bad.sql" -d "dbname=$db"
expect "syntax error with line and column" 14 "3_bad.sql:3:32: error [syntax-error] syntax error at or near \";\""

# --json parses and carries the sizes.
run lint --dir "$lintdir" --json -d "dbname=$db"
if [ "$rc" -eq 14 ] && python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["ok"] is False and d["threshold"] == "error", d
f = [x for x in d["findings"] if x["rule"] == "add-column-not-null-no-default"][0]
assert f["line"] == 4 and f["table_rows"] == 2000 and f["table_bytes"] == int(sys.argv[1]) and not f["waived"], f
assert any(x["rule"] == "drop-column" and x["waived"] for x in d["findings"]), d
' "$bytes" <<<"$out"; then pass "lint --json"; else fail "lint --json" "rc=$rc $(head -c 400 <<<"$out$err")"; fi

# Bad input: unknown rule (server PM016, exit 3), unreadable file, bad threshold, no extension.
run lint --dir "$lintdir" --allow drop-colum -d "dbname=$db"
expect "unknown rule in --allow" 3 "unknown lint rule \"drop-colum\"" "PM016"
run lint "$work/lint/missing.sql" -d "dbname=$db"
expect "missing file" 3 "cannot read"
run lint --threshold fatal --dir "$lintdir" -d "dbname=$db"
expect "bad threshold" 2 "pgmig: error:"
newdb dbnoext noext
run lint --dir "$lintdir" -d "dbname=$dbnoext"
expect "lint without the extension" 8 "pgmig: error:"

# pgmig apply under pgmig.lint_block = error: refused before anything runs (exit 14, PM017).
sql "$db" "ALTER DATABASE $db SET pgmig.lint_block = error" >/dev/null
run apply --dir "$lintdir" -d "dbname=$db"
expect "apply blocked by pgmig.lint_block" 14 "PM017" "add-column-not-null-no-default"
if [ "$(sql "$db" "SELECT to_regclass('audit_log') IS NULL")" = t ]; then pass "nothing ran"; else fail "nothing ran" "audit_log exists"; fi

# A non-transactional migration is checked too, before its first statement.
nontxdir="$work/lint/nontx"
mkdir -p "$nontxdir"
printf -- '-- pgmig:no-transaction\n-- pgmig:up\nVACUUM FULL accounts;\n' >"$nontxdir/1_vacuum.sql"
chmod -R a+rX "$nontxdir"
run apply --dir "$nontxdir" -d "dbname=$db"
expect "non-transactional apply blocked by pgmig.lint_block" 14 "PM017" "vacuum-full"
if [ "$(sql "$db" "SELECT count(*) FROM pgmig.migrations WHERE applied_at IS NOT NULL")" = 0 ]; then pass "the non-transactional migration is not applied"; else fail "the non-transactional migration is not applied" "applied"; fi
printf -- '-- pgmig:no-transaction\n-- pgmig:up\n-- pgmig:allow vacuum-full\nVACUUM FULL accounts;\n' >"$nontxdir/1_vacuum.sql"
run apply --dir "$nontxdir" -d "dbname=$db"
expect "waived, it applies" 0 "applied 1_vacuum"
