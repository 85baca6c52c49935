# Secrets stay out of what pgmig prints, logs and lets readers read: a failing migration with
# CREATE ROLE ... PASSWORD (plain, in a DO block, non-transactional) applied by the real client leaves
# no password on stderr, in the client's audit log, in the server log, in the ledger's history or in
# what a pgmig_reader can select; and pgmig.toml refuses a password written inline in a connection
# string (exit 42), naming the environment, never the value. Sourced by run.sh (see lib.sh).

# A cluster of our own, so that its server log is ours to read (lib.sh stops it at exit).
sc="$work/cluster2"
run local start --dir "$sc"
expect "secrets: a cluster whose server log we read" 0
slog="$sc/server.log"
shost=$(eval "$("$bin" local env --dir "$sc")"; echo "$PGHOST")
sport=$(eval "$("$bin" local env --dir "$sc")"; echo "$PGPORT")
sdb="pgmig_it_secrets_$$"
sconn="host=$shost port=$sport dbname=$sdb user=postgres"
ssql() { psql -X -A -t -q -v ON_ERROR_STOP=1 -d "host=$shost port=$sport dbname=postgres user=postgres" -c "$1" 2>&1; }
ssql "DROP DATABASE IF EXISTS $sdb" >/dev/null
ssql "CREATE DATABASE $sdb" >/dev/null
psql -X -q -d "$sconn" -c "CREATE EXTENSION pgmig" >/dev/null 2>&1 || fail "secrets: setup" "CREATE EXTENSION pgmig in $sdb"
log_from=$(stat -c %s "$slog")

# no_secret NAME FILE_OR_TEXT...: passes when none of the texts holds a password of this test.
no_secret() {
    local name=$1 hits
    shift
    hits=$(grep -o 'S3cret[A-Za-z0-9]*' <<<"$*" | sort -u | tr '\n' ' ')
    if [ -z "$hits" ]; then pass "$name"; else fail "$name" "found $hits"; fi
}

sd="$work/secrets/migrations"
mig "$sd" 1_role.sql "CREATE ROLE it_sec_plain LOGIN PASSWORD 'S3cretPLAIN' IN ROLE it_sec_missing;"
run apply --dir "$sd" -d "$sconn"
expect "secrets: a failing CREATE ROLE ... PASSWORD exits 5" 5 'role "it_sec_missing" does not exist' "PASSWORD '********'"
no_secret "secrets: stderr of the failing plain migration" "$out$err"

rm "$sd/1_role.sql"
cat >"$sd/1_role.sql" <<'SQL'
-- pgmig:up
DO $do$
BEGIN
    CREATE ROLE it_sec_do LOGIN PASSWORD 'S3cretDOBLOCK' IN ROLE it_sec_missing;
END
$do$;
SQL
run apply --dir "$sd" -d "$sconn"
expect "secrets: a failing DO block exits 5" 5 'role "it_sec_missing" does not exist' "DO '********'"
no_secret "secrets: stderr of the failing DO block" "$out$err"

rm "$sd/1_role.sql"
# Non-transactional: the client sends the statement itself. Core logs a failing statement's text
# (log_min_error_statement); the documented setting keeps it out of the log.
cat >"$sd/1_role.sql" <<'SQL'
-- pgmig:no-transaction
-- pgmig:up
CREATE ROLE it_sec_nontx LOGIN PASSWORD 'S3cretNONTX' IN ROLE it_sec_missing;
SQL
ssql "ALTER DATABASE $sdb SET log_min_error_statement = panic" >/dev/null
run apply --dir "$sd" -d "$sconn"
expect "secrets: a failing non-transactional statement exits 5" 5 "statement 1 of non-transactional migration 1_role failed"
no_secret "secrets: stderr of the failing non-transactional statement" "$out$err"
ssql "ALTER DATABASE $sdb RESET log_min_error_statement" >/dev/null

# A migration that succeeds: registered and applied, with its password in the ledger only for the applier.
rm "$sd/1_role.sql"
mig "$sd" 1_role.sql "CREATE ROLE it_sec_ok LOGIN PASSWORD 'S3cretAPPLIED';" "DROP ROLE it_sec_ok;"
run apply --dir "$sd" -d "$sconn"
expect "secrets: the fixed migration applies" 0 "applied 1_role"
no_secret "secrets: stderr and stdout of the apply" "$out$err"

# What the ledger keeps and readers see.
no_secret "secrets: pgmig.history and pgmig.ddl_audit" \
    "$(psql -X -A -t -d "$sconn" -c "SELECT message, reason FROM pgmig.history" -c "SELECT statement FROM pgmig.ddl_audit" 2>&1)"
