# Without the extension (managed PostgreSQL): a PostgreSQL 15 server that has no pgmig files at all, as RDS
# or Cloud SQL, made by copying this machine's PostgreSQL without pgmig. What works there (validate --offline,
# backup, backup verify, restore, health's server checks) works, and everything else fails saying what is
# missing and what to do: exit 8 and a pointer to docs/install.md, not a raw server error or another
# command's remedy. The table in docs/install.md ("Without the extension") is measured the same way.
# Sourced by run.sh (see lib.sh for the helpers).

ne_dir="$work/without-extension"
ne_proj="$ne_dir/project"
c2="$work/cluster2"  # stopped by lib.sh's cleanup too; another test may have left one (with the extension)
"$bin" local stop --dir "$c2" >/dev/null 2>&1
rm -rf "$c2"
mkdir -p "$ne_proj/migrations"

# The server's PostgreSQL, copied under $ne_dir at the same paths (PostgreSQL finds its share and lib folders
# relative to its programs), without pgmig.so and pgmig's control and SQL files.
ne_src_bin=${PGMIG_PG_BINDIR:-/usr/lib/postgresql/15/bin}
ne_pg="$ne_dir/pg"
ne_ok=1
for ne_d in "$ne_src_bin" "$("$ne_src_bin/pg_config" --pkglibdir)" "$("$ne_src_bin/pg_config" --sharedir)"; do
    mkdir -p "$ne_pg$ne_d" && cp -a "$ne_d/." "$ne_pg$ne_d/" || ne_ok=0
done
rm -f "$ne_pg$("$ne_src_bin/pg_config" --pkglibdir)/pgmig.so" "$ne_pg$("$ne_src_bin/pg_config" --sharedir)"/extension/pgmig[.-]*
if [ "$ne_ok" = 1 ] && [ "$("$ne_pg$ne_src_bin/pg_config" --sharedir)" = "$ne_pg$("$ne_src_bin/pg_config" --sharedir)" ] &&
    ! ls "$ne_pg$("$ne_src_bin/pg_config" --sharedir)"/extension/pgmig* >/dev/null 2>&1; then
    pass "without extension: a copy of PostgreSQL without pgmig's files"
else
    fail "without extension: a copy of PostgreSQL without pgmig's files" "cannot copy $ne_src_bin and relocate it"
fi

# pgmig local start on it: the server runs, but the extension cannot be created (said, exit 7).
PGMIG_PG_BINDIR="$ne_pg$ne_src_bin" run local start --dir "$c2"
expect "without extension: local start says the server does not have pgmig" 7 \
    'extension "pgmig" is not available'
run local url --dir "$c2"
ne_url=$out
ne_app="${ne_url/\/\/\/pgmig\?/\/\/\/ne_app?}"
psql -X -q -d "$ne_url" -c "CREATE DATABASE ne_app" >/dev/null 2>&1
psql -X -q -d "$ne_app" -c "CREATE TABLE accounts (id bigint PRIMARY KEY, email text NOT NULL)" \
    -c "INSERT INTO accounts SELECT g, 'a' || g || '@example.com' FROM generate_series(1, 10) g" >/dev/null 2>&1
check "without extension: the server has no pgmig to create" \
    "$(psql -X -A -t -d "$ne_app" -c "SELECT count(*) FROM pg_available_extensions WHERE name = 'pgmig'" 2>&1)" 0

mig "$ne_proj/migrations" 1_notes.sql "CREATE TABLE notes (id bigint PRIMARY KEY, body text);" "DROP TABLE notes;"
head -c 32 /dev/urandom >"$ne_proj/backup.key"
cat >"$ne_proj/pgmig.toml" <<EOF
[backup]
dir = "backups"
key_file = "backup.key"

[environments.managed]
dbname = "$ne_app"
EOF
ne_old_pwd=$PWD
cd "$ne_proj" || fail "without extension: setup" "cannot enter $ne_proj"

# A ledger command: exit 8, says the server lacks the extension (CREATE EXTENSION alone cannot help) and
# where the commands that work without it are listed.
run status -d "$ne_app"
expect "without extension: status exits 8 saying the server does not have pgmig" 8 \
    "the pgmig extension is not installed in this database, and this server does not have it" \
    "make install" 'see "Without the extension" in docs/install.md'
