# pgmig baseline VERSION checks the database before marking anything applied: the migration files up to
# VERSION are built in a shadow database and its objects compared with the database's. An object the files
# create that the database lacks, or has in another shape, refuses the baseline (exit 49, naming it) unless
# --force; objects only the database has are listed as a note. Sourced by run.sh (see lib.sh for the helpers).

bc_shadows() { sql postgres "SELECT count(*) FROM pg_database WHERE datname LIKE 'pgmig_shadow_%'"; }
bc_applied() { sql "$1" "SELECT count(*) FROM pgmig.migrations WHERE applied_at IS NOT NULL"; }
bc_check() {  # NAME GOT WANT
    if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "got '$2', expected '$3'"; fi
}

bc_dir="$work/baseline_check"
mig "$bc_dir" 1_accounts.sql "CREATE TABLE accounts (id bigint PRIMARY KEY, email text NOT NULL);
CREATE INDEX accounts_email ON accounts (email);" "DROP TABLE accounts;"
mig "$bc_dir" 2_active.sql "CREATE VIEW active_accounts AS SELECT id, email FROM accounts;" "DROP VIEW active_accounts;"
# A non-transactional migration: the check builds it statement by statement, as pgmig apply runs it.
{ echo "-- pgmig:no-transaction"; echo "-- pgmig:up"; echo "CREATE INDEX CONCURRENTLY accounts_id_email ON accounts (id, email);"
  echo "-- pgmig:down"; echo "DROP INDEX CONCURRENTLY IF EXISTS accounts_id_email;"; } >"$bc_dir/3_index.sql"
mig "$bc_dir" 4_later.sql "CREATE TABLE later (id int);" "DROP TABLE later;"
chmod -R a+rX "$bc_dir"
bc_schema="CREATE TABLE accounts (id bigint PRIMARY KEY, email text NOT NULL);
CREATE INDEX accounts_email ON accounts (email);
CREATE VIEW active_accounts AS SELECT id, email FROM accounts;
CREATE INDEX accounts_id_email ON accounts (id, email);"

run baseline --help
expect "baseline --help describes the check and --force" 0 "--force" "shadow"

# An empty database is obviously not at version 3: refused, nothing registered or marked.
newdb bcempty
run baseline 3 --dir "$bc_dir" -d "dbname=$bcempty"
expect "baseline 3 on an empty database is refused (exit 49)" 49 "table public.accounts" "view public.active_accounts" \
    "--force"
bc_check "... nothing is marked applied" "$(bc_applied "$bcempty")" "0"
bc_check "... nothing is registered" "$(ledger_count "$bcempty")" "0"
bc_check "... no shadow database is left behind" "$(bc_shadows)" "0"
run baseline 3 --force --dir "$bc_dir" -d "dbname=$bcempty"
expect "--force baselines anyway, saying the check was skipped" 0 "baselined 3_index" "3 baselined" "not checked"
bc_check "... 3 migrations are marked applied" "$(bc_applied "$bcempty")" "3"

# The schema the files build: accepted; the output says what was compared.
newdb bcok
sql "$bcok" "$bc_schema" >/dev/null
run baseline 3 --dir "$bc_dir" -d "dbname=$bcok"
expect "baseline 3 on the schema the files build" 0 "checked" "baselined 1_accounts" "3 baselined"
run apply --dir "$bc_dir" -d "dbname=$bcok"
expect "... and the rest applies on top" 0 "applied 4_later"

# Objects only the database has: a note, not a refusal.
newdb bcextra
sql "$bcextra" "$bc_schema CREATE TABLE dba_notes (note text);" >/dev/null
run baseline 3 --dir "$bc_dir" -d "dbname=$bcextra"
expect "objects only the database has are noted, not refused" 0 "table public.dba_notes" "3 baselined"

# An object the files create is missing.
newdb bcmissing
sql "$bcmissing" "$bc_schema DROP INDEX accounts_email;" >/dev/null
run baseline 3 --dir "$bc_dir" -d "dbname=$bcmissing"
expect "a missing index is refused (exit 49)" 49 "index public.accounts_email"
bc_check "... nothing is marked applied" "$(bc_applied "$bcmissing")" "0"

# An object the files create has another shape.
newdb bcchanged
sql "$bcchanged" "${bc_schema/email text NOT NULL/email varchar(100)}" >/dev/null
run baseline 3 --dir "$bc_dir" -d "dbname=$bcchanged"
expect "a column of another type is refused (exit 49)" 49 "table public.accounts" "email"
bc_check "... nothing is marked applied" "$(bc_applied "$bcchanged")" "0"

# Nothing left to baseline: no check, no shadow needed.
run baseline 2 --dir "$bc_dir" -d "dbname=$bcok"
expect "baseline of versions already applied does nothing" 0 "0 baselined"

# The files fail to build in the shadow database: the check cannot be made (exit 34, naming the file);
# --force skips it.
bc_bad="$work/baseline_check_bad"
mig "$bc_bad" 1_needs_role.sql "CREATE TABLE t (id int); GRANT SELECT ON t TO no_such_role_for_baseline;" "DROP TABLE t;"
chmod -R a+rX "$bc_bad"
newdb bcbad
sql "$bcbad" "CREATE TABLE t (id int)" >/dev/null
run baseline 1 --dir "$bc_bad" -d "dbname=$bcbad"
expect "files that fail in the shadow database refuse the baseline (exit 34)" 34 "1_needs_role.sql" "--force"
bc_check "... nothing is marked applied" "$(bc_applied "$bcbad")" "0"
bc_check "... no shadow database is left behind" "$(bc_shadows)" "0"
