# The roles the docs tell users to grant are enough for every command they are documented for: login roles
# with exactly what docs/install.md says (a pgmig_admin member that deploys, a pgmig_reader member that
# watches, a pgmig_approver member that approves; none of them superuser) run each of their commands, and
# none fails for lack of a privilege. The backup that an environment with backup = true requires is taken
# by the deploying role, as the whole deploy with backup = true and approval = true is.
# Sourced by run.sh (see lib.sh for the helpers).

rs_proj="$work/roles-project"
mkdir -p "$rs_proj/migrations" "$rs_proj/schema"
newdb rs_db
rs_admin="pgmig_it_deployer_$$"
rs_reader="pgmig_it_watcher_$$"
rs_approver="pgmig_it_reviewer_$$"
# What docs/install.md ("Roles") tells an administrator to run, and nothing more.
if ! sql "$rs_db" "
    CREATE ROLE $rs_admin LOGIN IN ROLE pgmig_admin;
    CREATE ROLE $rs_reader LOGIN IN ROLE pgmig_reader;
    CREATE ROLE $rs_approver LOGIN IN ROLE pgmig_approver;
    GRANT pg_read_all_stats TO $rs_reader;
    GRANT CREATE ON SCHEMA public TO $rs_admin;" >"$work/rs-setup.out"; then
    fail "roles: setup" "$(cat "$work/rs-setup.out")"
fi

head -c 32 /dev/urandom >"$rs_proj/backup.key"
cat >"$rs_proj/pgmig.toml" <<EOF
[backup]
dir = "backups"
key_file = "backup.key"

[environments.production]
dbname = "dbname=$rs_db"
backup = true
approval = true
EOF
# The down scripts' DROP TABLE is a lint error (drop-table) unless waived: reviewed here.
mig "$rs_proj/migrations" 1_accounts.sql "CREATE TABLE accounts (id bigint PRIMARY KEY, email text);" \
    $'-- pgmig:allow drop-table\nDROP TABLE accounts;'
mig "$rs_proj/migrations" 2_notes.sql \
    "CREATE TABLE notes (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, account bigint REFERENCES accounts, body text);" \
    $'-- pgmig:allow drop-table\nDROP TABLE notes;'
printf 'CREATE TABLE accounts (id bigint PRIMARY KEY, email text);\n' >"$rs_proj/schema/accounts.sql"

# The messages of PostgreSQL (and pg_dump's, pg_restore's) for a missing privilege, and pgmig's own advice.
rs_denied='permission denied|must be owner|must be superuser|must be a superuser|must be member|insufficient privilege|42501|grant pgmig_'

# rs_run ROLE ARGS...: runs pgmig in the project as ROLE (-d connection, unless ARGS name --env).
rs_run() {
    local role=$1
    shift
    (cd "$rs_proj" && PGUSER=$role PGDATABASE=$rs_db "$bin" "$@") >"$work/out" 2>"$work/err"
    rc=$?
    out=$(cat "$work/out")
    err=$(cat "$work/err")
}
# rs_ok NAME ROLE ARGS...: the command succeeds (exit 0) with no privilege error.
rs_ok() {
    local name=$1
    rs_run "${@:2}"
    if grep -Eqi -- "$rs_denied" <<<"$out$err"; then
        fail "roles: $name" "a privilege is missing (exit $rc): $(grep -Ei -- "$rs_denied" <<<"$out$err" | head -3)"
    elif [ "$rc" -ne 0 ]; then
        fail "roles: $name" "exit $rc: $(head -c 400 <<<"$err$out")"
    else
        pass "roles: $name"
    fi
}
# rs_allowed NAME CODES ROLE ARGS...: exits with one of CODES (space-separated: outcomes of other features,
# such as "not approved yet") and no privilege error.
rs_allowed() {
    local name=$1 codes=$2
    rs_run "${@:3}"
    if grep -Eqi -- "$rs_denied" <<<"$out$err"; then
        fail "roles: $name" "a privilege is missing (exit $rc): $(grep -Ei -- "$rs_denied" <<<"$out$err" | head -3)"
    elif ! grep -qw -- "$rc" <<<"$codes"; then
        fail "roles: $name" "exit $rc, expected one of $codes: $(head -c 400 <<<"$err$out")"
    else
        pass "roles: $name (exit $rc)"
    fi
}

# --- pgmig_admin: the deploying role --------------------------------------------------------------------
rs_ok "pgmig_admin: status" "$rs_admin" status
rs_ok "pgmig_admin: validate" "$rs_admin" validate
rs_ok "pgmig_admin: lint" "$rs_admin" lint
rs_ok "pgmig_admin: plan" "$rs_admin" plan
# pgmig test is documented for a superuser of a test server (its scratch database gets the extension): the
# deployer is told so, and nothing else stands in its way.
rs_run "$rs_admin" test
if [ "$rc" -eq 16 ] && grep -Eq "needs a superuser|needs a role with CREATEDB" <<<"$err"; then
    pass "roles: pgmig_admin: test says what it needs (exit 16)"