ssql "DROP ROLE IF EXISTS it_sec_reader; CREATE ROLE it_sec_reader LOGIN IN ROLE pgmig_reader" >/dev/null
reader_conn="host=$shost port=$sport dbname=$sdb user=it_sec_reader"
rd=$(psql -X -A -t -d "$reader_conn" -c "SELECT up_sql_redacted FROM pgmig.migrations" 2>&1)
if grep -qF "PASSWORD '********'" <<<"$rd"; then pass "secrets: a reader sees the redacted script"; else fail "secrets: a reader sees the redacted script" "$rd"; fi
rd=$(psql -X -A -t -d "$reader_conn" -c "SELECT up_sql FROM pgmig.migrations" 2>&1)
if grep -q "permission denied" <<<"$rd"; then pass "secrets: a reader cannot read up_sql"; else fail "secrets: a reader cannot read up_sql" "$rd"; fi
run status -d "$reader_conn" --dir "$sd"
expect "secrets: pgmig status as a reader" 0 "1_role"
run validate -d "$reader_conn" --dir "$sd"
expect "secrets: pgmig validate as a reader" 0
no_secret "secrets: what a reader's status and validate print" "$out$err"

# The client's audit log and the server log, over everything above.
no_secret "secrets: the client's audit log" "$(cat "$PGMIG_AUDIT_LOG" 2>/dev/null)"
if [ -s "$slog" ] && [ "$(stat -c %s "$slog")" -gt "$log_from" ]; then
    no_secret "secrets: the server log" "$(tail -c +"$((log_from + 1))" "$slog")"
else
    fail "secrets: the server log" "$slog is missing or did not grow"
fi
ssql "DROP DATABASE $sdb" >/dev/null
ssql "DROP ROLE IF EXISTS it_sec_reader; DROP ROLE IF EXISTS it_sec_ok" >/dev/null

# A server message that quotes a piece of a connection string (libpq's parse error, from a statement the
# client sent itself): masked before the client prints it or records it in the history.
newdb dbsec
mkdir -p "$work/secrets/sub"
cat >"$work/secrets/sub/1_sub.sql" <<'SQL'
-- pgmig:no-transaction
-- pgmig:up
CREATE SUBSCRIPTION it_sec_sub CONNECTION 'host=nowhere password:S3cretCONNINFO' PUBLICATION p
    WITH (connect = false, slot_name = NONE, enabled = false, create_slot = false);
SQL
run apply --dir "$work/secrets/sub" -d "dbname=$dbsec"
expect "secrets: a connection string libpq cannot parse fails (exit 5)" 5 "invalid connection string syntax"
no_secret "secrets: the masked server message" "$out$err"
no_secret "secrets: the history of the failed statement" "$(sql "$dbsec" "SELECT message FROM pgmig.history")"

# --- pgmig.toml: a password inline in a connection string is refused --------------------------------
tp="$work/secrets/project"
mkdir -p "$tp/migrations"
for form in "key=value|host=db.example.com dbname=app user=app password=S3cretTOMLKV" \
            "URI user:password@|postgresql://app:S3cretTOMLURI@db.example.com/app" \
            "URI ?password=|postgresql://app@db.example.com/app?password=S3cretTOMLQUERY"; do
    printf '[environments.production]\ndbname = "%s"\n' "${form#*|}" >"$tp/pgmig.toml"
    (cd "$tp" && "$bin" deploy --env production >"$work/out" 2>"$work/err"); rc=$?
    out=$(cat "$work/out"); err=$(cat "$work/err")
    expect "secrets: pgmig.toml with a password inline (${form%%|*}) is refused (exit 42)" 42 \
        "environment 'production'" "holds a password inline" "~/.pgpass" "PGPASSWORD"
    no_secret "secrets: the refusal does not print the password (${form%%|*})" "$out$err"
done
printf 'shadow_server = "host=/tmp password=S3cretSHADOW"\n' >"$tp/pgmig.toml"
(cd "$tp" && "$bin" status >"$work/out" 2>"$work/err"); rc=$?
out=$(cat "$work/out"); err=$(cat "$work/err")
expect "secrets: shadow_server with a password is refused (exit 42)" 42 "key 'shadow_server' holds a password inline"
no_secret "secrets: the shadow_server refusal does not print the password" "$out$err"
no_secret "secrets: the client's audit log after the refusals" "$(cat "$PGMIG_AUDIT_LOG" 2>/dev/null)"