run apply --json -d "$ne_app"
if [ "$rc" -eq 8 ] && jq -e '.error.kind == "extension" and (.error.hint | contains("Without the extension"))' \
    <<<"$out" >/dev/null 2>&1; then
    pass "without extension: apply --json exits 8 with the kind and the pointer"
else
    fail "without extension: apply --json exits 8 with the kind and the pointer" "rc=$rc $(head -c 400 <<<"$out")"
fi

# pgmig test --from-empty needs the extension in its scratch database: exit 16 saying so, not the raw
# CREATE EXTENSION error as a failed migration (exit 5); and the scratch database is dropped.
run test --from-empty -d "$ne_app"
expect "without extension: test --from-empty exits 16 naming the scratch's extension" 16 \
    "cannot create the pgmig extension in the scratch database" 'pgmig test --from-empty -d "$(pgmig local url)"'
check "without extension: test left no scratch database" \
    "$(psql -X -A -t -d "$ne_app" -c "SELECT count(*) FROM pg_database WHERE datname LIKE 'pgmig_test_%'" 2>&1)" 0

# pgmig deploy: its pre-flight says what every command says (exit 8), not the drift and audit remedies of
# the checks the missing extension kept from running (exit 26).
run deploy --env managed
expect "without extension: deploy exits 8 at its pre-flight" 8 \
    "stopped at step 1/6 (pre-flight health): the pgmig extension is not installed in this database"
if grep -q -e "drift --adopt" -e "audit reseal" <<<"$err"; then
    fail "without extension: deploy names no remedy of an unrun check" "$err"
else
    pass "without extension: deploy names no remedy of an unrun check"
fi

# What works without the extension.
run validate --offline
expect "without extension: validate --offline" 0 "1 file in migrations checked against files only"
run backup --env managed
expect "without extension: backup" 0 "backup written:" "ledger version -, fingerprint -"
ne_backup=$(ls "$ne_proj"/backups/managed/*.pgmig-backup 2>/dev/null | head -n 1)
run backup verify --env managed "$ne_backup"
expect "without extension: backup verify" 0 "ok $ne_backup"
run restore --env managed --to ne_restored "$ne_backup"
expect "without extension: restore" 0 "into database ne_restored" "fingerprint (no pgmig extension)"
check "without extension: the restored rows" \
    "$(psql -X -A -t -d "${ne_url/\/\/\/pgmig\?/\/\/\/ne_restored?}" -c "SELECT count(*) FROM accounts" 2>&1)" 10
run health --json -d "$ne_app"
if [ "$rc" -eq 26 ] && jq -e '
    ([.checks[] | select(.status == "fail") | .name] | sort) ==
        (["audit_chain", "audit_recorder", "checksums", "drift", "extension", "pending_migrations"] | sort)
    and (.checks[] | select(.name == "connection") | .status) == "ok"
    and .ready == false' <<<"$out" >/dev/null 2>&1; then
    pass "without extension: health runs the server checks, fails the ledger ones (26)"
else
    fail "without extension: health runs the server checks, fails the ledger ones (26)" "rc=$rc $(head -c 600 <<<"$out")"
fi
cd "$ne_old_pwd" || true
"$bin" local stop --dir "$c2" >/dev/null 2>&1
rm -rf "$c2" "$ne_pg"

# A server that has the extension's files, and a role that may not create it: test --from-empty says so
# (exit 16), not "GRANT pgmig_reader" (exit 59).
newdb ne_db noext
ne_role="pgmig_it_noext_$$"
sql "$ne_db" "CREATE ROLE $ne_role LOGIN CREATEDB" >/dev/null
run test --from-empty --dir "$ne_proj/migrations" -d "dbname=$ne_db user=$ne_role"
expect "without extension: test --from-empty by a non-superuser exits 16" 16 \
    "cannot create the pgmig extension in the scratch database: permission denied to create extension"
run status -d "dbname=$ne_db"
expect "without extension: status where the server has pgmig says CREATE EXTENSION" 8 \
    "the pgmig extension is not installed in this database" "run CREATE EXTENSION pgmig; in it as a superuser"
if grep -q "this server does not have it" <<<"$err"; then
    fail "without extension: status where the server has pgmig does not say it lacks it" "$err"
else
    pass "without extension: status where the server has pgmig does not say it lacks it"
fi
sql "$ne_db" "DROP ROLE $ne_role" >/dev/null