elif [ "$rc" -eq 0 ]; then
    pass "roles: pgmig_admin: test"
else
    fail "roles: pgmig_admin: test says what it needs" "exit $rc: $(head -c 400 <<<"$err$out")"
fi
rs_ok "superuser: test" "$PGUSER" test
rs_ok "pgmig_admin: apply --to 1" "$rs_admin" apply --to 1
rs_ok "pgmig_admin: rollback" "$rs_admin" rollback
rs_ok "pgmig_admin: apply --to 1 again" "$rs_admin" apply --to 1
rs_ok "pgmig_admin: check-integrity" "$rs_admin" check-integrity
rs_ok "pgmig_admin: backup --env production" "$rs_admin" backup --env production
rs_backup=$(ls "$rs_proj"/backups/production/*.pgmig-backup 2>/dev/null | head -1)
rs_ok "pgmig_admin: backup list" "$rs_admin" backup list --env production
if [ -n "$rs_backup" ]; then
    rs_ok "pgmig_admin: backup verify" "$rs_admin" backup verify "$rs_backup" --env production
else
    fail "roles: pgmig_admin: backup verify" "no backup file to verify"
fi

# --- pgmig_reader: the watching role --------------------------------------------------------------------
rs_ok "pgmig_reader: status" "$rs_reader" status
rs_allowed "pgmig_reader: validate" "0 9" "$rs_reader" validate
rs_ok "pgmig_reader: lint" "$rs_reader" lint
rs_ok "pgmig_reader: drift" "$rs_reader" drift
rs_ok "pgmig_reader: audit" "$rs_reader" audit
rs_ok "pgmig_reader: audit verify" "$rs_reader" audit verify
rs_allowed "pgmig_reader: health" "0 27" "$rs_reader" health
rs_ok "pgmig_reader: monitor --once" "$rs_reader" monitor --once
rs_ok "pgmig_reader: check-integrity" "$rs_reader" check-integrity
rs_allowed "pgmig_reader: diff (shadow on a server where it may create the extension)" "0 31" "$rs_reader" \
    diff --shadow-server "dbname=postgres user=$PGUSER"

# --- four-eyes: the approver approves what the deployer will deploy -------------------------------------
# Approving is pgmig_approver's (the deployer is no member: its approval would not count anyway).
rs_allowed "pgmig_admin: approvals before the review" "0 28" "$rs_admin" approvals --env production
rs_ok "pgmig_approver: approve 2 --env production" "$rs_approver" approve 2 --env production
rs_ok "pgmig_reader: approvals --deployer" "$rs_reader" approvals --env production --deployer "$rs_admin"
rs_ok "pgmig_admin: approvals" "$rs_admin" approvals --env production

# --- the deploy: pre-flight health, validate, approvals, backup (backup = true), apply, post-flight ---------
rs_ok "pgmig_admin: deploy --env production (backup = true, approval = true)" "$rs_admin" deploy --env production
if [ "$(sql "$rs_db" "SELECT count(*) FROM pgmig.migrations WHERE applied_at IS NOT NULL")" = 2 ]; then
    pass "roles: the deploy applied both migrations"
else
    fail "roles: the deploy applied both migrations" "$(sql "$rs_db" "SELECT version, applied_at FROM pgmig.migrations")"
fi
rs_ok "pgmig_admin: drift after the deploy" "$rs_admin" drift
rs_ok "pgmig_admin: audit verify" "$rs_admin" audit verify

# --- restore: documented for a superuser (the archive creates the extension and its event triggers) -------
rs_backup=$(ls -t "$rs_proj"/backups/production/*.pgmig-backup 2>/dev/null | head -1)
rs_restored="pgmig_it_$$_restored"
databases+=("$rs_restored")
if [ -n "$rs_backup" ]; then
    rs_ok "superuser: restore of the deployer's backup" "$PGUSER" restore "$rs_backup" --to "$rs_restored" \
        --env production -d "dbname=postgres"
else
    fail "roles: superuser: restore of the deployer's backup" "the deployer took no backup"
fi

# --- cleanup: the roles own objects in the test databases ---------------------------------------------
for rs_d in "$rs_db" "$rs_restored"; do
    psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $rs_d" >/dev/null 2>&1
done
psql -X -q -d postgres -c "DROP ROLE IF EXISTS $rs_admin, $rs_reader, $rs_approver" >/dev/null 2>&1 ||
    fail "roles: cleanup" "the test roles could not be dropped"
