# A table owner plants a NOT VALID CHECK whose function tries to make its owner superuser; a superuser
# then runs pgmig check-integrity (a read-only transaction, where ALTER ROLE is refused but COPY ... TO
# PROGRAM is not: the function runs psql to ALTER ROLE) and pgmig apply --check-integrity (read-write:
# ALTER ROLE directly). The function runs as its owner, in a security-restricted operation, so neither
# works, and the violations are still counted.
# Sourced by run.sh (see lib.sh for the helpers).

io_owner="it_integrity_owner_$$"
io_psql="${PGMIG_PG_BINDIR:+$PGMIG_PG_BINDIR/psql}"
[ -x "$io_psql" ] || io_psql=$(command -v psql)
newdb io_db
sql postgres "CREATE ROLE $io_owner LOGIN" >/dev/null
sql "$io_db" "GRANT CREATE ON DATABASE $io_db TO $io_owner" >/dev/null
# The shell command connects back as the superuser the tests run as (the cluster trusts local sockets).
io_program="$io_psql -X -q -h $PGHOST -p $PGPORT -U $PGUSER -d $io_db -c 'ALTER ROLE $io_owner SUPERUSER'"
if ! io_out=$(psql -X -q -v ON_ERROR_STOP=1 -d "$io_db" 2>&1 <<EOF
SET ROLE $io_owner;
CREATE SCHEMA app;
CREATE FUNCTION app.positive(x int) RETURNS boolean LANGUAGE plpgsql AS \$fn\$
BEGIN
    BEGIN
        IF current_setting('transaction_read_only') = 'on' THEN
            -- (only here: the shell's ALTER ROLE would wait for one made in this transaction)
            COPY (SELECT 1) TO PROGRAM \$cmd\$$io_program\$cmd\$;
        ELSE
            ALTER ROLE $io_owner SUPERUSER;
        END IF;
    EXCEPTION WHEN OTHERS THEN NULL;
    END;
    RETURN x > 0;
END
\$fn\$;
CREATE TABLE app.payments (id int PRIMARY KEY, amount int);
INSERT INTO app.payments VALUES (1, 10), (2, -5), (3, -7);
ALTER TABLE app.payments ADD CONSTRAINT amount_positive CHECK (app.positive(amount)) NOT VALID;
EOF
); then
    fail "setup: the owner's schema" "$io_out"
fi
io_superuser() { sql "$io_db" "SELECT rolsuper FROM pg_roles WHERE rolname = '$io_owner'"; }

# Sanity: the planted function does make its owner superuser when a superuser calls it directly (so the
# assertions below can fail).
sql "$io_db" "BEGIN READ ONLY; SELECT app.positive(1); COMMIT" >/dev/null
if [ "$(io_superuser)" = t ]; then
    pass "sanity: app.positive() called by a superuser makes its owner superuser"
else
    fail "sanity: app.positive() called by a superuser makes its owner superuser" "rolsuper=$(io_superuser)"
fi
sql postgres "ALTER ROLE $io_owner NOSUPERUSER" >/dev/null

run check-integrity -d "dbname=$io_db"
expect "check-integrity as a superuser counts the violations" 17 \
    "error: not-valid-constraint amount_positive on app.payments" "2 row(s) violate it" "(amount)=(-5)"
if [ "$(io_superuser)" = f ]; then
    pass "check-integrity as a superuser: the CHECK's owner did not become superuser"
else
    fail "check-integrity as a superuser: the CHECK's owner did not become superuser" "rolsuper=$(io_superuser)"
fi
sql postgres "ALTER ROLE $io_owner NOSUPERUSER" >/dev/null

mkdir -p "$work/integrity_owner/migrations"
mig "$work/integrity_owner/migrations" 1_notes.sql "CREATE TABLE notes (id int PRIMARY KEY);" "DROP TABLE notes;"
run apply --check-integrity --dir "$work/integrity_owner/migrations" -d "dbname=$io_db"
expect "apply --check-integrity as a superuser" 0 "applied 1_notes"
if [ "$(io_superuser)" = f ]; then
    pass "apply --check-integrity as a superuser: the CHECK's owner did not become superuser"
else
    fail "apply --check-integrity as a superuser: the CHECK's owner did not become superuser" "rolsuper=$(io_superuser)"
fi

psql -X -q -d postgres -c "DROP DATABASE $io_db" >/dev/null 2>&1
sql postgres "DROP ROLE $io_owner" >/dev/null
