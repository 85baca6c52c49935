# The catalog kinds of the diff: what it cannot write is named, as a warning, and never blocks the rest;
# --strict makes it an error (exit 36, nothing printed or written). A user mapping's password never reaches
# the output or the generated file. (The kinds it writes round-trip in diff_roundtrip_test.sh.)
# Sourced by run.sh (see lib.sh for the helpers).

dk="$work/diff_kinds"
mkdir -p "$dk/schema" && chmod -R 755 "$dk"
newdb dkdb || return 0
sql "$dkdb" "CREATE TABLE accounts (id bigint PRIMARY KEY)" >/dev/null
cat >"$dk/schema/schema.sql" <<'SQL'
CREATE TABLE accounts (id bigint PRIMARY KEY, email text);
COMMENT ON COLUMN accounts.email IS 'where the invoices go';
CREATE FOREIGN DATA WRAPPER it_kinds_fdw;
CREATE SERVER it_kinds_srv FOREIGN DATA WRAPPER it_kinds_fdw OPTIONS (host 'archive');
CREATE USER MAPPING FOR CURRENT_USER SERVER it_kinds_srv OPTIONS (user 'archivist', password 'kinds-sekrit-pw');
CREATE OPERATOR FAMILY it_kinds_fam USING btree;
SQL
chmod 644 "$dk/schema/schema.sql"

run diff --schema "$dk/schema" -d "dbname=$dkdb"
expect "diff: unsupported objects are warnings, exit 0" 0 "warning: unsupported, left out: user mapping" \
    "operator family public.it_kinds_fam USING btree" "--strict makes this an error"
if grep -q "ADD COLUMN email" <<<"$out" && grep -q "CREATE SERVER it_kinds_srv" <<<"$out"; then
    pass "diff: everything else is printed"
else
    fail "diff: everything else is printed" "$(head -c 600 <<<"$out")"
fi
if grep -q "kinds-sekrit-pw" <<<"$out$err"; then
    fail "diff: a user mapping's password is never printed" "found in the output"
else
    pass "diff: a user mapping's password is never printed"
fi

run diff --json --schema "$dk/schema" -d "dbname=$dkdb"
if [ "$rc" -eq 0 ] && python3 -c '
import json, sys
d = json.load(sys.stdin)
assert any(u.startswith("user mapping ") for u in d["unsupported"]), d["unsupported"]
assert "kinds-sekrit-pw" not in json.dumps(d)
' <<<"$out"; then pass "diff --json lists the unsupported objects"; else fail "diff --json lists the unsupported objects" "rc=$rc $(head -c 400 <<<"$out$err")"; fi

run diff --strict --schema "$dk/schema" -d "dbname=$dkdb"
expect "diff --strict: unsupported objects exit 36" 36 "unsupported: user mapping" "nothing was printed"
if [ -z "$out" ]; then pass "diff --strict prints no SQL"; else fail "diff --strict prints no SQL" "$(head -c 300 <<<"$out")"; fi

run generate kinds --strict --dir "$dk/migs" --schema "$dk/schema" -d "dbname=$dkdb"
expect "generate --strict: exit 36" 36 "nothing was written"
if [ -z "$(ls "$dk/migs" 2>/dev/null)" ]; then pass "generate --strict writes no file"; else fail "generate --strict writes no file" "$(ls "$dk/migs")"; fi

run generate kinds --dir "$dk/migs" --schema "$dk/schema" -d "dbname=$dkdb"
expect "generate: unsupported objects are warnings, the migration is written" 0 "warning: unsupported, left out: user mapping"
f=$(ls "$dk/migs"/*_kinds.sql 2>/dev/null | head -1)
if [ -n "$f" ] && grep -q "CREATE SERVER it_kinds_srv" "$f" && grep -q "ADD COLUMN email" "$f" &&
    ! grep -q "kinds-sekrit-pw" "$f" && ! grep -qi "USER MAPPING FOR" "$f"; then
    pass "generate writes everything else, and no user mapping or password"
else
    fail "generate writes everything else, and no user mapping or password" "$(cat "$f" 2>/dev/null | head -c 800)"
fi
run apply --dir "$dk/migs" -d "dbname=$dkdb"
expect "the generated migration applies" 0
if [ "$(sql "$dkdb" "SELECT count(*) FROM pg_foreign_server WHERE srvname = 'it_kinds_srv'")" = 1 ]; then
    pass "the server was created"
else
    fail "the server was created" "no it_kinds_srv"
fi
run rollback --steps 1 --yes -d "dbname=$dkdb"
expect "and rolls back" 0

# --- a view that becomes security_invoker keeps its dependents and grants: ALTER VIEW, not drop + create ---
mkdir -p "$dk/views" && chmod 755 "$dk/views"
newdb dkview || return 0
sql "$dkview" "CREATE TABLE docs (id int PRIMARY KEY, owner text); CREATE VIEW my_docs AS SELECT id FROM docs WHERE owner = current_user; CREATE VIEW my_doc_count AS SELECT count(*) FROM my_docs" >/dev/null
cat >"$dk/views/schema.sql" <<'SQL'
CREATE TABLE docs (id int PRIMARY KEY, owner text);
CREATE VIEW my_docs WITH (security_invoker = true, security_barrier = true) AS SELECT id FROM docs WHERE owner = current_user;
CREATE VIEW my_doc_count AS SELECT count(*) FROM my_docs;
SQL
chmod 644 "$dk/views/schema.sql"
run diff --schema "$dk/views" -d "dbname=$dkview"
if [ "$rc" -eq 0 ] && grep -q "ALTER VIEW public.my_docs SET (security_barrier=true, security_invoker=true);" <<<"$out" &&
    ! grep -q "DROP VIEW" <<<"$out"; then
    pass "a view's options change is ALTER VIEW .. SET, the view and the one over it stay"
else
    fail "a view's options change is ALTER VIEW .. SET, the view and the one over it stay" "rc=$rc $(head -c 600 <<<"$out$err")"
fi

# An operator family (unsupported as a whole) whose owner alone changes: ALTER ... OWNER TO, not named unsupported.
mkdir -p "$dk/opfam" && chmod 755 "$dk/opfam"
sql postgres "DO \$\$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'it_kinds_owner') THEN
    CREATE ROLE it_kinds_owner NOLOGIN; END IF; END \$\$" >/dev/null
newdb dkfam || return 0
sql "$dkfam" "CREATE OPERATOR FAMILY kinds_ops USING hash" >/dev/null
cat >"$dk/opfam/schema.sql" <<'SQL'
CREATE OPERATOR FAMILY kinds_ops USING hash;
ALTER OPERATOR FAMILY kinds_ops USING hash OWNER TO it_kinds_owner;
SQL
chmod 644 "$dk/opfam/schema.sql"
run diff --schema "$dk/opfam" -d "dbname=$dkfam"
if [ "$rc" -eq 0 ] && grep -q "ALTER OPERATOR FAMILY public.kinds_ops USING hash OWNER TO it_kinds_owner;" <<<"$out" &&
    ! grep -q "unsupported" <<<"$err"; then
    pass "an operator family's new owner is ALTER ... OWNER TO, not an unsupported change"
else
    fail "an operator family's new owner is ALTER ... OWNER TO, not an unsupported change" "rc=$rc $(head -c 600 <<<"$out$err")"
fi
